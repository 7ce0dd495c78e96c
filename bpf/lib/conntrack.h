/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Connection tracking, per device as MidoNet keys it: one entry per connection under the
 * tuple of the packet that opened it (the forward direction) and the device's key; a packet
 * is forward when its own tuple is there, return when its reversed tuple is. TCP follows
 * its handshake and close (enum mx_ct_state), UDP whether a reply was seen, ICMP echo its
 * id; an ICMP error quoting a tracked connection is related (a return flow).
 *
 * Two steps, so that a packet the chains drop opens nothing: ct_lookup classifies the
 * packet and moves a tracked connection's state on; the caller, once the packet is to be
 * forwarded, calls ct_commit for a MX_CT_V_NEW verdict, which creates the entry or says
 * MX_CT_V_FULL (the table is preallocated, never evicts: the caller drops, ct-full).
 * An entry idle past its state's timeout is gone for ct_lookup (a new packet reuses the
 * slot); the agent's sweep (loader/conntrack.c) frees it. An entry is read through a copy
 * checked against its key's tag (ct_read), and written in place only while the tag still
 * says it is its key's (ct_touch): the element of a replaced or deleted entry can be
 * another connection's by the time a reader looks. Time is the caller's: the
 * pipeline passes bpf_ktime_get_ns(), the tests a clock of their own. Every write is also
 * noted (lib/flowstate.h) to ride in the packet, if it is tunnelled, to the host that
 * simulates the replies.
 *
 * The pipeline calls it through lib/track.h: docs/conntrack.md, "In the pipeline". */
#ifndef MX_BPF_CONNTRACK_H
#define MX_BPF_CONNTRACK_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/conntrack.h"
#include "lib/elem.h"
#include "lib/flowstate.h"
#include "lib/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH); /* preallocated: its memory is taken at creation */
	__uint(max_entries, MX_CT_MAX_ENTRIES_DEFAULT); /* the loader sets the configured size */
	__type(key, struct mx_ct_key);
	__type(value, struct mx_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_ct_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_ctcfg SEC(".maps");

/* An entry's last_seen is rewritten at most this often unless its state changes: one map
 * write per connection per second, not per packet. The sweep's error is at most this. */
#define CT_REFRESH_NS 1000000000ull

#define CT_ICMP_ECHOREPLY 0
#define CT_ICMP_DEST_UNREACH 3
#define CT_ICMP_SOURCE_QUENCH 4
#define CT_ICMP_REDIRECT 5
#define CT_ICMP_ECHO 8
#define CT_ICMP_TIME_EXCEEDED 11
#define CT_ICMP_PARAMETERPROB 12

#define CT_TCP_FIN 0x01
#define CT_TCP_SYN 0x02
#define CT_TCP_RST 0x04
#define CT_TCP_ACK 0x10

enum ct_pkt_kind {
	CT_PKT_NONE = 0,   /* nothing tracking reads */
	CT_PKT_TCP,
	CT_PKT_UDP,
	CT_PKT_ECHO,       /* ICMP echo request */
	CT_PKT_ECHO_REPLY,
	CT_PKT_ICMP_ERROR, /* quoted: the tuple of the packet it quotes */
	CT_PKT_BAD,        /* a tracked protocol whose header is cut short or unreadable */
};

/* What tracking reads of a packet, once. */
struct ct_pkt {
	struct mx_ct_key key;    /* the packet's own tuple, on its device */
	struct mx_ct_key quoted; /* CT_PKT_ICMP_ERROR */
	__u8 kind;               /* enum ct_pkt_kind */
	__u8 tcp_flags;
	__u8 first_frag;         /* a first fragment: of a connection, never the opener */
	__u8 pad;
};

/* The result of ct_lookup: the verdict and the connection's state after this packet. */
struct ct_result {
	__u8 verdict; /* enum mx_ct_verdict */
	__u8 state;   /* enum mx_ct_state, for FWD, RETURN, RELATED */
	__u16 pad;
};

static __always_inline void ct_reverse(struct mx_ct_key *r, const struct mx_ct_key *k)
{
	*r = *k;
	r->src = k->dst;
	r->dst = k->src;
	r->sport = k->dport;
	r->dport = k->sport;
}

/* The quoted packet of an ICMP error at c: its IPv4 header and 8 bytes (RFC 792), each
 * bounds-checked. Its source must be the error's destination (the error goes back to the
 * quoted packet's sender). false: nothing usable is quoted. */
static __always_inline bool ct_parse_quoted(struct cursor *c, const struct iphdr *outer,
					    struct mx_ct_key *q)
{
	struct iphdr *ip;
	__u8 *l4;

	if (parse_ipv4(c, &ip) != PARSE_IPV4_OK || ip->saddr != outer->daddr ||
	    (ip->frag_off & bpf_htons(IP_OFFSET)))
		return false;
	l4 = cursor_take(c, 8);
	if (!l4)
		return false;
	q->src = ip->saddr;
	q->dst = ip->daddr;
	q->proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		__builtin_memcpy(&q->sport, l4, 2);
		__builtin_memcpy(&q->dport, l4 + 2, 2);
		return true;
	}
	if (ip->protocol == IPPROTO_ICMP && (l4[0] == CT_ICMP_ECHO || l4[0] == CT_ICMP_ECHOREPLY)) {
		__builtin_memcpy(&q->sport, l4 + 4, 2);
		q->dport = q->sport;
		return true;
	}
	return false;
}

