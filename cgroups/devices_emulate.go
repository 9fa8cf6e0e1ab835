package cgroups

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// v1Devices is what the cgroup v1 devices controller holds after a list of rules: a default
// (allow or deny every device) and exceptions to it. The v2 filter is compiled from it, so the
// same rules open the same devices on both versions (runc's device emulator serves the same
// purpose); compiling the rules as "last match wins" instead let a later partial deny be
// skipped by an open that asks for more than it names (deny "w" after allow "rwm" did not stop
// an O_RDWR open) and split one device's access over rules an open never matches whole.
type v1Devices struct {
	defaultAllow bool
	// exceptions are b or c rules (never 'a') with allow == !defaultAllow, one per
	// type:major:minor, holding the union of the access given for it.
	exceptions []devRule
}

// emulateV1 applies rules as the kernel applies the writes of setDevicesV1: "deny a" first, a
// full wildcard resets the default and drops every exception, a rule against the default adds
// its access to the exception for the same type:major:minor, and a rule that agrees with the
// default takes its access away from that exception (and from no other: the kernel matches
// exceptions exactly here, wildcards included).
func emulateV1(rules []devRule) v1Devices {
	var s v1Devices
	for _, r := range rules {
		if r.fullWildcard() {
			s = v1Devices{defaultAllow: r.allow}
			continue
		}
		i := s.find(r)
		if r.allow != s.defaultAllow {
			if i < 0 {
				s.exceptions = append(s.exceptions, r)
			} else {
				s.exceptions[i].access = AccessUnion(s.exceptions[i].access, r.access)
			}
			continue
		}
		if i < 0 {
			continue
		}
		left := accessMinus(s.exceptions[i].access, r.access)
		if left == "" {
			s.exceptions = append(s.exceptions[:i], s.exceptions[i+1:]...)
		} else {
			s.exceptions[i].access = left
		}
	}
	return s
}

// DeviceRule is a rule of the device controller's state, for the systemd driver, which gives
// systemd the same state as DevicePolicy= and DeviceAllow=.
type DeviceRule struct {
	Allow        bool
	Type         byte   // 'b' or 'c'
	Major, Minor int64  // -1 for any
	Access       string // a subset of "rwm", in that order
}

// DeviceState checks linux.resources.devices as Set does and returns what the device
// controller holds after them (see emulateV1): whether every device is allowed by default,
// and the exceptions to that default (each with Allow == !defaultAllow).
func DeviceState(in []specs.LinuxDeviceCgroup) (defaultAllow bool, exceptions []DeviceRule, err error) {
	rules, err := deviceRules(in)
	if err != nil {
		return false, nil, err
	}
	s := emulateV1(rules)
	for _, r := range s.exceptions {
		exceptions = append(exceptions, DeviceRule{Allow: r.allow, Type: r.typ, Major: r.major, Minor: r.minor, Access: r.access})
	}
	return s.defaultAllow, exceptions, nil
}

// DeviceAccess checks the rules in once and returns the device controller they leave, as a
// question: does it let a request for access (a subset of "rwm") on the device typ ('b' or
// 'c') major:minor through?
func DeviceAccess(in []specs.LinuxDeviceCgroup) (func(typ byte, major, minor int64, access string) bool, error) {
	rules, err := deviceRules(in)
	if err != nil {
		return nil, err
	}
	return emulateV1(rules).allows, nil
}

// allows answers as the v1 controller does for an open or mknod asking for access (a subset
// of "rwm") on a device: with a default of deny, one exception must cover the whole request;
// with a default of allow, an exception sharing any of the requested access refuses it. It is
// the model deviceFilter's program follows.
func (s v1Devices) allows(typ byte, major, minor int64, access string) bool {
	for _, e := range s.exceptions {
		if e.typ != typ || (e.major != wildcard && e.major != major) || (e.minor != wildcard && e.minor != minor) {
			continue
		}
		if s.defaultAllow && accessMinus(access, e.access) != access {
			return false
		}
		if !s.defaultAllow && accessMinus(access, e.access) == "" {
			return true
		}
	}
	return s.defaultAllow
}

func (s *v1Devices) find(r devRule) int {
	for i, e := range s.exceptions {
		if e.typ == r.typ && e.major == r.major && e.minor == r.minor {
			return i
		}
	}
	return -1
}

// AccessUnion and accessMinus work on access strings kept in "rwm" order (AccessUnion also
// merges the device rules the systemd driver widens to one DeviceAllow= entry).
func AccessUnion(a, b string) string {
	var out string
	for _, c := range "rwm" {
		if strings.ContainsRune(a, c) || strings.ContainsRune(b, c) {
			out += string(c)
		}
	}
	return out
}

func accessMinus(a, b string) string {
	var out string
	for _, c := range a {
		if !strings.ContainsRune(b, c) {
			out += string(c)
		}
	}
	return out
}
