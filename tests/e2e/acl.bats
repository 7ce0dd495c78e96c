#!/usr/bin/env bats
# Access control (docs/zookeeper.md): with the cluster credential the CLI writes and every
# node it makes gets "cluster: all, world: read"; without it nothing can be changed and the
# CLI says so; everybody reads; an agent's own run-time state (its host node, liveness,
# learned MACs and ARP entries) cannot be changed or deleted by another host's identity.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

DENIED="not authorised to change the topology: configure a credential \(--credentials FILE or MIDOX_CREDENTIALS\)"

setup_file() {
	cli_setup_file
	export CRED="$BATS_FILE_TMPDIR/cluster.cred"
	echo "admin:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$CRED"
}
teardown_file() { cli_teardown_file; }

setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	MIDOX_CREDENTIALS="$CRED" "$HELPER" wipe
	SECRET_A="$BATS_TEST_TMPDIR/a.secret" SECRET_B="$BATS_TEST_TMPDIR/b.secret"
	echo "host-$HOST_A:$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$SECRET_A"
	echo "host-$HOST_B:$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$SECRET_B"
	# Each host provisioned with the cluster credential and registered with its own identity,
	# as midox-agent does with zookeeper_credentials_file set.
	as_host "$SECRET_A" provision "$HOST_A" hosta
	as_host "$SECRET_A" register "$HOST_A" hosta
	as_host "$SECRET_B" provision "$HOST_B" hostb
	as_host "$SECRET_B" register "$HOST_B" hostb
}
teardown() { cli_teardown; }

as_host() { MIDOX_CREDENTIALS="$CRED" MIDOX_HOST_SECRET="$1" "$HELPER" "${@:2}"; }
admin() { midox --credentials "$CRED" "$@"; }

# The topology every test starts from: a zone, a bridge with a bound port, a router.
make_secured() {
	admin tunnel-zone create name underlay
	admin tunnel-zone underlay add member host hosta address 10.0.0.1
	admin bridge create name blue
	admin bridge blue add port mac 02:00:00:00:00:01 address 10.1.0.1
	admin bridge blue add port
	admin host hosta add binding port blue:port0 interface veth0
	admin router create name R
	admin router R add port address 10.0.1.1 net 10.0.1.0/24
	admin router R add route dst 10.9.0.0/16 port R:port0 gw 10.0.1.9
	admin router R add arp-entry address 10.0.1.7 mac 02:00:00:00:00:07
}

@test "with the cluster credential: writes work, and every node gets cluster all, world read" {
	make_secured
	run -0 midox --credentials "$CRED" bridge list
	[ "$output" = "bridge bridge0 name blue state up" ]
	MIDOX_CREDENTIALS="$CRED" midox bridge create name green
	run -0 midox bridge list
	[ "${#lines[@]}" -eq 2 ]
	user=$(cut -d: -f1 "$CRED")
	bridge=$(id_of bridge blue)
	port=$(id_of bridge blue port port0)
	for path in /midox /midox/bridges "/midox/bridges/$bridge" "/midox/ports/$port" \
		"/midox/ports/$port/binding" "/midox/hosts/$HOST_A/bindings/veth0" /midox/tunnel_key; do
		run -0 "$HELPER" getacl "$path"
		echo "$path: $output"
		[ "${#lines[@]}" -eq 2 ]
		[[ "${lines[0]}" == "digest:$user:"*" rwcda" ]]
		[ "${lines[1]}" = "world:anyone r" ]
	done
	# The host's own node: its identity too, without the right to change ACLs.
	run -0 "$HELPER" getacl "/midox/hosts/$HOST_A"
	[[ "$output" == *"digest:host-$HOST_A:"*" rwcd"* ]]
	run -0 "$HELPER" getacl "/midox/hosts/$HOST_A/bindings"
	[[ "$output" != *"host-$HOST_A"* ]]
}

@test "without a credential: every write is refused, nothing changes, reads work" {
	make_secured
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name blue state up" ]
	run -0 midox router R list route
	run -0 midox host list
	[ "${#lines[@]}" -eq 2 ]
	expect_error 5 "$DENIED" midox tunnel-zone create name z2
	expect_error 5 "$DENIED" midox tunnel-zone underlay delete
	expect_error 5 "$DENIED" midox tunnel-zone underlay add member host hostb address 10.0.0.2
	expect_error 5 "$DENIED" midox tunnel-zone underlay delete member host hosta
	expect_error 5 "$DENIED" midox bridge create name red
	expect_error 5 "$DENIED" midox bridge blue delete
	expect_error 5 "$DENIED" midox bridge blue add port
	expect_error 5 "$DENIED" midox bridge blue port port1 set mac 02:00:00:00:00:09
	expect_error 5 "$DENIED" midox --force bridge blue port port1 delete
	expect_error 5 "$DENIED" midox host hosta add binding port blue:port1 interface veth1
	expect_error 5 "$DENIED" midox host hosta delete binding interface veth0
	expect_error 5 "$DENIED" midox router create name S
	expect_error 5 "$DENIED" midox router R delete
	expect_error 5 "$DENIED" midox router R add port address 10.0.2.1 net 10.0.2.0/24
	expect_error 5 "$DENIED" midox router R add route dst 10.8.0.0/16 port R:port0
	expect_error 5 "$DENIED" midox --force router R route route1 delete
	expect_error 5 "$DENIED" midox router R add arp-entry address 10.0.1.8 mac 02:00:00:00:00:08
	expect_error 5 "$DENIED" midox router R arp-entry 10.0.1.7 delete
	expect_error 5 "$DENIED" midox bridge0:port1 set peer router0:port0
	# Nor with raw ZooKeeper calls, nor as an agent.
	run -1 "$HELPER" put /midox/bridges '{"schema":1}'
	run -1 "$HELPER" delete "/midox/hosts/$HOST_A/bindings/veth0"
	run -1 as_host "$SECRET_B" put "/midox/hosts/$HOST_B/bindings/eth0" '{"schema":1,"port":"x"}'
	run -1 as_host "$SECRET_B" delete "/midox/ports/$(id_of bridge blue port port1)"
}

