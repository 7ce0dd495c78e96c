// SPDX-License-Identifier: Apache-2.0
/* Rule chains resolved for the datapath's compiler (filters.h). The snapshot holds them in
 * chain order and has logged what was bad (left out) or dangles (kept, resolved here as
 * MidoNet does: a jump to a missing chain continues, a missing port or group matches no
 * packet). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filters.h"

static long index_of(const void *arr, size_t n, size_t size, const char *id)
{
	if (!id[0])
		return DF_NONE;
	for (size_t i = 0; i < n; i++)
		if (!strcmp((const char *)arr + i * size, id))
			return (long)i;
	return DF_MISSING;
}

static long chain_index(const struct topology *t, const char *id)
{
	return index_of(t->chains, t->n_chains, sizeof(*t->chains), id);
}

static __u32 port_key(const struct topology *t, const char *id)
{
	const struct topo_port *p = topo_find_port_by_id(t, id);

	return p ? p->tunnel_key : 0;
}

static void resolve_rule(const struct topology *t, const struct topo_rule *r, struct df_rule *d)
{
	const struct topo_rule_cond *c = &r->cond;
	size_t pg = sizeof(*t->port_groups), ig = sizeof(*t->ip_groups);

	d->r = *r;
	d->jump = chain_index(t, r->jump_id);
	for (size_t k = 0; k < c->n_in_ports; k++)
		d->in_ports[k] = port_key(t, c->in_ports[k]);
	for (size_t k = 0; k < c->n_out_ports; k++)
		d->out_ports[k] = port_key(t, c->out_ports[k]);
	d->port_group = index_of(t->port_groups, t->n_port_groups, pg, c->port_group);
	d->in_port_group = index_of(t->port_groups, t->n_port_groups, pg, c->in_port_group);
	d->out_port_group = index_of(t->port_groups, t->n_port_groups, pg, c->out_port_group);
	d->ipg_src = index_of(t->ip_groups, t->n_ip_groups, ig, c->ipg_src);
	d->ipg_dst = index_of(t->ip_groups, t->n_ip_groups, ig, c->ipg_dst);
}

static int resolve_chains(const struct topology *t, struct df_chains *out)
{
	size_t i;

	out->chains = calloc(t->n_chains + 1, sizeof(*out->chains));
	out->rules = calloc(t->n_rules + 1, sizeof(*out->rules));
	if (!out->chains || !out->rules)
		return -ENOMEM;
	for (i = 0; i < t->n_chains; i++)
		strcpy(out->chains[i].id, t->chains[i].id);
	out->n_chains = t->n_chains;
	/* The snapshot's rules are grouped by chain, each in position order. */
	for (i = 0; i < t->n_rules; i++) {
		long c = chain_index(t, t->rules[i].chain_id);

		if (c < 0)
			continue;
		if (!out->chains[c].n)
			out->chains[c].first = out->n_rules;
		out->chains[c].n++;
		resolve_rule(t, &t->rules[i], &out->rules[out->n_rules++]);
	}
	return 0;
}

static int resolve_groups(const struct topology *t, struct df_chains *out)
{
	size_t i;

	out->port_groups = calloc(t->n_port_groups + 1, sizeof(*out->port_groups));
	out->ip_groups = calloc(t->n_ip_groups + 1, sizeof(*out->ip_groups));
	if (!out->port_groups || !out->ip_groups)
		return -ENOMEM;
	for (i = 0; i < t->n_port_groups; i++) {
		struct df_port_group *g = &out->port_groups[out->n_port_groups++];

		strcpy(g->id, t->port_groups[i].id);
		g->stateful = t->port_groups[i].stateful;
		g->ports = calloc(t->n_pg_members + 1, sizeof(*g->ports));
		if (!g->ports)
			return -ENOMEM;
		for (size_t k = 0; k < t->n_pg_members; k++)
			if (!strcmp(t->pg_members[k].group_id, g->id))
				g->ports[g->n++] = port_key(t, t->pg_members[k].port_id);
	}
	for (i = 0; i < t->n_ip_groups; i++) {
		struct df_ip_group *g = &out->ip_groups[out->n_ip_groups++];

		strcpy(g->id, t->ip_groups[i].id);
		g->addrs = calloc(t->n_ip_group_addrs + 1, sizeof(*g->addrs));
		if (!g->addrs)
			return -ENOMEM;
		for (size_t k = 0; k < t->n_ip_group_addrs; k++)
			if (!strcmp(t->ip_group_addrs[k].group_id, g->id))
				g->addrs[g->n++] = t->ip_group_addrs[k].addr.s_addr;
	}
	return 0;
}

