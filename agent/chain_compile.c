// SPDX-License-Identifier: Apache-2.0
/* The resolved rule chains as the chain compiler's program (chain_compile.h). Lists: one
 * per port group, one per IP address group, one empty list for a group that is missing
 * (it holds no packet, as MidoNet means a dangling reference), and one per in-ports and
 * out-ports of a rule. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chain_compile.h"

static __u8 rule_type(enum topo_rule_type t)
{
	switch (t) {
	case TOPO_RULE_ACCEPT: return MX_RULE_ACCEPT;
	case TOPO_RULE_DROP: return MX_RULE_DROP;
	case TOPO_RULE_REJECT: return MX_RULE_REJECT;
	case TOPO_RULE_CONTINUE: return MX_RULE_CONTINUE;
	case TOPO_RULE_JUMP: return MX_RULE_JUMP;
	case TOPO_RULE_RETURN: return MX_RULE_RETURN;
	case TOPO_RULE_SNAT: return MX_RULE_SNAT;
	case TOPO_RULE_DNAT: return MX_RULE_DNAT;
	case TOPO_RULE_REV_SNAT: return MX_RULE_REV_SNAT;
	case TOPO_RULE_REV_DNAT: return MX_RULE_REV_DNAT;
	default: return 0; /* refused by mx_rule_spec_check */
	}
}

static __u8 nat_action(enum topo_rule_action a)
{
	switch (a) {
	case TOPO_ACTION_CONTINUE: return MX_RULE_CONTINUE;
	case TOPO_ACTION_RETURN: return MX_RULE_RETURN;
	default: return MX_RULE_ACCEPT;
	}
}

static __u8 frag_policy(enum topo_frag_policy f)
{
	switch (f) {
	case TOPO_FRAG_ANY: return MX_FRAG_ANY;
	case TOPO_FRAG_HEADER: return MX_FRAG_HEADER;
	case TOPO_FRAG_NONHEADER: return MX_FRAG_NONHEADER;
	case TOPO_FRAG_UNFRAGMENTED: return MX_FRAG_UNFRAGMENTED;
	default: return MX_FRAG_DEFAULT;
	}
}

/* The condition bits are the model's, bit for bit (TOPO_COND_x is bit x of MX_COND). */
_Static_assert(1u << TOPO_COND_HW_SRC == MX_COND_HW_SRC &&
		       1u << TOPO_COND_IPG_DST == MX_COND_IP_GROUP_DST &&
		       1u << TOPO_COND_IN_PORTS == MX_COND_IN_PORTS &&
		       1u << TOPO_COND_PORT_GROUP == MX_COND_PORT_GROUP &&
		       TOPO_COND__MAX == 16,
	       "topology conditions are the spec's first 16 bits");

struct build {
	const struct df_chains *c;
	struct cc_program *p;
	__u32 missing_list; /* the empty list */
};

static __u32 add_list(struct build *b, const __u32 *members, size_t n)
{
	struct cc_program *p = b->p;
	struct mx_chain_list *l = &p->lists[p->n_lists];

	l->members = p->members + p->n_members;
	for (size_t i = 0; i < n; i++)
		if (members[i]) /* 0: a port that is not there, which no packet has */
			p->members[p->n_members + l->n++] = members[i];
	p->n_members += l->n;
	return (__u32)p->n_lists++;
}

static __u32 group_list(const struct build *b, long group, size_t base)
{
	if (group == DF_NONE)
		return MX_CHAIN_SPEC_NO_LIST;
	return group == DF_MISSING ? b->missing_list : (__u32)(base + (size_t)group);
}

static void conditions(struct build *b, const struct df_rule *d, struct mx_rule_spec *s)
{
	const struct topo_rule_cond *c = &d->r.cond;
	size_t ipg_base = b->c->n_port_groups;

	s->conds = c->has;
	s->inv = c->inv;
	if (c->flow == TOPO_FLOW_FWD)
		s->conds |= MX_COND_FWD_FLOW;
	else if (c->flow == TOPO_FLOW_RETURN)
		s->conds |= MX_COND_RETURN_FLOW;
	memcpy(s->hw_src, c->hw_src, 6); /* a zero mask: all 48 bits */
	memcpy(s->hw_dst, c->hw_dst, 6);
	s->ethertype = htons(c->ethertype);
	s->src = c->src.addr.s_addr;
	s->src_len = c->src.len;
	s->dst = c->dst.addr.s_addr;
	s->dst_len = c->dst.len;
	s->proto = c->proto;
	s->tos = c->tos;
	s->sport_lo = c->src_port.from;
	s->sport_hi = c->src_port.to;
	s->dport_lo = c->dst_port.from;
	s->dport_hi = c->dst_port.to;
	s->frag = frag_policy(c->frag);
	s->in_ports = s->out_ports = MX_CHAIN_SPEC_NO_LIST;
	if (c->has & MX_COND_IN_PORTS)
		s->in_ports = add_list(b, d->in_ports, c->n_in_ports);
	if (c->has & MX_COND_OUT_PORTS)
		s->out_ports = add_list(b, d->out_ports, c->n_out_ports);
	s->port_group = group_list(b, d->port_group, 0);
	s->in_port_group = group_list(b, d->in_port_group, 0);
	s->out_port_group = group_list(b, d->out_port_group, 0);
	s->ip_group_src = group_list(b, d->ipg_src, ipg_base);
	s->ip_group_dst = group_list(b, d->ipg_dst, ipg_base);
}

