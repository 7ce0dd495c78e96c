/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Per-port counters and the one list of drop reasons, shared with every tool. */
#ifndef MIDOX_STATS_H
#define MIDOX_STATS_H

#include "common.h"

/* port tunnel key (__u32, 0 = the host itself, e.g. the underlay) -> struct mx_port_stats,
 * per CPU. */
#define MX_MAP_STATS "midox_stats"
#define MX_STATS_MAX_ENTRIES 16384
#define MX_STATS_HOST 0u

enum mx_drop_reason {
	MX_DROP_NONE = 0,
	MX_DROP_NO_PORT,          /* frame on an interface that is no port */
	MX_DROP_ETH_TRUNCATED,    /* shorter than an Ethernet header */
	MX_DROP_SRC_MAC_INVALID,  /* multicast or zero source MAC */
	MX_DROP_IP_TRUNCATED,     /* IPv4 header cut short */
	MX_DROP_IP_BAD_IHL,       /* IHL below 5 or beyond the frame */
	MX_DROP_IP_FRAGMENT,      /* fragmented outer IPv4 (VXLAN is never fragmented) */
	MX_DROP_UDP_TRUNCATED,
	MX_DROP_VXLAN_TRUNCATED,
	MX_DROP_VXLAN_FLAGS,      /* I flag missing */
	MX_DROP_VXLAN_UNKNOWN_VNI,
	MX_DROP_TUNNEL_NOT_LOCAL, /* VXLAN to an address that is not this host's */
	MX_DROP_TUNNEL_NOT_MEMBER,/* VXLAN from outside this host's tunnel zones */
	MX_DROP_NO_TUNNEL_ADDR,   /* this host is in no tunnel zone yet */
	MX_DROP_PORT_UNBOUND,     /* egress port bound nowhere */
	MX_DROP_CROSS_BRIDGE,     /* egress port belongs to another bridge */
	MX_DROP_HAIRPIN,          /* destination is the ingress port itself */
	MX_DROP_UNDERLAY_ROUTE,   /* no route to the remote host */
	MX_DROP_UNDERLAY_NEIGH,   /* remote host's underlay neighbour not resolved yet */
	MX_DROP_ENCAP_FAILED,
	MX_DROP_DECAP_FAILED,
	MX_DROP_REDIRECT_FAILED,
	MX_DROP_FLOOD_LIMIT,      /* a flood set larger than the datapath handles */
	MX_DROP_UNDERLAY_MTU,     /* encapsulated frame larger than the underlay MTU */
	MX_DROP_HOP_LIMIT,        /* more device hops than MX_MAX_DEVICE_HOPS in one pass */
	MX_DROP_ROUTER_NOT_OURS,  /* frame entering a router not addressed to the port's MAC */
	MX_DROP_ROUTER_LOCAL,     /* to a router address, and not ARP or ICMP echo */
	MX_DROP_NO_ROUTE,         /* no route (an ICMP net unreachable may be sent) */
	MX_DROP_BLACKHOLE,        /* a blackhole route */
	MX_DROP_REJECT,           /* a reject route (an ICMP unreachable may be sent) */
	MX_DROP_TTL_EXCEEDED,     /* TTL would reach 0 (an ICMP time exceeded may be sent) */
	MX_DROP_ARP_MISS,         /* next hop's MAC unknown: an ARP request went out instead */
	MX_DROP_NOT_IPV4,         /* a router forwards IPv4 only */
	MX_DROP_ICMP_RATE,        /* an ICMP error suppressed by the rate limit */
	MX_DROP_SPOOF_MAC,        /* port security: source MAC not the port's fixed MAC */
	MX_DROP_SPOOF_IP,         /* port security: source IPv4 not the port's fixed address */
	MX_DROP_VLAN_TAGGED,      /* a VM port carries untagged frames only */
	MX_DROP_IP_CHECKSUM,      /* a router's input with a bad IPv4 header checksum */
	MX_DROP_ADMIN_DOWN,       /* a port, or its bridge or router, is set down */
	MX_DROP_BGP_NOT_PEER,     /* a BGP speaker sent to an address that is none of its peers */
	MX_DROP_RATE_LIMIT,       /* above the egress rate limit of the port it came from */
	MX_DROP_CHAIN_DROP,       /* a rule chain's drop (or an evaluation past its step bound) */
	MX_DROP_CHAIN_REJECT,     /* a rule chain's reject (answered: ICMP, or a RST for TCP) */
	MX_DROP_CT_FULL,          /* the connection-tracking table has no room (a record from
				   * another host: counted, its frame still delivered) */
	MX_DROP_BAD_FLOW_STATE,   /* VXLAN with the flow-state VNI whose records are malformed */
	MX_DROP_FLOW_STATE_MTU,   /* flow-state records left off a frame they would take over
				   * the underlay MTU (counted, the frame itself goes) */
	MX_DROP_NAT_EXHAUSTED,    /* dynamic SNAT found no free port for a new connection (no
				   * lease for the address, or every candidate taken) */
	MX_DROP__MAX
};

