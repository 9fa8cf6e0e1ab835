package libcontainer

// CRIU, driven as runc drives it: `criu swrk 3` is started with one end of a SOCK_SEQPACKET
// socketpair as its fd 3, and spoken to in protobuf messages (github.com/checkpoint-restore/
// go-criu's rpc types):
//
//	husk                                   criu swrk 3
//	 │── CriuReq{DUMP|PRE_DUMP|RESTORE, opts} ──►│
//	 │◄── CriuResp{NOTIFY, script, pid} ─────────│  post-dump, setup-namespaces, post-restore,
//	 │        [+ SCM_RIGHTS fd]                  │  orphan-pts-master (the pty master), ...
//	 │── CriuReq{NOTIFY, notify_success} ───────►│  once husk did its part
//	 │◄── CriuResp{DUMP|RESTORE, success} ───────│  the end; criu exits
//
// Extra files go to criu as fds 4, 5, ... (inherit-fd entries name them); on restore its
// stdio becomes the stdio of the restored process wherever the image had one of the
// container's pipes there.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	criu "github.com/checkpoint-restore/go-criu/v8"
	"github.com/checkpoint-restore/go-criu/v8/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CriuOpts are the criu options checkpoint and restore share, as runc's flags name them.
type CriuOpts struct {
	CriuPath          string // the criu binary; "": criu in $PATH
	ImagePath         string // where the images are (absolute)
	WorkPath          string // criu's log and work files; default ImagePath
	TCPEstablished    bool
	ExtUnixSk         bool
	ShellJob          bool
	FileLocks         bool
	ManageCgroupsMode string // "", soft, full, strict or ignore
	EmptyNs           uint32 // CLONE_NEW* flags of namespaces made empty on restore
	AutoDedup         bool
	LazyPages         bool
}

// rpcOpts are the criu options of both requests: the flags, and what husk always asks for
// (criu's notifications, a new pty master for a terminal whose master is outside, as runc).
func (o CriuOpts) rpcOpts(cgMode *rpc.CriuCgMode, logFile string, annotations map[string]string) *rpc.CriuOpts {
	return &rpc.CriuOpts{
		LogLevel:          new(int32(4)),
		LogFile:           new(logFile),
		ManageCgroups:     new(true), // what criu before ManageCgroupsMode reads
		ManageCgroupsMode: cgMode,
		NotifyScripts:     new(true),
		ShellJob:          new(o.ShellJob),
		TcpEstablished:    new(o.TCPEstablished),
		ExtUnixSk:         new(o.ExtUnixSk),
		FileLocks:         new(o.FileLocks),
		EmptyNs:           new(o.EmptyNs),
		OrphanPtsMaster:   new(true),
		AutoDedup:         new(o.AutoDedup),
		LazyPages:         new(o.LazyPages),
		ConfigFile:        criuConfigFile(annotations),
	}
}

// descriptorsFile is the name of the file in the image directory that lists what the container's
// fds 0, 1 and 2 were (runc's descriptors.json): restore hands the caller's stdio to criu for
// those that were pipes.
const descriptorsFile = "descriptors.json"

// Versions of criu (major*10000 + minor*100 + sublevel) that some requests need.
const (
	criuMinVersion     = 30000 // the VERSION request
	criuExtNetNS       = 31100 // an external network namespace
	criuFreezerV2      = 31400 // freezing through the cgroup2 freezer
	criuExtPidNS       = 31500 // an external PID namespace
	criuStatusNotify   = 31500 // the status-ready notification (lazy pages)
	criuLSMOverride    = 31600 // --lsm-profile, --lsm-mount-context
	criuRestoresTimeNS = 31400 // restored processes are put in a new time namespace
)

// criuSetup is the criu a checkpoint or a restore runs, as the flags ask for it.
type criuSetup struct {
	path    string
	version int
	cgMode  rpc.CriuCgMode
}

// setupCriu refuses an unprivileged user, checks the flags criu gets, finds criu (the global
// --criu, else in $PATH) and asks it for its version: what checkpoint and restore (op) do
// before anything else.
func setupCriu(op string, o CriuOpts) (*criuSetup, error) {
	if rootlessEUID() {
		// criu would run, fail its checks as the user and be reported as unable to run on
		// this kernel. runc 1.5.3 tries (checkpoint warns that it is untested rootless).
		return nil, fmt.Errorf("%s as an unprivileged user (uid %d) is not supported: criu needs root (husk runs it without --unprivileged)", op, os.Geteuid())
	}
	cgMode, err := criuCgMode(o.ManageCgroupsMode)
	if err != nil {
		return nil, err
	}
	path, err := findCriu(o.CriuPath)
	if err != nil {
		return nil, err
	}
	version, err := criuVersion(path)
	if err != nil {
		return nil, err
	}
	return &criuSetup{path: path, version: version, cgMode: cgMode}, nil
}

