package libcontainer

// The parent and the init speak over one SOCK_STREAM socketpair. Each message is a 4-byte
// little-endian length and that many bytes. The bootstrap for nsenter/ (C) is text lines; every
// other message is JSON. The sequence, after nsenter's part (drawn in nsenter/nsenter.c):
//
//   parent                                        init (Go, inside the namespaces)
//     │── initConfig (JSON) ──────────────────────►│
//     │◄── {"type":"cgroup"} ──────────────────────│
//     │  moves the init into the cgroup            │
//     │── {"type":"resume"} ──────────────────────►│ unshare(CLONE_NEWCGROUP); mounts,
//     │                                            │ devices
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
	"fmt"
	"io"
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
	// The init has loaded a seccomp filter with a listener: fd is its number in the init.
	msgSeccompFd = "seccomp-fd"
)

type syncMsg struct {
	Type string `json:"type"`
	Pid  int    `json:"pid,omitempty"`
	Msg  string `json:"msg,omitempty"`
	Fd   int    `json:"fd,omitempty"`
}

func writeFrame(w io.Writer, payload []byte) error {
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	_, err := w.Write(buf)
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
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
