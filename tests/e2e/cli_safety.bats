#!/usr/bin/env bats
# The CLI as an operator meets it: aliases that keep naming what they named, names that
# cannot shadow an alias, deletes that say what went with them, and the validation
# docs/cli.md promises (exit codes, messages, nothing written on refusal).

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

# make_topology, and router R's port0 (192.168.1.1) linked to blue's port2.
blue_with_gateway() {
	make_topology
	midox router create name R
	midox router R add port address 192.168.1.1 net 192.168.1.0/24
	midox bridge blue add port
	midox bridge blue port port2 set peer router R port port0
}

@test "aliases: within a session an alias keeps naming its object after a delete" {
	midox bridge create name blue
	midox bridge create name red
	midox bridge create name green
	run -0 midox -e 'bridge list' -e 'bridge blue delete' -e 'bridge bridge1 show' \
		-e 'bridge list'
	[ "${lines[0]}" = "bridge bridge0 name blue state up" ]
	[ "${lines[3]}" = "deleted bridge bridge0 name blue" ]
	[[ "${lines[4]}" == "bridge bridge1 id "*" name red state up tunnel-key "* ]]
	[ "${lines[5]}" = "bridge bridge1 name red state up" ]
	[ "${lines[6]}" = "bridge bridge2 name green state up" ]
	# The retried delete fails instead of taking red with it.
	before=$("$HELPER" dump)
	run --separate-stderr -2 midox -e 'bridge list' -e 'bridge blue delete' \
		-e 'bridge bridge0 delete'
	[[ "$stderr" == "midox: error: unknown bridge 'blue'" ]]
	run --separate-stderr midox -e 'bridge list' -e 'bridge bridge0 delete' \
		-e 'bridge bridge0 delete'
	[ "$status" -eq 2 ]
	[[ "$stderr" =~ ^"midox: error: bridge 'bridge0' is gone: this session printed it for "[0-9a-f-]{36}", deleted since"$ ]]
	[ "${lines[2]}" = "deleted bridge bridge0 name red" ]
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name green state up" ]
}

@test "aliases: a new object in the session takes a number no printed alias holds" {
	midox bridge create name blue
	midox bridge create name red
	printf '%s\n' 'bridge list' 'bridge blue delete' 'bridge create name pink' \
		'bridge bridge2 show' 'bridge list' >"$BATS_TEST_TMPDIR/script"
	run -0 midox <"$BATS_TEST_TMPDIR/script"
	[ "${lines[3]}" = "bridge2" ]
	[[ "${lines[4]}" == "bridge bridge2 id "*" name pink "* ]]
	[ "${lines[5]}" = "bridge bridge1 name red state up" ]
	[ "${lines[6]}" = "bridge bridge2 name pink state up" ]
}

@test "aliases: a deleted port's alias stays its own for the session" {
	midox bridge create name blue
	midox bridge blue add port
	midox bridge blue add port
	midox bridge blue add port
	run -0 midox -e 'bridge blue list port' -e 'bridge blue port port0 delete' \
		-e 'bridge0:port1 show' -e 'bridge blue port port2 show'
	[ "${lines[3]}" = "deleted port bridge0:port0" ]
	[[ "${lines[4]}" == "port port1 id "* ]]
	[[ "${lines[5]}" == "port port2 id "* ]]
	# In one session the deleted port's alias stays its own: an error, not port1.
	run --separate-stderr -2 midox -e 'bridge blue list port' -e 'bridge blue port port1 delete' \
		-e 'bridge blue port port1 show'
	[[ "$stderr" =~ ^"midox: error: port 'port1' is gone: this session printed it for "[0-9a-f-]{36}", deleted since"$ ]]
	run -0 midox bridge blue list port
	[ "${#lines[@]}" -eq 1 ]
}

@test "aliases: deleting through an alias this session never printed needs --force" {
	make_topology
	midox bridge create name red
	expect_error 1 "^midox: error: refusing to delete through alias 'bridge0', which this session has not printed: aliases number objects in creation order and shift when one is deleted; name it by name or UUID, list it first, or use --force$" \
		midox bridge bridge0 delete
	expect_error 1 "refusing to delete through alias 'port1'" midox bridge blue port port1 delete
	expect_error 1 "refusing to delete through alias 'bridge0'" midox bridge0:port1 delete
	expect_error 1 "refusing to clear through alias 'bridge0'" midox bridge0:port1 clear peer
	expect_error 1 "refusing to delete through alias 'tzone0'" midox tunnel-zone tzone0 delete
	expect_error 1 "refusing to delete through alias 'host1'" \
		midox tunnel-zone underlay delete member host host1
	# Shows and adds through aliases go on as before; names, UUIDs, --force delete.
	run -0 midox bridge bridge0 show
	id=$(id_of bridge blue port port1)
	run -0 midox bridge blue port "$id" delete
	[ "$output" = "deleted port bridge0:port1" ]
	run -0 midox --force bridge bridge1 delete
	[ "$output" = "deleted bridge bridge1 name red" ]
	run -0 midox -e 'bridge list' -e 'bridge bridge0 delete'
	[ "${lines[1]}" = "deleted bridge bridge0 name blue: 1 port, 1 binding" ]
}

