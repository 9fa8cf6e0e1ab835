package systemd

import (
	"fmt"
	"math"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// infinity is systemd's "no limit" for the uint64 properties (USEC_INFINITY, CGROUP_LIMIT_MAX).
const infinity = math.MaxUint64

// versionFunc returns the number of systemd's version (252 for "252.33-1~deb12u1"); it is
// only called when a property depends on it.
type versionFunc func() (int, error)

// propertyBuilder converts linux.resources into the unit properties that systemd knows, as
// runc does, so that systemd holds the same limits as the cgroup files husk writes next (and
// does not put its own values back when it re-applies a unit's settings, as on a
// daemon-reload). What systemd has no property for is only written to the files.
type propertyBuilder struct {
	v2      bool        // cgroup v2 (unified) names; else v1's
	version versionFunc // systemd's version
	// current returns the quota and period in force; asked only when an update changes
	// one of them and not the other.
	current func() (cgroups.CPUMax, error)
	props   []sd.Property
}

func (b *propertyBuilder) add(name string, value any) {
	b.props = append(b.props, newProp(name, value))
}

func newProp(name string, value any) sd.Property {
	return sd.Property{Name: name, Value: dbus.MakeVariant(value)}
}

// atLeast reports whether systemd is version v or newer.
func (b *propertyBuilder) atLeast(v int) (bool, error) {
	have, err := b.version()
	if err != nil {
		return false, err
	}
	return have >= v, nil
}

// limit is a spec limit as a systemd uint64: a negative one is "infinity".
func limit(v int64) uint64 {
	if v < 0 {
		return infinity
	}
	return uint64(v)
}

// resourceProperties returns the properties for r; nil r or nothing systemd knows gives none.
func (b *propertyBuilder) resourceProperties(r *specs.LinuxResources) ([]sd.Property, error) {
	if r == nil {
		return nil, nil
	}
	steps := []func(*specs.LinuxResources) error{b.devices, b.memory, b.cpu, b.cpuset, b.pids, b.io}
	if b.v2 {
		// Last, as in the files: raw unified values override the fields above.
		steps = append(steps, b.unified)
	}
	for _, step := range steps {
		if err := step(r); err != nil {
			return nil, err
		}
	}
	return b.props, nil
}

func (b *propertyBuilder) memory(r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	lim, swap, low := deref(m.Limit), deref(m.Swap), deref(m.Reservation)
	if !b.v2 {
		if lim != 0 {
			b.add("MemoryLimit", limit(lim))
		}
		return nil
	}
	if lim != 0 {
		b.add("MemoryMax", limit(lim))
	}
	if low != 0 {
		b.add("MemoryLow", limit(low))
	}
	swapV2, err := cgroups.SwapToV2(swap, lim)
	if err != nil {
		return err
	}
	switch {
	case swapV2 != 0:
		b.add("MemorySwapMax", limit(swapV2))
	case swap > 0:
		// memory+swap equal to memory: no swap at all (runc leaves systemd's default, which
		// would put "max" back).
		b.add("MemorySwapMax", uint64(0))
	}
	return nil
}

// pids sets TasksMax as the files get pids.max.
func (b *propertyBuilder) pids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	b.add("TasksMax", limit(cgroups.PidsLimit(*r.Pids.Limit)))
	return nil
}

// ioEntry is a(st): a device path and a number, the D-Bus shape of IODeviceWeight and the
// IO*Max properties.
type ioEntry struct {
	Path  string
	Value uint64
}

func blockDevice(major, minor int64) string {
	return fmt.Sprintf("/dev/block/%d:%d", major, minor)
}

func (b *propertyBuilder) io(r *specs.LinuxResources) error {
	io := r.BlockIO
	if io == nil {
		return nil
	}
	if !b.v2 {
		if io.Weight != nil && *io.Weight != 0 {
			b.add("BlockIOWeight", uint64(*io.Weight))
		}
		return nil
	}
	if io.Weight != nil && *io.Weight != 0 {
		b.add("IOWeight", cgroups.BlkioWeightToIOWeight(*io.Weight))
	}
	var weights []ioEntry
	for _, wd := range io.WeightDevice {
		if wd.Weight != nil && *wd.Weight != 0 {
			weights = append(weights, ioEntry{blockDevice(wd.Major, wd.Minor), cgroups.BlkioWeightToIOWeight(*wd.Weight)})
		}
	}
	if weights != nil {
		b.add("IODeviceWeight", weights)
	}
	throttles := []struct {
		prop string
		devs []specs.LinuxThrottleDevice
	}{
		{"IOReadBandwidthMax", io.ThrottleReadBpsDevice},
		{"IOWriteBandwidthMax", io.ThrottleWriteBpsDevice},
		{"IOReadIOPSMax", io.ThrottleReadIOPSDevice},
		{"IOWriteIOPSMax", io.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		var entries []ioEntry
		for _, d := range t.devs {
			entries = append(entries, ioEntry{blockDevice(d.Major, d.Minor), d.Rate})
		}
		if entries != nil {
			b.add(t.prop, entries)
		}
	}
	return nil
}

// deref is *p, or zero ("unset" in the spec) for nil.
func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}
