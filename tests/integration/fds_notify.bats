#!/usr/bin/env bats
# The fd and notification protocols containerd, podman and systemd rely on:
# NOTIFY_SOCKET (relayed to a real listening socket on the host; start returns
# once READY=1 arrived, MAINPID first), LISTEN_FDS/LISTEN_PID socket
# activation, --preserve-fds on create/run, and --pidfd-socket on
# create/run/exec (tests/cmd/pidfdrecv receives the pidfd).

# Scripts for the container are single-quoted on purpose; $HUSK_GLOBAL_OPTS
# is split into words on purpose.
# shellcheck disable=SC2016,SC2086

load helpers

setup_file() {
	export TOOLS="$BATS_FILE_TMPDIR/tools"
	mkdir -p "$TOOLS"
	(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$TOOLS/sdnotify" ./tests/cmd/sdnotify)
	(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$TOOLS/pidfdrecv" ./tests/cmd/pidfdrecv)
}

# line_of prints the line number of the first line of notify.log matching $1.
line_of() {
	grep -nE "$1" "$TESTDIR/notify.log" | head -1 | cut -d: -f1
}

# now_ms prints a monotonic-enough wall clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "NOTIFY_SOCKET: messages reach the host, MAINPID is the init, start returns after READY=1" {
	cp "$TOOLS/sdnotify" "$BUNDLE/rootfs/bin/sdnotify"
	update_config '.root.readonly = false'
	# READY comes late (0.5 s); the marker comes only after the host says go,
	# which it does once start has returned: start must wait for READY and
	# for nothing after it.
	set_args sh -c 'echo "$NOTIFY_SOCKET" >/tmp/env
		sdnotify STATUS=starting; sleep 0.5; sdnotify READY=1 STATUS=up
		while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after >/tmp/marker
		exec sleep 1000'
	start_notify_listener
	local id
	id=$(new_id)
	NOTIFY_SOCKET="$TESTDIR/notify.sock" run -0 husk_bg create --bundle "$BUNDLE" "$id"
	local t0 t1
	t0=$(now_ms)
	NOTIFY_SOCKET="$TESTDIR/notify.sock" run -0 timeout 20 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" start "$id"
	t1=$(now_ms)
	# When start returned, READY=1 had been relayed and the marker did not exist.
	cp "$TESTDIR/notify.log" "$TESTDIR/at-return.log"
	[ ! -e "$BUNDLE/rootfs/tmp/marker" ]
	grep -q 'READY=1' "$TESTDIR/at-return.log" || fail "start returned before READY=1: $(cat "$TESTDIR/at-return.log")"
	[ $((t1 - t0)) -ge 400 ] || fail "start returned after $((t1 - t0)) ms, before READY was sent"
	# The container goes on by itself.
	touch "$BUNDLE/rootfs/tmp/go"
	wait_for_file "$BUNDLE/rootfs/tmp/marker"

	local pid
	pid=$(container_pid "$id")
	[ "$(cat "$BUNDLE/rootfs/tmp/env")" = /run/notify/notify.sock ]
	local status mainpid ready
	mainpid=$(line_of "(^|;)MAINPID=$pid(;|\$)")
	ready=$(line_of '(^|;)READY=1(;|$)')
	[ -n "$mainpid" ] && [ -n "$ready" ] || fail "missing messages: $(cat "$TESTDIR/notify.log")"
	# No MAINPID other than the init's.
	[ "$(grep -c 'MAINPID=' "$TESTDIR/notify.log")" -eq 1 ]
	# husk passes every message on, in order, with MAINPID (the init's host pid) before READY.
	# runc passes on only the READY line, then MAINPID and a BARRIER.
	[ "$HUSK_NAME" = husk ] || return 0
	status=$(line_of '^STATUS=starting$')
	[ -n "$status" ] || fail "STATUS=starting not passed on: $(cat "$TESTDIR/notify.log")"
	[ "$status" -lt "$mainpid" ] && [ "$mainpid" -le "$ready" ] || fail "wrong order: $(cat "$TESTDIR/notify.log")"
	grep -q 'STATUS=up' "$TESTDIR/notify.log"
}

@test "NOTIFY_SOCKET: a container that never sends READY=1 ends start once it exits (husk: fails it)" {
	cp "$TOOLS/sdnotify" "$BUNDLE/rootfs/bin/sdnotify"
	update_config '.root.readonly = false'
	set_args sh -c 'sdnotify STATUS=not-ready-yet; sleep 1; echo bye >/tmp/done'
	start_notify_listener
	local id
	id=$(new_id)
	NOTIFY_SOCKET="$TESTDIR/notify.sock" run -0 husk_bg create --bundle "$BUNDLE" "$id"
	local t0 t1
	t0=$(now_ms)
	NOTIFY_SOCKET="$TESTDIR/notify.sock" run timeout 20 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" start "$id"
	t1=$(now_ms)
	[ "$status" -ne 124 ] || fail "start did not return once the container exited: $output"
	if [ "$HUSK_NAME" = husk ]; then
		# husk fails the start (systemd too fails a Type=notify service whose process
		# exits before READY=1); runc's start succeeds.
		[ "$status" -ne 0 ] || fail "start: status 0: $output"
		[[ "$output" == *READY* ]]
	fi
	# It returned only after the container was done.
	[ $((t1 - t0)) -ge 900 ]
	[ -e "$BUNDLE/rootfs/tmp/done" ]
	wait_for_status "$id" stopped
	run ! grep -q 'READY=1' "$TESTDIR/notify.log"
	# husk passes the messages on (runc only READY).
	[ "$HUSK_NAME" != husk ] || grep -qx 'STATUS=not-ready-yet' "$TESTDIR/notify.log"
}

@test "LISTEN_FDS: socket-activation fds are passed on, LISTEN_PID=1 inside" {
	echo "listen-$RANDOM" >"$TESTDIR/in"
	: >"$TESTDIR/out"
	set_args sh -c 'echo "$LISTEN_FDS $LISTEN_PID"
		stat -L -c "%d:%i" /proc/$$/fd/3 /proc/$$/fd/4
		cat <&3; echo written >&4
		[ -e /proc/$$/fd/5 ] && echo "fd 5 leaked"; true'
	# husk runs with LISTEN_PID set to its own pid (the shell execs it).
	run -0 sh -c 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$@"' sh \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)" \
		3<"$TESTDIR/in" 4>"$TESTDIR/out" 5<"$TESTDIR/in"
	[ "${lines[0]}" = "2 1" ]
	# The very same files: device and inode seen inside equal the host's.
	[ "${lines[1]}" = "$(stat -c '%d:%i' "$TESTDIR/in")" ]
	[ "${lines[2]}" = "$(stat -c '%d:%i' "$TESTDIR/out")" ]
	[ "${lines[3]}" = "$(cat "$TESTDIR/in")" ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(cat "$TESTDIR/out")" = written ]
}

@test "LISTEN_FDS for another pid is ignored; with --preserve-fds both are passed" {
	echo "listen-$RANDOM" >"$TESTDIR/in"
	set_args sh -c 'echo "fds=${LISTEN_FDS:-none}"; for f in 3 4 5; do [ -e /proc/$$/fd/$f ] && echo "fd $f"; done; true'
	# LISTEN_PID names some other process: not for husk.
	run -0 env LISTEN_PID=1 LISTEN_FDS=2 \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)" \
		3<"$TESTDIR/in" 4<"$TESTDIR/in"
	[ "$output" = "fds=none" ]
	# LISTEN_FDS=1 and --preserve-fds 1: fds 3 and 4, LISTEN_FDS stays 1.
	run -0 sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' sh \
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --preserve-fds 1 --bundle "$BUNDLE" "$(new_id)" \
		3<"$TESTDIR/in" 4<"$TESTDIR/in" 5<"$TESTDIR/in"
	[ "$(echo "$output" | tr '\n' ' ')" = "fds=1 fd 3 fd 4 " ]
}

@test "run and create --preserve-fds pass exactly N fds" {
	echo "keep-$RANDOM" >"$TESTDIR/in"
	: >"$TESTDIR/out"
	set_args sh -c 'cat <&3; echo written >&4; for f in 5 6; do [ -e /proc/$$/fd/$f ] && echo "fd $f leaked"; done; true'
	run -0 husk run --preserve-fds 2 --bundle "$BUNDLE" "$(new_id)" \
		3<"$TESTDIR/in" 4>"$TESTDIR/out" 5<"$TESTDIR/in" 6</dev/null
	[ "$output" = "$(cat "$TESTDIR/in")" ]
	[ "$(cat "$TESTDIR/out")" = written ]
	# Without the flag, none.
	set_args sh -c 'for f in 3 4; do [ -e /proc/$$/fd/$f ] && echo "fd $f leaked"; done; true'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)" 3<"$TESTDIR/in" 4>"$TESTDIR/out"
	[ -z "$output" ]

	# create keeps the fd for the init until start.
	: >"$TESTDIR/out"
	set_args sh -c 'echo from-create >&3'
	local id
	id=$(new_id)
	run -0 husk_bg create --preserve-fds 1 --bundle "$BUNDLE" "$id" 3>"$TESTDIR/out"
	[ ! -s "$TESTDIR/out" ]
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	[ "$(cat "$TESTDIR/out")" = from-create ]
	run -0 husk delete "$id"
}

