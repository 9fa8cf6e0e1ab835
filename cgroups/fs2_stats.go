package cgroups

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func (m *fs2Manager) Stats() (*Stats, error) {
	st := &Stats{Hugetlb: map[string]Hugetlb{}}
	var errs []error
	for _, f := range []func(*Stats) error{m.statCPU, m.statMemory, m.statPids, m.statIO, m.statHugetlb} {
		if err := f(st); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return st, nil
}

func (m *fs2Manager) statCPU(st *Stats) error {
	kv, err := readKeyValues(m.dir, "cpu.stat")
	if err != nil {
		return err
	}
	// cgroup v2 reports microseconds; the stats are in nanoseconds.
	st.CPU.Usage.Total = kv["usage_usec"] * 1000
	st.CPU.Usage.User = kv["user_usec"] * 1000
	st.CPU.Usage.Kernel = kv["system_usec"] * 1000
	st.CPU.Throttling.Periods = kv["nr_periods"]
	st.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
	st.CPU.Throttling.ThrottledTime = kv["throttled_usec"] * 1000
	st.CPU.PSI, err = readPSI(m.dir, "cpu.pressure")
	return err
}

func (m *fs2Manager) statMemory(st *Stats) error {
	raw, err := readKeyValues(m.dir, "memory.stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil // memory controller not enabled here
		}
		return err
	}
	st.Memory.Raw = raw
	st.Memory.Cache = raw["file"]
	usage, err := memoryDataV2(m.dir, "memory")
	if err != nil {
		return err
	}
	st.Memory.Usage = usage
	swap, err := memoryDataV2(m.dir, "memory.swap")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// v1 reports swap as memory+swap; keep that meaning, as runc does.
	swap.Usage += usage.Usage
	if swap.Limit != math.MaxUint64 {
		swap.Limit += usage.Limit
	}
	swap.Max = 0
	st.Memory.Swap = swap
	st.Memory.PSI, err = readPSI(m.dir, "memory.pressure")
	return err
}

func memoryDataV2(dir, prefix string) (MemoryEntry, error) {
	var e MemoryEntry
	var err error
	if e.Usage, err = readUint(dir, prefix+".current"); err != nil {
		return e, err
	}
	if e.Limit, err = readUint(dir, prefix+".max"); err != nil {
		return e, err
	}
	// *.peak appeared in 5.19 (memory) and 6.5 (swap).
	if e.Max, err = readUint(dir, prefix+".peak"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return e, err
	}
	return e, nil
}

func (m *fs2Manager) statPids(st *Stats) error {
	cur, err := readUint(m.dir, "pids.current")
	if errors.Is(err, os.ErrNotExist) {
		// No pids controller here: count the processes instead, as runc does.
		pids, err := m.Pids()
		if err != nil {
			return err
		}
		st.Pids.Current = uint64(len(pids))
		return nil
	}
	if err != nil {
		return err
	}
	st.Pids.Current = cur
	st.Pids.Limit, err = readUint(m.dir, "pids.max")
	return err
}

func (m *fs2Manager) statIO(st *Stats) error {
	s, err := readFile(m.dir, "io.stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		maj, min, ok := parseMajMin(fields[0])
		if !ok {
			continue
		}
		for _, kv := range fields[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("parse %s/io.stat: %q: %w", m.dir, kv, err)
			}
			e := BlkioEntry{Major: maj, Minor: min, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				st.Blkio.IoServiceBytesRecursive = append(st.Blkio.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				st.Blkio.IoServiceBytesRecursive = append(st.Blkio.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				st.Blkio.IoServicedRecursive = append(st.Blkio.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				st.Blkio.IoServicedRecursive = append(st.Blkio.IoServicedRecursive, e)
			}
		}
	}
	st.Blkio.PSI, err = readPSI(m.dir, "io.pressure")
	return err
}

func parseMajMin(s string) (uint64, uint64, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, false
	}
	maj, err1 := strconv.ParseUint(a, 10, 64)
	min, err2 := strconv.ParseUint(b, 10, 64)
	return maj, min, err1 == nil && err2 == nil
}

func (m *fs2Manager) statHugetlb(st *Stats) error {
	sizes, err := hugePageSizes()
	if err != nil {
		return err
	}
	for _, ps := range sizes {
		usage, err := readUint(m.dir, "hugetlb."+ps+".current")
		if errors.Is(err, os.ErrNotExist) {
			return nil // hugetlb controller not enabled here
		}
		if err != nil {
			return err
		}
		fail, err := eventCount(m.dir, "hugetlb."+ps+".events", "max")
		if err != nil {
			return err
		}
		st.Hugetlb[ps] = Hugetlb{Usage: usage, Failcnt: fail}
	}
	return nil
}

// readPSI parses a pressure file; it is absent without CONFIG_PSI.
func readPSI(dir, name string) (*PSIStats, error) {
	s, err := readFile(dir, name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, errors.ErrUnsupported) {
			return nil, nil
		}
		return nil, err
	}
	var psi PSIStats
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		var d *PSIData
		switch fields[0] {
		case "some":
			d = &psi.Some
		case "full":
			d = &psi.Full
		default:
			continue
		}
		for _, kv := range fields[1:] {
			k, v, _ := strings.Cut(kv, "=")
			var err error
			switch k {
			case "avg10":
				d.Avg10, err = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, err = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, err = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, err = strconv.ParseUint(v, 10, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("parse %s: %q: %w", filepath.Join(dir, name), kv, err)
			}
		}
	}
	return &psi, nil
}

// hugePagesDir lists the kernel's huge page sizes; tests point it elsewhere.
var hugePagesDir = "/sys/kernel/mm/hugepages"

// hugePageSizes returns the page sizes in cgroup file notation ("2MB",
// "1GB") from the hugepages-<n>kB directories.
func hugePageSizes() ([]string, error) {
	entries, err := os.ReadDir(hugePagesDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read %s: %w", hugePagesDir, err)
	}
	var out []string
	for _, e := range entries {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		kb, ok = strings.CutSuffix(kb, "kB")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(kb, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, pageSizeName(n*1024))
	}
	return out, nil
}

// pageSizeName renders bytes the way the kernel names hugetlb files.
func pageSizeName(size uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB"}
	i := 0
	for size >= 1024 && size%1024 == 0 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return strconv.FormatUint(size, 10) + units[i]
}
