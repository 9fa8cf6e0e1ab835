package systemd

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unifiedMemory maps the memory files of linux.resources.unified to their properties.
var unifiedMemory = map[string]string{
	"memory.high":     "MemoryHigh",
	"memory.low":      "MemoryLow",
	"memory.min":      "MemoryMin",
	"memory.max":      "MemoryMax",
	"memory.swap.max": "MemorySwapMax",
}

// unified converts the cgroup v2 files of linux.resources.unified that systemd has a property
// for, as runc does; every key is still written to its file afterwards.
func (b *propertyBuilder) unified(r *specs.LinuxResources) error {
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// The kernel takes surrounding white space; so does this.
		v := strings.TrimSpace(r.Unified[k])
		field := fmt.Sprintf("linux.resources.unified[%q]", k)
		switch k {
		case "cpu.weight":
			if strings.TrimSpace(r.Unified["cpu.idle"]) == "1" {
				continue // cpu.idle below sets CPUWeight=0
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %q is not a number", field, v)
			}
			b.add("CPUWeight", n)
		case "cpu.idle":
			if v != "1" {
				continue // systemd cannot express 0; the file gets it
			}
			ok, err := b.atLeast(252)
			if err != nil {
				return err
			}
			if ok {
				b.add("CPUWeight", uint64(0))
			}
		case "cpu.max":
			c, err := parseCPUMax(v)
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			if err := b.cpuQuota(c); err != nil {
				return err
			}
		case "cpuset.cpus", "cpuset.mems":
			prop := map[string]string{"cpuset.cpus": "AllowedCPUs", "cpuset.mems": "AllowedMemoryNodes"}[k]
			ok, err := b.atLeast(244)
			if err != nil {
				return err
			}
			bits, err := listToMask(v)
			if err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
			if ok {
				b.add(prop, bits)
			}
		case "memory.high", "memory.low", "memory.min", "memory.max", "memory.swap.max", "pids.max":
			n := uint64(infinity)
			if v != "max" {
				var err error
				if n, err = strconv.ParseUint(v, 10, 64); err != nil {
					return fmt.Errorf("%s: %q is neither a number nor \"max\"", field, v)
				}
			}
			prop := unifiedMemory[k]
			if k == "pids.max" {
				prop = "TasksMax"
			}
			b.add(prop, n)
		}
	}
	return nil
}

// parseCPUMax reads cpu.max's "QUOTA [PERIOD]" (QUOTA may be "max") as a spec quota and
// period; an absent period is 0, "keep the current one".
func parseCPUMax(v string) (*specs.LinuxCPU, error) {
	f := strings.Fields(v)
	if len(f) < 1 || len(f) > 2 {
		return nil, fmt.Errorf("%q is not \"QUOTA [PERIOD]\"", v)
	}
	quota := int64(-1)
	if f[0] != "max" {
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("quota %q is neither a positive number nor \"max\"", f[0])
		}
		quota = n
	}
	var period uint64
	if len(f) == 2 {
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("period %q is not a positive number", f[1])
		}
		period = n
	}
	return &specs.LinuxCPU{Quota: &quota, Period: &period}, nil
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
