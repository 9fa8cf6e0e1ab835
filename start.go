package main

import (
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start a created container: its process runs",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		// Locked as it is loaded: Start needs the lock, and state.json is read once.
		ctr, err := libcontainer.LoadLocked(c.String("root"), id)
		if err != nil {
			return err
		}
		return ctr.Start()
	},
}
