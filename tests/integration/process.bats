#!/usr/bin/env bats
# The container process: args, env, cwd, user, umask, rlimits,
# noNewPrivileges, oomScoreAdj, sysctl, capabilities, personality,
# scheduler, ioPriority, execCPUAffinity.

load helpers

# status_field prints field $1 of /proc/self/status text $2.
status_field() {
	echo "$2" | awk -v f="$1:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print }'
}

@test "args are passed as given" {
	set_args echo one "two words" '$HOME' ""
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = 'one two words $HOME ' ]
}

@test "args[0] is looked up in the container's PATH" {
	update_config '.process.env = ["PATH=/usr/sbin"]'
	# busybox --list-full puts chroot in /usr/sbin.
	[ -L "$BUNDLE/rootfs/usr/sbin/chroot" ]
	set_args chroot --help
	run husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"Usage: chroot"* ]]
}

@test "env is exactly what was given, plus HOME" {
	update_config '.process.env = ["PATH=/bin:/usr/bin", "FOO=bar", "EMPTY=", "WITH_EQ=a=b"]'
	set_args env
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "EMPTY= FOO=bar HOME=/root PATH=/bin:/usr/bin WITH_EQ=a=b " ]
}

@test "HOME comes from /etc/passwd of the user, unless set" {
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.env = ["PATH=/bin"]'
	set_args sh -c 'echo $HOME'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = /tmp ]
	update_config '.process.env += ["HOME=/custom"]'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = /custom ]
}

@test "an empty HOME is replaced from /etc/passwd; a name given twice keeps its last value, once" {
	update_config '.process.user = {uid: 1000, gid: 1000} |
		.process.env = ["PATH=/bin:/usr/bin", "HOME=", "A=1", "B=x", "A=2"]'
	# env itself, not a shell: a shell would tidy its environment up.
	set_args /usr/bin/env
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(printf '%s\n' "${lines[@]}" | grep -Ec '^A=')" = 1 ] || fail "A given more than once: $output"
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^HOME=')" = 1 ] || fail "HOME more than once: $output"
	[ "$(printf '%s\n' "${lines[@]}" | grep -E '^(A|HOME)=' | sort | tr '\n' ' ')" = "A=2 HOME=/tmp " ]
	# HOME given, then emptied: the last (empty) value wins and is replaced.
	update_config '.process.env = ["PATH=/bin:/usr/bin", "HOME=/custom", "HOME="]'
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$(printf '%s\n' "${lines[@]}" | grep '^HOME=' | tr '\n' ' ')" = "HOME=/tmp " ]
}

@test "cwd" {
	update_config '.process.cwd = "/etc"'
	set_args pwd
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = /etc ]
}

@test "a missing cwd is created" {
	update_config '.process.cwd = "/new/work/dir" | .root.readonly = false'
	set_args pwd
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = /new/work/dir ]
	[ -d "$BUNDLE/rootfs/new/work/dir" ]
}

@test "a cwd the user cannot enter is entered with the runtime's privileges (run and exec)" {
	# runc changes directory before it switches to the process's user: uid
	# 1000 starts in /root (0700, root's), and cannot list it.
	chmod 700 "$BUNDLE/rootfs/root"
	update_config '.process.cwd = "/root" | .process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 'pwd; ls . >/dev/null 2>&1 || echo cannot-list'
	# (Whole lines looked for: runc warns on stderr, at any point.)
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	grep -qx /root <<<"$output" || fail "run: $output"
	grep -qx cannot-list <<<"$output" || fail "run: $output"

	# exec's default cwd is the container's process.cwd; also with --cwd.
	update_config '.process.user = {uid: 0, gid: 0}'
	start_sleeper
	run -0 husk exec -u 1000:1000 "$CID" pwd
	grep -qx /root <<<"$output" || fail "exec: $output"
	run -0 husk exec -u 1000:1000 --cwd /root "$CID" pwd
	grep -qx /root <<<"$output" || fail "exec --cwd: $output"
	# A cwd that does not exist still fails.
	run ! husk exec -u 1000:1000 --cwd /no/such/dir "$CID" pwd
	[[ "$output" == *"/no/such/dir"* ]]
}

