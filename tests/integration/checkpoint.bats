#!/usr/bin/env bats
# checkpoint and restore (criu): the processes of a container are dumped to images and restored
# into a new container (same id or a new one) that runs on from where they were. Most tests need
# a criu that works (`criu check` passes): they run in the pure cgroup v2 VM (tests/vm, Debian's
# 6.1 kernel), and skip on this machine, whose kernel Debian's criu 3.17 cannot handle. The
# errors (no criu, criu failing, a container not running, bad flags) are tested everywhere.
#
# The containers get pipes as stdio (runc's checkpoint.bats does the same): criu cannot dump a
# process holding a file of the host, like bats' log files; restore hands new pipes over.

# Scripts for the container are single-quoted on purpose.
# shellcheck disable=SC2016

load helpers
load checkpoint_helpers

setup_file() {
	detect_criu
}

@test "checkpoint --help and restore --help exit 0 and list runc's flags" {
	# podman asks `checkpoint --help` whether the runtime can checkpoint.
	run -0 husk checkpoint --help
	local f
	for f in image-path work-path parent-path leave-running tcp-established ext-unix-sk shell-job \
		lazy-pages status-fd page-server file-locks pre-dump manage-cgroups-mode empty-ns auto-dedup; do
		[[ "$output" == *"--$f"* ]] || fail "checkpoint --help lacks --$f: $output"
	done
	run -0 husk restore --help
	for f in console-socket image-path work-path tcp-established ext-unix-sk shell-job file-locks \
		manage-cgroups-mode bundle detach pid-file no-subreaper no-pivot empty-ns auto-dedup lazy-pages \
		lsm-profile lsm-mount-context; do
		[[ "$output" == *"--$f"* ]] || fail "restore --help lacks --$f: $output"
	done
}

@test "features says checkpoint/restore is supported, as runc's annotation does" {
	run -0 husk features
	[ "$(jq -r '.annotations["org.opencontainers.runc.checkpoint.enabled"]' <<<"$output")" = true ]
}

@test "checkpoint of a created or a stopped container fails naming its state, and leaves it so" {
	set_args sh -c 'exit 3'
	local id
	id=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$id"
	run husk checkpoint --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"created"* ]] || fail "the error does not name the state: $output"
	[ "$(container_status "$id")" = created ]
	run -0 husk start "$id"
	wait_for_status "$id" stopped
	run husk checkpoint --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"stopped"* ]] || fail "the error does not name the state: $output"
	[ "$(container_status "$id")" = stopped ]
	run -0 husk delete "$id"
	assert_nothing_left
}

@test "checkpoint without criu fails clearly and the container runs on" {
	start_sleeper
	local id=$CID pid
	pid=$(container_pid "$id")
	mkdir "$TESTDIR/nobin"
	run env PATH="$TESTDIR/nobin" "$HUSK" --root "$ROOT" checkpoint --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *criu* ]] || fail "the error does not name criu: $output"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"criu is not installed"* ]] || fail "$output"
	fi
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
}

@test "husk: a criu that cannot run on the kernel is reported as such (criu check), and the container runs on" {
	husk_only "the error checked is husk's: criu cannot run on this kernel, with criu check's own lines"
	# A criu as Debian's 3.17 behaves on a kernel whose vDSO it cannot parse.
	mkdir "$TESTDIR/bin"
	cat >"$TESTDIR/bin/criu" <<-'EOF'
		#!/bin/sh
		echo "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds" >&2
		echo "Error (criu/crtools.c:260): Could not initialize kernel features detection." >&2
		exit 1
	EOF
	chmod 755 "$TESTDIR/bin/criu"
	start_sleeper
	local id=$CID pid
	pid=$(container_pid "$id")
	run env PATH="$TESTDIR/bin:$PATH" "$HUSK" --root "$ROOT" checkpoint --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"criu cannot run on this kernel"*"criu check\` failed"*"Unexpected rt vDSO area bounds"* ]] ||
		fail "not reported as criu failing its check: $output"
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	# The same for restore, which leaves nothing behind.
	run env PATH="$TESTDIR/bin:$PATH" "$HUSK" --root "$ROOT" restore -d --image-path "$TESTDIR/img" "$(new_id)"
	[ "$status" -ne 0 ]
	run -0 husk delete -f "$id"
	assert_nothing_left
}

@test "checkpoint where criu is installed but fails its check: reported, the container runs on" {
	[ "$CRIU_STATE" = broken ] || skip "criu is $CRIU_STATE here, not installed and failing its check"
	start_sleeper
	local id=$CID pid
	pid=$(container_pid "$id")
	run husk checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"criu cannot run on this kernel"*"check\` failed"* ]] || fail "$output"
	fi
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
}

# criu dumps only what it can name inside the container: as runc does, stdio that is the host's
# /dev/null is reopened from the container's own, and an exec'd process leads a session of its
# own (criu refuses a process whose session leader is outside the container).
@test "stdio that is the host's /dev/null becomes the container's own /dev/null" {
	start_sleeper
	local pid mnt
	pid=$(container_pid "$CID")
	mnt=$(awk '$1 == "mnt_id:" { print $2 }' "/proc/$pid/fdinfo/0")
	[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ]
	[ "$(awk -v m="$mnt" '$1 == m { print $5 }' "/proc/$pid/mountinfo")" = /dev ] ||
		fail "fd 0 is /dev/null of mount $mnt, not of the container's /dev: $(cat "/proc/$pid/mountinfo")"
}

@test "an exec'd process leads a session of its own" {
	start_sleeper
	# stdout alone: runc 1.5.3 warns on stderr on this host.
	run -0 --separate-stderr husk exec "$CID" sh -c 'echo "$(cut -d" " -f6 /proc/$$/stat) $$"'
	local sid pid
	read -r sid pid <<<"$output"
	[ "$sid" = "$pid" ] || fail "session $sid, pid $pid"
}

