#!/usr/bin/env bats
# The churn soak of issue 5, CI-sized: ports and bindings created and deleted through the real
# CLI while traffic flows between stable ports on two hosts.
#
#   CHURN_SECONDS   how long the churn runs (default 60). The issue's soak is ten minutes:
#                   CHURN_SECONDS=600 bats tests/e2e/churn.bats (the long mode).
#   CHURN_RATE      target operations a second, all workers together (default 50, the issue's)
#   CHURN_WORKERS   CLI processes churning at once, each on a bridge of its own (default 2)
#   CHURN_DEPTH     ports each worker keeps alive, bound, at once (default 4)
#   CHURN_WARMUP    seconds of churn before memory is first measured (default 5)
#
# An operation is one CLI command (one multi-op in ZooKeeper): a port create, a binding add, a
# binding delete, a port delete. Each worker is one `midox` process reading commands from a
# pipe (no process start or session set-up per command), paced to CHURN_RATE / CHURN_WORKERS
# and kept at most two cycles ahead of what the CLI has answered, so the rate printed is the
# rate ZooKeeper saw, not the rate of a queue filling. If the CLI is slower than CHURN_RATE the
# run goes as fast as it allows and says so. Bindings go to interfaces that exist: a pool of
# veths made beforehand on both hosts, so every binding is one the agents attach to.
#
# Checks, each of which fails when its property does not hold:
#   - no CLI command failed (every worker's CLI exits 0, nothing on its stderr);
#   - the stable traffic (v11 on h1 <-> v21 on h2, one ping every 10 ms from before the churn
#     until after it) loses nothing: exact count;
#   - the agents are the processes started before the churn and alive in `midox host list`;
#   - agent memory: VmRSS after the churn (and its drain) is at most
#     max(before + 20%, before + 1 MiB), "before" measured after CHURN_WARMUP seconds of the
#     same churn, so that what only the first operations allocate (libbpf, the ZooKeeper
#     client's buffers, malloc arenas of its threads, the first growth of the snapshot
#     arrays, the mirror's table) is in both figures. The agent is small (about 8.4 MiB RSS
#     here since it reports its host's status, 4.9 MiB before) and measured flat: +40 KiB
#     over 3000 operations, peak = after. The 1 MiB floor leaves room for malloc's arenas
#     moving by some hundred KiB; 20% of 8.4 MiB (1.7 MiB) still catches a leak of about
#     570 bytes an operation in the default run (3000 operations) and of about 57 bytes in
#     the long mode (30000 operations);
#     under sanitizers (tests/run with SAN=1, MIDOX_SAN=1) AddressSanitizer keeps freed
#     memory in its quarantine (256 MiB) and RSS climbs past it with the shadow and
#     allocator state (+305 MiB in a 60 s run): the floor is then 512 MiB, and leaks are
#     LeakSanitizer's to find when the agents stop (tests/run counts every sanitizer report
#     as a failure);
#   - afterwards `midox-agent --verify` passes on both hosts (pinned maps = what the topology
#     implies).
# The figures (rate, memory before / after / peak, attaches) are printed with the TAP output.

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

CHURN_SECONDS=${CHURN_SECONDS:-60}
CHURN_RATE=${CHURN_RATE:-50}
CHURN_WORKERS=${CHURN_WORKERS:-2}
CHURN_DEPTH=${CHURN_DEPTH:-4}
CHURN_WARMUP=${CHURN_WARMUP:-5}

setup_file() {
	e2e_setup_file midox midox-agent
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-br
	TZ=$NET_RUN-tz
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -n "${NET_DIR:-}" ]; then
		local f
		for f in "$NET_DIR"/churn-*.err "$NET_DIR"/verify-* "$NET_DIR/ping" "$NET_DIR/rss"; do
			[ -e "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
		done
	fi
	[ -n "${RSS_PID:-}" ] && net_bg_stop "$RSS_PID"
	e2e_teardown
	return 0
}

# A figure for the TAP output of a passing run too (bats shows fd 3 always).
report() { echo "# $*" >&3; }

rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(agent_pid "$1")/status"; }

# pool W: the interfaces worker W binds, 2 * CHURN_DEPTH of them, alternately on h1 and h2:
# c<W>x<J> on h<J % 2 + 1>, a veth whose peer stays in the host (nothing sends on it).
pool() {
	local w=$1 j host
	for j in $(seq 0 $((2 * CHURN_DEPTH - 1))); do
		host=$NET_RUN-h$((j % 2 + 1))
		ip -n "$host" link add "c${w}x$j" type veth peer name "c${w}x${j}p"
		ip -n "$host" link set "c${w}x$j" up
		ip -n "$host" link set "c${w}x${j}p" up
	done
}

