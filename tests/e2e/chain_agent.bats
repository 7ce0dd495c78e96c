#!/usr/bin/env bats
# The agent installs the rule chains into this host's pinned chain maps (docs/chains-
# datapath.md): a chain made with the CLI appears in midox_chain_v2 with its rules in the live
# half, the next reconcile follows a rule added or deleted, and the chain goes with its
# delete. Real ZooKeeper, a real agent in a host namespace, the maps read with bpftool.

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

bats_require_minimum_version 1.5.0

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	CH=$NET_RUN-fw
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_chgen midox_chain_v2
}

# rules_live: "CHAINS RULES" of the live half, read from the pins of h1.
rules_live() {
	local pin gen
	pin=$(agent_pin h1)
	gen=$(bpftool -j map dump pinned "$pin/midox_chgen" | jq '.[0].formatted.value.gen') || return 1
	bpftool -j map dump pinned "$pin/midox_chain_v2" |
		jq -r --argjson g "$gen" '"\(length) \([.[].formatted.values[0].value.half[$g].n] | add // 0)"'
}

live_is() {
	local got
	got=$(rules_live) || return 1
	echo "live: $got, want $1"
	[ "$got" = "$1" ]
}

@test "a chain and its rules reach the pinned maps, follow each change, and go with the chain" {
	e2e_hosts "$TZ" h1=192.0.2.1
	wait_until 10 live_is "0 0"
	mx chain create name "$CH"
	wait_until 10 live_is "1 0"
	mx chain "$CH" add rule type drop src 10.0.0.0/8
	mx chain "$CH" add rule type accept dst-port 80 proto 6
	wait_until 10 live_is "1 2"
	# the chain's entry deleted behind the agent's back: its next pass installs again
	local pin key
	pin=$(agent_pin h1)
	key=$(bpftool -j map dump pinned "$pin/midox_chain_v2" | jq '.[0].formatted.key')
	bpftool map delete pinned "$pin/midox_chain_v2" key \
		$(printf '%08x' "$key" | sed -E 's/(..)(..)(..)(..)/0x\4 0x\3 0x\2 0x\1/')
	run -0 live_is "0 0"
	mx bridge create name "$NET_RUN-poke"
	wait_until 10 live_is "1 2"
	grep -q "the live version is not what this agent installed; installing it again" \
		"$NET_DIR/h1.agent.log"
	run -0 mx --force chain "$CH" rule rule0 delete
	wait_until 10 live_is "1 1"
	run -0 mx --force chain "$CH" delete
	wait_until 10 live_is "0 0"
	run -0 live_is "0 0"
	grep -q "rule chains installed: 1 chains, 2 rules" "$NET_DIR/h1.agent.log"
}

@test "across an agent restart the installed version stays live until the new one switches in" {
	e2e_hosts "$TZ" h1=192.0.2.1
	mx chain create name "$CH"
	mx chain "$CH" add rule type drop src 10.0.0.0/8
	wait_until 10 live_is "1 1"
	run -0 agent_verify h1
	agent_stop h1
	mx chain "$CH" add rule type accept proto 17
	run -0 live_is "1 1"
	# --verify sees the live version behind the topology
	run -1 agent_verify h1
	[[ "$output" == *"midox_chain_v2: chain "*": 1 rules live, want 2"* ]]
	[[ "$output" == *"1 differences between the maps in"* ]]
	# The counters as the CLI reads them where the maps are pinned: the new rule is not
	# installed yet (no traffic here, so the installed rule counted nothing).
	run -0 mx --pin-root "$(agent_pin h1)" chain "$CH" list rule
	echo "$output"
	[ "${lines[0]}" = "rule rule0 pos 1 type drop src 10.0.0.0/8 fragment-policy any packets 0 bytes 0" ]
	[ "${lines[1]}" = "rule rule1 pos 2 type accept proto 17 fragment-policy any counters not-installed" ]
	run -0 mx --json --pin-root "$(agent_pin h1)" chain "$CH" list rule
	[ "$(jq -c '[.[].counters]' <<<"$output")" = '[{"packets":0,"bytes":0},null]' ]
	agent_start h1
	agent_wait_ready h1
	wait_until 10 live_is "1 2"
	run -0 mx --pin-root "$(agent_pin h1)" chain "$CH" list rule
	[[ "${lines[1]}" == *" packets 0 bytes 0" ]]
	run -0 agent_verify h1
	[[ "$output" == *"hold what the topology implies"* ]]
	run -0 grep -c "rule chains installed: 1 chains, 2 rules" "$NET_DIR/h1.agent.log"
	[ "$output" -eq 1 ]
}
