#!/usr/bin/env bash
# run.sh: Kubernetes' CRI validation suite (critest) and crictl scenarios through containerd's
# CRI plugin, with husk and with runc as the pods' runtime, offline, in namespaces of its own.
#
#   tests/cri/run.sh                          # husk ($HUSK, default ./husk) against Debian's runc
#   HUSK=/usr/bin/runc tests/cri/run.sh       # the same checks with runc in husk's place
#   CRI_FOCUS='Networking' tests/cri/run.sh   # only the critest specs matching a regexp
#
# What it does (README.md here says why):
#  1. installs containerd, docker-registry and containernetworking-plugins from Debian when
#     missing; builds critest and crictl (sigs.k8s.io/cri-tools, $CRI_TOOLS_VERSION) from the
#     Go module proxy into $CRI_CACHE once; builds tests/cmd/standin and tests/cmd/subreaper;
#     builds the images critest pulls (images.sh);
#  2. makes a cgroup $TAG below its own cgroup in every hierarchy and starts inner.sh there
#     once per runtime handler, both at once, each in new PID, mount, network, IPC and UTS
#     namespaces (nothing the run does reaches the host's network, /run, SysV IPC or hostname;
#     when one ends the kernel ends every process of it), under tests/cmd/subreaper, which
#     reports any process still alive when inner.sh is done;
#  3. compares: every spec that passes with runc must pass with husk; prints one "ok" or
#     "not ok" line per spec and scenario, then checks that nothing is left: no process, no
#     cgroup below $TAG, no mount of the run, no containerd or CNI directory on the host.
# The last line is "cri: N passed, N failed"; the exit status is 1 when a check failed.
#
# Environment: HUSK, CRI_ORACLE (default /usr/bin/runc), CRI_FOCUS, CRI_KEEP=1 (keep the temp
# dir: logs, critest's JSON reports), CRI_CACHE (default ~/.cache/husk-cri), CRI_SCENARIOS=0
# (critest only), CRI_CRITEST=0 (crictl scenarios only), CRI_JOBS=1 (one environment for both
# handlers, one after the other).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
HUSK=${HUSK:-$repo/husk}
CRI_ORACLE=${CRI_ORACLE:-/usr/bin/runc}
CRI_TOOLS_VERSION=v1.34.0
CRI_CACHE=${CRI_CACHE:-${HOME:-/root}/.cache/husk-cri}
# The oracle passes 85 specs here; far fewer means the set-up is broken, not that husk is fine.
CRI_MIN_ORACLE_PASSES=${CRI_MIN_ORACLE_PASSES:-70}

if [ "$(id -u)" != 0 ]; then
	echo "cri: needs root" >&2
	exit 2
fi
for bin in "$HUSK" "$CRI_ORACLE"; do
	[ -x "$bin" ] || { echo "cri: runtime $bin is not an executable (make husk, or set HUSK)" >&2; exit 2; }
done
"$repo/scripts/deps.sh" containerd docker-registry containernetworking-plugins runc busybox-static \
	jq curl iproute2 util-linux gzip || exit 2

# --- tools --------------------------------------------------------------------------------

# cri_tools: builds critest (the validation package's test binary, as cri-tools' Makefile
# does) and crictl from the Go module proxy, once per version.
cri_tools() {
	local dir=$CRI_CACHE/cri-tools-$CRI_TOOLS_VERSION src
	mkdir -p "$CRI_CACHE"
	(
		flock 9
		[ -x "$dir/critest" ] && [ -x "$dir/crictl" ] && exit 0
		echo "# building critest and crictl $CRI_TOOLS_VERSION from the Go module proxy (once)"
		src=$(go mod download -json "sigs.k8s.io/cri-tools@$CRI_TOOLS_VERSION" | jq -r .Dir) &&
			[ -d "$src" ] || exit 1
		mkdir -p "$dir.tmp"
		(cd "$src" && CGO_ENABLED=0 go test -c -o "$dir.tmp/critest" ./cmd/critest &&
			CGO_ENABLED=0 go build -o "$dir.tmp/crictl" ./cmd/crictl) || exit 1
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	) 9>"$CRI_CACHE/build.lock" || {
		echo "cri: cannot build cri-tools $CRI_TOOLS_VERSION" >&2
		return 1
	}
	CRITEST=$dir/critest
	CRICTL=$dir/crictl
}
cri_tools || exit 2

