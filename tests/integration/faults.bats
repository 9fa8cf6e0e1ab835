#!/usr/bin/env bats
# Faults: husk SIGKILLed after each phase of create, start, exec and delete (the test hook
# _HUSK_TEST_KILL_AT="<op>:<phase>"), the container's init dying at each of its phases
# ("init:<phase>") or failing before exec, a full or read-only --root, a damaged state.json.
# After each, `delete --force` must work and leave no state dir, cgroup, mount, process or
# open fd; `list` and `state` must tell the truth. See README-robustness.md.

load helpers

# Phases as `husk --debug` names them (the parent's, then the init's).
# create's phases on every host; "cgroup join" is husk's only where the init cannot join its
# cgroups by itself (pure cgroup v2, a user namespace), see reported_create_phases.
CREATE_PHASES=("load config" "state dir" "seal binary" "fork init" "cgroup mkdir" "cgroup limits"
	"namespaces" "init ready" "save state")
INIT_PHASES=("mounts" "devices" "pivot_root" "finish rootfs" "console" "process")
EXEC_PHASES=("seal binary" "fork init" "spawn init" "namespaces")
DELETE_PHASES=("kill" "cgroup")

setup_file() {
	# Every fault case runs under a subreaper: an orphan the killed husk left (an init whose
	# parent died) is reported by it and counts as a leak.
	export SUBREAPER_BIN="$BATS_FILE_TMPDIR/subreaper"
	(cd "$REPO_ROOT" && go build -o "$SUBREAPER_BIN" ./tests/cmd/subreaper)
}

setup() {
	requires root
	husk_only "the faults are injected at husk's own phases (_HUSK_TEST_KILL_AT, husk --debug)"
	setup_husk
	set_args sleep 1000
	FAILED=()
}

# hk ROOT ARGS...: husk with another --root (the small filesystems below).
hk() {
	local root=$1
	shift
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$root" "$@"
}

teardown() {
	local r id
	for r in "$TESTDIR/fullroot" "$TESTDIR/roroot"; do
		[ -d "$r" ] || continue
		mountpoint -q "$r" && mount -o remount,rw "$r" 2>/dev/null
		while read -r id; do
			[ -n "$id" ] && hk "$r" delete --force "$id" >/dev/null 2>&1
		done <"$TESTDIR/ids"
	done
	teardown_husk
}

# open_fds_on ID: host processes with an fd open on something under --root or named after ID.
open_fds_on() {
	find /proc/[0-9]*/fd -maxdepth 1 \( -lname "$ROOT/*" -o -lname "*$1*" \) -printf '%p -> %l\n' 2>/dev/null || true
}

# check_clean NAME ID: nothing of ID is left (besides assert_nothing_left: no fd on it).
check_clean() {
	local left
	left=$(assert_nothing_left 2>&1) || FAILED+=("$1: $left")
	left=$(open_fds_on "$2")
	[ -z "$left" ] || FAILED+=("$1: fds left open: $left")
}

# not_running NAME ID: neither list nor state shows ID as running. Sets STATUS to what state
# says ("" when state fails).
not_running() {
	local row
	row=$(husk list 2>/dev/null | awk -v id="$2" '$1 == id {print $3}')
	[ "$row" != running ] || FAILED+=("$1: list shows the half-made container as running")
	STATUS=$(husk state "$2" 2>/dev/null | jq -r .status 2>/dev/null) || true
	[ "$STATUS" != running ] || FAILED+=("$1: state says running")
}

# husk_killed NAME HOOK ARGS...: runs husk ARGS with _HUSK_TEST_KILL_AT=HOOK, expecting it to
# die by SIGKILL (exit 137): proof that the phase exists and the hook fired.
husk_killed() {
	local name=$1 hook=$2 rc=0
	shift 2
	_HUSK_TEST_KILL_AT=$hook husk "$@" </dev/null >"$TESTDIR/killed.out" 2>&1 || rc=$?
	[ "$rc" -eq 137 ] || FAILED+=("$name: husk $1 exit $rc, want 137 (did phase '$hook' fire?): $(head -c 300 "$TESTDIR/killed.out")")
}

# force_delete NAME ID: delete --force must succeed.
force_delete() {
	husk delete --force "$2" >"$TESTDIR/delete.out" 2>&1 ||
		FAILED+=("$1: delete --force failed: $(cat "$TESTDIR/delete.out")")
}

# reuse NAME ID: the id works again, whole lifecycle.
reuse() {
	husk create --bundle "$BUNDLE" "$2" </dev/null >"$TESTDIR/reuse.out" 2>&1 &&
		husk start "$2" >>"$TESTDIR/reuse.out" 2>&1 &&
		[ "$(husk state "$2" | jq -r .status)" = running ] &&
		husk delete --force "$2" >>"$TESTDIR/reuse.out" 2>&1 ||
		FAILED+=("$1: the id cannot be used again: $(cat "$TESTDIR/reuse.out")")
}

