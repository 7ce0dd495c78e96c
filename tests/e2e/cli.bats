#!/usr/bin/env bats
# The midox CLI against a real ZooKeeper: every command, references by alias, name and
# UUID, JSON output, the interactive prompt, and every error leaving the topology as it was.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() { cli_setup; }
teardown() { cli_teardown; }

@test "tunnel-zone create, list, show, delete" {
	run -0 midox tunnel-zone create name z1 type vxlan
	[ "$output" = tzone0 ]
	run -0 midox tunnel-zone create name z2
	[ "$output" = tzone1 ]
	run -0 midox tunnel-zone list
	[ "${lines[0]}" = "tzone tzone0 name z1 type vxlan" ]
	[ "${lines[1]}" = "tzone tzone1 name z2 type vxlan" ]
	run -0 midox tunnel-zone z2 show
	[[ "$output" =~ ^tzone\ tzone1\ id\ [0-9a-f-]{36}\ name\ z2\ type\ vxlan$ ]]
	run -0 midox --force tunnel-zone tzone0 delete
	run -0 midox tunnel-zone list
	[ "$output" = "tzone tzone0 name z2 type vxlan" ]
}

@test "tunnel-zone members: add, list, delete; host show lists its addresses" {
	midox tunnel-zone create name z1 type vxlan
	run -0 midox tunnel-zone z1 add member host hosta address 10.0.0.1
	[ "$output" = "zone tzone0 host host0 address 10.0.0.1 state unknown: agent not running" ]
	run -0 midox tunnel-zone tzone0 add member host host1 address 10.0.0.2
	[ "$output" = "zone tzone0 host host1 address 10.0.0.2 state unknown: agent not running" ]
	run -0 midox tunnel-zone z1 list member
	[ "${lines[0]}" = "zone tzone0 host host0 address 10.0.0.1 state unknown: agent not running" ]
	[ "${lines[1]}" = "zone tzone0 host host1 address 10.0.0.2 state unknown: agent not running" ]
	run -0 midox host hosta show
	[ "$output" = "host host0 id $HOST_A name hosta alive false addresses tzone0:10.0.0.1" ]
	run -0 midox --force tunnel-zone z1 delete member host host0
	run -0 midox tunnel-zone z1 list member
	[ "$output" = "zone tzone0 host host1 address 10.0.0.2 state unknown: agent not running" ]
	# Deleting the zone deletes its members.
	run -0 midox tunnel-zone z1 delete
	run -0 "$HELPER" dump
	[[ "$output" != *members* ]]
}

@test "host list shows the hosts agents registered, and which are alive" {
	run -0 midox host list
	[ "${lines[0]}" = "host host0 name hosta alive false" ]
	[ "${lines[1]}" = "host host1 name hostb alive false" ]
	hold_host "$HOST_B" hostb
	run -0 midox host list
	[ "${lines[1]}" = "host host1 name hostb alive true" ]
	run -0 midox --json host host1 show
	[ "$(echo "$output" | json_get '["alive"]')" = True ]
	[ "$(echo "$output" | json_get '["id"]')" = "$HOST_B" ]
	# Registering again (an agent restart) changes nothing.
	"$HELPER" register "$HOST_A" hosta
	run -0 midox host list
	[ "${#lines[@]}" -eq 2 ]
}

@test "the host id file is created once and kept" {
	run -0 "$HELPER" hostid "$BATS_TEST_TMPDIR/host_uuid"
	id=$output
	[[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]]
	run -0 "$HELPER" hostid "$BATS_TEST_TMPDIR/host_uuid"
	[ "$output" = "$id" ]
	echo garbage >"$BATS_TEST_TMPDIR/bad_uuid"
	run -1 "$HELPER" hostid "$BATS_TEST_TMPDIR/bad_uuid"
	[[ "$output" == *"does not hold a host id"* ]]
}

@test "bridge create, list, show, delete" {
	run -0 midox bridge create name blue
	[ "$output" = bridge0 ]
	run -0 midox bridge create name red
	[ "$output" = bridge1 ]
	run -0 midox bridge list
	[ "${lines[0]}" = "bridge bridge0 name blue state up" ]
	[ "${lines[1]}" = "bridge bridge1 name red state up" ]
	run -0 midox bridge red show
	[[ "$output" =~ ^bridge\ bridge1\ id\ [0-9a-f-]{36}\ name\ red\ state\ up\ tunnel-key\ [0-9]+$ ]]
	run -0 midox --force bridge bridge0 delete
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name red state up" ]
}

