/* SPDX-License-Identifier: Apache-2.0 */
/* What BGP speakers this host must run (docs/bgp.md): one per exterior router port bound
 * here whose router has an AS number and peers in the port's subnets. Pure: computed from
 * a snapshot, no system calls. */
#ifndef MIDOX_AGENT_BGP_PLAN_H
#define MIDOX_AGENT_BGP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "topology/topology.h"

/* Per speaker; more peers or networks than this are left out, and logged. */
#define BGP_MAX_PEERS 32
#define BGP_MAX_NETWORKS 256

struct bgp_peer_conf {
	char id[TOPO_ID_LEN];
	uint32_t asn;
	struct in_addr addr;
	struct in_addr local; /* the port's address on the peer's subnet */
	uint32_t keep_alive, hold_time, connect_retry;
	char password[TOPO_BGP_PASSWORD_MAX];
};

/* One speaker: the port it speaks for, what the namespace holds, what BIRD is told. */
struct bgp_want {
	char port_id[TOPO_ID_LEN];
	char router_id[TOPO_ID_LEN];
	uint32_t port_key;
	char ifname[TOPO_IFNAME_MAX]; /* the exterior interface the port is bound to */
	uint8_t mac[6];
	struct topo_cidr nets[TOPO_PORT_MAX_NETS];
	size_t n_nets;
	uint32_t local_as;
	struct bgp_peer_conf peers[BGP_MAX_PEERS];
	size_t n_peers;
	struct topo_cidr networks[BGP_MAX_NETWORKS];
	size_t n_networks;
};

/* The host side of a speaker's veth pair, in the agent's namespace: "mxb" and the port's
 * tunnel key in hex (fits IFNAMSIZ). The datapath's BGP entries and program hang on it. */
void bgp_speaker_if(uint32_t port_key, char name[16]);

/* The speakers host_id must run, in binding order, into *out (malloc'd, *n of them; NULL
 * when none). 0 or -ENOMEM. */
int bgp_plan(const struct topology *t, const char *host_id, struct bgp_want **out, size_t *n);

#endif
