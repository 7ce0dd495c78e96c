# midox: one Makefile, one rule per artefact. Everything lands in build/.
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   := build
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iloader -Itools/topology -I$(BUILD)
# SAN=1: everything (agent, CLI, tests) built with AddressSanitizer and UndefinedBehavior-
# Sanitizer, in build-san/ unless BUILD is given; `SAN=1 tests/run` tests that build.
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
BPF_CFLAGS := -O2 -g -target bpf -std=gnu11 -Wall -Wextra -Werror -Iinclude -Ibpf -I$(ARCH_INC)

LOADER_LIBS := -lbpf -lelf -lz
TOPO_LIBS   := -lzookeeper_mt -ljansson -lcrypto

BPF_OBJ  := $(BUILD)/bpf/midox.bpf.o
SKEL     := $(BUILD)/midox.skel.h
LOADER   := $(BUILD)/libmidox-loader.a
TOPO     := $(BUILD)/libmidox-topology.a

loader_src   := $(wildcard loader/*.c)
topology_src := $(wildcard tools/topology/*.c)
cli_src      := $(wildcard tools/cli/*.c)
agent_src    := $(wildcard agent/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

BINS := $(BUILD)/midox $(BUILD)/midox-agent $(BUILD)/tests/topo-helper $(BUILD)/tests/zk-put-stdin
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all test unit clean demo
all: $(BPF_OBJ) $(BINS) $(UNIT_TESTS)

$(BPF_OBJ): bpf/midox.bpf.c $(wildcard bpf/lib/*.h) $(wildcard include/midox/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name midox > $@

$(BUILD)/%.o: %.c $(wildcard include/midox/*.h loader/*.h tools/topology/*.h tools/cli/*.h agent/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Loader objects embed the BPF object through its skeleton.
$(filter-out %/log.o,$(call obj,$(loader_src))): $(SKEL)

$(LOADER): $(call obj,$(loader_src))
	$(AR) rcs $@ $^

$(TOPO): $(call obj,$(topology_src))
	$(AR) rcs $@ $^

# The CLI needs only the logger from loader/.
$(BUILD)/midox: $(call obj,$(cli_src)) $(TOPO) $(BUILD)/loader/log.o
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf -ledit

$(BUILD)/midox-agent: $(call obj,$(agent_src)) $(TOPO) $(LOADER)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) $(LOADER_LIBS)

$(BUILD)/tests/test_datapath $(BUILD)/tests/test_fuzz_frames $(BUILD)/tests/test_router: $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LOADER)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LOADER_LIBS)

# The agent's pure computation, tested without ZooKeeper or kernel.
$(BUILD)/tests/test_desired: $(BUILD)/tests/unit/test_desired.o $(BUILD)/agent/desired.o $(BUILD)/agent/index.o $(TOPO) $(BUILD)/loader/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TOPO) $(BUILD)/loader/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf

# The tests' helper: registers hosts and inspects ZooKeeper through the topology library.
$(BUILD)/tests/topo-helper: $(BUILD)/tests/helpers/topo-helper.o $(TOPO) $(BUILD)/loader/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf

test:
	tests/run

demo:
	tools/demo

clean:
	rm -rf $(BUILD)

# The benchmark (tools/bench, docs/benchmarks.md): its XDP programs and three tools.
BENCH_BINS := $(BUILD)/bench/mxbench $(BUILD)/bench/mxbench-cost $(BUILD)/bench/mxbench-topo

$(BUILD)/bench/xdp_bench.bpf.o: tools/bench/xdp_bench.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/xdp_bench.skel.h: $(BUILD)/bench/xdp_bench.bpf.o
	$(BPFTOOL) gen skeleton $< name xdp_bench > $@

$(BUILD)/bench/mxbench: tools/bench/mxbench.c $(BUILD)/bench/xdp_bench.skel.h tests/unit/frames.h
	$(CC) $(CFLAGS) -Itests/unit -I$(BUILD)/bench -o $@ $< $(LOADER_LIBS)

$(BUILD)/bench/mxbench-cost: tools/bench/mxbench-cost.c tests/unit/frames.h tests/unit/dp_net.h $(LOADER)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LOADER) $(LOADER_LIBS)

$(BUILD)/bench/mxbench-topo: tools/bench/mxbench-topo.c $(TOPO) $(BUILD)/loader/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf

.PHONY: bench bench-quick bench-bins
bench-bins: all $(BENCH_BINS)

# Every figure of docs/benchmarks.md, median of 3 runs; bench-quick: fewer and shorter.
bench: bench-bins
	tools/bench/run

bench-quick: bench-bins
	tools/bench/run --quick

# libFuzzer targets (tests/fuzz, docs/testing.md), built with clang and the fuzzer, address
# and undefined sanitizers; their objects are compiled apart, under $(BUILD)/fuzz.
FUZZ_CC      ?= clang-14
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -Iinclude \
		-Iloader -Itools/topology -Itools/cli -Itests/fuzz
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_cli $(BUILD)/fuzz/fuzz_codec
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzz/%.o,$(1))

$(BUILD)/fuzz/%.o: %.c $(wildcard include/midox/*.h loader/*.h tools/topology/*.h tools/cli/*.h tests/fuzz/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/fuzz_codec: $(call fuzz_obj,tests/fuzz/fuzz_codec.c $(topology_src) loader/log.c)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(TOPO_LIBS) -lbpf

$(BUILD)/fuzz/fuzz_cli: $(call fuzz_obj,tests/fuzz/fuzz_cli.c tests/fuzz/fakezk.c $(filter-out tools/cli/main.c,$(cli_src)) $(topology_src) loader/log.c)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(TOPO_LIBS) -lbpf

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS)
all: $(FUZZ_TARGETS)

# Writes a node's data from stdin (values near ZooKeeper's 1 MB limit; tests/e2e/garbage.bats).
$(BUILD)/tests/zk-put-stdin: $(BUILD)/tests/helpers/zk-put-stdin.o $(TOPO) $(BUILD)/loader/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(TOPO_LIBS) -lbpf
