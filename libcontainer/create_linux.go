package libcontainer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/capabilities"
	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/seccomp"
)

// CreateOpts are the create/run flags.
type CreateOpts struct {
	Root          string
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	// ConsoleConn, when set, is a connected socket that receives the pty master (husk's own
	// terminal proxy) instead of ConsoleSocket.
	ConsoleConn  *os.File
	NoPivot      bool
	NoNewKeyring bool
	PreserveFds  int
	PidfdSocket  string // receives a pidfd of the init
	// SystemdCgroup: the systemd cgroup driver (--systemd-cgroup) instead of cgroupfs.
	SystemdCgroup bool
	// RootlessCgroups tolerates having no permission to create the container's cgroup
	// (runc's --rootless; see rootlessCgroup).
	RootlessCgroups bool
	// Stdio for the container's process; nil means the caller's own.
	Stdin, Stdout, Stderr *os.File
}

// initConfig is everything the Go init needs; it is sent as the first JSON message.
type initConfig struct {
	ID      string `json:"id"`
	InitPid int    `json:"init_pid"` // the init's pid as the host sees it, for hook state
	// SpecJSON is Spec as sent: an initSpec, or for an exec only what an exec's init uses
	// (execInitSpec). The init decodes it into Spec (decodeInitSpec) so that an exec's init does
	// not pay encoding/json's per-type set-up for mounts, hooks and devices it never reads.
	SpecJSON     json.RawMessage    `json:"spec"`
	Spec         *initSpec          `json:"-"`
	Rootfs       string             `json:"rootfs"`
	Bundle       string             `json:"bundle"`
	NoPivot      bool               `json:"no_pivot,omitempty"`
	NoNewKeyring bool               `json:"no_new_keyring,omitempty"`
	Console      bool               `json:"console,omitempty"`
	Proxied      bool               `json:"proxied,omitempty"` // the console's master goes to husk's own terminal proxy
	KeepFds      int                `json:"keep_fds"`          // fds 3..3+KeepFds-1 reach the workload
	Env          []string           `json:"env"`
	Hooks        bool               `json:"hooks,omitempty"` // the parent runs prestart/createRuntime hooks
	Seccomp      *seccomp.Filter    `json:"seccomp,omitempty"`
	LSM          lsmLabels          `json:"lsm"` // what the init applies of AppArmor and SELinux
	Caps         *capabilities.Caps `json:"caps,omitempty"`
	Debug        bool               `json:"debug,omitempty"`
	Exec         bool               `json:"exec,omitempty"`         // join a running container: no rootfs set-up, no fifo
	WaitResume   bool               `json:"wait_resume,omitempty"`  // exec: wait for "resume" after "ready"
	JoinCgroup   bool               `json:"join_cgroup,omitempty"`  // ask the parent to join the cgroup first
	CgroupTasks  []string           `json:"cgroup_tasks,omitempty"` // v1 tasks files to join with the main thread first (their fds come with the config)
	NewCgroupNS  bool               `json:"new_cgroupns,omitempty"` // then unshare a cgroup namespace
	DeferDevices bool               `json:"late_devices,omitempty"` // ask the parent to apply the device rules once the nodes are made
	TestKillAt   string             `json:"test_kill_at,omitempty"` // init phase to die at (_HUSK_TEST_KILL_AT="init:<phase>")
}

