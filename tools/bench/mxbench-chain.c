// SPDX-License-Identifier: Apache-2.0
/* mxbench-chain RUNS: the rule-chain evaluator's cost per packet (bpf/lib/chain.h, through
 * tests/unit/chain_test.bpf.c), with BPF_PROG_TEST_RUN repeat RUNS on one skb (the
 * evaluator changes nothing in the packet), as root. Chains are installed through the
 * compiler (loader/chain.c), as the agent will install them. The frame: UDP 10.0.0.1:40000
 * -> 10.0.0.2:5000, 64 bytes.
 *
 * Cases: "none" (MX_CHAIN_NONE: the branch a device without a chain pays, plus the test
 * program's own input and output map accesses); "empty" (a chain of no rules); "N-header"
 * (N rules, each src 10.0.0.0/24, proto UDP and a dst-port the packet lacks: three tests,
 * the third fails, so every rule is looked at and the chain's end accepts); "N-group" (N
 * rules, each an IP address group the source is not in: one hash lookup each);
 * "1-accept-tcp" (one rule without conditions that accepts) against "1-dnat-tcp" (one
 * static DNAT rule without conditions, a floating IP's, rewriting every run's packet: the
 * IPv4 and TCP checksums updated, bpf/lib/nat.h), both on a TCP frame instead (the same
 * addresses, 74 bytes). Each figure is the median of 3 test runs; "noop" is a program that
 * only returns TC_ACT_OK.
 * Output: "chain CASE NS_RAW NS_NET_OF_NOOP NS_NET_OF_NONE". */
#include "tests/unit/dp_net.h"

#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>

#include "tests/unit/chain_dp.h"
#include "tests/unit/frames.h"
#include "loader/chain.h"
#include "base/log.h"

static struct chain_test *skel;
static struct mx_chain_maps maps;

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

/* As chain_test.bpf.c reads it (no answer). */
struct test_in {
	__u32 chain, in_port, out_port, ingress_port, flags;
	uint8_t answer_mac[6];
	uint16_t answer;
};

static int noop_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mxbench_noop", "GPL", insns, 2, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over 3 test runs of repeat runs: the mean ns per run; -1 on failure. */
static double timed(int fd, __u32 chain, __u32 runs, bool tcp, int *verdict)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .dst = M_B, .src = M_A, .sip = "10.0.0.1",
				 .tip = "10.0.0.2", .payload = 18, .ip_proto = tcp ? 6 : 0 };
	struct test_in in = { chain, 1001, 2001, 1001, MX_CHAIN_IN_FWD_FLOW, { 0 }, 0 };
	uint8_t frame[FRAMES_MAX];
	size_t len = frames_build(&s, frame, M_A, M_B);
	struct __sk_buff ctx = { 0 };
	double ns[3];
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.chain_test_in), &zero, &in, BPF_ANY))
		return -1;
	for (int i = 0; i < 3; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = runs);

		if (bpf_prog_test_run_opts(fd, &opts))
			return -1;
		ns[i] = opts.duration;
		*verdict = (int)opts.retval;
	}
	qsort(ns, 3, sizeof(ns[0]), cmp_double);
	return ns[1];
}

static struct mx_rule_spec rule(__u32 id)
{
	return (struct mx_rule_spec){ .rule_id = id, .type = MX_RULE_DROP,
				      .frag = MX_FRAG_DEFAULT, .jump_to = MX_CHAIN_SPEC_MISSING,
				      .in_ports = MX_CHAIN_SPEC_NO_LIST,
				      .out_ports = MX_CHAIN_SPEC_NO_LIST,
				      .port_group = MX_CHAIN_SPEC_NO_LIST,
				      .in_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .out_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_src = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_dst = MX_CHAIN_SPEC_NO_LIST };
}

enum kind { KIND_HEADER, KIND_GROUP, KIND_ACCEPT, KIND_DNAT };

