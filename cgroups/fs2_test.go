package cgroups

import (
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var v2Files = map[string]string{
	"cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc", "cgroup.subtree_control": "",
	"cgroup.freeze": "0", "cgroup.events": "populated 1\nfrozen 0\n", "cgroup.kill": "",
	"memory.max": "max", "memory.low": "0", "memory.swap.max": "max", "memory.high": "max",
	"memory.current": "1048576", "memory.peak": "2097152", "memory.swap.current": "4096", "memory.stat": "anon 8192\nfile 4096\n",
	"memory.events": "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n",
	"cpu.weight":    "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
	"cpu.stat":     "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 7\nnr_throttled 3\nthrottled_usec 40\n",
	"cpu.pressure": "some avg10=1.50 avg60=0.00 avg300=0.00 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=45\n",
	"cpuset.cpus":  "", "cpuset.mems": "",
	"pids.max": "max", "pids.current": "3",
	"io.weight": "default 100", "io.max": "", "io.stat": "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
	"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "2097152", "hugetlb.2MB.events": "max 5\n",
	"rdma.max": "", "misc.max": "",
}

func newFakeV2(t *testing.T) (*fs2Manager, *layout) {
	t.Helper()
	l := fakeLayout(t, Unified)
	m, err := newManager(l, "/outer/ctr", "x")
	if err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(l.unified.dir, "outer"))
	writeTestFile(t, filepath.Join(l.unified.dir, "outer", "cgroup.subtree_control"), "")
	writeTestFile(t, filepath.Join(l.unified.dir, "outer", "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc")
	populate(t, m, v2Files)
	return m.(*fs2Manager), l
}

func TestV2SetWritesEveryResource(t *testing.T) {
	m, l := newFakeV2(t)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20)), Swap: ptr(int64(96 << 20)),
			UseHierarchy: ptr(true), Kernel: ptr(int64(1 << 20))},
		CPU: &specs.LinuxCPU{Shares: ptr(uint64(1024)), Quota: ptr(int64(50000)), Period: ptr(uint64(200000)), Burst: ptr(uint64(1000)),
			Idle: ptr(int64(1)), Cpus: "0-1", Mems: "0"},
		Pids: &specs.LinuxPids{Limit: ptr(int64(-1))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500)),
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 40}}},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_1": {HcaObjects: ptr(uint32(9))}},
		Unified:        map[string]string{"memory.high": "50000000", "misc.max": "res_a 1"},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"memory.max": "67108864", "memory.low": "33554432", "memory.swap.max": "33554432", "memory.high": "50000000",
		"cpu.weight": "100", "cpu.max": "50000 200000", "cpu.max.burst": "1000", "cpu.idle": "1",
		"cpuset.cpus": "0-1", "cpuset.mems": "0", "pids.max": "max", "io.weight": "4950", "io.max": "8:0 wiops=40",
		"hugetlb.2MB.max": "4194304", "hugetlb.2MB.rsvd.max": "4194304", "rdma.max": "mlx5_1 hca_object=9", "misc.max": "res_a 1",
	}
	for name, v := range want {
		if got := readTestFile(t, filepath.Join(m.dir, name)); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	// Controllers were enabled at the mount and in "outer", not in the leaf.
	for _, dir := range []string{l.unified.dir, filepath.Join(l.unified.dir, "outer")} {
		if got := readTestFile(t, filepath.Join(dir, "cgroup.subtree_control")); !strings.HasPrefix(got, "+") {
			t.Errorf("%s/cgroup.subtree_control = %q, want controllers enabled", dir, got)
		}
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.subtree_control")); got != "" {
		t.Errorf("leaf subtree_control written: %q", got)
	}
}

func TestV2EnablesControllersOnTheWayDown(t *testing.T) {
	m, l := newFakeV2(t)
	writes := recordWrites(t)
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}}); err != nil {
		t.Fatal(err)
	}
	want := []string{"cgroup.subtree_control=+pids", "cgroup.subtree_control=+pids", "pids.max=10"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}
	writeTestFile(t, filepath.Join(l.unified.dir, "cgroup.controllers"), "cpu memory")
	err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}})
	if err == nil || !strings.Contains(err.Error(), "controller pids is not available") {
		t.Errorf("unavailable controller: got %v", err)
	}
}

func TestV2PeriodOnlyKeepsQuota(t *testing.T) {
	m, _ := newFakeV2(t)
	writeTestFile(t, filepath.Join(m.dir, "cpu.max"), "30000 100000\n")
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(50000))}}); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cpu.max")); got != "30000 50000" {
		t.Errorf("cpu.max = %q, want the quota kept", got)
	}
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(-1))}}); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cpu.max")); got != "max" {
		t.Errorf("cpu.max = %q, want max", got)
	}
}

func TestV2SwapEqualToMemoryDisablesSwap(t *testing.T) {
	m, _ := newFakeV2(t)
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20)), Swap: ptr(int64(1 << 20))}}); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "memory.swap.max")); got != "0" {
		t.Errorf("memory.swap.max = %q, want 0", got)
	}
}

