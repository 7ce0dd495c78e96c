#!/usr/bin/env bats
# The midox CLI's routers against a real ZooKeeper: routers, their ports and port routes,
# links between bridge and router ports, bindings of exterior router ports, routes, static
# and learned ARP entries; references by alias, name and UUID; what deletes take with
# them; and every error leaving the topology as it was.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

# Two tenant bridges joined by router R (port0, port1 interior), an uplink router0:port2
# bound on hosta, a default route out of it, a static ARP entry for the gateway.
make_routed() {
	midox bridge create name blue
	midox bridge blue add port
	midox bridge blue add port
	midox bridge create name red
	midox bridge red add port
	midox router create name R
	midox router R add port address 10.0.1.1 net 10.0.1.0/24
	midox router R add port addresses 10.0.2.1/24
	midox router R add port address 192.0.2.2 net 192.0.2.0/30
	midox bridge blue port port0 set peer router R port port0
	midox bridge red port port0 set peer router R port port1
	midox host hosta add binding port router0:port2 interface uplink0
	midox router R add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port router0:port2 gw 192.0.2.1
	midox router R add arp-entry address 192.0.2.1 mac 02:00:00:00:02:01
}

@test "router create, list, show, delete" {
	run -0 midox router create name R
	[ "$output" = router0 ]
	run -0 midox router create name edge
	[ "$output" = router1 ]
	run -0 midox router list
	[ "${lines[0]}" = "router router0 name R state up" ]
	[ "${lines[1]}" = "router router1 name edge state up" ]
	run -0 midox router edge show
	[[ "$output" =~ ^router\ router1\ id\ [0-9a-f-]{36}\ name\ edge\ state\ up\ tunnel-key\ [0-9]+$ ]]
	run -0 midox --force router router0 delete
	run -0 midox router list
	[ "$output" = "router router0 name edge state up" ]
	run -0 midox --json router create name core
	[ "$(echo "$output" | json_get '["alias"]')" = router1 ]
}

@test "router ports: both address forms, generated MACs, list, show, their port routes" {
	midox router create name R
	run -0 midox router R add port address 10.0.1.1 net 10.0.1.0/24
	[ "$output" = router0:port0 ]
	run -0 midox router R add port addresses 10.0.2.1/24,172.16.5.1/16
	[ "$output" = router0:port1 ]
	run -0 midox router R add port address 192.0.2.2 net 192.0.2.0/30 mac 02:aa:00:00:00:01
	[ "$output" = router0:port2 ]
	run -0 midox router R list port
	[[ "${lines[0]}" =~ ^port\ port0\ device\ router0\ state\ up\ mac\ 02:6d:78(:[0-9a-f]{2}){3}\ address\ 10.0.1.1\ net\ 10.0.1.0/24$ ]]
	[[ "${lines[1]}" =~ ^port\ port1\ device\ router0\ state\ up\ mac\ 02:6d:78(:[0-9a-f]{2}){3}\ address\ 10.0.2.1\ net\ 10.0.2.0/24\ addresses\ 10.0.2.1/24,172.16.5.1/16$ ]]
	[ "${lines[2]}" = "port port2 device router0 state up mac 02:aa:00:00:00:01 address 192.0.2.2 net 192.0.2.0/30" ]
	# Each port's MAC is its own.
	[ "$(midox router R list port | awk '{print $8}' | sort -u | wc -l)" -eq 3 ]
	run -0 midox router R port port0 show
	[[ "$output" =~ ^port\ port0\ id\ [0-9a-f-]{36}\ device\ router0\ state\ up\ tunnel-key\ [0-9]+\ mac\ 02:6d:78 ]]
	# One port route per subnet, made with the port.
	run -0 midox router R list route
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "route route0 type normal src 0.0.0.0/0 dst 10.0.1.0/24 port port0 weight 100" ]
	[ "${lines[1]}" = "route route1 type normal src 0.0.0.0/0 dst 10.0.2.0/24 port port1 weight 100" ]
	[ "${lines[2]}" = "route route2 type normal src 0.0.0.0/0 dst 172.16.0.0/16 port port1 weight 100" ]
	[ "${lines[3]}" = "route route3 type normal src 0.0.0.0/0 dst 192.0.2.0/30 port port2 weight 100" ]
	run -0 midox router R route route1 show
	[[ "$output" == *" port-route true" ]]
	# Deleting a port deletes its routes.
	run -0 midox --force router R port port1 delete
	run -0 midox router R list route
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *10.0.2.0* ]]
	[[ "$output" != *172.16.0.0* ]]
}

