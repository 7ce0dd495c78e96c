/* SPDX-License-Identifier: Apache-2.0 */
/* midox-cni: a CNI plugin (specification 1.0.0 and 1.1.0) that puts a pod's interface on a
 * midox bridge: a veth into the pod, a port with the pod's MAC and address fixed, its
 * binding on this host, and the wait for this host's agent to report it active. */
#ifndef MIDOX_CNI_H
#define MIDOX_CNI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "topology/topology.h"

/* The specification's error codes, then midox's own (from 100). */
enum cni_code {
	CNI_ERR_VERSION = 1,	/* incompatible CNI version */
	CNI_ERR_FIELD = 2,	/* unsupported field in the network configuration */
	CNI_ERR_CONTAINER = 3,	/* container unknown or does not exist */
	CNI_ERR_ENV = 4,	/* invalid necessary environment variables */
	CNI_ERR_IO = 5,		/* I/O failure */
	CNI_ERR_DECODE = 6,	/* failed to decode content */
	CNI_ERR_CONFIG = 7,	/* invalid network configuration */
	CNI_ERR_TRY_AGAIN = 11,	/* try again later */
	CNI_ERR_UNAVAILABLE = 50, /* STATUS: the plugin cannot serve ADD now */
	CNI_ERR_UNAVAILABLE_LIMITED = 51, /* STATUS: and existing pods may be cut off */
	MIDOX_ERR_TOPOLOGY = 100, /* ZooKeeper refused a read or write */
	MIDOX_ERR_NO_BRIDGE = 101, /* the configured bridge does not exist */
	MIDOX_ERR_AGENT = 102,	/* this host's agent is not running (or never registered) */
	MIDOX_ERR_NOT_ACTIVE = 103, /* the binding did not become active in time */
	MIDOX_ERR_IFNAME_TAKEN = 104, /* CNI_IFNAME exists in the pod, or the attachment does */
	MIDOX_ERR_IPAM = 105,	/* the IPAM plugin is missing or its answer unusable */
	MIDOX_ERR_CHECK = 106,	/* CHECK found the attachment not as ADD made it */
	MIDOX_ERR_NO_BLOCK = 107, /* nodeBlockSize: every block of the subnet is claimed */
};

#define CNI_DEFAULT_ZK "127.0.0.1:2181"
#define CNI_DEFAULT_HOST_ID_FILE "/var/lib/midox/host_uuid"
#define CNI_DEFAULT_DATA_DIR "/var/lib/cni/midox"
#define CNI_DEFAULT_MTU 1450
#define CNI_DEFAULT_WAIT_S 5.0
#define CNI_ZK_TIMEOUT_MS 3000
#define CNI_VETH_PREFIX "mxc"
/* The node's gateway (gateway.c): its IPAM attachment and its bridge end's prefix. */
#define CNI_NODE_GW_ID "midox-node-gateway"
#define CNI_NODE_GW_PREFIX "mxg"
#define CNI_DEFAULT_NODE_IF "mxnode0"

/* The runtime's environment. */
struct cni_env {
	const char *command, *container_id, *netns, *ifname, *path;
};

/* The network configuration (stdin). Strings point into root. */
struct cni_conf {
	json_t *root;
	const char *version;
	const char *name;
	const char *bridge;
	bool create_bridge;
	const char *zookeeper;
	const char *credentials_file;
	const char *host_id_file;
	const char *data_dir;
	const char *pin_root;	/* the agent's pin_root: CHECK reads its maps there */
	unsigned int mtu;
	double wait_s;
	json_t *ipam;		/* the "ipam" object, NULL if none */
	const char *ipam_type;
	/* The pod's bandwidth (the "bandwidth" capability's runtimeConfig, else the same keys
	 * in the configuration): bits per second and bits, 0 for none. Egress (what the pod
	 * sends) is its port's egress limit in midox's datapath; ingress a tbf on the node's
	 * end. */
	uint64_t egress_rate, egress_burst, ingress_rate, ingress_burst;
	bool node_gateway;	/* "nodeGateway": give the node an address on the bridge */
	const char *node_if;	/* "nodeInterface": the node's end of it */
	json_t *prev_result;	/* CHECK, and chained DEL */
	json_t *valid_attachments; /* GC: "cni.dev/valid-attachments" */
	unsigned int node_block_len; /* "nodeBlockSize": this node's block's prefix, 0: none */
};

#define CNI_ROUTES_MAX 32

struct cni_route {
	struct in_addr dst;
	int dst_len;
	bool has_gw;
	struct in_addr gw;
};

