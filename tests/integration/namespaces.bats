#!/usr/bin/env bats
# Namespaces: new ones, shared ones, joined by path; uts names, cgroup, time
# and user namespaces.

load helpers

# ns_of prints the namespace link of host process $1 for type $2.
ns_of() {
	readlink "/proc/$1/ns/$2"
}

@test "pid namespace: the workload is pid 1 and sees only its own processes" {
	run -0 run_sh 'echo $$; ls -d /proc/[0-9]* | wc -l'
	[ "${lines[0]}" = 1 ]
	# sh, ls and wc at most.
	[ "${lines[1]}" -le 3 ]
}

@test "each new namespace differs from the host's" {
	run -0 run_sh 'for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done'
	local n i=0
	for n in pid net ipc uts mnt; do
		[ "${lines[$i]}" != "$(ns_of $$ $n)" ] || fail "$n namespace is the host's"
		[[ "${lines[$i]}" == "$n:["* ]]
		i=$((i + 1))
	done
}

@test "a new network namespace has its loopback up: 127.0.0.1 answers" {
	# As runc does (and ctr run, podman --network none rely on it). lo's
	# flags: IFF_UP (0x1) with IFF_LOOPBACK (0x8); a TCP round trip on
	# 127.0.0.1 through busybox's httpd (listening once it returns) and nc.
	update_config '.root.readonly = false'
	run -0 run_sh 'echo "flags $(cat /sys/class/net/lo/flags)"
		ip addr show dev lo 2>/dev/null | grep -q "inet 127.0.0.1/8" && echo has-127.0.0.1
		mkdir -p /tmp/www && echo hello-lo >/tmp/www/index.html
		httpd -p 127.0.0.1:8080 -h /tmp/www
		echo "got $(printf "GET /index.html HTTP/1.0\r\n\r\n" | nc 127.0.0.1 8080 2>&1 | tail -n 1)"'
	local flags
	flags=$(echo "$output" | sed -n 's/^flags //p')
	[ "$((flags & 0x9))" = 9 ] || fail "lo flags: $output"
	[[ "$output" == *has-127.0.0.1* ]] || fail "lo has no 127.0.0.1: $output"
	[[ "$output" == *"got hello-lo"* ]] || fail "127.0.0.1 did not answer: $output"
}

@test "namespaces not asked for are the host's" {
	update_config '.linux.namespaces = [{type: "mount"}] | del(.hostname)'
	run -0 run_sh 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done'
	local n i=0
	for n in net ipc uts pid; do
		[ "${lines[$i]}" = "$(ns_of $$ $n)" ] || fail "$n namespace is not the host's"
		i=$((i + 1))
	done
}

@test "uts namespace: hostname and domainname" {
	update_config '.hostname = "box.one" | .domainname = "example.org"'
	run -0 run_sh 'hostname; cat /proc/sys/kernel/domainname'
	[ "${lines[0]}" = box.one ]
	[ "${lines[1]}" = example.org ]
	[ "$(hostname)" != box.one ]
}

@test "ipc namespace: host SysV objects are not visible" {
	# A message queue key unique to this test, made in a namespace of our own
	# would not prove anything; compare the namespace and list what is seen.
	run -0 run_sh 'readlink /proc/self/ns/ipc; cat /proc/sysvipc/msg | wc -l'
	[ "${lines[0]}" != "$(ns_of $$ ipc)" ]
	# Only the header line.
	[ "${lines[1]}" = 1 ]
}

@test "join the network namespace of another container by path" {
	start_sleeper
	local first=$CID pid
	pid=$(container_pid "$first")
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/proc/'"$pid"'/ns/net" else . end)'
	run -0 run_sh 'readlink /proc/self/ns/net'
	[ "$output" = "$(ns_of "$pid" net)" ]
	[ "$output" != "$(ns_of $$ net)" ]
}

