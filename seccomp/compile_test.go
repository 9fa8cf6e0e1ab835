package seccomp

import (
	"bytes"
	"encoding/json"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func uptr(u uint) *uint { return &u }

func compile(t *testing.T, s *specs.LinuxSeccomp) *Filter {
	t.Helper()
	f, _, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if f == nil {
		t.Fatal("Compile returned no filter")
	}
	return f
}

func nr(t *testing.T, name string) int32 {
	t.Helper()
	n, err := libseccomp.GetSyscallFromName(name)
	if err != nil {
		t.Fatalf("resolve %s: %v", name, err)
	}
	return int32(n)
}

func nativeAudit(t *testing.T) uint32 {
	t.Helper()
	n, err := libseccomp.GetNativeArch()
	if err != nil {
		t.Fatal(err)
	}
	return nativeArch(n).audit
}

// verdict runs f's program for one system call on the native architecture.
func verdict(t *testing.T, f *Filter, arch uint32, sysno int32, args ...uint64) uint32 {
	t.Helper()
	prog, err := decode(f.Program)
	if err != nil {
		t.Fatal(err)
	}
	d := seccompData{nr: sysno, arch: arch}
	copy(d.args[:], args)
	r, err := runBPF(prog, d)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	retAllow       = unix.SECCOMP_RET_ALLOW
	retKillThread  = unix.SECCOMP_RET_KILL_THREAD
	retKillProcess = unix.SECCOMP_RET_KILL_PROCESS
	retTrap        = unix.SECCOMP_RET_TRAP
	retLog         = unix.SECCOMP_RET_LOG
	retNotify      = unix.SECCOMP_RET_USER_NOTIF
)

func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }
func retTrace(v uint32) uint32     { return unix.SECCOMP_RET_TRACE | v }

func TestNilAndEmptyGiveNoFilter(t *testing.T) {
	for _, s := range []*specs.LinuxSeccomp{nil, {}} {
		f, w, err := Compile(s)
		if f != nil || w != nil || err != nil {
			t.Errorf("Compile(%+v) = %v, %v, %v; want no filter", s, f, w, err)
		}
		if err := Validate(s); err != nil {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
}

// Each action, alone on getppid, must come out of the program as the kernel
// return value it stands for.
func TestActionTranslation(t *testing.T) {
	arch := nativeAudit(t)
	cases := []struct {
		action specs.LinuxSeccompAction
		ret    *uint
		want   uint32
	}{
		{specs.ActKill, nil, retKillThread},
		{specs.ActKillThread, nil, retKillThread},
		{specs.ActKillProcess, nil, retKillProcess},
		{specs.ActTrap, nil, retTrap},
		{specs.ActErrno, nil, retErrno(unix.EPERM)},
		{specs.ActErrno, uptr(uint(unix.EXDEV)), retErrno(unix.EXDEV)},
		{specs.ActErrno, uptr(0), retErrno(0)},
		{specs.ActTrace, nil, retTrace(uint32(unix.EPERM))},
		{specs.ActTrace, uptr(77), retTrace(77)},
		{specs.ActLog, nil, retLog},
		{specs.ActNotify, nil, retNotify},
	}
	for _, c := range cases {
		s := &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: c.action, ErrnoRet: c.ret}},
		}
		if c.action == specs.ActNotify {
			s.ListenerPath = "/run/agent.sock"
		}
		f := compile(t, s)
		if got := verdict(t, f, arch, nr(t, "getppid")); got != c.want {
			t.Errorf("%s (errnoRet %v): getppid returns %#x, want %#x", c.action, c.ret, got, c.want)
		}
		if got := verdict(t, f, arch, nr(t, "getpid")); got != retAllow {
			t.Errorf("%s: getpid returns %#x, want ALLOW", c.action, got)
		}
		if f.Notify != (c.action == specs.ActNotify) {
			t.Errorf("%s: Notify = %v", c.action, f.Notify)
		}
	}
}

