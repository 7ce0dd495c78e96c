// SPDX-License-Identifier: Apache-2.0
/* The multi-op builder: every write of the topology is one zoo_multi. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_impl.h"

void *topo_push(void **arr, size_t *n, size_t size)
{
	char *p;

	/* The capacity is implicit: 4, then the next power of two. */
	if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
		p = realloc(*arr, (*n ? *n * 2 : 4) * size);
		if (!p)
			return NULL;
		*arr = p;
	}
	p = (char *)*arr + *n * size;
	memset(p, 0, size);
	(*n)++;
	return p;
}

void txn_init(struct topo_txn *x)
{
	memset(x, 0, sizeof(*x));
}

void txn_free(struct topo_txn *x)
{
	size_t i;

	for (i = 0; i < x->n_owned; i++)
		free(x->owned[i]);
	free(x->owned);
	free(x->ops);
	free(x->results);
	free(x->stats);
	txn_init(x);
}

static char *own(struct topo_txn *x, char *s)
{
	char **slot;

	if (!s) {
		x->err = -ENOMEM;
		return NULL;
	}
	slot = topo_push((void **)&x->owned, &x->n_owned, sizeof(*slot));
	if (!slot) {
		free(s);
		x->err = -ENOMEM;
		return NULL;
	}
	*slot = s;
	return s;
}

static char *vpath(struct topo_txn *x, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	return own(x, s);
}

/* A new op slot; NULL after any failure so far. */
static zoo_op_t *slot(struct topo_txn *x)
{
	size_t n = x->n;
	zoo_op_t *op;

	if (x->err)
		return NULL;
	op = topo_push((void **)&x->ops, &x->n, sizeof(*op));
	if (!op)
		goto oom;
	if (!topo_push((void **)&x->results, &n, sizeof(zoo_op_result_t)))
		goto oom;
	n = x->n - 1;
	if (!topo_push((void **)&x->stats, &n, sizeof(struct Stat)))
		goto oom;
	return op;
oom:
	x->err = -ENOMEM;
	return NULL;
}

/* A new op on a path made from fmt; NULL after any failure so far. */
static zoo_op_t *op_on(struct topo_txn *x, const char **path, const char *fmt, va_list ap)
{
	*path = vpath(x, fmt, ap);
	return slot(x);
}

static const char *container_data(struct topo_txn *x, char *data)
{
	return own(x, data ? data : strdup(topo_container_json));
}

void txn_create(struct topo_txn *x, int flags, char *data, const char *fmt, ...)
{
	const char *d = container_data(x, data), *path;
	zoo_op_t *op;
	va_list ap;

	va_start(ap, fmt);
	op = op_on(x, &path, fmt, ap);
	va_end(ap);
	if (op)
		zoo_create_op_init(op, path, d, (int)strlen(d), topo_acl_for(path), flags, NULL, 0);
}

static void vset(struct topo_txn *x, int version, char *data, const char *fmt, va_list ap)
{
	const char *d = container_data(x, data), *path;
	zoo_op_t *op = op_on(x, &path, fmt, ap);

	if (op)
		zoo_set_op_init(op, path, d, (int)strlen(d), version, NULL);
}

void txn_set(struct topo_txn *x, int version, char *data, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(x, version, data, fmt, ap);
	va_end(ap);
}

void txn_touch(struct topo_txn *x, int version, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(x, version, NULL, fmt, ap);
	va_end(ap);
}

/* Delete and check take the same arguments. */
static void vversioned(struct topo_txn *x, void (*init)(zoo_op_t *, const char *, int),
		       int version, const char *fmt, va_list ap)
{
	const char *path;
	zoo_op_t *op = op_on(x, &path, fmt, ap);

	if (op)
		init(op, path, version);
}

void txn_delete(struct topo_txn *x, int version, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vversioned(x, zoo_delete_op_init, version, fmt, ap);
	va_end(ap);
}

void txn_check(struct topo_txn *x, int version, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vversioned(x, zoo_check_op_init, version, fmt, ap);
	va_end(ap);
}

const char *txn_path(const struct topo_txn *x, size_t i)
{
	const zoo_op_t *op = &x->ops[i];

	switch (op->type) {
	case ZOO_CREATE_OP:
		return op->create_op.path;
	case ZOO_DELETE_OP:
		return op->delete_op.path;
	case ZOO_SETDATA_OP:
		return op->set_op.path;
	default:
		return op->check_op.path;
	}
}

/* A commit's answer, as the client's completion thread hands it over. */
struct commit_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int rc;
};

static void commit_answered(int rc, const void *data)
{
	struct commit_wait *w = (struct commit_wait *)data;

	pthread_mutex_lock(&w->lock);
	w->rc = rc;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* zoo_multi, answered on the completion thread after every watch event the server sent
 * before the answer, the commit's own included: they have all reached the mirror when this
 * returns, so the read after a write finds them queued and needs no barrier before asking
 * for them (the client answers a synchronous call from its I/O thread, ahead of them). */
static int multi(zhandle_t *zh, struct topo_txn *x)
{
	struct commit_wait w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, ZOK };
	int rc = zoo_amulti(zh, (int)x->n, x->ops, x->results, commit_answered, &w);

	/* Once the client takes a request, it calls the completion, whatever happens. */
	if (rc == ZOK) {
		pthread_mutex_lock(&w.lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		rc = w.rc;
	}
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	return rc;
}

int txn_commit(zhandle_t *zh, struct topo_txn *x)
{
	size_t i;
	int rc;

	if (x->err)
		return topo_fail(x->err, "out of memory");
	if (x->n == 0)
		return 0;
	/* The arrays have stopped moving: point each set at its stat now. */
	for (i = 0; i < x->n; i++)
		if (x->ops[i].type == ZOO_SETDATA_OP)
			x->ops[i].set_op.stat = &x->stats[i];
	rc = multi(zh, x);
	/* Committed or not, what it names is read again: a node it made has no watch yet, and
	 * the change that made it fail may be one no watch covers. */
	for (i = 0; i < x->n; i++)
		mirror_touched(zh, txn_path(x, i));
	if (rc == ZOK)
		return 0;
	x->failed = 0;
	for (i = 0; i < x->n; i++) {
		if (x->results[i].err != ZOK && x->results[i].err != ZRUNTIMEINCONSISTENCY) {
			x->failed = i;
			rc = x->results[i].err;
			break;
		}
	}
	switch (rc) {
	case ZBADVERSION:
	case ZNONODE:
	case ZNODEEXISTS:
	case ZNOTEMPTY:
		return topo_fail(-EAGAIN, "%s: %s (changed by another writer)",
				 txn_path(x, x->failed), zerror(rc));
	default:
		return topo_fail(topo_zerr(rc), "ZooKeeper: %s", zerror(rc));
	}
}
