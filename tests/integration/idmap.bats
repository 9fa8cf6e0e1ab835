#!/usr/bin/env bats
# Id-mapped bind mounts (mounts[].uidMappings/gidMappings, options idmap and ridmap): what the
# container sees of the owners through the mount, what the host sees of files made through it,
# with and without the container's own user namespace, submounts with idmap and ridmap, the
# filesystems that cannot be id-mapped (overlayfs), and the refusals. The sources live in the
# test's temp dir (ext4 or tmpfs here: both can be id-mapped).

load helpers

OVERFLOW_UID=$(cat /proc/sys/kernel/overflowuid)
OVERFLOW_GID=$(cat /proc/sys/kernel/overflowgid)

setup() {
	requires root userns mount_setattr
	setup_husk
	# Relative sources (to the bundle), as runc's tests use them.
	mkdir -p source-{1,2,multi1}
	touch source-{1,2,multi1}/foo.txt source-multi1/{bar,baz}.txt
	chown 1:1 source-2/foo.txt
	chown 100:211 source-multi1/foo.txt
	chown 101:222 source-multi1/bar.txt
	chown 102:233 source-multi1/baz.txt
	chmod 777 source-1
}

teardown() {
	teardown_husk
}

userns_100000() {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

# idmap_mount SRC DEST UIDMAP [GIDMAP [OPTIONS_JSON]]: a bind mount of SRC on DEST with one
# mapping each, CTR:HOST:SIZE.
idmap_mount() {
	local src=$1 dst=$2 u=$3 g=${4:-$3} opts=${5:-'["bind"]'}
	local uc uh us gc gh gs
	IFS=: read -r uc uh us <<<"$u"
	IFS=: read -r gc gh gs <<<"$g"
	update_config ".mounts += [{source: \"$src\", destination: \"$dst\", options: $opts,
		uidMappings: [{containerID: $uc, hostID: $uh, size: $us}],
		gidMappings: [{containerID: $gc, hostID: $gh, size: $gs}]}]"
}

@test "idmap mount in a user namespace: the host's root owns files as the container's root" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	run -0 run_sh 'stat -c =%u=%g= /tmp/mount-1/foo.txt'
	[ "$output" = "=0=0=" ]
}

@test "idmap mount without a user namespace: ids are shifted as the mapping says" {
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	run -0 run_sh 'stat -c =%u=%g= /tmp/mount-1/foo.txt'
	[ "$output" = "=100000=100000=" ]
}

@test "a file made through an idmap mount gets the host owner the mapping gives back" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	run -0 run_sh 'touch /tmp/mount-1/new && stat -c =%u=%g= /tmp/mount-1/new'
	[ "$output" = "=0=0=" ]
	# The container's root is host uid 100000; through the mount its file belongs to host 0.
	[ "$(stat -c %u:%g source-1/new)" = 0:0 ]
}

@test "writing through an idmap mount as an unmapped user fails with EOVERFLOW" {
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	run ! run_sh 'touch /tmp/mount-1/bar'
	[[ "$output" == *"Value too large for defined data type"* ]]
	[ ! -e source-1/bar ]
}

@test "a host directory owned by 1000 shows as the container's root through its mapping" {
	userns_100000
	mkdir owned-1000 && touch owned-1000/f && chown -R 1000:1000 owned-1000
	idmap_mount owned-1000 /tmp/data 1000:100000:1
	run -0 run_sh 'stat -c =%u=%g= /tmp/data /tmp/data/f; touch /tmp/data/g && stat -c =%u=%g= /tmp/data/g'
	[ "$output" = $'=0=0=\n=0=0=\n=0=0=' ]
	[ "$(stat -c %u:%g owned-1000/g)" = 1000:1000 ]
}

@test "the idmap option alone takes the container's user-namespace mappings" {
	userns_100000
	mkdir owned-1000 && chown 1000:1000 owned-1000
	update_config '.mounts += [{source: "source-1", destination: "/tmp/a", options: ["bind", "idmap"]},
		{source: "owned-1000", destination: "/tmp/b", type: "bind", options: ["rbind", "ridmap"]}]'
	run -0 run_sh 'stat -c =%u=%g= /tmp/a/foo.txt /tmp/b'
	[ "$output" = $'=0=0=\n=1000=1000=' ]
}

