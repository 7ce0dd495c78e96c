#!/usr/bin/env bats
# make install / make uninstall (tools/dist/, README "Installing"): into a DESTDIR under the
# test's own directory, from the build tests/run made (nothing rebuilt, nothing written to the
# source tree). The files and their modes, the unit (systemd-analyze verify), the man pages
# (groff and man, warnings on), the installed programs, the settings kept on reinstall and
# when changed on uninstall, and the installed agent forwarding under the unit's capability
# bounding set.

bats_require_minimum_version 1.5.0

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	net_require_root
	export MIDOX_BUILD=${MIDOX_BUILD:-$REPO/build}
	local b
	for b in midox midox-agent; do
		[ -x "$MIDOX_BUILD/$b" ] || { echo "missing $MIDOX_BUILD/$b (run make)" >&2; return 1; }
	done
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/root
}

# Only the last test starts ZooKeeper, hosts and an agent; each cleanup does nothing unless
# its part was started.
teardown() {
	if [ -n "${NET_RUN:-}" ]; then
		[ -z "${BATS_TEST_COMPLETED:-}" ] && agent_logs 40
		MIDOX_BUILD=$CAP_BUILD agent_cleanup
		net_cleanup
	fi
	zk_cleanup
	return 0
}

# make_install TARGET [VAR=VALUE...]: make TARGET from the repository root into $ROOT (PREFIX
# /usr unless given), with the build the tests use.
make_install() {
	local target=$1
	shift
	make -C "$REPO" --no-print-directory "$target" \
		BUILD="$(realpath --relative-to="$REPO" "$MIDOX_BUILD")" DESTDIR="$ROOT" PREFIX=/usr "$@"
}

# Every file and link under $ROOT with its mode, sorted: "644 /etc/midox/agent.conf".
installed_files() {
	(cd "$ROOT" && find . ! -type d -printf '%m %P\n' | sort)
}

