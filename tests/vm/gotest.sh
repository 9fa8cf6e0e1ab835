#!/usr/bin/env bash
# gotest.sh PKG... [-- TESTFLAG...]: compiles the tests of each Go package on the host (the VM's
# emulated CPU is ~40x slower) into tests/vm/bin/, then runs them all in one pure cgroup v2 VM,
# each in its package directory as `go test` would. Exits non-zero when any failed.
#   tests/vm/gotest.sh ./cgroups -- -test.v -test.run 'Real'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
pkgs=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do pkgs+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#pkgs[@]} -gt 0 ] || { echo "usage: $0 PKG... [-- TESTFLAG...]" >&2; exit 2; }

mkdir -p "$here/bin"
script='rc=0'
for p in "${pkgs[@]}"; do
	dir=$(cd "$repo" && go list -f '{{.Dir}}' "$p")
	bin=$here/bin/$(cd "$repo" && go list -f '{{.ImportPath}}' "$p" | tr / _).test
	(cd "$repo" && go test -c -o "$bin" "$p")
	[ -x "$bin" ] || { echo "gotest.sh: $p has no tests" >&2; exit 2; }
	script+=$(printf '; echo "=== %s"; (cd %q && %q' "$p" "$dir" "$bin")
	for f in "$@"; do script+=$(printf ' %q' "$f"); done
	script+=') || rc=1'
done
exec "$here/run.sh" "$script; exit \$rc"