func TestDefaultActionAndErrnoRet(t *testing.T) {
	arch := nativeAudit(t)
	for _, c := range []struct {
		action specs.LinuxSeccompAction
		ret    *uint
		want   uint32
	}{
		{specs.ActErrno, nil, retErrno(unix.EPERM)},
		{specs.ActErrno, uptr(uint(unix.ENOTTY)), retErrno(unix.ENOTTY)},
		{specs.ActKillProcess, nil, retKillProcess},
		{specs.ActTrap, nil, retTrap},
		{specs.ActLog, nil, retLog},
		{specs.ActAllow, nil, retAllow},
	} {
		f := compile(t, &specs.LinuxSeccomp{
			DefaultAction:   c.action,
			DefaultErrnoRet: c.ret,
			Syscalls:        []specs.LinuxSyscall{{Names: []string{"getppid", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(99)}},
		})
		if got := verdict(t, f, arch, nr(t, "getcwd")); got != c.want {
			t.Errorf("default %s: getcwd returns %#x, want %#x", c.action, got, c.want)
		}
		if got := verdict(t, f, arch, nr(t, "mkdirat")); got != retErrno(99) {
			t.Errorf("default %s: mkdirat returns %#x, want ERRNO(99)", c.action, got)
		}
	}
}

// Every operator, on a 64-bit argument, against values below, at and above
// the operand (and across the 32-bit word boundary, which the program tests
// word by word).
func TestOperatorTranslation(t *testing.T) {
	arch := nativeAudit(t)
	const v = 0x1_0000_0010
	probes := []uint64{0x10, v - 1, v, v + 1, 0x2_0000_0000}
	cases := []struct {
		op       specs.LinuxSeccompOperator
		valueTwo uint64
		match    func(a uint64) bool
	}{
		{specs.OpEqualTo, 0, func(a uint64) bool { return a == v }},
		{specs.OpNotEqual, 0, func(a uint64) bool { return a != v }},
		{specs.OpLessThan, 0, func(a uint64) bool { return a < v }},
		{specs.OpLessEqual, 0, func(a uint64) bool { return a <= v }},
		{specs.OpGreaterThan, 0, func(a uint64) bool { return a > v }},
		{specs.OpGreaterEqual, 0, func(a uint64) bool { return a >= v }},
		// value is the mask, valueTwo the expected masked value.
		{specs.OpMaskedEqual, 0x10, func(a uint64) bool { return a&v == 0x10 }},
	}
	if len(cases) != len(operators) {
		t.Fatalf("test covers %d operators, husk knows %d", len(cases), len(operators))
	}
	for _, c := range cases {
		f := compile(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{
				Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
				Args: []specs.LinuxSeccompArg{{Index: 2, Value: v, ValueTwo: c.valueTwo, Op: c.op}},
			}},
		})
		for _, a := range probes {
			want := uint32(retAllow)
			if c.match(a) {
				want = retErrno(unix.EXDEV)
			}
			if got := verdict(t, f, arch, nr(t, "personality"), 0, 0, a); got != want {
				t.Errorf("%s %#x: arg %#x gives %#x, want %#x", c.op, uint64(v), a, got, want)
			}
		}
	}
}

func TestConditionsOnDifferentArgumentsAllMatch(t *testing.T) {
	arch := nativeAudit(t)
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"personality"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 2, Op: specs.OpEqualTo}},
		}},
	})
	sys := nr(t, "personality")
	if verdict(t, f, arch, sys, 1, 2) != retErrno(unix.EPERM) || verdict(t, f, arch, sys, 1, 3) != retAllow || verdict(t, f, arch, sys, 0, 2) != retAllow {
		t.Fatal("conditions on arguments 0 and 1 do not both have to match")
	}
}