/* Chain 1 of n rules of kind k, none of which the frame meets. */
static int install(__u32 n, enum kind k)
{
	static struct mx_rule_spec rules[100];
	static __u32 addrs[100];
	static struct mx_chain_list lists[100];
	struct mx_chain_spec c = { 1, rules, n };
	struct mx_chain_program p = { &c, 1, lists, k == KIND_GROUP ? n : 0 };

	for (__u32 i = 0; i < n; i++) {
		rules[i] = rule(i + 1);
		if (k == KIND_ACCEPT) {
			rules[i].type = MX_RULE_ACCEPT;
		} else if (k == KIND_DNAT) {
			rules[i].type = MX_RULE_DNAT;
			rules[i].nat_addr = frames_addr("10.0.0.9");
		} else if (k == KIND_HEADER) {
			rules[i].conds = MX_COND_SRC | MX_COND_PROTO | MX_COND_DST_PORT;
			rules[i].src = frames_addr("10.0.0.0");
			rules[i].src_len = 24;
			rules[i].proto = IPPROTO_UDP;
			rules[i].dport_lo = rules[i].dport_hi = (__u16)(6000 + i);
		} else {
			addrs[i] = htonl(0x0a090000 + i); /* 10.9.0.i */
			lists[i] = (struct mx_chain_list){ &addrs[i], 1 };
			rules[i].conds = MX_COND_IP_GROUP_SRC;
			rules[i].ip_group_src = i;
		}
	}
	return mx_chain_install(&maps, &p);
}

int main(int argc, char **argv)
{
	long runs = argc > 1 ? atol(argv[1]) : 1000000;
	const struct {
		const char *name;
		__u32 chain, n;
		enum kind kind;
	} cases[] = {
		{ "none", MX_CHAIN_NONE, 0, KIND_HEADER }, { "empty", 1, 0, KIND_HEADER },
		{ "1-header", 1, 1, KIND_HEADER },         { "10-header", 1, 10, KIND_HEADER },
		{ "100-header", 1, 100, KIND_HEADER },     { "10-group", 1, 10, KIND_GROUP },
		{ "100-group", 1, 100, KIND_GROUP },       { "1-accept-tcp", 1, 1, KIND_ACCEPT },
		{ "1-dnat-tcp", 1, 1, KIND_DNAT },
	};
	double noop, none = 0;
	int fd, noop_fd, verdict;

	mx_log_init("mxbench-chain", MX_LOG_WARN);
	if (runs < 1 || runs > 100000000 || chain_dp_open(&skel, &maps) ||
	    (noop_fd = noop_prog()) < 0) {
		fprintf(stderr, "mxbench-chain: setup failed (root? usage: mxbench-chain RUNS)\n");
		return 1;
	}
	fd = bpf_program__fd(skel->progs.chain_test);
	noop = timed(noop_fd, MX_CHAIN_NONE, (__u32)runs, false, &verdict);
	printf("chain noop %.1f 0.0 -\n", noop);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool tcp = cases[i].kind >= KIND_ACCEPT;
		int want = cases[i].kind == KIND_DNAT ? MX_CHAIN_V_DNAT : MX_CHAIN_V_ACCEPT;
		double ns;

		if (install(cases[i].n, cases[i].kind)) {
			fprintf(stderr, "mxbench-chain: %s: install failed\n", cases[i].name);
			return 1;
		}
		ns = timed(fd, cases[i].chain, (__u32)runs, tcp, &verdict);
		if (ns < 0 || verdict != want) {
			fprintf(stderr, "mxbench-chain: %s: test run failed (verdict %d)\n",
				cases[i].name, verdict);
			return 1;
		}
		if (!i)
			none = ns;
		printf("chain %s %.1f %.1f %.1f\n", cases[i].name, ns, ns - noop, ns - none);
		fflush(stdout);
	}
	chain_test__destroy(skel);
	return 0;
}
