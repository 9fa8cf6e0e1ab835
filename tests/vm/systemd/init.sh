#!/bb/busybox sh
# shellcheck shell=dash
# /init of the systemd test VM (busybox sh, PID 1 until it becomes systemd). Mounts the root file
# system (tests/vm/systemd/image.sh's ext4 image on the virtio disk /dev/vda, which qemu opens
# with snapshot=on: what the boot writes is gone after it) and the shares run.sh lists, adds the
# unit that runs the command, and executes systemd as PID 1 in that root.
#
# ctl share (host: run.sh's temp dir; here: /ctl), as for tests/vm/init.sh:
#   mounts   lines "TAG DIR MODE": 9p share TAG at DIR; MODE ro or rw
#   cmd      the command line (run by bash), cwd its directory, timeout its limit in seconds
#   out      written here: the command's stdout and stderr (run.sh streams it)
#   rc       written here: the command's exit status (124 when it timed out)
# The command runs as root in husk-vm.service (system.slice, Delegate=yes, as an engine's unit),
# started once multi-user.target and user@1000.service (husktest's lingering user manager) are
# up; systemd powers the VM off when it ends. Anything that goes wrong before systemd runs is
# printed on the console (ttyS0, which run.sh keeps and prints when no rc came back).
export PATH=/bb

die() {
	echo "vm init: $*" >&2
	poweroff -f
}

mount -t proc proc /proc || die "mount /proc"
mount -t sysfs sysfs /sys || die "mount /sys"
mount -t devtmpfs devtmpfs /dev || die "mount /dev"
while read -r m; do
	insmod "/modules/$m.ko" || die "insmod $m"
done </modules/order
# The disk's node appears once virtio_blk has probed it.
n=0
while [ ! -b /dev/vda ]; do
	n=$((n + 1))
	[ $n -le 200 ] || die "no /dev/vda (the root file system image)"
	sleep 0.05
done
mount -t ext4 /dev/vda /newroot || die "mount the root file system /dev/vda"

# The shares, as tests/vm/init.sh mounts them (msize: the largest the 6.1 virtio transport takes).
p9="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /newroot/ctl
mount -t 9p -o "$p9" ctl /newroot/ctl || die "mount the ctl share"
while read -r tag dir mode; do
	mkdir -p "/newroot$dir"
	case $mode in
	ro) mount -t 9p -o "$p9,ro,cache=loose" "$tag" "/newroot$dir" || die "mount $tag at $dir" ;;
	rw) mount -t 9p -o "$p9,cache=loose" "$tag" "/newroot$dir" || die "mount $tag at $dir" ;;
	*) die "ctl/mounts: mode $mode of $tag is not ro or rw" ;;
	esac
done </newroot/ctl/mounts

# A machine id of this boot (the image's is empty).
tr -d '-' </proc/sys/kernel/random/uuid >/newroot/etc/machine-id || die "write /etc/machine-id"

# The command's unit, behind a target reached after multi-user.target (a unit wanted by
# multi-user.target cannot also start after it). Wants, not Requires: the command runs even when
# part of the system failed (systemd_vm.bats reports failed units).
units=/newroot/etc/systemd/system
cat >"$units/husk-vm.target" <<-'EOF' || die "write husk-vm.target"
	[Unit]
	Description=husk test VM: the system, then the command
	Wants=multi-user.target
	After=multi-user.target
	Wants=husk-vm.service
	AllowIsolate=yes
EOF
ln -sfn husk-vm.target "$units/default.target" || die "link default.target"
cwd=$(cat /newroot/ctl/cwd)
cat >"$units/husk-vm.service" <<-EOF || die "write husk-vm.service"
	[Unit]
	Description=husk test VM command (tests/vm/run.sh)
	Wants=user@1000.service
	After=multi-user.target user@1000.service
	SuccessAction=poweroff-immediate
	FailureAction=poweroff-force

	[Service]
	Type=exec
	Delegate=yes
	WorkingDirectory=$cwd
	Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb
	ExecStart=/bin/sh /usr/local/libexec/husk-vm-command
	StandardInput=null
	StandardOutput=append:/ctl/out
	StandardError=inherit
EOF
mkdir -p /newroot/usr/local/libexec
# The shares are cached (cache=loose): written back before the status, which ends the boot.
cat >/newroot/usr/local/libexec/husk-vm-command <<-'EOF' || die "write husk-vm-command"
	timeout -k 10 "$(cat /ctl/timeout)" bash /ctl/cmd
	rc=$?
	sync
	echo $rc >/ctl/rc
EOF

mount --move /dev /newroot/dev && mount --move /proc /newroot/proc && mount --move /sys /newroot/sys ||
	die "move /dev, /proc and /sys into the root"
exec switch_root /newroot /lib/systemd/systemd
