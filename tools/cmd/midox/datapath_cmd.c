// SPDX-License-Identifier: Apache-2.0
/* datapath list mac-table|route|neighbour|port|counter|tunnel-peer|filter|connection|nat-lease |
 * datapath show: what
 * this host's pinned maps hold (docs/cli.md, "The datapath"), each key named from a
 * ZooKeeper snapshot when one can be read, else printed as its number. Read only: the
 * pins are opened through the map table (loader/map_table.c), nothing is written. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/bpf.h>

#include "loader/chain.h"
#include "loader/loader.h"
#include "midox/natlease.h"
#include "cli.h"

#define NAME_LEN 80

/* One listing being printed: the CLI, whether keys can be named, where JSON goes. */
struct dpv {
	struct cli *c;
	bool names;  /* c->t is a snapshot to name keys from */
	json_t *arr; /* JSON mode: the listing's array */
	char line[1024];
	__u64 now_ns; /* CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock: the age of learned entries */
};

/* ---- names ---- */

/* A bridge or router by its tunnel key: its name, else its alias; NULL if none has it. */
static const char *device_name(struct dpv *v, __u32 key, char buf[NAME_LEN])
{
	const struct topo_bridge *b = v->names ? topo_bridge_by_key(&v->c->t, key) : NULL;
	const struct topo_router *r = v->names && !b ? topo_router_by_key(&v->c->t, key) : NULL;
	const char *id = b ? b->id : r ? r->id : NULL;
	const char *name = b ? b->name : r ? r->name : NULL;

	if (!id)
		return NULL;
	if (*name)
		snprintf(buf, NAME_LEN, "%s", name);
	else
		cli_alias(v->c, id, buf);
	return buf;
}

/* A port by its tunnel key: its alias (bridge0:port1); NULL if none has it. */
static const char *port_name(struct dpv *v, __u32 key, char buf[NAME_LEN])
{
	const struct topo_port *p = v->names ? topo_port_by_key(&v->c->t, key) : NULL;

	return p ? cli_alias(v->c, p->id, buf) : NULL;
}

/* The host whose tunnel address addr is (in any zone); NULL if none. */
static const struct topo_host *host_at(struct dpv *v, __be32 addr)
{
	for (size_t i = 0; v->names && i < v->c->t.n_members; i++)
		if (v->c->t.members[i].addr.s_addr == addr)
			return topo_find_host_by_id(&v->c->t, v->c->t.members[i].host_id);
	return NULL;
}

/* ---- one line, or one JSON object ---- */

static void add(struct dpv *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct dpv *v, const char *fmt, ...)
{
	size_t n = strlen(v->line);
	va_list ap;

	if (n && n < sizeof(v->line) - 1)
		v->line[n++] = ' ';
	va_start(ap, fmt);
	vsnprintf(v->line + n, sizeof(v->line) - n, fmt, ap);
	va_end(ap);
}

/* "WHAT NAME" or "WHAT #KEY"; JSON: "<what>_key" and, when named, "<what>". */
static void add_named(struct dpv *v, json_t *o, const char *what, __u32 key, const char *name)
{
	char k[64];

	if (name)
		add(v, "%s %s", what, name);
	else
		add(v, "%s #%u", what, key);
	if (!o)
		return;
	snprintf(k, sizeof(k), "%s_key", what);
	json_object_set_new(o, k, json_integer(key));
	if (name)
		json_object_set_new(o, what, json_string(name));
}

static void add_port(struct dpv *v, json_t *o, const char *what, __u32 key)
{
	char buf[NAME_LEN];

	add_named(v, o, what, key, port_name(v, key, buf));
}

static void add_str(struct dpv *v, json_t *o, const char *key, const char *val)
{
	add(v, "%s %s", key, val);
	if (o)
		json_object_set_new(o, key, json_string(val));
}

static void add_uint(struct dpv *v, json_t *o, const char *key, const char *jkey, __u64 val)
{
	add(v, "%s %llu", key, (unsigned long long)val);
	if (o)
		json_object_set_new(o, jkey, json_integer((json_int_t)val));
}

static void add_ip(struct dpv *v, json_t *o, const char *key, __be32 addr)
{
	char a[INET_ADDRSTRLEN];

	add_str(v, o, key, inet_ntop(AF_INET, &addr, a, sizeof(a)));
}

static void add_mac(struct dpv *v, json_t *o, const __u8 mac[6])
{
	char m[18];

	topo_format_mac(mac, m);
	add_str(v, o, "mac", m);
}

