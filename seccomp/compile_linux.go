package seccomp

import (
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Compile turns linux.seccomp into a Filter with libseccomp, in the parent,
// so the container's init only has to load the program. A nil section, or
// one that asks for nothing, gives a nil Filter.
//
// Syscall names libseccomp does not know are skipped with a warning, as runc
// does (runc logs them at debug level: profiles list syscalls newer than the
// libseccomp they meet). A rule whose action is the default action is
// redundant and left out. Several conditions on the same argument of one
// rule become one rule per condition (they match if any does), which is
// runc's long-standing reading; conditions on different arguments must all
// match. An ENOSYS stub is put in front of the program; see enosys.go.
func Compile(s *specs.LinuxSeccomp) (*Filter, []string, error) {
	p, err := check(s)
	if p == nil || err != nil {
		return nil, nil, err
	}
	filter, err := libseccomp.NewFilter(p.defaultAction)
	if err != nil {
		return nil, nil, fmt.Errorf("create seccomp filter with linux.seccomp.defaultAction %s: %w", s.DefaultAction, err)
	}
	defer filter.Release()

	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, fmt.Errorf("find the native seccomp architecture: %w", err)
	}
	filterArchs := []arch{nativeArch(native)}
	for i, a := range p.archs {
		if err := filter.AddArch(a.scmp); err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.architectures[%d]: add %s to the filter: %w", i, s.Architectures[i], err)
		}
		filterArchs = append(filterArchs, a)
	}

	var warnings, known []string
	added := 0
	for i, rule := range s.Syscalls {
		w, names, n, err := addRule(filter, p.defaultAction, i, rule)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
		known = append(known, names...)
		added += n
	}
	// libseccomp's binary tree makes long profiles cheaper to run. It
	// misbehaves with no rules at all in libseccomp <= 2.5.4, hence the
	// threshold (runc uses the same).
	if added > 32 {
		if err := filter.SetOptimize(2); err != nil {
			return nil, nil, fmt.Errorf("enable libseccomp binary tree optimisation: %w", err)
		}
	}

	prog, err := exportBPF(filter)
	if err != nil {
		return nil, nil, err
	}
	if needsEnosysStub(p) {
		stub, err := enosysStub(lastSyscalls(filterArchs, known))
		if err != nil {
			return nil, nil, err
		}
		prog = append(encode(stub), prog...)
	}
	if n := len(prog) / sockFilterSize; n > maxInsns {
		return nil, nil, fmt.Errorf("linux.seccomp compiles to %d BPF instructions, more than the kernel's limit of %d", n, maxInsns)
	}
	return &Filter{Program: prog, Flags: p.flags, Notify: p.notify}, warnings, nil
}

// nativeArch describes the architecture libseccomp filters by default.
func nativeArch(native libseccomp.ScmpArch) arch {
	for _, a := range archs {
		if a.scmp == native {
			return a
		}
	}
	return arch{scmp: native}
}

func needsEnosysStub(p *plan) bool {
	switch p.defaultAction & 0xffff {
	case libseccomp.ActAllow, libseccomp.ActLog, libseccomp.ActTrace:
		return false
	case libseccomp.ActErrno:
		return p.defaultAction.GetReturnCode() != int16(unix.ENOSYS)
	}
	return true
}

// addRule adds one linux.seccomp.syscalls entry and returns the warnings,
// the names libseccomp knew and how many syscalls got a rule.
func addRule(filter *libseccomp.ScmpFilter, def libseccomp.ScmpAction, i int, rule specs.LinuxSyscall) ([]string, []string, int, error) {
	field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
	act, err := action(field+".action", rule.Action, field+".errnoRet", rule.ErrnoRet)
	if err != nil {
		return nil, nil, 0, err
	}
	conds, split, err := conditions(field, rule.Args)
	if err != nil {
		return nil, nil, 0, err
	}
	var warnings, known []string
	added := 0
	for _, name := range rule.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("ignoring syscall %q in %s: unknown to libseccomp %s", name, field, Version()))
			continue
		}
		known = append(known, name)
		if act == def {
			continue
		}
		switch {
		case len(conds) == 0:
			err = filter.AddRule(nr, act)
		case split:
			for _, c := range conds {
				if err = filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
					break
				}
			}
		default:
			err = filter.AddRuleConditional(nr, act, conds)
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s: add rule for syscall %s: %w", field, name, err)
		}
		added++
	}
	return warnings, known, added, nil
}

// conditions translates the args of a rule; split is set when two of them
// test the same argument.
func conditions(field string, args []specs.LinuxSeccompArg) ([]libseccomp.ScmpCondition, bool, error) {
	var conds []libseccomp.ScmpCondition
	var seen [6]bool
	split := false
	for j, arg := range args {
		// SCMP_CMP_MASKED_EQ reads (arg & value) == valueTwo; the other
		// operators ignore valueTwo.
		c, err := libseccomp.MakeCondition(arg.Index, operators[arg.Op], arg.Value, arg.ValueTwo)
		if err != nil {
			return nil, false, fmt.Errorf("%s.args[%d]: %w", field, j, err)
		}
		if seen[arg.Index] {
			split = true
		}
		seen[arg.Index] = true
		conds = append(conds, c)
	}
	return conds, split, nil
}

// exportBPF has libseccomp write the program into a memfd (libseccomp 2.5
// only exports to an fd) and reads it back.
func exportBPF(filter *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("husk-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "husk-seccomp-bpf")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("export seccomp filter as BPF: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("export seccomp filter: rewind memfd: %w", err)
	}
	prog, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("export seccomp filter: read memfd: %w", err)
	}
	if len(prog) == 0 || len(prog)%sockFilterSize != 0 {
		return nil, fmt.Errorf("export seccomp filter: libseccomp wrote %d bytes, not whole instructions", len(prog))
	}
	return prog, nil
}
