#!/usr/bin/env bats
# scripts/deps.sh waits for apt's locks instead of failing at once (issue 14), so that `make demo`
# and `make test` do not fail on a machine that is installing something else. apt-get and
# dpkg-query are stand-ins on PATH that play another apt holding a lock: the test never touches
# the host's package state. (Real apt waits for the dpkg lock with DPkg::Lock::Timeout; its
# `update` does not wait for the lists lock, checked by hand with a private Dir::State::Lists.)

bats_require_minimum_version 1.5.0

DEPS=$(cd "$(dirname "$BATS_TEST_FILENAME")/../.." && pwd)/scripts/deps.sh

setup() {
	FAKE=$(mktemp -d /tmp/husktest-deps-XXXXXX)
	mkdir "$FAKE/bin"
	# dpkg-query: every package is missing until the fake apt-get installs it.
	cat >"$FAKE/bin/dpkg-query" <<-'EOF'
		#!/bin/bash
		grep -qx "${@: -1}" "$FAKE/installed" 2>/dev/null && echo -n "install ok installed" || echo -n "unknown ok not-installed"
	EOF
	# apt-get: logs its calls. While $FAKE/dpkg-busy exists, install fails like apt does when
	# another dpkg holds the lock, unless it was told to wait (DPkg::Lock::Timeout): then it
	# "waits" until the other one is done. The lists lock: $FAKE/lists-busy holds how many
	# more updates fail like apt does when another update holds it. Packages are only known
	# after an update when $FAKE/need-update exists.
	cat >"$FAKE/bin/apt-get" <<-'EOF'
		#!/bin/bash
		echo "$*" >>"$FAKE/calls"
		wait_lock=0
		[[ " $* " == *" DPkg::Lock::Timeout="* ]] && wait_lock=1
		case " $* " in
		*" update "*)
			n=$(cat "$FAKE/lists-busy" 2>/dev/null || echo 0)
			if [ "$n" -gt 0 ]; then
				echo $((n - 1)) >"$FAKE/lists-busy"
				echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
				echo "E: Unable to lock directory /var/lib/apt/lists/" >&2
				exit 100
			fi
			if [ -e "$FAKE/update-broken" ]; then
				echo "E: The repository 'http://deb.example bookworm Release' does not have a Release file." >&2
				exit 100
			fi
			rm -f "$FAKE/need-update"
			;;
		*" install "*)
			if [ -e "$FAKE/dpkg-busy" ]; then
				if [ "$wait_lock" -eq 0 ]; then
					echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
					exit 100
				fi
				rm -f "$FAKE/dpkg-busy" # waited until the other apt was done
			fi
			if [ -e "$FAKE/need-update" ]; then
				echo "E: Unable to locate package ${*: -1}" >&2
				exit 100
			fi
			for p in "$@"; do [[ $p == -* || $p == install ]] || echo "$p" >>"$FAKE/installed"; done
			;;
		esac
		exit 0
	EOF
	chmod +x "$FAKE/bin/"*
	export FAKE
}

teardown() {
	rm -rf "$FAKE"
}

deps() {
	PATH="$FAKE/bin:$PATH" APT_LOCK_TIMEOUT=30 "$DEPS" "$@"
}

@test "deps.sh: installs missing packages, leaves installed ones alone" {
	echo jq >"$FAKE/installed"
	run -0 deps jq bats
	grep -qx bats "$FAKE/installed"
	run -0 grep -c install "$FAKE/calls"
	[ "$output" -eq 1 ]
	grep -q ' bats$' "$FAKE/calls"
	! grep -q ' jq' "$FAKE/calls"
}

@test "deps.sh: another apt holding the dpkg lock is waited for" {
	touch "$FAKE/dpkg-busy"
	run -0 deps bats
	grep -qx bats "$FAKE/installed"
	# Every apt-get call was told to wait for the lock.
	! grep -v 'DPkg::Lock::Timeout=30' "$FAKE/calls"
}

@test "deps.sh: another update holding the lists lock is waited for" {
	touch "$FAKE/need-update"
	echo 2 >"$FAKE/lists-busy"
	run -0 deps bats
	grep -qx bats "$FAKE/installed"
	run -0 grep -c update "$FAKE/calls"
	[ "$output" -eq 3 ]
}

@test "deps.sh: an update that fails for another reason fails at once, with apt's error" {
	touch "$FAKE/need-update" "$FAKE/update-broken"
	run deps bats
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not have a Release file"* ]]
	run -0 grep -c update "$FAKE/calls"
	[ "$output" -eq 1 ]
}

@test "deps.sh --update: waits for the lists lock, installs nothing" {
	echo 1 >"$FAKE/lists-busy"
	run -0 deps --update
	run -0 cat "$FAKE/calls"
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == *" update "* || "${lines[1]}" == *" update" ]]
	! grep -q install "$FAKE/calls"
}
