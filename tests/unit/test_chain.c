// SPDX-License-Identifier: Apache-2.0
/* The rule-chain evaluator (bpf/lib/chain.h) and its compiler (loader/chain.c): chains
 * installed through mx_chain_install as the agent will install them, crafted frames run
 * through tests/unit/chain_test.bpf.c with BPF_PROG_TEST_RUN, the verdict and the deciding
 * rule checked, and the rules' counters read back. Every rule type, every condition with
 * and without inversion (and on packets that lack its field), jump, return, the depth
 * limit, loops, missing targets, the step budget, fragment policies, counters across
 * recompiles, the compiler's refusals and its all-or-nothing install. TAP output. */
#include "dp_net.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "chain_dp.h"
#include "frames.h"
#include "nat_frames.h"
#include "loader/chain.h"
#include "base/log.h"
#include "tap.h"

static struct chain_test *skel;
static struct mx_chain_maps maps;

/* The evaluation's inputs as chain_test.bpf.c reads them. */
struct test_in {
	__u32 chain;
	__u32 in_port, out_port, ingress_port, flags;
	uint8_t answer_mac[6];
	uint16_t answer;
};

struct verdict {
	__u8 kind, flags;
	__u16 pad;
	__u32 rule;
};

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t M_C[6] = { 0x04, 0, 0, 0, 0, 0x0c };
static const uint8_t M_R[6] = { 0x02, 0, 0, 0, 0, 0x0e }; /* the RST's source */

enum { IN_A = 1001, IN_B = 1002, OUT_A = 2001, OUT_B = 2002 };

/* A test packet: a frame and the evaluation's inputs. */
struct tpkt {
	struct frames_spec f;
	uint8_t tos;
	bool tcp;              /* TCP with sport/dport (frames.h's TCP has ports 0) */
	uint16_t sport, dport; /* TCP, or UDP when not 0 */
	uint8_t tcp_flags;     /* TCP: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 */
	uint32_t seq, ack;
	__u32 in_port, out_port, ingress_port, flags;
};

/* The default packet: UDP 10.0.0.1:40000 -> 10.0.0.2:5000 from M_A to M_B, in by IN_A,
 * out by OUT_A, a forward flow. */
static struct tpkt pkt(void)
{
	return (struct tpkt){ .f = { .kind = FRAMES_IPV4, .dst = M_B, .src = M_A,
				     .sip = "10.0.0.1", .tip = "10.0.0.2", .payload = 18 },
			      .in_port = IN_A, .out_port = OUT_A, .ingress_port = IN_A,
			      .flags = MX_CHAIN_IN_FWD_FLOW };
}

static size_t build(const struct tpkt *t, uint8_t *buf)
{
	struct frames_spec f = t->f;
	size_t len;
	uint8_t *ip = buf + FRAMES_ETH_HLEN, *l4;

	if (t->tcp)
		f.ip_proto = IPPROTO_TCP;
	len = frames_build(&f, buf, M_A, M_B);
	if (f.kind != FRAMES_IPV4)
		return len;
	l4 = ip + (ip[0] & 0xf) * 4;
	if (t->tcp || t->sport)
		frames_put16(l4, t->sport);
	if (t->tcp || t->dport)
		frames_put16(l4 + 2, t->dport);
	if (t->tcp) {
		frames_put32(l4 + 4, t->seq);
		frames_put32(l4 + 8, t->ack);
		l4[12] = 0x50; /* 5 words, no options */
		l4[13] = t->tcp_flags;
	}
	if (t->tos) {
		ip[1] = t->tos;
		frames_put16(ip + 10, 0);
		frames_put16(ip + 10, frames_csum(ip, (ip[0] & 0xf) * 4));
	}
	return len;
}

/* Run packet t through chain; the verdict into *v; with answer, the output frame into out
 * (*out_len) and the run's return value into *ret. 0 or -errno. */
static int run_answer(__u32 chain, const struct tpkt *t, struct verdict *v, bool answer,
		      uint8_t *out, size_t *out_len, int *ret)
{
	struct test_in in = { chain,   t->in_port, t->out_port, t->ingress_port,
			      t->flags, { 0 },      answer };
	uint8_t frame[FRAMES_MAX];
	struct __sk_buff ctx = { 0 };
	size_t len = build(t, frame);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = FRAMES_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	__u32 zero = 0;
	int err;

	memcpy(in.answer_mac, M_R, 6);

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.chain_test_in), &zero, &in, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.chain_test), &opts);
	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.chain_test_out), &zero, v))
		return -errno;
	*out_len = opts.data_size_out;
	*ret = (int)opts.retval;
	return 0;
}

static int run(__u32 chain, const struct tpkt *t, struct verdict *v)
{
	uint8_t out[FRAMES_MAX];
	size_t out_len;
	int ret, err = run_answer(chain, t, v, false, out, &out_len, &ret);

	return err ? err : ret != v->kind ? -EPROTO : 0;
}

/* The rule_id of the rule at index idx of midox_chrule (0 when unreadable). */
static __u32 rule_id_at(__u32 idx)
{
	struct mx_chain_rule r;

	return bpf_map_lookup_elem(maps.rule, &idx, &r) ? 0 : r.rule_id;
}

static const char *const verdict_names[] = { "accept", "drop", "reject", "snat", "dnat",
					     "rev_snat", "rev_dnat", "too-long" };

static const char *vname(unsigned int k)
{
	return k < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[k] : "?";
}

/* Run t through chain and check the verdict kind and, when rule_id is not 0, the rule that
 * decided it. */
static bool expect(__u32 chain, const struct tpkt *t, __u8 kind, __u32 rule_id, const char *what)
{
	struct verdict v = { 0 };
	char why[160] = "";
	int err = run(chain, t, &v);
	bool ok = !err && v.kind == kind && (!rule_id || rule_id_at(v.rule) == rule_id);

	if (err)
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-err));
	else if (!ok)
		snprintf(why, sizeof(why), "verdict %s by rule %u, want %s by rule %u",
			 vname(v.kind), rule_id_at(v.rule), vname(kind), rule_id);
	return tap_check(ok, why, "%s: %s", what, vname(kind));
}

/* ---- programs ---- */

/* A rule with nothing set: no conditions, no lists. */
static struct mx_rule_spec rule(__u32 id, __u8 type)
{
	return (struct mx_rule_spec){ .rule_id = id, .type = type, .frag = MX_FRAG_DEFAULT,
				      .jump_to = MX_CHAIN_SPEC_MISSING,
				      .in_ports = MX_CHAIN_SPEC_NO_LIST,
				      .out_ports = MX_CHAIN_SPEC_NO_LIST,
				      .port_group = MX_CHAIN_SPEC_NO_LIST,
				      .in_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .out_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_src = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_dst = MX_CHAIN_SPEC_NO_LIST };
}

static struct mx_rule_spec jump(__u32 id, __u32 to)
{
	struct mx_rule_spec r = rule(id, MX_RULE_JUMP);

	r.jump_to = to;
	return r;
}

/* The lists every condition test uses. */
static const __u32 L_IN_PORTS[] = { IN_A, 1003 };
static const __u32 L_OUT_PORTS[] = { OUT_A };
static __u32 L_ADDRS_SRC[2], L_ADDRS_DST[1];
enum { LIST_IN_PORTS, LIST_OUT_PORTS, LIST_ADDRS_SRC, LIST_ADDRS_DST, LIST__N };
static const struct mx_chain_list lists[LIST__N] = {
	[LIST_IN_PORTS] = { L_IN_PORTS, 2 },
	[LIST_OUT_PORTS] = { L_OUT_PORTS, 1 },
	[LIST_ADDRS_SRC] = { L_ADDRS_SRC, 2 },
	[LIST_ADDRS_DST] = { L_ADDRS_DST, 1 },
};

/* Install chains (n of them) with the common lists; 0 or -errno. */
static int install(const struct mx_chain_spec *chains, __u32 n)
{
	struct mx_chain_program p = { chains, n, lists, LIST__N };

	return mx_chain_install(&maps, &p);
}

/* One chain, id 1, of n rules. */
static int install1(const struct mx_rule_spec *rules, __u32 n)
{
	struct mx_chain_spec c = { 1, rules, n };

	return install(&c, 1);
}

/* ---- conditions ---- */

struct cond_case {
	const char *name;
	struct mx_rule_spec r; /* its conditions; made a drop rule, inverted or not */
	__u32 inv;             /* the conditions inverted (0: all of them) */
	struct tpkt hit, miss; /* a packet the condition holds for, and one it does not */
};

