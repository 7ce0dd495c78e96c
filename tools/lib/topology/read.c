// SPDX-License-Identifier: Apache-2.0
/* Reading the whole tree into a snapshot: from ZooKeeper, or through the handle's mirror
 * (mirror.c), which asks only for what changed and leaves a watch on every node. The data
 * of a directory's children is asked for a window at a time, without waiting for each
 * answer. An object that does not parse is logged with its path and left out, never
 * fatal. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "topo_impl.h"

struct reader {
	zhandle_t *zh;
	struct topo_mirror *m;	/* NULL: no mirror, nothing watched */
	watcher_fn watcher;
	struct topology *t;
	char path[TOPO_PATH_MAX];
	char buf[TOPO_DATA_MAX];
	int len;
	struct Stat st;
};

static const char *rpath(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const char *rpath(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	return r->path;
}

static void skip(struct reader *r, const char *why)
{
	mx_warn("skipping %s: %s", r->path, why);
	r->t->n_skipped++;
}

/* Read r->path into r->buf. 0, 1 to skip it (gone: a watch saw it go; or too large), or a
 * negative errno for a session problem. */
static int get(struct reader *r)
{
	const char *cached;
	int rc;

	if (r->m && mirror_data(r->m, r->path, &cached, &r->len, &r->st)) {
		memcpy(r->buf, cached, (size_t)r->len);
	} else {
		r->len = sizeof(r->buf);
		rc = zoo_wget(r->zh, r->path, r->watcher, NULL, r->buf, &r->len, &r->st);
		if (rc == ZNONODE)
			return 1;
		if (rc != ZOK)
			return topo_fail(topo_zerr(rc), "reading %s: %s", r->path, zerror(rc));
		if (r->len < 0)
			r->len = 0; /* null data: fails to decode as "empty data" */
		if (r->m && mirror_keep_data(r->m, r->path, r->buf, r->len, &r->st))
			return topo_fail(-ENOMEM, "out of memory");
	}
	if (r->st.dataLength > (int)sizeof(r->buf)) {
		skip(r, "data larger than any object");
		return 1;
	}
	return 0;
}

/* The children of a directory: the mirror's (sv points into it) or the reader's own. */
struct listing {
	struct String_vector own;
	const struct String_vector *sv;
};

static void listing_free(struct listing *l)
{
	deallocate_String_vector(&l->own);
}

static int children(struct reader *r, struct listing *l, int32_t *version)
{
	struct Stat st;
	int32_t v;
	int rc;

	memset(l, 0, sizeof(*l));
	if (r->m && (l->sv = mirror_list(r->m, r->path, &v))) {
		if (version)
			*version = v;
		return 0;
	}
	l->sv = &l->own;
	rc = zoo_wget_children2(r->zh, r->path, r->watcher, NULL, &l->own, &st);
	if (rc == ZNONODE) {
		if (version)
			*version = -1;
		return 1;
	}
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", r->path, zerror(rc));
	if (version)
		*version = st.version;
	if (r->m) {
		l->sv = mirror_keep_list(r->m, r->path, &l->own, st.version);
		if (!l->sv)
			return topo_fail(-ENOMEM, "out of memory");
	}
	return 0;
}

/* Whether r->path exists (watched while absent too). 0 or a negative errno. */
static int exists(struct reader *r, bool *yes)
{
	struct Stat st;
	int rc;

	if (r->m && mirror_exists(r->m, r->path, yes))
		return 0;
	rc = zoo_wexists(r->zh, r->path, r->watcher, NULL, &st);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "reading %s: %s", r->path, zerror(rc));
	*yes = rc == ZOK;
	if (r->m && mirror_keep_exists(r->m, r->path, *yes))
		return topo_fail(-ENOMEM, "out of memory");
	return 0;
}

/* One kind of object: where its znodes are, how a node (name and data) decodes, where
 * it goes in the snapshot, and what to read below each one. */
