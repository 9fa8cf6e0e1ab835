package libcontainer

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ValidateID refuses ids that could escape the state directory or confuse callers.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("container id cannot be empty")
	}
	if len(id) > 1024 {
		return fmt.Errorf("container id is longer than 1024 bytes")
	}
	if !validIDChars(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container id %q: only letters, digits, '_', '+', '-' and '.' are allowed, and not '.' or '..' alone", id)
	}
	return nil
}

// validIDChars is runc's ^[\w+\-.]+$, without a regexp: compiling one at package
// initialisation cost every husk process, the container's init included, 0.1 ms.
func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return len(id) > 0
}

var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     0x20000000, // CLONE_NEWPID
	specs.NetworkNamespace: 0x40000000, // CLONE_NEWNET
	specs.MountNamespace:   0x00020000, // CLONE_NEWNS
	specs.IPCNamespace:     0x08000000, // CLONE_NEWIPC
	specs.UTSNamespace:     0x04000000, // CLONE_NEWUTS
	specs.UserNamespace:    0x10000000, // CLONE_NEWUSER
	specs.CgroupNamespace:  0x02000000, // CLONE_NEWCGROUP
	specs.TimeNamespace:    0x00000080, // CLONE_NEWTIME
}

var rlimitNames = map[string]int{
	"RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
	"RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
	"RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
	"RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
}

// Validate checks everything about a config that can be checked without touching the host.
func Validate(s *specs.Spec) error {
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("root.path: must be set")
	}
	if s.Process == nil {
		return errors.New("process: must be set")
	}
	if s.Linux == nil {
		return errors.New("linux: must be set for a Linux container")
	}
	if err := validateProcess(s.Process); err != nil {
		return err
	}
	has, err := validateNamespaces(s.Linux)
	if err != nil {
		return err
	}
	if err := checkNoNUL(s); err != nil {
		return err
	}
	// The kernel's limit (__NEW_UTS_LEN); checked here so the error is short and early.
	if len(s.Hostname) > 64 {
		return fmt.Errorf("hostname: %d bytes, the kernel allows at most 64", len(s.Hostname))
	}
	if len(s.Domainname) > 64 {
		return fmt.Errorf("domainname: %d bytes, the kernel allows at most 64", len(s.Domainname))
	}
	if s.Hostname != "" && !has[specs.UTSNamespace] {
		return errors.New("hostname: cannot be set without a new uts namespace in linux.namespaces")
	}
	if s.Domainname != "" && !has[specs.UTSNamespace] {
		return errors.New("domainname: cannot be set without a new uts namespace in linux.namespaces")
	}
	if err := validateUserNS(s.Linux, has[specs.UserNamespace]); err != nil {
		return err
	}
	if len(s.Linux.TimeOffsets) > 0 && !has[specs.TimeNamespace] {
		return errors.New("linux.timeOffsets: requires a new time namespace in linux.namespaces")
	}
	for clock := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("linux.timeOffsets: unknown clock %q (want monotonic or boottime)", clock)
		}
	}
	for i, m := range s.Mounts {
		if err := validateMount(i, m); err != nil {
			return err
		}
		if err := validateIDMapMount(i, m, has[specs.UserNamespace]); err != nil {
			return err
		}
	}
	for i, d := range s.Linux.Devices {
		if !filepath.IsAbs(d.Path) || !strings.HasPrefix(filepath.Clean(d.Path), "/dev/") {
			return fmt.Errorf("linux.devices[%d].path: %q must be an absolute path under /dev", i, d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return fmt.Errorf("linux.devices[%d].type: unknown device type %q (want c, b, u or p)", i, d.Type)
		}
		if d.Major < 0 || d.Major > 0xfff {
			return fmt.Errorf("linux.devices[%d].major: %d is out of range (0-4095)", i, d.Major)
		}
		if d.Minor < 0 || d.Minor > 0xfffff {
			return fmt.Errorf("linux.devices[%d].minor: %d is out of range (0-1048575)", i, d.Minor)
		}
	}
	for _, p := range s.Linux.MaskedPaths {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("linux.maskedPaths: %q is not an absolute path", p)
		}
	}
	for _, p := range s.Linux.ReadonlyPaths {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("linux.readonlyPaths: %q is not an absolute path", p)
		}
	}
	switch s.Linux.RootfsPropagation {
	case "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable":
	default:
		return fmt.Errorf("linux.rootfsPropagation: unknown value %q", s.Linux.RootfsPropagation)
	}
	if err := validateSysctl(s.Linux.Sysctl, has); err != nil {
		return err
	}
	if s.Linux.MemoryPolicy != nil {
		if _, err := parseMemoryPolicy(s.Linux.MemoryPolicy); err != nil {
			return err
		}
	}
	if len(s.Linux.NetDevices) > 0 {
		return errors.New("linux.netDevices: not supported by husk yet")
	}
	if s.Linux.IntelRdt != nil {
		return errors.New("linux.intelRdt: not supported by husk")
	}
	if err := validateSELinuxLabel("linux.mountLabel", s.Linux.MountLabel); err != nil {
		return err
	}
	if pers := s.Linux.Personality; pers != nil {
		if _, ok := personalityDomains[pers.Domain]; !ok {
			return fmt.Errorf("linux.personality.domain: unknown domain %q", pers.Domain)
		}
		if len(pers.Flags) > 0 {
			return fmt.Errorf("linux.personality.flags: no flags are supported, got %v", pers.Flags)
		}
	}
	if !hasNS(s.Linux, specs.MountNamespace) {
		return errors.New("linux.namespaces: a mount namespace is required")
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	return nil
}

