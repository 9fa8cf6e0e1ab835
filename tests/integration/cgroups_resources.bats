#!/usr/bin/env bats
# linux.resources, one resource at a time: set in config.json, read back from
# the cgroup file on the host and from inside the container, and the effect
# checked where it can be seen. Runs on cgroup v1 (hybrid) and pure v2.

load helpers
load cgroups_helpers

teardown() {
	cg_teardown
}

# The init is in every one of the container's cgroups before it sets anything up, and its
# memory is charged there. On v1 its main thread (the one that execs the workload, and whose
# cgroup memory is charged to) joins each hierarchy by itself, which spares the wait for the
# kernel's global migration lock; on v2 (and on v1 with a user namespace) husk moves the whole
# process. Compared before start with the workload after start (the same thread).
@test "join: a created container's init is in each of its cgroups, memory charged there" {
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	local pid before after line own
	pid=$(container_pid "$CID")
	before=$(sort "/proc/$pid/task/$pid/cgroup")
	while IFS= read -r line; do
		own=$(grep -F "${line%%:/*}:" /proc/self/cgroup)
		[ "$line" != "$own" ] || fail "the init's thread is still in husk's own cgroup: $line"
	done <<<"$before"
	if cg_v2; then
		[ "$(cat "$(cg_dir memory)/memory.current")" -gt 0 ] || fail "nothing charged to memory.current"
	else
		[ "$(cat "$(cg_dir memory)/memory.max_usage_in_bytes")" -gt 0 ] || fail "nothing charged to the memory cgroup"
	fi
	husk start "$CID"
	after=$(sort "/proc/$pid/cgroup")
	[ "$before" = "$after" ] || fail "cgroups before start: $before; of the workload: $after"
}

@test "memory: limit, reservation and swap are in the cgroup files" {
	update_config '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}'
	start_sleeper
	if cg_v2; then
		cg_check memory memory.max 67108864
		cg_check memory memory.low 33554432
		# v2 counts swap alone: 96 MiB memory+swap - 64 MiB memory.
		cg_check memory memory.swap.max 33554432
	else
		cg_check memory memory.limit_in_bytes 67108864
		cg_check memory memory.soft_limit_in_bytes 33554432
		cg_check memory memory.memsw.limit_in_bytes 100663296
	fi
	# The container sees its cgroup read-only.
	local f=/sys/fs/cgroup/memory/memory.limit_in_bytes
	cg_v2 && f=/sys/fs/cgroup/memory.max
	run ! husk exec "$CID" sh -c "echo 1048576 >$f"
	[[ "$output" == *"Read-only file system"* ]]
}

@test "memory: swappiness and disableOOMKiller (v1), refused by name on v2" {
	update_config '.linux.resources.memory = {limit: 67108864, swappiness: 10, disableOOMKiller: true}'
	if cg_v2; then
		run_refused "linux.resources.memory.swappiness"
		update_config '.linux.resources.memory = {limit: 67108864, disableOOMKiller: true}'
		run_refused "linux.resources.memory.disableOOMKiller"
		assert_nothing_left
		return
	fi
	start_sleeper
	cg_check memory memory.swappiness 10
	[ "$(cg_key "$(cg_dir memory)/memory.oom_control" oom_kill_disable)" = 1 ]
}

# kernelTCP: cgroup v1 still enforces the TCP buffer limit (memory.kmem.tcp.limit_in_bytes);
# v2 has no such limit, and the field is refused by name there. kernel (deprecated, no longer
# enforced) is ignored with a warning.
@test "memory: kernelTCP is set on v1, refused by name on v2; kernel warns" {
	husk_only "runc ignores memory.kernel and memory.kernelTCP with one warning (Kernel memory settings are ignored)"
	update_config '.linux.resources.memory = {limit: 67108864, kernelTCP: 8388608, kernel: 16777216}'
	if cg_v2; then
		run_refused "linux.resources.memory.kernelTCP"
		assert_nothing_left
		return
	fi
	start_sleeper
	[[ "$output" == *"linux.resources.memory.kernel is deprecated"* ]]
	cg_check memory memory.kmem.tcp.limit_in_bytes 8388608
	husk update --kernel-memory-tcp 4m "$CID"
	cg_check memory memory.kmem.tcp.limit_in_bytes 4194304
}

