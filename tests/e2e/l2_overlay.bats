#!/usr/bin/env bats
# The L2 overlay end to end (issue 2): real ZooKeeper, real agents in host namespaces, the
# real CLI, traffic between VM namespaces. One ZooKeeper for the file; every test builds its
# own hosts, VMs and topology with names unique to it, and removes them, also on failure.
#
# The standard topology (l2_setup), two hosts on an underlay bridge (192.0.2.0/24), one subnet
# 10.0.0.0/24 shared by both bridges so that only the overlay keeps them apart:
#   h1 192.0.2.1: v11 10.0.0.11 (A)  v12 10.0.0.12 (A)  v13 10.0.0.13 (B)
#   h2 192.0.2.2: v21 10.0.0.21 (A)  v22 10.0.0.22 (B)

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent tests/topo-helper
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA PORT=() BRIDGE_OF=()
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown
	[ -n "${PRIVATE_ZK:-}" ] && zk_cleanup
	return 0
}

# host_add HOST N: host netns with underlay address 192.0.2.N and its agent, in the zone.
host_add() {
	net_host_add "$1" "192.0.2.$2"
	agent_start "$1"
	agent_wait_ready "$1"
	mx tunnel-zone "$TZ" add member host "$(agent_name "$1")" address "192.0.2.$2"
}

# vm_add HOST VM N BRIDGE [MAC ADDRESS-OF-PORT]: VM 10.0.0.N with a port on BRIDGE bound to it.
vm_add() {
	local host=$1 vm=$2 n=$3 br=$4 mac=${5:-}
	net_vm_add "$host" "$vm" "10.0.0.$n/24" "$mac"
	port_add "$host" "$vm" "$br" ${mac:+mac "$mac" address "10.0.0.$n"}
}

# port_add HOST VM BRIDGE [PORT FIELDS...]: a port on BRIDGE, bound to interface VM on HOST.
port_add() {
	local host=$1 vm=$2 br=$3
	shift 3
	local p
	p=$(mx bridge "$br" add port "$@") || return 1
	[ -n "$p" ] || { echo "bridge $br add port printed nothing" >&2; return 1; }
	PORT[$vm]=$p
	BRIDGE_OF[$vm]=$br
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}

l2_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	vm_add h1 v11 11 "$BR_A"
	vm_add h1 v12 12 "$BR_A"
	vm_add h1 v13 13 "$BR_B"
	vm_add h2 v21 21 "$BR_A"
	vm_add h2 v22 22 "$BR_B"
}

# bridge_key HOST PORT_KEY: the bridge (device) tunnel key of a port, from midox_port_v2.
bridge_key() {
	map_entries "$1" midox_port_v2 | jq -er --argjson p "$2" '.[] | select(.key == $p) | .value.device_key'
}

# port_entry HOST KEY: KEY's midox_port_v2 entry as JSON.
port_entry() {
	map_entries "$1" midox_port_v2 | jq -ec --argjson p "$2" '.[] | select(.key == $p) | .value'
}

# slot_copy HOST KEY: what midox_portslot holds at KEY's counter slot, as JSON (looked up:
# a dump of all 65536 slots would be slow).
slot_copy() {
	local slot
	slot=$(port_entry "$1" "$2" | jq -er .stats_slot) && [ "$slot" -ne 0 ] || return 1
	bpftool -j map lookup pinned "$(agent_pin "$1")/midox_portslot" key hex $(le32 "$slot") |
		jq -ec '.formatted.value'
}

# slot_mirrors HOST KEY: midox_portslot at KEY's slot holds KEY and its midox_port_v2 entry.
slot_mirrors() {
	local entry copy
	entry=$(port_entry "$1" "$2") && copy=$(slot_copy "$1" "$2") &&
		jq -e --argjson k "$2" --argjson e "$entry" '.port_key == $k and .port == $e' \
			<<<"$copy" >/dev/null
}

# midox_attached HOST IF: a tc filter is on IF's ingress (the agent's program).
midox_attached() {
	tc -n "$NET_RUN-$1" filter show dev "$2" ingress | grep -q bpf
}

@test "same-host ping between two VMs of one bridge" {
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.12
	ping_all v11 10.0.0.12 20
	ping_all v12 10.0.0.11 20
	midox_attached h1 v11
	midox_attached h1 v12
}

@test "cross-host ping travels as VXLAN with the egress port's key as VNI" {
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.21
	# once h1 knows v21's MAC (learned on h2, through ZooKeeper), unicast is no flood
	local key mac21
	key=$(port_key h2 v21)
	mac21=$(net_mac v21)
	wait_until 20 map_has h1 midox_fdb "any(.[]; .key.mac == $(mac_bytes "$mac21") and .value.port_key == $key)"
	# the underlay bridge's port to h1: what h1 sends
	net_capture ul 'udp dst port 4789' h1
	ping_all v11 10.0.0.21 20
	ping_all v21 10.0.0.11 20
	wait_until 5 captured ul "192\.0\.2\.1\.[0-9]+ > 192\.0\.2\.2\.4789: VXLAN, .*vni $key\$" 40
	net_capture_stop ul
	# v11's 20 echo requests and 20 echo replies reach h2 with VNI = v21's port key, none
	# flooded (with the bridge's key): tcpdump prints each outer header on one line
	local vxlan=' > 192\.0\.2\.2\.4789: VXLAN, '
	echo "$(net_capture_count ul "$vxlan.*vni $key\$") frames with vni $key, $(net_capture_count ul "$vxlan") in all"
	[ "$(net_capture_count ul "192\.0\.2\.1\.[0-9]+$vxlan.*vni $key\$")" -ge 40 ]
	[ "$(net_capture_count ul "$vxlan")" -eq "$(net_capture_count ul "$vxlan.*vni $key\$")" ]
}