/* The ICMP message at c: echo (keyed by its id on both ports, so that the reversed tuple of
 * the reply is the request's), or an error and what it quotes. */
static __always_inline void ct_parse_icmp(struct cursor *c, const struct iphdr *ip,
					  struct ct_pkt *p)
{
	__u8 *h = cursor_take(c, 8);

	if (!h) {
		p->kind = CT_PKT_BAD;
		return;
	}
	switch (h[0]) {
	case CT_ICMP_ECHO:
	case CT_ICMP_ECHOREPLY:
		p->kind = h[0] == CT_ICMP_ECHO ? CT_PKT_ECHO : CT_PKT_ECHO_REPLY;
		__builtin_memcpy(&p->key.sport, h + 4, 2);
		p->key.dport = p->key.sport;
		return;
	case CT_ICMP_DEST_UNREACH:
	case CT_ICMP_SOURCE_QUENCH:
	case CT_ICMP_REDIRECT:
	case CT_ICMP_TIME_EXCEEDED:
	case CT_ICMP_PARAMETERPROB:
		p->quoted.device = p->key.device;
		p->kind = ct_parse_quoted(c, ip, &p->quoted) ? CT_PKT_ICMP_ERROR : CT_PKT_BAD;
		return;
	}
	/* Other ICMP (timestamps, router discovery...): not tracked. */
}

/* Read what tracking needs from an Ethernet/IPv4 packet, for device. p is zeroed here. */
static __always_inline void ct_parse(struct __sk_buff *skb, __u32 device, struct ct_pkt *p)
{
	struct cursor c;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u8 *l4;

	__builtin_memset(p, 0, sizeof(*p));
	p->key.device = device;
	/* Ethernet, two IPv4 headers with options, ICMP and 8 quoted bytes. */
	pull_headers(skb, ETH_HLEN + 60 + 8 + 60 + 8);
	cursor_init(&c, skb);
	eth = parse_eth(&c);
	if (!eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return;
	if (parse_ipv4(&c, &ip) != PARSE_IPV4_OK)
		return;
	/* A later fragment has no ports: untracked (the pipeline does not reassemble). */
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return;
	p->first_frag = ipv4_is_fragment(ip);
	p->key.src = ip->saddr;
	p->key.dst = ip->daddr;
	p->key.proto = ip->protocol;
	if (ip->protocol == IPPROTO_ICMP) {
		ct_parse_icmp(&c, ip, p);
		return;
	}
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return;
	/* Ports, and TCP's flags (byte 13). */
	l4 = cursor_take(&c, ip->protocol == IPPROTO_TCP ? 14 : 4);
	if (!l4) {
		p->kind = CT_PKT_BAD;
		return;
	}
	__builtin_memcpy(&p->key.sport, l4, 2);
	__builtin_memcpy(&p->key.dport, l4 + 2, 2);
	if (ip->protocol == IPPROTO_UDP) {
		p->kind = CT_PKT_UDP;
		return;
	}
	p->kind = CT_PKT_TCP;
	/* l4 + 13 is within the 14 bytes taken; the verifier wants it said again. */
	if ((void *)(l4 + 14) <= c.end)
		p->tcp_flags = l4[13];
}

static __always_inline const struct mx_ct_config *ct_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_ctcfg, &zero);
}

