package cgroups

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func newFakeV1(t *testing.T, mode Mode) (*fsManager, *layout) {
	t.Helper()
	l := fakeLayout(t, mode)
	m, err := newManager(l, "", "ctr")
	if err != nil {
		t.Fatal(err)
	}
	populate(t, m, map[string]string{"cgroup.controllers": "", "cgroup.freeze": "0", "hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max"})
	return m.(*fsManager), l
}

func TestV1SetWritesEveryResource(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20)), Swap: ptr(int64(128 << 20)),
			Swappiness: ptr(uint64(10)), DisableOOMKiller: ptr(true), UseHierarchy: ptr(true), Kernel: ptr(int64(1 << 20)), KernelTCP: ptr(int64(2 << 20))},
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(200000)), Burst: ptr(uint64(1000)),
			RealtimeRuntime: ptr(int64(950)), RealtimePeriod: ptr(uint64(1000)), Idle: ptr(int64(1)), Cpus: "1", Mems: "0"},
		Pids: &specs.LinuxPids{Limit: ptr(int64(42))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300)), LeafWeight: ptr(uint16(200)),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr(uint16(400)), LeafWeight: ptr(uint16(100))}},
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1000}},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 2000}},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 30}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 40}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Network:        &specs.LinuxNetwork{ClassID: ptr(uint32(0x100001)), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: ptr(uint32(3))}, "mlx4_0": {HcaHandles: ptr(uint32(2)), HcaObjects: ptr(uint32(1000))}},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"memory": {"memory.limit_in_bytes": "67108864", "memory.memsw.limit_in_bytes": "134217728", "memory.soft_limit_in_bytes": "33554432",
			"memory.swappiness": "10", "memory.oom_control": "1", "memory.use_hierarchy": "1", "memory.kmem.tcp.limit_in_bytes": "2097152"},
		"cpu": {"cpu.shares": "512", "cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "200000", "cpu.cfs_burst_us": "1000",
			"cpu.rt_runtime_us": "950", "cpu.rt_period_us": "1000", "cpu.idle": "1"},
		"cpuset":   {"cpuset.cpus": "1", "cpuset.mems": "0"},
		"pids":     {"pids.max": "42"},
		"blkio":    {"blkio.weight": "300", "blkio.leaf_weight": "200", "blkio.weight_device": "8:0 400", "blkio.leaf_weight_device": "8:0 100", "blkio.throttle.read_bps_device": "8:0 1000", "blkio.throttle.write_bps_device": "8:16 2000", "blkio.throttle.read_iops_device": "8:0 30", "blkio.throttle.write_iops_device": "8:0 40"},
		"hugetlb":  {"hugetlb.2MB.limit_in_bytes": "4194304"},
		"net_cls":  {"net_cls.classid": "1048577"},
		"net_prio": {"net_prio.ifpriomap": "eth0 5"},
		"rdma":     {"rdma.max": "mlx5_1 hca_handle=3"}, // last of the sorted writes
	}
	for ctrl, files := range want {
		for name, v := range files {
			if got := readTestFile(t, filepath.Join(m.paths[ctrl], name)); got != v {
				t.Errorf("%s/%s = %q, want %q", ctrl, name, got, v)
			}
		}
	}
}

func TestV1RdmaWritesEachDevice(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	writes := recordWrites(t)
	err := m.Set(&specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: ptr(uint32(3))}, "mlx4_0": {HcaHandles: ptr(uint32(2)), HcaObjects: ptr(uint32(1000))}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rdma.max=mlx4_0 hca_handle=2 hca_object=1000", "rdma.max=mlx5_1 hca_handle=3"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}
}

func TestV1MemorySwapWriteOrder(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	dir := m.paths["memory"]
	// Growing: the current limit is below the new memsw, so memsw goes first.
	writeTestFile(t, filepath.Join(dir, "memory.limit_in_bytes"), "1048576")
	writes := recordWrites(t)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(4 << 20)), Swap: ptr(int64(8 << 20))}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"memory.memsw.limit_in_bytes=8388608", "memory.limit_in_bytes=4194304"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("growing: writes %q, want %q", got, want)
	}
	// Shrinking below the current limit: memory first.
	writeTestFile(t, filepath.Join(dir, "memory.limit_in_bytes"), "104857600")
	writes = recordWrites(t)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(2 << 20)), Swap: ptr(int64(3 << 20))}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"memory.limit_in_bytes=2097152", "memory.memsw.limit_in_bytes=3145728"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("shrinking: writes %q, want %q", got, want)
	}
	// Unlimited memory with swap unset: swap unlimited too.
	writes = recordWrites(t)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}}); err != nil {
		t.Fatal(err)
	}
	want = []string{"memory.memsw.limit_in_bytes=-1", "memory.limit_in_bytes=-1"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("unlimited: writes %q, want %q", got, want)
	}
}

