#!/usr/bin/env bats
# What agents report of their hosts (docs/zookeeper.md, "Host status"): the state of each
# binding, the host's interfaces, tunnel zone members whose address is not on the host;
# deleting a dead host; the order hosts list in; a bridge's MAC table. Real agents in host
# namespaces, as in l2_overlay.bats.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent tests/topo-helper
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
	# each test on an empty tree: aliases (host0, tzone0, bridge0) are the test's own
	helper wipe
}

teardown() {
	e2e_teardown
	return 0
}

helper() { MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" "$@"; }

# binding_is HOST IF STATE: `host H list binding` shows IF's binding in STATE.
binding_is() {
	mx host "$(agent_name "$1")" list binding | grep -qxE "host host[0-9]+ interface $2 port \S+ state $3"
}

# reported HOST: its agent lists its interfaces (the underlay among them).
reported() {
	mx host "$(agent_name "$1")" list interface 2>/dev/null | grep -q '^iface ul0 '
}

# json_check JSON PYTHON-EXPR: the expression holds for the parsed JSON `j`.
json_check() {
	python3 -c 'import json, sys; j = json.loads(sys.argv[1]); assert eval(sys.argv[2]), j' "$1" "$2"
}

@test "binding state: missing, then active once the interface appears (logged once), down, MTU" {
	e2e_hosts "$TZ" h1=192.0.2.1
	local h p log=$NET_DIR/h1.agent.log
	h=$(agent_name h1)
	mx bridge create name "$BR"
	p=$(mx bridge "$BR" add port)
	run -0 mx host "$h" add binding port "$p" interface v11
	wait_until 20 binding_is h1 v11 "inactive: interface missing"
	run -0 mx --json host "$h" list binding
	json_check "$output" 'j[0]["state"] == "inactive" and j[0]["reason"] == "interface missing" and j[0]["interface"] == "v11"'

	net_vm_add h1 v11 10.0.0.11/24
	wait_until 20 binding_is h1 v11 active
	run -0 mx --json host "$h" list binding
	json_check "$output" 'j[0]["state"] == "active" and "reason" not in j[0]'
	# each change logged once, however often the agent passed meanwhile
	[ "$(grep -c 'binding v11: inactive: interface missing' "$log")" -eq 1 ]
	[ "$(grep -c 'binding v11: active' "$log")" -eq 1 ]

	ip -n "$NET_RUN-h1" link set v11 down
	wait_until 20 binding_is h1 v11 "inactive: interface down"
	ip -n "$NET_RUN-h1" link set v11 up
	wait_until 20 binding_is h1 v11 active
	# frames of 1500 bytes do not fit the 1500-byte underlay once in VXLAN
	ip -n "$NET_RUN-h1" link set v11 mtu 1500
	wait_until 20 binding_is h1 v11 "inactive: MTU 1500 above 1450 \(the tunnel interface's 1500 less 50 of VXLAN\)"
	[ "$(grep -c 'binding v11: active' "$log")" -eq 2 ]
}

@test "host interfaces: state, MTU, MAC and addresses, as text and JSON" {
	e2e_hosts "$TZ" h1=192.0.2.1
	local h mac
	h=$(agent_name h1)
	mac=$(ip -n "$NET_RUN-h1" -br link show ul0 | awk '{ print $3 }')
	ip -n "$NET_RUN-h1" addr add 198.51.100.7/24 dev ul0
	wait_until 20 eval 'mx host "$h" list interface | grep -qx "iface ul0 host host0 state up mtu 1500 mac $mac addresses 192.0.2.1/24,198.51.100.7/24,fe80::[0-9a-f:]*/64"'
	run -0 mx host "$h" list interface
	[[ "$output" == *"iface lo host host0 state up mtu 65536 addresses 127.0.0.1/8"* ]]
	ip -n "$NET_RUN-h1" link set ul0 mtu 1400
	wait_until 20 eval 'mx host "$h" list interface | grep -q "^iface ul0 host host0 state up mtu 1400 "'
	run -0 mx --json host "$h" list interface
	json_check "$output" '[i for i in j if i["name"] == "ul0" and i["mtu"] == 1400 and i["state"] == "up" and "198.51.100.7/24" in i["addresses"] and i["mac"] == "'"$mac"'" and i["host_alias"] == "host0"]'
}

@test "tunnel-zone member: an address not on the host is a warning, and shown in list member" {
	e2e_hosts "$TZ" h1=192.0.2.1
	local h
	h=$(agent_name h1)
	mx tunnel-zone create name "$TZ-b"
	wait_until 20 reported h1
	run -0 --separate-stderr mx tunnel-zone "$TZ-b" add member host "$h" address 203.0.113.9
	[ "$output" = "zone tzone1 host host0 address 203.0.113.9 state warning: address not on the host" ]
	[ "$stderr" = "midox: warning: address 203.0.113.9 is not on host $h: tunnels to it will not work until it is" ]
	run -0 --separate-stderr mx tunnel-zone "$TZ" list member
	[ "$output" = "zone tzone0 host host0 address 192.0.2.1 state ok" ]
	[ -z "$stderr" ]
	run -0 mx --json tunnel-zone "$TZ-b" list member
	json_check "$output" 'j[0]["state"] == "warning" and j[0]["reason"] == "address not on the host"'
	# once the address is there, it is fine
	ip -n "$NET_RUN-h1" addr add 203.0.113.9/24 dev ul0
	wait_until 20 eval 'mx tunnel-zone "$TZ-b" list member | grep -qx "zone tzone1 host host0 address 203.0.113.9 state ok"'
}

@test "host delete: refused while alive; after its session expired, with bindings and memberships" {
	mx tunnel-zone create name "$TZ"
	net_host_add h1 192.0.2.1
	agent_start h1 MIDOX_ZK_SESSION_TIMEOUT_MS=4000
	agent_wait_ready h1
	local h p
	h=$(agent_name h1)
	mx tunnel-zone "$TZ" add member host "$h" address 192.0.2.1
	mx bridge create name "$BR"
	p=$(mx bridge "$BR" add port)
	mx host "$h" add binding port "$p" interface v11
	wait_until 20 binding_is h1 v11 "inactive: interface missing"

	run -2 --separate-stderr mx host "$h" delete
	[ "$stderr" = "midox: error: host host0 ($h) is alive: its agent holds a session; stop the agent and wait for its session to expire" ]
	mx host list | grep -qx "host host0 name $h alive true"

	# a stopped agent leaves its session for the next one: alive until it expires
	agent_stop h1
	wait_until 20 not_alive h1
	run -0 mx host "$h" list binding
	[ "$output" = "host host0 interface v11 port $p state unknown: agent not running" ]
	run -0 mx host "$h" delete
	run -0 mx host list
	[ -z "$output" ]
	run -0 mx tunnel-zone "$TZ" list member
	[ -z "$output" ]
	run -0 mx bridge "$BR" port port0 show
	[[ "$output" != *" host "* ]]
	helper dump | { ! grep -q "/hosts/$(cat "$NET_DIR/h1.host-id")"; }

	# a host whose agent never ran (registered, its session closed)
	helper register 0f000000-0000-4000-8000-00000000000f "$NET_RUN-ghost"
	run -0 mx host "$NET_RUN-ghost" delete
	expect_gone "$NET_RUN-ghost"
	run -2 mx host "$NET_RUN-ghost" delete
}

not_alive() { ! agent_alive "$1"; }
expect_gone() { ! mx host list | grep -q "name $1 "; }

@test "hosts list by name, then id, whatever order they registered in" {
	helper register 0a000000-0000-4000-8000-00000000000b "$NET_RUN-zeta"
	helper register 0a000000-0000-4000-8000-00000000000c "$NET_RUN-alpha"
	helper register 0a000000-0000-4000-8000-00000000000a "$NET_RUN-mid"
	helper register 0a000000-0000-4000-8000-000000000009 "$NET_RUN-alpha"
	run -0 mx --json host list
	json_check "$output" '[h["id"][-2:] for h in j if h["name"].startswith("'"$NET_RUN"'")] == ["09", "0c", "0a", "0b"]'
	run -0 mx host list
	[ "${lines[0]}" = "host host0 name $NET_RUN-alpha alive false" ]
	[ "${lines[3]}" = "host host3 name $NET_RUN-zeta alive false" ]
}

@test "bridge mac-table: static and learned entries from two hosts, text and JSON" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	mx bridge "$BR" add port mac 02:00:00:00:00:aa address 10.0.0.99
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
	local m11 m21
	m11=$(net_mac v11) m21=$(net_mac v21)
	wait_until 20 eval 'mx bridge "$BR" list mac-table | grep -qx "mac $m21 port port2 type learned host host1"'
	wait_until 20 eval 'mx bridge "$BR" list mac-table | grep -qx "mac $m11 port port1 type learned host host0"'
	run -0 mx bridge "$BR" list mac-table
	[ "${lines[0]}" = "mac 02:00:00:00:00:aa port port0 type static" ]
	[ "${#lines[@]}" -eq 3 ]
	run -0 mx --json bridge "$BR" list mac-table
	json_check "$output" 'j[0]["type"] == "static" and j[0]["port_alias"] == "bridge0:port0" and "host" not in j[0]'
	json_check "$output" '{(e["mac"], e["host_alias"]) for e in j[1:]} == {("'"$m11"'", "host0"), ("'"$m21"'", "host1")}'
}
