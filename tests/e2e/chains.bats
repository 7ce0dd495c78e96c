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
	BR=$NET_RUN-br
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	CH=$NET_RUN-fw
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_filter_v2 midox_chain_v2
}

# rule_packets HOST: the packets counter of the first rule of $CH on HOST.
rule_packets() {
	on "$1" --json chain "$CH" list rule | jq -er '.[0].counters.packets'
}

# ping_blocked FROM ADDR: one ping not answered.
ping_blocked() {
	! net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
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
	wait_until 10 map_has h1 midox_filter_v2 "any(.[]; .key == $key)"
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

# tcp_connect VM ADDR PORT: one TCP connect from VM (bash's /dev/tcp), its error on stderr.
tcp_connect() {
	net_in "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$2/$3" 2>&1
}

tcp_refused() {
	local out
	out=$(tcp_connect "$@") && return 1
	[[ $out == *"Connection refused"* ]]
}

# drops_all HOST REASON: the drops of REASON on every key of HOST.
drops_all() {
	local idx
	idx=$(drop_index "$2") || return 1
	map_entries "$1" midox_stats | jq -er --argjson i "$idx" '[.[].values[].value.drops[$i]] | add // 0'
}

# iperf3_listen VM ADDR: a TCP listener (port 5201) in VM, up when this returns.
iperf3_listen() {
	local _
	net_bg "$1" "$NET_DIR/listen-$1" iperf3 -s -p 5201 -B "$2"
	for _ in $(seq 1 50); do
		[ -n "$(net_in "$1" ss -Hltn 'sport = :5201')" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "a reject rule answers across hosts: TCP connect refused by a RST, ping told the packet is filtered (router infilter, bridge port outfilter)" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_port a 10.0.1.1 10.0.1.0/24
	router_port b 10.0.2.1 10.0.2.0/24
	link_bridge "$BR_A" a
	link_bridge "$BR_B" b
	vm_add h1 v11 10.0.1.11 "$BR_A"
	vm_add h2 v21 10.0.2.21 "$BR_B"
	wait_until 20 ping_ok v11 10.0.2.21
	iperf3_listen v21 10.0.2.21
	run -0 tcp_connect v11 10.0.2.21 5201

	mx chain create name "$CH"
	mx chain "$CH" add rule type reject src 10.0.1.11/32
	mx router "$RT" set infilter "$CH"
	wait_until 10 tcp_refused v11 10.0.2.21 5201
	local rejects before
	rejects=$(drops_all h1 MX_DROP_CHAIN_REJECT)
	before=$(rule_packets h1)
	run tcp_connect v11 10.0.2.21 5201
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Connection refused"* ]]
	# the ICMP answer comes from the address of the router port v11's packets enter by
	run net_in v11 ping -c 1 -W 2 10.0.2.21
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"From 10.0.1.1 icmp_seq=1 Packet filtered"* ]]
	[ "$(rule_packets h1)" -ge $((before + 2)) ]
	[ "$(drops_all h1 MX_DROP_CHAIN_REJECT)" -ge $((rejects + 2)) ]
	mx router "$RT" clear infilter
	wait_until 10 tcp_connect v11 10.0.2.21 5201

	# v21's port outfilter on h2's VM, evaluated on h1 where v11's packets are simulated:
	# the answers come from the destination (v21's address) through the router
	mx bridge "$BR_B" port "${PORT[v21]#*:}" set outfilter "$CH"
	wait_until 10 tcp_refused v11 10.0.2.21 5201
	run net_in v11 ping -c 1 -W 2 10.0.2.21
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"From 10.0.2.21 icmp_seq=1 Packet filtered"* ]]
	mx --force bridge "$BR_B" port "${PORT[v21]#*:}" clear outfilter
	wait_until 10 tcp_connect v11 10.0.2.21 5201
	ping_all v11 10.0.2.21 3
}

# vm_plain HOST VM ADDRESS BRIDGE: a VM on a port with no MAC or address: the bridge
# learns it and does not answer ARP for it, so ARP requests for it are flooded.
vm_plain() {
	local host=$1 vm=$2 addr=$3 br=$4 p
	net_vm_add "$host" "$vm" "$addr/24" "$(vm_mac "$addr")"
	p=$(mx bridge "$br" add port) || return 1
	PORT[$vm]=$p
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}