func hasNS(l *specs.Linux, typ specs.LinuxNamespaceType) bool {
	for _, ns := range l.Namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}

func validateProcess(p *specs.Process) error {
	if len(p.Args) == 0 && p.CommandLine == "" {
		return errors.New("process.args: must not be empty")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd: %q must be an absolute path", p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fmt.Errorf("process.env[%d]: %q is not of the form NAME=value", i, e)
		}
	}
	seen := map[string]bool{}
	for _, r := range p.Rlimits {
		if _, ok := rlimitNames[r.Type]; !ok {
			return fmt.Errorf("process.rlimits: unknown rlimit type %q", r.Type)
		}
		if seen[r.Type] {
			return fmt.Errorf("process.rlimits: %s given twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d is above the hard limit %d", r.Type, r.Soft, r.Hard)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj: %d is outside -1000..1000", *p.OOMScoreAdj)
	}
	if p.ConsoleSize != nil && !p.Terminal {
		return errors.New("process.consoleSize: set without process.terminal")
	}
	if p.Scheduler != nil {
		if _, err := schedPolicy(p.Scheduler.Policy); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		if _, err := ioprioClass(p.IOPriority.Class); err != nil {
			return err
		}
		if p.IOPriority.Priority < 0 || p.IOPriority.Priority > 7 {
			return fmt.Errorf("process.ioPriority.priority: %d is outside 0..7", p.IOPriority.Priority)
		}
	}
	if strings.IndexByte(p.ApparmorProfile, 0) >= 0 {
		return fmt.Errorf("process.apparmorProfile: %q contains a NUL byte", p.ApparmorProfile)
	}
	if err := validateSELinuxLabel("process.selinuxLabel", p.SelinuxLabel); err != nil {
		return err
	}
	return validateCapabilities(p.Capabilities)
}

func validateNamespaces(l *specs.Linux) (map[specs.LinuxNamespaceType]bool, error) {
	has := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range l.Namespaces {
		if _, ok := nsFlags[ns.Type]; !ok {
			return nil, fmt.Errorf("linux.namespaces[%d].type: unknown namespace type %q", i, ns.Type)
		}
		if has[ns.Type] {
			return nil, fmt.Errorf("linux.namespaces[%d]: namespace %q given twice", i, ns.Type)
		}
		has[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return nil, fmt.Errorf("linux.namespaces[%d].path: %q is not an absolute path", i, ns.Path)
		}
	}
	return has, nil
}

