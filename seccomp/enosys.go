package seccomp

import (
	"fmt"
	"sort"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The ENOSYS stub.
//
// A filter with a restrictive default action gives every syscall it does not
// list the default errno (usually EPERM), including syscalls newer than the
// profile. Programs probe new syscalls (clone3, openat2, statx, ...) and fall
// back on ENOSYS, but read EPERM as a real refusal and fail. runc answers
// this by putting a stub in front of libseccomp's program, and husk does the
// same thing in its own way:
//
//	for each architecture of the filter: a syscall number above the
//	largest number any rule of the profile names on that architecture
//	returns ENOSYS; everything else goes on to libseccomp's program.
//
// Like runc's, this assumes syscall numbers grow with time, which is true of
// the syscall tables except for a few holes; a syscall inside the range the
// profile covers but not listed still gets the default action. The stub is
// left out when the default action lets the syscall through anyway (ALLOW,
// LOG, TRACE: a tracer handles ENOSYS itself) or is already ERRNO(ENOSYS).
// Unlike runc, which only covers the architectures listed in the config,
// the native architecture is always covered. Architectures the stub has no
// AUDIT_ARCH value for (none today) skip it and get libseccomp's program.
//
// Layout, with every conditional jump at most one instruction long and
// every longer jump a "ja" (32-bit offset), so no offset can overflow:
//
//	ld   [arch]
//	jeq  AUDIT_ARCH_A, 0, 1 ; ja secA      (one pair per architecture)
//	ja   filter                           (architecture not covered)
//	secA: ld [nr] ; <checks, each "jgt max, 0, 1 ; ja enosys ; ja filter">
//	enosys: ret ERRNO(ENOSYS)
//	filter: <libseccomp's program>

// archMax is the largest syscall number named by the profile on one
// libseccomp architecture.
type archMax struct {
	scmp  libseccomp.ScmpArch
	audit uint32
	max   uint32
}

// x32Bit marks x32 syscalls on x86_64 (__X32_SYSCALL_BIT); libseccomp's x32
// numbers include it.
const x32Bit = 0x40000000

// lastSyscalls finds, for each architecture, the largest number of the
// given (libseccomp-known) syscall names. Pseudo syscalls (negative numbers
// libseccomp uses for names an architecture lacks) do not count.
func lastSyscalls(filterArchs []arch, names []string) []archMax {
	var out []archMax
	seen := map[libseccomp.ScmpArch]bool{}
	for _, a := range filterArchs {
		if seen[a.scmp] || a.audit == 0 {
			continue
		}
		seen[a.scmp] = true
		var max int32 = -1
		for _, n := range names {
			nr, err := libseccomp.GetSyscallFromNameByArch(n, a.scmp)
			if err != nil {
				continue
			}
			if int32(nr) > max {
				max = int32(nr)
			}
		}
		if max >= 0 {
			out = append(out, archMax{scmp: a.scmp, audit: a.audit, max: uint32(max)})
		}
	}
	return out
}

// label is a position in the stub, resolved once the stub is laid out.
type label int

const (
	toEnosys label = iota + 1
	toFilter
	firstSection // the section of the i-th architecture is firstSection + i
)

// x32Part is the x32 half of the x86_64 section (there is only one).
const x32Part label = -1

// stubBuilder emits instructions; "ja" instructions to labels are patched
// when the layout is known.
type stubBuilder struct {
	prog    []unix.SockFilter
	fixups  map[int]label // index of a ja -> its target
	targets map[label]int
}

func (b *stubBuilder) emit(in unix.SockFilter) { b.prog = append(b.prog, in) }

func (b *stubBuilder) ja(to label) {
	b.fixups[len(b.prog)] = to
	b.emit(stmt(unix.BPF_JMP|unix.BPF_JA, 0))
}

func (b *stubBuilder) mark(l label) { b.targets[l] = len(b.prog) }

// greaterIsEnosys emits: nr > max -> ENOSYS, else -> libseccomp's program.
func (b *stubBuilder) greaterIsEnosys(max uint32) {
	b.emit(jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, max, 0, 1))
	b.ja(toEnosys)
	b.ja(toFilter)
}

// enosysStub builds the stub for the given architectures, or nil when there
// is nothing to cover.
func enosysStub(maxes []archMax) ([]unix.SockFilter, error) {
	// Group by AUDIT_ARCH: x86_64 and x32 share one.
	byAudit := map[uint32][]archMax{}
	for _, m := range maxes {
		byAudit[m.audit] = append(byAudit[m.audit], m)
	}
	if len(byAudit) == 0 {
		return nil, nil
	}
	audits := make([]uint32, 0, len(byAudit))
	for a := range byAudit {
		audits = append(audits, a)
	}
	// Stable output: the same profile always compiles to the same program.
	sort.Slice(audits, func(i, j int) bool { return audits[i] < audits[j] })

	b := &stubBuilder{fixups: map[int]label{}, targets: map[label]int{}}
	b.emit(stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch))
	for i, audit := range audits {
		b.emit(jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, audit, 0, 1))
		b.ja(firstSection + label(i))
	}
	b.ja(toFilter)

	for i, audit := range audits {
		b.mark(firstSection + label(i))
		b.emit(stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr))
		if err := b.section(audit, byAudit[audit]); err != nil {
			return nil, err
		}
	}
	b.mark(toEnosys)
	b.emit(stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS)))
	b.mark(toFilter)

	for at, to := range b.fixups {
		target, ok := b.targets[to]
		if !ok {
			return nil, fmt.Errorf("enosys stub: jump to unplaced label %d", to)
		}
		b.prog[at].K = uint32(target - at - 1)
	}
	return b.prog, nil
}

// section emits the checks of one AUDIT_ARCH, the syscall number loaded.
func (b *stubBuilder) section(audit uint32, ms []archMax) error {
	if audit == unix.AUDIT_ARCH_S390 || audit == unix.AUDIT_ARCH_S390X {
		// s390 passes numbers it does not know through syscall 0, the
		// multiplexer; returning ENOSYS for it is safe, nothing uses it.
		b.emit(jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 0, 1))
		b.ja(toEnosys)
	}
	if audit != unix.AUDIT_ARCH_X86_64 {
		if len(ms) != 1 {
			return fmt.Errorf("enosys stub: %d libseccomp architectures share AUDIT_ARCH %#x", len(ms), audit)
		}
		b.greaterIsEnosys(ms[0].max)
		return nil
	}
	// x86_64 and x32 share AUDIT_ARCH_X86_64; x32 numbers have x32Bit set.
	var amd64, x32 *archMax
	for i := range ms {
		switch ms[i].scmp {
		case libseccomp.ArchAMD64:
			amd64 = &ms[i]
		case libseccomp.ArchX32:
			x32 = &ms[i]
		default:
			return fmt.Errorf("enosys stub: unexpected architecture %v on AUDIT_ARCH_X86_64", ms[i].scmp)
		}
	}
	// jset x32Bit, 0, 1 ; ja x32part   (falls through to the x86_64 part)
	b.emit(jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, x32Bit, 0, 1))
	b.ja(x32Part)
	if amd64 != nil {
		b.greaterIsEnosys(amd64.max)
	} else {
		b.ja(toFilter) // x86_64 syscalls are not covered: libseccomp decides
	}
	b.mark(x32Part)
	if x32 != nil {
		b.greaterIsEnosys(x32.max)
	} else {
		b.ja(toFilter)
	}
	return nil
}
