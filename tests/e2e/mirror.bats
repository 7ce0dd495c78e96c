#!/usr/bin/env bats
# The mirror (tools/lib/topology/mirror.c) against a real ZooKeeper. After every kind of change
# another client makes, a read through it equals a direct read of the whole tree (the same
# objects, fields, order, skipped count and versions) and asks ZooKeeper only for what
# changed; what is deleted leaves it; a CLI session sees its own writes at once and those
# of others once their watch events arrive.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }

setup() {
	cli_setup
	MIRROR_OUT=$BATS_TEST_TMPDIR/mirror.out
	local rc=0
	helper_session mirror 8 mirror || rc=$?
	MIRROR_PID=$HELPER_PID
	return "$rc"
}

teardown() {
	[ -z "${SESSION_PID:-}" ] || { exec 9>&-; wait "$SESSION_PID" || true; }
	exec 8>&-
	[ -z "${MIRROR_PID:-}" ] || wait "$MIRROR_PID" || true
	cli_teardown
}

# One read through the mirror, compared with a direct one: sets DIFF ("equal" or the first
# array that differs), ASKED, SERVED, NODES.
mirror_read() {
	local n i
	n=$(wc -l <"$MIRROR_OUT")
	echo read >&8
	for i in $(seq 1 100); do
		[ "$(wc -l <"$MIRROR_OUT")" -gt "$n" ] && break
		kill -0 "$MIRROR_PID" || { cat "$BATS_TEST_TMPDIR/mirror.err"; return 1; }
		sleep 0.05
	done
	read -r DIFF _ ASKED _ SERVED _ NODES < <(tail -1 "$MIRROR_OUT")
	echo "mirror: $DIFF asked $ASKED served $SERVED nodes $NODES"
	[ -n "$NODES" ]
}

# Reads until one equals the direct read (the change's watch event may still be on its
# way), 5 s at most; ASKED_ALL is what they asked for together.
mirror_settled() {
	local i
	ASKED_ALL=0
	for i in $(seq 1 50); do
		mirror_read || return 1
		ASKED_ALL=$((ASKED_ALL + ASKED))
		[ "$DIFF" = equal ] && return 0
		sleep 0.1
	done
	return 1
}

# Some of everything: make_topology's zone, bridge and binding, and router0 with two ports,
# a route, a static ARP entry and a link to bridge0.
make_mixed_topology() {
	make_topology
	midox router create name r1
	midox router r1 add port address 192.168.1.1 net 192.168.1.0/24
	midox router r1 add port address 198.51.100.1 net 198.51.100.0/30
	midox router r1 add route dst 203.0.113.0/24 port router0:port1 gw 198.51.100.2
	midox router r1 add arp-entry address 198.51.100.2 mac 02:00:00:00:00:99
	midox router0:port0 set peer bridge0:port1
}

@test "a read through the mirror equals a direct read; the next asks for nothing" {
	make_mixed_topology
	mirror_settled
	local nodes=$NODES
	[ "$nodes" -ge 30 ]
	mirror_read
	[ "$DIFF" = equal ]
	[ "$ASKED" -eq 0 ]
	[ "$SERVED" -ge "$nodes" ]
	[ "$NODES" -eq "$nodes" ]
}

@test "every kind of change is seen, asking only for what changed; what goes leaves it" {
	make_mixed_topology
	mirror_settled
	local start=$NODES c
	local -a changes=(
		"bridge create name green"
		"bridge green add port"
		"bridge green port port0 set mac 02:00:00:00:00:31 address 10.1.0.3"
		"host hostb add binding port bridge1:port0 interface veth9"
		"tunnel-zone underlay delete member host hostb"
		"tunnel-zone underlay add member host hostb address 10.0.0.3"
		"router r1 add port address 10.9.0.1 net 10.9.0.0/24"
		"router r1 add route dst 10.8.0.0/16 port router0:port2 gw 10.9.0.2"
		"router r1 add arp-entry address 10.9.0.2 mac 02:00:00:00:00:77"
		"router r1 route router0:route4 delete"
		"router r1 arp-entry 10.9.0.2 delete"
		"router0:port0 delete peer"
		"host hostb delete binding interface veth9"
		"bridge green port port0 delete"
		"router r1 port port2 delete"
		"bridge green delete"
		"chain create name fw"
		"port-group create name web stateful true"
		"port-group web add member port bridge0:port0"
		"ip-address-group create name ext"
		"ip-address-group ext add ip address 192.0.2.9"
		"chain fw add rule type drop src 10.0.0.0/8 port-group web"
		"chain fw add rule pos 1 type accept ip-address-group-src !ext"
		"router r1 set infilter fw"
		"bridge blue port port0 set outfilter fw"
		"bridge blue port port0 clear outfilter"
		"router r1 clear infilter"
		"chain fw rule rule0 delete"
		"chain fw delete"
		"port-group web delete"
		"ip-address-group ext delete"
	)
	for c in "${changes[@]}"; do
		echo "change: $c"
		midox --force $c
		mirror_settled
		# Each change touches a few nodes and their directories; the tree has dozens.
		[ "$ASKED_ALL" -le 12 ]
	done
	# Back to the topology it started from: the nodes of what was deleted are gone.
	[ "$NODES" -eq "$start" ]
}

