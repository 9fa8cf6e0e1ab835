package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process inside a running container",
	ArgsUsage: "<container-id> [command [args...]]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "path to a process.json (runtime-spec Process)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY (needs --console-socket)"},
		&cli.StringFlag{Name: "console-socket", Usage: "AF_UNIX socket that receives the pty master"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process has started"},
		&cli.StringFlag{Name: "pid-file", Usage: "file to write the process's pid to"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory inside the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "add an environment variable NAME=value"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "uid[:gid] to run as"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional gid"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (bounding, effective, permitted, ambient)"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile for the process (default: the container's)"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label for the process (default: the container's)"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors (3 to 3+N-1)"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec into a paused container"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run in a sub-cgroup: [controller:]path"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket that receives a pidfd of the process"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return errors.New("exec: container id cannot be empty")
		}
		status, err := execAndWait(c)
		if err != nil {
			// As runc: 255 for a failure of husk itself, so that a caller can tell it
			// from the command's own exit status.
			return &exitCodeError{code: 255, err: err}
		}
		os.Exit(status)
		return nil
	},
}

// execAndWait runs the exec and, unless detached, waits for the process and returns its exit
// status.
func execAndWait(c *cli.Context) (int, error) {
	id := c.Args().First()
	if c.Int("preserve-fds") < 0 {
		return 0, errors.New("--preserve-fds must not be negative")
	}
	ctr, err := libcontainer.Load(c.String("root"), id)
	if err != nil {
		return 0, err
	}
	spec, err := ctr.State.ExecSpec()
	if err != nil {
		ctr.Close()
		return 0, err
	}
	proc, err := execProcess(c, spec.Process)
	if err != nil {
		ctr.Close()
		return 0, err
	}
	sub, err := parseSubCgroups(c.StringSlice("cgroup"))
	if err != nil {
		ctr.Close()
		return 0, err
	}
	detach := c.Bool("detach")
	sigs := make(chan os.Signal, 128)
	var caught <-chan struct{}
	if !detach {
		caught = catchSignals(sigs)
	}
	var tty *ttyProxy
	if proc.Terminal && !detach && c.String("console-socket") == "" {
		if tty, err = newTTYProxy(); err != nil {
			ctr.Close()
			return 0, err
		}
		// The process may read its window size first thing: it gets husk's own from
		// the start, not after the proxy is up.
		if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
			if size, err := cur.Size(); err == nil && size.Height > 0 && size.Width > 0 {
				proc.ConsoleSize = &specs.Box{Height: uint(size.Height), Width: uint(size.Width)}
			}
		}
	}
	opts := libcontainer.ExecOpts{
		Process: proc, ConsoleSocket: c.String("console-socket"), PidFile: c.String("pid-file"),
		PidfdSocket: c.String("pidfd-socket"),
		PreserveFds: c.Int("preserve-fds"), IgnorePaused: c.Bool("ignore-paused"), SubCgroups: sub,
		AppArmorProfile: c.String("apparmor"), ProcessLabel: c.String("process-label"),
	}
	if tty != nil {
		opts.ConsoleConn = tty.child
	}
	pid, err := ctr.Exec(opts)
	ctr.Close()
	if err != nil {
		return 0, err
	}
	if detach {
		return 0, nil
	}
	<-caught
	if tty != nil {
		if err := tty.start(); err != nil {
			return 0, err
		}
	}
	status := forwardAndWait(pid, sigs, tty)
	if tty != nil {
		tty.finish()
	}
	return status, nil
}

// execProcess builds the exec's process: the --process file, or the container's own process
// with the command line as args; then the flags apply over either. runc ignores the flags
// when --process is given; husk applies them (a flag accepted and ignored is a bug): a
// command line replaces the file's args, --tty sets terminal, --cwd, --env, --user and the rest
// as without the file. Clients that pass both (conmon: --process with --tty) pass flags that
// agree with the file.
func execProcess(c *cli.Context, base *specs.Process) (*specs.Process, error) {
	args := c.Args().Tail()
	var p specs.Process
	if path := c.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		if len(args) > 0 {
			p.Args = args
		}
		if c.IsSet("tty") {
			p.Terminal = c.Bool("tty")
		}
	} else {
		if len(args) == 0 {
			return nil, errors.New("exec: no command given (use [command] or --process)")
		}
		b, _ := json.Marshal(base)
		json.Unmarshal(b, &p)
		p.Args = args
		p.CommandLine = ""
		p.Terminal = c.Bool("tty")
		p.ConsoleSize = nil
	}
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	p.Env = append(p.Env, c.StringSlice("env")...)
	if u := c.String("user"); u != "" {
		uidStr, gidStr, hasGid := strings.Cut(u, ":")
		uid, err := strconv.ParseUint(uidStr, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: uid must be a number", u)
		}
		p.User.UID = uint32(uid)
		if hasGid {
			gid, err := strconv.ParseUint(gidStr, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: gid must be a number", u)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 || g > 1<<32-1 {
			return nil, fmt.Errorf("--additional-gids %d: out of range", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		// Never inheritable: that would let the process pass them on through execve of
		// programs with file capabilities (CVE-2022-29162).
		for _, name := range caps {
			p.Capabilities.Bounding = append(p.Capabilities.Bounding, name)
			p.Capabilities.Effective = append(p.Capabilities.Effective, name)
			p.Capabilities.Permitted = append(p.Capabilities.Permitted, name)
			p.Capabilities.Ambient = append(p.Capabilities.Ambient, name)
		}
	}
	if c.Bool("no-new-privs") {
		p.NoNewPrivileges = true
	}
	return &p, nil
}

func parseSubCgroups(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, item := range list {
		ctrl, path, ok := strings.Cut(item, ":")
		if !ok {
			ctrl, path = "", item
		}
		if path == "" {
			return nil, fmt.Errorf("--cgroup %q: empty path", item)
		}
		for _, c := range strings.Split(ctrl, ",") {
			if _, dup := out[c]; dup {
				return nil, fmt.Errorf("--cgroup %q: controller %q given twice", item, c)
			}
			out[c] = path
		}
	}
	return out, nil
}
