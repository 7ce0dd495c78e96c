// SPDX-License-Identifier: Apache-2.0
/* Floating IPs as one write (floating.h, docs/nat.md "The floating-IP recipe"): the two
 * static NAT rules on a router's own filter chains, created with the chains when it has
 * none, and taken away together. Each write is one multi over the snapshot it checked:
 * what it refers to (the router, its chains, the uplink port) is rewritten at its version,
 * so a concurrent change fails the multi and is checked again on the retry. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains.h"
#include "floating.h"
#include "write.h"

#define COND_BIT(c) (1u << (c))

static bool static_target(const struct topo_rule *r)
{
	return r->has_target && r->target.from.s_addr == r->target.to.s_addr &&
	       !r->target.port_from && !r->target.port_to;
}

/* A host prefix c (/32) in a condition bit that is set and not inverted. */
static bool host_cond(const struct topo_rule *r, enum topo_cond k, const struct topo_cidr *c)
{
	return (r->cond.has & COND_BIT(k)) && !(r->cond.inv & COND_BIT(k)) && c->len == 32;
}

/* The recipe's DNAT on chain in_id: a static dnat whose one condition is dst F/32. */
static bool is_fip_dnat(const struct topo_rule *r, const char *in_id)
{
	return *in_id && !strcmp(r->chain_id, in_id) && r->type == TOPO_RULE_DNAT &&
	       static_target(r) && r->cond.has == COND_BIT(TOPO_COND_DST) &&
	       host_cond(r, TOPO_COND_DST, &r->cond.dst) && r->cond.flow == TOPO_FLOW_ANY;
}

/* The recipe's SNAT on chain out_id: a static snat of src A/32, with or without out-ports
 * (one port) as its only other condition. */
static bool is_fip_snat(const struct topo_rule *r, const char *out_id)
{
	uint32_t other = r->cond.has & ~(COND_BIT(TOPO_COND_SRC) | COND_BIT(TOPO_COND_OUT_PORTS));

	if (!*out_id || strcmp(r->chain_id, out_id) || r->type != TOPO_RULE_SNAT ||
	    !static_target(r) || other || !host_cond(r, TOPO_COND_SRC, &r->cond.src) ||
	    r->cond.flow != TOPO_FLOW_ANY)
		return false;
	if (!(r->cond.has & COND_BIT(TOPO_COND_OUT_PORTS)))
		return true;
	return !(r->cond.inv & COND_BIT(TOPO_COND_OUT_PORTS)) && r->cond.n_out_ports == 1;
}

static struct topo_floating_ip *fip_slot(struct topo_floating_ip *out, size_t max, size_t *n,
					 struct in_addr addr)
{
	for (size_t i = 0; i < *n && i < max; i++)
		if (out[i].addr.s_addr == addr.s_addr)
			return &out[i];
	if (*n < max)
		out[*n] = (struct topo_floating_ip){ .addr = addr };
	return (*n)++ < max ? &out[*n - 1] : NULL;
}

size_t topo_floating_ips(const struct topology *t, const char *router_id,
			 struct topo_floating_ip *out, size_t max)
{
	const struct topo_router *rt = topo_find_router_by_id(t, router_id);
	struct topo_floating_ip *f;
	size_t i, n = 0;

	if (!rt)
		return 0;
	for (i = 0; i < t->n_rules; i++) {
		const struct topo_rule *r = &t->rules[i];

		if (!is_fip_dnat(r, rt->filters.in))
			continue;
		f = fip_slot(out, max, &n, r->cond.dst.addr);
		if (f && !f->dnat) {
			f->dnat = r;
			f->target = r->target.from;
		}
	}
	for (i = 0; i < t->n_rules; i++) {
		const struct topo_rule *r = &t->rules[i];

		if (!is_fip_snat(r, rt->filters.out))
			continue;
		f = fip_slot(out, max, &n, r->target.from);
		if (f && !f->snat) {
			f->snat = r;
			if (r->cond.n_out_ports)
				strcpy(f->port_id, r->cond.out_ports[0]);
			if (!f->dnat)
				f->target = r->cond.src.addr;
		}
	}
	return n;
}

/* ---- what else uses a router's filter chain ---- */

static bool filter_names(const struct topo_filters *f, const char *chain_id, const char **how)
{
	if (!strcmp(f->in, chain_id))
		*how = "infilter";
	else if (!strcmp(f->out, chain_id))
		*how = "outfilter";
	else
		return false;
	return true;
}

