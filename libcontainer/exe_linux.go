package libcontainer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// sealedExe returns an O_PATH handle to a copy of the husk binary that nothing can write to,
// for the init to be executed from. The init's /proc/<pid>/exe then points at that copy, so a
// process in the container that reopens it (CVE-2019-5736) cannot reach the host's binary.
//
// The cheap form is a private read-only overlayfs, created with fsopen/fsmount and never
// attached to any mount tree, whose top layer is the directory holding the binary: zero copy,
// and an overlay with only lower layers refuses every write. Where overlayfs cannot be used,
// a sealed memfd copy of the binary does the same at the cost of a copy.
func sealedExe(emptyDir string) (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("readlink /proc/self/exe: %w", err)
	}
	f, overlayErr := overlayExe(exe, emptyDir)
	if overlayErr == nil {
		return f, nil
	}
	f, err = memfdExe()
	if err != nil {
		return nil, fmt.Errorf("protect husk binary: overlayfs: %v; memfd: %w", overlayErr, err)
	}
	return f, nil
}

func escapeLowerDir(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `:`, `\:`)
}

func overlayExe(exe, emptyDir string) (*os.File, error) {
	ctx, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(ctx)
	dir, name := filepath.Split(exe)
	// Overlayfs needs two lower layers to mount without an upper one; the binary's directory
	// is on top so nothing in the second can shadow it.
	lower := escapeLowerDir(filepath.Clean(dir)) + ":" + escapeLowerDir(emptyDir)
	if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
		return nil, fmt.Errorf("fsconfig lowerdir=%s: %w", lower, err)
	}
	unix.FsconfigSetString(ctx, "xino", "off") // only to avoid kernel log noise; optional
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, fmt.Errorf("fsconfig create: %w", err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s in overlay: %w", name, err)
	}
	return os.NewFile(uintptr(fd), "husk-exe"), nil
}

func memfdExe() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("husk", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "husk-memfd")
	if _, err := io.Copy(mem, src); err != nil {
		mem.Close()
		return nil, fmt.Errorf("copy binary to memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return mem, nil
}
