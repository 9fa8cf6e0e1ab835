#!/bin/bash
# Runs the OCI runtime-tools v0.9.0 validation suite against a runc-compatible runtime and
# compares the results with expected.txt.
#
# Usage: run.sh [-u] [-t SECONDS] [-l LOGDIR] [-e EXPECTED] [RUNTIME] [-- NAME...]
#   RUNTIME     runtime binary (default $HUSK, else the husk binary at the repository root)
#   -u          rewrite the expected file from this run (reasons already there are kept)
#   -t SECONDS  timeout for each validation program (default 300)
#   -l LOGDIR   where TAP output and logs go (default: a new dir under ${TMPDIR:-/tmp})
#   -e FILE     expected-results file (default expected.txt next to this script)
#   -- NAME...  run only these validation programs
# Env: HUSK_CONFORMANCE_CACHE (see build.sh); SUBREAPER a prebuilt tests/cmd/subreaper.
#
# expected.txt has one line per validation program:
#   NAME pass|fail|skip [POINTS]  # reason (required for fail)
# POINTS (fail only, optional) lists the test points known to fail, e.g. 6,7,15; with it, a
# failure of any other point of that program is a regression too.
#
# Each program runs in its own temp dir (its cwd holds runtimetest and the rootfs tarball;
# TMPDIR points inside it, so its bundles land there) with RUNTIME set to a wrapper that
# adds `--root <test dir>/root` and logs every call: the programs call the runtime without
# --root, and their containers must not land in the runtime's default root. Each program
# runs as `timeout subreaper PROGRAM`: orphans are reaped at once and processes left behind
# are killed. Then whatever it left is cleaned up and logged: containers in its root
# (kill + delete -f), mounts under its dir, cgroups named after its containers or the
# suite's test cgroups, and the dir itself.
#
# Exit status 1 when a program expected to pass (or skip) no longer does, when a known
# failing program fails a new test point or dies, when one is not listed in the expected
# file and does not pass, or when one times out. A program expected to fail that passes is
# reported so the file can be updated; it does not fail the run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export GO

update=0
per_test_timeout=300
logdir=""
expected="$here/expected.txt"
usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "ut:l:e:h" opt; do
	case $opt in
	u) update=1 ;;
	t) per_test_timeout=$OPTARG ;;
	l) logdir=$OPTARG ;;
	e) expected=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
