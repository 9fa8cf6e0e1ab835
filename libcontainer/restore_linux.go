package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/cgroups"
)

// RestoreOpts are the restore flags (runc's).
type RestoreOpts struct {
	CriuOpts
	Root, ID, Bundle string
	ConsoleSocket    string
	// ConsoleConn, when set, is a connected socket that receives the pty master (husk's own
	// terminal proxy) instead of ConsoleSocket.
	ConsoleConn     *os.File
	PidFile         string
	LsmProfile      string // TYPE:NAME, the LSM profile the processes are restored with
	LsmMountContext string
	// SystemdCgroup: the systemd cgroup driver (--systemd-cgroup), as create's: the container's
	// cgroup is a transient unit, which starts with criu in it (criuStarted).
	SystemdCgroup bool
	// RootlessCgroups: --rootless, the cgroup decided as create decides it (rootlessCgroup);
	// that no cgroup can be made is refused there by the field that needs one, and here
	// otherwise.
	RootlessCgroups bool
}

// Restore makes a container from a checkpoint: the bundle's config (as create reads it)
// describes it, criu restores its processes from o.ImagePath in a new cgroup and new
// namespaces (or the ones the config names). The container's state is saved under the new
// id with the restored init's pid; it runs when Restore returns. On failure nothing is left.
func Restore(o RestoreOpts) (*Container, error) {
	cl, err := loadClaim(o.Root, o.ID, o.Bundle, "restored")
	if err != nil {
		return nil, err
	}
	cl.systemdCgroup, cl.rootlessCgroups = o.SystemdCgroup, o.RootlessCgroups
	spec := cl.spec
	if spec.Process.Terminal && o.ConsoleSocket == "" && o.ConsoleConn == nil {
		return nil, errors.New("process.terminal is true but no --console-socket was given")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("--console-socket was given but process.terminal is false: the restored container has no terminal to send")
	}
	r := &restorer{o: o, spec: spec, bundle: cl.bundle, rootfs: cl.rootfs}
	if err := r.check(); err != nil {
		return nil, err
	}
	// The container lock is held throughout, as by create: a restore makes a container.
	if r.c, r.cgroup, err = cl.claim(); err != nil {
		return nil, err
	}
	if r.cgroup == nil {
		// Rootless without cgroup access. criu would restore the processes into husk's own
		// cgroup, and set the limits of the images there (--manage-cgroups-mode full): runc
		// refuses this too.
		r.c.discard(nil)
		return nil, errors.New("--rootless: no permission to create the container's cgroup, and restore needs one (criu would restore into husk's own)")
	}
	if err := r.restore(); err != nil {
		r.abort()
		return nil, err
	}
	return r.c, nil
}

// restorer is one restore.
type restorer struct {
	o           RestoreOpts
	spec        *specs.Spec
	bundle      string
	rootfs      string
	c           *Container
	criu        *criuSetup
	descriptors []string // the container's stdio at checkpoint (descriptorsFile)
	cgroup      cgroups.Manager
	pid         int      // the restored init, once criu said so
	externalFds []string // the stdio criu hands out in place of the pipes
}

// check refuses what cannot work before anything is made.
func (r *restorer) check() error {
	o := r.o
	criu, err := setupCriu("restore", o.CriuOpts)
	if err != nil {
		return err
	}
	r.criu = criu
	data, err := os.ReadFile(filepath.Join(o.ImagePath, descriptorsFile))
	if err != nil {
		return fmt.Errorf("--image-path %s: not a checkpoint of a container: %w", o.ImagePath, err)
	}
	if err := json.Unmarshal(data, &r.descriptors); err != nil {
		return fmt.Errorf("--image-path %s: decode %s: %w", o.ImagePath, descriptorsFile, err)
	}
	for _, ns := range r.spec.Linux.Namespaces {
		if ns.Type == specs.CgroupNamespace && ns.Path != "" {
			return fmt.Errorf("linux.namespaces: criu cannot restore into an existing cgroup namespace (%s)", ns.Path)
		}
		if _, err := criu.externalNS(ns); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, value string }{{"--lsm-profile", o.LsmProfile}, {"--lsm-mount-context", o.LsmMountContext}} {
		if f.value != "" && criu.version < criuLSMOverride {
			return fmt.Errorf("%s needs criu %s or later (this is %s)", f.name, versionString(criuLSMOverride), versionString(criu.version))
		}
	}
	return nil
}

