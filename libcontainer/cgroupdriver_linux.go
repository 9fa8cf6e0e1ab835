package libcontainer

import (
	"fmt"

	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/cgroups/systemd"
)

// newCgroup makes the manager of a new container's cgroup: the cgroupfs driver's, or with
// --systemd-cgroup a systemd unit, whose name the state keeps so that the commands after
// create use the same driver. The unit starts when the init joins it (joinCgroup: a scope
// cannot exist without a process), with the limits spawn set before.
func (p *parent) newCgroup() (cgroups.Manager, error) {
	if !p.systemdCgroup {
		cg, err := cgroups.New(p.spec.Linux.CgroupsPath, p.c.State.ID)
		if err != nil {
			return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		return cg, nil
	}
	m, err := systemd.New(p.spec.Linux.CgroupsPath, p.c.State.ID, p.spec.Annotations)
	if err != nil {
		return nil, err
	}
	p.c.State.SystemdUnit = m.Unit()
	return m, nil
}
