#!/usr/bin/env bats
# midox-cni, the CNI plugin, called exactly as a container runtime calls it: CNI_* environment
# variables, the network configuration on stdin, the result on stdout. Two nodes (host
# namespaces with real agents, as in l2_overlay.bats) and pods (network namespaces the test
# makes); the plugin runs in the node's network namespace (nsenter --net), where the pod's
# veth end lives, with host-local IPAM from Debian's containernetworking-plugins keeping its
# leases in the test's temp dir.

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

# nodes: h1 and h2 with their agents in one tunnel zone, the pods' bridge.
nodes() { cni_nodes; }

# add HOST POD: ADD eth0 of POD (container id = the pod's name), the result in RESULT[POD].
declare -gA RESULT=()
add() {
	local out
	out=$(cni "$1" ADD "$2" "$2" eth0) || { echo "ADD $2 on $1 failed: $out" >&2; return 1; }
	RESULT[$2]=$out
}

# pod_ip POD: the address ADD gave it.
pod_ip() {
	jq -er '.ips[0].address | split("/")[0]' <<< "${RESULT[$1]}"
}

# host_if POD: the host side's name, from the result.
host_if() {
	jq -er '.interfaces[0].name' <<< "${RESULT[$1]}"
}

@test "VERSION: the versions it speaks" {
	run -0 --separate-stderr cni "" VERSION "" "" "" '{"cniVersion":"1.0.0"}'
	[ "$output" = '{"cniVersion":"1.0.0","supportedVersions":["1.0.0","1.1.0"]}' ]
	run -0 --separate-stderr cni "" VERSION "" "" "" '{}'
	[ "$output" = '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ]
}

@test "ADD on two nodes: pods reach each other on one node and across; CHECK; DEL removes all, twice" {
	nodes
	cni_pod p11
	cni_pod p12
	cni_pod p21
	add h1 p11
	add h1 p12
	add h2 p21
	echo "${RESULT[p11]}"
	jq -e --arg ns "/run/netns/$NET_RUN-p11" '.cniVersion == "1.0.0" and
		(.interfaces | length) == 2 and (.interfaces[0].name | test("^mxc[0-9a-f]{12}$")) and
		.interfaces[1].name == "eth0" and .interfaces[1].sandbox == $ns and
		(.interfaces[1].mac | test("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")) and
		.ips[0].interface == 1 and .ips[0].gateway == "10.244.0.1" and
		(.ips[0].address | test("^10\\.244\\.0\\.1[0-4][0-9]/24$")) and
		.routes == [{"dst": "0.0.0.0/0"}]' <<< "${RESULT[p11]}"
	jq -e '.ips[0].address | test("^10\\.244\\.0\\.2[0-4][0-9]/24$")' <<< "${RESULT[p21]}"

	# the pod's side as IPAM said: address, MTU, default route, the MAC of the result
	local ip11 ip12 ip21 mac11
	ip11=$(pod_ip p11)
	ip12=$(pod_ip p12)
	ip21=$(pod_ip p21)
	mac11=$(jq -r '.interfaces[1].mac' <<< "${RESULT[p11]}")
	ip -n "$NET_RUN-p11" -o addr show dev eth0 | grep -q "inet $ip11/24 "
	ip -n "$NET_RUN-p11" -o link show dev eth0 | grep -q "mtu 1450 .*link/ether $mac11 "
	ip -n "$NET_RUN-p11" route show default | grep -q "^default via 10.244.0.1 dev eth0 "
	# the port holds the pod's MAC and address, bound to the host side, active
	mx bridge "$BR" list port | grep -q "mac $mac11 address $ip11"
	mx host "$(agent_name h1)" list binding | grep -qE "interface $(host_if p11) port \S+ state active"

	# ADD returned once the port forwards on its node: the first ping there is answered;
	# the other node learns of the port from ZooKeeper a moment later
	ping_all p11 "$ip12" 3
	ping_all p12 "$ip11" 3
	wait_until 10 ping_ok p11 "$ip21"
	ping_all p11 "$ip21" 3
	ping_all p21 "$ip12" 3

	# CHECK with the result as prevResult
	local cf
	cf=$(cni_conf h1 ".prevResult = ${RESULT[p11]}")
	run -0 --separate-stderr cni h1 CHECK p11 p11 eth0 "$cf"
	[ -z "$output" ]

	# DEL: veth, port, binding, the agent's map entry, the lease, the state file go
	local key
	key=$(port_key h1 "$(host_if p11)")
	run -0 --separate-stderr cni h1 DEL p11 p11 eth0
	[ -z "$output" ]
	run ! ip -n "$NET_RUN-h1" link show "$(host_if p11)"
	run ! ip -n "$NET_RUN-p11" link show eth0
	run ! grep -q "address $ip11" <<< "$(mx bridge "$BR" list port)"
	[ ! -e "$NET_DIR/ipam-h1/pods/$ip11" ]
	[ ! -e "$NET_DIR/cni-h1/p11.eth0" ]
	wait_until 10 map_has h1 midox_port_v2 "all(.[]; .key != $key)"
	ping_none p12 "$ip11"
	# CHECK of what is gone fails and says so
	run -1 --separate-stderr cni h1 CHECK p11 p11 eth0 "$cf"
	is_error "$output" 106 "interface eth0 is missing"
	# a second DEL, and one with the pod's namespace gone, succeed
	run -0 --separate-stderr cni h1 DEL p11 p11 eth0
	ip netns del "$NET_RUN-p11"
	run -0 --separate-stderr cni h1 DEL p11 p11 eth0
	run -0 --separate-stderr cni h1 DEL p12 "" eth0
	run -0 --separate-stderr cni h2 DEL p21 p21 eth0
	nothing_left h1
	nothing_left h2
	# a bridge that does not exist yet, made when the configuration asks
	local nb
	nb=$(cni_conf h1 ".bridge = \"$NET_RUN-new\" | .createBridge = true")
	cni_pod p13
	run -0 --separate-stderr cni h1 ADD p13 p13 eth0 "$nb"
	mx bridge "$NET_RUN-new" list port | grep -q "address 10.244.0.10"
	run -0 --separate-stderr cni h1 DEL p13 p13 eth0 "$nb"
	[ -z "$(mx bridge "$NET_RUN-new" list port)" ]
}

# fails_clean HOST POD CODE TEXT [CONF]: ADD of POD's eth0 fails with CODE and a msg containing
# TEXT, leaving nothing behind.
fails_clean() {
	run -1 --separate-stderr cni "$1" ADD "$2" "$2" eth0 "${5:-}"
	is_error "$output" "$3" "$4"
	nothing_left "$1" "$2"
}

@test "error paths: the specification's codes, a clear msg, nothing left behind" {
	nodes
	cni_pod p1
	local cf
	cf=$(cni_conf h1)
	# the environment
	run -1 --separate-stderr cni h1 "" p1 p1 eth0
	is_error "$output" 4 "CNI_COMMAND is not set"
	run -1 --separate-stderr cni h1 ADD "" p1 eth0
	is_error "$output" 4 "CNI_CONTAINERID is not set"
	run -1 --separate-stderr cni h1 ADD p1 "" eth0
	is_error "$output" 4 "CNI_NETNS is not set"
	run -1 --separate-stderr cni h1 ADD p1 p1 ""
	is_error "$output" 4 "CNI_IFNAME is not set"
	run -1 --separate-stderr cni h1 ADD p1 p1 "eth0/x"
	is_error "$output" 4 "CNI_IFNAME 'eth0/x' is not an interface name"
	run -1 --separate-stderr cni h1 ADD 'p1;rm' p1 eth0
	is_error "$output" 4 "is not a container id"
	CNI_PATH_SET="" run -1 --separate-stderr cni h1 ADD p1 p1 eth0
	is_error "$output" 4 "CNI_PATH is not set"
	run -1 --separate-stderr cni h1 FROB p1 p1 eth0
	is_error "$output" 4 "CNI_COMMAND 'FROB' is not ADD, DEL, CHECK, GC, STATUS or VERSION"
	run -1 --separate-stderr cni h1 ADD p1 nosuchpod eth0
	is_error "$output" 3 "cannot open the pod's network namespace /run/netns/$NET_RUN-nosuchpod"
	nothing_left h1 p1
	# the configuration
	fails_clean h1 p1 6 "the network configuration is not JSON" '{"cniVersion": '
	fails_clean h1 p1 1 "cniVersion 0.4.0 is not supported: midox-cni speaks 1.0.0 and 1.1.0" \
		"$(cni_conf h1 '.cniVersion = "0.4.0"')"
	fails_clean h1 p1 7 "no \"bridge\"" "$(cni_conf h1 'del(.bridge)')"
	fails_clean h1 p1 7 "\"mtu\" must be an integer" "$(cni_conf h1 '.mtu = "big"')"
	fails_clean h1 p1 101 "no bridge $NET_RUN-nope in the topology" \
		"$(cni_conf h1 ".bridge = \"$NET_RUN-nope\"")"
	# IPAM: a plugin that is not there, one that refuses (its code and msg passed on:
	# host-local says 999, its code for any other error)
	fails_clean h1 p1 105 "IPAM plugin nosuch-ipam not found in CNI_PATH" \
		"$(cni_conf h1 '.ipam.type = "nosuch-ipam"')"
	fails_clean h1 p1 999 "IPAM plugin host-local ADD: invalid CIDR address: 10.244.0.0/33" \
		"$(cni_conf h1 '.ipam.ranges[0][0].subnet = "10.244.0.0/33"')"
	# an IPv6 lease: refused (midox carries IPv4), the lease given back
	fails_clean h1 p1 2 "IPAM gave the IPv6 address fd00:244::2/64: midox carries IPv4 only" \
		"$(cni_conf h1 '.ipam.ranges = [[{ subnet: "fd00:244::/64" }]]')"
	# the port cannot be made (the lease's address is another port's on the bridge): the
	# veth, the lease and the record made before it are undone, no port half made
	local taken
	taken=$(mx bridge "$BR" add port mac 02:00:00:00:00:99 address 10.244.0.100)
	run -1 --separate-stderr cni h1 ADD p1 p1 eth0
	is_error "$output" 100 "cannot create the pod's port on bridge $BR: address 10.244.0.100"
	[ "$(ports_of_bridge)" -eq 1 ]
	mx --force bridge "$BR" port "${taken#*:}" delete
	nothing_left h1 p1
	# the interface name taken in the pod: refused before anything is made, eth0 kept
	ip -n "$NET_RUN-p1" link add eth0 type veth peer name other0
	run -1 --separate-stderr cni h1 ADD p1 p1 eth0
	is_error "$output" 104 "interface eth0 already exists in the pod's network namespace"
	ip -n "$NET_RUN-p1" link show eth0 | grep -q "eth0@other0"
	ip -n "$NET_RUN-p1" link del eth0
	nothing_left h1 p1
	# a port that never becomes active (its MTU above what the tunnel carries): after the
	# wait, every step undone, the IPAM lease released too
	fails_clean h1 p1 103 "did not become active within 1 s: MTU 1500 above 1450" \
		"$(cni_conf h1 '.mtu = 1500 | .waitSeconds = 1')"
	# ZooKeeper down (nothing listens there)
	fails_clean h1 p1 11 "cannot reach ZooKeeper at 127.0.0.1:1" "$(cni_conf h1 '.zookeeper = "127.0.0.1:1"')"
	# a node without an agent set up
	fails_clean h1 p1 102 "cannot read the host id from $NET_DIR/none" \
		"$(cni_conf h1 ".hostIdFile = \"$NET_DIR/none\"")"
	# the agent down: said so at once, nothing made
	agent_stop h1
	wait_until 20 not_alive h1
	fails_clean h1 p1 102 "midox-agent of host $(agent_name h1) is not running"
	# and with it running again, ADD works, a second ADD of the same attachment is refused
	agent_start h1
	agent_wait_ready h1
	add h1 p1
	run -1 --separate-stderr cni h1 ADD p1 p1 eth0
	is_error "$output" 104 "interface eth0 already exists in the pod's network namespace"
	cni_pod p2
	run -1 --separate-stderr cni h1 ADD p1 p2 eth0
	is_error "$output" 104 "container p1 already has an attachment eth0"
	run ! ip -n "$NET_RUN-p2" link show eth0
	[ "$(ports_of_bridge)" -eq 1 ]
	[ "$(leases h1)" -eq 1 ]
	# DEL with ZooKeeper down removes nothing: the runtime tries again
	run -1 --separate-stderr cni h1 DEL p1 p1 eth0 "$(cni_conf h1 '.zookeeper = "127.0.0.1:1"')"
	is_error "$output" 11 "cannot reach ZooKeeper"
	ip -n "$NET_RUN-p1" link show eth0
	run -0 --separate-stderr cni h1 DEL p1 p1 eth0
	nothing_left h1 p1
}

