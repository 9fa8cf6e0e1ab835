#!/usr/bin/env bats
# Security regressions, paths in the rootfs: symlinks planted in the rootfs
# (what a racing second container would swap in, planted here beforehand so
# the attack is deterministic) must not send mounts, directories, device nodes
# or writes out of the container (CVE-2019-16884, CVE-2019-19921,
# CVE-2021-30465, CVE-2023-27561, CVE-2023-28642, CVE-2024-45310,
# CVE-2025-31133, CVE-2025-52565, CVE-2025-52881, CVE-2026-41579).
#
# Symlinks point at absolute host paths under $TESTDIR: a runtime that follows
# one on the host side damages only the test's temp dir, where it is seen.

load security_helpers

# host_target makes an empty host directory $TESTDIR/$1 an attack aims at.
host_target() {
	mkdir -p "$TESTDIR/$1"
	echo "$TESTDIR/$1"
}

# assert_empty_dir fails when host directory $1 got anything.
assert_empty_dir() {
	[ -z "$(ls -A "$1")" ] || fail "the runtime wrote to host directory $1: $(ls -lA "$1")"
}

# --- /proc and /sys must be real directories -------------------------------

@test "CVE-2019-19921: a rootfs whose /proc is a symlink gets no proc there" {
	# Defence: /proc must be a real directory of the rootfs; proc is never
	# mounted where a symlink points (the fake attr/ files behind it would
	# take the LSM label writes).
	mkdir -p "$BUNDLE/rootfs/fakeproc/self/attr"
	rm -rf "$BUNDLE/rootfs/proc"
	ln -s /fakeproc "$BUNDLE/rootfs/proc"
	run run_sh 'test -L /proc && echo PROC-IS-LINK; stat -f -c %t /proc/; grep " /fakeproc " /proc/self/mountinfo && echo PROC-ON-TARGET; true'
	echo "$output"
	[ "$status" -ne 0 ] || { [[ "$output" != *PROC-IS-LINK* ]] && [[ "$output" != *PROC-ON-TARGET* ]] && [ "${lines[0]}" = 9fa0 ]; }
}

@test "CVE-2023-27561/CVE-2023-28642: /proc symlinked into a volume gets no proc there" {
	# Defence: the same when the symlink leads into a bind-mounted volume
	# that another container controls (the regression of CVE-2019-19921).
	local vol
	vol=$(host_target vol)
	mkdir -p "$vol/p"
	add_bind "$vol" /mnt/vol
	rm -rf "$BUNDLE/rootfs/proc"
	ln -s /mnt/vol/p "$BUNDLE/rootfs/proc"
	run run_sh 'test -L /proc && echo PROC-IS-LINK; stat -f -c %t /proc/; grep " /mnt/vol/p " /proc/self/mountinfo && echo PROC-ON-TARGET; true'
	echo "$output"
	[ "$status" -ne 0 ] || { [[ "$output" != *PROC-IS-LINK* ]] && [[ "$output" != *PROC-ON-TARGET* ]] && [ "${lines[0]}" = 9fa0 ]; }
	assert_empty_dir "$vol/p"
}

@test "a rootfs whose /sys is a symlink to a host dir gets no sysfs there" {
	# Defence: /sys must be a real directory too; sysfs is never mounted
	# through a symlink, nor on the host path it names.
	local target
	target=$(host_target hostsys)
	rm -rf "$BUNDLE/rootfs/sys"
	ln -s "$target" "$BUNDLE/rootfs/sys"
	run run_sh 'test -L /sys && echo SYS-IS-LINK; stat -f -c %t /sys/; true'
	echo "$output"
	[ "$status" -ne 0 ] || { [[ "$output" != *SYS-IS-LINK* ]] && [ "${lines[0]}" = 62656572 ]; }
	assert_empty_dir "$target"
}

@test "CVE-2019-16884: a tmpfs on /proc is refused" {
	# Defence: nothing but proc may be mounted on /proc.
	update_config '(.mounts[] | select(.destination == "/proc")) |= {destination: "/proc", type: "tmpfs", source: "tmpfs"}'
	run ! run_sh 'true'
	assert_nothing_left
}

