package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fsManager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	dir, err := m.need("pids", "linux.resources.pids.limit")
	if err != nil {
		return err
	}
	if err := writeFile(dir, "pids.max", pidsMax(*r.Pids.Limit)); err != nil {
		return fmt.Errorf("linux.resources.pids.limit: %w", err)
	}
	return nil
}

func (m *fsManager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if dir, ok := m.paths["hugetlb"]; ok {
		return writeHugetlb(dir, r.HugepageLimits, ".limit_in_bytes", ".rsvd.limit_in_bytes")
	}
	// Hybrid hosts may have hugetlb only on the cgroup2 mount.
	if m.onUnified("hugetlb") {
		return m.unified.setHugetlb(r)
	}
	return fmt.Errorf("linux.resources.hugepageLimits: no hugetlb controller on this host (neither a v1 hierarchy nor on a cgroup2 mount)")
}

func (m *fsManager) setNetwork(r *specs.LinuxResources) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		dir, err := m.need("net_cls", "linux.resources.network.classID")
		if err != nil {
			return err
		}
		if err := writeFile(dir, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return fmt.Errorf("linux.resources.network.classID: %w", err)
		}
	}
	if len(n.Priorities) > 0 {
		dir, err := m.need("net_prio", "linux.resources.network.priorities")
		if err != nil {
			return err
		}
		for _, p := range n.Priorities {
			if p.Name == "" || strings.ContainsAny(p.Name, " \n") {
				return fmt.Errorf("linux.resources.network.priorities: invalid interface name %q", p.Name)
			}
			if err := writeFile(dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
				return fmt.Errorf("linux.resources.network.priorities[%s]: %w", p.Name, err)
			}
		}
	}
	return nil
}

func (m *fsManager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	if dir, ok := m.paths["rdma"]; ok {
		return writeRdma(dir, r.Rdma)
	}
	if m.onUnified("rdma") {
		return m.unified.setRdma(r)
	}
	return fmt.Errorf("linux.resources.rdma: no rdma controller on this host")
}

func (m *fsManager) setDevices(r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	dir, err := m.need("devices", "linux.resources.devices")
	if err != nil {
		return err
	}
	return setDevicesV1(dir, r.Devices)
}

// setUnified accepts cgroup v2 keys only where they can take effect: on a
// hybrid host, for controllers that live on the cgroup2 mount.
func (m *fsManager) setUnified(r *specs.LinuxResources) error {
	for k := range r.Unified {
		ctrl, err := unifiedController(k)
		if err != nil {
			return err
		}
		if m.unified == nil {
			return fmt.Errorf("linux.resources.unified[%q]: cgroup v2 keys need a cgroup2 mount; this host has cgroup v1 only", k)
		}
		if !m.onUnified(ctrl) {
			return fmt.Errorf("linux.resources.unified[%q]: controller %s is not on the cgroup2 mount %s of this hybrid host", k, ctrl, m.unified.mount)
		}
	}
	if len(r.Unified) == 0 {
		return nil
	}
	return m.unified.setUnified(r)
}
