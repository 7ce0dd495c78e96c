#!/usr/bin/env bats
# The agent under valgrind (docs/testing.md): start, sync a small topology from a real
# ZooKeeper into its maps and attachments, stop with SIGTERM; ok when memcheck reports no
# error and no definite leak (valgrind.supp holds libbpf's own false positives, nothing
# else). One host namespace with a veth as tunnel interface, and one VM. Metrics are on and
# scraped (docs/metrics.md): the HTTP server and the exposition run under memcheck too.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'

# bats 1.8 (Debian 12) fails a file whose setup_file skips: the reason to skip is set here
# and each test skips in setup.
setup_file() {
	net_require_root
	export MIDOX_BUILD=${MIDOX_BUILD:-$PWD/build}
	# An ASan build (SAN=1) cannot run under valgrind: it is tested by its own sanitizers.
	if nm "$MIDOX_BUILD/midox-agent" 2>/dev/null | grep -q __asan_init; then
		export VG_SKIP="the agent is built with AddressSanitizer"
		return 0
	fi
	zk_start
}

teardown_file() {
	zk_cleanup
}

setup() {
	[ -z "${VG_SKIP:-}" ] || skip "$VG_SKIP"
	net_init
	# A build dir whose midox-agent runs the real one under valgrind; agent.bash starts it.
	VG_BUILD=$NET_DIR/vg
	mkdir -p "$VG_BUILD"
	ln -s "$MIDOX_BUILD/midox" "$VG_BUILD/midox"
	cat > "$VG_BUILD/midox-agent" <<-SH
	#!/bin/sh
	exec valgrind --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \\
		--track-origins=yes --num-callers=30 --suppressions=$PWD/tests/e2e/valgrind.supp \\
		--log-file=$NET_DIR/valgrind.log \\
		$MIDOX_BUILD/midox-agent "\$@"
	SH
	chmod +x "$VG_BUILD/midox-agent"
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		agent_logs 40
		[ -e "$NET_DIR/valgrind.log" ] && grep -v -e '^==[0-9]*== *$' -e 'WARNING: unhandled eBPF command' "$NET_DIR/valgrind.log" | tail -150 >&2
	fi
	MIDOX_BUILD=$VG_BUILD agent_cleanup
	net_cleanup
	return 0
}

# The agent's pinned maps hold what the topology says: the VM's interface is a port.
synced() {
	map_has h1 midox_ifport_v3 "length == 1" && map_has h1 midox_bridge "length == 1" &&
		tc -n "$NET_RUN-h1" filter show dev v1 ingress | grep -q bpf
}

@test "agent under valgrind: start, sync, SIGTERM: no error, no definite leak" {
	local tz=$NET_RUN-tz br=$NET_RUN-b p
	net_host_add h1 192.0.2.1
	net_vm_add h1 v1 10.0.0.1/24
	MIDOX_BUILD=$VG_BUILD agent_start h1 MIDOX_METRICS_ADDRESS=127.0.0.1:9464
	MIDOX_BUILD=$VG_BUILD agent_wait_ready h1 60
	mx tunnel-zone create name "$tz" type vxlan
	mx tunnel-zone "$tz" add member host "$(agent_name h1)" address 192.0.2.1
	mx bridge create name "$br"
	p=$(mx bridge "$br" add port mac 02:00:00:00:0a:01 address 10.0.0.1)
	mx bridge "$br" add port
	mx host "$(agent_name h1)" add binding port "$p" interface v1
	wait_until 60 synced
	# rule chains translated and installed, then changed: groups, a jump, NAT
	mx chain create name "$NET_RUN-fw"
	mx chain create name "$NET_RUN-sub"
	mx port-group create name "$NET_RUN-pg"
	mx port-group "$NET_RUN-pg" add member port "$p"
	mx ip-address-group create name "$NET_RUN-ipg"
	mx ip-address-group "$NET_RUN-ipg" add ip address 10.0.0.9
	mx chain "$NET_RUN-fw" add rule type jump jump-to "$NET_RUN-sub"
	mx chain "$NET_RUN-fw" add rule type drop ip-address-group-src "$NET_RUN-ipg"
	mx chain "$NET_RUN-fw" add rule type accept in-port-group "!$NET_RUN-pg" in-ports "$p"
	mx chain "$NET_RUN-sub" add rule type snat target 192.0.2.9:1024-2047
	wait_until 60 grep -q "rule chains installed: 2 chains, 4 rules" "$NET_DIR/h1.agent.log"
	mx --force chain "$NET_RUN-fw" rule rule1 delete
	wait_until 60 grep -q "rule chains installed: 2 chains, 3 rules" "$NET_DIR/h1.agent.log"
	# the dynamic SNAT's address: a port block leased (agent/natlease.c under memcheck too)
	wait_until 60 grep -q "NAT leases: 192.0.2.9 block [0-9]* (ports [0-9-]*) leased" \
		"$NET_DIR/h1.agent.log"
	# the metrics, with the port's labels from the topology (it counts once the VM sent
	# something); garbage answered 400
	net_in v1 ping -c 1 -W 1 10.0.0.2 || true
	run -0 net_in h1 curl -sS --fail --max-time 20 http://127.0.0.1:9464/metrics
	[[ "$output" == *'midox_sync_entries_total{map="midox_ifport_v3",change="added"} 1'* ]]
	[[ "$output" == *'interface="v1"'* ]]
	[[ "$output" == *'midox_chain_rules_installed{state="ok"} 3'* ]]
	[[ "$output" == *'midox_chains_installed 2'* ]]
	[[ "$output" == *'midox_nat_blocks{address="192.0.2.9"} 1'* ]]
	run -0 net_in h1 curl -sS -o /dev/null -w '%{http_code}' --max-time 20 -X PUT http://127.0.0.1:9464/x
	[ "$output" = 404 ]
	run -0 net_in h1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464; head -c 2000 /dev/urandom >&3; head -c 100 <&3'
	[[ "$output" == "HTTP/1.1 400 Bad Request"* ]]
	# a connection still open when the agent stops
	net_bg h1 "$NET_DIR/idle" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464; sleep 4'
	# A change after the first sync: a second reconcile, with entries removed.
	mx host "$(agent_name h1)" delete binding interface v1
	wait_until 60 map_has h1 midox_ifport_v3 "length == 0"
	AGENT_STOP_TIMEOUT=60 MIDOX_BUILD=$VG_BUILD agent_stop h1
	run grep -E 'ERROR SUMMARY|definitely lost' "$NET_DIR/valgrind.log"
	echo "$output"
	[[ "$output" == *"ERROR SUMMARY: 0 errors"* ]]
	! grep -E 'definitely lost: [1-9]' "$NET_DIR/valgrind.log" || false
}
