package systemd

import (
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestAnnotationProperties(t *testing.T) {
	props, err := annotationProperties(map[string]string{
		"org.systemd.property.TimeoutStopUSec":     "uint64 123456789",
		"org.systemd.property.CollectMode":         "'inactive-or-failed'",
		"org.systemd.property.TimeoutStopSec":      "2",        // seconds form: int32 -> USec
		"org.systemd.property.RuntimeMaxSec":       "1.5",      // a double
		"org.systemd.property.CPUQuotaPerSec":      "uint64 7", // "c" before Sec: converted
		"org.systemd.property.DefaultDependencies": "true",
		"org.other.annotation":                     "ignored",
		"org.systemd.propertyX":                    "ignored: not the prefix",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		value any
	}{
		// sorted by annotation key
		{"CPUQuotaPerUSec", uint64(7_000_000)},
		{"CollectMode", "inactive-or-failed"},
		{"DefaultDependencies", true},
		{"RuntimeMaxUSec", uint64(1_500_000)},
		{"TimeoutStopUSec", uint64(2_000_000)},
		{"TimeoutStopUSec", uint64(123456789)},
	}
	if len(props) != len(want) {
		t.Fatalf("got %d properties %v, want %d", len(props), props, len(want))
	}
	for i, w := range want {
		if props[i].Name != w.name || props[i].Value != dbus.MakeVariant(w.value) {
			t.Errorf("property %d = %s=%v, want %s=%v", i, props[i].Name, props[i].Value, w.name, dbus.MakeVariant(w.value))
		}
	}
}

func TestAnnotationPropertiesRefuses(t *testing.T) {
	cases := []struct{ key, value, want string }{
		{"org.systemd.property.Ab", "true", "too short"},
		{"org.systemd.property.Foo1", "true", "only ASCII letters"},
		{"org.systemd.property.Foo-Bar", "true", "only ASCII letters"},
		{"org.systemd.property.", "true", "too short"},
		{"org.systemd.property.CollectMode", "inactive-or-failed", "GVariant"},
		{"org.systemd.property.TimeoutStopSec", "'ten'", "needs a number"},
		{"org.systemd.property.TimeoutStopSec", "-1", "negative"},
	}
	for _, c := range cases {
		_, err := annotationProperties(map[string]string{c.key: c.value})
		if err == nil {
			t.Errorf("%s=%s accepted", c.key, c.value)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s=%s: error %q, want it to name the annotation and say %q", c.key, c.value, err, c.want)
		}
	}
}
