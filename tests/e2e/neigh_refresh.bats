#!/usr/bin/env bats
# A router's neighbours kept while they live, end to end: real ZooKeeper, a real agent aging
# neighbours after MIDOX_MAC_AGE_SECONDS (small here), the real CLI and kernel datapath.
# A VM that never ARPs (its gateway's neighbour entry permanent), one that ARPs normally
# (answered by its bridge, for the router port) and a machine behind an uplink that never
# ARPs stay reachable for three times mac_age with no arp-miss after the first resolution;
# a VM gone away still expires.
#
# One host h1; router R between bridge A (10.0.1.0/24; nrsrc 10.0.1.11 with its MAC and
# address fixed, so the router knows it from the bridge's table) and bridge B (10.0.2.0/24;
# VMs on ports with no MAC or address: the router knows them only by ARP).

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

MAC_AGE=6
MPORT=9464 # the agent's metrics, on 127.0.0.1 in h1's netns
# Pings at 0.2 s for three times mac_age.
PINGS=$((MAC_AGE * 3 * 5))

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
	TZ=$NET_RUN-tz
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		mx router "$RT" list arp >&2 2>/dev/null || true
	fi
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_neigh
}

neigh_setup() {
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add h1 192.0.2.1
	net_underlay_check
	agent_start h1 MIDOX_MAC_AGE_SECONDS=$MAC_AGE MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"
	agent_wait_ready h1
	mx tunnel-zone "$TZ" add member host "$(agent_name h1)" address 192.0.2.1
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_link a 10.0.1.1 10.0.1.0/24 "$BR_A"
	router_link b 10.0.2.1 10.0.2.0/24 "$BR_B"
	vm_add h1 nrsrc 10.0.1.11 "$BR_A"
	# nrsrc's packets enter R by port a: their arp-miss drops are counted there.
	RA_KEY=$(mx --json router "$RT" port "${RPORT[a]#*:}" show | jq -r .tunnel_key)
	[ "$RA_KEY" -gt 0 ]
}

# neigh_seen ADDR: seen_ns of h1's midox_neigh entry for ADDR; fails when there is none.
neigh_seen() {
	map_entries h1 midox_neigh |
		jq -er --argjson a "$(be32 "$1")" '.[] | select(.key.addr == $a) | .value.seen_ns'
}

# neigh_absent ADDR: h1's midox_neigh holds no entry for ADDR.
neigh_absent() {
	map_entries h1 midox_neigh | jq -e --argjson a "$(be32 "$1")" 'all(.[]; .key.addr != $a)'
}

# metric NAME: the value of h1's agent's sample NAME (a metric without labels).
metric() {
	net_in h1 curl -sS --fail --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
		awk -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }'
}

arp_misses() {
	drops h1 "$RA_KEY" MX_DROP_ARP_MISS
}

# ping_long FROM ADDR: PINGS pings, 0.2 s apart, every one answered.
ping_long() {
	run net_in "$1" ping -c "$PINGS" -i 0.2 -W 1 "$2"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" $PINGS received, 0% packet loss"* ]]
}

@test "a VM that never ARPs (gateway entry permanent) stays reachable for 3 x mac_age: probed by unicast ARP, no arp-miss" {
	neigh_setup
	vm_port h1 nrperm 10.0.2.21 "$BR_B"
	local gw_mac misses first vm_mac
	gw_mac=$(mx --json router "$RT" port "${RPORT[b]#*:}" show | jq -r .mac)
	[[ $gw_mac =~ ^[0-9a-f:]{17}$ ]]
	ip -n "$(net_ns nrperm)" neigh replace 10.0.2.1 lladdr "$gw_mac" nud permanent dev eth0
	# The first resolution: the router's ARP request (one arp-miss), answered.
	wait_until 20 ping_ok nrsrc 10.0.2.21
	first=$(neigh_seen 10.0.2.21)
	misses=$(arp_misses)
	[ "$misses" -ge 1 ]
	vm_mac=$(net_mac nrperm)
	net_capture nrperm "arp and arp[6:2] == 1 and ether dst $vm_mac"
	ping_long nrsrc 10.0.2.21
	[ "$(arp_misses)" -eq "$misses" ]
	# The entry stayed and was confirmed again: by the replies to the agent's probes, the
	# only ARP nrperm sends (its gateway's entry is permanent).
	[ "$(neigh_seen 10.0.2.21)" -gt "$first" ]
	net_capture_stop nrperm
	cat "$NET_DIR/cap-nrperm"
	captured nrperm "Request who-has 10.0.2.21 tell 10.0.2.1" 2
	captured nrperm "$gw_mac > $vm_mac" 2
	grep -q "neighbour 10.0.2.21 of router [0-9]*: probed out of ifindex $(net_ifindex h1 nrperm)" \
		"$NET_DIR/h1.agent.log"
	[ "$(metric midox_neigh_probes_total)" -ge 2 ]
	[ "$(metric midox_neigh_probe_errors_total)" -eq 0 ]
}

