// SPDX-License-Identifier: Apache-2.0
/* Rule chains in a snapshot: creation order for chains and groups, rules in chain order
 * with their aliases' numbers, what dangles logged (docs/chains.md, "Bad data"), and who
 * uses an object (what refuses its deletion). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "chains.h"
#include "topo_impl.h"

static int cmp_czxid_at(const void *a, const void *b, void *off)
{
	int64_t x = *(const int64_t *)((const char *)a + *(size_t *)off);
	int64_t y = *(const int64_t *)((const char *)b + *(size_t *)off);

	return x < y ? -1 : x > y ? 1 : strncmp(a, b, TOPO_ID_LEN);
}

static void by_czxid(void *base, size_t n, size_t size, size_t off)
{
	if (n > 1)
		qsort_r(base, n, size, cmp_czxid_at, &off);
}

static long chain_index(const struct topology *t, const char *id)
{
	const struct topo_chain *c = topo_find_chain_by_id(t, id);

	return c ? c - t->chains : -1;
}

struct rule_place {
	long chain;
	uint32_t pos;
	int64_t czxid;
	size_t i;
};

static int cmp_place(const void *a, const void *b)
{
	const struct rule_place *x = a, *y = b;

	if (x->chain != y->chain)
		return x->chain < y->chain ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->czxid < y->czxid ? -1 : x->czxid > y->czxid;
}

/* Ordinals in creation order per chain, then the rules in chain order (chains in creation
 * order, each by position; two rules claiming one position, which only a writer around the
 * library makes, by creation). A rule of no chain is left out. */
static int order_rules(struct topology *t)
{
	struct rule_place *pl = calloc(t->n_rules + 1, sizeof(*pl));
	size_t *count = calloc(t->n_chains + 1, sizeof(*count));
	struct topo_rule *sorted = malloc((t->n_rules + 1) * sizeof(*sorted));
	size_t i, n = 0;

	if (!pl || !count || !sorted) {
		free(pl);
		free(count);
		free(sorted);
		return -ENOMEM;
	}
	by_czxid(t->rules, t->n_rules, sizeof(*t->rules), offsetof(struct topo_rule, czxid));
	for (i = 0; i < t->n_rules; i++) {
		long c = chain_index(t, t->rules[i].chain_id);

		if (c < 0) {
			mx_warn("skipping rule %s: its chain is not there", t->rules[i].id);
			t->n_skipped++;
			continue;
		}
		t->rules[i].ordinal = count[c]++;
		pl[n++] = (struct rule_place){ c, t->rules[i].pos, t->rules[i].czxid, i };
	}
	qsort(pl, n, sizeof(*pl), cmp_place);
	for (i = 0; i < n; i++)
		sorted[i] = t->rules[pl[i].i];
	free(t->rules);
	t->rules = sorted;
	t->n_rules = n;
	free(pl);
	free(count);
	return 0;
}

/* A filter naming a chain that is not there filters nothing: cleared, logged. */
static void check_filters(struct topology *t, const char *what, const char *id,
			  struct topo_filters *f)
{
	if (f->in[0] && !topo_find_chain_by_id(t, f->in)) {
		mx_warn("%s %s: ignoring its infilter %s, no such chain", what, id, f->in);
		f->in[0] = '\0';
	}
	if (f->out[0] && !topo_find_chain_by_id(t, f->out)) {
		mx_warn("%s %s: ignoring its outfilter %s, no such chain", what, id, f->out);
		f->out[0] = '\0';
	}
}

/* A rule's reference to something not there stays (MidoNet's meaning: a jump to a missing
 * chain is continue, a missing port or group holds no packet); logged. */
static void warn_rule_refs(const struct topology *t, const struct topo_rule *r)
{
	const struct topo_rule_cond *c = &r->cond;
	const char *miss = NULL;
	size_t k;

	if (r->jump_id[0] && !topo_find_chain_by_id(t, r->jump_id))
		miss = r->jump_id;
	for (k = 0; k < c->n_in_ports; k++)
		if (!topo_find_port_by_id(t, c->in_ports[k]))
			miss = c->in_ports[k];
	for (k = 0; k < c->n_out_ports; k++)
		if (!topo_find_port_by_id(t, c->out_ports[k]))
			miss = c->out_ports[k];
	if (c->port_group[0] && !topo_find_port_group_by_id(t, c->port_group))
		miss = c->port_group;
	if (c->in_port_group[0] && !topo_find_port_group_by_id(t, c->in_port_group))
		miss = c->in_port_group;
	if (c->out_port_group[0] && !topo_find_port_group_by_id(t, c->out_port_group))
		miss = c->out_port_group;
	if (c->ipg_src[0] && !topo_find_ip_group_by_id(t, c->ipg_src))
		miss = c->ipg_src;
	if (c->ipg_dst[0] && !topo_find_ip_group_by_id(t, c->ipg_dst))
		miss = c->ipg_dst;
	if (miss)
		mx_warn("rule %s names %s, which is not there (it matches as MidoNet's: a jump "
			"continues, a port or group holds no packet)", r->id, miss);
}

