#!/usr/bin/env bats
# The create/start split: create leaves the init waiting on exec.fifo, start
# lets it exec the workload; statuses created/running/stopped; --pid-file.

load helpers

@test "create leaves the process waiting, start runs it" {
	set_args sh -c 'echo started; sleep 1000'
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	[ "$(container_status "$CID")" = created ]
	local pid
	pid=$(container_pid "$CID")
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
	# The workload has not run yet: no output, and the init is not sh.
	sleep 0.2
	[ ! -s "$TESTDIR/$CID.log" ]
	[ "$(cat "/proc/$pid/comm")" != sleep ]
	[ -p "$ROOT/$CID/exec.fifo" ]

	run -0 husk start "$CID"
	wait_for_file "$TESTDIR/$CID.log"
	[ "$(container_log "$CID")" = started ]
	[ "$(container_status "$CID")" = running ]
	# start execs in place: the init pid is the workload's pid.
	[ "$(container_pid "$CID")" = "$pid" ]
	[ ! -e "$ROOT/$CID/exec.fifo" ]
}

@test "statuses go created, running, stopped" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	[ "$(container_status "$CID")" = created ]
	run -0 husk start "$CID"
	[ "$(container_status "$CID")" = running ]
	local pid
	pid=$(container_pid "$CID")
	kill -9 "$pid"
	wait_for_status "$CID" stopped
	run -0 husk delete "$CID"
	assert_nothing_left
}

@test "a container whose process exits by itself is stopped" {
	set_args true
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	run -0 husk start "$CID"
	wait_for_status "$CID" stopped
}

@test "start of a stopped container fails" {
	set_args true
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	run -0 husk start "$CID"
	wait_for_status "$CID" stopped
	run -1 husk start "$CID"
	[ "$(container_status "$CID")" = stopped ]
}

@test "--pid-file gets the init pid" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" --pid-file "$TESTDIR/pid" "$CID"
	[ "$(cat "$TESTDIR/pid")" = "$(container_pid "$CID")" ]
	# No temp file is left next to it.
	[ "$(find "$TESTDIR" -maxdepth 1 -name 'pid*' | wc -l)" -eq 1 ]
}

@test "--pid-file relative to the current directory" {
	set_args sleep 1000
	CID=$(new_id)
	cd "$TESTDIR"
	run -0 husk_bg create --bundle "$BUNDLE" --pid-file relpid "$CID"
	[ "$(cat "$TESTDIR/relpid")" = "$(container_pid "$CID")" ]
}

@test "bundle defaults to the current directory and state records it absolute" {
	set_args sleep 1000
	CID=$(new_id)
	cd "$BUNDLE"
	run -0 husk_bg create "$CID"
	[ "$(husk state "$CID" | jq -r .bundle)" = "$BUNDLE" ]
}

@test "relative --bundle is recorded as an absolute path" {
	set_args sleep 1000
	CID=$(new_id)
	cd "$TESTDIR"
	run -0 husk_bg create --bundle bundle "$CID"
	[ "$(husk state "$CID" | jq -r .bundle)" = "$BUNDLE" ]
}

@test "delete of a created container kills its init" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	local pid
	pid=$(container_pid "$CID")
	run -0 husk delete "$CID"
	wait_gone "$pid"
	assert_nothing_left
}

@test "kill of a created container stops it" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
}

@test "--preserve-fds passes extra fds" {
	echo preserved >"$TESTDIR/fdfile"
	set_args sh -c 'cat <&3'
	run -0 husk run --preserve-fds 1 --bundle "$BUNDLE" "$(new_id)" 3<"$TESTDIR/fdfile"
	[ "$output" = preserved ]
}

@test "fds beyond stdio are not passed without --preserve-fds" {
	echo preserved >"$TESTDIR/fdfile"
	set_args sh -c 'cat <&3'
	run ! husk run --bundle "$BUNDLE" "$(new_id)" 3<"$TESTDIR/fdfile"
	[[ "$output" != *preserved* ]]
}

@test "LISTEN_FDS fds and variable reach the container" {
	echo listened >"$TESTDIR/fdfile"
	set_args sh -c 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3'
	# systemd socket activation: LISTEN_PID names the runtime's own pid.
	# shellcheck disable=SC2016
	run -0 env LISTEN_FDS=1 sh -c 'LISTEN_PID=$$ exec "$@"' sh \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)" 3<"$TESTDIR/fdfile"
	[[ "$output" == *"fds=1 pid=1"* ]]
	[[ "$output" == *listened* ]]
}

@test "a new session keyring named after the container, unless --no-new-keyring" {
	update_config '.linux.maskedPaths -= ["/proc/keys"]'
	set_args cat /proc/keys
	local id
	id=$(new_id)
	run -0 husk run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"keyring"*"$id"* ]]
	id=$(new_id)
	run -0 husk run --no-new-keyring --bundle "$BUNDLE" "$id"
	[[ "$output" != *"$id"* ]]
}

@test "the same id created concurrently: exactly one wins" {
	set_args sleep 1000
	CID=$(new_id)
	local i pids=()
	for i in 1 2 3 4; do
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" create --bundle "$BUNDLE" "$CID" \
			</dev/null >"$TESTDIR/race.$i" 2>&1 &
		pids+=($!)
	done
	local ok=0 rc
	for i in 0 1 2 3; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$rc" -eq 0 ] && ok=$((ok + 1))
	done
	[ "$ok" -eq 1 ] || fail "$ok creates succeeded: $(cat "$TESTDIR"/race.*)"
	[ "$(grep -l 'already exists' "$TESTDIR"/race.* | wc -l)" -eq 3 ]
	[ "$(container_status "$CID")" = created ]
	[ "$(husk list -q)" = "$CID" ]
}
