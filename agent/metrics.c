// SPDX-License-Identifier: Apache-2.0
/* The agent's metrics in Prometheus' text exposition format 0.0.4 (docs/metrics.md), made
 * only when scraped: the per-CPU counters of the datapath are summed then, nothing on the
 * packet path changes. Every family is written whole, HELP and TYPE first. */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "agent.h"
#include "version.h"

/* A label value as the format wants it: backslash, double quote and newline escaped. */
static void label_value(struct textbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			tb_printf(b, "\\\\");
		else if (*v == '"')
			tb_printf(b, "\\\"");
		else if (*v == '\n')
			tb_printf(b, "\\n");
		else
			tb_printf(b, "%c", *v);
	}
}

static void label(struct textbuf *b, bool first, const char *name, const char *value)
{
	tb_printf(b, "%s%s=\"", first ? "" : ",", name);
	label_value(b, value);
	tb_printf(b, "\"");
}

static void family(struct textbuf *b, const char *name, const char *type, const char *help)
{
	tb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct textbuf *b, const char *name, unsigned long long v)
{
	tb_printf(b, "%s %llu\n", name, v);
}

/* ---- ports ---- */

/* A device's name, or its alias when it has none ("bridge0"). */
static void device_name(const struct topology *t, const char *id, const char *name, char *buf,
			size_t len)
{
	if (*name)
		snprintf(buf, len, "%s", name);
	else if (topo_alias(t, id, buf, len))
		buf[0] = '\0';
}

/* The device of a port's id. */
static void port_device(const struct topology *t, const struct topo_port *p, char *buf,
			size_t len)
{
	const struct topo_bridge *br = topo_find_bridge_by_id(t, p->device_id);
	const struct topo_router *rt = br ? NULL : topo_find_router_by_id(t, p->device_id);

	device_name(t, p->device_id, br ? br->name : rt ? rt->name : "", buf, len);
}

/* port_key, and from the topology the agent holds, where known: the port's alias, its
 * device's name and the interface it is bound to on this host. A bridge's key (its flooded
 * copies to other hosts) has only its device; key 0 (the host: the underlay, interfaces
 * that are no port) nothing. */
static void port_labels(const struct agent *a, __u32 key, struct textbuf *b)
{
	char key_s[16], alias[96] = "", device[TOPO_NAME_MAX + 16] = "", ifname[TOPO_IFNAME_MAX] = "";
	const struct topology *t = &a->topo;
	const struct topo_port *p = a->have_topo && key ? topo_port_by_key(t, key) : NULL;
	const struct topo_bridge *br = a->have_topo && key && !p ? topo_bridge_by_key(t, key) : NULL;
	const struct topo_binding *bd;

	if (p) {
		if (topo_alias(t, p->id, alias, sizeof(alias)))
			alias[0] = '\0';
		port_device(t, p, device, sizeof(device));
		bd = topo_find_port_binding(t, p->id);
		if (bd && !strcmp(bd->host_id, a->host_id))
			snprintf(ifname, sizeof(ifname), "%s", bd->interface);
	} else if (br) {
		device_name(t, br->id, br->name, device, sizeof(device));
	}
	snprintf(key_s, sizeof(key_s), "%u", key);
	label(b, true, "port_key", key_s);
	label(b, false, "port", alias);
	label(b, false, "device", device);
	label(b, false, "interface", ifname);
}

static const struct {
	const char *name, *help;
	size_t off;
} port_counters[] = {
	{ "midox_port_rx_packets_total", "Frames the datapath took in by the port.",
	  offsetof(struct mx_port_stats, rx_packets) },
	{ "midox_port_rx_bytes_total", "Bytes of the frames the datapath took in by the port.",
	  offsetof(struct mx_port_stats, rx_bytes) },
	{ "midox_port_tx_packets_total", "Frames the datapath sent out of the port.",
	  offsetof(struct mx_port_stats, tx_packets) },
	{ "midox_port_tx_bytes_total", "Bytes of the frames the datapath sent out of the port.",
	  offsetof(struct mx_port_stats, tx_bytes) },
};