@test "a program without the execute bit for the user runs with CAP_DAC_OVERRIDE; one without any does not" {
	# 0700 root's: uid 1000 may execute it only through CAP_DAC_OVERRIDE.
	# (A copy of busybox named after the applet it should run.)
	mkdir -p "$BUNDLE/rootfs/opt/700" "$BUNDLE/rootfs/opt/600"
	cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/opt/700/echo"
	cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/opt/600/echo"
	chmod 700 "$BUNDLE/rootfs/opt/700/echo"
	chmod 600 "$BUNDLE/rootfs/opt/600/echo"
	update_config '.process.user = {uid: 1000, gid: 1000} |
		.process.capabilities.bounding += ["CAP_DAC_OVERRIDE"] |
		.process.capabilities.effective += ["CAP_DAC_OVERRIDE"] |
		.process.capabilities.permitted += ["CAP_DAC_OVERRIDE"]'
	set_args /opt/700/echo ran
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	grep -qx ran <<<"$output" || fail "$output"
	# No execute bit for anyone: execve would fail, so create does, naming it.
	set_args /opt/600/echo ran
	run ! husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"/opt/600/echo"* && "$output" == *"ermission denied"* ]]
	[[ "$output" != *ran ]]
	# Without the capability the 0700 file is refused the same way.
	update_config '.process.capabilities.effective -= ["CAP_DAC_OVERRIDE"]'
	set_args /opt/700/echo ran
	run ! husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"/opt/700/echo"* && "$output" == *"ermission denied"* ]]
	assert_nothing_left
}

