#!/usr/bin/env bats
# midox-cni against the letter of the CNI specification (1.0.0, 1.1.0), called as a runtime
# calls it (tests/lib/cni.bash): VERSION's echo, STATUS's codes and its delegation to the
# IPAM plugin, a DEL to the IPAM plugin after its failed ADD, the undo of a step after the
# veth, CHECK reading the agent's maps, GC after a runtime killed mid-ADD, a chain (a
# network policy) on a pod's port, and one conflist chaining portmap and bandwidth after
# midox. Two nodes with real agents as in cni.bats; pods here are
# named "sp*".

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

# nodes: h1 and h2 with their agents in one tunnel zone, the pods' bridge.
nodes() { cni_nodes; }

# logged_ipam: host-local under another name in a folder of the test's own, first writing
# each call's command and container id to $NET_DIR/ipam.log: the real plugin, its calls
# seen. CNI_PATH_SET puts the folder first; the configuration names it "host-local-log".
logged_ipam() {
	mkdir -p "$NET_DIR/bin"
	printf '#!/bin/sh\necho "$CNI_COMMAND ${CNI_CONTAINERID:-}" >> "%s"\nexec "%s"\n' \
		"$NET_DIR/ipam.log" "$CNI_PLUGINS/host-local" > "$NET_DIR/bin/host-local-log"
	chmod +x "$NET_DIR/bin/host-local-log"
	: > "$NET_DIR/ipam.log"
	CNI_PATH_SET="$NET_DIR/bin:$MIDOX_BUILD:$CNI_PLUGINS"
}

not_alive() {
	! agent_alive "$1" || false
}

@test "VERSION echoes the cniVersion it was given" {
	run -0 --separate-stderr cni "" VERSION "" "" "" '{"cniVersion":"1.1.0"}'
	[ "$output" = '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ]
	# a version it does not speak is echoed too: supportedVersions says what it does
	run -0 --separate-stderr cni "" VERSION "" "" "" '{"cniVersion":"0.4.0"}'
	[ "$output" = '{"cniVersion":"0.4.0","supportedVersions":["1.0.0","1.1.0"]}' ]
}

@test "STATUS: the IPAM plugin asked (VERSION: Debian's speaks no STATUS), 50 without it, 51 with the agent down; 1.1.0 results carry the MTU" {
	nodes
	CNI_VERSION=1.1.0
	logged_ipam
	local cf
	cf=$(cni_conf h1 '.ipam.type = "host-local-log"')
	run -0 --separate-stderr cni h1 STATUS "" "" "" "$cf"
	[ -z "$output" ]
	# host-local 1.1.1 speaks up to 1.0.0: asked its versions, not sent a STATUS it refuses
	grep -qx "VERSION " "$NET_DIR/ipam.log"
	run ! grep -q STATUS "$NET_DIR/ipam.log"
	# STATUS needs no CNI_PATH (the specification); without it the IPAM plugin is not found
	CNI_PATH_SET="" run -1 --separate-stderr cni h1 STATUS "" "" "" "$cf"
	is_error "$output" 50 "CNI_PATH is not set: IPAM plugin host-local-log cannot be found"
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(cni_conf h1 '.ipam.type = "nosuch-ipam"')"
	is_error "$output" 50 "IPAM plugin nosuch-ipam not found in CNI_PATH"
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(cni_conf h1 'del(.ipam)')"
	is_error "$output" 50 "no \"ipam\" section"
	# a pod added while all is well: 1.1.0's interfaces carry their MTU
	cni_pod spa
	local out
	out=$(cni h1 ADD spa spa eth0) || { echo "$out"; false; }
	echo "$out"
	jq -e '.cniVersion == "1.1.0" and ([.interfaces[].mtu] == [1450, 1450])' <<< "$out"
	# the agent down: its pods forward on what it set, but learn of no change: 51
	agent_stop h1
	wait_until 20 not_alive h1
	run -1 --separate-stderr cni h1 STATUS "" "" ""
	is_error "$output" 51 "midox-agent of host $(agent_name h1) is not running"
	agent_start h1
	agent_wait_ready h1
	run -0 --separate-stderr cni h1 STATUS "" "" ""
	run -0 --separate-stderr cni h1 DEL spa spa eth0
	nothing_left h1 spa
}

@test "IPAM out of addresses: its failed ADD gets a DEL (the specification), the other pod's lease is kept" {
	nodes
	logged_ipam
	local cf
	# a range of one address
	cf=$(cni_conf h1 '.ipam.type = "host-local-log" | .ipam.ranges[0][0].rangeEnd = "10.244.0.100"')
	cni_pod spa
	cni_pod spb
	run -0 --separate-stderr cni h1 ADD spa spa eth0 "$cf"
	run -1 --separate-stderr cni h1 ADD spb spb eth0 "$cf"
	is_error "$output" 999 "IPAM plugin host-local-log ADD: failed to allocate for range 0"
	cat "$NET_DIR/ipam.log"
	grep -qx "ADD spb" "$NET_DIR/ipam.log"
	grep -qx "DEL spb" "$NET_DIR/ipam.log"
	# nothing of spb's, spa's lease and port kept
	run ! ip -n "$NET_RUN-spb" link show eth0
	[ ! -e "$NET_DIR/cni-h1/spb.eth0" ]
	[ -e "$NET_DIR/ipam-h1/pods/10.244.0.100" ]
	[ "$(ports_of_bridge)" -eq 1 ]
	run -0 --separate-stderr cni h1 DEL spa spa eth0 "$cf"
	run -0 --separate-stderr cni h1 DEL spb spb eth0 "$cf"
	nothing_left h1 spa
}

@test "a step after the veth fails (a route the pod cannot take): veth, lease and record undone, code 5" {
	nodes
	cni_pod spa
	# a gateway off the pod's subnet: the kernel refuses the route (network unreachable)
	run -1 --separate-stderr cni h1 ADD spa spa eth0 \
		"$(cni_conf h1 '.ipam.routes = [{ dst: "10.99.0.0/16", gw: "192.168.77.1" }]')"
	is_error "$output" 5 "cannot add the route to 10.99.0.0/16 in the pod"
	nothing_left h1 spa
}

# ifindex HOST IF: IF's index in HOST's namespace.
ifindex() {
	ip -n "$NET_RUN-$1" -j link show dev "$2" | jq -er '.[0].ifindex'
}

# le32 N: N as the four bytes of a little-endian __u32, for bpftool's key.
le32() {
	printf '%d %d %d %d' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255))
}

