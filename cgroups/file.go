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

// writeHook, when set by tests, sees every value written to a cgroup file.
// Files such as devices.allow or io.max take several writes and a fake
// cgroupfs on tmpfs only keeps the last one.
var writeHook func(path, value string)

// writeFile writes value to dir/name in one write(2), as cgroupfs requires.
// The file must already exist: a missing file means the controller or the
// knob is absent, and creating a regular file would hide that.
func writeFile(dir, name, value string) error {
	path := filepath.Join(dir, name)
	if writeHook != nil {
		writeHook(path, value)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %q: %w", path, value, unwrapPathError(err))
	}
	_, err = f.WriteString(value)
	closeErr := f.Close()
	if err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("write %s: %q: %w", path, value, unwrapPathError(err))
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readFile(dir, name string) (string, error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, unwrapPathError(err))
	}
	return string(b), nil
}

// readUint reads a single unsigned number; "max" reads as MaxUint64, as the
// kernel means "no limit".
func readUint(dir, name string) (uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, err
	}
	return parseUint(strings.TrimSpace(s), filepath.Join(dir, name))
}

func parseUint(s, where string) (uint64, error) {
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// Counters can go below zero transiently in the kernel; report 0.
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %s: %q: %w", where, s, err)
	}
	return v, nil
}

// readKeyValues parses files of "key value" lines (memory.stat, cpu.stat).
func readKeyValues(dir, name string) (map[string]uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64)
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		v, err := parseUint(fields[1], filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out[fields[0]] = v
	}
	return out, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
