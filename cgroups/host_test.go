package cgroups

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// These tests use the host's real cgroups. Each one creates only cgroups
// named husktest-<random> below this process's own cgroups and removes them
// (and the processes it started) on every exit path.

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates cgroups on the host")
	}
}

func testID(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "husktest-" + hex.EncodeToString(b)
}

// startChild starts cmd and makes sure it is killed and reaped at cleanup.
func startChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
}

// cleanupCgroups removes the manager's directories even if the test failed
// half way; registered before Apply so it runs after the child is reaped.
func cleanupCgroups(t *testing.T, m Manager) {
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, p := range m.Paths() {
			if fileExists(p) {
				t.Errorf("cleanup: %s still exists", p)
			}
		}
	})
}

func TestHostLayout(t *testing.T) {
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mode %s, v1 %v, unified %v, own %v", l.mode, l.v1, l.unified, l.own)
	for c, mp := range l.v1 {
		if !fileExists(filepath.Join(mp.dir, "cgroup.procs")) {
			t.Errorf("%s mounted at %s has no cgroup.procs", c, mp.dir)
		}
	}
	if l.mode != Legacy && !fileExists(filepath.Join(l.unified.dir, "cgroup.controllers")) {
		t.Errorf("cgroup2 mount %s has no cgroup.controllers", l.unified.dir)
	}
}

func TestRealV1Lifecycle(t *testing.T) {
	requireRoot(t)
	if DetectMode() == Unified {
		t.Skip("host is cgroup v2 only")
	}
	id := testID(t)
	m, err := New("", id)
	if err != nil {
		t.Fatal(err)
	}
	cleanupCgroups(t, m)
	cmd := exec.Command("sleep", "60")
	startChild(t, cmd)
	pid := cmd.Process.Pid
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	own, _, err := readProcCgroup("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"memory", "cpu", "pids", "freezer", "devices"} {
		if !strings.HasSuffix(own[c], "/"+id) {
			t.Errorf("child's %s cgroup is %q, want .../%s", c, own[c], id)
		}
	}
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(10))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(20000)), Period: ptr(uint64(100000))},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"},
		},
	}
	if fileExists(filepath.Join(m.Paths()["memory"], "memory.memsw.limit_in_bytes")) {
		r.Memory.Swap = ptr(int64(128 << 20))
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	want := map[string]string{
		filepath.Join(p["memory"], "memory.limit_in_bytes"): "67108864",
		filepath.Join(p["pids"], "pids.max"):                "10",
		filepath.Join(p["cpu"], "cpu.shares"):               "512",
		filepath.Join(p["cpu"], "cpu.cfs_quota_us"):         "20000",
		filepath.Join(p["cpu"], "cpu.cfs_period_us"):        "100000",
		filepath.Join(p["devices"], "devices.list"):         "c 1:3 rwm",
	}
	if r.Memory.Swap != nil {
		want[filepath.Join(p["memory"], "memory.memsw.limit_in_bytes")] = "134217728"
	}
	for path, v := range want {
		if got := strings.TrimSpace(readTestFile(t, path)); got != v {
			t.Errorf("%s = %q, want %q", path, got, v)
		}
	}
	pids, err := m.Pids()
	if err != nil || len(pids) != 1 || pids[0] != pid {
		t.Errorf("Pids() = %v, %v; want [%d]", pids, err, pid)
	}

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(readTestFile(t, filepath.Join(p["freezer"], "freezer.state"))); got != "FROZEN" {
		t.Errorf("freezer.state = %q after Freeze", got)
	}
	if s, err := m.FreezerState(); err != nil || s != Frozen {
		t.Errorf("FreezerState = %q, %v", s, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if s, err := m.FreezerState(); err != nil || s != Thawed {
		t.Errorf("FreezerState = %q, %v after Thaw", s, err)
	}

	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pids.Current != 1 || st.Pids.Limit != 10 || st.Memory.Usage.Limit != 64<<20 {
		t.Errorf("stats: pids %+v, memory limit %d", st.Pids, st.Memory.Usage.Limit)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 0 {
		t.Errorf("OOMKillCount = %d, %v", n, err)
	}

	// Reload from the saved paths, as a later husk command would.
	loaded, err := Load(m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if err := loaded.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, cmd)
	if s, _ := loaded.FreezerState(); s != Thawed {
		t.Errorf("left %q after Kill", s)
	}
	if err := loaded.Destroy(); err != nil {
		t.Fatal(err)
	}
	if loaded.Exists() {
		t.Error("Exists after Destroy")
	}
	for c, dir := range p {
		if fileExists(dir) {
			t.Errorf("%s: %s left after Destroy", c, dir)
		}
	}
}

func waitKilled(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Errorf("child ended with %v, want SIGKILL", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("child not killed within 10s")
	}
}

// TestRealDeviceFilter attaches the eBPF device filter to a cgroup on the
// host's cgroup2 mount (the hybrid /sys/fs/cgroup/unified here) and checks
// that it decides what a process in the cgroup may open, and that replacing
// it leaves exactly one program attached.
func TestRealDeviceFilter(t *testing.T) {
	requireRoot(t)
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if l.unified.dir == "" {
		t.Skip("no cgroup2 mount")
	}
	base, err := resolve(l.unified, l.own[""], testID(t))
	if err != nil {
		t.Fatal(err)
	}
	// Controllers are not needed for devices, freeze and kill; leave the
	// host's subtree_control alone.
	m := &fs2Manager{dir: base, mount: l.unified.dir}
	cleanupCgroups(t, m)

	cmd := exec.Command("sh", "-c", `while read x; do
		if [ "$(head -c1 /dev/zero 2>&- | wc -c)" = 1 ]; then echo zero-ok; else echo zero-denied; fi
		if (echo x >/dev/null) 2>&-; then echo null-ok; else echo null-denied; fi
		if (: <>/dev/null) 2>&-; then echo null-rw-ok; else echo null-rw-denied; fi
	done`)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	startChild(t, cmd)
	out := bufio.NewReader(stdout)
	probe := func() string {
		t.Helper()
		if _, err := io.WriteString(stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
		var res []string
		for i := 0; i < 3; i++ {
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("reading child: %v", err)
			}
			res = append(res, strings.TrimSpace(line))
		}
		return strings.Join(res, " ")
	}

	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != "zero-ok null-ok null-rw-ok" {
		t.Fatalf("before any filter: %q", got)
	}
	null := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{null}}); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != "zero-denied null-ok null-rw-ok" {
		t.Errorf("allow only /dev/null: %q", got)
	}
	// As on v1: a later deny of "w" takes it away from the allow, for a
	// read-write open too.
	rules := []specs.LinuxDeviceCgroup{
		null,
		{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "w"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "r"},
	}
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != "zero-ok null-denied null-rw-denied" {
		t.Errorf("deny w after allow rwm: %q", got)
	}
	// Allow all, then deny writes to major 1: /dev/zero stays readable; the
	// later allow of /dev/zero's reads changes nothing (it was allowed).
	rules = []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "a", Access: "rwm"},
		{Allow: false, Type: "c", Major: ptr(int64(1)), Access: "w"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "r"},
	}
	if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != "zero-ok null-denied null-rw-denied" {
		t.Errorf("after replacing the filter: %q", got)
	}
	if n := attachedCount(t, base); n != 1 {
		t.Errorf("%d device programs attached after replace, want 1", n)
	}

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if s, err := m.FreezerState(); err != nil || s != Frozen {
		t.Errorf("FreezerState = %q, %v", s, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := probe(); got != "zero-ok null-denied null-rw-denied" {
		t.Errorf("after thaw: %q", got)
	}
	if err := m.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, cmd)
}

