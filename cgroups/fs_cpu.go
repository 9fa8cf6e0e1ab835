package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func (m *fsManager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || c.Shares == nil && c.Quota == nil && c.Period == nil && c.Burst == nil &&
		c.Idle == nil && c.RealtimeRuntime == nil && c.RealtimePeriod == nil {
		return nil
	}
	dir, err := m.need("cpu", "linux.resources.cpu")
	if err != nil {
		return err
	}
	// Realtime period before runtime: a runtime above the current period is
	// refused.
	if c.RealtimePeriod != nil {
		if err := writeFile(dir, "cpu.rt_period_us", strconv.FormatUint(*c.RealtimePeriod, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.realtimePeriod: %w", err)
		}
	}
	if c.RealtimeRuntime != nil {
		if err := writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(*c.RealtimeRuntime, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.realtimeRuntime: %w", err)
		}
	}
	if shares := u64(c.Shares); shares != 0 {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(shares, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		// The kernel clamps out-of-range shares silently; say so instead.
		got, err := readUint(dir, "cpu.shares")
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		if got != shares {
			return fmt.Errorf("linux.resources.cpu.shares: %d is out of range, the kernel set %d", shares, got)
		}
	}
	quota, period := i64(c.Quota), u64(c.Period)
	periodPending, burstPending := false, false
	if period != 0 {
		if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10)); err != nil {
			// A shorter period can exceed the parent's limit with the old
			// quota (EINVAL); retry after the new quota is set.
			if !errors.Is(err, unix.EINVAL) || quota == 0 {
				return fmt.Errorf("linux.resources.cpu.period: %w", err)
			}
			periodPending = true
		}
	}
	if c.Burst != nil {
		if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)); err != nil {
			if !errors.Is(err, unix.EINVAL) || quota == 0 {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
			burstPending = true
		}
	}
	if quota != 0 {
		if err := writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.quota: %w", err)
		}
		if periodPending {
			if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.period: %w", err)
			}
		}
		if burstPending {
			if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)); err != nil {
				return fmt.Errorf("linux.resources.cpu.burst: %w", err)
			}
		}
	}
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.idle: %w", err)
		}
	}
	return nil
}

func (m *fsManager) setCpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil || c.Cpus == "" && c.Mems == "" {
		return nil
	}
	dir, err := m.need("cpuset", "linux.resources.cpu.cpus/mems")
	if err != nil {
		return err
	}
	if c.Cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", c.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
	}
	if c.Mems != "" {
		if err := writeFile(dir, "cpuset.mems", c.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
	}
	return nil
}
