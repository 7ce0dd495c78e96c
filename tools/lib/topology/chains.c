// SPDX-License-Identifier: Apache-2.0
/* Writes of rule chains, rules, port groups, IP address groups and filters (docs/chains.md,
 * docs/zookeeper.md "Versioning and multi-ops"). An object a write refers to (the chain a
 * filter or a jump names, the ports and groups a rule names, the port a member is) is
 * rewritten at its version in the same multi: its concurrent deletion fails the version
 * check, and on the retry is refused as in use. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains.h"
#include "write.h"

struct chain_args {
	const char *id, *name, *other;
	const struct topo_rule *rule;
	bool flag;
	struct in_addr addr;
	char *id_out;
};

static const char *al(const struct topology *t, const char *id, char buf[64])
{
	return alias_of(t, id, buf);
}

/* ---- chains ---- */

static int plan_chain_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			     void *arg)
{
	struct chain_args *a = arg;
	struct topo_chain c = { 0 };
	int rc;

	(void)zh;
	rc = plan_named(t->chains, t->n_chains, sizeof(*t->chains),
			offsetof(struct topo_chain, name), "chain", "chain", a->name, c.id);
	if (rc)
		return rc;
	strcpy(c.name, a->name);
	txn_touch(x, t->chains_version, P_CHAINS);
	txn_create(x, ZOO_PERSISTENT, topo_encode_chain(&c), P_CHAIN, c.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_RULES, c.id);
	strcpy(a->id_out, c.id);
	return 0;
}

int topo_chain_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN])
{
	struct chain_args a = { .name = name, .id_out = id };
	int rc = check_name(name);

	return rc ? rc : topo_apply(zh, plan_chain_create, &a);
}

/* -EBUSY naming the first user of id, if any. */
static int check_unused(const struct topology *t, const char *what, const char *id)
{
	char user[160], a[64];

	if (!topo_find_user(t, id, user, sizeof(user)))
		return 0;
	return topo_fail(-EBUSY, "%s %s is in use: %s", what, al(t, id, a), user);
}

static int plan_chain_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			     void *arg)
{
	const char *id = ((struct chain_args *)arg)->id;
	const struct topo_chain *c = topo_find_chain_by_id(t, id);
	size_t i;
	int rc;

	(void)zh;
	if (!c)
		return topo_fail(-ENOENT, "no chain %s", id);
	rc = check_unused(t, "chain", c->id);
	if (rc)
		return rc;
	for (i = 0; i < t->n_rules; i++)
		if (!strcmp(t->rules[i].chain_id, c->id))
			txn_delete(x, t->rules[i].version, P_RULE, c->id, t->rules[i].id);
	txn_delete(x, -1, P_RULES, c->id); /* a rule added meanwhile: ZNOTEMPTY */
	txn_delete(x, c->version, P_CHAIN, c->id);
	return 0;
}

int topo_chain_delete(zhandle_t *zh, const char *chain_id)
{
	struct chain_args a = { .id = chain_id };

	return topo_apply(zh, plan_chain_delete, &a);
}

/* ---- what a write refers to, each rewritten once at its version ---- */

#define MAX_TOUCHED (2 * TOPO_RULE_MAX_PORTS + 8)

struct touched {
	const char *ids[MAX_TOUCHED];
	size_t n;
};

static bool seen(struct touched *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ids[i], id))
			return true;
	s->ids[s->n++] = id;
	return false;
}

static int touch_chain(const struct topology *t, struct topo_txn *x, struct touched *s,
		       const char *id, const char *what)
{
	const struct topo_chain *c = topo_find_chain_by_id(t, id);

	if (!c)
		return topo_fail(-ENOENT, "no chain %s for %s", id, what);
	if (!seen(s, c->id))
		txn_set(x, c->version, topo_encode_chain(c), P_CHAIN, c->id);
	return 0;
}

static int touch_port(const struct topology *t, struct topo_txn *x, struct touched *s,
		      const char *id, const char *what)
{
	const struct topo_port *p = topo_find_port_by_id(t, id);

	if (!p)
		return topo_fail(-ENOENT, "no port %s for %s", id, what);
	if (!seen(s, p->id))
		txn_set(x, p->version, topo_encode_port(p), P_PORT, p->id);
	return 0;
}

