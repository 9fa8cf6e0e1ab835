# shellcheck shell=bash
# lib.sh: shared by the engine scripts in tests/clients/ (sourced, not run).
#
# An engine script calls clients_setup NAME [default-root] first. That makes
#   $T      a temp dir /tmp/husktest-NAME-XXXXXX holding everything the run creates,
#   $HROOT  $T/husk-root, the --root for husk (with "default-root" the wrapper adds it to calls
#           that have no --root),
#   $TAG    a unique lowercase name (husktest-NAME-xxxxxxxx) for namespaces, cgroups, images,
#   $HUSKW  a wrapper ($T/wrap/husk) that logs each call's argv to $T/husk-argv.log and execs husk,
# and installs an EXIT trap that stops the engine (the script's engine_stop function), kills
# every process still tied to $T or to a $TAG cgroup, unmounts everything under $T, removes
# the $TAG cgroups and $T itself. Checks print TAP-like "ok"/"not ok" lines; clients_finish
# prints "NAME: N passed, N failed" and sets the exit status.
set -uo pipefail

CLIENTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CLIENTS_DIR/../.." && pwd)
HUSK=${HUSK:-$REPO/husk}
# How long one engine command may take before it counts as hung.
CLIENTS_TIMEOUT=${CLIENTS_TIMEOUT:-90}

T=
TAG=
HUSKW=
HROOT=
CLIENTS_NAME=
CLIENTS_PASS=0
CLIENTS_FAIL=0
CLIENTS_PIDS=()
CLIENTS_HOST_EXTRA=()

clients_setup() {
	CLIENTS_NAME=$1
	if [ "$(id -u)" != 0 ]; then
		echo "$CLIENTS_NAME: must run as root" >&2
		exit 2
	fi
	if [ ! -x "$HUSK" ]; then
		echo "$CLIENTS_NAME: husk binary $HUSK is missing (make husk, or set HUSK)" >&2
		exit 2
	fi
	T=$(mktemp -d "/tmp/husktest-$CLIENTS_NAME-XXXXXX")
	# Engines drop privileges or change users for some helpers: the tree must be traversable.
	chmod 755 "$T"
	# Engines want lowercase names (docker, containerd namespaces); mktemp's suffix is mixed case.
	TAG="husktest-$CLIENTS_NAME-$(tr -dc 'a-z0-9' </dev/urandom | head -c 8)"
	trap clients_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	clients_lock
	mkdir -p "$T/bin" "$T/wrap" "$T/logs"
	# A private copy: the lead may rebuild ./husk while this runs.
	cp "$HUSK" "$T/bin/husk"
	# The wrapper is called "husk" too: podman picks a runtime's behaviour by its name.
	HUSKW=$T/wrap/husk
	HROOT=$T/husk-root
	mkdir -p "$HROOT"
	if [ "${2:-}" = default-root ]; then
		clients_write_wrapper "$HUSKW" "$T/bin/husk" "$HROOT"
	else
		clients_write_wrapper "$HUSKW" "$T/bin/husk"
	fi
	echo "# $CLIENTS_NAME: runtime $HUSK ($("$T/bin/husk" --version | head -n 1)), temp dir $T, tag $TAG"
}

# clients_lock: one engine script at a time on this machine. They share /run/containerd/s and
# /var/lib/containers (see watch_host_paths), and each starts daemons on 2 cores. A helper
# process holds a flock on lib.sh (nothing to leave behind) until clients_cleanup kills it or
# this shell dies (tail --pid); this shell holds no lock fd that daemons could inherit.
CLIENTS_LOCK_PID=
clients_lock() {
	local ready=$T/lock.pid i
	# shellcheck disable=SC2016
	flock -w 900 "$CLIENTS_DIR/lib.sh" sh -c 'echo $$ >&3; exec tail --pid="$0" -f /dev/null' "$$" \
		3>"$ready" </dev/null >/dev/null 2>&1 &
	local flock_pid=$!
	for ((i = 0; ; i++)); do
		[ -s "$ready" ] && break
		if ! kill -0 "$flock_pid" 2>/dev/null; then
			echo "$CLIENTS_NAME: no client-test lock after 15 minutes" >&2
			exit 2
		fi
		[ "$i" = 20 ] && echo "# waiting for the client-test lock (another engine script runs)"
		sleep 0.1
	done
	CLIENTS_LOCK_PID=$(cat "$ready")
}

