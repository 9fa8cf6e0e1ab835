#!/usr/bin/env bash
# run.sh CMD...: runs CMD as root in a qemu VM booting Debian's kernel with pure cgroup v2
# (cgroup_no_v1=all, every controller enabled), prints its output (stdout and stderr together)
# and exits with its exit status. Several words are joined with spaces into one bash command line,
# as ssh does:
#   tests/vm/run.sh 'cat /sys/fs/cgroup/cgroup.controllers; ./husk --version'
# Two flavours (VM_FLAVOUR):
#   busybox (default): a busybox init builds the system out of the host's files: the host's /usr
#     (read-only) and /etc (read-only, writable through an overlay), tmpfs /tmp and /run. CMD runs
#     in the cgroup VM_CGROUP.
#   systemd: systemd as PID 1 on a Debian 12 root file system of its own (tests/vm/systemd/
#     image.sh: systemd, D-Bus, containerd, docker, podman, Debian's runc, criu; writes are discarded
#     at power off), user husktest (uid 1000) logged in by lingering; CMD runs as the unit
#     husk-vm.service (see tests/vm/systemd/init.sh).
# Both share the checkout read-write at its host path. CMD runs in the current directory when that
# lies inside the checkout, else in the checkout's top.
# Environment: VM_TIMEOUT seconds for CMD (default 1800; exit 124 when hit, 137 when CMD also
# ignored the SIGTERM), VM_CPUS (2), VM_MEM (2G), VM_CGROUP (busybox) the cgroup2 path CMD runs in
# (default /init.scope, a leaf as on a systemd host; / for the root), VM_SYSTEMD_CGROUP (systemd)
# unified (default) or hybrid: systemd's hybrid layout, v1 controllers and its own cgroup2 at
# /sys/fs/cgroup/unified (no cgroup_no_v1=all), VM_APPEND more kernel
# parameters (e.g. lsm=lockdown,capability,landlock,yama,selinux,bpf: SELinux instead of the
# default AppArmor). Exit 125 when the VM itself failed (its console log is printed). CMD's stdin
# is /dev/null; the host's environment is not passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
timeout=${VM_TIMEOUT:-1800}
[ $# -gt 0 ] || { echo "usage: $0 CMD..." >&2; exit 2; }
case $timeout in '' | *[!0-9]*) echo "run.sh: VM_TIMEOUT=$timeout is not a number of seconds" >&2; exit 2 ;; esac
flavour=${VM_FLAVOUR:-busybox}
case $flavour in
busybox) ;;
systemd)
	[ -z "${VM_CGROUP:-}" ] || {
		echo "run.sh: VM_CGROUP is for VM_FLAVOUR=busybox: under systemd CMD runs in /system.slice/husk-vm.service" >&2
		exit 2
	}
	;;
*) echo "run.sh: VM_FLAVOUR=$flavour is not busybox or systemd" >&2; exit 2 ;;
esac
cgroup=${VM_CGROUP:-/init.scope}
case $cgroup in /*) ;; *) echo "run.sh: VM_CGROUP=$cgroup is not an absolute cgroup path" >&2; exit 2 ;; esac

boot=$("$here/kernel.sh" "$flavour")
ctl=$(mktemp -d /tmp/husktest-vm-XXXXXX)
qemu_pid=
# qemu never outlives this script: killed here on every exit, and (setpriv --pdeathsig) by the
# kernel should this shell die without running its traps.
cleanup() {
	if [ -n "$qemu_pid" ]; then
		# timeout(1) leads its own process group: this kills it and qemu together.
		kill -KILL -- "-$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cwd=$(pwd -P)
case $cwd/ in "$repo"/*) ;; *) cwd=$repo ;; esac
printf '%s\n' "$*" >"$ctl/cmd"
echo "$cwd" >"$ctl/cwd"
echo "$timeout" >"$ctl/timeout"
echo "$cgroup" >"$ctl/cgroup"
: >"$ctl/out"

# Shares: tag, host dir, mode (see init.sh), and the dir in the VM when not the same.
args=()
append="console=ttyS0 quiet panic=-1"
# The systemd flavour can boot systemd's hybrid layout instead (v1 controllers, its own cgroup2
# at /sys/fs/cgroup/unified): VM_SYSTEMD_CGROUP=hybrid.
sd_cgroup=${VM_SYSTEMD_CGROUP:-unified}
case $flavour/$sd_cgroup in
systemd/hybrid) append+=" systemd.unified_cgroup_hierarchy=0" ;;
*/unified) append="cgroup_no_v1=all $append" ;;
*) echo "run.sh: VM_SYSTEMD_CGROUP=$sd_cgroup is not unified or hybrid (hybrid: VM_FLAVOUR=systemd only)" >&2; exit 2 ;;
esac
if [ "$flavour" = busybox ]; then
	# Top-level dirs that are not symlinks into /usr (a host without merged /usr) are shared
	# read-only too.
	shares=("usr /usr ro" "etc /etc overlay" "repo $repo rw")
	for d in bin sbin lib lib32 lib64 libx32; do
		[ -d "/$d" ] && [ ! -L "/$d" ] && shares+=("$d /$d ro")
	done
else
	image=$("$here/systemd/image.sh")
	# The kernel's modules for modprobe; the root file system on a disk whose writes go to a
	# temporary file qemu deletes (snapshot=on).
	shares=("repo $repo rw" "modules $(readlink -f "$boot/modules") ro /usr/lib/modules/$(cat "$boot/kver")")
	args+=(-drive "file=$image,format=raw,if=virtio,snapshot=on,cache=unsafe")
	[ "$sd_cgroup" = hybrid ] || append+=" systemd.unified_cgroup_hierarchy=1"
fi
for s in "${shares[@]}"; do
	read -r tag dir mode guest <<<"$s"
	echo "$tag ${guest:-$dir} $mode" >>"$ctl/mounts"
	ro=; [ "$mode" = rw ] || ro=,readonly=on
	args+=(-virtfs "local,path=$dir,mount_tag=$tag,security_model=passthrough,multidevs=remap$ro")
done

# The host-side limit covers boot and poweroff on top of the command's own timeout (which the VM
# enforces, so that its output and status still come back).
setpriv --pdeathsig KILL timeout -s KILL "$((timeout + 120))" \
	setpriv --pdeathsig KILL qemu-system-x86_64 -nodefaults -nographic -accel tcg -M pc \
	-cpu max -smp "${VM_CPUS:-2}" -m "${VM_MEM:-2G}" -no-reboot -nic none \
	-kernel "$boot/vmlinux" -initrd "$boot/initramfs.cpio" \
	-append "$append${VM_APPEND:+ $VM_APPEND}" \
	-serial "file:$ctl/console" \
	-virtfs "local,path=$ctl,mount_tag=ctl,security_model=passthrough" "${args[@]}" \
	</dev/null >"$ctl/qemu.log" 2>&1 &
qemu_pid=$!
# Stream the command's output while the VM runs; tail exits once qemu is gone.
tail -n +1 -s 0.1 -f --pid="$qemu_pid" "$ctl/out"
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=

if [ ! -s "$ctl/rc" ]; then
	echo "run.sh: the VM ended without the command's exit status (qemu exit $qemu_rc)" >&2
	cat "$ctl/qemu.log" "$ctl/console" >&2 2>/dev/null || true
	exit 125
fi
exit "$(cat "$ctl/rc")"
