#!/usr/bin/env bats
# midox-cni when something fails under it, with real failures (no hooks in the plugin): the
# undo of a failed ADD when a step of the undo fails too (the IPAM plugin's DEL, ZooKeeper
# cut off), GC going on past one attachment it cannot remove, and STATUS and GC passed on
# to an IPAM plugin that speaks CNI 1.1.0. Two nodes with real agents as in cni.bats
# (tests/lib/cni.bash); pods here are named "cf*".
#
# The IPAM plugin is Debian's host-local behind a small wrapper of the test's own
# (ipam_fixture): it logs every call, fails a command when the test says so, and, told to,
# claims CNI 1.1.0 and answers STATUS and GC itself. Debian 12 has no IPAM plugin that
# speaks 1.1.0, so the wrapper stands in for a third-party one: what is tested is
# midox-cni's side (what it sends, when, and what it makes of the answer), not a real
# plugin's STATUS or GC.

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

# ipam_fixture: "ipam-cf" in $NET_DIR/bin, put first in CNI_PATH (CNI_PATH_SET). Each call
# appends "COMMAND|CONTAINERID|STDIN" to $NET_DIR/ipam.log. When $NET_DIR/fail-COMMAND (or
# fail-COMMAND-CONTAINERID) exists it fails with a CNI error whose code is the file's
# content and whose msg is "told to fail COMMAND[ of CONTAINERID]". VERSION says 1.1.0 is
# supported when $NET_DIR/speaks-1.1.0 exists (else host-local answers it); STATUS and GC
# succeed doing nothing; everything else goes to host-local as 1.0.0.
ipam_fixture() {
	mkdir -p "$NET_DIR/bin"
	cat > "$NET_DIR/bin/ipam-cf" <<-EOF
	#!/bin/sh
	d='$NET_DIR'
	in=\$(cat)
	printf '%s|%s|%s\n' "\$CNI_COMMAND" "\${CNI_CONTAINERID:-}" "\$in" >> "\$d/ipam.log"
	for f in "\$d/fail-\$CNI_COMMAND-\${CNI_CONTAINERID:-}" "\$d/fail-\$CNI_COMMAND"; do
		[ -e "\$f" ] || continue
		printf '{"cniVersion":"1.0.0","code":%s,"msg":"told to fail %s%s"}\n' "\$(cat "\$f")" \\
			"\$CNI_COMMAND" "\${CNI_CONTAINERID:+ of \$CNI_CONTAINERID}"
		exit 1
	done
	case \$CNI_COMMAND in
	VERSION)
		if [ -e "\$d/speaks-1.1.0" ]; then
			echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}'
			exit 0
		fi ;;
	STATUS|GC)
		exit 0 ;;
	esac
	printf '%s' "\$in" | jq -c '.cniVersion = "1.0.0"' | '$CNI_PLUGINS/host-local'
	EOF
	chmod +x "$NET_DIR/bin/ipam-cf"
	: > "$NET_DIR/ipam.log"
	CNI_PATH_SET="$NET_DIR/bin:$MIDOX_BUILD:$CNI_PLUGINS"
}

# conf HOST [JQ]: cni_conf with the fixture as IPAM, edited by JQ.
conf() {
	cni_conf "$1" ".ipam.type = \"ipam-cf\" | ${2:-.}"
}

# called REGEX: the line number of the fixture's first logged call whose "COMMAND|CONTAINERID"
# matches REGEX (an extended regex, "|" escaped); fails when there is none.
called() {
	grep -nE "^$1\|" "$NET_DIR/ipam.log" | head -1 | cut -d: -f1 | grep .
}

# gc_list ID...: the configuration of a GC that lists IDs' eth0 as valid.
gc_list() {
	local ids
	ids=$(printf '%s\n' "$@" | jq -Rsc 'split("\n") | map(select(. != "") |
		{ containerID: ., ifname: "eth0" })')
	conf h1 ".\"cni.dev/valid-attachments\" = $ids"
}

no_veth() {
	run ! ip -n "$NET_RUN-$1" link show eth0
}

