/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Connection tracking: the table (bpf/lib/conntrack.h), its settings and the sweep that
 * expires idle entries (loader/conntrack.c); in the pipeline through bpf/lib/track.h:
 * docs/conntrack.md. */
#ifndef MIDOX_CONNTRACK_H
#define MIDOX_CONNTRACK_H

#include "common.h"

/* struct mx_ct_key -> struct mx_ct_entry: a preallocated hash map (no LRU, no eviction) of
 * a size fixed when it is created; full, a new connection is refused (MX_CT_V_FULL). */
#define MX_MAP_CT "midox_ct"
#define MX_CT_MAX_ENTRIES_DEFAULT 262144

/* One connection, seen from the device that tracks it, in the direction of the packet that
 * opened it (the forward direction). MidoNet keys per device: the same 5-tuple through two
 * devices is two connections. ICMP echo: sport = dport = the echo id. */
struct mx_ct_key {
	__u32 device; /* the tunnel key of the bridge or router that tracks it */
	__be32 src, dst;
	__be16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};
_Static_assert(sizeof(struct mx_ct_key) == 20, "mx_ct_key layout");

/* A connection's state; also the index of its timeout in struct mx_ct_config. */
enum mx_ct_state {
	MX_CT_TCP_SYN_SENT = 0, /* the opener's SYN seen */
	MX_CT_TCP_SYN_RECV,     /* the answering SYN-ACK seen */
	MX_CT_TCP_ESTABLISHED,  /* the opener's ACK of the SYN-ACK seen */
	MX_CT_TCP_FIN_WAIT,     /* a FIN from one side */
	MX_CT_TCP_TIME_WAIT,    /* FINs from both sides */
	MX_CT_TCP_CLOSE,        /* a RST from either side */
	MX_CT_UDP,              /* UDP, no reply seen */
	MX_CT_UDP_STREAM,       /* UDP, a reply seen */
	MX_CT_ICMP,             /* ICMP echo */
	MX_CT_STATE__MAX
};

/* Timeouts in seconds, the kernel's defaults (nf_conntrack's sysctls, Documentation/
 * networking/nf_conntrack-sysctl.rst): tcp_timeout_syn_sent, _syn_recv, _established,
 * _fin_wait, _time_wait, _close, udp_timeout, udp_timeout_stream, icmp_timeout. */
#define MX_CT_TIMEOUT_SYN_SENT 120u
#define MX_CT_TIMEOUT_SYN_RECV 60u
#define MX_CT_TIMEOUT_ESTABLISHED 432000u /* 5 days */
#define MX_CT_TIMEOUT_FIN_WAIT 120u
#define MX_CT_TIMEOUT_TIME_WAIT 120u
#define MX_CT_TIMEOUT_CLOSE 10u
#define MX_CT_TIMEOUT_UDP 30u
#define MX_CT_TIMEOUT_UDP_STREAM 120u
#define MX_CT_TIMEOUT_ICMP 30u

/* __u32 0 -> struct mx_ct_config: the agent's settings. A timeout of 0 is the default. */
#define MX_MAP_CT_CONFIG "midox_ctcfg"
#define MX_CT_TIMEOUT_SLOTS 16
struct mx_ct_config {
	__u32 timeout_s[MX_CT_TIMEOUT_SLOTS]; /* indexed by enum mx_ct_state */
};
_Static_assert(sizeof(struct mx_ct_config) == 64, "mx_ct_config layout");
_Static_assert(MX_CT_STATE__MAX <= MX_CT_TIMEOUT_SLOTS, "states fit the timeout slots");

enum mx_ct_entry_flags {
	MX_CT_F_FIN_FWD = 1 << 0,   /* a FIN from the opener */
	MX_CT_F_FIN_REPLY = 1 << 1, /* a FIN from the other side */
	MX_CT_F_NAT = 1 << 2,       /* nat holds the translated tuple: the key's connection
				     * leaves the device as nat (dynamic NAT) */
	MX_CT_F_NAT_INDEX = 1 << 3, /* not a connection: the index of a NATed one, keyed by
				     * the tuple it leaves the device with; nat holds the
				     * connection's key (its entry says state and age) */
};