static void render_ports(const struct agent *a, struct textbuf *b)
{
	struct mx_port_stats_entry *all = NULL;
	size_t n = 0;
	int err = mx_stats_read_all(a->dp, &all, &n);

	if (err)
		mx_warn("metrics: cannot read %s: %s", mx_map_name(MX_MAP_ID_STATS), strerror(-err));
	for (size_t c = 0; c < sizeof(port_counters) / sizeof(port_counters[0]); c++) {
		family(b, port_counters[c].name, "counter", port_counters[c].help);
		for (size_t i = 0; i < n; i++) {
			const __u64 *v = (const __u64 *)((const char *)&all[i].stats + port_counters[c].off);

			tb_printf(b, "%s{", port_counters[c].name);
			port_labels(a, all[i].port_key, b);
			tb_printf(b, "} %llu\n", (unsigned long long)*v);
		}
	}
	family(b, "midox_port_drops_total", "counter",
	       "Frames the datapath dropped, by port and reason (a reason appears at its first drop).");
	for (size_t i = 0; i < n; i++) {
		for (unsigned int r = 0; r < MX_DROP__MAX; r++) {
			if (!all[i].stats.drops[r])
				continue;
			tb_printf(b, "midox_port_drops_total{");
			port_labels(a, all[i].port_key, b);
			label(b, false, "reason", mx_drop_reason_name(r));
			tb_printf(b, "} %llu\n", (unsigned long long)all[i].stats.drops[r]);
		}
	}
	free(all);
}

/* ---- reconcile and sync ---- */