@test "CVE-2019-16884: a bind mount of a host dir on /proc is refused" {
	# Defence: the same for a bind: a fake /proc/self/attr/* there would take
	# the AppArmor/SELinux label the runtime writes.
	local fake
	fake=$(host_target fakeproc)
	mkdir -p "$fake/self/attr"
	update_config "(.mounts[] | select(.destination == \"/proc\")) |= {destination: \"/proc\", type: \"bind\", source: \"$fake\", options: [\"rbind\"]}"
	run ! run_sh 'true'
	assert_nothing_left
	[ -z "$(find "$fake" -type f)" ] || fail "the runtime wrote into the fake /proc: $(find "$fake" -type f)"
}

# assert_refused_inside_proc checks $status/$output of a run refused for a mount inside /proc:
# runc says "cannot be mounted because it is inside /proc"; husk also names the mount.
assert_refused_inside_proc() {
	[ "$status" -ne 0 ] || fail "the container started"
	[[ "$output" == *"inside /proc"* ]] || fail "not refused as a mount inside /proc: $output"
	[ "$HUSK_NAME" != husk ] || [[ "$output" == *"mounts[$1]"* ]] || fail "the error does not name mounts[$1]: $output"
}

@test "CVE-2019-16884: a tmpfs inside /proc (/proc/self/attr) is refused" {
	# Defence: inside /proc only the files lxcfs serves may be covered; a tmpfs
	# on attr/ would take the LSM labels the runtime writes.
	update_config '.mounts += [{destination: "/proc/self/attr", type: "tmpfs", source: "tmpfs"}]'
	run run_sh 'grep -c " /proc/[^ ]*/attr " /proc/self/mountinfo'
	echo "$output"
	assert_refused_inside_proc 7
	assert_nothing_left
}

@test "CVE-2019-16884: a bind of a host dir inside /proc (/proc/sys/kernel) is refused" {
	# Defence: the same for a bind: a host directory over /proc/sys/kernel
	# would take the sysctl writes meant for the kernel.
	local fake
	fake=$(host_target fakekernel)
	add_bind "$fake" /proc/sys/kernel
	run run_sh 'grep " /proc/sys/kernel " /proc/self/mountinfo'
	echo "$output"
	assert_refused_inside_proc 7
	assert_nothing_left
	assert_empty_dir "$fake"
}

@test "CVE-2019-16884: a rootfs symlink cannot carry a mount into /proc" {
	# Defence: the destination is checked where it resolves in the rootfs:
	# /evil -> /proc/sys put a tmpfs over the container's /proc/sys.
	ln -s /proc/sys "$BUNDLE/rootfs/evil"
	update_config '.mounts += [{destination: "/evil", type: "tmpfs", source: "tmpfs"}]'
	run run_sh 'grep " /proc/sys " /proc/self/mountinfo'
	echo "$output"
	assert_refused_inside_proc 7
	assert_nothing_left
}

@test "CVE-2019-16884: a mount through a rootfs symlink into /proc creates nothing there" {
	# Defence: the resolved destination is checked before the mountpoint is
	# made: listed before /proc, /evil -> /proc/self/attr must not leave
	# proc/self/attr made in the rootfs (under where proc is mounted next).
	ln -s /proc/self/attr "$BUNDLE/rootfs/evil"
	update_config '.mounts = [{destination: "/evil", type: "tmpfs", source: "tmpfs"}] + .mounts'
	run run_sh 'true'
	echo "$output"
	assert_refused_inside_proc 0
	assert_nothing_left
	# runc 1.5.3 refuses it only once it has made proc/self/attr in the rootfs.
	[ "$HUSK_NAME" != husk ] || [ -z "$(ls -A "$BUNDLE/rootfs/proc")" ] ||
		fail "made in the rootfs' /proc: $(find "$BUNDLE/rootfs/proc")"
}

