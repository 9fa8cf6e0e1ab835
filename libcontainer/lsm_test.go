package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fakeRoot makes a directory tree with the given files (path -> content) for the detectors.
func fakeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") { // a directory only
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestAppArmorEnabledAt(t *testing.T) {
	const dir, param = "sys/kernel/security/apparmor/", "sys/module/apparmor/parameters/enabled"
	cases := []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"enabled", map[string]string{dir: "", param: "Y\n"}, true},
		{"module says no", map[string]string{dir: "", param: "N\n"}, false},
		{"empty parameter", map[string]string{dir: "", param: ""}, false},
		{"no securityfs directory", map[string]string{param: "Y\n"}, false},
		{"no module parameter", map[string]string{dir: ""}, false},
		{"nothing", map[string]string{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := appArmorEnabledAt(fakeRoot(t, tc.files)); got != tc.want {
				t.Fatalf("appArmorEnabledAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSELinuxEnabledAt(t *testing.T) {
	const enforce, current = "sys/fs/selinux/enforce", "proc/self/attr/current"
	cases := []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"enforcing", map[string]string{enforce: "1", current: "unconfined_u:unconfined_r:unconfined_t:s0\x00"}, true},
		{"permissive", map[string]string{enforce: "0", current: "system_u:system_r:init_t:s0\n"}, true},
		{"no policy loaded", map[string]string{enforce: "0", current: "kernel\x00"}, false},
		{"selinuxfs not mounted", map[string]string{"sys/fs/selinux/": "", current: "system_u:system_r:init_t:s0"}, false},
		{"no current label", map[string]string{enforce: "1"}, false},
		{"empty current label", map[string]string{enforce: "1", current: ""}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := selinuxEnabledAt(fakeRoot(t, tc.files)); got != tc.want {
				t.Fatalf("selinuxEnabledAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAttrPayloads(t *testing.T) {
	paths, payload := appArmorExecAttr("husk-test")
	if strings.Join(paths, " ") != "attr/apparmor/exec attr/exec" || payload != "exec husk-test" {
		t.Errorf("appArmorExecAttr = %v %q", paths, payload)
	}
	const label = "system_u:system_r:container_t:s0:c1,c2"
	paths, payload = selinuxExecAttr(label)
	if strings.Join(paths, " ") != "attr/exec" || payload != label {
		t.Errorf("selinuxExecAttr = %v %q", paths, payload)
	}
	paths, payload = selinuxKeyAttr(label)
	if strings.Join(paths, " ") != "attr/keycreate" || payload != label {
		t.Errorf("selinuxKeyAttr = %v %q", paths, payload)
	}
}

func TestMountData(t *testing.T) {
	const label = "system_u:object_r:container_file_t:s0:c1,c2"
	cases := []struct {
		fstype, data, label, want string
	}{
		{"tmpfs", "mode=755", label, `mode=755,context="` + label + `"`},
		{"tmpfs", "", label, `context="` + label + `"`},
		{"devpts", "newinstance,ptmxmode=0666", label, `newinstance,ptmxmode=0666,context="` + label + `"`},
		{"tmpfs", "mode=755", "", "mode=755"},
		{"proc", "", label, ""},
		{"sysfs", "", label, ""},
		{"mqueue", "", label, ""}, // labelled through its root's xattr instead
	}
	for _, tc := range cases {
		if got := mountData(tc.fstype, tc.data, tc.label); got != tc.want {
			t.Errorf("mountData(%q, %q, %q) = %q, want %q", tc.fstype, tc.data, tc.label, got, tc.want)
		}
	}
}

func TestValidateSELinuxLabel(t *testing.T) {
	for _, l := range []string{"", "system_u:system_r:container_t", "system_u:system_r:container_t:s0",
		"system_u:object_r:svirt_sandbox_file_t:s0:c715,c811", "u:r:t:s0-s0:c0.c1023"} {
		if err := validateSELinuxLabel("process.selinuxLabel", l); err != nil {
			t.Errorf("validateSELinuxLabel(%q) = %v, want nil", l, err)
		}
	}
	for _, l := range []string{
		`u:r:t:s0",size=1g`, // ends the quotes in context="..." and adds a mount option
		`u:r:t:s0,"`, "u:r:t\n", "u:r:t:s0 x", "u:r:t\x00", "u:r:t:s0=1", `u:r:t:s\0`,
		"u:r", "u::t", ":r:t", "u,x:r:t", "u:r:t,size=1g", "container_t",
	} {
		err := validateSELinuxLabel("linux.mountLabel", l)
		if err == nil || !strings.Contains(err.Error(), "linux.mountLabel") {
			t.Errorf("validateSELinuxLabel(%q) = %v, want an error naming linux.mountLabel", l, err)
		}
	}
}

// Validate refuses bad labels whether or not the host has SELinux, before anything is done.
// Well-formed LSM settings pass validation (malformed ones: TestValidateRejects).
func TestValidateAcceptsLSMFields(t *testing.T) {
	s := DefaultSpec()
	s.Process.ApparmorProfile = "husk-test"
	s.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
	s.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	if err := Validate(s); err != nil {
		t.Fatalf("Validate refused valid LSM settings: %v", err)
	}
}

func host(apparmor, selinux bool) hostLSM {
	return hostLSM{appArmor: func() bool { return apparmor }, selinux: func() bool { return selinux }}
}

func TestResolveLSM(t *testing.T) {
	profile := lsmRequest{field: "process.apparmorProfile", value: "husk-test"}
	plabel := lsmRequest{field: "process.selinuxLabel", value: "u:r:t:s0"}
	mlabel := lsmRequest{field: "linux.mountLabel", value: "u:object_r:t:s0"}

	// No AppArmor: a profile is an error naming the field, as runc's "specified but disabled".
	_, err := host(false, false).resolve(profile, lsmRequest{}, lsmRequest{})
	if err == nil || !strings.Contains(err.Error(), `process.apparmorProfile: profile "husk-test" specified but AppArmor is disabled on the host`) {
		t.Fatalf("resolve without AppArmor = %v", err)
	}
	got, err := host(true, false).resolve(profile, lsmRequest{}, lsmRequest{})
	if err != nil || got.AppArmorProfile != "husk-test" {
		t.Fatalf("resolve with AppArmor = %+v, %v", got, err)
	}

	// No SELinux: a label is an error naming its field, as runc's "selinux is disabled".
	for _, tc := range []struct{ plabel, mlabel lsmRequest }{{plabel, mlabel}, {lsmRequest{}, mlabel}} {
		_, err = host(false, false).resolve(lsmRequest{}, tc.plabel, tc.mlabel)
		want := fmt.Sprintf("%s: label %q specified but SELinux is disabled on the host", tc.mlabel.field, tc.mlabel.value)
		if tc.plabel.value != "" {
			want = `process.selinuxLabel: label "u:r:t:s0" specified but SELinux is disabled on the host`
		}
		if err == nil || err.Error() != want {
			t.Fatalf("resolve without SELinux = %v, want %q", err, want)
		}
	}
	got, err = host(false, true).resolve(lsmRequest{}, plabel, mlabel)
	if err != nil || got.ProcessLabel != plabel.value || got.MountLabel != mlabel.value {
		t.Fatalf("resolve with SELinux = %+v, %v", got, err)
	}

	// Nothing asked: the host is not even looked at.
	probe := hostLSM{appArmor: func() bool { t.Fatal("AppArmor probed"); return false },
		selinux: func() bool { t.Fatal("SELinux probed"); return false }}
	if got, err := probe.resolve(lsmRequest{}, lsmRequest{}, lsmRequest{}); err != nil || got != (lsmLabels{}) {
		t.Fatalf("empty resolve = %+v, %v", got, err)
	}
}

func TestExecLSM(t *testing.T) {
	old := theHost
	defer func() { theHost = old }()
	theHost = host(true, true)
	container := &specs.Process{ApparmorProfile: "ctr-profile", SelinuxLabel: "u:r:ctr_t:s0"}
	cases := []struct {
		name                 string
		opts                 ExecOpts
		wantProfile, wantLbl string
	}{
		{"inherits the container's", ExecOpts{Process: &specs.Process{}}, "ctr-profile", "u:r:ctr_t:s0"},
		{"process.json's own", ExecOpts{Process: &specs.Process{ApparmorProfile: "p", SelinuxLabel: "u:r:p_t:s0"}}, "p", "u:r:p_t:s0"},
		{"flags override", ExecOpts{Process: &specs.Process{ApparmorProfile: "p"}, AppArmorProfile: "f", ProcessLabel: "u:r:f_t:s0"}, "f", "u:r:f_t:s0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := execLSM(tc.opts, container)
			if err != nil || got.AppArmorProfile != tc.wantProfile || got.ProcessLabel != tc.wantLbl || got.MountLabel != "" {
				t.Fatalf("execLSM = %+v, %v", got, err)
			}
		})
	}
	if _, err := execLSM(ExecOpts{Process: &specs.Process{}, ProcessLabel: `u:r:t:s0",x`}, container); err == nil ||
		!strings.Contains(err.Error(), "--process-label") {
		t.Fatalf("bad --process-label: %v", err)
	}
	theHost = host(false, false)
	_, err := execLSM(ExecOpts{Process: &specs.Process{}, AppArmorProfile: "f"}, &specs.Process{})
	if err == nil || !strings.Contains(err.Error(), `--apparmor: profile "f" specified but AppArmor is disabled`) {
		t.Fatalf("--apparmor without AppArmor: %v", err)
	}
	_, err = execLSM(ExecOpts{Process: &specs.Process{}, ProcessLabel: "u:r:f_t:s0"}, &specs.Process{})
	if err == nil || !strings.Contains(err.Error(), `--process-label: label "u:r:f_t:s0" specified but SELinux is disabled`) {
		t.Fatalf("--process-label without SELinux: %v", err)
	}
}

// writeThreadAttr tries the files in order and names the last one when none exists.
func TestWriteThreadAttrMissing(t *testing.T) {
	err := writeThreadAttr([]string{"attr/husk-none/exec", "attr/husk-none2"}, "x")
	if !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), "/proc/thread-self/attr/husk-none2") {
		t.Fatalf("writeThreadAttr = %v, want ENOENT naming the fallback", err)
	}
}
