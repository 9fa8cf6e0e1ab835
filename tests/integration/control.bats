#!/usr/bin/env bats
# A container stays under control whatever an exec, a hook or a start is doing (issue 14): a
# process that an exec starts and that stops before its execve, or a hook that does not return,
# must not keep state, kill, ps, list, exec, pause or resume of that container from answering
# (containerd's shim and the kubelet call state and kill on their own schedule, and a health
# check exec can hang). `timeout $HANG` only tells a hang from an answer; nothing is timed.

load helpers

# A command that has not answered after this many seconds hangs.
HANG=10

setup() {
	requires root
	command -v strace >/dev/null || skip "test requires strace (apt-get install strace)"
	setup_husk
	mkdir "$TESTDIR/sync"
	STUCK=
}

teardown() {
	# The stuck process first: a runtime whose exec holds a lock until that process execs
	# would keep teardown's delete waiting too. Hooks are released the same way.
	[ -n "$STUCK" ] && kill -9 "$STUCK" 2>/dev/null
	[ -d "${TESTDIR:-}/sync" ] && for f in "$TESTDIR"/sync/*.running; do
		[ -e "$f" ] && touch "${f%.running}.go"
	done
	teardown_husk
}

# answers ARGS...: runs `husk ARGS` under the hang detector, as `run` does; a hang fails the test.
answers() {
	run timeout "$HANG" "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" "$@"
	[ "$status" -ne 124 ] || fail "husk $* did not answer within ${HANG}s (hangs)"
}

# stuck_exec ID: `exec -d ID /bin/true` whose process stops (SIGSTOP, injected by strace) at its
# first look at /bin/true, before its execve: the exec waits for it forever. Returns once that
# process is stopped, with its pid in STUCK.
stuck_exec() {
	local calls=stat,newfstatat,statx,faccessat,faccessat2,access,execve _ p
	# shellcheck disable=SC2086
	strace -f -qq -o /dev/null -P /bin/true -e trace=$calls -e "inject=$calls:signal=SIGSTOP:when=1" \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec -d "$1" /bin/true \
		</dev/null >"$TESTDIR/stuck.out" 2>&1 &
	STRACE=$!
	track_pid "$STRACE"
	STUCK=
	for _ in $(seq 200); do
		for p in $(grep -lsF "$1" /proc/[0-9]*/cgroup | cut -d/ -f3); do
			case $(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null) in
			T | t) STUCK=$p ;;
			esac
		done
		[ -n "$STUCK" ] && return 0
		sleep 0.05
	done
	fail "the exec's process never stopped: $(cat "$TESTDIR/stuck.out")"
}

# hook_waits NAME: a hook (JSON) that records that it runs in sync/NAME.running, then waits
# until sync/NAME.go exists. DIR is where sync/ is seen from: the host's $TESTDIR for the
# hooks the runtime runs, /sync for startContainer (run in the container).
hook_waits() {
	local name=$1 dir=${2:-$TESTDIR}
	jq -cn --arg s "echo \$\$ >$dir/sync/$name.running; while [ ! -e $dir/sync/$name.go ]; do sleep 0.05; done" \
		'{path: "/bin/sh", args: ["sh", "-c", $s]}'
}

# wait_hook NAME: waits until the hook NAME runs.
wait_hook() {
	wait_for_file "$TESTDIR/sync/$1.running"
}

# create_in_hook: starts `create` of a new container (id in ID, the create's pid in CREATE)
# whose createRuntime hook waits, and returns once the hook runs.
create_in_hook() {
	update_config ".hooks.createRuntime = [$(hook_waits create)]"
	set_args sleep 1000
	ID=$(new_id)
	husk_bg create --bundle "$BUNDLE" "$ID" >/dev/null &
	CREATE=$!
	wait_hook create
}

@test "control: state, kill, ps, list, exec, pause and resume answer while an exec is stuck before its execve" {
	start_sleeper
	stuck_exec "$CID"
	answers state "$CID"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	answers kill "$CID" CONT
	[ "$status" -eq 0 ]
	answers ps --format json "$CID"
	[ "$status" -eq 0 ]
	# The stuck process is in the container and ps says so.
	jq -e --argjson p "$STUCK" 'index($p) != null' <<<"$output"
	answers list -q
	[ "$status" -eq 0 ]
	[ "$output" = "$CID" ]
	answers exec "$CID" cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	answers pause "$CID"
	[ "$status" -eq 0 ]
	answers state "$CID"
	[ "$(jq -r .status <<<"$output")" = paused ]
	answers resume "$CID"
	[ "$status" -eq 0 ]
	answers state "$CID"
	[ "$(jq -r .status <<<"$output")" = running ]
	# kill reaches the container with the stuck process still in it.
	answers kill "$CID" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$CID" stopped
	wait_gone "$STUCK"
}