func TestV1CheckBeforeUpdate(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	writeTestFile(t, filepath.Join(m.paths["memory"], "memory.usage_in_bytes"), "5000000")
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(4000000)), CheckBeforeUpdate: ptr(true)}})
	if err == nil || !strings.Contains(err.Error(), "below current usage 5000000") {
		t.Fatalf("got %v, want a rejection below usage", err)
	}
	if got := readTestFile(t, filepath.Join(m.paths["memory"], "memory.limit_in_bytes")); got != "9223372036854771712" {
		t.Errorf("limit written despite the check: %q", got)
	}
}

func TestV1Devices(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	writes := recordWrites(t)
	err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "mrw"},
		{Allow: true, Type: "c", Major: ptr(int64(136)), Minor: ptr(int64(-1)), Access: "rw"},
		{Allow: true, Type: "a", Major: ptr(int64(10)), Access: "m"},
		{Allow: false, Type: "b", Major: ptr(int64(8)), Minor: ptr(int64(0))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"devices.deny=a", "devices.deny=a", "devices.allow=c 1:3 rwm", "devices.allow=c 136:* rw",
		"devices.allow=b 10:* m", "devices.allow=c 10:* m", "devices.deny=b 8:0 rwm"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes\n%q\nwant\n%q", got, want)
	}
	// No devices key: device rules untouched.
	writes = recordWrites(t)
	if err := m.Set(&specs.LinuxResources{}); err != nil {
		t.Fatal(err)
	}
	if got := writes(); len(got) != 0 {
		t.Errorf("empty resources wrote %q", got)
	}
}

func TestDeviceRulesValidation(t *testing.T) {
	bad := []specs.LinuxDeviceCgroup{
		{Type: "x"},
		{Type: "c", Access: "rwx"},
		{Type: "c", Major: ptr(int64(-5))},
		{Type: "b", Minor: ptr(int64(1 << 33))},
	}
	for _, d := range bad {
		if _, err := deviceRules([]specs.LinuxDeviceCgroup{d}); err == nil || !strings.Contains(err.Error(), "linux.resources.devices[0]") {
			t.Errorf("rule %+v: got %v, want an error naming the rule", d, err)
		}
	}
}

func TestV1Errors(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	cases := []struct {
		name string
		r    specs.LinuxResources
		want string
	}{
		{"swappiness range", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}, "linux.resources.memory.swappiness"},
		{"unified on v1", specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "this host has cgroup v1 only"},
		{"hugetlb page size", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, `page size "3MB" not supported`},
		{"hugetlb path", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../2MB", Limit: 1}}}, "invalid pageSize"},
	}
	for _, c := range cases {
		err := m.Set(&c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
	// A controller that is not mounted is named.
	delete(m.paths, "net_cls")
	err := m.Set(&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.network.classID") || !strings.Contains(err.Error(), "net_cls") {
		t.Errorf("missing net_cls: got %v", err)
	}
	// A write error names the file and the value.
	err = m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(1))}})
	if err != nil {
		t.Fatalf("shares: %v", err)
	}
	writeTestFile(t, filepath.Join(m.paths["cpu"], "cpu.shares"), "2")
	m.paths["cpu"] = filepath.Join(m.paths["cpu"], "missing")
	err = m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(100))}})
	if err == nil || !strings.Contains(err.Error(), `missing/cpu.shares: "100": no such file or directory`) {
		t.Errorf("got %v, want the file and value named", err)
	}
}