/* Members of a port that is not there are left out, logged. */
static void drop_members(struct topology *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_pg_members; i++) {
		const struct topo_pg_member *m = &t->pg_members[i];

		if (topo_find_port_by_id(t, m->port_id) &&
		    topo_find_port_group_by_id(t, m->group_id)) {
			t->pg_members[n++] = *m;
			continue;
		}
		mx_warn("skipping member %s of port group %s: no such port", m->port_id,
			m->group_id);
		t->n_skipped++;
	}
	t->n_pg_members = n;
}

int chain_normalise(struct topology *t)
{
	size_t i;

	by_czxid(t->chains, t->n_chains, sizeof(*t->chains), offsetof(struct topo_chain, czxid));
	by_czxid(t->port_groups, t->n_port_groups, sizeof(*t->port_groups),
		 offsetof(struct topo_port_group, czxid));
	by_czxid(t->pg_members, t->n_pg_members, sizeof(*t->pg_members),
		 offsetof(struct topo_pg_member, czxid));
	by_czxid(t->ip_groups, t->n_ip_groups, sizeof(*t->ip_groups),
		 offsetof(struct topo_ip_group, czxid));
	by_czxid(t->ip_group_addrs, t->n_ip_group_addrs, sizeof(*t->ip_group_addrs),
		 offsetof(struct topo_ip_group_addr, czxid));
	if (order_rules(t))
		return -ENOMEM;
	drop_members(t);
	for (i = 0; i < t->n_bridges; i++)
		check_filters(t, "bridge", t->bridges[i].id, &t->bridges[i].filters);
	for (i = 0; i < t->n_routers; i++)
		check_filters(t, "router", t->routers[i].id, &t->routers[i].filters);
	for (i = 0; i < t->n_ports; i++)
		check_filters(t, "port", t->ports[i].id, &t->ports[i].filters);
	for (i = 0; i < t->n_rules; i++)
		warn_rule_refs(t, &t->rules[i]);
	return 0;
}

void chain_free(struct topology *t)
{
	free(t->chains);
	free(t->rules);
	free(t->port_groups);
	free(t->pg_members);
	free(t->ip_groups);
	free(t->ip_group_addrs);
}

/* ---- who uses an object ---- */

static bool says(const struct topology *t, const char *user, const char *how, char *buf,
		 size_t len, const char *kind)
{
	char a[64];

	if (topo_alias(t, user, a, sizeof(a)))
		snprintf(a, sizeof(a), "%s", user);
	snprintf(buf, len, "%s %s %s", kind, a, how);
	return true;
}

static bool filter_user(const struct topology *t, const char *id, const char *user,
			const struct topo_filters *f, const char *kind, char *buf, size_t len)
{
	if (!strcmp(f->in, id))
		return says(t, user, "infilter", buf, len, kind);
	if (!strcmp(f->out, id))
		return says(t, user, "outfilter", buf, len, kind);
	return false;
}

static bool in_list(const char ports[][TOPO_ID_LEN], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ports[i], id))
			return true;
	return false;
}

static bool rule_user(const struct topology *t, const struct topo_rule *r, const char *id,
		      char *buf, size_t len)
{
	const struct topo_rule_cond *c = &r->cond;
	const char *how = NULL;

	if (!strcmp(r->jump_id, id))
		how = "jump-to";
	else if (in_list(c->in_ports, c->n_in_ports, id))
		how = "in-ports";
	else if (in_list(c->out_ports, c->n_out_ports, id))
		how = "out-ports";
	else if (!strcmp(c->port_group, id))
		how = "port-group";
	else if (!strcmp(c->in_port_group, id))
		how = "in-port-group";
	else if (!strcmp(c->out_port_group, id))
		how = "out-port-group";
	else if (!strcmp(c->ipg_src, id))
		how = "ip-address-group-src";
	else if (!strcmp(c->ipg_dst, id))
		how = "ip-address-group-dst";
	return how && says(t, r->id, how, buf, len, "rule");
}

bool topo_find_user(const struct topology *t, const char *id, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < t->n_routers; i++)
		if (filter_user(t, id, t->routers[i].id, &t->routers[i].filters, "router", buf,
				len))
			return true;
	for (i = 0; i < t->n_bridges; i++)
		if (filter_user(t, id, t->bridges[i].id, &t->bridges[i].filters, "bridge", buf,
				len))
			return true;
	for (i = 0; i < t->n_ports; i++)
		if (filter_user(t, id, t->ports[i].id, &t->ports[i].filters, "port", buf, len))
			return true;
	for (i = 0; i < t->n_rules; i++)
		if (strcmp(t->rules[i].chain_id, id) && rule_user(t, &t->rules[i], id, buf, len))
			return true;
	return false;
}
