#!/usr/bin/env bats
# The agent's BGP speakers (docs/bgp.md) against real ZooKeeper, a real agent and real BIRD:
# one BIRD per exterior router port bound on the host whose router has an AS number and a peer
# on the port's subnet, in a namespace of its own holding the port's MAC and address; its
# configuration follows the peers and networks without a restart; it is restarted when it
# dies, kept across an agent restart, stopped with its last peer or its binding.
# The datapath hands the speaker its packets: a session with a real BIRD on the physical side
# comes up through the bound interface, routes go both ways, the router keeps answering
# everyone else.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/bgp'

# The agent's metrics (docs/metrics.md), inside h1's namespace.
MPORT=9474
PROM=${BATS_TEST_DIRNAME}/../helpers/prom.py

setup_file() {
	bgp_setup_file
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	RT=$NET_RUN-r
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${KEY:-}" ]; then
		cat "$(bgp_dir h1 "$KEY")/bird.conf" >&2 2>/dev/null || true
		tail -20 "$(bgp_dir h1 "$KEY")/bird.log" >&2 2>/dev/null || true
	fi
	bgp_cleanup
	e2e_teardown
}

# One host h1 with its agent, an uplink port 198.51.100.1/24 of router RT bound to gns3out,
# whose other end is in the physical namespace (198.51.100.2). KEY: the port's tunnel key.
uplink_setup() {
	net_host_add h1 192.0.2.11
	agent_start h1 "$(bgp_env h1)" MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"
	agent_wait_ready h1
	net_phys_add phys h1 gns3out 198.51.100.2/24
	mx router create name "$RT"
	mx router "$RT" add port address 198.51.100.1 net 198.51.100.0/24
	mx host "$(agent_name h1)" add binding port "$RT:port0" interface gns3out
	KEY=$(port_tunnel_key "$RT" port0)
	[ -n "$KEY" ]
}

# samples: one scrape of h1's agent's metrics through tests/helpers/prom.py's checks, as
# JSON. metric NAME: the value of NAME's one sample (fails unless there is exactly one).
samples() {
	net_in h1 curl -sS --fail --max-time 5 "http://127.0.0.1:$MPORT/metrics" >"$NET_DIR/scrape-h1" &&
		/usr/bin/python3 "$PROM" check <"$NET_DIR/scrape-h1"
}
metric() {
	samples | jq -er --arg n "$1" '[.[] | select(.name == $n)] |
		if length == 1 then .[0].value | floor else error("\(length) samples of \($n)") end'
}
metric_is() { [ "$(metric "$1")" = "$2" ]; }
# no_samples NAME: the family is there, without a sample.
no_samples() {
	samples | jq -e --arg n "$1" '[.[] | select(.name == $n)] | length == 0' >/dev/null &&
		grep -q "^# TYPE $1 " "$NET_DIR/scrape-h1"
}

bird_running() { bgp_pid h1 "$KEY" >/dev/null; }
bird_gone() { ! bird_running && [ ! -e "/run/netns/$(bgp_netns h1 "$KEY")" ] && [ ! -d "$(bgp_dir h1 "$KEY")" ]; }
# bgp_protocols: the BGP protocols BIRD runs, one name a line.
bgp_protocols() { birdc_in h1 "$KEY" show protocols | awk '$2 == "BGP" { print $1 }'; }
protocols_are() { [ "$(bgp_protocols | wc -l)" -eq "$1" ]; }
# pid_ended PID: the process is gone, or a zombie its new parent has not reaped yet (a BIRD
# whose agent exited belongs to init).
pid_ended() { [ ! -e "/proc/$1" ] || [ -z "$(tr -d '\0' < "/proc/$1/cmdline" 2>/dev/null)" ]; }
bird_pid_is_not() { local p; p=$(bgp_pid h1 "$KEY") && [ "$p" != "$1" ]; }

@test "a speaker starts with the AS number and a peer, in its namespace with the port's MAC and address" {
	uplink_setup
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2
	# No AS number yet: no speaker (the peer alone does not make one).
	sleep 2
	! bird_running || false
	mx router "$RT" set asn 100
	wait_until 15 bird_running
	ns=$(bgp_netns h1 "$KEY")
	mac=$(mx --json router "$RT" port port0 show | jq -r .mac)
	run -0 ip -n "$ns" -o addr show dev bgp0
	[[ "$output" == *"inet 198.51.100.1/24 "* ]]
	run -0 ip -n "$ns" -o link show dev bgp0
	[[ "$output" == *"link/ether $mac "* ]]
	[[ "$output" == *"state UP"* ]] || [[ "$output" == *",UP"* ]]
	# The other end of the pair, in the host's namespace.
	run -0 ip -n "$NET_RUN-h1" -o link show "$(printf 'mxb%06x' "$KEY")"
	# Its configuration passes BIRD's own check, and BIRD runs it.
	run -0 bird -p -c "$(bgp_dir h1 "$KEY")/bird.conf"
	run -0 grep -F "local 198.51.100.1 as 100;" "$(bgp_dir h1 "$KEY")/bird.conf"
	run -0 bgp_protocols
	[ "$output" = "peer_$(mx --json router "$RT" bgp-peer peer0 show | jq -r .id | tr - _)" ]
	run -0 birdc_in h1 "$KEY" show status
	[[ "$output" == *"Router ID is 198.51.100.1"* ]]
}