#define CASE(n, setup, hit_setup, miss_setup)                                               \
	do {                                                                                 \
		struct cond_case c = { .name = n, .r = rule(10, MX_RULE_DROP), .hit = pkt(),  \
				       .miss = pkt() };                                      \
		struct mx_rule_spec *r = &c.r;                                               \
		struct tpkt *hit = &c.hit, *miss = &c.miss;                                  \
		(void)hit, (void)miss;                                                       \
		setup;                                                                       \
		hit_setup;                                                                   \
		miss_setup;                                                                  \
		cond_run(&c);                                                                \
	} while (0)

/* The condition as a drop rule before an accepting chain end: the packet it holds for is
 * dropped and the other accepted; inverted, the other way round. */
static void cond_run(const struct cond_case *c)
{
	for (int inv = 0; inv < 2; inv++) {
		struct mx_rule_spec r = c->r;
		char what[96];

		r.inv = inv ? (c->inv ? c->inv : r.conds) : 0;
		if (!tap_ok(install1(&r, 1) == 0, "%s%s: installed", inv ? "!" : "", c->name))
			continue;
		snprintf(what, sizeof(what), "%s%s, a packet it holds for", inv ? "!" : "", c->name);
		expect(1, &c->hit, inv ? MX_CHAIN_V_ACCEPT : MX_CHAIN_V_DROP, inv ? 0 : 10, what);
		snprintf(what, sizeof(what), "%s%s, a packet it fails", inv ? "!" : "", c->name);
		expect(1, &c->miss, inv ? MX_CHAIN_V_DROP : MX_CHAIN_V_ACCEPT, inv ? 10 : 0, what);
	}
}

static void test_conditions(void)
{
	static const uint8_t OUI[6] = { 0x02, 0, 0, 0, 0, 0 }, OUI_MASK[6] = { 0xff, 0xff, 0xff };

	CASE("hw-src", (r->conds = MX_COND_HW_SRC, memcpy(r->hw_src, M_A, 6)), (void)0,
	     miss->f.src = M_C);
	CASE("hw-src masked to the OUI",
	     (r->conds = MX_COND_HW_SRC, memcpy(r->hw_src, OUI, 6),
	      memcpy(r->hw_src_mask, OUI_MASK, 6)),
	     (void)0, miss->f.src = M_C);
	CASE("hw-dst", (r->conds = MX_COND_HW_DST, memcpy(r->hw_dst, M_B, 6)), (void)0,
	     miss->f.dst = M_C);
	CASE("ethertype", (r->conds = MX_COND_ETHERTYPE, r->ethertype = htons(0x0800)), (void)0,
	     miss->f.kind = FRAMES_ARP);
	CASE("src", (r->conds = MX_COND_SRC, r->src = frames_addr("10.0.0.0"), r->src_len = 24),
	     (void)0, miss->f.sip = "10.1.0.1");
	CASE("src 0.0.0.0/0", (r->conds = MX_COND_SRC, r->src_len = 0), (void)0,
	     miss->f.kind = FRAMES_IPV6);
	/* ARP has addresses and a protocol for MidoNet's flow match: the sender's and target's
	 * addresses, the opcode. */
	CASE("src of ARP (the sender's address)",
	     (r->conds = MX_COND_SRC, r->src = frames_addr("10.0.0.0"), r->src_len = 24),
	     hit->f.kind = FRAMES_ARP, (miss->f.kind = FRAMES_ARP, miss->f.sip = "10.1.0.1"));
	CASE("dst of ARP (the target address)",
	     (r->conds = MX_COND_DST, r->dst = frames_addr("10.0.0.2"), r->dst_len = 32),
	     hit->f.kind = FRAMES_ARP, (miss->f.kind = FRAMES_ARP, miss->f.tip = "10.0.0.3"));
	CASE("proto of ARP (the opcode)", (r->conds = MX_COND_PROTO, r->proto = 1),
	     hit->f.kind = FRAMES_ARP, (miss->f.kind = FRAMES_ARP, miss->f.arp_op = 2));
	CASE("ip-address-group-src of ARP",
	     (r->conds = MX_COND_IP_GROUP_SRC, r->ip_group_src = LIST_ADDRS_SRC),
	     hit->f.kind = FRAMES_ARP, (miss->f.kind = FRAMES_ARP, miss->f.sip = "10.0.0.3"));
	/* A packet without ports has port 0, as in MidoNet's flow match. */
	CASE("dst-port 0, a packet without ports",
	     (r->conds = MX_COND_DST_PORT, r->dport_lo = r->dport_hi = 0),
	     hit->f.kind = FRAMES_ARP, (void)0);
	CASE("dst", (r->conds = MX_COND_DST, r->dst = frames_addr("10.0.0.2"), r->dst_len = 32),
	     (void)0, miss->f.tip = "10.0.0.3");
	CASE("proto", (r->conds = MX_COND_PROTO, r->proto = IPPROTO_UDP), (void)0,
	     (miss->f.ip_proto = 1, miss->f.icmp_type = 8));
	CASE("tos", (r->conds = MX_COND_TOS, r->tos = 0x10), hit->tos = 0x10, miss->tos = 0x08);
	CASE("src-port (UDP)",
	     (r->conds = MX_COND_SRC_PORT, r->sport_lo = 40000, r->sport_hi = 40010),
	     hit->sport = 40010, miss->sport = 39999);
	CASE("dst-port (UDP)", (r->conds = MX_COND_DST_PORT, r->dport_lo = r->dport_hi = 5000),
	     (void)0, miss->dport = 5001);
	CASE("src-port (TCP)", (r->conds = MX_COND_SRC_PORT, r->sport_lo = 1, r->sport_hi = 1023),
	     (hit->tcp = true, hit->sport = 22, hit->dport = 40000),
	     (miss->tcp = true, miss->sport = 1024, miss->dport = 22));
	CASE("dst-port (TCP)", (r->conds = MX_COND_DST_PORT, r->dport_lo = 80, r->dport_hi = 443),
	     (hit->tcp = true, hit->sport = 40000, hit->dport = 443),
	     (miss->tcp = true, miss->sport = 40000, miss->dport = 444));
	CASE("src-port as ICMP type (echo request)",
	     (r->conds = MX_COND_PROTO | MX_COND_SRC_PORT, r->proto = IPPROTO_ICMP,
	      r->sport_lo = r->sport_hi = 8, c.inv = MX_COND_SRC_PORT),
	     (hit->f.ip_proto = 1, hit->f.icmp_type = 8),
	     (miss->f.ip_proto = 1, miss->f.icmp_type = 0));
	CASE("in-ports", (r->conds = MX_COND_IN_PORTS, r->in_ports = LIST_IN_PORTS), (void)0,
	     miss->in_port = IN_B);
	CASE("out-ports", (r->conds = MX_COND_OUT_PORTS, r->out_ports = LIST_OUT_PORTS), (void)0,
	     miss->out_port = OUT_B);
	/* port-group tests the port the packet entered the topology by, not the device's. */
	CASE("port-group (the ingress port's)",
	     (r->conds = MX_COND_PORT_GROUP, r->port_group = LIST_IN_PORTS), hit->in_port = IN_B,
	     (miss->ingress_port = IN_B, miss->in_port = IN_A));
	CASE("in-port-group",
	     (r->conds = MX_COND_IN_PORT_GROUP, r->in_port_group = LIST_IN_PORTS), (void)0,
	     miss->in_port = IN_B);
	CASE("out-port-group",
	     (r->conds = MX_COND_OUT_PORT_GROUP, r->out_port_group = LIST_OUT_PORTS), (void)0,
	     miss->out_port = OUT_B);
	CASE("ip-address-group-src",
	     (r->conds = MX_COND_IP_GROUP_SRC, r->ip_group_src = LIST_ADDRS_SRC), (void)0,
	     miss->f.sip = "10.0.0.3");
	CASE("ip-address-group-dst",
	     (r->conds = MX_COND_IP_GROUP_DST, r->ip_group_dst = LIST_ADDRS_DST), (void)0,
	     miss->f.tip = "10.0.0.3");
	CASE("flow fwd-flow", r->conds = MX_COND_FWD_FLOW, (void)0, miss->flags = 0);
	CASE("flow return-flow", r->conds = MX_COND_RETURN_FLOW, hit->flags = 0,
	     miss->flags = MX_CHAIN_IN_FWD_FLOW);
	/* Conditions are a conjunction: each fails the rule alone (inverted: that one). */
	CASE("src and dst-port (dst-port fails)",
	     (r->conds = MX_COND_SRC | MX_COND_DST_PORT, r->src = frames_addr("10.0.0.1"),
	      r->src_len = 32, r->dport_lo = r->dport_hi = 5000, c.inv = MX_COND_DST_PORT),
	     (void)0, miss->dport = 5001);
	CASE("src and dst-port (src fails)",
	     (r->conds = MX_COND_SRC | MX_COND_DST_PORT, r->src = frames_addr("10.0.0.1"),
	      r->src_len = 32, r->dport_lo = r->dport_hi = 5000, c.inv = MX_COND_SRC),
	     (void)0, miss->f.sip = "10.0.0.9");
}