struct kind {
	const char *dir;	/* path of the parent: a format given the parent's id */
	topo_decode_fn *decode;	/* the identity in the node's name included */
	size_t size;
	size_t parent_off;	/* where the parent's id goes (SIZE_MAX: none) */
	size_t czxid_off, version_off; /* version_off SIZE_MAX: not kept */
	size_t arr_off, n_off;	/* the array and its count in struct topology */
	size_t dir_version_off;	/* where dir's version goes in struct topology (SIZE_MAX: not kept) */
	int (*below)(struct reader *r, void *obj);	   /* NULL: nothing */
};

#define FIELD(obj, off, type) ((type *)((char *)(obj) + (off)))

/* ---- pipelined reads ---- */

/* Reads in flight at once, and the values held until they are processed: enough to hide the
 * round trip, few enough to bound memory (a value is at most TOPO_DATA_MAX). */
#define WINDOW 4096
/* Not ZooKeeper codes: no memory to keep the value; the path does not fit, not asked for. */
#define RC_NOMEM 1
#define RC_LONG 2

struct batch;

/* One read: filled by its completion. */
struct slot {
	struct batch *b;
	int rc;
	struct Stat st;
	size_t off;	/* the value, in the batch's arena */
	const char *ext; /* or in the mirror (not asked of ZooKeeper) */
	int len;
};

/* A window of reads. Completions run on the client's thread: they fill their slot and copy
 * the value into the arena, under the lock; the reader waits until all are done. */
struct batch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t issued;		/* the reader's own count */
	size_t want, done;	/* under the lock: the last completion wakes the reader */
	bool orphan;	/* a completion may still come: never freed */
	struct slot *slots;
	char *data;
	size_t used, cap;
};

static struct batch *batch_new(size_t n)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->slots = calloc(n, sizeof(*b->slots));
	if (!b->slots) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	return b;
}

static void batch_free(struct batch *b)
{
	if (!b || b->orphan)
		return;
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	free(b->slots);
	free(b->data);
	free(b);
}

/* Copy a value into the arena (lock held). Slots keep offsets: the arena moves as it grows. */
static int keep(struct batch *b, struct slot *s, const char *value, int len)
{
	if (b->used + (size_t)len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *data;

		while (cap < b->used + (size_t)len)
			cap *= 2;
		data = realloc(b->data, cap);
		if (!data)
			return RC_NOMEM;
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->used, value, (size_t)len);
	s->off = b->used;
	s->len = len;
	b->used += (size_t)len;
	return ZOK;
}

/* The completion of one read: value is the client's, valid only during the call. A value
 * too large for any object is not kept (its stat says so); null data stays empty. */
static void got(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
	struct slot *s = (struct slot *)data;
	struct batch *b = s->b;

	pthread_mutex_lock(&b->lock);
	s->rc = rc;
	if (rc == ZOK && st)
		s->st = *st;
	if (rc == ZOK && value && len > 0 && len <= TOPO_DATA_MAX)
		s->rc = keep(b, s, value, len);
	if (++b->done == b->want)
		pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* Ask for the data of the n nodes dir/names[i] at once, each watched as a synchronous read
 * would be; what the mirror holds clean is taken from it instead. A request the client
 * refuses gets its error in its slot, as from a completion, and ends the window there.
 * Returns how many slots have a result to process. */
static size_t issue(struct reader *r, struct batch *b, const char *dir, char *const *names,
		    size_t n)
{
	char path[TOPO_PATH_MAX];
	size_t i;
	int rc = ZOK;

	pthread_mutex_lock(&b->lock);
	memset(b->slots, 0, n * sizeof(*b->slots));
	for (i = 0; i < n; i++)
		b->slots[i].b = b;
	b->want = SIZE_MAX;
	b->done = b->used = 0;
	pthread_mutex_unlock(&b->lock);
	b->issued = 0;
	for (i = 0; i < n && rc == ZOK; i++) {
		struct slot *s = &b->slots[i];

		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
			s->rc = RC_LONG;
			continue;
		}
		if (r->m && mirror_data(r->m, path, &s->ext, &s->len, &s->st)) {
			s->rc = ZOK;
			continue;
		}
		rc = zoo_awget(r->zh, path, r->watcher, NULL, got, s);
		if (rc == ZOK) {
			b->issued++;
			continue;
		}
		s->rc = rc;
		/* Out of memory in the client, maybe after it registered the completion. */
		if (rc == ZMARSHALLINGERROR)
			b->orphan = true;
	}
	return i;
}