func attachedCount(t *testing.T, dir string) int {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := link.QueryPrograms(link.QueryOptions{Target: int(d.Fd()), Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		t.Fatal(err)
	}
	return len(res.Programs)
}

// TestRealHybridHugetlb sets a hugetlb limit through the cgroup2 mount of a
// hybrid host. Enabling hugetlb in the cgroup2 root would change the host's
// own cgroup tree, so the test only runs where it is already enabled.
func TestRealHybridHugetlb(t *testing.T) {
	requireRoot(t)
	if DetectMode() != Hybrid {
		t.Skip("host is not hybrid")
	}
	sizes, err := hugePageSizes()
	if err != nil || len(sizes) == 0 {
		t.Skipf("kernel exposes no huge page sizes (%v)", err)
	}
	l, err := hostLayout()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.v1["hugetlb"]; ok {
		t.Skip("hugetlb has a v1 hierarchy here; the cgroup2 path is not used")
	}
	sub, err := readFile(l.unified.dir, "cgroup.subtree_control")
	if err != nil {
		t.Fatal(err)
	}
	if !containsAll(strings.Fields(sub), []string{"hugetlb"}) {
		t.Skipf("hugetlb is not enabled in %s/cgroup.subtree_control (%q); enabling it would change the host's root cgroup", l.unified.dir, strings.TrimSpace(sub))
	}
	m, err := New("", testID(t))
	if err != nil {
		t.Fatal(err)
	}
	cleanupCgroups(t, m)
	if err := m.Apply(-1); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: sizes[0], Limit: 0}}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(readTestFile(t, filepath.Join(m.Paths()[""], "hugetlb."+sizes[0]+".max"))); got != "0" {
		t.Errorf("hugetlb.%s.max = %q, want 0", sizes[0], got)
	}
}
