#!/bb/busybox sh
# shellcheck shell=dash
# /init of the husk test VM (PID 1, busybox sh). Builds a pure cgroup v2 system out of the host's
# files, runs the command run.sh left in the "ctl" share, writes its exit status there, powers off.
#
# ctl share (host: run.sh's temp dir; here: /ctl):
#   mounts   lines "TAG DIR MODE": 9p share TAG at DIR; MODE ro, rw, or overlay (the read-only
#            share under a tmpfs upper layer, so the VM can write without touching the host)
#   cmd      the command line (run by bash), cwd its directory, timeout its limit in seconds,
#            cgroup the cgroup2 path it runs in
#   out      written here: the command's stdout and stderr (run.sh streams it)
#   rc       written here: the command's exit status (124 when it timed out)
# Anything that goes wrong before the command runs is printed on the console (ttyS0, which run.sh
# keeps in a file and prints when no rc came back).
export PATH=/bb

die() {
	echo "vm init: $*" >&2
	poweroff -f
}

# pivot_root(2), which every runtime uses, refuses the initramfs (the rootfs mount, which has no
# parent): copy it onto a tmpfs and make that the root, as a disk-booted system's root would be.
if [ "$$" = 1 ] && [ -z "$VM_SWITCHED" ]; then
	mkdir /newroot && mount -t tmpfs -o mode=0755 root /newroot || die "mount the tmpfs root"
	set --
	for f in /*; do [ "$f" = /newroot ] || set -- "$@" "$f"; done
	cp -a "$@" /newroot/ || die "copy the initramfs to the tmpfs root"
	export VM_SWITCHED=1
	exec switch_root /newroot /init
fi

mount -t proc proc /proc || die "mount /proc"
mount -t sysfs sysfs /sys || die "mount /sys"
# AppArmor (on in Debian's kernel) shows itself and takes policy through securityfs, as on a
# systemd host; without it the AppArmor tests skip.
mount -t securityfs securityfs /sys/kernel/security || echo "vm init: no securityfs" >&2
# Booted with SELinux as the LSM (VM_APPEND=lsm=...,selinux,...): its filesystem, for
# load_policy and for the runtimes to see SELinux.
if [ -d /sys/fs/selinux ]; then
	mount -t selinuxfs selinuxfs /sys/fs/selinux || die "mount selinuxfs"
fi
mount -t devtmpfs devtmpfs /dev || die "mount /dev"
# What udev would add: bash's process substitution needs /dev/fd.
ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout &&
	ln -s fd/2 /dev/stderr || die "make /dev/fd links"
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts || die "mount /dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm || die "mount /dev/shm"
mount -t mqueue mqueue /dev/mqueue || die "mount /dev/mqueue"
mount -t tmpfs -o mode=1777 tmpfs /tmp || die "mount /tmp"
mount -t tmpfs -o mode=0755 tmpfs /run || die "mount /run"

while read -r m; do
	insmod "/modules/$m.ko" || die "insmod $m"
done </modules/order

# Pure cgroup v2 as a systemd host mounts it, every controller the kernel has enabled for children.
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup || die "mount cgroup2"
enable=
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do enable="$enable +$c"; done
echo "$enable" >/sys/fs/cgroup/cgroup.subtree_control || die "enable controllers:$enable"

# msize: the largest 9p message the 6.1 virtio transport takes; far fewer round trips than 8 KiB.
p9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$p9" ctl /ctl || die "mount the ctl share"
while read -r tag dir mode; do
	mkdir -p "$dir"
	case $mode in
	ro) mount -t 9p -o "$p9,ro,cache=loose" "$tag" "$dir" || die "mount $tag at $dir" ;;
	rw) mount -t 9p -o "$p9,cache=loose" "$tag" "$dir" || die "mount $tag at $dir" ;;
	overlay)
		mkdir -p "/run/vm/$tag/lower" "/run/vm/$tag/upper" "/run/vm/$tag/work"
		mount -t 9p -o "$p9,ro,cache=loose" "$tag" "/run/vm/$tag/lower" || die "mount $tag"
		mount -t overlay -o "lowerdir=/run/vm/$tag/lower,upperdir=/run/vm/$tag/upper,workdir=/run/vm/$tag/work" \
			overlay "$dir" || die "mount overlay at $dir"
		;;
	*) die "ctl/mounts: unknown mode $mode for $tag" ;;
	esac
done </ctl/mounts
hostname husk-vm
# The loopback device up, as on any booted system (criu tests TCP repair on it at start).
ip link set lo up || die "bring up lo"

# The command's cgroup: by default a leaf /init.scope, where a systemd host keeps PID 1; commands
# started from a login shell sit in a leaf below /user.slice the same way.
cg=$(cat /ctl/cgroup)
if [ "$cg" != / ]; then
	mkdir -p "/sys/fs/cgroup$cg" && echo $$ >"/sys/fs/cgroup$cg/cgroup.procs" || die "move init to $cg"
fi

cd "$(cat /ctl/cwd)" || die "cd $(cat /ctl/cwd)"
# A subshell, so that the redirection is the child's only: ash would print "Killed" into /ctl/out.
(exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin \
	HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb \
	/usr/bin/timeout -k 10 "$(cat /ctl/timeout)" /usr/bin/bash /ctl/cmd) </dev/null >/ctl/out 2>&1
rc=$?
# The shares are cached (cache=loose: 10x faster exec from them): write back before power off.
sync
echo $rc >/ctl/rc
poweroff -f
