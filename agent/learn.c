// SPDX-License-Identifier: Apache-2.0
/* MACs the datapath learned on local ports go to ZooKeeper, from where every other host
 * programs them; MACs not seen for mac_age_s leave the map and ZooKeeper. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desired.h"
#include "log.h"
#include "agent.h"

static int set_add(struct learned_set *s, const struct learned_mac *m)
{
	struct learned_mac *items;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		items = realloc(s->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		s->items = items;
		s->cap = cap;
	}
	s->items[s->n++] = *m;
	return 0;
}

static bool set_has(const struct learned_set *s, const struct learned_mac *m)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(&s->items[i], m, sizeof(*m)))
			return true;
	return false;
}

struct walk_ctx {
	struct agent *a;
	struct learned_set seen;
	struct learned_set expired;
	__u64 now;
};

static int collect_local(const void *key, const void *value, void *ctx)
{
	const struct mx_fdb_entry *e = value;
	struct walk_ctx *w = ctx;
	struct learned_mac m;

	if (!(e->flags & MX_FDB_LOCAL))
		return 0;
	memset(&m, 0, sizeof(m));
	memcpy(&m.key, key, sizeof(m.key));
	m.port_key = e->port_key;
	if (w->now - e->seen_ns > (__u64)w->a->cfg.mac_age_s * 1000000000ull)
		return set_add(&w->expired, &m);
	return set_add(&w->seen, &m);
}

/* The ids ZooKeeper knows the MAC's bridge and port by; false if the snapshot lacks them. */
static bool mac_ids(const struct agent *a, const struct learned_mac *m, const char **bridge_id,
		    const char **port_id)
{
	const struct topo_bridge *b = desired_bridge_by_key(&a->topo, m->key.bridge_key);
	const struct topo_port *p = desired_port_by_key(&a->topo, m->port_key);

	if (!b || !p)
		return false;
	*bridge_id = b->id;
	*port_id = p->id;
	return true;
}

static void publish_new(struct agent *a, const struct learned_set *seen)
{
	const char *bridge_id, *port_id;

	for (size_t i = 0; i < seen->n; i++) {
		const struct learned_mac *m = &seen->items[i];
		int err;

		if (set_has(&a->published, m) || !mac_ids(a, m, &bridge_id, &port_id))
			continue;
		err = topo_mac_publish(a->zk.zh, a->host_id, bridge_id, m->key.mac, port_id);
		if (err && err != -EEXIST) {
			mx_warn("cannot publish a learned MAC: %s", strerror(-err));
			continue;
		}
		set_add(&a->published, m);
	}
}

/* A published MAC no longer learned here is withdrawn; one whose bridge or port is gone
 * was removed with them. A failed withdrawal is tried again next tick. */
static bool withdraw(struct agent *a, const struct learned_mac *m)
{
	const char *bridge_id, *port_id;
	int err;

	if (!mac_ids(a, m, &bridge_id, &port_id))
		return true;
	err = topo_mac_withdraw(a->zk.zh, bridge_id, m->key.mac, port_id);
	return !err || err == -ENOENT;
}

static void withdraw_gone(struct agent *a, const struct learned_set *seen)
{
	size_t kept = 0;

	for (size_t i = 0; i < a->published.n; i++) {
		const struct learned_mac *m = &a->published.items[i];

		if (set_has(seen, m) || !withdraw(a, m))
			a->published.items[kept++] = *m;
	}
	a->published.n = kept;
}

int agent_learn_tick(struct agent *a)
{
	struct walk_ctx w = { .a = a };
	struct timespec ts;
	int err;

	if (!a->have_topo)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	w.now = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	err = mx_map_walk(a->dp, MX_MAP_ID_FDB, collect_local, &w);
	for (size_t i = 0; !err && i < w.expired.n; i++)
		mx_fdb_delete(a->dp, &w.expired.items[i].key);
	if (!err && atomic_load(&a->zk.connected)) {
		withdraw_gone(a, &w.seen);
		publish_new(a, &w.seen);
	}
	free(w.seen.items);
	free(w.expired.items);
	return err;
}

void agent_learn_forget(struct agent *a)
{
	a->published.n = 0;
}
