#!/usr/bin/env bats
# AppArmor and SELinux settings on a host without either LSM (this machine):
# an AppArmor profile is refused before anything is made (the container would
# run unconfined while its config says otherwise); SELinux labels are ignored
# with one warning, as runc ignores them there; a label that would smuggle
# options into mount data is refused everywhere. With the LSM, see
# lsm_apparmor.bats (run in the VM of tests/vm).

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

@test "selinuxLabel and mountLabel without SELinux: the container runs, with one warning" {
	requires no_selinux husk
	update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
		| .linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
	run -0 run_sh 'echo RAN; grep -c context= /proc/self/mountinfo || true'
	echo "$output"
	[[ "$output" == *RAN* ]]
	[ "$(grep -c 'SELinux is not enabled on this host' <<<"$output")" = 1 ]
	[[ "$output" == *"process.selinuxLabel and linux.mountLabel ignored"* ]]
	[ "${lines[-1]}" = 0 ] || fail "a mount got an SELinux context"
}

@test "exec --process-label without SELinux: the process runs, with a warning" {
	requires no_selinux husk
	start_sleeper
	run -0 husk exec --process-label system_u:system_r:container_t:s0 "$CID" echo RAN
	echo "$output"
	[[ "$output" == *RAN* ]]
	[[ "$output" == *"SELinux is not enabled on this host: --process-label ignored"* ]]
}

@test "an SELinux mount label that would add mount options is refused before anything is done" {
	# Defence: the label goes into mount data as context="LABEL"; a quote in
	# it would close the quoting and append options of its own.
	requires husk
	update_config '.linux.mountLabel = "system_u:object_r:container_file_t:s0\",size=1k"'
	run -1 run_sh 'echo RAN'
	echo "$output"
	[[ "$output" != *RAN* ]]
	[[ "$output" == *"linux.mountLabel"*"not allowed in an SELinux context"* ]]
	assert_nothing_left
}

@test "exec --process-label is validated too" {
	requires husk
	start_sleeper
	run -255 husk exec --process-label 'u:r:t:s0",x' "$CID" echo RAN
	echo "$output"
	[[ "$output" != *RAN* ]]
	[[ "$output" == *"--process-label"* ]]
}

# runtime-spec features.md: apparmor/selinux "enabled" says the support is compiled in,
# whatever the host has (runc reports true too); the host decides what a config gets.
@test "features reports AppArmor and SELinux support as built in" {
	requires husk
	run -0 husk features
	[ "$(jq -r .linux.apparmor.enabled <<<"$output")" = true ]
	[ "$(jq -r .linux.selinux.enabled <<<"$output")" = true ]
}
