# The agents' BGP speakers in tests (docs/bgp.md): where a host's agent keeps BIRD's files,
# the namespace it makes for a port, and their removal. Source after agent.bash.
#
#   bgp_setup_file          e2e_setup_file for midox and midox-agent, and bird and birdc
#                           present (a BGP test file's setup_file)
#   bgp_env HOST            the agent_start argument giving HOST's agent its BGP directory
#                           ($NET_DIR/HOST.bgp)
#   bgp_dir HOST KEY        a speaker's directory: bird.conf, bird.ctl, bird.pid, bird.log
#   bgp_netns HOST KEY      the speaker's namespace name (mxbgp-<host id's first 8>-<key>)
#   bgp_pid HOST KEY        its BIRD's PID, if that process is BIRD on that directory
#   birdc_in HOST KEY CMD...  birdc on the speaker's control socket
#   port_tunnel_key ROUTER PORT   a router port's tunnel key (from the CLI)
#   bgp_cleanup             stop the run's agents (their pins stay for e2e_teardown to show),
#                           then end every BIRD they started and remove their namespaces,
#                           which agents leave behind (before e2e_teardown: it removes NET_DIR)

bgp_setup_file() {
	e2e_setup_file midox midox-agent
	command -v bird >/dev/null && command -v birdc >/dev/null || {
		echo "bird and birdc missing (tools/scripts/install-deps installs bird2)" >&2
		return 1
	}
}

bgp_env() { echo "MIDOX_BGP_RUN_DIR=$NET_DIR/$1.bgp"; }
bgp_dir() { printf '%s/%s.bgp/%06x\n' "$NET_DIR" "$1" "$2"; }

bgp_netns() {
	local id
	id=$(cat "$NET_DIR/$1.host-id" 2>/dev/null) || return 1
	printf 'mxbgp-%.8s-%06x\n' "$id" "$2"
}

