package libcontainer

import (
	"fmt"
	"os"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupConsole creates a pty in the container's own devpts, sends the master to the
// --console-socket and makes the slave the process's stdio and controlling terminal. The pty
// is opened through /dev/ptmx after pivot_root, which setupDev made a symlink to pts/ptmx.
func setupConsole(socketFd int, size *specs.Box) error {
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
	if size != nil {
		if err := master.Resize(console.WinSize{Height: uint16(size.Height), Width: uint16(size.Width)}); err != nil {
			return fmt.Errorf("process.consoleSize: %w", err)
		}
	}
	slave, err := unix.Open(slavePath, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open %s: %w", slavePath, err)
	}
	defer unix.Close(slave)
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
