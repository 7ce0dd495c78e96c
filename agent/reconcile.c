// SPDX-License-Identifier: Apache-2.0
/* Level-triggered: every change, and start-up, runs the same computation and makes the
 * pinned maps and tc attachments equal to it. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "desired.h"
#include "base/clock.h"
#include "base/log.h"
#include "agent.h"

/* What the ownership rules of the map table ask of the agent: the desired state (the keep
 * rule: is a learned entry's port still there) and the time (is a learned entry fresh). */
struct own_ctx {
	struct agent *a;
	const struct desired *d;
	enum mx_map_id map; /* the map being synced */
	__u64 now;
};

/* Whether the datapath here learned key itself and still holds it fresh: it then wins over
 * the same key learned elsewhere. */
static bool learned_here(enum mx_map_id map, const void *key, void *ctx)
{
	struct own_ctx *c = ctx;
	struct mx_learned_entry e;

	return mx_map_learned_here(c->a->dp, map, key, &e) &&
	       mx_fresh(c->now, e.seen_ns, c->a->cfg.mac_age_s);
}

static const struct mx_port *desired_port(__u32 port_key, void *ctx)
{
	const struct own_ctx *c = ctx;

	return desired_lookup(c->d, MX_MAP_ID_PORT, &port_key);
}

static bool keep_learned(const void *key, const void *value, void *ctx)
{
	struct own_ctx *c = ctx;

	return mx_map_keep(c->map, key, value, desired_port, c);
}

/* Kept between passes until a link event (ifnames.h). */
static int ifindex_of(const char *ifname, void *ctx)
{
	struct own_ctx *c = ctx;

	return ifnames_index(&c->a->ifnames, ifname);
}

/* midox_portslot made to mirror midox_port_v2 as just synced, before the MAC-table entries
 * that name the slots are written. */
static int sync_port_slots(struct agent *a, const struct kv_array *ports)
{
	unsigned int written = 0;
	int err = mx_port_slots_sync(a->dp, ports->keys, ports->values, ports->n, &written);

	if (err)
		mx_err("cannot sync %s: %s", mx_map_name(MX_MAP_ID_PORT_SLOT), strerror(-err));
	else if (written)
		mx_info("%s: %u slots written", mx_map_name(MX_MAP_ID_PORT_SLOT), written);
	return err;
}

static int sync_one(struct agent *a, struct own_ctx *ctx)
{
	const struct kv_array *kv = &ctx->d->maps[ctx->map];
	const char *name = mx_map_name(ctx->map);
	struct mx_sync_result res = { 0 };
	int err;

	err = mx_map_sync(a->dp, ctx->map, kv->keys, kv->values, kv->n, keep_learned, ctx, &res);
	if (err) {
		mx_err("cannot sync %s: %s", name, strerror(-err));
		return err;
	}
	if (ctx->map == MX_MAP_ID_PORT) {
		err = sync_port_slots(a, kv);
		if (err)
			return err;
	}
	a->counters.synced[ctx->map][0] += res.added;
	a->counters.synced[ctx->map][1] += res.changed;
	a->counters.synced[ctx->map][2] += res.removed;
	if (res.added || res.changed || res.removed)
		mx_info("%s: %u added, %u changed, %u removed", name, res.added, res.changed,
			res.removed);
	return 0;
}

/* The settings first, then every reconciled map in the table's sync order. */
static int sync_maps(struct agent *a, const struct desired *d)
{
	struct own_ctx ctx = { .a = a, .d = d };
	enum mx_map_id order[MX_MAP_ID__MAX];
	size_t n = mx_map_sync_order(order);
	int err;

	err = mx_config_set(a->dp, &d->config);
	if (err) {
		mx_err("cannot write %s: %s", mx_map_name(MX_MAP_ID_CONFIG), strerror(-err));
		return err;
	}
	for (size_t i = 0; !err && i < n; i++) {
		ctx.map = order[i];
		err = sync_one(a, &ctx);
	}
	return err;
}

/* The host side of a BGP speaker's veth: the key of a MX_BGP_TO_WIRE entry. */
static bool is_speaker_if(const struct desired *d, __u32 ifindex)
{
	const struct kv_array *kv = &d->maps[MX_MAP_ID_BGP];
	const struct mx_bgp_key *keys = kv->keys;
	const struct mx_bgp *v = kv->values;

	for (size_t i = 0; i < kv->n; i++)
		if (keys[i].ifindex == ifindex && (v[i].flags & MX_BGP_TO_WIRE))
			return true;
	return false;
}

