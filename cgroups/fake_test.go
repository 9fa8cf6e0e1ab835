package cgroups

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The fake cgroupfs is a directory tree on tmpfs: one directory per
// hierarchy, with the control files a test needs created up front (writeFile
// never creates files, like the real cgroupfs).

var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "hugetlb", "net_cls", "net_prio", "rdma", "name=systemd"}

func mountName(ctrl string) string { return strings.TrimPrefix(ctrl, "name=") }

// fakeLayout builds a v1 (legacy or hybrid) or unified layout under a temp
// dir. This process "sits" in /parent for memory and at the root elsewhere,
// like the machine the tests were written on.
func fakeLayout(t *testing.T, mode Mode) *layout {
	t.Helper()
	root := t.TempDir()
	l := &layout{mode: mode, v1: map[string]mountPoint{}, own: map[string]string{}}
	if mode != Unified {
		for _, c := range v1Controllers {
			dir := filepath.Join(root, mountName(c))
			mkdir(t, dir)
			l.v1[c] = mountPoint{dir: dir, root: "/"}
			l.own[c] = "/"
		}
		l.own["memory"] = "/parent"
		mkdir(t, filepath.Join(root, "memory", "parent"))
		writeTestFile(t, filepath.Join(root, "cpuset", "cpuset.cpus"), "0-1\n")
		writeTestFile(t, filepath.Join(root, "cpuset", "cpuset.mems"), "0\n")
	}
	if mode != Legacy {
		dir := filepath.Join(root, "unified")
		mkdir(t, dir)
		writeTestFile(t, filepath.Join(dir, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n")
		writeTestFile(t, filepath.Join(dir, "cgroup.subtree_control"), "")
		l.unified = mountPoint{dir: dir, root: "/"}
		l.own[""] = "/"
	}
	return l
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readTestFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// v1Files are the control files (and initial contents) the fake gives each
// new v1 cgroup, by controller.
var v1Files = map[string]map[string]string{
	"cpu": {"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.cfs_burst_us": "0",
		"cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.idle": "0",
		"cpu.stat": "nr_periods 5\nnr_throttled 2\nthrottled_time 300\n"},
	"cpuacct": {"cpuacct.usage": "5000000000", "cpuacct.usage_percpu": "3000000000 2000000000 \n",
		"cpuacct.stat": "user 300\nsystem 200\n", "cpuacct.usage_all": "cpu user system\n0 2000 1000\n1 1500 500\n"},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpu_exclusive": "0", "cpuset.sched_load_balance": "1"},
	"memory": {"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
		"memory.soft_limit_in_bytes": "9223372036854771712", "memory.swappiness": "60", "memory.kmem.tcp.limit_in_bytes": "9223372036854771712", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
		"memory.use_hierarchy": "1", "memory.usage_in_bytes": "1048576", "memory.max_usage_in_bytes": "2097152", "memory.failcnt": "0",
		"memory.memsw.usage_in_bytes": "1048576", "memory.memsw.max_usage_in_bytes": "2097152", "memory.memsw.failcnt": "0",
		"memory.stat": "cache 4096\nrss 8192\ntotal_cache 4096\n"},
	"devices": {"devices.allow": "", "devices.deny": ""},
	"freezer": {"freezer.state": "THAWED\n", "freezer.self_freezing": "0\n"},
	"blkio": {"blkio.weight": "500", "blkio.weight_device": "", "blkio.leaf_weight": "500", "blkio.leaf_weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "", "blkio.throttle.read_iops_device": "",
		"blkio.throttle.write_iops_device":          "",
		"blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n",
		"blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n"},
	"pids":     {"pids.max": "max", "pids.current": "1"},
	"hugetlb":  {"hugetlb.2MB.limit_in_bytes": "", "hugetlb.2MB.usage_in_bytes": "0", "hugetlb.2MB.max_usage_in_bytes": "0", "hugetlb.2MB.failcnt": "0"},
	"net_cls":  {"net_cls.classid": "0"},
	"net_prio": {"net_prio.ifpriomap": ""},
	"rdma":     {"rdma.max": ""},
}

// populate creates the manager's cgroup directories with control files, as
// the kernel would on mkdir.
func populate(t *testing.T, m Manager, unifiedFiles map[string]string) {
	t.Helper()
	for ctrl, dir := range m.Paths() {
		mkdir(t, dir)
		writeTestFile(t, filepath.Join(dir, "cgroup.procs"), "")
		files := v1Files[ctrl]
		if ctrl == "" {
			files = unifiedFiles
		}
		for name, content := range files {
			writeTestFile(t, filepath.Join(dir, name), content)
		}
	}
}

// recordWrites captures every writeFile call for the test's duration.
func recordWrites(t *testing.T) func() []string {
	var mu sync.Mutex
	var got []string
	writeHook = func(path, value string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, filepath.Base(path)+"="+value)
	}
	t.Cleanup(func() { writeHook = nil })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func ptr[T any](v T) *T { return &v }

// emptyDir removes the regular files in dir, which cgroupfs would not have.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}
