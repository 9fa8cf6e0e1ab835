package libcontainer

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// mountOpts is the parsed form of a spec mount's options.
type mountOpts struct {
	Flags uintptr // MS_* flags for mount(2)
	// Cleared are the flags an option asked to clear (rw, suid, dev, exec, atime, ...): on a
	// bind mount they make a remount as much as set flags do (see bindFlags).
	Cleared     uintptr
	Propagation []uintptr
	Data        string // the options the filesystem itself parses
	// Recursive attributes applied with mount_setattr(AT_RECURSIVE) after the mount.
	AttrSet, AttrClr uint64
	RecursiveAtime   bool // an r*atime option sets the atime mode (MOUNT_ATTR__ATIME)
	TmpCopyUp        bool
	// IDMap (options idmap, ridmap) makes the bind mount id-mapped; IDMapRecursive (ridmap)
	// maps its submounts too (idmapmount_linux.go).
	IDMap, IDMapRecursive bool
}

var mountFlagOpts = map[string]struct {
	clear bool
	flag  uintptr
}{
	"ro": {false, unix.MS_RDONLY}, "rw": {true, unix.MS_RDONLY},
	"nosuid": {false, unix.MS_NOSUID}, "suid": {true, unix.MS_NOSUID},
	"nodev": {false, unix.MS_NODEV}, "dev": {true, unix.MS_NODEV},
	"noexec": {false, unix.MS_NOEXEC}, "exec": {true, unix.MS_NOEXEC},
	"sync": {false, unix.MS_SYNCHRONOUS}, "async": {true, unix.MS_SYNCHRONOUS},
	"dirsync": {false, unix.MS_DIRSYNC}, "remount": {false, unix.MS_REMOUNT},
	"mand": {false, unix.MS_MANDLOCK}, "nomand": {true, unix.MS_MANDLOCK},
	"atime": {true, unix.MS_NOATIME}, "noatime": {false, unix.MS_NOATIME},
	"diratime": {true, unix.MS_NODIRATIME}, "nodiratime": {false, unix.MS_NODIRATIME},
	"relatime": {false, unix.MS_RELATIME}, "norelatime": {true, unix.MS_RELATIME},
	"strictatime": {false, unix.MS_STRICTATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"bind": {false, unix.MS_BIND}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"silent": {false, unix.MS_SILENT}, "loud": {true, unix.MS_SILENT},
	"lazytime": {false, unix.MS_LAZYTIME}, "nolazytime": {true, unix.MS_LAZYTIME},
	"iversion": {false, unix.MS_I_VERSION}, "noiversion": {true, unix.MS_I_VERSION},
	"nosymfollow": {false, unix.MS_NOSYMFOLLOW}, "symfollow": {true, unix.MS_NOSYMFOLLOW},
}

var propagationOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

var recursiveAttrOpts = map[string]struct {
	clear bool
	attr  uint64
}{
	"rro": {false, unix.MOUNT_ATTR_RDONLY}, "rrw": {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid": {false, unix.MOUNT_ATTR_NOSUID}, "rsuid": {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev": {false, unix.MOUNT_ATTR_NODEV}, "rdev": {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec": {false, unix.MOUNT_ATTR_NOEXEC}, "rexec": {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {false, unix.MOUNT_ATTR_NODIRATIME}, "rdiratime": {true, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW}, "rsymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// The atime modes are one field: each r*atime option picks a mode rather than a bit.
var recursiveAtimeOpts = map[string]uint64{
	"rrelatime": unix.MOUNT_ATTR_RELATIME, "rnorelatime": unix.MOUNT_ATTR_RELATIME,
	"rnoatime": unix.MOUNT_ATTR_NOATIME, "ratime": unix.MOUNT_ATTR_RELATIME,
	"rstrictatime": unix.MOUNT_ATTR_STRICTATIME, "rnostrictatime": unix.MOUNT_ATTR_RELATIME,
}

// MountOptionNames lists every option husk understands, for `features`.
func MountOptionNames() []string {
	var names []string
	for k := range mountFlagOpts {
		names = append(names, k)
	}
	for k := range propagationOpts {
		names = append(names, k)
	}
	for k := range recursiveAttrOpts {
		names = append(names, k)
	}
	for k := range recursiveAtimeOpts {
		names = append(names, k)
	}
	return append(names, "tmpcopyup", "idmap", "ridmap")
}

func parseMountOptions(options []string) (mountOpts, error) {
	var o mountOpts
	var data []string
	for _, opt := range options {
		if opt == "" {
			continue // as runc: buildah sends one for `run -v SRC:DST` with a non-root user
		}
		if f, ok := mountFlagOpts[opt]; ok {
			if f.clear {
				o.Flags &^= f.flag
				o.Cleared |= f.flag
			} else {
				o.Flags |= f.flag
				o.Cleared &^= f.flag
			}
			continue
		}
		if p, ok := propagationOpts[opt]; ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if a, ok := recursiveAttrOpts[opt]; ok {
			if a.clear {
				o.AttrClr |= a.attr
				o.AttrSet &^= a.attr
			} else {
				o.AttrSet |= a.attr
				o.AttrClr &^= a.attr
			}
			continue
		}
		if mode, ok := recursiveAtimeOpts[opt]; ok {
			o.RecursiveAtime = true
			o.AttrSet = o.AttrSet&^unix.MOUNT_ATTR__ATIME | mode
			o.AttrClr |= unix.MOUNT_ATTR__ATIME
			if opt == "rnodiratime" {
				o.AttrSet |= unix.MOUNT_ATTR_NODIRATIME
			}
			continue
		}
		switch opt {
		case "tmpcopyup":
			o.TmpCopyUp = true
			continue
		case "idmap", "ridmap":
			o.IDMap = true
			o.IDMapRecursive = o.IDMapRecursive || opt == "ridmap"
			continue
		}
		if strings.Contains(opt, ",") {
			return o, fmt.Errorf("option %q contains a comma; give each option separately", opt)
		}
		data = append(data, opt)
	}
	o.Data = strings.Join(data, ",")
	return o, nil
}