@test "ports: add with and without mac and address, list, show, set, delete" {
	midox bridge create name blue
	run -0 midox bridge blue add port
	[ "$output" = bridge0:port0 ]
	run -0 midox bridge blue add port mac 02:00:00:00:00:02 address 192.168.1.2
	[ "$output" = bridge0:port1 ]
	run -0 midox bridge bridge0 list port
	[ "${lines[0]}" = "port port0 device bridge0 state up" ]
	[ "${lines[1]}" = "port port1 device bridge0 state up mac 02:00:00:00:00:02 address 192.168.1.2" ]
	run -0 midox bridge blue port port1 show
	[[ "$output" =~ ^port\ port1\ id\ [0-9a-f-]{36}\ device\ bridge0\ state\ up\ tunnel-key\ [0-9]+\ mac\ 02:00:00:00:00:02\ address\ 192.168.1.2$ ]]
	run -0 midox bridge blue port port0 set mac 02:AA:00:00:00:01
	run -0 midox bridge blue port port0 set address 192.168.1.1
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up mac 02:aa:00:00:00:01 address 192.168.1.1" ]
	run -0 midox --force bridge blue port port0 delete
	run -0 midox bridge blue list port
	[ "$output" = "port port0 device bridge0 state up mac 02:00:00:00:00:02 address 192.168.1.2" ]
}

@test "a port's egress limit: set with units, shown as set, JSON in bits, cleared; errors" {
	make_topology
	midox router create name edge
	midox router edge add port address 10.9.0.1 net 10.9.0.0/24
	run -0 midox bridge blue port port0 set egress-rate 10mbit egress-burst 512k
	run -0 midox bridge blue port port0 show
	[[ "$output" == *" egress-rate 10m egress-burst 512k"* ]]
	run -0 midox --json bridge blue port port0 show
	[ "$(jq -c .egress_limit <<< "$output")" = '{"rate":10000000,"burst":512000}' ]
	local id
	id=$(jq -r .id <<< "$output")
	"$HELPER" dump | grep "^/midox/ports/$id v[0-9]* {" | sed 's/^[^{]*//' |
		jq -e '.egress_limit == {"rate": 10000000, "burst": 512000}'
	run -0 midox bridge blue port port0 set egress-rate 1500 egress-burst 12001
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up egress-rate 1500 egress-burst 12001" ]
	run -0 midox router edge port port0 set egress-rate 1g egress-burst 1m
	run -0 midox router edge list port
	[[ "$output" == *" egress-rate 1g egress-burst 1m"* ]]
	expect_error 1 "egress-rate and egress-burst go together" midox bridge blue port port1 set egress-rate 10m
	expect_error 1 "egress-rate and egress-burst go together" midox bridge blue port port1 set egress-burst 10m
	expect_error 1 "bad egress-rate '10x'" midox bridge blue port port1 set egress-rate 10x egress-burst 1m
	expect_error 1 "bad egress-rate 'mbit'" midox bridge blue port port1 set egress-rate mbit egress-burst 1m
	expect_error 1 "bad egress-burst '-1'" midox bridge blue port port1 set egress-rate 1m egress-burst -1
	expect_error 1 "bad egress-rate '99999999999999999999'" midox bridge blue port port1 set egress-rate 99999999999999999999 egress-burst 1m
	expect_error 1 "bad egress rate 999 bit/s: not within 1000..10000000000000" midox bridge blue port port1 set egress-rate 999 egress-burst 1m
	expect_error 1 "bad egress rate 11000000000000 bit/s" midox bridge blue port port1 set egress-rate 11t egress-burst 1m
	expect_error 1 "bad egress burst 0 bit: not within 1..1000000000000" midox bridge blue port port1 set egress-rate 1m egress-burst 0
	run -0 midox --force bridge blue port port0 clear egress-limit
	run -0 midox --force router edge port port0 clear egress-limit
	run -0 midox bridge blue list port
	[ "${lines[0]}" = "port port0 device bridge0 state up" ]
	run -0 midox router edge list port
	[[ "$output" != *egress* ]]
}

