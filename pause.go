package main

import (
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		return withContainer(c, (*libcontainer.Container).Pause)
	},
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		return withContainer(c, (*libcontainer.Container).Resume)
	},
}

// withContainer loads the container named by the only argument, runs fn and releases it.
func withContainer(c *cli.Context, fn func(*libcontainer.Container) error) error {
	id, err := oneID(c)
	if err != nil {
		return err
	}
	ctr, err := libcontainer.Load(c.String("root"), id)
	if err != nil {
		return err
	}
	defer ctr.Close()
	return fn(ctr)
}
