package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestThreadJoinFilesV1(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	tasks, rest := ThreadJoinFiles(m)
	if rest != nil {
		t.Errorf("legacy v1: rest = %v, want nothing left for a process-wide join", rest)
	}
	// One tasks file per distinct directory (co-mounted controllers share one).
	seen := map[string]bool{}
	for _, dm := range m.dirs() {
		seen[filepath.Join(dm[0], "tasks")] = true
	}
	if len(tasks) != len(seen) {
		t.Fatalf("tasks %v, want one per directory %v", tasks, seen)
	}
	for _, f := range tasks {
		if !seen[f] {
			t.Errorf("unexpected tasks file %s", f)
		}
	}
}

func TestThreadJoinFilesHybridLeavesCgroup2(t *testing.T) {
	m, _ := newFakeV1(t, Hybrid)
	tasks, rest := ThreadJoinFiles(m)
	if len(tasks) == 0 || rest == nil || rest != Manager(m.unified) {
		t.Fatalf("hybrid: tasks %v rest %v, want the v1 tasks files and the cgroup2 part", tasks, rest)
	}
}

func TestThreadJoinFilesV2(t *testing.T) {
	m, _ := newFakeV2(t)
	tasks, rest := ThreadJoinFiles(m)
	if tasks != nil || rest != Manager(m) {
		t.Fatalf("v2: tasks %v rest %v, want everything left to a process-wide join", tasks, rest)
	}
}

func TestJoinThreadWritesZeroClosesAndNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	var fds []int
	var names []string
	for _, n := range []string{"a", "b"} {
		f := filepath.Join(dir, n)
		fd, err := unix.Open(f, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		fds, names = append(fds, fd), append(names, f)
	}
	if err := JoinThread(fds, names); err != nil {
		t.Fatal(err)
	}
	for i, f := range names {
		if b, _ := os.ReadFile(f); string(b) != "0" {
			t.Errorf("%s = %q, want \"0\" (this thread)", f, b)
		}
		if _, err := unix.FcntlInt(uintptr(fds[i]), unix.F_GETFD, 0); err == nil {
			t.Errorf("fd %d of %s is still open", fds[i], f)
		}
	}
	// A write that fails names the file; every fd is closed all the same.
	ro, err := unix.Open(names[0], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := unix.Open(names[1], unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = JoinThread([]int{ro, w}, names)
	if err == nil || !strings.Contains(err.Error(), names[0]) {
		t.Fatalf("write to a read-only fd: got %v, want an error naming %s", err, names[0])
	}
	if _, err := unix.FcntlInt(uintptr(w), unix.F_GETFD, 0); err == nil {
		t.Errorf("fd %d left open after the error", w)
	}
}
