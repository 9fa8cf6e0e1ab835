#!/usr/bin/env bats
# Concurrency: many runtimes at once on one container and on many. Outcomes are documented in
# README-robustness.md; every test ends with nothing left (teardown checks state, mounts,
# cgroups; assert_nothing_left adds processes).

load helpers

# bg_husk OUT ARGS...: runs husk in the background with stdio in OUT, its exit code in OUT.rc.
bg_husk() {
	local out=$1
	shift
	(
		rc=0
		husk "$@" </dev/null >"$out" 2>&1 || rc=$?
		echo "$rc" >"$out.rc"
	) &
}

# state_files_valid fails if a state.json under --root exists but is not complete JSON (a
# reader saw a half-written file). A file that vanished between listing and reading is fine.
state_files_valid() {
	local f
	for f in "$ROOT"/*/state.json; do
		[ -e "$f" ] || continue
		if ! jq -e .id "$f" >/dev/null 2>&1 && [ -e "$f" ]; then
			# Read again: a delete may have removed it between the two checks.
			if [ -e "$f" ] && ! jq -e .id "$f" >/dev/null 2>&1; then
				echo "corrupt state file $f: $(head -c 200 "$f" 2>/dev/null)"
				return 1
			fi
		fi
	done
}

@test "concurrency: 50 creates of one id, exactly one wins" {
	set_args sleep 1000
	local id i wins=0 out rc
	id=$(new_id)
	for i in $(seq 50); do
		bg_husk "$TESTDIR/create.$i" create --bundle "$BUNDLE" "$id"
	done
	wait
	for i in $(seq 50); do
		rc=$(cat "$TESTDIR/create.$i.rc")
		out=$(cat "$TESTDIR/create.$i")
		if [ "$rc" -eq 0 ]; then
			wins=$((wins + 1))
		elif [ "$rc" -ne 1 ] || ! grep -q 'already exists' <<<"$out"; then
			fail "create $i: exit $rc, want 0 or 1 with 'already exists': $out"
		fi
	done
	[ "$wins" -eq 1 ] || fail "$wins creates succeeded, want exactly 1"
	run -0 husk list -q
	[ "$output" = "$id" ]
	[ "$(container_status "$id")" = created ]
	# Exactly one init and one cgroup of that name on each hierarchy.
	[ "$(processes_in_bundle | wc -l)" -eq 1 ] || fail "processes of $id: $(processes_in_bundle)"
	run -0 husk delete --force "$id"
	assert_nothing_left
}

# lifecycle ID N: one full life of a container with exec, state, list, kill and delete mixed in.
# Odd N stop by kill + delete, even N by delete --force of the running container.
lifecycle() {
	local id=$1 n=$2
	# Output goes to a file, never a pipe: the container's init inherits create's stdio and
	# would hold a pipe open for as long as it lives.
	step() {
		if ! husk "$@" </dev/null >"$TESTDIR/$id.out" 2>&1; then
			echo "$id: husk $*: $(cat "$TESTDIR/$id.out")" >>"$TESTDIR/failures"
			return 1
		fi
	}
	step create --bundle "$BUNDLE" "$id" || return
	step state "$id" || return
	step start "$id" || return
	step exec "$id" true || return
	step list -q || return
	[ "$(husk state "$id" 2>/dev/null | jq -r .status)" = running ] ||
		echo "$id: not running after start" >>"$TESTDIR/failures"
	if [ $((n % 2)) -eq 1 ]; then
		step kill "$id" KILL || return
		local _
		for _ in $(seq 200); do
			[ "$(husk state "$id" 2>/dev/null | jq -r .status)" = stopped ] && break
			sleep 0.05
		done
		step delete "$id" || return
	else
		step delete --force "$id" || return
	fi
}

@test "concurrency: 100 lifecycles of distinct ids with list/state/exec/kill/delete" {
	set_args sleep 1000
	local n=${HUSK_CONCURRENT_LIFECYCLES:-100} i ids=() pids=()
	for i in $(seq "$n"); do ids+=("$(new_id)"); done
	: >"$TESTDIR/failures"
	# Readers alongside: list and state of every id, and every state.json read raw.
	(
		while [ ! -e "$TESTDIR/done" ]; do
			husk list >/dev/null 2>>"$TESTDIR/list-errors" || echo "list failed" >>"$TESTDIR/failures"
			husk list --format json 2>/dev/null | jq . >/dev/null ||
				echo "list --format json is not JSON" >>"$TESTDIR/failures"
			state_files_valid >>"$TESTDIR/failures"
		done
	) &
	local reader=$!
	local start=$SECONDS
	for i in $(seq "$n"); do
		lifecycle "${ids[$((i - 1))]}" "$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	touch "$TESTDIR/done"
	wait "$reader"
	echo "# $n lifecycles in $((SECONDS - start))s" >&3
	[ ! -s "$TESTDIR/failures" ] || fail "$(head -20 "$TESTDIR/failures")"
	run -0 husk list -q
	[ -z "$output" ] || fail "containers left: $output"
	# A container process SIGKILLed by delete --force may still be on its way out under this
	# load: give it 5 s, and say so in the log when it was needed.
	local p _
	for _ in $(seq 50); do
		[ -z "$(processes_in_bundle)" ] && break
		sleep 0.1
	done
	for p in $(processes_in_bundle); do
		echo "# left: $p $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null) $(grep -E '^(State|PPid)' /proc/$p/status 2>/dev/null | tr '\n' ' ')" >&3
	done
	assert_nothing_left
}

@test "concurrency: delete racing the container's exit" {
	# The container exits by itself after a short, varying time while delete is called at
	# once and again until it works. Defined outcome: each delete either succeeds (the
	# container had stopped) or fails with exit 1 saying it is running; never another exit
	# code, and the container is gone at the end.
	local i id rc out deleted
	for i in $(seq 20); do
		set_args sh -c "usleep $((RANDOM % 20000))"
		id=$(new_id)
		run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
		deleted=
		for _ in $(seq 200); do
			rc=0
			out=$(husk delete "$id" 2>&1) || rc=$?
			if [ "$rc" -eq 0 ]; then
				deleted=1
				break
			fi
			[ "$rc" -eq 1 ] && grep -Eq 'running|not stopped' <<<"$out" ||
				fail "round $i: delete exit $rc: $out"
			sleep 0.01
		done
		[ -n "$deleted" ] || fail "round $i: container never became deletable"
		run -1 husk state "$id"
	done
	assert_nothing_left
}

@test "concurrency: kill racing delete --force" {
	# Defined outcome: delete --force always succeeds; the kill either succeeds (it came
	# first) or fails with exit 1 because the container is gone or no longer running.
	local i id
	set_args sleep 1000
	for i in $(seq 20); do
		id=$(new_id)
		run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
		bg_husk "$TESTDIR/kill" kill "$id" KILL
		bg_husk "$TESTDIR/delete" delete --force "$id"
		wait
		[ "$(cat "$TESTDIR/delete.rc")" -eq 0 ] || fail "round $i: delete --force: $(cat "$TESTDIR/delete")"
		case $(cat "$TESTDIR/kill.rc") in
		0) ;;
		# runc 1.5: "unable to signal init: os: process already finished".
		1) grep -Eq 'does not exist|not running|stopped|already finished' "$TESTDIR/kill" ||
			fail "round $i: kill failed with: $(cat "$TESTDIR/kill")" ;;
		*) fail "round $i: kill exit $(cat "$TESTDIR/kill.rc"): $(cat "$TESTDIR/kill")" ;;
		esac
		run -1 husk state "$id"
	done
	assert_nothing_left
}

@test "concurrency: start twice at once, the process runs once" {
	# Defined outcome: exactly one start succeeds; the other fails with exit 1 because the
	# container is no longer in the created state. The workload runs exactly once.
	skip_runc '*' "the losing start can block for ever opening exec.fifo, whose writer (the init) has exec'd the workload (seen with 1.1.5 and 1.5.3)"
	local i id wins
	update_config '.root.readonly = false'
	set_args sh -c 'echo ran >>/ran; sleep 1000'
	for i in $(seq 10); do
		id=$(new_id)
		rm -f "$BUNDLE/rootfs/ran"
		run -0 husk_bg create --bundle "$BUNDLE" "$id"
		bg_husk "$TESTDIR/start1" start "$id"
		bg_husk "$TESTDIR/start2" start "$id"
		wait
		wins=$(cat "$TESTDIR/start1.rc" "$TESTDIR/start2.rc" | grep -c '^0$' || true)
		[ "$wins" -eq 1 ] || fail "round $i: $wins starts succeeded: $(cat "$TESTDIR/start1" "$TESTDIR/start2")"
		grep -h . "$TESTDIR/start1" "$TESTDIR/start2" | grep -Eq 'not in the created state|cannot start|already' ||
			fail "round $i: the losing start said: $(cat "$TESTDIR/start1" "$TESTDIR/start2")"
		[ "$(cat "$TESTDIR/start1.rc" "$TESTDIR/start2.rc" | sort | tr '\n' ' ')" = "0 1 " ] ||
			fail "round $i: exit codes $(cat "$TESTDIR/start1.rc" "$TESTDIR/start2.rc")"
		wait_for_file "$BUNDLE/rootfs/ran"
		sleep 0.1
		[ "$(grep -c ran "$BUNDLE/rootfs/ran")" -eq 1 ] || fail "round $i: the workload ran more than once"
		run -0 husk delete --force "$id"
	done
	assert_nothing_left
}
