package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fsManager) setBlkio(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil || b.Weight == nil && b.LeafWeight == nil && len(b.WeightDevice) == 0 &&
		len(b.ThrottleReadBpsDevice) == 0 && len(b.ThrottleWriteBpsDevice) == 0 &&
		len(b.ThrottleReadIOPSDevice) == 0 && len(b.ThrottleWriteIOPSDevice) == 0 {
		return nil
	}
	dir, err := m.need("blkio", "linux.resources.blockIO")
	if err != nil {
		return err
	}
	// CFQ had blkio.weight; with BFQ the same knobs are blkio.bfq.weight.
	weight, weightDevice := "blkio.weight", "blkio.weight_device"
	if !fileExists(filepath.Join(dir, weight)) && fileExists(filepath.Join(dir, "blkio.bfq.weight")) {
		weight, weightDevice = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := writeFile(dir, weight, strconv.FormatUint(uint64(*b.Weight), 10)); err != nil {
			return fmt.Errorf("linux.resources.blockIO.weight: %w", err)
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := writeFile(dir, "blkio.leaf_weight", strconv.FormatUint(uint64(*b.LeafWeight), 10)); err != nil {
			return fmt.Errorf("linux.resources.blockIO.leafWeight: %w", err)
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.Weight != nil {
			v := fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.Weight)
			if err := writeFile(dir, weightDevice, v); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weightDevice: %w", err)
			}
		}
		if wd.LeafWeight != nil {
			v := fmt.Sprintf("%d:%d %d", wd.Major, wd.Minor, *wd.LeafWeight)
			if err := writeFile(dir, "blkio.leaf_weight_device", v); err != nil {
				return fmt.Errorf("linux.resources.blockIO.weightDevice.leafWeight: %w", err)
			}
		}
	}
	throttles := []struct {
		field, file string
		devs        []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for _, d := range t.devs {
			if err := writeFile(dir, t.file, fmt.Sprintf("%d:%d %d", d.Major, d.Minor, d.Rate)); err != nil {
				return fmt.Errorf("linux.resources.blockIO.%s: %w", t.field, err)
			}
		}
	}
	return nil
}
