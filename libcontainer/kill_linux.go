package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// killsWholeCgroup says whether SIGKILL must go to every process in the container's cgroup,
// not only to its init: when the container has no pid namespace of its own (the host's, or
// one it joined). With its own, the kernel kills everything in it when the init dies; without,
// exec'd processes would outlive the init, or live on alone once the init has died (a stopped
// container, which runc still lets `kill KILL` clean up). A cgroup that is gone has nothing
// left to kill.
func (c *Container) killsWholeCgroup(sig unix.Signal) (bool, error) {
	if sig != unix.SIGKILL || len(c.State.CgroupPaths) == 0 {
		return false, nil
	}
	spec, err := c.State.ExecSpec()
	if err != nil {
		return false, err
	}
	if hasNewNamespace(spec.Linux.Namespaces, specs.PIDNamespace) {
		return false, nil
	}
	m, err := c.cgroupManager()
	if err != nil {
		return false, fmt.Errorf("kill %s: %w", c.State.ID, err)
	}
	return m.Exists(), nil
}

// killCgroup sends SIGKILL to every process in the container's cgroup (frozen while listed,
// so that none escapes by forking; a paused container is thawed so that they die).
func (c *Container) killCgroup() error {
	m, err := c.cgroupManager()
	if err != nil {
		return fmt.Errorf("kill %s: %w", c.State.ID, err)
	}
	if err := m.Kill(unix.SIGKILL); err != nil {
		return fmt.Errorf("kill every process of %s: %w", c.State.ID, err)
	}
	return nil
}
