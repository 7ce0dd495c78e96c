# Test hosts and VMs as network namespaces, with names unique to the run.
#
#   net_init [PREFIX [DIR]]     start a run: NET_RUN (e.g. mx3fa2), NET_DIR (a temp dir), and
#                               the underlay: a Linux bridge br0 in the netns "$NET_RUN-ul"
#   net_host_add HOST ADDR      a host netns "$NET_RUN-HOST" with ul0 (ADDR/24, 192.0.2.0/24)
#                               plugged into the underlay bridge
#   net_vm_add HOST VM ADDR/LEN [MAC]
#                               a VM netns "$NET_RUN-VM" with eth0; its peer in the host netns
#                               is named VM (the interface a binding names)
#   net_vm_del VM               remove a VM and its veth
#   net_vm_gw VM GW             the VM's default route: via GW (a virtual router's port address)
#   net_phys_add PHYS HOST IF ADDR/LEN [PIF]
#                               a "physical" netns "$NET_RUN-PHYS" (made on first use) linked to
#                               HOST by a veth: IF in the host's netns (up, no address: a router
#                               port binds it), PIF (default eth0) in PHYS with ADDR/LEN
#   net_in NAME CMD...          run CMD in the netns of host or VM NAME (nsenter: root mounts)
#   net_bg NAME OUTFILE CMD...  same, in the background, output to OUTFILE; PID in NET_BG_PID,
#                               remembered for net_cleanup
#   net_mac VM, net_ifindex HOST IF
#   net_cleanup                 end what net_bg started, delete every netns of the run, NET_DIR
#
# Every address used lives in namespaces the run made: 192.0.2.0/24 on the underlay (TEST-NET-1),
# VM and physical subnets chosen by the caller. Nothing is routed out of them: the only default
# routes are a VM's via a virtual router (net_vm_gw), and hosts never forward (ip_forward 0).
# Only root can do this; net_require_root skips (bats) or fails (scripts) otherwise.

NET_VM_MTU=${NET_VM_MTU:-1450}    # underlay MTU 1500 minus the VXLAN overhead
NET_UL_MTU=${NET_UL_MTU:-1500}
# TX checksum offload on the VMs' eth0: "on" keeps the kernel's default (CHECKSUM_PARTIAL
# frames cross veth, the tc datapath keeps skb metadata). "off" makes the VM compute
# checksums itself, which a datapath that loses the skb (XDP redirect) needs.
NET_VM_TX_CSUM=${NET_VM_TX_CSUM:-on}
# net.ipv4.ip_forward of a new host: 0, as in any new netns. Routing the underlay is the
# agent's business; 1 only to try a datapath out before it does.
NET_HOST_IP_FORWARD=${NET_HOST_IP_FORWARD:-0}

net_require_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	if declare -F skip >/dev/null; then
		skip "needs root (network namespaces, BPF)"
	fi
	echo "needs root (network namespaces, BPF)" >&2
	return 1
}

# net_init [PREFIX [DIR]]: PREFIX defaults to "mx" + 4 hex digits not used by any netns now;
# DIR (the run's state: PIDs, logs, captures) to a new temp dir.
net_init() {
	local prefix=${1:-} dir=${2:-}
	if [ -z "$prefix" ]; then
		local i
		for i in $(seq 1 20); do
			prefix=$(printf 'mx%04x' $(((RANDOM ^ ($$ << 3) ^ (i * 7919)) & 0xffff)))
			ip netns list | grep -q "^$prefix-" || break
		done
	fi
	NET_RUN=$prefix
	if [ -n "$dir" ]; then
		mkdir -p "$dir" || return 1
		NET_DIR=$dir
	else
		NET_DIR=$(mktemp -d "/tmp/midox-$NET_RUN.XXXXXX")
	fi
	export NET_RUN NET_DIR
	: > "$NET_DIR/pids"
	ip netns add "$NET_RUN-ul" || return 1
	ip -n "$NET_RUN-ul" link set lo up
	ip -n "$NET_RUN-ul" link add br0 type bridge
	ip -n "$NET_RUN-ul" link set br0 mtu "$NET_UL_MTU" up
}

net_ns() { echo "$NET_RUN-$1"; }

# net_in NAME CMD...: run in the netns of a host or VM, keeping the root mount namespace
# (and so /sys/fs/bpf).
net_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$NET_RUN-$ns" -- "$@"
}

# sysctl in a netns (the /proc/sys/net a process sees is its own netns's).
net_sysctl() {
	net_in "$1" sysctl -qw "$2" >/dev/null
}

