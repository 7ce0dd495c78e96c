// SPDX-License-Identifier: Apache-2.0
/* What agents report of their host: one ephemeral node per interface and per binding,
 * under the host (so the host's own identity may write them, docs/zookeeper.md). Read by
 * the CLI one host at a time; a node that does not parse is logged and left out. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "topo_impl.h"

static const char *const dir_fmt[] = {
	[TOPO_STATUS_IFACES] = P_HOST_IFACES,
	[TOPO_STATUS_BINDINGS] = P_HOST_BINDING_STATUS,
};

static int dir_path(char *buf, const char *host_id, enum topo_status_dir dir)
{
	if (!topo_valid_uuid(host_id))
		return topo_fail(-EINVAL, "bad host id '%s'", host_id);
	snprintf(buf, TOPO_PATH_MAX, dir_fmt[dir], host_id);
	return 0;
}

static int node_path(char *buf, const char *host_id, enum topo_status_dir dir,
		     const char *name)
{
	int rc = dir_path(buf, host_id, dir);

	if (rc)
		return rc;
	if (!topo_valid_ifname(name))
		return topo_fail(-EINVAL, "bad interface name '%s'", name);
	snprintf(buf + strlen(buf), TOPO_PATH_MAX - strlen(buf), "/%s", name);
	return 0;
}

/* ---- reading ---- */

struct status_kind {
	topo_decode_fn *decode;
	size_t size;
	size_t arr_off, n_off;
};

#define STATUS_ARRAY(a) offsetof(struct topo_host_status, a), \
	offsetof(struct topo_host_status, n_##a)
static const struct status_kind kinds[] = {
	[TOPO_STATUS_IFACES] = { topo_decode_iface, sizeof(struct topo_iface),
				 STATUS_ARRAY(ifaces) },
	[TOPO_STATUS_BINDINGS] = { topo_decode_binding_status,
				   sizeof(struct topo_binding_status), STATUS_ARRAY(bindings) },
};

/* One node's answer (rc, its len bytes) into the kind's array; what does not parse is
 * skipped. */
static int keep_one(struct topo_host_status *s, const struct status_kind *k, const char *path,
		    const char *name, int rc, const char *buf, int len)
{
	void **arr = (void **)((char *)s + k->arr_off);
	size_t *n = (size_t *)((char *)s + k->n_off);
	void *obj;

	if (rc == ZNONODE)
		return 0; /* gone since the listing */
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	obj = topo_push(arr, n, k->size);
	if (!obj)
		return topo_fail(-ENOMEM, "out of memory");
	if (len < 0 || k->decode(buf, (size_t)len, name, obj)) {
		mx_warn("skipping %s: %s", path, len < 0 ? "empty data" : topo_errmsg());
		(*n)--;
		s->n_skipped++;
	}
	return 0;
}

static int read_one(zhandle_t *zh, struct topo_host_status *s, const struct status_kind *k,
		    const char *path, const char *name)
{
	char buf[TOPO_DATA_MAX];
	int len = sizeof(buf), rc = zoo_get(zh, path, 0, buf, &len, NULL);

	return keep_one(s, k, path, name, rc, buf, len);
}

static int read_dir(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		    struct topo_host_status *s)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX];
	int32_t i;
	int rc;

	rc = topo_status_list(zh, host_id, dir, &sv);
	for (i = 0; !rc && i < sv.count; i++) {
		rc = node_path(path, host_id, dir, sv.data[i]);
		if (rc) { /* a name no agent writes: named by its path, as the others */
			dir_path(path, host_id, dir);
			mx_warn("skipping %s/%s: %s", path, sv.data[i], topo_errmsg());
			s->n_skipped++;
			rc = 0;
			continue;
		}
		rc = read_one(zh, s, &kinds[dir], path, sv.data[i]);
	}
	deallocate_String_vector(&sv);
	return rc;
}

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(((const struct topo_iface *)a)->name, ((const struct topo_iface *)b)->name);
}

int topo_host_status_read(zhandle_t *zh, const char *host_id, struct topo_host_status *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = read_dir(zh, host_id, TOPO_STATUS_IFACES, s);
	if (!rc)
		rc = read_dir(zh, host_id, TOPO_STATUS_BINDINGS, s);
	if (rc)
		topo_host_status_free(s);
	else if (s->n_ifaces)
		qsort(s->ifaces, s->n_ifaces, sizeof(*s->ifaces), cmp_iface);
	s->reported = s->n_ifaces > 0;
	return rc;
}

