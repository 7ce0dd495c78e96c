#!/usr/bin/env bats
# Dynamic SNAT's port blocks (docs/nat-leases.md) with real ZooKeeper, real agents on three
# hosts and the real CLI: each host leases blocks of a dynamic SNAT rule's address as
# ephemeral nodes /midox/nat/<address>/<block> of its session and writes them to its
# midox_natlease map; no block is ever held by two hosts; a host whose session ends frees
# its blocks and another host takes them; an agent restarted within its session keeps them;
# a deleted rule's blocks go after the idle and grace times. The agents run with a short
# session timeout and idle time.

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/natlease'

SESSION_MS=$NATLEASE_SESSION_MS
IDLE_MS=$NATLEASE_IDLE_MS

setup_file() {
	e2e_setup_file midox midox-agent tests/topo-helper
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	CH=$NET_RUN-snat
	# One address per test: the ZooKeeper server is the file's.
	ADDR=198.51.100.$((10 + BATS_TEST_NUMBER))
	mx tunnel-zone create name "$NET_RUN-tz" type vxlan >/dev/null
	local h i=1
	for h in h1 h2 h3; do
		net_host_add "$h" "192.0.2.$i"
		i=$((i + 1))
	done
	for h in h1 h2 h3; do lease_agent_start "$h"; done
	for h in h1 h2 h3; do agent_wait_ready "$h"; done
	mx chain create name "$CH" >/dev/null
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		helper dump 2>/dev/null | grep '^/midox/nat' >&2 || true
	fi
	# The server is the file's: the next test's agents must not lease for this one's rules.
	mx --force chain "$CH" delete >/dev/null 2>&1 || true
	e2e_teardown midox_natlease
}

MPORT=9464 # inside each host's own netns

lease_agent_start() {
	agent_start "$1" MIDOX_ZK_SESSION_TIMEOUT_MS=$SESSION_MS MIDOX_NAT_BLOCK_IDLE_MS=$IDLE_MS \
		MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"
}

# metric HOST SAMPLE: the value of SAMPLE (the name with its labels) in HOST's metrics.
metric() {
	net_in "$1" curl -sS --fail --max-time 5 "http://127.0.0.1:$MPORT/metrics" |
		awk -v s="$2" '$1 == s { print $2; found = 1 } END { exit !found }'
}

# all_ephemeral: every node below $ADDR's is ephemeral (and there is one at least).
all_ephemeral() {
	helper dump | awk -v p="/midox/nat/$ADDR/" 'index($1, p) == 1 { n++; if ($NF != "(ephemeral)") bad++ }
		END { exit !(n > 0 && !bad) }'
}

n_leases() { leases | wc -l; }
leases_are() { [ "$(n_leases)" -eq "$1" ]; }

# blocks_in_zk HOST: its blocks of $ADDR in ZooKeeper, sorted, space separated.
blocks_in_zk() {
	leases | awk -v h="$(host_id "$1")" '$2 == h { print $1 }' | sort -n | xargs
}
# zk_blocks_are HOST BLOCKS: HOST holds exactly BLOCKS ("" for none).
zk_blocks_are() { [ "$(blocks_in_zk "$1")" = "$2" ]; }
map_empty() { [ -z "$(blocks_in_map "$1")" ]; }
# zk_blocks_in HOST LO HI: HOST holds exactly one block, between LO and HI.
zk_blocks_in() {
	local b
	b=$(blocks_in_zk "$1")
	[[ $b =~ ^[0-9]+$ ]] && [ "$b" -ge "$2" ] && [ "$b" -le "$3" ]
}

# blocks_in_map HOST: the blocks of $ADDR in HOST's midox_natlease (CPU 0's value, read
# with bpftool; the key is the address's bytes), space separated; empty when no entry
# (bpftool then prints its error as JSON, which has no values).
blocks_in_map() {
	local key
	key=$(echo "$ADDR" | tr . ' ')
	bpftool map lookup pinned "$(agent_pin "$1")/midox_natlease" key $key -j 2>/dev/null |
		jq -r '(if type == "array" then .[0] else . end) | (.formatted // .) |
			if .values then .values[0].value | .block[0:.n_blocks] | map(tostring) | join(" ")
			else empty end'
}

