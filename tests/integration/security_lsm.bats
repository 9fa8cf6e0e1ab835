#!/usr/bin/env bats
# AppArmor and SELinux settings on a host without either LSM (this machine):
# an AppArmor profile is refused before anything is made (the container would
# run unconfined while its config says otherwise); so are SELinux labels, as
# runc refuses them there; a label that would smuggle options into mount data is
# refused everywhere. With the LSM, see lsm_apparmor.bats and lsm_selinux.bats
# (run in the VMs of tests/vm).

load security_helpers

@test "apparmorProfile without AppArmor: clear error, exit 1, nothing left" {
	requires no_apparmor
	update_config '.process.apparmorProfile = "husk-test"'
	set_args sh -c 'echo RAN'
	run -1 husk run --bundle "$BUNDLE" "$(new_id)"
	echo "$output"
	[[ "$output" != *RAN* ]] || fail "the container ran without its AppArmor profile"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *'process.apparmorProfile: profile "husk-test" specified but AppArmor is disabled on the host'* ]]
	fi
	assert_nothing_left
}

@test "apparmorProfile without AppArmor: create leaves nothing either" {
	requires no_apparmor
	update_config '.process.apparmorProfile = "unconfined"'
	local id
	id=$(new_id)
	run -1 husk_bg create --bundle "$BUNDLE" "$id"
	echo "$output"
	run ! husk state "$id"
	assert_nothing_left
}

@test "exec --apparmor without AppArmor: error, the container keeps running" {
	requires no_apparmor
	start_sleeper
	run -255 husk exec --apparmor husk-test "$CID" sh -c 'echo RAN'
	echo "$output"
	[[ "$output" != *RAN* ]] || fail "the process ran without its AppArmor profile"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *'--apparmor: profile "husk-test" specified but AppArmor is disabled on the host'* ]]
	fi
	[ "$(container_status "$CID")" = running ]
	run -0 husk exec "$CID" echo still-fine
	[ "$output" = still-fine ]
}

@test "selinuxLabel or mountLabel without SELinux: clear error, exit 1, nothing left" {
	requires no_selinux
	local field
	for field in process.selinuxLabel linux.mountLabel; do
		update_config 'del(.process.selinuxLabel) | del(.linux.mountLabel)'
		case $field in
		process.selinuxLabel) update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"' ;;
		linux.mountLabel) update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"' ;;
		esac
		run -1 run_sh 'echo RAN'
		echo "$output"
		[[ "$output" != *RAN* ]] || fail "$field: the container ran"
		# husk names the field; runc says "selinux label is specified in config, but selinux is
		# disabled" for the process label, and fails the first mount for the mount label.
		[ "$HUSK_NAME" != husk ] || [[ "$output" == *"$field: label \""*"\" specified but SELinux is disabled on the host"* ]] ||
			fail "$field: the error does not name the field: $output"
		assert_nothing_left
	done
}

@test "exec --process-label without SELinux: clear error, the process does not run" {
	requires no_selinux
	start_sleeper
	run -255 husk exec --process-label system_u:system_r:container_t:s0 "$CID" echo RAN
	echo "$output"
	[[ "$output" != *RAN* ]]
	[[ "$output" == *"selinux"*"disabled"* || "$output" == *"SELinux is disabled"* ]] || fail "$output"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"--process-label"* ]] || fail "the error does not name --process-label: $output"
}

@test "an SELinux mount label that would add mount options is refused before anything is done" {
	# Defence: the label goes into mount data as context="LABEL"; a quote in
	# it would close the quoting and append options of its own.
	update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0\",size=1k"'
	run -1 run_sh 'echo RAN'
	echo "$output"
	[[ "$output" != *RAN* ]]
	# husk refuses the label itself; runc fails the mount whose data it went into.
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"linux.mountLabel"*"not allowed in an SELinux context"* ]] ||
		fail "the error does not name the label: $output"
	assert_nothing_left
}

@test "exec --process-label is validated too" {
	husk_only "runc does not check a label's characters (on this host it refuses any label: no SELinux)"
	start_sleeper
	run -255 husk exec --process-label 'u:r:t:s0",x' "$CID" echo RAN
	echo "$output"
	[[ "$output" != *RAN* ]]
	[[ "$output" == *"--process-label"* ]]
}

# runtime-spec features.md: apparmor/selinux "enabled" says the support is compiled in,
# whatever the host has (runc reports true too); the host decides what a config gets.
@test "features reports AppArmor and SELinux support as built in" {
	run -0 husk features
	[ "$(jq -r .linux.apparmor.enabled <<<"$output")" = true ]
	[ "$(jq -r .linux.selinux.enabled <<<"$output")" = true ]
}