static int touch_port_group(const struct topology *t, struct topo_txn *x, struct touched *s,
			    const char *id, const char *what)
{
	const struct topo_port_group *g = topo_find_port_group_by_id(t, id);

	if (!g)
		return topo_fail(-ENOENT, "no port group %s for %s", id, what);
	if (!seen(s, g->id))
		txn_set(x, g->version, topo_encode_port_group(g), P_PORT_GROUP, g->id);
	return 0;
}

static int touch_ip_group(const struct topology *t, struct topo_txn *x, struct touched *s,
			  const char *id, const char *what)
{
	const struct topo_ip_group *g = topo_find_ip_group_by_id(t, id);

	if (!g)
		return topo_fail(-ENOENT, "no IP address group %s for %s", id, what);
	if (!seen(s, g->id))
		txn_set(x, g->version, topo_encode_ip_group(g), P_IP_GROUP, g->id);
	return 0;
}

/* Every object the rule names: there, and rewritten at its version. */
static int touch_rule_refs(const struct topology *t, struct topo_txn *x, struct touched *s,
			   const struct topo_rule *r)
{
	const struct topo_rule_cond *c = &r->cond;
	size_t k;
	int rc = 0;

	if (r->jump_id[0])
		rc = touch_chain(t, x, s, r->jump_id, "jump-to");
	for (k = 0; !rc && k < c->n_in_ports; k++)
		rc = touch_port(t, x, s, c->in_ports[k], "in-ports");
	for (k = 0; !rc && k < c->n_out_ports; k++)
		rc = touch_port(t, x, s, c->out_ports[k], "out-ports");
	if (!rc && c->port_group[0])
		rc = touch_port_group(t, x, s, c->port_group, "port-group");
	if (!rc && c->in_port_group[0])
		rc = touch_port_group(t, x, s, c->in_port_group, "in-port-group");
	if (!rc && c->out_port_group[0])
		rc = touch_port_group(t, x, s, c->out_port_group, "out-port-group");
	if (!rc && c->ipg_src[0])
		rc = touch_ip_group(t, x, s, c->ipg_src, "ip-address-group-src");
	if (!rc && c->ipg_dst[0])
		rc = touch_ip_group(t, x, s, c->ipg_dst, "ip-address-group-dst");
	return rc;
}

/* ---- rules ---- */

static size_t rules_of(const struct topology *t, const char *chain_id)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_rules; i++)
		n += !strcmp(t->rules[i].chain_id, chain_id);
	return n;
}

/* The rules of the chain from position from on move by delta (positions stay dense). */
static void shift_rules(const struct topology *t, struct topo_txn *x, const char *chain_id,
			uint32_t from, int delta)
{
	for (size_t i = 0; i < t->n_rules; i++) {
		struct topo_rule r = t->rules[i];

		if (strcmp(r.chain_id, chain_id) || r.pos < from)
			continue;
		r.pos = (uint32_t)((int)r.pos + delta);
		txn_set(x, r.version, topo_encode_rule(&r), P_RULE, chain_id, r.id);
	}
}

static int plan_rule_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	struct chain_args *a = arg;
	struct topo_rule r = *a->rule;
	struct touched s = { .n = 0 };
	const struct topo_chain *c = topo_find_chain_by_id(t, r.chain_id);
	char ca[64];
	size_t n;
	int rc;

	(void)zh;
	if (!c)
		return topo_fail(-ENOENT, "no chain %s", r.chain_id);
	n = rules_of(t, c->id);
	if (n >= TOPO_CHAIN_MAX_RULES)
		return topo_fail(-ENOSPC, "chain %s has %d rules, the most a chain may have",
				 al(t, c->id, ca), TOPO_CHAIN_MAX_RULES);
	if (!r.pos)
		r.pos = (uint32_t)n + 1;
	if (r.pos > n + 1)
		return topo_fail(-EINVAL, "pos %u: chain %s has %zu rule%s (pos 1 to %zu)", r.pos,
				 al(t, c->id, ca), n, n == 1 ? "" : "s", n + 1);
	rc = touch_chain(t, x, &s, c->id, "the rule");
	if (!rc)
		rc = touch_rule_refs(t, x, &s, &r);
	if (!rc)
		rc = topo_new_uuid(r.id);
	if (rc)
		return rc;
	shift_rules(t, x, c->id, r.pos, +1);
	txn_create(x, ZOO_PERSISTENT, topo_encode_rule(&r), P_RULE, c->id, r.id);
	strcpy(a->id_out, r.id);
	return 0;
}

