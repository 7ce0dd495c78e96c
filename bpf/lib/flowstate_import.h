/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow state, the receiving side: a VXLAN frame with the flow-state VNI (MX_FS_VNI) carries,
 * after its VXLAN header, a struct mx_fs_hdr and its records (lib/flowstate.h wrote them),
 * then the inner frame. underlay_ingress, once the frame passed the checks every VXLAN frame
 * passes (to our tunnel address, from a member of our tunnel zones), installs the records in
 * midox_ct and goes on with the header's real VNI as for any frame. A malformed header or
 * record drops the frame (bad-flow-state) before anything is written; a record the full table
 * has no room for is counted (ct-full) and the frame still delivered. */
#ifndef MX_BPF_FLOWSTATE_IMPORT_H
#define MX_BPF_FLOWSTATE_IMPORT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/flowstate.h"
#include "midox/stats.h"
#include "lib/conntrack.h"
#include "lib/stats.h"

/* Whether state is one a connection of proto can be in. */
static __always_inline bool flowstate_state_ok(__u8 proto, __u8 state)
{
	switch (proto) {
	case IPPROTO_TCP:
		return state <= MX_CT_TCP_CLOSE;
	case IPPROTO_UDP:
		return state == MX_CT_UDP || state == MX_CT_UDP_STREAM;
	case IPPROTO_ICMP:
		return state == MX_CT_ICMP;
	}
	return false;
}

static __always_inline bool flowstate_record_ok(const struct mx_fs_record *r)
{
	if (!r->device || r->op < MX_FS_OP_NEW || r->op > MX_FS_OP_DELETE)
		return false;
	return r->op == MX_FS_OP_DELETE || flowstate_state_ok(r->proto, r->state);
}

static __always_inline void flowstate_record_key(struct mx_ct_key *k,
						 const struct mx_fs_record *r)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->device = bpf_ntohl(r->device);
	k->src = r->src;
	k->dst = r->dst;
	k->sport = r->sport;
	k->dport = r->dport;
	k->proto = r->proto;
}

static __always_inline void flowstate_record_entry(struct mx_ct_entry *e,
						   const struct mx_ct_key *key,
						   const struct mx_fs_record *r, __u64 now)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->tag = mx_ct_tag(key);
	e->last_seen_ns = now;
	e->state = r->state;
	e->flags = r->flags;
	e->nat.src = r->nat_src;
	e->nat.dst = r->nat_dst;
	e->nat.sport = r->nat_sport;
	e->nat.dport = r->nat_dport;
}

/* Merge an update into the live entry's copy e: both hosts only ever move a connection forward
 * (TCP's states in enum order up to close, UDP to udp-stream), so the later of the two
 * states wins; FIN flags add up (a FIN seen on each host is both FINs: time-wait). */
static __always_inline void flowstate_merge(struct mx_ct_entry *e, const struct mx_fs_record *r,
					    __u64 now)
{
	const __u8 both_fins = MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY;
	__u8 state = r->state > e->state ? r->state : e->state;
	__u8 flags = e->flags | r->flags;

	if (r->proto == IPPROTO_TCP && (flags & both_fins) == both_fins &&
	    state >= MX_CT_TCP_SYN_RECV && state < MX_CT_TCP_TIME_WAIT)
		state = MX_CT_TCP_TIME_WAIT;
	if (r->flags & MX_CT_F_NAT) {
		e->nat.src = r->nat_src;
		e->nat.dst = r->nat_dst;
		e->nat.sport = r->nat_sport;
		e->nat.dport = r->nat_dport;
	}
	e->state = state;
	e->flags = flags;
	if (now > e->last_seen_ns)
		e->last_seen_ns = now;
}

/* Install one (checked) record at now: 0 when the table had no room for it. A global
 * function: verified once on its own, not in each round of the import's loop
 * (docs/datapath.md, "What the verifier pays"). */
__noinline int flowstate_apply_global(const struct mx_fs_record *r, __u64 now)
{
	const struct mx_ct_config *cfg = ct_config();
	struct mx_ct_entry fresh, *e;
	struct mx_ct_key key;

	if (!r)
		return 1;
	flowstate_record_key(&key, r);
	if (r->op == MX_FS_OP_DELETE) {
		bpf_map_delete_elem(&midox_ct, &key);
		return 1;
	}
	if (r->op == MX_FS_OP_UPDATE) {
		e = ct_find(&key, cfg, now, &fresh);
		if (e) {
			/* Merged into the copy, written back in place while e is still key's: an
			 * element taken by another connection under us takes no update of this
			 * one. */
			flowstate_merge(&fresh, r, now);
			if (ct_elem_is(e, &key)) {
				e->last_seen_ns = fresh.last_seen_ns;
				e->state = fresh.state;
				e->flags = fresh.flags;
				e->nat = fresh.nat;
				return 1;
			}
		}
	}
	/* New, or an update of a connection this host does not have (yet, or any more, or
	 * whose element another connection took while it was merged). */
	flowstate_record_entry(&fresh, &key, r, now);
	return bpf_map_update_elem(&midox_ct, &key, &fresh, BPF_ANY) == 0;
}

/* The flow-state area of skb at off (just after the VXLAN header), at time now: every record
 * checked, then installed. On MX_DROP_NONE, *vni is the frame's real VNI and *inner_off where
 * its inner Ethernet frame starts; a record that found the table full is counted (ct-full)
 * against drop_key. Otherwise the reason to drop the frame (nothing was written). */
static __always_inline enum mx_drop_reason flowstate_import(struct __sk_buff *skb, __u32 off,
							    __u64 now, __u32 drop_key,
							    __u32 *vni, __u32 *inner_off)
{
	struct mx_fs_record r;
	struct mx_fs_hdr h;
	__u32 n, real, i;

	if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)))
		return MX_DROP_BAD_FLOW_STATE;
	n = h.count;
	real = bpf_ntohl(h.vni);
	if (h.magic != bpf_htons(MX_FS_MAGIC) || h.version != MX_FS_VERSION || n == 0 ||
	    n > MX_FS_REC_MAX || real < MX_TUNNEL_KEY_MIN || real > MX_TUNNEL_KEY_MAX)
		return MX_DROP_BAD_FLOW_STATE;
	/* The records and an inner Ethernet header must all be there. */
	if ((__u64)off + MX_FS_LEN(n) + ETH_HLEN > skb->len)
		return MX_DROP_BAD_FLOW_STATE;
	for (i = 0; i < MX_FS_REC_MAX; i++) {
		if (i >= n)
			break;
		if (bpf_skb_load_bytes(skb, off + MX_FS_LEN(i), &r, sizeof(r)) ||
		    !flowstate_record_ok(&r))
			return MX_DROP_BAD_FLOW_STATE;
	}
	for (i = 0; i < MX_FS_REC_MAX; i++) {
		if (i >= n)
			break;
		if (bpf_skb_load_bytes(skb, off + MX_FS_LEN(i), &r, sizeof(r)))
			return MX_DROP_BAD_FLOW_STATE; /* read a moment ago: cannot happen */
		if (!flowstate_apply_global(&r, now))
			stats_drop_note(skb, drop_key, MX_DROP_CT_FULL);
	}
	*vni = real;
	*inner_off = off + MX_FS_LEN(n);
	return MX_DROP_NONE;
}

#endif
