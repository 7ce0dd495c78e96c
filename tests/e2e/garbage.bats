#!/usr/bin/env bats
# Garbage in ZooKeeper (issue 5, "Bad input"): the agent, fed znodes it cannot parse (invalid,
# truncated, wrongly typed, missing fields, out-of-range keys, a value near ZooKeeper's 1 MB
# limit) and objects whose references do not resolve, logs each one by its path (or id), skips
# it and keeps forwarding the rest (docs/zookeeper.md, "A reader that meets a node it cannot
# parse"). Two hosts as in l2_overlay.bats, v11 (h1) and v21 (h2) on one bridge, a continuous
# ping between them while the garbage is written:
#   - every garbage object is named in a "skipping" line of each agent's log, written after
#     the garbage was (lines before it do not count), and the topology library's own count of
#     skipped objects (topo-helper skipped) is exactly the number written;
#   - the ping loses nothing (exact count);
#   - both agents are the same processes as before (PID) and alive in `midox host list`;
#   - a valid change made afterwards, beside the garbage (a new port and binding), forwards;
#   - `midox-agent --verify` passes on both hosts.
# Raw nodes go in through tests/topo-helper put (the topology library is bypassed on purpose)
# and, for the 1 MB value (over the kernel's 128 KiB cap on one argument), tests/zk-put-stdin.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent tests/topo-helper tests/zk-put-stdin
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
	declare -gA PORT=()
	GARBAGE=()	# "path" or "port ID" / "binding of interface IF" ...: what each agent must log
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NET_DIR:-}" ]; then
		local f
		for f in "$NET_DIR"/verify-*; do
			[ -e "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
		done
		[ -e "$NET_DIR/ping" ] && { echo "--- ping" >&2; tail -5 "$NET_DIR/ping" >&2; }
	fi
	e2e_teardown
	return 0
}

helper() {
	MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" "$@"
}

# put PATH DATA: a raw node, named in the garbage list by its path.
put() {
	helper put "$1" "$2"
	GARBAGE+=("$1: ")
}

uuid() { cat /proc/sys/kernel/random/uuid; }

# logged_since HOST LINE TEXT: HOST's agent log, after its first LINE lines, has a line
# "skipping TEXT".
logged_since() {
	tail -n +"$(($2 + 1))" "$NET_DIR/$1.agent.log" | grep -qF -- "skipping $3"
}

# all_logged HOST LINE: every garbage object is in HOST's log after LINE.
all_logged() {
	local g
	for g in "${GARBAGE[@]}"; do
		logged_since "$1" "$2" "$g" || return 1
	done
}

