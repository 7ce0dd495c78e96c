#!/usr/bin/env bats
# midox-cni's "nodeBlockSize": one pod subnet for every node, split by node. Each node's
# first ADD claims a block of the subnet in ZooKeeper (/midox/cni/<network>/blocks/
# <a.b.c.d>-<len>, its host id as data) and host-local (Debian's, keeping its leases on the
# node) leases from that block alone. Two nodes with real agents as in cni.bats, given the
# same configuration (but for the paths that are the same on real nodes and must differ
# here: host id file, data folders, pin root); pods here are named "cb*". Each test names
# its network after the run, so that the file's one ZooKeeper holds each test's blocks
# apart.

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

FOREIGN_HOST=00000000-0000-4000-8000-00000000cb01 # a node that left, holding a block

setup() {
	cni_setup
	NET=$NET_RUN-pods
	BLOCKS=/midox/cni/$NET/blocks
}

teardown() {
	e2e_teardown
	# a test that secured the file's tree removes it (with the credential it was secured
	# with), so that the tests after it find an open one
	[ -z "${SECURED:-}" ] || helper wipe
	return 0
}

# nodes_up: h1 and h2 with their agents in one tunnel zone, the pods' bridge.
nodes_up() { cni_nodes; }

helper() {
	MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" "$@"
}

host_id() { cat "$NET_DIR/$1.host-id"; }

# conf HOST [LEN [JQ]]: cni_conf's, the subnet 10.244.0.0/24 split into /LEN blocks (26 by
# default: four) instead of a range per node; JQ edits it further.
conf() {
	cni_conf "$1" ".name = \"$NET\" | .nodeBlockSize = ${2:-26} |
		.ipam.ranges[0][0] |= del(.rangeStart, .rangeEnd)" | jq -c "${3:-.}"
}

# claims: "<block> <host id>" per claim node of the network.
claims() {
	helper dump | awk -v p="$BLOCKS/" 'index($1, p) == 1 {
		if (!match($3, /"host":"[0-9a-f-]+"/)) next
		print substr($1, length(p) + 1), substr($3, RSTART + 8, RLENGTH - 9) }'
}

declare -gA RESULT=()
# add HOST POD [CONF]: ADD eth0 of POD, the result in RESULT[POD].
add() {
	local out
	out=$(cni "$1" ADD "$2" "$2" eth0 "${3:-$(conf "$1")}") ||
		{ echo "ADD $2 on $1 failed: $out" >&2; return 1; }
	RESULT[$2]=$out
}

pod_ip() {
	jq -er '.ips[0].address | split("/")[0]' <<< "${RESULT[$1]}"
}

