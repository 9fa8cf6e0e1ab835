#!/usr/bin/env bats
# Rootless: the runtime run by an unprivileged user (husktest, `make test-user`) on this host,
# where that user has no cgroup access: the default root under $XDG_RUNTIME_DIR, `spec
# --rootless`, the user's own id or its /etc/subuid ranges (newuidmap) in the container's user
# namespace, the whole life of a container without a cgroup (and the commands that need one
# refusing while it runs), limits refused by name, and other users kept out. The delegated
# cgroup v2 part runs in the systemd VM (rootless_cgroups.bats).

load helpers
load rootless_helpers

setup() {
	requires root userns
	rootless_setup
}

teardown() {
	rootless_teardown
}

@test "spec --rootless: the caller's ids mapped to 0, no network namespace, /sys bound, no resources" {
	local dir=$TESTDIR/spec
	mkdir "$dir" && chown "$RL_USER:" "$dir"
	run -0 rl spec --rootless --bundle "$dir"
	run -0 jq -c '[.linux.uidMappings, .linux.gidMappings]' "$dir/config.json"
	[ "$output" = "[[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1}],[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1}]]" ]
	run -0 jq -r '[.linux.namespaces[].type] | sort | join(",")' "$dir/config.json"
	[[ "$output" == *user* ]] && [[ "$output" != *network* ]]
	run -0 jq -c '.mounts[] | select(.destination == "/sys")' "$dir/config.json"
	[ "$output" = '{"destination":"/sys","type":"none","source":"/sys","options":["rbind","nosuid","noexec","nodev","ro"]}' ]
	run -0 jq -c '.linux.resources' "$dir/config.json"
	[ "$output" = null ]
	# No uid=/gid= options: those ids are not mapped.
	run -0 jq -r '[.mounts[].options // [] | .[] | select(startswith("uid=") or startswith("gid="))] | length' "$dir/config.json"
	[ "$output" = 0 ]
}

@test "the user runs a container as root of a user namespace holding its own id" {
	run -3 rl_run_sh 'id -u; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; exit 3'
	[ "${lines[0]}" = 0 ]
	read -r a b c <<<"${lines[1]}"
	[ "$a $b $c" = "0 $RL_UID 1" ]
	read -r a b c <<<"${lines[2]}"
	[ "$a $b $c" = "0 $RL_GID 1" ]
	# The kernel wants setgroups denied for a map of the user's own gid.
	[ "${lines[3]}" = deny ]
	rl_assert_nothing_left
}

@test "the default root is \$XDG_RUNTIME_DIR/<runtime>, the user's own, 0700 and sticky" {
	rl_sleeper
	[ -d "$ROOT/$CID" ]
	[ "$(stat -c %U:%a "$ROOT")" = "$RL_USER:1700" ]
	run -0 rl list -q
	[ "$output" = "$CID" ]
}

@test "subordinate ids from /etc/subuid and /etc/subgid through newuidmap and newgidmap" {
	[ -n "$RL_SUBUID" ] && [ -n "$RL_SUBGID" ] || fail "no subordinate ids for $RL_USER"
	update_config '.linux.uidMappings += [{containerID: 1, hostID: '"$RL_SUBUID"', size: 65536}]
		| .linux.gidMappings += [{containerID: 1, hostID: '"$RL_SUBGID"', size: 65536}]
		| .process.user = {uid: 1000, gid: 1000}'
	mkdir "$TESTDIR/share" && chown "$RL_USER:" "$TESTDIR/share" && chmod 777 "$TESTDIR/share"
	add_mount "$TESTDIR/share" /share bind rbind
	run -0 rl_run_sh 'id -u; id -g; wc -l </proc/self/uid_map; touch /share/f'
	[ "$output" = $'1000\n1000\n2' ]
	# The container's 1000 is the 1000th subordinate id past 1 on the host.
	[ "$(stat -c %u:%g "$TESTDIR/share/f")" = "$((RL_SUBUID + 999)):$((RL_SUBGID + 999))" ]
}

