#!/usr/bin/env bash
# docker.sh: docker 20.10 (Debian's docker.io) drives husk: dockerd --add-runtime husk=PATH,
# docker run --runtime husk.
#
# dockerd runs by hand with --data-root, --exec-root, --pidfile and its socket under a temp dir,
# no bridge, no iptables, the cgroupfs driver, containers under the cgroup parent /<tag>, and
# its own containerd (config.toml as in containerd.sh). The image is a busybox tarball brought
# in with `docker import`. Scenarios: run (output, exit status), run -d + exec, logs, docker
# top, pause/unpause, docker update, stop (SIGTERM reaches PID 1), --memory, --read-only,
# --cap-drop ALL --cap-add X, seccomp default and unconfined, --device.
#
#   tests/clients/docker.sh          (root; HUSK=path overrides ./husk)
#   CLIENTS_KEEP=1 keeps the temp dir (logs, argv log) after the run.
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

"$REPO/scripts/deps.sh" docker.io containerd busybox-static jq util-linux || exit 2
CONTAINERD_PID=
DOCKERD_PID=
clients_setup docker

D=$T/docker
IMG=$TAG:latest
# Debian's docker.io client; another docker may come first in PATH.
DOCKER=/usr/bin/docker
mkdir -p "$D/data" "$D/exec" "$D/cli" "$T/share"
chmod 777 "$T/share"
export DOCKER_CONFIG=$D/cli
# docker's and containerd's default places must stay untouched; containerd 1.6 puts its shims'
# sockets in /run/containerd/s whatever its state dir (removed at the end if this run made it).
watch_host_paths /var/lib/docker /run/docker /run/docker.sock /var/run/docker.sock /etc/docker \
	/run/containerd /var/lib/containerd /opt/containerd

# daemon.json: only the trust key (dockerd 20.10 writes it to /etc/docker/key.json otherwise).
cat >"$D/daemon.json" <<EOF
{"deprecated-key-path": "$D/key.json"}
EOF

dk() {
	timeout "$CLIENTS_TIMEOUT" "$DOCKER" -H "unix://$D/docker.sock" "$@"
}
# Options for every container: husk, no network.
RUN_OPTS=(--runtime husk --network none)

engine_stop() {
	local ids
	if [ -S "$D/docker.sock" ]; then
		ids=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	fi
	[ -n "$DOCKERD_PID" ] && stop_pid "$DOCKERD_PID" 20
	[ -n "$CONTAINERD_PID" ] && stop_pid "$CONTAINERD_PID" 15
}

# Its own containerd (the one dockerd would start creates /opt/containerd).
C=$T/containerd
containerd_config "$C"
start_daemon containerd "$T/containerd.log" containerd --config "$C/config.toml"
CONTAINERD_PID=$DAEMON_PID
if ! wait_for "containerd socket" 30 ctr --address "$C/containerd.sock" version; then
	not_ok "containerd starts" "$(tail -n 30 "$T/containerd.log")"
	exit 1
fi
start_daemon dockerd "$T/dockerd.log" dockerd \
	--config-file "$D/daemon.json" \
	--data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/docker.pid" \
	-H "unix://$D/docker.sock" \
	--bridge=none --iptables=false --ip-masq=false --ip6tables=false --userland-proxy=false \
	--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$TAG" \
	--containerd "$C/containerd.sock" --containerd-namespace "$TAG" --containerd-plugins-namespace "$TAG-plugins" \
	--storage-driver overlay2 \
	--add-runtime "husk=$HUSKW"
DOCKERD_PID=$DAEMON_PID
if ! wait_for "dockerd socket" 60 "$DOCKER" -H "unix://$D/docker.sock" version; then
	not_ok "dockerd starts" "$(tail -n 30 "$T/dockerd.log")"
	exit 1
fi
ok "dockerd starts with its data and exec roots under $D"
check "docker info lists the husk runtime" dk info --format '{{json .Runtimes}}'
expect_match "runtime husk is $HUSKW" "\"husk\":\\{\"path\":\"$HUSKW\"" "$OUT"

make_rootfs_tar "$T/rootfs.tar"
check "docker import of a busybox tarball" dk import "$T/rootfs.tar" "$IMG"
check "docker images lists it" dk images --format '{{.Repository}}:{{.Tag}}'
expect_match "the image is $IMG" "^$IMG\$" "$OUT"

# dockerd 20.10 gives the shim Root <exec-root>/runtime-runc (named after the default runtime,
# whatever the runtime); the shim adds the namespace. BinaryName is the husk wrapper.
HROOT_D=$D/exec/runtime-runc/$TAG

# --- run ----------------------------------------------------------------------------------
check "docker run --rm prints the container's output" \
	dk run --rm "${RUN_OPTS[@]}" "$IMG" sh -c 'echo hello from pid $$; id -u'
expect_eq "output comes from the container's PID 1 as uid 0" "hello from pid 1
0" "$OUT"
expect_husk_called "the shim ran husk create, with its root under $D/exec" \
	"--root $HROOT_D .* create .*--bundle "