@test "ADD fails waiting for the agent and the undo's IPAM DEL fails: 103, the record stays for DEL, which frees the lease" {
	cni_nodes
	ipam_fixture
	cni_pod cfa
	echo 120 > "$NET_DIR/fail-DEL-cfa"
	# MTU 1500 on a 1450 underlay: the agent never makes the port active
	run -1 --separate-stderr cni h1 ADD cfa cfa eth0 "$(conf h1 '.mtu = 1500 | .waitSeconds = 3')"
	is_error "$output" 103 "did not become active within 3 s"
	echo "$stderr"
	grep -qF "undo: IPAM DEL of cfa/eth0 failed" <<< "$stderr"
	grep -qF "the record of cfa/eth0 under $NET_DIR/cni-h1 stays for DEL or GC" <<< "$stderr"
	called "ADD\|cfa"
	called "DEL\|cfa"
	# the port and the veth undone; the record (naming the port it had) and the lease kept
	jq -e '.portId | length > 0' "$NET_DIR/cni-h1/cfa.eth0"
	[ "$(ports_of_bridge)" -eq 0 ]
	[ -z "$(mx host "$(agent_name h1)" list binding)" ]
	no_veth cfa
	[ "$(leases h1)" -eq 1 ]
	# the runtime's DEL, the IPAM plugin working again: the lease and the record go
	rm "$NET_DIR/fail-DEL-cfa"
	run -0 --separate-stderr cni h1 DEL cfa cfa eth0 "$(conf h1)"
	nothing_left h1 cfa
}

# add_bg HOST POD CONF: ADD of POD's eth0 in the background as cni runs it; its output in
# $NET_DIR/add-POD, its stderr in add-POD.err; ADD_PID its PID.
add_bg() {
	cni "$1" ADD "$2" "$2" eth0 "$3" > "$NET_DIR/add-$2" 2> "$NET_DIR/add-$2.err" &
	ADD_PID=$!
}

# cni_host_ifname_of POD: the node's end of POD's eth0 (mxc and 12 hex digits of FNV-1a
# over container id, NUL, ifname), as midox-cni names it.
cni_host_ifname_of() {
	python3 -c '
import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode() + b"\0" + b"eth0\0":
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("mxc%012x" % (h & 0xffffffffffff))' "$1"
}

@test "ZooKeeper cut off while ADD waits: the undo cannot delete the port, the record names it; DEL once ZooKeeper is back removes it all" {
	cni_nodes
	ipam_fixture
	cni_pod cfb
	local st=0 port hif
	hif=$(cni_host_ifname_of cfb)
	add_bg h1 cfb "$(conf h1 '.mtu = 1500 | .waitSeconds = 10')"
	wait_until 20 jq -e '.portId != ""' "$NET_DIR/cni-h1/cfb.eth0"
	port=$(jq -r .portId "$NET_DIR/cni-h1/cfb.eth0")
	# h1's way to ZooKeeper (the forwarder this test's agent_start made) goes: the plugin's
	# session with it, while it still waits
	zk_unlink h1
	wait "$ADD_PID" || st=$?
	cat "$NET_DIR/add-cfb" "$NET_DIR/add-cfb.err"
	[ "$st" -eq 1 ]
	is_error "$(cat "$NET_DIR/add-cfb")" 11 "cannot read the topology"
	grep -q "undo: cannot delete port $port" "$NET_DIR/add-cfb.err"
	grep -q "stays for DEL or GC" "$NET_DIR/add-cfb.err"
	# the port and its binding are still in ZooKeeper, and the record names that port
	[ "$(jq -r .portId "$NET_DIR/cni-h1/cfb.eth0")" = "$port" ]
	[ "$(ports_of_bridge)" -eq 1 ]
	mx host "$(agent_name h1)" list binding | grep -q "interface $hif "
	# what needs no ZooKeeper was undone: the veth, the lease
	no_veth cfb
	[ "$(leases h1)" -eq 0 ]
	called "DEL\|cfb"
	# ZooKeeper back: the runtime's DEL removes the port and binding, then the record
	zk_link h1
	agent_wait_ready h1
	run -0 --separate-stderr cni h1 DEL cfb cfb eth0 "$(conf h1)"
	nothing_left h1 cfb
}

