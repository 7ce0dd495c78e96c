#!/usr/bin/env bats
# Virtual routers end to end (issue 3): real ZooKeeper, real agents in host namespaces, the real
# CLI, traffic between VM namespaces and to "physical" namespaces outside the overlay. One
# ZooKeeper for the file; every test builds its own hosts, VMs and topology with names unique to
# it, and removes them, also on failure.
#
# The standard topology (router_setup): two hosts on an underlay bridge (192.0.2.0/24), two
# tenant bridges joined by router R; every VM's default gateway is R's port on its bridge, every
# VM port has its VM's MAC and address (as a Neutron port has), so the bridges know them.
#   bridge A 10.0.1.0/24 (R port0 10.0.1.1):  v11 10.0.1.11 on h1,  v22 10.0.1.22 on h2
#   bridge B 10.0.2.0/24 (R port1 10.0.2.1):  v12 10.0.2.12 on h1,  v21 10.0.2.21 on h2
# Uplinks (uplink_add): R port 172.16.N.1/24 bound to a veth of a host whose other end is in a
# "physical" namespace (172.16.N.2/24, and 198.51.100.1/32 on its loopback, a route back to
# 10.0.0.0/16 via 172.16.N.1), as in MidoNet's quickstart.

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
	TZ=$NET_RUN-tz
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		mx router "$RT" list route >&2 2>/dev/null || true
		mx router "$RT" list arp >&2 2>/dev/null || true
	fi
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_route midox_neigh
}

router_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_port a 10.0.1.1 10.0.1.0/24
	router_port b 10.0.2.1 10.0.2.0/24
	link_bridge "$BR_A" a
	link_bridge "$BR_B" b
	vm_add h1 v11 10.0.1.11 "$BR_A"
	vm_add h1 v12 10.0.2.12 "$BR_B"
	vm_add h2 v21 10.0.2.21 "$BR_B"
	vm_add h2 v22 10.0.1.22 "$BR_A"
}

# uplink_add HOST IF PHYS N: the physical namespace PHYS linked to HOST (IF there, eth0 in PHYS
# with 172.16.N.2/24); R's port "uN" 172.16.N.1/24 bound to IF; PHYS holds 198.51.100.1 on lo
# and routes the tenants' 10.0.0.0/16 back through R.
uplink_add() {
	local host=$1 ifname=$2 phys=$3 n=$4
	net_phys_add "$phys" "$host" "$ifname" "172.16.$n.2/24"
	ip -n "$(net_ns "$phys")" addr replace 198.51.100.1/32 dev lo
	ip -n "$(net_ns "$phys")" route replace 10.0.0.0/16 via "172.16.$n.1" dev eth0
	router_port "u$n" "172.16.$n.1" "172.16.$n.0/24"
	mx host "$(agent_name "$host")" add binding port "${RPORT[u$n]}" interface "$ifname"
}

# route_add ARGS...: `router R add route ARGS`; prints the route's alias (router0:routeN).
route_add() {
	local r
	r=$(mx router "$RT" add route "$@") || return 1
	[[ $r == *:route* ]] || { echo "router add route printed '$r'" >&2; return 1; }
	echo "$r"
}

# replies_routed OUTPUT: every ping reply went through the router (ttl 63), none came straight (64).
replies_routed() {
	[[ "$1" == *" ttl=63 "* ]] && [[ "$1" != *" ttl=64 "* ]]
}

@test "VMs on two bridges reach each other through the router, on one host and across hosts" {
	router_setup
	wait_until 20 ping_ok v11 10.0.2.21
	# across hosts, both ways; the router decrements the TTL once (64 -> 63)
	ping_all v11 10.0.2.21 20
	replies_routed "$output"
	ping_all v21 10.0.1.11 20
	replies_routed "$output"
	ping_all v22 10.0.2.12 10
	replies_routed "$output"
	# on one host, both ways
	wait_until 10 ping_ok v11 10.0.2.12
	ping_all v11 10.0.2.12 10
	replies_routed "$output"
	ping_all v12 10.0.1.11 10
	# the router answers for both its addresses, from either side
	ping_all v11 10.0.1.1 3
	ping_all v11 10.0.2.1 3
	ping_all v21 10.0.1.1 3
	# the connected routes came with the ports
	run mx router "$RT" list route
	echo "$output"
	[[ "$output" == *" dst 10.0.1.0/24 port port0 "* ]]
	[[ "$output" == *" dst 10.0.2.0/24 port port1 "* ]]
}

