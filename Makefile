# midox: one Makefile, one rule per artefact. Everything lands in build/.
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   := build
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iloader -Itools/topology -I$(BUILD)
BPF_CFLAGS := -O2 -g -target bpf -std=gnu11 -Wall -Wextra -Werror -Iinclude -Ibpf -I$(ARCH_INC)

LOADER_LIBS := -lbpf -lelf -lz
TOPO_LIBS   := -lzookeeper_mt -ljansson

BPF_OBJ  := $(BUILD)/bpf/midox.bpf.o
SKEL     := $(BUILD)/midox.skel.h
LOADER   := $(BUILD)/libmidox-loader.a
TOPO     := $(BUILD)/libmidox-topology.a

loader_src   := $(wildcard loader/*.c)
topology_src := $(wildcard tools/topology/*.c)
cli_src      := $(wildcard tools/cli/*.c)
agent_src    := $(wildcard agent/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

BINS := $(BUILD)/midox $(BUILD)/midox-agent $(BUILD)/tests/topo-helper
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all test unit clean demo
all: $(BPF_OBJ) $(BINS) $(UNIT_TESTS)

$(BPF_OBJ): bpf/midox.bpf.c $(wildcard bpf/lib/*.h) $(wildcard include/midox/*.h)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name midox > $@

$(BUILD)/%.o: %.c $(wildcard include/midox/*.h loader/*.h tools/topology/*.h)
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

$(BUILD)/tests/test_datapath: $(BUILD)/tests/unit/test_datapath.o $(LOADER)
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
