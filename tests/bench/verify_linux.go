package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// verify proves, for every runtime, that a run really runs the container: the workload's
// output comes back, and its exit code comes back unchanged, so that the exit code 0 every
// measured call is checked for can only mean /bin/true ran.
func (b *bench) verify() (err error) {
	defer func() {
		reapOrphans()
		if lerr := b.checkLeftovers(); lerr != nil && err == nil {
			err = fmt.Errorf("verify: %w", lerr)
		}
	}()
	for _, rt := range b.rts {
		token := "husk-bench-ran-" + rt.name
		echo, err := b.bundles.write("verify-echo-"+rt.name, variant{args: []string{"/bin/echo", token}, netns: true})
		if err != nil {
			return err
		}
		if err := rt.resetLog(); err != nil {
			return err
		}
		if _, err := rt.call("run", "--bundle", echo, b.nextID("verify", rt)); err != nil {
			return fmt.Errorf("verify %s: %w", rt.name, err)
		}
		out, err := os.ReadFile(rt.log)
		if err != nil {
			return fmt.Errorf("verify %s: read output: %w", rt.name, err)
		}
		if !strings.Contains(string(out), token) {
			return fmt.Errorf("verify %s: the container did not print %q; output: %q", rt.name, token, out)
		}
		exit3, err := b.bundles.write("verify-exit-"+rt.name, variant{args: []string{"/bin/sh", "-c", "exit 3"}, netns: true})
		if err != nil {
			return err
		}
		_, err = rt.call("run", "--bundle", exit3, b.nextID("verify", rt))
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			return fmt.Errorf("verify %s: a container exiting 3 gave %v, want exit status 3", rt.name, err)
		}
		reapOrphans()
	}
	return nil
}