static void render_reconcile(const struct agent_counters *c, struct textbuf *b)
{
	static const char *const change[3] = { "added", "changed", "removed" };
	unsigned long long cumulative = 0;

	family(b, "midox_reconcile_passes_total", "counter",
	       "Reconcile passes (topology read, maps and attachments made equal to it), failed ones included.");
	sample(b, "midox_reconcile_passes_total", c->passes);
	family(b, "midox_reconcile_errors_total", "counter",
	       "Reconcile passes that failed, by stage: read (the topology) or apply (maps, attachments).");
	tb_printf(b, "midox_reconcile_errors_total{stage=\"read\"} %llu\n",
		  (unsigned long long)c->read_errors);
	tb_printf(b, "midox_reconcile_errors_total{stage=\"apply\"} %llu\n",
		  (unsigned long long)c->apply_errors);
	family(b, "midox_reconcile_duration_seconds", "histogram", "How long reconcile passes took.");
	for (int i = 0; i <= AGENT_PASS_BUCKETS; i++) {
		cumulative += c->pass_buckets[i];
		if (i < AGENT_PASS_BUCKETS)
			tb_printf(b, "midox_reconcile_duration_seconds_bucket{le=\"%g\"} %llu\n",
				  agent_pass_bucket_s[i], cumulative);
		else
			tb_printf(b, "midox_reconcile_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				  cumulative);
	}
	tb_printf(b, "midox_reconcile_duration_seconds_sum %.9f\n", (double)c->pass_ns_sum / 1e9);
	tb_printf(b, "midox_reconcile_duration_seconds_count %llu\n", (unsigned long long)c->passes);
	family(b, "midox_sync_entries_total", "counter",
	       "Map entries the agent's syncs added, changed and removed, by map.");
	for (int m = 0; m < MX_MAP_ID__MAX; m++) {
		if (!mx_map_reconciled(m))
			continue;
		for (int k = 0; k < 3; k++)
			tb_printf(b, "midox_sync_entries_total{map=\"%s\",change=\"%s\"} %llu\n",
				  mx_map_name(m), change[k], (unsigned long long)c->synced[m][k]);
	}
}

/* ---- ZooKeeper ---- */

static void render_zookeeper(struct agent *a, struct textbuf *b)
{
	const struct {
		const char *name;
		int state;
	} states[] = {
		{ "connecting", ZOO_CONNECTING_STATE }, { "associating", ZOO_ASSOCIATING_STATE },
		{ "connected", ZOO_CONNECTED_STATE }, { "read_only", ZOO_READONLY_STATE },
		{ "expired", ZOO_EXPIRED_SESSION_STATE }, { "auth_failed", ZOO_AUTH_FAILED_STATE },
		{ "not_connected", ZOO_NOTCONNECTED_STATE },
	};
	int now = a->zk.zh ? zoo_state(a->zk.zh) : ZOO_NOTCONNECTED_STATE;
	uint64_t connects = atomic_load(&a->zk.connects);

	family(b, "midox_zookeeper_connected", "gauge",
	       "1 while the agent's ZooKeeper session is usable, else 0.");
	sample(b, "midox_zookeeper_connected", atomic_load(&a->zk.connected) ? 1 : 0);
	family(b, "midox_zookeeper_session_state", "gauge",
	       "The ZooKeeper client's state: 1 for the current one, 0 for the others.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		tb_printf(b, "midox_zookeeper_session_state{state=\"%s\"} %d\n", states[i].name,
			  states[i].state == now);
	family(b, "midox_zookeeper_reconnects_total", "counter",
	       "Connections to ZooKeeper made after the agent's first (a new session's included).");
	sample(b, "midox_zookeeper_reconnects_total", connects ? connects - 1 : 0);
	family(b, "midox_zookeeper_session_expiries_total", "counter",
	       "ZooKeeper sessions that expired (each replaced by a new one).");
	sample(b, "midox_zookeeper_session_expiries_total", atomic_load(&a->zk.expiries));
}

/* ---- maps ---- */

static void render_maps(const struct agent *a, struct textbuf *b)
{
	__u32 entries[MX_MAP_ID__MAX], max[MX_MAP_ID__MAX];
	bool ok[MX_MAP_ID__MAX];

	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		ok[m] = !mx_map_fill(a->dp, m, &entries[m], &max[m]);
	family(b, "midox_map_entries", "gauge",
	       "Entries in each pinned map of the datapath (an array counts as full).");
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		if (ok[m])
			tb_printf(b, "midox_map_entries{map=\"%s\"} %u\n", mx_map_name(m), entries[m]);
	family(b, "midox_map_max_entries", "gauge", "The capacity of each pinned map.");
	for (int m = 0; m < MX_MAP_ID__MAX; m++)
		if (ok[m])
			tb_printf(b, "midox_map_max_entries{map=\"%s\"} %u\n", mx_map_name(m), max[m]);
}

/* ---- BGP sessions ---- */

/* router and port of a speaker (aliases as the CLI prints them). */
static void bgp_port_labels(const struct agent *a, const struct bgp_speaker *s,
			    struct textbuf *b)
{
	const struct topology *t = &a->topo;
	const struct topo_router *rt = a->have_topo ? topo_find_router_by_id(t, s->want.router_id) : NULL;
	char router[TOPO_NAME_MAX + 16] = "", port[96] = "";

	if (rt)
		device_name(t, rt->id, rt->name, router, sizeof(router));
	if (!a->have_topo || topo_alias(t, s->want.port_id, port, sizeof(port)))
		port[0] = '\0';
	label(b, true, "router", router);
	label(b, false, "port", port);
}

/* router, port, peer (aliases as the CLI prints them) and the peer's address. */
static void bgp_labels(const struct agent *a, const struct bgp_speaker *s, size_t j,
		       struct textbuf *b)
{
	char peer[96] = "", addr[INET_ADDRSTRLEN];

	if (!a->have_topo || topo_alias(&a->topo, s->want.peers[j].id, peer, sizeof(peer)))
		peer[0] = '\0';
	inet_ntop(AF_INET, &s->want.peers[j].addr, addr, sizeof(addr));
	bgp_port_labels(a, s, b);
	label(b, false, "peer", peer);
	label(b, false, "peer_address", addr);
}

/* Per speaker: its BIRD runs, and how often it was started again after it exited. */
static void render_bgp_speakers(const struct agent *a, struct textbuf *b)
{
	const struct bgp_manager *m = &a->bgp;

	family(b, "midox_bgp_bird_running", "gauge",
	       "1 while the BIRD of a speaker on this host runs, else 0 (exited and waiting to start again, or failed to start).");
	for (size_t i = 0; i < m->n; i++) {
		tb_printf(b, "midox_bgp_bird_running{");
		bgp_port_labels(a, &m->sp[i], b);
		tb_printf(b, "} %d\n", m->sp[i].bird.pid ? 1 : 0);
	}
	family(b, "midox_bgp_bird_restarts_total", "counter",
	       "Times the agent started a speaker's BIRD again after it exited (since the speaker started here).");
	for (size_t i = 0; i < m->n; i++) {
		tb_printf(b, "midox_bgp_bird_restarts_total{");
		bgp_port_labels(a, &m->sp[i], b);
		tb_printf(b, "} %llu\n", (unsigned long long)m->sp[i].restarts);
	}
}

static void render_bgp(const struct agent *a, struct textbuf *b)
{
	static const struct {
		const char *name, *help;
	} per_peer[] = {
		{ "midox_bgp_session_up",
		  "1 while the BGP session with the peer is established, else 0 (per peer of a speaker on this host)." },
		{ "midox_bgp_routes_received",
		  "Routes the speaker's BIRD selected with the peer as a next hop, at the last read of its table." },
		{ "midox_bgp_routes_published",
		  "Routes learned from the peer that ZooKeeper holds for this host (every host installs them)." },
		{ "midox_bgp_routes_left_out",
		  "Routes learned from the peer left out: over the cap of learned routes per port (bgp_max_routes)." },
	};
	const struct bgp_manager *m = &a->bgp;

	for (size_t f = 0; f < sizeof(per_peer) / sizeof(per_peer[0]); f++) {
		family(b, per_peer[f].name, "gauge", per_peer[f].help);
		for (size_t i = 0; i < m->n; i++) {
			const struct bgp_speaker *s = &m->sp[i];

			for (size_t j = 0; j < s->want.n_peers; j++) {
				/* published: from the set as it is now, not the last tick's copy */
				size_t v = f == 0 ? s->up[j] : f == 1 ? s->received[j] :
					   f == 2 ? bgp_pub_count(&m->pub, s->want.peers[j].id,
								  BGP_PUB_LIVE) :
					   s->left_out[j];

				tb_printf(b, "%s{", per_peer[f].name);
				bgp_labels(a, s, j, b);
				tb_printf(b, "} %zu\n", v);
			}
		}
	}
	render_bgp_speakers(a, b);
	family(b, "midox_bgp_route_writes_pending", "gauge",
	       "Writes of learned routes (publications, withdrawals) queued or in flight to ZooKeeper.");
	sample(b, "midox_bgp_route_writes_pending", bgp_learn_pending(m));
	family(b, "midox_bgp_route_write_errors_total", "counter",
	       "Writes of learned routes ZooKeeper refused (each tried again).");
	sample(b, "midox_bgp_route_write_errors_total", m->write_errors);
}

/* ---- rule chains ---- */

/* What this agent installed last into the chain maps; per-rule counters are not metrics
 * (one series a rule): `midox chain C list rule` reads them. */
static void render_chains(const struct agent *a, struct textbuf *b)
{
	const struct cc_program *p = &a->chains;
	const struct agent_counters *c = &a->counters;

	family(b, "midox_chains_installed", "gauge",
	       "Rule chains in the version this agent installed last.");
	sample(b, "midox_chains_installed", p->n_chains);
	family(b, "midox_chain_rules_installed", "gauge",
	       "Rules in that version; refused: rules the datapath cannot state, installed as drops of every packet.");
	tb_printf(b, "midox_chain_rules_installed{state=\"ok\"} %zu\n", p->n_rules - p->refused);
	tb_printf(b, "midox_chain_rules_installed{state=\"refused\"} %zu\n", p->refused);
	family(b, "midox_chain_installs_total", "counter",
	       "Versions of the rule chains installed (each switched in at once).");
	sample(b, "midox_chain_installs_total", c->chain_installs);
	family(b, "midox_chain_install_errors_total", "counter",
	       "Rule chain versions that could not be compiled or installed (the live one stayed).");
	sample(b, "midox_chain_install_errors_total", c->chain_install_errors);
}

/* ---- connection tracking ---- */

/* The sweep's work; the table's fill and size are midox_map_entries and
 * midox_map_max_entries{map="midox_ct"}, refusals of a full table
 * midox_port_drops_total{reason="ct-full"}. */
static void render_ct(const struct agent *a, struct textbuf *b)
{
	family(b, "midox_conntrack_entries", "gauge",
	       "Tracked connections left after the last sweep.");
	sample(b, "midox_conntrack_entries", a->ct.entries);
	family(b, "midox_conntrack_sweeps_total", "counter", "Sweeps of the table for idle connections.");
	sample(b, "midox_conntrack_sweeps_total", a->ct.sweeps);
	family(b, "midox_conntrack_sweep_errors_total", "counter", "Sweeps that failed (logged).");
	sample(b, "midox_conntrack_sweep_errors_total", a->ct.sweep_errors);
	family(b, "midox_conntrack_removed_total", "counter",
	       "Connections the sweeps removed, idle past their state's timeout.");
	sample(b, "midox_conntrack_removed_total", a->ct.removed);
}

/* ---- router neighbours ---- */

static void render_neigh_probe(const struct agent *a, struct textbuf *b)
{
	family(b, "midox_neigh_probes_total", "counter",
	       "Unicast ARP requests sent to ageing router neighbours learned here.");
	sample(b, "midox_neigh_probes_total", a->neigh_probe.sent);
	family(b, "midox_neigh_probe_errors_total", "counter",
	       "Neighbour probes that could not be sent (logged).");
	sample(b, "midox_neigh_probe_errors_total", a->neigh_probe.errors);
}

/* ---- dynamic SNAT's port blocks ---- */

static void render_natlease(const struct agent *a, struct textbuf *b)
{
	const struct agent_natlease *n = &a->natlease;
	char addr[INET_ADDRSTRLEN];

	family(b, "midox_nat_blocks", "gauge",
	       "SNAT port blocks this host holds in ZooKeeper, by NAT address.");
	for (size_t i = 0; i < n->n; i++) {
		inet_ntop(AF_INET, &n->addrs[i].addr, addr, sizeof(addr));
		tb_printf(b, "midox_nat_blocks{");
		label(b, true, "address", addr);
		tb_printf(b, "} %u\n", n->addrs[i].n_blocks);
	}
	family(b, "midox_nat_blocks_leased_total", "counter", "SNAT port blocks leased.");
	sample(b, "midox_nat_blocks_leased_total", n->taken);
	family(b, "midox_nat_blocks_released_total", "counter",
	       "SNAT port blocks given back, idle or no longer needed.");
	sample(b, "midox_nat_blocks_released_total", n->released);
	family(b, "midox_nat_lease_failures_total", "counter",
	       "Times a block was needed and none could be leased (all held, or ZooKeeper refused).");
	sample(b, "midox_nat_lease_failures_total", n->lease_failures);
	family(b, "midox_nat_blocks_lost_total", "counter",
	       "Blocks another host took while this host's session was gone (logged).");
	sample(b, "midox_nat_blocks_lost_total", n->lost);
}

/* ---- the agent and its server ---- */

static void render_agent(const struct agent *a, struct textbuf *b)
{
	const struct http_server *h = &a->metrics;

	family(b, "midox_agent_info", "gauge", "The agent's version and host; always 1.");
	tb_printf(b, "midox_agent_info{");
	label(b, true, "version", MIDOX_VERSION);
	label(b, false, "host_id", a->host_id);
	label(b, false, "host_name", a->cfg.host_name);
	tb_printf(b, "} 1\n");
	family(b, "midox_agent_start_time_seconds", "gauge", "When the agent started, in Unix time.");
	tb_printf(b, "midox_agent_start_time_seconds %.3f\n", a->counters.start_time_s);
	family(b, "midox_metrics_http_responses_total", "counter",
	       "Answers of the metrics endpoint before this one, by status code.");
	for (int i = 0; i < HTTP_SLOT__MAX; i++)
		tb_printf(b, "midox_metrics_http_responses_total{code=\"%d\"} %llu\n",
			  http_slot_code[i], (unsigned long long)h->responses[i]);
	family(b, "midox_metrics_http_rejected_connections_total", "counter",
	       "Connections to the metrics endpoint closed at once: the cap on connections was reached.");
	sample(b, "midox_metrics_http_rejected_connections_total", h->rejected);
	family(b, "midox_metrics_http_timeouts_total", "counter",
	       "Connections to the metrics endpoint closed at their deadline, before a whole request or response.");
	sample(b, "midox_metrics_http_timeouts_total", h->timed_out);
}

void agent_metrics_render(void *agent, struct textbuf *out)
{
	struct agent *a = agent;

	render_agent(a, out);
	render_zookeeper(a, out);
	render_reconcile(&a->counters, out);
	render_maps(a, out);
	render_chains(a, out);
	render_ct(a, out);
	render_neigh_probe(a, out);
	render_natlease(a, out);
	render_ports(a, out);
	render_bgp(a, out);
}
