#!/usr/bin/env bats
# run: foreground exit status, 128+N for a signal, --detach, --keep, signal
# forwarding, stdio passthrough.

load helpers

@test "run in the foreground passes output and exit status" {
	set_args sh -c 'echo out; echo err >&2; exit 7'
	run -7 husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *out* ]]
	[[ "$output" == *err* ]]
	assert_nothing_left
}

@test "run passes stdin to the container" {
	set_args cat
	# shellcheck disable=SC2086
	run -0 bash -c 'echo through-stdin | "$@"' bash "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = through-stdin ]
}

@test "run deletes the container after it exits" {
	set_args true
	local id
	id=$(new_id)
	run -0 husk run --bundle "$BUNDLE" "$id"
	run -1 husk state "$id"
	[[ "$output" == *"does not exist"* ]]
	assert_nothing_left
}

@test "a container killed by a signal exits 128+N" {
	# Without a PID namespace sh may kill itself.
	update_config '.linux.namespaces -= [{type: "pid"}]'
	set_args sh -c 'kill -USR1 $$'
	run -138 husk run --bundle "$BUNDLE" "$(new_id)"
	assert_nothing_left
}

@test "SIGKILL from outside gives 137" {
	set_args sh -c 'echo ready; exec sleep 1000'
	local id
	id=$(new_id)
	# Not the husk function: $! must be the runtime itself, not a subshell.
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/out" 2>&1 </dev/null &
	local runpid=$!
	track_pid $runpid
	wait_for_file "$TESTDIR/out"
	husk kill "$id" KILL
	local rc=0
	wait $runpid || rc=$?
	[ "$rc" -eq 137 ]
	assert_nothing_left
}

@test "run forwards signals to the container's init" {
	set_args sh -c 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done'
	local id
	id=$(new_id)
	# Not the husk function: $! must be the runtime itself, not a subshell.
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$id" >"$TESTDIR/out" 2>&1 </dev/null &
	local runpid=$!
	track_pid $runpid
	wait_for_file "$TESTDIR/out"
	kill -TERM $runpid
	local rc=0
	wait $runpid || rc=$?
	[ "$rc" -eq 42 ] || fail "exit status $rc: $(cat "$TESTDIR/out")"
	grep -q got-term "$TESTDIR/out"
	assert_nothing_left
}

@test "run --detach returns while the container runs" {
	set_args sh -c 'echo detached; exec sleep 1000'
	CID=$(new_id)
	run -0 husk_bg run --detach --bundle "$BUNDLE" "$CID"
	[ "$(container_status "$CID")" = running ]
	wait_for_file "$TESTDIR/$CID.log"
	[ "$(container_log "$CID")" = detached ]
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 husk delete "$CID"
	assert_nothing_left
}

@test "run -d is --detach" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg run -d --bundle "$BUNDLE" "$CID"
	[ "$(container_status "$CID")" = running ]
}

@test "run --keep keeps the stopped container" {
	set_args sh -c 'exit 3'
	local id
	id=$(new_id)
	run -3 husk run --keep --bundle "$BUNDLE" "$id"
	[ "$(container_status "$id")" = stopped ]
	run -0 husk delete "$id"
	assert_nothing_left
}

@test "run --pid-file writes the init pid" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg run -d --pid-file "$TESTDIR/pid" --bundle "$BUNDLE" "$CID"
	[ "$(cat "$TESTDIR/pid")" = "$(container_pid "$CID")" ]
}

@test "the workload is pid 1 and its parent is outside" {
	set_args sh -c 'echo "$$ $PPID"'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = "1 0" ]
}
