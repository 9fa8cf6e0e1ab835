package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupRootfs builds the container's filesystem view in its mount namespace and switches root
// into it. Every destination is resolved inside the rootfs without following symlinks out, and
// mounted through an O_PATH fd of the resolved directory, so nothing the rootfs contains can
// redirect a mount onto the host.
func setupRootfs(cfg *initConfig, sock *os.File, t *initTimer) error {
	spec := cfg.Spec
	rootfs := cfg.Rootfs
	// Nothing mounted from here on may propagate back to the host.
	prop := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if p, ok := propagationOpts[spec.Linux.RootfsPropagation]; ok {
		prop = p
	}
	if err := unix.Mount("", "/", "", prop, ""); err != nil {
		return fmt.Errorf("linux.rootfsPropagation: make / %s: %w", spec.Linux.RootfsPropagation, err)
	}
	// pivot_root refuses a new root whose parent mount is shared.
	if err := isolateParentMount(rootfs, spec.Linux.RootfsPropagation); err != nil {
		return err
	}
	if err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind mount rootfs %s: %w", rootfs, err)
	}
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer root.Close()
	rootPath, err := os.Readlink(fdPath(root))
	if err != nil {
		return fmt.Errorf("read the path of rootfs %s: %w", rootfs, err)
	}

	m := &mounter{root: root, rootfs: rootfs, rootPath: rootPath, bundle: cfg.Bundle, cgroupNS: hasNewNamespace(spec.Linux.Namespaces, specs.CgroupNamespace),
		userNS: hasNamespace(spec.Linux.Namespaces, specs.UserNamespace), label: cfg.LSM.MountLabel, sock: sock}
	for i := range spec.Mounts {
		if err := m.mount(i, &spec.Mounts[i]); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", i, spec.Mounts[i].Source, spec.Mounts[i].Destination, err)
		}
	}
	t.phase("mounts")
	// A bind-mounted /dev is somebody else's directory (often the host's own /dev): nothing is
	// created, replaced or chowned in it, as runc does; its nodes are the devices.
	devBound := devIsBindMounted(spec.Mounts)
	if !devBound {
		if err := m.setupDev(spec.Linux.Devices); err != nil {
			return err
		}
	}
	t.phase("devices")
	// The device rules would have refused a node's mknod: the parent applies them now that
	// the nodes are made, before anything of the workload runs.
	if cfg.DeferDevices {
		if err := askParent(sock, msgDevices, "apply the device rules"); err != nil {
			return err
		}
	}
	if cfg.Hooks {
		if err := askParent(sock, msgHooks, "run hooks"); err != nil {
			return err
		}
	}
	if spec.Hooks != nil && len(spec.Hooks.CreateContainer) > 0 {
		st := OCIState{OCIVersion: specs.Version, ID: cfg.ID, Pid: cfg.InitPid, Status: Creating,
			Bundle: cfg.Bundle, Rootfs: rootfs, Annotations: spec.Annotations}
		// In the rootfs, as in runc: a relative path in a hook's args resolves there.
		if err := runHooksAt("createContainer", spec.Hooks.CreateContainer, st, hookPlace{dir: rootfs}); err != nil {
			return err
		}
	}

	if cfg.NoPivot {
		err = moveRoot(rootfs, rootPath)
	} else {
		err = pivotRoot(rootfs)
	}
	if err != nil {
		return err
	}
	t.phase("pivot_root")
	if !devBound {
		if err := reopenDevNull(); err != nil {
			return err
		}
	}
	// As runc does: a missing working directory is created (inside the new root, so the path
	// cannot lead out), before the root may become read-only.
	if err := os.MkdirAll(spec.Process.Cwd, 0o755); err != nil {
		return fmt.Errorf("process.cwd: create %s: %w", spec.Process.Cwd, err)
	}
	return nil
}