/* A packet without the field a condition tests fails it; inverted, passes (MidoNet): no
 * addresses but for IPv4 and ARP; a protocol, TOS or port it lacks is 0, which the rules
 * here do not take. */
static void test_absent_fields(void)
{
	struct {
		const char *name;
		__u32 cond;
		struct tpkt p;
	} cases[] = {
		{ "src on IPv6", MX_COND_SRC, pkt() },
		{ "proto on IPv6", MX_COND_PROTO, pkt() },
		{ "tos on IPv6", MX_COND_TOS, pkt() },
		{ "dst-port on IPv6", MX_COND_DST_PORT, pkt() },
		{ "ip-address-group-src on IPv6", MX_COND_IP_GROUP_SRC, pkt() },
		{ "dst-port on GRE (no ports)", MX_COND_DST_PORT, pkt() },
		{ "in-ports without an ingress port", MX_COND_IN_PORTS, pkt() },
		{ "out-ports before the egress port is known", MX_COND_OUT_PORTS, pkt() },
		{ "out-port-group before the egress port is known", MX_COND_OUT_PORT_GROUP, pkt() },
	};

	for (int i = 0; i < 5; i++)
		cases[i].p.f.kind = FRAMES_IPV6;
	cases[5].p.f.ip_proto = 47;
	cases[6].p.in_port = 0;
	cases[7].p.out_port = 0;
	cases[8].p.out_port = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int inv = 0; inv < 2; inv++) {
			struct mx_rule_spec r = rule(20, MX_RULE_DROP);
			char what[96];

			r.conds = cases[i].cond;
			r.inv = inv ? r.conds : 0;
			r.src = frames_addr("10.0.0.0");
			r.src_len = 8;
			r.proto = IPPROTO_UDP;
			r.tos = 0x10;
			r.dport_lo = 1;
			r.dport_hi = 65535;
			r.in_ports = r.port_group = r.in_port_group = LIST_IN_PORTS;
			r.out_ports = r.out_port_group = LIST_OUT_PORTS;
			r.ip_group_src = LIST_ADDRS_SRC;
			if (install1(&r, 1)) {
				tap_ok(false, "%s: installed", cases[i].name);
				continue;
			}
			snprintf(what, sizeof(what), "%s%s", inv ? "!" : "", cases[i].name);
			expect(1, &cases[i].p, inv ? MX_CHAIN_V_DROP : MX_CHAIN_V_ACCEPT, 0, what);
		}
	}
}

/* ---- fragment policies ---- */

static void test_fragments(void)
{
	static const char *const pol_names[] = { "any", "header", "nonheader", "unfragmented" };
	static const char *const frag_names[] = { "unfragmented", "first fragment",
						  "later fragment" };
	static const uint16_t frag_off[] = { 0, 0x2000, 0x0010 }; /* MF; offset 128 bytes */
	/* accepts[policy][packet], MidoNet's FragmentPolicy */
	static const bool accepts[4][3] = {
		{ true, true, true }, { true, true, false }, { false, false, true },
		{ true, false, false } };

	for (int pol = 0; pol < 4; pol++) {
		struct mx_rule_spec r = rule(30, MX_RULE_DROP);

		r.frag = (__u8)pol;
		if (!tap_ok(install1(&r, 1) == 0, "fragment-policy %s: installed", pol_names[pol]))
			continue;
		for (int f = 0; f < 3; f++) {
			struct tpkt t = pkt();
			char what[96];

			t.f.frag_off = frag_off[f];
			snprintf(what, sizeof(what), "fragment-policy %s, %s", pol_names[pol],
				 frag_names[f]);
			expect(1, &t, accepts[pol][f] ? MX_CHAIN_V_DROP : MX_CHAIN_V_ACCEPT,
			       accepts[pol][f] ? 30 : 0, what);
		}
	}
	/* A rule with ports defaults to header: a later fragment (no ports) never meets it. */
	{
		struct mx_rule_spec r = rule(31, MX_RULE_DROP);
		struct tpkt first = pkt(), later = pkt();

		r.conds = MX_COND_DST_PORT;
		r.dport_lo = r.dport_hi = 5000;
		first.f.frag_off = frag_off[1];
		later.f.frag_off = frag_off[2];
		if (tap_ok(install1(&r, 1) == 0, "dst-port with the default policy: installed")) {
			expect(1, &first, MX_CHAIN_V_DROP, 31, "default policy (header), first fragment");
			expect(1, &later, MX_CHAIN_V_ACCEPT, 0, "default policy (header), later fragment");
			r.inv = MX_COND_DST_PORT;
			install1(&r, 1);
			expect(1, &later, MX_CHAIN_V_ACCEPT, 0,
			       "!dst-port, default policy, later fragment: not even inverted");
		}
	}
}

/* MidoNet's fragment defaults for NAT: unfragmented with ports (in the targets or the
 * condition), else any (a floating IP). */
static void test_nat_fragments(void)
{
	struct mx_rule_spec dyn = rule(35, MX_RULE_SNAT), fip = rule(36, MX_RULE_DNAT);
	struct tpkt first = pkt(), whole = pkt();
	struct verdict v;

	first.f.frag_off = 0x2000;
	dyn.nat_ports = 1;
	if (tap_ok(install1(&dyn, 1) == 0, "snat with ports, default policy: installed"))
		expect(1, &first, MX_CHAIN_V_ACCEPT, 0, "... a first fragment is not NATed");
	tap_ok(!run(1, &whole, &v) && v.kind == MX_CHAIN_V_SNAT, "... an unfragmented one is");
	if (tap_ok(install1(&fip, 1) == 0, "dnat without ports (floating IP): installed"))
		expect(1, &first, MX_CHAIN_V_DNAT, 36, "... a first fragment is NATed");
}

/* ---- static NAT (floating IPs) ---- */

static const char *const FIP = "203.0.113.7", *const PRIV = "10.0.0.2", *const EXT = "10.0.0.1";

/* A static NAT rule: type t to address to, testing prefix net/len on the destination (DNAT)
 * or the source (SNAT). */
static struct mx_rule_spec nat_rule(__u32 id, __u8 t, const char *net, __u8 len, const char *to)
{
	struct mx_rule_spec r = rule(id, t);

	r.conds = t == MX_RULE_DNAT ? MX_COND_DST : MX_COND_SRC;
	if (t == MX_RULE_DNAT) {
		r.dst = frames_addr(net);
		r.dst_len = len;
	} else {
		r.src = frames_addr(net);
		r.src_len = len;
	}
	r.nat_addr = frames_addr(to);
	return r;
}

/* Run the raw frame in (in_len bytes) through chain: the verdict into *v, the frame that
 * leaves into out (*out_len). 0, or -errno (-EPROTO: the program's return was not the
 * verdict, as when the rewrite failed). */
static int run_frame(__u32 chain, const uint8_t *in, size_t in_len, struct verdict *v,
		     uint8_t *out, size_t *out_len)
{
	struct test_in tin = { chain, IN_A, OUT_A, IN_A, MX_CHAIN_IN_FWD_FLOW, { 0 }, 0 };
	struct __sk_buff ctx = { 0 };
	uint8_t frame[FRAMES_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = FRAMES_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	__u32 zero = 0;
	int err;

	memcpy(frame, in, in_len);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.chain_test_in), &zero, &tin, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.chain_test), &opts);
	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.chain_test_out), &zero, v))
		return -errno;
	*out_len = opts.data_size_out;
	return (int)opts.retval == v->kind ? 0 : -EPROTO;
}

/* Run in through chain 1: the verdict must be kind (by rule rule_id, unless 0) and the frame
 * that leaves exactly want, built from scratch with the translated addresses. */
