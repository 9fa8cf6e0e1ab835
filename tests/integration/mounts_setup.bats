#!/usr/bin/env bats
# How the rootfs's mounts are set up, as runc sets them up: a tmpfs keeps its mount point's
# mode, read-only /dev and tmpfs mounts are made read-only last, destinations through
# dangling symlinks stay inside the rootfs, mounts see the earlier ones, bind mount flags
# (set, cleared and locked ones), rootfsPropagation on the root, maskedPaths listed twice.

load helpers

setup() {
	requires root
	setup_husk
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

@test "a tmpfs without mode= takes the mode of its mount point, setgid and sticky bits included" {
	mkdir -m 0710 "$BUNDLE/rootfs/m710"
	mkdir "$BUNDLE/rootfs/m2750" "$BUNDLE/rootfs/m1730" "$BUNDLE/rootfs/explicit"
	chmod 2750 "$BUNDLE/rootfs/m2750"
	chmod 1730 "$BUNDLE/rootfs/m1730"
	chmod 0710 "$BUNDLE/rootfs/explicit"
	add_mount tmpfs /m710 tmpfs nodev nosuid
	add_mount tmpfs /m2750 tmpfs size=1m
	add_mount tmpfs /m1730 tmpfs
	add_mount tmpfs /explicit tmpfs mode=1500
	add_mount tmpfs /new/dir tmpfs
	run -0 run_sh 'stat -c "%n %a" /m710 /m2750 /m1730 /explicit /new/dir'
	[ "${lines[0]}" = "/m710 710" ]
	[ "${lines[1]}" = "/m2750 2750" ]
	[ "${lines[2]}" = "/m1730 1730" ]
	# An explicit mode= wins, and the directory under the tmpfs keeps its own.
	[ "${lines[3]}" = "/explicit 1500" ]
	[ "$(stat -c %a "$BUNDLE/rootfs/explicit")" = 710 ]
	# A mount point that had to be made gets the tmpfs default.
	[ "${lines[4]}" = "/new/dir 1777" ]
}

@test "a read-only tmpfs /dev gets its device nodes, links and mounts before it is made read-only" {
	update_config '.mounts |= map(if .destination == "/dev" then .options += ["ro"] else . end)'
	run -0 run_sh 'cat /proc/self/mountinfo; stat -c "%n %F %t:%T" /dev/null /dev/zero /dev/tty
		readlink /dev/ptmx; readlink /dev/fd; echo x >/dev/null && echo null-writable
		touch /dev/new 2>/dev/null || echo dev-read-only'
	[[ "$(mount_flags "$output" /dev)" == ro,* ]]
	[[ "$output" == *" /dev/pts "*" - devpts "* ]]
	[[ "$output" == *" /dev/shm "*" - tmpfs "* ]]
	[[ "$output" == *" /dev/mqueue "*" - mqueue "* ]]
	[[ "$output" == *"/dev/null character special file 1:3"* ]]
	[[ "$output" == *"/dev/zero character special file 1:5"* ]]
	[[ "$output" == *"/dev/tty character special file 5:0"* ]]
	[[ "$output" == *$'\npts/ptmx\n/proc/self/fd\n'* ]]
	[[ "$output" == *null-writable* ]]
	[[ "$output" == *dev-read-only* ]]
}

@test "a read-only tmpfs gets the mount points of later mounts before it is made read-only" {
	mkdir "$TESTDIR/src"
	echo inner >"$TESTDIR/src/file"
	add_mount tmpfs /mnt/ro tmpfs ro nodev
	add_mount "$TESTDIR/src" /mnt/ro/inner/dir bind bind
	run -0 run_sh 'cat /mnt/ro/inner/dir/file; cat /proc/self/mountinfo; touch /mnt/ro/x 2>/dev/null || echo tmpfs-read-only'
	[ "${lines[0]}" = inner ]
	[[ "$(mount_flags "$output" /mnt/ro)" == ro,* ]]
	[[ "$output" == *tmpfs-read-only* ]]
}

@test "a read-only bind-mounted /dev with linux.devices works" {
	local dev="$TESTDIR/dev"
	mkdir -p "$dev/pts" "$dev/shm" "$dev/mqueue"
	mknod -m 666 "$dev/null" c 1 3
	update_config '.mounts |= map(if .destination == "/dev" then {destination: "/dev", type: "bind", source: "'"$dev"'", options: ["rbind", "ro"]} else . end)
		| .linux.devices = [{path: "/dev/husk-full", type: "c", major: 1, minor: 7, fileMode: 438}]'
	run -0 run_sh 'cat /proc/self/mountinfo; touch /dev/new 2>/dev/null || echo dev-read-only'
	[[ "$(mount_flags "$output" /dev)" == ro,* ]]
	[[ "$output" == *" /dev/pts "*" - devpts "* ]]
	[[ "$output" == *dev-read-only* ]]
	[ ! -e "$dev/new" ]
}

@test "a bind-mounted /dev is left as it is: linux.devices are not made, replaced or chowned in it" {
	# The bind source is often the host's own /dev (podman -v /dev:/dev, docker --privileged
	# passes every host device in linux.devices): runc creates nothing there.
	local dev="$TESTDIR/dev"
	mkdir -p "$dev"
	mknod -m 600 "$dev/null" c 1 3
	local before
	before=$(stat -c '%i %a %u:%g' "$dev/null")
	update_config '.mounts |= map(if .destination == "/dev" then {destination: "/dev", type: "bind", source: "'"$dev"'", options: ["rbind"]} else . end)
		| .linux.devices = [{path: "/dev/null", type: "c", major: 1, minor: 3, fileMode: 420, uid: 7, gid: 7},
			{path: "/dev/husk-full", type: "c", major: 1, minor: 7, fileMode: 438}]'
	run -0 run_sh 'ls /dev'
	[ "$(stat -c '%i %a %u:%g' "$dev/null")" = "$before" ]
	[ ! -e "$dev/husk-full" ]
}

@test "mount destinations through dangling symlinks are created inside the rootfs" {
	local tag="husktest-dangling-$$-$RANDOM"
	echo hosts-data >"$TESTDIR/hosts"
	mkdir "$TESTDIR/dir"
	echo dir-data >"$TESTDIR/dir/file"
	# A dangling link on the way (/etc/hosts -> /jump/..., /jump -> /$tag/a), a trailing
	# dangling link to a file, one to a directory, and a relative one climbing out.
	rm -f "$BUNDLE/rootfs/etc/hosts"
	ln -s "/$tag/a" "$BUNDLE/rootfs/jump"
	ln -s /jump/b/hosts "$BUNDLE/rootfs/etc/hosts"
	ln -s "/$tag/file" "$BUNDLE/rootfs/etc/file-link"
	ln -s "/$tag/dir" "$BUNDLE/rootfs/etc/dir-link"
	ln -s "../../../../../../$tag/up" "$BUNDLE/rootfs/etc/up-link"
	add_mount "$TESTDIR/hosts" /etc/hosts bind bind
	add_mount "$TESTDIR/hosts" /etc/file-link bind bind
	add_mount "$TESTDIR/dir" /etc/dir-link bind bind
	add_mount "$TESTDIR/hosts" /etc/up-link bind bind
	run -0 run_sh 'cat /etc/hosts /etc/file-link /etc/dir-link/file /etc/up-link
		awk "{ print \$5 }" /proc/self/mountinfo'
	[ "${lines[0]}" = hosts-data ]
	[ "${lines[1]}" = hosts-data ]
	[ "${lines[2]}" = dir-data ]
	[ "${lines[3]}" = hosts-data ]
	[[ "$output" == *$'\n'"/$tag/a/b/hosts"$'\n'* ]]
	[[ "$output" == *$'\n'"/$tag/file"$'\n'* ]]
	[[ "$output" == *$'\n'"/$tag/dir"$'\n'* ]]
	[[ "$output" == *$'\n'"/$tag/up"$'\n'* ]]
	# Made in the rootfs, nothing on the host.
	[ -f "$BUNDLE/rootfs/$tag/a/b/hosts" ]
	[ -f "$BUNDLE/rootfs/$tag/file" ]
	[ -d "$BUNDLE/rootfs/$tag/dir" ]
	[ -f "$BUNDLE/rootfs/$tag/up" ]
	[ ! -e "/$tag" ]
	[ ! -e "$TESTDIR/$tag" ]
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

@test "rootfsPropagation slave, rslave, shared and unbindable apply to the container's root" {
	# The bundle sits on a shared mount of its own, so that the root has a master to follow.
	mount --bind "$TESTDIR" "$TESTDIR"
	cleanup_mount "$TESTDIR"
	mount --make-shared "$TESTDIR"
	local prop tag
	for prop in slave rslave shared unbindable; do
		update_config ".linux.rootfsPropagation = \"$prop\""
		start_sleeper
		tag=$(awk '$5 == "/" { for (i = 7; $i != "-"; i++) printf "%s ", $i }' "/proc/$(container_pid "$CID")/mountinfo")
		case $prop in
		*slave) [[ "$tag" == *master:* ]] || fail "$prop: root has '$tag'" ;;
		shared) [[ "$tag" == *shared:* && "$tag" != *master:* ]] || fail "$prop: root has '$tag'" ;;
		unbindable) [[ "$tag" == *unbindable* ]] || fail "$prop: root has '$tag'" ;;
		esac
		if [[ $prop == *slave ]]; then
			# A slave root receives what the host mounts under the rootfs later.
			mkdir -p "$BUNDLE/rootfs/mnt/late"
			mount -t tmpfs -o size=1m husktest "$BUNDLE/rootfs/mnt/late"
			echo late >"$BUNDLE/rootfs/mnt/late/file"
			[ "$(husk exec "$CID" cat /mnt/late/file)" = late ] || fail "$prop: the host's later mount is not seen"
			umount "$BUNDLE/rootfs/mnt/late"
		fi
		husk delete -f "$CID"
	done
}

@test "a path listed twice in maskedPaths is masked once" {
	update_config '.linux.maskedPaths += ["/proc/timer_list", "/sys/firmware"]'
	run -0 run_sh 'grep -cE " /proc/timer_list " /proc/self/mountinfo; grep -cE " /sys/firmware " /proc/self/mountinfo; wc -c </proc/timer_list'
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 1 ]
	[ "${lines[2]}" = 0 ]
}
