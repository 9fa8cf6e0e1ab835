package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

func TestJoinThreadWritesZeroAndNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"a", "b"} {
		f := filepath.Join(dir, n)
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if err := JoinThread(files); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); string(b) != "0" {
			t.Errorf("%s = %q, want \"0\" (this thread)", f, b)
		}
	}
	missing := filepath.Join(dir, "gone", "tasks")
	err := JoinThread(append(files, missing))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing tasks file: got %v, want an error naming %s", err, missing)
	}
}
