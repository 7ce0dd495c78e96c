#!/usr/bin/env bats
# The agent's Prometheus metrics (docs/metrics.md): two hosts with agents serving metrics on
# 127.0.0.1 inside their network namespace, scraped during traffic. The port's counters grow
# by what was sent, a provoked drop appears under its reason, Debian's prometheus_client
# parser (tests/helpers/prom.py) accepts every scrape, the endpoint survives garbage, silent
# and slow clients and a storm of connections while the agent goes on forwarding; metrics
# are off by default, and a bad address is refused at start.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

MPORT=9464
PROM=${BATS_TEST_DIRNAME}/../helpers/prom.py

setup_file() {
	e2e_setup_file midox midox-agent
	/usr/bin/python3 -c 'import prometheus_client.parser' ||
		{ echo "python3-prometheus-client missing (tools/scripts/install-deps)" >&2; return 1; }
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA PORT=()
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown ifport_v2 port stats
	return 0
}

# metrics_hosts: h1 and h2 in a zone, agents serving metrics on 127.0.0.1:$MPORT, VMs v11
# (h1) and v21 (h2) on one bridge, talking.
metrics_hosts() {
	local h
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add h1 192.0.2.1
	net_host_add h2 192.0.2.2
	net_underlay_check
	for h in h1 h2; do agent_start "$h" MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT"; done
	for h in h1 h2; do agent_wait_ready "$h"; done
	mx tunnel-zone "$TZ" add member host "$(agent_name h1)" address 192.0.2.1
	mx tunnel-zone "$TZ" add member host "$(agent_name h2)" address 192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
}

# scrape HOST: GET /metrics inside HOST's netns; the body on stdout.
scrape() {
	net_in "$1" curl -sS --fail --max-time 5 "http://127.0.0.1:$MPORT/metrics"
}

# samples HOST: one scrape through the parser and its checks, as JSON (prom.py check); the
# raw scrape is kept in $NET_DIR/scrape-HOST for a failure's diagnosis.
samples() {
	scrape "$1" >"$NET_DIR/scrape-$1" || return 1
	/usr/bin/python3 "$PROM" check <"$NET_DIR/scrape-$1"
}

# value JSON NAME [LABELS-JSON]: the value of the one sample NAME whose labels include
# LABELS-JSON (default {}, values compared whole), as an integer; fails when there is no such sample.
value() {
	jq -er --arg n "$2" --argjson l "${3:-{\}}" \
		'[.[] | select(.name == $n and (.labels as $have | $l | to_entries | all(.[]; $have[.key] == .value)))] |
		 if length == 1 then .[0].value | floor else error("\(length) samples") end' <<<"$1"
}

# port_value JSON NAME KEY [REASON]: NAME of port key KEY (and drop reason REASON).
port_value() {
	local l="{\"port_key\":\"$3\"${4:+,\"reason\":\"$4\"}}"
	value "$1" "$2" "$l"
}

# drops_equal HOST KEY MX_DROP_NAME REASON: the metric and bpftool's sum agree.
drops_equal() {
	local json
	json=$(samples "$1") || return 1
	[ "$(port_value "$json" midox_port_drops_total "$2" "$4")" = "$(drops "$1" "$2" "$3")" ]
}

agent_gone() { ! agent_running "$1"; }

# send HOST BYTES-ON-STDIN: the status line the server answered ("closed" if none).
send() {
	net_in "$1" /usr/bin/python3 "$PROM" send "$MPORT"
}

