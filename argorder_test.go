package main

import (
	"reflect"
	"strings"
	"testing"
)

// Flags after the container id move in front of it, as runc's CLI library moves them; exec's
// and ps's arguments stay as given, and so does everything after "--".
func TestReorderArgs(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		{"husk update ID --memory 1g --pids-limit 5", "husk update --memory 1g --pids-limit 5 ID"},
		{"husk --root /r update ID --memory=1g", "husk --root /r update --memory=1g ID"},
		{"husk --debug --root=/r kill ID KILL -a", "husk --debug --root=/r kill -a ID KILL"},
		{"husk delete ID -f", "husk delete -f ID"},
		{"husk run ID -d --bundle b", "husk run -d --bundle b ID"},
		{"husk kill ID -9", "husk kill ID -9"}, // not a flag of kill: a signal husk refuses
		{"husk update ID -- --memory 1g", "husk update ID -- --memory 1g"},
		{"husk exec ID ls -l --color", "husk exec ID ls -l --color"},
		{"husk ps ID -o pid", "husk ps ID -o pid"},
		{"husk --root /r", "husk --root /r"},
		{"husk nosuchcommand ID -f", "husk nosuchcommand ID -f"},
	} {
		got := reorderArgs(app, strings.Fields(tc.in))
		if want := strings.Fields(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, got, want)
		}
	}
}
