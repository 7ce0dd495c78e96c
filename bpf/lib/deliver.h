/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Delivery out of one exterior port: redirect to its interface here, or VXLAN to its host
 * with VNI = the port's key. */
#ifndef MX_BPF_DELIVER_H
#define MX_BPF_DELIVER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "lib/config.h"
#include "lib/flowstate.h"
#include "lib/stats.h"
#include "lib/trace.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

/* Route to host_addr for a frame that goes with fs_len bytes of flow-state records;
 * records that would take the frame over the underlay MTU are left off (*fs_len becomes 0,
 * counted as flow-state-mtu; the frame itself goes). A frame over the MTU even without them
 * is dropped as underlay-mtu alone: the records are not why (one reason per packet). GSO
 * packets are checked by the kernel when it segments them, each segment with the records. */
static __always_inline enum mx_drop_reason deliver_route(struct __sk_buff *skb,
							 const struct mx_config *cfg,
							 __u32 drop_key, __be32 host_addr,
							 __u32 *fs_len, struct bpf_fib_lookup *fib)
{
	__u16 ip_len = skb->gso_size ? 0 : vxlan_ip_len(skb->len + *fs_len);
	enum mx_drop_reason reason = underlay_route(skb, cfg, host_addr, ip_len, fib);

	if (reason != MX_DROP_UNDERLAY_MTU || !*fs_len)
		return reason;
	reason = underlay_route(skb, cfg, host_addr, vxlan_ip_len(skb->len), fib);
	if (reason == MX_DROP_NONE) {
		stats_drop_note(skb, drop_key, MX_DROP_FLOW_STATE_MTU);
		*fs_len = 0;
	}
	return reason;
}

/* Encapsulate the frame for host_addr along fib with VNI = out_key, fs_len bytes of fs's
 * records (0: none) in front of the inner frame under the reserved VNI: MX_DROP_NONE or the
 * reason to drop. */
static __always_inline enum mx_drop_reason deliver_encap(struct __sk_buff *skb,
							 const struct mx_config *cfg, __u32 out_key,
							 __be32 host_addr,
							 const struct bpf_fib_lookup *fib,
							 struct mx_fs_buf *fs, __u32 fs_len)
{
	struct vxlan_outer o;

	vxlan_outer_init(&o, cfg, fs_len ? MX_FS_VNI : out_key, vxlan_sport(skb),
			 skb->len + fs_len);
	vxlan_outer_to(&o, host_addr, fib);
	if (vxlan_push_room(skb, MX_VXLAN_OVERHEAD + fs_len) || vxlan_write(skb, &o))
		return MX_DROP_ENCAP_FAILED;
	if (fs_len && flowstate_write(skb, fs, MX_VXLAN_OVERHEAD, out_key))
		return MX_DROP_ENCAP_FAILED;
	if (fs && !fs_len)
		flowstate_discard(fs);
	return MX_DROP_NONE;
}

/* Tunnel the frame to host_addr, VNI = out_key (tx on its counter slot out_slot); failures
 * counted against drop_key. When
 * this pass wrote connection-tracking state (lib/flowstate.h), the records ride in front of
 * the inner frame under the reserved VNI, which the receiver installs before it delivers. */
static __always_inline int deliver_remote(struct __sk_buff *skb, __u32 drop_key, __u32 out_key,
					  __u32 out_slot, __be32 host_addr)
{
	const struct mx_config *cfg = config_get();
	struct mx_fs_buf *fs = flowstate_pending();
	__u32 fs_len = fs ? flowstate_len(fs) : 0;
	struct bpf_fib_lookup fib;
	enum mx_drop_reason reason;

	if (!cfg || !cfg->tunnel_addr)
		return stats_drop(skb, drop_key, MX_DROP_NO_TUNNEL_ADDR);
	reason = deliver_route(skb, cfg, drop_key, host_addr, &fs_len, &fib);
	if (reason == MX_DROP_NONE)
		reason = deliver_encap(skb, cfg, out_key, host_addr, &fib, fs, fs_len);
	if (reason)
		return stats_drop(skb, drop_key, reason);
	stats_tx(skb, out_key, out_slot, skb->len);
	trace_step(skb, MX_TRACE_TUNNEL, out_key, host_addr, fib.ifindex, 0);
	return bpf_redirect(fib.ifindex, 0);
}

/* Out of exterior port out_key (out: its midox_port_v2 entry), tx counted on it. */
static __always_inline int deliver_port(struct __sk_buff *skb, __u32 drop_key, __u32 out_key,
					const struct mx_port *out)
{
	if (out->flags & MX_PORT_LOCAL) {
		stats_tx(skb, out_key, out->stats_slot, skb->len);
		trace_step(skb, MX_TRACE_DELIVER, out_key, out->ifindex, 0, 0);
		return bpf_redirect(out->ifindex, 0);
	}
	if (out->flags & MX_PORT_REMOTE)
		return deliver_remote(skb, drop_key, out_key, out->stats_slot, out->host_addr);
	return stats_drop(skb, drop_key, MX_DROP_PORT_UNBOUND);
}

/* Back out of the interface the frame came in on (answers: ARP, ICMP), tx on that port
 * (ingress_slot: its counter slot where the caller has its entry, else 0). */
static __always_inline int deliver_back(struct __sk_buff *skb, __u32 ingress_key,
					__u32 ingress_slot)
{
	stats_tx(skb, ingress_key, ingress_slot, skb->len);
	trace_step(skb, MX_TRACE_BACK, ingress_key, skb->ifindex, 0, 0);
	return bpf_redirect(skb->ifindex, 0);
}

#endif
