/* SPDX-License-Identifier: Apache-2.0 */
/* A hash index over keys kept in the caller's array of records (a key at a fixed offset
 * in each): slot -> position in that array. What keeps the agent's desired-state
 * computation and the topology snapshot's lookups linear in the size of the topology. */
#ifndef MIDOX_BASE_INDEX_H
#define MIDOX_BASE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum index_keys {
	INDEX_BYTES,  /* key_size bytes, compared whole */
	INDEX_STRING, /* a NUL-terminated string in a field of key_size bytes */
};

struct index {
	uint32_t *slots; /* position + 1; 0 = empty */
	size_t n_slots;  /* a power of two, at least twice the entries */
	size_t n;
	const char *base; /* the caller's array: the key of position i is at base + i * stride + offset */
	size_t stride, offset, key_size;
	enum index_keys keys;
};

void index_init(struct index *ix, const void *base, size_t stride, size_t offset,
		size_t key_size, enum index_keys keys);
void index_free(struct index *ix);
/* Position of key, or -1. */
long index_find(const struct index *ix, const void *key);
/* Record that position pos holds its key (keys are not deduplicated here). 0 or -ENOMEM. */
int index_add(struct index *ix, size_t pos);
/* The caller's array moved (realloc): point at it again. */
void index_rebase(struct index *ix, const void *base);
/* Append record (ix->stride bytes) to the caller's growing array: *items_ptr (the address of
 * its pointer) holding *n records, room for *cap, which ix indexes. Grows it (doubling,
 * from 64) and rebases ix when full. 0, or -ENOMEM with nothing appended (a record copied
 * but not indexed is overwritten by the next append). */
int index_append(struct index *ix, void *items_ptr, size_t *n, size_t *cap, const void *record);

#endif