func TestV2Errors(t *testing.T) {
	m, _ := newFakeV2(t)
	cases := []struct {
		name string
		r    specs.LinuxResources
		want string
	}{
		{"swappiness", specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(10))}}, "linux.resources.memory.swappiness"},
		{"kernelTCP", specs.LinuxResources{Memory: &specs.LinuxMemory{KernelTCP: ptr(int64(1 << 20))}}, "linux.resources.memory.kernelTCP"},
		{"oom killer", specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}}, "disableOOMKiller"},
		{"hierarchy", specs.LinuxResources{Memory: &specs.LinuxMemory{UseHierarchy: ptr(false)}}, "useHierarchy"},
		{"swap without limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr(int64(100))}}, "without a memory limit"},
		{"swap below limit", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(200)), Swap: ptr(int64(100))}}, "below the memory limit"},
		{"check before update", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1000)), CheckBeforeUpdate: ptr(true)}}, "below current usage 1048576"},
		{"realtime", specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(1))}}, "realtimeRuntime"},
		{"net_cls", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}}, "linux.resources.network"},
		{"leaf weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr(uint16(10))}}, "leafWeight"},
		{"weight device without bfq", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{Weight: ptr(uint16(10))}}}}, "BFQ"},
		{"unified slash", specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}}, "no \"/\""},
		{"unified dots", specs.LinuxResources{Unified: map[string]string{"memory..max": "1"}}, "no \"..\""},
		{"unified form", specs.LinuxResources{Unified: map[string]string{"memory": "1"}}, "CONTROLLER.PARAMETER"},
		{"unified missing file", specs.LinuxResources{Unified: map[string]string{"memory.nonexistent": "1"}}, "no such file"},
		{"unified no controller", specs.LinuxResources{Unified: map[string]string{"foo.bar": "1"}}, "controller foo is not available"},
		{"hugetlb page size", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "1GB", Limit: 1}}}, `page size "1GB" not supported`},
	}
	for _, c := range cases {
		err := m.Set(&c.r)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want error containing %q", c.name, err, c.want)
		}
	}
}