@test "uid, gid and additionalGids" {
	update_config '.process.user = {uid: 1000, gid: 1000, additionalGids: [5, 65534]}'
	run -0 run_sh 'cat /proc/self/status; id'
	[[ "$(status_field Uid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[[ "$(status_field Gid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[ "$(status_field Groups "$output" | xargs)" = "5 65534" ]
	[[ "$output" == *"uid=1000(user) gid=1000(user) groups=5(tty),65534(nogroup)"* ]]
}

@test "root without additionalGids has no supplementary groups" {
	run -0 run_sh 'grep ^Groups: /proc/self/status'
	[ "$(echo "$output" | cut -f2 | xargs)" = "" ]
}

@test "umask" {
	update_config '.process.user.umask = 63'
	run -0 run_sh 'umask'
	[ "$output" = 0077 ]
}

@test "default umask is 0022" {
	run -0 run_sh 'umask'
	[ "$output" = 0022 ]
}

@test "rlimits via ulimit and /proc/self/limits" {
	update_config '.process.rlimits = [
		{type: "RLIMIT_NOFILE", soft: 512, hard: 1000},
		{type: "RLIMIT_CORE", soft: 0, hard: 0},
		{type: "RLIMIT_STACK", soft: 4194304, hard: 8388608}]'
	run -0 run_sh 'ulimit -n; ulimit -Hn; ulimit -c; grep -E "^Max (open files|core file size|stack size)" /proc/self/limits'
	[ "${lines[0]}" = 512 ]
	[ "${lines[1]}" = 1000 ]
	[ "${lines[2]}" = 0 ]
	[[ "$output" == *"Max open files"*" 512 "*" 1000 "* ]]
	[[ "$output" == *"Max stack size"*" 4194304 "*" 8388608 "* ]]
	[[ "$output" =~ Max\ core\ file\ size\ +0\ +0\  ]]
}

@test "noNewPrivileges" {
	run -0 run_sh 'grep ^NoNewPrivs: /proc/self/status'
	[ "$(echo "$output" | cut -f2)" = 1 ]
	update_config '.process.noNewPrivileges = false'
	run -0 run_sh 'grep ^NoNewPrivs: /proc/self/status'
	[ "$(echo "$output" | cut -f2)" = 0 ]
}

@test "oomScoreAdj" {
	update_config '.process.oomScoreAdj = 512'
	run -0 run_sh 'cat /proc/self/oom_score_adj'
	[ "$output" = 512 ]
}

@test "namespaced sysctls are set inside, the host is untouched" {
	local host_fwd host_msgmax
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_msgmax=$(cat /proc/sys/kernel/msgmax)
	local want_fwd=$((1 - host_fwd))
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "'$want_fwd'", "kernel.msgmax": "4096", "kernel.domainname": "sys.example"}'
	run -0 run_sh 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/kernel/domainname'
	[ "${lines[0]}" = "$want_fwd" ]
	[ "${lines[1]}" = 4096 ]
	[ "${lines[2]}" = sys.example ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
	[ "$(cat /proc/sys/kernel/msgmax)" = "$host_msgmax" ]
}

@test "a sysctl that is not namespaced is refused" {
	# The value asked for is the host's own, so a runtime that wrongly writes
	# it changes nothing on this machine.
	local v
	v=$(cat /proc/sys/vm/swappiness)
	update_config '.linux.sysctl = {"vm.swappiness": "'"$v"'"}'
	run ! run_sh 'echo ran'
	[[ "$output" == *vm.swappiness* ]]
	[[ "$output" != *ran* ]]
	assert_nothing_left
}

@test "a net sysctl without a network namespace is refused" {
	local v
	v=$(cat /proc/sys/net/ipv4/ip_forward)
	update_config '.linux.namespaces -= [{type: "network"}] | .linux.sysctl = {"net.ipv4.ip_forward": "'"$v"'"}'
	run ! run_sh 'echo ran'
	[[ "$output" == *net.ipv4.ip_forward* ]]
	[[ "$output" != *ran* ]]
	assert_nothing_left
}

@test "capabilities are applied as given" {
	update_config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_KILL"],
		effective: ["CAP_CHOWN", "CAP_NET_ADMIN"],
		permitted: ["CAP_CHOWN", "CAP_NET_ADMIN"],
		inheritable: ["CAP_CHOWN"]}'
	run -0 run_sh 'grep ^Cap /proc/self/status'
	# CAP_CHOWN=0, CAP_KILL=5, CAP_NET_ADMIN=12
	[ "$(status_field CapBnd "$output")" = 0000000000001021 ]
	[ "$(status_field CapEff "$output")" = 0000000000001001 ]
	[ "$(status_field CapPrm "$output")" = 0000000000001001 ]
	[ "$(status_field CapInh "$output")" = 0000000000000001 ]
	[ "$(status_field CapAmb "$output")" = 0000000000000000 ]
}

@test "ambient capabilities reach a non-root user" {
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {
		bounding: ["CAP_NET_BIND_SERVICE"], effective: ["CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_NET_BIND_SERVICE"], inheritable: ["CAP_NET_BIND_SERVICE"],
		ambient: ["CAP_NET_BIND_SERVICE"]}'
	run -0 run_sh 'grep ^Cap /proc/self/status'
	[ "$(status_field CapAmb "$output")" = 0000000000000400 ]
	[ "$(status_field CapEff "$output")" = 0000000000000400 ]
}

@test "a non-root user without ambient capabilities has none" {
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {
		bounding: ["CAP_NET_BIND_SERVICE"], effective: ["CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_NET_BIND_SERVICE"]}'
	run -0 run_sh 'grep ^Cap /proc/self/status'
	[ "$(status_field CapEff "$output")" = 0000000000000000 ]
	[ "$(status_field CapBnd "$output")" = 0000000000000400 ]
}

@test "personality LINUX32" {
	update_config '.linux.personality = {domain: "LINUX32"}'
	run -0 run_sh 'uname -m'
	[[ "$output" == i?86 ]]
}

@test "scheduler policy and nice" {
	update_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}'
	run -0 run_sh 'grep -E "^policy|^prio" /proc/self/sched; cut -d" " -f19 /proc/self/stat'
	[[ "$output" =~ policy\ +:\ +3 ]]
	[ "${lines[-1]}" = 5 ]
}

