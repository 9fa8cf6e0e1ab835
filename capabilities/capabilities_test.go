package capabilities

import (
	"sort"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNewNilIsEmpty(t *testing.T) {
	c, warns, err := New(nil)
	if err != nil || len(warns) != 0 {
		t.Fatalf("New(nil) = %v, %v", warns, err)
	}
	if *c != (Caps{}) {
		t.Fatalf("New(nil) = %+v, want all sets empty", *c)
	}
}

func TestNewTranslatesEachSet(t *testing.T) {
	c, warns, err := New(&specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
		Effective:   []string{"CAP_KILL"},
		Permitted:   []string{"CAP_KILL", "CAP_CHOWN"},
		Inheritable: []string{"CAP_KILL"},
		Ambient:     []string{"CAP_KILL"},
	})
	if err != nil || len(warns) != 0 {
		t.Fatalf("New = %v, %v", warns, err)
	}
	want := Caps{
		Bounding:    1<<0 | 1<<5 | 1<<10,
		Effective:   1 << 5,
		Permitted:   1<<5 | 1<<0,
		Inheritable: 1 << 5,
		Ambient:     1 << 5,
	}
	if *c != want {
		t.Fatalf("New = %+v, want %+v", *c, want)
	}
}

func TestNewAbsentSetIsEmpty(t *testing.T) {
	c, _, err := New(&specs.LinuxCapabilities{Bounding: []string{"CAP_SYS_ADMIN"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bounding != 1<<21 || c.Effective|c.Permitted|c.Inheritable|c.Ambient != 0 {
		t.Fatalf("New = %+v, want only bounding CAP_SYS_ADMIN", *c)
	}
}

func TestNewUnknownNameIsAnError(t *testing.T) {
	for _, tc := range []struct {
		caps  specs.LinuxCapabilities
		field string
		name  string
	}{
		{specs.LinuxCapabilities{Bounding: []string{"CAP_FOO"}}, "bounding", "CAP_FOO"},
		{specs.LinuxCapabilities{Effective: []string{"CAP_CHOWN", "chown"}}, "effective", "chown"},
		{specs.LinuxCapabilities{Ambient: []string{"CAP_"}}, "ambient", "CAP_"},
	} {
		_, _, err := New(&tc.caps)
		if err == nil {
			t.Fatalf("New(%+v) succeeded, want an error", tc.caps)
		}
		want := `unknown capability "` + tc.name + `" in process.capabilities.` + tc.field
		if err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
		if Validate(&tc.caps) == nil {
			t.Errorf("Validate(%+v) succeeded", tc.caps)
		}
	}
}

func TestNamesAboveTheKernelsLastAreSkipped(t *testing.T) {
	r := resolver{last: capability.CAP_PERFMON, warned: map[string]bool{}}
	mask, err := r.resolve("bounding", []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"})
	if err != nil {
		t.Fatal(err)
	}
	if mask != 1 {
		t.Fatalf("mask %#x, want only CAP_CHOWN", mask)
	}
	if len(r.warnings) != 2 || !strings.Contains(r.warnings[0], "CAP_CHECKPOINT_RESTORE") || !strings.Contains(r.warnings[1], "CAP_BPF") {
		t.Fatalf("warnings %q, want one each for CAP_CHECKPOINT_RESTORE and CAP_BPF", r.warnings)
	}
}

func TestEffectiveOutsidePermittedIsAnError(t *testing.T) {
	_, _, err := New(&specs.LinuxCapabilities{
		Effective: []string{"CAP_KILL", "CAP_CHOWN"},
		Permitted: []string{"CAP_KILL"},
	})
	if err == nil || !strings.Contains(err.Error(), "CAP_CHOWN") || strings.Contains(err.Error(), "CAP_KILL,") {
		t.Fatalf("error %v, want one naming CAP_CHOWN only", err)
	}
}

func TestAmbientThatCannotBeRaisedIsWarnedAndDropped(t *testing.T) {
	c, warns, err := New(&specs.LinuxCapabilities{
		Permitted:   []string{"CAP_KILL", "CAP_CHOWN"},
		Inheritable: []string{"CAP_KILL"},
		Ambient:     []string{"CAP_KILL", "CAP_CHOWN"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Ambient != 1<<5 {
		t.Fatalf("ambient %#x, want only CAP_KILL", c.Ambient)
	}
	// runc's integration tests look for this prefix.
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "can't raise ambient capability CAP_CHOWN: ") {
		t.Fatalf("warnings %q", warns)
	}
}

func TestKnownNames(t *testing.T) {
	names := KnownNames()
	if !sort.StringsAreSorted(names) {
		t.Fatal("KnownNames is not sorted")
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_AUDIT_READ"} {
		if !have[n] {
			t.Errorf("KnownNames lacks %s", n)
		}
	}
	if len(names) != 41 {
		t.Errorf("KnownNames has %d names, want 41 (0..CAP_CHECKPOINT_RESTORE)", len(names))
	}
}