/* "learned-here,static": the words of the bits set, "none" if none. */
static void add_flags(struct dpv *v, json_t *o, const char *key, __u32 flags,
		      const char *const words[], unsigned int n_words)
{
	char s[256] = "";
	json_t *list = o ? json_array() : NULL;

	for (unsigned int i = 0; i < 32; i++) {
		char bit[16];
		const char *w = bit;

		if (!(flags & (1u << i)))
			continue;
		snprintf(bit, sizeof(bit), "bit%u", i); /* one this midox does not know */
		if (i < n_words && words[i])
			w = words[i];
		snprintf(s + strlen(s), sizeof(s) - strlen(s), "%s%s", *s ? "," : "", w);
		if (list)
			json_array_append_new(list, json_string(w));
	}
	add(v, "%s %s", key, *s ? s : "none");
	if (o)
		json_object_set_new(o, key, list);
}

/* Seconds since a learned entry was last seen. */
static void add_age(struct dpv *v, json_t *o, __u64 seen_ns)
{
	__u64 age = v->now_ns > seen_ns ? (v->now_ns - seen_ns) / 1000000000ull : 0;

	add(v, "age %llus", (unsigned long long)age);
	if (o)
		json_object_set_new(o, "age_seconds", json_integer((json_int_t)age));
}

static void emit(struct dpv *v, json_t *o)
{
	if (v->arr)
		json_array_append_new(v->arr, o);
	else
		printf("%s\n", v->line);
	v->line[0] = '\0';
}

/* ---- the maps: every entry, sorted for reading ---- */

struct entries {
	char *buf;
	size_t n, cap, size; /* size: a key and its values */
	size_t key_size;
};

static int collect(const void *key, const void *values, void *ctx)
{
	struct entries *e = ctx;
	char *grown;

	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 64;
		grown = realloc(e->buf, e->cap * e->size);
		if (!grown)
			return -ENOMEM;
		e->buf = grown;
	}
	memcpy(e->buf + e->n * e->size, key, e->key_size);
	memcpy(e->buf + e->n * e->size + e->key_size, values, e->size - e->key_size);
	e->n++;
	return 0;
}

/* What a listing's map failed with, said once. */
static int map_fail(struct cli *c, enum mx_map_id id, int err, const struct mx_pinned_map *m)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	if (err == -ENOENT)
		return cli_fail(err, "no map %s in %s: is midox-agent running on this host with "
				"that pin root?", d->name, c->pin_root);
	if (err == -EPROTO)
		return cli_fail(-EINVAL, "map %s in %s has key %zu, value %zu bytes, this midox "
				"expects %zu, %zu: an agent of another version pinned it", d->name,
				c->pin_root, m->key_size, m->value_size, d->key_size,
				d->value_size);
	return cli_fail(err, "cannot read %s/%s: %s", c->pin_root, d->name, strerror(-err));
}

/* The entries of map id, sorted by cmp; e->buf is the caller's to free. */
static int read_map(struct cli *c, enum mx_map_id id, int (*cmp)(const void *, const void *),
		    struct entries *e)
{
	struct mx_pinned_map m;
	int err = mx_pinned_open(c->pin_root, id, &m);

	memset(e, 0, sizeof(*e));
	if (!err) {
		e->key_size = m.key_size;
		e->size = m.key_size +
			  (m.n_values > 1 ? (m.value_size + 7) / 8 * 8 : m.value_size) * m.n_values;
		err = mx_pinned_walk(&m, collect, e);
		if (err)
			err = cli_fail(err, "reading %s/%s: %s", c->pin_root, mx_map_name(id),
				       strerror(-err));
	} else {
		err = map_fail(c, id, err, &m);
	}
	mx_pinned_close(&m);
	if (!err && cmp && e->n)
		qsort(e->buf, e->n, e->size, cmp);
	return err;
}

#define ENTRY(e, i) ((e)->buf + (i) * (e)->size)
#define VALUE(e, i) (ENTRY(e, i) + (e)->key_size)

static int cmp_u32(__u32 a, __u32 b)
{
	return a < b ? -1 : a > b;
}

/* ---- MAC tables (midox_fdb) ---- */

static const char *const fdb_flags[] = { "static", "learned-here", "learned-remote" };

static int cmp_fdb(const void *a, const void *b)
{
	const struct mx_fdb_key *x = a, *y = b;

	return x->bridge_key != y->bridge_key ? cmp_u32(x->bridge_key, y->bridge_key)
					      : memcmp(x->mac, y->mac, 6);
}

static int list_fdb(struct dpv *v)
{
	struct entries e;
	int err = read_map(v->c, MX_MAP_ID_FDB, cmp_fdb, &e);

	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_fdb_key *k = (const void *)ENTRY(&e, i);
		const struct mx_fdb_entry *f = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL;
		char dev[NAME_LEN];

		add_mac(v, o, k->mac);
		add_named(v, o, "bridge", k->bridge_key, device_name(v, k->bridge_key, dev));
		add_port(v, o, "port", f->port_key);
		add_flags(v, o, "type", f->flags, fdb_flags, 3);
		if (f->flags & MX_FDB_LOCAL)
			add_age(v, o, f->seen_ns);
		emit(v, o);
	}
	free(e.buf);
	return err;
}

/* ---- routes (midox_route) ---- */

