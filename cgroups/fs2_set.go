package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// numToStr renders a v2 limit: 0 is unset, -1 (or any negative) is "max".
func numToStr(v int64) string {
	switch {
	case v == 0:
		return ""
	case v < 0:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func (m *fs2Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	if mem.Swappiness != nil {
		return fmt.Errorf("linux.resources.memory.swappiness: not supported on cgroup v2")
	}
	if mem.DisableOOMKiller != nil && *mem.DisableOOMKiller {
		return fmt.Errorf("linux.resources.memory.disableOOMKiller: not supported on cgroup v2")
	}
	if mem.UseHierarchy != nil && !*mem.UseHierarchy {
		return fmt.Errorf("linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical, false is not supported")
	}
	warnKernelMemory(mem)
	if mem.KernelTCP != nil {
		return fmt.Errorf("linux.resources.memory.kernelTCP: not supported on cgroup v2 (it has no separate TCP buffer limit)")
	}
	limit, swap, reservation := i64(mem.Limit), i64(mem.Swap), i64(mem.Reservation)
	if limit == 0 && swap == 0 && reservation == 0 {
		return nil
	}
	if err := m.enable("memory", "linux.resources.memory"); err != nil {
		return err
	}
	// Best effort like runc: a cgroup without memory.current yet has no usage.
	if err := checkBeforeUpdate(mem, m.dir, "memory.current", true); err != nil {
		return err
	}
	swapV2, err := SwapToV2(swap, limit)
	if err != nil {
		return err
	}
	swapStr := numToStr(swapV2)
	if swapStr == "" && swapV2 == 0 && swap > 0 {
		// memory == memory+swap: no swap at all.
		swapStr = "0"
	}
	if swapStr != "" {
		if err := writeFile(m.dir, "memory.swap.max", swapStr); err != nil {
			// Without swap accounting there is no memory.swap.max; asking for
			// no swap or unlimited swap is then already true.
			if !(errors.Is(err, os.ErrNotExist) && (swapStr == "max" || swapStr == "0")) {
				return fmt.Errorf("linux.resources.memory.swap: %w", err)
			}
		}
	}
	if v := numToStr(limit); v != "" {
		if err := writeFile(m.dir, "memory.max", v); err != nil {
			return fmt.Errorf("linux.resources.memory.limit: %w", err)
		}
	}
	if v := numToStr(reservation); v != "" {
		if err := writeFile(m.dir, "memory.low", v); err != nil {
			return fmt.Errorf("linux.resources.memory.reservation: %w", err)
		}
	}
	return nil
}

func (m *fs2Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.RealtimeRuntime != nil || c.RealtimePeriod != nil {
		return fmt.Errorf("linux.resources.cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2")
	}
	if c.Shares == nil && c.Quota == nil && c.Period == nil && c.Burst == nil && c.Idle == nil {
		return nil
	}
	if err := m.enable("cpu", "linux.resources.cpu"); err != nil {
		return err
	}
	if c.Idle != nil {
		if err := writeFile(m.dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.idle: %w", err)
		}
	}
	if w := SharesToWeight(u64(c.Shares)); w != 0 {
		if err := writeFile(m.dir, "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
	}
	quota, period := i64(c.Quota), u64(c.Period)
	burstPending := false
	if c.Burst != nil {
		if err := writeFile(m.dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
			// A burst above the old quota is refused (EINVAL); retry it once
			// the new quota is in place.
			if quota == 0 {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
			burstPending = true
		}
	}
	if quota != 0 || period != 0 {
		str := "max"
		switch {
		case quota > 0:
			str = strconv.FormatInt(quota, 10)
		case quota == 0:
			// Only the period changes: keep the current quota rather than
			// resetting it to "max".
			cur, err := m.cpuMax()
			if err != nil {
				return fmt.Errorf("linux.resources.cpu.period: %w", err)
			}
			if cur.Quota > 0 {
				str = strconv.FormatInt(cur.Quota, 10)
			}
		}
		if period != 0 {
			str += " " + strconv.FormatUint(period, 10)
		}
		if err := writeFile(m.dir, "cpu.max", str); err != nil {
			return fmt.Errorf("linux.resources.cpu.quota/period: %w", err)
		}
	}
	if burstPending {
		if err := writeFile(m.dir, "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.burst: %w", err)
		}
	}
	return nil
}

func (m *fs2Manager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || c.Cpus == "" && c.Mems == "" {
		return nil
	}
	if err := m.enable("cpuset", "linux.resources.cpu.cpus/mems"); err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := writeFile(m.dir, "cpuset.cpus", c.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
	}
	if c.Mems != "" {
		if err := writeFile(m.dir, "cpuset.mems", c.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
	}
	return nil
}

// PidsLimit is the pids.max that linux.resources.pids.limit gives, as current runc has it:
// negative is no limit (-1), and 0 becomes 1 because systemd cannot express 0 and the two
// drivers should agree (a container's init exists already either way).
func PidsLimit(limit int64) int64 {
	switch {
	case limit < 0:
		return -1
	case limit == 0:
		return 1
	}
	return limit
}

func pidsMax(limit int64) string { return numToStr(PidsLimit(limit)) }

func (m *fs2Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	if err := m.enable("pids", "linux.resources.pids.limit"); err != nil {
		return err
	}
	if err := writeFile(m.dir, "pids.max", pidsMax(*r.Pids.Limit)); err != nil {
		return fmt.Errorf("linux.resources.pids.limit: %w", err)
	}
	return nil
}
