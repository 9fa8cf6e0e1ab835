package libcontainer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// Create and restore both make a new container from a bundle, and share how they begin and how
// they fail: the bundle read and checked (loadClaim), the id claimed (claim: the state
// directory made and locked, and a first state.json saved before anything else exists on the
// host, so that delete finds whatever a create or restore killed at any instant made), and on
// failure what was made undone (discard), so that bad input leaves nothing behind.

// containerClaim is a container create or restore is about to make.
type containerClaim struct {
	root, id string
	bundle   string // absolute
	spec     *specs.Spec
	rootfs   string
	// systemdCgroup: the systemd cgroup driver; rootlessCgroups: --rootless, no permission to
	// make the cgroup is tolerated (see rootlessCgroup).
	systemdCgroup, rootlessCgroups bool
	done                           string // "created" or "restored", for errors
}

// loadClaim checks the id and reads the bundle's config, checked as a rootless one when husk
// runs as an unprivileged user. Nothing is made.
func loadClaim(root, id, bundle, done string) (*containerClaim, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	spec, rootfs, err := LoadSpec(abs)
	if err != nil {
		return nil, err
	}
	if rootlessEUID() {
		if err := validateRootless(spec); err != nil {
			return nil, err
		}
	}
	return &containerClaim{root: root, id: id, bundle: abs, spec: spec, rootfs: rootfs, done: done}, nil
}

// claim takes the id: it makes the state directory and locks it (the lock is held until the
// caller closes the container), refuses a cgroup in use, and saves the first state (the config,
// with the notify socket's bind mount when husk runs with NOTIFY_SOCKET, and the cgroup to be
// made). With rootless cgroups it then makes the cgroup, or decides on none (nil). On failure
// nothing is left; afterwards the caller undoes the container with discard.
func (cl *containerClaim) claim() (*Container, cgroups.Manager, error) {
	spec := cl.spec
	// Resolved before anything exists; nothing is made until the state names it.
	cg, unit, err := newCgroup(spec, cl.id, cl.systemdCgroup, cl.rootlessCgroups)
	if err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(cl.root, 0o700); err != nil {
		return nil, nil, fmt.Errorf("create state root %s: %w", cl.root, err)
	}
	dir := filepath.Join(cl.root, cl.id)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, nil, fmt.Errorf("container with id %s already exists", cl.id)
		}
		return nil, nil, fmt.Errorf("create state dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// A delete of the id came between the mkdir and the lock: it is not ours to
			// remove any more.
			return nil, nil, fmt.Errorf("container %s was deleted while it was being %s", cl.id, cl.done)
		}
		os.RemoveAll(dir)
		return nil, nil, err
	}
	c := &Container{Root: cl.root, Dir: dir, lock: lock, State: &State{
		ID: cl.id, Bundle: cl.bundle, Rootfs: cl.rootfs, CgroupPaths: cg.Paths(), SystemdUnit: unit,
		SystemdUser: unit != "" && cl.rootlessCgroups, Created: time.Now().UTC(),
		CreatorPid: os.Getpid(),
	}}
	fail := func(err error) (*Container, cgroups.Manager, error) {
		c.discard(nil)
		return nil, nil, err
	}
	// Checked once the id is ours: a create of the same id that got there first is "already
	// exists", not a cgroup in use.
	if err := refuseUsedCgroup(cg, cgroupName(spec.Linux.CgroupsPath, cl.id)); err != nil {
		return fail(err)
	}
	if c.State.CreatorStartTime, _, err = procStartTime(os.Getpid()); err != nil {
		return fail(fmt.Errorf("read own start time: %w", err))
	}
	if host := os.Getenv("NOTIFY_SOCKET"); host != "" {
		if err := addNotifyMount(dir, spec); err != nil {
			return fail(err)
		}
		c.State.NotifySocket = host
	}
	if err := c.State.setSpec(spec); err != nil {
		return fail(err)
	}
	// The first state, before any cgroup exists: from here on, whenever husk is killed,
	// delete finds what was made (the status reads "creating" while this process lives,
	// "stopped" once it is gone).
	if err := writeState(dir, c.State, false); err != nil {
		return fail(err)
	}
	if cl.rootlessCgroups && !cl.systemdCgroup {
		// May make the cgroup (a delegated subtree) or decide on none; either way after the
		// first state named it. With the systemd driver the user's own systemd instance
		// makes the cgroup, and not getting it is an error, as in runc.
		if cg, err = rootlessCgroup(cg, spec); err != nil {
			return fail(err)
		}
		c.State.CgroupPaths = cgroupPaths(cg)
	}
	return c, cg, nil
}

// discard undoes a container whose create or restore failed, once the processes its caller
// started are killed: whatever else runs in its cgroup is killed, the cgroup (nil: none) and
// the state directory are removed, and the lock is released.
func (c *Container) discard(cg cgroups.Manager) {
	if cg != nil {
		cg.Kill(unix.SIGKILL)
		if err := cg.Destroy(); err != nil {
			slog.Warn("remove cgroup of failed container", "id", c.State.ID, "error", err)
		}
	}
	os.RemoveAll(c.Dir)
	c.Close()
}

// killAndWait kills a container's init (none when pid is 0) and waits until it is gone or a
// zombie.
func killAndWait(pid int) {
	if pid > 0 {
		unix.Kill(pid, unix.SIGKILL)
		waitGone(pid, 2*time.Second)
	}
}