static const char *route_type(__u32 type)
{
	switch (type) {
	case MX_ROUTE_NORMAL: return "normal";
	case MX_ROUTE_BLACKHOLE: return "blackhole";
	case MX_ROUTE_REJECT: return "reject";
	case MX_ROUTE_LOCAL: return "local";
	default: return "unknown";
	}
}

static int cmp_route(const void *a, const void *b)
{
	const struct mx_route_key *x = a, *y = b;

	if (x->router_key != y->router_key)
		return cmp_u32(x->router_key, y->router_key);
	if (x->dst != y->dst)
		return cmp_u32(ntohl(x->dst), ntohl(y->dst));
	return cmp_u32(x->prefixlen, y->prefixlen);
}

static void add_cidr(struct dpv *v, json_t *o, const char *key, __be32 addr, unsigned int len)
{
	char a[INET_ADDRSTRLEN], s[TOPO_CIDR_STRLEN];

	snprintf(s, sizeof(s), "%s/%u", inet_ntop(AF_INET, &addr, a, sizeof(a)), len);
	add_str(v, o, key, s);
}

/* One hop: "type normal [gw G] port P weight W [src S]". */
static json_t *add_hop(struct dpv *v, const struct mx_nexthop *h, bool json)
{
	json_t *o = json ? json_object() : NULL;

	add_str(v, o, "type", route_type(h->type));
	if (h->gw)
		add_ip(v, o, "gw", h->gw);
	if (h->type == MX_ROUTE_NORMAL || h->type == MX_ROUTE_LOCAL)
		add_port(v, o, "port", h->port_key);
	if (h->type != MX_ROUTE_LOCAL)
		add_uint(v, o, "weight", "weight", h->weight);
	if (h->src_len)
		add_cidr(v, o, "src", h->src, h->src_len);
	return o;
}

/* Text: one line per hop, the prefix on each; JSON: one object per prefix. */
static int list_route(struct dpv *v)
{
	struct entries e;
	int err = read_map(v->c, MX_MAP_ID_ROUTE, cmp_route, &e);

	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_route_key *k = (const void *)ENTRY(&e, i);
		const struct mx_route *r = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL, *hops = v->arr ? json_array() : NULL;
		__u32 n = r->n < MX_ROUTE_MAX_NEXTHOPS ? r->n : MX_ROUTE_MAX_NEXTHOPS;
		char dev[NAME_LEN], head[sizeof(v->line)];

		add(v, "route");
		add_named(v, o, "router", k->router_key, device_name(v, k->router_key, dev));
		add_cidr(v, o, "dst", k->dst, k->prefixlen - 32);
		snprintf(head, sizeof(head), "%s", v->line);
		for (__u32 h = 0; h < n; h++) {
			json_t *hop = add_hop(v, &r->nh[h], o != NULL);

			if (hops)
				json_array_append_new(hops, hop);
			else
				printf("%s\n", v->line);
			snprintf(v->line, sizeof(v->line), "%s", head);
		}
		if (!n && !o)
			printf("%s no next hop\n", head);
		v->line[0] = '\0';
		if (o) {
			json_object_set_new(o, "next_hops", hops);
			json_array_append_new(v->arr, o);
		}
	}
	free(e.buf);
	return err;
}

/* ---- neighbours (midox_neigh) ---- */

static const char *const neigh_flags[] = { "static", "learned-here", "learned-remote" };

static int cmp_neigh(const void *a, const void *b)
{
	const struct mx_neigh_key *x = a, *y = b;

	return x->router_key != y->router_key ? cmp_u32(x->router_key, y->router_key)
					      : cmp_u32(ntohl(x->addr), ntohl(y->addr));
}

static int list_neigh(struct dpv *v)
{
	struct entries e;
	int err = read_map(v->c, MX_MAP_ID_NEIGH, cmp_neigh, &e);

	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_neigh_key *k = (const void *)ENTRY(&e, i);
		const struct mx_neigh_entry *n = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL;
		char dev[NAME_LEN];

		add(v, "neighbour");
		add_named(v, o, "router", k->router_key, device_name(v, k->router_key, dev));
		add_ip(v, o, "address", k->addr);
		add_mac(v, o, n->mac);
		add_port(v, o, "port", n->port_key);
		add_flags(v, o, "type", n->flags, neigh_flags, 3);
		if (n->flags & MX_NEIGH_LOCAL)
			add_age(v, o, n->seen_ns);
		emit(v, o);
	}
	free(e.buf);
	return err;
}

/* ---- ports (midox_port_v2, midox_ifport_v3) ---- */

static const char *const port_flags[] = {
	"local", "remote", "fixed-mac", "fixed-ip", "router", "interior", "down", "device-down",
	"bgp", "rate-limit", "filtered", "device-filtered", "device-ct",
};

static int cmp_key_u32(const void *a, const void *b)
{
	__u32 x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return cmp_u32(x, y);
}