static void nat(struct build *b, const struct df_rule *d, struct mx_rule_spec *s)
{
	const struct topo_rule *r = &d->r;
	struct cc_nat_target *t;

	if (s->type < MX_RULE_SNAT || s->type > MX_RULE_REV_DNAT)
		return;
	s->nat_action = nat_action(r->action);
	if (!r->has_target)
		return;
	t = &b->p->nat_targets[b->p->n_nat_targets];
	t->from = r->target.from.s_addr;
	t->to = r->target.to.s_addr;
	t->port_from = r->target.port_from;
	t->port_to = r->target.port_to;
	s->nat_ports = t->port_from != 0;
	s->nat_target = (__u32)b->p->n_nat_targets++;
	/* One address, no ports: MidoNet's floating IP, a stateless 1:1 rewrite. */
	if (!s->nat_ports && t->from == t->to &&
	    (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT))
		s->nat_addr = t->from;
	else if (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT) {
		/* Dynamic: the target rides beside the rule (midox_chnatt). */
		s->nat_lo = t->from;
		s->nat_hi = t->to;
		s->nat_port_lo = t->port_from;
		s->nat_port_hi = t->port_from ? t->port_to : 0;
	}
}

/* A rule the spec refuses matches every packet and drops it: a firewall that cannot say
 * what it was told refuses rather than lets through. Its id stays, so its counters show
 * what it dropped. */
static void fail_closed(struct build *b, const struct df_rule *d, struct mx_rule_spec *s,
			const char *why)
{
	__u32 id = s->rule_id;

	b->p->refused_why[d - b->c->rules] = why;
	memset(s, 0, sizeof(*s));
	s->rule_id = id;
	s->type = MX_RULE_DROP;
	s->frag = MX_FRAG_ANY;
	s->in_ports = s->out_ports = s->port_group = s->in_port_group = MX_CHAIN_SPEC_NO_LIST;
	s->out_port_group = s->ip_group_src = s->ip_group_dst = MX_CHAIN_SPEC_NO_LIST;
	b->p->refused++;
}

/* A list condition with no list (the model never writes one): the compiler would refuse
 * the whole program. */
static bool list_missing(const struct mx_rule_spec *s)
{
	const struct {
		__u32 bit, list;
	} l[] = {
		{ MX_COND_IN_PORTS, s->in_ports }, { MX_COND_OUT_PORTS, s->out_ports },
		{ MX_COND_PORT_GROUP, s->port_group }, { MX_COND_IN_PORT_GROUP, s->in_port_group },
		{ MX_COND_OUT_PORT_GROUP, s->out_port_group },
		{ MX_COND_IP_GROUP_SRC, s->ip_group_src }, { MX_COND_IP_GROUP_DST, s->ip_group_dst },
	};

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		if ((s->conds & l[i].bit) && l[i].list == MX_CHAIN_SPEC_NO_LIST)
			return true;
	return false;
}

static void rule_spec(struct build *b, __u32 rule_id, const struct df_rule *d,
		      struct mx_rule_spec *s)
{
	const char *bad;

	s->rule_id = rule_id;
	s->type = rule_type(d->r.type);
	conditions(b, d, s);
	nat(b, d, s);
	if (s->type == MX_RULE_JUMP)
		s->jump_to = d->jump >= 0 ? (__u32)d->jump : MX_CHAIN_SPEC_MISSING;
	bad = mx_rule_spec_check(s);
	if (!bad && list_missing(s))
		bad = "a port or group condition names no port or group";
	if (bad)
		fail_closed(b, d, s, bad);
}

static size_t members_max(const struct df_chains *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n_port_groups; i++)
		n += c->port_groups[i].n;
	for (size_t i = 0; i < c->n_ip_groups; i++)
		n += c->ip_groups[i].n;
	for (size_t i = 0; i < c->n_rules; i++)
		n += c->rules[i].r.cond.n_in_ports + c->rules[i].r.cond.n_out_ports;
	return n;
}

