package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/capabilities"
	"github.com/husk-runtime/husk/cgroups"
)

func validateCapabilities(c *specs.LinuxCapabilities) error {
	if err := capabilities.Validate(c); err != nil {
		return fmt.Errorf("process.capabilities: %w", err)
	}
	return nil
}

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther: 0, specs.SchedFIFO: 1, specs.SchedRR: 2, specs.SchedBatch: 3,
	specs.SchedISO: 4, specs.SchedIdle: 5, specs.SchedDeadline: 6,
}

func schedPolicy(p specs.LinuxSchedulerPolicy) (uint32, error) {
	v, ok := schedPolicies[p]
	if !ok {
		return 0, fmt.Errorf("process.scheduler.policy: unknown policy %q", p)
	}
	return v, nil
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork: 0x01, specs.SchedFlagReclaim: 0x02, specs.SchedFlagDLOverrun: 0x04,
	specs.SchedFlagKeepPolicy: 0x08, specs.SchedFlagKeepParams: 0x10, specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT: 1, specs.IOPRIO_CLASS_BE: 2, specs.IOPRIO_CLASS_IDLE: 3,
}

func ioprioClass(c specs.IOPriorityClass) (int, error) {
	v, ok := ioprioClasses[c]
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class: unknown class %q", c)
	}
	return v, nil
}

// setupProcessAttrs applies the per-process settings that need no particular user.
func setupProcessAttrs(p *specs.Process) error {
	for _, r := range p.Rlimits {
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := unix.Prlimit(0, rlimitNames[r.Type], &lim, nil); err != nil {
			return fmt.Errorf("process.rlimits: set %s to soft %d hard %d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	if p.Scheduler != nil {
		policy, _ := schedPolicy(p.Scheduler.Policy)
		attr := unix.SchedAttr{
			Size: unix.SizeofSchedAttr, Policy: policy, Nice: p.Scheduler.Nice,
			Priority: uint32(p.Scheduler.Priority), Runtime: p.Scheduler.Runtime,
			Deadline: p.Scheduler.Deadline, Period: p.Scheduler.Period,
		}
		for _, f := range p.Scheduler.Flags {
			v, ok := schedFlags[f]
			if !ok {
				return fmt.Errorf("process.scheduler.flags: unknown flag %q", f)
			}
			attr.Flags |= v
		}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			return fmt.Errorf("process.scheduler: sched_setattr: %w", err)
		}
	}
	if p.IOPriority != nil {
		class, _ := ioprioClass(p.IOPriority.Class)
		const ioprioWhoProcess = 1
		prio := class<<13 | p.IOPriority.Priority
		if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); errno != 0 {
			return fmt.Errorf("process.ioPriority: ioprio_set: %w", errno)
		}
	}
	return nil
}

var personalityDomains = map[specs.LinuxPersonalityDomain]uintptr{
	specs.PerLinux: 0x0000, specs.PerLinux32: 0x0008,
}

func applyPersonality(l *specs.LinuxPersonality) error {
	if l == nil {
		return nil
	}
	dom, ok := personalityDomains[l.Domain]
	if !ok {
		return fmt.Errorf("linux.personality.domain: unknown domain %q", l.Domain)
	}
	if len(l.Flags) > 0 {
		return fmt.Errorf("linux.personality.flags: no flags are supported, got %v", l.Flags)
	}
	if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, dom, 0, 0); errno != 0 {
		return fmt.Errorf("linux.personality: personality(0x%x): %w", dom, errno)
	}
	return nil
}

// setupUser switches to the process's user and groups, keeping capabilities across the switch
// so that ApplyCaps can set exactly the configured ones afterwards.
func setupUser(p *specs.Process, env []string) error {
	u := p.User
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	gids := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		gids[i] = int(g)
	}
	if err := syscall.Setgroups(gids); err != nil {
		// setgroups is denied in a user namespace whose setgroups file says deny; with no
		// additional gids to set there is nothing to lose.
		if !(errors.Is(err, unix.EPERM) && len(gids) == 0 && setgroupsDenied()) {
			return fmt.Errorf("process.user.additionalGids: setgroups %v: %w", gids, err)
		}
	}
	if err := syscall.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid: setresgid %d: %w", u.GID, err)
	}
	if err := syscall.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid: setresuid %d: %w", u.UID, err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS): %w", err)
	}
	mask := 0o022
	if u.Umask != nil {
		mask = int(*u.Umask)
	}
	unix.Umask(mask)
	return nil
}