@test "memory: a process over the limit is OOM-killed, run exits 137" {
	update_config '.linux.resources.memory = {limit: 16777216, swap: 16777216}'
	# dd fills a 64 MiB buffer: four times the limit.
	set_args dd if=/dev/zero of=/dev/null bs=64M count=1
	run -137 husk run --bundle "$BUNDLE" "$(new_id)"
	assert_nothing_left
}

@test "memory: events reports an oom event and the cgroup counts the kill" {
	update_config '.linux.resources.memory = {limit: 16777216, swap: 16777216}'
	start_sleeper
	husk events --interval 100ms "$CID" >"$TESTDIR/events" 2>&1 &
	local events_pid=$!
	track_pid "$events_pid"
	# The first stats line: events has read the starting OOM count.
	wait_for_file "$TESTDIR/events"
	run -137 husk exec "$CID" dd if=/dev/zero of=/dev/null bs=64M count=1
	local _
	for _ in $(seq 50); do
		grep -q '"type":"oom"' "$TESTDIR/events" && break
		sleep 0.1
	done
	run jq -c 'select(.type == "oom")' "$TESTDIR/events"
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"id\":\"$CID\""* ]]
	if cg_v2; then
		[ "$(cg_key "$(cg_dir memory)/memory.events" oom_kill)" -ge 1 ]
	else
		[ "$(cg_key "$(cg_dir memory)/memory.oom_control" oom_kill)" -ge 1 ]
	fi
	# The container's init survived: only dd was over the limit.
	[ "$(container_status "$CID")" = running ]
	# husk's events ends by itself once the container is gone (runc's streams on).
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	[ "$HUSK_NAME" != husk ] || wait_gone "$events_pid"
}

@test "memory: a 1 MiB limit can start /bin/true" {
	skip_runc '*' "sets the limit once its init is in the cgroup, and that init uses more than 1 MiB (unable to set memory limit)"
	update_config '.linux.resources.memory = {limit: 1048576}'
	set_args true
	run husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$status" -eq 0 ] && return 0
	local err=$output
	# Failing must at least leave nothing behind.
	assert_nothing_left
	# Find the smallest limit that works, for the report.
	local kib smallest=none
	for kib in 1536 2048 2560 3072 4096; do
		update_config ".linux.resources.memory = {limit: $((kib * 1024))}"
		if husk run --bundle "$BUNDLE" "$(new_id)" >/dev/null 2>&1; then
			smallest="$kib KiB"
			break
		fi
	done
	fail "a 1 MiB memory limit cannot start /bin/true (${err:0:200}); smallest working limit: $smallest"
}

@test "pids: pids.max on the host and inside, fork fails at the limit" {
	update_config '.linux.resources.pids = {limit: 10}'
	start_sleeper
	cg_check pids pids.max 10
	husk delete -f "$CID"
	# The shell is one task: it forks sleeps until the tenth task is refused.
	# shellcheck disable=SC2016 # expanded by the container's shell
	run ! run_sh 'n=0; for i in $(seq 15); do sleep 1000 & n=$((n+1)); echo "forked $n"; done; echo all forked'
	[[ "$output" == *"can't fork"* || "$output" == *"Resource temporarily unavailable"* ]]
	[[ "$output" != *"all forked"* ]]
	[[ "$output" == *"forked 9"* ]]
	[[ "$output" != *"forked 10"* ]]
}

