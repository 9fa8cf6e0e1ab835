package libcontainer

import (
	"fmt"

	"github.com/husk-runtime/husk/cgroups"
)

// refuseUsedCgroup fails when the container's cgroup (named path in config.json) exists
// already and is in use, as runc does: processes in it would become part of the container
// (killed, frozen and limited with it), and a frozen one would freeze the init the moment it
// joined, leaving create waiting for it forever.
func refuseUsedCgroup(cg cgroups.Manager, path string) error {
	if !cg.Exists() {
		return nil
	}
	pids, err := cg.Pids()
	if err != nil {
		return fmt.Errorf("linux.cgroupsPath %q: list the processes of the existing cgroup: %w", path, err)
	}
	if len(pids) > 0 {
		return fmt.Errorf("linux.cgroupsPath %q: container's cgroup is not empty: %d process(es) found", path, len(pids))
	}
	st, err := cg.FreezerState()
	if err != nil {
		return fmt.Errorf("linux.cgroupsPath %q: read the freezer state of the existing cgroup: %w", path, err)
	}
	if st == cgroups.Frozen {
		return fmt.Errorf("linux.cgroupsPath %q: container's cgroup is frozen: thaw it or choose another cgroup", path)
	}
	return nil
}