# in_block ADDR BLOCK: ADDR lies in BLOCK ("a.b.c.d-len"), one of 10.244.0.0/24's.
in_block() {
	local a=${1##*.} start=${2%-*} len=${2#*-}
	start=${start##*.}
	[ "${1%.*}" = 10.244.0 ]
	[ "$a" -ge "$start" ]
	[ "$a" -lt $((start + (1 << (32 - len)))) ]
}

# del_all HOST POD...: DEL each pod's eth0 on HOST.
del_all() {
	local h=$1 p
	shift
	for p in "$@"; do cni "$h" DEL "$p" "$p" eth0 "$(conf "$h")" >/dev/null; done
}

@test "one configuration on two nodes: each node's pods in a block of its own, claimed in ZooKeeper; pods reach each other; CHECK; DEL" {
	nodes_up
	local p
	for p in cb11 cb12 cb21 cb22; do cni_pod "$p"; done
	add h1 cb11
	add h2 cb21
	add h1 cb12
	add h2 cb22
	# the first node took the first block, the second the next; each its own
	run -0 claims
	echo "$output"
	[ "${#lines[@]}" -eq 2 ]
	[ "$output" = "10.244.0.0-26 $(host_id h1)
10.244.0.64-26 $(host_id h2)" ]
	# the pods' addresses: in their node's block, none twice, the subnet and gateway kept
	# (one L2 segment), the network address and the gateway never leased
	local ip11 ip12 ip21 ip22
	ip11=$(pod_ip cb11)
	ip12=$(pod_ip cb12)
	ip21=$(pod_ip cb21)
	ip22=$(pod_ip cb22)
	echo "$ip11 $ip12 $ip21 $ip22"
	in_block "$ip11" 10.244.0.0-26
	in_block "$ip12" 10.244.0.0-26
	in_block "$ip21" 10.244.0.64-26
	in_block "$ip22" 10.244.0.64-26
	[ "$(printf '%s\n' "$ip11" "$ip12" "$ip21" "$ip22" | sort -u | wc -l)" -eq 4 ]
	[ "$ip11" = 10.244.0.2 ]
	[ "$ip21" = 10.244.0.64 ]
	jq -e '.ips[0].address == "10.244.0.64/24" and .ips[0].gateway == "10.244.0.1"' \
		<<< "${RESULT[cb21]}"
	# pods reach each other on one node and across
	ping_all cb11 "$ip12" 3
	wait_until 10 ping_ok cb11 "$ip21"
	ping_all cb11 "$ip21" 3
	wait_until 10 ping_ok cb22 "$ip12"
	ping_all cb22 "$ip12" 3
	# CHECK passes (host-local's own CHECK included)
	run -0 --separate-stderr cni h2 CHECK cb21 cb21 eth0 "$(conf h2 26 ".prevResult = ${RESULT[cb21]}")"
	[ -z "$output" ]
	# the node keeps its block: an ADD after the record of it went (found by its claim in
	# ZooKeeper) stays in it, and no second claim is made
	[ "$(cat "$NET_DIR/cni-h1/.block-$NET")" = 10.244.0.0-26 ]
	rm "$NET_DIR/cni-h1/.block-$NET"
	cni_pod cb13
	add h1 cb13
	in_block "$(pod_ip cb13)" 10.244.0.0-26
	[ "$(cat "$NET_DIR/cni-h1/.block-$NET")" = 10.244.0.0-26 ]
	run -0 claims
	[ "${#lines[@]}" -eq 2 ]
	# DEL needs no block; the blocks stay with their nodes (as host-local's state does)
	del_all h1 cb11 cb12 cb13
	del_all h2 cb21 cb22
	[ "$(ports_of_bridge)" -eq 0 ]
	[ "$(leases h1)" -eq 0 ]
	[ "$(leases h2)" -eq 0 ]
	run -0 claims
	[ "${#lines[@]}" -eq 2 ]
}

@test "every block claimed: ADD fails with 107 and leaves nothing; the block of a node that left, freed, serves" {
	nodes_up
	cni_pod cb11
	cni_pod cb21
	# two /25 blocks: h1 takes the first, a node that left holds the second
	add h1 cb11 "$(conf h1 25)"
	helper put "$BLOCKS/10.244.0.128-25" "{\"host\":\"$FOREIGN_HOST\",\"schema\":1}"
	run -1 --separate-stderr cni h2 ADD cb21 cb21 eth0 "$(conf h2 25)"
	is_error "$output" 107 "no free /25 block of 10.244.0.0/24 for network $NET: all 2 are other nodes'"
	[[ $output == *"$BLOCKS"* ]]
	# nothing of h2's: no veth, port, binding, lease, record (nor a claim)
	[ "$(ports_of_bridge)" -eq 1 ]
	[ -z "$(mx host "$(agent_name h2)" list binding)" ]
	[ "$(leases h2)" -eq 0 ]
	[ -z "$(ls -A "$NET_DIR/cni-h2" 2>/dev/null)" ]
	run ! grep -q ': mxc' <<< "$(ip -n "$NET_RUN-h2" -o link show)"
	run ! ip -n "$NET_RUN-cb21" link show eth0
	run -0 claims
	[ "$output" = "10.244.0.0-25 $(host_id h1)
10.244.0.128-25 $FOREIGN_HOST" ]
	# the operator frees the departed node's block: h2 claims it
	helper delete "$BLOCKS/10.244.0.128-25"
	add h2 cb21 "$(conf h2 25)"
	in_block "$(pod_ip cb21)" 10.244.0.128-25
	run -0 claims
	[ "$output" = "10.244.0.0-25 $(host_id h1)
10.244.0.128-25 $(host_id h2)" ]
	wait_until 10 ping_ok cb21 "$(pod_ip cb11)"
	cni h1 DEL cb11 cb11 eth0 "$(conf h1 25)"
	cni h2 DEL cb21 cb21 eth0 "$(conf h2 25)"
	[ "$(ports_of_bridge)" -eq 0 ]
}

@test "ADDs in parallel on both nodes: one block per node, every address once" {
	local n=${CNI_PARALLEL:-6} i h pids=()
	nodes_up
	for i in $(seq 1 "$n"); do
		for h in h1 h2; do
			cni_pod "cb$h$i"
			cni "$h" ADD "cb$h$i" "cb$h$i" eth0 "$(conf "$h")" > "$NET_DIR/add-cb$h$i" &
			pids+=($!)
		done
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run -0 claims
	echo "$output"
	[ "${#lines[@]}" -eq 2 ]
	[ "$(grep -c " $(host_id h1)$" <<< "$output")" -eq 1 ]
	[ "$(grep -c " $(host_id h2)$" <<< "$output")" -eq 1 ]
	local b1 b2
	b1=$(awk -v h="$(host_id h1)" '$2 == h { print $1 }' <<< "$output")
	b2=$(awk -v h="$(host_id h2)" '$2 == h { print $1 }' <<< "$output")
	for i in $(seq 1 "$n"); do
		RESULT[cbh1$i]=$(cat "$NET_DIR/add-cbh1$i")
		RESULT[cbh2$i]=$(cat "$NET_DIR/add-cbh2$i")
		in_block "$(pod_ip "cbh1$i")" "$b1"
		in_block "$(pod_ip "cbh2$i")" "$b2"
	done
	[ "$(for i in $(seq 1 "$n"); do pod_ip "cbh1$i"; pod_ip "cbh2$i"; done | sort -u | wc -l)" -eq $((2 * n)) ]
	wait_until 10 ping_ok cbh11 "$(pod_ip "cbh2$n")"
	for i in $(seq 1 "$n"); do
		del_all h1 "cbh1$i"
		del_all h2 "cbh2$i"
	done
	[ "$(ports_of_bridge)" -eq 0 ]
}

@test "host-local's legacy top-level subnet is split the same way" {
	nodes_up
	cni_pod cb11
	local cf
	cf=$(conf h1 26 '.ipam |= (del(.ranges) + { subnet: "10.244.0.0/24", gateway: "10.244.0.1" })')
	jq -e '.ipam.subnet and (.ipam.ranges | not)' <<< "$cf"
	add h1 cb11 "$cf"
	[ "$(pod_ip cb11)" = 10.244.0.2 ]
	run -0 claims
	[ "$output" = "10.244.0.0-26 $(host_id h1)" ]
	run -0 --separate-stderr cni h1 DEL cb11 cb11 eth0 "$cf"
	[ "$(leases h1)" -eq 0 ]
}

@test "a nodeBlockSize that does not fit is refused with 7, before anything is made" {
	nodes_up
	cni_pod cb11
	run -1 --separate-stderr cni h1 ADD cb11 cb11 eth0 "$(conf h1 24)"
	is_error "$output" 7 '"nodeBlockSize" 24 must be a prefix length above the subnet'
	run -1 --separate-stderr cni h1 ADD cb11 cb11 eth0 "$(conf h1 26 '.ipam.ranges += [[{ subnet: "10.245.0.0/24" }]]')"
	is_error "$output" 7 "one range set of one range"
	run -1 --separate-stderr cni h1 ADD cb11 cb11 eth0 "$(conf h1 '"26"')"
	is_error "$output" 7 '"nodeBlockSize" must be an integer'
	nothing_left h1 cb11
	run -0 helper dump
	run ! grep -q "^/midox/cni/$NET" <<< "$output"
}

@test "a secured tree: the claim has the cluster's ACL; without credentialsFile the claim is refused (100) and nothing is made" {
	# the cluster credential: the CLI (mx), the agents and the helper take it from the
	# environment; the plugin from credentialsFile
	export MIDOX_CREDENTIALS="$BATS_TEST_TMPDIR/cluster.cred" # outlives NET_DIR: teardown wipes with it
	echo "admin:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$MIDOX_CREDENTIALS"
	SECURED=1
	nodes_up
	cni_pod cb11
	cni_pod cb21
	local cred=".credentialsFile = \"$MIDOX_CREDENTIALS\""
	add h1 cb11 "$(conf h1 26 "$cred")"
	in_block "$(pod_ip cb11)" 10.244.0.0-26
	run -0 helper getacl "$BLOCKS/10.244.0.0-26"
	echo "$output"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == "digest:admin:"*" rwcda" ]]
	[ "${lines[1]}" = "world:anyone r" ]
	run -0 helper getacl "/midox/cni/$NET"
	[[ ${lines[0]} == "digest:admin:"*" rwcda" ]]
	# without the credential the claim is refused, before anything is made
	run -1 --separate-stderr cni h2 ADD cb21 cb21 eth0 "$(conf h2)"
	is_error "$output" 100 "nodeBlockSize: not authorised: the topology is secured; set \"credentialsFile\" to the cluster credential"
	[ "$(ports_of_bridge)" -eq 1 ]
	[ "$(leases h2)" -eq 0 ]
	[ -z "$(ls -A "$NET_DIR/cni-h2" 2>/dev/null)" ]
	run -0 claims
	[ "$output" = "10.244.0.0-26 $(host_id h1)" ]
	# with it, the next block
	add h2 cb21 "$(conf h2 26 "$cred")"
	in_block "$(pod_ip cb21)" 10.244.0.64-26
	cni h1 DEL cb11 cb11 eth0 "$(conf h1 26 "$cred")"
	cni h2 DEL cb21 cb21 eth0 "$(conf h2 26 "$cred")"
	[ "$(ports_of_bridge)" -eq 0 ]
}