@test "cpu: shares, quota and period (v1 files; v2 cpu.weight and cpu.max)" {
	update_config '.linux.resources.cpu = {shares: 512, quota: 10000, period: 100000}'
	start_sleeper
	if cg_v2; then
		cg_check cpu cpu.weight "$(shares_to_weight 512)"
		cg_check cpu cpu.max "10000 100000"
	else
		cg_check cpu cpu.shares 512
		cg_check cpu cpu.cfs_quota_us 10000
		cg_check cpu cpu.cfs_period_us 100000
	fi
	# A busy loop at 10% of one cpu gets throttled (retried: on a loaded host
	# the loop may not get its 10% within one run).
	local _
	for _ in 1 2 3; do
		run husk exec "$CID" timeout 1 sh -c 'while :; do :; done'
		[ "$(cg_key "$(cg_dir cpu)/cpu.stat" nr_throttled)" -gt 0 ] && break
	done
	[ "$(cg_key "$(cg_dir cpu)/cpu.stat" nr_throttled)" -gt 0 ]
}

@test "cpu: shares map to cpu.weight with runc's conversion (v2), cpu.shares as given (v1)" {
	update_config '.linux.resources.cpu = {shares: 2}'
	start_sleeper
	local s want
	for s in 2 100 1024 4096 262144; do
		husk update --cpu-share "$s" "$CID"
		if cg_v2; then
			want=$(shares_to_weight "$s")
			cg_check cpu cpu.weight "$want"
		else
			cg_check cpu cpu.shares "$s"
		fi
	done
	if cg_v2; then
		# runc's fixed points of the conversion.
		[ "$(shares_to_weight 2)" = 1 ]
		[ "$(shares_to_weight 1024)" = 100 ]
		[ "$(shares_to_weight 262144)" = 10000 ]
	fi
}

@test "cpu: burst and idle where the kernel has them" {
	local burst_file=cpu.cfs_burst_us
	cg_v2 && burst_file=cpu.max.burst
	update_config '.linux.resources.cpu = {quota: 50000, period: 100000, burst: 20000, idle: 1}'
	set_args sleep 1000
	CID=$(new_id)
	run husk_bg run -d --bundle "$BUNDLE" "$CID"
	if [ "$status" -ne 0 ]; then
		# Only a kernel without the files may refuse, and must say which field.
		[[ "$output" == *"linux.resources.cpu.burst"* || "$output" == *"linux.resources.cpu.idle"* ]]
		skip "kernel lacks $burst_file or cpu.idle: $output"
	fi
	wait_for_status "$CID" running
	cg_check cpu "$burst_file" 20000
	cg_check cpu cpu.idle 1
}

@test "cpuset: cpus and mems in the files and in the process's affinity" {
	update_config '.linux.resources.cpu = {cpus: "0", mems: "0"}'
	start_sleeper
	cg_check cpuset cpuset.cpus 0
	cg_check cpuset cpuset.mems 0
	run -0 husk exec "$CID" grep Cpus_allowed_list /proc/self/status
	[[ "$output" == *$'\t'"0" ]]
	[ "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$(container_pid "$CID")/status")" = 0 ]
}

@test "devices: a node outside the rules cannot be opened, an allow rule opens it" {
	# CAP_MKNOD to make nodes in /dev (a tmpfs); c *:* m is a default rule.
	update_config '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	# Major 240 is "local/experimental": no driver, so an allowed open fails
	# with ENXIO, a denied one with EPERM.
	local script='mknod /dev/husk-x c 240 0 && cat /dev/husk-x; mknod /dev/husk-y c 240 1 && cat /dev/husk-y'
	start_sleeper
	run husk exec "$CID" sh -c "$script"
	[[ "$output" == *"/dev/husk-x': Operation not permitted"* ]]
	[[ "$output" == *"/dev/husk-y': Operation not permitted"* ]]
	if ! cg_v2; then
		run -0 cg_get devices devices.list
		[[ "$output" != *"a *:* rwm"* ]]
		[[ "$output" == *"c 1:3 rwm"* ]]
	fi
	husk delete -f "$CID"

	update_config '.linux.resources.devices += [{allow: true, type: "c", major: 240, minor: 0, access: "r"}]'
	start_sleeper
	run husk exec "$CID" sh -c "$script"
	[[ "$output" == *"/dev/husk-x': No such device or address"* ]]
	[[ "$output" == *"/dev/husk-y': Operation not permitted"* ]]
	if ! cg_v2; then
		run -0 cg_get devices devices.list
		[[ "$output" == *"c 240:0 r"* ]]
		[[ "$output" != *"c 240:1"* ]]
	fi
}

