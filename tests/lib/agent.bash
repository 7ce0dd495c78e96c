# Real midox agents for test hosts made with netns.bash, and the CLI against the test's
# ZooKeeper (zk.bash). Source netns.bash and zk.bash first.
#
#   agent_start HOST     midox-agent in HOST's netns (nsenter --net, so it shares the root
#                        mount namespace and /sys/fs/bpf), config $NET_DIR/HOST.conf, pin root
#                        /sys/fs/bpf/midox/$NET_RUN-HOST, host id kept in $NET_DIR/HOST.host-id,
#                        registered as $NET_RUN-HOST, log in $NET_DIR/HOST.agent.log
#   agent_stop HOST      SIGTERM to the PID agent_start recorded, wait; fails if it had to KILL
#   agent_restart HOST
#   agent_wait_alive HOST [SECONDS]   until `midox host list` shows it alive
#   agent_name HOST, agent_pin HOST, agent_pid HOST
#   agent_rss_kib HOST   the agent's VmRSS in kB (/proc)
#   map_dump HOST MAP    bpftool map dump pinned <pin>/MAP -j
#   map_has HOST MAP JQ  the dump satisfies the jq expression JQ (entries normalised to
#                        {key, value} with named fields)
#   mac_bytes MAC, be32 ADDR   a MAC / IPv4 address as bpftool prints a __u8[6] / __be32
#   le32 N               a __u32 as bpftool's key bytes, to follow the word hex (bare bytes
#                        are read as decimal)
#   mx ARGS...           the midox CLI against $ZK_SERVERS
#   agent_cleanup        stop every agent and forwarder of the run, remove its pin dirs
#
# ZooKeeper listens on the machine's loopback, which a host's netns cannot reach; zk_link
# gives each host netns 127.0.0.1:$ZK_PORT through zk-forward.pl (a listening socket made in
# the host's netns, served from the caller's netns), so the agent sees a ZooKeeper on its own
# loopback and nothing is routed between namespaces.

AGENT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MIDOX_BUILD=${MIDOX_BUILD:-$PWD/build}
AGENT_PIN_BASE=${AGENT_PIN_BASE:-/sys/fs/bpf/midox}
AGENT_STOP_TIMEOUT=${AGENT_STOP_TIMEOUT:-10}

mx() {
	"$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" "$@"
}

agent_name() { echo "$NET_RUN-$1"; }
agent_pin() { echo "$AGENT_PIN_BASE/$NET_RUN-$1"; }
agent_pid() { cat "$NET_DIR/$1.agent.pid" 2>/dev/null; }
agent_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$(agent_pid "$1")/status" 2>/dev/null; }

# _agent_pid_is PID WHAT: PID still runs a process whose command line contains WHAT.
_agent_pid_is() {
	[ -n "$1" ] && tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" | grep -qF -- "$2"
}

# zk_link HOST: 127.0.0.1:$ZK_PORT inside HOST's netns reaches the test's ZooKeeper.
zk_link() {
	local host=$1 pidf=$NET_DIR/$1.zkfwd.pid
	_agent_pid_is "$(cat "$pidf" 2>/dev/null)" zk-forward.pl && return 0
	# Made in the host's netns, the listening socket is kept across the exec back into the
	# caller's netns, where the forwarder connects to ZooKeeper.
	nsenter --net="/run/netns/$NET_RUN-$host" -- perl -MIO::Socket::INET -MFcntl -e '
		my ($port, $home, $script) = @ARGV;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
			Listen => 64, ReuseAddr => 1, Proto => "tcp") or die "zk_link: listen: $!\n";
		fcntl($l, F_SETFD, 0) or die "zk_link: fcntl: $!\n";
		exec("nsenter", "--net=$home", "--", "perl", $script, fileno($l), "127.0.0.1:$port")
			or die "zk_link: exec: $!\n";
	' "$ZK_PORT" "/proc/$$/ns/net" "$AGENT_LIB_DIR/zk-forward.pl" \
		>>"$NET_DIR/$host.zkfwd.log" 2>&1 &
	echo $! > "$pidf"
	# Ready when the port listens inside the host's netns.
	wait_until 5 _zk_link_ready "$host"
}

_zk_link_ready() {
	net_in "$1" ss -Htln "sport = :$ZK_PORT" | grep -q .
}