@test "bindings: add, list, delete; the port shows its binding" {
	make_topology
	run -0 midox host host0 list binding
	[ "$output" = "host host0 interface veth0 port bridge0:port0 state unknown: agent not running" ]
	run -0 midox host hostb add binding port bridge0:port1 interface eth1
	[ "$output" = "host host1 interface eth1 port bridge0:port1 state unknown: agent not running" ]
	run -0 midox bridge blue port port0 show
	[[ "$output" == *" host host0 interface veth0" ]]
	run -0 midox host hosta delete binding interface veth0
	run -0 midox host hosta list binding
	[ -z "$output" ]
	# The port is free again.
	run -0 midox host hostb add binding port bridge0:port0 interface eth0
}

@test "add port ... host H interface IF: the port and its binding in one write" {
	make_topology
	before=$("$HELPER" dump)
	run --separate-stderr -0 midox bridge blue add port mac 02:00:00:00:00:07 address 192.168.1.7 \
		interface eth7 host hostb
	# the port's alias only, as add port prints it; the host reports no interfaces: no warning
	[ "$output" = "bridge0:port2" ]
	[ -z "$stderr" ]
	run -0 midox bridge blue port port2 show
	[[ "$output" == *" mac 02:00:00:00:00:07 address 192.168.1.7 host host1 interface eth7" ]]
	run -0 midox host hostb list binding
	[ "$output" = "host host1 interface eth7 port bridge0:port2 state unknown: agent not running" ]
	# one multi-op: every node it made is there, and nothing else changed but the counter
	# of tunnel keys and the bridge (rewritten, as by add port)
	after=$("$HELPER" dump)
	diff <(echo "$before") <(echo "$after") | grep '^>' | grep -vE '/midox/(tunnel_key|bridges/)' |
		grep -cE "/(ports/|hosts/$HOST_B/bindings/eth7|port_bindings/)" | grep -qx 3
	run -0 midox --json bridge blue add port host hosta interface eth8
	[ "$(json_get '["alias"]' <<<"$output")" = "bridge0:port3" ]
}

@test "errors: add port ... host H interface IF writes nothing and says why" {
	make_topology
	expect_error 2 "unknown host 'hostz'" midox bridge blue add port host hostz interface eth5
	expect_error 2 "interface veth0 on host host0 is already bound to port bridge0:port0" \
		midox bridge blue add port host hosta interface veth0
	expect_error 1 "bad MAC '02:00:00:00:00'" midox bridge blue add port mac 02:00:00:00:00 host hosta interface eth5
	expect_error 2 "MAC 02:00:00:00:00:02 is already port bridge0:port1's" \
		midox bridge blue add port mac 02:00:00:00:00:02 host hosta interface eth5
	expect_error 1 "bad interface name 'a/b'" midox bridge blue add port host hosta interface a/b
	expect_error 1 "host and interface go together" midox bridge blue add port host hosta
	expect_error 1 "host and interface go together" midox bridge blue add port interface eth5
	# a failed one took no tunnel key and left no port behind
	run -0 midox bridge blue list port
	[ "${#lines[@]}" -eq 2 ]
}

@test "references: UUIDs, names and aliases all name the same objects" {
	make_topology
	bridge=$(midox --json bridge blue show | json_get '["id"]')
	port=$(midox --json bridge blue port port1 show | json_get '["id"]')
	zone=$(midox --json tunnel-zone underlay show | json_get '["id"]')
	a=$(midox bridge blue show)
	[ "$(midox bridge bridge0 show)" = "$a" ]
	[ "$(midox bridge "$bridge" show)" = "$a" ]
	[ "$(midox bridge "${bridge^^}" show)" = "$a" ]
	p=$(midox bridge blue port port1 show)
	[ "$(midox bridge "$bridge" port "$port" show)" = "$p" ]
	[ "$(midox bridge bridge0 port bridge0:port1 show)" = "$p" ]
	[ "$(midox tunnel-zone "$zone" show)" = "$(midox tunnel-zone tzone0 show)" ]
	[ "$(midox host "$HOST_B" show)" = "$(midox host host1 show)" ]
	run -0 midox host "$HOST_B" add binding port "$port" interface eth9
	[ "$output" = "host host1 interface eth9 port bridge0:port1 state unknown: agent not running" ]
	run -2 midox host hostb add binding port blue:port0 interface eth8
	[[ "$output" == *"port bridge0:port0 is already bound"* ]]
}