/* Room for every reason there will be: a new reason must not change the value size of a
 * pinned map, or an upgraded agent could not open the maps it left behind. */
#define MX_DROP_SLOTS 64
_Static_assert(MX_DROP__MAX <= MX_DROP_SLOTS, "drop reasons fit their slots");

struct mx_port_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 drops[MX_DROP_SLOTS]; /* indexed by enum mx_drop_reason */
};
_Static_assert(sizeof(struct mx_port_stats) == 8 * (4 + MX_DROP_SLOTS), "mx_port_stats layout");

/* slot (__u32) -> struct mx_traffic, per CPU: the rx/tx counters of the ports the agent gave
 * a slot (mx_port.stats_slot), counted there instead of in midox_stats; slot 0 is the host's
 * (MX_STATS_HOST). An array: a frame's two counters cost no hash lookup. A port's counters
 * are midox_stats[its key] plus midox_traffic[its slot], summed over the CPUs. */
#define MX_MAP_TRAFFIC "midox_traffic"
#define MX_TRAFFIC_SLOTS 65536 /* 32 bytes a slot a CPU: 2 MiB a CPU */
#define MX_TRAFFIC_HOST_SLOT 0u

struct mx_traffic {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
};
_Static_assert(sizeof(struct mx_traffic) == 32, "mx_traffic layout");

static inline const char *mx_drop_reason_name(unsigned int reason)
{
	switch (reason) {
	case MX_DROP_NONE: return "none";
	case MX_DROP_NO_PORT: return "no-port";
	case MX_DROP_ETH_TRUNCATED: return "eth-truncated";
	case MX_DROP_SRC_MAC_INVALID: return "src-mac-invalid";
	case MX_DROP_IP_TRUNCATED: return "ip-truncated";
	case MX_DROP_IP_BAD_IHL: return "ip-bad-ihl";
	case MX_DROP_IP_FRAGMENT: return "ip-fragment";
	case MX_DROP_UDP_TRUNCATED: return "udp-truncated";
	case MX_DROP_VXLAN_TRUNCATED: return "vxlan-truncated";
	case MX_DROP_VXLAN_FLAGS: return "vxlan-flags";
	case MX_DROP_VXLAN_UNKNOWN_VNI: return "vxlan-unknown-vni";
	case MX_DROP_TUNNEL_NOT_LOCAL: return "tunnel-not-local";
	case MX_DROP_TUNNEL_NOT_MEMBER: return "tunnel-not-member";
	case MX_DROP_NO_TUNNEL_ADDR: return "no-tunnel-addr";
	case MX_DROP_PORT_UNBOUND: return "port-unbound";
	case MX_DROP_CROSS_BRIDGE: return "cross-bridge";
	case MX_DROP_HAIRPIN: return "hairpin";
	case MX_DROP_UNDERLAY_ROUTE: return "underlay-route";
	case MX_DROP_UNDERLAY_NEIGH: return "underlay-neigh";
	case MX_DROP_ENCAP_FAILED: return "encap-failed";
	case MX_DROP_DECAP_FAILED: return "decap-failed";
	case MX_DROP_REDIRECT_FAILED: return "redirect-failed";
	case MX_DROP_FLOOD_LIMIT: return "flood-limit";
	case MX_DROP_UNDERLAY_MTU: return "underlay-mtu";
	case MX_DROP_HOP_LIMIT: return "hop-limit";
	case MX_DROP_ROUTER_NOT_OURS: return "router-not-ours";
	case MX_DROP_ROUTER_LOCAL: return "router-local";
	case MX_DROP_NO_ROUTE: return "no-route";
	case MX_DROP_BLACKHOLE: return "blackhole";
	case MX_DROP_REJECT: return "reject";
	case MX_DROP_TTL_EXCEEDED: return "ttl-exceeded";
	case MX_DROP_ARP_MISS: return "arp-miss";
	case MX_DROP_NOT_IPV4: return "not-ipv4";
	case MX_DROP_ICMP_RATE: return "icmp-rate";
	case MX_DROP_SPOOF_MAC: return "spoof-mac";
	case MX_DROP_SPOOF_IP: return "spoof-ip";
	case MX_DROP_VLAN_TAGGED: return "vlan-tagged";
	case MX_DROP_IP_CHECKSUM: return "ip-checksum";
	case MX_DROP_ADMIN_DOWN: return "admin-down";
	case MX_DROP_BGP_NOT_PEER: return "bgp-not-peer";
	case MX_DROP_RATE_LIMIT: return "rate-limit";
	case MX_DROP_CHAIN_DROP: return "chain-drop";
	case MX_DROP_CHAIN_REJECT: return "chain-reject";
	case MX_DROP_CT_FULL: return "ct-full";
	case MX_DROP_BAD_FLOW_STATE: return "bad-flow-state";
	case MX_DROP_FLOW_STATE_MTU: return "flow-state-mtu";
	case MX_DROP_NAT_EXHAUSTED: return "nat-exhausted";
	default: return "unknown";
	}
}

#endif