int topo_rule_add(zhandle_t *zh, const struct topo_rule *rule, char id[TOPO_ID_LEN])
{
	struct topo_rule r = *rule;
	struct chain_args a = { .rule = &r, .id_out = id };
	int rc = topo_rule_check(&r, true);

	return rc ? rc : topo_apply(zh, plan_rule_add, &a);
}

static int plan_rule_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	const char *id = ((struct chain_args *)arg)->id;
	const struct topo_rule *r = topo_find_rule_by_id(t, id);
	const struct topo_chain *c;

	(void)zh;
	if (!r)
		return topo_fail(-ENOENT, "no rule %s", id);
	c = topo_find_chain_by_id(t, r->chain_id);
	txn_set(x, c->version, topo_encode_chain(c), P_CHAIN, c->id);
	shift_rules(t, x, c->id, r->pos + 1, -1);
	txn_delete(x, r->version, P_RULE, c->id, r->id);
	return 0;
}

int topo_rule_delete(zhandle_t *zh, const char *rule_id)
{
	struct chain_args a = { .id = rule_id };

	return topo_apply(zh, plan_rule_delete, &a);
}

/* ---- port groups ---- */

static int plan_pg_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	struct chain_args *a = arg;
	struct topo_port_group g = { .stateful = a->flag };
	int rc;

	(void)zh;
	rc = plan_named(t->port_groups, t->n_port_groups, sizeof(*t->port_groups),
			offsetof(struct topo_port_group, name), "port group", "pgroup", a->name,
			g.id);
	if (rc)
		return rc;
	strcpy(g.name, a->name);
	txn_touch(x, t->port_groups_version, P_PORT_GROUPS);
	txn_create(x, ZOO_PERSISTENT, topo_encode_port_group(&g), P_PORT_GROUP, g.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_PG_MEMBERS, g.id);
	strcpy(a->id_out, g.id);
	return 0;
}

int topo_port_group_create(zhandle_t *zh, const char *name, bool stateful, char id[TOPO_ID_LEN])
{
	struct chain_args a = { .name = name, .flag = stateful, .id_out = id };
	int rc = check_name(name);

	return rc ? rc : topo_apply(zh, plan_pg_create, &a);
}

static int plan_pg_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	const char *id = ((struct chain_args *)arg)->id;
	const struct topo_port_group *g = topo_find_port_group_by_id(t, id);
	size_t i;
	int rc;

	(void)zh;
	if (!g)
		return topo_fail(-ENOENT, "no port group %s", id);
	rc = check_unused(t, "port group", g->id);
	if (rc)
		return rc;
	for (i = 0; i < t->n_pg_members; i++)
		if (!strcmp(t->pg_members[i].group_id, g->id))
			txn_delete(x, t->pg_members[i].version, P_PG_MEMBER, g->id,
				   t->pg_members[i].port_id);
	txn_delete(x, -1, P_PG_MEMBERS, g->id);
	txn_delete(x, g->version, P_PORT_GROUP, g->id);
	return 0;
}

int topo_port_group_delete(zhandle_t *zh, const char *group_id)
{
	struct chain_args a = { .id = group_id };

	return topo_apply(zh, plan_pg_delete, &a);
}

static const struct topo_pg_member *find_member(const struct topology *t, const char *group_id,
						const char *port_id)
{
	for (size_t i = 0; i < t->n_pg_members; i++)
		if (!strcmp(t->pg_members[i].group_id, group_id) &&
		    !strcmp(t->pg_members[i].port_id, port_id))
			return &t->pg_members[i];
	return NULL;
}

