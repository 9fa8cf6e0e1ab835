package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/sys/mountinfo"
)

// mountPoint is where one hierarchy is mounted and which of its cgroups
// forms the mount's root.
type mountPoint struct {
	dir  string // e.g. /sys/fs/cgroup/memory
	root string // mountinfo root, "/" unless a cgroup namespace or bind mount says otherwise
}

// layout describes the hierarchies a manager works in. Tests build one over a
// temporary directory; production reads it from the host.
type layout struct {
	mode Mode
	// v1 maps a controller ("memory", "cpu", "name=systemd") to its mount.
	v1 map[string]mountPoint
	// unified is the cgroup2 mount; dir is "" when there is none.
	unified mountPoint
	// own maps a controller (and "" for cgroup2) to this process's cgroup,
	// as /proc/self/cgroup names it.
	own map[string]string
}

// hostLayout reads the host's cgroup layout once per process: exec, state and delete each
// need it two or three times (status, then the operation), and parsing mountinfo is a good
// part of what they cost. husk never moves itself to another cgroup, so its own cgroup stays
// what it read. Callers must not modify the layout.
var hostLayout = sync.OnceValues(readHostLayout)

func readHostLayout() (*layout, error) {
	l := &layout{mode: DetectMode(), v1: map[string]mountPoint{}}
	own, hierarchies, err := readProcCgroup(procSelfCgroup)
	if err != nil {
		return nil, err
	}
	l.own = own
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, fmt.Errorf("read mountinfo for cgroup mounts: %w", err)
	}
	wantUnified := cgroupRoot
	if l.mode == Hybrid {
		wantUnified = hybridUnified
	}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			// Prefer the canonical mount point; any other (a bind mount)
			// only if there is nothing better.
			if m.Mountpoint == wantUnified || l.unified.dir == "" {
				l.unified = mountPoint{dir: m.Mountpoint, root: m.Root}
			}
			continue
		}
		opts := strings.Split(m.VFSOptions, ",")
		for _, ctrls := range hierarchies {
			if !containsAll(opts, ctrls) {
				continue
			}
			for _, c := range ctrls {
				// Keep the first mount of a hierarchy unless a later one sits
				// in the usual place: bind mounts elsewhere are not canonical.
				if prev, ok := l.v1[c]; !ok || !strings.HasPrefix(prev.dir, cgroupRoot+"/") && strings.HasPrefix(m.Mountpoint, cgroupRoot+"/") {
					l.v1[c] = mountPoint{dir: m.Mountpoint, root: m.Root}
				}
			}
		}
	}
	if l.mode == Unified {
		l.v1 = map[string]mountPoint{}
	}
	if l.mode != Legacy && l.unified.dir == "" {
		return nil, fmt.Errorf("cgroup mode %s but no cgroup2 mount found in mountinfo", l.mode)
	}
	if l.mode == Legacy {
		l.unified = mountPoint{}
	}
	return l, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// readProcCgroup parses /proc/<pid>/cgroup: it returns each controller's (and
// "" for cgroup2) cgroup path, and the controller sets of the v1 hierarchies.
func readProcCgroup(path string) (map[string]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	own := map[string]string{}
	var hierarchies [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			return nil, nil, fmt.Errorf("parse %s: bad line %q", path, sc.Text())
		}
		if parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		ctrls := strings.Split(parts[1], ",")
		hierarchies = append(hierarchies, ctrls)
		for _, c := range ctrls {
			own[c] = parts[2]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return own, hierarchies, nil
}

// cleanCgroupsPath validates linux.cgroupsPath for the cgroupfs driver. runc would
// silently fold ".." away; a path that tries to climb is refused instead, so it
// cannot name a cgroup outside the intended subtree. A path in the systemd driver's
// "slice:prefix:name" form is, as in runc's cgroupfs driver, a plain relative path
// whose one directory name has colons in it: containerd's CRI sends that form
// whenever a pod's parent ends in ".slice", whichever driver the runtime uses.
func cleanCgroupsPath(p, id string) (string, error) {
	if p == "" {
		p = id
	}
	if p == "" {
		return "", fmt.Errorf("linux.cgroupsPath: empty and no container id to derive it from")
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", fmt.Errorf("linux.cgroupsPath %q: must not contain \"..\"", p)
		}
	}
	abs := strings.HasPrefix(p, "/")
	clean := filepath.Clean("/" + p)
	if clean == "/" {
		return "", fmt.Errorf("linux.cgroupsPath %q: names the root cgroup", p)
	}
	if !abs {
		clean = strings.TrimPrefix(clean, "/")
	}
	return clean, nil
}

// resolve returns the directory for cgroupsPath in a hierarchy mounted at mp,
// where this process sits in cgroup own (as /proc/self/cgroup says).
func resolve(mp mountPoint, own, cgPath string) (string, error) {
	if filepath.IsAbs(cgPath) {
		return filepath.Join(mp.dir, cgPath), nil
	}
	rel, err := filepath.Rel(mp.root, filepath.Clean("/"+own))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("own cgroup %q is outside the root %q of the hierarchy mounted at %s", own, mp.root, mp.dir)
	}
	return filepath.Join(mp.dir, rel, cgPath), nil
}

// within reports whether dir is mountDir or below it.
func within(dir, mountDir string) bool {
	return dir == mountDir || strings.HasPrefix(dir, mountDir+"/")
}
