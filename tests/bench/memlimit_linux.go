package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

const (
	pageSize = 4096
	// memSearchMax is the limit every runtime must pass; the search starts below it.
	memSearchMax = 64 << 20
	// memTries: a limit counts as enough only if this many runs in a row pass at it, so that
	// one lucky run near the edge does not decide the result.
	memTries = 2
)

// memResult is the outcome of the search for one runtime.
type memResult struct {
	smallest int64  // smallest limit, in bytes, at which /bin/true ran memTries times
	failure  string // how the run failed one page below it
	left     string // what failed runs left behind (removed by the bench), if anything
}

// memLimit binary-searches, for every runtime, the smallest linux.resources.memory.limit at
// which `run` of /bin/true exits 0. The kernel takes any value and counts it in whole pages
// (v1 memory.limit_in_bytes rounds down to a page), so the search runs in pages.
func (b *bench) memLimit(netns bool) (map[string]memResult, error) {
	out := map[string]memResult{}
	tag := "mem-" + netName(netns)
	for _, rt := range b.rts {
		fmt.Fprintf(os.Stderr, "bench: smallest memory limit, %s, %s\n", netName(netns), rt.name)
		try := func(limit int64) (string, error) {
			bundle, err := b.bundles.write(tag+"-"+rt.name, variant{args: []string{"/bin/true"}, netns: netns, memLimit: limit})
			if err != nil {
				return "", err
			}
			for i := 0; i < memTries; i++ {
				if err := rt.resetLog(); err != nil {
					return "", err
				}
				id := b.nextID(tag, rt)
				if _, err := rt.call("run", "--bundle", bundle, id); err != nil {
					// A failed run may leave its container behind; that is the runtime's
					// business here, not a leftover of the bench.
					if p, derr := rt.start("delete", "--force", id); derr == nil {
						_, _ = rt.finish(p)
					}
					reapOrphans()
					return oneLine(failureText(rt, err)), nil
				}
				reapOrphans()
			}
			return "", nil
		}
		fail, err := try(memSearchMax)
		if err != nil {
			return nil, err
		}
		if fail != "" {
			return nil, fmt.Errorf("memory limit: %s fails even at %d MiB: %s", rt.name, memSearchMax>>20, fail)
		}
		lo, hi := int64(0), int64(memSearchMax/pageSize) // lo pages fails (0 cannot run anything), hi passes
		loFail := "(a limit of 0 cannot hold any page)"
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			fail, err := try(mid * pageSize)
			if err != nil {
				return nil, err
			}
			if fail == "" {
				hi = mid
			} else {
				lo, loFail = mid, fail
			}
		}
		res := memResult{smallest: hi * pageSize, failure: loFail}
		// Runs killed by the OOM killer may leave a cgroup behind: report it, remove it.
		if err := b.checkLeftovers(); err != nil {
			res.left = oneLine(err.Error())
		}
		out[rt.name] = res
	}
	return out, nil
}

// failureText says how a run failed: its exit code and what the runtime printed.
func failureText(rt *runtime, err error) string {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err.Error()
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	what := fmt.Sprintf("exit %d", code)
	if code == 137 {
		what += " (SIGKILL: the OOM killer)"
	}
	if tail := rt.logTail(); tail != "" {
		what += ": " + tail
	}
	return what
}

// oneLine squeezes a multi-line error into one table cell.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
