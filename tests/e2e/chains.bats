#!/usr/bin/env bats
# Rule chains on the packet path end to end (docs/chains-datapath.md): real ZooKeeper, real
# agents on two hosts, the real CLI, pings between VM namespaces. A drop rule on a bridge
# port's infilter and on a router's infilter stops exactly what it names, counts it (the
# rule's counters, the chain-drop reason) and shows in `midox trace` and `midox datapath`;
# taking it away lets traffic through again. One ZooKeeper for the file: a test's topology
# stays there for the next, whose agents install its filters too.

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA PORT=() RPORT=()
	BR=$NET_RUN-br
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	CH=$NET_RUN-fw
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_filter midox_chain
}

# on HOST ARGS...: the CLI in HOST's namespace, reading that host's pinned maps.
on() {
	local host=$1
	shift
	nsenter --net="/run/netns/$(net_ns "$host")" -- "$MIDOX_BUILD/midox" \
		--zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin "$host")" "$@"
}

# rule_packets HOST: the packets counter of the first rule of $CH on HOST.
rule_packets() {
	on "$1" --json chain "$CH" list rule | jq -er '.[0].counters.packets'
}

# ping_blocked FROM ADDR: one ping not answered.
ping_blocked() {
	! net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

vm_mac() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	printf '02:00:%02x:%02x:%02x:%02x\n' "$1" "$2" "$3" "$4"
}

# vm_add HOST VM ADDRESS BRIDGE: VM with a fixed MAC and address on a port of BRIDGE, its
# gateway .1 of its /24.
vm_add() {
	local host=$1 vm=$2 addr=$3 br=$4 mac p
	mac=$(vm_mac "$addr")
	net_vm_add "$host" "$vm" "$addr/24" "$mac"
	net_vm_gw "$vm" "${addr%.*}.1"
	p=$(mx bridge "$br" add port mac "$mac" address "$addr") || return 1
	[ -n "$p" ] || { echo "bridge $br add port printed nothing" >&2; return 1; }
	PORT[$vm]=$p
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}

router_port() {
	local p
	p=$(mx router "$RT" add port address "$2" net "$3") || return 1
	[[ $p == *:port* ]] || { echo "router add port printed '$p'" >&2; return 1; }
	RPORT[$1]=$p
}

link_bridge() {
	local bp
	bp=$(mx bridge "$1" add port) || return 1
	mx bridge "$1" port "${bp#*:}" set peer router "$RT" port "${RPORT[$2]#*:}"
}

@test "a drop rule on a bridge port's infilter stops ICMP across hosts, counts it, traces it; deleting it lets pings through" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	vm_add h1 v11 10.0.0.11 "$BR"
	vm_add h2 v21 10.0.0.21 "$BR"
	wait_until 20 ping_ok v11 10.0.0.21
	ping_all v11 10.0.0.21 3

	mx chain create name "$CH"
	mx chain "$CH" add rule type drop proto 1
	mx bridge "$BR" port "${PORT[v11]#*:}" set infilter "$CH"
	local key before after
	key=$(port_key h1 v11)
	wait_until 10 map_has h1 midox_filter "any(.[]; .key == $key)"
	wait_until 10 ping_blocked v11 10.0.0.21
	# midox datapath shows the filter with its installed chain, and the port's flag
	run -0 on h1 datapath list filter
	echo "$output"
	grep -qx "port ${PORT[v11]} infilter $CH rules 1" <<<"$output"
	run -0 on h1 datapath list port
	echo "$output"
	[[ "$output" == *"port ${PORT[v11]} device $BR flags local,fixed-mac,fixed-ip,filtered "* ]]
	before=$(rule_packets h1)
	ping_none v11 10.0.0.21
	after=$(rule_packets h1)
	echo "rule packets: $before -> $after"
	[ "$after" -ge $((before + 2)) ]
	[ "$(drops h1 "$key" MX_DROP_CHAIN_DROP)" -ge "$after" ]
	# the other way the port's infilter is not on the path: v21's pings reach v11, whose
	# replies enter by v11's port and are dropped there
	ping_none v21 10.0.0.11
	[ "$(rule_packets h1)" -ge $((after + 2)) ]
	# UDP is not ICMP: the rule lets it pass (the trace says the chain accepted at its end)
	run -0 on h1 trace from "${PORT[v11]}" dst 10.0.0.21 proto udp dst-port 5000
	echo "$output"
	[[ "$output" == *" chain port ${PORT[v11]} chain $CH filter infilter verdict accept rule none"* ]]
	[[ "$output" == *"verdict tunneled"* ]]
	run -0 on h1 trace from "${PORT[v11]}" dst 10.0.0.21 proto icmp
	echo "$output"
	[[ "$output" == *" chain port ${PORT[v11]} chain $CH filter infilter verdict drop rule 1 rule-id "* ]]
	[[ "$output" == *"drop reason chain-drop port ${PORT[v11]}"* ]]

	mx --force chain "$CH" rule rule0 delete
	wait_until 10 ping_ok v11 10.0.0.21
	ping_all v11 10.0.0.21 5
	ping_all v21 10.0.0.11 5
}

@test "a router's infilter drops one source before routing; the others are routed" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_port a 10.0.1.1 10.0.1.0/24
	router_port b 10.0.2.1 10.0.2.0/24
	link_bridge "$BR_A" a
	link_bridge "$BR_B" b
	vm_add h1 v11 10.0.1.11 "$BR_A"
	vm_add h2 v22 10.0.1.22 "$BR_A"
	vm_add h2 v21 10.0.2.21 "$BR_B"
	wait_until 20 ping_ok v11 10.0.2.21
	wait_until 20 ping_ok v22 10.0.2.21

	mx chain create name "$CH"
	mx chain "$CH" add rule type drop src 10.0.1.11/32
	mx router "$RT" set infilter "$CH"
	wait_until 10 ping_blocked v11 10.0.2.21
	run -0 on h2 datapath list filter
	echo "$output"
	grep -qx "device $RT infilter $CH rules 1" <<<"$output"
	local before after
	before=$(rule_packets h1)
	ping_none v11 10.0.2.21
	# before routing: the router's own address does not answer v11 either
	ping_none v11 10.0.1.1
	after=$(rule_packets h1)
	echo "rule packets on h1: $before -> $after"
	[ "$after" -ge $((before + 4)) ]
	# another source on the same bridge is routed (simulated on h2, where its rule counts 0)
	ping_all v22 10.0.2.21 5
	ping_all v21 10.0.1.22 5
	[ "$(rule_packets h2)" -eq 0 ]

	mx router "$RT" clear infilter
	wait_until 10 ping_ok v11 10.0.2.21
	ping_all v11 10.0.2.21 5
}
