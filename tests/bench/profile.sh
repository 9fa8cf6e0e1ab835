#!/usr/bin/env bash
# profile.sh: where husk's start path spends its time. Runs, on the bench's bundle and in the
# same private mount namespace view as bench.sh (tmpfs state root, empty tmpfs over
# /sys/fs/cgroup/unified):
#   1. `husk --debug --log-format json run` of /bin/true 20 times: median phase durations
#      (parent and init side) against the whole process's wall time, and one run as text;
#   2. `strace -c -f` of `husk run` (syscall counts and time, all processes);
#   3. `strace -f -ff -tt -T` of one `husk run` (kept with PROFILE_KEEP), its 20 slowest calls
#      that are not waits, and the count of calls and of processes.
# Env: HUSK (default ./husk); PROFILE_KEEP=DIR keeps the raw traces there. Output on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
husk=$(realpath "${HUSK:-$top/husk}")
[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 1; }
command -v strace >/dev/null || { echo "profile: strace missing (apt-get install strace)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/husktest-bench-prof-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$husk" "$tmp/husk"
"$top/scripts/mkbundle.sh" "$tmp/b" "$tmp/husk" >/dev/null
# The same bundle changes as the bench: ociVersion 1.0.2, /bin/true, no cgroup namespace.
cg=husktest-bench-prof-$$
jq --arg cg "/$cg" '.ociVersion = "1.0.2" | .process.args = ["/bin/true"]
	| .linux.namespaces |= map(select(.type != "cgroup")) | .linux.cgroupsPath = $cg' \
	"$tmp/b/config.json" >"$tmp/b/config.json.new"
mv "$tmp/b/config.json.new" "$tmp/b/config.json"
export TMPDIR_PROF=$tmp
unshare --mount --propagation private bash -euo pipefail -c '
	t=$TMPDIR_PROF
	mount -t tmpfs -o size=64m,mode=0755 husktest-bench-legacy /sys/fs/cgroup/unified
	mkdir -p "$t/state" && mount -t tmpfs -o mode=0700 husktest-bench-state "$t/state"
	h="$t/husk --root $t/state/husk"
	for i in 1 2 3 4 5; do $h run -b "$t/b" warm-$i; done
	: >"$t/debug.json"
	for i in $(seq 1 20); do
		s0=$(date +%s%N)
		$h --debug --log-format json run -b "$t/b" dbg-$i 2>>"$t/debug.json"
		echo "{\"msg\":\"wall\",\"op\":\"run\",\"side\":\"whole process\",\"phase\":\"husk run, fork to exit\",\"duration\":$(( $(date +%s%N) - s0 ))}" >>"$t/debug.json"
	done
	$h --debug run -b "$t/b" dbg-text 2>"$t/debug-text.txt"
	echo "### husk --debug run: phase durations over 20 runs (after 5 warm-up runs)"
	echo
	echo "| op | side | phase | n | median ms | min ms | max ms |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	jq -rs '"'"'
		[to_entries[] | select(.value.msg == "phase" or .value.msg == "done" or .value.msg == "wall")
		 | {i: .key, k: [.value.op, (.value.side // "total"), (.value.phase // "total")],
		    d: (.value.duration // .value.total)}]
		| group_by(.k)
		| map({i: (map(.i) | min), k: .[0].k, d: (map(.d) | sort)})
		| sort_by(.i)[]
		| "| \(.k[0]) | \(.k[1]) | \(.k[2]) | \(.d | length) | \(.d[(.d | length / 2 | floor)] / 1e6 * 100 | round / 100) | \(.d[0] / 1e6 * 100 | round / 100) | \(.d[-1] / 1e6 * 100 | round / 100) |"
	'"'"' "$t/debug.json"
	echo
	echo "One run as text:"
	echo; echo "\`\`\`"; cat "$t/debug-text.txt"; echo "\`\`\`"; echo
	echo "### strace -c -f husk run (one run; the top 40 lines)"
	echo; echo "\`\`\`"
	strace -c -f -o "$t/strace-c.txt" $h run -b "$t/b" sc-1
	head -42 "$t/strace-c.txt"; echo "\`\`\`"; echo
	echo "### 20 slowest syscalls of one strace -f -tt -T husk run, waits left out"
	echo
	echo "(futex, wait4, waitid, epoll_pwait, nanosleep, read and clone3 block on other threads or"
	echo "processes: their time is someone else'"'"'s work, so they are not listed.)"
	echo; echo "\`\`\`"
	# -ff: one file per process, so that no call is split into "unfinished" and "resumed".
	strace -f -ff -tt -T -o "$t/st" $h run -b "$t/b" st-1
	for f in "$t"/st.*; do sed "s/^/${f##*.} /" "$f"; done | sort -k2 >"$t/strace-T.txt"
	grep -Ev "^[0-9]+ [0-9:.]+ (futex|wait4|waitid|epoll_pwait|nanosleep|read|clone3)\(" "$t/strace-T.txt" \
		| sed -n "s/.*<\([0-9.]*\)>\$/\1 &/p" | sort -rn >"$t/slowest.txt"
	head -20 "$t/slowest.txt" | cut -d" " -f2- | cut -c1-200
	echo "\`\`\`"
	echo; echo "(syscalls in the trace: $(wc -l <"$t/strace-T.txt"); processes: $(cut -d" " -f1 "$t/strace-T.txt" | sort -u | wc -l))"
	if [ -n "${PROFILE_KEEP:-}" ]; then cp "$t/strace-T.txt" "$t/strace-c.txt" "$t/debug-text.txt" "$PROFILE_KEEP/"; fi
'
for d in /sys/fs/cgroup/*/"$cg"; do [ -d "$d" ] && { echo "profile: husk left cgroup $d" >&2; rmdir "$d"; }; done
exit 0
