package userns

import "testing"

func TestMapToParent(t *testing.T) {
	m := "         0       1000          1\n         1     100000      65536\n"
	for id, want := range map[int]int{0: 1000, 1: 100000, 65536: 165535} {
		if got, ok := mapToParent(m, id); !ok || got != want {
			t.Errorf("mapToParent(%d) = %d, %v; want %d", id, got, ok, want)
		}
	}
	if _, ok := mapToParent(m, 65537); ok {
		t.Error("mapToParent(65537) found an id outside the map")
	}
}
