// SPDX-License-Identifier: Apache-2.0
/* The frame of every CLI write: read a snapshot, plan one multi-op against it (validating
 * and checking versions), commit; when another writer got there first, start again from
 * a fresh snapshot, which also turns a real conflict into its specific error. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "topo_impl.h"
#include "write.h"

#define APPLY_ATTEMPTS 20

/* Sleep a random 1..(attempt+1)*10 ms, so that writers that collided spread out. */
static void backoff(int attempt)
{
	struct timespec ts = { 0, 0 };
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)attempt;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed ^= (unsigned int)ts.tv_nsec;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(1 + rand_r(&seed) % ((attempt + 1) * 10)) * 1000000L;
	nanosleep(&ts, NULL);
}

/* The snapshot has the counter and every container: the tree was made (topo_ensure_root). */
static bool tree_made(const struct topology *t)
{
	return t->key_version >= 0 && t->hosts_version >= 0 && t->zones_version >= 0 &&
	       t->bridges_version >= 0 && t->ports_version >= 0 && t->routers_version >= 0 &&
	       t->chains_version >= 0 && t->port_groups_version >= 0 && t->ip_groups_version >= 0;
}

/* A snapshot to plan on; the tree made first if the snapshot shows it is not (a new cluster,
 * or one made by a version without the newest container). Asking the snapshot instead of
 * ZooKeeper saves a write its round trips: the read is made anyway. */
static int read_for_write(zhandle_t *zh, struct topology *t, bool *made)
{
	int rc = topo_read_for_write(zh, t);

	if (rc || *made || tree_made(t))
		return rc;
	topo_free(t);
	*made = true;
	rc = topo_ensure_root(zh);
	return rc ? rc : topo_read_consistent(zh, t);
}

int topo_apply(zhandle_t *zh, topo_plan_fn plan, void *arg)
{
	char last[TOPO_ERR_MAX] = "";
	bool made = false;
	int i, rc;

	rc = topo_acl_secure_tree(zh); /* once a process: a tree made before ACLs were on */
	for (i = 0; !rc && i < APPLY_ATTEMPTS; i++) {
		struct topology t;
		struct topo_txn x;

		rc = read_for_write(zh, &t, &made);
		if (rc)
			return rc;
		txn_init(&x);
		rc = plan(zh, &t, &x, arg);
		if (!rc)
			rc = plan_binding_index(&t, &x);
		if (!rc)
			rc = txn_commit(zh, &x);
		txn_free(&x);
		topo_free(&t);
		if (rc != -EAGAIN)
			return rc;
		snprintf(last, sizeof(last), "%s", topo_errmsg());
		rc = 0;
		backoff(i);
	}
	return rc ? rc : topo_fail(-EBUSY, "gave up after %d concurrent changes; last: %s",
				   APPLY_ATTEMPTS, last);
}

/* Allocate the next tunnel key inside x: the counter's versioned set commits with the
 * object that gets the key, so a failed command never uses one up. */
int plan_tunnel_key(const struct topology *t, struct topo_txn *x, uint32_t *key)
{
	if (t->key_version < 0)
		return topo_fail(-EIO, "the tunnel key counter %s is missing or unreadable", P_KEY);
	if (t->next_key > TOPO_KEY_MAX)
		return topo_fail(-ENOSPC, "all %u tunnel keys are taken", TOPO_KEY_MAX);
	*key = t->next_key;
	txn_set(x, t->key_version, topo_encode_key_counter(t->next_key + 1), P_KEY);
	return 0;
}

/* Delete the leaf children of path (any version: whoever made them, they go with their
 * parent) and path itself. A child added meanwhile fails the multi (not empty): retried. */
int plan_delete_tree(zhandle_t *zh, struct topo_txn *x, int version, const char *path)
{
	struct String_vector sv = { 0 };
	int32_t i;
	int rc;

	rc = zoo_get_children(zh, path, 0, &sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", path, zerror(rc));
	for (i = 0; i < sv.count; i++)
		txn_delete(x, -1, "%s/%s", path, sv.data[i]);
	deallocate_String_vector(&sv);
	txn_delete(x, version, "%s", path);
	return 0;
}

/* Delete a node if it is there now (the port side of a binding). */
int plan_delete_if_present(zhandle_t *zh, struct topo_txn *x, const char *path)
{
	struct Stat st;
	int rc = zoo_exists(zh, path, 0, &st);

	if (rc == ZOK)
		txn_delete(x, st.version, "%s", path);
	else if (rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	return 0;
}

const char *alias_of(const struct topology *t, const char *id, char buf[64])
{
	if (topo_alias(t, id, buf, 64))
		snprintf(buf, 64, "%s", id);
	return buf;
}

int check_name(const char *name)
{
	if (!topo_valid_name(name))
		return topo_fail(-EINVAL, "bad name '%s': 1 to %d letters, digits, '_', '.', '-'",
				 name ? name : "", TOPO_NAME_MAX - 1);
	return 0;
}

int plan_named(const void *arr, size_t n, size_t size, size_t name_off, const char *type,
	       const char *prefix, const char *name, char id[TOPO_ID_LEN])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp((const char *)arr + i * size + name_off, name))
			return topo_fail(-EEXIST, "a %s named '%s' exists (%s%zu)", type, name,
					 prefix, i);
	return topo_new_uuid(id);
}
