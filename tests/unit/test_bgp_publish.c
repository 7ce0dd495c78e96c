// SPDX-License-Identifier: Apache-2.0
/* The agent's published set of learned routes (agent/bgp/publish.c): what it queues for a
 * change of what BIRD learned, and what each answer of ZooKeeper does to it, including the
 * writes still under way when the learned routes change again. No ZooKeeper: the answers
 * are made here, as the client would give them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/bgp/publish.h"
#include "tap.h"

#define ROUTER "11111111-1111-4111-8111-111111111111"
#define PORT "22222222-2222-4222-8222-222222222222"
#define PEER_A "33333333-3333-4333-8333-333333333333"
#define PEER_B "44444444-4444-4444-8444-444444444444"

/* Learned route i of peer: 10.(i / 256).(i % 256).0/24 via the peer's address. */
static struct topo_route route(unsigned i, const char *peer)
{
	struct topo_route r;

	memset(&r, 0, sizeof(r));
	strcpy(r.router_id, ROUTER);
	strcpy(r.port_id, PORT);
	strcpy(r.peer_id, peer);
	r.dst.addr.s_addr = htonl(0x0a000000u | (i << 8));
	r.dst.len = 24;
	r.has_gw = true;
	r.gw.s_addr = htonl(strcmp(peer, PEER_A) ? 0xc6336403u : 0xc6336402u);
	r.weight = TOPO_WEIGHT_DEFAULT;
	r.learned = true;
	return r;
}

/* want: routes first..first+n-1 of peer, sorted as the agent sorts them. */
static size_t wanted(struct topo_route *want, unsigned first, size_t n, const char *peer)
{
	for (size_t i = 0; i < n; i++)
		want[i] = route(first + (unsigned)i, peer);
	qsort(want, n, sizeof(*want), bgp_route_cmp);
	return n;
}

/* Take every queued write in batches of at most batch, answer each with rc (or the
 * answers of a failed multi: failing write rc_one, the others undone) and settle them. */
static size_t answer_all(struct bgp_pubset *s, size_t batch, int rc)
{
	static struct topo_bgp_write w[TOPO_BGP_BATCH_MAX];
	size_t n, total = 0;

	while ((n = bgp_pub_take(s, w, batch))) {
		for (size_t i = 0; i < n; i++)
			w[i].rc = rc;
		bgp_pub_settle(s, w, n);
		total += n;
	}
	return total;
}

static size_t in_state(const struct bgp_pubset *s, enum bgp_pub_state st)
{
	return bgp_pub_count(s, PEER_A, st) + bgp_pub_count(s, PEER_B, st);
}

static bool ids_distinct(const struct bgp_pubset *s)
{
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = i + 1; j < s->n; j++)
			if (!strcmp(s->items[i].r.id, s->items[j].r.id))
				return false;
	return true;
}

static struct topo_route want[4096];

