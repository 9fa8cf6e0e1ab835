package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fsManager is a container's cgroups on cgroup v1: one directory per mounted
// hierarchy, plus (hybrid hosts) one in the cgroup2 mount for the
// controllers that only exist there.
type fsManager struct {
	paths   map[string]string // controller -> cgroup dir
	mounts  map[string]string // controller -> hierarchy mount point
	unified *fs2Manager       // nil unless hybrid
}

// dirs returns each distinct cgroup directory with its mount, in a stable
// order; co-mounted controllers (cpu,cpuacct) share one.
func (m *fsManager) dirs() [][2]string {
	seen := map[string]bool{}
	var out [][2]string
	keys := make([]string, 0, len(m.paths))
	for k := range m.paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := m.paths[k]
		if !seen[d] {
			seen[d] = true
			out = append(out, [2]string{d, m.mounts[k]})
		}
	}
	return out
}

func (m *fsManager) Apply(pid int) (err error) {
	var created []string
	defer func() {
		if err != nil {
			removeCreated(created)
		}
	}()
	for _, dm := range m.dirs() {
		c, err := mkdirBelow(dm[1], dm[0], nil)
		created = append(created, c...)
		if err != nil {
			return err
		}
	}
	if dir, ok := m.paths["cpuset"]; ok {
		// A new v1 cpuset cgroup starts with no cpus and no mems, and no task
		// can join it until they are filled in from the parent.
		if err := initCpuset(m.mounts["cpuset"], dir); err != nil {
			return err
		}
	}
	if m.unified != nil {
		c, err := mkdirBelow(m.unified.mount, m.unified.dir, nil)
		created = append(created, c...)
		if err != nil {
			return err
		}
	}
	if pid <= 0 {
		return nil
	}
	for _, dm := range m.dirs() {
		if err := writePid(dm[0], pid); err != nil {
			return err
		}
	}
	if m.unified != nil {
		if err := writePid(m.unified.dir, pid); err != nil {
			return err
		}
	}
	return nil
}

// initCpuset copies cpuset.cpus and cpuset.mems from the parent into every
// level below the mount that has them empty, top down.
func initCpuset(mount, dir string) error {
	rel := strings.TrimPrefix(dir, mount+"/")
	parent := mount
	for _, part := range strings.Split(rel, "/") {
		cur := filepath.Join(parent, part)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := readFile(cur, f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(v) != "" {
				continue
			}
			pv, err := readFile(parent, f)
			if err != nil {
				return err
			}
			if err := writeFile(cur, f, strings.TrimSpace(pv)); err != nil {
				return err
			}
		}
		parent = cur
	}
	return nil
}

// need returns the directory of ctrl or an error naming the field that
// wanted it.
func (m *fsManager) need(ctrl, field string) (string, error) {
	if d, ok := m.paths[ctrl]; ok {
		return d, nil
	}
	return "", fmt.Errorf("%s: the cgroup v1 %s controller is not mounted on this host", field, ctrl)
}

// onUnified reports whether ctrl is a controller of the hybrid cgroup2
// mount, where it can be used because no v1 hierarchy has it.
func (m *fsManager) onUnified(ctrl string) bool {
	if m.unified == nil {
		return false
	}
	if ctrl == "cgroup" {
		return true
	}
	avail, err := readFile(m.unified.mount, "cgroup.controllers")
	return err == nil && containsAll(strings.Fields(avail), []string{ctrl})
}

func (m *fsManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setMemory, m.setCPU, m.setCpuset, m.setPids, m.setBlkio,
		m.setHugetlb, m.setNetwork, m.setRdma, m.setDevices, m.setUnified,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *fsManager) Freeze() error {
	dir, err := m.need("freezer", "freeze")
	if err != nil {
		return err
	}
	return freezeV1(dir)
}

func (m *fsManager) Thaw() error {
	dir, err := m.need("freezer", "thaw")
	if err != nil {
		return err
	}
	return writeFile(dir, "freezer.state", string(Thawed))
}

func (m *fsManager) FreezerState() (FreezerState, error) {
	dir, ok := m.paths["freezer"]
	if !ok || m.unified != nil && !fileExists(dir) {
		// No freezer; or a hybrid container whose init has not joined its v1 cgroups
		// yet (see Pids): there is nothing to freeze.
		return Undefined, nil
	}
	return freezerStateV1(dir)
}

// pidsDir is the hierarchy whose membership lists the container's
// processes: the freezer's, since pause and kill act through it.
func (m *fsManager) pidsDir() (string, error) {
	for _, c := range []string{"freezer", "devices", "memory", "pids"} {
		if d, ok := m.paths[c]; ok {
			return d, nil
		}
	}
	return "", errors.New("no cgroup v1 hierarchy to list processes from")
}

func (m *fsManager) Pids() ([]int, error) {
	dir, err := m.pidsDir()
	if err != nil {
		return nil, err
	}
	pids, err := pidsBelow(dir)
	if m.unified == nil {
		return pids, err
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// A hybrid container's init is created in its cgroup2 cgroup and joins the v1 ones a
	// moment later (see ThreadJoinFiles): a create killed in between leaves it only there.
	more, err := pidsBelow(m.unified.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	seen := make(map[int]bool, len(pids))
	for _, p := range pids {
		seen[p] = true
	}
	for _, p := range more {
		if !seen[p] {
			pids = append(pids, p)
		}
	}
	return pids, nil
}

func (m *fsManager) Kill(sig unix.Signal) error { return freezeSignalThaw(m, sig) }

func (m *fsManager) Destroy() error {
	var errs []error
	for _, dm := range m.dirs() {
		if err := removeCgroup(dm[0]); err != nil {
			errs = append(errs, err)
		}
	}
	if m.unified != nil {
		if err := m.unified.Destroy(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *fsManager) Paths() map[string]string {
	out := make(map[string]string, len(m.paths)+1)
	for k, v := range m.paths {
		out[k] = v
	}
	if m.unified != nil {
		out[""] = m.unified.dir
	}
	return out
}

func (m *fsManager) Exists() bool {
	for _, dm := range m.dirs() {
		if fileExists(dm[0]) {
			return true
		}
	}
	return m.unified != nil && fileExists(m.unified.dir)
}

func (m *fsManager) OOMKillCount() (uint64, error) {
	dir, err := m.need("memory", "oom kill count")
	if err != nil {
		return 0, err
	}
	return eventCount(dir, "memory.oom_control", "oom_kill")
}
