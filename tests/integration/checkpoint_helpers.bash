#!/bin/bash
# Helpers for the checkpoint/restore tests (checkpoint.bats, systemd_checkpoint.bats), on top of
# helpers.bash: whether criu works here, a counter container with pipes as stdio (criu cannot
# dump a process holding a file of the host, like bats' log files; restore hands new pipes
# over), and checkpoint/restore calls that check what runc leaves.

# Scripts for the container are single-quoted on purpose.
# shellcheck disable=SC2016

# detect_criu sets CRIU_STATE (for setup_file): missing, works (`criu check` passes) or broken.
detect_criu() {
	if ! command -v criu >/dev/null; then
		export CRIU_STATE=missing
	elif criu check >/dev/null 2>&1; then
		export CRIU_STATE=works
	else
		export CRIU_STATE=broken
	fi
}

# runc_1_1: the runtime is runc 1.1 (Debian 12's), which gives criu no cgroup root on cgroup
# v2 (criu then restores into the cgroup the images name, whatever the new id), restores
# the root read-write whatever root.readonly says (runc 1.5.3 too), and knows no time
# namespaces (its exec into a restored container stays out of the one criu made).
runc_1_1() {
	[[ "$("$HUSK" --version 2>/dev/null)" == "runc version 1.1."* ]]
}

# requires_criu skips a test unless criu works here.
requires_criu() {
	[ "$CRIU_STATE" = works ] || skip "test requires a criu that works on this kernel (criu: $CRIU_STATE)"
}

# make_pipe R W: a new pipe; its read end's fd goes to variable R, its write end's to W.
make_pipe() {
	local p r w
	exec {p}<> <(:)
	exec {r}</proc/self/fd/"$p" {w}>/proc/self/fd/"$p"
	exec {p}>&-
	printf -v "$1" %s "$r"
	printf -v "$2" %s "$w"
}

# setup_pipes: pipes for a container's stdin, stdout and stderr (in_r, out_w, err_w are the
# container's ends; the test writes in_w and reads out_r and err_r).
setup_pipes() {
	make_pipe in_r in_w
	make_pipe out_r out_w
	make_pipe err_r err_w
}

# piped CMD...: runs the runtime with the container's pipes as its stdio (run -d and restore -d
# hand them to the container); on failure shows what the runtime wrote to the stderr pipe.
piped() {
	local rc=0 line
	husk "$@" <&"$in_r" >&"$out_w" 2>&"$err_w" || rc=$?
	[ "$rc" -eq 0 ] && return 0
	echo "$HUSK_NAME $* failed ($rc):"
	while read -r -t 1 -u "$err_r" line; do echo "$line"; done
	return 1
}

# A counter: "N PID" lines, N counting up, PID the pid (in the container) of a sleep it started.
COUNTER='sleep 100000 & i=0; while :; do echo "$i $!"; i=$((i+1)); sleep 0.2; done'

# next_count reads the counter's next line into COUNT and SPID, and fails unless COUNT follows
# LAST (when set); LAST becomes COUNT.
next_count() {
	local line
	read -r -t 60 -u "$out_r" line || fail "no line from the counter within 60 s"
	COUNT=${line%% *}
	SPID=${line##* }
	if [ -n "${LAST:-}" ] && [ "$COUNT" != $((LAST + 1)) ]; then
		fail "the counter went from $LAST to $COUNT"
	fi
	LAST=$COUNT
}

# drain_counter reads what a stopped counter left in the pipe.
drain_counter() {
	while read -r -t 0 -u "$out_r"; do next_count; done
}

# run_counter ID: runs the counter with pipes as stdio and reads its first lines.
run_counter() {
	set_args sh -c "$COUNTER"
	setup_pipes
	piped run -d --bundle "$BUNDLE" "$1"
	LAST=
	next_count
	[ "$COUNT" = 0 ] || fail "the counter started at $COUNT"
	next_count
	next_count
}

# checkpoint ID [FLAGS...]: checkpoints into $TESTDIR/img (work files in $TESTDIR/work) and
# checks that the container is gone, as runc leaves it (its processes stopped, its state and
# cgroup removed).
checkpoint() {
	local id=$1 pid
	shift
	pid=$(container_pid "$id")
	run husk checkpoint --work-path "$TESTDIR/work" --image-path "$TESTDIR/img" "$@" "$id"
	[ "$status" -eq 0 ] || fail "checkpoint failed ($status): $output"
	run husk state "$id"
	[ "$status" -ne 0 ] || fail "the container still exists after checkpoint: $output"
	wait_gone "$pid"
	[ -z "$(leftover_cgroups)" ] || fail "cgroups left after checkpoint: $(leftover_cgroups)"
	[ -s "$TESTDIR/img/inventory.img" ] || fail "no images in $TESTDIR/img"
}

# restore ID [FLAGS...]: restores from $TESTDIR/img with the pipes as stdio, detached.
restore() {
	local id=$1
	shift
	grep -qxF "$id" "$TESTDIR/ids" || echo "$id" >>"$TESTDIR/ids"
	piped restore -d --work-path "$TESTDIR/rwork" --image-path "$TESTDIR/img" "$@" "$id" ||
		fail "criu's errors: $(grep -h Error "$TESTDIR/rwork/restore.log" 2>/dev/null)"
	[ "$(container_status "$id")" = running ] || fail "restored container $id is $(container_status "$id")"
}

# wait_for_socket PATH: waits until a socket listens at PATH (up to ~20 s).
wait_for_socket() {
	local _
	for _ in $(seq 400); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	fail "nothing listens at $1"
}

# make_netns FILE: a new network namespace kept at FILE (unmounted by teardown), lo up.
make_netns() {
	touch "$1"
	unshare --net="$1" true
	cleanup_mount "$1"
	nsenter --net="$1" ip link set lo up
}

# cgroup_of PID: the cgroup2 path of a process.
cgroup_of() {
	sed -n 's/^0:://p' "/proc/$1/cgroup"
}

