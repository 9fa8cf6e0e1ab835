package cgroups

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func (m *fs2Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if err := m.enable("hugetlb", "linux.resources.hugepageLimits"); err != nil {
		return err
	}
	return writeHugetlb(m.dir, r.HugepageLimits, ".max", ".rsvd.max")
}

// writeHugetlb writes each page size's limit, and the same value as the
// reservation limit where the kernel has one (5.11+), as runc does.
func writeHugetlb(dir string, limits []specs.LinuxHugepageLimit, suffix, rsvdSuffix string) error {
	for _, l := range limits {
		if err := checkPageSize(l.Pagesize); err != nil {
			return err
		}
		prefix := "hugetlb." + l.Pagesize
		v := strconv.FormatUint(l.Limit, 10)
		if !fileExists(dir + "/" + prefix + suffix) {
			return fmt.Errorf("linux.resources.hugepageLimits: page size %q not supported: no %s/%s", l.Pagesize, dir, prefix+suffix)
		}
		if err := writeFile(dir, prefix+suffix, v); err != nil {
			return fmt.Errorf("linux.resources.hugepageLimits[%s]: %w", l.Pagesize, err)
		}
		if fileExists(dir + "/" + prefix + rsvdSuffix) {
			if err := writeFile(dir, prefix+rsvdSuffix, v); err != nil {
				return fmt.Errorf("linux.resources.hugepageLimits[%s]: %w", l.Pagesize, err)
			}
		}
	}
	return nil
}

// checkPageSize keeps the spec's page size from naming other files.
func checkPageSize(ps string) error {
	if ps == "" || strings.ContainsAny(ps, "/.") {
		return fmt.Errorf("linux.resources.hugepageLimits: invalid pageSize %q", ps)
	}
	return nil
}

func (m *fs2Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	if err := m.enable("rdma", "linux.resources.rdma"); err != nil {
		return err
	}
	return writeRdma(m.dir, r.Rdma)
}

// writeRdma writes one rdma.max line per device, in sorted order so the
// result does not depend on map iteration.
func writeRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	devs := make([]string, 0, len(rdma))
	for d := range rdma {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	for _, d := range devs {
		lim := rdma[d]
		if d == "" || strings.ContainsAny(d, " \n") {
			return fmt.Errorf("linux.resources.rdma: invalid device name %q", d)
		}
		if lim.HcaHandles == nil && lim.HcaObjects == nil {
			continue
		}
		line := d
		if lim.HcaHandles != nil {
			line += " hca_handle=" + strconv.FormatUint(uint64(*lim.HcaHandles), 10)
		}
		if lim.HcaObjects != nil {
			line += " hca_object=" + strconv.FormatUint(uint64(*lim.HcaObjects), 10)
		}
		if err := writeFile(dir, "rdma.max", line); err != nil {
			return fmt.Errorf("linux.resources.rdma[%s]: %w", d, err)
		}
	}
	return nil
}

func (m *fs2Manager) setNetwork(r *specs.LinuxResources) error {
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return fmt.Errorf("linux.resources.network: net_cls and net_prio do not exist on cgroup v2")
	}
	return nil
}

func (m *fs2Manager) setUnified(r *specs.LinuxResources) error {
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ctrl, err := unifiedController(k)
		if err != nil {
			return err
		}
		if err := m.enable(ctrl, fmt.Sprintf("linux.resources.unified[%q]", k)); err != nil {
			return err
		}
		if !fileExists(m.dir + "/" + k) {
			return fmt.Errorf("linux.resources.unified[%q]: no such file %s/%s", k, m.dir, k)
		}
		if err := writeFile(m.dir, k, r.Unified[k]); err != nil {
			return fmt.Errorf("linux.resources.unified[%q]: %w", k, err)
		}
	}
	return nil
}

// unifiedController validates a linux.resources.unified key and returns the
// controller it belongs to ("cgroup" for core files).
func unifiedController(k string) (string, error) {
	if strings.Contains(k, "/") || strings.Contains(k, "..") {
		return "", fmt.Errorf("linux.resources.unified[%q]: key must be a plain file name (no \"/\", no \"..\")", k)
	}
	ctrl, param, ok := strings.Cut(k, ".")
	if !ok || ctrl == "" || param == "" {
		return "", fmt.Errorf("linux.resources.unified[%q]: key must be CONTROLLER.PARAMETER", k)
	}
	return ctrl, nil
}
