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
