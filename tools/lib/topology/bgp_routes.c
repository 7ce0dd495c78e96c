// SPDX-License-Identifier: Apache-2.0
/* Routes an agent learned from the BGP peers of its ports, and the state of each session
 * (docs/bgp.md): ephemeral nodes of its session under its own host,
 * /midox/hosts/<host>/bgp_routes/<uuid> and /midox/hosts/<host>/bgp_status/<peer>, the
 * containers made when missing (an agent's own, as interfaces and binding_status are). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_impl.h"

static int ensure_container(zhandle_t *zh, const char *fmt, const char *host_id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), fmt, host_id);
	rc = zoo_create(zh, path, topo_container_json, (int)strlen(topo_container_json),
			topo_acl_for(path), ZOO_PERSISTENT, NULL, 0);
	mirror_touched(zh, path);
	if (rc != ZOK && rc != ZNODEEXISTS)
		return topo_fail(topo_zerr(rc), "creating %s: %s", path, zerror(rc));
	return 0;
}

int topo_bgp_route_publish(zhandle_t *zh, const char *host_id, const struct topo_route *r,
			   char id[TOPO_ID_LEN])
{
	char path[TOPO_PATH_MAX], *data;
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(r->router_id) ||
	    !topo_valid_uuid(r->port_id) || !topo_valid_uuid(r->peer_id))
		return topo_fail(-EINVAL, "bad host, router, port or peer id");
	if (!topo_cidr_is_network(&r->dst) || !topo_valid_unicast_ipv4(r->gw) ||
	    r->weight < 1 || r->weight > TOPO_WEIGHT_MAX)
		return topo_fail(-EINVAL, "bad learned route");
	rc = topo_new_uuid(id);
	if (!rc)
		rc = ensure_container(zh, P_HOST_BGP_ROUTES, host_id);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, id);
	data = topo_encode_route_learned(r);
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_bgp_route_withdraw(zhandle_t *zh, const char *host_id, const char *id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(id))
		return topo_fail(-EINVAL, "bad host or route id");
	snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, id);
	rc = zoo_delete(zh, path, -1);
	mirror_touched(zh, path);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

/* ---- listing: the nodes' data asked for a window at a time, without waiting for each ---- */

#define LIST_WINDOW 512

struct list_window {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t want, done;
	struct list_slot {
		struct list_window *w;
		int rc;
		int len;
		char data[TOPO_DATA_MAX];
	} *slots;
};

static void list_got(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
	struct list_slot *s = (struct list_slot *)data;
	struct list_window *w = s->w;

	(void)st;
	pthread_mutex_lock(&w->lock);
	s->rc = rc;
	s->len = 0;
	if (rc == ZOK && value && len > 0) {
		if (len > TOPO_DATA_MAX)
			s->rc = ZBADARGUMENTS; /* larger than any object: not one to read */
		else
			memcpy(s->data, value, (size_t)(s->len = len));
	}
	if (++w->done == w->want)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* Ask for names[0..n) under host_id's routes at once; wait for every answer. Returns how
 * many were asked (the rest: the client refused, an error to report). */
static size_t list_window_read(zhandle_t *zh, const char *host_id, struct list_window *w,
			       char **names, size_t n, int *refused)
{
	char path[TOPO_PATH_MAX];
	size_t i, asked = 0;

	*refused = ZOK;
	pthread_mutex_lock(&w->lock);
	w->want = SIZE_MAX;
	w->done = 0;
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < n; i++) {
		w->slots[i].w = w;
		snprintf(path, sizeof(path), P_BGP_ROUTE, host_id, names[i]);
		*refused = zoo_aget(zh, path, 0, list_got, &w->slots[i]);
		if (*refused != ZOK)
			break;
		asked++;
	}
	pthread_mutex_lock(&w->lock);
	w->want = asked;
	while (w->done < w->want)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
	return asked;
}

