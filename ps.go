package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container (ps(1) arguments may follow the id)",
	ArgsUsage: "<container-id> [ps options]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		if c.NArg() < 1 {
			return fmt.Errorf("ps: container id cannot be empty")
		}
		ctr, err := libcontainer.Load(c.String("root"), c.Args().First())
		if err != nil {
			return err
		}
		pids, err := ctr.Pids()
		ctr.Close()
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "json":
			// No processes print as null, as in runc.
			return json.NewEncoder(c.App.Writer).Encode(pids)
		case "table":
		default:
			return fmt.Errorf("--format: unknown format %q (want table or json)", c.String("format"))
		}
		psArgs := c.Args().Tail()
		if len(psArgs) == 0 {
			psArgs = []string{"-ef"}
		}
		out, err := exec.Command("ps", psArgs...).Output()
		if err != nil {
			return fmt.Errorf("run ps %s: %w", strings.Join(psArgs, " "), err)
		}
		return printPsLines(c, string(out), pids)
	},
}

// printPsLines prints ps's header and the lines whose PID column is a pid of the container.
func printPsLines(c *cli.Context, out string, pids []int) error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps output has no PID column: %q", lines[0])
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Fprintln(c.App.Writer, lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
			fmt.Fprintln(c.App.Writer, l)
		}
	}
	return nil
}
