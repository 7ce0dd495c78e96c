# A real ZooKeeper server (Debian's zookeeper) on a loopback port, private to one test file.
# zk_start sets ZK_SERVERS, ZK_PID, ZK_DIR; zk_stop ends only the server it started.

zk_classpath() {
	local jars=(zookeeper zookeeper-jute slf4j-api slf4j-simple netty-handler netty-common
		netty-transport netty-buffer netty-resolver netty-codec netty-transport-native-epoll
		netty-transport-native-unix-common commons-cli metrics-core snappy-java)
	local cp="" j
	for j in "${jars[@]}"; do cp+="/usr/share/java/$j.jar:"; done
	echo "${cp%:}"
}

# What every server started here gets besides its class path. jute.maxbuffer: the largest
# request the server takes. A client that reconnects sets all its watches again in one
# request (about 100 bytes a watched node: an agent watches some 3 nodes a port and one a
# route), so the default 1 MiB strands an agent of some 8000 ports after any server restart;
# a multi-op deleting a router of many routes is one request too (docs/zookeeper.md).
# serverCnxnFactory: Netty's, which costs the server about a fifth of the CPU per request of
# the default (NIO) one on a small machine (docs/zookeeper.md, "Server settings");
# ZK_CNXN_FACTORY overrides it (the benchmark's comparison of the two).
zk_jvm_flags() {
	echo "-Dzookeeper.jmx.log4j.disable=true -Djute.maxbuffer=${ZK_JUTE_MAXBUFFER:-134217728}" \
		"-Dzookeeper.serverCnxnFactory=${ZK_CNXN_FACTORY:-org.apache.zookeeper.server.NettyServerCnxnFactory}"
}

# A port nobody listens on, from a range the kernel does not hand out as ephemeral.
zk_free_port() {
	local port
	for _ in $(seq 1 50); do
		port=$((20000 + RANDOM % 10000))
		ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return 0; }
	done
	return 1
}