@test "one command makes a port bound to a VM's interface: it forwards at once" {
	local p
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	net_vm_add h1 v11 10.0.0.11/24 ""
	net_vm_add h2 v21 10.0.0.21/24 02:00:00:00:00:21
	p=$(mx bridge "$BR_A" add port host "$(agent_name h1)" interface v11)
	[[ "$p" =~ ^bridge[0-9]+:port[0-9]+$ ]]
	mx bridge "$BR_A" add port mac 02:00:00:00:00:21 address 10.0.0.21 host "$(agent_name h2)" interface v21
	wait_until 20 ping_ok v11 10.0.0.21
	ping_all v11 10.0.0.21 5
	wait_until 10 eval "mx host $(agent_name h1) list binding | grep -q 'interface v11 port $p state active'"
}

@test "ARP for a port's fixed address is answered by the bridge, not flooded" {
	l2_setup
	local mac=02:00:00:00:aa:01
	vm_add h2 v23 99 "$BR_A" "$mac"
	# the entry is programmed on h1 before the VM asks (until then flooding is correct)
	wait_until 20 map_has h1 midox_arp_v2 "any(.[]; .value.mac == $(mac_bytes $mac))"
	wait_until 20 ping_ok v11 10.0.0.12
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v11 10.0.0.99
	local filter='(arp and arp[6:2] == 1 and arp[24:4] == 0x0a000063) or (icmp and dst host 10.0.0.255)'
	local vm
	for vm in v12 v21 v23; do net_capture "$vm" "$filter"; done
	net_in v11 ip neigh flush dev eth0
	ping_all v11 10.0.0.99 3
	net_in v11 ip neigh show 10.0.0.99 dev eth0 | grep -q "lladdr $mac"
	# a broadcast after the ARP: once every VM has it, a flooded request would have arrived
	net_in v11 ping -b -c 1 -W 1 10.0.0.255 || true
	for vm in v12 v21 v23; do
		wait_until 10 captured "$vm" '10\.0\.0\.255' 1
	done
	for vm in v12 v21 v23; do
		[ "$(net_capture_count "$vm" 'who-has 10\.0\.0\.99')" -eq 0 ]
	done
}

@test "bridges are isolated both ways, on one host and across hosts" {
	l2_setup
	# both bridges forward
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v13 10.0.0.22
	local mac11 mac12 mac13 mac21 mac22
	mac11=$(net_mac v11) mac12=$(net_mac v12) mac21=$(net_mac v21)
	mac13=$(net_mac v13) mac22=$(net_mac v22)
	net_capture v13 "ether src $mac11 or ether src $mac12 or ether src $mac21"
	net_capture v22 "ether src $mac11 or ether src $mac12 or ether src $mac21"
	net_capture v11 "ether src $mac13 or ether src $mac22"
	net_capture v21 "ether src $mac13 or ether src $mac22"
	ping_none v11 10.0.0.13
	ping_none v11 10.0.0.22
	ping_none v21 10.0.0.13
	ping_none v13 10.0.0.11
	ping_none v22 10.0.0.21
	ping_none v22 10.0.0.12
	# each ping above waited for its ARP to time out: a leaked frame would be here by now
	[ "$(net_capture_count v13)" -eq 0 ]
	[ "$(net_capture_count v22)" -eq 0 ]
	[ "$(net_capture_count v11)" -eq 0 ]
	[ "$(net_capture_count v21)" -eq 0 ]
	# and the bridges still work
	ping_all v11 10.0.0.21 3
	ping_all v22 10.0.0.13 3
}

@test "a broadcast reaches every port of its bridge exactly once, on three hosts" {
	l2_setup
	net_host_add h3 192.0.2.3
	net_underlay_check
	agent_start h3
	agent_wait_ready h3
	mx tunnel-zone "$TZ" add member host "$(agent_name h3)" address 192.0.2.3
	vm_add h3 v31 31 "$BR_A"
	local vm
	for vm in 10.0.0.12 10.0.0.21 10.0.0.31; do wait_until 20 ping_ok v11 "$vm"; done
	wait_until 20 ping_ok v13 10.0.0.22
	for vm in v11 v12 v13 v21 v22 v31; do net_capture "$vm" 'icmp and dst host 10.0.0.255'; done
	# three probes of 100 bytes, then a sentinel of 200
	net_in v11 ping -b -c 3 -i 0.2 -s 100 -W 1 10.0.0.255 || true
	net_in v11 ping -b -c 1 -s 200 -W 1 10.0.0.255 || true
	for vm in v12 v21 v31; do
		wait_until 10 captured "$vm" 'length 208' 1
	done
	for vm in v12 v21 v31; do
		echo "$vm: $(net_capture_count "$vm" 'length 108') probes"
		[ "$(net_capture_count "$vm" 'length 108')" -eq 3 ]
		[ "$(net_capture_count "$vm" 'length 208')" -eq 1 ]
	done
	# never back to the sender, never into the other bridge
	for vm in v11 v13 v22; do
		echo "$vm: $(net_capture_count "$vm") frames"
		[ "$(net_capture_count "$vm")" -eq 0 ]
	done
}

