#!/usr/bin/env bats
# Engines with the systemd cgroup driver, in the systemd VM (make vm-systemd-test): containerd
# through the runc shim v2 (BinaryName and SystemdCgroup, set here by ctr's --runc-binary and
# --runc-systemd-cgroup), docker with native.cgroupdriver=systemd, podman with
# --cgroup-manager=systemd. Each engine runs $HUSK (HUSK=/usr/sbin/runc for Debian's runc), its
# daemons under the test's temp dir; the container must land in the unit the engine names, with
# the engine's memory limit in systemd and in the cgroup file, and no unit may be left after the
# engine removed it. The busybox image comes from tests/clients/lib.sh.

load helpers
load systemd_helpers

setup() {
	sd_setup
	IMG_TAR=$TESTDIR/rootfs.tar
	: >"$TESTDIR/daemons"
}

teardown() {
	[ -n "${TESTDIR:-}" ] || return 0
	if [ -S "$TESTDIR/docker/docker.sock" ]; then
		local ids
		ids=$(dk ps -aq 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	fi
	if [ -d "$TESTDIR/podman" ]; then
		pm rm -f -t 0 -a >/dev/null 2>&1
	fi
	if [ -S "$TESTDIR/containerd/containerd.sock" ]; then
		local id
		for id in $(ctr_ task ls -q 2>/dev/null); do
			ctr_ task kill -s KILL "$id" >/dev/null 2>&1
			ctr_ task delete -f "$id" >/dev/null 2>&1
		done
		for id in $(ctr_ container ls -q 2>/dev/null); do
			ctr_ container delete "$id" >/dev/null 2>&1
		done
	fi
	local pid
	for pid in $(tac "$TESTDIR/daemons" 2>/dev/null); do
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	sd_teardown
}

# daemon NAME CMD...: starts an engine daemon in its own session, its output in
# $TESTDIR/NAME.log; teardown stops it.
daemon() {
	local name=$1
	shift
	setsid "$@" >"$TESTDIR/$name.log" 2>&1 </dev/null &
	echo $! >>"$TESTDIR/daemons"
}

# wait_ok SECONDS CMD...: retries CMD until it succeeds.
wait_ok() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "not ready after $1s: ${*:2}"
}

# start_containerd: a private containerd (state, sockets under the temp dir, CRI off).
start_containerd() {
	C=$TESTDIR/containerd
	clients_lib containerd_config "$C"
	daemon containerd containerd --config "$C/config.toml"
	wait_ok 60 ctr --address "$C/containerd.sock" version
}

ctr_() {
	timeout 120 ctr --address "$TESTDIR/containerd/containerd.sock" --namespace husktest "$@"
}

dk() {
	timeout 120 /usr/bin/docker -H "unix://$TESTDIR/docker/docker.sock" "$@"
}

pm() {
	CONTAINERS_CONF=$TESTDIR/podman/containers.conf CONTAINERS_STORAGE_CONF=$TESTDIR/podman/storage.conf \
		timeout 120 podman --root "$TESTDIR/podman/root" --runroot "$TESTDIR/podman/runroot" \
		--runtime "$TESTDIR/wrap/husk" --cgroup-manager=systemd --events-backend=file "$@"
}

# check_engine_unit UNIT SLICE PID: the engine's container runs in UNIT, a scope in SLICE,
# with its 32 MiB limit in systemd and in memory.max.
check_engine_unit() {
	local unit=$1 slice=$2 pid=$3
	sd_track "$unit"
	sd_check "$unit" ActiveState active
	sd_check "$unit" Slice "$slice"
	sd_check "$unit" MemoryMax 33554432
	local rel
	rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	[ "$rel" = "$(sd_show "$unit" ControlGroup)" ] || fail "pid $pid is in $rel, not in $unit"
	[ "$(cat "/sys/fs/cgroup$rel/memory.max")" = 33554432 ]
}

