package systemd

import (
	"fmt"

	"github.com/husk-runtime/husk/cgroups"
)

// maxCPUs bounds a CPU or memory node number, as the kernel's NR_CPUS does (8192 at most on
// the common configurations); it keeps a typo from asking for a huge mask.
const maxCPUs = 8192

// listToMask turns a cpuset list ("0-3,7") into the byte mask systemd's AllowedCPUs= and
// AllowedMemoryNodes= take over D-Bus: bit n%8 of byte n/8 is CPU (or node) n.
func listToMask(list string) ([]byte, error) {
	members, err := cgroups.ParseCPUList(list)
	if err != nil {
		return nil, fmt.Errorf("invalid list %q: %w", list, err)
	}
	if members == nil {
		return nil, fmt.Errorf("invalid list %q: no CPU or node in it", list)
	}
	var mask []byte
	for _, n := range members {
		if n >= maxCPUs {
			return nil, fmt.Errorf("invalid list %q: %d is beyond %d", list, n, maxCPUs-1)
		}
		for len(mask) <= int(n/8) {
			mask = append(mask, 0)
		}
		mask[n/8] |= 1 << (n % 8)
	}
	return mask, nil
}