not_alive() {
	! agent_alive "$1" || false
}

@test "1.1.0: IPAM still delegated (as 1.0.0), STATUS, GC of what the runtime no longer lists" {
	nodes
	CNI_VERSION=1.1.0
	run -0 --separate-stderr cni h1 STATUS "" "" ""
	[ -z "$output" ]
	cni_pod g1
	cni_pod g2
	add h1 g1
	add h1 g2
	jq -e '.cniVersion == "1.1.0" and (.ips[0].address | startswith("10.244.0.1"))' <<< "${RESULT[g1]}"
	[ "$(leases h1)" -eq 2 ]
	# the runtime lists g1 only: g2's port, binding, veth, lease and state go
	local cf
	cf=$(cni_conf h1 '."cni.dev/valid-attachments" = [{"containerID": "g1", "ifname": "eth0"}]')
	run -0 --separate-stderr cni h1 GC "" "" "" "$cf"
	[ -z "$output" ]
	[ "$(ports_of_bridge)" -eq 1 ]
	[ "$(leases h1)" -eq 1 ]
	run ! ip -n "$NET_RUN-g2" link show eth0
	[ ! -e "$NET_DIR/cni-h1/g2.eth0" ]
	ip -n "$NET_RUN-g1" link show eth0
	mx host "$(agent_name h1)" list binding | grep -qE "interface $(host_if g1) port \S+ state active"
	# GC and STATUS are 1.1.0's
	run -1 --separate-stderr cni h1 GC "" "" "" "$(cni_conf h1 '.cniVersion = "1.0.0"')"
	is_error "$output" 1 "GC needs cniVersion 1.1.0 (the configuration says 1.0.0)"
	# STATUS: 50 with the reason when ADD could not work
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(cni_conf h1 ".bridge = \"$NET_RUN-nope\"")"
	is_error "$output" 50 "no bridge $NET_RUN-nope"
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(cni_conf h1 '.zookeeper = "127.0.0.1:1"')"
	is_error "$output" 50 "cannot reach ZooKeeper at 127.0.0.1:1"
	# the agent down: 51, the pods here may not reach pods added since
	agent_stop h1
	wait_until 20 not_alive h1
	run -1 --separate-stderr cni h1 STATUS "" "" ""
	is_error "$output" 51 "midox-agent of host $(agent_name h1) is not running"
	# a runtime that restarted with no pods: GC removes the rest, the agent down or not
	run -0 --separate-stderr cni h1 GC "" "" "" "$(cni_conf h1 '."cni.dev/valid-attachments" = []')"
	nothing_left h1 g1
}

