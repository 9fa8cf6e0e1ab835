package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// Start lets a created container's init exec the workload and runs the poststart hooks.
func (c *Container) Start() error {
	t := newPhaseTimer("start")
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return fmt.Errorf("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already %s container", st)
	}
	var notify *notifyListener
	if c.State.NotifySocket != "" {
		n, err := listenNotify(c.Dir, c.State.NotifySocket)
		if err != nil {
			return err
		}
		notify = n
		defer n.conn.Close()
	}
	// The pidfd is taken before the fifo is opened: opening it lets the init exec, and a short
	// workload may exit and be reaped by the engine before we would look again.
	pidfd, err := unix.PidfdOpen(c.State.InitPid, 0)
	if err != nil {
		return fmt.Errorf("container %s not running: init %d: %w", c.State.ID, c.State.InitPid, err)
	}
	defer unix.Close(pidfd)
	if !c.initAlive() {
		return fmt.Errorf("cannot start a container that has stopped")
	}
	fifo := filepath.Join(c.Dir, fifoName)
	f, err := os.OpenFile(fifo, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", fifo, err)
	}
	defer f.Close()
	// The fifo goes before anything is read: once the init's write is done it execs, and from
	// then on the status must not say "created".
	if err := os.Remove(fifo); err != nil {
		return fmt.Errorf("remove %s: %w", fifo, err)
	}
	t.phase("fifo")
	// The init writes one byte once the startContainer hooks ran, and its execve closes the
	// fifo: wait for both, or for the init to die (then nobody will ever write).
	if err := waitFifo(f, pidfd, c.State.ID); err != nil {
		return err
	}
	if notify != nil {
		if err := notify.relayUntilReady(c.State.InitPid); err != nil {
			return err
		}
	}
	if h := c.State.hooks; h != nil && len(h.Poststart) > 0 {
		// The runtime-spec: a failing poststart hook is a warning; the others still run and
		// the container runs on.
		runHooksWarn("poststart", h.Poststart, c.ociStateWith(Running, c.State.InitPid))
	}
	return nil
}

// Destroy removes a container: kills what is left of it (only with force when it runs),
// removes its cgroup, runs the poststop hooks and deletes its state.
func (c *Container) Destroy(force bool) error {
	t := newPhaseTimer("delete")
	status := c.Status()
	if (status == Running || status == Paused) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.State.ID, status)
	}
	var cg cgroups.Manager
	if len(c.State.CgroupPaths) > 0 {
		m, err := c.cgroupManager()
		if err != nil {
			return fmt.Errorf("delete %s: cgroup: %w", c.State.ID, err)
		}
		cg = m
	}
	if status != Stopped {
		if err := unix.Kill(c.State.InitPid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill init %d: %w", c.State.InitPid, err)
		}
		if status == Paused && cg != nil {
			cg.Thaw()
		}
		if !waitGone(c.State.InitPid, 10*time.Second) {
			return fmt.Errorf("delete %s: init %d did not exit after SIGKILL", c.State.ID, c.State.InitPid)
		}
	}
	t.phase("kill")
	if cg != nil {
		// Without a pid namespace the init's children survive it.
		if pids, err := cg.Pids(); err == nil && len(pids) > 0 {
			if err := cg.Kill(unix.SIGKILL); err != nil {
				return fmt.Errorf("delete %s: kill remaining processes: %w", c.State.ID, err)
			}
		}
		// Also when the directories are gone: a systemd unit can outlive its cgroup (a
		// failed one stays loaded until it is reset).
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("delete %s: %w", c.State.ID, err)
		}
	}
	t.phase("cgroup")
	if h := c.State.hooks; h != nil && len(h.Poststop) > 0 {
		runHooksWarn("poststop", h.Poststop, c.ociStateWith(Stopped, 0))
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove state dir %s: %w", c.Dir, err)
	}
	t.done()
	return nil
}

// waitFifo reads the exec fifo until the init's byte and then end of file (its execve).
func waitFifo(f *os.File, pidfd int, id string) error {
	fds := []unix.PollFd{{Fd: int32(f.Fd()), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	got := false
	var buf [16]byte
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll exec fifo: %w", err)
		}
		if fds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
			n, err := unix.Read(int(f.Fd()), buf[:])
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil {
				return fmt.Errorf("read exec fifo: %w", err)
			}
			if n > 0 {
				got = true
				continue
			}
			// End of file: the init closed its end, by execve or by dying.
			if !got {
				return fmt.Errorf("container %s init exited before it could exec the process", id)
			}
			return nil
		}
		if fds[1].Revents != 0 && !got {
			return fmt.Errorf("container %s init exited before start", id)
		}
		if fds[1].Revents != 0 {
			// It died after the byte: its fifo end is closed too, the read will see EOF.
			fds[1].Events = 0
		}
	}
}

// ForceRemove cleans up after a container whose state.json is missing or unreadable (a create
// killed before it saved one, or a damaged file): without the state, what it made is found
// from the id alone, which names the state dir and the cgroup when config.json gave no
// cgroupsPath. Everything in that cgroup is killed, then the cgroup and the dir are removed.
func ForceRemove(root, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	lock, err := lockDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", id, err)
	}
	defer lock.Close()
	if cg, err := cgroups.New("", id); err == nil && cg.Exists() {
		if err := cg.Kill(unix.SIGKILL); err != nil {
			return fmt.Errorf("delete %s: kill the processes of its cgroup: %w", id, err)
		}
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove state dir %s: %w", dir, err)
	}
	return nil
}
