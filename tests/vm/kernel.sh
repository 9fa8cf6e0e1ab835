#!/usr/bin/env bash
# kernel.sh [busybox|systemd]: makes the boot files of a test VM flavour from Debian's packages and
# prints the directory that holds them:
#   vmlinux         Debian's linux-image-amd64 kernel as an ELF with its PVH note: qemu boots it
#                   directly (the compressed bzImage through a BIOS takes ~5x longer)
#   initramfs.cpio  busybox, the flavour's /init and the modules it loads:
#                   busybox (default): tests/vm/init.sh, a system made of the host's files
#                   systemd: tests/vm/systemd/init.sh, which mounts the root file system image
#                   (tests/vm/systemd/image.sh) from a virtio disk and starts systemd
#   modules, kver   (systemd) the kernel's modules (file systems, networking, block and virtio
#                   drivers) with depmod's indexes, shared into the VM as /usr/lib/modules/<kver>
#                   so that modprobe works there
# Cached in ${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}/<kernel package>/ (systemd:
# its subdirectory systemd-<hash of the initramfs' inputs>/). The .deb is downloaded with
# `apt-get download` and unpacked with `dpkg -x` (never installed), and only when something made
# from it is missing. The busybox initramfs is rebuilt when init.sh or this file changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
cache=${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}
flavour=${1:-busybox}
case $flavour in
busybox | systemd) ;;
*) echo "usage: $0 [busybox|systemd]" >&2; exit 2 ;;
esac
# busybox: 9p and virtio carry the host's files; overlay is used by husk (sealed exe) and tests;
# veth and dummy are network devices tests can make (the host has none as modules). criu needs
# the socket diag modules to find sockets, nf_conntrack_netlink to dump a network namespace's
# connection tracking, and nf_tables with xt_mark for the iptables(-nft) rules it locks a network
# namespace with while dumping TCP connections (libcrc32c needs crc32c loaded first: a soft
# dependency, which add_module does not follow).
modules=(virtio_pci 9pnet_virtio 9p overlay veth dummy unix_diag inet_diag tcp_diag udp_diag
	netlink_diag af_packet_diag crc32c_generic nf_conntrack_netlink nf_tables nft_compat xt_mark)
# systemd: the root file system image on a virtio disk (ext4 with crc32c checksums), 9p for the
# checkout and the modules tree; anything else is loaded on demand from that tree.
systemd_modules=(virtio_pci virtio_blk crc32c_generic ext4 9pnet_virtio 9p)
# The modules tree the systemd VM gets: all but hardware drivers (file systems, networking,
# netfilter, crypto), and the virtual devices and block layers.
tree_dirs=(arch block crypto fs lib mm net virt drivers/block drivers/char drivers/md drivers/net
	drivers/virtio drivers/vhost)
tree_skip=(drivers/net/wireless drivers/net/ethernet)

"$here/../../scripts/deps.sh" busybox-static qemu-system-x86 xz-utils kmod >&2

# linux-image-amd64 is a metapackage: it depends on one versioned linux-image-6.1.0-N-amd64.
image_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.[0-9]+-[0-9]+-amd64$/ { print $2; exit }'
}
mkdir -p "$cache"
# One run.sh at a time fetches and builds; the others wait and reuse the result.
exec 9>"$cache/.lock"
flock 9
# Resolving costs 0.6 s a call: reuse the answer until apt's lists or package cache change.
if [ -s "$cache/package" ] && [ "$cache/package" -nt /var/lib/apt/lists ] &&
	[ "$cache/package" -nt /var/cache/apt/pkgcache.bin ]; then
	pkg=$(cat "$cache/package")
else
	pkg=$(image_pkg)
	if [ -z "$pkg" ]; then
		"$here/../../scripts/deps.sh" --update >&2
		pkg=$(image_pkg)
	fi
	[ -n "$pkg" ] || { echo "kernel.sh: linux-image-amd64 depends on no linux-image-6.1.*-amd64" >&2; exit 1; }
	echo "$pkg" >"$cache/package"
