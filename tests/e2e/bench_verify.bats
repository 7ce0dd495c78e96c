#!/usr/bin/env bats
# mxbench-verify (tools/bench/mxbench-verify.c): what the verifier walks in each program of
# the datapath, and by source line. It loads the agent's own object with private maps
# (nothing pinned, nothing attached). No timing is asserted; the one bound checked is the
# datapath's own budget: every program verifies in under half the kernel's 1M
# instructions, so that a feature cannot quietly take a program to the limit
# (docs/datapath.md, "What the verifier pays").

bats_require_minimum_version 1.5.0

load '../lib/netns'

setup() {
	net_require_root
	VERIFY=${MIDOX_BUILD:-$BATS_TEST_DIRNAME/../../build}/bench/mxbench-verify
	[ -x "$VERIFY" ] || { echo "no $VERIFY: make bench-bins" >&2; return 1; }
}

@test "every program of the datapath: its verified instructions, the total their sum" {
	local before after p n sum=0
	before=$(ls /sys/fs/bpf | grep -c '^midox_' || true)
	run "$VERIFY"
	[ "$status" -eq 0 ]
	for p in port_ingress hop_bridge hop_router hop_flood bgp_speaker_ingress underlay_ingress \
		underlay_xdp; do
		n=$(awk -v p="$p" '$1 == "verify" && $2 == p { print $3 }' <<<"$output")
		[[ "$n" =~ ^[0-9]+$ ]] || { echo "no count for $p in: $output" >&2; return 1; }
		[ "$n" -gt 0 ]
		[ "$n" -lt 500000 ] || { echo "$p verifies $n instructions (budget 500000)" >&2; return 1; }
		sum=$((sum + n))
	done
	[ "$(grep -c '^verify ' <<<"$output")" -eq 8 ] # the seven programs and the total
	grep -qE "^verify total $sum load_ms [0-9]+\$" <<<"$output" ||
		{ echo "total is not $sum in: $output" >&2; return 1; }
	after=$(ls /sys/fs/bpf | grep -c '^midox_' || true)
	[ "$before" -eq "$after" ] # nothing pinned
}

@test "--lines: a program's most walked source lines, by count, within its total" {
	run "$VERIFY" --lines hop_router 5
	[ "$status" -eq 0 ]
	[ "$(grep -cE '^line [a-z_]+\.h?c?:[0-9]+ [0-9]+ [0-9]+\.[0-9]$' <<<"$output")" -eq 5 ]
	local total rows sorted
	total=$(awk '$1 == "line" && $2 == "total" { print $3 }' <<<"$output")
	[[ "$total" =~ ^[0-9]+$ ]] && [ "$total" -gt 0 ]
	rows=$(awk '$1 == "line" && $2 != "total" { s += $3 } END { print s }' <<<"$output")
	[ "$rows" -le "$total" ]
	sorted=$(awk '$1 == "line" && $2 != "total" { print $3 }' <<<"$output")
	[ "$sorted" = "$(sort -rn <<<"$sorted")" ]
}

@test "a program it does not have, or a bad count: a specific error, exit 2" {
	run "$VERIFY" --lines no_such_prog
	[ "$status" -eq 2 ]
	[[ "$output" == *"no program no_such_prog in the datapath"* ]]
	[ "$(grep -c '^line ' <<<"$output")" -eq 0 ]
	run "$VERIFY" --lines hop_router 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"N must be 1 to"* ]]
	run "$VERIFY" --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: mxbench-verify"* ]]
}
