package libcontainer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/checkpoint-restore/go-criu/v8/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCriuCgMode(t *testing.T) {
	for mode, want := range map[string]rpc.CriuCgMode{
		"": rpc.CriuCgMode_DEFAULT, "soft": rpc.CriuCgMode_SOFT, "full": rpc.CriuCgMode_FULL,
		"strict": rpc.CriuCgMode_STRICT, "ignore": rpc.CriuCgMode_IGNORE,
	} {
		got, err := criuCgMode(mode)
		if err != nil || got != want {
			t.Errorf("criuCgMode(%q) = %v, %v; want %v", mode, got, err, want)
		}
	}
	for _, bad := range []string{"Soft", "props", "none", " soft"} {
		if _, err := criuCgMode(bad); err == nil || !strings.Contains(err.Error(), "--manage-cgroups-mode") {
			t.Errorf("criuCgMode(%q) = %v, want an error naming the flag", bad, err)
		}
	}
}

// A key criu before 4.3.1 would misparse ("mnt[KEY]:VAL" unescaped) is refused: one with "]:"
// could bind any host path, an empty one turns on criu's guessing of external mounts.
func TestAddExtMountRefusesBadKeys(t *testing.T) {
	var opts rpc.CriuOpts
	for _, bad := range []string{"", "/a/data]:/name", "]:"} {
		if err := addExtMount(&opts, bad, "/x"); err == nil || !strings.Contains(err.Error(), "invalid external mount destination") {
			t.Errorf("addExtMount(%q) = %v, want refused", bad, err)
		}
	}
	if len(opts.ExtMnt) != 0 {
		t.Fatalf("refused keys were added: %v", opts.ExtMnt)
	}
	if err := addExtMount(&opts, "/data]", "/src:x"); err != nil {
		t.Fatal(err)
	}
	if len(opts.ExtMnt) != 1 || opts.ExtMnt[0].GetKey() != "/data]" || opts.ExtMnt[0].GetVal() != "/src:x" {
		t.Errorf("ext mounts = %v", opts.ExtMnt)
	}
}

// Destinations are named where they are in the container: symlinks of the rootfs followed
// inside it, never out of it.
func TestCriuMountDest(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "real/conf"), 0o755)
	os.Symlink("/real/conf", filepath.Join(rootfs, "conf"))
	os.Symlink("../../../..", filepath.Join(rootfs, "up"))
	os.Symlink("/", filepath.Join(rootfs, "root-link"))
	for dest, want := range map[string]string{
		"/data": "/data", "data/x/": "/data/x", "/conf": "/real/conf", "/conf/sub": "/real/conf/sub",
		"/up/etc": "/etc", "/root-link": "", "/": "",
	} {
		if got := criuMountDest(rootfs, dest); got != want {
			t.Errorf("criuMountDest(%q) = %q, want %q", dest, got, want)
		}
	}
}

func TestCriuConfigFile(t *testing.T) {
	if f := criuConfigFile(nil); f == nil || *f != "/etc/criu/runc.conf" {
		t.Errorf("default config file = %v", f)
	}
	if f := criuConfigFile(map[string]string{"org.criu.config": "/x.conf"}); f == nil || *f != "/x.conf" {
		t.Errorf("annotated config file = %v", f)
	}
	if f := criuConfigFile(map[string]string{"org.criu.config": ""}); f != nil {
		t.Errorf("empty annotation gives %q, want no config file", *f)
	}
}

func TestCriuNSKey(t *testing.T) {
	if k := criuNSKey("net"); k != "extRootNetNS" {
		t.Errorf("criuNSKey(net) = %q", k)
	}
	if k := criuNSKey("pid"); k != "extRootPidNS" {
		t.Errorf("criuNSKey(pid) = %q", k)
	}
}

