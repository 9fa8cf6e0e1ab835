package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Id-mapped bind mounts (mounts[].uidMappings/gidMappings, options idmap and ridmap).
//
// The kernel idmaps a detached mount only (mount_setattr(MOUNT_ATTR_IDMAP) before it is
// attached anywhere), and only for a caller privileged over the filesystem: the host's root.
// So the init asks the parent for such a source as for one it cannot open
// (mountsource_linux.go); the parent clones it with open_tree(OPEN_TREE_CLONE), sets the
// mapping from a user namespace and sends the tree, which the init moves into place.
//
// The user namespace is the container's own for idmap/ridmap without mappings (its init's, or
// the one it joins), else one made from the mount's mappings: a helper process (husk itself,
// as usernsHolderArg) is started in a new user namespace with those maps, its namespace
// opened, and the helper killed. The namespace fd is close-on-exec and closed once the mapping
// is set, so nothing of it reaches the init, which gets only the mount.

// usernsHolderArg is the hidden command of the helper process: it only waits for its stdin to
// close (see HoldUserns).
const usernsHolderArg = "_userns-holder"

// IsUsernsHolder says whether this process was started as the helper of an id-mapped mount.
func IsUsernsHolder() bool {
	return len(os.Args) > 1 && os.Args[1] == usernsHolderArg
}

// HoldUserns is the helper's whole life: it keeps its user namespace alive for the parent to
// open, until its stdin closes or it is killed.
func HoldUserns() {
	var b [1]byte
	for {
		if _, err := os.Stdin.Read(b[:]); err != nil {
			os.Exit(0)
		}
	}
}

// idmapUserns opens the user namespace that gives mounts[index] its mapping (see above).
func (p *parent) idmapUserns(sm *specs.Mount) (*os.File, error) {
	if len(sm.UIDMappings) > 0 {
		return newUsernsFromMappings(sm.UIDMappings, sm.GIDMappings)
	}
	for _, ns := range p.spec.Linux.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path != "" {
			return os.OpenFile(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		}
	}
	return os.OpenFile("/proc/"+strconv.Itoa(p.initPid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

// newUsernsFromMappings makes a user namespace with the given maps (setgroups denied) and
// returns an fd of it; the process that made it is gone when it returns.
func newUsernsFromMappings(uids, gids []specs.LinuxIDMapping) (*os.File, error) {
	toSys := func(ms []specs.LinuxIDMapping) []syscall.SysProcIDMap {
		out := make([]syscall.SysProcIDMap, len(ms))
		for i, m := range ms {
			out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
		}
		return out
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"husk", usernsHolderArg},
		Env:  []string{}, // no _HUSK_INITPIPE: nsenter/ must stay out of it
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: toSys(uids), GidMappings: toSys(gids),
			Pdeathsig: unix.SIGKILL,
		},
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("user namespace for the mapping: %w", err)
	}
	if err := cmd.Start(); err != nil {
		stdin.Close()
		return nil, fmt.Errorf("user namespace for the mapping: start helper: %w", err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	f, err := os.OpenFile("/proc/"+strconv.Itoa(cmd.Process.Pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("user namespace for the mapping: %w", err)
	}
	return f, nil
}

// setIDMap gives the detached tree fd the mapping of mounts[index] (recursively for ridmap).
func (p *parent) setIDMap(fd int, sm *specs.Mount, opts mountOpts, src string) error {
	userns, err := p.idmapUserns(sm)
	if err != nil {
		return err
	}
	defer userns.Close()
	flags := uint(unix.AT_EMPTY_PATH)
	if opts.IDMapRecursive {
		flags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", flags, attr); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("id-mapped mount: mount_setattr(MOUNT_ATTR_IDMAP): %w: the %s filesystem of %s cannot be id-mapped by this kernel", err, fsTypeOf(src), src)
		}
		return fmt.Errorf("id-mapped mount: mount_setattr(MOUNT_ATTR_IDMAP): %w", err)
	}
	return nil
}

// fsTypeOf names the filesystem path is on, as mountinfo does (for errors).
func fsTypeOf(path string) string {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &stx); err == nil && stx.Mask&unix.STATX_MNT_ID != 0 {
		id := int(stx.Mnt_id)
		mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (bool, bool) { return m.ID != id, m.ID == id })
		if err == nil && len(mounts) == 1 {
			return mounts[0].FSType
		}
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err == nil {
		return "0x" + strings.ToLower(strconv.FormatInt(st.Type, 16))
	}
	return "unknown"
}
