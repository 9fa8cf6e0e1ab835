#!/usr/bin/env bats
# Terminals: --console-socket for create/run/exec (the pty master goes to a
# receiver, tests/cmd/recvtty; the slave is the process's stdio and controlling
# terminal with consoleSize applied; input written to the master reaches the
# process), and `run -t`/`exec -t` in the foreground without a console socket
# when stdin is a terminal (driven by script(1)): output, input and window size
# are proxied.

# Scripts for the container are single-quoted on purpose.
# shellcheck disable=SC2016

load helpers

setup_file() {
	export TOOLS="$BATS_FILE_TMPDIR/tools"
	mkdir -p "$TOOLS"
	(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$TOOLS/recvtty" ./tests/cmd/recvtty)
}

# What a process in the container reports about its terminal: its tty, its
# size, where fds 0-2 point, its session and tty_nr (/proc/self/stat fields 6
# and 7), the tty ps shows for it; then it reads one line and echoes it back.
TTY_REPORT='echo "tty $(tty)"; echo "size $(stty size)"
for f in 0 1 2; do echo "fd$f $(readlink /proc/$$/fd/$f)"; done
echo "pid $$"; echo "stat $(cut -d" " -f6,7 /proc/$$/stat)"
ps -o pid,tty | sed "s/^ */ps /"
read -r line; echo "got<$line>"'

# wait_size prints a script that waits (up to 2 s) until the process's terminal has a size.
# runc sizes the pty it proxies only once the process runs: busybox's stty size then prints
# nothing ("stty: standard input" on stderr) for a moment. husk sizes it first, so for husk the
# report is taken as the process starts.
wait_size() {
	[ "$HUSK_NAME" = husk ] ||
		echo 'i=0; while [ -z "$(stty size 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done; '
}

# start_recvtty starts the receiver on $TESTDIR/tty.sock with extra args
# "$@", its output in $TESTDIR/tty.out, and waits until it listens.
start_recvtty() {
	"$TOOLS/recvtty" -info "$TESTDIR/tty.info" "$@" "$TESTDIR/tty.sock" \
		>"$TESTDIR/tty.out" 2>"$TESTDIR/tty.err" </dev/null 3>&- &
	RECVTTY_PID=$!
	track_pid "$RECVTTY_PID"
	local _
	for _ in $(seq 200); do
		[ -S "$TESTDIR/tty.sock" ] && return 0
		sleep 0.05
	done
	fail "recvtty did not listen: $(cat "$TESTDIR/tty.err")"
}

# wait_recvtty waits for the receiver to see the pty hang up and sets $output
# to what the container wrote to its terminal (carriage returns removed). Not
# for `run`: wait only works on children of this shell, not of a subshell.
wait_recvtty() {
	local rc=0
	# Bounded: a runtime that leaked an fd would keep the receiver waiting.
	wait_gone "$RECVTTY_PID" || return 1
	wait "$RECVTTY_PID" || rc=$?
	[ "$rc" -eq 0 ] || fail "recvtty failed ($rc): $(cat "$TESTDIR/tty.err")"
	output=$(tr -d '\r' <"$TESTDIR/tty.out")
}

# check_tty_report checks a TTY_REPORT in $output against pty number $1 and
# size "$2" (rows cols; empty: not checked).
check_tty_report() {
	local ptn=$1 size=$2 pid
	[[ "$output" == *"tty /dev/pts/$ptn"* ]] || fail "not /dev/pts/$ptn: $output"
	if [ -n "$size" ]; then
		[[ "$output" == *"size $size"* ]] || fail "size is not $size: $output"
	fi
	local f
	for f in 0 1 2; do
		[[ "$output" == *"fd$f /dev/pts/$ptn"* ]] || fail "fd $f is not the slave: $output"
	done
	pid=$(echo "$output" | awk '$1 == "pid" { print $2 }')
	# A session leader (setsid) whose controlling terminal is the pty:
	# tty_nr = major 136 (pts), minor ptn.
	[[ "$output" == *"stat $pid $((136 * 256 + ptn))"* ]] || fail "no controlling tty: $output"
	echo "$output" | grep -Eq "^ps +$pid +136,$ptn\$" || fail "ps does not show the tty: $output"
	[[ "$output" == *"got<hello tty>"* ]] || fail "input did not reach the process: $output"
}

@test "create --console-socket: the pty slave is the init's terminal, with consoleSize" {
	update_config '.process.terminal = true | .process.consoleSize = {height: 33, width: 101}'
	set_args sh -c "$TTY_REPORT; exit 6"
	start_recvtty -input 'hello tty\n'
	local id
	id=$(new_id)
	run -0 husk create --console-socket "$TESTDIR/tty.sock" --bundle "$BUNDLE" "$id"
	# The receiver got a pty master before start.
	wait_for_file "$TESTDIR/tty.info"
	grep -Eq '^ptn=[0-9]+$' "$TESTDIR/tty.info"
	local ptn
	ptn=$(sed -n 's/^ptn=//p' "$TESTDIR/tty.info")
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	wait_recvtty
	check_tty_report "$ptn" "33 101"
	run -0 husk delete "$id"
}

@test "run -d --console-socket: the pty slave is the init's terminal" {
	update_config '.process.terminal = true | .process.consoleSize = {height: 10, width: 200}'
	set_args sh -c "$TTY_REPORT; exit 6"
	start_recvtty -input 'hello tty\n'
	local id
	id=$(new_id)
	run -0 husk run -d --console-socket "$TESTDIR/tty.sock" --bundle "$BUNDLE" "$id" </dev/null
	# Everything goes to the terminal, nothing to husk's own stdout.
	[ -z "$output" ]
	local ptn
	ptn=$(sed -n 's/^ptn=//p' "$TESTDIR/tty.info")
	wait_recvtty
	check_tty_report "$ptn" "10 200"
	wait_for_status "$id" stopped
}

@test "husk: run and exec --console-socket in the foreground return the exit status" {
	# husk hands the master over and waits for the process like any foreground run or exec.
	husk_only "runc refuses --console-socket without -d (checked with 1.1.5 and 1.5.3)"
	update_config '.process.terminal = true'
	set_args sh -c 'echo from-init; exit 6'
	start_recvtty
	run -6 husk run --console-socket "$TESTDIR/tty.sock" --bundle "$BUNDLE" "$(new_id)"
	[ -z "$output" ]
	wait_recvtty
	[ "$output" = from-init ]

	update_config '.process.terminal = false'
	start_sleeper
	start_recvtty
	run -3 husk exec -t --console-socket "$TESTDIR/tty.sock" "$CID" sh -c 'echo from-exec; exit 3'
	[ -z "$output" ]
	wait_recvtty
	[ "$output" = from-exec ]
}

@test "terminal: true without a console socket or a terminal fails" {
	update_config '.process.terminal = true'
	set_args true
	local id
	id=$(new_id)
	run husk create --bundle "$BUNDLE" "$id" </dev/null
	[ "$status" -ne 0 ]
	[[ "$output" == *console* ]]
	assert_nothing_left
}

@test "exec -t --console-socket: the pty slave is the exec'd process's terminal" {
	start_sleeper
	start_recvtty -input 'hello tty\n'
	# -d, as containerd and podman call it: husk returns once the process runs.
	run -0 husk exec -t -d --console-socket "$TESTDIR/tty.sock" "$CID" sh -c "$TTY_REPORT" </dev/null
	[ -z "$output" ]
	local ptn
	ptn=$(sed -n 's/^ptn=//p' "$TESTDIR/tty.info")
	wait_recvtty
	# No consoleSize: 0x0, which busybox stty refuses to print.
	check_tty_report "$ptn" ""
	# The init keeps its own stdio.
	run -0 husk exec "$CID" readlink /proc/1/fd/0
	[ "$output" = /dev/null ]
}

@test "exec -p with terminal and consoleSize through --console-socket" {
	start_sleeper
	jq -n --arg script "$TTY_REPORT" '{
		terminal: true, consoleSize: {height: 44, width: 55},
		args: ["sh", "-c", $script], env: ["PATH=/bin:/usr/bin"], cwd: "/",
		user: {uid: 0, gid: 0}
	}' >"$TESTDIR/process.json"
	start_recvtty -input 'hello tty\n'
	run -0 husk exec -d -p "$TESTDIR/process.json" --console-socket "$TESTDIR/tty.sock" "$CID" </dev/null
	local ptn
	ptn=$(sed -n 's/^ptn=//p' "$TESTDIR/tty.info")
	wait_recvtty
	check_tty_report "$ptn" "44 55"
}

