#!/usr/bin/env bats
# `midox trace` end to end: real ZooKeeper, two agents in host namespaces, the CLI run in
# h1's netns on its agent's pin root. For each path (local, remote, flood, ARP answer,
# routed, ICMP errors, drops) the trace's verdict is checked, then a real packet sent the
# same way must land where the trace said (captured there, answered, or counted as that
# drop). The datapath's state maps on h1 are the same before and after every trace.
#
#   bridge A 10.0.1.0/24 (R port a 10.0.1.1):  v11 10.0.1.11 and v13 10.0.1.13 on h1,
#                                               v12 10.0.1.12 on h2 (fixed MACs and
#                                               addresses); a port with MAC $MU and
#                                               10.0.1.50, bound nowhere
#   bridge B 10.0.2.0/24 (R port b 10.0.2.1):  v21 10.0.2.21 on h2
#   R: no route beyond its two subnets

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

M11=02:00:00:0a:01:0b
M12=02:00:00:0a:01:0c
M13=02:00:00:0a:01:0d
M21=02:00:00:0a:02:15
MU=02:00:00:0a:01:32
MX=02:00:00:0a:01:77 # nobody's: unknown unicast

# The maps a frame can change on its way through h1: learning, counters, budgets, events,
# the underlay route cache.
STATE_MAPS=(midox_fdb midox_neigh midox_stats midox_traffic midox_icmprate midox_monrate midox_monitor midox_ulnh)

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	# Each test on an empty tree: an earlier test's router and bridges would stay in the
	# file's ZooKeeper, and the entries its agents learned (ephemeral) would leave h1's maps
	# when those sessions expire, in the middle of a compared window.
	MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" wipe
	declare -gA PORT=() RPORT=()
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_trace
}

# tr HOST ARGS...: midox in HOST's netns, on its agent's pin root.
tr_on() {
	local host=$1
	shift
	nsenter --net="/run/netns/$(net_ns "$host")" -- "$MIDOX_BUILD/midox" \
		--zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin "$host")" "$@"
}

# state HOST: every state map of HOST, as bpftool prints it.
state() {
	local m
	for m in "${STATE_MAPS[@]}"; do
		echo "== $m"
		map_dump "$1" "$m"
	done
}

# trace_ok ARGS...: `midox trace ARGS` on h1 succeeds; its output in $output.
trace_ok() {
	run tr_on h1 trace "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

trace_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_link a 10.0.1.1 10.0.1.0/24 "$BR_A"
	router_link b 10.0.2.1 10.0.2.0/24 "$BR_B"
	vm_port h1 v11 10.0.1.11 "$BR_A" "$M11"
	vm_port h1 v13 10.0.1.13 "$BR_A" "$M13"
	vm_port h2 v12 10.0.1.12 "$BR_A" "$M12"
	vm_port h2 v21 10.0.2.21 "$BR_B" "$M21"
	PORT[unbound]=$(mx bridge "$BR_A" add port mac "$MU" address 10.0.1.50)
	wait_until 20 ping_all v11 10.0.1.12 2
	wait_until 20 ping_all v11 10.0.1.13 2
	wait_until 20 ping_all v11 10.0.2.21 2
	# What those pings taught R: v11, asking for its gateway (learned on h1), and v21 (learned
	# on h2, installed on h1 through ZooKeeper). Once both are in, only frames write h1's
	# state maps.
	wait_until 10 neighbours_settled
	# Nor may a VM's own ARP write them in the tests' windows: past its neighbours' reachable
	# time a VM probes them by unicast ARP, which h1 counts and (for the gateway, answered by
	# the bridge) learns from. Every neighbour the pings taught v11 and v21 is fixed now.
	pin_neighbours v11
	pin_neighbours v21
}

# pin_neighbours VM: every neighbour VM knows, made permanent (it asks no more).
pin_neighbours() {
	local addr mac
	while read -r addr mac; do
		net_in "$1" ip neigh replace "$addr" lladdr "$mac" nud permanent dev eth0
	done < <(net_in "$1" ip neigh show dev eth0 |
		awk '{ for (i = 2; i < NF; i++) if ($i == "lladdr") print $1, $(i + 1) }')
}

# R's entries for v11 (learned on h1) and v21 (learned on h2, installed on h1).
neighbours_settled() {
	local rk
	rk=$(mx --json router "$RT" show | jq -er '.tunnel_key') || return 1
	map_entries h1 midox_neigh | jq -e --argjson r "$rk" --argjson a "$(be32 10.0.1.11)" \
		--argjson b "$(be32 10.0.2.21)" '
		any(.[]; .key.router_key == $r and .key.addr == $a and .value.flags == 2) and
		any(.[]; .key.router_key == $r and .key.addr == $b and .value.flags == 4)'
}

# lands VM REGEX CMD...: with a capture on VM, CMD (in v11) makes a frame matching REGEX
# arrive there.
lands() {
	local vm=$1 re=$2
	shift 2
	net_capture "$vm" "icmp"
	net_in v11 "$@" || true
	wait_until 5 captured "$vm" "$re" 1
	net_capture_stop "$vm"
}

