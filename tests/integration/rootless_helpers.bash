#!/bin/bash
# Helpers for running the runtime as an unprivileged user (rootless), on top of helpers.bash.
# The user is husktest, made once by `make test-user` (scripts/testuser.sh: a home, 65536
# subordinate uids and gids); the systemd VM's image has it too. Tests run as root and switch
# to the user for the runtime only; teardown (as root) removes whatever the user left.

RL_USER=${RL_USER:-husktest}

# rootless_setup: the test's temp dir and bundle (setup_husk), given to the user: the bundle
# (so that the container's root owns its rootfs) and an XDG_RUNTIME_DIR of its own, whose
# husk/ (runc/ for runc) is the default --root and so $ROOT for teardown.
rootless_setup() {
	id -u "$RL_USER" >/dev/null 2>&1 ||
		fail "user $RL_USER is missing: run \`make test-user\` (scripts/testuser.sh) first"
	RL_UID=$(id -u "$RL_USER")
	RL_GID=$(id -g "$RL_USER")
	RL_SUBUID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
	RL_SUBGID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subgid)
	setup_husk
	XDG=$TESTDIR/xdg
	mkdir -m 700 "$XDG"
	chown "$RL_USER:" "$XDG"
	ROOT=$XDG/$HUSK_NAME
	rmdir "$TESTDIR/root"
	# runc's rootless config (spec --rootless): the caller's ids mapped to 0, no network
	# namespace, /sys bound, no uid=/gid= options, no resources.
	update_config '.linux.namespaces = [{type: "pid"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: '"$RL_UID"', size: 1}]
		| .linux.gidMappings = [{containerID: 0, hostID: '"$RL_GID"', size: 1}]
		| .mounts |= map(if .destination == "/sys" then {destination: "/sys", type: "none", source: "/sys",
			options: ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)
		| .mounts |= map(if .options then .options |= map(select(startswith("uid=") or startswith("gid=") | not)) else . end)
		| del(.linux.resources)'
	chown -R "$RL_USER:" "$BUNDLE"
}

# as_rl CMD...: runs CMD as the user, with a clean environment and the test's XDG_RUNTIME_DIR.
# setpriv execs CMD in its own process (runuser would stay as its parent), so the pid of a
# background as_rl is CMD's.
as_rl() {
	setpriv --reuid="$RL_USER" --regid="$RL_USER" --init-groups -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME="$(getent passwd "$RL_USER" | cut -d: -f6)" USER="$RL_USER" LOGNAME="$RL_USER" \
		XDG_RUNTIME_DIR="$XDG" "$@"
}

# rl CMD...: the runtime as the user, with its default --root.
rl() {
	# shellcheck disable=SC2086
	as_rl "$HUSK" $HUSK_GLOBAL_OPTS "$@"
}

# rl_bg: husk_bg for the user (stdio of the container in $TESTDIR/<id>.log).
rl_bg() {
	local id=${*: -1}
	local log="$TESTDIR/$id.log" rc=0
	rl "$@" </dev/null >"$log" 2>&1 || rc=$?
	cat "$log"
	return $rc
}

# rl_run_sh SCRIPT: a foreground container running sh -c SCRIPT as the user.
rl_run_sh() {
	set_args sh -c "$1"
	rl run --bundle "$BUNDLE" "$(new_id)" </dev/null
}

# rl_sleeper: a detached container running sleep, as the user; its id in $CID.
rl_sleeper() {
	set_args sleep 1000
	CID=$(new_id)
	run -0 rl_bg run -d --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
}

# rl_processes_left prints host pids of processes whose root is the test's rootfs (a rootless
# container has no cgroup to find them by).
rl_processes_left() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$r" = "$BUNDLE/rootfs" ] || continue
		[ "$(awk '/^State:/ {print $2}' "$p/status" 2>/dev/null)" = Z ] && continue
		echo "${p#/proc/}"
	done
	return 0
}

# rl_assert_nothing_left: assert_nothing_left, plus processes found by their root.
rl_assert_nothing_left() {
	assert_nothing_left
	local procs
	procs=$(rl_processes_left)
	[ -z "$procs" ] || fail "processes left: $procs"
}

rootless_teardown() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ] || return 0
	local id procs
	# As root, as teardown_husk would, but first: what is left after that is found by its root.
	while read -r id; do
		[ -n "$id" ] || continue
		husk kill "$id" KILL >/dev/null 2>&1
		husk delete -f "$id" >/dev/null 2>&1
	done <"$TESTDIR/ids"
	procs=$(rl_processes_left)
	if [ -n "$procs" ]; then
		# shellcheck disable=SC2086
		kill -9 $procs 2>/dev/null
	fi
	teardown_husk || return 1
	[ -z "$procs" ] || fail "teardown: rootless processes left: $procs"
}
