package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// maxErrno is the largest errno the kernel returns from a seccomp filter
// (MAX_ERRNO); it silently caps larger values, so they are refused here.
const maxErrno = 4095

// plan is a checked linux.seccomp: everything Compile needs besides
// libseccomp's view of the syscall names.
type plan struct {
	spec          *specs.LinuxSeccomp
	defaultAction libseccomp.ScmpAction
	archs         []arch // the extra architectures asked for
	flags         uint   // seccomp(2) flags, without NEW_LISTENER
	notify        bool   // some rule has SCMP_ACT_NOTIFY
}

// Validate checks a linux.seccomp section without compiling it: names of
// actions, operators, architectures and flags, errnoRet values, argument
// indexes, and that a SCMP_ACT_NOTIFY rule has a listenerPath. Flags
// are checked against the running kernel.
func Validate(s *specs.LinuxSeccomp) error {
	_, err := check(s)
	return err
}

func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("linux.seccomp.%s: %s", field, fmt.Sprintf(format, args...))
}

// disabled reports a seccomp section that asks for nothing at all, which
// runc treats as no filter.
func disabled(s *specs.LinuxSeccomp) bool {
	return s.DefaultAction == "" && s.DefaultErrnoRet == nil && len(s.Architectures) == 0 &&
		len(s.Flags) == 0 && s.ListenerPath == "" && s.ListenerMetadata == "" && len(s.Syscalls) == 0
}

// check validates s and returns the plan to compile, or nil for no filter.
func check(s *specs.LinuxSeccomp) (*plan, error) {
	if s == nil || disabled(s) {
		return nil, nil
	}
	p := &plan{spec: s}
	if s.DefaultAction == "" {
		return nil, fieldError("defaultAction", "missing")
	}
	if s.DefaultAction == specs.ActNotify {
		// The init could not hand the listener on: it would itself be
		// stopped on its first system call after loading the filter.
		return nil, fieldError("defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
	}
	def, err := action("defaultAction", s.DefaultAction, "defaultErrnoRet", s.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	p.defaultAction = def

	for i, name := range s.Architectures {
		a, ok := archs[name]
		if !ok {
			return nil, fieldError(fmt.Sprintf("architectures[%d]", i), "unknown architecture %q", name)
		}
		if !archSupported(a.scmp) {
			return nil, fieldError(fmt.Sprintf("architectures[%d]", i), "architecture %s is not supported by libseccomp %s", name, Version())
		}
		p.archs = append(p.archs, a)
	}

	for i, rule := range s.Syscalls {
		field := fmt.Sprintf("syscalls[%d]", i)
		if _, err := action(field+".action", rule.Action, field+".errnoRet", rule.ErrnoRet); err != nil {
			return nil, err
		}
		for j, name := range rule.Names {
			if name == "" {
				return nil, fieldError(fmt.Sprintf("%s.names[%d]", field, j), "empty syscall name")
			}
			// The init reports the listener fd to the parent with
			// write(2) after the filter is on (runc has the same rule).
			if rule.Action == specs.ActNotify && name == "write" {
				return nil, fieldError(fmt.Sprintf("%s.names[%d]", field, j), "SCMP_ACT_NOTIFY cannot be used for the write syscall")
			}
		}
		for j, arg := range rule.Args {
			argField := fmt.Sprintf("%s.args[%d]", field, j)
			if arg.Index > 5 {
				return nil, fieldError(argField+".index", "%d is out of range: a syscall has arguments 0 to 5", arg.Index)
			}
			if _, ok := operators[arg.Op]; !ok {
				return nil, fieldError(argField+".op", "unknown operator %q", arg.Op)
			}
		}
		if rule.Action == specs.ActNotify {
			p.notify = true
		}
	}

	if p.flags, err = filterFlags(s.Flags); err != nil {
		return nil, err
	}
	if p.flags&unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV != 0 && !p.notify {
		return nil, fieldError("flags", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY")
	}
	if p.notify && p.flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 && !kernelFlagSupported(unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH) {
		return nil, fieldError("flags", "SECCOMP_FILTER_FLAG_TSYNC with SCMP_ACT_NOTIFY needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH, which the running kernel lacks")
	}
	// Without a SCMP_ACT_NOTIFY rule there is no listener to send: listenerPath and
	// listenerMetadata are then ignored, as runc ignores them.
	if p.notify && s.ListenerPath == "" {
		return nil, fieldError("listenerPath", "missing, but a rule uses SCMP_ACT_NOTIFY")
	}
	return p, nil
}

// action translates an action name and its errnoRet. Only SCMP_ACT_ERRNO and
// SCMP_ACT_TRACE carry a value (the errno, or the tracer's message); both
// default to EPERM as in runc. The runtime-spec requires an error when
// errnoRet is given to any other action.
func action(field string, name specs.LinuxSeccompAction, retField string, ret *uint) (libseccomp.ScmpAction, error) {
	a, ok := actions[name]
	if !ok {
		return 0, fieldError(field, "unknown action %q", name)
	}
	if a != libseccomp.ActErrno && a != libseccomp.ActTrace {
		if ret != nil {
			return 0, fieldError(retField, "set, but %s takes no errno", name)
		}
		return a, nil
	}
	code := uint(unix.EPERM)
	if ret != nil {
		code = *ret
	}
	if code > maxErrno {
		return 0, fieldError(retField, "%d is above the largest errno, %d", code, maxErrno)
	}
	return a.SetReturnCode(int16(code)), nil
}