@test "routes: normal with gw and weight, blackhole, reject; list, show, delete" {
	midox router create name R
	midox router R add port address 10.0.1.1 net 10.0.1.0/24
	midox router R add port address 192.0.2.2 net 192.0.2.0/30
	run -0 midox router R add route src 0.0.0.0/0 dst 0.0.0.0/0 type normal port router0:port1 gw 192.0.2.1 weight 10
	[ "$output" = router0:route2 ]
	run -0 midox router R add route src 10.0.1.0/24 dst 198.51.100.0/24 type blackhole
	[ "$output" = router0:route3 ]
	run -0 midox router R add route dst 203.0.113.0/24 type reject
	[ "$output" = router0:route4 ]
	run -0 midox router R list route
	[ "${lines[2]}" = "route route2 type normal src 0.0.0.0/0 dst 0.0.0.0/0 gw 192.0.2.1 port port1 weight 10" ]
	[ "${lines[3]}" = "route route3 type blackhole src 10.0.1.0/24 dst 198.51.100.0/24 weight 100" ]
	[ "${lines[4]}" = "route route4 type reject src 0.0.0.0/0 dst 203.0.113.0/24 weight 100" ]
	run -0 midox router R route route2 show
	[[ "$output" =~ ^route\ route2\ id\ [0-9a-f-]{36}\ type\ normal\ .*\ port-route\ false$ ]]
	run -0 midox --force router R route router0:route3 delete
	run -0 midox router R list route
	[[ "$output" != *blackhole* ]]
	[ "${lines[3]}" = "route route3 type reject src 0.0.0.0/0 dst 203.0.113.0/24 weight 100" ]
}

@test "links: bridge port to router port, in every form, and back apart" {
	make_routed
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up peer router0:port0" ]
	[ "${lines[1]}" = "port port1 device bridge0 state up" ]
	run -0 midox router R list port
	[[ "${lines[0]}" == *" peer bridge0:port0" ]]
	[[ "${lines[1]}" == *" peer bridge1:port0" ]]
	run -0 midox --force bridge blue port port0 delete peer
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up" ]
	[[ "$(midox router R port port0 show)" != *peer* ]]
	# The alias form, from either end, and clear peer.
	run -0 midox bridge0:port1 set peer router0:port0
	[[ "$(midox router R port port0 show)" == *" peer bridge0:port1"* ]]
	run -0 midox --force router0:port0 clear peer
	run -0 midox router0:port0 set peer bridge0:port0
	[[ "$(midox bridge blue port port0 show)" == *" peer router0:port0"* ]]
	run -0 midox --force router R port port0 delete peer
	# By UUIDs, and the router side naming the bridge port.
	bp=$(id_of bridge blue port port1)
	rp=$(id_of router R port port0)
	run -0 midox router R port "$rp" set peer bridge blue port "$bp"
	run -0 midox --json bridge blue port port1 show
	[ "$(echo "$output" | json_get '["peer"]["id"]')" = "$rp" ]
	[ "$(echo "$output" | json_get '["peer"]["alias"]')" = router0:port0 ]
	# Two routers may be linked.
	midox router create name edge
	midox router edge add port address 10.9.0.1 net 10.9.0.0/30
	midox router R add port address 10.9.0.2 net 10.9.0.0/30
	run -0 midox router edge port port0 set peer router R port port3
	[[ "$(midox router R port port3 show)" == *" peer router1:port0" ]]
}

