#!/usr/bin/env bats
# exec: a new process in a running container is confined exactly like the init
# (side by side), and every flag changes what it should and nothing else: -u, -g,
# --cap, --cwd, -e, --no-new-privs, -p, --cgroup, --preserve-fds, --pid-file, -d;
# exit status, signal forwarding, paused/stopped/missing containers.

# Scripts for the container are single-quoted on purpose.
# shellcheck disable=SC2016

load helpers

teardown() {
	# Sub-cgroups made by the --cgroup tests sit inside the container's cgroups:
	# kill the containers, then remove them, before teardown checks for leftovers.
	if [ -s "${TESTDIR:-/nonexistent}/subcgroups" ]; then
		local id c _
		while read -r id; do husk kill "$id" KILL >/dev/null 2>&1; done <"$TESTDIR/ids"
		for _ in $(seq 40); do
			while read -r c; do rmdir "$c" 2>/dev/null; done <"$TESTDIR/subcgroups"
			while read -r c; do [ -d "$c" ] && break; done <"$TESTDIR/subcgroups"
			[ -d "$c" ] || break
			sleep 0.05
		done
	fi
	# husk keeps compiled seccomp filters in <root>/.seccomp-cache across containers.
	rm -rf "${ROOT:?}/.seccomp-cache"
	teardown_husk
}

# status_field prints field $1 of /proc/<pid>/status text $2.
status_field() {
	echo "$2" | awk -v f="$1:" '$1 == f { $1 = ""; sub(/^[ \t]+/, ""); print }'
}

# collect.sh prints the confinement of the shell that sources it, using only
# builtins for the shell's own values (a child would have gone through another
# execve) and /proc/$$ for the rest.
write_collect() {
	cat >"$BUNDLE/rootfs/collect.sh" <<-'EOF'
		while read -r k v; do
			case $k in
			Cap*|NoNewPrivs:|Seccomp:|Seccomp_filters:|Uid:|Gid:|Groups:|Umask:) echo "$k $v" ;;
			esac
		done </proc/$$/status
		while read -r l; do echo "limit $l"; done </proc/$$/limits
		while read -r l; do echo "cgroup $l"; done </proc/$$/cgroup
		for n in /proc/$$/ns/*; do echo "ns ${n##*/} $(readlink "$n")"; done
		echo "cwd $(pwd)"
		echo "umask $(umask)"
		tr '\0' '\n' </proc/$$/environ | sort | sed 's/^/env /'
	EOF
}

@test "exec is confined exactly like the init" {
	write_collect
	update_config '
		.process.user = {uid: 1000, gid: 1000, additionalGids: [5], umask: 23}
		| .process.cwd = "/etc"
		| .process.env += ["PARITY=yes"]
		| .process.capabilities.inheritable = ["CAP_KILL"]
		| .process.capabilities.ambient = ["CAP_KILL"]
		| .process.rlimits = [{type: "RLIMIT_NOFILE", soft: 512, hard: 1000},
		                      {type: "RLIMIT_CORE", soft: 1024, hard: 4096}]
		| .process.noNewPrivileges = true
		| .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
		    syscalls: [{names: ["mknod", "mknodat"], action: "SCMP_ACT_ERRNO"}]}'
	start_sleeper sh -c '. /collect.sh >/dev/shm/init.tmp; mv /dev/shm/init.tmp /dev/shm/init.txt; exec sleep 1000'
	# Running is not done: wait for the init's whole list.
	wait_for_file "/proc/$(container_pid "$CID")/root/dev/shm/init.txt"
	run -0 husk exec "$CID" cat /dev/shm/init.txt
	local init=$output
	run -0 husk exec "$CID" sh -c '. /collect.sh'
	local exec=$output
	if [ "$init" != "$exec" ]; then
		diff <(echo "$init") <(echo "$exec") >&2
		fail "exec differs from init (< init, > exec)"
	fi
	# The comparison covers real values, not two empty lists.
	[[ "$exec" == *"CapAmb: 0000000000000020"* ]]
	[[ "$exec" == *"CapInh: 0000000000000020"* ]]
	[[ "$exec" == *"CapBnd: 0000000020000420"* ]]
	[[ "$exec" == *"NoNewPrivs: 1"* ]]
	[[ "$exec" == *"Seccomp: 2"* ]]
	[[ "$exec" == *"Seccomp_filters: 1"* ]]
	[[ "$exec" == *"Uid: 1000"* ]]
	[[ "$exec" == *"Groups: 5"* ]]
	[[ "$exec" == *"Umask: 0027"* ]]
	[[ "$exec" =~ limit\ Max\ open\ files\ +512\ +1000 ]]
	[[ "$exec" =~ limit\ Max\ core\ file\ size\ +1024\ +4096 ]]
	[[ "$exec" == *"cgroup "*"$CID"* ]]
	[ "$(echo "$exec" | grep -c '^ns ')" -ge 7 ]
	[[ "$exec" == *"cwd /etc"* ]]
	[[ "$exec" == *"env PARITY=yes"* ]]
	# And they are the container's namespaces, not the host's.
	[[ "$exec" != *"ns mnt $(readlink /proc/self/ns/mnt)"* ]]
	[[ "$exec" != *"ns pid $(readlink /proc/self/ns/pid)"* ]]
	# The seccomp filter is in force, not only counted.
	run husk exec "$CID" mknod /dev/shm/p p
	[ "$status" -ne 0 ]
	[[ "$output" == *"ermission denied"* || "$output" == *"not permitted"* ]]
}