static bool nat_check(const struct nat_pkt *in, const struct nat_pkt *want, __u8 kind,
		      __u32 rule_id, const char *what)
{
	uint8_t fin[FRAMES_MAX], fwant[FRAMES_MAX], out[FRAMES_MAX];
	size_t in_len = nat_frame(in, M_B, M_A, fin), want_len = nat_frame(want, M_B, M_A, fwant);
	size_t out_len = 0, diff = 0;
	struct verdict v = { 0 };
	char why[200] = "";
	int err = run_frame(1, fin, in_len, &v, out, &out_len);
	bool ok;

	while (!err && diff < want_len && diff < out_len && out[diff] == fwant[diff])
		diff++;
	ok = !err && v.kind == kind && (!rule_id || rule_id_at(v.rule) == rule_id) &&
	     out_len == want_len && diff == want_len;
	if (err)
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-err));
	else if (!ok)
		snprintf(why, sizeof(why),
			 "verdict %s by rule %u (want %s by %u); %zu bytes (want %zu), first "
			 "difference at byte %zu: %02x, want %02x",
			 vname(v.kind), rule_id_at(v.rule), vname(kind), rule_id, out_len, want_len,
			 diff, diff < out_len ? out[diff] : 0, diff < want_len ? fwant[diff] : 0);
	return tap_check(ok, why, "%s", what);
}

static void test_nat_rewrites(void)
{
	struct mx_rule_spec dnat = nat_rule(50, MX_RULE_DNAT, FIP, 32, PRIV);
	struct mx_rule_spec snat = nat_rule(51, MX_RULE_SNAT, PRIV, 32, FIP);
	struct nat_pkt in, want, inner, inner_want;
	struct verdict v;

	/* From outside to the floating IP: DNAT to the private address. */
	if (!tap_ok(install1(&dnat, 1) == 0, "static DNAT FIP -> private: installed"))
		return;
	in = (struct nat_pkt){ .proto = 6, .src = frames_addr(EXT), .dst = frames_addr(FIP),
			       .sport = 40001, .dport = 22 };
	want = in;
	want.dst = frames_addr(PRIV);
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "DNAT TCP: destination, IPv4 and TCP checksums");
	in.proto = want.proto = 17;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "DNAT UDP: destination, IPv4 and UDP checksums");
	in.udp_no_csum = want.udp_no_csum = true;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "DNAT UDP without checksum: it stays 0");
	in.udp_no_csum = want.udp_no_csum = false;
	in.proto = want.proto = 1;
	in.sport = want.sport = 77;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "DNAT ICMP echo: the ICMP checksum unchanged");
	tap_ok(!run(1, &(struct tpkt){ .f = { .kind = FRAMES_ARP, .dst = M_B, .src = M_A,
					      .sip = EXT, .tip = FIP } }, &v) &&
		       v.kind == MX_CHAIN_V_DNAT,
	       "an ARP request for the FIP matches the rule (as MidoNet's match) ...");
	{
		struct tpkt arp = { .f = { .kind = FRAMES_ARP, .dst = M_B, .src = M_A, .sip = EXT,
					   .tip = FIP } };
		uint8_t a[FRAMES_MAX], out[FRAMES_MAX];
		size_t alen = build(&arp, a), olen = 0;

		tap_ok(!run_frame(1, a, alen, &v, out, &olen) && olen == alen && !memcmp(a, out, alen),
		       "... and is not rewritten");
	}
	/* An ICMP error from outside about what the VM sent from the FIP (SNATed on its way
	 * out): the outer destination and the quoted source become the private address. */
	inner = (struct nat_pkt){ .proto = 6, .src = frames_addr(FIP), .dst = frames_addr(EXT),
				  .sport = 33000, .dport = 80 };
	inner_want = inner;
	inner_want.src = frames_addr(PRIV);
	in = (struct nat_pkt){ .proto = 1, .src = frames_addr(EXT), .dst = frames_addr(FIP),
			       .err_type = 3, .err_code = 3, .inner = &inner, .quote_l4 = 20 };
	want = in;
	want.dst = frames_addr(PRIV);
	want.inner = &inner_want;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50,
		  "DNAT an ICMP error quoting TCP: quoted source, its IPv4 and TCP checksums, the "
		  "ICMP checksum");
	in.quote_l4 = want.quote_l4 = 8;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50,
		  "... quoting 8 bytes of TCP (no checksum quoted): the rest still right");
	inner.proto = inner_want.proto = 17;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "... quoting UDP: its checksum too");
	inner.udp_no_csum = inner_want.udp_no_csum = true;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50, "... quoting UDP without checksum: it stays 0");
	inner.src = inner_want.src = frames_addr("198.51.100.1");
	want.inner = &inner;
	nat_check(&in, &want, MX_CHAIN_V_DNAT, 50,
		  "... quoting a packet from another address: the quote left alone");

	/* From the VM out: SNAT to the floating IP. */
	if (!tap_ok(install1(&snat, 1) == 0, "static SNAT private -> FIP: installed"))
		return;
	in = (struct nat_pkt){ .proto = 6, .src = frames_addr(PRIV), .dst = frames_addr(EXT),
			       .sport = 33000, .dport = 80 };
	want = in;
	want.src = frames_addr(FIP);
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51, "SNAT TCP: source, IPv4 and TCP checksums");
	in.proto = want.proto = 17;
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51, "SNAT UDP");
	in.udp_no_csum = want.udp_no_csum = true;
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51, "SNAT UDP without checksum: it stays 0");
	in.proto = want.proto = 1;
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51, "SNAT ICMP echo");
	/* The VM answers what came to its FIP (DNATed) with a port unreachable: the outer
	 * source and the quoted destination become the FIP again (traceroute, UDP probes). */
	inner = (struct nat_pkt){ .proto = 17, .src = frames_addr(EXT), .dst = frames_addr(PRIV),
				  .sport = 45000, .dport = 33434 };
	inner_want = inner;
	inner_want.dst = frames_addr(FIP);
	in = (struct nat_pkt){ .proto = 1, .src = frames_addr(PRIV), .dst = frames_addr(EXT),
			       .err_type = 3, .err_code = 3, .inner = &inner, .quote_l4 = 8 };
	want = in;
	want.src = frames_addr(FIP);
	want.inner = &inner_want;
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51,
		  "SNAT a port unreachable quoting UDP: quoted destination and checksums");
	inner.proto = inner_want.proto = 1;
	inner.sport = inner_want.sport = 9;
	in.err_type = want.err_type = 11;
	in.err_code = want.err_code = 0;
	nat_check(&in, &want, MX_CHAIN_V_SNAT, 51,
		  "SNAT a time exceeded quoting an echo (traceroute -I)");
	/* A later fragment: its IPv4 header only. */
	{
		struct nat_pkt f = { .proto = 17, .src = frames_addr(PRIV), .dst = frames_addr(EXT),
				     .sport = 1, .dport = 2, .frag_off = 0x0003 };
		uint8_t fin[FRAMES_MAX], fwant[FRAMES_MAX], out[FRAMES_MAX];
		size_t len = nat_frame(&f, M_B, M_A, fin), olen = 0;
		uint32_t fip = frames_addr(FIP);

		memcpy(fwant, fin, len);
		memcpy(fwant + FRAMES_ETH_HLEN + 12, &fip, 4);
		frames_put16(fwant + FRAMES_ETH_HLEN + 10, 0);
		frames_put16(fwant + FRAMES_ETH_HLEN + 10, frames_csum(fwant + FRAMES_ETH_HLEN, 20));
		tap_ok(!run_frame(1, fin, len, &v, out, &olen) && v.kind == MX_CHAIN_V_SNAT &&
			       olen == len && !memcmp(out, fwant, len),
		       "SNAT a later fragment: the IPv4 header only");
	}
	/* An SNAT whose condition fails: nothing rewritten. */
	in = (struct nat_pkt){ .proto = 6, .src = frames_addr("10.0.0.3"), .dst = frames_addr(EXT),
			       .sport = 1, .dport = 2 };
	nat_check(&in, &in, MX_CHAIN_V_ACCEPT, 0, "a packet the SNAT does not match: unchanged");
}

