// SPDX-License-Identifier: Apache-2.0
/* The mirror of a session: what the reads on one ZooKeeper handle last got (data, listings,
 * existence), each node under a watch. A watch that fires marks its node dirty; the next
 * read asks ZooKeeper again for the dirty and the unknown only, and serves the rest from
 * here. Read-your-writes: a commit marks what it touched, as its own watch events may still
 * be on their way to the client's completion thread when the commit returns.
 *
 * Threads: watch events come on the client's thread and are only queued (under the
 * registry lock); the table itself belongs to the thread that reads, which applies the
 * queue when a read begins. An event that arrives during a read is applied at the next one
 * (and has woken the reader to do it).
 *
 * Barriers: one asynchronous request whose answer comes after every event the server sent
 * before it (the client hands events and asynchronous answers to its completion thread in
 * order). A read is a consistent snapshot as of its last barrier when it took every event
 * that had come in by that barrier's answer and asked ZooKeeper nothing after it: every
 * node it served from memory was unchanged then. A read that knows of no change begins
 * with a barrier (which brings in the events of what was committed before it); a read with
 * changes already queued (an agent woken by an event, a CLI after its own commit) sends
 * its barrier behind the nodes it asks for again, in the same round trip, and again while
 * a barrier brings new events (a multi-op's later ones, after its first woke the reader).
 *
 * Round trips: a read asks again for every node whose watch fired all at once, as it
 * begins (prefetch), instead of one level at a time as its descent meets them; only a read
 * whose descent asked more needs a closing barrier (mirror_end). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "topo_impl.h"

/* How long a consistent read's snapshot may stand for the next read's, when that one plans
 * a write (mirror_begin): long enough for the reads of one command, much shorter than the
 * gap between a person's commands. */
#define MIRROR_REUSE_NS (100 * 1000 * 1000ull)

/* Round trips of nodes asked for again as a read begins, at most (mirror_begin), and the
 * new children of the listings asked for taken into one (the descent's window). */
#define PREFETCH_ROUNDS 5
#define PREFETCH_NEW_MAX 4096

struct mnode {
	struct mnode *next;	/* in its bucket */
	uint64_t hash;
	unsigned int epoch;	/* the last read that used it */
	bool dirty;		/* a watch fired (or a commit touched it) since it was read */
	bool has_data, has_list, has_exists, exists;
	bool indexed;		/* its children were taken from its index: not prefetched */
	char *data;		/* has_data: the value, len bytes (NULL if empty) */
	int len;
	int32_t data_length;	/* the stat's: more than len when too large to keep */
	int64_t czxid, mzxid;
	int32_t version;	/* of the data */
	int32_t list_version;	/* has_list: the listed node's data version (its stat) */
	int32_t list_cversion;	/* has_list: its children's version (the same stat) */
	struct String_vector kids; /* has_list: the children's names */
	char path[];
};

