// SPDX-License-Identifier: Apache-2.0
/* Dynamic SNAT's port blocks, the agent's side (docs/nat.md, "Port blocks"): which NAT
 * addresses the topology's rules need, the blocks this host leases for each in ZooKeeper
 * (tools/lib/topology/natlease.h), and midox_natlease, the map the datapath picks ports
 * from. The policy is natlease_policy.c's; here the counting and the I/O.
 *
 * The map is written only here: a block is appended to a live value; a block leaves a
 * value only by the release protocol (out of the map, MX_NAT_LEASE_GRACE_MS, checked
 * unused again, then its node deleted). A restart finds the map pinned and the nodes its
 * resumed session's; after a session expiry the blocks are taken again. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/clock.h"
#include "base/log.h"
#include "loader/conntrack.h"
#include "topology/natlease.h"
#include "agent.h"
#include "natlease_policy.h"

#define NAT_TICK_NS 1000000000ull
#define NAT_RETRY_NS 10000000000ull /* no free block: looked for again this much later */
#define NAT_TRIES_PER_TICK 64       /* creates one address may try in one tick */

static struct nat_addr *addr_find(struct agent_natlease *n, __be32 addr)
{
	for (size_t i = 0; i < n->n; i++)
		if (n->addrs[i].addr == addr)
			return &n->addrs[i];
	return NULL;
}

static struct nat_addr *addr_get(struct agent_natlease *n, __be32 addr)
{
	struct nat_addr *a = addr_find(n, addr), *grown;

	if (a)
		return a;
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 16;

		grown = realloc(n->addrs, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		n->addrs = grown;
		n->cap = cap;
	}
	a = &n->addrs[n->n++];
	memset(a, 0, sizeof(*a));
	a->addr = addr;
	return a;
}

static const char *ip(__be32 addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

static struct in_addr in(__be32 addr)
{
	return (struct in_addr){ .s_addr = addr };
}

/* ---- which addresses ---- */

/* A dynamic SNAT target: a port range, or more than one address. */
static bool rule_is_dynamic_snat(const struct topo_rule *r)
{
	return r->type == TOPO_RULE_SNAT && r->has_target &&
	       (r->target.port_from || r->target.from.s_addr != r->target.to.s_addr);
}

static void want_one(struct agent_natlease *n, __be32 addr, uint16_t lo, uint16_t hi)
{
	struct nat_addr *a = addr_get(n, addr);

	if (!a) {
		mx_err("NAT leases: out of memory");
		return;
	}
	if (!a->wanted) {
		a->wanted = true;
		a->port_lo = lo;
		a->port_hi = hi;
		return;
	}
	/* Several rules naming one address: the blocks of any of their ranges. */
	if (lo < a->port_lo)
		a->port_lo = lo;
	if (hi > a->port_hi)
		a->port_hi = hi;
}

void agent_natlease_want(struct agent *ag, const struct topology *t)
{
	struct agent_natlease *n = &ag->natlease;
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];

	for (size_t i = 0; i < n->n; i++)
		n->addrs[i].wanted = false;
	for (size_t i = 0; i < t->n_rules; i++) {
		const struct topo_rule *r = &t->rules[i];
		uint32_t from, to;
		uint64_t count;
		uint16_t lo, hi;

		if (!rule_is_dynamic_snat(r))
			continue;
		from = ntohl(r->target.from.s_addr);
		to = ntohl(r->target.to.s_addr);
		/* No ports given: the datapath's range for that case, MidoNet's (Neutron's)
		 * 1024-65535 (bpf/lib/natdyn.h). */
		lo = r->target.port_from ? r->target.port_from : AGENT_NAT_PORT_LO;
		hi = r->target.port_from ? r->target.port_to : 65535;
		count = (uint64_t)to - from + 1; /* 0.0.0.0-255.255.255.255: 2^32 */
		if (to < from)
			continue; /* refused by the rule's check; never read so */
		if (count > AGENT_NAT_ADDRS_PER_RULE) {
			if (!n->cap_warned)
				mx_warn("NAT leases: rule %s names %llu addresses (%s-%s); leasing for "
					"the first %u only", r->id, (unsigned long long)count,
					ip(r->target.from.s_addr, a1), ip(r->target.to.s_addr, a2),
					AGENT_NAT_ADDRS_PER_RULE);
			n->cap_warned = true;
			to = from + AGENT_NAT_ADDRS_PER_RULE - 1;
		}
		for (uint32_t x = from; x <= to && x >= from; x++)
			want_one(n, htonl(x), lo, hi);
	}
}