/* The interface of a local port: its binding's on this host as the topology says, else
 * the name of ifindex here. */
static void add_interface(struct dpv *v, json_t *o, const struct mx_port *p, __u32 key)
{
	const struct topo_port *tp = v->names ? topo_port_by_key(&v->c->t, key) : NULL;
	const struct topo_binding *b = tp ? topo_find_port_binding(&v->c->t, tp->id) : NULL;
	char ifname[IF_NAMESIZE];
	const char *name = b ? b->interface : if_indextoname(p->ifindex, ifname);

	add_str(v, o, "interface", name ? name : "?");
	add_uint(v, o, "ifindex", "ifindex", p->ifindex);
}

static void add_remote_host(struct dpv *v, json_t *o, __be32 addr)
{
	const struct topo_host *h = host_at(v, addr);

	if (h)
		add_str(v, o, "host", h->name);
	add_ip(v, o, "via", addr);
}

/* Whether ifport maps some interface to port key (the port is bound here). */
static bool in_ifport(const struct entries *ifp, __u32 key)
{
	for (size_t i = 0; i < ifp->n; i++)
		if (((const struct mx_ifport *)VALUE(ifp, i))->port_key == key)
			return true;
	return false;
}

static void out_port(struct dpv *v, const struct entries *ifp, __u32 key,
		     const struct mx_port *p)
{
	json_t *o = v->arr ? json_object() : NULL;
	char dev[NAME_LEN];

	add_port(v, o, "port", key);
	add_named(v, o, "device", p->device_key, device_name(v, p->device_key, dev));
	add_flags(v, o, "flags", p->flags, port_flags, sizeof(port_flags) / sizeof(port_flags[0]));
	if (p->flags & MX_PORT_LOCAL)
		add_interface(v, o, p, key);
	if ((p->flags & MX_PORT_LOCAL) && !in_ifport(ifp, key))
		add_str(v, o, "ifport", "missing");
	if (p->flags & MX_PORT_REMOTE)
		add_remote_host(v, o, p->host_addr);
	if (p->flags & (MX_PORT_FIXED_MAC | MX_PORT_ROUTER))
		add_mac(v, o, p->mac);
	if (p->flags & MX_PORT_ROUTER)
		add_cidr(v, o, "address", p->addr, p->prefix_len);
	else if (p->flags & MX_PORT_FIXED_IP)
		add_ip(v, o, "address", p->addr);
	if (p->flags & MX_PORT_INTERIOR)
		add_port(v, o, "peer", p->peer_key);
	emit(v, o);
}

static int list_port(struct dpv *v)
{
	struct entries e, ifp = { 0 };
	int err = read_map(v->c, MX_MAP_ID_PORT, cmp_key_u32, &e);

	if (!err)
		err = read_map(v->c, MX_MAP_ID_IFPORT, cmp_key_u32, &ifp);
	for (size_t i = 0; !err && i < e.n; i++) {
		__u32 key;

		memcpy(&key, ENTRY(&e, i), sizeof(key));
		out_port(v, &ifp, key, (const void *)VALUE(&e, i));
	}
	free(e.buf);
	free(ifp.buf);
	return err;
}

/* ---- counters (midox_stats, per CPU) ---- */

static void stats_sum(const struct entries *e, size_t i, struct mx_port_stats *sum)
{
	size_t n = (e->size - e->key_size) / sizeof(*sum);

	memset(sum, 0, sizeof(*sum));
	for (size_t cpu = 0; cpu < n; cpu++) {
		struct mx_port_stats s;

		memcpy(&s, VALUE(e, i) + cpu * sizeof(s), sizeof(s));
		sum->rx_packets += s.rx_packets;
		sum->rx_bytes += s.rx_bytes;
		sum->tx_packets += s.tx_packets;
		sum->tx_bytes += s.tx_bytes;
		for (unsigned int r = 0; r < MX_DROP_SLOTS; r++)
			sum->drops[r] += s.drops[r];
	}
}

/* "drops N (reason n, ...)"; JSON "drops": total, "drop_reasons": { reason: n }. */
static void add_drops(struct dpv *v, json_t *o, const struct mx_port_stats *s)
{
	json_t *reasons = o ? json_object() : NULL;
	char list[1024] = "";
	__u64 total = 0;

	for (unsigned int r = 0; r < MX_DROP_SLOTS; r++) {
		if (!s->drops[r])
			continue;
		total += s->drops[r];
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s %llu",
			 *list ? ", " : "", mx_drop_reason_name(r),
			 (unsigned long long)s->drops[r]);
		if (reasons)
			json_object_set_new(reasons, mx_drop_reason_name(r),
					    json_integer((json_int_t)s->drops[r]));
	}
	add_uint(v, o, "drops", "drops", total);
	if (total)
		add(v, "(%s)", list);
	if (o)
		json_object_set_new(o, "drop_reasons", reasons);
}

