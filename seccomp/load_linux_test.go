package seccomp

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The load tests install filters for good, so each runs in a fresh copy of
// the test binary: TestMain turns into helperMain when helperEnv is set. The
// helper loads the filter the way the init does (compiled by the test, sent
// as JSON), makes the system calls of the plan with RawSyscall, and writes
// the raw results to stdout before anything else can run into the filter.
const helperEnv = "HUSK_SECCOMP_TEST_PLAN"

type probe struct {
	Nr   uintptr
	Args [6]uintptr
	// Path, if set, is passed as a C string in argument PathArg.
	Path    string
	PathArg int
}

type helperPlan struct {
	Filter       *Filter
	Probes       []probe
	ListenerPath string   // SendListener the notify fd here before probing
	State        []byte   // container state for SendListener
	Exec         []string // execve this after probing
	Tasks        bool     // report the seccomp mode of every thread
}

type result struct{ R1, Errno uint64 }

func TestMain(m *testing.M) {
	if plan := os.Getenv(helperEnv); plan != "" {
		os.Exit(helperMain(plan))
	}
	os.Exit(m.Run())
}

func helperMain(planJSON string) int {
	runtime.LockOSThread()
	var plan helperPlan
	if err := json.Unmarshal([]byte(planJSON), &plan); err != nil {
		fmt.Println("ERR", err)
		return 3
	}
	// KILL and TRAP must not leave core files behind.
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		fmt.Println("ERR", err)
		return 3
	}
	if plan.Tasks {
		// Make sure there is a thread besides this one.
		started := make(chan struct{})
		go func() { runtime.LockOSThread(); close(started); select {} }()
		<-started
	}
	var keep [][]byte
	for i := range plan.Probes {
		if p := &plan.Probes[i]; p.Path != "" {
			b := append([]byte(p.Path), 0)
			keep = append(keep, b)
			p.Args[p.PathArg] = uintptr(unsafe.Pointer(&b[0]))
		}
	}
	out := make([]byte, 16*len(plan.Probes))
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("ERR", err)
		return 3
	}

	fd, err := Load(plan.Filter)
	if err != nil {
		fmt.Println("ERR", err)
		return 3
	}
	if (fd >= 0) != plan.Filter.Notify {
		fmt.Println("ERR listener fd", fd, "with Notify", plan.Filter.Notify)
		return 3
	}
	if plan.ListenerPath != "" {
		if err := SendListener(plan.ListenerPath, fd, plan.State, "test-metadata"); err != nil {
			fmt.Println("ERR", err)
			return 3
		}
	}
	// From here on, only raw system calls and no allocation, so that a
	// restrictive filter only meets the calls of the plan.
	for i, p := range plan.Probes {
		r1, _, e := unix.RawSyscall6(p.Nr, p.Args[0], p.Args[1], p.Args[2], p.Args[3], p.Args[4], p.Args[5])
		binary.LittleEndian.PutUint64(out[16*i:], uint64(r1))
		binary.LittleEndian.PutUint64(out[16*i+8:], uint64(e))
	}
	if len(out) > 0 {
		unix.RawSyscall(unix.SYS_WRITE, 1, uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)))
	}
	runtime.KeepAlive(keep)
	if plan.Tasks {
		reportTasks()
	}
	if len(plan.Exec) > 0 {
		err := syscall.Exec(plan.Exec[0], plan.Exec, os.Environ())
		fmt.Println("ERR exec", err)
		return 3
	}
	unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	return 0
}

// reportTasks prints "threads N filtered M" for the helper's threads.
func reportTasks() {
	tids, _ := filepath.Glob("/proc/self/task/*/status")
	filtered := 0
	for _, p := range tids {
		data, _ := os.ReadFile(p)
		if strings.Contains(string(data), "\nSeccomp:\t2\n") {
			filtered++
		}
	}
	fmt.Printf("threads %d filtered %d\n", len(tids), filtered)
}

type helperRun struct {
	results []result
	rest    string // output after the results
	status  syscall.WaitStatus
}

