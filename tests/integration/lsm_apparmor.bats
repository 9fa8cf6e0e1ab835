#!/usr/bin/env bats
# AppArmor on a host that enforces it (the VM of tests/vm: Debian's kernel has
# AppArmor on; `make vm-test` runs this file there). Two small profiles are
# loaded for the file's tests and removed after: husk-test allows everything,
# husk-test-deny allows everything but reading /husk-secret (and has no mount
# rule, which the init's own mounts would need: the profile must only apply
# from the workload's execve on). Every test skips without AppArmor and
# apparmor_parser; security_lsm.bats covers hosts without AppArmor.

load security_helpers

setup_file() {
	host_apparmor && command -v apparmor_parser >/dev/null || return 0
	export HUSK_AA_PROFILES="$BATS_FILE_TMPDIR/husk-test.apparmor"
	cat >"$HUSK_AA_PROFILES" <<-'EOF'
		abi <abi/3.0>,
		profile husk-test flags=(attach_disconnected,mediate_deleted) {
		  capability,
		  network,
		  file,
		  mount,
		  umount,
		  pivot_root,
		  signal,
		  ptrace,
		  unix,
		}
		profile husk-test-deny flags=(attach_disconnected,mediate_deleted) {
		  capability,
		  network,
		  file,
		  signal,
		  ptrace,
		  unix,
		  deny /husk-secret r,
		}
	EOF
	# -K: no policy cache written anywhere; the profiles live in the kernel only.
	apparmor_parser -r -K "$HUSK_AA_PROFILES"
}

teardown_file() {
	if [ -n "${HUSK_AA_PROFILES:-}" ]; then
		apparmor_parser -R -K "$HUSK_AA_PROFILES" || true
	fi
}

setup() {
	requires root apparmor
	setup_husk
	echo top-secret >"$BUNDLE/rootfs/husk-secret"
}

@test "apparmorProfile: the workload runs confined, the init's set-up does not" {
	# husk-test-deny has no mount rule: the init mounts the rootfs before the
	# profile applies at execve.
	update_config '.process.apparmorProfile = "husk-test-deny"'
	run -0 run_sh 'cat /proc/self/attr/current; echo; cat /proc/self/attr/apparmor/current; echo
		cat /husk-secret 2>&1; echo "cat=$?"; head -1 /etc/passwd'
	echo "$output"
	[ "${lines[0]}" = "husk-test-deny (enforce)" ]
	[ "${lines[1]}" = "husk-test-deny (enforce)" ]
	[[ "$output" != *top-secret* ]] || fail "the deny rule was not applied"
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *"cat=1"* ]]
	[[ "$output" == *root:x:0:0:* ]]
}

@test "exec: the container's profile by default, --apparmor overrides it" {
	update_config '.process.apparmorProfile = "husk-test"'
	start_sleeper
	[ "$(cat "/proc/$(container_pid "$CID")/attr/current")" = "husk-test (enforce)" ]
	run -0 husk exec "$CID" cat /proc/self/attr/current
	[ "$output" = "husk-test (enforce)" ]
	run -0 husk exec --apparmor husk-test-deny "$CID" sh -c 'cat /proc/self/attr/current; echo; cat /husk-secret 2>&1; true'
	echo "$output"
	[ "${lines[0]}" = "husk-test-deny (enforce)" ]
	[[ "$output" != *top-secret* ]] || fail "exec --apparmor was not applied"
	[[ "$output" == *"Permission denied"* ]]
}

@test "a profile that is not loaded: clear error, exit 1, nothing left" {
	update_config '.process.apparmorProfile = "husk-test-not-loaded"'
	run -1 run_sh 'echo RAN'
	echo "$output"
	[[ "$output" != *RAN* ]]
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *'process.apparmorProfile "husk-test-not-loaded"'*"is the profile loaded?"* ]]
	fi
	assert_nothing_left
}

@test "AppArmor attr writes do not follow a replaced /proc" {
	# Defence: the profile is written through a verified procfs handle. Files
	# bound over the init's attr files in the container's /proc (where its
	# thread-self leads, pid 1 there) must not take the write (CVE-2025-52881:
	# runc's label writes were redirected this way, leaving the workload
	# unconfined).
	local fake="$TESTDIR/fake_attr" p mounts=""
	echo orig >"$fake"
	for p in /proc/1/attr/apparmor/exec /proc/1/attr/exec /proc/1/task/1/attr/apparmor/exec /proc/1/task/1/attr/exec; do
		mounts+="${mounts:+, }{source: \"$fake\", destination: \"$p\", type: \"bind\", options: [\"bind\"]}"
	done
	update_config ".process.apparmorProfile = \"husk-test\" | .mounts += [$mounts]"
	run run_sh 'cat /proc/self/attr/current'
	echo "$output"
	[ "$(cat "$fake")" = orig ] || fail "the profile write landed in the bound file: $(cat "$fake")"
	if [ "$status" -eq 0 ]; then
		[ "$output" = "husk-test (enforce)" ] || fail "the workload is not confined: $output"
	fi
}