# churn W SECONDS TAG: worker W churns its bridge for SECONDS through one CLI process, then
# deletes what it left; "ops SECONDS_TAKEN STATUS" goes to $NET_DIR/churn-W-TAG.result.
# Cycle i: create a port (alias <bridge>:port<i>: a session never gives an alias twice, so
# the i-th port it creates is port<i>), bind it to c<W>x<i mod 2D>; once CHURN_DEPTH ports
# live, unbind and delete the oldest (port<i - live>, the alias the session printed for it).
# The loop forks nothing (builtins only: the answers are read from a FIFO, the pacing sleeps
# are read timeouts on a FIFO nobody writes), so the driver costs the 2 cores little.
churn() {
	local w=$1 secs=$2 tag=$3 br=$NET_RUN-c$1
	local base=$NET_DIR/churn-$w-$tag in out idle cli line
	local depth=$CHURN_DEPTH pool=$((2 * CHURN_DEPTH))
	local i=0 live=0 ops=0 answers=0 expect=0 k t0 deadline target now per_op_us
	per_op_us=$((1000000 * CHURN_WORKERS / CHURN_RATE))
	rm -f "$base.in" "$base.out" "$base.idle"
	mkfifo "$base.in" "$base.out" "$base.idle"
	exec {idle}<>"$base.idle" {out}<>"$base.out"
	"$MIDOX_BUILD/midox" --zk "$ZK_SERVERS" <"$base.in" >"$base.out" 2>"$base.err" \
		3>&- {idle}>&- {out}>&- &
	cli=$!
	exec {in}>"$base.in"
	t0=${EPOCHREALTIME/./}
	deadline=$((t0 + secs * 1000000))
	while [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do
		k=$((i % pool))
		echo "bridge $br add port" >&"$in"
		echo "host $NET_RUN-h$((k % 2 + 1)) add binding port $br:port$i interface c${w}x$k" >&"$in"
		i=$((i + 1)) live=$((live + 1)) ops=$((ops + 2)) expect=$((expect + 2))
		if [ "$live" -gt "$depth" ]; then
			k=$(((i - live) % pool))
			echo "host $NET_RUN-h$((k % 2 + 1)) delete binding interface c${w}x$k" >&"$in"
			echo "bridge $br port port$((i - live)) delete" >&"$in"
			live=$((live - 1)) ops=$((ops + 2)) expect=$((expect + 1))
		fi
		# at most about two cycles ahead of the CLI's answers (a port create, a binding
		# add and a port delete each answer one line)
		while [ "$answers" -lt $((expect - 6)) ]; do
			if read -r -t 1 -u "$out" line; then
				answers=$((answers + 1))
			else
				kill -0 "$cli" 2>/dev/null || break 2
			fi
		done
		# paced to the target rate
		target=$((t0 + ops * per_op_us))
		now=${EPOCHREALTIME/./}
		if [ "$now" -lt "$target" ]; then
			printf -v now '%d.%06d' $(((target - now) / 1000000)) $(((target - now) % 1000000))
			read -r -t "$now" -u "$idle" line || true
		fi
	done
	# drain: unbind and delete what is left, oldest first
	while [ "$live" -gt 0 ]; do
		k=$(((i - live) % pool))
		echo "host $NET_RUN-h$((k % 2 + 1)) delete binding interface c${w}x$k" >&"$in"
		echo "bridge $br port port$((i - live)) delete" >&"$in"
		live=$((live - 1)) ops=$((ops + 2))
	done
	exec {in}>&-
	local rc=0
	wait "$cli" || rc=$?
	exec {out}>&- {idle}>&-
	echo "$ops $((${EPOCHREALTIME/./} - t0)) $rc" >"$base.result"
}

# churn_all SECONDS TAG: every worker at once; fails if a CLI failed or complained.
churn_all() {
	local w pids=() ops=0 us=0 o u rc
	for w in $(seq 1 "$CHURN_WORKERS"); do
		churn "$w" "$1" "$2" &
		pids+=($!)
	done
	for w in "${pids[@]}"; do wait "$w"; done
	for w in $(seq 1 "$CHURN_WORKERS"); do
		read -r o u rc <"$NET_DIR/churn-$w-$2.result"
		echo "churn $2 worker $w: $o operations in $((u / 1000)) ms, CLI exit $rc," \
			"$(wc -l <"$NET_DIR/churn-$w-$2.err") lines on stderr"
		ops=$((ops + o))
		[ "$u" -gt "$us" ] && us=$u
		[ "$rc" -eq 0 ] || return 1
		[ ! -s "$NET_DIR/churn-$w-$2.err" ] || { cat "$NET_DIR/churn-$w-$2.err"; return 1; }
	done
	CHURN_OPS=$ops
	CHURN_US=$us
	report "churn $2: $ops operations in $((us / 1000)) ms: $((ops * 1000000 / us)) a second" \
		"(target $CHURN_RATE)"
}

# no churned port or binding is left in the topology
churn_gone() {
	local w
	for w in $(seq 1 "$CHURN_WORKERS"); do
		[ -z "$(mx bridge "$NET_RUN-c$w" list port)" ] || return 1
	done
	! mx host "$NET_RUN-h1" list binding | grep -q ' interface c' || false
	! mx host "$NET_RUN-h2" list binding | grep -q ' interface c' || false
}

@test "churn soak: ${CHURN_SECONDS:-60} s of port and binding churn, stable traffic loses nothing, memory flat, maps verified" {
	e2e_hosts "$TZ" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_all v11 10.0.0.21 2
	local w
	for w in $(seq 1 "$CHURN_WORKERS"); do
		mx bridge create name "$NET_RUN-c$w"
		pool "$w"
	done
	local pid1 pid2 a1 a2
	pid1=$(agent_pid h1)
	pid2=$(agent_pid h2)

	# warm-up, then memory "before"
	churn_all "$CHURN_WARMUP" warmup
	wait_until 30 agent_verify h1
	wait_until 30 agent_verify h2
	local before1 before2 after1 after2
	before1=$(rss_kib h1)
	before2=$(rss_kib h2)
	a1=$(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h1.agent.log" || true)
	a2=$(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h2.agent.log" || true)
	# RSS of both agents every second, for the report
	bash -c 'while :; do echo "$(date +%s) $(grep VmRSS /proc/'"$pid1"'/status) / $(grep VmRSS /proc/'"$pid2"'/status)"; sleep 1; done' \
		>"$NET_DIR/rss" 2>&1 3>&- &
	RSS_PID=$!

	# the stable traffic, from before the churn until after it: back-to-back batches of 200
	# pings (one every 10 ms) until told to stop, so that every batch ends with its own exact
	# count (an interrupted ping may count a request in flight as lost)
	net_bg v11 "$NET_DIR/ping" bash -c "while [ ! -e '$NET_DIR/ping.stop' ]; do
		ping -q -c 200 -i 0.01 -W 2 10.0.0.21; done"
	local ping_pid=$NET_BG_PID
	sleep 2
	churn_all "$CHURN_SECONDS" main
	local ops=$CHURN_OPS us=$CHURN_US
	churn_gone

	# the maps equal what the topology implies, on both hosts
	wait_until 30 agent_verify h1
	wait_until 30 agent_verify h2
	run -0 agent_verify h1
	run -0 agent_verify h2

	# nothing lost on the stable flow
	kill -0 "$ping_pid"
	touch "$NET_DIR/ping.stop"
	wait "$ping_pid" || true
	local sent recv batches
	batches=$(grep -c 'packets transmitted' "$NET_DIR/ping")
	sent=$(awk '/packets transmitted/ { n += $1 } END { print n + 0 }' "$NET_DIR/ping")
	recv=$(awk '/packets transmitted/ { n += $4 } END { print n + 0 }' "$NET_DIR/ping")
	report "stable flow: $batches batches, $sent sent, $recv received"
	[ "$batches" -ge 2 ]
	[ "$sent" -eq $((batches * 200)) ]
	[ "$recv" -eq "$sent" ]

	# the same agents, alive
	[ "$(agent_pid h1)" = "$pid1" ] && agent_running h1
	[ "$(agent_pid h2)" = "$pid2" ] && agent_running h2
	agent_alive h1
	agent_alive h2

	net_bg_stop "$RSS_PID"
	RSS_PID=
	after1=$(rss_kib h1)
	after2=$(rss_kib h2)
	local peak1 peak2
	peak1=$(sed -n 's/.*VmRSS:[[:space:]]*\([0-9]*\) kB \/.*/\1/p' "$NET_DIR/rss" | sort -n | tail -1)
	peak2=$(sed -n 's/.*\/ VmRSS:[[:space:]]*\([0-9]*\) kB.*/\1/p' "$NET_DIR/rss" | sort -n | tail -1)
	report "h1 agent VmRSS: before $before1 KiB, after $after1 KiB, peak $peak1 KiB"
	report "h2 agent VmRSS: before $before2 KiB, after $after2 KiB, peak $peak2 KiB"
	report "attaches to churned interfaces during the main churn: h1" \
		"$(($(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h1.agent.log") - a1)), h2" \
		"$(($(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h2.agent.log") - a2))"
	report "main churn: $ops operations, $((ops * 1000000 / us)) a second"
	# the churn reached the datapath: agents attached to churned interfaces
	[ "$(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h1.agent.log")" -gt "$a1" ]
	[ "$(grep -cE '[(]c[^)]*[)] bound, forwarding' "$NET_DIR/h2.agent.log")" -gt "$a2" ]
	# memory flat: within max(+20 %, +1 MiB) of before
	local b
	for b in "$before1 $after1" "$before2 $after2"; do
		set -- $b
		local bound=$(($1 / 5)) floor=1024
		[ "${MIDOX_SAN:-}" = 1 ] && floor=$((512 * 1024))
		[ "$bound" -ge "$floor" ] || bound=$floor
		[ "$2" -le $(($1 + bound)) ]
	done
}