# _bgp_pid_of DIR: the PID in DIR/bird.pid when that process runs BIRD on DIR/bird.conf.
_bgp_pid_of() {
	local pid
	pid=$(cat "$1/bird.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "$1/bird.conf" || return 1
	echo "$pid"
}

bgp_pid() { _bgp_pid_of "$(bgp_dir "$1" "$2")"; }

birdc_in() {
	local dir
	dir=$(bgp_dir "$1" "$2")
	shift 2
	birdc -s "$dir/bird.ctl" "$@"
}

port_tunnel_key() {
	mx --json router "$1" port "$2" show | jq -r .tunnel_key
}

bgp_cleanup() {
	[ -n "${NET_DIR:-}" ] || return 0
	local d pid f id ns host
	# First the agents: a running one starts again the BIRD it sees die.
	if [ -f "$NET_DIR/agents" ]; then
		for host in $(sort -u "$NET_DIR/agents"); do agent_stop "$host" || true; done
	fi
	for d in "$NET_DIR"/*.bgp/*; do
		[ -d "$d" ] || continue
		pid=$(_bgp_pid_of "$d") || continue
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	done
	for f in "$NET_DIR"/*.host-id; do
		[ -e "$f" ] || continue
		id=$(cat "$f")
		for ns in $(ip netns list | awk '{ print $1 }' | grep "^mxbgp-${id:0:8}-"); do
			ip netns del "$ns" 2>/dev/null || true
		done
	done
	return 0
}

# ---- upstream routers: real BIRD in a "physical" namespace (net_phys_add) ----
#
#   bgp_upstream_start PHYS NAME ADDR AS PEER PEER_AS [ROUTE...]
#                           BIRD NAME in PHYS's namespace: router id ADDR, AS AS, one eBGP
#                           session with PEER (the router port's address) as PEER_AS,
#                           advertising each ROUTE (a.b.c.d/len, static blackhole), what it
#                           learns installed in PHYS's main table (so that it routes back),
#                           connect retry and hold time short (5 s, 9 s), 5 to 30 s after a
#                           session error (as midox's speakers); with BGP_UPSTREAM_PASSWORD
#                           set, that TCP MD5 password
#   bgp_upstream_reconf NAME ADDR AS PEER PEER_AS [ROUTE...]
#                           the same configuration made again and BIRD told to reread it
#   bgp_lan_add HOST IF     a "physical" LAN: a bridge in netns $NET_RUN-lan, IF of HOST (up,
#                           no address: a router port binds it) plugged into it
#   bgp_upstream_ns NAME ADDR/LEN [LOOPBACK/LEN...]
#                           an upstream router's netns $NET_RUN-NAME on that LAN (eth0 ADDR),
#                           with addresses on lo for the networks behind it
#   birdc_up NAME CMD...    birdc on that BIRD's socket
#   bgp_established NAME    its session is Established

# _bgp_upstream_conf NAME ADDR AS PEER PEER_AS [ROUTE...]: the upstream's configuration file.
_bgp_upstream_conf() {
	local name=$1 addr=$2 as=$3 peer=$4 peer_as=$5 r
	shift 5
	{
		printf 'log stderr all;\nrouter id %s;\nprotocol device {\n}\n' "$addr"
		printf 'protocol static up_routes {\n\tipv4;\n'
		for r in "$@"; do printf '\troute %s blackhole;\n' "$r"; done
		printf '}\nprotocol kernel {\n\tipv4 { import none; export where source = RTS_BGP; };\n}\n'
		printf 'protocol bgp midox {\n\tlocal %s as %s;\n\tneighbor %s as %s;\n' "$addr" "$as" "$peer" "$peer_as"
		printf '\thold time 9;\n\tkeepalive time 3;\n\tconnect retry time 5;\n'
		printf '\terror wait time 5, 30;\n'
		# Its session's state changes in its log: why a session came up again, when a
		# test finds it did.
		printf '\tdebug { states, events };\n'
		[ -z "${BGP_UPSTREAM_PASSWORD:-}" ] || printf '\tpassword "%s";\n' "$BGP_UPSTREAM_PASSWORD"
		printf '\tipv4 { import all; export where proto = "up_routes"; };\n}\n'
	} > "$NET_DIR/upstream-$name.conf"
	bird -p -c "$NET_DIR/upstream-$name.conf"
}

bgp_upstream_start() {
	local phys=$1 name=$2
	shift
	_bgp_upstream_conf "$@" || return 1
	net_bg "$phys" "$NET_DIR/upstream-$name.log" bird -f -c "$NET_DIR/upstream-$name.conf" \
		-s "$NET_DIR/upstream-$name.ctl" -P "$NET_DIR/upstream-$name.pid"
	eval "UPSTREAM_PID_$name=$NET_BG_PID"
}

bgp_upstream_reconf() {
	_bgp_upstream_conf "$@" || return 1
	birdc_up "$1" configure | grep -qE "Reconfigured|Reconfiguration in progress"
}

birdc_up() {
	local name=$1
	shift
	birdc -s "$NET_DIR/upstream-$name.ctl" "$@"
}

bgp_established() {
	birdc_up "$1" show protocols midox | grep -q Established
}

bgp_lan_add() {
	local host=$1 ifname=$2 lan=$NET_RUN-lan
	if [ ! -e "/run/netns/$lan" ]; then
		ip netns add "$lan" || return 1
		ip -n "$lan" link set lo up
		ip -n "$lan" link add br0 type bridge
		ip -n "$lan" link set br0 up
	fi
	ip -n "$NET_RUN-$host" link add "$ifname" mtu "$NET_VM_MTU" type veth \
		peer name "$host" netns "$lan" mtu "$NET_VM_MTU" || return 1
	ip -n "$lan" link set "$host" master br0 up
	ip -n "$NET_RUN-$host" link set "$ifname" up
}

bgp_upstream_ns() {
	local name=$1 cidr=$2 ns=$NET_RUN-$1 lan=$NET_RUN-lan a
	shift 2
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	net_sysctl "$name" net.ipv6.conf.all.disable_ipv6=1
	net_sysctl "$name" net.ipv6.conf.default.disable_ipv6=1
	ip -n "$lan" link add "$name" mtu "$NET_VM_MTU" type veth peer name eth0 netns "$ns" \
		mtu "$NET_VM_MTU" || return 1
	ip -n "$lan" link set "$name" master br0 up
	ip -n "$ns" addr add "$cidr" dev eth0
	ip -n "$ns" link set eth0 up
	for a in "$@"; do ip -n "$ns" addr add "$a" dev lo; done
}

# ---- the scenario of MidoNet's documentation (tests/e2e/bgp.bats, bgp_runtime.bats) ----
#
#   bgp_scenario            hosts h1 and h2 with their agents in a tunnel zone; router $RT
#                           (AS 100) with port0 10.0.0.1/24 on bridge $BR, whose VMs vm11 and
#                           vm12 (10.0.0.11, .12) are on h2; port1 198.51.100.1/24 bound on
#                           h1 to gns3out on a physical LAN with two upstream routers of AS 3
#                           (real BIRD): up1 198.51.100.2 (203.0.113.0/24 behind it), up2
#                           198.51.100.3 (198.18.0.0/24), each advertising its network and a
#                           default route; peers for both (hold 9, keep-alive 3, connect
#                           retry 5); bgp-network 10.0.0.0/24. Returns once both sessions
#                           are Established. KEY: port1's tunnel key. The caller sets RT, BR.
#   bgp_up1_start, bgp_up2_start [PEER_AS]
#                           (re)start that upstream as the scenario has it (PEER_AS: 100)
#   bgp_router_key          $RT's tunnel key
#   bgp_hops_in_map HOST DST/LEN N
#                           the router's midox_route set for the prefix has N next hops on HOST
#   bgp_no_route_in_map HOST DST/LEN
#                           HOST's midox_route has no entry of the router for the prefix
#   bgp_learned_count       `router list route` rows marked learned

bgp_up1_start() { bgp_upstream_start up1 up1 198.51.100.2 3 198.51.100.1 "${1:-100}" 203.0.113.0/24 0.0.0.0/0; }
bgp_up2_start() { bgp_upstream_start up2 up2 198.51.100.3 3 198.51.100.1 "${1:-100}" 198.18.0.0/24 0.0.0.0/0; }

bgp_scenario() {
	local h p v
	mx tunnel-zone create name "$NET_RUN-tz" type vxlan
	net_host_add h1 192.0.2.11
	net_host_add h2 192.0.2.12
	net_underlay_check
	for h in h1 h2; do agent_start "$h" "$(bgp_env "$h")"; done
	for h in h1 h2; do agent_wait_ready "$h"; done
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h1)" address 192.0.2.11
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h2)" address 192.0.2.12
	# The tenant: bridge BR, its gateway router0:port0, two VMs on h2.
	mx bridge create name "$BR"
	mx router create name "$RT"
	mx router "$RT" add port address 10.0.0.1 net 10.0.0.0/24
	p=$(mx bridge "$BR" add port)
	mx bridge "$BR" port "${p#*:}" set peer router "$RT" port port0
	for v in 11 12; do
		net_vm_add h2 "vm$v" "10.0.0.$v/24" "02:00:0a:00:00:$v"
		net_vm_gw "vm$v" 10.0.0.1
		p=$(mx bridge "$BR" add port mac "02:00:0a:00:00:$v" address "10.0.0.$v")
		mx host "$(agent_name h2)" add binding port "$p" interface "vm$v"
	done
	# The uplink and the physical LAN with its two routers.
	bgp_lan_add h1 gns3out
	bgp_upstream_ns up1 198.51.100.2/24 203.0.113.1/24
	bgp_upstream_ns up2 198.51.100.3/24 198.18.0.1/24
	mx router "$RT" add port address 198.51.100.1 net 198.51.100.0/24
	mx host "$(agent_name h1)" add binding port "$RT:port1" interface gns3out
	KEY=$(port_tunnel_key "$RT" port1)
	mx router "$RT" set asn 100
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.2 hold-time 9 keep-alive 3 connect-retry 5
	mx router "$RT" add bgp-peer asn 3 address 198.51.100.3 hold-time 9 keep-alive 3 connect-retry 5
	mx router "$RT" add bgp-network net 10.0.0.0/24
	bgp_up1_start
	bgp_up2_start
	wait_until 60 bgp_established up1
	wait_until 30 bgp_established up2
}

bgp_router_key() { mx --json router "$RT" show | jq -r .tunnel_key; }

bgp_hops_in_map() {
	local dst=${2%/*} len=${2#*/}
	map_has "$1" midox_route "any(.[]; .key.router_key == $(bgp_router_key) and .key.dst == $(be32 "$dst") and .key.prefixlen == $((32 + len)) and .value.n == $3)"
}

