package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var updateCommand = &cli.Command{
	Name:      "update",
	Usage:     "change the resource limits of a running container",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "JSON linux.resources from a file, or - for stdin"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit (bytes, or with a k/m/g/t suffix; -1 for none)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit"},
		&cli.StringFlag{Name: "kernel-memory", Usage: "not supported: the kernel dropped kernel memory limits"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Usage: "TCP buffer memory limit (cgroup v1 only)"},
		&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares (relative weight)"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds per period (-1 for none)"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst in microseconds"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1 to make the cgroup SCHED_IDLE, 0 not"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period in microseconds"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime in microseconds"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on (0-3, 0,1)"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to allocate from"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes (-1 for none)"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight, 10 to 1000"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "not supported: Intel RDT"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "not supported: Intel RDT"},
	},
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		for _, f := range []string{"kernel-memory", "l3-cache-schema", "mem-bw-schema"} {
			if c.IsSet(f) {
				return fmt.Errorf("--%s is not supported", f)
			}
		}
		// Locked: the limits are read, written and saved as one change.
		ctr, err := libcontainer.LoadLocked(c.String("root"), id)
		if err != nil {
			return err
		}
		defer ctr.Close()
		cur, err := ctr.Resources()
		if err != nil {
			return err
		}
		r, err := updatedResources(c, cur)
		if err != nil {
			return err
		}
		return ctr.Update(r)
	},
}

// updatedResources starts from the container's current resources, replaces them with the
// -r JSON when given, then applies each flag that was set.
func updatedResources(c *cli.Context, cur *specs.LinuxResources) (*specs.LinuxResources, error) {
	r := deepCopyResources(cur)
	if path := c.String("resources"); path != "" {
		var in io.Reader = os.Stdin
		if path != "-" {
			f, err := os.Open(path)
			if err != nil {
				return nil, fmt.Errorf("--resources: %w", err)
			}
			defer f.Close()
			in = f
		}
		var fromJSON specs.LinuxResources
		if err := json.NewDecoder(in).Decode(&fromJSON); err != nil {
			return nil, fmt.Errorf("--resources: decode linux.resources JSON: %w", err)
		}
		fromJSON.Devices = r.Devices
		r = &fromJSON
	}
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	set := func(name string, parse func(string) error) error {
		if !c.IsSet(name) {
			return nil
		}
		if err := parse(c.String(name)); err != nil {
			return fmt.Errorf("--%s %q: %w", name, c.String(name), err)
		}
		return nil
	}
	bytes := func(dst **int64) func(string) error {
		return func(s string) error {
			v, err := parseBytes(s)
			*dst = &v
			return err
		}
	}
	u64 := func(dst **uint64) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseUint(s, 10, 64)
			*dst = &v
			return err
		}
	}
	i64 := func(dst **int64) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseInt(s, 10, 64)
			*dst = &v
			return err
		}
	}
	str := func(dst *string) func(string) error {
		return func(s string) error { *dst = s; return nil }
	}
	var pids *int64
	var blkio *uint64
	var idle *int64
	steps := []struct {
		name  string
		parse func(string) error
	}{
		{"memory", bytes(&r.Memory.Limit)},
		{"memory-swap", bytes(&r.Memory.Swap)},
		{"memory-reservation", bytes(&r.Memory.Reservation)},
		{"kernel-memory-tcp", bytes(&r.Memory.KernelTCP)},
		{"cpu-share", u64(&r.CPU.Shares)},
		{"cpu-quota", i64(&r.CPU.Quota)},
		{"cpu-period", u64(&r.CPU.Period)},
		{"cpu-burst", u64(&r.CPU.Burst)},
		{"cpu-idle", i64(&idle)},
		{"cpu-rt-period", u64(&r.CPU.RealtimePeriod)},
		{"cpu-rt-runtime", i64(&r.CPU.RealtimeRuntime)},
		{"cpuset-cpus", str(&r.CPU.Cpus)},
		{"cpuset-mems", str(&r.CPU.Mems)},
		{"pids-limit", i64(&pids)},
		{"blkio-weight", u64(&blkio)},
	}
	for _, s := range steps {
		if err := set(s.name, s.parse); err != nil {
			return nil, err
		}
	}
	if idle != nil {
		r.CPU.Idle = idle
	}
	if pids != nil {
		r.Pids = &specs.LinuxPids{Limit: pids}
	}
	if blkio != nil {
		if *blkio > 1000 || (*blkio != 0 && *blkio < 10) {
			return nil, errors.New("--blkio-weight: must be 0 or between 10 and 1000")
		}
		w := uint16(*blkio)
		if r.BlockIO == nil {
			r.BlockIO = &specs.LinuxBlockIO{}
		}
		r.BlockIO.Weight = &w
	}
	return r, nil
}

func deepCopyResources(r *specs.LinuxResources) *specs.LinuxResources {
	b, _ := json.Marshal(r)
	var out specs.LinuxResources
	json.Unmarshal(b, &out)
	return &out
}

// parseBytes reads "1048576", "512k", "10m", "2g", "1t" (binary units) or "-1".
func parseBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	mult := int64(1)
	t := strings.ToLower(strings.TrimSuffix(strings.ToLower(s), "b"))
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1<<10, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1<<20, strings.TrimSuffix(t, "m")
	case strings.HasSuffix(t, "g"):
		mult, t = 1<<30, strings.TrimSuffix(t, "g")
	case strings.HasSuffix(t, "t"):
		mult, t = 1<<40, strings.TrimSuffix(t, "t")
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size")
	}
	return v * mult, nil
}