# map_agrees HOST: HOST's map holds exactly its blocks in ZooKeeper.
map_agrees() {
	local z m
	z=$(blocks_in_zk "$1")
	m=$(blocks_in_map "$1" | tr ' ' '\n' | sort -n | xargs)
	[ -n "$z" ] && [ "$z" = "$m" ]
}


# ct_batch HOST OP N BLOCK: a bpftool batch that puts (OP update) or deletes (OP delete) N
# tracked TCP connections in HOST's midox_ct as the datapath's dynamic SNAT writes them
# (flagged MX_CT_F_NAT, established, seen now): 10.0.0.5:40000+i to 192.0.2.200:80, leaving
# as $ADDR:BLOCK*64+i.
ct_batch() {
	python3 - "$(agent_pin "$1")/midox_ct" "$2" "$3" "$4" "$ADDR" <<-'PY'
	import socket, struct, sys, time
	pin, op, n, block, addr = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
	a = lambda s: socket.inet_aton(s)
	hx = lambda b: " ".join("%02x" % x for x in b)
	for i in range(n):
	    key = struct.pack("<I", 1) + a("10.0.0.5") + a("192.0.2.200") + \
	        struct.pack("!HH", 40000 + i, 80) + bytes([6, 0, 0, 0])
	    nat = a(addr) + a("192.0.2.200") + struct.pack("!HH", block * 64 + i, 80) + bytes(4)
	    val = struct.pack("<QBBHI", time.monotonic_ns(), 2, 4, 0, 0) + nat
	    if op == "update":
	        print("map update pinned %s key hex %s value hex %s" % (pin, hx(key), hx(val)))
	    else:
	        print("map delete pinned %s key hex %s" % (pin, hx(key)))
	PY
}

ct_apply() {
	ct_batch "$@" > "$BATS_TEST_TMPDIR/ct.batch" && bpftool batch file "$BATS_TEST_TMPDIR/ct.batch" >/dev/null
}

@test "three hosts each hold a distinct first block, in ZooKeeper and in their maps" {
	run -0 mx chain "$CH" add rule type snat target "$ADDR:1024-1215"
	wait_until 20 leases_are 3
	all_ephemeral
	local h b seen=""
	for h in h1 h2 h3; do
		b=$(blocks_in_zk "$h")
		[[ $b =~ ^(16|17|18)$ ]] || { echo "$h holds '$b'" >&2; false; }
		[[ " $seen " != *" $b "* ]] || { echo "$b held twice" >&2; false; }
		seen+=" $b"
		wait_until 10 map_agrees "$h"
	done
	# The operator's view: the map, with each block's ports.
	b=$(blocks_in_zk h2)
	run -0 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" --pin-root "$(agent_pin h2)" \
		datapath list nat-lease
	[[ $output == *"nat-lease address $ADDR blocks $b ($((b * 64))-$((b * 64 + 63))) connections 0"* ]]
	run -0 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" --pin-root "$(agent_pin h2)" --json \
		datapath list nat-lease
	jq -e --arg a "$ADDR" --argjson b "$b" \
		'any(.[]; .address == $a and .blocks == [$b] and .connections == 0)' <<<"$output"
	# A one-address SNAT without ports is static: no lease.
	mx chain "$CH" add rule type snat target 203.0.113.99 >/dev/null
	sleep 2
	run -0 helper dump
	[[ $output != *"/midox/nat/203.0.113.99"* ]]
}