struct topo_mirror {
	zhandle_t *zh;
	topo_change_fn on_change;
	void *ctx;
	struct topo_mirror *next; /* in the registry */
	/* Under the registry lock: events not yet applied. */
	char **pending;
	size_t n_pending, cap_pending;
	bool forget_all;
	/* The reading thread's own. */
	struct mnode **buckets;
	size_t n_buckets, n_nodes;
	unsigned int epoch;
	uint64_t checked_at;	/* stats.asked when the read's last barrier passed and what had
				 * come in by its answer was taken (NOT_CHECKED: none yet) */
	uint64_t consistent_ns;	/* when the last read ended seeing no change (0: it did not) */
	struct topo_mirror_stats stats;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct topo_mirror *registry;

static uint64_t hash_path(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static void node_free(struct mnode *n)
{
	free(n->data);
	deallocate_String_vector(&n->kids);
	free(n);
}

static struct mnode **slot_of(struct topo_mirror *m, const char *path, uint64_t h)
{
	struct mnode **s = &m->buckets[h & (m->n_buckets - 1)];

	while (*s && ((*s)->hash != h || strcmp((*s)->path, path)))
		s = &(*s)->next;
	return s;
}

static struct mnode *lookup(struct topo_mirror *m, const char *path)
{
	return m->n_buckets ? *slot_of(m, path, hash_path(path)) : NULL;
}

/* Twice the buckets, once there are as many nodes as buckets. */
static int grow(struct topo_mirror *m)
{
	size_t n = m->n_buckets ? m->n_buckets * 2 : 1024;
	struct mnode **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct mnode *x = m->buckets[i], *next;

		for (; x; x = next) {
			next = x->next;
			x->next = b[x->hash & (n - 1)];
			b[x->hash & (n - 1)] = x;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
	return 0;
}

/* The node of path, made (empty) if missing; NULL when memory is short. */
static struct mnode *node_get(struct topo_mirror *m, const char *path)
{
	uint64_t h = hash_path(path);
	size_t len = strlen(path);
	struct mnode **s, *n;

	if (m->n_nodes >= m->n_buckets && grow(m))
		return NULL;
	s = slot_of(m, path, h);
	if (*s)
		return *s;
	n = calloc(1, sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	n->hash = h;
	memcpy(n->path, path, len + 1);
	*s = n;
	m->n_nodes++;
	return n;
}

static void forget_all(struct topo_mirror *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct mnode *x = m->buckets[i], *next;

		for (; x; x = next) {
			next = x->next;
			node_free(x);
		}
		m->buckets[i] = NULL;
	}
	m->n_nodes = 0;
}

/* ---- events, from any thread ---- */

static struct topo_mirror *find_locked(zhandle_t *zh)
{
	struct topo_mirror *m = registry;

	while (m && m->zh != zh)
		m = m->next;
	return m;
}

/* A path this handle's own commit named is queued with OWN_MARK before it (a path begins
 * with '/'): a read asks for it at once even if the mirror does not know it yet (a node
 * the commit made: the read is about to meet it). */
#define OWN_MARK '+'

/* Queue path (lock held). Out of memory: forget everything, which is always correct. */
static void queue_locked(struct topo_mirror *m, const char *path, bool own)
{
	char *p;

	if (m->forget_all)
		return;
	if (m->n_pending == m->cap_pending) {
		size_t cap = m->cap_pending ? m->cap_pending * 2 : 64;
		char **q = realloc(m->pending, cap * sizeof(*q));

		if (!q) {
			m->forget_all = true;
			return;
		}
		m->pending = q;
		m->cap_pending = cap;
	}
	if (asprintf(&p, "%s%s", own ? (const char[]){ OWN_MARK, '\0' } : "", path) < 0) {
		m->forget_all = true;
		return;
	}
	m->pending[m->n_pending++] = p;
}

/* Every watch the mirror sets calls this, on the client's thread. The handle names the
 * mirror (the context is NULL): a mirror detached meanwhile is simply not found. */
static void mirror_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct topo_mirror *m;
	topo_change_fn fn = NULL;
	void *fn_ctx = NULL;

	(void)ctx;
	if (type == ZOO_SESSION_EVENT && state != ZOO_EXPIRED_SESSION_STATE)
		return; /* watches outlive a reconnection: the client sets them again */
	pthread_mutex_lock(&registry_lock);
	m = find_locked(zh);
	if (m) {
		if (type == ZOO_SESSION_EVENT)
			m->forget_all = true;
		else if (path && *path)
			queue_locked(m, path, false);
		fn = m->on_change;
		fn_ctx = m->ctx;
	}
	pthread_mutex_unlock(&registry_lock);
	if (fn)
		fn(fn_ctx);
}

watcher_fn mirror_watch_fn(void)
{
	return mirror_watcher;
}

void mirror_touched(zhandle_t *zh, const char *path)
{
	struct topo_mirror *m;
	char parent[TOPO_PATH_MAX];
	const char *slash = strrchr(path, '/');

	pthread_mutex_lock(&registry_lock);
	m = find_locked(zh);
	if (m) {
		queue_locked(m, path, true);
		if (slash && slash > path && (size_t)(slash - path) < sizeof(parent)) {
			memcpy(parent, path, (size_t)(slash - path));
			parent[slash - path] = '\0';
			queue_locked(m, parent, true);
		}
	}
	pthread_mutex_unlock(&registry_lock);
}

/* ---- attaching ---- */

int topo_mirror_attach(zhandle_t *zh, topo_change_fn on_change, void *ctx)
{
	struct topo_mirror *m;

	pthread_mutex_lock(&registry_lock);
	m = find_locked(zh);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (m) {
			m->zh = zh;
			m->next = registry;
			registry = m;
		}
	}
	if (m) {
		m->on_change = on_change;
		m->ctx = ctx;
	}
	pthread_mutex_unlock(&registry_lock);
	return m ? 0 : topo_fail(-ENOMEM, "out of memory");
}

void topo_mirror_detach(zhandle_t *zh)
{
	struct topo_mirror **p, *m = NULL;

	pthread_mutex_lock(&registry_lock);
	for (p = &registry; *p; p = &(*p)->next) {
		if ((*p)->zh == zh) {
			m = *p;
			*p = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (!m)
		return;
	forget_all(m);
	free(m->buckets);
	for (size_t i = 0; i < m->n_pending; i++)
		free(m->pending[i]);
	free(m->pending);
	free(m);
}

int topo_mirror_stats(zhandle_t *zh, struct topo_mirror_stats *out)
{
	struct topo_mirror *m;

	pthread_mutex_lock(&registry_lock);
	m = find_locked(zh);
	if (m) {
		*out = m->stats;
		out->nodes = m->n_nodes;
	}
	pthread_mutex_unlock(&registry_lock);
	return m ? 0 : -ENOENT;
}

/* ---- reads, on the reading thread ---- */

struct barrier {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void barrier_passed(int rc, const struct Stat *st, const void *data)
{
	struct barrier *b = (struct barrier *)data;

	(void)rc; /* an error (a lost connection) passes it too: the read will say */
	(void)st;
	pthread_mutex_lock(&b->lock);
	b->done = true;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

/* Until every watch event the server sent before now has reached mirror_watcher. */
static void barrier(zhandle_t *zh)
{
	struct barrier b = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false };

	/* Once the client takes a request, it calls the completion, whatever happens. */
	if (zoo_aexists(zh, P_ROOT, 0, barrier_passed, &b) == ZOK) {
		pthread_mutex_lock(&b.lock);
		while (!b.done)
			pthread_cond_wait(&b.cond, &b.lock);
		pthread_mutex_unlock(&b.lock);
	}
	pthread_mutex_destroy(&b.lock);
	pthread_cond_destroy(&b.cond);
}

#define NOT_CHECKED UINT64_MAX

static bool queued(struct topo_mirror *m)
{
	bool any;

	pthread_mutex_lock(&registry_lock);
	any = m->n_pending || m->forget_all;
	pthread_mutex_unlock(&registry_lock);
	return any;
}

/* ---- prefetch: the dirty nodes asked for again at once ---- */

/* One node's answers (data, listing, existence: what the node held), filled by the
 * completions on the client's thread under the batch's lock. */
struct refetch {
	struct prefetch *pf;
	struct mnode *x;
	int data_rc, list_rc, exists_rc;	/* ZOK once answered well */
	char *data;
	int len;
	struct Stat st, list_st;
	struct String_vector kids;
	bool exists;
};

struct prefetch {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t want, done;
};

static void answered(struct prefetch *pf)
{
	if (++pf->done == pf->want)
		pthread_cond_signal(&pf->cond);
}

/* The barrier sent behind the nodes asked for again: answered after all of them. */
static void prefetch_barrier_passed(int rc, const struct Stat *st, const void *data)
{
	struct prefetch *pf = (struct prefetch *)data;

	(void)rc; /* an error (a lost connection) passes it too: the descent will say */
	(void)st;
	pthread_mutex_lock(&pf->lock);
	answered(pf);
	pthread_mutex_unlock(&pf->lock);
}

static void refetch_data(int rc, const char *value, int len, const struct Stat *st,
			 const void *data)
{
	struct refetch *f = (struct refetch *)data;

	pthread_mutex_lock(&f->pf->lock);
	f->data_rc = rc;
	if (rc == ZOK) {
		f->st = *st;
		/* A value larger than any object or index is not kept: its stat says so to the
		 * reader. */
		if (value && len > 0 && len <= TOPO_INDEX_MAX) {
			f->data = malloc((size_t)len);
			if (f->data) {
				memcpy(f->data, value, (size_t)len);
				f->len = len;
			} else {
				f->data_rc = ZSYSTEMERROR;
			}
		}
	}
	answered(f->pf);
	pthread_mutex_unlock(&f->pf->lock);
}

static void refetch_list(int rc, const struct String_vector *kids, const struct Stat *st,
			 const void *data)
{
	struct refetch *f = (struct refetch *)data;

	pthread_mutex_lock(&f->pf->lock);
	f->list_rc = rc;
	if (rc == ZOK) {
		f->list_st = *st;
		if (allocate_String_vector(&f->kids, kids->count) != ZOK) {
			f->list_rc = ZSYSTEMERROR;
		} else {
			for (int32_t i = 0; i < kids->count; i++)
				if (!(f->kids.data[i] = strdup(kids->data[i])))
					f->list_rc = ZSYSTEMERROR;
		}
	}
	answered(f->pf);
	pthread_mutex_unlock(&f->pf->lock);
}

static void refetch_exists(int rc, const struct Stat *st, const void *data)
{
	struct refetch *f = (struct refetch *)data;

	(void)st;
	pthread_mutex_lock(&f->pf->lock);
	f->exists_rc = rc == ZNONODE ? ZOK : rc;
	f->exists = rc == ZOK;
	answered(f->pf);
	pthread_mutex_unlock(&f->pf->lock);
}

/* Ask for what x held, each under a watch as the descent would set it. Returns the
 * requests the client took; a refused one leaves its answer an error. A request the client
 * failed to marshal may still have its completion called: the batch is then never freed. */
static size_t refetch_issue(struct topo_mirror *m, struct refetch *f, bool *orphan)
{
	struct mnode *x = f->x;
	size_t issued = 0;
	int rc;

	f->data_rc = f->list_rc = f->exists_rc = ZNOTHING;
	if (x->has_data) {
		rc = zoo_awget(m->zh, x->path, mirror_watcher, NULL, refetch_data, f);
		issued += rc == ZOK;
		*orphan |= rc == ZMARSHALLINGERROR;
	}
	if (x->has_list) {
		rc = zoo_awget_children2(m->zh, x->path, mirror_watcher, NULL, refetch_list, f);
		issued += rc == ZOK;
		*orphan |= rc == ZMARSHALLINGERROR;
	}
	if (x->has_exists) {
		rc = zoo_awexists(m->zh, x->path, mirror_watcher, NULL, refetch_exists, f);
		issued += rc == ZOK;
		*orphan |= rc == ZMARSHALLINGERROR;
	}
	return issued;
}

/* Fill x from its answers, on the reading thread. All of what it held must have come back
 * well, or it stays dirty: the descent asks for it (or the sweep drops a node gone). Its
 * epoch is left alone: the descent marks it used, if the tree still has it. */
static void refetch_apply(struct refetch *f)
{
	struct mnode *x = f->x;

	if ((x->has_data && f->data_rc != ZOK) || (x->has_list && f->list_rc != ZOK) ||
	    (x->has_exists && f->exists_rc != ZOK)) {
		free(f->data);
		deallocate_String_vector(&f->kids);
		return;
	}
	if (x->has_data) {
		free(x->data);
		x->data = f->data;
		x->len = f->len;
		x->data_length = f->st.dataLength;
		x->czxid = f->st.czxid;
		x->mzxid = f->st.mzxid;
		x->version = f->st.version;
	}
	if (x->has_list) {
		deallocate_String_vector(&x->kids);
		x->kids = f->kids;
		x->list_version = f->list_st.version;
		x->list_cversion = f->list_st.cversion;
	}
	if (x->has_exists)
		x->exists = f->exists;
	x->dirty = false;
}

/* The n nodes a watch marked, asked for again in one round trip with a barrier behind
 * them; true when that barrier passed. The client calls every completion it took (with an
 * error if the session fails), so the wait ends; none is left behind when this returns. */
static bool prefetch(struct topo_mirror *m, struct mnode **stale, size_t n)
{
	struct prefetch *pf = calloc(1, sizeof(*pf));
	struct refetch *f = calloc(n, sizeof(*f));
	bool orphan = false, barrier_sent;
	size_t issued = 0;

	if (!pf || !f) {
		free(pf);
		free(f);
		return false; /* the descent asks for them one by one */
	}
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	pf->want = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		f[i].pf = pf;
		f[i].x = stale[i];
		issued += refetch_issue(m, &f[i], &orphan);
	}
	barrier_sent = zoo_aexists(m->zh, P_ROOT, 0, prefetch_barrier_passed, pf) == ZOK;
	pthread_mutex_lock(&pf->lock);
	pf->want = issued + barrier_sent;
	while (pf->done < pf->want)
		pthread_cond_wait(&pf->cond, &pf->lock);
	pthread_mutex_unlock(&pf->lock);
	m->stats.asked += issued;
	for (size_t i = 0; i < n; i++)
		refetch_apply(&f[i]);
	if (orphan)
		return barrier_sent;
	free(f);
	pthread_mutex_destroy(&pf->lock);
	pthread_cond_destroy(&pf->cond);
	free(pf);
	return barrier_sent;
}

/* The children that the listings just asked for again name and the mirror does not know:
 * the descent would ask for their data one listing after another, so they go with the
 * next round (PREFETCH_NEW_MAX at most; the descent asks for the rest), made dirty until
 * answered. Appended to *out (n_out of cap). */
static void new_children(struct topo_mirror *m, struct mnode **asked, size_t n,
			 struct mnode ***out, size_t *n_out, size_t *cap)
{
	char path[TOPO_PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct mnode *x = asked[i];

		if (!x->has_list || x->dirty || x->indexed)
			continue;
		for (int32_t k = 0; k < x->kids.count && *n_out < PREFETCH_NEW_MAX; k++) {
			struct mnode *c;

			if (snprintf(path, sizeof(path), "%s/%s", x->path, x->kids.data[k]) >=
			    (int)sizeof(path) || lookup(m, path))
				continue;
			if (*n_out == *cap) {
				size_t grown = *cap ? *cap * 2 : 16;
				struct mnode **o = realloc(*out, grown * sizeof(*o));

				if (!o)
					return;
				*out = o;
				*cap = grown;
			}
			c = node_get(m, path);
			if (!c)
				return;
			c->has_data = true;
			c->dirty = true;
			(*out)[(*n_out)++] = c;
		}
	}
}

static void sweep(struct topo_mirror *m);

/* The last read was consistent moments ago and nothing has been queued since. */
static bool reusable(struct topo_mirror *m)
{
	bool quiet;

	if (!m->consistent_ns || mx_now_ns() - m->consistent_ns > MIRROR_REUSE_NS)
		return false;
	pthread_mutex_lock(&registry_lock);
	quiet = !m->n_pending && !m->forget_all;
	pthread_mutex_unlock(&registry_lock);
	return quiet;
}

/* The events queued since the last read: their nodes marked dirty; those to ask for again
 * at once into *stale (NULL: none). Returns how many. */
static size_t take_pending(struct topo_mirror *m, struct mnode ***stale_out)
{
	struct mnode **stale;
	size_t n, n_stale = 0;
	char **pending;
	bool all;

	pthread_mutex_lock(&registry_lock);
	pending = m->pending;
	n = m->n_pending;
	all = m->forget_all;
	m->pending = NULL;
	m->n_pending = m->cap_pending = 0;
	m->forget_all = false;
	pthread_mutex_unlock(&registry_lock);

	if (all)
		forget_all(m);
	stale = n ? calloc(n, sizeof(*stale)) : NULL;
	for (size_t i = 0; i < n; i++) {
		bool own = pending[i][0] == OWN_MARK;
		const char *path = pending[i] + own;
		struct mnode *x = all ? NULL : lookup(m, path);

		/* A node this handle's commit made: its data asked for with the rest. Left
		 * unused by the read (a node it does not read), the sweep drops it. */
		if (!x && own && !all && stale && (x = node_get(m, path))) {
			x->has_data = true;
			stale[n_stale++] = x;
		} else if (x && !x->dirty && stale) {
			stale[n_stale++] = x;
		}
		if (x)
			x->dirty = true;
		free(pending[i]);
	}
	free(pending);
	*stale_out = stale;
	return n_stale;
}

struct topo_mirror *mirror_begin(zhandle_t *zh, bool for_write)
{
	struct mnode **stale = NULL;
	struct topo_mirror *m;
	size_t n_stale;
	bool reuse;

	pthread_mutex_lock(&registry_lock);
	m = find_locked(zh);
	pthread_mutex_unlock(&registry_lock);
	if (!m)
		return NULL;
	/* m stays: only the reading thread detaches it. */
	reuse = for_write && reusable(m);
	m->consistent_ns = 0;
	m->checked_at = NOT_CHECKED;
	m->epoch++;
	m->stats.reads++;
	n_stale = take_pending(m, &stale);
	if (!n_stale) {
		/* Nothing known to have changed. A write may plan on the last read's snapshot,
		 * a moment old; anything else takes a barrier, which brings in the events of
		 * what was committed before it. */
		if (!reuse) {
			barrier(zh);
			free(stale);
			n_stale = take_pending(m, &stale);
		}
		m->checked_at = m->stats.asked;
	}
	/* What came in by a barrier's answer is taken (marked dirty) at once: asked for
	 * again behind another barrier, with the new children of the listings just asked
	 * for, until a round brings nothing new (a reader woken by the first event of a
	 * multi-op meets the others so). Past the last round what is still dirty is asked for
	 * by the descent, which then closes with a barrier (mirror_end). */
	for (int round = 0; n_stale && round < PREFETCH_ROUNDS; round++) {
		struct mnode **next = NULL, **queued_now = NULL;
		size_t n_next = 0, cap = 0, n_queued;

		if (prefetch(m, stale, n_stale))
			m->checked_at = m->stats.asked;
		new_children(m, stale, n_stale, &next, &n_next, &cap);
		free(stale);
		n_queued = take_pending(m, &queued_now);
		for (size_t i = 0; i < n_queued; i++) {
			if (n_next == cap) {
				size_t grown = cap ? cap * 2 : 16;
				struct mnode **o = realloc(next, grown * sizeof(*o));

				if (!o)
					break; /* still dirty: the descent asks for them */
				next = o;
				cap = grown;
			}
			next[n_next++] = queued_now[i];
		}
		free(queued_now);
		stale = next;
		n_stale = n_next;
	}
	free(stale);
	return m;
}

/* A complete read: what it did not use is gone from the tree (or below something left
 * out), and its watch has fired or will find no node here. Then whether a watched node
 * changed while the read ran (events come in by the answer of its last barrier, which a
 * read that asked the descent's nodes takes now).
 * Such a read may be torn: a node asked for late shows a change that a node served from
 * memory does not (a router's new version, its route list before the new route), and a
 * write planned on it would check the wrong version. A read during which nothing changed
 * is a consistent snapshot, as a direct read that reads containers first is. */
bool mirror_end(struct topo_mirror *m, bool complete)
{
	if (complete)
		sweep(m);
	/* Asking nothing after its last barrier, the read is the tree as of that barrier: every
	 * node it used was clean then (what had come in by its answer was taken, and a node it
	 * marked dirty is asked for, not served). */
	if (m->checked_at != m->stats.asked) {
		barrier(m->zh);
		if (queued(m)) {
			m->stats.torn++;
			return true;
		}
	}
	m->consistent_ns = complete ? mx_now_ns() : 0;
	return false;
}

/* Drop the nodes the read did not use. */
static void sweep(struct topo_mirror *m)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct mnode **s = &m->buckets[i];

		while (*s) {
			struct mnode *x = *s;

			if (x->epoch == m->epoch) {
				s = &x->next;
				continue;
			}
			*s = x->next;
			node_free(x);
			m->n_nodes--;
		}
	}
}

/* The node of path if it is known and clean, marked used; NULL otherwise. */
static struct mnode *clean(struct topo_mirror *m, const char *path)
{
	struct mnode *x = lookup(m, path);