/* The packet's tracking results at the device it is passing (include/midox/conntrack.h):
 * written by the pipeline's lookup (lib/track.h), read by dynamic NAT and the commit. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_ct_pass);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_ctpass_v2 SEC(".maps");

static __always_inline struct mx_ct_pass *ct_pass(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_ctpass_v2, &zero);
}

/* Whether the element e a lookup of key gave still holds key's entry: its tag, read after
 * everything the reader took from it (include/midox/conntrack.h, mx_ct_tag). */
static __always_inline bool ct_elem_is(const struct mx_ct_entry *e, const struct mx_ct_key *key)
{
	elem_key_after_copy();
	return mx_ct_tag_is(*(volatile const __u32 *)&e->tag, key);
}

/* Copy the element e of key into *v: false when it turned out to be another key's (a
 * miss). */
static __always_inline bool ct_read(const struct mx_ct_key *key, const struct mx_ct_entry *e,
				    struct mx_ct_entry *v)
{
	*v = *e;
	return ct_elem_is(e, key);
}

/* The live connection entry of key, copied into *v, and its element for a write in place
 * (NULL: none, idle past its timeout, or an index entry, which is no connection: a packet
 * is never forward on one). */
static __always_inline struct mx_ct_entry *ct_find(const struct mx_ct_key *key,
						   const struct mx_ct_config *cfg, __u64 now,
						   struct mx_ct_entry *v)
{
	struct mx_ct_entry *e = bpf_map_lookup_elem(&midox_ct, key);

	if (!e || !ct_read(key, e, v) || (v->flags & MX_CT_F_NAT_INDEX) ||
	    mx_ct_expired(cfg, v, now))
		return NULL;
	return e;
}

/* The key of the connection an index entry e (keyed by idx) stands for. */
static __always_inline void ct_index_main(struct mx_ct_key *main, const struct mx_ct_key *idx,
					  const struct mx_ct_entry *e)
{
	__builtin_memset(main, 0, sizeof(*main));
	main->device = idx->device;
	main->proto = idx->proto;
	main->src = e->nat.src;
	main->dst = e->nat.dst;
	main->sport = e->nat.sport;
	main->dport = e->nat.dport;
}

/* Whether connection entry e leaves its device as key (its binding points at key). */
static __always_inline bool ct_nat_is(const struct mx_ct_entry *e, const struct mx_ct_key *key)
{
	return (e->flags & MX_CT_F_NAT) && e->nat.src == key->src && e->nat.dst == key->dst &&
	       e->nat.sport == key->sport && e->nat.dport == key->dport;
}

/* The live connection known by tuple *key, copied into *v, and its element: its own
 * entry, or through an index entry (a NATed connection known by the tuple it leaves the
 * device with), in which case *key becomes the connection's key. An index whose connection
 * is gone, idle or bound elsewhere is nothing (the sweep removes it). */