@test "chained after midox: bandwidth shapes the pod's traffic; DEL in reverse removes all" {
	nodes
	cni_pod b1
	cni_pod b2
	add h1 b2
	local list result ip1
	list=$(jq -c '{ cniVersion, name, plugins: [ ., { type: "bandwidth",
		ingressRate: 8000000, ingressBurst: 100000 } ] }' <<< "$(cni_conf h1)")
	result=$(chain h1 ADD b1 "$list")
	echo "$result"
	# bandwidth keeps midox's result, and puts a token bucket on the host side
	jq -e '.interfaces[0].name | startswith("mxc")' <<< "$result"
	local hif
	hif=$(jq -r '.interfaces[0].name' <<< "$result")
	tc -n "$NET_RUN-h1" qdisc show dev "$hif" | grep -q "qdisc tbf .* rate 8Mbit"
	# and midox's program still forwards
	ip1=$(jq -r '.ips[0].address | split("/")[0]' <<< "$result")
	ping_all b2 "$ip1" 3
	chain h1 CHECK b1 "$list" "$result"
	chain h1 DEL b1 "$list" "$result"
	chain h1 DEL b1 "$list" "$result"
	run -0 --separate-stderr cni h1 DEL b2 b2 eth0
	nothing_left h1 b1
}

# iperf_rate POD SERVER_IP [ARGS...]: one TCP stream of 3 s from POD to iperf3 at SERVER_IP
# (ARGS: -R for the other way), the rate the receiving end measured, bits per second.
iperf_rate() {
	local pod=$1 ip=$2 out
	shift 2
	out=$(net_in "$pod" iperf3 -c "$ip" -p 5201 -t 3 -J "$@") || { echo "$out" >&2; return 1; }
	jq -er '.end.sum_received.bits_per_second | floor' <<< "$out"
}