@test "CHECK reads the agent's maps: the pod's interface gone from midox_ifport_v3 fails it (106)" {
	nodes
	cni_pod spa
	local out cf hif idx
	out=$(cni h1 ADD spa spa eth0) || { echo "$out"; false; }
	cf=$(cni_conf h1 ".prevResult = $out")
	run -0 --separate-stderr cni h1 CHECK spa spa eth0 "$cf"
	[ -z "$output" ]
	hif=$(jq -r '.interfaces[0].name' <<< "$out")
	idx=$(ifindex h1 "$hif")
	map_has h1 midox_ifport_v3 "any(.[]; .key == $idx)"
	# CHECK names the pin root it could not read
	run -1 --separate-stderr cni h1 CHECK spa spa eth0 "$(jq -c '.pinRoot = "/nonexistent"' <<< "$cf")"
	is_error "$output" 106 "cannot open /nonexistent/midox_ifport_v3"
	# what only the maps show: ZooKeeper and the binding's status still say active
	bpftool map delete pinned "$(agent_pin h1)/midox_ifport_v3" key $(le32 "$idx")
	mx host "$(agent_name h1)" list binding | grep -qE "interface $hif port \S+ state active"
	run -1 --separate-stderr cni h1 CHECK spa spa eth0 "$cf"
	is_error "$output" 106 "$hif (ifindex $idx) has no entry in midox_ifport_v3"
	run -0 --separate-stderr cni h1 DEL spa spa eth0
	nothing_left h1 spa
}

# add_killed HOST POD: ADD of POD's eth0 as a runtime starts it, killed (SIGKILL) once its
# port is in ZooKeeper, while it waits for the agent (its MTU 1500 never becomes active):
# a runtime that crashed mid-ADD.
add_killed() {
	local cf pid
	cf=$(cni_conf "$1" '.mtu = 1500 | .waitSeconds = 60')
	printf '%s' "$cf" | nsenter --net="/run/netns/$NET_RUN-$1" -- env -i PATH="$PATH" \
		CNI_PATH="$MIDOX_BUILD:$CNI_PLUGINS" CNI_COMMAND=ADD CNI_CONTAINERID="$2" \
		CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$NET_RUN-$2" "$MIDOX_BUILD/midox-cni" \
		> "$NET_DIR/add-$2" 2>&1 &
	pid=$!
	wait_until 20 jq -e '.portId != ""' "$NET_DIR/cni-$1/$2.eth0"
	kill -KILL "$pid"
	wait "$pid" || true
}

@test "GC after a runtime killed mid-ADD: ports, bindings, veths and leases of what it no longer lists go, with a record or without" {
	nodes
	CNI_VERSION=1.1.0
	cni_pod spa
	cni_pod spb
	cni_pod spc
	add_killed h1 spa
	add_killed h1 spb
	local out
	out=$(cni h1 ADD spc spc eth0) || { echo "$out"; false; }
	[ "$(ports_of_bridge)" -eq 3 ]
	[ "$(leases h1)" -eq 3 ]
	# spb's record lost too: GC finds its port by its binding to a pod's end on this node
	rm "$NET_DIR/cni-h1/spb.eth0"
	run -0 --separate-stderr cni h1 GC "" "" "" \
		"$(cni_conf h1 '."cni.dev/valid-attachments" = [{"containerID": "spc", "ifname": "eth0"}]')"
	[ -z "$output" ]
	[ "$(ports_of_bridge)" -eq 1 ]
	[ "$(mx host "$(agent_name h1)" list binding | grep -c .)" -eq 1 ]
	run ! ip -n "$NET_RUN-spa" link show eth0
	run ! ip -n "$NET_RUN-spb" link show eth0
	[ ! -e "$NET_DIR/cni-h1/spa.eth0" ]
	ip -n "$NET_RUN-spc" link show eth0
	# spa's lease went with its record; spb's cannot be named without it: Debian's
	# host-local speaks no GC (1.0.0), so it stays until the runtime's DEL of spb
	[ "$(leases h1)" -eq 2 ]
	run -0 --separate-stderr cni h1 DEL spb spb eth0
	run -0 --separate-stderr cni h1 DEL spc spc eth0
	nothing_left h1 spa
}