@test "deleting a bridge deletes its ports, their bindings and its learned MACs in one go" {
	make_topology
	midox bridge create name red
	midox bridge red add port
	bridge=$(midox --json bridge blue show | json_get '["id"]')
	port=$(midox --json bridge blue port port0 show | json_get '["id"]')
	hold_host "$HOST_A" hosta "$bridge" 02:00:00:00:00:aa "$port"
	run -0 "$HELPER" dump
	[[ "$output" == *"macs/02:00:00:00:00:aa,$port"* ]]
	run -0 midox bridge blue delete
	run -0 "$HELPER" dump
	[[ "$output" != *"$bridge"* ]]
	[[ "$output" != *"$port"* ]]
	[[ "$output" != *veth0* ]]
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name red state up" ]
	run -0 midox bridge red list port
	[ "$output" = "port port0 device bridge0 state up" ]
	run -0 midox host hosta list binding
	[ -z "$output" ]
}

@test "deleting a port deletes its binding and its learned MACs" {
	make_topology
	bridge=$(midox --json bridge blue show | json_get '["id"]')
	port=$(midox --json bridge blue port port0 show | json_get '["id"]')
	hold_host "$HOST_A" hosta "$bridge" 02:00:00:00:00:aa "$port"
	run -0 midox --force bridge blue port port0 delete
	run -0 "$HELPER" dump
	[[ "$output" != *"$port"* ]]
	[[ "$output" != *veth0* ]]
	run -0 midox host hosta add binding port bridge0:port0 interface veth0
}

@test "--json: every list and show is valid JSON with ids, aliases and tunnel keys" {
	make_topology
	for cmd in "bridge list" "bridge blue show" "bridge blue list port" \
		"bridge blue port port1 show" "host list" "host hosta show" \
		"host hosta list binding" "tunnel-zone list" "tunnel-zone underlay show" \
		"tunnel-zone underlay list member"; do
		midox --json -e "$cmd" | is_json
	done
	run -0 midox --json bridge list
	[ "$(echo "$output" | json_get '[0]["alias"]')" = bridge0 ]
	[ "$(echo "$output" | json_get '[0]["name"]')" = blue ]
	[ "$(echo "$output" | json_get '[0]["tunnel_key"]')" -gt 0 ]
	run -0 midox --json bridge blue list port
	[ "$(echo "$output" | json_get '[1]["alias"]')" = bridge0:port1 ]
	[ "$(echo "$output" | json_get '[1]["mac"]')" = 02:00:00:00:00:02 ]
	[ "$(echo "$output" | json_get '[0]["binding"]["interface"]')" = veth0 ]
	run -0 midox --json bridge create name green
	[ "$(echo "$output" | json_get '["alias"]')" = bridge1 ]
}

@test "one-shot forms: -e, several -e, and words" {
	run -0 midox -e 'bridge create name blue'
	[ "$output" = bridge0 ]
	run -0 midox -e 'bridge create name red' -e 'bridge list'
	[ "${lines[0]}" = bridge1 ]
	[ "${lines[2]}" = "bridge bridge1 name red state up" ]
	run -0 midox --zk "$ZK_SERVERS" bridge list
	[ "${#lines[@]}" -eq 2 ]
	run -0 env -u MIDOX_ZK_SERVERS "$MIDOX" --zk "$ZK_SERVERS" bridge list
	[ "${#lines[@]}" -eq 2 ]
	run -0 midox help
	[[ "$output" == *"bridge create name B"* ]]
}

@test "interactive: commands from stdin, an error does not end the session, no history written" {
	run --separate-stderr midox <<-EOF
	bridge create name blue
	bridge nosuch show
	bridge blue add port
	bridge list
	quit
	bridge create name never
	EOF
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = bridge0 ]
	[ "${lines[1]}" = bridge0:port0 ]
	[ "${lines[2]}" = "bridge bridge0 name blue state up" ]
	[ "$stderr" = "midox: error: unknown bridge 'nosuch'" ]
	run -0 midox bridge list
	[ "${#lines[@]}" -eq 1 ]
	# Piped commands are a script, not a person's history: no history file is written.
	[ ! -e "$HOME/.midox_history" ]
	echo "bridge list" | midox
	[ ! -e "$HOME/.midox_history" ]
}

@test "interactive on a terminal: the prompt and the line editor" {
	command -v script >/dev/null || skip "script(1) not installed"
	midox bridge create name blue
	run -0 script -qec "$MIDOX" /dev/null <<<$'bridge list\n'
	[[ "$output" == *"midox> "* ]]
	[[ "$output" == *"bridge bridge0 name blue state up"* ]]
}