@test "exec -u and -g set uid, gid and additional gids" {
	start_sleeper
	run -0 husk exec -u 1000:1000 -g 5 -g 65534 "$CID" sh -c 'cat /proc/$$/status'
	[[ "$(status_field Uid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[[ "$(status_field Gid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[ "$(status_field Groups "$output" | xargs)" = "5 65534" ]
	# A uid alone keeps the process's gid (0 here).
	run -0 husk exec -u 65534 "$CID" id
	[ "$output" = "uid=65534(nobody) gid=0(root)" ]
	# Without flags: the container's user.
	run -0 husk exec "$CID" id
	[ "$output" = "uid=0(root) gid=0(root)" ]
	# -g adds to the container's additionalGids.
	update_config '.process.user.additionalGids = [1]'
	start_sleeper
	run -0 husk exec -g 65534 "$CID" sh -c 'cat /proc/$$/status'
	# As a set: runc 1.5.3 lists a -g gid twice when the config has additionalGids.
	[ "$(status_field Groups "$output" | xargs -n1 | sort -nu | xargs)" = "1 65534" ]
}

@test "exec --cap adds to bounding, effective, permitted and ambient, never inheritable" {
	# root: the sets after execve follow the bounding set.
	start_sleeper
	run -0 husk exec "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field CapBnd "$output")" = 0000000020000420 ]
	run -0 husk exec --cap CAP_SYS_ADMIN "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field CapBnd "$output")" = 0000000020200420 ]
	[ "$(status_field CapPrm "$output")" = 0000000020200420 ]
	[ "$(status_field CapEff "$output")" = 0000000020200420 ]
	[ "$(status_field CapInh "$output")" = 0000000000000000 ]

	# uid 1000: only ambient capabilities survive execve, and the kernel
	# raises an ambient one only if it is inheritable: NET_RAW is, SYS_ADMIN
	# is not. If --cap added to inheritable, SYS_ADMIN would show there and
	# in the ambient set.
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities.bounding += ["CAP_NET_RAW"]
		| .process.capabilities.inheritable = ["CAP_NET_RAW"]'
	start_sleeper
	run -0 husk exec "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field CapAmb "$output")" = 0000000000000000 ]
	[ "$(status_field CapEff "$output")" = 0000000000000000 ]
	[ "$(status_field CapInh "$output")" = 0000000000002000 ]
	run -0 husk exec --cap CAP_NET_RAW --cap CAP_SYS_ADMIN "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field CapBnd "$output")" = 0000000020202420 ]
	[ "$(status_field CapAmb "$output")" = 0000000000002000 ]
	[ "$(status_field CapPrm "$output")" = 0000000000002000 ]
	[ "$(status_field CapEff "$output")" = 0000000000002000 ]
	[ "$(status_field CapInh "$output")" = 0000000000002000 ]
}

@test "exec --cwd and -e" {
	update_config '.process.env += ["KEEP=1", "FOO=old"]'
	start_sleeper
	run -0 husk exec "$CID" sh -c 'pwd; echo "$FOO"'
	[ "${lines[0]}" = / ]
	[ "${lines[1]}" = old ]
	run -0 husk exec --cwd /etc -e FOO=new -e BAR='a b' -e PATH=/usr/bin:/bin "$CID" \
		sh -c 'pwd; echo "$FOO|$BAR|$KEEP|$PATH"'
	[ "${lines[0]}" = /etc ]
	[ "${lines[1]}" = "new|a b|1|/usr/bin:/bin" ]
}

