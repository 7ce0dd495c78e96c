#!/usr/bin/env bats
# midox-agent --verify (docs/architecture.md): the pinned maps of a host against what the
# topology implies. Two hosts as in l2_overlay.bats; verify passes, a map tampered with by
# bpftool is reported entry by entry (exit 1), and the agent's next pass repairs it.

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
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NET_DIR:-}" ]; then
		agent_verify_log h1
		agent_verify_log h2
	fi
	e2e_teardown ifport_v2 port tunpeer
	return 0
}

# two_hosts: h1 and h2 in a zone, VMs v11 (h1) and v21 (h2) on one bridge, talking.
two_hosts() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
}

@test "verify: equal after sync, each tampered entry reported, equal again after a pass" {
	two_hosts
	wait_until 20 agent_verify h1
	wait_until 20 agent_verify h2
	# v21's MAC, learned by h2 and published, is in h1's table before h1 stops: otherwise it
	# may arrive while h1 is stopped and be a third, honest difference
	wait_until 20 map_has h1 midox_fdb "any(.[]; .key.mac == $(mac_bytes "$(net_mac v21)"))"
	wait_until 20 agent_verify h1
	run -0 --separate-stderr agent_verify h1
	echo "stderr: $stderr"
	[ "$output" = "the maps in $(agent_pin h1) hold what the topology implies" ]

	# Tamper while the agent is stopped (it would repair the maps at its next pass): the
	# remote port v21 goes from midox_port_v2, the peer h2 gets other flags.
	local remote
	remote=$(port_key h2 v21)
	agent_stop h1
	bpftool map delete pinned "$(agent_pin h1)/midox_port_v2" key hex $(le32 "$remote")
	bpftool map update pinned "$(agent_pin h1)/midox_tunpeer" key hex c0 00 02 02 value hex 01 00 00 00
	run -1 --separate-stderr agent_verify h1
	echo "$output"
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"midox_port_v2: missing port key $remote"* ]]
	[[ "$output" == *"midox_tunpeer: different peer 192.0.2.2: want 00..., have 01"* ]]
	[ "${lines[2]}" = "2 differences between the maps in $(agent_pin h1) and the topology" ]
	# another host's maps are not concerned
	run -0 agent_verify h2

	# an extra entry, too
	bpftool map update pinned "$(agent_pin h1)/midox_tunpeer" key hex c0 00 02 63 value hex 00 00 00 00
	run -1 --separate-stderr agent_verify h1
	[[ "$output" == *"midox_tunpeer: extra peer 192.0.2.99"* ]]

	agent_start h1
	agent_wait_ready h1
	wait_until 20 agent_verify h1
	run -0 agent_verify h1
	ping_all v11 10.0.0.21 2
}

@test "verify: what the datapath learned itself is no difference; no maps, nothing to verify" {
	two_hosts
	local mac bkey
	mac=$(net_mac v11)
	bkey=$(map_entries h1 midox_port_v2 | jq -er --argjson p "$(port_key h1 v11)" '.[] | select(.key == $p) | .value.device_key')
	# v11's MAC, learned by h1's datapath (MX_FDB_LOCAL)
	wait_until 10 map_has h1 midox_fdb \
		"any(.[]; .key.mac == $(mac_bytes "$mac") and .key.bridge_key == $bkey and ((.value.flags / 2 | floor) % 2) == 1)"
	# equal (exit 0) with that entry in the map; one check, not a second one after it: h2
	# may publish what it learned between the two, and h1 program it a moment later
	wait_until 20 agent_verify h1
	run -2 nsenter --net="/run/netns/$NET_RUN-h1" -- env MIDOX_ZK_SERVERS="127.0.0.1:$ZK_PORT" \
		MIDOX_PIN_ROOT="$BATS_TEST_TMPDIR/nothing" \
		"$MIDOX_BUILD/midox-agent" --config "$NET_DIR/h1.conf" --verify
	[[ "$output" == *"nothing to verify"* ]]
}

@test "agents with the cluster credential: provisioned, forwarding, verified; the tree protected" {
	export MIDOX_CREDENTIALS="$BATS_TEST_TMPDIR/cluster.cred"
	echo "admin:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$MIDOX_CREDENTIALS"
	two_hosts
	wait_until 20 agent_verify h1
	grep -q "provisioned host" "$NET_DIR/h1.agent.log"
	id=$(cat "$NET_DIR/h1.host-id")
	run -0 env MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" getacl "/midox/hosts/$id"
	[[ "$output" == *"digest:host-$id:"*" rwcd"* ]]
	run -0 env MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" getacl "/midox/hosts/$id/alive"
	[[ "$output" == *"digest:host-$id:"*" rwcd"* ]]
	[ "$(stat -c %a "$NET_DIR/h1.host-id.secret")" = 600 ]
	# the CLI without the credential reads, and is refused a write
	run -0 env -u MIDOX_CREDENTIALS "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" bridge list
	run -5 env -u MIDOX_CREDENTIALS "$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" bridge create name x
	# a restarted agent resumes its session with its own identity
	agent_restart h1
	agent_wait_ready h1
	wait_until 20 agent_verify h1
	ping_all v11 10.0.0.21 2
}