@test "metrics: counters of the VM's port grow by the pings, an admin-down drop under its reason, the parser accepts every scrape" {
	metrics_hosts
	local key json before_rx before_tx i pid rx last_rx=0
	key=$(port_key h1 v11)
	json=$(samples h1)
	before_rx=$(port_value "$json" midox_port_rx_packets_total "$key")
	before_tx=$(port_value "$json" midox_port_tx_packets_total "$key")
	# the port as the topology names it: its alias, its bridge's name, its interface here
	jq -e --arg k "$key" --arg br "$BR" 'any(.[]; .name == "midox_port_rx_packets_total" and
		.labels.port_key == $k and (.labels.port | test("^bridge[0-9]+:port[0-9]+$")) and
		.labels.device == $br and .labels.interface == "v11")' <<<"$json"

	# 200 pings while the endpoint is scraped: every scrape parses, the counter never goes back
	net_bg v11 "$NET_DIR/ping-v11" ping -c 200 -i 0.01 -W 2 10.0.0.21
	pid=$NET_BG_PID
	for i in $(seq 1 8); do
		json=$(samples h1)
		rx=$(port_value "$json" midox_port_rx_packets_total "$key")
		[ "$rx" -ge "$last_rx" ]
		last_rx=$rx
		sleep 0.2
	done
	wait "$pid"
	grep -q '200 packets transmitted, 200 received, 0% packet loss' "$NET_DIR/ping-v11"
	json=$(samples h1)
	[ "$(port_value "$json" midox_port_rx_packets_total "$key")" -ge $((before_rx + 200)) ]
	[ "$(port_value "$json" midox_port_tx_packets_total "$key")" -ge $((before_tx + 200)) ]
	[ "$(port_value "$json" midox_port_rx_bytes_total "$key")" -ge $((200 * 98)) ]
	# h2 saw them on its own VM's port
	json=$(samples h2)
	[ "$(port_value "$json" midox_port_rx_packets_total "$(port_key h2 v21)")" -ge 200 ]

	# v11's port set down: what the VM sends is dropped (admin-down), and the metric says
	# what bpftool's per-CPU sum says
	mx bridge "$BR" port "${PORT[v11]}" set state down
	wait_until 10 ping_none v11 10.0.0.21
	[ "$(drops h1 "$key" MX_DROP_ADMIN_DOWN)" -ge 1 ]
	wait_until 10 drops_equal h1 "$key" MX_DROP_ADMIN_DOWN admin-down
	mx bridge "$BR" port "${PORT[v11]}" set state up
	wait_until 20 ping_all v11 10.0.0.21 2
	json=$(samples h1)
	[ "$(port_value "$json" midox_port_drops_total "$key" admin-down)" -ge 1 ]

	# sync, ZooKeeper, maps, the agent itself
	[ "$(value "$json" midox_reconcile_passes_total)" -ge 1 ]
	[ "$(value "$json" midox_reconcile_duration_seconds_count)" = "$(value "$json" midox_reconcile_passes_total)" ]
	[ "$(value "$json" midox_reconcile_duration_seconds_bucket '{"le":"+Inf"}')" = "$(value "$json" midox_reconcile_passes_total)" ]
	[ "$(value "$json" midox_sync_entries_total '{"map":"midox_port_v2","change":"added"}')" -ge 2 ]
	[ "$(value "$json" midox_sync_entries_total '{"map":"midox_ifport_v3","change":"added"}')" -ge 1 ]
	[ "$(value "$json" midox_reconcile_errors_total '{"stage":"read"}')" -ge 0 ]
	[ "$(value "$json" midox_zookeeper_connected)" = 1 ]
	[ "$(value "$json" midox_zookeeper_session_state '{"state":"connected"}')" = 1 ]
	[ "$(value "$json" midox_zookeeper_session_state '{"state":"connecting"}')" = 0 ]
	[ "$(value "$json" midox_zookeeper_session_expiries_total)" = 0 ]
	local ports
	ports=$(map_entries h1 midox_port_v2 | jq length)
	[ "$(value "$json" midox_map_entries '{"map":"midox_port_v2"}')" = "$ports" ]
	[ "$(value "$json" midox_map_max_entries '{"map":"midox_port_v2"}')" -ge "$ports" ]
	[ "$(value "$json" midox_map_entries '{"map":"midox_tunpeer"}')" = "$(map_entries h1 midox_tunpeer | jq length)" ]
	local version
	version=$("$MIDOX_BUILD/midox-agent" --version | cut -d' ' -f2)
	value "$json" midox_agent_info "{\"version\":\"$version\",\"host_name\":\"$(agent_name h1)\"}"
	local started
	started=$(value "$json" midox_agent_start_time_seconds)
	[ "$started" -le "$(date +%s)" ] && [ "$started" -ge $(($(date +%s) - 300)) ]
}

