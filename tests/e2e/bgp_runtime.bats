#!/usr/bin/env bats
# BGP uplinks changed at run time (docs/bgp.md), on the scenario of tests/e2e/bgp.bats
# (bgp_scenario, tests/lib/bgp.bash: router RT, AS 100, its uplink bound on h1 to a physical
# LAN with two upstream BIRDs of AS 3, up1 and up2; the VMs on h2): networks and peers added
# and deleted, the AS number changed, a wrong AS number and a wrong password, the binding
# moved to another host. Real ZooKeeper, real agents, real BIRD on both sides, the real
# datapath.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/bgp'

setup_file() {
	bgp_setup_file
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	RT=$NET_RUN-r
	BR=$NET_RUN-t
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		mx router "$RT" list bgp-peer >&2 2>/dev/null || true
		mx router "$RT" list route >&2 2>/dev/null || true
		birdc_up up1 show protocols >&2 2>/dev/null || true
		birdc_up up2 show protocols >&2 2>/dev/null || true
		# Why a session changed state, from both upstreams and the speakers.
		grep -hiE 'state changed|Error|Received|Sending|Hold|Started|Reconfig|Shutdown|connect' \
			"$NET_DIR"/upstream-*.log "$NET_DIR"/*.bgp/*/bird.log 2>/dev/null | tail -40 >&2 || true
	fi
	bgp_cleanup
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_route midox_neigh midox_bgp
}

# up_learned NAME PREFIX: upstream NAME's kernel table routes PREFIX via the router port.
up_learned() { ip -n "$NET_RUN-$1" route show "$2" | grep -q "via 198.51.100.1"; }
learned_is() { [ "$(bgp_learned_count)" -eq "$1" ]; }
# peer_row ALIAS: peer ALIAS's row of `list bgp-peer`.
peer_row() { mx router "$RT" list bgp-peer | grep "^bgp-peer $1 "; }
peer_state_has() { peer_row "$1" | grep -q -- "$2"; }

@test "a bgp-network added and deleted: both upstreams' tables follow, the sessions stay up" {
	bgp_scenario
	wait_until 15 up_learned up1 10.0.0.0/24
	wait_until 15 up_learned up2 10.0.0.0/24
	since=$(birdc_up up1 show protocols midox | awk '$1 == "midox" { print $4, $5 }')
	mx router "$RT" add bgp-network net 10.0.1.0/24
	wait_until 15 up_learned up1 10.0.1.0/24
	wait_until 15 up_learned up2 10.0.1.0/24
	mx --force router "$RT" delete bgp-network net0
	wait_until 15 eval '! up_learned up1 10.0.0.0/24'
	wait_until 15 eval '! up_learned up2 10.0.0.0/24'
	up_learned up1 10.0.1.0/24
	# What the upstream learned from the router: the one network left.
	run -0 birdc_up up1 show route protocol midox
	echo "$output"
	[[ "$output" == *"10.0.1.0/24"* ]]
	[[ "$output" != *"10.0.0.0/24"* ]]
	# Reconfigured, not restarted: the session is the same one.
	[ "$(birdc_up up1 show protocols midox | awk '$1 == "midox" { print $4, $5 }')" = "$since" ]
	bgp_established up1
}

@test "a peer deleted: its session goes and its routes leave every host; added again (a new peer), both come back" {
	bgp_scenario
	wait_until 20 learned_is 4
	wait_until 10 bgp_hops_in_map h2 0.0.0.0/0 2
	wait_until 10 bgp_hops_in_map h1 0.0.0.0/0 2
	mx --force router "$RT" delete bgp-peer peer1
	# The speaker shuts the session down before the peer's steering entries go: up2 gets
	# its Cease (it does not wait for its hold time).
	wait_until 20 eval '! bgp_established up2'
	wait_until 5 grep -q "midox: Received: Administrative shutdown" "$NET_DIR/upstream-up2.log"
	run ! grep -q "Hold timer expired" "$NET_DIR/upstream-up2.log"
	bgp_established up1
	wait_until 10 learned_is 2
	wait_until 10 bgp_hops_in_map h2 0.0.0.0/0 1
	wait_until 10 bgp_hops_in_map h1 0.0.0.0/0 1
	wait_until 10 bgp_no_route_in_map h2 198.18.0.0/24
	wait_until 10 bgp_no_route_in_map h1 198.18.0.0/24
	run -0 mx router "$RT" list bgp-peer
	echo "$output"
	[ "$(grep -c '^bgp-peer ' <<<"$output")" -eq 1 ]
	ping_all vm11 203.0.113.1 3
	# Added again (a new peer): the session and the routes return.
	p=$(mx router "$RT" add bgp-peer asn 3 address 198.51.100.3 hold-time 9 keep-alive 3 connect-retry 5)
	[[ "$p" =~ ^router[0-9]+:peer[0-9]+$ ]]
	wait_until 40 bgp_established up2
	wait_until 15 peer_state_has "${p#*:}" " state Established since "
	wait_until 15 learned_is 4
	wait_until 10 bgp_hops_in_map h2 0.0.0.0/0 2
	wait_until 10 bgp_hops_in_map h2 198.18.0.0/24 1
	ping_all vm12 198.18.0.1 3
}