/* ---- the map ---- */

/* addr's value in the map: its published blocks in order (every CPU the same); an address
 * with none is removed. */
static int publish(struct agent *ag, struct nat_addr *a)
{
	int fd = mx_datapath_map_fd(ag->dp, MX_MAP_ID_NAT_LEASE);
	int ncpu = libbpf_num_possible_cpus();
	struct mx_nat_lease v;
	void *all;
	int err = 0;

	if (fd < 0 || ncpu <= 0)
		return -ENOENT;
	memset(&v, 0, sizeof(v));
	for (unsigned int i = 0; i < a->n_blocks; i++)
		if (!a->blocks[i].step.unpublished_ns)
			v.block[v.n_blocks++] = a->blocks[i].block;
	if (!v.n_blocks) {
		if (bpf_map_delete_elem(fd, &a->addr) && errno != ENOENT)
			err = -errno;
		return err;
	}
	all = calloc((size_t)ncpu, sizeof(v));
	if (!all)
		return -ENOMEM;
	for (int c = 0; c < ncpu; c++)
		memcpy((char *)all + (size_t)c * sizeof(v), &v, sizeof(v));
	if (bpf_map_update_elem(fd, &a->addr, all, BPF_ANY))
		err = -errno;
	free(all);
	if (err) {
		char s[INET_ADDRSTRLEN];

		mx_err("NAT leases: writing %s for %s: %s", MX_MAP_NAT_LEASE, ip(a->addr, s),
		       strerror(-err));
	}
	return err;
}

/* ---- ZooKeeper ---- */

static void block_add(struct nat_addr *a, uint16_t block, uint64_t now)
{
	struct nat_block *b = &a->blocks[a->n_blocks++];

	memset(b, 0, sizeof(*b));
	b->block = block;
	b->step.used_ns = now;
}

static void block_remove(struct nat_addr *a, unsigned int i)
{
	memmove(&a->blocks[i], &a->blocks[i + 1], (a->n_blocks - i - 1) * sizeof(a->blocks[0]));
	a->n_blocks--;
}

static bool block_held(const struct nat_addr *a, unsigned int block)
{
	for (unsigned int i = 0; i < a->n_blocks; i++)
		if (a->blocks[i].block == block)
			return true;
	return false;
}

/* Lease one more block of a: the candidates from this host's start point, a bounded number
 * a tick. Returns true when one was taken. */
static bool lease_one(struct agent *ag, struct nat_addr *a, uint64_t now)
{
	struct agent_natlease *n = &ag->natlease;
	struct nlp_span span = nlp_span_of(a->port_lo, a->port_hi);
	unsigned int start = nlp_start(ag->host_id, a->addr, span);
	char s[INET_ADDRSTRLEN];

	if (now < a->retry_ns || a->n_blocks >= MX_NAT_LEASE_BLOCKS_MAX)
		return false;
	for (unsigned int t = 0; t < NAT_TRIES_PER_TICK; t++) {
		unsigned int block;
		int err;

		if (a->tried >= nlp_span_size(span)) {
			a->tried = 0;
			a->retry_ns = now + NAT_RETRY_NS;
			n->lease_failures++;
			/* Said once until a block is had again; looked for every 10 s. */
			if (!a->starved)
				mx_warn("NAT leases: no free block left for %s (ports %u-%u): "
					"other hosts hold them all", ip(a->addr, s), a->port_lo,
					a->port_hi);
			a->starved = true;
			return false;
		}
		block = nlp_candidate(span, start, a->tried++);
		if (block_held(a, block))
			continue;
		err = topo_nat_lease_take(ag->zk.zh, in(a->addr), block, ag->host_id);
		/* Refused: a tree secured before the agents' group had a right there. Fixed
		 * with the cluster credential, and tried again once (at most every retry). */
		if (err == -EACCES && topo_acl_enabled() && !agent_provision(ag))
			err = topo_nat_lease_take(ag->zk.zh, in(a->addr), block, ag->host_id);
		if (err == -EEXIST)
			continue;
		if (err) {
			n->lease_failures++;
			a->retry_ns = now + NAT_RETRY_NS;
			mx_warn("NAT leases: %s", topo_errmsg());
			return false;
		}
		a->tried = 0;
		a->starved = false;
		block_add(a, (uint16_t)block, now);
		n->taken++;
		mx_info("NAT leases: %s block %u (ports %u-%u) leased", ip(a->addr, s), block,
			block * MX_NAT_BLOCK_PORTS, block * MX_NAT_BLOCK_PORTS + MX_NAT_BLOCK_PORTS - 1);
		publish(ag, a);
		return true;
	}
	return false;
}

