package seccomp

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// kernelFlagSupported reports whether the running kernel accepts the
// seccomp(2) filter flag bit. The probe passes a NULL program: a kernel that
// knows the flag gets as far as copying the program and fails with EFAULT,
// one that does not know it fails with EINVAL first. Nothing is installed.
func kernelFlagSupported(bit uint) bool {
	probe := bit
	// The kernel refuses WAIT_KILLABLE_RECV without NEW_LISTENER, and
	// TSYNC with NEW_LISTENER without TSYNC_ESRCH, before it looks at the
	// program; ask with the combination husk would really use.
	if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
		probe |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	probeCache.Lock()
	defer probeCache.Unlock()
	if ok, seen := probeCache.m[probe]; seen {
		return ok
	}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(probe), 0)
	ok := errors.Is(errno, unix.EFAULT)
	probeCache.m[probe] = ok
	return ok
}

var probeCache = struct {
	sync.Mutex
	m map[uint]bool
}{m: map[uint]bool{}}

// SupportedFlags lists the filter flags of KnownFlags that the running kernel
// supports, for `features`.
func SupportedFlags() []string {
	var out []string
	for name, bit := range flags {
		if kernelFlagSupported(bit) {
			out = append(out, string(name))
		}
	}
	sort.Strings(out)
	return out
}

// filterFlags turns linux.seccomp.flags into seccomp(2) flag bits. Flags
// absent (nil, not an empty list) means SECCOMP_FILTER_FLAG_SPEC_ALLOW when
// the kernel has it, as runc does: the Speculative Store Bypass mitigation
// is left to the host's policy instead of being forced on by seccomp.
func filterFlags(list []specs.LinuxSeccompFlag) (uint, error) {
	if list == nil {
		if kernelFlagSupported(unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW) {
			return unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, nil
		}
		return 0, nil
	}
	var bits uint
	for i, name := range list {
		bit, ok := flags[name]
		if !ok {
			return 0, fieldError(fmt.Sprintf("flags[%d]", i), "unknown seccomp flag %q", name)
		}
		if !kernelFlagSupported(bit) {
			return 0, fieldError(fmt.Sprintf("flags[%d]", i), "seccomp flag %s is not supported by the running kernel", name)
		}
		bits |= bit
	}
	return bits, nil
}