static __always_inline struct mx_ct_entry *ct_find_conn(struct mx_ct_key *key,
							const struct mx_ct_config *cfg, __u64 now,
							struct mx_ct_entry *v)
{
	struct mx_ct_entry *e = bpf_map_lookup_elem(&midox_ct, key);
	struct mx_ct_key main;

	if (!e || !ct_read(key, e, v))
		return NULL;
	if (v->flags & MX_CT_F_NAT_INDEX) {
		ct_index_main(&main, key, v);
		e = bpf_map_lookup_elem(&midox_ct, &main);
		if (!e || !ct_read(&main, e, v) || !ct_nat_is(v, key))
			return NULL;
		*key = main;
	}
	if ((v->flags & MX_CT_F_NAT_INDEX) || mx_ct_expired(cfg, v, now))
		return NULL;
	return e;
}

/* The connection key (entry e) is the packet's: its binding, if it has one, into s. */
static __always_inline void ct_bind(struct mx_ct_pass *s, const struct mx_ct_key *key,
				    const struct mx_ct_entry *e)
{
	if (!s || !(e->flags & MX_CT_F_NAT))
		return;
	s->bound = 1;
	s->conn = *key;
	s->nat = e->nat;
}

/* A TCP connection's next state on a segment with flags from the opener (reply false) or
 * the other side. */
static __always_inline __u8 ct_tcp_next(struct mx_ct_entry *e, __u8 flags, bool reply)
{
	bool syn = flags & CT_TCP_SYN, ack = flags & CT_TCP_ACK;

	if (flags & CT_TCP_RST)
		return MX_CT_TCP_CLOSE;
	switch (e->state) {
	case MX_CT_TCP_SYN_SENT:
		return reply && syn && ack ? MX_CT_TCP_SYN_RECV : MX_CT_TCP_SYN_SENT;
	case MX_CT_TCP_SYN_RECV:
	case MX_CT_TCP_ESTABLISHED:
	case MX_CT_TCP_FIN_WAIT:
		if (flags & CT_TCP_FIN) {
			e->flags |= reply ? MX_CT_F_FIN_REPLY : MX_CT_F_FIN_FWD;
			return (e->flags & (MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY)) ==
					       (MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY)
				       ? MX_CT_TCP_TIME_WAIT
				       : MX_CT_TCP_FIN_WAIT;
		}
		if (e->state == MX_CT_TCP_SYN_RECV && !reply && ack && !syn)
			return MX_CT_TCP_ESTABLISHED;
		return e->state;
	}
	return e->state;
}

/* The connection key (element e, read into v, whose flags ct_tcp_next may have moved on)
 * saw a packet at now: its state becomes state, its last_seen now (written only when the
 * state changed or a second has passed; the flags change only with the state), in place
 * while e is still key's. Each write is also a flow-state record (lib/flowstate.h) that
 * rides to the peer host if the packet is tunnelled: so the peer's copy changes state with
 * this one and is refreshed as often. */
static __always_inline void ct_touch(const struct mx_ct_key *key, struct mx_ct_entry *e,
				     struct mx_ct_entry *v, __u8 state, __u64 now)
{
	if (state != v->state) {
		v->state = state;
		v->last_seen_ns = now;
	} else if (now > v->last_seen_ns + CT_REFRESH_NS) {
		v->last_seen_ns = now;
	} else {
		return;
	}
	if (!ct_elem_is(e, key))
		return;
	e->last_seen_ns = v->last_seen_ns;
	e->state = v->state;
	e->flags = v->flags;
	flowstate_note(MX_FS_OP_UPDATE, key, v);
}

static __always_inline struct ct_result ct_res(__u8 verdict, __u8 state)
{
	return (struct ct_result){ .verdict = verdict, .state = state };
}

static __always_inline bool ct_tcp_opens(__u8 flags)
{
	return (flags & (CT_TCP_SYN | CT_TCP_ACK | CT_TCP_RST | CT_TCP_FIN)) == CT_TCP_SYN;
}

