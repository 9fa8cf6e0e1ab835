package libcontainer

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestBindRemountNeeded(t *testing.T) {
	for _, tc := range []struct {
		opts []string
		want bool
	}{
		{[]string{"bind"}, false},
		{[]string{"rbind", "rprivate"}, false},
		{[]string{"bind", "ro"}, true},
		// Options that only clear a flag change a bind mount too (runc remounts for them).
		{[]string{"bind", "rw"}, true},
		{[]string{"rbind", "dev", "exec", "suid"}, true},
		{[]string{"bind", "atime"}, true},
	} {
		o, err := parseMountOptions(tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := needsRemount(o); got != tc.want {
			t.Errorf("needsRemount(%q) = %v, want %v", tc.opts, got, tc.want)
		}
	}
	o, _ := parseMountOptions([]string{"suid", "nosuid", "rw"})
	if o.Cleared != unix.MS_RDONLY || o.Flags != unix.MS_NOSUID {
		t.Errorf("suid then nosuid, rw: flags %#x cleared %#x", o.Flags, o.Cleared)
	}
}

func TestMountFlagsOf(t *testing.T) {
	got := mountFlagsOf(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_NOATIME)
	want := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME)
	if got != want {
		t.Errorf("mountFlagsOf = %#x, want %#x", got, want)
	}
	// No atime mode among the statfs flags is strictatime; nosymfollow is kept.
	if got := mountFlagsOf(stNoSymfollow); got != unix.MS_STRICTATIME|unix.MS_NOSYMFOLLOW {
		t.Errorf("mountFlagsOf(nosymfollow) = %#x", got)
	}
	if got := flagNames(unix.MS_RDONLY | unix.MS_NOATIME); got != "ro,noatime" {
		t.Errorf("flagNames = %q", got)
	}
}
