// SPDX-License-Identifier: Apache-2.0
/* Learned routes (docs/bgp.md): every tick, what each running BIRD has in its kernel table
 * (routes.c), by peer (the gateway is the peer's address: eBGP next hops are the peers'),
 * at most max_routes per port, compared with what this session has published; the
 * difference is published or withdrawn, one ephemeral node per (prefix, peer). Every agent
 * reads them with the topology and installs them in its router's routes (desired.c): equal
 * weights, so that several peers advertising one prefix share its flows. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "bgp.h"
#include "routes.h"
#include "status.h"

#define LEARNED_WEIGHT TOPO_WEIGHT_DEFAULT

void bgp_learn_close(struct bgp_speaker *s)
{
	if (s->rib_fd >= 0)
		close(s->rib_fd);
	s->rib_fd = -1;
}

void bgp_learn_forget(struct bgp_manager *m)
{
	free(m->published);
	m->published = NULL;
	m->n_published = 0;
	m->published_known = false;
	free(m->status);
	m->status = NULL;
	m->n_status = 0;
}

/* The identity of a learned route: router, prefix, peer (and the gateway, the peer's). */
static int cmp_learned(const void *a, const void *b)
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

static const struct bgp_peer_conf *peer_of(const struct bgp_want *w, struct in_addr gw)
{
	for (size_t i = 0; i < w->n_peers; i++)
		if (w->peers[i].addr.s_addr == gw.s_addr)
			return &w->peers[i];
	return NULL;
}

/* What speaker s's BIRD learned, appended to *want (capped). */
static int read_speaker(struct bgp_manager *m, struct bgp_speaker *s, struct topo_route **want,
			size_t *n, size_t *cap)
{
	struct bgp_rib_entry *rib = NULL;
	size_t n_rib = 0, taken = 0, over = 0;
	char ns[64];
	int err;

	if (s->rib_fd < 0) {
		snprintf(ns, sizeof(ns), "/run/netns/%s", s->netns);
		s->rib_fd = bgp_routes_open(ns);
		if (s->rib_fd < 0)
			return s->rib_fd;
	}
	err = bgp_routes_dump(s->rib_fd, &rib, &n_rib);
	if (err) {
		bgp_learn_close(s); /* opened again next time */
		return err;
	}
	for (size_t i = 0; i < n_rib; i++) {
		const struct bgp_peer_conf *p = peer_of(&s->want, rib[i].gw);
		struct topo_route *r;

		if (!p)
			continue;
		if (taken == m->max_routes) {
			over++;
			continue;
		}
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 256;

			r = realloc(*want, c * sizeof(*r));
			if (!r) {
				free(rib);
				return -ENOMEM;
			}
			*want = r;
			*cap = c;
		}
		r = &(*want)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->learned = true;
		r->type = TOPO_ROUTE_NORMAL;
		r->dst = rib[i].dst;
		r->has_gw = true;
		r->gw = rib[i].gw;
		r->weight = LEARNED_WEIGHT;
		strcpy(r->router_id, s->want.router_id);
		strcpy(r->port_id, s->want.port_id);
		strcpy(r->peer_id, p->id);
		taken++;
	}
	free(rib);
	if (over != s->over_cap)
		mx_warn("BGP: port %s: %zu learned routes over the cap of %zu (bgp_max_routes) "
			"left out", s->want.port_id, over, m->max_routes);
	s->over_cap = over;
	return 0;
}

/* Publish what is wanted and not published, withdraw what is published and not wanted;
 * both sorted. The published set becomes what ZooKeeper holds now. */
