package systemd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// callTimeout bounds one call to systemd and the wait for its job: a systemd that does not
// answer must not hang a runtime command forever.
const callTimeout = 30 * time.Second

// bus is husk's one connection to systemd for the whole process, made on first use (create,
// update and delete need it; state, kill, pause and the rest only read and write cgroup
// files). conn is guarded by mu. user says which instance: the caller's own (rootless, see
// user.go) or the system's; a process talks to one only (useInstance).
var bus struct {
	mu   sync.Mutex
	conn *sd.Conn
	user bool
}

// useInstance chooses the systemd instance the connection goes to, before the first call.
func useInstance(user bool) {
	bus.mu.Lock()
	bus.user = user
	bus.mu.Unlock()
}

// connect opens the connection: to the user's instance (connectUser), or to the system's. As
// root it talks to systemd's private socket directly: no dbus-daemon in between (none needs to
// be installed), no Hello, and systemd sends it every JobRemoved signal without a Subscribe.
// Otherwise, or when that socket is refused, it goes through the system bus, as runc does.
func connect(user bool) (*sd.Conn, error) {
	if user {
		return connectUser()
	}
	// The connection lives as long as this context: godbus closes it when the context ends.
	ctx := context.Background()
	if os.Geteuid() == 0 {
		c, err := sd.NewSystemdConnectionContext(ctx)
		if err == nil {
			return c, nil
		}
		slog.Debug("systemd's private socket refused, trying the system bus", "error", err)
	}
	c, err := sd.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to systemd over D-Bus (/run/systemd/private, then the system bus): %w", err)
	}
	return c, nil
}

// call runs op on the connection, connecting first if needed. A connection that broke (systemd
// re-executed itself, as on an upgrade) is replaced and op tried once more.
func call(op func(ctx context.Context, c *sd.Conn) error) error {
	for attempt := 0; ; attempt++ {
		bus.mu.Lock()
		if bus.conn == nil {
			c, err := connect(bus.user)
			if err != nil {
				bus.mu.Unlock()
				return err
			}
			bus.conn = c
		}
		c := bus.conn
		bus.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		err := op(ctx, c)
		cancel()
		if !errors.Is(err, dbus.ErrClosed) || attempt > 0 {
			return err
		}
		bus.mu.Lock()
		if bus.conn == c {
			c.Close()
			bus.conn = nil
		}
		bus.mu.Unlock()
	}
}

// prepare connects to systemd and asks its version in the background, so that a create has
// both ready when its init is there to be placed in its unit.
func prepare() {
	go version()
}

// version returns systemd's version number, asked once per process (callers meanwhile wait
// for that one answer).
var version = sync.OnceValues(func() (int, error) {
	s, err := managerProperty("Version")
	if err != nil {
		return 0, fmt.Errorf("ask systemd its version: %w", err)
	}
	return parseVersion(s)
})

// managerProperty reads a property of the systemd instance itself, in GVariant text form.
func managerProperty(name string) (string, error) {
	var s string
	err := call(func(_ context.Context, c *sd.Conn) error {
		var err error
		s, err = c.GetManagerProperty(name)
		return err
	})
	return s, err
}

// parseVersion reads the number at the front of systemd's Version property, which comes in
// GVariant text form: "\"252.33-1~deb12u1\"" is 252.
func parseVersion(s string) (int, error) {
	t := strings.TrimLeft(s, "\"v")
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	v, err := strconv.Atoi(t[:end])
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("systemd version %s: no number at its start", s)
	}
	return v, nil
}

func isDBusError(err error, name string) bool {
	var e dbus.Error
	return errors.As(err, &e) && e.Name == name
}

const (
	errUnitExists = "org.freedesktop.systemd1.UnitExists"
	// errNoSuchUnit also answers a reset-failed of a unit that is no longer loaded.
	errNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"
)

// startUnit starts a transient unit and waits until its start job is done. A unit of that
// name that exists is most likely a failed one left behind (systemd keeps those until a
// reset-failed): it is reset and the start tried once more, as runc does. With shared (a
// slice, which other units may be in) an existing unit is left as it is, and existed says so.
func startUnit(name string, props []sd.Property, shared bool) (existed bool, err error) {
	for attempt := 0; ; attempt++ {
		done := make(chan string, 1)
		err := call(func(ctx context.Context, c *sd.Conn) error {
			_, err := c.StartTransientUnitContext(ctx, name, "replace", props, done)
			return err
		})
		if err == nil {
			return false, waitJob(name, "start", done)
		}
		if !isDBusError(err, errUnitExists) {
			return false, fmt.Errorf("start systemd unit %s: %w", name, err)
		}
		if shared {
			return true, nil
		}
		if attempt > 0 {
			return false, fmt.Errorf("start systemd unit %s: a unit of that name already exists", name)
		}
		if err := resetFailed(name); err != nil {
			slog.Debug("reset-failed before retrying a start", "unit", name, "error", err)
		}
	}
}

// waitJob waits for a job's result; anything but "done" is an error, after which the unit is
// reset so that a failed start leaves nothing loaded.
func waitJob(name, what string, done <-chan string) error {
	timer := time.NewTimer(callTimeout)
	defer timer.Stop()
	select {
	case result := <-done:
		if result == "done" {
			return nil
		}
		_ = resetFailed(name)
		return fmt.Errorf("%s systemd unit %s: job %s (see journalctl -u %s)", what, name, result, name)
	case <-timer.C:
		_ = resetFailed(name)
		return fmt.Errorf("%s systemd unit %s: no answer from systemd in %s", what, name, callTimeout)
	}
}

// stopUnit stops a unit and waits for it, then resets it in case it failed (an OOM kill, a
// timeout), so that nothing of it stays loaded. A unit systemd no longer has is fine: a
// scope whose processes are all gone is removed by systemd itself.
func stopUnit(name string) error {
	done := make(chan string, 1)
	err := call(func(ctx context.Context, c *sd.Conn) error {
		_, err := c.StopUnitContext(ctx, name, "replace", done)
		return err
	})
	if isDBusError(err, errNoSuchUnit) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop systemd unit %s: %w", name, err)
	}
	if err := waitJob(name, "stop", done); err != nil {
		return err
	}
	if err := resetFailed(name); err != nil && !isDBusError(err, errNoSuchUnit) {
		return fmt.Errorf("reset-failed systemd unit %s: %w", name, err)
	}
	return nil
}

func resetFailed(name string) error {
	return call(func(ctx context.Context, c *sd.Conn) error {
		return c.ResetFailedUnitContext(ctx, name)
	})
}

// setProperties changes a running unit's properties, for its runtime only (as runc does):
// nothing is written to /etc.
func setProperties(name string, props []sd.Property) error {
	if len(props) == 0 {
		return nil
	}
	err := call(func(ctx context.Context, c *sd.Conn) error {
		return c.SetUnitPropertiesContext(ctx, name, true, props...)
	})
	if err != nil {
		return fmt.Errorf("set properties of systemd unit %s: %w", name, err)
	}
	return nil
}
