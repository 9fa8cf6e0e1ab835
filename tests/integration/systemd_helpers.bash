#!/bin/bash
# Helpers for tests that need systemd as PID 1, on top of helpers.bash: the systemd VM
# (tests/vm/run.sh with VM_FLAVOUR=systemd; `make vm-systemd-test`). Use `requires systemd`.
#
# There, the test command runs as root in husk-vm.service (system.slice, Delegate=yes), and the
# unprivileged user husktest (uid 1000, subordinate ids 100000-165535 in /etc/subuid and
# /etc/subgid) is logged in by lingering: user@1000.service runs its systemd user manager from
# boot on, with a delegated cgroup v2 subtree (controllers cpu cpuset io memory pids) and its
# session bus at /run/user/1000/bus. The engines (containerd, docker, podman) are installed but
# not started: `systemctl start containerd` (or docker) when a test needs one.

VM_USER=husktest
VM_UID=1000

# in_user_session CMD...: runs CMD as husktest inside the user's session: a transient service of
# the user's systemd manager (Delegate=yes, so its cgroup below
# /user.slice/user-1000.slice/user@1000.service/app.slice is the user's to divide), with
# XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS set, so `systemctl --user` and a runtime's
# --systemd-cgroup reach that manager. CMD starts in the user's home with the manager's
# environment (pass more as `env K=V CMD`); its stdin, stdout and stderr are the caller's and its
# exit status is returned. The words reach CMD as given: the `$` that systemd would expand in a
# unit's command line are doubled.
in_user_session() {
	local a args=()
	for a in "$@"; do args+=("${a//\$/\$\$}"); done
	systemd-run --user --machine="$VM_USER@" --wait --pipe --quiet --collect --property=Delegate=yes -- "${args[@]}"
}

# as_user CMD...: runs CMD as husktest with the session's variables but in the caller's cgroup
# (root's husk-vm.service): the user reaches its manager over D-Bus and owns no cgroup, as a
# rootless runtime without delegation.
as_user() {
	runuser -u "$VM_USER" -- env XDG_RUNTIME_DIR="/run/user/$VM_UID" \
		DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$VM_UID/bus" "$@"
}

# The systemd cgroup driver tests (systemd_cgroups.bats, systemd_engines.bats) read a
# container's unit and cgroup back the way an operator would: `systemctl show` and the cgroup
# files of the init's /proc/<pid>/cgroup.

# sd_setup: a test's temp dir, bundle and root, with the systemd cgroup driver on (every
# runtime call gets --systemd-cgroup). The tests that need systemd say so (requires systemd).
sd_setup() {
	requires root
	setup_husk
	HUSK_GLOBAL_OPTS="--systemd-cgroup ${HUSK_GLOBAL_OPTS:-}"
	: >"$TESTDIR/units"
	: >"$TESTDIR/slices"
}

# sd_prefix prints the unit prefix a runtime uses for a config without cgroupsPath: its own name
# (husk-ID.scope, runc-ID.scope).
sd_prefix() {
	echo "$HUSK_NAME"
}

# sd_unit ID prints the unit of container ID with the default cgroupsPath, and records it for
# teardown's leftover check.
sd_unit() {
	local u
	u="$(sd_prefix)-$1.scope"
	sd_track "$u"
	echo "$u"
}

# sd_track UNIT records a unit that must not be loaded any more after the test.
sd_track() {
	grep -qxF "$1" "$TESTDIR/units" 2>/dev/null || echo "$1" >>"$TESTDIR/units"
}

# sd_track_slice SLICE records a slice the test made by naming it (systemd keeps a slice
# active once started); teardown stops it after the containers.
sd_track_slice() {
	echo "$1" >>"$TESTDIR/slices"
}

# sd_show UNIT PROPERTY prints the property's value as systemctl shows it.
sd_show() {
	systemctl show --property "$2" --value "$1"
}

# sd_check UNIT PROPERTY WANT fails unless the unit's property reads WANT.
sd_check() {
	local got
	got=$(sd_show "$1" "$2")
	[ "$got" = "$3" ] || fail "$1: $2=$got, want $3"
}

# sd_loaded UNIT succeeds when systemd has the unit loaded (in any state, failed included).
sd_loaded() {
	[ "$(sd_show "$1" LoadState)" != not-found ]
}

# sd_wait_unloaded UNIT waits until systemd no longer has the unit (up to ~10s): a scope whose
# processes are gone is collected by systemd asynchronously.
sd_wait_unloaded() {
	local _
	for _ in $(seq 100); do
		sd_loaded "$1" || return 0
		sleep 0.1
	done
	fail "unit $1 is still loaded: $(systemctl show -p ActiveState -p SubState -p Result "$1" | tr '\n' ' ')"
}

