/* SPDX-License-Identifier: Apache-2.0 */
/* Interface names to indexes, as if_nametoindex answers them, kept between passes. A pass
 * asks for every bound interface; at hundreds of them the asking (a socket, an ioctl and
 * a close each, some 8 us) was a large part of a pass. Any link event forgets every
 * answer: a name can only appear, go, or move to another index through one, and the
 * event also starts the pass that asks again. */
#ifndef MIDOX_AGENT_IFNAMES_H
#define MIDOX_AGENT_IFNAMES_H

#include <net/if.h>
#include <stddef.h>

struct ifname_entry {
	char name[IF_NAMESIZE]; /* "" = free */
	int ifindex;            /* 0: no such interface (also kept) */
};

struct ifnames {
	struct ifname_entry *slot; /* open addressing, cap a power of two */
	size_t n, cap;
};

/* The index of name (0: none, or a name too long to be one), asked of the kernel once
 * until the next ifnames_forget. */
int ifnames_index(struct ifnames *c, const char *name);
/* Forget every answer (a link event). */
void ifnames_forget(struct ifnames *c);
void ifnames_free(struct ifnames *c);

#endif