@test "garbage znodes are logged and skipped; forwarding, agents, later changes and verify unharmed" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
	wait_until 20 agent_verify h1
	wait_until 20 agent_verify h2
	run -0 --separate-stderr helper skipped
	[ "$output" = 0 ]

	local pid1 pid2 l1 l2 br_id br_key tz_id h1_id h2_id p21_key id
	pid1=$(agent_pid h1)
	pid2=$(agent_pid h2)
	l1=$(wc -l <"$NET_DIR/h1.agent.log")
	l2=$(wc -l <"$NET_DIR/h2.agent.log")
	br_id=$(mx bridge "$BR" show | sed -n 's/.* id \([0-9a-f-]*\) .*/\1/p')
	br_key=$(mx bridge "$BR" show | sed -n 's/.* tunnel-key \([0-9]*\).*/\1/p')
	tz_id=$(mx tunnel-zone "$TZ" show | sed -n 's/.* id \([0-9a-f-]*\) .*/\1/p')
	h1_id=$(cat "$NET_DIR/h1.host-id")
	h2_id=$(cat "$NET_DIR/h2.host-id")
	p21_key=$(port_key h2 v21)
	[ -n "$br_id" ]
	[ -n "$br_key" ]
	[ -n "$tz_id" ]
	[ -n "$p21_key" ]

	# 2500 pings, one every 10 ms, across the whole garbage phase
	net_bg v11 "$NET_DIR/ping" ping -q -c 2500 -i 0.01 -W 2 10.0.0.21
	local ping_pid=$NET_BG_PID

	# bridges: not JSON, truncated, empty, an array, wrong types and values, missing fields,
	# another schema, a name that is not an id, the reserved keys
	put "/midox/bridges/$(uuid)" 'this is not json'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gtrunc","tunnel_ke'
	put "/midox/bridges/$(uuid)" ''
	put "/midox/bridges/$(uuid)" '[1,2,3]'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeystr","tunnel_key":"7"}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeyneg","tunnel_key":-5}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeybig","tunnel_key":16777216}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeyres","tunnel_key":16777215}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeyzero","tunnel_key":0}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gkeyfloat","tunnel_key":7.5}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"gnokey"}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"tunnel_key":4001}'
	put "/midox/bridges/$(uuid)" '{"name":"gnoschema","tunnel_key":4002}'
	put "/midox/bridges/$(uuid)" '{"schema":2,"name":"gschema2","tunnel_key":4003}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":42,"tunnel_key":4004}'
	put "/midox/bridges/$(uuid)" '{"schema":1,"name":"bad name!","tunnel_key":4005}'
	put "/midox/bridges/not-an-id" '{"schema":1,"name":"gnotid","tunnel_key":4006}'
	# a value near ZooKeeper's 1 MB limit (jute.maxbuffer 0xfffff): a bridge whose name is
	# almost all of it, otherwise well formed
	id=$(uuid)
	{
		printf '{"schema":1,"tunnel_key":4007,"name":"'
		head -c 1000000 /dev/zero | tr '\0' a
		printf '"}'
	} | MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/zk-put-stdin" "/midox/bridges/$id"
	GARBAGE+=("/midox/bridges/$id: data larger than any object")
	# ports: wrong device type, wrong types, a bad MAC, a bad address, missing fields
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device\":\"$br_id\",\"device_type\":\"switch\",\"tunnel_key\":4010}"
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device\":\"$br_id\",\"device_type\":\"bridge\",\"tunnel_key\":\"4011\"}"
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device\":\"$br_id\",\"device_type\":\"bridge\",\"tunnel_key\":4012,\"mac\":\"zz:00:00:00:00:01\"}"
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device\":\"$br_id\",\"device_type\":\"bridge\",\"tunnel_key\":4013,\"address\":\"10.0.0.300\"}"
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device_type\":\"bridge\",\"tunnel_key\":4014}"
	put "/midox/ports/$(uuid)" "{\"schema\":1,\"device\":\"$br_id\",\"device_type\":\"bridge\",\"tunnel_key\":{\"k\":1}}"
	# a port of a bridge that is not there
	id=$(uuid)
	helper put "/midox/ports/$id" "{\"schema\":1,\"device\":\"$(uuid)\",\"device_type\":\"bridge\",\"tunnel_key\":4015}"
	GARBAGE+=("port $id: its device is not there")
	# bindings: of a port that is not there, a port that is not a string, an interface name
	# the kernel would refuse
	helper put "/midox/hosts/$h1_id/bindings/gb0" "{\"schema\":1,\"port\":\"$(uuid)\"}"
	GARBAGE+=("binding of interface gb0: its port is not there")
	put "/midox/hosts/$h2_id/bindings/gb1" '{"schema":1,"port":42}'
	put "/midox/hosts/$h1_id/bindings/gbnamemuchtoolong" "{\"schema\":1,\"port\":\"${PORT[v11]}\"}"
	# tunnel zone members: a bad address, a host that is not there
	put "/midox/tunnel_zones/$tz_id/members/$(uuid)" '{"schema":1,"address":"999.1.1.1"}'
	id=$(uuid)
	helper put "/midox/tunnel_zones/$tz_id/members/$id" '{"schema":1,"address":"192.0.2.77"}'
	GARBAGE+=("tunnel zone member $id: no such host")
	# a host node that is garbage
	put "/midox/hosts/$(uuid)" '{"schema":1,"name":'
	# rule chains: a chain with a bad name, rules MidoNet would refuse (a jump without its
	# target, an L4 rule matching every fragment, an inversion of nothing, a bad target), a
	# port group and an IP address group that do not parse, a member not named by a port id
	put "/midox/chains/$(uuid)" '{"schema":1,"name":"bad name!"}'
	local ch pg
	ch=$(mx --json chain create name gfw | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	pg=$(mx --json port-group create name gpg | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	[ -n "$ch" ]
	[ -n "$pg" ]
	put "/midox/chains/$ch/rules/$(uuid)" '{"schema":1,"pos":1,"type":"jump","fragment_policy":"any"}'
	put "/midox/chains/$ch/rules/$(uuid)" '{"schema":1,"pos":1,"type":"drop","fragment_policy":"any","dst_port":"80"}'
	put "/midox/chains/$ch/rules/$(uuid)" '{"schema":1,"pos":1,"type":"drop","fragment_policy":"any","invert":["src"]}'
	put "/midox/chains/$ch/rules/$(uuid)" '{"schema":1,"pos":1,"type":"dnat","action":"accept","fragment_policy":"any","target":"1.2.3.9-1.2.3.1"}'
	put "/midox/chains/$ch/rules/$(uuid)" 'not json'
	put "/midox/port_groups/$(uuid)" '{"schema":1,"name":"gpg2","stateful":"yes"}'
	put "/midox/ip_address_groups/$(uuid)" '{"schema":1}'
	put "/midox/port_groups/$pg/members/not-a-port" '{"schema":1}'
	echo "${#GARBAGE[@]} garbage objects written"

	# every agent logs each one, after the garbage was written
	wait_until 20 all_logged h1 "$l1"
	wait_until 20 all_logged h2 "$l2"
	# ... and the library counts exactly those as skipped
	run -0 --separate-stderr helper skipped
	[ "$output" = "${#GARBAGE[@]}" ]
	# ... as does each agent's own count of its last pass
	wait_until 10 grep -qF "${#GARBAGE[@]} objects could not be parsed and were skipped" "$NET_DIR/h1.agent.log"
	wait_until 10 grep -qF "${#GARBAGE[@]} objects could not be parsed and were skipped" "$NET_DIR/h2.agent.log"

	# the ping ran through it all and lost nothing
	kill -0 "$ping_pid"
	wait "$ping_pid" || true
	cat "$NET_DIR/ping"
	grep -q '2500 packets transmitted, 2500 received, 0% packet loss' "$NET_DIR/ping"

	# the same agents, alive
	[ "$(agent_pid h1)" = "$pid1" ] && agent_running h1
	[ "$(agent_pid h2)" = "$pid2" ] && agent_running h2
	agent_alive h1
	agent_alive h2

	# a valid change beside the garbage takes effect: a new VM on h2
	bridge_vm h2 v22 22
	wait_until 20 ping_all v11 10.0.0.22 2
	ping_all v11 10.0.0.22 20
	ping_all v22 10.0.0.21 20

	# the maps hold what the topology (without the garbage) implies
	wait_until 20 agent_verify h1
	wait_until 20 agent_verify h2
	run -0 agent_verify h1
	run -0 agent_verify h2
	[ "$(agent_pid h1)" = "$pid1" ] && agent_running h1
	[ "$(agent_pid h2)" = "$pid2" ] && agent_running h2
}

@test "duplicate tunnel keys written behind the CLI's back do not take over the valid objects" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
	local br_key p21_key dup_br dup_port pid1 pid2
	br_key=$(mx bridge "$BR" show | sed -n 's/.* tunnel-key \([0-9]*\).*/\1/p')
	p21_key=$(port_key h2 v21)
	pid1=$(agent_pid h1)
	pid2=$(agent_pid h2)
	[ -n "$br_key" ]
	[ -n "$p21_key" ]

	net_bg v11 "$NET_DIR/ping" ping -q -c 1500 -i 0.01 -W 2 10.0.0.21
	local ping_pid=$NET_BG_PID
	# a bridge with the valid bridge's key, and a port of it with v21's port key: well formed,
	# created after the valid ones
	dup_br=$(uuid)
	dup_port=$(uuid)
	helper put "/midox/bridges/$dup_br" "{\"schema\":1,\"name\":\"gdup\",\"tunnel_key\":$br_key}"
	helper put "/midox/ports/$dup_port" "{\"schema\":1,\"device\":\"$dup_br\",\"device_type\":\"bridge\",\"tunnel_key\":$p21_key}"
	kill -0 "$ping_pid"
	wait "$ping_pid" || true
	cat "$NET_DIR/ping"
	grep -q '1500 packets transmitted, 1500 received, 0% packet loss' "$NET_DIR/ping"
	# the datapath still sends v21's key to h2 as v21's port (the first object holding a key
	# keeps it)
	map_has h1 midox_port_v2 "any(.[]; .key == $p21_key and .value.host_addr == $(be32 192.0.2.2) and .value.device_key == $br_key)"
	ping_all v11 10.0.0.21 20
	[ "$(agent_pid h1)" = "$pid1" ] && agent_running h1
	[ "$(agent_pid h2)" = "$pid2" ] && agent_running h2
	agent_alive h1
	agent_alive h2
	wait_until 20 agent_verify h1
	wait_until 20 agent_verify h2
	# each agent logged both later claimants and left them out
	local h
	for h in h1 h2; do
		grep -q "skipping bridge $dup_br: its tunnel key $br_key belongs to an earlier object" \
			"$NET_DIR/$h.agent.log"
		grep -q "skipping port $dup_port: its tunnel key $p21_key belongs to an earlier object" \
			"$NET_DIR/$h.agent.log"
	done
}

