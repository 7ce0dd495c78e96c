// SPDX-License-Identifier: Apache-2.0
/* Fetching the tree's nodes: from ZooKeeper, or through the handle's mirror (mirror.c),
 * which asks only for what changed and leaves a watch on every node. The data of a
 * directory's children is asked for a window at a time, without waiting for each answer,
 * and each node is decoded into the snapshot as it is taken. An object that does not
 * parse is logged with its path and left out, never fatal. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "reader.h"

const char *rpath(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->path, sizeof(r->path), fmt, ap);
	va_end(ap);
	return r->path;
}

void skip(struct reader *r, const char *why)
{
	mx_warn("skipping %s: %s", r->path, why);
	r->t->n_skipped++;
}

/* Gone: a watch saw it go. An error is a session problem. */
int fetch_data(struct reader *r)
{
	const char *cached;
	int rc;

	if (r->m && mirror_data(r->m, r->path, &cached, &r->len, &r->st)) {
		if (r->len > (int)sizeof(r->buf)) {
			skip(r, "data larger than any object");
			return 1;
		}
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

void listing_free(struct listing *l)
{
	deallocate_String_vector(&l->own);
}

static int missing_dir(struct listing *l)
{
	l->version = l->cversion = -1;
	return 1;
}

int fetch_listing(struct reader *r, struct listing *l)
{
	struct Stat st;
	int rc;

	memset(l, 0, sizeof(*l));
	if (r->m && mirror_known_missing(r->m, r->path))
		return missing_dir(l);
	if (r->m && (l->sv = mirror_list(r->m, r->path, &l->version, &l->cversion)))
		return 0;
	l->sv = &l->own;
	rc = zoo_wget_children2(r->zh, r->path, r->watcher, NULL, &l->own, &st);
	if (rc == ZNONODE) {
		/* A listing cannot watch a node that is not there; an existence check can, so
		 * the next read does not ask again (a host no agent runs on has no macs, arp
		 * or bgp_routes: three round trips per host and read). Created meanwhile: not
		 * kept, asked again next time. */
		if (r->m && zoo_wexists(r->zh, r->path, r->watcher, NULL, &st) == ZNONODE &&
		    mirror_keep_exists(r->m, r->path, false))
			return topo_fail(-ENOMEM, "out of memory");
		return missing_dir(l);
	}
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", r->path, zerror(rc));
	l->version = st.version;
	l->cversion = st.cversion;
	if (r->m) {
		l->sv = mirror_keep_list(r->m, r->path, &l->own, st.version, st.cversion);
		if (!l->sv)
			return topo_fail(-ENOMEM, "out of memory");
	}
	return 0;
}

int fetch_exists(struct reader *r, bool *yes)
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

/* The children's data is read a window at a time, pipelined, then taken in listing order;
 * what is below an object is read when it is taken (its own reads pipelined in turn). */
int fetch_listed(struct reader *r, const struct kind *k, const char *parent, const char *dir,
		 const struct listing *l)
{
	struct batch *b = NULL;
	size_t count, from, n, i;
	int rc = 0;

	count = l->sv->count > 0 ? (size_t)l->sv->count : 0;
	if (count) {
		b = batch_new(count < WINDOW ? count : WINDOW);
		if (!b)
			rc = topo_fail(-ENOMEM, "out of memory");
	}
	for (from = 0; !rc && from < count; from += n) {
		char *const *names = l->sv->data + from;

		n = issue(r, b, dir, names, count - from < WINDOW ? count - from : WINDOW);
		wait_all(b);
		/* A window cut short ends with an error: taking it fails the read. */
		for (i = 0; !rc && i < n; i++) {
			rpath(r, "%s/%s", dir, names[i]);
			rc = take(r, k, parent, names[i], b, &b->slots[i]);
		}
	}
	batch_free(b);
	return rc;
}

int fetch_kind(struct reader *r, const struct kind *k, const char *parent)
{
	char dir[TOPO_PATH_MAX];
	struct listing l;
	int rc;

	snprintf(dir, sizeof(dir), k->dir, parent);
	rpath(r, "%s", dir);
	rc = fetch_listing(r, &l);
	if (rc >= 0 && k->dir_version_off != SIZE_MAX)
		*FIELD(r->t, k->dir_version_off, int32_t) = l.version;
	if (!rc)
		rc = fetch_listed(r, k, parent, dir, &l);
	listing_free(&l);
	return rc < 0 ? rc : 0;
}

/* The node is read whole (up to TOPO_INDEX_MAX) into a buffer of the caller's. */
int fetch_blob(struct reader *r, char **value, int *len, struct Stat *st)
{
	const char *cached;
	int rc;

	*value = NULL;
	*len = 0;
	if (r->m && mirror_data(r->m, r->path, &cached, len, st)) {
		if (st->dataLength > TOPO_INDEX_MAX || *len < st->dataLength)
			return 1; /* too large to be an index (kept cut short) */
		if (*len > 0 && !(*value = malloc((size_t)*len)))
			return topo_fail(-ENOMEM, "out of memory");
		if (*len > 0)
			memcpy(*value, cached, (size_t)*len);
		return 0;
	}
	*value = malloc(TOPO_INDEX_MAX);
	if (!*value)
		return topo_fail(-ENOMEM, "out of memory");
	*len = TOPO_INDEX_MAX;
	rc = zoo_wget(r->zh, r->path, r->watcher, NULL, *value, len, st);
	if (rc == ZOK && r->m && mirror_keep_data(r->m, r->path, *value, *len, st))
		rc = ZSYSTEMERROR;
	if (rc == ZOK && st->dataLength <= TOPO_INDEX_MAX) {
		if (*len < 0)
			*len = 0;
		return 0;
	}
	free(*value);
	*value = NULL;
	*len = 0;
	if (rc == ZNONODE || rc == ZOK)
		return 1;
	if (rc == ZSYSTEMERROR)
		return topo_fail(-ENOMEM, "out of memory");
	return topo_fail(topo_zerr(rc), "reading %s: %s", r->path, zerror(rc));
}
