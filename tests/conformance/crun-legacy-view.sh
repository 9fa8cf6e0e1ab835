#!/bin/sh
# Runs Debian's crun 1.8 so that it can be compared with husk and runc on this machine.
#
# crun 1.8 refuses to run on a cgroup v1 "hybrid" host whose cgroup2 mount has controllers
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"); here hugetlb
# sits on /sys/fs/cgroup/unified. This wrapper runs crun in a private mount namespace of its
# own where /sys/fs/cgroup/unified is covered by an empty tmpfs, so crun sees plain cgroup v1.
# The host's mounts are untouched: the tmpfs exists only in that namespace and dies with it.
#
# Usage: tests/conformance/run.sh tests/conformance/crun-legacy-view.sh
# Env:   CRUN  the crun binary (default /usr/bin/crun)
exec unshare --mount --propagation private \
	sh -c 'mount -t tmpfs -o size=4k,mode=0555 husktest-crun-legacy-view /sys/fs/cgroup/unified && exec "$0" "$@"' \
	"${CRUN:-/usr/bin/crun}" "$@"