// findCriu is the criu binary: the one given (the global --criu), else criu in $PATH.
func findCriu(given string) (string, error) {
	if given != "" {
		path, err := exec.LookPath(given)
		if err != nil {
			return "", fmt.Errorf("--criu %s: %w", given, err)
		}
		return path, nil
	}
	path, err := exec.LookPath("criu")
	if err != nil {
		return "", errors.New("criu is not installed (no criu in $PATH): checkpoint and restore need it (Debian package criu, or https://criu.org)")
	}
	return path, nil
}

// criuNSNames are criu's names of namespace kinds.
var criuNSNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace: "pid", specs.NetworkNamespace: "net", specs.MountNamespace: "mnt",
	specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.UserNamespace: "user",
	specs.CgroupNamespace: "cgroup", specs.TimeNamespace: "time",
}

// criuExternalNS are the versions of criu that can leave a namespace of a kind out of a dump
// (external) and join it again on restore.
var criuExternalNS = map[specs.LinuxNamespaceType]int{
	specs.NetworkNamespace: criuExtNetNS, specs.PIDNamespace: criuExtPidNS,
}

// externalNS says whether ns is one criu takes as external: a network or PID namespace the
// config joins by path, which a dump leaves out and a restore joins again (by an fd, under the
// name criuNSKey gives it); this criu must be new enough for that.
func (s *criuSetup) externalNS(ns specs.LinuxNamespace) (bool, error) {
	need, ok := criuExternalNS[ns.Type]
	if !ok || ns.Path == "" {
		return false, nil
	}
	if s.version < need {
		return false, fmt.Errorf("linux.namespaces: criu %s cannot checkpoint or restore a container in an external %s namespace (%s): criu %s or later is needed",
			versionString(s.version), criuNSNames[ns.Type], ns.Path, versionString(need))
	}
	return true, nil
}

// criuVersion asks criu for its version; a criu that cannot even answer that is explained
// by `criu check` (see explainCriu).
func criuVersion(path string) (int, error) {
	c := criu.MakeCriu()
	c.SetCriuPath(path)
	v, err := c.GetCriuVersion()
	if err != nil {
		return 0, explainCriu(path, fmt.Errorf("ask criu for its version: %w", err), "")
	}
	if v < criuMinVersion {
		return 0, fmt.Errorf("criu %s is too old: version 3.0 or later is needed", versionString(v))
	}
	return v, nil
}

func versionString(v int) string {
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// explainCriu turns a failed criu run into the error husk reports. When `criu check` fails too,
// criu cannot work on this kernel at all (criu 3.17 on a kernel whose vDSO and vvar are mapped
// apart, for one): that is the cause, reported as such. Otherwise it is err, with the errors
// criu logged and the log's path.
func explainCriu(path string, err error, logPath string) error {
	if out, cerr := criuCheck(path); cerr != nil {
		var u unix.Utsname
		unix.Uname(&u)
		return fmt.Errorf("criu cannot run on this kernel (%s): `%s check` failed (%v): %s",
			unix.ByteSliceToString(u.Release[:]), path, cerr, out)
	}
	if logPath == "" {
		return err
	}
	if quoted := criuLogErrors(logPath); quoted != "" {
		return fmt.Errorf("%w: %s (criu log: %s)", err, quoted, logPath)
	}
	return fmt.Errorf("%w (criu log: %s)", err, logPath)
}

// criuCheck runs `criu check` and returns its error lines.
func criuCheck(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "check").CombinedOutput()
	if err == nil {
		return "", nil
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "Error") || strings.Contains(l, "error") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) == 0 {
		lines = append(lines, strings.TrimSpace(string(out)))
	}
	return strings.Join(lines, "; "), err
}

// criuLogErrors returns the error lines of a criu log (the last few), joined.
func criuLogErrors(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if l := s.Text(); strings.Contains(l, "Error") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	const keep = 3
	if len(lines) > keep {
		lines = lines[len(lines)-keep:]
	}
	return strings.Join(lines, "; ")
}

