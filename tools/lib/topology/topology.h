/* SPDX-License-Identifier: Apache-2.0 */
/* The topology object model: ZooKeeper paths, JSON encoding, validation and the
 * operations on them. The one library the CLI, the agent and the tests link.
 * Every function returns 0 or a negative errno; ZooKeeper errors are mapped to errno
 * (ZNONODE -ENOENT, ZNODEEXISTS -EEXIST, ZBADVERSION -EAGAIN, ZCONNECTIONLOSS and
 * ZOPERATIONTIMEOUT -ETIMEDOUT, ZSESSIONEXPIRED -ESTALE, ZNOAUTH -EACCES). */
#ifndef MIDOX_TOPOLOGY_H
#define MIDOX_TOPOLOGY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* libzookeeper_mt: the synchronous calls exist only with THREADED. */
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#define TOPO_ROOT "/midox"
#define TOPO_SCHEMA 1
#define TOPO_ID_LEN 37 /* UUID text and its NUL */
#define TOPO_NAME_MAX 64
#define TOPO_IFNAME_MAX 16
#define TOPO_KEY_MIN 1u
#define TOPO_KEY_MAX 0xFFFFFEu /* 0 and 0xFFFFFF are reserved */
#define TOPO_ERR_MAX 256

enum topo_device_type { TOPO_DEVICE_BRIDGE = 1, TOPO_DEVICE_ROUTER = 2 };

/* An IPv4 prefix: address and length. */
struct topo_cidr {
	struct in_addr addr;
	uint8_t len;
};

#define TOPO_PORT_MAX_NETS 4 /* addresses of one router port */
#define TOPO_CIDR_STRLEN 20  /* "255.255.255.255/32", its NUL, and room to spare */
#define TOPO_WEIGHT_MAX 65535u /* route weights are 1..TOPO_WEIGHT_MAX */
#define TOPO_WEIGHT_DEFAULT 100u

struct topo_host {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	bool alive; /* its agent holds a live session */
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
	int32_t bindings_cversion; /* its bindings directory's (-1: none), for the index */
};

struct topo_zone {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	char type[8]; /* "vxlan" */
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
};

struct topo_member {
	char zone_id[TOPO_ID_LEN];
	char host_id[TOPO_ID_LEN];
	struct in_addr addr;
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
};

/* The rule chains a bridge, a router or a port applies (docs/chains.md): its infilter to
 * what enters it, its outfilter to what leaves it; "" for none. */
struct topo_filters {
	char in[TOPO_ID_LEN];
	char out[TOPO_ID_LEN];
};

struct topo_bridge {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	uint32_t tunnel_key;
	bool down; /* "state": "down": forwards nothing (absent: up) */
	struct topo_filters filters;
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
};

#define TOPO_PORT_MAX_ALLOWED 8 /* allowed address pairs of one bridge port */
#define TOPO_RATE_MIN 1000ull             /* a port's egress rate, bits per second */
#define TOPO_RATE_MAX 10000000000000ull   /* 10 Tbit/s */
#define TOPO_BURST_MAX 1000000000000ull   /* a port's egress burst, bits (125 GB) */

/* An allowed address pair: a bridge port may also send as addr, from mac if it has one,
 * else from its own MAC. */
struct topo_allowed {
	struct in_addr addr;
	bool has_mac;
	uint8_t mac[6];
};