@test "bad flags are refused before anything changes (manage-cgroups-mode, parent-path, empty-ns, images)" {
	start_sleeper
	local id=$CID pid
	pid=$(container_pid "$id")
	run husk checkpoint --manage-cgroups-mode bogus --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "${output,,}" =~ manage.cgroups.mode ]] || fail "$output"
	run husk checkpoint --parent-path "$TESTDIR/parent" --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--parent-path"* ]] || fail "$output"
	run husk checkpoint --parent-path ../missing --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--parent-path"* ]] || fail "$output"
	run husk checkpoint --empty-ns ipc --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ipc"* ]] || fail "$output"
	run husk checkpoint --page-server nowhere --image-path "$TESTDIR/img" "$id"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--page-server"* ]] || fail "$output"
	if [ "$HUSK_NAME" = husk ]; then
		# runc ignores a port 0 and a --status-fd without --lazy-pages; husk refuses both.
		run husk checkpoint --page-server 127.0.0.1:0 --image-path "$TESTDIR/img" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"--page-server"* ]] || fail "$output"
		run husk checkpoint --status-fd 1 --image-path "$TESTDIR/img" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"--status-fd 1: only used with --lazy-pages"* ]] || fail "$output"
		# An fd that is not open, or open only for reading.
		run husk checkpoint --lazy-pages --status-fd 987 --image-path "$TESTDIR/img" "$id"
		[ "$status" -ne 0 ]
		[[ "$output" == *"--status-fd 987"* ]] || fail "$output"
		run husk checkpoint --lazy-pages --status-fd 0 --image-path "$TESTDIR/img" "$id" </dev/null
		[ "$status" -ne 0 ]
		[[ "$output" == *"--status-fd 0: not open for writing"* ]] || fail "$output"
	fi
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	run -0 husk delete -f "$id"

	run husk restore -d --manage-cgroups-mode bogus --image-path "$TESTDIR/img" "$(new_id)" </dev/null
	[ "$status" -ne 0 ]
	# runc 1.1 looks at the images first (and fails on their absence here); husk checks flags first.
	if [ "$HUSK_NAME" = husk ]; then
		[[ "${output,,}" =~ manage.cgroups.mode ]] || fail "$output"
	fi
	# No checkpoint there.
	mkdir -p "$TESTDIR/empty"
	run husk restore -d --image-path "$TESTDIR/empty" "$(new_id)" </dev/null
	[ "$status" -ne 0 ]
	# A terminal container restored in the background needs a console socket.
	update_config '.process.terminal = true'
	run husk restore -d --image-path "$TESTDIR/empty" "$(new_id)" </dev/null
	[ "$status" -ne 0 ]
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" =~ console.socket ]] || fail "$output"
		# criu restores the root with pivot_root itself: --no-pivot cannot be had.
		run husk restore -d --no-pivot --image-path "$TESTDIR/empty" "$(new_id)" </dev/null
		[ "$status" -ne 0 ]
		[[ "$output" == *"--no-pivot"* ]] || fail "$output"
	fi
	assert_nothing_left
}

# fake_checkpoint DIR: an image directory as far as restore reads it before criu runs (the
# stdio the container had); criu finds no images there and fails.
fake_checkpoint() {
	mkdir -p "$1"
	echo '["pipe:[1]", "pipe:[2]", "pipe:[3]"]' >"$1/descriptors.json"
}

@test "restore with bad input fails leaving nothing: a bad id, no systemd for --systemd-cgroup, an id or a cgroup in use, images criu cannot restore" {
	fake_checkpoint "$TESTDIR/fake"
	local id other pid
	id=$(new_id)
	run ! husk restore -d --image-path "$TESTDIR/fake" "../$id" </dev/null
	# runc: "invalid container ID format".
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"../$id"* ]] || fail "the error does not name the id: $output"
	[ ! -e "$TESTDIR/$id" ] || fail "a state directory was made outside the root"
	assert_nothing_left

	# The systemd cgroup driver on a host without systemd: refused as by create, before criu
	# runs (systemd_checkpoint.bats restores into a scope in the systemd VM).
	if ! host_systemd; then
		run ! husk --systemd-cgroup restore -d --image-path "$TESTDIR/fake" "$id" </dev/null
		[[ "$output" == *systemd* ]] || fail "the error does not name systemd: $output"
		[ "$HUSK_NAME" != husk ] || [[ "$output" == *"systemd is not running on this host"* ]] || fail "$output"
		assert_nothing_left
	fi

	# An id in use: "already exists", and the container there is left as it was.
	start_sleeper
	other=$CID
	pid=$(container_pid "$other")
	run ! husk restore -d --image-path "$TESTDIR/fake" --work-path "$TESTDIR/rwork" "$other" </dev/null
	[[ "$output" == *"already exists"* ]] || fail "$output"
	[ "$(container_status "$other")" = running ]
	[ "$(container_pid "$other")" = "$pid" ]
	[ -s "$ROOT/$other/state.json" ]

	# Its cgroup, as linux.cgroupsPath of the restored container: in use, refused.
	local cg
	cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	if [ -n "$cg" ] && [ -d "/sys/fs/cgroup$cg" ]; then
		update_config '.linux.cgroupsPath = "'"$cg"'"'
	else # cgroup v1: the pids hierarchy's path
		cg=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup")
		update_config '.linux.cgroupsPath = "'"$cg"'"'
	fi
	run ! husk restore -d --image-path "$TESTDIR/fake" --work-path "$TESTDIR/rwork" "$id" </dev/null
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"linux.cgroupsPath"*"not empty"* ]] || fail "$output"
	[ "$(container_pid "$other")" = "$pid" ]
	run -0 husk delete -f "$other"
	assert_nothing_left

	# Images criu cannot restore: criu fails once the id is claimed, its cgroup made (named
	# in cgroupsPath) and, under NOTIFY_SOCKET, the socket's directory made.
	update_config '.linux.cgroupsPath = "/'"$id"'" | .linux.resources.pids = {limit: 77}'
	local rc=0
	NOTIFY_SOCKET=$TESTDIR/notify.sock husk restore -d --image-path "$TESTDIR/fake" --work-path "$TESTDIR/rwork" "$id" \
		</dev/null >"$TESTDIR/restore.out" 2>&1 || rc=$?
	[ "$rc" -ne 0 ] || fail "the restore succeeded: $(cat "$TESTDIR/restore.out")"
	# It failed where criu ran, not before.
	[ "$HUSK_NAME" != husk ] || grep -q "restore $id: .*criu" "$TESTDIR/restore.out" || fail "$(cat "$TESTDIR/restore.out")"
	assert_nothing_left
}

