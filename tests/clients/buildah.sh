#!/usr/bin/env bash
# buildah.sh: buildah 1.28 (Debian's package) runs the RUN steps of a build through husk
# (--runtime <husk wrapper>, OCI isolation).
#
# buildah keeps its storage under a temp dir (--root/--runroot, containers.conf and storage.conf
# there too); the build starts FROM scratch and ADDs a busybox tarball, so no registry is needed.
# Checks: the RUN steps' output and exit status, what they wrote lands in the image, the
# capabilities and seccomp of a RUN step, a failing RUN fails the build, `buildah run` on the
# built image, and that every runtime call went to husk.
#
#   tests/clients/buildah.sh          (root; HUSK=path overrides ./husk)
#   CLIENTS_KEEP=1 keeps the temp dir (logs, argv log) after the run.
# Container commands are single-quoted on purpose: they expand inside the container.
# shellcheck disable=SC2016
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

"$REPO/scripts/deps.sh" buildah busybox-static jq || exit 2
clients_setup buildah default-root

B=$T/buildah
IMG=localhost/$TAG:latest
mkdir -p "$B" "$T/ctx"
watch_host_paths /var/lib/containers /run/containers /run/libpod /var/run/libpod /dev/shm/libpod_lock \
	/run/buildah /var/lib/buildah

# Same reasons as in podman.sh: rlimits within this machine's hard limits, state in the temp dir.
cat >"$B/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_config_dir = "$B/net"
[engine]
runtime_supports_json = ["crun", "runc", "husk"]
lock_type = "file"
tmp_dir = "$B/tmp"
EOF
export CONTAINERS_CONF=$B/containers.conf
cat >"$B/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$B/root"
runroot = "$B/runroot"
EOF
export CONTAINERS_STORAGE_CONF=$B/storage.conf
# buildah writes layer blobs to TMPDIR (default /var/tmp) while it commits.
export TMPDIR=$B/tmp
mkdir -p "$TMPDIR"

bh() {
	timeout "$CLIENTS_TIMEOUT" buildah --root "$B/root" --runroot "$B/runroot" --storage-driver overlay "$@"
}
# buildah, like podman, gives the runtime no --root as root: --runtime-flag sets it.
RUN_OPTS=(--runtime "$HUSKW" --runtime-flag "root=$HROOT" --isolation oci --network none)
# bud only: the RUN steps' cgroups under a parent named after this run, and a capability set
# of our choosing (CHOWN and NET_BIND_SERVICE: bits 0 and 10).
BUD_OPTS=(--cgroup-parent "/$TAG" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
	--cap-drop ALL --cap-add CHOWN --cap-add NET_BIND_SERVICE)

engine_stop() {
	[ -d "$B/root" ] || return 0
	bh rm -a >/dev/null 2>&1
	bh rmi -a -f >/dev/null 2>&1
}

make_rootfs_tar "$T/ctx/rootfs.tar"
cat >"$T/ctx/Containerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
RUN echo "step one in pid $$ as uid $(id -u)" && echo built-by-run >/built
RUN grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status | tee /status
RUN test -f /built && echo "step three sees /built"
CMD ["cat", "/built"]
EOF

check "buildah bud runs the RUN steps" \
	bh bud "${RUN_OPTS[@]}" "${BUD_OPTS[@]}" --layers=false -f "$T/ctx/Containerfile" -t "$IMG" "$T/ctx"
expect_match "step one ran as PID 1, uid 0" "^step one in pid 1 as uid 0\$" "$OUT"
expect_match "step two printed its status lines" "^CapEff:[[:space:]]+[0-9a-f]{16}\$" "$OUT"
expect_match "step three saw step one's file" "^step three sees /built\$" "$OUT"
expect_husk_called "buildah ran husk create for a RUN step, with the given --root" \
	"--root=$HROOT.* create .*--bundle "
expect_husk_called "buildah ran husk start" "--root=$HROOT.* start "
expect_eq "every RUN step made a husk create call (3)" 3 "$(grep -c ' create ' "$T/husk-argv.log")"

check "buildah from the built image" bh from --name "$TAG-ctr" "$IMG"
check "buildah mount" bh mount "$TAG-ctr"
mnt=$OUT
expect_eq "the image holds what RUN wrote" built-by-run "$(cat "$mnt/built" 2>&1)"
caps=$(awk '/^CapEff:/ {print $2}' "$mnt/status" 2>/dev/null)
expect_eq "RUN had exactly CHOWN and NET_BIND_SERVICE" 0000000000000401 "$caps"
expect_match "RUN ran under a seccomp filter" "^Seccomp:[[:space:]]+2\$" "$(cat "$mnt/status" 2>&1)"
check "buildah umount" bh umount "$TAG-ctr"

calls=$(grep -c ' create ' "$T/husk-argv.log")
check "buildah run on the built image" bh run "${RUN_OPTS[@]}" "$TAG-ctr" -- sh -c 'cat /built; id -u; grep :memory: /proc/self/cgroup'
expect_eq "buildah run output" "built-by-run
0" "$(head -n 2 <<<"$OUT")"
runcg=$(sed -n 's/^[0-9]*:memory://p' <<<"$OUT")
expect_match "buildah run had a memory cgroup of its own" "^/.+" "$runcg"
expect_eq "its cgroup is gone after the run" "" "$(ls -d "/sys/fs/cgroup/memory$runcg" 2>/dev/null)"
expect_eq "buildah run went through husk" $((calls + 1)) "$(grep -c ' create ' "$T/husk-argv.log")"
check_status "buildah run passes the exit status 3 on" 3 bh run "${RUN_OPTS[@]}" "$TAG-ctr" -- sh -c 'exit 3'

printf 'FROM %s\nRUN echo failing step; exit 9\n' "$IMG" >"$T/ctx/Containerfile.fail"
check_status "a failing RUN step fails the build with its exit status 9" 9 \
	bh bud "${RUN_OPTS[@]}" "${BUD_OPTS[@]}" --layers=false -f "$T/ctx/Containerfile.fail" -t "$IMG-fail" "$T/ctx"
expect_match "buildah reports the step's exit status 9" "exit status 9" "$OUT"

# --- shutdown -----------------------------------------------------------------------------
check "buildah rm" bh rm -a
bh rmi -a -f >/dev/null 2>&1
expect_eq "husk's root holds no container" "" "$(ls "$HROOT" 2>/dev/null)"
remove_side_effect /var/lib/containers \
	"containers/image writes its blob-info cache there whatever --root says"
for cg in $(leftover_cgroups); do
	rmdir "$cg" 2>/dev/null || not_ok "the parent cgroup $cg is empty" "$(find "$cg" -type d)"
done
check_nothing_left
[ "$CLIENTS_FAIL" -eq 0 ] || show_husk_logs
clients_finish
