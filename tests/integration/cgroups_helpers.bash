#!/bin/bash
# Helpers for the cgroup tests (cgroups_*.bats), on top of helpers.bash.
#
# The same tests run on this cgroup v1 "hybrid" host and on a pure cgroup v2
# kernel (tests/vm/run.sh): cg_v2 tells which. A container's cgroup is found
# the way an operator would find it: its init's /proc/<pid>/cgroup, joined to
# the hierarchy's mount point (every mount here has root "/").

# cg_v2 succeeds on a pure cgroup v2 host.
cg_v2() {
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]
}

# cg_dir CTRL [ID] prints the host directory of container ID's (default $CID)
# cgroup for controller CTRL; CTRL is ignored on cgroup v2.
cg_dir() {
	local ctrl=$1 id=${2:-$CID} pid rel
	pid=$(container_pid "$id") || return 1
	if cg_v2; then
		rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		[ -n "$rel" ] || { fail "no cgroup2 line in /proc/$pid/cgroup"; return 1; }
		echo "/sys/fs/cgroup$rel"
		return 0
	fi
	# The path is everything after the second colon: it may have colons itself.
	rel=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); p = $0; sub(/^[^:]*:[^:]*:/, "", p)
		for (i = 1; i <= n; i++) if (a[i] == c) print p }' "/proc/$pid/cgroup")
	[ -n "$rel" ] || { fail "no $ctrl line in /proc/$pid/cgroup"; return 1; }
	echo "/sys/fs/cgroup/${ctrl#name=}$rel"
}

# cg_get CTRL FILE prints FILE of $CID's cgroup as the host sees it.
cg_get() {
	local d
	d=$(cg_dir "$1") || return 1
	cat "$d/$2"
}

# cg_get_in CTRL FILE prints FILE of $CID's cgroup as the container sees it
# (its read-only /sys/fs/cgroup mount of the default config).
cg_get_in() {
	if cg_v2; then
		husk exec "$CID" cat "/sys/fs/cgroup/$2"
	else
		husk exec "$CID" cat "/sys/fs/cgroup/$1/$2"
	fi
}

# cg_check CTRL FILE WANT fails unless FILE reads WANT on the host and inside.
cg_check() {
	local got
	got=$(cg_get "$1" "$2") || return 1
	[ "$got" = "$3" ] || { fail "host: $1 $2 is '$got', want '$3'"; return 1; }
	got=$(cg_get_in "$1" "$2") || { fail "cannot read $2 inside the container"; return 1; }
	[ "$got" = "$3" ] || { fail "container: $1 $2 is '$got', want '$3'"; return 1; }
}

# cg_key FILE KEY prints the value of KEY in a flat-keyed cgroup file
# (memory.events, cpu.stat, memory.oom_control).
cg_key() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}

# shares_to_weight SHARES prints cgroup v2 cpu.weight for v1 cpu.shares with
# runc's current (1.3+) quadratic conversion: 2->1, 1024->100, 262144->10000.
shares_to_weight() {
	awk -v s="$1" 'BEGIN {
		if (s <= 2) { print 1; exit }
		if (s >= 262144) { print 10000; exit }
		l = log(s) / log(2)
		w = 10 ^ ((l * l + 125 * l) / 612.0 - 7.0 / 34.0)
		c = int(w); if (c < w) c++
		print c
	}'
}

# own_cgroup_v2_parent prints where runc's cgroupfs driver puts a relative
# cgroupsPath on cgroup v2: below the parent of this process's own cgroup
# (the own one usually has processes, so it cannot delegate controllers).
own_cgroup_v2_parent() {
	local own
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	dirname "$own"
}

# track_cgroup NAME records an extra cgroup directory name (a cgroupsPath
# that is not the container id) for teardown's leftover check.
track_cgroup() {
	echo "$1" >>"$TESTDIR/ids"
}

# cg_parent_dirs DIR... records parent cgroup directories a test made
# (nested cgroupsPath); cg_teardown removes them after the containers.
cg_parent_dirs() {
	local d
	for d in "$@"; do echo "$d" >>"$TESTDIR/cgparents"; done
}

# cg_teardown is teardown_husk plus the removal of recorded parent cgroups.
cg_teardown() {
	local parents="" rc=0
	[ -n "${TESTDIR:-}" ] && [ -e "$TESTDIR/cgparents" ] && parents=$(sort -r "$TESTDIR/cgparents")
	teardown_husk || rc=$?
	local d
	for d in $parents; do
		[ -d "$d" ] || continue
		rmdir "$d" 2>/dev/null || { echo "teardown: cannot remove cgroup $d" >&2; rc=1; }
	done
	return $rc
}

# run_refused FIELD: `run` of the bundle (args `true`) must fail, and husk's error must name
# FIELD (runc names the cgroup file or the controller, in its own words).
run_refused() {
	set_args true
	run ! husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"$1"* ]] || fail "run did not fail naming $1: $output"
}
