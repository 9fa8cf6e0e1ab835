#!/usr/bin/env bats
# Security regressions, file descriptors: no fd of the runtime reaches the
# container (CVE-2016-9962, CVE-2024-21626); only stdio, --preserve-fds and
# LISTEN_FDS survive; a cwd or argv[0] through /proc/self/fd/N cannot reach the
# host; the Go runtime's cgroup fds (GOMAXPROCS, Go >= 1.25) are not in the init.

load security_helpers

# The workload that lists its own fds: ls, exec'd directly by the runtime,
# holds what the runtime left it plus the directory it reads (/proc/PID/fd).
LIST_FDS=(ls -l /proc/self/fd/)

# only_fds fails unless the `ls -l` in $output lists exactly the fds given
# (numbers, sorted), not counting ls' own directory fd.
only_fds() {
	local got
	got=$(echo "$output" | awk '$NF !~ "^/proc/[0-9]+/fd$" { for (i = 1; i < NF; i++) if ($i == "->") print $(i - 1) }' | sort -n | tr '\n' ' ')
	[ "$got" = "$* " ] || fail "fds in the container: $got (want $*); $output"
}

@test "CVE-2016-9962: the created init holds only stdio and the exec fifo" {
	skip_runc '*' "its created init holds more (1.1.5: a pipe; 1.5.3: its sync socket, a /proc fd directory, its own binary, the Go runtime's cgroup files)"
	# Defence: every fd the runtime opens is O_CLOEXEC or closed before the
	# init waits; what a process exec'd next to it could reach through
	# /proc/1/fd is stdio and the fifo that start opens. The Go runtime's
	# own epoll and eventfd (its netpoller) are tolerated: they die at exec
	# and cannot be reopened through /proc/PID/fd. A pipe is not: it may be
	# the runtime's sync channel.
	local id pid f bad=""
	id=$(new_id)
	set_args true
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	pid=$(container_pid "$id")
	run -0 init_fds "$pid"
	while read -r f; do
		case $f in
		"0 -> "* | "1 -> "* | "2 -> "*) ;;
		*exec.fifo*) ;;
		*"-> anon_inode:[eventpoll]" | *"-> anon_inode:[eventfd]") ;;
		*) bad+="$f; " ;;
		esac
	done <<<"$output"
	[ -z "$bad" ] || fail "the init holds more than stdio and the exec fifo: $bad"
}

@test "Go >= 1.25: the created init holds no fd under /sys/fs/cgroup (GOMAXPROCS)" {
	skip_runc '1.[2-9].*' "a go 1.25 module: the Go runtime keeps cpu.cfs_quota_us and cpu.cfs_period_us open in the created init"
	# Defence: the init sets GOMAXPROCS itself (or closes the Go runtime's
	# cgroup quota fds), so no cgroup file sits open where a process exec'd
	# into the created container could reopen it for writing.
	local id pid
	id=$(new_id)
	set_args true
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	pid=$(container_pid "$id")
	local f bad=""
	for f in /proc/"$pid"/fd/*; do
		case $(stat -L -f -c %T "$f" 2>/dev/null) in
		cgroupfs | cgroup2fs) bad+="${f##*/} -> $(readlink "$f"); " ;;
		esac
	done
	[ -z "$bad" ] || fail "cgroup fds in the init: $bad"
	# The same through the only way the container can look: /proc/1/fd
	# (busybox stat prints the magic: 27e0eb cgroup v1, 63677270 cgroup2).
	run husk exec "$id" sh -c 'for f in /proc/1/fd/*; do echo "$f $(stat -L -f -c %t "$f")"; done 2>/dev/null'
	[[ "$output" != *" 27e0eb"* ]] && [[ "$output" != *" 63677270"* ]] || fail "cgroup fds visible from inside: $output"
}

@test "CVE-2024-21626: the container process gets only stdio" {
	# Defence: close_range/O_CLOEXEC before exec: no runtime fd (cgroup dirs,
	# sockets, the exe handle, log pipes) reaches the workload.
	set_args "${LIST_FDS[@]}"
	run -0 husk run --bundle "$BUNDLE" "$(new_id)" 5<"$BUNDLE/config.json"
	only_fds 0 1 2
}

