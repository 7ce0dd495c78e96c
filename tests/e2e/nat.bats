#!/usr/bin/env bats
# Static NAT end to end (docs/nat.md): MidoNet's floating-IP recipe with real ZooKeeper, real
# agents on two hosts, the real CLI. A "physical" namespace on the provider router's exterior
# port (on h1) reaches the floating-IP range through a static route via that port; the VM (on
# h2, behind bridge A) has a private address and a floating IP: a DNAT rule on the router's
# infilter, a SNAT rule on its outfilter. Traffic crosses the tunnel both ways.
#   bridge A 10.0.1.0/24 (R port a 10.0.1.1):   vm 10.0.1.21 on h2, FIP 203.0.113.7
#   R port u1 172.16.1.1/24 on h1 <-> phys 172.16.1.2/24 (and 198.51.100.1 on its lo),
#   phys: 203.0.113.0/24 via 172.16.1.1 (no route to 10.0.0.0/8: only the FIP reaches the VM)
#   R: 198.51.100.0/24 via 172.16.1.2 on u1

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/routed'

FIP=203.0.113.7
PRIV=10.0.1.21

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	declare -gA RPORT=()
	BR=$NET_RUN-a
	RT=$NET_RUN-r
	TZ=$NET_RUN-tz
	CH_IN=$NET_RUN-pre
	CH_OUT=$NET_RUN-post
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		mx chain "$CH_IN" list rule >&2 2>/dev/null || true
		mx chain "$CH_OUT" list rule >&2 2>/dev/null || true
		mx router "$RT" list arp >&2 2>/dev/null || true
	fi
	e2e_teardown midox_ifport_v3 midox_port_v2 midox_filter_v2 midox_chain_v2
}

# ping_blocked FROM ADDR: one ping not answered.
ping_blocked() {
	! net_in "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# The topology above, and the floating IP: DNAT on R's infilter (before routing), SNAT on its
# outfilter (after routing, leaving by the uplink), both static (one address, no ports); by
# hand (docs/nat.md's recipe), or with "floating-ip" as $1 by the one-line command (the
# chains it creates are R-infilter and R-outfilter); with "bare" as $1, no NAT at all.
nat_setup() {
	local bp p
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	mx router create name "$RT"
	router_port a 10.0.1.1 10.0.1.0/24
	bp=$(mx bridge "$BR" add port)
	mx bridge "$BR" port "${bp#*:}" set peer router "$RT" port "${RPORT[a]#*:}"
	net_vm_add h2 vm "$PRIV/24" 02:00:0a:00:01:15
	net_vm_gw vm 10.0.1.1
	p=$(mx bridge "$BR" add port mac 02:00:0a:00:01:15 address "$PRIV")
	mx host "$(agent_name h2)" add binding port "$p" interface vm
	net_phys_add phys h1 up1 172.16.1.2/24
	ip -n "$(net_ns phys)" addr replace 198.51.100.1/32 dev lo
	ip -n "$(net_ns phys)" route replace 203.0.113.0/24 via 172.16.1.1 dev eth0
	router_port u1 172.16.1.1 172.16.1.0/24
	mx host "$(agent_name h1)" add binding port "${RPORT[u1]}" interface up1
	mx router "$RT" add route src 0.0.0.0/0 dst 198.51.100.0/24 type normal \
		port "${RPORT[u1]}" gw 172.16.1.2 >/dev/null
	[ "${1:-}" = bare ] && return
	if [ "${1:-}" = floating-ip ]; then
		CH_IN=$RT-infilter
		CH_OUT=$RT-outfilter
		mx router "$RT" add floating-ip address "$FIP" target "$PRIV" port "${RPORT[u1]}"
		return
	fi
	mx chain create name "$CH_IN" >/dev/null
	mx chain create name "$CH_OUT" >/dev/null
	mx chain "$CH_IN" add rule type dnat dst "$FIP/32" target "$PRIV" >/dev/null
	mx chain "$CH_OUT" add rule type snat src "$PRIV/32" out-ports "${RPORT[u1]}" \
		target "$FIP" >/dev/null
	mx router "$RT" set infilter "$CH_IN"
	mx router "$RT" set outfilter "$CH_OUT"
}

@test "ping and TCP from the physical side to the floating IP reach the VM at its private address" {
	nat_setup
	wait_until 30 ping_ok phys "$FIP"
	net_capture vm "icmp and host 172.16.1.2"
	net_capture phys "icmp and host $FIP"
	ping_all phys "$FIP" 10
	# the VM saw the pings to its private address; the physical side the replies from the FIP
	wait_until 5 captured vm "172.16.1.2 > $PRIV: ICMP echo request" 10
	wait_until 5 captured phys "$FIP > 172.16.1.2: ICMP echo reply" 10
	[ "$(net_capture_count phys "$PRIV")" -eq 0 ]
	# TCP (checksums the VM's kernel checks, offloaded ones too): an iperf3 stream to the FIP
	net_bg vm "$NET_DIR/iperf-vm" iperf3 -s -1 -B "$PRIV"
	wait_until 5 net_in vm ss -ltn "sport = :5201"
	run -0 timeout 20 nsenter --net="/run/netns/$(net_ns phys)" -- iperf3 -c "$FIP" -t 1
	echo "$output"
	[[ "$output" == *"iperf Done."* ]]
	wait_until 5 grep -q "Accepted connection from 172.16.1.2" "$NET_DIR/iperf-vm"
	# the rules counted on h1, where the uplink's traffic is simulated
	run -0 nsenter --net="/run/netns/$(net_ns h1)" -- "$MIDOX_BUILD/midox" \
		--zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin h1)" --json chain "$CH_IN" list rule
	[ "$(jq -r '.[0].counters.packets' <<<"$output")" -gt 10 ]
}

