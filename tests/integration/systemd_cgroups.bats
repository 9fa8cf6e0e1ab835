#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup): the container's transient unit, its placement
# from linux.cgroupsPath ("slice:prefix:name"), the limits as unit properties and in the cgroup
# files, the commands that act on the cgroup, and what is left after delete. Needs systemd as
# PID 1 on cgroup v2 (make vm-systemd-test); the test for a host without systemd runs here.
# Runs against runc as well: HUSK=/usr/sbin/runc.

load helpers
load cgroups_helpers
load systemd_helpers

setup() {
	sd_setup
}

teardown() {
	sd_teardown
}

@test "without systemd: --systemd-cgroup fails with a clear error and leaves nothing" {
	! host_systemd || skip "systemd runs here"
	set_args true
	local id
	id=$(new_id)
	run ! husk run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"not running on this host"* ]] || fail "error does not say systemd is not running: $output"
	[[ "$output" == *systemd* ]] || fail "error does not name systemd: $output"
	assert_nothing_left
}

@test "default cgroupsPath: the init runs in <runtime>-<id>.scope in system.slice, delegated, accounting on" {
	requires systemd
	start_sleeper
	local unit
	unit=$(sd_unit "$CID")
	sd_check "$unit" ActiveState active
	sd_check "$unit" Slice system.slice
	sd_check "$unit" Delegate yes
	sd_check "$unit" ControlGroup "/system.slice/$unit"
	sd_check "$unit" DefaultDependencies no
	local a
	for a in MemoryAccounting CPUAccounting IOAccounting TasksAccounting; do
		sd_check "$unit" "$a" yes
	done
	# The init and what it runs are there, from the host and from inside (no cgroup namespace
	# in the default config).
	[ "$(sd_cgroup "$CID")" = "/sys/fs/cgroup/system.slice/$unit" ]
	run -0 husk exec "$CID" cat /proc/self/cgroup
	[ "$output" = "0::/system.slice/$unit" ]
	grep -qx "$(container_pid "$CID")" "/sys/fs/cgroup/system.slice/$unit/cgroup.procs"
	# Delegated: the controllers are there for the container to use.
	local c
	for c in cpu io memory pids; do
		grep -qw "$c" "/sys/fs/cgroup/system.slice/$unit/cgroup.controllers" || fail "controller $c not delegated"
	done
}

@test "slice:prefix:name: the scope prefix-name.scope in the slice; nested slice names expand" {
	requires systemd
	local top="husktest$RANDOM$RANDOM"
	sd_track_slice "$top.slice"
	sd_track_slice "$top-sub.slice"
	CID=$(new_id)
	update_config ".linux.cgroupsPath = \"$top-sub.slice:husktest:$CID\""
	set_args sleep 1000
	run -0 husk_bg run -d --bundle "$BUNDLE" "$CID"
	wait_for_status "$CID" running
	local unit="husktest-$CID.scope"
	sd_track "$unit"
	sd_check "$unit" Slice "$top-sub.slice"
	sd_check "$unit" ControlGroup "/$top.slice/$top-sub.slice/$unit"
	[ "$(sd_cgroup "$CID")" = "/sys/fs/cgroup/$top.slice/$top-sub.slice/$unit" ]
	# The parent slices are systemd's units, one inside the other.
	sd_check "$top-sub.slice" Slice "$top.slice"
	sd_check "$top-sub.slice" ActiveState active
	husk delete -f "$CID"
	sd_wait_unloaded "$unit"
}

@test "slice:prefix:name with a name ending in .slice: that slice is the container's unit" {
	requires systemd
	# runc 1.1 and 1.5 fail here: they start the slice with the init's pid (PIDs=), which
	# systemd takes only for scopes ("Cannot set property PIDs"). husk starts the slice, then
	# moves the init into its cgroup itself.
	local top="husktest$RANDOM$RANDOM"
	local slice="$top-ctr.slice"
	sd_track_slice "$top.slice"
	update_config ".linux.cgroupsPath = \"$top.slice:ignored:$slice\" | .linux.resources.memory = {limit: 33554432}"
	start_sleeper
	sd_check "$slice" ActiveState active
	sd_check "$slice" Wants "$top.slice"
	sd_check "$slice" MemoryMax 33554432
	[ "$(sd_cgroup "$CID")" = "/sys/fs/cgroup/$top.slice/$slice" ]
	[ "$(cat "/sys/fs/cgroup/$top.slice/$slice/memory.max")" = 33554432 ]
	husk delete -f "$CID"
	# Stopped (systemd keeps an empty slice loaded until nothing refers to it), its cgroup gone.
	sd_check "$slice" ActiveState inactive
	[ ! -d "/sys/fs/cgroup/$top.slice/$slice" ]
}