zk_ruok() {
	local reply
	reply=$(timeout 1 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1; echo ruok >&9; cat <&9" 2>/dev/null) || true
	[ "$reply" = imok ]
}

# zk_start [DIR]: start a server keeping its data in DIR (default: a new temp dir).
zk_start() {
	ZK_DIR=${1:-$(mktemp -d /tmp/midox-zk.XXXXXX)}
	ZK_PORT=${ZK_PORT:-$(zk_free_port)}
	mkdir -p "$ZK_DIR/data"
	cat > "$ZK_DIR/zoo.cfg" <<-CFG
	tickTime=500
	dataDir=$ZK_DIR/data
	clientPort=$ZK_PORT
	clientPortAddress=127.0.0.1
	admin.enableServer=false
	4lw.commands.whitelist=ruok,srvr,mntr
	minSessionTimeout=1000
	maxSessionTimeout=30000
	CFG
	# shellcheck disable=SC2046 # the flags are words
	java -Xmx256m -cp "$(zk_classpath)" $(zk_jvm_flags) \
		org.apache.zookeeper.server.ZooKeeperServerMain "$ZK_DIR/zoo.cfg" \
		>>"$ZK_DIR/server.log" 2>&1 &
	ZK_PID=$!
	ZK_SERVERS="127.0.0.1:$ZK_PORT"
	export ZK_DIR ZK_PORT ZK_PID ZK_SERVERS
	local i
	for i in $(seq 1 120); do
		zk_ruok "$ZK_PORT" && return 0
		kill -0 "$ZK_PID" 2>/dev/null || break
		sleep 0.25
	done
	echo "zookeeper did not start on $ZK_SERVERS; log:" >&2
	tail -20 "$ZK_DIR/server.log" >&2
	return 1
}

# zk_stop: end the server (its data stays in ZK_DIR for a restart).
zk_stop() {
	[ -n "${ZK_PID:-}" ] || return 0
	_zk_end "$ZK_PID" TERM 40
	ZK_PID=
}

# _zk_end PID SIGNAL TRIES: send SIGNAL, wait up to TRIES quarter seconds, then SIGKILL.
_zk_end() {
	local pid=$1 i
	kill -"$2" "$pid" 2>/dev/null || true
	for i in $(seq 1 "$3"); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# zk_restart: the same server, same port, same data.
zk_restart() {
	zk_stop
	zk_start "$ZK_DIR"
}

# zk_cleanup: stop and remove everything.
zk_cleanup() {
	zk_stop
	if [ -n "${ZK_DIR:-}" ]; then rm -rf "$ZK_DIR"; fi
	ZK_DIR=
}

# ---------------------------------------------------------------------------------------------
# An ensemble of N servers (QuorumPeerMain) on loopback ports, private to one test, each with
# its own client, quorum and election port and data dir (with its myid) under ZK_ENS_DIR/I.
#
#   zk_ensemble_start [N [DIR]]  start N servers (default 3) and wait until they form a quorum:
#                                sets ZK_SERVERS ("127.0.0.1:p1,127.0.0.1:p2,..."), ZK_ENS_DIR,
#                                ZK_ENS_N, ZK_ENS_PORTS (client ports, "p1 p2 ..."), exported
#   zk_server_stop I [SIGNAL]    end server I (1..N; SIGTERM, or e.g. KILL), wait for it to exit
#   zk_server_start I            start server I again (same ports, same data)
#   zk_server_running I          server I's process runs
#   zk_server_port I             its client port
#   zk_server_mode I             "leader", "follower" (from `srvr`), or nothing when it serves
#                                no clients (stopped, or no quorum)
#   zk_leader                    the index of the server that says "Mode: leader"
#   zk_ensemble_wait [SECONDS]   until every running server serves and one of them leads
#   zk_ensemble_stop             stop every server (data stays, zk_server_start brings it back)
#   zk_ensemble_cleanup          stop them all and remove ZK_ENS_DIR
#   zk_4lw PORT WORD             a four-letter word's reply
#
# PIDs live in files (ZK_ENS_DIR/I/pid), so a bats test and its teardown, which are separate
# processes, both find them; only those PIDs are ever signalled, and only while they still run
# QuorumPeerMain with this ensemble's config.

zk_4lw() {
	timeout 2 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1; echo $2 >&9; cat <&9" 2>/dev/null || true
}

zk_server_port() {
	local -a ports
	read -r -a ports <<<"$ZK_ENS_PORTS"
	echo "${ports[$(($1 - 1))]}"
}

_zk_server_pid() {
	local pid
	pid=$(cat "$ZK_ENS_DIR/$1/pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" |
		grep -qF -- "QuorumPeerMain $ZK_ENS_DIR/$1/zoo.cfg" || return 1
	echo "$pid"
}

zk_server_running() {
	_zk_server_pid "$1" >/dev/null
}

zk_server_mode() {
	zk_4lw "$(zk_server_port "$1")" srvr | sed -n 's/^Mode: //p'
}

zk_leader() {
	local i
	for i in $(seq 1 "$ZK_ENS_N"); do
		[ "$(zk_server_mode "$i")" = leader ] && { echo "$i"; return 0; }
	done
	return 1
}

zk_server_start() {
	local i=$1 dir=$ZK_ENS_DIR/$1
	if zk_server_running "$i"; then
		echo "zk_server_start: server $i already runs" >&2
		return 1
	fi
	echo "zk.bash: start $(date +%T.%N)" >> "$dir/server.log"
	# 3>&- : bats waits for whoever holds its fd 3; a server may outlive the test's shell
	# shellcheck disable=SC2046 # the flags are words
	java -Xmx256m -cp "$(zk_classpath)" $(zk_jvm_flags) \
		org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
		>>"$dir/server.log" 2>&1 3>&- &
	echo $! > "$dir/pid"
	# no "Killed" job notice in a test's output when zk_server_stop KILLs it (bash still reaps it)
	disown $!
}

zk_server_stop() {
	local i=$1 sig=${2:-TERM} pid
	pid=$(_zk_server_pid "$i") || return 0
	_zk_end "$pid" "$sig" 60
	echo "zk.bash: stopped ($sig) $(date +%T.%N)" >> "$ZK_ENS_DIR/$i/server.log"
}

# _zk_ensemble_ready: every running server answers srvr with a mode, and one leads.
_zk_ensemble_ready() {
	local i mode leaders=0
	for i in $(seq 1 "$ZK_ENS_N"); do
		zk_server_running "$i" || continue
		mode=$(zk_server_mode "$i")
		case $mode in
		leader) leaders=$((leaders + 1)) ;;
		follower) ;;
		*) return 1 ;;
		esac
	done
	[ "$leaders" -eq 1 ]
}