// startHelper starts the helper for plan; waitHelper collects it.
func startHelper(t *testing.T, plan helperPlan) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	js, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(js))
	cmd.Dir = t.TempDir()
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func waitHelper(t *testing.T, cmd *exec.Cmd, out *strings.Builder, probes int) helperRun {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	run := helperRun{status: cmd.ProcessState.Sys().(syscall.WaitStatus)}
	text := out.String()
	if strings.HasPrefix(text, "ERR") {
		t.Fatalf("helper: %s", text)
	}
	if run.status.Exited() && run.status.ExitStatus() == 0 {
		if len(text) < 16*probes {
			t.Fatalf("helper wrote %d bytes, want %d results: %q", len(text), probes, text)
		}
		for i := 0; i < probes; i++ {
			run.results = append(run.results, result{
				R1:    binary.LittleEndian.Uint64([]byte(text[16*i:])),
				Errno: binary.LittleEndian.Uint64([]byte(text[16*i+8:])),
			})
		}
		text = text[16*probes:]
	}
	run.rest = text
	return run
}

func runHelper(t *testing.T, plan helperPlan) helperRun {
	t.Helper()
	cmd, out := startHelper(t, plan)
	return waitHelper(t, cmd, out, len(plan.Probes))
}

func sysno(t *testing.T, name string) uintptr { return uintptr(nr(t, name)) }

func expectErrno(t *testing.T, what string, r result, want unix.Errno) {
	t.Helper()
	if unix.Errno(r.Errno) != want {
		t.Errorf("%s: errno %d (%v), want %d (%v)", what, r.Errno, unix.Errno(r.Errno), int(want), want)
	}
}

func TestLoadErrnoRule(t *testing.T) {
	dir := t.TempDir()
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.ENOMSG))}},
	})
	target := filepath.Join(dir, "blocked")
	atFdcwd := ^uintptr(99) // AT_FDCWD is -100
	run := runHelper(t, helperPlan{Filter: f, Probes: []probe{
		{Nr: sysno(t, "mkdirat"), Args: [6]uintptr{atFdcwd, 0, 0o755}, Path: target, PathArg: 1},
		{Nr: sysno(t, "getppid")},
	}})
	expectErrno(t, "mkdirat", run.results[0], unix.ENOMSG)
	expectErrno(t, "getppid", run.results[1], 0)
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("the directory was made: %v", err)
	}
}

// A restrictive default with defaultErrnoRet; syscalls newer than the
// profile get ENOSYS from the stub instead.
func TestLoadDefaultErrnoAndEnosys(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86_64 syscall numbers")
	}
	// What the Go runtime may need on this thread while probing; all below
	// 300 on x86_64, so membarrier (324) is above the profile.
	runtimeCalls := []string{"read", "write", "close", "mmap", "mprotect", "munmap", "brk", "rt_sigaction",
		"rt_sigprocmask", "rt_sigreturn", "sched_yield", "madvise", "nanosleep", "getpid", "clone", "exit",
		"sigaltstack", "gettid", "futex", "sched_getaffinity", "clock_gettime", "exit_group", "tgkill", "openat", "fcntl"}
	for _, c := range []struct {
		ret  *uint
		want unix.Errno
	}{{nil, unix.EPERM}, {uptr(uint(unix.ENOTTY)), unix.ENOTTY}} {
		f := compile(t, &specs.LinuxSeccomp{
			DefaultAction:   specs.ActErrno,
			DefaultErrnoRet: c.ret,
			Syscalls:        []specs.LinuxSyscall{{Names: runtimeCalls, Action: specs.ActAllow}},
		})
		buf := strings.Repeat("x", 64)
		run := runHelper(t, helperPlan{Filter: f, Probes: []probe{
			{Nr: unix.SYS_GETCWD, Args: [6]uintptr{0, 64}, Path: buf, PathArg: 0},
			{Nr: unix.SYS_MEMBARRIER}, // MEMBARRIER_CMD_QUERY
			{Nr: 999},
			{Nr: unix.SYS_GETPID},
		}})
		expectErrno(t, "getcwd (default action)", run.results[0], c.want)
		expectErrno(t, "membarrier (newer than the profile)", run.results[1], unix.ENOSYS)
		expectErrno(t, "syscall 999", run.results[2], unix.ENOSYS)
		expectErrno(t, "getpid (allowed)", run.results[3], 0)
	}
}

