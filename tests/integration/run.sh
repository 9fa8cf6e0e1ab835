#!/bin/bash
# Run the integration suite (or the given .bats files) against $HUSK and print
# a summary line "N passed, N failed, N skipped" derived from bats' TAP.
#
#   tests/integration/run.sh                      # every *.bats, HUSK=<repo>/husk
#   HUSK=/usr/bin/runc tests/integration/run.sh cli.bats run.bats
#
# Exits 0 only when no test failed. Killed containers whose parent is gone are
# reaped by a subreaper when tests/cmd/subreaper exists (PID 1 here reaps late).
set -u

# crun 1.8 refuses cgroup v1 "hybrid" hosts (cgroup2 with a controller at
# /sys/fs/cgroup/unified). HUSK_HIDE_CGROUP2=1 re-runs this script in a private
# mount namespace with an empty tmpfs over that directory, so crun sees plain
# v1; nothing changes for the host (the mount dies with the namespace).
if [ "${HUSK_HIDE_CGROUP2:-}" = 1 ] && [ -z "${HUSK_IN_PRIVATE_NS:-}" ]; then
	export HUSK_IN_PRIVATE_NS=1
	exec unshare -m --propagation private sh -c \
		'mount -t tmpfs -o size=1m,mode=755 husktest-hide /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export HUSK=${HUSK:-$repo/husk}

if [ ! -x "$HUSK" ]; then
	echo "run.sh: runtime $HUSK is not an executable (build it, or set HUSK)" >&2
	exit 2
fi
command -v bats >/dev/null || {
	echo "run.sh: bats is not installed (apt-get install bats)" >&2
	exit 2
}

files=()
if [ $# -eq 0 ]; then
	files=("$here"/*.bats)
else
	for f in "$@"; do
		if [ -e "$f" ]; then files+=("$f"); else files+=("$here/$f"); fi
	done
fi

work=$(mktemp -d /tmp/husktest-run-XXXXXX)
trap 'rm -rf "$work"' EXIT

wrapper=()
if [ -n "${SUBREAPER:-}" ]; then
	wrapper=("$SUBREAPER")
elif [ -f "$repo/tests/cmd/subreaper/main.go" ] && command -v go >/dev/null &&
	(cd "$repo" && go build -o "$work/subreaper" ./tests/cmd/subreaper) 2>"$work/build.log"; then
	wrapper=("$work/subreaper")
fi

echo "# runtime: $HUSK ($("$HUSK" --version 2>/dev/null | head -1))"
start=$SECONDS
"${wrapper[@]}" bats --tap "${files[@]}" | tee "$work/tap"
rc=${PIPESTATUS[0]}

passed=$(grep -Ec '^ok [0-9]+ ' "$work/tap" | tr -d ' ')
skipped=$(grep -Ec '^ok [0-9]+ .*# skip' "$work/tap" | tr -d ' ')
failed=$(grep -Ec '^not ok [0-9]+ ' "$work/tap" | tr -d ' ')
passed=$((passed - skipped))
echo "$passed passed, $failed failed, $skipped skipped ($((SECONDS - start))s, $(basename "$HUSK"))"

if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
	exit 1
fi
exit 0
