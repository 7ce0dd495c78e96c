# What the CLI's bats files share: a private ZooKeeper per file, two registered hosts per
# test, the midox and topo-helper binaries, and checks on output and on the whole tree.
# Binaries come from "${MIDOX_BUILD:-<repo>/build}".

HOST_A=0a000000-0000-4000-8000-00000000000a
HOST_B=0b000000-0000-4000-8000-00000000000b

cli_setup_file() {
	local root
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export MIDOX_BUILD=${MIDOX_BUILD:-$root/build}
	export MIDOX="$MIDOX_BUILD/midox" HELPER="$MIDOX_BUILD/tests/topo-helper"
	[ -x "$MIDOX" ] && [ -x "$HELPER" ] || {
		echo "build first: make $MIDOX $HELPER" >&2
		return 1
	}
	zk_start
	export MIDOX_ZK_SERVERS=$ZK_SERVERS
}

cli_teardown_file() {
	zk_cleanup || true
}

cli_setup() {
	"$HELPER" wipe
	"$HELPER" register "$HOST_A" hosta
	"$HELPER" register "$HOST_B" hostb
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
}

cli_teardown() {
	# A session the test kept open (hold_host) ends with its stdin.
	[ -z "${HOLD_PID:-}" ] || { exec 7>&-; wait "$HOLD_PID" 2>/dev/null || true; }
}

midox() { "$MIDOX" "$@"; }
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
is_json() { python3 -c 'import json,sys; json.load(sys.stdin)'; }
# The id of an object from its --json show: id_of bridge blue, id_of router R port port1
id_of() { midox --json "$@" show | json_get '["id"]'; }

# helper_session NAME FD ARGS...: topo-helper ARGS in the background, its stdin a FIFO the
# test holds open on FD (closing FD ends it), its stdout in $BATS_TEST_TMPDIR/NAME.out, its
# stderr in NAME.err; waits 5 s at most for its "ready". Its PID in HELPER_PID.
helper_session() {
	local name=$1 fd=$2 fifo="$BATS_TEST_TMPDIR/$1.in" i
	shift 2
	mkfifo "$fifo"
	"$HELPER" "$@" <"$fifo" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	HELPER_PID=$!
	eval "exec $fd>\"\$fifo\""
	for i in $(seq 1 50); do
		grep -q ready "$BATS_TEST_TMPDIR/$name.out" && return 0
		sleep 0.1
	done
	cat "$BATS_TEST_TMPDIR/$name.err" >&2
	return 1
}

# Keep a host's session (alive node, learned MACs and ARP entries: see topo-helper hold)
# open until the test ends.
hold_host() {
	local rc=0
	helper_session hold 7 hold "$@" || rc=$?
	HOLD_PID=$HELPER_PID
	return "$rc"
}

# A small topology: zone tzone0 with both hosts, bridge0 with two ports, port0 bound.
make_topology() {
	midox tunnel-zone create name underlay type vxlan
	midox tunnel-zone underlay add member host hosta address 10.0.0.1
	midox tunnel-zone underlay add member host hostb address 10.0.0.2
	midox bridge create name blue
	midox bridge blue add port
	midox bridge blue add port mac 02:00:00:00:00:02 address 192.168.1.2
	midox host hosta add binding port bridge0:port0 interface veth0
}

# expect_error STATUS REGEX COMMAND...: fails with STATUS, says REGEX on stderr as
# "midox: error: ...", and leaves every node under /midox as it was.
expect_error() {
	local want=$1 regex=$2 before after
	shift 2
	before=$("$HELPER" dump)
	run --separate-stderr "$@"
	echo "status $status (want $want); stdout: $output; stderr: $stderr"
	[ "$status" -eq "$want" ]
	[[ "$stderr" == "midox: error: "* ]]
	[[ "$stderr" =~ $regex ]]
	after=$("$HELPER" dump)
	[ "$before" = "$after" ]
}
