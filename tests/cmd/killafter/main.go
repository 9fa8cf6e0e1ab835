// Command killafter runs a command and SIGKILLs it after a delay, to interrupt a runtime at a
// chosen instant (a shell's `cmd & sleep D; kill -9 $!` cannot go below a few milliseconds, and
// kills a subshell, not the runtime, when the runtime is called through a shell function).
//
// Usage:
//
//	killafter DELAY COMMAND [ARG...]
//
// DELAY is a Go duration (300us, 2.5ms). The command inherits stdio. killafter waits for it and
// exits with its status in shell form: 137 when the kill got it, its own exit status when it
// finished first.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: killafter DELAY COMMAND [ARG...]")
		os.Exit(2)
	}
	delay, err := time.ParseDuration(os.Args[1])
	if err != nil || delay < 0 {
		fmt.Fprintf(os.Stderr, "killafter: bad delay %q\n", os.Args[1])
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "killafter: %v\n", err)
		os.Exit(127)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(delay):
		// The process may have exited a moment ago: ESRCH is fine, Wait tells.
		_ = cmd.Process.Signal(unix.SIGKILL)
		err = <-done
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(exit.ExitCode())
	}
	fmt.Fprintf(os.Stderr, "killafter: %v\n", err)
	os.Exit(127)
}
