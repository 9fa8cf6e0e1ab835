#!/usr/bin/env bats
# Rootless with a delegated cgroup v2 subtree: the systemd VM (`make vm-systemd-test`), where
# the user husktest has a lingering systemd user manager whose cgroup is the user's. Run inside
# the user's session, the runtime gives the container a cgroup of its own there, with its
# limits, and pause, ps, update and delete work on it; run outside it (in root's cgroup, as on a
# host without delegation) there is no cgroup and limits are refused. With --systemd-cgroup the
# container is a scope of the user's own systemd instance. Skipped where PID 1 is not systemd.

load helpers
load rootless_helpers
load systemd_helpers

setup() {
	requires root systemd
	RL_USER=$VM_USER
	rootless_setup
}

teardown() {
	# Containers in the user's instance a failed test left are deleted by the user: root's
	# delete cannot reach the user's bus.
	local u d
	for d in "${ROOT:-/nonexistent}"/*/; do
		[ -d "$d" ] && rl_session delete -f "$(basename "$d")" >/dev/null 2>&1
	done
	# Units of the user's instance a failed test left.
	for u in $(cat "$TESTDIR/user_units" 2>/dev/null); do
		systemctl --user --machine="$VM_USER@" stop "$u" >/dev/null 2>&1
		systemctl --user --machine="$VM_USER@" reset-failed "$u" >/dev/null 2>&1
	done
	rootless_teardown
}

# rl_session ARGS...: the runtime as the user inside its session (a delegated transient
# service of its manager), with the test's XDG_RUNTIME_DIR (so its default root is $ROOT).
rl_session() {
	# shellcheck disable=SC2086
	in_user_session env XDG_RUNTIME_DIR="$XDG" "$HUSK" $HUSK_GLOBAL_OPTS "$@"
}

# rl_session_bg ARGS... ID: rl_session with the container's stdio in $TESTDIR/ID.log, then that
# log. Not `run rl_session ... >file`: that redirects `run` itself, whose $(...) still hands
# the command bats' pipe, and a detached container holding it makes `run` wait for the
# container to end (sleep 1000: the 17 minutes this file once hung).
rl_session_bg() {
	local id=${*: -1} rc=0
	rl_session "$@" </dev/null >"$TESTDIR/$id.log" 2>&1 || rc=$?
	cat "$TESTDIR/$id.log"
	return $rc
}

@test "in the user's delegated subtree the container gets a cgroup of its own, with its limits" {
	update_config '.linux.resources = {memory: {limit: 33554432}, pids: {limit: 20}}'
	set_args sleep 1000
	CID=$(new_id)
	run -0 rl_session_bg run -d --bundle "$BUNDLE" "$CID"
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

@test "--systemd-cgroup: the container is a scope of the user's systemd instance, in its user.slice, with its limits" {
	HUSK_GLOBAL_OPTS="--systemd-cgroup ${HUSK_GLOBAL_OPTS:-}"
	update_config '.linux.resources = {memory: {limit: 33554432}, pids: {limit: 20}}'
	set_args sleep 1000
	CID=$(new_id)
	local unit="$HUSK_NAME-$CID.scope"
	echo "$unit" >>"$TESTDIR/user_units"
	run -0 rl_session_bg run -d --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
	# runc's placement: user.slice of the user's manager, whose cgroup the scope is below.
	local cg="/user.slice/user-$VM_UID.slice/user@$VM_UID.service/user.slice/$unit"
	sd_user_check "$unit" ActiveState active
	sd_user_check "$unit" Slice user.slice
	sd_user_check "$unit" Delegate yes
	sd_user_check "$unit" ControlGroup "$cg"
	[ "$(cut -d: -f3 "/proc/$(container_pid "$CID")/cgroup")" = "$cg" ]
	# Not a unit of the system's instance.
	[ "$(systemctl show --property LoadState --value "$unit")" = not-found ]
	sd_user_check "$unit" MemoryMax 33554432
	[ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 33554432 ]
	sd_user_check "$unit" TasksMax 20
	[ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 20 ]
	# Delegated to the user.
	[ "$(stat -c %u "/sys/fs/cgroup$cg" "/sys/fs/cgroup$cg/cgroup.procs" | sort -u)" = "$VM_UID" ]

	run -0 rl_session update --memory 67108864 --pids-limit 30 "$CID"
	sd_user_check "$unit" MemoryMax 67108864
	[ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
	sd_user_check "$unit" TasksMax 30
	[ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 30 ]
	run -0 rl_session pause "$CID"
	[ "$(container_status "$CID")" = paused ]
	[ "$(cat "/sys/fs/cgroup$cg/cgroup.freeze")" = 1 ]
	run -0 rl_session resume "$CID"
	[ "$(container_status "$CID")" = running ]
	run -0 rl_session exec "$CID" cat /proc/self/cgroup
	[ "$output" = "0::$cg" ]

	run -0 rl_session delete -f "$CID"
	sd_user_wait_unloaded "$unit"
	[ ! -d "/sys/fs/cgroup$cg" ]
	rl_assert_nothing_left
}

# podman runs the runtime as root of a user namespace whose root is the user's uid: --rootless
# auto finds it rootless (its owner uid, from /proc/self/uid_map, is not 0) and talks to the
# user's instance, authenticated as that uid.
@test "--systemd-cgroup as root of a user namespace mapped to the user (as podman runs it): a scope of the user's instance" {
	HUSK_GLOBAL_OPTS="--systemd-cgroup ${HUSK_GLOBAL_OPTS:-}"
	# The container's root is the namespace's root (the user).
	update_config '.linux.uidMappings = [{containerID: 0, hostID: 0, size: 1}]
		| .linux.gidMappings = [{containerID: 0, hostID: 0, size: 1}] | .linux.resources = {pids: {limit: 20}}'
	set_args sleep 1000
	CID=$(new_id)
	local unit="$HUSK_NAME-$CID.scope"
	local cg="/user.slice/user-$VM_UID.slice/user@$VM_UID.service/user.slice/$unit"
	echo "$unit" >>"$TESTDIR/user_units"
	# shellcheck disable=SC2086
	in_user_session env XDG_RUNTIME_DIR="$XDG" unshare --user --map-root-user \
		"$HUSK" $HUSK_GLOBAL_OPTS run -d --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/$CID.log" 2>&1 ||
		fail "run: $(cat "$TESTDIR/$CID.log")"
	wait_for_status "$CID" running
	sd_user_check "$unit" ActiveState active
	[ "$(cut -d: -f3 "/proc/$(container_pid "$CID")/cgroup")" = "$cg" ]
	[ "$(systemctl show --property LoadState --value "$unit")" = not-found ]
	sd_user_check "$unit" TasksMax 20
	[ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 20 ]
	# shellcheck disable=SC2086
	run -0 in_user_session env XDG_RUNTIME_DIR="$XDG" unshare --user --map-root-user \
		"$HUSK" $HUSK_GLOBAL_OPTS delete -f "$CID"
	sd_user_wait_unloaded "$unit"
	[ ! -d "/sys/fs/cgroup$cg" ]
	rl_assert_nothing_left
}

@test "--systemd-cgroup without the user's session bus fails naming it; nothing is left" {
	HUSK_GLOBAL_OPTS="--systemd-cgroup ${HUSK_GLOBAL_OPTS:-}"
	set_args true
	# as_rl: no DBUS_SESSION_BUS_ADDRESS, and an XDG_RUNTIME_DIR without a bus.
	run ! rl run --bundle "$BUNDLE" "$(new_id)" </dev/null
	# runc: "failed to connect to dbus (hint: ... dbus-user-session ...)".
	[[ "${output,,}" == *dbus* ]] || fail "error does not name D-Bus: $output"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *DBUS_SESSION_BUS_ADDRESS* ]] || fail "error does not name the session bus: $output"
	fi
	rl_assert_nothing_left
}

