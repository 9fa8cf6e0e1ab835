package cgroups

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func devAllow(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major >= 0 {
		r.Major = ptr(major)
	}
	if minor >= 0 {
		r.Minor = ptr(minor)
	}
	return r
}

// The rules decide as the v1 controller decides after setDevicesV1's writes.
func TestEmulateV1(t *testing.T) {
	denyAll := devAllow(false, "a", -1, -1, "rwm")
	allowAll := devAllow(true, "a", -1, -1, "rwm")
	type check struct {
		typ          byte
		major, minor int64
		access       string
		want         bool
	}
	cases := []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		checks []check
	}{
		{"nothing: deny", nil, []check{{'c', 1, 3, "r", false}}},
		{"deny all, allow null and mknod", []specs.LinuxDeviceCgroup{
			denyAll, devAllow(true, "c", -1, -1, "m"), devAllow(true, "c", 1, 3, "rwm"), devAllow(true, "c", 136, -1, "rwm"),
		}, []check{
			{'c', 1, 3, "rw", true}, {'c', 1, 11, "r", false}, {'c', 1, 11, "w", false},
			{'c', 240, 0, "m", true}, {'b', 8, 0, "m", false}, {'c', 136, 5, "rw", true},
		}},
		{"access given in two rules adds up", []specs.LinuxDeviceCgroup{
			devAllow(true, "c", 1, 3, "r"), devAllow(true, "c", 1, 3, "w"),
		}, []check{{'c', 1, 3, "rw", true}, {'c', 1, 3, "m", false}}},
		{"a later deny of w takes w away, also from a read-write open", []specs.LinuxDeviceCgroup{
			devAllow(true, "c", 1, 3, "rwm"), devAllow(false, "c", 1, 3, "w"),
		}, []check{{'c', 1, 3, "r", true}, {'c', 1, 3, "w", false}, {'c', 1, 3, "rw", false}, {'c', 1, 3, "m", true}}},
		{"allow all, deny writes to major 1", []specs.LinuxDeviceCgroup{
			allowAll, devAllow(false, "c", 1, -1, "w"),
		}, []check{{'c', 1, 5, "r", true}, {'c', 1, 3, "w", false}, {'c', 1, 3, "rw", false}, {'c', 2, 1, "rw", true}, {'b', 1, 3, "w", true}}},
		{"an allow punches no hole in a wildcard deny", []specs.LinuxDeviceCgroup{
			allowAll, devAllow(false, "c", 1, -1, "w"), devAllow(true, "c", 1, 5, "w"),
		}, []check{{'c', 1, 5, "w", false}}},
		{"deny all resets earlier allows", []specs.LinuxDeviceCgroup{
			devAllow(true, "c", 1, 3, "rwm"), denyAll, devAllow(true, "c", 1, 5, "r"),
		}, []check{{'c', 1, 3, "r", false}, {'c', 1, 5, "r", true}}},
		{"a deny agreeing with the default changes nothing", []specs.LinuxDeviceCgroup{
			devAllow(false, "c", 1, 3, "r"),
		}, []check{{'c', 1, 3, "r", false}}},
		{"an 'a' rule that is not a full wildcard covers block and char", []specs.LinuxDeviceCgroup{
			devAllow(true, "a", 7, -1, "r"),
		}, []check{{'b', 7, 0, "r", true}, {'c', 7, 1, "r", true}, {'c', 7, 1, "w", false}}},
	}
	for _, tc := range cases {
		rules, err := deviceRules(tc.rules)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s := emulateV1(rules)
		for _, c := range tc.checks {
			if got := s.allows(c.typ, c.major, c.minor, c.access); got != c.want {
				t.Errorf("%s: %c %d:%d %s allowed = %v, want %v (state %+v)", tc.name, c.typ, c.major, c.minor, c.access, got, c.want, s)
			}
		}
	}
}
