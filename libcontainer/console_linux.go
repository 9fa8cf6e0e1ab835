package libcontainer

import (
	"fmt"
	"os"
	"strconv"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupConsole creates a pty in the container's own devpts, sends the master to the
// --console-socket and makes the slave the process's stdio and controlling terminal. The pty
// is opened through /dev/ptmx after pivot_root, which setupDev made a symlink to pts/ptmx.
// Like runc, the slave is given to the process's user (its uid; the group stays the one
// devpts chose, its gid= option), and ONLCR is cleared when husk's own terminal proxy is the
// other end (proxied): output then reaches the caller with "\n" line ends, not "\r\n".
func setupConsole(socketFd int, p *specs.Process, devConsole, proxied bool) error {
	if socketFd < 0 {
		return fmt.Errorf("process.terminal: no console socket")
	}
	sock := os.NewFile(uintptr(socketFd), "console-socket")
	defer sock.Close()
	master, slavePath, err := console.NewPty()
	if err != nil {
		return fmt.Errorf("process.terminal: create pty: %w", err)
	}
	defer master.Close()
	if size := p.ConsoleSize; size != nil {
		if err := master.Resize(console.WinSize{Height: uint16(size.Height), Width: uint16(size.Width)}); err != nil {
			return fmt.Errorf("process.consoleSize: %w", err)
		}
	}
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open %s: %w", slavePath, err)
	}
	defer unix.Close(slave)
	if err := giveTerminal(slave, int(p.User.UID)); err != nil {
		return err
	}
	if proxied {
		if err := clearONLCR(slave); err != nil {
			return err
		}
	}
	if devConsole {
		if err := mountConsole(slave); err != nil {
			return err
		}
	}
	rights := unix.UnixRights(int(master.Fd()))
	if err := unix.Sendmsg(socketFd, []byte(master.Name()), rights, nil, 0); err != nil {
		return fmt.Errorf("--console-socket: send pty master: %w", err)
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(slave, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: dup pty to fd %d: %w", fd, err)
		}
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: TIOCSCTTY: %w", err)
	}
	return nil
}

// mountConsole puts the pty slave over /dev/console, as runc does. Nothing on the way may be a
// symlink the rootfs planted (CVE-2025-52565): /dev is opened without following any, and a
// /dev/console that is not a regular file is replaced by one before the bind mount.
func mountConsole(slave int) error {
	dev, err := unix.Openat2(unix.AT_FDCWD, "/dev", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev: %w", err)
	}
	defer unix.Close(dev)
	var st unix.Stat_t
	err = unix.Fstatat(dev, "console", &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		if err := unix.Unlinkat(dev, "console", 0); err != nil {
			return fmt.Errorf("process.terminal: remove /dev/console: %w", err)
		}
	}
	fd, err := unix.Openat(dev, "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o600)
	if err == nil {
		unix.Close(fd)
	} else if err != unix.EEXIST {
		return fmt.Errorf("process.terminal: create /dev/console: %w", err)
	}
	target, err := unix.Openat(dev, "console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev/console: %w", err)
	}
	defer unix.Close(target)
	src := "/proc/self/fd/" + strconv.Itoa(slave)
	if err := unix.Mount(src, "/proc/self/fd/"+strconv.Itoa(target), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("process.terminal: bind the pty over /dev/console: %w", err)
	}
	return nil
}

// giveTerminal makes uid the owner of the pty slave, so that the process can use its own
// terminal (chmod, and a devpts mode that only lets the owner write to it). As in runc, a
// chown the kernel refuses (a uid not mapped in the user namespace, EINVAL; an owner not
// mapped, EPERM; a read-only devpts, EROFS) leaves the owner as it was.
func giveTerminal(slave, uid int) error {
	err := unix.Fchown(slave, uid, -1)
	if err == nil || err == unix.EINVAL || err == unix.EPERM || err == unix.EROFS {
		return nil
	}
	return fmt.Errorf("process.terminal: chown the pty to uid %d: %w", uid, err)
}

// clearONLCR turns off the terminal's translation of "\n" into "\r\n" on output.
func clearONLCR(slave int) error {
	t, err := unix.IoctlGetTermios(slave, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("process.terminal: read the pty's settings: %w", err)
	}
	t.Oflag &^= unix.ONLCR
	if err := unix.IoctlSetTermios(slave, unix.TCSETS, t); err != nil {
		return fmt.Errorf("process.terminal: clear ONLCR on the pty: %w", err)
	}
	return nil
}
