// SPDX-License-Identifier: Apache-2.0
/* The agent's rule chains end to end in user space: a topology built in memory, resolved
 * (agent/filters.c), translated (agent/chain_compile.c), installed with mx_chain_install
 * into real maps (tests/unit/chain_test.bpf.c, nothing pinned), and frames evaluated with
 * BPF_PROG_TEST_RUN: a jump, a port group, an IP address group, inverted conditions, a
 * rule the spec refuses failing closed, a change installed, ids stable. Root. TAP output. */
#include "dp_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/chain_compile.h"
#include "base/log.h"
#include "chain_dp.h"
#include "frames.h"
#include "tap.h"

static struct chain_test *skel;
static struct mx_chain_maps maps;

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

#define CH_FW "cccccccc-0000-4000-8000-000000000001"
#define CH_SUB "cccccccc-0000-4000-8000-000000000002"
#define PG_WEB "dddddddd-0000-4000-8000-000000000001"
#define IPG_BAD "eeeeeeee-0000-4000-8000-000000000001"
#define P_WEB "aaaaaaaa-0000-4000-8000-000000000001"
#define P_OTHER "aaaaaaaa-0000-4000-8000-000000000002"
enum { K_WEB = 101, K_OTHER = 102 };

/* UDP sip -> 10.0.0.2 entering by port in. Verdict kind, or -errno. */
static int run(__u32 chain, const char *sip, __u32 in, struct verdict *v)
{
	struct frames_spec f = { .kind = FRAMES_IPV4, .dst = M_B, .src = M_A, .sip = sip,
				 .tip = "10.0.0.2", .payload = 18 };
	struct test_in ti = { .chain = chain, .in_port = in, .ingress_port = in,
			      .flags = MX_CHAIN_IN_FWD_FLOW };
	uint8_t frame[FRAMES_MAX], out[FRAMES_MAX];
	struct __sk_buff ctx = { 0 };
	size_t len = frames_build(&f, frame, M_A, M_B);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = FRAMES_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	__u32 zero = 0;
	int err;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.chain_test_in), &zero, &ti, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.chain_test), &opts);
	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.chain_test_out), &zero, v))
		return -errno;
	return v->kind;
}

/* The rule_id of the rule at midox_chrule index idx (0 when unreadable). */
static __u32 rule_id_at(__u32 idx)
{
	struct mx_chain_rule r;

	return bpf_map_lookup_elem(maps.rule, &idx, &r) ? 0 : r.rule_id;
}

static struct topo_port ports[2] = {
	{ .id = P_WEB, .tunnel_key = K_WEB }, { .id = P_OTHER, .tunnel_key = K_OTHER },
};
static struct topo_chain chains[] = { { .id = CH_FW, .name = "fw" }, { .id = CH_SUB, .name = "sub" } };
static struct topo_rule rules[6];
static struct topo_port_group pgs[] = { { .id = PG_WEB, .name = "web" } };
static struct topo_pg_member pgm[] = { { .group_id = PG_WEB, .port_id = P_WEB } };
static struct topo_ip_group ipgs[] = { { .id = IPG_BAD, .name = "bad" } };
static struct topo_ip_group_addr ipa[1] = { { .group_id = IPG_BAD } };

static void rule(int i, const char *chain, uint32_t pos, enum topo_rule_type type)
{
	memset(&rules[i], 0, sizeof(rules[i]));
	snprintf(rules[i].id, sizeof(rules[i].id), "bbbbbbbb-0000-4000-8000-00000000000%d", i);
	strcpy(rules[i].chain_id, chain);
	rules[i].pos = pos;
	rules[i].type = type;
	rules[i].cond.frag = TOPO_FRAG_ANY;
}

/* fw: 1 jump sub; 2 drop from IP group bad; 3 accept in-port-group web and NOT src
 * 10.9.0.0/16; 4 drop. sub: 1 drop src 10.7.0.0/16 with an impossible port range (refused:
 * drops everything that reaches it) when refuse is set, else accept src 10.7.0.0/16 (in
 * which case sub's end returns to fw for the rest). */
