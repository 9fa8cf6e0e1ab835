#!/usr/bin/env bash
# containerd.sh: containerd 1.6 (Debian's package) drives husk through the runc shim v2.
#
# A private containerd (config.toml: root, state and sockets under a temp dir, CRI off) imports a
# busybox OCI image made here, and `ctr run --runc-binary <husk wrapper> --runc-root <dir>` sets
# the shim's BinaryName and Root options, so every runtime call of the shim goes to husk.
# Scenarios: run with output and exit status, detached task with a memory limit, task exec
# (output, exit status, tty), pause/resume, kill (SIGTERM reaches PID 1), delete, a tty.
#
#   tests/clients/containerd.sh          (root; HUSK=path overrides ./husk)
#   CLIENTS_KEEP=1 keeps the temp dir (logs, argv log) after the run.
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

"$REPO/scripts/deps.sh" containerd busybox-static jq util-linux || exit 2
clients_setup containerd

C=$T/containerd
IMG=docker.io/library/$TAG:latest
mkdir -p "$C" "$T/fifo" "$T/share"
chmod 777 "$T/share"

# containerd's default directories must stay untouched (see check_containerd_run_dir for the
# one exception).
watch_host_paths /run/containerd /var/lib/containerd /opt/containerd

containerd_config "$C"
CONTAINERD_PID=

engine_stop() {
	[ -S "$C/containerd.sock" ] || return 0
	local id
	for id in $(ctr_ task ls -q 2>/dev/null); do
		ctr_ task kill -s KILL "$id" >/dev/null 2>&1
	done
	sleep 0.5
	for id in $(ctr_ task ls -q 2>/dev/null); do
		ctr_ task delete -f "$id" >/dev/null 2>&1
	done
	for id in $(ctr_ container ls -q 2>/dev/null); do
		ctr_ container delete "$id" >/dev/null 2>&1
	done
	[ -n "$CONTAINERD_PID" ] && stop_pid "$CONTAINERD_PID" 15
}

ctr_() {
	timeout "$CLIENTS_TIMEOUT" ctr --address "$C/containerd.sock" --namespace "$TAG" "$@"
}
# The shim options that route the call to husk: BinaryName and Root.
HUSK_OPTS=(--runc-binary "$HUSKW" --runc-root "$HROOT" --fifo-dir "$T/fifo")

# task_pid ID: the pid containerd reports for the task's init.
task_pid() {
	ctr_ task ls | awk -v id="$1" '$1 == id {print $2}'
}
task_status() {
	ctr_ task ls | awk -v id="$1" '$1 == id {print $3}'
}

start_daemon containerd "$T/containerd.log" containerd --config "$C/config.toml"
CONTAINERD_PID=$DAEMON_PID
if ! wait_for "containerd socket" 30 ctr --address "$C/containerd.sock" version; then
	not_ok "containerd starts" "$(tail -n 30 "$T/containerd.log")"
	exit 1
fi
ok "containerd starts with its state under $C"

# --- image --------------------------------------------------------------------------------
make_rootfs_tar "$T/rootfs.tar"
make_oci_archive "$T/rootfs.tar" "$IMG" "$T/busybox-oci.tar"
check "ctr image import of a local busybox OCI archive" ctr_ image import "$T/busybox-oci.tar"
check "the imported image is listed" ctr_ image ls -q
expect_match "image list names $IMG" "^$IMG\$" "$OUT"

# --- run in the foreground ----------------------------------------------------------------
id=$TAG-hello
check "ctr run --rm prints the container's output" \
	ctr_ run --rm "${HUSK_OPTS[@]}" "$IMG" "$id" sh -c 'echo hello from pid $$; id -u'
expect_match "output comes from the container's PID 1" "^hello from pid 1\$" "$OUT"
expect_match "the container runs as uid 0" "^0\$" "$OUT"
expect_husk_called "the shim ran husk create for $id, with its root under $HROOT" \
	"--root $HROOT/$TAG .* create .*$id\$"
expect_husk_called "the shim ran husk start for $id" "--root $HROOT/$TAG .* start $id\$"
expect_husk_called "the shim ran husk delete for $id" "--root $HROOT/$TAG .* delete .*$id\$"

check_status "ctr run --rm passes the container's exit status 7 on" 7 \
	ctr_ run --rm "${HUSK_OPTS[@]}" "$IMG" "$TAG-status" sh -c 'exit 7'

# --- a detached task with a memory limit and a bind mount ---------------------------------
id=$TAG-long
check "ctr run -d with --memory-limit 64M" \
	ctr_ run -d "${HUSK_OPTS[@]}" --memory-limit 67108864 \
	--mount "type=bind,src=$T/share,dst=/share,options=rbind:rw" "$IMG" "$id" \
	sh -c 'trap "echo got SIGTERM >/share/term; exit 143" TERM; echo started >/share/started; while :; do sleep 0.2; done'
