package systemd

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// build runs the conversion for systemd version ver, with cur as the quota and period in force.
func build(t *testing.T, v2 bool, ver int, cur cgroups.CPUMax, r *specs.LinuxResources) map[string][]any {
	t.Helper()
	props, err := buildProps(v2, ver, cur, r)
	if err != nil {
		t.Fatalf("resourceProperties: %v", err)
	}
	return props
}

// buildProps returns each property's values in the order they were added (DeviceAllow is
// given twice).
func buildProps(v2 bool, ver int, cur cgroups.CPUMax, r *specs.LinuxResources) (map[string][]any, error) {
	b := propertyBuilder{
		v2:      v2,
		version: func() (int, error) { return ver, nil },
		current: func() (cgroups.CPUMax, error) { return cur, nil },
	}
	props, err := b.resourceProperties(r)
	if err != nil {
		return nil, err
	}
	out := map[string][]any{}
	for _, p := range props {
		out[p.Name] = append(out[p.Name], p.Value.Value())
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

func checkProps(t *testing.T, got map[string][]any, want map[string]any) {
	t.Helper()
	for name, w := range want {
		vals := got[name]
		if len(vals) == 0 {
			t.Errorf("%s not set; got %v", name, got)
			continue
		}
		if last := vals[len(vals)-1]; !reflect.DeepEqual(last, w) {
			t.Errorf("%s = %#v, want %#v", name, last, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected property %s = %v", name, got[name])
		}
	}
}

func TestMemoryProperties(t *testing.T) {
	cases := []struct {
		mem  specs.LinuxMemory
		v2   map[string]any
		v1   map[string]any
		name string
	}{
		{name: "limit, reservation and swap",
			mem: specs.LinuxMemory{Limit: ptr[int64](100 << 20), Reservation: ptr[int64](50 << 20), Swap: ptr[int64](300 << 20)},
			v2:  map[string]any{"MemoryMax": uint64(100 << 20), "MemoryLow": uint64(50 << 20), "MemorySwapMax": uint64(200 << 20)},
			v1:  map[string]any{"MemoryLimit": uint64(100 << 20)}},
		{name: "unlimited",
			mem: specs.LinuxMemory{Limit: ptr[int64](-1)},
			v2:  map[string]any{"MemoryMax": uint64(infinity), "MemorySwapMax": uint64(infinity)},
			v1:  map[string]any{"MemoryLimit": uint64(infinity)}},
		{name: "swap equal to memory: no swap",
			mem: specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](64 << 20)},
			v2:  map[string]any{"MemoryMax": uint64(64 << 20), "MemorySwapMax": uint64(0)},
			v1:  map[string]any{"MemoryLimit": uint64(64 << 20)}},
		{name: "swap unlimited",
			mem: specs.LinuxMemory{Limit: ptr[int64](64 << 20), Swap: ptr[int64](-1)},
			v2:  map[string]any{"MemoryMax": uint64(64 << 20), "MemorySwapMax": uint64(infinity)},
			v1:  map[string]any{"MemoryLimit": uint64(64 << 20)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &specs.LinuxResources{Memory: &c.mem}
			checkProps(t, build(t, true, 252, defaultCPUMax, r), c.v2)
			checkProps(t, build(t, false, 252, defaultCPUMax, r), c.v1)
		})
	}
	_, err := buildProps(true, 252, defaultCPUMax, &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr[int64](100)}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.memory.swap") {
		t.Errorf("swap without a memory limit: %v", err)
	}
}

func TestCPUProperties(t *testing.T) {
	v2 := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{
		Shares: ptr[uint64](1024), Quota: ptr[int64](50000), Period: ptr[uint64](100000)}})
	checkProps(t, v2, map[string]any{"CPUWeight": uint64(100), "CPUQuotaPerSecUSec": uint64(500000), "CPUQuotaPeriodUSec": uint64(100000)})

	v1 := build(t, false, 252, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](512)}})
	checkProps(t, v1, map[string]any{"CPUShares": uint64(512)})

	// cpu.idle 1 is CPUWeight=0 from v252 on, instead of the weight.
	idle := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1024), Idle: ptr[int64](1)}})
	checkProps(t, idle, map[string]any{"CPUWeight": uint64(0)})
	if len(idle["CPUWeight"]) != 1 {
		t.Errorf("CPUWeight set %d times with cpu.idle: %v", len(idle["CPUWeight"]), idle["CPUWeight"])
	}
	old := build(t, true, 251, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1024), Idle: ptr[int64](1)}})
	checkProps(t, old, map[string]any{"CPUWeight": uint64(100)})
}

