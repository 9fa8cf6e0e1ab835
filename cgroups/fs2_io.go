package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fs2Manager) setIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	if b.LeafWeight != nil {
		return fmt.Errorf("linux.resources.blockIO.leafWeight: not supported on cgroup v2")
	}
	for _, wd := range b.WeightDevice {
		if wd.LeafWeight != nil {
			return fmt.Errorf("linux.resources.blockIO.weightDevice[%d:%d].leafWeight: not supported on cgroup v2", wd.Major, wd.Minor)
		}
	}
	if b.Weight == nil && len(b.WeightDevice) == 0 && len(b.ThrottleReadBpsDevice) == 0 &&
		len(b.ThrottleWriteBpsDevice) == 0 && len(b.ThrottleReadIOPSDevice) == 0 && len(b.ThrottleWriteIOPSDevice) == 0 {
		return nil
	}
	if err := m.enable("io", "linux.resources.blockIO"); err != nil {
		return err
	}
	// BFQ takes weights in blkio's own range; without it io.weight needs the
	// range conversion.
	bfq := fileExists(m.dir + "/io.bfq.weight")
	if b.Weight != nil && *b.Weight != 0 {
		var err error
		if bfq {
			err = writeFile(m.dir, "io.bfq.weight", strconv.FormatUint(uint64(*b.Weight), 10))
		} else {
			err = writeFile(m.dir, "io.weight", strconv.FormatUint(BlkioWeightToIOWeight(*b.Weight), 10))
		}
		if err != nil {
			return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.Weight == nil {
			continue
		}
		// Per-device BFQ weights arrived in kernel 5.4; older io.bfq.weight
		// files show a bare number.
		if !bfq || bfqDefaultOnly(m.dir) {
			return fmt.Errorf("linux.resources.blockIO.weightDevice[%d:%d]: per-device weights need the BFQ io scheduler (io.bfq.weight with device entries) in %s", wd.Major, wd.Minor, m.dir)
		}
		v := fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight)
		if err := writeFile(m.dir, "io.bfq.weight", v); err != nil {
			return fmt.Errorf("linux.resources.blockIO.weightDevice: %w", err)
		}
	}
	throttles := []struct {
		field string
		key   string
		devs  []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for _, d := range t.devs {
			v := fmt.Sprintf("%d:%d %s=%d", d.Major, d.Minor, t.key, d.Rate)
			if err := writeFile(m.dir, "io.max", v); err != nil {
				return fmt.Errorf("linux.resources.blockIO.%s: %w", t.field, err)
			}
		}
	}
	return nil
}

func bfqDefaultOnly(dir string) bool {
	s, err := readFile(dir, "io.bfq.weight")
	if err != nil {
		return true
	}
	_, err = strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return err == nil
}
