package cgroups

import (
	"fmt"
	"path/filepath"
	"sort"
)

func newManager(l *layout, cgroupsPath, id string) (Manager, error) {
	p, err := cleanCgroupsPath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	var unified string
	if l.mode != Legacy {
		own := l.own[""]
		if l.mode == Unified {
			// As runc: on a pure v2 host a relative path is taken from the parent of
			// husk's own cgroup. Husk's own cgroup has processes (a login session's scope,
			// an engine's service), and a cgroup with processes cannot enable controllers
			// for children, so a container below it could get none.
			own = filepath.Dir(filepath.Clean("/" + own))
		}
		unified, err = resolve(l.unified, own, p)
		if err != nil {
			return nil, fmt.Errorf("cgroup2 path for %q: %w", p, err)
		}
		if unified == l.unified.dir {
			return nil, fmt.Errorf("linux.cgroupsPath %q: resolves to the cgroup2 root %s", p, unified)
		}
	}
	if l.mode == Unified {
		return &fs2Manager{dir: unified, mount: l.unified.dir, enableAll: true}, nil
	}
	paths := map[string]string{}
	for ctrl, mp := range l.v1 {
		own, ok := l.own[ctrl]
		if !ok && !filepath.IsAbs(p) {
			return nil, fmt.Errorf("controller %s is mounted at %s but not listed in %s", ctrl, mp.dir, procSelfCgroup)
		}
		dir, err := resolve(mp, own, p)
		if err != nil {
			return nil, fmt.Errorf("%s path for %q: %w", ctrl, p, err)
		}
		if dir == mp.dir {
			return nil, fmt.Errorf("linux.cgroupsPath %q: resolves to the root of the %s hierarchy", p, ctrl)
		}
		paths[ctrl] = dir
	}
	if _, ok := paths["devices"]; !ok {
		// Without a devices hierarchy nothing would stop the container from
		// opening host devices.
		return nil, fmt.Errorf("cgroup v1 devices controller is not mounted")
	}
	m := &fsManager{paths: paths, mounts: mountDirs(l)}
	if l.mode == Hybrid {
		m.unified = &fs2Manager{dir: unified, mount: l.unified.dir}
	}
	return m, nil
}

func mountDirs(l *layout) map[string]string {
	out := map[string]string{}
	for c, mp := range l.v1 {
		out[c] = mp.dir
	}
	return out
}

func loadManager(l *layout, paths map[string]string) (Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("load cgroup manager: no cgroup paths saved")
	}
	for k, p := range paths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return nil, fmt.Errorf("load cgroup manager: path %q for %q is not clean and absolute", p, k)
		}
	}
	unified, hasUnified := paths[""]
	if hasUnified {
		if l.unified.dir == "" {
			return nil, fmt.Errorf("load cgroup manager: saved cgroup2 path %s but the host has no cgroup2 mount", unified)
		}
		if !within(unified, l.unified.dir) || unified == l.unified.dir {
			return nil, fmt.Errorf("load cgroup manager: saved cgroup2 path %s is not below %s", unified, l.unified.dir)
		}
	}
	if len(paths) == 1 && hasUnified {
		if l.mode != Unified {
			return nil, fmt.Errorf("load cgroup manager: only a cgroup2 path saved but the host is %s", l.mode)
		}
		return &fs2Manager{dir: unified, mount: l.unified.dir, enableAll: true}, nil
	}
	if l.mode == Unified {
		return nil, fmt.Errorf("load cgroup manager: cgroup v1 paths saved but the host is unified")
	}
	m := &fsManager{paths: map[string]string{}, mounts: mountDirs(l)}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			m.unified = &fs2Manager{dir: unified, mount: l.unified.dir}
			continue
		}
		mount, ok := m.mounts[k]
		if !ok {
			return nil, fmt.Errorf("load cgroup manager: controller %s is no longer mounted", k)
		}
		if !within(paths[k], mount) || paths[k] == mount {
			return nil, fmt.Errorf("load cgroup manager: saved %s path %s is not below %s", k, paths[k], mount)
		}
		m.paths[k] = paths[k]
	}
	return m, nil
}
