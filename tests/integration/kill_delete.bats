#!/usr/bin/env bats
# kill: signal names and numbers, --all; delete: stopped, created, --force,
# and refusing a running container.

load helpers

# start_trapper starts a container whose init counts USR1 and TERM.
start_trapper() {
	start_sleeper sh -c 'trap "echo usr1" USR1; trap "echo term; exit 0" TERM; echo ready; while :; do sleep 0.05; done'
	wait_for_file "$TESTDIR/$CID.log"
}

@test "kill without a signal sends SIGTERM" {
	start_trapper
	run -0 husk kill "$CID"
	wait_for_status "$CID" stopped
	grep -q '^term$' "$TESTDIR/$CID.log"
}

@test "kill takes a name with or without SIG, or a number" {
	start_trapper
	local sig n=0
	for sig in USR1 SIGUSR1 10 usr1; do
		run -0 husk kill "$CID" "$sig"
		n=$((n + 1))
		local i
		for i in $(seq 200); do
			[ "$(grep -c '^usr1$' "$TESTDIR/$CID.log")" -ge $n ] && break
			sleep 0.05
		done
		[ "$(grep -c '^usr1$' "$TESTDIR/$CID.log")" -eq $n ] || fail "signal $sig not delivered"
	done
	[ "$(container_status "$CID")" = running ]
}

@test "kill KILL stops a container" {
	start_sleeper
	local pid
	pid=$(container_pid "$CID")
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	wait_gone "$pid"
}

@test "kill ID 0 checks that the container runs and sends nothing" {
	start_sleeper sh -c 'trap "echo got-signal" TERM INT HUP; echo ready; while :; do sleep 0.1; done'
	wait_for_file "$TESTDIR/$CID.log"
	run -0 husk kill "$CID" 0
	run -0 husk kill --all "$CID" 0
	[ "$(container_status "$CID")" = running ]
	[[ "$(container_log "$CID")" != *got-signal* ]]
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -1 husk kill "$CID" 0
	[[ "$output" == *"container not running"* ]]
}

@test "kill with a bad signal fails and leaves the container running" {
	start_sleeper
	local sig
	for sig in NOPE SIGNOPE 12345 -1; do
		run -1 husk kill "$CID" "$sig"
	done
	[ "$(container_status "$CID")" = running ]
}

@test "kill --all signals every process of the container" {
	start_sleeper sh -c 'sleep 1000 & sleep 1000 & echo ready; wait'
	wait_for_file "$TESTDIR/$CID.log"
	local init children
	init=$(container_pid "$CID")
	for i in $(seq 200); do
		children=$(cat "/proc/$init/task/$init/children")
		[ "$(echo $children | wc -w)" -eq 2 ] && break
		sleep 0.05
	done
	[ "$(echo $children | wc -w)" -eq 2 ]
	run -0 husk kill --all "$CID" KILL
	wait_for_status "$CID" stopped
	local p
	for p in $init $children; do
		wait_gone "$p"
	done
}

@test "delete of a stopped container removes everything" {
	start_sleeper
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 husk delete "$CID"
	run -1 husk state "$CID"
	[[ "$output" == *"does not exist"* ]]
	[ ! -e "$ROOT/$CID" ]
	assert_nothing_left
}

@test "delete of a running container fails without --force" {
	start_sleeper
	run -1 husk delete "$CID"
	[ "$(container_status "$CID")" = running ]
}

@test "delete --force kills a running container" {
	start_sleeper
	local pid
	pid=$(container_pid "$CID")
	run -0 husk delete --force "$CID"
	wait_gone "$pid"
	run -1 husk state "$CID"
	assert_nothing_left
}

@test "delete -f of a created container" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	local pid
	pid=$(container_pid "$CID")
	run -0 husk delete -f "$CID"
	wait_gone "$pid"
	assert_nothing_left
}

@test "deleting one container leaves the others" {
	start_sleeper
	local first=$CID
	start_sleeper
	run -0 husk delete -f "$first"
	[ "$(container_status "$CID")" = running ]
	[ "$(husk list -q)" = "$CID" ]
}

# start_shared_pidns starts a container in the host's pid namespace with three more processes
# exec'd into it, and prints their pids (the init's first) into $PIDS.
start_shared_pidns() {
	update_config '.linux.namespaces -= [{type: "pid"}]'
	start_sleeper
	local i
	for i in 1 2 3; do
		husk exec -d "$CID" sleep 1000 </dev/null >/dev/null 2>&1
	done
	PIDS=$(processes_in_bundle)
	[ "$(echo $PIDS | wc -w)" -eq 4 ] || fail "want the init and 3 exec'd processes, got: $PIDS"
}

@test "kill KILL without a pid namespace of its own kills every process of the container" {
	start_shared_pidns
	run -0 husk kill "$CID" KILL
	local p
	for p in $PIDS; do
		wait_gone "$p"
	done
	wait_for_status "$CID" stopped
	run -0 husk delete "$CID"
	assert_nothing_left
}

@test "kill KILL without a pid namespace of its own, after the init died, kills the rest" {
	start_shared_pidns
	local init p
	init=$(container_pid "$CID")
	kill -9 "$init"
	wait_gone "$init"
	wait_for_status "$CID" stopped
	for p in $PIDS; do
		[ "$p" = "$init" ] || kill -0 "$p" || fail "process $p died with the init"
	done
	run -0 husk kill "$CID" KILL
	for p in $PIDS; do
		wait_gone "$p"
	done
	run -0 husk delete "$CID"
	assert_nothing_left
}