static void test_nat_conditions_and_actions(void)
{
	struct nat_pkt in = { .proto = 17, .src = frames_addr(EXT), .dst = frames_addr("8.8.8.8"),
			      .sport = 1000, .dport = 53 },
		       want = in;
	struct mx_rule_spec inv = nat_rule(60, MX_RULE_DNAT, "10.0.0.0", 8, PRIV);

	/* Inverted: every destination outside 10/8 goes to PRIV. */
	inv.inv = MX_COND_DST;
	if (tap_ok(install1(&inv, 1) == 0, "DNAT dst !10.0.0.0/8: installed")) {
		want.dst = frames_addr(PRIV);
		nat_check(&in, &want, MX_CHAIN_V_DNAT, 60, "... a packet to 8.8.8.8 is DNATed");
		in.dst = frames_addr("10.9.9.9");
		nat_check(&in, &in, MX_CHAIN_V_ACCEPT, 0, "... one to 10.9.9.9 is not");
	}
	in.dst = frames_addr(FIP);
	want = in;
	want.dst = frames_addr(PRIV);
	/* accept (the default): the evaluation ends, flagged static; the drop after it is not
	 * reached. */
	{
		struct mx_rule_spec r[] = { nat_rule(61, MX_RULE_DNAT, FIP, 32, PRIV),
					    rule(62, MX_RULE_DROP) };
		struct verdict v;
		uint8_t f[FRAMES_MAX], out[FRAMES_MAX];
		size_t len = nat_frame(&in, M_B, M_A, f), olen;

		install1(r, 2);
		nat_check(&in, &want, MX_CHAIN_V_DNAT, 61, "action accept: rewritten, accepted");
		tap_ok(!run_frame(1, f, len, &v, out, &olen) && v.flags == MX_CHAIN_VF_STATIC_NAT,
		       "... the verdict says static (done, no state)");
	}
	/* continue: the rules after it see the new destination. */
	{
		struct mx_rule_spec r[] = { nat_rule(63, MX_RULE_DNAT, FIP, 32, PRIV),
					    rule(64, MX_RULE_DROP) };

		r[0].nat_action = MX_RULE_CONTINUE;
		r[1].conds = MX_COND_DST;
		r[1].dst = frames_addr(PRIV);
		r[1].dst_len = 32;
		install1(r, 2);
		nat_check(&in, &in, MX_CHAIN_V_DROP, 64,
			  "action continue: a drop of the new destination drops it");
		r[1].dst = frames_addr(FIP);
		install1(r, 2);
		nat_check(&in, &want, MX_CHAIN_V_ACCEPT, 0,
			  "... a drop of the old one does not: rewritten, the chain's end accepts");
	}
	/* return: back in the calling chain, after the jump, with the new destination. */
	{
		struct mx_rule_spec top[] = { jump(70, 1), rule(71, MX_RULE_DROP) },
				    sub[] = { nat_rule(72, MX_RULE_DNAT, FIP, 32, PRIV),
					      rule(73, MX_RULE_DROP) };
		struct mx_chain_spec c[] = { { 1, top, 2 }, { 2, sub, 2 } };

		sub[0].nat_action = MX_RULE_RETURN;
		top[1].conds = MX_COND_DST;
		top[1].dst = frames_addr(PRIV);
		top[1].dst_len = 32;
		install(c, 2);
		nat_check(&in, &in, MX_CHAIN_V_DROP, 71,
			  "action return: the caller's next rule sees the new destination");
		top[1].type = MX_RULE_ACCEPT;
		install(c, 2);
		nat_check(&in, &want, MX_CHAIN_V_ACCEPT, 71,
			  "... and accepts it rewritten; the rule after the NAT not reached");
	}
	/* Both ways in one chain with continue: SNAT and DNAT of one packet. */
	{
		struct mx_rule_spec r[] = { nat_rule(80, MX_RULE_DNAT, FIP, 32, PRIV),
					    nat_rule(81, MX_RULE_SNAT, EXT, 32, "192.0.2.1") };
		struct nat_pkt both = want;

		r[0].nat_action = MX_RULE_CONTINUE;
		install1(r, 2);
		both.src = frames_addr("192.0.2.1");
		nat_check(&in, &both, MX_CHAIN_V_SNAT, 81, "DNAT continue, then SNAT: both rewritten");
	}
	/* Dynamic NAT (a port range) keeps its verdict for connection tracking: no rewrite. */
	{
		struct mx_rule_spec r = nat_rule(90, MX_RULE_DNAT, FIP, 32, PRIV);
		struct verdict v;
		uint8_t f[FRAMES_MAX], out[FRAMES_MAX];
		size_t len = nat_frame(&in, M_B, M_A, f), olen;

		r.nat_addr = 0;
		r.nat_ports = 1;
		install1(&r, 1);
		tap_ok(!run_frame(1, f, len, &v, out, &olen) && v.kind == MX_CHAIN_V_DNAT &&
			       !(v.flags & MX_CHAIN_VF_STATIC_NAT) && olen == len && !memcmp(f, out, len),
		       "dynamic DNAT: its verdict, not flagged static, nothing rewritten");
		r.nat_addr = frames_addr(PRIV);
		tap_ok(install1(&r, 1) != 0, "a static address with ports is refused");
	}
}

/* ---- rule types, jumps ---- */

static void test_types(void)
{
	struct tpkt udp = pkt(), tcp = pkt();
	struct verdict v;

	tcp.tcp = true;
	tcp.sport = 40000;
	tcp.dport = 22;
	{
		struct mx_rule_spec r[] = { rule(1, MX_RULE_ACCEPT), rule(2, MX_RULE_DROP) };

		install1(r, 2);
		expect(1, &udp, MX_CHAIN_V_ACCEPT, 1, "accept before drop");
	}
	{
		struct mx_rule_spec r[] = { rule(1, MX_RULE_DROP), rule(2, MX_RULE_ACCEPT) };

		install1(r, 2);
		expect(1, &udp, MX_CHAIN_V_DROP, 1, "drop before accept");
	}
	{
		struct mx_rule_spec r[] = { rule(1, MX_RULE_REJECT) };

		install1(r, 1);
		tap_ok(!run(1, &udp, &v) && v.kind == MX_CHAIN_V_REJECT && !v.flags,
		       "reject UDP: ICMP admin-prohibited (no RST flag)");
		tap_ok(!run(1, &tcp, &v) && v.kind == MX_CHAIN_V_REJECT &&
			       v.flags == MX_CHAIN_VF_TCP_RST,
		       "reject TCP: a RST");
	}
	{
		struct mx_rule_spec r[] = { rule(1, MX_RULE_CONTINUE), rule(2, MX_RULE_DROP) };

		install1(r, 2);
		expect(1, &udp, MX_CHAIN_V_DROP, 2, "continue, then drop");
	}
	{
		struct mx_rule_spec r[] = { rule(1, MX_RULE_RETURN), rule(2, MX_RULE_DROP) };

		install1(r, 2);
		expect(1, &udp, MX_CHAIN_V_ACCEPT, 1, "return from the top chain accepts");
	}
	{
		struct mx_rule_spec r = rule(1, MX_RULE_DROP);

		r.conds = MX_COND_PROTO;
		r.proto = IPPROTO_TCP;
		install1(&r, 1);
		expect(1, &udp, MX_CHAIN_V_ACCEPT, 0, "the end of the chain accepts");
		tap_ok(!run(1, &udp, &v) && v.rule == MX_CHAIN_RULE_NONE,
		       "... and names no rule");
		install1(NULL, 0);
		expect(1, &udp, MX_CHAIN_V_ACCEPT, 0, "an empty chain accepts");
		expect(7, &udp, MX_CHAIN_V_ACCEPT, 0, "a chain the maps lack accepts");
		expect(MX_CHAIN_NONE, &udp, MX_CHAIN_V_ACCEPT, 0, "no chain accepts");
	}
	/* Dynamic NAT: flagged for the caller, naming the rule, whose target and action the
	 * NAT step reads; with action continue the evaluation goes on (to the end: accept). */
	for (__u8 t = MX_RULE_SNAT; t <= MX_RULE_REV_DNAT; t++) {
		struct mx_rule_spec r = rule(40 + t, t);
		struct mx_chain_rule cr;

		r.nat_target = 7 + t;
		r.nat_action = t == MX_RULE_DNAT ? MX_RULE_CONTINUE : 0;
		install1(&r, 1);
		tap_ok(!run(1, &udp, &v) && (v.flags & MX_CHAIN_VF_DYN_NAT) &&
			       v.kind == (t == MX_RULE_DNAT ? MX_CHAIN_V_ACCEPT
							    : MX_CHAIN_V_SNAT + (t - MX_RULE_SNAT)) &&
			       !bpf_map_lookup_elem(maps.rule, &v.rule, &cr) && cr.rule_id == 40u + t &&
			       cr.target == 7u + t &&
			       cr.nat_action == (t == MX_RULE_DNAT ? MX_RULE_CONTINUE : MX_RULE_ACCEPT),
		       "%s: its verdict, the rule with its target and action", vname(v.kind));
	}
}

