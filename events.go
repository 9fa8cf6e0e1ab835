package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/husk-runtime/husk/libcontainer"
)

// event is runc's events JSON: {"type":"stats"|"oom","id":...,"data":...}.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print container statistics and OOM events as JSON lines",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "how often to print stats"},
		&cli.BoolFlag{Name: "stats", Usage: "print the stats once and exit"},
	},
	Action: func(c *cli.Context) error {
		id, err := oneID(c)
		if err != nil {
			return err
		}
		interval := c.Duration("interval")
		if interval <= 0 {
			return errors.New("--interval must be greater than 0")
		}
		enc := json.NewEncoder(c.App.Writer)
		root := c.String("root")
		if c.Bool("stats") {
			st, err := readStats(root, id)
			if err != nil {
				return err
			}
			return enc.Encode(event{Type: "stats", ID: id, Data: st})
		}
		return streamEvents(root, id, interval, enc)
	},
}

func readStats(root, id string) (any, error) {
	ctr, err := libcontainer.Load(root, id)
	if err != nil {
		return nil, err
	}
	defer ctr.Close()
	return ctr.Stats()
}

// streamEvents prints stats every interval and an oom event whenever the cgroup's OOM kill
// count grows (checked every 100ms), until the container stops.
func streamEvents(root, id string, interval time.Duration, enc *json.Encoder) error {
	ctr, err := libcontainer.Load(root, id)
	if err != nil {
		return err
	}
	ooms, err := ctr.OOMKillCount()
	if errors.Is(err, libcontainer.ErrNoCgroup) && ctr.Status() != libcontainer.Stopped {
		// runc fails too: its OOM notifications need the memory controller.
		ctr.Close()
		return fmt.Errorf("events %s: OOM kills cannot be watched: %w", id, err)
	}
	ctr.Close()
	statsTick := time.NewTicker(interval)
	defer statsTick.Stop()
	oomTick := time.NewTicker(100 * time.Millisecond)
	defer oomTick.Stop()
	for {
		select {
		case <-statsTick.C:
			st, err := readStats(root, id)
			if err != nil {
				if errors.Is(err, libcontainer.ErrNotExist) {
					return nil
				}
				return fmt.Errorf("events %s: %w", id, err)
			}
			if err := enc.Encode(event{Type: "stats", ID: id, Data: st}); err != nil {
				return err
			}
		case <-oomTick.C:
			ctr, err := libcontainer.Load(root, id)
			if err != nil {
				return nil // deleted
			}
			stopped := ctr.Status() == libcontainer.Stopped
			n, err := ctr.OOMKillCount()
			ctr.Close()
			if err == nil && n > ooms {
				ooms = n
				if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
					return err
				}
			}
			if stopped {
				return nil
			}
		}
	}
}
