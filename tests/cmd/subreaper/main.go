// Command subreaper runs a command as a child subreaper (prctl PR_SET_CHILD_SUBREAPER).
//
// On this machine PID 1 reaps orphans late, so tests that leave orphans behind (a container
// init whose runtime exited, a killed container) pile up zombies and processes nobody waits
// for. Under subreaper every orphan below it is re-parented to it and reaped at once.
//
// Usage:
//
//	subreaper [-grace DURATION] [-q] [--] COMMAND [ARG...]
//
// It forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to COMMAND.
// When COMMAND exits, descendants still alive get -grace to exit on their own; then they are
// killed with SIGKILL and each one is reported on stderr as
// "subreaper: killed leftover process PID (COMM)" (unless -q), so a harness can spot leaks.
// subreaper exits with COMMAND's exit status, or 128+N when COMMAND was killed by signal N.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// killDeadline bounds the SIGKILL loop: a process in a frozen cgroup does not die until it
// is thawed, and subreaper must not hang on it.
const killDeadline = 10 * time.Second

var forwarded = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT,
	unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH,
}

func main() {
	grace := flag.Duration("grace", time.Second, "how long descendants may outlive COMMAND before they are killed")
	quiet := flag.Bool("q", false, "do not report killed leftover processes")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-grace DURATION] [-q] [--] COMMAND [ARG...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	status, err := run(flag.Args(), *grace, *quiet)
	if err != nil {
		fmt.Fprintf(os.Stderr, "subreaper: %v\n", err)
		os.Exit(127)
	}
	os.Exit(status)
}

// run starts argv, reaps everything until argv's process and all descendants are gone,
// and returns argv's exit status in shell form.
func run(argv []string, grace time.Duration, quiet bool) (int, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return 0, fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return 0, fmt.Errorf("look up command %q: %w", argv[0], err)
	}

	// Subscribe before starting the child so that neither its exit nor a signal is missed.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, append([]os.Signal{unix.SIGCHLD}, forwarded...)...)

	// os.StartProcess, not exec.Cmd: every child is reaped here with wait4(-1), which
	// would race with exec.Cmd.Wait.
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		return 0, fmt.Errorf("start %q: %w", path, err)
	}
	mainPid := proc.Pid

	status := -1
	for status < 0 {
		sig := <-sigs
		if sig != unix.SIGCHLD {
			// The child may just have exited; ESRCH then is harmless.
			_ = unix.Kill(mainPid, sig.(unix.Signal))
			continue
		}
		if s, ok := reap(mainPid); ok {
			status = s
		}
	}

	// Forwarded signals that arrive from now on have nobody to go to; they stay caught (and
	// are dropped) so that subreaper outlives them and still cleans up.
	if !waitDescendants(sigs, grace) {
		killDescendants(sigs, quiet)
	}
	return status, nil
}

// reap collects every exited child without blocking. It reports mainPid's status in shell
// form when mainPid was among them.
func reap(mainPid int) (int, bool) {
	status, found := 0, false
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return status, found
		}
		if pid != mainPid {
			continue
		}
		found = true
		switch {
		case ws.Exited():
			status = ws.ExitStatus()
		case ws.Signaled():
			status = 128 + int(ws.Signal())
		}
	}
}

// hasChildren reports whether any child (running or zombie) is left to wait for.
func hasChildren() bool {
	var info unix.Siginfo
	for {
		// waitid, not wait4: only waitid knows WNOWAIT, which leaves a zombie to reap().
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT|unix.WALL, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return !errors.Is(err, unix.ECHILD)
	}
}

// waitDescendants reaps descendants as they exit for up to grace and reports whether
// none is left.
func waitDescendants(sigs <-chan os.Signal, grace time.Duration) bool {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for {
		reap(-1)
		if !hasChildren() {
			return true
		}
		select {
		case <-sigs:
		case <-timer.C:
			reap(-1)
			return !hasChildren()
		}
	}
}

// killDescendants SIGKILLs every child, reaps it, and repeats for the grandchildren that
// get re-parented here, until none is left or killDeadline passes.
func killDescendants(sigs <-chan os.Signal, quiet bool) {
	reported := map[int]bool{}
	deadline := time.Now().Add(killDeadline)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		reap(-1)
		if !hasChildren() {
			return
		}
		for _, pid := range children() {
			if !reported[pid] && !quiet {
				fmt.Fprintf(os.Stderr, "subreaper: killed leftover process %d (%s)\n", pid, comm(pid))
			}
			reported[pid] = true
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		select {
		case <-sigs:
		case <-tick.C:
		}
	}
	fmt.Fprintf(os.Stderr, "subreaper: gave up after %v: processes still alive: %v\n", killDeadline, children())
}

// children lists the live processes whose parent is this process, from /proc.
func children() []int {
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		fmt.Fprintf(os.Stderr, "subreaper: read /proc: %v\n", err)
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, state, ok := parentAndState(pid)
		if ok && ppid == self && state != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentAndState reads PPid and State from /proc/PID/status; a process that vanished
// meanwhile reports ok=false.
func parentAndState(pid int) (ppid int, state string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, "", false
	}
	ppid = -1
	for _, line := range strings.Split(string(data), "\n") {
		key, value, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "State":
			state, _, _ = strings.Cut(value, " ")
		case "PPid":
			ppid, err = strconv.Atoi(value)
			if err != nil {
				return 0, "", false
			}
		}
	}
	return ppid, state, ppid >= 0
}

func comm(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(data))
}