@test "an idmap mount and a plain bind mount of the same source, in a user namespace" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	add_mount "$BUNDLE/source-1" /tmp/bind-mount-1 bind bind
	run -0 run_sh 'stat -c =%n:%u=%g= /tmp/mount-1/foo.txt /tmp/bind-mount-1/foo.txt'
	[ "$output" = "=/tmp/mount-1/foo.txt:0=0=
=/tmp/bind-mount-1/foo.txt:$OVERFLOW_UID=$OVERFLOW_GID=" ]
}

@test "the same source twice with different uid and gid mappings" {
	userns_100000
	idmap_mount source-multi1 /tmp/m1 100:100000:100 200:100000:100
	idmap_mount source-multi1 /tmp/m1-alt 100:101000:100 200:102000:100
	run -0 run_sh 'stat -c =%n:%u=%g= /tmp/m1/foo.txt /tmp/m1/bar.txt /tmp/m1/baz.txt /tmp/m1-alt/foo.txt /tmp/m1-alt/baz.txt'
	[ "$output" = "=/tmp/m1/foo.txt:0=11=
=/tmp/m1/bar.txt:1=22=
=/tmp/m1/baz.txt:2=33=
=/tmp/m1-alt/foo.txt:1000=2011=
=/tmp/m1-alt/baz.txt:1002=2033=" ]
}

@test "several idmap mounts with different mappings, without a user namespace" {
	idmap_mount source-multi1 /tmp/m1 100:1100:3 200:1900:50
	idmap_mount source-2 /tmp/m2 1:2200:1 1:2900:1
	run -0 run_sh 'stat -c =%n:%u=%g= /tmp/m1/foo.txt /tmp/m1/baz.txt /tmp/m2/foo.txt'
	[ "$output" = "=/tmp/m1/foo.txt:1100=1911=
=/tmp/m1/baz.txt:1102=1933=
=/tmp/m2/foo.txt:2200=2900=" ]
}

@test "an idmap mount with several ranges per mapping" {
	update_config '.mounts += [{source: "source-multi1", destination: "/tmp/m", options: ["bind"],
		uidMappings: [{containerID: 100, hostID: 1000, size: 1}, {containerID: 101, hostID: 2000, size: 1},
			{containerID: 102, hostID: 3000, size: 1}],
		gidMappings: [{containerID: 210, hostID: 1100, size: 10}, {containerID: 220, hostID: 2200, size: 10},
			{containerID: 230, hostID: 3300, size: 10}]}]'
	run -0 run_sh 'stat -c =%n:%u=%g= /tmp/m/foo.txt /tmp/m/bar.txt /tmp/m/baz.txt'
	[ "$output" = "=/tmp/m/foo.txt:1000=1101=
=/tmp/m/bar.txt:2000=2202=
=/tmp/m/baz.txt:3000=3303=" ]
}

@test "idmap maps only the top of an rbind tree, ridmap its submounts too" {
	userns_100000
	mkdir -p tree/sub
	touch tree/top.txt
	mount -t tmpfs -o size=1m husktest-idmap tree/sub
	cleanup_mount "$BUNDLE/tree/sub"
	touch tree/sub/inner.txt
	idmap_mount tree /tmp/idmap 0:100000:65536 0:100000:65536 '["rbind", "idmap"]'
	idmap_mount tree /tmp/ridmap 0:100000:65536 0:100000:65536 '["rbind", "ridmap"]'
	run -0 run_sh 'stat -c =%n:%u= /tmp/idmap/top.txt /tmp/idmap/sub/inner.txt /tmp/ridmap/top.txt /tmp/ridmap/sub/inner.txt'
	[ "$output" = "=/tmp/idmap/top.txt:0=
=/tmp/idmap/sub/inner.txt:$OVERFLOW_UID=
=/tmp/ridmap/top.txt:0=
=/tmp/ridmap/sub/inner.txt:0=" ]
}

@test "an idmap mount keeps its propagation option" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536 0:100000:65536 '["bind", "shared"]'
	run -0 run_sh 'awk '\''$5 == "/tmp/mount-1" { print $7 }'\'' /proc/self/mountinfo'
	[[ "$output" == shared:* ]]
}

@test "an idmap mount is read-only with ro, and exec sees it mapped too" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536 0:100000:65536 '["bind", "ro"]'
	start_sleeper
	run -0 husk exec "$CID" stat -c =%u=%g= /tmp/mount-1/foo.txt
	[ "$output" = "=0=0=" ]
	run ! husk exec "$CID" touch /tmp/mount-1/x
	[[ "$output" == *"Read-only file system"* ]]
}

