package main

import (
	"errors"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var restoreCommand = &cli.Command{
	Name:  "restore",
	Usage: "restore a container from a previous checkpoint",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
	Description: `Restores the saved state of the container instance that was previously saved
using the checkpoint command (with criu).`,
	Flags: append([]cli.Flag{
		bundleFlag, consoleSocketFlag, pidFileFlag, detachFlag, noSubreaperFlag,
		&cli.BoolFlag{Name: "no-pivot", Usage: "not supported: criu switches the restored container's root with pivot_root itself"},
		&cli.StringFlag{Name: "lsm-profile", Usage: "Specify an LSM profile to be used during restore in the form of TYPE:NAME."},
		&cli.StringFlag{Name: "lsm-mount-context", Usage: "Specify an LSM mount context to be used during restore."},
	}, criuFlags...),
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		if c.Bool("no-pivot") {
			return errors.New("--no-pivot: not supported by restore: criu restores the container's root with pivot_root itself")
		}
		rootless, err := rootlessCgroups(c)
		if err != nil {
			return err
		}
		common, err := criuOpts(c)
		if err != nil {
			return err
		}
		opts := libcontainer.RestoreOpts{
			CriuOpts: common, Root: c.String("root"), ID: id, Bundle: c.String("bundle"),
			ConsoleSocket: c.String("console-socket"), PidFile: c.String("pid-file"),
			LsmProfile: c.String("lsm-profile"), LsmMountContext: c.String("lsm-mount-context"),
			SystemdCgroup: c.Bool("systemd-cgroup"), RootlessCgroups: rootless,
		}
		detach := c.Bool("detach")
		if detach {
			ctr, err := libcontainer.Restore(opts)
			if err != nil {
				return err
			}
			ctr.Close()
			return nil
		}
		return restoreForeground(c, opts)
	},
}

// restoreForeground restores and then stays with the container as `run` does: signals are
// relayed, the terminal proxied, and once the init exits the container is deleted and husk
// exits with its status.
func restoreForeground(c *cli.Context, opts libcontainer.RestoreOpts) error {
	if !c.Bool("no-subreaper") {
		if err := becomeSubreaper(); err != nil {
			return err
		}
	}
	sigs := make(chan os.Signal, 128)
	// The restored processes run before Restore returns: signals are caught first.
	<-catchSignals(sigs)
	tty, err := foregroundTTY(opts.ConsoleSocket, opts.Bundle)
	if err != nil {
		return err
	}
	if tty != nil {
		opts.ConsoleConn = tty.child
	}
	ctr, err := libcontainer.Restore(opts)
	if err != nil {
		return err
	}
	if err := startTTY(ctr, tty); err != nil {
		return err
	}
	return stayForeground(ctr, opts.Root, sigs, tty, false)
}
