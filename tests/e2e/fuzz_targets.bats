#!/usr/bin/env bats
# The libFuzzer targets (tests/fuzz, docs/testing.md), each run for FUZZ_SECONDS (default 20)
# from its committed seed corpus, both at once. ok when libFuzzer found no crash, hang, leak or
# sanitizer error; a failure names the input it saved (FUZZ_KEEP=1 keeps every work dir).

setup_file() {
	export MIDOX_BUILD=${MIDOX_BUILD:-$PWD/build}
	export FUZZ_WORK=$(mktemp -d /tmp/midox-fuzz.XXXXXX)
	local t
	for t in fuzz_cli fuzz_codec; do
		mkdir -p "$FUZZ_WORK/$t/new"
		fuzz_start "$t" &
	done
	wait
}

teardown_file() {
	[ -n "${FUZZ_KEEP:-}" ] || [ -e "$FUZZ_WORK/keep" ] || rm -rf "$FUZZ_WORK"
}

# fuzz_start TARGET: run it; its exit status in $FUZZ_WORK/TARGET/rc, its output in .../log.
fuzz_start() {
	local t=$1 dir=$FUZZ_WORK/$1 dict=tests/fuzz/${1#fuzz_}.dict args=()
	[ -e "$dict" ] && args+=(-dict="$dict")
	if [ ! -x "$MIDOX_BUILD/fuzz/$t" ]; then
		echo "missing $MIDOX_BUILD/fuzz/$t (make fuzz)" > "$dir/log"
		echo 127 > "$dir/rc"
		return
	fi
	"$MIDOX_BUILD/fuzz/$t" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" "${args[@]}" \
		"$dir/new" "tests/fuzz/corpus/${t#fuzz_}" > "$dir/log" 2>&1
	echo $? > "$dir/rc"
}

# fuzz_check TARGET: it exited 0; its run count goes to the TAP output.
fuzz_check() {
	local dir=$FUZZ_WORK/$1 runs
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	echo "# $1: ${runs:-0} inputs in ${FUZZ_SECONDS:-20} s" >&3
	if [ "$(cat "$dir/rc")" != 0 ]; then
		touch "$FUZZ_WORK/keep"
		grep -v '^    #\|^  [A-Z]' "$dir/log" | tail -40
		ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null
		return 1
	fi
}

@test "fuzz_cli: the CLI parser and executor (on an in-memory ZooKeeper) survive fuzzing" {
	fuzz_check fuzz_cli
}

@test "fuzz_codec: the ZooKeeper object decoders survive fuzzing and round-trip" {
	fuzz_check fuzz_codec
}
