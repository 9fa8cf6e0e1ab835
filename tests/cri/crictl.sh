#!/usr/bin/env bash
# crictl.sh HANDLER: what users of a Kubernetes node do with crictl, through containerd's CRI
# with the runtime handler HANDLER ("husk" or "runc"); run by inner.sh in the run's namespaces,
# with containerd up. Prints TAP-like "ok"/"not ok" lines (run.sh counts them).
#
# Scenarios: a pod with its own network and PID namespaces (kubelet's default: a PID
# namespace per container) and a cgroup parent in kubelet's cgroupfs
# layout (/kubepods/burstable/pod<uid>: absolute), a container in it with memory and CPU
# limits read back from the host's cgroup files and from inside; exec (sync with exit status,
# streaming stdin, a terminal), logs (stdout and stderr), update of the limits, stats; a pod
# with the host's network and a cgroup parent in kubelet's systemd naming
# (kubepods-besteffort-pod<uid>.slice, which containerd turns into the relative
# "SLICE:cri-containerd:ID" that the cgroupfs driver takes as one directory); then stop and
# removal with nothing left: no container in the runtime's root, no cgroup, no network
# namespace, no pod address, no veth on the bridge.
#
# Environment (from inner.sh): T, TAG, E (the environment's directory), CRICTL,
# CRI_CONFIG_FILE (crictl's endpoints).
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
set -uo pipefail
H=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
keep_t=$T keep_tag=$TAG
# shellcheck source=../clients/lib.sh
. "$here/../clients/lib.sh"
T=$keep_t TAG=$keep_tag

IMAGE=registry.k8s.io/e2e-test-images/busybox:1.29-2
RT=$T/rt/$H/bin/$H
RTROOT=$T/rt/$H/root/k8s.io
W=$T/scenarios/$H
mkdir -p "$W/logs"
# The absolute parent, below this run's own name in each hierarchy's root; run.sh removes it.
ABS_PARENT=/$TAG-kubepods/burstable/pod-$H

crictl_() {
	timeout 120 "$CRICTL" "$@"
}
# exec_diagnostics: what a failed exec leaves to read (a CI run once timed out in exec -it,
# which no run here reproduced): the runtime's last calls, its logs and the processes.
exec_diagnostics() {
	local f
	echo "# --- the runtime's last calls"
	tail -n 8 "$T/rt/$H/husk-argv.log" 2>&1 | sed 's/^/#   /'
	# shellcheck disable=SC2012 # the names are inode-basename, no blanks
	for f in $(ls -t "$T/rt/$H/logs" | head -n 3); do
		f=$T/rt/$H/logs/$f
		[ -s "$f" ] || continue
		echo "# --- runtime log $(basename "$f")"
		tail -n 15 "$f" | sed 's/^/#   /'
	done
	echo "# --- processes"
	ps -eo pid,ppid,stat,etime,args | cut -c1-200 | sed 's/^/#   /'
}
# jqf FILE FILTER
jqf() { jq -r "$2" "$1"; }
# pid_of ID: the pid of a container's or pod's process as containerd reports it.
pid_of() {
	crictl_ inspect "$1" 2>/dev/null | jq -r '.info.pid' ||
		crictl_ inspectp "$1" | jq -r '.info.pid'
}
netns_of() { readlink "/proc/$1/ns/net"; }
# expect_called DESC ERE: the runtime's wrapper logged a call matching ERE.
expect_called() {
	if grep -Eq -- "$2" "$T/rt/$H/husk-argv.log"; then
		ok "$1"
	else
		not_ok "$1" "no call matching $2 in $T/rt/$H/husk-argv.log"
	fi
}

# --- pod with its own network -------------------------------------------------------------
jq -n --arg log "$W/logs/a" --arg parent "$ABS_PARENT" --arg h "$H" '{
	metadata: {name: ("huskcri-own-net-" + $h), namespace: "default", uid: ("uid-a-" + $h), attempt: 0},
	hostname: "pod-a", log_directory: $log,
	linux: {cgroup_parent: $parent, security_context: {namespace_options: {network: 0, pid: 1}}}
}' >"$W/pod-a.json"
mkdir -p "$W/logs/a"
check "$H: crictl pull $IMAGE" crictl_ pull "$IMAGE"
check "$H: crictl runp --runtime $H: a pod with its own network" crictl_ runp --runtime "$H" "$W/pod-a.json"
POD_A=$OUT
crictl_ inspectp "$POD_A" >"$W/pod-a.inspect" 2>&1
expect_eq "$H: the pod is SANDBOX_READY" SANDBOX_READY "$(jqf "$W/pod-a.inspect" .status.state)"
expect_eq "$H: the pod's runtime handler is $H" "$H" "$(jqf "$W/pod-a.inspect" .info.runtimeHandler)"
expect_match "$H: the pod has an address on the bridge's subnet" '^10\.77\.88\.[0-9]+$' "$(jqf "$W/pod-a.inspect" .status.network.ip)"
pause=$(jqf "$W/pod-a.inspect" .info.pid)
expect_eq "$H: the runtime's own state has the pod's sandbox running, with containerd's pid" \
	"running $pause" "$("$RT" --root "$RTROOT" state "$POD_A" 2>&1 | jq -r '"\(.status) \(.pid)"' 2>&1)"
