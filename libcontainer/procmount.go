package libcontainer

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// procMountFiles are the only places inside /proc a mount may cover, as runc allows them (its
// checkProcMount): the files lxcfs emulates, ns_last_pid and fips_enabled. /proc/net/dev is
// not one of them: /proc/net is a symlink into /proc/self, and runc's check, made on the
// resolved path, refuses it as well.
var procMountFiles = []string{
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid",
	"/proc/sys/crypto/fips_enabled",
}

// checkProcDest refuses a mount that lands on the container's /proc or inside it, as runc
// does (CVE-2019-16884: a mount there can stand in for the files the runtime writes LSM labels
// and sysctls through, or uncover what masked paths hide). On /proc itself only a fresh proc
// filesystem may go, or a bind whose source is a procfs: for a bind, needProcfsSource says the
// caller must check that the source is one. Inside /proc only a mount over one of
// procMountFiles is allowed, whatever its type. dest is the destination as the container
// sees it, absolute and clean; the caller names the mount in the error.
func checkProcDest(dest string, m specs.Mount) (needProcfsSource bool, err error) {
	rest, ok := strings.CutPrefix(dest, "/proc")
	if !ok || (rest != "" && rest[0] != '/') {
		return false, nil // outside /proc (/procfoo included)
	}
	if rest == "" {
		if isBind(m) {
			return true, nil
		}
		if m.Type == "proc" {
			return false, nil
		}
		return false, fmt.Errorf("%q cannot be mounted because it is not of type proc (type %q)", dest, m.Type)
	}
	if slices.Contains(procMountFiles, dest) {
		return false, nil
	}
	return false, fmt.Errorf("%q cannot be mounted because it is inside /proc (only %s may be covered there)",
		dest, strings.Join(procMountFiles, ", "))
}

// errProcBindSource is the refusal of a bind on /proc whose source is not a procfs.
func errProcBindSource(source string) error {
	return fmt.Errorf("\"/proc\" cannot be mounted because it is not of type proc (bind source %s is not a procfs)", source)
}
