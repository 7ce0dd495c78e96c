#!/usr/bin/env bats
# The grammar tables in one-shot mode: help and help OBJECT list every command from them,
# and their "expected one of ..." errors name what the tables accept.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

@test "help lists every command with its arguments, and asks ZooKeeper nothing" {
	run -0 env MIDOX_ZK_SERVERS=127.0.0.1:1 "$MIDOX" help
	for want in \
		'tunnel-zone create name Z [type vxlan]' 'tunnel-zone Z add member host H address A' \
		'host H add binding port P interface IF' 'host H delete binding interface IF' \
		'bridge B add port [mac M] [address A] [host H interface IF]' \
		'bridge B port P set [mac M] [address A]' \
		'router R add port (address A net N | addresses A/len[,A/len]) [mac M]' \
		'router R add route [src S] dst D [type normal|blackhole|reject] [port P] [gw G] [weight W]' \
		'router R route X delete' 'router R arp-entry A delete' 'router R list arp' \
		'router R add floating-ip address F target A port P' 'router R list floating-ip' \
		'router R floating-ip F delete' \
		'PORT set peer (router R port Q | bridge B port Q | REF)' 'PORT delete peer'; do
		echo "want: $want"
		grep -qF -- "  $want" <<<"$output"
	done
	# Aliases of another command stay out of help.
	[[ "$output" != *"list arp-entry"* ]]
	[ "$(midox --help)" = "$output" ]
}

@test "help OBJECT lists that object's commands and its nested ones only" {
	run -0 midox help router
	[[ "${lines[0]}" == "  router create name R "* ]]
	[[ "$output" == *"router R port P set peer"* ]]
	[[ "$output" == *"router R route X show"* ]]
	! grep -qE '^  (bridge|host|tunnel-zone|PORT) ' <<<"$output" || false
	run -0 midox help tunnel-zone
	[ "${#lines[@]}" -eq 7 ]
	run -0 midox help port
	[[ "${lines[0]}" == "  PORT show "* ]]
	expect_error 1 "unknown object 'frob': expected one of tunnel-zone, host, bridge, router, chain, port-group, ip-address-group, datapath, monitor, trace, topology, port$" \
		midox help frob
	expect_error 1 "unexpected word 'x' after 'help bridge'" midox help bridge x
}

@test "expected one of: the commands the tables hold at each level" {
	make_topology
	midox router create name R
	expect_error 1 "unknown command 'frob': expected one of tunnel-zone, host, bridge, router, chain, port-group, ip-address-group, datapath, monitor, trace, topology, a port such as bridge0:port1, help$" \
		midox frob
	expect_error 1 "^midox: error: bridge needs a command: one of create, list, or a bridge$" midox bridge
	expect_error 1 "tunnel-zone needs a command: one of create, list, or a tunnel zone$" midox tunnel-zone
	expect_error 1 "host needs a command: one of list, or a host$" midox host
	# A type without objects (no find): its commands only.
	expect_error 1 "datapath needs a command: one of show, list port, list mac-table, list route, list neighbour, list tunnel-peer, list counter, list filter, list connection, list nat-lease$" midox datapath
	expect_error 1 "unknown command 'datapath list frob': expected one of show, list port," midox datapath list frob
	expect_error 1 "bridge blue needs a command: one of show, delete, add port, set, clear infilter, clear outfilter, list port, list mac-table, port$" midox bridge blue
	expect_error 1 "unknown command 'bridge blue frob': expected one of show, delete, add port, set, clear infilter, clear outfilter, list port, list mac-table, port$" \
		midox bridge blue frob
	# The second word when the first begins a longer command.
	expect_error 1 "unknown command 'bridge blue add frob': expected one of" midox bridge blue add frob
	expect_error 1 "unknown command 'host hosta frob': expected one of show, delete, add binding, list binding, delete binding, list interface$" \
		midox host hosta frob
	expect_error 1 "unknown command 'router R frob': expected one of show, delete, delete arp-entry, add port, list port, set, clear infilter, clear outfilter, add route, list route, add arp-entry, list arp, add floating-ip, list floating-ip, add bgp-peer, list bgp-peer, delete bgp-peer, add bgp-network, list bgp-network, delete bgp-network, port, route, arp-entry, floating-ip, bgp-peer, bgp-network$" \
		midox router R frob
	expect_error 1 "bridge port needs a port and a command: one of show, delete, set, clear infilter, clear outfilter, clear egress-limit, clear mac, clear address, add allowed-address, delete allowed-address, set peer, delete peer, clear peer$" \
		midox bridge blue port port0
	expect_error 1 "router arp-entry needs an address and a command: one of delete$" midox router R arp-entry 10.0.0.1
	expect_error 1 "unknown command 'port frob': expected one of show, delete, set" midox bridge0:port0 frob
	expect_error 1 "bad tunnel zone type 'gre': expected one of vxlan$" midox tunnel-zone create name z type gre
	expect_error 1 "bad route type 'drop': expected one of normal, blackhole, reject$" \
		midox router R add route dst 10.9.0.0/16 type drop
}

@test "arguments by the tables: unknown, repeated, missing, and each value by its type" {
	make_topology
	expect_error 1 "unknown word 'colour' in 'add port'" midox bridge blue add port colour red
	expect_error 1 "'mac' given twice in 'add port'" \
		midox bridge blue add port mac 02:00:00:00:00:07 mac 02:00:00:00:00:08
	expect_error 1 "'address' needs a value in 'add port'" midox bridge blue add port address
	expect_error 1 "add member needs host and address$" midox tunnel-zone underlay add member host hosta
	expect_error 1 "delete binding needs an interface$" midox host hosta delete binding
	expect_error 1 "bad interface name 'a/b'" midox host hosta delete binding interface a/b
	expect_error 1 "unexpected word 'x' after 'show'" midox bridge blue show x
	# Values are checked before references are looked up: a bad address, not an unknown host.
	expect_error 1 "bad address 'x'" midox tunnel-zone underlay add member host nosuch address x
}
