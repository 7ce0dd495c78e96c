# midox: one Makefile, one rule per artefact. Everything lands in build/.
#
# Libraries (each a .a, linked by the programs and tests that need them):
#   tools/lib/base      logger, files, clock, addresses       depends on libc only
#   tools/lib/topology  the ZooKeeper object model            base, ZooKeeper, jansson
#   loader              the datapath's life cycle and maps    base, libbpf (embeds bpf/)
# Programs: agent/ (midox-agent), tools/cmd/midox (midox), tools/cmd/midox-cni (midox-cni, the
# CNI plugin). Developer tools: tools/bench.
# make install / make uninstall: the programs, settings, unit and man pages (tools/dist/).
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   := build
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

# Includes name their folder: "midox/port.h" (the ABI), "base/log.h", "topology/topology.h",
# "loader/loader.h", "agent/desired.h".
INCLUDES := -Iinclude -I. -Itools/lib -I$(BUILD)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -MMD -MP $(INCLUDES)
# SAN=1: everything (agent, CLI, tests) built with AddressSanitizer and UndefinedBehavior-
# Sanitizer, in build-san/ unless BUILD is given; `SAN=1 tests/run` tests that build.
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif
BPF_CFLAGS := -O2 -g -target bpf -std=gnu11 -Wall -Wextra -Werror -MMD -MP -Iinclude -Ibpf \
	      -I$(ARCH_INC)

LOADER_LIBS := -lbpf -lelf -lz
TOPO_LIBS   := -lzookeeper_mt -ljansson -lcrypto

BPF_OBJ  := $(BUILD)/bpf/midox.bpf.o
SKEL     := $(BUILD)/midox.skel.h
BASE     := $(BUILD)/libmidox-base.a
TOPO     := $(BUILD)/libmidox-topology.a
LOADER   := $(BUILD)/libmidox-loader.a