// Create builds the container up to the point where its init waits on exec.fifo.
func Create(opts CreateOpts) (*Container, error) {
	t := newPhaseTimer("create")
	cl, err := loadClaim(opts.Root, opts.ID, opts.Bundle, "created")
	if err != nil {
		return nil, err
	}
	cl.systemdCgroup, cl.rootlessCgroups = opts.SystemdCgroup, opts.RootlessCgroups
	spec := cl.spec
	// Decided before anything exists, so that a refusal leaves nothing behind.
	lsm, err := theHost.resolve(lsmRequest{field: "process.apparmorProfile", value: spec.Process.ApparmorProfile},
		lsmRequest{field: "process.selinuxLabel", value: spec.Process.SelinuxLabel},
		lsmRequest{field: "linux.mountLabel", value: spec.Linux.MountLabel})
	if err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(spec.Linux.Seccomp, opts.Root)
	if err != nil {
		return nil, err
	}
	if err := checkProcBindSources(spec, cl.bundle); err != nil {
		return nil, err
	}
	t.phase("load config")

	c, cg, err := cl.claim()
	if err != nil {
		return nil, err
	}
	t.phase("state dir")
	if c.State.NotifySocket != "" {
		spec.Process.Env = append(spec.Process.Env, notifyEnv)
	}
	p := &parent{c: c, spec: spec, filter: filter, t: t, root: opts.Root,
		stdin: opts.Stdin, stdout: opts.Stdout, stderr: opts.Stderr, consoleSocket: opts.ConsoleSocket,
		consoleConn: opts.ConsoleConn, preserveFds: opts.PreserveFds, namespaces: spec.Linux.Namespaces,
		pidfdSocket: opts.PidfdSocket, lsm: lsm, cgroup: cg,
		noPivot: opts.NoPivot, noNewKeyring: opts.NoNewKeyring}
	if err := p.create(opts.PidFile); err != nil {
		p.abort()
		return nil, err
	}
	t.done()
	return c, nil
}

// parent drives one `husk init` from spawn until it is ready (create) or has exec'd (exec).
type parent struct {
	c      *Container
	spec   *specs.Spec // for exec, the container's spec with the exec's process
	filter *seccomp.Filter
	t      *phaseTimer

	root                  string // --root, whose directory also serves sealedExe
	stdin, stdout, stderr *os.File
	consoleSocket         string
	consoleConn           *os.File
	pidfdSocket           string
	preserveFds           int
	noPivot, noNewKeyring bool
	namespaces            []specs.LinuxNamespace // with a path: joined; without: created
	exec                  bool                   // join a running container instead of creating one
	fifo                  string                 // create only
	lsm                   lsmLabels              // the AppArmor profile and SELinux labels to apply
	// lateCgroup: the exec's container is paused. Joining its frozen cgroup at once would
	// freeze the init before it reports; it joins after "ready", and waits for a resume
	// before execve (which then runs when the container is resumed).
	lateCgroup bool
	// subCgroup: the exec runs in sub-cgroups of the container's (exec --cgroup).
	subCgroup bool

	cmd     *exec.Cmd
	sock    *os.File
	initPid int
	cgroup  cgroups.Manager // nil: none (rootless without cgroup access)
	// warm is closed when cgroups.WarmUp has run (see there): the init's own cgroup join
	// waits for it, and is then cheap.
	warm chan struct{}
	// How the init joins its cgroup (planCgroupJoin): joinTasks are the v1 tasks files its
	// main thread joins itself (through fds husk opens and sends with its config), joinRest
	// what husk moves it into (nil: nothing), cloneInto a cgroup2 directory it is created in.
	joinTasks []string
	joinRest  cgroups.Manager
	cloneInto string
	// deferredDevices: the device rules spawn held back from the cgroup, applied when the
	// init has made its device nodes (nil: applied with the other limits).
	deferredDevices []specs.LinuxDeviceCgroup
}

// planCgroupJoin decides how the init joins its cgroup: by its own main thread for the v1
// hierarchies (cgroups.ThreadJoinFiles: no wait for the kernel's global migration lock),
// writing to tasks files husk opened for it (the kernel checks the opener's credentials, so
// this works from any mount or user namespace the init is in by then); created right in the
// cgroup2 part when that does not account memory; moved by husk for the rest. An exec into a
// paused container is moved by husk after it is ready (lateCgroup). Whenever husk moves the
// init, the background warm-up (cgroups.WarmUp) starts here.
func (p *parent) planCgroupJoin() error {
	if p.cgroup == nil {
		return nil
	}
	if err := p.chooseCgroupJoin(); err != nil {
		return err
	}
	if p.joinRest != nil && p.cloneInto == "" {
		p.startWarmUp()
	}
	return nil
}

