#!/usr/bin/env bats
# /dev: default devices, fd links, linux.devices, maskedPaths, readonlyPaths.

load helpers

@test "default devices with their major, minor and mode" {
	run -0 run_sh 'for d in null zero full random urandom tty; do echo "$d $(stat -c "%F %t %T %a" /dev/$d)"; done'
	[ "${lines[0]}" = "null character special file 1 3 666" ]
	[ "${lines[1]}" = "zero character special file 1 5 666" ]
	[ "${lines[2]}" = "full character special file 1 7 666" ]
	[ "${lines[3]}" = "random character special file 1 8 666" ]
	[ "${lines[4]}" = "urandom character special file 1 9 666" ]
	[ "${lines[5]}" = "tty character special file 5 0 666" ]
}

@test "default devices work" {
	run -0 run_sh 'echo x >/dev/null && head -c 4 /dev/zero | od -An -tx1 && head -c 8 /dev/urandom | wc -c && (echo x >/dev/full) 2>&1; true'
	[[ "${lines[0]}" == *"00 00 00 00"* ]]
	[ "${lines[1]}" = 8 ]
	[[ "${lines[2]}" == *"No space left on device"* ]]
}

@test "ptmx and the fd links" {
	run -0 run_sh 'for l in ptmx fd stdin stdout stderr; do echo "$l $(readlink /dev/$l)"; done'
	[ "${lines[0]}" = "ptmx pts/ptmx" ]
	[ "${lines[1]}" = "fd /proc/self/fd" ]
	[ "${lines[2]}" = "stdin /proc/self/fd/0" ]
	[ "${lines[3]}" = "stdout /proc/self/fd/1" ]
	[ "${lines[4]}" = "stderr /proc/self/fd/2" ]
}

@test "/dev holds nothing but what was asked for" {
	run -0 run_sh 'ls -A /dev | sort | tr "\n" " "'
	# /dev/core -> /proc/kcore is made only where the kernel has /proc/kcore (as runc does).
	local core=""
	[ -e /proc/kcore ] && core="core "
	[ "$output" = "${core}fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " ]
}

@test "linux.devices are created with type, numbers, mode and owner" {
	update_config '.linux.devices = [
		{path: "/dev/mynull", type: "c", major: 1, minor: 3, fileMode: 432, uid: 1000, gid: 5},
		{path: "/dev/sub/myzero", type: "c", major: 1, minor: 5, fileMode: 420, uid: 0, gid: 0}]
		| .linux.resources.devices += [
		{allow: true, type: "c", major: 1, minor: 3, access: "rwm"},
		{allow: true, type: "c", major: 1, minor: 5, access: "rwm"}]'
	run -0 run_sh 'stat -c "%F %t %T %a %u %g" /dev/mynull /dev/sub/myzero; head -c 2 /dev/sub/myzero | od -An -tx1'
	[ "${lines[0]}" = "character special file 1 3 660 1000 5" ]
	[ "${lines[1]}" = "character special file 1 5 644 0 0" ]
	[[ "${lines[2]}" == *"00 00"* ]]
}

@test "a fifo in linux.devices" {
	update_config '.linux.devices = [{path: "/dev/myfifo", type: "p", fileMode: 384}]'
	run -0 run_sh 'stat -c "%F %a" /dev/myfifo'
	[ "$output" = "fifo 600" ]
}

@test "default maskedPaths hide files and directories" {
	# /proc/kcore is missing on some kernels; /proc/timer_list is not.
	[ -n "$(head -c1 /proc/timer_list)" ]
	run -0 run_sh 'wc -c </proc/timer_list; ls -A /sys/firmware | wc -l; grep -E " /(proc/timer_list|sys/firmware) " /proc/self/mountinfo'
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[[ "$output" == *" /proc/timer_list "* ]]
	[[ "$output" == *" /sys/firmware ro"* ]]
}

@test "maskedPaths of rootfs files and directories" {
	mkdir -p "$BUNDLE/rootfs/secret"
	echo hidden >"$BUNDLE/rootfs/secret/data"
	echo hidden >"$BUNDLE/rootfs/etc/secret.conf"
	update_config '.linux.maskedPaths += ["/secret", "/etc/secret.conf", "/does/not/exist"]'
	run -0 run_sh 'ls -A /secret | wc -l; cat /etc/secret.conf | wc -c; [ -e /does/not/exist ] || echo absent'
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = absent ]
}

@test "readonlyPaths are read-only" {
	update_config '.root.readonly = false | .linux.readonlyPaths += ["/tmp"]'
	run -0 run_sh 'touch /tmp/x 2>/dev/null || echo tmp-ro; touch /x && echo root-writable; (echo 1 >/proc/sys/kernel/domainname) 2>/dev/null || echo sys-ro; grep -E " /(tmp|proc/sys) " /proc/self/mountinfo'
	[ "${lines[0]}" = tmp-ro ]
	[ "${lines[1]}" = root-writable ]
	[ "${lines[2]}" = sys-ro ]
	local l
	for l in "${lines[@]:3}"; do
		[[ "$(echo "$l" | cut -d' ' -f6)" == ro* ]] || fail "not ro: $l"
	done
	[ ! -e "$BUNDLE/rootfs/tmp/x" ]
	rm -f "$BUNDLE/rootfs/x"
}

@test "devices in a user namespace are bind mounts of the host's" {
	requires userns
	# mknod is not allowed in a user namespace: the runtime bind-mounts the
	# host's device nodes instead.
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	run -0 run_sh 'stat -c "%F %t %T" /dev/null /dev/zero; head -c 2 /dev/zero | od -An -tx1; echo x >/dev/null && echo wrote; grep -cE " /dev/(null|zero|full|random|urandom|tty) " /proc/self/mountinfo'
	[ "${lines[0]}" = "character special file 1 3" ]
	[ "${lines[1]}" = "character special file 1 5" ]
	[[ "${lines[2]}" == *"00 00"* ]]
	[ "${lines[3]}" = wrote ]
	[ "${lines[4]}" = 6 ]
}
