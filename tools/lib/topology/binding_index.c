// SPDX-License-Identifier: Apache-2.0
/* A host's binding index: every binding of the host in the data of its bindings directory,
 * so that a reader takes them in one read instead of one read a binding (an agent's full
 * sync of 100k bound ports asked for 201k nodes, half of them bindings).
 *
 * The binding nodes stay what they were: their paths are the uniqueness rules, and older
 * readers read them. The index is a cache of them, trusted only while it is current:
 * "synced" is the directory's cversion (its children made and deleted) as the write that
 * wrote the index left it. Every write through the library that makes or deletes a binding
 * rewrites the index in the same multi (plan_binding_index). A writer that does not (an
 * older midox, a hand edit) moves the cversion past "synced", and readers read the nodes
 * again until the next write through the library, which rebuilds the index from the
 * snapshot it planned on. Two such writes at once both commit (the index is written
 * unchecked, so that binds on one host never collide over it); the later one's "synced"
 * then misses the cversion by the other's changes, and readers fall back the same way.
 *
 * {"schema":1,"synced":C,"bindings":[["<ifname>","<port id>",<czxid>],...]}: czxid 0 is
 * a binding made by the write that wrote the index, whose zxid is the directory's mzxid. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec_impl.h"
#include "reader.h"
#include "txn.h"
#include "write.h"

static int entry_decode(json_t *e, int64_t mzxid, struct topo_binding *b)
{
	json_t *name = json_array_get(e, 0), *port = json_array_get(e, 1);
	json_t *z = json_array_get(e, 2);
	const char *s;

	if (!json_is_array(e) || json_array_size(e) != 3 || !json_is_string(name) ||
	    !json_is_string(port) || !json_is_integer(z) || json_integer_value(z) < 0)
		return topo_fail(-EINVAL, "an entry is not [\"<ifname>\",\"<port id>\",<czxid>]");
	s = json_string_value(name);
	if (strlen(s) != json_string_length(name) || !topo_valid_ifname(s))
		return topo_fail(-EINVAL, "an entry's interface name is not valid");
	strcpy(b->interface, s);
	s = json_string_value(port);
	if (strlen(s) != json_string_length(port) || !topo_valid_uuid(s))
		return topo_fail(-EINVAL, "an entry's port is not a UUID");
	strcpy(b->port_id, s);
	b->czxid = json_integer_value(z) ? json_integer_value(z) : mzxid;
	return 0;
}

static int by_interface(const void *a, const void *b)
{
	return strcmp(((const struct topo_binding *)a)->interface,
		      ((const struct topo_binding *)b)->interface);
}

int topo_decode_binding_index(const char *buf, size_t len, int64_t mzxid, int32_t *synced,
			      struct topo_binding **out, size_t *n)
{
	json_t *o = codec_load(buf, len), *list;
	struct topo_binding *b = NULL;
	uint32_t sync;
	size_t i, count;
	int rc;

	*out = NULL;
	*n = 0;
	if (!o)
		return -EINVAL;
	rc = codec_get_uint(o, "synced", 0, INT32_MAX, &sync);
	list = json_object_get(o, "bindings");
	if (!rc && !json_is_array(list))
		rc = topo_fail(-EINVAL, "\"bindings\" missing or not an array");
	count = rc ? 0 : json_array_size(list);
	if (count && !(b = calloc(count, sizeof(*b))))
		rc = topo_fail(-ENOMEM, "out of memory");
	for (i = 0; !rc && i < count; i++)
		rc = entry_decode(json_array_get(list, i), mzxid, &b[i]);
	json_decref(o);
	if (!rc && count) {
		qsort(b, count, sizeof(*b), by_interface);
		for (i = 1; !rc && i < count; i++)
			if (!strcmp(b[i - 1].interface, b[i].interface))
				rc = topo_fail(-EINVAL, "interface %s is in the index twice",
					       b[i].interface);
	}
	if (rc) {
		free(b);
		return rc;
	}
	*synced = (int32_t)sync;
	*out = b;
	*n = count;
	return 0;
}

char *topo_encode_binding_index(const struct topo_binding *b, size_t n, int32_t synced)
{
	json_t *o = json_object(), *list = json_array();
	size_t i;

	if (!o || !list || json_object_set_new(o, "bindings", list)) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (json_array_append_new(list, json_pack("[s,s,I]", b[i].interface, b[i].port_id,
							  (json_int_t)b[i].czxid))) {
			json_decref(o);
			return NULL;
		}
	if (json_object_set_new(o, "synced", json_integer(synced))) {
		json_decref(o);
		return NULL;
	}
	return codec_dump(o);
}

/* ---- reading ---- */

