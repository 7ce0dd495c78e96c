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
	size_t compared; /* the agent's leading bytes of a value (mx_map_compared_bytes) */
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
	m->compared = mx_map_compared_bytes(id);
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

/* The index of key in d's array, or -1. */
static long sorted_keys_find(const struct sorted_keys *d, const void *key)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key, d->keys + d->order[mid] * d->key_size, d->key_size);

		if (c == 0)
			return (long)d->order[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static bool sorted_keys_has(const struct sorted_keys *d, const void *key)
{
	return sorted_keys_find(d, key) >= 0;
}

/* Every entry by key: the keys first, then a lookup each (what is gone meanwhile left out). */
static int entries_by_key(int fd, size_t key_size, size_t value_size, void **keys,
			  void **values, size_t *n)
{
	size_t nk = 0, got = 0;
	char *k = NULL, *v;
	int err = dp_map_keys(fd, key_size, (void **)&k, &nk);

	if (err)
		return err;
	v = malloc((nk ? nk : 1) * value_size);
	if (!v) {
		free(k);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nk; i++) {
		if (bpf_map_lookup_elem(fd, k + i * key_size, v + got * value_size))
			continue;
		if (got != i)
			memcpy(k + got * key_size, k + i * key_size, key_size);
		got++;
	}
	*keys = k;
	*values = v;
	*n = got;
	return 0;
}

/* ---- whole maps in few system calls ---- */

/* Entries per batch system call: large enough that the calls cost little next to the
 * entries, small enough for the buffers (a hash map's batch stops at a bucket's end). */
#define BATCH 4096

/* The map type has no batch operations here: -EINVAL, or the kernel's own ENOTSUPP (524,
 * not in the user headers). */
static bool no_batch(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -524;
}

/* Every entry of fd into packed arrays, a batch of lookups at a time (key by key where the
 * kernel has no batch operations for the map type). */
int dp_map_entries(int fd, size_t key_size, size_t value_size, void **keys, void **values,
		   size_t *n)
{
	/* The batch position: a bucket index for a hash map, the last key for the generic
	 * batch (an LPM trie), so room for either. */
	size_t token_size = key_size > sizeof(__u32) ? key_size : sizeof(__u32);
	char *k = NULL, *v = NULL, *token = calloc(1, token_size);
	size_t count = 0, cap = 0;
	bool first = true;
	int err = token ? 0 : -ENOMEM;

	while (!err) {
		__u32 got = BATCH;

		if (count + BATCH > cap) {
			size_t ncap = cap ? 2 * cap : BATCH;
			char *nk = realloc(k, ncap * key_size), *nv = nk ? realloc(v, ncap * value_size) : NULL;

			if (nk)
				k = nk;
			if (!nk || !nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
			/* Zeroed: what the kernel writes is defined for valgrind too, which does
			 * not know the batch commands. */
			memset(k + cap * key_size, 0, (ncap - cap) * key_size);
			memset(v + cap * value_size, 0, (ncap - cap) * value_size);
			cap = ncap;
		}
		err = bpf_map_lookup_batch(fd, first ? NULL : token, token, k + count * key_size,
					   v + count * value_size, &got, NULL);
		/* No batch operations, or a bucket larger than a batch (-ENOSPC): by key. */
		if ((first && no_batch(err)) || err == -ENOSPC) {
			free(k);
			free(v);
			free(token);
			return entries_by_key(fd, key_size, value_size, keys, values, n);
		}
		first = false;
		if (!err || err == -ENOENT)
			count += got;
	}
	free(token);
	if (err == -ENOENT)
		err = 0;
	if (err) {
		free(k);
		free(v);
		return err;
	}
	*keys = k;
	*values = v;
	*n = count;
	return 0;
}

/* Write n entries, a batch at a time; an error is retried entry by entry from where the
 * batch stopped, so that it names the entry's own error (a full map: -E2BIG, -ENOMEM). */
static int update_entries(int fd, const char *keys, const char *values, size_t n,
			  size_t key_size, size_t value_size)
{
	bool batch = true;

	for (size_t i = 0; i < n;) {
		__u32 count = n - i < BATCH ? (__u32)(n - i) : BATCH;
		int err = batch ? bpf_map_update_batch(fd, keys + i * key_size,
						       values + i * value_size, &count, NULL) :
				  -EOPNOTSUPP;

		if (!err) {
			i += count;
			continue;
		}
		if (!batch || no_batch(err))
			count = 0; /* no batch operations for this map type */
		batch = false;
		i += count;
		if (i < n) {
			err = bpf_map_update_elem(fd, keys + i * key_size, values + i * value_size,
						  BPF_ANY);
			if (err)
				return err;
			i++;
		}
	}
	return 0;
}

/* Write every desired entry that is missing or different from the map's entry as read
 * (present, sorted). */
static int sync_apply(const struct sync_map *m, const char *keys, const char *values, size_t n,
		      const struct sorted_keys *present, const char *present_values,
		      struct mx_sync_result *res)
{
	char *uk = malloc((n ? n : 1) * m->key_size), *uv = malloc((n ? n : 1) * m->value_size);
	size_t nu = 0;
	int err = -ENOMEM;

	if (uk && uv) {
		for (size_t i = 0; i < n; i++) {
			const char *k = keys + i * m->key_size, *v = values + i * m->value_size;
			long at = sorted_keys_find(present, k);

			/* Equal in the agent's part: the rest is the datapath's, left alone. */
			if (at >= 0 && !memcmp(present_values + (size_t)at * m->value_size, v,
					       m->compared))
				continue;
			memcpy(uk + nu * m->key_size, k, m->key_size);
			memcpy(uv + nu * m->value_size, v, m->value_size);
			nu++;
			if (at >= 0)
				res->changed++;
			else
				res->added++;
		}
		err = update_entries(m->fd, uk, uv, nu, m->key_size, m->value_size);
	}
	free(uk);
	free(uv);
	return err;
}

/* Delete every entry absent from the desired set, but those keep() protects: each one read
 * again first, as the datapath may have refreshed it since the map was read. */
static int sync_prune(const struct sync_map *m, const struct sorted_keys *d,
		      const struct sorted_keys *present, void *cur,
		      bool (*keep)(const void *, const void *, void *), void *ctx,
		      struct mx_sync_result *res)
{
	int err = 0;

	for (size_t i = 0; !err && i < present->n; i++) {
		const void *k = present->keys + i * m->key_size;

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
	return err;
}

int mx_map_sync(struct mx_datapath *dp, enum mx_map_id map, const void *keys, const void *values,
		size_t n, bool (*keep)(const void *key, const void *value, void *ctx), void *ctx,
		struct mx_sync_result *res)
{
	struct mx_sync_result local = { 0 };
	struct sorted_keys d = { .keys = keys, .n = n }, present = { 0 };
	void *cur = NULL, *present_keys = NULL, *present_values = NULL;
	struct sync_map m;
	int err;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	err = sync_map_open(dp, map, &m);
	if (err)
		return err;
	d.key_size = present.key_size = m.key_size;
	cur = malloc(m.value_size);
	err = cur ? sorted_keys_index(&d) : -ENOMEM;
	if (!err)
		err = dp_map_entries(m.fd, m.key_size, m.value_size, &present_keys, &present_values,
				     &present.n);
	present.keys = present_keys;
	if (!err)
		err = sorted_keys_index(&present);
	if (!err)
		err = sync_apply(&m, keys, values, n, &present, present_values, res);
	if (!err)
		err = sync_prune(&m, &d, &present, cur, keep, ctx, res);
	if (err)
		mx_err("reconciling %s: %s", mx_map_name(map), strerror(-err));
	free(d.order);
	free(present.order);
	free(present_keys);
	free(present_values);
	free(cur);
	return err;
}

int mx_map_walk(struct mx_datapath *dp, enum mx_map_id map,
		int (*fn)(const void *key, const void *value, void *ctx), void *ctx)
{
	struct sync_map m;
	size_t n = 0;
	void *keys = NULL, *values = NULL;
	int rc = sync_map_open(dp, map, &m);

	if (rc)
		return rc;
	rc = dp_map_entries(m.fd, m.key_size, m.value_size, &keys, &values, &n);
	for (size_t i = 0; !rc && i < n; i++)
		rc = fn((const char *)keys + i * m.key_size, (const char *)values + i * m.value_size,
			ctx);
	free(keys);
	free(values);
	return rc;
}