# sd_cgroup ID prints the host directory of container ID's cgroup, from its init.
sd_cgroup() {
	local pid rel
	pid=$(container_pid "$1") || return 1
	rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	[ -n "$rel" ] || { fail "no cgroup2 line in /proc/$pid/cgroup"; return 1; }
	echo "/sys/fs/cgroup$rel"
}

# sd_units_named TEXT lists the loaded units whose name contains TEXT.
sd_units_named() {
	systemctl list-units --all --plain --no-legend --full "*$1*" | awk '{print $1}'
}

# sd_teardown is teardown_husk, then: every recorded unit must be gone (a leftover is stopped,
# reset and reported), and the recorded slices are stopped.
sd_teardown() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ] || return 0
	local units slices rc=0 u problems=""
	units=$(cat "$TESTDIR/units" 2>/dev/null)
	slices=$(cat "$TESTDIR/slices" 2>/dev/null)
	teardown_husk || rc=$?
	for u in $units; do
		# A scope emptied by the delete can take systemd a moment to collect.
		for _ in $(seq 50); do
			sd_loaded "$u" || break
			sleep 0.1
		done
		if sd_loaded "$u"; then
			problems+="unit left: $u ($(systemctl show -p ActiveState -p Result --value "$u" | tr '\n' ' '))"$'\n'
			systemctl stop "$u" 2>/dev/null
			systemctl reset-failed "$u" 2>/dev/null
		fi
	done
	for u in $(echo "$slices" | tac); do
		systemctl stop "$u" 2>/dev/null
	done
	if [ -n "$problems" ]; then
		echo "teardown: $problems" >&2
		return 1
	fi
	return $rc
}

# weight_for_shares SHARES prints the CPUWeight (cpu.weight) the runtime under test makes of
# cpu.shares: runc before 1.3 (Debian's 1.1.5) used a linear map, husk and later runc the
# quadratic one of shares_to_weight (cgroups_helpers.bash).
weight_for_shares() {
	local v
	v=$("$HUSK" --version 2>/dev/null | awk 'NR == 1 {print $3}')
	if [ "$HUSK_NAME" = runc ] && [[ "$v" == 1.[012].* ]]; then
		echo $((1 + (($1 - 2) * 9999) / 262142))
		return
	fi
	shares_to_weight "$1"
}

# sd_hybrid succeeds on systemd's hybrid layout: v1 controllers, systemd's cgroup2 at
# /sys/fs/cgroup/unified (VM_SYSTEMD_CGROUP=hybrid tests/vm/run.sh).
sd_hybrid() {
	host_systemd && [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]
}

# sd_v1_dir ID CTRL prints the host directory of container ID's cgroup in the v1 hierarchy of
# CTRL ("" for systemd's cgroup2), from its init.
sd_v1_dir() {
	local pid rel
	pid=$(container_pid "$1") || return 1
	if [ -z "$2" ]; then
		rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		echo "/sys/fs/cgroup/unified$rel"
		return
	fi
	rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
	[ -n "$rel" ] || { fail "no $2 line in /proc/$pid/cgroup"; return 1; }
	echo "$(sd_v1_mount "$2")$rel"
}

# sd_v1_mount CTRL prints the mount point of CTRL's v1 hierarchy.
sd_v1_mount() {
	awk -v c="$1" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/self/mounts
}

# sd_user_show UNIT PROPERTY prints the property of a unit of husktest's systemd instance.
sd_user_show() {
	systemctl --user --machine="$VM_USER@" show --property "$2" --value "$1"
}

# sd_user_check UNIT PROPERTY WANT fails unless the user unit's property reads WANT.
sd_user_check() {
	local got
	got=$(sd_user_show "$1" "$2")
	[ "$got" = "$3" ] || fail "user unit $1: $2=$got, want $3"
}

# sd_user_wait_unloaded UNIT waits until husktest's instance no longer has the unit (~10s).
sd_user_wait_unloaded() {
	local _
	for _ in $(seq 100); do
		[ "$(sd_user_show "$1" LoadState)" = not-found ] && return 0
		sleep 0.1
	done
	fail "user unit $1 is still loaded: $(sd_user_show "$1" ActiveState)"
}

# clients_lib FUNC ARGS...: runs a function of tests/clients/lib.sh in a subshell, with its $T
# the test's temp dir (sourcing it here would replace helpers.bash's functions of the same
# names).
clients_lib() {
	(
		# shellcheck source=../clients/lib.sh
		. "$REPO_ROOT/tests/clients/lib.sh"
		set +u
		T=$TESTDIR
		"$@"
	)
}
