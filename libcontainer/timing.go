package libcontainer

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// phaseTimer logs how long each phase of a create took, at debug level, so a slow start can be
// explained without a profiler. When debug logging is off it costs one branch per phase.
type phaseTimer struct {
	op      string
	enabled bool
	start   time.Time
	last    time.Time
}

func newPhaseTimer(op string) *phaseTimer {
	t := &phaseTimer{op: op, enabled: slog.Default().Enabled(context.Background(), slog.LevelDebug)}
	if t.enabled {
		t.start = time.Now()
		t.last = t.start
	}
	return t
}

func (t *phaseTimer) phase(name string) {
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
	last    time.Time
	b       strings.Builder
}

func (t *initTimer) phase(name string) {
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
