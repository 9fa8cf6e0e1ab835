#!/usr/bin/env bats
# The short soak: tests/soak/soak.sh with 200 lifecycles (HUSK_SOAK_N to change), exec and kill
# mixed in; it fails on any failed step and on any mount, cgroup, process, fd or state left.
# The long run (10000) is on demand: tests/soak/soak.sh. See README-robustness.md.

load helpers

@test "soak: 200 lifecycles leave the host as it was" {
	run "$REPO_ROOT/tests/soak/soak.sh" "${HUSK_SOAK_N:-200}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"soak: ok, nothing leaked"* ]]
	# The figures, for the log.
	grep -E '^soak: [0-9]+ lifecycles in' <<<"$output" | sed 's/^/# /' >&3
}
