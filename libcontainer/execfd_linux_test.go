package libcontainer

import (
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// With free fds below the files it passes, Go's child moves its error pipe onto the fd above
// the highest of them before execve: a binary fd placed there is gone by then.
// execThroughFd's fd must survive that; the same set-up with the fd right there shows that
// the test can fail.
func TestExecThroughFdSurvivesChildFdShuffle(t *testing.T) {
	bin, err := os.Open("/bin/true")
	if err != nil {
		t.Skip("no /bin/true")
	}
	defer bin.Close()
	newCmd := func() *exec.Cmd {
		// Standard streams given, so that os/exec opens nothing of its own before the fork.
		cmd := &exec.Cmd{Args: []string{"true"}, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
		// Extra files at high numbers, so that the fds below len(files) can be free.
		for i := 0; i < 20; i++ {
			null, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			high, err := unix.FcntlInt(null.Fd(), unix.F_DUPFD_CLOEXEC, 200)
			null.Close()
			if err != nil {
				t.Fatal(err)
			}
			f := os.NewFile(uintptr(high), os.DevNull)
			t.Cleanup(func() { f.Close() })
			cmd.ExtraFiles = append(cmd.ExtraFiles, f)
		}
		return cmd
	}
	// makeHoles frees two fds below limit, where the child's error pipe then lands.
	makeHoles := func(limit int) {
		var fs []*os.File
		for i := 0; i < 2; i++ {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		for _, f := range fs {
			if int(f.Fd()) >= limit {
				t.Skipf("no free fd below %d in this test process", limit)
			}
			f.Close()
		}
	}

	cmd := newCmd()
	files := 3 + len(cmd.ExtraFiles)
	fd, err := execThroughFd(cmd, bin)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	makeHoles(files)
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec through fd %d with %d files: %v", fd, files, err)
	}

	// A binary fd right above the highest file, where the child's pipe goes.
	old := newCmd()
	top := 0
	for _, f := range old.ExtraFiles {
		top = max(top, int(f.Fd()))
	}
	if err := unix.Dup3(int(bin.Fd()), top+1, unix.O_CLOEXEC); err != nil {
		t.Skipf("fd %d: %v", top+1, err)
	}
	defer unix.Close(top + 1)
	old.Path = "/proc/self/fd/" + strconv.Itoa(top+1)
	makeHoles(files)
	if err := old.Run(); err == nil {
		t.Fatalf("exec through fd %d, above the highest file, worked: the test no longer reproduces the stomp", top+1)
	}
}
