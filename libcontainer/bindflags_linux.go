package libcontainer

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	// The atime modes: one of them is in force on every mount (MS_STRICTATIME when statfs
	// shows none of the others).
	atimeModeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	atimeFlags     = atimeModeFlags | unix.MS_NODIRATIME
	// lockableFlags are the mount flags the kernel locks (MNT_LOCK_*) on the mounts a user
	// namespace's mount namespace inherits: a bind remount there must keep them.
	lockableFlags = unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID | atimeFlags
	// stNoSymfollow is ST_NOSYMFOLLOW of <linux/statfs.h>, which x/sys/unix lacks.
	stNoSymfollow = 0x2000
)

// mountFlagsOf maps the flags statfs(2) reports for a mount to the MS_ flags that set them.
func mountFlagsOf(f int64) uintptr {
	var out uintptr
	for _, m := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_RDONLY, unix.MS_RDONLY}, {unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
		{stNoSymfollow, unix.MS_NOSYMFOLLOW},
	} {
		if f&m.st != 0 {
			out |= m.ms
		}
	}
	if out&atimeModeFlags == 0 {
		out |= unix.MS_STRICTATIME // not a flag the kernel stores: the absence of the others
	}
	return out
}

// needsRemount says whether a bind mount's options change its flags: a bind mount starts with
// its source's flags, and only a remount applies others. Options that clear a flag (rw, dev,
// suid, ...) count as much as those that set one.
func needsRemount(opts mountOpts) bool {
	return opts.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT) != 0 || opts.Cleared != 0
}

// remountBind gives the bind mount at path the flags its options ask for, as runc does: first
// exactly those (the kernel keeps the atime mode when no atime option is given). Where the
// kernel refuses, the source's flags are locked (a mount a user namespace inherited): then
// again with the locked flags added, unless an option asked to clear one of them or for
// another atime mode, which cannot be had and fails.
func remountBind(path string, opts mountOpts) error {
	flags := uintptr(unix.MS_BIND|unix.MS_REMOUNT) | opts.Flags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT)
	err := unix.Mount("", path, "", flags, "")
	if err == nil || !errors.Is(err, unix.EPERM) {
		return wrapRemount(err)
	}
	var st unix.Statfs_t
	if serr := unix.Statfs(path, &st); serr != nil {
		return fmt.Errorf("statfs bind mount: %w", serr)
	}
	have := mountFlagsOf(st.Flags)
	if locked := have & opts.Cleared & lockableFlags; locked != 0 {
		return fmt.Errorf("the source's flags %s are locked and cannot be cleared: %w", flagNames(locked), err)
	}
	if want := flags & atimeFlags; want != 0 && want != have&atimeFlags {
		return fmt.Errorf("the source's atime flags %s are locked and cannot become %s: %w", flagNames(have&atimeFlags), flagNames(want), err)
	}
	return wrapRemount(unix.Mount("", path, "", flags|have&lockableFlags, ""))
}

func wrapRemount(err error) error {
	if err != nil {
		return fmt.Errorf("remount bind mount with its options: %w", err)
	}
	return nil
}

// flagNames names MS_ flags as mount options do, for errors.
func flagNames(f uintptr) string {
	var names []string
	for _, n := range []struct {
		flag uintptr
		name string
	}{
		{unix.MS_RDONLY, "ro"}, {unix.MS_NOSUID, "nosuid"}, {unix.MS_NODEV, "nodev"},
		{unix.MS_NOEXEC, "noexec"}, {unix.MS_NOATIME, "noatime"}, {unix.MS_NODIRATIME, "nodiratime"},
		{unix.MS_RELATIME, "relatime"}, {unix.MS_STRICTATIME, "strictatime"},
	} {
		if f&n.flag != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}