static int plan_member(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	struct chain_args *a = arg;
	const struct topo_port_group *g = topo_find_port_group_by_id(t, a->id);
	const struct topo_port *p = topo_find_port_by_id(t, a->other);
	const struct topo_pg_member *m;
	char ga[64], pa[64];

	(void)zh;
	if (!g)
		return topo_fail(-ENOENT, "no port group %s", a->id);
	if (!p)
		return topo_fail(-ENOENT, "no port %s", a->other);
	m = find_member(t, g->id, p->id);
	if (a->flag && m)
		return topo_fail(-EEXIST, "port %s is a member of port group %s already",
				 al(t, p->id, pa), al(t, g->id, ga));
	if (!a->flag && !m)
		return topo_fail(-ENOENT, "port %s is not a member of port group %s",
				 al(t, p->id, pa), al(t, g->id, ga));
	txn_set(x, g->version, topo_encode_port_group(g), P_PORT_GROUP, g->id);
	if (!a->flag) {
		txn_delete(x, m->version, P_PG_MEMBER, g->id, p->id);
		return 0;
	}
	/* Rewriting the port orders the membership against the port's deletion. */
	txn_set(x, p->version, topo_encode_port(p), P_PORT, p->id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_PG_MEMBER, g->id, p->id);
	return 0;
}

int topo_port_group_member_add(zhandle_t *zh, const char *group_id, const char *port_id)
{
	struct chain_args a = { .id = group_id, .other = port_id, .flag = true };

	return topo_apply(zh, plan_member, &a);
}

int topo_port_group_member_delete(zhandle_t *zh, const char *group_id, const char *port_id)
{
	struct chain_args a = { .id = group_id, .other = port_id, .flag = false };

	return topo_apply(zh, plan_member, &a);
}

/* A port going: refused while a rule names it in in-ports or out-ports (naming the rule);
 * its memberships go with it. */
int plan_port_chain_refs(const struct topology *t, struct topo_txn *x, const struct topo_port *p)
{
	char user[160], pa[64];
	size_t i;

	if (topo_find_user(t, p->id, user, sizeof(user)))
		return topo_fail(-EBUSY, "port %s is in use: %s", al(t, p->id, pa), user);
	for (i = 0; i < t->n_pg_members; i++)
		if (!strcmp(t->pg_members[i].port_id, p->id))
			txn_delete(x, t->pg_members[i].version, P_PG_MEMBER,
				   t->pg_members[i].group_id, p->id);
	return 0;
}

/* ---- IP address groups ---- */

static int plan_ipg_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			   void *arg)
{
	struct chain_args *a = arg;
	struct topo_ip_group g = { 0 };
	int rc;

	(void)zh;
	rc = plan_named(t->ip_groups, t->n_ip_groups, sizeof(*t->ip_groups),
			offsetof(struct topo_ip_group, name), "IP address group",
			"ip-address-group", a->name, g.id);
	if (rc)
		return rc;
	strcpy(g.name, a->name);
	txn_touch(x, t->ip_groups_version, P_IP_GROUPS);
	txn_create(x, ZOO_PERSISTENT, topo_encode_ip_group(&g), P_IP_GROUP, g.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_IP_GROUP_ADDRS, g.id);
	strcpy(a->id_out, g.id);
	return 0;
}

int topo_ip_group_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN])
{
	struct chain_args a = { .name = name, .id_out = id };
	int rc = check_name(name);

	return rc ? rc : topo_apply(zh, plan_ipg_create, &a);
}

static int plan_ipg_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			   void *arg)
{
	const char *id = ((struct chain_args *)arg)->id;
	const struct topo_ip_group *g = topo_find_ip_group_by_id(t, id);
	char s[INET_ADDRSTRLEN];
	size_t i;
	int rc;

	(void)zh;
	if (!g)
		return topo_fail(-ENOENT, "no IP address group %s", id);
	rc = check_unused(t, "IP address group", g->id);
	if (rc)
		return rc;
	for (i = 0; i < t->n_ip_group_addrs; i++) {
		if (strcmp(t->ip_group_addrs[i].group_id, g->id))
			continue;
		inet_ntop(AF_INET, &t->ip_group_addrs[i].addr, s, sizeof(s));
		txn_delete(x, t->ip_group_addrs[i].version, P_IP_GROUP_ADDR, g->id, s);
	}
	txn_delete(x, -1, P_IP_GROUP_ADDRS, g->id);
	txn_delete(x, g->version, P_IP_GROUP, g->id);
	return 0;
}

