#!/usr/bin/env bats
# mxbench-conn (tools/bench/mxbench-conn.c), the benchmark's count of new TCP connections per
# second: it must count what really happened. Two namespaces on one underlay bridge (no
# agent: the tool alone), the server in h2, the client in h1. No timing is asserted.

bats_require_minimum_version 1.5.0

load '../lib/netns'

setup() {
	net_require_root
	CONN=${MIDOX_BUILD:-$BATS_TEST_DIRNAME/../../build}/bench/mxbench-conn
	[ -x "$CONN" ] || { echo "no $CONN: make" >&2; return 1; }
	net_init
	net_host_add h1 192.0.2.1 && net_host_add h2 192.0.2.2 && net_underlay_check
}

teardown() {
	net_cleanup
}

# serve_start: the server on 192.0.2.2:7001 in h2, until it says ready.
serve_start() {
	net_bg h2 "$NET_DIR/serve" "$CONN" serve 192.0.2.2 7001
	SERVE_PID=$NET_BG_PID
	wait_until 5 grep -q ready "$NET_DIR/serve"
}

# serve_stop: end it and read its count into ACCEPTED.
serve_stop() {
	kill -INT "$SERVE_PID"
	wait "$SERVE_PID" || true
	ACCEPTED=$(awk '$1 == "accepted" { print $2 }' "$NET_DIR/serve")
}

@test "a given number of connections: both ends count exactly that many" {
	serve_start
	run net_in h1 "$CONN" connect 192.0.2.2 7001 x500 8
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^connections\ 500\ failed\ 0\ seconds\ [0-9.]+\ rate\ [0-9]+$ ]]
	serve_stop
	[ "$ACCEPTED" = 500 ]
}

@test "one at a time: as many as asked, each accepted once" {
	serve_start
	run net_in h1 "$CONN" connect 192.0.2.2 7001 x37 1
	[ "$status" -eq 0 ]
	[[ "$output" == "connections 37 failed 0 "* ]]
	serve_stop
	[ "$ACCEPTED" = 37 ]
}

@test "for a time: the client's count is the server's" {
	serve_start
	run net_in h1 "$CONN" connect 192.0.2.2 7001 1 4
	[ "$status" -eq 0 ]
	n=$(awk '{ print $2 }' <<<"$output")
	[[ "$output" == "connections $n failed 0 "* ]]
	[ "$n" -gt 0 ]
	serve_stop
	[ "$ACCEPTED" = "$n" ]
}

@test "nobody listening: every attempt counted as failed, exit 1" {
	run net_in h1 "$CONN" connect 192.0.2.2 7002 x20 4
	[ "$status" -eq 1 ]
	[[ "$output" == "connections 0 failed 20 "* ]]
}

@test "bad arguments: a specific error and exit 2" {
	run "$CONN" connect 192.0.2.2 7001 x0
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad count x0"* ]]
	run "$CONN" connect 192.0.2.2 70000 1
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad address 192.0.2.2:70000"* ]]
	run "$CONN" connect 192.0.2.2 7001 1 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"PARALLEL must be 1 to 256"* ]]
	run "$CONN" listen 192.0.2.2 7001
	[ "$status" -eq 2 ]
	[[ "$output" == *usage* ]]
}

@test "no answer: a connection not done within 5 s counts as failed" {
	serve_start
	# h2 drops the SYNs to the server: the client's SYNs go unanswered
	net_in h2 nft -f - <<-NFT
	table ip mxbenchconn {
		chain input {
			type filter hook input priority filter;
			tcp dport 7001 drop
		}
	}
	NFT
	run net_in h1 "$CONN" connect 192.0.2.2 7001 x3 2
	[ "$status" -eq 1 ]
	[[ "$output" == "connections 0 failed 3 "* ]]
	serve_stop
	[ "$ACCEPTED" = 0 ]
}