/* Who other than router rt's own filter (in: its infilter, else its outfilter) uses chain
 * chain_id: "bridge bridge0 outfilter" into buf; false when nothing does. */
static bool chain_other_user(const struct topology *t, const struct topo_router *rt, bool in,
			     const char *chain_id, char *buf, size_t len)
{
	const char *how;
	char a[64];
	size_t i;

	if (!strcmp(in ? rt->filters.out : rt->filters.in, chain_id)) {
		snprintf(buf, len, "its %s", in ? "outfilter" : "infilter");
		return true;
	}
	for (i = 0; i < t->n_routers; i++)
		if (strcmp(t->routers[i].id, rt->id) &&
		    filter_names(&t->routers[i].filters, chain_id, &how)) {
			snprintf(buf, len, "the %s of router %s", how,
				 alias_of(t, t->routers[i].id, a));
			return true;
		}
	for (i = 0; i < t->n_bridges; i++)
		if (filter_names(&t->bridges[i].filters, chain_id, &how)) {
			snprintf(buf, len, "the %s of bridge %s", how,
				 alias_of(t, t->bridges[i].id, a));
			return true;
		}
	for (i = 0; i < t->n_ports; i++)
		if (filter_names(&t->ports[i].filters, chain_id, &how)) {
			snprintf(buf, len, "the %s of port %s", how, alias_of(t, t->ports[i].id, a));
			return true;
		}
	for (i = 0; i < t->n_rules; i++)
		if (!strcmp(t->rules[i].jump_id, chain_id)) {
			snprintf(buf, len, "the jump-to of rule %s", alias_of(t, t->rules[i].id, a));
			return true;
		}
	return false;
}

/* -EBUSY when the router's filter (in or out) chain_id is not its own alone. */
static int check_own_chain(const struct topology *t, const struct topo_router *rt, bool in,
			   const char *chain_id)
{
	const char *side = in ? "infilter" : "outfilter";
	char user[160], ra[64], ca[64];

	if (!*chain_id || !chain_other_user(t, rt, in, chain_id, user, sizeof(user)))
		return 0;
	alias_of(t, rt->id, ra);
	return topo_fail(-EBUSY, "router %s's %s chain %s is also %s: floating-ip writes its rules "
			 "into chains the router alone uses; give router %s an %s of its own "
			 "(router %s clear %s, and floating-ip add creates one), or add the two "
			 "rules by hand (docs/nat.md)", ra, side, alias_of(t, chain_id, ca), user,
			 ra, side, ra, side);
}

/* ---- add ---- */

struct fip_args {
	const char *router_id, *port_id;
	struct in_addr addr, target;
	char *dnat_id, *snat_id;
};

static size_t rules_in(const struct topology *t, const char *chain_id)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n_rules; i++)
		n += !strcmp(t->rules[i].chain_id, chain_id);
	return n;
}

/* The router's chain for one side: the one it has (rewritten at its version, room for one
 * rule more), or a new one "<router><suffix>" created here (*created). Its id into id. A new
 * chain's id sorts after after_id (when not ""): chains created in one multi share their
 * czxid, and aliases number them by id then, so the infilter's is the lower alias. */
static int plan_side_chain(const struct topology *t, struct topo_txn *x,
			   const struct topo_router *rt, const char *have, const char *suffix,
			   const char *after_id, char id[TOPO_ID_LEN], bool *created)
{
	const struct topo_chain *c;
	struct topo_chain n = { 0 };
	char ca[64];
	int rc;

	*created = false;
	if (*have) {
		c = topo_find_chain_by_id(t, have);
		if (!c)
			return topo_fail(-ENOENT, "no chain %s", have);
		if (rules_in(t, c->id) >= TOPO_CHAIN_MAX_RULES)
			return topo_fail(-ENOSPC, "chain %s has %d rules, the most a chain may "
					 "have", alias_of(t, c->id, ca), TOPO_CHAIN_MAX_RULES);
		txn_set(x, c->version, topo_encode_chain(c), P_CHAIN, c->id);
		strcpy(id, c->id);
		return 0;
	}
	if (snprintf(n.name, sizeof(n.name), "%s%s", rt->name, suffix) >= (int)sizeof(n.name))
		return topo_fail(-EINVAL, "router name '%s' too long to name its chain '%s%s' "
				 "(at most %d characters): set its filters first (router %s set "
				 "infilter C outfilter C2)", rt->name, rt->name, suffix,
				 TOPO_NAME_MAX - 1, rt->name);
	rc = check_name(n.name);
	if (!rc)
		rc = plan_named(t->chains, t->n_chains, sizeof(*t->chains),
				offsetof(struct topo_chain, name), "chain", "chain", n.name, n.id);
	for (int i = 0; !rc && i < 64 && strcmp(n.id, after_id) <= 0; i++)
		rc = topo_new_uuid(n.id);
	if (!rc && strcmp(n.id, after_id) <= 0)
		rc = topo_fail(-EAGAIN, "no chain id after %s", after_id);
	if (rc)
		return rc;
	txn_create(x, ZOO_PERSISTENT, topo_encode_chain(&n), P_CHAIN, n.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_RULES, n.id);
	strcpy(id, n.id);
	*created = true;
	return 0;
}

