package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fs2Manager is a cgroup in a cgroup2 hierarchy. On a unified host it is the
// whole manager; in hybrid mode fsManager uses one for what lives only on
// the cgroup2 mount (hugetlb here).
type fs2Manager struct {
	dir   string // the container's cgroup
	mount string // the cgroup2 mount point; nothing above it is touched
	// enableAll enables every available controller on the way down at Apply,
	// as runc does on a unified host. In hybrid mode the cgroup2 root belongs
	// to the host, so controllers are only enabled when a limit needs them.
	enableAll bool
}

func (m *fs2Manager) Apply(pid int) error {
	var before func(string) error
	if m.enableAll {
		before = enableAvailable
	}
	created, err := mkdirBelow(m.mount, m.dir, before)
	if err != nil {
		return err
	}
	if pid > 0 {
		if err := writePid(m.dir, pid); err != nil {
			removeCreated(created)
			return err
		}
	}
	return nil
}

// enableAvailable enables every controller level offers to its children.
// Failures are expected (a cgroup with processes cannot delegate: the "no
// internal processes" rule) and are left for Set to report precisely when a
// limit actually needs the controller.
func enableAvailable(level string) error {
	avail, err := readFile(level, "cgroup.controllers")
	if err != nil {
		return err
	}
	enabled, err := readFile(level, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	have := strings.Fields(enabled)
	for _, c := range strings.Fields(avail) {
		if !containsAll(have, []string{c}) {
			_ = writeFile(level, "cgroup.subtree_control", "+"+c)
		}
	}
	return nil
}

// enable makes ctrl available in m.dir by enabling it in the subtree_control
// of every level from the mount down to m.dir's parent.
func (m *fs2Manager) enable(ctrl, field string) error {
	if ctrl == "cgroup" {
		return nil // core interface files exist everywhere
	}
	avail, err := readFile(m.mount, "cgroup.controllers")
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if !containsAll(strings.Fields(avail), []string{ctrl}) {
		return fmt.Errorf("%s: controller %s is not available on the cgroup2 mount %s (cgroup.controllers: %q)", field, ctrl, m.mount, strings.TrimSpace(avail))
	}
	for level := m.mount; level != m.dir; {
		enabled, err := readFile(level, "cgroup.subtree_control")
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if !containsAll(strings.Fields(enabled), []string{ctrl}) {
			if err := writeFile(level, "cgroup.subtree_control", "+"+ctrl); err != nil {
				return fmt.Errorf("%s: enable controller %s: %w", field, ctrl, err)
			}
		}
		rel := strings.TrimPrefix(m.dir, level+"/")
		level = filepath.Join(level, strings.SplitN(rel, "/", 2)[0])
	}
	return nil
}

func (m *fs2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(*specs.LinuxResources) error{
		m.setMemory, m.setCPU, m.setCpuset, m.setPids, m.setIO,
		m.setHugetlb, m.setRdma, m.setNetwork, m.setDevices,
		// unified last: its raw values are meant to override the above.
		m.setUnified,
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

func (m *fs2Manager) Freeze() error {
	if err := writeFile(m.dir, "cgroup.freeze", "1"); err != nil {
		return err
	}
	if err := m.waitFrozen(); err != nil {
		_ = writeFile(m.dir, "cgroup.freeze", "0")
		return err
	}
	return nil
}

// Thaw does not wait: a cgroup stays frozen while an ancestor is, and that
// is not this container's state to wait for.
func (m *fs2Manager) Thaw() error {
	return writeFile(m.dir, "cgroup.freeze", "0")
}

// waitFrozen polls cgroup.events until it says "frozen 1". The kernel
// freezes tasks asynchronously; 10 s is far beyond what a healthy cgroup needs.
func (m *fs2Manager) waitFrozen() error {
	const wantVal = "frozen 1"
	for i := 0; i < 1000; i++ {
		s, err := readFile(m.dir, "cgroup.events")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(s, "\n") {
			if line == wantVal {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("timed out waiting for %q in %s/cgroup.events", wantVal, m.dir)
}

func (m *fs2Manager) FreezerState() (FreezerState, error) {
	s, err := readFile(m.dir, "cgroup.freeze")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Undefined, nil
		}
		return Undefined, err
	}
	switch strings.TrimSpace(s) {
	case "0":
		return Thawed, nil
	case "1":
		if err := m.waitFrozen(); err != nil {
			return Undefined, err
		}
		return Frozen, nil
	}
	return Undefined, fmt.Errorf("unexpected %s/cgroup.freeze content %q", m.dir, s)
}

func (m *fs2Manager) Pids() ([]int, error) { return pidsBelow(m.dir) }

func (m *fs2Manager) Kill(sig unix.Signal) error {
	if sig == unix.SIGKILL && fileExists(filepath.Join(m.dir, "cgroup.kill")) {
		return writeFile(m.dir, "cgroup.kill", "1")
	}
	return freezeSignalThaw(m, sig)
}

// freezeSignalThaw signals every process without racing forks: frozen
// processes cannot create new ones between listing and signalling.
func freezeSignalThaw(m Manager, sig unix.Signal) error {
	state, err := m.FreezerState()
	if err != nil {
		return err
	}
	frozeHere := false
	if state == Thawed {
		if err := m.Freeze(); err != nil {
			return err
		}
		frozeHere = true
	}
	pids, err := m.Pids()
	if err == nil {
		err = signalPids(pids, sig)
	}
	// A SIGKILL only takes effect once the process runs again, so a paused
	// container is thawed for it, as runc does.
	if frozeHere || state == Frozen && sig == unix.SIGKILL {
		if thawErr := m.Thaw(); thawErr != nil {
			err = errors.Join(err, thawErr)
		}
	}
	return err
}

func (m *fs2Manager) Destroy() error { return removeCgroup(m.dir) }

func (m *fs2Manager) Paths() map[string]string { return map[string]string{"": m.dir} }

func (m *fs2Manager) Exists() bool { return fileExists(m.dir) }

func (m *fs2Manager) OOMKillCount() (uint64, error) {
	return eventCount(m.dir, "memory.events", "oom_kill")
}

// eventCount reads one counter from a flat-keyed file such as memory.events.
func eventCount(dir, file, key string) (uint64, error) {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", filepath.Join(dir, file), unwrapPathError(err))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == key {
			return parseUint(fields[1], filepath.Join(dir, file))
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", filepath.Join(dir, file), err)
	}
	return 0, nil
}
