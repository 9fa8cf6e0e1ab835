#!/usr/bin/env bats
# create/run into a cgroup that exists already: one holding processes or one that is frozen is
# refused with a clear error (as runc does), and left as it was; a container whose ancestor is
# frozen from outside. cgroup v1 and v2 (the VM).

load helpers
load cgroups_helpers

teardown() {
	# A frozen cgroup of the test's own (no runtime removes a cgroup it did not make): thawed,
	# emptied and removed before the usual checks, which then find the runtime's leftovers only.
	local dir p _
	if [ -s "${TESTDIR:-/nonexistent}/frozen" ]; then
		while read -r dir; do
			echo 0 2>/dev/null >"$dir/cgroup.freeze" || echo THAWED 2>/dev/null >"$dir/freezer.state" || true
			for _ in $(seq 100); do
				for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
				[ ! -d "$dir" ] || rmdir "$dir" 2>/dev/null || true
				[ -d "$dir" ] || break
				sleep 0.1
			done
		done <"$TESTDIR/frozen"
	fi
	cg_teardown
}

# husk_guarded runs the runtime with its stdio in a file (a container that wrongly starts must
# not hold bats' pipes) and gives up after a minute: a runtime that waits for an init frozen
# in its cgroup would never return by itself.
husk_guarded() {
	local rc=0
	# shellcheck disable=SC2086
	timeout -k 5 60 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" "$@" </dev/null >"$TESTDIR/guarded.log" 2>&1 || rc=$?
	cat "$TESTDIR/guarded.log"
	return $rc
}

# frozen_cgroup NAME makes the cgroup /NAME and freezes it, as a tool outside the runtime
# would, and prints its freezer directory.
frozen_cgroup() {
	local dir
	if cg_v2; then
		dir=/sys/fs/cgroup/$1
		mkdir "$dir"
		echo "$dir" >>"$TESTDIR/frozen"
		echo 1 >"$dir/cgroup.freeze"
	else
		dir=/sys/fs/cgroup/freezer/$1
		mkdir "$dir"
		echo "$dir" >>"$TESTDIR/frozen"
		echo FROZEN >"$dir/freezer.state"
	fi
	echo "$dir"
}

# is_frozen DIR succeeds when the cgroup at DIR is frozen.
is_frozen() {
	if cg_v2; then
		[ "$(cat "$1/cgroup.freeze")" = 1 ]
	else
		[ "$(cat "$1/freezer.state")" = FROZEN ]
	fi
}

@test "create and run into a cgroup that already holds processes fail and leave it alone" {
	local cg
	cg=$(new_id)
	update_config ".linux.cgroupsPath = \"/$cg\""
	start_sleeper
	local first=$CID pid
	pid=$(container_pid "$first")
	local verb id
	for verb in "run -d" create; do
		id=$(new_id)
		# shellcheck disable=SC2086
		run husk_guarded $verb --bundle "$BUNDLE" "$id"
		[ "$status" -eq 1 ] || fail "$verb into a used cgroup: status $status: $output"
		[[ "$output" == *"cgroup is not empty"* ]] || fail "$verb: unclear error: $output"
		[ ! -e "$ROOT/$id" ]
	done
	# The first container and its cgroup are as they were.
	[ "$(container_status "$first")" = running ]
	grep -q "/$cg\$" "/proc/$pid/cgroup"
	[ "$(husk list -q)" = "$first" ]
}

@test "create and run into a frozen cgroup fail at once and leave it frozen" {
	local cg dir
	cg=$(new_id)
	dir=$(frozen_cgroup "$cg")
	update_config ".linux.cgroupsPath = \"/$cg\""
	set_args true
	local verb id
	for verb in "run -d" create; do
		id=$(new_id)
		# shellcheck disable=SC2086
		run husk_guarded $verb --bundle "$BUNDLE" "$id"
		[ "$status" -eq 1 ] || fail "$verb into a frozen cgroup: status $status: $output"
		[[ "$output" == *frozen* ]] || fail "$verb: unclear error: $output"
		[ ! -e "$ROOT/$id" ]
	done
	# Still there, still frozen, and empty.
	is_frozen "$dir"
	[ -z "$(cat "$dir/cgroup.procs")" ]
	[ -z "$(state_left)" ]
}

# own_frozen DIR prints whether the cgroup at DIR is frozen itself (0 or 1); effectively_frozen
# DIR whether its processes are, itself or through an ancestor.
own_frozen() {
	if cg_v2; then cat "$1/cgroup.freeze"; else cat "$1/freezer.self_freezing"; fi
}
effectively_frozen() {
	if cg_v2; then
		cg_key "$1/cgroup.events" frozen
	else
		case $(cat "$1/freezer.state") in FROZEN) echo 1 ;; THAWED) echo 0 ;; *) echo settling ;; esac
	fi
}

# wait_effectively DIR WANT waits until effectively_frozen DIR is WANT (the kernel freezes and
# thaws asynchronously).
wait_effectively() {
	local _
	for _ in $(seq 200); do
		[ "$(effectively_frozen "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	fail "$1: effectively frozen is $(effectively_frozen "$1"), want $2"
}

@test "a container whose ancestor cgroup is frozen from outside reads as running, as runc; pause and resume act on its own" {
	local parent id c
	parent="husktest-frozenparent-$$-$RANDOM$RANDOM"
	id=$(new_id)
	# The parent: made by the test on v2, by the runtime in every v1 hierarchy (as runc).
	if cg_v2; then
		mkdir "/sys/fs/cgroup/$parent"
		cg_parent_dirs "/sys/fs/cgroup/$parent"
	else
		for c in cpu cpuacct cpuset memory devices freezer blkio pids systemd; do
			cg_parent_dirs "/sys/fs/cgroup/$c/$parent"
		done
		cg_parent_dirs "/sys/fs/cgroup/unified/$parent"
	fi
	update_config ".linux.cgroupsPath = \"/$parent/$id\""
	set_args sleep 1000
	run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
	CID=$id
	local own pdir
	own=$(cg_dir freezer)
	pdir=$(dirname "$own")
	echo "$pdir" >>"$TESTDIR/frozen"
	if cg_v2; then echo 1 >"$pdir/cgroup.freeze"; else echo FROZEN >"$pdir/freezer.state"; fi
	wait_effectively "$own" 1
	[ "$(own_frozen "$own")" = 0 ]
	# Its processes are frozen, its own freezer is not: runc 1.5.3 says running (v2: its
	# cgroup.freeze; v1: freezer.self_freezing).
	[ "$(container_status "$CID")" = running ]
	run -0 husk list
	[[ "$output" == *"$CID "*" running "* ]] || fail "list: $output"
	husk pause "$CID"
	[ "$(own_frozen "$own")" = 1 ]
	[ "$(container_status "$CID")" = paused ]
	husk resume "$CID"
	[ "$(own_frozen "$own")" = 0 ]
	[ "$(container_status "$CID")" = running ]
	# Still frozen through the ancestor, until that is thawed.
	[ "$(effectively_frozen "$own")" = 1 ]
	if cg_v2; then echo 0 >"$pdir/cgroup.freeze"; else echo THAWED >"$pdir/freezer.state"; fi
	wait_effectively "$own" 0
	[ "$(container_status "$CID")" = running ]
	husk delete -f "$CID"
	[ ! -e "$own" ]
}
