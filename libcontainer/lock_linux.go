package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The container lock is an exclusive flock on <root>/<id>. Only the operations that change a
// container take it, and only for the steps that must not interleave:
//
//	create   the whole create: nothing else may act on a half-made container
//	start    from the status check until the exec fifo is gone (two starts, one wins);
//	         not the wait for the workload's exec nor the poststart hooks
//	delete   the whole delete (kill, cgroup removal, poststop hooks, state dir removal)
//	update   read the limits, write them to the cgroup, save them
//	restore  the whole restore, as create (its first state names it as creator)
//	checkpoint  only the delete after a dump that stopped the processes (RemoveDumped); the
//	         dump itself changes nothing husk records, and criu refuses a second one at once
//
// Everything else reads state.json without it: state, list, kill, ps, events, pause, resume
// and exec. The status is derived from the host on each read (the init by pid and start time,
// the exec fifo, the freezer), and state.json is replaced by rename, never seen half written;
// so a stuck exec, a slow hook or a slow start never keeps state or kill from answering.
// What the lock used to guard for those is handled where it happens: kill signals through a
// pidfd of the process it checked; exec checks after joining the namespaces that the init it
// joined is still the container's, and a delete meanwhile kills whatever joined the cgroup
// (Destroy removes it only once it is empty; nothing can join it afterwards).

// lockDir takes the container lock of dir and returns the file holding it (closing it
// releases the lock). A delete may remove dir, and a create make a new one of that name,
// while this waits: the lock is only good when dir still names the directory locked, so the
// lock is taken again on the new one, and a dir that is gone is an os.ErrNotExist.
func lockDir(dir string) (*os.File, error) {
	for {
		f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		if err := flock(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		same, err := stillNames(f, dir)
		if err != nil {
			f.Close()
			return nil, err
		}
		if same {
			return f, nil
		}
		f.Close()
	}
}

func flock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

// stillNames reports whether path is the directory open on f.
func stillNames(f *os.File, path string) (bool, error) {
	var held, now unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &held); err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	if err := unix.Stat(path, &now); err != nil {
		if err == unix.ENOENT {
			return false, fmt.Errorf("%s: %w", path, os.ErrNotExist)
		}
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	return held.Dev == now.Dev && held.Ino == now.Ino, nil
}
