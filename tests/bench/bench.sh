#!/usr/bin/env bash
# bench.sh [--smoke] [driver flags...]: husk against runc and crun, same bundle, same run.
#
# Builds the Go driver (tests/bench/*.go) into a temp dir, makes a busybox bundle with
# scripts/mkbundle.sh, and starts the driver in a private mount namespace of its own; there it
# covers /sys/fs/cgroup/unified with an empty tmpfs (crun 1.8 refuses this hybrid host
# otherwise, and all three runtimes get the same view) and mounts a tmpfs for the runtimes'
# --root directories. The host's mounts are untouched; everything dies with the namespace.
# Prints markdown (machine, versions, command, tables) on stdout, progress on stderr.
#
# Env: HUSK (default ./husk), RUNC (/usr/sbin/runc), CRUN (/usr/bin/crun), GO (go).
# --smoke: one round of every scenario, no warm-up (checks that everything runs; < 60 s).
# Other flags go to the driver: -rounds N (default 30), -parallel 20,100, -skip-memlimit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
husk=$(realpath "${HUSK:-$top/husk}")
runc=${RUNC:-/usr/sbin/runc}
crun=${CRUN:-/usr/bin/crun}
go=${GO:-go}
args=()
for a in "$@"; do
	case $a in
	--smoke) args+=(-smoke) ;;
	*) args+=("$a") ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root (namespaces, cgroups, mounts)" >&2; exit 1; }
for b in "$husk" "$runc" "$crun"; do
	[ -x "$b" ] || { echo "bench: $b is not executable (make husk; apt-get install runc crun)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/husktest-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
(cd "$top" && CGO_ENABLED=0 "$go" build -o "$tmp/bench-driver" ./tests/bench)
# A private copy, so that a rebuild of ./husk during the run cannot change what is measured.
cp "$husk" "$tmp/husk"
"$top/scripts/mkbundle.sh" "$tmp/base" "$tmp/husk" >/dev/null

echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "- machine: $(nproc) cores, $(uname -r), $(grep MemTotal /proc/meminfo | awk '{printf "%.1f GiB RAM", $2/1048576}')"
echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: other work runs at the same time)"
echo "- husk binary: $husk ($(sha256sum "$husk" | cut -c1-12))"
echo "- command: \`tests/bench/bench.sh${*:+ $*}\`"
echo
status=0
unshare --mount --propagation private \
	"$tmp/bench-driver" -husk "$tmp/husk" -runc "$runc" -crun "$crun" \
	-bundle "$tmp/base" -work "$tmp" "${args[@]}" || status=$?
echo
echo "- load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
