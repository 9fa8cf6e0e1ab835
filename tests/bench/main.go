//go:build linux

// Command bench measures husk against runc and crun on one bundle: whole-process wall time and
// CPU time of each runtime call, interleaved round by round after a warm-up, the peak RSS, and
// the smallest memory limit that still runs /bin/true. tests/bench/bench.sh builds and starts
// it inside a private mount namespace; run it through that script.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	husk, runc, crun string
	bundle, work     string
	rounds           int
	parallel         []int
	smoke            bool
	skipMem          bool
}

func parseFlags() (options, error) {
	var o options
	var par string
	flag.StringVar(&o.husk, "husk", "", "husk binary")
	flag.StringVar(&o.runc, "runc", "/usr/sbin/runc", "runc binary")
	flag.StringVar(&o.crun, "crun", "/usr/bin/crun", "crun binary")
	flag.StringVar(&o.bundle, "bundle", "", "base bundle (scripts/mkbundle.sh); its rootfs is shared by every variant")
	flag.StringVar(&o.work, "work", "", "scratch directory (bundles, state tmpfs); must exist")
	flag.IntVar(&o.rounds, "rounds", 30, "measured rounds of the sequential scenarios (parallel ones run a third and a sixth as many, at least 3)")
	flag.StringVar(&par, "parallel", "20,100", "container counts of the parallel scenarios, comma separated")
	flag.BoolVar(&o.smoke, "smoke", false, "one round of every scenario, no warm-up: checks that everything runs")
	flag.BoolVar(&o.skipMem, "skip-memlimit", false, "leave out the memory limit search")
	flag.Parse()
	if o.husk == "" || o.bundle == "" || o.work == "" {
		return o, errors.New("-husk, -bundle and -work are required")
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds %d: must be at least 1", o.rounds)
	}
	for _, f := range strings.Split(par, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-parallel %q: %q is not a positive count", par, f)
		}
		o.parallel = append(o.parallel, n)
	}
	return o, nil
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	if err := checkPrivateMountNS(); err != nil {
		return err
	}
	if err := legacyView(); err != nil {
		return err
	}
	state := filepath.Join(o.work, "state")
	if err := stateTmpfs(state); err != nil {
		return err
	}
	if err := becomeSubreaper(); err != nil {
		return err
	}
	prefix := fmt.Sprintf("husktest-bench-%d-", os.Getpid())
	bs, err := loadBundles(o.bundle, filepath.Join(o.work, "bundles"), prefix)
	if err != nil {
		return err
	}
	b := &bench{bundles: bs, work: state}
	for _, spec := range [][2]string{{"husk", o.husk}, {"crun", o.crun}, {"runc", o.runc}} {
		rt, err := newRuntime(spec[0], spec[1], state)
		if err != nil {
			return err
		}
		b.rts = append(b.rts, rt)
	}
	for _, rt := range b.rts {
		fmt.Printf("- %s: `%s` (%s)\n", rt.name, rt.path, rt.version())
	}
	fmt.Println()
	if err := b.verify(); err != nil {
		return err
	}
	results, err := b.all(o)
	if err != nil {
		return err
	}
	rssRounds := 10
	if o.smoke {
		rssRounds = 1
	}
	rss, err := b.peakRSS(rssRounds)
	if err != nil {
		return err
	}
	var mem map[string]map[string]memResult
	if !o.skipMem {
		mem = map[string]map[string]memResult{}
		for _, netns := range []bool{true, false} {
			m, err := b.memLimit(netns)
			if err != nil {
				return err
			}
			mem[netName(netns)] = m
		}
	}
	names := make([]string, len(b.rts))
	for i, rt := range b.rts {
		names[i] = rt.name
	}
	return report(os.Stdout, names, results, &rss, mem)
}

// all runs the timed scenarios in order and stops at the first failure.
func (b *bench) all(o options) ([]result, error) {
	rounds, warm := o.rounds, 3
	parRounds := func(div int) int { return max(o.rounds/div, 3) }
	parWarm := 1
	if o.smoke {
		rounds, warm, parWarm = 1, 0, 0
		parRounds = func(int) int { return 1 }
	}
	type made struct {
		tag string
		sc  scenario
		err error
	}
	var todo []made
	for _, netns := range []bool{true, false} {
		sc, err := b.runTrue(netns, rounds, warm)
		todo = append(todo, made{"run" + netName(netns), sc, err})
	}
	for _, netns := range []bool{true, false} {
		sc, err := b.lifecycle(netns, rounds, warm)
		todo = append(todo, made{"life" + netName(netns), sc, err})
	}
	for _, pause := range []time.Duration{0, 250 * time.Millisecond} {
		sc, err := b.execTrue(pause, rounds, warm)
		todo = append(todo, made{fmt.Sprintf("exec%d", pause.Milliseconds()), sc, err})
	}
	for i, n := range o.parallel {
		for _, netns := range []bool{true, false} {
			sc, err := b.parallel(n, netns, parRounds(3*(i+1)), parWarm)
			todo = append(todo, made{fmt.Sprintf("par%d%s", n, netName(netns)), sc, err})
		}
	}
	var results []result
	for _, m := range todo {
		if m.err != nil {
			return nil, m.err
		}
		r, err := b.run(m.tag, m.sc)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}
