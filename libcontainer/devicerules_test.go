package libcontainer

import (
	"fmt"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func ruleString(r specs.LinuxDeviceCgroup) string {
	num := func(n *int64) string {
		if n == nil {
			return "*"
		}
		return fmt.Sprint(*n)
	}
	verb := "deny"
	if r.Allow {
		verb = "allow"
	}
	typ := r.Type
	if typ == "" {
		typ = "a"
	}
	return fmt.Sprintf("%s %s %s:%s %s", verb, typ, num(r.Major), num(r.Minor), r.Access)
}

// The cgroup gets the config's rules, then runc's default allow list without the rule of a
// standard node that linux.devices lists; a listed node never gets a rule of its own.
func TestCgroupResourcesDeviceRules(t *testing.T) {
	one := int64(1)
	eleven := int64(11)
	defaults := []string{"allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:8 rwm",
		"allow c 1:7 rwm", "allow c 5:0 rwm", "allow c 1:5 rwm", "allow c 1:9 rwm",
		"allow c 136:* rwm", "allow c 5:2 rwm", "allow c 10:200 rwm"}
	cases := []struct {
		name      string
		resources *specs.LinuxResources
		devices   []specs.LinuxDevice
		want      []string
	}{
		{"no resources: the defaults", nil, nil, defaults},
		{"deny all first", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}, nil,
			append([]string{"deny a *:* rwm"}, defaults...)},
		{"a listed node gets no rule", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			[]specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}, {Path: "/dev/fifo", Type: "p"}},
			append([]string{"deny a *:* rwm"}, defaults...)},
		{"the config's allow for a listed node", &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &one, Minor: &eleven, Access: "r"}}},
			[]specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}},
			append([]string{"deny a *:* rwm", "allow c 1:11 r"}, defaults...)},
		{"a listed standard node drops its default rule", nil,
			[]specs.LinuxDevice{{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5}, {Path: "/dev/tty", Type: "c", Major: 5, Minor: 0}},
			[]string{"allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:8 rwm", "allow c 1:7 rwm",
				"allow c 1:9 rwm", "allow c 136:* rwm", "allow c 5:2 rwm", "allow c 10:200 rwm"}},
		{"a standard number at another path keeps the default", nil,
			[]specs.LinuxDevice{{Path: "/dev/mynull", Type: "c", Major: 1, Minor: 3}}, defaults},
	}
	for _, tc := range cases {
		spec := &specs.Spec{Linux: &specs.Linux{Resources: tc.resources, Devices: tc.devices}}
		var got []string
		for _, r := range cgroupResources(spec).Devices {
			got = append(got, ruleString(r))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// The standard nodes are made unless linux.devices lists the same path.
func TestDefaultNodes(t *testing.T) {
	paths := func(devs []specs.LinuxDevice) []string {
		var out []string
		for _, d := range devs {
			out = append(out, d.Path)
		}
		return out
	}
	all := []string{"/dev/null", "/dev/random", "/dev/full", "/dev/tty", "/dev/zero", "/dev/urandom"}
	if got := paths(defaultNodes(nil)); !reflect.DeepEqual(got, all) {
		t.Errorf("defaultNodes(nil) = %q, want %q", got, all)
	}
	got := paths(defaultNodes([]specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}, {Path: "/dev/kmsg"}}))
	if want := all[1:]; !reflect.DeepEqual(got, want) {
		t.Errorf("with /dev/null listed: %q, want %q", got, want)
	}
}

// The device rules are held back only when they would refuse the mknod of a node the init
// makes: a linux.devices entry or a default node, never a FIFO, none in a bind-mounted /dev.
func TestMknodDenied(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	allowAll := specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"}
	denyX := func(access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Type: "c", Major: n(240), Minor: n(0), Access: access}
	}
	x := []specs.LinuxDevice{{Path: "/dev/husk-x", Type: "c", Major: 240, Minor: 0}}
	devBind := []specs.Mount{{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}}}
	cases := []struct {
		name    string
		devices []specs.LinuxDevice
		mounts  []specs.Mount
		rules   []specs.LinuxDeviceCgroup
		want    bool
	}{
		{"no rules (rootless)", x, nil, nil, false},
		{"deny all but the default m rules", x, nil, []specs.LinuxDeviceCgroup{{Access: "rwm"},
			{Allow: true, Type: "c", Access: "m"}}, false},
		{"deny rwm of a listed node", x, nil, []specs.LinuxDeviceCgroup{allowAll, denyX("rwm")}, true},
		{"deny m only of a listed node", x, nil, []specs.LinuxDeviceCgroup{allowAll, denyX("m")}, true},
		{"deny rw of a listed node", x, nil, []specs.LinuxDeviceCgroup{allowAll, denyX("rw")}, false},
		{"u is a char device", []specs.LinuxDevice{{Path: "/dev/husk-x", Type: "u", Major: 240}}, nil,
			[]specs.LinuxDeviceCgroup{allowAll, denyX("m")}, true},
		{"block rule, char node", x, nil, []specs.LinuxDeviceCgroup{allowAll,
			{Type: "b", Major: n(240), Minor: n(0), Access: "m"}}, false},
		{"a FIFO is no device", []specs.LinuxDevice{{Path: "/dev/f", Type: "p"}}, nil,
			[]specs.LinuxDeviceCgroup{{Access: "rwm"}}, false},
		{"a default node", nil, nil, []specs.LinuxDeviceCgroup{{Access: "rwm"}}, false},
		{"bind-mounted /dev", x, devBind, []specs.LinuxDeviceCgroup{allowAll, denyX("m")}, false},
	}
	for _, c := range cases {
		spec := &specs.Spec{Mounts: c.mounts, Linux: &specs.Linux{Devices: c.devices}}
		r := cgroupResources(&specs.Spec{Linux: &specs.Linux{Devices: c.devices, Resources: &specs.LinuxResources{Devices: c.rules}}})
		rules := r.Devices
		if c.rules == nil {
			rules = nil
		}
		got, err := mknodDenied(spec, rules)
		if err != nil || got != c.want {
			t.Errorf("%s: mknodDenied = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}
