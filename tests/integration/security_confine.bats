#!/usr/bin/env bats
# Security regressions, confinement: /sys/fs/cgroup read-only
# (CVE-2023-25809), exec --cap adds nothing inheritable (CVE-2022-29162),
# cgroup file names in `unified` cannot leave the container's cgroup, and
# container ids, sysctl names and mount option values are validated before
# anything is done; --no-pivot leaves no bare proc or sysfs to mount from.

load security_helpers

# cgroup_mounts prints "mountpoint options" for every cgroup or cgroup2 mount
# in mountinfo text $1 that the container can reach: a mount hidden by a later
# one on the same point or on a parent directory is left out.
cgroup_mounts() {
	echo "$1" | awk '
		/ - / { n++; mp[n] = $5; opts[n] = $6; split($0, rest, " - "); split(rest[2], f, " "); fs[n] = f[1] }
		END {
			for (i = 1; i <= n; i++) {
				if (fs[i] != "cgroup" && fs[i] != "cgroup2") continue
				hidden = 0
				for (j = i + 1; j <= n; j++)
					if (mp[j] == mp[i] || mp[j] == "/" || index(mp[i], mp[j] "/") == 1) hidden = 1
				if (!hidden) print mp[i], opts[i]
			}
		}'
}

# assert_cgroup_ro fails unless every reachable cgroup mount in mountinfo $1
# is read-only.
assert_cgroup_ro() {
	local mounts
	mounts=$(cgroup_mounts "$1")
	echo "cgroup mounts: $mounts"
	if echo "$mounts" | grep -Ev ' ro(,|$)'; then
		fail "writable cgroup hierarchies in the container"
	fi
}

@test "CVE-2023-25809: /sys/fs/cgroup is read-only by default" {
	# Defence: the cgroup mount gets the config's ro; no hierarchy under it
	# is writable. Creating a file in cgroupfs fails with EROFS on a ro
	# mount (EPERM on a rw one), so the probe changes nothing either way.
	run -0 run_sh 'cat /proc/self/mountinfo; for d in /sys/fs/cgroup/*/; do touch "$d/husktest-probe" 2>&1; done; true'
	[ -n "$(cgroup_mounts "$output")" ] || fail "no cgroup mount in the container: $output"
	assert_cgroup_ro "$output"
	[[ "$output" != *"Operation not permitted"* ]] || fail "a cgroup hierarchy is writable"
	[[ "$output" == *"Read-only file system"* ]]
}

@test "CVE-2023-25809: the rootless layout leaves no cgroup hierarchy writable" {
	# Defence: the config of `runc spec --rootless` (user namespace, no
	# network or cgroup namespace, /sys bind-mounted from the host, a ro
	# cgroup mount): the cgroup mount cannot be a fresh cgroupfs there, and
	# whatever the runtime binds instead must come in read-only, every
	# hierarchy under it too.
	requires userns
	update_config '.linux.namespaces = [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| (.mounts[] | select(.destination == "/sys")) |= {destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"]}'
	run -0 run_sh 'cat /proc/self/mountinfo'
	assert_cgroup_ro "$output"
}

@test "CVE-2022-29162: exec --cap adds nothing inheritable" {
	# Defence: --cap goes to bounding, effective and permitted only; with no
	# inheritable set in the config, the exec'd process has none (nor
	# ambient), so a program with file capabilities gains nothing.
	start_sleeper
	run -0 husk exec --cap CAP_NET_ADMIN "$CID" grep -E '^Cap(Inh|Eff|Amb)' /proc/self/status
	echo "$output"
	[[ "$output" == *"CapInh:	0000000000000000"* ]] || fail "exec --cap made capabilities inheritable"
	# CAP_NET_ADMIN is bit 12: the cap itself was granted.
	local eff
	eff=$(echo "$output" | awk '$1 == "CapEff:" { print $2 }')
	[ $((0x$eff & (1 << 12))) -ne 0 ] || fail "CAP_NET_ADMIN not effective: $eff"
}

@test "CVE-2022-29162: a config without inheritable capabilities gives none" {
	# Defence: nothing inheritable is added implicitly, in run or exec.
	run -0 run_sh 'grep ^CapInh /proc/self/status'
	[ "$output" = "CapInh:	0000000000000000" ]
	start_sleeper
	run -0 husk exec "$CID" grep ^CapInh /proc/self/status
	[ "$output" = "CapInh:	0000000000000000" ]
}