# blocked POD IP: POD's ping to IP goes unanswered.
blocked() {
	! net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

@test "a chain on a pod's port is its network policy: ICMP dropped, then let through" {
	nodes
	local ch=$NET_RUN-pol out port ip_b
	cni_pod spa
	cni_pod spb
	out=$(cni h1 ADD spa spa eth0) || { echo "$out"; false; }
	local hif
	hif=$(jq -r '.interfaces[0].name' <<< "$out")
	out=$(cni h2 ADD spb spb eth0) || { echo "$out"; false; }
	ip_b=$(jq -r '.ips[0].address | split("/")[0]' <<< "$out")
	wait_until 10 ping_ok spa "$ip_b"
	port=$(mx host "$(agent_name h1)" list binding | sed -n "s/.*interface $hif port \(\S*\) .*/\1/p")
	[ -n "$port" ]
	mx chain create name "$ch"
	mx chain "$ch" add rule type drop proto 1
	mx bridge "$BR" port "${port#*:}" set infilter "$ch"
	wait_until 10 blocked spa "$ip_b"
	ping_none spa "$ip_b"
	mx --force bridge "$BR" port "${port#*:}" clear infilter
	wait_until 10 ping_ok spa "$ip_b"
	ping_all spa "$ip_b" 3
	run -0 --separate-stderr cni h1 DEL spa spa eth0
	run -0 --separate-stderr cni h2 DEL spb spb eth0
}

# served_from_h2 POD: an HTTP request from node h2 to h1's hostPort 8080 gets POD's page.
served_from_h2() {
	net_in h2 curl -s --max-time 2 http://192.0.2.1:8080/ | grep -q "pod $1 here"
}

@test "one chain host-local + portmap + bandwidth after midox: the hostPort reaches the pod, the tbf is on its node's end; portmap's CHECK fails; DEL in reverse removes all" {
	nodes
	# the route from h1 into the pods' network that hostPorts need (docs/kubernetes.md,
	# "Versions and chaining"): a router on the bridge, its uplink bound to gw1 in h1
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
	cni_pod spw
	local list result ip hif
	list=$(jq -c '{ cniVersion, name, plugins: [ ., { type: "portmap",
		capabilities: { portMappings: true },
		runtimeConfig: { portMappings: [ { hostPort: 8080, containerPort: 80,
						   protocol: "tcp" } ] } },
		{ type: "bandwidth", ingressRate: 8000000, ingressBurst: 100000 } ] }' <<< "$(cni_conf h1)")
	result=$(chain h1 ADD spw "$list")
	echo "$result"
	hif=$(jq -r '.interfaces[0].name' <<< "$result")
	ip=$(jq -r '.ips[0].address | split("/")[0]' <<< "$result")
	tc -n "$NET_RUN-h1" qdisc show dev "$hif" | grep -q "qdisc tbf .* rate 8Mbit"
	mkdir "$NET_DIR/www"
	echo "pod spw here" > "$NET_DIR/www/index.html"
	net_bg spw "$NET_DIR/www.log" python3 -m http.server 80 --bind "$ip" --directory "$NET_DIR/www"
	wait_until 10 served_from_h2 spw
	# CHECK: midox's passes with the chain's result; Debian's portmap 1.1.1 fails its own on
	# an IPv6 chain it never made for an IPv4-only pod: such a conflist needs disableCheck
	run -0 --separate-stderr cni h1 CHECK spw spw eth0 "$(cni_conf h1 ".prevResult = $result")"
	run ! chain h1 CHECK spw "$list" "$result"
	echo "$output"
	[[ "$output" == *"CHECK of $CNI_PLUGINS/portmap failed"*"could not check ipv6 dnat"* ]]
	chain h1 DEL spw "$list" "$result"
	chain h1 DEL spw "$list" "$result"
	run ! served_from_h2 spw
	run ! grep -q "dport 8080" <<< "$(net_in h1 iptables-save)"
	run ! ip -n "$NET_RUN-h1" link show "$hif"
	[ "$(leases h1)" -eq 0 ]
	[ "$(ports_of_bridge)" -eq 1 ]	# the router's link
}