@test "the VM's connections out appear from the floating IP (made by router add floating-ip; gone with its delete)" {
	nat_setup floating-ip
	run -0 mx router "$RT" list floating-ip
	[[ "$output" == "floating-ip $FIP target $PRIV port ${RPORT[u1]} dnat "* ]]
	wait_until 30 ping_ok vm 198.51.100.1
	net_capture phys "icmp and host 198.51.100.1"
	ping_all vm 198.51.100.1 10
	wait_until 5 captured phys "$FIP > 198.51.100.1: ICMP echo request" 10
	[ "$(net_capture_count phys "$PRIV")" -eq 0 ]
	net_bg phys "$NET_DIR/iperf-phys" iperf3 -s -1 -B 198.51.100.1
	wait_until 5 net_in phys ss -ltn "sport = :5201"
	run -0 timeout 20 nsenter --net="/run/netns/$(net_ns vm)" -- iperf3 -c 198.51.100.1 -t 1
	echo "$output"
	[[ "$output" == *"iperf Done."* ]]
	wait_until 5 grep -q "Accepted connection from $FIP" "$NET_DIR/iperf-phys"
	run ! grep -q "$PRIV" "$NET_DIR/iperf-phys"
	ping_all phys "$FIP" 3
	# Without the floating IP the physical side reaches nothing of the VM, and its pings
	# out leave from the private address, to which the physical side has no route back
	mx router "$RT" floating-ip "$FIP" delete
	wait_until 20 ping_blocked phys "$FIP"
	net_capture_stop phys
	net_capture phys "icmp and host 198.51.100.1"
	ping_none vm 198.51.100.1
	wait_until 5 captured phys "$PRIV > 198.51.100.1: ICMP echo request" 1
}

