package systemd

import (
	"strings"
	"testing"
)

// A unit name read back from state.json is checked before it is ever sent to systemd.
func TestLoadRefusesUnitNames(t *testing.T) {
	for _, unit := range []string{"", "husk-x.service", "a/b.scope", "x y.scope", "husk-x.scope\n"} {
		_, err := Load(unit, map[string]string{"": "/sys/fs/cgroup/system.slice/" + unit}, false)
		if err == nil || !strings.Contains(err.Error(), "not a scope or slice name") {
			t.Errorf("Load(%q): %v", unit, err)
		}
	}
}
