package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// CheckMemoryUsage applies linux.resources.memory.checkBeforeUpdate to m: a new memory limit
// at or below what the cgroup uses now is refused. The systemd driver asks before it gives
// systemd the limit, which would otherwise have the kernel reclaim or OOM-kill up to it.
func CheckMemoryUsage(m Manager, r *specs.LinuxResources) error {
	if r == nil || r.Memory == nil {
		return nil
	}
	switch m := m.(type) {
	case *fs2Manager:
		return checkBeforeUpdate(r.Memory, m.dir, "memory.current", true)
	case *fsManager:
		if dir, ok := m.paths["memory"]; ok {
			return checkBeforeUpdate(r.Memory, dir, "memory.usage_in_bytes", false)
		}
	}
	return nil
}

// checkBeforeUpdate refuses mem's limit when checkBeforeUpdate is set and the usage in
// dir/file has reached it. With bestEffort an unreadable usage counts as none.
func checkBeforeUpdate(mem *specs.LinuxMemory, dir, file string, bestEffort bool) error {
	limit := i64(mem.Limit)
	if mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate || limit <= 0 {
		return nil
	}
	usage, err := readUint(dir, file)
	if err != nil {
		if bestEffort {
			return nil
		}
		return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
	}
	if usage >= uint64(limit) {
		return fmt.Errorf("linux.resources.memory.limit: rejecting memory limit %d below current usage %d (checkBeforeUpdate)", limit, usage)
	}
	return nil
}