static void test_jumps(void)
{
	struct tpkt udp = pkt();

	/* A: jump B, drop. */
	struct mx_rule_spec a[] = { jump(1, 1), rule(2, MX_RULE_DROP) };
	struct mx_rule_spec b_accept[] = { rule(3, MX_RULE_ACCEPT) };
	struct mx_rule_spec b_return[] = { rule(3, MX_RULE_RETURN), rule(4, MX_RULE_ACCEPT) };
	struct mx_rule_spec b_cont[] = { rule(3, MX_RULE_CONTINUE) };
	struct mx_chain_spec c[2] = { { 100, a, 2 }, { 200, b_accept, 1 } };

	install(c, 2);
	expect(100, &udp, MX_CHAIN_V_ACCEPT, 3, "jump: the target's accept decides");
	c[1] = (struct mx_chain_spec){ 200, b_return, 2 };
	install(c, 2);
	expect(100, &udp, MX_CHAIN_V_DROP, 2, "jump, return: on after the jump");
	c[1] = (struct mx_chain_spec){ 200, b_cont, 1 };
	install(c, 2);
	expect(100, &udp, MX_CHAIN_V_DROP, 2, "jump, the target's end: on after the jump");
	c[1] = (struct mx_chain_spec){ 200, NULL, 0 };
	install(c, 2);
	expect(100, &udp, MX_CHAIN_V_DROP, 2, "jump to an empty chain: on after the jump");
	{
		struct mx_rule_spec m[] = { jump(1, MX_CHAIN_SPEC_MISSING), rule(2, MX_RULE_DROP) };
		struct mx_chain_spec one = { 100, m, 2 };

		install(&one, 1);
		expect(100, &udp, MX_CHAIN_V_DROP, 2, "jump to a missing chain: continue");
	}
	{
		struct mx_rule_spec s[] = { jump(1, 0), rule(2, MX_RULE_DROP) };
		struct mx_chain_spec one = { 100, s, 2 };

		install(&one, 1);
		expect(100, &udp, MX_CHAIN_V_DROP, 2, "jump to itself: continue");
	}
	{
		/* A: jump B, drop; B: jump A (a loop: continue), reject. */
		struct mx_rule_spec la[] = { jump(1, 1), rule(2, MX_RULE_DROP) };
		struct mx_rule_spec lb[] = { jump(3, 0), rule(4, MX_RULE_REJECT) };
		struct mx_chain_spec l[2] = { { 100, la, 2 }, { 200, lb, 2 } };

		install(l, 2);
		expect(100, &udp, MX_CHAIN_V_REJECT, 4, "a loop back to the jumping chain: continue");
		expect(200, &udp, MX_CHAIN_V_DROP, 2,
		       "entered at B: B jumps to A, whose jump back is the loop: A drops");
	}
	{
		/* MidoNet enters a chain once an evaluation: a second jump to it is a continue. */
		struct mx_rule_spec ta[] = { jump(81, 1), jump(82, 1), rule(83, MX_RULE_DROP) };
		struct mx_rule_spec tb[] = { rule(84, MX_RULE_CONTINUE) };
		struct mx_chain_spec t[2] = { { 100, ta, 3 }, { 200, tb, 1 } };
		struct mx_chain_counter c81, c82, c84;

		install(t, 2);
		expect(100, &udp, MX_CHAIN_V_DROP, 83, "two jumps to one chain, one after the other");
		tap_ok(!mx_chain_counter_read(&maps, 84, &c84) && c84.packets == 1 &&
			       !mx_chain_counter_read(&maps, 81, &c81) && c81.packets == 1 &&
			       !mx_chain_counter_read(&maps, 82, &c82) && c82.packets == 1,
		       "... both jumps matched, the chain was entered once (%llu)",
		       (unsigned long long)c84.packets);
	}
}

/* Chains 1..n: chain i jumps to i + 1 then drops; the last accepts. */
static void depth_chains(__u32 n, struct mx_chain_spec *c, struct mx_rule_spec (*r)[2])
{
	for (__u32 i = 0; i < n; i++) {
		r[i][0] = i + 1 < n ? jump(100 + i, i + 1) : rule(100 + i, MX_RULE_ACCEPT);
		r[i][1] = rule(200 + i, MX_RULE_DROP);
		c[i] = (struct mx_chain_spec){ i + 1, r[i], 2 };
	}
}

static void test_depth_and_budget(void)
{
	struct mx_chain_spec c[MX_CHAIN_MAX_DEPTH + 1];
	struct mx_rule_spec r[MX_CHAIN_MAX_DEPTH + 1][2];
	struct tpkt udp = pkt();

	depth_chains(MX_CHAIN_MAX_DEPTH, c, r);
	install(c, MX_CHAIN_MAX_DEPTH);
	expect(1, &udp, MX_CHAIN_V_ACCEPT, 100 + MX_CHAIN_MAX_DEPTH - 1,
	       "8 chains deep (the limit): the deepest accepts");
	depth_chains(MX_CHAIN_MAX_DEPTH + 1, c, r);
	install(c, MX_CHAIN_MAX_DEPTH + 1);
	expect(1, &udp, MX_CHAIN_V_DROP, 200 + MX_CHAIN_MAX_DEPTH - 1,
	       "9 chains deep: the 8th's jump is a continue, its drop decides");
	expect(2, &udp, MX_CHAIN_V_ACCEPT, 100 + MX_CHAIN_MAX_DEPTH,
	       "the same entered one chain lower: 8 deep again");

	/* 16 chains entered at most: chain 1 jumps to chains 2..17 in turn (each a continue
	 * rule), then drops; the jump to chain 17 would be the 17th chain entered. */
	{
		struct mx_rule_spec top[17], leaf[16];
		struct mx_chain_spec all[17];
		struct mx_chain_counter c16, c17;

		for (__u32 i = 0; i < 16; i++) {
			top[i] = jump(600 + i, i + 1);
			leaf[i] = rule(700 + i, MX_RULE_CONTINUE);
			all[i + 1] = (struct mx_chain_spec){ 2 + i, &leaf[i], 1 };
		}
		top[16] = rule(616, MX_RULE_DROP);
		all[0] = (struct mx_chain_spec){ 1, top, 17 };
		install(all, 17);
		expect(1, &udp, MX_CHAIN_V_DROP, 616, "jumps to 16 chains, then drop");
		tap_ok(!mx_chain_counter_read(&maps, 714, &c16) && c16.packets == 1 &&
			       !mx_chain_counter_read(&maps, 715, &c17) && c17.packets == 0,
		       "the 16th chain entered (%llu), the 17th not: the limit (%llu)",
		       (unsigned long long)c16.packets, (unsigned long long)c17.packets);
	}
	/* The step budget holds the largest version: 16384 rules, none met, looked at once. */
	{
		static struct mx_rule_spec many[MX_CHAIN_RULES_MAX];

		for (__u32 i = 0; i < MX_CHAIN_RULES_MAX; i++) {
			many[i] = rule(3000 + i, MX_RULE_DROP);
			many[i].conds = MX_COND_PROTO;
			many[i].proto = IPPROTO_TCP;
		}
		many[MX_CHAIN_RULES_MAX - 1] = rule(3000 + MX_CHAIN_RULES_MAX - 1, MX_RULE_REJECT);
		tap_ok(install1(many, MX_CHAIN_RULES_MAX) == 0, "16384 rules installed");
		expect(1, &udp, MX_CHAIN_V_REJECT, 3000 + MX_CHAIN_RULES_MAX - 1,
		       "the 16384th rule is reached and decides");
	}
}

/* ---- counters ---- */

struct walk_seen {
	int n;
	__u64 packets[8];
};

/* Rule 50, 53 and 52's packets, in their order; any other rule fails the walk. */
static int walk_collect(__u32 rule_id, const struct mx_chain_counter *c, void *ctx)
{
	static const __u32 want[3] = { 50, 53, 52 };
	struct walk_seen *s = ctx;

	if (s->n >= 3 || rule_id != want[s->n])
		return -EPROTO;
	s->packets[s->n++] = c->packets;
	return 0;
}

