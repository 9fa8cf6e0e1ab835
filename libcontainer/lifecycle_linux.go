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

// Start lets a created container's init exec the workload and runs the poststart hooks. It
// holds the container's lock until the exec fifo is gone (the step two starts must not share)
// and releases it for the rest: the startContainer hooks, the exec, the poststart hooks.
func (c *Container) Start() error {
	t := newPhaseTimer("start")
	if err := c.Lock(); err != nil {
		return err
	}
	defer c.Close()
	// The pidfd is taken before the status is read, so that the init found alive there is the
	// one the pidfd holds; and before the fifo is opened: opening it lets the init exec, and a
	// short workload may exit and be reaped by the engine before we would look again.
	pidfd, pidfdErr := unix.PidfdOpen(c.State.InitPid, 0)
	if pidfdErr == nil {
		defer unix.Close(pidfd)
	}
	switch st := c.Status(); st {
	case Created:
	case Stopped:
		return fmt.Errorf("cannot start a container that has stopped")
	case Creating:
		return fmt.Errorf("cannot start a container that is still being created")
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
	if pidfdErr != nil {
		return fmt.Errorf("container %s not running: init %d: %w", c.State.ID, c.State.InitPid, pidfdErr)
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
	c.Close()
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
		runHooksWarn("poststart", h.Poststart, c.ociStateWith(Running, c.State.InitPid), c.State.Bundle)
	}
	return nil
}

// Destroy removes a container: kills what is left of it (only with force when it runs),
// removes its cgroup, runs the poststop hooks and deletes its state. It takes the container's
// lock when the caller does not hold it. It fails rather than report success while a process
// or a cgroup of the container is left.
func (c *Container) Destroy(force bool) error {
	t := newPhaseTimer("delete")
	if err := c.Lock(); err != nil {
		return err
	}
	status := c.Status()
	if (status == Running || status == Paused || status == Creating) && !force {
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
	// The init goes first (with a pid namespace, everything goes with it). Whatever the status
	// says: a create killed half way leaves a "stopped" container whose init may still wait.
	if err := c.killInit(cg); err != nil {
		return err
	}
	t.phase("kill")
	if cg != nil {
		if err := emptyAndRemove(cg); err != nil {
			return fmt.Errorf("delete %s: %w", c.State.ID, err)
		}
	}
	t.phase("cgroup")
	if h := c.State.hooks; h != nil && len(h.Poststop) > 0 {
		runHooksWarn("poststop", h.Poststop, c.ociStateWith(Stopped, 0), "")
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove state dir %s: %w", c.Dir, err)
	}
	t.done()
	return nil
}

// killInit SIGKILLs the init when it still runs and waits until it is gone.
func (c *Container) killInit(cg cgroups.Manager) error {
	pid := c.State.InitPid
	if pid <= 0 {
		return nil
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // gone already
	}
	defer unix.Close(pidfd)
	if !c.initAlive() {
		return nil // a zombie, or another process that got the pid
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill init %d: %w", pid, err)
	}
	// A frozen process only dies once thawed.
	if cg != nil {
		if st, err := cg.FreezerState(); err == nil && st == cgroups.Frozen {
			cg.Thaw()
		}
	}
	if !waitPidfd(pidfd, 10*time.Second) {
		return fmt.Errorf("delete %s: init %d did not exit after SIGKILL", c.State.ID, pid)
	}
	return nil
}

// emptyAndRemove kills every process in the cgroup and removes it. An exec that began before
// the delete can put a process in it after the kill: the removal then finds the cgroup busy,
// and the next round kills that one too. Once the directories are gone nothing can join them.
func emptyAndRemove(cg cgroups.Manager) error {
	var err error
	for round := 0; round < 5; round++ {
		if !cg.Exists() {
			// Destroy still: a systemd unit can outlive its cgroup (a failed one stays
			// loaded until it is reset).
			return cg.Destroy()
		}
		pids, perr := cg.Pids()
		if perr == nil && len(pids) > 0 {
			if err := cg.Kill(unix.SIGKILL); err != nil {
				return fmt.Errorf("kill the processes of its cgroup: %w", err)
			}
			for _, pid := range pids {
				waitGone(pid, 2*time.Second)
			}
		}
		if err = cg.Destroy(); err == nil {
			return nil
		}
	}
	return err
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

// Delete removes the container id under root, as `delete` does: Destroy when its state can
// be read. Without a usable state.json (a create killed before it saved one, a damaged file),
// plain delete removes a directory without state (runc does) and fails otherwise; with force,
// what the id alone names goes: the cgroup named after the id (where a config without
// cgroupsPath puts it) with everything in it, and the state dir. The lock is held throughout.
// A create still at work holds it: plain delete waits for it; delete --force kills it first
// (see abortCreate), so that a hook that never returns cannot hold up a forced delete.
func Delete(root, id string, force bool) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := filepath.Join(root, id)
	if force {
		if err := abortCreate(dir); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	lock, err := lockDir(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		if force {
			return nil
		}
		return fmt.Errorf("container %s: %w", id, ErrNotExist)
	}
	c := &Container{Root: root, Dir: dir, lock: lock}
	defer c.Close()
	err = c.readState()
	switch {
	case err == nil:
		return c.Destroy(force)
	case !force && errors.Is(err, ErrNotExist):
		if e := os.RemoveAll(dir); e != nil {
			return fmt.Errorf("remove %s: %w", dir, e)
		}
		return err
	case !force:
		return fmt.Errorf("%w (delete --force removes what the id names)", err)
	}
	if cg, cerr := cgroups.New("", id); cerr == nil {
		if e := emptyAndRemove(cg); e != nil {
			return fmt.Errorf("%v; force removal: delete %s: %w", err, id, e)
		}
	}
	if e := os.RemoveAll(dir); e != nil {
		return fmt.Errorf("%v; force removal: remove state dir %s: %w", err, dir, e)
	}
	return nil
}

// abortCreate SIGKILLs the create that holds the lock of dir, when the state it saved names
// it and it still runs, and waits until it is gone (the kernel then releases the lock). What
// it made is recorded before it was made, so the delete that follows removes all of it, as
// after any create that was killed. Anything else holding the lock is waited for as usual.
func abortCreate(dir string) error {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // no container: Delete says so
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err == nil {
		return nil // nobody at work
	}
	st, err := loadState(dir)
	if err != nil || st.CreatorPid == 0 {
		return nil
	}
	pidfd, err := unix.PidfdOpen(st.CreatorPid, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(pidfd)
	if !sameProcess(st.CreatorPid, st.CreatorStartTime) {
		return nil
	}
	if err := unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
		return fmt.Errorf("kill the create in progress (pid %d): %w", st.CreatorPid, err)
	}
	if !waitPidfd(pidfd, 10*time.Second) {
		return fmt.Errorf("the create in progress (pid %d) did not exit after SIGKILL", st.CreatorPid)
	}
	return nil
}
