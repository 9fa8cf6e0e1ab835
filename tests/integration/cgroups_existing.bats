#!/usr/bin/env bats
# create/run into a cgroup that exists already: one holding processes or one that is frozen is
# refused with a clear error (as runc does), and left as it was. cgroup v1 and v2 (the VM).

load helpers
load cgroups_helpers

teardown() {
	# A frozen cgroup of the test's own: thawed, emptied and removed before the usual checks.
	local dir p
	if [ -s "$TESTDIR/frozen" ]; then
		while read -r dir; do
			echo 0 2>/dev/null >"$dir/cgroup.freeze" || echo THAWED 2>/dev/null >"$dir/freezer.state"
			for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		done <"$TESTDIR/frozen"
	fi
	teardown_husk
	if [ -s "${TESTDIR:-/nonexistent}/frozen" ]; then
		while read -r dir; do rmdir "$dir" 2>/dev/null; done <"$TESTDIR/frozen"
	fi
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
