package libcontainer

import (
	"testing"

	"github.com/husk-runtime/husk/cgroups"
)

// A cgroup mount in the container (and the binds named for criu) is the host's cgroup2 hierarchy
// on a pure cgroup2 host: one place, bound from the container's own cgroup.
func TestCgroupLayoutUnified(t *testing.T) {
	v2 := []hostCgroupMount{{mountPoint: "/sys/fs/cgroup", root: "/", fstype: "cgroup2"}}
	places, tmpfs, err := cgroupLayout("/sys/fs/cgroup", "cgroup", cgroups.Unified, v2, map[string]string{"": "/ctr"})
	if err != nil || tmpfs || len(places) != 1 {
		t.Fatalf("v2: %v %v %v", places, tmpfs, err)
	}
	if places[0].dest != "/sys/fs/cgroup" || places[0].bindSource() != "/sys/fs/cgroup/ctr" {
		t.Errorf("v2 place %s from %s", places[0].dest, places[0].bindSource())
	}
}

// Other cgroup2 mounts on a pure cgroup2 host (another engine's, a bind of a subtree, listed
// before or after the one at /sys/fs/cgroup) change nothing: the container still gets the
// hierarchy, from the mount at /sys/fs/cgroup, not an empty tmpfs.
func TestCgroupLayoutUnifiedWithOtherCgroup2Mounts(t *testing.T) {
	sys := hostCgroupMount{mountPoint: "/sys/fs/cgroup", root: "/", fstype: "cgroup2", options: "rw,nsdelegate"}
	sub := hostCgroupMount{mountPoint: "/mnt/x", root: "/engine", fstype: "cgroup2", options: "rw,nsdelegate"}
	whole := hostCgroupMount{mountPoint: "/run/engine/cgroup", root: "/", fstype: "cgroup2", options: "rw,nsdelegate"}
	for name, hosts := range map[string][]hostCgroupMount{
		"subtree first": {sub, sys},
		"subtree after": {sys, sub},
		"two others":    {whole, sub, sys},
	} {
		for _, typ := range []string{"cgroup", "cgroup2"} {
			places, tmpfs, err := cgroupLayout("/sys/fs/cgroup", typ, cgroups.Unified, hosts, map[string]string{"": "/ctr"})
			if err != nil || tmpfs || len(places) != 1 {
				t.Errorf("%s, type %s: places %v, tmpfs %v, err %v; want one cgroup2 place", name, typ, places, tmpfs, err)
				continue
			}
			if places[0].host.mountPoint != "/sys/fs/cgroup" || places[0].bindSource() != "/sys/fs/cgroup/ctr" {
				t.Errorf("%s, type %s: from %s (bind %s), want /sys/fs/cgroup/ctr", name, typ, places[0].host.mountPoint, places[0].bindSource())
			}
		}
	}
}

// On a v1 or hybrid host a cgroup mount is a tmpfs with one directory per hierarchy mounted
// under /sys/fs/cgroup, each from the container's own cgroup; type cgroup2 is the cgroup2 one.
func TestCgroupLayoutHybrid(t *testing.T) {
	hybrid := []hostCgroupMount{
		{mountPoint: "/elsewhere2", root: "/", fstype: "cgroup2", options: "rw"},
		{mountPoint: "/sys/fs/cgroup/cpu,cpuacct", root: "/", fstype: "cgroup", options: "rw,cpu,cpuacct"},
		{mountPoint: "/sys/fs/cgroup/memory", root: "/", fstype: "cgroup", options: "rw,memory"},
		{mountPoint: "/sys/fs/cgroup/unified", root: "/", fstype: "cgroup2", options: "rw,nsdelegate"},
		{mountPoint: "/elsewhere", root: "/", fstype: "cgroup", options: "rw,name=x"},
	}
	own := map[string]string{"cpu,cpuacct": "/a/c", "memory": "/a/c", "": "/a/c"}
	places, tmpfs, err := cgroupLayout("/sys/fs/cgroup", "cgroup", cgroups.Hybrid, hybrid, own)
	if err != nil || !tmpfs || len(places) != 3 {
		t.Fatalf("hybrid: %v %v %v", places, tmpfs, err)
	}
	got := map[string]string{}
	for _, p := range places {
		got[p.dest] = p.bindSource()
	}
	want := map[string]string{
		"/sys/fs/cgroup/cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/a/c",
		"/sys/fs/cgroup/memory":      "/sys/fs/cgroup/memory/a/c",
		"/sys/fs/cgroup/unified":     "/sys/fs/cgroup/unified/a/c",
	}
	for d, s := range want {
		if got[d] != s {
			t.Errorf("hybrid place %s from %q, want %q", d, got[d], s)
		}
	}

	places, tmpfs, err = cgroupLayout("/sys/fs/cgroup", "cgroup2", cgroups.Hybrid, hybrid, own)
	if err != nil || tmpfs || len(places) != 1 || places[0].bindSource() != "/sys/fs/cgroup/unified/a/c" {
		t.Errorf("hybrid, type cgroup2: %v %v %v; want one place from /sys/fs/cgroup/unified/a/c", places, tmpfs, err)
	}
}

// Type cgroup2 on a host without cgroup2 is refused.
func TestCgroupLayoutLegacyCgroup2(t *testing.T) {
	legacy := []hostCgroupMount{{mountPoint: "/sys/fs/cgroup/memory", root: "/", fstype: "cgroup", options: "rw,memory"}}
	if _, _, err := cgroupLayout("/sys/fs/cgroup", "cgroup2", cgroups.Legacy, legacy, nil); err == nil {
		t.Error("type cgroup2 on a cgroup v1 host: no error")
	}
}

// The real mount table: what holds /proc/self is the proc mount, / holds itself.
func TestMountPointOf(t *testing.T) {
	for path, want := range map[string]string{"/proc/self": "/proc", "/proc": "/proc", "/": "/"} {
		if got, err := mountPointOf(path); err != nil || got != want {
			t.Errorf("mountPointOf(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
}
