#!/usr/bin/env bats
# SELinux on a host that has it (the VM of tests/vm booted with SELinux as its
# LSM and Debian's selinux-policy-default loaded, permissive: `make
# vm-test-selinux`). The tests check the labels husk gives, not the policy's
# verdicts. The labels come from HUSK_SELINUX_PROCESS_LABEL and
# HUSK_SELINUX_MOUNT_LABEL (defaults: types of Debian's policy); a test skips
# when the loaded policy does not know them. security_lsm.bats covers hosts
# without SELinux.

load security_helpers

PROCESS_LABEL=${HUSK_SELINUX_PROCESS_LABEL:-system_u:system_r:svirt_t:s0:c1,c2}
MOUNT_LABEL=${HUSK_SELINUX_MOUNT_LABEL:-system_u:object_r:svirt_tmpfs_t:s0:c1,c2}
OTHER_LABEL=${HUSK_SELINUX_OTHER_LABEL:-system_u:system_r:svirt_t:s0:c3,c4}

# valid_context succeeds when the loaded policy accepts context $1.
valid_context() {
	printf %s "$1" >/sys/fs/selinux/context 2>/dev/null
}

setup() {
	requires root selinux
	local l
	for l in "$PROCESS_LABEL" "$MOUNT_LABEL" "$OTHER_LABEL"; do
		valid_context "$l" || skip "the loaded policy does not know $l"
	done
	setup_husk
	update_config ".process.selinuxLabel = \"$PROCESS_LABEL\" | .linux.mountLabel = \"$MOUNT_LABEL\""
}

@test "selinuxLabel and mountLabel: the workload's label, context= on the mounts runc labels" {
	run -0 run_sh 'cat /proc/self/attr/current; echo; cat /proc/self/mountinfo'
	echo "$output"
	[ "$(tr -d '\0' <<<"${lines[0]}")" = "$PROCESS_LABEL" ]
	local ctx="context=\"$MOUNT_LABEL\"" mp
	# tmpfs, devpts, and the tmpfs over a masked directory carry the mount label.
	for mp in /dev /dev/pts /dev/shm /proc/acpi; do
		awk -v mp="$mp" '$5 == mp' <<<"$output" | grep -qF "$ctx" || fail "$mp has no $ctx"
	done
	# proc, sysfs and bind mounts cannot or must not be relabelled.
	for mp in /proc /sys; do
		! awk -v mp="$mp" '$5 == mp' <<<"$output" | grep -qF "context=" || fail "$mp got a context"
	done
}

@test "mqueue gets the mount label on its root; exec inherits the label, --process-label overrides it" {
	start_sleeper
	local pid
	pid=$(container_pid "$CID")
	[ "$(tr -d '\0' <"/proc/$pid/attr/current")" = "$PROCESS_LABEL" ]
	[ "$(stat -c %C "/proc/$pid/root/dev/mqueue")" = "$MOUNT_LABEL" ]
	run -0 husk exec "$CID" cat /proc/self/attr/current
	[ "$(tr -d '\0' <<<"$output")" = "$PROCESS_LABEL" ]
	run -0 husk exec --process-label "$OTHER_LABEL" "$CID" cat /proc/self/attr/current
	[ "$(tr -d '\0' <<<"$output")" = "$OTHER_LABEL" ]
}
