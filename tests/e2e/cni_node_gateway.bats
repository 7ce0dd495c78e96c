#!/usr/bin/env bats
# midox-cni's "nodeGateway" (docs/kubernetes.md, "The node's way to its pods"): the node's own
# stack reaches the pods (the kubelet's probes) through a veth whose node end holds an address
# leased from the network's IPAM and whose other end is bound to a port of the pods' bridge.
# No hand-made gateway: two nodes with real agents, pods as network namespaces, the plugin run
# as a runtime runs it (tests/lib/cni.bash).

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

# conf HOST: HOST's configuration with the node's gateway.
conf() {
	cni_conf "$1" '.nodeGateway = true'
}

# add HOST POD: ADD eth0 of POD with the node's gateway; prints the pod's address.
add() {
	local out
	out=$(cni "$1" ADD "$2" "$2" eth0 "$(conf "$1")") || {
		echo "ADD $2 on $1 failed: $out" >&2
		return 1
	}
	jq -er '.ips[0].address | split("/")[0]' <<< "$out"
}

del() {
	cni "$1" DEL "$2" "$2" eth0 "$(conf "$1")"
}

# node_addr HOST: the address of HOST's end of its gateway (mxnode0), with its length.
node_addr() {
	ip -n "$NET_RUN-$1" -o -4 addr show dev mxnode0 | awk '{ print $4 }'
}

# record HOST KEY: a member of HOST's gateway record.
record() {
	jq -er ".$2" "$NET_DIR/cni-$1/.node-gateway.mxnode0"
}

# gateway_ports ADDR: how many ports of the pods' bridge hold ADDR.
gateway_ports() {
	mx bridge "$BR" list port | grep -cE "address $1( |\$)" || true
}

# served POD FROM: an HTTP GET from FROM's netns to POD's server gets POD's page.
served() {
	net_in "$2" curl -s --max-time 2 "http://$3/" | grep -q "pod $1 here"
}

