#!/usr/bin/env bats
# BGP uplinks at scale (docs/bgp.md): an upstream router (real BIRD, AS 3) on the physical
# side of router RT's uplink, bound on host h1, advertises BGP_SCALE_ROUTES (10000) static
# /24s; every host's map (h1, the uplink's, and h2, which has no BGP of its own) ends up
# holding all of them via the upstream, and once the upstream withdraws them (its static
# protocol disabled) none. The agents' BGP metrics (docs/metrics.md) say the same: session
# state, routes received, published and left out over the cap (bgp_max_routes, made smaller
# than what the upstream sends in the second test). Real ZooKeeper, real agents, real BIRD on
# both sides, the real datapath. In between, the uplink's agent is restarted with the routes
# published: it takes over what its session published. Run time on the 2-core test machine:
# docs/testing.md.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/bgp'

BGP_SCALE_ROUTES=${BGP_SCALE_ROUTES:-10000}
MPORT=9464
PROM=${BATS_TEST_DIRNAME}/../helpers/prom.py

setup_file() {
	bgp_setup_file
	/usr/bin/python3 -c 'import prometheus_client.parser' ||
		{ echo "python3-prometheus-client missing (tools/scripts/install-deps)" >&2; return 1; }
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	RT=$NET_RUN-r
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		birdc_up up1 show protocols >&2 2>/dev/null || true
		grep -E 'BGP|learned' "$NET_DIR/h1.agent.log" 2>/dev/null | tail -20 >&2 || true
	fi
	bgp_cleanup
	e2e_teardown
}

# count HOST: the scale range's routes via the upstream in HOST's map.
count() { bgp_scale_count "$(agent_pin "$1")" "$RT" 198.51.100.2; }
count_is() { [ "$(count "$1")" -eq "$2" ]; }

# samples HOST: one scrape of HOST's agent's metrics through tests/helpers/prom.py's checks,
# as JSON. bgp HOST NAME: the value of NAME for the peer (there must be exactly one).
samples() {
	net_in "$1" curl -sS --fail --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$NET_DIR/scrape-$1" &&
		/usr/bin/python3 "$PROM" check <"$NET_DIR/scrape-$1"
}
bgp() {
	samples "$1" | jq -er --arg n "$2" '[.[] | select(.name == $n and .labels.peer_address == "198.51.100.2")] |
		if length == 1 then .[0].value | floor else error("\(length) samples") end'
}
bgp_is() { [ "$(bgp "$1" "$2")" = "$3" ]; }
# none HOST NAME: the family is there, with no sample (HOST runs no speaker).
none() {
	samples "$1" | jq -e --arg n "$2" '[.[] | select(.name == $n)] | length == 0' >/dev/null &&
		grep -q "^# TYPE $2 " "$NET_DIR/scrape-$1"
}
# plain HOST NAME: the value of the sample NAME without labels.
plain() { samples "$1" | jq -er --arg n "$2" '[.[] | select(.name == $n)] | if length == 1 then .[0].value | floor else error("\(length) samples") end'; }
pending_is() { [ "$(plain "$1" midox_bgp_route_writes_pending)" = "$2" ]; }

# uplink N: hosts h1 and h2 in a zone (agents serving metrics; the rest of the environment
# from the arguments after N), router RT's uplink 198.51.100.1/24 on h1 peering with the
# upstream up1 (AS 3, 198.51.100.2) on the physical side, which holds N routes ready to
# announce; the session established.
uplink() {
	local n=$1 h
	shift
	mx tunnel-zone create name "$NET_RUN-tz" type vxlan
	net_host_add h1 192.0.2.11
	net_host_add h2 192.0.2.12
	net_underlay_check
	for h in h1 h2; do agent_start "$h" "$(bgp_env "$h")" MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT" "$@"; done
	for h in h1 h2; do agent_wait_ready "$h"; done
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h1)" address 192.0.2.11
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h2)" address 192.0.2.12
	net_phys_add phys h1 gns3out 198.51.100.2/24
	mx router create name "$RT"
	mx router "$RT" add port address 198.51.100.1 net 198.51.100.0/24
	mx host "$(agent_name h1)" add binding port "$RT:port0" interface gns3out
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	bgp_upstream_scale phys up1 198.51.100.2 3 198.51.100.1 100 "$n"
	wait_until 60 bgp_established up1
	wait_until 10 bgp_is h1 midox_bgp_session_up 1
}

