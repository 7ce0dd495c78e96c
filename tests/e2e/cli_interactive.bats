#!/usr/bin/env bats
# The interactive prompt on a real terminal: a private tmux server runs midox in a pane of
# known size; the test types into it (send-keys) and reads the screen (capture-pane).
# help, help OBJECT, and Tab completion of object types, commands, argument keys, keyword
# values and object names, all from the grammar tables.

bats_require_minimum_version 1.5.0
load ../lib/zk
load ../helpers/cli

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }
setup() {
	command -v tmux >/dev/null || skip "tmux not installed (tools/scripts/install-deps)"
	cli_setup
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
}
teardown() {
	# Only this test's tmux server (its own socket), and with it the midox it runs.
	[ ! -S "$TMUX_SOCK" ] || tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	cli_teardown
}

tm() { tmux -S "$TMUX_SOCK" -f /dev/null "$@"; }
# The whole pane, its scrollback too.
screen() { tm capture-pane -p -J -S -300; }
# wait_screen REGEX: 5 s at most for the screen to show it.
wait_screen() {
	local i
	for i in $(seq 1 50); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	echo "screen never showed '$1':" >&2
	screen >&2
	return 1
}
# The last line holding the prompt (the line being edited).
prompt_line() { screen | grep 'midox> ' | tail -1 | sed 's/ *$//'; }

# start_prompt: midox in a pane whose working directory is $CWD (a file there must never be
# offered by Tab).
start_prompt() {
	CWD=$BATS_TEST_TMPDIR/cwd
	mkdir -p "$CWD"
	tm new-session -d -x 150 -y 60 -c "$CWD" \
		"env MIDOX_ZK_SERVERS=$MIDOX_ZK_SERVERS HOME=$HOME MIDOX_HISTORY=$HOME/history $MIDOX"
	wait_screen '^midox> $'
}

@test "help and help OBJECT at the prompt" {
	start_prompt
	tm send-keys -l 'help'
	tm send-keys Enter
	wait_screen 'references: a UUID'
	screen | grep -q '^  bridge create name B  *a bridge'
	screen | grep -q '^  router R add route \[src S\] dst D \[type normal|blackhole|reject\]'
	tm send-keys -l 'help host'
	tm send-keys Enter
	wait_screen 'host H delete binding interface IF'
	# Only the host's commands after "help host".
	run -0 bash -c "$(declare -f tm screen); TMUX_SOCK=$TMUX_SOCK screen | sed -n '/midox> help host/,\$p'"
	[[ "$output" == *"host H add binding port P interface IF"* ]]
	[[ "$output" != *"bridge create"* ]]
}

@test "a terminal session's commands go into its history file, and come back with Up" {
	start_prompt
	tm send-keys -l 'bridge create name blue'
	tm send-keys Enter
	wait_screen '^bridge0$'
	tm send-keys -l 'quit'
	tm send-keys Enter
	for i in $(seq 1 50); do
		[ -s "$HOME/history" ] && break
		sleep 0.1
	done
	# libedit's history file: spaces written as \040.
	grep -q 'bridge.040create.040name.040blue' "$HOME/history"
	[ ! -e "$HOME/.midox_history" ]
	start_prompt
	tm send-keys Up
	wait_screen '^midox> quit$'
	tm send-keys Up
	wait_screen '^midox> bridge create name blue$'
}

@test "Tab completes an object type, then a command" {
	midox bridge create name blue
	start_prompt
	tm send-keys -l 'bri'
	tm send-keys Tab
	wait_screen '^midox> bridge $'
	tm send-keys -l 'li'
	tm send-keys Tab
	wait_screen '^midox> bridge list $'
	tm send-keys Enter
	wait_screen '^bridge bridge0 name blue state up$'
}

@test "Tab twice lists the choices: a type's commands and its objects' names and aliases" {
	midox bridge create name blue
	midox bridge create name red
	start_prompt
	tm send-keys -l 'bridge '
	tm send-keys Tab Tab
	wait_screen 'bridge1'
	run -0 screen
	for w in create list blue red bridge0 bridge1; do
		[[ "$output" =~ (^|[[:space:]])$w([[:space:]]|$) ]]
	done
	[[ "$output" != *"tunnel-zone"* ]]
}

