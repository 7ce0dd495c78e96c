#!/usr/bin/env bats
# The midox CLI's rule chains against a real ZooKeeper: chains and their rules (every type
# and condition, inversion, positions, NAT targets, fragment policies as MidoNet defaults and
# checks them), port groups, IP address groups, the infilter and outfilter of routers,
# bridges and ports; list, show, delete, --json, Tab completion; deletes refused while in use
# naming the user; every error leaving the topology as it was (docs/chains.md).

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() {
	[ -z "${TMUX_SOCK:-}" ] || [ ! -S "$TMUX_SOCK" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	cli_teardown
}

# bridge0 (blue) with two ports, router0 (edge) with one, chains fw and sub.
make_chains() {
	midox bridge create name blue
	midox bridge blue add port
	midox bridge blue add port
	midox router create name edge
	midox router edge add port address 10.0.0.1 net 10.0.0.0/24
	midox chain create name fw
	midox chain create name sub
}

# Off a midox host `chain C list rule` says on stderr that it has no counters to show (its
# own test below); the other tests read the rules alone: midox without that line.
midox() {
	local err rc
	{ err=$("$MIDOX" "$@" 2>&1 1>&3 3>&-); rc=$?; } 3>&1
	[ -z "$err" ] || grep -v '^midox: no rule counters: ' <<<"$err" >&2 || true
	return "$rc"
}

# The rules of chain $1 as "pos type" words, in order.
rule_order() { midox chain "$1" list rule | awk '{ print $4 " " $6 " " $2 }'; }

@test "chain create, list, show, delete; aliases, names unique, --json" {
	run -0 midox chain create name fw
	[ "$output" = chain0 ]
	run -0 midox chain create name sub
	[ "$output" = chain1 ]
	run -0 midox chain list
	[ "$output" = "chain chain0 name fw rules 0
chain chain1 name sub rules 0" ]
	run -0 midox chain fw show
	[[ "$output" =~ ^chain\ chain0\ id\ [0-9a-f-]{36}\ name\ fw\ rules\ 0$ ]]
	run -0 midox --json chain list
	[ "$(echo "$output" | json_get '[1]["name"]')" = sub ]
	[ "$(echo "$output" | json_get '[1]["alias"]')" = chain1 ]
	run -0 midox --json chain create name third
	[ "$(echo "$output" | json_get '["alias"]')" = chain2 ]
	expect_error 2 "a chain named 'fw' exists \(chain0\)$" midox chain create name fw
	expect_error 1 "needs a name" midox chain create
	expect_error 1 "bad name 'a/b'" midox chain create name a/b
	expect_error 2 "unknown chain 'nosuch'" midox chain nosuch show
	run -0 midox chain sub delete
	[ "$output" = "deleted chain chain1 name sub" ]
	# Aliases are creation-order indices: a fresh session numbers the third chain1 now.
	run -0 midox chain list
	[ "$output" = "chain chain0 name fw rules 0
chain chain1 name third rules 0" ]
	run -0 midox --json chain third delete
	[ "$(echo "$output" | json_get '["deleted"]')" = chain ]
	[ "$(echo "$output" | json_get '["rules"]')" = 0 ]
}

@test "add rule: every type, in order, pos N inserts, delete moves the rest up" {
	make_chains
	run -0 midox chain fw add rule type accept
	[ "$output" = chain0:rule0 ]
	midox chain fw add rule type drop
	midox chain fw add rule type reject
	midox chain fw add rule type continue
	midox chain fw add rule type return
	midox chain fw add rule type jump jump-to sub
	midox chain fw add rule type snat target 192.0.2.1
	midox chain fw add rule type dnat target 192.0.2.2:80
	midox chain fw add rule type rev_snat
	run -0 midox chain fw add rule type rev_dnat action continue
	[ "$output" = chain0:rule9 ]
	run -0 rule_order fw
	[ "$output" = "1 accept rule0
2 drop rule1
3 reject rule2
4 continue rule3
5 return rule4
6 jump rule5
7 snat rule6
8 dnat rule7
9 rev_snat rule8
10 rev_dnat rule9" ]
	run -0 midox chain fw list rule
	[[ "${lines[5]}" == "rule rule5 pos 6 type jump jump-to chain1 fragment-policy any" ]]
	[[ "${lines[6]}" == "rule rule6 pos 7 type snat action accept target 192.0.2.1 fragment-policy any" ]]
	[[ "${lines[7]}" == "rule rule7 pos 8 type dnat action accept target 192.0.2.2:80 fragment-policy unfragmented" ]]
	[[ "${lines[9]}" == "rule rule9 pos 10 type rev_dnat action continue fragment-policy any" ]]
	# pos 1 goes first, the others move down; pos n+1 is last.
	run -0 midox chain fw add rule pos 1 type drop src 10.0.0.0/8
	[ "$output" = chain0:rule10 ]
	run -0 midox chain fw add rule pos 12 type accept
	run -0 rule_order fw
	[ "${lines[0]}" = "1 drop rule10" ]
	[ "${lines[1]}" = "2 accept rule0" ]
	[ "${lines[11]}" = "12 accept rule11" ]
	# Deleting the third moves the rest up: positions stay 1..n in ZooKeeper too (and a
	# fresh session's aliases, creation-order indices, shift down one past rule1).
	run -0 midox --force chain fw rule rule1 delete
	[ "$output" = "deleted rule chain0:rule1" ]
	run -0 rule_order fw
	[ "${lines[2]}" = "3 reject rule1" ]
	[ "${#lines[@]}" -eq 11 ]
	run -0 "$HELPER" dump
	[ "$(echo "$output" | grep -c '"pos":')" -eq 11 ]
	for p in $(seq 1 11); do echo "$output" | grep -q "\"pos\":$p,"; done
	run -0 midox chain list
	[ "${lines[0]}" = "chain chain0 name fw rules 11" ]
	run -0 midox chain fw rule rule1 show
	[[ "$output" =~ ^rule\ rule1\ id\ [0-9a-f-]{36}\ chain\ chain0\ pos\ 3\ type\ reject\ fragment-policy\ any$ ]]
	# A rule by its full alias and by UUID.
	id=$(midox --json chain fw rule chain0:rule1 show | json_get '["id"]')
	run -0 midox chain fw rule "$id" show
	[[ "$output" == "rule rule1 id $id "* ]]
}

@test "every condition, each inverted, shown as given; --json has them all" {
	make_chains
	midox port-group create name web
	midox ip-address-group create name ext
	run -0 midox chain fw add rule type drop hw-src '!02:00:00:00:00:01' hw-dst ff:ff:ff:ff:ff:ff \
		ethertype '!0x0800' src '!10.0.0.0/8' dst 192.168.0.0/16 proto '!6' tos 16 \
		src-port '!1024:65535' dst-port 80 in-ports '!bridge0:port0,bridge0:port1' \
		out-ports router0:port0 port-group '!web' in-port-group web out-port-group '!web' \
		ip-address-group-src '!ext' ip-address-group-dst ext flow fwd-flow
	run -0 midox chain fw list rule
	[ "$output" = "rule rule0 pos 1 type drop hw-src !02:00:00:00:00:01 hw-dst ff:ff:ff:ff:ff:ff ethertype !0x0800 src !10.0.0.0/8 dst 192.168.0.0/16 proto !6 tos 16 src-port !1024:65535 dst-port 80 in-ports !bridge0:port0,bridge0:port1 out-ports router0:port0 port-group !pgroup0 in-port-group pgroup0 out-port-group !pgroup0 ip-address-group-src !ip-address-group0 ip-address-group-dst ip-address-group0 flow fwd-flow fragment-policy header" ]
	run -0 midox --json chain fw list rule
	j=$output
	[ "$(echo "$j" | json_get '[0]["conditions"]["src"]["value"]')" = 10.0.0.0/8 ]
	[ "$(echo "$j" | json_get '[0]["conditions"]["src"]["invert"]')" = True ]
	[ "$(echo "$j" | json_get '[0]["conditions"]["dst"]["invert"]')" = False ]
	[ "$(echo "$j" | json_get '[0]["conditions"]["proto"]["value"]')" = 6 ]
	[ "$(echo "$j" | json_get '[0]["conditions"]["in_ports"]["value"][1]["alias"]')" = bridge0:port1 ]
	[ "$(echo "$j" | json_get '[0]["conditions"]["ip_address_group_dst"]["value"]["alias"]')" = ip-address-group0 ]
	[ "$(echo "$j" | json_get '[0]["flow"]')" = fwd-flow ]
	[ "$(echo "$j" | json_get '[0]["fragment_policy"]')" = header ]
	[ "$(echo "$j" | json_get '[0]' | python3 -c 'import sys; print(sys.stdin.read().count("invert"))')" -eq 16 ]
	# Decimal ethertype, a port range with '-', return-flow.
	run -0 midox chain fw add rule type accept ethertype 2054 dst-port 1-2 flow return-flow
	run -0 midox chain fw rule rule1 show
	[[ "$output" == *"ethertype 0x0806 dst-port 1:2 flow return-flow fragment-policy header" ]]
}

@test "fragment-policy: MidoNet's defaults and the policies it refuses" {
	make_chains
	midox chain fw add rule type accept
	midox chain fw add rule type accept dst-port 22
	midox chain fw add rule type snat target 192.0.2.1
	midox chain fw add rule type snat target 192.0.2.1-192.0.2.9
	midox chain fw add rule type dnat target 192.0.2.1 dst-port 80
	midox chain fw add rule type accept fragment-policy nonheader
	midox chain fw add rule type accept src-port 53 fragment-policy unfragmented
	midox chain fw add rule type snat target 192.0.2.1 fragment-policy header
	run -0 sh -c "$MIDOX chain fw list rule 2>/dev/null | sed 's/.*fragment-policy //'"
	[ "$output" = "any
header
any
unfragmented
unfragmented
nonheader
unfragmented
header" ]
	expect_error 1 "fragment-policy any: a rule with src-port or dst-port takes header or unfragmented" \
		midox chain fw add rule type accept dst-port 22 fragment-policy any
	expect_error 1 "fragment-policy nonheader: a rule with src-port or dst-port" \
		midox chain fw add rule type accept src-port 22 fragment-policy nonheader
	expect_error 1 "fragment-policy header: a snat rule translating ports or an address range matches unfragmented packets only" \
		midox chain fw add rule type snat target 192.0.2.1:1000-2000 fragment-policy header
	expect_error 1 "fragment-policy any: a dnat rule" \
		midox chain fw add rule type dnat target 192.0.2.1 dst-port 80 fragment-policy any
	expect_error 1 "bad fragment policy 'some': expected one of any, header, nonheader, unfragmented" \
		midox chain fw add rule type accept fragment-policy some
}

@test "add rule errors: each with its message, nothing written" {
	make_chains
	midox chain fw add rule type accept
	expect_error 1 "needs type|'type' is required|type" midox chain fw add rule src 10.0.0.0/8
	expect_error 1 "bad rule type 'allow': expected one of accept, drop, reject, continue, jump, return, snat, dnat, rev_snat, rev_dnat" \
		midox chain fw add rule type allow
	expect_error 1 "a jump rule needs jump-to$" midox chain fw add rule type jump
	expect_error 1 "jump-to is for jump rules, not accept$" midox chain fw add rule type accept jump-to sub
	expect_error 2 "unknown chain 'nosuch'" midox chain fw add rule type jump jump-to nosuch
	expect_error 1 "a snat rule needs a target$" midox chain fw add rule type snat
	expect_error 1 "target is for snat and dnat rules, not rev_snat$" \
		midox chain fw add rule type rev_snat target 192.0.2.1
	expect_error 1 "action is for NAT rules, not drop$" midox chain fw add rule type drop action accept
	expect_error 1 "bad action 'drop': expected one of accept, continue, return" \
		midox chain fw add rule type snat target 192.0.2.1 action drop
	for t in 192.0.2.9-192.0.2.1 192.0.2.1:2000-1000 192.0.2.1:0 224.0.0.1 192.0.2.1: 1.2.3 192.0.2.1:70000; do
		expect_error 1 "bad target '$t': A\[-B\]\[:P1\[-P2\]\]" midox chain fw add rule type dnat target "$t"
	done
	expect_error 1 "pos 3: chain chain0 has 1 rule \(pos 1 to 2\)$" midox chain fw add rule pos 3 type drop
	expect_error 1 "bad pos '0'" midox chain fw add rule pos 0 type drop
	expect_error 1 "bad src '10.0.0.1/8'" midox chain fw add rule type drop src 10.0.0.1/8
	expect_error 1 "bad dst 'x'" midox chain fw add rule type drop dst x
	expect_error 1 "src needs a value after '!'$" midox chain fw add rule type drop src '!'
	expect_error 1 "bad proto '256': 0 to 255$" midox chain fw add rule type drop proto 256
	expect_error 1 "bad tos '-1': 0 to 255$" midox chain fw add rule type drop tos -1
	expect_error 1 "bad dst-port '90:80': P or P1:P2, ports 1 to 65535, P1 <= P2$" \
		midox chain fw add rule type drop dst-port 90:80
	expect_error 1 "bad src-port '0'" midox chain fw add rule type drop src-port 0
	expect_error 1 "bad ethertype '0x05dc': 0x0600 to 0xffff" midox chain fw add rule type drop ethertype 0x05dc
	expect_error 1 "bad hw-src '02:00'" midox chain fw add rule type drop hw-src 02:00
	expect_error 1 "bad flow 'both': expected one of fwd-flow, return-flow" \
		midox chain fw add rule type drop flow both
	expect_error 2 "unknown port 'bridge0:port9'" midox chain fw add rule type drop in-ports bridge0:port0,bridge0:port9
	expect_error 1 "in-ports names more than 8 ports" midox chain fw add rule type drop \
		in-ports bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0,bridge0:port0
	expect_error 2 "unknown port-group 'nosuch'" midox chain fw add rule type drop port-group nosuch
	expect_error 2 "unknown ip-address-group 'nosuch'" midox chain fw add rule type drop ip-address-group-src nosuch
	expect_error 1 "'src' given twice|src.*twice" midox chain fw add rule type drop src 10.0.0.0/8 src 10.0.0.0/8
	expect_error 1 "unknown" midox chain fw add rule type drop frob 1
	expect_error 2 "unknown chain 'nosuch'" midox chain nosuch add rule type drop
	expect_error 2 "unknown rule 'rule7' in chain chain0" midox chain fw rule rule7 show
}

@test "port-group: create, stateful, members, list, show, delete, --json" {
	make_chains
	run -0 midox port-group create name web stateful true
	[ "$output" = pgroup0 ]
	run -0 midox port-group create name db
	[ "$output" = pgroup1 ]
	run -0 midox port-group web add member port bridge0:port0
	[ -z "$output" ]
	midox port-group web add member port router0:port0
	run -0 midox port-group list
	[ "$output" = "port-group pgroup0 name web stateful true members 2
port-group pgroup1 name db stateful false members 0" ]
	run -0 midox port-group web list member
	[ "$output" = "port-group pgroup0 port bridge0:port0
port-group pgroup0 port router0:port0" ]
	run -0 midox port-group web show
	[[ "$output" =~ ^port-group\ pgroup0\ id\ [0-9a-f-]{36}\ name\ web\ stateful\ true\ members\ 2$ ]]
	run -0 midox --json port-group web list member
	[ "$(echo "$output" | json_get '[1]["port"]["alias"]')" = router0:port0 ]
	run -0 midox --json port-group list
	[ "$(echo "$output" | json_get '[0]["stateful"]')" = True ]
	expect_error 2 "port bridge0:port0 is a member of port group pgroup0 already$" \
		midox port-group web add member port bridge0:port0
	expect_error 2 "port bridge0:port1 is not a member of port group pgroup0$" \
		midox --force port-group web delete member port bridge0:port1
	expect_error 1 "needs a port" midox port-group web add member
	expect_error 2 "unknown port 'bridge0:port7'" midox port-group web add member port bridge0:port7
	expect_error 1 "bad stateful 'yes': expected one of true, false" midox port-group create name x stateful yes
	expect_error 2 "a port group named 'db' exists \(pgroup1\)$" midox port-group create name db
	midox --force port-group web delete member port router0:port0
	run -0 midox port-group web list member
	[ "$output" = "port-group pgroup0 port bridge0:port0" ]
	# A port's deletion takes its memberships, in the same write.
	run -0 midox --force bridge blue port port0 delete
	run -0 midox port-group web list member
	[ -z "$output" ]
	run -0 "$HELPER" dump
	[[ "$output" != *"/members/"* ]]
	# The bridge's other port is port0 now (creation-order aliases).
	midox port-group web add member port bridge0:port0
	run -0 midox port-group web delete
	[ "$output" = "deleted port-group pgroup0 name web: 1 member" ]
	run -0 midox port-group list
	[ "$output" = "port-group pgroup0 name db stateful false members 0" ]
}

@test "ip-address-group: create, add ip, list ip, delete ip, delete, --json" {
	run -0 midox ip-address-group create name ext
	[ "$output" = ip-address-group0 ]
	midox ip-address-group ext add ip address 192.0.2.1
	midox ip-address-group ip-address-group0 add ip address 198.51.100.7
	run -0 midox ip-address-group ext list ip
	[ "$output" = "ip-address-group ip-address-group0 address 192.0.2.1
ip-address-group ip-address-group0 address 198.51.100.7" ]
	run -0 midox ip-address-group list
	[ "$output" = "ip-address-group ip-address-group0 name ext addresses 2" ]
	run -0 midox --json ip-address-group ext list ip
	[ "$(echo "$output" | json_get '[1]["address"]')" = 198.51.100.7 ]
	run -0 midox --json ip-address-group ext show
	[ "$(echo "$output" | json_get '["addresses"]')" = 2 ]
	expect_error 2 "IP address group ip-address-group0 has 192.0.2.1 already$" \
		midox ip-address-group ext add ip address 192.0.2.1
	expect_error 2 "IP address group ip-address-group0 has no address 192.0.2.9$" \
		midox ip-address-group ext delete ip address 192.0.2.9
	expect_error 1 "bad address '192.0.2'" midox ip-address-group ext add ip address 192.0.2
	expect_error 1 "needs an address" midox ip-address-group ext add ip
	midox ip-address-group ext delete ip address 192.0.2.1
	run -0 midox ip-address-group ext list ip
	[ "$output" = "ip-address-group ip-address-group0 address 198.51.100.7" ]
	run -0 midox ip-address-group ext delete
	[ "$output" = "deleted ip-address-group ip-address-group0 name ext: 1 address" ]
	run -0 midox ip-address-group list
	[ -z "$output" ]
}

@test "infilter and outfilter on routers, bridges and ports: set, show, clear, --json" {
	make_chains
	run -0 midox router edge set infilter fw outfilter sub
	[ -z "$output" ]
	run -0 midox router list
	[ "$output" = "router router0 name edge state up infilter chain0 outfilter chain1" ]
	run -0 midox --json router edge show
	[ "$(echo "$output" | json_get '["infilter"]["alias"]')" = chain0 ]
	[ "$(echo "$output" | json_get '["outfilter"]["alias"]')" = chain1 ]
	midox bridge blue set outfilter fw
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name blue state up outfilter chain0" ]
	midox bridge blue port port1 set infilter sub
	midox router edge port port0 set outfilter fw
	run -0 midox bridge blue list port
	[ "${lines[1]}" = "port port1 device bridge0 state up infilter chain1" ]
	run -0 midox router edge list port
	[[ "$output" == *" outfilter chain0" ]]
	# Other changes keep the filters (the node is rewritten whole).
	midox router edge set state down
	midox bridge blue set state down
	midox bridge blue port port1 set state down
	[ "$(midox router list)" = "router router0 name edge state down infilter chain0 outfilter chain1" ]
	[ "$(midox bridge list)" = "bridge bridge0 name blue state down outfilter chain0" ]
	run -0 midox bridge blue list port
	[ "${lines[1]}" = "port port1 device bridge0 state down infilter chain1" ]
	# Clear one, the other stays.
	midox router edge clear infilter
	[ "$(midox router list)" = "router router0 name edge state down outfilter chain1" ]
	midox --force bridge blue port port1 clear infilter
	run -0 midox bridge blue list port
	[ "${lines[1]}" = "port port1 device bridge0 state down" ]
	expect_error 1 "set state or asn, or infilter and outfilter, not both" \
		midox router edge set state up infilter fw
	expect_error 1 "set state, or infilter and outfilter, not both" midox bridge blue set state up infilter fw
	expect_error 1 "set infilter or outfilter alone" midox bridge blue port port0 set state up infilter fw
	expect_error 2 "unknown chain 'nosuch'" midox router edge set infilter nosuch
	expect_error 1 "set needs state, infilter or outfilter$" midox bridge blue set
	# Nodes without filters encode as before: no field at all.
	run -0 "$HELPER" dump
	[ "$(echo "$output" | grep -c 'infilter')" -eq 0 ]
}

@test "deletes refused while in use, naming the user; allowed once it is gone" {
	make_chains
	midox port-group create name web
	midox ip-address-group create name ext
	midox chain create name other
	midox router edge set infilter fw
	expect_error 2 "chain chain0 is in use: router router0 infilter$" midox chain fw delete
	midox router edge clear infilter
	midox bridge blue set outfilter fw
	expect_error 2 "chain chain0 is in use: bridge bridge0 outfilter$" midox chain fw delete
	midox bridge blue clear outfilter
	midox bridge blue port port1 set infilter fw
	expect_error 2 "chain chain0 is in use: port bridge0:port1 infilter$" midox chain fw delete
	midox --force bridge blue port port1 clear infilter
	midox chain other add rule type jump jump-to fw
	expect_error 2 "chain chain0 is in use: rule chain2:rule0 jump-to$" midox chain fw delete
	midox chain fw add rule type drop port-group web ip-address-group-dst ext in-ports bridge0:port0
	expect_error 2 "port group pgroup0 is in use: rule chain0:rule0 port-group$" midox port-group web delete
	expect_error 2 "IP address group ip-address-group0 is in use: rule chain0:rule0 ip-address-group-dst$" \
		midox ip-address-group ext delete
	expect_error 2 "port bridge0:port0 is in use: rule chain0:rule0 in-ports$" \
		midox --force bridge blue port port0 delete
	expect_error 2 "port bridge0:port0 is in use: rule chain0:rule0 in-ports$" midox bridge blue delete
	# A chain jumping to itself does not hold itself; its delete takes its rules.
	midox chain fw add rule type jump jump-to fw
	midox --force chain other rule rule0 delete
	run -0 midox chain fw delete
	[ "$output" = "deleted chain chain0 name fw: 2 rules" ]
	run -0 "$HELPER" dump
	[[ "$output" != *'"type":"drop"'* ]]
	midox port-group web delete
	midox ip-address-group ext delete
	run -0 midox bridge blue delete
	[[ "$output" == "deleted bridge bridge0 name blue: 2 ports"* ]]
}

@test "a rule deleted through an alias the session has not printed needs --force" {
	make_chains
	midox chain fw add rule type drop
	expect_error 1 "refusing to delete through alias 'rule0'" midox chain fw rule rule0 delete
	run -0 midox -e 'chain fw list rule' -e 'chain fw rule rule0 delete'
	[[ "$output" == *"deleted rule chain0:rule0" ]]
	run -0 midox chain fw list rule
	[ -z "$output" ]
}

@test "help chain, port-group, ip-address-group; Tab completes chains, rule keys and values" {
	command -v tmux >/dev/null || skip "tmux not installed (tools/scripts/install-deps)"
	run -0 midox help chain
	[[ "$output" == *"chain C add rule [pos N] type T [action A] [jump-to C]"* ]]
	[[ "$output" == *"chain C rule R delete"* ]]
	run -0 midox help port-group
	[[ "$output" == *"port-group G add member port P"* ]]
	run -0 midox help ip-address-group
	[[ "$output" == *"ip-address-group A add ip address X"* ]]
	run -0 midox help router
	[[ "$output" == *"router R clear infilter"* ]]
	make_chains
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
	tm() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }
	wait_screen() {
		local i
		for i in $(seq 1 50); do
			tm capture-pane -p -J -S -300 | grep -qE -- "$1" && return 0
			sleep 0.1
		done
		tm capture-pane -p -J -S -300 >&2
		return 1
	}
	mkdir -p "$BATS_TEST_TMPDIR/cwd"
	tm new-session -d -x 150 -y 60 -c "$BATS_TEST_TMPDIR/cwd" \
		"env MIDOX_ZK_SERVERS=$MIDOX_ZK_SERVERS HOME=$HOME MIDOX_HISTORY=$HOME/history $MIDOX"
	wait_screen '^midox> $'
	tm send-keys -l 'cha'
	tm send-keys Tab
	wait_screen '^midox> chain $'
	tm send-keys -l 'f'
	tm send-keys Tab
	wait_screen '^midox> chain fw $'
	tm send-keys -l 'add r'
	tm send-keys Tab
	wait_screen '^midox> chain fw add rule $'
	tm send-keys -l 'fragment-p'
	tm send-keys Tab
	wait_screen '^midox> chain fw add rule fragment-policy $'
	tm send-keys -l 'unf'
	tm send-keys Tab
	wait_screen '^midox> chain fw add rule fragment-policy unfragmented $'
	tm send-keys -l 'jump-to s'
	tm send-keys Tab
	wait_screen '^midox> chain fw add rule fragment-policy unfragmented jump-to sub $'
	tm send-keys C-u
	tm send-keys -l 'router edge set inf'
	tm send-keys Tab
	wait_screen '^midox> router edge set infilter *$'
}

@test "concurrent writers: rules inserted at once keep positions 1..n; a delete racing an attach never leaves a filter dangling" {
	make_chains
	# Eight inserts at pos 1 and four appends at once: every one lands, positions dense.
	for i in $(seq 1 8); do midox chain fw add rule pos 1 type drop proto "$i" >/dev/null & done
	for i in $(seq 1 4); do midox chain fw add rule type accept tos "$i" >/dev/null & done
	wait
	run -0 midox chain fw list rule
	[ "${#lines[@]}" -eq 12 ]
	run -0 sh -c "$MIDOX chain fw list rule 2>/dev/null | awk '{ print \$4 }' | tr '\n' ' '"
	[ "$output" = "1 2 3 4 5 6 7 8 9 10 11 12 " ]
	# The eight drops come first (each went to pos 1), the appends after them.
	run -0 sh -c "$MIDOX chain fw list rule 2>/dev/null | awk '{ print \$6 }' | uniq -c | awk '{ print \$1 \$2 }' | tr '\n' ' '"
	[ "$output" = "8drop 4accept " ]
	# A chain delete racing a filter set: one wins, and the router never names a missing
	# chain (the set rewrites the chain at its version; the delete checks it).
	for round in 1 2 3 4 5; do
		midox chain create name "race$round" >/dev/null
		id=$(id_of chain "race$round")
		midox router edge set infilter "race$round" >/dev/null 2>&1 &
		midox chain "race$round" delete >/dev/null 2>&1 &
		wait
		# The stored router node, not the snapshot (which would hide a dangling filter).
		run -0 "$HELPER" dump
		if midox chain "race$round" show >/dev/null 2>&1; then
			echo "round $round: the attach won"
			[[ "$output" == *"\"infilter\":\"$id\""* ]]
			midox router edge clear infilter
			midox chain "race$round" delete >/dev/null
		else
			echo "round $round: the delete won"
			[[ "$output" != *"$id"* ]]
		fi
	done
	run -0 "$HELPER" dump
	[[ "$output" != *infilter* ]]
}

@test "list rule where no datapath is pinned: the rules, and a note that there are no counters" {
	make_chains
	midox chain fw add rule type drop src 10.0.0.0/8
	MIDOX_PIN_ROOT=$BATS_TEST_TMPDIR/none run -0 "$MIDOX" chain fw list rule
	echo "$output"
	[ "${lines[1]}" = "rule rule0 pos 1 type drop src 10.0.0.0/8 fragment-policy any" ]
	[[ "$output" == *"midox: no rule counters: no chain maps pinned in $BATS_TEST_TMPDIR/none"* ]]
	[[ "$output" != *packets* ]]
}