# clients_write_wrapper PATH HUSK [ROOT]: the runtime binary the engines are given. It appends
# the argv of every call to $T/husk-argv.log (the proof that the engine called husk, and how),
# adds "--log $T/logs/husk.json --log-format json" when the engine passed no --log, and
# hard-links the engine's own --log file into $T/logs so that it survives the engine deleting
# its bundle. With ROOT it adds "--root ROOT" to calls that name no --root (podman's cleanup
# process never passes one), so that no state lands in husk's default /run/husk. Then it execs
# husk, so the engine sees husk's pid, status and signals.
clients_write_wrapper() {
	cat >"$1" <<EOF
#!/bin/bash
husk=$2
default_root=${3:-}
logdir=$T/logs
{ printf '%s %s' "\$(date +%H:%M:%S.%N)" "\$\$"; printf ' %q' "\$@"; echo; } >>$T/husk-argv.log
log=
root=
prev=
for a in "\$@"; do
	case \$prev in --log) log=\$a ;; --root) root=\$a ;; esac
	case \$a in --log=*) log=\${a#--log=} ;; --root=*) root=\${a#--root=} ;; esac
	# The first word that is neither a flag nor a global flag's value is the subcommand.
	case \$a in -*) ;; *) case \$prev in --log | --root | --log-format | --rootless) ;; *) break ;; esac ;; esac
	prev=\$a
done
extra=()
if [ -z "\$root" ] && [ -n "\$default_root" ]; then
	extra+=(--root "\$default_root")
fi
if [ -z "\$log" ]; then
	extra+=(--log "\$logdir/husk.json" --log-format json)
else
	if [ ! -e "\$log" ] && [ -d "\$(dirname "\$log")" ]; then : >>"\$log"; fi
	# One link per log file (by inode): the engine passes the same file to many calls.
	if [ -f "\$log" ]; then
		ln -f "\$log" "\$logdir/\$(stat -c %i "\$log")-\$(basename "\$log")" 2>/dev/null
	fi
fi
exec "\$husk" "\${extra[@]}" "\$@"
EOF
	chmod 755 "$1"
}

# --- checks -------------------------------------------------------------------------------

ok() {
	CLIENTS_PASS=$((CLIENTS_PASS + 1))
	echo "ok - $1"
}

not_ok() {
	CLIENTS_FAIL=$((CLIENTS_FAIL + 1))
	echo "not ok - $1"
	shift
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# limited CMD...: runs CMD under $CLIENTS_TIMEOUT; shell functions run as they are (they
# put their own commands under timeout).
limited() {
	if declare -F "$1" >/dev/null; then
		"$@"
	else
		timeout "$CLIENTS_TIMEOUT" "$@"
	fi
}

# check DESC CMD...: passes when CMD exits 0; its output is in $OUT either way.
OUT=
check() {
	local desc=$1
	shift
	local rc=0
	OUT=$(limited "$@" 2>&1) || rc=$?
	if [ "$rc" = 0 ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "command: $*" "exit status: $rc" "output: $OUT"
	return 1
}

# check_status DESC WANT CMD...: passes when CMD exits with status WANT.
check_status() {
	local desc=$1 want=$2 rc=0
	shift 2
	OUT=$(limited "$@" 2>&1) || rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$desc"
		return 0
	fi
	not_ok "$desc" "command: $*" "exit status: $rc, want $want" "output: $OUT"
	return 1
}

# expect_eq DESC WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "want: $2" "got:  $3"
	return 1
}

# expect_match DESC ERE TEXT: passes when some line of TEXT matches the extended regexp.
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "want a line matching: $2" "got: $3"
	return 1
}

# expect_no_match DESC ERE TEXT
expect_no_match() {
	if ! printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "want no line matching: $2" "got: $3"
	return 1
}

# expect_husk_called DESC ERE: the wrapper's argv log has a call matching ERE, which proves the
# engine ran husk (not the system's runc) for it.
expect_husk_called() {
	if grep -Eq -- "$2" "$T/husk-argv.log" 2>/dev/null; then
		ok "$1"
		return 0
	fi
	not_ok "$1" "no husk call matching: $2" "husk calls so far:" "$(tail -n 20 "$T/husk-argv.log" 2>/dev/null)"
	return 1
}