@test "create, start, state, list, exec, ps refused, kill and delete as the user, nothing left" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 rl_bg create --bundle "$BUNDLE" "$CID"
	run -0 rl state "$CID"
	[ "$(jq -r .status <<<"$output")" = created ]
	run -0 rl start "$CID"
	wait_for_status "$CID" running
	run -0 rl list
	[[ "${lines[1]}" == "$CID "* ]]
	[[ "${lines[1]}" == *" $RL_USER" ]] || fail "list does not name the owner: ${lines[1]}"
	local pid
	pid=$(container_pid "$CID")
	# exec joins the container's user namespace (and the others).
	run -0 rl exec "$CID" sh -c 'id -u; for n in user pid mnt; do readlink /proc/self/ns/$n; done'
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$pid/ns/pid")" ]
	[ "${lines[3]}" = "$(readlink "/proc/$pid/ns/mnt")" ]
	run -0 rl kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 rl delete "$CID"
	rl_assert_nothing_left
}

@test "without cgroup access the container runs in the caller's cgroup; pause, ps, update and streamed events refuse while it runs" {
	rl_sleeper
	local pid
	pid=$(container_pid "$CID")
	# No cgroup was made: the init is where the runtime was started.
	[ "$(cat "/proc/$pid/cgroup")" = "$(cat /proc/self/cgroup)" ]
	run ! rl pause "$CID"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"no cgroup"* ]] || fail "pause: $output"
	run ! rl ps "$CID"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"no cgroup"* ]] || fail "ps: $output"
	run ! rl update --memory 64M "$CID"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"no cgroup"* ]] || fail "update: $output"
	# No OOM notifications without a cgroup: runc fails at once ("memory controller missing").
	run as_rl timeout 20 "$HUSK" events --interval 1s "$CID"
	[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "events: exit $status: $output"
	[[ "$output" != *'"type":"stats"'* ]] || fail "events printed stats before failing: $output"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"no cgroup"* ]] || fail "events: $output"
	[ "$(container_status "$CID")" = running ]
	kill -0 "$pid"
}

@test "without cgroup access events --stats prints one stats record with empty statistics, as runc" {
	rl_sleeper
	run -0 rl events --stats "$CID"
	[ "${#lines[@]}" -eq 1 ] || fail "events --stats printed: $output"
	echo "$output" | jq -e --arg id "$CID" '.type == "stats" and .id == $id and
		(.data.pids.current // 0) == 0 and (.data.memory.usage.usage // 0) == 0 and
		(.data.cpu.usage.total // 0) == 0' >/dev/null || fail "events --stats: $output"
	[ "$(container_status "$CID")" = running ]
}

@test "a limit that needs a cgroup is refused by name, nothing left; device rules alone are fine" {
	update_config '.linux.resources = {memory: {limit: 67108864}}'
	run ! rl_run_sh true
	[[ "$output" == *memory* ]]
	rl_assert_nothing_left

	update_config '.linux.resources = {pids: {limit: 10}}'
	run ! rl_run_sh true
	[[ "$output" == *pids* ]] || [[ "$output" == *cgroup* ]]
	rl_assert_nothing_left

	update_config '.linux.resources = {devices: [{allow: false, access: "rwm"}]}'
	run -0 rl_run_sh 'echo ran'
	[ "${lines[-1]}" = ran ]
}

@test "a cgroupsPath the user may not create fails, nothing left" {
	update_config '.linux.cgroupsPath = "/husktest-rootless-'"$$"'"'
	run ! rl_run_sh true
	[[ "$output" == *"permission denied"* ]]
	rl_assert_nothing_left
}

@test "--rootless=false makes a missing cgroup permission an error" {
	set_args true
	run ! rl --rootless=false run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"permission denied"* ]]
	rl_assert_nothing_left
	run ! rl --rootless=maybe run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"maybe"* ]]
	rl_assert_nothing_left
}

@test "a rootless container needs a user namespace" {
	update_config '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
	run ! rl_run_sh true
	[[ "$output" == *"user namespace"* ]]
	rl_assert_nothing_left
}