# bw_conf HOST EGRESS_RATE EGRESS_BURST INGRESS_RATE INGRESS_BURST: HOST's configuration with
# the bandwidth capability and the runtime's per-pod values, as a runtime passes a pod's
# kubernetes.io/egress-bandwidth and ingress-bandwidth annotations.
bw_conf() {
	cni_conf "$1" ". + { capabilities: { bandwidth: true }, runtimeConfig: { bandwidth: {
		egressRate: $2, egressBurst: $3, ingressRate: $4, ingressBurst: $5 } } }"
}

@test "the bandwidth capability: midox polices a pod's egress in its datapath, shapes its ingress; an unlimited pod is faster" {
	nodes
	cni_pod lim
	cni_pod free
	cni_pod srv
	local conf out key hif ip_srv ip_lim r_lim r_free r_in before
	# 20 Mbit/s out (burst 2 Mbit), 10 Mbit/s in (burst 100 kbit)
	conf=$(bw_conf h1 20000000 2000000 10000000 100000)
	out=$(cni h1 ADD lim lim eth0 "$conf") || { echo "$out"; false; }
	RESULT[lim]=$out
	add h1 free
	add h2 srv
	hif=$(host_if lim)
	ip_srv=$(pod_ip srv)
	ip_lim=$(pod_ip lim)
	# the port holds the limit, the agent put it in midox_rate, tbf is on the node's end
	mx bridge "$BR" list port | grep "egress-rate 20m egress-burst 2m"
	key=$(port_key h1 "$hif")
	map_has h1 midox_rate "any(.[]; .key == $key and .value.rate_bps == 20000000 and
		.value.burst_ns == 100000000)"
	tc -n "$NET_RUN-h1" qdisc show dev "$hif" | grep -q "qdisc tbf 1: root .* rate 10Mbit"
	run -0 --separate-stderr cni h1 CHECK lim lim eth0 "$(jq -c --argjson r "$out" \
		'. + { prevResult: $r }' <<< "$conf")"
	net_bg srv "$NET_DIR/iperf-srv" iperf3 -s -p 5201 -B "$ip_srv"
	local srv_pid=$NET_BG_PID i
	for i in $(seq 1 50); do
		grep -q "listening" "$NET_DIR/iperf-srv" && break
		sleep 0.1
	done
	before=$(drops h1 "$key" MX_DROP_RATE_LIMIT)
	r_lim=$(iperf_rate lim "$ip_srv")
	r_free=$(iperf_rate free "$ip_srv")
	r_in=$(iperf_rate lim "$ip_srv" -R)
	net_bg_stop "$srv_pid"
	echo "limited pod out: $r_lim bit/s; unlimited: $r_free bit/s; limited pod in: $r_in bit/s"
	# under the limits with a margin for the burst, and the unlimited pod well above
	[ "$r_lim" -gt 0 ]
	[ "$r_lim" -le 22000000 ]
	[ "$r_free" -ge 60000000 ]
	[ "$r_in" -gt 0 ]
	[ "$r_in" -le 11000000 ]
	# what the policer dropped is counted under its own reason on the pod's port
	[ "$(drops h1 "$key" MX_DROP_RATE_LIMIT)" -gt "$before" ]
	# a CHECK with other values says what differs
	run -1 --separate-stderr cni h1 CHECK lim lim eth0 "$(jq -c --argjson r "$out" \
		'. + { prevResult: $r } | .runtimeConfig.bandwidth.egressRate = 1000000' <<< "$conf")"
	is_error "$output" 106 "egress limit 20000000 bit/s burst 2000000 bits, the pod asks for 1000000"
	run -0 --separate-stderr cni h1 DEL lim lim eth0 "$conf"
	run -0 --separate-stderr cni h1 DEL free free eth0
	run -0 --separate-stderr cni h2 DEL srv srv eth0
	nothing_left h1 lim
	map_has h1 midox_rate 'length == 0'
}