int topo_bgp_routes_list(zhandle_t *zh, const char *host_id, struct topo_route **out,
			 size_t *n)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX];
	struct topo_route *arr = NULL, *r;
	struct list_window w = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	size_t from, count, asked;
	int rc, refused;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), P_HOST_BGP_ROUTES, host_id);
	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	w.slots = calloc(LIST_WINDOW, sizeof(*w.slots));
	rc = w.slots ? 0 : topo_fail(-ENOMEM, "out of memory");
	for (from = 0; !rc && from < (size_t)sv.count; from += count) {
		count = (size_t)sv.count - from < LIST_WINDOW ? (size_t)sv.count - from : LIST_WINDOW;
		asked = list_window_read(zh, host_id, &w, sv.data + from, count, &refused);
		if (asked < count) {
			rc = topo_fail(topo_zerr(refused), "reading %s: %s", path, zerror(refused));
			break;
		}
		for (size_t i = 0; !rc && i < count; i++) {
			struct list_slot *s = &w.slots[i];

			if (s->rc == ZNONODE || s->rc == ZBADARGUMENTS)
				continue; /* gone since the listing; or not a route */
			if (s->rc != ZOK) {
				rc = topo_fail(topo_zerr(s->rc), "reading %s/%s: %s", path,
					       sv.data[from + i], zerror(s->rc));
				break;
			}
			r = topo_push((void **)&arr, n, sizeof(*arr));
			if (!r) {
				rc = topo_fail(-ENOMEM, "out of memory");
				break;
			}
			if (topo_decode_route_learned(s->data, (size_t)s->len, sv.data[from + i], r))
				(*n)--; /* not ours to read: left for its owner to replace */
			else
				strcpy(r->host_id, host_id);
		}
	}
	free(w.slots);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	deallocate_String_vector(&sv);
	if (rc) {
		free(arr);
		*n = 0;
		return rc;
	}
	*out = arr;
	return 0;
}

int topo_bgp_status_publish(zhandle_t *zh, const char *host_id, const struct topo_bgp_status *st)
{
	char path[TOPO_PATH_MAX], *data;
	struct Stat stat;
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(st->peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	rc = ensure_container(zh, P_HOST_BGP_STATUS, host_id);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, st->peer_id);
	data = topo_encode_bgp_status(st);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	/* Ours already (the session's): rewritten; else made, replacing an older session's. */
	rc = zoo_exists(zh, path, 0, &stat);
	if (rc == ZOK && stat.ephemeralOwner == zoo_client_id(zh)->client_id) {
		rc = zoo_set(zh, path, data, (int)strlen(data), -1);
		free(data);
		if (rc != ZOK)
			return topo_fail(topo_zerr(rc), "writing %s: %s", path, zerror(rc));
		return 0;
	}
	rc = topo_publish_ephemeral(zh, path, data);
	free(data);
	return rc;
}

int topo_bgp_status_withdraw(zhandle_t *zh, const char *host_id, const char *peer_id)
{
	char path[TOPO_PATH_MAX];
	int rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, peer_id);
	rc = zoo_delete(zh, path, -1);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}

int topo_bgp_status_read(zhandle_t *zh, const char *host_id, const char *peer_id,
			 struct topo_bgp_status *out)
{
	char path[TOPO_PATH_MAX], buf[TOPO_DATA_MAX];
	int len = sizeof(buf), rc;

	if (!topo_valid_uuid(host_id) || !topo_valid_uuid(peer_id))
		return topo_fail(-EINVAL, "bad host or peer id");
	snprintf(path, sizeof(path), P_BGP_STATUS, host_id, peer_id);
	rc = zoo_get(zh, path, 0, buf, &len, NULL);
	if (rc == ZNONODE)
		return -ENOENT;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	memset(out, 0, sizeof(*out));
	return topo_decode_bgp_status(buf, len > 0 ? (size_t)len : 0, peer_id, out);
}

/* ---- asynchronous batches ---- */

/* One multi-op in flight: its answers land in results, then in the caller's writes. */
struct write_batch {
	zhandle_t *zh;
	struct topo_bgp_write *w;
	size_t n;
	topo_bgp_written_fn done;
	void *ctx;
	char host_id[TOPO_ID_LEN];
	zoo_op_result_t results[];
};

static void write_path(char *path, const char *host_id, const struct topo_bgp_write *w)
{
	snprintf(path, TOPO_PATH_MAX, P_BGP_ROUTE, host_id, w->r.id);
}