@test "cgroupsPath in another form is refused, naming the expected form; nothing is left" {
	requires systemd
	set_args true
	local p id
	for p in "/system.slice/husktest" "husktest" "system.slice:husktest" "a.slice:b:c:d"; do
		update_config ".linux.cgroupsPath = \"$p\""
		id=$(new_id)
		run ! husk run --bundle "$BUNDLE" "$id"
		[[ "$output" == *"slice:prefix:name"* ]] || fail "cgroupsPath $p: error does not name the expected form: $output"
		[ -z "$(sd_units_named "$id")" ] || fail "cgroupsPath $p: units left: $(sd_units_named "$id")"
		assert_nothing_left
	done
	# A slice that is not one.
	update_config '.linux.cgroupsPath = "system:husktest:x"'
	id=$(new_id)
	run ! husk run --bundle "$BUNDLE" "$id"
	[[ "$output" == *"slice"* ]] || fail "bad slice: error does not name the slice: $output"
	assert_nothing_left
}

@test "limits at create: the unit's properties and the cgroup files agree" {
	requires systemd
	update_config '.linux.resources += {
		memory: {limit: 67108864, reservation: 33554432, swap: 100663296},
		cpu: {shares: 512, quota: 25000, period: 50000, cpus: "0", mems: "0"},
		pids: {limit: 42},
		blockIO: {weight: 500}
	}'
	start_sleeper
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	sd_check "$unit" MemoryMax 67108864
	[ "$(cat "$dir/memory.max")" = 67108864 ]
	sd_check "$unit" MemoryLow 33554432
	[ "$(cat "$dir/memory.low")" = 33554432 ]
	sd_check "$unit" MemorySwapMax 33554432
	[ "$(cat "$dir/memory.swap.max")" = 33554432 ]
	local w
	w=$(weight_for_shares 512)
	sd_check "$unit" CPUWeight "$w"
	[ "$(cat "$dir/cpu.weight")" = "$w" ]
	# 25 ms every 50 ms: half a CPU, 500 ms per second.
	sd_check "$unit" CPUQuotaPerSecUSec 500ms
	sd_check "$unit" CPUQuotaPeriodUSec 50ms
	[ "$(cat "$dir/cpu.max")" = "25000 50000" ]
	sd_check "$unit" AllowedCPUs 0
	sd_check "$unit" AllowedMemoryNodes 0
	[ "$(cat "$dir/cpuset.cpus")" = 0 ]
	[ "$(cat "$dir/cpuset.mems")" = 0 ]
	sd_check "$unit" TasksMax 42
	[ "$(cat "$dir/pids.max")" = 42 ]
	# blkio weight 500 is io.weight 4950 (1 + (w - 10) * 9999 / 990); runc leaves IOWeight to
	# systemd's default.
	if [ -e "$dir/io.bfq.weight" ]; then
		[ "$(cat "$dir/io.bfq.weight")" = "default 500" ]
	else
		[ "$(cat "$dir/io.weight")" = "default 4950" ]
	fi
	if [ "$HUSK_NAME" = husk ]; then
		sd_check "$unit" IOWeight 4950
	fi
}

@test "unified keys and block device throttles: the unit's properties and the files" {
	requires systemd
	# The VM's disk (virtio), by its major:minor.
	local dev
	dev=$(cat /sys/block/vda/dev 2>/dev/null) || skip "no /dev/vda"
	update_config '.linux.resources += {
		unified: {"memory.high": "50331648", "memory.low": "8388608", "cpu.weight": "50", "pids.max": "max"},
		blockIO: {
			throttleReadBpsDevice: [{major: '"${dev%:*}"', minor: '"${dev#*:}"', rate: 1048576}],
			throttleWriteIOPSDevice: [{major: '"${dev%:*}"', minor: '"${dev#*:}"', rate: 100}]
		}
	}'
	start_sleeper
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	sd_check "$unit" MemoryHigh 50331648
	[ "$(cat "$dir/memory.high")" = 50331648 ]
	sd_check "$unit" MemoryLow 8388608
	[ "$(cat "$dir/memory.low")" = 8388608 ]
	sd_check "$unit" CPUWeight 50
	[ "$(cat "$dir/cpu.weight")" = 50 ]
	sd_check "$unit" TasksMax infinity
	[ "$(cat "$dir/pids.max")" = max ]
	[ "$(cat "$dir/io.max")" = "$dev rbps=1048576 wbps=max riops=max wiops=100" ]
	# runc 1.1 writes io.max only; husk gives systemd the throttles too.
	if [ "$HUSK_NAME" = husk ]; then
		sd_check "$unit" IOReadBandwidthMax "/dev/block/$dev 1048576"
		sd_check "$unit" IOWriteIOPSMax "/dev/block/$dev 100"
		# systemd re-applies them on a reload: io.max keeps its values.
		systemctl daemon-reload
		[ "$(cat "$dir/io.max")" = "$dev rbps=1048576 wbps=max riops=max wiops=100" ]
	fi
}