struct topo_port {
	char id[TOPO_ID_LEN];
	char device_id[TOPO_ID_LEN];
	enum topo_device_type device_type;
	uint32_t tunnel_key;
	bool has_mac;
	uint8_t mac[6];
	bool has_addr;
	struct in_addr addr;
	/* Router ports: the port's addresses with their subnets (first = primary); its MAC
	 * (has_mac) is generated at creation. */
	struct topo_cidr nets[TOPO_PORT_MAX_NETS];
	size_t n_nets;
	/* Interior ports: the port of another device this one is linked to; "" if none. */
	char peer_id[TOPO_ID_LEN];
	bool down; /* "state": "down": neither sends nor receives (absent: up) */
	/* Bridge ports: "port_security" (absent: true) holds the port to its fixed MAC and
	 * address, and to its allowed address pairs. */
	bool no_port_security;
	struct topo_allowed allowed[TOPO_PORT_MAX_ALLOWED];
	size_t n_allowed;
	struct topo_filters filters;
	/* "egress_limit": what the VM behind the port may send, policed where its frames
	 * enter the datapath (docs/datapath.md, "Egress rate limit"); egress_rate 0: none. */
	uint64_t egress_rate;  /* bits per second, TOPO_RATE_MIN..TOPO_RATE_MAX */
	uint64_t egress_burst; /* bits, 1..TOPO_BURST_MAX */
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
	size_t ordinal;  /* its place among its device's ports (the N of "bridge0:portN") */
};

struct topo_router {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	uint32_t tunnel_key;
	bool down; /* "state": "down": forwards nothing (absent: up) */
	uint32_t asn; /* its BGP autonomous system, 1..TOPO_ASN_MAX; 0: none set */
	struct topo_filters filters;
	int64_t czxid;
	int32_t version;
};

enum topo_route_type { TOPO_ROUTE_NORMAL = 1, TOPO_ROUTE_BLACKHOLE = 2, TOPO_ROUTE_REJECT = 3 };

struct topo_route {
	char id[TOPO_ID_LEN];
	char router_id[TOPO_ID_LEN];
	struct topo_cidr src;
	struct topo_cidr dst;
	enum topo_route_type type;
	char port_id[TOPO_ID_LEN]; /* next-hop router port (normal routes) */
	bool has_gw;
	struct in_addr gw;
	uint32_t weight;
	bool port_route; /* made with its port for the port's subnet; goes with it */
	/* Learned from a BGP peer (docs/bgp.md): published by the agent of the port's host as
	 * an ephemeral node of its session, under its host; gw is the peer's address. */
	bool learned;
	char peer_id[TOPO_ID_LEN];
	char host_id[TOPO_ID_LEN];
	int64_t czxid;
	int32_t version;
	size_t ordinal;  /* its place among its router's routes (the N of "router0:routeN") */
};

/* BGP (docs/bgp.md): a router's peers and the networks it advertises to them. */
#define TOPO_ASN_MAX 4294967295u
#define TOPO_BGP_PASSWORD_MAX 81 /* a TCP MD5 key: 1..80 bytes, and the NUL */
/* Timers in seconds, MidoNet's defaults and the ranges BGP allows (RFC 4271: a hold time
 * of at least 3 s; a keepalive no longer than the hold time). */
#define TOPO_BGP_KEEP_ALIVE_DEFAULT 60u
#define TOPO_BGP_HOLD_TIME_DEFAULT 180u
#define TOPO_BGP_CONNECT_RETRY_DEFAULT 120u
#define TOPO_BGP_TIMER_MAX 65535u
#define TOPO_BGP_HOLD_TIME_MIN 3u

struct topo_bgp_peer {
	char id[TOPO_ID_LEN];
	char router_id[TOPO_ID_LEN];
	uint32_t asn;
	struct in_addr addr; /* in a subnet of one of the router's ports */
	uint32_t keep_alive, hold_time, connect_retry;
	char password[TOPO_BGP_PASSWORD_MAX]; /* TCP MD5 signature key; "" for none */
	int64_t czxid;
	int32_t version;
	size_t ordinal; /* the N of "router0:peerN" */
};

struct topo_bgp_network {
	char id[TOPO_ID_LEN];
	char router_id[TOPO_ID_LEN];
	struct topo_cidr net; /* no host bits */
	int64_t czxid;
	int32_t version;
	size_t ordinal; /* the N of "router0:netN" */
};

#include "chain_model.h"

/* A router's ARP entry: static (from the CLI, persistent) or learned by an agent on one of
 * the router's ports (ephemeral: gone with that agent's session). */
