#!/usr/bin/env bash
# run.sh: runs the real-engine client tests against husk and prints a summary.
#
#   tests/clients/run.sh                    # containerd podman podman-rootless docker buildah
#   tests/clients/run.sh podman docker      # only these
#   HUSK=/usr/sbin/runc tests/clients/run.sh containerd   # same checks against another runtime
#
# Each engine script installs its engine from Debian's packages when missing, runs its daemon
# (if any) by hand under a temp dir, checks its scenarios, and removes everything it made. The
# scripts run one after the other (each starts daemons; 2 cores), each under a subreaper when
# tests/cmd/subreaper builds, so that a daemon's orphaned shims are reaped and any process left
# over is killed and reported. Last line: "clients: N passed, N failed" (engines); the exit
# status is non-zero when an engine failed.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export HUSK=${HUSK:-$repo/husk}

all=(containerd podman podman-rootless docker buildah)
engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=("${all[@]}")
for e in "${engines[@]}"; do
	if [ ! -x "$here/$e.sh" ]; then
		echo "run.sh: unknown engine $e (have: ${all[*]})" >&2
		exit 2
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: the client tests need root" >&2
	exit 2
fi
if [ ! -x "$HUSK" ]; then
	echo "run.sh: runtime $HUSK is not an executable (make husk, or set HUSK)" >&2
	exit 2
fi

work=$(mktemp -d /tmp/husktest-clients-run-XXXXXX)
trap 'rm -rf "$work"' EXIT

wrapper=()
if [ -n "${SUBREAPER:-}" ]; then
	wrapper=("$SUBREAPER")
elif [ -f "$repo/tests/cmd/subreaper/main.go" ] && command -v go >/dev/null &&
	(cd "$repo" && go build -o "$work/subreaper" ./tests/cmd/subreaper) 2>"$work/build.log"; then
	wrapper=("$work/subreaper" -grace 5s)
else
	echo "# no subreaper (tests/cmd/subreaper did not build): orphans go to PID 1" >&2
fi

echo "# runtime: $HUSK ($("$HUSK" --version 2>/dev/null | head -n 1))"
start=$SECONDS
passed=0
failed=0
summary=()
for e in "${engines[@]}"; do
	echo "# ===== $e"
	t0=$SECONDS
	"${wrapper[@]}" "$here/$e.sh" 2>&1 | tee "$work/$e.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E "^$e: [0-9]+ passed, [0-9]+ failed" "$work/$e.log" | tail -n 1)
	[ -n "$line" ] || line="$e: did not finish"
	# A leftover the subreaper had to kill is a failure even when every check passed.
	if grep -q '^subreaper: killed leftover process' "$work/$e.log"; then
		line="$line, left processes behind"
		rc=1
	fi
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	summary+=("$line (exit $rc, $((SECONDS - t0))s)")
done

echo "# ===== summary"
printf '%s\n' "${summary[@]}"
echo "clients: $passed passed, $failed failed ($((SECONDS - start))s, $(basename "$HUSK"))"
[ "$failed" -eq 0 ]
