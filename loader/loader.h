/* SPDX-License-Identifier: Apache-2.0 */
/* The datapath's life cycle and typed map access, shared by agent, CLI and tests.
 * Every function returns 0 or a negative errno. */
#ifndef MIDOX_LOADER_H
#define MIDOX_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "midox/bgp.h"
#include "midox/ratelimit.h"
#include "midox/bridge.h"
#include "midox/config.h"
#include "midox/conntrack.h"
#include "midox/monitor.h"
#include "midox/port.h"
#include "midox/router.h"
#include "midox/stats.h"
#include "midox/trace.h"
#include "midox/tunnel.h"
#include "loader/map_table.h"

struct mx_datapath;

struct mx_datapath_opts {
	const char *pin_root; /* NULL: MX_PIN_ROOT_DEFAULT; created (and bpffs mounted) if needed */
	bool no_pin;          /* tests: private maps, nothing pinned */
	/* NULL or "": the object embedded in the loader; else an object file of the same
	 * maps and programs (another build of bpf/, for tests and trials). */
	const char *object_path;
	/* midox_ct's size, 0: MX_CT_MAX_ENTRIES_DEFAULT. A table already pinned keeps its own
	 * (its connections survive a restart; a pinned map's size cannot change). */
	__u32 ct_max_entries;
};

/* Load the embedded BPF object, reusing maps already pinned under pin_root so a restart
 * or upgrade keeps every entry, and pin its programs under pin_root/prog-<build> (the
 * object's hash). When that build's programs are pinned there already, they and the maps
 * are taken as they are: nothing is loaded. */
int mx_datapath_open(const struct mx_datapath_opts *opts, struct mx_datapath **out);
void mx_datapath_close(struct mx_datapath *dp);
/* Whether mx_datapath_open took the programs pinned for its build instead of loading. */
bool mx_datapath_reused(const struct mx_datapath *dp);

/* Program fds, for attaching and for BPF_PROG_TEST_RUN. */
int mx_datapath_port_prog_fd(const struct mx_datapath *dp);
int mx_datapath_underlay_prog_fd(const struct mx_datapath *dp);
int mx_datapath_bgp_prog_fd(const struct mx_datapath *dp);
/* underlay_xdp, the XDP fast path of the underlay's program (docs/datapath.md). */
int mx_datapath_underlay_xdp_prog_fd(const struct mx_datapath *dp);
/* A map's fd by its id (the drop events' maps, for tests); -EINVAL for an id out of range. */
int mx_datapath_map_fd(const struct mx_datapath *dp, enum mx_map_id id);
/* The rule chains' maps of dp (loader/chain.h), for mx_chain_install: fds dp owns, valid
 * until mx_datapath_close. */
struct mx_chain_maps;
void mx_datapath_chain_maps(const struct mx_datapath *dp, struct mx_chain_maps *maps);

/* Attach at tc ingress of ifindex (clsact created if missing), atomically replacing an
 * earlier midox program there: no packet sees the interface without a program. */
int mx_attach_port(struct mx_datapath *dp, int ifindex);
/* Also turns on IPv4 forwarding on ifindex (net.ipv4.conf.IF.forwarding = 1): the kernel's
 * bpf_fib_lookup, which finds the underlay route and MACs for VXLAN, refuses otherwise. */
int mx_attach_underlay(struct mx_datapath *dp, int ifindex);
/* underlay_xdp at XDP of the underlay (native where the driver has it, else generic),
 * replacing midox's or no program there; -EBUSY if another XDP program holds it. */
int mx_attach_underlay_xdp(struct mx_datapath *dp, int ifindex);
/* Remove underlay_xdp from ifindex; another XDP program stays. -ENOENT if it is not there. */
int mx_detach_underlay_xdp(int ifindex);
/* Whether underlay_xdp is attached at XDP of ifindex. */
bool mx_underlay_xdp_attached(int ifindex);
/* The BGP speaker's program at tc ingress of the host side of its veth (docs/bgp.md). */
int mx_attach_bgp(struct mx_datapath *dp, int ifindex);
/* Remove midox's filter from ifindex; other filters and the qdisc stay. -ENOENT if none. */
int mx_detach(int ifindex);
/* Whether a midox filter is attached at tc ingress of ifindex. */
bool mx_attached(int ifindex);
/* Whether the midox filter at tc ingress of ifindex runs prog_fd's program (not an earlier
 * agent's, which works on that agent's maps). */
bool mx_attached_runs(int ifindex, int prog_fd);

/* Typed map access. Lookups return -ENOENT for a missing key. */
int mx_config_get(struct mx_datapath *dp, struct mx_config *cfg);
int mx_config_set(struct mx_datapath *dp, const struct mx_config *cfg);

int mx_ifport_update(struct mx_datapath *dp, __u32 ifindex, const struct mx_ifport *v);
int mx_ifport_lookup(struct mx_datapath *dp, __u32 ifindex, struct mx_ifport *v);
int mx_ifport_delete(struct mx_datapath *dp, __u32 ifindex);

