#!/usr/bin/env bats
# mxbench-cost (tools/bench/mxbench-cost.c), the benchmark's per-packet cost of each datapath
# path: every path it times must run and give a number, and the paths it checks to be
# delivered must be (verdict 7, TC_ACT_REDIRECT). It makes its own network namespace and
# opens the datapath with private maps (nothing pinned). No timing is asserted.

bats_require_minimum_version 1.5.0

load '../lib/netns'

setup() {
	net_require_root
	COST=${MIDOX_BUILD:-$BATS_TEST_DIRNAME/../../build}/bench/mxbench-cost
	[ -x "$COST" ] || { echo "no $COST: make" >&2; return 1; }
}

# row PATH VERDICT: the output has PATH's "single" line with two numbers and that verdict.
row() {
	grep -qE "^cost $1 single -?[0-9]+\.[0-9] [0-9]+\.[0-9] $2\$" <<<"$output" ||
		{ echo "no row for $1 with verdict $2 in: $output" >&2; return 1; }
}

@test "dynamic SNAT: an established connection's forward packet, its reply, new connections" {
	run "$COST" 300 snat-fwd snat-return snat-new snat-new-reuse
	[ "$status" -eq 0 ]
	row noop 0
	row snat-fwd 7
	row snat-return 7
	row snat-new 7
	# every port of the block held by a closed connection: one is taken over (time-wait
	# reuse), else the SYN would be dropped (nat-exhausted) and the row would fail
	row snat-new-reuse 7
	# the paths asked for and the baseline, nothing else
	[ "$(grep -c '^cost [^ ]* single ' <<<"$output")" -eq 5 ]
}

@test "every path runs and gives a number" {
	run "$COST" 100
	[ "$status" -eq 0 ]
	local p
	for p in noop drop-no-port local-l2 local-l2-fixed-mac local-l2-limited local-l2-chain10 \
		local-l2-chain0 local-l2-chain100 local-l2-ct local-l2-ct-return local-l2-ct-fw \
		local-l2-ct-fw-return snat-fwd snat-return snat-new snat-new-reuse remote-l2-encap decap \
		flood-1local-1remote flood-1local-1remote-out10 routed-local routed-remote-encap \
		noop-xdp decap-xdp drop-no-port-event drop-no-port-suppressed; do
		row "$p" '-?[0-9]+'
	done
	# the delivered paths: redirected
	for p in local-l2-chain0 local-l2-ct-fw-return snat-fwd snat-return snat-new snat-new-reuse; do
		row "$p" 7
	done
}

@test "a path it does not know: a specific error, exit 2, nothing timed" {
	run "$COST" 10 snat-fwd no-such-path
	[ "$status" -eq 2 ]
	[[ "$output" == *"no path no-such-path"* ]]
	[ "$(grep -c '^cost ' <<<"$output")" -eq 0 ]
}