// criuCgMode maps --manage-cgroups-mode to criu's.
func criuCgMode(mode string) (rpc.CriuCgMode, error) {
	switch mode {
	case "":
		return rpc.CriuCgMode_DEFAULT, nil
	case "soft":
		return rpc.CriuCgMode_SOFT, nil
	case "full":
		return rpc.CriuCgMode_FULL, nil
	case "strict":
		return rpc.CriuCgMode_STRICT, nil
	case "ignore":
		return rpc.CriuCgMode_IGNORE, nil
	}
	return 0, fmt.Errorf("--manage-cgroups-mode: invalid value %q (want soft, full, strict or ignore)", mode)
}

// criuConfigFile is the criu configuration file for a container: the org.criu.config
// annotation when set (empty: none at all), else /etc/criu/runc.conf, as runc does, so that a
// host's criu settings for runc's containers apply to husk's too. criu ignores a missing file.
func criuConfigFile(annotations map[string]string) *string {
	if f, ok := annotations["org.criu.config"]; ok {
		if f == "" {
			return nil
		}
		return &f
	}
	return new("/etc/criu/runc.conf")
}

// criuNSKey is the name an external namespace has in the images ("extRootNetNS"), runc's.
func criuNSKey(kind string) string {
	return "extRoot" + strings.ToUpper(kind[:1]) + kind[1:] + "NS"
}

// Names of criu's logs, in the work directory (logPath).
const (
	dumpLog    = "dump.log"
	restoreLog = "restore.log"
)

// logPath is where criu writes its log name: the work directory, which is the image
// directory unless --work-path names another.
func (o CriuOpts) logPath(name string) string {
	if o.WorkPath != "" {
		return filepath.Join(o.WorkPath, name)
	}
	return filepath.Join(o.ImagePath, name)
}

// criuDirs opens the image directory and the work directory (created when missing) and
// puts their fds in opts; it returns a closer.
func criuDirs(o CriuOpts, opts *rpc.CriuOpts) (func(), error) {
	img, err := os.OpenFile(o.ImagePath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("--image-path: %w", err)
	}
	opts.ImagesDirFd = new(int32(img.Fd()))
	if o.WorkPath == "" {
		return func() { img.Close() }, nil
	}
	if err := os.Mkdir(o.WorkPath, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		img.Close()
		return nil, fmt.Errorf("--work-path: %w", err)
	}
	work, err := os.OpenFile(o.WorkPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		img.Close()
		return nil, fmt.Errorf("--work-path: %w", err)
	}
	opts.WorkDirFd = new(int32(work.Fd()))
	return func() { img.Close(); work.Close() }, nil
}

// swrk is one run of `criu swrk`.
type swrk struct {
	path                  string
	stdin, stdout, stderr *os.File   // criu's stdio (nil: /dev/null)
	extra                 []*os.File // criu's fds 4, 5, ...
	// start starts the command (restore starts it in a private mount namespace); nil: cmd.Start.
	start func(*exec.Cmd) error
	// started runs once criu runs and before the request is sent (restore puts criu in the
	// container's cgroup and completes the request).
	started func(pid int, req *rpc.CriuReq) error
	// notify handles a notification (script name, pid, fds sent with it, which it owns).
	notify func(script string, pid int32, fds []int) error
}

