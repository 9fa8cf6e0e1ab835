package systemd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"

	"github.com/husk-runtime/husk/userns"
)

// A rootless husk (--rootless, which "auto" turns on for an unprivileged caller) asks the
// caller's own systemd instance for its units, as runc does: the user's manager, reached on
// the user's session bus, which puts them below its own cgroup
// (/user.slice/user-UID.slice/user@UID.service) and delegates them to the user.

// userSlice is the default slice of a rootless container, as runc's.
const userSlice = "user.slice"

// userBusAddress is the D-Bus address of the caller's session bus, where its systemd instance
// listens, found as runc finds it: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus.
func userBusAddress() (string, error) {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a, nil
	}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		p := filepath.Join(xdg, "bus")
		if _, err := os.Stat(p); err == nil {
			return "unix:path=" + p, nil
		}
	}
	return "", errors.New("--systemd-cgroup, rootless: no session bus to reach the user's systemd instance: " +
		"$DBUS_SESSION_BUS_ADDRESS is not set and there is no $XDG_RUNTIME_DIR/bus (a systemd user session with dbus-user-session gives both)")
}

// connectUser opens a connection to the caller's systemd instance on its session bus,
// authenticated as the uid the bus sees (EXTERNAL with a numeric uid: no user lookup).
func connectUser() (*sd.Conn, error) {
	addr, err := userBusAddress()
	if err != nil {
		return nil, err
	}
	uid, err := userns.OwnerUID()
	if err != nil {
		return nil, fmt.Errorf("--systemd-cgroup, rootless: %w", err)
	}
	c, err := sd.NewConnection(func() (*dbus.Conn, error) {
		conn, err := dbus.Dial(addr)
		if err != nil {
			return nil, err
		}
		if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
			conn.Close()
			return nil, err
		}
		if err := conn.Hello(); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	})
	if err != nil {
		return nil, fmt.Errorf("connect to the user's systemd instance on the session bus %s as uid %d: %w", addr, uid, err)
	}
	return c, nil
}

// managerCgroup is the cgroup of the systemd instance husk talks to: a user's manager puts
// its units below its own (/user.slice/user-UID.slice/user@UID.service).
func managerCgroup() (string, error) {
	s, err := managerProperty("ControlGroup")
	if err != nil {
		return "", fmt.Errorf("ask the user's systemd instance its cgroup: %w", err)
	}
	dir, err := strconv.Unquote(s)
	if err != nil || !strings.HasPrefix(dir, "/") {
		return "", fmt.Errorf("the user's systemd instance's cgroup %s is not a path", s)
	}
	return dir, nil
}