@test "control: delete --force during a stuck exec removes the container and the exec's process" {
	start_sleeper
	stuck_exec "$CID"
	answers delete --force "$CID"
	[ "$status" -eq 0 ]
	wait_gone "$STUCK"
	assert_nothing_left
	# The exec reports its failure and exits.
	wait_gone "$STRACE"
}

@test "control: state, kill and list answer while a createRuntime hook runs" {
	create_in_hook
	answers state "$ID"
	# Being created: husk says so; runc says the container does not exist yet.
	if [ "$status" -eq 0 ]; then
		[ "$(jq -r .status <<<"$output")" = creating ]
	else
		[[ "$output" == *"does not exist"* ]]
	fi
	# A container being created cannot be signalled (runtime-spec: neither created nor running).
	answers kill "$ID" KILL
	[ "$status" -eq 1 ]
	answers list
	[ "$status" -eq 0 ]
	touch "$TESTDIR/sync/create.go"
	wait "$CREATE"
	[ "$(container_status "$ID")" = created ]
	run -0 husk delete --force "$ID"
}

@test "control: delete --force while a createRuntime hook hangs ends the create and removes everything" {
	create_in_hook
	answers delete --force "$ID"
	[ "$status" -eq 0 ]
	# The hook is let go only now: a create that had kept going would finish the container.
	touch "$TESTDIR/sync/create.go"
	# Not `run wait`: run's subshell cannot wait for this shell's child (wait says 127 at once).
	local rc=0
	wait "$CREATE" || rc=$?
	[ "$rc" -ne 0 ] || fail "create succeeded after delete --force"
	assert_nothing_left
}

@test "control: state and kill answer while start waits for a startContainer hook" {
	update_config '.mounts += [{destination: "/sync", type: "bind", source: "'"$TESTDIR/sync"'", options: ["bind"]}]'
	update_config ".hooks.startContainer = [$(hook_waits start /)]"
	set_args sleep 1000
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	husk start "$id" &
	local start=$!
	wait_hook start
	answers state "$id"
	[ "$status" -eq 0 ]
	[[ "$(jq -r .status <<<"$output")" =~ ^(created|running)$ ]]
	answers kill "$id" CONT
	[ "$status" -eq 0 ]
	touch "$TESTDIR/sync/start.go"
	wait "$start"
	wait_for_status "$id" running
	run -0 husk delete --force "$id"
}

@test "control: state, kill and exec answer while start runs a poststart hook" {
	update_config ".hooks.poststart = [$(hook_waits poststart)]"
	set_args sleep 1000
	local id _
	id=$(new_id)
	husk_bg create --bundle "$BUNDLE" "$id" >/dev/null &
	local create=$!
	for _ in $(seq 200); do
		[ -e "$TESTDIR/sync/poststart.running" ] && skip "the runtime runs poststart hooks in create (runc)"
		kill -0 "$create" 2>/dev/null || break
		sleep 0.05
	done
	wait "$create"
	husk start "$id" &
	local start=$!
	wait_hook poststart
	answers state "$id"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = running ]
	answers kill "$id" CONT
	[ "$status" -eq 0 ]
	answers exec "$id" true
	[ "$status" -eq 0 ]
	touch "$TESTDIR/sync/poststart.go"
	wait "$start"
	run -0 husk delete --force "$id"
}

@test "control: state answers while delete runs a poststop hook" {
	update_config ".hooks.poststop = [$(hook_waits poststop)]"
	start_sleeper
	husk delete --force "$CID" &
	local del=$!
	wait_hook poststop
	answers state "$CID"
	# Killed already; its state is still there until delete is done (runc, too).
	if [ "$status" -eq 0 ]; then
		[ "$(jq -r .status <<<"$output")" = stopped ]
	fi
	answers list
	[ "$status" -eq 0 ]
	touch "$TESTDIR/sync/poststop.go"
	wait "$del"
	assert_nothing_left
}