# wait_for DESC SECONDS CMD...: retries CMD every 0.2s until it succeeds (status 0 returned)
# or SECONDS pass (status 1). It does not count as a check.
wait_for() {
	local seconds=$2 i
	shift 2
	for ((i = 0; i < seconds * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# --- host facts ---------------------------------------------------------------------------

# cgroup_v1_dir PID CONTROLLER: the host path of PID's cgroup in a v1 hierarchy.
cgroup_v1_dir() {
	local path
	# The path is everything after the second colon: it may have colons itself
	# (containerd's CRI names cgroups "test.slice:cri-containerd:ID").
	path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); p = $0; sub(/^[^:]*:[^:]*:/, "", p)
		for (i = 1; i <= n; i++) if (a[i] == c) print p }' "/proc/$1/cgroup")
	[ -n "$path" ] || return 1
	echo "/sys/fs/cgroup/$2$path"
}

# cap_eff PID: the CapEff mask from /proc/PID/status.
cap_eff() {
	awk '/^CapEff:/ {print $2}' "/proc/$1/status"
}

# husk_state ROOT ID: husk's own view of a container (proves husk manages it).
husk_state() {
	"$T/bin/husk" --root "$1" state "$2"
}

# watch_host_paths PATH...: paths outside $T an engine might create (its default state dirs);
# those missing now must still be missing at check_nothing_left, and cleanup removes them.
watch_host_paths() {
	local p
	for p in "$@"; do
		[ -e "$p" ] || CLIENTS_HOST_EXTRA+=("$p")
	done
}

# remove_side_effect PATH WHY: removes PATH, a watched path this run's engine created although
# told otherwise (WHY says which engine behaviour), and says so; the check then passes.
remove_side_effect() {
	[[ " ${CLIENTS_HOST_EXTRA[*]} " == *" $1 "* ]] || return 0
	[ -e "$1" ] || return 0
	echo "# note: removing $1: $2"
	rm -rf "$1"
}

# --- containerd ---------------------------------------------------------------------------

# containerd_config DIR [cri]: writes DIR/config.toml for a private containerd: root, state and
# sockets under DIR (socket DIR/containerd.sock), CRI off (it wants CNI and a registry) unless
# "cri" is given (tests/cri appends the CRI plugin's sections), the "opt" plugin off (it would
# create /opt/containerd).
containerd_config() {
	local c=$1 cri='"io.containerd.grpc.v1.cri", '
	[ "${2:-}" = cri ] && cri=
	mkdir -p "$c"
	cat >"$c/config.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = [${cri}"io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
# Not used here, but the tasks service needs a v1 runtime loaded: keep its runc root inside.
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "$c/runtime-v1"
[debug]
  address = "$c/debug.sock"
  level = "info"
EOF
}

# check_containerd_run_dir: containerd 1.6 puts its shims' sockets in /run/containerd/s whatever
# its state dir. When this run created /run/containerd (watch_host_paths), every shim socket
# must be gone by now; the directory is then removed.
check_containerd_run_dir() {
	[[ " ${CLIENTS_HOST_EXTRA[*]} " == *" /run/containerd "* ]] || return 0
	expect_eq "no shim socket is left in /run/containerd/s" "" "$(ls -A /run/containerd/s 2>&1)"
	rm -rf /run/containerd
}

# --- image --------------------------------------------------------------------------------

# make_rootfs DIR: a busybox root filesystem from Debian's busybox-static.
make_rootfs() {
	local dir=$1 bb=/bin/busybox applet
	[ -x "$bb" ] || {
		echo "make_rootfs: $bb missing (apt-get install busybox-static)" >&2
		return 1
	}
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,root,run,var/tmp,usr/bin,usr/sbin}
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$bb" --list-full); do
		[ -e "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
	done
	chmod 1777 "$dir/tmp" "$dir/var/tmp"
	printf 'root:x:0:0:root:/root:/bin/sh\nhusk:x:1000:1000:husk:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nhusk:x:1000:\nnobody:x:65534:\n' >"$dir/etc/group"
}

# make_rootfs_tar TAR: a plain tarball of the busybox root filesystem (docker/podman import).
make_rootfs_tar() {
	local tmp
	tmp=$(mktemp -d "$T/rootfs-XXXXXX")
	make_rootfs "$tmp" || return 1
	tar --numeric-owner --owner=0 --group=0 -C "$tmp" -cf "$1" . || return 1
	rm -rf "$tmp"
}

# make_oci_archive LAYER_TAR NAME OUT: an OCI image layout (index.json, manifest, config, one
# uncompressed layer) as a tar, for `ctr image import`. NAME is the full image reference.
make_oci_archive() {
	local layer=$1 name=$2 out=$3 dir ldigest lsize cdigest csize mdigest msize
	dir=$(mktemp -d "$T/oci-XXXXXX")
	mkdir -p "$dir/blobs/sha256"
	ldigest=$(sha256sum "$layer" | cut -d' ' -f1)
	lsize=$(stat -c %s "$layer")
	cp "$layer" "$dir/blobs/sha256/$ldigest"
	jq -cn --arg diff "sha256:$ldigest" '{
		architecture: "amd64", os: "linux",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			Cmd: ["sh"], WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]},
		history: [{created_by: "husk tests/clients: busybox-static"}]
	}' >"$dir/config.json"
	cdigest=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	csize=$(stat -c %s "$dir/config.json")
	mv "$dir/config.json" "$dir/blobs/sha256/$cdigest"
	jq -cn --arg c "sha256:$cdigest" --argjson cs "$csize" --arg l "sha256:$ldigest" --argjson ls "$lsize" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]
	}' >"$dir/manifest.json"
	mdigest=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
	msize=$(stat -c %s "$dir/manifest.json")
	mv "$dir/manifest.json" "$dir/blobs/sha256/$mdigest"
	jq -cn --arg m "sha256:$mdigest" --argjson ms "$msize" --arg name "$name" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
			platform: {architecture: "amd64", os: "linux"},
			annotations: {"io.containerd.image.name": $name,
				"org.opencontainers.image.ref.name": ($name | split(":") | last)}}]
	}' >"$dir/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	tar -C "$dir" -cf "$out" oci-layout index.json blobs || return 1
	rm -rf "$dir"
}