_net_check_name() {
	if [ ${#1} -gt 15 ] || ! [[ $1 =~ ^[a-z][a-z0-9]*$ ]]; then
		echo "net: bad name '$1' (lower case letters and digits, at most 15)" >&2
		return 1
	fi
	if [ $((${#NET_RUN} + 1 + ${#1})) -gt 64 ]; then
		echo "net: netns name too long" >&2
		return 1
	fi
}

# net_host_add HOST ADDR: a host with its underlay interface ul0 holding ADDR/24.
net_host_add() {
	local host=$1 addr=$2 ns=$NET_RUN-$1
	_net_check_name "$host" || return 1
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	net_sysctl "$host" net.ipv4.ip_forward="$NET_HOST_IP_FORWARD"
	ip -n "$NET_RUN-ul" link add "$host" mtu "$NET_UL_MTU" type veth \
		peer name ul0 netns "$ns" mtu "$NET_UL_MTU" || return 1
	ip -n "$NET_RUN-ul" link set "$host" master br0 up
	ip -n "$ns" addr add "$addr/24" dev ul0
	ip -n "$ns" link set ul0 up
	echo "$host $addr" >> "$NET_DIR/hosts"
}

# net_host_addr HOST: its underlay address.
net_host_addr() {
	awk -v h="$1" '$1 == h { print $2 }' "$NET_DIR/hosts"
}

# net_underlay_check: every host reaches every other over the underlay; then the neighbour
# tables are flushed again, so the datapath starts cold as on a real host that just booted.
net_underlay_check() {
	local a b addr
	while read -r a _; do
		while read -r b addr; do
			[ "$a" = "$b" ] && continue
			net_in "$a" ping -c 1 -W 2 -q "$addr" >/dev/null || {
				echo "net: underlay $a -> $b ($addr) does not work" >&2
				return 1
			}
		done < "$NET_DIR/hosts"
	done < "$NET_DIR/hosts"
	while read -r a _; do
		ip -n "$NET_RUN-$a" neigh flush dev ul0 2>/dev/null || true
	done < "$NET_DIR/hosts"
}

# net_vm_add HOST VM ADDR/LEN [MAC]: a VM with eth0 (ADDR/LEN, MTU NET_VM_MTU, MAC if given);
# the host side of its veth is named VM in the host's netns, up, without addresses.
net_vm_add() {
	local host=$1 vm=$2 cidr=$3 mac=${4:-} ns=$NET_RUN-$2
	_net_check_name "$vm" || return 1
	ip netns add "$ns" || return 1
	# No IPv6 in VMs: no router solicitations, MLD or DAD frames in the counts of a test.
	net_sysctl "$vm" net.ipv6.conf.all.disable_ipv6=1
	net_sysctl "$vm" net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
	ip -n "$NET_RUN-$host" link add "$vm" mtu "$NET_VM_MTU" type veth \
		peer name eth0 netns "$ns" mtu "$NET_VM_MTU" || return 1
	[ -n "$mac" ] && ip -n "$ns" link set eth0 address "$mac"
	ip -n "$ns" addr add "$cidr" dev eth0
	if [ "$NET_VM_TX_CSUM" = off ]; then
		net_in "$vm" ethtool -K eth0 tx off >/dev/null
	fi
	ip -n "$ns" link set eth0 up
	ip -n "$NET_RUN-$host" link set "$vm" up
	echo "$vm $host" >> "$NET_DIR/vms"
}

net_vm_host() {
	awk -v v="$1" '$1 == v { print $2 }' "$NET_DIR/vms"
}

# net_vm_del VM: the VM's netns goes, and with it both ends of its veth.
net_vm_del() {
	ip netns del "$NET_RUN-$1"
}

# net_vm_gw VM GW: default route of the VM via GW on eth0.
net_vm_gw() {
	ip -n "$NET_RUN-$1" route replace default via "$2" dev eth0
}

# net_phys_add PHYS HOST IF ADDR/LEN [PIF]: a "physical" machine outside the overlay, as in
# MidoNet's quickstart: a netns linked to HOST by a veth pair whose host end IF is left for a
# binding of an exterior router port. The link's MTU is the VMs' (what leaves a VM fits it; what
# the physical side sends towards a VM is tunneled, so it must fit the underlay too). PHYS may
# get several links (call again with another IF and PIF). No IPv6 (no stray frames in counts),
# ip_forward 0, rp_filter 0 (traffic spread over several links may come back on another one).
net_phys_add() {
	local phys=$1 host=$2 ifname=$3 cidr=$4 pif=${5:-eth0} ns=$NET_RUN-$1
	_net_check_name "$phys" || return 1
	_net_check_name "$ifname" || return 1
	if [ ! -e "/run/netns/$ns" ]; then
		ip netns add "$ns" || return 1
		net_sysctl "$phys" net.ipv6.conf.all.disable_ipv6=1
		net_sysctl "$phys" net.ipv6.conf.default.disable_ipv6=1
		net_sysctl "$phys" net.ipv4.ip_forward=0
		net_sysctl "$phys" net.ipv4.conf.all.rp_filter=0
		net_sysctl "$phys" net.ipv4.conf.default.rp_filter=0
		ip -n "$ns" link set lo up
		echo "$phys" >> "$NET_DIR/phys"
	fi
	ip -n "$NET_RUN-$host" link add "$ifname" mtu "$NET_VM_MTU" type veth \
		peer name "$pif" netns "$ns" mtu "$NET_VM_MTU" || return 1
	ip -n "$ns" addr add "$cidr" dev "$pif"
	ip -n "$ns" link set "$pif" up
	ip -n "$NET_RUN-$host" link set "$ifname" up
}

# net_mac NAME [IF]: MAC address of IF (default eth0) in the netns of NAME.
net_mac() {
	ip -n "$NET_RUN-$1" -o link show "${2:-eth0}" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# net_ifindex HOST IF
net_ifindex() {
	ip -n "$NET_RUN-$1" -o link show "$2" | cut -d: -f1
}

# net_bg NAME OUTFILE CMD...: start CMD in the netns of NAME in the background.
net_bg() {
	local ns=$1 out=$2
	shift 2
	nsenter --net="/run/netns/$NET_RUN-$ns" -- "$@" >"$out" 2>&1 &
	NET_BG_PID=$!
	echo "$NET_BG_PID" >> "$NET_DIR/pids"
}

# net_bg_stop PID: end one background command started by net_bg.
net_bg_stop() {
	local pid=$1
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# net_capture NAME FILTER [IF]: tcpdump on IF (default eth0) in the netns of NAME, frames
# arriving there, one line each, in $NET_DIR/cap-NAME; returns when the capture is running.
net_capture() {
	local vm=$1 filter=$2 ifname=${3:-eth0} out=$NET_DIR/cap-$1
	nsenter --net="/run/netns/$NET_RUN-$vm" -- \
		tcpdump -i "$ifname" -Q in -nn -e -l -U "$filter" >"$out" 2>"$out.err" &
	NET_BG_PID=$!
	echo "$NET_BG_PID" >> "$NET_DIR/pids"
	eval "NET_CAP_PID_$vm=$NET_BG_PID"
	local i
	for i in $(seq 1 100); do
		grep -q 'listening on' "$out.err" 2>/dev/null && return 0
		kill -0 "$NET_BG_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "net: tcpdump in $vm did not start:" >&2
	cat "$out.err" >&2
	return 1
}

# net_capture_count NAME [REGEX]: lines captured so far (matching REGEX, if given).
net_capture_count() {
	local out=$NET_DIR/cap-$1
	if [ -n "${2:-}" ]; then
		grep -cE -- "$2" "$out" 2>/dev/null || true
	else
		grep -c . "$out" 2>/dev/null || true
	fi
}

# net_capture_stop NAME: end its tcpdump.
net_capture_stop() {
	local var=NET_CAP_PID_$1
	[ -n "${!var:-}" ] || return 0
	net_bg_stop "${!var}"
	eval "NET_CAP_PID_$1="
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds; fail after SECONDS.
wait_until() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$deadline" ] && break
		sleep 0.1
	done
	echo "timed out after ${timeout}s: $*" >&2
	return 1
}

# ping_ok NAME ADDR: one ping from NAME's netns answered within a second.
ping_ok() {
	net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# _net_pid_ours PID: the process still runs in one of this run's namespaces (so a PID the
# kernel has handed to someone else since is never signalled).
_net_pid_ours() {
	local ino ns
	ino=$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) || return 1
	for ns in /run/netns/"$NET_RUN"-*; do
		[ -e "$ns" ] && [ "$(stat -L -c %i "$ns")" = "$ino" ] && return 0
	done
	return 1
}

# net_cleanup: end background commands, delete every netns of this run and its temp dir.
net_cleanup() {
	[ -n "${NET_RUN:-}" ] || return 0
	local pid ns
	if [ -f "${NET_DIR:-/nonexistent}/pids" ]; then
		while read -r pid; do
			[ -n "$pid" ] && _net_pid_ours "$pid" && kill "$pid" 2>/dev/null || true
		done < "$NET_DIR/pids"
		while read -r pid; do
			[ -n "$pid" ] && wait "$pid" 2>/dev/null || true
		done < "$NET_DIR/pids"
	fi
	for ns in $(ip netns list | awk '{ print $1 }' | grep "^$NET_RUN-"); do
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ -n "${NET_DIR:-}" ] && [ -d "$NET_DIR" ] && [ -z "${NET_KEEP_DIR:-}" ]; then
		rm -rf "$NET_DIR"
	fi
	return 0
}
