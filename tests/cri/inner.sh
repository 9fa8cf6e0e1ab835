#!/usr/bin/env bash
# inner.sh: the part of tests/cri that runs inside the run's own namespaces (started by run.sh:
# unshare --pid --mount --net --ipc --uts, under tests/cmd/subreaper as the namespace's PID 1).
#
# It gives the run a /run of its own (tmpfs: containerd 1.6 puts shim sockets in
# /run/containerd/s whatever its state dir) and a /var/lib whose writes land in the temp dir,
# brings up loopback, starts docker-registry on 127.0.0.1 and pushes the images, starts a
# private containerd whose CRI plugin has two runtime handlers, "runc" (the oracle,
# $CRI_ORACLE) and "husk" ($HUSK), both the runc v2 shim with BinaryName, and CNI's bridge
# plugin on the bridge huskcri0 (host-local addresses, no NAT, no default route in the pods).
# Then critest runs once per handler in $CRI_HANDLERS (results in
# $T/results/critest-HANDLER.json), and crictl.sh's scenarios once per handler. At the end every
# pod is removed and the daemons are stopped; run.sh checks what is left.
#
# Environment (from run.sh): T, TAG, CRI_HANDLERS ("husk", "runc" or both), CRITEST, CRICTL,
# IMG (images.sh's store), CRI_SKIP_FILE, CRI_FOCUS (optional ginkgo focus), CRI_CRITEST and
# CRI_SCENARIOS (0 leaves out critest or crictl.sh).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=images.sh
. "$here/images.sh"
# lib.sh (the client tests' helpers: start_daemon, stop_pid, wait_for) resets T and TAG.
keep_t=$T keep_tag=$TAG
# shellcheck source=../clients/lib.sh
. "$here/../clients/lib.sh"
T=$keep_t TAG=$keep_tag

# This environment's own directory: run.sh may start one per handler at the same time.
E=$T/env/${CRI_HANDLERS// /-}
C=$E/containerd
SOCK=unix://$C/containerd.sock
REGISTRY=127.0.0.1:5000
mkdir -p "$C" "$T/results" "$E/tmp" "$E/cni/net.d" "$E/cni/ipam" "$E/certs.d"

REGISTRY_PID=
CONTAINERD_PID=
# inner_stop: removes every pod (their containers, shims and network namespaces) and stops
# the daemons; run at the end and on any early exit.
inner_stop() {
	if [ -n "$CONTAINERD_PID" ]; then
		timeout 120 "$CRICTL" rmp -fa >/dev/null 2>&1
		stop_pid "$CONTAINERD_PID" 15
	fi
	[ -n "$REGISTRY_PID" ] && stop_pid "$REGISTRY_PID" 5
}
trap inner_stop EXIT

# /run: the shims' sockets, the runtime's default paths; nothing of it reaches the host's /run.
mount -t tmpfs -o mode=755,size=64m "$TAG-run" /run || exit 2
# /var/lib: what is written there (CNI's result cache in /var/lib/cni: containerd 1.6 has no
# setting for it) goes to an overlay's upper layer in $T.
mkdir -p "$E/varlib/upper" "$E/varlib/work"
mount -t overlay -o "lowerdir=/var/lib,upperdir=$E/varlib/upper,workdir=$E/varlib/work" "$TAG-varlib" /var/lib || exit 2
ip link set lo up || exit 2

# --- registry -----------------------------------------------------------------------------
cat >"$E/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $E/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
start_daemon docker-registry "$E/registry.log" docker-registry serve "$E/registry.yml"
REGISTRY_PID=$DAEMON_PID
wait_for "registry" 30 curl -sf "http://$REGISTRY/v2/" || {
	echo "inner: docker-registry did not start: $(tail -n 5 "$E/registry.log")" >&2
	exit 2
}
images_push "http://$REGISTRY" || exit 2
# Both registries critest's image names use resolve to the private one, and nothing else.
for host in registry.k8s.io gcr.io; do
	mkdir -p "$E/certs.d/$host"
	cat >"$E/certs.d/$host/hosts.toml" <<EOF
server = "http://$REGISTRY"
[host."http://$REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
done

# --- CNI ----------------------------------------------------------------------------------
cat >"$E/cni/net.d/10-huskcri.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "huskcri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "huskcri0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "10.77.88.0/24"}]],
        "dataDir": "$E/cni/ipam"
      }
    }
  ]
}
EOF

# --- containerd ---------------------------------------------------------------------------
runtime_toml() {
	cat <<EOF
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
        BinaryName = "$2"
        Root = "$3"
EOF
}
containerd_config "$C" cri
cat >>"$C/config.toml" <<EOF
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  # Without CAP_SYS_RESOURCE (this machine's bounding set lacks it) no runtime can lower a
  # process's oom_score_adj below containerd's own: the pods' -998 becomes containerd's value.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
$(runtime_toml runc "$T/rt/runc/wrap/runc" "$T/rt/runc/root")
$(runtime_toml husk "$T/rt/husk/wrap/husk" "$T/rt/husk/root")
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$E/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$E/certs.d"
EOF
# crictl's configuration (crictl reads CRI_CONFIG_FILE): this containerd for both services.
cat >"$E/crictl.yaml" <<EOF
runtime-endpoint: $SOCK
image-endpoint: $SOCK
timeout: 60
EOF
export CRI_CONFIG_FILE=$E/crictl.yaml
start_daemon containerd "$E/containerd.log" containerd --config "$C/config.toml"
CONTAINERD_PID=$DAEMON_PID
wait_for "containerd" 30 "$CRICTL" version || {
	echo "inner: containerd did not start: $(tail -n 20 "$E/containerd.log")" >&2
	exit 2
}

# --- critest ------------------------------------------------------------------------------
skips=()
while IFS= read -r line; do
	line=${line%%#*}
	line=$(sed 's/[[:space:]]*$//' <<<"$line")
	[ -n "$line" ] && skips+=("-ginkgo.skip=$line")
done <"$CRI_SKIP_FILE"
focus=()
[ -n "${CRI_FOCUS:-}" ] && focus=("-ginkgo.focus=$CRI_FOCUS")

for h in $CRI_HANDLERS; do
	[ "$CRI_CRITEST" = 0 ] && break
	echo "# critest, runtime handler $h: $T/results/critest-$h.log"
	t0=$SECONDS
	TMPDIR=$E/tmp timeout 1800 "$CRITEST" -runtime-endpoint "$SOCK" -image-endpoint "$SOCK" \
		-runtime-handler "$h" -ginkgo.no-color -ginkgo.json-report "$T/results/critest-$h.json" \
		"${skips[@]}" "${focus[@]}" >"$T/results/critest-$h.log" 2>&1
	echo "# critest, runtime handler $h: exit $?, $((SECONDS - t0))s"
done

# --- crictl scenarios ---------------------------------------------------------------------
export T TAG E CRICTL
for h in $CRI_HANDLERS; do
	[ "$CRI_SCENARIOS" = 0 ] && break
	t0=$SECONDS
	"$here/crictl.sh" "$h" >"$T/results/scenarios-$h.tap" 2>&1
	echo "# crictl scenarios, runtime handler $h: exit $?, $((SECONDS - t0))s"
done
exit 0