func (p *parent) chooseCgroupJoin() error {
	p.joinRest = p.cgroup
	if p.lateCgroup {
		return nil
	}
	p.joinTasks, p.joinRest = cgroups.ThreadJoinFiles(p.cgroup)
	if p.subCgroup && p.joinTasks != nil {
		// An exec's sub-cgroup exists; a v1 cpuset one made by hand may still have no
		// cpus or mems, which no task can join: Apply fills them in (create did it for the
		// container's own cgroup in spawn, before the init's tasks files were opened).
		if err := p.cgroup.Apply(-1); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	if p.joinRest == nil {
		return nil
	}
	// What is left may be a cgroup2 cgroup the init can be created in (see spawn).
	dir, err := cgroups.CloneIntoDir(p.joinRest)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	p.cloneInto = dir
	return nil
}

// startWarmUp runs cgroups.WarmUp in the background.
func (p *parent) startWarmUp() {
	p.warm = make(chan struct{})
	go func() {
		cgroups.WarmUp()
		close(p.warm)
	}()
}

// joinCgroup moves the init into the container's cgroup, when it asks: after its Go runtime
// started (whose memory is then not charged to the container) and before it makes a cgroup
// namespace or mounts anything.
func (p *parent) joinCgroup() error {
	if p.warm != nil {
		<-p.warm
	}
	if err := p.joinRest.Apply(p.initPid); err != nil {
		return fmt.Errorf("join cgroup of %s: %w", p.c.State.ID, err)
	}
	p.t.phase("cgroup join")
	return nil
}

// setDeferredDevices gives the cgroup the device rules spawn held back, when the init asks:
// its device nodes are made, and nothing of the workload has run. A Set with only the devices
// leaves every other limit as it is; with the systemd driver the unit, started without device
// properties, gets them now, as runc's does.
func (p *parent) setDeferredDevices() error {
	if p.deferredDevices == nil {
		return errors.New("init asked for device rules that were not held back")
	}
	if err := p.cgroup.Set(&specs.LinuxResources{Devices: p.deferredDevices}); err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	p.t.phase("device rules")
	return nil
}

func (p *parent) create(pidFile string) error {
	fifo := filepath.Join(p.c.Dir, fifoName)
	p.fifo = fifo
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	// Any container user must be able to open it for writing; the umask would take that away.
	if err := unix.Chmod(fifo, 0o622); err != nil {
		return fmt.Errorf("chmod %s: %w", fifo, err)
	}
	if err := p.planCgroupJoin(); err != nil {
		return err
	}
	if err := p.spawn(); err != nil {
		return err
	}
	if err := p.bootstrap(); err != nil {
		return err
	}
	p.t.phase("namespaces")
	st, _, err := procStartTime(p.initPid)
	if err != nil {
		return fmt.Errorf("read start time of init %d: %w", p.initPid, err)
	}
	p.c.State.InitPid = p.initPid
	p.c.State.InitStartTime = st
	p.c.State.NamespacePaths = namespacePaths(p.initPid, p.spec.Linux.Namespaces)
	p.c.State.ExternalFds = stdioLinks(p.initPid)
	// A killed husk leaves an init that delete must find. Until "ready" it dies by itself at
	// its next read on the socket; then it blocks opening the exec fifo, in its cgroup, where
	// delete kills it with the first state alone. Without a cgroup (rootless, no cgroup
	// access) only its pid leads there: saved now, before the init is told anything more.
	// Otherwise the final state is the only other write (runc writes one, after the init).
	if len(p.c.State.CgroupPaths) == 0 {
		if err := writeState(p.c.Dir, p.c.State, false); err != nil {
			return err
		}
	}
	if err := p.configure(); err != nil {
		return err
	}
	p.t.phase("init ready")
	p.sock.Close()
	p.c.State.Created = time.Now().UTC()
	p.c.State.CreatorPid, p.c.State.CreatorStartTime = 0, 0
	if err := saveState(p.c.Dir, p.c.State); err != nil {
		return err
	}
	if pidFile != "" {
		if err := writePidFile(pidFile, p.initPid); err != nil {
			return err
		}
	}
	if p.pidfdSocket != "" {
		if err := SendPidfd(p.pidfdSocket, p.initPid); err != nil {
			return err
		}
	}
	p.t.phase("save state")
	return nil
}

// spawn starts `husk init` with the socket, the fifo and the console socket as extra fds, and
// puts it in its cgroup.
func (p *parent) spawn() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	// Non-blocking, so that waiting on the init parks in Go's netpoller instead of blocking a
	// thread in read(2): with every goroutine parked the runtime's sysmon thread stops waking
	// up every 20-40 µs, which otherwise cost this process a few percent of its CPU.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fmt.Errorf("socketpair: %w", err)
	}
	p.sock = os.NewFile(uintptr(fds[0]), "init-sock")
	child := os.NewFile(uintptr(fds[1]), "init-sock-child")
	defer child.Close()

	exe, err := sealedExe(p.root)
	if err != nil {
		return err
	}
	defer exe.Close()
	p.t.phase("seal binary")
	// Path is set below, to the sealed binary's fd.
	cmd := &exec.Cmd{Args: []string{"husk", "init"}}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = orStd(p.stdin, os.Stdin), orStd(p.stdout, os.Stdout), orStd(p.stderr, os.Stderr)

	// fds 3.. are the caller's LISTEN_FDS and --preserve-fds, at the numbers they had; the
	// init's own fds come after them.
	listen := listenFds()
	keep := listen + p.preserveFds
	for i := 0; i < keep; i++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	env := []string{
		"_HUSK_INITPIPE=" + strconv.Itoa(3+len(cmd.ExtraFiles)),
		// The init does its work on one thread; main.go's go:debug settings keep the Go
		// runtime from holding its cgroup's CPU files open.
		"GOMAXPROCS=1",
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	if p.fifo != "" {
		fifoFd, err := os.OpenFile(p.fifo, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", p.fifo, err)
		}
		defer fifoFd.Close()
		env = append(env, "_HUSK_FIFOFD="+strconv.Itoa(3+len(cmd.ExtraFiles)))
		cmd.ExtraFiles = append(cmd.ExtraFiles, fifoFd)
	}
	if p.consoleConn != nil {
		env = append(env, "_HUSK_CONSOLE="+strconv.Itoa(3+len(cmd.ExtraFiles)))
		cmd.ExtraFiles = append(cmd.ExtraFiles, p.consoleConn)
	} else if p.consoleSocket != "" {
		conn, err := net.Dial("unix", p.consoleSocket)
		if err != nil {
			return fmt.Errorf("connect to --console-socket %s: %w", p.consoleSocket, err)
		}
		f, err := conn.(*net.UnixConn).File()
		conn.Close()
		if err != nil {
			return fmt.Errorf("console socket fd: %w", err)
		}
		defer f.Close()
		env = append(env, "_HUSK_CONSOLE="+strconv.Itoa(3+len(cmd.ExtraFiles)))
		cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	} else if p.spec.Process.Terminal {
		return errors.New("process.terminal is true but no --console-socket was given")
	}
	cmd.Env = env
	exeFd, err := execThroughFd(cmd, exe)
	if err != nil {
		return err
	}
	defer unix.Close(exeFd)
	if err := p.startInit(cmd); err != nil {
		return fmt.Errorf("start init: %w", err)
	}
	p.cmd = cmd
	p.initPid = cmd.Process.Pid
	p.t.phase("fork init")
	if err := p.setInitialAffinity(); err != nil {
		return err
	}
	if adj := p.spec.Process.OOMScoreAdj; adj != nil {
		path := fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid)
		if err := os.WriteFile(path, []byte(strconv.Itoa(*adj)), 0); err != nil {
			return fmt.Errorf("process.oomScoreAdj: write %s: %w", path, err)
		}
	}
	if p.exec || p.cgroup == nil {
		return nil // the cgroup exists (the init joins it when it asks: joinCgroup), or none
	}
	// The limits are in place before the init joins the cgroup (joinCgroup).
	if err := p.cgroup.Apply(-1); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	p.t.phase("cgroup mkdir")
	res := rootlessResources(cgroupResources(p.spec))
	deny, err := mknodDenied(p.spec, res.Devices)
	if err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	if deny {
		// The device rules would refuse a node the init makes: as in runc, they come once the
		// init has made its nodes and before it reports ready (setDeferredDevices).
		p.deferredDevices = res.Devices
		held := *res
		held.Devices = nil
		res = &held
	}
	if err := p.cgroup.Set(res); err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	p.t.phase("cgroup limits")
	return nil
}