// runc's reading: several conditions on one argument match if any does.
func TestConditionsOnTheSameArgumentAnyMatches(t *testing.T) {
	arch := nativeAudit(t)
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"personality"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 0, Value: 2, Op: specs.OpEqualTo}},
		}},
	})
	sys := nr(t, "personality")
	if verdict(t, f, arch, sys, 1) != retErrno(unix.EPERM) || verdict(t, f, arch, sys, 2) != retErrno(unix.EPERM) || verdict(t, f, arch, sys, 3) != retAllow {
		t.Fatal("conditions on argument 0 are not ORed")
	}
}

func TestUnknownSyscallIsSkippedWithAWarning(t *testing.T) {
	f, warns, err := Compile(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"no_such_syscall", "getppid"}, Action: specs.ActErrno}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `"no_such_syscall"`) || !strings.Contains(warns[0], "syscalls[0]") {
		t.Fatalf("warnings %q", warns)
	}
	if verdict(t, f, nativeAudit(t), nr(t, "getppid")) != retErrno(unix.EPERM) {
		t.Fatal("the known syscall of the rule was dropped too")
	}
}

// The ENOSYS stub: above the largest syscall the profile names, a
// restrictive default gives ENOSYS; below it, the default stands.
func TestEnosysStub(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86 syscall numbers")
	}
	allow := []string{"read", "write", "openat", "getppid"} // openat: 257 on x86_64, 295 on i386
	s := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: allow, Action: specs.ActAllow}},
	}
	f := compile(t, s)
	enosys, eperm := retErrno(unix.ENOSYS), retErrno(unix.EPERM)
	for _, c := range []struct {
		name string
		arch uint32
		nr   int32
		want uint32
	}{
		{"x86_64 read", unix.AUDIT_ARCH_X86_64, 0, retAllow},
		{"x86_64 openat", unix.AUDIT_ARCH_X86_64, 257, retAllow},
		{"x86_64 mkdir (below openat)", unix.AUDIT_ARCH_X86_64, 83, eperm},
		{"x86_64 258 (above openat)", unix.AUDIT_ARCH_X86_64, 258, enosys},
		{"x86_64 clone3", unix.AUDIT_ARCH_X86_64, 435, enosys},
		{"x86_64 -1", unix.AUDIT_ARCH_X86_64, -1, enosys},
		{"i386 openat", unix.AUDIT_ARCH_I386, 295, retAllow},
		{"i386 294", unix.AUDIT_ARCH_I386, 294, eperm},
		{"i386 296", unix.AUDIT_ARCH_I386, 296, enosys},
		{"x32 read", unix.AUDIT_ARCH_X86_64, x32Bit, retAllow},
		{"x32 mkdir", unix.AUDIT_ARCH_X86_64, x32Bit + 83, eperm},
		{"x32 258", unix.AUDIT_ARCH_X86_64, x32Bit + 258, enosys},
		// An architecture outside the filter is libseccomp's business:
		// its bad-architecture action kills.
		{"aarch64", unix.AUDIT_ARCH_AARCH64, 0, retKillThread},
	} {
		if got := verdict(t, f, c.arch, c.nr); got != c.want {
			t.Errorf("%s: got %#x, want %#x", c.name, got, c.want)
		}
	}

	// Without architectures, the native one is still covered.
	s.Architectures = nil
	if got := verdict(t, compile(t, s), unix.AUDIT_ARCH_X86_64, 435); got != enosys {
		t.Errorf("native only: clone3 gives %#x, want ENOSYS", got)
	}

	// No stub when the default lets syscalls through or is ENOSYS already.
	for _, def := range []struct {
		action specs.LinuxSeccompAction
		ret    *uint
		want   uint32
	}{
		{specs.ActAllow, nil, retAllow},
		{specs.ActLog, nil, retLog},
		{specs.ActTrace, nil, retTrace(uint32(unix.EPERM))},
		{specs.ActErrno, uptr(uint(unix.ENOSYS)), enosys},
		{specs.ActKillProcess, nil, enosys},
	} {
		s.DefaultAction, s.DefaultErrnoRet = def.action, def.ret
		s.Syscalls = []specs.LinuxSyscall{{Names: allow, Action: specs.ActErrno, ErrnoRet: uptr(3)}}
		if def.action == specs.ActErrno {
			s.Syscalls[0] = specs.LinuxSyscall{Names: allow, Action: specs.ActAllow}
		}
		if got := verdict(t, compile(t, s), unix.AUDIT_ARCH_X86_64, 435); got != def.want {
			t.Errorf("default %s: clone3 gives %#x, want %#x", def.action, got, def.want)
		}
	}
}