/* At start and after a session expiry: the blocks the pinned map holds (a restart: the
 * previous agent's) and the nodes this host holds, made one. A node of this session is
 * kept; a block with no node is taken again; one another host took meanwhile is lost. */
static int resync(struct agent *ag, uint64_t now)
{
	struct agent_natlease *n = &ag->natlease;
	int fd = mx_datapath_map_fd(ag->dp, MX_MAP_ID_NAT_LEASE);
	int ncpu = libbpf_num_possible_cpus();
	struct in_addr *zaddrs = NULL;
	size_t n_zaddrs = 0, skipped = 0;
	struct mx_nat_lease *vals;
	__be32 key, next, *prev = NULL;
	char s[INET_ADDRSTRLEN];
	int err;

	if (fd < 0 || ncpu <= 0)
		return -ENOENT;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	/* 1. What the map holds (CPU 0's copy; all are the same). */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct nat_addr *a;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		a = addr_get(n, key);
		for (unsigned int i = 0; a && i < vals[0].n_blocks && i < MX_NAT_LEASE_BLOCKS_MAX;
		     i++)
			if (vals[0].block[i] < MX_NAT_BLOCKS && !block_held(a, vals[0].block[i]) &&
			    a->n_blocks < MX_NAT_LEASE_BLOCKS_MAX)
				block_add(a, vals[0].block[i], now);
	}
	free(vals);
	/* 2. This host's nodes of this session (a restart resumed it). */
	err = topo_nat_addresses_read(ag->zk.zh, &zaddrs, &n_zaddrs, &skipped);
	for (size_t i = 0; !err && i < n_zaddrs; i++) {
		struct topo_nat_lease *l = NULL;
		size_t nl = 0;

		err = topo_nat_leases_read(ag->zk.zh, zaddrs[i], &l, &nl, &skipped);
		for (size_t j = 0; !err && j < nl; j++) {
			struct nat_addr *a;

			if (!l[j].mine || strcmp(l[j].host_id, ag->host_id))
				continue;
			a = addr_get(n, zaddrs[i].s_addr);
			if (a && !block_held(a, l[j].block) && a->n_blocks < MX_NAT_LEASE_BLOCKS_MAX)
				block_add(a, l[j].block, now);
			if (a)
				for (unsigned int k = 0; k < a->n_blocks; k++)
					if (a->blocks[k].block == l[j].block)
						a->blocks[k].confirmed = true;
		}
		free(l);
	}
	free(zaddrs);
	if (err) {
		mx_warn("NAT leases: reading the leases: %s", topo_errmsg());
		return err;
	}
	/* 3. Blocks without a node of this session: taken again, or lost. */
	for (size_t i = 0; i < n->n; i++) {
		struct nat_addr *a = &n->addrs[i];

		for (unsigned int k = 0; k < a->n_blocks;) {
			struct nat_block *b = &a->blocks[k];

			if (b->confirmed) {
				b->confirmed = false;
				k++;
				continue;
			}
			err = topo_nat_lease_take(ag->zk.zh, in(a->addr), b->block, ag->host_id);
			if (!err) {
				mx_info("NAT leases: %s block %u leased again", ip(a->addr, s),
					b->block);
				k++;
				continue;
			}
			if (err != -EEXIST) {
				mx_warn("NAT leases: %s", topo_errmsg());
				return err;
			}
			n->lost++;
			mx_warn("NAT leases: %s block %u is another host's now: taken out of the "
				"map (connections on its ports may collide with that host's)",
				ip(a->addr, s), b->block);
			block_remove(a, k);
		}
		publish(ag, a);
	}
	return 0;
}