/* rx/tx of one slot of midox_traffic (open in m), summed over the CPUs, added to sum;
 * whether it counted anything. */
static bool traffic_add(const struct mx_pinned_map *m, __u32 slot, struct mx_port_stats *sum)
{
	struct mx_traffic t[m->n_values ? m->n_values : 1];
	bool any = false;

	if (slot >= MX_TRAFFIC_SLOTS || bpf_map_lookup_elem(m->fd, &slot, t))
		return false;
	for (unsigned int cpu = 0; cpu < m->n_values; cpu++) {
		sum->rx_packets += t[cpu].rx_packets;
		sum->rx_bytes += t[cpu].rx_bytes;
		sum->tx_packets += t[cpu].tx_packets;
		sum->tx_bytes += t[cpu].tx_bytes;
		any = any || t[cpu].rx_packets || t[cpu].tx_packets;
	}
	return any;
}

/* One counter line: port key (or the host) and its sums. */
static void counter_line(struct dpv *v, __u32 key, const struct mx_port_stats *s)
{
	json_t *o = v->arr ? json_object() : NULL;

	add(v, "counter");
	if (key == MX_STATS_HOST) {
		add(v, "port host");
		if (o)
			json_object_set_new(o, "port_key", json_integer(key));
	} else {
		add_port(v, o, "port", key);
	}
	add_uint(v, o, "rx-packets", "rx_packets", s->rx_packets);
	add_uint(v, o, "rx-bytes", "rx_bytes", s->rx_bytes);
	add_uint(v, o, "tx-packets", "tx_packets", s->tx_packets);
	add_uint(v, o, "tx-bytes", "tx_bytes", s->tx_bytes);
	add_drops(v, o, s);
	emit(v, o);
}

/* The slot of key (MX_STATS_HOST's is the host's), from the ports sorted by key; 0 and
 * false for a port with none. */
