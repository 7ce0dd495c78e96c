// SPDX-License-Identifier: Apache-2.0
/* Which speakers a snapshot asks of this host. A port, its router or a binding that does
 * not qualify is simply no speaker: the manager stops one that was running. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plan.h"

void bgp_speaker_if(uint32_t port_key, char name[16])
{
	snprintf(name, 16, "mxb%06x", port_key & 0xFFFFFF);
}

/* The port's address on addr's subnet (its own address is no peer's). */
static bool local_for(const struct topo_port *p, struct in_addr addr, struct in_addr *local)
{
	for (size_t k = 0; k < p->n_nets; k++) {
		if (p->nets[k].addr.s_addr == addr.s_addr)
			return false;
		if (topo_cidr_contains(&p->nets[k], addr)) {
			*local = p->nets[k].addr;
			return true;
		}
	}
	return false;
}

static void take_peers(const struct topology *t, const struct topo_port *p, struct bgp_want *w)
{
	size_t i, skipped = 0;

	for (i = 0; i < t->n_bgp_peers; i++) {
		const struct topo_bgp_peer *bp = &t->bgp_peers[i];
		struct bgp_peer_conf *c;
		struct in_addr local;

		if (strcmp(bp->router_id, p->device_id) || !local_for(p, bp->addr, &local))
			continue;
		if (w->n_peers == BGP_MAX_PEERS) {
			skipped++;
			continue;
		}
		c = &w->peers[w->n_peers++];
		strcpy(c->id, bp->id);
		c->asn = bp->asn;
		c->addr = bp->addr;
		c->local = local;
		c->keep_alive = bp->keep_alive;
		c->hold_time = bp->hold_time;
		c->connect_retry = bp->connect_retry;
		strcpy(c->password, bp->password);
	}
	if (skipped)
		mx_warn("BGP: port %s has %zu peers more than the %d a speaker takes: left out",
			p->id, skipped, BGP_MAX_PEERS);
}

static void take_networks(const struct topology *t, const char *router_id, struct bgp_want *w)
{
	size_t i, skipped = 0;

	for (i = 0; i < t->n_bgp_networks; i++) {
		if (strcmp(t->bgp_networks[i].router_id, router_id))
			continue;
		if (w->n_networks == BGP_MAX_NETWORKS)
			skipped++;
		else
			w->networks[w->n_networks++] = t->bgp_networks[i].net;
	}
	if (skipped)
		mx_warn("BGP: router %s has %zu networks more than the %d a speaker advertises: "
			"left out", router_id, skipped, BGP_MAX_NETWORKS);
}

/* The speaker of one binding into w: false when it needs none (not a router port, no AS
 * number, down, no peer on its subnets). */
static bool want_of(const struct topology *t, const struct topo_binding *b, struct bgp_want *w)
{
	const struct topo_port *p = topo_find_port_by_id(t, b->port_id);
	const struct topo_router *r;

	if (!p || p->device_type != TOPO_DEVICE_ROUTER || p->down || !p->n_nets)
		return false;
	r = topo_find_router_by_id(t, p->device_id);
	if (!r || !r->asn || r->down)
		return false;
	memset(w, 0, sizeof(*w));
	take_peers(t, p, w);
	if (!w->n_peers)
		return false;
	take_networks(t, r->id, w);
	strcpy(w->port_id, p->id);
	strcpy(w->router_id, r->id);
	strcpy(w->ifname, b->interface);
	w->port_key = p->tunnel_key;
	memcpy(w->mac, p->mac, 6);
	memcpy(w->nets, p->nets, sizeof(w->nets));
	w->n_nets = p->n_nets;
	w->local_as = r->asn;
	return true;
}

int bgp_plan(const struct topology *t, const char *host_id, struct bgp_want **out, size_t *n)
{
	struct bgp_want *arr = NULL, one;
	size_t i, count = 0;

	for (i = 0; i < t->n_bindings; i++) {
		struct bgp_want *grown;

		if (strcmp(t->bindings[i].host_id, host_id) || !want_of(t, &t->bindings[i], &one))
			continue;
		grown = realloc(arr, (count + 1) * sizeof(*arr));
		if (!grown) {
			free(arr);
			return -ENOMEM;
		}
		arr = grown;
		arr[count++] = one;
	}
	*out = arr;
	*n = count;
	return 0;
}
