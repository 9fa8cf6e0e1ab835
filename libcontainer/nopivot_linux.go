package libcontainer

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// hideHostProcSys detaches every full proc and sysfs mount outside the rootfs from the init's
// mount namespace, before --no-pivot moves the rootfs over / (and so leaves the old root's
// mounts in the namespace, under it). The kernel lets a process in a nested user namespace
// mount a fresh proc or sysfs only if the mount namespace already shows one in full, nothing
// covering what it hides (mount_too_revealing): the container's own /proc and /sys have
// masked paths over them, the host's do not, so with them still there any process of the
// container could mount a bare procfs. runc does the same in its msMoveRoot: each mount is
// made a slave first, so that the unmount cannot propagate to the host, and a mount that
// cannot be unmounted (a locked one, in a user namespace) is covered with a tmpfs instead.
func hideHostProcSys(rootPath string) error {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		inRootfs := m.Mountpoint == rootPath || strings.HasPrefix(m.Mountpoint, rootPath+"/")
		full := m.Root == "/" && (m.FSType == "proc" || m.FSType == "sysfs")
		return !full || inRootfs, false
	})
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	for _, m := range mounts {
		if err := unix.Mount("", m.Mountpoint, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // under a mount detached before it
			}
			return fmt.Errorf("make %s %s a slave: %w", m.FSType, m.Mountpoint, err)
		}
		err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH)
		if err == nil {
			continue
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("detach %s %s: %w", m.FSType, m.Mountpoint, err)
		}
		if err := unix.Mount("tmpfs", m.Mountpoint, "tmpfs", 0, ""); err != nil {
			return fmt.Errorf("cover %s %s with a tmpfs: %w", m.FSType, m.Mountpoint, err)
		}
	}
	return nil
}