/* TCP: forward or return on its connection, or a SYN that opens one (also over a closed
 * connection of the same tuple, either way round, as the kernel reopens one). */
static __always_inline struct ct_result ct_lookup_tcp(const struct ct_pkt *p,
						      const struct mx_ct_config *cfg, __u64 now,
						      struct mx_ct_pass *s)
{
	struct mx_ct_key rev;
	struct mx_ct_entry v;
	struct mx_ct_entry *e = ct_find(&p->key, cfg, now, &v);
	bool opens = ct_tcp_opens(p->tcp_flags);
	bool reply = false;

	if (!e) {
		ct_reverse(&rev, &p->key);
		e = ct_find_conn(&rev, cfg, now, &v);
		reply = true;
	}
	if (!e)
		return ct_res(opens ? MX_CT_V_NEW : MX_CT_V_INVALID, 0);
	if (opens && (v.state == MX_CT_TCP_TIME_WAIT || v.state == MX_CT_TCP_CLOSE)) {
		/* A new connection on a closed one's tuple: ct_commit writes it afresh, under
		 * this packet's direction (the old one, the other way round, goes). */
		if (reply) {
			bpf_map_delete_elem(&midox_ct, &rev);
			flowstate_note(MX_FS_OP_DELETE, &rev, NULL);
		}
		return ct_res(MX_CT_V_NEW, 0);
	}
	ct_touch(reply ? &rev : &p->key, e, &v, ct_tcp_next(&v, p->tcp_flags, reply), now);
	ct_bind(s, reply ? &rev : &p->key, &v);
	return ct_res(reply ? MX_CT_V_RETURN : MX_CT_V_FWD, v.state);
}

/* ICMP error: related when what it quotes is a live connection, either way round. */
static __always_inline struct ct_result ct_lookup_related(const struct ct_pkt *p,
							  const struct mx_ct_config *cfg,
							  __u64 now, struct mx_ct_pass *s)
{
	struct mx_ct_key q = p->quoted, rev;
	struct mx_ct_entry v;
	struct mx_ct_entry *e = ct_find_conn(&q, cfg, now, &v);
	bool out = false, translate = true;

	if (e) {
		/* Forward-shaped: through an index the quote is the connection's T_out (q is
		 * its key now): the error goes the return way. Its own key, T_in: quoted
		 * before the device translated anything, nothing to undo. */
		out = q.src != p->quoted.src || q.dst != p->quoted.dst ||
		      q.sport != p->quoted.sport || q.dport != p->quoted.dport;
		translate = out;
	} else {
		/* Reversed: a reply as the opener got it, the error goes the forward way. */
		ct_reverse(&rev, &p->quoted);
		e = ct_find(&rev, cfg, now, &v);
		q = rev;
	}
	if (!e)
		return ct_res(MX_CT_V_INVALID, 0);
	if (s && translate) {
		ct_bind(s, &q, &v);
		s->quote_out = out;
	}
	return ct_res(MX_CT_V_RELATED, v.state);
}

/* ct_lookup_bind's verdict by the packet's kind. */
static __always_inline struct ct_result ct_classify(const struct ct_pkt *p, __u64 now,
						    struct mx_ct_pass *s)
{
	const struct mx_ct_config *cfg = ct_config();
	struct mx_ct_entry v, *e;
	struct mx_ct_key rev;