/* The host's bindings from its index into the snapshot, in listing order: 1 when the index
 * is current (its "synced" is the listing's cversion and it names exactly the listed
 * interfaces), 0 when not (each binding is then read), or a negative errno. */
static int take_index(struct reader *r, const char *host_id, const char *dir,
		      const struct listing *l)
{
	struct topo_binding *idx = NULL, key = { 0 };
	size_t n = 0, i, count = (size_t)l->sv->count, first = r->t->n_bindings;
	struct Stat st;
	int32_t synced;
	char *buf;
	int len, rc;

	rpath(r, "%s", dir);
	rc = fetch_blob(r, &buf, &len, &st);
	if (rc)
		return rc < 0 ? rc : 0;
	/* Not an index (a directory an older writer made: {"schema":1}), a bad one, or one an
	 * older writer's change left behind: read the nodes. */
	rc = len > 0 && !topo_decode_binding_index(buf, (size_t)len, st.mzxid, &synced, &idx, &n) &&
	     synced == l->cversion && n == count;
	free(buf);
	/* One pass: each listed interface's entry pushed as found; a name the index lacks
	 * takes back what this host pushed. */
	for (i = 0; rc > 0 && i < count; i++) {
		const struct topo_binding *e = NULL;
		struct topo_binding *b;

		if (strlen(l->sv->data[i]) < sizeof(key.interface)) {
			strcpy(key.interface, l->sv->data[i]);
			e = bsearch(&key, idx, n, sizeof(*idx), by_interface);
		}
		if (!e) {
			r->t->n_bindings = first;
			rc = 0;
			break;
		}
		b = topo_push((void **)&r->t->bindings, &r->t->n_bindings, sizeof(*b));
		if (!b) {
			rc = topo_fail(-ENOMEM, "out of memory");
			break;
		}
		*b = *e;
		strcpy(b->host_id, host_id);
		b->version = 0; /* bindings are made and deleted, never rewritten */
	}
	if (rc > 0)
		r->t->n_bindings_indexed += count;
	free(idx);
	return rc;
}

int fetch_bindings(struct reader *r, const struct kind *k, struct topo_host *h)
{
	char dir[TOPO_PATH_MAX];
	struct listing l;
	int rc;

	snprintf(dir, sizeof(dir), k->dir, h->id);
	rpath(r, "%s", dir);
	rc = fetch_listing(r, &l);
	h->bindings_cversion = l.cversion;
	if (!rc && l.sv->count > 0) {
		rc = take_index(r, h->id, dir, &l);
		if (r->m && rc >= 0)
			mirror_list_indexed(r->m, dir, rc > 0);
		if (!rc)
			rc = fetch_listed(r, k, h->id, dir, &l);
	}
	listing_free(&l);
	return rc < 0 ? rc : 0;
}

/* ---- writing ---- */

/* The host of a path "/midox/hosts/<host>/bindings[/<name>]" into host (and the name's
 * start into *name, NULL for the directory itself); false for any other path. */
static bool bindings_path(const char *path, char host[TOPO_ID_LEN], const char **name)
{
	static const char hosts[] = P_ROOT "/hosts/";
	const char *p = path + sizeof(hosts) - 1;

	if (strncmp(path, hosts, sizeof(hosts) - 1) || strlen(p) < TOPO_ID_LEN - 1 ||
	    strncmp(p + TOPO_ID_LEN - 1, "/bindings", 9))
		return false;
	memcpy(host, p, TOPO_ID_LEN - 1);
	host[TOPO_ID_LEN - 1] = '\0';
	p += TOPO_ID_LEN - 1 + 9;
	if (!*p) {
		*name = NULL;
		return true;
	}
	if (*p != '/' || strchr(p + 1, '/'))
		return false;
	*name = p + 1;
	return true;
}

