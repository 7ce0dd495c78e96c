#!/usr/bin/env bats
# BGP uplinks at scale (docs/bgp.md): an upstream router (real BIRD, AS 3) on the physical
# side of router RT's uplink, bound on host h1, advertises BGP_SCALE_ROUTES (10000) static
# /24s; every host's map (h1, the uplink's, and h2, which has no BGP of its own) ends up
# holding all of them via the upstream, and once the upstream withdraws them (its static
# protocol disabled) none. Real ZooKeeper, real agents, real BIRD on both sides, the real
# datapath. Run time on the 2-core test machine: docs/testing.md.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/bgp'

BGP_SCALE_ROUTES=${BGP_SCALE_ROUTES:-10000}

setup_file() {
	e2e_setup_file midox midox-agent
	command -v bird >/dev/null && command -v birdc >/dev/null || {
		echo "bird and birdc missing (tools/scripts/install-deps installs bird2)" >&2
		return 1
	}
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
	e2e_teardown midox_route
}

# count HOST: the scale range's routes via the upstream in HOST's map.
count() { bgp_scale_count "$(agent_pin "$1")" "$RT" 198.51.100.2; }
count_is() { [ "$(count "$1")" -eq "$2" ]; }

@test "an upstream advertises $BGP_SCALE_ROUTES routes: all in every host's map; withdrawn: none left" {
	mx tunnel-zone create name "$NET_RUN-tz" type vxlan
	net_host_add h1 192.0.2.11
	net_host_add h2 192.0.2.12
	net_underlay_check
	for h in h1 h2; do agent_start "$h" "$(bgp_env "$h")"; done
	for h in h1 h2; do agent_wait_ready "$h"; done
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h1)" address 192.0.2.11
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h2)" address 192.0.2.12
	net_phys_add phys h1 gns3out 198.51.100.2/24
	mx router create name "$RT"
	mx router "$RT" add port address 198.51.100.1 net 198.51.100.0/24
	mx host "$(agent_name h1)" add binding port "$RT:port0" interface gns3out
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	bgp_upstream_scale phys up1 198.51.100.2 3 198.51.100.1 100 "$BGP_SCALE_ROUTES"
	wait_until 60 bgp_established up1
	count_is h1 0
	count_is h2 0
	# Announced: every route reaches both maps, with the upstream as next hop.
	birdc_up up1 enable bulk
	wait_until 180 count_is h1 "$BGP_SCALE_ROUTES"
	wait_until 120 count_is h2 "$BGP_SCALE_ROUTES"
	# As many nodes in ZooKeeper, one per route, and the session's state says so.
	run -0 mx router "$RT" list route
	[ "$(grep -c 'learned true peer peer0' <<<"$output")" -eq "$BGP_SCALE_ROUTES" ]
	wait_until 10 eval 'mx router "$RT" list bgp-peer | grep -q "routes $BGP_SCALE_ROUTES"'
	# Withdrawn: gone from every map.
	birdc_up up1 disable bulk
	wait_until 180 count_is h1 0
	wait_until 120 count_is h2 0
	run -0 mx router "$RT" list route
	[ "$(grep -c 'learned true' <<<"$output")" -eq 0 ]
	# The session stayed up all along, and no write was refused.
	bgp_established up1
	! grep -q 'learned-route writes' "$NET_DIR/h1.agent.log"
}
