#!/usr/bin/env bats
# The commands that act through a container's cgroups: update, pause/resume,
# kill --all, events and ps. Runs on cgroup v1 (hybrid) and pure v2.

load helpers
load cgroups_helpers

teardown() {
	cg_teardown
}

# mem_limit_file, ... name the files of one setting on this host's cgroup version.
mem_limit_file() { if cg_v2; then echo memory.max; else echo memory.limit_in_bytes; fi; }
mem_low_file() { if cg_v2; then echo memory.low; else echo memory.soft_limit_in_bytes; fi; }

# check_quota_host QUOTA PERIOD checks the CFS quota and period on the host.
check_quota_host() {
	if cg_v2; then
		[ "$(cg_get cpu cpu.max)" = "$1 $2" ] || fail "cpu.max: $(cg_get cpu cpu.max), want $1 $2"
	else
		[ "$(cg_get cpu cpu.cfs_quota_us) $(cg_get cpu cpu.cfs_period_us)" = "$1 $2" ] ||
			fail "quota period: $(cg_get cpu cpu.cfs_quota_us) $(cg_get cpu cpu.cfs_period_us), want $1 $2"
	fi
}

# check_quota QUOTA PERIOD checks the CFS quota and period files.
check_quota() {
	if cg_v2; then
		cg_check cpu cpu.max "$1 $2"
	else
		cg_check cpu cpu.cfs_quota_us "$1"
		cg_check cpu cpu.cfs_period_us "$2"
	fi
}

@test "update: flags after the container id apply, as runc takes them" {
	update_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 100}'
	start_sleeper
	run -0 husk update "$CID" --memory 50m --pids-limit 42
	cg_check memory "$(mem_limit_file)" 52428800
	cg_check pids pids.max 42
	# After "--", nothing is a flag.
	run ! husk update "$CID" -- --memory 40m
	cg_check memory "$(mem_limit_file)" 52428800
}

@test "update: each flag lands in its cgroup file, and later updates keep earlier values" {
	update_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 100}'
	start_sleeper
	# Each step is read on the host; the final state also from inside.
	husk update --memory 50m "$CID"
	[ "$(cg_get memory "$(mem_limit_file)")" = 52428800 ]
	husk update --memory-reservation 20m "$CID"
	[ "$(cg_get memory "$(mem_low_file)")" = 20971520 ]
	husk update --memory-swap 80m "$CID"
	if cg_v2; then
		[ "$(cg_get memory memory.swap.max)" = $((83886080 - 52428800)) ]
	else
		[ "$(cg_get memory memory.memsw.limit_in_bytes)" = 83886080 ]
	fi
	husk update --cpu-share 256 "$CID"
	if cg_v2; then
		[ "$(cg_get cpu cpu.weight)" = "$(shares_to_weight 256)" ]
	else
		[ "$(cg_get cpu cpu.shares)" = 256 ]
	fi
	# --cpu-shares is husk's alias (runc 1.1 knows only --cpu-share).
	husk update "--cpu-share$([ "$HUSK_NAME" = husk ] && echo s)" 768 "$CID"
	husk update --cpu-period 200000 --cpu-quota 50000 "$CID"
	check_quota_host 50000 200000
	husk update --cpu-quota 30000 "$CID"
	check_quota_host 30000 200000
	husk update --cpu-period 100000 "$CID"
	check_quota_host 30000 100000
	husk update --cpuset-cpus 0 --cpuset-mems 0 "$CID"
	[ "$(cg_get cpuset cpuset.cpus)" = 0 ]
	[ "$(cg_get cpuset cpuset.mems)" = 0 ]
	husk update --pids-limit 42 "$CID"
	[ "$(cg_get pids pids.max)" = 42 ]

	# A later update re-applies the saved resources: nothing set earlier is lost.
	husk update --memory 40m "$CID"
	cg_check memory "$(mem_limit_file)" 41943040
	cg_check memory "$(mem_low_file)" 20971520
	if cg_v2; then
		cg_check memory memory.swap.max $((83886080 - 41943040))
		cg_check cpu cpu.weight "$(shares_to_weight 768)"
	else
		cg_check memory memory.memsw.limit_in_bytes 83886080
		cg_check cpu cpu.shares 768
	fi
	cg_check pids pids.max 42
	cg_check cpuset cpuset.cpus 0
	cg_check cpuset cpuset.mems 0
	check_quota 30000 100000

	# A bad value is refused by flag name; the cgroup is unchanged.
	run ! husk update --pids-limit lots "$CID"
	[[ "$output" == *"--pids-limit"* ]]
	[ "$(cg_get pids pids.max)" = 42 ]
	husk update --pids-limit -1 "$CID"
	[ "$(cg_get pids pids.max)" = max ]
}