@test "devices: DevicePolicy=strict with the allowed devices as DeviceAllow, and the container's own filter" {
	requires systemd
	update_config '.linux.resources.devices = [{allow: false, access: "rwm"}, {allow: true, type: "c", major: 1, minor: 11, access: "r"}]
		| .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]'
	start_sleeper
	local unit allow want
	unit=$(sd_unit "$CID")
	sd_check "$unit" DevicePolicy strict
	# The config's /dev/kmsg (read only) and the runtime's defaults, among them any device node
	# may be made (m), /dev/null and /dev/zero, and the ptys (136, which runc 1.1 names by its
	# /proc/devices group).
	allow=$(systemctl show -p DeviceAllow "$unit")
	for want in "char-* m" "block-* m" "/dev/char/1:3 rwm" "/dev/char/1:5 rwm" "/dev/char/1:11 r"; do
		grep -qxF "DeviceAllow=$want" <<<"$allow" || fail "DeviceAllow lacks '$want': $allow"
	done
	grep -qx "DeviceAllow=char-\(136\|pts\) rwm" <<<"$allow" || fail "DeviceAllow lacks the ptys: $allow"
	# Inside, the rules hold: /dev/null opens; a block device node can be made but not opened.
	run -0 husk exec "$CID" sh -c 'echo x >/dev/null && echo ok'
	[ "$output" = ok ]
	run -0 husk exec "$CID" sh -c 'mknod /dev/husk-sda b 8 0 && (head -c 1 /dev/husk-sda >/dev/null 2>&1 && echo open || echo denied)'
	[ "$output" = denied ]
}

# Rules that deny the mknod of a node in linux.devices: as runc, the unit starts without
# device properties and gets them (and the cgroup its filter) once the init has made its
# nodes. The node exists and does not open, also after a daemon-reload; the other limits
# stay as the unit started with them.
@test "devices: a node whose mknod the rules deny is made; the rules hold after, the other limits too" {
	requires systemd
	update_config '.root.readonly = false
		| .linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [{allow: true, access: "rwm"},
			{allow: false, type: "c", major: 240, minor: 0, access: "rwm"}]
		| .linux.resources.pids = {limit: 100}'
	start_sleeper
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	sd_check "$unit" TasksMax 100
	[ "$(cat "$dir/pids.max")" = 100 ]
	run -0 husk exec "$CID" stat -c "%n %t:%T" /dev/husk-x
	[ "$output" = "/dev/husk-x f0:0" ]
	run -0 husk exec "$CID" sh -c '(: </dev/husk-x) 2>&1; echo x >/dev/null && echo null-ok'
	[[ "$output" == *"Operation not permitted"* ]] || fail "husk-x opened: $output"
	[[ "$output" == *null-ok ]] || fail "/dev/null: $output"
	systemctl daemon-reload
	run -0 husk exec "$CID" sh -c '(: </dev/husk-x) 2>&1; true'
	[[ "$output" == *"Operation not permitted"* ]] || fail "husk-x opened after daemon-reload: $output"
	sd_check "$unit" TasksMax 100
}