@test "exec -t --console-socket -d: input typed later reaches a waiting process" {
	update_config '.root.readonly = false'
	start_sleeper
	# The process prints a prompt first; recvtty answers only after seeing it.
	start_recvtty -input-after-output 'late input\n'
	husk exec -t -d --console-socket "$TESTDIR/tty.sock" "$CID" \
		sh -c 'echo prompt; read -r l; echo "$l" >/tmp/answer' </dev/null >"$TESTDIR/exec.log" 2>&1
	wait_for_file "$BUNDLE/rootfs/tmp/answer"
	[ "$(cat "$BUNDLE/rootfs/tmp/answer")" = "late input" ]
	wait_recvtty
	[[ "$output" == *prompt* ]]
}

# in_script runs "$@" (one shell command line) with a pty as stdin/stdout
# (script(1)), feeding it $SCRIPT_INPUT, and prints the terminal's output
# without carriage returns and NULs. It keeps the command's exit status.
in_script() {
	local rc=0
	printf '%b' "${SCRIPT_INPUT:-}" | timeout 30 script -qec "$1" /dev/null \
		>"$TESTDIR/script.out" 2>&1 3>&- || rc=$?
	tr -d '\r\0' <"$TESTDIR/script.out"
	return $rc
}

# husk_line prints the runtime's command line for use inside in_script.
husk_line() {
	echo "$HUSK $HUSK_GLOBAL_OPTS --root $ROOT"
}

