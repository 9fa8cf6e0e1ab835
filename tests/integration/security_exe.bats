#!/usr/bin/env bats
# Security regressions, the runtime's own binary (CVE-2019-5736) and the init
# before exec (CVE-2016-9962): nothing in a container may write the host's
# runtime binary, or look into the runtime while it still runs in there.
#
# Each test runs a private copy of the runtime (use_private_runtime): if an
# attack works, it damages only that copy.

load security_helpers

# plant_reexec makes /evil in the rootfs a script whose interpreter is
# /proc/self/exe: whatever runtime process execve()s /evil runs the runtime's
# own binary again, inside the container, as `/proc/self/exe --log=/husk-fifo
# /evil`. The re-executed runtime opens its --log, a fifo, and blocks there
# until the attacker releases it: no race, the attacker has all the time it
# needs to grab the binary.
plant_reexec() {
	printf '#!/proc/self/exe --log=/husk-fifo\n' >"$BUNDLE/rootfs/evil"
	chmod 755 "$BUNDLE/rootfs/evil"
	mkfifo -m 666 "$BUNDLE/rootfs/husk-fifo"
	# The attacker: find the blocked runtime, open its exe read-only, let it
	# go, wait until it is gone (its text is no longer busy), then reopen the
	# binary for writing through /proc/self/fd/7, as the 2019 exploit did.
	cat >"$BUNDLE/rootfs/attack" <<-'SCRIPT'
		#!/bin/sh
		pid=
		for i in $(seq 2000); do
			for p in /proc/[0-9]*; do
				grep -qs husk-fifo "$p/cmdline" && [ "${p#/proc/}" != $$ ] && pid=${p#/proc/} && break 2
			done
			# The runtime refused to execute /evil: nothing to attack.
			[ -e /out/victim-done ] && break
			sleep 0.01
		done
		[ -n "$pid" ] || { echo no-victim >/out/result; exit 0; }
		sh -c '
			cat /husk-fifo >/dev/null &
			while grep -qs husk-fifo /proc/$1/cmdline; do sleep 0.01; done
			if echo pwned >>/proc/self/fd/7; then echo wrote; else echo write-refused; fi >/out/result
		' sh "$pid" 7<"/proc/$pid/exe" 2>/out/err || true
		if [ ! -s /out/result ]; then
			# Could not even open the exe: release the runtime anyway.
			echo open-refused >/out/result
			cat /husk-fifo >/dev/null
		fi
	SCRIPT
	chmod 755 "$BUNDLE/rootfs/attack"
}

# check_attack waits for the attacker's verdict (up to ~20s) and fails
# unless the runtime's binary could not be written. "no-victim" means the
# runtime never ran itself through /evil (it refused to execute it): also safe.
check_attack() {
	local i result=""
	for i in $(seq 400); do
		[ -s "$OUT/result" ] && break
		sleep 0.05
	done
	result=$(cat "$OUT/result" 2>/dev/null)
	echo "attack: $result; $(cat "$OUT/err" 2>/dev/null)"
	assert_runtime_intact
	case $result in
	write-refused | open-refused | no-victim) ;;
	*) fail "attack result: ${result:-none}" ;;
	esac
}

@test "CVE-2019-5736 control: the same attack overwrites an unprotected runtime binary" {
	# Not a defence: proof that the attack below is real. The private copy
	# is run directly on the host, as `/proc/self/exe --log=FIFO /evil`
	# would run it without protection; the attacker's steps then rewrite it.
	use_private_runtime
	mkfifo "$TESTDIR/husk-fifo"
	"$HUSK" --log="$TESTDIR/husk-fifo" /evil </dev/null >/dev/null 2>&1 &
	local pid=$! i
	track_pid "$pid"
	# Wait until it blocks opening the fifo (its log), as the victim does.
	for i in $(seq 100); do
		[ "$(cat "/proc/$pid/wchan" 2>/dev/null)" = wait_for_partner ] && break
		# Gone (or a zombie): it exited without opening its log.
		case $(cut -d" " -f3 "/proc/$pid/stat" 2>/dev/null || echo gone) in
		Z | gone) skip "$HUSK_NAME does not open --log before it parses its arguments" ;;
		esac
		sleep 0.05
	done
	[ "$(cat "/proc/$pid/wchan")" = wait_for_partner ] || fail "$HUSK_NAME did not block on its --log fifo"
	# Wait until no thread of it runs the binary: gone, or a zombie leader with no thread left
	# (its exe link goes with the leader's memory while other threads still map the binary,
	# and the write would then fail with ETXTBSY).
	run sh -c '
		cat "$2" >/dev/null &
		while st=$(cut -d" " -f3 /proc/$1/stat 2>/dev/null); do
			[ "$st" = Z ] && [ "$(ls /proc/$1/task 2>/dev/null | wc -l)" -le 1 ] && break
			sleep 0.01
		done
		if echo pwned >>/proc/self/fd/7; then echo wrote; else echo write-refused; fi
	' sh "$pid" "$TESTDIR/husk-fifo" 7<"/proc/$pid/exe"
	[ "$output" = wrote ] || fail "control attack: $output"
	[ "$(sha256sum <"$HUSK")" != "$HUSK_SUM" ] || fail "the unprotected copy was not changed"
}

