#!/bin/bash
# soak.sh [N]: N container lifecycles (default 10000) with exec, kill, state and list mixed in,
# then checks that the host is as it was: mount table, cgroup tree, this script's open fds
# (it is the long-lived caller), the process table and --root. Prints figures and exits 1 on
# any leak or failed step.
#
#   tests/soak/soak.sh              # 10000 lifecycles (about 25 min on 2 cores)
#   tests/soak/soak.sh 200          # the short version tests/integration/soak.bats runs
#   HUSK=/usr/bin/runc tests/soak/soak.sh 500
#
# Each lifecycle i uses a fresh id and does, by i mod 4:
#   0: create, state, start, exec true, kill KILL, wait for stopped, delete
#   1: create, start, exec (a process that outlives the exec call), delete --force
#   2: run (foreground, the container exits by itself), then state must fail
#   3: run -d, kill TERM, wait for stopped, delete
# and every 10th also runs list. The script runs under tests/cmd/subreaper (built on the fly)
# so that killed containers are reaped at once (PID 1 here reaps late).
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
N=${1:-10000}
export HUSK=${HUSK:-$repo/husk}

if [ -z "${SOAK_UNDER_SUBREAPER:-}" ] && [ -f "$repo/tests/cmd/subreaper/main.go" ] && command -v go >/dev/null; then
	sr=$(mktemp /tmp/husktest-soak-subreaper-XXXXXX)
	if (cd "$repo" && go build -o "$sr" ./tests/cmd/subreaper); then
		export SOAK_UNDER_SUBREAPER=1
		"$sr" -grace 2s "$0" "$@"
		rc=$?
		rm -f "$sr"
		exit $rc
	fi
	rm -f "$sr"
fi

bats_require_minimum_version() { :; }
# shellcheck source=../integration/helpers.bash
. "$repo/tests/integration/helpers.bash"

T=$(mktemp -d /tmp/husktest-soak-XXXXXX)
chmod 755 "$T"
ROOT=$T/root
BUNDLE=$T/bundle
PREFIX="husktest-soak-$$"
mkdir -p "$ROOT" "$BUNDLE"
build_rootfs "$BUNDLE/rootfs"
write_default_config "$BUNDLE/config.json"
# PID 1 of a pid namespace ignores SIGTERM without a handler: the workload has one.
update_config '.process.args = ["sh", "-c", "trap \"exit 143\" TERM; sleep 1000 & wait"]' "$BUNDLE"
# The run bundle shares the rootfs by its absolute path (runc refuses a root.path through a
# symlink).
mkdir -p "$T/runbundle"
jq --arg r "$BUNDLE/rootfs" '.process.args = ["true"] | .root.path = $r' "$BUNDLE/config.json" >"$T/runbundle/config.json"

h() {
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" "$@"
}

# Snapshots of what must not change. Other tests may run on this host at the same time, so
# host-wide figures are reported, and only what is ours (named after $PREFIX, under $T)
# decides a leak.
mount_count() { wc -l </proc/self/mountinfo; }
our_mounts() { awk -v t="$T" -v p="$PREFIX" 'index($5, t) == 1 || index($0, p) {print $5}' /proc/self/mountinfo; }
our_cgroups() { find /sys/fs/cgroup -maxdepth 5 -type d -name "$PREFIX-*" 2>/dev/null; }
cgroup_count() { find /sys/fs/cgroup -maxdepth 5 -type d 2>/dev/null | wc -l; }
# fd_list FILE: this script's open fds into FILE. ls writes to a file, not into $(...) or a
# pipeline: while bash sets up a pipeline it holds both ends of each pipe itself, and an ls
# running at that moment lists them as fds of this shell (a 10,000-run soak once "leaked" a
# pipe on fds 3 and 4 that way).
fd_list() {
	ls -l /proc/$$/fd >"$1.raw"
	awk 'NR > 1 {print $9, $10, $11}' "$1.raw" | sort >"$1"
	rm -f "$1.raw"
}
our_processes() {
	local p
	for p in $(grep -lsF "$PREFIX" /proc/[0-9]*/cgroup | cut -d/ -f3); do
		[ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null)" = Z ] && continue
		echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done
}
# Children of this script and of its subreaper: zombies nobody reaped, inits left over.
our_children() {
	local p self=$BASHPID
	for p in /proc/[0-9]*; do
		case $(awk '/^PPid:/ {print $2}' "$p/status" 2>/dev/null) in
		"$$" | "$PPID") echo "${p#/proc/} $(awk '/^State:/ {print $2}' "$p/status") $(tr '\0' ' ' <"$p/cmdline")" ;;
		esac
	done | grep -v -e "^$self " -e "^$$ "
}
proc_count() { ls -d /proc/[0-9]* | wc -l; }