@test "bindings: an exterior router port binds to a host interface" {
	make_routed
	run -0 midox host hosta list binding
	[ "$output" = "host host0 interface uplink0 port router0:port2 state unknown: agent not running" ]
	run -0 midox router R port port2 show
	[[ "$output" == *" host host0 interface uplink0" ]]
	midox router R add port address 198.51.100.1 net 198.51.100.0/24
	run -0 midox host hostb add binding port R:port3 interface eth1
	[ "$output" = "host host1 interface eth1 port router0:port3 state unknown: agent not running" ]
	run -0 midox host hosta delete binding interface uplink0
	run -0 midox router0:port2 set peer bridge0:port1
}

@test "static and learned ARP entries" {
	make_routed
	run -0 midox router R add arp-entry address 10.0.1.7 mac 02:00:00:00:01:07
	run -0 midox router R list arp
	[ "${lines[0]}" = "arp-entry address 192.0.2.1 mac 02:00:00:00:02:01 type static" ]
	[ "${lines[1]}" = "arp-entry address 10.0.1.7 mac 02:00:00:00:01:07 type static" ]
	router=$(id_of router R)
	uplink=$(id_of router R port port2)
	hold_host "$HOST_B" hostb arp "$router" 192.0.2.1 02:00:00:00:09:01 "$uplink" \
		arp "$router" 192.0.2.3 02:00:00:00:09:03 "$uplink"
	run -0 midox router R list arp
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[2]}" = "arp-entry address 192.0.2.1 mac 02:00:00:00:09:01 type learned port port2 host host1" ]
	[ "${lines[3]}" = "arp-entry address 192.0.2.3 mac 02:00:00:00:09:03 type learned port port2 host host1" ]
	run -0 midox --json router R list arp
	[ "$(echo "$output" | json_get '[2]["port_alias"]')" = router0:port2 ]
	[ "$(echo "$output" | json_get '[2]["host"]')" = "$HOST_B" ]
	[ "$(echo "$output" | json_get '[0]["type"]')" = static ]
	run -0 "$HELPER" withdraw-arp "$router" 192.0.2.3 02:00:00:00:09:03
	run -0 midox router R list arp
	[ "${#lines[@]}" -eq 3 ]
	run -0 midox router R arp-entry 10.0.1.7 delete
	run -0 midox router R delete arp-entry address 192.0.2.1
	run -0 midox router R list arp
	[ "$output" = "arp-entry address 192.0.2.1 mac 02:00:00:00:09:01 type learned port port2 host host1" ]
	# Learned entries go with their session.
	exec 7>&-
	wait "$HOLD_PID"
	HOLD_PID=
	for _ in $(seq 1 50); do [ -z "$(midox router R list arp)" ] && break; sleep 0.2; done
	[ -z "$(midox router R list arp)" ]
}

@test "references: UUIDs, names and aliases name the same routers, ports and routes" {
	make_routed
	router=$(id_of router R)
	port=$(id_of router R port port1)
	route=$(id_of router R route route3)
	a=$(midox router R show)
	[ "$(midox router router0 show)" = "$a" ]
	[ "$(midox router "$router" show)" = "$a" ]
	[ "$(midox router "${router^^}" show)" = "$a" ]
	p=$(midox router R port port1 show)
	[ "$(midox router router0 port "$port" show)" = "$p" ]
	[ "$(midox router R port router0:port1 show)" = "$p" ]
	[ "$(midox router R port R:port1 show)" = "$p" ]
	[ "$(midox router0:port1 show)" = "$p" ]
	[ "$(midox router R port "${port^^}" show)" = "$p" ]
	r=$(midox router R route route3 show)
	[ "$(midox router R route "$route" show)" = "$r" ]
	[ "$(midox router R route router0:route3 show)" = "$r" ]
	[ "$(midox router "$router" route R:route3 show)" = "$r" ]
	run -0 midox router R add route dst 10.8.0.0/16 port "$port" gw 10.0.2.9
	run -0 midox router R add route dst 10.7.0.0/16 port R:port1
	run -0 midox router R list route
	[[ "$output" == *"dst 10.8.0.0/16 gw 10.0.2.9 port port1 weight 100"* ]]
	[[ "$output" == *"dst 10.7.0.0/16 port port1 weight 100"* ]]
}

