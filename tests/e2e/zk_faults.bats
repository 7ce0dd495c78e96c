#!/usr/bin/env bats
# Control-plane faults (issue 5): a 3-server ZooKeeper ensemble on loopback ports, real agents
# given the whole server list, the real CLI, and continuous traffic between stable ports on two
# hosts, whose loss is counted exactly. Every test has an ensemble, hosts, VMs and topology of
# its own, and removes them, also on failure.
#
#   h1 192.0.2.1: v11 10.0.0.11, v12 10.0.0.12 (and VMs a test adds)
#   h2 192.0.2.2: v21 10.0.0.21 (and VMs a test adds)
# all on one bridge.
#
# ZKF_OUTAGE: seconds the whole ensemble stays down (default 60, as the issue asks).

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'

ZKF_OUTAGE=${ZKF_OUTAGE:-60}

setup_file() {
	net_require_root
	export MIDOX_BUILD=${MIDOX_BUILD:-$PWD/build}
	local b
	for b in midox midox-agent tests/topo-helper; do
		[ -x "$MIDOX_BUILD/$b" ] || { echo "missing $MIDOX_BUILD/$b (run make)" >&2; return 1; }
	done
}

setup() {
	net_init
	FLOWS=()
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
	zk_ensemble_start 3
}

teardown() {
	local f i
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		agent_logs 40
		agent_maps
		[ -n "${NET_DIR:-}" ] && for f in "$NET_DIR"/flow-*; do
			[ -e "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
		done
		[ -n "${ZK_ENS_DIR:-}" ] && for i in $(seq 1 "$ZK_ENS_N"); do
			echo "--- zookeeper $i: running $(zk_server_running "$i" && echo yes || echo no)," \
				"mode '$(zk_server_mode "$i")'" >&2
			grep -E 'ERROR|LEADING|FOLLOWING|LOOKING' "$ZK_ENS_DIR/$i/server.log" | tail -5 >&2
		done
	fi
	agent_cleanup
	net_cleanup
	zk_ensemble_cleanup
	return 0
}

# hosts_setup [VAR=VALUE...]: h1 and h2 in a tunnel zone, agents given every server; the
# environment given goes to h1's agent only.
hosts_setup() {
	mx tunnel-zone create name "$TZ" type vxlan
	net_host_add h1 192.0.2.1
	net_host_add h2 192.0.2.2
	net_underlay_check
	agent_start_all h1 "$@"
	agent_start_all h2
	agent_wait_ready_all h1
	agent_wait_ready_all h2
	mx tunnel-zone "$TZ" add member host "$(agent_name h1)" address 192.0.2.1
	mx tunnel-zone "$TZ" add member host "$(agent_name h2)" address 192.0.2.2
	mx bridge create name "$BR"
	vm_add h1 v11 11
	vm_add h1 v12 12
	vm_add h2 v21 21
	wait_until 20 ping_ok v11 10.0.0.21
	wait_until 20 ping_ok v12 10.0.0.21
	# steady state: each host holds the other's VM MACs as remote entries, so the flows that
	# follow are plain unicast from the start
	wait_until 20 fdb_remote h1 "$(net_mac v21)"
	wait_until 20 fdb_remote h2 "$(net_mac v11)"
}

# vm_add HOST VM N: VM 10.0.0.N with a port on the bridge bound to it.
vm_add() {
	net_vm_add "$1" "$2" "10.0.0.$3/24"
	bind_new_port "$1" "$2"
}

# bind_new_port HOST IF: a new port on the bridge, bound to interface IF of HOST.
bind_new_port() {
	local p
	p=$(mx bridge "$BR" add port) && [ -n "$p" ] || return 1
	mx host "$(agent_name "$1")" add binding port "$p" interface "$2"
}

# fdb_remote HOST MAC: HOST's MAC table holds MAC as learned elsewhere (MX_FDB_REMOTE).
fdb_remote() {
	map_has "$1" midox_fdb "any(.[]; .key.mac == $(mac_bytes "$2") and .value.flags == 4)"
}

# fdb_has HOST MAC: any entry for MAC.
fdb_has() {
	map_has "$1" midox_fdb "any(.[]; .key.mac == $(mac_bytes "$2"))"
}

# bound_here HOST IF: HOST's midox_ifport_v3 maps IF's ifindex to a port.
bound_here() {
	local ifindex
	ifindex=$(net_ifindex "$1" "$2") && [ -n "$ifindex" ] || return 1
	map_has "$1" midox_ifport_v3 "any(.[]; .key == $ifindex)"
}

# zk_dump: every node under /midox, through the topology library.
zk_dump() {
	MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" dump
}

# zk_has_mac MAC: ZooKeeper holds a learned-MAC node for MAC (under any bridge).
zk_has_mac() {
	zk_dump | grep -qE "^/midox/hosts/[0-9a-f-]+/macs/$1,"
}

# session_owns SESSION PATH-REGEX: the leader's `dump` lists a node matching PATH-REGEX among
# the ephemeral nodes of SESSION (hex, as agent_session prints it).
session_owns() {
	local sid
	printf -v sid '0x%x' "0x$1"
	zk_4lw "$(zk_server_port "$(zk_leader)")" dump |
		awk -v s="$sid:" '/^0x/ { cur = $1 } cur == s && /^\t/ { print $1 }' | grep -qE "$2"
}

host_id() { cat "$NET_DIR/$1.host-id"; }

# not CMD...: CMD fails (a plain `! CMD` never fails a bats test).
not() { ! "$@"; }

# ping_none FROM ADDR: two pings, none answered.
ping_none() {
	run net_in "$1" ping -c 2 -i 0.2 -W 1 "$2"
	echo "$output"
	[ "$status" -ne 0 ] && [[ "$output" == *" 0 received"* ]]
}

# connects HOST: how many times its agent logged a new ZooKeeper connection.
connects() {
	grep -c 'connected to ZooKeeper' "$NET_DIR/$1.agent.log" || true
}

# --- continuous traffic: ping every 10 ms, every reply printed with its sequence number ---

# flow_start NAME VM ADDR: start, and return once the flow has its first 20 replies.
flow_start() {
	net_bg "$2" "$NET_DIR/flow-$1" ping -D -i 0.01 -W 2 "$3"
	FLOWS+=("$1:$NET_BG_PID")
	wait_until 10 flow_replies_at_least "$1" 20
}

flow_replies_at_least() {
	[ "$(grep -c 'bytes from' "$NET_DIR/flow-$1")" -ge "$2" ]
}

# flow_stop_all: SIGINT every flow (ping prints its summary) and wait for it.
flow_stop_all() {
	local f
	for f in "${FLOWS[@]}"; do kill -0 "${f#*:}"; done
	for f in "${FLOWS[@]}"; do kill -INT "${f#*:}"; done
	for f in "${FLOWS[@]}"; do wait "${f#*:}" || true; done
}

# flow_lost NAME: print the flow's figures; succeed when no packet went unanswered. Lost means
# a sequence number never answered below the highest answered one; what was still in flight
# when the flow was stopped (at most 2 at 100 packets a second) is not loss.
flow_lost() {
	local out=$NET_DIR/flow-$1
	awk -v name="$1" '
		/bytes from/ && !/DUP!/ {
			if (match($0, /icmp_seq=[0-9]+/)) {
				seq = substr($0, RSTART + 9, RLENGTH - 9) + 0
				if (!(seq in got)) { got[seq] = 1; n++ }
				if (seq > max) max = seq
				t = substr($1, 2, length($1) - 2) + 0
				if (last && t - last > gap) gap = t - last
				last = t
			}
		}
		/packets transmitted/ { sent = $1 }
		END {
			lost = max - n
			printf "flow %s: %d sent, %d answered, %d lost, %d in flight at the end, longest gap between replies %.0f ms\n", name, sent, n, lost, sent - max, gap * 1000
			exit !(sent > 0 && lost == 0 && sent - max <= 2)
		}' "$out"
}

# A figure for the TAP output of a passing run too (bats shows fd 3 always).
report() { echo "# $*" >&3; }

flows_check() {
	local f rc=0 out
	flow_stop_all
	for f in "${FLOWS[@]}"; do
		out=$(flow_lost "${f%%:*}") || rc=1
		report "$out"
	done
	return "$rc"
}

# maps_snapshot HOST: what the agent programmed, in a stable order, without the datapath's
# last-seen times (which traffic keeps moving).
maps_snapshot() {
	local m
	for m in midox_ifport_v3 midox_port_v2 midox_bridge midox_arp_v2 midox_tunpeer midox_fdb; do
		echo "$m $(map_entries "$1" "$m" |
			jq -c 'map(.value |= (if type == "object" then del(.seen_ns) else . end))
				| sort_by(.key | tostring)')"
	done
}

# maps_settled HOST: HOST's maps_snapshot, once it stayed the same for 2.5 s (what agents
# learn is published on a 1 s tick and programmed on the other host by watch). Fails after
# 30 s of change.
maps_settled() {
	local prev now i
	prev=$(maps_snapshot "$1")
	for i in $(seq 1 12); do
		sleep 2.5
		now=$(maps_snapshot "$1")
		[ "$now" = "$prev" ] && { echo "$now"; return 0; }
		prev=$now
	done
	echo "maps of $1 still changing after 30 s" >&2
	return 1
}

# maps_unchanged HOST SNAPSHOT: HOST's maps_snapshot still equals SNAPSHOT; else the difference.
maps_unchanged() {
	local now
	now=$(maps_snapshot "$1")
	[ "$now" = "$2" ] && return 0
	echo "$1: maps changed:" >&2
	diff <(printf '%s\n' "$2" | sed 's/},{/},\n{/g') <(printf '%s\n' "$now" | sed 's/},{/},\n{/g') >&2
	return 1
}

# server_of PORT: the ensemble index of the server with client port PORT.
server_of() {
	local i
	for i in $(seq 1 "$ZK_ENS_N"); do
		[ "$(zk_server_port "$i")" = "$1" ] && { echo "$i"; return 0; }
	done
	return 1
}

# agent_moved HOST N OLDPORT: HOST's agent logged more than N connections and is connected to
# a server other than OLDPORT.
agent_moved() {
	local port
	[ "$(connects "$1")" -gt "$2" ] || return 1
	port=$(agent_zk_port "$1") || return 1
	[ "$port" != "$3" ]
}

@test "killing the ZooKeeper leader, then another server: no packet lost, agents fail over" {
	hosts_setup
	local s1 s2 c1 c2 p1 p2 leader victim t0
	s1=$(agent_session h1) s2=$(agent_session h2)
	[ -n "$s1" ]
	[ -n "$s2" ]
	flow_start a v11 10.0.0.21
	flow_start b v21 10.0.0.12

	# 1. the leader, killed
	leader=$(zk_leader)
	c1=$(connects h1) c2=$(connects h2)
	p1=$(agent_zk_port h1) p2=$(agent_zk_port h2)
	report "leader: server $leader; h1 on server $(server_of "$p1"), h2 on server $(server_of "$p2")"
	t0=$SECONDS
	zk_server_stop "$leader" KILL
	zk_ensemble_wait 30
	report "new leader: server $(zk_leader) after $((SECONDS - t0)) s"
	# followers that lose their leader drop their clients: every agent connects again
	wait_until 30 agent_moved h1 "$c1" "$(zk_server_port "$leader")"
	wait_until 30 agent_moved h2 "$c2" "$(zk_server_port "$leader")"
	agent_wait_ready_all h1
	agent_wait_ready_all h2
	report "agents reconnected $((SECONDS - t0)) s after the kill"
	# same sessions: nothing ephemeral was lost
	[ "$(agent_session h1)" = "$s1" ]
	[ "$(agent_session h2)" = "$s2" ]
	not grep -q 'session expired' "$NET_DIR/h1.agent.log"
	not grep -q 'session expired' "$NET_DIR/h2.agent.log"
	# a new port works with two servers of three
	vm_add h2 v22 22
	wait_until 20 ping_ok v11 10.0.0.22
	zk_server_start "$leader"
	zk_ensemble_wait 60

	# 2. another server, one an agent is connected to: when both agents chose the leader,
	# h1 is steered off it first (its forwarder to the leader's port cut, then restored)
	leader=$(zk_leader)
	p1=$(agent_zk_port h1) p2=$(agent_zk_port h2)
	if [ "$(server_of "$p1")" = "$leader" ] && [ "$(server_of "$p2")" = "$leader" ]; then
		c1=$(connects h1)
		zk_unlink h1 "$p1"
		wait_until 30 agent_moved h1 "$c1" "$p1"
		zk_link_all h1
		p1=$(agent_zk_port h1)
	fi
	c1=$(connects h1) c2=$(connects h2)
	victim=$(server_of "$p1")
	[ "$victim" != "$leader" ] || victim=$(server_of "$p2")
	[ "$victim" != "$leader" ]
	report "leader: server $leader; h1 on server $(server_of "$p1"), h2 on server $(server_of "$p2"); killing server $victim"
	t0=$SECONDS
	zk_server_stop "$victim" KILL
	zk_ensemble_wait 30
	[ "$(zk_leader)" = "$leader" ]
	# an agent on the killed server moves to another one; the others stay where they are
	local h c p n=0
	for h in h1 h2; do
		[ "$h" = h1 ] && c=$c1 p=$p1 || c=$c2 p=$p2
		if [ "$p" = "$(zk_server_port "$victim")" ]; then
			wait_until 30 agent_moved "$h" "$c" "$p"
			n=$((n + 1))
		fi
		agent_wait_ready_all "$h"
	done
	report "$n agent(s) moved off server $victim in $((SECONDS - t0)) s"
	[ "$n" -ge 1 ]
	[ "$(agent_session h1)" = "$s1" ]
	[ "$(agent_session h2)" = "$s2" ]
	vm_add h1 v13 13
	wait_until 20 ping_ok v13 10.0.0.22
	wait_until 20 ping_ok v21 10.0.0.13
	zk_server_start "$victim"
	zk_ensemble_wait 60

	flows_check
}

@test "whole ensemble down: forwarding goes on; changes after it returns, and while an agent is cut off, take effect" {
	hosts_setup
	vm_add h1 v13 13
	net_vm_add h2 v22 10.0.0.22/24
	wait_until 20 ping_ok v13 10.0.0.21
	flow_start a v11 10.0.0.21
	flow_start b v21 10.0.0.12
	local before1 before2 t0 out
	# what the flows make the agents learn must be everywhere before the outage starts
	before1=$(maps_settled h1)
	before2=$(maps_settled h2)

	t0=$SECONDS
	zk_ensemble_stop
	# nothing can change
	run mx bridge create name "$NET_RUN-new"
	echo "mx during the outage: status $status: $output"
	[ "$status" -ne 0 ]
	# what the maps hold still forwards, a fresh ARP included (flooded, answered)
	net_in v12 ip neigh flush dev eth0
	run net_in v12 ping -c 3 -i 0.05 -W 1 10.0.0.21
	echo "$output"
	[[ "$output" == *" 3 received, 0% packet loss"* ]]
	while [ "$SECONDS" -lt $((t0 + ZKF_OUTAGE)) ]; do
		agent_running h1
		agent_running h2
		sleep 1
	done
	# the agents kept the datapath as it was
	maps_unchanged h1 "$before1"
	maps_unchanged h2 "$before2"
	report "ensemble down for $((SECONDS - t0)) s"

	# back: at once the CLI binds a new VM on h2 and unbinds v13 on h1
	local i
	for i in $(seq 1 "$ZK_ENS_N"); do zk_server_start "$i"; done
	zk_ensemble_wait 60
	t0=$SECONDS
	bind_new_port h2 v22
	mx host "$(agent_name h1)" delete binding interface v13
	wait_until 30 ping_ok v11 10.0.0.22
	wait_until 30 not bound_here h1 v13
	report "changes after the return in effect after $((SECONDS - t0)) s"
	agent_wait_ready_all h1
	agent_wait_ready_all h2
	ping_none v13 10.0.0.21
	grep -E 'session expired|connected to ZooKeeper' "$NET_DIR/h1.agent.log" "$NET_DIR/h2.agent.log"

	# h2 cut off from ZooKeeper alone: a VM bound and one unbound meanwhile
	local ports1
	ports1=$(map_entries h1 midox_port_v2 | jq length)
	zk_unlink h2
	wait_until 10 not agent_zk_port h2
	net_vm_add h2 v23 10.0.0.23/24
	bind_new_port h2 v23
	mx host "$(agent_name h2)" delete binding interface v22
	# h1 hears of it at once, h2 cannot
	wait_until 10 map_has h1 midox_port_v2 "length == $((ports1 + 1))"
	not bound_here h2 v23
	bound_here h2 v22
	zk_link_all h2
	wait_until 30 ping_ok v11 10.0.0.23
	wait_until 30 not bound_here h2 v22
	ping_none v11 10.0.0.22
	agent_wait_ready_all h2

	flows_check
}

@test "session expiry: the paused agent registers its ephemeral state again, nothing stale is left" {
	# h1's session lasts 4 s, its MACs age out after 8 s without a frame
	hosts_setup MIDOX_ZK_SESSION_TIMEOUT_MS=4000 MIDOX_MAC_AGE_SECONDS=8
	local mac11 mac12 id s_old s_new pid t0 seen=0
	mac11=$(net_mac v11) mac12=$(net_mac v12)
	id=$(host_id h1)
	s_old=$(agent_session h1)
	flow_start a v11 10.0.0.21
	# both MACs learned on h1, published, programmed on h2
	ping_ok v12 10.0.0.21
	wait_until 20 zk_has_mac "$mac11"
	wait_until 20 zk_has_mac "$mac12"
	wait_until 20 fdb_remote h2 "$mac12"
	session_owns "$s_old" "^/midox/hosts/$id/alive\$"
	session_owns "$s_old" "/macs/$mac12,"

	# v12 falls silent; h1's agent stops past its session timeout and v12's MAC age
	net_in v12 ip link set eth0 down
	pid=$(agent_pid h1)
	kill -STOP "$pid"
	t0=$SECONDS
	# the session ends: h1's liveness and MACs leave ZooKeeper, and h2 forgets them
	wait_until 20 not agent_alive h1
	wait_until 20 not zk_has_mac "$mac12"
	wait_until 20 not fdb_has h2 "$mac12"
	wait_until 20 not fdb_remote h2 "$mac11"
	report "h1's session ended $((SECONDS - t0)) s after the pause"
	while [ "$SECONDS" -lt $((t0 + 10)) ]; do sleep 0.5; done
	kill -CONT "$pid"
	t0=$SECONDS

	# registered again, by a new session; v12's MAC, aged meanwhile, never comes back
	local deadline=$((SECONDS + 30))
	while :; do
		if zk_has_mac "$mac12" || fdb_has h2 "$mac12"; then seen=$((seen + 1)); fi
		if agent_alive h1 && zk_has_mac "$mac11" && fdb_remote h2 "$mac11" &&
			[ "$(agent_session h1)" != "$s_old" ]; then
			break
		fi
		[ "$SECONDS" -lt "$deadline" ] || { echo "h1 not registered again after 30 s" >&2; false; }
		sleep 0.1
	done
	echo "h1 registered again $((SECONDS - t0)) s after it resumed"
	grep -E 'session expired|connected to ZooKeeper' "$NET_DIR/h1.agent.log"
	grep -q 'session expired' "$NET_DIR/h1.agent.log"
	s_new=$(agent_session h1)
	session_owns "$s_new" "^/midox/hosts/$id/alive\$"
	session_owns "$s_new" "/macs/$mac11,"
	# the host's report too: its interfaces and its bindings' state
	session_owns "$s_new" "^/midox/hosts/$id/interfaces/ul0\$"
	session_owns "$s_new" "^/midox/hosts/$id/binding_status/v11\$"
	not session_owns "$s_old" .
	echo "v12's MAC seen again $seen time(s)"
	[ "$seen" -eq 0 ]
	not zk_has_mac "$mac12"
	not fdb_has h2 "$mac12"
	not fdb_has h1 "$mac12"
	agent_running h1

	flows_check
}