/* Until every completion of the window has run: only then may its slots be read or freed,
 * whatever failed. The client calls each one, with an error when the session fails. */
static void wait_all(struct batch *b)
{
	pthread_mutex_lock(&b->lock);
	b->want = b->issued;
	while (b->done < b->want)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
}

/* The object read into s (at r->path, named name): decoded into the snapshot, then what is
 * below it is read. 0 (taken, or left out), or a negative errno. */
static int take(struct reader *r, const struct kind *k, const char *parent, const char *name,
		const struct batch *b, const struct slot *s)
{
	void **arr = FIELD(r->t, k->arr_off, void *);
	size_t *n = FIELD(r->t, k->n_off, size_t);
	void *obj;

	if (s->rc == ZNONODE)
		return 0; /* gone since the listing: a watch on the directory saw it go */
	if (s->rc == RC_NOMEM)
		return topo_fail(-ENOMEM, "out of memory");
	if (s->rc == RC_LONG) {
		skip(r, "the name is too long");
		return 0;
	}
	if (s->rc != ZOK)
		return topo_fail(topo_zerr(s->rc), "reading %s: %s", r->path, zerror(s->rc));
	if (!s->ext && r->m && mirror_keep_data(r->m, r->path, b->data + s->off, s->len, &s->st))
		return topo_fail(-ENOMEM, "out of memory");
	if (s->st.dataLength > TOPO_DATA_MAX) {
		skip(r, "data larger than any object");
		return 0;
	}
	/* Decoded in place at the end of its array (zeroed), taken back if it does not. */
	obj = topo_push(arr, n, k->size);
	if (!obj)
		return topo_fail(-ENOMEM, "out of memory");
	if (k->decode(!s->len ? "" : s->ext ? s->ext : b->data + s->off, (size_t)s->len, name,
		      obj)) {
		(*n)--;
		skip(r, topo_errmsg());
		return 0;
	}
	if (k->parent_off != SIZE_MAX)
		strcpy(FIELD(obj, k->parent_off, char), parent);
	*FIELD(obj, k->czxid_off, int64_t) = s->st.czxid;
	if (k->version_off != SIZE_MAX)
		*FIELD(obj, k->version_off, int32_t) = s->st.version;
	return k->below ? k->below(r, obj) : 0;
}

/* Read every object of kind k under the parent ("" for the top level). The children's data
 * is read a window at a time, pipelined, then taken in listing order; what is below an
 * object is read when it is taken (its own reads pipelined in turn). */
static int read_kind(struct reader *r, const struct kind *k, const char *parent)
{
	char dir[TOPO_PATH_MAX];
	struct listing l;
	struct batch *b = NULL;
	size_t count, from, n, i;
	int rc;

	snprintf(dir, sizeof(dir), k->dir, parent);
	rpath(r, "%s", dir);
	rc = children(r, &l, k->dir_version_off == SIZE_MAX ? NULL :
			     FIELD(r->t, k->dir_version_off, int32_t));
	if (rc) {
		listing_free(&l);
		return rc < 0 ? rc : 0;
	}
	count = l.sv->count > 0 ? (size_t)l.sv->count : 0;
	if (count) {
		b = batch_new(count < WINDOW ? count : WINDOW);
		if (!b)
			rc = topo_fail(-ENOMEM, "out of memory");
	}
	for (from = 0; !rc && from < count; from += n) {
		char *const *names = l.sv->data + from;

		n = issue(r, b, dir, names, count - from < WINDOW ? count - from : WINDOW);
		wait_all(b);
		/* A window cut short ends with an error: taking it fails the read. */
		for (i = 0; !rc && i < n; i++) {
			rpath(r, "%s/%s", dir, names[i]);
			rc = take(r, k, parent, names[i], b, &b->slots[i]);
		}
	}
	batch_free(b);
	listing_free(&l);
	return rc;
}

