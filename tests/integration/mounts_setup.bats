#!/usr/bin/env bats
# How the rootfs's mounts are set up, as runc sets them up: mounts see the earlier ones, bind
# mount flags (set, cleared and locked ones).

load helpers

setup() {
	requires root
	setup_husk
	# runc warns on stderr that it cannot raise the ambient capabilities of the default
	# config here; the tests read the container's output.
	update_config 'del(.process.capabilities.ambient)'
}

# mount_flags prints the per-mount flags (field 6 of mountinfo) of mount point $2 in text $1.
mount_flags() {
	echo "$1" | awk -v m="$2" '$5 == m { print $6 }'
}

# userns_config gives the container a user namespace: root is host uid/gid 100000.
userns_config() {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

# host_tmpfs DIR OPTS mounts a tmpfs with OPTS on $TESTDIR/DIR, unmounted at teardown.
host_tmpfs() {
	mkdir -p "$TESTDIR/$1"
	mount -t tmpfs -o "size=1m,$2" husktest "$TESTDIR/$1"
	cleanup_mount "$TESTDIR/$1"
}

@test "bind sources under the rootfs see the earlier mounts, in a user namespace too" {
	requires userns
	userns_config
	local rootfs="$BUNDLE/rootfs" src="$TESTDIR/src" d
	mkdir -p "$rootfs/tree" "$rootfs/final"
	for d in a/x b/y c/z; do
		mkdir -p "$src/$d"
		echo "$d" >"$src/$d/file"
		ln -s "$(dirname "$d")" "$src/link-$(dirname "$d")"
	done
	# The container's root (host uid 100000) cannot open these sources: husk has to.
	chmod 0700 "$src"
	# A tree of bind mounts, with sources through symlinks...
	add_mount "$src/a" /tree bind bind rprivate
	add_mount "$src/link-b" /tree/x bind bind rprivate
	add_mount "$src/c" /tree/x/y bind bind rprivate
	add_mount "$src/link-a" /tree/x/y/z bind bind rprivate
	# ... then binds whose sources are paths of the rootfs under those mounts.
	add_mount "$rootfs/tree/x" /tree/x/y/z/x bind rbind rprivate
	add_mount "$rootfs/tree/x/y" /tree/x/y/z bind rbind rprivate
	add_mount "$rootfs/tree" /final bind rbind rprivate
	run -0 run_sh 'cat /final/x/y/z/z/x/y/z/x/file'
	[ "$output" = a/x ]
}

@test "bind mount options set and clear the flags they name, as root" {
	host_tmpfs src ro,nosuid,nodev,noexec,noatime
	add_mount "$TESTDIR/src" /mnt/plain bind bind
	add_mount "$TESTDIR/src" /mnt/rw bind bind rw
	add_mount "$TESTDIR/src" /mnt/ro bind bind ro
	add_mount "$TESTDIR/src" /mnt/dev bind bind dev
	add_mount "$TESTDIR/src" /mnt/exec bind bind exec
	add_mount "$TESTDIR/src" /mnt/suid bind bind suid
	add_mount "$TESTDIR/src" /mnt/relatime bind bind relatime
	run -0 run_sh 'cat /proc/self/mountinfo'
	# Without options, the source's flags; with any, only those asked for (a remount without
	# an atime option keeps the atime mode).
	[ "$(mount_flags "$output" /mnt/plain)" = ro,nosuid,nodev,noexec,noatime ]
	[ "$(mount_flags "$output" /mnt/rw)" = rw,noatime ]
	[ "$(mount_flags "$output" /mnt/ro)" = ro,noatime ]
	[ "$(mount_flags "$output" /mnt/dev)" = rw,noatime ]
	[ "$(mount_flags "$output" /mnt/exec)" = rw,noatime ]
	[ "$(mount_flags "$output" /mnt/suid)" = rw,noatime ]
	[ "$(mount_flags "$output" /mnt/relatime)" = rw,relatime ]
}

@test "bind mount flags locked in a user namespace stay; clearing one fails" {
	requires userns
	userns_config
	host_tmpfs src ro,nosuid,nodev,noexec,noatime
	mkdir -p "$BUNDLE/rootfs/mnt/x"
	cp config.json config.json.base
	# Options the locked flags allow: the locked ones are kept.
	local opts
	for opts in "" ro nosuid noatime "ro nodev noexec nosuid noatime"; do
		cp config.json.base config.json
		# shellcheck disable=SC2086
		add_mount "$TESTDIR/src" /mnt/x bind bind $opts
		run -0 run_sh 'cat /proc/self/mountinfo'
		[ "$(mount_flags "$output" /mnt/x)" = ro,nosuid,nodev,noexec,noatime ] || fail "options '$opts': $(mount_flags "$output" /mnt/x)"
	done
	# Clearing a locked flag, or another atime mode, cannot be had: the run fails.
	for opts in rw dev exec suid atime relatime strictatime; do
		cp config.json.base config.json
		add_mount "$TESTDIR/src" /mnt/x bind bind "$opts"
		set_args true
		run husk run --bundle "$BUNDLE" "$(new_id)"
		[ "$status" -ne 0 ] || fail "option $opts on a locked source was accepted"
		[[ "$output" == *"/mnt/x"* ]] || fail "option $opts: error does not name the mount: $output"
	done
	# The failed runs left no state and no process (the source's tmpfs is the test's own).
	[ -z "$(state_left)" ]
	[ -z "$(processes_in_bundle)" ]
}
