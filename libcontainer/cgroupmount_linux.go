package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// hostCgroupMount is one cgroup hierarchy mounted on the host.
type hostCgroupMount struct {
	mountPoint string // e.g. /sys/fs/cgroup/memory
	root       string // the hierarchy path mounted there (4th mountinfo field)
	fstype     string // cgroup or cgroup2
	options    string // super options: the controllers of a v1 hierarchy
}

func hostCgroupMounts() ([]hostCgroupMount, error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo for cgroup mounts: %w", err)
	}
	out := make([]hostCgroupMount, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, hostCgroupMount{mountPoint: m.Mountpoint, root: m.Root, fstype: m.FSType, options: m.VFSOptions})
	}
	return out, nil
}

// v1Controllers returns the controllers (and name=) of a v1 hierarchy's super options.
func (h hostCgroupMount) v1Controllers() []string {
	var out []string
	for _, o := range strings.Split(h.options, ",") {
		switch o {
		case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "xattr", "clone_children", "noprefix":
			continue
		}
		if strings.HasPrefix(o, "release_agent=") {
			continue
		}
		out = append(out, o)
	}
	return out
}

// ownCgroups maps each hierarchy (by its controller list as /proc/<pid>/cgroup writes it, ""
// for v2) to the cgroup path of process pid ("self": this one) in it.
func ownCgroups(pid string) (map[string]string, error) {
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			out[parts[1]] = parts[2]
		}
	}
	return out, nil
}

// cgroupPlace is one hierarchy mountCgroup puts in the container: at dest, with the
// container's own cgroup in it being own.
type cgroupPlace struct {
	dest        string
	host        hostCgroupMount
	own         string
	controllers string // a v1 hierarchy's controllers, as /proc/<pid>/cgroup lists them
}

// cgroupLayout says where mountCgroup puts each hierarchy for a cgroup mount at dest: the
// cgroup2 hierarchy right there on a pure cgroup2 host (mode Unified, as cgroups.DetectMode
// tells it, whatever other cgroup2 mounts the host has) or for type cgroup2; else a tmpfs at
// dest (tmpfs true) with a directory per hierarchy mounted under /sys/fs/cgroup on the host.
// own maps each hierarchy to the container's cgroup in it (see ownCgroups).
func cgroupLayout(dest, typ string, mode cgroups.Mode, hosts []hostCgroupMount, own map[string]string) ([]cgroupPlace, bool, error) {
	if mode == cgroups.Unified || typ == "cgroup2" {
		h, err := unifiedHostMount(mode, hosts)
		if err != nil {
			return nil, false, err
		}
		return []cgroupPlace{{dest: dest, host: h, own: own[""]}}, false, nil
	}
	var places []cgroupPlace
	for _, h := range hosts {
		if !strings.HasPrefix(h.mountPoint, "/sys/fs/cgroup/") {
			continue
		}
		p := cgroupPlace{dest: filepath.Join(dest, filepath.Base(h.mountPoint)), host: h, own: own[""]}
		if h.fstype != "cgroup2" {
			p.controllers = strings.Join(h.v1Controllers(), ",")
			p.own = own[p.controllers]
		}
		places = append(places, p)
	}
	return places, true, nil
}

// unifiedHostMount picks the host's cgroup2 mount a container's view is made from: the one at
// its usual place for the mode (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host; the
// last of several stacked there, the one visible), else the first other one. A cgroup2 mount
// elsewhere (a bind of a subtree, another engine's) is no better: its root need not be the
// hierarchy's, and the container's cgroup is named from the hierarchy's root.
func unifiedHostMount(mode cgroups.Mode, hosts []hostCgroupMount) (hostCgroupMount, error) {
	usual := "/sys/fs/cgroup"
	if mode == cgroups.Hybrid {
		usual = "/sys/fs/cgroup/unified"
	}
	var found hostCgroupMount
	for _, h := range hosts {
		if h.fstype == "cgroup2" && (h.mountPoint == usual || found.mountPoint == "") {
			found = h
		}
	}
	if found.mountPoint == "" {
		return found, fmt.Errorf("no cgroup2 hierarchy on the host")
	}
	return found, nil
}

