// SPDX-License-Identifier: Apache-2.0
/* What the datapath learned here (MACs on bridge ports, neighbours of router ports) goes to
 * ZooKeeper, from where every other host programs it; entries not seen for mac_age_s leave
 * the map and ZooKeeper. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desired.h"
#include "base/clock.h"
#include "base/log.h"
#include "agent.h"

static int set_add(struct learned_set *s, const struct learned *l)
{
	if (!s->ix.key_size) /* a set never used: its index keys whole entries */
		index_init(&s->ix, s->items, sizeof(*l), 0, sizeof(*l), INDEX_BYTES);
	return index_append(&s->ix, &s->items, &s->n, &s->cap, l);
}

static bool set_has(const struct learned_set *s, const struct learned *l)
{
	return index_find(&s->ix, l) >= 0;
}

/* Index the first n items again (the set was compacted or emptied). */
static void set_truncate(struct learned_set *s, size_t n)
{
	index_free(&s->ix);
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (index_add(&s->ix, i))
			break; /* out of memory: what is left is forgotten, published again later */
		s->n++;
	}
}

static void set_free(struct learned_set *s)
{
	index_free(&s->ix);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* What one tick did, for its log line. */
struct tick_counts {
	size_t learned, published, withdrawn, expired;
};

struct walk_ctx {
	struct agent *a;
	enum mx_map_id map;
	struct learned_set seen;
	struct learned_set expired;
	__u64 now;
};

/* One learned entry: into seen, or expired when not confirmed for mac_age_s. */
static int collect(struct walk_ctx *w, const struct learned *l, __u64 seen_ns)
{
	if (!mx_fresh(w->now, seen_ns, w->a->cfg.mac_age_s))
		return set_add(&w->expired, l);
	return set_add(&w->seen, l);
}

static int collect_mac(const void *key, const void *value, void *ctx)
{
	const struct mx_fdb_entry *e = value;
	struct learned l = { .map = MX_MAP_ID_FDB, .port_key = e->port_key };

	if (!(e->flags & MX_FDB_LOCAL))
		return 0;
	memcpy(&l.key.fdb, key, sizeof(l.key.fdb));
	memcpy(l.mac, l.key.fdb.mac, 6);
	return collect(ctx, &l, e->seen_ns);
}

static int collect_neighbour(const void *key, const void *value, void *ctx)
{
	const struct mx_neigh_entry *e = value;
	struct learned l = { .map = MX_MAP_ID_NEIGH, .port_key = e->port_key };

	if (!(e->flags & MX_NEIGH_LOCAL))
		return 0;
	memcpy(&l.key.neigh, key, sizeof(l.key.neigh));
	memcpy(l.mac, e->mac, 6);
	return collect(ctx, &l, e->seen_ns);
}

/* The ids ZooKeeper knows the entry's device and port by; false if the snapshot lacks them. */
static bool learned_ids(const struct agent *a, const struct learned *l, const char **device_id,
			const char **port_id)
{
	const struct topo_port *p = topo_port_by_key(&a->topo, l->port_key);
	const struct topo_bridge *b;
	const struct topo_router *r;

	if (l->map == MX_MAP_ID_FDB) {
		b = topo_bridge_by_key(&a->topo, l->key.fdb.bridge_key);
		*device_id = b ? b->id : NULL;
	} else {
		r = topo_router_by_key(&a->topo, l->key.neigh.router_key);
		*device_id = r ? r->id : NULL;
	}
	*port_id = p ? p->id : NULL;
	return *device_id && *port_id;
}

static int publish(struct agent *a, const struct learned *l, const char *device_id,
		   const char *port_id)
{
	struct in_addr addr;

	if (l->map == MX_MAP_ID_FDB)
		return topo_mac_publish(a->zk.zh, a->host_id, device_id, l->mac, port_id);
	addr.s_addr = l->key.neigh.addr;
	return topo_arp_publish(a->zk.zh, a->host_id, device_id, addr, l->mac, port_id);
}

static int withdraw(struct agent *a, const struct learned *l, const char *device_id,
		    const char *port_id)
{
	struct in_addr addr;

	if (l->map == MX_MAP_ID_FDB)
		return topo_mac_withdraw(a->zk.zh, device_id, l->mac, port_id);
	addr.s_addr = l->key.neigh.addr;
	return topo_arp_withdraw(a->zk.zh, device_id, addr, l->mac);
}

static size_t publish_new(struct agent *a, const struct learned_set *seen)
{
	const char *device_id, *port_id;
	size_t published = 0;

	for (size_t i = 0; i < seen->n; i++) {
		const struct learned *l = &seen->items[i];
		int err;

		if (set_has(&a->published, l) || !learned_ids(a, l, &device_id, &port_id))
			continue;
		err = publish(a, l, device_id, port_id);
		if (err && err != -EEXIST) {
			mx_warn("cannot publish a learned entry: %s", strerror(-err));
			continue;
		}
		set_add(&a->published, l);
		published++;
	}
	return published;
}

/* An entry no longer learned here is withdrawn; one whose device or port is gone was
 * removed with them. A failed withdrawal is tried again next tick. */
static bool withdrawn(struct agent *a, const struct learned *l)
{
	const char *device_id, *port_id;
	int err;

	if (!learned_ids(a, l, &device_id, &port_id))
		return true;
	err = withdraw(a, l, device_id, port_id);
	return !err || err == -ENOENT;
}

static size_t withdraw_gone(struct agent *a, enum mx_map_id map, const struct learned_set *seen)
{
	size_t kept = 0, withdrawn_n;

	for (size_t i = 0; i < a->published.n; i++) {
		const struct learned *l = &a->published.items[i];

		if (l->map != map || set_has(seen, l) || !withdrawn(a, l))
			a->published.items[kept++] = *l;
	}
	withdrawn_n = a->published.n - kept;
	if (withdrawn_n)
		set_truncate(&a->published, kept);
	return withdrawn_n;
}

static void expire(struct agent *a, const struct learned_set *expired)
{
	for (size_t i = 0; i < expired->n; i++) {
		const struct learned *l = &expired->items[i];

		if (l->map == MX_MAP_ID_FDB)
			mx_fdb_delete(a->dp, &l->key.fdb);
		else
			mx_neigh_delete(a->dp, &l->key.neigh);
	}
}

static int learn_map(struct agent *a, enum mx_map_id map, __u64 now,
		     int (*fn)(const void *, const void *, void *), struct tick_counts *c)
{
	struct walk_ctx w = { .a = a, .map = map, .now = now };
	int err;

	err = mx_map_walk(a->dp, map, fn, &w);
	if (!err) {
		expire(a, &w.expired);
		c->learned += w.seen.n;
		c->expired += w.expired.n;
		if (atomic_load(&a->zk.connected)) {
			c->withdrawn += withdraw_gone(a, map, &w.seen);
			c->published += publish_new(a, &w.seen);
		}
	}
	set_free(&w.seen);
	set_free(&w.expired);
	return err;
}

int agent_learn_tick(struct agent *a)
{
	struct tick_counts c = { 0 };
	__u64 now = mx_now_ns();
	int err;

	if (!a->have_topo)
		return 0;
	err = learn_map(a, MX_MAP_ID_FDB, now, collect_mac, &c);
	if (!err)
		err = learn_map(a, MX_MAP_ID_NEIGH, now, collect_neighbour, &c);
	/* Only a tick that changed something: an idle agent logs nothing every second. */
	if (c.published || c.withdrawn || c.expired)
		mx_info("learning: %zu learned, %zu published, %zu withdrawn, %zu expired; tick %.1f ms",
			c.learned, c.published, c.withdrawn, c.expired,
			(double)(mx_now_ns() - now) / 1e6);
	return err;
}

void agent_learn_forget(struct agent *a)
{
	set_truncate(&a->published, 0);
}

void agent_learn_free(struct agent *a)
{
	set_free(&a->published);
}