// execThroughFd makes cmd execute exe through /proc/self/fd/N, with N a close-on-exec copy of
// exe's fd that the child cannot overwrite before its execve. Go's child moves the files it
// passes (stdio and ExtraFiles) into place with dup3 onto fds counting up from one past the
// highest of them (or len(files)): its own error pipe first when that sits lower, then every
// file whose target number is taken; len(files)+2 fds at most. A copy of exe just above
// len(files), as husk once made, could be one of those: the child then execve'd its pipe and
// failed with EACCES, whenever the pipe found a free fd below (a matter of timing under
// load). The caller closes N after Start.
func execThroughFd(cmd *exec.Cmd, exe *os.File) (int, error) {
	files := []any{cmd.Stdin, cmd.Stdout, cmd.Stderr}
	for _, f := range cmd.ExtraFiles {
		files = append(files, f)
	}
	next := len(files)
	for _, v := range files {
		f, ok := v.(*os.File)
		if !ok || f == nil {
			// os/exec would make pipes at numbers only known inside Start.
			return -1, fmt.Errorf("start init: stdio and extra files must be open files, got %T", v)
		}
		next = max(next, int(f.Fd()))
	}
	fd, err := unix.FcntlInt(exe.Fd(), unix.F_DUPFD_CLOEXEC, next+1+len(files)+2)
	if err != nil {
		return -1, fmt.Errorf("dup husk binary fd: %w", err)
	}
	cmd.Path = "/proc/self/fd/" + strconv.Itoa(fd)
	return fd, nil
}