static void batch_answered(int rc, const void *data)
{
	struct write_batch *b = (struct write_batch *)data;
	char path[TOPO_PATH_MAX];

	for (size_t i = 0; i < b->n; i++) {
		int err = b->results[i].err;

		/* A multi that failed rolled back every write: the one that failed says why, the
		 * others were undone; with no answer at all (connection lost), the multi's. */
		if (rc == ZOK)
			err = ZOK;
		else if (err == ZOK)
			err = ZRUNTIMEINCONSISTENCY;
		else if (err == ZNOTHING)
			err = rc;
		b->w[i].rc = err;
		write_path(path, b->host_id, &b->w[i]);
		mirror_touched(b->zh, path);
	}
	b->done(rc, b->ctx);
	free(b);
}

static bool write_valid(const struct topo_bgp_write *w)
{
	const struct topo_route *r = &w->r;

	if (!topo_valid_uuid(r->id))
		return false;
	if (w->withdraw)
		return true;
	return topo_valid_uuid(r->router_id) && topo_valid_uuid(r->port_id) &&
	       topo_valid_uuid(r->peer_id) && topo_cidr_is_network(&r->dst) &&
	       topo_valid_unicast_ipv4(r->gw) && r->weight >= 1 && r->weight <= TOPO_WEIGHT_MAX;
}

int topo_bgp_routes_write_async(zhandle_t *zh, const char *host_id, struct topo_bgp_write *w,
				size_t n, topo_bgp_written_fn done, void *ctx)
{
	char (*paths)[TOPO_PATH_MAX] = NULL;
	char **data = NULL;
	zoo_op_t *ops = NULL;
	struct write_batch *b = NULL;
	int rc = 0;

	if (!topo_valid_uuid(host_id) || !n || n > TOPO_BGP_BATCH_MAX)
		return topo_fail(-EINVAL, "bad host or batch size");
	for (size_t i = 0; i < n; i++)
		if (!write_valid(&w[i]))
			return topo_fail(-EINVAL, "bad learned route");
	paths = calloc(n, sizeof(*paths));
	data = calloc(n, sizeof(*data));
	ops = calloc(n, sizeof(*ops));
	b = calloc(1, sizeof(*b) + n * sizeof(b->results[0]));
	if (!paths || !data || !ops || !b) {
		rc = topo_fail(-ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		write_path(paths[i], host_id, &w[i]);
		if (w[i].withdraw) {
			zoo_delete_op_init(&ops[i], paths[i], -1);
			continue;
		}
		data[i] = topo_encode_route_learned(&w[i].r);
		if (!data[i]) {
			rc = topo_fail(-ENOMEM, "out of memory");
			goto out;
		}
		/* No path buffer: the name is ours already. */
		zoo_create_op_init(&ops[i], paths[i], data[i], (int)strlen(data[i]),
				   topo_acl_for(paths[i]), ZOO_EPHEMERAL, NULL, 0);
	}
	b->zh = zh;
	b->w = w;
	b->n = n;
	b->done = done;
	b->ctx = ctx;
	strcpy(b->host_id, host_id);
	for (size_t i = 0; i < n; i++)
		b->results[i].err = ZNOTHING; /* still so: no answer came */
	/* The request is serialized now: paths and data can go; results stay with b. */
	rc = zoo_amulti(zh, (int)n, ops, b->results, batch_answered, b);
	if (rc != ZOK) {
		rc = topo_fail(topo_zerr(rc), "sending %zu learned-route writes: %s", n, zerror(rc));
		goto out;
	}
	b = NULL; /* batch_answered's now */
out:
	for (size_t i = 0; data && i < n; i++)
		free(data[i]);
	free(data);
	free(paths);
	free(ops);
	free(b);
	return rc;
}

static void container_answered(int rc, const char *value, const void *data)
{
	(void)rc;
	(void)value;
	(void)data;
}

void topo_bgp_routes_container_async(zhandle_t *zh, const char *host_id)
{
	char path[TOPO_PATH_MAX];

	snprintf(path, sizeof(path), P_HOST_BGP_ROUTES, host_id);
	zoo_acreate(zh, path, topo_container_json, (int)strlen(topo_container_json),
		    topo_acl_for(path), ZOO_PERSISTENT, container_answered, NULL);
	mirror_touched(zh, path);
}
