// SPDX-License-Identifier: Apache-2.0
/* An in-memory ZooKeeper (fakezk.h). Small trees only: every lookup is linear. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/topology.h"
#include "fakezk.h"

struct node {
	char *path;
	char *data;
	int len;
	int32_t version, cversion;
	int64_t czxid, mzxid;
};

struct tree {
	struct node *n;
	size_t count;
	int64_t zxid;
};

static struct tree live, saved;
static void *session_ctx;
static const clientid_t client = { .client_id = 0x4d58 };

static char *dup_bytes(const char *p, int len)
{
	char *s = malloc(len > 0 ? (size_t)len + 1 : 1);

	if (!s)
		abort();
	if (len > 0)
		memcpy(s, p, (size_t)len);
	s[len > 0 ? len : 0] = '\0';
	return s;
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->n[i].path);
		free(t->n[i].data);
	}
	free(t->n);
	*t = (struct tree){ 0 };
}

static void tree_copy(struct tree *to, const struct tree *from)
{
	tree_free(to);
	to->n = calloc(from->count ? from->count : 1, sizeof(*to->n));
	if (!to->n)
		abort();
	for (size_t i = 0; i < from->count; i++) {
		to->n[i] = from->n[i];
		to->n[i].path = dup_bytes(from->n[i].path, (int)strlen(from->n[i].path));
		to->n[i].data = dup_bytes(from->n[i].data, from->n[i].len);
	}
	to->count = from->count;
	to->zxid = from->zxid;
}

void fakezk_save(void)
{
	tree_copy(&saved, &live);
}

void fakezk_restore(void)
{
	tree_copy(&live, &saved);
}

void fakezk_dump(FILE *f)
{
	for (size_t i = 0; i < live.count; i++)
		fprintf(f, "%s\t%.*s\n", live.n[i].path, live.n[i].len, live.n[i].data);
}

static struct node *find(const char *path)
{
	for (size_t i = 0; i < live.count; i++)
		if (!strcmp(live.n[i].path, path))
			return &live.n[i];
	return NULL;
}

static bool path_ok(const char *path);

/* The node at a well-formed path, or NULL. */
static struct node *lookup(const char *path)
{
	return path_ok(path) ? find(path) : NULL;
}

/* Whether child is a direct child of parent. */
static bool child_of(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	if (!strcmp(parent, "/"))
		return child[0] == '/' && child[1] && !strchr(child + 1, '/');
	return !strncmp(child, parent, n) && child[n] == '/' && child[n + 1] &&
	       !strchr(child + n + 1, '/');
}

static int32_t n_children(const char *path)
{
	int32_t k = 0;

	for (size_t i = 0; i < live.count; i++)
		k += child_of(live.n[i].path, path);
	return k;
}

static struct node *parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[1024];
	size_t n;

	if (!slash || slash == path)
		return NULL; /* "/x": the root always exists */
	n = (size_t)(slash - path);
	if (n >= sizeof(parent))
		return NULL;
	memcpy(parent, path, n);
	parent[n] = '\0';
	return find(parent);
}

static bool path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n > 1 && path[0] == '/' && path[n - 1] != '/' && !strstr(path, "//") && n < 1024;
}

static void stat_of(const struct node *nd, struct Stat *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	st->czxid = nd->czxid;
	st->mzxid = nd->mzxid;
	st->pzxid = nd->czxid;
	st->version = nd->version;
	st->cversion = nd->cversion;
	st->dataLength = nd->len;
	st->numChildren = n_children(nd->path);
}

static int do_create(const char *path, const char *data, int len)
{
	struct node *parent, *n;
	bool top = path_ok(path) && strchr(path + 1, '/') == NULL;

	if (!path_ok(path))
		return ZBADARGUMENTS;
	if (find(path))
		return ZNODEEXISTS;
	parent = parent_of(path);
	if (!parent && !top)
		return ZNONODE;
	if (parent)
		parent->cversion++;
	n = realloc(live.n, (live.count + 1) * sizeof(*n));
	if (!n)
		abort();
	live.n = n;
	live.n[live.count++] = (struct node){ .path = dup_bytes(path, (int)strlen(path)),
					      .data = dup_bytes(data, len), .len = len > 0 ? len : 0,
					      .czxid = ++live.zxid, .mzxid = live.zxid };
	return ZOK;
}

static int do_delete(const char *path, int version)
{
	struct node *n = lookup(path), *parent;

	if (!n)
		return ZNONODE;
	if (version != -1 && version != n->version)
		return ZBADVERSION;
	if (n_children(path))
		return ZNOTEMPTY;
	parent = parent_of(path);
	if (parent)
		parent->cversion++;
	free(n->path);
	free(n->data);
	*n = live.n[--live.count];
	return ZOK;
}