bgp_no_route_in_map() {
	local dst=${2%/*} len=${2#*/}
	map_has "$1" midox_route "all(.[]; .key.router_key != $(bgp_router_key) or .key.dst != $(be32 "$dst") or .key.prefixlen != $((32 + len)))"
}

bgp_learned_count() { mx router "$RT" list route | grep -c "learned true"; }

# ---- many routes: an upstream advertising N prefixes (tests/e2e/bgp_scale.bats, the bench) ----
#
#   bgp_scale_prefix I      the I-th advertised prefix: a /24 counted from 16.0.0.0/24
#                           (16.0.0.0/24, 16.0.1.0/24, ... 17.134.159.0/24 for I = 99999)
#   bgp_upstream_scale PHYS NAME ADDR AS PEER PEER_AS N
#                           BIRD NAME in PHYS's namespace, one eBGP session with PEER as in
#                           bgp_upstream_start, and N static blackhole routes
#                           (bgp_scale_prefix 0..N-1) in protocol "bulk", disabled: the
#                           routes are announced by `birdc_up NAME enable bulk` and withdrawn
#                           by `birdc_up NAME disable bulk`
#   bgp_scale_count PIN ROUTER GW
#                           the routes of router ROUTER (its name) in PIN's midox_route (the
#                           project's datapath listing, one line per next hop) inside the
#                           scale range with a next hop via GW