@test "join the namespaces of an unshare process" {
	requires unshare
	unshare --net --uts sh -c 'hostname joined-uts; exec sleep 1000' 3>&- 4>&- &
	local pid=$!
	track_pid $pid
	local i
	for i in $(seq 200); do
		[ "$(ns_of $pid uts)" != "$(ns_of $$ uts)" ] && [ "$(nsenter -t $pid -u hostname)" = joined-uts ] && break
		sleep 0.05
	done
	update_config 'del(.hostname) | .linux.namespaces |= map(
		if .type == "network" then .path = "/proc/'"$pid"'/ns/net"
		elif .type == "uts" then .path = "/proc/'"$pid"'/ns/uts"
		else . end)'
	run -0 run_sh 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts; hostname'
	[ "${lines[0]}" = "$(ns_of $pid net)" ]
	[ "${lines[1]}" = "$(ns_of $pid uts)" ]
	[ "${lines[2]}" = joined-uts ]
}

@test "join a network namespace bind-mounted on a file" {
	requires unshare
	touch "$TESTDIR/netns"
	unshare --net="$TESTDIR/netns" true
	cleanup_mount "$TESTDIR/netns"
	local ino
	ino=$(stat -L -c %i "$TESTDIR/netns")
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "'"$TESTDIR/netns"'" else . end)'
	run -0 run_sh 'stat -L -c %i /proc/self/ns/net'
	[ "$output" = "$ino" ]
}

@test "joining a path that is not a namespace fails" {
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "'"$BUNDLE"'/config.json" else . end)'
	run ! run_sh true
	assert_nothing_left
}

@test "cgroup namespace: the container's cgroups are its root" {
	requires cgroupns
	update_config '.linux.namespaces += [{type: "cgroup"}]'
	run -0 run_sh 'readlink /proc/self/ns/cgroup; cat /proc/self/cgroup; echo ---; grep -E " /sys/fs/cgroup(/| )" /proc/self/mountinfo'
	[ "${lines[0]}" != "$(ns_of $$ cgroup)" ]
	local l seen=0
	for l in "${lines[@]:1}"; do
		[ "$l" = --- ] && seen=1 && continue
		if [ $seen = 0 ]; then
			[[ "$l" == *":/" ]] || fail "not the cgroup root: $l"
		else
			# The cgroup mounts show the container's cgroup as their root.
			[ "$(echo "$l" | cut -d' ' -f4)" = / ] || fail "cgroup mount root is not /: $l"
		fi
	done
	[ $seen = 1 ]
}

@test "without a cgroup namespace the host's cgroup paths show" {
	run -0 run_sh 'cat /proc/self/cgroup'
	local id
	id=$(tail -1 "$TESTDIR/ids")
	[[ "$output" == *"/$id"* ]]
}

@test "time namespace: boottime and monotonic offsets" {
	requires timens
	update_config '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {
		"boottime": {"secs": 864000, "nanosecs": 0},
		"monotonic": {"secs": 86400, "nanosecs": 0}}'
	run -0 run_sh 'readlink /proc/self/ns/time; cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'
	[ "${lines[0]}" != "$(ns_of $$ time)" ]
	[[ "$output" == *"monotonic"*"86400 "*"0"* ]]
	[[ "$output" == *"boottime"*"864000 "*"0"* ]]
	local host_up
	host_up=$(cut -d. -f1 /proc/uptime)
	[ "${lines[3]}" -ge $((host_up + 864000 - 5)) ]
}

@test "user namespace: uid and gid mappings" {
	requires userns
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; echo ready; exec sleep 1000'
	CID=$(new_id)
	run -0 husk_bg run -d --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
	local i
	for i in $(seq 200); do
		grep -q ready "$TESTDIR/$CID.log" && break
		sleep 0.05
	done
	run -0 container_log "$CID"
	[[ "${lines[0]}" =~ ^\ *0\ +100000\ +65536$ ]]
	[[ "${lines[1]}" =~ ^\ *0\ +200000\ +65536$ ]]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
	# Seen from the host, the container's root is the mapped id.
	local pid
	pid=$(container_pid "$CID")
	grep -Eq "^Uid:\s+100000\s" "/proc/$pid/status"
	grep -Eq "^Gid:\s+200000\s" "/proc/$pid/status"
	[ "$(ns_of "$pid" user)" != "$(ns_of $$ user)" ]
}
