#!/usr/bin/env bash
# Makes the unprivileged user the rootless tests run husk as (tests/integration/rootless.bats,
# idmap.bats, tests/clients/podman-rootless.sh): `husktest`, with a home (podman keeps its
# per-user configuration there), 65536 subordinate uids and gids in /etc/subuid and /etc/subgid
# (newuidmap/newgidmap, from Debian's uidmap, map them into a container's user namespace), and
# no password, so nobody logs in as it. Idempotent: a user that exists keeps its ids and ranges.
# The systemd test VM makes the same user in its own image (tests/vm/systemd/image.sh).
#
#   scripts/testuser.sh [NAME]      (root; `make test-user`)
set -euo pipefail
user=${1:-husktest}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/deps.sh" uidmap passwd

if ! id -u "$user" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/sh --comment "husk rootless tests" "$user"
	echo "testuser: created user $user (uid $(id -u "$user"))" >&2
fi

# next_free FILE prints the first id at or above 100000 that no range in FILE covers.
next_free() {
	awk -F: 'BEGIN { n = 100000 } NF == 3 && $2 + $3 > n { n = $2 + $3 } END { print n }' "$1"
}

touch /etc/subuid /etc/subgid
if ! grep -q "^$user:" /etc/subuid; then
	start=$(next_free /etc/subuid)
	usermod --add-subuids "$start-$((start + 65535))" "$user"
fi
if ! grep -q "^$user:" /etc/subgid; then
	start=$(next_free /etc/subgid)
	usermod --add-subgids "$start-$((start + 65535))" "$user"
fi