@test "deleting a router deletes its ports, bindings, links, routes and ARP entries in one go" {
	make_routed
	midox router create name other
	midox router other add port address 10.0.1.1 net 10.0.1.0/24
	router=$(id_of router R)
	uplink=$(id_of router R port port2)
	hold_host "$HOST_A" hosta arp "$router" 192.0.2.1 02:00:00:00:09:01 "$uplink"
	run -0 "$HELPER" dump
	[[ "$output" == *"hosts/$HOST_A/arp/192.0.2.1,02:00:00:00:09:01,$router"* ]]
	run -0 midox router R delete
	run -0 "$HELPER" dump
	[[ "$output" != *"$router"* ]]
	[[ "$output" != *"$uplink"* ]]
	[[ "$output" != *uplink0* ]]
	[[ "$output" != *'"peer"'* ]]
	run -0 midox router list
	[ "$output" = "router router0 name other state up" ]
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up" ]
	run -0 midox router other list route
	[ "${#lines[@]}" -eq 1 ]
	run -0 midox host hosta list binding
	[ -z "$output" ]
}

@test "deleting a port unlinks its peer and deletes its binding, routes and learned ARP entries" {
	make_routed
	router=$(id_of router R)
	uplink=$(id_of router R port port2)
	hold_host "$HOST_A" hosta arp "$router" 192.0.2.1 02:00:00:00:09:01 "$uplink"
	run -0 midox --force router R port port2 delete
	run -0 "$HELPER" dump
	[[ "$output" != *"$uplink"* ]]
	[[ "$output" != *uplink0* ]]
	run -0 midox router R list route
	[[ "$output" != *192.0.2* ]]
	# The static entry stays: it is the router's, not the port's.
	run -0 midox router R list arp
	[ "$output" = "arp-entry address 192.0.2.1 mac 02:00:00:00:02:01 type static" ]
	# A linked port: its peer is unlinked in the same multi.
	run -0 midox --force router R port port0 delete
	run -0 midox bridge blue port port0 show
	[[ "$output" != *peer* ]]
	# And from the bridge side.
	run -0 midox --force bridge red port port0 delete
	run -0 midox router R port port0 show
	[[ "$output" != *peer* ]]
	# Deleting a bridge unlinks the router ports of its ports.
	midox bridge blue port port1 set peer router R port port0
	run -0 midox bridge blue delete
	run -0 midox router R list port
	[[ "$output" != *peer* ]]
}

@test "--json: every router list and show is valid JSON" {
	make_routed
	for cmd in "router list" "router R show" "router R list port" "router R port port0 show" \
		"router R list route" "router R route route0 show" "router R list arp"; do
		midox --json -e "$cmd" | is_json
	done
	run -0 midox --json router R list port
	[ "$(echo "$output" | json_get '[1]["net"]')" = 10.0.2.0/24 ]
	[ "$(echo "$output" | json_get '[1]["addresses"][0]')" = 10.0.2.1/24 ]
	[ "$(echo "$output" | json_get '[1]["device_type"]')" = router ]
	[ "$(echo "$output" | json_get '[2]["binding"]["interface"]')" = uplink0 ]
	run -0 midox --json router R list route
	[ "$(echo "$output" | json_get '[3]["gw"]')" = 192.0.2.1 ]
	[ "$(echo "$output" | json_get '[3]["port_alias"]')" = router0:port2 ]
	[ "$(echo "$output" | json_get '[0]["port_route"]')" = True ]
	run -0 midox --json router R add route dst 10.5.0.0/16 type reject
	[ "$(echo "$output" | json_get '["alias"]')" = router0:route4 ]
}