@test "exec --no-new-privs" {
	update_config '.process.noNewPrivileges = false'
	start_sleeper
	run -0 husk exec "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field NoNewPrivs "$output")" = 0 ]
	run -0 husk exec --no-new-privs "$CID" sh -c 'cat /proc/$$/status'
	[ "$(status_field NoNewPrivs "$output")" = 1 ]
}

@test "exec -p process.json replaces the process: args, env, cwd, user, caps, rlimits" {
	update_config '.process.noNewPrivileges = false'
	start_sleeper
	jq -n '{
		args: ["sh", "-c", "cat /proc/$$/status /proc/$$/limits; pwd; env; umask"],
		env: ["PATH=/bin:/usr/bin", "FROM_JSON=1"],
		cwd: "/var",
		user: {uid: 1000, gid: 1000, additionalGids: [65534], umask: 63},
		capabilities: {bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"],
			permitted: ["CAP_KILL"], inheritable: ["CAP_KILL"], ambient: ["CAP_KILL"]},
		rlimits: [{type: "RLIMIT_NOFILE", soft: 100, hard: 200}],
		noNewPrivileges: true
	}' >"$TESTDIR/process.json"
	run -0 husk exec -p "$TESTDIR/process.json" "$CID"
	[[ "$(status_field Uid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	[ "$(status_field Groups "$output" | xargs)" = 65534 ]
	[ "$(status_field CapBnd "$output")" = 0000000000000021 ]
	[ "$(status_field CapAmb "$output")" = 0000000000000020 ]
	[ "$(status_field CapEff "$output")" = 0000000000000020 ]
	[ "$(status_field NoNewPrivs "$output")" = 1 ]
	[[ "$output" =~ Max\ open\ files\ +100\ +200 ]]
	[[ "$output" == *$'\n/var\n'* ]]
	[[ "$output" == *"FROM_JSON=1"* ]]
	# The container's env is not mixed in.
	[[ "$output" != *"TERM=xterm"* ]]
	# runc applies only the container's umask to an exec, and the caller's without one.
	[ "$HUSK_NAME" != husk ] || [ "${lines[-1]}" = 0077 ]
}

@test "exec -p with flags: the flags apply over the file, a command line replaces its args" {
	husk_only "runc ignores exec's flags and command line when -p gives a process.json"
	update_config '.process.noNewPrivileges = false'
	start_sleeper
	jq -n '{
		args: ["sh", "-c", "echo from-file"],
		env: ["PATH=/bin:/usr/bin", "FROM_JSON=1", "FOO=file"],
		cwd: "/var",
		user: {uid: 0, gid: 0},
		capabilities: {bounding: ["CAP_CHOWN"], effective: ["CAP_CHOWN"], permitted: ["CAP_CHOWN"]}
	}' >"$TESTDIR/process.json"
	run -0 husk exec -p "$TESTDIR/process.json" "$CID"
	[ "$output" = from-file ]
	run -0 husk exec -p "$TESTDIR/process.json" --cwd /etc -e FOO=flag -u 1000:1000 --cap CAP_KILL \
		--no-new-privs "$CID" sh -c 'pwd; echo "$FROM_JSON|$FOO"; cat /proc/$$/status'
	[ "${lines[0]}" = /etc ]
	[ "${lines[1]}" = "1|flag" ]
	[[ "$(status_field Uid "$output")" =~ ^1000[[:space:]]+1000[[:space:]]+1000[[:space:]]+1000$ ]]
	# CAP_CHOWN (0) from the file, CAP_KILL (5) from --cap, in the bounding set.
	[ "$(status_field CapBnd "$output")" = 0000000000000021 ]
	[ "$(status_field NoNewPrivs "$output")" = 1 ]
}

@test "exec exit status is husk's, 128+N when the process is killed" {
	start_sleeper
	run -42 husk exec "$CID" sh -c 'exit 42'
	run -0 husk exec "$CID" true
	run -137 husk exec "$CID" sh -c 'kill -KILL $$'
	run -143 husk exec "$CID" sh -c 'kill -TERM $$'
	# The container is unaffected.
	[ "$(container_status "$CID")" = running ]
}

