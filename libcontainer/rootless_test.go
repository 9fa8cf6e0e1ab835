package libcontainer

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestToRootlessIsRuncsRootlessConfig(t *testing.T) {
	s := DefaultSpec()
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/x"})
	s.Mounts[2].Options = append(s.Mounts[2].Options, "uid=5")
	ToRootless(s, 1001, 1002)
	var users, nets int
	for _, ns := range s.Linux.Namespaces {
		switch ns.Type {
		case specs.UserNamespace:
			users++
			if ns.Path != "" {
				t.Errorf("user namespace keeps path %q", ns.Path)
			}
		case specs.NetworkNamespace:
			nets++
		}
	}
	if users != 1 || nets != 0 {
		t.Errorf("namespaces %v: want one new user namespace and no network namespace", s.Linux.Namespaces)
	}
	if m := s.Linux.UIDMappings; len(m) != 1 || m[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1001, Size: 1}) {
		t.Errorf("uidMappings %v", m)
	}
	if m := s.Linux.GIDMappings; len(m) != 1 || m[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 1002, Size: 1}) {
		t.Errorf("gidMappings %v", m)
	}
	if s.Linux.Resources != nil {
		t.Errorf("resources kept: %+v", s.Linux.Resources)
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys" && (m.Type != "none" || m.Source != "/sys" || strings.Join(m.Options, ",") != "rbind,nosuid,noexec,nodev,ro") {
			t.Errorf("/sys mount %+v, want an rbind of the host's", m)
		}
		for _, o := range m.Options {
			if strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=") {
				t.Errorf("mount %s keeps %s", m.Destination, o)
			}
		}
	}
	if err := Validate(s); err != nil {
		t.Errorf("the rootless spec is invalid: %v", err)
	}
	if err := validateRootless(s); err != nil {
		t.Errorf("the rootless spec is refused for rootless: %v", err)
	}
}

func TestValidateRootlessRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*specs.Spec)
		want   string
	}{
		{"no user namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:len(s.Linux.Namespaces)-1]
		}, "requires a user namespace"},
		{"additional gids", func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{5} }, "process.user.additionalGids"},
		{"unmapped gid= option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"gid=5"}})
		}, "gid=5"},
		{"id-mapped mount", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/t", Source: "/tmp", Options: []string{"bind", "idmap"}})
		}, "not supported for rootless"},
	} {
		s := DefaultSpec()
		ToRootless(s, 1001, 1001)
		tc.change(s)
		err := validateRootless(s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	s := DefaultSpec()
	ToRootless(s, 1001, 1001)
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/t", Type: "tmpfs", Options: []string{"uid=0", "gid=0"}})
	if err := validateRootless(s); err != nil {
		t.Errorf("uid=0,gid=0 (mapped) refused: %v", err)
	}
}

func TestLimitFieldNamesWhatNeedsACgroup(t *testing.T) {
	var limit int64 = 10
	if f := limitField(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}); f != "" {
		t.Errorf("device rules alone: %q, want none", f)
	}
	if f := limitField(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &limit}}); f != "linux.resources.pids" {
		t.Errorf("pids: %q", f)
	}
	if f := limitField(&specs.LinuxResources{Unified: map[string]string{"memory.high": "1M"}}); f != "linux.resources.unified" {
		t.Errorf("unified: %q", f)
	}
	if f := limitField(nil); f != "" {
		t.Errorf("nil: %q", f)
	}
}
