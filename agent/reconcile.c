// SPDX-License-Identifier: Apache-2.0
/* Level-triggered: every change, and start-up, runs the same computation and makes the
 * pinned maps and tc attachments equal to it. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desired.h"
#include "base/clock.h"
#include "base/log.h"
#include "agent.h"

static int ifindex_of(const char *ifname)
{
	return (int)if_nametoindex(ifname);
}

struct fdb_ctx {
	struct agent *a;
	const struct desired *d;
	__u64 now;
};

static bool fresh(const struct fdb_ctx *c, __u64 seen_ns)
{
	return mx_fresh(c->now, seen_ns, c->a->cfg.mac_age_s);
}

static bool learned_here(enum mx_map_id map, const void *key, void *ctx)
{
	struct fdb_ctx *c = ctx;
	struct mx_neigh_entry re;
	struct mx_fdb_entry fe;

	if (map == MX_MAP_ID_FDB)
		return !mx_fdb_lookup(c->a->dp, key, &fe) && (fe.flags & MX_FDB_LOCAL) &&
		       fresh(c, fe.seen_ns);
	if (map == MX_MAP_ID_NEIGH)
		return !mx_neigh_lookup(c->a->dp, key, &re) && (re.flags & MX_NEIGH_LOCAL) &&
		       fresh(c, re.seen_ns);
	return false;
}

/* A MAC the datapath learned stays while its port is still a local port of that bridge. */
static bool keep_learned_mac(const void *key, const void *value, void *ctx)
{
	const struct mx_fdb_key *k = key;
	const struct mx_fdb_entry *e = value;
	const struct fdb_ctx *c = ctx;
	const struct mx_port *p;

	if (!(e->flags & MX_FDB_LOCAL))
		return false;
	p = desired_lookup(c->d, MX_MAP_ID_PORT, &e->port_key);
	return p && (p->flags & MX_PORT_LOCAL) && p->device_key == k->bridge_key;
}

/* A neighbour a router port learned here stays while that port is still the router's. */
static bool keep_learned_neighbour(const void *key, const void *value, void *ctx)
{
	const struct mx_neigh_key *k = key;
	const struct mx_neigh_entry *e = value;
	const struct fdb_ctx *c = ctx;
	const struct mx_port *p;

	if (!(e->flags & MX_NEIGH_LOCAL))
		return false;
	p = desired_lookup(c->d, MX_MAP_ID_PORT, &e->port_key);
	return p && (p->flags & MX_PORT_ROUTER) && p->device_key == k->router_key;
}

static bool (*const keep_fns[MX_MAP_ID__MAX])(const void *, const void *, void *) = {
	[MX_MAP_ID_FDB] = keep_learned_mac,
	[MX_MAP_ID_NEIGH] = keep_learned_neighbour,
};

/* Peers and ports first, the interface index last: a frame never finds its ingress port
 * before everything it may be sent to is in place. */
static const enum mx_map_id sync_order[] = {
	MX_MAP_ID_TUNPEER, MX_MAP_ID_PORT,  MX_MAP_ID_BRIDGE, MX_MAP_ID_FDB,
	MX_MAP_ID_ARP,     MX_MAP_ID_NEIGH,  MX_MAP_ID_ROUTE,  MX_MAP_ID_IFPORT,
};