@test "tunnel keys: unique, nonzero, never reused" {
	for b in b1 b2 b3; do
		midox bridge create name $b
		midox bridge $b add port
		midox bridge $b add port
	done
	keys=$(for b in b1 b2 b3; do
		midox --json bridge $b show | json_get '["tunnel_key"]'
		midox --json bridge $b list port | python3 -c \
			'import json,sys; [print(p["tunnel_key"]) for p in json.load(sys.stdin)]'
	done)
	[ "$(echo "$keys" | wc -l)" -eq 9 ]
	[ "$(echo "$keys" | sort -u | wc -l)" -eq 9 ]
	! echo "$keys" | grep -qx 0 || false
	max=$(echo "$keys" | sort -n | tail -1)
	midox bridge b3 delete
	midox bridge create name b4
	new=$(midox --json bridge b4 show | json_get '["tunnel_key"]')
	[ "$new" -gt "$max" ]
}

@test "concurrent writers: names stay unique, keys stay unique" {
	for i in $(seq 1 8); do midox bridge create name same >/dev/null 2>&1 & done
	for i in $(seq 1 8); do midox bridge create name b$i >/dev/null & done
	wait
	run -0 midox --json bridge list
	[ "$(echo "$output" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 9 ]
	[ "$(echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len({b["tunnel_key"] for b in d}))')" -eq 9 ]
}

@test "an object that does not parse is skipped, the rest still listed" {
	midox bridge create name blue
	"$HELPER" put /midox/bridges/0c000000-0000-4000-8000-00000000000c '{"schema":1,"name":7}'
	"$HELPER" put /midox/bridges/not-a-uuid '{"schema":1,"name":"x","tunnel_key":9}'
	"$HELPER" put /midox/ports/0d000000-0000-4000-8000-00000000000d 'not json'
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name blue state up" ]
	run -0 "$HELPER" skipped
	[ "${lines[-1]}" = 3 ]
	run -0 midox bridge blue add port
}

@test "a reader with watches hears of a change made by the CLI" {
	out="$BATS_TEST_TMPDIR/watch.out"
	"$HELPER" watch >"$out" &
	pid=$!
	for _ in $(seq 1 50); do grep -q ready "$out" && break; sleep 0.1; done
	midox bridge create name blue
	wait "$pid"
	grep -q "changed .* bridges 1" "$out"
}

@test "errors: unknown objects" {
	make_topology
	expect_error 2 "unknown bridge 'nosuch'" midox bridge nosuch show
	expect_error 2 "unknown bridge 'bridge7'" midox bridge bridge7 add port
	expect_error 2 "unknown host 'host9'" midox host host9 show
	expect_error 2 "unknown tunnel zone 'tzone3'" midox tunnel-zone tzone3 list member
	expect_error 2 "unknown port 'port5' on bridge bridge0" midox --force bridge blue port port5 delete
	expect_error 2 "unknown host 'nosuch'" midox tunnel-zone underlay add member host nosuch address 10.0.0.9
}

@test "errors: unknown commands and words" {
	make_topology
	expect_error 1 "unknown command 'frob'" midox frob
	expect_error 1 "unknown command 'bridge blue frob'" midox bridge blue frob
	expect_error 1 "unknown word 'colour'" midox bridge blue add port colour red
	expect_error 1 "unknown word 'label'" midox bridge create name green label x
	expect_error 1 "'name' needs a value" midox bridge create name
	expect_error 1 "needs a name" midox bridge create
	expect_error 1 "unexpected word 'extra'" midox bridge list extra
	expect_error 1 "unterminated quote" midox -e "bridge create name 'x"
	expect_error 1 "unknown command 'tunnel-zone underlay frob'" midox tunnel-zone underlay frob member
	expect_error 1 "bad tunnel zone type 'gre'" midox tunnel-zone create name z9 type gre
}

@test "errors: bad MAC, multicast MAC, zero MAC, bad address" {
	make_topology
	expect_error 1 "bad MAC '02:00:00:00:00'" midox bridge blue add port mac 02:00:00:00:00
	expect_error 1 "bad MAC 'zz:00:00:00:00:01'" midox bridge blue add port mac zz:00:00:00:00:01
	expect_error 1 "bad MAC '01:00:5e:00:00:01': .*unicast" midox bridge blue add port mac 01:00:5e:00:00:01
	expect_error 1 "bad MAC 'ff:ff:ff:ff:ff:ff'" midox bridge blue add port mac ff:ff:ff:ff:ff:ff
	expect_error 1 "bad MAC '00:00:00:00:00:00'" midox bridge blue add port mac 00:00:00:00:00:00
	expect_error 1 "bad MAC" midox bridge blue port port0 set mac 01:00:00:00:00:00
	expect_error 1 "bad address '10.0.0'" midox bridge blue add port address 10.0.0
	expect_error 1 "bad address '300.1.1.1'" midox bridge blue add port address 300.1.1.1
	expect_error 1 "bad address '224.0.0.5'" midox tunnel-zone underlay add member host hosta address 224.0.0.5
	expect_error 1 "bad address 'x'" midox tunnel-zone underlay add member host hosta address x
	expect_error 2 "MAC 02:00:00:00:00:02 is already port bridge0:port1's" midox bridge blue add port mac 02:00:00:00:00:02
}

@test "errors: bad and duplicate names" {
	make_topology
	expect_error 1 "bad name 'a b'" midox -e "bridge create name 'a b'"
	expect_error 1 "bad name '-x'" midox bridge create name -x
	expect_error 1 "bad name 'list': a command word" midox bridge create name list
	expect_error 1 "bad name" midox bridge create name 0a000000-0000-4000-8000-00000000000f
	expect_error 1 "bad name" midox bridge create name "$(printf 'n%.0s' $(seq 1 64))"
	expect_error 2 "a bridge named 'blue' exists" midox bridge create name blue
	expect_error 2 "a tunnel zone named 'underlay' exists" midox tunnel-zone create name underlay type vxlan
}

@test "errors: bindings" {
	make_topology
	expect_error 2 "unknown port 'bridge0:port7'" midox host hosta add binding port bridge0:port7 interface eth5
	expect_error 2 "unknown port" midox host hosta add binding port 0e000000-0000-4000-8000-00000000000e interface eth5
	expect_error 2 "interface veth0 on host host0 is already bound to port bridge0:port0" \
		midox host hosta add binding port bridge0:port1 interface veth0
	expect_error 2 "port bridge0:port0 is already bound to interface veth0 on host host0" \
		midox host hostb add binding port bridge0:port0 interface veth0
	expect_error 1 "bad interface name 'a/b'" midox host hosta add binding port bridge0:port1 interface a/b
	expect_error 1 "bad interface name" midox host hosta add binding port bridge0:port1 interface 0123456789abcdef
	expect_error 1 "needs port and interface" midox host hosta add binding port bridge0:port1
	expect_error 2 "interface eth3 on host host0 is not bound" midox --force host hosta delete binding interface eth3
}

@test "errors: tunnel zone members" {
	make_topology
	midox tunnel-zone create name other
	expect_error 2 "host host0 is not a member of tunnel zone tzone1" midox --force tunnel-zone other delete member host hosta
	expect_error 2 "host host0 is already a member of tunnel zone tzone0" \
		midox tunnel-zone underlay add member host hosta address 10.0.0.7
	midox tunnel-zone other add member host hosta address 10.0.0.1
	expect_error 2 "address 10.0.0.1 is already host host0's" \
		midox tunnel-zone other add member host hostb address 10.0.0.1
}

@test "errors: ZooKeeper unreachable is reported within seconds" {
	start=$SECONDS
	run --separate-stderr midox --zk 127.0.0.1:1 bridge list
	[ "$status" -eq 3 ]
	[[ "$stderr" == "midox: error: cannot reach ZooKeeper at 127.0.0.1:1"* ]]
	[ $((SECONDS - start)) -le 6 ]
	run --separate-stderr midox --zk 127.0.0.1:1 bridge create name x
	[ "$status" -eq 3 ]
}

@test "options after the command words: --json, --zk, and -- ends them" {
	midox bridge create name blue
	run -0 midox bridge list --json
	echo "$output" | is_json
	[ "$(echo "$output" | json_get '[0]["name"]')" = blue ]
	run -0 "$MIDOX" bridge list --zk "$MIDOX_ZK_SERVERS" --json
	echo "$output" | is_json
	run -0 "$MIDOX" bridge list --zk="$MIDOX_ZK_SERVERS"
	[ "$output" = "bridge bridge0 name blue state up" ]
	# a value that begins with a dash stays a value
	expect_error 1 "bad name '-x'" midox bridge create name -x
	run -1 midox bridge list --zk
	[[ "$output" == *"option --zk needs a value"* ]]
	run -0 midox --version
	[[ "$output" =~ ^midox\ [^[:space:]]+$ ]]
	run -0 midox bridge list --version
	[[ "$output" =~ ^midox\ [^[:space:]]+$ ]]
}
