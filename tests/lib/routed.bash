# Routed topologies for the end-to-end tests: VMs with a fixed MAC and address on bridge
# ports (as a Neutron port has, so the bridges know them), router ports, and interior links
# between them. The caller declares PORT and RPORT (declare -gA PORT=() RPORT=()) and sets
# RT, the router's name.

# vm_mac A.B.C.D: the MAC a VM with that address gets, 02:00 + the address in hex.
vm_mac() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	printf '02:00:%02x:%02x:%02x:%02x\n' "$1" "$2" "$3" "$4"
}

# vm_add HOST VM ADDR BRIDGE: VM ADDR/24 with gateway .1, and a port of BRIDGE with its MAC and
# address, bound to it; the port's alias in PORT[VM].
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

# router_port NAME ADDR NET: a port of $RT with ADDR in NET (a.b.c.d/len); its alias
# (router0:portN) in RPORT[NAME].
router_port() {
	local p
	p=$(mx router "$RT" add port address "$2" net "$3") || return 1
	[[ $p == *:port* ]] || { echo "router add port printed '$p'" >&2; return 1; }
	RPORT[$1]=$p
}

# link_bridge BRIDGE NAME: a new port of BRIDGE, peer of $RT's port NAME (interior ports);
# its alias in RPORT[NAME-peer].
link_bridge() {
	local bp
	bp=$(mx bridge "$1" add port) || return 1
	RPORT[$2-peer]=$bp
	mx bridge "$1" port "${bp#*:}" set peer router "$RT" port "${RPORT[$2]#*:}"
}

# router_link NAME ADDR NET BRIDGE: router_port NAME ADDR NET, linked to BRIDGE (link_bridge).
router_link() {
	router_port "$1" "$2" "$3" && link_bridge "$4" "$1"
}

# vm_port HOST VM ADDR BRIDGE [MAC]: VM ADDR/24 (gateway .1) with a new port of BRIDGE bound
# to it, the port's alias in PORT[VM]; with MAC, the port holds MAC and ADDR (locked).
vm_port() {
	local host=$1 vm=$2 addr=$3 br=$4 mac=${5:-} p
	net_vm_add "$host" "$vm" "$addr/24" "$mac"
	net_vm_gw "$vm" "${addr%.*}.1"
	p=$(mx bridge "$br" add port ${mac:+mac "$mac" address "$addr"}) || return 1
	[ -n "$p" ] || { echo "bridge $br add port printed nothing" >&2; return 1; }
	PORT[$vm]=$p
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}
