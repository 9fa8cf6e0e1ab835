#!/usr/bin/env bats
# state JSON and list in its three forms.

load helpers

@test "state has runc's fields with the right values" {
	update_config '.annotations = {"org.example.key": "value", "other": "x"}'
	start_sleeper
	run -0 husk state "$CID"
	local s=$output
	echo "$s" | jq -e 'has("ociVersion") and has("id") and has("pid") and has("status") and has("bundle") and has("rootfs") and has("created") and has("owner")'
	[ "$(echo "$s" | jq -r .id)" = "$CID" ]
	[ "$(echo "$s" | jq -r .status)" = running ]
	[ "$(echo "$s" | jq -r .bundle)" = "$BUNDLE" ]
	[ "$(echo "$s" | jq -r .rootfs)" = "$BUNDLE/rootfs" ]
	[ "$(echo "$s" | jq -r .owner)" = "" ]
	[ "$(echo "$s" | jq -r '.annotations["org.example.key"]')" = value ]
	[ "$(echo "$s" | jq -r '.annotations.other')" = x ]
	[ -n "$(echo "$s" | jq -r .ociVersion)" ]
	# pid is the host pid of the workload.
	local pid
	pid=$(echo "$s" | jq -r .pid)
	[ "$(cat "/proc/$pid/comm")" = sleep ]
	# created is an RFC 3339 time within the last minute.
	local created now
	created=$(date -d "$(echo "$s" | jq -r .created)" +%s)
	now=$(date +%s)
	[ $((now - created)) -ge 0 ] && [ $((now - created)) -lt 60 ]
}

@test "state of a created container" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	run -0 husk state "$CID"
	[ "$(echo "$output" | jq -r .status)" = created ]
	[ "$(echo "$output" | jq -r .pid)" -gt 0 ]
}

@test "state of a stopped container has pid 0" {
	start_sleeper
	kill -9 "$(container_pid "$CID")"
	wait_for_status "$CID" stopped
	run -0 husk state "$CID"
	[ "$(echo "$output" | jq -r .pid)" = 0 ]
}

@test "status is derived from the host, not from the saved state" {
	start_sleeper
	# The process dies without the runtime being told.
	kill -9 "$(container_pid "$CID")"
	wait_for_status "$CID" stopped
	run -0 husk list -f json
	[ "$(echo "$output" | jq -r --arg id "$CID" '.[] | select(.id == $id) | .status')" = stopped ]
}

@test "list of no containers" {
	run -0 husk list -q
	[ -z "$output" ]
	# runc prints null here (crun prints an empty array).
	run -0 husk list -f json
	[ "$output" = null ]
	run -0 husk list
	[[ "${lines[0]}" == "ID"*"PID"*"STATUS"*"BUNDLE"*"CREATED"*"OWNER"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "list shows every container in table, json and quiet form" {
	start_sleeper
	local running=$CID
	set_args sleep 1000
	local created
	created=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$created"

	run -0 husk list
	[[ "${lines[0]}" == "ID"*"PID"*"STATUS"*"BUNDLE"*"CREATED"*"OWNER"* ]]
	[ "${#lines[@]}" -eq 3 ]
	local row
	row=$(printf '%s\n' "${lines[@]}" | grep "^$running ")
	[[ "$row" == *" $(container_pid "$running") "*" running "*" $BUNDLE "* ]]
	row=$(printf '%s\n' "${lines[@]}" | grep "^$created ")
	[[ "$row" == *" created "* ]]

	run -0 husk list --format json
	[ "$(echo "$output" | jq 'length')" = 2 ]
	echo "$output" | jq -e --arg id "$running" --arg b "$BUNDLE" \
		'.[] | select(.id == $id) | .status == "running" and .bundle == $b and .pid > 0 and (.created | length > 0) and has("owner")'
	echo "$output" | jq -e --arg id "$created" '.[] | select(.id == $id) | .status == "created"'

	run -0 husk list --quiet
	[ "$(printf '%s\n' "${lines[@]}" | sort)" = "$(printf '%s\n' "$running" "$created" | sort)" ]
}

@test "list with a --root that does not exist fails" {
	local f
	for f in table json; do
		run -1 husk --root "$TESTDIR/no-such-root" list -f "$f"
		[[ "$output" == *"$TESTDIR/no-such-root"* ]]
	done
	run -1 husk --root "$TESTDIR/no-such-root" list -q
	[ ! -e "$TESTDIR/no-such-root" ]
}

@test "list with a bad format fails" {
	run -1 husk list -f yaml
}