/* A NATed connection (MX_CT_F_NAT): the tuple its forward packets leave the device with.
 * An index entry (MX_CT_F_NAT_INDEX): its connection's key. The device and protocol are
 * the key's. docs/conntrack.md, "NAT bindings". */
struct mx_ct_nat {
	__be32 src, dst;
	__be16 sport, dport;
	__u32 pad;
};

struct mx_ct_entry {
	__u64 last_seen_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) of the last packet */
	__u8 state;         /* enum mx_ct_state */
	__u8 flags;         /* enum mx_ct_entry_flags */
	__u16 pad0;
	__u32 tag;          /* mx_ct_tag() of the entry's key; 0 in an entry written before
			     * tags (taken as its key's) */
	struct mx_ct_nat nat;
};
_Static_assert(sizeof(struct mx_ct_entry) == 32, "mx_ct_entry layout");

/* The tag of key, which its entry holds. midox_ct is a preallocated hash: a replaced or
 * deleted entry's element goes back to the map's free list at once, and the next insert, of
 * any key, may take it while a reader still reads through the pointer its lookup gave. A
 * reader therefore copies what it uses, then compares the element's tag with its key's:
 * another key's tag is a miss (docs/datapath.md, "Map elements under readers"). 32 bits of
 * a multiplicative hash, never 0. */
static inline __u32 mx_ct_tag(const struct mx_ct_key *k)
{
	__u32 h = k->device * 0x9e3779b1u;

	h = (h ^ k->src) * 0x85ebca6bu;
	h = (h ^ k->dst) * 0xc2b2ae35u;
	h = (h ^ ((__u32)k->sport << 16 | k->dport)) * 0x27d4eb2fu;
	h = (h ^ k->proto) * 0x165667b1u;
	return (h ^ h >> 15) | 1;
}

/* Whether an entry's tag is key's (or an untagged entry's 0). */
static inline int mx_ct_tag_is(__u32 tag, const struct mx_ct_key *k)
{
	return !tag || tag == mx_ct_tag(k);
}

/* __u32 0 -> struct mx_ct_pass, per CPU: the datapath's scratch (user space never writes
 * it): what tracking found for the packet at the tracking device it is passing
 * (bpf/lib/track.h), read by the dynamic NAT rules (bpf/lib/natdyn.h) and by the commit,
 * which writes the connection under the tuple the packet entered the device with, whatever
 * NAT made of it since. A map value, not the stack: the verifier takes its fields as
 * unknown, which keeps the states of every path after the lookup down. */
#define MX_MAP_CT_PASS "midox_ctpass_v2"
struct mx_ct_pass {
	struct mx_ct_key tin; /* the packet's tuple entering the device (T_in) */
	__u8 valid;   /* written by the lookup of a tracking device; cleared entering a
		       * device with filters that does not track, and by a traced run */
	__u8 kind;    /* bpf/lib/conntrack.h's enum ct_pkt_kind */
	__u8 verdict; /* enum mx_ct_verdict */
	__u8 bound;   /* conn and nat hold the connection's binding: FWD, RETURN or RELATED
		       * of a NATed connection, or NEW once a rule chose one */
	__u8 pending; /* NEW: the halves the rules chose (MX_NAT_SRC, MX_NAT_DST of chain.h) */
	__u8 quote_out; /* RELATED: the quote is the connection's T_out (the error goes the
			 * return way), else reverse(T_in) (it goes the forward way) */
	__u8 w_on;    /* the rule just decided a rewrite: the source (w_dst 0) or the
		       * destination */
	__u8 w_dst;   /* becomes w_addr, its port (TCP, UDP; an echo's id) w_port */
	struct mx_ct_key conn; /* the connection's key (T_in of the packet that opened it) */
	struct mx_ct_nat nat;  /* the tuple it leaves the device with (T_out) */
	__be32 w_addr;
	__be16 w_port;
	__u8 w_icmp;  /* the packet is an ICMP error (RELATED): w_addr, w_port go into its
		       * quote, on the side other than w_dst, and the outer w_dst side too
		       * where it is the quote's old address (w_old) */
	__u8 w_sides; /* what the evaluation's dynamic rules decided, all of them in order
		       * (MX_NAT_SRC, MX_NAT_DST of chain.h): the source becomes w.src, w.sport,
		       * the destination w.dst, w.dport; written when the evaluation ends */
	struct mx_ct_key probe;      /* a SNAT port's candidate tuple, looked up from here */
	struct mx_ct_key probe_main; /* and the connection its index entry names */
	struct mx_ct_nat w;
	__be32 w_old; /* w_icmp: the quote's address that becomes w_addr */
};
_Static_assert(sizeof(struct mx_ct_pass) == 132, "mx_ct_pass layout");

