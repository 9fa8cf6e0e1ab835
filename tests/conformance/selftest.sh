#!/bin/bash
# Tests the conformance harness itself: tap.awk on canned TAP, then run.sh end to end with
# Debian's runc and with broken fake runtimes built on it (one that fails, one that hangs,
# one that leaks containers), checking exit status, report and that nothing is left behind.
#
# Usage: tests/conformance/selftest.sh   (root; needs /usr/bin/runc; about two minutes)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runc=${RUNC:-/usr/bin/runc}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

tmp=$(mktemp -d /tmp/husktest-conformance-selftest.XXXXXX)
chmod 0755 "$tmp"
trap 'rm -rf --one-file-system "$tmp"' EXIT

# --- tap.awk ---------------------------------------------------------------------------

# tap_case NAME RC WANT TAP: WANT is "status<TAB>ok<TAB>notok<TAB>skipped<TAB>points".
tap_case() {
	local name=$1 rc=$2 want=$3 got
	got=$(printf '%b' "$4" | awk -v rc="$rc" -f "$here/tap.awk" | cut -f1-5)
	if [[ "$got" == "$(printf '%b' "$want")" ]]; then ok "tap.awk $name"; else fail "tap.awk $name: got '$got' want '$(printf '%b' "$want")'"; fi
}
tap_case "all ok" 0 'pass\t2\t0\t0\t-' 'TAP version 13\nok 1 - a\nok 2 - b\n1..2\n'
tap_case "not ok" 0 'fail\t1\t1\t0\t2' 'TAP version 13\nok 1 - a\nnot ok 2 - b\n  ---\n  {"error": "x"}\n  ...\n1..2\n'
tap_case "todo is not a failure" 0 'pass\t2\t0\t0\t-' 'TAP version 13\nok 1\nnot ok 2 # TODO later\n1..2\n'
tap_case "all skipped" 0 'skip\t0\t0\t1\t-' 'TAP version 13\n1..1\nok 1 # skip no cgroup v2\n'
tap_case "plan 1..0 # SKIP" 0 'skip\t0\t0\t0\t-' 'TAP version 13\n1..0 # SKIP not here\n'
tap_case "no plan (died)" 1 'error\t1\t0\t0\t-' 'TAP version 13\nok 1\n'
tap_case "plan mismatch" 0 'error\t1\t0\t0\t-' 'TAP version 13\nok 1\n1..3\n'
tap_case "exit status without failure" 1 'error\t1\t0\t0\t-' 'TAP version 13\nok 1\n1..1\n'
tap_case "timeout" 124 'timeout\t1\t0\t0\t-' 'TAP version 13\nok 1\n'
tap_case "lifecycle success (1..0, no diagnostic)" 0 'pass\t0\t0\t0\t-' 'TAP version 13\n1..0\n'
tap_case "lifecycle failure (1..0 + diagnostic)" 0 'fail\t0\t0\t0\t-' 'TAP version 13\n  ---\n  {\n    "error": "hook not called\\nRefer to: x"\n  }\n  ...\n1..0\n'
tap_case "two documents" 0 'fail\t2\t1\t0\t3' 'TAP version 13\nok 1\nok 2\n1..2\nTAP version 13\nnot ok 1 - x\n1..1\n'
tap_case "silent _fail program, exit 0" 0 'pass\t0\t0\t0\t-' ''
tap_case "silent _fail program, exit 1" 1 'error\t0\t0\t0\t-' ''

# --- run.sh ----------------------------------------------------------------------------

# leftovers prints what a run could have left on the host.
leftovers() {
	grep -E 'husktest-conformance\.|ocitest' /proc/self/mountinfo
	find /sys/fs/cgroup -mindepth 2 -maxdepth 8 -type d -name 'husktest-conformance-*' 2>/dev/null
	ps -eo pid=,args= | grep -E '[r]untimetest|husktest-selftest-sleeper|[s]leep 10000|[r]unc init' | grep -v grep
}
before=$(leftovers)