// What a dump names external and a restore maps back: binds (relative sources from the
// bundle), devices, and masked files as /dev/null.
func TestRestoreExtMounts(t *testing.T) {
	rootfs := t.TempDir()
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/data", Type: "bind", Source: "shared"},
			{Destination: "/etc/hosts", Source: "/tmp/hosts", Options: []string{"rbind", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"},
		},
		Linux: &specs.Linux{
			Devices:     []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
			MaskedPaths: []string{"/proc/kcore"},
		},
	}
	var opts rpc.CriuOpts
	if err := restoreExtMounts(&opts, spec, rootfs, "/bundle", nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range opts.ExtMnt {
		got[m.GetKey()] = m.GetVal()
	}
	for k, v := range map[string]string{
		"/data": "/bundle/shared", "/etc/hosts": "/tmp/hosts", "/dev/fuse": "/dev/fuse",
		"/dev/zero": "/dev/zero", "/dev/null": "/dev/null",
	} {
		if got[k] != v {
			t.Errorf("ext mount %s -> %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if _, ok := got["/proc"]; ok {
		t.Errorf("/proc is no external mount: %v", got)
	}
}

func TestOnTmpfs(t *testing.T) {
	mounts := []specs.Mount{{Destination: "/dev", Type: "tmpfs"}, {Destination: "/data/", Type: "bind"}}
	for path, want := range map[string]bool{"/dev/pts": true, "/dev": false, "/devices": false, "/data/x": false} {
		if onTmpfs(path, mounts) != want {
			t.Errorf("onTmpfs(%q) = %v", path, !want)
		}
	}
}

// The network and PID namespaces a config joins by path are external to criu, each only from
// the criu version that can leave it out of a dump and join it again; others are joined by path.
func TestExternalNS(t *testing.T) {
	for _, tc := range []struct {
		ns       specs.LinuxNamespace
		version  int
		external bool
		err      string
	}{
		{specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/run/netns/a"}, criuExtNetNS, true, ""},
		{specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/run/netns/a"}, criuExtNetNS - 1, false, "criu 3.10.99 cannot checkpoint or restore a container in an external net namespace (/run/netns/a): criu 3.11.0 or later"},
		{specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"}, criuExtPidNS, true, ""},
		{specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"}, criuExtNetNS, false, "external pid namespace (/proc/1/ns/pid): criu 3.15.0 or later"},
		{specs.LinuxNamespace{Type: specs.NetworkNamespace}, 30000, false, ""},
		{specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "/proc/1/ns/ipc"}, 30000, false, ""},
	} {
		external, err := (&criuSetup{version: tc.version}).externalNS(tc.ns)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "linux.namespaces: ") {
				t.Errorf("externalNS(%v) with criu %d: %v, want an error with %q", tc.ns, tc.version, err, tc.err)
			}
			continue
		}
		if err != nil || external != tc.external {
			t.Errorf("externalNS(%v) with criu %d = %v, %v; want %v", tc.ns, tc.version, external, err, tc.external)
		}
	}
}

// A bad --manage-cgroups-mode is refused before criu is looked for; criu's log goes to the
// work directory, else the image directory.
func TestSetupCriuAndLogPath(t *testing.T) {
	_, err := setupCriu("checkpoint", CriuOpts{ManageCgroupsMode: "bogus", CriuPath: "/nonexistent/criu"})
	if err == nil || !strings.Contains(err.Error(), "--manage-cgroups-mode") {
		t.Errorf("setupCriu with a bad mode and no criu: %v, want the mode refused", err)
	}
	_, err = setupCriu("checkpoint", CriuOpts{CriuPath: "/nonexistent/criu"})
	if err == nil || !strings.Contains(err.Error(), "--criu /nonexistent/criu") {
		t.Errorf("setupCriu without criu: %v, want --criu named", err)
	}
	if got := (CriuOpts{ImagePath: "/img"}).logPath(restoreLog); got != "/img/restore.log" {
		t.Errorf("logPath without a work path = %s", got)
	}
	if got := (CriuOpts{ImagePath: "/img", WorkPath: "/work"}).logPath(dumpLog); got != "/work/dump.log" {
		t.Errorf("logPath with a work path = %s", got)
	}
}
