#!/usr/bin/env bats
# User namespaces as runc handles them: bind sources the container's root cannot reach, joining
# another container's user namespace (by path, or a bind-mounted nsfd, with a network namespace
# it does not own), and a time namespace with offsets.

load helpers

setup() {
	requires root userns
	setup_husk
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
}

# start_userns_owner starts a container with the user namespace of setup and prints its init's
# pid into $OWNER_PID; the config is then set up to join it (path $1, default its /proc link),
# without mappings of its own.
start_userns_owner() {
	start_sleeper
	OWNER_PID=$(container_pid "$CID")
	local path=${1:-/proc/$OWNER_PID/ns/user}
	update_config '.linux.namespaces |= map(if .type == "user" then .path = "'"$path"'" else . end)
		| del(.linux.uidMappings) | del(.linux.gidMappings)'
}

@test "bind sources the container's root cannot open are mounted all the same" {
	mkdir -p "$TESTDIR/private-1/dir" "$TESTDIR/private-2"
	echo one >"$TESTDIR/private-1/dir/file"
	echo two >"$TESTDIR/private-2/file"
	# Host uid 100000 cannot search these: only the runtime, as the host's root, can open them.
	chmod 0700 "$TESTDIR/private-1" "$TESTDIR/private-2"
	# Mount points the container's root could not make in the rootfs (the host's root owns it).
	mkdir "$BUNDLE/rootfs/mnt/one"
	touch "$BUNDLE/rootfs/mnt/two"
	update_config '.mounts += [
		{source: "'"$TESTDIR/private-1/dir"'", destination: "/mnt/one", type: "bind", options: ["bind"]},
		{source: "'"$TESTDIR/private-2/file"'", destination: "/mnt/two", type: "bind", options: ["bind", "ro"]}]'
	run -0 run_sh 'cat /mnt/one/file /mnt/two; id -u'
	[ "${lines[0]}" = one ]
	[ "${lines[1]}" = two ]
	[ "${lines[2]}" = 0 ]
}

@test "a container joins another container's user namespace by path" {
	start_userns_owner
	run -0 run_sh 'readlink /proc/self/ns/user; cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; ls -d /dev/pts'
	[ "${lines[0]}" = "$(readlink "/proc/$OWNER_PID/ns/user")" ]
	[[ "${lines[1]}" =~ ^\ *0\ +100000\ +65536$ ]]
	[[ "${lines[2]}" =~ ^\ *0\ +200000\ +65536$ ]]
	[ "${lines[3]}" = 0 ]
	[ "${lines[4]}" = 0 ]
	[ "${lines[5]}" = /dev/pts ]
}

@test "a container joins a user namespace through a bind-mounted nsfd" {
	touch "$TESTDIR/userns"
	start_userns_owner "$TESTDIR/userns"
	mount --bind "/proc/$OWNER_PID/ns/user" "$TESTDIR/userns"
	cleanup_mount "$TESTDIR/userns"
	run -0 run_sh 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u'
	[ "${lines[0]}" = "user:[$(stat -c %i "$TESTDIR/userns")]" ]
	[[ "${lines[1]}" =~ ^\ *0\ +100000\ +65536$ ]]
	[ "${lines[2]}" = 0 ]
}

@test "a container joins a user namespace and a network namespace that namespace does not own" {
	touch "$TESTDIR/userns" "$TESTDIR/netns"
	start_userns_owner "$TESTDIR/userns"
	mount --bind "/proc/$OWNER_PID/ns/user" "$TESTDIR/userns"
	cleanup_mount "$TESTDIR/userns"
	# A network namespace of the host's user namespace, kept by a bind mount.
	unshare -n mount --bind /proc/self/ns/net "$TESTDIR/netns"
	cleanup_mount "$TESTDIR/netns"
	# Without owning the network namespace, the container cannot mount a sysfs: bind the host's.
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "'"$TESTDIR/netns"'" else . end)
		| .mounts |= map(if .type == "sysfs" then {source: "/sys", destination: .destination, type: "bind", options: ["rbind", "nosuid", "noexec", "nodev"]} else . end)'
	run -0 run_sh 'readlink /proc/self/ns/user; readlink /proc/self/ns/net'
	[ "${lines[0]}" = "user:[$(stat -c %i "$TESTDIR/userns")]" ]
	[ "${lines[1]}" = "net:[$(stat -c %i "$TESTDIR/netns")]" ]
}

@test "a user namespace with a time namespace and its offsets" {
	requires timens
	update_config '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {
		"monotonic": {"secs": 7881, "nanosecs": 2718281},
		"boottime": {"secs": 1337, "nanosecs": 3141519}}'
	run -0 run_sh 'readlink /proc/self/ns/time; cat /proc/self/timens_offsets'
	[ "${lines[0]}" != "$(readlink /proc/self/ns/time)" ]
	[[ "$output" =~ monotonic\ +7881\ +2718281 ]]
	[[ "$output" =~ boottime\ +1337\ +3141519 ]]
}