static bool is_bound_here(const struct desired *d, __u32 ifindex)
{
	return desired_lookup(d, MX_MAP_ID_IFPORT, &ifindex) != NULL || is_speaker_if(d, ifindex);
}

/* The interfaces a pass leaves a program on, for the next pass (struct agent, attached);
 * NULL at start-up, before any pass (every interface is asked about). */
struct attach_set {
	__u32 *ifs;
	size_t n;
	bool scan; /* ask the kernel about every interface, as if the set were empty */
};

static int u32_cmp(const void *x, const void *y)
{
	__u32 a = *(const __u32 *)x, b = *(const __u32 *)y;

	return (a > b) - (a < b);
}

static bool was_attached(const struct agent *a, __u32 ifindex)
{
	return a->n_attached && bsearch(&ifindex, a->attached, a->n_attached, sizeof(ifindex),
					u32_cmp);
}

/* Whether ifindex runs this agent's program (prog_fd's) already: known from the last pass,
 * or (the first time, or a scan) asked of the kernel, by the attached program's id. Before
 * every attachment is renewed once (start-up), nothing is: an upgraded agent replaces the
 * older build's programs. An older agent's program left on an interface the pinned maps did
 * not name at start-up (an upgrade that retired midox_ifport_v2's pin) works on that
 * agent's maps: it is not this agent's, and is replaced. */
static bool attached_already(const struct agent *a, const struct attach_set *next,
			     __u32 ifindex, int prog_fd)
{
	if (!a->programs_replaced)
		return false;
	if (next && !next->scan && was_attached(a, ifindex))
		return true;
	return mx_attached_runs((int)ifindex, prog_fd);
}

static void set_add(struct attach_set *s, __u32 ifindex)
{
	if (s)
		s->ifs[s->n++] = ifindex;
}

/* The BGP speaker's program on the host side of its veth (docs/bgp.md). */
static int attach_speaker(struct agent *a, struct attach_set *next, __u32 ifindex)
{
	char name[IF_NAMESIZE] = "?";
	int err;

	if (attached_already(a, next, ifindex, mx_datapath_bgp_prog_fd(a->dp))) {
		set_add(next, ifindex);
		return 0;
	}
	err = mx_attach_bgp(a->dp, (int)ifindex);
	if_indextoname(ifindex, name);
	if (err)
		mx_err("BGP speaker's %s: cannot attach the program: %s", name, strerror(-err));
	else
		mx_info("BGP speaker's %s: program attached", name);
	if (!err)
		set_add(next, ifindex);
	return err;
}

/* A port as the operator names it: "port bridge0:port2 (v21)"; by its key when the topology
 * is not read yet (start-up, from the pinned maps) or does not hold it. */
static void port_label(const struct topology *t, const char *port_id, __u32 port_key,
		       const char *ifname, char *buf, size_t len)
{
	const struct topo_port *p = NULL;
	char alias[64];

	if (t && port_id)
		p = topo_find_port_by_id(t, port_id);
	else if (t)
		p = topo_port_by_key(t, port_key);
	if (p && !topo_alias(t, p->id, alias, sizeof(alias)))
		snprintf(buf, len, "port %s (%s)", alias, ifname);
	else if (port_key)
		snprintf(buf, len, "port key %u (%s)", port_key, ifname);
	else
		snprintf(buf, len, "interface %s", ifname);
}

/* The port program on a bound interface (port_key, named through t, which may be NULL), or
 * the underlay's. */
static int attach_one(struct agent *a, struct attach_set *next, __u32 ifindex, bool underlay,
		      __u32 port_key, const struct topology *t)
{
	char name[IF_NAMESIZE] = "?", what[IF_NAMESIZE + 96];
	int err;

	if (attached_already(a, next, ifindex,
			     underlay ? mx_datapath_underlay_prog_fd(a->dp) :
					mx_datapath_port_prog_fd(a->dp))) {
		set_add(next, ifindex);
		return 0;
	}
	err = underlay ? mx_attach_underlay(a->dp, (int)ifindex) : mx_attach_port(a->dp, (int)ifindex);
	if_indextoname(ifindex, name);
	if (underlay)
		snprintf(what, sizeof(what), "underlay %s", name);
	else
		port_label(t, NULL, port_key, name, what, sizeof(what));
	if (err)
		mx_err("%s: cannot attach the program: %s", what, strerror(-err));
	else if (underlay)
		mx_info("%s: program attached, receiving VXLAN", what);
	else
		mx_info("%s bound, forwarding", what);
	if (!err)
		set_add(next, ifindex);
	return err;
}