# run_case NAME WANT_RC GREP [run.sh args...]: the run's exit status and a line of its report.
run_case() {
	local name=$1 want_rc=$2 pattern=$3 rc
	shift 3
	"$here/run.sh" -l "$tmp/logs-$name" "$@" >"$tmp/$name.out" 2>&1
	rc=$?
	if [[ $rc -ne $want_rc ]]; then
		fail "run.sh $name: exit status $rc, want $want_rc (output in $tmp/$name.out):"
		tail -20 "$tmp/$name.out"
	elif ! grep -qE "$pattern" "$tmp/$name.out"; then
		fail "run.sh $name: report lacks /$pattern/:"
		tail -20 "$tmp/$name.out"
	elif ! grep -qE '^conformance: [0-9]+ passed, [0-9]+ failed$' "$tmp/$name.out"; then
		fail "run.sh $name: no summary line"
	else
		ok "run.sh $name"
	fi
}

# runc meets the expected file on a few programs, including two known failures.
run_case runc 0 '^conformance: 2 passed, 2 failed$' "$runc" -- create kill pidfile start

# A runtime that cannot create anything: regressions, exit 1.
cat >"$tmp/broken" <<EOF
#!/bin/bash
case " \$* " in *" create "*) echo "broken runtime" >&2; exit 1 ;; esac
exec $runc "\$@"
EOF
chmod +x "$tmp/broken"
run_case broken 1 '^create +pass +fail .*REGRESSION' "$tmp/broken" -- create

# A runtime whose start hangs: the program times out, the run fails, the sleeper is gone.
cat >"$tmp/hang" <<EOF
#!/bin/bash
case " \$* " in *" start "*) exec -a husktest-selftest-sleeper sleep 1000 ;; esac
exec $runc "\$@"
EOF
chmod +x "$tmp/hang"
run_case hang 1 '^start +fail +timeout .*TIMEOUT' -t 5 "$tmp/hang" -- start

# A runtime whose delete does nothing: the programs leave containers; run.sh reports that
# (a note, not a failure: runc itself leaves parent cgroups and, for linux_ns_itype, mounts)
# and cleans them up.
cat >"$tmp/leaky" <<EOF
#!/bin/bash
case " \$* " in *" delete "*) exit 0 ;; esac
exec $runc "\$@"
EOF
chmod +x "$tmp/leaky"
run_case leaky 0 'left [0-9]+ thing' "$tmp/leaky" -- state linux_cgroups_pids
if grep -q 'leaked container' "$tmp"/logs-leaky/*.cleanup; then ok "leaks are logged"; else fail "no leaked container logged"; fi

# -u writes every program, with a reason on each failure.
cp "$here/expected.txt" "$tmp/expected.txt"
sed -i '/^pidfile /d; s/^create .*/create fail  # a reason to keep/' "$tmp/expected.txt"
run_case update 1 'conformance: ' -u -e "$tmp/expected.txt" "$runc" -- create pidfile
if grep -qE '^create +pass$' "$tmp/expected.txt" && grep -qE '^pidfile +fail 1  # unexplained: not ok 1' "$tmp/expected.txt" &&
	[[ $(grep -vcE '^\s*(#|$)' "$tmp/expected.txt") -eq $(grep -vcE '^\s*(#|$)' "$here/expected.txt") ]]; then
	ok "-u rewrote the expected file"
else
	fail "-u result:"
	grep -E '^(create|pidfile) ' "$tmp/expected.txt"
fi

after=$(leftovers)
if [[ "$after" == "$before" ]]; then ok "nothing left behind"; else fail "left behind:"$'\n'"$(comm -13 <(echo "$before") <(echo "$after"))"; fi

echo
if [[ $failures -eq 0 ]]; then echo "selftest: all passed"; else echo "selftest: $failures failed"; fi
[[ $failures -eq 0 ]]