static int do_set(const char *path, const char *data, int len, int version, struct Stat *st)
{
	struct node *n = lookup(path);

	if (!n)
		return ZNONODE;
	if (version != -1 && version != n->version)
		return ZBADVERSION;
	free(n->data);
	n->data = dup_bytes(data, len);
	n->len = len > 0 ? len : 0;
	n->version++;
	n->mzxid = ++live.zxid;
	stat_of(n, st);
	return ZOK;
}

static int do_check(const char *path, int version)
{
	struct node *n = lookup(path);

	if (!n)
		return ZNONODE;
	return version != -1 && version != n->version ? ZBADVERSION : ZOK;
}

/* ---- the client API ---- */

zhandle_t *zookeeper_init(const char *host, watcher_fn fn, int recv_timeout,
			  const clientid_t *clientid, void *context, int flags)
{
	static char handle;

	(void)host;
	(void)recv_timeout;
	(void)clientid;
	(void)flags;
	session_ctx = context;
	if (fn)
		fn((zhandle_t *)&handle, ZOO_SESSION_EVENT, ZOO_CONNECTED_STATE, "", context);
	return (zhandle_t *)&handle;
}

zhandle_t *zookeeper_init2(const char *host, watcher_fn fn, int recv_timeout,
			   const clientid_t *clientid, void *context, int flags,
			   log_callback_fn log_callback)
{
	(void)log_callback;
	return zookeeper_init(host, fn, recv_timeout, clientid, context, flags);
}

int zookeeper_close(zhandle_t *zh)
{
	(void)zh;
	session_ctx = NULL;
	return ZOK;
}

const void *zoo_get_context(zhandle_t *zh)
{
	(void)zh;
	return session_ctx;
}

const clientid_t *zoo_client_id(zhandle_t *zh)
{
	(void)zh;
	return &client;
}

/* No names to look up: there is no server. */
int zoo_set_servers_resolution_delay(zhandle_t *zh, int delay_ms)
{
	(void)zh;
	(void)delay_ms;
	return ZOK;
}

/* Watches are never set: the fuzz targets read once per command. */
int zoo_wexists(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx, struct Stat *st)
{
	return zoo_wget(zh, path, watcher, ctx, NULL, &(int){ 0 }, st);
}

int zoo_aexists(zhandle_t *zh, const char *path, int watch, stat_completion_t done,
		const void *data)
{
	struct Stat st;
	int rc = zoo_exists(zh, path, watch, &st);

	done(rc, rc == ZOK ? &st : NULL, data);
	return ZOK;
}

int zoo_exists(zhandle_t *zh, const char *path, int watch, struct Stat *st)
{
	(void)watch;
	return zoo_wexists(zh, path, NULL, NULL, st);
}

int zoo_wget(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx, char *buf,
	     int *len, struct Stat *st)
{
	struct node *n = lookup(path);

	(void)zh;
	(void)watcher;
	(void)ctx;
	if (!n)
		return ZNONODE;
	if (*len > n->len)
		*len = n->len;
	if (buf && *len > 0)
		memcpy(buf, n->data, (size_t)*len);
	stat_of(n, st);
	return ZOK;
}

int zoo_get(zhandle_t *zh, const char *path, int watch, char *buf, int *len, struct Stat *st)
{
	(void)watch;
	return zoo_wget(zh, path, NULL, NULL, buf, len, st);
}

/* Completed before it returns: the caller must not hold a lock its completion takes. */
int zoo_awget(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
	      data_completion_t done, const void *data)
{
	struct node *n = lookup(path);
	struct Stat st;

	(void)zh;
	(void)watcher;
	(void)ctx;
	if (!n) {
		done(ZNONODE, NULL, -1, NULL, data);
		return ZOK;
	}
	stat_of(n, &st);
	done(ZOK, n->data, n->len, &st, data);
	return ZOK;
}

int zoo_aget(zhandle_t *zh, const char *path, int watch, data_completion_t done,
	     const void *data)
{
	(void)watch;
	return zoo_awget(zh, path, NULL, NULL, done, data);
}

