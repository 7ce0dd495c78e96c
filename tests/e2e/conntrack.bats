#!/usr/bin/env bats
# Connection tracking on the packet path end to end (docs/conntrack.md): real ZooKeeper, a
# real agent, the real CLI, TCP between VM namespaces (tests/lib/tcp-probe.py). One host:
# VM a on bridge A, VM b on bridge B, router R between them; the infilter of R's port facing
# B is the stateful firewall (accept return flows, drop the rest), so R tracks connections.
# a connects to b, b cannot connect to a; a table configured tiny fills, refuses new
# connections as ct-full and keeps the ones it holds; a kill -9 of the agent and a restart
# keep an established stream going. Across hosts the state must travel with the packets
# (not yet: docs/conntrack.md), hence one host.

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA PORT=() RPORT=()
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	CH=$NET_RUN-fw
	TZ=$NET_RUN-tz
	PROBE=$BATS_TEST_DIRNAME/../lib/tcp-probe.py
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_filter_v2 midox_ct
}

# host_up HOST ADDR [VAR=VALUE...]: one host in zone $TZ, its agent with that environment.
host_up() {
	local host=$1 addr=$2
	shift 2
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add "$host" "$addr"
	net_underlay_check
	agent_start "$host" "$@"
	agent_wait_ready "$host"
	mx tunnel-zone "$TZ" add member host "$(agent_name "$host")" address "$addr"
}

# The topology on h1, pings both ways, then the stateful firewall on R's port b.
firewall_up() {
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_port a 10.0.1.1 10.0.1.0/24
	router_port b 10.0.2.1 10.0.2.0/24
	link_bridge "$BR_A" a
	link_bridge "$BR_B" b
	vm_add h1 va 10.0.1.11 "$BR_A"
	vm_add h1 vb 10.0.2.21 "$BR_B"
	wait_until 20 ping_ok va 10.0.2.21
	wait_until 20 ping_ok vb 10.0.1.11
	mx chain create name "$CH"
	mx chain "$CH" add rule type accept flow return-flow
	mx chain "$CH" add rule type drop
	mx router "$RT" port "${RPORT[b]#*:}" set infilter "$CH"
	# b's pings to a are new flows entering by port b: dropped once the firewall is in
	wait_until 10 ping_blocked vb 10.0.1.11
}

ping_blocked() {
	! net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# rule_packets N: the packets counter of rule N (1, 2) of $CH on h1.
rule_packets() {
	on h1 --json chain "$CH" list rule | jq -er ".[$(($1 - 1))].counters.packets"
}

# serve VM PORT: the echo server in VM, listening when this returns.
serve() {
	net_bg "$1" "$NET_DIR/serve-$1.log" python3 "$PROBE" serve "$2"
	wait_until 5 grep -q listening "$NET_DIR/serve-$1.log"
}

probe() {
	local vm=$1
	shift
	net_in "$vm" python3 "$PROBE" "$@"
}

# ct_full: the ct-full drops on h1, every port (they count on the port a packet entered
# the tracking device by: here R's port a), from midox datapath list counter.
ct_full() {
	on h1 --json datapath list counter | jq -er '[.[] | .drop_reasons["ct-full"] // 0] | add // 0'
}

# metric_at_least NAME N: h1's agent reports NAME >= N.
metric_at_least() {
	local v
	v=$(net_in h1 curl -sf http://127.0.0.1:9464/metrics | awk -v n="$1" '$1 == n { print $2 }')
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}

connections() {
	on h1 --json datapath list connection | jq -er 'length'
}

@test "a stateful firewall: a opens 200 connections to b (no reply lost), b cannot open one to a; midox datapath list connection shows them" {
	host_up h1 192.0.2.1
	firewall_up
	# the device that tracks says so on its ports
	run -0 on h1 datapath list port
	echo "$output"
	[[ "$output" == *"port ${RPORT[b]} device $RT flags "*"device-ct"* ]]
	[[ "$output" != *"port ${PORT[va]} device $BR_A flags "*"device-ct"* ]]
	serve vb 8000
	serve va 9000
	local drop0 ret0
	drop0=$(rule_packets 2)
	ret0=$(rule_packets 1)
	run -0 probe va connect 10.0.2.21 8000 200
	echo "$output"
	[[ "${lines[-1]}" == "connected 200 of 200, syn-retrans "* ]]
	# every SYN-ACK and reply passed as a return flow: the drop rule saw none of them
	[ "$(rule_packets 2)" -eq "$drop0" ]
	[ "$(rule_packets 1)" -ge $((ret0 + 200 * 3)) ]
	[ "$(ct_full)" -eq 0 ]
	# b's own connection to a is a new flow entering by port b: dropped
	run -0 probe vb refused 10.0.1.11 9000
	echo "$output"
	[ "$(rule_packets 2)" -gt "$drop0" ]
	# the operator's view: the connections, forward direction, on the router
	run -0 on h1 datapath list connection
	echo "${lines[@]:0:3}"
	[[ "$output" == *"connection device $RT protocol tcp src 10.0.1.11 sport "*" dst 10.0.2.21 dport 8000 state "* ]]
	[[ "$output" != *"src 10.0.2.21 sport "*" dst 10.0.1.11 dport 9000"* ]]
	run -0 on h1 --json datapath list connection
	jq -e --arg rt "$RT" '[.[] | select(.device == $rt and .protocol == "tcp" and
		.dport == 8000 and .src == "10.0.1.11")] | length >= 200' <<<"$output"
	jq -e 'all(.[]; has("state") and has("age_seconds") and has("dst"))' <<<"$output"
}