# reported_iface HOST IF: `host H list interface` lists IF (stderr, the skip lines, aside).
reported_iface() {
	mx host "$(agent_name "$1")" list interface 2>/dev/null | grep -q "^iface $2 "
}

@test "garbage host status nodes: the CLI logs and skips each, lists the rest; a restarted agent reports again" {
	e2e_hosts "$TZ" h1=192.0.2.1
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	local h h1_id port s b i
	h=$(agent_name h1)
	h1_id=$(cat "$NET_DIR/h1.host-id")
	wait_until 20 reported_iface h1 v11
	wait_until 20 eval "mx host '$h' list binding | grep -q ' interface v11 .* state active$'"
	s=/midox/hosts/$h1_id/interfaces
	b=/midox/hosts/$h1_id/binding_status
	port=$(uuid)
	# persistent nodes where the agent writes ephemeral ones: not JSON, another schema,
	# wrong types, a bad address, missing fields, a name no interface has
	put "$s/gx0" 'this is not json'
	put "$s/gx1" '{"schema":2,"up":true,"carrier":true,"mtu":1500,"addresses":[]}'
	put "$s/gx2" '{"schema":1,"up":"yes","carrier":true,"mtu":1500,"addresses":[]}'
	put "$s/gx3" '{"schema":1,"up":true,"carrier":true,"mtu":1500,"addresses":["10.0.0.1"]}'
	put "$s/gx4" '{"schema":1,"up":true,"carrier":true,"addresses":[]}'
	put "$s/gxnamemuchtoolong" '{"schema":1,"up":true,"carrier":true,"mtu":1500,"addresses":[]}'
	put "$b/gx5" '{"schema":1,"port":"not-a-uuid","state":"active"}'
	put "$b/gx6" "{\"schema\":1,\"port\":\"$port\",\"state\":\"up\"}"
	put "$b/gx7" "{\"schema\":1,\"port\":\"$port\"}"
	put "$b/gx8" ''

	# each named at debug level, a count on stderr otherwise; the rest listed
	run -0 --separate-stderr mx host "$h" list interface
	[ "$stderr" = "midox: warning: 10 status nodes of host $h do not parse and are left out (MIDOX_DEBUG=1 names them)" ]
	[[ "$output" == *"iface v11 host "* ]]
	[[ "$output" == *"iface ul0 host "* ]]
	[[ "$output" != *"iface gx"* ]]
	run -0 --separate-stderr env MIDOX_DEBUG=1 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" host "$h" list interface
	for i in 0 1 2 3 4 namemuchtoolong; do
		[[ "$stderr" == *"skipping $s/gx$i: "* ]]
	done
	for i in 5 6 7 8; do
		[[ "$stderr" == *"skipping $b/gx$i: "* ]]
	done
	run -0 --separate-stderr mx host "$h" list binding
	[[ "$stderr" == *"10 status nodes of host $h do not parse"* ]]
	[[ "$output" =~ ^host\ host[0-9]+\ interface\ v11\ port\ [^\ ]+\ state\ active$ ]]
	run -0 --separate-stderr mx --json host "$h" list interface
	python3 -c 'import json, sys; n = [i["name"] for i in json.loads(sys.argv[1])]; assert "v11" in n and not [x for x in n if x.startswith("gx")], n' "$output"

	# a new session's first report removes what an earlier process left, except the name
	# no agent writes (logged), and still reports
	agent_restart h1
	agent_wait_alive h1
	wait_until 20 reported_iface h1 v11
	wait_until 20 eval "mx host '$h' list binding 2>/dev/null | grep -q ' interface v11 .* state active$'"
	wait_until 20 grep -qF 'skipping status node gxnamemuchtoolong: not an interface name' "$NET_DIR/h1.agent.log"
	# (its clean-up is done when only that node is left; it can trail the report on a busy
	# machine)
	wait_until 20 eval "mx host '$h' list interface 2>&1 >/dev/null | grep -qF ' 1 status nodes of host $h do not parse'"
	run -0 --separate-stderr env MIDOX_DEBUG=1 "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" host "$h" list interface
	[[ "$stderr" == *"skipping $s/gxnamemuchtoolong: "* ]]
	[[ "$stderr" != *"$s/gx0"* ]] && [[ "$stderr" != *"$b/gx5"* ]]
}
