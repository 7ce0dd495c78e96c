#!/usr/bin/env bats
# `midox datapath ...` end to end: real ZooKeeper, two agents in host namespaces, VMs that
# ping, and the CLI run in a host's netns (as an operator runs it where the agent runs) on
# that agent's pin root. Each listing must show the decoded entries by name; counters and
# drop reasons must equal what bpftool reads of the same map; errors exit non-zero.
#
#   bridge A 10.0.1.0/24 (R port a 10.0.1.1):  v11 10.0.1.11 on h1 (fixed MAC and address,
#                                               port security), v12 10.0.1.12 on h2 (learned)
#   bridge B 10.0.2.0/24 (R port b 10.0.2.1):  v21 10.0.2.21 on h2 (learned; R learns it by ARP)

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

M11=02:00:00:0a:01:0b

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
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_route midox_neigh midox_stats
}

# dp HOST ARGS...: midox in HOST's netns, on its agent's pin root, ZooKeeper through the
# host's forwarder (agent.bash, zk_link).
dp() {
	local host=$1
	shift
	nsenter --net="/run/netns/$(net_ns "$host")" -- \
		"$MIDOX_BUILD/midox" --zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin "$host")" "$@"
}

dp_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_link a 10.0.1.1 10.0.1.0/24 "$BR_A"
	router_link b 10.0.2.1 10.0.2.0/24 "$BR_B"
	vm_port h1 v11 10.0.1.11 "$BR_A" "$M11"
	vm_port h2 v12 10.0.1.12 "$BR_A"
	vm_port h2 v21 10.0.2.21 "$BR_B"
	wait_until 20 ping_all v11 10.0.1.12 2
	wait_until 20 ping_all v11 10.0.2.21 2
}

# stat_of HOST KEY FIELD: bpftool's midox_stats[KEY].FIELD plus midox_traffic[KEY's slot].FIELD
# (the slot from KEY's midox_port_v2 entry), summed over the CPUs.
stat_of() {
	local hashed slot slotted=0
	hashed=$(map_entries "$1" midox_stats | jq -er --argjson k "$2" --arg f "$3" \
		'[.[] | select(.key == $k) | .values[].value[$f]] | add // 0')
	slot=$(map_entries "$1" midox_port_v2 | jq -er --argjson k "$2" \
		'[.[] | select(.key == $k) | .value.stats_slot] | first // 0')
	if [ "$slot" -ne 0 ]; then
		slotted=$(bpftool -j map lookup pinned "$(agent_pin "$1")/midox_traffic" key hex $(le32 "$slot") |
			jq -er --arg f "$3" '[.formatted.values[].value[$f]] | add // 0')
	fi
	echo $((hashed + slotted))
}

# counter_of HOST PORT FIELD: FIELD of PORT's entry in `datapath list counter --json`.
counter_of() {
	dp "$1" --json datapath list counter |
		jq -er --arg p "$2" --arg f "$3" '.[] | select(.port == $p) | .[$f]'
}

# counters_agree HOST PORT KEY FIELD: FIELD as `datapath list counter` prints it for PORT
# equals the sum stat_of reads from the maps for KEY.
counters_agree() {
	[ "$(counter_of "$1" "$2" "$4")" -eq "$(stat_of "$1" "$3" "$4")" ]
}

@test "datapath listings name MACs, routes, neighbours, ports and peers as the topology does" {
	dp_setup
	local m12 m21
	m12=$(net_mac v12)
	m21=$(net_mac v21)

	run dp h1 datapath list mac-table
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mac $M11 bridge $BR_A port ${PORT[v11]} type static"* ]]
	[[ "$output" == *"mac $m12 bridge $BR_A port ${PORT[v12]} type learned-remote"* ]]
	[[ "$output" != *"#"* ]]
	# The same MAC where it was learned: h2's datapath, with its age.
	run dp h2 datapath list mac-table
	echo "$output"
	[[ "$output" =~ "mac $m12 bridge $BR_A port ${PORT[v12]} type learned-here age "[0-9]+s ]]

	run dp h1 datapath list route
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"route router $RT dst 10.0.2.0/24 type normal port ${RPORT[b]} weight 100"* ]]
	[[ "$output" == *"route router $RT dst 10.0.1.1/32 type local port ${RPORT[a]}"* ]]
	# only the hops in use: one line per hop, a port route has one
	[ "$(grep -c "dst 10.0.2.0/24 " <<<"$output")" -eq 1 ]

	# v21's ARP for its gateway taught R on h2 its MAC, and h2 published it to h1 (which then
	# has no need to ask itself).
	run dp h2 datapath list neighbour
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ "neighbour router $RT address 10.0.2.21 mac $m21 port ${RPORT[b]} type learned-here age "[0-9]+s ]]
	run dp h1 datapath list neighbour
	echo "$output"
	[[ "$output" =~ "neighbour router $RT address 10.0.2.21 mac $m21 port ${RPORT[b]} type learned-"(remote|here) ]]

	run dp h1 datapath list port
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"port ${PORT[v11]} device $BR_A flags local,fixed-mac,fixed-ip interface v11 ifindex $(net_ifindex h1 v11) mac $M11 address 10.0.1.11"* ]]
	[[ "$output" == *"port ${PORT[v21]} device $BR_B flags remote host $(agent_name h2) via 192.0.2.2"* ]]
	[[ "$output" =~ "port ${RPORT[a]} device $RT flags router,interior mac "[0-9a-f:]+" address 10.0.1.1/24 peer bridge"[0-9]+:port[0-9]+ ]]

	run dp h1 datapath list tunnel-peer
	echo "$output"
	[[ "$output" == *"tunnel-peer address 192.0.2.2 host $(agent_name h2)"* ]]
}