check_status "docker run passes the exit status 7 on" 7 dk run --rm "${RUN_OPTS[@]}" "$IMG" sh -c 'exit 7'

check "docker run -t gives the container a terminal" \
	script -qec "$DOCKER -H unix://$D/docker.sock run --rm -t ${RUN_OPTS[*]} $IMG sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null
expect_match "run -t: stdin and stdout are a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"
expect_match "run -t: tty is a /dev/pts device" "/dev/pts/[0-9]+\$" "$(tr -d '\r\0' <<<"$OUT")"
expect_husk_called "the shim ran husk create with --console-socket" " create .*--console-socket "

# --- read-only, capabilities, seccomp, devices --------------------------------------------
check_status "docker run --read-only: writing / fails" 1 \
	dk run --rm "${RUN_OPTS[@]}" --read-only "$IMG" sh -c 'echo x >/etc/x'
expect_match "the write fails with EROFS" "Read-only file system" "$OUT"
check "docker run --read-only: /proc/mounts shows / read-only" \
	dk run --rm "${RUN_OPTS[@]}" --read-only "$IMG" sh -c 'grep " / " /proc/mounts'
expect_match "the root mount has ro" "^[^ ]+ / [^ ]+ ro[, ]" "$OUT"

check "docker run --cap-drop ALL --cap-add NET_BIND_SERVICE" \
	dk run --rm "${RUN_OPTS[@]}" --cap-drop ALL --cap-add NET_BIND_SERVICE "$IMG" grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status
# CAP_NET_BIND_SERVICE is bit 10.
expect_match "CapEff is only NET_BIND_SERVICE" "^CapEff:[[:space:]]+0000000000000400\$" "$OUT"
expect_match "CapBnd is only NET_BIND_SERVICE" "^CapBnd:[[:space:]]+0000000000000400\$" "$OUT"
check "docker run --cap-drop ALL: chown is refused" \
	dk run --rm "${RUN_OPTS[@]}" --cap-drop ALL "$IMG" sh -c 'touch /tmp/f; chown 1000 /tmp/f 2>&1; echo status=$?'
expect_match "chown without CAP_CHOWN fails" "^status=1\$" "$OUT"

check "docker run with the default seccomp profile" \
	dk run --rm "${RUN_OPTS[@]}" "$IMG" grep -E '^Seccomp(_filters)?:' /proc/self/status
expect_match "Seccomp is 2 (filter)" "^Seccomp:[[:space:]]+2\$" "$OUT"
check "docker run --security-opt seccomp=unconfined" \
	dk run --rm "${RUN_OPTS[@]}" --security-opt seccomp=unconfined "$IMG" grep -E '^Seccomp:' /proc/self/status
expect_match "Seccomp is 0 (disabled)" "^Seccomp:[[:space:]]+0\$" "$OUT"
# Docker's default profile allows unshare(2) only with CAP_SYS_ADMIN; the kernel alone lets any
# process make a user namespace. So unshare -U tells a loaded profile from none.
check_status "default seccomp: unshare -U is refused" 1 \
	dk run --rm "${RUN_OPTS[@]}" "$IMG" unshare -U true
expect_match "unshare(CLONE_NEWUSER) fails with EPERM" "Operation not permitted" "$OUT"
check "seccomp=unconfined: unshare -U works" \
	dk run --rm "${RUN_OPTS[@]}" --security-opt seccomp=unconfined "$IMG" unshare -U true

check "docker run --device /dev/loop-control" \
	dk run --rm "${RUN_OPTS[@]}" --device /dev/loop-control:/dev/xloop "$IMG" sh -c 'ls -l /dev/xloop; head -c 0 </dev/xloop && echo opened'
expect_match "the device node is c 10,237" "^crw.* 10, +237 .*/dev/xloop\$" "$OUT"
expect_match "the container opens it" "^opened\$" "$OUT"
check_status "without --device it is not there" 1 \
	dk run --rm "${RUN_OPTS[@]}" "$IMG" ls /dev/loop-control

# --- a detached container -----------------------------------------------------------------
name=$TAG-long
check "docker run -d --memory 64m --device, a bind mount" \
	dk run -d "${RUN_OPTS[@]}" --name "$name" --memory 64m --device /dev/loop-control:/dev/xloop \
	-v "$T/share:/share" "$IMG" \
	sh -c 'trap "echo got SIGTERM >/share/term; exit 143" TERM; echo started; echo started >/share/started; while :; do sleep 0.2; done'
cid=$(tail -n 1 <<<"$OUT")
wait_for "container started" 10 test -s "$T/share/started"
pid=$(dk inspect -f '{{.State.Pid}}' "$name" 2>&1)
expect_match "docker knows the container's pid" "^[0-9]+\$" "$pid"
state=$(husk_state "$HROOT_D" "$cid" 2>&1)
expect_eq "husk's own state (--root $HROOT_D) has the container running" running "$(jq -r .status <<<"$state" 2>/dev/null)"
expect_eq "husk's state pid is docker's pid" "$pid" "$(jq -r .pid <<<"$state" 2>/dev/null)"
memdir=$(cgroup_v1_dir "$pid" memory)
expect_eq "the memory cgroup is /$TAG/<id>" "/sys/fs/cgroup/memory/$TAG/$cid" "$memdir"
expect_eq "host memory.limit_in_bytes is 64M" 67108864 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
devdir=$(cgroup_v1_dir "$pid" devices)
expect_match "host devices.list allows c 10:237" "^c 10:237 rwm\$" "$(cat "$devdir/devices.list" 2>&1)"