struct topo_arp {
	char router_id[TOPO_ID_LEN];
	struct in_addr addr;
	uint8_t mac[6];
	bool learned;
	char port_id[TOPO_ID_LEN]; /* learned: the router port it was seen on */
	char host_id[TOPO_ID_LEN]; /* learned: the agent that learned it */
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
};

struct topo_binding {
	char host_id[TOPO_ID_LEN];
	char interface[TOPO_IFNAME_MAX];
	char port_id[TOPO_ID_LEN];
	int64_t czxid;
	int32_t version; /* the znode's data version, for checked writes */
};

/* A MAC an agent learned on one of its local ports (ephemeral: gone with its session). */
struct topo_mac {
	char bridge_id[TOPO_ID_LEN];
	uint8_t mac[6];
	char port_id[TOPO_ID_LEN];
	char host_id[TOPO_ID_LEN];
	int64_t czxid;
};

/* A snapshot of the whole tree. Each array is sorted by creation (czxid), which is also
 * the order aliases such as bridge0 and bridge0:port1 follow. */
struct topology {
	struct topo_host *hosts;
	size_t n_hosts;
	struct topo_zone *zones;
	size_t n_zones;
	struct topo_member *members;
	size_t n_members;
	struct topo_bridge *bridges;
	size_t n_bridges;
	struct topo_port *ports;
	size_t n_ports;
	struct topo_binding *bindings;
	size_t n_bindings;
	struct topo_mac *macs;
	size_t n_macs;
	struct topo_router *routers;
	size_t n_routers;
	struct topo_route *routes;
	size_t n_routes;
	struct topo_arp *arps;
	size_t n_arps;
	struct topo_bgp_peer *bgp_peers;
	size_t n_bgp_peers;
	struct topo_bgp_network *bgp_networks;
	size_t n_bgp_networks;
	/* Rule chains and what their rules name (chain_model.h). Rules are in chain order:
	 * by chain, then position. */
	struct topo_chain *chains;
	size_t n_chains;
	struct topo_rule *rules;
	size_t n_rules;
	struct topo_port_group *port_groups;
	size_t n_port_groups;
	struct topo_pg_member *pg_members;
	size_t n_pg_members;
	struct topo_ip_group *ip_groups;
	size_t n_ip_groups;
	struct topo_ip_group_addr *ip_group_addrs;
	size_t n_ip_group_addrs;
	size_t n_skipped; /* objects that could not be parsed: logged and left out */
	size_t n_bindings_indexed; /* bindings taken from their host's index (binding_index.c) */
	/* Private to the library: hash indexes by id and by tunnel key (topo_index), so that
	 * lookups stay O(1) in a large snapshot. */
	struct topo_index *ix;
	/* What checked writes depend on: the data versions of the type containers (bumped by
	 * every create, so names stay unique under concurrent writers) and the key counter. */
	int32_t hosts_version, zones_version, bridges_version, ports_version, routers_version;
	int32_t chains_version, port_groups_version, ip_groups_version;
	int32_t key_version;
	uint32_t next_key;
};

/* How often a client may look the servers' names up again while connected (it always does
 * on a connection loss). The C client's default is on every poll of its socket: a
 * getaddrinfo, and with it a netlink socket and an address dump, dozens of times a command,
 * most of a small CLI command's system calls and a good part of its time. */
#define TOPO_RESOLVE_DELAY_MS 10000

/* Connect and wait until the session is established (or timeout_ms passes: -ETIMEDOUT).
 * watcher receives session events afterwards (may be NULL). servers: "host:port,...". */
int topo_connect(const char *servers, int timeout_ms, watcher_fn watcher, void *ctx,
		 zhandle_t **out);
/* The C client's log through midox's logger ("ZooKeeper client: ..."), each message once
 * until the next session event: pass topo_zk_log to zookeeper_init2 (topo_connect does), and
 * call topo_zk_log_event from the session watcher. */
void topo_zk_log(const char *message);
void topo_zk_log_event(void);
/* Close a handle made by topo_connect (frees what topo_connect and the mirror attached). */
void topo_close(zhandle_t *zh);
/* Create /midox and its fixed children if missing. */
int topo_ensure_root(zhandle_t *zh);

