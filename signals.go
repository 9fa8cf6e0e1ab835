package main

import (
	"os"
	"os/signal"
)

// catchSignals starts catching every signal into sigs (for forwarding to the container) and
// returns a channel closed once that is in effect. signal.Notify of all signals costs one
// round trip to the Go runtime's signal-mask thread per signal, about a millisecond in all, so
// it runs while the caller creates the container; the caller waits on the channel before the
// container's process can run.
func catchSignals(sigs chan os.Signal) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		signal.Notify(sigs)
		close(done)
	}()
	return done
}