static const char *op_path(const zoo_op_t *op)
{
	switch (op->type) {
	case ZOO_CREATE_OP:
		return op->create_op.path;
	case ZOO_DELETE_OP:
		return op->delete_op.path;
	default:
		return NULL;
	}
}

/* One host's index after the ops of x from the first: its bindings in t, those x deletes
 * taken out and those it makes put in (czxid 0: made by this write). */
struct host_index {
	char host[TOPO_ID_LEN];
	struct topo_binding *b;
	size_t n;
	int32_t changes;
	bool fresh, gone; /* its directory made, or deleted, by x */
};

static int index_remove(struct host_index *hi, const char *name)
{
	for (size_t i = 0; i < hi->n; i++)
		if (!strcmp(hi->b[i].interface, name)) {
			hi->b[i] = hi->b[--hi->n];
			return 0;
		}
	return 0; /* not in the snapshot: the multi fails on its version */
}

static int index_add(struct host_index *hi, const zoo_op_t *op, const char *name)
{
	struct topo_binding *b = topo_push((void **)&hi->b, &hi->n, sizeof(*b));

	if (!b)
		return topo_fail(-ENOMEM, "out of memory");
	if (topo_decode_binding(op->create_op.data, (size_t)op->create_op.datalen, name, b))
		return topo_fail(-EINVAL, "a binding this write makes does not decode");
	return 0;
}

static struct host_index *host_index_of(const struct topology *t, struct host_index **his,
					size_t *n, const char *host)
{
	struct host_index *hi;
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*his)[i].host, host))
			return &(*his)[i];
	hi = topo_push((void **)his, n, sizeof(*hi));
	if (!hi)
		return NULL;
	strcpy(hi->host, host);
	for (i = 0; i < t->n_bindings; i++) {
		struct topo_binding *b;

		if (strcmp(t->bindings[i].host_id, host))
			continue;
		b = topo_push((void **)&hi->b, &hi->n, sizeof(*b));
		if (!b)
			return NULL;
		*b = t->bindings[i];
	}
	return hi;
}

static int host_index_apply(struct host_index *hi, const zoo_op_t *op, const char *name)
{
	if (!name) {
		/* The directory itself: made (with nothing in it yet) or deleted. */
		hi->fresh = op->type == ZOO_CREATE_OP;
		hi->gone = op->type == ZOO_DELETE_OP;
		if (hi->fresh)
			hi->n = 0;
		return 0;
	}
	hi->changes++;
	return op->type == ZOO_CREATE_OP ? index_add(hi, op, name) : index_remove(hi, name);
}

/* The index of hi written into x: too large for one node (TOPO_INDEX_MAX), the directory
 * holds none and readers read the nodes. */
static int host_index_write(const struct topology *t, struct topo_txn *x,
			    const struct host_index *hi)
{
	const struct topo_host *h = topo_find_host_by_id(t, hi->host);
	int32_t base = hi->fresh ? 0 : h ? h->bindings_cversion : -1;
	char *data;

	if (hi->gone || base < 0)
		return 0; /* deleted, or a directory the snapshot did not have: the multi fails */
	data = topo_encode_binding_index(hi->b, hi->n, base + hi->changes);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	if (strlen(data) > TOPO_INDEX_MAX) {
		free(data);
		data = NULL; /* the container's JSON */
	}
	txn_set(x, -1, data, P_BINDINGS, hi->host);
	return 0;
}

int plan_binding_index(const struct topology *t, struct topo_txn *x)
{
	struct host_index *his = NULL;
	size_t n_his = 0, i, n_ops = x->n;
	int rc = 0;

	for (i = 0; !rc && i < n_ops; i++) {
		char host[TOPO_ID_LEN];
		const char *path = op_path(&x->ops[i]), *name;
		struct host_index *hi;

		if (!path || !bindings_path(path, host, &name))
			continue;
		hi = host_index_of(t, &his, &n_his, host);
		rc = hi ? host_index_apply(hi, &x->ops[i], name) : topo_fail(-ENOMEM, "out of memory");
	}
	for (i = 0; !rc && i < n_his; i++)
		rc = host_index_write(t, x, &his[i]);
	for (i = 0; i < n_his; i++)
		free(his[i].b);
	free(his);
	return rc;
}
