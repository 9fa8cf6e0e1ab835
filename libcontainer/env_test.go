package libcontainer

import (
	"reflect"
	"testing"
)

// The workload's environment as runc prepares it: the last value of a name wins, at the place
// of its last occurrence; an empty or absent HOME comes from the user's passwd entry.
func TestExecEnv(t *testing.T) {
	home := func() string { return "/home/u" }
	for _, tc := range []struct{ in, want []string }{
		{[]string{"PATH=/bin", "HOME=/h"}, []string{"PATH=/bin", "HOME=/h"}},
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "HOME=/home/u"}},
		{[]string{"HOME=", "A=1"}, []string{"A=1", "HOME=/home/u"}},
		{[]string{"A=1", "B=x", "A=2"}, []string{"B=x", "A=2", "HOME=/home/u"}},
		{[]string{"HOME=/x", "HOME="}, []string{"HOME=/home/u"}},
		{[]string{"HOME=", "HOME=/x"}, []string{"HOME=/x"}},
		{[]string{"A=", "A=b=c"}, []string{"A=b=c", "HOME=/home/u"}},
		{nil, []string{"HOME=/home/u"}},
	} {
		if got := execEnv(tc.in, home); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("execEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
