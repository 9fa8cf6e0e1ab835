package libcontainer

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestFrameFdsRoundTrip(t *testing.T) {
	parent, init := socketPair(t)
	dir := t.TempDir()
	var sent []int
	for _, n := range []string{"x", "y"} {
		fd, err := unix.Open(filepath.Join(dir, n), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		sent = append(sent, fd)
	}
	payload := bytes.Repeat([]byte("config"), 100000) // larger than one socket buffer
	done := make(chan error, 1)
	go func() { done <- writeFrameFds(parent, payload, sent) }()
	got, fds, err := readFrameFds(init)
	if err != nil {
		t.Fatal(err)
	}
	if werr := <-done; werr != nil {
		t.Fatal(werr)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("payload of %d bytes came back as %d bytes", len(payload), len(got))
	}
	if len(fds) != len(sent) {
		t.Fatalf("%d fds sent, %d received", len(sent), len(fds))
	}
	for i, fd := range fds {
		var a, b unix.Stat_t
		if err := unix.Fstat(sent[i], &a); err != nil {
			t.Fatal(err)
		}
		if err := unix.Fstat(fd, &b); err != nil {
			t.Fatal(err)
		}
		if a.Ino != b.Ino {
			t.Errorf("fd %d received is not the file sent as fd %d", fd, sent[i])
		}
		if flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("received fd %d is not close-on-exec", fd)
		}
		unix.Close(fd)
	}
	// A frame without fds reads the same way; a closed peer is EOF.
	go func() { done <- writeFrameFds(parent, []byte("{}"), nil) }()
	if got, fds, err := readFrameFds(init); err != nil || string(got) != "{}" || len(fds) != 0 {
		t.Fatalf("plain frame: %q %v %v", got, fds, err)
	}
	<-done
	parent.Close()
	if _, _, err := readFrameFds(init); err == nil {
		t.Fatal("read from a closed peer succeeded")
	}
}

// writeSyscalls is the syscw line of /proc/self/io: write(2)-family calls of this process
// (sendmsg(2) is not one of them).
func writeSyscalls(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skipf("no /proc/self/io: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no syscw in /proc/self/io")
	return 0
}

// A frame that sendmsg takes whole is not followed by a write of nothing: the init may have
// read it and closed its end by then, and that write would fail with EPIPE although the
// frame arrived (seen as "send config to init: broken pipe" under parallel starts).
func TestFrameFdsNoEmptyWrite(t *testing.T) {
	parent, init := socketPair(t)
	fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	before := writeSyscalls(t)
	if err := writeFrameFds(parent, []byte("{}"), []int{fd}); err != nil {
		t.Fatal(err)
	}
	if n := writeSyscalls(t) - before; n != 0 {
		t.Fatalf("writeFrameFds made %d write calls after a complete sendmsg", n)
	}
	if got, fds, err := readFrameFds(init); err != nil || string(got) != "{}" || len(fds) != 1 {
		t.Fatalf("frame: %q %v %v", got, fds, err)
	} else {
		unix.Close(fds[0])
	}
}
