#!/usr/bin/env bash
# image.sh: builds the root filesystem of the systemd VM flavour (tests/vm/run.sh with
# VM_FLAVOUR=systemd) and prints the path of its ext4 image. The image holds:
#   - Debian 12 from debootstrap (minbase) and the packages listed in tests/vm/systemd/packages,
#     installed with apt (no recommends) from the Debian mirrors apt uses on this machine;
#   - units a test boot does not need masked, the engines (containerd, docker, podman) disabled
#     at boot: a test starts the one it uses with systemctl;
#   - user husktest (uid 1000, /etc/subuid and /etc/subgid ranges) with lingering enabled, so
#     user@1000.service, its systemd user manager and D-Bus session bus, run from boot on.
# Cached in ${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}/systemd-rootfs-<key>/root.img,
# key = hash of this file and the package list: rebuilt only when either changes. One build at a
# time (a lock): a concurrent caller waits and reuses the result. Downloaded .debs are kept in
# debs/ next to it for the next build. The VM opens the image with qemu's snapshot=on, so boots
# never write into it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
cache=${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}
suite=bookworm
# The file system's size (sparse: only what is written takes host disk): room for the images and
# containers tests make in a boot, which go to qemu's temporary snapshot file.
size=8G

# build ROOT: runs in a private mount namespace (see below), so the chroot's mounts end with it.
build() {
	local root=$1 mirror=$2
	debootstrap --variant=minbase --cache-dir="$cache/debs" "$suite" "$root" "$mirror" >&2
	# The suites and mirrors apt uses here (updates and security included), the host's leniency
	# about Release dates (a snapshot mirror's Valid-Until lies in the past).
	printf '%s\n' "$SOURCES" | awk '{ print "deb " $1 " " $2 " main" }' >"$root/etc/apt/sources.list"
	printf 'Acquire::Check-Valid-Until "false";\nAcquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/90husk-vm"
	[ -z "${http_proxy:-}" ] || printf 'Acquire::http::Proxy "%s";\n' "$http_proxy" >>"$root/etc/apt/apt.conf.d/90husk-vm"
	# No documentation, and no fsync per file (the image is made once from the result).
	cat >"$root/etc/dpkg/dpkg.cfg.d/90husk-vm" <<-'EOF'
		force-unsafe-io
		path-exclude=/usr/share/doc/*
		path-exclude=/usr/share/man/*
		path-exclude=/usr/share/info/*
		path-exclude=/usr/share/locale/*
		path-include=/usr/share/locale/locale.alias
	EOF
	# Package scripts must not start services in the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mount -t proc proc "$root/proc"
	mount --bind "$cache/debs" "$root/var/cache/apt/archives"
	chroot "$root" apt-get update -qq >&2
	# shellcheck disable=SC2046
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Use-Pty=0 $(sed 's/#.*//' "$here/packages") >&2
	chroot "$root" apt-get autoclean -qq >&2
	umount "$root/var/cache/apt/archives" "$root/proc"
	rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/var/log/apt/*
	sed -i '/force-unsafe-io/d' "$root/etc/dpkg/dpkg.cfg.d/90husk-vm"
	configure "$root"
}

# configure ROOT: what makes the image a quick-booting test host.
configure() {
	local root=$1
	echo husk-vm >"$root/etc/hostname"
	printf '127.0.0.1 localhost\n127.0.1.1 husk-vm\n::1 localhost\n' >"$root/etc/hosts"
	: >"$root/etc/resolv.conf"
	# An empty machine-id: the VM's stage-1 init writes a fresh one at every boot.
	: >"$root/etc/machine-id"
	# Unprivileged user with subordinate ids (rootless containers) and lingering (its user manager
	# runs from boot on, with a delegated cgroup subtree and a session bus).
	chroot "$root" useradd --create-home --uid 1000 --user-group --shell /bin/bash husktest
	echo husktest:100000:65536 >"$root/etc/subuid"
	echo husktest:100000:65536 >"$root/etc/subgid"
	mkdir -p "$root/var/lib/systemd/linger"
	: >"$root/var/lib/systemd/linger/husktest"
	# Every controller delegated to user managers, not only systemd's default cpu, memory and pids
	# (what runc's CI and podman's rootless set-up configure).
	mkdir -p "$root/etc/systemd/system/user@.service.d"
	printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >"$root/etc/systemd/system/user@.service.d/delegate.conf"
	# Volatile journal: nothing to flush to /var at boot.
	mkdir -p "$root/etc/systemd/journald.conf.d"
	printf '[Journal]\nStorage=volatile\n' >"$root/etc/systemd/journald.conf.d/husk-vm.conf"
	# Engines start when a test asks for them, not at every boot.
	chroot "$root" systemctl disable -q containerd.service docker.service docker.socket podman.service \
		podman.socket podman-restart.service podman-auto-update.service podman-auto-update.timer
	# Nor the user's manager: gnupg's sockets (gpgme came with podman).
	chroot "$root" systemctl --global disable -q dirmngr.socket gpg-agent.socket gpg-agent-browser.socket \
		gpg-agent-extra.socket gpg-agent-ssh.socket
	# What a test boot does not need: logins, timers, clocks, network waits, first-boot set-up.
	chroot "$root" systemctl mask -q \
		getty.target getty@.service serial-getty@.service console-getty.service \
		apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
		e2scrub_reap.service fstrim.timer systemd-tmpfiles-clean.timer logrotate.timer \
		systemd-timesyncd.service systemd-networkd-wait-online.service \
		systemd-firstboot.service systemd-random-seed.service systemd-update-utmp.service \
		systemd-update-utmp-runlevel.service systemd-journal-flush.service \
		systemd-pstore.service systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
		sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \
		modprobe@drm.service modprobe@efi_pstore.service modprobe@configfs.service \
		modprobe@fuse.service modprobe@dm_mod.service modprobe@loop.service \
		sys-kernel-config.mount ldconfig.service systemd-sysusers.service systemd-remount-fs.service
	# Generators with nothing to find here (no fstab, LUKS, GPT auto-mounts, SysV-only scripts,
	# desktop autostart), and gnupg's environment generator that runs gpgconf in every user manager.
	local g
	mkdir -p "$root"/etc/systemd/{system-generators,user-generators,user-environment-generators}
	for g in cryptsetup gpt-auto hibernate-resume integritysetup veritysetup getty rc-local \
		system-update sysv; do
		ln -s /dev/null "$root/etc/systemd/system-generators/systemd-$g-generator"
	done
	ln -s /dev/null "$root/etc/systemd/user-generators/systemd-xdg-autostart-generator"
	ln -s /dev/null "$root/etc/systemd/user-environment-generators/90gpg-agent"
	chroot "$root" systemctl set-default -q multi-user.target
}

if [ "${1:-}" = --build ]; then
	build "$2" "$3"
	exit 0
fi

"$here/../../../scripts/deps.sh" debootstrap e2fsprogs util-linux >&2
key=$(cat "$0" "$here/packages" | sha256sum | cut -c1-16)
out=$cache/systemd-rootfs-$key
mkdir -p "$cache/debs"
exec 8>"$cache/.systemd-rootfs.lock"
flock 8
if [ -s "$out/root.img" ]; then
	touch "$out"
	echo "$out/root.img"
	exit 0
fi

# The Debian suites apt is configured with here, "SITE SUITE" per line (e.g.
# "http://deb.debian.org/debian bookworm"); debootstrap uses the mirror of the main suite.
sources() {
	apt-get indextargets --format '$(SITE) $(RELEASE)' 'Identifier: Packages' 'Component: main' |
		awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"' | sort -u
}
SOURCES=$(sources)
# apt lists only the sources it has indexes of: none before a first `apt-get update`.
if [ -z "$SOURCES" ]; then
	apt-get update -qq >&2
	SOURCES=$(sources)
fi
mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$SOURCES")
[ -n "$mirror" ] || { echo "image.sh: apt has no $suite main source configured (/etc/apt/sources.list*)" >&2; exit 1; }
export SOURCES
# debootstrap fetches with wget: apt's proxy, if one is configured, through its variable.
if [ -z "${http_proxy:-}" ]; then
	eval "$(apt-config shell http_proxy Acquire::http::Proxy)"
	[ -z "${http_proxy:-}" ] || export http_proxy
fi

echo "image.sh: building the systemd VM root filesystem into $out (debootstrap from $mirror)" >&2
start=$SECONDS
tmp=$(mktemp -d "$cache/.systemd-build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
unshare -m --propagation private -- "$0" --build "$tmp/root" "$mirror"
truncate -s "$size" "$tmp/root.img"
mkfs.ext4 -q -F -L husk-root -E root_owner=0:0 -d "$tmp/root" "$tmp/root.img"
rm -rf "$tmp/root"
mkdir -p "$out"
mv "$tmp/root.img" "$out/root.img"
touch "$out"
echo "image.sh: built in $((SECONDS - start)) s, $(du -m --apparent-size "$out/root.img" | cut -f1) MB apparent, $(du -m "$out/root.img" | cut -f1) MB used" >&2
# Images of other versions of this script unused for two weeks (another checkout may still use
# a recent one).
find "$cache" -maxdepth 1 -name 'systemd-rootfs-*' -type d ! -path "$out" -mtime +14 \
	-exec rm -rf {} + 2>/dev/null || true
echo "$out/root.img"
