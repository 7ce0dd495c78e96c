# What the end-to-end bats files share, over zk.bash, netns.bash and agent.bash (it uses bats'
# `run` and `skip`, so it belongs to tests, not to tools/scripts/demo).
#
#   e2e_setup_file BIN...      for setup_file: root or skip, MIDOX_BUILD (default ./build) holds
#                              every BIN, one ZooKeeper for the file
#   e2e_hosts ZONE HOST=ADDR...
#                              hosts on the underlay, each with its agent running and ready, all
#                              members (at ADDR) of a new vxlan tunnel zone named ZONE
#   e2e_teardown [MAP...]      for teardown: when the test failed, the agents' logs, the maps
#                              (default: ifport, port, fdb) and the captures; then agents and
#                              namespaces go, whatever happened
#   ping_all FROM ADDR COUNT   COUNT pings, every one answered (output left in $output)
#   ping_none FROM ADDR        two pings, none answered (output left in $output)
#   captured NAME REGEX MIN    NAME's capture (net_capture) has at least MIN lines matching REGEX
#   port_key HOST IF           the port tunnel key midox_ifport_v3 maps IF's ifindex to on HOST
#   flood_start VM ADDR        5000 pings from VM to ADDR, one every 2 ms (ten seconds), in the
#                              background
#   restart_under_floods HOST...
#                              restart each HOST's agent in turn while the floods run; then every
#                              flood ends with no packet lost
#   drops HOST KEY MX_DROP_NAME
#                              midox_stats[KEY].drops[reason] on HOST, summed over the CPUs

E2E_FLOODS=()

e2e_setup_file() {
	net_require_root
	export MIDOX_BUILD=${MIDOX_BUILD:-$PWD/build}
	local b
	for b in "$@"; do
		[ -x "$MIDOX_BUILD/$b" ] || { echo "missing $MIDOX_BUILD/$b (run make)" >&2; return 1; }
	done
	zk_start
}

e2e_hosts() {
	local zone=$1 h
	shift
	mx tunnel-zone create name "$zone" type vxlan
	for h in "$@"; do net_host_add "${h%%=*}" "${h#*=}"; done
	net_underlay_check
	for h in "$@"; do agent_start "${h%%=*}"; done
	for h in "$@"; do agent_wait_ready "${h%%=*}"; done
	for h in "$@"; do
		mx tunnel-zone "$zone" add member host "$(agent_name "${h%%=*}")" address "${h#*=}"
	done
}

e2e_teardown() {
	local f
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		agent_logs 40
		agent_maps "$@"
		[ -n "${NET_DIR:-}" ] && for f in "$NET_DIR"/cap-*; do
			[ -e "$f" ] && { echo "--- $f" >&2; head -20 "$f" >&2; }
		done
	fi
	agent_cleanup
	net_cleanup
	return 0
}

ping_all() {
	run net_in "$1" ping -c "$3" -i 0.05 -W 1 "$2"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" $3 received, 0% packet loss"* ]]
}

ping_none() {
	run net_in "$1" ping -c 2 -i 0.2 -W 1 "$2"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *" 0 received"* ]]
}

captured() {
	[ "$(net_capture_count "$1" "$2")" -ge "$3" ]
}

port_key() {
	local ifindex
	ifindex=$(net_ifindex "$1" "$2")
	map_entries "$1" midox_ifport_v3 | jq -er --argjson i "$ifindex" '.[] | select(.key == $i) | .value.port_key'
}