func validateUserNS(l *specs.Linux, hasUserNS bool) error {
	newUserNS := false
	for _, ns := range l.Namespaces {
		if ns.Type == specs.UserNamespace && ns.Path == "" {
			newUserNS = true
		}
	}
	if !hasUserNS && (len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0) {
		return errors.New("linux.uidMappings: id mappings given without a user namespace in linux.namespaces")
	}
	if newUserNS && (len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0) {
		return errors.New("linux.uidMappings and linux.gidMappings: a new user namespace needs both")
	}
	for i, m := range append(append([]specs.LinuxIDMapping{}, l.UIDMappings...), l.GIDMappings...) {
		if m.Size == 0 {
			return fmt.Errorf("linux id mapping %d: size must be above 0", i)
		}
	}
	return nil
}

func validateMount(i int, m specs.Mount) error {
	if m.Destination == "" {
		return fmt.Errorf("mounts[%d].destination: must be set", i)
	}
	if !filepath.IsAbs(m.Destination) {
		return fmt.Errorf("mounts[%d].destination: %q is not an absolute path", i, m.Destination)
	}
	if _, err := parseMountOptions(m.Options); err != nil {
		return fmt.Errorf("mounts[%d] (%s).options: %w", i, m.Destination, err)
	}
	if m.Type == "" && !isBind(m) {
		return fmt.Errorf("mounts[%d] (%s).type: must be set unless options has bind or rbind", i, m.Destination)
	}
	// As written; symlinks in the rootfs are resolved and checked again at mount time.
	if _, err := checkProcDest(filepath.Clean(m.Destination), m); err != nil {
		return fmt.Errorf("mounts[%d].destination: %w", i, err)
	}
	for _, o := range m.Options {
		if strings.ContainsRune(o, 0) {
			return fmt.Errorf("mounts[%d] (%s).options: option %q contains a NUL byte", i, m.Destination, o)
		}
	}
	return nil
}

// validateIDMapMount checks an id-mapped mount (uidMappings/gidMappings, or the idmap/ridmap
// option) as runc does: a bind mount, with both mappings or, with neither, a user namespace
// whose mappings it takes.
func validateIDMapMount(i int, m specs.Mount, hasUserNS bool) error {
	opts, _ := parseMountOptions(m.Options) // validateMount checked them
	if !isIDMapped(m, opts) {
		return nil
	}
	if !isBind(m) {
		return fmt.Errorf("mounts[%d] (%s): id-mapped mounts are only supported for bind mounts", i, m.Destination)
	}
	if (len(m.UIDMappings) == 0) != (len(m.GIDMappings) == 0) {
		return fmt.Errorf("mounts[%d] (%s): an id-mapped mount needs both uidMappings and gidMappings", i, m.Destination)
	}
	if len(m.UIDMappings) == 0 && !hasUserNS {
		return fmt.Errorf("mounts[%d] (%s): the idmap option without uidMappings and gidMappings takes the container's user namespace, and linux.namespaces has none", i, m.Destination)
	}
	for j, id := range append(append([]specs.LinuxIDMapping{}, m.UIDMappings...), m.GIDMappings...) {
		if id.Size == 0 {
			return fmt.Errorf("mounts[%d] (%s): id mapping %d: size must be above 0", i, m.Destination, j)
		}
	}
	return nil
}

// isIDMapped says whether a mount is id-mapped: it has mappings or the idmap/ridmap option
// (runc maps a mount with mappings and neither option too, not recursively).
func isIDMapped(m specs.Mount, opts mountOpts) bool {
	return opts.IDMap || len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
}

