#!/usr/bin/env bats
# Bad input: one clear error naming what is wrong, a non-zero exit, and
# nothing left behind (state dir, process, mount, cgroup).

load helpers

# create_fails runs create, expects it to fail, and checks nothing is left.
create_fails() {
	run ! husk_bg create --bundle "$BUNDLE" "$(new_id)"
	echo "$output"
	assert_nothing_left
}

@test "missing config.json" {
	rm "$BUNDLE/config.json"
	create_fails
	# runc says only "unexpected EOF"; husk names the file.
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *config.json* ]]
	fi
}

@test "malformed config.json" {
	echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
	create_fails
	# runc says only "unexpected EOF"; husk names the file.
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *config.json* ]]
	fi
}

@test "config.json of the wrong shape" {
	update_config '.process.args = "sh -c true"'
	create_fails
	[[ "$output" == *args* || "$output" == *string* ]]
}

@test "missing process.args" {
	update_config 'del(.process.args)'
	create_fails
	[[ "$output" == *args* ]]
}

@test "missing rootfs" {
	rm -rf "$BUNDLE/rootfs"
	create_fails
	[[ "$output" == *rootfs* ]]
}

@test "missing bundle directory" {
	run ! husk_bg create --bundle "$TESTDIR/nope" "$(new_id)"
	[[ "$output" == *"$TESTDIR/nope"* || "$output" == *config.json* ]]
	assert_nothing_left
}

@test "unknown namespace type" {
	update_config '.linux.namespaces += [{type: "bogusns"}]'
	create_fails
	[[ "$output" == *bogusns* ]]
}

@test "the same namespace type twice" {
	update_config '.linux.namespaces += [{type: "ipc"}]'
	create_fails
	[[ "$output" == *ipc* ]]
}

@test "relative mount destination" {
	husk_only "runc accepts a relative mount destination with a warning; husk refuses it"
	update_config '.mounts += [{source: "tmpfs", destination: "relative/dest", type: "tmpfs"}]'
	create_fails
	[[ "$output" == *relative/dest* ]]
	[ ! -e "$BUNDLE/rootfs/relative" ]
}

@test "bind mount of a missing source" {
	update_config '.mounts += [{source: "'"$TESTDIR/nosuchsrc"'", destination: "/mnt/x", type: "bind", options: ["bind"]}]'
	create_fails
	[[ "$output" == *nosuchsrc* ]]
}

@test "unknown mount filesystem type" {
	update_config '.mounts += [{source: "x", destination: "/mnt/x", type: "nosuchfs"}]'
	create_fails
	[[ "$output" == */mnt/x* || "$output" == *nosuchfs* ]]
}

@test "unknown capability" {
	husk_only "runc ignores an unknown capability name with a warning; husk refuses it"
	update_config '.process.capabilities.bounding += ["CAP_BOGUS"]'
	create_fails
	[[ "$output" == *CAP_BOGUS* ]]
}

@test "unknown rlimit" {
	update_config '.process.rlimits += [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
	create_fails
	[[ "$output" == *RLIMIT_BOGUS* ]]
}

@test "rlimit soft above hard" {
	update_config '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 2048, hard: 1024}]'
	create_fails
	[[ "$output" == *RLIMIT_NOFILE* || "$output" == *rlimit* || "$output" == *"invalid argument"* ]]
}

@test "relative cwd" {
	update_config '.process.cwd = "relative"'
	create_fails
	[[ "${output,,}" == *cwd* ]]
}

@test "executable not found" {
	set_args /no/such/binary
	local id
	id=$(new_id)
	run ! husk run --bundle "$BUNDLE" "$id"
	[[ "$output" == */no/such/binary* ]]
	assert_nothing_left
}

@test "executable not in PATH" {
	set_args nosuchcommand
	run ! husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *nosuchcommand* ]]
	assert_nothing_left
}

@test "bad signal names the signal" {
	start_sleeper
	run -1 husk kill "$CID" SIGBOGUS
	[[ "$output" == *BOGUS* ]]
	[ "$(container_status "$CID")" = running ]
}

@test "bad container ids are refused" {
	local id
	for id in "a/b" ".." "../escape" "." "bad id"; do
		run ! husk_bg create --bundle "$BUNDLE" "$id"
		[ ! -e "$TESTDIR/escape" ] || fail "id $id escaped the root"
		[ -z "$(ls -A "$ROOT")" ] || fail "id $id left state: $(ls -A "$ROOT")"
	done
	run ! husk_bg create --bundle "$BUNDLE" ""
	assert_nothing_left
}

@test "hostname without a uts namespace is refused" {
	update_config '.linux.namespaces -= [{type: "uts"}] | .hostname = "nope"'
	create_fails
	[[ "$output" == *hostname* || "$output" == *UTS* ]]
	[ "$(hostname)" != nope ]
}

@test "uid mappings without a user namespace are refused" {
	husk_only "runc ignores uid mappings without a user namespace; to husk a value accepted but ignored is a bug"
	update_config '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1}]'
	create_fails
	[[ "$output" == *map* || "$output" == *user* ]]
}

@test "a failed create leaves the id free for reuse" {
	update_config '.process.rlimits += [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
	local id
	id=$(new_id)
	run ! husk_bg create --bundle "$BUNDLE" "$id"
	update_config '.process.rlimits -= [{type: "RLIMIT_BOGUS", soft: 1, hard: 1}]'
	set_args true
	run -0 husk run --bundle "$BUNDLE" "$id"
}