func TestLoadArgumentCondition(t *testing.T) {
	const persona = 0x0008 // PER_LINUX32
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: persona, Op: specs.OpEqualTo}},
		}},
	})
	p := sysno(t, "personality")
	run := runHelper(t, helperPlan{Filter: f, Probes: []probe{
		{Nr: p, Args: [6]uintptr{0xffffffff}}, // query
		{Nr: p, Args: [6]uintptr{persona}},
		{Nr: p, Args: [6]uintptr{0}},
	}})
	expectErrno(t, "personality(query)", run.results[0], 0)
	expectErrno(t, "personality(PER_LINUX32)", run.results[1], unix.EXDEV)
	expectErrno(t, "personality(PER_LINUX)", run.results[2], 0)

	// SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo.
	f = compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: persona, Op: specs.OpMaskedEqual}},
		}},
	})
	run = runHelper(t, helperPlan{Filter: f, Probes: []probe{
		{Nr: p, Args: [6]uintptr{0x0400000 | persona}}, // ADDR_NO_RANDOMIZE|PER_LINUX32
		{Nr: p, Args: [6]uintptr{0x0400000}},
	}})
	expectErrno(t, "personality(ADDR_NO_RANDOMIZE|PER_LINUX32)", run.results[0], unix.EXDEV)
	expectErrno(t, "personality(ADDR_NO_RANDOMIZE)", run.results[1], 0)
}

func TestLoadKillProcess(t *testing.T) {
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKillProcess}},
	})
	run := runHelper(t, helperPlan{Filter: f, Probes: []probe{{Nr: sysno(t, "getppid")}}})
	if !run.status.Signaled() || run.status.Signal() != unix.SIGSYS {
		t.Fatalf("helper ended with %v, want killed by SIGSYS; output %q", run.status, run.rest)
	}
}

// SCMP_ACT_KILL kills the thread, which ends a single-threaded workload:
// the helper execs busybox under the filter.
func TestLoadKillAfterExec(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "blocked")
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}},
	})
	run := runHelper(t, helperPlan{Filter: f, Exec: []string{"/bin/busybox", "mkdir", target}})
	if !run.status.Signaled() || run.status.Signal() != unix.SIGSYS {
		t.Fatalf("busybox mkdir ended with %v, want killed by SIGSYS; output %q", run.status, run.rest)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("the directory was made: %v", err)
	}
}

func TestLoadTrap(t *testing.T) {
	f := compile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActTrap}},
	})
	run := runHelper(t, helperPlan{Filter: f, Probes: []probe{{Nr: sysno(t, "getppid")}}})
	// The Go runtime turns the SIGSYS into a crash report.
	if !strings.Contains(run.rest, "SIGSYS") {
		t.Fatalf("helper ended with %v and %q, want a SIGSYS", run.status, run.rest)
	}
}

func TestLoadTsync(t *testing.T) {
	for _, c := range []struct {
		flags []specs.LinuxSeccompFlag
		all   bool
	}{{[]specs.LinuxSeccompFlag{}, false}, {[]specs.LinuxSeccompFlag{flagTsync}, true}} {
		f := compile(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow, Flags: c.flags,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActErrno}},
		})
		run := runHelper(t, helperPlan{Filter: f, Tasks: true})
		var threads, filtered int
		if _, err := fmt.Sscanf(run.rest, "threads %d filtered %d", &threads, &filtered); err != nil {
			t.Fatalf("helper output %q: %v", run.rest, err)
		}
		if threads < 2 {
			t.Fatalf("helper has %d threads, the test needs several", threads)
		}
		if c.all && filtered != threads || !c.all && filtered != 1 {
			t.Errorf("flags %q: %d of %d threads filtered", c.flags, filtered, threads)
		}
	}
}