/* underlay_xdp on the underlay when configured, and only then: with it off, an earlier
 * run's is removed and the tc program alone receives VXLAN. Another XDP program is left. */
static int underlay_xdp_apply(struct agent *a, __u32 ifindex)
{
	char name[IF_NAMESIZE] = "?";
	bool on = mx_underlay_xdp_attached((int)ifindex);
	int err = 0;

	if_indextoname(ifindex, name);
	if (a->cfg.underlay_xdp) {
		err = mx_attach_underlay_xdp(a->dp, (int)ifindex);
		if (!err && !on)
			mx_info("underlay %s: XDP program attached, delivering VXLAN to local "
				"ports", name);
	} else if (on) {
		err = mx_detach_underlay_xdp((int)ifindex);
		if (!err)
			mx_info("underlay %s: XDP program removed (underlay_xdp off)", name);
	}
	return err;
}

/* Every interface with a midox program that is neither bound nor the underlay loses it:
 * this also cleans up after bindings removed while the agent was down. The port it was
 * bound to is named from the topology before this change (a->topo). */
static void detach_one(const struct agent *a, const struct desired *d, __u32 ifindex,
		       const char *ifname)
{
	const struct topology *before = a->have_topo ? &a->topo : NULL;
	const struct topo_binding *b;
	char what[IF_NAMESIZE + 96];

	if (ifindex == d->config.underlay_ifindex || is_bound_here(d, ifindex))
		return;
	if (!mx_attached((int)ifindex) || mx_detach((int)ifindex))
		return;
	b = before ? topo_find_binding(before, a->host_id, ifname) : NULL;
	port_label(before, b ? b->port_id : NULL, 0, ifname, what, sizeof(what));
	mx_info("%s unbound, program detached", what);
}

/* A scan looks at every interface of the host; otherwise only those the last pass left a
 * program on can have one to remove (an interface gone with its program needs nothing). */
static void detach_unbound(const struct agent *a, const struct desired *d, bool scan)
{
	struct if_nameindex *all, *i;
	char name[IF_NAMESIZE];

	if (!scan) {
		/* The name (an ioctl) only for those to detach: a pass with hundreds of bound
		 * interfaces asked for every one. */
		for (size_t k = 0; k < a->n_attached; k++)
			if (a->attached[k] != d->config.underlay_ifindex &&
			    !is_bound_here(d, a->attached[k]) && if_indextoname(a->attached[k], name))
				detach_one(a, d, a->attached[k], name);
		return;
	}
	all = if_nameindex();
	if (!all)
		return;
	for (i = all; i->if_index; i++)
		detach_one(a, d, i->if_index, i->if_name);
	if_freenameindex(all);
}

static int sync_attachments(struct agent *a, const struct desired *d, const struct topology *t)
{
	const struct kv_array *ifp = &d->maps[MX_MAP_ID_IFPORT];
	const __u32 *keys = ifp->keys;
	const struct mx_ifport *ports = ifp->values;
	struct attach_set next = { .scan = a->attach_scan || !a->programs_replaced };
	int err = 0, e;

	next.ifs = malloc((1 + ifp->n + d->maps[MX_MAP_ID_BGP].n) * sizeof(*next.ifs));
	if (!next.ifs)
		return -ENOMEM;
	if (d->config.underlay_ifindex) {
		err = attach_one(a, &next, d->config.underlay_ifindex, true, 0, t);
		e = err ? 0 : underlay_xdp_apply(a, d->config.underlay_ifindex);
		if (e)
			err = e;
	}
	for (size_t i = 0; i < ifp->n; i++) {
		e = attach_one(a, &next, keys[i], false, ports[i].port_key, t);
		if (e)
			err = e;
	}
	for (size_t i = 0; i < d->maps[MX_MAP_ID_BGP].n; i++) {
		const struct mx_bgp_key *k = (const struct mx_bgp_key *)d->maps[MX_MAP_ID_BGP].keys + i;
		const struct mx_bgp *v = (const struct mx_bgp *)d->maps[MX_MAP_ID_BGP].values + i;

		e = v->flags & MX_BGP_TO_WIRE ? attach_speaker(a, &next, k->ifindex) : 0;
		if (e)
			err = e;
	}
	detach_unbound(a, d, next.scan);
	qsort(next.ifs, next.n, sizeof(*next.ifs), u32_cmp);
	free(a->attached);
	a->attached = next.ifs;
	a->n_attached = next.n;
	if (!err) {
		a->programs_replaced = true;
		a->attach_scan = false;
	}
	return err;
}

