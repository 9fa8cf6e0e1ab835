#!/usr/bin/env bats
# Hostile bundles: malformed or malicious config.json, ids and bundle layouts. Every case must
# make `create` exit 1 with one short error line that names the field (or path) at fault, and
# leave nothing behind: no state dir under --root, no cgroup named after the id, no mount under
# the test's temp dir or naming the id, no process. (Only the test's own mounts are compared:
# other tests mount and unmount on the host at the same time.) One @test per group; a failure
# lists every case of the group that went wrong, by name. See README-robustness.md.

load helpers

setup() {
	requires root
	setup_husk
	cp "$BUNDLE/config.json" "$TESTDIR/default.json"
	FAILED=()
}

# hostile NAME ERE [JQ]: reset config.json to the default, apply JQ, run create and check the
# outcome. ERE must match the error (it names the field or path).
hostile() {
	local name=$1 expect=$2 edit=${3:-.}
	jq "$edit" "$TESTDIR/default.json" >"$BUNDLE/config.json" || {
		FAILED+=("$name: jq edit failed")
		return
	}
	expect_rejected "$name" "$expect"
}

# hostile_raw NAME ERE FILE: like hostile, with config.json replaced by FILE's bytes.
hostile_raw() {
	cp "$3" "$BUNDLE/config.json"
	expect_rejected "$1" "$2"
}

# expect_rejected NAME ERE [ID]: create must fail with exit 1, one line < 4 KiB matching ERE,
# and leave nothing behind.
expect_rejected() {
	local name=$1 expect=$2 id=${3-$(new_id)}
	local out="$TESTDIR/out" rc=0 before after lines
	before=$(mounts_of "$id")
	timeout 120 "$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" create --bundle "$BUNDLE" "$id" \
		</dev/null >"$out" 2>&1 || rc=$?
	after=$(mounts_of "$id")
	lines=$(grep -c . "$out" || true)
	if [ "$rc" -eq 0 ]; then
		FAILED+=("$name: create succeeded")
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" delete -f "$id" >/dev/null 2>&1
	elif [ "$rc" -ne 1 ]; then
		FAILED+=("$name: exit $rc, want 1: $(head -c 300 "$out")")
	elif [ "$(stat -c %s "$out")" -ge 4096 ]; then
		FAILED+=("$name: error is $(stat -c %s "$out") bytes long: $(head -c 200 "$out")...")
	elif [ "$lines" -ne 1 ]; then
		FAILED+=("$name: $lines lines of error, want 1: $(head -c 300 "$out")")
	elif ! grep -Eq -- "$expect" "$out"; then
		FAILED+=("$name: error does not match /$expect/: $(head -c 300 "$out")")
	fi
	if [ "$before" != "$after" ]; then
		FAILED+=("$name: mounts of the test changed: before: [$before] after: [$after]")
	fi
	local left
	if ! left=$(assert_nothing_left 2>&1); then
		FAILED+=("$name: $left")
		"$HUSK" $HUSK_GLOBAL_OPTS --root "$ROOT" delete -f "$id" >/dev/null 2>&1
	fi
}

