// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

static uint64_t hash_bytes(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

void index_init(struct index *ix, size_t key_size, const void *(*key_at)(const void *, size_t),
		const void *base)
{
	memset(ix, 0, sizeof(*ix));
	ix->key_size = key_size;
	ix->key_at = key_at;
	ix->base = base;
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
			slot_put(slots, n_slots, hash_bytes(ix->key_at(ix->base, v - 1), ix->key_size), v);
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
	slot_put(ix->slots, ix->n_slots, hash_bytes(ix->key_at(ix->base, pos), ix->key_size),
		 (uint32_t)pos + 1);
	ix->n++;
	return 0;
}

long index_find(const struct index *ix, const void *key)
{
	size_t i;

	if (!ix->n_slots)
		return -1;
	i = hash_bytes(key, ix->key_size) & (ix->n_slots - 1);
	while (ix->slots[i]) {
		size_t pos = ix->slots[i] - 1;

		if (!memcmp(ix->key_at(ix->base, pos), key, ix->key_size))
			return (long)pos;
		i = (i + 1) & (ix->n_slots - 1);
	}
	return -1;
}
