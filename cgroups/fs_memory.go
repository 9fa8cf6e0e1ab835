package cgroups

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// warnKernelMemory says that linux.resources.memory.kernel is not applied: the spec deprecates
// it and kernels since 5.16 no longer enforce kmem limits (runc ignores it too).
func warnKernelMemory(mem *specs.LinuxMemory) {
	if mem.Kernel != nil {
		slog.Warn("linux.resources.memory.kernel is deprecated and kernels since 5.16 do not enforce it: ignored")
	}
}

func (m *fsManager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	warnKernelMemory(mem)
	if mem.Limit == nil && mem.Swap == nil && mem.Reservation == nil && mem.Swappiness == nil &&
		mem.DisableOOMKiller == nil && mem.UseHierarchy == nil && mem.KernelTCP == nil {
		return nil
	}
	dir, err := m.need("memory", "linux.resources.memory")
	if err != nil {
		return err
	}
	if mem.UseHierarchy != nil {
		v := "0"
		if *mem.UseHierarchy {
			v = "1"
		}
		if err := writeFile(dir, "memory.use_hierarchy", v); err != nil {
			return fmt.Errorf("linux.resources.memory.useHierarchy: %w", err)
		}
	}
	limit, swap := i64(mem.Limit), i64(mem.Swap)
	if err := checkBeforeUpdate(mem, dir, "memory.usage_in_bytes", false); err != nil {
		return err
	}
	if err := setMemoryAndSwapV1(dir, limit, swap); err != nil {
		return err
	}
	if v := i64(mem.Reservation); v != 0 {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.reservation: %w", err)
		}
	}
	if mem.DisableOOMKiller != nil {
		v := "0"
		if *mem.DisableOOMKiller {
			v = "1"
		}
		if err := writeFile(dir, "memory.oom_control", v); err != nil {
			return fmt.Errorf("linux.resources.memory.disableOOMKiller: %w", err)
		}
	}
	if mem.KernelTCP != nil {
		// The limit of the TCP buffers' memory, which v1 still enforces (kmem itself not).
		if err := writeFile(dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(*mem.KernelTCP, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.kernelTCP: %w", err)
		}
	}
	if mem.Swappiness != nil {
		if *mem.Swappiness > 100 {
			return fmt.Errorf("linux.resources.memory.swappiness: %d is outside 0-100", *mem.Swappiness)
		}
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*mem.Swappiness, 10)); err != nil {
			return fmt.Errorf("linux.resources.memory.swappiness: %w", err)
		}
	}
	return nil
}

// setMemoryAndSwapV1 writes memory.limit_in_bytes and
// memory.memsw.limit_in_bytes. The kernel insists memsw >= limit at every
// moment, so when the total grows it must be written first, and when it
// shrinks, last.
func setMemoryAndSwapV1(dir string, limit, swap int64) error {
	const memsw = "memory.memsw.limit_in_bytes"
	if limit == -1 && swap == 0 && fileExists(filepath.Join(dir, memsw)) {
		// Unlimited memory with swap unset means unlimited swap too.
		swap = -1
	}
	if limit != 0 && swap != 0 {
		cur, err := readUint(dir, "memory.limit_in_bytes")
		if err != nil {
			return fmt.Errorf("linux.resources.memory: %w", err)
		}
		if swap == -1 || cur < uint64(swap) {
			if err := setSwapV1(dir, swap); err != nil {
				return err
			}
			return setLimitV1(dir, limit)
		}
	}
	if err := setLimitV1(dir, limit); err != nil {
		return err
	}
	return setSwapV1(dir, swap)
}

func setLimitV1(dir string, limit int64) error {
	if limit == 0 {
		return nil
	}
	err := writeFile(dir, "memory.limit_in_bytes", strconv.FormatInt(limit, 10))
	if err == nil {
		return nil
	}
	if errors.Is(err, unix.EBUSY) {
		// The kernel could not reclaim down to the new limit.
		usage, _ := readUint(dir, "memory.usage_in_bytes")
		peak, _ := readUint(dir, "memory.max_usage_in_bytes")
		return fmt.Errorf("linux.resources.memory.limit: %w (current usage %d, peak usage %d)", err, usage, peak)
	}
	return fmt.Errorf("linux.resources.memory.limit: %w", err)
}

func setSwapV1(dir string, swap int64) error {
	if swap == 0 {
		return nil
	}
	if err := writeFile(dir, "memory.memsw.limit_in_bytes", strconv.FormatInt(swap, 10)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("linux.resources.memory.swap: swap accounting is off on this host: %w", err)
		}
		return fmt.Errorf("linux.resources.memory.swap: %w", err)
	}
	return nil
}