static void add_filter(const struct topology *t, struct df_chains *out, enum df_owner owner,
		       __u32 key, const struct topo_filters *f)
{
	long in = chain_index(t, f->in), out_ = chain_index(t, f->out);

	/* A filter naming a missing chain was cleared by the snapshot: none. */
	if (in < 0 && out_ < 0)
		return;
	out->filters[out->n_filters++] = (struct df_filter){
		.owner = owner, .key = key, .in = in < 0 ? DF_NONE : in,
		.out = out_ < 0 ? DF_NONE : out_,
	};
}

static int resolve_filters(const struct topology *t, struct df_chains *out)
{
	size_t i;

	out->filters = calloc(t->n_bridges + t->n_routers + t->n_ports + 1,
			      sizeof(*out->filters));
	if (!out->filters)
		return -ENOMEM;
	for (i = 0; i < t->n_bridges; i++)
		add_filter(t, out, DF_BRIDGE, t->bridges[i].tunnel_key, &t->bridges[i].filters);
	for (i = 0; i < t->n_routers; i++)
		add_filter(t, out, DF_ROUTER, t->routers[i].tunnel_key, &t->routers[i].filters);
	for (i = 0; i < t->n_ports; i++)
		add_filter(t, out, DF_PORT, t->ports[i].tunnel_key, &t->ports[i].filters);
	return 0;
}

int filters_resolve(const struct topology *t, struct df_chains *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = resolve_chains(t, out);
	if (!err)
		err = resolve_groups(t, out);
	if (!err)
		err = resolve_filters(t, out);
	if (err)
		filters_free(out);
	return err;
}

void filters_free(struct df_chains *c)
{
	for (size_t i = 0; c->port_groups && i < c->n_port_groups; i++)
		free(c->port_groups[i].ports);
	for (size_t i = 0; c->ip_groups && i < c->n_ip_groups; i++)
		free(c->ip_groups[i].addrs);
	free(c->chains);
	free(c->rules);
	free(c->port_groups);
	free(c->ip_groups);
	free(c->filters);
	memset(c, 0, sizeof(*c));
}

/* A chain's rules and those of the chains it jumps to, each chain once (seen: one flag per
 * chain), depth first with an explicit stack (a loop of jumps is harmless). */
bool filters_rule_nat_dynamic(const struct topo_rule *r)
{
	switch (r->type) {
	case TOPO_RULE_REV_SNAT:
	case TOPO_RULE_REV_DNAT:
		return true;
	case TOPO_RULE_SNAT:
	case TOPO_RULE_DNAT:
		/* One address and no ports is static NAT (a floating IP): no state. */
		return r->has_target && (r->target.port_from ||
					 r->target.from.s_addr != r->target.to.s_addr);
	default:
		return false;
	}
}

bool filters_chain_tracks(const struct df_chains *c, long chain)
{
	bool *seen, tracks = false;
	long *stack;
	size_t n = 0;

	if (chain < 0 || (size_t)chain >= c->n_chains)
		return false;
	seen = calloc(c->n_chains, sizeof(*seen));
	stack = calloc(c->n_chains, sizeof(*stack));
	if (!seen || !stack) { /* cannot tell: tracking costs a little, missing it breaks rules */
		free(seen);
		free(stack);
		return true;
	}
	seen[chain] = true;
	stack[n++] = chain;
	while (n && !tracks) {
		const struct df_chain *ch = &c->chains[stack[--n]];

		for (size_t i = ch->first; i < ch->first + ch->n && !tracks; i++) {
			const struct df_rule *r = &c->rules[i];

			tracks = r->r.cond.flow != TOPO_FLOW_ANY || filters_rule_nat_dynamic(&r->r);
			if (r->jump >= 0 && !seen[r->jump]) {
				seen[r->jump] = true;
				stack[n++] = r->jump;
			}
		}
	}
	free(seen);
	free(stack);
	return tracks;
}

const struct df_filter *filters_of(const struct df_chains *c, enum df_owner owner, __u32 key)
{
	for (size_t i = 0; i < c->n_filters; i++)
		if (c->filters[i].owner == owner && c->filters[i].key == key)
			return &c->filters[i];
	return NULL;
}