@test "datapath counters sum the CPUs, grow by what was sent, and name drop reasons" {
	dp_setup
	local k rx tx rx2 tx2
	k=$(port_key h1 v11)

	# the CLI's figures are the maps' own sums (read until a moment nothing arrives between
	# the two reads: a VM's own chatter, a dump racing an agent's write)
	wait_until 10 counters_agree h1 "${PORT[v11]}" "$k" rx_packets
	wait_until 10 counters_agree h1 "${PORT[v11]}" "$k" tx_packets
	rx=$(counter_of h1 "${PORT[v11]}" rx_packets)
	tx=$(counter_of h1 "${PORT[v11]}" tx_packets)
	ping_all v11 10.0.1.12 10
	rx2=$(counter_of h1 "${PORT[v11]}" rx_packets)
	tx2=$(counter_of h1 "${PORT[v11]}" tx_packets)
	echo "rx $rx -> $rx2, tx $tx -> $tx2"
	# 10 requests in, 10 replies out (and at most an ARP exchange of the VM's on top)
	[ $((rx2 - rx)) -ge 10 ]
	[ $((rx2 - rx)) -le 12 ]
	[ $((tx2 - tx)) -ge 10 ]
	[ $((tx2 - tx)) -le 12 ]
	[ "$rx2" -eq "$(stat_of h1 "$k" rx_packets)" ]

	# A spoofed source on the locked port: dropped, counted as spoof-ip.
	net_in v11 ip addr add 10.0.1.99/24 dev eth0
	run net_in v11 ping -c 3 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.12
	[[ "$output" == *" 0 received"* ]]
	[ "$(drops h1 "$k" MX_DROP_SPOOF_IP)" -ge 3 ]
	run dp h1 datapath list counter
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ "counter port ${PORT[v11]} rx-packets "[0-9]+" rx-bytes "[0-9]+" tx-packets "[0-9]+" tx-bytes "[0-9]+" drops "[0-9]+" ("[^\)]*"spoof-ip $(drops h1 "$k" MX_DROP_SPOOF_IP)" ]]
	[ "$(counter_of h1 "${PORT[v11]}" drop_reasons | jq -r '.["spoof-ip"]')" -eq \
	  "$(drops h1 "$k" MX_DROP_SPOOF_IP)" ]
}

@test "datapath show --json: every listing, valid JSON, the same entries as the text" {
	dp_setup
	run dp h1 --json datapath show
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert sorted(d) == ["connections", "counters", "filters", "mac_table", "nat_leases", "neighbours", "ports", "routes", "tunnel_peers"], sorted(d)
port, m11, rt = sys.argv[1], sys.argv[2], sys.argv[3]
macs = [m for m in d["mac_table"] if m["mac"] == m11 and m.get("bridge") == sys.argv[4]]
assert len(macs) == 1 and macs[0]["port"] == port and macs[0]["type"] == ["static"], macs
routes = [r for r in d["routes"] if r["dst"] == "10.0.2.0/24" and r.get("router") == rt]
assert len(routes) == 1 and len(routes[0]["next_hops"]) == 1, routes
assert routes[0]["next_hops"][0]["type"] == "normal", routes
assert any(p["port"] == port and "local" in p["flags"] for p in d["ports"]), d["ports"]
assert all(isinstance(c["rx_packets"], int) for c in d["counters"])
' "${PORT[v11]}" "$M11" "$RT" "$BR_A"
	# the text lists as many MAC entries as the JSON
	[ "$(dp h1 datapath list mac-table | wc -l)" -eq \
	  "$(dp h1 --json datapath list mac-table | jq length)" ]
}

@test "datapath: without ZooKeeper numbers and one warning; errors for a missing pin root and a bad word" {
	dp_setup
	local k
	k=$(port_key h1 v11)
	# ZooKeeper unreachable: the keys as numbers, said once on stderr, exit 0.
	nsenter --net="/run/netns/$(net_ns h1)" -- "$MIDOX_BUILD/midox" --zk 127.0.0.1:1 \
		--pin-root "$(agent_pin h1)" -e 'datapath list port' -e 'datapath list mac-table' \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	grep -q "^port #$k device #[0-9]* flags local,fixed-mac,fixed-ip interface v11 " "$BATS_TEST_TMPDIR/out"
	grep -q "^mac $M11 bridge #[0-9]* port #$k type static" "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c "warning: cannot read the topology from ZooKeeper" "$BATS_TEST_TMPDIR/err")" -eq 1 ]

	run dp h1 --pin-root "$BATS_TEST_TMPDIR/none" datapath show
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"midox: error: no pin root $BATS_TEST_TMPDIR/none"* ]]
	# an empty directory: no maps
	mkdir "$BATS_TEST_TMPDIR/empty"
	run env MIDOX_PIN_ROOT="$BATS_TEST_TMPDIR/empty" "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" datapath list route
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"midox: error: no map midox_route in $BATS_TEST_TMPDIR/empty"* ]]

	run dp h1 datapath list frob
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown command 'datapath list frob': expected one of show, list port, list mac-table"* ]]
	run "$MIDOX_BUILD/midox" help datapath
	[[ "$output" == *"datapath list neighbour"* ]]
}