@test "GC goes on past an attachment it cannot remove: the others go, the first failure is reported, its record stays for the next GC" {
	cni_nodes
	CNI_VERSION=1.1.0
	ipam_fixture
	local p out stale=() mid first last
	for p in cfa cfb cfc cfd; do
		cni_pod "$p"
		out=$(cni h1 ADD "$p" "$p" eth0 "$(conf h1)") || { echo "$out"; false; }
	done
	[ "$(ports_of_bridge)" -eq 4 ]
	[ "$(leases h1)" -eq 4 ]
	# GC visits the records in the folder's order (readdir, as ls -U lists it): the middle
	# one of the three stale ones fails, so there is one before it and one after
	mapfile -t stale < <(ls -U "$NET_DIR/cni-h1" | grep -v '^cfd\.' | sed 's/\.eth0$//')
	[ "${#stale[@]}" -eq 3 ]
	first=${stale[0]}
	mid=${stale[1]}
	last=${stale[2]}
	echo 120 > "$NET_DIR/fail-DEL-$mid"
	run -1 --separate-stderr cni h1 GC "" "" "" "$(gc_list cfd)"
	is_error "$output" 120 "IPAM plugin ipam-cf DEL: told to fail DEL of $mid"
	# the one after the failure was removed too, after it
	[ "$(called "DEL\|$last")" -gt "$(called "DEL\|$mid")" ]
	[ "$(called "DEL\|$mid")" -gt "$(called "DEL\|$first")" ]
	[ ! -e "$NET_DIR/cni-h1/$first.eth0" ]
	[ ! -e "$NET_DIR/cni-h1/$last.eth0" ]
	no_veth "$first"
	no_veth "$last"
	# the failed one: its port and veth went before its IPAM DEL, its record and lease stay
	[ -e "$NET_DIR/cni-h1/$mid.eth0" ]
	no_veth "$mid"
	# the valid one untouched
	[ -e "$NET_DIR/cni-h1/cfd.eth0" ]
	ip -n "$NET_RUN-cfd" link show eth0
	[ "$(ports_of_bridge)" -eq 1 ]
	[ "$(leases h1)" -eq 2 ]
	# the next GC, the IPAM plugin working again, removes what was left
	rm "$NET_DIR/fail-DEL-$mid"
	run -0 --separate-stderr cni h1 GC "" "" "" "$(gc_list cfd)"
	[ ! -e "$NET_DIR/cni-h1/$mid.eth0" ]
	[ "$(leases h1)" -eq 1 ]
	[ "$(ports_of_bridge)" -eq 1 ]
	run -0 --separate-stderr cni h1 DEL cfd cfd eth0 "$(conf h1)"
	nothing_left h1 cfd
}

@test "an IPAM plugin that speaks 1.1.0 (a stand-in) gets STATUS and GC: its errors passed on, GC's list unchanged, after midox's own removals" {
	cni_nodes
	CNI_VERSION=1.1.0
	ipam_fixture
	touch "$NET_DIR/speaks-1.1.0"
	run -0 --separate-stderr cni h1 STATUS "" "" "" "$(conf h1)"
	[ -z "$output" ]
	called "VERSION\|"
	called "STATUS\|"
	# STATUS gets the configuration as it is, 1.1.0
	grep '^STATUS|' "$NET_DIR/ipam.log" | head -1 | cut -d'|' -f3- |
		jq -e '.cniVersion == "1.1.0" and .ipam.type == "ipam-cf"'
	# its 51 (limited) stays 51, its message after midox's prefix
	echo 51 > "$NET_DIR/fail-STATUS"
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(conf h1)"
	is_error "$output" 51 "IPAM plugin ipam-cf STATUS: told to fail STATUS"
	# any other code is "not available" for STATUS: 50
	echo 120 > "$NET_DIR/fail-STATUS"
	run -1 --separate-stderr cni h1 STATUS "" "" "" "$(conf h1)"
	is_error "$output" 50 "IPAM plugin ipam-cf STATUS: told to fail STATUS"
	rm "$NET_DIR/fail-STATUS"
	# GC: midox removes what it no longer lists (DEL to the plugin), then passes GC on
	local p out gc
	for p in cfa cfb; do
		cni_pod "$p"
		out=$(cni h1 ADD "$p" "$p" eth0 "$(conf h1)") || { echo "$out"; false; }
	done
	: > "$NET_DIR/ipam.log"
	run -0 --separate-stderr cni h1 GC "" "" "" "$(gc_list cfb)"
	[ -z "$output" ]
	cat "$NET_DIR/ipam.log"
	[ "$(called "GC\|")" -gt "$(called "DEL\|cfa")" ]
	run ! called "DEL\|cfb"
	gc=$(grep '^GC|' "$NET_DIR/ipam.log" | cut -d'|' -f3-)
	[ "$(grep -c '^GC|' "$NET_DIR/ipam.log")" -eq 1 ]
	jq -e '.cniVersion == "1.1.0"' <<< "$gc"
	jq -e '."cni.dev/valid-attachments" == [{ containerID: "cfb", ifname: "eth0" }]' <<< "$gc"
	no_veth cfa
	[ ! -e "$NET_DIR/cni-h1/cfa.eth0" ]
	[ "$(leases h1)" -eq 1 ]
	# the plugin's GC failing fails GC, its code and message passed on
	echo 120 > "$NET_DIR/fail-GC"
	run -1 --separate-stderr cni h1 GC "" "" "" "$(gc_list cfb)"
	is_error "$output" 120 "IPAM plugin ipam-cf GC: told to fail GC"
	rm "$NET_DIR/fail-GC"
	run -0 --separate-stderr cni h1 DEL cfb cfb eth0 "$(conf h1)"
	nothing_left h1 cfb
}
