// seccompagent is a seccomp notify agent for the tests (runtime-spec linux.seccomp.listenerPath):
// it accepts one connection on -socket, writes the container process state it receives to
// -state, and answers every notification on the received fd with the errno -errno (or, with
// -errno 0, with success and the value -val), until the container closes the fd.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func main() {
	socket := flag.String("socket", "", "unix socket to listen on")
	stateOut := flag.String("state", "", "file to write the received state JSON to")
	errno := flag.Int("errno", int(unix.ENOSPC), "errno to answer with (0: success)")
	val := flag.Int64("val", 0, "return value when -errno is 0")
	flag.Parse()
	if err := run(*socket, *stateOut, *errno, *val); err != nil {
		fmt.Fprintln(os.Stderr, "seccompagent:", err)
		os.Exit(1)
	}
}

func run(socket, stateOut string, errno int, val int64) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		return err
	}
	defer ln.Close()
	conn, err := ln.AcceptUnix()
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return fmt.Errorf("read message: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("no fd in the message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("no fd in the message: %v", err)
	}
	body := buf[:n]
	for { // the rest of the state, up to EOF
		m, err := conn.Read(buf)
		body = append(body, buf[:m]...)
		if err != nil {
			break
		}
	}
	conn.Close()
	if err := os.WriteFile(stateOut, body, 0o644); err != nil {
		return err
	}
	fd := libseccomp.ScmpFd(fds[0])
	for {
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			return nil // the container is gone
		}
		resp := &libseccomp.ScmpNotifResp{ID: req.ID, Val: uint64(val)}
		if errno != 0 {
			resp.Error = int32(errno) // libseccomp negates it for the kernel
		}
		libseccomp.NotifRespond(fd, resp)
	}
}
