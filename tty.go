package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// ttyProxy is husk's own end of a container's terminal, for `run -t` and `exec -t` in the
// foreground without --console-socket (as runc does): the init sends the pty master over a
// socketpair; husk copies its stdin to the master and the master to its stdout, with its own
// terminal in raw mode and window size changes passed on.
type ttyProxy struct {
	parent, child *os.File // socketpair ends; child goes to the init
	master        console.Console
	current       console.Console // husk's terminal, when stdin is one
	outDone       chan struct{}
	restoreOnce   sync.Once
}

func newTTYProxy() (*ttyProxy, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair for the terminal: %w", err)
	}
	return &ttyProxy{parent: os.NewFile(uintptr(fds[0]), "tty-parent"), child: os.NewFile(uintptr(fds[1]), "tty-child")}, nil
}

// start receives the master (sent before the init reported ready) and starts copying.
func (t *ttyProxy) start() error {
	t.child.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(t.parent.Fd()), buf, oob, 0)
	t.parent.Close()
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return errors.New("receive pty master: no fd in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return errors.New("receive pty master: no fd in the message")
	}
	master, err := console.ConsoleFromFile(os.NewFile(uintptr(fds[0]), "pty-master"))
	if err != nil {
		return fmt.Errorf("pty master: %w", err)
	}
	t.master = master
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		t.current = cur
		if err := cur.SetRaw(); err != nil {
			return fmt.Errorf("set terminal raw: %w", err)
		}
		t.resize()
	}
	t.outDone = make(chan struct{})
	go func() {
		io.Copy(os.Stdout, master) // ends with EIO once every slave fd is closed
		close(t.outDone)
	}()
	go io.Copy(master, os.Stdin)
	return nil
}

// resize gives the container's terminal the size of husk's own.
func (t *ttyProxy) resize() {
	if t.current == nil || t.master == nil {
		return
	}
	if size, err := t.current.Size(); err == nil {
		t.master.Resize(size)
	}
}

// finish waits briefly for the last output and restores husk's terminal.
func (t *ttyProxy) finish() {
	if t.outDone != nil {
		select {
		case <-t.outDone:
		case <-time.After(time.Second):
		}
	}
	t.restoreOnce.Do(func() {
		if t.current != nil {
			t.current.Reset()
		}
		if t.master != nil {
			t.master.Close()
		}
	})
}