@test "a routed frame crosses the underlay once, with the final egress port's key as VNI" {
	router_setup
	wait_until 20 ping_ok v11 10.0.2.21
	local key
	key=$(port_key h2 v21)
	# what h1 sends to h2: v11's requests, routed at h1 into bridge B, to v21's port on h2
	net_capture ul 'udp dst port 4789' h1
	ping_all v11 10.0.2.21 20
	wait_until 5 captured ul "192\.0\.2\.1\.[0-9]+ > 192\.0\.2\.2\.4789: VXLAN, .*vni $key\$" 20
	net_capture_stop ul
	local vxlan=' > 192\.0\.2\.2\.4789: VXLAN, '
	echo "$(net_capture_count ul "$vxlan.*vni $key\$") frames with vni $key, $(net_capture_count ul "$vxlan") in all"
	[ "$(net_capture_count ul "$vxlan")" -eq "$(net_capture_count ul "$vxlan.*vni $key\$")" ]
	# what h2 sends back: only the replies, routed at h2 into bridge A, to v11's port on h1
	local key11
	key11=$(port_key h1 v11)
	net_capture ul 'udp dst port 4789' h2
	ping_all v11 10.0.2.21 20
	vxlan=' > 192\.0\.2\.1\.4789: VXLAN, '
	wait_until 5 captured ul "192\.0\.2\.2\.[0-9]+$vxlan.*vni $key11\$" 20
	net_capture_stop ul
	echo "$(net_capture_count ul "$vxlan.*vni $key11\$") frames with vni $key11, $(net_capture_count ul "$vxlan") in all"
	[ "$(net_capture_count ul "$vxlan")" -eq "$(net_capture_count ul "$vxlan.*vni $key11\$")" ]
}

@test "traceroute shows the router hop" {
	command -v traceroute >/dev/null || { echo "traceroute missing: run tools/scripts/install-deps" >&2; false; }
	router_setup
	wait_until 20 ping_ok v11 10.0.2.21
	wait_until 20 ping_ok v21 10.0.1.11
	run net_in v11 traceroute -n -q 1 -w 2 -m 4 10.0.2.21
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qE '^ 1  10\.0\.1\.1  ' <<<"$output"
	grep -qE '^ 2  10\.0\.2\.21  ' <<<"$output"
	[ "$(grep -cE '^ [0-9] ' <<<"$output")" -eq 2 ]
	# the other way, and ICMP probes (echo) as well as UDP
	run net_in v21 traceroute -I -n -q 1 -w 2 -m 4 10.0.1.11
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qE '^ 1  10\.0\.2\.1  ' <<<"$output"
	grep -qE '^ 2  10\.0\.1\.11  ' <<<"$output"
}

@test "a reject route answers ICMP unreachable, a blackhole route stays silent, no route is net unreachable" {
	router_setup
	route_add src 0.0.0.0/0 dst 10.0.3.0/24 type reject
	route_add src 0.0.0.0/0 dst 10.0.4.0/24 type blackhole
	wait_until 20 ping_ok v11 10.0.2.21
	net_capture v11 'icmp and icmp[0] == 3'
	# blackhole: no reply and no error; ping reports every ICMP error it gets as "From ..."
	run net_in v11 ping -c 3 -i 0.2 -W 1 10.0.4.5
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *" 0 received"* ]]
	[[ "$output" != *"From "* ]]
	# reject: administratively prohibited (type 3 code 13: iputils says "Packet filtered"),
	# across hosts too (v21's router hop is simulated on h2)
	run net_in v11 ping -c 3 -i 0.2 -W 1 10.0.3.5
	echo "$output"
	[[ "$output" == *"Packet filtered"* ]]
	run net_in v21 ping -c 2 -i 0.2 -W 1 10.0.3.5
	echo "$output"
	[[ "$output" == *"Packet filtered"* ]]
	wait_until 5 captured v11 'unreachable' 1
	[ "$(net_capture_count v11 'unreachable')" -ge 1 ]
	# no route at all: net unreachable (type 3 code 0)
	run net_in v11 ping -c 2 -i 0.2 -W 1 10.9.9.9
	echo "$output"
	[[ "$output" == *"Destination Net Unreachable"* ]]
	# each error came on the heels of its probe: the blackhole's would have come by now
	net_capture_stop v11
	cat "$NET_DIR/cap-v11"
	[ "$(net_capture_count v11 '10\.0\.4\.5')" -eq 0 ]
	# the router forwards on meanwhile
	ping_all v11 10.0.2.21 3
}