@test "update changes the unit's properties and the files" {
	requires systemd
	update_config '.linux.resources += {memory: {limit: 67108864}, pids: {limit: 100}}'
	start_sleeper
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	husk update --memory 50m --memory-reservation 20m --pids-limit 64 --cpu-share 256 \
		--cpu-period 100000 --cpu-quota 20000 --cpuset-cpus 0 "$CID"
	sd_check "$unit" MemoryMax 52428800
	[ "$(cat "$dir/memory.max")" = 52428800 ]
	sd_check "$unit" MemoryLow 20971520
	[ "$(cat "$dir/memory.low")" = 20971520 ]
	sd_check "$unit" TasksMax 64
	[ "$(cat "$dir/pids.max")" = 64 ]
	sd_check "$unit" CPUWeight "$(weight_for_shares 256)"
	[ "$(cat "$dir/cpu.weight")" = "$(weight_for_shares 256)" ]
	sd_check "$unit" CPUQuotaPerSecUSec 200ms
	[ "$(cat "$dir/cpu.max")" = "20000 100000" ]
	sd_check "$unit" AllowedCPUs 0
	[ "$(cat "$dir/cpuset.cpus")" = 0 ]
	# A later update keeps what it does not name, in systemd and in the files.
	husk update --memory 40m "$CID"
	sd_check "$unit" MemoryMax 41943040
	sd_check "$unit" TasksMax 64
	[ "$(cat "$dir/pids.max")" = 64 ]
	[ "$(cat "$dir/cpu.max")" = "20000 100000" ]
	# A reload of systemd re-applies the unit's settings to the cgroup: the files keep the
	# values, because systemd has them too.
	systemctl daemon-reload
	[ "$(cat "$dir/memory.max")" = 41943040 ]
	[ "$(cat "$dir/pids.max")" = 64 ]
	[ "$(cat "$dir/cpu.max")" = "20000 100000" ]
	[ "$(cat "$dir/memory.low")" = 20971520 ]
}

@test "pause and resume freeze and thaw the unit's cgroup" {
	requires systemd
	start_sleeper
	local dir
	dir=$(sd_cgroup "$CID")
	husk pause "$CID"
	[ "$(container_status "$CID")" = paused ]
	[ "$(cat "$dir/cgroup.freeze")" = 1 ]
	grep -qx "frozen 1" "$dir/cgroup.events"
	husk resume "$CID"
	[ "$(container_status "$CID")" = running ]
	[ "$(cat "$dir/cgroup.freeze")" = 0 ]
	grep -qx "frozen 0" "$dir/cgroup.events"
}

@test "exec runs in the container's scope; ps lists it" {
	requires systemd
	start_sleeper
	local unit
	unit=$(sd_unit "$CID")
	run -0 husk exec "$CID" cat /proc/self/cgroup
	[ "$output" = "0::/system.slice/$unit" ]
	husk exec -d "$CID" sleep 999
	local p n=0
	for p in $(husk ps -f json "$CID" | jq -r '.[]'); do
		[ "$(sed -n 's/^0:://p' "/proc/$p/cgroup")" = "/system.slice/$unit" ] || fail "pid $p is not in $unit"
		n=$((n + 1))
	done
	[ "$n" -eq 2 ] || fail "ps listed $n processes, want 2"
}

@test "state, kill, pause, resume, ps, events and exec make no D-Bus connection" {
	requires systemd
	command -v strace >/dev/null || skip "test requires strace"
	start_sleeper
	# Only create, update and delete talk to systemd; the rest act on the cgroup files.
	local cmd
	for cmd in "state $CID" "kill $CID CONT" "kill -a $CID CONT" "pause $CID" "resume $CID" "ps $CID" \
		"events --stats $CID" "exec $CID true"; do
		# shellcheck disable=SC2086
		strace -f -qq -e trace=connect -o "$TESTDIR/strace.out" "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" $cmd >/dev/null
		! grep -E 'systemd/private|dbus/system_bus_socket' "$TESTDIR/strace.out" || fail "$cmd connected to D-Bus"
	done
	# The same trace sees run's connection (the container's `true` ends, and strace with it).
	local id
	id=$(new_id)
	sd_unit "$id" >/dev/null
	set_args true
	# shellcheck disable=SC2086
	strace -f -qq -e trace=connect -o "$TESTDIR/strace.out" "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run -d --bundle "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	grep -qE 'systemd/private|dbus/system_bus_socket' "$TESTDIR/strace.out" || fail "run made no D-Bus connection: $(cat "$TESTDIR/strace.out")"
}

@test "kill -a signals every process of the unit; systemd then drops the unit" {
	requires systemd
	start_sleeper sh -c 'sleep 1000 & sleep 1000 & wait'
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	[ "$(wc -l <"$dir/cgroup.procs")" -eq 3 ]
	husk kill -a "$CID" KILL
	wait_for_status "$CID" stopped
	sd_wait_unloaded "$unit"
	husk delete "$CID"
	[ ! -d "$dir" ]
}

@test "events --stats reads the unit's cgroup" {
	requires systemd
	start_sleeper
	run -0 husk events --stats "$CID"
	local mem pids
	mem=$(jq -r '.data.memory.usage.usage' <<<"$output")
	pids=$(jq -r '.data.pids.current' <<<"$output")
	[ "$mem" -gt 0 ] || fail "memory usage $mem"
	[ "$pids" -eq "$(wc -l <"$(sd_cgroup "$CID")/cgroup.procs")" ] || fail "pids.current $pids"
}

