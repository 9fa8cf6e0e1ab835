package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/userns"
)

// defaultRoot is --root when none is given, as runc chooses it: /run/husk for the host's root,
// $XDG_RUNTIME_DIR/husk for an unprivileged user (podman calls the runtime without --root),
// and for root in a user namespace unless $USER says root.
func defaultRoot() (string, bool) {
	xdg := os.Getenv("XDG_RUNTIME_DIR")
	if xdg == "" || !honourXDGRuntimeDir() {
		return "/run/husk", false
	}
	return filepath.Join(xdg, "husk"), true
}

func honourXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !userns.Running() {
		return false // the host's root keeps /run/husk whatever its XDG_RUNTIME_DIR says
	}
	u, ok := os.LookupEnv("USER")
	return !ok || u != "root"
}

// makeXDGRoot creates the default root under $XDG_RUNTIME_DIR, 0700 and sticky: the XDG
// specification says files there without the sticky bit may be removed by the session.
func makeXDGRoot(root string) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("create --root %s ($XDG_RUNTIME_DIR must be writable by the user): %w", root, err)
	}
	if err := os.Chmod(root, 0o700|os.ModeSticky); err != nil {
		return fmt.Errorf("chmod --root %s: %w", root, err)
	}
	return nil
}

// rootlessCgroups is --rootless: true or false as given; auto (the default) is true for an
// unprivileged user and for root in a user namespace, where cgroups may not be writable. With
// --systemd-cgroup, rootless means the caller's own systemd instance: as in runc, root in a
// user namespace is rootless only when the namespace's root is not the host's (podman's is the
// user's uid; a namespace that maps 0 to 0 talks to the system's instance).
func rootlessCgroups(c *cli.Context) (bool, error) {
	switch v := c.String("rootless"); v {
	case "auto", "":
		if os.Geteuid() != 0 {
			return true, nil
		}
		if !userns.Running() {
			return false, nil
		}
		if c.Bool("systemd-cgroup") {
			uid, err := userns.OwnerUID()
			if err != nil {
				return false, fmt.Errorf("--rootless=auto with --systemd-cgroup: %w", err)
			}
			return uid != 0, nil
		}
		return true, nil
	default:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("--rootless: unknown value %q (want true, false or auto)", v)
		}
		return b, nil
	}
}
