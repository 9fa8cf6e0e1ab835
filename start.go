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
		return withContainer(c, (*libcontainer.Container).Start)
	},
}
