package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/cgroups/systemd"
)

// newCgroup makes the manager of a new container's cgroup: the cgroupfs driver's, or with
// --systemd-cgroup a systemd unit, whose name (returned, for the state) makes the commands
// after create use the same driver; rootless, in the caller's own systemd instance. Nothing is made on the host yet: the unit starts when the
// init joins it (joinCgroup: a scope cannot exist without a process), with the limits spawn
// set before.
func newCgroup(spec *specs.Spec, id string, systemdCgroup, rootless bool) (cgroups.Manager, string, error) {
	if !systemdCgroup {
		cg, err := cgroups.New(spec.Linux.CgroupsPath, id)
		if err != nil {
			return nil, "", fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		return cg, "", nil
	}
	m, err := systemd.New(spec.Linux.CgroupsPath, id, spec.Annotations, rootless)
	if err != nil {
		return nil, "", err
	}
	return m, m.Unit(), nil
}
