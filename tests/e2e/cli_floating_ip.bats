#!/usr/bin/env bats
# The floating-IP command against a real ZooKeeper (docs/nat.md, docs/cli.md): router R add
# floating-ip makes MidoNet's two static NAT rules (a DNAT on the router's infilter chain, a
# SNAT leaving by the uplink on its outfilter chain), creating and attaching the chains when
# the router has none, in one write; list floating-ip and --json; floating-ip F delete takes
# both rules and leaves the chains; every error leaves the topology as it was.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

# chain C list rule prints a note on stderr off a midox host (no counters): left out.
rules() { "$MIDOX" chain "$1" list rule 2>/dev/null; }

# router0 (edge): port0 on the tenant side, port1 the uplink; bridge0 (blue) with a port.
make_router() {
	midox router create name edge
	midox router edge add port address 10.0.1.1 net 10.0.1.0/24
	midox router edge add port address 172.16.1.1 net 172.16.1.0/24
	midox bridge create name blue
	midox bridge blue add port
}

@test "add floating-ip: the router's chains created and attached, the two rules in them; list, --json" {
	make_router
	run -0 midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	[ "$output" = "floating-ip 203.0.113.7 target 10.0.1.21 port router0:port1 dnat chain0:rule0 snat chain1:rule0" ]
	run -0 midox chain list
	[ "$output" = "chain chain0 name edge-infilter rules 1
chain chain1 name edge-outfilter rules 1" ]
	run -0 midox router edge show
	[[ "$output" == *" infilter chain0 outfilter chain1"* ]]
	# The recipe's rules, as docs/nat.md writes them by hand
	run -0 rules edge-infilter
	[[ "$output" =~ ^rule\ rule0\ pos\ 1\ type\ dnat\ .*dst\ 203\.0\.113\.7/32 ]]
	[[ "$output" == *"target 10.0.1.21"* ]]
	[[ "$output" == *"action accept"* ]]
	[[ "$output" == *"fragment-policy any"* ]]
	run -0 rules edge-outfilter
	[[ "$output" =~ ^rule\ rule0\ pos\ 1\ type\ snat\ .*src\ 10\.0\.1\.21/32 ]]
	[[ "$output" == *"out-ports router0:port1"* ]]
	[[ "$output" == *"target 203.0.113.7"* ]]
	# A second one goes into the same chains
	run -0 midox router edge add floating-ip address 203.0.113.8 target 10.0.1.22 port router0:port1
	[ "$output" = "floating-ip 203.0.113.8 target 10.0.1.22 port router0:port1 dnat chain0:rule1 snat chain1:rule1" ]
	run -0 midox chain list
	[ "$output" = "chain chain0 name edge-infilter rules 2
chain chain1 name edge-outfilter rules 2" ]
	run -0 midox router edge list floating-ip
	[ "$output" = "floating-ip 203.0.113.7 target 10.0.1.21 port router0:port1 dnat chain0:rule0 snat chain1:rule0
floating-ip 203.0.113.8 target 10.0.1.22 port router0:port1 dnat chain0:rule1 snat chain1:rule1" ]
	run -0 midox --json router edge list floating-ip
	[ "$(echo "$output" | json_get '[1]["address"]')" = 203.0.113.8 ]
	[ "$(echo "$output" | json_get '[1]["target"]')" = 10.0.1.22 ]
	[ "$(echo "$output" | json_get '[1]["port"]["alias"]')" = router0:port1 ]
	[ "$(echo "$output" | json_get '[1]["dnat"]["alias"]')" = chain0:rule1 ]
	[ "$(echo "$output" | json_get '[1]["snat"]["alias"]')" = chain1:rule1 ]
	[ "$(echo "$output" | json_get '[0]["snat"]["id"]')" = "$(id_of chain edge-outfilter rule rule0)" ]
	run -0 midox --json router edge add floating-ip address 203.0.113.9 target 10.0.1.23 port port1
	[ "$(echo "$output" | json_get '["dnat"]["alias"]')" = chain0:rule2 ]
	# A router without floating IPs lists none
	midox router create name other
	run -0 midox router other list floating-ip
	[ -z "$output" ]
	run -0 midox --json router other list floating-ip
	[ "$output" = "[]" ]
}

@test "add floating-ip appends to the router's own chains; list knows the recipe's rules made by hand" {
	make_router
	midox chain create name pre
	midox chain create name post
	midox chain pre add rule type drop src 192.0.2.0/24
	midox router edge set infilter pre outfilter post
	# the recipe by hand (docs/nat.md)
	midox chain pre add rule type dnat dst 203.0.113.5/32 target 10.0.1.25
	midox chain post add rule type snat src 10.0.1.25/32 out-ports router0:port1 target 203.0.113.5
	run -0 midox router edge list floating-ip
	[ "$output" = "floating-ip 203.0.113.5 target 10.0.1.25 port router0:port1 dnat chain0:rule1 snat chain1:rule0" ]
	run -0 midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	[ "$output" = "floating-ip 203.0.113.7 target 10.0.1.21 port router0:port1 dnat chain0:rule2 snat chain1:rule1" ]
	run -0 midox chain list
	[ "$output" = "chain chain0 name pre rules 3
chain chain1 name post rules 2" ]
	run -0 rules pre
	[[ "${lines[0]}" == "rule rule0 pos 1 type drop"* ]]
	[[ "${lines[2]}" == "rule rule2 pos 3 type dnat"* ]]
	# a router with one filter: the other chain is created
	midox router create name half
	midox router half add port address 172.16.2.1 net 172.16.2.0/24
	midox chain create name half-pre
	midox router half set infilter half-pre
	run -0 midox router half add floating-ip address 203.0.113.20 target 10.0.2.20 port port0
	[ "$output" = "floating-ip 203.0.113.20 target 10.0.2.20 port router1:port0 dnat chain2:rule0 snat chain3:rule0" ]
	run -0 midox chain chain3 show
	[[ "$output" == *" name half-outfilter "* ]]
}

@test "floating-ip F delete takes both rules in one write, the rules after them move up, the chains stay" {
	make_router
	midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox router edge add floating-ip address 203.0.113.8 target 10.0.1.22 port port1
	run -0 midox router edge floating-ip 203.0.113.7 delete
	[ "$output" = "deleted floating-ip 203.0.113.7: rules chain0:rule0, chain1:rule0" ]
	run -0 midox router edge list floating-ip
	[ "$output" = "floating-ip 203.0.113.8 target 10.0.1.22 port router0:port1 dnat chain0:rule0 snat chain1:rule0" ]
	run -0 rules edge-infilter
	[ "${#lines[@]}" -eq 1 ]
	echo "$output"
	[[ "$output" == "rule rule0 pos 1 type dnat "* ]]
	[[ "$output" == *" dst 203.0.113.8/32"* ]]
	run -0 midox --json router edge floating-ip 203.0.113.8 delete
	[ "$(echo "$output" | json_get '["deleted"]')" = floating-ip ]
	[ "$(echo "$output" | json_get '["snat"]')" = chain1:rule0 ]
	run -0 midox router edge list floating-ip
	[ -z "$output" ]
	run -0 midox chain list
	[ "$output" = "chain chain0 name edge-infilter rules 0
chain chain1 name edge-outfilter rules 0" ]
	run -0 midox router edge show
	[[ "$output" == *" infilter chain0 outfilter chain1"* ]]
	# A floating IP with one rule left (the other deleted by hand) is listed so and deleted
	midox router edge add floating-ip address 203.0.113.9 target 10.0.1.23 port port1
	midox --force chain edge-outfilter rule rule0 delete
	run -0 midox router edge list floating-ip
	[ "$output" = "floating-ip 203.0.113.9 target 10.0.1.23 dnat chain0:rule0 snat none" ]
	run -0 midox router edge floating-ip 203.0.113.9 delete
	[ "$output" = "deleted floating-ip 203.0.113.9: rules chain0:rule0, none" ]
	run -0 midox router edge list floating-ip
	[ -z "$output" ]
}

@test "floating-ip errors: clear, non-zero, nothing written" {
	make_router
	expect_error 1 "bad floating-ip address '203.0.113': not a unicast IPv4 address" \
		midox router edge add floating-ip address 203.0.113 target 10.0.1.21 port port1
	expect_error 1 "bad target address 'vm1'" \
		midox router edge add floating-ip address 203.0.113.7 target vm1 port port1
	expect_error 1 "add floating-ip needs address and target and port" midox router edge add floating-ip target 10.0.1.21 port port1
	expect_error 1 "add floating-ip needs address and target and port" midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21
	expect_error 1 "port bridge0:port0 is not a port of router router0" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port bridge0:port0
	expect_error 2 "unknown port 'port7' on router router0" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port7
	expect_error 1 "a floating IP and its target are two addresses" \
		midox router edge add floating-ip address 10.0.1.21 target 10.0.1.21 port port1
	expect_error 2 "unknown router 'nowhere'" \
		midox router nowhere add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	# the second chain's name taken: not even the first is created
	midox chain create name edge-outfilter
	expect_error 2 "a chain named 'edge-outfilter' exists \(chain0\)" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox chain edge-outfilter delete
	midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	expect_error 2 "203.0.113.7 is already a floating IP of router router0 \(rule chain[0-9]:rule0\)" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.99 port port1
	expect_error 2 "no floating IP 203.0.113.99 on router router0" \
		midox router edge floating-ip 203.0.113.99 delete
	expect_error 1 "bad floating-ip 'x'" midox router edge floating-ip x delete
	expect_error 1 "bad name 'floating-ip': a command word" midox router create name floating-ip
	expect_error 1 "floating-ip needs an address and a command: one of delete" \
		midox router edge floating-ip 203.0.113.7
}

@test "floating-ip refuses chains the router shares, saying what to do" {
	make_router
	midox chain create name shared
	midox chain create name mine
	midox router edge set infilter shared outfilter mine
	midox bridge blue set infilter shared
	expect_error 2 "router router0's infilter chain chain0 is also the infilter of bridge bridge0: floating-ip writes its rules into chains the router alone uses; give router router0 an infilter of its own \(router router0 clear infilter, and floating-ip add creates one\)" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox bridge blue clear infilter
	midox chain create name other
	midox chain other add rule type jump jump-to mine
	expect_error 2 "router router0's outfilter chain chain1 is also the jump-to of rule chain2:rule0" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox --force chain other rule rule0 delete
	midox router edge set infilter mine outfilter mine
	expect_error 2 "router router0's infilter chain chain1 is also its outfilter" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox router create name second
	midox router second set outfilter shared
	midox router edge set infilter shared outfilter mine
	expect_error 2 "is also the outfilter of router router1" \
		midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	midox router second clear outfilter
	run -0 midox router edge add floating-ip address 203.0.113.7 target 10.0.1.21 port port1
	[ "$output" = "floating-ip 203.0.113.7 target 10.0.1.21 port router0:port1 dnat chain0:rule0 snat chain1:rule0" ]
}
