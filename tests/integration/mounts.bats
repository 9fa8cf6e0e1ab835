#!/usr/bin/env bats
# Mounts: bind/rbind, tmpfs options, ro, propagation, recursive attributes,
# tmpcopyup, mount points made inside the rootfs only.

load helpers

# mount_line prints the mountinfo line of mount point $2 from text $1.
mount_line() {
	echo "$1" | awk -v m="$2" '$5 == m'
}

# host_submount mounts a tmpfs on $TESTDIR/src/sub with a file in it.
host_submount() {
	mkdir -p "$TESTDIR/src/sub"
	echo top >"$TESTDIR/src/file"
	mount -t tmpfs -o size=1m husktest "$TESTDIR/src/sub"
	cleanup_mount "$TESTDIR/src/sub"
	echo deep >"$TESTDIR/src/sub/file"
}

@test "bind mount of a host directory" {
	mkdir "$TESTDIR/src"
	echo hello >"$TESTDIR/src/file"
	add_mount "$TESTDIR/src" /mnt/src bind bind
	run -0 run_sh 'cat /mnt/src/file; echo written >/mnt/src/new'
	[ "$output" = hello ]
	[ "$(cat "$TESTDIR/src/new")" = written ]
}

@test "bind mount of a host file to a missing file destination" {
	echo filedata >"$TESTDIR/srcfile"
	add_mount "$TESTDIR/srcfile" /etc/extra.conf bind bind ro
	run -0 run_sh 'cat /etc/extra.conf; [ -f /etc/extra.conf ] && echo isfile'
	[ "${lines[0]}" = filedata ]
	[ "${lines[1]}" = isfile ]
	# The mount point was made in the rootfs.
	[ -f "$BUNDLE/rootfs/etc/extra.conf" ]
}

@test "ro bind mount is read-only" {
	mkdir "$TESTDIR/src"
	add_mount "$TESTDIR/src" /mnt/ro bind bind ro
	run -0 run_sh 'grep " /mnt/ro " /proc/self/mountinfo; touch /mnt/ro/x 2>&1; true'
	[[ "$(mount_line "$output" /mnt/ro | cut -d' ' -f6)" == ro* ]]
	[[ "$output" == *"Read-only file system"* ]]
	[ ! -e "$TESTDIR/src/x" ]
}

@test "mount flags on a bind mount" {
	mkdir "$TESTDIR/src"
	add_mount "$TESTDIR/src" /mnt/flags bind rbind ro nosuid nodev noexec noatime
	add_mount "$TESTDIR/src" /mnt/plain bind rbind
	run -0 run_sh 'cat /proc/self/mountinfo'
	local f
	f=$(mount_line "$output" /mnt/flags | cut -d' ' -f6)
	[ "$f" = ro,nosuid,nodev,noexec,noatime ]
	f=$(mount_line "$output" /mnt/plain | cut -d' ' -f6)
	[[ "$f" == rw,* ]]
	[[ "$f" != *noexec* ]]
}

@test "bind is not recursive, rbind is" {
	host_submount
	add_mount "$TESTDIR/src" /mnt/bind bind bind
	add_mount "$TESTDIR/src" /mnt/rbind bind rbind
	run run_sh 'cat /mnt/bind/file; cat /mnt/bind/sub/file 2>/dev/null || echo none; cat /mnt/rbind/sub/file'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = top ]
	[ "${lines[1]}" = none ]
	[ "${lines[2]}" = deep ]
}

@test "tmpfs with size, mode and flags" {
	add_mount tmpfs /mnt/tmp tmpfs nosuid nodev noexec size=1m mode=700
	run -0 run_sh 'stat -c %a /mnt/tmp; grep " /mnt/tmp " /proc/self/mountinfo'
	[ "${lines[0]}" = 700 ]
	local l
	l=$(mount_line "$output" /mnt/tmp)
	[[ "$(echo "$l" | cut -d' ' -f6)" == *nosuid* ]]
	[[ "$(echo "$l" | cut -d' ' -f6)" == *nodev* ]]
	[[ "$(echo "$l" | cut -d' ' -f6)" == *noexec* ]]
	[[ "$l" == *" - tmpfs "* ]]
	[[ "$l" == *"size=1024k"* ]]
	[[ "$l" == *"mode=700"* ]]
}

@test "an empty string in a mount's options is ignored" {
	# buildah sends one for `buildah run -v SRC:DST` with a non-root user;
	# runc ignores it.
	update_config '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs",
		options: ["", "nosuid", "", "size=1m"]}]'
	run -0 run_sh 'grep " /mnt " /proc/self/mountinfo'
	[[ "$(grep " /mnt " <<<"$output")" == *" /mnt "*nosuid*" - tmpfs "*size=1024k* ]] || fail "$output"
}

@test "the default mounts have their types and flags" {
	run -0 run_sh 'cat /proc/self/mountinfo'
	local mi=$output
	[[ "$(mount_line "$mi" /proc)" == *" - proc "* ]]
	[[ "$(mount_line "$mi" /dev)" == *" - tmpfs "* ]]
	[[ "$(mount_line "$mi" /dev/pts)" == *" - devpts "* ]]
	[[ "$(mount_line "$mi" /dev/shm)" == *" - tmpfs "* ]]
	[[ "$(mount_line "$mi" /dev/mqueue)" == *" - mqueue "* ]]
	[[ "$(mount_line "$mi" /sys)" == *" - sysfs "* ]]
	[[ "$(mount_line "$mi" /sys | cut -d' ' -f6)" == ro* ]]
	# cgroup v1 controllers (or cgroup2) under /sys/fs/cgroup, read-only.
	echo "$mi" | awk '$5 ~ "^/sys/fs/cgroup" && $6 ~ "^ro"' | grep -q cgroup
}