static void keep_peers(struct agent *a, const struct desired *d)
{
	const struct kv_array *kv = &d->maps[MX_MAP_ID_TUNPEER];
	__be32 *peers = calloc(kv->n ? kv->n : 1, sizeof(*peers));

	if (!peers)
		return;
	if (kv->n) /* no peers: keys may be NULL */
		memcpy(peers, kv->keys, kv->n * sizeof(*peers));
	free(a->peers);
	a->peers = peers;
	a->n_peers = kv->n;
}

static int apply(struct agent *a, const struct topology *t)
{
	struct own_ctx ctx = { .a = a, .now = mx_now_ns() };
	struct local_view view = {
		.host_id = a->host_id,
		.underlay_ifindex = (__u32)ifnames_index(&a->ifnames, a->cfg.tunnel_if),
		.vxlan_port = a->cfg.vxlan_port,
		.underlay_xdp = a->cfg.underlay_xdp,
		.ifindex_of = ifindex_of,
		.learned_here = learned_here,
		.ctx = &ctx,
	};
	struct desired d;
	int err, e;

	if (!view.underlay_ifindex)
		mx_warn("tunnel interface %s does not exist (yet)", a->cfg.tunnel_if);
	err = desired_compute(t, &view, &d);
	if (err)
		return err;
	/* The pins record the counter slots: read back once, at the first pass. */
	if (!a->have_slots) {
		err = slots_init(&a->slots, a->dp);
		a->have_slots = !err;
	}
	if (!err)
		err = slots_assign_desired(&a->slots, a->dp, &d);
	if (err) {
		mx_err("cannot assign the ports' counter slots: %s", strerror(-err));
		desired_free(&d);
		return err;
	}
	/* Chains before the maps: a device value naming a chain finds it installed. A chain
	 * install that fails leaves the live version and fails the pass (tried again). */
	err = agent_chains_apply(a, &d.chains);
	e = sync_maps(a, &d);
	if (e)
		slots_hold(&a->slots);
	err = err ? err : e;
	if (!e)
		e = sync_attachments(a, &d, t);
	err = err ? err : e;
	if (!e)
		keep_peers(a, &d);
	desired_free(&d);
	return err;
}

struct reattach {
	struct agent *a;
	unsigned int attached, failed;
};

/* Before the topology is read: ports are named by their key. */
static void reattach_one(struct reattach *r, __u32 ifindex, bool underlay, __u32 port_key)
{
	if (attach_one(r->a, NULL, ifindex, underlay, port_key, NULL))
		r->failed++;
	else
		r->attached++;
}

/* A BGP speaker's veth, from its MX_BGP_TO_WIRE entries. */
static int reattach_speaker(const void *key, const void *value, void *ctx)
{
	const struct mx_bgp_key *k = key;
	const struct mx_bgp *v = value;
	struct reattach *r = ctx;

	if (!(v->flags & MX_BGP_TO_WIRE) || !if_indextoname(k->ifindex, (char[IF_NAMESIZE]){ 0 }))
		return 0;
	if (attach_speaker(r->a, NULL, k->ifindex))
		r->failed++;
	else
		r->attached++;
	return 0;
}

static int reattach_port(const void *key, const void *value, void *ctx)
{
	const struct mx_ifport *p = value;

	reattach_one(ctx, *(const __u32 *)key, false, p->port_key);
	return 0;
}