// restore runs criu, the container's first state saved (by claim, as create's: the status
// reads "creating" while this process lives, and delete finds the cgroup after a kill).
func (r *restorer) restore() error {
	o, spec := r.o, r.spec
	opts := o.rpcOpts(&r.criu.cgMode, restoreLog, spec.Annotations)
	// Devices as criu finds them; the restored root task a child of husk (not of criu).
	opts.EvasiveDevices = new(true)
	opts.RstSibling = new(true)
	if o.LsmProfile != "" {
		opts.LsmProfile = new(o.LsmProfile)
	}
	if o.LsmMountContext != "" {
		opts.LsmMountContext = new(o.LsmMountContext)
	}
	closeDirs := func() {}
	defer func() { closeDirs() }()
	extra, err := r.namespaces(opts)
	defer func() {
		for _, f := range extra {
			f.Close()
		}
	}()
	if err != nil {
		return err
	}
	// criu's fds 0-2 stand in for the container's pipes (its stdio is the caller's).
	for i, d := range r.descriptors {
		if strings.Contains(d, "pipe:") {
			opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{Key: new(d), Fd: new(int32(i))})
		}
	}
	// criu wants the root to be a mount point whose parent is not mounted over: a bind of the
	// rootfs, made with everything else restore mounts in a mount namespace of its own.
	criuRoot := filepath.Join(r.c.Dir, "criu-root")
	if err := os.Mkdir(criuRoot, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", criuRoot, err)
	}
	defer os.Remove(criuRoot)
	if criuRoot, err = filepath.EvalSymlinks(criuRoot); err != nil {
		return fmt.Errorf("resolve criu's root %s: %w", criuRoot, err)
	}
	opts.Root = new(criuRoot)

	typ := rpc.CriuReqType_RESTORE
	s := &swrk{
		path: r.criu.path, extra: extra,
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		start: func(cmd *exec.Cmd) error {
			return inPrivateMountNS(func() error {
				// Opened in the namespace criu runs in: criu works (and mounts) in its
				// work directory, which must be one of that namespace's mounts.
				var err error
				if closeDirs, err = criuDirs(o.CriuOpts, opts); err != nil {
					closeDirs = func() {}
					return err
				}
				if err := prepareRestoreMounts(spec, r.rootfs, r.bundle); err != nil {
					return err
				}
				if err := unix.Mount(r.rootfs, criuRoot, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("bind rootfs %s on %s: %w", r.rootfs, criuRoot, err)
				}
				// criu makes the restored root from this mount: read-only when the
				// config says so, as create leaves it.
				if spec.Root.Readonly {
					if err := remountReadonly(criuRoot); err != nil {
						return fmt.Errorf("root.readonly: %w", err)
					}
				}
				return cmd.Start()
			})
		},
		started: func(pid int, req *rpc.CriuReq) error { return r.criuStarted(pid, req.Opts) },
		notify:  r.notify,
	}
	if _, err := s.run(&rpc.CriuReq{Type: &typ, Opts: opts}); err != nil {
		return fmt.Errorf("restore %s: %w", o.ID, explainCriu(r.criu.path, err, o.logPath(restoreLog)))
	}
	if r.pid <= 0 {
		return fmt.Errorf("restore %s: criu did not report the restored process", o.ID)
	}
	return r.saveState()
}

// namespaces tells criu which namespaces of the config to join instead of restoring: the
// network and PID namespaces by an fd under the name the dump gave them (external), the
// others by path. It returns the files criu gets (its fds 4, 5, ...).
func (r *restorer) namespaces(opts *rpc.CriuOpts) ([]*os.File, error) {
	var extra []*os.File
	for _, ns := range r.spec.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		kind := criuNSNames[ns.Type]
		external, err := r.criu.externalNS(ns)
		if err != nil {
			return extra, err
		}
		if !external {
			opts.JoinNs = append(opts.JoinNs, &rpc.JoinNamespace{Ns: new(kind), NsFile: new(ns.Path)})
			continue
		}
		f, err := os.Open(ns.Path)
		if err != nil {
			return extra, fmt.Errorf("linux.namespaces: %s namespace: %w", kind, err)
		}
		opts.InheritFd = append(opts.InheritFd, &rpc.InheritFd{Key: new(criuNSKey(kind)), Fd: new(int32(4 + len(extra)))})
		extra = append(extra, f)
	}
	return extra, nil
}

// criuStarted puts criu in the container's cgroup with its limits set, and completes the
// request with what depends on that: the cgroup roots criu restores into (its own), the
// sources of the external mounts, and the stdio criu hands out. As in create the limits come
// first: the cgroupfs driver's cgroup is made and limited before criu joins it, and the
// systemd driver's unit (a scope cannot start empty) starts with criu as its process, as
// runc's does, and the limits as its properties; the restored processes stay in it after criu.
func (r *restorer) criuStarted(pid int, opts *rpc.CriuOpts) error {
	if err := r.cgroup.Apply(-1); err != nil {
		return fmt.Errorf("put criu (pid %d) in the container's cgroup: %w", pid, err)
	}
	if err := r.cgroup.Set(rootlessResources(cgroupResources(r.spec))); err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	if err := r.cgroup.Apply(pid); err != nil {
		return fmt.Errorf("put criu (pid %d) in the container's cgroup: %w", pid, err)
	}
	own, err := ownCgroups(fmt.Sprint(pid))
	if err != nil {
		return fmt.Errorf("read the cgroups of criu: %w", err)
	}
	for ctrls, path := range own {
		for _, ctrl := range strings.Split(ctrls, ",") {
			opts.CgRoot = append(opts.CgRoot, &rpc.CgroupRoot{Ctrl: new(ctrl), Path: new(path)})
		}
	}
	if err := restoreExtMounts(opts, r.spec, r.rootfs, r.bundle, own); err != nil {
		return err
	}
	r.externalFds = stdioLinks(pid)
	return nil
}

