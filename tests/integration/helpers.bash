#!/bin/bash
# Shared helpers for the husk integration suite (runc style).
#
# The runtime under test comes from $HUSK, so the same suite runs husk, runc or
# crun. Every test gets its own temp dir holding a busybox bundle and its own
# --root, and teardown checks that nothing (state, process, mount) is left.

bats_require_minimum_version 1.5.0

INTEGRATION_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEGRATION_ROOT/../.." && pwd)
HUSK=${HUSK:-$REPO_ROOT/husk}
# Extra global options, e.g. HUSK_GLOBAL_OPTS=--systemd-cgroup.
HUSK_GLOBAL_OPTS=${HUSK_GLOBAL_OPTS:-}
# The basename tells which runtime we run; used only where runtimes
# intentionally differ (version text, spec defaults).
HUSK_NAME=$(basename "$HUSK")

BUSYBOX=${BUSYBOX:-/bin/busybox}

# husk runs the runtime under test with this test's state root.
husk() {
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" "$@"
}

# husk_bg runs a runtime command whose container keeps running afterwards
# (create, run -d). The container inherits stdio, so it must not get bats'
# pipes (bats would wait for them to close): stdio goes to $TESTDIR/<id>.log
# and the runtime's own output is printed back for `run` to capture.
# Usage: run husk_bg create --bundle "$BUNDLE" ID
husk_bg() {
	local id=${*: -1}
	local log="$TESTDIR/$id.log"
	local rc=0
	husk "$@" </dev/null >"$log" 2>&1 || rc=$?
	cat "$log"
	return $rc
}

# container_log prints what container ID wrote to stdout/stderr (see husk_bg).
container_log() {
	cat "$TESTDIR/$1.log"
}

# new_id prints a fresh container id, unique on this host (cgroups are named
# after it), and records it for teardown.
new_id() {
	local id="husktest-$$-${BATS_TEST_NUMBER}-$RANDOM$RANDOM"
	echo "$id" >>"$TESTDIR/ids"
	echo "$id"
}

# requires checks prerequisites and skips the test when one is missing.
requires() {
	local f
	for f in "$@"; do
		case $f in
		root)
			[ "$(id -u)" -eq 0 ] || skip "test requires root"
			;;
		timens)
			[ -e /proc/self/ns/time ] || skip "test requires time namespaces"
			;;
		cgroupns)
			[ -e /proc/self/ns/cgroup ] || skip "test requires cgroup namespaces"
			;;
		userns)
			[ -e /proc/self/ns/user ] || skip "test requires user namespaces"
			;;
		mount_setattr)
			# recursive mount attributes (rro, rnosuid, ...) need Linux 5.12
			local major minor
			IFS=. read -r major minor _ < <(uname -r)
			if [ "$major" -lt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -lt 12 ]; }; then
				skip "test requires mount_setattr (Linux 5.12)"
			fi
			;;
		unshare)
			command -v unshare >/dev/null || skip "test requires unshare(1)"
			;;
		husk)
			# Prefer husk_only WHY: its skip message says why.
			[ "$HUSK_NAME" = husk ] || skip "test is specific to husk"
			;;
		apparmor)
			host_apparmor || skip "test requires AppArmor enabled on the host"
			command -v apparmor_parser >/dev/null || skip "test requires apparmor_parser (apt-get install apparmor)"
			;;
		no_apparmor)
			! host_apparmor || skip "test is for a host without AppArmor (this one has it)"
			;;
		selinux)
			host_selinux || skip "test requires SELinux enabled on the host (selinuxfs and a policy)"
			;;
		no_selinux)
			! host_selinux || skip "test is for a host without SELinux (this one has it)"
			;;
		systemd)
			host_systemd || skip "test requires systemd as PID 1 (tests/vm/run.sh with VM_FLAVOUR=systemd)"
			;;
		*)
			fail "requires: unknown feature $f"
			;;
		esac
	done
}

