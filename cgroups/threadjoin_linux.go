package cgroups

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ThreadJoinFiles splits joining m into what the joining process's own thread can do and
// what still needs a process-wide join (rest.Apply(pid) by someone else; nil when nothing).
//
// Moving a whole process (a pid written to cgroup.procs) takes the kernel's global
// cgroup_threadgroup_rwsem for writing, and taking it first waits for an RCU grace period
// unless another migration happened moments before: 5-15 ms on this kind of host, on every
// container start. A thread that writes "0" to a v1 hierarchy's tasks file moves only
// itself, and for that the kernel skips the global lock (cgroup_procs_write_start). The
// container's init does it for every v1 directory from its main thread: that thread leads
// the thread group (memory is charged to the leader's cgroup) and is the one that execs the
// workload, while its other threads die at execve. cgroup2 has no such write for a domain
// cgroup, so a hybrid host's cgroup2 part stays a process-wide join.
func ThreadJoinFiles(m Manager) (tasks []string, rest Manager) {
	fm, ok := m.(*fsManager)
	if !ok {
		return nil, m
	}
	for _, dm := range fm.dirs() {
		tasks = append(tasks, filepath.Join(dm[0], "tasks"))
	}
	if fm.unified != nil {
		return tasks, fm.unified
	}
	return tasks, nil
}

// JoinThread moves the calling thread into the v1 cgroup of each tasks file open on fds (see
// ThreadJoinFiles; names are their paths, for errors), and closes the fds. The kernel checks
// the credentials of whoever opened a tasks file, not the writer's: husk opens them, and the
// init writes from whatever mount or user namespace it is in by then. The caller must be
// locked to its OS thread.
func JoinThread(fds []int, names []string) error {
	var err error
	for i, fd := range fds {
		if err == nil {
			if _, werr := unix.Write(fd, []byte("0")); werr != nil {
				name := "fd " + strconv.Itoa(fd)
				if i < len(names) {
					name = names[i]
				}
				err = fmt.Errorf("join cgroup: write 0 to %s: %w", name, werr)
			}
		}
		unix.Close(fd)
	}
	return err
}

// CloneIntoDir makes m's cgroup when m is a cgroup2 cgroup that a new process may be created
// in directly (clone3 with CLONE_INTO_CGROUP: no migration, so no wait for the global lock),
// and returns its directory. It returns "" when m is not cgroup2, or when the cgroup accounts
// memory: the init would then be charged for its own Go runtime, which a small memory limit
// cannot take (the init joins such a cgroup after its runtime has started).
func CloneIntoDir(m Manager) (string, error) {
	fm, ok := m.(*fs2Manager)
	if !ok {
		return "", nil
	}
	if err := fm.Apply(-1); err != nil {
		return "", err
	}
	ctrls, err := readFile(fm.dir, "cgroup.controllers")
	if err != nil {
		return "", err
	}
	for _, c := range strings.Fields(ctrls) {
		if c == "memory" {
			return "", nil
		}
	}
	return fm.dir, nil
}
