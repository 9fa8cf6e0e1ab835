#!/usr/bin/env bats
# Command line: version, help, flag errors, exit codes and the error texts
# that callers (containerd, podman) match.

load helpers

@test "--version prints the runc-style version block" {
	run -0 "$HUSK" --version
	[[ "${lines[0]}" == *" version "* ]]
	[[ "$output" == *$'\n'"spec: "* ]]
	if [ "$HUSK_NAME" = husk ] || [ "$HUSK_NAME" = runc ]; then
		[[ "${lines[0]}" == "$HUSK_NAME version "* ]]
		[[ "$output" == *$'\n'"go: go"* ]]
		[[ "$output" == *$'\n'"libseccomp: "* ]]
	fi
	if [ "$HUSK_NAME" = husk ]; then
		# runc prints a commit line only when it was built with one (not from a source tarball).
		[[ "$output" == *$'\n'"commit: "* ]]
		[[ "$output" == *$'\n'"spec: 1.3.0"* ]]
	fi
}

@test "--help lists every subcommand and exits 0" {
	run -0 "$HUSK" --help
	local cmd
	for cmd in create start run state kill delete list spec; do
		[[ "$output" == *"   $cmd"* ]] || fail "help does not list $cmd"
	done
	[[ "$output" == *"--root"* ]]
	[[ "$output" == *"--log"* ]]
}

@test "subcommand --help exits 0 and shows its flags" {
	run -0 "$HUSK" create --help
	[[ "$output" == *"--bundle"* ]]
	[[ "$output" == *"--pid-file"* ]]
	[[ "$output" == *"--console-socket"* ]]
	[[ "$output" == *"--no-pivot"* ]]
	[[ "$output" == *"--no-new-keyring"* ]]
	[[ "$output" == *"--preserve-fds"* ]]
	run -0 "$HUSK" run --help
	[[ "$output" == *"--detach"* ]]
	[[ "$output" == *"--keep"* ]]
	run -0 "$HUSK" kill --help
	# runc 1.2 and later hide kill --all: it only keeps a stopped container from being an error.
	if [ "$HUSK_NAME" != runc ] || [[ "$(runtime_version)" == 1.[01].* ]]; then
		[[ "$output" == *"--all"* ]]
	fi
	run -0 "$HUSK" delete --help
	[[ "$output" == *"--force"* ]]
	run -0 "$HUSK" list --help
	[[ "$output" == *"--format"* ]]
	[[ "$output" == *"--quiet"* ]]
}

@test "unknown subcommand fails" {
	run ! husk no-such-command
	[[ "$output" == *"no-such-command"* ]]
}

@test "unknown flag fails and names the flag" {
	run -1 husk create --no-such-flag "$(new_id)"
	[[ "$output" == *"flag provided but not defined"* ]]
	[[ "$output" == *"no-such-flag"* ]]
	assert_nothing_left
}

@test "missing container id fails with exit 1" {
	local cmd
	for cmd in create start state kill delete; do
		run -1 husk "$cmd"
		[[ "$output" == *"$cmd"* ]] || fail "$cmd: error does not name the command: $output"
	done
}

@test "too many arguments fail" {
	run -1 husk state a b
	run -1 husk start a b
}

@test "operations on a missing container say 'does not exist'" {
	local cmd
	for cmd in state start kill delete; do
		run -1 husk "$cmd" husktest-missing
		[[ "$output" == *"does not exist"* ]] || fail "$cmd: $output"
	done
}

@test "delete --force of a missing container succeeds" {
	run -0 husk delete --force husktest-missing
}

@test "creating an existing id says 'already exists'" {
	set_args sleep 1000
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run -1 husk_bg create --bundle "$BUNDLE" "$id"
	[[ "$output" == *"already exists"* ]]
	# The first container is untouched.
	[ "$(container_status "$id")" = created ]
}

@test "kill of a stopped container says 'not running'" {
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
	wait_for_status "$id" stopped
	run -1 husk kill "$id" KILL
	[[ "$output" == *"container not running"* || "$output" == *"no such process"* ]]
}

@test "start of a running container fails" {
	start_sleeper
	run -1 husk start "$CID"
	[ "$(container_status "$CID")" = running ]
}

@test "--log with --log-format json writes JSON lines" {
	run -1 husk --log "$TESTDIR/husk.log" --log-format json state husktest-missing
	[ -s "$TESTDIR/husk.log" ]
	local line
	line=$(grep -m1 'does not exist' "$TESTDIR/husk.log")
	echo "$line" | jq -e '.level == "error" and (.msg | contains("does not exist")) and (.time | length > 0)'
}

@test "--log with text format writes the error" {
	run -1 husk --log "$TESTDIR/husk.log" state husktest-missing
	grep -q 'does not exist' "$TESTDIR/husk.log"
}

@test "bad --log-format is refused" {
	run ! husk --log-format yaml list
}

@test "--debug is accepted" {
	run -0 husk --debug list
	[[ "${lines[0]}" == ID* ]]
}
