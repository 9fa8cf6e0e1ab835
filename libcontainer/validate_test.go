package libcontainer

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "abc-1.2_3+x", strings.Repeat("x", 200)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../x", "a b", "a\x00b", "é"} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) = nil, want an error", id)
		}
	}
}

// validIDChars must accept exactly what runc's id pattern accepts.
func TestValidIDCharsMatchesRunc(t *testing.T) {
	runc := regexp.MustCompile(`^[\w+\-.]+$`)
	for b := 0; b < 256; b++ {
		for _, id := range []string{string([]byte{byte(b)}), "a" + string([]byte{byte(b)}) + "z"} {
			if got, want := validIDChars(id), runc.MatchString(id); got != want {
				t.Errorf("validIDChars(%q) = %v, runc's pattern says %v", id, got, want)
			}
		}
	}
	if validIDChars("") {
		t.Error(`validIDChars("") = true`)
	}
}

func TestDefaultSpecIsValid(t *testing.T) {
	if err := Validate(DefaultSpec()); err != nil {
		t.Fatalf("default spec does not validate: %v", err)
	}
	if DefaultSpec().Process.Capabilities.Inheritable != nil {
		t.Fatal("default spec must not grant inheritable capabilities")
	}
}

// Each bad config must be refused with an error that names the field at fault.
func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name   string
		modify func(s *specs.Spec)
		want   string
	}{
		{"no root", func(s *specs.Spec) { s.Root = nil }, "root.path"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "process"},
		{"no args", func(s *specs.Spec) { s.Process.Args = nil }, "process.args"},
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, "process.cwd"},
		{"bad env", func(s *specs.Spec) { s.Process.Env = []string{"NOEQUALS"} }, "process.env[0]"},
		{"unknown namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "bogus"})
		}, "unknown namespace type"},
		{"duplicate namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "given twice"},
		{"relative ns path", func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" }, "linux.namespaces[0].path"},
		{"no mount ns", func(s *specs.Spec) {
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.MountNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		}, "mount namespace"},
		{"hostname without uts", func(s *specs.Spec) {
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.UTSNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
		}, "hostname"},
		{"relative mount destination", func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }, "mounts[0].destination"},
		{"mount without type", func(s *specs.Spec) { s.Mounts[0].Type = "" }, "mounts[0] (/proc).type"},
		{"unknown capability", func(s *specs.Spec) { s.Process.Capabilities.Bounding = []string{"CAP_BOGUS"} }, "CAP_BOGUS"},
		{"unknown rlimit", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1}}
		}, "RLIMIT_BOGUS"},
		{"soft above hard", func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}}
		}, "soft limit"},
		{"host sysctl", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.panic": "1"} }, "kernel.panic"},
		{"net sysctl without netns", func(s *specs.Spec) {
			var keep []specs.LinuxNamespace
			for _, ns := range s.Linux.Namespaces {
				if ns.Type != specs.NetworkNamespace {
					keep = append(keep, ns)
				}
			}
			s.Linux.Namespaces = keep
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, "network namespace"},
		{"sysctl dotdot", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../../x": "1"} }, "invalid name"},
		{"userns without maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "uidMappings"},
		{"maps without userns", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}, "without a user namespace"},
		{"bad device type", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}
		}, "linux.devices[0].type"},
		{"device outside dev", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/etc/x", Type: "c"}}
		}, "linux.devices[0].path"},
		{"bad propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }, "rootfsPropagation"},
		{"relative hook", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "bin/true"}}}
		}, "hooks.poststop[0].path"},
		{"time offsets without timens", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "timeOffsets"},
		{"oom score out of range", func(s *specs.Spec) { v := 1001; s.Process.OOMScoreAdj = &v }, "oomScoreAdj"},
		{"console size without terminal", func(s *specs.Spec) {
			s.Process.Terminal = false
			s.Process.ConsoleSize = &specs.Box{Height: 1, Width: 1}
		}, "consoleSize"},
		{"bad scheduler", func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_BOGUS"}
		}, "process.scheduler.policy"},
		{"bad personality", func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
		}, "linux.personality.domain"},
		{"idmap on a proc mount", func(s *specs.Spec) { s.Mounts[0].Options = []string{"idmap"} }, "only supported for bind mounts"},
		{"idmap without mappings or userns", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/tmp", Destination: "/mnt", Type: "bind", Options: []string{"rbind", "ridmap"}})
		}, "linux.namespaces has none"},
		{"uidMappings without gidMappings", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/tmp", Destination: "/mnt", Options: []string{"bind"},
				UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}})
		}, "both uidMappings and gidMappings"},
		{"mount mapping of size 0", func(s *specs.Spec) {
			m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 0}}
			s.Mounts = append(s.Mounts, specs.Mount{Source: "/tmp", Destination: "/mnt", Options: []string{"bind"}, UIDMappings: m, GIDMappings: m})
		}, "size must be above 0"},
		{"empty memory policy", func(s *specs.Spec) { s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{} }, `invalid memory policy mode ""`},
		{"memory policy mode", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}
		}, `linux.memoryPolicy.mode: invalid memory policy mode "INTERLEAVE"`},
		{"memory policy flag", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes, "badflag"}}
		}, `linux.memoryPolicy.flags: invalid memory policy flag "badflag"`},
		{"memory policy node too large", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}
		}, "invalid memory policy nodes"},
		{"memory policy node 1024", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1024"}
		}, "invalid memory policy nodes"},
		{"memory policy reversed range", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1-0"}
		}, "invalid memory policy nodes"},
		{"memory policy no node in list", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: ","}
		}, "invalid memory policy nodes"},
		{"memory policy default with nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}
		}, "mode requires 0 nodes but got 8"},
		{"memory policy local with a node", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"}
		}, "mode requires 0 nodes but got 1"},
		{"memory policy bind without nodes", func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind}
		}, "requires at least one node"},
		{"NUL in args", func(s *specs.Spec) { s.Process.Args = []string{"sh\x00x"} }, "process.args[0]"},
		{"NUL in hostname", func(s *specs.Spec) { s.Hostname = "a\x00b" }, "hostname"},
		{"long hostname", func(s *specs.Spec) { s.Hostname = strings.Repeat("h", 65) }, "hostname: 65 bytes"},
		{"mount label injection", func(s *specs.Spec) { s.Linux.MountLabel = `u:r:t:s0",size=1g` }, "linux.mountLabel"},
		{"process label injection", func(s *specs.Spec) { s.Process.SelinuxLabel = "u:r:t:s0\nx" }, "process.selinuxLabel"},
		{"NUL in profile", func(s *specs.Spec) { s.Process.ApparmorProfile = "a\x00b" }, "process.apparmorProfile"},
		{"negative major", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: -1}}
		}, "out of range"},
		{"tmpfs inside /proc", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/proc/self/attr", Type: "tmpfs", Source: "tmpfs"})
		}, "mounts[7].destination: \"/proc/self/attr\" cannot be mounted because it is inside /proc"},
		{"tmpfs on /proc", func(s *specs.Spec) { s.Mounts[0].Type = "tmpfs" }, "mounts[0].destination: \"/proc\" cannot be mounted because it is not of type proc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSpec()
			s.Process.Terminal = false
			tc.modify(s)
			err := Validate(s)
			if err == nil {
				t.Fatalf("Validate accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// checkProcDest follows runc's checkProcMount on the destination as the container sees it.
func TestCheckProcDest(t *testing.T) {
	bind := func(src string) specs.Mount {
		return specs.Mount{Type: "bind", Source: src, Options: []string{"rbind"}}
	}
	typed := func(typ string) specs.Mount { return specs.Mount{Type: typ, Source: typ} }
	cases := []struct {
		dest     string
		m        specs.Mount
		needProc bool   // a bind on /proc: its source must be a procfs
		refused  string // "" when accepted
	}{
		{"/proc", typed("proc"), false, ""},
		{"/proc", typed("tmpfs"), false, "not of type proc"},
		{"/proc", typed("sysfs"), false, "not of type proc"},
		{"/proc", bind("/proc"), true, ""},
		{"/proc", specs.Mount{Type: "proc", Source: "/sys", Options: []string{"bind"}}, true, ""},
		{"/proc/sys", bind("/proc/sys"), false, "inside /proc"},
		{"/proc/self/attr", typed("tmpfs"), false, "inside /proc"},
		{"/proc/sys/kernel", bind("/tmp/k"), false, "inside /proc"},
		{"/proc/net/dev", bind("/tmp/dev"), false, "inside /proc"},
		{"/proc/foo", typed("proc"), false, "inside /proc"},
		{"/proc/sysrq-trigger", typed("sysfs"), false, "inside /proc"},
		{"/proc/meminfo", bind("/var/lib/lxcfs/proc/meminfo"), false, ""},
		{"/proc/sys/kernel/ns_last_pid", typed("fuse.lxcfs"), false, ""},
		{"/proc/sys/crypto/fips_enabled", typed("tmpfs"), false, ""},
		{"/proc/meminfo/x", typed("tmpfs"), false, "inside /proc"},
		{"/procfoo", typed("tmpfs"), false, ""},
		{"/sys/fs/cgroup", typed("tmpfs"), false, ""},
		{"/sysfiles/proc", typed("tmpfs"), false, ""},
		{"/", typed("tmpfs"), false, ""},
	}
	for _, tc := range cases {
		need, err := checkProcDest(tc.dest, tc.m)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s (%s): refused: %v", tc.dest, tc.m.Type, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
			t.Errorf("%s (%s): got %v, want an error saying %q", tc.dest, tc.m.Type, err, tc.refused)
		case need != tc.needProc:
			t.Errorf("%s (%s): needProcfsSource = %v, want %v", tc.dest, tc.m.Type, need, tc.needProc)
		}
	}
}

// Validate checks the destination as written, cleaned: ".." cannot walk a mount into /proc
// or around the check.
func TestValidateProcDestinationsCleaned(t *testing.T) {
	for dest, refused := range map[string]bool{
		"/proc/../proc/sys":       true,
		"/tmp/../proc/self/attr":  true,
		"/proc/sys/..":            true, // /proc itself, and a tmpfs
		"/proc//sys/":             true,
		"/proc/sys/../meminfo":    false,
		"/proc/../tmp/x":          false,
		"/./proc/./cpuinfo":       false,
		"/proc/self/../../procfs": false,
	} {
		s := DefaultSpec()
		s.Process.Terminal = false
		s.Mounts = append(s.Mounts, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs"})
		err := Validate(s)
		if refused && (err == nil || !strings.Contains(err.Error(), "mounts[7].destination")) {
			t.Errorf("%s: got %v, want an error naming mounts[7].destination", dest, err)
		}
		if !refused && err != nil {
			t.Errorf("%s: refused: %v", dest, err)
		}
	}
}

func TestParseSpecReportsTypeErrors(t *testing.T) {
	_, err := ParseSpec([]byte(`{"process": {"args": "not-a-list"}}`))
	if err == nil || !strings.Contains(err.Error(), "process.args") {
		t.Fatalf("want an error naming process.args, got %v", err)
	}
	_, err = ParseSpec([]byte(`{"ociVersion": "1.3.0"`))
	if err == nil || !strings.Contains(err.Error(), "parse config") {
		t.Fatalf("want a parse error, got %v", err)
	}
	_, err = ParseSpec([]byte(`{} {}`))
	if err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Fatalf("want a trailing data error, got %v", err)
	}
	_, err = ParseSpec([]byte("{\"hostname\": \"\xff\"}"))
	if err == nil || !strings.Contains(err.Error(), "invalid UTF-8 at byte 14") {
		t.Fatalf("want an invalid UTF-8 error, got %v", err)
	}
	good, _ := json.Marshal(DefaultSpec())
	if _, err := ParseSpec(good); err != nil {
		t.Fatalf("default spec does not parse: %v", err)
	}
}

// The memory policies runc accepts: nodes with spaces and empty items, repeated flags,
// MPOL_PREFERRED without nodes (local allocation), MPOL_DEFAULT with an empty list.
func TestMemoryPolicyAccepted(t *testing.T) {
	for _, tc := range []struct {
		mp    specs.LinuxMemoryPolicy
		mode  uint
		count int
	}{
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, 3, 1},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: " 0,,2-3 ", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFStaticNodes}}, 2 | 1<<15, 3},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}}, 1 | 1<<14, 0},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: ""}, 0, 0},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolWeightedInterleave, Nodes: "1023"}, 6, 1},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1,1", Flags: []specs.MemoryPolicyFlagType{specs.MpolFNumaBalancing}}, 2 | 1<<13, 2},
	} {
		s := DefaultSpec()
		s.Linux.MemoryPolicy = &tc.mp
		if err := Validate(s); err != nil {
			t.Errorf("%+v: %v", tc.mp, err)
			continue
		}
		p, _ := parseMemoryPolicy(&tc.mp)
		if p.mode != tc.mode || p.count != tc.count {
			t.Errorf("%+v: mode %#x with %d nodes, want %#x with %d", tc.mp, p.mode, p.count, tc.mode, tc.count)
		}
	}
}
