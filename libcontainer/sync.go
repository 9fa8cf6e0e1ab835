package libcontainer

// The parent and the init speak over one SOCK_STREAM socketpair. Each message is a 4-byte
// little-endian length and that many bytes. The bootstrap for nsenter/ (C) is text lines; every
// other message is JSON. The sequence, after nsenter's part (drawn in nsenter/nsenter.c):
//
//   parent                                        init (Go, inside the namespaces)
//     │── initConfig (JSON) + fds of the v1 cgroup►│ its main thread joins the v1 cgroups
//     │   tasks files (SCM_RIGHTS)                 │ (writes "0" to each fd)
//     │◄── {"type":"cgroup"} (only when husk must ─│
//     │     move it: cgroup2 accounting memory)    │
//     │  moves the init into the cgroup            │
//     │── {"type":"resume"} ──────────────────────►│ unshare(CLONE_NEWCGROUP); mounts,
//     │                                            │ devices
//     │◄── {"type":"mount-source","index":i} ──────│ (a bind source the init cannot open
//     │  open_tree(source, OPEN_TREE_CLONE)        │  in its user namespace)
//     │── {"type":"resume"} + its fd (SCM_RIGHTS) ►│ move_mount onto the destination
//     │◄── {"type":"devices"} (only when the ──────│ device nodes made
//     │     device rules refuse a node's mknod)    │
//     │  sets the device rules held back           │
//     │── {"type":"resume"} ──────────────────────►│
//     │◄── {"type":"hooks"} (only with prestart/ ──│
//     │     createRuntime hooks)                   │
//     │  runs prestart + createRuntime hooks       │
//     │── {"type":"resume"} ──────────────────────►│ createContainer hooks, pivot_root,
//     │                                            │ hostname, sysctl, console, user, caps,
//     │                                            │ seccomp
//     │◄── {"type":"seccomp-fd","fd":N} ───────────│ (only with a listenerPath)
//     │  pidfd_getfd, sends it to the agent        │
//     │── {"type":"resume"} ──────────────────────►│
//     │◄── {"type":"ready"} ───────────────────────│ create: blocks opening exec.fifo for
//     │                                            │ write; exec: execve (the socket closes)
//     │  saves state.json, exits                   │
//   An error anywhere in the init arrives as {"type":"error","msg":...}; the init then exits 1.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

const maxMessage = 64 << 20

const (
	msgUsermap = "usermap"
	msgPid     = "pid"
	msgHooks   = "hooks"
	msgResume  = "resume"
	msgReady   = "ready"
	msgError   = "error"
	// The init, its Go runtime started, asks to be moved into the container's cgroup.
	msgCgroup = "cgroup"
	// The init has made its device nodes: the parent applies the device rules it held back.
	msgDevices = "devices"
	// The init has loaded a seccomp filter with a listener: fd is its number in the init.
	msgSeccompFd = "seccomp-fd"
	// nsenter made a time namespace for its children: the parent writes its offsets.
	msgTimeOffsets = "timeoffsets"
)

type syncMsg struct {
	Type string `json:"type"`
	Pid  int    `json:"pid,omitempty"`
	Msg  string `json:"msg,omitempty"`
	Fd   int    `json:"fd,omitempty"`
	// Index is the mounts[] entry a mount-source request is about (mountsource_linux.go).
	Index int `json:"index,omitempty"`
}

// frame is payload with its 4-byte length in front.
func frame(payload []byte) []byte {
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	return buf
}

func writeFrame(w io.Writer, payload []byte) error {
	_, err := w.Write(frame(payload))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	return readBody(r, hdr)
}

// readBody reads the payload whose length header is hdr.
func readBody(r io.Reader, hdr [4]byte) ([]byte, error) {
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxMessage {
		return nil, fmt.Errorf("message of %d bytes is too large", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, b)
}

func readMsg(r io.Reader) (syncMsg, error) {
	var m syncMsg
	b, err := readFrame(r)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode message %q: %w", b, err)
	}
	return m, nil
}

// maxFrameFds bounds the fds one frame carries (the init's cgroup tasks files: one per v1
// hierarchy).
const maxFrameFds = 64

// writeFrameFds is writeFrame with fds passed along (SCM_RIGHTS), attached to the frame's
// first bytes; the receiver reads it with readFrameFds.
func writeFrameFds(f *os.File, payload []byte, fds []int) error {
	if len(fds) == 0 {
		return writeFrame(f, payload)
	}
	if len(fds) > maxFrameFds {
		return fmt.Errorf("%d fds for one message, at most %d", len(fds), maxFrameFds)
	}
	buf := frame(payload)
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var n int
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		n, serr = unix.SendmsgN(int(fd), buf, unix.UnixRights(fds...), nil, 0)
		return !errors.Is(serr, unix.EAGAIN)
	})
	if err == nil {
		err = serr
	}
	if err != nil || n == len(buf) {
		return err
	}
	// A stream socket may take a large frame in parts. Never a write of nothing: the init
	// may have read the whole frame and closed its end by now, and a zero-length write to a
	// closed peer fails with EPIPE even though everything arrived.
	_, err = f.Write(buf[n:])
	return err
}

// readFrameFds reads a frame and the fds sent with it (see writeFrameFds), which arrive
// close-on-exec. f must be in blocking mode.
func readFrameFds(f *os.File) ([]byte, []int, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(maxFrameFds*4))
	n, oobn, flags, _, err := unix.Recvmsg(int(f.Fd()), hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, nil, err
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, nil, fmt.Errorf("parse fds sent with the message: %w", err)
		}
		for _, m := range msgs {
			rights, err := unix.ParseUnixRights(&m)
			if err != nil {
				return nil, nil, fmt.Errorf("parse fds sent with the message: %w", err)
			}
			fds = append(fds, rights...)
		}
	}
	closeAll := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		closeAll()
		return nil, nil, errors.New("fds sent with the message were cut off")
	}
	if n == 0 {
		closeAll()
		return nil, nil, io.EOF
	}
	if _, err := io.ReadFull(f, hdr[n:]); err != nil {
		closeAll()
		return nil, nil, err
	}
	buf, err := readBody(f, hdr)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return buf, fds, nil
}
