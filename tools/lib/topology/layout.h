/* SPDX-License-Identifier: Apache-2.0 */
/* Where each object lives in ZooKeeper (docs/zookeeper.md, "Layout"): the library's
 * readers and writers, and tools that write the tree directly (the benchmark's). */
#ifndef MIDOX_TOPOLOGY_LAYOUT_H
#define MIDOX_TOPOLOGY_LAYOUT_H

#include "topology.h"

/* Every path of the layout, as printf formats (docs/zookeeper.md describes each). */
#define P_ROOT TOPO_ROOT
#define P_KEY P_ROOT "/tunnel_key"
#define P_HOSTS P_ROOT "/hosts"
#define P_HOST P_HOSTS "/%s"
#define P_ALIVE P_HOST "/alive"
#define P_BINDINGS P_HOST "/bindings"
#define P_BINDING P_BINDINGS "/%s"
/* What an agent learned, under its own host (its identity alone may change it). */
#define P_HOST_MACS P_HOST "/macs"
#define P_MAC P_HOST_MACS "/%s,%s" /* "<aa:bb:cc:dd:ee:ff>,<port id>" */
#define P_HOST_ARPS P_HOST "/arp"
#define P_ARP P_HOST_ARPS "/%s,%s,%s" /* "<a.b.c.d>,<aa:bb:cc:dd:ee:ff>,<router id>" */
#define P_HOST_BGP_ROUTES P_HOST "/bgp_routes"
#define P_BGP_ROUTE P_HOST_BGP_ROUTES "/%s" /* "<uuid>" */
#define P_HOST_BGP_STATUS P_HOST "/bgp_status"
#define P_BGP_STATUS P_HOST_BGP_STATUS "/%s" /* "<peer id>" */
/* What an agent reports of its host (status.h): interfaces, the state of each binding. */
#define P_HOST_IFACES P_HOST "/interfaces"
#define P_HOST_BINDING_STATUS P_HOST "/binding_status"
#define P_ZONES P_ROOT "/tunnel_zones"
#define P_ZONE P_ZONES "/%s"
#define P_MEMBERS P_ZONE "/members"
#define P_MEMBER P_MEMBERS "/%s"
#define P_BRIDGES P_ROOT "/bridges"
#define P_BRIDGE P_BRIDGES "/%s"
/* Where learned MACs and ARP entries were before access control: only deleted now. */
#define P_MACS P_BRIDGE "/macs"
#define P_PORTS P_ROOT "/ports"
#define P_PORT P_PORTS "/%s"
#define P_PORT_BINDING P_PORT "/binding"
#define P_ROUTERS P_ROOT "/routers"
#define P_ROUTER P_ROUTERS "/%s"
#define P_ROUTES P_ROUTER "/routes"
#define P_ROUTE P_ROUTES "/%s"
#define P_ARPS_STATIC P_ROUTER "/arp_static"
#define P_ARP_STATIC P_ARPS_STATIC "/%s" /* "<a.b.c.d>" */
#define P_ARPS P_ROUTER "/arp"
#define P_BGP_PEERS P_ROUTER "/bgp_peers"
#define P_BGP_PEER P_BGP_PEERS "/%s"
#define P_BGP_NETWORKS P_ROUTER "/bgp_networks"
#define P_BGP_NETWORK P_BGP_NETWORKS "/%s"

/* Rule chains (docs/chains.md): a chain's rules below it; port groups' members (named by
 * the port's id) and IP address groups' addresses (named by the address) below them. */
#define P_CHAINS P_ROOT "/chains"
#define P_CHAIN P_CHAINS "/%s"
#define P_RULES P_CHAIN "/rules"
#define P_RULE P_RULES "/%s"
#define P_PORT_GROUPS P_ROOT "/port_groups"
#define P_PORT_GROUP P_PORT_GROUPS "/%s"
#define P_PG_MEMBERS P_PORT_GROUP "/members"
#define P_PG_MEMBER P_PG_MEMBERS "/%s"
#define P_IP_GROUPS P_ROOT "/ip_address_groups"
#define P_IP_GROUP P_IP_GROUPS "/%s"
#define P_IP_GROUP_ADDRS P_IP_GROUP "/addresses"
#define P_IP_GROUP_ADDR P_IP_GROUP_ADDRS "/%s"

/* Dynamic SNAT's port blocks (natlease.h): an address's blocks below it, each an ephemeral
 * node of the leasing host's session, named by its number (0..1023). */
#define P_NAT P_ROOT "/nat"
#define P_NAT_ADDR P_NAT "/%s"           /* "<a.b.c.d>" */
#define P_NAT_BLOCK P_NAT_ADDR "/%u"     /* "<block>" */

/* midox-cni's per-node blocks of a network's pod subnet ("nodeBlockSize",
 * docs/kubernetes.md): persistent nodes named "<a.b.c.d>-<len>", holding
 * {"schema":1,"host":"<host id>"}; made by the plugin, freed by an operator. */
#define P_CNI P_ROOT "/cni"
#define P_CNI_NET P_CNI "/%s"            /* "<network name>" */
#define P_CNI_BLOCKS P_CNI_NET "/blocks"
#define P_CNI_BLOCK P_CNI_BLOCKS "/%s"   /* "<a.b.c.d>-<len>" */

#define TOPO_PATH_MAX 256
#define TOPO_DATA_MAX 4096
/* A host's binding index (the data of its bindings directory, binding_index.c): a cache of
 * every binding of the host in one node, at most this large (about 15k bindings). */
#define TOPO_INDEX_MAX (1024 * 1024)
#define TOPO_MAC_NODE_LEN (17 + 1 + 36)

#endif