#define ARRAY(name) offsetof(struct topology, name), offsetof(struct topology, n_##name)
#define DIR_VERSION(name) offsetof(struct topology, name##_version)
#define NONE SIZE_MAX

/* A kind of object, in struct T, kept in the snapshot's array A. */
#define KIND(dir, decode, T, parent, A, dir_version, below)                                   \
	{ dir, decode, sizeof(struct T), parent, offsetof(struct T, czxid),                     \
	  offsetof(struct T, version), ARRAY(A), dir_version, below }

static const struct kind k_binding =
	KIND(P_BINDINGS, topo_decode_binding, topo_binding, offsetof(struct topo_binding, host_id),
	     bindings, NONE, NULL);
static const struct kind k_member =
	KIND(P_MEMBERS, topo_decode_member, topo_member, offsetof(struct topo_member, zone_id),
	     members, NONE, NULL);
/* Learned MACs: their bridge is their port's (set once the ports are read); no version
 * kept (only their agent changes them). */
static const struct kind k_mac = {
	P_HOST_MACS, topo_decode_mac, sizeof(struct topo_mac), offsetof(struct topo_mac, host_id),
	offsetof(struct topo_mac, czxid), NONE, ARRAY(macs), NONE, NULL,
};
static const struct kind k_route =
	KIND(P_ROUTES, topo_decode_route, topo_route, offsetof(struct topo_route, router_id),
	     routes, NONE, NULL);
static const struct kind k_arp_static =
	KIND(P_ARPS_STATIC, topo_decode_arp_static, topo_arp, offsetof(struct topo_arp, router_id),
	     arps, NONE, NULL);
/* Under the host that learned it; the router is in the node's name. */
static const struct kind k_arp_learned =
	KIND(P_HOST_ARPS, topo_decode_arp_learned, topo_arp, offsetof(struct topo_arp, host_id),
	     arps, NONE, NULL);

/* Below a host: whether its agent is alive (watched even while absent), its bindings, what
 * its agent learned. */
static int below_host(struct reader *r, void *obj)
{
	struct topo_host *h = obj;
	int rc;

	rpath(r, P_ALIVE, h->id);
	rc = exists(r, &h->alive);
	if (!rc)
		rc = read_kind(r, &k_binding, h->id);
	if (!rc)
		rc = read_kind(r, &k_mac, h->id);
	if (!rc)
		rc = read_kind(r, &k_arp_learned, h->id);
	return rc;
}

static int below_zone(struct reader *r, void *obj)
{
	return read_kind(r, &k_member, ((struct topo_zone *)obj)->id);
}

static int below_router(struct reader *r, void *obj)
{
	const char *id = ((struct topo_router *)obj)->id;
	int rc = read_kind(r, &k_route, id);

	if (!rc)
		rc = read_kind(r, &k_arp_static, id);
	return rc;
}

/* The top level, containers before their contents: a container version read here
 * covers everything read after it. */
static const struct kind k_top[] = {
	KIND(P_HOSTS, topo_decode_host, topo_host, NONE, hosts, DIR_VERSION(hosts), below_host),
	KIND(P_ZONES, topo_decode_zone, topo_zone, NONE, zones, DIR_VERSION(zones), below_zone),
	KIND(P_BRIDGES, topo_decode_bridge, topo_bridge, NONE, bridges, DIR_VERSION(bridges),
	     NULL),
	KIND(P_ROUTERS, topo_decode_router, topo_router, NONE, routers, DIR_VERSION(routers),
	     below_router),
	KIND(P_PORTS, topo_decode_port, topo_port, NONE, ports, DIR_VERSION(ports), NULL),
};

