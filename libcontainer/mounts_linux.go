package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mounter performs the spec's mounts inside one rootfs.
type mounter struct {
	root     *os.File // O_PATH handle of the rootfs
	rootfs   string
	rootPath string // the rootfs as the kernel names root (its fd's link), to place resolved paths
	bundle   string
	cgroupNS bool // the container has its own cgroup namespace
	userNS   bool
	label    string   // SELinux label of the filesystems mounted (linux.mountLabel), if any
	sock     *os.File // to the parent, for bind sources the init cannot open (mountsource_linux.go)
}

// mount performs mounts[index].
func (m *mounter) mount(index int, sm *specs.Mount) error {
	opts, err := parseMountOptions(sm.Options)
	if err != nil {
		return err
	}
	if err := m.checkProcTarget(sm); err != nil {
		return err
	}
	if readonlyLater(sm, opts) {
		// Made read-only by finishReadonlyMounts, once what goes inside is in place.
		opts.Flags &^= unix.MS_RDONLY
	}
	bind := opts.Flags&unix.MS_BIND != 0 || sm.Type == "bind"
	if bind {
		return m.bindMount(index, sm, opts)
	}
	switch sm.Type {
	case "cgroup", "cgroup2":
		return m.mountCgroup(sm, opts)
	case "proc", "sysfs":
		// /proc and /sys must be real directories of the rootfs: a symlink there could send
		// the mount elsewhere inside the rootfs, over something the container relies on
		// (CVE-2019-16884 used /proc). Only proc may go on /proc (checkProcDest).
		if err := m.checkRealDir(sm.Destination); err != nil {
			return err
		}
	}
	if sm.Type == "tmpfs" {
		opts.Data = m.inheritMode(sm.Destination, opts.Data)
	}
	dest, err := openInRoot(m.root, sm.Destination, false)
	if err != nil {
		return fmt.Errorf("resolve destination: %w", err)
	}
	defer dest.Close()
	if err := m.checkProcOpened(sm, dest, nil); err != nil {
		return err
	}
	opts.Data = mountData(sm.Type, opts.Data, m.label)
	if opts.TmpCopyUp && sm.Type == "tmpfs" {
		return m.tmpcopyup(dest, sm, opts)
	}
	src := sm.Source
	if src == "" {
		src = sm.Type
	}
	flags := opts.Flags &^ unix.MS_REMOUNT
	if err := unix.Mount(src, fdPath(dest), sm.Type, flags, opts.Data); err != nil {
		return fmt.Errorf("mount %s: %w", sm.Type, err)
	}
	if sm.Type == "mqueue" && m.label != "" {
		if err := m.labelRoot(sm.Destination); err != nil {
			return err
		}
	}
	return m.finishMount(sm.Destination, opts)
}

// labelRoot gives the mount now at dest the container's SELinux mount label through the xattr
// of its root, for filesystems that take no context= option (mqueue, as runc does it).
func (m *mounter) labelRoot(destPath string) error {
	dest, err := openInRoot(m.root, destPath, false)
	if err != nil {
		return fmt.Errorf("reopen destination: %w", err)
	}
	defer dest.Close()
	if err := setFileLabel(fdPath(dest), m.label); err != nil {
		return fmt.Errorf("linux.mountLabel: %w", err)
	}
	return nil
}