@test "containerd, runc shim with BinaryName and SystemdCgroup: the task in its scope with its limit" {
	requires systemd
	start_containerd
	local img=docker.io/library/husktest-sd:latest id
	clients_lib make_rootfs_tar "$IMG_TAR"
	clients_lib make_oci_archive "$IMG_TAR" "$img" "$TESTDIR/oci.tar"
	ctr_ image import "$TESTDIR/oci.tar"
	id=$(new_id)
	ctr_ run -d --runc-binary "$HUSK" --runc-root "$TESTDIR/shim-root" --runc-systemd-cgroup \
		--cgroup "system.slice:husktest:$id" --memory-limit 33554432 "$img" "$id" sleep 1000
	local pid
	pid=$(ctr_ task ls | awk -v id="$id" '$1 == id {print $2}')
	[ -n "$pid" ] || fail "no task $id: $(ctr_ task ls)"
	check_engine_unit "husktest-$id.scope" system.slice "$pid"
	# The shim ran $HUSK: the container is in its state (the shim adds the namespace to Root).
	[ "$("$HUSK" --root "$TESTDIR/shim-root/husktest" state "$id" | jq -r .status)" = running ]
	ctr_ task kill -s KILL "$id"
	local _
	for _ in $(seq 100); do
		[ "$(ctr_ task ls | awk -v id="$id" '$1 == id {print $3}')" = STOPPED ] && break
		sleep 0.1
	done
	ctr_ task delete "$id"
	ctr_ container delete "$id"
	sd_wait_unloaded "husktest-$id.scope"
}

@test "docker, native.cgroupdriver=systemd: the container in docker-<id>.scope with its limit" {
	requires systemd
	command -v dockerd >/dev/null || skip "docker is not installed"
	start_containerd
	local D=$TESTDIR/docker
	mkdir -p "$D/data" "$D/exec" "$D/cli"
	echo "{\"deprecated-key-path\": \"$D/key.json\"}" >"$D/daemon.json"
	export DOCKER_CONFIG=$D/cli
	daemon dockerd dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
		--pidfile "$D/docker.pid" -H "unix://$D/docker.sock" \
		--bridge=none --iptables=false --ip-masq=false --ip6tables=false --userland-proxy=false \
		--exec-opt native.cgroupdriver=systemd \
		--containerd "$TESTDIR/containerd/containerd.sock" --containerd-namespace husktest-docker \
		--containerd-plugins-namespace husktest-docker-plugins --storage-driver overlay2 \
		--add-runtime "husk=$HUSK"
	wait_ok 120 dk version
	[ "$(dk info --format '{{.CgroupDriver}}')" = systemd ]
	clients_lib make_rootfs_tar "$IMG_TAR"
	dk import "$IMG_TAR" husktest-sd:latest
	local cid pid
	# The VM's kernel has AppArmor on but no apparmor_parser to load docker's profile.
	cid=$(dk run -d --runtime husk --network none --security-opt apparmor=unconfined -m 32m husktest-sd:latest sleep 1000)
	pid=$(dk inspect --format '{{.State.Pid}}' "$cid")
	check_engine_unit "docker-$cid.scope" system.slice "$pid"
	# dockerd gives the shim Root <exec-root>/runtime-runc; the shim adds the namespace.
	[ "$("$HUSK" --root "$D/exec/runtime-runc/husktest-docker" state "$cid" | jq -r .status)" = running ]
	dk rm -f "$cid"
	sd_wait_unloaded "docker-$cid.scope"
}

@test "podman --cgroup-manager=systemd: the container in libpod-<id>.scope with its limit" {
	requires systemd
	command -v podman >/dev/null || skip "podman is not installed"
	local P=$TESTDIR/podman
	mkdir -p "$P" "$TESTDIR/wrap" "$TESTDIR/podman-husk"
	# podman knows a runtime by its name: the wrapper is called husk. podman's cleanup process
	# calls the runtime without podman's --runtime-flag: the wrapper gives it its --root.
	printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$HUSK" "$TESTDIR/podman-husk" >"$TESTDIR/wrap/husk"
	chmod 755 "$TESTDIR/wrap/husk"
	(
		# shellcheck source=../clients/podman-scenarios.sh
		. "$REPO_ROOT/tests/clients/podman-scenarios.sh"
		podman_write_configs "$P/runroot" systemd
	)
	clients_lib make_rootfs_tar "$IMG_TAR"
	pm import "$IMG_TAR" localhost/husktest-sd:latest
	local cid pid
	cid=$(pm run -d --network none -m 32m localhost/husktest-sd:latest sleep 1000)
	pid=$(pm inspect --format '{{.State.Pid}}' "$cid")
	check_engine_unit "libpod-$cid.scope" machine.slice "$pid"
	[ "$("$HUSK" --root "$TESTDIR/podman-husk" state "$cid" | jq -r .status)" = running ]
	pm rm -f -t 0 "$cid"
	sd_wait_unloaded "libpod-$cid.scope"
}
