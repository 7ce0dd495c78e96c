#!/usr/bin/env bats
# An agent restarted with the same build takes the programs pinned for that build
# (<pin root>/prog-<build>) and loads nothing: the program attached to each interface keeps
# its id. A different build (the agent's bpf_object setting naming another object file) is
# loaded and replaces them. Both under ping floods that lose nothing.
#   h1 192.0.2.1: v11 10.0.0.11    h2 192.0.2.2: v21 10.0.0.21, one bridge

bats_require_minimum_version 1.5.0
load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'

setup_file() {
	e2e_setup_file midox midox-agent tests/topo-helper
	[ -f "$MIDOX_BUILD/bpf/midox.bpf.o" ] || { echo "missing $MIDOX_BUILD/bpf/midox.bpf.o (run make)" >&2; return 1; }
}

teardown_file() {
	zk_cleanup
}

setup() {
	net_init
	BR=$NET_RUN-br
	e2e_hosts "$NET_RUN-tz" h1=192.0.2.1 h2=192.0.2.2
	mx bridge create name "$BR"
	bridge_vm h1 v11 11
	bridge_vm h2 v21 21
	wait_until 20 ping_ok v11 10.0.0.21
}

teardown() {
	e2e_teardown
}

# attached_id HOST IF: the id of the program at tc ingress of IF (tc prints "... id N tag").
attached_id() {
	tc -n "$NET_RUN-$1" filter show dev "$2" ingress | grep -oE ' id [0-9]+' | awk '{ print $2 }'
}

# pinned_id HOST PROG: the id of PROG pinned under HOST's one prog-<build> directory.
pinned_id() {
	local dirs=("$(agent_pin "$1")"/prog-*)
	[ "${#dirs[@]}" -eq 1 ] || { echo "pinned builds on $1: ${dirs[*]}" >&2; return 1; }
	bpftool prog show pinned "${dirs[0]}/$2" -j | jq -er .id
}

# build_dir HOST: the one prog-<build> directory's name.
build_dir() {
	local dirs=("$(agent_pin "$1")"/prog-*)
	[ "${#dirs[@]}" -eq 1 ] && [ -d "${dirs[0]}" ] && basename "${dirs[0]}"
}

# ids HOST: the programs attached to the VM's interface and to the underlay, and the pinned
# port and underlay programs.
ids() {
	local vm=v11
	[ "$1" = h2 ] && vm=v21
	echo "$(attached_id "$1" "$vm") $(attached_id "$1" ul0) $(pinned_id "$1" port_ingress) $(pinned_id "$1" underlay_ingress)"
}

@test "a restart with the same build loads nothing: the attached programs keep their ids, no ping lost" {
	local before1 before2 from
	before1=$(ids h1)
	before2=$(ids h2)
	echo "h1: $before1  h2: $before2"
	# the attached programs are the pinned ones
	read -r a u p q <<<"$before1"
	[ -n "$a" ]
	[ "$a" = "$p" ]
	[ "$u" = "$q" ]
	from=$(wc -l < "$NET_DIR/h1.agent.log")
	flood_start v11 10.0.0.21
	flood_start v21 10.0.0.11
	restart_under_floods h1 h2
	[ "$(ids h1)" = "$before1" ]
	[ "$(ids h2)" = "$before2" ]
	tail -n +"$from" "$NET_DIR/h1.agent.log" | grep -q 'datapath: build [0-9a-f]* reused as pinned'
	! tail -n +"$from" "$NET_DIR/h1.agent.log" | grep -q 'datapath: build [0-9a-f]* loaded' || false
	ping_all v11 10.0.0.21 3
}

@test "a restart with another build loads it and replaces the programs; back to the first, again" {
	local other=$BATS_TEST_TMPDIR/other.bpf.o before b0 b1 mid
	# The same programs and maps in an object whose bytes differ: one more section, which
	# libbpf passes over. Its hash, so its build, is another.
	echo "another build" > "$BATS_TEST_TMPDIR/note"
	llvm-objcopy --add-section ".note.midox-test=$BATS_TEST_TMPDIR/note" \
		"$MIDOX_BUILD/bpf/midox.bpf.o" "$other"
	! cmp -s "$other" "$MIDOX_BUILD/bpf/midox.bpf.o" || false
	before=$(ids h1)
	b0=$(build_dir h1)
	flood_start v11 10.0.0.21
	flood_start v21 10.0.0.11
	agent_restart h1 MIDOX_BPF_OBJECT="$other"
	agent_wait_ready h1
	# the first pass replaced the attachments with the new build's programs
	wait_until 10 eval '[ "$(attached_id h1 v11)" = "$(pinned_id h1 port_ingress)" ]'
	floods_end
	mid=$(ids h1)
	b1=$(build_dir h1)
	echo "before: $b0 $before  other build: $b1 $mid"
	[ "$b1" != "$b0" ]
	read -r a u p q <<<"$mid"
	read -r a0 u0 _ _ <<<"$before"
	[ "$a" != "$a0" ]
	[ "$u" != "$u0" ]
	[ "$a" = "$p" ]
	[ "$u" = "$q" ]
	grep -q "BPF object from $other (build ${b1#prog-})" "$NET_DIR/h1.agent.log"
	# back to the agent's own object: a different build again, loaded again
	flood_start v11 10.0.0.21
	flood_start v21 10.0.0.11
	restart_under_floods h1
	[ "$(build_dir h1)" = "$b0" ]
	read -r a2 _ p2 _ <<<"$(ids h1)"
	[ "$a2" != "$a" ]
	[ "$a2" != "$a0" ]
	[ "$a2" = "$p2" ]
	ping_all v11 10.0.0.21 3
}