func isBind(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// Sysctls a container may set only with its own namespace of that kind, as runc allows.
func validateSysctl(sysctl map[string]string, has map[specs.LinuxNamespaceType]bool) error {
	ipc := map[string]bool{
		"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
		"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
	}
	for key := range sysctl {
		if strings.Contains(key, "..") || strings.ContainsAny(key, "\x00") || strings.HasPrefix(key, "/") {
			return fmt.Errorf("linux.sysctl: invalid name %q", key)
		}
		name := strings.ReplaceAll(key, "/", ".")
		switch {
		case ipc[name] || strings.HasPrefix(name, "fs.mqueue."):
			if !has[specs.IPCNamespace] {
				return fmt.Errorf("linux.sysctl: %q is not allowed in the host's ipc namespace", key)
			}
		case strings.HasPrefix(name, "net."):
			if !has[specs.NetworkNamespace] {
				return fmt.Errorf("linux.sysctl: %q is not allowed in the host's network namespace", key)
			}
		case name == "kernel.hostname" || name == "kernel.domainname":
			if !has[specs.UTSNamespace] {
				return fmt.Errorf("linux.sysctl: %q is not allowed in the host's uts namespace", key)
			}
		default:
			return fmt.Errorf("linux.sysctl: %q is not namespaced and cannot be set in a container", key)
		}
	}
	return nil
}

func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	kinds := map[string][]specs.Hook{
		"prestart": h.Prestart, "createRuntime": h.CreateRuntime, "createContainer": h.CreateContainer,
		"startContainer": h.StartContainer, "poststart": h.Poststart, "poststop": h.Poststop,
	}
	for kind, hooks := range kinds {
		for i, hk := range hooks {
			if !filepath.IsAbs(hk.Path) {
				return fmt.Errorf("hooks.%s[%d].path: %q is not an absolute path", kind, i, hk.Path)
			}
			if hk.Timeout != nil && *hk.Timeout <= 0 {
				return fmt.Errorf("hooks.%s[%d].timeout: %d must be above 0", kind, i, *hk.Timeout)
			}
		}
	}
	return nil
}

// checkNoNUL refuses NUL bytes in the strings that reach system calls as C strings, where
// they would silently cut the value short.
func checkNoNUL(s *specs.Spec) error {
	check := func(field, v string) error {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s: %q contains a NUL byte", field, v)
		}
		return nil
	}
	for i, a := range s.Process.Args {
		if err := check(fmt.Sprintf("process.args[%d]", i), a); err != nil {
			return err
		}
	}
	for i, e := range s.Process.Env {
		if err := check(fmt.Sprintf("process.env[%d]", i), e); err != nil {
			return err
		}
	}
	for field, v := range map[string]string{"process.cwd": s.Process.Cwd, "hostname": s.Hostname,
		"domainname": s.Domainname, "root.path": s.Root.Path, "linux.cgroupsPath": s.Linux.CgroupsPath} {
		if err := check(field, v); err != nil {
			return err
		}
	}
	for i, m := range s.Mounts {
		for _, v := range []string{m.Destination, m.Source, m.Type} {
			if err := check(fmt.Sprintf("mounts[%d]", i), v); err != nil {
				return err
			}
		}
	}
	for i, ns := range s.Linux.Namespaces {
		if err := check(fmt.Sprintf("linux.namespaces[%d].path", i), ns.Path); err != nil {
			return err
		}
	}
	for i, d := range s.Linux.Devices {
		if err := check(fmt.Sprintf("linux.devices[%d].path", i), d.Path); err != nil {
			return err
		}
	}
	for _, list := range [][]string{s.Linux.MaskedPaths, s.Linux.ReadonlyPaths} {
		for _, p := range list {
			if err := check("linux.maskedPaths/readonlyPaths", p); err != nil {
				return err
			}
		}
	}
	for k, v := range s.Linux.Sysctl {
		if err := check("linux.sysctl", k+"="+v); err != nil {
			return err
		}
	}
	return nil
}
