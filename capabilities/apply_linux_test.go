package capabilities

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The apply tests change the capabilities of a thread for good, so each runs
// in a fresh copy of the test binary (TestMain turns into the helper when
// helperEnv is set) and reports the sets it ends with.
const helperEnv = "HUSK_CAPS_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

// helper applies the Caps in HUSK_CAPS_TEST_CAPS in the order named by mode
// and prints "ERR <error>" or the Cap* lines of its own thread's status.
func helper(mode string) int {
	runtime.LockOSThread()
	var c Caps
	if err := json.Unmarshal([]byte(os.Getenv("HUSK_CAPS_TEST_CAPS")), &c); err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	steps := map[string][]func() error{
		"bounding-then-caps": {c.ApplyBounding, c.ApplyCaps},
		"caps-then-bounding": {c.ApplyCaps, c.ApplyBounding},
	}[mode]
	for _, step := range steps {
		if err := step(); err != nil {
			fmt.Println("ERR", err)
			return 0
		}
	}
	// /proc/self would show the thread group leader, which may be another
	// thread than the one that applied the sets.
	f, err := os.Open("/proc/thread-self/status")
	if err != nil {
		fmt.Println("ERR", err)
		return 1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "Cap") {
			fmt.Println(s.Text())
		}
	}
	return 0
}

type threadCaps struct{ Inh, Prm, Eff, Bnd, Amb uint64 }

// runHelper applies spec in a child process and returns its resulting sets,
// or the error text ApplyBounding/ApplyCaps gave.
func runHelper(t *testing.T, mode string, spec *specs.LinuxCapabilities) (threadCaps, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	c, _, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "HUSK_CAPS_TEST_CAPS="+string(js))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	text := string(out)
	if rest, ok := strings.CutPrefix(text, "ERR "); ok {
		return threadCaps{}, strings.TrimSpace(rest)
	}
	var tc threadCaps
	fields := map[string]*uint64{"CapInh": &tc.Inh, "CapPrm": &tc.Prm, "CapEff": &tc.Eff, "CapBnd": &tc.Bnd, "CapAmb": &tc.Amb}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if p := fields[k]; p != nil {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatalf("helper line %q: %v", line, err)
			}
			*p = n
			seen++
		}
	}
	if seen != 5 {
		t.Fatalf("helper output lacks Cap lines: %q", text)
	}
	return tc, ""
}

func names(ns ...string) []string { return ns }

func TestApplyDockerDefaultSet(t *testing.T) {
	def := names("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
		"CAP_KILL", "CAP_AUDIT_WRITE")
	got, errText := runHelper(t, "bounding-then-caps", &specs.LinuxCapabilities{
		Bounding: def, Effective: def, Permitted: def,
	})
	if errText != "" {
		t.Fatal(errText)
	}
	const mask = 0x00000000a80425fb // docker's well-known default CapEff
	want := threadCaps{Prm: mask, Eff: mask, Bnd: mask}
	if got != want {
		t.Fatalf("sets %+v, want %+v (nothing inheritable, nothing ambient)", got, want)
	}
}

func TestApplyAmbient(t *testing.T) {
	got, errText := runHelper(t, "bounding-then-caps", &specs.LinuxCapabilities{
		Bounding:    names("CAP_KILL", "CAP_CHOWN", "CAP_SETPCAP"),
		Effective:   names("CAP_KILL"),
		Permitted:   names("CAP_KILL", "CAP_CHOWN"),
		Inheritable: names("CAP_KILL", "CAP_CHOWN"),
		Ambient:     names("CAP_CHOWN"),
	})
	if errText != "" {
		t.Fatal(errText)
	}
	want := threadCaps{Inh: 0x21, Prm: 0x21, Eff: 0x20, Bnd: 0x121, Amb: 0x1}
	if got != want {
		t.Fatalf("sets %+v, want %+v", got, want)
	}
}

func TestApplyEmptyDropsEverything(t *testing.T) {
	got, errText := runHelper(t, "bounding-then-caps", &specs.LinuxCapabilities{})
	if errText != "" {
		t.Fatal(errText)
	}
	if got != (threadCaps{}) {
		t.Fatalf("sets %+v, want all empty", got)
	}
}

// This host's bounding set lacks CAP_SYS_RESOURCE (see DESIGN.md): asking for
// it must fail with the kernel's EPERM and name it.
func TestApplyCapabilityTheHostLacks(t *testing.T) {
	if hostHas(t, 24) {
		t.Skip("this host's bounding set has CAP_SYS_RESOURCE")
	}
	all := names("CAP_KILL", "CAP_SYS_RESOURCE")
	_, errText := runHelper(t, "bounding-then-caps", &specs.LinuxCapabilities{
		Bounding: all, Effective: all, Permitted: all,
	})
	t.Log(errText)
	if !strings.Contains(errText, "CAP_SYS_RESOURCE") || !strings.Contains(errText, "operation not permitted") || strings.Contains(errText, "CAP_KILL") {
		t.Fatalf("error %q, want EPERM naming only CAP_SYS_RESOURCE", errText)
	}
}

// Dropping the bounding set after CAP_SETPCAP is gone must fail loudly, not
// be skipped (moby/sys/capability's Apply(BOUNDS) skips silently).
func TestBoundingDropWithoutSetpcapFails(t *testing.T) {
	_, errText := runHelper(t, "caps-then-bounding", &specs.LinuxCapabilities{
		Bounding: names("CAP_KILL"), Effective: names("CAP_KILL"), Permitted: names("CAP_KILL"),
	})
	if !strings.Contains(errText, "drop CAP_CHOWN: prctl PR_CAPBSET_DROP: operation not permitted") {
		t.Fatalf("error %q, want the failed drop of CAP_CHOWN", errText)
	}
}

func hostHas(t *testing.T, bit uint) bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n&(1<<bit) != 0
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return false
}
