/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Port security: a bridge port with a fixed MAC (MX_PORT_FIXED_MAC) or a fixed IPv4 address
 * (MX_PORT_FIXED_IP) sends only as itself, as Neutron's port security does by default. Run
 * on the first device of a pass, before learning, so a spoofed MAC is never learned and a
 * spoofed ARP request never answered. A port with neither flag is not checked; one with
 * allowed address pairs (midox_allow_v2) may also send as each of them. */
#ifndef MX_BPF_PORTSEC_H
#define MX_BPF_PORTSEC_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "midox/port.h"
#include "midox/stats.h"
#include "lib/elem.h"
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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MX_ALLOWED_MAX_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* read-only to the datapath */
	__type(key, struct mx_allowed_key);
	__type(value, struct mx_allowed);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} midox_allow_v2 SEC(".maps");

/* Whether an allowed address pair of port port_key lets it send as addr from mac: the
 * pair's own MAC if it has one, else the port's fixed MAC (any MAC without one). The pair's
 * verdict is taken, then the entry's key checked (lib/elem.h): an entry the kernel reused
 * for another pair while it was read is no pair. */
static __always_inline bool portsec_pair(const struct mx_port *port, __u32 port_key,
					 __be32 addr, const __u8 *mac)
{
	struct mx_allowed_key k = { .port_key = port_key, .addr = addr };
	const struct mx_allowed *a;
	bool ok;

	if (!addr)
		return false;
	a = bpf_map_lookup_elem(&midox_allow_v2, &k);
	if (!a)
		return false;
	if (a->flags & MX_ALLOWED_MAC)
		ok = mac_equal(mac, a->mac);
	else
		ok = !(port->flags & MX_PORT_FIXED_MAC) || mac_equal(mac, port->mac);
	elem_key_after_copy();
	return ok && a->key.port_key == port_key && a->key.addr == addr;
}

/* IPv4 from a locked port. From a MAC not the port's (mac_ok false) only an allowed pair
 * passes. Else, with a fixed address: from that address, an allowed one, or 0.0.0.0 only
 * as a DHCP client that has none yet (UDP 68 -> 67, RFC 2131). */
static __always_inline enum mx_drop_reason portsec_ipv4(struct cursor *c, const struct ethhdr *eth,
							const struct mx_port *port, __u32 port_key,
							bool mac_ok)
{
	struct udphdr *udp;
	struct iphdr *ip;

	if (mac_ok && !(port->flags & MX_PORT_FIXED_IP))
		return MX_DROP_NONE;
	switch (parse_ipv4(c, &ip)) {
	case PARSE_IPV4_TRUNCATED:
		return mac_ok ? MX_DROP_IP_TRUNCATED : MX_DROP_SPOOF_MAC;
	case PARSE_IPV4_BAD_IHL:
		return mac_ok ? MX_DROP_IP_BAD_IHL : MX_DROP_SPOOF_MAC;
	default:
		break;
	}
	if (portsec_pair(port, port_key, ip->saddr, eth->h_source))
		return MX_DROP_NONE;
	if (!mac_ok)
		return MX_DROP_SPOOF_MAC;
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
 * only, the frame's own source MAC), the sender address the port's fixed address, an
 * allowed one or 0.0.0.0 (an RFC 5227 probe). From a MAC not the port's, only an allowed
 * pair announcing itself passes. ARP that is not Ethernet/IPv4 cannot be checked and is
 * dropped. */
static __always_inline enum mx_drop_reason portsec_arp(struct cursor *c, const struct ethhdr *eth,
						       const struct mx_port *port, __u32 port_key,
						       bool mac_ok)
{
	struct arp_eth_ipv4 *arp = parse_arp(c);

	if (!arp)
		return mac_ok ? portsec_unchecked(port) : MX_DROP_SPOOF_MAC;
	if (!mac_ok)
		return mac_equal(arp->sha, eth->h_source) &&
			       portsec_pair(port, port_key, arp->spa, eth->h_source) ?
			       MX_DROP_NONE : MX_DROP_SPOOF_MAC;
	if ((port->flags & MX_PORT_FIXED_MAC) && !mac_equal(arp->sha, port->mac))
		return MX_DROP_SPOOF_MAC;
	if (!(port->flags & MX_PORT_FIXED_IP))
		return MX_DROP_NONE;
	if (!mac_equal(arp->sha, eth->h_source))
		return MX_DROP_SPOOF_IP;
	if (!arp->spa || arp->spa == port->addr ||
	    portsec_pair(port, port_key, arp->spa, eth->h_source))
		return MX_DROP_NONE;
	return MX_DROP_SPOOF_IP;
}

/* Why a frame from locked port port (key port_key) must be dropped, or MX_DROP_NONE. at is
 * the cursor after the Ethernet header eth; it is left where it was. */
static __always_inline enum mx_drop_reason portsec_check(const struct cursor *at,
							 const struct ethhdr *eth,
							 const struct mx_port *port, __u32 port_key)
{
	bool mac_ok = !(port->flags & MX_PORT_FIXED_MAC) || mac_equal(eth->h_source, port->mac);
	struct cursor c = *at;

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP):
		return portsec_arp(&c, eth, port, port_key, mac_ok);
	case bpf_htons(ETH_P_IP):
		return portsec_ipv4(&c, eth, port, port_key, mac_ok);
	default:
		break;
	}
	if (!mac_ok)
		return MX_DROP_SPOOF_MAC;
	switch (eth->h_proto) {
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
