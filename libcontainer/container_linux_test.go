package libcontainer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ownStart is this test process's start time, as state.json records a process.
func ownStart(t *testing.T) uint64 {
	t.Helper()
	st, _, err := procStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// deadProcess returns the pid and start time of a process that has exited and been reaped.
func deadProcess(t *testing.T) (int, uint64) {
	t.Helper()
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	st, _, err := procStartTime(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return cmd.Process.Pid, st
}

func TestStatusWhileCreating(t *testing.T) {
	c := &Container{Dir: t.TempDir(), State: &State{ID: "x", CreatorPid: os.Getpid(), CreatorStartTime: ownStart(t)}}
	if st := c.Status(); st != Creating {
		t.Fatalf("status with a live creator = %s, want creating", st)
	}
	if s := c.OCIState(); s.Pid != 0 {
		t.Fatalf("creating without an init yet: pid %d, want 0", s.Pid)
	}
	// Once the init is recorded, state names it.
	c.State.InitPid, c.State.InitStartTime = os.Getpid(), ownStart(t)
	if s := c.OCIState(); s.Status != Creating || s.Pid != os.Getpid() {
		t.Fatalf("creating with an init: %+v", s)
	}
	if err := c.Signal(0, false); err == nil || !strings.Contains(err.Error(), "container not running") {
		t.Fatalf("signal while creating: %v", err)
	}
	// The creator gone before its final state: a half-made container, fit only for delete.
	c.State.CreatorPid, c.State.CreatorStartTime = deadProcess(t)
	if st := c.Status(); st != Stopped {
		t.Fatalf("status with a dead creator = %s, want stopped", st)
	}
}

func TestStatusAfterCreate(t *testing.T) {
	dir := t.TempDir()
	c := &Container{Dir: dir, State: &State{ID: "x", InitPid: os.Getpid(), InitStartTime: ownStart(t)}}
	os.WriteFile(filepath.Join(dir, fifoName), nil, 0o600)
	if st := c.Status(); st != Created {
		t.Fatalf("status = %s, want created", st)
	}
	os.Remove(filepath.Join(dir, fifoName))
	if st := c.Status(); st != Running {
		t.Fatalf("status = %s, want running", st)
	}
	c.State.InitPid, c.State.InitStartTime = deadProcess(t)
	if st := c.Status(); st != Stopped {
		t.Fatalf("status = %s, want stopped", st)
	}
}

func TestDeleteWithoutState(t *testing.T) {
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "a"), 0o711)
	// runc: plain delete removes a directory without state and says there is no container.
	if err := Delete(root, "a", false); !errors.Is(err, ErrNotExist) {
		t.Fatalf("delete: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
		t.Fatal("directory left")
	}
	if err := Delete(root, "a", true); err != nil {
		t.Fatalf("delete --force of nothing: %v", err)
	}
	if err := Delete(root, "a", false); !errors.Is(err, ErrNotExist) {
		t.Fatalf("delete of nothing: %v, want ErrNotExist", err)
	}
	// A damaged state.json: plain delete refuses and points to --force.
	os.Mkdir(filepath.Join(root, "b"), 0o711)
	os.WriteFile(filepath.Join(root, "b", stateFile), []byte("{garbage"), 0o600)
	if err := Delete(root, "b", false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("delete of a damaged state: %v", err)
	}
	if err := Delete(root, "b", true); err != nil {
		t.Fatalf("delete --force of a damaged state: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "b")); !os.IsNotExist(err) {
		t.Fatal("directory left")
	}
}

// delete --force kills a create that holds the lock (here a stand-in: flock(1) holding it,
// named as the creator by the state), and then removes the container.
func TestDeleteForceAbortsCreate(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("needs flock(1)")
	}
	root := t.TempDir()
	dir := filepath.Join(root, "c")
	os.Mkdir(dir, 0o711)
	creator := exec.Command("flock", "-o", dir, "sleep", "100")
	if err := creator.Start(); err != nil {
		t.Fatal(err)
	}
	defer creator.Process.Kill()
	waited := make(chan error, 1)
	go func() { waited <- creator.Wait() }()
	for i := 0; ; i++ { // until flock holds the lock
		f, _ := os.Open(dir)
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		f.Close()
		if err != nil {
			break
		}
		if i == 200 {
			t.Fatal("flock(1) never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start, _, err := procStartTime(creator.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := saveState(dir, &State{ID: "c", CreatorPid: creator.Process.Pid, CreatorStartTime: start}); err != nil {
		t.Fatal(err)
	}
	// Plain delete would wait for the create; --force ends it.
	if err := Delete(root, "c", true); err != nil {
		t.Fatalf("delete --force: %v", err)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("the creator still runs")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("directory left")
	}
}
