package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sd_notify support, as runc does it: when husk itself runs with NOTIFY_SOCKET (under systemd,
// or podman's --sdnotify=container), the container gets a socket of husk's at
// /run/notify/notify.sock (a bind of <root>/<id>/notify), `start` listens on it, passes every
// message on to the host's socket, and returns once the container said READY=1, having told
// the host MAINPID first.

const notifyInContainer = "/run/notify/notify.sock"

// addNotifyMount makes the container's notify directory and binds it in at /run/notify (the
// socket itself is made by start). The saved config holds the mount, as runc's does: a
// checkpoint must name it to criu as external, and a restore binds the new container's there.
func addNotifyMount(dir string, spec *specs.Spec) error {
	d := filepath.Join(dir, "notify")
	if err := os.Mkdir(d, 0o755); err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: create %s: %w", d, err)
	}
	spec.Mounts = append(spec.Mounts, specs.Mount{
		Destination: filepath.Dir(notifyInContainer), Source: d, Type: "bind",
		Options: []string{"bind", "nosuid", "noexec", "nodev", "ro"},
	})
	return nil
}

// notifyEnv tells a created container's process where the socket is. Only its init gets it,
// not the saved config: exec'd processes go without, as with runc (whose exec reads the
// bundle's config), and a restored process has the environment it was checkpointed with.
const notifyEnv = "NOTIFY_SOCKET=" + notifyInContainer

// notifyListener is start's end of the container's notify socket.
type notifyListener struct {
	conn *net.UnixConn
	host string
}

func listenNotify(dir, host string) (*notifyListener, error) {
	path := filepath.Join(dir, "notify", "notify.sock")
	os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("NOTIFY_SOCKET: listen on %s: %w", path, err)
	}
	// The workload may run as any user.
	if err := os.Chmod(path, 0o777); err != nil {
		conn.Close()
		return nil, fmt.Errorf("NOTIFY_SOCKET: chmod %s: %w", path, err)
	}
	return &notifyListener{conn: conn, host: host}, nil
}

// relayUntilReady passes messages to the host socket until one holds READY=1, or the init
// exits. MAINPID goes to the host before READY, so it watches the right process.
func (n *notifyListener) relayUntilReady(initPid int) error {
	defer n.conn.Close()
	host, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.host, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: connect to %s: %w", n.host, err)
	}
	defer host.Close()
	pidfd, err := unix.PidfdOpen(initPid, 0)
	if err != nil {
		return fmt.Errorf("NOTIFY_SOCKET: container init %d: %w", initPid, err)
	}
	defer unix.Close(pidfd)
	buf := make([]byte, 4096)
	for {
		n.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		k, err := n.conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if gone(pidfd) {
					return errors.New("NOTIFY_SOCKET: the container exited before it sent READY=1")
				}
				continue
			}
			return fmt.Errorf("NOTIFY_SOCKET: read: %w", err)
		}
		msg := buf[:k]
		if !bytes.Contains(append([]byte{'\n'}, msg...), []byte("\nREADY=1")) {
			if _, err := host.Write(msg); err != nil {
				return fmt.Errorf("NOTIFY_SOCKET: pass message on: %w", err)
			}
			continue
		}
		if _, err := host.Write([]byte("MAINPID=" + strconv.Itoa(initPid) + "\n")); err != nil {
			return fmt.Errorf("NOTIFY_SOCKET: send MAINPID: %w", err)
		}
		if _, err := host.Write(msg); err != nil {
			return fmt.Errorf("NOTIFY_SOCKET: pass READY on: %w", err)
		}
		return nil
	}
}

func gone(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n > 0
}

// SendPidfd sends a pidfd of pid to the AF_UNIX socket at path (--pidfd-socket).
func SendPidfd(path string, pid int) error {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	conn, err := net.Dial("unix", path)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: connect to %s: %w", path, err)
	}
	defer conn.Close()
	if _, _, err := conn.(*net.UnixConn).WriteMsgUnix([]byte("pidfd"), unix.UnixRights(pidfd), nil); err != nil {
		return fmt.Errorf("--pidfd-socket %s: send: %w", path, err)
	}
	return nil
}
