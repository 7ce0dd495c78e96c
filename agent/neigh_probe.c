// SPDX-License-Identifier: Apache-2.0
/* Neighbours of routers kept confirmed while they live. The datapath learns a neighbour
 * from the ARP it sees, and the agent expires one not seen for mac_age_seconds (learn.c).
 * A neighbour that never ARPs (its kernel keeps the gateway confirmed by TCP, or holds it
 * static) would expire while it lives and lose the next packet sent to it (arp-miss). So,
 * as Linux's unicast probes of a stale entry: past half of mac_age_seconds, the agent asks
 * the neighbour by a unicast ARP request from its router port, sent with an AF_PACKET
 * socket out of the interface it is reached by; a live neighbour answers, the datapath
 * learns the reply (router_arp) and its entry is young again. A dead one does not, and
 * expires as before. Only tc ingress carries midox programs, so the frame leaves as
 * written: out of a VM's host-side veth it is the VM's to receive. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/addr.h"
#include "base/clock.h"
#include "base/log.h"
#include "agent.h"
#include "neigh_probe.h"

/* The retry interval: a tenth of mac_age_seconds, within these bounds (default 300 s: a
 * probe every 5 s from 150 s on, 30 before a dead neighbour expires). */
#define PROBE_RETRY_MIN_NS (1 * MX_NSEC_PER_SEC)
#define PROBE_RETRY_MAX_NS (5 * MX_NSEC_PER_SEC)

/* An Ethernet/IPv4 ARP request, padded to the Ethernet minimum. */
struct probe_frame {
	uint8_t dst[ETH_ALEN], src[ETH_ALEN];
	__be16 proto;
	__be16 hrd, pro;
	uint8_t hln, pln;
	__be16 op;
	uint8_t sha[ETH_ALEN];
	__be32 spa;
	uint8_t tha[ETH_ALEN];
	__be32 tpa;
	uint8_t pad[18];
} __attribute__((packed));
_Static_assert(sizeof(struct probe_frame) == 60, "ARP request padded to 60 bytes");

/* Where and as whom a neighbour is asked. */
struct probe_target {
	int ifindex;
	uint8_t src_mac[ETH_ALEN];
	__be32 src;
};

struct probe_walk {
	struct agent *a;
	struct neigh_probed_set next; /* the ageing neighbours of this tick */
	uint64_t now, age_ns, retry_ns;
	unsigned int sent, failed;
	int last_err;
};

/* ---- the set of probed neighbours ---- */

static int probed_add(struct neigh_probed_set *s, const struct mx_neigh_key *k, uint64_t at)
{
	struct neigh_probed p = { .key = *k, .probed_ns = at };

	if (!s->ix.key_size)
		index_init(&s->ix, s->items, sizeof(p), 0, sizeof(*k), INDEX_BYTES);
	return index_append(&s->ix, &s->items, &s->n, &s->cap, &p);
}

/* When k was last probed; 0: not in the set. */
static uint64_t probed_at(const struct neigh_probed_set *s, const struct mx_neigh_key *k)
{
	long i = s->n ? index_find(&s->ix, k) : -1;

	return i >= 0 ? s->items[i].probed_ns : 0;
}

static void probed_free(struct neigh_probed_set *s)
{
	index_free(&s->ix);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

/* ---- where a neighbour is reached ---- */

/* The router port's address on the neighbour's subnet (its primary one when none is). */
static __be32 probe_source(const struct agent *a, __u32 port_key, __be32 addr, __be32 primary)
{
	const struct topo_port *p = topo_port_by_key(&a->topo, port_key);

	for (size_t i = 0; p && i < p->n_nets; i++) {
		uint32_t mask = mx_prefix_mask(p->nets[i].len);

		if ((ntohl(p->nets[i].addr.s_addr) & mask) == (ntohl(addr) & mask))
			return p->nets[i].addr.s_addr;
	}
	return primary;
}

/* The interface of the bridge port that neighbour MAC mac is at, behind bridge port
 * bridge_port (the router port's peer): its MAC-table entry's port, if bound here.
 * -EREMOTE: not reached from this host. */
static int probe_bridge_ifindex(struct agent *a, const struct mx_port *bridge_port,
				const uint8_t *mac)
{
	struct mx_fdb_key fk = { .bridge_key = bridge_port->device_key };
	struct mx_fdb_entry fe;
	struct mx_port out;
	int err;

	if (bridge_port->flags & MX_PORT_ROUTER)
		return -EREMOTE; /* two routers linked: the peer's MAC is its port's, never aged */
	memcpy(fk.mac, mac, ETH_ALEN);
	err = mx_fdb_lookup(a->dp, &fk, &fe);
	if (!err)
		err = mx_port_lookup(a->dp, fe.port_key, &out);
	if (err)
		return err;
	if (out.device_key != bridge_port->device_key || !(out.flags & MX_PORT_LOCAL) ||
	    (out.flags & (MX_PORT_INTERIOR | MX_PORT_DOWN)))
		return -EREMOTE;
	return (int)out.ifindex;
}

/* Where neighbour k (entry e) is asked from: its router port's MAC and address, out of the
 * port's own interface (exterior, bound here) or of the bridge port its MAC is at (the
 * router port linked to a bridge). -EREMOTE: not from this host. */
static int probe_target_of(struct agent *a, const struct mx_neigh_key *k,
			   const struct mx_neigh_entry *e, struct probe_target *t)
{
	struct mx_port rp, peer;
	int err = mx_port_lookup(a->dp, e->port_key, &rp);

	if (err)
		return err;
	if (!(rp.flags & MX_PORT_ROUTER) || rp.device_key != k->router_key)
		return -ESTALE; /* the port is another's now: the entry will be replaced */
	if (rp.flags & MX_PORT_DOWN)
		return -ENETDOWN;
	memcpy(t->src_mac, rp.mac, ETH_ALEN);
	t->src = probe_source(a, e->port_key, k->addr, rp.addr);
	if (!(rp.flags & MX_PORT_INTERIOR)) {
		t->ifindex = (int)rp.ifindex;
		return rp.flags & MX_PORT_LOCAL ? 0 : -EREMOTE;
	}
	err = mx_port_lookup(a->dp, rp.peer_key, &peer);
	if (!err)
		err = probe_bridge_ifindex(a, &peer, e->mac);
	if (err < 0)
		return err;
	t->ifindex = err;
	return 0;
}

/* ---- sending ---- */

static int probe_socket(struct agent_neigh_probe *np)
{
	if (np->fd < 0) {
		/* Protocol 0: the socket receives nothing, it only sends. */
		np->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (np->fd < 0)
			return -errno;
	}
	return np->fd;
}

static void probe_frame_fill(struct probe_frame *f, const struct probe_target *t,
			     const struct mx_neigh_key *k, const uint8_t *dst_mac)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->dst, dst_mac, ETH_ALEN);
	memcpy(f->src, t->src_mac, ETH_ALEN);
	f->proto = htons(ETH_P_ARP);
	f->hrd = htons(ARPHRD_ETHER);
	f->pro = htons(ETH_P_IP);
	f->hln = ETH_ALEN;
	f->pln = 4;
	f->op = htons(ARPOP_REQUEST);
	memcpy(f->sha, t->src_mac, ETH_ALEN);
	f->spa = t->src;
	f->tpa = k->addr; /* tha stays 0, as in Linux's probes */
}

