package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/capabilities"
	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/seccomp"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		// Locked during package initialisation, the main goroutine stays on the process's
		// main thread into main.main and Init: the thread that leads the thread group, which
		// joins the container's cgroups by itself (cgroups.JoinThread).
		runtime.LockOSThread()
	}
}

// Init is `husk init`: the container's first process, already inside its namespaces (see
// nsenter/), until it execs the workload. It only returns after sending an error to the parent.
func Init() {
	// capset(2), prctl(2) and seccomp(2) act on the calling thread: everything up to execve
	// must happen on this one.
	runtime.LockOSThread()
	sockFd, err := strconv.Atoi(os.Getenv("_HUSK_INITPIPE"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "husk init: must be started by husk itself")
		os.Exit(1)
	}
	sock := os.NewFile(uintptr(sockFd), "init-sock")
	if err := runInit(sock); err != nil {
		writeJSON(sock, syncMsg{Type: msgError, Msg: err.Error()})
	}
	os.Exit(1)
}

func envFd(name string) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return -1, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return -1, fmt.Errorf("bad %s=%q", name, v)
	}
	return fd, nil
}

func runInit(sock *os.File) error {
	unix.CloseOnExec(int(sock.Fd()))
	fifoFd, err := envFd("_HUSK_FIFOFD")
	if err != nil {
		return err
	}
	consoleFd, err := envFd("_HUSK_CONSOLE")
	if err != nil {
		return err
	}
	if fifoFd >= 0 {
		unix.CloseOnExec(fifoFd)
	}
	if consoleFd >= 0 {
		unix.CloseOnExec(consoleFd)
	}
	os.Clearenv()

	data, taskFds, err := readFrameFds(sock)
	if err != nil {
		return fmt.Errorf("read config from parent: %w", err)
	}
	var cfg initConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("decode config from parent: %w", err)
	}
	if cfg.Spec, err = decodeInitSpec(cfg.SpecJSON, cfg.Exec); err != nil {
		return fmt.Errorf("decode config from parent: spec: %w", err)
	}
	if cfg.Spec.Process == nil {
		return errors.New("config from parent has no process")
	}
	if len(taskFds) != len(cfg.CgroupTasks) {
		return fmt.Errorf("join cgroup: %d tasks files named, %d fds received", len(cfg.CgroupTasks), len(taskFds))
	}
	t := &initTimer{enabled: cfg.Debug, killAt: cfg.TestKillAt}
	t.phase("")
	if len(taskFds) > 0 {
		// Memory is charged to the cgroup of the thread group's leader, and this thread is
		// the one that execs the workload: it must be the main thread (see init above).
		if unix.Gettid() != unix.Getpid() {
			return fmt.Errorf("join cgroup: husk init runs on thread %d, not its main thread %d", unix.Gettid(), unix.Getpid())
		}
		if err := cgroups.JoinThread(taskFds, cfg.CgroupTasks); err != nil {
			return err
		}
	}
	if cfg.JoinCgroup {
		if err := writeJSON(sock, syncMsg{Type: msgCgroup}); err != nil {
			return fmt.Errorf("ask parent to join the cgroup: %w", err)
		}
		if m, err := readMsg(sock); err != nil || m.Type != msgResume {
			return fmt.Errorf("wait for the cgroup join: %v %v", m.Type, err)
		}
	}
	// A cgroup namespace takes the current cgroup as its root, so it comes after the join.
	if cfg.NewCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	if err := resetCPUAffinity(); err != nil {
		return err
	}
	t.phase("cgroup")
	spec := cfg.Spec
	caps := cfg.Caps
	if caps == nil {
		caps = &capabilities.Caps{} // no capabilities in the config: all sets empty
	}

	// An exec joins a container whose root, hostname and sysctls are already set up: its
	// mount namespace put it at the container's root.
	if !cfg.Exec {
		if err := setupContainer(&cfg, sock, t); err != nil {
			return err
		}
	}
	if cfg.Console {
		// /dev/console only for the container's own init, and only in a /dev husk made.
		devConsole := !cfg.Exec && !devIsBindMounted(spec.Mounts)
		if err := setupConsole(consoleFd, spec.Process, devConsole, cfg.Proxied); err != nil {
			return err
		}
	} else {
		// A session of its own, for an exec too (as runc does): a process of the container
		// must not belong to a session led outside it (criu cannot checkpoint that).
		if _, err := unix.Setsid(); err != nil {
			return fmt.Errorf("setsid: %w", err)
		}
	}
	if !cfg.Exec {
		if err := finishReadonlyMounts(spec.Mounts); err != nil {
			return err
		}
	}
	t.phase("console")
	if !cfg.NoNewKeyring {
		if err := setKeyLabel(cfg.LSM.ProcessLabel); err != nil {
			return err
		}
		if err := joinSessionKeyring(cfg.ID); err != nil {
			return err
		}
	}
	if err := setupProcessAttrs(spec.Process); err != nil {
		return err
	}
	if err := applyPersonality(spec.Linux.Personality); err != nil {
		return err
	}
	if err := applyMemoryPolicy(spec.Linux.MemoryPolicy); err != nil {
		return err
	}
	// The workload's AppArmor profile and SELinux label. Both take effect at execve, so they
	// confine nothing the init still does; written late, but with the init's privileges and
	// before no_new_privs and every seccomp filter (runc writes them before seccomp too): a
	// filter that denied the procfs access would leave the workload unconfined.
	if err := applyExecLabels(cfg.LSM); err != nil {
		return err
	}
	if spec.Process.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: prctl(PR_SET_NO_NEW_PRIVS): %w", err)
		}
	}
	closeStrayFds(3+cfg.KeepFds, int(sock.Fd()), fifoFd, consoleFd)
	// Only stdio and the kept fds (LISTEN_FDS, --preserve-fds) may reach the workload. This
	// comes before seccomp: a profile may well not allow close_range.
	if err := unix.CloseRange(uint(3+cfg.KeepFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close_range: %w", err)
	}
	// The working directory is entered (and checked) before seccomp: a profile may forbid
	// getcwd.
	cwdAsUser, err := enterCwd(spec.Process.Cwd)
	if err != nil {
		return err
	}
	// Without no_new_privs the kernel only lets us load a filter while we hold CAP_SYS_ADMIN,
	// so it goes on before the user and capabilities change; with it, as late as possible so
	// that fewer of our own syscalls pass through it.
	var listenerFd = -1
	if !spec.Process.NoNewPrivileges {
		if listenerFd, err = loadSeccomp(cfg.Seccomp); err != nil {
			return err
		}
	}
	if err := caps.ApplyBounding(); err != nil {
		return fmt.Errorf("process.capabilities.bounding: %w", err)
	}
	if err := setupUser(spec.Process, cfg.Env); err != nil {
		return err
	}
	if cwdAsUser {
		if err := chdirInRoot(spec.Process.Cwd); err != nil {
			return err
		}
	}
	if err := caps.ApplyCaps(); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	if spec.Process.NoNewPrivileges {
		if listenerFd, err = loadSeccomp(cfg.Seccomp); err != nil {
			return err
		}
	}
	if listenerFd >= 0 {
		if err := handOverListener(sock, listenerFd); err != nil {
			return err
		}
	}
	t.phase("process")
	env := execEnv(cfg.Env, func() string { return homeOf(spec.Process.User.UID) })
	path, err := lookPath(spec.Process.Args[0], env)
	if err != nil {
		return err
	}
	affinity := execCPUAffinity(&cfg)
	// In its cgroup by now, unless an exec into a paused container joins it late.
	if !cfg.WaitResume {
		if err := applyExecAffinity(affinity); err != nil {
			return err
		}
	}
	if err := writeJSON(sock, syncMsg{Type: msgReady, Msg: t.b.String()}); err != nil {
		return fmt.Errorf("report ready to parent: %w", err)
	}
	if cfg.WaitResume {
		if m, err := readMsg(sock); err != nil || m.Type != msgResume {
			return fmt.Errorf("wait for parent to join the cgroup: %v %v", m.Type, err)
		}
		if err := applyExecAffinity(affinity); err != nil {
			return err
		}
	}
	if cfg.Exec {
		// The socket is close-on-exec: the parent sees it close when execve succeeds, and
		// gets the error below when it fails.
		if err := unix.Exec(path, spec.Process.Args, env); err != nil {
			return fmt.Errorf("exec %s: %w", spec.Process.Args[0], err)
		}
	}
	sock.Close()

	// Block until `husk start` opens the fifo for reading.
	fifo, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(fifoFd), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return reportLate(fmt.Errorf("open exec fifo: %w", err))
	}
	unix.Close(fifoFd)
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		st := OCIState{OCIVersion: specs.Version, ID: cfg.ID, Pid: cfg.InitPid, Status: Created,
			Bundle: cfg.Bundle, Annotations: spec.Annotations}
		// A hook without env of its own gets the workload's, as in runc.
		if err := runHooksAt("startContainer", spec.Hooks.StartContainer, st, hookPlace{env: env}); err != nil {
			return reportLate(err)
		}
	}
	// The byte says the hooks are done; execve then closes the fifo (close-on-exec), which is
	// how `start` knows the workload runs before it calls the poststart hooks.
	if _, err := fifo.Write([]byte{0}); err != nil {
		return reportLate(fmt.Errorf("write exec fifo: %w", err))
	}
	if err := unix.Exec(path, spec.Process.Args, env); err != nil {
		return reportLate(fmt.Errorf("exec %s: %w", spec.Process.Args[0], err))
	}
	return nil
}