@test "rro makes a recursive bind read-only all the way down" {
	requires mount_setattr
	host_submount
	add_mount "$TESTDIR/src" /mnt/r bind rbind rro
	run run_sh 'touch /mnt/r/x 2>&1; touch /mnt/r/sub/x 2>&1; true'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *"Read-only file system"* ]]
	[[ "${lines[1]}" == *"Read-only file system"* ]]
}

@test "plain ro on rbind leaves submounts writable" {
	host_submount
	add_mount "$TESTDIR/src" /mnt/r bind rbind ro
	run run_sh 'touch /mnt/r/x 2>&1; touch /mnt/r/sub/x 2>&1 && echo sub-writable'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"Read-only file system"* ]]
	[ "${lines[1]}" = sub-writable ]
}

@test "rnoexec and rnosuid apply to submounts" {
	requires mount_setattr
	host_submount
	add_mount "$TESTDIR/src" /mnt/r bind rbind rnoexec rnosuid
	run run_sh 'grep -E " /mnt/r(/sub)? " /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	local l
	for l in "${lines[@]}"; do
		[[ "$(echo "$l" | cut -d' ' -f6)" == *noexec* ]] || fail "not noexec: $l"
		[[ "$(echo "$l" | cut -d' ' -f6)" == *nosuid* ]] || fail "not nosuid: $l"
	done
}

@test "mount propagation: rshared and rprivate" {
	mkdir -p "$TESTDIR/a" "$TESTDIR/b"
	add_mount "$TESTDIR/a" /mnt/shared bind rbind rshared
	add_mount "$TESTDIR/b" /mnt/private bind rbind rprivate
	run -0 run_sh 'cat /proc/self/mountinfo'
	local l
	l=$(mount_line "$output" /mnt/shared)
	[[ "$l" == *" shared:"* ]]
	l=$(mount_line "$output" /mnt/private)
	[[ "$l" != *" shared:"* ]]
	[[ "$l" != *" master:"* ]]
}

@test "an rslave bind receives mounts made later on the host" {
	mkdir -p "$TESTDIR/src"
	mount --bind "$TESTDIR/src" "$TESTDIR/src"
	cleanup_mount "$TESTDIR/src"
	mount --make-shared "$TESTDIR/src"
	add_mount "$TESTDIR/src" /mnt/slave bind rbind rslave
	start_sleeper
	local pid
	pid=$(container_pid "$CID")
	mkdir -p "$TESTDIR/src/late"
	mount -t tmpfs -o size=1m husktest "$TESTDIR/src/late"
	cleanup_mount "$TESTDIR/src/late"
	echo late >"$TESTDIR/src/late/file"
	[ "$(cat "/proc/$pid/root/mnt/slave/late/file")" = late ]
	[[ "$(mount_line "$(cat "/proc/$pid/mountinfo")" /mnt/slave)" == *" master:"* ]]
}

@test "tmpcopyup copies the rootfs content into the tmpfs" {
	add_mount tmpfs /etc tmpfs tmpcopyup mode=755
	run -0 run_sh 'grep " /etc " /proc/self/mountinfo; cat /etc/passwd; echo new >/etc/new; cat /etc/new'
	[[ "$output" == *" - tmpfs "* ]]
	[[ "$output" == *"root:x:0:0:"* ]]
	[[ "$output" == *new* ]]
	# Writes stay in the tmpfs.
	[ ! -e "$BUNDLE/rootfs/etc/new" ]
}

@test "a missing destination is created inside the rootfs" {
	mkdir "$TESTDIR/src"
	add_mount "$TESTDIR/src" /new/dir/deep bind bind
	run -0 run_sh 'grep -c " /new/dir/deep " /proc/self/mountinfo'
	[ "$output" = 1 ]
	[ -d "$BUNDLE/rootfs/new/dir/deep" ]
	[ ! -e /new/dir/deep ]
}

@test "a symlinked destination pointing out of the rootfs stays inside" {
	mkdir "$TESTDIR/src" "$TESTDIR/outside"
	echo payload >"$TESTDIR/src/file"
	ln -s "$TESTDIR/outside" "$BUNDLE/rootfs/escape"
	ln -s ../../../../../../.. "$BUNDLE/rootfs/up"
	add_mount "$TESTDIR/src" /escape bind bind
	add_mount "$TESTDIR/src" /up/target bind bind
	start_sleeper sh -c 'cat /escape/file; cat /up/target/file; cat /proc/self/mountinfo; exec sleep 1000'
	wait_for_file "$TESTDIR/$CID.log"
	local pid
	pid=$(container_pid "$CID")
	# The host's directories got no mount and no new entries.
	[ -z "$(ls -A "$TESTDIR/outside")" ]
	[ ! -e /target ]
	[ -z "$(leftover_mounts)" ]
	# Inside, both were mounted under the container's root.
	run -0 container_log "$CID"
	[ "${lines[0]}" = payload ]
	[ "${lines[1]}" = payload ]
	[[ "$output" == *" $TESTDIR/outside "* ]]
	[[ "$output" == *" /target "* ]]
	[ -d "$BUNDLE/rootfs$TESTDIR/outside" ]
	[ -d "$BUNDLE/rootfs/target" ]
}

@test "container mounts do not propagate back to the host" {
	update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	mkdir "$TESTDIR/src"
	add_mount "$TESTDIR/src" /mnt/src bind rbind
	run -0 run_sh 'mount -t tmpfs none /mnt/src && mount -t tmpfs none /tmp && echo mounted'
	[ "$output" = mounted ]
	[ -z "$(leftover_mounts)" ]
}