int mx_port_update(struct mx_datapath *dp, __u32 port_key, const struct mx_port *v);
int mx_port_lookup(struct mx_datapath *dp, __u32 port_key, struct mx_port *v);
int mx_port_delete(struct mx_datapath *dp, __u32 port_key);

/* midox_portslot (include/midox/port.h): slot's copy of port port_key's entry (port NULL
 * and port_key 0: the slot empty). -EINVAL for slot 0 or out of range. */
int mx_port_slot_update(struct mx_datapath *dp, __u32 slot, __u32 port_key,
			const struct mx_port *port);
int mx_port_slot_lookup(struct mx_datapath *dp, __u32 slot, struct mx_port_slot *v);
/* Made to mirror the ports (midox_port_v2's n entries, keys and ports, as just synced): each
 * port with a slot at its slot, every other slot emptied; only the slots that differ are
 * written (*written of them). -EINVAL when two ports share a slot (nothing written). */
int mx_port_slots_sync(struct mx_datapath *dp, const __u32 *keys, const struct mx_port *ports,
		       size_t n, unsigned int *written);

int mx_bridge_update(struct mx_datapath *dp, __u32 bridge_key, const struct mx_bridge *v);
int mx_bridge_delete(struct mx_datapath *dp, __u32 bridge_key);

int mx_fdb_update(struct mx_datapath *dp, const struct mx_fdb_key *k, const struct mx_fdb_entry *v);
int mx_fdb_lookup(struct mx_datapath *dp, const struct mx_fdb_key *k, struct mx_fdb_entry *v);
int mx_fdb_delete(struct mx_datapath *dp, const struct mx_fdb_key *k);

/* v->key is written from k (the datapath checks it after its read). */
int mx_arp_update(struct mx_datapath *dp, const struct mx_arp_key *k, const struct mx_arp_entry *v);
int mx_arp_delete(struct mx_datapath *dp, const struct mx_arp_key *k);

int mx_bgp_update(struct mx_datapath *dp, const struct mx_bgp_key *k, const struct mx_bgp *v);
int mx_bgp_delete(struct mx_datapath *dp, const struct mx_bgp_key *k);
/* A port's egress rate limit with its bucket (tests move the bucket's time to stand for
 * time passing). */
int mx_rate_update(struct mx_datapath *dp, __u32 port_key, const struct mx_port_rate *v);
int mx_rate_lookup(struct mx_datapath *dp, __u32 port_key, struct mx_port_rate *v);

/* A locked port's allowed address pairs (midox_allow_v2; v->key is written from k). */
int mx_allowed_update(struct mx_datapath *dp, const struct mx_allowed_key *k, const struct mx_allowed *v);
int mx_allowed_delete(struct mx_datapath *dp, const struct mx_allowed_key *k);

int mx_neigh_update(struct mx_datapath *dp, const struct mx_neigh_key *k, const struct mx_neigh_entry *v);
int mx_neigh_lookup(struct mx_datapath *dp, const struct mx_neigh_key *k, struct mx_neigh_entry *v);
int mx_neigh_delete(struct mx_datapath *dp, const struct mx_neigh_key *k);

/* Every CPU's ICMP error bucket (midox_icmprate) set to v; { 0, 0 } is a full burst. For
 * tests, which need errors to flow (or the bucket dry) whatever their pace. */
int mx_icmp_rate_set(struct mx_datapath *dp, const struct mx_icmp_rate *v);

int mx_tunpeer_update(struct mx_datapath *dp, __be32 addr, const struct mx_tunpeer *v);
int mx_tunpeer_delete(struct mx_datapath *dp, __be32 addr);

/* Route sets: keys must have the host bits of dst zero (the kernel keeps keys as given, and
 * mx_map_sync compares them byte for byte). Lookup is by longest prefix, as the datapath's:
 * a key matches the most specific set that covers it, up to its own prefix length. */
int mx_route_update(struct mx_datapath *dp, const struct mx_route_key *k, const struct mx_route *v);
int mx_route_lookup(struct mx_datapath *dp, const struct mx_route_key *k, struct mx_route *v);
int mx_route_delete(struct mx_datapath *dp, const struct mx_route_key *k);

/* Counters of one port (or MX_STATS_HOST) summed over CPUs: its midox_stats entry plus the
 * rx/tx of its midox_traffic slot (its midox_port_v2 entry's stats_slot). -ENOENT when it has
 * neither. */
int mx_stats_read(struct mx_datapath *dp, __u32 port_key, struct mx_port_stats *out);
/* Every counter back to 0: midox_stats emptied, every slot of midox_traffic zeroed. */
int mx_stats_reset(struct mx_datapath *dp);

/* One slot of midox_traffic summed over CPUs; zeroed on every CPU (before the slot is given
 * to another port). */
int mx_traffic_read(struct mx_datapath *dp, __u32 slot, struct mx_traffic *out);
int mx_traffic_clear(struct mx_datapath *dp, __u32 slot);

