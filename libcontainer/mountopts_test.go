package libcontainer

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	// An empty option is ignored, as runc ignores it.
	o, err := parseMountOptions([]string{"nosuid", "ro", "", "rw", "noexec", "rbind", "rslave", "size=64k", "", "mode=755"})
	if err != nil {
		t.Fatal(err)
	}
	want := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_BIND | unix.MS_REC)
	if o.Flags != want {
		t.Errorf("flags = %#x, want %#x (rw after ro clears MS_RDONLY)", o.Flags, want)
	}
	if o.Data != "size=64k,mode=755" {
		t.Errorf("data = %q", o.Data)
	}
	if len(o.Propagation) != 1 || o.Propagation[0] != unix.MS_SLAVE|unix.MS_REC {
		t.Errorf("propagation = %v", o.Propagation)
	}
}

func TestParseRecursiveAttrs(t *testing.T) {
	o, err := parseMountOptions([]string{"rro", "rnosuid", "rnoatime", "tmpcopyup"})
	if err != nil {
		t.Fatal(err)
	}
	if o.AttrSet&unix.MOUNT_ATTR_RDONLY == 0 || o.AttrSet&unix.MOUNT_ATTR_NOSUID == 0 {
		t.Errorf("attr_set = %#x, want rdonly and nosuid", o.AttrSet)
	}
	if o.AttrSet&unix.MOUNT_ATTR__ATIME != unix.MOUNT_ATTR_NOATIME || o.AttrClr&unix.MOUNT_ATTR__ATIME != unix.MOUNT_ATTR__ATIME {
		t.Errorf("atime: set %#x clr %#x", o.AttrSet, o.AttrClr)
	}
	if !o.TmpCopyUp {
		t.Error("tmpcopyup not parsed")
	}
	o, _ = parseMountOptions([]string{"rro", "rrw"})
	if o.AttrSet&unix.MOUNT_ATTR_RDONLY != 0 || o.AttrClr&unix.MOUNT_ATTR_RDONLY == 0 {
		t.Errorf("rrw after rro: set %#x clr %#x", o.AttrSet, o.AttrClr)
	}
}

func TestParseMountOptionsRejects(t *testing.T) {
	for _, bad := range [][]string{{"a,b"}} {
		if _, err := parseMountOptions(bad); err == nil {
			t.Errorf("parseMountOptions(%q) accepted", bad)
		}
	}
}
