package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Bind sources a user-namespaced init cannot open.
//
// The init opens a bind mount's source itself, when its mounts[i] comes up: in its own mount
// namespace, so a source under the rootfs sees what earlier mounts put there. In a user
// namespace its root is an unprivileged host uid, and a source behind a directory only the
// host's root may search (0700) is out of its reach. It then asks the parent, which is the
// host's root in the host's mount namespace, to clone the source as a detached mount
// (open_tree(OPEN_TREE_CLONE)) and send it; the init attaches it with move_mount(2). runc does
// the same. The request names the mount by its index, so the parent opens only what
// config.json asks to bind.
//
//	parent                                      init
//	  │◄── {"type":"mount-source","index":i} ────│ open(mounts[i].source) failed
//	  │ open_tree(source, OPEN_TREE_CLONE)        │
//	  │── {"type":"resume"} + the tree's fd ─────►│ move_mount onto the destination

const msgMountSource = "mount-source"

// bindSource is a bind mount's source: a path opened O_PATH (the init's own mount namespace)
// or a detached mount from the parent.
type bindSource struct {
	file     *os.File
	detached bool
}

// openBindSource opens the source of mounts[index] in the init, or, when that fails in a user
// namespace, gets it from the parent. An id-mapped mount always comes from the parent
// (idmapmount_linux.go).
func (m *mounter) openBindSource(index int, sm *specs.Mount, idmapped bool) (*bindSource, error) {
	src := bindSourcePath(sm, m.bundle)
	if !idmapped {
		f, err := os.OpenFile(src, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err == nil {
			return &bindSource{file: f}, nil
		}
		if !m.userNS || m.sock == nil {
			return nil, fmt.Errorf("open bind source: %w", err)
		}
	} else if m.sock == nil {
		return nil, errors.New("id-mapped mount: no parent to make it")
	}
	if err := writeJSON(m.sock, syncMsg{Type: msgMountSource, Index: index}); err != nil {
		return nil, fmt.Errorf("ask parent to open bind source %s: %w", src, err)
	}
	data, fds, err := readFrameFds(m.sock)
	if err != nil {
		return nil, fmt.Errorf("wait for bind source %s from parent: %w", src, err)
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("bind source %s: parent sent %d fds (%s), want 1", src, len(fds), data)
	}
	return &bindSource{file: os.NewFile(uintptr(fds[0]), src), detached: true}, nil
}

// attach mounts the source on dest (an O_PATH fd inside the rootfs).
func (s *bindSource) attach(dest *os.File, flags uintptr) error {
	if s.detached {
		err := unix.MoveMount(int(s.file.Fd()), "", int(dest.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
		if err != nil {
			return fmt.Errorf("move_mount bind source: %w", err)
		}
		return nil
	}
	if err := unix.Mount(fdPath(s.file), fdPath(dest), "", flags, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	return nil
}

func bindSourcePath(sm *specs.Mount, bundle string) string {
	if filepath.IsAbs(sm.Source) {
		return sm.Source
	}
	return filepath.Join(bundle, sm.Source)
}

// sendMountSource is the parent's side: clone mounts[index]'s source as a detached mount (with
// its id mapping set, for an id-mapped mount) and send it to the init.
func (p *parent) sendMountSource(index int) error {
	if index < 0 || index >= len(p.spec.Mounts) || !isBind(p.spec.Mounts[index]) {
		return fmt.Errorf("init asked for the source of mounts[%d], which is not a bind mount", index)
	}
	sm := &p.spec.Mounts[index]
	opts, err := parseMountOptions(sm.Options)
	if err != nil {
		return fmt.Errorf("mounts[%d]: %w", index, err)
	}
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if opts.Flags&unix.MS_REC != 0 {
		flags |= unix.AT_RECURSIVE
	}
	src := bindSourcePath(sm, p.c.State.Bundle)
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return fmt.Errorf("mounts[%d] (%s on %s): the init cannot open the source in its user namespace, and this kernel has no open_tree(2) to pass it", index, sm.Source, sm.Destination)
		}
		return fmt.Errorf("mounts[%d] (%s on %s): open bind source: %w", index, sm.Source, sm.Destination, err)
	}
	defer unix.Close(fd)
	if isIDMapped(*sm, opts) {
		if err := p.setIDMap(fd, sm, opts, src); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", index, sm.Source, sm.Destination, err)
		}
	}
	reply, err := json.Marshal(syncMsg{Type: msgResume})
	if err != nil {
		return err
	}
	if err := writeFrameFds(p.sock, reply, []int{fd}); err != nil {
		return fmt.Errorf("send bind source to init: %w", err)
	}
	return nil
}
