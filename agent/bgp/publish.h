/* SPDX-License-Identifier: Apache-2.0 */
/* The learned routes this session publishes (docs/bgp.md), and the writes that make
 * ZooKeeper hold them. No ZooKeeper here: learned.c sends the queued writes as batches and
 * hands their answers back (bgp_pub_settle), so that this part is tested alone. */
#ifndef MIDOX_AGENT_BGP_PUBLISH_H
#define MIDOX_AGENT_BGP_PUBLISH_H

#include <stddef.h>

#include "topology/topology.h"

enum bgp_pub_state {
	BGP_PUB_CREATING,	/* its create is queued or in flight */
	BGP_PUB_LIVE,		/* ZooKeeper holds it */
	BGP_PUB_DELETING,	/* its delete is queued or in flight */
	BGP_PUB_GONE,		/* settled away: dropped at the end of the settling */
};

struct bgp_pub {
	struct topo_route r;	/* r.id: its node's name */
	enum bgp_pub_state state;
};

struct bgp_pubset {
	struct bgp_pub *items;		/* sorted by bgp_route_cmp (ids break ties) */
	size_t n;
	struct topo_bgp_write *queue;	/* writes not sent yet, from head on */
	size_t head, n_queue, cap_queue;
};

/* The identity of a learned route: router, prefix, peer, port and gateway (not its id). */
int bgp_route_cmp(const void *a, const void *b);

/* Make the set follow want (sorted by bgp_route_cmp, n of them): a route not in the set gets
 * a new id and a create queued; a live one not wanted, a delete queued; one whose write is
 * under way is left to it (a later call does what is still needed). *added and *removed:
 * the writes queued. -ENOMEM: nothing changed. */
int bgp_pub_follow(struct bgp_pubset *s, const struct topo_route *want, size_t n,
		   size_t *added, size_t *removed);
/* The answers of writes that were sent (w[i].rc, a ZooKeeper code): a create that happened
 * makes its route live, one that did not forgets it (a later follow creates it again, with a
 * new id); a delete that happened, or of a node already gone, forgets it, one that did not
 * leaves it live (deleted again later). */
void bgp_pub_settle(struct bgp_pubset *s, const struct topo_bgp_write *w, size_t n);
/* Take up to max queued writes (copied into out); returns how many. */
size_t bgp_pub_take(struct bgp_pubset *s, struct topo_bgp_write *out, size_t max);
/* Writes queued and not taken. */
size_t bgp_pub_queued(const struct bgp_pubset *s);
/* Start again from what ZooKeeper holds (listed: taken over, all live; sorted here). The
 * queue is emptied. -ENOMEM: nothing changed. */
int bgp_pub_reset(struct bgp_pubset *s, const struct topo_route *listed, size_t n);
/* Routes of peer_id in state (BGP_PUB_LIVE: what ZooKeeper holds). */
size_t bgp_pub_count(const struct bgp_pubset *s, const char *peer_id, enum bgp_pub_state state);
void bgp_pub_free(struct bgp_pubset *s);

#endif
