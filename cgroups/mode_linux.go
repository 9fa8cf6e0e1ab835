package cgroups

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Mode is the cgroup layout of the host.
type Mode int

const (
	// Unified is a pure cgroup v2 host: cgroup2 mounted at /sys/fs/cgroup.
	Unified Mode = iota
	// Hybrid has v1 controllers plus a cgroup2 mount at /sys/fs/cgroup/unified.
	Hybrid
	// Legacy has only v1 hierarchies.
	Legacy
)

func (m Mode) String() string {
	switch m {
	case Unified:
		return "unified"
	case Hybrid:
		return "hybrid"
	case Legacy:
		return "legacy"
	}
	return "unknown"
}

const (
	cgroupRoot     = "/sys/fs/cgroup"
	hybridUnified  = "/sys/fs/cgroup/unified"
	procSelfCgroup = "/proc/self/cgroup"
)

var (
	modeOnce   sync.Once
	cachedMode Mode
)

// DetectMode reports the host's cgroup layout. The answer is computed once:
// hierarchies are not remounted under a running runtime.
func DetectMode() Mode {
	modeOnce.Do(func() {
		cachedMode = detectMode(cgroupRoot, hybridUnified)
	})
	return cachedMode
}

func detectMode(root, unified string) Mode {
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Unified
	}
	if err := unix.Statfs(unified, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid
	}
	return Legacy
}