@test "deleting a route stops traffic, adding it again restores it" {
	router_setup
	uplink_add h1 up1 ext 1
	local r
	r=$(route_add src 0.0.0.0/0 dst 198.51.100.0/24 type normal port "${RPORT[u1]}" gw 172.16.1.2)
	wait_until 20 ping_ok v11 198.51.100.1
	wait_until 20 ping_ok v21 198.51.100.1
	ping_all v21 198.51.100.1 5
	mx --force router "$RT" route "${r#*:}" delete
	run mx router "$RT" list route
	echo "$output"
	[[ "$output" != *198.51.100.0* ]]
	# each host's agent takes the change on its own
	wait_until 10 eval '! ping_ok v21 198.51.100.1'
	wait_until 10 eval '! ping_ok v11 198.51.100.1'
	ping_none v21 198.51.100.1
	[[ "$output" == *"Net Unreachable"* ]]
	ping_none v11 198.51.100.1
	# the rest still routes
	ping_all v11 10.0.2.21 3
	route_add src 0.0.0.0/0 dst 198.51.100.0/24 type normal port "${RPORT[u1]}" gw 172.16.1.2
	wait_until 20 ping_ok v21 198.51.100.1
	wait_until 20 ping_ok v11 198.51.100.1
	ping_all v21 198.51.100.1 10
	ping_all v11 198.51.100.1 10
}

@test "the physical uplink works both ways (MidoNet's quickstart)" {
	router_setup
	uplink_add h1 up1 ext 1
	route_add src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "${RPORT[u1]}" gw 172.16.1.2
	# VMs reach the physical host: its link address, and beyond the gateway (default route),
	# from the uplink's host and from the other one
	wait_until 20 ping_ok v11 172.16.1.2
	wait_until 20 ping_ok v11 198.51.100.1
	wait_until 20 ping_ok v21 198.51.100.1
	net_capture ext 'icmp[0] == 8' eth0
	ping_all v11 198.51.100.1 10
	ping_all v21 198.51.100.1 10
	ping_all v22 172.16.1.2 5
	# unchanged sources: no NAT on the way out
	wait_until 5 captured ext ': 10\.0\.1\.11 > 198\.51\.100\.1: ICMP echo request' 10
	wait_until 5 captured ext ': 10\.0\.2\.21 > 198\.51\.100\.1: ICMP echo request' 10
	# the physical host reaches the VMs, on both hosts, through its static route
	wait_until 20 ping_ok ext 10.0.1.11
	ping_all ext 10.0.1.11 10
	ping_all ext 10.0.2.21 10
	run net_in ext ping -c 5 -i 0.05 -W 1 -I 198.51.100.1 10.0.1.22
	echo "$output"
	[[ "$output" == *" 5 received, 0% packet loss"* ]]
	# and the router's own address on the uplink
	ping_all ext 172.16.1.1 3
}

# arp_listed ADDR MAC TYPE: `router R list arp` has the entry (TYPE static or learned).
arp_listed() {
	mx router "$RT" list arp | grep -qE "(^| )address ${1//./\\.} mac $2 type $3( |\$)"
}

