// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

static const void *key_at(const struct index *ix, size_t pos)
{
	return ix->base + pos * ix->stride + ix->offset;
}

static size_t key_len(const struct index *ix, const void *key)
{
	return ix->keys == INDEX_STRING ? strnlen(key, ix->key_size) : ix->key_size;
}

static uint64_t hash_key(const struct index *ix, const void *key)
{
	const unsigned char *p = key;
	size_t len = key_len(ix, key);
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

static bool key_equal(const struct index *ix, const void *a, const void *b)
{
	return ix->keys == INDEX_STRING ? !strncmp(a, b, ix->key_size)
					: !memcmp(a, b, ix->key_size);
}

void index_init(struct index *ix, const void *base, size_t stride, size_t offset,
		size_t key_size, enum index_keys keys)
{
	memset(ix, 0, sizeof(*ix));
	ix->base = base;
	ix->stride = stride;
	ix->offset = offset;
	ix->key_size = key_size;
	ix->keys = keys;
}

void index_free(struct index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->n_slots = ix->n = 0;
}

void index_rebase(struct index *ix, const void *base)
{
	ix->base = base;
}

int index_append(struct index *ix, void *items_ptr, size_t *n, size_t *cap, const void *record)
{
	char *items;

	memcpy(&items, items_ptr, sizeof(items));
	if (*n == *cap) {
		size_t grown = *cap ? *cap * 2 : 64;
		char *more = realloc(items, grown * ix->stride);

		if (!more)
			return -ENOMEM;
		items = more;
		memcpy(items_ptr, &items, sizeof(items));
		*cap = grown;
		index_rebase(ix, items);
	}
	memcpy(items + *n * ix->stride, record, ix->stride);
	if (index_add(ix, *n))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static void slot_put(uint32_t *slots, size_t n_slots, uint64_t h, uint32_t value)
{
	size_t i = h & (n_slots - 1);

	while (slots[i])
		i = (i + 1) & (n_slots - 1);
	slots[i] = value;
}

static int index_grow(struct index *ix)
{
	size_t n_slots = ix->n_slots ? ix->n_slots * 2 : 64;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < ix->n_slots; i++) {
		uint32_t v = ix->slots[i];

		if (v)
			slot_put(slots, n_slots, hash_key(ix, key_at(ix, v - 1)), v);
	}
	free(ix->slots);
	ix->slots = slots;
	ix->n_slots = n_slots;
	return 0;
}

int index_add(struct index *ix, size_t pos)
{
	int err;

	if ((ix->n + 1) * 2 > ix->n_slots) {
		err = index_grow(ix);
		if (err)
			return err;
	}
	slot_put(ix->slots, ix->n_slots, hash_key(ix, key_at(ix, pos)), (uint32_t)pos + 1);
	ix->n++;
	return 0;
}

long index_find(const struct index *ix, const void *key)
{
	size_t i;

	if (!ix->n_slots)
		return -1;
	i = hash_key(ix, key) & (ix->n_slots - 1);
	while (ix->slots[i]) {
		size_t pos = ix->slots[i] - 1;

		if (key_equal(ix, key_at(ix, pos), key))
			return (long)pos;
		i = (i + 1) & (ix->n_slots - 1);
	}
	return -1;
}
