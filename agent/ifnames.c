// SPDX-License-Identifier: Apache-2.0
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ifnames.h"

#define IFNAMES_MIN_CAP 64

static size_t name_hash(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* The slot of name, or the free slot where it would go. */
static struct ifname_entry *find(const struct ifnames *c, const char *name)
{
	size_t i = name_hash(name) & (c->cap - 1);

	while (c->slot[i].name[0] && strcmp(c->slot[i].name, name))
		i = (i + 1) & (c->cap - 1);
	return &c->slot[i];
}

/* Twice the room (or the first), the answers moved over; false when out of memory. */
static bool grow(struct ifnames *c)
{
	struct ifnames bigger = { .cap = c->cap ? c->cap * 2 : IFNAMES_MIN_CAP, .n = c->n };

	bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
	if (!bigger.slot)
		return false;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slot[i].name[0])
			*find(&bigger, c->slot[i].name) = c->slot[i];
	free(c->slot);
	*c = bigger;
	return true;
}

int ifnames_index(struct ifnames *c, const char *name)
{
	struct ifname_entry *e;
	int ifindex;

	if (!name[0] || strlen(name) >= IF_NAMESIZE)
		return 0;
	if (c->cap) {
		e = find(c, name);
		if (e->name[0])
			return e->ifindex;
	}
	ifindex = (int)if_nametoindex(name);
	/* At most half full; without memory the answer is still right, only not kept. */
	if ((c->n + 1) * 2 > c->cap && !grow(c))
		return ifindex;
	e = find(c, name);
	strcpy(e->name, name);
	e->ifindex = ifindex;
	c->n++;
	return ifindex;
}

void ifnames_forget(struct ifnames *c)
{
	if (c->cap)
		memset(c->slot, 0, c->cap * sizeof(*c->slot));
	c->n = 0;
}

void ifnames_free(struct ifnames *c)
{
	free(c->slot);
	*c = (struct ifnames){ 0 };
}