func TestFlags(t *testing.T) {
	base := specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for _, c := range []struct {
		flags []specs.LinuxSeccompFlag
		want  uint
	}{
		{nil, unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW}, // runc's default
		{[]specs.LinuxSeccompFlag{}, 0},
		{[]specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, unix.SECCOMP_FILTER_FLAG_LOG},
		{[]specs.LinuxSeccompFlag{flagTsync, specs.LinuxSeccompFlagSpecAllow}, unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW},
	} {
		s := base
		s.Flags = c.flags
		if c.flags != nil && len(c.flags) == 0 {
			s.Syscalls = []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}}
		}
		if got := compile(t, &s).Flags; got != c.want {
			t.Errorf("flags %q: %#x, want %#x", c.flags, got, c.want)
		}
	}
	s := base
	s.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}
	s.ListenerPath = "/run/agent.sock"
	s.Syscalls = []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}}
	if f := compile(t, &s); f.Flags != unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV || !f.Notify {
		t.Errorf("WAIT_KILLABLE_RECV: %+v", f)
	}
}

// Without a SCMP_ACT_NOTIFY rule, listenerPath and listenerMetadata are ignored (runc): the
// filter compiles and asks for no listener.
func TestListenerWithoutNotifyIgnored(t *testing.T) {
	for _, s := range []specs.LinuxSeccomp{
		{DefaultAction: specs.ActAllow, ListenerPath: "/x"},
		{DefaultAction: specs.ActAllow, ListenerMetadata: "m"},
		{DefaultAction: specs.ActAllow, ListenerPath: "/x", ListenerMetadata: "m",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}}},
	} {
		if err := Validate(&s); err != nil {
			t.Errorf("%+v: %v", s, err)
			continue
		}
		if f := compile(t, &s); f.Notify {
			t.Errorf("%+v: the filter asks for a listener", s)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	notify := []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}}
	cases := []struct {
		s    specs.LinuxSeccomp
		want string
	}{
		{specs.LinuxSeccomp{Syscalls: notify[:0:0], Architectures: []specs.Arch{specs.ArchX86}}, "linux.seccomp.defaultAction: missing"},
		{specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"}, `linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`},
		{specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"}, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uptr(1)}, "linux.seccomp.defaultErrnoRet: set, but SCMP_ACT_ALLOW takes no errno"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(4096)}, "linux.seccomp.defaultErrnoRet: 4096 is above the largest errno"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}}, `linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_VAX"`},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"}}, `linux.seccomp.flags[0]: unknown seccomp flag "SECCOMP_FILTER_FLAG_FOO"`},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}}, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV needs a rule with SCMP_ACT_NOTIFY"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: "SCMP_ACT_BAR"}}}, `linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_BAR"`},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKill, ErrnoRet: uptr(1)}}}, "linux.seccomp.syscalls[0].errnoRet: set, but SCMP_ACT_KILL takes no errno"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read", ""}, Action: specs.ActErrno}}}, "linux.seccomp.syscalls[0].names[1]: empty syscall name"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}}}, "linux.seccomp.syscalls[0].args[0].index: 6 is out of range"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Op: "SCMP_CMP_XX"}}}}}, `linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_XX"`},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: notify}, "linux.seccomp.listenerPath: missing, but a rule uses SCMP_ACT_NOTIFY"},
		{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x", Syscalls: []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActNotify}}}, "SCMP_ACT_NOTIFY cannot be used for the write syscall"},
	}
	if !archSupported(libseccomp.ArchLOONGARCH64) {
		cases = append(cases, struct {
			s    specs.LinuxSeccomp
			want string
		}{specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchLOONGARCH64}}, "linux.seccomp.architectures[1]: architecture SCMP_ARCH_LOONGARCH64 is not supported by libseccomp"})
	}
	for _, c := range cases {
		err := Validate(&c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.s, err, c.want)
		}
		if _, _, cerr := Compile(&c.s); cerr == nil || cerr.Error() != err.Error() {
			t.Errorf("Compile(%+v) = %v, want the Validate error", c.s, cerr)
		}
	}
}

