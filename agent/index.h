/* SPDX-License-Identifier: Apache-2.0 */
/* A hash index over fixed-size keys stored elsewhere: slot -> position in the caller's
 * array. Keeps the desired-state computation linear in the size of the topology. */
#ifndef MIDOX_AGENT_INDEX_H
#define MIDOX_AGENT_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct index {
	uint32_t *slots; /* position + 1; 0 = empty */
	size_t n_slots;  /* a power of two, at least twice the entries */
	size_t n;
	size_t key_size;
	/* The key of position i in the caller's array. */
	const void *(*key_at)(const void *base, size_t i);
	const void *base;
};

void index_init(struct index *ix, size_t key_size, const void *(*key_at)(const void *, size_t),
		const void *base);
void index_free(struct index *ix);
/* Position of key, or -1. */
long index_find(const struct index *ix, const void *key);
/* Record that position pos holds its key (keys are not deduplicated here). */
int index_add(struct index *ix, size_t pos);
/* The caller's array moved (realloc): point at it again. */
void index_rebase(struct index *ix, const void *base);

#endif
