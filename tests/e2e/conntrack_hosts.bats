#!/usr/bin/env bats
# Connection tracking across hosts (docs/conntrack.md): VM a on h1 and VM b on h2 on two
# bridges behind one router whose infilter is a stateful firewall for a's side ("flow
# return-flow accept, else drop" for what goes to a's subnet). h1 simulates a's packets, h2
# b's replies: h2 knows each connection only from the state that rode in with its first
# packet. Real ZooKeeper, agents on two hosts, the real CLI, TCP from
# tests/lib/tcp-probe.py.

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

PROBE=$BATS_TEST_DIRNAME/../lib/tcp-probe.py

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	CH=$NET_RUN-fw
	TZ=$NET_RUN-tz
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for h in h1 h2; do
			echo "--- $h connections" >&2
			on "$h" datapath list connection 2>&1 | tail -20 >&2 || true
		done
	fi
	e2e_teardown
}

# vm_on HOST VM ADDRESS BRIDGE: VM at ADDRESS/24 behind gateway .1, on a new port of BRIDGE.
vm_on() {
	local p
	net_vm_add "$1" "$2" "$3/24" ""
	net_vm_gw "$2" "${3%.*}.1"
	p=$(mx bridge "$4" add port) || return 1
	mx host "$(agent_name "$1")" add binding port "$p" interface "$2"
}

# The topology and the firewall; both VMs serve TCP (a on 7001, b on 7000).
firewalled() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A"
	mx bridge create name "$BR_B"
	mx router create name "$RT"
	local pa pb bp
	pa=$(mx router "$RT" add port address 10.0.1.1 net 10.0.1.0/24)
	pb=$(mx router "$RT" add port address 10.0.2.1 net 10.0.2.0/24)
	bp=$(mx bridge "$BR_A" add port)
	mx bridge "$BR_A" port "${bp#*:}" set peer router "$RT" port "${pa#*:}"
	bp=$(mx bridge "$BR_B" add port)
	mx bridge "$BR_B" port "${bp#*:}" set peer router "$RT" port "${pb#*:}"
	vm_on h1 va 10.0.1.11 "$BR_A"
	vm_on h2 vb 10.0.2.21 "$BR_B"
	wait_until 20 ping_ok va 10.0.2.21
	net_bg vb "$NET_DIR/serve-vb" python3 "$PROBE" serve 7000
	net_bg va "$NET_DIR/serve-va" python3 "$PROBE" serve 7001
	wait_until 10 grep -q listening "$NET_DIR/serve-vb"
	wait_until 10 grep -q listening "$NET_DIR/serve-va"
	mx chain create name "$CH"
	mx chain "$CH" add rule dst 10.0.1.0/24 flow return-flow type accept
	mx chain "$CH" add rule dst 10.0.1.0/24 type drop
	mx router "$RT" set infilter "$CH"
	wait_until 20 eval '! net_in vb ping -c 1 -W 1 -q 10.0.1.11 >/dev/null 2>&1'
}

@test "a stateful firewall across hosts: a's 1000 connections to b all answered at once; b's new connections and pings to a refused" {
	firewalled
	run -0 net_in va python3 "$PROBE" connect 10.0.2.21 7000 1000
	echo "$output"
	# every connection answered, and no SYN sent twice: no first reply was lost
	[ "${lines[-1]}" = "connected 1000 of 1000, syn-retrans 0" ]
	ping_all va 10.0.2.21 5
	# b opens nothing towards a (a listens: only the firewall keeps b out)
	run -0 net_in vb python3 "$PROBE" refused 10.0.1.11 7001
	ping_none vb 10.0.1.11
	# h2 learned the connections from the tunnel: it holds them for the router
	run -0 on h2 datapath list connection
	echo "${output:0:2000}"
	[ "$(grep -c 'dport 7000' <<<"$output")" -ge 1 ]
}

@test "an established TCP stream through the stateful firewall survives kill -9 of both agents and their restart" {
	firewalled
	net_bg va "$NET_DIR/stream" python3 "$PROBE" stream 10.0.2.21 7000 12
	local stream=$NET_BG_PID
	wait_until 5 grep -q connected "$NET_DIR/stream"
	sleep 1
	kill -KILL "$(agent_pid h1)" "$(agent_pid h2)"
	sleep 1
	agent_start h1
	agent_start h2
	agent_wait_ready h1
	agent_wait_ready h2
	# the stream lasted its 12 s, every line echoed, none missing for 10 s
	wait "$stream"
	cat "$NET_DIR/stream"
	grep -qx "rounds [0-9]*" "$NET_DIR/stream"
	# and the firewall still holds after the restart
	ping_none vb 10.0.1.11
	run -0 net_in vb python3 "$PROBE" refused 10.0.1.11 7001
	run -0 net_in va python3 "$PROBE" connect 10.0.2.21 7000 20
	[ "${lines[-1]}" = "connected 20 of 20, syn-retrans 0" ]
}