// finishMount applies propagation and recursive attributes to the mount now at dest. It
// reopens dest: the fd used to mount refers to the directory under the new mount.
func (m *mounter) finishMount(destPath string, opts mountOpts) error {
	if len(opts.Propagation) == 0 && opts.AttrSet == 0 && opts.AttrClr == 0 {
		return nil
	}
	dest, err := openInRoot(m.root, destPath, false)
	if err != nil {
		return fmt.Errorf("reopen destination: %w", err)
	}
	defer dest.Close()
	for _, p := range opts.Propagation {
		if err := unix.Mount("", fdPath(dest), "", p, ""); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if opts.AttrSet != 0 || opts.AttrClr != 0 {
		attr := &unix.MountAttr{Attr_set: opts.AttrSet, Attr_clr: opts.AttrClr}
		if err := unix.MountSetattr(int(dest.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
			return fmt.Errorf("mount_setattr recursive attributes: %w", err)
		}
	}
	return nil
}

func (m *mounter) checkRealDir(dest string) error {
	// Resolve each component without following symlinks at all.
	rel := strings.TrimPrefix(filepath.Clean(dest), "/")
	if rel == "" {
		return nil
	}
	fd, err := unix.Openat2(int(m.root.Fd()), rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.ENOENT) {
		return nil // created as a directory by openInRoot
	}
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return fmt.Errorf("destination %s must be a directory, not a symlink", dest)
		}
		return fmt.Errorf("check destination %s: %w", dest, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("destination %s must be a directory", dest)
	}
	return nil
}

func (m *mounter) bindMount(index int, sm *specs.Mount, opts mountOpts) error {
	src, err := m.openBindSource(index, sm, isIDMapped(*sm, opts))
	if err != nil {
		return err
	}
	defer src.file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(src.file.Fd()), &st); err != nil {
		return fmt.Errorf("stat bind source %s: %w", src.file.Name(), err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	dest, err := openInRoot(m.root, sm.Destination, !isDir)
	if err != nil {
		return fmt.Errorf("resolve destination: %w", err)
	}
	defer dest.Close()
	if err := m.checkProcOpened(sm, dest, src.file); err != nil {
		return err
	}
	if err := src.attach(dest, uintptr(unix.MS_BIND)|opts.Flags&unix.MS_REC); err != nil {
		return err
	}
	// The new mount has its source's flags; a remount gives it those its options ask for.
	if needsRemount(opts) {
		dest2, err := openInRoot(m.root, sm.Destination, !isDir)
		if err != nil {
			return fmt.Errorf("reopen destination: %w", err)
		}
		defer dest2.Close()
		if err := remountBind(fdPath(dest2), opts); err != nil {
			return fmt.Errorf("options %v: %w", sm.Options, err)
		}
	}
	return m.finishMount(sm.Destination, opts)
}

// inheritMode adds the mode of the existing directory at dest to a tmpfs's data when the
// options give none, so that the mount point keeps its permissions, setuid, setgid and sticky
// bits included (runc does this; a new tmpfs would be 1777).
func (m *mounter) inheritMode(dest, data string) string {
	for _, o := range strings.Split(data, ",") {
		if strings.HasPrefix(o, "mode=") {
			return data
		}
	}
	f, err := openatInRoot(m.root, dest)
	if err != nil {
		return data // made by openInRoot: the tmpfs default applies
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return data
	}
	mode := fmt.Sprintf("mode=%04o", st.Mode&0o7777)
	if data == "" {
		return mode
	}
	return mode + "," + data
}

// tmpcopyup mounts a tmpfs and copies what the rootfs had at the destination into it.
func (m *mounter) tmpcopyup(dest *os.File, sm *specs.Mount, opts mountOpts) error {
	tmp, err := os.MkdirTemp("", "husk-tmpcopyup-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := unix.Mount("tmpfs", tmp, "tmpfs", opts.Flags&^unix.MS_REMOUNT, opts.Data); err != nil {
		return fmt.Errorf("mount tmpfs: %w", err)
	}
	if err := copyTree(fdPath(dest), tmp); err != nil {
		unix.Unmount(tmp, unix.MNT_DETACH)
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	if err := unix.Mount(tmp, fdPath(dest), "", unix.MS_MOVE, ""); err != nil {
		unix.Unmount(tmp, unix.MNT_DETACH)
		return fmt.Errorf("move tmpfs into place: %w", err)
	}
	return m.finishMount(sm.Destination, opts)
}

// copyTree copies the contents of src into dst, keeping modes, owners and symlinks.
func copyTree(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err == nil {
		unix.Chmod(dst, st.Mode&0o7777)
		unix.Lchown(dst, int(st.Uid), int(st.Gid))
	}
	for _, e := range entries {
		s, d := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if err := unix.Lstat(s, &st); err != nil {
			return err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if err := os.Mkdir(d, os.FileMode(st.Mode&0o777)); err != nil {
				return err
			}
			if err := copyTree(s, d); err != nil {
				return err
			}
		case unix.S_IFLNK:
			target, err := os.Readlink(s)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, d); err != nil {
				return err
			}
		case unix.S_IFREG:
			if err := copyFile(s, d, os.FileMode(st.Mode&0o7777)); err != nil {
				return err
			}
		default:
			if err := unix.Mknod(d, st.Mode, int(st.Rdev)); err != nil {
				return err
			}
		}
		unix.Lchown(d, int(st.Uid), int(st.Gid))
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