fi
kver=${pkg#linux-image-}
dir=$cache/$pkg
mkdir -p "$dir"
temps=()
trap 'rm -rf "${temps[@]}"' EXIT

# unpack: downloads the kernel package and unpacks it into $unpacked, once per run.
unpacked=
unpack() {
	[ -z "$unpacked" ] || return 0
	local tmp debs
	echo "kernel.sh: fetching $pkg into $dir" >&2
	tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
	temps+=("$tmp")
	# Sandbox user root: apt's _apt user cannot write into this private temp dir.
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || true
	debs=("$tmp/$pkg"_*.deb)
	[ -f "${debs[0]}" ] || { echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
	dpkg -x "${debs[0]}" "$tmp/x"
	unpacked=$tmp/x
}

# extract_vmlinux BZIMAGE OUT: the bzImage holds the kernel as one xz stream after the setup code;
# try each xz magic until one decompresses to an ELF (what scripts/extract-vmlinux does).
extract_vmlinux() {
	local off
	for off in $(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
		# No status check: tail dies of SIGPIPE once xz has read its one stream; the magic tells.
		tail -c +"$((off + 1))" "$1" | xz -dc --single-stream >"$2.tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$2.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$2.tmp" "$2"
			return 0
		fi
	done
	rm -f "$2.tmp"
	echo "kernel.sh: no xz-compressed ELF found in $1" >&2
	return 1
}

# add_module DIR NAME: copies module NAME and, first, the modules it depends on (the depends= field
# of its .modinfo section) into DIR, appending each to DIR/order (the load order) once.
add_module() {
	local out=$1 name=$2 rel dep
	grep -qxF "$name" "$out/order" && return 0
	rel=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
		if (b == n) { print; exit } }' "$unpacked/lib/modules/$kver/modules.order")
	[ -n "$rel" ] || { echo "kernel.sh: module $name not in $pkg" >&2; return 1; }
	for dep in $(tr '\0' '\n' <"$unpacked/lib/modules/$kver/$rel" | sed -n 's/^depends=//p' | tr , ' '); do
		add_module "$out" "${dep//-/_}"
	done
	cp "$unpacked/lib/modules/$kver/$rel" "$out/$name.ko"
	echo "$name" >>"$out/order"
}

# boot_modules DIR NAME...: DIR holds the modules NAME... and their dependencies, in load order;
# remade when the list changed.
boot_modules() {
	local out=$1 m
	shift
	[ -s "$out/order" ] && [ "$(cat "$out/list" 2>/dev/null)" = "$*" ] && return 0
	unpack
	rm -rf "$out"
	mkdir -p "$out"
	: >"$out/order"
	for m in "$@"; do add_module "$out" "$m"; done
	echo "$*" >"$out/list"
}

# initramfs_base ROOT INIT MODULES: busybox and its applets at ROOT/bb, INIT as /init, the
# modules of the directory MODULES and their load order in /modules, the usual mount points.
initramfs_base() {
	local root=$1 a
	mkdir -p "$root"/{bb,modules,proc,sys,dev,etc,tmp,run,root,ctl}
	cp /bin/busybox "$root/bb/busybox"
	# The applet links made here: `busybox --install` at boot costs 0.3 s of emulated CPU.
	for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bb/$a"; done
	cp "$2" "$root/init"
	chmod 755 "$root/init"
	cp "$3"/*.ko "$3/order" "$root/modules/"
}

# write_cpio ROOT OUT: the newc archive of ROOT, owned by root, written to OUT atomically.
write_cpio() {
	(cd "$1" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$2.tmp"
	mv "$2.tmp" "$2"
}

if [ ! -s "$dir/vmlinux" ]; then
	unpack
	cp "$unpacked/boot/config-$kver" "$dir/config"
	extract_vmlinux "$unpacked/boot/vmlinuz-$kver" "$dir/vmlinux"
fi

if [ "$flavour" = busybox ]; then
	boot_modules "$dir/modules" "${modules[@]}"
	# The initramfs: busybox, init.sh, the modules, and the host's top-level layout (on a
	# merged-/usr host /bin, /sbin, /lib* are symlinks into /usr; otherwise run.sh shares them).
	if [ ! -s "$dir/initramfs.cpio" ] || [ "$here/init.sh" -nt "$dir/initramfs.cpio" ] ||
		[ "$here/kernel.sh" -nt "$dir/initramfs.cpio" ] || [ /bin/busybox -nt "$dir/initramfs.cpio" ] ||
		[ "$dir/modules/order" -nt "$dir/initramfs.cpio" ]; then
		root=$(mktemp -d "$cache/.initramfs-XXXXXX")
		temps+=("$root")
		initramfs_base "$root" "$here/init.sh" "$dir/modules"
		mkdir -p "$root/usr"
		for d in bin sbin lib lib32 lib64 libx32; do
			if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"; elif [ -d "/$d" ]; then mkdir "$root/$d"; fi
		done
		write_cpio "$root" "$dir/initramfs.cpio"
	fi
	echo "$dir"
	exit 0
fi

# systemd: the modules tree with depmod's indexes, remade when its list of directories changed.
tree_list="${tree_dirs[*]} - ${tree_skip[*]}"
if [ ! -s "$dir/modules-tree/modules.dep" ] || [ "$(cat "$dir/modules-tree/list" 2>/dev/null)" != "$tree_list" ]; then
	unpack
	tmp=$(mktemp -d "$cache/.tree-XXXXXX")
	temps+=("$tmp")
	from=$unpacked/lib/modules/$kver
	to=$tmp/lib/modules/$kver
	mkdir -p "$to/kernel/drivers"
	cp "$from"/modules.{order,builtin,builtin.modinfo} "$to/"
	for d in "${tree_dirs[@]}"; do
		if [ -d "$from/kernel/$d" ]; then cp -a "$from/kernel/$d" "$to/kernel/$d"; fi
	done
	for d in "${tree_skip[@]}"; do rm -rf "${to:?}/kernel/$d"; done
	depmod -b "$tmp" "$kver"
	echo "$tree_list" >"$to/list"
	rm -rf "$dir/modules-tree"
	mv "$to" "$dir/modules-tree"
fi

boot_modules "$dir/modules-systemd" "${systemd_modules[@]}"
# The initramfs, in a directory named after its inputs (several checkouts with different versions
# of init.sh may boot at once): busybox, systemd/init.sh as /init, the boot modules. Next to it
# the links run.sh uses: vmlinux, the modules tree and its kernel version.
key=$(cat "$here/kernel.sh" "$here/systemd/init.sh" /bin/busybox "$dir/modules-systemd/order" |
	sha256sum | cut -c1-16)
sd=$dir/systemd-$key
if [ ! -s "$sd/initramfs.cpio" ]; then
	tmp=$(mktemp -d "$cache/.initramfs-XXXXXX")
	temps+=("$tmp")
	initramfs_base "$tmp/root" "$here/systemd/init.sh" "$dir/modules-systemd"
	mkdir -p "$tmp/root/newroot"
	mkdir "$tmp/out"
	write_cpio "$tmp/root" "$tmp/out/initramfs.cpio"
	ln -s ../vmlinux "$tmp/out/vmlinux"
	ln -s ../modules-tree "$tmp/out/modules"
	echo "$kver" >"$tmp/out/kver"
	rm -rf "$sd"
	mv "$tmp/out" "$sd"
	# Initramfs directories of other versions unused for two weeks.
	find "$dir" -maxdepth 1 -name 'systemd-*' -type d ! -path "$sd" -mtime +14 \
		-exec rm -rf {} + 2>/dev/null || true
fi
touch "$sd"
echo "$sd"
