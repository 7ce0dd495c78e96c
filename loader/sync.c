// SPDX-License-Identifier: Apache-2.0
/* Reconciling and walking whole maps, generic over the map's key and value sizes. */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "internal.h"
#include "base/log.h"

/* A map the agent reconciles, with its fd and its row's sizes (checked at open). */
struct sync_map {
	int fd;
	size_t key_size, value_size;
	bool lpm; /* a lookup finds the longest covering prefix, not only the exact key */
};

static int sync_map_open(struct mx_datapath *dp, enum mx_map_id id, struct sync_map *m)
{
	const struct mx_map_desc *d = mx_map_desc(id);

	if (!mx_map_reconciled(id))
		return -EINVAL;
	m->fd = dp_map_fd(dp, id);
	m->key_size = d->key_size;
	m->value_size = d->value_size;
	m->lpm = d->lpm;
	return m->fd < 0 ? m->fd : 0;
}

/* A packed array of keys (the desired set, or a map's present keys), sorted through order
 * for binary search. */
struct sorted_keys {
	const char *keys;
	size_t n, key_size;
	size_t *order;
};

static int sorted_keys_cmp(const void *a, const void *b, void *ctx)
{
	const struct sorted_keys *d = ctx;

	return memcmp(d->keys + *(const size_t *)a * d->key_size,
		      d->keys + *(const size_t *)b * d->key_size, d->key_size);
}

static int sorted_keys_index(struct sorted_keys *d)
{
	d->order = malloc((d->n ? d->n : 1) * sizeof(*d->order));
	if (!d->order)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++)
		d->order[i] = i;
	qsort_r(d->order, d->n, sizeof(*d->order), sorted_keys_cmp, d);
	return 0;
}

static bool sorted_keys_has(const struct sorted_keys *d, const void *key)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key, d->keys + d->order[mid] * d->key_size, d->key_size);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* Write every desired entry that is missing or different. present: the map's keys, for an
 * LPM trie (whose lookup also finds a shorter prefix covering the key), else NULL. */
static int sync_apply(const struct sync_map *m, const char *keys, const char *values, size_t n,
		      const struct sorted_keys *present, void *cur, struct mx_sync_result *res)
{
	for (size_t i = 0; i < n; i++) {
		const void *k = keys + i * m->key_size, *v = values + i * m->value_size;
		int err = present && !sorted_keys_has(present, k) ? -ENOENT :
								 bpf_map_lookup_elem(m->fd, k, cur);

		if (err && err != -ENOENT)
			return err;
		if (!err && !memcmp(cur, v, m->value_size))
			continue;
		int uerr = bpf_map_update_elem(m->fd, k, v, BPF_ANY);

		if (uerr)
			return uerr;
		if (err)
			res->added++;
		else
			res->changed++;
	}
	return 0;
}

/* Delete every entry absent from the desired set, but those keep() protects. */
static int sync_prune(const struct sync_map *m, const struct sorted_keys *d, void *cur,
		      bool (*keep)(const void *, const void *, void *), void *ctx,
		      struct mx_sync_result *res)
{
	size_t nkeys = 0;
	void *keys = NULL;
	int err = dp_map_keys(m->fd, m->key_size, &keys, &nkeys);

	for (size_t i = 0; !err && i < nkeys; i++) {
		const void *k = (const char *)keys + i * m->key_size;

		if (sorted_keys_has(d, k) || bpf_map_lookup_elem(m->fd, k, cur))
			continue;
		if (keep && keep(k, cur, ctx))
			continue;
		err = bpf_map_delete_elem(m->fd, k);
		if (err == -ENOENT)
			err = 0;
		else if (!err)
			res->removed++;
	}
	free(keys);
	return err;
}

int mx_map_sync(struct mx_datapath *dp, enum mx_map_id map, const void *keys, const void *values,
		size_t n, bool (*keep)(const void *key, const void *value, void *ctx), void *ctx,
		struct mx_sync_result *res)
{
	struct mx_sync_result local = { 0 };
	struct sorted_keys d = { .keys = keys, .n = n }, present = { 0 };
	void *cur = NULL, *present_keys = NULL;
	struct sync_map m;
	int err;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	err = sync_map_open(dp, map, &m);
	if (err)
		return err;
	d.key_size = m.key_size;
	cur = malloc(m.value_size);
	err = cur ? sorted_keys_index(&d) : -ENOMEM;
	if (!err && m.lpm) {
		present.key_size = m.key_size;
		err = dp_map_keys(m.fd, m.key_size, &present_keys, &present.n);
		present.keys = present_keys;
		if (!err)
			err = sorted_keys_index(&present);
	}
	if (!err)
		err = sync_apply(&m, keys, values, n, m.lpm ? &present : NULL, cur, res);
	if (!err)
		err = sync_prune(&m, &d, cur, keep, ctx, res);
	if (err)
		mx_err("reconciling %s: %s", mx_map_name(map), strerror(-err));
	free(d.order);
	free(present.order);
	free(present_keys);
	free(cur);
	return err;
}

int mx_map_walk(struct mx_datapath *dp, enum mx_map_id map,
		int (*fn)(const void *key, const void *value, void *ctx), void *ctx)
{
	struct sync_map m;
	size_t nkeys = 0;
	void *keys = NULL, *cur;
	int rc = sync_map_open(dp, map, &m);

	if (rc)
		return rc;
	cur = malloc(m.value_size);
	rc = cur ? dp_map_keys(m.fd, m.key_size, &keys, &nkeys) : -ENOMEM;
	for (size_t i = 0; !rc && i < nkeys; i++) {
		const void *k = (const char *)keys + i * m.key_size;

		if (bpf_map_lookup_elem(m.fd, k, cur) == 0)
			rc = fn(k, cur, ctx);
	}
	free(keys);
	free(cur);
	return rc;
}