check "docker logs" dk logs "$name"
expect_eq "logs show the container's stdout" started "$OUT"

check "docker exec prints the process's output" \
	dk exec "$name" sh -c 'echo exec sees $(cat /proc/1/cmdline | tr "\\0" " " | cut -c1-10); cat /share/started'
expect_eq "exec output" "exec sees sh -c trap
started" "$OUT"
expect_husk_called "the shim ran husk exec" "--root $HROOT_D .* exec .*--process .* $cid\$"
check_status "docker exec passes exit status 5 on" 5 dk exec "$name" sh -c 'exit 5'
check "docker exec --user 1000" dk exec --user 1000 "$name" id -u
expect_eq "exec runs as uid 1000" 1000 "$OUT"

check "docker exec -t gets a terminal" \
	script -qec "$DOCKER -H unix://$D/docker.sock exec -t $name sh -c 'tty; test -t 0 && echo IS-A-TTY'" /dev/null
expect_match "exec -t: stdin is a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"

check "docker top" dk top "$name"
expect_match "top lists PID 1's command" "sh -c trap" "$OUT"

check "docker update --memory 128m --memory-swap 256m --cpu-shares 512 --pids-limit 77" \
	dk update --memory 128m --memory-swap 256m --cpu-shares 512 --pids-limit 77 "$name"
expect_husk_called "the shim ran husk update" "--root $HROOT_D .* update .*$cid\$"
expect_eq "host memory.limit_in_bytes is now 128M" 134217728 "$(cat "$memdir/memory.limit_in_bytes" 2>&1)"
if [ -f "$memdir/memory.memsw.limit_in_bytes" ]; then
	expect_eq "host memory.memsw.limit_in_bytes is 256M" 268435456 "$(cat "$memdir/memory.memsw.limit_in_bytes" 2>&1)"
fi
expect_eq "host cpu.shares is 512" 512 "$(cat "$(cgroup_v1_dir "$pid" cpu)/cpu.shares" 2>&1)"
expect_eq "host pids.max is 77" 77 "$(cat "$(cgroup_v1_dir "$pid" pids)/pids.max" 2>&1)"

check "docker pause" dk pause "$name"
expect_eq "docker says paused" paused "$(dk inspect -f '{{.State.Status}}' "$name" 2>&1)"
freezer=$(cgroup_v1_dir "$pid" freezer)
expect_eq "host freezer.state is FROZEN" FROZEN "$(cat "$freezer/freezer.state" 2>&1)"
expect_husk_called "the shim ran husk pause" "--root $HROOT_D .* pause $cid\$"
check "docker unpause" dk unpause "$name"
expect_eq "docker says running" running "$(dk inspect -f '{{.State.Status}}' "$name" 2>&1)"
expect_eq "host freezer.state is THAWED" THAWED "$(cat "$freezer/freezer.state" 2>&1)"

check "docker stop" dk stop -t 20 "$name"
expect_eq "SIGTERM reached the container's PID 1 (its trap ran)" "got SIGTERM" "$(cat "$T/share/term" 2>&1)"
expect_eq "the exit code is 143" 143 "$(dk inspect -f '{{.State.ExitCode}}' "$name" 2>&1)"
expect_husk_called "the shim ran husk kill with signal 15" "--root $HROOT_D .* kill $cid 15\$"
check "docker rm" dk rm "$name"
expect_eq "husk's root holds no container" "" "$(ls "$HROOT_D" 2>/dev/null)"
expect_eq "the container's memory cgroup is gone" "" "$(ls -d "$memdir" 2>/dev/null)"

# --- shutdown -----------------------------------------------------------------------------
expect_eq "docker lists no container" "" "$(dk ps -aq 2>&1)"
check "docker rmi" dk rmi "$IMG"
stop_pid "$DOCKERD_PID" 30
DOCKERD_PID=
expect_eq "dockerd removed its pid file" "" "$(ls "$D/docker.pid" 2>/dev/null)"
# dockerd (cgroupfs) leaves the --cgroup-parent directories: they must be empty now.
for cg in $(leftover_cgroups); do
	rmdir "$cg" 2>/dev/null || not_ok "the parent cgroup $cg is empty" "$(find "$cg" -type d)"
done
stop_pid "$CONTAINERD_PID" 15
CONTAINERD_PID=
check_containerd_run_dir
remove_side_effect /run/docker "dockerd 20.10 keeps plugin state in /run/docker/plugins whatever --exec-root says"
check_nothing_left
[ "$CLIENTS_FAIL" -eq 0 ] || {
	show_husk_logs
	echo "# --- dockerd log: errors and warnings"
	grep -E 'level=(error|warning|fatal)' "$T/dockerd.log" | tail -n 20 | sed 's/^/#   /'
}
clients_finish
