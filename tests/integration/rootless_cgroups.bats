#!/usr/bin/env bats
# Rootless with a delegated cgroup v2 subtree: the systemd VM (`make vm-systemd-test`), where
# the user husktest has a lingering systemd user manager whose cgroup is the user's. Run inside
# the user's session, the runtime gives the container a cgroup of its own there, with its
# limits, and pause, ps, update and delete work on it; run outside it (in root's cgroup, as on a
# host without delegation) there is no cgroup and limits are refused. Skipped where PID 1 is not
# systemd.

load helpers
load rootless_helpers
load systemd_helpers

setup() {
	requires root systemd
	RL_USER=$VM_USER
	rootless_setup
}

teardown() {
	rootless_teardown
}

# rl_session ARGS...: the runtime as the user inside its session (a delegated transient
# service of its manager), with the test's XDG_RUNTIME_DIR (so its default root is $ROOT).
rl_session() {
	# shellcheck disable=SC2086
	in_user_session env XDG_RUNTIME_DIR="$XDG" "$HUSK" $HUSK_GLOBAL_OPTS "$@"
}

@test "in the user's delegated subtree the container gets a cgroup of its own, with its limits" {
	update_config '.linux.resources = {memory: {limit: 33554432}, pids: {limit: 20}}'
	set_args sleep 1000
	CID=$(new_id)
	# The container's stdio goes to a file: a pipe of `run` would be held open by it.
	run -0 rl_session run -d --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/$CID.log" 2>&1
	wait_for_status "$CID" running
	local pid cg
	pid=$(container_pid "$CID")
	cg=$(cut -d: -f3 "/proc/$pid/cgroup")
	# Next to the session's service: the parent of the runtime's own cgroup, as runc places it.
	[[ "$cg" == "/user.slice/user-$VM_UID.slice/user@$VM_UID.service/"*"/$CID" ]] || fail "cgroup $cg"
	[ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 33554432 ]
	[ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 20 ]
	[ "$(stat -c %u "/sys/fs/cgroup$cg")" = "$VM_UID" ]

	run -0 rl_session ps --format json "$CID"
	[ "$(jq -c . <<<"$output")" = "[$pid]" ]
	run -0 rl_session pause "$CID"
	[ "$(container_status "$CID")" = paused ]
	[ "$(cat "/sys/fs/cgroup$cg/cgroup.freeze")" = 1 ]
	run -0 rl_session resume "$CID"
	[ "$(container_status "$CID")" = running ]
	run -0 rl_session update --memory 67108864 "$CID"
	[ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
	run -0 rl_session exec "$CID" sh -c 'cat /proc/self/cgroup'
	[ "$output" = "0::$cg" ]

	run -0 rl_session delete -f "$CID"
	[ ! -d "/sys/fs/cgroup$cg" ]
	rl_assert_nothing_left
}

@test "outside the delegated subtree: no cgroup, and a limit is refused by name" {
	update_config '.linux.resources = {memory: {limit: 33554432}}'
	run ! rl_run_sh true
	[[ "$output" == *memory* ]]
	rl_assert_nothing_left

	update_config 'del(.linux.resources)'
	rl_sleeper
	[ "$(cat "/proc/$(container_pid "$CID")/cgroup")" = "$(cat /proc/self/cgroup)" ]
	run ! rl pause "$CID"
	[ "$(container_status "$CID")" = running ]
}
