package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func openRoot(t *testing.T) (string, *os.File) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, root
}

// realPath names where an O_PATH handle really points.
func realPath(t *testing.T, f *os.File) string {
	t.Helper()
	p, err := os.Readlink(fdPath(f))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMkdirAllInRootStaysInside(t *testing.T) {
	dir, root := openRoot(t)
	outside := t.TempDir()
	// Symlinks that would leave the root on the host are resolved as if root were "/".
	for name, target := range map[string]string{"abs": outside, "up": "../../../..", "deep": "up/abs"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, outside), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"up/a/b", "/abs/c", "deep/d/e", "plain/f/g", "../../h"} {
		f, err := mkdirAllInRoot(root, p, 0o755)
		if err != nil {
			t.Fatalf("mkdirAllInRoot(%q): %v", p, err)
		}
		got := realPath(t, f)
		f.Close()
		if rel, err := filepath.Rel(dir, got); err != nil || rel == ".." || len(rel) >= 3 && rel[:3] == "../" {
			t.Errorf("mkdirAllInRoot(%q) resolved to %s, outside %s", p, got, dir)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("something was created outside the root: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, outside, "c")); err != nil {
		t.Errorf("/abs/c was not made at the symlink's target inside the root: %v", err)
	}
}

func TestMkdirAllInRootLeavesDanglingAndDotDotToSlowPath(t *testing.T) {
	dir, root := openRoot(t)
	if err := os.Symlink("/nowhere/x", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if _, err := mkdirAllInRoot(root, "dangling/y", 0o755); !errors.Is(err, errNeedsSlowPath) {
		t.Errorf("dangling symlink: got %v, want errNeedsSlowPath", err)
	}
	if _, err := mkdirAllInRoot(root, "new/../z", 0o755); !errors.Is(err, errNeedsSlowPath) {
		t.Errorf("'..' in the missing part: got %v, want errNeedsSlowPath", err)
	}
	// mkdirInRoot takes the slow path and makes the directory where the symlink points.
	f, err := mkdirInRoot(root, "dangling/y")
	if err != nil {
		t.Fatalf("mkdirInRoot through a dangling symlink: %v", err)
	}
	f.Close()
	if st, err := os.Stat(filepath.Join(dir, "nowhere/x/y")); err != nil || !st.IsDir() {
		t.Errorf("nowhere/x/y not made inside the root: %v", err)
	}
}

func TestMkdirAllInRootThroughFile(t *testing.T) {
	dir, root := openRoot(t)
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mkdirAllInRoot(root, "file/sub", 0o755); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("got %v, want ENOTDIR", err)
	}
	if _, err := openatInRoot(root, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("openatInRoot of a missing path: got %v, want not exist", err)
	}
}