// openTasks opens the tasks files the init joins its cgroups through (see planCgroupJoin).
func openTasks(paths []string) ([]int, error) {
	fds := make([]int, 0, len(paths))
	for _, t := range paths {
		fd, err := unix.Open(t, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, fmt.Errorf("open cgroup file %s: %w", t, err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// startInit starts the init, created right in its cgroup2 cgroup when planCgroupJoin found
// one (clone3 CLONE_INTO_CGROUP), so that husk has nothing left to move it into. A kernel that
// refuses that (before 5.7) gets a plain start, and husk moves the init later (joinCgroup).
func (p *parent) startInit(cmd *exec.Cmd) error {
	if p.cloneInto == "" {
		return cmd.Start()
	}
	dir, err := os.OpenFile(p.cloneInto, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", p.cloneInto, err)
	}
	defer dir.Close()
	into := *cmd
	into.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	if err := into.Start(); err != nil {
		slog.Debug("start init in its cgroup2 cgroup failed, joining it later", "cgroup", p.cloneInto, "error", err)
		return cmd.Start()
	}
	*cmd = into
	p.joinRest = nil
	return nil
}

func orStd(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}

// bootstrap sends nsenter its namespace orders and answers its requests until the init's pid
// is known.
func (p *parent) bootstrap() error {
	var b strings.Builder
	var clone uintptr
	// Joins in the order the kernel needs: the user namespace first, so that the others are
	// joined with the capabilities it gives; the mount namespace last, since it changes paths.
	order := []specs.LinuxNamespaceType{specs.UserNamespace, specs.IPCNamespace, specs.UTSNamespace,
		specs.NetworkNamespace, specs.PIDNamespace, specs.CgroupNamespace, specs.TimeNamespace, specs.MountNamespace}
	for _, typ := range order {
		for _, ns := range p.namespaces {
			if ns.Type != typ {
				continue
			}
			if ns.Path == "" {
				if typ != specs.CgroupNamespace { // the Go init makes it, after joining its cgroup
					clone |= nsFlags[typ]
				}
			} else {
				fmt.Fprintf(&b, "join %d %s\n", nsFlags[typ], ns.Path)
			}
		}
	}
	fmt.Fprintf(&b, "clone %d\n", clone)
	if rootlessEUID() {
		b.WriteString("rootless\n")
	}
	if len(p.spec.Linux.TimeOffsets) > 0 {
		b.WriteString("timeoffsets\n")
	}
	if err := writeFrame(p.sock, []byte(b.String())); err != nil {
		return fmt.Errorf("send bootstrap to init: %w", err)
	}
	for {
		m, err := readMsg(p.sock)
		if err != nil {
			return p.initDied(err)
		}
		switch m.Type {
		case msgUsermap:
			write := writeIDMaps
			if rootlessEUID() {
				write = writeRootlessIDMaps
			}
			if err := write(m.Pid, p.spec.Linux); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgTimeOffsets:
			if err := writeTimeOffsets(m.Pid, p.spec.Linux.TimeOffsets); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgPid:
			if m.Pid != p.cmd.Process.Pid {
				// The first process only forked the init and exits; reap it.
				if err := p.cmd.Wait(); err != nil {
					return fmt.Errorf("init's first stage: %w", err)
				}
				p.cmd = nil
			}
			p.initPid = m.Pid
			return nil
		case msgError:
			return errors.New(m.Msg)
		default:
			return fmt.Errorf("unexpected message %q from init", m.Type)
		}
	}
}

// configure sends the init its configuration and serves it until it reports ready.
func (p *parent) configure() error {
	spec := p.spec
	hooks := spec.Hooks != nil && (len(spec.Hooks.Prestart) > 0 || len(spec.Hooks.CreateRuntime) > 0) //nolint:staticcheck // prestart is deprecated but still honoured
	// Resolved once here, so the init only applies them. The warnings (names this kernel
	// lacks, ambient ones that cannot be raised) go to the debug log: callers read stderr.
	caps, warnings, err := capabilities.New(spec.Process.Capabilities)
	if err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	for _, w := range warnings {
		slog.Debug(w)
	}
	specJSON, err := encodeInitSpec(spec, p.exec)
	if err != nil {
		return fmt.Errorf("encode config for init: %w", err)
	}
	cfg := initConfig{
		Caps: caps,
		ID:   p.c.State.ID, InitPid: p.initPid, SpecJSON: specJSON, Rootfs: p.c.State.Rootfs, Bundle: p.c.State.Bundle,
		NoPivot: p.noPivot, NoNewKeyring: p.noNewKeyring, Exec: p.exec, WaitResume: p.lateCgroup,
		JoinCgroup: !p.lateCgroup && p.joinRest != nil, CgroupTasks: p.joinTasks, NewCgroupNS: !p.exec && hasNewNamespace(spec.Linux.Namespaces, specs.CgroupNamespace),
		DeferDevices: p.deferredDevices != nil, Console: p.consoleSocket != "" || p.consoleConn != nil, Proxied: p.consoleConn != nil, KeepFds: listenFds() + p.preserveFds,
		Env: processEnv(spec.Process.Env), Hooks: hooks, Seccomp: p.filter, LSM: p.lsm,
		Debug:      slog.Default().Enabled(context.Background(), slog.LevelDebug),
		TestKillAt: initKillAt(p.t.killAt),
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode config for init: %w", err)
	}
	fds, err := openTasks(p.joinTasks)
	if err != nil {
		return err
	}
	err = writeFrameFds(p.sock, data, fds)
	for _, fd := range fds {
		unix.Close(fd)
	}
	if err != nil {
		return fmt.Errorf("send config to init: %w", err)
	}
	for {
		m, err := readMsg(p.sock)
		if err != nil {
			return p.initDied(err)
		}
		switch m.Type {
		case msgHooks:
			st := p.c.ociStateWith(Creating, p.initPid)
			if err := runHooks("prestart", spec.Hooks.Prestart, st); err != nil { //nolint:staticcheck
				return err
			}
			if err := runHooks("createRuntime", spec.Hooks.CreateRuntime, st); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgCgroup:
			if err := p.joinCgroup(); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgDevices:
			if err := p.setDeferredDevices(); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgMountSource:
			if err := p.sendMountSource(m.Index); err != nil {
				return err
			}
		case msgSeccompFd:
			if err := p.passListener(m.Fd); err != nil {
				return err
			}
			if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
				return fmt.Errorf("send to init: %w", err)
			}
		case msgReady:
			p.t.merge(m.Msg)
			if !p.exec {
				return nil
			}
			if p.lateCgroup {
				if err := p.cgroup.Apply(p.initPid); err != nil {
					return fmt.Errorf("join cgroup of %s: %w", p.c.State.ID, err)
				}
				if err := writeJSON(p.sock, syncMsg{Type: msgResume}); err != nil {
					return fmt.Errorf("send to init: %w", err)
				}
				return nil
			}
			// An exec'ing init says ready just before execve; the socket closing on exec
			// is its success, an error message its failure.
			m, err := readMsg(p.sock)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read from exec init: %w", err)
			}
			if m.Type == msgError {
				return errors.New(m.Msg)
			}
			return fmt.Errorf("unexpected message %q from exec init", m.Type)
		case msgError:
			return errors.New(m.Msg)
		default:
			return fmt.Errorf("unexpected message %q from init", m.Type)
		}
	}
}

// abort undoes a failed create or exec: it kills the init; a create's container is discarded
// with its cgroup (an exec's stays as it was).
func (p *parent) abort() {
	if p.sock != nil {
		p.sock.Close()
	}
	killAndWait(p.initPid)
	if p.cmd != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
	if !p.exec {
		p.c.discard(p.cgroup)
	}
}

// compileSeccomp turns linux.seccomp into BPF, through a cache under the state root (only
// root can write there) so that repeated starts with one profile skip libseccomp.
func compileSeccomp(s *specs.LinuxSeccomp, root string) (*seccomp.Filter, error) {
	if s == nil {
		return nil, nil
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", root, err)
	}
	filter, warnings, err := seccomp.CompileCached(s, filepath.Join(root, ".seccomp-cache"))
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	for _, w := range warnings {
		slog.Debug(w)
	}
	return filter, nil
}

// passListener copies the init's seccomp notify fd and sends it, with the container's state,
// to the agent listening at linux.seccomp.listenerPath.
func (p *parent) passListener(initFd int) error {
	sc := p.spec.Linux.Seccomp
	pidfd, err := unix.PidfdOpen(p.initPid, 0)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: pidfd_open %d: %w", p.initPid, err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, initFd, 0)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: pidfd_getfd: %w", err)
	}
	defer unix.Close(fd)
	state, err := json.Marshal(specs.State{Version: specs.Version, ID: p.c.State.ID, Status: specs.StateCreating,
		Pid: p.initPid, Bundle: p.c.State.Bundle, Annotations: p.spec.Annotations})
	if err != nil {
		return err
	}
	if err := seccomp.SendListener(sc.ListenerPath, fd, state, sc.ListenerMetadata); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %s: %w", sc.ListenerPath, err)
	}
	return nil
}