# start_pidfdrecv starts the receiver on $TESTDIR/pidfd.sock (output in
# $TESTDIR/pidfd.out) and waits until it listens.
start_pidfdrecv() {
	rm -f "$TESTDIR/pidfd.out"
	"$TOOLS/pidfdrecv" -wait "$TESTDIR/pidfd.sock" >"$TESTDIR/pidfd.out" 2>"$TESTDIR/pidfd.err" </dev/null 3>&- &
	PIDFDRECV_PID=$!
	track_pid "$PIDFDRECV_PID"
	local _
	for _ in $(seq 200); do
		[ -S "$TESTDIR/pidfd.sock" ] && return 0
		sleep 0.05
	done
	fail "pidfdrecv did not listen: $(cat "$TESTDIR/pidfd.err")"
}

# received_pid prints the pid of the pidfd the receiver got.
received_pid() {
	wait_for_file "$TESTDIR/pidfd.out"
	sed -n 's/^pid //p' "$TESTDIR/pidfd.out"
}

# wait_pidfd_exit checks that the receiver's pidfd reported the exit of its
# process (which the caller killed).
wait_pidfd_exit() {
	local rc=0
	# Bounded: a runtime that leaked an fd would keep the receiver waiting.
	wait_gone "$PIDFDRECV_PID" || return 1
	wait "$PIDFDRECV_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "pidfdrecv failed ($rc): $(cat "$TESTDIR/pidfd.err")"
	[ "$(tail -1 "$TESTDIR/pidfd.out")" = exited ]
}