@test "a VM that ARPs for its gateway, answered by its bridge, is learned by the router and stays reachable for 3 x mac_age: no arp-miss" {
	neigh_setup
	vm_port h1 nrarp 10.0.2.22 "$BR_B"
	local misses
	misses=$(arp_misses)
	neigh_absent 10.0.2.22
	# nrarp's request for 10.0.2.1 is answered by bridge B, for R's port: the router never
	# sees it, yet learns the asker; its echo answered needs no neighbour.
	wait_until 20 ping_ok nrarp 10.0.2.1
	wait_until 5 neigh_seen 10.0.2.22
	ping_long nrsrc 10.0.2.22
	# The router never had to ask for nrarp: not even the first packet was lost.
	[ "$(arp_misses)" -eq "$misses" ]
	neigh_seen 10.0.2.22
}

@test "a neighbour gone (its interface down) expires after mac_age although probed" {
	neigh_setup
	vm_port h1 nrgone 10.0.2.23 "$BR_B"
	wait_until 20 ping_ok nrsrc 10.0.2.23
	neigh_seen 10.0.2.23
	local t0=$SECONDS
	ip -n "$(net_ns nrgone)" link set eth0 down
	wait_until $((MAC_AGE * 3)) neigh_absent 10.0.2.23
	echo "expired $((SECONDS - t0)) s after the interface went down"
	# It was asked (unanswered) before it went.
	grep -q "neighbour 10.0.2.23 of router [0-9]*: probe" "$NET_DIR/h1.agent.log"
	ping_none nrsrc 10.0.2.23
}

@test "a neighbour behind an exterior router port (uplink) that never ARPs stays reachable for 3 x mac_age: probed out of the uplink" {
	neigh_setup
	# nrphys: a machine outside the overlay on R's port u 172.16.1.1/24, bound to nrup.
	net_phys_add nrphys h1 nrup 172.16.1.2/24
	ip -n "$(net_ns nrphys)" route replace 10.0.0.0/16 via 172.16.1.1 dev eth0
	router_port u 172.16.1.1 172.16.1.0/24
	mx host "$(agent_name h1)" add binding port "${RPORT[u]}" interface nrup
	local u_mac misses first
	u_mac=$(mx --json router "$RT" port "${RPORT[u]#*:}" show | jq -r .mac)
	[[ $u_mac =~ ^[0-9a-f:]{17}$ ]]
	ip -n "$(net_ns nrphys)" neigh replace 172.16.1.1 lladdr "$u_mac" nud permanent dev eth0
	wait_until 20 ping_ok nrsrc 172.16.1.2
	first=$(neigh_seen 172.16.1.2)
	misses=$(arp_misses)
	net_capture nrphys "arp and arp[6:2] == 1 and ether dst $(net_mac nrphys)"
	ping_long nrsrc 172.16.1.2
	[ "$(arp_misses)" -eq "$misses" ]
	[ "$(neigh_seen 172.16.1.2)" -gt "$first" ]
	net_capture_stop nrphys
	cat "$NET_DIR/cap-nrphys"
	captured nrphys "$u_mac > .*Request who-has 172.16.1.2 tell 172.16.1.1" 2
	grep -q "neighbour 172.16.1.2 of router [0-9]*: probed out of ifindex $(net_ifindex h1 nrup)" \
		"$NET_DIR/h1.agent.log"
}