# exec_out runs `exec "$CID" ARGS...` with the runtime's own stderr (runc's warnings) in
# $TESTDIR/exec.err, so that $output holds only what the process wrote to stdout.
exec_out() {
	husk exec "$CID" "$@" 2>>"$TESTDIR/exec.err"
}

# open_probe prints one line per device open, in the container $CID: "PATH MODE ok" or
# "PATH MODE <error>". MODE is r, w or rw. Major 240 has no driver: an open the rules allow
# fails there with ENXIO, one they deny with EPERM.
open_probe() {
	local script=''
	while [ $# -gt 0 ]; do
		case $2 in
		r) script+="(: <$1) 2>/tmp/e && echo '$1 r ok' || echo \"$1 r \$(cat /tmp/e)\"; " ;;
		w) script+="(: >$1) 2>/tmp/e && echo '$1 w ok' || echo \"$1 w \$(cat /tmp/e)\"; " ;;
		rw) script+="(: <>$1) 2>/tmp/e && echo '$1 rw ok' || echo \"$1 rw \$(cat /tmp/e)\"; " ;;
		esac
		shift 2
	done
	exec_out sh -c "$script"
}

# A node listed in linux.devices is created, but only linux.resources.devices (and the
# default allow list, for the standard nodes) decide whether it opens: as runc does, on v1
# and in the v2 device filter. /dev/kmsg opened write-only needs no capability.
@test "devices: a node in linux.devices does not open under deny-all; an allow rule opens it" {
	update_config '.root.readonly = false
		| .linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11},
			{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]'
	start_sleeper
	run -0 exec_out stat -c "%n %F %t:%T" /dev/kmsg /dev/husk-x
	[ "${lines[0]}" = "/dev/kmsg character special file 1:b" ]
	[ "${lines[1]}" = "/dev/husk-x character special file f0:0" ]
	run -0 open_probe /dev/kmsg w /dev/husk-x r /dev/null rw
	[[ "${lines[0]}" == "/dev/kmsg w "*"Operation not permitted" ]] || fail "kmsg opened: ${lines[0]}"
	[[ "${lines[1]}" == "/dev/husk-x r "*"Operation not permitted" ]] || fail "husk-x not denied: ${lines[1]}"
	[ "${lines[2]}" = "/dev/null rw ok" ]
	if ! cg_v2; then
		run -0 cg_get devices devices.list
		[[ "$output" != *"c 1:11 "* ]] || fail "devices.list allows kmsg: $output"
		[[ "$output" != *"c 240:0 "* ]] || fail "devices.list allows 240:0: $output"
		[[ "$output" == *"c 1:3 rwm"* ]]
	fi
	husk delete -f "$CID"

	update_config '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"},
		{allow: true, type: "c", major: 240, minor: 0, access: "r"}]'
	start_sleeper
	run -0 open_probe /dev/kmsg w /dev/kmsg r /dev/husk-x r /dev/husk-x w
	[ "${lines[0]}" = "/dev/kmsg w ok" ]
	[[ "${lines[1]}" == "/dev/kmsg r "*"Operation not permitted" ]] || fail "kmsg readable: ${lines[1]}"
	[[ "${lines[2]}" == "/dev/husk-x r "*"No such device or address" ]] || fail "husk-x not allowed: ${lines[2]}"
	[[ "${lines[3]}" == "/dev/husk-x w "*"Operation not permitted" ]] || fail "husk-x writable: ${lines[3]}"
}