# agent_start HOST [VAR=VALUE...]: start the agent; extra environment for it may follow.
agent_start() {
	local host=$1
	shift
	local ns=$NET_RUN-$host log=$NET_DIR/$host.agent.log
	if _agent_pid_is "$(agent_pid "$host")" midox-agent; then
		echo "agent_start: $host already runs $(agent_pid "$host")" >&2
		return 1
	fi
	zk_link "$host" || return 1
	echo "agent.bash: start $(date +%T.%N)" >> "$log"
	# Its own config file (so no /etc/midox/agent.conf of the machine applies), the rest
	# as environment overrides: both ways of configuring it are used.
	cat > "$NET_DIR/$host.conf" <<-CONF
	# midox-agent of test host $ns
	tunnel_interface = ul0
	host_id_file = $NET_DIR/$host.host-id
	CONF
	nsenter --net="/run/netns/$ns" -- env \
		MIDOX_ZK_SERVERS="127.0.0.1:$ZK_PORT" \
		MIDOX_HOST_NAME="$(agent_name "$host")" \
		MIDOX_PIN_ROOT="$(agent_pin "$host")" \
		"$@" \
		"$MIDOX_BUILD/midox-agent" --config "$NET_DIR/$host.conf" -v >>"$log" 2>&1 &
	local pid=$! deadline=$((SECONDS + 5))
	echo "$pid" > "$NET_DIR/$host.agent.pid"
	# Until the fork has exec'd, its command line is this shell's: agent_running would call
	# an agent that is just starting dead.
	while ! _agent_pid_is "$pid" midox-agent && kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.01
	done
	echo "$host" >> "$NET_DIR/agents"
}

agent_running() {
	_agent_pid_is "$(agent_pid "$1")" midox-agent
}

# agent_stop HOST: SIGTERM, and wait for it to exit; SIGKILL (and fail) after
# AGENT_STOP_TIMEOUT seconds.
agent_stop() {
	local host=$1 pid
	pid=$(agent_pid "$host")
	_agent_pid_is "$pid" midox-agent || { rm -f "$NET_DIR/$host.agent.pid"; return 0; }
	kill -TERM "$pid"
	local deadline=$((SECONDS + AGENT_STOP_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
		if ! _agent_pid_is "$pid" midox-agent; then break; fi
		sleep 0.05
	done
	if _agent_pid_is "$pid" midox-agent; then
		echo "agent_stop: $host ($pid) ignored SIGTERM for ${AGENT_STOP_TIMEOUT}s; killed" >&2
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		rm -f "$NET_DIR/$host.agent.pid"
		return 1
	fi
	wait "$pid" 2>/dev/null || true
	echo "agent.bash: stopped $(date +%T.%N)" >> "$NET_DIR/$host.agent.log"
	rm -f "$NET_DIR/$host.agent.pid"
}

agent_restart() {
	agent_stop "$1" && agent_start "$@"
}

# agent_alive HOST: `midox host list` shows HOST alive.
agent_alive() {
	mx host list 2>/dev/null | grep -qE "name $(agent_name "$1") alive true( |$)"
}

# agent_wait_alive HOST [SECONDS]: until it is alive in ZooKeeper; fails early if the agent
# exited, showing its log.
agent_wait_alive() {
	local host=$1 timeout=${2:-20}
	local deadline=$((SECONDS + timeout))
	while :; do
		if ! agent_running "$host"; then
			echo "agent of $host is not running; log:" >&2
			grep -v 'libbpf: ' "$NET_DIR/$host.agent.log" | tail -30 >&2
			return 1
		fi
		agent_alive "$host" && return 0
		[ "$SECONDS" -ge "$deadline" ] && break
		sleep 0.1
	done
	echo "agent of $host not alive in 'midox host list' after ${timeout}s; log:" >&2
	grep -v 'libbpf: ' "$NET_DIR/$host.agent.log" | tail -30 >&2
	return 1
}

# map_dump HOST MAP: the pinned map as bpftool's JSON.
map_dump() {
	bpftool map dump pinned "$(agent_pin "$1")/$2" -j
}

# map_entries HOST MAP: one JSON array of {key, value} with BTF-named fields (bpftool puts
# them under "formatted" when it also prints raw bytes; per-CPU maps get "values").
map_entries() {
	map_dump "$1" "$2" | jq -c 'map(if has("formatted") then .formatted else . end)'
}

# map_has HOST MAP JQ: the entries satisfy JQ (e.g. 'any(.[]; .value.flags == 4)').
map_has() {
	map_entries "$1" "$2" | jq -e "$3" >/dev/null
}

# mac_bytes MAC: "02:00:00:00:aa:01" as the JSON array bpftool prints for a __u8[6].
mac_bytes() {
	local IFS=:
	local b out=""
	for b in $1; do out+="${out:+,}$((16#$b))"; done
	echo "[$out]"
}

# le32 N: N's four bytes in this machine's order, in hex, for `bpftool ... key hex`.
le32() {
	printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24))
}

