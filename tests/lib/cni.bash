# midox-cni called exactly as a container runtime calls it: CNI_* environment variables, the
# network configuration on stdin, the result on stdout, in the node's network namespace
# (nsenter --net), where the pod's veth end lives. Shared by tests/e2e/cni*.bats and the
# benchmark's cni section (tools/bench/run); over netns.bash (NET_RUN, NET_DIR).
#
#   cni_conf HOST [JQ]          HOST's network configuration (bridge $BR, ZooKeeper $CNI_ZK,
#                               the agent's pin root, host-local IPAM keeping its leases in
#                               NET_DIR), edited by the jq program JQ if given
#   cni_pod NAME                a network namespace "$NET_RUN-NAME" for a pod (no IPv6)
#   cni HOST COMMAND CONTAINER POD IFNAME [CONF]
#                               midox-cni as a runtime runs it in HOST's netns
#   cni_plugin BINARY HOST COMMAND CONTAINER POD IFNAME CONF
#                               any CNI plugin, run the same way
#   chain HOST COMMAND POD CONFLIST [RESULT]
#                               the plugins of CONFLIST as a runtime runs a chain
#   is_error JSON CODE TEXT     a CNI error with CODE whose msg contains TEXT
#   nothing_left HOST [POD]     no veth, port, binding, lease or record of HOST's pods
#
# For the e2e files (over e2e.bash):
#   cni_setup_file              setup_file: the binaries, Debian's host-local, ZooKeeper
#   cni_setup                   setup: a run's names (BR the pods' bridge, TZ the zone)
#   cni_nodes                   h1 and h2 with their agents in zone TZ, and the bridge BR

CNI_PLUGINS=${CNI_PLUGINS:-/usr/lib/cni} # Debian's containernetworking-plugins
CNI_VERSION=${CNI_VERSION:-1.0.0}

# cni_conf HOST [JQ]: one shared /24 for the pods, each node leasing from its own part of it
# (hN: 10.244.0.N00 to N49). CNI_ZK: the ZooKeeper servers (default: zk.bash's, through the
# host netns's loopback forwarder).
cni_conf() {
	local host=$1 n=${1#h}
	jq -nc --arg v "$CNI_VERSION" --arg br "$BR" --arg zk "${CNI_ZK:-127.0.0.1:$ZK_PORT}" \
		--arg hid "$NET_DIR/$host.host-id" --arg dd "$NET_DIR/cni-$host" \
		--arg ipam "$NET_DIR/ipam-$host" --arg first "10.244.0.$((n * 100))" \
		--arg last "10.244.0.$((n * 100 + 49))" --arg pin "$(agent_pin "$host")" '{
		cniVersion: $v, name: "pods", type: "midox", bridge: $br, zookeeper: $zk,
		hostIdFile: $hid, dataDir: $dd, pinRoot: $pin, mtu: 1450, waitSeconds: 10,
		ipam: { type: "host-local", dataDir: $ipam, routes: [{ dst: "0.0.0.0/0" }],
			ranges: [[{ subnet: "10.244.0.0/24", rangeStart: $first, rangeEnd: $last,
				    gateway: "10.244.0.1" }]] } }' | jq -c "${2:-.}"
}

# cni_pod NAME: a network namespace for a pod (no IPv6: no stray frames), removed with the
# run (net_cleanup).
cni_pod() {
	ip netns add "$NET_RUN-$1" &&
		ip -n "$NET_RUN-$1" link set lo up &&
		net_sysctl "$1" net.ipv6.conf.all.disable_ipv6=1
}

# cni HOST COMMAND CONTAINER POD IFNAME [CONF]: midox-cni in HOST's network namespace (HOST
# "": in the caller's), nothing of the caller's environment but PATH; an empty CONTAINER,
# POD or IFNAME leaves its variable out. CONF defaults to cni_conf HOST.
cni() {
	local cf=${6:-}
	[ -n "$cf" ] || cf=$(cni_conf "$1")
	cni_plugin "$MIDOX_BUILD/midox-cni" "$1" "$2" "$3" "$4" "$5" "$cf"
}

# cni_plugin BINARY HOST COMMAND CONTAINER POD IFNAME CONF: any CNI plugin, run as cni runs
# it; CNI_PATH names midox's and Debian's plugin folders (CNI_PATH_SET overrides it);
# midox-cni under $CNI_WRAP if set (e.g. CNI_WRAP="valgrind -q --error-exitcode=9
# --leak-check=full --errors-for-leak-kinds=definite").
cni_plugin() {
	local bin=$1 host=$2 cmd=$3 cid=$4 pod=$5 ifname=$6 cf=$7 wrap=()
	local env=(PATH="$PATH" CNI_PATH="${CNI_PATH_SET-$MIDOX_BUILD:$CNI_PLUGINS}")
	[ "$bin" = "$MIDOX_BUILD/midox-cni" ] && read -ra wrap <<< "${CNI_WRAP:-}"
	local ns=(nsenter --net="/run/netns/$NET_RUN-$host" --)
	[ -n "$cmd" ] && env+=(CNI_COMMAND="$cmd")
	[ -n "$cid" ] && env+=(CNI_CONTAINERID="$cid")
	[ -n "$ifname" ] && env+=(CNI_IFNAME="$ifname")
	[ -n "$pod" ] && env+=(CNI_NETNS="/run/netns/$NET_RUN-$pod")
	[ -n "$host" ] || ns=()
	printf '%s' "$cf" | "${ns[@]}" env -i "${env[@]}" "${wrap[@]}" "$bin"
}

