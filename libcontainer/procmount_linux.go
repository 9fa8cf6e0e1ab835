package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// checkProcBindSources refuses, before anything of the container exists, a bind on /proc
// whose source is not a procfs (checkProcDest leaves that to its caller). The init checks the
// source again on the fd it binds.
func checkProcBindSources(spec *specs.Spec, bundle string) error {
	for i, m := range spec.Mounts {
		need, err := checkProcDest(filepath.Clean(m.Destination), m)
		if err != nil {
			return fmt.Errorf("mounts[%d].destination: %w", i, err)
		}
		if !need {
			continue
		}
		src := m.Source
		if !filepath.IsAbs(src) {
			src = filepath.Join(bundle, src)
		}
		var st unix.Statfs_t
		if err := unix.Statfs(src, &st); err != nil {
			return fmt.Errorf("mounts[%d].source: %s: %w", i, src, err)
		}
		if st.Type != unix.PROC_SUPER_MAGIC {
			return fmt.Errorf("mounts[%d].destination: %w", i, errProcBindSource(src))
		}
	}
	return nil
}

// checkProcTarget refuses sm before anything is created for it when its destination, with the
// symlinks of the rootfs followed as if the rootfs were /, lands on /proc or inside it (a
// link planted in the rootfs can point a harmless-looking destination there).
func (m *mounter) checkProcTarget(sm *specs.Mount) error {
	resolved, err := securejoin.SecureJoin(m.rootPath, sm.Destination)
	if err != nil {
		return fmt.Errorf("resolve destination: %w", err)
	}
	return m.checkProcPath(sm, resolved, nil)
}

// checkProcOpened is checkProcTarget for the destination as opened (dest), which is what the
// mount goes to: a symlink swapped after the first check is seen here. src is the opened source
// of a bind, nil otherwise.
func (m *mounter) checkProcOpened(sm *specs.Mount, dest, src *os.File) error {
	resolved, err := os.Readlink(fdPath(dest))
	if err != nil {
		return fmt.Errorf("read the path of the destination: %w", err)
	}
	return m.checkProcPath(sm, resolved, src)
}

// checkProcPath runs checkProcDest on resolved, a host path inside the rootfs.
func (m *mounter) checkProcPath(sm *specs.Mount, resolved string, src *os.File) error {
	rel, ok := strings.CutPrefix(resolved, m.rootPath)
	if !ok || (rel != "" && rel[0] != '/') {
		return fmt.Errorf("destination resolves to %s, outside the rootfs %s", resolved, m.rootPath)
	}
	if rel == "" {
		rel = "/"
	}
	need, err := checkProcDest(rel, *sm)
	if err != nil {
		return fmt.Errorf("destination resolves to %s in the rootfs: %w", rel, err)
	}
	if !need || src == nil {
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(src.Fd()), &st); err != nil {
		return fmt.Errorf("statfs bind source %s: %w", sm.Source, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return errProcBindSource(sm.Source)
	}
	return nil
}