@test "peers and networks change BIRD's configuration without a restart" {
	uplink_setup
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2
	wait_until 15 bird_running
	pid=$(bgp_pid h1 "$KEY")
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.3 hold-time 9 keep-alive 3 password s3cret
	wait_until 10 protocols_are 2
	mx router "$RT" add bgp-network net 10.0.0.0/24
	wait_until 10 eval 'birdc_in h1 "$KEY" show route protocol midox_networks | grep -q "10.0.0.0/24"'
	[ "$(bgp_pid h1 "$KEY")" = "$pid" ]
	run -0 grep -F 'password "s3cret";' "$(bgp_dir h1 "$KEY")/bird.conf"
	run -0 grep -F "hold time 9;" "$(bgp_dir h1 "$KEY")/bird.conf"
	run -0 grep "reconfigured" "$NET_DIR/h1.agent.log"
	mx --force router "$RT" delete bgp-network net0
	wait_until 10 eval '! birdc_in h1 "$KEY" show route protocol midox_networks | grep -q "10.0.0.0/24"'
	mx --force router "$RT" delete bgp-peer peer0
	wait_until 10 protocols_are 1
	[ "$(bgp_pid h1 "$KEY")" = "$pid" ]
	# A new AS number is taken too.
	mx router "$RT" set asn 65001
	wait_until 10 grep -qF "local 198.51.100.1 as 65001;" "$(bgp_dir h1 "$KEY")/bird.conf"
	run -0 bird -p -c "$(bgp_dir h1 "$KEY")/bird.conf"
}

@test "a BIRD that dies is started again; an agent restart keeps it; the last peer or the binding stops it" {
	uplink_setup
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2
	wait_until 15 bird_running
	# The metrics: BIRD runs, never restarted; the session (no upstream here) is not up.
	wait_until 10 metric_is midox_bgp_bird_running 1
	metric_is midox_bgp_bird_restarts_total 0
	metric_is midox_bgp_session_up 0
	labels=$(samples | jq -r '.[] | select(.name == "midox_bgp_bird_restarts_total") | .labels | "\(.router) \(.port)"')
	[[ "$labels" =~ ^"$RT "router[0-9]+:port0$ ]]
	pid=$(bgp_pid h1 "$KEY")
	kill -KILL "$pid"
	wait_until 15 bird_pid_is_not "$pid"
	run -0 grep "BIRD $pid of port .* exited (signal 9)" "$NET_DIR/h1.agent.log"
	pid=$(bgp_pid h1 "$KEY")
	wait_until 10 metric_is midox_bgp_bird_restarts_total 1
	metric_is midox_bgp_bird_running 1
	# The agent restarts: its BIRD (and the sessions it holds) stays.
	agent_restart h1 "$(bgp_env h1)" MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"
	agent_wait_ready h1
	wait_until 10 grep -q "BIRD $pid of port .* still runs: taken over" "$NET_DIR/h1.agent.log"
	[ "$(bgp_pid h1 "$KEY")" = "$pid" ]
	# Taken over, not restarted: the new agent counts from 0.
	wait_until 10 metric_is midox_bgp_bird_running 1
	metric_is midox_bgp_bird_restarts_total 0
	# Its last peer goes: BIRD, namespace and files go.
	mx --force router "$RT" delete bgp-peer peer0
	wait_until 10 bird_gone
	wait_until 5 pid_ended "$pid"
	# No speaker, no series.
	wait_until 10 no_samples midox_bgp_bird_running
	no_samples midox_bgp_bird_restarts_total
	no_samples midox_bgp_session_up
	# Back with a peer, then the binding goes.
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2
	wait_until 15 bird_running
	mx host "$(agent_name h1)" delete binding interface gns3out
	wait_until 10 bird_gone
}