func TestCPUQuotaProperties(t *testing.T) {
	cases := []struct {
		name          string
		quota         *int64
		period        *uint64
		cur           cgroups.CPUMax
		ver           int
		perSec, perio any // nil: not set
	}{
		{"quota and period", ptr[int64](4000), ptr[uint64](10000), defaultCPUMax, 252, uint64(400000), uint64(10000)},
		// rounded up to 10 ms per second, as runc does
		{"fraction of a percent", ptr[int64](12345), ptr[uint64](100000), defaultCPUMax, 252, uint64(130000), uint64(100000)},
		{"no quota", ptr[int64](-1), nil, defaultCPUMax, 252, uint64(infinity), nil},
		// a quota alone is over the period in force
		{"quota alone", ptr[int64](25000), nil, cgroups.CPUMax{Quota: -1, Period: 50000}, 252, uint64(500000), nil},
		// a period alone keeps the quota in force, as the files do
		{"period alone", nil, ptr[uint64](200000), cgroups.CPUMax{Quota: 50000, Period: 100000}, 252, uint64(250000), uint64(200000)},
		{"period alone, no quota", nil, ptr[uint64](200000), defaultCPUMax, 252, uint64(infinity), uint64(200000)},
		// CPUQuotaPeriodUSec came in v242
		{"old systemd", ptr[int64](50000), ptr[uint64](100000), defaultCPUMax, 241, uint64(500000), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := build(t, true, c.ver, c.cur, &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: c.quota, Period: c.period}})
			want := map[string]any{"CPUQuotaPerSecUSec": c.perSec}
			if c.perio != nil {
				want["CPUQuotaPeriodUSec"] = c.perio
			}
			checkProps(t, got, want)
		})
	}
	// Nothing asked of the cgroup when both are given.
	b := propertyBuilder{v2: true, version: func() (int, error) { return 252, nil },
		current: func() (cgroups.CPUMax, error) { return cgroups.CPUMax{}, errors.New("must not be read") }}
	if _, err := b.resourceProperties(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr[int64](1), Period: ptr[uint64](1000)}}); err != nil {
		t.Error(err)
	}
}

func TestCpusetProperties(t *testing.T) {
	got := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-2,9", Mems: "0"}})
	checkProps(t, got, map[string]any{"AllowedCPUs": []byte{0x07, 0x02}, "AllowedMemoryNodes": []byte{0x01}})
	// AllowedCPUs came in v244; older ones only get the files.
	checkProps(t, build(t, true, 243, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0"}}), map[string]any{})
	_, err := buildProps(true, 252, defaultCPUMax, &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "1-x"}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.cpu.cpus") {
		t.Errorf("bad cpus: %v", err)
	}
}

func TestListToMask(t *testing.T) {
	for in, want := range map[string][]byte{
		"0":        {0x01},
		"7":        {0x80},
		"8":        {0x00, 0x01},
		"0-3,5":    {0x2f},
		" 1 , 3-4": {0x1a},
		"0-15":     {0xff, 0xff},
	} {
		if got, err := listToMask(in); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("listToMask(%q) = %x, %v; want %x", in, got, err, want)
		}
	}
	for _, in := range []string{"", ",", "a", "3-1", "-1", "1-", "99999"} {
		if _, err := listToMask(in); err == nil {
			t.Errorf("listToMask(%q) accepted", in)
		}
	}
}

func TestPidsProperties(t *testing.T) {
	for limit, want := range map[int64]uint64{100: 100, -1: infinity, 0: 1} {
		got := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(limit)}})
		checkProps(t, got, map[string]any{"TasksMax": want})
	}
}

func TestIOProperties(t *testing.T) {
	io := &specs.LinuxBlockIO{
		Weight:                ptr[uint16](500),
		WeightDevice:          []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: ptr[uint16](100)}},
		ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1048576}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 100},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 200},
		},
	}
	got := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{BlockIO: io})
	checkProps(t, got, map[string]any{
		"IOWeight":           uint64(4950),
		"IODeviceWeight":     []ioEntry{{"/dev/block/8:0", 910}},
		"IOReadBandwidthMax": []ioEntry{{"/dev/block/8:0", 1048576}},
		"IOWriteIOPSMax":     []ioEntry{{"/dev/block/8:0", 100}, {"/dev/block/8:16", 200}},
	})
	checkProps(t, build(t, false, 252, defaultCPUMax, &specs.LinuxResources{BlockIO: io}), map[string]any{"BlockIOWeight": uint64(500)})
}

