#!/usr/bin/env bash
# podman.sh: podman 4.3 (Debian's package, via conmon) drives husk with --runtime.
#
# podman runs with --root/--runroot under a temp dir, --runtime <husk wrapper>, the cgroupfs
# manager, the file events backend and no network; a containers.conf under the temp dir keeps
# its locks, tmp dir and network config there too. The image is a busybox tarball brought in
# with `podman import`. Scenarios: run (output, exit status), run -d + exec, --memory and
# --pids-limit (host cgroup files), --user, -v bind mount, -t, pause/unpause, podman top,
# stop (SIGTERM reaches PID 1), rm.
#
#   tests/clients/podman.sh          (root; HUSK=path overrides ./husk)
#   CLIENTS_KEEP=1 keeps the temp dir (logs, argv log) after the run.
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=podman-scenarios.sh
. "$here/podman-scenarios.sh"

"$REPO/scripts/deps.sh" podman conmon busybox-static jq util-linux || exit 2
clients_setup podman default-root

P=$T/podman
IMG=localhost/$TAG:latest
mkdir -p "$P" "$T/share"
chmod 777 "$T/share"
# podman's default places for state, locks and network config must stay untouched.
watch_host_paths /var/lib/containers /run/containers /run/libpod /var/run/libpod /dev/shm/libpod_lock \
	/etc/cni/net.d/87-podman-bridge.conflist /etc/containers/networks

podman_write_configs "$P/runroot"
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf

# As root, podman gives the runtime no --root (runc then uses /run/runc): --runtime-flag keeps
# husk's state under the temp dir. podman's cleanup process (conmon's exit command) drops
# --runtime-flag: the wrapper adds the same --root to calls without one ("default-root").
PM_OPTS=(--root "$P/root" --runroot "$P/runroot" --runtime "$HUSKW" --runtime-flag "root=$HROOT"
	--cgroup-manager=cgroupfs --events-backend=file)
pm() {
	timeout "$CLIENTS_TIMEOUT" podman "${PM_OPTS[@]}" "$@"
}
PM="podman ${PM_OPTS[*]}"
# Options for every container: no network, cgroups under a parent named after this run.
RUN_OPTS=(--network none --cgroup-parent "/$TAG")

engine_stop() {
	[ -d "$P/root" ] || return 0
	pm rm -f -t 0 -a >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
}

make_rootfs_tar "$T/rootfs.tar"
check "podman import of a busybox tarball" pm import "$T/rootfs.tar" "$IMG"
check "podman images lists it" pm images --format '{{.Repository}}:{{.Tag}}'
expect_match "the image is $IMG" "^$IMG\$" "$OUT"

# --- run ----------------------------------------------------------------------------------
check "podman run --rm prints the container's output" \
	pm run --rm "${RUN_OPTS[@]}" --name "$TAG-hello" "$IMG" sh -c 'echo hello from pid $$; id -u'
expect_eq "output comes from the container's PID 1 as uid 0" "hello from pid 1
0" "$OUT"
expect_husk_called "conmon ran husk create, --root and JSON log given" "--root=$HROOT .*--log-format=json .* create .*--bundle "
expect_husk_called "podman ran husk start" " start [0-9a-f]{64}\$"
expect_husk_called "podman ran husk delete" " delete .*[0-9a-f]{64}\$"
check_status "podman run passes the exit status 7 on" 7 \
	pm run --rm "${RUN_OPTS[@]}" "$IMG" sh -c 'exit 7'

check "podman run --user 1000:1000" \
	pm run --rm "${RUN_OPTS[@]}" --user 1000:1000 "$IMG" sh -c 'id -u; id -g; grep -E "^(Uid|Gid):" /proc/self/status'
expect_match "id -u is 1000" "^1000\$" "$(sed -n 1p <<<"$OUT")"
expect_match "id -g is 1000" "^1000\$" "$(sed -n 2p <<<"$OUT")"
expect_match "/proc/self/status Uid is 1000 x4" "^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000\$" "$OUT"

podman_bind_scenario

podman_tty_scenario

# --- a detached container with limits -----------------------------------------------------
name=$TAG-long
check "podman run -d --memory 64m --pids-limit 50" \
	pm run -d "${RUN_OPTS[@]}" --name "$name" --memory 64m --pids-limit 50 -v "$T/share:/share" "$IMG" \
	sh -c 'trap "echo got SIGTERM >/share/term; exit 143" TERM; echo started >/share/started; while :; do sleep 0.2; done'
cid=$(tail -n 1 <<<"$OUT")
wait_for "container started" 10 test -s "$T/share/started"
pid=$(pm inspect -f '{{.State.Pid}}' "$name" 2>&1)
expect_match "podman knows the container's pid" "^[0-9]+\$" "$pid"
state=$(husk_state "$HROOT" "$cid" 2>&1)
expect_eq "husk's own state (--root $HROOT) has the container running" running "$(jq -r .status <<<"$state" 2>/dev/null)"
expect_eq "husk's state pid is podman's pid" "$pid" "$(jq -r .pid <<<"$state" 2>/dev/null)"
memdir=$(cgroup_v1_dir "$pid" memory)
expect_match "the memory cgroup is under /$TAG" "^/sys/fs/cgroup/memory/$TAG/" "$memdir"
expect_eq "host memory.limit_in_bytes is 64M" 67108864 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
pidsdir=$(cgroup_v1_dir "$pid" pids)
expect_eq "host pids.max is 50" 50 "$(cat "$pidsdir/pids.max" 2>&1)"

podman_exec_scenario "$name" "$cid"

check "podman pause" pm pause "$name"
expect_eq "podman says paused" paused "$(pm inspect -f '{{.State.Status}}' "$name" 2>&1)"
freezer=$(cgroup_v1_dir "$pid" freezer)
expect_eq "host freezer.state is FROZEN" FROZEN "$(cat "$freezer/freezer.state" 2>&1)"
expect_husk_called "podman ran husk pause" " pause $cid\$"
check "podman unpause" pm unpause "$name"
expect_eq "podman says running" running "$(pm inspect -f '{{.State.Status}}' "$name" 2>&1)"
expect_eq "host freezer.state is THAWED" THAWED "$(cat "$freezer/freezer.state" 2>&1)"

podman_stop_scenario "$name" "$cid"
expect_eq "the container's memory cgroup is gone" "" "$(ls -d "$memdir" 2>/dev/null)"

# --- shutdown -----------------------------------------------------------------------------
expect_eq "podman lists no container" "" "$(pm ps -aq 2>&1)"
check "podman rmi" pm rmi "$IMG"
remove_side_effect /var/lib/containers \
	"podman import writes the containers/image blob-info cache there whatever --root says"
# podman (with cgroupfs) leaves the --cgroup-parent directories and the "conmon" cgroup it puts
# conmon in; with every conmon gone they must be empty now.
for cg in $(leftover_cgroups); do
	[ -d "$cg/conmon" ] && rmdir "$cg/conmon" 2>/dev/null
	rmdir "$cg" 2>/dev/null || not_ok "the parent cgroup $cg is empty" "$(find "$cg" -type d)"
done
check_nothing_left
[ "$CLIENTS_FAIL" -eq 0 ] || show_husk_logs
clients_finish