	if (!x)
		return NULL;
	x->epoch = m->epoch;
	return x->dirty ? NULL : x;
}

/* The node of path, to be filled from an answer: made if missing, marked used. */
static struct mnode *filled(struct topo_mirror *m, const char *path)
{
	struct mnode *x = node_get(m, path);

	if (!x)
		return NULL;
	x->epoch = m->epoch;
	if (x->dirty) {
		/* What it held is stale, whatever the new answer covers. */
		x->dirty = false;
		x->has_data = x->has_list = x->has_exists = false;
		free(x->data);
		x->data = NULL;
		deallocate_String_vector(&x->kids);
		memset(&x->kids, 0, sizeof(x->kids));
	}
	return x;
}

bool mirror_data(struct topo_mirror *m, const char *path, const char **value, int *len,
		 struct Stat *st)
{
	struct mnode *x = clean(m, path);

	if (!x || !x->has_data) {
		m->stats.asked++;
		return false;
	}
	m->stats.served++;
	*value = x->data;
	*len = x->len;
	memset(st, 0, sizeof(*st));
	st->czxid = x->czxid;
	st->mzxid = x->mzxid;
	st->version = x->version;
	st->dataLength = x->data_length;
	return true;
}

int mirror_keep_data(struct topo_mirror *m, const char *path, const char *value, int len,
		     const struct Stat *st)
{
	struct mnode *x = filled(m, path);
	char *copy = NULL;

	if (!x)
		return -ENOMEM;
	if (len > 0) {
		copy = malloc((size_t)len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, value, (size_t)len);
	}
	free(x->data);
	x->data = copy;
	x->len = len > 0 ? len : 0;
	x->data_length = st->dataLength;
	x->czxid = st->czxid;
	x->mzxid = st->mzxid;
	x->version = st->version;
	x->has_data = true;
	return 0;
}

const struct String_vector *mirror_list(struct topo_mirror *m, const char *path,
					int32_t *version, int32_t *cversion)
{
	struct mnode *x = clean(m, path);

	if (!x || !x->has_list) {
		m->stats.asked++;
		return NULL;
	}
	m->stats.served++;
	*version = x->list_version;
	*cversion = x->list_cversion;
	return &x->kids;
}

const struct String_vector *mirror_keep_list(struct topo_mirror *m, const char *path,
					     struct String_vector *kids, int32_t version,
					     int32_t cversion)
{
	struct mnode *x = filled(m, path);

	if (!x)
		return NULL;
	deallocate_String_vector(&x->kids);
	x->kids = *kids;
	memset(kids, 0, sizeof(*kids));
	x->list_version = version;
	x->list_cversion = cversion;
	x->has_list = true;
	return &x->kids;
}

void mirror_list_indexed(struct topo_mirror *m, const char *path, bool indexed)
{
	struct mnode *x = lookup(m, path);

	if (x)
		x->indexed = indexed;
}

bool mirror_exists(struct topo_mirror *m, const char *path, bool *exists)
{
	struct mnode *x = clean(m, path);

	if (!x || !x->has_exists) {
		m->stats.asked++;
		return false;
	}
	m->stats.served++;
	*exists = x->exists;
	return true;
}

bool mirror_known_missing(struct topo_mirror *m, const char *path)
{
	struct mnode *x = clean(m, path);

	if (!x || !x->has_exists || x->exists)
		return false;
	m->stats.served++;
	return true;
}

int mirror_keep_exists(struct topo_mirror *m, const char *path, bool exists)
{
	struct mnode *x = filled(m, path);

	if (!x)
		return -ENOMEM;
	x->exists = exists;
	x->has_exists = true;
	return 0;
}
