package systemd

import (
	"fmt"
	"strconv"
	"strings"
)

// maxCPUs bounds a CPU or memory node number, as the kernel's NR_CPUS does (8192 at most on
// the common configurations); it keeps a typo from asking for a huge mask.
const maxCPUs = 8192

// listToMask turns a cpuset list ("0-3,7") into the byte mask systemd's AllowedCPUs= and
// AllowedMemoryNodes= take over D-Bus: bit n%8 of byte n/8 is CPU (or node) n.
func listToMask(list string) ([]byte, error) {
	var mask []byte
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil || first < 0 {
			return nil, fmt.Errorf("invalid list %q: %q is not a number or a range", list, part)
		}
		last := first
		if isRange {
			last, err = strconv.Atoi(hi)
			if err != nil || last < first {
				return nil, fmt.Errorf("invalid list %q: %q is not a number or a range", list, part)
			}
		}
		if last >= maxCPUs {
			return nil, fmt.Errorf("invalid list %q: %d is beyond %d", list, last, maxCPUs-1)
		}
		for n := first; n <= last; n++ {
			for len(mask) <= n/8 {
				mask = append(mask, 0)
			}
			mask[n/8] |= 1 << (n % 8)
		}
	}
	if mask == nil {
		return nil, fmt.Errorf("invalid list %q: no CPU or node in it", list)
	}
	return mask, nil
}