@test "the bandwidth capability: bad values are refused with code 7, nothing left behind" {
	nodes
	cni_pod b1
	local bad
	for bad in '20000000 0 0 0:egressRate and egressBurst go together' \
		'0 0 8000 0:ingressRate and ingressBurst go together' \
		'999 8000 0 0:egressRate 999 bit/s is not within 1000..' \
		'0 0 8000 40000000000:ingressBurst 40000000000 bits is above' \
		'-1 8000 0 0:"egressRate" must be a non-negative integer'; do
		run -1 --separate-stderr cni h1 ADD b1 b1 eth0 "$(bw_conf h1 ${bad%%:*})"
		is_error "$output" 7 "runtimeConfig.bandwidth: ${bad#*:}"
	done
	nothing_left h1 b1
}

@test "Debian's bandwidth plugin cannot take egressRate after midox (clsact holds the ingress hook)" {
	nodes
	cni_pod b1
	local list
	list=$(jq -c '{ cniVersion, name, plugins: [ ., { type: "bandwidth",
		egressRate: 8000000, egressBurst: 100000 } ] }' <<< "$(cni_conf h1)")
	run ! chain h1 ADD b1 "$list"
	echo "$output"
	[[ "$output" == *"ADD of $CNI_PLUGINS/bandwidth failed"* ]]
	# the runtime then DELs the chain: nothing stays
	chain h1 DEL b1 "$list"
	nothing_left h1 b1
}