# check_cases fails the test with the list of the cases that went wrong.
check_cases() {
	if [ ${#FAILED[@]} -gt 0 ]; then
		printf 'case %s\n' "${FAILED[@]}" >&2
		return 1
	fi
}

@test "hostile: wrong JSON types" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	hostile "args is a string" 'process\.args' '.process.args = "sh -c true"'
	hostile "env is an object" 'process\.env' '.process.env = {"A": "b"}'
	hostile "terminal is a string" 'process\.terminal' '.process.terminal = "yes"'
	hostile "root is a string" '"root"' '.root = "rootfs"'
	hostile "mounts is an object" '"mounts"' '.mounts = {"destination": "/x"}'
	hostile "namespaces is an object" 'linux\.namespaces' '.linux.namespaces = {"type": "pid"}'
	hostile "hostname is a number" 'hostname' '.hostname = 42'
	hostile "uid is a string" 'process\.user\.uid' '.process.user.uid = "0"'
	hostile "memory limit is a string" 'linux\.resources\.memory\.limit' '.linux.resources.memory = {"limit": "1g"}'
	hostile "rlimit hard is a string" 'process\.rlimits' '.process.rlimits[0].hard = "x"'
	hostile "annotation value is a number" 'annotations' '.annotations = {"a": 1}'
	hostile "ociVersion is a number" 'ociVersion' '.ociVersion = 5'
	hostile "process is null" '^husk: .*process: must be set' '.process = null'
	hostile "linux is missing" 'linux: must be set' 'del(.linux)'
	hostile "root.path is empty" 'root\.path' '.root.path = ""'
	check_cases
}

@test "hostile: not JSON, or not one JSON object" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	printf '' >"$TESTDIR/empty.json"
	hostile_raw "empty file" 'parse config' "$TESTDIR/empty.json"
	head -c 300 "$TESTDIR/default.json" >"$TESTDIR/trunc.json"
	hostile_raw "truncated" 'parse config' "$TESTDIR/trunc.json"
	echo '[]' >"$TESTDIR/array.json"
	hostile_raw "an array" 'parse config' "$TESTDIR/array.json"
	{ cat "$TESTDIR/default.json"; echo '{}'; } >"$TESTDIR/trailing.json"
	hostile_raw "trailing object" 'parse config' "$TESTDIR/trailing.json"
	head -c 4096 /dev/urandom >"$TESTDIR/random.json"
	hostile_raw "random bytes" 'parse config' "$TESTDIR/random.json"
	# Invalid UTF-8: Go's decoder would quietly turn it into U+FFFD and the container would
	# get a hostname nobody wrote. Refused instead.
	sed 's/"husk"/"h\xff\xfek"/' "$TESTDIR/default.json" >"$TESTDIR/utf8.json"
	hostile_raw "invalid UTF-8 in hostname" 'UTF-8' "$TESTDIR/utf8.json"
	check_cases
}

@test "hostile: unknown enum values" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	hostile "namespace type" 'linux\.namespaces\[0\]\.type' '.linux.namespaces[0].type = "bogus"'
	hostile "rlimit name" 'RLIMIT_BOGUS' '.process.rlimits[0].type = "RLIMIT_BOGUS"'
	hostile "capability name" 'process\.capabilities.*CAP_BOGUS' '.process.capabilities.bounding += ["CAP_BOGUS"]'
	hostile "seccomp default action" 'linux\.seccomp\.defaultAction' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_BOGUS"}'
	hostile "seccomp syscall action" 'linux\.seccomp\.syscalls\[0\]\.action' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["read"], action: "SCMP_ACT_BOGUS"}]}'
	hostile "seccomp architecture" 'linux\.seccomp\.architectures\[0\]' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_Z80"]}'
	hostile "seccomp operator" 'linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["read"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1, op: "SCMP_CMP_BOGUS"}]}]}'
	hostile "seccomp flag" 'linux\.seccomp\.flags\[0\]' \
		'.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_BOGUS"]}'
	hostile "device type" 'linux\.devices\[0\]\.type' '.linux.devices = [{path: "/dev/x", type: "q", major: 1, minor: 3}]'
	hostile "device rule type" 'linux\.resources\.devices\[1\]\.type' \
		'.linux.resources.devices += [{allow: true, type: "z", access: "rwm"}]'
	hostile "device rule access" 'linux\.resources\.devices\[1\]\.access' \
		'.linux.resources.devices += [{allow: true, type: "c", access: "rwx"}]'
	hostile "rootfs propagation" 'linux\.rootfsPropagation' '.linux.rootfsPropagation = "sideways"'
	hostile "scheduler policy" 'process\.scheduler\.policy' '.process.scheduler = {policy: "SCHED_BOGUS"}'
	hostile "io priority class" 'process\.ioPriority\.class' '.process.ioPriority = {class: "IOPRIO_CLASS_BOGUS", priority: 1}'
	hostile "personality domain" 'linux\.personality\.domain' '.linux.personality = {domain: "LINUX_BOGUS"}'
	hostile "time offset clock" 'linux\.timeOffsets' \
		'.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {realtime: {secs: 1}}'
	hostile "mount option" 'mounts\[0\] \(proc on /proc\)' '.mounts[0].options = ["bogusopt"]'
	check_cases
}

