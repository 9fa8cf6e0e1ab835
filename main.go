// husk is an OCI container runtime with runc's command line.
//
// The Go runtime would otherwise size GOMAXPROCS from the CPU quota of husk's cgroup and keep
// its cgroup files open to follow changes: in `husk init` those fds would sit inside the
// container's cgroup until exec. With these settings they are read once at start and closed.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/libcontainer"
	_ "github.com/husk-runtime/husk/nsenter" // runs before the Go runtime in `husk init`
	"github.com/husk-runtime/husk/seccomp"
)

// Set with -ldflags "-X main.version=... -X main.gitCommit=...".
var (
	version   = "0.1.0"
	gitCommit = ""
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init() // never returns
	}
	if libcontainer.IsUsernsHolder() {
		libcontainer.HoldUserns() // never returns: the user namespace of an id-mapped mount
	}
	// fds the caller left open without close-on-exec would otherwise reach every init husk
	// starts; the ones a container should get (--preserve-fds, LISTEN_FDS) are passed on
	// explicitly.
	unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	app := newApp()
	if err := app.Run(reorderArgs(app, os.Args)); err != nil {
		fail(err)
	}
}

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "husk version %s\n", version)
		if gitCommit != "" {
			fmt.Fprintf(c.App.Writer, "commit: %s\n", gitCommit)
		}
		fmt.Fprintf(c.App.Writer, "spec: %s\ngo: %s\nlibseccomp: %s\n", specs.Version, runtime.Version(), seccomp.Version())
	}
	root, _ := defaultRoot()
	return &cli.App{
		Name:                 "husk",
		Usage:                "Open Container Initiative runtime, a drop-in for runc",
		Version:              version,
		EnableBashCompletion: false,
		HideHelpCommand:      true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: root, Usage: "root directory for storage of container state (default: /run/husk, or $XDG_RUNTIME_DIR/husk for a user other than root)"},
			&cli.StringFlag{Name: "log", Usage: "write the runtime's log to this file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "enable debug logging, with the duration of each start-up phase"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "create the container's cgroup as a transient systemd unit (cgroupsPath \"slice:prefix:name\")"},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
			&cli.StringFlag{Name: "criu", Hidden: true, Usage: "path to the criu binary for checkpoint and restore (default: criu in $PATH), as runc 1.1 had it"},
		},
		Before: setup,
		Commands: []*cli.Command{
			createCommand, startCommand, runCommand, stateCommand, killCommand, deleteCommand,
			listCommand, specCommand, pauseCommand, resumeCommand, psCommand, eventsCommand, updateCommand, execCommand, featuresCommand,
			checkpointCommand, restoreCommand,
		},
		ExitErrHandler: func(*cli.Context, error) {},
		CommandNotFound: func(_ *cli.Context, name string) {
			fail(fmt.Errorf("unknown command %q (see husk --help)", name))
		},
	}
}

// setup configures logging and refuses global flags that would change behaviour husk lacks.
func setup(c *cli.Context) error {
	var out io.Writer = os.Stderr
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open --log %s: %w", path, err)
		}
		out = f
	}
	level := slog.LevelInfo
	if c.Bool("debug") {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: logAttr}
	switch c.String("log-format") {
	case "text":
		slog.SetDefault(slog.New(slog.NewTextHandler(out, opts)))
	case "json":
		slog.SetDefault(slog.New(slog.NewJSONHandler(out, opts)))
	default:
		return fmt.Errorf("--log-format: unknown format %q (want text or json)", c.String("log-format"))
	}
	logToFile = c.String("log") != ""
	if _, err := rootlessCgroups(c); err != nil {
		return err
	}
	if _, xdg := defaultRoot(); xdg && !c.IsSet("root") && c.Args().Present() {
		if err := makeXDGRoot(c.String("root")); err != nil {
			return err
		}
	}
	return nil
}

// logAttr writes levels in lower case, the way containerd expects runc's JSON lines.
func logAttr(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
	}
	return a
}

var logToFile bool

// exitCodeError makes husk exit with code instead of 1.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

// fail reports an error once and exits 1, or the code an exitCodeError carries. With --log,
// containerd reads the error from the log file; the message also goes to stderr for people.
func fail(err error) {
	if logToFile {
		slog.Error(err.Error())
	}
	fmt.Fprintf(os.Stderr, "husk: %v\n", err)
	code := 1
	var ec *exitCodeError
	if errors.As(err, &ec) {
		code = ec.code
	}
	os.Exit(code)
}
