package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// Pause freezes every process of a running container.
func (c *Container) Pause() error {
	if st := c.Status(); st != Running {
		return fmt.Errorf("cannot pause %s: container not running (status %s)", c.State.ID, st)
	}
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("pause %s: %w", c.State.ID, err)
	}
	return m.Freeze()
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if st := c.Status(); st != Paused {
		return fmt.Errorf("cannot resume %s: container not paused (status %s)", c.State.ID, st)
	}
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("resume %s: %w", c.State.ID, err)
	}
	return m.Thaw()
}

// Pids lists every process in the container's cgroup, as the host numbers them; a stopped
// container whose cgroup is gone has none (as in runc, where `ps` then prints an empty list).
func (c *Container) Pids() ([]int, error) {
	m, err := c.cgroupManager()
	if err == nil {
		var pids []int
		if pids, err = m.Pids(); err == nil {
			return pids, nil
		}
	}
	if c.Status() == Stopped {
		return nil, nil
	}
	return nil, fmt.Errorf("list processes of %s: %w", c.State.ID, err)
}

// Stats reads the container's cgroup statistics. A container without a cgroup (rootless, no
// cgroup access) has none to read: its statistics are empty, as runc reports them.
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == Stopped {
		return nil, fmt.Errorf("cannot read stats of %s: container not running", c.State.ID)
	}
	if len(c.State.CgroupPaths) == 0 {
		return &cgroups.Stats{Hugetlb: map[string]cgroups.Hugetlb{}}, nil
	}
	m, err := c.cgroupManager()
	if err != nil {
		return nil, fmt.Errorf("read stats of %s: %w", c.State.ID, err)
	}
	return m.Stats()
}

// OOMKillCount is the number of OOM kills in the container's cgroup so far.
func (c *Container) OOMKillCount() (uint64, error) {
	m, err := c.cgroupManager()
	if err != nil {
		return 0, err
	}
	return m.OOMKillCount()
}

// Update applies new limits to a live container and saves them, so that state and a later
// update see them. The device rules are left as they are.
func (c *Container) Update(r *specs.LinuxResources) error {
	if st := c.Status(); st == Stopped {
		return fmt.Errorf("cannot update %s: container not running", c.State.ID)
	}
	spec, err := c.State.Spec()
	if err != nil {
		return err
	}
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	apply := *r
	apply.Devices = nil
	if err := m.Set(&apply); err != nil {
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	saved := *r
	if old := spec.Linux.Resources; old != nil {
		saved.Devices = old.Devices
	}
	spec.Linux.Resources = &saved
	if err := c.State.setSpec(spec); err != nil {
		return err
	}
	return saveState(c.Dir, c.State)
}

// Resources returns the container's current linux.resources (never nil).
func (c *Container) Resources() (*specs.LinuxResources, error) {
	spec, err := c.State.Spec()
	if err != nil {
		return nil, err
	}
	if r := spec.Linux.Resources; r != nil {
		return r, nil
	}
	return &specs.LinuxResources{}, nil
}