@test "checkpoint and restore: the counter runs on from where it was, same pids inside, new stdio pipes, exec works" {
	requires_criu
	local id pid spid
	id=$(new_id)
	run_counter "$id"
	spid=$SPID
	pid=$(container_pid "$id")
	checkpoint "$id"
	# The images name the stdio the container had (pipes) for restore to replace.
	jq -e 'length == 3 and all(.[]; startswith("pipe:"))' "$TESTDIR/img/descriptors.json"
	drain_counter
	local before=$LAST
	restore "$id"
	[ "$(container_pid "$id")" != "$pid" ]
	# On from the line after the last one before the checkpoint, without a gap.
	next_count
	[ "$COUNT" = $((before + 1)) ]
	next_count
	[ "$SPID" = "$spid" ] || fail "the sleep was pid $spid, is $SPID"
	run -0 --separate-stderr husk exec "$id" cat "/proc/$spid/cmdline"
	[[ "$output" == sleep* ]] || fail "pid $spid is not the sleep after restore: $output"
	# The restored init's stdio are the pipes restore was given.
	local p
	p=$(container_pid "$id")
	[ "$(readlink "/proc/$p/fd/1")" = "$(readlink "/proc/self/fd/$out_w")" ]
	# A network namespace of its own again, made empty (--empty-ns network is the default):
	# only lo in it.
	[ "$(readlink "/proc/$p/ns/net")" != "$(readlink /proc/self/ns/net)" ]
	run -0 --separate-stderr husk exec "$id" sh -c 'grep -c : /proc/net/dev; grep -o "^ *lo:" /proc/net/dev'
	[ "$output" = "1
    lo:" ] || fail "not only lo in the restored network namespace: $output"
	run -0 husk kill "$id" KILL
	wait_for_status "$id" stopped
	run -0 husk delete "$id"
	# Nothing on stderr from the container. (runc 1.5.3 warns there itself, with run -d's
	# stderr: it cannot raise ambient capabilities in the VM.)
	exec {err_w}>&-
	run -0 timeout 10 cat <&"$err_r"
	[ -z "$(grep -v '^time=".*" level=warning msg="can.t raise ambient capability' <<<"$output")" ] || fail "$output"
}

@test "restore in the foreground: waits for the container, exits with its status and deletes it" {
	requires_criu
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	drain_counter
	local before=$LAST
	husk restore --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" \
		<&"$in_r" >&"$out_w" 2>&"$err_w" &
	local restorer=$!
	track_pid "$restorer"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	[ "$(container_status "$id")" = running ]
	run -0 husk kill "$id" KILL
	local rc=0
	wait "$restorer" || rc=$?
	[ "$rc" = 137 ] || fail "restore exited $rc, not 137 (the init's SIGKILL)"
	run husk state "$id"
	[ "$status" -ne 0 ] || fail "the container is left: $output"
}

@test "checkpoint --leave-running, then restore under a new id next to the original" {
	requires_criu
	local id pid spid
	id=$(new_id)
	run_counter "$id"
	spid=$SPID
	pid=$(container_pid "$id")
	local seen=$LAST
	run -0 husk checkpoint --leave-running --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	next_count
	next_count
	# The copy writes to pipes of its own.
	local out1_r=$out_r id2
	id2=$(new_id)
	setup_pipes
	restore "$id2"
	LAST=
	next_count
	# It goes on from the dump, past what the original had printed before it.
	[ "$COUNT" -gt "$seen" ] || fail "the restored counter starts at $COUNT, not after $seen"
	[ "$SPID" = "$spid" ]
	next_count
	local pid2
	pid2=$(container_pid "$id2")
	[ "$pid2" != "$pid" ]
	[ "$(container_status "$id")" = running ]
	# Each in its own cgroup, named after its id (runc 1.1: the copy in the original's).
	if ! runc_1_1; then
		[[ "$(cgroup_of "$pid2")" == */"$id2" ]] ||
			fail "$id2 restored into $(cgroup_of "$pid2") ($(grep -h rewriting "$TESTDIR"/rwork/restore.log))"
	fi
	[[ "$(cgroup_of "$pid")" == */"$id" ]]
	read -r -t 60 -u "$out1_r" _ || fail "the original stopped writing"
}

@test "checkpoint --pre-dump, then a dump with --parent-path, then restore" {
	requires_criu
	local id
	id=$(new_id)
	run_counter "$id"
	mkdir "$TESTDIR/parent"
	run -0 husk checkpoint --pre-dump --image-path "$TESTDIR/parent" "$id"
	[ "$(container_status "$id")" = running ]
	next_count
	checkpoint "$id" --parent-path ../parent
	[ "$(readlink "$TESTDIR/img/parent")" = ../parent ]
	drain_counter
	local before=$LAST
	restore "$id"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	run -0 --separate-stderr husk exec "$id" true
}

@test "tmpfs and bind mounts: tmpfs contents restored, binds live again, a nested mount point made again" {
	requires_criu
	mkdir -p "$TESTDIR/shared" "$TESTDIR/nested"
	update_config '.mounts += [
		{destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["rw", "size=1m"]},
		{destination: "/data", type: "bind", source: "'"$TESTDIR/shared"'", options: ["rbind", "rw"]},
		{destination: "/data/sub/nested", type: "bind", source: "'"$TESTDIR/nested"'", options: ["rbind", "rw"]}]'
	set_args sh -c 'echo tmpfs-data >/scratch/f; echo ready; exec sleep 100000'
	setup_pipes
	local id
	id=$(new_id)
	piped run -d --bundle "$BUNDLE" "$id"
	read -r -t 60 -u "$out_r" line && [ "$line" = ready ]
	[ -d "$TESTDIR/shared/sub/nested" ]
	checkpoint "$id"
	# The nested mount point was made in the bind's source at create: gone now, restore
	# must make it again (runc's test does the same).
	rm -rf "$TESTDIR/shared/sub"
	restore "$id"
	run -0 --separate-stderr husk exec "$id" cat /scratch/f
	[ "$output" = tmpfs-data ]
	echo from-host >"$TESTDIR/shared/h"
	echo in-nested >"$TESTDIR/nested/n"
	run -0 --separate-stderr husk exec "$id" sh -c 'cat /data/h /data/sub/nested/n; echo from-container >/data/c'
	[ "$output" = "from-host
in-nested" ]
	[ "$(cat "$TESTDIR/shared/c")" = from-container ]
	# Masked paths stay masked: a file under /dev/null, a directory under an empty tmpfs.
	run -0 --separate-stderr husk exec "$id" sh -c 'wc -c </proc/kcore; ls /sys/firmware | wc -l; grep -c " /proc/kcore " /proc/self/mountinfo'
	[ "$output" = "0
0
1" ]
	# The root stays read-only, as root.readonly says. runc (1.1 and 1.5.3 alike) restores it
	# read-write: it hands criu a writable bind of the rootfs as the root.
	run husk exec "$id" touch /newfile
	if [ "$HUSK_NAME" = husk ]; then
		[ "$status" -ne 0 ] || fail "the restored root is writable"
	fi
}

@test "a terminal container is restored onto a new console socket" {
	requires_criu
	local recvtty=${RECVTTY:-}
	if [ -z "$recvtty" ]; then
		recvtty=$BATS_FILE_TMPDIR/recvtty
		[ -x "$recvtty" ] || (cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$recvtty" ./tests/cmd/recvtty)
	fi
	update_config '.process.terminal = true'
	set_args sh -c 'while read -r l; do echo "got<$l>"; done'
	local id
	id=$(new_id)
	"$recvtty" -input 'one\n' "$TESTDIR/tty1.sock" >"$TESTDIR/tty1.out" 2>&1 </dev/null 3>&- &
	track_pid $!
	local tty1=$!
	wait_for_socket "$TESTDIR/tty1.sock"
	run -0 husk run -d --console-socket "$TESTDIR/tty1.sock" --bundle "$BUNDLE" "$id" </dev/null
	local _
	for _ in $(seq 600); do grep -q 'got<one>' "$TESTDIR/tty1.out" && break; sleep 0.1; done
	grep -q 'got<one>' "$TESTDIR/tty1.out" || fail "no echo on the first terminal: $(cat "$TESTDIR/tty1.out")"
	run -0 husk checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	# The old terminal hung up: its receiver is done.
	wait_gone "$tty1"

	"$recvtty" -info "$TESTDIR/tty2.info" -input 'two\n' "$TESTDIR/tty2.sock" >"$TESTDIR/tty2.out" 2>&1 </dev/null 3>&- &
	track_pid $!
	local tty2=$!
	wait_for_socket "$TESTDIR/tty2.sock"
	run -0 husk restore -d --console-socket "$TESTDIR/tty2.sock" --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" </dev/null
	[ "$(container_status "$id")" = running ]
	for _ in $(seq 600); do grep -q 'got<two>' "$TESTDIR/tty2.out" && break; sleep 0.1; done
	grep -q 'got<two>' "$TESTDIR/tty2.out" || fail "no echo on the new terminal: $(cat "$TESTDIR/tty2.out")"
	# The shell's stdio and controlling terminal are the new pty's slave.
	run -0 --separate-stderr husk exec "$id" sh -c 'readlink /proc/1/fd/0; readlink /proc/1/fd/1; cut -d" " -f7 /proc/1/stat'
	local ptn
	ptn=$(sed -n 's/^ptn=//p' "$TESTDIR/tty2.info")
	[ "$output" = "/dev/pts/$ptn
/dev/pts/$ptn
$((136 * 256 + ptn))" ] || fail "not the new terminal ($ptn): $output"
	run -0 husk kill "$id" KILL
	wait_gone "$tty2"
}

@test "checkpoint and restore again and again; a process exec'd before each checkpoint is restored" {
	requires_criu
	local id execed=
	id=$(new_id)
	run_counter "$id"
	for _ in 1 2; do
		checkpoint "$id"
		rm -rf "$TESTDIR/work"
		drain_counter
		restore "$id"
		rm -rf "$TESTDIR/img" "$TESTDIR/rwork"
		next_count
		if [ -n "$execed" ]; then
			run -0 --separate-stderr husk exec "$id" cat "/proc/$execed/cmdline"
			[[ "$output" == sleep*4242* ]] || fail "the exec'd process $execed is gone: $output"
		fi
		run -0 --separate-stderr husk exec "$id" sh -c 'sleep 4242 </dev/null >/dev/null 2>&1 & echo $!'
		execed=$output
		# It joined the time namespace criu restored the init into: criu restores no process tree
		# spread over two time namespaces ("Can't restore sub-task in NS"). runc 1.1 does not know
		# time namespaces: its exec stays in the host's, and the next restore fails.
		run -0 --separate-stderr husk exec "$id" sh -c 'readlink /proc/1/ns/time; readlink "/proc/$1/ns/time"' sh "$execed"
		local ns1 ns2
		{ read -r ns1; read -r ns2; } <<<"$output"
		if runc_1_1; then
			[ "$ns1" != "$ns2" ] || fail "runc 1.1's exec joined the restored time namespace $ns1"
			return
		fi
		[ "$ns1" = "$ns2" ] || fail "the exec'd process is in time namespace $ns2, the init in $ns1"
	done
}

@test "restore under a new id: new state and cgroup, nothing of the old one" {
	requires_criu
	local id id2
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	drain_counter
	local before=$LAST
	id2=$(new_id)
	restore "$id2"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	run husk state "$id"
	[ "$status" -ne 0 ]
	[ "$(husk list -q)" = "$id2" ]
	run -0 --separate-stderr husk exec "$id2" true
	local cg
	cg=/sys/fs/cgroup$(cgroup_of "$(container_pid "$id2")")
	if runc_1_1; then
		# Restored into the cgroup the images name, the old id's, which its delete leaves.
		[[ "$cg" == */"$id" ]] || fail "runc 1.1 restored into $cg"
		run -0 husk delete -f "$id2"
		rmdir "$cg"
		return
	fi
	[[ "$cg" == */"$id2" ]] || fail "$id2 restored into $cg ($(grep -h rewriting "$TESTDIR"/rwork/restore.log))"
}

@test "manage-cgroups-mode full: limits and cgroup as configured after restore" {
	requires_criu
	update_config '.linux.resources.pids = {limit: 77} | .linux.resources.memory = {limit: 268435456}'
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id" --manage-cgroups-mode full
	drain_counter
	restore "$id" --manage-cgroups-mode full
	next_count
	local cg
	cg=/sys/fs/cgroup$(cgroup_of "$(container_pid "$id")")
	[[ "$cg" == */"$id" ]] || fail "restored into $cg"
	[ "$(cat "$cg/pids.max")" = 77 ]
	[ "$(cat "$cg/memory.max")" = 268435456 ]
	# Every process of the container is in it.
	run -0 --separate-stderr husk exec "$id" sh -c 'cat /proc/1/cgroup /proc/$$/cgroup | sort -u | wc -l'
	[ "$output" = 1 ]
}

@test "manage-cgroups-mode ignore: restored into the cgroup the config names now, the old one gone" {
	requires_criu
	runc_1_1 && skip "runc 1.1 has no --manage-cgroups-mode ignore (runc 1.2 added it)"
	# runc's test: criu leaves the cgroups alone, the processes stay where restore puts criu.
	update_config '.linux.resources.pids = {limit: 77}'
	local id other old
	id=$(new_id)
	other=$(new_id)
	update_config '.linux.cgroupsPath = "/'"$id"'"'
	run_counter "$id"
	old=/sys/fs/cgroup$(cgroup_of "$(container_pid "$id")")
	[[ "$old" == */"$id" ]] || fail "the container runs in $old"
	checkpoint "$id" --manage-cgroups-mode ignore
	[ ! -e "$old" ]
	drain_counter
	local before=$LAST
	update_config '.linux.cgroupsPath = "/'"$other"'" | .linux.resources.pids = {limit: 78}'
	restore "$id" --manage-cgroups-mode ignore
	next_count
	[ "$COUNT" = $((before + 1)) ]
	[ ! -e "$old" ] || fail "the old cgroup $old is back"
	local cg
	cg=/sys/fs/cgroup$(cgroup_of "$(container_pid "$id")")
	[ "$cg" = "/sys/fs/cgroup/$other" ] || fail "restored into $cg"
	[ "$(cat "$cg/pids.max")" = 78 ]
	run -0 --separate-stderr husk exec "$id" sh -c 'cat /proc/1/cgroup /proc/$$/cgroup | sort -u | wc -l'
	[ "$output" = 1 ]
}

@test "manage-cgroups-mode strict: the dump works; a restore fails as with runc (criu finds the new cgroup made), leaving nothing" {
	requires_criu
	# Restore makes the container's cgroup and restores into it (runc 1.5 and husk alike): strict
	# wants criu to make every cgroup itself, and refuses that one.
	update_config '.linux.resources.pids = {limit: 77}'
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id" --manage-cgroups-mode strict
	drain_counter
	local before=$LAST
	local rc=0
	husk restore -d --manage-cgroups-mode strict --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" \
		<&"$in_r" >&"$out_w" 2>"$TESTDIR/restore.err" || rc=$?
	if runc_1_1; then
		# It gives criu no cgroup root on cgroup v2, and its strict restore goes through.
		[ "$rc" -eq 0 ] || fail "runc 1.1's strict restore failed: $(grep -h Error "$TESTDIR/rwork/restore.log")"
		next_count
		[ "$COUNT" = $((before + 1)) ]
		return
	fi
	[ "$rc" -ne 0 ] || fail "restore --manage-cgroups-mode strict succeeded"
	grep -q "Abort restore of existing cgroups" "$TESTDIR/rwork/restore.log" ||
		fail "criu failed otherwise: $(grep -h Error "$TESTDIR/rwork/restore.log")"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$(cat "$TESTDIR/restore.err")" == *"Abort restore of existing cgroups"*"$TESTDIR/rwork/restore.log"* ]] ||
			fail "$(cat "$TESTDIR/restore.err")"
	fi
	assert_nothing_left
	# The images restore in another mode.
	rm -rf "$TESTDIR/rwork"
	restore "$id" --manage-cgroups-mode full
	next_count
	[ "$COUNT" = $((before + 1)) ]
	local cg
	cg=/sys/fs/cgroup$(cgroup_of "$(container_pid "$id")")
	[[ "$cg" == */"$id" ]] || fail "restored into $cg"
	[ "$(cat "$cg/pids.max")" = 77 ]
}

# free_port prints a TCP port nothing listens on here.
free_port() {
	local port _
	for _ in $(seq 100); do
		port=$((20000 + RANDOM % 30000))
		[ -z "$(ss -Htln "sport = :$port")" ] && echo "$port" && return 0
	done
	fail "no free TCP port found"
}

# wait_exit PID: waits (up to ~2 min) until background job PID is gone and returns its status.
wait_exit() {
	local _
	for _ in $(seq 1200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "process $1 still runs after ~2 min"
	wait "$1"
}

@test "checkpoint --page-server: the memory goes to criu's page server, restore reads it from its images" {
	requires_criu
	local id spid port pspid
	id=$(new_id)
	run_counter "$id"
	spid=$SPID
	port=$(free_port)
	# Nothing listens there yet: criu fails, the container runs on.
	local pid
	pid=$(container_pid "$id")
	run husk checkpoint --page-server "127.0.0.1:$port" --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"$TESTDIR/work/dump.log"* ]] || fail "the error does not name criu's log: $output"
	fi
	rm -rf "$TESTDIR/img" "$TESTDIR/work"

	mkdir "$TESTDIR/ps"
	# criu's page server: it listens once -d returns, and exits after one dump.
	criu page-server -d --pidfile "$TESTDIR/ps.pid" -D "$TESTDIR/ps" --port "$port" -o ps.log -v4 </dev/null
	pspid=$(cat "$TESTDIR/ps.pid")
	track_pid "$pspid"
	checkpoint "$id" --page-server "127.0.0.1:$port"
	wait_gone "$pspid"
	# The pages are with the page server, not in the images.
	compgen -G "$TESTDIR/ps/pages-*.img" >/dev/null || fail "no pages at the page server: $(ls "$TESTDIR/ps")"
	! compgen -G "$TESTDIR/img/pages-*.img" >/dev/null || fail "pages in the images: $(ls "$TESTDIR/img")"
	cp -n "$TESTDIR"/ps/*.img "$TESTDIR/img/"
	drain_counter
	local before=$LAST
	restore "$id"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	[ "$SPID" = "$spid" ]
}

@test "checkpoint --lazy-pages --page-server --status-fd: a copy restored lazily, its memory fetched by criu's lazy-pages daemon" {
	requires_criu
	criu check --feature uffd-noncoop >/dev/null 2>&1 || skip "criu or the kernel cannot restore lazily (userfaultfd)"
	# The copy next to the original needs a cgroup of its own: runc 1.1 would restore it into
	# the original's but with --manage-cgroups-mode ignore, which it does not have.
	runc_1_1 && skip "runc 1.1 has no --manage-cgroups-mode ignore (runc 1.2 added it)"
	# runc's test: the dump waits with the memory in its page server until the copy has it all.
	local id id2 spid pid port
	id=$(new_id)
	run_counter "$id"
	spid=$SPID
	pid=$(container_pid "$id")
	port=$(free_port)
	mkdir "$TESTDIR/img"
	local ready_r ready_w
	make_pipe ready_r ready_w
	husk checkpoint --lazy-pages --page-server "0.0.0.0:$port" --status-fd "$ready_w" \
		--manage-cgroups-mode ignore --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id" \
		</dev/null >"$TESTDIR/checkpoint.out" 2>&1 &
	local ckpt=$!
	track_pid "$ckpt"
	exec {ready_w}>&-
	# \0 on the status fd once the page server listens (EOF if the checkpoint failed).
	local ready
	ready=$(timeout 120 head -c 1 <&"$ready_r" | od -An -tx1 | tr -d ' \n')
	exec {ready_r}<&-
	[ "$ready" = 00 ] || fail "no \\0 on --status-fd (got '$ready'): $(cat "$TESTDIR/checkpoint.out")"
	[ -s "$TESTDIR/img/inventory.img" ]
	# Nobody took the memory yet: the checkpoint waits.
	kill -0 "$ckpt" || fail "the checkpoint ended before the memory was fetched: $(cat "$TESTDIR/checkpoint.out")"

	criu lazy-pages --page-server --address 127.0.0.1 --port "$port" -D "$TESTDIR/img" -o lazy-pages.log -v4 \
		</dev/null >/dev/null 2>&1 &
	local lazy=$!
	track_pid "$lazy"
	wait_for_socket "$TESTDIR/img/lazy-pages.socket"
	drain_counter
	local before=$LAST
	# Under a new id (the original exists until the last page is gone), in the work directory
	# where the daemon listens.
	id2=$(new_id)
	piped restore -d --lazy-pages --manage-cgroups-mode ignore --image-path "$TESTDIR/img" \
		--work-path "$TESTDIR/img" "$id2" ||
		fail "criu's errors: $(grep -h Error "$TESTDIR/img/restore.log" "$TESTDIR/img/lazy-pages.log")"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	[ "$SPID" = "$spid" ]
	run -0 --separate-stderr husk exec "$id2" cat "/proc/$spid/cmdline"
	[[ "$output" == sleep* ]] || fail "pid $spid is not the sleep: $output"
	# Every page fetched: the daemon and the checkpoint end, and the original is gone.
	wait_exit "$lazy" || fail "criu lazy-pages failed: $(grep -h Error "$TESTDIR/img/lazy-pages.log")"
	wait_exit "$ckpt" || fail "the checkpoint failed: $(cat "$TESTDIR/checkpoint.out")"
	wait_gone "$pid"
	run husk state "$id"
	[ "$status" -ne 0 ] || fail "the original is left: $output"
	next_count
	[[ "$(cgroup_of "$(container_pid "$id2")")" == */"$id2" ]]
}

@test "--tcp-established: a TCP connection inside the container survives; without it criu refuses" {
	requires_criu
	# The container joins a network namespace made here (as engines give one), with lo up.
	make_netns "$TESTDIR/netns"
	mkdir "$TESTDIR/out"
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "'"$TESTDIR/netns"'"
		| .mounts += [{destination: "/out", type: "bind", source: "'"$TESTDIR/out"'", options: ["rbind", "rw"]}]'
	# A server and a client counting into the connection; the client retries until the server
	# listens (a refused client starts over from 0).
	# (The server's stdin stays open: busybox nc ends the connection at the end of its stdin.)
	set_args sh -c 'sleep 100000 | nc -l -p 5000 >/out/got & while :; do
		i=0; while :; do echo $i; i=$((i+1)); sleep 0.2; done | nc 127.0.0.1 5000; sleep 0.1; done'
	setup_pipes
	local id pid
	id=$(new_id)
	piped run -d --bundle "$BUNDLE" "$id"
	pid=$(container_pid "$id")
	local _
	for _ in $(seq 600); do [ "$(wc -l <"$TESTDIR/out/got")" -ge 3 ] && break; sleep 0.1; done
	[ "$(wc -l <"$TESTDIR/out/got")" -ge 3 ] || fail "nothing came through the connection"

	run husk checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	# The failure leaves the container running, and points at criu's log.
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	[[ "$output" == *"$TESTDIR/work/dump.log"* ]] || fail "the error does not name criu's log: $output"
	grep -q "tcp-established" "$TESTDIR/work/dump.log" || fail "criu failed otherwise: $(grep Error "$TESTDIR/work/dump.log")"

	checkpoint "$id" --tcp-established
	local lines
	lines=$(wc -l <"$TESTDIR/out/got")
	# Restored into a new network namespace, as engines set one up again for a restored
	# container. (criu 3.17 leaves the lock it puts on the namespace at dump in place for the
	# restore, locks it again there and then fails to unlock it with iptables-nft: in the old
	# namespace the connection would stay blocked, with runc as with husk.)
	umount "$TESTDIR/netns"
	make_netns "$TESTDIR/netns2"
	update_config '(.linux.namespaces[] | select(.type == "network")) .path = "'"$TESTDIR/netns2"'"'
	restore "$id" --tcp-established
	for _ in $(seq 600); do [ "$(wc -l <"$TESTDIR/out/got")" -ge $((lines + 3)) ] && break; sleep 0.1; done
	# The same connection: the numbers run on from where they were, never from 0 again.
	# (Compared on a copy: the file grows meanwhile.)
	cp "$TESTDIR/out/got" "$TESTDIR/got"
	[ "$(wc -l <"$TESTDIR/got")" -ge $((lines + 3)) ] ||
		fail "nothing came through after restore: $(tr '\n' ' ' <"$TESTDIR/got");" \
			"$(grep -h Error "$TESTDIR/rwork/restore.log");" "$(husk exec "$id" sh -c 'ps; netstat -tn' 2>&1)"
	seq 0 $(($(wc -l <"$TESTDIR/got") - 1)) | cmp - "$TESTDIR/got" ||
		fail "not one unbroken count: $(tr '\n' ' ' <"$TESTDIR/got")"
}

@test "--ext-unix-sk: a datagram socket to a peer outside is connected again; without it criu refuses" {
	requires_criu
	command -v perl >/dev/null || skip "test requires perl"
	# The container's stdout is a datagram socket connected to a socket of this test, bound at
	# the same path inside the container (where criu connects it again on restore).
	# The container stays in this network namespace: criu finds a socket's peer only among the
	# sockets of the dumped processes' namespace.
	mkdir "$TESTDIR/sk"
	update_config '.mounts += [{destination: "'"$TESTDIR/sk"'", type: "bind", source: "'"$TESTDIR/sk"'", options: ["rbind", "rw"]}]
		| .linux.namespaces |= map(select(.type != "network"))'
	set_args sh -c "$COUNTER"
	local id
	id=$(new_id)
	echo "$id" >>"$TESTDIR/ids"
	perl -MSocket -e '
		my ($path, $log, $rc, @cmd) = @ARGV;
		socket(my $srv, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		bind($srv, pack_sockaddr_un($path)) or die "bind $path: $!";
		socket(my $cli, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!";
		connect($cli, pack_sockaddr_un($path)) or die "connect: $!";
		my $pid = fork // die "fork: $!";
		if (!$pid) {
			open(STDIN, "<", "/dev/null"); open(STDOUT, ">&", $cli); open(STDERR, ">&", $cli);
			exec @cmd or die "exec: $!";
		}
		waitpid($pid, 0);
		close $cli;
		open(my $r, ">", $rc) or die; print $r ($? >> 8), "\n"; close $r;
		open(my $o, ">>", $log) or die; $o->autoflush(1);
		while (defined recv($srv, my $buf, 4096, 0)) { print $o $buf; }
	' "$TESTDIR/sk/host.sock" "$TESTDIR/sk/log" "$TESTDIR/sk/rc" "$HUSK" --root "$ROOT" run -d --bundle "$BUNDLE" "$id" &
	track_pid $!
	wait_for_file "$TESTDIR/sk/rc"
	[ "$(cat "$TESTDIR/sk/rc")" = 0 ] || fail "run failed: $(cat "$TESTDIR/sk/log" 2>/dev/null)"
	# The counter's lines ("N PID"); the runtime's warnings (runc 1.5.3) come through the socket too.
	sk_counts() { grep -E '^[0-9]+ [0-9]+$' "$TESTDIR/sk/log" | cut -d' ' -f1; }
	local _
	for _ in $(seq 600); do [ "$(sk_counts | wc -l)" -ge 3 ] && break; sleep 0.1; done

	run husk checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	[ "$(container_status "$id")" = running ]
	grep -q "ext-unix-sk" "$TESTDIR/work/dump.log" || fail "criu failed otherwise: $(grep Error "$TESTDIR/work/dump.log")"

	checkpoint "$id" --ext-unix-sk
	local lines
	lines=$(sk_counts | wc -l)
	run -0 husk restore -d --ext-unix-sk --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" </dev/null
	for _ in $(seq 600); do [ "$(sk_counts | wc -l)" -ge $((lines + 3)) ] && break; sleep 0.1; done
	# (Compared on a copy: the log grows meanwhile.)
	sk_counts >"$TESTDIR/counts"
	[ "$(wc -l <"$TESTDIR/counts")" -ge $((lines + 3)) ] || fail "nothing came through after restore"
	seq 0 $(($(wc -l <"$TESTDIR/counts") - 1)) | cmp - "$TESTDIR/counts" ||
		fail "not one unbroken count: $(tr '\n' ' ' <"$TESTDIR/counts")"
}

@test "--file-locks: a held lock is held again after restore; without it criu refuses" {
	requires_criu
	mkdir "$TESTDIR/locks"
	: >"$TESTDIR/locks/f"
	# busybox has no flock: the host's (util-linux) runs in the container from the host's /usr.
	ln -s host-usr/lib "$BUNDLE/rootfs/lib"
	ln -s host-usr/lib64 "$BUNDLE/rootfs/lib64"
	update_config '.mounts += [{destination: "/locks", type: "bind", source: "'"$TESTDIR/locks"'", options: ["rbind", "rw"]},
		{destination: "/host-usr", type: "bind", source: "/usr", options: ["rbind", "ro"]}]'
	set_args /host-usr/bin/flock /locks/f sh -c 'echo locked; while :; do sleep 1; done'
	setup_pipes
	local id pid line
	id=$(new_id)
	piped run -d --bundle "$BUNDLE" "$id"
	read -r -t 60 -u "$out_r" line && [ "$line" = locked ]
	pid=$(container_pid "$id")
	run ! flock -n "$TESTDIR/locks/f" true

	run husk checkpoint --image-path "$TESTDIR/img" --work-path "$TESTDIR/work" "$id"
	[ "$status" -ne 0 ]
	[ "$(container_status "$id")" = running ]
	[ "$(container_pid "$id")" = "$pid" ]
	grep -q "file-locks" "$TESTDIR/work/dump.log" || fail "criu failed otherwise: $(grep Error "$TESTDIR/work/dump.log")"
	run ! flock -n "$TESTDIR/locks/f" true

	checkpoint "$id" --file-locks
	# Nobody holds it while the container is on disk.
	run -0 flock -n "$TESTDIR/locks/f" true
	restore "$id" --file-locks
	run ! flock -n "$TESTDIR/locks/f" true
	run -0 --separate-stderr husk exec "$id" true
}

@test "restore runs the createRuntime hooks with the restored pid; checkpoint's delete the poststop ones" {
	requires_criu
	update_config '.hooks = {
		createRuntime: [{path: "/bin/sh", args: ["sh", "-c", "cat >>'"$TESTDIR"'/hooks; echo >>'"$TESTDIR"'/hooks"]}],
		poststop: [{path: "/bin/sh", args: ["sh", "-c", "echo poststop >>'"$TESTDIR"'/hooks"]}]}'
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	grep -qx poststop "$TESTDIR/hooks"
	: >"$TESTDIR/hooks"
	restore "$id"
	local pid
	pid=$(container_pid "$id")
	[ "$(head -n 1 "$TESTDIR/hooks" | jq -r '.id + " " + (.pid | tostring)')" = "$id $pid" ] ||
		fail "the hook saw $(cat "$TESTDIR/hooks"), the restored init is $pid"
}

@test "husk: a restore in progress reads as creating, and delete --force ends it leaving nothing" {
	husk_only "checks husk's state of a restore still running (creating) and its delete --force of it"
	requires_criu
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	# The restore stops in its createRuntime hook, with criu waiting for it.
	update_config '.hooks = {createRuntime: [{path: "/bin/sh", args: ["sh", "-c",
		"cat >/dev/null; echo $$ >'"$TESTDIR"'/hook.pid; exec sleep 1000"]}]}'
	husk restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" \
		<&"$in_r" >&"$out_w" 2>&"$err_w" &
	local restorer=$!
	track_pid "$restorer"
	local _
	for _ in $(seq 600); do [ -s "$TESTDIR/hook.pid" ] && break; sleep 0.1; done
	[ -s "$TESTDIR/hook.pid" ] || fail "the restore never reached its hook"
	track_pid "$(cat "$TESTDIR/hook.pid")"
	[ "$(container_status "$id")" = creating ]
	# The restored processes wait in the container's cgroup.
	[ -n "$(leftover_cgroups)" ]
	run -0 husk delete --force "$id"
	local rc=0
	wait "$restorer" || rc=$?
	[ "$rc" -ne 0 ] || fail "the restore succeeded after its container was deleted"
	kill "$(cat "$TESTDIR/hook.pid")"
	assert_nothing_left
}