# under_subreaper FUNC ARGS...: runs a case in a fresh subreaper; a process left behind when
# the case is over is killed by the subreaper and reported as a leak of that case.
under_subreaper() {
	: >"$TESTDIR/case.failed"
	"$SUBREAPER_BIN" -grace 2s bash -c "$(declare -f); $(declare -p HUSK HUSK_GLOBAL_OPTS ROOT BUNDLE TESTDIR); \
		FAILED=(); $*; printf '%s\n' \"\${FAILED[@]}\" >$TESTDIR/case.failed" \
		>"$TESTDIR/subreaper.out" 2>&1
	local line
	while read -r line; do
		[ -n "$line" ] && FAILED+=("$line")
	done < <(cat "$TESTDIR/case.failed"; grep '^subreaper:' "$TESTDIR/subreaper.out")
	return 0
}

check_cases() {
	if [ ${#FAILED[@]} -gt 0 ]; then
		printf 'case %s\n' "${FAILED[@]}" >&2
		return 1
	fi
}

create_case() {
	local phase=$1 id=$2 name="create killed after '$1'"
	husk_killed "$name" "create:$phase" create --bundle "$BUNDLE" "$id"
	not_running "$name" "$id"
	# Killed after saving the state, the container is whole (created); before, it is not.
	case $phase:$STATUS in
	"save state:created" | *:stopped | *:creating | *:) ;;
	*) FAILED+=("$name: state says '$STATUS'") ;;
	esac
	force_delete "$name" "$id"
	check_clean "$name" "$id"
	reuse "$name" "$id"
	check_clean "$name (after reuse)" "$id"
}

# reported_create_phases prints the parent-side phases `husk --debug create` reports here, one
# per line, after checking that they include every phase of CREATE_PHASES.
reported_create_phases() {
	local id phases p
	id=$(new_id)
	# To a file: the created container holds its stderr open until it is deleted.
	husk --debug --log-format json create --bundle "$BUNDLE" "$id" >/dev/null 2>"$TESTDIR/phases.log" </dev/null
	husk delete --force "$id" >/dev/null 2>&1
	phases=$(jq -r 'select(.msg == "phase" and .side == "parent") | .phase' "$TESTDIR/phases.log")
	for p in "${CREATE_PHASES[@]}"; do
		grep -qxF "$p" <<<"$phases" || { echo "create did not report phase '$p': $phases" >&2; return 1; }
	done
	echo "$phases"
}

@test "faults: husk create killed after each phase" {
	local phase id phases
	phases=$(reported_create_phases)
	while IFS= read -r phase; do
		id=$(new_id)
		under_subreaper create_case "'$phase'" "$id"
	done <<<"$phases"
	check_cases
}

# A node whose mknod the device rules deny: husk holds the rules back until the init has made
# its nodes, and sets them when the init asks (the phase "device rules"), the init waiting on
# the socket meanwhile. Killed after each phase, delete --force leaves nothing.
@test "faults: husk create killed after each phase, device rules held back" {
	update_config '.linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [{allow: true, access: "rwm"},
			{allow: false, type: "c", major: 240, minor: 0, access: "rwm"}]'
	local phase id phases
	phases=$(reported_create_phases)
	grep -qxF "device rules" <<<"$phases" || fail "create did not report phase 'device rules': $phases"
	while IFS= read -r phase; do
		id=$(new_id)
		under_subreaper create_case "'$phase'" "$id"
	done <<<"$phases"
	check_cases
}

@test "faults: husk start killed after opening the fifo" {
	local id name="start killed after fifo"
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	under_subreaper husk_killed "'$name'" start:fifo start "$id"
	# start removes the fifo right after opening it, so the container is no longer "created":
	# either the init wrote its byte before start died and execs the workload (running), or
	# start's end of the fifo closed first, the init's write failed (EPIPE) and it exited
	# (stopped). Which one is a race; state must say the one that happened.
	local status pid cmd="" _
	for _ in $(seq 100); do
		status=$(container_status "$id")
		case $status in
		stopped) break ;;
		running)
			pid=$(container_pid "$id")
			cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
			[[ $cmd == sleep* ]] && break
			;;
		esac
		sleep 0.02
	done
	case $status in
	running) [[ $cmd == sleep* ]] || FAILED+=("$name: state says running, the init runs '$cmd'") ;;
	stopped) ;;
	*) FAILED+=("$name: state says '$status'") ;;
	esac
	force_delete "$name" "$id"
	check_clean "$name" "$id"
	check_cases
}

