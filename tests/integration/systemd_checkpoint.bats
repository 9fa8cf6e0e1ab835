#!/usr/bin/env bats
# checkpoint and restore with the systemd cgroup driver (--systemd-cgroup): a container created
# in its transient scope is dumped (the scope goes with the container), and restore starts the
# scope again (criu in it first, then the restored processes, which stay) with the config's
# limits as unit properties and in the cgroup files; delete stops it. Needs systemd as PID 1 and
# a criu that works: the systemd VM (make vm-systemd-test); skipped elsewhere. Runs against runc
# as well: HUSK=/path/to/runc (runc 1.1 gives criu no cgroup root on cgroup v2, so its copy under
# a new id lands in the old id's cgroup, and a strict restore goes through: those skip for it).

load helpers
load cgroups_helpers
load systemd_helpers
load checkpoint_helpers

setup_file() {
	detect_criu
}

setup() {
	requires systemd
	requires_criu
	sd_setup
	update_config '.linux.resources.memory = {limit: 268435456} | .linux.resources.pids = {limit: 77}'
}

teardown() {
	sd_teardown
}

# assert_in_scope ID UNIT: container ID runs in UNIT, active in system.slice, with the config's
# limits as the unit's properties and in its cgroup files, and every process of the container
# in that cgroup (from the host and from inside).
assert_in_scope() {
	local id=$1 unit=$2 pid cg
	pid=$(container_pid "$id")
	sd_check "$unit" ActiveState active
	sd_check "$unit" Slice system.slice
	sd_check "$unit" ControlGroup "/system.slice/$unit"
	sd_check "$unit" MemoryMax 268435456
	sd_check "$unit" TasksMax 77
	cg=$(sd_cgroup "$id")
	[ "$cg" = "/sys/fs/cgroup/system.slice/$unit" ] || fail "$id's init $pid runs in $cg"
	[ "$(cat "$cg/memory.max")" = 268435456 ]
	[ "$(cat "$cg/pids.max")" = 77 ]
	grep -qx "$pid" "$cg/cgroup.procs" || fail "init $pid not in $cg/cgroup.procs: $(cat "$cg/cgroup.procs")"
	# systemd counts the restored processes as the unit's (criu, which started it, is gone).
	run -0 systemctl status --no-pager --full "$unit"
	[[ "$output" == *"$pid"* ]] || fail "systemctl status $unit does not list the init $pid: $output"
	run -0 --separate-stderr husk exec "$id" sh -c 'cat /proc/1/cgroup /proc/$$/cgroup | sort -u'
	[ "$output" = "0::/system.slice/$unit" ] || fail "the container's processes are in $output"
}

# checkpointed ID UNIT [FLAGS...]: the counter runs as container ID in UNIT and is checkpointed
# (with FLAGS) into $TESTDIR/img, which stops the unit; BEFORE is the last count it wrote.
checkpointed() {
	local id=$1 unit=$2
	shift 2
	run_counter "$id"
	checkpoint "$id" "$@"
	sd_wait_unloaded "$unit"
	drain_counter
	BEFORE=$LAST
}

@test "systemd: checkpoint and restore: the counter goes on with the same pids, in its scope with its limits; delete leaves no unit" {
	local id unit spid
	id=$(new_id)
	unit=$(sd_unit "$id")
	run_counter "$id"
	spid=$SPID
	assert_in_scope "$id" "$unit"
	checkpoint "$id"
	sd_wait_unloaded "$unit"
	drain_counter
	local before=$LAST
	restore "$id"
	next_count
	[ "$COUNT" = $((before + 1)) ] || fail "the counter went from $before to $COUNT"
	# The same processes: the counter's child keeps its pid, the counter is the init.
	[ "$SPID" = "$spid" ] || fail "the counter's sleep was pid $spid, now $SPID"
	run -0 --separate-stderr husk exec "$id" cat /proc/1/cmdline
	[[ "$output" == sh* ]] || fail "pid 1 of the restored container is $output"
	assert_in_scope "$id" "$unit"
	# The container's state says it is the unit's, so delete stops it.
	run -0 husk delete -f "$id"
	sd_wait_unloaded "$unit"
	assert_nothing_left
}

@test "systemd: restore under a new id gets its own scope, and the old one is not made again" {
	runc_1_1 && skip "runc 1.1 gives criu no cgroup root on cgroup v2: the copy is restored into the old id's unit's cgroup"
	local id id2 unit unit2
	id=$(new_id)
	id2=$(new_id)
	unit=$(sd_unit "$id")
	unit2=$(sd_unit "$id2")
	checkpointed "$id" "$unit"
	restore "$id2"
	next_count
	[ "$COUNT" = $((BEFORE + 1)) ]
	assert_in_scope "$id2" "$unit2"
	! sd_loaded "$unit" || fail "the old id's unit $unit is loaded again"
	run -0 husk delete -f "$id2"
	sd_wait_unloaded "$unit2"
}

