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
	java -Xmx256m -cp "$(zk_classpath)" -Dzookeeper.jmx.log4j.disable=true \
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
	kill "$ZK_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 40); do
		kill -0 "$ZK_PID" 2>/dev/null || break
		sleep 0.25
	done
	kill -9 "$ZK_PID" 2>/dev/null || true
	wait "$ZK_PID" 2>/dev/null || true
	ZK_PID=
}

# zk_restart: the same server, same port, same data.
zk_restart() {
	zk_stop
	zk_start "$ZK_DIR"
}

# zk_cleanup: stop and remove everything.
zk_cleanup() {
	zk_stop
	[ -n "${ZK_DIR:-}" ] && rm -rf "$ZK_DIR"
	ZK_DIR=
}
