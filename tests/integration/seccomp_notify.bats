#!/usr/bin/env bats
# linux.seccomp.listenerPath: the init's notify fd and the container's state reach the agent,
# and the agent's answers reach the workload. The parent hands the fd over (pidfd_getfd), so
# the agent's socket is a host path the container cannot see.

load helpers

setup_file() {
	export AGENT_BIN="$BATS_FILE_TMPDIR/seccompagent"
	(cd "$REPO_ROOT" && CGO_ENABLED=1 go build -o "$AGENT_BIN" ./tests/cmd/seccompagent)
}

@test "SCMP_ACT_NOTIFY: the agent gets the fd and the state, and answers the syscall" {
	skip_runc '1.1.*' "hangs: the agent gets no end of the state message and the container's mkdir waits for an answer for ever"
	local sock="$TESTDIR/agent.sock" state="$TESTDIR/state.json"
	"$AGENT_BIN" -socket "$sock" -state "$state" -errno 28 &
	track_pid $!
	local _
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ]
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "'"$sock"'",
		listenerMetadata: "meta-1",
		syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY"}]}
		| .root.readonly = false'
	local id
	id=$(new_id)
	set_args sh -c 'mkdir /notified 2>&1; [ -e /notified ] && echo exists || echo absent'
	run -0 husk run --bundle "$BUNDLE" "$id"
	# The agent answered ENOSPC (28) for mkdir, and nothing was made.
	echo "$output"
	[[ "${lines[0]}" == *"No space left on device"* ]]
	[ "${lines[1]}" = absent ]
	[ ! -e "$BUNDLE/rootfs/notified" ]
	# The message is the runtime-spec's container process state.
	[ "$(jq -r '.fds[0]' "$state")" = seccompFd ]
	[ "$(jq -r .metadata "$state")" = meta-1 ]
	[ "$(jq -r .state.id "$state")" = "$id" ]
	[ "$(jq -r .state.status "$state")" = creating ]
	[ "$(jq -r .pid "$state")" -gt 1 ]
}

@test "SCMP_ACT_NOTIFY without an agent listening fails create and leaves nothing" {
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "'"$TESTDIR/none.sock"'",
		syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}'
	run ! husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"$TESTDIR/none.sock"* ]] || fail "the error does not name the socket: $output"
	# husk names the field too.
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"listenerPath"* ]] || fail "the error does not name listenerPath: $output"
	assert_nothing_left
}

@test "listenerPath without a SCMP_ACT_NOTIFY rule is ignored, as runc ignores it" {
	# Nothing listens there, and nothing needs to: no rule asks the agent.
	update_config '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		listenerPath: "'"$TESTDIR/none.sock"'", listenerMetadata: "meta",
		syscalls: [{names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 28}]}'
	update_config '.root.readonly = false'
	run -0 run_sh 'mkdir /tmp/x 2>&1 || echo refused'
	grep -qx refused <<<"$output" || fail "$output"
	[[ "$output" == *"No space left on device"* ]]
	# listenerMetadata alone too.
	update_config 'del(.linux.seccomp.listenerPath)'
	run -0 run_sh 'mkdir /tmp/x 2>&1 || echo refused'
	grep -qx refused <<<"$output" || fail "$output"
}