bgp_scale_prefix() { echo "$((16 + ($1 >> 16))).$((($1 >> 8) & 255)).$(($1 & 255)).0/24"; }

bgp_upstream_scale() {
	local phys=$1 name=$2 addr=$3 as=$4 peer=$5 peer_as=$6 n=$7 conf=$NET_DIR/upstream-$2.conf
	{
		printf 'log stderr all;\nrouter id %s;\nprotocol device {\n}\n' "$addr"
		printf 'protocol static bulk {\n\tdisabled;\n\tipv4;\n'
		awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
			printf "\troute %d.%d.%d.0/24 blackhole;\n", 16 + int(i / 65536), int(i / 256) % 256, i % 256 }'
		printf '}\nprotocol bgp midox {\n\tlocal %s as %s;\n\tneighbor %s as %s;\n' "$addr" "$as" "$peer" "$peer_as"
		printf '\thold time 9;\n\tkeepalive time 3;\n\tconnect retry time 5;\n'
		printf '\tipv4 { import none; export where proto = "bulk"; };\n}\n'
	} > "$conf"
	bird -p -c "$conf" || return 1
	net_bg "$phys" "$NET_DIR/upstream-$name.log" bird -f -c "$conf" -s "$NET_DIR/upstream-$name.ctl" \
		-P "$NET_DIR/upstream-$name.pid"
	eval "UPSTREAM_PID_$name=$NET_BG_PID"
}

bgp_scale_count() {
	"$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" --pin-root "$1" datapath list route 2>/dev/null |
		awk -v rt="route router $2 " -v gw=" gw $3 " '
			index($0, rt) == 1 && / dst 1[67]\.[0-9]+\.[0-9]+\.0\/24 / && index($0, gw) { n++ }
			END { print n + 0 }'
}