@test "run -t without a console socket proxies the terminal: output, input, size" {
	update_config '.process.terminal = true'
	set_args sh -c "$(wait_size)$TTY_REPORT; exit 5"
	SCRIPT_INPUT='hello tty\n' run -5 in_script \
		"stty rows 27 cols 91; exec $(husk_line) run --bundle $BUNDLE $(new_id)"
	# Inside: a pty of the container's own devpts, not husk's terminal.
	local ptn
	ptn=$(echo "$output" | sed -n 's|^tty /dev/pts/||p')
	[[ "$ptn" =~ ^[0-9]+$ ]]
	check_tty_report "$ptn" "27 91"
}

@test "run -t without a console socket forwards window size changes" {
	update_config '.process.terminal = true | .root.readonly = false'
	set_args sh -c 'stty size; touch /tmp/started; i=0
		while [ "$(stty size)" = "24 80" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
		stty size'
	# husk runs in the background of the outer shell (no job control: same
	# process group, so it gets the outer terminal's SIGWINCH); stdin is
	# passed explicitly because a background command's would be /dev/null.
	run -0 in_script "stty rows 24 cols 80; exec 3<&0
		$(husk_line) run --bundle $BUNDLE $(new_id) <&3 &
		while [ ! -e $BUNDLE/rootfs/tmp/started ]; do sleep 0.05; done
		stty rows 30 cols 100; wait \$!"
	# (script's end of input echoes as ^@ before husk sets raw mode.)
	[ "$(echo "$output" | grep -Eo '[0-9]+ [0-9]+$' | tr '\n' ' ')" = "24 80 30 100 " ]
}

@test "exec -t without a console socket proxies the terminal" {
	start_sleeper
	SCRIPT_INPUT='hello tty\n' run -4 in_script \
		"stty rows 12 cols 34; exec $(husk_line) exec -t $CID sh -c '$(wait_size)$TTY_REPORT; exit 4'"
	local ptn
	ptn=$(echo "$output" | sed -n 's|^tty /dev/pts/||p')
	[[ "$ptn" =~ ^[0-9]+$ ]]
	check_tty_report "$ptn" "12 34"
	# husk restored the outer terminal (script's pty) on exit: a shell after
	# it still sees cooked mode with echo.
	run -0 in_script "$(husk_line) exec -t $CID true; stty -a"
	[[ "$output" == *" icanon "* || "$output" == *" icanon"$'\n'* ]]
	[[ "$output" == *" echo "* ]]
}

# in_script_bytes is in_script keeping carriage returns (NULs still go): the
# caller tests line ends. Run "stty -onlcr" first in the command line, so that
# script's own terminal adds no \r and every one comes from the container's.
# script's end of input may echo as "^@" before the runtime makes the terminal
# raw, anywhere in the output: that goes too.
in_script_bytes() {
	local rc=0
	timeout 30 script -qec "$1" /dev/null </dev/null >"$TESTDIR/script.out" 2>&1 3>&- || rc=$?
	tr -d '\0' <"$TESTDIR/script.out" | sed 's/\^@//g'
	return $rc
}

@test "run -t and exec -t through husk's own terminal: ONLCR is cleared, lines end in \\n" {
	# runc clears ONLCR on the pty when it proxies the terminal itself, so
	# scripts reading a tty container's output get no \r.
	update_config '.process.terminal = true'
	set_args printf 'one\ntwo\n'
	run -0 in_script_bytes "stty -onlcr; exec $(husk_line) run --bundle $BUNDLE $(new_id)"
	[[ "$output" == *$'one\ntwo'* ]] || fail "run -t: $(printf %q "$output")"
	[[ "$output" != *$'\r'* ]] || fail "run -t: carriage returns: $(printf %q "$output")"

	update_config '.process.terminal = false'
	start_sleeper
	run -0 in_script_bytes "stty -onlcr; exec $(husk_line) exec -t $CID printf 'one\\ntwo\\n'"
	[[ "$output" == *$'one\ntwo'* ]] || fail "exec -t: $(printf %q "$output")"
	[[ "$output" != *$'\r'* ]] || fail "exec -t: carriage returns: $(printf %q "$output")"
}

@test "the pty is owned by process.user's uid (run and exec -t), its group stays devpts' gid=5" {
	update_config '.process.terminal = true | .process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 'stat -c "owner %u %g" "$(tty)"'
	start_recvtty
	run -0 husk run -d --console-socket "$TESTDIR/tty.sock" --bundle "$BUNDLE" "$(new_id)" </dev/null
	wait_recvtty
	[[ "$output" == *"owner 1000 5"* ]] || fail "run: $output"

	update_config '.process.terminal = false | .process.user = {uid: 0, gid: 0}'
	start_sleeper
	start_recvtty
	run -0 husk exec -t -d -u 1000:1000 --console-socket "$TESTDIR/tty.sock" "$CID" \
		sh -c 'stat -c "owner %u %g" "$(tty)"' </dev/null
	wait_recvtty
	[[ "$output" == *"owner 1000 5"* ]] || fail "exec -t: $output"
}