runtime=${HUSK:-$repo/husk}
if [[ $# -gt 0 && "$1" != "--" ]]; then
	runtime=$1
	shift
fi
if [[ $# -gt 0 ]]; then
	[[ "$1" == "--" ]] || usage
	shift
fi
selected=("$@")

die() { echo "run.sh: $*" >&2; exit 1; }

runtime_path=$(command -v "$runtime") || die "runtime not found: $runtime (pass RUNTIME or set HUSK)"
runtime_path=$(realpath "$runtime_path")
[[ -x "$runtime_path" ]] || die "runtime is not executable: $runtime_path"
[[ $EUID -eq 0 ]] || die "needs root (the programs create containers, cgroups and mounts)"
command -v timeout >/dev/null || die "timeout(1) not found (coreutils)"
[[ "$per_test_timeout" =~ ^[0-9]+$ ]] || die "-t wants seconds, got '$per_test_timeout'"

# --- expected results -----------------------------------------------------------------

declare -A exp_status exp_points exp_reason
load_expected() {
	[[ -f "$expected" ]] || return 0
	local line name status points extra reason n=0
	while IFS= read -r line || [[ -n "$line" ]]; do
		n=$((n + 1))
		[[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
		reason=""
		if [[ "$line" == *"#"* ]]; then
			reason=$(sed 's/^[^#]*#[[:space:]]*//; s/[[:space:]]*$//' <<<"$line")
			line=${line%%#*}
		fi
		read -r name status points extra <<<"$line"
		[[ -z "$extra" ]] || die "$expected:$n: too many fields before '#'"
		case $status in
		pass | skip) [[ -z "$points" ]] || die "$expected:$n: test points are only for 'fail'" ;;
		fail)
			[[ -n "$reason" ]] || die "$expected:$n: '$name fail' needs a reason (# ...)"
			[[ -z "$points" || "$points" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "$expected:$n: bad test points '$points'"
			;;
		*) die "$expected:$n: bad status '$status' for $name (pass|fail|skip)" ;;
		esac
		exp_status[$name]=$status
		exp_points[$name]=$points
		exp_reason[$name]=$reason
	done <"$expected"
}
load_expected

# --- setup ----------------------------------------------------------------------------

# The suite hard-codes names (the pids cgroup "cgrouptest", the test cgroup paths), so two
# runs at once on this machine would trample each other: serialise them.
lockfile=/tmp/husk-conformance.lock
exec 9>"$lockfile" || die "open lock $lockfile"
if ! flock -n 9; then
	echo "run.sh: waiting for another conformance run (lock $lockfile)" >&2
	flock 9 || die "lock $lockfile"
fi

suite_dir=$("$here/build.sh") || die "building the validation suite failed"
mapfile -t all_tests <"$suite_dir/tests.txt"

if [[ ${#selected[@]} -eq 0 ]]; then
	tests=("${all_tests[@]}")
else
	tests=()
	for name in "${selected[@]}"; do
		printf '%s\n' "${all_tests[@]}" | grep -qx -- "$name" || die "no such validation program: $name"
		tests+=("$name")
	done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/husktest-conformance.XXXXXX") || die "mktemp"
# mktemp makes it 0700; containers with a user namespace run as a mapped uid that must be
# able to reach their bundle below it.
chmod 0755 "$work" || die "chmod $work"
trap 'rm -rf --one-file-system "$work"' EXIT
[[ -n "$logdir" ]] || logdir="$work.logs"
mkdir -p "$logdir" || die "mkdir $logdir"
logdir=$(realpath "$logdir")

# SUBREAPER: a prebuilt tests/cmd/subreaper (the VM has no Go build cache to build it fast).
subreaper=${SUBREAPER:-$work/subreaper}
if [[ -z "${SUBREAPER:-}" ]]; then
	(cd "$repo" && "$GO" build -o "$subreaper" ./tests/cmd/subreaper) || die "building tests/cmd/subreaper failed"
fi

# A cgroup named like the suite's pids test cgroup that exists before the run is not ours.
preexisting_cgrouptest=0
[[ -d /sys/fs/cgroup/pids/cgrouptest ]] && preexisting_cgrouptest=1

# --- one program ----------------------------------------------------------------------

# cleanup_test removes what one validation program left behind; each find is logged.
cleanup_test() {
	local dir=$1 log=$2 id c m d
	# Containers still known to the runtime in this test's root.
	for c in "$dir"/root/*/; do
		[[ -d "$c" ]] || continue
		id=$(basename "$c")
		echo "leaked container $id: kill + delete -f" >>"$log"
		timeout 20 "$runtime_path" --root "$dir/root" kill "$id" KILL >>"$log" 2>&1
		timeout 20 "$runtime_path" --root "$dir/root" delete -f "$id" >>"$log" 2>&1
	done
	# Host mounts under the test dir (a container sharing the host mount namespace), deepest
	# first.
	awk -v pfx="$dir/" '{ m = $5; gsub(/\\040/, " ", m); if (index(m, pfx) == 1) print length(m) "\t" m }' \
		/proc/self/mountinfo | sort -rn | cut -f2- | while IFS= read -r m; do
		echo "leaked mount $m: umount -l" >>"$log"
		umount -l "$m" >>"$log" 2>&1
	done
	# Cgroups named after this test's containers or the suite's test cgroups (renamed with
	# the husktest-conformance- prefix by build.sh). Only rmdir, never rm -r: a cgroup still
	# holding a process stays, and the failed rmdir is in the log.
	local names=(-name 'husktest-conformance-*')
	while read -r id; do
		[[ -n "$id" ]] && names+=(-o -name "$id")
	done < <(awk '$1 == "create" || $1 == "run" { print $NF }' "$dir/calls.log" 2>/dev/null | sort -u)
	find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d \( "${names[@]}" \) -prune -print 2>/dev/null |
		while IFS= read -r d; do
			echo "leaked cgroup $d: rmdir" >>"$log"
			find "$d" -depth -type d -exec rmdir {} \; >>"$log" 2>&1
		done
	# delete_only_create_resources makes this one itself, by a fixed name.
	if [[ $preexisting_cgrouptest -eq 0 && -d /sys/fs/cgroup/pids/cgrouptest ]]; then
		echo "leaked cgroup /sys/fs/cgroup/pids/cgrouptest: rmdir" >>"$log"
		rmdir /sys/fs/cgroup/pids/cgrouptest >>"$log" 2>&1
	fi
	rm -rf --one-file-system "$dir" >>"$log" 2>&1
}

# run_test runs one program with its logs in $logdir/NAME.* and prints its exit status.
run_test() {
	local name=$1 dir="$work/$1" rc
	mkdir -p "$dir/tmp" "$dir/root"
	# util.PrepareBundle untars ./rootfs-amd64.tar.gz; util copies ./runtimetest into each
	# bundle (a symlink would be copied as a symlink, so link or copy the file itself).
	ln "$suite_dir/bin/runtimetest" "$dir/runtimetest" 2>/dev/null || cp "$suite_dir/bin/runtimetest" "$dir/runtimetest"
	ln -s "$suite_dir/rootfs-amd64.tar.gz" "$dir/rootfs-amd64.tar.gz"
	cat >"$dir/runtime" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$*" >>'$dir/calls.log'
		exec '$runtime_path' --root '$dir/root' "\$@"
	EOF
	chmod +x "$dir/runtime"
	(
		cd "$dir" || exit 1
		RUNTIME="$dir/runtime" TMPDIR="$dir/tmp" exec timeout -k 10 "$per_test_timeout" \
			"$subreaper" -grace 2s "$suite_dir/bin/$name"
	) >"$logdir/$name.tap" 2>"$logdir/$name.stderr" </dev/null
	rc=$?
	cp "$dir/calls.log" "$logdir/$name.calls" 2>/dev/null
	grep '^subreaper: ' "$logdir/$name.stderr" >"$logdir/$name.cleanup"
	cleanup_test "$dir" "$logdir/$name.cleanup"
	echo "$rc"
}

# --- compare --------------------------------------------------------------------------

# points_not_in A B prints the comma-separated points of A that are not in B.
points_not_in() {
	comm -23 <(tr , '\n' <<<"$1" | grep . | sort -u) <(tr , '\n' <<<"$2" | grep . | sort -u) |
		sort -n | paste -sd,
}

# judge NAME compares NAME's result with the expected file; it sets note, bad (1: a
# regression) and info (1: the expected file could be updated).
judge() {
	local name=$1 status=${res_status[$1]} want=${exp_status[$1]:-none} new fixed
	note="" bad=0 info=0
	if [[ $status == timeout ]]; then
		note="TIMEOUT" bad=1
	elif [[ $want == none ]]; then
		note="NOT IN $(basename "$expected")"
		[[ $status == pass ]] || bad=1
	elif [[ $want == pass && $status != pass ]]; then
		note="REGRESSION" bad=1
	elif [[ $want == skip && ($status == fail || $status == error) ]]; then
		note="REGRESSION" bad=1
	elif [[ $want != pass && $status == pass ]]; then
		note="UNEXPECTED PASS (update $(basename "$expected"))" info=1
	elif [[ $want == fail && -n "${exp_points[$name]}" ]]; then
		if [[ $status == error ]]; then
			note="REGRESSION (used to fail only points ${exp_points[$name]})" bad=1
		elif [[ $status == fail ]]; then
			new=$(points_not_in "${res_points[$name]}" "${exp_points[$name]}")
			fixed=$(points_not_in "${exp_points[$name]}" "${res_points[$name]}")
			if [[ -n "$new" ]]; then
				note="REGRESSION (points $new fail too)" bad=1
			elif [[ -n "$fixed" ]]; then
				note="POINTS $fixed PASS NOW (update $(basename "$expected"))" info=1
			fi
		fi
	fi
}

# --- run ------------------------------------------------------------------------------

default_roots() { ls -d /run/runc/* /run/crun/* /run/husk/* 2>/dev/null | sort; }
default_roots_before=$(default_roots)

declare -A res_status res_counts res_points res_detail res_leaks res_flaky

# run_and_parse NAME [LABEL] runs NAME once and records its result in the res_* arrays.
run_and_parse() {
	local name=$1 label=${2:-} rc status ok notok skipped points detail why start=$SECONDS
	rc=$(run_test "$name")
	IFS=$'\t' read -r status ok notok skipped points detail \
		< <(awk -v rc="$rc" -f "$here/tap.awk" "$logdir/$name.tap")
	res_status[$name]=$status
	res_counts[$name]="$ok/$notok/$skipped"
	res_points[$name]=${points/#-/}
	# A program that died says why on stderr (util.Fatal), usually quoting the runtime.
	if [[ $status == error || $status == timeout ]]; then
		why=$(grep -vE '^(failed to [a-z]+ the container|exit status [0-9]+|subreaper: .*)$' \
			"$logdir/$name.stderr" | grep -m1 .)
		[[ -n "$why" ]] && detail+="; stderr: $why"
	fi
	res_detail[$name]=$detail
	res_leaks[$name]=$(grep -c . "$logdir/$name.cleanup")
	printf '  %-38s %-8s %4ds %s\n' "$name" "$status" $((SECONDS - start)) "$label" >&2
}

echo "conformance: $runtime_path, ${#tests[@]} programs, logs in $logdir" >&2
for name in "${tests[@]}"; do
	run_and_parse "$name"
	judge "$name"
	# Some programs race with the container they start (killsig signals the shell before
	# it has set its trap); a regression gets one more try, and a pass on it is reported as
	# flaky, not hidden. A timeout is not retried: a hang is never the suite's fault.
	if [[ $bad -eq 1 && ${res_status[$name]} != timeout && -n "${exp_status[$name]:-}" ]]; then
		for f in "$logdir/$name".*; do mv "$f" "$logdir/$name.try1.${f##*/"$name".}"; done
		first="${res_status[$name]} (${res_detail[$name]:0:120})"
		run_and_parse "$name" "(retry)"
		judge "$name"
		[[ $bad -eq 0 ]] && res_flaky[$name]=$first
	fi
done

new_in_default_roots=$(comm -13 <(echo "$default_roots_before") <(default_roots) | grep .)

# --- report ---------------------------------------------------------------------------

passed=0 failed=0 skipped_n=0 regressions=0 notices=0
: >"$logdir/results.txt"
report() { printf '%-32s %-8s %-8s %-12s %s\n' "$@" | tee -a "$logdir/results.txt"; }
echo
report TEST EXPECTED RESULT OK/NOK/SKIP NOTE
for name in "${tests[@]}"; do
	status=${res_status[$name]}
	case $status in
	pass) passed=$((passed + 1)) ;;
	skip) skipped_n=$((skipped_n + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
	judge "$name"
	regressions=$((regressions + bad))
	notices=$((notices + info))
	if [[ -n "${res_flaky[$name]:-}" ]]; then
		note+="${note:+; }FLAKY: first try ${res_flaky[$name]}, see $name.try1.*"
		notices=$((notices + 1))
	fi
	if [[ ${res_leaks[$name]} -gt 0 ]]; then
		note+="${note:+; }left ${res_leaks[$name]} thing(s) behind, see $name.cleanup"
	fi
	if [[ $status != pass && -n "${res_detail[$name]}" ]]; then
		note+="${note:+; }${res_detail[$name]}"
	fi
	report "$name" "${exp_status[$name]:-none}" "$status" "${res_counts[$name]}" "${note:0:300}"
done

if [[ -n "$new_in_default_roots" ]]; then
	echo "warning: new entries in the runtimes' default roots during the run (not removed):" >&2
	echo "$new_in_default_roots" >&2
fi

# --- -u -------------------------------------------------------------------------------

# expected_line prints NAME's line for the expected file from this run's result. The old
# reason stays unless the program now passes; a failure without a reason gets its failing
# test points, marked unexplained so that someone writes the reason.
expected_line() {
	local name=$1 status=${res_status[$1]} reason=${exp_reason[$1]:-} points=""
	case $status in
	error | timeout) status=fail ;;
	fail) points=${res_points[$name]} ;;
	esac
	[[ $status == pass && ${exp_status[$name]:-} != pass ]] && reason=""
	[[ $status == fail && -z "$reason" ]] && reason="unexplained: ${res_detail[$name]}"
	printf '%-32s %s%s%s\n' "$name" "$status" "${points:+ $points}" "${reason:+  # $reason}"
}

if [[ $update -eq 1 ]]; then
	tmpexp=$(mktemp "$expected.XXXXXX") || die "mktemp next to $expected"
	declare -A written
	{
		if [[ -f "$expected" ]]; then
			while IFS= read -r line || [[ -n "$line" ]]; do
				read -r name _ <<<"${line%%#*}"
				if [[ -z "$name" || -z "${res_status[$name]:-}" ]]; then
					printf '%s\n' "$line"
				else
					expected_line "$name"
					written[$name]=1
				fi
			done <"$expected"
		fi
		for name in "${tests[@]}"; do
			[[ -n "${written[$name]:-}" ]] || expected_line "$name"
		done
	} >"$tmpexp"
	chmod 0644 "$tmpexp"
	mv "$tmpexp" "$expected"
	echo "updated $expected" >&2
fi

echo
echo "skipped: $skipped_n, regressions: $regressions, notices: $notices, logs: $logdir"
echo "conformance: $passed passed, $failed failed"
[[ $regressions -eq 0 ]]