@test "churn: pods added and deleted on two nodes in a loop leak nothing" {
	local rounds=${CNI_CHURN:-100} r h t0 add_ns=0 del_ns=0 n_del=0
	declare -A rss0=()
	# the pods of every third round stay to the end: they must fit a node's 50 addresses
	[ $((rounds / 3)) -lt 50 ] || {
		echo "CNI_CHURN=$rounds needs $((rounds / 3 + 1)) addresses on a node at once, more than its 50: at most 149" >&2
		return 1
	}
	nodes
	for h in h1 h2; do rss0[$h]=$(agent_rss_kib "$h"); done
	for r in $(seq 1 "$rounds"); do
		for h in h1 h2; do
			cni_pod "c$h$r"
			t0=$(date +%s%N)
			add "$h" "c$h$r"
			add_ns=$((add_ns + $(date +%s%N) - t0))
		done
		# every third round leaves its pods for the end
		[ $((r % 3)) -eq 0 ] && continue
		for h in h1 h2; do
			t0=$(date +%s%N)
			cni "$h" DEL "c$h$r" "c$h$r" eth0 >/dev/null
			del_ns=$((del_ns + $(date +%s%N) - t0))
			n_del=$((n_del + 1))
		done
	done
	for r in $(seq 3 3 "$rounds"); do
		for h in h1 h2; do
			cni "$h" DEL "c$h$r" "c$h$r" eth0 >/dev/null
		done
	done
	# the plugin's run as the test sees it (nsenter and env included)
	echo "# $((rounds * 2)) ADDs, $((add_ns / rounds / 2 / 1000000)) ms each;" \
		"$n_del DELs, $((del_ns / (n_del ? n_del : 1) / 1000000)) ms each" >&3
	# the agents' memory over the churn: printed, not asserted (how far an allocator may
	# keep freed memory has no bound that could not flake)
	for h in h1 h2; do
		echo "# agent of $h: VmRSS ${rss0[$h]} kB before, $(agent_rss_kib "$h") kB after" >&3
	done
	for h in h1 h2; do
		nothing_left "$h"
		# the agents' maps hold no port any more, and no interface of one
		wait_until 10 map_empty "$h" midox_ifport_v3
		wait_until 10 map_empty "$h" midox_port_v2
	done
}

# map_empty HOST MAP
map_empty() {
	[ "$(map_entries "$1" "$2" | jq 'length')" -eq 0 ]
}

