package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/libcontainer"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; in the foreground, wait for it and delete it",
	ArgsUsage: "<container-id>",
	Flags: append(append([]cli.Flag{}, createFlags...),
		detachFlag,
		&cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		noSubreaperFlag,
	),
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		opts, err := createOpts(c, id)
		if err != nil {
			return err
		}
		detach := c.Bool("detach")
		if detach && c.Bool("keep") {
			return errors.New("--keep cannot be used with --detach")
		}
		if !detach && !c.Bool("no-subreaper") {
			if err := becomeSubreaper(); err != nil {
				return err
			}
		}
		// Signals are caught before the container starts, so none is lost between start and
		// wait (catching begins now and is in effect before Start).
		sigs := make(chan os.Signal, 128)
		var caught <-chan struct{}
		if !detach {
			caught = catchSignals(sigs)
		}
		var tty *ttyProxy
		if !detach {
			if tty, err = foregroundTTY(opts.ConsoleSocket, opts.Bundle); err != nil {
				return err
			}
			if tty != nil {
				opts.ConsoleConn = tty.child
			}
		}
		ctr, err := libcontainer.Create(opts)
		if err != nil {
			return err
		}
		if err := startTTY(ctr, tty); err != nil {
			return err
		}
		if tty != nil {
			defer tty.finish()
		}
		if caught != nil {
			<-caught
		}
		if err := ctr.Start(); err != nil {
			ctr.Destroy(true)
			ctr.Close()
			return err
		}
		if detach {
			ctr.Close()
			return nil
		}
		return stayForeground(ctr, c.String("root"), sigs, tty, c.Bool("keep"))
	},
}

// foregroundTTY is husk's own terminal proxy for a container in the foreground that wants a
// terminal and was given no console socket; nil otherwise.
func foregroundTTY(consoleSocket, bundle string) (*ttyProxy, error) {
	if consoleSocket != "" || !specWantsTerminal(bundle) {
		return nil, nil
	}
	return newTTYProxy()
}

// startTTY starts proxying the terminal of a container just made (when there is a proxy); on
// failure the container is removed.
func startTTY(ctr *libcontainer.Container, tty *ttyProxy) error {
	if tty == nil {
		return nil
	}
	if err := tty.start(); err != nil {
		ctr.Destroy(true)
		ctr.Close()
		return err
	}
	return nil
}

// stayForeground is what run and restore do once the container's process runs in the
// foreground: release the container's lock (so that state, kill and exec reach it), relay
// signals until the init exits, delete the container unless keep, and exit with the init's
// status. Signals stay caught (and are dropped) until then: undoing the catch would cost as
// much as setting it up.
func stayForeground(ctr *libcontainer.Container, root string, sigs chan os.Signal, tty *ttyProxy, keep bool) error {
	pid, id, bundle := ctr.State.InitPid, ctr.State.ID, ctr.State.Bundle
	ctr.Close()
	status := forwardAndWait(pid, sigs, tty)
	if tty != nil {
		tty.finish()
	}
	if !keep {
		// The poststop hooks run in the working directory of whoever deletes the container:
		// for run and restore that is the bundle, as runc's (which work there all along).
		if err := os.Chdir(bundle); err != nil {
			slog.Warn("poststop hooks run outside the bundle", "error", err)
		}
		if err := libcontainer.Delete(root, id, true); err != nil {
			return err
		}
	}
	os.Exit(status)
	return nil
}

// forwardAndWait relays signals to the init and reaps children until the init exits; it
// returns the exit code husk should exit with (128+N for a signal, as a shell reports it).
func forwardAndWait(pid int, sigs chan os.Signal, tty *ttyProxy) int {
	for {
		// Reap everything that has exited; orphans of the container land here as subreaper.
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil || wpid <= 0 {
				break
			}
			if wpid == pid {
				if ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ws.ExitStatus()
			}
		}
		s := <-sigs
		sig := s.(unix.Signal)
		switch sig {
		case unix.SIGWINCH:
			if tty != nil {
				tty.resize()
			}
			continue
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			// SIGCHLD: loop to reap. SIGURG is the Go runtime's own preemption signal.
			continue
		}
		unix.Kill(pid, sig)
	}
}

// specWantsTerminal reads only process.terminal of the bundle's config (the full load and
// validation happen in create).
func specWantsTerminal(bundle string) bool {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return false
	}
	var s struct {
		Process *struct {
			Terminal bool `json:"terminal"`
		} `json:"process"`
	}
	return json.Unmarshal(data, &s) == nil && s.Process != nil && s.Process.Terminal
}

// becomeSubreaper makes husk the reaper of the container's orphans while it waits in the
// foreground (run, restore without --no-subreaper).
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become the child subreaper (prctl PR_SET_CHILD_SUBREAPER): %w", err)
	}
	return nil
}
