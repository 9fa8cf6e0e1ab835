package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/husk-runtime/husk/libcontainer"
)

var checkpointCommand = &cli.Command{
	Name:  "checkpoint",
	Usage: "checkpoint a running container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
	Description: `The checkpoint command saves the state of the container instance (with criu).`,
	Flags: append([]cli.Flag{
		&cli.StringFlag{Name: "parent-path", Usage: "path for previous criu image files in pre-dump (relative to --image-path)"},
		&cli.BoolFlag{Name: "leave-running", Usage: "leave the process running after checkpointing"},
		&cli.BoolFlag{Name: "tcp-skip-in-flight", Usage: "skip in-flight tcp connections"},
		&cli.BoolFlag{Name: "link-remap", Usage: "allow one to link unlinked files back when possible"},
		&cli.IntFlag{Name: "status-fd", Value: -1, Usage: "criu writes \\0 to this FD once lazy-pages is ready"},
		&cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
		&cli.BoolFlag{Name: "pre-dump", Usage: "dump container's memory information only, leave the container running after this"},
	}, criuFlags...),
	Action: func(c *cli.Context) error {
		return withContainer(c, func(ctr *libcontainer.Container) error {
			opts, err := checkpointOpts(c)
			if err != nil {
				return err
			}
			err = ctr.Checkpoint(opts)
			var dumped *libcontainer.ErrDumped
			if err != nil && !errors.As(err, &dumped) {
				return err // the container runs on
			}
			if !opts.LeaveRunning && !opts.PreDump {
				// criu stopped the processes (also when it failed after the images were
				// complete): the container is gone, as with runc.
				if err := ctr.RemoveDumped(); err != nil {
					slog.Warn("checkpoint: delete the checkpointed container", "id", ctr.State.ID, "error", err)
				}
			}
			return err
		})
	},
}

// criuFlags are the flags checkpoint and restore share.
var criuFlags = []cli.Flag{
	&cli.StringFlag{Name: "image-path", Usage: "path to the criu image files (default: ./checkpoint)"},
	&cli.StringFlag{Name: "work-path", Usage: "path for criu's work files and log (default: the image path)"},
	&cli.BoolFlag{Name: "tcp-established", Usage: "allow open tcp connections"},
	&cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
	&cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs"},
	&cli.BoolFlag{Name: "lazy-pages", Usage: "use userfaultfd to lazily restore memory pages"},
	&cli.BoolFlag{Name: "file-locks", Usage: "handle file locks, for safety"},
	&cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft|full|strict|ignore (default: soft)"},
	&cli.StringSliceFlag{Name: "empty-ns", Usage: "create a namespace, but don't restore its properties (network only)"},
	&cli.BoolFlag{Name: "auto-dedup", Usage: "enable auto deduplication of memory images"},
}

// criuOpts reads the shared flags. Paths are made absolute against the working directory;
// the image path defaults to ./checkpoint, as runc's.
func criuOpts(c *cli.Context) (libcontainer.CriuOpts, error) {
	img := c.String("image-path")
	if img == "" {
		img = "checkpoint"
	}
	img, err := filepath.Abs(img)
	if err != nil {
		return libcontainer.CriuOpts{}, fmt.Errorf("--image-path: %w", err)
	}
	work := c.String("work-path")
	if work != "" {
		if work, err = filepath.Abs(work); err != nil {
			return libcontainer.CriuOpts{}, fmt.Errorf("--work-path: %w", err)
		}
	}
	// husk manages no network devices: the network namespace is always made empty and left
	// to whoever sets it up (runc's default too). --empty-ns can only say so again.
	emptyNs := uint32(unix.CLONE_NEWNET)
	for _, ns := range c.StringSlice("empty-ns") {
		if ns != "network" {
			return libcontainer.CriuOpts{}, fmt.Errorf("--empty-ns: namespace %q is not supported (only network)", ns)
		}
	}
	return libcontainer.CriuOpts{
		CriuPath:          c.String("criu"),
		ImagePath:         img,
		WorkPath:          work,
		TCPEstablished:    c.Bool("tcp-established"),
		ExtUnixSk:         c.Bool("ext-unix-sk"),
		ShellJob:          c.Bool("shell-job"),
		FileLocks:         c.Bool("file-locks"),
		ManageCgroupsMode: c.String("manage-cgroups-mode"),
		EmptyNs:           emptyNs,
		AutoDedup:         c.Bool("auto-dedup"),
		LazyPages:         c.Bool("lazy-pages"),
	}, nil
}

func checkpointOpts(c *cli.Context) (libcontainer.CheckpointOpts, error) {
	common, err := criuOpts(c)
	if err != nil {
		return libcontainer.CheckpointOpts{}, err
	}
	o := libcontainer.CheckpointOpts{
		CriuOpts:        common,
		ParentPath:      c.String("parent-path"),
		LeaveRunning:    c.Bool("leave-running"),
		PreDump:         c.Bool("pre-dump"),
		TCPSkipInFlight: c.Bool("tcp-skip-in-flight"),
		LinkRemap:       c.Bool("link-remap"),
	}
	if fd := c.Int("status-fd"); fd != -1 {
		f, err := statusFile(fd, o.LazyPages)
		if err != nil {
			return o, err
		}
		o.Status = f
	}
	if ps := c.String("page-server"); ps != "" {
		host, port, err := net.SplitHostPort(ps)
		if err != nil || host == "" || port == "" {
			return o, fmt.Errorf("--page-server %q: want ADDRESS:PORT", ps)
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return o, fmt.Errorf("--page-server %q: invalid port %q", ps, port)
		}
		o.PageServerAddr, o.PageServerPort = host, int32(n)
	}
	if o.ParentPath != "" {
		// criu takes it relative to the image directory (it becomes the "parent" link).
		if filepath.IsAbs(o.ParentPath) {
			return o, errors.New("--parent-path must be relative (to --image-path)")
		}
		parent := filepath.Join(o.ImagePath, o.ParentPath)
		fi, err := os.Stat(parent)
		if err == nil && !fi.IsDir() {
			err = &os.PathError{Op: "stat", Path: parent, Err: unix.ENOTDIR}
		}
		if err != nil {
			return o, fmt.Errorf("invalid --parent-path: %w", err)
		}
	}
	return o, nil
}

// statusFile is the --status-fd the caller opened for criu's lazy-pages "ready" byte: it must
// be open for writing, and only --lazy-pages writes it (runc ignores it otherwise; husk refuses
// a flag it would ignore).
func statusFile(fd int, lazy bool) (*os.File, error) {
	if !lazy {
		return nil, fmt.Errorf("--status-fd %d: only used with --lazy-pages", fd)
	}
	if fd < 0 {
		return nil, fmt.Errorf("--status-fd %d: not a file descriptor", fd)
	}
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return nil, fmt.Errorf("--status-fd %d: %w", fd, err)
	}
	if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
		return nil, fmt.Errorf("--status-fd %d: not open for writing", fd)
	}
	return os.NewFile(uintptr(fd), "status-fd"), nil
}
