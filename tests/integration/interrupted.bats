#!/usr/bin/env bats
# `create` SIGKILLed at any instant (issue 14): whatever it made on the host by then (the state
# dir, the exec fifo, the cgroups, the init), `delete --force` must remove it and succeed, or fail
# saying so; it must never exit 0 and leave something. Unlike faults.bats (husk's own kill
# points), these kill from outside, so they run against any runtime: as create makes each thing
# (strace injects the SIGKILL as it enters that mkdir, mknod or rename), and at instants
# spread over a whole create (tests/cmd/killafter). The config puts the cgroup below a parent of
# the test's own (linux.cgroupsPath), so it cannot be found from the id alone: only a record
# made before the cgroup was tells delete where it is.

load helpers

setup_file() {
	export KILLAFTER_BIN="$BATS_FILE_TMPDIR/killafter" SUBREAPER_BIN="$BATS_FILE_TMPDIR/subreaper"
	(cd "$REPO_ROOT" && go build -o "$KILLAFTER_BIN" ./tests/cmd/killafter &&
		go build -o "$SUBREAPER_BIN" ./tests/cmd/subreaper)
}

setup() {
	requires root
	setup_husk
	set_args sleep 1000
	FAILED=()
	CGPARENT=husktest-cg-$$
}

teardown() {
	local rc=0 d
	teardown_husk || rc=$?
	# The parent cgroups the runtime made for the test's (runtimes remove only their own), in
	# each v1 hierarchy and the hybrid cgroup2 one, or on a pure cgroup v2 host.
	for d in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT"; do
		[ -d "$d" ] && rmdir "$d"
	done
	return $rc
}

# use_id ID: config.json puts ID's cgroup at /$CGPARENT/ID on every hierarchy.
use_id() {
	update_config ".linux.cgroupsPath = \"/$CGPARENT/$1\""
}

# killed_create NAME ID KILLER...: under a subreaper, `KILLER... husk create ID` (KILLER SIGKILLs
# create at some instant), then `husk delete --force ID`. A process still alive 2 s after the
# delete is killed and reported by the subreaper: a leak. Then nothing of ID may be left.
killed_create() {
	local name=$1 id=$2
	shift 2
	rm -f "$TESTDIR"/case.*
	HUSK=$HUSK HUSK_GLOBAL_OPTS=$HUSK_GLOBAL_OPTS ROOT=$ROOT BUNDLE=$BUNDLE TESTDIR=$TESTDIR ID=$id \
		"$SUBREAPER_BIN" -grace 2s bash -c '
		"$@" "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" create --bundle "$BUNDLE" "$ID" \
			</dev/null >"$TESTDIR/case.create" 2>&1
		echo $? >"$TESTDIR/case.create.rc"
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" delete --force "$ID" </dev/null >"$TESTDIR/case.delete" 2>&1
		echo $? >"$TESTDIR/case.delete.rc"
	' bash "$@" >"$TESTDIR/case.subreaper" 2>&1
	CREATE_RC=$(cat "$TESTDIR/case.create.rc")
	local rc left
	rc=$(cat "$TESTDIR/case.delete.rc")
	[ "$rc" -eq 0 ] || FAILED+=("$name: delete --force exit $rc: $(head -c 300 "$TESTDIR/case.delete")")
	left=$(grep '^subreaper:' "$TESTDIR/case.subreaper") && FAILED+=("$name: $left")
	if ! left=$(assert_nothing_left 2>&1); then
		FAILED+=("$name: delete --force exit $rc and left: $left")
		# Removed here, so that the next cases report only their own leftovers.
		husk delete --force "$id" >/dev/null 2>&1
		rm -rf "${ROOT:?}/$id"
		leftover_cgroups | sort -r | while read -r left; do rmdir "$left"; done
	fi
	return 0
}

check_cases() {
	if [ ${#FAILED[@]} -gt 0 ]; then
		printf 'case %s\n' "${FAILED[@]}" >&2
		return 1
	fi
}

@test "interrupted: create killed as it makes each thing on the host" {
	skip_runc '*' "delete --force of a create killed before its state was complete exits 0 and leaves the container's cgroups (seen with 1.1.5 and 1.5.3)"
	command -v strace >/dev/null || skip "test requires strace (apt-get install strace)"
	# What a whole create makes, learnt from one: its state dir, what is in it (made by mkdir,
	# mknod or rename: the exec fifo, state.json), and its cgroup directories. strace SIGKILLs
	# create as it enters the call that makes one of them: everything made before is there.
	local id0 paths p id calls=mkdir,mkdirat,mknod,mknodat,rename,renameat,renameat2
	id0=$(new_id)
	use_id "$id0"
	run -0 husk_bg create --bundle "$BUNDLE" "$id0"
	paths=$(
		find "$ROOT/$id0" \( -type d -o -type p -o -name state.json \)
		find /sys/fs/cgroup/ -maxdepth 3 -type d -name "$id0"
	)
	run -0 husk delete --force "$id0"
	[ "$(grep -c /sys/fs/cgroup/ <<<"$paths")" -gt 0 ] || fail "no cgroup of $id0 found: $paths"
	while read -r p; do
		id=$(new_id)
		use_id "$id"
		p=${p//$id0/$id}
		killed_create "killed making $p" "$id" \
			timeout 60 strace -f -qq -o /dev/null -P "$p" -e "trace=$calls" -e "inject=$calls:signal=SIGKILL:when=1"
		[ "$CREATE_RC" -eq 137 ] ||
			FAILED+=("killed making $p: create exit $CREATE_RC, want 137 (is $p made another way?): $(head -c 300 "$TESTDIR/case.create")")
	done <<<"$paths"
	check_cases
}

@test "interrupted: create killed at instants spread over its run" {
	skip_runc '*' "delete --force of a create killed before its state was complete exits 0 and leaves the container's cgroups (seen with 1.1.5 and 1.5.3)"
	local id start end span n=${HUSK_INTERRUPT_N:-25} i
	id=$(new_id)
	use_id "$id"
	start=$(date +%s%N)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	end=$(date +%s%N)
	run -0 husk delete --force "$id"
	# A little beyond one create: a loaded machine makes the next ones slower.
	span=$(((end - start) / 1000 * 3 / 2))
	for i in $(seq 0 $((n - 1))); do
		id=$(new_id)
		use_id "$id"
		killed_create "killed at $((span * i / n))us" "$id" "$KILLAFTER_BIN" "$((span * i / n))us"
	done
	check_cases
}

@test "create replaces state.json at most twice: the record delete --force needs, then the whole state" {
	command -v strace >/dev/null || skip "test requires strace (apt-get install strace)"
	# The first record names what create will make before it makes it (the cases above); the
	# init's pid needs no write of its own: until the init is in its cgroup it dies with a killed
	# create, and from then on the cgroup leads delete to it. runc 1.5.3 writes once, at the end.
	local id calls=rename,renameat,renameat2
	id=$(new_id)
	use_id "$id"
	# strace follows the init too: it ends once delete has killed it.
	# shellcheck disable=SC2086
	strace -f -qq -o "$TESTDIR/renames" -P "$ROOT/$id/state.json" -e "trace=$calls" \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/create.log" 2>&1 &
	local strace_pid=$!
	track_pid "$strace_pid"
	wait_for_status "$id" created
	run -0 husk delete --force "$id"
	wait "$strace_pid" || fail "strace or create failed: $(cat "$TESTDIR/create.log")"
	local n
	n=$(grep -cE 'rename(at2?)?\(.*/state\.json"' "$TESTDIR/renames") || true
	[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "state.json was replaced $n times: $(cat "$TESTDIR/renames")"
}