// finishRootfs applies what must come after the sysctls are written (they go through /proc/sys,
// usually a read-only path): propagation of the new root, read-only and masked paths, and a
// read-only root. mountLabel is the SELinux label of the tmpfs masking directories.
func finishRootfs(spec *initSpec, mountLabel string) error {
	if spec.Linux.RootfsPropagation != "" {
		if err := unix.Mount("", "/", "", propagationOpts[spec.Linux.RootfsPropagation], ""); err != nil {
			return fmt.Errorf("linux.rootfsPropagation: %w", err)
		}
	}
	for _, p := range spec.Linux.ReadonlyPaths {
		if err := readonlyPath(p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	if err := maskPaths(spec.Linux.MaskedPaths, mountLabel); err != nil {
		return err
	}
	if spec.Root.Readonly {
		if err := remountReadonly("/"); err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	return nil
}

func hasNamespace(namespaces []specs.LinuxNamespace, typ specs.LinuxNamespaceType) bool {
	for _, ns := range namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}

func hasNewNamespace(namespaces []specs.LinuxNamespace, typ specs.LinuxNamespaceType) bool {
	for _, ns := range namespaces {
		if ns.Type == typ && ns.Path == "" {
			return true
		}
	}
	return false
}

// isolateParentMount keeps what is mounted under rootfs from propagating to the host through
// the mount that contains rootfs: it becomes private, or a slave when rootfsPropagation is
// slave or rslave, so that the container's root (a bind mount of it) still receives the
// host's mounts, as runc does. Either way it is no longer shared, as pivot_root requires.
func isolateParentMount(rootfs, propagation string) error {
	mp, err := mountPointOf(rootfs)
	if err != nil {
		return err
	}
	flag, name := uintptr(unix.MS_PRIVATE), "private"
	if propagation == "slave" || propagation == "rslave" {
		flag, name = unix.MS_SLAVE, "a slave"
	}
	if err := unix.Mount("", mp, "", flag, ""); err != nil {
		return fmt.Errorf("make %s %s: %w", mp, name, err)
	}
	return nil
}

// mountPointOf finds the mount point that holds path: the deepest mount point that is path or
// one of its parents (a bind mount inside one filesystem is found too, which walking up while
// the device stays the same would miss).
func mountPointOf(path string) (string, error) {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return !(path == m.Mountpoint || strings.HasPrefix(path, strings.TrimSuffix(m.Mountpoint, "/")+"/")), false
	})
	if err != nil {
		return "", fmt.Errorf("read mountinfo: %w", err)
	}
	best := "/"
	for _, m := range mounts {
		if len(m.Mountpoint) > len(best) {
			best = m.Mountpoint
		}
	}
	return best, nil
}

// pivotRoot switches to rootfs without needing a directory for the old root: pivot_root(".",
// ".") stacks the old root under the new one, and it is then detached.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open /: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open rootfs %s: %w", rootfs, err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir to rootfs: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Keep the unmount of the old root from propagating to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is --no-pivot: move the rootfs over / and chroot into it. The old root's mounts stay
// in the mount namespace, under the rootfs; first the host's proc and sysfs among them are
// taken away (hideHostProcSys). rootPath is the rootfs as mountinfo names it.
func moveRoot(rootfs, rootPath string) error {
	if err := hideHostProcSys(rootPath); err != nil {
		return fmt.Errorf("--no-pivot: %w", err)
	}
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs %s to /: %w", rootfs, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// remountReadonly makes the mount at path read-only, keeping the flags the kernel locks.
func remountReadonly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	// Every flag the mount has is repeated: in a user namespace the kernel refuses to clear
	// the locked ones, and the others are to stay as they are anyway.
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY) | mountFlagsOf(st.Flags)
	if err := unix.Mount("", path, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", path, err)
	}
	return nil
}

func readonlyPath(path string) error {
	if err := unix.Mount(path, path, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("bind %s: %w", path, err)
	}
	return remountReadonly(path)
}

