package libcontainer

import (
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// applyMemoryPolicy sets linux.memoryPolicy on the calling thread, the one that execs the
// workload (the policy is kept across execve and inherited by children). Before seccomp: a
// profile may allow set_mempolicy only with CAP_SYS_NICE (Docker's does).
func applyMemoryPolicy(mp *specs.LinuxMemoryPolicy) error {
	if mp == nil {
		return nil
	}
	p, err := parseMemoryPolicy(mp)
	if err != nil {
		return err
	}
	var mask, maxnode uintptr
	if p.count > 0 {
		mask = uintptr(unsafe.Pointer(&p.nodes[0]))
		// The kernel reads maxnode-1 bits.
		maxnode = uintptr(len(p.nodes)*64 + 1)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(p.mode), mask, maxnode); errno != 0 {
		return fmt.Errorf("linux.memoryPolicy: set_mempolicy: %w", errno)
	}
	return nil
}