@test "hostile: huge and negative numbers" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	hostile "negative memory limit" 'linux\.resources\.memory\.limit' '.linux.resources.memory = {limit: -5}'
	hostile "memory limit beyond int64" 'linux\.resources\.memory\.limit' '.linux.resources.memory = {limit: 1e30}'
	hostile "negative memory swap" 'linux\.resources\.memory\.swap' '.linux.resources.memory = {limit: 100000000, swap: -100}'
	hostile "negative uid" 'process\.user\.uid' '.process.user.uid = -1'
	hostile "uid beyond uint32" 'process\.user\.uid' '.process.user.uid = 4294967296'
	hostile "negative cpu shares" 'linux\.resources\.cpu\.shares' '.linux.resources.cpu = {shares: -1}'
	hostile "blkio weight beyond uint16" 'linux\.resources\.blockIO\.weight' '.linux.resources.blockIO = {weight: 100000}'
	hostile "cpuset of a million cpus" 'linux\.resources\.cpu\.cpus' '.linux.resources.cpu = {cpus: "0-999999"}'
	hostile "oom score adj 5000" 'process\.oomScoreAdj' '.process.oomScoreAdj = 5000'
	hostile "rlimit soft above hard" 'process\.rlimits' '.process.rlimits[0].soft = 2048'
	hostile "io priority 99" 'process\.ioPriority\.priority' '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 99}'
	hostile "hook timeout 0" 'hooks\.prestart\[0\]\.timeout' '.hooks = {prestart: [{path: "/bin/true", timeout: 0}]}'
	hostile "id mapping of size 0" 'mapping|uidMappings' \
		'.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 0}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1}]'
	hostile "negative tmpfs size" 'mounts\[7\]' '.mounts += [{destination: "/x", type: "tmpfs", source: "tmpfs", options: ["size=-1"]}]'
	hostile "negative device major" 'linux\.devices\[0\]\.major' '.linux.devices = [{path: "/dev/x", type: "c", major: -1, minor: 1}]'
	hostile "additional gid 2^32-1" 'process\.user\.additionalGids' '.process.user.additionalGids = [4294967295]'
	hostile "1 MiB hostname" '^husk: .*hostname' '.hostname = ("x" * 1048576)'
	check_cases
}

@test "hostile: 100k mounts" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	# The kernel's mount-max (100000 per namespace) stops it: one error naming the mount, and
	# the half-built namespace goes away with the init.
	jq '.mounts += [range(100000) | {destination: "/tmp/m\(.)", type: "tmpfs", source: "tmpfs"}]' \
		"$TESTDIR/default.json" >"$TESTDIR/many.json"
	local start=$SECONDS
	hostile_raw "100k mounts" '^husk: mounts\[[0-9]+\]' "$TESTDIR/many.json"
	[ $((SECONDS - start)) -lt 90 ] || FAILED+=("100k mounts: took $((SECONDS - start))s")
	check_cases
}

