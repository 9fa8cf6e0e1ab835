package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Status values, as runc reports them.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// State is what husk keeps of a container in <root>/<id>/state.json. The status is not stored:
// it is derived from the host each time (see Container.Status).
type State struct {
	ID            string            `json:"id"`
	InitPid       int               `json:"init_pid"`
	InitStartTime uint64            `json:"init_start_time"`
	Bundle        string            `json:"bundle"`
	Rootfs        string            `json:"rootfs"`
	Created       time.Time         `json:"created"`
	CgroupPaths   map[string]string `json:"cgroup_paths,omitempty"`
	// SystemdUnit is the container's unit with the systemd cgroup driver (--systemd-cgroup at
	// create): the later commands drive its cgroup through systemd as well.
	SystemdUnit string `json:"systemd_unit,omitempty"`
	// SystemdUser: the unit is the caller's own systemd instance's (rootless).
	SystemdUser bool `json:"systemd_user,omitempty"`
	// Config is the container's spec, kept as JSON and decoded only by what needs all of it
	// (Spec: exec, update). encoding/json analyses every type of specs.Spec on first use,
	// about 0.8 ms of CPU in a fresh process: more than the rest of a `start`, `state`, `kill`
	// or `delete`, which only read hooks and annotations (see loadState).
	Config json.RawMessage `json:"config"`
	// Hooks and Annotations of Config.
	hooks       *specs.Hooks
	annotations map[string]string
	spec        *specs.Spec // Config decoded, once
	execSpec    *specs.Spec // the part of Config an exec uses (ExecSpec), once
	// NamespacePaths are the init's namespaces (/proc/<pid>/ns/<kind>), for exec and for other
	// containers that join them.
	NamespacePaths map[string]string `json:"namespace_paths,omitempty"`
	// NotifySocket is the host's NOTIFY_SOCKET husk ran with at create: start relays to it.
	NotifySocket string `json:"notify_socket,omitempty"`
	// ExternalFds are what the init's fds 0, 1 and 2 were given as at create or restore
	// (stdioLinks): a checkpoint records them so that restore can hand new ones in their place.
	ExternalFds []string `json:"external_descriptors,omitempty"`

	// CreatorPid and CreatorStartTime name the `husk create` (or run) that is building the
	// container, until it saves the final state: while that process lives the container is
	// "creating"; a state that still names a dead one is a create killed half way, and its
	// status is "stopped". The first state create saves, before it makes anything else on the
	// host, holds the config (with linux.cgroupsPath) and CgroupPaths, so that delete finds
	// whatever an interrupted create made; a cgroup driver records what it will make there.
	CreatorPid       int    `json:"creator_pid,omitempty"`
	CreatorStartTime uint64 `json:"creator_start_time,omitempty"`
}

// ErrNotExist is returned when no container has the id.
var ErrNotExist = errors.New("container does not exist")

func saveState(dir string, st *State) error {
	return writeState(dir, st, true)
}

// writeState replaces state.json; durable adds an fsync, which only the final state of a
// create needs (a preliminary one only has to survive husk being killed, not the machine).
func writeState(dir string, st *State, durable bool) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFile(filepath.Join(dir, stateFile), data, 0o600, durable)
}

// writeFileAtomic writes to a temp file in the same directory, fsyncs it and renames it over
// path, so a reader sees the old file or the new one and never a torn one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFile(path, data, perm, true)
}

func writeFile(path string, data []byte, perm os.FileMode, durable bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("fsync %s: %w", tmp, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	return nil
}

func loadState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(dir, stateFile), err)
	}
	var view struct {
		Hooks       *specs.Hooks      `json:"hooks"`
		Annotations map[string]string `json:"annotations"`
	}
	if len(st.Config) > 0 {
		if err := json.Unmarshal(st.Config, &view); err != nil {
			return nil, fmt.Errorf("decode %s: config: %w", filepath.Join(dir, stateFile), err)
		}
	}
	st.hooks, st.annotations = view.Hooks, view.Annotations
	return &st, nil
}

// Spec returns the container's spec, decoded from Config on first use.
func (s *State) Spec() (*specs.Spec, error) {
	if s.spec != nil {
		return s.spec, nil
	}
	var doc specDoc
	if err := json.Unmarshal(s.Config, &doc); err != nil {
		return nil, fmt.Errorf("decode the config of container %s: %w", s.ID, err)
	}
	spec := doc.spec()
	if spec.Linux == nil || spec.Process == nil {
		return nil, fmt.Errorf("the saved config of container %s has no linux or process section", s.ID)
	}
	s.spec = spec
	return s.spec, nil
}

// execView is the part of a container's spec that an exec uses: the process it starts from,
// the namespaces it joins, the seccomp filter, personality and memory policy it gets, and the
// annotations a seccomp agent is told. Decoding only this, and not specs.Spec with its
// resources, mounts, hooks and other platforms, is most of what keeps a fresh `husk exec` from
// paying encoding/json's per-type set-up for the whole spec (see Config).
type execView struct {
	Process     *specs.Process    `json:"process"`
	Annotations map[string]string `json:"annotations"`
	Linux       *struct {
		Namespaces   []specs.LinuxNamespace   `json:"namespaces"`
		Seccomp      *specs.LinuxSeccomp      `json:"seccomp"`
		Personality  *specs.LinuxPersonality  `json:"personality"`
		MemoryPolicy *specs.LinuxMemoryPolicy `json:"memoryPolicy"`
	} `json:"linux"`
}

// ExecSpec returns the part of the container's spec an exec uses (see execView); the other
// fields are left empty. It is the whole spec when that was decoded already.
func (s *State) ExecSpec() (*specs.Spec, error) {
	if s.spec != nil {
		return s.spec, nil
	}
	if s.execSpec != nil {
		return s.execSpec, nil
	}
	var v execView
	if err := json.Unmarshal(s.Config, &v); err != nil {
		return nil, fmt.Errorf("decode the config of container %s: %w", s.ID, err)
	}
	if v.Linux == nil || v.Process == nil {
		return nil, fmt.Errorf("the saved config of container %s has no linux or process section", s.ID)
	}
	s.execSpec = &specs.Spec{Process: v.Process, Annotations: v.Annotations, Linux: &specs.Linux{
		Namespaces: v.Linux.Namespaces, Seccomp: v.Linux.Seccomp, Personality: v.Linux.Personality,
		MemoryPolicy: v.Linux.MemoryPolicy}}
	return s.execSpec, nil
}

// setSpec replaces the container's spec (create, update); saveState writes it.
func (s *State) setSpec(spec *specs.Spec) error {
	data, err := marshalSpec(spec)
	if err != nil {
		return fmt.Errorf("encode the config of container %s: %w", s.ID, err)
	}
	s.Config, s.spec, s.execSpec, s.hooks, s.annotations = data, spec, nil, spec.Hooks, spec.Annotations
	return nil
}

// procStartTime returns field 22 of /proc/<pid>/stat (start time in clock ticks) and whether
// the process is a zombie. It tells a live init apart from a new process that reused its pid.
func procStartTime(pid int) (uint64, bool, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// The command name may contain spaces and parentheses: fields start after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse /proc/%d/stat start time: %w", pid, err)
	}
	return start, fields[0] == "Z" || fields[0] == "X", nil
}

// sameProcess says whether pid is still the live process that had startTime (not a zombie,
// not a newer process that reused the pid).
func sameProcess(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	start, zombie, err := procStartTime(pid)
	return err == nil && !zombie && start == startTime
}