wait_for "task running" 10 test -s "$T/share/started"
expect_eq "the task is RUNNING" RUNNING "$(task_status "$id")"
pid=$(task_pid "$id")
state=$(husk_state "$HROOT/$TAG" "$id" 2>&1)
expect_eq "husk's own state has $id running" running "$(jq -r .status <<<"$state" 2>/dev/null)"
expect_eq "husk's state pid is the task's pid" "$pid" "$(jq -r .pid <<<"$state" 2>/dev/null)"
memdir=$(cgroup_v1_dir "$pid" memory)
expect_match "the task's memory cgroup is /$TAG/$id" "/sys/fs/cgroup/memory/$TAG/$id\$" "$memdir"
expect_eq "host memory.limit_in_bytes is 64M" 67108864 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
check "the container sees its memory cgroup in /proc/self/cgroup" \
	ctr_ task exec --fifo-dir "$T/fifo" --exec-id cg "$id" cat /proc/self/cgroup
expect_match "/proc/self/cgroup inside names /$TAG/$id" "^[0-9]+:memory:/$TAG/$id\$" "$OUT"

# --- exec ---------------------------------------------------------------------------------
check "ctr task exec prints the process's output" \
	ctr_ task exec --fifo-dir "$T/fifo" --exec-id e1 "$id" sh -c 'echo exec sees $(cat /proc/1/cmdline | tr "\\0" " " | cut -c1-10); cat /share/started'
expect_eq "exec output" "exec sees sh -c trap
started" "$OUT"
expect_husk_called "the shim ran husk exec for $id" "--root $HROOT/$TAG .* exec .*--process .* $id\$"
check_status "ctr task exec passes exit status 5 on" 5 \
	ctr_ task exec --fifo-dir "$T/fifo" --exec-id e2 "$id" sh -c 'exit 5'
check "ctr task exec --user 1000" \
	ctr_ task exec --fifo-dir "$T/fifo" --exec-id e3 --user 1000 "$id" id -u
expect_eq "exec runs as uid 1000" 1000 "$OUT"
check "ctr task exec -t gets a terminal" \
	script -qec "ctr --address $C/containerd.sock --namespace $TAG task exec --fifo-dir $T/fifo --exec-id e4 -t $id sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null
expect_match "exec -t: stdin and stdout are a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"
expect_match "exec -t: tty is a /dev/pts device" "/dev/pts/[0-9]+\$" "$(tr -d '\r\0' <<<"$OUT")"

# --- pause / resume -----------------------------------------------------------------------
check "ctr task pause" ctr_ task pause "$id"
expect_eq "the task is PAUSED" PAUSED "$(task_status "$id")"
freezer=$(cgroup_v1_dir "$pid" freezer)
expect_eq "host freezer.state is FROZEN" FROZEN "$(cat "$freezer/freezer.state" 2>&1)"
expect_husk_called "the shim ran husk pause" "--root $HROOT/$TAG .* pause $id\$"
check "ctr task resume" ctr_ task resume "$id"
expect_eq "the task is RUNNING again" RUNNING "$(task_status "$id")"
expect_eq "host freezer.state is THAWED" THAWED "$(cat "$freezer/freezer.state" 2>&1)"

# --- kill / delete ------------------------------------------------------------------------
check "ctr task kill (SIGTERM)" ctr_ task kill "$id"
wait_for "task stopped" 15 sh -c "[ \"\$(ctr --address $C/containerd.sock --namespace $TAG task ls | awk '\$1 == \"$id\" {print \$3}')\" = STOPPED ]"
expect_eq "the task is STOPPED" STOPPED "$(task_status "$id")"
expect_eq "SIGTERM reached the container's PID 1 (its trap ran)" "got SIGTERM" "$(cat "$T/share/term" 2>&1)"
expect_husk_called "the shim ran husk kill with signal 15" "--root $HROOT/$TAG .* kill $id 15\$"
check "ctr task delete" ctr_ task delete "$id"
expect_match "the task's exit status was 143" "exit code 143" "$OUT"
check "ctr container delete" ctr_ container delete "$id"
expect_eq "husk's root holds no container" "" "$(ls "$HROOT/$TAG" 2>/dev/null)"
expect_eq "the task's memory cgroup is gone" "" "$(ls -d "$memdir" 2>/dev/null)"

# --- a terminal for the init --------------------------------------------------------------
check "ctr run -t gives the container a terminal" \
	script -qec "ctr --address $C/containerd.sock --namespace $TAG run --rm -t ${HUSK_OPTS[*]} $IMG $TAG-tty sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null
expect_match "run -t: stdin and stdout are a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"
expect_match "run -t: tty is /dev/pts/0" "/dev/pts/0$" "$(tr -d '\r\0' <<<"$OUT")"
expect_husk_called "the shim ran husk create with --console-socket" "create .*--console-socket .*$TAG-tty\$"

# --- shutdown -----------------------------------------------------------------------------
expect_eq "ctr lists no container" "" "$(ctr_ container ls -q 2>&1)"
stop_pid "$CONTAINERD_PID" 15
CONTAINERD_PID=
# husk (like runc) creates the parents of cgroupsPath /<namespace>/<id> and leaves them; they
# must be empty by now.
for cg in $(leftover_cgroups); do
	rmdir "$cg" 2>/dev/null || not_ok "the namespace cgroup $cg is empty" "$(find "$cg" -type d)"
done
check_containerd_run_dir
expect_eq "no containerd-shim for this run is left" "" "$(pgrep -f "containerd-shim-runc-v2 -namespace $TAG" || true)"
check_nothing_left
[ "$CLIENTS_FAIL" -eq 0 ] || show_husk_logs
clients_finish
