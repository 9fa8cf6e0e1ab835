package systemd

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// defaultCPUMax is a new cgroup's: no quota, the kernel's 100 ms period.
var defaultCPUMax = cgroups.CPUMax{Quota: -1, Period: 100000}

// cpu sets the CPU weight (CPUShares on v1) and the quota.
func (b *propertyBuilder) cpu(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if !b.v2 {
		if s := deref(c.Shares); s != 0 {
			b.add("CPUShares", s)
		}
		return b.cpuQuota(deref(c.Quota), deref(c.Period))
	}
	idle := false
	if c.Idle != nil && *c.Idle == 1 {
		var err error
		if idle, err = b.idle(); err != nil {
			return err
		}
	}
	if w := cgroups.SharesToWeight(deref(c.Shares)); w != 0 && !idle {
		b.add("CPUWeight", w)
	}
	return b.cpuQuota(deref(c.Quota), deref(c.Period))
}

// idle sets CPUWeight=0, systemd's way of writing cpu.idle 1 (v252 on), and says whether it
// did: older ones only get the file, and the weight instead.
func (b *propertyBuilder) idle() (bool, error) {
	ok, err := b.atLeast(252)
	if err != nil || !ok {
		return false, err
	}
	b.add("CPUWeight", uint64(0))
	return true, nil
}

// cpuQuota sets CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec, systemd v242 on) to the quota and
// period the files get. As in the files, a quota or period given alone keeps the other one in
// force (0 is "not given"). systemd keeps a quota per second and works the cgroup's quota out
// from it and the period; like runc, it is rounded up to whole 10 ms, so the unit never allows
// less than cpu.max does.
func (b *propertyBuilder) cpuQuota(quota int64, period uint64) error {
	if quota == 0 && period == 0 {
		return nil
	}
	eff := cgroups.CPUMax{Quota: quota, Period: period}
	if quota == 0 || period == 0 {
		cur, err := b.current()
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.quota/period: %w", err)
		}
		if quota == 0 {
			eff.Quota = cur.Quota
		}
		if period == 0 {
			eff.Period = cur.Period
		}
	}
	if period != 0 {
		ok, err := b.atLeast(242)
		if err != nil {
			return err
		}
		if ok {
			b.add("CPUQuotaPeriodUSec", period)
		}
	}
	perSec := uint64(infinity)
	if eff.Quota > 0 && eff.Period > 0 {
		perSec = uint64(eff.Quota) * 1_000_000 / eff.Period
		if perSec%10000 != 0 {
			perSec = (perSec/10000 + 1) * 10000
		}
	}
	b.add("CPUQuotaPerSecUSec", perSec)
	return nil
}

// cpuset sets AllowedCPUs and AllowedMemoryNodes.
func (b *propertyBuilder) cpuset(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Cpus != "" {
		if err := b.allowed("AllowedCPUs", c.Cpus, "linux.resources.cpu.cpus"); err != nil {
			return err
		}
	}
	if c.Mems != "" {
		return b.allowed("AllowedMemoryNodes", c.Mems, "linux.resources.cpu.mems")
	}
	return nil
}

// allowed sets prop, AllowedCPUs or AllowedMemoryNodes, to a cpuset list (systemd v244 on;
// older ones only get the files); field names the list.
func (b *propertyBuilder) allowed(prop, list, field string) error {
	bits, err := listToMask(list)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	ok, err := b.atLeast(244)
	if err != nil || !ok {
		return err
	}
	b.add(prop, bits)
	return nil
}