@test "additional groups, unmapped uid= options and id-mapped mounts are refused for a rootless container" {
	update_config '.process.user.additionalGids = [5]'
	run ! rl_run_sh true
	[[ "$output" == *"additional groups"* ]]
	rl_assert_nothing_left

	make_bundle "$TESTDIR/b2"
	chown -R "$RL_USER:" "$TESTDIR/b2"
	cp "$BUNDLE/config.json" "$TESTDIR/b2/config.json"
	update_config '.process.user.additionalGids = [] | .mounts += [{destination: "/t", type: "tmpfs", source: "tmpfs", options: ["uid=1000"]}]' "$TESTDIR/b2"
	run ! rl run --bundle "$TESTDIR/b2" "$(new_id)" </dev/null
	[[ "$output" == *"uid=1000"* ]]
	rl_assert_nothing_left

	update_config 'del(.mounts[-1]) | .mounts += [{source: "/tmp", destination: "/t", options: ["bind", "idmap"]}]' "$TESTDIR/b2"
	run ! rl run --bundle "$TESTDIR/b2" "$(new_id)" </dev/null
	[[ "$output" == *"id-mapped mounts are not supported for rootless containers"* ]]
	rl_assert_nothing_left
}

@test "another user cannot see, signal, exec in or delete the user's container" {
	rl_sleeper
	local other=nobody
	run ! runuser -u "$other" -- "$HUSK" --root "$ROOT" state "$CID"
	run ! runuser -u "$other" -- "$HUSK" --root "$ROOT" kill "$CID" KILL
	run ! runuser -u "$other" -- "$HUSK" --root "$ROOT" exec "$CID" true
	run ! runuser -u "$other" -- "$HUSK" --root "$ROOT" delete -f "$CID"
	run ! runuser -u "$other" -- "$HUSK" --root "$ROOT" list -q
	[[ "$output" == *"permission denied"* ]]
	[ "$(container_status "$CID")" = running ]
}

@test "a time namespace with offsets, made by the user" {
	requires timens
	update_config '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 0}}'
	run -0 rl_run_sh 'cat /proc/self/timens_offsets'
	[[ "$output" == *"monotonic"*"86400"* ]]
}

@test "a terminal through --console-socket, as the user" {
	(cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$TESTDIR/recvtty" ./tests/cmd/recvtty)
	as_rl "$TESTDIR/recvtty" "$XDG/tty.sock" >"$TESTDIR/tty.out" 2>"$TESTDIR/tty.err" </dev/null 3>&- &
	local recv=$!
	track_pid "$recv"
	wait_for_test -S "$XDG/tty.sock"
	update_config '.process.terminal = true'
	set_args sh -c 'tty; test -t 0 && test -t 1 && echo IS-A-TTY'
	run -0 rl run -d --console-socket "$XDG/tty.sock" --bundle "$BUNDLE" "$(new_id)" </dev/null
	wait_gone "$recv"
	run -0 tr -d '\r' <"$TESTDIR/tty.out"
	[[ "$output" == *"/dev/pts/"* ]] && [[ "$output" == *"IS-A-TTY"* ]] || fail "terminal output: $output $(cat "$TESTDIR/tty.err")"
}

@test "checkpoint as the user is refused before anything is made; the container runs on" {
	rl_sleeper
	mkdir "$TESTDIR/img"
	chown "$RL_USER:" "$TESTDIR/img"
	# runc 1.5.3 warns that rootless checkpoint is untested and runs criu, which fails as the
	# user (here also its check of this kernel).
	run ! rl checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/img/work" "$CID"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"checkpoint as an unprivileged user (uid $RL_UID) is not supported: criu needs root"* ]] || fail "$output"
		[ -z "$(ls -A "$TESTDIR/img")" ] || fail "checkpoint made $(ls -A "$TESTDIR/img") in the image directory"
	fi
	[ "$(rl state "$CID" | jq -r .status)" = running ]
	rl kill "$CID" KILL
	wait_for_status "$CID" stopped
	rl delete "$CID"
	rl_assert_nothing_left
}

@test "restore as the user is refused before anything is made, nothing left" {
	# A checkpoint as far as restore reads it before criu runs.
	mkdir "$TESTDIR/img"
	echo '["pipe:[1]", "pipe:[2]", "pipe:[3]"]' >"$TESTDIR/img/descriptors.json"
	chown -R "$RL_USER:" "$TESTDIR/img"
	# runc tries, and fails binding the rootfs for criu (EPERM).
	run ! rl restore -d --bundle "$BUNDLE" --image-path "$TESTDIR/img" --work-path "$TESTDIR/img/work" "$(new_id)" </dev/null
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"restore as an unprivileged user (uid $RL_UID) is not supported: criu needs root"* ]] || fail "$output"
		[ ! -e "$TESTDIR/img/work" ] || fail "criu's work directory was made"
	fi
	rl_assert_nothing_left
}
