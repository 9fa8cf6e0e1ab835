package libcontainer

import (
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := &State{ID: "x", InitPid: 42, InitStartTime: 7, Bundle: "/b", Rootfs: "/b/rootfs",
		Created: time.Unix(1, 2).UTC(), CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/x"}}
	spec := DefaultSpec()
	spec.Annotations = map[string]string{"a": "b"}
	spec.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}}}
	got := saveAndLoad(t, dir, st, spec)
	if got.ID != "x" || got.InitPid != 42 || got.InitStartTime != 7 || !got.Created.Equal(st.Created) ||
		got.CgroupPaths["memory"] != st.CgroupPaths["memory"] {
		t.Fatalf("round trip changed the state: %+v", got)
	}
	// Hooks and annotations come with the state; the whole spec when asked for.
	if got.annotations["a"] != "b" || got.hooks == nil || len(got.hooks.Poststop) != 1 || got.spec != nil {
		t.Fatalf("hooks/annotations not loaded (or the spec decoded eagerly): %+v", got)
	}
	full, err := got.Spec()
	if err != nil || full.Hostname != "husk" || full.Process == nil {
		t.Fatalf("Spec() = %+v, %v", full, err)
	}
	// No temp files are left next to it.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("want only state.json, found %d entries", len(entries))
	}
	if fi, _ := os.Stat(filepath.Join(dir, stateFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("state.json mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestLoadStateGarbage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, stateFile), []byte("{not json"), 0o600)
	if _, err := loadState(dir); err == nil {
		t.Fatal("garbage state.json was accepted")
	}
}

func TestProcStartTime(t *testing.T) {
	st, zombie, err := procStartTime(os.Getpid())
	if err != nil || st == 0 || zombie {
		t.Fatalf("procStartTime(self) = %d, %v, %v", st, zombie, err)
	}
	if _, _, err := procStartTime(1 << 30); err == nil {
		t.Fatal("no error for a pid that cannot exist")
	}
}

// The lock serialises holders: the second waits until the first closes.
func TestLockDirExcludes(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	released := false
	done := make(chan struct{})
	go func() {
		second, err := lockDir(dir)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		if !released {
			t.Error("second lock taken while the first was held")
		}
		mu.Unlock()
		second.Close()
		close(done)
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	released = true
	mu.Unlock()
	first.Close()
	<-done
}

func TestListSkipsHalfMadeDirs(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "b"), 0o700)
	saveState(filepath.Join(root, "b"), &State{ID: "b"})
	os.MkdirAll(filepath.Join(root, "a"), 0o700) // no state.json: a create in progress
	ids, err := List(root)
	if err != nil || len(ids) != 1 || ids[0] != "b" {
		t.Fatalf("List = %v, %v; want [b]", ids, err)
	}
	// As in runc: a missing root is an error (a mistyped --root), not an empty list.
	if ids, err = List(filepath.Join(root, "missing")); err == nil {
		t.Fatalf("List of a missing root = %v, no error", ids)
	}
}

func TestStateSpecErrors(t *testing.T) {
	dir := t.TempDir()
	// Valid JSON whose config has the wrong shape: loading works (start, delete and
	// delete --force need it to), Spec names the container.
	os.WriteFile(filepath.Join(dir, stateFile), []byte(`{"id":"x","config":{"process":{"args":"notalist"}}}`), 0o600)
	st, err := loadState(dir)
	if err != nil {
		t.Fatalf("loadState: %v", err)
	}
	if _, err := st.Spec(); err == nil {
		t.Fatal("a config whose process.args is a string decoded")
	}
	os.WriteFile(filepath.Join(dir, stateFile), []byte(`{"id":"x","config":{"hooks":{"poststop":7}}}`), 0o600)
	if _, err := loadState(dir); err == nil {
		t.Fatal("a config whose hooks are a number loaded")
	}
}

// ExecSpec, read from a saved state, carries everything an exec uses exactly as saved.
func TestStateExecSpec(t *testing.T) {
	dir := t.TempDir()
	spec := DefaultSpec()
	spec.Annotations = map[string]string{"a": "b"}
	spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
	spec.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}
	spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	loaded := saveAndLoad(t, dir, &State{ID: "x"}, spec)
	got, err := loaded.ExecSpec()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Process, spec.Process) || !reflect.DeepEqual(got.Annotations, spec.Annotations) ||
		!reflect.DeepEqual(got.Linux.Namespaces, spec.Linux.Namespaces) || !reflect.DeepEqual(got.Linux.Seccomp, spec.Linux.Seccomp) ||
		!reflect.DeepEqual(got.Linux.Personality, spec.Linux.Personality) || !reflect.DeepEqual(got.Linux.MemoryPolicy, spec.Linux.MemoryPolicy) {
		t.Fatalf("ExecSpec differs from the saved spec:\n%+v\n%+v", got, spec)
	}
	if got.Mounts != nil || got.Linux.Resources != nil {
		t.Fatal("ExecSpec decoded more than an exec uses")
	}
	if again, _ := loaded.ExecSpec(); again != got {
		t.Fatal("ExecSpec decoded twice")
	}
	loaded.Config = []byte(`{"linux":{}}`)
	loaded.execSpec = nil
	if _, err := loaded.ExecSpec(); err == nil {
		t.Fatal("a saved config without a process gave an exec spec")
	}
}

// saveAndLoad saves st with spec in dir and reads it back as husk's commands do.
func saveAndLoad(t *testing.T, dir string, st *State, spec *specs.Spec) *State {
	t.Helper()
	if err := st.setSpec(spec); err != nil {
		t.Fatal(err)
	}
	if err := saveState(dir, st); err != nil {
		t.Fatal(err)
	}
	loaded, err := loadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return loaded
}
