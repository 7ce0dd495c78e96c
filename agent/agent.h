/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's state, shared by its parts: main loop, reconcile, learning. */
#ifndef MIDOX_AGENT_H
#define MIDOX_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bgp/bgp.h"
#include "chain_compile.h"
#include "config.h"
#include "http.h"
#include "ifnames.h"
#include "natlease_policy.h"
#include "neigh_probe.h"
#include "base/index.h"
#include "loader/loader.h"
#include "session.h"
#include "slots.h"
#include "topology/topology.h"

/* Something this host's datapath learned and the agent publishes in ZooKeeper: a MAC on a
 * bridge port (MX_MAP_ID_FDB) or a neighbour of a router port (MX_MAP_ID_NEIGH). */
struct learned {
	enum mx_map_id map;
	union {
		struct mx_fdb_key fdb;
		struct mx_neigh_key neigh;
	} key;
	__u32 port_key;
	__u8 mac[6];
	__u8 pad[2];
};

/* Entries by value, with a hash index over their bytes: a tick checks each learned entry
 * against the published ones (and back) in constant time, not by a scan of the other set. */
struct learned_set {
	struct learned *items;
	size_t n, cap;
	struct index ix;
};

/* Pass durations of the reconcile histogram, upper bounds in seconds (then +Inf). */
#define AGENT_PASS_BUCKETS 8
extern const double agent_pass_bucket_s[AGENT_PASS_BUCKETS];

/* What the agent did since start, for its metrics (metrics.c); kept off the packet path. */
struct agent_counters {
	double start_time_s;     /* Unix time */
	uint64_t passes;         /* reconcile passes, failed ones included */
	uint64_t read_errors;    /* the topology could not be read */
	uint64_t apply_errors;   /* computing or writing the maps or attachments failed */
	uint64_t pass_ns_sum;
	uint64_t pass_buckets[AGENT_PASS_BUCKETS + 1]; /* per bucket, the last +Inf */
	uint64_t synced[MX_MAP_ID__MAX][3]; /* entries added, changed, removed */
	uint64_t chain_installs;       /* rule chain versions installed (chains.c) */
	uint64_t chain_install_errors; /* compiles or installs that failed (the live one stayed) */
};

/* Connection tracking's sweep (conntrack.c). */
struct agent_ct {
	uint64_t last_sweep_ns; /* mx_now_ns() */
	uint64_t sweeps, sweep_errors;
	uint64_t removed;       /* idle connections the sweeps freed */
	uint32_t entries;       /* connections left after the last sweep */
};

/* Dynamic SNAT's port blocks this host leased (natlease.c, docs/nat.md). */
#define AGENT_NAT_ADDRS_PER_RULE 256 /* addresses of one rule's range that get leases */
#define AGENT_NAT_PORT_LO 1024       /* a target without ports: 1024-65535, the datapath's */
struct nat_block {
	uint16_t block;
	bool confirmed;           /* a resync found its node, this session's */
	struct nlp_block step;    /* what the release rule reads */
};
struct nat_addr {
	__be32 addr;
	bool wanted;              /* a dynamic SNAT rule of the topology targets it */
	uint16_t port_lo, port_hi; /* the union of those rules' port ranges */
	struct nat_block blocks[MX_NAT_LEASE_BLOCKS_MAX]; /* in the map's order */
	unsigned int n_blocks;
	unsigned int tried;       /* candidates tried since the last block was taken */
	uint64_t retry_ns;        /* no block to be had: not looked for before this */
	bool starved;             /* that was said (once, until a block is had) */
	unsigned int max_dest;    /* most ports one destination used, last count */
};
struct agent_natlease {
	struct nat_addr *addrs;
	size_t n, cap;
	uint64_t last_tick_ns;
	bool synced;              /* the map and this session's nodes were made one */
	bool need_resync;         /* the session expired: its nodes are gone */
	bool cap_warned;
	uint64_t taken, released; /* blocks leased and given back since start */
	uint64_t lease_failures;  /* a block wanted and none could be had */
	uint64_t lost;            /* blocks another host took while our session was gone */
	uint64_t exhausted;       /* the datapath's nat-exhausted drops at the last tick */
	bool have_exhausted;
};

/* The datapath prepared on a thread of its own at start (startup.c). */
struct agent_loader {
	pthread_t thread;
	bool running;     /* started and not joined yet */
	atomic_bool done; /* set by the thread when err is final */
	int err;
};