@test "systemd: checkpoint --leave-running: the container runs on in its scope, the images restore under a new id" {
	runc_1_1 && skip "runc 1.1 gives criu no cgroup root on cgroup v2: the copy is restored into the old id's unit's cgroup"
	local id id2 unit unit2
	id=$(new_id)
	id2=$(new_id)
	unit=$(sd_unit "$id")
	unit2=$(sd_unit "$id2")
	run_counter "$id"
	run husk checkpoint --leave-running --work-path "$TESTDIR/work" --image-path "$TESTDIR/img" "$id"
	[ "$status" -eq 0 ] || fail "checkpoint --leave-running failed ($status): $output"
	[ "$(container_status "$id")" = running ]
	next_count
	assert_in_scope "$id" "$unit"
	run -0 husk delete -f "$id"
	sd_wait_unloaded "$unit"
	# The restored counter goes on from where the dump saw it, behind the lines since.
	drain_counter
	restore "$id2"
	LAST=
	next_count
	assert_in_scope "$id2" "$unit2"
	run -0 husk delete -f "$id2"
	sd_wait_unloaded "$unit2"
}

@test "systemd: manage-cgroups-mode full and ignore restore into the new scope with the config's limits" {
	local mode modes="full ignore" id unit
	# runc 1.2 added ignore.
	! runc_1_1 || modes=full
	for mode in $modes; do
		id=$(new_id)
		unit=$(sd_unit "$id")
		checkpointed "$id" "$unit" --manage-cgroups-mode "$mode"
		restore "$id" --manage-cgroups-mode "$mode"
		next_count
		[ "$COUNT" = $((BEFORE + 1)) ] || fail "$mode: the counter went from $BEFORE to $COUNT"
		assert_in_scope "$id" "$unit"
		run -0 husk delete -f "$id"
		sd_wait_unloaded "$unit"
		rm -rf "$TESTDIR/img" "$TESTDIR/work" "$TESTDIR/rwork"
	done
}

@test "systemd: a restore criu fails after the scope started (manage-cgroups-mode strict) leaves no unit" {
	runc_1_1 && skip "runc 1.1 gives criu no cgroup root on cgroup v2, and its strict restore goes through"
	local id unit
	id=$(new_id)
	unit=$(sd_unit "$id")
	checkpointed "$id" "$unit" --manage-cgroups-mode strict
	local rc=0
	husk restore -d --manage-cgroups-mode strict --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" \
		<&"$in_r" >&"$out_w" 2>"$TESTDIR/restore.err" || rc=$?
	[ "$rc" -ne 0 ] || fail "restore --manage-cgroups-mode strict succeeded"
	grep -q "Abort restore of existing cgroups" "$TESTDIR/rwork/restore.log" ||
		fail "criu failed otherwise: $(grep -h Error "$TESTDIR/rwork/restore.log")"
	sd_wait_unloaded "$unit"
	[ -z "$(sd_units_named "$id")" ] || fail "units left: $(sd_units_named "$id")"
	assert_nothing_left
}

@test "systemd: restore with a cgroupsPath not in slice:prefix:name form is refused naming the field, leaving nothing" {
	local id unit
	id=$(new_id)
	unit=$(sd_unit "$id")
	checkpointed "$id" "$unit"
	update_config '.linux.cgroupsPath = "/'"$id"'"'
	local rc=0 err
	husk restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" \
		<&"$in_r" >&"$out_w" 2>"$TESTDIR/restore.err" || rc=$?
	err=$(cat "$TESTDIR/restore.err")
	[ "$rc" -ne 0 ] || fail "restore with cgroupsPath /$id succeeded"
	[[ "$err" == *cgroupsPath* ]] || fail "the error does not name cgroupsPath: $err"
	[ -z "$(sd_units_named "$id")" ] || fail "units left: $(sd_units_named "$id")"
	assert_nothing_left
	# The images are untouched: they restore with the config fixed.
	update_config 'del(.linux.cgroupsPath)'
	restore "$id"
	next_count
	[ "$COUNT" = $((BEFORE + 1)) ]
	assert_in_scope "$id" "$unit"
	run -0 husk delete -f "$id"
	sd_wait_unloaded "$unit"
}