static void test_counters(void)
{
	struct mx_rule_spec r[3] = { rule(50, MX_RULE_CONTINUE), rule(51, MX_RULE_DROP),
				     rule(52, MX_RULE_ACCEPT) };
	struct tpkt udp = pkt(), tcp = pkt();
	uint8_t frame[FRAMES_MAX];
	__u64 len = build(&udp, frame);
	struct mx_chain_counter c50, c51, c52, c53;
	struct verdict v;

	tcp.tcp = true;
	r[1].conds = MX_COND_PROTO;
	r[1].proto = IPPROTO_UDP;
	install1(r, 3);
	for (int i = 0; i < 3; i++)
		run(1, &udp, &v);
	run(1, &tcp, &v);
	tap_ok(!mx_chain_counter_read(&maps, 50, &c50) && c50.packets == 4,
	       "continue rule: 4 packets (%llu)", (unsigned long long)c50.packets);
	tap_ok(!mx_chain_counter_read(&maps, 51, &c51) && c51.packets == 3 &&
		       c51.bytes == 3 * len,
	       "drop rule, UDP only: 3 packets, %llu bytes (%llu, %llu)",
	       (unsigned long long)(3 * len), (unsigned long long)c51.packets,
	       (unsigned long long)c51.bytes);
	tap_ok(!mx_chain_counter_read(&maps, 52, &c52) && c52.packets == 1,
	       "accept rule: the TCP packet (%llu)", (unsigned long long)c52.packets);
	tap_ok(mx_chain_counter_read(&maps, 99, &c53) == -ENOENT, "no such rule: -ENOENT");

	/* Recompiled with rule 51 gone and 53 new: 50 and 52 keep their counts, 53 starts at 0
	 * (in a slot no live rule counts in). */
	r[1] = rule(53, MX_RULE_CONTINUE);
	tap_ok(install1(r, 3) == 0, "recompiled: rule 51 out, rule 53 in");
	tap_ok(!mx_chain_counter_read(&maps, 50, &c50) && c50.packets == 4 &&
		       !mx_chain_counter_read(&maps, 52, &c52) && c52.packets == 1,
	       "rules 50 and 52 keep their counters");
	tap_ok(!mx_chain_counter_read(&maps, 53, &c53) && c53.packets == 0 && c53.bytes == 0,
	       "rule 53 starts from 0");
	tap_ok(mx_chain_counter_read(&maps, 51, &c51) == -ENOENT, "rule 51 is gone");
	run(1, &udp, &v);
	tap_ok(!mx_chain_counter_read(&maps, 53, &c53) && c53.packets == 1 &&
		       !mx_chain_counter_read(&maps, 52, &c52) && c52.packets == 2,
	       "after one more packet: 53 at 1, 52 at 2");
	/* The walk gives every live rule once, with the counts the reads give. */
	{
		struct walk_seen seen = { 0 };

		tap_ok(mx_chain_counters_walk(&maps, walk_collect, &seen) == 0 && seen.n == 3 &&
			       seen.packets[0] == 4 + 1 && seen.packets[1] == 1 &&
			       seen.packets[2] == 2,
		       "the counters' walk: rules 50, 53, 52 at 5, 1, 2 packets");
	}
	/* Once 51 is gone, its slot is free again: a new rule there starts from 0, not 3. */
	{
		struct mx_rule_spec r4[4] = { r[0], r[1], r[2], rule(54, MX_RULE_CONTINUE) };
		struct mx_chain_rule cr;
		__u32 idx;

		tap_ok(install1(r4, 4) == 0, "recompiled: rule 54 in");
		tap_ok(!mx_chain_counter_read(&maps, 54, &c53) && c53.packets == 0 && c53.bytes == 0,
		       "rule 54 starts from 0");
		run(1, &udp, &v);
		idx = v.rule - 2; /* 52 decided; 54 is after it, 50 two before */
		tap_ok(!bpf_map_lookup_elem(maps.rule, &idx, &cr) && cr.rule_id == 50 &&
			       !mx_chain_counter_read(&maps, 50, &c50) && c50.packets == 6,
		       "rule 50 counted on through three versions (6)");
	}
}

/* ---- the RST answer ---- */

/* The RST that answers TCP packet t, built here from RFC 793 (into p): from its
 * destination and M_R to its sender. */
static size_t rst_expect(uint8_t *p, const struct tpkt *t, uint32_t seq, uint32_t ack,
			 uint8_t flags)
{
	size_t n = frames_eth(p, t->f.src, M_R, 0x0800);
	uint8_t *ip = p + n, *th, ps[32];

	n += frames_ipv4(ip, 5, IPPROTO_TCP, frames_addr(t->f.tip), frames_addr(t->f.sip), 0x4000,
			 20);
	th = p + n;
	memset(th, 0, 20);
	frames_put16(th, t->dport);
	frames_put16(th + 2, t->sport);
	frames_put32(th + 4, seq);
	frames_put32(th + 8, ack);
	th[12] = 0x50;
	th[13] = flags;
	memcpy(ps, ip + 12, 8); /* the pseudo-header: addresses, 0, protocol, length */
	ps[8] = 0;
	ps[9] = IPPROTO_TCP;
	frames_put16(ps + 10, 20);
	memcpy(ps + 12, th, 20);
	frames_put16(th + 16, frames_csum(ps, sizeof(ps)));
	return n + 20;
}

static void test_rst(void)
{
	struct mx_rule_spec r = rule(90, MX_RULE_REJECT);
	struct {
		const char *name;
		uint8_t flags;
		uint32_t seq, ack;
		uint16_t payload;
		uint32_t want_seq, want_ack;
		uint8_t want_flags; /* 0: no answer, the packet dropped */
	} cases[] = {
		{ "SYN: RST+ACK of seq + 1", 0x02, 1000, 0, 0, 0, 1001, 0x14 },
		{ "ACK with 18 bytes: RST at its ack", 0x18, 5000, 7000, 18, 7000, 0, 0x04 },
		{ "FIN with 10 bytes, no ACK: RST+ACK of seq + 11", 0x01, 9000, 0, 10, 0, 9011, 0x14 },
		{ "SYN+FIN with 4 bytes: RST+ACK of seq + 6", 0x03, 0xfffffffe, 0, 4, 0, 4, 0x14 },
		{ "RST: never answered", 0x04, 1, 0, 0, 0, 0, 0 },
	};

	r.frag = MX_FRAG_ANY;
	if (!tap_ok(install1(&r, 1) == 0, "a reject rule installed"))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tpkt t = pkt();
		uint8_t out[FRAMES_MAX], exp[FRAMES_MAX];
		size_t out_len = 0, exp_len;
		struct verdict v;
		char why[160] = "";
		int ret = -1, err;
		bool ok;

		t.tcp = true;
		t.sport = 40000;
		t.dport = 22;
		t.tcp_flags = cases[i].flags;
		t.seq = cases[i].seq;
		t.ack = cases[i].ack;
		t.f.payload = cases[i].payload;
		err = run_answer(1, &t, &v, true, out, &out_len, &ret);
		if (!cases[i].want_flags) {
			tap_ok(!err && ret == TC_ACT_SHOT, "%s (%d)", cases[i].name, ret);
			continue;
		}
		exp_len = rst_expect(exp, &t, cases[i].want_seq, cases[i].want_ack,
				     cases[i].want_flags);
		ok = !err && ret == TC_ACT_OK &&
		     frames_same(exp, exp_len, out, out_len, why, sizeof(why));
		tap_check(ok, why, "%s (%d)", cases[i].name, ret);
	}
	{
		struct tpkt later = pkt();
		struct verdict v;

		later.tcp = true;
		later.f.frag_off = 0x0010;
		tap_ok(!run(1, &later, &v) && v.kind == MX_CHAIN_V_REJECT && !v.flags,
		       "a later TCP fragment (no header to answer): reject by ICMP, no RST flag");
	}
}

/* ---- the compiler ---- */

