package libcontainer

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths inside the rootfs are resolved by the kernel: openat2(2) with RESOLVE_IN_ROOT treats
// the rootfs fd as "/" for every component, symlinks and ".." included, and retries (EAGAIN)
// when a concurrent rename or mount could have let a lookup escape. These helpers call it
// directly: pathrs-lite's OpenatInRoot and MkdirAllHandle do the same lookups but also
// readlink every result through a private procfs only to name the *os.File, and re-probe
// openat2 support on each call, which made path resolution a quarter of the init's CPU time.
// pathrs-lite stays the fallback for what these do not handle (see mkdirInRoot).

const inRootResolve = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openat2Retry is openat2 repeated while the kernel reports a race (EAGAIN) or a signal.
func openat2Retry(dirfd int, path string, how *unix.OpenHow) (int, error) {
	for i := 0; ; i++ {
		fd, err := unix.Openat2(dirfd, path, how)
		if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && i < 128 {
			continue
		}
		return fd, err
	}
}

// openatInRoot opens path (an O_PATH handle) as if root were "/".
func openatInRoot(root *os.File, path string) (*os.File, error) {
	fd, err := openat2Retry(int(root.Fd()), path, &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: inRootResolve,
	})
	if err != nil {
		return nil, &os.PathError{Op: "openat2", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// errNeedsSlowPath says mkdirAllInRoot met a case it leaves to pathrs-lite: a dangling
// symlink or a ".." among the components that do not exist yet.
var errNeedsSlowPath = errors.New("path needs the full resolver")

// mkdirAllInRoot is mkdir -p of path inside root, returning an O_PATH handle of the directory.
// The longest existing prefix is found with RESOLVE_IN_ROOT; each missing component is then
// made with mkdirat in its parent's fd and opened without following symlinks, so nothing
// planted under the new name can redirect the walk.
func mkdirAllInRoot(root *os.File, path string, mode uint32) (*os.File, error) {
	path = strings.Trim(path, "/")
	end := len(path)
	var dir *os.File
	for {
		sub := path[:end]
		if sub == "" {
			sub = "."
		}
		f, err := openatInRoot(root, sub)
		if err == nil {
			dir = f
			break
		}
		if !errors.Is(err, unix.ENOENT) || end == 0 {
			return nil, err
		}
		end = max(strings.LastIndexByte(path[:end], '/'), 0)
	}
	for _, name := range strings.Split(path[end:], "/") {
		switch name {
		case "", ".":
			continue
		case "..":
			dir.Close()
			return nil, errNeedsSlowPath
		}
		err := unix.Mkdirat(int(dir.Fd()), name, mode)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			dir.Close()
			return nil, &os.PathError{Op: "mkdirat", Path: name, Err: err}
		}
		fd, err := openat2Retry(int(dir.Fd()), name, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		dir.Close()
		if errors.Is(err, unix.ELOOP) {
			return nil, errNeedsSlowPath // EEXIST above was a dangling symlink
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
		}
		dir = os.NewFile(uintptr(fd), name)
	}
	return dir, nil
}