static bool slot_of(const struct entries *ports, __u32 key, __u32 *slot)
{
	size_t lo = 0, hi = ports->n;

	*slot = MX_TRAFFIC_HOST_SLOT;
	if (key == MX_STATS_HOST)
		return true;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct mx_port *p = (const void *)VALUE(ports, mid);
		__u32 k;

		memcpy(&k, ENTRY(ports, mid), sizeof(k));
		if (k == key) {
			*slot = p->stats_slot;
			return p->stats_slot != 0;
		}
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Each key of midox_stats, and each port (and the host) whose midox_traffic slot counted
 * something, in key order: the key's midox_stats entry plus its slot's rx/tx. */
static int list_counter(struct dpv *v)
{
	struct mx_pinned_map m = { .fd = -1 };
	struct entries e, ports;
	size_t i = 0, j = 0;
	__u32 slot;
	int err = read_map(v->c, MX_MAP_ID_STATS, cmp_key_u32, &e);

	if (!err)
		err = read_map(v->c, MX_MAP_ID_PORT, cmp_key_u32, &ports);
	else
		memset(&ports, 0, sizeof(ports));
	if (!err) {
		err = mx_pinned_open(v->c->pin_root, MX_MAP_ID_TRAFFIC, &m);
		if (err)
			err = map_fail(v->c, MX_MAP_ID_TRAFFIC, err, &m);
	}
	/* Merge the sorted stats keys with the host and the sorted ports. */
	while (!err && (i < e.n || j <= ports.n)) {
		__u32 ek = UINT32_MAX, pk = UINT32_MAX, key;
		struct mx_port_stats s;
		bool has_stats;

		if (i < e.n)
			memcpy(&ek, ENTRY(&e, i), sizeof(ek));
		if (j == 0)
			pk = MX_STATS_HOST;
		else if (j <= ports.n)
			memcpy(&pk, ENTRY(&ports, j - 1), sizeof(pk));
		key = ek < pk ? ek : pk;
		memset(&s, 0, sizeof(s));
		has_stats = i < e.n && ek == key;
		if (has_stats)
			stats_sum(&e, i++, &s);
		if (j <= ports.n && pk == key)
			j++;
		if ((slot_of(&ports, key, &slot) && traffic_add(&m, slot, &s)) || has_stats)
			counter_line(v, key, &s);
	}
	mx_pinned_close(&m);
	free(e.buf);
	free(ports.buf);
	return err;
}

/* ---- tunnel peers (midox_tunpeer) ---- */

static int cmp_tunpeer(const void *a, const void *b)
{
	__be32 x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return cmp_u32(ntohl(x), ntohl(y));
}

static int list_tunpeer(struct dpv *v)
{
	struct entries e;
	int err = read_map(v->c, MX_MAP_ID_TUNPEER, cmp_tunpeer, &e);

	for (size_t i = 0; !err && i < e.n; i++) {
		json_t *o = v->arr ? json_object() : NULL;
		const struct topo_host *h;
		__be32 addr;

		memcpy(&addr, ENTRY(&e, i), sizeof(addr));
		h = host_at(v, addr);
		add(v, "tunnel-peer");
		add_ip(v, o, "address", addr);
		if (h)
			add_str(v, o, "host", h->name);
		emit(v, o);
	}
	free(e.buf);
	return err;
}

/* ---- filters (midox_filter_v2, the chains in midox_chain_v2) ---- */

/* The live rule count of chain id, from midox_chain_v2's live half (midox_chgen); -1 when the
 * chain is not installed (or the maps cannot be read). */
static long chain_live_rules(int chain_fd, __u32 gen, __u32 id)
{
	struct mx_chain ch;

	if (chain_fd < 0 || mx_chain_entry_read(chain_fd, id, &ch))
		return -1;
	return ch.half[gen & 1].n;
}

/* "infilter NAME rules N" (or "#ID", "not-installed"); nothing for MX_CHAIN_NONE. */
static void add_chain(struct dpv *v, json_t *o, const char *what, __u32 id, const __u32 *ids,
		      const struct mx_chain_maps *m, __u32 gen)
{
	const struct topology *t = &v->c->t;
	long rules = chain_live_rules(m->chain, gen, id);
	const char *name = NULL;
	char k[32];

	if (id == MX_CHAIN_NONE)
		return;
	for (size_t i = 0; v->names && ids && i < t->n_chains && !name; i++)
		if (ids[i] == id)
			name = t->chains[i].name;
	add_named(v, o, what, id, name);
	snprintf(k, sizeof(k), "%s_rules", what);
	if (rules < 0)
		add_str(v, o, k, "not-installed");
	else
		add_uint(v, o, "rules", k, (__u64)rules);
}

static int list_filter(struct dpv *v)
{
	const struct topology *t = &v->c->t;
	__u32 *ids = calloc(t->n_chains + 1, sizeof(*ids)), gen = 0, zero = 0;
	struct mx_chain_maps m = { -1, -1, -1, -1, -1, -1 };
	struct mx_chain_gen g;
	struct entries e = { 0 };
	int err = ids ? read_map(v->c, MX_MAP_ID_FILTER, cmp_key_u32, &e)
		      : cli_fail(-ENOMEM, "out of memory");

	if (ids && t->n_chains &&
	    mx_chain_ids_assign(t->chains[0].id, t->n_chains, sizeof(*t->chains), ids)) {
		free(ids);
		ids = NULL;
	}
	if (!err && !mx_chain_maps_open_pinned(v->c->pin_root, &m) &&
	    !bpf_map_lookup_elem(m.gen, &zero, &g))
		gen = g.gen;
	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_filter *f = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL;
		char buf[NAME_LEN];
		__u32 key;

		memcpy(&key, ENTRY(&e, i), sizeof(key));
		if (v->names && topo_port_by_key(t, key))
			add_port(v, o, "port", key);
		else
			add_named(v, o, "device", key, device_name(v, key, buf));
		/* The datapath takes an entry that names another owner for none. */
		if (f->owner != key) {
			add_uint(v, o, "other-owner", "other_owner", f->owner);
		} else {
			add_chain(v, o, "infilter", f->in_chain, ids, &m, gen);
			add_chain(v, o, "outfilter", f->out_chain, ids, &m, gen);
		}
		emit(v, o);
	}
	free(e.buf);
	mx_chain_maps_close_fds(&m);
	free(ids);
	return err;
}

/* ---- tracked connections (midox_ct) ---- */

static const char *ct_state_name(unsigned int state)
{
	static const char *const names[MX_CT_STATE__MAX] = {
		[MX_CT_TCP_SYN_SENT] = "syn-sent", [MX_CT_TCP_SYN_RECV] = "syn-recv",
		[MX_CT_TCP_ESTABLISHED] = "established", [MX_CT_TCP_FIN_WAIT] = "fin-wait",
		[MX_CT_TCP_TIME_WAIT] = "time-wait", [MX_CT_TCP_CLOSE] = "close",
		[MX_CT_UDP] = "udp", [MX_CT_UDP_STREAM] = "udp-stream", [MX_CT_ICMP] = "icmp",
	};

	return state < MX_CT_STATE__MAX ? names[state] : "unknown";
}

static const char *ct_proto_name(__u8 proto, char buf[8])
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	}
	snprintf(buf, 8, "%u", proto);
	return buf;
}

static int cmp_ct(const void *a, const void *b)
{
	const struct mx_ct_key *x = a, *y = b;

	if (x->device != y->device)
		return cmp_u32(x->device, y->device);
	if (x->src != y->src)
		return cmp_u32(ntohl(x->src), ntohl(y->src));
	if (x->dst != y->dst)
		return cmp_u32(ntohl(x->dst), ntohl(y->dst));
	if (x->proto != y->proto)
		return cmp_u32(x->proto, y->proto);
	if (x->sport != y->sport)
		return cmp_u32(ntohs(x->sport), ntohs(y->sport));
	return cmp_u32(ntohs(x->dport), ntohs(y->dport));
}

