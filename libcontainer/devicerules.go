package libcontainer

import specs "github.com/opencontainers/runtime-spec/specs-go"

func devRule(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
	if major >= 0 {
		r.Major = &major
	}
	if minor >= 0 {
		r.Minor = &minor
	}
	return r
}

// defaultDeviceRules are allowed after the config's own rules, as runc does: any device node
// may be created (but not opened), the default devices, ptys and the console, and /dev/net/tun.
var defaultDeviceRules = []specs.LinuxDeviceCgroup{
	devRule("c", -1, -1, "m"), devRule("b", -1, -1, "m"),
	devRule("c", 1, 3, "rwm"), devRule("c", 1, 8, "rwm"), devRule("c", 1, 7, "rwm"),
	devRule("c", 5, 0, "rwm"), devRule("c", 1, 5, "rwm"), devRule("c", 1, 9, "rwm"),
	devRule("c", 5, 1, "rwm"), devRule("c", 136, -1, "rwm"), devRule("c", 5, 2, "rwm"),
	devRule("c", 10, 200, "rwm"),
}

// cgroupResources is linux.resources as applied to the cgroup: the device rules get the
// defaults and an allow rule for every device in linux.devices appended.
func cgroupResources(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	devs := append([]specs.LinuxDeviceCgroup{}, r.Devices...)
	devs = append(devs, defaultDeviceRules...)
	for _, d := range spec.Linux.Devices {
		typ := d.Type
		if typ == "u" {
			typ = "c"
		}
		if typ == "p" {
			continue // fifos are not device-controlled
		}
		devs = append(devs, devRule(typ, d.Major, d.Minor, "rwm"))
	}
	r.Devices = devs
	return &r
}