static int sync_maps(struct agent *a, const struct desired *d)
{
	struct fdb_ctx ctx = { .a = a, .d = d };
	struct mx_sync_result res;
	int err;

	err = mx_config_set(a->dp, &d->config);
	if (err) {
		mx_err("cannot write %s: %s", MX_MAP_CONFIG, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sizeof(sync_order) / sizeof(sync_order[0]); i++) {
		enum mx_map_id m = sync_order[i];
		const struct kv_array *kv = &d->maps[m];

		memset(&res, 0, sizeof(res));
		err = mx_map_sync(a->dp, m, kv->keys, kv->values, kv->n,
				  keep_fns[m], &ctx, &res);
		if (err) {
			mx_err("cannot sync %s: %s", mx_map_name(m), strerror(-err));
			return err;
		}
		if (res.added || res.changed || res.removed)
			mx_info("%s: %u added, %u changed, %u removed", mx_map_name(m), res.added,
				res.changed, res.removed);
	}
	return 0;
}

static bool is_bound_here(const struct desired *d, __u32 ifindex)
{
	return desired_lookup(d, MX_MAP_ID_IFPORT, &ifindex) != NULL;
}

static int attach_one(struct agent *a, __u32 ifindex, bool underlay)
{
	char name[IF_NAMESIZE] = "?";
	int err;

	if (a->programs_replaced && mx_attached((int)ifindex))
		return 0;
	err = underlay ? mx_attach_underlay(a->dp, (int)ifindex) : mx_attach_port(a->dp, (int)ifindex);
	if_indextoname(ifindex, name);
	if (err)
		mx_err("cannot attach to %s: %s", name, strerror(-err));
	else
		mx_info("attached %s program to %s", underlay ? "underlay" : "port", name);
	return err;
}

/* Every interface with a midox program that is neither bound nor the underlay loses it:
 * this also cleans up after bindings removed while the agent was down. */
static void detach_unbound(const struct desired *d)
{
	struct if_nameindex *all = if_nameindex(), *i;

	if (!all)
		return;
	for (i = all; i->if_index; i++) {
		if (i->if_index == d->config.underlay_ifindex || is_bound_here(d, i->if_index))
			continue;
		if (mx_attached((int)i->if_index) && !mx_detach((int)i->if_index))
			mx_info("detached from %s", i->if_name);
	}
	if_freenameindex(all);
}

static int sync_attachments(struct agent *a, const struct desired *d)
{
	const struct kv_array *ifp = &d->maps[MX_MAP_ID_IFPORT];
	const __u32 *keys = ifp->keys;
	int err = 0, e;

	if (d->config.underlay_ifindex)
		err = attach_one(a, d->config.underlay_ifindex, true);
	for (size_t i = 0; i < ifp->n; i++) {
		e = attach_one(a, keys[i], false);
		if (e)
			err = e;
	}
	detach_unbound(d);
	if (!err)
		a->programs_replaced = true;
	return err;
}

static void keep_peers(struct agent *a, const struct desired *d)
{
	const struct kv_array *kv = &d->maps[MX_MAP_ID_TUNPEER];
	__be32 *peers = calloc(kv->n ? kv->n : 1, sizeof(*peers));

	if (!peers)
		return;
	if (kv->n) /* no peers: keys may be NULL */
		memcpy(peers, kv->keys, kv->n * sizeof(*peers));
	free(a->peers);
	a->peers = peers;
	a->n_peers = kv->n;
}

static int apply(struct agent *a, const struct topology *t)
{
	struct fdb_ctx ctx = { .a = a, .now = mx_now_ns() };
	struct local_view view = {
		.host_id = a->host_id,
		.underlay_ifindex = if_nametoindex(a->cfg.tunnel_if),
		.vxlan_port = a->cfg.vxlan_port,
		.ifindex_of = ifindex_of,
		.learned_here = learned_here,
		.ctx = &ctx,
	};
	struct desired d;
	int err;

	if (!view.underlay_ifindex)
		mx_warn("tunnel interface %s does not exist (yet)", a->cfg.tunnel_if);
	err = desired_compute(t, &view, &d);
	if (err)
		return err;
	err = sync_maps(a, &d);
	if (!err)
		err = sync_attachments(a, &d);
	if (!err)
		keep_peers(a, &d);
	desired_free(&d);
	return err;
}

struct reattach {
	struct agent *a;
	unsigned int attached, failed;
};

static void reattach_one(struct reattach *r, __u32 ifindex, bool underlay)
{
	if (attach_one(r->a, ifindex, underlay))
		r->failed++;
	else
		r->attached++;
}

static int reattach_port(const void *key, const void *value, void *ctx)
{
	(void)value;
	reattach_one(ctx, *(const __u32 *)key, false);
	return 0;
}

void agent_reattach_pinned(struct agent *a)
{
	struct reattach r = { .a = a };
	struct mx_config cfg;

	if (!mx_config_get(a->dp, &cfg) && cfg.underlay_ifindex)
		reattach_one(&r, cfg.underlay_ifindex, true);
	mx_map_walk(a->dp, MX_MAP_ID_IFPORT, reattach_port, &r);
	/* Every interface the pins know now runs this agent's programs: the first reconcile
	 * need not replace them a second time. With nothing pinned (a first start) it does. */
	if (r.attached && !r.failed)
		a->programs_replaced = true;
}

/* With --verbose: what the read cost, from the mirror's counters. */
static void log_read(zhandle_t *zh, const struct topo_mirror_stats *before)
{
	struct topo_mirror_stats now;

	if (topo_mirror_stats(zh, &now))
		return;
	mx_debug("topology read: %llu nodes asked of ZooKeeper, %llu from the mirror, %llu "
		 "reads again (changed meanwhile), %zu nodes held",
		 (unsigned long long)(now.asked - before->asked),
		 (unsigned long long)(now.served - before->served),
		 (unsigned long long)(now.torn - before->torn), now.nodes);
}

int agent_reconcile(struct agent *a)
{
	struct topo_mirror_stats before = { 0 };
	struct topology t;
	int err;

	memset(&t, 0, sizeof(t));
	topo_mirror_stats(a->zk.zh, &before);
	err = topo_read(a->zk.zh, &t);
	log_read(a->zk.zh, &before);
	if (err) {
		mx_warn("cannot read the topology (%s): keeping the datapath as it is",
			strerror(-err));
		topo_free(&t);
		return err;
	}
	if (t.n_skipped)
		mx_warn("%zu objects could not be parsed and were skipped", t.n_skipped);
	err = apply(a, &t);
	if (err) {
		topo_free(&t);
		return err;
	}
	if (a->have_topo)
		topo_free(&a->topo);
	a->topo = t;
	a->have_topo = true;
	return 0;
}