@test "update --blkio-weight" {
	start_sleeper
	run husk update --blkio-weight 300 "$CID"
	if [ "$status" -ne 0 ]; then
		[[ "$output" == *"no such file"* ]]
		# husk names the field; runc names only the file.
		[ "$HUSK_NAME" != husk ] || [[ "$output" == *"blockIO.weight"* ]]
		skip "host has no weight file for the blkio/io controller: $output"
	fi
	if cg_v2; then
		local d
		d=$(cg_dir io)
		if [ -e "$d/io.bfq.weight" ]; then
			[[ "$(cat "$d/io.bfq.weight")" == *300* ]]
		else
			cg_check io io.weight "default $((1 + (300 - 10) * 9999 / 990))"
		fi
	elif [ -e "$(cg_dir blkio)/blkio.weight" ]; then
		cg_check blkio blkio.weight 300
	else
		[[ "$(cg_get blkio blkio.bfq.weight)" == *300* ]]
	fi
	run ! husk update --blkio-weight 5 "$CID"
	[[ "$output" == *"--blkio-weight"* ]]
}

@test "update -r FILE and -r - take linux.resources JSON" {
	start_sleeper
	jq -n '{memory: {limit: 41943040}, pids: {limit: 33}, cpu: {quota: 20000, period: 100000}}' >"$TESTDIR/res.json"
	husk update -r "$TESTDIR/res.json" "$CID"
	cg_check memory "$(mem_limit_file)" 41943040
	cg_check pids pids.max 33
	check_quota 20000 100000
	echo '{"memory": {"limit": 46137344}, "pids": {"limit": 44}}' | husk update -r - "$CID"
	cg_check memory "$(mem_limit_file)" 46137344
	cg_check pids pids.max 44
	if [ "$HUSK_NAME" = husk ]; then
		# husk applies flags on top of the JSON (runc ignores them silently).
		echo '{"pids": {"limit": 55}}' | husk update -r - --memory 48m "$CID"
		cg_check pids pids.max 55
		cg_check memory "$(mem_limit_file)" 50331648
	fi
	run ! husk update -r - "$CID" <<<'{"memory": '
	# husk names the flag; runc says only "unexpected EOF".
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"--resources"* ]]
	run ! husk update -r "$TESTDIR/missing.json" "$CID"
	[[ "$output" == *"missing.json"* ]]
}

@test "update --kernel-memory is refused" {
	husk_only "runc accepts --kernel-memory and ignores it with a warning; husk refuses a flag it would ignore"
	start_sleeper
	run ! husk update --kernel-memory 10m --pids-limit 77 "$CID"
	[[ "$output" == *"--kernel-memory"* ]]
	# Refused whole: the other flag was not applied either.
	[ "$(cg_get pids pids.max)" = max ]
}

@test "update: a stopped or missing container cannot be updated" {
	start_sleeper
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run ! husk update --pids-limit 10 "$CID"
	[[ "$output" == *"not running"* ]]
	run ! husk update --pids-limit 10 husktest-no-such-container
}

