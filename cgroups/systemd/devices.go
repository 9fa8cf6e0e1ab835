package systemd

import (
	"log/slog"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// deviceAllow is a(ss), one DeviceAllow= entry: a device (path, "char-*", "block-8") and
// its access ("rwm").
type deviceAllow struct {
	Path  string
	Perms string
}

const wildcard = -1

// devices sets DevicePolicy= and DeviceAllow= from linux.resources.devices. husk still
// programs the device controller itself (the eBPF filter or the v1 lists), and systemd's
// filter comes on top of it: an access must pass both. systemd also re-applies its settings
// to a v1 devices cgroup on a daemon-reload, replacing husk's lists, so the properties say
// what the device controller holds after the rules (cgroups.DeviceState), as far as
// systemd's syntax can:
//   - every device allowed but some (a deny list): systemd has no deny lists. On v2 its
//     filter allows all (DevicePolicy=auto, no list) and husk's own eBPF filter, attached
//     next to systemd's, denies the exceptions. On v1 the devices cgroup holds one list,
//     which a reload would reset to "allow all" (the exceptions lost): there the unit gets
//     DevicePolicy=strict and no list, as runc's, so husk's lists hold until a reload and a
//     reload then denies every device (the container loses its devices, nothing more);
//   - every device denied but some: DevicePolicy=strict, those listed;
//   - a device systemd cannot name (a wildcard major with a given minor, or a given device on
//     systemd before v240) is widened to the whole type ("char-*").
//
// nil devices leave the unit's device settings alone (update).
func (b *propertyBuilder) devices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	defaultAllow, exceptions, err := cgroups.DeviceState(r.Devices)
	if err != nil {
		return err
	}
	if defaultAllow {
		policy := "auto"
		if !b.v2 && len(exceptions) > 0 {
			policy = "strict"
			slog.Warn("systemd has no deny lists for a v1 devices cgroup: the unit denies every device, so after a systemd daemon-reload the container has none (husk's own rules hold until then)")
		}
		b.add("DevicePolicy", policy)
		b.add("DeviceAllow", []deviceAllow{})
		return nil
	}
	var list []deviceAllow
	index := map[string]int{}
	for _, e := range exceptions {
		path, err := b.devicePath(e.Type, e.Major, e.Minor)
		if err != nil {
			return err
		}
		if i, ok := index[path]; ok {
			list[i].Perms = cgroups.AccessUnion(list[i].Perms, e.Access)
			continue
		}
		index[path] = len(list)
		list = append(list, deviceAllow{Path: path, Perms: e.Access})
	}
	b.add("DevicePolicy", "strict")
	// An empty list first: DeviceAllow= adds to what the unit has.
	b.add("DeviceAllow", []deviceAllow{})
	if list != nil {
		b.add("DeviceAllow", list)
	}
	return nil
}

// devicePath names a device or a group of them in DeviceAllow= syntax.
func (b *propertyBuilder) devicePath(typ byte, major, minor int64) (string, error) {
	group := "char-"
	dir := "/dev/char/"
	if typ == 'b' {
		group, dir = "block-", "/dev/block/"
	}
	if major == wildcard {
		return group + "*", nil
	}
	// "char-MAJOR" and /dev/char/M:m paths for devices that need not exist came in v240.
	ok, err := b.atLeast(240)
	if err != nil {
		return "", err
	}
	switch {
	case !ok:
		return group + "*", nil
	case minor == wildcard:
		return group + strconv.FormatInt(major, 10), nil
	}
	return dir + strconv.FormatInt(major, 10) + ":" + strconv.FormatInt(minor, 10), nil
}
