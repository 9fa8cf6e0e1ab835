# shellcheck shell=bash
# podman-scenarios.sh: the scenarios podman.sh (as root) and podman-rootless.sh (as an
# unprivileged user) share, sourced after lib.sh. They use the caller's pm (podman with its
# options), PM (the same as one command line, for script(1)), RUN_OPTS (options of every
# container), IMG, P (podman's temp dir), HROOT (husk's root) and $T/share.

# podman_write_configs RUNROOT [CGROUP_MANAGER]: $P/containers.conf and $P/storage.conf (also
# for the podman tests in tests/integration). containers.conf for what has no command-line
# flag: file locks instead of /dev/shm, the tmp dirs, the network config dir, the cgroup
# manager (default cgroupfs), and rlimits within this machine's hard limits (podman asks for
# 1048576 open files by default; without CAP_SYS_RESOURCE no runtime can set that here).
# storage.conf only to stop podman from reading the host's; --root/--runroot say the same.
podman_write_configs() {
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
image_copy_tmp_dir = "$P/tmp"
# The cleanup process conmon starts gets no --events-backend: say it here too.
events_logger = "file"
events_logfile_path = "$P/events.log"
cgroup_manager = "${2:-cgroupfs}"
EOF
	cat >"$P/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$P/root"
runroot = "$1"
EOF
}

# podman_bind_scenario: a bind mount the container reads and writes.
podman_bind_scenario() {
	echo "from the host" >"$T/share/in"
	check "podman run -v bind mount, read and write" \
		pm run --rm "${RUN_OPTS[@]}" -v "$T/share:/share" "$IMG" sh -c 'cat /share/in; echo from the container >/share/out'
	expect_eq "the container read the host's file" "from the host" "$OUT"
	expect_eq "the host reads the container's file" "from the container" "$(cat "$T/share/out" 2>&1)"
}

# podman_tty_scenario: podman run -t gives the container a terminal.
podman_tty_scenario() {
	check "podman run -t gives the container a terminal" \
		script -qec "$PM run --rm -t ${RUN_OPTS[*]} $IMG sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'" /dev/null
	expect_match "run -t: stdin and stdout are a terminal" "IS-A-TTY\$" "$(tr -d '\r\0' <<<"$OUT")"
	expect_match "run -t: tty is a /dev/pts device" "/dev/pts/[0-9]+\$" "$(tr -d '\r\0' <<<"$OUT")"
}

# podman_exec_scenario NAME CID: exec into the running container NAME (husk's id CID): output,
# exit status, --user, -t, top.
podman_exec_scenario() {
	local name=$1 cid=$2
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
}

# podman_stop_scenario NAME CID: podman stop sends SIGTERM through husk kill, then rm leaves
# nothing in husk's root.
podman_stop_scenario() {
	local name=$1 cid=$2
	check "podman stop" pm stop -t 20 "$name"
	expect_eq "SIGTERM reached the container's PID 1 (its trap ran)" "got SIGTERM" "$(cat "$T/share/term" 2>&1)"
	expect_eq "the exit code is 143" 143 "$(pm inspect -f '{{.State.ExitCode}}' "$name" 2>&1)"
	expect_husk_called "podman ran husk kill with SIGTERM" " kill $cid (15|TERM|SIGTERM)\$"
	check "podman rm" pm rm "$name"
	expect_eq "husk's root holds no container" "" "$(ls "$HROOT" 2>/dev/null)"
}
