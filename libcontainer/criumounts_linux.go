package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// The mounts criu must not dump but leave to the runtime ("external mounts"): what husk bound
// from the host into the container. A dump names each by its mount point in the container; a
// restore maps the name back to a host path, which may differ (a new cgroup, a new bundle).
// The names are runc's, so that images move between husk and runc.

// addExtMount adds one external mount to opts. criu before 4.3.1 keeps them as the string
// "mnt[KEY]:VAL" without escaping: a key holding "]:" would cut the host path short and could
// bind any host directory into a restored container (a rootfs can make a destination resolve
// to such a name with symlinks), and an empty key means "find the external mounts yourself".
// Both are refused, as runc 1.5 refuses them.
func addExtMount(opts *rpc.CriuOpts, key, val string) error {
	if key == "" || strings.Contains(key, "]:") {
		return fmt.Errorf("criu: invalid external mount destination %q", key)
	}
	opts.ExtMnt = append(opts.ExtMnt, &rpc.ExtMountMap{Key: new(key), Val: new(val)})
	return nil
}

// criuMountDest is where a destination is in the container: resolved inside the rootfs, as
// husk resolved it to mount there ("" for the root itself).
func criuMountDest(rootfs, dest string) string {
	resolved, err := securejoin.SecureJoin(rootfs, dest)
	if err != nil {
		return filepath.Clean("/" + dest)
	}
	return strings.TrimPrefix(resolved, rootfs)
}

// extMountSources lists, for each external mount of the container, its destination in the
// container and its host source. own gives the container's cgroups (ownCgroups) for the
// sources of its cgroup binds; a dump, which needs no sources, passes nil.
func extMountSources(spec *specs.Spec, rootfs, bundle string, own map[string]string) ([][2]string, error) {
	var out [][2]string
	cgroupNS := hasNewNamespace(spec.Linux.Namespaces, specs.CgroupNamespace)
	for _, m := range spec.Mounts {
		dest := criuMountDest(rootfs, m.Destination)
		switch {
		case isBind(m):
			out = append(out, [2]string{dest, bindSourcePath(&m, bundle)})
		case (m.Type == "cgroup" || m.Type == "cgroup2") && !cgroupNS:
			// Binds of the container's cgroup directories (mountCgroup); with its own
			// cgroup namespace they are real cgroup mounts, which criu dumps.
			hosts, err := hostCgroupMounts()
			if err != nil {
				return nil, fmt.Errorf("read the host's cgroup mounts: %w", err)
			}
			places, _, err := cgroupLayout(dest, m.Type, cgroups.DetectMode(), hosts, own)
			if err != nil {
				return nil, fmt.Errorf("cgroup mount %s: %w", m.Destination, err)
			}
			for _, p := range places {
				out = append(out, [2]string{p.dest, p.bindSource()})
			}
		}
	}
	// Device nodes are bound from the host where mknod is not allowed (a user namespace);
	// a name that is no mount point is not used by criu.
	devices := spec.Linux.Devices
	if !devIsBindMounted(spec.Mounts) {
		devices = append(defaultNodes(devices), devices...)
	}
	for _, d := range devices {
		out = append(out, [2]string{criuMountDest(rootfs, d.Path), d.Path})
	}
	return out, nil
}

// dumpExtMounts adds the external mounts of a running container to a dump request: each
// named by its destination, and each masked file (a bind of /dev/null) named /dev/null.
func dumpExtMounts(opts *rpc.CriuOpts, spec *specs.Spec, rootfs string, initPid int) error {
	mounts, err := extMountSources(spec, rootfs, "", nil)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := addExtMount(opts, m[0], m[0]); err != nil {
			return err
		}
	}
	for _, p := range spec.Linux.MaskedPaths {
		// Directories are masked with a tmpfs, which criu dumps.
		fi, err := os.Stat("/proc/" + strconv.Itoa(initPid) + "/root" + p)
		if errors.Is(err, os.ErrNotExist) || (err == nil && fi.IsDir()) {
			continue
		}
		if err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
		if err := addExtMount(opts, p, "/dev/null"); err != nil {
			return err
		}
	}
	return nil
}

// restoreExtMounts maps the names dumpExtMounts gave to this restore's host paths: the
// bundle's bind sources, the new container's cgroups (own: criu's, which sits in them).
func restoreExtMounts(opts *rpc.CriuOpts, spec *specs.Spec, rootfs, bundle string, own map[string]string) error {
	mounts, err := extMountSources(spec, rootfs, bundle, own)
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if err := addExtMount(opts, m[0], m[1]); err != nil {
			return err
		}
	}
	if len(spec.Linux.MaskedPaths) > 0 {
		return addExtMount(opts, "/dev/null", "/dev/null")
	}
	return nil
}

// prepareRestoreMounts makes the mount points of the spec's mounts in the rootfs, as create
// did, for the ones criu will not find: not on a tmpfs (criu restores a tmpfs whole), not the
// cgroup mount (its mount point is part of /sys). A bind mount is bound for a moment so that
// mount points nested in it are made in its source, where create made them; not a read-only
// one, which create could not have written through either. It runs in restore's private
// mount namespace; the binds are undone before criu starts.
func prepareRestoreMounts(spec *specs.Spec, rootfs, bundle string) error {
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer root.Close()
	var bound []string
	defer func() {
		for i := len(bound) - 1; i >= 0; i-- {
			if f, err := openatInRoot(root, bound[i]); err == nil {
				unix.Unmount(fdPath(f), unix.MNT_DETACH)
				f.Close()
			}
		}
	}()
	for i, m := range spec.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" || onTmpfs(m.Destination, spec.Mounts) {
			continue
		}
		err := prepareMountPoint(root, bundle, m, &bound)
		if err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): make the mount point for restore: %w", i, m.Source, m.Destination, err)
		}
	}
	return nil
}

func prepareMountPoint(root *os.File, bundle string, m specs.Mount, bound *[]string) error {
	if !isBind(m) {
		d, err := openInRoot(root, m.Destination, false)
		if err != nil {
			return err
		}
		return d.Close()
	}
	srcFile, err := os.OpenFile(bindSourcePath(&m, bundle), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open bind source: %w", err)
	}
	defer srcFile.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(srcFile.Fd()), &st); err != nil {
		return fmt.Errorf("stat bind source %s: %w", srcFile.Name(), err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	dest, err := openInRoot(root, m.Destination, !isDir)
	if err != nil {
		return err
	}
	defer dest.Close()
	opts, err := parseMountOptions(m.Options)
	if err != nil {
		return err
	}
	if opts.Flags&unix.MS_RDONLY != 0 || opts.AttrSet&unix.MOUNT_ATTR_RDONLY != 0 {
		return nil
	}
	if err := unix.Mount(fdPath(srcFile), fdPath(dest), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	*bound = append(*bound, m.Destination)
	return nil
}

// onTmpfs says whether path lies under a tmpfs mount of the spec.
func onTmpfs(path string, mounts []specs.Mount) bool {
	for _, m := range mounts {
		if m.Type == "tmpfs" && strings.HasPrefix(filepath.Clean(path), filepath.Clean(m.Destination)+"/") {
			return true
		}
	}
	return false
}
