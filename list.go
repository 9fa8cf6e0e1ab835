package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

var listCommand = &cli.Command{
	Name:  "list",
	Usage: "list the containers under --root",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("--format: unknown format %q (want table or json)", format)
		}
		ids, err := libcontainer.List(c.String("root"))
		if err != nil {
			return err
		}
		// nil, not empty: with no containers the JSON is null, as runc prints it.
		var states []libcontainer.OCIState
		for _, id := range ids {
			ctr, err := libcontainer.Load(c.String("root"), id)
			if err != nil {
				continue // deleted meanwhile, or never finished creating
			}
			st := ctr.OCIState()
			st.Owner = owner(ctr.Dir)
			states = append(states, st)
			ctr.Close()
		}
		if c.Bool("quiet") {
			for _, s := range states {
				fmt.Fprintln(c.App.Writer, s.ID)
			}
			return nil
		}
		if format == "json" {
			return json.NewEncoder(c.App.Writer).Encode(states)
		}
		w := tabwriter.NewWriter(c.App.Writer, 12, 1, 3, ' ', 0)
		fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
		for _, s := range states {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
		}
		return w.Flush()
	},
}

// owner names the user who owns a container's state directory, as runc's list does (#uid
// when the name is unknown).
func owner(dir string) string {
	fi, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}
