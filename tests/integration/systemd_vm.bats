#!/usr/bin/env bats
# The systemd VM (tests/vm/run.sh with VM_FLAVOUR=systemd, `make vm-systemd-test`) is what the
# systemd cgroup driver and rootless tests need: systemd as PID 1 on pure cgroup v2, the test
# command in a delegated service of system.slice as an engine's, a lingering user session with a
# delegated cgroup subtree and a session bus, Debian's runc (the reference) running containers in
# systemd scopes, and husk's cgroupfs driver working next to systemd. Skipped where PID 1 is not
# systemd.

load helpers
load systemd_helpers

# The reference runtime for --systemd-cgroup.
RUNC=${RUNC:-/usr/bin/runc}

setup() {
	requires root systemd
	setup_husk
	RUNC_ROOT=$TESTDIR/runc-root
}

teardown() {
	local id
	if [ -n "${TESTDIR:-}" ] && [ -e "$TESTDIR/ids" ]; then
		while read -r id; do
			[ -n "$id" ] || continue
			"$RUNC" --systemd-cgroup --root "$RUNC_ROOT" delete -f "$id" >/dev/null 2>&1
			systemctl stop "husktest-$id.scope" "husktest-$id.service" >/dev/null 2>&1
			systemctl reset-failed "husktest-$id.scope" "husktest-$id.service" >/dev/null 2>&1
		done <"$TESTDIR/ids"
	fi
	teardown_husk
}

# unit_prop UNIT PROPERTY prints one property of a unit as systemctl shows it.
unit_prop() {
	systemctl show --value --property="$2" "$1"
}

@test "PID 1 is systemd and the system is running, no unit failed" {
	[ "$(cat /proc/1/comm)" = systemd ]
	run -0 systemctl is-system-running
	[ "$output" = running ] || fail "system state $output; failed units: $(systemctl --failed --no-legend)"
}

@test "cgroup2 is the only cgroup hierarchy, at /sys/fs/cgroup, with every controller enabled" {
	run -0 awk '$3 == "cgroup" || $3 == "cgroup2" { print $2, $3 }' /proc/self/mounts
	[ "$output" = "/sys/fs/cgroup cgroup2" ]
	# One line: no v1 hierarchy holds this process.
	[ "$(grep -c . /proc/self/cgroup)" = 1 ]
	local c
	for c in cpuset cpu io memory pids; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || fail "$c not enabled at the root"
	done
}

@test "the test command runs in system.slice/husk-vm.service, a delegated unit" {
	[ "$(cat /proc/self/cgroup)" = "0::/system.slice/husk-vm.service" ]
	[ "$(unit_prop husk-vm.service Delegate)" = yes ]
	# Its cgroup has the controllers to hand down, and the command may write there.
	local cg=/sys/fs/cgroup/system.slice/husk-vm.service c
	for c in cpu memory pids; do
		grep -qw "$c" "$cg/cgroup.controllers" || fail "$c not available in $cg"
	done
}

@test "systemctl: a transient service runs in its own cgroup and is gone after it exits" {
	local id unit
	id=$(new_id)
	unit=husktest-$id.service
	run -0 systemd-run --unit="$unit" --wait --pipe --quiet --collect cat /proc/self/cgroup
	[ "$output" = "0::/system.slice/$unit" ]
	[ "$(unit_prop "$unit" LoadState)" = not-found ]
	[ ! -d "/sys/fs/cgroup/system.slice/$unit" ]
}

@test "user husktest lingers: its manager runs with a delegated cgroup and a session bus" {
	[ "$(loginctl show-user "$VM_USER" --value --property=Linger)" = yes ]
	[ "$(unit_prop "user@$VM_UID.service" ActiveState)" = active ]
	local cg=/sys/fs/cgroup/user.slice/user-$VM_UID.slice/user@$VM_UID.service c
	[ "$(stat -c %u "$cg" "$cg/cgroup.procs" "$cg/cgroup.subtree_control" | sort -u)" = "$VM_UID" ]
	for c in cpu cpuset io memory pids; do
		grep -qw "$c" "$cg/cgroup.controllers" || fail "$c not delegated to the user: $(cat "$cg/cgroup.controllers")"
	done
	[ -S "/run/user/$VM_UID/bus" ]
	grep -q "^$VM_USER:100000:65536\$" /etc/subuid
	grep -q "^$VM_USER:100000:65536\$" /etc/subgid
}