@test "signals sent to a foreground exec reach the process" {
	update_config '.root.readonly = false'
	start_sleeper
	# Not the husk function: $! must be husk itself, not a subshell around it.
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec "$CID" sh -c 'trap "echo got-usr1; exit 3" USR1
		echo $$ >/tmp/ready; while :; do sleep 0.05; done' \
		</dev/null >"$TESTDIR/exec.out" 2>&1 3>&- &
	local pid=$!
	track_pid "$pid"
	wait_for_file "$BUNDLE/rootfs/tmp/ready"
	kill -USR1 "$pid"
	local rc=0
	wait_gone "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 3 ]
	grep -qx got-usr1 "$TESTDIR/exec.out"

	# SIGTERM too; the exec'd process is reaped (no zombie left in the container).
	rm -f "$BUNDLE/rootfs/tmp/ready"
	# shellcheck disable=SC2086
	"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec "$CID" sh -c 'trap "exit 7" TERM; echo $$ >/tmp/ready; while :; do sleep 0.05; done' \
		</dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	track_pid "$pid"
	wait_for_file "$BUNDLE/rootfs/tmp/ready"
	local inner
	inner=$(cat "$BUNDLE/rootfs/tmp/ready")
	kill -TERM "$pid"
	rc=0
	wait_gone "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 7 ]
	run -0 husk exec "$CID" sh -c "[ ! -e /proc/$inner ] && echo reaped"
	[ "$output" = reaped ]
}

@test "exec --preserve-fds passes exactly those fds" {
	start_sleeper
	echo "in-$RANDOM" >"$TESTDIR/in"
	: >"$TESTDIR/out"
	run -0 husk exec --preserve-fds 2 "$CID" sh -c \
		'cat <&3; echo written >&4; for f in 5 6; do [ -e /proc/$$/fd/$f ] && echo "fd $f leaked"; done; true' \
		3<"$TESTDIR/in" 4>"$TESTDIR/out" 5<"$TESTDIR/in" 6</dev/null
	[ "$output" = "$(cat "$TESTDIR/in")" ]
	[ "$(cat "$TESTDIR/out")" = written ]
	# Without the flag none of them is passed.
	run -0 husk exec "$CID" sh -c 'for f in 3 4; do [ -e /proc/$$/fd/$f ] && echo "fd $f leaked"; done; true' \
		3<"$TESTDIR/in" 4>"$TESTDIR/out"
	[ -z "$output" ]
}

@test "exec -d --pid-file returns at once; the pid is the process in the container" {
	update_config '.root.readonly = false'
	start_sleeper
	local start=$SECONDS
	# The process keeps husk's stdio: not bats' pipes. A runtime that waited
	# for the process would hang: the timeout turns that into a failure.
	# shellcheck disable=SC2086
	timeout -k 1 10 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec -d --pid-file "$TESTDIR/exec.pid" "$CID" \
		sh -c 'echo $$ >/tmp/inner; exec sleep 1000' </dev/null >"$TESTDIR/exec.log" 2>&1
	[ $((SECONDS - start)) -lt 5 ]
	local pid
	pid=$(cat "$TESTDIR/exec.pid")
	[[ "$pid" =~ ^[0-9]+$ ]]
	track_pid "$pid"
	wait_for_file "$BUNDLE/rootfs/tmp/inner"
	# Still running after husk returned, in the container's pid namespace,
	# with the pid the process sees there as its last NSpid.
	kill -0 "$pid"
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 1000 " ]
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$(container_pid "$CID")/ns/pid")" ]
	[ "$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")" = "$(cat "$BUNDLE/rootfs/tmp/inner")" ]
	grep -q "$CID" "/proc/$pid/cgroup"
}

# container_cgroup_dirs prints the host directories of the cgroups of process
# $1 that are named after container $2 (one per hierarchy).
container_cgroup_dirs() {
	local line ctrl path dir
	while IFS= read -r line; do
		ctrl=$(echo "$line" | cut -d: -f2)
		path=$(echo "$line" | cut -d: -f3-)
		[[ "$path" == *"/$2" ]] || continue
		case $ctrl in
		"") dir=/sys/fs/cgroup/unified ;;
		name=*) dir=/sys/fs/cgroup/${ctrl#name=} ;;
		*) dir=/sys/fs/cgroup/${ctrl%%,*} ;;
		esac
		[ -d "$dir$path" ] && echo "$dir$path"
	done <"/proc/$1/cgroup"
}

