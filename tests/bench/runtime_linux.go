package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runtime is one OCI runtime under test, called with runc's command line.
type runtime struct {
	name string // husk, runc or crun
	path string // absolute path of the binary
	root string // its --root, on the bench's tmpfs
	log  string // file that receives the stdout and stderr of every call, for error messages
}

// sample is what one whole-process measurement gives.
type sample struct {
	wall time.Duration
	cpu  time.Duration // user+sys of the process and the children it waited for
}

// add combines the sample of a step into the sample of a multi-step scenario.
func (s *sample) add(o sample) {
	s.wall += o.wall
	s.cpu += o.cpu
}

// command prepares `<runtime> --root <root> args...`. Its stdio are files, never pipes: a
// container started by create inherits them, and a pipe would keep os/exec waiting for it.
func (r *runtime) command(out *os.File, args ...string) *exec.Cmd {
	c := exec.Command(r.path, append([]string{"--root", r.root}, args...)...)
	c.Stdout = out
	c.Stderr = out
	return c
}

// callTimeout bounds one call: a runtime that hangs (an init killed by the OOM killer while
// its parent waits, say) fails the bench instead of stalling it.
const callTimeout = 60 * time.Second

// running is a call in progress.
type running struct {
	cmd   *exec.Cmd
	t0    time.Time
	timer *time.Timer
}

// start begins a call whose output goes to the runtime's log.
func (r *runtime) start(args ...string) (*running, error) {
	out, err := os.OpenFile(r.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open runtime log: %w", err)
	}
	defer out.Close() // the child holds its own copy
	c := r.command(out, args...)
	t0 := time.Now()
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("%s %v: %w", r.name, args, err)
	}
	timer := time.AfterFunc(callTimeout, func() { _ = c.Process.Kill() })
	return &running{cmd: c, t0: t0, timer: timer}, nil
}

// finish waits for a call begun by start and measures it; a non-zero exit is an error that
// carries the end of the runtime's log.
func (r *runtime) finish(p *running) (sample, error) {
	err := p.cmd.Wait()
	wall := time.Since(p.t0)
	expired := !p.timer.Stop()
	s := sample{wall: wall}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		// ru_maxrss is not taken here: see timeBin in rss_linux.go.
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if expired {
		return s, fmt.Errorf("%s %v: killed after %v: %s", r.name, p.cmd.Args[1:], callTimeout, r.logTail())
	}
	if err != nil {
		return s, fmt.Errorf("%s %v: %w: %s", r.name, p.cmd.Args[1:], err, r.logTail())
	}
	return s, nil
}

// call runs one command to completion and measures it.
func (r *runtime) call(args ...string) (sample, error) {
	p, err := r.start(args...)
	if err != nil {
		return sample{}, err
	}
	return r.finish(p)
}

// logTail returns the last lines the runtime wrote, to explain a failure.
func (r *runtime) logTail() string {
	b, err := os.ReadFile(r.log)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	b = bytes.TrimSpace(b)
	if len(b) > 600 {
		b = b[len(b)-600:]
	}
	return string(b)
}

// resetLog empties the log so that the next failure shows only its own output.
func (r *runtime) resetLog() error {
	if err := os.WriteFile(r.log, nil, 0o644); err != nil {
		return fmt.Errorf("reset runtime log: %w", err)
	}
	return nil
}

// version asks the runtime for the first two lines of its version: the version and, for husk
// and runc, the commit (crun prints its commit there too).
func (r *runtime) version() string {
	out, err := exec.Command(r.path, "--version").Output()
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[:min(2, len(lines))], "; ")
}

// leftovers lists the containers still present in the runtime's root.
func (r *runtime) leftovers() ([]string, error) {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		return nil, fmt.Errorf("read root %s: %w", r.root, err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// newRuntime checks the binary and prepares its root and log under dir.
func newRuntime(name, path, dir string) (*runtime, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("runtime %s: %w", name, err)
	}
	if st, err := os.Stat(abs); err != nil || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("runtime %s: %s is not an executable file (%v)", name, abs, err)
	}
	r := &runtime{name: name, path: abs, root: filepath.Join(dir, "root-"+name), log: filepath.Join(dir, name+".log")}
	if err := os.MkdirAll(r.root, 0o700); err != nil {
		return nil, fmt.Errorf("runtime %s: make root: %w", name, err)
	}
	return r, r.resetLog()
}