static int read_key_counter(struct reader *r)
{
	int rc;

	rpath(r, P_KEY);
	rc = get(r);
	r->t->key_version = -1;
	if (rc)
		return rc < 0 ? rc : 0;
	if (topo_decode_key_counter(r->buf, (size_t)r->len, NULL, &r->t->next_key)) {
		skip(r, topo_errmsg());
		return 0;
	}
	r->t->key_version = r->st.version;
	return 0;
}

/* Creation order. What one multi created shares its czxid: then by the first field (the
 * id, or the parent's), so the order and the aliases stay the same from read to read. */
static int cmp_czxid(const void *a, const void *b, void *off)
{
	int64_t x = *(const int64_t *)((const char *)a + *(size_t *)off);
	int64_t y = *(const int64_t *)((const char *)b + *(size_t *)off);

	return x < y ? -1 : x > y ? 1 : strncmp(a, b, TOPO_ID_LEN);
}

static void sort_czxid(void *base, size_t n, size_t size, size_t off)
{
	if (n > 1)
		qsort_r(base, n, size, cmp_czxid, &off);
}

/* The port routes of one port are made in one multi: by destination among themselves. */
static int cmp_route(const void *a, const void *b)
{
	const struct topo_route *x = a, *y = b;
	uint32_t dx = ntohl(x->dst.addr.s_addr), dy = ntohl(y->dst.addr.s_addr);

	if (x->czxid != y->czxid)
		return x->czxid < y->czxid ? -1 : 1;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->dst.len != y->dst.len)
		return x->dst.len < y->dst.len ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Log and count an object left out because what it refers to is not there. */
static void dangling(struct topology *t, const char *what, const char *id, const char *why)
{
	mx_warn("skipping %s %s: %s", what, id, why);
	t->n_skipped++;
}

static bool device_exists(const struct topology *t, const struct topo_port *p)
{
	return p->device_type == TOPO_DEVICE_ROUTER ? topo_find_router_by_id(t, p->device_id) != NULL
						    : topo_find_bridge_by_id(t, p->device_id) != NULL;
}

/* A port of router_id, or NULL. */
static const struct topo_port *router_port(const struct topology *t, const char *router_id,
					   const char *port_id)
{
	const struct topo_port *p = topo_find_port_by_id(t, port_id);

	return p && p->device_type == TOPO_DEVICE_ROUTER && !strcmp(p->device_id, router_id) ? p
													 : NULL;
}

/* ---- indexes by id ---- */

struct ix_arr {
	const char *base;
	size_t size;
};

static int cmp_ix(const void *a, const void *b, void *arg)
{
	const struct ix_arr *arr = arg;

	return strcmp(arr->base + *(const size_t *)a * arr->size,
		      arr->base + *(const size_t *)b * arr->size);
}

/* Positions of arr's n objects sorted by id (each object starts with its id); NULL when
 * memory is short, and lookups stay linear. */
static size_t *index_ids(const void *arr, size_t n, size_t size)
{
	struct ix_arr a = { .base = arr, .size = size };
	size_t *ix = malloc((n ? n : 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, n, sizeof(*ix), cmp_ix, &a);
	return ix;
}

static void free_ids(struct topology *t)
{
	free(t->host_ix);
	free(t->zone_ix);
	free(t->bridge_ix);
	free(t->router_ix);
	free(t->port_ix);
	free(t->route_ix);
	t->host_ix = t->zone_ix = t->bridge_ix = t->router_ix = t->port_ix = t->route_ix = NULL;
}

/* ---- one object per tunnel key ---- */

struct key_owner {
	uint32_t key;
	int64_t czxid;
	char kind;    /* 'b'ridge, 'r'outer, 'p'ort */
	size_t index;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct key_owner *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->czxid != y->czxid)
		return x->czxid < y->czxid ? -1 : 1;
	return x->kind - y->kind;
}