@test "a MAC learned on one host is programmed on the other and kept in ZooKeeper" {
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.21
	local mac key bkey
	mac=$(net_mac v11)
	key=$(port_key h1 v11)
	bkey=$(bridge_key h1 "$key")
	# learned on h1, on its local port
	wait_until 10 map_has h1 midox_fdb \
		"any(.[]; .key.mac == $(mac_bytes "$mac") and .key.bridge_key == $bkey and .value.port_key == $key and ((.value.flags / 2 | floor) % 2) == 1)"
	# programmed on h2 as a remote entry (MX_FDB_REMOTE), for the same bridge and port
	wait_until 20 map_has h2 midox_fdb \
		"any(.[]; .key.mac == $(mac_bytes "$mac") and .key.bridge_key == $bkey and .value.port_key == $key and .value.flags == 4)"
	# each entry names the port's counter slot on its host, where midox_portslot mirrors the
	# port's entry: known unicast reads the array, not the port hash
	local slot1 slot2
	slot1=$(port_entry h1 "$key" | jq -er .stats_slot)
	slot2=$(port_entry h2 "$key" | jq -er .stats_slot)
	[ "$slot1" -ne 0 ]
	[ "$slot2" -ne 0 ]
	map_has h1 midox_fdb "any(.[]; .key.mac == $(mac_bytes "$mac") and .value.port_slot == $slot1)"
	map_has h2 midox_fdb "any(.[]; .key.mac == $(mac_bytes "$mac") and .value.port_slot == $slot2)"
	slot_mirrors h1 "$key"
	slot_mirrors h2 "$key"
	# and published in ZooKeeper under h1, as an ephemeral node of its session
	run env MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" dump
	[ "$status" -eq 0 ]
	grep -E "^/midox/hosts/[0-9a-f-]+/macs/$mac,[0-9a-f-]+ .*\(ephemeral\)\$" <<<"$output"
}

@test "unbinding a port stops delivery to it and detaches the datapath" {
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v22 10.0.0.13
	midox_attached h2 v21
	local ifindex key
	ifindex=$(net_ifindex h2 v21)
	key=$(port_key h2 v21)
	slot_mirrors h1 "$key"
	port_entry h1 "$key" | jq -e '.flags % 4 == 2' # MX_PORT_REMOTE
	mx host "$(agent_name h2)" delete binding interface v21
	wait_until 20 eval '! ping_ok v11 10.0.0.21'
	ping_none v11 10.0.0.21
	ping_none v21 10.0.0.11
	# h1's copy of the port in midox_portslot changed with its entry (bound nowhere now)
	port_entry h1 "$key" | jq -e '.flags % 4 == 0'
	slot_mirrors h1 "$key"
	wait_until 10 eval '! midox_attached h2 v21'
	map_has h2 midox_ifport_v3 "all(.[]; .key != $ifindex)"
	# the rest of the overlay is untouched
	ping_all v11 10.0.0.12 3
	ping_all v22 10.0.0.13 3
}

@test "restarting both agents under a ping flood loses no packet" {
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v11 10.0.0.12
	# ten seconds of traffic each, across hosts and on one host
	flood_start v11 10.0.0.21
	flood_start v12 10.0.0.11
	restart_under_floods h1 h2
}

@test "ZooKeeper stopped: traffic keeps flowing; back again: a new port works" {
	# a ZooKeeper of this test's own, so stopping it disturbs no other test
	PRIVATE_ZK=1
	unset ZK_PORT
	zk_start
	l2_setup
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v11 10.0.0.12
	zk_stop
	run mx host list
	[ "$status" -ne 0 ]
	ping_all v11 10.0.0.21 40
	ping_all v11 10.0.0.12 40
	# a fresh ARP still floods and resolves
	net_in v11 ip neigh flush dev eth0
	ping_all v11 10.0.0.21 3
	ping_all v21 10.0.0.12 3
	zk_restart
	agent_wait_ready h1 30
	agent_wait_ready h2 30
	# the binding first, the interface later: the agent attaches when it appears
	local p
	p=$(mx bridge "$BR_A" add port)
	mx host "$(agent_name h2)" add binding port "$p" interface v24
	net_vm_add h2 v24 10.0.0.24/24
	wait_until 20 ping_ok v11 10.0.0.24
	ping_all v24 10.0.0.12 3
	ping_none v24 10.0.0.22
}
