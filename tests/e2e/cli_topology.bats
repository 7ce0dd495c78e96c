#!/usr/bin/env bats
# midox topology show against a real ZooKeeper: the picture of a topology (two bridges, a
# router linked to both, an uplink, ports bound on two hosts, one of them alive, a tunnel
# zone with both), checked line by line; Graphviz parses it; the same twice; names escaped
# for dot; svg that is XML; and the errors, which print nothing on stdout.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() {
	cli_setup
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
}
teardown() {
	# Only this test's tmux server (its own socket), and with it the midox it runs.
	[ ! -S "$TMUX_SOCK" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	cli_teardown
}

# hosta alive (a session held as an agent's), hostb registered but not alive. Bridges are
# created "red" first so that the picture's order (by name) is not the creation order.
make_picture_topology() {
	hold_host "$HOST_A" hosta
	midox tunnel-zone create name tz type vxlan
	midox tunnel-zone tz add member host hosta address 192.0.2.1 2>/dev/null
	midox tunnel-zone tz add member host hostb address 192.0.2.2 2>/dev/null
	midox bridge create name red                                   # bridge0
	midox bridge create name blue                                  # bridge1
	midox bridge red add port                                      # bridge0:port0
	midox bridge blue add port mac 02:00:00:00:00:11 address 10.0.1.11   # bridge1:port0
	midox bridge blue add port                                     # bridge1:port1
	midox bridge red add port                                      # bridge0:port1
	midox router create name edge
	midox router edge add port address 10.0.1.1 net 10.0.1.0/24 mac 02:aa:00:00:00:01
	midox router edge add port address 10.0.2.1 net 10.0.2.0/24 mac 02:aa:00:00:00:02
	midox router edge add port address 192.0.2.10 net 192.0.2.8/30 mac 02:aa:00:00:00:03
	midox bridge blue port port1 set peer router edge port port0
	midox bridge red port port1 set peer router edge port port1
	midox host hosta add binding port bridge1:port0 interface v11 2>/dev/null
	midox host hostb add binding port bridge0:port0 interface v21 2>/dev/null
	midox host hosta add binding port router0:port2 interface up1 2>/dev/null
	midox router edge add route dst 0.0.0.0/0 port router0:port2 gw 192.0.2.9
	midox router edge add route dst 10.9.0.0/16 type blackhole
	midox bridge red set state down
}

# The picture's lines without their leading tab.
picture() { midox topology show "$@" | sed 's/^\t//'; }

@test "topology show: every node and edge of the topology, in order, and dot parses it" {
	make_picture_topology
	run -0 picture
	local dot=$output
	# Graphviz reads it.
	echo "$dot" | dot -Tsvg >/dev/null
	[ "${lines[0]}" = "graph midox {" ]
	[ "${lines[${#lines[@]} - 1]}" = "}" ]
	has() { grep -qxF -- "$1" <<<"$dot" || { echo "missing: $1" >&2; return 1; }; }
	has '"tzone0" [shape=hexagon, style=filled, fillcolor="#f3e8ff", label="tunnel zone tz\ntzone0 vxlan"];'
	has '"host0" [shape=box3d, style=filled, fillcolor="#e8f5e0", label="host hosta\nhost0 alive"];'
	has '"host1" [shape=box3d, style=dashed, color=gray40, label="host hostb\nhost1 not alive"];'
	has '"tzone0" -- "host0" [style=dashed, label="192.0.2.1"];'
	has '"tzone0" -- "host1" [style=dashed, label="192.0.2.2"];'
	has '"bridge1" [shape=box, style="filled", fillcolor="#dbe9ff", label="bridge blue\nbridge1"];'
	has '"bridge0" [shape=box, style="filled,dashed", fillcolor="#dbe9ff", label="bridge red\nbridge0 state down"];'
	has '"bridge1:port0" [shape=ellipse, label="port0\n02:00:00:00:00:11\n10.0.1.11"];'
	has '"bridge1" -- "bridge1:port0";'
	has '"bridge1:port1" [shape=ellipse, label="port1"];'
	has '"bridge0" -- "bridge0:port1";'
	# The router's label: its routes but the port routes.
	has '"router0" [shape=octagon, style="filled", fillcolor="#ffe3c2", label="router edge\nrouter0\n0.0.0.0/0 via 192.0.2.9 port2\n10.9.0.0/16 blackhole"];'
	has '"router0:port0" [shape=ellipse, label="port0\n02:aa:00:00:00:01\n10.0.1.1/24"];'
	has '"router0:port2" [shape=ellipse, label="port2\n02:aa:00:00:00:03\n192.0.2.10/30"];'
	has '"router0" -- "router0:port2";'
	# Links, once each; bindings; the uplink.
	has '"bridge1:port1" -- "router0:port0" [style=bold, color="#2060c0"];'
	has '"bridge0:port1" -- "router0:port1" [style=bold, color="#2060c0"];'
	[ "$(grep -c -- '-- "router0:port[01]" \[style=bold' <<<"$dot")" -eq 2 ]
	run -1 grep -q -- '"router0:port[01]" -- "bridge' <<<"$dot"
	has '"bridge1:port0" -- "host0" [color="#208020", label="v11"];'
	has '"bridge0:port0" -- "host1" [color="#208020", label="v21"];'
	has '"router0:port2" -- "host0" [color="#c05000", penwidth=2, label="uplink up1"];'
	# By name: blue (bridge1) before edge (router0) before red (bridge0), each device's ports
	# right after it, by number.
	local order
	order=$(grep -oE '^"(bridge|router)[0-9]+(:port[0-9]+)?" \[' <<<"$dot" | tr -d '"[ ' | tr '\n' ' ')
	[ "$order" = "bridge1 bridge1:port0 bridge1:port1 router0 router0:port0 router0:port1 router0:port2 bridge0 bridge0:port0 bridge0:port1 " ]
	# Nodes: a zone, two hosts, two bridges, a router, seven ports.
	[ "$(grep -c -- ' \[shape=' <<<"$dot")" -eq 13 ]
}

@test "topology show: the same topology gives the same picture; bare word and --format" {
	make_picture_topology
	midox topology show >"$BATS_TEST_TMPDIR/one.dot"
	midox topology show format dot >"$BATS_TEST_TMPDIR/two.dot"
	midox topology >"$BATS_TEST_TMPDIR/three.dot"
	midox topology --format dot >"$BATS_TEST_TMPDIR/four.dot"
	midox -e 'topology show' -e 'topology show' >"$BATS_TEST_TMPDIR/twice.dot"
	grep -q -- '-- "router0:port0"' "$BATS_TEST_TMPDIR/one.dot"
	cmp "$BATS_TEST_TMPDIR/one.dot" "$BATS_TEST_TMPDIR/two.dot"
	cmp "$BATS_TEST_TMPDIR/one.dot" "$BATS_TEST_TMPDIR/three.dot"
	cmp "$BATS_TEST_TMPDIR/one.dot" "$BATS_TEST_TMPDIR/four.dot"
	cmp "$BATS_TEST_TMPDIR/twice.dot" <(cat "$BATS_TEST_TMPDIR/one.dot" "$BATS_TEST_TMPDIR/one.dot")
	# A change shows as a diff of its lines only.
	midox bridge create name green
	midox topology show >"$BATS_TEST_TMPDIR/after.dot"
	run -1 diff "$BATS_TEST_TMPDIR/one.dot" "$BATS_TEST_TMPDIR/after.dot"
	[ "$(grep -c '^[<>]' <<<"$output")" -eq 1 ]
	[[ "$output" == *'> 	"bridge2" [shape=box, style="filled", fillcolor="#dbe9ff", label="bridge green\nbridge2"];'* ]]
}

@test "topology show: quotes and backslashes in an interface name are escaped for dot" {
	midox bridge create name blue
	midox bridge blue add port
	midox host hosta add binding port bridge0:port0 interface 'a"b\c' 2>/dev/null
	run -0 midox topology show
	[[ "$output" == *'"bridge0:port0" -- "host0" [color="#208020", label="a\"b\\c"];'* ]]
	# Graphviz reads the label back as the name.
	echo "$output" | dot -Tsvg >"$BATS_TEST_TMPDIR/esc.svg"
	python3 - "$BATS_TEST_TMPDIR/esc.svg" <<-'PY'
	import sys, xml.etree.ElementTree as ET
	texts = [t.text for t in ET.parse(sys.argv[1]).iter('{http://www.w3.org/2000/svg}text')]
	assert 'a"b\\c' in texts, texts
	PY
}

@test "topology show format svg: valid SVG with every device and host" {
	make_picture_topology
	midox topology show format svg >"$BATS_TEST_TMPDIR/t.svg"
	midox --format svg topology show >"$BATS_TEST_TMPDIR/t2.svg"
	cmp "$BATS_TEST_TMPDIR/t.svg" "$BATS_TEST_TMPDIR/t2.svg"
	python3 - "$BATS_TEST_TMPDIR/t.svg" <<-'PY'
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag
	ns = '{http://www.w3.org/2000/svg}'
	titles = {t.text for t in root.iter(ns + 'title')}
	for node in ('tzone0', 'host0', 'host1', 'bridge0', 'bridge1', 'router0', 'router0:port2'):
	    assert node in titles, (node, sorted(titles))
	assert 'bridge1:port1&#45;&#45;router0:port0' in titles or 'bridge1:port1--router0:port0' in titles, sorted(titles)
	PY
}

@test "topology show: errors say what is wrong, exit non-zero, print nothing" {
	make_picture_topology
	run -1 --separate-stderr midox topology show format png
	[ -z "$output" ]
	[ "$stderr" = "midox: error: bad format 'png': expected one of dot, svg" ]
	run -1 --separate-stderr midox --format png topology show
	[ -z "$output" ]
	[ "$stderr" = "midox: error: bad format 'png': expected one of dot, svg" ]
	run -1 --separate-stderr midox topology show format
	[ -z "$output" ]
	[ "$stderr" = "midox: error: 'format' needs a value in 'topology show'" ]
	run -1 --separate-stderr midox topology frob
	[ -z "$output" ]
	[ "$stderr" = "midox: error: unknown command 'topology frob': expected one of show" ]
	run -1 --separate-stderr midox --json topology show
	[ -z "$output" ]
	[ "$stderr" = "midox: error: topology show prints dot or svg, not JSON: leave out --json" ]
	# Graphviz missing: a PATH without dot.
	mkdir "$BATS_TEST_TMPDIR/nobin"
	run -4 --separate-stderr env PATH="$BATS_TEST_TMPDIR/nobin" "$MIDOX" topology show format svg
	[ -z "$output" ]
	[ "$stderr" = "midox: error: format svg needs Graphviz's dot, which is not in PATH: install the Debian package graphviz" ]
	# dot is not needed for dot.
	run -0 env PATH="$BATS_TEST_TMPDIR/nobin" "$MIDOX" topology show
	[[ "$output" == *'"router0:port2" -- "host0"'* ]]
}

# The prompt in a private tmux server, as tests/e2e/cli_interactive.bats drives it.
tm() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }
screen() { tm capture-pane -p -J -S -300; }
wait_screen() {
	local i
	for i in $(seq 1 50); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed '$1':" >&2
	screen >&2
	return 1
}