# is_error JSON CODE TEXT: a CNI error with that code whose msg contains TEXT.
is_error() {
	echo "$1"
	jq -e --argjson c "$2" --arg t "$3" '.code == $c and (.msg | contains($t)) and
		(.cniVersion | type == "string")' <<< "$1" >/dev/null
}

# ports_of_bridge: how many ports the pods' bridge has.
ports_of_bridge() {
	mx bridge "$BR" list port | grep -c . || true
}

# leases HOST: host-local's lease files of HOST's network (one per address, IPv4 or IPv6;
# not its lock and last-reserved files).
leases() {
	find "$NET_DIR/ipam-$1" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null | wc -l
}

# nothing_left HOST POD: no veth on HOST, no port or binding, no lease, no state file.
nothing_left() {
	[ "$(ports_of_bridge)" -eq 0 ]
	[ -z "$(mx host "$(agent_name "$1")" list binding)" ]
	[ "$(leases "$1")" -eq 0 ]
	if ip -n "$NET_RUN-$1" -o link show | grep -q ': mxc'; then return 1; fi
	[ -z "$(ls -A "$NET_DIR/cni-$1" 2>/dev/null)" ]
	if [ -n "${2:-}" ]; then ! ip -n "$NET_RUN-$2" link show eth0 2>/dev/null; fi
}

# chain HOST COMMAND POD CONFLIST [RESULT]: the plugins of CONFLIST as a runtime runs a chain
# for eth0 of POD (container id = the pod's name): ADD and CHECK in order, DEL in reverse,
# each with the list's cniVersion and name and, after the first (and for every DEL and
# CHECK), the result so far (RESULT: ADD's) as prevResult. ADD prints the last result.
chain() {
	local host=$1 cmd=$2 pod=$3 list=$4 prev=${5:-null} n i cf bin out order
	n=$(jq '.plugins | length' <<< "$list")
	order=$(seq 0 $((n - 1)))
	[ "$cmd" = DEL ] && order=$(seq $((n - 1)) -1 0)
	for i in $order; do
		cf=$(jq -c --argjson i "$i" --argjson prev "$prev" '.plugins[$i] +
			{ cniVersion, name } + (if $prev then { prevResult: $prev } else {} end)' <<< "$list")
		bin=$CNI_PLUGINS/$(jq -r .type <<< "$cf")
		[ "$(jq -r .type <<< "$cf")" = midox ] && bin=$MIDOX_BUILD/midox-cni
		out=$(cni_plugin "$bin" "$host" "$cmd" "$pod" "$pod" eth0 "$cf") || {
			echo "$cmd of $bin failed: $out" >&2
			return 1
		}
		[ "$cmd" = ADD ] && prev=$out
	done
	[ "$cmd" = ADD ] && echo "$prev"
	return 0
}

cni_setup_file() {
	e2e_setup_file midox midox-agent midox-cni
	[ -x "$CNI_PLUGINS/host-local" ] || {
		echo "missing $CNI_PLUGINS/host-local (apt-get install containernetworking-plugins)" >&2
		return 1
	}
}

cni_setup() {
	net_init
	BR=$NET_RUN-pods
	TZ=$NET_RUN-tz
	CNI_VERSION=1.0.0
}

cni_nodes() {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
}

# pods_router NAME: a midox router NAME whose port 10.244.0.1/24 is the pods' gateway, linked
# to a new port of the pods' bridge BR; prints the router port's alias.
pods_router() {
	local rp bp
	mx router create name "$1" >/dev/null &&
		rp=$(mx router "$1" add port address 10.244.0.1 net 10.244.0.0/24) &&
		bp=$(mx bridge "$BR" add port) &&
		mx bridge "$BR" port "${bp#*:}" set peer router "$1" port "${rp#*:}" >/dev/null &&
		echo "$rp"
}

# portmap_list CONF: a conflist of CONF (midox's configuration) and then portmap, mapping the
# node's TCP port 8080 to the pod's 80.
portmap_list() {
	jq -c '{ cniVersion, name, plugins: [ ., { type: "portmap",
		capabilities: { portMappings: true },
		runtimeConfig: { portMappings: [ { hostPort: 8080, containerPort: 80,
						   protocol: "tcp" } ] } } ] }' <<< "$1"
}

# served_by FROM TO POD: an HTTP request from node FROM to TO's hostPort 8080 gets POD's page.
served_by() {
	net_in "$1" curl -s --max-time 2 "http://$2:8080/" | grep -q "pod $3 here"
}
