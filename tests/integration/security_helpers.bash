#!/bin/bash
# Helpers shared by the security_*.bats files (on top of helpers.bash).
#
# Every attack here targets files in the test's own temp dir: when a defence is
# missing, the damage lands in $TESTDIR and nowhere else on the host.

load "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/helpers"

# sec_tool builds tests/cmd/NAME once per bats run and prints the binary's path.
sec_tool() {
	local name=$1
	local base=${BATS_RUN_TMPDIR:-/tmp}
	local bin="$base/husktest-sec-$name"
	(
		flock 9
		if [ ! -x "$bin" ]; then
			cd "$REPO_ROOT" && CGO_ENABLED=0 go build -o "$bin.new" "./tests/cmd/$name" && mv "$bin.new" "$bin"
		fi
	) 9>"$base/husktest-sec-$name.lock" >&2 || return 1
	echo "$bin"
}

# use_private_runtime copies the runtime under test into $TESTDIR/bin and points
# $HUSK at the copy, for attacks that try to overwrite the runtime's binary: if
# one succeeds, only the copy is damaged. Prints nothing; sets HUSK_SUM.
use_private_runtime() {
	mkdir -p "$TESTDIR/bin"
	cp "$HUSK" "$TESTDIR/bin/$HUSK_NAME"
	HUSK="$TESTDIR/bin/$HUSK_NAME"
	HUSK_SUM=$(sha256sum <"$HUSK")
}

# assert_runtime_intact fails when the private runtime copy changed.
assert_runtime_intact() {
	[ "$(sha256sum <"$HUSK")" = "$HUSK_SUM" ] || fail "the runtime binary $HUSK was modified from inside the container"
}

# drop_mount removes the config's mount at destination $1 (e.g. /dev), so the
# rootfs' own directory is what the container gets.
drop_mount() {
	update_config "del(.mounts[] | select(.destination == \"$1\"))"
}

# add_bind adds a bind mount of host path $1 at $2 with extra options $3 (JSON list).
add_bind() {
	local opts=${3:-'[]'}
	update_config ".mounts += [{source: \"$1\", destination: \"$2\", type: \"bind\", options: ([\"rbind\"] + $opts)}]"
}

# out_dir makes $TESTDIR/out, bind-mounted writable at /out in the container.
out_dir() {
	OUT="$TESTDIR/out"
	mkdir -p "$OUT"
	chmod 777 "$OUT"
	add_bind "$OUT" /out
}

# init_fds prints "fd -> target" for every fd of host process $1, one a line.
init_fds() {
	local f
	for f in /proc/"$1"/fd/*; do
		echo "${f##*/} -> $(readlink "$f")"
	done
}

# without_ptrace runs a command as root but without CAP_SYS_PTRACE, so access to
# /proc/PID/{exe,fd,environ} of a non-dumpable root process is refused.
without_ptrace() {
	setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace -- "$@"
}