@test "pods reach their gateway, a midox router's port, and the outside through its uplink" {
	nodes
	local rt=$NET_RUN-rt up
	pods_router "$rt" >/dev/null
	# the uplink: a "physical" namespace on h1 holding 198.51.100.1, routing the pods back
	net_phys_add ext h1 up1 172.16.1.2/24
	ip -n "$(net_ns ext)" addr replace 198.51.100.1/32 dev lo
	ip -n "$(net_ns ext)" route replace 10.244.0.0/24 via 172.16.1.1 dev eth0
	up=$(mx router "$rt" add port address 172.16.1.1 net 172.16.1.0/24)
	mx host "$(agent_name h1)" add binding port "$up" interface up1
	mx router "$rt" add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "$up" gw 172.16.1.2
	cni_pod r1
	cni_pod r2
	add h1 r1
	add h2 r2
	# the gateway IPAM gave is the router's port: answered from both nodes
	ping_all r1 10.244.0.1 3
	wait_until 10 ping_ok r2 10.244.0.1
	ping_all r2 10.244.0.1 3
	# out through the uplink (on h1) from both nodes, and back in from outside
	wait_until 20 ping_ok r1 198.51.100.1
	wait_until 20 ping_ok r2 198.51.100.1
	ping_all r1 198.51.100.1 5
	ping_all r2 198.51.100.1 5
	ping_all ext "$(pod_ip r2)" 5
	run -0 --separate-stderr cni h1 DEL r1 r1 eth0
	run -0 --separate-stderr cni h2 DEL r2 r2 eth0
	[ "$(ports_of_bridge)" -eq 1 ]	# the router's link
	[ "$(leases h1)" -eq 0 ]
	[ "$(leases h2)" -eq 0 ]
}

@test "ADDs and DELs in parallel, as a runtime starting many pods at once" {
	local n=${CNI_PARALLEL:-6} i h pids=()
	nodes
	for i in $(seq 1 "$n"); do
		for h in h1 h2; do
			cni_pod "q$h$i"
			cni "$h" ADD "q$h$i" "q$h$i" eth0 > "$NET_DIR/add-q$h$i" &
			pids+=($!)
		done
	done
	for i in "${pids[@]}"; do wait "$i"; done
	for i in $(seq 1 "$n"); do
		for h in h1 h2; do RESULT[q$h$i]=$(cat "$NET_DIR/add-q$h$i"); done
	done
	[ "$(ports_of_bridge)" -eq $((2 * n)) ]
	# every address once, and the pods reach each other
	[ "$(for i in $(seq 1 "$n"); do pod_ip "qh1$i"; pod_ip "qh2$i"; done | sort -u | wc -l)" -eq $((2 * n)) ]
	ping_all qh11 "$(pod_ip "qh1$n")" 3
	wait_until 10 ping_ok qh11 "$(pod_ip "qh2$n")"
	pids=()
	for i in $(seq 1 "$n"); do
		for h in h1 h2; do
			cni "$h" DEL "q$h$i" "q$h$i" eth0 &
			pids+=($!)
		done
	done
	for i in "${pids[@]}"; do wait "$i"; done
	nothing_left h1
	nothing_left h2
}

# served: a hostPort of h1 answers from h2 with the pod's page.
served() {
	net_in h2 curl -s --max-time 2 http://192.0.2.1:8080/ | grep -q "pod $1 here"
}

@test "chained portmap: a hostPort on a node reaches the pod, given a route from the node into the pods' network" {
	nodes
	# what an operator sets up for hostPorts (the plugin does not): a router on the pods'
	# bridge with an uplink to h1's own stack (gw0, 172.16.9.2), h1 routing the pods' subnet
	# to it and forwarding
	local rt=$NET_RUN-rt up
	pods_router "$rt" >/dev/null
	ip -n "$NET_RUN-h1" link add gw0 mtu 1450 type veth peer name gw1 mtu 1450
	ip -n "$NET_RUN-h1" addr add 172.16.9.2/24 dev gw0
	ip -n "$NET_RUN-h1" link set gw0 up
	ip -n "$NET_RUN-h1" link set gw1 up
	ip -n "$NET_RUN-h1" route add 10.244.0.0/24 via 172.16.9.1 dev gw0
	net_sysctl h1 net.ipv4.ip_forward=1
	up=$(mx router "$rt" add port address 172.16.9.1 net 172.16.9.0/24)
	mx host "$(agent_name h1)" add binding port "$up" interface gw1
	mx router "$rt" add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "$up" gw 172.16.9.2
	cni_pod w1
	local list result ip1
	list=$(portmap_list "$(cni_conf h1)")
	result=$(chain h1 ADD w1 "$list")
	echo "$result"
	ip1=$(jq -r '.ips[0].address | split("/")[0]' <<< "$result")
	mkdir "$NET_DIR/www"
	echo "pod w1 here" > "$NET_DIR/www/index.html"
	net_bg w1 "$NET_DIR/www.log" python3 -m http.server 80 --bind "$ip1" --directory "$NET_DIR/www"
	wait_until 10 served w1
	chain h1 DEL w1 "$list" "$result"
	run ! served w1
	run ! grep -q "dport 8080" <<< "$(net_in h1 iptables-save)"
	[ "$(leases h1)" -eq 0 ]
	[ "$(ports_of_bridge)" -eq 1 ]
}

