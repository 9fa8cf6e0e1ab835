package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// userHZ is the unit of cpuacct.stat; Linux fixes it at 100 for userspace.
const userHZ = 100

func (m *fsManager) Stats() (*Stats, error) {
	st := &Stats{Hugetlb: map[string]Hugetlb{}}
	var errs []error
	for _, f := range []func(*Stats) error{m.statCPU, m.statCpuset, m.statMemory, m.statPids, m.statBlkio, m.statHugetlb} {
		if err := f(st); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return st, nil
}

func (m *fsManager) statCPU(st *Stats) error {
	if dir, ok := m.paths["cpu"]; ok {
		kv, err := readKeyValues(dir, "cpu.stat")
		if err != nil {
			return err
		}
		st.CPU.Throttling.Periods = kv["nr_periods"]
		st.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
		st.CPU.Throttling.ThrottledTime = kv["throttled_time"]
	}
	dir, ok := m.paths["cpuacct"]
	if !ok {
		return nil
	}
	var err error
	if st.CPU.Usage.Total, err = readUint(dir, "cpuacct.usage"); err != nil {
		return err
	}
	if st.CPU.Usage.Percpu, err = readUints(dir, "cpuacct.usage_percpu"); err != nil {
		return err
	}
	kv, err := readKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	st.CPU.Usage.User = kv["user"] * 1e9 / userHZ
	st.CPU.Usage.Kernel = kv["system"] * 1e9 / userHZ
	// cpuacct.usage_all: "cpu user system" header, then one line per cpu.
	s, err := readFile(dir, "cpuacct.usage_all")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		u, err1 := strconv.ParseUint(f[1], 10, 64)
		k, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("parse %s/cpuacct.usage_all: %q", dir, line)
		}
		st.CPU.Usage.PercpuUser = append(st.CPU.Usage.PercpuUser, u)
		st.CPU.Usage.PercpuKernel = append(st.CPU.Usage.PercpuKernel, k)
	}
	return nil
}

func readUints(dir, name string) ([]uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := parseUint(f, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (m *fsManager) statCpuset(st *Stats) error {
	dir, ok := m.paths["cpuset"]
	if !ok {
		return nil
	}
	var err error
	if st.CPUSet.CPUs, err = readCPUList(dir, "cpuset.cpus"); err != nil {
		return err
	}
	if st.CPUSet.Mems, err = readCPUList(dir, "cpuset.mems"); err != nil {
		return err
	}
	for name, dst := range map[string]*uint64{
		"cpuset.cpu_exclusive":      &st.CPUSet.CPUExclusive,
		"cpuset.mem_hardwall":       &st.CPUSet.MemHardwall,
		"cpuset.mem_exclusive":      &st.CPUSet.MemExclusive,
		"cpuset.memory_migrate":     &st.CPUSet.MemoryMigrate,
		"cpuset.memory_spread_page": &st.CPUSet.MemorySpreadPage,
		"cpuset.memory_spread_slab": &st.CPUSet.MemorySpreadSlab,
		"cpuset.memory_pressure":    &st.CPUSet.MemoryPressure,
		"cpuset.sched_load_balance": &st.CPUSet.SchedLoadBalance,
	} {
		v, err := readUint(dir, name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		*dst = v
	}
	s, err := readFile(dir, "cpuset.sched_relax_domain_level")
	if err == nil {
		st.CPUSet.SchedRelaxDomainLevel, _ = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	return nil
}

// readCPUList reads a cpuset list file into its members.
func readCPUList(dir, name string) ([]uint16, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	out, err := ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("parse %s/%s: %w", dir, name, err)
	}
	return out, nil
}

func (m *fsManager) statMemory(st *Stats) error {
	dir, ok := m.paths["memory"]
	if !ok {
		return nil
	}
	raw, err := readKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	st.Memory.Raw = raw
	st.Memory.Cache = raw["cache"]
	if st.Memory.Usage, err = memoryDataV1(dir, "memory"); err != nil {
		return err
	}
	// memsw and kmem files are missing when the kernel does not account
	// them; their entries then stay zero.
	for prefix, dst := range map[string]*MemoryEntry{
		"memory.memsw":    &st.Memory.Swap,
		"memory.kmem":     &st.Memory.Kernel,
		"memory.kmem.tcp": &st.Memory.KernelTCP,
	} {
		e, err := memoryDataV1(dir, prefix)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		*dst = e
	}
	return nil
}

func memoryDataV1(dir, prefix string) (MemoryEntry, error) {
	var e MemoryEntry
	var err error
	if e.Usage, err = readUint(dir, prefix+".usage_in_bytes"); err != nil {
		return e, err
	}
	if e.Max, err = readUint(dir, prefix+".max_usage_in_bytes"); err != nil {
		return e, err
	}
	if e.Failcnt, err = readUint(dir, prefix+".failcnt"); err != nil {
		return e, err
	}
	if e.Limit, err = readUint(dir, prefix+".limit_in_bytes"); err != nil {
		return e, err
	}
	return e, nil
}

func (m *fsManager) statPids(st *Stats) error {
	dir, ok := m.paths["pids"]
	if !ok {
		return nil
	}
	var err error
	if st.Pids.Current, err = readUint(dir, "pids.current"); err != nil {
		return err
	}
	st.Pids.Limit, err = readUint(dir, "pids.max")
	return err
}

func (m *fsManager) statBlkio(st *Stats) error {
	dir, ok := m.paths["blkio"]
	if !ok {
		return nil
	}
	// CFQ files first, then BFQ, then the throttle counters that every
	// kernel keeps, as runc does.
	sets := [][2]string{
		{"blkio.io_service_bytes_recursive", "blkio.io_serviced_recursive"},
		{"blkio.bfq.io_service_bytes_recursive", "blkio.bfq.io_serviced_recursive"},
		{"blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive"},
	}
	for _, set := range sets {
		bytes, err := readBlkioEntries(dir, set[0])
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		serviced, err := readBlkioEntries(dir, set[1])
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(bytes) == 0 && len(serviced) == 0 && set != sets[len(sets)-1] {
			continue
		}
		st.Blkio.IoServiceBytesRecursive = bytes
		st.Blkio.IoServicedRecursive = serviced
		return nil
	}
	return nil
}

// readBlkioEntries parses "8:0 Read 4096" lines; the "Total" line is dropped.
func readBlkioEntries(dir, name string) ([]BlkioEntry, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	var out []BlkioEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		maj, min, ok := parseMajMin(f[0])
		if !ok {
			return nil, fmt.Errorf("parse %s/%s: %q", dir, name, line)
		}
		v, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s/%s: %q: %w", dir, name, line, err)
		}
		out = append(out, BlkioEntry{Major: maj, Minor: min, Op: f[1], Value: v})
	}
	return out, nil
}

func (m *fsManager) statHugetlb(st *Stats) error {
	dir, ok := m.paths["hugetlb"]
	if !ok {
		if m.onUnified("hugetlb") && fileExists(m.unified.dir) {
			return m.unified.statHugetlb(st)
		}
		return nil
	}
	sizes, err := hugePageSizes()
	if err != nil {
		return err
	}
	for _, ps := range sizes {
		var h Hugetlb
		p := "hugetlb." + ps
		if h.Usage, err = readUint(dir, p+".usage_in_bytes"); err != nil {
			return err
		}
		if h.Max, err = readUint(dir, p+".max_usage_in_bytes"); err != nil {
			return err
		}
		if h.Failcnt, err = readUint(dir, p+".failcnt"); err != nil {
			return err
		}
		st.Hugetlb[ps] = h
	}
	return nil
}