func TestUnifiedProperties(t *testing.T) {
	got := build(t, true, 252, cgroups.CPUMax{Quota: -1, Period: 100000}, &specs.LinuxResources{Unified: map[string]string{
		"memory.high":     "1000000",
		"memory.min":      " 4096\n",
		"memory.swap.max": "max",
		"pids.max":        "42",
		"cpu.weight":      "300",
		"cpu.max":         "20000 50000",
		"cpuset.cpus":     "1",
		"io.max":          "8:0 rbps=1000", // no property: the file only
	}})
	checkProps(t, got, map[string]any{
		"MemoryHigh": uint64(1000000), "MemoryMin": uint64(4096), "MemorySwapMax": uint64(infinity),
		"TasksMax": uint64(42), "CPUWeight": uint64(300), "CPUQuotaPerSecUSec": uint64(400000),
		"CPUQuotaPeriodUSec": uint64(50000), "AllowedCPUs": []byte{0x02},
	})
	// unified comes last, over the fields.
	over := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](1 << 20)},
		Unified: map[string]string{"memory.max": "2097152"},
	})
	if m := over["MemoryMax"]; len(m) != 2 || m[1] != uint64(2<<20) {
		t.Errorf("MemoryMax = %v, want the unified value last", m)
	}
	// cpu.idle 1 wins over cpu.weight.
	idle := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{Unified: map[string]string{"cpu.idle": "1", "cpu.weight": "300"}})
	checkProps(t, idle, map[string]any{"CPUWeight": uint64(0)})
	if len(idle["CPUWeight"]) != 1 {
		t.Errorf("CPUWeight set %d times with cpu.idle: %v", len(idle["CPUWeight"]), idle["CPUWeight"])
	}
	// Before v252 systemd cannot say cpu.idle (the file gets it): the weight is still given,
	// as runc does, and as for linux.resources.cpu.idle.
	oldIdle := build(t, true, 251, defaultCPUMax, &specs.LinuxResources{Unified: map[string]string{"cpu.idle": "1", "cpu.weight": "300"}})
	checkProps(t, oldIdle, map[string]any{"CPUWeight": uint64(300)})
	for k, v := range map[string]string{"memory.max": "lots", "cpu.weight": "-1", "cpu.max": "1 2 3", "cpuset.mems": "x"} {
		_, err := buildProps(true, 252, defaultCPUMax, &specs.LinuxResources{Unified: map[string]string{k: v}})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("linux.resources.unified[%q]", k)) {
			t.Errorf("unified %s=%q: %v", k, v, err)
		}
	}
}

func TestOOMPolicy(t *testing.T) {
	for v, want := range map[string]string{"1": "kill", "0": "continue", " 1\n": "kill", "2": ""} {
		if got := oomPolicy(&specs.LinuxResources{Unified: map[string]string{"memory.oom.group": v}}); got != want {
			t.Errorf("memory.oom.group %q: OOMPolicy %q, want %q", v, got, want)
		}
	}
	if got := oomPolicy(&specs.LinuxResources{}); got != "" {
		t.Errorf("no memory.oom.group: OOMPolicy %q", got)
	}
}

func dev(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major != wildcard {
		d.Major = &major
	}
	if minor != wildcard {
		d.Minor = &minor
	}
	return d
}