# runc drops its default rule for a standard node that linux.devices lists itself: the
# config's entry takes its place, and only the config's rules open it.
@test "devices: a standard node listed in linux.devices is opened by the config's rules only" {
	update_config '.root.readonly = false | .linux.devices = [{path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 438}]'
	start_sleeper
	run -0 open_probe /dev/zero r /dev/null rw
	[[ "${lines[0]}" == "/dev/zero r "*"Operation not permitted" ]] || fail "zero opened: ${lines[0]}"
	[ "${lines[1]}" = "/dev/null rw ok" ]
	husk delete -f "$CID"

	update_config '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 5, access: "r"}]'
	start_sleeper
	run -0 open_probe /dev/zero r /dev/zero w
	[ "${lines[0]}" = "/dev/zero r ok" ]
	[[ "${lines[1]}" == "/dev/zero w "*"Operation not permitted" ]] || fail "zero writable: ${lines[1]}"
}

# Engines send their own list (docker, podman, containerd's CRI): deny all, then allows for
# mknod, the standard nodes, ptys and tun, and for each --device node. The container keeps
# every standard node, and a later deny of part of a node's access holds for an open that asks
# for more (v1 does this in the kernel; the v2 filter must decide the same).
@test "devices: an engine's rule list keeps the standard nodes, /dev/ptmx and ptys" {
	update_config '.root.readonly = false
		| .linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [
		{allow: false, access: "rwm"},
		{allow: true, type: "c", access: "m"}, {allow: true, type: "b", access: "m"},
		{allow: true, type: "c", major: 1, minor: 3, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 8, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 7, access: "rwm"},
		{allow: true, type: "c", major: 5, minor: 0, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 5, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 9, access: "rwm"},
		{allow: true, type: "c", major: 136, access: "rwm"},
		{allow: true, type: "c", major: 5, minor: 2, access: "rwm"},
		{allow: true, type: "c", major: 10, minor: 200, access: "rwm"},
		{allow: true, type: "c", major: 240, minor: 0, access: "rwm"},
		{allow: false, type: "c", major: 240, minor: 0, access: "w"}]'
	start_sleeper
	run -0 open_probe /dev/null rw /dev/zero r /dev/full w /dev/random r /dev/urandom rw /dev/tty rw /dev/ptmx rw \
		/dev/husk-x r /dev/husk-x rw
	[ "${lines[0]}" = "/dev/null rw ok" ]
	[ "${lines[1]}" = "/dev/zero r ok" ]
	[ "${lines[2]}" = "/dev/full w ok" ]
	[ "${lines[3]}" = "/dev/random r ok" ]
	[ "${lines[4]}" = "/dev/urandom rw ok" ]
	# No controlling terminal: the rules let the open through to the driver (ENXIO).
	[[ "${lines[5]}" == "/dev/tty rw "*"No such device or address" ]] || fail "tty: ${lines[5]}"
	[ "${lines[6]}" = "/dev/ptmx rw ok" ]
	[[ "${lines[7]}" == "/dev/husk-x r "*"No such device or address" ]] || fail "husk-x not readable: ${lines[7]}"
	[[ "${lines[8]}" == "/dev/husk-x rw "*"Operation not permitted" ]] || fail "deny w ignored for O_RDWR: ${lines[8]}"
	# A process with a terminal (exec -t, driven by script(1)): its pty (c 136:N) and
	# /dev/tty open.
	run -0 timeout 30 script -qec "$HUSK $HUSK_GLOBAL_OPTS --root $ROOT exec -t $CID sh -c \
		'stat -c \"%t\" \$(tty); (: <>\$(tty)) && echo pty-ok; (: <>/dev/tty) && echo tty-ok'" /dev/null </dev/null
	output=$(echo "$output" | tr -d '\r')
	[[ "$output" == *$'88\npty-ok\ntty-ok'* ]] || fail "terminal: $output"
}

