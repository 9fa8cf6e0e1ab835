#!/usr/bin/env bats
# The root filesystem: readonly, rootfsPropagation, --no-pivot, root.path.

load helpers

# root_line prints the mountinfo line of "/" from text $1.
root_line() {
	echo "$1" | awk '$5 == "/"'
}

@test "readonly root" {
	run -0 run_sh 'touch /x 2>/dev/null || echo ro; awk "\$5 == \"/\"" /proc/self/mountinfo'
	[ "${lines[0]}" = ro ]
	[[ "$(echo "${lines[1]}" | cut -d' ' -f6)" == ro* ]]
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "writable root writes to the rootfs" {
	update_config '.root.readonly = false'
	run -0 run_sh 'echo data >/x && cat /x; awk "\$5 == \"/\"" /proc/self/mountinfo'
	[ "${lines[0]}" = data ]
	[[ "$(echo "${lines[1]}" | cut -d' ' -f6)" == rw* ]]
	[ "$(cat "$BUNDLE/rootfs/x")" = data ]
}

@test "root.path may be absolute and named otherwise" {
	mv "$BUNDLE/rootfs" "$TESTDIR/otherroot"
	update_config '.root.path = "'"$TESTDIR/otherroot"'"'
	start_sleeper
	[ "$(husk state "$CID" | jq -r .rootfs)" = "$TESTDIR/otherroot" ]
	[ -e "/proc/$(container_pid "$CID")/root/bin/busybox" ]
	husk delete -f "$CID"
	mv "$TESTDIR/otherroot" "$BUNDLE/rootfs"
}

@test "the workload sees its rootfs as /" {
	echo marker >"$BUNDLE/rootfs/etc/marker"
	run -0 run_sh 'cat /etc/marker; ls /'
	[ "${lines[0]}" = marker ]
	[[ "$output" != *husktest* ]]
}

@test "rootfsPropagation private" {
	update_config '.linux.rootfsPropagation = "private"'
	run -0 run_sh 'cat /proc/self/mountinfo'
	local l
	l=$(root_line "$output")
	[[ "$l" != *" shared:"* ]]
	[[ "$l" != *" master:"* ]]
}

@test "rootfsPropagation shared" {
	update_config '.linux.rootfsPropagation = "shared"'
	run -0 run_sh 'cat /proc/self/mountinfo'
	[[ "$(root_line "$output")" == *" shared:"* ]]
}

@test "rootfsPropagation rslave" {
	update_config '.linux.rootfsPropagation = "rslave"'
	run -0 run_sh 'cat /proc/self/mountinfo'
	local l
	l=$(root_line "$output")
	[[ "$l" != *" shared:"* ]]
}

# ns_mount_count prints how many mounts the mount namespace of host process
# $1 holds, as seen by a process that joined it with setns (which puts it
# at the namespace's root, not at the container process's root).
ns_mount_count() {
	nsenter -t "$1" -m sleep 1000 3>&- 4>&- &
	local s=$! i
	track_pid $s
	for i in $(seq 200); do
		[ "$(readlink "/proc/$s/ns/mnt")" = "$(readlink "/proc/$1/ns/mnt")" ] &&
			[ "$(cat "/proc/$s/comm")" = sleep ] && break
		sleep 0.05
	done
	wc -l <"/proc/$s/mountinfo"
	kill -9 $s
}

@test "--no-pivot runs in the rootfs and leaves no host mount reachable" {
	echo marker >"$BUNDLE/rootfs/etc/marker"
	set_args sh -c 'cat /etc/marker; exec sleep 1000'
	CID=$(new_id)
	run -0 husk_bg run -d --no-pivot --bundle "$BUNDLE" "$CID"
	wait_for_file "$TESTDIR/$CID.log"
	[ "$(container_log "$CID")" = marker ]
	local pid own all
	pid=$(container_pid "$CID")
	own=$(wc -l <"/proc/$pid/mountinfo")
	all=$(ns_mount_count "$pid")
	echo "own=$own all=$all"
	# The host's mounts (a bare /proc, /sys, ...) were detached or hidden
	# before the chroot: the namespace holds no more than the container's own.
	[ "$all" -le "$own" ]
}
