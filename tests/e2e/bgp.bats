#!/usr/bin/env bats
# BGP uplinks end to end (docs/bgp.md), the scenario of MidoNet's documentation: router0's
# exterior port 198.51.100.1/24 bound on host h1 to gns3out, a "physical" LAN with two
# upstream routers of AS 3 (real BIRD: up1 198.51.100.2 with 203.0.113.0/24 behind it, up2
# 198.51.100.3 with 198.18.0.0/24), each advertising its network and a default route;
# router0 (AS 100) advertises 10.0.0.0/24, the tenant bridge where two VMs live on host h2.
# Real ZooKeeper, real agents, real BIRD on both sides, the real datapath (the setup:
# bgp_scenario, tests/lib/bgp.bash).

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
		mx router "$RT" list route >&2 2>/dev/null || true
		birdc_up up1 show protocols >&2 2>/dev/null || true
	fi
	bgp_cleanup
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_route midox_neigh midox_bgp
}

@test "the scenario: both upstreams learn the tenant network; the VMs on the other host reach the networks behind them, and are reached" {
	bgp_scenario
	# Each upstream learned 10.0.0.0/24 from AS 100, and nothing else from it.
	wait_until 15 eval 'ip -n "$NET_RUN-up1" route show 10.0.0.0/24 | grep -q "via 198.51.100.1"'
	wait_until 15 eval 'ip -n "$NET_RUN-up2" route show 10.0.0.0/24 | grep -q "via 198.51.100.1"'
	run -0 birdc_up up1 show route protocol midox
	[[ "$output" == *"10.0.0.0/24"* ]]
	[[ "$output" != *"198.18.0.0"* ]] # up2's network never reaches up1 through router0
	# router0 learned each network and the default from both peers: four learned routes.
	wait_until 20 eval '[ "$(bgp_learned_count)" -eq 4 ]'
	# Installed on h2, the host of the VMs, which has no BGP of its own.
	wait_until 10 bgp_hops_in_map h2 203.0.113.0/24 1
	wait_until 10 bgp_hops_in_map h2 0.0.0.0/0 2
	# The VMs reach the networks behind both upstream routers...
	ping_all vm11 203.0.113.1 5
	ping_all vm12 198.18.0.1 5
	# ...and the physical side reaches the VMs.
	run -0 net_in up1 ping -c 5 -i 0.2 -W 1 -I 203.0.113.1 10.0.0.11
	run -0 net_in up2 ping -c 5 -i 0.2 -W 1 -I 198.18.0.1 10.0.0.12
}

@test "ECMP across the upstreams: one dies, after its hold time every host forgets its routes and traffic goes through the other; it returns" {
	bgp_scenario
	wait_until 20 bgp_hops_in_map h2 0.0.0.0/0 2
	wait_until 10 bgp_hops_in_map h1 0.0.0.0/0 2
	# up2 goes; 9 s of hold time later its routes leave every host's map.
	kill "$UPSTREAM_PID_up2"
	wait_until 30 bgp_hops_in_map h2 0.0.0.0/0 1
	wait_until 10 bgp_hops_in_map h1 0.0.0.0/0 1
	wait_until 10 bgp_no_route_in_map h2 198.18.0.0/24
	ping_all vm11 203.0.113.1 5
	# It returns: its routes come back.
	bgp_up2_start
	wait_until 60 bgp_established up2
	wait_until 20 bgp_hops_in_map h2 0.0.0.0/0 2
	ping_all vm12 198.18.0.1 5
}

@test "the agent of the uplink's host killed: its session expires and the other host drops the routes it published" {
	bgp_scenario
	wait_until 20 eval '[ "$(bgp_learned_count)" -eq 4 ]'
	wait_until 10 bgp_hops_in_map h2 203.0.113.0/24 1
	kill -KILL "$(agent_pid h1)"
	# The session times out (10 s); its ephemeral routes go with it.
	wait_until 30 bgp_no_route_in_map h2 203.0.113.0/24
	[ "$(bgp_learned_count)" -eq 0 ]
}

@test "the uplink host's agent restarts under a ping flood to a learned prefix: no packet lost, BIRD and its sessions kept, nothing withdrawn" {
	bgp_scenario
	wait_until 20 eval '[ "$(bgp_learned_count)" -eq 4 ]'
	wait_until 10 bgp_hops_in_map h2 203.0.113.0/24 1
	pid=$(bgp_pid h1 "$KEY")
	flood_start vm11 203.0.113.1
	sleep 1
	agent_restart h1 "$(bgp_env h1)"
	agent_wait_ready h1
	wait_until 10 grep -q "BIRD $pid of port .* still runs: taken over" "$NET_DIR/h1.agent.log"
	floods_end
	[ "$(bgp_pid h1 "$KEY")" = "$pid" ]
	bgp_established up1
	# The restarted agent found what its session had published: nothing withdrawn or
	# published again.
	[ "$(bgp_learned_count)" -eq 4 ]
	[ "$(awk '/agent.bash: start/ { n++ } n == 2 && /BGP: learned routes: /' "$NET_DIR/h1.agent.log" | wc -l)" -eq 0 ]
}
