package systemd

import (
	"strings"
	"testing"
)

func TestParsePlacementLikeRunc(t *testing.T) {
	cases := []struct {
		path, id         string
		unit, slice, dir string
	}{
		// empty: runc's default with husk's name
		{"", "abc", "husk-abc.scope", "system.slice", "/system.slice/husk-abc.scope"},
		// the engines' forms
		{"system.slice:docker:1234", "x", "docker-1234.scope", "system.slice", "/system.slice/docker-1234.scope"},
		{"machine.slice:libpod:f00", "x", "libpod-f00.scope", "machine.slice", "/machine.slice/libpod-f00.scope"},
		// an empty slice is system.slice
		{":cri-containerd:c1", "x", "cri-containerd-c1.scope", "system.slice", "/system.slice/cri-containerd-c1.scope"},
		// nested slices expand by their dashes
		{"kubepods-besteffort-pod12.slice:cri-containerd:c1", "x", "cri-containerd-c1.scope", "kubepods-besteffort-pod12.slice",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-c1.scope"},
		// the root slice
		{"-.slice:p:n", "x", "p-n.scope", "-.slice", "/p-n.scope"},
		// an empty prefix stays runc's "-name.scope"
		{"system.slice::n", "x", "-n.scope", "system.slice", "/system.slice/-n.scope"},
		// a name ending in .slice is the unit itself, a slice in the one its name says
		{"kubepods-besteffort.slice:any:kubepods-besteffort-pod1.slice", "x", "kubepods-besteffort-pod1.slice", "kubepods-besteffort.slice",
			"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice"},
		{":p:husktest.slice", "x", "husktest.slice", "-.slice", "/husktest.slice"},
	}
	for _, c := range cases {
		p, err := parsePlacement(c.path, c.id, defaultSlice)
		if err != nil {
			t.Errorf("parsePlacement(%q, %q): %v", c.path, c.id, err)
			continue
		}
		if p.unit != c.unit || p.slice != c.slice || p.dir != c.dir {
			t.Errorf("parsePlacement(%q, %q) = unit %q slice %q dir %q; want %q %q %q", c.path, c.id, p.unit, p.slice, p.dir, c.unit, c.slice, c.dir)
		}
	}
}

// A user's instance (rootless) puts what names no slice in user.slice, as runc.
func TestParsePlacementUserSlice(t *testing.T) {
	for path, dir := range map[string]string{"": "/user.slice/husk-abc.scope", ":p:n": "/user.slice/p-n.scope",
		"app.slice:p:n": "/app.slice/p-n.scope"} {
		p, err := parsePlacement(path, "abc", userSlice)
		if err != nil || p.dir != dir {
			t.Errorf("parsePlacement(%q, abc, user.slice) = %q, %v; want %q", path, p.dir, err, dir)
		}
	}
}

func TestParsePlacementRefuses(t *testing.T) {
	cases := []struct{ path, id, want string }{
		{"/system.slice/foo", "x", `expects "slice:prefix:name"`},
		{"foo", "x", `expects "slice:prefix:name"`},
		{"a:b", "x", `expects "slice:prefix:name"`},
		{"a.slice:b:c:d", "x", `expects "slice:prefix:name"`},
		{"system.slice:p:", "x", "name"},
		{"system:p:n", "x", `must end in ".slice"`},
		{"a/b.slice:p:n", "x", `has '/'`},
		{"a--b.slice:p:n", "x", "empty part"},
		{"-a.slice:p:n", "x", "empty part"},
		{"a-.slice:p:n", "x", "empty part"},
		{".slice:p:n", "x", `must end in ".slice"`},
		{"system.slice:p:a b", "x", `has ' '`},
		{"", "a+b", `has '+'`},
		{"system.slice:p:" + strings.Repeat("n", 250), "x", "255 bytes"},
		{"system.slice:p:other.slice", "x", "sits in -.slice"},
		{"system.slice:p:-.slice", "x", "root slice"},
	}
	for _, c := range cases {
		_, err := parsePlacement(c.path, c.id, defaultSlice)
		if err == nil {
			t.Errorf("parsePlacement(%q, %q) accepted", c.path, c.id)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "linux.cgroupsPath") {
			t.Errorf("parsePlacement(%q, %q): error %q, want it to name linux.cgroupsPath and say %q", c.path, c.id, err, c.want)
		}
	}
}

func TestExpandSlice(t *testing.T) {
	for in, want := range map[string]string{
		"-.slice":       "/",
		"system.slice":  "/system.slice",
		"a-b-c.slice":   "/a.slice/a-b.slice/a-b-c.slice",
		"user-0.slice":  "/user.slice/user-0.slice",
		"x_y.z-w.slice": "/x_y.z.slice/x_y.z-w.slice",
	} {
		if got, err := expandSlice(in); err != nil || got != want {
			t.Errorf("expandSlice(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParentSlice(t *testing.T) {
	for in, want := range map[string]string{
		"system.slice": "-.slice",
		"a-b.slice":    "a.slice",
		"a-b-c.slice":  "a-b.slice",
	} {
		if got := parentSlice(in); got != want {
			t.Errorf("parentSlice(%q) = %q, want %q", in, got, want)
		}
	}
}