@test "delete stops the unit and removes its cgroup, running or exited" {
	requires systemd
	start_sleeper
	local unit dir
	unit=$(sd_unit "$CID")
	dir=$(sd_cgroup "$CID")
	husk delete -f "$CID"
	sd_wait_unloaded "$unit"
	[ ! -d "$dir" ]
	# A container whose process exited on its own.
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
	wait_for_status "$id" stopped
	husk delete "$id"
	sd_wait_unloaded "$(sd_unit "$id")"
	assert_nothing_left
}

@test "a unit that failed (OOM kill with OOMPolicy=stop) is reset by delete" {
	requires systemd
	# runc 1.1.5 leaves the failed unit loaded.
	update_config '.annotations = {"org.systemd.property.OOMPolicy": "'"'"'stop'"'"'"}
		| .linux.resources.memory = {limit: 20971520, swap: 20971520}'
	set_args sh -c 'a=x; while :; do a=$a$a; done'
	CID=$(new_id)
	local unit
	unit=$(sd_unit "$CID")
	run -0 husk_bg run -d --bundle "$BUNDLE" "$CID"
	local _
	for _ in $(seq 300); do
		[ "$(container_status "$CID")" = stopped ] && break
		sleep 0.1
	done
	[ "$(container_status "$CID")" = stopped ]
	# systemd saw the OOM kill: the unit failed and stays loaded until reset.
	sd_check "$unit" ActiveState failed
	sd_check "$unit" Result oom-kill
	husk delete "$CID"
	sd_wait_unloaded "$unit"
}

@test "annotations org.systemd.property.* become properties of the unit" {
	requires systemd
	update_config '.annotations += {
		"org.systemd.property.TimeoutStopUSec": "uint64 123456789",
		"org.systemd.property.CollectMode": "'"'"'inactive-or-failed'"'"'",
		"org.systemd.property.RuntimeMaxSec": "3600"
	}'
	start_sleeper
	local unit
	unit=$(sd_unit "$CID")
	sd_check "$unit" TimeoutStopUSec "2min 3.456789s"
	sd_check "$unit" CollectMode inactive-or-failed
	# ...Sec is the seconds form of ...USec.
	sd_check "$unit" RuntimeMaxUSec 1h
}

@test "a bad org.systemd.property annotation is refused by name; nothing is left" {
	requires systemd
	set_args true
	local a id
	for a in '"org.systemd.property.Ab": "true"' '"org.systemd.property.Foo1": "true"' \
		'"org.systemd.property.CollectMode": "inactive-or-failed"'; do
		update_config ".annotations = {$a}"
		id=$(new_id)
		run ! husk run --bundle "$BUNDLE" "$id"
		local key=${a%%\":*}
		key=${key#\"}
		[[ "$output" == *"$key"* ]] || fail "$a: error does not name the annotation: $output"
		[ -z "$(sd_units_named "$id")" ] || fail "$a: units left: $(sd_units_named "$id")"
		assert_nothing_left
	done
}

@test "a create killed after the unit started: delete -f leaves no unit and no process" {
	requires systemd
	husk_only "the create is killed at husk's own phases (_HUSK_TEST_KILL_AT)"
	set_args sleep 1000
	local phase id
	for phase in "cgroup join" "init ready"; do
		id=$(new_id)
		local rc=0
		_HUSK_TEST_KILL_AT="create:$phase" husk create --bundle "$BUNDLE" "$id" </dev/null >"$TESTDIR/killed.out" 2>&1 || rc=$?
		[ "$rc" -eq 137 ] || fail "create killed at '$phase': exit $rc: $(cat "$TESTDIR/killed.out")"
		husk delete -f "$id"
		sd_wait_unloaded "$(sd_unit "$id")"
		assert_nothing_left
	done
}

@test "the cgroupfs driver keeps working next to systemd" {
	requires systemd
	HUSK_GLOBAL_OPTS=${HUSK_GLOBAL_OPTS/--systemd-cgroup/}
	update_config '.linux.resources.memory = {limit: 33554432}'
	start_sleeper
	local dir
	dir=$(sd_cgroup "$CID")
	# Not a unit: a plain directory named after the id, as runc's cgroupfs driver makes it.
	[ "$(basename "$dir")" = "$CID" ]
	[ -z "$(sd_units_named "$CID")" ]
	[ "$(cat "$dir/memory.max")" = 33554432 ]
}