/* What the IPAM plugin gave: one IPv4 address (midox carries IPv4), routes, DNS. */
struct cni_ipam {
	bool succeeded;		/* the plugin said yes (it may hold a lease, whatever it gave) */
	json_t *result;		/* its whole answer */
	struct in_addr addr;
	int prefix_len;
	bool has_gw;
	struct in_addr gw;
	struct cni_route routes[CNI_ROUTES_MAX];
	size_t n_routes;
};

/* Record why the command failed (the first failure only: what an undo meets later is
 * logged, not reported) and return err, a negative errno. */
int cni_fail(int err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool cni_failed(void);
int cni_fail_code(void);
const char *cni_fail_msg(void);
void cni_fail_reset(void); /* for tests: forget the recorded failure */
void cni_fail_set_code(int code);
/* Print the recorded error as the specification's JSON on stdout. */
void cni_print_error(const char *version);

/* conf.c */
int cni_env_read(struct cni_env *e);
int cni_conf_parse(const char *text, struct cni_conf *c);
void cni_conf_free(struct cni_conf *c);
/* Whether the command needs this variable ("CNI_NETNS" for ADD...): -EINVAL recorded. */
int cni_env_require(const struct cni_env *e);
bool cni_version_ok(const char *v);

/* ipam.c: run the IPAM plugin for command (ADD, DEL, CHECK) with the runtime's
 * environment, container id and ifname overridden (GC deletes other attachments). */
int cni_ipam_exec(const struct cni_conf *c, const struct cni_env *e, const char *command,
		  const char *container_id, const char *ifname, struct cni_ipam *out);
void cni_ipam_free(struct cni_ipam *r);
/* Whether the IPAM plugin speaks CNI 1.1.0 (its VERSION answer): Debian 12's do not. */
int cni_ipam_speaks_1_1(const struct cni_conf *c, const struct cni_env *e, bool *yes);
/* STATUS or GC to a plugin that speaks 1.1.0, with the configuration as it came. */
int cni_ipam_exec_native(const struct cni_conf *c, const struct cni_env *e, const char *command);
/* The IPv4 address and routes of a result (IPAM's answer or a prevResult). */
int cni_ipam_parse(json_t *result, struct cni_ipam *out);

/* nl.c: rtnetlink. Every call 0 or the kernel's -errno. */
struct nl_link {
	int index;
	bool up;
	unsigned int mtu;
	uint8_t mac[6];
};
int nl_open(int *fd);
int nl_open_in(int ns_fd, int *fd);
int nl_veth_create(int fd, const char *host_if, const char *pod_if, int pod_ns_fd,
		   const uint8_t mac[6], unsigned int mtu);
int nl_link_get(int fd, const char *name, struct nl_link *out); /* -ENODEV: none */
int nl_link_up(int fd, int index);
int nl_link_delete(int fd, const char *name);	/* 0 when already gone */
int nl_addr_add(int fd, int index, struct in_addr addr, int prefix_len);
int nl_addr_has(int fd, int index, struct in_addr addr, int prefix_len); /* 1, 0, -errno */
int nl_route_add(int fd, int index, struct in_addr dst, int dst_len, const struct in_addr *gw);
int cni_random_mac(uint8_t mac[6]);	/* unicast, locally administered; -EIO recorded */
int nl_tbf_set(int fd, int index, uint64_t rate, uint32_t burst, uint32_t limit);

/* state.c: what ADD made, one file per attachment under data_dir, named by container id
 * and ifname, for DEL and GC. */
struct cni_state {
	char container_id[256];
	char ifname[TOPO_IFNAME_MAX];
	char host_if[TOPO_IFNAME_MAX];
	char host_id[TOPO_ID_LEN];
	char port_id[TOPO_ID_LEN]; /* "" until the port exists */
};
int cni_state_write(const char *dir, const struct cni_state *s);
int cni_state_read(const char *dir, const char *container_id, const char *ifname,
		   struct cni_state *s); /* -ENOENT: none */
int cni_state_remove(const char *dir, const char *container_id, const char *ifname);
/* Call fn for every attachment recorded (stops at the first error). */
int cni_state_each(const char *dir, int (*fn)(const struct cni_state *s, void *ctx), void *ctx);
/* One ADD at a time on this node where it makes the node's own things (its block, its
 * gateway): a lock on dataDir itself, held until *fd is closed; no file is left. */
int cni_data_dir_lock(const struct cni_conf *c, int *fd);
/* The host side's name: "mxc" and 12 hex digits of a hash of container id and ifname. */
void cni_host_ifname(const char *container_id, const char *ifname,
		     char out[TOPO_IFNAME_MAX]);
/* The bridge end of the node's gateway: "mxg" and the same hash of its IPAM attachment. */
void cni_node_gw_ifname(const char *node_if, char out[TOPO_IFNAME_MAX]);

/* node.c: ZooKeeper and this host. */
struct cni_node {
	zhandle_t *zh;
	struct topology t;
	bool have_t;
	char host_id[TOPO_ID_LEN];
};
int cni_node_connect(const struct cni_conf *c, struct cni_node *n);
int cni_node_host_id(const struct cni_conf *c, struct cni_node *n);
int cni_node_refresh(struct cni_node *n);
/* This host registered and its agent alive (MIDOX_ERR_AGENT recorded otherwise). */
int cni_node_agent_alive(struct cni_node *n, int code);
void cni_node_close(struct cni_node *n);
/* Until this host's agent reports host_if's binding active for port_id (what names the
 * port in the error), or the configured wait is over: MIDOX_ERR_AGENT or
 * MIDOX_ERR_NOT_ACTIVE recorded. */
int cni_wait_active(const struct cni_conf *c, struct cni_node *n, const char *host_if,
		    const char *port_id, const char *what);

/* gateway.c: with "nodeGateway", make or mend the node's gateway on the bridge. */
int cni_node_gw_ensure(const struct cni_conf *c, const struct cni_env *e, struct cni_node *n,
		       const char *bridge_id);
/* Why ZooKeeper refused a write: topo_errmsg(), or for -EACCES what to configure. */
const char *cni_zk_why(int rc, const struct cni_conf *c);

/* The commands. Each prints its result on stdout when it succeeds. */
int cni_cmd_add(const struct cni_conf *c, const struct cni_env *e);
int cni_cmd_del(const struct cni_conf *c, const struct cni_env *e);
int cni_cmd_check(const struct cni_conf *c, const struct cni_env *e);
int cni_cmd_gc(const struct cni_conf *c, const struct cni_env *e);
int cni_cmd_status(const struct cni_conf *c, const struct cni_env *e);
/* Undo one attachment (DEL, GC, a failed ADD's clean-up); tolerant of what is gone. */
int cni_detach(const struct cni_conf *c, const struct cni_env *e, struct cni_node *n,
	       const char *container_id, const char *ifname);

/* block.c: one pod subnet shared by the nodes, split into blocks ("nodeBlockSize", a prefix
 * length); each node claims one in ZooKeeper and host-local leases from it alone. */
struct cni_block_pool {
	json_t *range;		/* the object with "subnet" (ipam, or its one range) */
	uint32_t net;		/* the subnet, host order */
	unsigned int net_len, block_len;
	uint32_t gw;		/* "gateway", else host-local's own: the subnet's first address */
	uint32_t first, last;	/* what may be leased: rangeStart..rangeEnd within the subnet,
				 * never its network or broadcast address */
};
/* The pool of ipam (host-local's one range, or its legacy top-level "subnet") for blocks
 * of block_len; CNI_ERR_CONFIG recorded when it does not fit. */
int cni_block_pool_read(json_t *ipam, unsigned int block_len, struct cni_block_pool *p);
/* "nodeBlockSize" of the configuration, checked against its ipam section and name. */
int cni_block_conf_parse(struct cni_conf *c);
uint32_t cni_block_count(const struct cni_block_pool *p);
/* What block index may lease (gateway, network and broadcast left out): false if nothing. */
bool cni_block_bounds(const struct cni_block_pool *p, uint32_t index, uint32_t *lo,
		      uint32_t *hi);
/* A block's ZooKeeper name "a.b.c.d-len", and back (-EINVAL: not one). */
void cni_block_name(const struct cni_block_pool *p, uint32_t index, char buf[24]);
int cni_block_name_parse(const char *name, uint32_t *start, unsigned int *len);
/* The index of the block at start, -1 if it is not one of the pool's (another subnet or
 * length). */
long cni_block_index(const struct cni_block_pool *p, uint32_t start, unsigned int len);
/* taken: one bit per block. Mark those a claim start/len overlaps; the first block from
 * index from not marked and with something to lease, -1 if none. */
void cni_block_mark(const struct cni_block_pool *p, uint8_t *taken, uint32_t start,
		    unsigned int len);
long cni_block_next_free(const struct cni_block_pool *p, const uint8_t *taken, uint32_t from);
/* Restrict the pool's range to block index: rangeStart and rangeEnd its bounds. */
int cni_block_narrow(const struct cni_block_pool *p, uint32_t index);
/* ADD: this node's block (kept, or claimed now) and c's ipam narrowed to it. Nothing
 * without nodeBlockSize. */
int cni_block_claim(const struct cni_conf *c, struct cni_node *n);

#endif
