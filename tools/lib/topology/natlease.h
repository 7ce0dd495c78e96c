/* SPDX-License-Identifier: Apache-2.0 */
/* Dynamic SNAT's port-block leases in ZooKeeper (docs/zookeeper.md, "NAT port blocks"):
 * /midox/nat/<a.b.c.d>/<block>, an ephemeral node of the leasing host's session holding
 * {"schema":1,"host":"<host id>"}; the address node is persistent ({"schema":1}). A block
 * is taken by a create, which fails when the node exists: two hosts never hold one block.
 * Every function returns 0 or a negative errno with topo_errmsg() set. */
#ifndef MIDOX_TOPOLOGY_NATLEASE_H
#define MIDOX_TOPOLOGY_NATLEASE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "topology.h"

#define TOPO_NAT_BLOCKS 1024 /* 65536 ports / 64 */

struct topo_nat_lease {
	uint16_t block;
	char host_id[TOPO_ID_LEN];
	bool mine; /* an ephemeral node of this handle's session */
};

/* A block node's name: decimal 0..1023 without leading zeros. */
int topo_nat_block_parse(const char *name, uint16_t *block);
/* A lease node's data for host_id: malloc'd JSON (NULL: out of memory). */
char *topo_nat_lease_encode(const char *host_id);
/* Its data back: the host (a UUID); -EINVAL for anything else (bad JSON, another schema,
 * no or a bad host), with the reason in topo_errmsg(). */
int topo_nat_lease_decode(const char *buf, size_t len, char host_id[TOPO_ID_LEN]);
/* Take block of addr for host_id, an ephemeral node of this session (its parents made if
 * missing). -EEXIST: somebody holds it already (this session included). */
int topo_nat_lease_take(zhandle_t *zh, struct in_addr addr, unsigned int block,
			const char *host_id);
/* Give block of addr back: its node deleted if it is this session's (0 also when it is
 * gone); -EPERM when another session holds it. */
int topo_nat_lease_drop(zhandle_t *zh, struct in_addr addr, unsigned int block);
/* addr's node, once no block is left below it (0 also when blocks are: kept then). */
int topo_nat_address_prune(zhandle_t *zh, struct in_addr addr);
/* The leases of addr sorted by block, *out malloc'd (NULL when none). A node whose name or
 * data does not parse is logged, left out and counted in *skipped. No node for addr: 0
 * leases. */
int topo_nat_leases_read(zhandle_t *zh, struct in_addr addr, struct topo_nat_lease **out,
			 size_t *n, size_t *skipped);
/* The addresses with a node under /midox/nat, sorted; a name that is no address is logged
 * and counted in *skipped. */
int topo_nat_addresses_read(zhandle_t *zh, struct in_addr **out, size_t *n, size_t *skipped);

#endif