@test "pause and resume: status, freezer files, frozen processes" {
	start_sleeper sh -c 'while :; do echo x >>/dev/shm/ticks; sleep 0.1; done'
	local pid
	pid=$(container_pid "$CID")
	husk pause "$CID"
	[ "$(container_status "$CID")" = paused ]
	run -0 husk list
	[[ "$output" == *"$CID "*" paused "* ]]
	if cg_v2; then
		[ "$(cg_get freezer cgroup.freeze)" = 1 ]
		[ "$(cg_key "$(cg_dir freezer)/cgroup.events" frozen)" = 1 ]
	else
		[ "$(cg_get freezer freezer.state)" = FROZEN ]
	fi
	# Frozen: the loop writes no more ticks (exec works in a paused container
	# only where the runtime thaws for it; read the tmpfs from the host).
	local ticks1 ticks2
	ticks1=$(wc -l <"/proc/$pid/root/dev/shm/ticks")
	sleep 0.5
	ticks2=$(wc -l <"/proc/$pid/root/dev/shm/ticks")
	[ "$ticks1" = "$ticks2" ]
	# v1 freezes tasks in D, the v2 freezer traps them in S; never running.
	local st
	st=$(awk '/^State:/ {print $2}' "/proc/$pid/status")
	[[ "$st" == D || "$st" == S ]]
	husk resume "$CID"
	[ "$(container_status "$CID")" = running ]
	if cg_v2; then
		[ "$(cg_get freezer cgroup.freeze)" = 0 ]
		[ "$(cg_key "$(cg_dir freezer)/cgroup.events" frozen)" = 0 ]
	else
		[ "$(cg_get freezer freezer.state)" = THAWED ]
	fi
	local _
	for _ in $(seq 100); do
		ticks2=$(wc -l <"/proc/$pid/root/dev/shm/ticks")
		[ "$ticks2" -gt "$ticks1" ] && break
		sleep 0.1
	done
	[ "$ticks2" -gt "$ticks1" ]
}

@test "pause and resume: errors for paused, stopped and running containers" {
	start_sleeper
	run ! husk resume "$CID"
	[[ "$output" == *"not paused"* ]]
	husk pause "$CID"
	run ! husk pause "$CID"
	[[ "$output" == *"not running"* ]]
	[ "$(container_status "$CID")" = paused ]
	husk resume "$CID"
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run ! husk pause "$CID"
	[[ "$output" == *"not running"* ]]
	run ! husk resume "$CID"
	[[ "$output" == *"not paused"* ]]
	run ! husk pause husktest-no-such-container
	husk delete "$CID"
	assert_nothing_left
}

@test "kill KILL stops a paused container (runc thaws it for SIGKILL)" {
	start_sleeper
	husk pause "$CID"
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	husk delete "$CID"
	assert_nothing_left
}

@test "kill --all reaches every process, also in a paused container" {
	local round
	for round in running paused; do
		start_sleeper sh -c 'sleep 1000 & sleep 1000 & (sleep 1000 &); exec sleep 1000'
		local pids _
		for _ in $(seq 50); do
			pids=$(cat "$(cg_dir pids)/cgroup.procs")
			[ "$(echo "$pids" | wc -l)" -ge 4 ] && break
			sleep 0.1
		done
		[ "$(echo "$pids" | wc -l)" -ge 4 ]
		# One more from outside, via exec.
		husk exec -d "$CID" sleep 1000
		pids=$(cat "$(cg_dir pids)/cgroup.procs")
		[ "$(echo "$pids" | wc -l)" -ge 5 ]
		[ "$round" = paused ] && husk pause "$CID"
		husk kill --all "$CID" KILL
		local p
		for p in $pids; do wait_gone "$p"; done
		wait_for_status "$CID" stopped
		husk delete "$CID"
	done
	assert_nothing_left
}

