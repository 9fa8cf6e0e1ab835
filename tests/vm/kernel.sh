#!/usr/bin/env bash
# kernel.sh: makes the boot files of the pure cgroup v2 test VM from Debian's packages and prints
# the directory that holds them:
#   vmlinux         Debian's linux-image-amd64 kernel as an ELF with its PVH note: qemu boots it
#                   directly (the compressed bzImage through a BIOS takes ~5x longer)
#   initramfs.cpio  busybox, tests/vm/init.sh as /init, and the modules the VM needs
# Cached in ${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}/<kernel package>/. The .deb
# is downloaded with `apt-get download` and unpacked with `dpkg -x` (never installed), and only
# when that kernel is not cached yet. The initramfs is rebuilt when init.sh or this file changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
cache=${HUSK_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-vm}
# 9p and virtio carry the host's files; overlay is used by husk (sealed exe) and tests; veth and
# dummy are network devices tests can make (the host has none as modules). criu needs the socket
# diag modules to find sockets, nf_conntrack_netlink to dump a network namespace's connection
# tracking, and nf_tables with xt_mark for the iptables(-nft) rules it locks a network namespace
# with while dumping TCP connections (libcrc32c needs crc32c loaded first: a soft dependency,
# which add_module does not follow).
modules=(virtio_pci 9pnet_virtio 9p overlay veth dummy unix_diag inet_diag tcp_diag udp_diag
	netlink_diag af_packet_diag crc32c_generic nf_conntrack_netlink nf_tables nft_compat xt_mark)

"$here/../../scripts/deps.sh" busybox-static qemu-system-x86 xz-utils >&2

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
		apt-get update -qq >&2
		pkg=$(image_pkg)
	fi
	[ -n "$pkg" ] || { echo "kernel.sh: linux-image-amd64 depends on no linux-image-6.1.*-amd64" >&2; exit 1; }
	echo "$pkg" >"$cache/package"
fi
dir=$cache/$pkg
mkdir -p "$dir"

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

# add_module NAME: copies module NAME and, first, the modules it depends on (the depends= field of
# its .modinfo section) into $dir/modules, appending each to the load order once.
add_module() {
	local name=$1 rel dep
	grep -qxF "$name" "$dir/modules/order" && return 0
	rel=$(awk -v n="$name" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
		if (b == n) { print; exit } }' "$unpacked/lib/modules/$kver/modules.order")
	[ -n "$rel" ] || { echo "kernel.sh: module $name not in $pkg" >&2; return 1; }
	for dep in $(tr '\0' '\n' <"$unpacked/lib/modules/$kver/$rel" | sed -n 's/^depends=//p' | tr , ' '); do
		add_module "${dep//-/_}"
	done
	cp "$unpacked/lib/modules/$kver/$rel" "$dir/modules/$name.ko"
	echo "$name" >>"$dir/modules/order"
}

kver=${pkg#linux-image-}
# Fetched again when the list of modules changed.
if [ ! -s "$dir/vmlinux" ] || [ ! -s "$dir/modules/order" ] ||
	[ "$(cat "$dir/modules/list" 2>/dev/null)" != "${modules[*]}" ]; then
	echo "kernel.sh: fetching $pkg into $dir" >&2
	tmp=$(mktemp -d "$cache/.fetch-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# Sandbox user root: apt's _apt user cannot write into this private temp dir.
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) || true
	debs=("$tmp/$pkg"_*.deb)
	deb=${debs[0]}
	[ -f "$deb" ] || { echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
	unpacked=$tmp/x
	dpkg -x "$deb" "$unpacked"
	rm -rf "$dir/modules"
	mkdir -p "$dir/modules"
	: >"$dir/modules/order"
	for m in "${modules[@]}"; do add_module "$m"; done
	echo "${modules[*]}" >"$dir/modules/list"
	cp "$unpacked/boot/config-$kver" "$dir/config"
	extract_vmlinux "$unpacked/boot/vmlinuz-$kver" "$dir/vmlinux"
	rm -rf "$tmp"
	trap - EXIT
fi

# The initramfs: busybox and its applets at /bb, the modules, mount points, and the host's
# top-level layout (on a merged-/usr host /bin, /sbin, /lib* are symlinks into /usr; otherwise
# run.sh shares them).
if [ ! -s "$dir/initramfs.cpio" ] || [ "$here/init.sh" -nt "$dir/initramfs.cpio" ] ||
	[ "$here/kernel.sh" -nt "$dir/initramfs.cpio" ] || [ /bin/busybox -nt "$dir/initramfs.cpio" ] ||
	[ "$dir/modules/order" -nt "$dir/initramfs.cpio" ]; then
	root=$(mktemp -d "$cache/.initramfs-XXXXXX")
	trap 'rm -rf "$root"' EXIT
	mkdir -p "$root"/{bb,modules,proc,sys,dev,etc,usr,tmp,run,root,ctl}
	cp /bin/busybox "$root/bb/busybox"
	# The applet links made here: `busybox --install` at boot costs 0.3 s of emulated CPU.
	for a in $(busybox --list); do [ "$a" = busybox ] || ln -s busybox "$root/bb/$a"; done
	cp "$here/init.sh" "$root/init"
	chmod 755 "$root/init"
	cp "$dir/modules/"* "$root/modules/"
	for d in bin sbin lib lib32 lib64 libx32; do
		if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$root/$d"; elif [ -d "/$d" ]; then mkdir "$root/$d"; fi
	done
	(cd "$root" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) >"$dir/initramfs.cpio.tmp"
	mv "$dir/initramfs.cpio.tmp" "$dir/initramfs.cpio"
	rm -rf "$root"
	trap - EXIT
fi
echo "$dir"
