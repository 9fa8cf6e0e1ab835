#!/bin/bash
# Builds the OCI runtime-tools v0.9.0 validation programs, runtimetest and the rootfs
# tarball into a cache directory outside the repository and prints that directory.
#
# The suite only builds with runtime-spec v1.0.2 and selinux v1.8.0, which husk's own go.mod
# cannot hold, so build/go.mod (module husk-conformance) pins them. The cache directory is
# keyed by a hash of the files in build/, this script and the Go version: changing any of
# them builds afresh (and drops the stale builds); otherwise the cached programs are reused.
#
# Usage: build.sh            (prints the directory holding bin/ and rootfs-amd64.tar.gz)
# Env:   HUSK_CONFORMANCE_CACHE  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/husk-conformance)
#        GO                      go command (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=github.com/opencontainers/runtime-tools
version=v0.9.0

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
cache_root=${HUSK_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk-conformance}

# The suite hard-codes the cgroup paths its cgroup tests use (/cgrouptest and
# testdir/cgrouptest/container). Renaming them at link time keeps them recognisable as ours
# (husktest- prefix) so run.sh can clean up exactly what the suite created.
ldflags="-X $suite/cgroups.AbsCgroupPath=/husktest-conformance-abs"
ldflags+=" -X $suite/cgroups.RelCgroupPath=husktest-conformance-rel/cgrouptest/container"

key=$(cat "$here/build/go.mod" "$here/build/go.sum" "$here/build/runtimetest-restore-nofile.go.in" \
	"$here/build.sh" | sha256sum | cut -c1-16)
key="$key-$("$GO" env GOVERSION)"
out="$cache_root/$key"

if [[ -f "$out/.complete" ]]; then
	echo "$out"
	exit 0
fi

mkdir -p "$cache_root"
tmp=$(mktemp -d "$cache_root/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"

cd "$here/build"
# -mod=readonly: go.mod and go.sum are committed; the build must not rewrite them.
export GOFLAGS=-mod=readonly
"$GO" mod download "$suite"
src=$("$GO" list -m -f '{{.Dir}}' "$suite")
[[ -n "$src" && -d "$src/validation" ]] || { echo "build.sh: $suite $version source not found ($src)" >&2; exit 1; }

pkgs=()
for dir in "$src"/validation/*/; do
	name=$(basename "$dir")
	[[ "$name" == util ]] && continue
	pkgs+=("$suite/validation/$name")
done
echo "build.sh: building ${#pkgs[@]} validation programs of $suite $version into $out" >&2
"$GO" build -trimpath -ldflags "$ldflags" -o "$tmp/bin/" "${pkgs[@]}"
# runtimetest runs inside the container's busybox rootfs: it must be static. It is built
# from its own sources plus build/runtimetest-restore-nofile.go.in (why: see that file),
# laid out by an overlay as package ./runtimetest of the build module, because the module
# cache itself cannot be overlaid.
overlay="$tmp/overlay.json"
{
	printf '{"Replace":{'
	for f in "$src"/cmd/runtimetest/*.go; do
		printf '"%s":"%s",' "$here/build/runtimetest/$(basename "$f")" "$f"
	done
	printf '"%s":"%s"}}\n' "$here/build/runtimetest/zz_restore_nofile.go" "$here/build/runtimetest-restore-nofile.go.in"
} >"$overlay"
CGO_ENABLED=0 "$GO" build -trimpath -overlay "$overlay" -ldflags "$ldflags -checklinkname=0" \
	-o "$tmp/bin/runtimetest" ./runtimetest
rm "$overlay"
# util.PrepareBundle untars rootfs-$GOARCH.tar.gz from the current directory.
install -m 0644 "$src/rootfs-amd64.tar.gz" "$tmp/rootfs-amd64.tar.gz"
printf '%s\n' "${pkgs[@]##*/}" >"$tmp/tests.txt"
touch "$tmp/.complete"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
find "$cache_root" -mindepth 1 -maxdepth 1 -type d ! -name "$(basename "$out")" ! -name '.tmp.*' -exec rm -rf {} +
echo "$out"
