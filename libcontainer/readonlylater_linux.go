package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// readonlyLater says whether a read-only mount is mounted writable and made read-only only at
// the end of the set-up (finishReadonlyMounts), as runc does: /dev (a tmpfs or a bind mount)
// still gets its device nodes, symlinks, /dev/pts, /dev/shm and /dev/console, and any tmpfs
// may still get the mount points of later mounts.
func readonlyLater(sm *specs.Mount, opts mountOpts) bool {
	if opts.Flags&unix.MS_RDONLY == 0 {
		return false
	}
	bind := opts.Flags&unix.MS_BIND != 0 || sm.Type == "bind"
	return sm.Type == "tmpfs" && !bind || filepath.Clean(sm.Destination) == "/dev"
}

// finishReadonlyMounts makes read-only what readonlyLater left writable. It runs in the new
// root, once the console is in /dev; each destination is resolved inside it again.
func finishReadonlyMounts(mounts []specs.Mount) error {
	var root *os.File
	for i := range mounts {
		opts, err := parseMountOptions(mounts[i].Options)
		if err != nil || !readonlyLater(&mounts[i], opts) {
			continue
		}
		if root == nil {
			if root, err = os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
				return fmt.Errorf("open /: %w", err)
			}
			defer root.Close()
		}
		if err := makeReadonly(root, mounts[i].Destination); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): make read-only: %w", i, mounts[i].Source, mounts[i].Destination, err)
		}
	}
	return nil
}

// makeReadonly sets the read-only flag of the mount at dest, and only that one (not its
// submounts, as mount(8) does).
func makeReadonly(root *os.File, dest string) error {
	f, err := openatInRoot(root, dest)
	if err != nil {
		return err
	}
	defer f.Close()
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	err = unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH, attr)
	if errors.Is(err, unix.ENOSYS) {
		return remountReadonly(fdPath(f)) // before Linux 5.12
	}
	if err != nil {
		return fmt.Errorf("mount_setattr: %w", err)
	}
	return nil
}