@test "trace on one bridge: local, remote, flood and ARP answer agree with real frames; no state written" {
	trace_setup
	local before after key12
	key12=$(mx --json "${PORT[v12]}" show | jq -er '.tunnel_key')
	before=$(state h1)

	# local: delivered to v13 on h1
	trace_ok from "${PORT[v11]}" dst 10.0.1.13
	[[ "$output" == *"step 1 enter bridge $BR_A port ${PORT[v11]}"* ]]
	[[ "$output" == *"step 2 port-security port ${PORT[v11]} result passed"* ]]
	[[ "$output" == *"step 3 mac-hit bridge $BR_A port ${PORT[v13]}"* ]]
	[[ "$output" == *"verdict delivered port ${PORT[v13]} host $(agent_name h1) interface v13" ]]

	# remote: tunneled to h2 with the port's key as VNI
	trace_ok from "${PORT[v11]}" dst 10.0.1.12 proto udp dst-port 5000
	[[ "$output" == *"verdict tunneled port ${PORT[v12]} host $(agent_name h2) address 192.0.2.2 vni $key12" ]]

	# unknown unicast: one local copy (v13), one remote host (h2), none sent by the trace
	trace_ok from "${PORT[v11]}" dst 10.0.1.77 dst-mac "$MX"
	[[ "$output" == *"step 3 flood bridge $BR_A local 2 remote 1"* ]]
	[[ "$output" == *"flood-copy port ${PORT[v13]} interface v13"* ]]
	[[ "$output" == *"flood-copy host $(agent_name h2) vni "* ]]
	[[ "$output" == *"verdict flooded local 1 remote 1" ]]

	# ARP for a fixed address: answered by the bridge
	trace_ok from "${PORT[v11]}" dst 10.0.1.12 proto arp
	[[ "$output" == *"arp-reply bridge $BR_A address 10.0.1.12 mac $M12"* ]]
	[[ "$output" == *"verdict answered with arp-reply port ${PORT[v11]} interface v11" ]]

	# --json: the same trace as one object
	run tr_on h1 --json trace from "${PORT[v11]}" dst 10.0.1.13
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e --arg p "${PORT[v13]}" --arg f "${PORT[v11]}" '.from == $f and .interface == "v11"
		and .packet.proto == "icmp" and .packet.src == "10.0.1.11" and .packet.dst == "10.0.1.13"
		and .packet.src_mac == "'"$M11"'" and .packet.dst_mac == "'"$M13"'"
		and .steps[0].kind == "enter" and .steps[-1].kind == "deliver"
		and .verdict.action == "delivered" and .verdict.port == $p
		and .verdict.interface == "v13" and .verdict.tc_verdict == 7' <<<"$output"

	after=$(state h1)
	diff <(echo "$before") <(echo "$after") # nothing written; else what was

	# the real frames land where the traces said
	lands v13 "10\.0\.1\.11 > 10\.0\.1\.13: ICMP echo request" ping -c 1 -W 1 10.0.1.13
	lands v12 "10\.0\.1\.11 > 10\.0\.1\.12: ICMP echo request" ping -c 1 -W 1 10.0.1.12
	net_in v11 ip neigh replace 10.0.1.77 lladdr "$MX" dev eth0
	net_capture v12 "icmp"
	lands v13 "$M11 > $MX.*10\.0\.1\.11 > 10\.0\.1\.77: ICMP echo request" ping -c 1 -W 1 10.0.1.77
	wait_until 5 captured v12 "$M11 > $MX.*10\.0\.1\.11 > 10\.0\.1\.77: ICMP echo request" 1
	net_capture_stop v12
	# a real ARP request for 10.0.1.12 gets M12 back
	net_in v11 ip neigh flush dev eth0 nud all # the pinned ones too
	ping_all v11 10.0.1.12 1
	run net_in v11 ip neigh show 10.0.1.12 dev eth0
	echo "$output"
	[[ "$output" == *"lladdr $M12 "* ]]
}