@test "a wrong credential is refused with its own message" {
	make_secured
	echo "admin:not-the-password" >"$BATS_TEST_TMPDIR/wrong.cred"
	expect_error 5 "not authorised to change the topology: the configured credential is not the cluster's" \
		midox --credentials "$BATS_TEST_TMPDIR/wrong.cred" bridge create name red
	echo "no colon" >"$BATS_TEST_TMPDIR/bad.cred"
	run -1 midox --credentials "$BATS_TEST_TMPDIR/bad.cred" bridge list
	[[ "$output" == *"expected one line user:password"* ]]
}

@test "an open tree is secured by the first write with the credential" {
	MIDOX_CREDENTIALS="$CRED" "$HELPER" wipe
	"$HELPER" register "$HOST_A" hosta
	midox bridge create name open
	run -0 "$HELPER" getacl /midox/bridges
	[ "$output" = "world:anyone rwcda" ]
	admin bridge create name closed
	for path in /midox /midox/bridges "/midox/bridges/$(id_of bridge open)" "/midox/hosts/$HOST_A"; do
		run -0 "$HELPER" getacl "$path"
		[ "${lines[1]}" = "world:anyone r" ]
	done
	expect_error 5 "$DENIED" midox bridge open delete
}

@test "an agent's own state: another host's identity can neither change nor delete it" {
	make_secured
	bridge=$(id_of bridge blue)
	port=$(id_of bridge blue port port0)
	router=$(id_of router R)
	rport=$(id_of router R port port0)
	# host A's agent: alive, a learned MAC and a learned ARP entry, ephemeral, its own
	fifo="$BATS_TEST_TMPDIR/hold"
	mkfifo "$fifo"
	as_host "$SECRET_A" hold "$HOST_A" hosta "$bridge" 02:00:00:00:00:aa "$port" \
		arp "$router" 10.0.1.5 02:00:00:00:00:05 "$rport" <"$fifo" >"$BATS_TEST_TMPDIR/hold.out" &
	HOLD_PID=$!
	exec 7>"$fifo"
	for _ in $(seq 1 50); do grep -q ready "$BATS_TEST_TMPDIR/hold.out" && break; sleep 0.1; done
	grep -q ready "$BATS_TEST_TMPDIR/hold.out"
	mac="/midox/hosts/$HOST_A/macs/02:00:00:00:00:aa,$port"
	arp="/midox/hosts/$HOST_A/arp/10.0.1.5,02:00:00:00:00:05,$router"
	alive="/midox/hosts/$HOST_A/alive"
	run -0 "$HELPER" dump
	[[ "$output" == *"$mac v0 "*"(ephemeral)"* ]]
	[[ "$output" == *"$arp v0 "*"(ephemeral)"* ]]
	run -0 "$HELPER" getacl "$mac"
	[[ "$output" == *"digest:host-$HOST_A:"*" rwcd"* ]]
	before=$("$HELPER" dump)
	for path in "$mac" "$arp" "$alive"; do
		run -1 as_host "$SECRET_B" delete "$path"
		[[ "$output" == *"not authenticated"* ]]
		run -1 as_host "$SECRET_B" put "$path" '{"schema":1,"host":"'"$HOST_B"'"}'
		run -1 "$HELPER" delete "$path"
	done
	run -1 as_host "$SECRET_B" put "/midox/hosts/$HOST_A/macs/02:00:00:00:00:bb,$port" '{"schema":1}'
	run -1 as_host "$SECRET_B" put "/midox/hosts/$HOST_A" '{"schema":1,"name":"stolen"}'
	[ "$before" = "$("$HELPER" dump)" ]
	# host B publishes under its own host, which host A cannot touch either
	as_host "$SECRET_B" hold "$HOST_B" hostb "$bridge" 02:00:00:00:00:bb "$port" </dev/null
	# its own identity may withdraw what it learned; the cluster credential may delete anything
	run -0 as_host "$SECRET_A" delete "$arp"
	MIDOX_CREDENTIALS="$CRED" run -0 "$HELPER" delete "$mac"
	run -0 midox --json bridge blue show
}
