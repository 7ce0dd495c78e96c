// SPDX-License-Identifier: Apache-2.0
/* The published set of learned routes and its queue of writes (publish.h). Every change
 * goes through the queue and comes back through bgp_pub_settle, so the set always says
 * what ZooKeeper holds or is about to: a route is never created twice nor deleted before
 * its create was answered. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "publish.h"

int bgp_route_cmp(const void *a, const void *b)
{
	const struct topo_route *x = a, *y = b;
	int c = strcmp(x->router_id, y->router_id);
	uint32_t dx = ntohl(x->dst.addr.s_addr), dy = ntohl(y->dst.addr.s_addr);

	if (c)
		return c;
	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->dst.len != y->dst.len)
		return x->dst.len < y->dst.len ? -1 : 1;
	c = strcmp(x->peer_id, y->peer_id);
	if (c)
		return c;
	c = strcmp(x->port_id, y->port_id);
	return c ? c : (x->gw.s_addr > y->gw.s_addr) - (x->gw.s_addr < y->gw.s_addr);
}

/* The set's order: identity, then id (a listing may hold one identity twice). */
static int cmp_pub(const void *a, const void *b)
{
	const struct bgp_pub *x = a, *y = b;
	int c = bgp_route_cmp(&x->r, &y->r);

	return c ? c : strcmp(x->r.id, y->r.id);
}

static int queue_push(struct bgp_pubset *s, bool withdraw, const struct topo_route *r)
{
	struct topo_bgp_write *q;

	if (s->head && s->head == s->n_queue)
		s->head = s->n_queue = 0;
	if (s->n_queue == s->cap_queue) {
		/* Room first from what was taken, then by growing. */
		if (s->head) {
			memmove(s->queue, s->queue + s->head, (s->n_queue - s->head) * sizeof(*q));
			s->n_queue -= s->head;
			s->head = 0;
		} else {
			size_t cap = s->cap_queue ? s->cap_queue * 2 : 256;

			q = realloc(s->queue, cap * sizeof(*q));
			if (!q)
				return -ENOMEM;
			s->queue = q;
			s->cap_queue = cap;
		}
	}
	q = &s->queue[s->n_queue++];
	memset(q, 0, sizeof(*q));
	q->withdraw = withdraw;
	q->r = *r;
	return 0;
}

int bgp_pub_follow(struct bgp_pubset *s, const struct topo_route *want, size_t n,
		   size_t *added, size_t *removed)
{
	struct bgp_pub *now = malloc((n + s->n + 1) * sizeof(*now));
	size_t i = 0, j = 0, k = 0, n_queue = s->n_queue, head = s->head;
	int c, err = 0;

	*added = *removed = 0;
	if (!now)
		return -ENOMEM;
	while (!err && (i < n || j < s->n)) {
		c = i == n ? 1 : j == s->n ? -1 : bgp_route_cmp(&want[i], &s->items[j].r);
		if (c < 0) {
			/* New: a node of its own, created. */
			now[k].r = want[i++];
			now[k].state = BGP_PUB_CREATING;
			err = topo_new_uuid(now[k].r.id);
			if (!err)
				err = queue_push(s, false, &now[k].r);
			k++, (*added)++;
			continue;
		}
		now[k] = s->items[j++];
		if (c == 0) {
			/* Wanted and there (or coming, or going: a later call brings it back). One
			 * identity listed twice keeps its first node; the others are not wanted. */
			while (i < n && !bgp_route_cmp(&want[i], &now[k].r))
				i++;
		} else if (now[k].state == BGP_PUB_LIVE) {
			now[k].state = BGP_PUB_DELETING;
			err = queue_push(s, true, &now[k].r);
			(*removed)++;
		}
		k++;
	}
	if (err) {
		/* Undo: the queue as it was, the set untouched. */
		s->n_queue = n_queue;
		s->head = head;
		free(now);
		*added = *removed = 0;
		return err;
	}
	free(s->items);
	s->items = now;
	s->n = k;
	qsort(s->items, s->n, sizeof(*s->items), cmp_pub);
	return 0;
}

static struct bgp_pub *find(struct bgp_pubset *s, const struct topo_route *r)
{
	struct bgp_pub key = { .r = *r };

	return bsearch(&key, s->items, s->n, sizeof(*s->items), cmp_pub);
}

void bgp_pub_settle(struct bgp_pubset *s, const struct topo_bgp_write *w, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct bgp_pub *p = find(s, &w[i].r);

		if (!p)
			continue; /* not of this set (it was reset meanwhile) */
		if (w[i].withdraw)
			p->state = w[i].rc == ZOK || w[i].rc == ZNONODE ? BGP_PUB_GONE : BGP_PUB_LIVE;
		else
			p->state = w[i].rc == ZOK ? BGP_PUB_LIVE : BGP_PUB_GONE;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].state != BGP_PUB_GONE)
			s->items[k++] = s->items[i];
	s->n = k;
}

size_t bgp_pub_take(struct bgp_pubset *s, struct topo_bgp_write *out, size_t max)
{
	size_t n = s->n_queue - s->head;

	if (n > max)
		n = max;
	memcpy(out, s->queue + s->head, n * sizeof(*out));
	s->head += n;
	if (s->head == s->n_queue)
		s->head = s->n_queue = 0;
	return n;
}

size_t bgp_pub_queued(const struct bgp_pubset *s)
{
	return s->n_queue - s->head;
}

int bgp_pub_reset(struct bgp_pubset *s, const struct topo_route *listed, size_t n)
{
	struct bgp_pub *items = n ? calloc(n, sizeof(*items)) : NULL;

	if (n && !items)
		return -ENOMEM;
	free(s->items);
	s->items = items;
	s->n = n;
	for (size_t i = 0; i < s->n; i++) {
		items[i].r = listed[i];
		items[i].state = BGP_PUB_LIVE;
	}
	if (s->n)
		qsort(s->items, s->n, sizeof(*s->items), cmp_pub);
	s->head = s->n_queue = 0;
	return 0;
}

size_t bgp_pub_count(const struct bgp_pubset *s, const char *peer_id, enum bgp_pub_state state)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->items[i].state == state && !strcmp(s->items[i].r.peer_id, peer_id);
	return n;
}

void bgp_pub_free(struct bgp_pubset *s)
{
	free(s->items);
	free(s->queue);
	memset(s, 0, sizeof(*s));
}
