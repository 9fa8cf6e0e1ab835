package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

// CPUMax is a cgroup's CPU bandwidth limit: at most Quota microseconds of CPU time in every
// Period microseconds; Quota -1 is no limit.
type CPUMax struct {
	Quota  int64
	Period uint64
}

// ParseCPUMax reads cgroup v2's cpu.max syntax, "QUOTA [PERIOD]" with "max" for no quota; an
// absent period is 0.
func ParseCPUMax(s string) (CPUMax, error) {
	f := strings.Fields(s)
	if len(f) < 1 || len(f) > 2 {
		return CPUMax{}, fmt.Errorf("%q is not \"QUOTA [PERIOD]\"", s)
	}
	c := CPUMax{Quota: -1}
	if f[0] != "max" {
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n <= 0 {
			return CPUMax{}, fmt.Errorf("quota %q is neither a positive number nor \"max\"", f[0])
		}
		c.Quota = n
	}
	if len(f) == 2 {
		n, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil || n == 0 {
			return CPUMax{}, fmt.Errorf("period %q is not a positive number", f[1])
		}
		c.Period = n
	}
	return c, nil
}

// CurrentCPUMax reads the quota and period in force in m's cgroup, a manager of this package.
func CurrentCPUMax(m Manager) (CPUMax, error) {
	switch m := m.(type) {
	case *fs2Manager:
		return m.cpuMax()
	case *fsManager:
		return m.cpuMax()
	}
	return CPUMax{}, fmt.Errorf("read the CPU quota in force: %T is not a cgroupfs manager", m)
}

func (m *fs2Manager) cpuMax() (CPUMax, error) {
	s, err := readFile(m.dir, "cpu.max")
	if err != nil {
		return CPUMax{}, err
	}
	c, err := ParseCPUMax(s)
	if err == nil && c.Period == 0 {
		err = fmt.Errorf("%q has no period", s)
	}
	if err != nil {
		return CPUMax{}, fmt.Errorf("parse %s/cpu.max: %w", m.dir, err)
	}
	return c, nil
}

// cpuMax reads v1's cpu.cfs_quota_us (-1 for none) and cpu.cfs_period_us.
func (m *fsManager) cpuMax() (CPUMax, error) {
	dir, err := m.need("cpu", "read the CPU quota in force")
	if err != nil {
		return CPUMax{}, err
	}
	s, err := readFile(dir, "cpu.cfs_quota_us")
	if err != nil {
		return CPUMax{}, err
	}
	quota, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return CPUMax{}, fmt.Errorf("parse %s/cpu.cfs_quota_us: %q is not a number", dir, s)
	}
	period, err := readUint(dir, "cpu.cfs_period_us")
	if err != nil {
		return CPUMax{}, err
	}
	if period == 0 {
		return CPUMax{}, fmt.Errorf("parse %s/cpu.cfs_period_us: %d is not a period", dir, period)
	}
	return CPUMax{Quota: quota, Period: period}, nil
}
