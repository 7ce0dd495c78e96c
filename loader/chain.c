// SPDX-License-Identifier: Apache-2.0
/* The rule-chain compiler: rule specs checked and turned into the evaluator's entries
 * (compile), then written into the half of the maps that is not live and switched to with
 * one write of midox_chgen (install). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "chain.h"
#include "base/log.h"

struct chain_head {
	__u32 id, first, n; /* first: index in the image's rules */
};

/* One compiled version, before it is written. */
struct chain_image {
	struct mx_chain_rule *rules;
	struct mx_chain_nat_target *targets; /* beside rules: a dynamic SNAT or DNAT's */
	__u32 n_rules;
	struct chain_head *chains;
	__u32 n_chains;
	struct mx_chain_set_key *members;
	size_t n_members;
};

static void image_free(struct chain_image *im)
{
	free(im->rules);
	free(im->targets);
	free(im->chains);
	free(im->members);
	memset(im, 0, sizeof(*im));
}

static __u32 set_id(__u32 list, __u32 gen)
{
	return (gen ? MX_CHAIN_SET_GEN_BIT : 0) | (list + 1);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Whether the n values at v (sorted in a copy) hold a duplicate, or a zero: *dup gets it. */
static int find_dup_or_zero(const __u32 *v, size_t n, __u32 *dup)
{
	__u32 *s = malloc((n ? n : 1) * sizeof(*s));
	int found = 0;

	if (!s)
		return -ENOMEM;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	for (size_t i = 0; i < n && !found; i++) {
		if (!s[i] || (i && s[i] == s[i - 1])) {
			*dup = s[i];
			found = 1;
		}
	}
	free(s);
	return found;
}

static void mac_mask(__u8 *out, const __u8 *mask)
{
	static const __u8 zero[6];

	memset(out, 0xff, 6);
	if (memcmp(mask, zero, 6))
		memcpy(out, mask, 6);
}

static __be32 prefix_net(__be32 addr, __u8 len)
{
	return len ? addr & htonl(~0u << (32 - len)) : 0;
}

#define RULE_ERR(ci, ri, s, fmt, ...)                                                        \
	(mx_err("chain %u (index %u) rule %u (id %u): " fmt, p->chains[ci].id, ci, ri,      \
		(s)->rule_id, ##__VA_ARGS__),                                                \
	 -EINVAL)

/* A list reference of condition bit into *out: the set id, or an error for a bad index. */
static int rule_list(const struct mx_chain_program *p, const struct mx_rule_spec *s,
		     __u32 bit, __u32 list, __u32 gen, __u32 *out)
{
	if (!(s->conds & bit))
		return 0;
	if (list >= p->n_lists)
		return -EINVAL;
	*out = set_id(list, gen);
	return 0;
}

static int rule_lists(const struct mx_chain_program *p, const struct mx_rule_spec *s, __u32 gen,
		      struct mx_chain_rule *r)
{
	return rule_list(p, s, MX_COND_IN_PORTS, s->in_ports, gen, &r->in_ports) ||
	       rule_list(p, s, MX_COND_OUT_PORTS, s->out_ports, gen, &r->out_ports) ||
	       rule_list(p, s, MX_COND_PORT_GROUP, s->port_group, gen, &r->port_group) ||
	       rule_list(p, s, MX_COND_IN_PORT_GROUP, s->in_port_group, gen, &r->in_port_group) ||
	       rule_list(p, s, MX_COND_OUT_PORT_GROUP, s->out_port_group, gen,
			 &r->out_port_group) ||
	       rule_list(p, s, MX_COND_IP_GROUP_SRC, s->ip_group_src, gen, &r->ip_group_src) ||
	       rule_list(p, s, MX_COND_IP_GROUP_DST, s->ip_group_dst, gen, &r->ip_group_dst);
}

static bool rule_is_nat(__u8 type)
{
	return type >= MX_RULE_SNAT && type <= MX_RULE_REV_DNAT;
}

/* A rule's fragment policy, defaults and checks as MidoNet's API has them: snat and dnat
 * apply to unfragmented packets only when their targets have ports or the rule tests ports
 * (default unfragmented, else any: -EMSGSIZE for another); other rules that test ports
 * cannot apply to later fragments, which have none (default header: -EPERM for any or
 * nonheader); without ports, default any. -EINVAL: an unknown policy. */
static int rule_frag(const struct mx_rule_spec *s, __u8 *out)
{
	bool l4 = s->conds & MX_COND__L4;
	__u8 frag = s->frag;

	if (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT) {
		bool unfragmented_only = s->nat_ports || l4;

		if (frag == MX_FRAG_DEFAULT)
			frag = unfragmented_only ? MX_FRAG_UNFRAGMENTED : MX_FRAG_ANY;
		if (frag >= MX_FRAG__MAX)
			return -EINVAL;
		if (unfragmented_only && frag != MX_FRAG_UNFRAGMENTED)
			return -EMSGSIZE;
	} else {
		if (frag == MX_FRAG_DEFAULT)
			frag = l4 ? MX_FRAG_HEADER : MX_FRAG_ANY;
		if (frag >= MX_FRAG__MAX)
			return -EINVAL;
		if (l4 && (frag == MX_FRAG_ANY || frag == MX_FRAG_NONHEADER))
			return -EPERM;
	}
	*out = frag;
	return 0;
}

const char *mx_rule_spec_check(const struct mx_rule_spec *s)
{
	__u8 frag, a;
	int err;

	if (s->type < MX_RULE_ACCEPT || s->type >= MX_RULE__MAX)
		return "unknown type";
	if (s->conds & ~MX_COND__ALL)
		return "unknown conditions";
	if (s->inv & ~s->conds)
		return "inverts conditions it does not test";
	if (s->src_len > 32 || s->dst_len > 32)
		return "prefix length over 32";
	if (((s->conds & MX_COND_SRC_PORT) && s->sport_lo > s->sport_hi) ||
	    ((s->conds & MX_COND_DST_PORT) && s->dport_lo > s->dport_hi))
		return "port range ends before it starts";
	err = rule_frag(s, &frag);
	if (err == -EINVAL)
		return "unknown fragment policy";
	if (err == -EPERM)
		return "port conditions need fragment policy header or unfragmented";
	if (err == -EMSGSIZE)
		return "NAT with ports, or with port conditions, needs fragment policy "
		       "unfragmented";
	a = s->nat_action ? s->nat_action : MX_RULE_ACCEPT;
	if (rule_is_nat(s->type) && a != MX_RULE_ACCEPT && a != MX_RULE_CONTINUE &&
	    a != MX_RULE_RETURN)
		return "NAT action is not accept, continue or return";
	if (s->nat_addr && ((s->type != MX_RULE_SNAT && s->type != MX_RULE_DNAT) || s->nat_ports))
		return "a static NAT address on a rule that is not SNAT or DNAT without ports";
	if (s->nat_lo && (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT) && !s->nat_addr) {
		if (!s->nat_hi || ntohl(s->nat_hi) < ntohl(s->nat_lo))
			return "NAT target address range ends before it starts";
		if ((!s->nat_port_lo) != (!s->nat_port_hi) || s->nat_port_lo > s->nat_port_hi)
			return "NAT target port range ends before it starts";
	}
	return NULL;
}

/* Rule ri of chain ci into r (and a dynamic SNAT or DNAT's target into t), for generation
 * gen; -EINVAL (logged) for a bad spec. */
static int rule_compile(const struct mx_chain_program *p, __u32 ci, __u32 ri, __u32 gen,
			struct mx_chain_rule *r, struct mx_chain_nat_target *t)
{
	const struct mx_rule_spec *s = &p->chains[ci].rules[ri];
	const char *bad = mx_rule_spec_check(s);
	__u8 frag;

	memset(r, 0, sizeof(*r));
	memset(t, 0, sizeof(*t));
	if (!bad && !s->nat_addr && (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT)) {
		t->addr_lo = s->nat_lo;
		t->addr_hi = s->nat_lo ? s->nat_hi : 0;
		t->port_lo = s->nat_port_lo;
		t->port_hi = s->nat_port_hi;
	}
	if (bad)
		return RULE_ERR(ci, ri, s, "%s", bad);
	rule_frag(s, &frag);
	if (rule_lists(p, s, gen, r))
		return RULE_ERR(ci, ri, s, "a list reference past the %u lists", p->n_lists);
	if (s->type == MX_RULE_JUMP) {
		if (s->jump_to != MX_CHAIN_SPEC_MISSING && s->jump_to >= p->n_chains)
			return RULE_ERR(ci, ri, s, "jumps to chain index %u of %u", s->jump_to,
					p->n_chains);
		r->target = s->jump_to == MX_CHAIN_SPEC_MISSING ? MX_CHAIN_NONE
								 : p->chains[s->jump_to].id;
	}
	if (rule_is_nat(s->type)) {
		r->nat_action = s->nat_action ? s->nat_action : MX_RULE_ACCEPT;
		r->target = s->nat_target;
		if (s->type == MX_RULE_SNAT || s->type == MX_RULE_DNAT)
			r->nat_addr = s->nat_addr;
	}
	r->rule_id = s->rule_id;
	r->type = s->type;
	r->frag = frag;
	r->conds = s->conds;
	r->inv = s->inv;
	r->proto = s->proto;
	r->tos = s->tos;
	r->src_len = s->src_len;
	r->dst_len = s->dst_len;
	r->src = prefix_net(s->src, s->src_len);
	r->dst = prefix_net(s->dst, s->dst_len);
	r->ethertype = s->ethertype;
	r->sport_lo = s->sport_lo;
	r->sport_hi = s->sport_hi;
	r->dport_lo = s->dport_lo;
	r->dport_hi = s->dport_hi;
	mac_mask(r->hw_src_mask, s->hw_src_mask);
	mac_mask(r->hw_dst_mask, s->hw_dst_mask);
	for (int i = 0; i < 6; i++) {
		r->hw_src[i] = s->hw_src[i] & r->hw_src_mask[i];
		r->hw_dst[i] = s->hw_dst[i] & r->hw_dst_mask[i];
	}
	return 0;
}

/* Chain ids: non-zero, unique, within the map. */
static int chains_check(const struct mx_chain_program *p)
{
	__u32 *ids, dup = 0;
	int found;

	if (p->n_chains > MX_CHAIN_MAX_ENTRIES) {
		mx_err("chains: %u, the map holds %u", p->n_chains, MX_CHAIN_MAX_ENTRIES);
		return -ENOSPC;
	}
	ids = malloc((p->n_chains ? p->n_chains : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (__u32 i = 0; i < p->n_chains; i++)
		ids[i] = p->chains[i].id;
	found = find_dup_or_zero(ids, p->n_chains, &dup);
	free(ids);
	if (found > 0)
		mx_err("chain id %u: %s", dup, dup ? "given twice" : "0 names no chain");
	return found < 0 ? found : found ? -EINVAL : 0;
}

static int rule_ids_check(const struct chain_image *im)
{
	__u32 *ids = malloc((im->n_rules ? im->n_rules : 1) * sizeof(*ids)), dup = 0;
	int found;

	if (!ids)
		return -ENOMEM;
	for (__u32 i = 0; i < im->n_rules; i++)
		ids[i] = im->rules[i].rule_id;
	found = find_dup_or_zero(ids, im->n_rules, &dup);
	free(ids);
	if (found > 0)
		mx_err("rule id %u: %s", dup, dup ? "given twice" : "0 names no rule");
	return found < 0 ? found : found ? -EINVAL : 0;
}

static int members_compile(const struct mx_chain_program *p, __u32 gen, struct chain_image *im)
{
	size_t n = 0, k = 0;

	for (__u32 l = 0; l < p->n_lists; l++)
		n += p->lists[l].n;
	/* Both versions live side by side while one replaces the other. */
	if (n > MX_CHAIN_SET_MAX_ENTRIES / 2) {
		mx_err("list members: %zu, at most %u", n, MX_CHAIN_SET_MAX_ENTRIES / 2);
		return -ENOSPC;
	}
	im->members = malloc((n ? n : 1) * sizeof(*im->members));
	if (!im->members)
		return -ENOMEM;
	for (__u32 l = 0; l < p->n_lists; l++)
		for (__u32 i = 0; i < p->lists[l].n; i++)
			im->members[k++] = (struct mx_chain_set_key){ .set = set_id(l, gen),
								      .member = p->lists[l].members[i] };
	im->n_members = n;
	return 0;
}

/* The whole program p checked and compiled for generation gen into im (freed on error). */
static int chain_compile(const struct mx_chain_program *p, __u32 gen, struct chain_image *im)
{
	__u32 total = 0;
	int err;

	memset(im, 0, sizeof(*im));
	err = chains_check(p);
	if (err)
		return err;
	for (__u32 c = 0; c < p->n_chains; c++)
		total += p->chains[c].n_rules;
	if (total > MX_CHAIN_RULES_MAX) {
		mx_err("rules: %u, at most %u", total, MX_CHAIN_RULES_MAX);
		return -ENOSPC;
	}
	im->rules = calloc(total ? total : 1, sizeof(*im->rules));
	im->targets = calloc(total ? total : 1, sizeof(*im->targets));
	im->chains = calloc(p->n_chains ? p->n_chains : 1, sizeof(*im->chains));
	if (!im->rules || !im->targets || !im->chains) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 c = 0; c < p->n_chains; c++) {
		im->chains[c] = (struct chain_head){ p->chains[c].id, im->n_rules,
						     p->chains[c].n_rules };
		for (__u32 r = 0; r < p->chains[c].n_rules; r++) {
			err = rule_compile(p, c, r, gen, &im->rules[im->n_rules],
					   &im->targets[im->n_rules]);
			im->n_rules++;
			if (err)
				goto out;
		}
	}
	im->n_chains = p->n_chains;
	err = rule_ids_check(im);
	if (!err)
		err = members_compile(p, gen, im);
out:
	if (err)
		image_free(im);
	return err;
}

/* ---- the live version ---- */

static int gen_read(const struct mx_chain_maps *m, __u32 *gen)
{
	struct mx_chain_gen g = { 0 };
	__u32 zero = 0;
	int err = bpf_map_lookup_elem(m->gen, &zero, &g);

	*gen = g.gen & 1;
	return err ? -errno : 0;
}

/* Every key of the chain map (*n of them), malloc'd. */
static int chain_ids(const struct mx_chain_maps *m, __u32 **ids, size_t *n)
{
	size_t cap = 64;
	__u32 key, *prev = NULL;

	*n = 0;
	*ids = malloc(cap * sizeof(**ids));
	if (!*ids)
		return -ENOMEM;
	while (!bpf_map_get_next_key(m->chain, prev, &key)) {
		if (*n == cap) {
			__u32 *more = realloc(*ids, 2 * cap * sizeof(**ids));

			if (!more)
				return free(*ids), *ids = NULL, -ENOMEM;
			*ids = more;
			cap *= 2;
		}
		(*ids)[(*n)++] = key;
		prev = &(*ids)[*n - 1];
	}
	return errno == ENOENT ? 0 : (free(*ids), *ids = NULL, -errno);
}

int mx_chain_entry_read(int chain_fd, __u32 id, struct mx_chain *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mx_chain *all;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	all = calloc((size_t)ncpu, sizeof(*all));
	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(chain_fd, &id, all))
		err = -errno;
	else
		*out = all[0];
	free(all);
	return err;
}

/* Write chain id's entry, the same on every CPU (an existing one rewritten in place). */
static int chain_entry_write(int chain_fd, __u32 id, const struct mx_chain *ch)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mx_chain *all;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	all = calloc((size_t)ncpu, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		all[c] = *ch;
	if (bpf_map_update_elem(chain_fd, &id, all, BPF_ANY))
		err = -errno;
	free(all);
	return err;
}

/* Call fn for each rule of the live half: a non-zero return stops and is returned. */
static int live_rules_walk(const struct mx_chain_maps *m,
			   int (*fn)(const struct mx_chain_rule *r, void *ctx), void *ctx)
{
	__u32 gen, *ids;
	size_t n;
	int err = gen_read(m, &gen);

	if (err || (err = chain_ids(m, &ids, &n)))
		return err;
	for (size_t i = 0; i < n && !err; i++) {
		struct mx_chain ch;

		if (mx_chain_entry_read(m->chain, ids[i], &ch))
			continue; /* removed meanwhile */
		for (__u32 k = 0; k < ch.half[gen].n && !err; k++) {
			__u32 idx = ch.half[gen].first + k;
			struct mx_chain_rule r;

			if (bpf_map_lookup_elem(m->rule, &idx, &r))
				err = -errno;
			else
				err = fn(&r, ctx);
		}
	}
	free(ids);
	return err;
}

/* ---- counters ---- */

struct counter_slots {
	bool used[MX_CHAIN_COUNTERS_MAX]; /* taken by a rule of the new version */
	bool counting[MX_CHAIN_COUNTERS_MAX]; /* a rule of the live version counts in it */
	struct { __u32 rule_id, slot; } *live; /* sorted by rule_id */
	size_t n_live, cap;
};

static int slots_collect(const struct mx_chain_rule *r, void *ctx)
{
	struct counter_slots *cs = ctx;

	if (cs->n_live == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 256;
		void *more = realloc(cs->live, cap * sizeof(*cs->live));

		if (!more)
			return -ENOMEM;
		cs->live = more;
		cs->cap = cap;
	}
	cs->live[cs->n_live].rule_id = r->rule_id;
	cs->live[cs->n_live++].slot = r->counter;
	return 0;
}

static int live_cmp(const void *a, const void *b)
{
	return cmp_u32(a, b); /* rule_id first */
}

static int counter_zero(const struct mx_chain_maps *m, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mx_chain_counter *zero;
	int err;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	err = bpf_map_update_elem(m->count, &slot, zero, BPF_ANY) ? -errno : 0;
	free(zero);
	return err;
}

/* A free slot for a new rule: one no live rule counts in, else (only when the two versions
 * together need more than the map has) one a rule that goes away counts in until the
 * switch. MX_CHAIN_COUNTERS_MAX when there is none. */
static __u32 slot_free(const struct counter_slots *cs)
{
	__u32 s;

	for (s = 0; s < MX_CHAIN_COUNTERS_MAX; s++)
		if (!cs->used[s] && !cs->counting[s])
			return s;
	for (s = 0; s < MX_CHAIN_COUNTERS_MAX; s++)
		if (!cs->used[s])
			return s;
	return s;
}

/* A counter slot for every rule of im: the live slot of its rule_id, else a free one,
 * zeroed. */
static int counters_assign(const struct mx_chain_maps *m, struct chain_image *im)
{
	struct counter_slots *cs = calloc(1, sizeof(*cs));
	int err;

	if (!cs)
		return -ENOMEM;
	err = live_rules_walk(m, slots_collect, cs);
	if (err)
		goto out;
	if (cs->n_live) /* qsort and bsearch want an array, even of none */
		qsort(cs->live, cs->n_live, sizeof(*cs->live), live_cmp);
	for (size_t i = 0; i < cs->n_live; i++)
		if (cs->live[i].slot < MX_CHAIN_COUNTERS_MAX)
			cs->counting[cs->live[i].slot] = true;
	for (__u32 i = 0; i < im->n_rules; i++) {
		const __u32 *hit = !cs->n_live ? NULL
					       : bsearch(&im->rules[i].rule_id, cs->live,
							 cs->n_live, sizeof(*cs->live), live_cmp);

		im->rules[i].counter = ~0u;
		if (hit && hit[1] < MX_CHAIN_COUNTERS_MAX && !cs->used[hit[1]]) {
			im->rules[i].counter = hit[1];
			cs->used[hit[1]] = true;
		}
	}
	for (__u32 i = 0; i < im->n_rules && !err; i++) {
		__u32 slot;

		if (im->rules[i].counter != ~0u)
			continue;
		slot = slot_free(cs);
		if (slot == MX_CHAIN_COUNTERS_MAX) {
			err = -ENOSPC;
			break;
		}
		cs->used[slot] = true;
		im->rules[i].counter = slot;
		err = counter_zero(m, slot);
	}
out:
	free(cs->live);
	free(cs);
	return err;
}

/* ---- install ---- */

/* Delete every member entry of generation gen's sets (leftovers of a failed install, or the
 * version just replaced). */
static int sets_clear(const struct mx_chain_maps *m, __u32 gen)
{
	struct mx_chain_set_key key, *prev = NULL, *doomed = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	while (!bpf_map_get_next_key(m->set, prev, &key)) {
		if (!!(key.set & MX_CHAIN_SET_GEN_BIT) == !!gen) {
			if (n == cap) {
				void *more = realloc(doomed, (cap = cap ? 2 * cap : 256) *
								     sizeof(*doomed));

				if (!more) {
					free(doomed);
					return -ENOMEM;
				}
				doomed = more;
			}
			doomed[n++] = key;
		}
		prev = &key;
	}
	if (errno != ENOENT)
		err = -errno;
	for (size_t i = 0; i < n && !err; i++)
		if (bpf_map_delete_elem(m->set, &doomed[i]) && errno != ENOENT)
			err = -errno;
	free(doomed);
	return err;
}

static int image_write(const struct mx_chain_maps *m, const struct chain_image *im, __u32 gen)
{
	const __u32 one = 1, base = gen * MX_CHAIN_RULES_MAX;
	int err = sets_clear(m, gen);

	for (size_t i = 0; i < im->n_members && !err; i++)
		if (bpf_map_update_elem(m->set, &im->members[i], &one, BPF_ANY))
			err = -errno;
	for (__u32 i = 0; i < im->n_rules && !err; i++) {
		__u32 idx = base + i;

		if (bpf_map_update_elem(m->rule, &idx, &im->rules[i], BPF_ANY))
			err = -errno;
		/* A dynamic SNAT or DNAT's target, or none: never a former rule's. */
		else if ((im->rules[i].type == MX_RULE_SNAT || im->rules[i].type == MX_RULE_DNAT) &&
			 !im->rules[i].nat_addr &&
			 bpf_map_update_elem(m->target, &idx, &im->targets[i], BPF_ANY))
			err = -errno;
	}
	for (__u32 c = 0; c < im->n_chains && !err; c++) {
		struct mx_chain ch = { 0 };

		if (mx_chain_entry_read(m->chain, im->chains[c].id, &ch))
			ch = (struct mx_chain){ 0 }; /* absent */
		ch.half[gen].first = base + im->chains[c].first;
		ch.half[gen].n = im->chains[c].n;
		err = chain_entry_write(m->chain, im->chains[c].id, &ch);
	}
	return err;
}

static bool image_has_chain(const struct chain_image *im, __u32 id)
{
	for (__u32 c = 0; c < im->n_chains; c++)
		if (im->chains[c].id == id)
			return true;
	return false;
}

/* Wait until every evaluation that may have read the old generation has ended: programs
 * run in RCU read-side sections (tc in softirq, a test run under rcu_read_lock), and
 * MEMBARRIER_CMD_GLOBAL waits for an RCU grace period. Without it an evaluation that began
 * on the old half could read it while the next install rewrites it. */
static void readers_drain(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(10000); /* nohz_full: no grace period to ask for; 10 ms is far beyond one run */
}

/* After the switch: the chains the new version lacks and the old version's sets go. */
static int old_remove(const struct mx_chain_maps *m, const struct chain_image *im, __u32 old)
{
	__u32 *ids;
	size_t n;
	int err = chain_ids(m, &ids, &n);

	for (size_t i = 0; i < n && !err; i++)
		if (!image_has_chain(im, ids[i]) && bpf_map_delete_elem(m->chain, &ids[i]) &&
		    errno != ENOENT)
			err = -errno;
	free(ids);
	return err ? err : sets_clear(m, old);
}

int mx_chain_install(const struct mx_chain_maps *m, const struct mx_chain_program *p)
{
	struct chain_image im;
	struct mx_chain_gen g = { 0 };
	__u32 live, zero = 0;
	int err = gen_read(m, &live);

	if (err)
		return err;
	g.gen = live ^ 1;
	err = chain_compile(p, g.gen, &im);
	if (err)
		return err;
	err = counters_assign(m, &im);
	if (!err)
		err = image_write(m, &im, g.gen);
	if (!err && bpf_map_update_elem(m->gen, &zero, &g, BPF_ANY))
		err = -errno;
	if (err) {
		mx_err("chains: not installed (%s): the live version stays", strerror(-err));
		goto out;
	}
	readers_drain();
	err = old_remove(m, &im, live);
	if (err)
		mx_warn("chains: installed, but the old version's leftovers stay (%s)",
			strerror(-err));
out:
	image_free(&im);
	return err;
}

struct counter_find {
	__u32 rule_id, slot;
	bool found;
};

static int counter_find(const struct mx_chain_rule *r, void *ctx)
{
	struct counter_find *f = ctx;

	if (r->rule_id != f->rule_id)
		return 0;
	f->slot = r->counter;
	f->found = true;
	return 1;
}

/* Slot's counters summed over CPUs into out. */
static int counter_sum(const struct mx_chain_maps *m, __u32 slot, struct mx_chain_counter *out)
{
	int ncpu = libbpf_num_possible_cpus(), err;
	struct mx_chain_counter *per;

	if (ncpu < 0)
		return ncpu;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	err = bpf_map_lookup_elem(m->count, &slot, per) ? -errno : 0;
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < ncpu && !err; i++) {
		out->packets += per[i].packets;
		out->bytes += per[i].bytes;
	}
	free(per);
	return err;
}

int mx_chain_counter_read(const struct mx_chain_maps *m, __u32 rule_id,
			  struct mx_chain_counter *out)
{
	struct counter_find f = { .rule_id = rule_id };
	int err = live_rules_walk(m, counter_find, &f);

	if (err < 0)
		return err;
	return f.found ? counter_sum(m, f.slot, out) : -ENOENT;
}

struct counter_walk {
	const struct mx_chain_maps *m;
	int (*fn)(__u32 rule_id, const struct mx_chain_counter *c, void *ctx);
	void *ctx;
};

static int counter_walk_one(const struct mx_chain_rule *r, void *ctx)
{
	struct counter_walk *w = ctx;
	struct mx_chain_counter c;
	int err = counter_sum(w->m, r->counter, &c);

	return err ? err : w->fn(r->rule_id, &c, w->ctx);
}

int mx_chain_counters_walk(const struct mx_chain_maps *m,
			   int (*fn)(__u32 rule_id, const struct mx_chain_counter *c, void *ctx),
			   void *ctx)
{
	struct counter_walk w = { m, fn, ctx };

	return live_rules_walk(m, counter_walk_one, &w);
}
