#!/bin/bash
# Helpers for tests that need systemd as PID 1, on top of helpers.bash: the systemd VM
# (tests/vm/run.sh with VM_FLAVOUR=systemd; `make vm-systemd-test`). Use `requires systemd`.
#
# There, the test command runs as root in husk-vm.service (system.slice, Delegate=yes), and the
# unprivileged user husktest (uid 1000, subordinate ids 100000-165535 in /etc/subuid and
# /etc/subgid) is logged in by lingering: user@1000.service runs its systemd user manager from
# boot on, with a delegated cgroup v2 subtree (controllers cpu cpuset io memory pids) and its
# session bus at /run/user/1000/bus. The engines (containerd, docker, podman) are installed but
# not started: `systemctl start containerd` (or docker) when a test needs one.

VM_USER=husktest
VM_UID=1000

# in_user_session CMD...: runs CMD as husktest inside the user's session: a transient service of
# the user's systemd manager (Delegate=yes, so its cgroup below
# /user.slice/user-1000.slice/user@1000.service/app.slice is the user's to divide), with
# XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS set, so `systemctl --user` and a runtime's
# --systemd-cgroup reach that manager. CMD starts in the user's home with the manager's
# environment (pass more as `env K=V CMD`); its stdin, stdout and stderr are the caller's and its
# exit status is returned. The words reach CMD as given: the `$` that systemd would expand in a
# unit's command line are doubled.
in_user_session() {
	local a args=()
	for a in "$@"; do args+=("${a//\$/\$\$}"); done
	systemd-run --user --machine="$VM_USER@" --wait --pipe --quiet --collect --property=Delegate=yes -- "${args[@]}"
}

# as_user CMD...: runs CMD as husktest with the session's variables but in the caller's cgroup
# (root's husk-vm.service): the user reaches its manager over D-Bus and owns no cgroup, as a
# rootless runtime without delegation.
as_user() {
	runuser -u "$VM_USER" -- env XDG_RUNTIME_DIR="/run/user/$VM_UID" \
		DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$VM_UID/bus" "$@"
}
