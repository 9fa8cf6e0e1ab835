#!/usr/bin/env bats
# The systemd cgroup driver on systemd's hybrid layout (cgroup v1 controllers, systemd's own
# cgroup2 at /sys/fs/cgroup/unified): make vm-systemd-hybrid-test boots the systemd VM so. The
# unit gets the v1 properties (MemoryLimit, CPUShares, ...); the init joins the unit's cgroup in
# every hierarchy, also those systemd leaves alone (freezer, cpuset, net_cls, ...). Runs
# against runc as well: HUSK=/usr/sbin/runc.

load helpers
load systemd_helpers

setup() {
	sd_setup
	sd_hybrid || skip "test requires systemd's hybrid cgroup layout (make vm-systemd-hybrid-test)"
}

teardown() {
	sd_teardown
}

# The hierarchies both runc 1.1 and husk place a container in (runc 1.1 does not know misc).
HIERARCHIES=(name=systemd memory pids cpu cpuacct blkio devices freezer cpuset net_cls perf_event hugetlb)

@test "hybrid: the init is in the unit's cgroup in every hierarchy, systemd's cgroup2 included" {
	start_sleeper
	local unit c got
	unit=$(sd_unit "$CID")
	sd_check "$unit" ControlGroup "/system.slice/$unit"
	sd_check "$unit" Delegate yes
	sd_check "$unit" BlockIOAccounting yes
	for c in "${HIERARCHIES[@]}"; do
		got=$(sd_v1_dir "$CID" "$c")
		[ "$got" = "$(sd_v1_mount "$c")/system.slice/$unit" ] || fail "$c: the init is in $got"
	done
	got=$(sd_v1_dir "$CID" "")
	[ "$got" = "/sys/fs/cgroup/unified/system.slice/$unit" ] || fail "cgroup2: the init is in $got"
}

@test "hybrid: the limits as v1 unit properties and in the v1 files; update changes both" {
	update_config '.linux.resources += {
		memory: {limit: 67108864},
		cpu: {shares: 512, quota: 25000, period: 50000},
		pids: {limit: 42}
	}'
	start_sleeper
	local unit
	unit=$(sd_unit "$CID")
	sd_check "$unit" MemoryLimit 67108864
	[ "$(cat "$(sd_v1_dir "$CID" memory)/memory.limit_in_bytes")" = 67108864 ]
	sd_check "$unit" CPUShares 512
	[ "$(cat "$(sd_v1_dir "$CID" cpu)/cpu.shares")" = 512 ]
	sd_check "$unit" CPUQuotaPerSecUSec 500ms
	[ "$(cat "$(sd_v1_dir "$CID" cpu)/cpu.cfs_quota_us")" = 25000 ]
	[ "$(cat "$(sd_v1_dir "$CID" cpu)/cpu.cfs_period_us")" = 50000 ]
	sd_check "$unit" TasksMax 42
	[ "$(cat "$(sd_v1_dir "$CID" pids)/pids.max")" = 42 ]
	# The device lists: deny all, then the runtime's default devices.
	sd_check "$unit" DevicePolicy strict
	local list
	list=$(cat "$(sd_v1_dir "$CID" devices)/devices.list")
	grep -qx "c 1:3 rwm" <<<"$list" || fail "devices.list: $list"
	! grep -qx "a \*:\* rwm" <<<"$list" || fail "devices.list allows everything: $list"
	husk update --memory 50m --pids-limit 64 --cpu-share 256 "$CID"
	sd_check "$unit" MemoryLimit 52428800
	[ "$(cat "$(sd_v1_dir "$CID" memory)/memory.limit_in_bytes")" = 52428800 ]
	sd_check "$unit" TasksMax 64
	[ "$(cat "$(sd_v1_dir "$CID" pids)/pids.max")" = 64 ]
	sd_check "$unit" CPUShares 256
	[ "$(cat "$(sd_v1_dir "$CID" cpu)/cpu.shares")" = 256 ]
}

# On a daemon-reload systemd writes its DeviceAllow= list to the v1 devices cgroup again, over
# the runtime's own lists: the list must hold what the rules leave allowed, a deny after an
# allow included. Major 240 has no driver: an allowed open fails with ENXIO, a denied one EPERM.
@test "hybrid: the device rules hold after a daemon-reload: systemd's list has a later deny too" {
	update_config '.linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [{allow: false, access: "rwm"},
			{allow: true, type: "c", major: 240, minor: 0, access: "rwm"},
			{allow: false, type: "c", major: 240, minor: 0, access: "w"}]'
	start_sleeper
	local unit when list
	unit=$(sd_unit "$CID")
	sd_check "$unit" DevicePolicy strict
	for when in "after the start" "after a daemon-reload"; do
		list=$(cat "$(sd_v1_dir "$CID" devices)/devices.list")
		grep -qx "c 240:0 rm" <<<"$list" || fail "$when: devices.list: $list"
		run husk exec "$CID" sh -c ': </dev/husk-x'
		[[ "$output" == *"No such device or address"* ]] || fail "$when: read open: $output"
		run husk exec "$CID" sh -c ': >/dev/husk-x'
		[[ "$output" == *"Operation not permitted"* ]] || fail "$when: write open: $output"
		systemctl daemon-reload
	done
}

@test "hybrid: a deny list holds after a daemon-reload: systemd, which has none, denies all" {
	# Every device allowed but one: systemd cannot say that, and on a reload it rewrites
	# the v1 devices cgroup from its own properties. The denied device must stay denied.
	update_config '.linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [{allow: true, access: "rwm"},
			{allow: false, type: "c", major: 240, minor: 0, access: "rw"}]'
	start_sleeper
	local list
	list=$(cat "$(sd_v1_dir "$CID" devices)/devices.list")
	[ "$list" = "a *:* rwm" ] || fail "devices.list: $list"
	run husk exec "$CID" sh -c ': </dev/null'
	[ "$status" -eq 0 ] || fail "/dev/null: $output"
	run husk exec "$CID" sh -c ': </dev/husk-x'
	[[ "$output" == *"Operation not permitted"* ]] || fail "read open: $output"
	systemctl daemon-reload
	# ENXIO here ("No such device or address") would mean the deny was lost.
	run husk exec "$CID" sh -c ': </dev/husk-x'
	[[ "$output" == *"Operation not permitted"* ]] || fail "after a daemon-reload: read open: $output"
}

@test "hybrid: pause freezes the v1 freezer cgroup; delete leaves no directory and no unit" {
	start_sleeper
	local unit c dirs=()
	unit=$(sd_unit "$CID")
	for c in "${HIERARCHIES[@]}" ""; do
		dirs+=("$(sd_v1_dir "$CID" "$c")")
	done
	husk pause "$CID"
	[ "$(container_status "$CID")" = paused ]
	[ "$(cat "$(sd_v1_dir "$CID" freezer)/freezer.state")" = FROZEN ]
	husk resume "$CID"
	[ "$(container_status "$CID")" = running ]
	run -0 husk events --stats "$CID"
	[ "$(jq -r .data.pids.current <<<"$output")" = 1 ]
	husk delete -f "$CID"
	sd_wait_unloaded "$unit"
	for c in "${dirs[@]}"; do
		[ ! -d "$c" ] || fail "left: $c"
	done
}
