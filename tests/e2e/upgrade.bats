#!/usr/bin/env bats
# An upgrade from the previous tree keeps forwarding: agents of git commit 6378c9c (before the
# router's ARP table became the neighbour table, pin midox_rarp) run two hosts and a topology
# made with that tree's CLI; each is replaced by this tree's agent (stopped by PID, started on
# the same pin root and host id) while pings flow. The old tree is exported with `git archive`
# into a temporary directory and built there (agent and CLI only), once for the file.
#
#   bridge A 10.0.1.0/24 across the hosts: v11 10.0.1.11 on h1, v21 10.0.1.21 on h2, and
#            router R's port 10.0.1.1
#   bridge B 10.0.2.0/24: v22 10.0.2.22 on h2 (a port without fixed address: the router
#            learns its MAC by ARP, so the neighbour table holds entries), R's port 10.0.2.1

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

OLD_COMMIT=6378c9c

setup_file() {
	e2e_setup_file midox midox-agent
	local repo
	repo=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# Not a skip: without the old tree the upgrade is simply not tested, and that must show.
	if ! git -C "$repo" cat-file -e "$OLD_COMMIT^{commit}" 2>/dev/null; then
		echo "upgrade.bats: commit $OLD_COMMIT is not available from $repo (needs git and a clone with its history)" >&2
		return 1
	fi
	OLD_TREE=$(mktemp -d /tmp/midox-upgrade.XXXXXX)
	export OLD_TREE OLD_BUILD=$OLD_TREE/build
	git -C "$repo" archive "$OLD_COMMIT" | tar -x -C "$OLD_TREE" || return 1
	# Only what the test runs: the old Makefile's `all` also builds the fuzz targets.
	if ! make -C "$OLD_TREE" -j2 build/midox-agent build/midox >"$OLD_TREE/build.log" 2>&1; then
		echo "upgrade.bats: building $OLD_COMMIT failed:" >&2
		tail -20 "$OLD_TREE/build.log" >&2
		return 1
	fi
}

teardown_file() {
	zk_cleanup
	[ -n "${OLD_TREE:-}" ] && rm -rf "$OLD_TREE"
	return 0
}

setup() {
	net_init
	BR_A=$NET_RUN-a
	BR_B=$NET_RUN-b
	RT=$NET_RUN-r
	TZ=$NET_RUN-tz
}

teardown() {
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_neigh midox_rarp
}

# vm_port HOST VM ADDR BRIDGE [mac MAC address ADDR]: VM ADDR/24 (gateway .1, MAC MAC when
# given) with a new port of BRIDGE bound to it (with those fixed fields).
vm_port() {
	local host=$1 vm=$2 addr=$3 br=$4 p
	shift 4
	net_vm_add "$host" "$vm" "$addr/24" "${2:-}"
	net_vm_gw "$vm" "${addr%.*}.1"
	p=$(mx bridge "$br" add port "$@") || return 1
	mx host "$(agent_name "$host")" add binding port "$p" interface "$vm"
}

# router_link BRIDGE ADDR NET: a port of R (ADDR in NET) linked to a new port of BRIDGE.
router_link() {
	local rp bp
	rp=$(mx router "$RT" add port address "$2" net "$3") && bp=$(mx bridge "$1" add port) &&
		mx bridge "$1" port "${bp#*:}" set peer router "$RT" port "${rp#*:}"
}

upgrade_topology() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR_A" && mx bridge create name "$BR_B" &&
		mx router create name "$RT" || return 1
	router_link "$BR_A" 10.0.1.1 10.0.1.0/24 && router_link "$BR_B" 10.0.2.1 10.0.2.0/24 || return 1
	vm_port h1 v11 10.0.1.11 "$BR_A" mac 02:00:0a:00:01:0b address 10.0.1.11 &&
		vm_port h2 v21 10.0.1.21 "$BR_A" mac 02:00:0a:00:01:15 address 10.0.1.21 &&
		vm_port h2 v22 10.0.2.22 "$BR_B"
}

# runs_new HOST IF: the program at midox's filter on IF works on HOST's pinned
# midox_port_v2, so it is the new agent's (the old agent's kept its own port map).
runs_new() {
	local id map
	id=$(net_in "$1" tc -j filter show dev "$2" ingress | jq -r '[.[].options.prog.id // empty][0] // empty')
	map=$(bpftool -j map show pinned "$(agent_pin "$1")/midox_port_v2" | jq -r '.id // empty')
	[ -n "$id" ] && [ -n "$map" ] &&
		bpftool -j prog show id "$id" | jq -e --argjson m "$map" '.map_ids | index($m) != null' >/dev/null
}

# neighbours HOST MAP: the map's entries without their timestamps, sorted.
neighbours() {
	map_entries "$1" "$2" | jq -c 'map(del(.value.seen_ns)) | sort_by(.key)'
}

@test "upgrading both agents from $OLD_COMMIT under ping floods loses nothing and keeps the neighbours" {
	MIDOX_BUILD=$OLD_BUILD upgrade_topology
	wait_until 20 ping_ok v11 10.0.1.21
	# the first packets to v22 become ARP requests of the router: its neighbour table fills
	wait_until 20 ping_ok v11 10.0.2.22
	local h before=() n
	for h in h1 h2; do
		[ -e "$(agent_pin $h)/midox_rarp" ]
		[ ! -e "$(agent_pin $h)/midox_neigh" ]
	done
	before=("$(neighbours h1 midox_rarp)" "$(neighbours h2 midox_rarp)")
	echo "neighbours before: ${before[*]}"
	# v22's MAC on both hosts: learned on h2 (2, local), published to h1 (4, remote)
	jq -e 'any(.[]; .value.flags == 2)' <<<"${before[1]}"
	jq -e 'any(.[]; .value.flags == 4)' <<<"${before[0]}"

	flood_start v11 10.0.1.21 # bridged across the hosts
	flood_start v22 10.0.1.11 # routed on h2, then across the hosts
	restart_under_floods h1 h2 # MIDOX_BUILD is this tree's: the new agents

	n=0
	for h in h1 h2; do
		[ ! -e "$(agent_pin $h)/midox_rarp" ]
		[ -e "$(agent_pin $h)/midox_neigh" ]
		# every neighbour the old map held is in the new one, unchanged
		jq -e --argjson after "$(neighbours $h midox_neigh)" 'all(.[]; . as $e | $after | index([$e]) != null)' \
			<<<"${before[$n]}"
		n=$((n + 1))
		agent_verify "$h"
	done
	# Every interface runs the new agent's program, not the old one on the old maps (which
	# forwards to the ports made before the upgrade only: v12 below would be reached from
	# v21 only until h2 installed v12's MAC).
	wait_until 10 runs_new h1 ul0
	wait_until 10 runs_new h1 v11
	wait_until 10 runs_new h2 ul0
	wait_until 10 runs_new h2 v21
	wait_until 10 runs_new h2 v22
	# the new agents act on changes: a new VM on bridge A, reached from both hosts
	vm_port h1 v12 10.0.1.12 "$BR_A"
	wait_until 20 ping_ok v21 10.0.1.12
	wait_until 20 ping_ok v22 10.0.1.12
}