# husk_only WHY skips the test for every runtime but husk. WHY says what husk does there on
# purpose that runc does not (README.md, "Differences from runc"); it is the skip message.
husk_only() {
	[ "$HUSK_NAME" = husk ] || skip "husk only: $*"
}

# skip_runc VERSIONS WHY skips the test when the runtime under test is runc and its version
# matches the glob VERSIONS (1.5.*, 1.1.*, *): WHY names what that runc does wrong or lacks
# (a bug, a hang, a missing feature) and is the skip message.
skip_runc() {
	local versions=$1
	shift
	[ "$HUSK_NAME" = runc ] || return 0
	# shellcheck disable=SC2053 # VERSIONS is a glob
	[[ "$(runtime_version)" == $versions ]] || return 0
	skip "runc $(runtime_version): $*"
}

# runtime_version prints the version the runtime under test reports ("1.5.3" for runc 1.5.3,
# "1.1.5+ds1" for Debian's runc 1.1.5).
runtime_version() {
	"$HUSK" --version 2>/dev/null | awk 'NR == 1 { print $3 }'
}

# host_apparmor succeeds when the host enforces AppArmor (runc's test).
host_apparmor() {
	[ -d /sys/kernel/security/apparmor ] &&
		[ "$(head -c 1 /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]
}

# host_selinux succeeds when selinuxfs is mounted and a policy is loaded.
host_selinux() {
	[ -e /sys/fs/selinux/enforce ] &&
		[ "$(tr -d '\0\n' </proc/self/attr/current 2>/dev/null)" != kernel ]
}

# host_systemd succeeds when systemd is PID 1 (sd_booted's test, and the process itself).
host_systemd() {
	[ -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]
}

# fail prints a message and fails the test.
fail() {
	echo "$@" >&2
	return 1
}

# build_rootfs makes a busybox root filesystem in $1.
build_rootfs() {
	local dir=$1 p
	mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,var,run,mnt}
	mkdir -m 1777 "$dir/tmp"
	cp "$BUSYBOX" "$dir/bin/busybox"
	while read -r p; do
		[ -e "$dir/$p" ] || [ -L "$dir/$p" ] || ln -s /bin/busybox "$dir/$p"
	done < <("$BUSYBOX" --list-full)
	cat >"$dir/etc/passwd" <<-EOF
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		user:x:1000:1000:user:/tmp:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$dir/etc/group" <<-EOF
		root:x:0:
		daemon:x:1:
		tty:x:5:
		user:x:1000:
		nogroup:x:65534:
	EOF
}

# rootfs_cache builds the busybox rootfs once per bats run and prints its path.
rootfs_cache() {
	local base=${BATS_RUN_TMPDIR:-/tmp}
	local cache="$base/husktest-rootfs"
	(
		flock 9
		if [ ! -e "$cache/.done" ]; then
			rm -rf "$cache"
			build_rootfs "$cache" && touch "$cache/.done"
		fi
	) 9>"$base/husktest-rootfs.lock"
	echo "$cache"
}