func TestSharesToWeight(t *testing.T) {
	cases := map[uint64]uint64{0: 0, 1: 1, 2: 1, 1024: 100, 262144: 10000, 300000: 10000, 512: 59, 2048: 174}
	for shares, want := range cases {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	cases := map[uint16]uint64{0: 0, 10: 1, 1000: 10000, 500: 4950}
	for w, want := range cases {
		if got := BlkioWeightToIOWeight(w); got != want {
			t.Errorf("BlkioWeightToIOWeight(%d) = %d, want %d", w, got, want)
		}
	}
}

func TestPidsMax(t *testing.T) {
	cases := map[int64]string{-1: "max", 0: "1", 1: "1", 4096: "4096"}
	for limit, want := range cases {
		if got := pidsMax(limit); got != want {
			t.Errorf("pidsMax(%d) = %q, want %q", limit, got, want)
		}
	}
}

func TestSwapToV2(t *testing.T) {
	cases := []struct{ swap, mem, want int64 }{
		{0, -1, -1}, {-1, 100, -1}, {0, 100, 0}, {300, 100, 200}, {100, 100, 0},
	}
	for _, c := range cases {
		got, err := SwapToV2(c.swap, c.mem)
		if err != nil || got != c.want {
			t.Errorf("SwapToV2(%d, %d) = %d, %v; want %d", c.swap, c.mem, got, err, c.want)
		}
	}
}

func TestV2FreezeKillStats(t *testing.T) {
	m, _ := newFakeV2(t)
	if s, err := m.FreezerState(); err != nil || s != Thawed {
		t.Fatalf("state %q, %v", s, err)
	}
	writeTestFile(t, filepath.Join(m.dir, "cgroup.events"), "populated 1\nfrozen 1\n")
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.freeze")); got != "1" {
		t.Errorf("cgroup.freeze = %q", got)
	}
	if s, err := m.FreezerState(); err != nil || s != Frozen {
		t.Errorf("state %q, %v", s, err)
	}
	if err := m.Kill(9); err != nil {
		t.Fatal(err)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.kill")); got != "1" {
		t.Errorf("cgroup.kill = %q, want 1 for SIGKILL", got)
	}
	if n, err := m.OOMKillCount(); err != nil || n != 1 {
		t.Errorf("OOMKillCount = %d, %v", n, err)
	}
	old := hugePagesDir
	hugePagesDir = t.TempDir()
	t.Cleanup(func() { hugePagesDir = old })
	mkdir(t, filepath.Join(hugePagesDir, "hugepages-2048kB"))
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPU.Usage.Total != 5000000 || st.CPU.Usage.User != 3000000 || st.CPU.Usage.Kernel != 2000000 || st.CPU.Throttling.ThrottledPeriods != 3 || st.CPU.Throttling.ThrottledTime != 40000 {
		t.Errorf("cpu stats %+v", st.CPU)
	}
	if st.CPU.PSI == nil || st.CPU.PSI.Some.Avg10 != 1.5 || st.CPU.PSI.Full.Total != 45 {
		t.Errorf("cpu psi %+v", st.CPU.PSI)
	}
	if st.Memory.Usage.Usage != 1048576 || st.Memory.Usage.Max != 2097152 || st.Memory.Usage.Limit != math.MaxUint64 || st.Memory.Cache != 4096 {
		t.Errorf("memory usage %+v", st.Memory)
	}
	if st.Memory.Swap.Usage != 1048576+4096 {
		t.Errorf("swap usage %d, want memory+swap", st.Memory.Swap.Usage)
	}
	if st.Pids.Current != 3 || st.Pids.Limit != math.MaxUint64 {
		t.Errorf("pids %+v", st.Pids)
	}
	wantIO := []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 8192}}
	if !reflect.DeepEqual(st.Blkio.IoServiceBytesRecursive, wantIO) {
		t.Errorf("io bytes %+v", st.Blkio.IoServiceBytesRecursive)
	}
	if h := st.Hugetlb["2MB"]; h.Usage != 2097152 || h.Failcnt != 5 {
		t.Errorf("hugetlb %+v", st.Hugetlb)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"cpu":{"usage":{"total":5000000`, `"ioServiceBytesRecursive":[`, `"hugetlb":{"2MB":{"usage":2097152,"failcnt":5}}`, `"pids":{"current":3,`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("stats JSON lacks %s: %s", key, b)
		}
	}
}

func TestV1Stats(t *testing.T) {
	m, _ := newFakeV1(t, Legacy)
	old := hugePagesDir
	hugePagesDir = t.TempDir()
	t.Cleanup(func() { hugePagesDir = old })
	mkdir(t, filepath.Join(hugePagesDir, "hugepages-2048kB"))
	writeTestFile(t, filepath.Join(m.paths["cpuset"], "cpuset.cpus"), "0-1,3\n")
	st, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.CPU.Usage.Total != 5e9 || st.CPU.Usage.User != 3e9 || st.CPU.Usage.Kernel != 2e9 ||
		!reflect.DeepEqual(st.CPU.Usage.Percpu, []uint64{3e9, 2e9}) || !reflect.DeepEqual(st.CPU.Usage.PercpuUser, []uint64{2000, 1500}) {
		t.Errorf("cpu usage %+v", st.CPU.Usage)
	}
	if st.CPU.Throttling.Periods != 5 || st.CPU.Throttling.ThrottledTime != 300 {
		t.Errorf("throttling %+v", st.CPU.Throttling)
	}
	if !reflect.DeepEqual(st.CPUSet.CPUs, []uint16{0, 1, 3}) || st.CPUSet.SchedLoadBalance != 1 {
		t.Errorf("cpuset %+v", st.CPUSet)
	}
	if st.Memory.Usage.Usage != 1048576 || st.Memory.Usage.Max != 2097152 || st.Memory.Cache != 4096 || st.Memory.Raw["rss"] != 8192 {
		t.Errorf("memory %+v", st.Memory)
	}
	if st.Pids.Current != 1 || st.Pids.Limit != math.MaxUint64 {
		t.Errorf("pids %+v", st.Pids)
	}
	want := []BlkioEntry{{8, 0, "Read", 4096}, {8, 0, "Write", 8192}}
	if !reflect.DeepEqual(st.Blkio.IoServiceBytesRecursive, want) {
		t.Errorf("blkio %+v", st.Blkio)
	}
	if _, ok := st.Hugetlb["2MB"]; !ok {
		t.Errorf("hugetlb %+v", st.Hugetlb)
	}
}

func TestPageSizeName(t *testing.T) {
	cases := map[uint64]string{2 << 20: "2MB", 1 << 30: "1GB", 64 << 10: "64KB", 1536 << 10: "1536KB"}
	for size, want := range cases {
		if got := pageSizeName(size); got != want {
			t.Errorf("pageSizeName(%d) = %q, want %q", size, got, want)
		}
	}
}

func TestV2ApplyEnablesAllAndJoins(t *testing.T) {
	m, l := newFakeV2(t)
	writeTestFile(t, filepath.Join(l.unified.dir, "cgroup.controllers"), "cpu memory")
	writeTestFile(t, filepath.Join(l.unified.dir, "cgroup.subtree_control"), "cpu")
	writeTestFile(t, filepath.Join(l.unified.dir, "outer", "cgroup.controllers"), "cpu memory")
	writes := recordWrites(t)
	if err := m.Apply(4321); err != nil {
		t.Fatal(err)
	}
	want := []string{"cgroup.subtree_control=+memory", "cgroup.subtree_control=+cpu", "cgroup.subtree_control=+memory", "cgroup.procs=4321"}
	if got := writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes %q, want %q", got, want)
	}
	if got := readTestFile(t, filepath.Join(m.dir, "cgroup.procs")); got != "4321" {
		t.Errorf("cgroup.procs = %q", got)
	}
	// In hybrid mode the cgroup2 root belongs to the host: nothing enabled.
	m.enableAll = false
	writes = recordWrites(t)
	if err := m.Apply(4321); err != nil {
		t.Fatal(err)
	}
	if got := writes(); !reflect.DeepEqual(got, []string{"cgroup.procs=4321"}) {
		t.Errorf("hybrid writes %q", got)
	}
}
