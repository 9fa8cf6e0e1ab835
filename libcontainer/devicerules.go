package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// defaultDevice is one entry of runc's default device list: an allow rule, and for the
// standard nodes the path where every container gets that node.
type defaultDevice struct {
	path         string // "" for a rule that comes with no node
	typ          string
	major, minor int64 // -1: any
	access       string
}

// defaultDevices is runc's list (specconv.AllowedDevices), in its order: any device node may be
// created (but not opened), the standard nodes, ptys and /dev/ptmx, and /dev/net/tun.
var defaultDevices = []defaultDevice{
	{"", "c", -1, -1, "m"}, {"", "b", -1, -1, "m"},
	{"/dev/null", "c", 1, 3, "rwm"}, {"/dev/random", "c", 1, 8, "rwm"},
	{"/dev/full", "c", 1, 7, "rwm"}, {"/dev/tty", "c", 5, 0, "rwm"},
	{"/dev/zero", "c", 1, 5, "rwm"}, {"/dev/urandom", "c", 1, 9, "rwm"},
	{"", "c", 136, -1, "rwm"}, {"", "c", 5, 2, "rwm"}, {"", "c", 10, 200, "rwm"},
}

// defaultsNotListed is defaultDevices without the standard nodes that linux.devices lists
// itself: as in runc, the config's entry takes the place of the default one, node and rule.
func defaultsNotListed(listed []specs.LinuxDevice) []defaultDevice {
	var out []defaultDevice
next:
	for _, d := range defaultDevices {
		for _, l := range listed {
			if d.path != "" && l.Path == d.path {
				continue next
			}
		}
		out = append(out, d)
	}
	return out
}

// defaultNodes are the standard device nodes a container's /dev gets besides linux.devices.
func defaultNodes(listed []specs.LinuxDevice) []specs.LinuxDevice {
	var out []specs.LinuxDevice
	for _, d := range defaultsNotListed(listed) {
		if d.path != "" {
			out = append(out, specs.LinuxDevice{Path: d.path, Type: d.typ, Major: d.major, Minor: d.minor})
		}
	}
	return out
}

// cgroupResources is linux.resources as applied to the cgroup, built as runc builds it: the
// config's device rules, then the default allow rules (defaultsNotListed). A node of
// linux.devices gets no rule of its own: it is created, but only these rules decide whether it
// can be opened, so a config that denies all and lists a node keeps that node closed.
func cgroupResources(spec *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if spec.Linux.Resources != nil {
		r = *spec.Linux.Resources
	}
	devs := append([]specs.LinuxDeviceCgroup{}, r.Devices...)
	for _, d := range defaultsNotListed(spec.Linux.Devices) {
		rule := specs.LinuxDeviceCgroup{Allow: true, Type: d.typ, Access: d.access}
		if d.major >= 0 {
			rule.Major = &d.major
		}
		if d.minor >= 0 {
			rule.Minor = &d.minor
		}
		devs = append(devs, rule)
	}
	r.Devices = devs
	return &r
}

// mknodDenied reports whether rules, the device rules the cgroup gets, refuse the mknod of a
// node the init makes in the container's /dev (linux.devices and the default nodes; none in a
// bind-mounted /dev). runc applies the rules only once its init has made the nodes, so such a
// node exists in its containers (opening it is refused, unless the rules deny "m" alone); husk
// then holds the rules back until the init has made them (see spawn).
func mknodDenied(spec *specs.Spec, rules []specs.LinuxDeviceCgroup) (bool, error) {
	if rules == nil || devIsBindMounted(spec.Mounts) {
		return false, nil
	}
	allows, err := cgroups.DeviceAccess(rules)
	if err != nil {
		return false, err
	}
	for _, nodes := range [][]specs.LinuxDevice{spec.Linux.Devices, defaultNodes(spec.Linux.Devices)} {
		for _, d := range nodes {
			typ := byte('c')
			switch d.Type {
			case "b":
				typ = 'b'
			case "p":
				continue // a FIFO is no device: the controller does not check its mknod
			}
			if !allows(typ, d.Major, d.Minor, "m") {
				return true, nil
			}
		}
	}
	return false, nil
}