# be32 A.B.C.D: an address held in network order in a __be32 field, as bpftool prints it (the
# four bytes read as one little-endian number: this machine's order).
be32() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	echo $(($1 | ($2 << 8) | ($3 << 16) | ($4 << 24)))
}

# agent_logs [N]: the last N lines (libbpf's debug lines left out) of every agent's log.
agent_logs() {
	local f
	for f in "$NET_DIR"/*.agent.log; do
		[ -e "$f" ] || continue
		echo "--- $f" >&2
		grep -v 'libbpf: ' "$f" | tail -"${1:-40}" >&2
	done
}

# agent_maps [MAP...]: every agent's maps (default: ifport, port, fdb), for a failed test.
agent_maps() {
	local maps=("$@") host m
	[ ${#maps[@]} -gt 0 ] || maps=(midox_ifport_v3 midox_port_v2 midox_fdb)
	[ -f "$NET_DIR/agents" ] || return 0
	for host in $(sort -u "$NET_DIR/agents"); do
		for m in "${maps[@]}"; do
			echo "--- $host $m" >&2
			map_entries "$host" "$m" 2>&1 | jq -c '.[]' >&2 2>/dev/null || true
		done
	done
}

# agent_cleanup: stop the run's agents and forwarders, remove its pin dirs.
agent_cleanup() {
	[ -n "${NET_RUN:-}" ] && [ -n "${NET_DIR:-}" ] || return 0
	local host f pid
	if [ -f "$NET_DIR/agents" ]; then
		for host in $(sort -u "$NET_DIR/agents"); do
			agent_stop "$host" || true
		done
	fi
	for f in "$NET_DIR"/*.zkfwd.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if _agent_pid_is "$pid" zk-forward.pl; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
	for f in "$AGENT_PIN_BASE/$NET_RUN"-*; do
		[ -e "$f" ] && rm -rf "$f"
	done
	return 0
}

# agent_connected HOST: the agent PID agent_start recorded holds a ZooKeeper connection.
agent_connected() {
	local pid
	pid=$(agent_pid "$1")
	[ -n "$pid" ] && net_in "$1" ss -Htnp state established "dport = :$ZK_PORT" |
		grep -q "pid=$pid,"
}

# agent_wait_ready HOST [SECONDS]: the agent runs, is connected to ZooKeeper, its host is
# alive (after a restart, "alive" alone may still be the old session's node) and it has its
# datapath (agent_wait_datapath, up to $AGENT_LOAD_TIMEOUT s).
agent_wait_ready() {
	local host=$1 timeout=${2:-20}
	wait_until "$timeout" agent_connected "$host" || { agent_wait_alive "$host" 1; return 1; }
	agent_wait_alive "$host" "$timeout" && agent_wait_datapath "$host"
}

# agent_datapath_up HOST: since its last start, the agent has its datapath (loaded, or
# reused as pinned). It connects and registers while the object loads (several seconds on
# a loaded machine), so being alive in ZooKeeper does not say it forwards yet.
agent_datapath_up() {
	awk '/^agent.bash: start / { up = 0 } /midox-agent info: datapath: build / { up = 1 }
		END { exit !up }' "$NET_DIR/$1.agent.log"
}

# (An agent of an earlier build, as upgrade.bats starts, does not log its load: then only
# ZooKeeper says it is ready, as it used to.)
agent_wait_datapath() {
	grep -qa 'datapath: build %s loaded' "$MIDOX_BUILD/midox-agent" 2>/dev/null || return 0
	wait_until "${AGENT_LOAD_TIMEOUT:-90}" agent_datapath_up "$1"
}

# ---------------------------------------------------------------------------------------------
# Agents against a ZooKeeper ensemble (zk.bash, zk_ensemble_start): every server of
# $ZK_SERVERS is forwarded into the host's netns on its own port, so the agent gets the same
# server list as the CLI and fails over between servers by itself.
#
#   zk_link_all HOST     a forwarder (zk_link) for every port of $ZK_SERVERS
#   zk_unlink HOST [PORT]  end HOST's forwarders (or only PORT's): its agent is cut off from
#                        ZooKeeper (from that server) and its connections drop, while everyone
#                        else still reaches it; zk_link_all HOST links it again
#   agent_start_all HOST [VAR=VALUE...]   agent_start with MIDOX_ZK_SERVERS=$ZK_SERVERS
#   agent_zk_port HOST   the ZooKeeper port the agent holds an established connection to
#   agent_wait_ready_all HOST [SECONDS]   connected to one of the servers, and alive
#   agent_session HOST   the session id the agent saved (hex), beside its host id file

_zk_ports() {
	local s out=""
	for s in ${ZK_SERVERS//,/ }; do out+="${out:+ }${s##*:}"; done
	echo "$out"
}

zk_link_all() {
	local host=$1 port first="" rc=0 f=$NET_DIR/$1.zkfwd.pid
	# zk_link keeps one PID file a host: the first port's; each further port's is moved aside
	[ -e "$f" ] && mv "$f" "$f.first"
	for port in $(_zk_ports); do
		if [ -z "$first" ]; then
			first=$port
			continue
		fi
		_agent_pid_is "$(cat "$NET_DIR/$host-$port.zkfwd.pid" 2>/dev/null)" zk-forward.pl &&
			continue
		ZK_PORT=$port zk_link "$host" || rc=1
		mv "$f" "$NET_DIR/$host-$port.zkfwd.pid"
	done
	[ -e "$f.first" ] && mv "$f.first" "$f"
	ZK_PORT=$first zk_link "$host" || rc=1
	return "$rc"
}

# zk_unlink HOST [PORT]: end HOST's forwarders (only PORT's, when given).
zk_unlink() {
	local host=$1 port=${2:-} f pid ports
	if [ -n "$port" ]; then
		ports=$(_zk_ports)
		f=$NET_DIR/$host-$port.zkfwd.pid
		[ "$port" = "${ports%% *}" ] && f=$NET_DIR/$host.zkfwd.pid
		set -- "$f"
	else
		set -- "$NET_DIR/$host.zkfwd.pid" "$NET_DIR/$host"-*.zkfwd.pid
	fi
	for f in "$@"; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if _agent_pid_is "$pid" zk-forward.pl; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
		rm -f "$f"
	done
}

agent_start_all() {
	local host=$1 ports
	shift
	zk_link_all "$host" || return 1
	ports=$(_zk_ports)
	ZK_PORT=${ports%% *} agent_start "$host" MIDOX_ZK_SERVERS="$ZK_SERVERS" "$@"
}

agent_zk_port() {
	local pid port
	pid=$(agent_pid "$1")
	[ -n "$pid" ] || return 1
	for port in $(_zk_ports); do
		net_in "$1" ss -Htnp state established "dport = :$port" | grep -q "pid=$pid," &&
			{ echo "$port"; return 0; }
	done
	return 1
}

agent_wait_ready_all() {
	local host=$1 timeout=${2:-20}
	wait_until "$timeout" agent_zk_port "$host" || { agent_wait_alive "$host" 1; return 1; }
	agent_wait_alive "$host" "$timeout" && agent_wait_datapath "$host"
}

agent_session() {
	od -An -t x8 -N 8 "$NET_DIR/$1.host-id.session" 2>/dev/null | tr -d ' '
}

# agent_verify HOST: `midox-agent --verify` with HOST's agent settings, in its netns; prints
# what verify prints and keeps it in $NET_DIR/verify-HOST.out / .err (agent_verify_log).
agent_verify() {
	nsenter --net="/run/netns/$NET_RUN-$1" -- env \
		MIDOX_ZK_SERVERS="127.0.0.1:$ZK_PORT" \
		MIDOX_HOST_NAME="$(agent_name "$1")" \
		MIDOX_PIN_ROOT="$(agent_pin "$1")" \
		"$MIDOX_BUILD/midox-agent" --config "$NET_DIR/$1.conf" --verify \
		2> >(tee -a "$NET_DIR/verify-$1.err" >&2) | tee -a "$NET_DIR/verify-$1.out"
	return "${PIPESTATUS[0]}"
}

# agent_verify_log HOST: what agent_verify printed so far, for a failure's diagnosis.
agent_verify_log() {
	echo "--- verify $1" >&2
	tail -20 "$NET_DIR/verify-$1.out" "$NET_DIR/verify-$1.err" >&2 2>/dev/null || true
}

# on HOST ARGS...: the CLI in HOST's namespace, reading that host's pinned maps.
on() {
	local host=$1
	shift
	nsenter --net="/run/netns/$(net_ns "$host")" -- "$MIDOX_BUILD/midox" \
		--zk "127.0.0.1:$ZK_PORT" --pin-root "$(agent_pin "$host")" "$@"
}