/* Read the whole tree into a snapshot. On a handle with a mirror, only what changed since
 * the last read is asked for (see topo_mirror_attach); otherwise everything is. */
int topo_read(zhandle_t *zh, struct topology *t);

/* Keep a mirror of the tree for the reads on zh: every node read stays under a watch, and
 * a read asks ZooKeeper only for the nodes whose watch fired since (and what is new below
 * them), serving the rest from memory. A write made through this library on zh is seen by
 * the next read on zh. on_change(ctx), if set, is called on the client's thread after
 * every change a watch reports (a wake-up: the caller reads again). The mirror lives until
 * topo_mirror_detach or topo_close; after the session expires, detach it (its watches are
 * gone) and attach one to the new handle. */
typedef void (*topo_change_fn)(void *ctx);
int topo_mirror_attach(zhandle_t *zh, topo_change_fn on_change, void *ctx);
void topo_mirror_detach(zhandle_t *zh);
/* What the mirror of zh has done, for logs, tests and the benchmark. -ENOENT: none. */
struct topo_mirror_stats {
	uint64_t reads;		/* reads through it */
	uint64_t served;	/* nodes (data, listings, existence) answered from memory */
	uint64_t asked;		/* nodes asked of ZooKeeper */
	uint64_t torn;		/* reads made again: something changed while they ran */
	size_t nodes;		/* nodes it holds */
};
int topo_mirror_stats(zhandle_t *zh, struct topo_mirror_stats *out);
void topo_free(struct topology *t);
/* Give each port and route its ordinal within its device (what aliases number) and build
 * the snapshot's lookups by id and by tunnel key, as topo_read does: for snapshots built
 * by hand (they are looked through linearly until then). Call it again after changing
 * the arrays; topo_index_free (or topo_free) releases what it built. 0 or -ENOMEM. */
int topo_index(struct topology *t);
void topo_index_free(struct topology *t);
/* What topo_read does to what it fetched, for snapshots built by hand from malloc'd arrays:
 * creation order; a later bridge, router or port claiming an earlier one's tunnel key left
 * out; what refers to a missing object left out (a half link cleared), each counted in
 * n_skipped; ordinals and indexes (topo_index). 0, or -ENOMEM with t freed. */
int topo_normalise(struct topology *t);

/* Find an object by UUID, name or alias (bridge0, host1, tzone0, router0; a port by
 * "<bridge or router ref>:portN" or UUID). NULL if none. */
const struct topo_host *topo_find_host(const struct topology *t, const char *ref);
const struct topo_zone *topo_find_zone(const struct topology *t, const char *ref);
const struct topo_bridge *topo_find_bridge(const struct topology *t, const char *ref);
const struct topo_port *topo_find_port(const struct topology *t, const char *ref);
const struct topo_port *topo_find_port_by_id(const struct topology *t, const char *id);
/* A port of one device by UUID or "portN" (its index on that device). */
const struct topo_port *topo_find_device_port(const struct topology *t, const char *device_id,
					      const char *ref);
const struct topo_host *topo_find_host_by_id(const struct topology *t, const char *id);
const struct topo_zone *topo_find_zone_by_id(const struct topology *t, const char *id);
const struct topo_bridge *topo_find_bridge_by_id(const struct topology *t, const char *id);
const struct topo_router *topo_find_router(const struct topology *t, const char *ref);
const struct topo_router *topo_find_router_by_id(const struct topology *t, const char *id);
/* A route by UUID or "<router ref>:routeN"; of one router also by "routeN". */
const struct topo_route *topo_find_route(const struct topology *t, const char *ref);
const struct topo_route *topo_find_router_route(const struct topology *t, const char *router_id,
						const char *ref);
const struct topo_route *topo_find_route_by_id(const struct topology *t, const char *id);
/* BGP peers and networks by UUID or "<router ref>:peerN" / "<router ref>:netN"; of one
 * router also by "peerN" / "netN". Looked through linearly: a router has few. */