static int alloc_program(const struct df_chains *c, struct cc_program *p)
{
	size_t n_lists = c->n_port_groups + c->n_ip_groups + 1 + 2 * c->n_rules;

	p->chains = calloc(c->n_chains + 1, sizeof(*p->chains));
	p->rules = calloc(c->n_rules + 1, sizeof(*p->rules));
	p->lists = calloc(n_lists, sizeof(*p->lists));
	p->members = calloc(members_max(c) + 1, sizeof(*p->members));
	p->nat_targets = calloc(c->n_rules + 1, sizeof(*p->nat_targets));
	p->refused_why = calloc(c->n_rules + 1, sizeof(*p->refused_why));
	return p->chains && p->rules && p->lists && p->members && p->nat_targets &&
		       p->refused_why ? 0 : -ENOMEM;
}

static void add_groups(struct build *b)
{
	const struct df_chains *c = b->c;

	for (size_t i = 0; i < c->n_port_groups; i++)
		add_list(b, c->port_groups[i].ports, c->port_groups[i].n);
	for (size_t i = 0; i < c->n_ip_groups; i++)
		add_list(b, (const __u32 *)c->ip_groups[i].addrs, c->ip_groups[i].n);
	b->missing_list = add_list(b, NULL, 0);
}

/* Ids in the snapshot's order: df_chain and df_rule begin with the topology's id. */
_Static_assert(offsetof(struct df_chain, id) == 0 && offsetof(struct df_rule, r) == 0 &&
		       offsetof(struct topo_rule, id) == 0,
	       "ids at offset 0");

int chain_compile(const struct df_chains *c, struct cc_program *out)
{
	struct build b = { .c = c, .p = out };
	__u32 *chain_ids = calloc(c->n_chains + 1, sizeof(*chain_ids));
	__u32 *rule_ids = calloc(c->n_rules + 1, sizeof(*rule_ids));
	int err = chain_ids && rule_ids ? 0 : -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!err)
		err = alloc_program(c, out);
	if (!err)
		err = mx_chain_ids_assign(c->chains ? c->chains[0].id : "", c->n_chains,
					  sizeof(*c->chains), chain_ids);
	if (!err)
		err = mx_chain_ids_assign(c->rules ? c->rules[0].r.id : "", c->n_rules,
					  sizeof(*c->rules), rule_ids);
	if (err) {
		chain_compile_free(out);
		goto out;
	}
	add_groups(&b);
	for (size_t i = 0; i < c->n_chains; i++) {
		const struct df_chain *ch = &c->chains[i];

		out->chains[i].id = chain_ids[i];
		out->chains[i].rules = out->rules + ch->first;
		out->chains[i].n_rules = (__u32)ch->n;
	}
	out->n_chains = c->n_chains;
	for (size_t i = 0; i < c->n_rules; i++)
		rule_spec(&b, rule_ids[i], &c->rules[i], &out->rules[i]);
	out->n_rules = c->n_rules;
out:
	free(chain_ids);
	free(rule_ids);
	return err;
}

void chain_compile_free(struct cc_program *p)
{
	free(p->chains);
	free(p->rules);
	free(p->lists);
	free(p->members);
	free(p->nat_targets);
	free(p->refused_why);
	memset(p, 0, sizeof(*p));
}

void chain_compile_log_refused(const struct cc_program *p, const struct df_chains *c)
{
	for (size_t i = 0; p->refused && i < p->n_rules; i++)
		if (p->refused_why[i])
			mx_err("chain %s rule %s (position %u): %s; it drops every packet it sees "
			       "instead", c->rules[i].r.chain_id, c->rules[i].r.id,
			       c->rules[i].r.pos, p->refused_why[i]);
}

struct mx_chain_program chain_compile_program(const struct cc_program *p)
{
	return (struct mx_chain_program){ .chains = p->chains, .n_chains = (__u32)p->n_chains,
					  .lists = p->lists, .n_lists = (__u32)p->n_lists };
}

bool chain_compile_equal(const struct cc_program *a, const struct cc_program *b)
{
	if (a->n_chains != b->n_chains || a->n_rules != b->n_rules ||
	    a->n_lists != b->n_lists || a->n_members != b->n_members ||
	    a->n_nat_targets != b->n_nat_targets)
		return false;
	for (size_t i = 0; i < a->n_chains; i++)
		if (a->chains[i].id != b->chains[i].id ||
		    a->chains[i].n_rules != b->chains[i].n_rules)
			return false;
	for (size_t i = 0; i < a->n_lists; i++)
		if (a->lists[i].n != b->lists[i].n)
			return false;
	/* Built in calloc'd arrays, field by field: padding is zero on both sides. */
	return !memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)) &&
	       !memcmp(a->members, b->members, a->n_members * sizeof(*a->members)) &&
	       !memcmp(a->nat_targets, b->nat_targets,
		       a->n_nat_targets * sizeof(*a->nat_targets));
}