exec_case() {
	local phase=$1 id=$2 name="exec killed after '$1'"
	husk_killed "$name" "exec:$phase" exec "$id" sleep 1000
	[ "$(husk state "$id" | jq -r .status)" = running ] || FAILED+=("$name: container not running any more")
	husk exec "$id" true </dev/null >"$TESTDIR/exec.out" 2>&1 ||
		FAILED+=("$name: a later exec fails: $(cat "$TESTDIR/exec.out")")
	force_delete "$name" "$id"
	check_clean "$name" "$id"
}

# on_running_each CASE PHASE...: for each phase, CASE on a new running container.
on_running_each() {
	local fn=$1 phase id
	shift
	for phase in "$@"; do
		id=$(new_id)
		run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
		under_subreaper "$fn" "'$phase'" "$id"
	done
	check_cases
}

@test "faults: husk exec killed after each phase" {
	on_running_each exec_case "${EXEC_PHASES[@]}"
}

delete_case() {
	local phase=$1 id=$2 name="delete killed after '$1'"
	husk_killed "$name" "delete:$phase" delete --force "$id"
	not_running "$name" "$id"
	force_delete "$name" "$id"
	check_clean "$name" "$id"
	reuse "$name" "$id"
}

@test "faults: husk delete killed after each phase" {
	on_running_each delete_case "${DELETE_PHASES[@]}"
}

# create_fails NAME ERE: create must exit 1 with an error matching ERE and clean up by itself.
create_fails() {
	local name=$1 expect=$2 id rc=0
	id=$(new_id)
	husk create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/create.out" 2>&1 || rc=$?
	if [ "$rc" -ne 1 ]; then
		FAILED+=("$name: create exit $rc, want 1: $(head -c 300 "$TESTDIR/create.out")")
		husk delete --force "$id" >/dev/null 2>&1
	elif ! grep -Eq -- "$expect" "$TESTDIR/create.out"; then
		FAILED+=("$name: error does not match /$expect/: $(head -c 300 "$TESTDIR/create.out")")
	fi
	check_clean "$name" "$id"
}

@test "faults: the init dies after each of its phases" {
	local phase
	for phase in "${INIT_PHASES[@]}"; do
		_HUSK_TEST_KILL_AT="init:$phase" create_fails "init killed after '$phase'" 'init exited with status 137'
	done
	check_cases
}

@test "faults: the init fails before exec, one clear error each" {
	cp "$BUNDLE/config.json" "$TESTDIR/default.json"
	update_config '.hooks = {createRuntime: [{path: "/bin/false"}]}'
	create_fails "failing createRuntime hook" 'createRuntime'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	update_config '.hooks = {createContainer: [{path: "/bin/sh", args: ["sh", "-c", "exit 3"]}]}'
	create_fails "failing createContainer hook" 'createContainer'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	update_config '.mounts += [{destination: "/x", type: "bind", source: "/nonexistent-husktest", options: ["bind"]}]'
	create_fails "bind mount of a missing source" 'mounts\[7\].*/nonexistent-husktest'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	update_config '.mounts += [{destination: "/x", type: "husktestfs", source: "none"}]'
	create_fails "unknown filesystem type" 'mounts\[7\]'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	set_args /bin/nonexistent
	create_fails "missing binary" 'process\.args\[0\].*nonexistent'
	set_args /etc/passwd
	create_fails "binary not executable" 'process\.args\[0\]|/etc/passwd'
	set_args sleep 1000
	update_config '.process.cwd = "/etc/passwd"'
	create_fails "cwd is a file" 'process\.cwd'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	update_config '.process.user.additionalGids = [4294967295]'
	create_fails "bad additional gid" 'process\.user'
	cp "$TESTDIR/default.json" "$BUNDLE/config.json"
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 1099511627776, soft: 1024}]'
	create_fails "rlimit above the hard limit" 'process\.rlimits|RLIMIT_NOFILE'
	check_cases
}

# small_fs DIR SIZE: a tmpfs of SIZE at DIR, unmounted by teardown.
small_fs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" husktest-root "$1"
	cleanup_mount "$1"
}

@test "faults: --root on a full filesystem" {
	local full="$TESTDIR/fullroot" id rc=0
	small_fs "$full" 256k
	# Fill it to the last block.
	dd if=/dev/zero of="$full/filler" bs=4k 2>/dev/null || true
	id=$(new_id)
	hk "$full" create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "create on a full --root: exit $rc: $(cat "$TESTDIR/out")"
	grep -Eq "$full|no space" "$TESTDIR/out" || fail "error names neither the path nor the cause: $(cat "$TESTDIR/out")"
	# Nothing else broken: the cgroup and the init went with the failed create.
	[ -z "$(leftover_cgroups)" ] || fail "cgroups left: $(leftover_cgroups)"
	[ -z "$(processes_in_bundle)" ] || fail "processes left: $(processes_in_bundle)"
	rm "$full/filler"
	run hk "$full" delete --force "$id"
	[ "$status" -eq 0 ] || [[ "$output" == *"does not exist"* ]] || fail "delete --force: $output"
	[ -z "$(ls -A "$full")" ] || fail "left in the full root: $(ls -A "$full")"
	# The root works again once there is room.
	hk "$full" create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/out" 2>&1 ||
		fail "create once there is room: $(cat "$TESTDIR/out")"
	run -0 hk "$full" delete --force "$id"
	[ -z "$(ls -A "$full")" ]
	umount "$full"
	assert_nothing_left
}