@test "a port's outfilter dropping one VM's broadcast ARP drops that flooded copy only: the others resolve each other" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	vm_plain h1 v11 10.0.0.11 "$BR"
	vm_plain h1 v12 10.0.0.12 "$BR"
	vm_plain h1 v13 10.0.0.13 "$BR"
	vm_plain h2 v21 10.0.0.21 "$BR"
	mx chain create name "$CH"
	# ARP (ethertype 0x0806) whose sender address is v11's
	mx chain "$CH" add rule type drop ethertype 0x0806 src 10.0.0.11/32
	mx bridge "$BR" port "${PORT[v12]#*:}" set outfilter "$CH"
	local key11 key12 before
	wait_until 20 port_key h1 v11
	wait_until 20 port_key h1 v12
	key11=$(port_key h1 v11)
	key12=$(port_key h1 v12)
	wait_until 10 map_has h1 midox_filter_v2 "any(.[]; .key == $key12)"
	# MX_PORT_FILTERED (1 << 10) on the copy of v12's entry its interface carries
	wait_until 10 map_has h1 midox_ifport_v3 \
		"any(.[]; .value.port_key == $key12 and ((.value.port.flags / 1024 | floor) % 2) == 1)"
	before=$(drops h1 "$key11" MX_DROP_CHAIN_DROP)
	# v12 never hears v11's request: no answer, the flood's copy to v12 counted
	ping_none v11 10.0.0.12
	[ "$(drops h1 "$key11" MX_DROP_CHAIN_DROP)" -ge $((before + 1)) ]
	[ "$(rule_packets h1)" -ge 1 ]
	# the same broadcasts reach v13 here and v21 on h2
	ping_all v11 10.0.0.13 3
	ping_all v11 10.0.0.21 3
	# and the others resolve v12 and each other
	ping_all v13 10.0.0.12 3
	ping_all v21 10.0.0.12 3
	ping_all v13 10.0.0.21 3
	mx --force bridge "$BR" port "${PORT[v12]#*:}" clear outfilter
	wait_until 20 ping_ok v11 10.0.0.12
}

@test "a port's outfilter on the receiving host drops its copy of a flood from another host: the other port there still gets its copy" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	vm_plain h1 v11 10.0.0.11 "$BR"
	vm_plain h2 v21 10.0.0.21 "$BR"
	vm_plain h2 v22 10.0.0.22 "$BR"
	mx chain create name "$CH"
	# ARP (ethertype 0x0806) whose sender address is v11's
	mx chain "$CH" add rule type drop ethertype 0x0806 src 10.0.0.11/32
	mx bridge "$BR" port "${PORT[v22]#*:}" set outfilter "$CH"
	local key22 before
	wait_until 20 port_key h2 v22
	key22=$(port_key h2 v22)
	# MX_PORT_FILTERED (1 << 10) on the copy of v22's entry its interface carries on h2
	wait_until 10 map_has h2 midox_ifport_v3 \
		"any(.[]; .value.port_key == $key22 and ((.value.port.flags / 1024 | floor) % 2) == 1)"
	before=$(drops_all h2 MX_DROP_CHAIN_DROP)
	# v11's ARP requests reach h2 as one copy for the bridge: v22's is dropped there, once
	ping_none v11 10.0.0.22
	[ "$(drops_all h2 MX_DROP_CHAIN_DROP)" -ge $((before + 1)) ]
	[ "$(rule_packets h2)" -ge 1 ]
	# the sending host evaluated no copy for a port it does not have
	[ "$(rule_packets h1)" -eq 0 ]
	# the same broadcasts reach v21 on h2, and v21 and v22 resolve each other
	ping_all v11 10.0.0.21 3
	ping_all v21 10.0.0.22 3
	mx --force bridge "$BR" port "${PORT[v22]#*:}" clear outfilter
	wait_until 20 ping_ok v11 10.0.0.22
}