zk_ensemble_wait() {
	local timeout=${1:-60} deadline
	deadline=$((SECONDS + timeout))
	while ! _zk_ensemble_ready; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "zookeeper ensemble not serving after ${timeout}s:" >&2
			local i
			for i in $(seq 1 "$ZK_ENS_N"); do
				echo "--- server $i (running: $(zk_server_running "$i" && echo yes || echo no)," \
					"mode: $(zk_server_mode "$i"))" >&2
				tail -5 "$ZK_ENS_DIR/$i/server.log" >&2
			done
			return 1
		fi
		sleep 0.25
	done
}

zk_ensemble_start() {
	local n=${1:-3} i p used=" "
	ZK_ENS_DIR=${2:-$(mktemp -d /tmp/midox-zkens.XXXXXX)}
	ZK_ENS_N=$n
	ZK_ENS_PORTS=""
	ZK_SERVERS=""
	# 3 ports a server (client, quorum, election), all distinct
	local -a cport qport eport
	for i in $(seq 1 "$n"); do
		for _ in 1 2 3; do
			for _ in $(seq 1 20); do
				p=$(zk_free_port) || return 1
				[[ $used == *" $p "* ]] || break
			done
			used+="$p "
		done
	done
	read -r -a p <<<"$used"
	for i in $(seq 1 "$n"); do
		cport[i]=${p[3 * (i - 1)]}
		qport[i]=${p[3 * (i - 1) + 1]}
		eport[i]=${p[3 * (i - 1) + 2]}
		ZK_ENS_PORTS+="${ZK_ENS_PORTS:+ }${cport[i]}"
		ZK_SERVERS+="${ZK_SERVERS:+,}127.0.0.1:${cport[i]}"
	done
	export ZK_ENS_DIR ZK_ENS_N ZK_ENS_PORTS ZK_SERVERS
	for i in $(seq 1 "$n"); do
		mkdir -p "$ZK_ENS_DIR/$i/data"
		echo "$i" > "$ZK_ENS_DIR/$i/data/myid"
		{
			echo "tickTime=500"
			echo "initLimit=20"
			echo "syncLimit=5"
			echo "dataDir=$ZK_ENS_DIR/$i/data"
			echo "clientPort=${cport[i]}"
			echo "clientPortAddress=127.0.0.1"
			echo "admin.enableServer=false"
			echo "4lw.commands.whitelist=ruok,srvr,mntr,stat,cons,dump"
			echo "minSessionTimeout=1000"
			echo "maxSessionTimeout=30000"
			local j
			for j in $(seq 1 "$n"); do
				echo "server.$j=127.0.0.1:${qport[j]}:${eport[j]}"
			done
		} > "$ZK_ENS_DIR/$i/zoo.cfg"
	done
	for i in $(seq 1 "$n"); do zk_server_start "$i" || return 1; done
	zk_ensemble_wait 90
}

zk_ensemble_stop() {
	local i
	[ -n "${ZK_ENS_DIR:-}" ] || return 0
	for i in $(seq 1 "$ZK_ENS_N"); do zk_server_stop "$i"; done
}

zk_ensemble_cleanup() {
	[ -n "${ZK_ENS_DIR:-}" ] || return 0
	zk_ensemble_stop
	rm -rf "$ZK_ENS_DIR"
	ZK_ENS_DIR=
}