int zoo_wget_children2(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		       struct String_vector *sv, struct Stat *st)
{
	struct node *n = lookup(path);
	size_t len = strlen(path ? path : "");

	(void)zh;
	(void)watcher;
	(void)ctx;
	if (!n)
		return ZNONODE;
	stat_of(n, st);
	sv->count = 0;
	sv->data = calloc((size_t)n_children(path) + 1, sizeof(char *));
	if (!sv->data)
		abort();
	for (size_t i = 0; i < live.count; i++)
		if (child_of(live.n[i].path, path)) {
			const char *name = live.n[i].path + len + 1;

			sv->data[sv->count++] = dup_bytes(name, (int)strlen(name));
		}
	return ZOK;
}

/* Completed before it returns, as zoo_awget. */
int zoo_awget_children2(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
			strings_stat_completion_t done, const void *data)
{
	struct String_vector sv = { 0 };
	struct Stat st;
	int rc = zoo_wget_children2(zh, path, watcher, ctx, &sv, &st);

	done(rc, rc == ZOK ? &sv : NULL, rc == ZOK ? &st : NULL, data);
	deallocate_String_vector(&sv);
	return ZOK;
}

int zoo_awexists(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		 stat_completion_t done, const void *data)
{
	struct Stat st;
	int rc = zoo_wexists(zh, path, watcher, ctx, &st);

	done(rc, rc == ZOK ? &st : NULL, data);
	return ZOK;
}

int zoo_wget_children(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		      struct String_vector *sv)
{
	return zoo_wget_children2(zh, path, watcher, ctx, sv, NULL);
}

int zoo_get_children(zhandle_t *zh, const char *path, int watch, struct String_vector *sv)
{
	(void)watch;
	return zoo_wget_children2(zh, path, NULL, NULL, sv, NULL);
}

int zoo_create(zhandle_t *zh, const char *path, const char *value, int valuelen,
	       const struct ACL_vector *acl, int flags, char *path_buffer, int path_buffer_len)
{
	int rc = do_create(path, value, valuelen);

	(void)zh;
	(void)acl;
	(void)flags;
	if (rc == ZOK && path_buffer && path_buffer_len > 0)
		snprintf(path_buffer, (size_t)path_buffer_len, "%s", path);
	return rc;
}

int zoo_delete(zhandle_t *zh, const char *path, int version)
{
	(void)zh;
	return do_delete(path, version);
}

int zoo_set2(zhandle_t *zh, const char *path, const char *buffer, int buflen, int version,
	     struct Stat *st)
{
	(void)zh;
	return do_set(path, buffer, buflen, version, st);
}

int zoo_set(zhandle_t *zh, const char *path, const char *buffer, int buflen, int version)
{
	return zoo_set2(zh, path, buffer, buflen, version, NULL);
}

/* All or nothing: on the first failure the tree goes back to what it was, the failed op
 * gets its error and the others ZRUNTIMEINCONSISTENCY, as ZooKeeper reports it. */
int zoo_multi(zhandle_t *zh, int count, const zoo_op_t *ops, zoo_op_result_t *results)
{
	struct tree before = { 0 };
	int rc = ZOK, i;

	(void)zh;
	tree_copy(&before, &live);
	for (i = 0; i < count && rc == ZOK; i++) {
		const zoo_op_t *op = &ops[i];

		memset(&results[i], 0, sizeof(results[i]));
		switch (op->type) {
		case ZOO_CREATE_OP:
			rc = do_create(op->create_op.path, op->create_op.data, op->create_op.datalen);
			if (rc == ZOK && op->create_op.buf && op->create_op.buflen > 0)
				snprintf(op->create_op.buf, (size_t)op->create_op.buflen, "%s",
					 op->create_op.path);
			break;
		case ZOO_DELETE_OP:
			rc = do_delete(op->delete_op.path, op->delete_op.version);
			break;
		case ZOO_SETDATA_OP:
			rc = do_set(op->set_op.path, op->set_op.data, op->set_op.datalen,
				    op->set_op.version, op->set_op.stat);
			break;
		case ZOO_CHECK_OP:
			rc = do_check(op->check_op.path, op->check_op.version);
			break;
		default:
			rc = ZBADARGUMENTS;
		}
		results[i].err = rc;
	}
	if (rc != ZOK) {
		for (int j = 0; j < count; j++)
			if (j != i - 1)
				results[j].err = ZRUNTIMEINCONSISTENCY;
		tree_copy(&live, &before);
	}
	tree_free(&before);
	return rc;
}

/* Answered at once, as the real client answers on its completion thread: the caller waits
 * for the completion, which has then already run. */
int zoo_amulti(zhandle_t *zh, int count, const zoo_op_t *ops, zoo_op_result_t *results,
	       void_completion_t completion, const void *data)
{
	completion(zoo_multi(zh, count, ops, results), data);
	return ZOK;
}