func TestKnownLists(t *testing.T) {
	if got := KnownActions(); len(got) != 9 || !slices.Contains(got, "SCMP_ACT_KILL_PROCESS") || !slices.IsSorted(got) {
		t.Errorf("KnownActions = %q", got)
	}
	if got := KnownOperators(); len(got) != 7 || !slices.Contains(got, "SCMP_CMP_MASKED_EQ") {
		t.Errorf("KnownOperators = %q", got)
	}
	if got := KnownFlags(); len(got) != 4 || !slices.Contains(got, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
		t.Errorf("KnownFlags = %q", got)
	}
	archList := KnownArchs()
	for _, a := range []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_S390X", "SCMP_ARCH_RISCV64"} {
		if !slices.Contains(archList, a) {
			t.Errorf("KnownArchs lacks %s: %q", a, archList)
		}
	}
	// This kernel (6.x) has all four flags; the probe must find them.
	if got := SupportedFlags(); !slices.Equal(got, KnownFlags()) {
		t.Errorf("SupportedFlags = %q, want %q", got, KnownFlags())
	}
	if v := Version(); v != "2.5.4" {
		t.Logf("libseccomp %s (Debian 12 ships 2.5.4)", v)
	}
	if strings.Count(Version(), ".") != 2 {
		t.Errorf("Version = %q", Version())
	}
}

func TestFilterRoundTripsThroughJSON(t *testing.T) {
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, ListenerPath: "/a",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}, {Names: []string{"getppid"}, Action: specs.ActNotify}},
	})
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var g Filter
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Program, g.Program) || f.Flags != g.Flags || f.Notify != g.Notify {
		t.Fatal("filter changed through JSON")
	}
	// The same profile compiles to the same program.
	if h := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, ListenerPath: "/a",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"read", "write", "exit_group"}, Action: specs.ActAllow}, {Names: []string{"getppid"}, Action: specs.ActNotify}},
	}); !bytes.Equal(h.Program, f.Program) {
		t.Fatal("compiling twice gives two programs")
	}
}

// profileTemplate is the format of Docker's and Podman's profile files; the
// engines turn it into linux.seccomp for one architecture and capability set.
type profileTemplate struct {
	DefaultAction   specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet *uint                    `json:"defaultErrnoRet"`
	ArchMap         []struct {
		Arch specs.Arch   `json:"architecture"`
		Sub  []specs.Arch `json:"subArchitectures"`
	} `json:"archMap"`
	Syscalls []struct {
		specs.LinuxSyscall
		Includes selector `json:"includes"`
		Excludes selector `json:"excludes"`
	} `json:"syscalls"`
}

type selector struct {
	Arches []string `json:"arches"`
	Caps   []string `json:"caps"`
}