# `update` applies limits only: device rules in its -r JSON are ignored (as runc does) and
# leave the container's rules, and what linux.devices created, as they were.
@test "devices: update -r with device rules opens nothing" {
	update_config '.root.readonly = false | .linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]'
	start_sleeper
	echo '{"devices": [{"allow": true, "access": "rwm"}], "pids": {"limit": 100}}' >"$TESTDIR/res.json"
	run -0 husk update -r "$TESTDIR/res.json" "$CID"
	run -0 open_probe /dev/husk-x r /dev/null rw
	[[ "${lines[0]}" == "/dev/husk-x r "*"Operation not permitted" ]] || fail "husk-x opened after update: ${lines[0]}"
	[ "${lines[1]}" = "/dev/null rw ok" ]
	if ! cg_v2; then
		run -0 cg_get devices devices.list
		[[ "$output" != "a *:* rwm" ]] || fail "update allowed every device"
	fi
}

# A node of linux.devices whose mknod the rules deny is made all the same, as runc makes it:
# runc applies the device rules once its init has made the nodes. The rules hold for the
# workload: opening the node is refused when they deny its access, passed to the driver
# (none for major 240: ENXIO) when they deny "m" only, and a mknod of it is refused.
@test "devices: a node in linux.devices is made though the rules deny its mknod; they hold after" {
	update_config '.root.readonly = false
		| .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]
		| .linux.devices = [{path: "/dev/husk-x", type: "c", major: 240, minor: 0}]
		| .linux.resources.devices = [{allow: true, access: "rwm"},
			{allow: false, type: "c", major: 240, minor: 0, access: "rwm"}]'
	start_sleeper
	run -0 exec_out stat -c "%n %F %t:%T" /dev/husk-x
	[ "$output" = "/dev/husk-x character special file f0:0" ]
	run -0 open_probe /dev/husk-x r /dev/husk-x w /dev/null rw
	[[ "${lines[0]}" == "/dev/husk-x r "*"Operation not permitted" ]] || fail "husk-x readable: ${lines[0]}"
	[[ "${lines[1]}" == "/dev/husk-x w "*"Operation not permitted" ]] || fail "husk-x writable: ${lines[1]}"
	[ "${lines[2]}" = "/dev/null rw ok" ]
	run exec_out sh -c 'mknod /tmp/husk-y c 240 0 2>&1'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]] || fail "mknod of 240:0 allowed: $output"
	husk delete -f "$CID"

	update_config '.linux.resources.devices = [{allow: true, access: "rwm"},
		{allow: false, type: "c", major: 240, minor: 0, access: "m"}]'
	start_sleeper
	run -0 exec_out stat -c "%n %F %t:%T" /dev/husk-x
	[ "$output" = "/dev/husk-x character special file f0:0" ]
	run -0 open_probe /dev/husk-x r /dev/husk-x rw
	[[ "${lines[0]}" == "/dev/husk-x r "*"No such device or address" ]] || fail "husk-x not readable: ${lines[0]}"
	[[ "${lines[1]}" == "/dev/husk-x rw "*"No such device or address" ]] || fail "husk-x not writable: ${lines[1]}"
	run exec_out sh -c 'mknod /tmp/husk-y c 240 0 2>&1'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]] || fail "mknod of 240:0 allowed: $output"
	run -0 exec_out mknod /tmp/husk-z c 240 1
}

@test "blkio: weight in blkio.weight (v1) or io.weight/io.bfq.weight (v2)" {
	update_config '.linux.resources.blockIO = {weight: 500}'
	set_args sleep 1000
	CID=$(new_id)
	run husk_bg run -d --bundle "$BUNDLE" "$CID"
	if [ "$status" -ne 0 ]; then
		# Refused, naming the field (husk; runc names the file): only acceptable when the
		# file is missing.
		[ "$HUSK_NAME" != husk ] || [[ "$output" == *"linux.resources.blockIO.weight"* ]]
		[[ "$output" == *"no such file"* ]]
		skip "host has no weight file for the blkio/io controller: $output"
	fi
	wait_for_status "$CID" running
	local d
	if cg_v2; then
		d=$(cg_dir io)
		if [ -e "$d/io.bfq.weight" ]; then
			[[ "$(cat "$d/io.bfq.weight")" == *500* ]]
		else
			# runc: 1 + (500 - 10) * 9999 / 990
			cg_check io io.weight "default $((1 + (500 - 10) * 9999 / 990))"
		fi
	else
		d=$(cg_dir blkio)
		if [ -e "$d/blkio.weight" ]; then
			cg_check blkio blkio.weight 500
		else
			[[ "$(cat "$d/blkio.bfq.weight")" == *500* ]]
		fi
	fi
}