/* A static NAT rule of type type appended to chain_id (pos: its place), id into id. */
static int plan_fip_rule(const struct topology *t, struct topo_txn *x, struct topo_rule *r,
			 const char *chain_id, bool created, char id[TOPO_ID_LEN])
{
	int rc;

	strcpy(r->chain_id, chain_id);
	r->pos = created ? 1 : (uint32_t)rules_in(t, chain_id) + 1;
	r->has_target = true;
	rc = topo_rule_check(r, true);
	if (!rc)
		rc = topo_new_uuid(r->id);
	if (rc)
		return rc;
	txn_create(x, ZOO_PERSISTENT, topo_encode_rule(r), P_RULE, chain_id, r->id);
	strcpy(id, r->id);
	return 0;
}

/* Floating IP addr of router rt into *out: 1, or 0 when it has none (-ENOMEM). */
static int fip_find(const struct topology *t, const struct topo_router *rt,
		    struct in_addr addr, struct topo_floating_ip *out)
{
	size_t max = 2 * TOPO_CHAIN_MAX_RULES, n; /* a DNAT and a SNAT chain, full */
	struct topo_floating_ip *f = calloc(max, sizeof(*f));
	int found = 0;

	if (!f)
		return topo_fail(-ENOMEM, "out of memory");
	n = topo_floating_ips(t, rt->id, f, max);
	for (size_t i = 0; i < n && i < max && !found; i++)
		if (f[i].addr.s_addr == addr.s_addr) {
			*out = f[i];
			found = 1;
		}
	free(f);
	return found;
}

/* F already a floating IP of the router: -EEXIST naming its rule. */
static int check_fip_free(const struct topology *t, const struct topo_router *rt,
			  struct in_addr addr)
{
	char fa[INET_ADDRSTRLEN], ra[64], rla[64];
	struct topo_floating_ip f;
	int rc = fip_find(t, rt, addr, &f);

	if (rc <= 0)
		return rc;
	inet_ntop(AF_INET, &addr, fa, sizeof(fa));
	return topo_fail(-EEXIST, "%s is already a floating IP of router %s (rule %s)", fa,
			 alias_of(t, rt->id, ra), alias_of(t, (f.dnat ? f.dnat : f.snat)->id, rla));
}

static int plan_fip_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	const struct fip_args *a = arg;
	const struct topo_router *rt = topo_find_router_by_id(t, a->router_id);
	const struct topo_port *p = topo_find_port_by_id(t, a->port_id);
	struct topo_rule dnat = { .type = TOPO_RULE_DNAT }, snat = { .type = TOPO_RULE_SNAT };
	char in_id[TOPO_ID_LEN], out_id[TOPO_ID_LEN], pa[64], ra[64];
	struct topo_router nrt;
	bool in_new, out_new;
	int rc;

	(void)zh;
	if (!rt)
		return topo_fail(-ENOENT, "no router %s", a->router_id);
	if (!p)
		return topo_fail(-ENOENT, "no port %s", a->port_id);
	if (strcmp(p->device_id, rt->id))
		return topo_fail(-EINVAL, "port %s is not a port of router %s",
				 alias_of(t, p->id, pa), alias_of(t, rt->id, ra));
	rc = check_fip_free(t, rt, a->addr);
	if (!rc)
		rc = check_own_chain(t, rt, true, rt->filters.in);
	if (!rc)
		rc = check_own_chain(t, rt, false, rt->filters.out);
	if (rc)
		return rc;
	if (!*rt->filters.in || !*rt->filters.out)
		txn_touch(x, t->chains_version, P_CHAINS);
	rc = plan_side_chain(t, x, rt, rt->filters.in, TOPO_FLOATING_IN_SUFFIX, "", in_id,
			     &in_new);
	if (!rc)
		rc = plan_side_chain(t, x, rt, rt->filters.out, TOPO_FLOATING_OUT_SUFFIX,
				     in_new ? in_id : "", out_id, &out_new);
	if (rc)
		return rc;
	/* The router at its version, its filters naming the chains: a concurrent change of
	 * its filters fails the multi. */
	nrt = *rt;
	strcpy(nrt.filters.in, in_id);
	strcpy(nrt.filters.out, out_id);
	txn_set(x, rt->version, topo_encode_router(&nrt), P_ROUTER, rt->id);
	txn_set(x, p->version, topo_encode_port(p), P_PORT, p->id);
	dnat.cond.has = COND_BIT(TOPO_COND_DST);
	dnat.cond.dst = (struct topo_cidr){ .addr = a->addr, .len = 32 };
	dnat.target.from = dnat.target.to = a->target;
	snat.cond.has = COND_BIT(TOPO_COND_SRC) | COND_BIT(TOPO_COND_OUT_PORTS);
	snat.cond.src = (struct topo_cidr){ .addr = a->target, .len = 32 };
	strcpy(snat.cond.out_ports[0], p->id);
	snat.cond.n_out_ports = 1;
	snat.target.from = snat.target.to = a->addr;
	rc = plan_fip_rule(t, x, &dnat, in_id, in_new, a->dnat_id);
	return rc ? rc : plan_fip_rule(t, x, &snat, out_id, out_new, a->snat_id);
}