@test "metrics: only GET and HEAD of /metrics; garbage, silence, trickles and a storm of connections do not stop it or the forwarding" {
	metrics_hosts
	local pid out key json
	pid=$(agent_pid h1)
	key=$(port_key h1 v11)

	run -0 net_in h1 curl -sS -i --max-time 5 "http://127.0.0.1:$MPORT/metrics"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	grep -qi $'^Content-Type: text/plain; version=0.0.4' <<<"$output"
	run -0 net_in h1 curl -sS -I --max-time 5 "http://127.0.0.1:$MPORT/metrics"
	[[ "$output" == "HTTP/1.1 200 OK"* ]]
	run -0 net_in h1 curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$MPORT/other"
	[ "$output" = 404 ]
	run -0 net_in h1 curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X POST -d x "http://127.0.0.1:$MPORT/metrics"
	[ "$output" = 405 ]
	run -0 net_in h1 curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --http1.0 "http://127.0.0.1:$MPORT/metrics?x=1"
	[ "$output" = 200 ]

	# garbage: random bytes, a request line of 100 kB, a wrong version, a header without a
	# name: 400 each, the connection closed
	run -0 send h1 < <(head -c 4096 /dev/urandom)
	[ "$output" = "HTTP/1.1 400 Bad Request" ]
	run -0 send h1 < <(printf 'GET /%s HTTP/1.1\r\n\r\n' "$(head -c 100000 /dev/zero | tr '\0' a)")
	[ "$output" = "HTTP/1.1 400 Bad Request" ]
	run -0 send h1 < <(printf 'GET /metrics HTTP/2.0\r\n\r\n')
	[ "$output" = "HTTP/1.1 400 Bad Request" ]
	run -0 send h1 < <(printf 'GET /metrics HTTP/1.1\r\n: x\r\n\r\n')
	[ "$output" = "HTTP/1.1 400 Bad Request" ]
	run -0 send h1 < <(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
	[ "$output" = "HTTP/1.1 200 OK" ]

	# clients that say nothing, and one that sends a byte every 0.3 s, are closed at their
	# deadline (5 s); meanwhile every scrape is answered at once, and the VMs keep talking
	net_bg h1 "$NET_DIR/idle" /usr/bin/python3 "$PROM" idle "$MPORT" 4
	local idle=$NET_BG_PID
	net_bg h1 "$NET_DIR/trickle" /usr/bin/python3 "$PROM" trickle "$MPORT"
	local trickle=$NET_BG_PID
	sleep 0.5
	for _ in 1 2 3; do
		run -0 net_in h1 curl -sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 2 \
			"http://127.0.0.1:$MPORT/metrics"
		echo "$output"
		[[ "$output" == "200 "* ]]
		awk '{ exit !($2 < 1) }' <<<"$output"
	done
	ping_all v11 10.0.0.21 5
	wait "$idle"
	wait "$trickle"
	cat "$NET_DIR/idle" "$NET_DIR/trickle"
	awk '{ exit !($1 >= 4 && $1 < 9) }' "$NET_DIR/idle"
	grep -qE '^closed after [4-8]\.' "$NET_DIR/trickle"

	# a storm: 64 connections at once, each asking; at most the cap is served at once, the
	# others are closed, none hangs
	run -0 net_in h1 /usr/bin/python3 "$PROM" storm "$MPORT" 64
	echo "$output"
	[[ "$output" =~ ^answered\ ([0-9]+)\ closed\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" -ge 1 ]
	[ $((BASH_REMATCH[1] + BASH_REMATCH[2])) -eq 64 ]

	# afterwards: the same agent answers, the parser accepts it, it counted what it refused,
	# and it still forwards
	[ "$(agent_pid h1)" = "$pid" ] && agent_running h1
	json=$(samples h1)
	[ "$(value "$json" midox_metrics_http_responses_total '{"code":"400"}')" -ge 4 ]
	[ "$(value "$json" midox_metrics_http_responses_total '{"code":"404"}')" -ge 1 ]
	[ "$(value "$json" midox_metrics_http_responses_total '{"code":"405"}')" -ge 1 ]
	[ "$(value "$json" midox_metrics_http_timeouts_total)" -ge 5 ]
	[ "$(value "$json" midox_metrics_http_rejected_connections_total)" -eq "${BASH_REMATCH[2]}" ]
	ping_all v11 10.0.0.21 5
	[ "$(port_value "$(samples h1)" midox_port_rx_packets_total "$key")" -ge 10 ]
}

# zk_value HOST NAME [LABELS-JSON]: one value of one scrape.
zk_value() {
	local json
	json=$(samples "$1") || return 1
	value "$json" "$2" "${3:-{\}}"
}

zk_value_is() {
	[ "$(zk_value "$1" "$2" "${4:-{\}}")" = "$3" ]
}

@test "metrics: a ZooKeeper outage and a session expiry show in the state, reconnect and expiry metrics" {
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add h1 192.0.2.1
	agent_start h1 MIDOX_METRICS_ADDRESS="127.0.0.1:$MPORT" MIDOX_ZK_SESSION_TIMEOUT_MS=4000
	agent_wait_ready h1
	local json
	json=$(samples h1)
	[ "$(value "$json" midox_zookeeper_connected)" = 1 ]
	[ "$(value "$json" midox_zookeeper_reconnects_total)" = 0 ]
	[ "$(value "$json" midox_zookeeper_session_expiries_total)" = 0 ]

	# cut off from ZooKeeper past its session timeout: not connected, and still scraped
	zk_unlink h1
	wait_until 20 zk_value_is h1 midox_zookeeper_connected 0
	json=$(samples h1)
	[ "$(value "$json" midox_zookeeper_session_state '{"state":"connected"}')" = 0 ]
	sleep 8
	zk_link h1
	# back: the old session expired, a new one connected
	wait_until 30 zk_value_is h1 midox_zookeeper_session_expiries_total 1
	wait_until 30 zk_value_is h1 midox_zookeeper_connected 1
	agent_wait_ready h1
	json=$(samples h1)
	[ "$(value "$json" midox_zookeeper_session_state '{"state":"connected"}')" = 1 ]
	[ "$(value "$json" midox_zookeeper_reconnects_total)" -ge 1 ]
	grep -q 'session expired' "$NET_DIR/h1.agent.log"
}

@test "metrics: off by default (nothing listening); a bad address is refused at start" {
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add h1 192.0.2.1
	agent_start h1
	agent_wait_ready h1
	local pid
	pid=$(agent_pid h1)
	run -0 net_in h1 ss -Htlnp
	echo "$output"
	! grep -q "pid=$pid," <<<"$output" || false
	run ! net_in h1 curl -sS --max-time 2 "http://127.0.0.1:$MPORT/metrics"
	agent_stop h1

	# not an address: refused while reading the settings, from the environment or the file
	run -1 --separate-stderr net_in h1 env MIDOX_METRICS_ADDRESS=localhost:9464 \
		MIDOX_PIN_ROOT="$BATS_TEST_TMPDIR/pins" "$MIDOX_BUILD/midox-agent" --config "$NET_DIR/h1.conf"
	echo "$stderr"
	[[ "$stderr" == *"bad value 'localhost:9464' in MIDOX_METRICS_ADDRESS: expected IPv4:PORT or [IPv6]:PORT"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/pins" ]
	cp "$NET_DIR/h1.conf" "$BATS_TEST_TMPDIR/bad.conf"
	echo "metrics_address = 127.0.0.1" >>"$BATS_TEST_TMPDIR/bad.conf"
	run -1 --separate-stderr net_in h1 "$MIDOX_BUILD/midox-agent" --config "$BATS_TEST_TMPDIR/bad.conf"
	echo "$stderr"
	[[ "$stderr" == *"bad.conf:4: bad value '127.0.0.1' for metrics_address: expected IPv4:PORT"* ]]

	# an address of no interface here: the agent says so and exits at start, before it
	# creates anything (its maps' pin root here)
	agent_start h1 MIDOX_METRICS_ADDRESS=192.0.2.77:$MPORT MIDOX_PIN_ROOT="$BATS_TEST_TMPDIR/pins"
	wait_until 10 agent_gone h1
	grep -q "cannot listen for metrics on 192.0.2.77:$MPORT: Cannot assign requested address" \
		"$NET_DIR/h1.agent.log"
	[ ! -e "$BATS_TEST_TMPDIR/pins" ]
	run -0 net_in h1 ss -Htln "sport = :$MPORT"
	[ -z "$output" ]
}