@test "create --pidfd-socket: the receiver gets a pidfd of the init" {
	set_args sleep 1000
	start_pidfdrecv
	local id
	id=$(new_id)
	run -0 husk_bg create --pidfd-socket "$TESTDIR/pidfd.sock" --bundle "$BUNDLE" "$id"
	[ "$(received_pid)" = "$(container_pid "$id")" ]
	run -0 husk start "$id"
	run -0 husk kill "$id" KILL
	wait_pidfd_exit
	wait_for_status "$id" stopped
	run -0 husk delete "$id"
}

@test "run -d --pidfd-socket: the receiver gets a pidfd of the init" {
	set_args sleep 1000
	start_pidfdrecv
	local id
	id=$(new_id)
	run -0 husk_bg run -d --pidfd-socket "$TESTDIR/pidfd.sock" --bundle "$BUNDLE" "$id"
	[ "$(received_pid)" = "$(container_pid "$id")" ]
	run -0 husk kill "$id" KILL
	wait_pidfd_exit
}

@test "exec --pidfd-socket: the receiver gets a pidfd of the exec'd process" {
	start_sleeper
	start_pidfdrecv
	husk exec -d --pid-file "$TESTDIR/exec.pid" --pidfd-socket "$TESTDIR/pidfd.sock" "$CID" \
		sleep 1000 </dev/null >"$TESTDIR/exec.log" 2>&1
	local pid
	pid=$(cat "$TESTDIR/exec.pid")
	[ "$(received_pid)" = "$pid" ]
	[ "$pid" != "$(container_pid "$CID")" ]
	kill -KILL "$pid"
	wait_pidfd_exit
	# The container's init was not the one that died.
	[ "$(container_status "$CID")" = running ]
}