// run sends req and serves criu until its answer. The error names the request; criu's own
// reasons are in its log, which the caller quotes.
func (s *swrk) run(req *rpc.CriuReq) (*rpc.CriuResp, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu: socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "criu-client")
	server := os.NewFile(uintptr(fds[1]), "criu-server")
	defer server.Close()
	fc, err := net.FileConn(client)
	client.Close()
	if err != nil {
		return nil, fmt.Errorf("criu: %w", err)
	}
	conn := fc.(*net.UnixConn)
	defer conn.Close()

	cmd := exec.Command(s.path, "swrk", "3")
	// A nil *os.File in an io.Reader would not be nil: only set what is given.
	if s.stdin != nil {
		cmd.Stdin = s.stdin
	}
	if s.stdout != nil {
		cmd.Stdout = s.stdout
	}
	if s.stderr != nil {
		cmd.Stderr = s.stderr
	}
	cmd.ExtraFiles = append([]*os.File{server}, s.extra...)
	start := s.start
	if start == nil {
		start = (*exec.Cmd).Start
	}
	if err := start(cmd); err != nil {
		return nil, fmt.Errorf("start criu swrk: %w", err)
	}
	// criu holds the other end now: when it dies, reads see the end of the socket.
	server.Close()
	waited := false
	defer func() {
		if !waited {
			conn.Close()
			cmd.Wait()
		}
	}()
	if s.started != nil {
		if err := s.started(cmd.Process.Pid, req); err != nil {
			return nil, err
		}
	}
	typ := req.GetType()
	slog.Debug("criu request", "type", typ.String())
	if err := sendCriu(conn, req); err != nil {
		return nil, err
	}
	var resp *rpc.CriuResp
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(16*4))
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return nil, fmt.Errorf("criu %s: read its answer: %w", typ, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("criu %s: criu exited without an answer", typ)
		}
		fdsIn, err := parseRights(oob[:oobn])
		if err != nil {
			return nil, fmt.Errorf("criu %s: %w", typ, err)
		}
		resp = &rpc.CriuResp{}
		if err := resp.UnmarshalVT(buf[:n]); err != nil {
			closeFds(fdsIn)
			return nil, fmt.Errorf("criu %s: decode its answer: %w", typ, err)
		}
		if !resp.GetSuccess() {
			closeFds(fdsIn)
			msg := fmt.Sprintf("criu %s failed", typ)
			if e := resp.GetCrErrmsg(); e != "" {
				msg += ": " + e
			}
			if errno := resp.GetCrErrno(); errno != 0 {
				msg += fmt.Sprintf(" (errno %d: %v)", errno, unix.Errno(errno))
			}
			return nil, errors.New(msg)
		}
		if resp.GetType() != rpc.CriuReqType_NOTIFY {
			closeFds(fdsIn)
			if resp.GetType() != typ {
				return nil, fmt.Errorf("criu %s: unexpected answer %s", typ, resp.GetType())
			}
			break
		}
		script := resp.GetNotify().GetScript()
		slog.Debug("criu notification", "script", script, "pid", resp.GetNotify().GetPid())
		if s.notify != nil {
			err = s.notify(script, resp.GetNotify().GetPid(), fdsIn)
		} else {
			closeFds(fdsIn)
		}
		if err != nil {
			return nil, fmt.Errorf("criu %s: at %s: %w", typ, script, err)
		}
		notifyType := rpc.CriuReqType_NOTIFY
		if err := sendCriu(conn, &rpc.CriuReq{Type: &notifyType, NotifySuccess: new(true)}); err != nil {
			return nil, err
		}
	}
	conn.CloseWrite()
	waited = true
	err = cmd.Wait()
	// A pre-dump's criu waits for more requests; told nothing more, it exits non-zero.
	if err != nil && typ != rpc.CriuReqType_PRE_DUMP {
		return nil, fmt.Errorf("criu %s: %w", typ, err)
	}
	return resp, nil
}

func sendCriu(conn *net.UnixConn, req *rpc.CriuReq) error {
	data, err := req.MarshalVT()
	if err != nil {
		return fmt.Errorf("criu: encode request: %w", err)
	}
	if _, err := conn.Write(data); err != nil {
		return fmt.Errorf("criu: send request: %w", err)
	}
	return nil
}

// criuFeatureCheck asks criu whether it (and the kernel) support what want sets.
func criuFeatureCheck(path string, want *rpc.CriuFeatures) error {
	typ := rpc.CriuReqType_FEATURE_CHECK
	resp, err := (&swrk{path: path}).run(&rpc.CriuReq{Type: &typ, Features: want})
	if err != nil {
		return explainCriu(path, err, "")
	}
	got := resp.GetFeatures()
	var missing []string
	if want.GetMemTrack() && !got.GetMemTrack() {
		missing = append(missing, "memory tracking (needed by --pre-dump and --parent-path)")
	}
	if want.GetLazyPages() && !got.GetLazyPages() {
		missing = append(missing, "lazy pages (userfaultfd)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("criu or the kernel lacks %s", strings.Join(missing, " and "))
	}
	return nil
}

func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse fds sent by criu: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		r, err := unix.ParseUnixRights(&m)
		if err != nil {
			closeFds(fds)
			return nil, fmt.Errorf("parse fds sent by criu: %w", err)
		}
		fds = append(fds, r...)
	}
	return fds, nil
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// stdioLinks are what fds 0, 1 and 2 of pid point to ("pipe:[123]", "/dev/null", ...): the
// container's stdio as its caller gave it, which a checkpoint records (descriptorsFile).
func stdioLinks(pid int) []string {
	out := make([]string, 3)
	for i := range out {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, i))
		if err == nil {
			out[i] = l
		}
	}
	return out
}
