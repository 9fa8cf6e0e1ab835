package libcontainer

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// phaseTimer logs how long each phase of a create took, at debug level, so a slow start can be
// explained without a profiler. When debug logging is off it costs one branch per phase.
type phaseTimer struct {
	op      string
	enabled bool
	killAt  string // test hook, see testKillAt
	start   time.Time
	last    time.Time
}

func newPhaseTimer(op string) *phaseTimer {
	t := &phaseTimer{op: op, enabled: slog.Default().Enabled(context.Background(), slog.LevelDebug), killAt: testKillAt()}
	if t.enabled {
		t.start = time.Now()
		t.last = t.start
	}
	return t
}

func (t *phaseTimer) phase(name string) {
	if t.killAt != "" && t.killAt == t.op+":"+name {
		killSelf()
	}
	if !t.enabled {
		return
	}
	now := time.Now()
	slog.Debug("phase", "op", t.op, "phase", name, "side", "parent", "duration", now.Sub(t.last))
	t.last = now
}

// merge logs the init's own phases, sent as "name=duration;..." in its ready message.
func (t *phaseTimer) merge(report string) {
	if !t.enabled || report == "" {
		return
	}
	for _, item := range strings.Split(report, ";") {
		name, dur, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		d, _ := time.ParseDuration(dur)
		slog.Debug("phase", "op", t.op, "phase", name, "side", "init", "duration", d)
	}
}

func (t *phaseTimer) done() {
	if t.enabled {
		slog.Debug("done", "op", t.op, "total", time.Since(t.start))
	}
}

// initTimer collects the init's phases for the ready message.
type initTimer struct {
	enabled bool
	killAt  string // "<phase>" from initConfig.TestKillAt
	last    time.Time
	b       strings.Builder
}

func (t *initTimer) phase(name string) {
	if t.killAt != "" && t.killAt == name {
		// The init is often PID 1 of its namespace, which cannot SIGKILL itself: it dies
		// as abruptly by exit_group.
		unix.Exit(137)
	}
	if !t.enabled {
		return
	}
	now := time.Now()
	if !t.last.IsZero() {
		if t.b.Len() > 0 {
			t.b.WriteByte(';')
		}
		t.b.WriteString(name + "=" + now.Sub(t.last).String())
	}
	t.last = now
}

// testKillAt reads _HUSK_TEST_KILL_AT="<op>:<phase>" (e.g. "create:spawn init"): husk kills
// itself with SIGKILL right after that phase, so the fault tests can check that every
// half-done operation is cleaned up by a later delete. It is read once per operation.
func testKillAt() string {
	return os.Getenv("_HUSK_TEST_KILL_AT")
}

func killSelf() {
	unix.Kill(os.Getpid(), unix.SIGKILL)
	select {} // the signal is on its way
}