static void owners_add(struct key_owner *o, size_t *n, uint32_t key, int64_t czxid, char kind,
		       size_t index)
{
	o[(*n)++] = (struct key_owner){ .key = key, .czxid = czxid, .kind = kind, .index = index };
}

/* Compact arr (n objects of size bytes), leaving out those whose drop flag is set. */
static size_t compact(void *arr, size_t n, size_t size, const bool *drop)
{
	char *p = arr;
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (!drop[i])
			memmove(p + kept++ * size, p + i * size, size);
	return kept;
}

/* A tunnel key names one object: a later bridge, router or port that claims the key of an
 * earlier one (written around the CLI) is logged and left out, the first keeps it. */
static int drop_duplicate_keys(struct topology *t)
{
	size_t total = t->n_bridges + t->n_routers + t->n_ports, n = 0;
	struct key_owner *o = malloc((total ? total : 1) * sizeof(*o));
	bool *drop = calloc(total ? total : 1, sizeof(*drop));
	bool *drop_b, *drop_r, *drop_p;

	if (!o || !drop) {
		free(o);
		free(drop);
		return -ENOMEM;
	}
	drop_b = drop;
	drop_r = drop + t->n_bridges;
	drop_p = drop_r + t->n_routers;
	for (size_t i = 0; i < t->n_bridges; i++)
		owners_add(o, &n, t->bridges[i].tunnel_key, t->bridges[i].czxid, 'b', i);
	for (size_t i = 0; i < t->n_routers; i++)
		owners_add(o, &n, t->routers[i].tunnel_key, t->routers[i].czxid, 'r', i);
	for (size_t i = 0; i < t->n_ports; i++)
		owners_add(o, &n, t->ports[i].tunnel_key, t->ports[i].czxid, 'p', i);
	qsort(o, n, sizeof(*o), cmp_owner);
	for (size_t i = 1; i < n; i++) {
		const struct key_owner *d = &o[i];

		if (d->key != o[i - 1].key)
			continue;
		mx_warn("skipping %s %s: its tunnel key %u belongs to an earlier object",
			d->kind == 'b' ? "bridge" : d->kind == 'r' ? "router" : "port",
			d->kind == 'b' ? t->bridges[d->index].id :
			d->kind == 'r' ? t->routers[d->index].id : t->ports[d->index].id, d->key);
		t->n_skipped++;
		(d->kind == 'b' ? drop_b : d->kind == 'r' ? drop_r : drop_p)[d->index] = true;
	}
	t->n_bridges = compact(t->bridges, t->n_bridges, sizeof(*t->bridges), drop_b);
	t->n_routers = compact(t->routers, t->n_routers, sizeof(*t->routers), drop_r);
	t->n_ports = compact(t->ports, t->n_ports, sizeof(*t->ports), drop_p);
	free(o);
	free(drop);
	return 0;
}

/* Leave out what refers to an object that is not there (or was skipped), so that every
 * reference in a snapshot resolves. */
