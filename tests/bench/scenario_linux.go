package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// scenario is one measured piece of work, run for every runtime in interleaved rounds.
type scenario struct {
	name    string
	rounds  int
	warmup  int
	setup   func(rt *runtime) error // before the first round (optional)
	measure func(rt *runtime, id string) (sample, error)
	cleanup func(rt *runtime) error // after the last round, also after a failure (optional)
}

// result holds each runtime's samples in round order, so that round i of one runtime pairs
// with round i of another.
type result struct {
	name    string
	samples map[string][]sample
}

// bench is the state shared by all scenarios of one run.
type bench struct {
	rts     []*runtime
	bundles *bundles
	work    string // private dir on the state tmpfs for pid files
	seq     int
}

// nextID gives a container id that is never reused within the run.
func (b *bench) nextID(tag string, rt *runtime) string {
	b.seq++
	return fmt.Sprintf("%s-%s-%d", tag, rt.name, b.seq)
}

// run measures sc: setup for every runtime, the warm-up rounds (discarded), then the rounds,
// A B C A B C; then cleanup and a check that nothing was left behind. Any failed call fails
// the scenario: a timing of a container that did not run means nothing.
func (b *bench) run(tag string, sc scenario) (res result, err error) {
	res = result{name: sc.name, samples: map[string][]sample{}}
	fmt.Fprintf(os.Stderr, "bench: %s: %d warm-up + %d rounds\n", sc.name, sc.warmup, sc.rounds)
	defer func() {
		for _, rt := range b.rts {
			if sc.cleanup != nil {
				if cerr := sc.cleanup(rt); cerr != nil && err == nil {
					err = fmt.Errorf("%s: cleanup %s: %w", sc.name, rt.name, cerr)
				}
			}
		}
		reapOrphans()
		if lerr := b.checkLeftovers(); lerr != nil && err == nil {
			err = fmt.Errorf("%s: %w", sc.name, lerr)
		}
	}()
	for _, rt := range b.rts {
		if sc.setup != nil {
			if err := sc.setup(rt); err != nil {
				return res, fmt.Errorf("%s: setup %s: %w", sc.name, rt.name, err)
			}
		}
	}
	for round := -sc.warmup; round < sc.rounds; round++ {
		for _, rt := range b.rts {
			if err := rt.resetLog(); err != nil {
				return res, err
			}
			s, err := sc.measure(rt, b.nextID(tag, rt))
			if err != nil {
				return res, fmt.Errorf("%s: round %d: %w", sc.name, round, err)
			}
			if round >= 0 {
				res.samples[rt.name] = append(res.samples[rt.name], s)
			}
			reapOrphans()
		}
	}
	return res, nil
}

// checkLeftovers fails if a runtime left a container in its root, a cgroup, or a live
// process; it removes what it finds so that the next scenario starts clean.
func (b *bench) checkLeftovers() error {
	var problems []string
	for _, rt := range b.rts {
		ids, err := rt.leftovers()
		if err != nil {
			return err
		}
		for _, id := range ids {
			problems = append(problems, fmt.Sprintf("%s left container %s", rt.name, id))
			if p, err := rt.start("delete", "--force", id); err == nil {
				_, _ = rt.finish(p)
			}
		}
	}
	reapOrphans()
	if err := clearView(); err != nil {
		return err
	}
	cgs, err := cgroupLeftovers(b.bundles.prefix)
	if err != nil {
		return err
	}
	for _, cg := range cgs {
		problems = append(problems, "cgroup left: "+cg)
		if err := removeCgroup(cg); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if pids := liveChildren(); len(pids) > 0 {
		problems = append(problems, "processes left: "+strings.Join(pids, " "))
	}
	if len(problems) > 0 {
		return errors.New("left behind: " + strings.Join(problems, "; "))
	}
	return nil
}