// initDied explains a socket that broke before the init reported: it died (a crash or a
// kill, since its own errors arrive as messages), and its exit status says how.
func (p *parent) initDied(readErr error) error {
	if readErr != io.EOF {
		return fmt.Errorf("read from init: %w", readErr)
	}
	if p.cmd != nil && p.cmd.Process.Pid == p.initPid {
		if err := p.cmd.Wait(); err != nil {
			p.cmd = nil
			return fmt.Errorf("container init exited before it was ready: %w", err)
		}
		p.cmd = nil
	} else if p.initPid > 0 {
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(p.initPid, &ws, 0, nil); err == nil && pid == p.initPid {
			p.initPid = 0
			if ws.Signaled() {
				return fmt.Errorf("container init was killed by signal %d before it was ready", ws.Signal())
			}
			return fmt.Errorf("container init exited with status %d before it was ready", ws.ExitStatus())
		}
	}
	return errors.New("container init exited before it was ready")
}

// setInitialAffinity applies process.execCPUAffinity.initial to an exec: the CPUs the new
// process runs on before it enters the container's cgroup. The runtime-spec makes the
// setting not applicable to the container's init, and runc ignores it there.
func (p *parent) setInitialAffinity() error {
	a := p.spec.Process.ExecCPUAffinity
	if !p.exec || a == nil || a.Initial == "" {
		return nil
	}
	set, err := parseCPUList(a.Initial)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial: %w", err)
	}
	if err := unix.SchedSetaffinity(p.cmd.Process.Pid, set); err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity: %w", err)
	}
	return nil
}

