/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Port security: a bridge port with a fixed MAC (MX_PORT_FIXED_MAC) or a fixed IPv4 address
 * (MX_PORT_FIXED_IP) sends only as itself, as Neutron's port security does by default. Run
 * on the first device of a pass, before learning, so a spoofed MAC is never learned and a
 * spoofed ARP request never answered. A port with neither flag is not checked. */
#ifndef MX_BPF_PORTSEC_H
#define MX_BPF_PORTSEC_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>

#include "midox/port.h"
#include "midox/stats.h"
#include "lib/parse.h"

#define PORTSEC_FLAGS (MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP)
#define DHCP_CLIENT_PORT 68
#define DHCP_SERVER_PORT 67

static __always_inline bool portsec_locked(const struct mx_port *port)
{
	return port->flags & PORTSEC_FLAGS;
}

/* The reason a frame whose sender cannot be checked is dropped with. */
static __always_inline enum mx_drop_reason portsec_unchecked(const struct mx_port *port)
{
	return port->flags & MX_PORT_FIXED_IP ? MX_DROP_SPOOF_IP : MX_DROP_SPOOF_MAC;
}

/* IPv4 from a fixed-address port: from that address, or from 0.0.0.0 only as a DHCP client
 * that has none yet (UDP 68 -> 67, RFC 2131). */
static __always_inline enum mx_drop_reason portsec_ipv4(struct cursor *c, const struct mx_port *port)
{
	struct udphdr *udp;
	struct iphdr *ip;

	switch (parse_ipv4(c, &ip)) {
	case PARSE_IPV4_TRUNCATED:
		return MX_DROP_IP_TRUNCATED;
	case PARSE_IPV4_BAD_IHL:
		return MX_DROP_IP_BAD_IHL;
	default:
		break;
	}
	if (ip->saddr == port->addr)
		return MX_DROP_NONE;
	if (ip->saddr || ip->protocol != IPPROTO_UDP || ipv4_is_fragment(ip))
		return MX_DROP_SPOOF_IP;
	udp = parse_udp(c);
	if (!udp || udp->source != bpf_htons(DHCP_CLIENT_PORT) ||
	    udp->dest != bpf_htons(DHCP_SERVER_PORT))
		return MX_DROP_SPOOF_IP;
	return MX_DROP_NONE;
}

/* ARP from a locked port: the sender MAC is the port's fixed MAC (or, with a fixed address
 * only, the frame's own source MAC), the sender address the port's fixed address or 0.0.0.0
 * (an RFC 5227 probe). ARP that is not Ethernet/IPv4 cannot be checked and is dropped. */
static __always_inline enum mx_drop_reason portsec_arp(struct cursor *c, const struct ethhdr *eth,
						       const struct mx_port *port)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);

	if (!arp)
		return portsec_unchecked(port);
	if ((port->flags & MX_PORT_FIXED_MAC) && !mac_equal(arp->sha, port->mac))
		return MX_DROP_SPOOF_MAC;
	if (!(port->flags & MX_PORT_FIXED_IP))
		return MX_DROP_NONE;
	if (!mac_equal(arp->sha, eth->h_source) || (arp->spa && arp->spa != port->addr))
		return MX_DROP_SPOOF_IP;
	return MX_DROP_NONE;
}

/* Why a frame from locked port port must be dropped, or MX_DROP_NONE. at is the cursor
 * after the Ethernet header eth; it is left where it was. */
static __always_inline enum mx_drop_reason portsec_check(const struct cursor *at,
							 const struct ethhdr *eth,
							 const struct mx_port *port)
{
	struct cursor c = *at;

	if ((port->flags & MX_PORT_FIXED_MAC) && !mac_equal(eth->h_source, port->mac))
		return MX_DROP_SPOOF_MAC;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP):
		return portsec_arp(&c, eth, port);
	case bpf_htons(ETH_P_IP):
		return port->flags & MX_PORT_FIXED_IP ? portsec_ipv4(&c, port) : MX_DROP_NONE;
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		/* A tag would hide the IPv4 or ARP sender from the checks above. */
		return port->flags & MX_PORT_FIXED_IP ? MX_DROP_SPOOF_IP : MX_DROP_NONE;
	default:
		/* IPv6 and the rest: midox ports have no IPv6 address to hold them to. */
		return MX_DROP_NONE;
	}
}

#endif
