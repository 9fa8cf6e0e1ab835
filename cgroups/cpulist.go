package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCPUList expands a cpuset list such as "0-3,6" (cpuset.cpus, cpuset.mems) into its
// members, in the order written; empty parts are skipped, so "" has none.
func ParseCPUList(list string) ([]uint16, error) {
	var out []uint16
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 16)
		}
		if err != nil || b < a {
			return nil, fmt.Errorf("%q is not a number or a range", part)
		}
		for v := a; v <= b; v++ {
			out = append(out, uint16(v))
		}
	}
	return out, nil
}