# --- processes and cleanup ----------------------------------------------------------------

# start_daemon NAME LOGFILE CMD...: starts CMD in the background, its own session, output to
# LOGFILE; records the pid in $DAEMON_PID and for cleanup.
DAEMON_PID=
start_daemon() {
	local name=$1 log=$2
	shift 2
	setsid "$@" >"$log" 2>&1 </dev/null &
	DAEMON_PID=$!
	CLIENTS_PIDS+=("$DAEMON_PID")
	echo "# started $name (pid $DAEMON_PID): $*"
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 15); waits for it.
stop_pid() {
	local pid=$1 seconds=${2:-15} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < seconds * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie child of this shell: reap it.
		if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
			wait "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; then
		echo "# pid $pid did not stop on SIGTERM in ${seconds}s: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# The cgroup hierarchies of this host: every v1 mount and cgroup2.
cgroup_roots() {
	awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts | sort -u
}

# leftover_cgroups: directories named after $TAG in any hierarchy.
leftover_cgroups() {
	local root
	for root in $(cgroup_roots); do
		find "$root" -maxdepth 4 -type d -name "*$TAG*" 2>/dev/null
	done
}

# leftover_pids: processes tied to this run: their argv mentions $T or $TAG, or they sit in a
# $TAG cgroup. Excludes this shell and its ancestors.
leftover_pids() {
	local pid cg self_tree=" $$ $BASHPID " p=$$
	while [ "$p" -gt 1 ] 2>/dev/null; do
		p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
		self_tree+="$p "
	done
	{
		for pid in /proc/[0-9]*; do
			pid=${pid#/proc/}
			if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -Fq -e "$T" -e "$TAG"; then
				echo "$pid"
			fi
		done
		for cg in $(leftover_cgroups); do
			cat "$cg/cgroup.procs" 2>/dev/null
		done
	} | sort -un | while read -r pid; do
		case $self_tree in *" $pid "*) continue ;; esac
		# Skip pids that are gone or are our own short-lived helpers (grep, tr, awk).
		[ -d "/proc/$pid" ] || continue
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
		echo "$pid"
	done
}

# leftover_mounts: mount points under $T.
leftover_mounts() {
	awk -v t="$T/" 'index($5 "/", t) == 1 {print $5}' /proc/self/mountinfo
}

# check_nothing_left: the run leaves no process, mount or cgroup behind (a check each).
check_nothing_left() {
	local procs mounts cgs pid
	procs=$(leftover_pids)
	if [ -z "$procs" ]; then
		ok "no process of this run is left"
	else
		not_ok "no process of this run is left" "$(for pid in $procs; do ps -o pid=,ppid=,args= -p "$pid"; done)"
	fi
	mounts=$(leftover_mounts)
	expect_eq "no mount under $T is left" "" "$mounts"
	cgs=$(leftover_cgroups)
	expect_eq "no $TAG cgroup is left" "" "$cgs"
	local extra=()
	local p
	for p in "${CLIENTS_HOST_EXTRA[@]}"; do
		[ -e "$p" ] && extra+=("$p")
	done
	expect_eq "no file the engine made outside $T is left" "" "${extra[*]}"
}

# remove_cgroup DIR: kills what is inside (thawing first), then removes the tree bottom-up.
remove_cgroup() {
	local dir=$1 d pid
	[ -d "$dir" ] || return 0
	while read -r d; do
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
		done <"$d/cgroup.procs"
	done < <(find "$dir" -depth -type d 2>/dev/null)
	local i
	while read -r d; do
		# The killed processes take a moment to leave the cgroup.
		for ((i = 0; i < 50; i++)); do
			rmdir "$d" 2>/dev/null && break
			[ -d "$d" ] || break
			sleep 0.1
		done
	done < <(find "$dir" -depth -type d 2>/dev/null)
}

clients_cleanup() {
	local rc=$? pid m cg i
	trap - EXIT INT TERM HUP
	[ -n "$T" ] && [ -d "$T" ] || exit "$rc"
	if declare -F engine_stop >/dev/null; then
		engine_stop
	fi
	for ((i = ${#CLIENTS_PIDS[@]} - 1; i >= 0; i--)); do
		stop_pid "${CLIENTS_PIDS[$i]}" 10
	done
	for ((i = 0; i < 3; i++)); do
		for pid in $(leftover_pids); do
			echo "# cleanup: killing leftover pid $pid: $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-200)" >&2
			kill -KILL "$pid" 2>/dev/null
		done
		[ -z "$(leftover_pids)" ] && break
		sleep 0.5
	done
	# Deepest first; lazily when busy, so that rm below never walks into a mount.
	for m in $(leftover_mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "# cleanup: cannot unmount $m" >&2
	done
	for cg in $(leftover_cgroups | sort -r); do
		remove_cgroup "$cg"
	done
	for m in "${CLIENTS_HOST_EXTRA[@]}"; do
		[ -e "$m" ] && rm -rf "$m"
	done
	[ -n "$CLIENTS_LOCK_PID" ] && kill "$CLIENTS_LOCK_PID" 2>/dev/null
	if [ -n "$(leftover_mounts)" ]; then
		echo "# cleanup: mounts remain under $T; not removing it" >&2
	elif [ -n "${CLIENTS_KEEP:-}" ]; then
		echo "# cleanup: CLIENTS_KEEP is set: keeping $T" >&2
	else
		# Containers' files belong to other uids and may be immutable-free but read-only dirs.
		chmod -R u+w "$T" 2>/dev/null
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}

# clients_finish: the summary line; the exit status is 1 when a check failed.
clients_finish() {
	echo "$CLIENTS_NAME: $CLIENTS_PASS passed, $CLIENTS_FAIL failed"
	[ "$CLIENTS_FAIL" -eq 0 ]
}

# show_husk_logs: what husk logged (JSON lines), for a failed run.
show_husk_logs() {
	local f
	for f in "$T"/logs/*; do
		[ -s "$f" ] || continue
		echo "# --- husk log $(basename "$f")"
		sed 's/^/#   /' "$f" | tail -n 30
	done
}