@test "names: an alias-shaped name is refused for every named type" {
	for t in bridge router tunnel-zone; do
		for n in bridge0 router12 tzone3 host1 port0 route7; do
			expect_error 1 "^midox: error: bad name '$n': the shape of an alias, which it would shadow$" \
				midox $t create name "$n"
		done
	done
	# Not aliases: these stay names.
	run -0 midox bridge create name bridge-0
	run -0 midox bridge create name bridges
	run -0 midox router create name router0x
	run -0 midox bridge bridge-0 add port
	run -0 midox bridge-0:port0 show
}

@test "cascade: bridge delete says what went with it, in text and in JSON" {
	blue_with_gateway
	hold_host "$HOST_A" hosta "$(id_of bridge blue)" 02:00:00:00:00:aa "$(id_of bridge blue port port0)"
	run -0 midox --json bridge blue delete
	[ "$(echo "$output" | json_get '["deleted"]')" = bridge ]
	[ "$(echo "$output" | json_get '["alias"]')" = bridge0 ]
	[ "$(echo "$output" | json_get '["name"]')" = blue ]
	[ "$(echo "$output" | json_get '["ports"]')" = 3 ]
	[ "$(echo "$output" | json_get '["bindings"]')" = 1 ]
	[ "$(echo "$output" | json_get '["links"]')" = 1 ]
	[ "$(echo "$output" | json_get '["learned_macs"]')" = 1 ]
	run -0 midox router R list port
	[[ "$output" != *peer* ]]
}

@test "cascade: bridge delete in text" {
	make_topology
	midox router create name R
	midox router R add port address 192.168.1.1 net 192.168.1.0/24
	midox bridge blue port port1 set address 192.168.1.3
	midox bridge blue add port
	midox bridge blue port port2 set peer router R port port0
	run -0 midox bridge blue delete
	[ "$output" = "deleted bridge bridge0 name blue: 3 ports, 1 binding, 1 link" ]
}

@test "cascade: router, port, route and tunnel-zone deletes" {
	make_topology
	midox router create name R
	midox router R add port address 10.1.0.1 net 10.1.0.0/24
	midox router R add port address 10.2.0.1 net 10.2.0.0/24
	midox router R add route dst 0.0.0.0/0 port port0 gw 10.1.0.254
	midox router R add arp-entry address 10.1.0.254 mac 02:00:00:00:01:fe
	midox host hostb add binding port router0:port0 interface up0
	midox bridge blue add port
	midox bridge blue port port2 set peer router R port port1
	run -0 midox router R port "$(id_of router R port port1)" delete
	[ "$output" = "deleted port router0:port1: 1 link, 1 route" ]
	run -0 midox -e 'router R list route' -e 'router R route route1 delete'
	[ "${lines[2]}" = "deleted route router0:route1" ]
	run -0 midox router R delete
	[ "$output" = "deleted router router0 name R: 1 port, 1 binding, 1 route, 1 ARP entry" ]
	run -0 midox --json tunnel-zone underlay delete
	[ "$(echo "$output" | json_get '["members"]')" = 2 ]
	run -0 midox bridge blue port "$(id_of bridge blue port port0)" delete
	[ "$output" = "deleted port bridge0:port0: 1 binding" ]
	run -0 midox -e 'bridge list' -e 'bridge bridge0 delete'
	[ "${lines[1]}" = "deleted bridge bridge0 name blue: 2 ports" ]
}

@test "validation: the same address twice on one bridge is refused, exit 2" {
	make_topology
	expect_error 2 "^midox: error: address 192.168.1.2 is already port bridge0:port1's$" \
		midox bridge blue add port address 192.168.1.2
	expect_error 2 "address 192.168.1.2 is already port bridge0:port1's" \
		midox bridge blue port port0 set address 192.168.1.2
	# The port itself may be set to its own address again; another bridge may use it.
	run -0 midox bridge blue port port1 set address 192.168.1.2
	midox bridge create name red
	run -0 midox bridge red add port address 192.168.1.2
}

@test "validation: a VM port may not take its router port's address, exit 2" {
	blue_with_gateway
	expect_error 2 "^midox: error: address 192.168.1.1 is router port router0:port0's, linked to this bridge as port bridge0:port2$" \
		midox bridge blue add port address 192.168.1.1
	expect_error 2 "address 192.168.1.1 is router port router0:port0's" \
		midox bridge blue port port0 set address 192.168.1.1
	# And the other way: linking a router port whose address a VM holds.
	midox router R add port address 192.168.1.2 net 192.168.1.0/24 2>/dev/null ||
		midox router create name S
	midox router create name T
	midox router T add port address 192.168.1.2 net 192.168.1.0/24
	midox bridge blue add port
	expect_error 2 "address 192.168.1.2 is already port bridge0:port1's" \
		midox bridge blue port port3 set peer router T port port0
}

@test "ZooKeeper: a name that does not resolve is unreachable (exit 3), said at once" {
	run --separate-stderr -3 "$MIDOX" --zk nosuchhost.invalid:2181 bridge list
	[[ "$stderr" =~ ^"midox: error: cannot reach ZooKeeper at nosuchhost.invalid:2181: the name 'nosuchhost.invalid' does not resolve" ]]
	run --separate-stderr -3 "$MIDOX" --zk 127.0.0.1:1 bridge list
	[ "$stderr" = "midox: error: cannot reach ZooKeeper at 127.0.0.1:1 (waited 3 s)" ]
}