// bindSource is the host directory bound at the place when the container has no cgroup
// namespace: its own cgroup in the hierarchy.
func (p cgroupPlace) bindSource() string {
	rel, err := filepath.Rel(p.host.root, p.own)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = "."
	}
	return filepath.Join(p.host.mountPoint, rel)
}

// mountCgroup gives the container its cgroup filesystem: with its own cgroup namespace, fresh
// cgroup mounts (which show only its subtree); without, binds of its own cgroup directories.
// On a v1 or hybrid host the destination is a tmpfs holding one directory per hierarchy, as
// runc lays it out.
func (m *mounter) mountCgroup(sm *specs.Mount, opts mountOpts) error {
	hosts, err := hostCgroupMounts()
	if err != nil {
		return err
	}
	// The container's own cgroups are the bind sources, needed only without a cgroup
	// namespace (with one, fresh cgroup mounts show them).
	var own map[string]string
	if !m.cgroupNS {
		if own, err = ownCgroups("self"); err != nil {
			return err
		}
	}
	readonly := opts.Flags&unix.MS_RDONLY != 0
	flags := opts.Flags &^ (unix.MS_RDONLY | unix.MS_REMOUNT | unix.MS_BIND | unix.MS_REC)
	places, tmpfs, err := cgroupLayout(sm.Destination, sm.Type, cgroups.DetectMode(), hosts, own)
	if err != nil {
		return err
	}
	if !tmpfs {
		return m.mountHierarchy(sm, places[0], flags, readonly)
	}

	dest, err := openInRoot(m.root, sm.Destination, false)
	if err != nil {
		return fmt.Errorf("resolve destination: %w", err)
	}
	if err := m.checkProcOpened(sm, dest, nil); err != nil {
		dest.Close()
		return err
	}
	if err := unix.Mount("tmpfs", fdPath(dest), "tmpfs", flags, mountData("tmpfs", "mode=755", m.label)); err != nil {
		dest.Close()
		return fmt.Errorf("mount tmpfs for cgroups: %w", err)
	}
	dest.Close()
	for _, p := range places {
		if err := m.mountHierarchy(sm, p, flags, readonly); err != nil {
			return err
		}
		// Combined hierarchies (cpu,cpuacct) get a link per controller, as on the host.
		ctrls := strings.Split(p.controllers, ",")
		if len(ctrls) < 2 {
			continue
		}
		name := filepath.Base(p.dest)
		for _, c := range ctrls {
			if c == name || strings.HasPrefix(c, "name=") {
				continue
			}
			link, err := openInRoot(m.root, sm.Destination, false)
			if err != nil {
				return err
			}
			unix.Symlinkat(name, int(link.Fd()), c)
			link.Close()
		}
	}
	if readonly {
		d, err := openInRoot(m.root, sm.Destination, false)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := unix.Mount("", fdPath(d), "", flags|unix.MS_REMOUNT|unix.MS_RDONLY, "mode=755"); err != nil {
			return fmt.Errorf("remount cgroup tmpfs read-only: %w", err)
		}
	}
	return nil
}

// mountHierarchy puts one hierarchy at its place (sm's destination or a directory below it): a
// new mount inside a cgroup namespace, else a bind of the container's own cgroup directory.
func (m *mounter) mountHierarchy(sm *specs.Mount, p cgroupPlace, flags uintptr, readonly bool) error {
	d, err := openInRoot(m.root, p.dest, false)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", p.dest, err)
	}
	defer d.Close()
	if err := m.checkProcOpened(sm, d, nil); err != nil {
		return err
	}
	if readonly {
		flags |= unix.MS_RDONLY
	}
	if m.cgroupNS {
		if err := unix.Mount("cgroup", fdPath(d), p.host.fstype, flags, p.controllers); err != nil {
			return fmt.Errorf("mount %s (%s) on %s: %w", p.host.fstype, p.controllers, p.dest, err)
		}
		return nil
	}
	src := p.bindSource()
	if err := unix.Mount(src, fdPath(d), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, p.dest, err)
	}
	d2, err := openInRoot(m.root, p.dest, false)
	if err != nil {
		return err
	}
	defer d2.Close()
	if err := unix.Mount("", fdPath(d2), "", unix.MS_BIND|unix.MS_REMOUNT|flags, ""); err != nil {
		return fmt.Errorf("remount %s: %w", p.dest, err)
	}
	return nil
}
