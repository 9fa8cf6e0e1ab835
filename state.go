package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print the state of a container as JSON",
	ArgsUsage: "<container-id>",
	Action: func(c *cli.Context) error {
		return withContainer(c, func(ctr *libcontainer.Container) error {
			out, err := json.MarshalIndent(ctr.OCIState(), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, string(out))
			return nil
		})
	},
}