@test "ICMP errors through the floating IP are translated inside: port unreachable, traceroute" {
	nat_setup
	wait_until 30 ping_ok phys "$FIP"
	# A veth sender leaves its UDP checksum for the NIC to finish (CHECKSUM_PARTIAL): the VM
	# would get, and quote, the unfinished pseudo-header sum, which no reader can check (so
	# it does without NAT). Sent finished, as a real NIC delivers it, the quoted checksum is
	# one tcpdump can check after both translations.
	nsenter --net="/run/netns/$(net_ns phys)" -- ethtool -K eth0 tx off >/dev/null
	# tcpdump -vv checks each error's ICMP checksum, its quoted IPv4 header's and UDP's
	net_bg phys "$NET_DIR/vv" tcpdump -i eth0 -Q in -nn -vv -l -U "icmp and src $FIP"
	local cap=$NET_BG_PID
	wait_until 5 grep -q "listening on" "$NET_DIR/vv"
	# A connected UDP socket on the physical side gets ECONNREFUSED only when the VM's port
	# unreachable (SNATed) quotes exactly what it sent (to the FIP) with a valid ICMP checksum.
	run -1 timeout 5 nsenter --net="/run/netns/$(net_ns phys)" -- bash -c \
		"exec 3<>/dev/udp/$FIP/9; echo a >&3; sleep 0.5; echo b >&3"
	echo "$output"
	[[ "$output" == *"Connection refused"* ]]
	# traceroute's UDP probes: hop 1 is the router's own time exceeded, quoting the probe as
	# it arrived (to the FIP, not as DNATed); the VM's port unreachable from the FIP ends the
	# trace at hop 2. The kernel matched each quote to the probe's socket.
	run -0 timeout 20 nsenter --net="/run/netns/$(net_ns phys)" -- traceroute -n -q 1 -w 1 -m 4 "$FIP"
	echo "$output"
	[[ "$output" =~ $'\n'\ *1\ +172\.16\.1\.1\  ]]
	[[ "$(tail -1 <<<"$output")" =~ ^\ *2\ +$FIP\  ]]
	sleep 0.5
	net_bg_stop "$cap"
	cat "$NET_DIR/vv"
	[ "$(grep -c "$FIP > 172.16.1.2: ICMP $FIP udp port .* unreachable" "$NET_DIR/vv")" -ge 2 ]
	# the quote is the probe as the physical side sent it: from it to the FIP
	grep -q "172.16.1.2.[0-9]* > $FIP.[0-9]*: \[.*udp" "$NET_DIR/vv" ||
		grep -q "172.16.1.2.[0-9]* > $FIP.[0-9]*: .*UDP" "$NET_DIR/vv"
	run ! grep -Eqi "wrong|bad cksum|bad udp cksum" "$NET_DIR/vv"
}

@test "DNAT port forwarding: a port of a public address reaches the VM's server, both ways, many connections" {
	nat_setup bare
	local pub=203.0.113.8 n=100
	# MidoNet's port forwarding: a dynamic DNAT of one port on the infilter (a target with a
	# port), its reverse on the outfilter for the replies (the connection's binding)
	mx chain create name "$CH_IN" >/dev/null
	mx chain create name "$CH_OUT" >/dev/null
	mx chain "$CH_IN" add rule type dnat dst "$pub/32" proto 6 dst-port 8080 \
		target "$PRIV:7000" >/dev/null
	mx chain "$CH_OUT" add rule type rev_dnat src "$PRIV/32" >/dev/null
	mx router "$RT" set infilter "$CH_IN"
	mx router "$RT" set outfilter "$CH_OUT"
	net_bg vm "$NET_DIR/server" python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" serve 7000
	wait_until 5 net_in vm ss -ltn "sport = :7000"
	# forwarding is in place once one connection goes through (the physical side has no
	# route to the private range: only the forwarded port reaches the VM)
	wait_until 30 net_in phys python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" \
		connect "$pub" 8080 1
	net_capture vm "tcp dst port 7000 and tcp[tcpflags] & tcp-syn != 0"
	net_capture phys "tcp src port 8080 and tcp[tcpflags] & tcp-syn != 0"
	# n connections from the physical side to pub:8080, each answered (the replies leave as
	# pub:8080: a reply from the private address and port would be reset by the client)
	run -0 net_in phys timeout 120 python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" \
		connect "$pub" 8080 "$n"
	echo "$output"
	[[ "${lines[-1]}" == "connected $n of $n, syn-retrans "* ]]
	sleep 1
	# the VM's server saw them at its private address and port, from the client's address;
	# the client saw every SYN-ACK from pub:8080 and none from the private side
	[ "$(grep -c "172.16.1.2.[0-9]* > $PRIV.7000:" "$NET_DIR/cap-vm")" -ge "$n" ]
	[ "$(grep -c "$pub.8080 > 172.16.1.2.[0-9]*:" "$NET_DIR/cap-phys")" -ge "$n" ]
	run ! grep -q "$PRIV" "$NET_DIR/cap-phys"
	# another port of the public address is not forwarded (no rule matches: routed back out
	# towards the physical side, never to the VM)
	run -0 net_in phys python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" refused "$pub" 8081
	# the gateway host holds the connections with their binding
	run -0 nsenter --net="/run/netns/$(net_ns h1)" -- "$MIDOX_BUILD/midox" \
		--zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin h1)" datapath list connection
	echo "${output:0:1500}"
	[[ "$output" == *"dport 8080"* ]]
	[[ "$output" == *"nat "*"$PRIV"*"7000"* ]]
}

