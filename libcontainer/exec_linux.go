package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/husk-runtime/husk/cgroups"
)

// ExecOpts describe one `husk exec`.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	ConsoleConn   *os.File // see CreateOpts.ConsoleConn
	PidFile       string
	PidfdSocket   string // receives a pidfd of the process
	PreserveFds   int
	IgnorePaused  bool
	// SubCgroups maps a v1 controller ("" for all, and for v2) to a sub-cgroup of the
	// container's cgroup to put the process in (exec --cgroup).
	SubCgroups map[string]string
	// AppArmorProfile and ProcessLabel (exec --apparmor, --process-label) override the
	// process's; without either, the container's own apply, as in runc.
	AppArmorProfile, ProcessLabel string
	Stdin, Stdout, Stderr         *os.File
}

// Exec starts a new process inside a running container, confined like its init (the same
// namespaces, cgroup, seccomp filter; capabilities, user and rlimits from opts.Process), and
// returns its pid once it has exec'd. It does not take the container's lock (see
// lock_linux.go): a process that is slow to start, or stopped before its execve, holds up
// nobody. A container paused meanwhile freezes the process as it joins the cgroup (runc
// does the same); one deleted meanwhile fails the exec, and its process is killed with the
// cgroup (Destroy) or by the exec itself when it is not in it yet.
func (c *Container) Exec(opts ExecOpts) (int, error) {
	status := c.Status()
	switch st := status; st {
	case Stopped:
		return 0, fmt.Errorf("cannot exec in a stopped container %s: container not running", c.State.ID)
	case Creating:
		return 0, fmt.Errorf("cannot exec in container %s: container not running (it is still being created)", c.State.ID)
	case Paused:
		if !opts.IgnorePaused {
			return 0, fmt.Errorf("cannot exec in a paused container %s (use --ignore-paused)", c.State.ID)
		}
	}
	t := newPhaseTimer("exec")
	base, err := c.State.ExecSpec()
	if err != nil {
		return 0, err
	}
	if err := validateProcess(opts.Process); err != nil {
		return 0, err
	}
	lsm, err := execLSM(opts, base.Process)
	if err != nil {
		return 0, err
	}
	if opts.Process.Terminal && opts.ConsoleSocket == "" && opts.ConsoleConn == nil {
		return 0, fmt.Errorf("process.terminal is true but no --console-socket was given")
	}
	spec := *base
	linux := *base.Linux
	spec.Linux = &linux
	spec.Process = opts.Process
	filter, err := compileSeccomp(base.Linux.Seccomp, c.Root)
	if err != nil {
		return 0, err
	}
	cg, err := c.execCgroup(opts.SubCgroups)
	if err != nil {
		return 0, err
	}
	p := &parent{c: c, spec: &spec, filter: filter, t: t, root: c.Root,
		stdin: opts.Stdin, stdout: opts.Stdout, stderr: opts.Stderr, consoleSocket: opts.ConsoleSocket,
		consoleConn: opts.ConsoleConn, preserveFds: opts.PreserveFds, namespaces: c.joinNamespaces(base), exec: true, cgroup: cg,
		lateCgroup: status == Paused, subCgroup: len(opts.SubCgroups) > 0, lsm: lsm}
	if err := p.planCgroupJoin(); err != nil {
		return 0, err
	}
	if err := p.spawn(); err != nil {
		p.abort()
		return 0, err
	}
	t.phase("spawn init")
	if err := p.bootstrap(); err != nil {
		p.abort()
		return 0, err
	}
	// The namespaces were opened through /proc/<init pid>: if that init died since the status
	// was read, the pid may name another process now, whose namespaces these would be. The
	// same init still alive now was the one then.
	if !c.initAlive() {
		p.abort()
		return 0, fmt.Errorf("cannot exec in container %s: container not running (it stopped while the exec started)", c.State.ID)
	}
	t.phase("namespaces")
	if err := p.configure(); err != nil {
		p.abort()
		return 0, err
	}
	p.sock.Close()
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, p.initPid); err != nil {
			return p.initPid, err
		}
	}
	if opts.PidfdSocket != "" {
		if err := SendPidfd(opts.PidfdSocket, p.initPid); err != nil {
			return p.initPid, err
		}
	}
	t.done()
	return p.initPid, nil
}

// execLSM picks the exec's AppArmor profile and SELinux label: the flag, else the process's,
// else the container's.
func execLSM(opts ExecOpts, container *specs.Process) (lsmLabels, error) {
	if err := validateSELinuxLabel("--process-label", opts.ProcessLabel); err != nil {
		return lsmLabels{}, err
	}
	pick := func(flag, flagValue, field, own, inherited string) lsmRequest {
		if flagValue != "" {
			return lsmRequest{field: flag, value: flagValue}
		}
		if own != "" {
			return lsmRequest{field: field, value: own}
		}
		return lsmRequest{field: field, value: inherited}
	}
	profile := pick("--apparmor", opts.AppArmorProfile, "process.apparmorProfile", opts.Process.ApparmorProfile, container.ApparmorProfile)
	label := pick("--process-label", opts.ProcessLabel, "process.selinuxLabel", opts.Process.SelinuxLabel, container.SelinuxLabel)
	return theHost.resolve(profile, label, lsmRequest{})
}

// joinNamespaces lists every namespace of the container as a path to join.
func (c *Container) joinNamespaces(spec *specs.Spec) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range spec.Linux.Namespaces {
		out = append(out, specs.LinuxNamespace{Type: ns.Type, Path: c.State.NamespacePaths[string(ns.Type)]})
	}
	return out
}

// execCgroup is the container's cgroup, or the sub-cgroups exec --cgroup named; nil for a
// container without one (rootless without cgroup access).
func (c *Container) execCgroup(sub map[string]string) (cgroups.Manager, error) {
	if len(c.State.CgroupPaths) == 0 {
		if len(sub) > 0 {
			return nil, fmt.Errorf("--cgroup: container %s has no cgroup (rootless, without cgroup access)", c.State.ID)
		}
		return nil, nil
	}
	paths := map[string]string{}
	for k, v := range c.State.CgroupPaths {
		paths[k] = v
	}
	for ctrl, rel := range sub {
		if rel == "" || filepath.IsAbs(rel) || strings.Contains("/"+rel+"/", "/../") {
			return nil, fmt.Errorf("--cgroup %q: must be a relative path inside the container's cgroup", rel)
		}
		matched := false
		for k, v := range paths {
			if ctrl == "" || k == ctrl || (k != "" && strings.Contains(","+k+",", ","+ctrl+",")) {
				paths[k] = filepath.Join(v, rel)
				matched = true
			}
		}
		if !matched {
			return nil, fmt.Errorf("--cgroup %s:%s: the container has no %q cgroup", ctrl, rel, ctrl)
		}
	}
	for k, v := range paths {
		if _, err := os.Stat(v); err != nil && (sub[k] != "" || sub[""] != "") {
			return nil, fmt.Errorf("--cgroup: sub-cgroup %s: %w", v, err)
		}
	}
	return cgroups.Load(paths)
}