@test "a failed restore leaves nothing behind and its error names criu's log" {
	requires_criu
	mkdir "$TESTDIR/shared"
	update_config '.mounts += [{destination: "/data", type: "bind", source: "'"$TESTDIR/shared"'", options: ["rbind", "rw"]}]'
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	# The bundle's config no longer has the bind mount the images need.
	update_config '.mounts |= map(select(.destination != "/data"))'
	run husk restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" <&"$in_r"
	[ "$status" -ne 0 ]
	assert_nothing_left
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"$TESTDIR/rwork/restore.log"* ]] || fail "the error does not name criu's log: $output"
	fi
}

@test "NOTIFY_SOCKET: a container made under it is checkpointed; restored under it, its /run/notify is the new container's and nothing is relayed" {
	requires_criu
	start_notify_listener
	set_args sh -c "$COUNTER"
	setup_pipes
	local id id2
	id=$(new_id)
	NOTIFY_SOCKET=$TESTDIR/notify.sock piped create --bundle "$BUNDLE" "$id"
	# start relays the container's messages until READY=1, sent here to the socket it listens on.
	NOTIFY_SOCKET=$TESTDIR/notify.sock husk start "$id" >"$TESTDIR/start.out" 2>&1 &
	local starter=$!
	track_pid "$starter"
	wait_for_socket "$ROOT/$id/notify/notify.sock"
	send_notify "$ROOT/$id/notify/notify.sock" READY=1
	wait "$starter" || fail "start failed: $(cat "$TESTDIR/start.out")"
	grep -q '^READY=1' "$TESTDIR/notify.log" || fail "READY=1 was not relayed: $(cat "$TESTDIR/notify.log")"
	LAST=
	next_count
	next_count
	# The bind of the socket's directory is named to criu (husk could not dump it before).
	checkpoint "$id"
	drain_counter
	local before=$LAST
	# Without NOTIFY_SOCKET the restore has no directory to bind there: criu fails, as with runc.
	id2=$(new_id)
	run ! husk restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork-none" "$id2" <&"$in_r"
	assert_nothing_left
	: >"$TESTDIR/notify.log"
	NOTIFY_SOCKET=$TESTDIR/notify.sock restore "$id2"
	next_count
	[ "$COUNT" = $((before + 1)) ]
	echo probe >"$ROOT/$id2/notify/probe"
	run -0 --separate-stderr husk exec "$id2" cat /run/notify/probe
	[ "$output" = probe ] || fail "/run/notify is not $ROOT/$id2/notify: $output"
	# The restored init has the environment it had; an exec'd process gets none of it (runc's
	# exec reads the bundle's config).
	run -0 --separate-stderr husk exec "$id2" sh -c 'tr "\0" "\n" </proc/1/environ | grep ^NOTIFY_SOCKET=; echo "${NOTIFY_SOCKET-unset}"'
	[ "$output" = "NOTIFY_SOCKET=/run/notify/notify.sock
unset" ] || fail "$output"
	# A restored container has told its readiness before the checkpoint: restore returned
	# without waiting for READY=1, listens on no socket and relayed nothing (no MAINPID either).
	[ ! -e "$ROOT/$id2/notify/notify.sock" ]
	[ ! -s "$TESTDIR/notify.log" ] || fail "relayed: $(cat "$TESTDIR/notify.log")"
}

# ro_cgroupfs CMD...: runs CMD in a mount namespace of its own where the cgroup file system is
# read-only (for that namespace only): no cgroup can be made there.
ro_cgroupfs() {
	unshare -m --propagation private sh -c 'mount -o remount,bind,ro /sys/fs/cgroup && exec "$@"' sh "$@"
}

@test "--rootless=true: with no permission to make the cgroup, restore decides as create and refuses, as runc; nothing left" {
	requires_criu
	runc_1_1 && skip "runc 1.1 gives criu no cgroup root on cgroup v2 (it restores into the images' cgroup)"
	local id
	id=$(new_id)
	run_counter "$id"
	checkpoint "$id"
	# create runs a rootless container without a cgroup in the runtime's own; criu would restore
	# the processes there, and set the limits of the images there (--manage-cgroups-mode full).
	run ! ro_cgroupfs "$HUSK" --root "$ROOT" --rootless=true restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" <&"$in_r"
	# runc: "cgroup manager can not access cgroup (rootless container)".
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"--rootless: no permission to create the container's cgroup, and restore needs one"* ]] ||
		fail "$output"
	assert_nothing_left
	# A cgroupsPath is refused by name, as create refuses it.
	update_config '.linux.cgroupsPath = "/'"$id"'"'
	run ! ro_cgroupfs "$HUSK" --root "$ROOT" --rootless=true restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" <&"$in_r"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"linux.cgroupsPath \"/$id\": rootless, and no permission to create it"* ]] || fail "$output"
	assert_nothing_left
	# Not rootless: the cgroup that cannot be made is an error too, once criu runs.
	run ! ro_cgroupfs "$HUSK" --root "$ROOT" --rootless=false restore -d --image-path "$TESTDIR/img" --work-path "$TESTDIR/rwork" "$id" <&"$in_r"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"put criu"*"read-only file system"* ]] || fail "$output"
	assert_nothing_left
	# Where the cgroup can be made, --rootless=true restores into it.
	update_config 'del(.linux.cgroupsPath)'
	HUSK_GLOBAL_OPTS="$HUSK_GLOBAL_OPTS --rootless=true" restore "$id"
	[[ "$(cgroup_of "$(container_pid "$id")")" == */"$id" ]] || fail "restored into $(cgroup_of "$(container_pid "$id")")"
}