@test "unified cgroup file names with .. or / are refused" {
	# Defence: a key of linux.resources.unified names a file in the
	# container's own cgroup directory, never a path; `..` or `/` would
	# write files of a parent cgroup (or anything the runtime can reach).
	local key
	for key in "../cgroup.procs" "../../husktest-escape" ".." "pids/../../cgroup.procs" "/etc/passwd"; do
		update_config ".linux.resources.unified = {\"$key\": \"0\"}"
		set_args true
		run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
		assert_nothing_left
	done
}

@test "container ids that are paths are refused before anything is done" {
	# Defence: the id names a directory under --root and a cgroup: one that
	# climbs (..) or nests (/) is refused before any state is written.
	local id
	set_args true
	for id in "../husktest-escape" "a/../../husktest-escape" "." ".." "a/b"; do
		run ! husk_bg create --bundle "$BUNDLE" "$id"
		assert_nothing_left
	done
	[ ! -e "$TESTDIR/husktest-escape" ] || fail "state written outside --root"
}

@test "sysctl names that are paths are refused before anything is done" {
	# Defence: a sysctl name is a dotted key under /proc/sys; one with `..`
	# in its slash form would write any file of the container (here
	# /tmp/husktest-sysctl in a writable rootfs).
	local name
	update_config '.root.readonly = false'
	set_args true
	for name in "net/../../../tmp/husktest-sysctl" "kernel/../../../tmp/husktest-sysctl" "net.ipv4/../../../../tmp/husktest-sysctl"; do
		update_config ".linux.sysctl = {\"$name\": \"1\"}"
		run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
		assert_nothing_left
		[ ! -e "$BUNDLE/rootfs/tmp/husktest-sysctl" ] || fail "sysctl $name wrote a file"
	done
}

@test "invalid mount option values are refused before anything is done" {
	# Defence: option values are checked before a cgroup, a hook or a
	# mount is made: the prestart hook never runs.
	mkdir -p "$TESTDIR/out"
	update_config ".hooks.prestart = [{path: \"/bin/touch\", args: [\"touch\", \"$TESTDIR/out/hook-ran\"]}]
		| .mounts += [{destination: \"/mnt\", type: \"tmpfs\", source: \"tmpfs\", options: [\"size=lots\"]}]"
	set_args true
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	assert_nothing_left
	[ ! -e "$TESTDIR/out/hook-ran" ] || fail "a hook ran before the mount options were checked"
}

# NESTED_MOUNTS, run in the container as uid 1000 (mapping root to a host root
# would need CAP_SETFCAP), tries what a process of the container can mount in a
# user namespace of its own: a fresh procfs (with a pid namespace of its own)
# and sysfs (with a network namespace). USERNS-OK says the namespaces could be
# made, so a refusal of unshare cannot pass for a refused mount.
NESTED_MOUNTS='unshare -Urmpf true && echo USERNS-OK
unshare -Urmpf mount -t proc proc /mnt && echo PROC-MOUNTED
unshare -Urmnf mount -t sysfs sysfs /mnt && echo SYSFS-MOUNTED
unshare -Urmnf mount -o ro -t sysfs sysfs /mnt && echo SYSFS-RO-MOUNTED
true'

# nested_mounts_refused checks $output of NESTED_MOUNTS.
nested_mounts_refused() {
	echo "$output"
	[[ "$output" == *USERNS-OK* ]] || fail "no user namespace could be made: $output"
	[[ "$output" != *MOUNTED* ]] || fail "a fresh proc or sysfs was mounted: $output"
	[[ "$output" == *"permission denied"* ]] || fail "not refused by the kernel: $output"
}

@test "--no-pivot: a nested user namespace cannot mount a fresh proc or sysfs" {
	# Defence: the kernel lets a user namespace mount proc or sysfs only where
	# the mount namespace already shows one in full (mount_too_revealing).
	# The container's own are masked; --no-pivot keeps the old root's mounts
	# under the rootfs, so the host's proc and sysfs there are detached first.
	requires userns
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg run -d --no-pivot --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
	run -0 husk exec --user 1000:1000 "$CID" sh -c "$NESTED_MOUNTS"
	nested_mounts_refused
	# The workload itself, and the container's own proc and sysfs are there.
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c "$NESTED_MOUNTS; stat -f -c %t /proc /sys"
	run -0 husk run --no-pivot --bundle "$BUNDLE" "$(new_id)"
	nested_mounts_refused
	[ "$(echo "$output" | tail -2 | tr '\n' ' ')" = "9fa0 62656572 " ]
}

@test "a pivoted container: a nested user namespace cannot mount a fresh proc or sysfs" {
	# The same without --no-pivot: only the container's masked proc and sysfs
	# are in its mount namespace.
	requires userns
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c "$NESTED_MOUNTS"
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	nested_mounts_refused
}