@test "exec --cgroup puts the process in an existing sub-cgroup" {
	start_sleeper
	local dirs d
	dirs=$(container_cgroup_dirs "$(container_pid "$CID")" "$CID")
	[ -n "$dirs" ]
	for d in $dirs; do
		mkdir "$d/sub"
		echo "$d/sub" >>"$TESTDIR/subcgroups"
		# A v1 cpuset cgroup made by hand has no cpus or mems, and no task can join it
		# (ENOSPC). husk fills them in from the parent; runc does not, so its caller must.
		if [ "$HUSK_NAME" != husk ] && [ -e "$d/sub/cpuset.cpus" ]; then
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	mkdir "$(echo "$dirs" | grep /memory/)/msub"
	echo "$(echo "$dirs" | grep /memory/)/msub" >>"$TESTDIR/subcgroups"

	# Every hierarchy.
	run -0 husk exec --cgroup sub "$CID" cat /proc/self/cgroup
	local n=0 line
	while read -r line; do
		case $line in *"/$CID/sub") n=$((n + 1)) ;; *"/$CID") fail "not in sub: $line" ;; esac
	done <<<"$output"
	[ "$n" -eq "$(echo "$dirs" | wc -l)" ]

	# One controller: only its hierarchy changes.
	run -0 husk exec --cgroup memory:msub "$CID" cat /proc/self/cgroup
	[[ "$(echo "$output" | grep ':memory:')" == *"/$CID/msub" ]]
	[[ "$(echo "$output" | grep ':pids:')" == *"/$CID" ]]
	[[ "$(echo "$output" | grep ':freezer:')" == *"/$CID" ]]

	# A sub-cgroup that does not exist is an error, not a silent fallback.
	run husk exec --cgroup nosuch "$CID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *nosuch* ]]

	while read -r d; do rmdir "$d"; done < <(sort -r "$TESTDIR/subcgroups")
}

@test "exec into a paused container fails; --ignore-paused runs the process after resume" {
	update_config '.root.readonly = false'
	start_sleeper
	run -0 husk pause "$CID"
	run husk exec "$CID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot exec in a paused container"* ]]

	# shellcheck disable=SC2086
	timeout -k 1 10 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" exec --ignore-paused -d --pid-file "$TESTDIR/exec.pid" \
		"$CID" sh -c 'echo ran >/tmp/ran; exec sleep 1000' </dev/null >"$TESTDIR/exec.log" 2>&1 &
	local exec_pid=$! rc=0
	track_pid "$exec_pid"
	if [ "$HUSK_NAME" = husk ]; then
		# husk's -d returns although the process cannot run yet (the timeout turns a
		# wait for it into a failure); runc's waits until the container is resumed.
		wait "$exec_pid" || rc=$?
		[ "$rc" -eq 0 ] || fail "exec -d into the paused container: exit $rc: $(cat "$TESTDIR/exec.log")"
	fi
	# Frozen with the container: it has not run yet.
	sleep 0.3
	[ ! -e "$BUNDLE/rootfs/tmp/ran" ]
	[ "$(container_status "$CID")" = paused ]
	run -0 husk resume "$CID"
	wait_for_file "$BUNDLE/rootfs/tmp/ran"
	wait "$exec_pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exec -d into the paused container: exit $rc: $(cat "$TESTDIR/exec.log")"
	local pid
	pid=$(cat "$TESTDIR/exec.pid")
	track_pid "$pid"
	grep -q "$CID" "/proc/$pid/cgroup"
}

@test "failures of exec itself exit 255; the command's own status passes through" {
	start_sleeper
	# The command's status, whatever it is, 255 included.
	run -7 husk exec "$CID" sh -c 'exit 7'
	run -255 husk exec "$CID" sh -c 'exit 255'
	run -0 husk exec "$CID" true
	# Failures of the runtime: 255, so that a caller can tell them apart from a
	# command's 1 or 127.
	run -255 husk exec --pid-file "$TESTDIR/no-such-dir/pid" "$CID" true
	run -255 husk exec "$CID" /no/such/program
	run -255 husk exec -p "$TESTDIR/no-such-process.json" "$CID"
	run -255 husk exec husktest-no-such-container true
	run -0 husk pause "$CID"
	run -255 husk exec "$CID" true
	[[ "$output" == *"cannot exec in a paused container"* ]]
	run -0 husk resume "$CID"
	run -0 husk kill "$CID" KILL
	wait_for_status "$CID" stopped
	run -255 husk exec "$CID" true
	[[ "$output" == *"cannot exec in a stopped container"* ]]
	# Bad usage (no container id) is still 1, as in runc.
	run -1 husk exec
}

@test "exec into a stopped or missing container fails with runc's wording" {
	set_args true
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run husk exec "$id" true
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot exec in a stopped container"* ]]

	run husk exec husktest-does-not-exist true
	[ "$status" -ne 0 ]
	[[ "$output" == *"container does not exist"* ]]
	run -0 husk delete "$id"
}
