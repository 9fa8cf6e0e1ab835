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
)

// Container is one container under a state root, loaded from its state.json.
type Container struct {
	Root  string // the --root directory
	Dir   string // <root>/<id>
	State *State
	lock  *os.File
}

// Load opens an existing container and takes its lock; Close releases it.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	lock, err := lockDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("open container %s: %w", id, err)
	}
	st, err := loadState(dir)
	if err != nil {
		lock.Close()
		if errors.Is(err, os.ErrNotExist) {
			// A create is still in progress or died before saving its state.
			return nil, fmt.Errorf("container %s (state.json missing in %s): %w", id, dir, ErrNotExist)
		}
		return nil, fmt.Errorf("load container %s: %w", id, err)
	}
	return &Container{Root: root, Dir: dir, State: st, lock: lock}, nil
}

// Close releases the container's lock.
func (c *Container) Close() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// initAlive says whether the recorded init still runs (same pid, same start time, not a zombie).
func (c *Container) initAlive() bool {
	if c.State.InitPid <= 0 {
		return false
	}
	start, zombie, err := procStartTime(c.State.InitPid)
	return err == nil && !zombie && start == c.State.InitStartTime
}

// Status derives the container's status from the host.
func (c *Container) Status() string {
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
		return nil, errors.New("container has no cgroup")
	}
	return cgroups.Load(c.State.CgroupPaths)
}

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
	if status == Stopped {
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

// Signal sends sig to the init, or with all to every process in the container's cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	status := c.Status()
	if status == Stopped {
		return fmt.Errorf("cannot signal %s: container not running", c.State.ID)
	}
	if all {
		m, err := c.cgroupManager()
		if err != nil {
			return fmt.Errorf("signal all processes of %s: %w", c.State.ID, err)
		}
		return m.Kill(sig)
	}
	if err := unix.Kill(c.State.InitPid, sig); err != nil {
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
