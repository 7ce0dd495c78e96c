/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* midox_trace: a traced run's steps (include/midox/trace.h). A run is traced when the
 * tracer's BPF_PROG_TEST_RUN gives the magic and the token it armed midox_trace with in
 * skb->cb; the entry programs decide once (trace_begin) and the flag travels in the top
 * byte of skb->cb[3] (lib/hop.h) through the tail calls. A traced run writes no state:
 * counters, learning, the ICMP budget, events and clones are skipped where they happen
 * (trace_on). Off, a step costs one cb load and a branch; the recording is a subprogram. */
#ifndef MX_BPF_TRACE_H
#define MX_BPF_TRACE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/trace.h"

/* Where the flag lives: the top byte of cb[3] (hop_save keeps src_mac[4..5] and the hop
 * index below it). */
#define TRACE_CB_WORD 3
#define TRACE_CB_SHIFT 24

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_trace);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_trace SEC(".maps");

#define TRACE_CB_OFF 60 /* offsetof(struct __sk_buff, cb[TRACE_CB_WORD]) */
_Static_assert(__builtin_offsetof(struct __sk_buff, cb[TRACE_CB_WORD]) == TRACE_CB_OFF,
	       "trace flag's cb offset");

/* Whether this run is traced (after trace_begin, and through every tail call). The load is
 * written out: the compiler would otherwise keep &skb->cb[3] in a register between checks,
 * and the verifier refuses a context access through a pointer moved from the context. */
static __always_inline bool trace_on(const struct __sk_buff *skb)
{
	__u32 w;

	asm volatile("%0 = *(u32 *)(%1 + 60)" : "=r"(w) : "r"(skb));
	return w >> TRACE_CB_SHIFT;
}

/* Whether token is the one midox_trace is armed with. A subprogram: the common case (no
 * magic) never reaches it. */
static __noinline int trace_armed(__u32 token)
{
	__u32 zero = 0;
	struct mx_trace *t = bpf_map_lookup_elem(&midox_trace, &zero);

	return t && token && t->token == token;
}

/* At the entry of a program a frame arrives in (port_ingress, underlay_ingress): whether
 * the run is traced, and skb->cb[3] set to say so (cb holds anything before). */
static __always_inline bool trace_begin(struct __sk_buff *skb)
{
	bool on = skb->cb[MX_TRACE_CB_MAGIC] == MX_TRACE_MAGIC &&
		  trace_armed(skb->cb[MX_TRACE_CB_TOKEN]);

	skb->cb[TRACE_CB_WORD] = (__u32)on << TRACE_CB_SHIFT;
	return on;
}

/* Append one step to the armed entry; past the last slot only n_steps grows. */
static __noinline int trace_record(__u32 kind, __u32 a, __u32 b, __u32 c, __u64 x)
{
	__u32 zero = 0, i;
	struct mx_trace *t = bpf_map_lookup_elem(&midox_trace, &zero);
	struct mx_trace_step *s;

	if (!t || !t->token)
		return 0;
	i = t->n_steps;
	t->n_steps = i + 1;
	if (i >= MX_TRACE_MAX_STEPS)
		return 0;
	s = &t->steps[i];
	s->kind = kind;
	s->a = a;
	s->b = b;
	s->c = c;
	s->x = x;
	return 0;
}

static __always_inline void trace_step(const struct __sk_buff *skb, enum mx_trace_kind kind,
				       __u32 a, __u32 b, __u32 c, __u64 x)
{
	if (trace_on(skb))
		trace_record(kind, a, b, c, x);
}

/* A MAC as a step's x: its 6 bytes first, in memory order. */
static __always_inline __u64 trace_mac(const __u8 *mac)
{
	__u64 x = 0;

	__builtin_memcpy(&x, mac, 6);
	return x;
}

#endif