// setupContainer makes what the container's own init makes once for every process that will
// join it: the root filesystem, host and domain name, loopback, sysctls, then the read-only
// and masked paths.
func setupContainer(cfg *initConfig, sock *os.File, t *initTimer) error {
	spec := cfg.Spec
	if err := setupRootfs(cfg, sock, t); err != nil {
		return err
	}
	if err := setupUTS(spec); err != nil {
		return err
	}
	if hasNewNamespace(spec.Linux.Namespaces, specs.NetworkNamespace) {
		if err := bringUpLoopback(); err != nil {
			return err
		}
	}
	if err := writeSysctls(spec.Linux.Sysctl); err != nil {
		return err
	}
	if err := finishRootfs(spec, cfg.LSM.MountLabel); err != nil {
		return err
	}
	t.phase("finish rootfs")
	return nil
}

// execCPUAffinity is process.execCPUAffinity for an exec, nil for the container's init: the
// runtime-spec makes it not applicable there (runc ignores it too).
func execCPUAffinity(cfg *initConfig) *specs.CPUAffinity {
	if !cfg.Exec {
		return nil
	}
	return cfg.Spec.Process.ExecCPUAffinity
}

// reportLate prints errors that happen after the parent has gone (after `start`): the only
// place left to say them is the container's stderr.
func reportLate(err error) error {
	fmt.Fprintf(os.Stderr, "husk init: %v\n", err)
	os.Exit(127)
	return err
}

