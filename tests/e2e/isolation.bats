#!/usr/bin/env bats
# Isolation end to end (issue 5): real ZooKeeper, real agents, the real CLI. A rogue host on the
# underlay that is no member of the tunnel zone injects crafted VXLAN; a VM whose port has a
# fixed MAC and address sends as someone else. Each attack frame must reach nobody (the target
# VMs capture none of them, while a marker frame sent afterwards, which differs from the attack
# only in what the check looks at, arrives: the capture was live and the crafted frame valid)
# and be counted under its drop reason in the receiving host's midox_stats.
#
#   h1 192.0.2.1: v11 10.0.0.11 (port with mac 02:00:00:00:aa:11 address 10.0.0.11), v12 10.0.0.12
#   h2 192.0.2.2: v21 10.0.0.21
#   rogue 192.0.2.66: on the same underlay bridge, no agent, not in the tunnel zone

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

MAC11=02:00:00:00:aa:11
SPOOF_MAC=02:00:00:00:bb:01
N=5 # attack frames per case

setup_file() {
	e2e_setup_file midox midox-agent
	craft_write "$BATS_FILE_TMPDIR/craft.py"
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-a
	TZ=$NET_RUN-tz
	CRAFT=$BATS_FILE_TMPDIR/craft.py
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_tunpeer midox_stats
}

# craft_write FILE: a frame sender (python3, AF_PACKET): COUNT Ethernet/IPv4/UDP frames, or
# ARP with --arp, or either inside VXLAN with --vni (outer from the interface's own MAC to
# --omac, IPv4 --osrc -> --odst, UDP 4789, I flag), out of IFACE in the netns it runs in.
craft_write() {
	cat > "$1" <<-'PY'
	import argparse, socket, struct

	def csum(b):
	    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
	    while s >> 16:
	        s = (s & 0xffff) + (s >> 16)
	    return ~s & 0xffff

	def mac(s):
	    return bytes.fromhex(s.replace(':', ''))

	def ipv4_udp(src, dst, sport, dport, payload):
	    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
	    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
	                      socket.inet_aton(src), socket.inet_aton(dst))
	    return hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:] + udp

	p = argparse.ArgumentParser()
	p.add_argument('iface')
	p.add_argument('count', type=int)
	p.add_argument('--dmac', required=True)
	p.add_argument('--smac')
	p.add_argument('--sip', required=True)
	p.add_argument('--dip', required=True)
	p.add_argument('--dport', type=int, default=7000)
	p.add_argument('--arp', type=int, help='ARP with this op instead of UDP (sender: smac, sip)')
	p.add_argument('--vni', type=int)
	p.add_argument('--omac')
	p.add_argument('--osrc')
	p.add_argument('--odst')
	p.add_argument('--vlan', type=int, help='an 802.1Q tag with this VLAN id')
	a = p.parse_args()

	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
	s.bind((a.iface, 0))
	own = s.getsockname()[4]
	smac = mac(a.smac) if a.smac else own
	if a.arp:
	    body = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, a.arp, smac, socket.inet_aton(a.sip),
	                       bytes(6), socket.inet_aton(a.dip)) + bytes(18)
	    frame = mac(a.dmac) + smac + b'\x08\x06' + body
	else:
	    body = ipv4_udp(a.sip, a.dip, 40000, a.dport, b'midox-isolation' + bytes(17))
	    frame = mac(a.dmac) + smac + b'\x08\x00' + body
	if a.vlan is not None:
	    frame = frame[:12] + struct.pack('!HH', 0x8100, a.vlan) + frame[12:]
	if a.vni is not None:
	    vx = struct.pack('!II', 0x08000000, a.vni << 8) + frame
	    frame = mac(a.omac) + own + b'\x08\x00' + ipv4_udp(a.osrc, a.odst, 50000, 4789, vx)
	for _ in range(a.count):
	    s.send(frame)
	PY
}

# craft NAME IFACE COUNT ARGS...: run the sender in NAME's netns.
craft() {
	local name=$1
	shift
	net_in "$name" python3 "$CRAFT" "$@"
}

