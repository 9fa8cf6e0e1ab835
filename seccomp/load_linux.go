package seccomp

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs f on the calling thread (and, with SECCOMP_FILTER_FLAG_TSYNC,
// on every thread of the process) with one seccomp(2) call; libseccomp is not
// involved. The caller must have set no_new_privs or hold CAP_SYS_ADMIN.
// It returns the notify listener fd when f.Notify is set, else -1. The fd
// is close-on-exec, as the kernel makes it.
//
// Seccomp is a property of the thread: the init must hold
// runtime.LockOSThread and execve from this same thread.
func Load(f *Filter) (int, error) {
	if f == nil {
		return -1, errors.New("load seccomp filter: no filter")
	}
	prog, err := decode(f.Program)
	if err != nil {
		return -1, fmt.Errorf("load seccomp filter: %w", err)
	}
	if len(prog) > maxInsns {
		return -1, fmt.Errorf("load seccomp filter: %d instructions, more than the kernel's limit of %d", len(prog), maxInsns)
	}
	flags := f.Flags
	if f.Notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			// TSYNC reports a thread it cannot synchronise by returning
			// its id, which would be mistaken for the listener fd;
			// TSYNC_ESRCH makes that an ESRCH error instead.
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		err := fmt.Errorf("load seccomp filter: seccomp(SECCOMP_SET_MODE_FILTER, flags %#x): %w", flags, errno)
		if errno == unix.EACCES {
			err = fmt.Errorf("%w (needs no_new_privs or CAP_SYS_ADMIN)", err)
		}
		return -1, err
	}
	if !f.Notify {
		if r != 0 {
			// Only TSYNC returns non-zero on failure without errno.
			return -1, fmt.Errorf("load seccomp filter: thread %d of the process could not be synchronised (SECCOMP_FILTER_FLAG_TSYNC)", r)
		}
		return -1, nil
	}
	return int(r), nil
}
