/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow state, the sending side: every connection-tracking write of a pass (lib/conntrack.h
 * calls flowstate_note) is kept in a per-CPU scratch area laid out as it goes on the wire;
 * when the pass ends in a VXLAN encapsulation (lib/deliver.h) the records ride in that frame
 * to the host that simulates the replies, which installs them (lib/flowstate_import.h).
 * pipeline_ingress empties the scratch as a pass begins, so writes of a pass that ends in a
 * local delivery or a drop go nowhere. docs/conntrack.md, "Cross-host state". */
#ifndef MX_BPF_FLOWSTATE_H
#define MX_BPF_FLOWSTATE_H

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/conntrack.h"
#include "midox/flowstate.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_fs_buf);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_fsbuf SEC(".maps");

static __always_inline struct mx_fs_buf *flowstate_buf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&midox_fsbuf, &zero);
}

/* A pass begins: nothing to carry yet (written only when the last pass left records). */
static __always_inline void flowstate_begin(void)
{
	struct mx_fs_buf *b = flowstate_buf();

	if (b && b->count)
		b->count = 0;
}

/* Keep a write of the connection key: op (enum mx_fs_op) and e, its entry after the write
 * (NULL for a delete). Beyond MX_FS_REC_MAX (which a pass cannot reach) it is not kept. */
static __always_inline void flowstate_note(__u8 op, const struct mx_ct_key *key,
					   const struct mx_ct_entry *e)
{
	struct mx_fs_buf *b = flowstate_buf();
	struct mx_fs_record *r;
	__u32 i;

	if (!b)
		return;
	i = b->count;
	if (i >= MX_FS_REC_MAX)
		return;
	r = &b->rec[i];
	r->device = bpf_htonl(key->device);
	r->src = key->src;
	r->dst = key->dst;
	r->sport = key->sport;
	r->dport = key->dport;
	r->proto = key->proto;
	r->op = op;
	r->state = e ? e->state : 0;
	r->flags = e ? e->flags : 0;
	r->nat_src = e ? e->nat.src : 0;
	r->nat_dst = e ? e->nat.dst : 0;
	r->nat_sport = e ? e->nat.sport : 0;
	r->nat_dport = e ? e->nat.dport : 0;
	b->count = i + 1;
}

/* The records this pass has for the frame about to be encapsulated (NULL: none, the frame
 * goes as plain VXLAN). The one test a frame without records pays. */
static __always_inline struct mx_fs_buf *flowstate_pending(void)
{
	struct mx_fs_buf *b = flowstate_buf();

	return b && b->count ? b : NULL;
}

/* The bytes b's records take on the wire (header included). */
static __always_inline __u32 flowstate_len(const struct mx_fs_buf *b)
{
	__u32 n = b->count;

	return n > MX_FS_REC_MAX ? 0 : MX_FS_LEN(n);
}

/* Write b's header (naming vni, the frame's real VNI) and records at off, where
 * vxlan_push_room left flowstate_len(b) bytes for them, and empty b: 0 or the helper's
 * negative errno. */
static __always_inline int flowstate_write(struct __sk_buff *skb, struct mx_fs_buf *b, __u32 off,
					   __u32 vni)
{
	__u32 n = b->count;
	long err;

	if (n == 0 || n > MX_FS_REC_MAX)
		return -22; /* EINVAL */
	b->hdr.magic = bpf_htons(MX_FS_MAGIC);
	b->hdr.version = MX_FS_VERSION;
	b->hdr.count = (__u8)n;
	b->hdr.vni = bpf_htonl(vni);
	err = bpf_skb_store_bytes(skb, off, &b->hdr, MX_FS_LEN(n), 0);
	b->count = 0;
	return (int)err;
}

/* The frame went without its records (they would not fit): they are dropped with it. */
static __always_inline void flowstate_discard(struct mx_fs_buf *b)
{
	b->count = 0;
}

#endif
