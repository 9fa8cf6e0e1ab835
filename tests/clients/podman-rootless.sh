#!/usr/bin/env bash
# podman-rootless.sh: podman 4.3 run by an unprivileged user (husktest, `make test-user`, with
# subordinate ids) drives husk with --runtime: podman's scenarios of podman.sh, rootless.
#
# podman runs as the user with --root/--runroot under the temp dir, an XDG_RUNTIME_DIR there,
# the cgroupfs manager, the file events backend and no network. It runs husk inside its own user
# namespace (the user's id and subordinate ids mapped, through newuidmap), as root there, without
# --root: husk's default, $XDG_RUNTIME_DIR/husk. Scenarios: run (output, exit status, the
# mapping), --user, -v bind mount, -t, run -d + exec, podman top, stop (SIGTERM reaches PID 1),
# rm, and the limits of rootless without cgroup access on this host (podman drops them on cgroup
# v1 and refuses pause itself; the delegated cgroup v2 part is in the systemd VM).
#
#   tests/clients/podman-rootless.sh          (root; HUSK=path overrides ./husk)
#   CLIENTS_KEEP=1 keeps the temp dir (logs, argv log) after the run.
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=podman-scenarios.sh
. "$here/podman-scenarios.sh"

"$REPO/scripts/deps.sh" podman conmon uidmap busybox-static jq util-linux || exit 2
"$REPO/scripts/testuser.sh" || exit 2
RL_USER=husktest
RL_UID=$(id -u "$RL_USER")
RL_SUBUID=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
clients_setup podman-rootless

P=$T/podman
X=$T/xdg
IMG=localhost/$TAG:latest
# podman refuses a runroot longer than 50 characters: $T/rr, not under $P.
mkdir -p "$P/tmp" "$P/data" "$P/config" "$X" "$T/share" "$T/rr"
chmod 700 "$X"
chmod 777 "$T/share"
# The wrapper logs what the engine passed; the user writes those files.
touch "$T/husk-argv.log"
chown -R "$RL_USER:" "$P" "$X" "$T/share" "$T/rr" "$T/logs" "$T/husk-argv.log"
# The user's own podman configuration and storage (in its home) stay untouched.
HOME_DIR=$(getent passwd "$RL_USER" | cut -d: -f6)
watch_host_paths "$HOME_DIR/.local/share/containers" "$HOME_DIR/.config/containers" /run/user/"$RL_UID"

podman_write_configs "$T/rr"
chown "$RL_USER:" "$P/containers.conf" "$P/storage.conf"

PM_OPTS=(--root "$P/root" --runroot "$T/rr" --runtime "$HUSKW" --cgroup-manager=cgroupfs --events-backend=file)
PM_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME_DIR"
	USER="$RL_USER" LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$X" CONTAINERS_CONF="$P/containers.conf"
	XDG_DATA_HOME="$P/data" XDG_CONFIG_HOME="$P/config"
	CONTAINERS_STORAGE_CONF="$P/storage.conf")
pm() {
	timeout "$CLIENTS_TIMEOUT" setpriv --reuid="$RL_USER" --regid="$RL_USER" --init-groups -- \
		"${PM_ENV[@]}" podman "${PM_OPTS[@]}" "$@"
}
PM="setpriv --reuid=$RL_USER --regid=$RL_USER --init-groups -- ${PM_ENV[*]} podman ${PM_OPTS[*]}"
RUN_OPTS=(--network none)
# The runtime's default root (runc's is $XDG_RUNTIME_DIR/runc, whatever the wrapper is called).
HROOT=$X/$(basename "$HUSK")

engine_stop() {
	[ -d "$P/root" ] || return 0
	pm rm -f -t 0 -a >/dev/null 2>&1
	pm rmi -a -f >/dev/null 2>&1
	# Podman's rootless pause process keeps its user namespace alive between commands.
	[ -s "$P/tmp/pause.pid" ] && kill -KILL "$(cat "$P/tmp/pause.pid")" 2>/dev/null
	# The storage holds files of the user's subordinate ids; podman removes it in its namespace.
	pm system reset -f >/dev/null 2>&1
	[ -s "$P/tmp/pause.pid" ] && kill -KILL "$(cat "$P/tmp/pause.pid")" 2>/dev/null
	return 0
}

