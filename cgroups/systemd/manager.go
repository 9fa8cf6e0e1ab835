// Package systemd is the systemd cgroup driver (--systemd-cgroup), as runc's: a container's
// cgroup is a transient systemd unit (a scope with Delegate=yes, or a slice) that husk asks
// systemd for over D-Bus. The limits systemd knows are given to it as unit properties; then
// every limit is written to the unit's cgroup files with the cgroupfs driver's code, which
// also does everything that needs no D-Bus (pause, kill -a, stats, ps, exec's join).
package systemd

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// Manager is a container's cgroup as a systemd unit; it implements cgroups.Manager.
type Manager struct {
	place placement
	id    string
	// extra are the properties of the config's org.systemd.property.* annotations, given to
	// the unit when it starts.
	extra []sd.Property
	// files is the unit's cgroup (each hierarchy, on v1) driven through its files.
	files cgroups.Manager
	v2    bool
	// started is set once the unit was asked for (or the manager was loaded for a
	// container that has one): from then on Destroy stops it.
	started bool
	// pending holds the limits Set got before the unit started: they go with its start.
	pending *specs.LinuxResources
}

var _ cgroups.Manager = (*Manager)(nil)

// New is the cgroup of container id, placed by its linux.cgroupsPath ("slice:prefix:name",
// see parsePlacement), in the system's systemd instance or with user (rootless) in the
// caller's own (see user.go). Nothing is made on the host until Apply; the connection to the
// system's instance is made meanwhile, in the background (a user's is asked for its cgroup at
// once: the unit's goes below it).
func New(cgroupsPath, id string, annotations map[string]string, user bool) (*Manager, error) {
	if err := checkSystemd(); err != nil {
		return nil, err
	}
	v2 := cgroups.DetectMode() == cgroups.Unified
	slice := defaultSlice
	if user {
		if !v2 {
			// As runc: a user's instance is given cgroups only on a unified hierarchy.
			return nil, errors.New("--systemd-cgroup, rootless: the user's systemd instance manages cgroups only on cgroup v2, and this host has v1 controllers")
		}
		slice = userSlice
	}
	place, err := parsePlacement(cgroupsPath, id, slice)
	if err != nil {
		return nil, err
	}
	extra, err := annotationProperties(annotations)
	if err != nil {
		return nil, err
	}
	useInstance(user)
	if user {
		root, err := managerCgroup()
		if err != nil {
			return nil, err
		}
		place.dir = root + place.dir
	}
	files, err := cgroups.New(place.dir, id)
	if err != nil {
		return nil, fmt.Errorf("cgroup of systemd unit %s: %w", place.unit, err)
	}
	prepare()
	return &Manager{place: place, id: id, extra: extra, files: files, v2: v2}, nil
}

// Load rebuilds the manager of a container whose unit was started (in the user's instance
// with user), from the unit's name and the cgroup paths saved with the container. It makes no
// D-Bus call.
func Load(unit string, paths map[string]string, user bool) (*Manager, error) {
	if !strings.HasSuffix(unit, ".scope") && !strings.HasSuffix(unit, ".slice") || checkUnitName(unit) != nil {
		return nil, fmt.Errorf("load systemd cgroup: saved unit name %q is not a scope or slice name", unit)
	}
	files, err := cgroups.Load(paths)
	if err != nil {
		return nil, err
	}
	useInstance(user)
	return &Manager{place: placement{unit: unit}, files: files, v2: cgroups.DetectMode() == cgroups.Unified, started: true}, nil
}

// checkSystemd fails unless systemd is this host's init, by sd_booted(3)'s test.
func checkSystemd() error {
	fi, err := os.Lstat("/run/systemd/system")
	if err != nil || !fi.IsDir() {
		return errors.New("--systemd-cgroup: systemd is not running on this host (no /run/systemd/system): use the cgroupfs driver (no --systemd-cgroup)")
	}
	return nil
}

// Unit is the name of the container's unit, e.g. husk-ID.scope.
func (m *Manager) Unit() string { return m.place.unit }