@test "an upstream advertises $BGP_SCALE_ROUTES routes: all in every host's map; withdrawn: none left" {
	uplink "$BGP_SCALE_ROUTES"
	count_is h1 0
	count_is h2 0
	bgp_is h1 midox_bgp_routes_received 0
	# Announced: every route reaches both maps, with the upstream as next hop.
	birdc_up up1 enable bulk
	wait_until 180 count_is h1 "$BGP_SCALE_ROUTES"
	wait_until 120 count_is h2 "$BGP_SCALE_ROUTES"
	# As many nodes in ZooKeeper, one per route, and the session's state says so.
	run -0 mx router "$RT" list route
	[ "$(grep -c 'learned true peer peer0' <<<"$output")" -eq "$BGP_SCALE_ROUTES" ]
	wait_until 10 eval 'mx router "$RT" list bgp-peer | grep -q "routes $BGP_SCALE_ROUTES"'
	# The metrics of the uplink's agent: all received and published, nothing left out or
	# waiting; the other host runs no speaker and has no series of its own.
	wait_until 10 pending_is h1 0
	bgp_is h1 midox_bgp_routes_received "$BGP_SCALE_ROUTES"
	bgp_is h1 midox_bgp_routes_published "$BGP_SCALE_ROUTES"
	bgp_is h1 midox_bgp_routes_left_out 0
	bgp_is h1 midox_bgp_session_up 1
	[ "$(samples h1 | jq -r '.[] | select(.name == "midox_bgp_session_up") | .labels | "\(.router) \(.port) \(.peer)"')" = "$RT router0:port0 router0:peer0" ]
	none h2 midox_bgp_routes_published
	# The uplink's agent restarted on its session: it reads back the 10000 nodes it
	# published and goes on from there, nothing withdrawn or published again.
	agent_restart h1 "$(bgp_env h1)" MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"
	agent_wait_ready h1
	wait_until 20 bgp_is h1 midox_bgp_routes_published "$BGP_SCALE_ROUTES"
	[ "$(awk '/agent.bash: start/ { n++ } n == 2 && /BGP: learned routes: /' "$NET_DIR/h1.agent.log" | wc -l)" -eq 0 ]
	count_is h2 "$BGP_SCALE_ROUTES"
	# Withdrawn: gone from every map.
	birdc_up up1 disable bulk
	wait_until 180 count_is h1 0
	wait_until 120 count_is h2 0
	run -0 mx router "$RT" list route
	[ "$(grep -c 'learned true' <<<"$output")" -eq 0 ]
	wait_until 10 bgp_is h1 midox_bgp_routes_published 0
	bgp_is h1 midox_bgp_routes_received 0
	# The session stayed up all along, and no write was refused.
	bgp_established up1
	bgp_is h1 midox_bgp_session_up 1
	[ "$(plain h1 midox_bgp_route_write_errors_total)" = 0 ]
	! grep -q 'learned-route writes' "$NET_DIR/h1.agent.log" || false
}

@test "over the cap: what exceeds bgp_max_routes is left out of every map, logged and counted; the session down: all gone" {
	uplink 3000 MIDOX_BGP_MAX_ROUTES=2000
	birdc_up up1 enable bulk
	wait_until 60 count_is h1 2000
	wait_until 60 count_is h2 2000
	wait_until 10 pending_is h1 0
	# BIRD may still have been exporting to its table when the map reached the cap.
	wait_until 10 bgp_is h1 midox_bgp_routes_received 3000
	bgp_is h1 midox_bgp_routes_published 2000
	bgp_is h1 midox_bgp_routes_left_out 1000
	grep -q "1000 learned routes over the cap of 2000 (bgp_max_routes) left out" "$NET_DIR/h1.agent.log"
	# Still 2000 once everything settled: the cap holds, and what was published stayed
	# published as the table grew past it (no route withdrawn to make room for another).
	count_is h1 2000
	count_is h2 2000
	run grep -E 'learned routes: [0-9]+ to publish, [1-9][0-9]* to withdraw' "$NET_DIR/h1.agent.log"
	[ "$status" -eq 1 ]
	# The session goes down (the upstream stops it): the state says so, the routes go.
	birdc_up up1 disable midox
	wait_until 15 bgp_is h1 midox_bgp_session_up 0
	wait_until 60 count_is h2 0
	wait_until 10 count_is h1 0
	wait_until 10 bgp_is h1 midox_bgp_routes_published 0
	bgp_is h1 midox_bgp_routes_received 0
	bgp_is h1 midox_bgp_routes_left_out 0
	grep -q "0 learned routes over the cap of 2000 (bgp_max_routes) left out" "$NET_DIR/h1.agent.log"
}