@test "hugetlb: page size limits where the controller is usable without host changes" {
	local ctl=/sys/fs/cgroup/cgroup.subtree_control
	cg_v2 || ctl=/sys/fs/cgroup/unified/cgroup.subtree_control
	if ! cg_v2 && [ ! -d /sys/fs/cgroup/hugetlb ]; then
		# Hybrid: hugetlb only on the cgroup2 mount. Using it needs +hugetlb
		# in the host's cgroup2 root subtree_control; the tests never change
		# the host's root cgroup.
		grep -qw hugetlb "$ctl" 2>/dev/null ||
			skip "hugetlb is only on the host's cgroup2 root and not enabled there; enabling it would change host state"
		skip_runc '*' "its cgroup v1 manager cannot use hugetlb when the controller is only on the hybrid host's cgroup2 (container could not join or create cgroup)"
	fi
	update_config '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 4194304}]'
	start_sleeper
	if [ -d /sys/fs/cgroup/hugetlb ]; then
		cg_check hugetlb hugetlb.2MB.limit_in_bytes 4194304
	elif cg_v2; then
		cg_check hugetlb hugetlb.2MB.max 4194304
		cg_check hugetlb hugetlb.2MB.rsvd.max 4194304
	else
		local d
		d=/sys/fs/cgroup/unified$(sed -n 's/^0:://p' "/proc/$(container_pid "$CID")/cgroup")
		[ "$(cat "$d/hugetlb.2MB.max")" = 4194304 ]
		[ "$(husk exec "$CID" cat /sys/fs/cgroup/unified/hugetlb.2MB.max)" = 4194304 ]
	fi
	# An unknown page size is refused by name.
	husk delete -f "$CID"
	update_config '.linux.resources.hugepageLimits = [{pageSize: "3MB", limit: 4194304}]'
	run_refused "linux.resources.hugepageLimits"
}

@test "unified: written on v2, refused on v1 controllers, keys validated" {
	if cg_v2; then
		update_config '.linux.resources.unified = {"memory.high": "50331648", "pids.max": "7"}'
		start_sleeper
		cg_check memory memory.high 50331648
		cg_check pids pids.max 7
		husk delete -f "$CID"
	else
		update_config '.linux.resources.unified = {"memory.high": "50331648"}'
		run_refused 'linux.resources.unified["memory.high"]'
	fi
	local k
	for k in '../memory.max' 'x/memory.max' 'memorymax'; do
		update_config ".linux.resources.unified = {\"$k\": \"1\"}"
		run_refused "linux.resources.unified"
	done
	assert_nothing_left
}

@test "network classID and priorities: refused by name where the controller is missing" {
	[ -d /sys/fs/cgroup/net_cls ] && skip "host has net_cls: the refusal cannot be seen"
	update_config '.linux.resources.network = {classID: 1048577}'
	run_refused "linux.resources.network"
	assert_nothing_left
}