/* A NATed connection's binding: the tuple its forward packets leave the device with. */
static void add_ct_nat(struct dpv *v, json_t *o, const struct mx_ct_key *k,
		       const struct mx_ct_entry *ct)
{
	json_t *n = o ? json_object() : NULL;

	add(v, "nat");
	add_ip(v, n, "src", ct->nat.src);
	add_uint(v, n, k->proto == 1 ? "id" : "sport", k->proto == 1 ? "id" : "sport",
		 ntohs(ct->nat.sport));
	add_ip(v, n, "dst", ct->nat.dst);
	if (k->proto != 1)
		add_uint(v, n, "dport", "dport", ntohs(ct->nat.dport));
	if (o)
		json_object_set_new(o, "nat", n);
}

/* Each connection in its forward direction (as opened), on the device that tracks it,
 * with its NAT binding (nat: the tuple it leaves the device as); the index entries of NATed
 * connections are not connections and are not shown. Entries idle past their timeout that
 * the sweep has not freed yet are shown too: the datapath already treats them as gone. */
static int list_ct(struct dpv *v)
{
	struct entries e;
	int err = read_map(v->c, MX_MAP_ID_CT, cmp_ct, &e);

	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_ct_key *k = (const void *)ENTRY(&e, i);
		const struct mx_ct_entry *ct = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL;
		char dev[NAME_LEN], proto[8];

		if (ct->flags & MX_CT_F_NAT_INDEX)
			continue;
		add(v, "connection");
		add_named(v, o, "device", k->device, device_name(v, k->device, dev));
		add_str(v, o, "protocol", ct_proto_name(k->proto, proto));
		add_ip(v, o, "src", k->src);
		add_uint(v, o, k->proto == 1 ? "id" : "sport", k->proto == 1 ? "id" : "sport",
			 ntohs(k->sport));
		add_ip(v, o, "dst", k->dst);
		if (k->proto != 1)
			add_uint(v, o, "dport", "dport", ntohs(k->dport));
		add_str(v, o, "state", ct_state_name(ct->state));
		if (ct->flags & MX_CT_F_NAT)
			add_ct_nat(v, o, k, ct);
		add_age(v, o, ct->last_seen_ns);
		emit(v, o);
	}
	free(e.buf);
	return err;
}

/* ---- dynamic SNAT's port blocks (midox_natlease) ---- */

static int cmp_nat_addr(const void *a, const void *b)
{
	__be32 x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return cmp_u32(ntohl(x), ntohl(y));
}

/* Whether port is in one of lease l's blocks. */
static bool lease_holds(const struct mx_nat_lease *l, unsigned int port)
{
	for (__u32 b = 0; b < l->n_blocks && b < MX_NAT_LEASE_BLOCKS_MAX; b++)
		if (l->block[b] == port / MX_NAT_BLOCK_PORTS)
			return true;
	return false;
}

/* Each NAT address this host picks ports for: its blocks (CPU 0's copy of the value; the
 * agent writes every CPU's the same) and the tracked connections translated to a port of
 * them (another host's, which this host holds as flow state, are that host's). */
static int list_natlease(struct dpv *v)
{
	struct entries e, ct = { 0 };
	int err = read_map(v->c, MX_MAP_ID_NAT_LEASE, cmp_nat_addr, &e);

	if (!err && e.n)
		err = read_map(v->c, MX_MAP_ID_CT, NULL, &ct);
	for (size_t i = 0; !err && i < e.n; i++) {
		const struct mx_nat_lease *l = (const void *)VALUE(&e, i);
		json_t *o = v->arr ? json_object() : NULL;
		json_t *blocks = o ? json_array() : NULL;
		char list[MX_NAT_LEASE_BLOCKS_MAX * 20] = "";
		__u64 conns = 0;
		__be32 addr;

		memcpy(&addr, ENTRY(&e, i), sizeof(addr));
		for (__u32 b = 0; b < l->n_blocks && b < MX_NAT_LEASE_BLOCKS_MAX; b++) {
			unsigned int lo = l->block[b] * MX_NAT_BLOCK_PORTS;

			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%u (%u-%u)",
				 *list ? ", " : "", l->block[b], lo, lo + MX_NAT_BLOCK_PORTS - 1);
			if (blocks)
				json_array_append_new(blocks, json_integer(l->block[b]));
		}
		for (size_t j = 0; j < ct.n; j++) {
			const struct mx_ct_entry *c = (const void *)VALUE(&ct, j);

			conns += (c->flags & MX_CT_F_NAT) && !(c->flags & MX_CT_F_NAT_INDEX) &&
				 c->nat.src == addr && lease_holds(l, ntohs(c->nat.sport));
		}
		add(v, "nat-lease");
		add_ip(v, o, "address", addr);
		add(v, "blocks %s", list);
		if (o)
			json_object_set_new(o, "blocks", blocks);
		add_uint(v, o, "connections", "connections", conns);
		emit(v, o);
	}
	free(ct.buf);
	free(e.buf);
	return err;
}

