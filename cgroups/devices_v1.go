package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setDevicesV1 programs the v1 devices controller: deny everything, then
// apply the rules in order so later rules refine earlier ones.
func setDevicesV1(dir string, devices []specs.LinuxDeviceCgroup) error {
	rules, err := deviceRules(devices)
	if err != nil {
		return err
	}
	if err := writeFile(dir, "devices.deny", "a"); err != nil {
		return fmt.Errorf("linux.resources.devices: %w", err)
	}
	for i, r := range rules {
		file := "devices.deny"
		if r.allow {
			file = "devices.allow"
		}
		v := r.cgroupString()
		if r.fullWildcard() {
			// "a" alone resets the whole list to allow-all or deny-all.
			v = "a"
		}
		if err := writeFile(dir, file, v); err != nil {
			return fmt.Errorf("linux.resources.devices (rule %d): %w", i, err)
		}
	}
	return nil
}