@test "hostile: paths" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	hostile "relative cwd" 'process\.cwd' '.process.cwd = "tmp"'
	hostile "relative mount destination" 'mounts\[7\]\.destination' '.mounts += [{destination: "x", type: "tmpfs", source: "tmpfs"}]'
	hostile "empty mount destination" 'mounts\[7\]\.destination' '.mounts += [{destination: "", type: "tmpfs", source: "tmpfs"}]'
	hostile "mount without type" 'mounts\[7\].*type' '.mounts += [{destination: "/x", source: "tmpfs"}]'
	hostile "missing bind source" 'mounts\[7\].*/nonexistent-husktest' \
		'.mounts += [{destination: "/x", type: "bind", source: "/nonexistent-husktest", options: ["bind"]}]'
	hostile "relative masked path" 'linux\.maskedPaths' '.linux.maskedPaths += ["proc/kcore"]'
	hostile "relative readonly path" 'linux\.readonlyPaths' '.linux.readonlyPaths += ["proc/sys"]'
	hostile "device outside /dev" 'linux\.devices\[0\]\.path' '.linux.devices = [{path: "/etc/passwd", type: "c", major: 1, minor: 3}]'
	hostile "device path climbing out of /dev" 'linux\.devices\[0\]\.path' '.linux.devices = [{path: "/dev/../etc/x", type: "c", major: 1, minor: 3}]'
	hostile "relative namespace path" 'linux\.namespaces\[0\]\.path' '.linux.namespaces[0].path = "proc/1/ns/pid"'
	hostile "missing namespace path" 'namespace.*/nonexistent/ns' '.linux.namespaces[0].path = "/nonexistent/ns"'
	hostile "namespace path not a namespace" 'namespace.*/etc/passwd' '.linux.namespaces[0].path = "/etc/passwd"'
	hostile "relative hook path" 'hooks\.prestart\[0\]\.path' '.hooks = {prestart: [{path: "bin/true"}]}'
	hostile "rootfs outside the bundle, missing" 'root\.path' '.root.path = "../../nonexistent-husktest"'
	hostile "rootfs is a file" 'root\.path' '.root.path = "../default.json"'
	hostile "sysctl with .." 'linux\.sysctl' '.linux.sysctl = {"../../proc/sys/kernel/panic": "1"}'
	hostile "sysctl not namespaced" 'linux\.sysctl' '.linux.sysctl = {"kernel.panic": "1"}'
	hostile "unified key with .." 'linux\.resources\.unified' '.linux.resources.unified = {"../../x": "1"}'
	hostile "cgroupsPath with .." 'linux\.cgroupsPath' '.linux.cgroupsPath = "/../../husktest-escape"'
	check_cases
}

@test "hostile: strings with NUL bytes, empty args, bad env" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	# NUL cannot reach execve, sethostname or a path: refused when the config is read, not
	# silently cut short and not discovered only at start.
	hostile "NUL in args" 'process\.args' '.process.args = ["sh", "-c", "echo a\u0000b"]'
	hostile "NUL in env" 'process\.env' '.process.env += ["A=b\u0000c"]'
	hostile "NUL in hostname" 'hostname' '.hostname = "a\u0000b"'
	hostile "NUL in cwd" 'process\.cwd' '.process.cwd = "/a\u0000b"'
	hostile "NUL in mount option" 'mounts\[3\].*options' '.mounts[3].options += ["nosuid\u0000"]'
	hostile "empty args" 'process\.args' '.process.args = []'
	hostile "empty program" 'process\.args\[0\]' '.process.args = [""]'
	hostile "missing program" 'process\.args\[0\].*nonexistent' '.process.args = ["/nonexistent"]'
	hostile "env without =" 'process\.env\[2\]' '.process.env += ["NOEQUALS"]'
	check_cases
}

@test "hostile: contradictions and duplicates" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	hostile "duplicate namespace" 'linux\.namespaces\[5\].*twice' '.linux.namespaces += [{type: "pid"}]'
	hostile "duplicate rlimit" 'process\.rlimits.*twice' '.process.rlimits += [{type: "RLIMIT_NOFILE", hard: 10, soft: 10}]'
	hostile "hostname without uts namespace" 'hostname' '.linux.namespaces |= map(select(.type != "uts"))'
	hostile "no mount namespace" 'linux\.namespaces' '.linux.namespaces |= map(select(.type != "mount"))'
	hostile "id mappings without user namespace" 'linux\.uidMappings' '.linux.uidMappings = [{containerID: 0, hostID: 1000, size: 1}]'
	hostile "user namespace without mappings" 'linux\.uidMappings' '.linux.namespaces += [{type: "user"}]'
	hostile "consoleSize without terminal" 'process\.consoleSize' '.process.consoleSize = {height: 10, width: 10}'
	hostile "id-mapped mount" 'mounts\[7\]' '.mounts += [{destination: "/x", type: "tmpfs", source: "tmpfs", uidMappings: [{containerID: 0, hostID: 1000, size: 1}]}]'
	hostile "unsupported intelRdt" 'linux\.intelRdt' '.linux.intelRdt = {closID: "x"}'
	hostile "unsupported netDevices" 'linux\.netDevices' '.linux.netDevices = {"eth0": {}}'
	check_cases
}

