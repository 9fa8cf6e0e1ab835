package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container and everything it holds",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it is running"},
	},
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		return deleteContainer(c.String("root"), id, c.Bool("force"))
	},
}

func deleteContainer(root, id string, force bool) error {
	ctr, err := libcontainer.Load(root, id)
	if err != nil {
		if errors.Is(err, libcontainer.ErrNotExist) {
			// A create that died before saving its state leaves only the directory.
			if libcontainer.ValidateID(id) == nil {
				if e := os.RemoveAll(filepath.Join(root, id)); e != nil {
					return fmt.Errorf("remove %s: %w", filepath.Join(root, id), e)
				}
			}
			if force {
				return nil
			}
		}
		return err
	}
	defer ctr.Close()
	return ctr.Destroy(force)
}