# vm_port HOST VM N [PORT FIELDS...]: VM 10.0.0.N (with eth0's MAC given by "mac M" among the
# fields) on a port of the bridge, bound to it on HOST.
vm_port() {
	local host=$1 vm=$2 n=$3 p
	shift 3
	net_vm_add "$host" "$vm" "10.0.0.$n/24" "${2:-}"
	p=$(mx bridge "$BR" add port "$@") && [ -n "$p" ] || return 1
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}

iso_setup() {
	net_host_add rogue 192.0.2.66 # first, so that e2e_hosts checks its underlay too
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	vm_port h1 v11 11 mac "$MAC11" address 10.0.0.11
	vm_port h1 v12 12
	vm_port h2 v21 21
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v11 10.0.0.12
	wait_until 20 ping_ok v12 10.0.0.21
}

# rogue_vxlan COUNT DPORT OSRC ODST VNI: COUNT VXLAN frames from the rogue's underlay
# interface to h1's MAC, carrying UDP to v11 (its MAC and address) port DPORT.
rogue_vxlan() {
	craft rogue ul0 "$1" --omac "$(net_mac h1 ul0)" --osrc "$3" --odst "$4" --vni "$5" \
		--dmac "$MAC11" --smac 02:00:00:00:ee:01 --sip 10.0.0.99 --dip 10.0.0.11 --dport "$2"
}

