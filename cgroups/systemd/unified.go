package systemd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// unifiedLimits maps the files of linux.resources.unified that hold a number or "max" to
// their properties.
var unifiedLimits = map[string]string{
	"memory.high":     "MemoryHigh",
	"memory.low":      "MemoryLow",
	"memory.min":      "MemoryMin",
	"memory.max":      "MemoryMax",
	"memory.swap.max": "MemorySwapMax",
	"pids.max":        "TasksMax",
}

// unified converts the cgroup v2 files of linux.resources.unified that systemd has a property
// for, as runc does; every key is still written to its file afterwards.
func (b *propertyBuilder) unified(r *specs.LinuxResources) error {
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	idle := false
	if strings.TrimSpace(r.Unified["cpu.idle"]) == "1" {
		// systemd cannot express cpu.idle 0; the file gets it.
		var err error
		if idle, err = b.idle(); err != nil {
			return err
		}
	}
	for _, k := range keys {
		// The kernel takes surrounding white space; so does this.
		v := strings.TrimSpace(r.Unified[k])
		field := fmt.Sprintf("linux.resources.unified[%q]", k)
		switch k {
		case "cpu.weight":
			if idle {
				continue // CPUWeight=0 is cpu.idle's
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", field, v)
			}
			b.add("CPUWeight", n)
		case "cpu.max":
			c, err := cgroups.ParseCPUMax(v)
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			if err := b.cpuQuota(c.Quota, c.Period); err != nil {
				return err
			}
		case "cpuset.cpus":
			if err := b.allowed("AllowedCPUs", v, field); err != nil {
				return err
			}
		case "cpuset.mems":
			if err := b.allowed("AllowedMemoryNodes", v, field); err != nil {
				return err
			}
		default:
			prop, ok := unifiedLimits[k]
			if !ok {
				continue // no property: the file only
			}
			n := uint64(infinity)
			if v != "max" {
				var err error
				if n, err = strconv.ParseUint(v, 10, 64); err != nil {
					return fmt.Errorf("%s: %q is neither a number nor \"max\"", field, v)
				}
			}
			b.add(prop, n)
		}
	}
	return nil
}

// oomPolicy is the OOMPolicy= that linux.resources.unified["memory.oom.group"] means, set
// when the unit starts (runc's conversion): 1 kills the whole unit, 0 only the process the
// kernel picked. Other values have no property; the file gets them.
func oomPolicy(r *specs.LinuxResources) string {
	if r == nil {
		return ""
	}
	switch strings.TrimSpace(r.Unified["memory.oom.group"]) {
	case "0":
		return "continue"
	case "1":
		return "kill"
	}
	return ""
}