wait_status() {
	local _
	for _ in $(seq 400); do
		[ "$(h state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.025
	done
	return 1
}

# wait_term_handler ID: waits until the container's init catches SIGTERM (SigCgt bit 15): a
# TERM sent before sh set its trap would be ignored by a PID 1.
wait_term_handler() {
	local pid _ cgt
	pid=$(h state "$1" | jq -r .pid)
	for _ in $(seq 400); do
		cgt=$(awk '/^SigCgt:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$cgt" ] && [ $((0x$cgt & 0x4000)) -ne 0 ] && return 0
		sleep 0.025
	done
	return 1
}

failures=0
fail_step() {
	failures=$((failures + 1))
	echo "soak: lifecycle $i ($id): $*" >&2
	[ "$failures" -lt 20 ] || {
		echo "soak: too many failures, stopping" >&2
		finish
	}
}

# step ARGS: husk ARGS, stdio never a pipe (a container's init would hold it).
step() {
	h "$@" </dev/null >"$T/out" 2>&1 || {
		fail_step "husk $*: $(head -c 300 "$T/out")"
		return 1
	}
}

lifecycle() {
	case $((i % 4)) in
	0)
		step create --bundle "$BUNDLE" "$id" && step state "$id" && step start "$id" &&
			step exec "$id" true && step kill "$id" KILL &&
			{ wait_status "$id" stopped || fail_step "not stopped after kill"; } &&
			step delete "$id"
		;;
	1)
		step create --bundle "$BUNDLE" "$id" && step start "$id" &&
			step exec -d "$id" sleep 1000 && step delete --force "$id"
		;;
	2)
		step run --bundle "$T/runbundle" "$id" &&
			{ ! h state "$id" >/dev/null 2>&1 || fail_step "state after run: the container is still there"; }
		;;
	3)
		step run -d --bundle "$BUNDLE" "$id" &&
			{ wait_term_handler "$id" || fail_step "the workload never set its TERM trap"; } &&
			step kill "$id" TERM &&
			{ wait_status "$id" stopped || fail_step "not stopped after TERM"; } &&
			step delete "$id"
		;;
	esac
	if [ $((i % 10)) -eq 0 ]; then
		step list
	fi
	# Whatever went wrong above, the next lifecycle starts clean.
	if [ -e "$ROOT/$id" ]; then
		fail_step "state dir left"
		h delete --force "$id" >/dev/null 2>&1
	fi
}

start_mounts=$(mount_count)
start_cgroups=$(cgroup_count)
start_procs=$(proc_count)
fd_list "$T/fds.start"
echo "soak: $N lifecycles of $HUSK ($("$HUSK" --version 2>/dev/null | head -1)), root $ROOT"
echo "soak: start: $start_mounts mounts, $start_cgroups cgroups, $start_procs processes, $(wc -l <"$T/fds.start") fds"

finish() {
	local elapsed=$((SECONDS - start_time)) problems=0
	local leftovers
	fd_list "$T/fds.end"
	echo "soak: $i lifecycles in ${elapsed}s, $(awk -v s="$elapsed" -v n="$i" 'BEGIN {printf "%.1f", (n ? s * 1000 / n : 0)}') ms each, $failures failed steps"
	echo "soak: end: $(mount_count) mounts (start $start_mounts), $(cgroup_count) cgroups (start $start_cgroups), $(proc_count) processes (start $start_procs), $(wc -l <"$T/fds.end") fds (start $(wc -l <"$T/fds.start"))"
	leftovers=$(our_mounts)
	[ -z "$leftovers" ] || { echo "soak: LEAK mounts: $leftovers"; problems=1; }
	leftovers=$(our_cgroups)
	[ -z "$leftovers" ] || { echo "soak: LEAK cgroups: $(echo "$leftovers" | head)"; problems=1; }
	leftovers=$(our_processes)
	[ -z "$leftovers" ] || { echo "soak: LEAK processes: $(echo "$leftovers" | head)"; problems=1; }
	leftovers=$(our_children)
	[ -z "$leftovers" ] || { echo "soak: LEAK children/zombies: $(echo "$leftovers" | head)"; problems=1; }
	# An fd open at the end that was not at the start is a leak (one that closed is not).
	leftovers=$(comm -13 "$T/fds.start" "$T/fds.end")
	[ -z "$leftovers" ] || { echo "soak: LEAK fds: $leftovers"; problems=1; }
	leftovers=$(ls -A "$ROOT")
	[ -z "$leftovers" ] || { echo "soak: LEAK state under --root: $(echo "$leftovers" | head)"; problems=1; }
	# Clean up whatever leaked, then the temp dir (never across a mount).
	local c
	for c in $(ls -A "$ROOT"); do h delete --force "$c" >/dev/null 2>&1; done
	our_mounts | sort -r | while read -r c; do umount -l "$c"; done
	our_cgroups | sort -r | while read -r c; do rmdir "$c" 2>/dev/null; done
	[ -z "$(our_mounts)" ] && rm -rf --one-file-system "$T"
	if [ "$problems" -ne 0 ] || [ "$failures" -ne 0 ]; then
		echo "soak: FAILED"
		exit 1
	fi
	echo "soak: ok, nothing leaked"
	exit 0
}
trap 'echo "soak: interrupted"; finish' INT TERM

start_time=$SECONDS
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	id="$PREFIX-$i"
	lifecycle
	if [ $((i % 500)) -eq 0 ]; then
		echo "soak: $i/$N, $((SECONDS - start_time))s, mounts $(mount_count), fds $(ls /proc/$$/fd | wc -l)"
	fi
done
finish