expect_called "$H: the shim ran $H create for the pod" "create .*$POD_A\$"
if [ -n "$pause" ] && [ "$(netns_of "$pause")" != "$(netns_of $$)" ]; then
	ok "$H: the pod's network namespace is its own"
else
	not_ok "$H: the pod's network namespace is its own" "pause pid $pause: $(netns_of "$pause" 2>&1), here: $(netns_of $$)"
fi
pod_ip=$(jqf "$W/pod-a.inspect" .status.network.ip)
check "$H: the host reaches the pod's address over the bridge" busybox ping -c 1 -W 5 "$pod_ip"
expect_eq "$H: the pod's network has no default route" "" \
	"$(nsenter -t "$pause" -n ip route show default 2>&1)"

# --- a container with limits --------------------------------------------------------------
jq -n --arg img "$IMAGE" '{
	metadata: {name: "limits"}, image: {image: $img},
	command: ["sh", "-c", "echo hello-stdout; echo hello-stderr >&2; exec sleep 3600"],
	log_path: "limits.log",
	linux: {resources: {memory_limit_in_bytes: 67108864, cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512},
		security_context: {namespace_options: {network: 0, pid: 1}}}
}' >"$W/ctr-limits.json"
check "$H: crictl create a container with memory and CPU limits" crictl_ create "$POD_A" "$W/ctr-limits.json" "$W/pod-a.json"
CTR=$OUT
check "$H: crictl start" crictl_ start "$CTR"
wait_for "running" 30 sh -c "'$CRICTL' inspect '$CTR' | jq -e '.status.state == \"CONTAINER_RUNNING\"'"
pid=$(pid_of "$CTR")
expect_eq "$H: the container is CONTAINER_RUNNING" CONTAINER_RUNNING "$(crictl_ inspect "$CTR" | jq -r .status.state)"
memdir=$(cgroup_v1_dir "$pid" memory)
cpudir=$(cgroup_v1_dir "$pid" cpu)
expect_eq "$H: its memory cgroup is $ABS_PARENT/ID (the cgroupfs parent, absolute)" \
	"/sys/fs/cgroup/memory$ABS_PARENT/$CTR" "$memdir"
expect_eq "$H: host memory.limit_in_bytes is 64M" 67108864 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
expect_eq "$H: host cpu.cfs_quota_us is 50000" 50000 "$(cat "$cpudir/cpu.cfs_quota_us" 2>&1)"
expect_eq "$H: host cpu.shares is 512" 512 "$(cat "$cpudir/cpu.shares" 2>&1)"
check "$H: the container reads its own limit" crictl_ exec -s "$CTR" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
expect_eq "$H: memory.limit_in_bytes inside is 64M" 67108864 "$OUT"

# --- exec ---------------------------------------------------------------------------------
check "$H: crictl exec -s prints the process's output" crictl_ exec -s "$CTR" sh -c 'echo exec-$(id -u) $(cat /proc/1/comm)'
expect_eq "$H: exec runs as uid 0 next to the container's sleep" "exec-0 sleep" "$OUT"
check_status "$H: crictl exec -s fails for a command that exits 3" 1 crictl_ exec -s "$CTR" sh -c 'exit 3'
expect_match "$H: crictl exec -s reports exit status 3" "exited with 3" "$OUT"
check "$H: crictl exec -i streams stdin and stdout" \
	sh -c "echo streamed-in | timeout 60 '$CRICTL' exec -i '$CTR' sh -c 'read x; echo got \$x'"
expect_eq "$H: streaming exec read its stdin" "got streamed-in" "$OUT"
# timeout --foreground: a plain timeout moves crictl into its own process group, which is not
# the pty's foreground group when script's shell does not exec it (dash, as when SHELL is
# unset on CI): crictl's switch to raw mode then stops it with SIGTTOU and the exec never runs.
check "$H: crictl exec -it gets a terminal" \
	script -qec "timeout --foreground 60 '$CRICTL' exec -it '$CTR' sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null ||
	exec_diagnostics
expect_match "$H: exec -t: stdin and stdout are a terminal" 'IS-A-TTY$' "$(tr -d '\r\0' <<<"$OUT")"
expect_match "$H: exec -t: the terminal is a /dev/pts device" '/dev/pts/[0-9]+$' "$(tr -d '\r\0' <<<"$OUT")"
expect_called "$H: the shim ran $H exec for the container" "exec .*$CTR\$"

