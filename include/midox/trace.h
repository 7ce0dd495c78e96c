/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet traces for `midox trace`: a frame run through the live programs with
 * BPF_PROG_TEST_RUN and a trace flag, which then write no state (no learning, no counters,
 * no events, no clones sent) and record each step they take into midox_trace. */
#ifndef MIDOX_TRACE_H
#define MIDOX_TRACE_H

#include "common.h"

/* Array of one entry, index 0: struct mx_trace, armed by the tracer (its token), filled by
 * the datapath during the tracer's test run, never written by the agent. */
#define MX_MAP_TRACE "midox_trace"

/* A trace run's skb->cb, as BPF_PROG_TEST_RUN's __sk_buff context gives it: word 0 the
 * magic, word 1 the token the tracer armed midox_trace with. A real frame's cb at tc ingress
 * holds whatever the layers before left there (GRO's state): the magic alone would be a
 * 32-bit bet, so the token must also match the armed entry. */
#define MX_TRACE_CB_MAGIC 0
#define MX_TRACE_CB_TOKEN 1
#define MX_TRACE_MAGIC 0x6d787472u /* "mxtr" */

#define MX_TRACE_MAX_STEPS 48

/* What one step says; a, b, c and x by kind. Ports and devices are tunnel keys; addresses
 * network order; mac: 6 bytes in x's first bytes (memory order). */
enum mx_trace_kind {
	MX_TRACE_NONE = 0,
	MX_TRACE_ENTER,        /* a: the port entered by, b: its device, c: 1 router, 0 bridge */
	MX_TRACE_PORTSEC,      /* a: port; its locked source passed port security */
	MX_TRACE_MAC_HIT,      /* a: bridge, b: the port the destination MAC is behind */
	MX_TRACE_FLOOD,        /* a: bridge, b: local copies, c: remote hosts */
	MX_TRACE_FLOOD_LOCAL,  /* a: port (ifport key), b: its ifindex; a copy here */
	MX_TRACE_FLOOD_REMOTE, /* a: host address, b: VNI (the bridge key); a copy there */
	MX_TRACE_ARP_REPLY,    /* a: device, b: the address asked for, x: the MAC answered */
	MX_TRACE_ARP_LEARN,    /* a: router, b: address, x: MAC; an ARP reply a router learns */
	MX_TRACE_ROUTE,        /* a: router, b: the chosen hop's index, c: hops in the set,
				* x: the hop's port (low 32 bits) and gateway (high 32) */
	MX_TRACE_NEXT_HOP,     /* a: router, b: next hop's address, x: its MAC */
	MX_TRACE_ARP_REQUEST,  /* a: router port, b: next hop's address (MAC unknown) */
	MX_TRACE_ECHO_REPLY,   /* a: router port, b: its address */
	MX_TRACE_ICMP_ERROR,   /* a: router port, b: type, c: code */
	MX_TRACE_DROP,         /* a: enum mx_drop_reason, b: the port it counts on */
	MX_TRACE_DELIVER,      /* a: port, b: its ifindex: out of a port of this host */
	MX_TRACE_TUNNEL,       /* a: port (the VNI), b: its host's address, c: underlay ifindex */
	MX_TRACE_BACK,         /* a: the ingress port, b: ifindex: an answer sent back */
	MX_TRACE_CHAIN,        /* a: the port or device filtering, b: the chain's id, c: the
				* verdict (enum mx_chain_verdict_kind) | 1 << 8 for an outfilter,
				* x: the deciding rule's id (0: none, the chain's end) */
	MX_TRACE__MAX
};

struct mx_trace_step {
	__u32 kind; /* enum mx_trace_kind */
	__u32 a;
	__u32 b;
	__u32 c;
	__u64 x;
};
_Static_assert(sizeof(struct mx_trace_step) == 24, "mx_trace_step layout");

struct mx_trace {
	__u32 token;   /* armed by the tracer, non-zero; 0: no trace (nothing is recorded) */
	__u32 n_steps; /* steps taken; beyond MX_TRACE_MAX_STEPS only counted */
	struct mx_trace_step steps[MX_TRACE_MAX_STEPS];
};
_Static_assert(sizeof(struct mx_trace) == 8 + 24 * MX_TRACE_MAX_STEPS, "mx_trace layout");

#endif
