#!/usr/bin/env bats
# spec: writes a default config.json like runc's.

load helpers

@test "spec writes runc's default config.json" {
	mkdir "$TESTDIR/new"
	cd "$TESTDIR/new"
	run -0 husk spec
	[ -s config.json ]
	local c
	c=$(cat config.json)
	echo "$c" | jq -e '.ociVersion | length > 0'
	echo "$c" | jq -e '.process.terminal == true'
	echo "$c" | jq -e '.process.args == ["sh"]'
	echo "$c" | jq -e '.process.user == {"uid": 0, "gid": 0}'
	echo "$c" | jq -e '.process.cwd == "/"'
	echo "$c" | jq -e '.process.noNewPrivileges == true'
	echo "$c" | jq -e '.process.capabilities.bounding == ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]'
	# Nothing inheritable or ambient (runc 1.1's spec had an ambient set).
	echo "$c" | jq -e '.process.capabilities | (has("ambient") or has("inheritable")) | not'
	echo "$c" | jq -e '.process.rlimits == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]'
	echo "$c" | jq -e '.root == {"path": "rootfs", "readonly": true}'
	echo "$c" | jq -e '[.mounts[].destination] | contains(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])'
	echo "$c" | jq -e '[.linux.namespaces[].type] | contains(["pid", "network", "ipc", "uts", "mount"])'
	echo "$c" | jq -e '.linux.maskedPaths | contains(["/proc/kcore", "/sys/firmware"])'
	echo "$c" | jq -e '.linux.readonlyPaths | contains(["/proc/sys", "/proc/sysrq-trigger"])'
}

@test "spec --bundle writes into the bundle directory" {
	mkdir "$TESTDIR/other"
	cd "$TESTDIR"
	run -0 husk spec --bundle "$TESTDIR/other"
	[ -s "$TESTDIR/other/config.json" ]
	[ ! -e "$TESTDIR/config.json" ]
	jq -e . "$TESTDIR/other/config.json"
}

@test "spec refuses to overwrite an existing config.json" {
	mkdir "$TESTDIR/new"
	echo '{"keep": true}' >"$TESTDIR/new/config.json"
	run -1 husk spec --bundle "$TESTDIR/new"
	[[ "$output" == *config.json* ]]
	jq -e '.keep == true' "$TESTDIR/new/config.json"
}

@test "the spec config runs a busybox bundle" {
	rm "$BUNDLE/config.json"
	run -0 husk spec --bundle "$BUNDLE"
	update_config '.process.terminal = false | .process.args = ["sh", "-c", "echo $$; hostname"]'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
}

@test "spec has a cgroup namespace only on a cgroup v2 host, as runc's" {
	mkdir "$TESTDIR/new"
	run -0 husk spec --bundle "$TESTDIR/new"
	local want=false
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && want=true
	[ "$(jq '[.linux.namespaces[].type] | index("cgroup") != null' "$TESTDIR/new/config.json")" = "$want" ]
}

@test "the suite's default config is the runtime's own spec" {
	# helpers.bash writes runc 1.5's spec without a terminal; husk's spec is the same, with its
	# own hostname and two more masked paths (/proc/interrupts and /sys/devices/virtual/powercap,
	# as docker and containerd mask them). On a cgroup v2 host spec adds a cgroup namespace.
	mkdir "$TESTDIR/new"
	run -0 husk spec --bundle "$TESTDIR/new"
	local drop='.process.terminal = false | .hostname = "husk"
		| .linux.namespaces -= [{type: "cgroup"}]
		| .linux.maskedPaths -= ["/proc/interrupts", "/sys/devices/virtual/powercap"]'
	diff <(jq -S "$drop" "$TESTDIR/new/config.json") <(jq -S "$drop" "$BUNDLE/config.json") ||
		fail "the default config of helpers.bash is not $HUSK_NAME's spec (< spec, > helpers.bash)"
}