	switch (p->kind) {
	case CT_PKT_TCP:
		return ct_lookup_tcp(p, cfg, now, s);
	case CT_PKT_ICMP_ERROR:
		return ct_lookup_related(p, cfg, now, s);
	case CT_PKT_UDP:
	case CT_PKT_ECHO:
		e = ct_find(&p->key, cfg, now, &v);
		if (e) {
			ct_touch(&p->key, e, &v, v.state, now);
			ct_bind(s, &p->key, &v);
			return ct_res(MX_CT_V_FWD, v.state);
		}
		if (p->kind == CT_PKT_ECHO)
			return ct_res(MX_CT_V_NEW, 0);
		/* fall through: a UDP reply */
	case CT_PKT_ECHO_REPLY:
		ct_reverse(&rev, &p->key);
		e = ct_find_conn(&rev, cfg, now, &v);
		if (e) {
			ct_touch(&rev, e, &v, v.state == MX_CT_UDP ? MX_CT_UDP_STREAM : v.state, now);
			ct_bind(s, &rev, &v);
			return ct_res(MX_CT_V_RETURN, v.state);
		}
		return ct_res(p->kind == CT_PKT_UDP ? MX_CT_V_NEW : MX_CT_V_INVALID, 0);
	case CT_PKT_BAD:
		return ct_res(MX_CT_V_INVALID, 0);
	}
	return ct_res(MX_CT_V_UNTRACKED, 0);
}

/* Classify the packet p (ct_parse) at time now, moving its connection's state on; the
 * binding of a NATed connection into s (NULL: not wanted). A first fragment belongs to its
 * connection but never opens one: it is untracked, as its later fragments are (the
 * pipeline does not reassemble). A connection it opened would hold the tuple without the
 * NAT a rule with ports gives whole datagrams only, and every datagram after it would
 * pass as that connection's, untranslated. */
static __always_inline struct ct_result ct_lookup_bind(const struct ct_pkt *p, __u64 now,
						       struct mx_ct_pass *s)
{
	struct ct_result r = ct_classify(p, now, s);

	if (r.verdict == MX_CT_V_NEW && p->first_frag)
		r.verdict = MX_CT_V_UNTRACKED;
	return r;
}

static __always_inline struct ct_result ct_lookup(const struct ct_pkt *p, __u64 now)
{
	return ct_lookup_bind(p, now, NULL);
}

/* Open the connection of p (a MX_CT_V_NEW verdict of ct_lookup) at now: MX_CT_V_NEW and
 * its state when its entry is written, MX_CT_V_FULL when the table has no room. An entry
 * already under the key (idle past its timeout, closed, or written by another CPU a moment
 * ago) is overwritten: replacing never needs room. */
/* The state a connection opened by a packet of kind starts in (MX_CT_STATE__MAX: none). */
static __always_inline __u8 ct_first_state(__u8 kind)
{
	switch (kind) {
	case CT_PKT_TCP:
		return MX_CT_TCP_SYN_SENT;
	case CT_PKT_UDP:
		return MX_CT_UDP;
	case CT_PKT_ECHO:
		return MX_CT_ICMP;
	}
	return MX_CT_STATE__MAX;
}

static __always_inline struct ct_result ct_commit(const struct ct_pkt *p, __u64 now)
{
	struct mx_ct_entry e = { .last_seen_ns = now, .state = ct_first_state(p->kind),
				 .tag = mx_ct_tag(&p->key) };

	if (e.state == MX_CT_STATE__MAX)
		return ct_res(MX_CT_V_INVALID, 0);
	if (p->first_frag)
		return ct_res(MX_CT_V_UNTRACKED, 0); /* opens nothing (ct_lookup_bind) */
	if (bpf_map_update_elem(&midox_ct, &p->key, &e, BPF_ANY))
		return ct_res(MX_CT_V_FULL, 0);
	flowstate_note(MX_FS_OP_NEW, &p->key, &e);
	return ct_res(MX_CT_V_NEW, e.state);
}

/* Whether connection entry e may hand its tuple to a new connection of a packet of kind:
 * a TCP connection that is closed (TIME_WAIT, CLOSE), as a SYN reopens a closed
 * connection's own tuple (ct_lookup_tcp). A dynamic SNAT reuses such a tuple only when the
 * ports it tried had no free one. */
static __always_inline bool ct_tuple_reusable(const struct mx_ct_entry *e, __u8 kind)
{
	return kind == CT_PKT_TCP &&
	       (e->state == MX_CT_TCP_TIME_WAIT || e->state == MX_CT_TCP_CLOSE);
}