# --- logs, update, stats ------------------------------------------------------------------
wait_for "logs" 15 sh -c "'$CRICTL' logs '$CTR' 2>&1 | grep -q hello-stderr"
check "$H: crictl logs" crictl_ logs "$CTR"
expect_match "$H: logs have the container's stdout" '^hello-stdout$' "$OUT"
expect_match "$H: logs have the container's stderr" '^hello-stderr$' "$OUT"
check "$H: crictl update --memory 128M --cpu-quota 30000" crictl_ update --memory 134217728 --cpu-quota 30000 "$CTR"
expect_eq "$H: host memory.limit_in_bytes is 128M after update" 134217728 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
expect_eq "$H: host cpu.cfs_quota_us is 30000 after update" 30000 "$(cat "$cpudir/cpu.cfs_quota_us" 2>&1)"
check "$H: the container reads its updated limit" crictl_ exec -s "$CTR" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
expect_eq "$H: memory.limit_in_bytes inside is 128M" 134217728 "$OUT"
expect_called "$H: the shim ran $H update for the container" "update .*$CTR\$"
check "$H: crictl stats" crictl_ stats -o json --id "$CTR"
expect_match "$H: stats count the container's memory" '^[1-9][0-9]*$' \
	"$(jq -r '.stats[0].memory.workingSetBytes.value' <<<"$OUT" 2>&1)"
expect_match "$H: stats count the container's CPU time" '^[1-9][0-9]*$' \
	"$(jq -r '.stats[0].cpu.usageCoreNanoSeconds.value' <<<"$OUT" 2>&1)"

# --- a pod on the host's network, cgroup parent in kubelet's systemd naming ---------------
SLICE="kubepods-besteffort-pod${H}b.slice"
jq -n --arg log "$W/logs/b" --arg parent "$SLICE" --arg h "$H" '{
	metadata: {name: ("huskcri-host-net-" + $h), namespace: "default", uid: ("uid-b-" + $h), attempt: 0},
	log_directory: $log,
	linux: {cgroup_parent: $parent, security_context: {namespace_options: {network: 2}}}
}' >"$W/pod-b.json"
mkdir -p "$W/logs/b"
check "$H: crictl runp: a pod on the host's network" crictl_ runp --runtime "$H" "$W/pod-b.json"
POD_B=$OUT
jq -n --arg img "$IMAGE" '{metadata: {name: "hostnet"}, image: {image: $img},
	command: ["sleep", "3600"], log_path: "hostnet.log"}' >"$W/ctr-b.json"
check "$H: crictl run a container in it" crictl_ create "$POD_B" "$W/ctr-b.json" "$W/pod-b.json"
CTR_B=$OUT
check "$H: crictl start it" crictl_ start "$CTR_B"
pid_b=$(pid_of "$CTR_B")
expect_eq "$H: the container shares the host's network namespace" "$(netns_of $$)" "$(netns_of "$pid_b" 2>&1)"
check "$H: the container sees the host's bridge" crictl_ exec -s "$CTR_B" cat /sys/class/net/huskcri0/operstate
expect_eq "$H: its memory cgroup is SLICE:cri-containerd:ID below the runtime's own (cgroupfs driver)" \
	"$(cgroup_v1_dir $$ memory)/$SLICE:cri-containerd:$CTR_B" "$(cgroup_v1_dir "$pid_b" memory)"

# --- stop and remove ----------------------------------------------------------------------
check "$H: crictl stop (sleep as PID 1 ignores SIGTERM: killed after 2s)" crictl_ stop -t 2 "$CTR"
expect_eq "$H: the container is CONTAINER_EXITED with 137" "CONTAINER_EXITED 137" \
	"$(crictl_ inspect "$CTR" | jq -r '"\(.status.state) \(.status.exitCode)"')"
expect_eq "$H: its memory cgroup is gone" "" "$(ls -d "$memdir" 2>/dev/null)"
check "$H: crictl rm" crictl_ rm "$CTR"
check "$H: crictl rm -f a running container" crictl_ rm -f "$CTR_B"
for pod in "$POD_A" "$POD_B"; do
	check "$H: crictl stopp" crictl_ stopp "$pod"
	check "$H: crictl rmp" crictl_ rmp "$pod"
done
expect_eq "$H: crictl lists no pod" "" "$(crictl_ pods -q 2>&1)"
expect_eq "$H: the runtime's root holds no container" "" "$("$RT" --root "$RTROOT" list -q 2>&1)"
expect_eq "$H: no process of the containers is left" "" "$(ps -o pid= -p "$pid,$pid_b,$pause" 2>/dev/null)"
expect_eq "$H: no network namespace of a pod is left" "" \
	"$(find "$E/containerd/state/io.containerd.grpc.v1.cri" -path '*netns*' -type f 2>/dev/null)"
expect_eq "$H: no pod address is left allocated" "" \
	"$(find "$E/cni/ipam" -type f -name '10.77.88.*' 2>/dev/null)"
expect_eq "$H: no veth is left on the bridge" "" "$(ip -br link show master huskcri0 2>&1)"
clients_finish >/dev/null
