#!/usr/bin/env bats
# The agent as an operator meets it: --version, log lines with the time and level that name
# the port they are about, a ZooKeeper that is down logged once per state change, and a
# refusal to run under `ip netns exec` (pins in a bpffs that would vanish with it).
# The interactive prompt's side (Ctrl-C, history, Tab) is in cli_interactive.bats.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown ifport_v2 port
	return 0
}

# A timed line: "2026-12-02T19:30:01.123Z midox-agent LEVEL: "
TIMED='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z midox-agent'

@test "--version: both binaries print their version and exit 0" {
	run -0 "$MIDOX_BUILD/midox" --version
	[[ "$output" =~ ^midox\ [^[:space:]]+$ ]]
	run -0 "$MIDOX_BUILD/midox-agent" --version
	[[ "$output" =~ ^midox-agent\ [^[:space:]]+$ ]]
	# the same version in both
	[ "${output#midox-agent }" = "$("$MIDOX_BUILD/midox" --version | cut -d' ' -f2)" ]
}

@test "agent log: every line timed with a level; binding and unbinding name the port" {
	e2e_hosts "$TZ" h1=192.0.2.1
	mx bridge create name "$BR"
	local p
	net_vm_add h1 v11 10.0.0.11/24 ""
	p=$(mx bridge "$BR" add port)
	mx host "$(agent_name h1)" add binding port "$p" interface v11
	local log=$NET_DIR/h1.agent.log
	wait_until 10 grep -qE "$TIMED info: port $p \(v11\) bound, forwarding$" "$log"
	mx host "$(agent_name h1)" delete binding interface v11
	wait_until 10 grep -qE "$TIMED info: port $p \(v11\) unbound, program detached$" "$log"
	# every line the agent wrote (not the test's own markers) has the time and a level
	run -1 grep -vE "$TIMED (error|warning|info|debug): |^agent.bash: " "$log"
}

@test "a ZooKeeper that is down: one line per state change, not one per retry" {
	net_host_add h1 192.0.2.1
	# a port nothing listens on, in the host's namespace
	agent_start h1 MIDOX_ZK_SERVERS=127.0.0.1:1
	local log=$NET_DIR/h1.agent.log
	wait_until 10 grep -q 'ZooKeeper client: .*refused' "$log"
	sleep 5
	agent_running h1
	grep 'ZooKeeper' "$log" >&2
	[ "$(grep -c 'ZooKeeper client: ' "$log")" -le 2 ]
}

@test "under ip netns exec the agent refuses, naming the fix, and pins nothing" {
	net_host_add h1 192.0.2.1
	local pin=$AGENT_PIN_BASE/$NET_RUN-netnsexec
	run -1 --separate-stderr env MIDOX_TUNNEL_IF=ul0 MIDOX_ZK_SERVERS=127.0.0.1:1 \
		MIDOX_HOST_ID_FILE="$NET_DIR/netnsexec.host-id" MIDOX_PIN_ROOT="$pin" \
		ip netns exec "$(net_ns h1)" "$MIDOX_BUILD/midox-agent" --config /dev/null
	echo "$stderr" >&2
	[[ "$stderr" == *"ip netns exec"* ]]
	[[ "$stderr" == *"nsenter --net=/run/netns/NAME midox-agent"* ]]
	[ ! -e "$pin" ]
	[ ! -e "$NET_DIR/netnsexec.host-id" ]
}