@test "a table of 16 connections fills: new connections are dropped as ct-full, the ones it holds keep working" {
	host_up h1 192.0.2.1 MIDOX_CT_MAX_ENTRIES=16 MIDOX_CT_TIMEOUT_ICMP=1 \
		MIDOX_CT_SWEEP_INTERVAL_MS=200 MIDOX_METRICS_ADDRESS=127.0.0.1:9464
	firewall_up
	serve vb 8000
	# a's pings through the firewall are tracked (icmp, 1 s here); idle, the sweep frees them
	ping_all va 10.0.2.21 2
	[ "$(connections)" -ge 1 ]
	wait_until 10 metric_at_least midox_conntrack_removed_total 1
	[ "$(connections)" -eq 0 ]
	[ "$(ct_full)" -eq 0 ]
	run -0 probe va fill 10.0.2.21 8000 64
	echo "$output"
	[[ "${lines[-1]}" =~ ^opened\ ([0-9]+),\ refused\ 1,\ echoed\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -eq 16 ]
	[ "${BASH_REMATCH[2]}" -eq 16 ]
	# the refused connection's SYNs were counted as ct-full, on R's port a
	[ "$(ct_full)" -ge 1 ]
	run -0 on h1 datapath list counter
	echo "$output"
	[[ "$output" == *"port ${RPORT[a]} "*"ct-full "* ]]
	# the table is full: 16 entries, its size from the agent's settings
	[ "$(connections)" -eq 16 ]
	run -0 on h1 --json datapath list connection
	[ "$(jq -r length <<<"$output")" -eq 16 ]
	# the metrics-facing map fill says the same: the pinned table holds 16 at most
	run -0 bpftool -j map show pinned "$(agent_pin h1)/midox_ct"
	[ "$(jq -r .max_entries <<<"$output")" -eq 16 ]
	# and the agent's metrics
	run -0 net_in h1 curl -sf http://127.0.0.1:9464/metrics
	grep -q '^midox_map_max_entries{map="midox_ct"} 16$' <<<"$output"
	grep -q '^midox_map_entries{map="midox_ct"} 16$' <<<"$output"
	grep -Eq '^midox_port_drops_total\{.*reason="ct-full"\} [1-9]' <<<"$output"
	grep -Eq '^midox_conntrack_sweeps_total [1-9]' <<<"$output"
}

@test "kill -9 of the agent and a restart: an established TCP stream goes on, its connection kept in the pinned table" {
	host_up h1 192.0.2.1
	firewall_up
	serve vb 8000
	serve va 9000
	net_bg va "$NET_DIR/stream.log" python3 "$PROBE" stream 10.0.2.21 8000 12
	local stream=$NET_BG_PID
	wait_until 5 grep -q connected "$NET_DIR/stream.log"
	run -0 on h1 datapath list connection
	echo "$output"
	[[ "$output" == *"src 10.0.1.11 sport "*" dst 10.0.2.21 dport 8000 state established"* ]]
	kill -9 "$(agent_pid h1)"
	sleep 2
	rm -f "$NET_DIR/h1.agent.pid"
	agent_start h1
	agent_wait_ready h1
	wait "$stream" || { cat "$NET_DIR/stream.log"; false; }
	cat "$NET_DIR/stream.log"
	grep -qx "rounds [0-9]*" "$NET_DIR/stream.log"
	run -0 on h1 datapath list connection
	[[ "$output" == *"src 10.0.1.11 sport "*" dst 10.0.2.21 dport 8000 state "* ]]
	# and the firewall still holds after the restart (a listens on 9000: only the drop
	# keeps b out)
	run -0 probe vb refused 10.0.1.11 9000
	run -0 probe va connect 10.0.2.21 8000 3
}
