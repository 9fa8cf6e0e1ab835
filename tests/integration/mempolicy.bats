#!/usr/bin/env bats
# linux.memoryPolicy (runtime-spec 1.3): set_mempolicy(2) for the init and every exec'd
# process, seen in /proc/self/numa_maps (its first mapping's policy); runc's validation of
# modes, flags and nodes; `features` lists what is supported.

load helpers

setup() {
	requires root
	[ -e /proc/self/numa_maps ] || skip "test requires a NUMA kernel (/proc/self/numa_maps)"
	setup_husk
}

# POLICY prints "policy P", P the policy of the first mapping of the process that reads it;
# policy_in_output finds P in $output (runc warns on stderr, at any point).
POLICY='echo "policy $(head -n 1 /proc/self/numa_maps | cut -d " " -f 2)"'
policy_in_output() {
	sed -n 's/^policy //p' <<<"$output"
}

@test "memoryPolicy MPOL_INTERLEAVE and MPOL_BIND with MPOL_F_STATIC_NODES apply to the init" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_INTERLEAVE", nodes: "0"}'
	run -0 run_sh "$POLICY"
	[ "$(policy_in_output)" = interleave:0 ]
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"]}'
	run -0 run_sh "$POLICY"
	[ "$(policy_in_output)" = bind=static:0 ]
	# No nodes: MPOL_PREFERRED is local allocation, MPOL_DEFAULT the default.
	update_config '.linux.memoryPolicy = {mode: "MPOL_PREFERRED"}'
	run -0 run_sh "$POLICY"
	[ "$(policy_in_output)" = local ]
	update_config '.linux.memoryPolicy = {mode: "MPOL_DEFAULT"}'
	run -0 run_sh "$POLICY"
	[ "$(policy_in_output)" = default ]
}

@test "memoryPolicy applies to exec'd processes too" {
	update_config '.linux.memoryPolicy = {mode: "MPOL_PREFERRED", nodes: "0", flags: ["MPOL_F_RELATIVE_NODES"]}'
	start_sleeper
	run -0 husk exec "$CID" sh -c "$POLICY"
	[ "$(policy_in_output)" = prefer=relative:0 ]
}

@test "memoryPolicy: bad modes, flags and nodes are refused with runc's words, nothing is left" {
	set_args true
	local mp want
	while IFS='|' read -r mp want; do
		update_config ".linux.memoryPolicy = $mp"
		run -1 husk run --bundle "$BUNDLE" "$(new_id)"
		[[ "$output" == *"$want"* ]] || fail "$mp: $output"
		assert_nothing_left
	done <<-'EOF'
		{}|invalid memory policy
		{"mode": "INTERLEAVE", "nodes": "0"}|invalid memory policy mode
		{"nodes": "0-7"}|invalid memory policy mode
		{"mode": "MPOL_PREFERRED", "nodes": "0", "flags": ["MPOL_F_RELATIVE_NODES", "badflag"]}|invalid memory policy flag
		{"mode": "MPOL_BIND", "nodes": "0-9876543210"}|invalid memory policy node
		{"mode": "MPOL_BIND", "nodes": "x"}|invalid memory policy node
		{"mode": "MPOL_DEFAULT", "nodes": "0-7"}|mode requires 0 nodes but got 8
		{"mode": "MPOL_BIND"}|requires at least one node
	EOF
	# Valid for the config, refused by the kernel: both flags at once.
	update_config '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]}'
	run -1 husk run --bundle "$BUNDLE" "$(new_id)"
	[[ "$output" == *"set_mempolicy"*"invalid argument"* ]] || fail "$output"
	assert_nothing_left
}

@test "features lists the memory policy modes and flags" {
	run -0 husk features
	[ "$(jq -c '.linux.memoryPolicy.modes | sort' <<<"$output")" = \
		'["MPOL_BIND","MPOL_DEFAULT","MPOL_INTERLEAVE","MPOL_LOCAL","MPOL_PREFERRED","MPOL_PREFERRED_MANY","MPOL_WEIGHTED_INTERLEAVE"]' ]
	[ "$(jq -c '.linux.memoryPolicy.flags | sort' <<<"$output")" = \
		'["MPOL_F_NUMA_BALANCING","MPOL_F_RELATIVE_NODES","MPOL_F_STATIC_NODES"]' ]
}
