#!/usr/bin/env bash
# Installs the Debian packages named as arguments when they are missing. Used by the Makefile so
# that `make`, `make demo` and `make test` work on a fresh Debian 12 machine. `deps.sh --update`
# only refreshes the package lists (tests/vm/kernel.sh).
#
# Another apt or dpkg at work (unattended-upgrades, another install) holds apt's locks: wait
# for them, up to APT_LOCK_TIMEOUT seconds (default 600), instead of failing at once. apt-get
# waits for the dpkg lock itself (DPkg::Lock::Timeout); `apt-get update` does not wait for the
# lists lock, so it is retried while that is what fails.
set -euo pipefail
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
export DEBIAN_FRONTEND=noninteractive

apt_get() {
	apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" "$@"
}

# apt_update runs `apt-get update`, again every 2 s while another apt holds the lists lock.
apt_update() {
	local waited=0 out
	while ! out=$(apt_get update -qq 2>&1); do
		if ! grep -q 'Could not get lock' <<<"$out" || [ "$waited" -ge "$APT_LOCK_TIMEOUT" ]; then
			echo "$out" >&2
			return 1
		fi
		[ "$waited" -eq 0 ] && echo "deps.sh: another apt holds the package lists lock; waiting (up to ${APT_LOCK_TIMEOUT}s)" >&2
		sleep 2
		waited=$((waited + 2))
	done
}

if [ "${1:-}" = --update ]; then
	apt_update
	exit
fi
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
if ! apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	apt_update
	apt_get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
