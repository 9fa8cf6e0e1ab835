#!/usr/bin/env bash
# mkbundle.sh DIR [husk binary]: makes an OCI bundle at DIR with a busybox rootfs from Debian's
# busybox-static and husk's default config.json, set to run without a terminal.
set -euo pipefail
dir=$1
husk=${2:-$(dirname "$0")/../husk}
bb=/bin/busybox
[ -x "$bb" ] || { echo "mkbundle: $bb missing (install busybox-static)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin}
cp "$bb" "$dir/rootfs/bin/busybox"
for applet in $("$bb" --list-full); do
	[ -e "$dir/rootfs/$applet" ] || ln -s /bin/busybox "$dir/rootfs/$applet"
done
chmod 1777 "$dir/rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/rootfs/etc/group"
"$husk" spec --bundle "$dir"
# No terminal: the demo and tests read the container's output through pipes.
sed -i 's/"terminal": true/"terminal": false/' "$dir/config.json"