@test "concurrent writers: overlapping router ports, duplicate routes" {
	midox router create name R
	for i in $(seq 1 6); do midox router R add port address 10.0.0.$i net 10.0.0.0/24 >/dev/null 2>&1 & done
	for i in $(seq 1 6); do midox router R add route dst 10.9.0.0/16 type blackhole >/dev/null 2>&1 & done
	wait
	run -0 midox router R list port
	[ "${#lines[@]}" -eq 1 ]
	run -0 midox router R list route
	[ "${#lines[@]}" -eq 2 ]
}

@test "a router object that does not parse is skipped, the rest still listed" {
	midox router create name R
	router=$(id_of router R)
	"$HELPER" put /midox/routers/0c000000-0000-4000-8000-00000000000c '{"schema":1,"name":"x"}'
	"$HELPER" put "/midox/routers/$router/routes/0d000000-0000-4000-8000-00000000000d" \
		'{"schema":1,"src":"0.0.0.0/0","dst":"10.0.0.1/8","type":"blackhole","weight":1}'
	"$HELPER" put "/midox/routers/$router/arp_static/10.0.0.300" '{"schema":1,"mac":"02:00:00:00:00:01"}'
	"$HELPER" put /midox/ports/0e000000-0000-4000-8000-00000000000e \
		"{\"schema\":1,\"device\":\"$router\",\"device_type\":\"router\",\"tunnel_key\":99}"
	run -0 midox router list
	[ "$output" = "router router0 name R state up" ]
	run -0 "$HELPER" skipped
	[ "${lines[-1]}" = 4 ]
	run -0 midox router R add port address 10.0.0.1 net 10.0.0.0/24
	# Deleting the router takes what it could not parse with it.
	run -0 midox router R delete
	run -0 "$HELPER" dump
	[[ "$output" != *"routers/$router"* ]]
}

@test "errors: unknown routers, ports, routes, commands and words" {
	make_routed
	expect_error 2 "unknown router 'nosuch'" midox router nosuch show
	expect_error 2 "unknown router 'router5'" midox router router5 add port address 10.0.9.1 net 10.0.9.0/24
	expect_error 2 "unknown port 'port7' on router router0" midox router R port port7 show
	expect_error 2 "unknown port 'router0:port7'" midox router0:port7 set peer bridge0:port1
	expect_error 2 "unknown route 'route9' on router router0" midox --force router R route route9 delete
	expect_error 2 "unknown route" midox router R route 0e000000-0000-4000-8000-00000000000e show
	expect_error 2 "unknown port 'port9' on router router0" midox router R add route dst 10.9.0.0/16 port port9
	expect_error 1 "unknown command 'router R frob'" midox router R frob
	expect_error 1 "unknown word 'colour'" midox router R add port address 10.0.9.1 net 10.0.9.0/24 colour red
	expect_error 1 "unknown word 'via'" midox router R add route dst 10.9.0.0/16 via 10.0.1.5
	expect_error 1 "needs a name" midox router create
	expect_error 1 "set peer needs a port" midox bridge blue port port1 set peer router R
	expect_error 1 "unknown command 'port frob'" midox router R port port0 frob
}

@test "errors: names" {
	make_routed
	expect_error 2 "a router named 'R' exists" midox router create name R
	expect_error 1 "bad name 'a b'" midox -e "router create name 'a b'"
	expect_error 1 "bad name 'route': a command word" midox router create name route
	expect_error 1 "bad name" midox router create name 0a000000-0000-4000-8000-00000000000f
}