int topo_floating_ip_add(zhandle_t *zh, const char *router_id, struct in_addr addr,
			 struct in_addr target, const char *port_id, char dnat_id[TOPO_ID_LEN],
			 char snat_id[TOPO_ID_LEN])
{
	struct fip_args a = { .router_id = router_id, .port_id = port_id, .addr = addr,
			      .target = target, .dnat_id = dnat_id, .snat_id = snat_id };

	if (addr.s_addr == target.s_addr)
		return topo_fail(-EINVAL, "a floating IP and its target are two addresses");
	return topo_apply(zh, plan_fip_add, &a);
}

/* ---- delete ---- */

/* Rule r out of its chain (rewritten at its version), the rules after it moving up. */
static void plan_rule_out(const struct topology *t, struct topo_txn *x, const struct topo_rule *r)
{
	const struct topo_chain *c = topo_find_chain_by_id(t, r->chain_id);

	if (c)
		txn_set(x, c->version, topo_encode_chain(c), P_CHAIN, c->id);
	for (size_t i = 0; i < t->n_rules; i++) {
		struct topo_rule m = t->rules[i];

		if (strcmp(m.chain_id, r->chain_id) || m.pos <= r->pos)
			continue;
		m.pos--;
		txn_set(x, m.version, topo_encode_rule(&m), P_RULE, m.chain_id, m.id);
	}
	txn_delete(x, r->version, P_RULE, r->chain_id, r->id);
}

static int plan_fip_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			   void *arg)
{
	const struct fip_args *a = arg;
	const struct topo_router *rt = topo_find_router_by_id(t, a->router_id);
	char fa[INET_ADDRSTRLEN], ra[64];
	struct topo_floating_ip f;
	int rc;

	(void)zh;
	if (!rt)
		return topo_fail(-ENOENT, "no router %s", a->router_id);
	rc = fip_find(t, rt, a->addr, &f);
	if (rc < 0)
		return rc;
	inet_ntop(AF_INET, &a->addr, fa, sizeof(fa));
	if (!rc)
		return topo_fail(-ENOENT, "no floating IP %s on router %s", fa,
				 alias_of(t, rt->id, ra));
	/* Both rules in one chain (the router's two filters one chain, set by hand): the
	 * second's move would rewrite what the first's did. */
	if (f.dnat && f.snat && !strcmp(f.dnat->chain_id, f.snat->chain_id))
		return topo_fail(-EBUSY, "router %s's infilter and outfilter are one chain: "
				 "delete the two rules by hand (chain C rule R delete)",
				 alias_of(t, rt->id, ra));
	txn_set(x, rt->version, topo_encode_router(rt), P_ROUTER, rt->id);
	if (f.dnat)
		plan_rule_out(t, x, f.dnat);
	if (f.snat)
		plan_rule_out(t, x, f.snat);
	return 0;
}

int topo_floating_ip_delete(zhandle_t *zh, const char *router_id, struct in_addr addr)
{
	struct fip_args a = { .router_id = router_id, .addr = addr };

	return topo_apply(zh, plan_fip_delete, &a);
}