func setupUTS(spec *initSpec) error {
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("hostname: sethostname %q: %w", spec.Hostname, err)
		}
	}
	if spec.Domainname != "" {
		if err := unix.Setdomainname([]byte(spec.Domainname)); err != nil {
			return fmt.Errorf("domainname: setdomainname %q: %w", spec.Domainname, err)
		}
	}
	return nil
}

func loadSeccomp(f *seccomp.Filter) (int, error) {
	if f == nil {
		return -1, nil
	}
	fd, err := seccomp.Load(f)
	if err != nil {
		return -1, fmt.Errorf("linux.seccomp: %w", err)
	}
	return fd, nil
}

// handOverListener gives the seccomp notify fd to the parent, which sends it to the agent at
// listenerPath: that path is a host path, and connecting from here would resolve it inside
// the container (and pass through the filter just loaded).
func handOverListener(sock *os.File, fd int) error {
	if err := writeJSON(sock, syncMsg{Type: msgSeccompFd, Fd: fd}); err != nil {
		return fmt.Errorf("send seccomp listener fd to parent: %w", err)
	}
	m, err := readMsg(sock)
	if err != nil {
		return fmt.Errorf("wait for parent to pass on the seccomp listener: %w", err)
	}
	if m.Type != msgResume {
		return fmt.Errorf("unexpected message %q after the seccomp listener", m.Type)
	}
	return unix.Close(fd)
}

func joinSessionKeyring(id string) error {
	_, err := unix.KeyctlJoinSessionKeyring("_ses." + id)
	if err != nil && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("join session keyring: %w", err)
	}
	return nil
}

// enterCwd changes to process.cwd while the init still has its privileges, as runc does: a
// process may start in a directory its user could not enter (/root, 0700, for uid 1000).
// When even the init is refused (a directory of the container's user that root of a user
// namespace may not search) it says so, and the caller tries again as the user.
func enterCwd(cwd string) (asUser bool, err error) {
	err = chdirInRoot(cwd)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return true, nil
	}
	return false, err
}

// chdirInRoot changes to the working directory and checks that it is inside the container's
// root: a path through a leaked fd (/proc/self/fd/N) could otherwise leave the process's cwd
// on a host directory (CVE-2024-21626). getcwd reports such a directory as unreachable.
func chdirInRoot(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("process.cwd: chdir %s: %w", cwd, err)
	}
	buf := make([]byte, 4096)
	n, err := unix.Getcwd(buf)
	if err != nil {
		return fmt.Errorf("process.cwd %s: getcwd: %w", cwd, err)
	}
	got := string(buf[:n])
	if i := strings.IndexByte(got, 0); i >= 0 {
		got = got[:i]
	}
	if !strings.HasPrefix(got, "/") {
		return fmt.Errorf("process.cwd %s: resolves outside the container's root (%s)", cwd, got)
	}
	return nil
}

// closeStrayFds closes every fd from first up that the init did not open on purpose: what a
// library cached while setting up the rootfs (a private procfs handle) has no business in the
// container, even close-on-exec, while the init waits for start. The Go runtime's own
// netpoller fds stay.
func closeStrayFds(first int, keep ...int) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return // no /proc in the container; close_range(CLOEXEC) still applies at exec
	}
	kept := map[int]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < first || kept[fd] {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || strings.HasPrefix(target, "anon_inode:") {
			continue // the directory's own fd (gone by now), or the runtime's epoll/eventfd
		}
		unix.Close(fd)
	}
}