// Apply starts the unit with pid in it, waits until systemd has done so, then writes the
// limits Set gave before. A scope cannot exist without a process, so the unit starts with
// one: Apply(-1) asks nothing of systemd, and the limits Set is given meanwhile go with the
// start, in its one StartTransientUnit call. A slice (a unit name ending in .slice) starts
// then too, and the process joins it by its files, as its own cgroup.
func (m *Manager) Apply(pid int) error {
	if m.started {
		if pid > 0 {
			return m.files.Apply(pid)
		}
		return nil
	}
	if pid <= 0 {
		return nil
	}
	begin := time.Now()
	props, limits, err := m.startProperties(pid)
	if err != nil {
		return err
	}
	m.started = true
	t0 := time.Now()
	existed, err := startUnit(m.place.unit, append(props, limits...), m.place.isSlice())
	if err != nil {
		return err
	}
	if existed {
		// A slice systemd has already keeps its settings, and gets the limits as an update
		// gives them (runc sets them so on every unit).
		if err := setProperties(m.place.unit, limits); err != nil {
			return err
		}
	}
	t1 := time.Now()
	// systemd moved the process into the unit's cgroup2 cgroup, and on v1 into the
	// hierarchies it manages; the others (freezer, net_cls, ...) and a slice are husk's to join.
	if m.place.isSlice() || !m.v2 {
		if err := m.files.Apply(pid); err != nil {
			return err
		}
	}
	r := m.pending
	m.pending = nil
	if err := m.files.Set(r); err != nil {
		return err
	}
	// The wait for the connection (made in the background since New), systemd's start job,
	// and the cgroup files.
	slog.Debug("systemd unit started", "unit", m.place.unit, "connect", t0.Sub(begin), "start", t1.Sub(t0), "files", time.Since(t1))
	return nil
}

// startProperties are the properties the unit starts with: runc's (accounting on for every
// controller, no default dependencies, delegation for a scope) and the config's annotations,
// then apart the limits Set was given.
func (m *Manager) startProperties(pid int) (props, limits []sd.Property, err error) {
	props = []sd.Property{sd.PropDescription("husk container " + m.id)}
	if m.place.isSlice() {
		props = append(props, sd.PropWants(m.place.slice))
	} else {
		props = append(props, sd.PropSlice(m.place.slice), newProp("Delegate", true), sd.PropPids(uint32(pid)))
	}
	io := "IOAccounting"
	if !m.v2 {
		io = "BlockIOAccounting"
	}
	props = append(props,
		newProp("MemoryAccounting", true), newProp("CPUAccounting", true),
		newProp(io, true), newProp("TasksAccounting", true),
		newProp("DefaultDependencies", false))
	props = append(props, m.extra...)
	if m.pending == nil {
		return props, nil, nil
	}
	if policy := oomPolicy(m.pending); policy != "" && m.v2 && !m.place.isSlice() {
		// Scopes take OOMPolicy= from systemd v253 on; older ones only get the file.
		v, err := version()
		if err != nil {
			return nil, nil, err
		}
		if v >= 253 {
			props = append(props, newProp("OOMPolicy", policy))
		}
	}
	b := propertyBuilder{v2: m.v2, version: version, current: func() (cgroups.CPUMax, error) { return defaultCPUMax, nil }}
	limits, err = b.resourceProperties(m.pending)
	if err != nil {
		return nil, nil, err
	}
	return props, limits, nil
}

// Set gives r's limits to systemd as properties of the running unit, then writes them to the
// cgroup files. Before the unit starts they are kept for Apply, which starts it with them.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if !m.started {
		c := *r
		m.pending = &c
		return nil
	}
	// Before systemd gets a memory limit the container might be above already.
	if err := cgroups.CheckMemoryUsage(m.files, r); err != nil {
		return err
	}
	b := propertyBuilder{v2: m.v2, version: version, current: func() (cgroups.CPUMax, error) { return cgroups.CurrentCPUMax(m.files) }}
	props, err := b.resourceProperties(r)
	if err != nil {
		return err
	}
	if err := setProperties(m.place.unit, props); err != nil {
		return err
	}
	return m.files.Set(r)
}

// Destroy stops the unit (systemd removes its cgroup) and resets it if it failed, so that
// nothing of it stays loaded; then removes what is left of the cgroup directories (sub-cgroups
// systemd did not make, v1 hierarchies it does not manage). Like the other managers it kills
// nothing itself: stopping an empty unit kills nothing either.
func (m *Manager) Destroy() error {
	var stopErr error
	if m.started {
		stopErr = stopUnit(m.place.unit)
	}
	return errors.Join(stopErr, m.files.Destroy())
}

func (m *Manager) Freeze() error                               { return m.files.Freeze() }
func (m *Manager) Thaw() error                                 { return m.files.Thaw() }
func (m *Manager) FreezerState() (cgroups.FreezerState, error) { return m.files.FreezerState() }
func (m *Manager) Pids() ([]int, error)                        { return m.files.Pids() }
func (m *Manager) Stats() (*cgroups.Stats, error)              { return m.files.Stats() }
func (m *Manager) Kill(sig unix.Signal) error                  { return m.files.Kill(sig) }
func (m *Manager) Paths() map[string]string                    { return m.files.Paths() }
func (m *Manager) Exists() bool                                { return m.files.Exists() }
func (m *Manager) OOMKillCount() (uint64, error)               { return m.files.OOMKillCount() }