@test "an agent's liveness and what it learned are seen, and go with its session" {
	make_mixed_topology
	mirror_settled
	local start=$NODES
	hold_host "$HOST_B" hostb "$(id_of bridge blue)" 02:00:00:00:00:42 \
		"$(id_of bridge blue port port0)" arp "$(id_of router r1)" 192.168.1.7 \
		02:00:00:00:00:43 "$(id_of router r1 port port0)"
	mirror_settled
	[ "$ASKED_ALL" -le 12 ]
	run -0 midox host hostb show
	[[ "$output" == *"alive true"* ]]
	exec 7>&-
	wait "$HOLD_PID"
	HOLD_PID=
	# The ephemeral nodes go when the session is closed.
	mirror_settled
	[ "$NODES" -eq "$start" ]
}

@test "a host without its learned-state directories costs no read once seen, until they come" {
	make_mixed_topology
	# A host written by a tool or an older version without macs, arp and bgp_routes: a
	# listing cannot watch a missing node, so the mirror watches its existence instead.
	local d
	for d in macs arp bgp_routes; do
		"$HELPER" delete "/midox/hosts/$HOST_B/$d"
	done
	mirror_settled
	local nodes=$NODES
	mirror_read
	[ "$DIFF" = equal ]
	[ "$ASKED" -eq 0 ]
	# Made again (as an agent makes them), they are listed again, and what is in them read:
	# a mirror that missed their creation would never equal the direct read.
	for d in macs arp bgp_routes; do
		"$HELPER" put "/midox/hosts/$HOST_B/$d" ''
	done
	hold_host "$HOST_B" hostb "$(id_of bridge blue)" 02:00:00:00:00:42 \
		"$(id_of bridge blue port port0)" arp "$(id_of router r1)" 192.168.1.7 \
		02:00:00:00:00:43 "$(id_of router r1 port port0)"
	mirror_settled
	[ "$ASKED_ALL" -ge 1 ]
	[ "$NODES" -gt "$nodes" ]
	exec 7>&-
	wait "$HOLD_PID"
	HOLD_PID=
}

# The bindings taken from their host's index, of all the snapshot's: "N of M".
indexed_is() {
	run -0 "$HELPER" indexed
	echo "indexed: $output (want $1)"
	[ "$output" = "$1" ]
}

@test "bindings come from their host's index; an older writer's are read from their nodes" {
	make_topology
	midox bridge blue add port
	midox bridge blue add port
	midox host hosta add binding port bridge0:port1 interface veth1
	mirror_settled
	indexed_is "2 of 2"
	# An older writer binds without the index: the host's bindings are read node by node,
	# the new one included, through the mirror as directly.
	local host port dir
	host=$(id_of host hosta)
	port=$(id_of bridge blue port port2)
	dir=/midox/hosts/$host/bindings
	"$HELPER" put "$dir/vold" "{\"port\":\"$port\",\"schema\":1}"
	"$HELPER" put "/midox/ports/$port/binding" \
		"{\"host\":\"$host\",\"interface\":\"vold\",\"schema\":1}"
	mirror_settled
	indexed_is "0 of 3"
	run -0 midox host hosta list binding
	[[ "$output" == *"vold"* ]]
	# The next write through the library makes the index whole again.
	midox host hosta add binding port bridge0:port3 interface veth3
	mirror_settled
	indexed_is "4 of 4"
	# An older writer's unbind: the index is stale again; the binding is gone either way.
	"$HELPER" delete "$dir/vold"
	"$HELPER" delete "/midox/ports/$port/binding"
	mirror_settled
	indexed_is "0 of 3"
	run -0 midox host hosta list binding
	[[ "$output" != *"vold"* ]]
	midox host hosta delete binding interface veth3
	mirror_settled
	indexed_is "2 of 2"
}

@test "an index that does not match its bindings is not trusted" {
	make_topology
	mirror_settled
	indexed_is "1 of 1"
	local host port dir index synced
	host=$(id_of host hosta)
	port=$(id_of bridge blue port port0)
	dir=/midox/hosts/$host/bindings
	index=$("$HELPER" dump | awk -v d="$dir" '$1 == d { print $3 }')
	echo "index: $index"
	synced=$(json_get '["synced"]' <<<"$index")
	[ "$(json_get '["bindings"][0][1]' <<<"$index")" = "$port" ]
	# Written back by hand as it was (a data write leaves the cversion): trusted.
	"$HELPER" put "$dir" "{\"bindings\":[[\"veth0\",\"$port\",0]],\"schema\":1,\"synced\":$synced}"
	mirror_settled
	indexed_is "1 of 1"
	local bad
	for bad in \
		"{\"bindings\":[[\"veth0\",\"$port\",0]],\"schema\":1,\"synced\":$((synced + 1))}" \
		"{\"bindings\":[[\"vethx\",\"$port\",0]],\"schema\":1,\"synced\":$synced}" \
		"{\"bindings\":[[\"veth0\",\"$port\",0],[\"veth1\",\"$port\",0]],\"schema\":1,\"synced\":$synced}" \
		"{\"bindings\":[[\"veth0\",\"$port\",0]],\"schema\":1,\"synced\":$synced" \
		'{"schema":1}'; do
		echo "bad index: $bad"
		"$HELPER" put "$dir" "$bad"
		mirror_settled
		indexed_is "0 of 1"
		run -0 midox host hosta list binding
		[[ "$output" == *"veth0"* ]]
		[ "$("$HELPER" skipped)" = 0 ]
	done
}