# pm runs podman with its state, storage and configuration under $TESTDIR/podman and the
# runtime under test behind a wrapper named like it (podman picks its flags by the name), which
# keeps the runtime's state there too (podman's cleanup process drops --runtime-flag).
pm() {
	local P=$TESTDIR/podman
	CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf TMPDIR=$P/tmp timeout 300 podman \
		--root "$P/root" --runroot "$P/runroot" --runtime "$P/wrap/$HUSK_NAME" \
		--cgroup-manager cgroupfs --events-backend file "$@"
}

setup_podman() {
	local P=$TESTDIR/podman
	mkdir -p "$P/wrap" "$P/tmp"
	printf '#!/bin/sh\ncase " $* " in *" --root "*|*" --root="*) exec %q "$@";; esac\nexec %q --root %q "$@"\n' \
		"$HUSK" "$HUSK" "$P/rt" >"$P/wrap/$HUSK_NAME"
	chmod 755 "$P/wrap/$HUSK_NAME"
	(
		# shellcheck source=../clients/podman-scenarios.sh
		. "$REPO_ROOT/tests/clients/podman-scenarios.sh"
		podman_write_configs "$P/runroot"
	)
}

teardown() {
	if [ -d "${TESTDIR:-}/podman" ]; then
		pm rm -f -t 0 -a >/dev/null 2>&1
		pm rmi -a -f >/dev/null 2>&1
		# podman leaves its --cgroup-parent (named after the test's id) and a conmon cgroup.
		local cg
		for cg in $(leftover_cgroups); do
			rmdir "$cg/conmon" "$cg" 2>/dev/null
		done
		umount -R "$TESTDIR/podman/root/overlay" 2>/dev/null
		rm -rf "$TESTDIR/podman"
	fi
	teardown_husk
}