void agent_reattach_pinned(struct agent *a)
{
	struct reattach r = { .a = a };
	struct mx_config cfg;
	__u32 first_port;

	/* The underlay's program decapsulates to the ports of midox_port_v2: while that map is
	 * empty (an upgrade from a tree whose port map had another layout, whose pin the open
	 * retired) the program that is attached, on its own old map, keeps delivering until the
	 * first pass has filled the new one. */
	if (!mx_config_get(a->dp, &cfg) && cfg.underlay_ifindex &&
	    !bpf_map_get_next_key(mx_datapath_map_fd(a->dp, MX_MAP_ID_PORT), NULL, &first_port))
		reattach_one(&r, cfg.underlay_ifindex, true, 0);
	mx_map_walk(a->dp, MX_MAP_ID_IFPORT, reattach_port, &r);
	mx_map_walk(a->dp, MX_MAP_ID_BGP, reattach_speaker, &r);
	/* Every interface the pins know now runs this agent's programs: the first reconcile
	 * need not replace them a second time. With nothing pinned (a first start) it does. */
	if (r.attached && !r.failed)
		a->programs_replaced = true;
}

/* With --verbose: what the read cost, from the mirror's counters. */
static void log_read(zhandle_t *zh, const struct topo_mirror_stats *before)
{
	struct topo_mirror_stats now;

	if (topo_mirror_stats(zh, &now))
		return;
	mx_debug("topology read: %llu nodes asked of ZooKeeper, %llu from the mirror, %llu "
		 "reads again (changed meanwhile), %zu nodes held",
		 (unsigned long long)(now.asked - before->asked),
		 (unsigned long long)(now.served - before->served),
		 (unsigned long long)(now.torn - before->torn), now.nodes);
}

const double agent_pass_bucket_s[AGENT_PASS_BUCKETS] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5 };

static void count_pass(struct agent_counters *c, uint64_t ns)
{
	size_t b = 0;

	c->passes++;
	c->pass_ns_sum += ns;
	while (b < AGENT_PASS_BUCKETS && (double)ns > agent_pass_bucket_s[b] * 1e9)
		b++;
	c->pass_buckets[b]++;
}

void agent_prefetch(struct agent *a)
{
	struct topo_mirror_stats before = { 0 };
	uint64_t events = atomic_load(&a->zk.events);
	int err;

	memset(&a->prefetched, 0, sizeof(a->prefetched));
	topo_mirror_stats(a->zk.zh, &before);
	err = topo_read(a->zk.zh, &a->prefetched);
	log_read(a->zk.zh, &before);
	if (err) {
		/* The first pass reads again, and reports what fails then. */
		mx_debug("topology read while the datapath loads: %s", strerror(-err));
		topo_free(&a->prefetched);
		return;
	}
	a->have_prefetched = true;
	a->prefetched_events = events;
}

/* The snapshot read while the datapath loaded, when nothing changed since its read began
 * (no watch fired, no session event): decoding 201k nodes again, even from the mirror,
 * costs seconds at 100k ports. */
static bool take_prefetched(struct agent *a, struct topology *t)
{
	if (!a->have_prefetched)
		return false;
	a->have_prefetched = false;
	if (atomic_load(&a->zk.events) != a->prefetched_events) {
		mx_debug("topology changed while the datapath loaded: reading it again");
		topo_free(&a->prefetched);
		return false;
	}
	*t = a->prefetched;
	return true;
}

static int reconcile_pass(struct agent *a)
{
	struct topo_mirror_stats before = { 0 };
	struct topology t;
	int err;

	memset(&t, 0, sizeof(t));
	topo_mirror_stats(a->zk.zh, &before);
	err = take_prefetched(a, &t) ? 0 : topo_read(a->zk.zh, &t);
	log_read(a->zk.zh, &before);
	if (err) {
		mx_warn("cannot read the topology (%s): keeping the datapath as it is",
			strerror(-err));
		topo_free(&t);
		a->counters.read_errors++;
		return err;
	}
	if (t.n_skipped)
		mx_warn("%zu objects could not be parsed and were skipped", t.n_skipped);
	/* Sessions t ends say goodbye while the datapath still lets them out. */
	bgp_farewell(&a->bgp, &t);
	err = apply(a, &t);
	if (err) {
		topo_free(&t);
		a->counters.apply_errors++;
		return err;
	}
	if (a->have_topo)
		topo_free(&a->topo);
	a->topo = t;
	a->have_topo = true;
	return 0;
}

int agent_reconcile(struct agent *a)
{
	uint64_t start = mx_now_ns();
	int err = reconcile_pass(a);

	count_pass(&a->counters, mx_now_ns() - start);
	return err;
}
