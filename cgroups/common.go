package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mkdirBelow creates every missing directory from mount (exclusive) down to
// dir and returns the ones it made, outermost first, so a failure can undo
// exactly those. before is called with each existing parent level before its
// child is created (cgroup v2 uses it to enable controllers).
func mkdirBelow(mount, dir string, before func(level string) error) ([]string, error) {
	if !within(dir, mount) || dir == mount {
		return nil, fmt.Errorf("cgroup %s is not below its mount %s", dir, mount)
	}
	rel := strings.TrimPrefix(dir, mount+"/")
	var created []string
	level := mount
	for _, part := range strings.Split(rel, "/") {
		if before != nil {
			if err := before(level); err != nil {
				removeCreated(created)
				return nil, err
			}
		}
		level = filepath.Join(level, part)
		err := os.Mkdir(level, 0o755)
		if err == nil {
			created = append(created, level)
			continue
		}
		if !errors.Is(err, os.ErrExist) {
			removeCreated(created)
			return nil, fmt.Errorf("create cgroup %s: %w", level, unwrapPathError(err))
		}
	}
	return created, nil
}

// removeCreated undoes mkdirBelow, innermost first.
func removeCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		_ = os.Remove(created[i])
	}
}

// removeCgroup removes dir and any cgroups below it. A cgroup directory can
// stay busy for a moment after its last process exited (the kernel frees it
// asynchronously), so rmdir is retried on EBUSY.
func removeCgroup(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, unwrapPathError(err))
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	delay := 10 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || attempt == 5 {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// pidsBelow lists the processes in dir and every cgroup below it.
func pidsBelow(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			// A child cgroup removed while walking is not an error.
			if errors.Is(err, os.ErrNotExist) && path != dir {
				return nil
			}
			return fmt.Errorf("list pids in %s: %w", path, unwrapPathError(err))
		}
		if !d.IsDir() {
			return nil
		}
		s, err := readFile(path, "cgroup.procs")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && path != dir {
				return nil
			}
			return err
		}
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return fmt.Errorf("parse %s/cgroup.procs: %q: %w", path, f, err)
			}
			pids = append(pids, pid)
		}
		return nil
	})
	sort.Ints(pids)
	return pids, err
}

// signalPids sends sig to each pid; processes that exited meanwhile are fine.
func signalPids(pids []int, sig unix.Signal) error {
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("kill pid %d with %s: %w", pid, unix.SignalName(sig), err))
		}
	}
	return errors.Join(errs...)
}

// writePid moves pid into the cgroup at dir.
func writePid(dir string, pid int) error {
	return writeFile(dir, "cgroup.procs", strconv.Itoa(pid))
}

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func u64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