@test "a host whose session ends frees its blocks, and a host that found none takes them" {
	# Two blocks (32, 33) for three hosts: one host finds none.
	mx chain "$CH" add rule type snat target "$ADDR:2048-2175" >/dev/null
	wait_until 20 leases_are 2
	local h holder="" loser="" freed
	for h in h1 h2 h3; do
		if [ -n "$(blocks_in_zk "$h")" ]; then holder=${holder:-$h}; else loser=$h; fi
	done
	[ -n "$holder" ]
	[ -n "$loser" ]
	wait_until 20 grep -q "no free block left for $ADDR" "$NET_DIR/$loser.agent.log"
	[ -z "$(blocks_in_map "$loser")" ]
	# The metrics say so: the holder's one block, the loser's failure.
	[ "$(metric "$holder" "midox_nat_blocks{address=\"$ADDR\"}")" -eq 1 ]
	[ "$(metric "$loser" "midox_nat_blocks{address=\"$ADDR\"}")" -eq 0 ]
	[ "$(metric "$loser" midox_nat_lease_failures_total)" -ge 1 ]
	[ "$(metric "$holder" midox_nat_lease_failures_total)" -eq 0 ]
	freed=$(blocks_in_zk "$holder")
	# kill -9: the session lives on until its timeout, then ZooKeeper deletes its nodes.
	kill -KILL "$(agent_pid "$holder")"
	wait_until 20 zk_blocks_are "$holder" ""
	# The host that had none looks again (every 10 s) and takes the freed block.
	wait_until 30 zk_blocks_are "$loser" "$freed"
	wait_until 10 map_agrees "$loser"
	[ "$(n_leases)" -eq 2 ]
	[ "$(metric "$loser" "midox_nat_blocks{address=\"$ADDR\"}")" -eq 1 ]
	[ "$(metric "$loser" midox_nat_blocks_leased_total)" -ge 1 ]
}

@test "an agent restarted within its session timeout keeps its blocks" {
	mx chain "$CH" add rule type snat target "$ADDR:1024-1215" >/dev/null
	wait_until 20 leases_are 3
	local before session
	before=$(blocks_in_zk h2)
	session=$(agent_session h2)
	wait_until 10 map_agrees h2
	kill -KILL "$(agent_pid h2)"
	lease_agent_start h2
	agent_wait_ready h2
	[ "$(agent_session h2)" = "$session" ]
	sleep 2
	[ "$(blocks_in_zk h2)" = "$before" ]
	map_agrees h2
	# Resumed, not taken again: the nodes never went.
	run ! grep -q "block $before leased again" "$NET_DIR/h2.agent.log"
	[ "$(n_leases)" -eq 3 ]
}

@test "a session that expired: the restarted agent leases its map's blocks again" {
	mx chain "$CH" add rule type snat target "$ADDR:1024-1215" >/dev/null
	wait_until 20 leases_are 3
	local before
	before=$(blocks_in_zk h3)
	wait_until 10 map_agrees h3
	kill -KILL "$(agent_pid h3)"
	wait_until 20 zk_blocks_are h3 ""
	rm -f "$NET_DIR/h3.host-id.session"
	lease_agent_start h3
	agent_wait_ready h3
	wait_until 20 zk_blocks_are h3 "$before"
	grep -q "$ADDR block $before leased again" "$NET_DIR/h3.agent.log"
	map_agrees h3
}

@test "a deleted rule's blocks are released after the idle and grace times" {
	run -0 mx chain "$CH" add rule type snat target "$ADDR-$(echo "$ADDR" | awk -F. '{ print $1 "." $2 "." $3 "." $4 + 1 }'):5000-5200"
	local rule=$output second
	second=$(echo "$ADDR" | awk -F. '{ print $1 "." $2 "." $3 "." $4 + 1 }')
	# An address range: each address its own leases (blocks 78 to 81 of ports 5000-5200).
	wait_until 20 leases_are 3
	ADDR=$second wait_until 20 leases_are 3
	local h
	for h in h1 h2 h3; do
		[[ $(blocks_in_zk "$h") =~ ^(78|79|80|81)$ ]]
	done
	mx --force chain "$CH" rule "${rule#*:}" delete
	wait_until 20 leases_are 0
	for h in h1 h2 h3; do
		wait_until 10 map_empty "$h"
		grep -q "$ADDR block .* released" "$NET_DIR/$h.agent.log"
		[ "$(metric "$h" midox_nat_blocks_released_total)" -ge 2 ]
	done
	ADDR=$second wait_until 20 leases_are 0
	# The address node goes with its last block.
	run -0 helper dump
	[[ $output != *"/midox/nat/$ADDR "* ]]
}

@test "bad lease nodes in ZooKeeper are logged and never trusted" {
	# Before the rule: a block node made around midox (persistent, bad data) and a node
	# whose name is no block.
	helper put /midox/nat '{"schema":1}'
	helper put "/midox/nat/$ADDR" '{"schema":1}'
	helper put "/midox/nat/$ADDR/16" '{"schema":1,"host":"not-a-host"}'
	helper put "/midox/nat/$ADDR/abc" '{"schema":1}'
	# A restarted agent reads every lease node at its start: both are skipped, logged.
	kill -KILL "$(agent_pid h1)"
	lease_agent_start h1
	agent_wait_ready h1
	wait_until 10 grep -q "skipping /midox/nat/$ADDR/abc: not a block number" "$NET_DIR/h1.agent.log"
	grep -q "skipping /midox/nat/$ADDR/16: no host id" "$NET_DIR/h1.agent.log"
	# Blocks 16..18: block 16's node exists, so no host takes it; the others get 17 and 18,
	# the third host none.
	mx chain "$CH" add rule type snat target "$ADDR:1024-1215" >/dev/null
	wait_until 20 leases_are 2
	local h all=""
	for h in h1 h2 h3; do
		all+=" $(blocks_in_map "$h")"
		[ -z "$(blocks_in_zk "$h")" ] || wait_until 10 map_agrees "$h"
	done
	[ "$(echo $all | tr ' ' '\n' | sort -n | xargs)" = "17 18" ]
	# The bad nodes are left for an operator.
	run -0 helper dump
	[[ $output == *"/midox/nat/$ADDR/16 "* ]]
	[[ $output == *"/midox/nat/$ADDR/abc "* ]]
	helper delete "/midox/nat/$ADDR/16"
	helper delete "/midox/nat/$ADDR/abc"
}

@test "connections in the conntrack table: one busy destination leases another block, a block in use outlives its rule" {
	# Blocks 16..22 for three hosts: room to grow.
	run -0 mx chain "$CH" add rule type snat target "$ADDR:1024-1471"
	local rule=$output first both other
	wait_until 20 leases_are 3
	first=$(blocks_in_zk h1)
	wait_until 10 map_agrees h1
	# Connections on ports of h2's block (flow-state copies of h2's connections, as the
	# uplink's host holds them) are not h1's: all 64 lease h1 nothing, count nothing.
	other=$(blocks_in_zk h2)
	ct_apply h1 update 64 "$other"
	run -0 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" --pin-root "$(agent_pin h1)" \
		datapath list nat-lease
	[[ $output == *"address $ADDR blocks $first ("*") connections 0"* ]]
	sleep 3
	[ "$(blocks_in_zk h1)" = "$first" ]
	ct_apply h1 delete 64 "$other"
	# 48 of h1's 64 ports to one destination: 3/4, no more blocks; 49: over, a second.
	ct_apply h1 update 48 "$first"
	run -0 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" --pin-root "$(agent_pin h1)" \
		datapath list nat-lease
	[[ $output == *"address $ADDR blocks $first ("*") connections 48"* ]]
	sleep 3
	[ "$(blocks_in_zk h1)" = "$first" ]
	ct_apply h1 update 49 "$first"
	wait_until 20 leases_are 4
	both=$(blocks_in_zk h1)
	[ "$(wc -w <<<"$both")" -eq 2 ]
	# The map: the first block first, the new one appended.
	wait_until 10 map_agrees h1
	[ "$(blocks_in_map h1 | awk '{ print $1 }')" = "$first" ]
	# The rule goes: the blocks without connections go after the idle and grace times, the
	# block in use stays while its connections do.
	mx --force chain "$CH" rule "${rule#*:}" delete
	wait_until 20 leases_are 1
	sleep 3
	[ "$(blocks_in_zk h1)" = "$first" ]
	[ "$(blocks_in_map h1)" = "$first" ]
	ct_apply h1 delete 49 "$first"
	wait_until 20 leases_are 0
	wait_until 10 map_empty h1
}

@test "a rule whose port range changes: blocks of the new range leased at once, the old ones released" {
	run -0 mx chain "$CH" add rule type snat target "$ADDR:1024-1215"
	local rule=$output h
	wait_until 20 leases_are 3
	# The same address with other ports (a delete and an add: rules are not edited).
	mx chain "$CH" add rule type snat target "$ADDR:2048-2239" >/dev/null
	mx --force chain "$CH" rule "${rule#*:}" delete
	# Each host: one block of 32..34, and none of 16..18 any more (that one was the last
	# block, but no rule reaches its ports).
	for h in h1 h2 h3; do
		wait_until 20 zk_blocks_in "$h" 32 34
		wait_until 10 map_agrees "$h"
	done
	wait_until 20 leases_are 3
}

@test "a session that expires while the agent runs: a block another host took meanwhile is lost, logged, counted, out of the map" {
	# Two blocks (32, 33) for three hosts.
	mx chain "$CH" add rule type snat target "$ADDR:2048-2175" >/dev/null
	wait_until 20 leases_are 2
	local h holder="" loser="" block
	for h in h1 h2 h3; do
		if [ -n "$(blocks_in_zk "$h")" ]; then holder=${holder:-$h}; else loser=$h; fi
	done
	[ -n "$holder" ]
	[ -n "$loser" ]
	block=$(blocks_in_zk "$holder")
	wait_until 10 map_agrees "$holder"
	# Cut off past its session timeout: ZooKeeper ends the session, the host that had no
	# block takes this one (it looks every 10 s).
	zk_unlink "$holder"
	wait_until 30 zk_blocks_are "$loser" "$block"
	zk_link "$holder"
	wait_until 30 grep -q "$ADDR block $block is another host's now" "$NET_DIR/$holder.agent.log"
	wait_until 10 map_empty "$holder"
	[ "$(metric "$holder" midox_nat_blocks_lost_total)" -eq 1 ]
	[ "$(metric "$holder" "midox_nat_blocks{address=\"$ADDR\"}")" -eq 0 ]
	# It looks for another and finds none; nobody holds a block twice.
	wait_until 20 grep -q "no free block left for $ADDR" "$NET_DIR/$holder.agent.log"
	[ "$(n_leases)" -eq 2 ]
	[ -z "$(blocks_in_zk "$holder")" ]
}

# SNAT from VMs on three hosts to one address: router R, bridge A 10.0.1.0/24 with a VM on
# each host, R's uplink on h1 to a "physical" namespace whose server 198.51.100.1 listens
# on one port; R's outfilter SNATs the bridge's traffic leaving by the uplink to
# $ADDR:1024-2047, its infilter reverses it. Each host picks ports from its own blocks.
@test "SNAT from VMs on three hosts to one address: many connections to one server port, no tuple collision" {
	local h i bp p rp_a rp_u n=60
	ADDR=203.0.113.$((10 + BATS_TEST_NUMBER)) # apart from the server's 198.51.100.0/24
	for h in h1 h2 h3; do
		mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name "$h")" \
			address "$(net_host_addr "$h")" >/dev/null
	done
	mx bridge create name "$NET_RUN-a" >/dev/null
	mx router create name "$NET_RUN-r" >/dev/null
	rp_a=$(mx router "$NET_RUN-r" add port address 10.0.1.1 net 10.0.1.0/24)
	bp=$(mx bridge "$NET_RUN-a" add port)
	mx bridge "$NET_RUN-a" port "${bp#*:}" set peer router "$NET_RUN-r" port "${rp_a#*:}"
	i=1
	for h in h1 h2 h3; do
		net_vm_add "$h" "vm$i" "10.0.1.1$i/24" "02:00:0a:00:01:1$i"
		net_vm_gw "vm$i" 10.0.1.1
		p=$(mx bridge "$NET_RUN-a" add port mac "02:00:0a:00:01:1$i" address "10.0.1.1$i")
		mx host "$(agent_name "$h")" add binding port "$p" interface "vm$i"
		i=$((i + 1))
	done
	net_phys_add phys h1 up1 172.16.1.2/24
	ip -n "$(net_ns phys)" addr replace 198.51.100.1/32 dev lo
	ip -n "$(net_ns phys)" route replace "$ADDR/32" via 172.16.1.1 dev eth0
	rp_u=$(mx router "$NET_RUN-r" add port address 172.16.1.1 net 172.16.1.0/24)
	mx host "$(agent_name h1)" add binding port "$rp_u" interface up1
	mx router "$NET_RUN-r" add route src 0.0.0.0/0 dst 198.51.100.0/24 type normal \
		port "$rp_u" gw 172.16.1.2 >/dev/null
	mx chain create name "$NET_RUN-in" >/dev/null
	mx chain "$NET_RUN-in" add rule type rev_snat dst "$ADDR/32" >/dev/null
	mx chain "$CH" add rule type snat src 10.0.1.0/24 out-ports "$rp_u" \
		target "$ADDR:1024-2047" >/dev/null
	mx router "$NET_RUN-r" set infilter "$NET_RUN-in"
	mx router "$NET_RUN-r" set outfilter "$CH"
	wait_until 20 leases_are 3
	# The server, and every SYN and FIN it gets (its source port is the SNAT port).
	net_bg phys "$NET_DIR/server" python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" serve 7000
	wait_until 5 net_in phys ss -ltn "sport = :7000"
	net_capture phys "tcp dst port 7000 and tcp[tcpflags] & (tcp-syn|tcp-fin) != 0"
	for i in 1 2 3; do wait_until 30 ping_ok "vm$i" 198.51.100.1; done
	# n connections from each VM at once, all to 198.51.100.1:7000.
	for i in 1 2 3; do
		net_bg "vm$i" "$NET_DIR/probe$i" python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" \
			connect 198.51.100.1 7000 "$n"
		eval "pid$i=\$NET_BG_PID"
	done
	for i in 1 2 3; do
		local pv=pid$i
		wait "${!pv}" || { cat "$NET_DIR/probe$i" >&2; false; }
		grep -q "connected $n of $n" "$NET_DIR/probe$i"
	done
	# Every connection came from $ADDR, on a tuple no live connection held: a port is used
	# again (a closed connection's, taken over) only after the connection before it on that
	# port sent its FIN. Each port is in a block its host holds.
	sleep 1
	run ! grep -qE "10\.0\.1\.1[123]\.[0-9]+ > 198" "$NET_DIR/cap-phys"
	local ports tally conns nports reused bad
	tally=$(grep -oE "$ADDR\.[0-9]+ > 198\.51\.100\.1\.7000: Flags \[[SFP.]+\], seq [0-9]+" \
		"$NET_DIR/cap-phys" | awk '
		{ n = split($1, a, "."); port = a[n] }
		$5 ~ /S/ {
			if (!(port in open)) { conns++; used[port]++ }
			else if (open[port] != $7) {
				print "port " port ": SYN " $7 " while " open[port] " is open" > "/dev/stderr"
				bad++
			}
			open[port] = $7
		}
		$5 ~ /F/ { delete open[port] }
		END {
			for (p in used) { ports++; if (used[p] > 1) reused++ }
			printf "%d %d %d %d\n", conns, ports, reused, bad
		}')
	read -r conns nports reused bad <<<"$tally"
	echo "# $conns connections on $nports ports, $reused ports taken over from closed connections" >&3
	[ "$bad" -eq 0 ]
	[ "$conns" -eq $((3 * n)) ]
	ports=$(grep -oE "$ADDR\.[0-9]+ > 198\.51\.100\.1\.7000" "$NET_DIR/cap-phys" |
		awk -F'[. ]' '{ print $5 }' | sort -un)
	local held="" b
	for h in h1 h2 h3; do held+=" $(blocks_in_zk "$h")"; done
	for p in $ports; do
		b=$((p / 64))
		[[ " $held " == *" $b "* ]] || { echo "port $p: block $b held by no host ($held)" >&2; false; }
	done
}
