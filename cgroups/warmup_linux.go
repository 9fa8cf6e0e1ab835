package cgroups

import (
	"os"
	"path/filepath"
	"strconv"
)

// WarmUp writes this process's pid into the cgroup.procs of the cgroup it is already in: a
// migration that moves nothing. On this kernel the first cgroup migration after a quiet spell
// waits for an RCU grace period (taking the global cgroup_threadgroup_rwsem for writing),
// often 5-15 ms, and the ones right after it are cheap. Run in the background at the start of
// a create or exec, it pays that wait while other work goes on, so the container's own join
// is fast. It is only an optimisation: errors are ignored.
func WarmUp() {
	own, _, err := readProcCgroup(procSelfCgroup)
	if err != nil {
		return
	}
	var path string
	switch DetectMode() {
	case Unified:
		path = filepath.Join(cgroupRoot, own[""], "cgroup.procs")
	case Hybrid:
		path = filepath.Join(hybridUnified, own[""], "cgroup.procs")
	default:
		path = filepath.Join(cgroupRoot, "pids", own["pids"], "cgroup.procs")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	f.WriteString(strconv.Itoa(os.Getpid()))
	f.Close()
}