const struct topo_bgp_peer *topo_find_bgp_peer(const struct topology *t, const char *ref);
const struct topo_bgp_peer *topo_find_router_bgp_peer(const struct topology *t,
						       const char *router_id, const char *ref);
const struct topo_bgp_peer *topo_find_bgp_peer_by_id(const struct topology *t, const char *id);
const struct topo_bgp_network *topo_find_bgp_network(const struct topology *t, const char *ref);
const struct topo_bgp_network *topo_find_router_bgp_network(const struct topology *t,
							     const char *router_id,
							     const char *ref);
const struct topo_bgp_network *topo_find_bgp_network_by_id(const struct topology *t,
							    const char *id);
/* A router's static ARP entry for addr (NULL if none). */
const struct topo_arp *topo_find_arp_static(const struct topology *t, const char *router_id,
					    struct in_addr addr);
/* The bridge, router or port holding a tunnel key (NULL if none). */
const struct topo_bridge *topo_bridge_by_key(const struct topology *t, uint32_t key);
const struct topo_router *topo_router_by_key(const struct topology *t, uint32_t key);
const struct topo_port *topo_port_by_key(const struct topology *t, uint32_t key);
/* The binding of a port (NULL if unbound) and of an interface on a host. */
const struct topo_binding *topo_find_port_binding(const struct topology *t, const char *port_id);
const struct topo_binding *topo_find_binding(const struct topology *t, const char *host_id,
					     const char *ifname);
/* Aliases as midonet-cli prints them: "bridge0", "bridge0:port1", "host0", "tzone0",
 * "router0", "router0:port0", "router0:route2", "router0:peer0", "router0:net0". */
int topo_alias(const struct topology *t, const char *id, char *buf, size_t len);

/* The agent's own writes. */
/* Read the host id from path, or create it (a new UUID) if the file does not exist. */
int topo_host_id_load(const char *path, char id[TOPO_ID_LEN]);
/* Create or update /midox/hosts/<id> (persistent) and its ephemeral liveness node. */
int topo_host_register(zhandle_t *zh, const char *host_id, const char *name);
/* Publish or withdraw a MAC learned on a local port (ephemeral). */
int topo_mac_publish(zhandle_t *zh, const char *host_id, const char *bridge_id,
		     const uint8_t mac[6], const char *port_id);
int topo_mac_withdraw(zhandle_t *zh, const char *bridge_id, const uint8_t mac[6],
		      const char *port_id);
/* Publish or withdraw an ARP entry a router port learned on this host (ephemeral). */
int topo_arp_publish(zhandle_t *zh, const char *host_id, const char *router_id,
		     struct in_addr addr, const uint8_t mac[6], const char *port_id);
int topo_arp_withdraw(zhandle_t *zh, const char *router_id, struct in_addr addr,
		      const uint8_t mac[6]);

/* Routes learned from BGP peers (the agent of the port's host): published as ephemeral
 * nodes named by a new UUID (into id), withdrawn by it, and listed as this session's
 * process published them (the agent's own, also after a restart that kept its session).
 * r: router_id, dst, port_id, gw, peer_id, weight. */
int topo_bgp_route_publish(zhandle_t *zh, const char *host_id, const struct topo_route *r,
			   char id[TOPO_ID_LEN]);
int topo_bgp_route_withdraw(zhandle_t *zh, const char *host_id, const char *id);
/* Every learned route under host_id (malloc'd; what does not parse is left out). */
int topo_bgp_routes_list(zhandle_t *zh, const char *host_id, struct topo_route **out,
			 size_t *n);

/* The agent at scale (thousands of learned routes): writes of learned routes sent as
 * multi-ops of at most TOPO_BGP_BATCH_MAX, without waiting for the answer. A batch is one
 * transaction: all of it happened or none. */