/* What tracking said of a packet (bpf/lib/conntrack.h). */
enum mx_ct_verdict {
	MX_CT_V_NEW = 0,   /* opens a connection (created by ct_commit) */
	MX_CT_V_FWD,       /* a tracked connection, forward direction */
	MX_CT_V_RETURN,    /* a tracked connection, return direction */
	MX_CT_V_RELATED,   /* an ICMP error quoting a tracked connection: passes as return */
	MX_CT_V_INVALID,   /* a tracked protocol, but of no connection and cannot open one
			    * (TCP without SYN, an echo reply, an error quoting nothing known) */
	MX_CT_V_UNTRACKED, /* not IPv4 TCP/UDP/ICMP, a later fragment, a header cut short */
	MX_CT_V_FULL,      /* would open one, the table is full: the caller drops it,
			    * counted as its own drop reason (ct-full) */
	MX_CT_V_TAKEN,     /* would open a NATed one whose translated tuple another live
			    * connection holds (a race of two CPUs): dropped, nat-exhausted */
};

/* Whether a packet's verdict makes it a return flow for the rule chains (the flow
 * condition, MX_COND_RETURN_FLOW; every other verdict is a forward flow). */
static inline int mx_ct_is_return(unsigned int verdict)
{
	return verdict == MX_CT_V_RETURN || verdict == MX_CT_V_RELATED;
}

/* The default timeout of state in seconds (0 for no such state). */
static inline __u32 mx_ct_timeout_default(unsigned int state)
{
	switch (state) {
	case MX_CT_TCP_SYN_SENT: return MX_CT_TIMEOUT_SYN_SENT;
	case MX_CT_TCP_SYN_RECV: return MX_CT_TIMEOUT_SYN_RECV;
	case MX_CT_TCP_ESTABLISHED: return MX_CT_TIMEOUT_ESTABLISHED;
	case MX_CT_TCP_FIN_WAIT: return MX_CT_TIMEOUT_FIN_WAIT;
	case MX_CT_TCP_TIME_WAIT: return MX_CT_TIMEOUT_TIME_WAIT;
	case MX_CT_TCP_CLOSE: return MX_CT_TIMEOUT_CLOSE;
	case MX_CT_UDP: return MX_CT_TIMEOUT_UDP;
	case MX_CT_UDP_STREAM: return MX_CT_TIMEOUT_UDP_STREAM;
	case MX_CT_ICMP: return MX_CT_TIMEOUT_ICMP;
	default: return 0;
	}
}

/* The timeout of state in seconds: cfg's, or the default when cfg gives none. */
static inline __u32 mx_ct_timeout_s(const struct mx_ct_config *cfg, unsigned int state)
{
	if (cfg && state < MX_CT_STATE__MAX && cfg->timeout_s[state])
		return cfg->timeout_s[state];
	return mx_ct_timeout_default(state);
}

/* The one expiry rule, for the datapath and the sweep: idle longer than its timeout. A
 * last_seen in the future (another CPU's clock a little ahead) is fresh. */
static inline int mx_ct_expired(const struct mx_ct_config *cfg, const struct mx_ct_entry *e,
				__u64 now_ns)
{
	__u64 timeout_ns = (__u64)mx_ct_timeout_s(cfg, e->state) * 1000000000ull;

	return now_ns > e->last_seen_ns && now_ns - e->last_seen_ns > timeout_ns;
}

#endif