func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}

// homeOf is uid's home directory in the container's /etc/passwd, or "/" (as in runc).
func homeOf(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.Split(s.Text(), ":")
		if len(parts) >= 6 && parts[2] == strconv.FormatUint(uint64(uid), 10) && parts[5] != "" {
			return parts[5]
		}
	}
	return "/"
}

// lookPath finds the program the way execvp would, with the container's PATH.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("process.args[0] %s: %w", name, err)
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("process.args[0]: executable file %q not found in $PATH", name)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	// With the process's effective ids and capabilities, as execve checks: CAP_DAC_OVERRIDE
	// lets it run a file that has an execute bit for anyone (runc runs it too), and nothing
	// runs a file without any. access(2) would use the real ids without capabilities.
	if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
		return fmt.Errorf("not executable: %w", err)
	}
	return nil
}

// resetCPUAffinity gives the thread that execs the workload every CPU, which the kernel
// narrows to the container's cpuset, rather than the CPUs of whoever started husk (`taskset
// -c 0 husk run` would otherwise pin the container to CPU 0), as runc does. The kernel keeps
// this as the thread's own request, and narrows it again when the thread joins a cpuset
// later (an exec into a paused container). Early, before seccomp: a profile may not allow
// sched_setaffinity.
func resetCPUAffinity() error {
	var all unix.CPUSet
	for i := range all {
		all[i] = 1<<64 - 1
	}
	if err := unix.SchedSetaffinity(0, &all); err != nil {
		return fmt.Errorf("reset CPU affinity to the container's cpuset: sched_setaffinity: %w", err)
	}
	return nil
}

// applyExecAffinity applies an exec's execCPUAffinity.final, once it is in the container's
// cgroup.
func applyExecAffinity(a *specs.CPUAffinity) error {
	if a == nil || a.Final == "" {
		return nil
	}
	set, err := parseCPUList(a.Final)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.final: %w", err)
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return fmt.Errorf("process.execCPUAffinity.final: sched_setaffinity: %w", err)
	}
	return nil
}

// parseCPUList parses "0-3,7" into a CPU set.
func parseCPUList(s string) (*unix.CPUSet, error) {
	cpus, err := cgroups.ParseCPUList(s)
	if err != nil {
		return nil, fmt.Errorf("bad cpu list %q: %w", s, err)
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(int(c))
	}
	return &set, nil
}

// writeSysctls writes the (validated, namespaced) sysctls inside the container's namespaces,
// through a private procfs handle rather than the container's /proc: the config (or the
// rootfs) may have mounted something over /proc/sys to catch the writes (CVE-2025-52881).
func writeSysctls(sysctl map[string]string) error {
	if len(sysctl) == 0 {
		return nil
	}
	proc, err := procfs.OpenProcRoot()
	if err != nil {
		return fmt.Errorf("linux.sysctl: open procfs: %w", err)
	}
	defer proc.Close()
	for k, v := range sysctl {
		rel := "sys/" + strings.ReplaceAll(k, ".", "/")
		if strings.Contains(k, "/") {
			rel = "sys/" + k
		}
		f, err := proc.OpenRoot(rel)
		if err != nil {
			return fmt.Errorf("linux.sysctl %s: open /proc/%s: %w", k, rel, err)
		}
		wf, err := pathrs.Reopen(f, unix.O_WRONLY|unix.O_CLOEXEC)
		f.Close()
		if err != nil {
			return fmt.Errorf("linux.sysctl %s: open /proc/%s for writing: %w", k, rel, err)
		}
		_, err = wf.Write([]byte(v))
		wf.Close()
		if err != nil {
			return fmt.Errorf("linux.sysctl %s=%q: %w", k, v, err)
		}
	}
	return nil
}