/* Every key's counters, summed over CPUs, sorted by port key (as mx_stats_read: each
 * midox_stats entry, and each port or the host whose slot counted something): a malloc'd
 * array the caller frees. For the agent's metrics and the CLI, read when called. */
struct mx_port_stats_entry {
	__u32 port_key;
	struct mx_port_stats stats;
};

int mx_stats_read_all(struct mx_datapath *dp, struct mx_port_stats_entry **out, size_t *n);

/* How full a map is: its entries now and its max_entries. An array is always full; a ring
 * buffer (records, not entries) is -EOPNOTSUPP. */
int mx_map_fill(struct mx_datapath *dp, enum mx_map_id map, __u32 *entries, __u32 *max_entries);

/* Reconcile: make a whole map equal to a desired set of entries, touching only what differs.
 * Entries for which keep() returns true are left alone when absent from the set (the
 * datapath's own entries, such as learned MACs). keys and values are packed arrays. Only
 * for maps the agent reconciles (mx_map_reconciled); -EINVAL for another. */
struct mx_sync_result {
	unsigned int added, changed, removed;
};

int mx_map_sync(struct mx_datapath *dp, enum mx_map_id map, const void *keys, const void *values,
		size_t n, bool (*keep)(const void *key, const void *value, void *ctx), void *ctx,
		struct mx_sync_result *res);

/* Whether the datapath holds key in map as an entry it learned itself (mx_map_learned);
 * out (may be NULL) gets what the ownership rule reads of it. */
bool mx_map_learned_here(struct mx_datapath *dp, enum mx_map_id map, const void *key,
			 struct mx_learned_entry *out);

/* Walk a map the agent reconciles: fn is called for each entry; a non-zero return stops
 * the walk and is returned. */
int mx_map_walk(struct mx_datapath *dp, enum mx_map_id map,
		int (*fn)(const void *key, const void *value, void *ctx), void *ctx);

/* Read-only access to the maps pinned under a pin root, for tools that look at a host's
 * datapath (midox datapath): nothing is loaded, created or written. */
struct mx_pinned_map {
	enum mx_map_id id;
	int fd;                      /* -1 when not open */
	size_t key_size, value_size; /* as pinned */
	unsigned int n_values;       /* values per key: the possible CPUs of a per-CPU map, else 1 */
};

/* Open <pin_root>/<its pin name>: -ENOENT (or bpf_obj_get's error) when missing, -EPROTO
 * when its key or value size is not the table's (the sizes pinned are in out). Close it
 * with mx_pinned_close also after an error. */
int mx_pinned_open(const char *pin_root, enum mx_map_id id, struct mx_pinned_map *out);
void mx_pinned_close(struct mx_pinned_map *m);
/* fn for every entry: values holds n_values values, each value_size bytes rounded up to 8
 * when per CPU. A non-zero return stops the walk and is returned. */
int mx_pinned_walk(const struct mx_pinned_map *m,
		   int (*fn)(const void *key, const void *values, void *ctx), void *ctx);

/* Drop events (midox monitor; monitor.c): the listener's mark in midox_monitor (by its fd)
 * and the datapath's per-CPU counts in midox_monrate. */
/* CLOCK_MONOTONIC in ns: bpf_ktime_get_ns()'s clock. */
__u64 mx_monotonic_ns(void);
int mx_monitor_read(int monitor_fd, struct mx_monitor *out);
/* Events until until_ns (mx_monotonic_ns), at most events_per_sec a second per CPU with a
 * burst of as many; pid names the listener. -EINVAL for a rate of 0. */
int mx_monitor_mark(int monitor_fd, __u32 events_per_sec, __u32 pid, __u64 until_ns);
/* Nobody listens: the drop path reads the mark and goes on. */
int mx_monitor_clear(int monitor_fd);
/* suppressed and lost summed over CPUs (tokens and last_ns are left 0). */
int mx_monitor_counts(int rate_fd, struct mx_monitor_cpu *sum);
/* Every CPU's bucket full and its counts 0. */
int mx_monitor_rate_reset(int rate_fd);

/* Packet traces (midox trace; trace.c, include/midox/trace.h). */
/* The program midox attached at tc ingress of ifindex (the live one, in this network
 * namespace): a new fd, or -ENOENT when none is. */
int mx_attached_prog_fd(int ifindex);
/* Run frame once through prog_fd as arriving on ifindex, traced: midox_trace (trace_fd)
 * armed with a fresh token, BPF_PROG_TEST_RUN with the magic and the token in cb, the
 * steps read into out, the entry disarmed (also on failure). *verdict: the program's tc
 * verdict. -EBADMSG when the run recorded nothing under the token (the program does not
 * write that map: another pin root's, or an older datapath). One trace at a time per map:
 * the caller serialises. */
int mx_trace_run(int prog_fd, int trace_fd, int ifindex, const void *frame, size_t len,
		 struct mx_trace *out, int *verdict);

#endif
