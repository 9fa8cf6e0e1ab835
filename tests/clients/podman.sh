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

"$REPO/scripts/deps.sh" podman conmon busybox-static jq util-linux || exit 2
clients_setup podman default-root

P=$T/podman
IMG=localhost/$TAG:latest
mkdir -p "$P" "$T/share"
chmod 777 "$T/share"
# podman's default places for state, locks and network config must stay untouched.
watch_host_paths /var/lib/containers /run/containers /run/libpod /var/run/libpod /dev/shm/libpod_lock \
	/etc/cni/net.d/87-podman-bridge.conflist /etc/containers/networks

# containers.conf for what has no command-line flag: file locks instead of /dev/shm, the tmp
# dir, the network config dir, and rlimits within this machine's hard limits (podman asks for
# 1048576 open files by default; without CAP_SYS_RESOURCE no runtime can set that here).
cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_config_dir = "$P/net"
[engine]
# podman passes --log and --log-format=json only to runtimes named here.
runtime_supports_json = ["crun", "runc", "husk"]
lock_type = "file"
tmp_dir = "$P/tmp"
# The cleanup process conmon starts gets no --events-backend: say it here too.
events_logger = "file"
events_logfile_path = "$P/events.log"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF=$P/containers.conf
# storage.conf only to stop podman from reading the host's; --root/--runroot say the same.
cat >"$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF
export CONTAINERS_STORAGE_CONF=$P/storage.conf

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

echo "from the host" >"$T/share/in"
check "podman run -v bind mount, read and write" \
	pm run --rm "${RUN_OPTS[@]}" -v "$T/share:/share" "$IMG" sh -c 'cat /share/in; echo from the container >/share/out'
expect_eq "the container read the host's file" "from the host" "$OUT"
expect_eq "the host reads the container's file" "from the container" "$(cat "$T/share/out" 2>&1)"

check "podman run -t gives the container a terminal" \
	script -qec "$PM run --rm -t --network none --cgroup-parent /$TAG $IMG sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null
expect_match "run -t: stdin and stdout are a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"
expect_match "run -t: tty is a /dev/pts device" "/dev/pts/[0-9]+\$" "$(tr -d '\r\0' <<<"$OUT")"

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

check "podman exec prints the process's output" \
	pm exec "$name" sh -c 'echo exec sees $(cat /proc/1/cmdline | tr "\\0" " " | cut -c1-10); cat /share/started'
expect_eq "exec output" "exec sees sh -c trap
started" "$OUT"
expect_husk_called "conmon ran husk exec" " exec .*$cid"
check_status "podman exec passes exit status 5 on" 5 pm exec "$name" sh -c 'exit 5'
check "podman exec --user 1000" pm exec --user 1000 "$name" id -u
expect_eq "exec runs as uid 1000" 1000 "$OUT"
check "podman exec -t gets a terminal" \
	script -qec "$PM exec -t $name sh -c 'tty; test -t 0 && echo IS-A-TTY'" /dev/null
expect_match "exec -t: stdin is a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"

check "podman top" pm top "$name" pid args
expect_match "top lists PID 1's command" "^1 +sh -c trap" "$OUT"

check "podman pause" pm pause "$name"
expect_eq "podman says paused" paused "$(pm inspect -f '{{.State.Status}}' "$name" 2>&1)"
freezer=$(cgroup_v1_dir "$pid" freezer)
expect_eq "host freezer.state is FROZEN" FROZEN "$(cat "$freezer/freezer.state" 2>&1)"
expect_husk_called "podman ran husk pause" " pause $cid\$"
check "podman unpause" pm unpause "$name"
expect_eq "podman says running" running "$(pm inspect -f '{{.State.Status}}' "$name" 2>&1)"
expect_eq "host freezer.state is THAWED" THAWED "$(cat "$freezer/freezer.state" 2>&1)"

check "podman stop" pm stop -t 20 "$name"
expect_eq "SIGTERM reached the container's PID 1 (its trap ran)" "got SIGTERM" "$(cat "$T/share/term" 2>&1)"
expect_eq "the exit code is 143" 143 "$(pm inspect -f '{{.State.ExitCode}}' "$name" 2>&1)"
expect_husk_called "podman ran husk kill with SIGTERM" " kill $cid (15|TERM|SIGTERM)\$"
check "podman rm" pm rm "$name"
expect_eq "husk's root holds no container" "" "$(ls "$HROOT" 2>/dev/null)"
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