# rogue_case MX_DROP_NAME OSRC ODST VNI [VNI...]: N frames per VNI from the rogue with the
# given outer addresses; then the marker, the same frame from h2's address to h1's with
# v11's VNI. v11 sees the marker and none of the rest; h1 counts each one under the reason.
rogue_case() {
	local reason=$1 osrc=$2 odst=$3 key before after vni
	shift 3
	key=$(port_key h1 v11)
	net_capture v11 'udp and dst host 10.0.0.11'
	before=$(drops h1 0 "$reason")
	for vni in "$@"; do
		rogue_vxlan "$N" 7001 "$osrc" "$odst" "${vni/v11/$key}"
	done
	rogue_vxlan 1 7999 192.0.2.2 192.0.2.1 "$key"
	wait_until 10 captured v11 '\.7999: ' 1
	after=$(drops h1 0 "$reason")
	echo "$reason on h1: $before -> $after; v11 captured $(net_capture_count v11 '\.7001: ') attack frames"
	[ "$(net_capture_count v11 '\.7001: ')" -eq 0 ]
	[ $((after - before)) -eq $((N * $#)) ]
}

@test "VXLAN from an address outside the tunnel zone is dropped and counted" {
	iso_setup
	rogue_case MX_DROP_TUNNEL_NOT_MEMBER 192.0.2.66 192.0.2.1 v11
}

@test "VXLAN to another host's address, arriving at h1, is dropped and counted" {
	iso_setup
	# h1's MAC, h2's tunnel address, from a member: only the destination is wrong
	rogue_case MX_DROP_TUNNEL_NOT_LOCAL 192.0.2.2 192.0.2.2 v11
}

@test "VXLAN with an unknown VNI, or another host's port's, is dropped and counted" {
	iso_setup
	local k21
	k21=$(port_key h2 v21)
	rogue_case MX_DROP_VXLAN_UNKNOWN_VNI 192.0.2.2 192.0.2.1 $((0xabcde)) "$k21"
}

# spoof_case MX_DROP_NAME CRAFT-ARGS...: N broadcasts from v11 with the given sender fields,
# then a marker broadcast as itself; v12 (same host) and v21 (across the tunnel) see the
# marker and none of the rest; h1 counts each on v11's port.
spoof_case() {
	local reason=$1 key before after vm
	shift
	key=$(port_key h1 v11)
	for vm in v12 v21; do net_capture "$vm" 'udp port 7001 or udp port 7999'; done
	before=$(drops h1 "$key" "$reason")
	craft v11 eth0 "$N" --dmac ff:ff:ff:ff:ff:ff --dip 10.0.0.255 --dport 7001 "$@"
	craft v11 eth0 1 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.11 --dip 10.0.0.255 --dport 7999
	for vm in v12 v21; do wait_until 10 captured "$vm" '\.7999: ' 1; done
	after=$(drops h1 "$key" "$reason")
	echo "$reason on v11's port: $before -> $after"
	for vm in v12 v21; do
		echo "$vm captured $(net_capture_count "$vm" '\.7001: ') attack frames"
		[ "$(net_capture_count "$vm" '\.7001: ')" -eq 0 ]
	done
	[ $((after - before)) -eq "$N" ]
}

@test "port security: a VM sending with a spoofed source MAC reaches nobody, and is counted" {
	iso_setup
	spoof_case MX_DROP_SPOOF_MAC --smac "$SPOOF_MAC" --sip 10.0.0.11
	# never learned, here or (through ZooKeeper) on the other host
	local m
	m=$(mac_bytes "$SPOOF_MAC")
	! map_has h1 midox_fdb "any(.[]; .key.mac == $m)" || false
	! map_has h2 midox_fdb "any(.[]; .key.mac == $m)" || false
	# a port without fixed addresses is not locked: the same frame from v12 arrives
	net_capture v21 'udp port 7002'
	craft v12 eth0 1 --dmac ff:ff:ff:ff:ff:ff --smac "$SPOOF_MAC" --sip 10.0.0.11 \
		--dip 10.0.0.255 --dport 7002
	wait_until 10 captured v21 '\.7002: ' 1
}

@test "port security: a VM sending with a spoofed source IP or ARP reaches nobody, and is counted" {
	iso_setup
	spoof_case MX_DROP_SPOOF_IP --sip 10.0.0.12
	# ARP poisoning: v11 claims v12's address, in gratuitous replies and in requests
	local key before vm
	key=$(port_key h1 v11)
	for vm in v12 v21; do net_capture "$vm" "arp and ether src $MAC11"; done
	before=$(drops h1 "$key" MX_DROP_SPOOF_IP)
	craft v11 eth0 "$N" --arp 2 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.12 --dip 10.0.0.12
	craft v11 eth0 "$N" --arp 1 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.12 --dip 10.0.0.21
	# the marker: a request as itself, flooded to both
	craft v11 eth0 1 --arp 1 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.11 --dip 10.0.0.77
	for vm in v12 v21; do wait_until 10 captured "$vm" 'who-has 10\.0\.0\.77' 1; done
	for vm in v12 v21; do
		[ "$(net_capture_count "$vm" '10\.0\.0\.12 is-at|tell 10\.0\.0\.12')" -eq 0 ]
	done
	[ $(($(drops h1 "$key" MX_DROP_SPOOF_IP) - before)) -eq $((2 * N)) ]
	# v21 still reaches v12 at its own MAC
	net_in v21 ip neigh flush dev eth0
	ping_all v21 10.0.0.12 3
	net_in v21 ip neigh show 10.0.0.12 dev eth0 | grep -q "lladdr $(net_mac v12)"
}

@test "a VM port is an access port: VLAN-tagged frames go nowhere, and are counted" {
	iso_setup
	local key before vm
	key=$(port_key h1 v12)
	# v12's port is not locked: only the tag stops these
	for vm in v11 v21; do
		net_capture "$vm" 'udp port 7001 or udp port 7999 or (vlan and udp port 7001)'
	done
	before=$(drops h1 "$key" MX_DROP_VLAN_TAGGED)
	craft v12 eth0 "$N" --vlan 7 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.12 --dip 10.0.0.255 \
		--dport 7001
	craft v12 eth0 1 --dmac ff:ff:ff:ff:ff:ff --sip 10.0.0.12 --dip 10.0.0.255 --dport 7999
	for vm in v11 v21; do wait_until 10 captured "$vm" '\.7999: ' 1; done
	for vm in v11 v21; do
		echo "$vm captured $(net_capture_count "$vm" '\.7001: ') tagged frames"
		[ "$(net_capture_count "$vm" '\.7001: ')" -eq 0 ]
	done
	[ $(($(drops h1 "$key" MX_DROP_VLAN_TAGGED) - before)) -eq "$N" ]
}
