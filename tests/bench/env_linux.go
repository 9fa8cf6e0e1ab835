package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

const cgroupRoot = "/sys/fs/cgroup"

// checkPrivateMountNS refuses to mount anything unless this process has a mount namespace of
// its own (bench.sh starts it under `unshare --mount --propagation private`): the tmpfs over
// the cgroup2 mount must never reach the host.
func checkPrivateMountNS() error {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("read own mount namespace: %w", err)
	}
	parent, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid()))
	if err != nil {
		return fmt.Errorf("read parent's mount namespace: %w", err)
	}
	if self == parent {
		return errors.New("the bench driver shares its parent's mount namespace: run it through bench.sh (unshare --mount --propagation private)")
	}
	return nil
}

// viewTmpfs is the tmpfs legacyView mounted over the cgroup2 mount, "" if none.
var viewTmpfs string

// legacyView covers /sys/fs/cgroup/unified with an empty tmpfs in this private mount
// namespace. crun 1.8 refuses a hybrid host whose cgroup2 holds a controller (hugetlb here);
// every runtime runs under the same view so that none pays for a wrapper the others don't.
// The tmpfs must be writable: crun still makes a directory per container there and writes its
// pid into a cgroup.procs file (a plain file on tmpfs), then fails to rmdir the non-empty
// directory; clearView removes those between scenarios.
func legacyView() error {
	unified := filepath.Join(cgroupRoot, "unified")
	var st unix.Statfs_t
	if err := unix.Statfs(unified, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil // no cgroup2 mount: the host is already plain v1
		}
		return fmt.Errorf("statfs %s: %w", unified, err)
	}
	if st.Type != unix.CGROUP2_SUPER_MAGIC {
		return nil
	}
	if err := unix.Mount("husktest-bench-legacy", unified, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=64m,mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs over %s: %w", unified, err)
	}
	viewTmpfs = unified
	return nil
}

// stateTmpfs mounts a tmpfs at dir for the runtimes' --root directories, as /run is in
// production. It lives in the private mount namespace and dies with it.
func stateTmpfs(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make state dir %s: %w", dir, err)
	}
	if err := unix.Mount("husktest-bench-state", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700,size=64m"); err != nil {
		return fmt.Errorf("mount tmpfs at %s: %w", dir, err)
	}
	return nil
}

// becomeSubreaper makes the driver the parent of every container init whose runtime process
// has exited (create, run -d), so that the lifecycle scenario can wait for the container like
// a containerd shim does, without polling.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER: %w", err)
	}
	return nil
}

// reaped remembers exit statuses collected by reapOrphans, so that a later waitPid for the
// same pid still learns how it ended.
var reaped = struct {
	sync.Mutex
	m map[int]unix.WaitStatus
}{m: map[int]unix.WaitStatus{}}

// reapOrphans collects every exited child not owned by os/exec. Call it only when no
// exec.Cmd is running: it waits for any pid.
func reapOrphans() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err != nil || pid <= 0 {
			return
		}
		reaped.Lock()
		reaped.m[pid] = ws
		reaped.Unlock()
	}
}

// waitPid waits for a container init that was reparented to the driver and returns its exit
// code (128+signal when killed).
func waitPid(pid int) (int, error) {
	reaped.Lock()
	ws, done := reaped.m[pid]
	delete(reaped.m, pid)
	reaped.Unlock()
	if !done {
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return -1, fmt.Errorf("wait4 container pid %d (is the driver its subreaper?): %w", pid, err)
			}
			break
		}
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// cgroupLeftovers lists the cgroup directories named with prefix in every v1 hierarchy, the
// ones a runtime should have removed when it deleted its container.
func cgroupLeftovers(prefix string) ([]string, error) {
	hier, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", cgroupRoot, err)
	}
	var left []string
	for _, h := range hier {
		dir := filepath.Join(cgroupRoot, h.Name())
		if dir == viewTmpfs {
			continue // not a cgroup hierarchy any more, see clearView
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // a symlink such as cpu,cpuacct or an unreadable mount: nothing of ours
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
				left = append(left, filepath.Join(dir, e.Name()))
			}
		}
	}
	return left, nil
}

// removeCgroup removes a leftover cgroup directory and the ones below it, deepest first.
// rmdir is the only way to remove a cgroup; it fails while a process is still inside.
func removeCgroup(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read cgroup %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroup(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := unix.Rmdir(dir); err != nil {
		return fmt.Errorf("rmdir cgroup %s: %w", dir, err)
	}
	return nil
}

// liveChildren lists the pids of this process's children that are still running (orphaned
// containers reparented here would show up).
func liveChildren() []string {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []string
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err == nil {
			pids = append(pids, strings.Fields(string(b))...)
		}
	}
	return pids
}

// clearView empties the tmpfs of legacyView of what crun wrote there.
func clearView() error {
	if viewTmpfs == "" {
		return nil
	}
	entries, err := os.ReadDir(viewTmpfs)
	if err != nil {
		return fmt.Errorf("read %s: %w", viewTmpfs, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(viewTmpfs, e.Name())); err != nil {
			return fmt.Errorf("clear %s: %w", viewTmpfs, err)
		}
	}
	return nil
}