// NOTIFY: the helper loads the filter, sends the listener to an agent with
// SendListener, then calls getppid; the agent answers 4242 through the fd.
func TestLoadNotifyAndSendListener(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	spec := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow, ListenerPath: sock, ListenerMetadata: "test-metadata",
		Flags:    []specs.LinuxSeccompFlag{flagTsync, specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActNotify}},
	}
	f := compile(t, spec)
	state, _ := json.Marshal(specs.State{Version: specs.Version, ID: "husktest-notify", Status: specs.StateCreating, Pid: 4321, Bundle: dir})
	cmd, out := startHelper(t, helperPlan{Filter: f, ListenerPath: sock, State: state, Probes: []probe{{Nr: sysno(t, "getppid")}}})
	defer cmd.Process.Kill()

	ln.SetDeadline(time.Now().Add(20 * time.Second))
	conn, err := ln.AcceptUnix()
	if err != nil {
		t.Fatalf("accept: %v (helper: %q)", err, out.String())
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v: %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v: %v", fds, err)
	}
	listener := fds[0]
	defer unix.Close(listener)
	body := buf[:n]
	for { // the rest of the message, up to EOF
		m, err := conn.Read(buf)
		body = append(body, buf[:m]...)
		if err != nil {
			break
		}
	}
	var ps specs.ContainerProcessState
	if err := json.Unmarshal(body, &ps); err != nil {
		t.Fatalf("message %q: %v", body, err)
	}
	if ps.Version != specs.Version || len(ps.Fds) != 1 || ps.Fds[0] != "seccompFd" || ps.Pid != 4321 ||
		ps.Metadata != "test-metadata" || ps.State.ID != "husktest-notify" || ps.State.Bundle != dir {
		t.Fatalf("process state %+v", ps)
	}

	req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(listener))
	if err != nil {
		t.Fatal(err)
	}
	if req.Data.Syscall != libseccomp.ScmpSyscall(nr(t, "getppid")) || int(req.Pid) != cmd.Process.Pid {
		t.Fatalf("notification %+v, want getppid from pid %d", req, cmd.Process.Pid)
	}
	if err := libseccomp.NotifRespond(libseccomp.ScmpFd(listener), &libseccomp.ScmpNotifResp{ID: req.ID, Val: 4242}); err != nil {
		t.Fatal(err)
	}
	run := waitHelper(t, cmd, out, 1)
	if run.results[0] != (result{R1: 4242}) {
		t.Fatalf("getppid returned %+v, want 4242 from the agent", run.results[0])
	}
}

func TestSendListenerWantsAContainerState(t *testing.T) {
	// A ContainerProcessState is not a State: its id is one level down.
	wrapped, _ := json.Marshal(specs.ContainerProcessState{Version: specs.Version, Pid: 1, State: specs.State{ID: "x", Pid: 1}})
	for _, state := range [][]byte{wrapped, []byte("{"), []byte(`{"id":"x"}`)} {
		if err := SendListener(filepath.Join(t.TempDir(), "none.sock"), 0, state, ""); err == nil || !strings.Contains(err.Error(), "container state") {
			t.Errorf("SendListener(state %s) = %v, want an error about the state", state, err)
		}
	}
	// A good state and no agent: the error names the socket.
	good, _ := json.Marshal(specs.State{ID: "x", Pid: 1})
	path := filepath.Join(t.TempDir(), "none.sock")
	if err := SendListener(path, 0, good, ""); err == nil || !strings.Contains(err.Error(), "connect to "+path) {
		t.Errorf("SendListener without an agent = %v", err)
	}
}

func TestLoadRejectsBadFilters(t *testing.T) {
	for _, f := range []*Filter{nil, {}, {Program: make([]byte, 12)}, {Program: make([]byte, 8*(maxInsns+1))}} {
		if fd, err := Load(f); err == nil || fd != -1 {
			t.Errorf("Load(%v) = %d, %v; want an error", f, fd, err)
		}
	}
}