int topo_ip_group_delete(zhandle_t *zh, const char *group_id)
{
	struct chain_args a = { .id = group_id };

	return topo_apply(zh, plan_ipg_delete, &a);
}

static int plan_ipg_addr(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			 void *arg)
{
	struct chain_args *a = arg;
	const struct topo_ip_group *g = topo_find_ip_group_by_id(t, a->id);
	const struct topo_ip_group_addr *hit = NULL;
	char s[INET_ADDRSTRLEN], ga[64];
	size_t i;

	(void)zh;
	if (!g)
		return topo_fail(-ENOENT, "no IP address group %s", a->id);
	for (i = 0; i < t->n_ip_group_addrs; i++)
		if (!strcmp(t->ip_group_addrs[i].group_id, g->id) &&
		    t->ip_group_addrs[i].addr.s_addr == a->addr.s_addr)
			hit = &t->ip_group_addrs[i];
	inet_ntop(AF_INET, &a->addr, s, sizeof(s));
	if (a->flag && hit)
		return topo_fail(-EEXIST, "IP address group %s has %s already", al(t, g->id, ga), s);
	if (!a->flag && !hit)
		return topo_fail(-ENOENT, "IP address group %s has no address %s", al(t, g->id, ga),
				 s);
	txn_set(x, g->version, topo_encode_ip_group(g), P_IP_GROUP, g->id);
	if (a->flag)
		txn_create(x, ZOO_PERSISTENT, NULL, P_IP_GROUP_ADDR, g->id, s);
	else
		txn_delete(x, hit->version, P_IP_GROUP_ADDR, g->id, s);
	return 0;
}

int topo_ip_group_addr_add(zhandle_t *zh, const char *group_id, struct in_addr addr)
{
	struct chain_args a = { .id = group_id, .addr = addr, .flag = true };

	return topo_apply(zh, plan_ipg_addr, &a);
}

int topo_ip_group_addr_delete(zhandle_t *zh, const char *group_id, struct in_addr addr)
{
	struct chain_args a = { .id = group_id, .addr = addr, .flag = false };

	return topo_apply(zh, plan_ipg_addr, &a);
}

/* ---- filters ---- */

struct filter_args {
	const char *id, *in, *out;
};

static void set_filters(struct topo_filters *f, const struct filter_args *a)
{
	if (a->in)
		snprintf(f->in, sizeof(f->in), "%s", a->in);
	if (a->out)
		snprintf(f->out, sizeof(f->out), "%s", a->out);
}

static int plan_filter(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	const struct filter_args *a = arg;
	const struct topo_bridge *b = topo_find_bridge_by_id(t, a->id);
	const struct topo_router *r = topo_find_router_by_id(t, a->id);
	const struct topo_port *p = topo_find_port_by_id(t, a->id);
	struct touched s = { .n = 0 };
	int rc = 0;

	(void)zh;
	if (a->in && *a->in)
		rc = touch_chain(t, x, &s, a->in, "infilter");
	if (!rc && a->out && *a->out)
		rc = touch_chain(t, x, &s, a->out, "outfilter");
	if (rc)
		return rc;
	if (b) {
		struct topo_bridge n = *b;

		set_filters(&n.filters, a);
		txn_set(x, b->version, topo_encode_bridge(&n), P_BRIDGE, b->id);
	} else if (r) {
		struct topo_router n = *r;

		set_filters(&n.filters, a);
		txn_set(x, r->version, topo_encode_router(&n), P_ROUTER, r->id);
	} else if (p) {
		struct topo_port n = *p;

		set_filters(&n.filters, a);
		txn_set(x, p->version, topo_encode_port(&n), P_PORT, p->id);
	} else {
		return topo_fail(-ENOENT, "no bridge, router or port %s", a->id);
	}
	return 0;
}

int topo_filter_set(zhandle_t *zh, const char *device_id, const char *in, const char *out)
{
	struct filter_args a = { .id = device_id, .in = in, .out = out };

	if (!in && !out)
		return topo_fail(-EINVAL, "no filter to set");
	return topo_apply(zh, plan_filter, &a);
}
