package main

import (
	"errors"
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

// Flags of create, run and restore, as runc names them.
var (
	bundleFlag        = &cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "path to the root of the bundle directory"}
	consoleSocketFlag = &cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive the pty master"}
	pidFileFlag       = &cli.StringFlag{Name: "pid-file", Usage: "file to write the init's pid to"}
	// Of run and restore: what they do in the foreground.
	detachFlag      = &cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container runs, without waiting for it"}
	noSubreaperFlag = &cli.BoolFlag{Name: "no-subreaper", Usage: "do not make husk a subreaper for the container's orphans"}
)

// Flags shared by create and run.
var createFlags = []cli.Flag{
	bundleFlag, consoleSocketFlag, pidFileFlag,
	&cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot_root to jail the process inside rootfs (MS_MOVE + chroot instead)"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass N additional file descriptors to the container (fds 3 to 3+N-1)"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket that receives a pidfd of the container's init"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		opts, err := createOpts(c, id)
		if err != nil {
			return err
		}
		ctr, err := libcontainer.Create(opts)
		if err != nil {
			return err
		}
		ctr.Close()
		return nil
	},
}

func createOpts(c *cli.Context, id string) (libcontainer.CreateOpts, error) {
	n := c.Int("preserve-fds")
	if n < 0 {
		return libcontainer.CreateOpts{}, errors.New("--preserve-fds must not be negative")
	}
	rootless, err := rootlessCgroups(c)
	if err != nil {
		return libcontainer.CreateOpts{}, err
	}
	return libcontainer.CreateOpts{
		Root:            c.String("root"),
		ID:              id,
		Bundle:          c.String("bundle"),
		PidFile:         c.String("pid-file"),
		ConsoleSocket:   c.String("console-socket"),
		NoPivot:         c.Bool("no-pivot"),
		NoNewKeyring:    c.Bool("no-new-keyring"),
		PreserveFds:     n,
		PidfdSocket:     c.String("pidfd-socket"),
		SystemdCgroup:   c.Bool("systemd-cgroup"),
		RootlessCgroups: rootless,
	}, nil
}