@test "podman container checkpoint and restore with this runtime" {
	requires_criu
	command -v podman >/dev/null && command -v conmon >/dev/null || skip "test requires podman and conmon"
	setup_podman
	local name _ count
	name=$(new_id)
	tar -C "$BUNDLE/rootfs" -cf "$TESTDIR/rootfs.tar" .
	run pm import "$TESTDIR/rootfs.tar" "localhost/$name:latest"
	[ "$status" -eq 0 ] || fail "podman import: $output"
	run -0 pm run -d --name "$name" --network none --cgroup-parent "/$name" "localhost/$name:latest" \
		sh -c 'i=0; while :; do echo $i >/tmp/count; i=$((i+1)); sleep 0.2; done'
	for _ in $(seq 300); do
		run pm exec "$name" cat /tmp/count
		[ "$status" -eq 0 ] && [ "${output:-0}" -ge 10 ] && break
		sleep 0.2
	done
	run pm container checkpoint "$name"
	[ "$status" -eq 0 ] || fail "podman container checkpoint: $output"
	[ "$(pm inspect -f '{{.State.Status}}' "$name")" = exited ]
	count=$(cat "$(pm inspect -f '{{.GraphDriver.Data.UpperDir}}' "$name")/tmp/count")
	[ "$count" -ge 10 ]
	run pm container restore "$name"
	[ "$status" -eq 0 ] || fail "podman container restore: $output"
	[ "$(pm inspect -f '{{.State.Status}}' "$name")" = running ]
	# Restored, not started again: on from the count it had.
	run -0 pm exec "$name" cat /tmp/count
	[ "$output" -ge "$count" ] || fail "the counter restarted: $output after $count"
	for _ in $(seq 300); do
		run -0 pm exec "$name" cat /tmp/count
		[ "$output" -gt "$count" ] && break
		sleep 0.2
	done
	[ "$output" -gt "$count" ] || fail "the counter did not go on after restore ($count, $output)"
	run -0 pm rm -f -t 0 "$name"
}
