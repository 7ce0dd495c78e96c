/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Delivery out of one exterior port: redirect to its interface here, or VXLAN to its host
 * with VNI = the port's key. */
#ifndef MX_BPF_DELIVER_H
#define MX_BPF_DELIVER_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "lib/config.h"
#include "lib/stats.h"
#include "lib/trace.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

/* Tunnel the frame to host_addr, VNI = out_key (tx on its counter slot out_slot); failures
 * counted against drop_key. */
static __always_inline int deliver_remote(struct __sk_buff *skb, __u32 drop_key, __u32 out_key,
					  __u32 out_slot, __be32 host_addr)
{
	const struct mx_config *cfg = config_get();
	__u16 ip_len = skb->gso_size ? 0 : vxlan_ip_len(skb->len);
	struct bpf_fib_lookup fib;
	enum mx_drop_reason reason;
	struct vxlan_outer o;

	if (!cfg || !cfg->tunnel_addr)
		return stats_drop(skb, drop_key, MX_DROP_NO_TUNNEL_ADDR);
	reason = underlay_route(skb, cfg, host_addr, ip_len, &fib);
	if (reason)
		return stats_drop(skb, drop_key, reason);
	vxlan_outer_init(&o, cfg, out_key, vxlan_sport(skb), skb->len);
	vxlan_outer_to(&o, host_addr, &fib);
	if (vxlan_push(skb) || vxlan_write(skb, &o))
		return stats_drop(skb, drop_key, MX_DROP_ENCAP_FAILED);
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
