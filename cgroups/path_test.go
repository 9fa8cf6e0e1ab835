package cgroups

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNewResolvesPathsLikeRunc(t *testing.T) {
	l := fakeLayout(t, Hybrid)
	root := filepath.Dir(l.unified.dir)
	cases := []struct {
		cgroupsPath, id string
		memory, cpu     string
	}{
		// relative: below this process's own cgroup in each hierarchy
		{"foo/bar", "x", "memory/parent/foo/bar", "cpu/foo/bar"},
		// absolute: below each mount point
		{"/foo/bar", "x", "memory/foo/bar", "cpu/foo/bar"},
		// empty: the id, relative
		{"", "ctr1", "memory/parent/ctr1", "cpu/ctr1"},
		// systemd's slice:prefix:name form: one relative directory name, as in runc's
		// cgroupfs driver (containerd's CRI sends it for a parent ending in .slice)
		{"test.slice:cri-containerd:abc", "x", "memory/parent/test.slice:cri-containerd:abc", "cpu/test.slice:cri-containerd:abc"},
		{"/abs/test.slice:p:n", "x", "memory/abs/test.slice:p:n", "cpu/abs/test.slice:p:n"},
	}
	for _, c := range cases {
		m, err := newManager(l, c.cgroupsPath, c.id)
		if err != nil {
			t.Fatalf("newManager(%q, %q): %v", c.cgroupsPath, c.id, err)
		}
		p := m.Paths()
		if got, want := p["memory"], filepath.Join(root, c.memory); got != want {
			t.Errorf("%q: memory path %s, want %s", c.cgroupsPath, got, want)
		}
		if got, want := p["cpu"], filepath.Join(root, c.cpu); got != want {
			t.Errorf("%q: cpu path %s, want %s", c.cgroupsPath, got, want)
		}
		if got := p["name=systemd"]; !strings.HasPrefix(got, filepath.Join(root, "systemd")+"/") {
			t.Errorf("%q: name=systemd path %s", c.cgroupsPath, got)
		}
		if got := p[""]; !strings.HasPrefix(got, l.unified.dir+"/") {
			t.Errorf("%q: hybrid manager has cgroup2 path %q", c.cgroupsPath, got)
		}
		if len(p) != len(v1Controllers)+1 {
			t.Errorf("%q: %d paths, want %d: %v", c.cgroupsPath, len(p), len(v1Controllers)+1, p)
		}
	}
}

func TestNewRejectsBadPaths(t *testing.T) {
	l := fakeLayout(t, Legacy)
	for _, p := range []string{"../escape", "a/../../b", "/a/..", "/", "system.slice:husk:../../x"} {
		if _, err := newManager(l, p, "id"); err == nil {
			t.Errorf("newManager(%q) accepted", p)
		} else if !strings.Contains(err.Error(), "cgroupsPath") {
			t.Errorf("newManager(%q): error %q does not name linux.cgroupsPath", p, err)
		}
	}
	if _, err := newManager(l, "", ""); err == nil {
		t.Error("empty path and id accepted")
	}
}

func TestNewRequiresDevicesController(t *testing.T) {
	l := fakeLayout(t, Legacy)
	delete(l.v1, "devices")
	if _, err := newManager(l, "x", "x"); err == nil || !strings.Contains(err.Error(), "devices") {
		t.Fatalf("got %v, want an error about the devices controller", err)
	}
}

func TestPathsLoadRoundTrip(t *testing.T) {
	for _, mode := range []Mode{Legacy, Hybrid, Unified} {
		l := fakeLayout(t, mode)
		m, err := newManager(l, "a/b", "id")
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := loadManager(l, m.Paths())
		if err != nil {
			t.Fatalf("%s: load: %v", mode, err)
		}
		if !reflect.DeepEqual(loaded.Paths(), m.Paths()) {
			t.Errorf("%s: loaded paths %v, want %v", mode, loaded.Paths(), m.Paths())
		}
		if reflect.TypeOf(loaded) != reflect.TypeOf(m) {
			t.Errorf("%s: loaded %T, want %T", mode, loaded, m)
		}
	}
}

func TestLoadRejectsForeignPaths(t *testing.T) {
	l := fakeLayout(t, Unified)
	bad := []map[string]string{
		nil,
		{"": "/etc"},
		{"": l.unified.dir},
		{"": l.unified.dir + "/a/../../etc"},
		{"memory": "/sys/fs/cgroup/memory/x"}, // v1 paths on a unified host
	}
	for _, p := range bad {
		if _, err := loadManager(l, p); err == nil {
			t.Errorf("loadManager(%v) accepted", p)
		}
	}
	lv1 := fakeLayout(t, Legacy)
	if _, err := loadManager(lv1, map[string]string{"memory": "/tmp/x", "devices": lv1.v1["devices"].dir + "/x"}); err == nil {
		t.Error("v1 path outside its mount accepted")
	}
}

func TestReadProcCgroup(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cgroup")
	writeTestFile(t, p, "9:name=systemd:/\n2:cpu,cpuacct:/a\n4:memory:/process_api/f1\n0::/u\n")
	own, h, err := readProcCgroup(p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"name=systemd": "/", "cpu": "/a", "cpuacct": "/a", "memory": "/process_api/f1", "": "/u"}
	if !reflect.DeepEqual(own, want) {
		t.Errorf("own = %v, want %v", own, want)
	}
	if len(h) != 3 || !reflect.DeepEqual(h[1], []string{"cpu", "cpuacct"}) {
		t.Errorf("hierarchies = %v", h)
	}
}

// On a pure v2 host a relative path goes below the parent of husk's own cgroup (runc's
// rule): husk's own cgroup has processes and could not give a child any controller.
func TestNewUnifiedRelativeUsesParentOfOwnCgroup(t *testing.T) {
	l := fakeLayout(t, Unified)
	l.own[""] = "/user.slice/session-1.scope"
	for _, c := range []struct{ path, id, want string }{
		{"foo", "x", "user.slice/foo"},
		{"", "ctr1", "user.slice/ctr1"},
		{"/abs/p", "x", "abs/p"},
		{"test.slice:cri-containerd:abc", "x", "user.slice/test.slice:cri-containerd:abc"},
	} {
		m, err := newManager(l, c.path, c.id)
		if err != nil {
			t.Fatalf("newManager(%q): %v", c.path, err)
		}
		if got, want := m.Paths()[""], filepath.Join(l.unified.dir, c.want); got != want {
			t.Errorf("%q: path %s, want %s", c.path, got, want)
		}
	}
}