int main(void)
{
	struct bgp_pubset s = { 0 };
	struct topo_bgp_write w[TOPO_BGP_BATCH_MAX];
	size_t added, removed, n, taken;

	/* 1000 new routes: 1000 creates queued, each with an id of its own. */
	n = wanted(want, 0, 1000, PEER_A);
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 1000 && removed == 0,
	       "1000 new routes: 1000 creates queued");
	tap_ok(bgp_pub_queued(&s) == 1000 && in_state(&s, BGP_PUB_CREATING) == 1000,
	       "all queued and creating");
	tap_ok(ids_distinct(&s), "each route has a node name of its own");
	for (size_t i = 0; i < s.n; i++)
		if (!topo_valid_uuid(s.items[i].r.id))
			tap_ok(false, "node name %zu is a UUID", i);
	/* The same again while the creates are under way: nothing more is queued. */
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 0 && removed == 0 &&
	       bgp_pub_queued(&s) == 1000, "the same routes again while creating: nothing queued");
	/* Batches of TOPO_BGP_BATCH_MAX: 4 batches, the last one short. */
	taken = bgp_pub_take(&s, w, TOPO_BGP_BATCH_MAX);
	tap_ok(taken == TOPO_BGP_BATCH_MAX && !w[0].withdraw, "a batch is at most %d writes",
	       TOPO_BGP_BATCH_MAX);
	for (size_t i = 0; i < taken; i++)
		w[i].rc = ZOK;
	bgp_pub_settle(&s, w, taken);
	tap_ok(in_state(&s, BGP_PUB_LIVE) == TOPO_BGP_BATCH_MAX &&
	       in_state(&s, BGP_PUB_CREATING) == 1000 - TOPO_BGP_BATCH_MAX,
	       "an answered batch makes its routes live, the others still creating");
	/* A failed multi: the second batch rolled back (one write refused, the others undone). */
	taken = bgp_pub_take(&s, w, TOPO_BGP_BATCH_MAX);
	for (size_t i = 0; i < taken; i++)
		w[i].rc = i == 7 ? ZNONODE : ZRUNTIMEINCONSISTENCY;
	bgp_pub_settle(&s, w, taken);
	tap_ok(s.n == 1000 - taken && in_state(&s, BGP_PUB_LIVE) == TOPO_BGP_BATCH_MAX,
	       "a failed batch's creates are forgotten (%zu routes left)", s.n);
	tap_ok(answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK) == 1000 - 2 * TOPO_BGP_BATCH_MAX &&
	       in_state(&s, BGP_PUB_LIVE) == 1000 - TOPO_BGP_BATCH_MAX, "the rest answered: live");
	/* The next tick creates the failed batch's routes again, with new names. */
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == TOPO_BGP_BATCH_MAX &&
	       removed == 0, "the failed creates queued again");
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	tap_ok(s.n == 1000 && in_state(&s, BGP_PUB_LIVE) == 1000 && ids_distinct(&s),
	       "all 1000 live, one node each");

	/* Routes 0..499 withdrawn, 1000..1099 new: 500 deletes, 100 creates. */
	n = wanted(want, 500, 600, PEER_A);
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 100 && removed == 500,
	       "500 withdrawn, 100 new: 500 deletes and 100 creates");
	/* Meanwhile 0..99 come back before their deletes are answered: left to the deletes. */
	n = wanted(want, 0, 1100, PEER_A);
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 0 && removed == 0,
	       "back while being deleted: nothing queued yet");
	/* The deletes: one of a node already gone (ZNONODE) counts as done; a batch refused
	 * (ZNOAUTH) leaves its routes live. */
	taken = bgp_pub_take(&s, w, 10);
	for (size_t i = 0; i < taken; i++)
		w[i].rc = i == 3 ? ZNONODE : ZOK;
	bgp_pub_settle(&s, w, taken);
	taken = bgp_pub_take(&s, w, 10);
	for (size_t i = 0; i < taken; i++)
		w[i].rc = ZNOAUTH;
	bgp_pub_settle(&s, w, taken);
	tap_ok(s.n == 1100 - 10 && in_state(&s, BGP_PUB_DELETING) == 480,
	       "deletes answered, gone or already gone: forgotten; refused: live (%zu, %zu deleting)",
	       s.n, in_state(&s, BGP_PUB_DELETING));
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	/* What is wanted now (0..1099): the 490 deleted ones created again, the 10 refused
	 * deletes stay (still wanted). */
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 490 && removed == 0,
	       "the next tick re-creates what came back");
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	tap_ok(s.n == 1100 && in_state(&s, BGP_PUB_LIVE) == 1100 && ids_distinct(&s),
	       "1100 live");

	/* A create whose route was withdrawn while it was in flight: deleted once live. */
	n = wanted(want, 0, 1101, PEER_A);
	bgp_pub_follow(&s, want, n, &added, &removed);
	n = wanted(want, 0, 1100, PEER_A);
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 0 && removed == 0,
	       "withdrawn while its create is in flight: no delete before the answer");
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && removed == 1 && added == 0,
	       "then deleted");
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	tap_ok(s.n == 1100, "1100 again");

	/* Two peers, one prefix each: counted per peer. */
	n = wanted(want, 0, 1100, PEER_A);
	n += wanted(want + n, 0, 3, PEER_B);
	qsort(want, n, sizeof(*want), bgp_route_cmp);
	bgp_pub_follow(&s, want, n, &added, &removed);
	answer_all(&s, TOPO_BGP_BATCH_MAX, ZOK);
	tap_ok(bgp_pub_count(&s, PEER_A, BGP_PUB_LIVE) == 1100 &&
	       bgp_pub_count(&s, PEER_B, BGP_PUB_LIVE) == 3, "counted per peer");

	/* Read back after a lost answer: the listing holds one route twice (its create
	 * happened, then again under a new name). The first is kept, the other deleted. */
	{
		struct topo_route listed[3] = { route(1, PEER_A), route(1, PEER_A), route(2, PEER_A) };

		strcpy(listed[0].id, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
		strcpy(listed[1].id, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
		strcpy(listed[2].id, "cccccccc-cccc-4ccc-8ccc-cccccccccccc");
		tap_ok(!bgp_pub_reset(&s, listed, 3) && s.n == 3 && !bgp_pub_queued(&s),
		       "reset from a listing: all live, nothing queued");
		n = wanted(want, 1, 2, PEER_A);
		tap_ok(!bgp_pub_follow(&s, want, n, &added, &removed) && added == 0 && removed == 1,
		       "one identity twice: one delete");
		taken = bgp_pub_take(&s, w, 10);
		tap_ok(taken == 1 && w[0].withdraw &&
		       !strcmp(w[0].r.id, "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"),
		       "the second name is the one deleted");
		w[0].rc = ZOK;
		bgp_pub_settle(&s, w, 1);
		tap_ok(s.n == 2 && in_state(&s, BGP_PUB_LIVE) == 2, "two routes, one node each");
	}

	/* Everything withdrawn. */
	tap_ok(!bgp_pub_follow(&s, want, 0, &added, &removed) && removed == 2 && added == 0,
	       "nothing wanted: every live route deleted");
	answer_all(&s, 3, ZOK);
	tap_ok(s.n == 0 && !bgp_pub_queued(&s), "empty");
	bgp_pub_free(&s);
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}
