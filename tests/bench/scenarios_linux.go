package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// netName names a network-namespace variant in tags and titles.
func netName(netns bool) string {
	if netns {
		return "netns"
	}
	return "hostnet"
}

// bundlePerRuntime writes one bundle per runtime (its own cgroup path) and returns a lookup.
func (b *bench) bundlePerRuntime(tag string, v variant) (map[string]string, error) {
	dirs := map[string]string{}
	for _, rt := range b.rts {
		d, err := b.bundles.write(tag+"-"+rt.name, v)
		if err != nil {
			return nil, err
		}
		dirs[rt.name] = d
	}
	return dirs, nil
}

// runTrue: `run` of /bin/true in the foreground; the runtime creates, starts, waits, deletes.
func (b *bench) runTrue(netns bool, rounds, warmup int) (scenario, error) {
	tag := "run-" + netName(netns)
	dirs, err := b.bundlePerRuntime(tag, variant{args: []string{"/bin/true"}, netns: netns})
	if err != nil {
		return scenario{}, err
	}
	return scenario{
		name:   "run /bin/true, " + netName(netns),
		rounds: rounds, warmup: warmup,
		measure: func(rt *runtime, id string) (sample, error) {
			return rt.call("run", "--bundle", dirs[rt.name], id)
		},
	}, nil
}

// lifecycle: create, start, wait for the container's exit (the driver is its subreaper, as a
// containerd shim is), delete. The wall time covers the four steps end to end.
func (b *bench) lifecycle(netns bool, rounds, warmup int) (scenario, error) {
	tag := "life-" + netName(netns)
	dirs, err := b.bundlePerRuntime(tag, variant{args: []string{"/bin/true"}, netns: netns})
	if err != nil {
		return scenario{}, err
	}
	return scenario{
		name:   "create+start+wait+delete, " + netName(netns),
		rounds: rounds, warmup: warmup,
		measure: func(rt *runtime, id string) (sample, error) {
			t0 := time.Now()
			s, err := b.startContainer(rt, dirs[rt.name], id)
			if err != nil {
				return s.sample, err
			}
			code, err := waitPid(s.pid)
			if err != nil {
				return s.sample, err
			}
			if code != 0 {
				return s.sample, fmt.Errorf("%s: container %s exited %d: %s", rt.name, id, code, rt.logTail())
			}
			d, err := rt.call("delete", id)
			s.add(d)
			s.wall = time.Since(t0)
			return s.sample, err
		},
	}, nil
}

// started is the sample of create+start and the pid of the container's init.
type started struct {
	sample
	pid int
}

// startContainer creates (with a pid file) and starts a container.
func (b *bench) startContainer(rt *runtime, bundle, id string) (started, error) {
	pidFile := filepath.Join(b.work, id+".pid")
	defer os.Remove(pidFile)
	var s started
	c, err := rt.call("create", "--bundle", bundle, "--pid-file", pidFile, id)
	s.add(c)
	if err != nil {
		return s, err
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		return s, fmt.Errorf("%s create %s: pid file: %w", rt.name, id, err)
	}
	s.pid, err = strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return s, fmt.Errorf("%s create %s: pid file %q: %w", rt.name, id, raw, err)
	}
	st, err := rt.call("start", id)
	s.add(st)
	return s, err
}

// execTrue: `exec` of /bin/true into a running container (one per runtime, made in setup),
// back to back, or each call after a pause (not timed), as health checks run. The pause
// matters: a runtime that moves the new process with a write to cgroup.procs takes the
// kernel's cgroup_threadgroup_rwsem, whose first writer after a quiet spell waits for an RCU
// grace period (5-30 ms here); calls back to back find it still fast.
func (b *bench) execTrue(pause time.Duration, rounds, warmup int) (scenario, error) {
	tag, name := "exec", "exec /bin/true, netns"
	if pause > 0 {
		tag = fmt.Sprintf("exec-%dms", pause.Milliseconds())
		name = fmt.Sprintf("exec /bin/true, netns, %d ms apart", pause.Milliseconds())
	}
	dirs, err := b.bundlePerRuntime(tag, variant{args: []string{"sleep", "1000000"}, netns: true})
	if err != nil {
		return scenario{}, err
	}
	pids := map[string]int{}
	target := func(rt *runtime) string { return tag + "-target-" + rt.name }
	return scenario{
		name:   name,
		rounds: rounds, warmup: warmup,
		setup: func(rt *runtime) error {
			s, err := b.startContainer(rt, dirs[rt.name], target(rt))
			if s.pid > 0 {
				pids[rt.name] = s.pid
			}
			return err
		},
		measure: func(rt *runtime, _ string) (sample, error) {
			time.Sleep(pause)
			return rt.call("exec", target(rt), "/bin/true")
		},
		cleanup: func(rt *runtime) error {
			pid, ok := pids[rt.name]
			if !ok {
				return nil
			}
			delete(pids, rt.name)
			if _, err := rt.call("kill", target(rt), "KILL"); err != nil {
				return err
			}
			if code, err := waitPid(pid); err != nil || code != 128+9 {
				return fmt.Errorf("container %s: wait after SIGKILL: code %d, %v", target(rt), code, err)
			}
			_, err := rt.call("delete", target(rt))
			return err
		},
	}, nil
}

// parallel: n `run` of /bin/true started at once; the wall is from the first fork to the last
// exit. CPU time is the sum over the n runtime processes.
func (b *bench) parallel(n int, netns bool, rounds, warmup int) (scenario, error) {
	tag := fmt.Sprintf("par%d-%s", n, netName(netns))
	dirs := map[string][]string{}
	for _, rt := range b.rts {
		for i := 0; i < n; i++ {
			d, err := b.bundles.write(fmt.Sprintf("%s-%s-%d", tag, rt.name, i), variant{args: []string{"/bin/true"}, netns: netns})
			if err != nil {
				return scenario{}, err
			}
			dirs[rt.name] = append(dirs[rt.name], d)
		}
	}
	return scenario{
		name:   fmt.Sprintf("%d x run /bin/true in parallel, %s", n, netName(netns)),
		rounds: rounds, warmup: warmup,
		measure: func(rt *runtime, id string) (sample, error) {
			t0 := time.Now()
			calls := make([]*running, 0, n)
			var firstErr error
			for i, d := range dirs[rt.name] {
				p, err := rt.start("run", "--bundle", d, fmt.Sprintf("%s-%d", id, i))
				if err != nil {
					firstErr = err
					break
				}
				calls = append(calls, p)
			}
			var total sample
			for _, p := range calls {
				s, err := rt.finish(p)
				total.add(s)
				if err != nil && firstErr == nil {
					firstErr = err
				}
			}
			total.wall = time.Since(t0)
			return total, firstErr
		},
	}, nil
}
