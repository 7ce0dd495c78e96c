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

# Keep a host's session (alive node, learned MACs and ARP entries: see topo-helper hold)
# open until the test ends.
hold_host() {
	local fifo="$BATS_TEST_TMPDIR/hold"
	mkfifo "$fifo"
	"$HELPER" hold "$@" <"$fifo" >"$BATS_TEST_TMPDIR/hold.out" &
	HOLD_PID=$!
	exec 7>"$fifo"
	for _ in $(seq 1 50); do
		grep -q ready "$BATS_TEST_TMPDIR/hold.out" && return 0
		sleep 0.1
	done
	return 1
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