@test "topology: help and Tab know it" {
	run -0 midox help topology
	[ "$output" = "  topology show [format dot|svg]                the whole topology as a Graphviz picture (default dot)" ]
	run -0 midox help
	[[ "$output" == *"topology show [format dot|svg]"* ]]
	[[ "$output" == *"--format dot|svg"* ]]
	# Tab: the type, its command, the key, its values.
	command -v tmux >/dev/null
	tm new-session -d -x 150 -y 40 -c "$BATS_TEST_TMPDIR" \
		"env MIDOX_ZK_SERVERS=$MIDOX_ZK_SERVERS HOME=$HOME MIDOX_HISTORY=$HOME/history $MIDOX"
	wait_screen '^midox> $'
	tm send-keys -l 'topo'
	tm send-keys Tab
	wait_screen '^midox> topology $'
	tm send-keys -l 's'
	tm send-keys Tab
	wait_screen '^midox> topology show $'
	tm send-keys -l 'f'
	tm send-keys Tab
	wait_screen '^midox> topology show format $'
	tm send-keys Tab Tab
	wait_screen '(^|[[:space:]])svg([[:space:]]|$)'
	screen | grep -qE '(^|[[:space:]])dot([[:space:]]|$)'
	tm send-keys -l 'd'
	tm send-keys Tab
	wait_screen '^midox> topology show format dot $'
	tm send-keys Enter
	wait_screen '^graph midox \{$'
}
