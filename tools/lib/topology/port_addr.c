// SPDX-License-Identifier: Apache-2.0
/* A bridge port's fixed address is unique on its bridge: no other port of the bridge has
 * it, and no router port linked to the bridge (the VMs' gateway) has it either. The
 * datapath answers ARP for each address from one port only; a second holder is a
 * misconfiguration that shows as traffic going to the wrong place. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "write.h"

/* The router port linked to bridge port p holding addr, or NULL. */
static const struct topo_port *gateway_with(const struct topology *t, const struct topo_port *p,
					    struct in_addr addr)
{
	const struct topo_port *r = p->peer_id[0] ? topo_find_port_by_id(t, p->peer_id) : NULL;
	size_t i;

	for (i = 0; r && r->device_type == TOPO_DEVICE_ROUTER && i < r->n_nets; i++)
		if (r->nets[i].addr.s_addr == addr.s_addr)
			return r;
	return NULL;
}

int check_addr_free(const struct topology *t, const char *bridge_id, const char *self,
		    bool has_addr, struct in_addr addr)
{
	const struct topo_port *r;
	char a[INET_ADDRSTRLEN], pa[64], ra[64];
	size_t i;

	for (i = 0; has_addr && i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (strcmp(p->device_id, bridge_id) || !strcmp(p->id, self))
			continue;
		inet_ntop(AF_INET, &addr, a, sizeof(a));
		if (p->has_addr && p->addr.s_addr == addr.s_addr)
			return topo_fail(-EEXIST, "address %s is already port %s's", a,
					 alias_of(t, p->id, pa));
		r = gateway_with(t, p, addr);
		if (r)
			return topo_fail(-EEXIST, "address %s is router port %s's, linked to "
					 "this bridge as port %s", a, alias_of(t, r->id, ra),
					 alias_of(t, p->id, pa));
	}
	return 0;
}

/* Linking bridge port b to router port r: none of r's addresses may be a fixed address of
 * a port of b's bridge. */
int check_link_addrs(const struct topology *t, const struct topo_port *b,
		     const struct topo_port *r)
{
	size_t i;
	int rc = 0;

	if (b->device_type != TOPO_DEVICE_BRIDGE) {
		const struct topo_port *s = b;

		b = r;
		r = s;
	}
	if (b->device_type != TOPO_DEVICE_BRIDGE || r->device_type != TOPO_DEVICE_ROUTER)
		return 0;
	for (i = 0; !rc && i < r->n_nets; i++)
		rc = check_addr_free(t, b->device_id, b->id, true, r->nets[i].addr);
	return rc;
}