#define TOPO_BGP_BATCH_MAX 256
struct topo_bgp_write {
	bool withdraw;		/* delete the node r.id; else create it (ephemeral) with r */
	struct topo_route r;	/* r.id: the node's name (a new UUID for a create) */
	int rc;			/* the answer: ZOK, or the ZooKeeper error of this write */
};
/* Called on the ZooKeeper client's thread once the answers are in w[].rc; rc is the
 * multi-op's (ZOK: every write happened). */
typedef void (*topo_bgp_written_fn)(int rc, void *ctx);
/* Send w[0..n) (1..TOPO_BGP_BATCH_MAX of them) of host_id; w stays the caller's and must
 * live until done is called. 0: sent, done will be called exactly once; else a negative
 * errno, nothing sent and done not called (-EINVAL: a write that does not validate). */
int topo_bgp_routes_write_async(zhandle_t *zh, const char *host_id, struct topo_bgp_write *w,
				size_t n, topo_bgp_written_fn done, void *ctx);
/* Make host_id's container of learned routes without waiting (a write that found it
 * missing: ZNONODE); the answer is not needed, the next batch tells. */
void topo_bgp_routes_container_async(zhandle_t *zh, const char *host_id);

/* A BGP session as the speaker's BIRD reports it, published by the agent of the port's host
 * (ephemeral, /midox/hosts/<host>/bgp_status/<peer>): BIRD's protocol state ("up", "start",
 * "down"), since when, its information ("Established", "Active", "Error: Bad peer AS"...)
 * and how many of the peer's routes the router uses. */
struct topo_bgp_status {
	char peer_id[TOPO_ID_LEN];
	char state[16];
	char since[32];
	char info[128];
	uint32_t routes;
};
int topo_bgp_status_publish(zhandle_t *zh, const char *host_id, const struct topo_bgp_status *s);
int topo_bgp_status_withdraw(zhandle_t *zh, const char *host_id, const char *peer_id);
/* -ENOENT when host_id reports nothing of that peer. */
int topo_bgp_status_read(zhandle_t *zh, const char *host_id, const char *peer_id,
			 struct topo_bgp_status *out);

/* Access control (docs/zookeeper.md): ZooKeeper digest identities. Without a cluster
 * credential nothing is protected (open ACLs), as before. */
struct topo_cred {
	char user[64];
	char password[128];
};
/* A credential file: one line "user:password". */
int topo_cred_load(const char *path, struct topo_cred *c);
/* This host's identity "host-<id>" and its secret, kept in path (created once, mode 0600). */
int topo_host_cred_load(const char *path, const char *host_id, struct topo_cred *c);
/* Process-wide: with a cluster credential, every node this process creates gets "cluster:
 * all, world: read"; with host (an agent), its own host node and what its agent writes
 * below it (liveness, learned MACs and ARP entries) and its NAT leases also give that host
 * read, write, create and delete; /midox/nat and its address nodes give the agents' group
 * create and delete. cluster NULL: open ACLs. */
int topo_acl_setup(const struct topo_cred *cluster, const struct topo_cred *host,
		   const char *host_id);
bool topo_acl_enabled(void);
/* The ACL a node at path gets when this process creates it (open without a credential). */
const struct ACL_vector *topo_acl_for(const char *path);
/* Present a credential on a session (again after every reconnect, by the client). */
int topo_auth_add(zhandle_t *zh, const struct topo_cred *c);
/* The agents' group identity ("midox-agents"), derived from the cluster credential: an
 * agent presents it beside its host identity to take and give back NAT port blocks. */
int topo_agents_cred(const struct topo_cred *cluster, struct topo_cred *out);
/* With the cluster credential on zh: create this host's node and containers (or fix their
 * ACLs) so that its agent, with the host identity alone, can register and publish; and
 * the NAT leases' container (topo_nat_provision). */
int topo_host_provision(zhandle_t *zh, const char *host_id, const char *name);
/* With the cluster credential on zh: /midox/nat and every address node below it made (or
 * fixed) to let the agents' group create and delete leases (a tree secured before the
 * group existed gave them the cluster's ACL). */
int topo_nat_provision(zhandle_t *zh);