/* ---- the commands ---- */

static const struct {
	const char *word; /* of "list WORD" */
	const char *json; /* its key in "show"'s object */
	int (*list)(struct dpv *v);
} listings[] = {
	{ "port", "ports", list_port },
	{ "mac-table", "mac_table", list_fdb },
	{ "route", "routes", list_route },
	{ "neighbour", "neighbours", list_neigh },
	{ "tunnel-peer", "tunnel_peers", list_tunpeer },
	{ "counter", "counters", list_counter },
	{ "filter", "filters", list_filter },
	{ "connection", "connections", list_ct },
	{ "nat-lease", "nat_leases", list_natlease },
};

#define N_LISTINGS (sizeof(listings) / sizeof(listings[0]))

/* The pin root must be there; ZooKeeper need not: without it keys print as numbers, and
 * that is said once a session. *names: whether c->t is a snapshot to name keys from. */
int cli_dp_begin(struct cli *c, bool *names)
{
	struct stat st;
	int rc = stat(c->pin_root, &st) ? -errno : 0;

	if (rc && rc != -ENOENT) /* not root: bpffs is 0700 */
		return cli_fail(rc, "cannot read pin root %s: %s", c->pin_root, strerror(-rc));
	if (rc || !S_ISDIR(st.st_mode))
		return cli_fail(-ENOENT, "no pin root %s: no midox-agent pins its maps there "
				"(--pin-root DIR or MIDOX_PIN_ROOT name another)", c->pin_root);
	cli_set_quiet(true);
	rc = cli_refresh(c);
	cli_set_quiet(false);
	*names = !rc;
	if (rc && !c->dp_names_warned) {
		fprintf(stderr, "midox: warning: cannot read the topology from ZooKeeper at %s: "
			"devices and ports are shown by their tunnel keys (#KEY)\n", c->servers);
		c->dp_names_warned = true;
	}
	return 0;
}

static int dpv_begin(struct cli *c, struct dpv *v)
{
	struct timespec ts;

	memset(v, 0, sizeof(*v));
	v->c = c;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v->now_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	return cli_dp_begin(c, &v->names);
}

static int run_listing(struct cli *c, size_t i)
{
	struct dpv v;
	int rc = dpv_begin(c, &v);

	if (rc)
		return rc;
	v.arr = cli_list_begin(c);
	rc = listings[i].list(&v);
	cli_list_end(c, v.arr, rc);
	return rc;
}

static int dp_show(struct cli *c, const struct cli_call *k)
{
	json_t *all = c->json ? json_object() : NULL;
	struct dpv v;
	int rc = dpv_begin(c, &v);

	(void)k;
	for (size_t i = 0; !rc && i < N_LISTINGS; i++) {
		v.arr = all ? json_array() : NULL;
		rc = listings[i].list(&v);
		if (all)
			json_object_set_new(all, listings[i].json, v.arr);
	}
	if (!rc && all)
		cli_print_json(all);
	else
		json_decref(all);
	return rc;
}

/* "list mac-table": the row's second word picks the listing. */
static int dp_list(struct cli *c, const struct cli_call *k)
{
	const char *word = strchr(k->cmd->words, ' ') + 1;

	for (size_t i = 0; i < N_LISTINGS; i++)
		if (!strcmp(listings[i].word, word))
			return run_listing(c, i);
	return -EINVAL;
}

static const struct cli_cmd datapath_type_cmds[] = {
	{ "show", dp_show, "every listing below, of this host's pinned maps", .args = NULL },
	{ "list port", dp_list, "ports: device, flags, interface (local) or host (remote)", .args = NULL },
	{ "list mac-table", dp_list, "MAC tables: bridge, port, static or learned where", .args = NULL },
	{ "list route", dp_list, "routes: router, prefix, each next hop", .args = NULL },
	{ "list neighbour", dp_list, "router neighbours: address, MAC, port, how learned", .args = NULL },
	{ "list tunnel-peer", dp_list, "the tunnel addresses VXLAN is accepted from", .args = NULL },
	{ "list counter", dp_list, "per-port packets, bytes and drops by reason", .args = NULL },
	{ "list filter", dp_list, "rule-chain filters: port or device, its chains and their live rules", .args = NULL },
	{ "list connection", dp_list, "tracked connections: device, protocol, addresses and ports, state, age", .args = NULL },
	{ "list nat-lease", dp_list, "SNAT port blocks this host leased: address, blocks, connections translated to it", .args = NULL },
	{ 0 },
};

const struct cli_obj cli_obj_datapath = {
	.word = "datapath", .title = "datapath", .meta = "",
	.type_cmds = datapath_type_cmds, .offline = true,
};
