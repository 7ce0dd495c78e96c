/* SPDX-License-Identifier: Apache-2.0 */
/* Floating IPs: MidoNet's static 1:1 NAT recipe as one write (docs/nat.md): on router R, a
 * static DNAT of F to A on its infilter chain and a static SNAT of A to F leaving by port P
 * on its outfilter chain. There is no floating-IP object: a floating IP is that pair of
 * rules, recognised by their shape wherever they came from (this write or two add rule). */
#ifndef MIDOX_TOPOLOGY_FLOATING_H
#define MIDOX_TOPOLOGY_FLOATING_H

#include "topology.h"

/* The chains a floating-ip add creates for a router without filters: "<router>-infilter",
 * "<router>-outfilter". */
#define TOPO_FLOATING_IN_SUFFIX "-infilter"
#define TOPO_FLOATING_OUT_SUFFIX "-outfilter"

struct topo_floating_ip {
	struct in_addr addr;		/* F */
	struct in_addr target;		/* A; 0.0.0.0 when there is no DNAT rule */
	char port_id[TOPO_ID_LEN];	/* P: the SNAT's out-ports; "" when none */
	const struct topo_rule *dnat;	/* on the router's infilter chain, or NULL */
	const struct topo_rule *snat;	/* on its outfilter chain, or NULL */
};

/* The floating IPs of router_id in t, by F in the order of the DNAT rules (then an SNAT
 * without its DNAT): up to max into out; how many there are. */
size_t topo_floating_ips(const struct topology *t, const char *router_id,
			 struct topo_floating_ip *out, size_t max);

/* One multi: the router's filter chains created and attached if it has none (both
 * TOPO_FLOATING_*_SUFFIX), the DNAT appended to its infilter chain and the SNAT to its
 * outfilter chain; dnat_id, snat_id: the new rules. Refused with nothing written when
 * port_id is not a port of the router (-EINVAL), addr is already a floating IP of it
 * (-EEXIST), or a filter chain of the router is also another device's, another chain's
 * jump target or the router's other filter (-EBUSY, saying what to do). */
int topo_floating_ip_add(zhandle_t *zh, const char *router_id, struct in_addr addr,
			 struct in_addr target, const char *port_id, char dnat_id[TOPO_ID_LEN],
			 char snat_id[TOPO_ID_LEN]);
/* Both rules of floating IP addr of the router (one multi; the chains stay). -ENOENT when
 * it has none. */
int topo_floating_ip_delete(zhandle_t *zh, const char *router_id, struct in_addr addr);

#endif