@test "a next hop's MAC is learned by ARP, shared through ZooKeeper, shown by the CLI and bpftool" {
	router_setup
	uplink_add h1 up1 ext 1
	route_add src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "${RPORT[u1]}" gw 172.16.1.2
	local gwmac
	gwmac=$(net_mac ext)
	net_capture ext 'arp' eth0
	# from the uplink's host: on a miss the router asks out of the bound interface
	wait_until 20 ping_ok v11 198.51.100.1
	wait_until 5 captured ext 'Request who-has 172\.16\.1\.2 tell 172\.16\.1\.1' 1
	# learned on h1 (MX_NEIGH_LOCAL), programmed on h2 from ZooKeeper (MX_NEIGH_REMOTE)
	local match=".key.addr == $(be32 172.16.1.2) and .value.mac == $(mac_bytes "$gwmac")"
	wait_until 10 map_has h1 midox_neigh "any(.[]; $match and ((.value.flags / 2 | floor) % 2) == 1)"
	wait_until 20 map_has h2 midox_neigh "any(.[]; $match and ((.value.flags / 4 | floor) % 2) == 1)"
	# the CLI lists it, with its MAC, as learned
	wait_until 10 arp_listed 172.16.1.2 "$gwmac" learned
	# h2 uses it: its VMs get out with no ARP of their own
	local before
	before=$(net_capture_count ext 'Request who-has 172\.16\.1\.2')
	ping_all v21 198.51.100.1 5
	[ "$(net_capture_count ext 'Request who-has 172\.16\.1\.2')" -eq "$before" ]
	# a static entry: in the CLI and in both hosts' maps (MX_NEIGH_STATIC)
	mx router "$RT" add arp-entry address 172.16.1.9 mac 02:00:00:00:09:09
	arp_listed 172.16.1.9 02:00:00:00:09:09 static
	match=".key.addr == $(be32 172.16.1.9) and .value.mac == $(mac_bytes 02:00:00:00:09:09)"
	wait_until 10 map_has h1 midox_neigh "any(.[]; $match and (.value.flags % 2) == 1)"
	wait_until 10 map_has h2 midox_neigh "any(.[]; $match and (.value.flags % 2) == 1)"
}

@test "a VM whose port has no address is found by the router's ARP through its bridge" {
	router_setup
	# v23's port knows neither MAC nor address: the bridge cannot answer for it
	net_vm_add h2 v23 10.0.2.23/24
	net_vm_gw v23 10.0.2.1
	local p mac
	p=$(mx bridge "$BR_B" add port)
	mx host "$(agent_name h2)" add binding port "$p" interface v23
	mac=$(net_mac v23)
	net_capture v23 'arp and arp[6:2] == 1' eth0
	# routed on h1: the router asks on bridge B, v23 answers on h2, and the entry comes back
	wait_until 20 ping_ok v11 10.0.2.23
	wait_until 5 captured v23 'Request who-has 10\.0\.2\.23 tell 10\.0\.2\.1' 1
	ping_all v11 10.0.2.23 10
	replies_routed "$output"
	wait_until 10 arp_listed 10.0.2.23 "$mac" learned
	map_has h1 midox_neigh "any(.[]; .key.addr == $(be32 10.0.2.23) and .value.mac == $(mac_bytes "$mac"))"
	ping_all v21 10.0.2.23 3
}

# ecmp_sources PHYS: the distinct UDP source ports PHYS's capture saw, one a line, sorted.
ecmp_sources() {
	sed -nE 's/.* 10\.0\.1\.11\.([0-9]+) > 198\.51\.100\.1\.9: UDP.*/\1/p' "$NET_DIR/cap-$1" | sort -u
}

ecmp_all_seen() {
	[ "$(sort -u <(ecmp_sources ext1) <(ecmp_sources ext2) | wc -l)" -ge "$1" ]
}

# ecmp_setup: R's uplinks u1 (ext1) and u2 (ext2) on h2, one route set to 198.51.100.0/24
# over both; both gateways answer from v11 (their MACs are known from here on).
ecmp_setup() {
	router_setup
	uplink_add h2 up1 ext1 1
	uplink_add h2 up2 ext2 2
	route_add src 0.0.0.0/0 dst 198.51.100.0/24 type normal port "${RPORT[u1]}" gw 172.16.1.2
	route_add src 0.0.0.0/0 dst 198.51.100.0/24 type normal port "${RPORT[u2]}" gw 172.16.2.2
	wait_until 20 ping_ok v11 172.16.1.2
	wait_until 20 ping_ok v11 172.16.2.2
	wait_until 20 ping_ok v11 198.51.100.1
}

