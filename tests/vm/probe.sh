#!/usr/bin/env bash
# probe.sh: run inside the VM (tests/vm/run.sh tests/vm/probe.sh) to check what the pure cgroup v2
# machine offers and that husk runs there. One line per check, "ok" or "FAIL: why"; exits 1 when
# any check failed. HUSK picks the runtime (default: the checkout's ./husk).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
HUSK=${HUSK:-$repo/husk}
work=$(mktemp -d /tmp/husktest-probe-XXXXXX)
failed=0
cleanup() {
	local id
	for id in $("$HUSK" --root "$work/root" list -q 2>/dev/null); do "$HUSK" --root "$work/root" delete -f "$id"; done
	rm -rf "$work"
}
trap cleanup EXIT

check() { # check NAME COMMAND...: runs COMMAND, prints its output on failure
	local out
	if out=$("${@:2}" 2>&1); then echo "ok    $1"; else echo "FAIL  $1: $out"; failed=1; fi
}

# husk_run NAME JQ: runs a copy of the busybox bundle with config.json changed by JQ; prints the
# output (stdout and stderr). One bundle is made and copied: mkbundle forks ln 400 times, ~30 s here.
husk_run() {
	if [ ! -e "$work/base/config.json" ]; then
		"$repo/scripts/mkbundle.sh" "$work/base" "$HUSK" >/dev/null || return 1
	fi
	cp -a "$work/base" "$work/$1" || return 1
	jq "$2" "$work/$1/config.json" >"$work/$1/c.json" && mv "$work/$1/c.json" "$work/$1/config.json"
	"$HUSK" --root "$work/root" run --bundle "$work/$1" "husktest-probe-$1" </dev/null 2>&1
}

no_v1() { ! awk '$3 == "cgroup"' /proc/mounts | grep . && [ "$(grep -c . /proc/self/cgroup)" = 1 ]; }
controllers() {
	local c have
	have=$(cat /sys/fs/cgroup/cgroup.subtree_control)
	for c in cpuset cpu io memory hugetlb pids; do [[ " $have " == *" $c "* ]] || { echo "$c missing: $have"; return 1; }; done
}
overlay() {
	mkdir -p "$work"/ov/{l,u,w,m} && echo x >"$work/ov/l/f" &&
		mount -t overlay -o "lowerdir=$work/ov/l,upperdir=$work/ov/u,workdir=$work/ov/w" ov "$work/ov/m" &&
		echo y >>"$work/ov/m/f" && umount "$work/ov/m" && [ "$(cat "$work/ov/u/f")" = $'x\ny' ]
}
userns() { [ "$(unshare --user --map-root-user id -u)" = 0 ]; }
netdevs() { unshare --net sh -c 'ip link add v0 type veth peer name v1 && ip link add d0 type dummy'; }
husk_hello() { [ "$(husk_run hello '.process.args = ["echo", "hello"]')" = hello ]; }
memory_max() {
	local out
	out=$(husk_run mem '.linux.resources.memory.limit = 33554432
		| .process.args = ["cat", "/sys/fs/cgroup/memory.max"]') &&
		[ "$out" = 33554432 ] || { echo "$out"; return 1; }
}
# The eBPF device program denies what linux.resources.devices does not allow: /dev/zero is
# allowed, a fresh node for /dev/mem (c 1:1) may be made (mknod is allowed) but not opened.
device_filter() {
	local out
	out=$(husk_run dev '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]
		| .process.args = ["sh", "-c", "head -c1 /dev/zero | wc -c; mknod /dev/m c 1 1 && head -c1 /dev/m"]')
	[[ "$out" == 1*"Operation not permitted"* ]] || { echo "$out"; return 1; }
}
seccomp() {
	local out
	out=$(husk_run sec '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1}]}
		| .process.args = ["mkdir", "/dev/x"]')
	[[ "$out" == *"Operation not permitted"* ]] || { echo "$out"; return 1; }
}

check "cgroup v2 only, no v1 hierarchy" no_v1
check "controllers enabled at the root" controllers
check "overlayfs" overlay
check "user namespaces" userns
check "veth and dummy links" netdevs
check "husk run (busybox bundle)" husk_hello
check "husk memory limit in memory.max" memory_max
check "husk eBPF device filter" device_filter
check "husk seccomp" seccomp
exit $failed
