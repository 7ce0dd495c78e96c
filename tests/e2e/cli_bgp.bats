#!/usr/bin/env bats
# The midox CLI's BGP objects against a real ZooKeeper: a router's AS number, its BGP peers
# (on the subnet of one of its ports) and the networks it advertises; aliases, show, list,
# JSON, both delete forms, what a router delete takes with it, and every error leaving the
# topology as it was.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

# The issue's uplink: router0 with a tenant port and an exterior port on 198.51.100.0/24.
make_uplink() {
	midox router create name provider
	midox router router0 add port address 10.0.0.1 net 10.0.0.0/24
	midox router router0 add port address 198.51.100.1 net 198.51.100.0/24
	midox host hosta add binding port router0:port1 interface gns3out
}

@test "router set asn: show and list print it, JSON too; state and asn in one write" {
	make_uplink
	run -0 midox router router0 show
	[[ "$output" != *asn* ]]
	run -0 midox router router0 set asn 100
	[ -z "$output" ]
	run -0 midox router list
	[ "$output" = "router router0 name provider state up asn 100" ]
	run -0 midox router router0 show
	[[ "$output" =~ ^router\ router0\ id\ [0-9a-f-]{36}\ name\ provider\ state\ up\ asn\ 100\ tunnel-key\ [0-9]+$ ]]
	run -0 midox --json router router0 show
	[ "$(echo "$output" | json_get '["asn"]')" = 100 ]
	# The largest 4-octet AS number; state and asn together.
	run -0 midox router router0 set state down asn 4294967295
	run -0 midox router list
	[ "$output" = "router router0 name provider state down asn 4294967295" ]
	# Setting the state keeps the AS number (the node is rewritten whole).
	run -0 midox router router0 set state up
	[ "$(midox router list)" = "router router0 name provider state up asn 4294967295" ]
	run -0 "$HELPER" dump
	[[ "$output" == *'"asn":4294967295'* ]]
}

@test "set asn errors: out of range, not a number, nothing to set; nothing written" {
	make_uplink
	midox router router0 set asn 100
	expect_error 1 "bad asn '0': 1 to 4294967295$" midox router router0 set asn 0
	expect_error 1 "bad asn '4294967296': 1 to 4294967295$" midox router router0 set asn 4294967296
	expect_error 1 "bad asn '-1': 1 to 4294967295$" midox router router0 set asn -1
	expect_error 1 "bad asn 'AS100': 1 to 4294967295$" midox router router0 set asn AS100
	expect_error 1 "set needs state, asn, infilter or outfilter$" midox router router0 set
	expect_error 1 "'asn' needs a value" midox router router0 set asn
	# A bad state with a good asn writes neither.
	expect_error 1 "bad state 'sideways'" midox router router0 set state sideways asn 200
	[ "$(midox router list)" = "router router0 name provider state up asn 100" ]
	expect_error 2 "unknown router 'nosuch'" midox router nosuch set asn 1
}

@test "bgp peers: add with defaults and with every option, list, show, JSON" {
	make_uplink
	midox router router0 set asn 100
	run -0 midox router router0 add bgp-peer asn 3 address 198.51.100.2
	[ "$output" = router0:peer0 ]
	run -0 midox router router0 add bgp-peer asn 3 address 198.51.100.3 keep-alive 10 hold-time 30 connect-retry 5 password s3cret-key
	[ "$output" = router0:peer1 ]
	run -0 midox router router0 list bgp-peer
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "bgp-peer peer0 asn 3 address 198.51.100.2 keep-alive 60 hold-time 180 connect-retry 120 state unknown: not reported (no speaker runs for it)" ]
	[ "${lines[1]}" = "bgp-peer peer1 asn 3 address 198.51.100.3 keep-alive 10 hold-time 30 connect-retry 5 password set state unknown: not reported (no speaker runs for it)" ]
	# The password is stored for the agent, never printed.
	[[ "$output" != *s3cret* ]]
	run -0 midox router router0 bgp-peer peer1 show
	[[ "$output" =~ ^bgp-peer\ peer1\ id\ [0-9a-f-]{36}\ asn\ 3\ address\ 198.51.100.3\  ]]
	run -0 midox --json router router0 list bgp-peer
	[ "$(echo "$output" | json_get '[0]["alias"]')" = router0:peer0 ]
	[ "$(echo "$output" | json_get '[0]["asn"]')" = 3 ]
	[ "$(echo "$output" | json_get '[0]["keep_alive"]')" = 60 ]
	[ "$(echo "$output" | json_get '[0]["password"]')" = False ]
	[ "$(echo "$output" | json_get '[1]["hold_time"]')" = 30 ]
	[ "$(echo "$output" | json_get '[1]["password"]')" = True ]
	[[ "$output" != *s3cret* ]]
	# By UUID and full reference too.
	id=$(id_of router router0 bgp-peer peer0)
	run -0 midox router router0 bgp-peer "$id" show
	[[ "$output" == "bgp-peer peer0 id $id asn 3 "* ]]
	run -0 midox router router0 bgp-peer router0:peer1 show
	[[ "$output" == "bgp-peer peer1 id "* ]]
	run -0 midox --json router router0 add bgp-peer asn 65001 address 10.0.0.7
	[ "$(echo "$output" | json_get '["alias"]')" = router0:peer2 ]
	# No agent speaks for them: the state says why.
	run -0 midox router router0 bgp-peer peer2 show
	[[ "$output" == *" state unknown: its port is not bound" ]]
	run -0 midox --json router router0 bgp-peer peer0 show
	[ "$(echo "$output" | json_get '["session"]["state"]')" = unknown ]
	[[ "$(echo "$output" | json_get '["session"]["reason"]')" == "not reported"* ]]
	# Stored as docs/zookeeper.md says.
	run -0 "$HELPER" dump
	[[ "$output" == *'/bgp_peers/'*'{"address":"198.51.100.3","asn":3,"connect_retry":5,"hold_time":30,"keep_alive":10,"password":"s3cret-key","schema":1}'* ]]
}

