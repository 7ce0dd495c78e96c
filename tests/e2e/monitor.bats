#!/usr/bin/env bats
# `midox monitor` end to end: real ZooKeeper, two agents in host namespaces, VMs whose
# traffic is dropped for a known reason, and the CLI run in h1's netns on its agent's pin
# root, in the background, while the drop happens. Each drop must come out as one event with
# its reason and its port's name; with no monitor running the listening mark is 0.
#
#   bridge A 10.0.1.0/24 (R port a 10.0.1.1):  v11 10.0.1.11 on h1 (fixed MAC and address,
#                                               port security), v12 10.0.1.12 on h2;
#                                               a port with MAC $MU and 10.0.1.50, bound nowhere
#   bridge B 10.0.2.0/24 (R port b 10.0.2.1):  v21 10.0.2.21 on h2
#   R: no route beyond its two subnets

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

M11=02:00:00:0a:01:0b
MU=02:00:00:0a:01:32

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
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_fdb midox_monitor midox_monrate
}

# mon_cmd HOST: the start of a midox command in HOST's netns on its agent's pin root.
mon_cmd() {
	MON=(nsenter --net="/run/netns/$(net_ns "$1")" -- "$MIDOX_BUILD/midox"
	     --zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin "$1")")
}

# mon HOST ARGS...: midox in HOST's netns, on its agent's pin root.
mon() {
	local host=$1
	shift
	mon_cmd "$host"
	"${MON[@]}" "$@"
}

# mark HOST FIELD: FIELD of HOST's listening mark (midox_monitor[0]).
mark() {
	map_entries "$1" midox_monitor | jq -er --arg f "$2" '.[0].value[$f]'
}

listening() {
	[ "$(mark "$1" listen_until_ns)" != 0 ]
}

# mon_start HOST OUT ARGS...: `midox monitor ARGS` on HOST in the background, its output in
# OUT, its PID in MON_PID; returns once its mark is set (it listens).
mon_start() {
	local host=$1 out=$2
	shift 2
	mon_cmd "$host"
	"${MON[@]}" "$@" >"$out" 2>&1 &
	MON_PID=$!
	echo "$MON_PID" >> "$NET_DIR/pids"
	wait_until 10 listening "$host"
}

# mon_wait PID: the monitor ended by itself (count reached) within 10 s; its exit status.
mon_wait() {
	wait_until 10 eval "! kill -0 $1"
	wait "$1"
}

mon_setup() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	router_link a 10.0.1.1 10.0.1.0/24 "$BR_A"
	router_link b 10.0.2.1 10.0.2.0/24 "$BR_B"
	vm_port h1 v11 10.0.1.11 "$BR_A" "$M11"
	vm_port h2 v12 10.0.1.12 "$BR_A"
	vm_port h2 v21 10.0.2.21 "$BR_B"
	PORT[unbound]=$(mx bridge "$BR_A" add port mac "$MU" address 10.0.1.50)
	wait_until 20 ping_all v11 10.0.1.12 2
	wait_until 20 ping_all v11 10.0.2.21 2
	[ "$(mark h1 listen_until_ns)" = 0 ]
}

@test "monitor count 1: a spoofed source, a port bound nowhere, a missing route, each one event" {
	mon_setup
	local out=$BATS_TEST_TMPDIR/mon

	# port security: v11 sends from an address that is not its port's
	mon_start h1 "$out" monitor count 1
	net_in v11 ip addr add 10.0.1.99/24 dev eth0
	net_in v11 ping -c 3 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.12 || true
	mon_wait "$MON_PID"
	cat "$out"
	[ "$(wc -l <"$out")" -eq 1 ]
	grep -Eq "^[0-9-]+T[0-9:.]+Z spoof-ip port ${PORT[v11]} device $BR_A interface v11 length [0-9]+ ethertype 0x0(800|806) src 10\.0\.1\.99 dst 10\.0\.1\.12 protocol (icmp|arp) frame [0-9a-f]+$" "$out"
	[ "$(mark h1 listen_until_ns)" = 0 ]
	net_in v11 ip addr del 10.0.1.99/24 dev eth0

	# a bridge port with no path: its MAC is known (fixed), it is bound nowhere
	mon_start h1 "$out" monitor count 1
	net_in v11 ping -c 2 -i 0.2 -W 1 10.0.1.50 || true
	mon_wait "$MON_PID"
	cat "$out"
	[ "$(wc -l <"$out")" -eq 1 ]
	grep -Eq " port-unbound port ${PORT[v11]} device $BR_A interface v11 length [0-9]+ ethertype 0x0800 src 10\.0\.1\.11 dst 10\.0\.1\.50 protocol icmp frame $(echo "$MU" | tr -d :)" "$out"
	[ "$(mark h1 listen_until_ns)" = 0 ]

	# the router has no route to 10.9.9.9: dropped on the router port the packet entered by
	mon_start h1 "$out" monitor count 1
	net_in v11 ping -c 2 -i 0.2 -W 1 10.9.9.9 || true
	mon_wait "$MON_PID"
	cat "$out"
	[ "$(wc -l <"$out")" -eq 1 ]
	grep -Eq " no-route port ${RPORT[a]} device $RT interface v11 length [0-9]+ ethertype 0x0800 src 10\.0\.1\.11 dst 10\.9\.9\.9 protocol icmp " "$out"
	[ "$(mark h1 listen_until_ns)" = 0 ]
}

