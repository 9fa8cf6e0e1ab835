package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// timeBin is GNU time (Debian package "time"). Peak RSS is measured through it and not from
// the driver's own wait4: os/exec starts children with vfork, and at execve the kernel folds
// the old address space's high-water mark (the Go driver's, ~9 MiB) into the child's
// ru_maxrss. GNU time is a small C program, so its share is ~1 MiB, reported as the floor.
const timeBin = "/usr/bin/time"

// rssResult is the peak RSS of `run` of /bin/true per runtime, in KiB, round by round.
type rssResult struct {
	floor   int64 // ru_maxrss of /bin/true itself under GNU time: no runtime can be below it
	samples map[string][]int64
}

// peakRSS measures the runtime's peak RSS for `run` of /bin/true: ru_maxrss of the runtime
// process and the children it waited for (runc's and husk's init, the container), the figure
// `/usr/bin/time -v` prints as "Maximum resident set size".
func (b *bench) peakRSS(rounds int) (rssResult, error) {
	res := rssResult{samples: map[string][]int64{}}
	fmt.Fprintf(os.Stderr, "bench: peak RSS of run /bin/true: %d rounds\n", rounds)
	out := filepath.Join(b.work, "rss.txt")
	measure := func(log *os.File, args ...string) (int64, error) {
		c := exec.Command(timeBin, append([]string{"-o", out, "-f", "%x %M"}, args...)...)
		if log != nil { // an untyped nil: os/exec then gives the child /dev/null
			c.Stdout, c.Stderr = log, log
		}
		if err := c.Run(); err != nil {
			return 0, fmt.Errorf("%s %v: %w", timeBin, args, err)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", out, err)
		}
		f := strings.Fields(string(raw))
		if len(f) != 2 || f[0] != "0" {
			return 0, fmt.Errorf("%v: time printed %q, want exit 0 and a size", args, raw)
		}
		return strconv.ParseInt(f[1], 10, 64)
	}
	floor, err := measure(nil, "/bin/true")
	if err != nil {
		return res, err
	}
	res.floor = floor
	dirs, err := b.bundlePerRuntime("rss", variant{args: []string{"/bin/true"}, netns: true})
	if err != nil {
		return res, err
	}
	for round := 0; round < rounds; round++ {
		for _, rt := range b.rts {
			if err := rt.resetLog(); err != nil {
				return res, err
			}
			log, err := os.OpenFile(rt.log, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return res, fmt.Errorf("open runtime log: %w", err)
			}
			kib, err := measure(log, rt.path, "--root", rt.root, "run", "--bundle", dirs[rt.name], b.nextID("rss", rt))
			log.Close()
			if err != nil {
				return res, fmt.Errorf("peak RSS, %s: %w: %s", rt.name, err, rt.logTail())
			}
			res.samples[rt.name] = append(res.samples[rt.name], kib)
		}
		reapOrphans()
	}
	return res, b.checkLeftovers()
}