@test "dynamic rules that go on: the rules after a DNAT and a rev_dnat with continue see the translation" {
	nat_setup bare
	local pub=203.0.113.8 n=20
	mx chain create name "$CH_IN" >/dev/null
	mx chain create name "$CH_OUT" >/dev/null
	# Port forwarding whose rules go on: after the DNAT, a drop of the public address (the
	# old destination: it must not fire); after the rev_dnat of the VM's replies, an
	# accept of the public address and port (the new source) before a drop of everything
	# the VM sends. Without the translation seen, the drops would take every connection.
	mx chain "$CH_IN" add rule type dnat dst "$pub/32" proto 6 dst-port 8080 \
		target "$PRIV:7000" action continue >/dev/null
	mx chain "$CH_IN" add rule type drop dst "$pub/32" >/dev/null
	mx chain "$CH_OUT" add rule type rev_dnat src "$PRIV/32" action continue >/dev/null
	mx chain "$CH_OUT" add rule type accept src "$pub/32" proto 6 src-port 8080 >/dev/null
	mx chain "$CH_OUT" add rule type drop src "$PRIV/32" >/dev/null
	mx router "$RT" set infilter "$CH_IN"
	mx router "$RT" set outfilter "$CH_OUT"
	net_bg vm "$NET_DIR/server" python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" serve 7000
	wait_until 5 net_in vm ss -ltn "sport = :7000"
	wait_until 30 net_in phys python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" \
		connect "$pub" 8080 1
	net_capture phys "tcp src port 8080 and tcp[tcpflags] & tcp-syn != 0"
	run -0 net_in phys timeout 120 python3 "$BATS_TEST_DIRNAME/../lib/tcp-probe.py" \
		connect "$pub" 8080 "$n"
	echo "$output"
	[[ "${lines[-1]}" == "connected $n of $n, syn-retrans "* ]]
	sleep 1
	[ "$(grep -c "$pub.8080 > 172.16.1.2.[0-9]*:" "$NET_DIR/cap-phys")" -ge "$n" ]
	run ! grep -q "$PRIV" "$NET_DIR/cap-phys"
	# the drops never fired. The connections' forward packets pass R on h1 (the uplink's
	# host): the DNAT counted them, the drop after it none; the VM's replies pass R on h2:
	# the accept of the translated source counted them, the drop after it none.
	run -0 mx --json --pin-root "$(agent_pin h1)" chain "$CH_IN" list rule
	echo "$output"
	[ "$(jq -r '.[0].counters.packets' <<<"$output")" -ge "$n" ]
	[ "$(jq -r '.[1].counters.packets' <<<"$output")" -eq 0 ]
	run -0 mx --json --pin-root "$(agent_pin h2)" chain "$CH_OUT" list rule
	echo "$output"
	[ "$(jq -r '.[1].counters.packets' <<<"$output")" -ge "$n" ]
	[ "$(jq -r '.[2].counters.packets' <<<"$output")" -eq 0 ]
}