/* Parsing and formatting shared by CLI, agent and tests. */
int topo_parse_mac(const char *s, uint8_t mac[6]);
void topo_format_mac(const uint8_t mac[6], char buf[18]);
int topo_parse_ipv4(const char *s, struct in_addr *addr);
bool topo_valid_name(const char *s);
bool topo_valid_uuid(const char *s);
bool topo_valid_ifname(const char *s);
bool topo_valid_unicast_mac(const uint8_t mac[6]);	/* not zero, not multicast */
bool topo_valid_unicast_ipv4(struct in_addr addr);	/* not 0/8, multicast, broadcast */
/* "a.b.c.d/len", len 0..32 in decimal. The address keeps its host bits. */
int topo_parse_cidr(const char *s, struct topo_cidr *c);
void topo_format_cidr(const struct topo_cidr *c, char buf[TOPO_CIDR_STRLEN]);
struct in_addr topo_cidr_network(const struct topo_cidr *c); /* host bits cleared */
bool topo_cidr_is_network(const struct topo_cidr *c);	/* no host bits set */
bool topo_cidr_contains(const struct topo_cidr *net, struct in_addr addr);
bool topo_cidr_overlap(const struct topo_cidr *a, const struct topo_cidr *b);
/* "normal", "blackhole", "reject". */
const char *topo_route_type_name(enum topo_route_type type);
int topo_parse_route_type(const char *s, enum topo_route_type *type);
int topo_new_uuid(char id[TOPO_ID_LEN]);

/* Why the last call on this thread failed, as one line for a user ("" if unknown). Every
 * function above and below that fails sets it. */
const char *topo_errmsg(void);
/* Set this thread's message (for topo_errmsg) and return err, a negative errno. */
int topo_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The encoding of each znode: topology/codec.h. */

/* The CLI's writes. Each is one zoo_multi with version checks on what it depends on,
 * validated against a fresh snapshot and retried when a concurrent writer got there first:
 * the topology is never half-written. Errors: -EINVAL (bad value), -ENOENT (no such
 * object), -EEXIST (duplicate name, already bound, already a member), -ENOSPC (tunnel keys
 * exhausted), -EBUSY (kept losing races), ZooKeeper errors as above. */
/* A bridge port's own fields (topo_port_update refuses router ports). */
struct topo_port_opts {
	bool has_mac;
	uint8_t mac[6];
	bool has_addr;
	struct in_addr addr;
	bool clear_mac, clear_addr;	/* remove the fixed MAC, address */
	bool has_state;
	bool down;
	bool has_port_security;
	bool port_security;
	bool has_egress_limit;  /* set egress_rate and egress_burst (both) */
	bool clear_egress_limit;
	uint64_t egress_rate, egress_burst;
};
int topo_zone_create(zhandle_t *zh, const char *name, const char *type, char id[TOPO_ID_LEN]);
int topo_zone_delete(zhandle_t *zh, const char *zone_id);
int topo_member_add(zhandle_t *zh, const char *zone_id, const char *host_id,
		    struct in_addr addr);
int topo_member_delete(zhandle_t *zh, const char *zone_id, const char *host_id);
int topo_bridge_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]);
int topo_bridge_delete(zhandle_t *zh, const char *bridge_id);
int topo_port_create(zhandle_t *zh, const char *bridge_id, const struct topo_port_opts *o,
		     char id[TOPO_ID_LEN]);
/* A port bound to interface ifname of host_id at once (one multi: both or neither). */
int topo_port_create_bound(zhandle_t *zh, const char *bridge_id, const struct topo_port_opts *o,
			   const char *host_id, const char *ifname, char id[TOPO_ID_LEN]);
/* Set the fields o has; the others stay. A router port takes the state and the egress limit
 * only. */
int topo_port_update(zhandle_t *zh, const char *port_id, const struct topo_port_opts *o);
/* A bridge port's allowed address pairs: add (mac NULL: the port's own MAC; -EEXIST if
 * addr is one already, -ENOSPC past TOPO_PORT_MAX_ALLOWED) or delete (-ENOENT). */