func TestHybridHugetlbAndUnifiedGoToCgroup2(t *testing.T) {
	m, l := newFakeV1(t, Hybrid)
	delete(m.paths, "hugetlb") // as on the test machine: hugetlb only on cgroup2
	writeTestFile(t, filepath.Join(l.unified.dir, "cgroup.controllers"), "hugetlb\n")
	writeTestFile(t, filepath.Join(m.unified.dir, "hugetlb.2MB.max"), "max")
	err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 2 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.unified.dir, "hugetlb.2MB.max")); got != "2097152" {
		t.Errorf("hugetlb.2MB.max = %q", got)
	}
	if got := readTestFile(t, filepath.Join(m.unified.dir, "hugetlb.2MB.rsvd.max")); got != "2097152" {
		t.Errorf("hugetlb.2MB.rsvd.max = %q", got)
	}
	if got := readTestFile(t, filepath.Join(l.unified.dir, "cgroup.subtree_control")); got != "+hugetlb" {
		t.Errorf("root subtree_control = %q, want hugetlb enabled", got)
	}
	err = m.Set(&specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}})
	if err == nil || !strings.Contains(err.Error(), "controller memory is not on the cgroup2 mount") {
		t.Errorf("memory.high on hybrid: got %v", err)
	}
	if err := m.Set(&specs.LinuxResources{Unified: map[string]string{"hugetlb.2MB.max": "4194304"}}); err != nil {
		t.Fatalf("hugetlb key on hybrid: %v", err)
	}
	if got := readTestFile(t, filepath.Join(m.unified.dir, "hugetlb.2MB.max")); got != "4194304" {
		t.Errorf("hugetlb.2MB.max = %q after unified", got)
	}
}

func TestV1ApplyInitialisesCpusetAndJoins(t *testing.T) {
	l := fakeLayout(t, Legacy)
	m, err := newManager(l, "a/b", "x")
	if err != nil {
		t.Fatal(err)
	}
	// The fake kernel: pre-create the directories with their files.
	for _, dir := range []string{filepath.Join(l.v1["cpuset"].dir, "a"), m.Paths()["cpuset"]} {
		mkdir(t, dir)
		writeTestFile(t, filepath.Join(dir, "cpuset.cpus"), "")
		writeTestFile(t, filepath.Join(dir, "cpuset.mems"), "\n")
	}
	populate(t, m, nil)
	if err := m.Apply(1234); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(l.v1["cpuset"].dir, "a"), m.Paths()["cpuset"]} {
		if got := readTestFile(t, filepath.Join(dir, "cpuset.cpus")); got != "0-1" {
			t.Errorf("%s cpuset.cpus = %q, want 0-1 from the parent", dir, got)
		}
		if got := readTestFile(t, filepath.Join(dir, "cpuset.mems")); got != "0" {
			t.Errorf("%s cpuset.mems = %q", dir, got)
		}
	}
	for ctrl, dir := range m.Paths() {
		if got := readTestFile(t, filepath.Join(dir, "cgroup.procs")); got != "1234" {
			t.Errorf("%s cgroup.procs = %q", ctrl, got)
		}
	}
}

func TestV1ApplyFailureRemovesCreatedDirs(t *testing.T) {
	l := fakeLayout(t, Legacy)
	m, err := newManager(l, "new/leaf", "x")
	if err != nil {
		t.Fatal(err)
	}
	// mkdir on tmpfs gives no cgroup.procs, so joining fails after creating.
	if err := m.Apply(1); err == nil {
		t.Fatal("Apply succeeded without cgroup files")
	}
	for ctrl, mp := range l.v1 {
		if fileExists(filepath.Join(mp.dir, "new")) {
			t.Errorf("%s: %s/new left behind", ctrl, mp.dir)
		}
	}
	if fileExists(filepath.Join(l.v1["memory"].dir, "parent")) == false {
		t.Error("pre-existing own cgroup removed")
	}
}

func TestV1FreezeAndDestroy(t *testing.T) {
	m, _ := newFakeV1(t, Hybrid)
	if s, err := m.FreezerState(); err != nil || s != Thawed {
		t.Fatalf("state %q, %v", s, err)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.paths["freezer"], "freezer.state")); got != "FROZEN" {
		t.Errorf("freezer.state = %q", got)
	}
	writeTestFile(t, filepath.Join(m.paths["freezer"], "freezer.self_freezing"), "1\n")
	if s, err := m.FreezerState(); err != nil || s != Frozen {
		t.Errorf("state %q, %v; want FROZEN", s, err)
	}
	// Frozen by an ancestor only: not paused itself.
	writeTestFile(t, filepath.Join(m.paths["freezer"], "freezer.self_freezing"), "0\n")
	if s, _ := m.FreezerState(); s != Thawed {
		t.Errorf("ancestor-frozen state %q, want THAWED", s)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.paths["freezer"], "freezer.state")); got != "THAWED" {
		t.Errorf("freezer.state = %q", got)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 3 {
		t.Errorf("OOMKillCount = %d, %v; want 3", n, err)
	}
	if !m.Exists() {
		t.Error("Exists false")
	}
	// rmdir on tmpfs refuses non-empty directories: empty them as the kernel would.
	for _, dir := range m.Paths() {
		emptyDir(t, dir)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if m.Exists() || fileExists(m.unified.dir) {
		t.Error("directories left after Destroy")
	}
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}