base_src     := $(wildcard tools/lib/base/*.c)
topology_src := $(wildcard tools/lib/topology/*.c)
loader_src   := $(wildcard loader/*.c)
cli_src      := $(wildcard tools/cmd/midox/*.c)
cni_src      := $(wildcard tools/cmd/midox-cni/*.c)
agent_src    := $(wildcard agent/*.c agent/bgp/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

BINS := $(BUILD)/midox $(BUILD)/midox-agent $(BUILD)/midox-cni $(BUILD)/tests/topo-helper $(BUILD)/tests/zk-put-stdin
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

.DELETE_ON_ERROR:
# Objects made on the way (a test's .o) are kept: a second make rebuilds nothing.
.SECONDARY:
.PHONY: all test unit clean demo
all: $(BPF_OBJ) $(BINS) $(UNIT_TESTS)

$(BPF_OBJ): bpf/midox.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name midox > $@

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Loader objects embed the BPF object through its skeleton.
$(call obj,$(loader_src)): $(SKEL)
# test_progpin writes the embedded object out as another build's.
$(BUILD)/tests/unit/test_progpin.o: $(SKEL)

$(BASE): $(call obj,$(base_src))
	$(AR) rcs $@ $^

$(TOPO): $(call obj,$(topology_src))
	$(AR) rcs $@ $^

$(LOADER): $(call obj,$(loader_src))
	$(AR) rcs $@ $^

# Link lines: a library before what it depends on.
LINK_TOPO   := $(TOPO) $(BASE) $(TOPO_LIBS)
LINK_LOADER := $(LOADER) $(BASE) $(LOADER_LIBS)

# --version: a VERSION file, else `git describe`, else a fixed string (a tarball). The
# header is rewritten only when the version changed, so only the mains rebuild. `make
# install` and `uninstall` do not look: they install what was built, with the version it
# was built with (a tree made dirty since would relink both, as root, in build/).
MIDOX_VERSION := $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo 0.1-unknown)
INSTALL_ONLY := $(and $(MAKECMDGOALS),$(if $(filter-out install uninstall,$(MAKECMDGOALS)),,yes))
ifeq ($(INSTALL_ONLY),)
$(BUILD)/version.h: FORCE
endif
$(BUILD)/version.h:
	@mkdir -p $(@D)
	@echo '#define MIDOX_VERSION "$(MIDOX_VERSION)"' | cmp -s - $@ || \
		echo '#define MIDOX_VERSION "$(MIDOX_VERSION)"' > $@
$(BUILD)/tools/cmd/midox/main.o $(BUILD)/agent/main.o $(BUILD)/agent/metrics.o \
	$(BUILD)/tools/cmd/midox-cni/main.o: $(BUILD)/version.h
.PHONY: FORCE
FORCE:

# The CLI reads the pinned maps (midox datapath) through the loader's map table and pinned
# reader only: the linker takes those objects of the archive, not the BPF object.
$(BUILD)/midox: $(call obj,$(cli_src)) $(TOPO) $(LOADER) $(BASE)
	$(CC) $(CFLAGS) -o $@ $(call obj,$(cli_src)) $(TOPO) $(LINK_LOADER) $(TOPO_LIBS) -ledit

# The plugin's CHECK reads the agent's pinned maps, as the CLI does.
$(BUILD)/midox-cni: $(call obj,$(cni_src)) $(TOPO) $(LOADER) $(BASE)
	$(CC) $(CFLAGS) -o $@ $(call obj,$(cni_src)) $(TOPO) $(LINK_LOADER) $(TOPO_LIBS)

$(BUILD)/midox-agent: $(call obj,$(agent_src)) $(TOPO) $(LOADER) $(BASE)
	$(CC) $(CFLAGS) -o $@ $(call obj,$(agent_src)) $(TOPO) $(LINK_LOADER) $(TOPO_LIBS)

# Datapath tests: the BPF object through the loader.
DP_TESTS := $(BUILD)/tests/test_datapath $(BUILD)/tests/test_fuzz_frames $(BUILD)/tests/test_router \
	    $(BUILD)/tests/test_bgp_dp $(BUILD)/tests/test_ratelimit \
	    $(BUILD)/tests/test_map_table $(BUILD)/tests/test_chain $(BUILD)/tests/test_conntrack \
	    $(BUILD)/tests/test_progpin $(BUILD)/tests/test_flowstate
$(DP_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LOADER)

# The agent's counter slots (agent/slots.c) over real pinned maps.
SLOTS_OBJ := $(call obj,agent/slots.c)
$(BUILD)/tests/test_slots: $(BUILD)/tests/unit/test_slots.o $(SLOTS_OBJ) $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(SLOTS_OBJ) $(LINK_LOADER)

# The rule-chain evaluator alone (bpf/lib/chain.h, not yet in the pipeline): a test program
# with a skeleton of its own, for test_chain and the benchmark's mxbench-chain.
CHAIN_TEST_OBJ := $(BUILD)/tests/chain_test.bpf.o
$(CHAIN_TEST_OBJ): tests/unit/chain_test.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/chain_test.skel.h: $(CHAIN_TEST_OBJ)
	$(BPFTOOL) gen skeleton $< name chain_test > $@

$(BUILD)/tests/unit/test_chain.o $(BUILD)/tools/bench/mxbench-chain.o: $(BUILD)/tests/chain_test.skel.h

# Connection tracking alone (bpf/lib/conntrack.h, not yet in the pipeline): a test program
# with a skeleton of its own, for test_conntrack and the benchmark's mxbench-ct.
CT_TEST_OBJ := $(BUILD)/tests/ct_test.bpf.o
$(CT_TEST_OBJ): tests/unit/ct_test.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/ct_test.skel.h: $(CT_TEST_OBJ)
	$(BPFTOOL) gen skeleton $< name ct_test > $@

$(BUILD)/tests/unit/test_conntrack.o $(BUILD)/tools/bench/mxbench-ct.o: $(BUILD)/tests/ct_test.skel.h

# Flow state across hosts (bpf/lib/flowstate*.h): conntrack and the encapsulation and
# decapsulation it rides in, loaded twice as two hosts, for test_flowstate (and once, for
# the benchmark's mxbench-fs).
FS_TEST_OBJ := $(BUILD)/tests/fs_test.bpf.o
$(FS_TEST_OBJ): tests/unit/fs_test.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/tests/fs_test.skel.h: $(FS_TEST_OBJ)
	$(BPFTOOL) gen skeleton $< name fs_test > $@

$(BUILD)/tests/unit/test_flowstate.o $(BUILD)/tools/bench/mxbench-fs.o: $(BUILD)/tests/fs_test.skel.h

# The agent's translation of its resolved chains, installed and evaluated through the same
# test program.
CHAIN_COMPILE_OBJ := $(call obj,agent/chain_compile.c agent/filters.c)
$(BUILD)/tests/unit/test_chain_compile.o: $(BUILD)/tests/chain_test.skel.h
$(BUILD)/tests/test_chain_compile: $(BUILD)/tests/unit/test_chain_compile.o $(CHAIN_COMPILE_OBJ) $(TOPO) $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(CHAIN_COMPILE_OBJ) $(TOPO) $(LINK_LOADER) $(TOPO_LIBS)

# The agent's pure computation, tested without ZooKeeper or kernel (the map table, which
# calls no libbpf, gives it the maps' sizes).
DESIRED_OBJ := $(call obj,agent/desired.c agent/filters.c agent/bgp/plan.c loader/map_table.c loader/chain_ids.c)
$(BUILD)/tests/test_desired: $(BUILD)/tests/unit/test_desired.o $(DESIRED_OBJ) $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(DESIRED_OBJ) $(LINK_TOPO)

# The agent's BGP speakers: which ports want one, BIRD's configuration for it (checked
# with the real `bird -p`), how its "show protocols" reads.
BGP_CONF_OBJ := $(call obj,agent/bgp/plan.c agent/bgp/conf.c agent/bgp/status.c agent/bgp/auth.c)
$(BUILD)/tests/test_bgp_conf: $(BUILD)/tests/unit/test_bgp_conf.o $(BGP_CONF_OBJ) $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BGP_CONF_OBJ) $(LINK_TOPO)

# The agent's published set of learned routes and its queue of writes (no ZooKeeper).
BGP_PUBLISH_OBJ := $(call obj,agent/bgp/publish.c)
$(BUILD)/tests/test_bgp_publish: $(BUILD)/tests/unit/test_bgp_publish.o $(BGP_PUBLISH_OBJ) $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BGP_PUBLISH_OBJ) $(LINK_TOPO)

# The agent's HTTP server: its request and address parsing (over sockets: tests/e2e/metrics.bats).
HTTP_OBJ := $(call obj,agent/http.c)
$(BUILD)/tests/test_http: $(BUILD)/tests/unit/test_http.o $(HTTP_OBJ) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(HTTP_OBJ) $(BASE)

# The agent's interface-name cache, its kernel question counted by the test's own
# if_nametoindex.
IFNAMES_OBJ := $(call obj,agent/ifnames.c)
$(BUILD)/tests/test_ifnames: $(BUILD)/tests/unit/test_ifnames.o $(IFNAMES_OBJ) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(IFNAMES_OBJ) $(BASE)

# Dynamic SNAT's lease policy (pure) and the lease nodes' encoding (no ZooKeeper).
NATLEASE_OBJ := $(call obj,agent/natlease_policy.c)
$(BUILD)/tests/test_natlease: $(BUILD)/tests/unit/test_natlease.o $(NATLEASE_OBJ) $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(NATLEASE_OBJ) $(LINK_TOPO)

# midox-cni's node blocks and configuration (no ZooKeeper): the plugin's objects but its main,
# whose error recorder the test provides.
CNI_LIB_OBJ := $(call obj,$(filter-out tools/cmd/midox-cni/main.c,$(cni_src)))
$(BUILD)/tests/test_cni_block: $(BUILD)/tests/unit/test_cni_block.o $(CNI_LIB_OBJ) $(TOPO) $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(CNI_LIB_OBJ) $(TOPO) $(LINK_LOADER) $(TOPO_LIBS)

# The rest: the object model (and the base library).
$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_TOPO)

# The tests' helpers: register hosts and inspect ZooKeeper through the object model; write a
# node's data from stdin (values near ZooKeeper's 1 MB limit; tests/e2e/garbage.bats).
$(BUILD)/tests/topo-helper $(BUILD)/tests/zk-put-stdin: $(BUILD)/tests/%: $(BUILD)/tests/helpers/%.o $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_TOPO)

test:
	tests/run

demo:
	tools/scripts/demo

clean:
	rm -rf $(BUILD)

# make install: the three programs (the CNI plugin as $(CNI_BINDIR)/midox), the agent's default settings, its systemd unit and the man
# pages (sources in tools/dist/, paths filled in here: nothing is written to the source tree
# and nothing rebuilt that `make` built). DESTDIR is prepended to every path, not filled in.
# The BPF object is embedded in the agent (the skeleton): nothing else to install.
# SYSTEMDUNITDIR: systemd reads units from /usr/local/lib/systemd/system and
# /usr/lib/systemd/system (on Debian 12 /lib is /usr/lib); a package passes
# SYSTEMDUNITDIR=$$(pkg-config --variable=systemdsystemunitdir systemd).
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# The CNI plugin goes where runtimes look by default, named as its conflist's "type" says;
# CNI_BINDIR=/usr/lib/cni for Debian's layout (containernetworking-plugins' folder).
CNI_BINDIR     ?= /opt/cni/bin
AGENT_CONF     := $(SYSCONFDIR)/midox/agent.conf
DIST_SUBST     := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
		  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@SYSTEMDUNITDIR@|$(SYSTEMDUNITDIR)|g'
# One tools/dist/ source, substituted, to one installed file of mode 0644.
dist_put = $(DIST_SUBST) tools/dist/$(1) > $(DESTDIR)$(2) && chmod 0644 $(DESTDIR)$(2)

.PHONY: install uninstall
install: $(BUILD)/midox $(BUILD)/midox-agent $(BUILD)/midox-cni
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/midox \
		$(DESTDIR)$(CNI_BINDIR)
	install -m 0755 $(BUILD)/midox $(DESTDIR)$(BINDIR)/midox
	install -m 0755 $(BUILD)/midox-agent $(DESTDIR)$(SBINDIR)/midox-agent
	install -m 0755 $(BUILD)/midox-cni $(DESTDIR)$(CNI_BINDIR)/midox
	$(call dist_put,midox-agent.service.in,$(SYSTEMDUNITDIR)/midox-agent.service)
	$(call dist_put,midox.1.in,$(MANDIR)/man1/midox.1)
	$(call dist_put,midox-agent.8.in,$(MANDIR)/man8/midox-agent.8)
	@# The operator's settings are theirs: never overwritten.
	@if [ -e $(DESTDIR)$(AGENT_CONF) ]; then \
		echo "kept $(DESTDIR)$(AGENT_CONF)"; \
	else \
		$(call dist_put,agent.conf.in,$(AGENT_CONF)) && \
		echo "installed $(DESTDIR)$(AGENT_CONF)"; \
	fi

# The settings go only while they are the default as installed; changed, they stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/midox $(DESTDIR)$(SBINDIR)/midox-agent $(DESTDIR)$(CNI_BINDIR)/midox \
		$(DESTDIR)$(SYSTEMDUNITDIR)/midox-agent.service \
		$(DESTDIR)$(MANDIR)/man1/midox.1 $(DESTDIR)$(MANDIR)/man8/midox-agent.8
	@if [ -e $(DESTDIR)$(AGENT_CONF) ]; then \
		if $(DIST_SUBST) tools/dist/agent.conf.in | cmp -s - $(DESTDIR)$(AGENT_CONF); then \
			echo "rm -f $(DESTDIR)$(AGENT_CONF)"; rm -f $(DESTDIR)$(AGENT_CONF); \
		else \
			echo "kept $(DESTDIR)$(AGENT_CONF): changed since install"; \
		fi; \
	fi
	@rmdir $(DESTDIR)$(SYSCONFDIR)/midox 2>/dev/null || true

# The benchmark (tools/bench, docs/benchmarks.md): its XDP and tc programs and its tools.
BENCH_BINS := $(BUILD)/bench/mxbench $(BUILD)/bench/mxbench-cost $(BUILD)/bench/mxbench-topo \
	      $(BUILD)/bench/mxbench-chain $(BUILD)/bench/mxbench-ct $(BUILD)/bench/mxbench-fs \
	      $(BUILD)/bench/mxbench-conn $(BUILD)/bench/mxbench-verify

# mxbench-conn (new TCP connections per second), mxbench-cost (the per-packet cost) and
# mxbench-verify (what the verifier walks) have tests of their own (tests/e2e/bench_conn.bats,
# bench_cost.bats, bench_verify.bats): `all` builds them, as the test run builds `all`.
all: $(BUILD)/bench/mxbench-conn $(BUILD)/bench/mxbench-cost $(BUILD)/bench/mxbench-verify

$(BUILD)/bench/xdp_bench.bpf.o: tools/bench/xdp_bench.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/xdp_bench.skel.h: $(BUILD)/bench/xdp_bench.bpf.o
	$(BPFTOOL) gen skeleton $< name xdp_bench > $@

$(BUILD)/bench/tc_bench.bpf.o: tools/bench/tc_bench.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/tc_bench.skel.h: $(BUILD)/bench/tc_bench.bpf.o
	$(BPFTOOL) gen skeleton $< name tc_bench > $@

$(BUILD)/tools/bench/mxbench.o: $(BUILD)/bench/xdp_bench.skel.h $(BUILD)/bench/tc_bench.skel.h

$(BUILD)/bench/mxbench: $(BUILD)/tools/bench/mxbench.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LOADER_LIBS)

$(BUILD)/bench/mxbench-cost: $(BUILD)/tools/bench/mxbench-cost.o $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LOADER)

$(BUILD)/bench/mxbench-chain: $(BUILD)/tools/bench/mxbench-chain.o $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LOADER)

$(BUILD)/bench/mxbench-ct: $(BUILD)/tools/bench/mxbench-ct.o $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LOADER)

$(BUILD)/bench/mxbench-fs: $(BUILD)/tools/bench/mxbench-fs.o $(LOADER) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_LOADER)

# mxbench-verify loads the agent's own object (the skeleton's) to count what the verifier walks.
$(BUILD)/tools/bench/mxbench-verify.o: $(SKEL)

$(BUILD)/bench/mxbench-verify: $(BUILD)/tools/bench/mxbench-verify.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LOADER_LIBS)

$(BUILD)/bench/mxbench-conn: $(BUILD)/tools/bench/mxbench-conn.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

$(BUILD)/bench/mxbench-topo: $(BUILD)/tools/bench/mxbench-topo.o $(TOPO) $(BASE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LINK_TOPO)

.PHONY: bench bench-quick bench-bins
bench-bins: all $(BENCH_BINS)

# Every figure of docs/benchmarks.md, median of 3 runs; bench-quick: fewer and shorter.
bench: bench-bins
	tools/bench/run

bench-quick: bench-bins
	tools/bench/run --quick

# libFuzzer targets (tests/fuzz, docs/testing.md): not part of `all` (they need clang-14 and
# its runtime); tests/run builds them. Built with the fuzzer, address and undefined
# sanitizers; their objects are compiled apart, under $(BUILD)/fuzz.
FUZZ_CC      ?= clang-14
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -MMD -MP \
		$(INCLUDES)
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_cli $(BUILD)/fuzz/fuzz_codec
fuzz_obj = $(patsubst %.c,$(BUILD)/fuzz/%.o,$(1))

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/fuzz_codec: $(call fuzz_obj,tests/fuzz/fuzz_codec.c $(topology_src) $(base_src))
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(TOPO_LIBS)

FUZZ_CLI_LOADER := $(loader_src)
$(call fuzz_obj,$(FUZZ_CLI_LOADER)): $(SKEL) $(CHAIN_MAPS_SKEL)
$(BUILD)/fuzz/fuzz_cli: $(call fuzz_obj,tests/fuzz/fuzz_cli.c tests/fuzz/fakezk.c $(filter-out tools/cmd/midox/main.c,$(cli_src)) $(FUZZ_CLI_LOADER) $(topology_src) $(base_src))
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(TOPO_LIBS) $(LOADER_LIBS)

.PHONY: fuzz
fuzz: $(FUZZ_TARGETS)

# Generated header dependencies (-MMD -MP): a changed header rebuilds what includes it.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
