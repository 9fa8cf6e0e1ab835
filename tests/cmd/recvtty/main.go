// Command recvtty is the --console-socket end for the terminal tests, like runc's recvtty: it
// listens on a unix socket, receives the pty master a runtime sends over SCM_RIGHTS, checks that
// it is a pty master, writes input to it and copies what the container writes to it onto stdout
// until every slave fd is closed (EIO on the master).
//
// Usage:
//
//	recvtty [-info FILE] [-input TEXT] [-input-after-output TEXT] SOCKET
//
// The socket is bound under a temporary name and renamed to SOCKET once it listens, so a test
// can wait for SOCKET to exist instead of sleeping. Only one connection is accepted.
//
// -info FILE: once the master arrives, FILE gets "name=<the name sent with the fd>" and
// "ptn=<the pty number of the master>" (TIOCGPTN), written atomically (rename).
// -input TEXT: written to the master at once (with \n escapes interpreted).
// -input-after-output TEXT: written once the master has produced its first output, so the
// text reaches a process that is already reading its terminal.
//
// It exits 0 after the pty hangs up, 1 on any error (printed on stderr).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	info := flag.String("info", "", "file to write the received name and pty number to")
	input := flag.String("input", "", "text to write to the master at once (\\n is a newline)")
	later := flag.String("input-after-output", "", "text to write to the master after its first output")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: recvtty [-info FILE] [-input TEXT] [-input-after-output TEXT] SOCKET")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *info, unescape(*input), unescape(*later)); err != nil {
		fmt.Fprintln(os.Stderr, "recvtty:", err)
		os.Exit(1)
	}
}

func unescape(s string) string {
	return strings.ReplaceAll(s, `\n`, "\n")
}

func run(path, info, input, later string) error {
	master, name, err := receive(path)
	if err != nil {
		return err
	}
	defer master.Close()
	// A pty master answers TIOCGPTN; any other fd (a slave, a file) does not.
	ptn, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("received fd is not a pty master: TIOCGPTN: %w", err)
	}
	if info != "" {
		tmp := info + ".tmp"
		text := fmt.Sprintf("name=%s\nptn=%d\n", name, ptn)
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
		if err := os.Rename(tmp, info); err != nil {
			return fmt.Errorf("rename %s: %w", tmp, err)
		}
	}
	if input != "" {
		if _, err := io.WriteString(master, input); err != nil {
			return fmt.Errorf("write input to the master: %w", err)
		}
	}
	return copyOut(master, later)
}

// receive listens on path, accepts one connection and returns the fd it carried and the
// bytes sent along with it (runc and husk send the slave's name).
func receive(path string) (*os.File, string, error) {
	tmp := path + ".tmp"
	os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s: %w", tmp, err)
	}
	defer l.Close()
	l.SetUnlinkOnClose(false)
	if err := os.Rename(tmp, path); err != nil {
		return nil, "", fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	defer os.Remove(path)
	conn, err := l.AcceptUnix()
	if err != nil {
		return nil, "", fmt.Errorf("accept on %s: %w", path, err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, "", fmt.Errorf("receive on %s: %w", path, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, "", fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return nil, "", fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, "", fmt.Errorf("expected exactly one fd, got %d", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), string(buf[:n]), nil
}

// copyOut copies the master to stdout until the pty hangs up. EIO is how a master reports
// that no slave fd is open any more: the normal end.
func copyOut(master *os.File, later string) error {
	buf := make([]byte, 4096)
	sentLater := later == ""
	for {
		n, err := master.Read(buf)
		if n > 0 {
			if _, werr := os.Stdout.Write(buf[:n]); werr != nil {
				return fmt.Errorf("write stdout: %w", werr)
			}
			if !sentLater {
				sentLater = true
				if _, werr := io.WriteString(master, later); werr != nil {
					return fmt.Errorf("write input to the master: %w", werr)
				}
			}
		}
		if errors.Is(err, unix.EIO) || errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the master: %w", err)
		}
	}
}
