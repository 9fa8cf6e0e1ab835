// Package cgroups places a container in cgroups and drives them: cgroup v1
// ("fs"), cgroup v2 ("fs2") and the hybrid layout (v1 controllers plus a
// cgroup2 mount at /sys/fs/cgroup/unified) of the cgroupfs driver.
package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FreezerState is the state of a cgroup's freezer.
type FreezerState string

const (
	Undefined FreezerState = ""
	Frozen    FreezerState = "FROZEN"
	Thawed    FreezerState = "THAWED"
)

// Manager is one container's cgroup(s).
type Manager interface {
	// Apply creates the cgroup directories (every controller) and moves pid
	// in. pid <= 0 only creates them, so limits can be set before a process
	// joins.
	Apply(pid int) error
	// Set writes every limit in r. A resource the host cannot enforce is an
	// error naming the field. r.Devices nil leaves device rules alone; a
	// non-nil list (even empty) replaces them, default deny.
	Set(r *specs.LinuxResources) error
	// Freeze stops every process and waits until the kernel says frozen.
	Freeze() error
	Thaw() error
	// FreezerState is Undefined when there is no freezer.
	FreezerState() (FreezerState, error)
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	Stats() (*Stats, error)
	// Kill signals every process in the cgroup.
	Kill(sig unix.Signal) error
	// Destroy removes the directories this container's cgroup consists of;
	// it kills nothing, and succeeds when they are already gone.
	Destroy() error
	// Paths maps controller to directory; the cgroup2 directory has key "".
	Paths() map[string]string
	Exists() bool
	// OOMKillCount is how many processes the OOM killer killed in the cgroup.
	OOMKillCount() (uint64, error)
}

// New resolves a container's cgroupsPath as runc's cgroupfs driver does:
// absolute paths are under each hierarchy's mount, relative ones under this
// process's own cgroup, and "" means the container id as a relative path.
// Nothing is created until Apply.
func New(cgroupsPath string, id string) (Manager, error) {
	l, err := hostLayout()
	if err != nil {
		return nil, err
	}
	return newManager(l, cgroupsPath, id)
}

// Load rebuilds a manager from the Paths a previous one saved in state.json.
func Load(paths map[string]string) (Manager, error) {
	l, err := hostLayout()
	if err != nil {
		return nil, err
	}
	return loadManager(l, paths)
}