// maskPaths hides each path: files under a bind of a verified /dev/null, directories under an
// empty read-only tmpfs. The /dev/null used is checked to be the real character device 1:3, so a
// rootfs cannot swap in something else (CVE-2025-31133).
func maskPaths(paths []string, mountLabel string) error {
	if len(paths) == 0 {
		return nil
	}
	null, err := openDevNull(unix.O_PATH)
	if err != nil {
		return fmt.Errorf("linux.maskedPaths: %w", err)
	}
	defer unix.Close(null)
	nullPath := "/proc/self/fd/" + strconv.Itoa(null)
	masked := make(map[string]bool, len(paths))
	for _, p := range paths {
		// A path listed twice is masked once (a second mount would only stack on the first).
		if masked[p] {
			continue
		}
		masked[p] = true
		err := unix.Mount(nullPath, p, "", unix.MS_BIND, "")
		if errors.Is(err, unix.ENOTDIR) {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, mountData("tmpfs", "size=0k", mountLabel))
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	return nil
}

// fdPath names an open fd so mount(2) acts on exactly the file it refers to.
func fdPath(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// openInRoot resolves path inside the rootfs, creating it (a directory, or an empty file when
// file is true) when missing.
func openInRoot(root *os.File, path string, file bool) (*os.File, error) {
	f, err := openatInRoot(root, path)
	// A dangling symlink on the way reports ENOTDIR; it is created like a missing path, at the
	// place the symlink points to inside the rootfs.
	if err == nil || !(errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENOTDIR)) {
		return f, err
	}
	if !file {
		return mkdirInRoot(root, path)
	}
	// A file goes where path leads once its symlinks are followed (inside the rootfs): through
	// a dangling link (/etc/hosts -> /run/x/hosts), the link's target is created.
	target := resolvedInRoot(root, path)
	dir, err := mkdirInRoot(root, filepath.Dir(target))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), filepath.Base(target), unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	return openatInRoot(root, path)
}

// resolvedInRoot is path with its symlinks followed as if the rootfs were "/", as far as they
// exist; the result names a place inside the rootfs. Only where to create something is taken
// from it: the creation itself resolves again, in the kernel, without leaving the rootfs.
func resolvedInRoot(root *os.File, path string) string {
	resolved, err := securejoin.SecureJoin(root.Name(), path)
	if err != nil {
		return path
	}
	rel, err := filepath.Rel(root.Name(), resolved)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	return filepath.Join("/", rel)
}

// mkdirInRoot is mkdir -p inside the rootfs. pathrs refuses to create through a dangling
// symlink, so such a path is first resolved, symlinks taken as if the rootfs were /, and the
// directories are made at the resolved place (which the resolution keeps inside the rootfs).
func mkdirInRoot(root *os.File, path string) (*os.File, error) {
	h, err := mkdirAllInRoot(root, path, 0o755)
	if errors.Is(err, errNeedsSlowPath) {
		h, err = pathrs.MkdirAllHandle(root, path, 0o755)
	}
	if err == nil || !errors.Is(err, unix.ENOTDIR) {
		return h, err
	}
	rel := resolvedInRoot(root, path)
	if rel == filepath.Clean("/"+path) {
		return nil, err
	}
	return pathrs.MkdirAllHandle(root, rel, 0o755)
}

// askParent sends the parent a request of type typ and waits for its resume; an error, or a
// parent gone, ends the init.
func askParent(sock *os.File, typ, what string) error {
	if err := writeJSON(sock, syncMsg{Type: typ}); err != nil {
		return fmt.Errorf("ask parent to %s: %w", what, err)
	}
	msg, err := readMsg(sock)
	if err != nil {
		return fmt.Errorf("wait for parent to %s: %w", what, err)
	}
	if msg.Type != msgResume {
		return fmt.Errorf("unexpected message %q while waiting for parent to %s", msg.Type, what)
	}
	return nil
}