# flood_start VM ADDR: pings from VM to ADDR, one every 4 ms, until floods_end: rounds of
# FLOOD_ROUND pings, each run to its end (its last reply in, or 2 s waited for it), so a
# stop never leaves a ping in flight that would count as lost; each round's summary line
# goes to $NET_DIR/flood-VM. However long what runs under it takes (two agents of a new
# build loading their programs took 50 s each on a loaded machine), the flood lasts.
FLOOD_ROUND=500
flood_start() {
	local out=$NET_DIR/flood-$1
	: >"$out"
	rm -f "$out.stop"
	net_bg "$1" "$out.loop" bash -c '
		trap "kill \$ping 2>/dev/null; exit 1" TERM
		while [ ! -e "$1.stop" ]; do
			ping -q -c "$3" -i 0.004 -W 2 "$2" >"$1.round" 2>&1 &
			ping=$!
			wait "$ping"
			grep -E "packets transmitted" "$1.round" >>"$1" || echo "no summary" >>"$1"
		done' flood "$out" "$2" "$FLOOD_ROUND"
	E2E_FLOODS+=("$NET_BG_PID:$1")
}

# restart_under_floods HOST...: each host's agent restarted in turn, ready again, while the
# floods run; then floods_end.
restart_under_floods() {
	local host old t0=$SECONDS
	for host in "$@"; do
		old=$(agent_pid "$host")
		agent_restart "$host"
		agent_wait_ready "$host"
		[ "$(agent_pid "$host")" != "$old" ]
	done
	echo "restarts of $* took $((SECONDS - t0)) s"
	floods_end
}

# floods_end: every flood still ran (what came before happened under it); each stops after
# its round, and none lost a packet in any round; E2E_FLOODS emptied for the next ones.
floods_end() {
	local f vm out
	for f in "${E2E_FLOODS[@]}"; do
		kill -0 "${f%%:*}" || {
			echo "the flood of ${f#*:} stopped early: nothing was tested under it" >&2
			return 1
		}
	done
	for f in "${E2E_FLOODS[@]}"; do touch "$NET_DIR/flood-${f#*:}.stop"; done
	for f in "${E2E_FLOODS[@]}"; do wait "${f%%:*}" || true; done
	for f in "${E2E_FLOODS[@]}"; do
		vm=${f#*:}
		out=$NET_DIR/flood-$vm
		echo "$vm: $(wc -l <"$out") rounds: $(sort "$out" | uniq -c | tr -s ' \n' ' ')"
		[ -s "$out" ]
		if grep -v "^$FLOOD_ROUND packets transmitted, $FLOOD_ROUND received, 0% packet loss" "$out" >&2; then
			echo "the flood of $vm lost packets in the rounds above" >&2
			return 1
		fi
	done
	E2E_FLOODS=()
}

# bridge_vm HOST VM N: VM 10.0.0.N with a new port of bridge $BR bound to it; the port is
# recorded in PORT[VM] when the caller declared PORT.
bridge_vm() {
	local p
	net_vm_add "$1" "$2" "10.0.0.$3/24" ""
	p=$(mx bridge "$BR" add port) || return 1
	if declare -p PORT >/dev/null 2>&1; then
		PORT[$2]=$p
	fi
	mx host "$(agent_name "$1")" add binding port "$p" interface "$2"
}

# drop_index MX_DROP_NAME: its value in enum mx_drop_reason (include/midox/stats.h, where the
# enum starts at 0 and gives no other value explicitly).
drop_index() {
	awk -v want="$1" '
		/^enum mx_drop_reason/ { on = 1; n = 0; next }
		on && /MX_DROP__MAX/ { exit 1 }
		on && match($0, /MX_DROP_[A-Z0-9_]+/) {
			if (substr($0, RSTART, RLENGTH) == want) { print n; exit 0 }
			n++
		}' "$BATS_TEST_DIRNAME/../../include/midox/stats.h"
}

# drops HOST KEY MX_DROP_NAME: midox_stats[KEY].drops[reason] on HOST, summed over the CPUs
# (0 while KEY has no counters).
drops() {
	local idx
	idx=$(drop_index "$3") || { echo "no drop reason $3" >&2; return 1; }
	map_entries "$1" midox_stats | jq -er --argjson k "$2" --argjson i "$idx" \
		'[.[] | select(.key == $k) | .values[].value.drops[$i]] | add // 0'
}