@test "bgp peers: both delete forms, through the aliases a session printed" {
	make_uplink
	midox router provider add bgp-peer asn 3 address 198.51.100.2
	midox router provider add bgp-peer asn 3 address 198.51.100.3
	midox router provider add bgp-peer asn 4 address 198.51.100.4
	# One session: the aliases it listed keep naming the same peers after a delete.
	run -0 midox <<-EOF
		router provider list bgp-peer
		router provider bgp-peer peer0 delete
		router provider delete bgp-peer peer2
		router provider list bgp-peer
	EOF
	[ "${lines[3]}" = "deleted bgp-peer router0:peer0" ]
	[ "${lines[4]}" = "deleted bgp-peer router0:peer2" ]
	[ "${lines[5]}" = "bgp-peer peer1 asn 3 address 198.51.100.3 keep-alive 60 hold-time 180 connect-retry 120 state unknown: not reported (no speaker runs for it)" ]
	[ "${#lines[@]}" -eq 6 ]
	# An alias this session never printed: refused without --force, as for routes.
	expect_error 1 "refusing to delete through alias 'peer0'" midox router provider delete bgp-peer peer0
	run -0 midox --json --force router provider delete bgp-peer peer0
	[ "$(echo "$output" | json_get '["deleted"]')" = bgp-peer ]
	run -0 midox router provider list bgp-peer
	[ -z "$output" ]
}

@test "bgp peer errors: no port reaches it, own address, duplicate, bad values; nothing written" {
	make_uplink
	midox router create name bare
	expect_error 1 "peer address 203.0.113.9 is in no subnet of router router0's ports \(10.0.0.0/24, 198.51.100.0/24\)$" \
		midox router router0 add bgp-peer asn 3 address 203.0.113.9
	expect_error 1 "peer address 10.1.1.1: router router1 has no ports" \
		midox router bare add bgp-peer asn 3 address 10.1.1.1
	expect_error 1 "peer address 198.51.100.1 is router router0's own$" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.1
	midox router router0 add bgp-peer asn 3 address 198.51.100.2
	expect_error 2 "router router0 has a BGP peer at 198.51.100.2 already: router0:peer0$" \
		midox router router0 add bgp-peer asn 4 address 198.51.100.2
	expect_error 1 "bad asn '0': 1 to 4294967295$" midox router router0 add bgp-peer asn 0 address 198.51.100.5
	expect_error 1 "bad asn '4294967296': 1 to 4294967295$" \
		midox router router0 add bgp-peer asn 4294967296 address 198.51.100.5
	expect_error 1 "add bgp-peer needs asn and address$" midox router router0 add bgp-peer asn 3
	expect_error 1 "bad address '198.51.100.256'" midox router router0 add bgp-peer asn 3 address 198.51.100.256
	expect_error 1 "bad hold-time '2': 3 to 65535$" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 hold-time 2
	expect_error 1 "bad keep-alive '0': 1 to 65535$" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 keep-alive 0
	expect_error 1 "bad connect-retry '65536': 1 to 65535$" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 connect-retry 65536
	expect_error 1 "keep-alive 90 s is longer than hold-time 30 s$" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 keep-alive 90 hold-time 30
	expect_error 1 "bad password: 1 to 80 printable characters" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 password 'a"b'
	expect_error 1 "bad password: 1 to 80 printable characters" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 password "$(printf 'x%.0s' $(seq 81))"
	expect_error 1 "unknown word 'weight' in 'add bgp-peer'" \
		midox router router0 add bgp-peer asn 3 address 198.51.100.5 weight 3
	expect_error 2 "unknown bgp-peer 'peer7' on router router0$" midox router router0 bgp-peer peer7 delete
	expect_error 2 "unknown bgp-peer 'peer7' on router router0$" midox router provider delete bgp-peer peer7
	expect_error 1 "delete bgp-peer needs a peer$" midox router provider delete bgp-peer
	expect_error 1 "unexpected word 'x' after 'delete bgp-peer peer0'" midox router provider delete bgp-peer peer0 x
	# An 80-character password is fine.
	run -0 midox router router0 add bgp-peer asn 3 address 198.51.100.5 password "$(printf 'x%.0s' $(seq 80))"
}