@test "in_user_session: the user's process, in its manager's cgroup tree, with its bus" {
	run -0 in_user_session sh -c 'id -u; cat /proc/self/cgroup; echo "$XDG_RUNTIME_DIR $DBUS_SESSION_BUS_ADDRESS"
		systemctl --user is-system-running'
	[ "${lines[0]}" = "$VM_UID" ]
	[[ "${lines[1]}" == "0::/user.slice/user-$VM_UID.slice/user@$VM_UID.service/app.slice/run-"*.service ]]
	[ "${lines[2]}" = "/run/user/$VM_UID unix:path=/run/user/$VM_UID/bus" ]
	[ "${lines[3]}" = running ]
	# The status comes back.
	run -7 in_user_session sh -c 'exit 7'
}

# What a rootless runtime does with a delegated cgroup: a leaf for itself, controllers enabled
# for the children, a limit on a child.
@test "in_user_session: the user divides its cgroup and sets a limit in it" {
	run -0 in_user_session sh -c '
		cg=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)
		echo "$cg"
		mkdir "$cg/leaf" "$cg/limited" && echo $$ >"$cg/leaf/cgroup.procs" &&
			echo "+memory +pids" >"$cg/cgroup.subtree_control" &&
			echo 7 >"$cg/limited/pids.max" && cat "$cg/limited/pids.max"'
	[ "${lines[1]}" = 7 ]
	# systemd removes the unit's cgroup, children included, when it ends.
	local _
	for _ in $(seq 50); do
		[ -d "${lines[0]}" ] || break
		sleep 0.1
	done
	[ ! -d "${lines[0]}" ]
}

# What rootless runtimes need besides the cgroup: the checkout's runtime can be run by the user,
# and newuidmap/newgidmap give it its subordinate ids.
@test "in_user_session: the runtime under test runs, and a user namespace maps the subordinate ids" {
	run -0 in_user_session "$HUSK" --version
	# The user's own id as root, the subordinate range (less the one id root took) after it.
	run -0 in_user_session unshare --user --map-root-user --map-auto sh -c 'cat /proc/self/uid_map /proc/self/gid_map'
	[ "$(echo "$output" | awk '{ print $1, $2 }' | sort | uniq -c | awk '{ print $1, $2, $3 }')" = "2 0 $VM_UID
2 1 100000" ]
}

@test "as_user: the user's process stays in root's cgroup and reaches its manager" {
	run -0 as_user sh -c 'id -u; cat /proc/self/cgroup; systemctl --user is-system-running'
	[ "${lines[0]}" = "$VM_UID" ]
	[ "${lines[1]}" = "0::/system.slice/husk-vm.service" ]
	[ "${lines[2]}" = running ]
}

@test "Debian's runc --systemd-cgroup: the container in a transient scope with its limits" {
	local id unit pid
	id=$(new_id)
	unit=husktest-$id.scope
	update_config ".linux.cgroupsPath = \"system.slice:husktest:$id\"
		| .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 20}"
	set_args sleep 1000
	"$RUNC" --systemd-cgroup --root "$RUNC_ROOT" run -d --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/runc.log" 2>&1 ||
		fail "runc run: $(cat "$TESTDIR/runc.log")"
	pid=$("$RUNC" --root "$RUNC_ROOT" state "$id" | jq -r .pid)
	[ "$(cat "/proc/$pid/cgroup")" = "0::/system.slice/$unit" ]
	[ "$(unit_prop "$unit" ActiveState)" = active ]
	[ "$(unit_prop "$unit" Delegate)" = yes ]
	[ "$(unit_prop "$unit" MemoryMax)" = 67108864 ]
	[ "$(unit_prop "$unit" TasksMax)" = 20 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/memory.max")" = 67108864 ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$unit/pids.max")" = 20 ]
	"$RUNC" --systemd-cgroup --root "$RUNC_ROOT" delete -f "$id"
	[ "$(unit_prop "$unit" ActiveState)" != active ]
	[ ! -d "/sys/fs/cgroup/system.slice/$unit" ]
}

# The default cgroupsPath (the id, relative: next to husk's own unit in system.slice). With a
# cgroup namespace, as the engines run containers on v2, the container's /sys/fs/cgroup is its own
# cgroup.
@test "husk (cgroupfs driver) runs a container with a memory limit next to systemd's units" {
	update_config '.linux.resources.memory = {limit: 33554432} | .linux.namespaces += [{type: "cgroup"}]'
	start_sleeper
	local pid
	pid=$(container_pid "$CID")
	[ "$(cat "/proc/$pid/cgroup")" = "0::/system.slice/$CID" ]
	[ "$(cat "/sys/fs/cgroup/system.slice/$CID/memory.max")" = 33554432 ]
	run -0 husk exec "$CID" cat /proc/self/cgroup /sys/fs/cgroup/memory.max
	[ "${lines[0]}" = "0::/" ]
	[ "${lines[1]}" = 33554432 ]
	husk delete -f "$CID"
	[ ! -d "/sys/fs/cgroup/system.slice/$CID" ]
}
