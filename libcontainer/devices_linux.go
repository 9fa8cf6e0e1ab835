package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func devIsBindMounted(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if filepath.Clean(m.Destination) == "/dev" && isBind(m) {
			return true
		}
	}
	return false
}

// setupDev fills the container's /dev: the standard nodes (those linux.devices does not list
// itself) and the configured ones, the standard symlinks and /dev/ptmx pointing at the
// container's own devpts.
func (m *mounter) setupDev(devices []specs.LinuxDevice) error {
	all := append(defaultNodes(devices), devices...)
	if err := m.createDevices(all); err != nil {
		return err
	}
	dev, err := openInRoot(m.root, "/dev", false)
	if err != nil {
		return fmt.Errorf("open /dev in rootfs: %w", err)
	}
	defer dev.Close()
	links := [][2]string{
		{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		if l[1] == "ptmx" {
			// The rootfs may ship a /dev/ptmx node; the container must use its own devpts.
			if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("remove /dev/ptmx: %w", err)
			}
		}
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s -> %s: %w", l[1], l[0], err)
		}
	}
	return nil
}

// createDevices makes each device node inside /dev of the rootfs. Where mknod is not allowed
// (in a user namespace) the host's node is bind mounted instead, as runc does.
func (m *mounter) createDevices(devices []specs.LinuxDevice) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for i, d := range devices {
		if err := m.createDevice(d); err != nil {
			return fmt.Errorf("linux.devices[%d] %s: %w", i, d.Path, err)
		}
	}
	return nil
}

func (m *mounter) createDevice(d specs.LinuxDevice) error {
	dir, err := mkdirInRoot(m.root, filepath.Dir(d.Path))
	if err != nil {
		return fmt.Errorf("create parent directory: %w", err)
	}
	defer dir.Close()
	// The parent must be a directory inside the rootfs (resolved above); the name itself is
	// replaced so that a planted symlink cannot redirect mknod.
	name := filepath.Base(d.Path)
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("remove existing %s: %w", d.Path, err)
	}
	mode := uint32(0o666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 0o7777
	}
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	}
	if m.userNS {
		return m.bindDevice(dir, name, d)
	}
	err = unix.Mknodat(int(dir.Fd()), name, typ|mode, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EPERM) {
		return m.bindDevice(dir, name, d)
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(int(dir.Fd()), name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}

func (m *mounter) bindDevice(dir *os.File, name string, d specs.LinuxDevice) error {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create bind target: %w", err)
	}
	if err == nil {
		unix.Close(fd)
	}
	target, err := openatInRoot(m.root, d.Path)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Mount(d.Path, fdPath(target), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind host device %s: %w", d.Path, err)
	}
	return nil
}

// openDevNull opens the container's /dev/null (not through a symlink) with flags and checks
// that it is the null device, so that a rootfs cannot put something else in its place
// (CVE-2025-31133).
func openDevNull(flags int) (int, error) {
	fd, err := unix.Open("/dev/null", flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/null in the container: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat /dev/null in the container: %w", err)
	}
	if !isDevNull(&st) {
		unix.Close(fd)
		return -1, errors.New("/dev/null in the container is not the null device (char 1:3)")
	}
	return fd, nil
}

// isDevNull says whether st is the null device (char 1:3).
func isDevNull(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 3
}

// reopenDevNull replaces stdio that is the host's /dev/null with the container's own, as runc
// does: a file of the host's mount namespace is one the container cannot name, and criu cannot
// checkpoint a process holding it. The container's /dev/null (made by husk) must be the null
// device.
func reopenDevNull() error {
	// Most containers get pipes or a terminal: look first, open only when there is work.
	var nullFds []int
	var st unix.Stat_t
	for fd := 0; fd < 3; fd++ {
		if err := unix.Fstat(fd, &st); err == nil && isDevNull(&st) {
			nullFds = append(nullFds, fd)
		}
	}
	if len(nullFds) == 0 {
		return nil
	}
	null, err := openDevNull(unix.O_RDWR)
	if err != nil {
		return fmt.Errorf("reopen stdio: %w", err)
	}
	defer unix.Close(null)
	for _, fd := range nullFds {
		if err := unix.Dup3(null, fd, 0); err != nil {
			return fmt.Errorf("reopen /dev/null as fd %d: %w", fd, err)
		}
	}
	return nil
}