struct agent {
	struct agent_config cfg;
	char host_id[TOPO_ID_LEN];
	struct session zk;
	struct mx_datapath *dp; /* the loader's until its thread is joined */
	struct agent_loader loader;
	int link_fd;
	struct ifnames ifnames; /* bound interfaces' indexes until a link event */
	struct topology topo;   /* the last snapshot that was applied */
	bool have_topo;
	struct topology prefetched; /* read while the datapath loaded (agent_prefetch) */
	bool have_prefetched;
	uint64_t prefetched_events; /* zk.events when that read began */
	bool registered;        /* host and liveness written in this session */
	bool programs_replaced; /* every attachment renewed since start (upgrade) */
	/* The interfaces the last pass left a program of this agent on, sorted; a pass asks the
	 * kernel only about the others, and detaches only from these, unless attach_scan (the
	 * first pass, the safety net's) has it check every interface of the host. */
	__u32 *attached;
	size_t n_attached;
	bool attach_scan;
	__be32 *peers;          /* tunnel peers, for neighbour priming */
	size_t n_peers;
	struct learned_set published;
	struct agent_neigh_probe neigh_probe; /* ageing neighbours asked by ARP (neigh_probe.c) */
	struct agent_status *status; /* what status.c reported (NULL until the first report) */
	struct agent_counters counters;
	struct http_server metrics;  /* off (listen_fd -1) unless metrics_address is set */
	struct bgp_manager bgp;      /* this host's BGP speakers (agent/bgp) */
	struct mx_chain_maps chain_maps; /* the datapath's chain maps (chains.c) */
	struct cc_program chains;    /* what this agent installed last */
	bool chains_installed;
	struct agent_ct ct;
	struct stats_slots slots;    /* the ports' counter slots (slots.h) */
	bool have_slots;             /* read back from the pins at the first pass */
	struct agent_natlease natlease; /* dynamic SNAT's port blocks (natlease.c) */
};

/* With access control: this host's subtree and the NAT leases' container made or fixed with
 * the cluster credential, on a short session of its own (main.c). 0 or a negative errno. */
int agent_provision(struct agent *a);

/* On a thread of its own (after session_open, whose eventfd it wakes when done): load the
 * datapath, open the chain maps, reattach the programs where the pins say (startup.c). */
int agent_datapath_start(struct agent *a);
/* Whether that thread has finished; its result, once joined (non-zero: failed, logged). */
bool agent_datapath_done(const struct agent *a);
int agent_datapath_join(struct agent *a);
/* Read the topology while the datapath loads and keep it for the first pass, which takes it
 * when no event came from ZooKeeper since the read began (else it reads again, mostly from
 * the mirror this read filled). */
void agent_prefetch(struct agent *a);
/* Read the topology, compute what the maps must hold, make them so. Nothing is changed
 * when the topology cannot be read. */
int agent_reconcile(struct agent *a);
/* At start, before ZooKeeper answers: bring this agent's programs to every interface the
 * pinned maps say is bound (an upgrade must not wait for the control plane). */
void agent_reattach_pinned(struct agent *a);
/* The datapath's chain maps taken at start (pinned with the others, reused as they are);
 * the resolved chains compiled and installed when they changed (chains.c). */
void agent_chains_open(struct agent *a);
int agent_chains_apply(struct agent *a, const struct df_chains *c);
void agent_chains_close(struct agent *a);
/* --verify: the live version of the chain maps under pin_root against the compiled c, each
 * difference printed and counted in *diffs (no chain maps pinned: one). */
int agent_chains_verify(const char *pin_root, const struct df_chains *c, unsigned int *diffs);
/* Connection tracking: the configured timeouts into midox_ctcfg (at start, once the
 * datapath is loaded); the sweep of idle connections when its period has passed. */
int agent_ct_start(struct agent *a);
void agent_ct_tick(struct agent *a);
/* Dynamic SNAT's port blocks: the addresses the topology's rules need (after every pass);
 * the leases, the counting and the map, once a second; a session expiry makes the next
 * tick lease this host's blocks again; the blocks held, for the metrics; at exit. */
void agent_natlease_want(struct agent *a, const struct topology *t);
void agent_natlease_tick(struct agent *a);
void agent_natlease_expired(struct agent *a);
unsigned int agent_natlease_blocks(const struct agent *a);
void agent_natlease_free(struct agent *a);
/* Publish MACs and neighbours learned here, withdraw those aged out or gone. */
int agent_learn_tick(struct agent *a);
/* After a session expiry nothing is published any more. */
void agent_learn_forget(struct agent *a);
/* At exit: the published set's memory. */
void agent_learn_free(struct agent *a);
/* Report this host's interfaces and the state of each binding (status.c): only what
 * changed is written; a binding's change of state is logged once. Non-zero: something
 * is still to be written (try again later). */
int agent_status_update(struct agent *a);
/* After a session expiry: everything is reported again. At exit: its memory. */
void agent_status_forget(struct agent *a);
void agent_status_free(struct agent *a);
/* A link or address of the host changed (or may have: a resync): the next report reads
 * the interfaces again, which it otherwise keeps from the last. */
void agent_status_links_changed(struct agent *a);
/* The Prometheus text exposition of the agent (a struct agent) into out; http_render_fn. */
void agent_metrics_render(void *agent, struct textbuf *out);

/* Resolve the underlay neighbours of every tunnel peer. */
void agent_prime_neighbours(struct agent *a);

/* -EPERM (logged with the fix) when running under `ip netns exec`: a mount namespace whose
 * /sys/fs/bpf is not the host's, where pins vanish with the process. */
int agent_check_mount_ns(void);

#endif
