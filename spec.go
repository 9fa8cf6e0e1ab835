package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/cgroups"
	"github.com/husk-runtime/husk/libcontainer"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json into the bundle directory",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: the current directory)"},
		&cli.BoolFlag{Name: "rootless", Usage: "generate a configuration for a rootless container"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() != 0 {
			return fmt.Errorf("spec: takes no arguments, got %d", c.NArg())
		}
		dir := c.String("bundle")
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, "config.json")
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("file %s exists: remove it first", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stat %s: %w", path, err)
		}
		spec := libcontainer.DefaultSpec()
		// As `runc spec`: a cgroup namespace on a pure cgroup v2 host, where the container then
		// sees its own cgroup as the root of the one hierarchy; none on a v1 host.
		if cgroups.DetectMode() == cgroups.Unified {
			spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		}
		if c.Bool("rootless") {
			libcontainer.ToRootless(spec, os.Geteuid(), os.Getegid())
		}
		data, err := json.MarshalIndent(spec, "", "\t")
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, append(data, '\n'), 0o666); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	},
}
