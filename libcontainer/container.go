package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/cgroups/systemd"
)

// Container is one container under a state root, loaded from its state.json.
type Container struct {
	Root  string // the --root directory
	Dir   string // <root>/<id>
	State *State
	lock  *os.File
}

// Load reads an existing container's state without taking its lock: enough for everything
// that does not change the container (see lock_linux.go). Its status is derived from the host
// on each call.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	c := &Container{Root: root, Dir: filepath.Join(root, id)}
	if err := c.readState(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadLocked is Load with the container's lock taken first; Close releases it.
func LoadLocked(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	c := &Container{Root: root, Dir: filepath.Join(root, id)}
	if err := c.Lock(); err != nil {
		return nil, err
	}
	return c, nil
}

// Lock takes the container's lock, unless this Container holds it already, and reads its
// state again: it may have changed since it was read without the lock.
func (c *Container) Lock() error {
	if c.lock != nil {
		return nil
	}
	id := filepath.Base(c.Dir)
	lock, err := lockDir(c.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("container %s: %w", id, ErrNotExist)
		}
		return fmt.Errorf("open container %s: %w", id, err)
	}
	c.lock = lock
	if err := c.readState(); err != nil {
		c.Close()
		return err
	}
	return nil
}

func (c *Container) readState() error {
	id := filepath.Base(c.Dir)
	st, err := loadState(c.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, derr := os.Stat(c.Dir); derr == nil {
				// A create that has not saved its first state yet, or died before it did.
				return fmt.Errorf("container %s (state.json missing in %s): %w", id, c.Dir, ErrNotExist)
			}
			return fmt.Errorf("container %s: %w", id, ErrNotExist)
		}
		return fmt.Errorf("load container %s: %w", id, err)
	}
	c.State = st
	return nil
}

// Close releases the container's lock, when held.
func (c *Container) Close() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// initAlive says whether the recorded init still runs (same pid, same start time, not a zombie).
func (c *Container) initAlive() bool {
	return sameProcess(c.State.InitPid, c.State.InitStartTime)
}

// creating says whether the state is a create's first one (not its final one), and then
// whether that create still runs.
func (c *Container) creating() (unfinished, alive bool) {
	if c.State.CreatorPid == 0 {
		return false, false
	}
	return true, sameProcess(c.State.CreatorPid, c.State.CreatorStartTime)
}

// Status derives the container's status from the host.
func (c *Container) Status() string {
	if unfinished, alive := c.creating(); unfinished {
		if alive {
			return Creating
		}
		// The create was killed half way: what it made is only fit to be deleted.
		return Stopped
	}
	if !c.initAlive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(c.Dir, fifoName)); err == nil {
		return Created
	}
	if m, err := c.cgroupManager(); err == nil {
		if st, err := m.FreezerState(); err == nil && st == cgroups.Frozen {
			return Paused
		}
	}
	return Running
}

func (c *Container) cgroupManager() (cgroups.Manager, error) {
	if len(c.State.CgroupPaths) == 0 {
		return nil, ErrNoCgroup
	}
	if c.State.SystemdUnit != "" {
		return systemd.Load(c.State.SystemdUnit, c.State.CgroupPaths, c.State.SystemdUser)
	}
	return cgroups.Load(c.State.CgroupPaths)
}

// ErrNoCgroup: the container was created rootless without permission to make a cgroup.
var ErrNoCgroup = errors.New("the container has no cgroup: it was created rootless, without a cgroup it could manage (a delegated cgroup v2 subtree gives one)")

// OCIState is the runtime-spec state, with runc's extra fields, as `husk state` prints it.
type OCIState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// OCIState reports the container as `state` and hooks see it.
func (c *Container) OCIState() OCIState {
	status := c.Status()
	pid := c.State.InitPid
	if status == Stopped || status == Creating && !c.initAlive() {
		pid = 0
	}
	return c.ociStateWith(status, pid)
}

func (c *Container) ociStateWith(status string, pid int) OCIState {
	return OCIState{
		OCIVersion:  specs.Version,
		ID:          c.State.ID,
		Pid:         pid,
		Status:      status,
		Bundle:      c.State.Bundle,
		Rootfs:      c.State.Rootfs,
		Created:     c.State.Created,
		Owner:       "",
		Annotations: c.State.annotations,
	}
}

// Signal sends sig to the init, or with all to every process in the container's cgroup (and
// SIGKILL to all of them when the container has no pid namespace of its own: killsWholeCgroup).
func (c *Container) Signal(sig unix.Signal, all bool) error {
	whole, err := c.killsWholeCgroup(sig)
	if err != nil {
		return err
	}
	// A create still running has no init to signal yet; its cgroup may not hold it either.
	if unfinished, alive := c.creating(); whole && !(unfinished && alive) {
		return c.killCgroup()
	}
	// A pidfd pins the init: checked after it is open, it cannot be another process that
	// reused the pid by the time the signal is sent.
	pidfd, err := unix.PidfdOpen(c.State.InitPid, 0)
	if err != nil && c.State.InitPid > 0 && err != unix.ESRCH {
		return fmt.Errorf("signal %s: pidfd_open %d: %w", c.State.ID, c.State.InitPid, err)
	}
	if err == nil {
		defer unix.Close(pidfd)
	}
	status := c.Status()
	switch {
	case status == Creating:
		return fmt.Errorf("cannot signal %s: container not running (it is still being created)", c.State.ID)
	case status == Stopped || err != nil:
		return fmt.Errorf("cannot signal %s: container not running", c.State.ID)
	}
	if all && len(c.State.CgroupPaths) == 0 && sig == unix.SIGKILL && c.ownPidNS() {
		all = false // killing the init of its pid namespace kills every process in it
	}
	if all {
		m, err := c.cgroupManager()
		if err != nil {
			return fmt.Errorf("signal all processes of %s: %w", c.State.ID, err)
		}
		return m.Kill(sig)
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return fmt.Errorf("cannot signal %s: container not running: no such process", c.State.ID)
		}
		return fmt.Errorf("signal %d to init %d: %w", sig, c.State.InitPid, err)
	}
	// A frozen process does not die of SIGKILL until it is thawed; runc thaws it too.
	if status == Paused && sig == unix.SIGKILL {
		if m, err := c.cgroupManager(); err == nil {
			if err := m.Thaw(); err != nil {
				return fmt.Errorf("thaw %s after SIGKILL: %w", c.State.ID, err)
			}
		}
	}
	return nil
}

// ownPidNS says whether the container has a pid namespace of its own.
func (c *Container) ownPidNS() bool {
	spec, err := c.State.ExecSpec()
	return err == nil && hasNewNamespace(spec.Linux.Namespaces, specs.PIDNamespace)
}

// List returns the ids of all containers under root, sorted.
func List(root string) ([]string, error) {
	// A missing root is an error, as in runc: it is more likely a mistyped --root than a host
	// without containers.
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			if _, err := os.Stat(filepath.Join(root, e.Name(), stateFile)); err == nil {
				ids = append(ids, e.Name())
			}
		}
	}
	sort.Strings(ids)
	return ids, nil
}