@test "no fd of the mapping's user namespace reaches the container" {
	userns_100000
	idmap_mount source-1 /tmp/mount-1 0:100000:65536
	update_config '.mounts += [{source: "source-2", destination: "/tmp/b", options: ["bind", "idmap"]}]'
	set_args sleep 1000
	CID=$(new_id)
	run -0 husk_bg create --bundle "$BUNDLE" "$CID"
	local pid
	pid=$(container_pid "$CID")
	# The waiting init holds only what it opened on purpose; none is a namespace.
	run -0 ls -l "/proc/$pid/fd"
	[[ "$output" != *"user:["* ]] || fail "init holds a user namespace: $output"
	run -0 husk start "$CID"
	run -0 husk exec "$CID" sh -c 'ls -l /proc/1/fd /proc/self/fd'
	[[ "$output" != *"user:["* ]] || fail "a user namespace fd reached the container: $output"
	# The helper that made the mapping's namespace is gone: no process is in a user namespace
	# with that mapping (the container's own maps 0 to 100000 too, but its processes are in
	# the container's cgroup, the helper never was).
	local p
	for p in $(pgrep -f _userns-holder); do
		[ "$(awk '{print $2}' "/proc/$p/uid_map" 2>/dev/null)" != 100000 ] || fail "helper $p still runs"
	done
}

@test "an idmap mount of an overlayfs source fails naming the mount and the filesystem, leaving nothing" {
	mkdir -p ovl/{lower,upper,work,merged}
	touch ovl/lower/f
	mount -t overlay husktest-ovl -o "lowerdir=$BUNDLE/ovl/lower,upperdir=$BUNDLE/ovl/upper,workdir=$BUNDLE/ovl/work" ovl/merged
	cleanup_mount "$BUNDLE/ovl/merged"
	idmap_mount ovl/merged /ovl 0:100000:65536
	local n
	n=$(($(jq '.mounts | length' config.json) - 1))
	set_args true
	run ! husk_bg run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"ovl/merged"* ]] || fail "error does not name the source: $output"
	if [ "$HUSK_NAME" = husk ]; then
		[[ "$output" == *"mounts[$n]"* ]] || fail "error does not name mounts[$n]: $output"
		[[ "$output" == *"overlay filesystem"* ]] || fail "error does not name overlayfs: $output"
	fi
	# The test's own overlay goes first: nothing else may be mounted under the temp dir.
	umount ovl/merged
	assert_nothing_left
}

@test "id-mapped mounts are refused for non-bind mounts and half mappings, naming the mount" {
	update_config '.mounts += [{source: "tmpfs", destination: "/t", type: "tmpfs", options: ["idmap"],
		uidMappings: [{containerID: 0, hostID: 100000, size: 10}], gidMappings: [{containerID: 0, hostID: 100000, size: 10}]}]'
	run ! husk_bg run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"bind"* ]]
	assert_nothing_left

	make_bundle "$TESTDIR/b2"
	update_config '.mounts += [{source: "/tmp", destination: "/t", options: ["bind"],
		uidMappings: [{containerID: 0, hostID: 100000, size: 10}]}]' "$TESTDIR/b2"
	run ! husk_bg run --bundle "$TESTDIR/b2" "$(new_id)"
	[[ "${output,,}" == *"mappings"* ]]
	assert_nothing_left
}

@test "the idmap option without mappings needs a user namespace" {
	husk_only "runc says only that id-mapped mounts must have both uid and gid mappings specified"
	update_config '.mounts += [{source: "source-1", destination: "/t", options: ["bind", "idmap"]}]'
	run ! husk_bg run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"user namespace"* ]]
	assert_nothing_left
}

@test "features: id-mapped mounts enabled, idmap and ridmap listed" {
	run -0 husk features
	[ "$(jq -r '.linux.mountExtensions.idmap.enabled' <<<"$output")" = true ]
	[ "$HUSK_NAME" = husk ] || return 0 # runc does not list idmap and ridmap in mountOptions
	jq -e '.mountOptions | index("idmap") and index("ridmap")' <<<"$output" >/dev/null
}