/* Whether the host reported any interface: its directory has children. */
static int dir_reported(zhandle_t *zh, const char *host_id, bool *reported)
{
	char path[TOPO_PATH_MAX];
	struct Stat st;
	int rc = dir_path(path, host_id, TOPO_STATUS_IFACES), zrc;

	if (rc)
		return rc;
	zrc = zoo_exists(zh, path, 0, &st);
	if (zrc != ZOK && zrc != ZNONODE)
		return topo_fail(topo_zerr(zrc), "reading %s: %s", path, zerror(zrc));
	*reported = zrc == ZOK && st.numChildren > 0;
	return 0;
}

/* An interface's node asked for (topo_host_status_ask_one), its answer filled in on the
 * client's completion thread. */
struct topo_status_ask {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int rc;
	int len;
	char buf[TOPO_DATA_MAX];
	char host_id[TOPO_ID_LEN];
	char ifname[TOPO_IFNAME_MAX];
	char path[TOPO_PATH_MAX];
};

static void ask_answered(int rc, const char *value, int len, const struct Stat *st,
			 const void *data)
{
	struct topo_status_ask *a = (struct topo_status_ask *)data;

	(void)st;
	pthread_mutex_lock(&a->lock);
	a->rc = rc;
	/* As zoo_get into a buffer of this size: what is larger is cut (and does not parse). */
	a->len = len > (int)sizeof(a->buf) ? (int)sizeof(a->buf) : len;
	if (rc == ZOK && value && a->len > 0)
		memcpy(a->buf, value, (size_t)a->len);
	a->done = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

int topo_host_status_ask_one(zhandle_t *zh, const char *host_id, const char *ifname,
			     struct topo_status_ask **out)
{
	struct topo_status_ask *a;
	int rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return topo_fail(-ENOMEM, "out of memory");
	rc = node_path(a->path, host_id, TOPO_STATUS_IFACES, ifname);
	if (rc) {
		free(a);
		return rc;
	}
	snprintf(a->host_id, sizeof(a->host_id), "%s", host_id);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	/* Once the client takes a request, it calls the completion, whatever happens. */
	rc = zoo_aget(zh, a->path, 0, ask_answered, a);
	if (rc != ZOK) {
		a->rc = rc;
		a->done = true;
	}
	*out = a;
	return 0;
}

/* Until the answer is in; then a is the caller's alone. */
static void ask_wait(struct topo_status_ask *a)
{
	pthread_mutex_lock(&a->lock);
	while (!a->done)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
}

void topo_host_status_ask_free(struct topo_status_ask *a)
{
	if (!a)
		return;
	ask_wait(a);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}

int topo_host_status_take_one(zhandle_t *zh, struct topo_status_ask *a,
			      struct topo_host_status *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	ask_wait(a);
	rc = keep_one(s, &kinds[TOPO_STATUS_IFACES], a->path, a->ifname, a->rc, a->buf, a->len);
	/* The interface's node answers for the host too; only without it is the directory
	 * asked whether the host reported anything. */
	s->reported = s->n_ifaces || s->n_skipped;
	if (!rc && !s->reported)
		rc = dir_reported(zh, a->host_id, &s->reported);
	if (rc)
		topo_host_status_free(s);
	topo_host_status_ask_free(a);
	return rc;
}

int topo_host_status_read_one(zhandle_t *zh, const char *host_id, const char *ifname,
			      struct topo_host_status *s)
{
	struct topo_status_ask *a;
	int rc = topo_host_status_ask_one(zh, host_id, ifname, &a);

	memset(s, 0, sizeof(*s));
	return rc ? rc : topo_host_status_take_one(zh, a, s);
}

int topo_binding_status_read(zhandle_t *zh, const char *host_id, const char *ifname,
			     struct topo_binding_status *out)
{
	struct topo_host_status s = { 0 };
	char path[TOPO_PATH_MAX];
	int rc = node_path(path, host_id, TOPO_STATUS_BINDINGS, ifname);

	if (!rc)
		rc = read_one(zh, &s, &kinds[TOPO_STATUS_BINDINGS], path, ifname);
	if (!rc && !s.n_bindings)
		rc = -ENOENT;
	if (!rc)
		*out = s.bindings[0];
	topo_host_status_free(&s);
	return rc;
}

void topo_host_status_free(struct topo_host_status *s)
{
	free(s->ifaces);
	free(s->bindings);
	memset(s, 0, sizeof(*s));
}

const struct topo_iface *topo_status_iface(const struct topo_host_status *s, const char *name)
{
	for (size_t i = 0; i < s->n_ifaces; i++)
		if (!strcmp(s->ifaces[i].name, name))
			return &s->ifaces[i];
	return NULL;
}

const struct topo_binding_status *topo_status_binding(const struct topo_host_status *s,
						      const char *ifname)
{
	for (size_t i = 0; i < s->n_bindings; i++)
		if (!strcmp(s->bindings[i].interface, ifname))
			return &s->bindings[i];
	return NULL;
}

bool topo_status_has_ipv4(const struct topo_host_status *s, struct in_addr a)
{
	char want[INET_ADDRSTRLEN + 1];
	size_t n;

	inet_ntop(AF_INET, &a, want, INET_ADDRSTRLEN);
	n = strlen(want);
	want[n++] = '/';
	for (size_t i = 0; i < s->n_ifaces; i++)
		for (size_t j = 0; j < s->ifaces[i].n_addrs; j++)
			if (!strncmp(s->ifaces[i].addrs[j], want, n))
				return true;
	return false;
}

/* ---- the agent's writes ---- */

int topo_status_dir_ensure(zhandle_t *zh, const char *host_id, enum topo_status_dir dir)
{
	char path[TOPO_PATH_MAX];
	int rc = dir_path(path, host_id, dir);

	if (rc)
		return rc;
	rc = zoo_create(zh, path, topo_container_json, (int)strlen(topo_container_json),
			topo_acl_for(path), ZOO_PERSISTENT, NULL, 0);
	if (rc != ZOK && rc != ZNODEEXISTS)
		return topo_fail(topo_zerr(rc), "creating %s: %s", path, zerror(rc));
	return 0;
}

int topo_status_list(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		     struct String_vector *sv)
{
	char path[TOPO_PATH_MAX];
	int rc = dir_path(path, host_id, dir);

	memset(sv, 0, sizeof(*sv));
	if (rc)
		return rc;
	rc = zoo_get_children(zh, path, 0, sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	return 0;
}

/* The node exists: keep it if it is this session's with data, else make it so. 1: gone
 * meanwhile (create again). */
static int put_existing(zhandle_t *zh, const char *path, const char *data)
{
	const clientid_t *me = zoo_client_id(zh);
	char buf[TOPO_DATA_MAX];
	int len = sizeof(buf), rc;
	struct Stat st;

	rc = zoo_get(zh, path, 0, buf, &len, &st);
	if (rc == ZNONODE)
		return 1;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	if (st.ephemeralOwner != me->client_id) { /* an older session's: replaced */
		rc = zoo_delete(zh, path, st.version);
		return rc == ZOK || rc == ZNONODE || rc == ZBADVERSION
			       ? 1 : topo_fail(topo_zerr(rc), "replacing %s: %s", path, zerror(rc));
	}
	if (len == (int)strlen(data) && !memcmp(buf, data, (size_t)len))
		return 0;
	rc = zoo_set(zh, path, data, (int)strlen(data), st.version);
	if (rc == ZBADVERSION || rc == ZNONODE)
		return 1;
	return rc == ZOK ? 0 : topo_fail(topo_zerr(rc), "writing %s: %s", path, zerror(rc));
}

int topo_status_put(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		    const char *name, const char *data)
{
	char path[TOPO_PATH_MAX];
	int rc = node_path(path, host_id, dir, name), i;

	if (rc)
		return rc;
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	for (i = 0, rc = 1; rc == 1 && i < 5; i++) {
		rc = zoo_create(zh, path, data, (int)strlen(data), topo_acl_for(path),
				ZOO_EPHEMERAL, NULL, 0);
		if (rc == ZNODEEXISTS)
			rc = put_existing(zh, path, data);
		else if (rc != ZOK)
			return topo_fail(topo_zerr(rc), "publishing %s: %s", path, zerror(rc));
	}
	return rc == 1 ? topo_fail(-EAGAIN, "publishing %s: it kept changing", path) : rc;
}

int topo_status_remove(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		       const char *name)
{
	char path[TOPO_PATH_MAX];
	int rc = node_path(path, host_id, dir, name);

	if (rc)
		return rc;
	rc = zoo_delete(zh, path, -1);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "withdrawing %s: %s", path, zerror(rc));
	return 0;
}