@test "a node that does not parse is skipped through the mirror too, and taken once fixed" {
	make_mixed_topology
	mirror_settled
	local id=0c000000-0000-4000-8000-00000000000c
	"$HELPER" put "/midox/bridges/$id" '{"schema":1,"name":7}'
	mirror_settled
	run -0 "$HELPER" skipped
	[ "${lines[-1]}" = 1 ]
	"$HELPER" put "/midox/bridges/$id" '{"schema":1,"name":"fixed","tunnel_key":77}'
	mirror_settled
	[ "$ASKED_ALL" -le 4 ]
	run -0 midox bridge fixed show
}

@test "one CLI session sees its own writes at once" {
	# -e commands run in one process, on one session and one mirror: each command reads
	# right after the previous one's commit, before its watch events may have arrived.
	run -0 midox -e "bridge create name a" -e "bridge a add port" -e "bridge a add port" \
		-e "bridge a list port" -e "host hosta add binding port a:port1 interface v1" \
		-e "host hosta list binding" -e "bridge a port port0 delete" -e "bridge a list port"
	echo "$output"
	[ "${lines[0]}" = bridge0 ]
	[ "${lines[1]}" = bridge0:port0 ]
	[ "${lines[2]}" = bridge0:port1 ]
	[ "${lines[3]}" = "port port0 device bridge0 state up" ]
	[ "${lines[4]}" = "port port1 device bridge0 state up" ]
	[[ "${lines[5]}" == *"interface v1"* ]]
	[[ "${lines[6]}" == *"interface v1"* ]]
	[ "${#lines[@]}" -eq 9 ]
	[ "${lines[7]}" = "deleted port bridge0:port0" ]
	# the port left keeps the alias this session printed for it
	[ "${lines[8]}" = "port port1 device bridge0 state up" ]
}

# session_list: "bridge list" in the long session; its answer (the lines before the
# sentinel, a "bridge a show") in LISTED.
session_list() {
	local out=$BATS_TEST_TMPDIR/session.out n i
	n=$(grep -c ' id ' "$out" || true)
	echo "bridge list" >&9
	echo "bridge a show" >&9
	for i in $(seq 1 100); do
		[ "$(grep -c ' id ' "$out" || true)" -gt "$n" ] && break
		sleep 0.05
	done
	[ "$(grep -c ' id ' "$out" || true)" -gt "$n" ]
	LISTED=$(awk -v n="$n" '/ id / { s++; next } s == n { print }' "$out")
}

@test "a long CLI session sees another client's writes" {
	mkfifo "$BATS_TEST_TMPDIR/session.in"
	"$MIDOX" <"$BATS_TEST_TMPDIR/session.in" >"$BATS_TEST_TMPDIR/session.out" 2>&1 8>&- &
	SESSION_PID=$!
	exec 9>"$BATS_TEST_TMPDIR/session.in"
	echo "bridge create name a" >&9
	session_list
	[ "$LISTED" = "bridge0
bridge bridge0 name a state up" ]
	# another process writes; the session lists until it sees it (its watch fired)
	midox bridge create name b
	local i
	for i in $(seq 1 50); do
		session_list
		[[ "$LISTED" == *"name b"* ]] && break
		sleep 0.1
	done
	[ "$LISTED" = "bridge bridge0 name a state up
bridge bridge1 name b state up" ]
	# and a delete elsewhere
	midox bridge b delete
	for i in $(seq 1 50); do
		session_list
		[[ "$LISTED" != *"name b"* ]] && break
		sleep 0.1
	done
	[ "$LISTED" = "bridge bridge0 name a state up" ]
}

@test "a large tree: thousands of nodes in and out of the mirror" {
	# Past the table's first sizes (1024 buckets, doubled at one node a bucket), then all
	# swept at once.
	midox router create name big
	midox router big add port address 10.255.0.1 net 10.255.0.0/24
	mirror_settled
	local start=$NODES i
	local -a cmds=()
	for i in $(seq 0 2499); do
		cmds+=(-e "router big add route dst 10.$((i / 256)).$((i % 256)).0/24 port router0:port0 gw 10.255.0.2")
	done
	midox "${cmds[@]}" >/dev/null
	mirror_settled
	[ "$NODES" -eq $((start + 2500)) ]
	mirror_read
	[ "$DIFF" = equal ]
	[ "$ASKED" -eq 0 ]
	midox router big delete
	mirror_settled
	[ "$NODES" -lt "$start" ]
}