static int probe_send(struct agent_neigh_probe *np, const struct probe_target *t,
		      const struct mx_neigh_key *k, const uint8_t *dst_mac)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = t->ifindex, .sll_halen = ETH_ALEN };
	struct probe_frame f;
	int fd = probe_socket(np);

	if (fd < 0)
		return fd;
	memcpy(to.sll_addr, dst_mac, ETH_ALEN);
	probe_frame_fill(&f, t, k, dst_mac);
	if (sendto(fd, &f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* Ask neighbour k once; a neighbour not reached from here is no failure. */
static void probe_one(struct probe_walk *w, const struct mx_neigh_key *k,
		      const struct mx_neigh_entry *e)
{
	struct agent_neigh_probe *np = &w->a->neigh_probe;
	struct probe_target t;
	char addr[INET_ADDRSTRLEN];
	int err = probe_target_of(w->a, k, e, &t);

	inet_ntop(AF_INET, &k->addr, addr, sizeof(addr));
	if (err == -EREMOTE || err == -ENETDOWN || err == -ESTALE || err == -ENOENT) {
		mx_debug("neighbour %s of router %u: not probed from here (%s)", addr,
			 k->router_key, strerror(-err));
		return;
	}
	if (!err)
		err = probe_send(np, &t, k, e->mac);
	if (err) {
		np->errors++;
		w->failed++;
		w->last_err = err;
		mx_debug("neighbour %s of router %u: probe failed: %s", addr, k->router_key,
			 strerror(-err));
		return;
	}
	np->sent++;
	w->sent++;
	mx_debug("neighbour %s of router %u: probed out of ifindex %d", addr, k->router_key,
		 t.ifindex);
}

/* One entry of midox_neigh: probed when learned here, ageing, and not probed lately. */
static int probe_entry(const void *key, const void *value, void *ctx)
{
	const struct mx_neigh_entry *e = value;
	const struct mx_neigh_key *k = key;
	struct probe_walk *w = ctx;
	uint64_t last;

	if (!(e->flags & MX_NEIGH_LOCAL) || e->seen_ns >= w->now || w->now - e->seen_ns < w->age_ns)
		return 0;
	last = probed_at(&w->a->neigh_probe.set, k);
	if (last && w->now - last < w->retry_ns)
		return probed_add(&w->next, k, last);
	probe_one(w, k, e);
	return probed_add(&w->next, k, w->now);
}

static uint64_t probe_retry_ns(unsigned int mac_age_s)
{
	uint64_t r = (uint64_t)mac_age_s * MX_NSEC_PER_SEC / 10;

	if (r < PROBE_RETRY_MIN_NS)
		return PROBE_RETRY_MIN_NS;
	return r > PROBE_RETRY_MAX_NS ? PROBE_RETRY_MAX_NS : r;
}

void agent_neigh_probe_tick(struct agent *a)
{
	struct probe_walk w = { .a = a, .now = mx_now_ns() };
	int err;

	if (!a->dp || !a->have_topo || a->cfg.mac_age_s <= 0)
		return;
	w.age_ns = (uint64_t)a->cfg.mac_age_s * MX_NSEC_PER_SEC / 2;
	w.retry_ns = probe_retry_ns((unsigned int)a->cfg.mac_age_s);
	err = mx_map_walk(a->dp, MX_MAP_ID_NEIGH, probe_entry, &w);
	if (err) {
		/* Out of memory, or the map unreadable: the old set stays, tried next tick. */
		mx_warn("neighbour probes: %s", strerror(-err));
		probed_free(&w.next);
		return;
	}
	probed_free(&a->neigh_probe.set);
	a->neigh_probe.set = w.next;
	if (w.failed)
		mx_warn("neighbour probes: %u sent, %u failed (last: %s)", w.sent, w.failed,
			strerror(-w.last_err));
}

void agent_neigh_probe_free(struct agent *a)
{
	if (a->neigh_probe.fd >= 0)
		close(a->neigh_probe.fd);
	a->neigh_probe.fd = -1;
	probed_free(&a->neigh_probe.set);
}