@test "Tab completes a name, the commands on it, argument keys and values" {
	make_topology
	midox router create name edge
	start_prompt
	tm send-keys -l 'bridge bl'
	tm send-keys Tab
	wait_screen '^midox> bridge blue $'
	tm send-keys -l 'add p'
	tm send-keys Tab
	wait_screen '^midox> bridge blue add port $'
	tm send-keys -l 'ma'
	tm send-keys Tab
	wait_screen '^midox> bridge blue add port mac *$'
	tm send-keys C-u
	# A reference argument: the ports (full aliases) a binding can take.
	tm send-keys -l 'host hosta add binding port bridge0:port'
	tm send-keys Tab Tab
	wait_screen 'bridge0:port1'
	screen | grep -q 'bridge0:port0'
	tm send-keys C-u
	# Keyword values.
	tm send-keys -l 'router edge add route type bl'
	tm send-keys Tab
	wait_screen '^midox> router edge add route type blackhole *$'
	tm send-keys C-u
	# A nested object: the bridge's own ports by their short alias.
	tm send-keys -l 'bridge blue port port1 s'
	tm send-keys Tab
	wait_screen '^midox> bridge blue port port1 s(et|how)?'
	tm send-keys -l 'ho'
	tm send-keys Tab
	wait_screen '^midox> bridge blue port port1 show *$'
	tm send-keys Enter
	wait_screen '^port port1 id [0-9a-f-]{36} device bridge0 state up'
}

@test "Tab offers nothing for an unknown name and prints no error over the line" {
	start_prompt
	tm send-keys -l 'bridge nosuch '
	tm send-keys Tab Tab
	sleep 0.5
	run -0 screen
	[[ "$output" != *"error"* ]]
	[ "$(prompt_line)" = "midox> bridge nosuch" ]
}

@test "Ctrl-C clears the line and the session goes on; Ctrl-D leaves" {
	start_prompt
	tm send-keys -l 'bridge create name blue'
	wait_screen '^midox> bridge create name blue$'
	tm send-keys C-c
	# the line erased (its cells cleared, so no trailing space to capture)
	wait_screen '^midox> *$'
	[ "$(prompt_line)" = "midox>" ]
	tm send-keys -l 'bridge create name red'
	tm send-keys Enter
	wait_screen '^bridge0$'
	# the line cleared was never run
	run -0 midox bridge list
	[ "$output" = "bridge bridge0 name red state up" ]
	local pid
	pid=$(tm display-message -p '#{pane_pid}')
	tm send-keys C-d
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || false
}

@test "each line goes into the history file as it is entered: a killed session keeps it" {
	start_prompt
	tm send-keys -l 'bridge create name blue'
	tm send-keys Enter
	wait_screen '^bridge0$'
	tm send-keys -l 'help host'
	tm send-keys Enter
	wait_screen 'host H delete binding interface IF'
	# libedit's format, each line once
	[ "$(cat "$HOME/history")" = "$(printf '_HiStOrY_V2_\nbridge\\040create\\040name\\040blue\nhelp\\040host')" ]
	# the session's own PID (env execs midox), killed: nothing written at exit
	kill -9 "$(tm display-message -p '#{pane_pid}')"
	grep -q '^help.040host$' "$HOME/history"
	# the pane's end ends its session and then the server: a new session started before
	# that server is gone talks to a dying server ("server exited unexpectedly")
	local i
	for i in $(seq 1 50); do
		tm list-sessions 2>&1 | grep -qE 'no server running|error connecting' && break
		sleep 0.1
	done
	tm list-sessions 2>&1 | grep -qE 'no server running|error connecting'
	start_prompt
	tm send-keys Up
	wait_screen '^midox> help host$'
}

@test "Tab never offers file names, after a full command either" {
	midox bridge create name blue
	start_prompt
	touch "$CWD/bridge-file" "$CWD/blue-file" "$CWD/list-file" "$CWD/help-file"
	tm send-keys -l 'bri'
	tm send-keys Tab
	wait_screen '^midox> bridge $'
	tm send-keys C-u
	local line
	for line in '' 'bridge ' 'bridge list ' 'bridge blue show ' 'help ' 'help bridge ' \
		'quit ' 'bridge blue add port mac ' 'nosuch '; do
		tm send-keys -l "$line"
		tm send-keys Tab Tab
		sleep 0.3
		tm send-keys C-u
	done
	sleep 0.3
	run -0 screen
	[[ "$output" != *"-file"* ]]
}
