// Package userns answers what husk asks about the user namespace it runs in: whether it is
// the host's, and which host uid its own uid is. /proc/self/uid_map is read once per process:
// a process cannot change its user namespace once the Go runtime runs (setns into one needs
// a single thread; husk init's nsenter joins before Go starts), and a rootless create asks
// several times (the default --root, --rootless auto, the systemd user bus, the device rules).
package userns

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

var uidMap = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return "", fmt.Errorf("read /proc/self/uid_map: %w", err)
	}
	return string(b), nil
})

// Running says whether this process is in a user namespace other than the host's (as podman
// runs a runtime for an unprivileged user: euid 0 in a namespace of its own). A uid_map that
// cannot be read says no.
func Running() bool {
	m, err := uidMap()
	if err != nil {
		return false
	}
	f := strings.Fields(m)
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// OwnerUID is the uid this process has outside its user namespace: its own uid on the host,
// or in a user namespace the uid its uid maps to (what a session bus sees it as).
func OwnerUID() (int, error) {
	m, err := uidMap()
	if err != nil {
		return 0, err
	}
	uid, ok := mapToParent(m, os.Getuid())
	if !ok {
		return 0, fmt.Errorf("uid %d is not in /proc/self/uid_map", os.Getuid())
	}
	return uid, nil
}

// mapToParent translates id through a uid_map ("inside outside count" lines).
func mapToParent(uidMap string, id int) (int, bool) {
	for _, line := range strings.Split(uidMap, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.ParseInt(f[0], 10, 64)
		out, err2 := strconv.ParseInt(f[1], 10, 64)
		n, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if int64(id) >= in && int64(id)-in < n {
			return int(out + int64(id) - in), true
		}
	}
	return 0, false
}