/* ---- counting ---- */

/* A NAT'd connection's destination, per address, for the per-destination count. */
struct nat_use {
	__be32 addr, dst;
	__be16 dport;
	__u8 proto;
	__u8 pad;
};

static int cmp_use(const void *x, const void *y)
{
	return memcmp(x, y, sizeof(struct nat_use));
}

/* Every tracked connection whose NAT source is a managed address and whose port is in a
 * block this host holds: its block used now, and the most ports one destination of the
 * address uses (max_dest). A walk of the whole table
 * each tick while this host manages an address (the sweep's walk, every second): fresh
 * counts are what the release's second check needs. */
static int count_usage(struct agent *ag, uint64_t now)
{
	struct agent_natlease *n = &ag->natlease;
	int fd = mx_datapath_map_fd(ag->dp, MX_MAP_ID_CT);
	struct mx_ct_key *keys = NULL;
	struct mx_ct_entry *entries = NULL;
	struct nat_use *uses = NULL;
	size_t n_uses = 0, n_entries = 0;
	int err;

	for (size_t i = 0; i < n->n; i++) {
		n->addrs[i].max_dest = 0;
		for (unsigned int k = 0; k < n->addrs[i].n_blocks; k++)
			n->addrs[i].blocks[k].step.conns = 0;
	}
	if (fd < 0)
		return -ENOENT;
	/* One read of the table in batches: key by key it was two system calls an entry. */
	err = mx_ct_entries(fd, &keys, &entries, &n_entries);
	if (err)
		return err;
	uses = n_entries ? calloc(n_entries, sizeof(*uses)) : NULL;
	if (n_entries && !uses) {
		free(keys);
		free(entries);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_entries; i++) {
		const struct mx_ct_entry *e = &entries[i];
		struct nat_addr *a;
		unsigned int block;
		bool ours;

		/* A connection's own entry (its index entry, keyed by the translated tuple,
		 * holds the original one in nat: not counted twice). */
		if (!(e->flags & MX_CT_F_NAT) || (e->flags & MX_CT_F_NAT_INDEX))
			continue;
		a = addr_find(n, e->nat.src);
		if (!a)
			continue;
		block = ntohs(e->nat.sport) / MX_NAT_BLOCK_PORTS;
		ours = false;
		for (unsigned int k = 0; k < a->n_blocks; k++)
			if (a->blocks[k].block == block) {
				a->blocks[k].step.conns++;
				a->blocks[k].step.used_ns = now;
				ours = true;
			}
		/* A port of another host's block: a flow-state copy of that host's connection
		 * (the host of an uplink holds those of every host that SNATs through it). */
		if (!ours)
			continue;
		uses[n_uses++] = (struct nat_use){ .addr = e->nat.src, .dst = e->nat.dst,
						   .dport = e->nat.dport, .proto = keys[i].proto };
	}
	free(keys);
	free(entries);
	qsort(uses, n_uses, sizeof(*uses), cmp_use);
	for (size_t i = 0, run = 1; i < n_uses; i++, run++) {
		if (i + 1 < n_uses && !cmp_use(&uses[i], &uses[i + 1]))
			continue;
		struct nat_addr *a = addr_find(n, uses[i].addr);

		if (a && run > a->max_dest)
			a->max_dest = (unsigned int)run;
		run = 0;
	}
	free(uses);
	return 0;
}

/* Whether the datapath's nat-exhausted drops (summed over ports and CPUs) rose since the
 * last tick. */
static bool exhausted_rose(struct agent *ag)
{
	struct agent_natlease *n = &ag->natlease;
	struct mx_port_stats_entry *all = NULL;
	uint64_t total = 0;
	size_t count = 0;
	bool rose;

	if (mx_stats_read_all(ag->dp, &all, &count))
		return false;
	for (size_t i = 0; i < count; i++)
		total += all[i].stats.drops[MX_DROP_NAT_EXHAUSTED];
	free(all);
	rose = n->have_exhausted && total > n->exhausted;
	n->exhausted = total;
	n->have_exhausted = true;
	return rose;
}