@test "CVE-2019-16884: what runc allows in /proc still mounts: the lxcfs files, a procfs on /proc" {
	# The files lxcfs serves (and ns_last_pid) may be covered by a file bind;
	# /proc may get a bind of a procfs (here the host's /proc) instead of a
	# fresh one.
	local f n script=""
	for f in cpuinfo diskstats meminfo stat swaps uptime loadavg slabinfo sys/kernel/ns_last_pid; do
		n=${f//\//_}
		echo "FAKE-$n" >"$TESTDIR/$n"
		update_config ".mounts += [{source: \"$TESTDIR/$n\", destination: \"/proc/$f\", type: \"bind\", options: [\"bind\"]}]"
		script+="head -n1 /proc/$f; "
	done
	run -0 run_sh "$script"
	# (grep: runc prints warnings on the same stream)
	[ "$(echo "$output" | grep '^FAKE-')" = "$(printf 'FAKE-%s\n' cpuinfo diskstats meminfo stat swaps uptime loadavg slabinfo sys_kernel_ns_last_pid)" ]
	update_config '(.mounts[] | select(.destination == "/proc")) |= {destination: "/proc", type: "bind", source: "/proc", options: ["rbind"]}'
	run -0 run_sh 'stat -f -c %t /proc'
	[ "${lines[-1]}" = 9fa0 ]
}

# --- mount destinations through symlinks -----------------------------------

@test "CVE-2021-30465: a mount destination that is an absolute symlink to the host stays in the rootfs" {
	# Defence: destinations are resolved inside the rootfs (RESOLVE_IN_ROOT /
	# securejoin) and mounted through an fd, so the symlink leads to
	# <rootfs>/<target>, never to the host path.
	local target src
	target=$(host_target hostdir)
	src=$(host_target src)
	echo from-src >"$src/marker"
	ln -s "$target" "$BUNDLE/rootfs/mnt/evil"
	add_bind "$src" /mnt/evil
	run run_sh "cat /mnt/evil/marker; cat '$target/marker'"
	echo "$output"
	assert_empty_dir "$target"
	# Refusing the symlink is as good as resolving it inside.
	[ "$status" -ne 0 ] || [ "$output" = "from-src
from-src" ]
}

@test "CVE-2021-30465: a mount destination that is a relative symlink climbing out stays in the rootfs" {
	# Defence: the same with ../ past the root, the form the race swapped in.
	local target
	target=$(host_target hostdir)
	ln -s "../../../../../../../../..$target" "$BUNDLE/rootfs/mnt/evil"
	update_config '.mounts += [{destination: "/mnt/evil", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run run_sh "stat -f -c %t /mnt/evil/; grep -c ' $target ' /proc/self/mountinfo"
	echo "$output"
	assert_empty_dir "$target"
	# tmpfs magic is 1021994: the mount is where the container sees the link.
	[ "$status" -ne 0 ] || [ "${lines[0]}" = 1021994 ]
}

@test "CVE-2024-45310: a mount destination under a symlink creates no directory on the host" {
	# Defence: missing parents of a destination are made inside the rootfs
	# (mkdirat under a root fd), never by MkdirAll through a symlink.
	local target
	target="$TESTDIR/hostmk"
	ln -s "$target" "$BUNDLE/rootfs/mnt/link"
	update_config '.root.readonly = false
		| .mounts += [{destination: "/mnt/link/sub/dir", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run run_sh 'true'
	echo "$output"
	[ ! -e "$target" ] || fail "the runtime created $target on the host: $(find "$target")"
}

@test "CVE-2024-45310: a file bind mount under a symlink creates no file on the host" {
	# Defence: the same for the empty file a file bind mount needs.
	local target src
	target="$TESTDIR/hostfile"
	src="$TESTDIR/srcfile"
	echo from-src >"$src"
	ln -s "$target" "$BUNDLE/rootfs/etc/evil"
	update_config '.root.readonly = false'
	add_bind "$src" /etc/evil
	run run_sh 'cat /etc/evil'
	echo "$output"
	[ ! -e "$target" ] || fail "the runtime created $target on the host"
}

# --- /dev -------------------------------------------------------------------

@test "CVE-2026-41579: a rootfs /dev symlinked to a host dir cannot make device nodes appear there" {
	# Defence: device nodes are created under a verified /dev of the rootfs
	# (resolved in root, by fd); a /dev that is a symlink out of the rootfs
	# sends no mknod or bind mount to the host. The rootfs ships /dev as a
	# symlink to a host directory and the config mounts no tmpfs there, so
	# the runtime itself creates the default devices and linux.devices.
	local target
	target=$(host_target hostdev)
	rm -rf "$BUNDLE/rootfs/dev"
	ln -s "$target" "$BUNDLE/rootfs/dev"
	drop_mount /dev
	update_config '.root.readonly = false
		| .linux.devices = [{path: "/dev/husk-sda", type: "b", major: 8, minor: 0, fileMode: 438}]'
	run run_sh 'ls /dev'
	echo "$output"
	assert_empty_dir "$target"
}

@test "CVE-2026-41579: a /dev symlink climbing out of the rootfs gets its tmpfs inside" {
	# Defence: the same with the default /dev tmpfs: the mount and the
	# device nodes land where the container sees /dev, never on the host.
	local target
	target=$(host_target hostdev)
	rm -rf "$BUNDLE/rootfs/dev"
	ln -s "../../../../../../../..$target" "$BUNDLE/rootfs/dev"
	update_config '.root.readonly = false'
	run run_sh 'stat -c "%t %T" /dev/null'
	echo "$output"
	assert_empty_dir "$target"
	[ "$status" -ne 0 ] || [ "$output" = "1 3" ]
}

# MASK_PROBE reads a masked path and says what it is, into /out/mask (a
# runtime that reopens the fake /dev/null as the container's stdin must not
# blind the test).
MASK_PROBE='exec >/out/mask 2>&1 </dev/zero; head -c 100 /proc/timer_list; stat -c "%F %t %T" /proc/timer_list'

# check_mask_probe fails when the masked path was not the real /dev/null.
check_mask_probe() {
	local mask
	# No file when the runtime refused to start the container.
	mask=$(cat "$OUT/mask" 2>/dev/null || true)
	echo "status $status: $output; in the container: $mask"
	[[ "$mask" != *FAKE-NULL* ]] || fail "masked with the rootfs' fake /dev/null"
	# Refusing the fake is as good as replacing it.
	[ "$status" -ne 0 ] || [ "$mask" = "character special file 1 3" ] || fail "masked path: $mask"
}

@test "CVE-2025-31133: maskedPaths use a real /dev/null when the rootfs ships a regular file" {
	# Defence: masking binds a verified /dev/null (char 1:3), not whatever
	# the rootfs calls /dev/null; here a regular file with a marker.
	drop_mount /dev
	out_dir
	update_config '.root.readonly = false'
	echo FAKE-NULL >"$BUNDLE/rootfs/dev/null"
	run run_sh "$MASK_PROBE"
	check_mask_probe
}

@test "CVE-2025-31133: maskedPaths use a real /dev/null when the rootfs' /dev/null is a symlink" {
	# Defence: the same when /dev/null is a symlink to another file (in the
	# attack, a procfs file that the mask would then expose read-write).
	drop_mount /dev
	out_dir
	update_config '.root.readonly = false'
	echo FAKE-NULL >"$BUNDLE/rootfs/fake-null"
	ln -s /fake-null "$BUNDLE/rootfs/dev/null"
	run run_sh "$MASK_PROBE"
	check_mask_probe
}

# --- console ----------------------------------------------------------------

# run_tty runs the container detached with terminal: true, its pty received
# by sectty; what the container prints is in $TESTDIR/tty.out when it returns.
run_tty() {
	local sectty sock id tty_pid
	sectty=$(sec_tool sectty) || return 1
	sock="$TESTDIR/console.sock"
	"$sectty" "$sock" "$TESTDIR/tty.out" </dev/null >"$TESTDIR/sectty.log" 2>&1 &
	tty_pid=$!
	track_pid "$tty_pid"
	wait_for_file "$sock.ready"
	update_config '.process.terminal = true'
	id=$(new_id)
	husk_bg run -d --console-socket "$sock" --bundle "$BUNDLE" "$id" || return
	wait_for_status "$id" stopped
	wait_gone "$tty_pid"
}

@test "CVE-2025-52565: a /dev/console planted as a symlink does not redirect the console mount" {
	# Defence: the pty is bound onto /dev/console through a verified fd of a
	# file the runtime made itself, never onto where a planted symlink
	# points (in the attack, a procfs file escaping maskedPaths).
	drop_mount /dev
	update_config '.root.readonly = false'
	echo victim >"$BUNDLE/rootfs/victim"
	ln -s /victim "$BUNDLE/rootfs/dev/console"
	# Nothing here reads /victim: were it the pty, the read would block.
	set_args sh -c 'grep -c " /victim " /proc/self/mountinfo; stat -c "%F %t" /victim'
	run run_tty
	echo "$output; tty: $(cat "$TESTDIR/tty.out" 2>/dev/null)"
	[ "$(cat "$BUNDLE/rootfs/victim")" = victim ] || fail "the symlink target was truncated or replaced: $(cat "$BUNDLE/rootfs/victim")"
	if [ "$status" -eq 0 ]; then
		local out
		out=$(tr -d '\r' <"$TESTDIR/tty.out")
		[ "$out" = "0
regular file 0" ] || fail "the console went where /dev/console pointed: $out"
	fi
}

@test "CVE-2025-52565: a /dev/ptmx planted as a symlink gives no fake pty" {
	# Defence: the pty comes from the container's own devpts, opened
	# through a verified handle, not from whatever /dev/ptmx points to.
	drop_mount /dev
	update_config '.root.readonly = false'
	echo fake >"$BUNDLE/rootfs/fakeptmx"
	ln -s /fakeptmx "$BUNDLE/rootfs/dev/ptmx"
	set_args sh -c 'tty; stat -f -c %t "$(tty)"'
	run run_tty
	echo "$output; tty: $(cat "$TESTDIR/tty.out" 2>/dev/null)"
	[ "$(cat "$BUNDLE/rootfs/fakeptmx")" = fake ] || fail "the runtime wrote to the fake ptmx"
	if [ "$status" -eq 0 ]; then
		local out
		out=$(tr -d '\r' <"$TESTDIR/tty.out")
		# devpts magic is 1cd1.
		[[ "$out" == /dev/pts/*"
1cd1" ]] || fail "console: $out"
	fi
}

# --- writes under /proc -----------------------------------------------------

# create_msgmax creates a container that sets kernel.msgmax (an ipc namespace
# sysctl) to 12345; on success it prints the value the kernel has for the
# container's ipc namespace, read on the host from inside that namespace.
create_msgmax() {
	update_config '.linux.sysctl = {"kernel.msgmax": "12345"}'
	set_args true
	local id
	id=$(new_id)
	husk_bg create --bundle "$BUNDLE" "$id" || return
	nsenter --target "$(container_pid "$id")" --ipc cat /proc/sys/kernel/msgmax
}

@test "CVE-2025-52881: a bind over /proc/sys does not redirect sysctl writes" {
	# Defence: sysctls are written through a verified procfs handle (or a
	# mount over /proc/sys is refused), so they cannot land in the file a
	# config or a racing container put there: here a host file.
	local fake
	fake=$(host_target fakesys)
	mkdir -p "$fake/kernel"
	echo orig >"$fake/kernel/msgmax"
	add_bind "$fake" /proc/sys
	run create_msgmax
	echo "$output"
	[ "$(cat "$fake/kernel/msgmax")" = orig ] || fail "the sysctl write landed in the host file $fake/kernel/msgmax"
	[ "$status" -ne 0 ] || [ "${lines[-1]}" = 12345 ] || fail "sysctl not applied"
}

@test "CVE-2025-52881: a tmpfs over /proc/sys does not take sysctl writes" {
	# Defence: the same with a tmpfs: the value reaches the kernel, or the
	# config is refused before anything is written.
	update_config '.mounts += [{destination: "/proc/sys", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	run create_msgmax
	echo "$output"
	[ "$status" -ne 0 ] || [ "${lines[-1]}" = 12345 ] || fail "sysctl not applied"
	if [ "$status" -ne 0 ]; then
		# Failing is fine only when the runtime refused the mount, not
		# when it tried to write into the tmpfs.
		[[ "$output" != *"/proc/sys/kernel/msgmax"* ]] || fail "the sysctl write went into the tmpfs: $output"
	fi
}

@test "CVE-2025-52881: a bind over /proc/1/oom_score_adj does not redirect oomScoreAdj" {
	# Defence: the runtime writes oom_score_adj through a verified procfs
	# handle; /proc/self/oom_score_adj would cross this bind mount.
	local fake
	fake="$TESTDIR/fake_oom"
	echo orig >"$fake"
	update_config ".process.oomScoreAdj = 123
		| .mounts += [{source: \"$fake\", destination: \"/proc/1/oom_score_adj\", type: \"bind\", options: [\"bind\"]}]"
	set_args true
	local id
	id=$(new_id)
	run husk_bg create --bundle "$BUNDLE" "$id"
	echo "$output"
	[ "$(cat "$fake")" = orig ] || fail "the oom_score_adj write landed in the host file"
	if [ "$status" -eq 0 ]; then
		[ "$(cat "/proc/$(container_pid "$id")/oom_score_adj")" = 123 ] || fail "oomScoreAdj not applied"
	fi
}