int topo_port_allowed_add(zhandle_t *zh, const char *port_id, struct in_addr addr,
			  const uint8_t *mac);
int topo_port_allowed_delete(zhandle_t *zh, const char *port_id, struct in_addr addr);
/* A bridge's or a router's admin state: a down device forwards nothing. */
int topo_bridge_set_state(zhandle_t *zh, const char *bridge_id, bool down);
int topo_router_set_state(zhandle_t *zh, const char *router_id, bool down);
/* A router's state and its BGP AS number (1..TOPO_ASN_MAX) in one write: the fields o has. */
struct topo_router_opts {
	bool has_state;
	bool down;
	bool has_asn;
	uint32_t asn;
};
int topo_router_update(zhandle_t *zh, const char *router_id, const struct topo_router_opts *o);
/* With its binding, its link (the peer's end cleared), and a bridge port's learned MACs or
 * a router port's routes and learned ARP entries. */
int topo_port_delete(zhandle_t *zh, const char *port_id);
/* Routers. A router port gets the given addresses (1..TOPO_PORT_MAX_NETS, each an address
 * with its subnet length), a generated MAC unless o has one, and for each subnet a port
 * route, all in the same multi. */
struct topo_router_port_opts {
	struct topo_cidr nets[TOPO_PORT_MAX_NETS];
	size_t n_nets;
	bool has_mac;
	uint8_t mac[6];
};
int topo_router_create(zhandle_t *zh, const char *name, char id[TOPO_ID_LEN]);
/* The router, its ports (unlinking their peers), their bindings, routes and ARP entries. */
int topo_router_delete(zhandle_t *zh, const char *router_id);
int topo_router_port_create(zhandle_t *zh, const char *router_id,
			    const struct topo_router_port_opts *o, char id[TOPO_ID_LEN]);
/* Link two ports of different devices as interior peers (neither bound nor linked), or
 * unlink a port from its peer (both ends cleared). */
int topo_port_link(zhandle_t *zh, const char *port_id, const char *peer_id);
int topo_port_unlink(zhandle_t *zh, const char *port_id);
/* A route of a router: r's router_id, src, dst, type, port_id, gw, weight are used; its id
 * is returned in id. */
int topo_route_add(zhandle_t *zh, const struct topo_route *r, char id[TOPO_ID_LEN]);
int topo_route_delete(zhandle_t *zh, const char *route_id);
int topo_arp_static_add(zhandle_t *zh, const char *router_id, struct in_addr addr,
			const uint8_t mac[6]);
/* A BGP peer of a router: p's router_id, asn, addr, timers and password are used (timers
 * 0: the defaults). Its address must lie in a subnet of one of the router's ports (the
 * error names them) and not be one of the router's own; one peer per address (-EEXIST). */
int topo_bgp_peer_add(zhandle_t *zh, const struct topo_bgp_peer *p, char id[TOPO_ID_LEN]);
int topo_bgp_peer_delete(zhandle_t *zh, const char *peer_id);
/* A network the router advertises to its peers: a prefix without host bits, once. */
int topo_bgp_network_add(zhandle_t *zh, const char *router_id, const struct topo_cidr *net,
			 char id[TOPO_ID_LEN]);
int topo_bgp_network_delete(zhandle_t *zh, const char *network_id);
/* A peer's password: 1..80 printable ASCII characters, no '"' or '\\' (it goes into a
 * BGP daemon's configuration). */
bool topo_valid_bgp_password(const char *s);
int topo_arp_static_delete(zhandle_t *zh, const char *router_id, struct in_addr addr);
/* A linked (interior) port cannot be bound: -EEXIST. */
int topo_binding_add(zhandle_t *zh, const char *host_id, const char *ifname,
		     const char *port_id);
int topo_binding_delete(zhandle_t *zh, const char *host_id, const char *ifname);
/* Delete /midox and everything under it (not atomic). For tests and resets. */
int topo_wipe(zhandle_t *zh);

#endif