static void drop_dangling(struct topology *t)
{
	size_t i, n;

	t->host_ix = index_ids(t->hosts, t->n_hosts, sizeof(*t->hosts));
	t->zone_ix = index_ids(t->zones, t->n_zones, sizeof(*t->zones));
	t->bridge_ix = index_ids(t->bridges, t->n_bridges, sizeof(*t->bridges));
	t->router_ix = index_ids(t->routers, t->n_routers, sizeof(*t->routers));
	for (i = n = 0; i < t->n_ports; i++) {
		if (device_exists(t, &t->ports[i]))
			t->ports[n++] = t->ports[i];
		else
			dangling(t, "port", t->ports[i].id, "its device is not there");
	}
	t->n_ports = n;
	t->port_ix = index_ids(t->ports, t->n_ports, sizeof(*t->ports));
	/* A link holds when both ends name each other; a half link is ignored. */
	for (i = 0; i < t->n_ports; i++) {
		struct topo_port *p = &t->ports[i];
		const struct topo_port *q = topo_find_port_by_id(t, p->peer_id);

		if (p->peer_id[0] && (!q || strcmp(q->peer_id, p->id) ||
				      !strcmp(q->device_id, p->device_id))) {
			mx_warn("port %s: ignoring its link to %s, which does not link back",
				p->id, p->peer_id);
			p->peer_id[0] = '\0';
		}
	}
	for (i = n = 0; i < t->n_bindings; i++) {
		if (topo_find_port_by_id(t, t->bindings[i].port_id))
			t->bindings[n++] = t->bindings[i];
		else
			dangling(t, "binding of interface", t->bindings[i].interface,
				 "its port is not there");
	}
	t->n_bindings = n;
	for (i = n = 0; i < t->n_members; i++) {
		if (topo_find_host_by_id(t, t->members[i].host_id))
			t->members[n++] = t->members[i];
		else
			dangling(t, "tunnel zone member", t->members[i].host_id, "no such host");
	}
	t->n_members = n;
	/* A learned MAC of a port that went away is stale, not broken: drop it quietly. Its
	 * bridge is its port's. */
	for (i = n = 0; i < t->n_macs; i++) {
		const struct topo_port *p = topo_find_port_by_id(t, t->macs[i].port_id);

		if (p && p->device_type == TOPO_DEVICE_BRIDGE) {
			strcpy(t->macs[i].bridge_id, p->device_id);
			t->macs[n++] = t->macs[i];
		}
	}
	t->n_macs = n;
	for (i = n = 0; i < t->n_routes; i++) {
		const struct topo_route *r = &t->routes[i];

		if (!r->port_id[0] || router_port(t, r->router_id, r->port_id))
			t->routes[n++] = *r;
		else
			dangling(t, "route", r->id, "its port is not a port of its router");
	}
	t->n_routes = n;
	t->route_ix = index_ids(t->routes, t->n_routes, sizeof(*t->routes));
	/* So are ARP entries learned on a port that went away. */
	for (i = n = 0; i < t->n_arps; i++) {
		const struct topo_arp *a = &t->arps[i];

		if (!a->learned || router_port(t, a->router_id, a->port_id))
			t->arps[n++] = *a;
	}
	t->n_arps = n;
}

/* Count one more member of the device at position pos of an array of n (n: none, the
 * device is not there) in counts (n + 1 of them). */
static size_t next_ordinal(size_t *counts, const void *dev, const void *arr, size_t size, size_t n)
{
	size_t pos = dev ? (size_t)((const char *)dev - (const char *)arr) / size : n;

	return counts[pos]++;
}

/* The N of each port's and route's alias, in creation order within its device, once per
 * snapshot: aliases cost O(log n) each, not a scan (listing 1M routes is not quadratic).
 * Routes of a router left out share one count, as before the router was dropped. */
int topo_number_members(struct topology *t)
{
	size_t *bridge_n = calloc(t->n_bridges + 1, sizeof(size_t));
	size_t *router_n = calloc(t->n_routers + 1, sizeof(size_t));
	size_t *route_n = calloc(t->n_routers + 1, sizeof(size_t));
	size_t i;

	if (!bridge_n || !router_n || !route_n) {
		free(bridge_n);
		free(router_n);
		free(route_n);
		return -ENOMEM;
	}
	for (i = 0; i < t->n_ports; i++) {
		struct topo_port *p = &t->ports[i];

		if (p->device_type == TOPO_DEVICE_ROUTER)
			p->ordinal = next_ordinal(router_n, topo_find_router_by_id(t, p->device_id),
						  t->routers, sizeof(*t->routers), t->n_routers);
		else
			p->ordinal = next_ordinal(bridge_n, topo_find_bridge_by_id(t, p->device_id),
						  t->bridges, sizeof(*t->bridges), t->n_bridges);
	}
	for (i = 0; i < t->n_routes; i++)
		t->routes[i].ordinal = next_ordinal(route_n,
						    topo_find_router_by_id(t, t->routes[i].router_id),
						    t->routers, sizeof(*t->routers), t->n_routers);
	free(bridge_n);
	free(router_n);
	free(route_n);
	return 0;
}