@test "errors: router port addresses and nets" {
	make_routed
	expect_error 1 "bad address '10.0.9'" midox router R add port address 10.0.9 net 10.0.9.0/24
	expect_error 1 "bad address '224.0.0.1'" midox router R add port address 224.0.0.1 net 224.0.0.0/24
	expect_error 1 "bad net '10.0.9.0'" midox router R add port address 10.0.9.1 net 10.0.9.0
	expect_error 1 "bad net '10.0.9.0/33'" midox router R add port address 10.0.9.1 net 10.0.9.0/33
	expect_error 1 "bad net '10.0.9.1/24': host bits set \(10.0.9.0/24\?\)" midox router R add port address 10.0.9.1 net 10.0.9.1/24
	expect_error 1 "address 10.0.8.1 is not in net 10.0.9.0/24" midox router R add port address 10.0.8.1 net 10.0.9.0/24
	expect_error 1 "the network address" midox router R add port address 10.0.9.0 net 10.0.9.0/24
	expect_error 1 "the broadcast address" midox router R add port address 10.0.9.255 net 10.0.9.0/24
	expect_error 1 "subnet length 1..32" midox router R add port addresses 10.0.9.1/0
	expect_error 1 "bad address '10.0.9.1'" midox router R add port addresses 10.0.9.1
	expect_error 1 "port addresses 10.0.9.1/24 and 10.0.9.2/16 overlap" midox router R add port addresses 10.0.9.1/24,10.0.9.2/16
	expect_error 1 "at most 4 addresses" midox router R add port addresses 10.1.0.1/24,10.2.0.1/24,10.3.0.1/24,10.4.0.1/24,10.5.0.1/24
	expect_error 1 "not both" midox router R add port address 10.0.9.1 net 10.0.9.0/24 addresses 10.0.8.1/24
	expect_error 1 "needs address A net N" midox router R add port address 10.0.9.1
	expect_error 1 "bad MAC" midox router R add port address 10.0.9.1 net 10.0.9.0/24 mac 01:00:00:00:00:01
	expect_error 2 "address 10.0.1.9/16: its subnet overlaps port router0:port0's 10.0.1.1/24" \
		midox router R add port address 10.0.1.9 net 10.0.0.0/16
}

@test "errors: routes" {
	make_routed
	midox router create name other
	midox router other add port address 10.0.1.1 net 10.0.1.0/24
	expect_error 1 "add route needs dst" midox router R add route src 0.0.0.0/0 port port0
	expect_error 1 "bad dst '10.9.0.1/16': host bits set" midox router R add route dst 10.9.0.1/16 port port0
	expect_error 1 "bad src 'any'" midox router R add route src any dst 10.9.0.0/16 port port0
	expect_error 1 "bad route type 'drop'" midox router R add route dst 10.9.0.0/16 type drop
	expect_error 1 "a normal route needs a port" midox router R add route dst 10.9.0.0/16
	expect_error 1 "a blackhole route has no gw" midox router R add route dst 10.9.0.0/16 type blackhole gw 10.0.1.5
	expect_error 1 "bad weight '0'" midox router R add route dst 10.9.0.0/16 port port0 weight 0
	expect_error 1 "bad weight '65536'" midox router R add route dst 10.9.0.0/16 port port0 weight 65536
	expect_error 1 "bad weight '99999999999999999999'" midox router R add route dst 10.9.0.0/16 port port0 weight 99999999999999999999
	expect_error 1 "bad weight '-1'" midox router R add route dst 10.9.0.0/16 port port0 weight -1
	expect_error 1 "bad gw '10.0.1'" midox router R add route dst 10.9.0.0/16 port port0 gw 10.0.1
	expect_error 1 "gw 10.0.2.5 is not in a subnet of port router0:port0 \(10.0.1.1/24\)" \
		midox router R add route dst 10.9.0.0/16 port port0 gw 10.0.2.5
	expect_error 1 "gw 10.0.1.1 is an address of router router0 itself" \
		midox router R add route dst 10.9.0.0/16 port port0 gw 10.0.1.1
	expect_error 1 "port router1:port0 is not a port of router router0" \
		midox router R add route dst 10.9.0.0/16 port router1:port0
	expect_error 1 "port bridge0:port1 is not a port of router router0" \
		midox router R add route dst 10.9.0.0/16 port bridge0:port1
	expect_error 2 "the same route exists: router0:route3" \
		midox router R add route dst 0.0.0.0/0 port port2 gw 192.0.2.1 weight 7
	expect_error 1 "route router0:route0 is port router0:port0's own route" midox --force router R route route0 delete
}