@test "node gateway: the node reaches its pods and the other node's, the pods reach it; kept, shared, mended" {
	cni_nodes
	cni_pod p11
	cni_pod p21
	local ip11 ip21 gw1 gw2 port1 mac1
	ip11=$(add h1 p11)
	ip21=$(add h2 p21)

	# h1's end: an address from h1's own range, on the pods' /24, up; the record names it
	gw1=$(node_addr h1)
	echo "h1's gateway: $gw1"
	[[ "$gw1" =~ ^10\.244\.0\.1[0-4][0-9]/24$ ]]
	gw2=$(node_addr h2)
	[[ "$gw2" =~ ^10\.244\.0\.2[0-4][0-9]/24$ ]]
	[ "$(record h1 address)" = "$gw1" ]
	port1=$(record h1 portId)
	mac1=$(record h1 mac)
	ip -n "$NET_RUN-h1" -o link show dev mxnode0 | grep -q "mtu 1450 .*link/ether $mac1 "
	ip -n "$NET_RUN-h1" route show 10.244.0.0/24 | grep -q "dev mxnode0 proto kernel scope link src ${gw1%/*}"
	# its bridge end bound to a port with that MAC and address, active; the lease is IPAM's
	[ "$(gateway_ports "${gw1%/*}")" -eq 1 ]
	mx bridge "$BR" list port | grep -qE "mac $mac1 address ${gw1%/*}( |\$)"
	mx host "$(agent_name h1)" list binding | grep -qE "interface mxg[0-9a-f]{12} port \S+ state active"
	grep -q midox-node-gateway "$NET_DIR/ipam-h1/pods/${gw1%/*}"

	# ADD returned with the gateway forwarding: the node's first pings are answered, and a
	# TCP connection from the node's stack (a kubelet's probe) reaches the pod's server
	ping_all h1 "$ip11" 3
	mkdir "$NET_DIR/www"
	echo "pod p11 here" > "$NET_DIR/www/index.html"
	net_bg p11 "$NET_DIR/www.log" python3 -m http.server 80 --bind "$ip11" --directory "$NET_DIR/www"
	wait_until 10 served p11 h1 "$ip11"
	# the pod reaches the node; the node reaches the other node's pod, and that pod the node
	ping_all p11 "${gw1%/*}" 3
	wait_until 10 ping_ok h1 "$ip21"
	ping_all h1 "$ip21" 3
	ping_all p21 "${gw1%/*}" 3
	ping_all h2 "$ip11" 3

	# the pods go, the gateway stays (the node's, not a pod's); the next pod shares it
	run -0 --separate-stderr del h1 p11
	[ "$(node_addr h1)" = "$gw1" ]
	[ "$(gateway_ports "${gw1%/*}")" -eq 1 ]
	cni_pod p12
	local ip12
	ip12=$(add h1 p12)
	[ "$(record h1 portId)" = "$port1" ]
	[ "$(gateway_ports "${gw1%/*}")" -eq 1 ]
	ping_all h1 "$ip12" 3

	# a reboot takes the veth, the record and the port stay: the next ADD makes it again
	# with the same MAC and address, on the same port
	ip -n "$NET_RUN-h1" link del mxnode0
	run ! ping_ok h1 "$ip12"
	cni_pod p13
	local ip13
	ip13=$(add h1 p13)
	[ "$(node_addr h1)" = "$gw1" ]
	ip -n "$NET_RUN-h1" -o link show dev mxnode0 | grep -q "link/ether $mac1 "
	[ "$(record h1 portId)" = "$port1" ]
	ping_all h1 "$ip13" 3
	ping_all h1 "$ip12" 3

	# its port deleted by hand: the next ADD makes a new one (same MAC and address)
	mx bridge "$BR" port "$port1" delete
	run ! wait_until 3 ping_ok h1 "$ip12"
	cni_pod p14
	add h1 p14 >/dev/null
	[ "$(record h1 portId)" != "$port1" ]
	[ "$(gateway_ports "${gw1%/*}")" -eq 1 ]
	ping_all h1 "$ip12" 3

	# GC with no pod listed takes the pods, not the gateway
	run -0 --separate-stderr cni h1 GC "" "" "" "$(cni_conf h1 '.nodeGateway = true |
		.cniVersion = "1.1.0" | ."cni.dev/valid-attachments" = []')"
	run ! ip -n "$NET_RUN-p12" link show eth0
	[ "$(node_addr h1)" = "$gw1" ]
	[ "$(gateway_ports "${gw1%/*}")" -eq 1 ]
	run -0 --separate-stderr del h2 p21
	[ "$(gateway_ports "${gw2%/*}")" -eq 1 ]
}

@test "node gateway: parallel first ADDs on a node make one gateway" {
	cni_nodes
	local i pids=()
	for i in 1 2 3 4; do
		cni_pod "q$i"
	done
	for i in 1 2 3 4; do
		add h1 "q$i" > "$NET_DIR/q$i.out" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	local gw
	gw=$(node_addr h1)
	[[ "$gw" =~ ^10\.244\.0\.1[0-4][0-9]/24$ ]]
	[ "$(gateway_ports "${gw%/*}")" -eq 1 ]
	[ "$(mx host "$(agent_name h1)" list binding | grep -c 'interface mxg')" -eq 1 ]
	[ "$(grep -l midox-node-gateway "$NET_DIR"/ipam-h1/pods/10.* | wc -l)" -eq 1 ]
	for i in 1 2 3 4; do
		ping_all h1 "$(cat "$NET_DIR/q$i.out")" 2
	done
}

@test "node gateway: bad values and a taken interface name: a clear error, nothing of the pod left" {
	cni_nodes
	cni_pod b1
	run -1 --separate-stderr cni h1 ADD b1 b1 eth0 "$(cni_conf h1 '.nodeGateway = "yes"')"
	is_error "$output" 7 '"nodeGateway" must be true or false'
	run -1 --separate-stderr cni h1 ADD b1 b1 eth0 "$(cni_conf h1 '.nodeGateway = true | .nodeInterface = "a/b"')"
	is_error "$output" 7 "\"nodeInterface\" 'a/b' is not an interface name"
	run -1 --separate-stderr cni h1 ADD b1 b1 eth0 "$(cni_conf h1 '.nodeGateway = true | .nodeInterface = "mxc0"')"
	is_error "$output" 7 "must not start with"
	nothing_left h1 b1
	# an interface of the node's own by that name is not taken over
	ip -n "$NET_RUN-h1" link add mxnode0 type veth peer name mine0
	run -1 --separate-stderr cni h1 ADD b1 b1 eth0 "$(conf h1)"
	is_error "$output" 104 "mxnode0 exists and is not the gateway midox made"
	run ! ip -n "$NET_RUN-b1" link show eth0
	[ -z "$(ls "$NET_DIR/cni-h1")" ]
	[ "$(ports_of_bridge)" -eq 0 ]
	ip -n "$NET_RUN-h1" -o link show mxnode0 | grep -q "mxnode0@mine0"
	# another name serves
	local ip
	ip=$(cni h1 ADD b1 b1 eth0 "$(cni_conf h1 '.nodeGateway = true | .nodeInterface = "pods0"')" |
		jq -r '.ips[0].address | split("/")[0]')
	ping_all h1 "$ip" 2
}

@test "node gateway: hostPorts on two nodes, with one source route per node range to its gateway" {
	cni_nodes
	local rt=$NET_RUN-rt rp list1 list2 r1 r2 ip1 ip2 gw1 gw2
	rp=$(pods_router "$rt")
	cni_pod w1
	cni_pod w2
	list1=$(portmap_list "$(conf h1)")
	list2=$(jq -c '.plugins[0] = ($c | fromjson)' --arg c "$(conf h2)" <<< "$list1")
	r1=$(chain h1 ADD w1 "$list1")
	r2=$(chain h2 ADD w2 "$list2")
	ip1=$(jq -r '.ips[0].address | split("/")[0]' <<< "$r1")
	ip2=$(jq -r '.ips[0].address | split("/")[0]' <<< "$r2")
	gw1=$(node_addr h1)
	gw2=$(node_addr h2)
	net_sysctl h1 net.ipv4.ip_forward=1
	net_sysctl h2 net.ipv4.ip_forward=1
	mkdir "$NET_DIR/www1" "$NET_DIR/www2"
	echo "pod w1 here" > "$NET_DIR/www1/index.html"
	echo "pod w2 here" > "$NET_DIR/www2/index.html"
	net_bg w1 "$NET_DIR/www1.log" python3 -m http.server 80 --bind "$ip1" --directory "$NET_DIR/www1"
	net_bg w2 "$NET_DIR/www2.log" python3 -m http.server 80 --bind "$ip2" --directory "$NET_DIR/www2"
	# the nodes reach their pods through their gateways alone
	wait_until 10 net_in h1 curl -s --max-time 2 "http://$ip1/"
	wait_until 10 net_in h2 curl -s --max-time 2 "http://$ip2/"
	# a hostPort's connection reaches the pod through the gateway (the client's address
	# kept), but the pod's reply goes to its default gateway, the router, which has no way
	# back to the client
	run ! served_by h2 192.0.2.1 w1
	# a source route per node: what a node's pods send leaves through that node's gateway
	# (h1's range 10.244.0.100-149 lies in .96/27 and .128/27, h2's in .192/26)
	mx router "$rt" add route src 10.244.0.96/27 dst 0.0.0.0/0 type normal port "$rp" gw "${gw1%/*}"
	mx router "$rt" add route src 10.244.0.128/27 dst 0.0.0.0/0 type normal port "$rp" gw "${gw1%/*}"
	mx router "$rt" add route src 10.244.0.192/26 dst 0.0.0.0/0 type normal port "$rp" gw "${gw2%/*}"
	wait_until 10 served_by h2 192.0.2.1 w1
	wait_until 10 served_by h1 192.0.2.2 w2
	chain h1 DEL w1 "$list1" "$r1"
	chain h2 DEL w2 "$list2" "$r2"
	run ! served_by h2 192.0.2.1 w1
}

# in_block ADDR BLOCK: ADDR (a.b.c.d) lies in BLOCK (a.b.c.d/len).
in_block() {
	python3 -c 'import ipaddress, sys; sys.exit(ipaddress.ip_address(sys.argv[1]) not in ipaddress.ip_network(sys.argv[2]))' "$1" "$2"
}

@test "node gateway with nodeBlockSize: each node's gateway leases from the node's own block" {
	cni_nodes
	local jq='.nodeGateway = true | .nodeBlockSize = 26 | .ipam.ranges[0][0] |= del(.rangeStart, .rangeEnd)'
	cni_pod k1
	cni_pod k2
	local ip1 ip2 gw1 gw2 b1 b2
	ip1=$(cni h1 ADD k1 k1 eth0 "$(cni_conf h1 "$jq")" | jq -er '.ips[0].address | split("/")[0]')
	ip2=$(cni h2 ADD k2 k2 eth0 "$(cni_conf h2 "$jq")" | jq -er '.ips[0].address | split("/")[0]')
	gw1=$(node_addr h1)
	gw2=$(node_addr h2)
	echo "h1: pod $ip1 gateway $gw1; h2: pod $ip2 gateway $gw2"
	# the block each node claimed, from its record ("a.b.c.d-len")
	b1=$(tr - / < "$NET_DIR"/cni-h1/.block-pods)
	b2=$(tr - / < "$NET_DIR"/cni-h2/.block-pods)
	[ "$b1" != "$b2" ]
	in_block "${gw1%/*}" "$b1"
	in_block "$ip1" "$b1"
	in_block "${gw2%/*}" "$b2"
	in_block "$ip2" "$b2"
	[ "${gw1#*/}" = 24 ]
	ping_all h1 "$ip1" 2
	wait_until 10 ping_ok h1 "$ip2"
	ping_all h2 "$ip1" 2
}
