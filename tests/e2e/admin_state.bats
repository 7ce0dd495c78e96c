#!/usr/bin/env bats
# Admin state and port security as settings, end to end: real ZooKeeper, two agents in host
# namespaces, VMs in namespaces. A port, a bridge or a router set down forwards nothing and
# counts admin-down; set up it forwards again. Port security off lets a spoofed source
# through, on drops it; an allowed address passes; clear mac/address unlock. Every CLI error
# exits non-zero with a message and writes nothing.
#
#   h1 192.0.2.1: v11 10.0.0.11 (port locked: mac M11 address 10.0.0.11)  v12 10.0.0.12
#   h2 192.0.2.2: v21 10.0.0.21

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

M11=02:00:00:0a:00:0b

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA PORT=()
	BR=$NET_RUN-a
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_allow_v2 midox_stats
}

state_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	net_vm_add h1 v11 10.0.0.11/24 "$M11"
	PORT[v11]=$(mx bridge "$BR" add port mac "$M11" address 10.0.0.11)
	mx host "$(agent_name h1)" add binding port "${PORT[v11]}" interface v11
	bridge_vm h1 v12 12
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 1
	wait_until 20 ping_all v12 10.0.0.21 1
}

# rises HOST KEY BEFORE: HOST counted more admin-down drops on KEY than BEFORE.
rises() {
	[ "$(drops "$1" "$2" MX_DROP_ADMIN_DOWN)" -gt "$3" ]
}

@test "a port set down neither sends nor receives; up, it forwards again" {
	state_setup
	local k before
	k=$(port_key h1 v11)
	before=$(drops h1 "$k" MX_DROP_ADMIN_DOWN)
	mx bridge "$BR" port "${PORT[v11]}" set state down
	run mx bridge "$BR" port "${PORT[v11]}" show
	[[ "$output" == *"state down"* ]]
	wait_until 20 ping_none v11 10.0.0.21
	rises h1 "$k" "$before"
	# nor does it receive: v21 -> v11 stops too (counted on the sender's side)
	ping_none v21 10.0.0.11
	mx bridge "$BR" port "${PORT[v11]}" set state up
	wait_until 20 ping_all v11 10.0.0.21 3
	ping_all v21 10.0.0.11 3
}

@test "a bridge set down forwards nothing; up, it forwards again" {
	state_setup
	local k before
	k=$(port_key h1 v12)
	before=$(drops h1 "$k" MX_DROP_ADMIN_DOWN)
	mx bridge "$BR" set state down
	run mx bridge list
	[[ "$output" == *"state down"* ]]
	wait_until 20 ping_none v12 10.0.0.21
	ping_none v12 10.0.0.11
	rises h1 "$k" "$before"
	mx bridge "$BR" set state up
	wait_until 20 ping_all v12 10.0.0.21 3
}

@test "a router set down routes nothing; up, it routes again" {
	e2e_hosts "$TZ" h1=192.0.2.1
	local r=$NET_RUN-r b2=$NET_RUN-b rp bp p pair br vm gw net
	mx bridge create name "$BR"
	mx bridge create name "$b2"
	mx router create name "$r"
	net_vm_add h1 v11 10.0.0.11/24 ""
	net_in v11 ip route add default via 10.0.0.1
	net_vm_add h1 v31 10.0.1.31/24 ""
	net_in v31 ip route add default via 10.0.1.1
	for pair in "$BR:v11:10.0.0.1:10.0.0.0/24" "$b2:v31:10.0.1.1:10.0.1.0/24"; do
		IFS=: read -r br vm gw net <<<"$pair"
		rp=$(mx router "$r" add port address "$gw" net "$net")
		bp=$(mx bridge "$br" add port)
		mx bridge "$br" port "$bp" set peer "$rp"
		p=$(mx bridge "$br" add port)
		mx host "$(agent_name h1)" add binding port "$p" interface "$vm"
	done
	wait_until 20 ping_all v11 10.0.1.31 1
	mx router "$r" set state down
	run mx router "$r" show
	[[ "$output" == *"state down"* ]]
	wait_until 20 ping_none v11 10.0.1.31
	# every router port carries MX_PORT_DEVICE_DOWN (128); one of them counted the drops
	map_has h1 midox_port_v2 'all(.[] | select(.value.flags % 32 >= 16); .value.flags >= 128)'
	[ "$(map_entries h1 midox_stats | jq -er --argjson i "$(drop_index MX_DROP_ADMIN_DOWN)" \
		'[.[].values[].value.drops[$i]] | add // 0')" -gt 0 ]
	mx router "$r" set state up
	wait_until 20 ping_all v11 10.0.1.31 3
}