// notify does husk's part at each of criu's steps.
func (r *restorer) notify(script string, pid int32, fds []int) error {
	defer closeFds(fds)
	switch script {
	case "setup-namespaces":
		// The namespaces exist, nothing runs in them yet: the hooks create would run now.
		h := r.spec.Hooks
		if h == nil {
			return nil
		}
		st := r.c.ociStateWith(Creating, int(pid))
		if err := runHooks("prestart", h.Prestart, st); err != nil { //nolint:staticcheck // prestart is deprecated but still honoured
			return err
		}
		return runHooks("createRuntime", h.CreateRuntime, st)
	case "orphan-pts-master":
		if len(fds) != 1 {
			return fmt.Errorf("criu sent %d fds with the pty master, want 1", len(fds))
		}
		return r.sendConsole(fds[0])
	case "post-restore":
		r.pid = int(pid)
	}
	return nil
}

// sendConsole passes the restored terminal's new pty master on, as create passes a new one.
func (r *restorer) sendConsole(master int) error {
	rights := unix.UnixRights(master)
	name := []byte("/dev/ptmx")
	if r.o.ConsoleConn != nil {
		if err := unix.Sendmsg(int(r.o.ConsoleConn.Fd()), name, rights, nil, 0); err != nil {
			return fmt.Errorf("send the pty master: %w", err)
		}
		return nil
	}
	conn, err := net.Dial("unix", r.o.ConsoleSocket)
	if err != nil {
		return fmt.Errorf("connect to --console-socket %s: %w", r.o.ConsoleSocket, err)
	}
	defer conn.Close()
	if _, _, err := conn.(*net.UnixConn).WriteMsgUnix(name, rights, nil); err != nil {
		return fmt.Errorf("--console-socket %s: send the pty master: %w", r.o.ConsoleSocket, err)
	}
	return nil
}

// saveState records the restored container: its new init, cgroup and namespaces.
func (r *restorer) saveState() error {
	st, _, err := procStartTime(r.pid)
	if err != nil {
		return fmt.Errorf("read start time of restored init %d: %w", r.pid, err)
	}
	state := r.c.State
	state.InitPid, state.InitStartTime = r.pid, st
	state.CgroupPaths = r.cgroup.Paths()
	state.ExternalFds = r.externalFds
	namespaces := r.spec.Linux.Namespaces
	if r.criu.version >= criuRestoresTimeNS && !hasNamespace(namespaces, specs.TimeNamespace) && inNewTimeNS(r.pid) {
		// criu restores into a time namespace of its own, to keep the clocks the processes
		// saw: exec must join it, so the saved config lists it (as runc's does).
		r.spec.Linux.Namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		if err := state.setSpec(r.spec); err != nil {
			return err
		}
	}
	state.NamespacePaths = namespacePaths(r.pid, r.spec.Linux.Namespaces)
	state.Created = time.Now().UTC()
	state.CreatorPid, state.CreatorStartTime = 0, 0
	if err := saveState(r.c.Dir, state); err != nil {
		return err
	}
	if r.o.PidFile != "" {
		return writePidFile(r.o.PidFile, r.pid)
	}
	return nil
}

// inNewTimeNS says whether pid is in another time namespace than husk.
func inNewTimeNS(pid int) bool {
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/time", pid))
	ours, err2 := os.Readlink("/proc/self/ns/time")
	return err1 == nil && err2 == nil && theirs != ours
}

// abort undoes a failed restore: the restored init (criu kills the processes itself when it
// fails; not when husk failed after it), then the container with its cgroup.
func (r *restorer) abort() {
	killAndWait(r.pid)
	r.c.discard(r.cgroup)
}

// inPrivateMountNS runs fn on a thread of its own in a new mount namespace, where the host's
// mounts are slaves: what fn mounts nobody else sees, and it goes away with the last process
// in the namespace. Processes fn starts are in it.
func inPrivateMountNS(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, whose namespace differs from the others', ends with
		// this goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("unshare mount namespace: %w", err)
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			errc <- fmt.Errorf("make / rslave in restore's mount namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