@test "events --stats: cpu, memory and pids agree with the cgroup files" {
	update_config '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}'
	start_sleeper sh -c 'sleep 1000 & exec sleep 1000'
	husk exec "$CID" timeout 0.3 sh -c 'while :; do :; done' || true
	run -0 husk events --stats "$CID"
	local ev=$output
	[ "$(jq -r .type <<<"$ev")" = stats ]
	[ "$(jq -r .id <<<"$ev")" = "$CID" ]
	[ "$(jq -r .data.memory.usage.limit <<<"$ev")" = 67108864 ]
	[ "$(jq -r .data.pids.limit <<<"$ev")" = 50 ]
	[ "$(jq -r .data.pids.current <<<"$ev")" = "$(cg_get pids pids.current)" ]
	local usage total
	usage=$(jq -r .data.memory.usage.usage <<<"$ev")
	[ "$usage" -gt 0 ]
	[ "$usage" -le 67108864 ]
	total=$(jq -r .data.cpu.usage.total <<<"$ev")
	[ "$total" -gt 0 ]
	# cpu usage only grows: the file read after the event is not below it.
	if cg_v2; then
		[ "$(($(cg_key "$(cg_dir cpu)/cpu.stat" usage_usec) * 1000))" -ge "$total" ]
	else
		[ "$(cg_get cpuacct cpuacct.usage)" -ge "$total" ]
	fi
	# The keys runc prints.
	jq -e '.data | has("cpu") and has("memory") and has("pids") and has("blkio") and has("hugetlb")' <<<"$ev"
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run ! husk events --stats "$CID"
}

@test "events --interval streams stats (husk: until the container stops)" {
	start_sleeper
	husk events --interval 200ms "$CID" >"$TESTDIR/events" 2>&1 &
	local events_pid=$!
	track_pid "$events_pid"
	local _
	for _ in $(seq 100); do
		[ "$(grep -c '"type":"stats"' "$TESTDIR/events")" -ge 3 ] && break
		sleep 0.1
	done
	[ "$(grep -c '"type":"stats"' "$TESTDIR/events")" -ge 3 ]
	# Every line is one JSON event for this container.
	run -0 jq -r '.id' "$TESTDIR/events"
	# shellcheck disable=SC2143 # a bare "! grep" would not fail a bats test
	[ -z "$(grep -v "^$CID\$" <<<"$output")" ]
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	# runc streams on for as long as it is left running (the last stats of the stopped
	# container, then errors once it is deleted); husk's stream ends with the container.
	if [ "$HUSK_NAME" = husk ]; then
		wait_gone "$events_pid"
	fi
	run ! husk events --interval 0s "$CID"
}

@test "ps: table, json and extra ps arguments list the container's processes" {
	start_sleeper sh -c 'sleep 1000 & exec sleep 1000'
	local procs
	for _ in $(seq 50); do
		procs=$(sort -n "$(cg_dir pids)/cgroup.procs" | tr '\n' ' ')
		[ "$(wc -w <<<"$procs")" -ge 2 ] && break
		sleep 0.1
	done
	run -0 husk ps -f json "$CID"
	[ "$(jq -r 'sort | map(tostring) | join(" ")' <<<"$output") " = "$procs" ]
	run -0 husk ps "$CID"
	[[ "${lines[0]}" == *PID* && "${lines[0]}" == *CMD* ]]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[1]}" == *"sleep 1000"* && "${lines[2]}" == *"sleep 1000"* ]]
	run -0 husk ps "$CID" -o pid,comm
	[ "$(echo "${lines[0]}" | tr -s ' ' | sed 's/^ //')" = "PID COMMAND" ]
	[ "$(echo "${lines[@]:1}" | awk '{for (i = 1; i <= NF; i += 2) print $i}' | sort -n | tr '\n' ' ')" = "$procs" ]
	run ! husk ps -f yaml husktest-no-such-container
}

@test "ps of a stopped container exits 0 with an empty list" {
	start_sleeper
	husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -0 husk ps "$CID"
	[[ "${lines[0]}" == *PID* ]]
	[ "${#lines[@]}" -eq 1 ]
	run -0 husk ps -f json "$CID"
	# runc prints null for no processes; an empty array would do as well.
	[ "$(jq length <<<"$output")" = 0 ]
}
