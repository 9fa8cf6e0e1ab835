package systemd

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A unit name read back from state.json is checked before it is ever sent to systemd.
func TestLoadRefusesUnitNames(t *testing.T) {
	for _, unit := range []string{"", "husk-x.service", "a/b.scope", "x y.scope", "husk-x.scope\n"} {
		_, err := Load(unit, map[string]string{"": "/sys/fs/cgroup/system.slice/" + unit}, false)
		if err == nil || !strings.Contains(err.Error(), "not a scope or slice name") {
			t.Errorf("Load(%q): %v", unit, err)
		}
	}
}

// A slice starts as a scope does, at the Apply with the init's pid, and the limits Set gave
// meanwhile go with its StartTransientUnit call: Apply(-1) asks nothing of systemd (here any
// call would fail: the user's instance on a bus that does not exist).
func TestSliceStartsWithItsLimits(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/husktest-bus")
	useInstance(true)
	defer useInstance(false)
	m := &Manager{place: placement{unit: "husktest-a.slice", slice: "husktest.slice", dir: "/husktest.slice/husktest-a.slice"}, id: "a", v2: true}
	if err := m.Apply(-1); err != nil || m.started {
		t.Fatalf("Apply(-1) of a slice: started %v, %v", m.started, err)
	}
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20)}}); err != nil {
		t.Fatal(err)
	}
	props, limits, err := m.startProperties(4242)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range append(props, limits...) {
		got[p.Name] = p.Value.Value()
	}
	if got["Wants"] == nil || got["MemoryMax"] != uint64(1<<20) || got["PIDs"] != nil {
		t.Errorf("a slice starts with %v; want Wants=, MemoryMax=1048576 and no PIDs=", got)
	}
}