/* Claim tuple key for a new connection of kind: false when it is free, or was held by a
 * closed connection (ct_tuple_reusable), which goes (its index entry is overwritten by the
 * new one's); true when a live connection holds it (its own key, or its translated tuple
 * through its index entry). */
static __always_inline bool ct_tuple_claim(const struct mx_ct_key *key, __u8 kind, __u64 now)
{
	struct mx_ct_key k = *key;
	struct mx_ct_entry v;

	if (!ct_find_conn(&k, ct_config(), now, &v))
		return false;
	if (!ct_tuple_reusable(&v, kind))
		return true;
	bpf_map_delete_elem(&midox_ct, &k);
	flowstate_note(MX_FS_OP_DELETE, &k, NULL);
	return false;
}

/* Write the entry of NATed connection p->key (leaving its device as *ix) and its index
 * entry under *ix (ct_commit_nat). */
static __always_inline struct ct_result ct_commit_pair(const struct ct_pkt *p,
						       const struct mx_ct_key *ix, __u8 state,
						       __u64 now)
{
	struct mx_ct_entry e = { .last_seen_ns = now, .state = state, .flags = MX_CT_F_NAT,
				 .tag = mx_ct_tag(&p->key) };
	struct mx_ct_entry x = { .last_seen_ns = now, .state = state,
				 .flags = MX_CT_F_NAT_INDEX, .tag = mx_ct_tag(ix) };

	e.nat.src = ix->src;
	e.nat.dst = ix->dst;
	e.nat.sport = ix->sport;
	e.nat.dport = ix->dport;
	x.nat.src = p->key.src;
	x.nat.dst = p->key.dst;
	x.nat.sport = p->key.sport;
	x.nat.dport = p->key.dport;
	if (bpf_map_update_elem(&midox_ct, &p->key, &e, BPF_ANY))
		return ct_res(MX_CT_V_FULL, 0);
	if (bpf_map_update_elem(&midox_ct, ix, &x, BPF_ANY)) {
		bpf_map_delete_elem(&midox_ct, &p->key);
		return ct_res(MX_CT_V_FULL, 0);
	}
	flowstate_note(MX_FS_OP_NEW, &p->key, &e);
	flowstate_note(MX_FS_OP_NEW, ix, &x);
	return ct_res(MX_CT_V_NEW, state);
}

/* ct_commit for a connection the packet opens NATed: its entry (key p->key, T_in) says it
 * leaves the device as *nat (MX_CT_F_NAT), and an index entry keyed by that tuple says
 * whose it is (MX_CT_F_NAT_INDEX), so that a reply (its reversed tuple the translated one)
 * finds the connection. Both written, or neither: MX_CT_V_FULL when the table has no room
 * for both, MX_CT_V_TAKEN when another live connection holds the translated tuple (a closed
 * TCP connection holding it gives it up: ct_tuple_claim). */
static __always_inline struct ct_result ct_commit_nat(const struct ct_pkt *p, __u64 now,
						      const struct mx_ct_nat *nat)
{
	struct mx_ct_key ix = { .device = p->key.device, .proto = p->key.proto };
	__u8 state = ct_first_state(p->kind);

	ix.src = nat->src;
	ix.dst = nat->dst;
	ix.sport = nat->sport;
	ix.dport = nat->dport;
	if (ix.src == p->key.src && ix.dst == p->key.dst && ix.sport == p->key.sport &&
	    ix.dport == p->key.dport)
		return ct_commit(p, now); /* nothing translated: no binding */
	if (state == MX_CT_STATE__MAX)
		return ct_res(MX_CT_V_INVALID, 0);
	if (ct_tuple_claim(&ix, p->kind, now))
		return ct_res(MX_CT_V_TAKEN, 0);
	/* The entries only now: the claim's copy and theirs share the stack. */
	return ct_commit_pair(p, &ix, state, now);
}

#endif