@test "faults: --root read-only" {
	local ro="$TESTDIR/roroot" id rc=0
	small_fs "$ro" 1m
	# A container made while it was writable, then the filesystem goes read-only.
	id=$(new_id)
	hk "$ro" create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/out" 2>&1 ||
		fail "create: $(cat "$TESTDIR/out")"
	mount -o remount,ro "$ro"
	local id2
	id2=$(new_id)
	hk "$ro" create --bundle "$BUNDLE" "$id2" </dev/null >"$TESTDIR/out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || fail "create on a read-only --root: exit $rc: $(cat "$TESTDIR/out")"
	grep -Eq "$ro|read-only" "$TESTDIR/out" || fail "error names neither the path nor the cause: $(cat "$TESTDIR/out")"
	# Reading still works.
	run -0 hk "$ro" state "$id"
	[ "$(jq -r .status <<<"$output")" = created ]
	run -0 hk "$ro" list -q
	[ "$output" = "$id" ]
	# delete cannot remove the state, and says so; it works once the root is writable again.
	run hk "$ro" delete --force "$id"
	[ "$status" -eq 1 ] || [ "$status" -eq 0 ] || fail "delete --force on read-only root: exit $status: $output"
	mount -o remount,rw "$ro"
	run -0 hk "$ro" delete --force "$id"
	[ -z "$(ls -A "$ro")" ] || fail "left in the root: $(ls -A "$ro")"
	umount "$ro"
	assert_nothing_left
}

# damaged_state NAME HOW: a running container's state.json is damaged (HOW: a shell command
# run on the file); state fails with a clear error, list and a healthy neighbour still work,
# delete --force still removes it all.
damaged_state() {
	local name=$1 how=$2 id ok
	id=$(new_id)
	ok=$(new_id)
	husk create --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 && husk start "$id" &&
		husk create --bundle "$BUNDLE" "$ok" </dev/null >/dev/null 2>&1 || {
		FAILED+=("$name: setup failed")
		return
	}
	local f="$ROOT/$id/state.json"
	sh -c "$how" sh "$f"
	local rc=0
	husk state "$id" >"$TESTDIR/out" 2>&1 || rc=$?
	[ "$rc" -eq 1 ] || FAILED+=("$name: state exit $rc: $(head -c 300 "$TESTDIR/out")")
	grep -q 'state.json' "$TESTDIR/out" || FAILED+=("$name: state error does not name state.json: $(head -c 300 "$TESTDIR/out")")
	husk list >"$TESTDIR/out" 2>&1 || FAILED+=("$name: list fails: $(cat "$TESTDIR/out")")
	grep -q "^$ok " "$TESTDIR/out" || FAILED+=("$name: list lost the healthy container: $(cat "$TESTDIR/out")")
	[ "$(husk state "$ok" | jq -r .status)" = created ] || FAILED+=("$name: the healthy neighbour broke")
	force_delete "$name" "$id"
	force_delete "$name" "$ok"
	check_clean "$name" "$id"
	scrub "$id"
}

# scrub ID: removes by hand what a failed delete left of ID (its processes, cgroups, state dir),
# so that the next case starts clean and reports only its own leaks.
scrub() {
	local p c
	for p in $(grep -lsF "$1" /proc/[0-9]*/cgroup | cut -d/ -f3); do kill -9 "$p" 2>/dev/null; done
	for p in $(grep -lsF "$1" /proc/[0-9]*/cgroup | cut -d/ -f3); do wait_gone "$p" 2>/dev/null; done
	for c in $(find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null); do rmdir "$c" 2>/dev/null; done
	rm -rf "${ROOT:?}/$1"
}

@test "faults: truncated or garbage state.json" {
	damaged_state "truncated state.json" 'head -c 40 "$1" >"$1.t" && mv "$1.t" "$1"'
	damaged_state "empty state.json" ': >"$1"'
	damaged_state "garbage state.json" 'head -c 512 /dev/urandom >"$1"'
	damaged_state "state.json of the wrong shape" 'echo "[1,2,3]" >"$1"'
	damaged_state "state.json missing" 'rm "$1"'
	check_cases
}