@test "bgp networks: add, list, show, JSON, both delete forms; errors leave the tree as it was" {
	make_uplink
	run -0 midox router router0 add bgp-network net 10.0.0.0/24
	[ "$output" = router0:net0 ]
	run -0 midox router router0 add bgp-network net 192.0.2.0/25
	[ "$output" = router0:net1 ]
	run -0 midox router router0 list bgp-network
	[ "${lines[0]}" = "bgp-network net0 net 10.0.0.0/24" ]
	[ "${lines[1]}" = "bgp-network net1 net 192.0.2.0/25" ]
	run -0 midox router router0 bgp-network net1 show
	[[ "$output" =~ ^bgp-network\ net1\ id\ [0-9a-f-]{36}\ net\ 192.0.2.0/25$ ]]
	run -0 midox --json router router0 list bgp-network
	[ "$(echo "$output" | json_get '[1]["net"]')" = 192.0.2.0/25 ]
	[ "$(echo "$output" | json_get '[1]["alias"]')" = router0:net1 ]
	expect_error 2 "router router0 advertises 10.0.0.0/24 already: router0:net0$" \
		midox router router0 add bgp-network net 10.0.0.0/24
	expect_error 1 "bad net '10.0.0.1/24': host bits set \(10.0.0.0/24\?\)$" \
		midox router router0 add bgp-network net 10.0.0.1/24
	expect_error 1 "bad net '10.0.0.0/33'" midox router router0 add bgp-network net 10.0.0.0/33
	expect_error 1 "add bgp-network needs net$" midox router router0 add bgp-network
	expect_error 2 "unknown bgp-network 'net5' on router router0$" midox router router0 bgp-network net5 delete
	# The second by its UUID: after the first goes, a new session numbers it net0.
	id=$(id_of router provider bgp-network net1)
	run -0 midox --force router router0 bgp-network net0 delete
	[ "$output" = "deleted bgp-network router0:net0" ]
	[ "$(midox router provider list bgp-network)" = "bgp-network net0 net 192.0.2.0/25" ]
	run -0 midox router provider delete bgp-network "$id"
	[ "$output" = "deleted bgp-network router0:net0" ]
	run -0 midox router router0 list bgp-network
	[ -z "$output" ]
}

@test "a peer or network of another router is refused by name" {
	make_uplink
	midox router create name edge
	midox router edge add port address 203.0.113.1 net 203.0.113.0/24
	midox router edge add bgp-peer asn 7 address 203.0.113.2
	midox router edge add bgp-network net 172.16.0.0/12
	run -0 midox router router0 list bgp-peer
	[ -z "$output" ]
	expect_error 2 "unknown bgp-peer 'router1:peer0' on router router0$" \
		midox router router0 bgp-peer router1:peer0 delete
	expect_error 2 "unknown bgp-network 'router1:net0' on router router0$" \
		midox router provider delete bgp-network router1:net0
	run -0 midox router edge bgp-peer router1:peer0 show
	[[ "$output" == "bgp-peer peer0 id "*" asn 7 address 203.0.113.2 "* ]]
}

@test "router delete takes its peers and networks; a router made before BGP gets its containers" {
	make_uplink
	midox router router0 add bgp-peer asn 3 address 198.51.100.2
	midox router router0 add bgp-peer asn 3 address 198.51.100.3
	midox router router0 add bgp-network net 10.0.0.0/24
	run -0 midox --force router router0 delete
	[ "$output" = "deleted router router0 name provider: 2 ports, 1 binding, 2 routes, 2 BGP peers, 1 BGP network" ]
	run -0 "$HELPER" dump
	[[ "$output" != *bgp_peers* ]]
	[[ "$output" != *bgp_networks* ]]
	# A router whose node predates BGP: no bgp_peers or bgp_networks below it.
	midox router create name old
	midox router old add port address 198.51.100.1 net 198.51.100.0/24
	rid=$(id_of router old)
	"$HELPER" delete "/midox/routers/$rid/bgp_peers"
	"$HELPER" delete "/midox/routers/$rid/bgp_networks"
	run -0 midox router old list bgp-peer
	[ -z "$output" ]
	run -0 midox router old add bgp-peer asn 3 address 198.51.100.2
	[ "$output" = router0:peer0 ]
	run -0 midox router old add bgp-network net 10.0.0.0/24
	[ "$output" = router0:net0 ]
	run -0 midox --json --force router old delete
	[ "$(echo "$output" | json_get '["bgp_peers"]')" = 1 ]
	[ "$(echo "$output" | json_get '["bgp_networks"]')" = 1 ]
}

@test "help knows the BGP rows" {
	make_uplink
	midox router router0 add bgp-peer asn 3 address 198.51.100.2
	run -0 midox help router
	[[ "$output" == *"router R add bgp-peer asn A address X [keep-alive S] [hold-time S] [connect-retry S] [password P]"* ]]
	[[ "$output" == *"router R set [state up|down] [asn N]"* ]]
	[[ "$output" == *"router R delete bgp-peer P"* ]]
	[[ "$output" == *"router R bgp-network N delete"* ]]
	[[ "$output" == *"router R bgp-peer P show"* ]]
}
