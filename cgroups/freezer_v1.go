package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// freezeV1 writes FROZEN until the kernel reports FROZEN. A cgroup whose
// processes keep forking can stay FREEZING; an occasional thaw gives the
// freeze a fresh start, and if it never settles the cgroup is thawed again
// rather than left half frozen.
func freezeV1(dir string) error {
	for i := 0; i < 1000; i++ {
		if i%50 == 49 {
			_ = writeFile(dir, "freezer.state", string(Thawed))
			time.Sleep(10 * time.Millisecond)
		}
		if err := writeFile(dir, "freezer.state", string(Frozen)); err != nil {
			return err
		}
		if i%25 == 24 {
			time.Sleep(10 * time.Microsecond)
		}
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			return err
		}
		switch strings.TrimSpace(s) {
		case "FREEZING":
			continue
		case string(Frozen):
			return nil
		default:
			return fmt.Errorf("freeze %s: unexpected freezer.state %q after writing FROZEN", dir, strings.TrimSpace(s))
		}
	}
	_ = writeFile(dir, "freezer.state", string(Thawed))
	return fmt.Errorf("freeze %s: still FREEZING after 1000 attempts, thawed it again", dir)
}

// freezerStateV1 reports the cgroup's own freezer state: a cgroup frozen
// only because an ancestor is frozen counts as thawed, as in runc.
func freezerStateV1(dir string) (FreezerState, error) {
	for {
		s, err := readFile(dir, "freezer.state")
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return Undefined, nil
			}
			return Undefined, err
		}
		switch strings.TrimSpace(s) {
		case "THAWED":
			return Thawed, nil
		case "FREEZING":
			// Settles quickly; report a stable state.
			time.Sleep(time.Millisecond)
			continue
		case "FROZEN":
			self, err := readFile(dir, "freezer.self_freezing")
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return Frozen, nil
				}
				return Undefined, err
			}
			switch strings.TrimSpace(self) {
			case "0":
				return Thawed, nil
			case "1":
				return Frozen, nil
			}
			return Undefined, fmt.Errorf("unexpected %s/freezer.self_freezing %q", dir, self)
		}
		return Undefined, fmt.Errorf("unexpected %s/freezer.state %q", dir, s)
	}
}
