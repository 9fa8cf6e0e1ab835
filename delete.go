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
		if force {
			// No usable state.json (a create that died before saving it, or a damaged
			// file): clean up what the id alone names.
			if e := libcontainer.ForceRemove(root, id); e != nil {
				return fmt.Errorf("%v; force removal: %w", err, e)
			}
			return nil
		}
		if errors.Is(err, libcontainer.ErrNotExist) && libcontainer.ValidateID(id) == nil {
			// A create that died before saving its state leaves only the directory.
			if e := os.RemoveAll(filepath.Join(root, id)); e != nil {
				return fmt.Errorf("remove %s: %w", filepath.Join(root, id), e)
			}
			return err
		}
		if !errors.Is(err, libcontainer.ErrNotExist) {
			return fmt.Errorf("%w (delete --force removes what the id names)", err)
		}
		return err
	}
	defer ctr.Close()
	return ctr.Destroy(force)
}