@test "install: every file in place with its mode, nothing built, nothing written to the tree" {
	local marker=$BATS_TEST_TMPDIR/marker
	touch "$marker"
	run -0 make_install install
	echo "$output"
	# Nothing compiled or linked: the build is up to date.
	! grep -E '(^| )(cc|gcc|clang|bpftool) ' <<<"$output" || false
	run -0 find "$REPO" -path "$REPO/.git" -prune -o -newer "$marker" -print
	[ -z "$output" ]
	run -0 installed_files
	[ "$output" = "644 etc/midox/agent.conf
644 usr/lib/systemd/system/midox-agent.service
644 usr/share/man/man1/midox.1
644 usr/share/man/man8/midox-agent.8
755 opt/cni/bin/midox
755 usr/bin/midox
755 usr/sbin/midox-agent" ]
	cmp "$MIDOX_BUILD/midox" "$ROOT/usr/bin/midox"
	cmp "$MIDOX_BUILD/midox-cni" "$ROOT/opt/cni/bin/midox"
	cmp "$MIDOX_BUILD/midox-agent" "$ROOT/usr/sbin/midox-agent"
	[ "$(stat -c %a "$ROOT/etc/midox")" = 755 ]
}

@test "install: the unit names the installed paths and systemd-analyze verify passes" {
	local unit=$ROOT/usr/lib/systemd/system/midox-agent.service
	make_install install
	run -0 grep -E '^ExecStart=' "$unit"
	[ "$output" = "ExecStart=/usr/sbin/midox-agent --config /etc/midox/agent.conf" ]
	! grep -n '@[A-Z]*@' "$unit" || false
	grep -qx 'Restart=on-failure' "$unit"
	grep -qx 'LimitMEMLOCK=infinity' "$unit"
	grep -qx 'KillSignal=SIGTERM' "$unit"
	grep -qx 'After=network-online.target' "$unit"
	grep -qx 'Wants=network-online.target' "$unit"
	grep -qx 'RequiresMountsFor=/sys/fs/bpf' "$unit"
	# systemd-analyze checks that ExecStart's program exists and that Documentation's man
	# pages open: a copy naming the program inside ROOT, the man pages found in ROOT.
	mkdir "$BATS_TEST_TMPDIR/verify"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=$ROOT/usr/sbin/|" "$unit" \
		> "$BATS_TEST_TMPDIR/verify/midox-agent.service"
	run -0 --separate-stderr analyze_verify "$BATS_TEST_TMPDIR/verify/midox-agent.service"
	echo "$output$stderr"
	[ -z "$output$stderr" ]
}

# analyze_verify UNIT: systemd-analyze verify, which makes directories in /tmp (and
# /run/systemd if missing) whatever TMPDIR says: run in a mount namespace of its own with
# fresh /tmp and /run, the test's directory bound back at its own path.
analyze_verify() {
	unshare --mount --propagation private sh -euc '
		dir=$1 unit=$2
		mount -t tmpfs tmpfs /run
		mkdir /run/keep && mount --bind "$dir" /run/keep
		mount -t tmpfs tmpfs /tmp
		mkdir -p "$dir" && mount --bind /run/keep "$dir"
		MANPATH=$dir/root/usr/share/man exec systemd-analyze verify "$unit"
	' sh "$BATS_TEST_TMPDIR" "$1"
}

@test "install: the man pages render without a warning" {
	local page
	make_install install
	for page in man1/midox.1 man8/midox-agent.8; do
		run -0 --separate-stderr groff -man -ww -z "$ROOT/usr/share/man/$page"
		echo "$page: $output$stderr"
		[ -z "$output$stderr" ]
		run -0 --separate-stderr env MANWIDTH=80 man --warnings -l "$ROOT/usr/share/man/$page"
		echo "$page: $stderr"
		[ -z "$stderr" ]
		[[ "$output" == *NAME*SYNOPSIS*DESCRIPTION*OPTIONS* ]]
	done
	# The paths filled in.
	run -0 env MANWIDTH=200 man -l "$ROOT/usr/share/man/man8/midox-agent.8"
	[[ "$output" == *"/etc/midox/agent.conf"* ]]
	[[ "$output" == *"/usr/lib/systemd/system/midox-agent.service"* ]]
	! grep -n '@[A-Z]*@' "$ROOT"/usr/share/man/man*/* || false
}

@test "install: the installed programs run --version and --help" {
	local version
	make_install install
	version=$("$MIDOX_BUILD/midox" --version)
	[[ "$version" == "midox "?* ]]
	run -0 "$ROOT/usr/bin/midox" --version
	[ "$output" = "$version" ]
	run -0 "$ROOT/usr/sbin/midox-agent" --version
	[ "$output" = "midox-agent ${version#midox }" ]
	run -0 "$ROOT/usr/bin/midox" --help
	[[ "${lines[0]}" == "usage: midox "* ]]
	run -0 "$ROOT/usr/sbin/midox-agent" --help
	[[ "${lines[0]}" == "usage: midox-agent "* ]]
}

@test "install: the settings show every key the agent knows, and the agent takes them" {
	local conf=$ROOT/etc/midox/agent.conf key keys
	make_install install
	# The keys of agent/config.c's table: each a commented line "#key = default".
	keys=$(grep -oE '^\s*(STRING_FIELD\(|\{ )"[a-z_]+", "MIDOX_' "$REPO/agent/config.c" |
		grep -oE '"[a-z_]+"' | tr -d '"')
	[ "$(wc -l <<<"$keys")" -ge 9 ]
	for key in $keys; do
		grep -qE "^#$key = [^ ]" "$conf" || { echo "no '#$key = ...' in agent.conf" >&2; false; }
	done
	# No key the agent does not know.
	[ "$(grep -cE '^#[a-z_]+ = ' "$conf")" -eq "$(wc -l <<<"$keys")" ]
	# Every line uncommented (but the credential, which has no default) is read without
	# complaint: --verify then stops at the host id, which the environment sends into the
	# test's directory (nothing of the machine read, nothing created).
	sed -E 's/^#([a-z_]+ = )/\1/; /^zookeeper_credentials_file/d' "$conf" \
		> "$BATS_TEST_TMPDIR/all.conf"
	run -2 env -u MIDOX_ZK_SERVERS MIDOX_HOST_ID_FILE="$BATS_TEST_TMPDIR/none" \
		"$ROOT/usr/sbin/midox-agent" --config "$BATS_TEST_TMPDIR/all.conf" --verify
	echo "$output"
	[ "$output" = "midox-agent: error: nothing to verify: no host id in $BATS_TEST_TMPDIR/none or no pinned maps in /sys/fs/bpf/midox" ]
}

@test "install: a reinstall keeps the edited settings and replaces the rest" {
	local conf=$ROOT/etc/midox/agent.conf
	make_install install
	echo "tunnel_interface = ul0" >> "$conf"
	chmod 600 "$conf"
	cp "$conf" "$BATS_TEST_TMPDIR/edited"
	echo "# changed by hand" >> "$ROOT/usr/lib/systemd/system/midox-agent.service"
	run -0 make_install install
	[[ "$output" == *"kept $conf"* ]]
	cmp "$conf" "$BATS_TEST_TMPDIR/edited"
	[ "$(stat -c %a "$conf")" = 600 ]
	! grep -q 'changed by hand' "$ROOT/usr/lib/systemd/system/midox-agent.service" || false
}

@test "uninstall: removes what install put; settings only when unchanged" {
	local conf=$ROOT/etc/midox/agent.conf
	make_install install
	run -0 make_install uninstall
	run -0 installed_files
	[ -z "$output" ]
	[ ! -e "$ROOT/etc/midox" ]
	# Changed settings stay, and say so.
	make_install install
	echo "tunnel_interface = ul0" >> "$conf"
	run -0 make_install uninstall
	[[ "$output" == *"kept $conf: changed since install"* ]]
	run -0 installed_files
	[ "$output" = "644 etc/midox/agent.conf" ]
	# A second uninstall has nothing left to do, and is no error.
	run -0 make_install uninstall
}

@test "install: another PREFIX and SYSCONFDIR fill every path" {
	local unit
	run -0 make_install install PREFIX=/opt/midox SYSCONFDIR=/opt/midox/etc CNI_BINDIR=/usr/lib/cni
	unit=$ROOT/opt/midox/lib/systemd/system/midox-agent.service
	run -0 installed_files
	[ "$output" = "644 opt/midox/etc/midox/agent.conf
644 opt/midox/lib/systemd/system/midox-agent.service
644 opt/midox/share/man/man1/midox.1
644 opt/midox/share/man/man8/midox-agent.8
755 opt/midox/bin/midox
755 opt/midox/sbin/midox-agent
755 usr/lib/cni/midox" ]
	grep -qx 'ExecStart=/opt/midox/sbin/midox-agent --config /opt/midox/etc/midox/agent.conf' "$unit"
	grep -q '^\.B /opt/midox/etc/midox/agent.conf$' "$ROOT/opt/midox/share/man/man8/midox-agent.8"
	run -0 make_install uninstall PREFIX=/opt/midox SYSCONFDIR=/opt/midox/etc CNI_BINDIR=/usr/lib/cni
	run -0 installed_files
	[ -z "$output" ]
}

# The capabilities the unit leaves the agent (CapabilityBoundingSet=, NoNewPrivileges=) are
# enough: the installed agent, run with only those, loads its datapath, takes a binding and
# forwards between two VMs on one host.
@test "install: the installed agent forwards with only the unit's capabilities" {
	local unit=$ROOT/usr/lib/systemd/system/midox-agent.service caps br p1 p2
	make_install install
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
	[ -n "$caps" ]
	grep -qx 'NoNewPrivileges=yes' "$unit"
	# "CAP_BPF CAP_NET_ADMIN" -> "-all,+bpf,+net_admin", as setpriv takes them.
	caps=-all$(for c in $caps; do printf ',+%s' "$(tr 'A-Z' 'a-z' <<<"${c#CAP_}")"; done)
	zk_start "$BATS_TEST_TMPDIR/zk"
	net_init "" "$BATS_TEST_TMPDIR/net"
	CAP_BUILD=$NET_DIR/capbuild
	mkdir -p "$CAP_BUILD"
	ln -s "$MIDOX_BUILD/midox" "$CAP_BUILD/midox"
	cat > "$CAP_BUILD/midox-agent" <<-SH
	#!/bin/sh
	exec setpriv --bounding-set=$caps --inh-caps=-all --no-new-privs \\
		$ROOT/usr/sbin/midox-agent "\$@"
	SH
	chmod +x "$CAP_BUILD/midox-agent"
	net_host_add h1 192.0.2.1
	net_vm_add h1 v1 10.0.0.1/24
	net_vm_add h1 v2 10.0.0.2/24
	MIDOX_BUILD=$CAP_BUILD agent_start h1
	MIDOX_BUILD=$CAP_BUILD agent_wait_ready h1 30
	# The agent runs with the bounding set asked for, nothing more.
	grep -q "^CapBnd:" "/proc/$(agent_pid h1)/status"
	[ "$(sed -n 's/^CapEff:\s*//p' "/proc/$(agent_pid h1)/status")" = \
		"$(sed -n 's/^CapBnd:\s*//p' "/proc/$(agent_pid h1)/status")" ]
	[ "$(sed -n 's/^CapBnd:\s*//p' "/proc/$(agent_pid h1)/status")" != 000001ffffffffff ]
	br=$NET_RUN-b
	mx tunnel-zone create name "$NET_RUN-tz" type vxlan
	mx tunnel-zone "$NET_RUN-tz" add member host "$(agent_name h1)" address 192.0.2.1
	mx bridge create name "$br"
	p1=$(mx bridge "$br" add port)
	p2=$(mx bridge "$br" add port)
	mx host "$(agent_name h1)" add binding port "$p1" interface v1
	mx host "$(agent_name h1)" add binding port "$p2" interface v2
	wait_until 30 ping_ok v1 10.0.0.2
	run -0 net_in v1 ping -c 3 -i 0.2 -W 1 10.0.0.2
	MIDOX_BUILD=$CAP_BUILD agent_stop h1
}