# spoofed VM: v11 also holds 10.0.0.99 and pings v21 from it.
spoof_ping() {
	net_in v11 ip addr add 10.0.0.99/24 dev eth0 2>/dev/null || true
	net_in v11 ip neigh flush dev eth0
	run net_in v11 ping -c 2 -i 0.2 -W 1 -I 10.0.0.99 10.0.0.21
	echo "$output"
	[[ "$output" == *" 2 received"* ]]
}

@test "port security: on drops a spoofed source, off lets it through, an allowed address passes" {
	state_setup
	local k before
	k=$(port_key h1 v11)
	before=$(drops h1 "$k" MX_DROP_SPOOF_IP)
	! spoof_ping || false
	[ "$(drops h1 "$k" MX_DROP_SPOOF_IP)" -gt "$before" ]
	mx bridge "$BR" port "${PORT[v11]}" set port-security off
	run mx bridge "$BR" port "${PORT[v11]}" show
	[[ "$output" == *"port-security off"* ]]
	wait_until 20 spoof_ping
	mx bridge "$BR" port "${PORT[v11]}" set port-security on
	wait_until 20 eval '! spoof_ping'
	mx bridge "$BR" port "${PORT[v11]}" add allowed-address 10.0.0.99
	run mx bridge "$BR" port "${PORT[v11]}" show
	[[ "$output" == *"allowed-address 10.0.0.99"* ]]
	map_has h1 midox_allow_v2 "any(.[]; .key.port_key == $k)"
	wait_until 20 spoof_ping
	mx --force bridge "$BR" port "${PORT[v11]}" delete allowed-address 10.0.0.99
	wait_until 20 eval '! spoof_ping'
	# clear address: only the MAC holds the port, any address from it passes
	mx --force bridge "$BR" port "${PORT[v11]}" clear address
	run mx bridge "$BR" port "${PORT[v11]}" show
	[[ "$output" != *"address 10.0.0.11"* ]]
	wait_until 20 spoof_ping
	mx --force bridge "$BR" port "${PORT[v11]}" clear mac
	run mx bridge "$BR" port "${PORT[v11]}" show
	[[ "$output" != *"mac $M11"* ]]
	map_has h1 midox_port_v2 "any(.[]; .key == $k and .value.flags % 16 < 4)"
}

@test "state and port-security errors exit non-zero, say why, and write nothing" {
	e2e_hosts "$TZ" h1=192.0.2.1
	mx bridge create name "$BR"
	local r=$NET_RUN-r p rp before after
	mx router create name "$r"
	p=$(mx bridge "$BR" add port mac 02:00:00:00:00:01)
	rp=$(mx router "$r" add port address 10.9.0.1 net 10.9.0.0/24)
	before=$(mx bridge "$BR" port "$p" show; mx bridge list; mx router list)
	for cmd in "bridge $BR set state sideways" "bridge $BR set state" \
		"router $r set state 1" "bridge nosuch set state down" \
		"bridge $BR port $p set state maybe" "bridge $BR port $p set port-security yes" \
		"bridge $BR port nosuch set state down" "router $r port $rp set port-security off" \
		"router $r port $rp clear mac" "bridge $BR port $p add allowed-address 10.0.0.256" \
		"bridge $BR port $p add allowed-address 224.0.0.1" \
		"bridge $BR port $p add allowed-address 10.0.0.5 mac 01:00:00:00:00:01" \
		"bridge $BR port $p add allowed-address 10.0.0.5 color red" \
		"bridge $BR port $p delete allowed-address 10.0.0.5" \
		"router $r port $rp add allowed-address 10.9.0.7" \
		"bridge $BR port $p set mac 02:00:00:00:00:02 state down bogus"; do
		# shellcheck disable=SC2086
		run mx $cmd
		echo "$cmd -> $status: $output"
		[ "$status" -ne 0 ]
		[ -n "$output" ]
	done
	after=$(mx bridge "$BR" port "$p" show; mx bridge list; mx router list)
	[ "$before" = "$after" ]
	# a duplicate allowed address is refused, the first stays
	mx bridge "$BR" port "$p" add allowed-address 10.0.0.5
	run mx bridge "$BR" port "$p" add allowed-address 10.0.0.5
	[ "$status" -ne 0 ]
	[[ "$output" == *"already an allowed address"* ]]
}