static void build_topology(struct topology *t, bool refuse, bool extra)
{
	memset(t, 0, sizeof(*t));
	rule(0, CH_FW, 1, TOPO_RULE_JUMP);
	strcpy(rules[0].jump_id, CH_SUB);
	rule(1, CH_FW, 2, TOPO_RULE_DROP);
	rules[1].cond.has = 1u << TOPO_COND_IPG_SRC;
	strcpy(rules[1].cond.ipg_src, IPG_BAD);
	rule(2, CH_FW, 3, TOPO_RULE_ACCEPT);
	rules[2].cond.has = 1u << TOPO_COND_IN_PORT_GROUP | 1u << TOPO_COND_SRC;
	rules[2].cond.inv = 1u << TOPO_COND_SRC;
	strcpy(rules[2].cond.in_port_group, PG_WEB);
	inet_pton(AF_INET, "10.9.0.0", &rules[2].cond.src.addr);
	rules[2].cond.src.len = 16;
	rule(3, CH_FW, 4, TOPO_RULE_DROP);
	rule(4, CH_SUB, 1, refuse ? TOPO_RULE_DROP : TOPO_RULE_ACCEPT);
	rules[4].cond.has = 1u << TOPO_COND_SRC;
	inet_pton(AF_INET, "10.7.0.0", &rules[4].cond.src.addr);
	rules[4].cond.src.len = 16;
	if (refuse) { /* a range ending before it starts: the spec refuses it */
		rules[4].cond.has |= 1u << TOPO_COND_DST_PORT;
		rules[4].cond.dst_port = (struct topo_port_range){ 90, 80 };
		rules[4].cond.frag = TOPO_FRAG_HEADER;
	}
	/* extra: fw gets a rule at its head: accept from 10.5.0.0/16 */
	rule(5, CH_FW, 0, TOPO_RULE_ACCEPT);
	rules[5].cond.has = 1u << TOPO_COND_SRC;
	inet_pton(AF_INET, "10.5.0.0", &rules[5].cond.src.addr);
	rules[5].cond.src.len = 16;
	inet_pton(AF_INET, "10.6.6.6", &ipa[0].addr);
	t->ports = ports;
	t->n_ports = 2;
	t->chains = chains;
	t->n_chains = 2;
	/* The snapshot's order: by chain, in position order. */
	static struct topo_rule ordered[6];
	size_t n = 0;

	if (extra)
		ordered[n++] = rules[5];
	for (int i = 0; i < 5; i++)
		ordered[n++] = rules[i];
	t->rules = ordered;
	t->n_rules = n;
	t->port_groups = pgs;
	t->n_port_groups = 1;
	t->pg_members = pgm;
	t->n_pg_members = 1;
	t->ip_groups = ipgs;
	t->n_ip_groups = 1;
	t->ip_group_addrs = ipa;
	t->n_ip_group_addrs = 1;
}

/* Resolve, compile, install. */
static int install(bool refuse, bool extra, struct cc_program *p)
{
	struct topology t;
	struct df_chains c;
	struct mx_chain_program prog;
	int err;

	build_topology(&t, refuse, extra);
	err = topo_index(&t);
	if (!err)
		err = filters_resolve(&t, &c);
	topo_index_free(&t);
	if (err)
		return err;
	err = chain_compile(&c, p);
	filters_free(&c);
	if (err)
		return err;
	prog = chain_compile_program(p);
	return mx_chain_install(&maps, &prog);
}

static void test_translation(void)
{
	struct cc_program p = { 0 };
	__u32 fw, sub;
	struct verdict v;

	if (!tap_ok(!install(false, false, &p), "a program of two chains installs"))
		return;
	fw = p.chains[0].id;
	sub = p.chains[1].id;
	tap_ok(fw == mx_chain_id_hash(CH_FW) && sub == mx_chain_id_hash(CH_SUB) && fw != sub,
	       "chain ids are the hash of the topology's ids");
	tap_ok(p.rules[0].rule_id == mx_chain_id_hash(rules[0].id) && p.refused == 0,
	       "rule ids likewise; nothing refused");
	tap_ok(run(fw, "10.7.0.1", K_OTHER, &v) == MX_CHAIN_V_ACCEPT &&
	       rule_id_at(v.rule) == p.rules[4].rule_id,
	       "a jump: sub's accept decides for 10.7.0.1");
	tap_ok(run(fw, "10.6.6.6", K_WEB, &v) == MX_CHAIN_V_DROP &&
	       rule_id_at(v.rule) == p.rules[1].rule_id,
	       "an IP address group: its address is dropped (after sub's end returned)");
	tap_ok(run(fw, "10.1.0.1", K_WEB, &v) == MX_CHAIN_V_ACCEPT &&
	       rule_id_at(v.rule) == p.rules[2].rule_id,
	       "a port group: its member is accepted");
	tap_ok(run(fw, "10.1.0.1", K_OTHER, &v) == MX_CHAIN_V_DROP &&
	       rule_id_at(v.rule) == p.rules[3].rule_id,
	       "a port outside the group falls through to the drop");
	tap_ok(run(fw, "10.9.0.1", K_WEB, &v) == MX_CHAIN_V_DROP &&
	       rule_id_at(v.rule) == p.rules[3].rule_id,
	       "an inverted condition: the group's member from 10.9/16 is not accepted");
	chain_compile_free(&p);
}

