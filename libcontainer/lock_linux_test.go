package libcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A lock waited for on a directory that a delete removed and a create made again is taken on
// the new directory, never kept on the removed one.
func TestLockDirFollowsReplacedDir(t *testing.T) {
	dir, first := lockedDir(t)
	got := make(chan *os.File)
	go func() {
		second, err := lockDir(dir)
		if err != nil {
			t.Error(err)
		}
		got <- second
	}()
	time.Sleep(50 * time.Millisecond)
	// A delete, then a create of the same id, while the second waits.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := <-got
	if second == nil {
		t.Fatal("no lock")
	}
	defer second.Close()
	if same, err := stillNames(second, dir); err != nil || !same {
		t.Fatalf("the lock is held on a directory that %s no longer names (%v)", dir, err)
	}
}

func TestLockDirGone(t *testing.T) {
	dir, first := lockedDir(t)
	errs := make(chan error)
	go func() {
		f, err := lockDir(dir)
		if f != nil {
			f.Close()
		}
		errs <- err
	}()
	time.Sleep(50 * time.Millisecond)
	os.Remove(dir)
	first.Close()
	if err := <-errs; !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock of a removed directory: %v, want os.ErrNotExist", err)
	}
	if _, err := lockDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock of a missing directory: %v, want os.ErrNotExist", err)
	}
}

// lockedDir makes a container directory and takes its lock.
func lockedDir(t *testing.T) (string, *os.File) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, f
}