# ecmp_send FLOWS: from v11 (simulated on h1, sent to h2's uplinks), FLOWS UDP flows to
# 198.51.100.1:9, three datagrams each, captured on both uplinks.
ecmp_send() {
	net_capture ext1 'udp dst port 9' eth0
	net_capture ext2 'udp dst port 9' eth0
	net_in v11 perl -MIO::Socket::INET -MSocket -e '
		# unconnected sockets: the port unreachable errors coming back fail no send
		my $n = shift;
		my $to = pack_sockaddr_in(9, inet_aton("198.51.100.1"));
		my @flows = map {
			IO::Socket::INET->new(Proto => "udp", LocalAddr => "10.0.1.11",
				LocalPort => 40000 + $_) or die "socket: $!\n"
		} 0 .. $n - 1;
		for my $round (1 .. 3) {
			$_->send("midox ecmp", 0, $to) or die "send: $!\n" for @flows;
			select(undef, undef, undef, 0.2);
		}' "$1"
}

# uplink_hops N: h1's route set to 198.51.100.0/24 has N hops.
uplink_hops() {
	map_has h1 midox_route "any(.[]; .key.prefixlen == 56 and .key.dst == $(be32 198.51.100.0) and .value.n == $1)"
}

# admin_down_drops HOST: frames HOST's datapath dropped as admin-down, on every port.
admin_down_drops() {
	map_entries "$1" midox_stats | jq -er --argjson i "$(drop_index MX_DROP_ADMIN_DOWN)" \
		'[.[].values[].value.drops[$i]] | add // 0'
}

@test "ECMP over two uplinks spreads flows by flow hash" {
	ecmp_setup
	local flows=64
	ecmp_send "$flows"
	wait_until 10 ecmp_all_seen "$flows" || true
	local n1 n2 both
	n1=$(ecmp_sources ext1 | wc -l)
	n2=$(ecmp_sources ext2 | wc -l)
	both=$(comm -12 <(ecmp_sources ext1) <(ecmp_sources ext2) | wc -l)
	echo "flows: $n1 via uplink 1, $n2 via uplink 2, $both via both"
	# every flow got out, each by one uplink only, and both uplinks carry a fair share
	# (with equal weights, fewer than 12 of 64 on one side has odds below 1 in 10^6)
	[ $((n1 + n2)) -eq "$flows" ]
	[ "$both" -eq 0 ]
	[ "$n1" -ge 12 ]
	[ "$n2" -ge 12 ]
}

@test "an uplink set down leaves the ECMP set: every flow takes the other; both down, admin-down drops" {
	ecmp_setup
	local flows=64 n1 n2 before after
	wait_until 20 uplink_hops 2
	mx router "$RT" port "${RPORT[u1]#*:}" set state down
	wait_until 20 uplink_hops 1
	ecmp_send "$flows"
	wait_until 10 ecmp_all_seen "$flows" || true
	n1=$(ecmp_sources ext1 | wc -l)
	n2=$(ecmp_sources ext2 | wc -l)
	echo "flows: $n1 via the down uplink 1, $n2 via uplink 2"
	[ "$n1" -eq 0 ]
	[ "$n2" -eq "$flows" ]

	# both down: the whole set stays and drops at the router (no shorter prefix takes it)
	mx router "$RT" port "${RPORT[u2]#*:}" set state down
	wait_until 20 uplink_hops 2
	before=$(admin_down_drops h1)
	run ping_ok v11 198.51.100.1
	[ "$status" -ne 0 ]
	after=$(admin_down_drops h1)
	echo "admin-down drops on h1: $before, then $after"
	[ "$after" -gt "$before" ]
	mx router "$RT" port "${RPORT[u1]#*:}" set state up
	wait_until 20 uplink_hops 1
	wait_until 20 ping_ok v11 198.51.100.1
}

@test "restarting both agents under a ping flood across the router loses no packet" {
	router_setup
	uplink_add h1 up1 ext 1
	route_add src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "${RPORT[u1]}" gw 172.16.1.2
	wait_until 20 ping_ok v11 10.0.2.21
	wait_until 20 ping_ok v12 10.0.1.11
	# v21's way out (routed on h2) needs the gateway's MAC, learned on h1: through ZooKeeper
	wait_until 20 ping_ok v21 198.51.100.1
	# ten seconds of routed traffic each: across hosts, on one host, and out of the uplink
	flood_start v11 10.0.2.21
	flood_start v12 10.0.1.11
	flood_start v21 198.51.100.1
	restart_under_floods h1 h2
}