func writeIDMaps(pid int, l *specs.Linux) error {
	write := func(file string, maps []specs.LinuxIDMapping) error {
		var b strings.Builder
		for _, m := range maps {
			fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		}
		path := fmt.Sprintf("/proc/%d/%s", pid, file)
		if err := os.WriteFile(path, []byte(b.String()), 0); err != nil {
			return fmt.Errorf("linux.%s: write %s: %w", map[string]string{"uid_map": "uidMappings", "gid_map": "gidMappings"}[file], path, err)
		}
		return nil
	}
	if err := write("uid_map", l.UIDMappings); err != nil {
		return err
	}
	return write("gid_map", l.GIDMappings)
}

// cgroupPaths is what state.json keeps of the container's cgroup (nil for none).
func cgroupPaths(cg cgroups.Manager) map[string]string {
	if cg == nil {
		return nil
	}
	return cg.Paths()
}

// cgroupName is what config.json calls the container's cgroup: its cgroupsPath, or by default
// its id.
func cgroupName(cgroupsPath, id string) string {
	if cgroupsPath != "" {
		return cgroupsPath
	}
	return id
}

// writeTimeOffsets sets the offsets of the time namespace the init made for its children. The
// parent writes them because it can: it is the host's root, where the init may be the root of a
// user namespace, which cannot open the /proc files of its own non-dumpable process.
func writeTimeOffsets(pid int, offsets map[string]specs.LinuxTimeOffset) error {
	var b strings.Builder
	for clock, off := range offsets {
		fmt.Fprintf(&b, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	path := fmt.Sprintf("/proc/%d/timens_offsets", pid)
	if err := os.WriteFile(path, []byte(b.String()), 0); err != nil {
		return fmt.Errorf("linux.timeOffsets: write %s: %w", path, err)
	}
	return nil
}

func namespacePaths(pid int, nss []specs.LinuxNamespace) map[string]string {
	names := map[specs.LinuxNamespaceType]string{
		specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
		specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
		specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
	}
	out := map[string]string{}
	for _, ns := range nss {
		out[string(ns.Type)] = fmt.Sprintf("/proc/%d/ns/%s", pid, names[ns.Type])
	}
	return out
}

// listenFds is the number of socket-activation fds passed to husk itself (LISTEN_FDS for our
// pid), which are handed on to the container as runc does.
func listenFds() int {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// processEnv is the workload's environment: the spec's, plus LISTEN_FDS/LISTEN_PID when fds
// were passed by socket activation.
func processEnv(env []string) []string {
	out := append([]string{}, env...)
	if n := listenFds(); n > 0 {
		out = append(out, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1")
	}
	return out
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--pid-file %s: %w", path, err)
	}
	if err := writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}

// waitGone waits until pid no longer exists or is a zombie.
func waitGone(pid int, timeout time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true // already gone
	}
	defer unix.Close(fd)
	return waitPidfd(fd, timeout)
}

// waitPidfd waits until the process of pidfd has exited (a zombie counts).
func waitPidfd(fd int, timeout time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		n, err := unix.Poll(fds, int(left/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

func initKillAt(killAt string) string {
	if phase, ok := strings.CutPrefix(killAt, "init:"); ok {
		return phase
	}
	return ""
}
