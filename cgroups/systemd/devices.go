package systemd

import (
	"strconv"
	"strings"

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
// filter comes on top of it: an access must pass both. So the properties allow at least what
// the rules do, exactly where systemd's syntax can say it:
//   - the rules are in order and the last match decides, so a rule for every device
//     ("a *:* rwm") makes the ones before it irrelevant; if the last such rule allows, every
//     device is allowed (DevicePolicy=auto, no list): systemd has no deny lists;
//   - otherwise the policy is strict and each allow rule after it is listed; later deny
//     rules narrow what husk's filter allows and are left to it;
//   - a rule systemd cannot name (a wildcard major with a given minor, or a given device on
//     systemd before v240) is widened to the whole type ("char-*").
//
// nil devices leave the unit's device settings alone (update).
func (b *propertyBuilder) devices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	rules, err := cgroups.DeviceRules(r.Devices)
	if err != nil {
		return err
	}
	// Type 'a' is left only on rules for every device.
	start := 0
	for i, rule := range rules {
		if rule.Type == 'a' {
			start = i
		}
	}
	if len(rules) > 0 && rules[start].Type == 'a' && rules[start].Allow {
		b.add("DevicePolicy", "auto")
		b.add("DeviceAllow", []deviceAllow{})
		return nil
	}
	var list []deviceAllow
	index := map[string]int{}
	for _, rule := range rules[start:] {
		if !rule.Allow || rule.Type == 'a' {
			continue
		}
		path, err := b.devicePath(rule.Type, rule.Major, rule.Minor)
		if err != nil {
			return err
		}
		if i, ok := index[path]; ok {
			list[i].Perms = mergeAccess(list[i].Perms, rule.Access)
			continue
		}
		index[path] = len(list)
		list = append(list, deviceAllow{Path: path, Perms: rule.Access})
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

// mergeAccess is the union of two access strings, in "rwm" order.
func mergeAccess(a, b string) string {
	var out []byte
	for _, c := range []byte("rwm") {
		if strings.IndexByte(a, c) >= 0 || strings.IndexByte(b, c) >= 0 {
			out = append(out, c)
		}
	}
	return string(out)
}