@test "errors: links and bindings" {
	make_routed
	midox router R add port address 198.51.100.1 net 198.51.100.0/24
	expect_error 1 "ports bridge0:port1 and bridge0:port0 are both on bridge0" midox bridge0:port1 set peer bridge0:port0
	expect_error 1 "ports router0:port3 and router0:port0 are both on router0" midox router0:port3 set peer router0:port0
	expect_error 1 "ports bridge0:port1 and bridge1:port0 are both bridge ports: link a bridge to a router" \
		midox bridge0:port1 set peer bridge1:port0
	expect_error 2 "port router0:port0 is already linked to port bridge0:port0" midox bridge0:port1 set peer router0:port0
	expect_error 2 "port router0:port2 is bound to interface uplink0 on host host0: an exterior port cannot be linked" \
		midox bridge blue port port1 set peer router R port port2
	midox host hosta add binding port bridge0:port1 interface vm1
	expect_error 2 "port bridge0:port1 is bound to interface vm1 on host host0" midox router0:port3 set peer bridge0:port1
	expect_error 2 "port router0:port0 is linked to port bridge0:port0: an interior port cannot be bound" \
		midox host hostb add binding port router0:port0 interface eth0
	expect_error 2 "port bridge0:port0 is linked to port router0:port0" \
		midox host hostb add binding port bridge0:port0 interface eth0
	expect_error 2 "port router0:port3 is not linked" midox --force router R port port3 delete peer
	expect_error 1 "a router port's set takes state, egress-rate, infilter, outfilter or peer only" midox router R port port0 set mac 02:00:00:00:00:09
	# a router port's state is its own to set
	midox router R port port0 set state down
	run -0 midox router R port port0 show
	[[ "$output" == *" state down"* ]]
	midox router R port port0 set state up
	run -0 midox router R port port0 show
	[[ "$output" == *" state up"* ]]
}

@test "errors: static ARP entries" {
	make_routed
	expect_error 1 "bad address '10.0.1'" midox router R add arp-entry address 10.0.1 mac 02:00:00:00:00:01
	expect_error 1 "bad MAC 'ff:ff:ff:ff:ff:ff'" midox router R add arp-entry address 10.0.1.5 mac ff:ff:ff:ff:ff:ff
	expect_error 1 "bad MAC '02:00'" midox router R add arp-entry address 10.0.1.5 mac 02:00
	expect_error 1 "needs address and mac" midox router R add arp-entry address 10.0.1.5
	expect_error 1 "10.99.0.5 is not in a subnet of any port of router router0" \
		midox router R add arp-entry address 10.99.0.5 mac 02:00:00:00:00:01
	expect_error 1 "10.0.1.1 is an address of router router0 itself" \
		midox router R add arp-entry address 10.0.1.1 mac 02:00:00:00:00:01
	expect_error 2 "router router0 has a static ARP entry for 192.0.2.1 \(02:00:00:00:02:01\)" \
		midox router R add arp-entry address 192.0.2.1 mac 02:00:00:00:00:01
	expect_error 2 "router router0 has no static ARP entry for 10.0.1.5" midox --force router R arp-entry 10.0.1.5 delete
	expect_error 1 "bad address 'x'" midox router R arp-entry x delete
}