/* ---- the tick ---- */

static bool in_span(const struct nat_addr *a, unsigned int block)
{
	struct nlp_span span = nlp_span_of(a->port_lo, a->port_hi);

	return block >= span.first && block <= span.last;
}

/* The blocks in the map the rules' ports may come from: a block a changed rule no longer
 * reaches gives no port, so it neither counts nor is kept as the last one. */
static unsigned int usable(const struct nat_addr *a)
{
	unsigned int p = 0;

	for (unsigned int i = 0; i < a->n_blocks; i++)
		p += !a->blocks[i].step.unpublished_ns && in_span(a, a->blocks[i].block);
	return p;
}

/* The release protocol for each block of a; returns false when a is to be forgotten. */
static bool release_step(struct agent *ag, struct nat_addr *a, uint64_t now)
{
	struct agent_natlease *n = &ag->natlease;
	uint64_t idle_ns = (uint64_t)ag->cfg.nat_block_idle_ms * 1000000ull;
	char s[INET_ADDRSTRLEN];
	bool changed = false;

	for (unsigned int k = 0; k < a->n_blocks;) {
		struct nat_block *b = &a->blocks[k];
		bool may = !a->wanted || !in_span(a, b->block) || usable(a) > 1;

		switch (nlp_block_step(&b->step, now, idle_ns, may)) {
		case NLP_UNPUBLISH:
			b->step.unpublished_ns = now;
			changed = true;
			break;
		case NLP_REPUBLISH: {
			/* Back at the end of the value: an append. */
			struct nat_block back = *b;

			back.step.unpublished_ns = 0;
			block_remove(a, k);
			a->blocks[a->n_blocks++] = back;
			publish(ag, a);
			continue; /* the next block is at k now; this one, last, is kept */
		}
		case NLP_DROP:
			if (topo_nat_lease_drop(ag->zk.zh, in(a->addr), b->block)) {
				mx_warn("NAT leases: %s", topo_errmsg());
				break;
			}
			n->released++;
			mx_info("NAT leases: %s block %u released", ip(a->addr, s), b->block);
			block_remove(a, k);
			continue;
		case NLP_KEEP:
			break;
		}
		k++;
	}
	if (changed)
		publish(ag, a);
	if (a->wanted || a->n_blocks)
		return true;
	publish(ag, a); /* no block: the key goes */
	topo_nat_address_prune(ag->zk.zh, in(a->addr));
	return false;
}

void agent_natlease_tick(struct agent *ag)
{
	struct agent_natlease *n = &ag->natlease;
	uint64_t now = mx_now_ns();
	bool exhausted;

	/* Before a topology was applied every address looks unneeded: nothing to decide. */
	if (!ag->dp || !ag->have_topo || !atomic_load(&ag->zk.connected) || !ag->registered)
		return;
	if (now - n->last_tick_ns < NAT_TICK_NS && !n->need_resync)
		return;
	n->last_tick_ns = now;
	if (n->need_resync || !n->synced) {
		if (resync(ag, now))
			return; /* tried again next tick */
		n->need_resync = false;
		n->synced = true;
	}
	if (!n->n)
		return;
	count_usage(ag, now);
	exhausted = exhausted_rose(ag);
	for (size_t i = 0; i < n->n;) {
		struct nat_addr *a = &n->addrs[i];

		if (a->wanted && nlp_should_grow(a->max_dest, usable(a), exhausted)) {
			unsigned int k = nlp_grow_count(usable(a), exhausted && a->max_dest);

			while (k-- && lease_one(ag, a, now))
				;
		}
		if (release_step(ag, a, now)) {
			i++;
			continue;
		}
		*a = n->addrs[--n->n];
	}
}

void agent_natlease_expired(struct agent *ag)
{
	ag->natlease.need_resync = true;
}

unsigned int agent_natlease_blocks(const struct agent *ag)
{
	unsigned int total = 0;

	for (size_t i = 0; i < ag->natlease.n; i++)
		total += ag->natlease.addrs[i].n_blocks;
	return total;
}

void agent_natlease_free(struct agent *ag)
{
	free(ag->natlease.addrs);
	memset(&ag->natlease, 0, sizeof(ag->natlease));
}