@test "trace through the router: route, next hop, ICMP errors and drops agree with real packets; no state written" {
	trace_setup
	local before after k11
	k11=$(port_key h1 v11)
	before=$(state h1)

	# routed to v21 on h2 through R, by its one route to 10.0.2.0/24
	trace_ok from "${PORT[v11]}" dst 10.0.2.21
	[[ "$output" == *"mac-hit bridge $BR_A port ${RPORT[a-peer]}"* ]]
	[[ "$output" == *"enter router $RT port ${RPORT[a]}"* ]]
	[[ "$output" == *"route router $RT dst 10.0.2.0/24 port ${RPORT[b]} member 0 of 1"* ]]
	[[ "$output" == *"next-hop router $RT address 10.0.2.21 mac $M21"* ]]
	[[ "$output" == *"enter bridge $BR_B port ${RPORT[b-peer]}"* ]]
	[[ "$output" == *"verdict tunneled port ${PORT[v21]} host $(agent_name h2) address 192.0.2.2 vni "* ]]

	# TTL 1: time exceeded from R's port a, back to v11
	trace_ok from "${PORT[v11]}" dst 10.0.2.21 ttl 1
	[[ "$output" == *"drop reason ttl-exceeded port ${RPORT[a]}"* ]]
	[[ "$output" == *"verdict answered with icmp-error port ${PORT[v11]} interface v11" ]]
	[[ "$output" == *"icmp-error port ${RPORT[a]} error time-exceeded type 11 code 0"* ]]

	# no route: net unreachable
	trace_ok from "${PORT[v11]}" dst 10.9.9.9 proto tcp dst-port 22
	[[ "$output" == *"drop reason no-route port ${RPORT[a]}"* ]]
	[[ "$output" == *"icmp-error port ${RPORT[a]} error net-unreachable type 3 code 0"* ]]
	[[ "$output" == *"verdict answered with icmp-error"* ]]

	# the gateway's own address: an echo reply
	trace_ok from "${PORT[v11]}" dst 10.0.1.1
	[[ "$output" == *"echo-reply port ${RPORT[a]} address 10.0.1.1"* ]]
	[[ "$output" == *"verdict answered with echo-reply"* ]]

	# drops: port security, and a port bound nowhere
	trace_ok from "${PORT[v11]}" src 10.0.1.99 dst 10.0.1.13
	[[ "$output" == *"verdict dropped reason spoof-ip port ${PORT[v11]}" ]]
	trace_ok from "${PORT[v11]}" dst 10.0.1.50
	[[ "$output" == *"mac-hit bridge $BR_A port ${PORT[unbound]}"* ]]
	[[ "$output" == *"verdict dropped reason port-unbound port ${PORT[v11]}" ]]

	after=$(state h1)
	diff <(echo "$before") <(echo "$after") # nothing written; else what was

	# the real packets
	lands v21 "10\.0\.1\.11 > 10\.0\.2\.21: ICMP echo request" ping -c 1 -W 1 10.0.2.21
	run net_in v11 ping -c 1 -W 1 -t 1 10.0.2.21
	echo "$output"
	[[ "$output" == *"From 10.0.1.1 icmp_seq=1 Time to live exceeded"* ]]
	run net_in v11 ping -c 1 -W 1 10.9.9.9
	echo "$output"
	[[ "$output" == *"From 10.0.1.1 icmp_seq=1 Destination Net Unreachable"* ]]
	ping_all v11 10.0.1.1 1
	local spoof unbound
	spoof=$(drops h1 "$k11" MX_DROP_SPOOF_IP)
	unbound=$(drops h1 "$k11" MX_DROP_PORT_UNBOUND)
	net_in v11 ip addr add 10.0.1.99/24 dev eth0
	net_in v11 ip neigh replace 10.0.1.13 lladdr "$M13" dev eth0
	net_in v11 ping -c 2 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.13 || true
	net_in v11 ip addr del 10.0.1.99/24 dev eth0
	net_in v11 ip neigh replace 10.0.1.50 lladdr "$MU" dev eth0
	net_in v11 ping -c 2 -i 0.2 -W 1 10.0.1.50 || true
	[ "$(drops h1 "$k11" MX_DROP_SPOOF_IP)" -ge $((spoof + 2)) ]
	[ "$(drops h1 "$k11" MX_DROP_PORT_UNBOUND)" -ge $((unbound + 2)) ]
}

@test "trace: errors say why and exit non-zero" {
	trace_setup

	# v12 is h2's: its frames are not h1's to trace
	run tr_on h1 trace from "${PORT[v12]}" dst 10.0.1.11
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"port ${PORT[v12]} is bound to interface v12 on host $(agent_name h2), which is not in this network namespace: run midox trace there"* ]]
	run tr_on h1 trace from "${PORT[unbound]}" dst 10.0.1.11
	[ "$status" -eq 2 ]
	[[ "$output" == *"is bound to no interface"* ]]
	run tr_on h1 trace from "${PORT[v11]}"
	[ "$status" -eq 1 ]
	[[ "$output" == *"dst"* ]]
	run tr_on h1 trace from "${PORT[v11]}" dst 10.0.1.12 proto sctp
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad protocol 'sctp'"* ]]
	run tr_on h1 trace from "${RPORT[a]}" dst 10.0.1.12
	[ "$status" -eq 1 ]
	[[ "$output" == *"port ${RPORT[a]} is a router port, whose sender is outside: give src and src-mac"* ]]
	# an address nobody on the bridge has, outside every router port's subnet
	run tr_on h1 trace from "${PORT[v11]}" src 192.168.7.7 dst 192.168.7.8
	[ "$status" -eq 1 ]
	[[ "$output" == *"no port on the bridge has address 192.168.7.8 and no router port is its gateway: give dst-mac"* ]]
	run tr_on h1 trace from nosuchport dst 10.0.1.12
	[ "$status" -ne 0 ]
	[[ "$output" == *"nosuchport"* ]]
	# the pin root of another host: not this interface's datapath
	run nsenter --net="/run/netns/$(net_ns h1)" -- "$MIDOX_BUILD/midox" --zk "127.0.0.1:$ZK_PORT" \
		--pin-root "$(agent_pin h2)" trace from "${PORT[v11]}" dst 10.0.1.13
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"does not hold port ${PORT[v11]} on interface v11"* ]]
}
