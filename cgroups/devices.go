package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// devRule is a spec device rule checked and normalised: typ is 'a', 'b' or
// 'c'; major/minor -1 are wildcards; access is a subset of "rwm".
type devRule struct {
	allow        bool
	typ          byte
	major, minor int64
	access       string
}

const wildcard = -1

func (d devRule) fullWildcard() bool {
	return d.typ == 'a' && d.major == wildcard && d.minor == wildcard && d.access == "rwm"
}

// cgroupString is the v1 devices.allow/deny syntax, "c 1:3 rwm".
func (d devRule) cgroupString() string {
	num := func(n int64) string {
		if n == wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", d.typ, num(d.major), num(d.minor), d.access)
}

// deviceRules validates linux.resources.devices. An "a" rule that is not a
// full wildcard is split into block and char rules: cgroup v1 would read any
// "a" line as "every device", which is not what such a rule says.
func deviceRules(in []specs.LinuxDeviceCgroup) ([]devRule, error) {
	var out []devRule
	for i, d := range in {
		r := devRule{allow: d.Allow, major: wildcard, minor: wildcard}
		switch d.Type {
		case "", "a":
			r.typ = 'a'
		case "b", "c":
			r.typ = d.Type[0]
		default:
			return nil, fmt.Errorf("linux.resources.devices[%d].type: %q is not one of a, b, c", i, d.Type)
		}
		if d.Major != nil && *d.Major != wildcard {
			if *d.Major < 0 || *d.Major > 0xffffffff {
				return nil, fmt.Errorf("linux.resources.devices[%d].major: invalid value %d", i, *d.Major)
			}
			r.major = *d.Major
		}
		if d.Minor != nil && *d.Minor != wildcard {
			if *d.Minor < 0 || *d.Minor > 0xffffffff {
				return nil, fmt.Errorf("linux.resources.devices[%d].minor: invalid value %d", i, *d.Minor)
			}
			r.minor = *d.Minor
		}
		access := d.Access
		if access == "" {
			access = "rwm"
		}
		var seen [3]bool
		for _, c := range access {
			switch c {
			case 'r':
				seen[0] = true
			case 'w':
				seen[1] = true
			case 'm':
				seen[2] = true
			default:
				return nil, fmt.Errorf("linux.resources.devices[%d].access: %q has a character other than r, w, m", i, d.Access)
			}
		}
		r.access = ""
		for j, c := range "rwm" {
			if seen[j] {
				r.access += string(c)
			}
		}
		if r.typ == 'a' && !r.fullWildcard() {
			b, c := r, r
			b.typ, c.typ = 'b', 'c'
			out = append(out, b, c)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