# shellcheck source=lib.sh
. "$here/lib.sh"
T=$(mktemp -d /tmp/huskcri-XXXXXX)
chmod 755 "$T"
TAG="huskcri-$(tr -dc 'a-z0-9' </dev/urandom | head -c 8)"
mkdir -p "$T/bin" "$T/results"
trap cri_cleanup EXIT
trap 'exit 130' INT TERM HUP

(cd "$repo" && CGO_ENABLED=0 go build -ldflags "-s -w" -o "$T/bin/standin" ./tests/cmd/standin &&
	go build -o "$T/bin/subreaper" ./tests/cmd/subreaper) || exit 2
# Private copies behind the client tests' wrapper (it logs every call and keeps the runtime's
# log files); the lead may rebuild ./husk meanwhile.
cri_runtime husk "$HUSK"
cri_runtime runc "$CRI_ORACLE"
echo "# husk: $HUSK ($("$HUSK" --version | head -n 1)); oracle: $CRI_ORACLE ($("$CRI_ORACLE" --version | head -n 1))"
echo "# temp dir $T, tag $TAG"
# shellcheck source=images.sh
. "$here/images.sh"
images_build "$T/images" "$T/bin/standin" || { echo "cri: building the images failed" >&2; exit 2; }

# --- the run ------------------------------------------------------------------------------
watch_host_paths /run/containerd /var/lib/containerd /opt/containerd /etc/cni /var/lib/cni \
	/opt/cni /run/netns /var/run/netns /var/lib/docker-registry
cri_cgroups_make || exit 2
t0=$SECONDS
# cri_env HANDLERS...: inner.sh for these handlers in namespaces of their own, in the run's
# cgroups; its output goes to $T/inner-HANDLERS.log.
cri_env() {
	local name=${*// /-}
	(
		cri_cgroups_join "$BASHPID" || exit 2
		export T TAG CRITEST CRICTL IMG=$T/images CRI_FOCUS=${CRI_FOCUS:-}
		export CRI_HANDLERS="$*" CRI_SKIP_FILE=$here/skip.txt
		export CRI_SCENARIOS=${CRI_SCENARIOS:-1} CRI_CRITEST=${CRI_CRITEST:-1}
		exec unshare --pid --fork --mount-proc --mount --net --ipc --uts --propagation private -- \
			"$T/bin/subreaper" -grace 10s "$here/inner.sh"
	) >"$T/inner-$name.log" 2>&1
}
# Each handler gets an environment of its own (containerd, registry, network): the two run at
# the same time, which halves the wall time on 2 cores (critest mostly waits on timers); the
# specs cannot disturb each other (host ports, image removals). CRI_JOBS=1: one environment
# for both, one handler after the other.
envs=("husk" "runc")
[ "${CRI_JOBS:-2}" = 1 ] && envs=("husk runc")
pids=()
for e in "${envs[@]}"; do
	# shellcheck disable=SC2086 # one word per handler
	cri_env $e &
	pids+=($!)
done
for i in "${!envs[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	name=${envs[$i]// /-}
	cat "$T/inner-$name.log"
	[ "$rc" = 0 ] || not_ok "the run of $name in its namespaces completes" "exit status $rc; see $T/inner-$name.log"
done
echo "# namespaces gone after $((SECONDS - t0))s"

cri_compare
for f in "$T"/results/scenarios-*.tap; do
	[ -e "$f" ] && cri_count_tap <"$f"
done
cri_check_nothing_left
echo "cri: $CLIENTS_PASS passed, $CLIENTS_FAIL failed ($((SECONDS - t0))s)"
[ "$CLIENTS_FAIL" -eq 0 ]