@test "CVE-2019-5736: exec of a #!/proc/self/exe script cannot overwrite the runtime" {
	# Defence: the binary the runtime runs inside the container (exec's init)
	# is a sealed copy (memfd) or on a read-only mount, never the host's file.
	use_private_runtime
	out_dir
	plant_reexec
	start_sleeper
	run -0 husk_bg exec -d "$CID" /attack
	# The victim: exec of /evil; the re-executed runtime fails on its
	# arguments once the attacker releases it, so the status is not checked.
	run husk exec "$CID" /evil
	echo "exec /evil: $output"
	touch "$OUT/victim-done"
	check_attack
}

@test "CVE-2019-5736: a container whose process is #!/proc/self/exe cannot overwrite the runtime" {
	# Defence: the same, for the container's own init (create/start/run).
	# Without a pid namespace the attacker, exec'd into the created
	# container, outlives the init it attacks.
	use_private_runtime
	out_dir
	plant_reexec
	update_config 'del(.linux.namespaces[] | select(.type == "pid"))'
	set_args /evil
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run -0 husk_bg exec -d "$id" /attack
	run -0 husk start "$id"
	# The init blocks on the fifo until the attacker releases it; once it is
	# gone (or never ran /evil), the attacker may stop looking.
	local i
	for i in $(seq 400); do
		[ -s "$OUT/result" ] && break
		[ "$(container_status "$id")" = stopped ] && touch "$OUT/victim-done"
		sleep 0.05
	done
	check_attack
}

@test "CVE-2019-5736: the created init's /proc/PID/exe cannot be reopened for writing" {
	# Defence: the same, seen from the host: the file behind the init's exe
	# link (a sealed memfd, or the binary on a detached read-only mount)
	# cannot be opened for writing once the init has exec'd the workload.
	use_private_runtime
	local id pid
	id=$(new_id)
	set_args true
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	pid=$(container_pid "$id")
	exec 7<"/proc/$pid/exe"
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run sh -c 'echo pwned >>/proc/self/fd/7' 7<&7
	exec 7<&-
	assert_runtime_intact
	[ "$status" -ne 0 ] || fail "reopened the init's exe for writing"
}

@test "CVE-2016-9962: the created init is not dumpable" {
	skip_runc '*' "its created init is dumpable: a process without CAP_SYS_PTRACE, or one exec'd into the created container, reads its exe and fds"
	# Defence: the init is non-dumpable until it execs the workload, so a
	# process without CAP_SYS_PTRACE cannot open its exe, fds or memory.
	local id pid
	id=$(new_id)
	set_args true
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	pid=$(container_pid "$id")
	run without_ptrace readlink "/proc/$pid/exe"
	[ "$status" -ne 0 ] || fail "read /proc/$pid/exe without CAP_SYS_PTRACE: $output"
	# The fd directory's names are visible to its owner (root); what they point to is not.
	run without_ptrace readlink "/proc/$pid/fd/0"
	[ "$status" -ne 0 ] || fail "followed /proc/$pid/fd/0 without CAP_SYS_PTRACE: $output"
	# Control: the same probe works on a dumpable root process with the same capabilities
	# (a target holding capabilities the caller lacks is out of reach for that reason alone).
	(exec setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace -- sleep 100) &
	track_pid $!
	run -0 without_ptrace readlink "/proc/$!/exe"
}

@test "CVE-2016-9962: a process exec'd into a created container cannot look into the init" {
	skip_runc '*' "its created init is dumpable: a process without CAP_SYS_PTRACE, or one exec'd into the created container, reads its exe and fds"
	# Defence: the same, from inside: the init (pid 1, still the runtime) is
	# out of reach of a process exec'd next to it with the default caps.
	local id
	id=$(new_id)
	set_args true
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run husk exec "$id" sh -c 'readlink /proc/1/exe && echo EXE; readlink /proc/1/fd/0 && echo FDS; head -c 64 /proc/1/environ >/dev/null && echo ENV; true'
	echo "$output"
	[[ "$output" != *EXE* ]] && [[ "$output" != *FDS* ]] && [[ "$output" != *ENV* ]]
}
