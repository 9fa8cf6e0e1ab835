package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

// oneID returns the single container id argument of a command.
func oneID(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "", errors.New(c.Command.Name + ": container id cannot be empty")
	case 1:
		return c.Args().First(), nil
	}
	return "", fmt.Errorf("%s: expected exactly one container id, got %d arguments", c.Command.Name, c.NArg())
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