# gateway HOST N ROUTER: HOST's own stack joined to ROUTER as an operator does it for
# hostPorts: a veth gw0/gw1 in HOST (gw0 172.16.N.2, gw1 bound to a new port 172.16.N.1 of
# ROUTER), HOST routing the pods' subnet through it and forwarding. Prints the port.
gateway() {
	local host=$1 n=$2 rt=$3 up
	ip -n "$NET_RUN-$host" link add gw0 mtu 1450 type veth peer name gw1 mtu 1450
	ip -n "$NET_RUN-$host" addr add "172.16.$n.2/24" dev gw0
	ip -n "$NET_RUN-$host" link set gw0 up
	ip -n "$NET_RUN-$host" link set gw1 up
	ip -n "$NET_RUN-$host" route add 10.244.0.0/24 via "172.16.$n.1" dev gw0
	net_sysctl "$host" net.ipv4.ip_forward=1
	up=$(mx router "$rt" add port address "172.16.$n.1" net "172.16.$n.0/24")
	mx host "$(agent_name "$host")" add binding port "$up" interface gw1 >/dev/null
	echo "$up"
}

@test "hostPorts on two nodes: replies leave through the node that rewrote the connection, by a source route per node" {
	nodes
	local rt=$NET_RUN-rt up1 up2 list1 list2 r1 r2 ip1 ip2
	pods_router "$rt" >/dev/null
	up1=$(gateway h1 9 "$rt")
	up2=$(gateway h2 10 "$rt")
	# the outside is through h1 by default (as in the one-node setup)
	mx router "$rt" add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port "$up1" gw 172.16.9.2
	cni_pod w1
	cni_pod w2
	list1=$(portmap_list "$(cni_conf h1)")
	list2=$(jq -c '.plugins[0] = ($c | fromjson)' --arg c "$(cni_conf h2)" <<< "$list1")
	r1=$(chain h1 ADD w1 "$list1")
	r2=$(chain h2 ADD w2 "$list2")
	ip1=$(jq -r '.ips[0].address | split("/")[0]' <<< "$r1")
	ip2=$(jq -r '.ips[0].address | split("/")[0]' <<< "$r2")
	mkdir "$NET_DIR/www1" "$NET_DIR/www2"
	echo "pod w1 here" > "$NET_DIR/www1/index.html"
	echo "pod w2 here" > "$NET_DIR/www2/index.html"
	net_bg w1 "$NET_DIR/www1.log" python3 -m http.server 80 --bind "$ip1" --directory "$NET_DIR/www1"
	net_bg w2 "$NET_DIR/www2.log" python3 -m http.server 80 --bind "$ip2" --directory "$NET_DIR/www2"
	wait_until 10 served_by h2 192.0.2.1 w1
	# w2 serves (h2 reaches it through its own gateway, replies by the connected route)
	wait_until 10 net_in h2 curl -s --max-time 2 "http://$ip2/"
	# but h2's hostPort does not: w2's reply takes the default route out through h1, which
	# did not rewrite the connection, and h1's client gets an answer from an address it
	# never asked
	run ! served_by h1 192.0.2.2 w2
	# a source route per node: what h2's pods send leaves through h2 (its range
	# 10.244.0.200-249 lies in 10.244.0.192/26)
	mx router "$rt" add route src 10.244.0.192/26 dst 0.0.0.0/0 type normal port "$up2" gw 172.16.10.2
	wait_until 10 served_by h1 192.0.2.2 w2
	served_by h2 192.0.2.1 w1
	chain h1 DEL w1 "$list1" "$r1"
	chain h2 DEL w2 "$list2" "$r2"
	run ! served_by h1 192.0.2.2 w2
	[ "$(leases h1)" -eq 0 ]
	[ "$(leases h2)" -eq 0 ]
}