static void test_refused(void)
{
	struct cc_program p = { 0 }, q = { 0 };
	struct mx_chain_counter before = { 0 }, after = { 0 };
	struct verdict v;
	__u32 fw;
	int err;

	if (!tap_ok(!install(true, false, &p), "a program with a refused rule still installs"))
		return;
	fw = p.chains[0].id;
	tap_ok(p.refused == 1 && p.rules[4].type == MX_RULE_DROP && p.rules[4].conds == 0 &&
	       p.refused_why[4] && !strcmp(p.refused_why[4], "port range ends before it starts") &&
	       !p.refused_why[3],
	       "the refused rule becomes a drop of everything, with its reason");
	mx_chain_counter_read(&maps, p.rules[4].rule_id, &before);
	tap_ok(run(fw, "10.1.0.1", K_WEB, &v) == MX_CHAIN_V_DROP &&
	       rule_id_at(v.rule) == p.rules[4].rule_id,
	       "fail closed: what the port group accepted is now dropped by the refused rule");
	err = mx_chain_counter_read(&maps, p.rules[4].rule_id, &after);
	tap_ok(!err && after.packets == before.packets + 1,
	       "the refused rule counts what it dropped (%llu, %llu)",
	       (unsigned long long)before.packets, (unsigned long long)after.packets);
	if (!tap_ok(!install(false, true, &q), "a rule added: installs again"))
		goto out;
	tap_ok(!chain_compile_equal(&p, &q) && q.chains[0].id == fw && q.chains[0].n_rules == 5,
	       "the change is seen; the chain keeps its id");
	tap_ok(run(fw, "10.5.0.1", K_OTHER, &v) == MX_CHAIN_V_ACCEPT &&
	       rule_id_at(v.rule) == q.rules[0].rule_id,
	       "the new head rule decides at once");
	tap_ok(q.rules[5].rule_id == p.rules[4].rule_id, "a rule keeps its id when others move");
	chain_compile_free(&q);
	if (!tap_ok(!install(false, true, &q), "the same topology again"))
		goto out;
	{
		struct cc_program r = { 0 };

		tap_ok(!install(false, true, &r) && chain_compile_equal(&q, &r),
		       "compiled twice, equal (the agent installs only on a change)");
		chain_compile_free(&r);
	}
out:
	chain_compile_free(&p);
	chain_compile_free(&q);
}

static void test_ids(void)
{
	/* Three topology ids of which two hash alike (the same string stands for a collision). */
	const char ids[3][8] = { "a", "b", "a" };
	__u32 out[3];

	tap_ok(mx_chain_id_hash("") != 0 && mx_chain_id_hash(CH_FW) != mx_chain_id_hash(CH_SUB),
	       "ids are never 0 and differ");
	tap_ok(!mx_chain_ids_assign(ids[0], 3, sizeof(ids[0]), out) &&
	       out[0] == mx_chain_id_hash("a") && out[1] == mx_chain_id_hash("b") &&
	       out[2] == out[0] + 1 && out[2] != out[1],
	       "a colliding id takes the next free value, the first keeps its hash");
}

/* A group condition naming no group (ZooKeeper data the CLI never writes): refused, a drop,
 * where the compiler would have refused the whole program. */
static void test_group_without_group(void)
{
	struct df_chain ch = { .id = CH_FW, .first = 0, .n = 1 };
	struct df_rule r = { .jump = DF_NONE, .port_group = DF_NONE, .in_port_group = DF_NONE,
			     .out_port_group = DF_NONE, .ipg_src = DF_NONE, .ipg_dst = DF_NONE };
	struct df_chains c = { .chains = &ch, .n_chains = 1, .rules = &r, .n_rules = 1 };
	struct cc_program p = { 0 };
	struct mx_chain_program prog;
	struct verdict v;

	strcpy(r.r.id, rules[0].id);
	strcpy(r.r.chain_id, CH_FW);
	r.r.type = TOPO_RULE_ACCEPT;
	r.r.cond.frag = TOPO_FRAG_ANY;
	r.r.cond.has = 1u << TOPO_COND_IN_PORT_GROUP;
	if (!tap_ok(!chain_compile(&c, &p), "compiles"))
		return;
	prog = chain_compile_program(&p);
	tap_ok(p.refused == 1 && p.rules[0].type == MX_RULE_DROP && !mx_chain_install(&maps, &prog) &&
	       run(p.chains[0].id, "10.1.0.1", K_WEB, &v) == MX_CHAIN_V_DROP,
	       "an in-port-group condition without a group: refused, installed as a drop");
	chain_compile_free(&p);
}

int main(void)
{
	int err;

	mx_log_init("test_chain_compile", MX_LOG_WARN);
	err = chain_dp_open(&skel, &maps);
	if (err) {
		return tap_bail("the chain test object did not load");
	}
	test_ids();
	test_translation();
	test_refused();
	test_group_without_group();
	chain_test__destroy(skel);
	return tap_done();
}