static __u32 map_count(int fd, size_t key_size)
{
	char key[16], next[16];
	void *prev = NULL;
	__u32 n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

static void test_compiler(void)
{
	struct tpkt udp = pkt();
	struct mx_rule_spec good = rule(60, MX_RULE_DROP);
	struct mx_chain_gen g0, g1;
	__u32 zero = 0;
	struct {
		const char *name;
		struct mx_rule_spec r;
	} bad[20];
	int n = 0;

#define BAD(nm, stmt)                                                                        \
	do {                                                                                 \
		struct mx_rule_spec *b = &bad[n].r;                                          \
		bad[n].name = nm;                                                            \
		*b = rule(61, MX_RULE_DROP);                                                 \
		stmt;                                                                        \
		n++;                                                                         \
	} while (0)
	BAD("rule id 0", b->rule_id = 0);
	BAD("type 0", b->type = 0);
	BAD("type past the last", b->type = MX_RULE__MAX);
	BAD("an unknown condition", b->conds = 1u << 20);
	BAD("inverting an untested condition", (b->conds = MX_COND_SRC, b->inv = MX_COND_DST));
	BAD("prefix length 33", (b->conds = MX_COND_SRC, b->src_len = 33));
	BAD("a port range backwards",
	    (b->conds = MX_COND_DST_PORT, b->dport_lo = 10, b->dport_hi = 9));
	BAD("an unknown fragment policy", b->frag = 7);
	BAD("ports with fragment-policy any",
	    (b->conds = MX_COND_SRC_PORT, b->sport_hi = 9, b->frag = MX_FRAG_ANY));
	BAD("ports with fragment-policy nonheader",
	    (b->conds = MX_COND_DST_PORT, b->dport_hi = 9, b->frag = MX_FRAG_NONHEADER));
	BAD("a list past the lists", (b->conds = MX_COND_IN_PORTS, b->in_ports = LIST__N));
	BAD("a jump past the chains", (b->type = MX_RULE_JUMP, b->jump_to = 1));
	BAD("NAT with action drop", (b->type = MX_RULE_SNAT, b->nat_action = MX_RULE_DROP));
	BAD("snat with ports and fragment-policy any",
	    (b->type = MX_RULE_SNAT, b->nat_ports = 1, b->frag = MX_FRAG_ANY));
	BAD("dnat with a port condition and fragment-policy header",
	    (b->type = MX_RULE_DNAT, b->conds = MX_COND_DST_PORT, b->dport_hi = 80,
	     b->frag = MX_FRAG_HEADER));
#undef BAD

	tap_ok(install1(&good, 1) == 0, "a drop rule installed");
	bpf_map_lookup_elem(maps.gen, &zero, &g0);
	for (int i = 0; i < n; i++) {
		struct mx_rule_spec two[2] = { rule(62, MX_RULE_ACCEPT), bad[i].r };

		tap_ok(install1(two, 2) == -EINVAL, "refused: %s", bad[i].name);
	}
	{
		struct mx_rule_spec dup[2] = { rule(63, MX_RULE_ACCEPT), rule(63, MX_RULE_DROP) };
		struct mx_chain_spec same[2] = { { 5, &good, 1 }, { 5, NULL, 0 } };
		struct mx_chain_spec none = { MX_CHAIN_NONE, NULL, 0 };

		tap_ok(install1(dup, 2) == -EINVAL, "refused: a rule id twice");
		tap_ok(install(same, 2) == -EINVAL, "refused: a chain id twice");
		tap_ok(install(&none, 1) == -EINVAL, "refused: chain id 0");
	}
	{
		static struct mx_rule_spec many[MX_CHAIN_RULES_MAX + 1];

		for (__u32 i = 0; i <= MX_CHAIN_RULES_MAX; i++)
			many[i] = rule(1000 + i, MX_RULE_CONTINUE);
		tap_ok(install1(many, MX_CHAIN_RULES_MAX + 1) == -ENOSPC,
		       "refused: %u rules, one past the map", MX_CHAIN_RULES_MAX + 1);
	}
	bpf_map_lookup_elem(maps.gen, &zero, &g1);
	tap_ok(g0.gen == g1.gen, "after every refusal, the same generation is live");
	expect(1, &udp, MX_CHAIN_V_DROP, 60, "and the installed chain still drops");

	/* A switch leaves nothing of the old version: two chains and the lists, then one. */
	{
		struct mx_rule_spec a = rule(70, MX_RULE_DROP), b = rule(71, MX_RULE_ACCEPT);
		struct mx_chain_spec two[2] = { { 1, &a, 1 }, { 2, &b, 1 } };
		__u32 members = 0;

		for (int l = 0; l < LIST__N; l++)
			members += lists[l].n;
		a.conds = MX_COND_IP_GROUP_SRC;
		a.ip_group_src = LIST_ADDRS_SRC;
		tap_ok(install(two, 2) == 0 && map_count(maps.chain, 4) == 2 &&
			       map_count(maps.set, 8) == members,
		       "two chains: 2 chain entries, %u list members", members);
		expect(1, &udp, MX_CHAIN_V_DROP, 70, "chain 1 (a list member's source) drops");
		tap_ok(install(&two[1], 1) == 0 && map_count(maps.chain, 4) == 1 &&
			       map_count(maps.set, 8) == members,
		       "then chain 2 alone: 1 chain entry, the lists once");
		expect(1, &udp, MX_CHAIN_V_ACCEPT, 0, "chain 1 is gone: accept");
		expect(2, &udp, MX_CHAIN_V_ACCEPT, 71, "chain 2 accepts by its rule");
	}
}

/* ---- the switch, while packets run ---- */

/* Three versions of chains 1 and 2, installed in turn (so that each half of the maps gets
 * each version): chain 1 jumps to chain 2, then does X; chain 2 does Y.
 *   A: Y drop (X accept, not reached)  -> drop
 *   B: Y continue, X reject            -> reject
 *   C: Y continue, X dnat              -> dnat
 * An evaluation that mixed versions could give accept (A's chain 1 with B's or C's chain
 * 2): never valid. */
static volatile int race_stop;
static long race_runs, race_seen[8], race_bad;
static char race_first_bad[96]; /* what the first bad evaluation gave */

static void *race_runner(void *arg)
{
	struct tpkt t = pkt();
	struct verdict v = { 0 };
	int err;

	(void)arg;
	while (!race_stop) {
		err = run(1, &t, &v);
		if (err || (v.kind != MX_CHAIN_V_DROP && v.kind != MX_CHAIN_V_REJECT &&
			    v.kind != MX_CHAIN_V_DNAT)) {
			if (!race_bad++)
				snprintf(race_first_bad, sizeof(race_first_bad),
					 "first: run %s, verdict %s, rule index %u",
					 err ? strerror(-err) : "ok", vname(v.kind), v.rule);
		} else {
			race_seen[v.kind]++;
		}
		race_runs++;
	}
	return NULL;
}

static void test_switch_race(void)
{
	static const __u8 x[3] = { MX_RULE_ACCEPT, MX_RULE_REJECT, MX_RULE_DNAT };
	static const __u8 y[3] = { MX_RULE_DROP, MX_RULE_CONTINUE, MX_RULE_CONTINUE };
	struct mx_rule_spec c1[3][2], c2[3][1];
	struct mx_chain_spec v[3][2];
	int installs = 0, failed = 0;
	pthread_t th;

	for (int i = 0; i < 3; i++) {
		c1[i][0] = jump(801 + 10 * i, 1);
		c1[i][1] = rule(802 + 10 * i, x[i]);
		c2[i][0] = rule(803 + 10 * i, y[i]);
		v[i][0] = (struct mx_chain_spec){ 1, c1[i], 2 };
		v[i][1] = (struct mx_chain_spec){ 2, c2[i], 1 };
	}
	if (!tap_ok(install(v[0], 2) == 0 && !pthread_create(&th, NULL, race_runner, NULL),
		    "version A installed, packets running"))
		return;
	for (int i = 1; i <= 1000; i++) {
		failed += install(v[i % 3], 2) != 0;
		installs++;
	}
	race_stop = 1;
	pthread_join(th, NULL);
	tap_ok(!failed, "%d switches between A, B and C, none failed", installs);
	tap_ok(!race_bad && race_seen[MX_CHAIN_V_DROP] && race_seen[MX_CHAIN_V_REJECT] &&
		       race_seen[MX_CHAIN_V_DNAT],
	       "%ld evaluations meanwhile: %ld drop (A), %ld reject (B), %ld dnat (C), %ld else "
	       "(a mix of versions)%s%s",
	       race_runs, race_seen[MX_CHAIN_V_DROP], race_seen[MX_CHAIN_V_REJECT],
	       race_seen[MX_CHAIN_V_DNAT], race_bad, race_bad ? "; " : "", race_first_bad);
}

int main(void)
{
	mx_log_init("test_chain", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (BPF)");
	L_ADDRS_SRC[0] = frames_addr("10.0.0.1");
	L_ADDRS_SRC[1] = frames_addr("10.0.0.9");
	L_ADDRS_DST[0] = frames_addr("10.0.0.2");
	if (chain_dp_open(&skel, &maps))
		return tap_bail("the chain test object did not load");
	test_conditions();
	test_absent_fields();
	test_fragments();
	test_nat_fragments();
	test_nat_rewrites();
	test_nat_conditions_and_actions();
	test_types();
	test_jumps();
	test_depth_and_budget();
	test_counters();
	test_rst();
	test_compiler();
	test_switch_race();
	chain_test__destroy(skel);
	return tap_done();
}
