/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* underlay_xdp: the XDP fast path of underlay_ingress (lib/underlay.h). It takes only the
 * common case it is sure of, VXLAN from a tunnel peer to this host with a VNI that names a
 * local port that is up, and delivers the inner frame there from XDP (the outer headers
 * dropped with bpf_xdp_adjust_head, then bpf_redirect), counted exactly as the tc path
 * counts it: rx of the whole frame on the host's slot, tx of the inner frame on the port.
 * Everything else passes, untouched and uncounted, to underlay_ingress at tc, which gives it
 * the result it always had: drops and their reasons, flow-state frames, floods to a bridge,
 * the host's own traffic. tests/unit/test_fuzz_frames.c feeds the same frames to both. */
#ifndef MX_BPF_UNDERLAY_XDP_H
#define MX_BPF_UNDERLAY_XDP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lib/config.h"
#include "lib/flowstate.h"
#include "lib/parse.h"
#include "lib/port.h"
#include "lib/stats.h"
#include "lib/tunnel.h"

/* underlay_ingress's vxlan_pop shrinks the skb with bpf_skb_adjust_room, which refuses to
 * leave less than an IPv4 header after the Ethernet header: a shorter inner frame is its
 * decap-failed drop, so it is left to tc. */
#define UNDERLAY_XDP_INNER_MIN (14 + 20)

/* The local port the VXLAN frame at c (outer IPv4 header ip already parsed) is for, with
 * *inner_off where its inner Ethernet frame starts; NULL when tc should have the frame. */
static __always_inline const struct mx_port *
underlay_xdp_target(struct cursor *c, const struct iphdr *ip, const struct mx_config *cfg,
		    __u32 *inner_off, __u32 *vni)
{
	const struct mx_port *port;
	struct vxlanhdr *vx;
	struct udphdr *udp;

	if (ip->protocol != IPPROTO_UDP || ipv4_is_fragment(ip))
		return NULL;
	udp = parse_udp(c);
	if (!udp || !cfg->vxlan_port || udp->dest != cfg->vxlan_port)
		return NULL;
	if (!cfg->tunnel_addr || ip->daddr != cfg->tunnel_addr || !tunnel_is_member(ip->saddr))
		return NULL;
	vx = parse_vxlan(c);
	if (!vx || !parse_eth(c) || !(vx->flags & bpf_htonl(VXLAN_FLAG_VNI)))
		return NULL;
	*vni = bpf_ntohl(vx->vni) >> 8;
	if (*vni == MX_FS_VNI)
		return NULL;
	port = port_lookup(*vni);
	if (!port || !(port->flags & MX_PORT_LOCAL) || !(port->flags & MX_PORT_XDP_RX) ||
	    port_down(port))
		return NULL;
	*inner_off = sizeof(struct ethhdr) + ip->ihl * 4 + sizeof(struct udphdr) +
		     sizeof(struct vxlanhdr);
	return port;
}

/* Count one frame of bytes on key's slot, as stats_rx/stats_tx do (no traced run here). */
static __always_inline void underlay_xdp_count(__u32 key, __u32 slot, bool tx, __u32 bytes)
{
	__u64 *c = stats_traffic(key, slot, tx);

	if (c) {
		c[0]++;
		c[1] += bytes;
	}
}

static __always_inline int underlay_xdp_run(struct xdp_md *ctx)
{
	const struct mx_config *cfg = config_get();
	const struct mx_port *port;
	__u32 inner_off = 0, vni = 0, len;
	struct iphdr *ip = NULL;
	struct ethhdr *eth;
	struct cursor c;

	c.pos = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	len = (__u32)(c.end - c.pos);
	eth = parse_eth(&c);
	if (!cfg || !eth || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (parse_ipv4(&c, &ip) != PARSE_IPV4_OK || !ip)
		return XDP_PASS;
	port = underlay_xdp_target(&c, ip, cfg, &inner_off, &vni);
	if (!port || len < inner_off + UNDERLAY_XDP_INNER_MIN ||
	    bpf_xdp_adjust_head(ctx, (int)inner_off))
		return XDP_PASS;
	underlay_xdp_count(MX_STATS_HOST, MX_TRAFFIC_HOST_SLOT, false, len);
	underlay_xdp_count(vni, port->stats_slot, true, len - inner_off);
	return bpf_redirect(port->ifindex, 0);
}

#endif
