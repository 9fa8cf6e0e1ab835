package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Rootless containers: husk run by an unprivileged user (euid != 0), as runc's "rootless
// EUID". The container needs a user namespace (the only place where that user is root); its
// id maps are written by husk directly for the user's own id, or by newuidmap/newgidmap from
// /etc/subuid and /etc/subgid for more. Whether cgroup permission errors are tolerated is a
// separate question (CreateOpts.RootlessCgroups, --rootless).

// rootlessEUID says whether husk runs as an unprivileged user.
func rootlessEUID() bool {
	return os.Geteuid() != 0
}

// validateRootless checks what a rootless container cannot have, before anything is made, as
// runc does: a user namespace (with mappings when it is new), uid=/gid= mount options of ids
// it maps, no additional groups (setgroups is denied) and no id-mapped mounts.
func validateRootless(s *specs.Spec) error {
	uid := os.Geteuid()
	var userns *specs.LinuxNamespace
	for i := range s.Linux.Namespaces {
		if s.Linux.Namespaces[i].Type == specs.UserNamespace {
			userns = &s.Linux.Namespaces[i]
		}
	}
	if userns == nil {
		return fmt.Errorf("linux.namespaces: a rootless container (husk run by uid %d) requires a user namespace", uid)
	}
	if len(s.Process.User.AdditionalGids) > 0 {
		return errors.New("process.user.additionalGids: cannot set any additional groups in a rootless container")
	}
	for i, m := range s.Mounts {
		opts, _ := parseMountOptions(m.Options) // Validate checked them
		if isIDMapped(m, opts) {
			return fmt.Errorf("mounts[%d] (%s): id-mapped mounts are not supported for rootless containers", i, m.Destination)
		}
		if userns.Path != "" {
			continue // the joined namespace's maps are not ours to check
		}
		for _, o := range strings.Split(opts.Data, ",") {
			for _, k := range []struct {
				prefix string
				maps   []specs.LinuxIDMapping
			}{{"uid=", s.Linux.UIDMappings}, {"gid=", s.Linux.GIDMappings}} {
				v, ok := strings.CutPrefix(o, k.prefix)
				if !ok {
					continue
				}
				id, err := strconv.ParseUint(v, 10, 32)
				if err == nil && !mapsID(k.maps, uint32(id)) {
					return fmt.Errorf("mounts[%d] (%s).options: %s names an id the container's user namespace does not map (rootless)", i, m.Destination, o)
				}
			}
		}
	}
	return nil
}

func mapsID(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return true
		}
	}
	return false
}

// writeRootlessIDMaps writes the maps of the init's new user namespace as an unprivileged
// user, as runc does: setgroups is denied first when the gid map is the user's own gid alone
// (the kernel requires it); a map the kernel does not take from this user (more than its own
// id) goes through newuidmap/newgidmap, which allow the user's /etc/subuid and /etc/subgid
// ranges.
func writeRootlessIDMaps(pid int, l *specs.Linux) error {
	own := len(l.GIDMappings) == 1 && l.GIDMappings[0].HostID == uint32(os.Getegid()) && l.GIDMappings[0].Size == 1
	if own {
		path := fmt.Sprintf("/proc/%d/setgroups", pid)
		if err := os.WriteFile(path, []byte("deny"), 0); err != nil {
			return fmt.Errorf("linux.gidMappings: write %s: %w", path, err)
		}
	}
	if err := writeMapOrTool(pid, "uid_map", "newuidmap", "linux.uidMappings", l.UIDMappings); err != nil {
		return err
	}
	return writeMapOrTool(pid, "gid_map", "newgidmap", "linux.gidMappings", l.GIDMappings)
}

func writeMapOrTool(pid int, file, tool, field string, maps []specs.LinuxIDMapping) error {
	var b strings.Builder
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10), strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	path := fmt.Sprintf("/proc/%d/%s", pid, file)
	err := os.WriteFile(path, []byte(b.String()), 0)
	if err == nil {
		return nil
	}
	if !errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%s: write %s: %w", field, path, err)
	}
	bin, lerr := exec.LookPath(tool)
	if lerr != nil {
		return fmt.Errorf("%s: write %s: %w, and %s is not installed to map the ids of /etc/sub%cid (Debian: apt-get install uidmap)", field, path, err, tool, file[0])
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %s %s: %w: %s", field, tool, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
