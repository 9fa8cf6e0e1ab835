// Command pidfdrecv is the --pidfd-socket end for the tests: it listens on a unix socket,
// receives one fd over SCM_RIGHTS, checks that it is a pidfd and prints the pid it refers to
// (the "Pid:" line of its fdinfo, in pidfdrecv's pid namespace).
//
// Usage:
//
//	pidfdrecv [-wait] SOCKET
//
// Output: "pid N" once the fd arrives; with -wait, then "exited" once the process has exited
// (the pidfd polls readable), which shows the fd is a live pidfd and not a copy of a number.
// The socket is bound under a temporary name and renamed to SOCKET once it listens, so a test
// can wait for SOCKET to exist. It exits 0 on success, 1 on any error (printed on stderr).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	wait := flag.Bool("wait", false, "after printing the pid, wait for the process to exit")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pidfdrecv [-wait] SOCKET")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *wait); err != nil {
		fmt.Fprintln(os.Stderr, "pidfdrecv:", err)
		os.Exit(1)
	}
}

func run(path string, wait bool) error {
	fd, err := receive(path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// Signal 0 through the fd only works on a pidfd.
	if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != nil {
		return fmt.Errorf("received fd is not a live pidfd: pidfd_send_signal: %w", err)
	}
	pid, err := fdinfoPid(fd)
	if err != nil {
		return err
	}
	fmt.Printf("pid %s\n", pid)
	if !wait {
		return nil
	}
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("poll the pidfd: %w", err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			fmt.Println("exited")
			return nil
		}
	}
}

// fdinfoPid reads the "Pid:" line the kernel shows for a pidfd.
func fdinfoPid(fd int) (string, error) {
	path := fmt.Sprintf("/proc/self/fdinfo/%d", fd)
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Pid:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no Pid: line (not a pidfd)", path)
}

func receive(path string) (int, error) {
	tmp := path + ".tmp"
	os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return -1, fmt.Errorf("listen on %s: %w", tmp, err)
	}
	defer l.Close()
	l.SetUnlinkOnClose(false)
	if err := os.Rename(tmp, path); err != nil {
		return -1, fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	defer os.Remove(path)
	conn, err := l.AcceptUnix()
	if err != nil {
		return -1, fmt.Errorf("accept on %s: %w", path, err)
	}
	defer conn.Close()
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return -1, fmt.Errorf("receive on %s: %w", path, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return -1, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return -1, fmt.Errorf("parse SCM_RIGHTS: %w", err)
		}
		fds = append(fds, got...)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, fmt.Errorf("expected exactly one fd, got %d", len(fds))
	}
	return fds[0], nil
}