static void apply(struct bgp_manager *m, zhandle_t *zh, const struct topo_route *want, size_t n)
{
	struct topo_route *now = calloc(n + m->n_published + 1, sizeof(*now));
	size_t i = 0, j = 0, k = 0, added = 0, removed = 0;
	int c, err;

	if (!now)
		return;
	while (i < n || j < m->n_published) {
		c = i == n ? 1 : j == m->n_published ? -1 : cmp_learned(&want[i], &m->published[j]);
		if (c == 0) {
			now[k++] = m->published[j++];
			i++;
		} else if (c < 0) {
			now[k] = want[i++];
			err = topo_bgp_route_publish(zh, m->host_id, &now[k], now[k].id);
			if (err)
				mx_warn("BGP: cannot publish a learned route: %s", topo_errmsg());
			else
				k++, added++;
		} else {
			err = topo_bgp_route_withdraw(zh, m->host_id, m->published[j].id);
			if (err) {
				mx_warn("BGP: cannot withdraw a learned route: %s", topo_errmsg());
				now[k++] = m->published[j]; /* tried again next time */
			} else {
				removed++;
			}
			j++;
		}
	}
	free(m->published);
	m->published = now;
	m->n_published = k;
	qsort(m->published, k, sizeof(*now), cmp_learned);
	if (added || removed)
		mx_info("BGP: learned routes: %zu published, %zu withdrawn, %zu in all", added,
			removed, k);
}

static size_t routes_of(const struct bgp_manager *m, const char *peer_id)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n_published; i++)
		n += !strcmp(m->published[i].peer_id, peer_id);
	return n;
}

static const struct topo_bgp_status *status_of(const struct topo_bgp_status *arr, size_t n,
					       const char *peer_id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(arr[i].peer_id, peer_id))
			return &arr[i];
	return NULL;
}

/* The sessions of every running speaker, as its BIRD reports them: published when they
 * changed (a change of state or information logged), withdrawn for peers no speaker has. */
static void sessions(struct bgp_manager *m, zhandle_t *zh)
{
	struct topo_bgp_status *now = NULL, one[BGP_MAX_PEERS];
	size_t n = 0;
	char reply[8192];

	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];
		struct topo_bgp_status *grown;

		if (!s->bird.pid || bird_command(s->bird.dir, "show protocols", reply, sizeof(reply)))
			reply[0] = '\0';
		bgp_status_parse(reply, &s->want, one);
		grown = realloc(now, (n + s->want.n_peers + 1) * sizeof(*now));
		if (!grown) {
			free(now);
			return;
		}
		now = grown;
		for (size_t j = 0; j < s->want.n_peers; j++) {
			const struct topo_bgp_status *old = status_of(m->status, m->n_status,
								      one[j].peer_id);

			one[j].routes = (uint32_t)routes_of(m, one[j].peer_id);
			if (!old || strcmp(old->state, one[j].state) || strcmp(old->info, one[j].info))
				mx_info("BGP: session with %s (peer %s) of port %s: %s%s%s",
					inet_ntoa(s->want.peers[j].addr), one[j].peer_id,
					s->want.port_id, one[j].state, one[j].info[0] ? ", " : "",
					one[j].info);
			if ((!old || memcmp(old, &one[j], sizeof(*old))) &&
			    topo_bgp_status_publish(zh, m->host_id, &one[j]))
				mx_warn("BGP: cannot publish a session's state: %s", topo_errmsg());
			now[n++] = one[j];
		}
	}
	for (size_t i = 0; i < m->n_status; i++)
		if (!status_of(now, n, m->status[i].peer_id))
			topo_bgp_status_withdraw(zh, m->host_id, m->status[i].peer_id);
	free(m->status);
	m->status = now;
	m->n_status = n;
}

void bgp_learn_tick(struct bgp_manager *m, zhandle_t *zh)
{
	struct topo_route *want = NULL;
	size_t n = 0, cap = 0;
	int err;

	if (!m->synced)
		return;
	if (!m->published_known) {
		free(m->published);
		m->published = NULL;
		if (topo_bgp_routes_list(zh, m->host_id, &m->published, &m->n_published)) {
			mx_warn("BGP: cannot read the learned routes published before: %s",
				topo_errmsg());
			return;
		}
		qsort(m->published, m->n_published, sizeof(*m->published), cmp_learned);
		m->published_known = true;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];

		/* Only a running BIRD's table counts: a dead one's routes linger there. */
		if (!s->bird.pid || !s->plumbed)
			continue;
		err = read_speaker(m, s, &want, &n, &cap);
		if (err == -ENOMEM) {
			free(want);
			return;
		}
		if (err)
			mx_warn("BGP: cannot read what BIRD learned for port %s: %s", s->want.port_id,
				strerror(-err));
	}
	if (n)
		qsort(want, n, sizeof(*want), cmp_learned);
	apply(m, zh, want, n);
	free(want);
	sessions(m, zh);
}
