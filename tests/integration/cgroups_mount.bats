#!/usr/bin/env bats
# A config.json mount of type cgroup on a pure cgroup v2 host gives the container its cgroup2
# view, whatever other cgroup2 mounts the host has (another engine's, one an operator made):
# the runtime tells the layout from /sys/fs/cgroup itself, as runc does (statfs), not from how
# many cgroup2 mounts mountinfo lists. Runs here (cgroup v1 "hybrid": the pure v2 layout is made
# in a private mount namespace) and in the VM (pure v2: `make vm-test`).

load helpers
load cgroups_helpers

setup() {
	requires root unshare
	if cg_v2; then
		CG2_SRC=/sys/fs/cgroup
	elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		CG2_SRC=/sys/fs/cgroup/unified
	else
		skip "test requires a cgroup2 hierarchy on the host"
	fi
	setup_husk
}

teardown() {
	# The test's containers live in the private namespace's layout (their cgroup paths are
	# its); delete them there, then the usual checks.
	if [ -n "${TESTDIR:-}" ] && [ -s "$TESTDIR/ids" ]; then
		local id
		while read -r id; do
			[ -n "$id" ] && in_v2_ns_runtime delete -f "$id" >/dev/null 2>&1
		done <"$TESTDIR/ids"
	fi
	teardown_husk
}

# in_v2_ns CMD... runs CMD in a private mount namespace laid out as a pure cgroup v2 host that
# has a second cgroup2 mount: the cgroup2 hierarchy at /sys/fs/cgroup (on a hybrid host the
# namespace's copy of the v1 tmpfs there is detached and the hierarchy bound in its place)
# and again at $TESTDIR/cgroup2. Binds, not new cgroup2 mounts: a cgroup2 mount made in the
# host's cgroup namespace would reset the hierarchy's mount options (nsdelegate) for the whole
# host. Nothing here is seen outside the namespace.
in_v2_ns() {
	mkdir -p "$TESTDIR/cgroup2"
	# shellcheck disable=SC2016 # the script expands its own arguments
	unshare -m --propagation private bash -euc '
		src=$1 second=$2
		shift 2
		# Only this namespace may change: stop should any mount still propagate.
		if findmnt -rno PROPAGATION | grep -Eq "shared|slave"; then
			echo "in_v2_ns: mounts still propagate in the new namespace" >&2
			exit 1
		fi
		mount --bind "$src" "$second"
		if [ "$src" != /sys/fs/cgroup ]; then
			umount -l /sys/fs/cgroup
			mount --bind "$second" /sys/fs/cgroup
		fi
		[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || { echo "in_v2_ns: /sys/fs/cgroup is not cgroup2" >&2; exit 1; }
		[ "$(findmnt -rno FSTYPE -t cgroup2 | wc -l)" -ge 2 ] || { echo "in_v2_ns: no second cgroup2 mount" >&2; exit 1; }
		exec "$@"' in_v2_ns "$CG2_SRC" "$TESTDIR/cgroup2" "$@"
}

# in_v2_ns_runtime ARGS... runs the runtime under test with the test's root in in_v2_ns.
in_v2_ns_runtime() {
	# shellcheck disable=SC2086
	in_v2_ns "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" "$@"
}

# report_cgroup_view makes the container's process print what it sees at /sys/fs/cgroup: the
# type of the mount there (the last one listed at that point, the visible one), whether
# cgroup.controllers is there, and which cgroup.procs under it (its root, or the container's
# cgroup below it for a runtime that mounts the whole hierarchy) lists the container's init.
report_cgroup_view() {
	cat >"$BUNDLE/rootfs/report.sh" <<-'EOF'
		awk '$5 == "/sys/fs/cgroup" { for (i = 7; i < NF; i++) if ($i == "-") t = $(i + 1) }
			END { print "fstype " t }' /proc/self/mountinfo
		[ -e /sys/fs/cgroup/cgroup.controllers ] && echo "has cgroup.controllers"
		for f in $(find /sys/fs/cgroup -maxdepth 3 -name cgroup.procs); do
			grep -qx 1 "$f" && echo "init in $f"
		done
		true
	EOF
	set_args sh /report.sh
}

# check_cgroup2_view fails unless the report (in $output) shows the container's cgroup2.
check_cgroup2_view() {
	echo "$output"
	grep -qx "fstype cgroup2" <<<"$output" || fail "/sys/fs/cgroup in the container is not cgroup2"
	grep -qx "has cgroup.controllers" <<<"$output" || fail "no cgroup.controllers in the container's /sys/fs/cgroup"
	grep -q "^init in /sys/fs/cgroup/" <<<"$output" || fail "no cgroup.procs in the container's /sys/fs/cgroup lists its init"
}

@test "cgroup mount on pure cgroup v2 with a second cgroup2 mount: the container's cgroup2 (own cgroup namespace)" {
	requires cgroupns
	update_config '.linux.namespaces += [{type: "cgroup"}]'
	report_cgroup_view
	run -0 in_v2_ns_runtime run --bundle "$BUNDLE" "$(new_id)"
	check_cgroup2_view
	# Its own cgroup namespace: the mount's root is the container's cgroup.
	grep -qx "init in /sys/fs/cgroup/cgroup.procs" <<<"$output" || fail "the mount's root is not the container's cgroup"
}

@test "cgroup mount on pure cgroup v2 with a second cgroup2 mount: the container's cgroup2 (host cgroup namespace)" {
	report_cgroup_view
	run -0 in_v2_ns_runtime run --bundle "$BUNDLE" "$(new_id)"
	check_cgroup2_view
}