/* Every object of the tree into t (arrays in listing order), through m if not NULL. */
static int walk(zhandle_t *zh, struct topo_mirror *m, struct topology *t)
{
	struct reader *r;
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	t->hosts_version = t->zones_version = t->bridges_version = t->ports_version = -1;
	t->routers_version = -1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return topo_fail(-ENOMEM, "out of memory");
	r->zh = zh;
	r->t = t;
	r->m = m;
	r->watcher = m ? mirror_watch_fn() : NULL;
	rc = read_key_counter(r);
	for (i = 0; !rc && i < sizeof(k_top) / sizeof(k_top[0]); i++)
		rc = read_kind(r, &k_top[i], "");
	free(r);
	if (rc)
		topo_free(t);
	return rc;
}

/* Creation order, one owner per tunnel key, references that resolve, ordinals. */
static int finish(struct topology *t)
{
	int rc;

	sort_czxid(t->hosts, t->n_hosts, sizeof(*t->hosts), offsetof(struct topo_host, czxid));
	sort_czxid(t->zones, t->n_zones, sizeof(*t->zones), offsetof(struct topo_zone, czxid));
	sort_czxid(t->members, t->n_members, sizeof(*t->members),
		   offsetof(struct topo_member, czxid));
	sort_czxid(t->bridges, t->n_bridges, sizeof(*t->bridges),
		   offsetof(struct topo_bridge, czxid));
	sort_czxid(t->ports, t->n_ports, sizeof(*t->ports), offsetof(struct topo_port, czxid));
	sort_czxid(t->bindings, t->n_bindings, sizeof(*t->bindings),
		   offsetof(struct topo_binding, czxid));
	sort_czxid(t->macs, t->n_macs, sizeof(*t->macs), offsetof(struct topo_mac, czxid));
	sort_czxid(t->routers, t->n_routers, sizeof(*t->routers),
		   offsetof(struct topo_router, czxid));
	if (t->n_routes > 1)
		qsort(t->routes, t->n_routes, sizeof(*t->routes), cmp_route);
	sort_czxid(t->arps, t->n_arps, sizeof(*t->arps), offsetof(struct topo_arp, czxid));
	rc = drop_duplicate_keys(t);
	if (!rc) {
		drop_dangling(t);
		rc = topo_number_members(t);
	}
	if (rc) {
		topo_free(t);
		return topo_fail(rc, "out of memory");
	}
	return 0;
}

/* Reads through the mirror until one sees nothing change while it ran (see mirror_end).
 * After that many torn ones, a reader that only looks takes the last (the changes have
 * woken it to read again); a writer, whose version checks need a consistent snapshot,
 * reads directly, containers first. */
#define MIRROR_ATTEMPTS 5

static int read_snapshot(zhandle_t *zh, struct topology *t, bool consistent)
{
	struct topo_mirror *m;
	int i, rc;

	for (i = 0; i < MIRROR_ATTEMPTS && (m = mirror_begin(zh)); i++) {
		rc = walk(zh, m, t);
		if (!mirror_end(m, rc == 0) || rc || (!consistent && i == MIRROR_ATTEMPTS - 1))
			return rc ? rc : finish(t);
		topo_free(t);
	}
	rc = walk(zh, NULL, t);
	return rc ? rc : finish(t);
}

int topo_read(zhandle_t *zh, struct topology *t)
{
	return read_snapshot(zh, t, false);
}

int topo_read_consistent(zhandle_t *zh, struct topology *t)
{
	return read_snapshot(zh, t, true);
}

void topo_free(struct topology *t)
{
	free_ids(t);
	free(t->hosts);
	free(t->zones);
	free(t->members);
	free(t->bridges);
	free(t->ports);
	free(t->bindings);
	free(t->macs);
	free(t->routers);
	free(t->routes);
	free(t->arps);
	memset(t, 0, sizeof(*t));
}