@test "a port unbound while its agent is down loses its speaker when the agent comes back" {
	uplink_setup
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2
	wait_until 15 bird_running
	pid=$(bgp_pid h1 "$KEY")
	agent_stop h1
	kill -0 "$pid"
	mx host "$(agent_name h1)" delete binding interface gns3out
	agent_start h1 "$(bgp_env h1)"
	agent_wait_ready h1
	wait_until 10 bird_gone
	wait_until 5 pid_ended "$pid"
}

# icmp_in_echos HOST KEY: echo requests the speaker's namespace received (its /proc/net/snmp).
icmp_in_echos() {
	ip netns exec "$(bgp_netns "$1" "$2")" awk '
		/^Icmp:/ && !h { for (i = 2; i <= NF; i++) if ($i == "InEchos") f = i; h = 1; next }
		/^Icmp:/ { print $f; exit }' /proc/net/snmp
}

@test "through the datapath: a session with a real BIRD comes up, routes go both ways, the router answers the rest" {
	uplink_setup
	# A second address on the physical side that is no peer.
	ip -n "$NET_RUN-phys" addr add 198.51.100.9/24 dev eth0
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-network net 10.0.0.0/24
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	wait_until 15 bird_running
	bgp_upstream_start phys up1 198.51.100.2 3 198.51.100.1 100 203.0.113.0/24 0.0.0.0/0
	wait_until 40 bgp_established up1
	run -0 birdc_in h1 "$KEY" show protocols
	[[ "$output" == *Established* ]]
	# The CLI shows the session as BIRD reports it; the agent logged the change.
	wait_until 10 eval 'mx router "$RT" list bgp-peer | grep -qE " state Established since 20[0-9-]+ [0-9:]+ routes 2$"'
	run -0 grep "BGP: session with 198.51.100.2 .*: up, Established" "$NET_DIR/h1.agent.log"
	# The metrics say so too, with the upstream's two routes received (and published).
	wait_until 10 metric_is midox_bgp_session_up 1
	wait_until 10 metric_is midox_bgp_routes_received 2
	wait_until 10 metric_is midox_bgp_routes_published 2
	metric_is midox_bgp_routes_left_out 0
	labels=$(samples | jq -r '.[] | select(.name == "midox_bgp_session_up") | .labels | "\(.router) \(.port) \(.peer) \(.peer_address)"')
	[[ "$labels" =~ ^"$RT "(router[0-9]+):port0\ (router[0-9]+):peer0\ 198\.51\.100\.2$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	# The upstream learns the router's network, and only it; the speaker learns the
	# upstream's, in table 100 of its namespace.
	wait_until 15 eval 'birdc_up up1 show route protocol midox | grep -q "10.0.0.0/24"'
	run -0 birdc_up up1 show route protocol midox count
	echo "$output"
	# One route of the table's came from the router: no transit of anything else.
	[[ "$output" =~ (^|$'\n')1\ of\ [0-9]+\ routes ]]
	ns=$(bgp_netns h1 "$KEY")
	wait_until 15 eval 'ip -n "$ns" route show table 100 | grep -q "^203.0.113.0/24 via 198.51.100.2"'
	run -0 ip -n "$ns" route show table 100
	[[ "$output" == *"default via 198.51.100.2"* ]]
	# A ping from the peer is the speaker's; one from another address the router's.
	before=$(icmp_in_echos h1 "$KEY")
	run -0 net_in phys ping -c 3 -i 0.2 -W 1 -I 198.51.100.2 198.51.100.1
	[ "$(icmp_in_echos h1 "$KEY")" -ge $((before + 3)) ]
	before=$(icmp_in_echos h1 "$KEY")
	run -0 net_in phys ping -c 3 -i 0.2 -W 1 -I 198.51.100.9 198.51.100.1
	[ "$(icmp_in_echos h1 "$KEY")" -eq "$before" ]
	# The router learned the peer's MAC as usual.
	wait_until 10 eval 'mx router "$RT" list arp | grep -q "198.51.100.2 mac $(net_mac phys) type learned"'
	# The peer asks for the port's address: one reply (the router's: the speaker, which holds
	# the same MAC and address, is not asked), not two.
	net_capture phys "arp and arp[6:2] == 2"
	ip -n "$NET_RUN-phys" neigh flush dev eth0
	run -0 net_in phys ping -c 1 -W 2 -I 198.51.100.2 198.51.100.1
	sleep 1
	cat "$NET_DIR/cap-phys"
	[ "$(net_capture_count phys "Reply 198.51.100.1 is-at")" -eq 1 ]
	net_capture_stop phys
	# What the speaker sends to anyone but a peer is dropped, and counted.
	before=$(drops h1 0 MX_DROP_BGP_NOT_PEER)
	ip netns exec "$ns" ping -c 2 -i 0.2 -W 1 198.51.100.9 || true
	[ "$(drops h1 0 MX_DROP_BGP_NOT_PEER)" -ge $((before + 1)) ]
	# The peer goes: the upstream's session drops with its hold time.
	mx --force router "$RT" delete bgp-peer peer0
	wait_until 30 eval '! bgp_established up1'
	wait_until 10 no_samples midox_bgp_session_up
}

# learned_route DST: `router list route` shows DST learned from peer0.
learned_route() {
	mx router "$RT" list route | grep -qE "dst $1 gw 198.51.100.2 port port0 weight 100 learned true peer peer0$"
}

# route_in_map HOST DST/LEN: the router's midox_route has the prefix, via the peer.
route_in_map() {
	local rk dst=${2%/*} len=${2#*/}
	rk=$(mx --json router "$RT" show | jq -r .tunnel_key)
	map_has "$1" midox_route "any(.[]; .key.router_key == $rk and .key.dst == $(be32 "$dst") and .key.prefixlen == $((32 + len)) and any(.value.nh[0:.value.n][]; .gw == $(be32 198.51.100.2)))"
}

@test "learned routes: published, installed, listed as learned, not deletable, withdrawn with the peer and with BIRD" {
	uplink_setup
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	wait_until 15 bird_running
	bgp_upstream_start phys up1 198.51.100.2 3 198.51.100.1 100 203.0.113.0/24 198.18.0.0/15
	wait_until 40 bgp_established up1
	wait_until 15 learned_route 203.0.113.0/24
	wait_until 15 learned_route 198.18.0.0/15
	run -0 mx router "$RT" list route
	echo "$output"
	[ "$(grep -c 'learned true' <<<"$output")" -eq 2 ]
	wait_until 10 route_in_map h1 203.0.113.0/24
	# JSON names the peer and the host that published it.
	run -0 mx --json router "$RT" list route
	[ "$(jq '[.[] | select(.learned)] | length' <<<"$output")" -eq 2 ]
	[[ "$(jq -r '[.[] | select(.learned)][0].peer_alias' <<<"$output")" =~ ^router[0-9]+:peer0$ ]]
	[ "$(jq -r '[.[] | select(.learned)][0].host' <<<"$output")" = "$(cat "$NET_DIR/h1.host-id")" ]
	# Not the operator's to delete.
	r=$(mx router "$RT" list route | awk '/learned true/ { print $2; exit }')
	run mx --force router "$RT" route "$r" delete
	[ "$status" -eq 1 ]
	[[ "$output" == *"is learned from BGP peer"* ]]
	# The upstream withdraws one: gone.
	birdc_up up1 disable up_routes >/dev/null
	wait_until 15 eval '! learned_route 203.0.113.0/24'
	birdc_up up1 enable up_routes >/dev/null
	wait_until 15 learned_route 203.0.113.0/24
	# The upstream dies: after the hold time (9 s) its routes are gone, map included.
	kill "$UPSTREAM_PID_up1"
	wait_until 30 eval '! learned_route 203.0.113.0/24'
	wait_until 10 eval '! route_in_map h1 203.0.113.0/24'
	run -0 grep "BGP: learned routes: 0 to publish, 2 to withdraw, 0 in all" "$NET_DIR/h1.agent.log"
	# Back: the routes come back; the speaker's BIRD killed: withdrawn at once.
	bgp_upstream_start phys up1 198.51.100.2 3 198.51.100.1 100 203.0.113.0/24 198.18.0.0/15
	wait_until 40 learned_route 203.0.113.0/24
	kill -KILL "$(bgp_pid h1 "$KEY")"
	wait_until 5 eval '! learned_route 203.0.113.0/24'
}

@test "a wrong AS number leaves the session down, and the state says why" {
	uplink_setup
	mx router "$RT" set asn 100
	# The upstream is AS 3, not 4.
	mx router "$RT" add bgp-peer asn 4 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	wait_until 15 bird_running
	bgp_upstream_start phys up1 198.51.100.2 3 198.51.100.1 100 203.0.113.0/24
	wait_until 40 eval 'mx router "$RT" list bgp-peer | grep -q "Bad peer AS"'
	run -0 mx router "$RT" list bgp-peer
	echo "$output"
	[[ "$output" != *Established* ]]
	[[ "$output" == *" routes 0"* ]]
	! bgp_established up1 || false
	# Corrected (a delete and an add): the session comes up, the upstream kept running (its
	# wait after the error, 5 s as the speaker's, is over by the next attempt or soon after).
	mx --force router "$RT" delete bgp-peer peer0
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	wait_until 40 bgp_established up1
	wait_until 10 eval 'mx router "$RT" list bgp-peer | grep -q " state Established "'
}