@test "the router's AS number changed: the upstreams refuse it and the status says so; once they expect it, the sessions come back with it" {
	bgp_scenario
	wait_until 20 learned_is 4
	mx router "$RT" set asn 200
	# The upstreams still expect AS 100: each session ends with BGP's Bad peer AS.
	wait_until 30 eval '[ "$(mx router "$RT" list bgp-peer | grep -c "Bad peer AS")" -eq 2 ]'
	run -0 mx router "$RT" list bgp-peer
	echo "$output"
	[[ "$output" != *Established* ]]
	! bgp_established up1 || false
	! bgp_established up2 || false
	wait_until 15 learned_is 0
	wait_until 10 bgp_no_route_in_map h2 203.0.113.0/24
	# The upstreams are told the new AS number: the sessions return, from AS 200.
	bgp_upstream_reconf up1 198.51.100.2 3 198.51.100.1 200 203.0.113.0/24 0.0.0.0/0
	bgp_upstream_reconf up2 198.51.100.3 3 198.51.100.1 200 198.18.0.0/24 0.0.0.0/0
	wait_until 45 bgp_established up1
	wait_until 45 bgp_established up2
	wait_until 15 eval 'birdc_up up1 show route 10.0.0.0/24 all | grep -q "BGP.as_path: 200$"'
	wait_until 15 learned_is 4
	wait_until 10 bgp_hops_in_map h2 203.0.113.0/24 1
	ping_all vm11 203.0.113.1 3
}

@test "a peer with the wrong AS number: the session stays down and the status says why; corrected, it comes up" {
	bgp_scenario
	# up2 is AS 3, not 4.
	mx --force router "$RT" delete bgp-peer peer1
	p=$(mx router "$RT" add bgp-peer asn 4 address 198.51.100.3 hold-time 9 keep-alive 3 connect-retry 5)
	wait_until 30 peer_state_has "${p#*:}" "Bad peer AS"
	run -0 peer_row "${p#*:}"
	echo "$output"
	[[ "$output" != *Established* ]]
	[[ "$output" == *" routes 0" ]]
	! bgp_established up2 || false
	# Corrected (a delete and an add): up.
	mx --force router "$RT" delete bgp-peer "${p#*:}"
	p=$(mx router "$RT" add bgp-peer asn 3 address 198.51.100.3 hold-time 9 keep-alive 3 connect-retry 5)
	wait_until 45 bgp_established up2
	wait_until 15 peer_state_has "${p#*:}" " state Established since "
}

@test "a peer with a password the upstream lacks: the session stays down and the status says why; once the upstream has it, up" {
	bgp_scenario
	# A password up1 does not know: the TCP session never opens.
	mx --force router "$RT" delete bgp-peer peer0
	p=$(mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5 password s3cret)
	wait_until 30 eval '! bgp_established up1'
	wait_until 30 peer_state_has "${p#*:}" "TCP MD5: the peer does not sign (no password there)"
	run -0 peer_row "${p#*:}"
	echo "$output"
	[[ "$output" != *Established* ]]
	# up1 is given the password: up.
	BGP_UPSTREAM_PASSWORD=s3cret bgp_upstream_reconf up1 198.51.100.2 3 198.51.100.1 100 203.0.113.0/24 0.0.0.0/0
	wait_until 45 bgp_established up1
	wait_until 15 peer_state_has "${p#*:}" " state Established since "
	wait_until 15 learned_is 4
}

# speaker_on HOST: HOST runs BIRD for the uplink, in its namespace.
speaker_on() { bgp_pid "$1" "$KEY" >/dev/null && [ -e "/run/netns/$(bgp_netns "$1" "$KEY")" ]; }
speaker_gone() {
	! bgp_pid "$1" "$KEY" >/dev/null && [ ! -e "/run/netns/$(bgp_netns "$1" "$KEY")" ] &&
		[ ! -d "$(bgp_dir "$1" "$KEY")" ]
}
# published_by HOST: every learned route of the router was published by HOST's agent.
published_by() {
	local out
	out=$(mx --json router "$RT" list route) || return 1
	jq -e --arg h "$(cat "$NET_DIR/$1.host-id")" \
		'[.[] | select(.learned)] | length == 4 and all(.[]; .host == $h)' <<<"$out" >/dev/null
}

@test "the uplink's binding moved to another host: the speaker leaves the old host, starts on the new one, routes are published from there and traffic resumes" {
	bgp_scenario
	wait_until 20 learned_is 4
	wait_until 10 published_by h1
	ping_all vm11 203.0.113.1 3
	# h2 gets its own link to the physical LAN; the port moves there.
	bgp_lan_add h2 gns3out
	mx host "$(agent_name h1)" delete binding interface gns3out
	mx host "$(agent_name h2)" add binding port "$RT:port1" interface gns3out
	wait_until 15 speaker_gone h1
	# Its sessions were shut down, not left to the upstreams' hold time.
	grep -q "midox: Received: Administrative shutdown" "$NET_DIR/upstream-up1.log"
	grep -q "midox: Received: Administrative shutdown" "$NET_DIR/upstream-up2.log"
	wait_until 15 speaker_on h2
	run -0 ip -n "$(bgp_netns h2 "$KEY")" -o addr show dev bgp0
	[[ "$output" == *"inet 198.51.100.1/24 "* ]]
	wait_until 45 bgp_established up1
	wait_until 45 bgp_established up2
	wait_until 20 published_by h2
	wait_until 10 bgp_hops_in_map h2 0.0.0.0/0 2
	wait_until 10 bgp_hops_in_map h1 0.0.0.0/0 2
	wait_until 20 ping_ok vm11 203.0.113.1
	ping_all vm11 203.0.113.1 3
	ping_all vm12 198.18.0.1 3
	run -0 net_in up1 ping -c 3 -i 0.2 -W 1 -I 203.0.113.1 10.0.0.11
}
