package libcontainer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hookPlace is what a hook starts with besides its own path, args and env: a working
// directory (empty: husk's own) and the environment of a hook that sets none (nil: an
// empty one). The hooks the init runs take theirs from the container, as in runc.
type hookPlace struct {
	dir string
	env []string
}

// runHooks runs each hook in order with the state on its stdin; the first failure stops them.
// The hooks husk runs on the host work in the bundle directory, as runc's (its create, run and
// restore change into the bundle; relative paths in a hook resolve there).
func runHooks(kind string, hooks []specs.Hook, st OCIState) error {
	return runHookList(kind, hooks, st, hookPlace{dir: st.Bundle}, false)
}

// runHooksAt is runHooks with a working directory and default environment.
func runHooksAt(kind string, hooks []specs.Hook, st OCIState, at hookPlace) error {
	return runHookList(kind, hooks, st, at, false)
}

// runHooksWarn runs every hook even when one fails, logging each failure as a warning: what
// the runtime-spec asks for poststart and poststop hooks. They work in dir: the bundle for
// poststart, the caller's own (empty) for the poststop hooks of delete, as runc's.
func runHooksWarn(kind string, hooks []specs.Hook, st OCIState, dir string) {
	runHookList(kind, hooks, st, hookPlace{dir: dir}, true)
}

func runHookList(kind string, hooks []specs.Hook, st OCIState, at hookPlace, warn bool) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runHook(h, state, at); err != nil {
			err = fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
			if !warn {
				return err
			}
			slog.Warn(err.Error())
		}
	}
	return nil
}

func runHook(h specs.Hook, state []byte, at hookPlace) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = at.env
	}
	if cmd.Env == nil {
		cmd.Env = []string{} // not husk's own (what os/exec does with nil)
	}
	cmd.Dir = at.dir
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