@test "CVE-2024-21626: an exec'd process gets only stdio" {
	# Defence: the same for exec, whose init joins a running container.
	start_sleeper
	run -0 husk exec "$CID" "${LIST_FDS[@]}" 5<"$BUNDLE/config.json"
	only_fds 0 1 2
}

@test "--preserve-fds passes exactly the fds asked for" {
	# Defence: only stdio and the preserved fds survive; fd 4, not asked
	# for, must not.
	set_args "${LIST_FDS[@]}"
	run -0 husk run --preserve-fds 1 --bundle "$BUNDLE" "$(new_id)" 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json"
	only_fds 0 1 2 3
	[[ "$output" == *"3 "*config.json* ]]
	start_sleeper
	run -0 husk exec --preserve-fds 1 "$CID" "${LIST_FDS[@]}" 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json"
	only_fds 0 1 2 3
}

@test "LISTEN_FDS passes exactly the listening fds" {
	# Defence: socket activation fds (LISTEN_FDS, for this very pid) survive
	# with LISTEN_FDS set in the container; nothing else does.
	set_args sh -c 'echo LISTEN_FDS=$LISTEN_FDS; exec ls -l /proc/self/fd/'
	local id
	id=$(new_id)
	run -0 sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' sh "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" "$id" 3<"$BUNDLE/config.json" 4<"$BUNDLE/config.json"
	grep -qx LISTEN_FDS=1 <<<"$output" || fail "LISTEN_FDS not passed: $output"
	only_fds 0 1 2 3
}

# escape_probe is a script that climbs up from its cwd and says whether it is
# still in the container (whose root holds /.husk-root-marker).
ESCAPE_PROBE='cd ../../../../../../../../.. && if [ -e .husk-root-marker ]; then echo inside; else echo ESCAPED; ls; fi'

@test "CVE-2024-21626: process.cwd /proc/self/fd/N cannot reach the host" {
	# Defence: no runtime fd is open when the init chdirs to process.cwd,
	# and the cwd is resolved in the container's root.
	touch "$BUNDLE/rootfs/.husk-root-marker"
	set_args sh -c "$ESCAPE_PROBE"
	local n
	for n in $(seq 3 15); do
		update_config ".process.cwd = \"/proc/self/fd/$n\""
		run husk run --bundle "$BUNDLE" "$(new_id)"
		if [ "$status" -eq 0 ]; then
			[[ "$output" == inside ]] || fail "cwd /proc/self/fd/$n: $output"
		fi
		[[ "$output" != *ESCAPED* ]] || fail "cwd /proc/self/fd/$n: $output"
	done
}

@test "CVE-2024-21626: exec --cwd /proc/self/fd/N cannot reach the host" {
	# Defence: the same for exec (the second attack of the advisory).
	touch "$BUNDLE/rootfs/.husk-root-marker"
	start_sleeper
	local n
	for n in $(seq 3 15); do
		run husk exec --cwd "/proc/self/fd/$n" "$CID" sh -c "$ESCAPE_PROBE"
		[[ "$output" != *ESCAPED* ]] || fail "exec --cwd /proc/self/fd/$n: $output"
	done
}

@test "CVE-2024-21626: argv[0] /proc/self/fd/N runs nothing of the runtime" {
	# Defence: at execve the init holds no fd a path through /proc/self/fd
	# could execute (the runtime's exe handle, a host directory).
	local n
	for n in $(seq 3 15); do
		set_args "/proc/self/fd/$n" --version
		if husk run --bundle "$BUNDLE" "$(new_id)" >"$TESTDIR/argv0.out" 2>&1; then
			fail "argv[0] /proc/self/fd/$n ran: $(cat "$TESTDIR/argv0.out")"
		fi
	done
}

@test "run does not inherit the caller's umask" {
	# Defence: the process umask is process.user.umask or 0022, never the
	# umask of whoever called the runtime.
	set_args sh -c umask
	run -0 sh -c 'umask 077; exec "$@"' sh "$HUSK" --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = 0022 ]
}

@test "exec does not inherit the caller's umask" {
	husk_only "runc's exec keeps the caller's umask when the config sets none; husk's gives 0022, as run does"
	start_sleeper
	run -0 sh -c 'umask 077; exec "$@"' sh "$HUSK" --root "$ROOT" exec "$CID" sh -c umask
	[ "$output" = 0022 ]
}