// loadProfile builds the linux.seccomp an engine generates on amd64 for a
// container with the given capabilities.
func loadProfile(t testing.TB, path string, caps []string) *specs.LinuxSeccomp {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tpl profileTemplate
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatal(err)
	}
	s := &specs.LinuxSeccomp{DefaultAction: tpl.DefaultAction, DefaultErrnoRet: tpl.DefaultErrnoRet}
	for _, m := range tpl.ArchMap {
		if m.Arch == specs.ArchX86_64 {
			s.Architectures = append([]specs.Arch{m.Arch}, m.Sub...)
		}
	}
	hasAll := func(list []string) bool {
		for _, c := range list {
			if !slices.Contains(caps, c) {
				return false
			}
		}
		return true
	}
	hasAny := func(list []string) bool {
		for _, c := range list {
			if slices.Contains(caps, c) {
				return true
			}
		}
		return false
	}
	for _, r := range tpl.Syscalls {
		if len(r.Includes.Arches) > 0 && !slices.Contains(r.Includes.Arches, "amd64") {
			continue
		}
		if !hasAll(r.Includes.Caps) || hasAny(r.Excludes.Caps) || slices.Contains(r.Excludes.Arches, "amd64") {
			continue
		}
		s.Syscalls = append(s.Syscalls, r.LinuxSyscall)
	}
	return s
}

var dockerDefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

func TestEngineDefaultProfilesCompile(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("profiles are generated for amd64")
	}
	arch := nativeAudit(t)
	for _, p := range []struct{ file, engine string }{
		{"testdata/docker-default.json", "docker"},
		{"testdata/podman-default.json", "podman"},
	} {
		for _, caps := range [][]string{dockerDefaultCaps, append(slices.Clone(dockerDefaultCaps), "CAP_SYS_ADMIN")} {
			s := loadProfile(t, p.file, caps)
			f, warns, err := Compile(s)
			if err != nil {
				t.Fatalf("%s profile: %v", p.engine, err)
			}
			t.Logf("%s profile, %d rules: %d instructions, %d warnings", p.engine, len(s.Syscalls), len(f.Program)/sockFilterSize, len(warns))
			if err := Validate(s); err != nil {
				t.Fatalf("%s: Validate: %v", p.engine, err)
			}
			defErr := retErrno(unix.Errno(*s.DefaultErrnoRet))
			// Allowed, refused by default, refused by argument.
			for _, c := range []struct {
				what string
				nr   int32
				args []uint64
				want uint32
			}{
				{"read", nr(t, "read"), nil, retAllow},
				{"getppid", nr(t, "getppid"), nil, retAllow},
				{"add_key", nr(t, "add_key"), nil, defErr},
				{"socket(AF_INET)", nr(t, "socket"), []uint64{unix.AF_INET}, retAllow},
				{"personality(0)", nr(t, "personality"), []uint64{0}, retAllow},
			} {
				if got := verdict(t, f, arch, c.nr, c.args...); got != c.want {
					t.Errorf("%s profile: %s gives %#x, want %#x", p.engine, c.what, got, c.want)
				}
			}
			// A syscall number no profile knows: ENOSYS through the stub
			// (podman's default errno is ENOSYS already).
			if got := verdict(t, f, arch, 1000); got != retErrno(unix.ENOSYS) {
				t.Errorf("%s profile: syscall 1000 gives %#x, want ENOSYS", p.engine, got)
			}
		}
	}
	// Docker's: AF_VSOCK sockets are refused, and without CAP_SYS_ADMIN
	// clone may not make namespaces.
	s := loadProfile(t, "testdata/docker-default.json", dockerDefaultCaps)
	f := compile(t, s)
	if got := verdict(t, f, arch, nr(t, "socket"), unix.AF_VSOCK); got != retErrno(unix.EPERM) {
		t.Errorf("docker: socket(AF_VSOCK) gives %#x", got)
	}
	if got := verdict(t, f, arch, nr(t, "clone"), unix.CLONE_NEWNS); got != retErrno(unix.EPERM) {
		t.Errorf("docker: clone(CLONE_NEWNS) gives %#x", got)
	}
	if got := verdict(t, f, arch, nr(t, "clone"), unix.CLONE_VM|unix.CLONE_THREAD); got != retAllow {
		t.Errorf("docker: clone(CLONE_VM|CLONE_THREAD) gives %#x", got)
	}
}
