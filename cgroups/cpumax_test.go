package cgroups

import (
	"path/filepath"
	"testing"
)

func TestCurrentCPUMax(t *testing.T) {
	v2, _ := newFakeV2(t)
	v1, _ := newFakeV1(t, Legacy)
	cases := []struct {
		m      Manager
		dir    string
		values map[string]string // written first
		want   CPUMax
	}{
		{v2, v2.dir, nil, CPUMax{Quota: -1, Period: 100000}},
		{v2, v2.dir, map[string]string{"cpu.max": "30000 50000\n"}, CPUMax{Quota: 30000, Period: 50000}},
		{v1, v1.paths["cpu"], nil, CPUMax{Quota: -1, Period: 100000}},
		{v1, v1.paths["cpu"], map[string]string{"cpu.cfs_quota_us": "20000\n", "cpu.cfs_period_us": "40000\n"}, CPUMax{Quota: 20000, Period: 40000}},
	}
	for _, c := range cases {
		for name, v := range c.values {
			writeTestFile(t, filepath.Join(c.dir, name), v)
		}
		got, err := CurrentCPUMax(c.m)
		if err != nil || got != c.want {
			t.Errorf("%s %v: CurrentCPUMax = %+v, %v; want %+v", c.dir, c.values, got, err, c.want)
		}
	}
	writeTestFile(t, filepath.Join(v2.dir, "cpu.max"), "max\n")
	if _, err := CurrentCPUMax(v2); err == nil {
		t.Error("cpu.max without a period accepted")
	}
}

func TestParseCPUMax(t *testing.T) {
	for in, want := range map[string]CPUMax{"max": {-1, 0}, "max 100000\n": {-1, 100000}, " 5000 ": {5000, 0}, "5000 10000": {5000, 10000}} {
		if got, err := ParseCPUMax(in); err != nil || got != want {
			t.Errorf("ParseCPUMax(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "x", "max 0", "1 x", "1 2 3"} {
		if _, err := ParseCPUMax(in); err == nil {
			t.Errorf("ParseCPUMax(%q) accepted", in)
		}
	}
}