@test "monitor filters by port, reason and address; --json is one object a line" {
	mon_setup
	local out=$BATS_TEST_TMPDIR/mon

	mon_start h1 "$out" --json monitor reason no-route address 10.9.9.8 port "${RPORT[a]}" count 2
	# not shown: another reason, another address
	net_in v11 ping -c 2 -i 0.1 -W 1 10.0.1.50 || true
	net_in v11 ping -c 2 -i 0.1 -W 1 10.9.9.9 || true
	net_in v11 ping -c 2 -i 0.2 -W 1 10.9.9.8 || true
	mon_wait "$MON_PID"
	cat "$out"
	[ "$(wc -l <"$out")" -eq 2 ]
	jq -es --arg p "${RPORT[a]}" --arg rt "$RT" --argjson k "$(port_key_of "${RPORT[a]}")" '
		length == 2 and all(.[]; .reason == "no-route" and .port == $p and .device == $rt
		and .port_key == $k and .interface == "v11" and .src == "10.0.1.11"
		and .dst == "10.9.9.8" and .protocol == "icmp" and .ethertype == "0x0800"
		and (.frame | length) == 2 * ([.length, 64] | min))' "$out"
	[ "$(mark h1 listen_until_ns)" = 0 ]
}

# port_key_of ALIAS: the port's tunnel key from the CLI.
port_key_of() {
	mx --json "$1" show | jq -er '.tunnel_key'
}

@test "monitor until SIGTERM: clears its mark; a second monitor meanwhile refuses; suppressed counted" {
	mon_setup
	local out=$BATS_TEST_TMPDIR/mon first

	mon_start h1 "$out" monitor rate 2
	first=$MON_PID
	[ "$(mark h1 owner_pid)" -gt 0 ]
	run mon h1 monitor count 1
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"another midox monitor (pid "*") reads the drop events of $(agent_pin h1): a ring buffer has one reader"* ]]
	# 20 drops in a second at a budget of 2 a second per CPU: the rest suppressed, said so
	net_in v11 ping -c 20 -i 0.02 -W 1 10.9.9.9 || true
	wait_until 5 grep -Eq '^suppressed [0-9]+ events \(over the budget of 2 a second per CPU\)$' "$out"
	kill -TERM "$first"
	wait "$first"
	cat "$out"
	[ "$(grep -c ' no-route ' "$out")" -ge 2 ]
	[ "$(grep -c ' no-route ' "$out")" -le 4 ] # one bucket of 2 per CPU (2 CPUs at most here)
	[ "$(mark h1 listen_until_ns)" = 0 ]
}

@test "monitor without ZooKeeper names ports by key; errors say why and exit non-zero" {
	mon_setup
	local out=$BATS_TEST_TMPDIR/mon k
	k=$(port_key h1 v11)

	mon_cmd h1
	MON[5]=127.0.0.1:1 # --zk: nothing listens there
	"${MON[@]}" monitor count 1 port "#$k" >"$out" 2>&1 &
	MON_PID=$!
	echo "$MON_PID" >> "$NET_DIR/pids"
	wait_until 15 listening h1
	net_in v11 ip addr add 10.0.1.99/24 dev eth0
	net_in v11 ping -c 3 -i 0.2 -W 1 -I 10.0.1.99 10.0.1.12 || true
	mon_wait "$MON_PID"
	cat "$out"
	grep -q "warning: cannot read the topology from ZooKeeper" "$out"
	grep -Eq " spoof-ip port #$k interface v11 " "$out"

	run mon h1 monitor reason frob
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad reason 'frob': expected one of no-port, "*", admin-down"* ]]
	run mon h1 monitor count 0
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad count '0'"* ]]
	run mon h1 monitor port nosuchport
	[ "$status" -ne 0 ]
	[[ "$output" == *"nosuchport"* ]]
	run mon h1 monitor frob
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown word 'frob'"* ]]
	run "$MIDOX_BUILD/midox" --pin-root "$BATS_TEST_TMPDIR/none" monitor
	[ "$status" -ne 0 ]
	[[ "$output" == *"no pin root $BATS_TEST_TMPDIR/none"* ]]
	[ "$(mark h1 listen_until_ns)" = 0 ]
}