@test "hostile: container ids" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	local id
	for id in "a/b" ".." "." "../x" "a b" "x$(printf '\t')y" "$(printf 'x%.0s' $(seq 1025))" "é" "a:b"; do
		expect_rejected "id '${id:0:40}'" 'container id' "$id"
		# "a/b" would make $ROOT/a, "../x" $TESTDIR/x.
		[ ! -e "$ROOT/a" ] && [ ! -e "$TESTDIR/x" ] || FAILED+=("id '$id': made a directory outside $ROOT")
	done
	expect_rejected "empty id" 'container id|requires|argument' ""
	check_cases
}

@test "hostile: config.json that is not a regular file" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	# husk reads config.json only as a regular file in the bundle: a symlink (it could point
	# at /dev/zero or a FIFO and hang or exhaust the runtime), a FIFO or a directory is
	# refused by name. runc follows a symlinked config.json; husk deliberately does not.
	mv "$BUNDLE/config.json" "$TESTDIR/real.json"
	ln -s "$TESTDIR/real.json" "$BUNDLE/config.json"
	expect_rejected "symlinked config.json" 'config\.json'
	rm "$BUNDLE/config.json"
	ln -s /dev/zero "$BUNDLE/config.json"
	expect_rejected "config.json -> /dev/zero" 'config\.json'
	rm "$BUNDLE/config.json"
	mkfifo "$BUNDLE/config.json"
	expect_rejected "config.json is a FIFO" 'config\.json'
	rm "$BUNDLE/config.json"
	mkdir "$BUNDLE/config.json"
	expect_rejected "config.json is a directory" 'config\.json'
	rmdir "$BUNDLE/config.json"
	expect_rejected "no config.json" 'config\.json'
	BUNDLE=$TESTDIR/nonexistent expect_rejected "bundle missing" 'config\.json|bundle'
	check_cases
}

@test "hostile: symlinked rootfs is followed" {
	husk_only "runc refuses a root.path through a symlink (invalid rootfs: not an absolute path, or a symlink)"
	# root.path is the bundle owner's choice and may be a symlink; it is resolved once on the
	# host, and the container's paths are then confined to its target.
	mv "$BUNDLE/rootfs" "$TESTDIR/realroot"
	ln -s "$TESTDIR/realroot" "$BUNDLE/rootfs"
	echo inside >"$TESTDIR/realroot/marker"
	set_args cat /marker
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = inside ]
	assert_nothing_left
}

@test "hostile: .. in a mount destination stays inside the rootfs" {
	husk_only "the table checks husk's own refusal: exit 1 and one error line naming the field; runc accepts some cases, and words and splits its errors its own way"
	# Destinations are resolved inside the rootfs: /../../x is the rootfs' /x, never a host path.
	local dest="/../../../../husktest-escape-$$"
	update_config ".mounts += [{destination: \"$dest\", type: \"tmpfs\", source: \"tmpfs\"}]"
	set_args sh -c "grep -c husktest-escape /proc/self/mounts"
	run -0 husk run --bundle "$BUNDLE" "$(new_id)"
	[ "$output" = 1 ]
	[ ! -e "/husktest-escape-$$" ]
	[ -d "$BUNDLE/rootfs/husktest-escape-$$" ]
	assert_nothing_left
}