make_rootfs_tar "$T/rootfs.tar"
chmod 644 "$T/rootfs.tar"
check "podman import of a busybox tarball (as $RL_USER)" pm import "$T/rootfs.tar" "$IMG"

# --- run ----------------------------------------------------------------------------------
check "podman run --rm prints the container's output" \
	pm run --rm "${RUN_OPTS[@]}" --name "$TAG-hello" "$IMG" sh -c 'echo hello from pid $$; id -u; cat /proc/self/uid_map'
expect_eq "output comes from PID 1 as uid 0, the user's id and its subordinate ids mapped" "hello from pid 1
0" "$(sed -n 1,2p <<<"$OUT")"
expect_match "uid 0 is the user's uid $RL_UID" "^ *0 +$RL_UID +1\$" "$(sed -n 3p <<<"$OUT")"
expect_match "uid 1 is its first subordinate id $RL_SUBUID" "^ *1 +$RL_SUBUID +65536\$" "$(sed -n 4p <<<"$OUT")"
expect_husk_called "conmon ran husk create with a JSON log" "--log-format=json .*create .*--bundle "
expect_no_match "podman gave husk no --root" "--root" "$(grep -E ' create ' "$T/husk-argv.log")"
expect_husk_called "podman ran husk start" " start [0-9a-f]{64}\$"
expect_husk_called "podman ran husk delete" " delete .*[0-9a-f]{64}\$"
check_status "podman run passes the exit status 7 on" 7 \
	pm run --rm "${RUN_OPTS[@]}" "$IMG" sh -c 'exit 7'

check "podman run --user 1000:1000" \
	pm run --rm "${RUN_OPTS[@]}" --user 1000:1000 "$IMG" sh -c 'id -u; id -g; grep -E "^Uid:" /proc/self/status'
expect_eq "id -u and id -g are 1000" "1000
1000" "$(sed -n 1,2p <<<"$OUT")"
expect_match "/proc/self/status Uid is 1000 x4" "^Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000\$" "$(sed -n 3p <<<"$OUT")"

podman_bind_scenario
expect_eq "the file the container's root made belongs to the user on the host" "$RL_USER" "$(stat -c %U "$T/share/out" 2>&1)"

podman_tty_scenario

# --- a detached container -------------------------------------------------------------------
name=$TAG-long
check "podman run -d" \
	pm run -d "${RUN_OPTS[@]}" --name "$name" -v "$T/share:/share" "$IMG" \
	sh -c 'trap "echo got SIGTERM >/share/term; exit 143" TERM; echo started >/share/started; while :; do sleep 0.2; done'
cid=$(tail -n 1 <<<"$OUT")
wait_for "container started" 10 test -s "$T/share/started"
pid=$(pm inspect -f '{{.State.Pid}}' "$name" 2>&1)
expect_match "podman knows the container's pid" "^[0-9]+\$" "$pid"
state=$(husk_state "$HROOT" "$cid" 2>&1)
expect_eq "husk's state in its default root \$XDG_RUNTIME_DIR/husk has the container running" running "$(jq -r .status <<<"$state" 2>/dev/null)"
expect_eq "husk's state pid is podman's pid" "$pid" "$(jq -r .pid <<<"$state" 2>/dev/null)"
expect_eq "the init runs as the user on the host" "$RL_UID" "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>&1)"

podman_exec_scenario "$name" "$cid"

podman_stop_scenario "$name" "$cid"

# --- shutdown -----------------------------------------------------------------------------
expect_eq "podman lists no container" "" "$(pm ps -aq 2>&1)"
check "podman rmi" pm rmi "$IMG"
engine_stop
check_nothing_left
[ "$CLIENTS_FAIL" -eq 0 ] || show_husk_logs
clients_finish
