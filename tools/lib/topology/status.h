/* SPDX-License-Identifier: Apache-2.0 */
/* What agents report of their host, as ephemeral nodes of their session (docs/zookeeper.md,
 * "Host status"): its interfaces with their addresses, and whether each binding is active.
 * Not part of the snapshot (no agent reads another's): read per host by the CLI. */
#ifndef MIDOX_TOPOLOGY_STATUS_H
#define MIDOX_TOPOLOGY_STATUS_H

#include "topology.h"

#define TOPO_IF_ADDRS_MAX 16	/* addresses of one interface kept in a report */
#define TOPO_IF_ADDR_STRLEN 52	/* an IPv6 address, "/128" and its NUL */
#define TOPO_REASON_MAX 128

/* An interface of a host as its agent saw it. */
struct topo_iface {
	char name[TOPO_IFNAME_MAX];
	bool up;	/* administratively up (IFF_UP) */
	bool carrier;	/* the link is running (IFF_RUNNING) */
	uint32_t mtu;
	bool has_mac;
	uint8_t mac[6];
	char addrs[TOPO_IF_ADDRS_MAX][TOPO_IF_ADDR_STRLEN]; /* "a.b.c.d/len", "x::y/len" */
	size_t n_addrs;
};

/* A binding as its agent applied it: active means the program is attached to the
 * interface, the port's map entries are in place, the interface is up with a carrier and
 * its MTU fits the tunnel (docs/architecture.md, "Binding status"); else the reason. */
struct topo_binding_status {
	char interface[TOPO_IFNAME_MAX];
	char port_id[TOPO_ID_LEN];
	bool active;
	char reason[TOPO_REASON_MAX];
};

/* One host's report. Not reported (no interfaces): its agent is not running, or not yet. */
struct topo_host_status {
	bool reported;
	struct topo_iface *ifaces;	/* by name */
	size_t n_ifaces;
	struct topo_binding_status *bindings;
	size_t n_bindings;
	size_t n_skipped;	/* nodes that did not parse: logged and left out */
};

/* The two directories of a host's report. */
enum topo_status_dir { TOPO_STATUS_IFACES, TOPO_STATUS_BINDINGS };

/* Read one host's report (no watch). */
int topo_host_status_read(zhandle_t *zh, const char *host_id, struct topo_host_status *s);
/* Only one interface's report (one read; two when the host has none of that name): what
 * adding a binding shows, without reading every node of a host with many. Not the
 * binding's status: a binding just made has none yet (the agent reports after it saw it),
 * and one left from an earlier binding of the interface is no answer. */
int topo_host_status_read_one(zhandle_t *zh, const char *host_id, const char *ifname,
			      struct topo_host_status *s);
/* The same in two halves, so that its round trip overlaps another (a write's): _ask sends
 * the read, _take waits for its answer and finishes as topo_host_status_read_one does
 * (freeing the ask). An ask not taken is freed with topo_host_status_ask_free, which waits
 * for its answer first. */
struct topo_status_ask;
int topo_host_status_ask_one(zhandle_t *zh, const char *host_id, const char *ifname,
			     struct topo_status_ask **out);
int topo_host_status_take_one(zhandle_t *zh, struct topo_status_ask *a,
			      struct topo_host_status *s);
void topo_host_status_ask_free(struct topo_status_ask *a);
/* One binding's status as its agent last reported it (one read): -ENOENT when there is
 * none (the agent has not seen the binding yet, or is not running). What a CNI plugin
 * polls after binding a pod's interface; compare its port with the one just bound. */
int topo_binding_status_read(zhandle_t *zh, const char *host_id, const char *ifname,
			     struct topo_binding_status *out);
void topo_host_status_free(struct topo_host_status *s);
const struct topo_iface *topo_status_iface(const struct topo_host_status *s, const char *name);
const struct topo_binding_status *topo_status_binding(const struct topo_host_status *s,
						      const char *ifname);
/* Whether an interface of the report has the IPv4 address a. */
bool topo_status_has_ipv4(const struct topo_host_status *s, struct in_addr a);

/* The agent's writes, under its own host. */
/* Make the directory if missing (an older agent registered the host without it). */
int topo_status_dir_ensure(zhandle_t *zh, const char *host_id, enum topo_status_dir dir);
/* The names the directory holds now (sv freed with deallocate_String_vector). */
int topo_status_list(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		     struct String_vector *sv);
/* Create the ephemeral node name with data, or set it if this session has it with other
 * data (nothing is written when it holds data already); another session's is replaced. */
int topo_status_put(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		    const char *name, const char *data);
int topo_status_remove(zhandle_t *zh, const char *host_id, enum topo_status_dir dir,
		       const char *name);

/* A dead host (no live agent session), with its bindings (both sides), its tunnel zone
 * memberships and all it holds. -EBUSY while its agent is alive. */
int topo_host_delete(zhandle_t *zh, const char *host_id);

#endif