@test "ioPriority" {
	update_config '.process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}'
	run -0 run_sh 'ionice -p $$'
	[[ "$output" == idle* ]]
}

# allowed_cpus prints the CPU list of the Cpus_allowed_list: line in $output.
allowed_cpus() {
	awk '$1 == "Cpus_allowed_list:" { print $2 }' <<<"$output"
}

@test "execCPUAffinity applies to exec'd processes, not to the init" {
	# runtime-spec: "not applicable to the container's init process"; runc
	# ignores it there too. config.json's is the default of every exec.
	local all
	all=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	[ "$all" != 0 ] || skip "needs more than CPU 0 (has $all)"
	update_config '.process.execCPUAffinity = {initial: "0", final: "0"}'
	start_sleeper
	[ "$(grep Cpus_allowed_list: "/proc/$(container_pid "$CID")/status" | cut -f2)" = "$all" ]
	run -0 husk exec "$CID" grep ^Cpus_allowed_list: /proc/self/status
	[ "$(allowed_cpus)" = 0 ] || fail "exec: $output"
}

@test "CPU affinity: the container gets its cpuset's CPUs, not the caller's (run, exec)" {
	# What this test itself may run on: every CPU a container without a
	# cpuset should get (runc's test compares with the same).
	local all
	all=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	[[ "$all" == 0-* || "$all" == 0,1* ]] || skip "needs CPUs 0 and 1 (has $all)"
	# husk run under taskset -c 0: without a cpuset the container has every CPU.
	set_args grep Cpus_allowed_list: /proc/self/status
	# shellcheck disable=SC2086
	run -0 taskset -c 0 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)"
	[ "$(allowed_cpus)" = "$all" ] || fail "no cpuset: $output, want $all"
	# With a cpuset of CPU 1 only (no overlap with the caller's CPU 0): CPU 1.
	update_config '.linux.resources.cpu = {cpus: "1", mems: "0"}'
	# shellcheck disable=SC2086
	run -0 taskset -c 0 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run --bundle "$BUNDLE" "$(new_id)"
	[ "$(allowed_cpus)" = 1 ] || fail "cpuset 1: $output"
	# exec under taskset -c 0 into a container without a cpuset: every CPU.
	update_config 'del(.linux.resources.cpu)'
	set_args sleep 1000
	CID=$(new_id)
	# shellcheck disable=SC2086
	taskset -c 0 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" run -d --bundle "$BUNDLE" "$CID" </dev/null >"$TESTDIR/$CID.log" 2>&1
	wait_for_status "$CID" running
	[ "$(grep Cpus_allowed_list: "/proc/$(container_pid "$CID")/status" | cut -f2)" = "$all" ]
	# shellcheck disable=SC2086
	run -0 taskset -c 0 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec "$CID" grep Cpus_allowed_list: /proc/self/status
	[ "$(allowed_cpus)" = "$all" ] || fail "exec: $output, want $all"
	# execCPUAffinity.final still applies on top.
	cat >"$TESTDIR/proc.json" <<-EOF
		{"args": ["grep", "Cpus_allowed_list:", "/proc/self/status"], "cwd": "/",
		 "env": ["PATH=/bin:/usr/bin"], "user": {"uid": 0, "gid": 0},
		 "execCPUAffinity": {"initial": "0", "final": "1"}}
	EOF
	# shellcheck disable=SC2086
	run -0 taskset -c 0 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec -p "$TESTDIR/proc.json" "$CID"
	[ "$(allowed_cpus)" = 1 ] || fail "final 1: $output"
}
