package systemd

import (
	"fmt"
	"strings"
)

// defaultSlice and defaultPrefix place a container whose config has no cgroupsPath, as runc
// does with its own name: husk-<id>.scope in system.slice (userSlice in a user's instance).
const (
	defaultSlice  = "system.slice"
	defaultPrefix = "husk"
)

// placement is where a container's unit goes.
type placement struct {
	// unit is the unit husk starts: <prefix>-<name>.scope, or <name> when that is a slice.
	unit string
	// slice is the slice the unit goes in (Slice= for a scope, Wants= for a slice).
	slice string
	// dir is the unit's cgroup below the root of the hierarchy,
	// e.g. /system.slice/husk-ID.scope.
	dir string
}

func (p placement) isSlice() bool { return strings.HasSuffix(p.unit, ".slice") }

// parsePlacement reads linux.cgroupsPath as runc's systemd driver does: "slice:prefix:name"
// puts the scope prefix-name.scope in slice (defSlice when empty); a name ending in
// ".slice" makes that slice the container's unit instead (prefix unused); "" means
// ":husk:<id>".
func parsePlacement(cgroupsPath, id, defSlice string) (placement, error) {
	slice, prefix, name := defSlice, defaultPrefix, id
	if cgroupsPath != "" {
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 {
			return placement{}, fmt.Errorf("linux.cgroupsPath %q: the systemd cgroup driver expects \"slice:prefix:name\" (e.g. \"system.slice:docker:1234\")", cgroupsPath)
		}
		slice, prefix, name = parts[0], parts[1], parts[2]
	}
	errf := func(format string, args ...any) error {
		return fmt.Errorf("linux.cgroupsPath %q: "+format, append([]any{cgroupsPath}, args...)...)
	}
	if name == "" {
		return placement{}, errf("the name (after the second ':') is empty")
	}
	if strings.HasSuffix(name, ".slice") {
		dir, err := expandSlice(name)
		if err != nil {
			return placement{}, errf("%w", err)
		}
		if dir == "/" {
			return placement{}, errf("the root slice -.slice cannot be a container's unit")
		}
		// The name of a slice says where it sits: a-b.slice is in a.slice.
		parent := parentSlice(name)
		if slice != "" && cgroupsPath != "" && slice != parent {
			return placement{}, errf("slice %s sits in %s (its name says where), not in %s", name, parent, slice)
		}
		return placement{unit: name, slice: parent, dir: dir}, nil
	}
	if slice == "" {
		slice = defSlice
	}
	parentDir, err := expandSlice(slice)
	if err != nil {
		return placement{}, errf("%w", err)
	}
	// As runc, also with an empty prefix ("-name.scope"): tools that find a container's unit
	// from its cgroupsPath compute the same name.
	unit := prefix + "-" + name + ".scope"
	if err := checkUnitName(unit); err != nil {
		return placement{}, errf("%w", err)
	}
	return placement{unit: unit, slice: slice, dir: strings.TrimSuffix(parentDir, "/") + "/" + unit}, nil
}

// expandSlice turns a slice name into its cgroup path: systemd nests slices by the dashes in
// their names, so a-b-c.slice is /a.slice/a-b.slice/a-b-c.slice, and -.slice is the root.
func expandSlice(slice string) (string, error) {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || base == "" {
		return "", fmt.Errorf("invalid slice name %q: must end in \".slice\"", slice)
	}
	if base == "-" {
		return "/", nil
	}
	if err := checkUnitName(slice); err != nil {
		return "", err
	}
	var path, prefix strings.Builder
	for _, part := range strings.Split(base, "-") {
		if part == "" {
			return "", fmt.Errorf("invalid slice name %q: empty part between dashes", slice)
		}
		prefix.WriteString(part)
		path.WriteString("/" + prefix.String() + ".slice")
		prefix.WriteString("-")
	}
	return path.String(), nil
}

// parentSlice is the slice a slice's name puts it in: a-b.slice is in a.slice, a.slice in
// -.slice.
func parentSlice(slice string) string {
	base := strings.TrimSuffix(slice, ".slice")
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return "-.slice"
	}
	return base[:i] + ".slice"
}

// checkUnitName applies systemd's rules for unit names (unit_name_is_valid), so that a bad
// name is refused before anything is made: at most 255 bytes, letters, digits and ":-_.\" only.
func checkUnitName(unit string) error {
	if len(unit) > 255 {
		return fmt.Errorf("unit name %q is longer than systemd's 255 bytes", unit)
	}
	for i := 0; i < len(unit); i++ {
		c := unit[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(":-_.\\", c) >= 0 {
			continue
		}
		return fmt.Errorf("unit name %q has %q: systemd allows only letters, digits and \":-_.\\\"", unit, c)
	}
	return nil
}
