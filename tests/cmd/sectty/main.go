// Command sectty is the console-socket end for the security tests: it listens on a unix
// socket, receives the pty master a runtime sends for `terminal: true`, and copies what the
// container writes to it into a file until the container closes its side.
//
// Usage:
//
//	sectty SOCKET OUTFILE
//
// It writes "SOCKET.ready" once it listens, so a test can wait for it instead of sleeping.
// It exits 0 after the pty hangs up, 1 on any error (printed on stderr).
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: sectty SOCKET OUTFILE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "sectty:", err)
		os.Exit(1)
	}
}

func run(sock, outPath string) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return fmt.Errorf("listen %s: %w", sock, err)
	}
	defer ln.Close()
	if err := os.WriteFile(sock+".ready", []byte("ready\n"), 0o644); err != nil {
		return fmt.Errorf("write %s.ready: %w", sock, err)
	}
	conn, err := ln.AcceptUnix()
	if err != nil {
		return fmt.Errorf("accept on %s: %w", sock, err)
	}
	defer conn.Close()
	master, err := recvFd(conn)
	if err != nil {
		return err
	}
	defer master.Close()
	out, err := os.Create(outPath)
	if err != nil {
		return fmt.Errorf("create %s: %w", outPath, err)
	}
	defer out.Close()
	// Reading a pty master whose slave side is closed fails with EIO: that is the end.
	if _, err := io.Copy(out, master); err != nil && !errors.Is(err, unix.EIO) {
		return fmt.Errorf("copy from pty master: %w", err)
	}
	return nil
}

// recvFd reads one message carrying one fd (SCM_RIGHTS), as runc's --console-socket sends.
func recvFd(conn *net.UnixConn) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		return nil, fmt.Errorf("recvmsg on console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("got %d control messages, want 1", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, fmt.Errorf("parse SCM_RIGHTS: %w", err)
	}
	if len(fds) != 1 {
		return nil, fmt.Errorf("got %d fds, want 1", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