# write_default_config writes the default config.json to $1: what runc 1.5's `runc spec`
# produces (no inheritable or ambient capabilities: runc 1.1's had an ambient set, which runc
# 1.5 warns on stderr that it cannot raise), except that there is no terminal (tests capture
# stdio) and the hostname is husk.
write_default_config() {
	jq -n '{
	ociVersion: "1.3.0",
	process: {
		terminal: false,
		user: {uid: 0, gid: 0},
		args: ["sh"],
		env: [
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"TERM=xterm"
		],
		cwd: "/",
		capabilities: {
			bounding: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			effective: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			permitted: ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
		noNewPrivileges: true
	},
	root: {path: "rootfs", readonly: true},
	hostname: "husk",
	mounts: [
		{destination: "/proc", type: "proc", source: "proc"},
		{destination: "/dev", type: "tmpfs", source: "tmpfs",
		 options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{destination: "/dev/pts", type: "devpts", source: "devpts",
		 options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
		{destination: "/dev/shm", type: "tmpfs", source: "shm",
		 options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
		 options: ["nosuid", "noexec", "nodev"]},
		{destination: "/sys", type: "sysfs", source: "sysfs",
		 options: ["nosuid", "noexec", "nodev", "ro"]},
		{destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
		 options: ["nosuid", "noexec", "nodev", "relatime", "ro"]}
	],
	linux: {
		resources: {devices: [{allow: false, access: "rwm"}]},
		namespaces: [
			{type: "pid"}, {type: "network"}, {type: "ipc"},
			{type: "uts"}, {type: "mount"}
		],
		maskedPaths: [
			"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			"/proc/sched_debug", "/sys/firmware", "/proc/scsi"
		],
		readonlyPaths: [
			"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
		]
	}
}' >"$1"
}

# update_config applies a jq expression to the bundle's config.json.
# Usage: update_config '.process.args = ["true"]' [bundle]
update_config() {
	local bundle=${2:-$BUNDLE}
	jq "$1" "$bundle/config.json" >"$bundle/config.json.new" &&
		mv "$bundle/config.json.new" "$bundle/config.json"
}

# add_mount appends a mount to config.json: add_mount SRC DEST TYPE OPT...
add_mount() {
	local src=$1 dst=$2 type=$3
	shift 3
	local opts
	opts=$(jq -cn '$ARGS.positional' --args -- "$@")
	update_config ".mounts += [{source: \"$src\", destination: \"$dst\", type: \"$type\", options: $opts}]"
}

# set_args sets process.args to the given words.
set_args() {
	local args
	args=$(jq -cn '$ARGS.positional' --args -- "$@")
	update_config ".process.args = $args"
}

# make_bundle makes a busybox bundle in $1 (rootfs + default config.json).
make_bundle() {
	local dir=$1
	mkdir -p "$dir"
	cp -a "$(rootfs_cache)" "$dir/rootfs"
	rm -f "$dir/rootfs/.done"
	write_default_config "$dir/config.json"
}

# setup_husk gives the test a temp dir, a bundle and a state root.
setup_husk() {
	TESTDIR=$(mktemp -d /tmp/husktest-XXXXXX)
	# Searchable by everyone: user-namespaced containers run as unmapped host ids.
	chmod 755 "$TESTDIR"
	BUNDLE="$TESTDIR/bundle"
	ROOT="$TESTDIR/root"
	mkdir -p "$ROOT"
	: >"$TESTDIR/ids"
	: >"$TESTDIR/bgpids"
	make_bundle "$BUNDLE"
	cd "$BUNDLE" || return
}

# track_pid records a host process the test started, for teardown to kill.
track_pid() {
	echo "$1" >>"$TESTDIR/bgpids"
}

# cleanup_mount records a host mount the test made itself, for teardown to
# unmount (deepest first) before it looks for leftovers.
cleanup_mount() {
	echo "$1" >>"$TESTDIR/umounts"
}

# leftover_mounts prints mounts under $TESTDIR seen by the host.
leftover_mounts() {
	awk -v d="$TESTDIR" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# mounts_of ID prints the host's mounts that belong to this test: mount points under $TESTDIR,
# and mounts whose mountinfo line names ID (its source, root or mount point). Tests compare
# these, never the whole mount table, which other tests on the host change at any time.
mounts_of() {
	awk -v d="$TESTDIR" -v id="$1" '$5 == d || index($5, d "/") == 1 || (id != "" && index($0, id)) { print $5 }' \
		/proc/self/mountinfo
}

# leftover_cgroups prints v1/v2 cgroup directories named after this test's ids.
leftover_cgroups() {
	local id
	while read -r id; do
		[ -n "$id" ] || continue
		find /sys/fs/cgroup/ -maxdepth 4 -type d -name "$id" 2>/dev/null |
			if [ -n "${HUSK_IN_PRIVATE_NS:-}" ]; then
				# run.sh's stand-in tmpfs over unified is not a cgroup.
				grep -v '^/sys/fs/cgroup/unified/'
			else
				cat
			fi
	done <"$TESTDIR/ids"
	return 0
}

# remove_cgroups removes the cgroups named by the test's ids, deepest first: each thawed and
# what is in it killed, until none is left (up to ~10 s). A process a runtime was still placing
# in its cgroups when the test ended (a create killed half way) may be in any of them, and it
# leaves them only once it is gone: until then rmdir says EBUSY.
remove_cgroups() {
	local c p _
	for _ in $(seq 100); do
		while read -r c; do
			[ -d "$c" ] || continue
			echo 0 2>/dev/null >"$c/cgroup.freeze" || true
			echo THAWED 2>/dev/null >"$c/freezer.state" || true
			for p in $(cat "$c/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
			rmdir "$c" 2>/dev/null || true
		done < <(leftover_cgroups | sort -r)
		[ -z "$(leftover_cgroups)" ] && return 0
		sleep 0.1
	done
	return 1
}

# teardown_husk kills and deletes every container under the test's root,
# removes the temp dir, and fails the test if a state directory, mount,
# process or cgroup was left behind.
teardown_husk() {
	[ -n "${TESTDIR:-}" ] && [ -d "$TESTDIR" ] || return 0
	cd / || true
	local id pid problems=""
	while read -r pid; do
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	done <"$TESTDIR/bgpids"
	# Line by line: a runtime that wrongly accepted an id with a space
	# must still get it cleaned up.
	while read -r id; do
		[ -n "$id" ] || continue
		husk kill "$id" KILL >/dev/null 2>&1
		husk delete -f "$id" >/dev/null 2>&1
	done < <(husk list -q 2>/dev/null; cat "$TESTDIR/ids")
	if [ -e "$TESTDIR/umounts" ]; then
		sort -r "$TESTDIR/umounts" | while read -r m; do umount -l "$m" 2>/dev/null; done
	fi
	# Directories left under --root mean a state that delete did not remove. (.seccomp-cache
	# is husk's cache of compiled filters: runtime data, not a container.)
	if [ -n "$(state_left)" ]; then
		problems+="state left in $ROOT: $(state_left)"$'\n'
	fi
	local mounts cgroups
	mounts=$(leftover_mounts)
	if [ -n "$mounts" ]; then
		problems+="mounts left: $mounts"$'\n'
		# Unmount deepest first so the temp dir can go.
		echo "$mounts" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	fi
	if [ -n "${HUSK_IN_PRIVATE_NS:-}" ]; then
		# Empty run.sh's stand-in tmpfs over unified (crun writes files there).
		while read -r id; do
			[ -n "$id" ] && rm -rf "/sys/fs/cgroup/unified/$id"
		done <"$TESTDIR/ids"
	fi
	local procs
	procs=$(processes_in_bundle)
	if [ -n "$procs" ]; then
		problems+="processes left: $procs"$'\n'
		# shellcheck disable=SC2086
		kill -9 $procs 2>/dev/null
		for pid in $procs; do wait_gone "$pid" 2>/dev/null; done
	fi
	cgroups=$(leftover_cgroups)
	if [ -n "$cgroups" ]; then
		problems+="cgroups left: $cgroups"$'\n'
		remove_cgroups || problems+="cgroups that could not be removed: $(leftover_cgroups)"$'\n'
	fi
	# Never let rm cross into something still mounted under the temp dir
	# (a leaked bind mount of a host directory).
	if [ -z "$(leftover_mounts)" ]; then
		rm -rf --one-file-system "$TESTDIR"
	else
		problems+="temp dir $TESTDIR kept: mounts remain: $(leftover_mounts)"$'\n'
	fi
	if [ -n "$problems" ]; then
		echo "teardown: $problems" >&2
		return 1
	fi
}

setup() {
	requires root
	setup_husk
}

teardown() {
	teardown_husk
}

# wait_for_status waits until container $1 has status $2 (up to ~10s).
wait_for_status() {
	local _
	for _ in $(seq 200); do
		[ "$(container_status "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	fail "container $1 did not reach status $2 (now: $(container_status "$1"))"
}

# container_status prints the status field of `state`.
container_status() {
	husk state "$1" 2>/dev/null | jq -r .status
}

# container_pid prints the host pid of the container's init.
container_pid() {
	husk state "$1" | jq -r .pid
}

# wait_for_file waits until file $1 exists and is not empty (up to ~10s).
wait_for_file() {
	wait_for_test -s "$1"
}

# wait_for_test OP PATH waits until `test OP PATH` holds (up to ~10s), e.g. -S for a socket.
wait_for_test() {
	local _
	for _ in $(seq 200); do
		[ "$1" "$2" ] && return 0
		sleep 0.05
	done
	fail "timed out waiting for $2 ($1)"
}

# wait_gone waits until host process $1 no longer exists (up to ~10s).
wait_gone() {
	local _
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		# A zombie counts as gone: its parent reaps it late here.
		[ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" = Z ] && return 0
		sleep 0.05
	done
	fail "process $1 still exists"
}

# start_notify_listener listens on $TESTDIR/notify.sock as systemd does on NOTIFY_SOCKET's host
# end: a unixgram socket that logs every datagram to $TESTDIR/notify.log as one line (newlines
# inside shown as ';').
start_notify_listener() {
	: >"$TESTDIR/notify.log"
	python3 -c '
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path + ".tmp")
os.rename(path + ".tmp", path)
with open(log, "a") as f:
    while True:
        msg = s.recv(65536).decode(errors="replace")
        f.write(msg.replace("\n", ";") + "\n")
        f.flush()
' "$TESTDIR/notify.sock" "$TESTDIR/notify.log" </dev/null >/dev/null 2>"$TESTDIR/notify.err" 3>&- &
	track_pid $!
	local _
	for _ in $(seq 200); do
		[ -S "$TESTDIR/notify.sock" ] && return 0
		sleep 0.05
	done
	fail "notify listener did not start: $(cat "$TESTDIR/notify.err")"
}

# send_notify SOCKET MESSAGE sends MESSAGE as one datagram to the unixgram socket SOCKET, as
# sd_notify does.
send_notify() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), sys.argv[1])' "$1" "$2"
}

# run_sh runs a container whose process is `sh -c SCRIPT` in the foreground;
# for `run` to capture its output and exit status.
# Usage: run -0 run_sh 'cat /proc/self/status'
run_sh() {
	set_args sh -c "$1"
	husk run --bundle "$BUNDLE" "$(new_id)"
}

# start_sleeper creates and starts a container running `sleep` (or the given
# args) and prints its id into $CID.
start_sleeper() {
	if [ $# -gt 0 ]; then set_args "$@"; else set_args sleep 1000; fi
	CID=$(new_id)
	run -0 husk_bg run -d --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
}

# processes_in_bundle prints host pids of processes that sit in a cgroup named
# after one of this test's container ids (a container process that outlived
# its container).
processes_in_bundle() {
	[ -s "$TESTDIR/ids" ] || return 0
	local p
	for p in $(grep -lsF -f "$TESTDIR/ids" /proc/[0-9]*/cgroup | cut -d/ -f3); do
		# A zombie is dead already; PID 1 here reaps late.
		[ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = Z ] && continue
		echo "$p"
	done
	return 0
}

# state_left lists what is under --root besides husk's seccomp filter cache.
state_left() {
	ls -A "$ROOT" 2>/dev/null | grep -vx '.seccomp-cache'
}

# assert_nothing_left fails when a container, state directory, process or mount
# of this test still exists (after a failed create, a delete, ...).
assert_nothing_left() {
	local ids procs mounts
	ids=$(husk list -q 2>/dev/null)
	[ -z "$ids" ] || fail "containers left: $ids"
	[ -z "$(state_left)" ] || fail "state left in $ROOT: $(state_left)"
	procs=$(processes_in_bundle)
	[ -z "$procs" ] || fail "processes left: $procs"
	mounts=$(leftover_mounts)
	[ -z "$mounts" ] || fail "mounts left: $mounts"
	local cgroups
	cgroups=$(leftover_cgroups)
	[ -z "$cgroups" ] || fail "cgroups left: $cgroups"
}