# run_relative_cgroup NAME PIDS: runs a container with the relative cgroupsPath NAME and a
# pids limit, and checks that its cgroup is NAME below this process's own cgroup in each v1
# hierarchy (below its parent on v2), with the limit, and gone after delete.
run_relative_cgroup() {
	local name=$1 limit=$2 id
	id=$(new_id)
	track_cgroup "$name"
	update_config ".linux.cgroupsPath = \"$name\" | .linux.resources.pids = {limit: $limit}"
	set_args sleep 1000
	run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
	CID=$id
	local pid own
	pid=$(container_pid "$id")
	if cg_v2; then
		own=$(own_cgroup_v2_parent)
		[ "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" = "${own%/}/$name" ]
	else
		# Each v1 controller: this process's own cgroup in it, plus the path (which may
		# have colons: read's last variable takes the rest of the line).
		while IFS=: read -r _ ctrls path; do
			[ -n "$ctrls" ] || continue
			own=$(awk -F: -v c="$ctrls" '$2 == c { print $3 }' /proc/self/cgroup)
			[ "$path" = "${own%/}/$name" ] || fail "$ctrls: $path, want ${own%/}/$name"
		done <"/proc/$pid/cgroup"
	fi
	cg_check pids pids.max "$limit"
	[ -n "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$name")" ]
	husk delete -f "$id"
	[ -z "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$name")" ]
}

@test "cgroupsPath: relative, below the runtime's own cgroup (its parent on v2)" {
	run_relative_cgroup "husktest-rel-$$-$RANDOM$RANDOM" 9
}

@test "cgroupsPath: slice:prefix:name without the systemd driver is one relative directory, as runc" {
	# containerd's CRI sends this form whenever a pod's cgroup parent ends in ".slice"
	# (critest's "/test.slice"), also when the runtime runs its cgroupfs driver.
	run_relative_cgroup "husktest-$$-$RANDOM.slice:cri-containerd:husktest-$RANDOM$RANDOM" 13
}

@test "cgroupsPath: absolute and nested, under a unique husktest- parent" {
	local parent id
	id=$(new_id)
	parent="husktest-abs-$$-$RANDOM$RANDOM"
	# The parent is not the container's: cg_teardown removes it.
	update_config ".linux.cgroupsPath = \"/$parent/$id\" | .linux.resources.pids = {limit: 11}"
	set_args sleep 1000
	run -0 husk_bg run -d --bundle "$BUNDLE" "$id"
	CID=$id
	local pid
	pid=$(container_pid "$id")
	if cg_v2; then
		cg_parent_dirs "/sys/fs/cgroup/$parent"
		[ "$(sed -n 's/^0:://p' "/proc/$pid/cgroup")" = "/$parent/$id" ]
	else
		local c
		for c in cpu cpuacct cpuset memory devices freezer blkio pids systemd; do
			cg_parent_dirs "/sys/fs/cgroup/$c/$parent"
		done
		cg_parent_dirs "/sys/fs/cgroup/unified/$parent"
		# Every line, v1 and the hybrid cgroup2 one, names the absolute path.
		run -0 cut -d: -f3 "/proc/$pid/cgroup"
		[ "$(echo "$output" | sort -u)" = "/$parent/$id" ]
	fi
	cg_check pids pids.max 11
	husk delete -f "$id"
	# The leaf is gone everywhere; the parent (made by husk, as runc does) stays.
	[ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -path "*/$parent/$id")" ]
}

@test "delete removes every cgroup directory of the container" {
	start_sleeper
	local dirs pid
	pid=$(container_pid "$CID")
	dirs=$(jq -r '.cgroup_paths // {} | .[]' "$ROOT/$CID/state.json" 2>/dev/null || true)
	if [ -z "$dirs" ]; then
		# Not husk's state layout: derive them from /proc.
		dirs=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$CID")
	fi
	[ -n "$dirs" ]
	local d
	for d in $dirs; do [ -d "$d" ] || fail "$d missing while running"; done
	husk delete -f "$CID"
	for d in $dirs; do [ ! -e "$d" ] || fail "$d left after delete"; done
	[ -z "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$CID")" ]
	# A stopped container's delete removes them too.
	set_args true
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	[ -n "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$CID")" ]
	husk start "$CID"
	wait_for_status "$CID" stopped
	husk delete "$CID"
	[ -z "$(find /sys/fs/cgroup -maxdepth 5 -type d -name "$CID")" ]
}