func TestDeviceProperties(t *testing.T) {
	// husk's default rules after the config's deny-all, as create applies them.
	defaults := []specs.LinuxDeviceCgroup{
		dev(false, "a", wildcard, wildcard, "rwm"),
		dev(true, "c", wildcard, wildcard, "m"), dev(true, "b", wildcard, wildcard, "m"),
		dev(true, "c", 1, 3, "rwm"), dev(true, "c", 136, wildcard, "rwm"), dev(true, "c", 1, 3, "rw"),
	}
	cases := []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		ver    int
		policy string
		allow  []deviceAllow
	}{
		{"defaults", defaults, 252, "strict", []deviceAllow{
			{"char-*", "m"}, {"block-*", "m"}, {"/dev/char/1:3", "rwm"}, {"char-136", "rwm"}}},
		{"old systemd widens to the type", defaults, 239, "strict", []deviceAllow{
			{"char-*", "rwm"}, {"block-*", "m"}}},
		{"nothing allowed", []specs.LinuxDeviceCgroup{dev(false, "", wildcard, wildcard, "")}, 252, "strict", nil},
		{"allow all", []specs.LinuxDeviceCgroup{dev(true, "a", wildcard, wildcard, "rwm")}, 252, "auto", []deviceAllow{}},
		// a deny list after allow-all: systemd has none, husk's own filter denies
		{"deny after allow all", []specs.LinuxDeviceCgroup{dev(true, "a", wildcard, wildcard, "rwm"), dev(false, "c", 1, 3, "rwm")}, 252, "auto", []deviceAllow{}},
		// rules before the last deny-all do not count
		{"reset by deny all", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 5, "rwm"), dev(false, "a", wildcard, wildcard, "rwm"), dev(true, "b", 8, 0, "r")}, 252, "strict",
			[]deviceAllow{{"/dev/block/8:0", "r"}}},
		// a wildcard major with a given minor cannot be said: the whole type
		{"wildcard major", []specs.LinuxDeviceCgroup{dev(true, "c", wildcard, 7, "mr")}, 252, "strict", []deviceAllow{{"char-*", "rm"}}},
		// the list is what the device controller holds after the rules: a later deny takes
		// its access away (systemd re-applies the list to a v1 devices cgroup on a reload)
		{"deny after allow narrows", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 200, "rwm"), dev(false, "c", 1, 200, "w")}, 252, "strict",
			[]deviceAllow{{"/dev/char/1:200", "rm"}}},
		{"deny after allow removes", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 200, "rw"), dev(true, "b", 8, 0, "r"), dev(false, "c", 1, 200, "rwm")}, 252, "strict",
			[]deviceAllow{{"/dev/block/8:0", "r"}}},
		{"old systemd, deny after allow", []specs.LinuxDeviceCgroup{dev(true, "c", 1, 200, "rwm"), dev(false, "c", 1, 200, "wm"), dev(true, "c", 1, 201, "m")}, 239, "strict",
			[]deviceAllow{{"char-*", "rm"}}},
		// "a" that is not everything is both types
		{"type a", []specs.LinuxDeviceCgroup{dev(true, "a", wildcard, wildcard, "r")}, 252, "strict", []deviceAllow{{"block-*", "r"}, {"char-*", "r"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := build(t, true, c.ver, defaultCPUMax, &specs.LinuxResources{Devices: c.rules})
			if p := got["DevicePolicy"]; len(p) != 1 || p[0] != c.policy {
				t.Errorf("DevicePolicy = %v, want %s", p, c.policy)
			}
			allow := got["DeviceAllow"]
			if len(allow) == 0 || !reflect.DeepEqual(allow[0], []deviceAllow{}) {
				t.Fatalf("DeviceAllow does not start empty: %v", allow)
			}
			var last []deviceAllow
			if len(allow) > 1 {
				last = allow[len(allow)-1].([]deviceAllow)
			}
			if c.allow != nil && len(c.allow) == 0 {
				c.allow = nil
			}
			if !reflect.DeepEqual(last, c.allow) {
				t.Errorf("DeviceAllow = %v, want %v", last, c.allow)
			}
		})
	}
	// On v1 systemd writes its list to the one devices cgroup on a reload: a deny list it
	// cannot say becomes deny-all there (a reload must never allow what the rules deny);
	// allow-all stays auto.
	for _, c := range []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		policy string
	}{
		{"v1 deny after allow all", []specs.LinuxDeviceCgroup{dev(true, "a", wildcard, wildcard, "rwm"), dev(false, "c", 1, 3, "rw")}, "strict"},
		{"v1 allow all", []specs.LinuxDeviceCgroup{dev(true, "a", wildcard, wildcard, "rwm")}, "auto"},
	} {
		got := build(t, false, 252, defaultCPUMax, &specs.LinuxResources{Devices: c.rules})
		if p := got["DevicePolicy"]; len(p) != 1 || p[0] != c.policy {
			t.Errorf("%s: DevicePolicy = %v, want %s", c.name, p, c.policy)
		}
		if a := got["DeviceAllow"]; len(a) != 1 || !reflect.DeepEqual(a[0], []deviceAllow{}) {
			t.Errorf("%s: DeviceAllow = %v, want one empty list", c.name, a)
		}
	}
	// The D-Bus type of the list is systemd's a(ss).
	if sig := dbus.MakeVariant([]deviceAllow{}).Signature().String(); sig != "a(ss)" {
		t.Errorf("DeviceAllow signature %s", sig)
	}
	if sig := dbus.MakeVariant([]ioEntry{}).Signature().String(); sig != "a(st)" {
		t.Errorf("IO entry signature %s", sig)
	}
	// nil devices (update) leave the unit's alone.
	if got := build(t, true, 252, defaultCPUMax, &specs.LinuxResources{}); len(got) != 0 {
		t.Errorf("no resources gave %v", got)
	}
	for _, bad := range []specs.LinuxDeviceCgroup{dev(true, "x", 1, 1, "r"), dev(true, "c", 1, 1, "rx"), dev(true, "c", -5, 1, "r")} {
		_, err := buildProps(true, 252, defaultCPUMax, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{bad}})
		if err == nil || !strings.Contains(err.Error(), "linux.resources.devices[0]") {
			t.Errorf("rule %+v: %v", bad, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]int{`"252.33-1~deb12u1"`: 252, `"v245.4-1.fc32"`: 245, "239": 239} {
		if got, err := parseVersion(in); err != nil || got != want {
			t.Errorf("parseVersion(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseVersion(`"abc"`); err == nil {
		t.Error("parseVersion accepted a version without a number")
	}
}
