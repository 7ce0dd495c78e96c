// SPDX-License-Identifier: Apache-2.0
/* Router datapath unit tests: BPF_PROG_TEST_RUN on crafted frames through bridges and a
 * router, one table row per routing decision, maps filled through the loader as the agent
 * fills them, in a private network namespace. Every output frame's IPv4 and ICMP checksums
 * are verified independently (frames_csum), besides its exact bytes. TAP output.
 *
 * The topology (keys):
 *
 *   vma -- VA [bridge BA] BAR ==== RA [router R] RB ==== BBR [bridge BB] VB -- vmb
 *                                     |  |  |  \                         VR: remote VM
 *                              up1 -- U1 U2 U3 RL ==== BL1 [bridge BL] BL2 ==== RL2 (R)
 *                                     up2 -- '  '-- remote on PEER       (a loop of devices)
 */
#include "dp_net.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdarg.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "dp_counters.h"
#include "dp_fill.h"
#include "dp_trace.h"
#include "frames.h"
#include "nat_frames.h"
#include "nat_rules.h"
#include "loader/chain.h"
#include "loader/conntrack.h"
#include "loader/loader.h"
#include "midox/natlease.h"
#include "base/log.h"
#include "tap.h"

enum { BA = 100, BB = 200, BL = 300, R = 500 };
enum {
	VA = 1001, BAR = 1002,             /* bridge BA: VM a (local), interior to RA */
	VB = 2001, VR = 2002, BBR = 2003,  /* bridge BB: VM b (local), VM r (remote), interior */
	BL1 = 3001, BL2 = 3002,            /* bridge BL: interior to RL and RL2 */
	RA = 5001, RB = 5002,              /* router R, interior */
	U1 = 5003, U2 = 5004, U3 = 5005,   /* router R, exterior: up1, up2, remote on PEER */
	RL = 5006, RL2 = 5007,             /* router R, interior, the loop */
};

#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"

static const uint8_t UL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t M_RA[6] = { 0x02, 0, 0, 0, 0x05, 0x01 };
static const uint8_t M_RB[6] = { 0x02, 0, 0, 0, 0x05, 0x02 };
static const uint8_t M_U1[6] = { 0x02, 0, 0, 0, 0x05, 0x03 };
static const uint8_t M_U2[6] = { 0x02, 0, 0, 0, 0x05, 0x04 };
static const uint8_t M_U3[6] = { 0x02, 0, 0, 0, 0x05, 0x05 };
static const uint8_t M_RL[6] = { 0x02, 0, 0, 0, 0x05, 0x06 };
static const uint8_t M_RL2[6] = { 0x02, 0, 0, 0, 0x05, 0x07 };
static const uint8_t M_VA[6] = { 0x02, 0, 0, 0, 0x0a, 0x0a };
static const uint8_t M_VB[6] = { 0x02, 0, 0, 0, 0x0b, 0x0b };
static const uint8_t M_VR[6] = { 0x02, 0, 0, 0, 0x0c, 0x0c };
static const uint8_t M_GW1[6] = { 0x02, 0, 0, 0, 0x01, 0xfe };   /* 192.168.1.254, static */
static const uint8_t M_GW2[6] = { 0x02, 0, 0, 0, 0x02, 0xfe };   /* 192.168.2.254, static */
static const uint8_t M_GW3[6] = { 0x02, 0, 0, 0, 0x03, 0xfe };   /* 192.168.3.254, static */
static const uint8_t M_NB[6] = { 0x02, 0, 0, 0, 0x01, 0x4d };    /* a neighbour on up1 */
static const uint8_t M_OTHER[6] = { 0x02, 0, 0, 0, 0x0e, 0x0e };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define IP_VA "10.1.0.5"
#define IP_VB "10.2.0.2"
#define IP_VR "10.2.0.3"

enum ifid { IF_VA, IF_VB, IF_UP1, IF_UP2, IF_UL, IF__MAX };
static const char *const if_names[IF__MAX] = { "vma", "vmb", "up1", "up2", "ul0" };
static const char *const if_macs[IF__MAX] = { "02:00:00:00:0a:01", "02:00:00:00:0b:01",
					      "02:00:00:00:0d:01", "02:00:00:00:0d:02",
					      "02:00:00:00:00:01" };
static int ifx[IF__MAX];

static struct mx_datapath *dp;

static int net_setup(void)
{
	if (dp_veths(if_names, if_macs, IF__MAX, ifx))
		return -1;
	/* Forwarding on ul0 as mx_attach_underlay sets it; the program is never attached here. */
	return dp_underlay("ul0", LOCAL_ADDR, PEER_ADDR, "02:00:00:00:00:02") ||
	       dp_sh("sysctl -qw net.ipv4.conf.ul0.forwarding=1");
}

/* ---- filling the maps, as the agent does ---- */

static int put_port(__u32 key, __u32 device, __u32 flags, int ifindex, const char *host,
		    __u32 peer)
{
	struct mx_port p = { .device_key = device, .flags = flags, .ifindex = ifindex,
			     .host_addr = frames_addr(host), .peer_key = peer };

	if (peer)
		p.flags |= MX_PORT_INTERIOR;
	return dp_put_port(dp, key, &p);
}

/* A router port: its MAC, primary address and subnet, the /32 LOCAL route for the address
 * and the connected route for the subnet. */
static int put_rport(__u32 key, const uint8_t *mac, const char *addr, const char *net,
		     __u32 flags, int ifindex, const char *host, __u32 peer)
{
	struct mx_port p = { .device_key = R, .flags = flags | MX_PORT_ROUTER, .ifindex = ifindex,
			     .host_addr = frames_addr(host), .peer_key = peer, .prefix_len = 24,
			     .addr = frames_addr(addr) };
	struct mx_route_key lk = { 64, R, frames_addr(addr) }, ck = { 56, R, frames_addr(net) };
	struct mx_route local = { .n = 1 }, conn = { .n = 1 };

	if (peer)
		p.flags |= MX_PORT_INTERIOR;
	memcpy(p.mac, mac, 6);
	local.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_LOCAL, .port_key = key };
	/* With the egress port's slot as the agent writes it (agent/slots.c); the routes of
	 * hop_via carry none, as an older agent's do. */
	conn.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = key, .weight = 1,
					  .port_slot = (__u16)dp_slot_of(key) };
	return dp_put_port(dp, key, &p) || mx_route_update(dp, &lk, &local) ||
	       mx_route_update(dp, &ck, &conn);
}

static struct mx_nexthop hop_via(__u32 port, const char *gw, __u32 weight)
{
	return (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = port,
				    .gw = frames_addr(gw), .weight = weight };
}

static struct mx_nexthop hop_type(__u32 type)
{
	return (struct mx_nexthop){ .type = type, .weight = 1 };
}

static int put_route(const char *dst, int len, int n, const struct mx_nexthop *nh)
{
	struct mx_route_key k = { 32 + len, R, frames_addr(dst) };
	struct mx_route v = { .n = n };

	memcpy(v.nh, nh, n * sizeof(*nh));
	return mx_route_update(dp, &k, &v);
}

static int put_fdb(__u32 bridge, const uint8_t *mac, __u32 port, __u32 flags)
{
	return dp_put_fdb(dp, bridge, mac, port, flags);
}

static int put_arp(__u32 bridge, const char *addr, const uint8_t *mac)
{
	struct mx_arp_key k = { .bridge_key = bridge, .addr = frames_addr(addr) };
	struct mx_arp_entry v = { 0 };

	memcpy(v.mac, mac, 6);
	return mx_arp_update(dp, &k, &v);
}

static int put_neigh(const char *addr, const uint8_t *mac, __u32 port)
{
	struct mx_neigh_key k = { .router_key = R, .addr = frames_addr(addr) };
	struct mx_neigh_entry v = { .flags = MX_NEIGH_STATIC, .port_key = port };

	memcpy(v.mac, mac, 6);
	return mx_neigh_update(dp, &k, &v);
}

static int maps_setup(void)
{
	struct mx_config cfg = { .tunnel_addr = frames_addr(LOCAL_ADDR),
				 .underlay_ifindex = ifx[IF_UL],
				 .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
	struct mx_bridge ba = { .n_local = 1 }, bb = { .n_local = 1, .n_remote = 1 };
	struct mx_tunpeer tp = { 0 };
	struct mx_nexthop ecmp[2] = { hop_via(U1, "192.168.1.254", 1),
				      hop_via(U2, "192.168.2.254", 3) };
	struct mx_nexthop bysrc[2] = { hop_via(U1, "192.168.1.254", 1),
				       hop_via(U2, "192.168.2.254", 1) };
	struct mx_nexthop nh;
	int err = 0;

	bysrc[0].src = frames_addr("10.1.0.0");
	bysrc[0].src_len = 24;
	bysrc[1].src = frames_addr("10.2.0.0");
	bysrc[1].src_len = 24;
	ba.local_ifindex[0] = ifx[IF_VA];
	bb.local_ifindex[0] = ifx[IF_VB];
	bb.remote_addr[0] = frames_addr(PEER_ADDR);
	err |= mx_config_set(dp, &cfg) || mx_tunpeer_update(dp, frames_addr(PEER_ADDR), &tp);
	err |= mx_bridge_update(dp, BA, &ba) || mx_bridge_update(dp, BB, &bb);
	err |= put_port(VA, BA, MX_PORT_LOCAL, ifx[IF_VA], NULL, 0);
	err |= put_port(BAR, BA, 0, 0, NULL, RA);
	err |= put_port(VB, BB, MX_PORT_LOCAL, ifx[IF_VB], NULL, 0);
	err |= put_port(VR, BB, MX_PORT_REMOTE, 0, PEER_ADDR, 0);
	err |= put_port(BBR, BB, 0, 0, NULL, RB);
	err |= put_port(BL1, BL, 0, 0, NULL, RL) | put_port(BL2, BL, 0, 0, NULL, RL2);
	err |= put_rport(RA, M_RA, "10.1.0.1", "10.1.0.0", 0, 0, NULL, BAR);
	err |= put_rport(RB, M_RB, "10.2.0.1", "10.2.0.0", 0, 0, NULL, BBR);
	err |= put_rport(U1, M_U1, "192.168.1.1", "192.168.1.0", MX_PORT_LOCAL, ifx[IF_UP1], NULL, 0);
	err |= put_rport(U2, M_U2, "192.168.2.1", "192.168.2.0", MX_PORT_LOCAL, ifx[IF_UP2], NULL, 0);
	err |= put_rport(U3, M_U3, "192.168.3.1", "192.168.3.0", MX_PORT_REMOTE, 0, PEER_ADDR, 0);
	err |= put_rport(RL, M_RL, "10.88.0.1", "10.88.0.0", 0, 0, NULL, BL1);
	err |= put_rport(RL2, M_RL2, "10.89.0.1", "10.89.0.0", 0, 0, NULL, BL2);
	/* What the agent installs for bridge ports peered with router ports. */
	err |= put_fdb(BA, M_RA, BAR, MX_FDB_STATIC) | put_fdb(BB, M_RB, BBR, MX_FDB_STATIC);
	err |= put_arp(BA, "10.1.0.1", M_RA) | put_arp(BB, "10.2.0.1", M_RB);
	err |= put_fdb(BA, M_VA, VA, MX_FDB_STATIC) | put_fdb(BB, M_VB, VB, MX_FDB_STATIC);
	err |= put_fdb(BB, M_VR, VR, MX_FDB_REMOTE) | put_fdb(BL, M_RL2, BL2, MX_FDB_STATIC);
	err |= put_arp(BB, IP_VB, M_VB) | put_arp(BB, IP_VR, M_VR);
	err |= put_neigh("192.168.1.254", M_GW1, U1) | put_neigh("192.168.2.254", M_GW2, U2);
	err |= put_neigh("192.168.3.254", M_GW3, U3) | put_neigh("10.88.0.254", M_RL2, RL);
	/* The routes. */
	nh = hop_via(U1, "192.168.1.254", 1);
	err |= put_route("10.9.0.0", 16, 1, &nh);
	nh = hop_via(U2, "192.168.2.254", 1);
	err |= put_route("10.9.9.0", 24, 1, &nh);
	err |= put_route("172.16.0.0", 16, 2, ecmp) | put_route("172.17.0.0", 16, 2, bysrc);
	nh = hop_via(U1, "192.168.1.254", 1); /* one hop, for one source prefix */
	nh.src = frames_addr("10.1.0.0");
	nh.src_len = 24;
	err |= put_route("172.18.0.0", 16, 1, &nh);
	nh = hop_type(MX_ROUTE_BLACKHOLE);
	err |= put_route("10.66.0.0", 16, 1, &nh);
	nh = hop_type(MX_ROUTE_REJECT);
	err |= put_route("10.77.0.0", 16, 1, &nh);
	nh = hop_via(U3, "192.168.3.254", 1);
	err |= put_route("198.51.100.0", 24, 1, &nh);
	nh = hop_via(U1, "192.168.1.200", 1);
	err |= put_route("203.0.113.0", 24, 1, &nh);
	nh = hop_via(U1, "192.168.1.201", 1); /* learned by a row */
	err |= put_route("203.0.115.0", 24, 1, &nh);
	nh = hop_via(U3, "192.168.3.200", 1);
	err |= put_route("203.0.114.0", 24, 1, &nh);
	nh = hop_via(RL, "10.88.0.254", 1);
	err |= put_route("10.88.1.0", 24, 1, &nh);
	return err ? -1 : 0;
}

/* ---- what a row expects out ---- */

enum expect_kind {
	EXP_NONE,       /* no output to compare (drop, flood) */
	EXP_ROUTED,     /* the input, MACs rewritten, TTL - 1 */
	EXP_ROUTED_VX,  /* that, in VXLAN to odst with VNI vni */
	EXP_ICMP,       /* ICMP error type/code from addr, back to the sender */
	EXP_ECHO,       /* echo reply from the router */
	EXP_ARP_REPLY,  /* ARP reply from smac */
	EXP_ARP_REQ,    /* ARP request from smac/addr for tpa */
	EXP_ARP_REQ_VX, /* that, in VXLAN */
	EXP_DECAP,      /* the inner frame of the VXLAN input */
	EXP_RST,        /* the TCP RST that answers the input, from smac */
};

struct expect {
	enum expect_kind kind;
	const uint8_t *dmac, *smac;
	const char *addr;  /* EXP_ICMP: source; EXP_ARP_REQ: sender */
	const char *tpa;   /* EXP_ARP_REQ: target */
	uint8_t type, code;
	__u32 vni;         /* _VX: VNI; the outer destination is PEER_ADDR */
	bool routed;       /* EXP_ICMP: the quote is of the input routed once (TTL - 1) */
};

static size_t exp_routed(const struct expect *e, const uint8_t *in, size_t len, uint8_t *exp)
{
	uint8_t *ip = exp + 14;

	memcpy(exp, in, len);
	memcpy(exp, e->dmac, 6);
	memcpy(exp + 6, e->smac, 6);
	ip[8]--;
	frames_put16(ip + 10, 0);
	frames_put16(ip + 10, frames_csum(ip, (ip[0] & 0xf) * 4));
	return len;
}

static size_t exp_icmp(const struct expect *e, const uint8_t *in, size_t len, uint8_t *exp)
{
	size_t hl = (in[14] & 0xf) * 4, tot = (size_t)in[16] << 8 | in[17];
	size_t q = hl + 8 < tot ? hl + 8 : tot;
	uint32_t to;

	(void)len;
	memcpy(&to, in + 14 + 12, 4);
	frames_eth(exp, in + 6, e->smac, 0x0800);
	frames_ipv4(exp + 14, 5, 1, frames_addr(e->addr), to, 0, 8 + q);
	exp[15] = 0xc0;
	frames_put16(exp + 24, 0);
	frames_put16(exp + 24, frames_csum(exp + 14, 20));
	memset(exp + 34, 0, 8);
	exp[34] = e->type;
	exp[35] = e->code;
	memcpy(exp + 42, in + 14, q);
	if (e->routed) {
		exp[42 + 8]--;
		frames_put16(exp + 42 + 10, 0);
		frames_put16(exp + 42 + 10, frames_csum(exp + 42, hl));
	}
	frames_put16(exp + 36, frames_csum(exp + 34, 8 + q));
	return 42 + q;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The RST that answers the TCP segment in (RFC 793, "Reset Generation"): from its
 * destination address and port to its source, with the segment's acknowledgment number as
 * sequence number if it has one, else sequence 0 and an ACK of all it occupied; IPv4 with
 * DF and TTL 64; both checksums computed here. */
static size_t exp_rst(const struct expect *e, const uint8_t *in, uint8_t *exp)
{
	size_t hl = (in[14] & 0xf) * 4, tot = (size_t)in[16] << 8 | in[17];
	const uint8_t *th = in + 14 + hl;
	uint32_t seg = tot - hl - (th[12] >> 4) * 4, sa, da;
	uint8_t *tcp = exp + 34, pseudo[32] = { 0 };

	memcpy(&sa, in + 26, 4);
	memcpy(&da, in + 30, 4);
	frames_eth(exp, in + 6, e->smac, 0x0800);
	frames_ipv4(exp + 14, 5, 6, da, sa, 0x4000, 20);
	memset(tcp, 0, 20);
	memcpy(tcp, th + 2, 2);
	memcpy(tcp + 2, th, 2);
	if (th[13] & 0x10) {
		memcpy(tcp + 4, th + 8, 4);
		tcp[13] = 0x04;
	} else {
		frames_put32(tcp + 8, get32(th + 4) + seg + !!(th[13] & 2) + !!(th[13] & 1));
		tcp[13] = 0x14;
	}
	tcp[12] = 5 << 4;
	memcpy(pseudo, &da, 4);
	memcpy(pseudo + 4, &sa, 4);
	pseudo[9] = 6;
	pseudo[11] = 20;
	memcpy(pseudo + 12, tcp, 20);
	frames_put16(tcp + 16, frames_csum(pseudo, sizeof(pseudo)));
	return 54;
}

static size_t exp_echo(const struct expect *e, const uint8_t *in, size_t len, uint8_t *exp)
{
	size_t hl = (in[14] & 0xf) * 4, tot = (size_t)in[16] << 8 | in[17];
	uint8_t *ip = exp + 14, *icmp = ip + hl;

	memcpy(exp, in, len);
	memcpy(exp, in + 6, 6);
	memcpy(exp + 6, e->smac, 6);
	memcpy(ip + 12, in + 14 + 16, 4);
	memcpy(ip + 16, in + 14 + 12, 4);
	ip[8] = 64;
	frames_put16(ip + 10, 0);
	frames_put16(ip + 10, frames_csum(ip, hl));
	icmp[0] = 0;
	frames_put16(icmp + 2, 0);
	frames_put16(icmp + 2, frames_csum(icmp, tot - hl));
	return len;
}

static size_t exp_arp_req(const struct expect *e, uint8_t *exp)
{
	static const uint8_t zero[6];

	memset(exp, 0, 60);
	frames_eth(exp, BCAST, e->smac, 0x0806);
	frames_arp(exp + 14, 1, e->smac, frames_addr(e->addr), zero, frames_addr(e->tpa));
	return 60;
}

static size_t exp_arp_reply(const struct expect *e, const uint8_t *in, uint8_t *exp)
{
	uint32_t spa, tpa;

	memcpy(&spa, in + 28, 4);
	memcpy(&tpa, in + 38, 4);
	frames_eth(exp, in + 6, e->smac, 0x0806);
	return 14 + frames_arp(exp + 14, 2, e->smac, tpa, in + 22, spa);
}

static size_t exp_vxlan(const struct expect *e, const uint8_t *inner, size_t inner_len,
			const uint8_t *out, uint8_t *exp)
{
	return frames_encap(exp, PEER_MAC, UL_MAC, frames_addr(LOCAL_ADDR), frames_addr(PEER_ADDR),
			    out + 34, e->vni, inner, inner_len);
}

static size_t expect_build(const struct expect *e, const uint8_t *in, size_t len,
			   const uint8_t *out, uint8_t *exp)
{
	uint8_t inner[FRAMES_MAX];
	size_t n;

	switch (e->kind) {
	case EXP_ROUTED:
		return exp_routed(e, in, len, exp);
	case EXP_ROUTED_VX:
		n = exp_routed(e, in, len, inner);
		return exp_vxlan(e, inner, n, out, exp);
	case EXP_ICMP:
		return exp_icmp(e, in, len, exp);
	case EXP_RST:
		return exp_rst(e, in, exp);
	case EXP_ECHO:
		return exp_echo(e, in, len, exp);
	case EXP_ARP_REPLY:
		return exp_arp_reply(e, in, exp);
	case EXP_ARP_REQ:
		return exp_arp_req(e, exp);
	case EXP_ARP_REQ_VX:
		n = exp_arp_req(e, inner);
		return exp_vxlan(e, inner, n, out, exp);
	case EXP_DECAP:
		memcpy(exp, in + FRAMES_VXLAN_OVERHEAD, len - FRAMES_VXLAN_OVERHEAD);
		return len - FRAMES_VXLAN_OVERHEAD;
	default:
		return 0;
	}
}

/* Every IPv4 header checksum of the frame (outer and inner of VXLAN) and every ICMP
 * checksum must verify, computed here independently of the BPF side. */
static bool checksums_ok(const uint8_t *f, size_t len, char *diag, size_t dlen)
{
	size_t hl, tot;

	if (len < 34 || f[12] != 0x08 || f[13] != 0x00)
		return true; /* not IPv4 */
	hl = (f[14] & 0xf) * 4;
	tot = (size_t)f[16] << 8 | f[17];
	if (hl < 20 || 14 + hl > len || frames_csum(f + 14, hl)) {
		snprintf(diag, dlen, "IPv4 header checksum invalid");
		return false;
	}
	if (f[23] == 1 && !(f[20] & 0x3f) && !f[21] &&
	    (14 + tot > len || frames_csum(f + 14 + hl, tot - hl))) {
		snprintf(diag, dlen, "ICMP checksum invalid");
		return false;
	}
	if (f[23] == 17 && len >= 14 + hl + 8 + 8 + 14 && f[14 + hl + 2] == 0x12 &&
	    f[14 + hl + 3] == 0xb5) /* VXLAN: the inner frame too */
		return checksums_ok(f + 14 + hl + 16, len - (14 + hl + 16), diag, dlen);
	return true;
}

static bool output_check(const struct expect *e, const uint8_t *in, size_t in_len,
			 const uint8_t *out, size_t out_len, char *diag, size_t len)
{
	uint8_t exp[FRAMES_MAX + 128];
	size_t exp_len;

	/* A dropped frame left as it came carries only what its sender wrote (a bad checksum
	 * included); one the datapath rewrote must verify. */
	if (e->kind == EXP_NONE && out_len == in_len && !memcmp(out, in, in_len))
		return true;
	if (!checksums_ok(out, out_len, diag, len))
		return false;
	if (e->kind == EXP_NONE)
		return true;
	exp_len = expect_build(e, in, in_len, out, exp);
	return frames_same(exp, exp_len, out, out_len, diag, len);
}

/* ---- the table ---- */

enum prog { PORT, UNDERLAY };

struct rt_case {
	const char *name;
	enum ifid iface;
	struct frames_spec in;
	int verdict;
	struct expect out;
	struct delta deltas[MAX_DELTAS];
	bool (*check)(char *diag, size_t len);
	enum prog prog;
};

static bool neigh_is(const char *addr, const uint8_t *mac, __u32 port, __u16 flags, char *diag,
		    size_t len)
{
	struct mx_neigh_key k = { .router_key = R, .addr = frames_addr(addr) };
	struct mx_neigh_entry v;

	if (mx_neigh_lookup(dp, &k, &v)) {
		snprintf(diag, len, "no midox_neigh entry for %s", addr);
		return false;
	}
	if (memcmp(v.mac, mac, 6) || v.port_key != port || v.flags != flags ||
	    (flags == MX_NEIGH_LOCAL && !v.seen_ns)) {
		snprintf(diag, len, "midox_neigh %s: port %u flags %#x, want port %u flags %#x (or MAC)",
			 addr, v.port_key, v.flags, port, flags);
		return false;
	}
	return true;
}

static bool check_learned_reply(char *diag, size_t len)
{
	return neigh_is("192.168.1.201", M_NB, U1, MX_NEIGH_LOCAL, diag, len);
}

static bool check_learned_request(char *diag, size_t len)
{
	return neigh_is("192.168.1.77", M_NB, U1, MX_NEIGH_LOCAL, diag, len);
}

static bool check_static_kept(char *diag, size_t len)
{
	return neigh_is("192.168.1.254", M_GW1, U1, MX_NEIGH_STATIC, diag, len);
}

/* The bridge answered VM a's request for its gateway (RA's address): router R learned VM a
 * on RA, as had RA answered. */
static bool check_bridge_learned(char *diag, size_t len)
{
	return neigh_is(IP_VA, M_VA, RA, MX_NEIGH_LOCAL, diag, len);
}

/* The bridge answered VM b's request for VM r (a VM station, not a router port's): no
 * router learned VM b. */
static bool check_vm_station_not_learned(char *diag, size_t len)
{
	struct mx_neigh_key k = { .router_key = R, .addr = frames_addr(IP_VB) };
	struct mx_neigh_entry v;

	if (!mx_neigh_lookup(dp, &k, &v)) {
		snprintf(diag, len, "midox_neigh has %s (port %u): learned from a VM's answer",
			 IP_VB, v.port_key);
		return false;
	}
	return true;
}

/* From VM a on bridge BA (through the router), and from the physical network on up1. */
#define FROM_VA(dst_ip) .kind = FRAMES_IPV4, .dst = M_RA, .src = M_VA, .sip = IP_VA, \
	.tip = (dst_ip), .payload = 18
#define FROM_UP1(dst_ip) .kind = FRAMES_IPV4, .dst = M_U1, .src = M_GW1, \
	.sip = "192.168.50.5", .tip = (dst_ip), .payload = 18
#define ICMP_ERR(t, c, from) { EXP_ICMP, .smac = M_RA, .addr = (from), .type = (t), .code = (c) }
#define ARPREQ(s, sip_, tip_) { .kind = FRAMES_ARP, .dst = BCAST, .src = (s), .sip = (sip_), \
	.tip = (tip_) }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct rt_case cases[] = {
	/* delivery */
	{ "connected: VM to a VM on the peer bridge, same host", IF_VA, { FROM_VA(IP_VB) },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB }, { RX(VA, 1), TX(VB, 1), TX(BBR, 0) } },
	{ "connected: VM to a VM on the peer bridge on another host (VNI = its port)", IF_VA,
	  { FROM_VA(IP_VR) }, TC_ACT_REDIRECT, { EXP_ROUTED_VX, M_VR, M_RB, .vni = VR },
	  { RX(VA, 1), TX(VR, 1) } },
	{ "uplink in: physical network to a VM, the router first", IF_UP1, { FROM_UP1(IP_VB) },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB }, { RX(U1, 1), TX(VB, 1) } },
	{ "via gateway out of an exterior port here", IF_VA, { FROM_VA("10.9.8.5") },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_GW1, M_U1 }, { TX(U1, 1), TX(U2, 0) } },
	{ "IPv4 options counted in the header checksum: routed", IF_VA,
	  { FROM_VA(IP_VB), .ihl = 8 }, TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB },
	  { TX(VB, 1) } },
	{ "bad IPv4 header checksum: dropped, not routed (RFC 1812)", IF_VA,
	  { FROM_VA(IP_VB), .bad_check = true }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RA, MX_DROP_IP_CHECKSUM), TX(VB, 0) } },
	{ "bad IPv4 header checksum with options: dropped", IF_VA,
	  { FROM_VA(IP_VB), .ihl = 8, .bad_check = true }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RA, MX_DROP_IP_CHECKSUM), TX(VB, 0) } },
	{ "bad IPv4 header checksum, TTL 1: no ICMP error", IF_VA,
	  { FROM_VA(IP_VB), .ttl = 1, .bad_check = true }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RA, MX_DROP_IP_CHECKSUM), DROPS(RA, MX_DROP_TTL_EXCEEDED, 0), TX(VA, 0) } },
	{ "longest prefix wins (/24 over /16)", IF_VA, { FROM_VA("10.9.9.5") }, TC_ACT_REDIRECT,
	  { EXP_ROUTED, M_GW2, M_U2 }, { TX(U2, 1), TX(U1, 0) } },
	{ "via gateway out of an exterior port on another host (VNI = its port)", IF_VA,
	  { FROM_VA("198.51.100.5") }, TC_ACT_REDIRECT,
	  { EXP_ROUTED_VX, M_GW3, M_U3, .vni = U3 }, { TX(U3, 1) } },
	{ "source-prefix route: from 10.1.0.0/24 out of U1", IF_VA, { FROM_VA("172.17.0.5") },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_GW1, M_U1 }, { TX(U1, 1), TX(U2, 0) } },
	{ "source-prefix route: from 10.2.0.0/24 out of U2", IF_VB,
	  { .kind = FRAMES_IPV4, .dst = M_RB, .src = M_VB, .sip = IP_VB, .tip = "172.17.0.5",
	    .payload = 18 },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_GW2, M_U2 }, { RX(VB, 1), TX(U2, 1), TX(U1, 0) } },
	{ "source-prefix route: no hop for this source, net unreachable", IF_UP1,
	  { FROM_UP1("172.17.0.5") }, TC_ACT_REDIRECT,
	  { EXP_ICMP, .smac = M_U1, .addr = "192.168.1.1", .type = 3, .code = 0 },
	  { DROP(U1, MX_DROP_NO_ROUTE), TX(U1, 1) } },
	/* A set of one hop is decided without route_select (route_choose): the same rules. */
	{ "one-hop source-prefix route: from 10.1.0.0/24 out of U1", IF_VA,
	  { FROM_VA("172.18.0.5") }, TC_ACT_REDIRECT, { EXP_ROUTED, M_GW1, M_U1 },
	  { TX(U1, 1), TX(U2, 0) } },
	{ "one-hop source-prefix route: another source has no hop, net unreachable", IF_UP1,
	  { FROM_UP1("172.18.0.5") }, TC_ACT_REDIRECT,
	  { EXP_ICMP, .smac = M_U1, .addr = "192.168.1.1", .type = 3, .code = 0 },
	  { DROP(U1, MX_DROP_NO_ROUTE), TX(U1, 1) } },
	{ "IPv4 options forwarded intact, checksum right", IF_VA,
	  { FROM_VA(IP_VB), .ihl = 7 }, TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB },
	  { TX(VB, 1) } },
	{ "first fragment routed", IF_VA, { FROM_VA(IP_VB), .frag_off = 0x2000 },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB }, { TX(VB, 1) } },
	{ "later fragment routed", IF_VA, { FROM_VA(IP_VB), .frag_off = 185 }, TC_ACT_REDIRECT,
	  { EXP_ROUTED, M_VB, M_RB }, { TX(VB, 1) } },
	{ "TTL 2 forwarded as TTL 1", IF_VA, { FROM_VA(IP_VB), .ttl = 2 }, TC_ACT_REDIRECT,
	  { EXP_ROUTED, M_VB, M_RB }, { TX(VB, 1) } },
	/* drops and ICMP errors */
	{ "blackhole: dropped silently", IF_VA, { FROM_VA("10.66.0.1") }, TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(RA, MX_DROP_BLACKHOLE), TX(VA, 0) } },
	{ "reject: ICMP administratively prohibited", IF_VA, { FROM_VA("10.77.0.1") },
	  TC_ACT_REDIRECT, ICMP_ERR(3, 13, "10.1.0.1"), { DROP(RA, MX_DROP_REJECT), TX(VA, 1) } },
	{ "no route: ICMP net unreachable", IF_VA, { FROM_VA("8.8.8.8") }, TC_ACT_REDIRECT,
	  ICMP_ERR(3, 0, "10.1.0.1"), { DROP(RA, MX_DROP_NO_ROUTE), TX(VA, 1) } },
	{ "TTL 1: ICMP time exceeded", IF_VA, { FROM_VA(IP_VB), .ttl = 1 }, TC_ACT_REDIRECT,
	  ICMP_ERR(11, 0, "10.1.0.1"), { DROP(RA, MX_DROP_TTL_EXCEEDED), TX(VB, 0), TX(VA, 1) } },
	{ "TTL 0: ICMP time exceeded", IF_VA, { FROM_VA(IP_VB), .ttl = FRAMES_TTL_ZERO },
	  TC_ACT_REDIRECT, ICMP_ERR(11, 0, "10.1.0.1"), { DROP(RA, MX_DROP_TTL_EXCEEDED) } },
	{ "TTL 1 with IPv4 options: the quote has them", IF_VA,
	  { FROM_VA(IP_VB), .ttl = 1, .ihl = 8 }, TC_ACT_REDIRECT, ICMP_ERR(11, 0, "10.1.0.1"),
	  { DROP(RA, MX_DROP_TTL_EXCEEDED) } },
	{ "TTL 1 on a later fragment: no ICMP (RFC 1812)", IF_VA,
	  { FROM_VA(IP_VB), .ttl = 1, .frag_off = 185 }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RA, MX_DROP_TTL_EXCEEDED), TX(VA, 0) } },
	{ "no ICMP error about an ICMP error", IF_VA,
	  { FROM_VA("8.8.8.8"), .ip_proto = 1, .icmp_type = 3 }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RA, MX_DROP_NO_ROUTE), TX(VA, 0) } },
	{ "hop limit: a loop of devices stops after MX_MAX_DEVICE_HOPS", IF_VA,
	  { FROM_VA("10.88.1.5") }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(RL2, MX_DROP_HOP_LIMIT), TX(VA, 0) } },
	{ "frame not to the router port's MAC dropped", IF_UP1,
	  { .kind = FRAMES_IPV4, .dst = M_OTHER, .src = M_GW1, .sip = "192.168.50.5",
	    .tip = IP_VB, .payload = 18 },
	  TC_ACT_SHOT, { EXP_NONE },
	  { DROP(U1, MX_DROP_ROUTER_NOT_OURS), TX(VB, 0) } },
	{ "non-IPv4 to the router dropped", IF_UP1,
	  { .kind = FRAMES_IPV6, .dst = M_U1, .src = M_GW1 }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(U1, MX_DROP_NOT_IPV4) } },
	{ "UDP to a router address dropped", IF_VA, { FROM_VA("10.1.0.1") }, TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(RA, MX_DROP_ROUTER_LOCAL) } },
	/* the router's own addresses */
	{ "ICMP echo to the router port address answered", IF_VA,
	  { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_REDIRECT,
	  { EXP_ECHO, .smac = M_RA }, { TX(VA, 1), RX(VA, 1) } },
	/* type 8 and nothing else: the reply's words are all 0, its checksum 0xffff, not 0 */
	{ "ICMP echo of id, sequence and payload 0 answered with a checksum that checks", IF_VA,
	  { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8, .icmp_zero_id = true },
	  TC_ACT_REDIRECT, { EXP_ECHO, .smac = M_RA }, { TX(VA, 1), RX(VA, 1) } },
	{ "ICMP echo to another port's address answered from it", IF_VA,
	  { FROM_VA("192.168.2.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_REDIRECT,
	  { EXP_ECHO, .smac = M_RA }, { TX(VA, 1) } },
	{ "ARP request for the router port address answered (uplink)", IF_UP1,
	  ARPREQ(M_NB, "192.168.1.77", "192.168.1.1"), TC_ACT_REDIRECT,
	  { EXP_ARP_REPLY, .smac = M_U1 }, { RX(U1, 1), TX(U1, 1) }, check_learned_request },
	{ "ARP request for another address not answered", IF_UP1,
	  ARPREQ(M_NB, "192.168.1.77", "192.168.1.99"), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(U1, MX_DROP_ROUTER_NOT_OURS), TX(U1, 0) } },
	{ "ARP request for the gateway answered by the bridge, the asker learned by the router",
	  IF_VA, ARPREQ(M_VA, IP_VA, "10.1.0.1"), TC_ACT_REDIRECT, { EXP_ARP_REPLY, .smac = M_RA },
	  { TX(VA, 1), RX(RA, 0) }, check_bridge_learned },
	{ "ARP request for a VM answered by the bridge, the asker learned by no router", IF_VB,
	  ARPREQ(M_VB, IP_VB, IP_VR), TC_ACT_REDIRECT, { EXP_ARP_REPLY, .smac = M_VR },
	  { TX(VB, 1) }, check_vm_station_not_learned },
	{ "ARP reply learned into midox_neigh (MX_NEIGH_LOCAL)", IF_UP1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_U1, .src = M_NB, .sip = "192.168.1.201",
	    .tip = "192.168.1.1" },
	  TC_ACT_STOLEN, { EXP_NONE }, { RX(U1, 1) }, check_learned_reply },
	{ "learned neighbour used as next hop (no miss)", IF_VA, { FROM_VA("203.0.115.5") },
	  TC_ACT_REDIRECT, { EXP_ROUTED, M_NB, M_U1 },
	  { DROPS(RA, MX_DROP_ARP_MISS, 0), TX(U1, 1) } },
	{ "ARP reply never overwrites a static entry", IF_UP1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_U1, .src = M_NB, .sip = "192.168.1.254",
	    .tip = "192.168.1.1" },
	  TC_ACT_STOLEN, { EXP_NONE }, { RX(U1, 1) }, check_static_kept },
	/* ARP misses */
	{ "ARP miss on an exterior port: request out of it, packet counted", IF_VA,
	  { FROM_VA("203.0.113.5") }, TC_ACT_REDIRECT,
	  { EXP_ARP_REQ, .smac = M_U1, .addr = "192.168.1.1", .tpa = "192.168.1.200" },
	  { DROP(RA, MX_DROP_ARP_MISS), TX(U1, 1) } },
	{ "ARP miss on a remote exterior port: request tunnelled to its host", IF_VA,
	  { FROM_VA("203.0.114.5") }, TC_ACT_REDIRECT,
	  { EXP_ARP_REQ_VX, .smac = M_U3, .addr = "192.168.3.1", .tpa = "192.168.3.200", .vni = U3 },
	  { DROP(RA, MX_DROP_ARP_MISS), TX(U3, 1) } },
	{ "ARP miss on an interior port: request flooded on the peer bridge", IF_VA,
	  { FROM_VA("10.2.0.9") }, TC_ACT_STOLEN, { EXP_NONE },
	  { DROP(RA, MX_DROP_ARP_MISS), TX(VB, 1), TX(BB, 1) } },
	/* receiving host */
	{ "VXLAN to an exterior router port's VNI delivered out of its interface", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_GW1, .src = M_U1, .sip = IP_VB, .tip = "10.9.8.5",
	    .payload = 18, .vxlan = true, .osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = U1 },
	  TC_ACT_REDIRECT, { EXP_DECAP }, { TX(U1, 1) }, .prog = UNDERLAY },
};
#pragma GCC diagnostic pop

/* ---- running ---- */

static int prog_run(enum prog prog, enum ifid iface, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len, int *verdict)
{
	int fd = prog == PORT ? mx_datapath_port_prog_fd(dp) : mx_datapath_underlay_prog_fd(dp);

	return dp_test_run(fd, ifx[iface], in, in_len, out, out_len, verdict);
}

static void case_run(const struct rt_case *c)
{
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = frames_build(&c->in, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	__u64 before[MAX_DELTAS] = { 0 };
	char diag[256] = "";
	int verdict = 0, err;
	bool ok;

	deltas_before(dp, c->deltas, before);
	err = prog_run(c->prog, c->iface, in, in_len, out, &out_len, &verdict);
	if (err)
		snprintf(diag, sizeof(diag), "BPF_PROG_TEST_RUN: %s", strerror(-err));
	else if (verdict != c->verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", verdict, c->verdict);
	ok = !err && verdict == c->verdict &&
	     output_check(&c->out, in, in_len, out, out_len, diag, sizeof(diag)) &&
	     deltas_check(dp, c->deltas, before, diag, sizeof(diag)) &&
	     (!c->check || c->check(diag, sizeof(diag)));
	if (!tap_check(ok, diag, "%s", c->name))
		drops_print(dp, c->deltas);
}

/* ---- a reused midox_arp_v2 element on the peer bridge (bpf/lib/elem.h) ---- */

/* What router_neigh would read if the kernel handed IP_VB's element of bridge BB to IP_VR's
 * insert while it read: IP_VR's entry under IP_VB's key. Taken for none: the router asks by
 * ARP, as on a miss, instead of sending VB's packet to VR's MAC. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct rt_case reused_arp_case = {
	"reused ARP element of the peer bridge (another address's): ARP request flooded there, not routed to its MAC",
	IF_VA, { FROM_VA(IP_VB) }, TC_ACT_STOLEN, { EXP_NONE },
	{ DROP(RA, MX_DROP_ARP_MISS), TX(VB, 1), TX(BB, 1), TX(VR, 0) } };
#pragma GCC diagnostic pop

static void test_reused_arp(void)
{
	struct mx_arp_key k = { .bridge_key = BB, .addr = frames_addr(IP_VB) };
	struct mx_arp_entry e = { .key = { .bridge_key = BB, .addr = frames_addr(IP_VR) } };

	memcpy(e.mac, M_VR, 6);
	if (!tap_ok(!bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_ARP), &k, &e, BPF_ANY),
		    "reused ARP element: written"))
		return;
	case_run(&reused_arp_case);
	if (put_arp(BB, IP_VB, M_VB))
		tap_bail("cannot put VB's ARP entry back");
}

/* ---- admin state: rows run with some ports set down (as the agent sets them) ---- */

static const __u32 router_ports[] = { RA, RB, U1, U2, U3, RL, RL2, 0 };
static const __u32 bridge_bb_ports[] = { VB, VR, BBR, 0 };
static const __u32 port_u1[] = { U1, 0 };

/* Adds flag to (on) or takes it from the ports of keys (0-terminated). */
static int ports_flag(const __u32 *keys, __u32 flag, bool on)
{
	struct mx_port p;
	int err = 0;

	for (; *keys && !err; keys++) {
		err = mx_port_lookup(dp, *keys, &p);
		if (!err) {
			p.flags = on ? p.flags | flag : p.flags & ~flag;
			err = dp_put_port(dp, *keys, &p);
		}
	}
	return err;
}

struct down_case {
	const __u32 *down; /* the ports set down for the row */
	__u32 flag;        /* MX_PORT_ADMIN_DOWN, or MX_PORT_DEVICE_DOWN for a device set down */
	struct rt_case row;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct down_case down_cases[] = {
	{ router_ports, MX_PORT_DEVICE_DOWN,
	  { "router set down: a routed frame dropped as admin-down where it enters", IF_VA,
	    { FROM_VA(IP_VB) }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_ADMIN_DOWN), TX(VB, 0), TX(VA, 0) } } },
	{ router_ports, MX_PORT_DEVICE_DOWN,
	  { "router set down: ICMP echo to its address not answered", IF_VA,
	    { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_ADMIN_DOWN), TX(VA, 0) } } },
	{ router_ports, MX_PORT_DEVICE_DOWN,
	  { "router set down: nothing in by its uplink", IF_UP1, { FROM_UP1(IP_VB) },
	    TC_ACT_SHOT, { EXP_NONE }, { DROP(U1, MX_DROP_ADMIN_DOWN), TX(VB, 0) } } },
	{ port_u1, MX_PORT_ADMIN_DOWN,
	  { "route out of a down port: dropped as admin-down on the ingress router port", IF_VA,
	    { FROM_VA("10.9.8.5") }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_ADMIN_DOWN), TX(U1, 0) } } },
	{ port_u1, MX_PORT_ADMIN_DOWN,
	  { "ARP miss out of a down port: no ARP request, no arp-miss", IF_VA,
	    { FROM_VA("203.0.113.5") }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_ADMIN_DOWN), DROPS(RA, MX_DROP_ARP_MISS, 0), TX(U1, 0) } } },
	{ port_u1, MX_PORT_ADMIN_DOWN,
	  { "a down uplink: nothing in by it", IF_UP1, { FROM_UP1(IP_VB) }, TC_ACT_SHOT,
	    { EXP_NONE }, { DROP(U1, MX_DROP_ADMIN_DOWN), TX(VB, 0) } } },
	{ bridge_bb_ports, MX_PORT_DEVICE_DOWN,
	  { "routed into a bridge set down: dropped at the router", IF_VA, { FROM_VA(IP_VB) },
	    TC_ACT_SHOT, { EXP_NONE }, { DROP(RA, MX_DROP_ADMIN_DOWN), TX(VB, 0) } } },
	{ bridge_bb_ports, MX_PORT_DEVICE_DOWN,
	  { "ARP miss into a bridge set down: one drop (admin-down), no request", IF_VA,
	    { FROM_VA("10.2.0.9") }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_ADMIN_DOWN), DROPS(RA, MX_DROP_ARP_MISS, 0), TX(VB, 0),
	      TX(BB, 0) } } },
};
#pragma GCC diagnostic pop

/* ---- a router's entry for a VM refreshed by the requests its bridge answers ---- */

/* VM a's entry, learned long ago (seen_ns 1), is confirmed again by its next request for
 * its gateway, which the bridge answers: the agent would otherwise expire it after
 * mac_age_seconds while VM a keeps asking. */
static void test_bridge_refresh(void)
{
	struct mx_neigh_key k = { .router_key = R, .addr = frames_addr(IP_VA) };
	struct mx_neigh_entry v = { .flags = MX_NEIGH_LOCAL, .port_key = RA, .seen_ns = 1 };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	struct frames_spec req = ARPREQ(M_VA, IP_VA, "10.1.0.1");
	size_t in_len = frames_build(&req, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	char diag[160] = "";
	int verdict = 0;

	memcpy(v.mac, M_VA, 6);
	if (mx_neigh_update(dp, &k, &v))
		snprintf(diag, sizeof(diag), "cannot write VM a's old entry");
	else if (prog_run(PORT, IF_VA, in, in_len, out, &out_len, &verdict) ||
		 verdict != TC_ACT_REDIRECT)
		snprintf(diag, sizeof(diag), "the request was not answered (verdict %d)", verdict);
	else if (mx_neigh_lookup(dp, &k, &v))
		snprintf(diag, sizeof(diag), "VM a's entry is gone");
	else if (v.seen_ns <= 1 || v.flags != MX_NEIGH_LOCAL || v.port_key != RA ||
		 memcmp(v.mac, M_VA, 6))
		snprintf(diag, sizeof(diag), "seen_ns %llu flags %#x port %u, want refreshed, %#x, %u",
			 (unsigned long long)v.seen_ns, v.flags, v.port_key, MX_NEIGH_LOCAL, RA);
	tap_check(!*diag, diag, "a request the bridge answers for the gateway refreshes the "
		  "router's entry for the asker (seen_ns)");
}

static void test_admin_down(void)
{
	for (size_t i = 0; i < sizeof(down_cases) / sizeof(down_cases[0]); i++) {
		const struct down_case *d = &down_cases[i];

		if (ports_flag(d->down, d->flag, true)) {
			tap_check(false, "cannot set the ports down", "%s", d->row.name);
			continue;
		}
		case_run(&d->row);
		if (ports_flag(d->down, d->flag, false))
			tap_bail("cannot set the ports up again");
	}
}

/* One frame from VM a to dst with UDP source port sport: the egress router port's MAC (the
 * output's source MAC), or NULL. */
static const uint8_t *egress_mac(const char *dst, uint16_t sport, uint16_t frag_off,
				 uint8_t *mac)
{
	struct frames_spec s = { FROM_VA(dst), .sport = sport, .frag_off = frag_off };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX];
	size_t in_len = frames_build(&s, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	int verdict;

	if (prog_run(PORT, IF_VA, in, in_len, out, &out_len, &verdict) ||
	    verdict != TC_ACT_REDIRECT || out_len < 12)
		return NULL;
	memcpy(mac, out + 6, 6);
	return mac;
}

/* ---- the hints of where midox_portslot holds a port's copy ---- */

/* Port key's copy at its slot (dp_slot_of) made from its midox_port_v2 entry with flags
 * added and, when mac is not NULL, that MAC; the copy named for port owner (another key:
 * a hint gone stale, the slot given to another port). */
static int slot_copy_set(__u32 key, __u32 flags, const uint8_t *mac, __u32 owner)
{
	struct mx_port p;
	int err = mx_port_lookup(dp, key, &p);

	if (err)
		return err;
	p.flags |= flags;
	if (mac)
		memcpy(p.mac, mac, 6);
	return mx_port_slot_update(dp, dp_slot_of(key), owner, &p);
}

/* Each hint is read: a copy at the hinted slot that differs from the port's midox_port_v2
 * entry decides the frame (VM a to VM b, routed out of RB into bridge BB). A copy named for
 * another port is not taken: the hash's entry is, and the frame goes as without hints. */
static void test_slot_hints(void)
{
	const struct { const char *name; __u32 key; __u32 flags; const uint8_t *mac; } hints[] = {
		{ "the route's hint of its egress port (mx_nexthop.port_slot)", RB, 0, M_OTHER },
		{ "the egress port's hint of its peer (mx_port.peer_slot), a router's", BBR,
		  MX_PORT_ADMIN_DOWN, NULL },
		{ "a bridge port's hint of its peer (mx_port.peer_slot), into the router", RA,
		  MX_PORT_ADMIN_DOWN, NULL },
	};
	uint8_t mac[6];
	const uint8_t *got;

	got = egress_mac(IP_VB, 4000, 0, mac);
	tap_ok(got && !memcmp(got, M_RB, 6), "routed out of RB with every hint in place");
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		__u32 key = hints[i].key;
		bool read, stale;

		if (slot_copy_set(key, hints[i].flags, hints[i].mac, key))
			tap_bail("cannot write a slot's copy");
		got = egress_mac(IP_VB, 4000, 0, mac);
		/* the copy's MAC out, or the copy's down port: dropped */
		read = hints[i].mac ? got && !memcmp(got, hints[i].mac, 6) : !got;
		if (slot_copy_set(key, hints[i].flags, hints[i].mac, VA))
			tap_bail("cannot write a slot's copy");
		got = egress_mac(IP_VB, 4000, 0, mac);
		stale = got && !memcmp(got, M_RB, 6);
		if (slot_copy_set(key, 0, NULL, key))
			tap_bail("cannot restore a slot's copy");
		tap_ok(read && stale, "%s: the slot's copy read; named for another port, the hash's entry",
		       hints[i].name);
	}
}

/* 1:3 weights over U1 and U2: 2000 flows, U2's share within 70..80%. */
static void test_ecmp(void)
{
	unsigned int n1 = 0, n2 = 0, other = 0;
	char diag[128] = "";
	uint8_t mac[6];

	for (unsigned int i = 0; i < 2000; i++) {
		if (!egress_mac("172.16.0.5", 1024 + i, 0, mac))
			other++;
		else if (!memcmp(mac, M_U1, 6))
			n1++;
		else if (!memcmp(mac, M_U2, 6))
			n2++;
		else
			other++;
	}
	snprintf(diag, sizeof(diag), "U1 %u, U2 %u, other %u", n1, n2, other);
	tap_check(!other && n2 * 100 >= 70 * 2000 && n2 * 100 <= 80 * 2000, diag,
		  "ECMP 1:3 spreads 2000 flows in proportion (%s)", diag);
}

/* Fragments hash on L3 only: whatever the bytes where ports would be, one path. */
static void test_ecmp_fragments(void)
{
	uint8_t first[6], mac[6];
	bool ok = egress_mac("172.16.0.5", 1, 0x2000, first) != NULL;

	for (unsigned int i = 2; ok && i < 200; i++)
		ok = egress_mac("172.16.0.5", i, 0x2000, mac) && !memcmp(mac, first, 6);
	tap_check(ok, "fragments of different ports took different paths",
		  "ECMP: fragments hash on addresses only (one path per datagram)");
}

/* The bucket allows MX_ICMP_RATE_BURST errors at once, then suppresses and counts. */
static void test_rate_limit(void)
{
	const struct delta d[MAX_DELTAS] = { DROPS(RA, MX_DROP_ICMP_RATE, 0),
					   DROPS(RA, MX_DROP_NO_ROUTE, 0) };
	struct frames_spec s = { FROM_VA("8.8.4.4") };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX];
	size_t in_len = frames_build(&s, in, UL_MAC, PEER_MAC);
	unsigned int sent = 0, shot = 0, n = MX_ICMP_RATE_BURST + 30;
	__u64 before[MAX_DELTAS];
	char diag[160];

	/* A full bucket: other rows took some, time gives them back. */
	usleep(1000 * 1000 * MX_ICMP_RATE_BURST / MX_ICMP_RATE_PER_SEC + 100 * 1000);
	deltas_before(dp, d, before);
	for (unsigned int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);
		int verdict;

		if (prog_run(PORT, IF_VA, in, in_len, out, &out_len, &verdict))
			break;
		sent += verdict == TC_ACT_REDIRECT;
		shot += verdict == TC_ACT_SHOT;
	}
	__u64 rate = counter_read(dp, RA, MX_DROP_ICMP_RATE) - before[0];
	__u64 noroute = counter_read(dp, RA, MX_DROP_NO_ROUTE) - before[1];

	snprintf(diag, sizeof(diag), "sent %u, suppressed %u (icmp-rate +%llu, no-route +%llu)",
		 sent, shot, (unsigned long long)rate, (unsigned long long)noroute);
	/* A refill of one token per 10 ms may add one or two during the burst. */
	tap_check(sent >= MX_ICMP_RATE_BURST && sent <= MX_ICMP_RATE_BURST + 3 &&
			  sent + shot == n && rate == shot && noroute == n,
		  diag, "ICMP errors rate-limited: a burst of %d, then suppressed and counted (%s)",
		  MX_ICMP_RATE_BURST, diag);
}

/* The route map reconciles like the others: an LPM lookup that finds a covering prefix is
 * not taken for the exact key. */
static void test_route_sync(void)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	struct mx_route_key k[2] = { { 48, R, frames_addr("10.5.0.0") },
				     { 56, R, frames_addr("10.5.1.0") } };
	struct mx_route v[2] = { { .n = 1 }, { .n = 1 } };
	struct mx_sync_result r = { 0 };
	struct mx_datapath *dp2;
	char diag[128] = "";

	v[0].nh[0] = hop_type(MX_ROUTE_BLACKHOLE);
	v[1].nh[0] = hop_type(MX_ROUTE_BLACKHOLE);
	if (mx_datapath_open(&opts, &dp2)) {
		tap_check(false, "open", "mx_map_sync reconciles midox_route");
		return;
	}
	mx_route_update(dp2, &k[0], &v[0]); /* the /16 covers the /24 with an equal value */
	if (mx_map_sync(dp2, MX_MAP_ID_ROUTE, k, v, 2, NULL, NULL, &r) || r.added != 1 ||
	    r.changed || r.removed)
		snprintf(diag, sizeof(diag), "added %u changed %u removed %u, want 1 0 0", r.added,
			 r.changed, r.removed);
	else if (mx_map_sync(dp2, MX_MAP_ID_ROUTE, k + 1, v + 1, 1, NULL, NULL, &r) ||
		 r.removed != 1 || r.added || r.changed)
		snprintf(diag, sizeof(diag), "pruning the /16: removed %u, want 1", r.removed);
	mx_datapath_close(dp2);
	tap_check(!*diag, diag, "mx_map_sync reconciles midox_route (exact prefixes, LPM trie)");
}

/* ---- packet traces through the router (midox trace): steps, verdict, no state ---- */

#define TRACE_STEPS_MAX 9

struct rt_trace_case {
	const char *name;
	enum ifid iface;
	struct frames_spec in;
	int verdict;
	struct dp_trace_want steps[TRACE_STEPS_MAX];
};

#define T_ENTER(port, dev, router) { MX_TRACE_ENTER, port, dev, router, false }
#define T_FROM_VA T_ENTER(VA, BA, 0), { MX_TRACE_MAC_HIT, BA, BAR, 0, false }, T_ENTER(RA, R, 1)
#define T_BACK_VA { MX_TRACE_BACK, VA, IF_VA, 0, true }

static const struct rt_trace_case rt_trace_cases[] = {
	{ "trace: routed to a VM on the peer bridge (route, next hop, delivered)", IF_VA,
	  { FROM_VA(IP_VB) }, TC_ACT_REDIRECT,
	  { T_FROM_VA, { MX_TRACE_ROUTE, R, 0, 1, false },
	    { MX_TRACE_NEXT_HOP, R, 0, 0, false }, T_ENTER(BBR, BB, 0),
	    { MX_TRACE_MAC_HIT, BB, VB, 0, false }, { MX_TRACE_DELIVER, VB, IF_VB, 0, true } } },
	{ "trace: TTL 1, dropped ttl-exceeded, time exceeded answered", IF_VA,
	  { FROM_VA(IP_VB), .ttl = 1 }, TC_ACT_REDIRECT,
	  { T_FROM_VA, { MX_TRACE_DROP, MX_DROP_TTL_EXCEEDED, RA, 0, false },
	    { MX_TRACE_ICMP_ERROR, RA, 11, 0, false }, T_BACK_VA } },
	{ "trace: no route, net unreachable answered", IF_VA, { FROM_VA("8.8.4.4") },
	  TC_ACT_REDIRECT,
	  { T_FROM_VA, { MX_TRACE_DROP, MX_DROP_NO_ROUTE, RA, 0, false },
	    { MX_TRACE_ICMP_ERROR, RA, 3, 0, false }, T_BACK_VA } },
	{ "trace: blackhole route, dropped", IF_VA, { FROM_VA("10.66.0.5") }, TC_ACT_SHOT,
	  { T_FROM_VA, { MX_TRACE_ROUTE, R, 0, 1, false },
	    { MX_TRACE_DROP, MX_DROP_BLACKHOLE, RA, 0, false } } },
	{ "trace: echo to the router port answered", IF_VA,
	  { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_REDIRECT,
	  { T_FROM_VA, { MX_TRACE_ECHO_REPLY, RA, 0, 0, false }, T_BACK_VA } },
	{ "trace: next hop unknown, ARP request out of the uplink instead", IF_VA,
	  { FROM_VA("203.0.113.5") }, TC_ACT_REDIRECT,
	  { T_FROM_VA, { MX_TRACE_ROUTE, R, 0, 1, false }, { MX_TRACE_ARP_REQUEST, U1, 0, 0, false },
	    { MX_TRACE_DROP, MX_DROP_ARP_MISS, RA, 0, false },
	    { MX_TRACE_DELIVER, U1, IF_UP1, 0, true } } },
	{ "trace: an ARP reply to the router, learned nowhere", IF_UP1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_U1, .src = M_OTHER, .sip = "192.168.1.202",
	    .tip = "192.168.1.1" },
	  TC_ACT_STOLEN, { T_ENTER(U1, R, 1), { MX_TRACE_ARP_LEARN, R, 0, 0, false } } },
	{ "trace: an ARP request for the gateway answered by the bridge, the asker not learned",
	  IF_VA, ARPREQ(M_VA, "10.1.0.77", "10.1.0.1"), TC_ACT_REDIRECT,
	  { T_ENTER(VA, BA, 0), { MX_TRACE_ARP_REPLY, BA, 0, 0, false },
	    { MX_TRACE_ARP_LEARN, R, 0, 0, false }, T_BACK_VA } },
	{ "trace: an ARP request for the uplink's address answered, the asker not learned",
	  IF_UP1, ARPREQ(M_OTHER, "192.168.1.203", "192.168.1.1"), TC_ACT_REDIRECT,
	  { T_ENTER(U1, R, 1), { MX_TRACE_ARP_REPLY, R, 0, 0, false },
	    { MX_TRACE_BACK, U1, IF_UP1, 0, true } } },
};

static int rt_trace(enum ifid iface, const struct frames_spec *spec, struct mx_trace *t,
		    int *verdict)
{
	uint8_t in[FRAMES_MAX];
	size_t in_len = frames_build(spec, in, UL_MAC, PEER_MAC);

	return mx_trace_run(mx_datapath_port_prog_fd(dp), mx_datapath_map_fd(dp, MX_MAP_ID_TRACE),
			    ifx[iface], in, in_len, t, verdict);
}

static void rt_trace_case_run(const struct rt_trace_case *c)
{
	struct dp_state before, after;
	struct mx_trace t;
	char diag[256] = "";
	const char *changed;
	int verdict = -1, err;

	dp_state_take(dp, &before);
	err = rt_trace(c->iface, &c->in, &t, &verdict);
	dp_state_take(dp, &after);
	changed = dp_state_diff(&before, &after);
	if (err)
		snprintf(diag, sizeof(diag), "mx_trace_run: %s", strerror(-err));
	else if (verdict != c->verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", verdict, c->verdict);
	else if (changed)
		snprintf(diag, sizeof(diag), "the trace changed %s", changed);
	tap_check(!*diag && dp_trace_match(c->steps, TRACE_STEPS_MAX, ifx, &t, diag, sizeof(diag)),
		  diag, "%s", c->name);
}

/* ECMP 1:3 over U1 and U2: for 200 flows, the member and port the trace names are the ones
 * a real run of the same frame leaves by. */
static void test_trace_ecmp(void)
{
	unsigned int agree = 0, members[2] = { 0 };
	char diag[128];

	for (unsigned int i = 0; i < 200; i++) {
		struct frames_spec s = { FROM_VA("172.16.0.5"), .sport = (uint16_t)(1024 + i) };
		const struct mx_trace_step *route = NULL;
		struct mx_trace t;
		uint8_t mac[6];
		int verdict;

		if (rt_trace(IF_VA, &s, &t, &verdict) || !egress_mac("172.16.0.5", 1024 + i, 0, mac))
			break;
		for (unsigned int j = 0; j < t.n_steps && j < MX_TRACE_MAX_STEPS; j++)
			if (t.steps[j].kind == MX_TRACE_ROUTE)
				route = &t.steps[j];
		if (!route || route->c != 2 || route->b > 1)
			break;
		members[route->b]++;
		agree += (__u32)route->x == (route->b ? U2 : U1) &&
			 !memcmp(mac, route->b ? M_U2 : M_U1, 6);
	}
	snprintf(diag, sizeof(diag), "%u of 200 agree; members 0: %u, 1: %u", agree, members[0],
		 members[1]);
	tap_check(agree == 200 && members[0] && members[1], diag,
		  "trace: the ECMP member traced is the one real frames take (%s)", diag);
}

/* ---- rule chains at their evaluation points (lib/filter.h) ---- */

/* The chains, ids 11..16: drop what VA sends; drop what leaves by U2 (out-ports); a rule no
 * frame here meets (so the chain's end accepts); reject everything; drop what goes to VA;
 * drop ARP. */
enum { C_FROM_VA = 11, C_OUT_U2, C_NOTHING, C_REJECT, C_TO_VA, C_ARP };
enum { R_FROM_VA = 111, R_OUT_U2 = 121, R_NOTHING = 131, R_REJECT = 141, R_TO_VA = 151,
       R_ARP = 161 };

static struct mx_rule_spec chain_rule(__u32 id, __u8 type)
{
	return (struct mx_rule_spec){ .rule_id = id, .type = type, .frag = MX_FRAG_DEFAULT,
				      .jump_to = MX_CHAIN_SPEC_MISSING,
				      .in_ports = MX_CHAIN_SPEC_NO_LIST,
				      .out_ports = MX_CHAIN_SPEC_NO_LIST,
				      .port_group = MX_CHAIN_SPEC_NO_LIST,
				      .in_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .out_port_group = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_src = MX_CHAIN_SPEC_NO_LIST,
				      .ip_group_dst = MX_CHAIN_SPEC_NO_LIST };
}

static int chains_install(void)
{
	static const __u32 out_u2[] = { U2 };
	static const struct mx_chain_list lists[] = { { out_u2, 1 } };
	struct mx_rule_spec from_va = chain_rule(R_FROM_VA, MX_RULE_DROP);
	struct mx_rule_spec via_u2 = chain_rule(R_OUT_U2, MX_RULE_DROP);
	struct mx_rule_spec nothing = chain_rule(R_NOTHING, MX_RULE_DROP);
	struct mx_rule_spec reject = chain_rule(R_REJECT, MX_RULE_REJECT);
	struct mx_rule_spec to_va = chain_rule(R_TO_VA, MX_RULE_DROP);
	struct mx_rule_spec arp = chain_rule(R_ARP, MX_RULE_DROP);
	struct mx_chain_spec chains[] = { { C_FROM_VA, &from_va, 1 }, { C_OUT_U2, &via_u2, 1 },
					  { C_NOTHING, &nothing, 1 }, { C_REJECT, &reject, 1 },
					  { C_TO_VA, &to_va, 1 },     { C_ARP, &arp, 1 } };
	struct mx_chain_program prog = { chains, 6, lists, 1 };
	struct mx_chain_maps maps;

	to_va.conds = MX_COND_DST;
	to_va.dst = frames_addr(IP_VA);
	to_va.dst_len = 32;
	arp.conds = MX_COND_ETHERTYPE;
	arp.ethertype = htons(0x0806);

	from_va.conds = MX_COND_SRC;
	from_va.src = frames_addr(IP_VA);
	from_va.src_len = 32;
	via_u2.conds = MX_COND_OUT_PORTS;
	via_u2.out_ports = 0;
	nothing.conds = MX_COND_DST;
	nothing.dst = frames_addr("198.18.0.0");
	nothing.dst_len = 15;
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

static __u64 rule_packets(__u32 rule_id)
{
	struct mx_chain_maps maps;
	struct mx_chain_counter c = { 0 };

	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_counter_read(&maps, rule_id, &c) ? ~0ull : c.packets;
}

/* Owner's filter set as the agent sets it (midox_filter_v2, and the flag on the ports whose
 * entries say so), or taken away again. */
static int filter_set(__u32 owner, __u32 in, __u32 out, const __u32 *ports, __u32 flag, bool on)
{
	struct mx_filter f = { .owner = owner, .in_chain = in, .out_chain = out };
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_FILTER);
	int err = on ? bpf_map_update_elem(fd, &owner, &f, BPF_ANY)
		     : bpf_map_delete_elem(fd, &owner);

	return err || ports_flag(ports, flag, on);
}

static const __u32 port_va[] = { VA, 0 };
static const __u32 port_vb[] = { VB, 0 };
static const __u32 port_rb[] = { RB, 0 };
static const __u32 port_u2[] = { U2, 0 };
static const __u32 port_ra[] = { RA, 0 };
static const __u32 bridge_ba_ports[] = { VA, BAR, 0 };

struct filter_case {
	__u32 owner, in, out;
	const __u32 *ports; /* flagged: MX_PORT_FILTERED (the owner is a port) or _DEVICE_ */
	__u32 flag;
	__u32 rule;         /* the rule whose packet counter grows by packets */
	__u64 packets;
	struct rt_case row;
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct filter_case filter_cases[] = {
	{ VA, C_FROM_VA, 0, port_va, MX_PORT_FILTERED, R_FROM_VA, 1,
	  { "port infilter: a drop rule drops the frame as it enters, before the bridge", IF_VA,
	    { FROM_VA(IP_VB) }, TC_ACT_SHOT, { EXP_NONE },
	    { RX(VA, 1), DROP(VA, MX_DROP_CHAIN_DROP), TX(VB, 0) } } },
	{ BA, C_FROM_VA, 0, bridge_ba_ports, MX_PORT_DEVICE_FILTERED, R_FROM_VA, 1,
	  { "bridge infilter: dropped entering the bridge", IF_VA, { FROM_VA(IP_VB) },
	    TC_ACT_SHOT, { EXP_NONE }, { DROP(VA, MX_DROP_CHAIN_DROP), TX(VB, 0) } } },
	{ R, C_FROM_VA, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_FROM_VA, 1,
	  { "router infilter: dropped before routing (an echo to the router is not answered)",
	    IF_VA, { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_SHOT,
	    { EXP_NONE }, { DROP(RA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ R, C_FROM_VA, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_FROM_VA, 0,
	  { "router infilter: another source is routed, unchanged but for routing", IF_UP1,
	    { FROM_UP1(IP_VB) }, TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB },
	    { RX(U1, 1), TX(VB, 1), DROPS(U1, MX_DROP_CHAIN_DROP, 0) } } },
	{ R, 0, C_OUT_U2, router_ports, MX_PORT_DEVICE_FILTERED, R_OUT_U2, 1,
	  { "router outfilter sees the egress port: out of U2 dropped", IF_VA,
	    { FROM_VA("10.9.9.5") }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_CHAIN_DROP), TX(U2, 0) } } },
	{ R, 0, C_OUT_U2, router_ports, MX_PORT_DEVICE_FILTERED, R_OUT_U2, 0,
	  { "router outfilter: out of U1 routed, unchanged but for routing", IF_VA,
	    { FROM_VA("10.9.8.5") }, TC_ACT_REDIRECT, { EXP_ROUTED, M_GW1, M_U1 },
	    { TX(U1, 1), DROPS(RA, MX_DROP_CHAIN_DROP, 0) } } },
	{ U2, 0, C_FROM_VA, port_u2, MX_PORT_FILTERED, R_FROM_VA, 1,
	  { "router port outfilter: dropped leaving by U2", IF_VA, { FROM_VA("10.9.9.5") },
	    TC_ACT_SHOT, { EXP_NONE }, { DROP(RA, MX_DROP_CHAIN_DROP), TX(U2, 0) } } },
	{ VB, 0, C_FROM_VA, port_vb, MX_PORT_FILTERED, R_FROM_VA, 1,
	  { "bridge port outfilter: dropped leaving by VB, two devices on", IF_VA,
	    { FROM_VA(IP_VB) }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(BBR, MX_DROP_CHAIN_DROP), TX(VB, 0) } } },
	{ R, C_NOTHING, C_NOTHING, router_ports, MX_PORT_DEVICE_FILTERED, R_NOTHING, 0,
	  { "chains that accept: the frame goes on unchanged but for routing", IF_VA,
	    { FROM_VA("10.9.8.5") }, TC_ACT_REDIRECT, { EXP_ROUTED, M_GW1, M_U1 },
	    { TX(U1, 1) } } },
	/* reject: counted as chain-reject, answered back out of the ingress interface */
	{ R, C_REJECT, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router infilter reject: ICMP admin-prohibited from the router port's address", IF_VA,
	    { FROM_VA(IP_VB) }, TC_ACT_REDIRECT, ICMP_ERR(3, 13, "10.1.0.1"),
	    { DROP(RA, MX_DROP_CHAIN_REJECT), TX(VA, 1), TX(VB, 0) } } },
	{ R, C_REJECT, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router infilter reject of a TCP SYN: RST+ACK from the destination", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x02, .tcp_seq = 1000 },
	    TC_ACT_REDIRECT, { EXP_RST, .smac = M_RA },
	    { DROP(RA, MX_DROP_CHAIN_REJECT), TX(VA, 1), TX(VB, 0) } } },
	{ R, C_REJECT, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router infilter reject of a TCP segment with ACK and data: RST with its ack", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x18, .tcp_seq = 0xfffffffe,
	      .tcp_ack = 777 },
	    TC_ACT_REDIRECT, { EXP_RST, .smac = M_RA },
	    { DROP(RA, MX_DROP_CHAIN_REJECT), TX(VA, 1) } } },
	{ R, C_REJECT, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router infilter reject of a FIN: RST+ACK of seq + 1, across the wrap", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x01, .tcp_seq = 0xffffffff },
	    TC_ACT_REDIRECT, { EXP_RST, .smac = M_RA },
	    { DROP(RA, MX_DROP_CHAIN_REJECT), TX(VA, 1) } } },
	{ R, 0, C_REJECT, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router outfilter reject from the uplink: ICMP from the port it entered by", IF_UP1,
	    { FROM_UP1(IP_VB) }, TC_ACT_REDIRECT,
	    { EXP_ICMP, .smac = M_U1, .addr = "192.168.1.1", .type = 3, .code = 13 },
	    { DROP(U1, MX_DROP_CHAIN_REJECT), TX(U1, 1), TX(VB, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "bridge port infilter reject: ICMP from the destination, MAC the one it was sent to",
	    IF_VA, { FROM_VA(IP_VB) }, TC_ACT_REDIRECT, ICMP_ERR(3, 13, IP_VB),
	    { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VB, 0), TX(VA, 1) } } },
	{ VB, 0, C_REJECT, port_vb, MX_PORT_FILTERED, R_REJECT, 1,
	  { "bridge port outfilter reject after a router: ICMP from the destination, MAC the "
	    "router port's, quoting the routed packet", IF_VA, { FROM_VA(IP_VB) },
	    TC_ACT_REDIRECT,
	    { EXP_ICMP, .smac = M_RA, .addr = IP_VB, .type = 3, .code = 13, .routed = true },
	    { DROP(BBR, MX_DROP_CHAIN_REJECT), TX(VB, 0), TX(VA, 1) } } },
	{ VB, 0, C_REJECT, port_vb, MX_PORT_FILTERED, R_REJECT, 1,
	  { "bridge port outfilter reject of a TCP SYN after a router: RST to the sender", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x02, .tcp_seq = 42 },
	    TC_ACT_REDIRECT, { EXP_RST, .smac = M_RA },
	    { DROP(BBR, MX_DROP_CHAIN_REJECT), TX(VB, 0), TX(VA, 1) } } },
	/* what the kernel's REJECT never answers: counted, dropped, nothing sent */
	{ VA, C_REJECT, C_TO_VA, port_va, MX_PORT_FILTERED, R_TO_VA, 1,
	  { "a reject's answer dropped by the outfilter of the port it leaves by, not answered",
	    IF_VA, { FROM_VA(IP_VB) }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_REJECT), DROP(VA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "reject of an ICMP error: not answered", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 1, .icmp_type = 3 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VA, 0), TX(VB, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "reject of a RST: not answered", IF_VA,
	    { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x04, .tcp_seq = 9 }, TC_ACT_SHOT,
	    { EXP_NONE }, { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VA, 0), TX(VB, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "reject of a broadcast: not answered", IF_VA,
	    { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_VA, .sip = IP_VA,
	      .tip = "255.255.255.255", .payload = 18 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VA, 0) } } },
	{ R, C_REJECT, 0, router_ports, MX_PORT_DEVICE_FILTERED, R_REJECT, 1,
	  { "router infilter reject of a frame not sent to the port's MAC: not answered", IF_UP1,
	    { .kind = FRAMES_IPV4, .dst = M_OTHER, .src = M_GW1, .sip = "192.168.50.5",
	      .tip = IP_VB, .payload = 18 },
	    TC_ACT_SHOT, { EXP_NONE }, { DROP(U1, MX_DROP_CHAIN_REJECT), TX(U1, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "reject of a packet with a bad IPv4 header checksum: not answered", IF_VA,
	    { FROM_VA(IP_VB), .bad_check = true }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VA, 0) } } },
	{ VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, R_REJECT, 1,
	  { "reject of a later fragment: not answered", IF_VA,
	    { FROM_VA(IP_VB), .frag_off = 185 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_REJECT), TX(VA, 0) } } },
	/* answers the datapath makes pass the outfilters of the ports they leave by */
	{ RA, 0, C_TO_VA, port_ra, MX_PORT_FILTERED, R_TO_VA, 1,
	  { "router echo reply dropped by the outfilter of the router port it leaves by", IF_VA,
	    { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ VA, 0, C_TO_VA, port_va, MX_PORT_FILTERED, R_TO_VA, 1,
	  { "router echo reply dropped by the outfilter of the exterior port it leaves by", IF_VA,
	    { FROM_VA("10.1.0.1"), .ip_proto = 1, .icmp_type = 8 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ RA, 0, C_TO_VA, port_ra, MX_PORT_FILTERED, R_TO_VA, 1,
	  { "router TTL exceeded dropped by the outfilter of the port it leaves by", IF_VA,
	    { FROM_VA(IP_VB), .ttl = 1 }, TC_ACT_SHOT, { EXP_NONE },
	    { DROP(RA, MX_DROP_TTL_EXCEEDED), DROP(RA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ RA, 0, C_TO_VA, port_ra, MX_PORT_FILTERED, R_TO_VA, 0,
	  { "router outfilter on answers: a routed frame from VA leaves unchanged", IF_VA,
	    { FROM_VA(IP_VB) }, TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB }, { TX(VB, 1) } } },
	{ U1, 0, C_ARP, port_u1, MX_PORT_FILTERED, R_ARP, 1,
	  { "router ARP reply dropped by the uplink port's outfilter", IF_UP1,
	    ARPREQ(M_NB, "192.168.1.77", "192.168.1.1"), TC_ACT_SHOT, { EXP_NONE },
	    { DROP(U1, MX_DROP_CHAIN_DROP), TX(U1, 0) } } },
	{ VA, 0, C_ARP, port_va, MX_PORT_FILTERED, R_ARP, 1,
	  { "bridge ARP reply dropped by the asking port's outfilter", IF_VA,
	    ARPREQ(M_VA, IP_VA, "10.1.0.1"), TC_ACT_SHOT, { EXP_NONE },
	    { DROP(VA, MX_DROP_CHAIN_DROP), TX(VA, 0) } } },
	{ VA, C_FROM_VA, 0, port_va, 0, R_FROM_VA, 0,
	  { "a filter no port entry points at is not looked at", IF_VA, { FROM_VA(IP_VB) },
	    TC_ACT_REDIRECT, { EXP_ROUTED, M_VB, M_RB }, { TX(VB, 1) } } },
};
#pragma GCC diagnostic pop

static void test_filters(void)
{
	struct mx_icmp_rate full = { 0 };

	if (!tap_ok(!chains_install(), "six chains installed into the datapath's chain maps"))
		return;
	/* The reject rows send ICMP errors: a full budget whatever the rows before took. */
	if (mx_icmp_rate_set(dp, &full))
		tap_bail("cannot fill the ICMP budget");
	for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
		const struct filter_case *f = &filter_cases[i];
		__u64 before = rule_packets(f->rule), after;

		if (filter_set(f->owner, f->in, f->out, f->ports, f->flag, true)) {
			tap_check(false, "cannot set the filter", "%s", f->row.name);
			continue;
		}
		case_run(&f->row);
		after = rule_packets(f->rule);
		tap_ok(before != ~0ull && after == before + f->packets,
		       "  its rule's counter: %llu packets more (want %llu)",
		       (unsigned long long)(after - before), (unsigned long long)f->packets);
		if (filter_set(f->owner, f->in, f->out, f->ports, f->flag, false))
			tap_bail("cannot take the filter away again");
	}
}

/* Reject answers share the routers' ICMP budget: a burst of ICMP answers, then the rest
 * suppressed (icmp-rate) while every frame counts as chain-reject; RSTs are not limited. */
static void test_reject_rate(void)
{
	const struct delta d[MAX_DELTAS] = { DROPS(VA, MX_DROP_ICMP_RATE, 0),
					   DROPS(VA, MX_DROP_CHAIN_REJECT, 0) };
	struct frames_spec udp = { FROM_VA(IP_VB) };
	struct frames_spec syn = { FROM_VA(IP_VB), .ip_proto = 6, .tcp_flags = 0x02 };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX];
	unsigned int sent = 0, shot = 0, rst = 0, n = MX_ICMP_RATE_BURST + 30;
	struct mx_icmp_rate full = { 0 };
	__u64 before[MAX_DELTAS], rate, rejects;
	size_t in_len;
	char diag[200];

	if (filter_set(VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, true) ||
	    mx_icmp_rate_set(dp, &full)) {
		tap_check(false, "cannot set the filter or the budget", "reject answers rate-limited");
		return;
	}
	deltas_before(dp, d, before);
	in_len = frames_build(&udp, in, UL_MAC, PEER_MAC);
	for (unsigned int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);
		int verdict;

		if (prog_run(PORT, IF_VA, in, in_len, out, &out_len, &verdict))
			break;
		sent += verdict == TC_ACT_REDIRECT;
		shot += verdict == TC_ACT_SHOT;
	}
	in_len = frames_build(&syn, in, UL_MAC, PEER_MAC);
	for (unsigned int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);
		int verdict;

		if (prog_run(PORT, IF_VA, in, in_len, out, &out_len, &verdict))
			break;
		rst += verdict == TC_ACT_REDIRECT && out_len == 54;
	}
	rate = counter_read(dp, VA, MX_DROP_ICMP_RATE) - before[0];
	rejects = counter_read(dp, VA, MX_DROP_CHAIN_REJECT) - before[1];
	snprintf(diag, sizeof(diag), "ICMP sent %u, suppressed %u (icmp-rate +%llu), RSTs %u of %u, "
		 "chain-reject +%llu", sent, shot, (unsigned long long)rate, rst, n,
		 (unsigned long long)rejects);
	/* A refill of one token per 10 ms may add one or two during the burst. */
	tap_check(sent >= MX_ICMP_RATE_BURST && sent <= MX_ICMP_RATE_BURST + 3 &&
			  sent + shot == n && rate == shot && rst == n && rejects == 2ull * n,
		  diag, "reject answers rate-limited as ICMP errors, RSTs not (%s)", diag);
	if (filter_set(VA, C_REJECT, 0, port_va, MX_PORT_FILTERED, false))
		tap_bail("cannot take the filter away again");
}

/* ---- static NAT at the router's filters (a floating IP, docs/nat.md) ---- */

enum { C_FIP_IN = 21, C_FIP_OUT, R_FIP_IN = 211, R_FIP_OUT = 221 };
#define FIP "203.0.113.7" /* routed out of U1 by 203.0.113.0/24 unless DNATed */

/* The floating-IP recipe: on R's infilter DNAT FIP -> IP_VB; on its outfilter SNAT IP_VB ->
 * FIP leaving by U1. */
static int fip_install(void)
{
	static const __u32 out_u1[] = { U1 };
	static const struct mx_chain_list lists[] = { { out_u1, 1 } };
	struct mx_rule_spec in = chain_rule(R_FIP_IN, MX_RULE_DNAT);
	struct mx_rule_spec out = chain_rule(R_FIP_OUT, MX_RULE_SNAT);
	struct mx_chain_spec chains[] = { { C_FIP_IN, &in, 1 }, { C_FIP_OUT, &out, 1 } };
	struct mx_chain_program prog = { chains, 2, lists, 1 };
	struct mx_chain_maps maps;

	in.conds = MX_COND_DST;
	in.dst = frames_addr(FIP);
	in.dst_len = 32;
	in.nat_addr = frames_addr(IP_VB);
	out.conds = MX_COND_SRC | MX_COND_OUT_PORTS;
	out.src = frames_addr(IP_VB);
	out.src_len = 32;
	out.out_ports = 0;
	out.nat_addr = frames_addr(FIP);
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* Run p (from src_mac to dst_mac) into iface: the verdict must be verdict and the frame
 * out exactly want (from want_smac to want_dmac, TTL one lower), checksums from scratch. */
static void fip_run(const char *what, enum ifid iface, const struct nat_pkt *p,
		    const uint8_t *dst_mac, const uint8_t *src_mac, const struct nat_pkt *want,
		    const uint8_t *want_dmac, const uint8_t *want_smac, int verdict)
{
	uint8_t in[FRAMES_MAX], exp[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = nat_frame(p, dst_mac, src_mac, in), out_len = sizeof(out);
	size_t exp_len = nat_frame(want, want_dmac, want_smac, exp);
	char diag[256] = "";
	int v = 0, err;

	exp[14 + 8]--; /* the router's TTL */
	frames_put16(exp + 14 + 10, 0);
	frames_put16(exp + 14 + 10, frames_csum(exp + 14, 20));
	err = prog_run(PORT, iface, in, in_len, out, &out_len, &v);
	if (err)
		snprintf(diag, sizeof(diag), "BPF_PROG_TEST_RUN: %s", strerror(-err));
	else if (v != verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", v, verdict);
	tap_check(!err && v == verdict && frames_same(exp, exp_len, out, out_len, diag, sizeof(diag)),
		  diag, "%s", what);
}

static void test_floating_ip(void)
{
	struct nat_pkt in = { .proto = 6, .src = frames_addr("192.168.50.5"),
			      .dst = frames_addr(FIP), .sport = 40000, .dport = 22 },
		       want = in;

	if (!tap_ok(!fip_install(), "floating-IP chains installed into the datapath's chain maps"))
		return;
	if (filter_set(R, C_FIP_IN, C_FIP_OUT, router_ports, MX_PORT_DEVICE_FILTERED, true)) {
		tap_ok(false, "cannot set the router's filters");
		return;
	}
	/* In from the uplink to the FIP: DNATed before routing, so routed to VB's bridge. */
	want.dst = frames_addr(IP_VB);
	fip_run("floating IP: TCP to the FIP from the uplink is DNATed before routing and "
		"routed to the VM (checksums from scratch)",
		IF_UP1, &in, M_U1, M_GW1, &want, M_VB, M_RB, TC_ACT_REDIRECT);
	in.proto = want.proto = 17;
	fip_run("floating IP: UDP likewise", IF_UP1, &in, M_U1, M_GW1, &want, M_VB, M_RB,
		TC_ACT_REDIRECT);
	/* The VM's reply: SNATed after routing, leaving by U1 to the route's next hop. */
	in = (struct nat_pkt){ .proto = 6, .src = frames_addr(IP_VB), .dst = frames_addr("10.9.8.5"),
			       .sport = 22, .dport = 40000 };
	want = in;
	want.src = frames_addr(FIP);
	fip_run("floating IP: the VM's TCP out of U1 is SNATed to the FIP", IF_VB, &in, M_RB, M_VB,
		&want, M_GW1, M_U1, TC_ACT_REDIRECT);
	in.proto = want.proto = 1;
	fip_run("floating IP: the VM's ping out of U1 likewise", IF_VB, &in, M_RB, M_VB, &want,
		M_GW1, M_U1, TC_ACT_REDIRECT);
	/* Leaving by another port (out-ports U1 fails): not translated. */
	in.dst = want.dst = frames_addr("10.9.9.5");
	want.src = in.src;
	fip_run("floating IP: out of U2, the SNAT's out-ports fails: untranslated", IF_VB, &in,
		M_RB, M_VB, &want, M_GW2, M_U2, TC_ACT_REDIRECT);
	tap_ok(rule_packets(R_FIP_IN) == 2 && rule_packets(R_FIP_OUT) == 2,
	       "the DNAT and SNAT rules counted 2 packets each");
	/* The router's own error about a DNATed packet (traceroute's first hop through the
	 * FIP) quotes it as it arrived: to the FIP, not to the VM's address. */
	{
		struct nat_pkt probe = { .proto = 17, .src = frames_addr("192.168.50.5"),
					 .dst = frames_addr(FIP), .sport = 45000, .dport = 33434 };
		struct expect e = { EXP_ICMP, .smac = M_U1, .addr = "192.168.1.1", .type = 11 };
		uint8_t f[FRAMES_MAX], out[FRAMES_MAX + 128];
		size_t len = nat_frame(&probe, M_U1, M_GW1, f), out_len = sizeof(out);
		char diag[256] = "";
		int v = 0, err;

		f[14 + 8] = 1; /* TTL 1 */
		frames_put16(f + 14 + 10, 0);
		frames_put16(f + 14 + 10, frames_csum(f + 14, 20));
		err = prog_run(PORT, IF_UP1, f, len, out, &out_len, &v);
		tap_check(!err && v == TC_ACT_REDIRECT &&
				  output_check(&e, f, len, out, out_len, diag, sizeof(diag)),
			  diag, "floating IP: the router's time exceeded for a probe to the FIP "
				"quotes the probe as it arrived (to the FIP)");
	}
	if (filter_set(R, C_FIP_IN, C_FIP_OUT, router_ports, MX_PORT_DEVICE_FILTERED, false))
		tap_bail("cannot take the filters away again");
}

/* A traced run through a router infilter that drops: the chain's step names the chain, the
 * verdict and the deciding rule; the rule's counter does not move (no state). */
static void test_trace_filter(void)
{
	struct rt_trace_case c = {
		"trace: the router infilter's chain, verdict drop by its rule, then the drop",
		IF_VA, { FROM_VA(IP_VB) }, TC_ACT_SHOT,
		{ T_ENTER(VA, BA, 0), { MX_TRACE_MAC_HIT, BA, BAR, 0, false }, T_ENTER(RA, R, 1),
		  { MX_TRACE_CHAIN, R, C_FROM_VA, MX_CHAIN_V_DROP, false },
		  { MX_TRACE_DROP, MX_DROP_CHAIN_DROP, RA, 0, false } } };
	struct mx_trace t;
	int verdict;
	bool rule_named = false;

	if (filter_set(R, C_FROM_VA, 0, router_ports, MX_PORT_DEVICE_FILTERED, true)) {
		tap_check(false, "cannot set the filter", "%s", c.name);
		return;
	}
	rt_trace_case_run(&c);
	if (!rt_trace(IF_VA, &c.in, &t, &verdict))
		for (__u32 i = 0; i < t.n_steps && i < MX_TRACE_MAX_STEPS; i++)
			rule_named |= t.steps[i].kind == MX_TRACE_CHAIN && t.steps[i].x == R_FROM_VA;
	tap_ok(rule_named, "trace: the chain's step names the deciding rule's id");
	if (filter_set(R, C_FROM_VA, 0, router_ports, MX_PORT_DEVICE_FILTERED, false))
		tap_bail("cannot take the filter away again");
}

static void test_trace(void)
{
	for (size_t i = 0; i < sizeof(rt_trace_cases) / sizeof(rt_trace_cases[0]); i++)
		rt_trace_case_run(&rt_trace_cases[i]);
	test_trace_ecmp();
}

/* ---- connection tracking in the pipeline ----
 * Router R tracks (MX_PORT_DEVICE_CT on its ports, as the agent sets them when a chain
 * needs it) with a stateful firewall on RB, the side facing VM b: RB's infilter accepts
 * return flows and drops the rest. The table holds CT_TEST_ENTRIES connections. */
#define CT_TEST_ENTRIES 80 /* room for dynamic NAT's exhaustion test: 64 ports taken */
enum { C_STATEFUL = 15, R_ST_RETURN = 151, R_ST_DROP = 152 };
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_ACK = 0x10 };

static int stateful_install(void)
{
	struct mx_rule_spec rules[2] = { chain_rule(R_ST_RETURN, MX_RULE_ACCEPT),
					 chain_rule(R_ST_DROP, MX_RULE_DROP) };
	struct mx_chain_spec chain = { C_STATEFUL, rules, 2 };
	struct mx_chain_program prog = { &chain, 1, NULL, 0 };
	struct mx_chain_maps maps;

	rules[0].conds = MX_COND_RETURN_FLOW;
	mx_datapath_chain_maps(dp, &maps);
	/* R's way back to VM a: its address in bridge BA's table, as the agent installs it. */
	return put_arp(BA, IP_VA, M_VA) || mx_chain_install(&maps, &prog) ||
	       filter_set(RB, C_STATEFUL, 0, port_rb, MX_PORT_FILTERED, true) ||
	       ports_flag(router_ports, MX_PORT_DEVICE_CT, true);
}

/* A TCP segment from VM a (from_a) or VM b to the other, through R, with flags. */
static size_t tcp_frame(bool from_a, uint16_t sport, uint16_t dport, uint8_t flags, uint8_t *f)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = from_a ? M_RA : M_RB,
				 .src = from_a ? M_VA : M_VB, .sip = from_a ? IP_VA : IP_VB,
				 .tip = from_a ? IP_VB : IP_VA };
	size_t len = frames_build(&s, f, UL_MAC, PEER_MAC);
	uint8_t *tcp = f + FRAMES_ETH_HLEN + 20;

	frames_put16(tcp, sport);
	frames_put16(tcp + 2, dport);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	return len;
}

static int tcp_send(bool from_a, uint16_t sport, uint16_t dport, uint8_t flags)
{
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = tcp_frame(from_a, sport, dport, flags, in), out_len = sizeof(out);
	int verdict = -1;

	if (prog_run(PORT, from_a ? IF_VA : IF_VB, in, in_len, out, &out_len, &verdict))
		return -1;
	return verdict;
}

/* The table's entry of the connection a opened from sport to port dport (state out), or
 * false when there is none. */
static bool ct_entry(uint16_t sport, uint16_t dport, struct mx_ct_entry *out)
{
	struct mx_ct_key k = { .device = R, .src = frames_addr(IP_VA), .dst = frames_addr(IP_VB),
			       .sport = htons(sport), .dport = htons(dport), .proto = 6 };

	return !bpf_map_lookup_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k, out);
}

static __u32 ct_count(void)
{
	__u32 n = 0, max = 0;

	return mx_map_fill(dp, MX_MAP_ID_CT, &n, &max) ? ~0u : n;
}

/* A check whose diagnostic is formatted. */
static void ct_check(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void ct_check(bool ok, const char *name, const char *fmt, ...)
{
	char diag[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(diag, sizeof(diag), fmt, ap);
	va_end(ap);
	tap_check(ok, diag, "conntrack: %s", name);
}

static void test_ct_firewall(void)
{
	struct mx_ct_entry e = { 0 };
	__u64 ret0 = rule_packets(R_ST_RETURN), drop0 = rule_packets(R_ST_DROP);
	__u64 chain_drops = counter_read(dp, RB, MX_DROP_CHAIN_DROP);
	int v;

	v = tcp_send(true, 40001, 80, TCP_SYN);
	ct_check(v == TC_ACT_REDIRECT && ct_entry(40001, 80, &e) &&
		 e.state == MX_CT_TCP_SYN_SENT && ct_count() == 1,
		 "a's SYN through R passes and is committed (syn-sent)",
		 "verdict %d, entries %u, state %u", v, ct_count(), e.state);
	v = tcp_send(false, 80, 40001, TCP_SYN | TCP_ACK);
	ct_check(v == TC_ACT_REDIRECT && ct_entry(40001, 80, &e) &&
		 e.state == MX_CT_TCP_SYN_RECV && rule_packets(R_ST_RETURN) == ret0 + 1,
		 "b's SYN-ACK is a return flow: RB's infilter accepts it (syn-recv)",
		 "verdict %d, state %u", v, e.state);
	v = tcp_send(true, 40001, 80, TCP_ACK);
	ct_check(v == TC_ACT_REDIRECT && ct_entry(40001, 80, &e) &&
		 e.state == MX_CT_TCP_ESTABLISHED, "a's ACK establishes the connection",
		 "verdict %d, state %u", v, e.state);
	v = tcp_send(false, 80, 40001, TCP_ACK);
	ct_check(v == TC_ACT_REDIRECT && rule_packets(R_ST_RETURN) == ret0 + 2,
		 "b's data on it passes as return", "verdict %d", v);
	v = tcp_send(false, 5555, 22, TCP_SYN);
	ct_check(v == TC_ACT_SHOT && rule_packets(R_ST_DROP) == drop0 + 1 && ct_count() == 1 &&
		 counter_read(dp, RB, MX_DROP_CHAIN_DROP) == chain_drops + 1,
		 "b's own new SYN to a is dropped by the chain, counted, nothing committed",
		 "verdict %d, entries %u", v, ct_count());
	v = tcp_send(false, 80, 40002, TCP_SYN | TCP_ACK);
	ct_check(v == TC_ACT_SHOT && ct_count() == 1,
		 "a SYN-ACK of no connection of a's is no return flow: dropped", "verdict %d", v);
}

static void test_ct_full(void)
{
	__u64 full0 = counter_read(dp, RA, MX_DROP_CT_FULL);
	struct mx_ct_entry e;
	__u32 opened = 0;
	int v = 0;

	/* Fill the table: a opens connections until CT_TEST_ENTRIES are tracked. */
	for (uint16_t p = 41000; ct_count() < CT_TEST_ENTRIES && p < 41000 + CT_TEST_ENTRIES; p++)
		opened += tcp_send(true, p, 80, TCP_SYN) == TC_ACT_REDIRECT;
	v = tcp_send(true, 42000, 80, TCP_SYN);
	ct_check(ct_count() == CT_TEST_ENTRIES && v == TC_ACT_SHOT && !ct_entry(42000, 80, &e) &&
		 counter_read(dp, RA, MX_DROP_CT_FULL) == full0 + 1,
		 "the table full, a new connection is dropped as ct-full on the port it entered R by",
		 "%u opened, entries %u of %u, verdict %d, ct-full +%llu", opened, ct_count(),
		 CT_TEST_ENTRIES, v,
		 (unsigned long long)(counter_read(dp, RA, MX_DROP_CT_FULL) - full0));
	v = tcp_send(false, 80, 40001, TCP_ACK);
	ct_check(v == TC_ACT_REDIRECT, "the table full, b's return on an existing connection passes",
		 "verdict %d", v);
	v = tcp_send(true, 40001, 80, TCP_ACK);
	ct_check(v == TC_ACT_REDIRECT && counter_read(dp, RA, MX_DROP_CT_FULL) == full0 + 1,
		 "and a's forward packets on it pass, no ct-full", "verdict %d", v);
}

static void test_ct_untracked(void)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .dst = M_VR, .src = M_VB, .sip = IP_VB,
				 .tip = IP_VR };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = frames_build(&s, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	struct mx_ct_entry before = { 0 }, after = { 0 };
	__u32 n = ct_count();
	int v1 = -1, v2 = -1;

	/* VM b to VM r, both on bridge BB, which does not track: R never sees it. */
	ct_entry(40001, 80, &before);
	prog_run(PORT, IF_VB, in, in_len, out, &out_len, &v1);
	ct_check(ct_count() == n && v1 >= 0,
		 "a frame through a bridge that does not track leaves the table alone",
		 "entries %u, want %u", ct_count(), n);
	/* R without the flag: no lookup, no commit; its chain sees a forward flow. */
	ports_flag(router_ports, MX_PORT_DEVICE_CT, false);
	v1 = tcp_send(true, 43000, 80, TCP_SYN);
	v2 = tcp_send(false, 80, 40001, TCP_ACK);
	ct_entry(40001, 80, &after);
	ct_check(v1 == TC_ACT_REDIRECT && v2 == TC_ACT_SHOT && ct_count() == n &&
		 !memcmp(&before, &after, sizeof(before)),
		 "a device that does not track never touches the table (its chains see forward "
		 "flows)", "verdicts %d %d, entries %u", v1, v2, ct_count());
	ports_flag(router_ports, MX_PORT_DEVICE_CT, true);
}

static void test_conntrack(void)
{
	if (!tap_check(!stateful_install(), "", "conntrack: the stateful firewall set on RB"))
		return;
	test_ct_firewall();
	test_ct_full();
	test_ct_untracked();
	filter_set(RB, C_STATEFUL, 0, port_rb, MX_PORT_FILTERED, false);
	ports_flag(router_ports, MX_PORT_DEVICE_CT, false);
}


/* ---- dynamic NAT at the router's filters (docs/nat.md, "Dynamic NAT") ----
 * R tracks connections. Its infilter: rev_snat of what comes back to SNAT_ADDR, then a DNAT
 * of TCP to DNAT_ADDR:8080 to VB:80 (port forwarding). Its outfilter: rev_dnat of VB's
 * replies from port 80, then a SNAT of VB's traffic leaving by U1 to SNAT_ADDR, ports
 * 1024-1087: the one block (16) this host leases for it. */
enum { C_DN_IN = 31, C_DN_OUT, R_DN_REVSNAT = 311, R_DN_DNAT, R_DN_REVDNAT = 321, R_DN_SNAT };
#define SNAT_ADDR "203.0.113.10"
#define DNAT_ADDR "203.0.113.20"
#define DN_DST "10.9.8.5"   /* routed out of U1 */
#define DN_DST2 "10.9.8.6"
#define DN_CLIENT "10.9.7.7"

static int dn_install(void)
{
	static const __u32 out_u1[] = { U1 };
	static const struct mx_chain_list lists[] = { { out_u1, 1 } };
	struct mx_rule_spec in[2] = { chain_rule(R_DN_REVSNAT, MX_RULE_REV_SNAT),
				      chain_rule(R_DN_DNAT, MX_RULE_DNAT) };
	struct mx_rule_spec out[2] = { chain_rule(R_DN_REVDNAT, MX_RULE_REV_DNAT),
				       chain_rule(R_DN_SNAT, MX_RULE_SNAT) };
	struct mx_chain_spec chains[] = { { C_DN_IN, in, 2 }, { C_DN_OUT, out, 2 } };
	struct mx_chain_program prog = { chains, 2, lists, 1 };
	struct mx_chain_maps maps;

	nat_rules_forward(in, &out[0], frames_addr(SNAT_ADDR), frames_addr(DNAT_ADDR),
			  frames_addr(IP_VB));
	out[1].conds = MX_COND_SRC | MX_COND_OUT_PORTS;
	out[1].src = frames_addr(IP_VB);
	out[1].src_len = 32;
	out[1].out_ports = 0;
	out[1].nat_lo = out[1].nat_hi = frames_addr(SNAT_ADDR);
	out[1].nat_port_lo = 1024;
	out[1].nat_port_hi = 1087;
	out[1].nat_ports = 1;
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* This host's port blocks for addr (one block, or none: n 0 deletes the lease). */
static int dn_lease(const char *addr, __u32 n, __u16 block)
{
	int ncpu = libbpf_num_possible_cpus(), fd = mx_datapath_map_fd(dp, MX_MAP_ID_NAT_LEASE);
	struct mx_nat_lease *v;
	__be32 key = frames_addr(addr);
	int err;

	if (ncpu <= 0)
		return -1;
	if (!n)
		return bpf_map_delete_elem(fd, &key) && errno != ENOENT ? -1 : 0;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -1;
	for (int c = 0; c < ncpu; c++) {
		v[c].n_blocks = n;
		v[c].block[0] = block;
	}
	err = bpf_map_update_elem(fd, &key, v, BPF_ANY);
	free(v);
	return err;
}

static void ct_clear(void)
{
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_CT);
	struct mx_ct_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static bool ct_get(const char *src, const char *dst, uint16_t sport, uint16_t dport, uint8_t proto,
		   struct mx_ct_entry *e)
{
	struct mx_ct_key k = { .device = R, .src = frames_addr(src), .dst = frames_addr(dst),
			       .sport = htons(sport), .dport = htons(dport), .proto = proto };

	return !bpf_map_lookup_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k, e);
}

/* Run p into iface (to dst_mac from src_mac): the verdict, and the frame out into out. */
static int dn_send(enum ifid iface, const struct nat_pkt *p, const uint8_t *dst_mac,
		   const uint8_t *src_mac, uint8_t *out, size_t *out_len)
{
	uint8_t in[FRAMES_MAX];
	size_t in_len = nat_frame(p, dst_mac, src_mac, in);
	int v = -1;

	*out_len = FRAMES_MAX + 128;
	if (prog_run(PORT, iface, in, in_len, out, out_len, &v))
		return -1;
	return v;
}

/* Whether out (out_len bytes) is exactly want's frame (to want_dmac from want_smac), TTL
 * one lower, every checksum built from scratch; diag says where not. */
static bool dn_same(const struct nat_pkt *want, const uint8_t *want_dmac,
		    const uint8_t *want_smac, const uint8_t *out, size_t out_len, char *diag,
		    size_t diag_len)
{
	uint8_t exp[FRAMES_MAX];
	size_t exp_len = nat_frame(want, want_dmac, want_smac, exp);

	exp[14 + 8]--;
	frames_put16(exp + 14 + 10, 0);
	frames_put16(exp + 14 + 10, frames_csum(exp + 14, 20));
	return frames_same(exp, exp_len, out, out_len, diag, diag_len);
}

/* One connection through the SNAT and back: p from VB out of U1, its reply from the
 * uplink. The translated source port into *nat_port. */
static void dn_snat_conn(const char *what, struct nat_pkt p, struct nat_pkt reply,
			 uint16_t *nat_port)
{
	struct mx_ct_entry e = { 0 }, x = { 0 };
	uint8_t out[FRAMES_MAX + 128];
	struct nat_pkt want = p;
	char diag[256] = "";
	size_t out_len;
	uint16_t port = 0;
	int v = dn_send(IF_VB, &p, M_RB, M_VB, out, &out_len);
	bool bound = ct_get(IP_VB, p.proto == 1 ? DN_DST : inet_ntoa((struct in_addr){ p.dst }),
			    p.sport, p.proto == 1 ? p.sport : p.dport, p.proto, &e) &&
		     (e.flags & MX_CT_F_NAT) && e.nat.src == frames_addr(SNAT_ADDR);

	if (bound)
		port = ntohs(e.nat.sport);
	want.src = frames_addr(SNAT_ADDR);
	want.sport = port;
	snprintf(diag, sizeof(diag), "verdict %d, bound %d, port %u", v, bound, port);
	tap_check(v == TC_ACT_REDIRECT && bound && port >= 1024 && port <= 1087 &&
			  dn_same(&want, M_GW1, M_U1, out, out_len, diag, sizeof(diag)),
		  diag, "dynamic NAT: %s: SNATed to a port of the leased block (checksums from "
			"scratch)", what);
	bound = ct_get(SNAT_ADDR, inet_ntoa((struct in_addr){ p.dst }), port,
		       p.proto == 1 ? port : p.dport, p.proto, &x) &&
		(x.flags & MX_CT_F_NAT_INDEX) && x.nat.src == p.src && x.nat.sport == htons(p.sport);
	tap_ok(bound, "dynamic NAT: %s: the binding in the connection and its index entry", what);
	/* The reply, to the translated tuple: rev_snat gives the VM's address and port back. */
	reply.dst = frames_addr(SNAT_ADDR);
	if (p.proto == 1)
		reply.sport = port;
	else
		reply.dport = port;
	want = reply;
	want.dst = p.src;
	if (p.proto == 1)
		want.sport = p.sport;
	else
		want.dport = p.sport;
	v = dn_send(IF_UP1, &reply, M_U1, M_GW1, out, &out_len);
	snprintf(diag, sizeof(diag), "verdict %d", v);
	tap_check(v == TC_ACT_REDIRECT && dn_same(&want, M_VB, M_RB, out, out_len, diag,
						  sizeof(diag)),
		  diag, "dynamic NAT: %s: the reply is reverse-translated (rev_snat) to the VM", what);
	if (nat_port)
		*nat_port = port;
}

/* A connection of R in state holding tuple (SNAT_ADDR:port -> dst:80, TCP): the port is
 * taken for dst while it lives (a closed one, TIME_WAIT or CLOSE, gives it up). */
static int dn_hold(uint16_t port, const char *dst, __u8 state)
{
	struct timespec ts;
	struct mx_ct_key k = { .device = R, .src = frames_addr(SNAT_ADDR), .dst = frames_addr(dst),
			       .sport = htons(port), .dport = htons(80), .proto = 6 };
	struct mx_ct_entry e = { .state = state };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	e.last_seen_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	return bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k, &e, BPF_ANY);
}

static void test_dynamic_nat(void)
{
	struct nat_pkt syn = { .proto = 6, .src = frames_addr(IP_VB), .dst = frames_addr(DN_DST),
			       .sport = 40000, .dport = 80, .tcp_flags = 0x02 };
	struct nat_pkt synack = { .proto = 6, .src = frames_addr(DN_DST), .sport = 80,
				  .tcp_flags = 0x12 };
	struct nat_pkt udp = { .proto = 17, .src = frames_addr(IP_VB), .dst = frames_addr(DN_DST),
			       .sport = 5353, .dport = 53 };
	struct nat_pkt udp_reply = { .proto = 17, .src = frames_addr(DN_DST), .sport = 53 };
	struct nat_pkt echo = { .proto = 1, .src = frames_addr(IP_VB), .dst = frames_addr(DN_DST),
				.sport = 77 };
	struct nat_pkt echo_reply = { .proto = 1, .src = frames_addr(DN_DST), .echo_reply = true };
	uint8_t out[FRAMES_MAX + 128];
	uint16_t p1 = 0, p2 = 0;
	struct mx_ct_sweep_stats st;
	struct mx_ct_config cfg = { 0 };
	struct timespec ts;
	char diag[256];
	size_t out_len;
	int v;

	ct_clear();
	if (!tap_ok(!dn_install(), "dynamic NAT: chains installed, targets beside the rules") ||
	    filter_set(R, C_DN_IN, C_DN_OUT, router_ports, MX_PORT_DEVICE_FILTERED, true) ||
	    ports_flag(router_ports, MX_PORT_DEVICE_CT, true) || dn_lease(SNAT_ADDR, 1, 16)) {
		tap_ok(false, "dynamic NAT: cannot set the router's filters, tracking and lease");
		return;
	}
	dn_snat_conn("TCP", syn, synack, &p1);
	syn.sport = 40001;
	dn_snat_conn("a second TCP connection to the same destination", syn, synack, &p2);
	tap_check(p1 && p2 && p1 != p2, "", "dynamic NAT: the second connection to the same "
		  "destination got another port (%u, %u)", p1, p2);
	dn_snat_conn("UDP", udp, udp_reply, &p2);
	/* The far end's port unreachable about the SNATed UDP packet, to the SNAT address: to
	 * the VM, its quote translated back (address, port, quoted checksums, ICMP's). */
	{
		struct nat_pkt q = { .proto = 17, .src = frames_addr(SNAT_ADDR),
				     .dst = frames_addr(DN_DST), .sport = p2, .dport = 53 };
		struct nat_pkt qw = q;
		struct nat_pkt err = { .proto = 1, .src = frames_addr(DN_DST),
				       .dst = frames_addr(SNAT_ADDR), .err_type = 3, .err_code = 3,
				       .inner = &q, .quote_l4 = 8 };
		struct nat_pkt want = err;

		qw.src = frames_addr(IP_VB);
		qw.sport = udp.sport;
		want.dst = frames_addr(IP_VB);
		want.inner = &qw;
		v = dn_send(IF_UP1, &err, M_U1, M_GW1, out, &out_len);
		snprintf(diag, sizeof(diag), "verdict %d", v);
		tap_check(v == TC_ACT_REDIRECT &&
				  dn_same(&want, M_VB, M_RB, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT: an ICMP error about a SNATed packet (related) reaches "
				"the VM with its quote translated back, every checksum right");
	}
	/* A first fragment of a new UDP tuple: the SNAT (ports: whole datagrams only) passes
	 * it as it is, and it opens no connection; the whole datagram after it is SNATed.
	 * (Found by test_fuzz_frames' dynamic NAT run: a connection the fragment opened
	 * passed every later datagram of its tuple from the VM's own address.) */
	{
		struct nat_pkt frag = udp;
		struct mx_ct_entry e;
		bool opened;

		frag.sport = 5354;
		frag.frag_off = 0x2000; /* more fragments, offset 0 */
		v = dn_send(IF_VB, &frag, M_RB, M_VB, out, &out_len);
		opened = ct_get(IP_VB, DN_DST, 5354, 53, 17, &e);
		snprintf(diag, sizeof(diag), "verdict %d, connection opened %d", v, opened);
		tap_check(v == TC_ACT_REDIRECT && !opened &&
				  dn_same(&frag, M_GW1, M_U1, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT: a first UDP fragment passes the SNAT with ports as "
			  "it is (whole datagrams only) and opens no connection");
		frag.frag_off = 0;
		dn_snat_conn("UDP after a first fragment of its tuple", frag, udp_reply, NULL);
	}
	dn_snat_conn("ICMP echo (the id is the port)", echo, echo_reply, NULL);
	/* A forward packet of the first connection again: the same binding. */
	{
		struct nat_pkt ack = syn, want;

		ack.sport = 40000;
		ack.tcp_flags = 0x10;
		want = ack;
		want.src = frames_addr(SNAT_ADDR);
		want.sport = p1;
		v = dn_send(IF_VB, &ack, M_RB, M_VB, out, &out_len);
		snprintf(diag, sizeof(diag), "verdict %d", v);
		tap_check(v == TC_ACT_REDIRECT &&
				  dn_same(&want, M_GW1, M_U1, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT: a forward packet of a bound connection takes its binding");
	}
	/* DNAT port forwarding: DNAT_ADDR:8080 to VB:80, its reply back from DNAT_ADDR:8080. */
	{
		struct nat_pkt in = { .proto = 6, .src = frames_addr(DN_CLIENT),
				      .dst = frames_addr(DNAT_ADDR), .sport = 45000, .dport = 8080,
				      .tcp_flags = 0x02 };
		struct nat_pkt want = in, rep, rwant;

		want.dst = frames_addr(IP_VB);
		want.dport = 80;
		v = dn_send(IF_UP1, &in, M_U1, M_GW1, out, &out_len);
		snprintf(diag, sizeof(diag), "verdict %d", v);
		tap_check(v == TC_ACT_REDIRECT &&
				  dn_same(&want, M_VB, M_RB, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT: DNAT port forwarding: :8080 to the VM's port 80");
		rep = (struct nat_pkt){ .proto = 6, .src = frames_addr(IP_VB),
					.dst = frames_addr(DN_CLIENT), .sport = 80, .dport = 45000,
					.tcp_flags = 0x12 };
		rwant = rep;
		rwant.src = frames_addr(DNAT_ADDR);
		rwant.sport = 8080;
		v = dn_send(IF_VB, &rep, M_RB, M_VB, out, &out_len);
		snprintf(diag, sizeof(diag), "verdict %d", v);
		tap_check(v == TC_ACT_REDIRECT &&
				  dn_same(&rwant, M_GW1, M_U1, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT: the VM's reply from :80 leaves as DNAT_ADDR:8080 "
				"(rev_dnat)");
	}
	/* Exhaustion: every port of the block held for DN_DST2: a new connection there is
	 * dropped as nat-exhausted; to DN_DST it still gets a port of the block. */
	{
		__u64 ex0 = counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED);
		int err = 0;

		for (uint16_t port = 1024; port <= 1087; port++)
			err |= dn_hold(port, DN_DST2, MX_CT_TCP_ESTABLISHED);
		syn.dst = frames_addr(DN_DST2);
		syn.sport = 40100;
		v = dn_send(IF_VB, &syn, M_RB, M_VB, out, &out_len);
		snprintf(diag, sizeof(diag), "err %d, verdict %d, nat-exhausted +%llu", err, v,
			 (unsigned long long)(counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) - ex0));
		tap_check(!err && v == TC_ACT_SHOT &&
				  counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) == ex0 + 1,
			  diag, "dynamic NAT: every port of the lease taken for a destination: a new "
				"connection there is dropped and counted as nat-exhausted");
		syn.dst = frames_addr(DN_DST);
		dn_snat_conn("the block full for one destination, another still gets a port", syn,
			     synack, NULL);
		dn_lease(SNAT_ADDR, 0, 0);
		syn.sport = 40101;
		v = dn_send(IF_VB, &syn, M_RB, M_VB, out, &out_len);
		tap_check(v == TC_ACT_SHOT && counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) == ex0 + 2,
			  "", "dynamic NAT: no lease for the address: nat-exhausted (verdict %d)", v);
	}
	/* The sweep a day later: every connection but the established ones (the first TCP
	 * connection, acknowledged above, and the 64 taken) is idle, and goes with its index
	 * entry; the first one keeps its index. Ten days later, all of them. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = mx_ct_sweep(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &cfg,
			(__u64)ts.tv_sec * 1000000000ull + 86400ull * 1000000000ull, &st);
	{
		struct mx_ct_entry e, x;
		bool kept = ct_get(IP_VB, DN_DST, 40000, 80, 6, &e) &&
			    ct_get(SNAT_ADDR, DN_DST, p1, 80, 6, &x);

		tap_check(!v && ct_count() == 64 + 2 && kept && st.removed == 6, "",
			  "dynamic NAT: a day later the sweep removes the 6 idle connections with "
			  "their index entries; the established one keeps its index (%u removed, "
			  "%u left, kept %d)", st.removed, ct_count(), kept);
	}
	v = mx_ct_sweep(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &cfg,
			(__u64)ts.tv_sec * 1000000000ull + 10 * 86400ull * 1000000000ull, &st);
	tap_check(!v && ct_count() == 0, "", "dynamic NAT: ten days later, every connection and "
		  "index entry is gone (%u removed, %u left)", st.removed, ct_count());
	/* A UDP packet whose IPv4 total length (0) leaves no room for the ports that tracking
	 * read from the frame: the SNAT cannot write its port, so it is dropped (chain-drop),
	 * never sent on from SNAT_ADDR with the VM's own port, outside the lease (found by
	 * test_fuzz_frames' dynamic NAT run). */
	{
		struct nat_pkt bad = udp;
		uint8_t in[FRAMES_MAX];
		size_t in_len;
		__u64 d0 = counter_read(dp, RB, MX_DROP_CHAIN_DROP);
		int err = dn_lease(SNAT_ADDR, 1, 16);

		bad.sport = 5400;
		in_len = nat_frame(&bad, M_RB, M_VB, in);
		frames_put16(in + 14 + 2, 0);
		frames_put16(in + 14 + 10, 0);
		frames_put16(in + 14 + 10, frames_csum(in + 14, 20));
		out_len = sizeof(out);
		v = -1;
		err |= prog_run(PORT, IF_VB, in, in_len, out, &out_len, &v);
		snprintf(diag, sizeof(diag), "err %d, verdict %d, chain-drop +%llu, out from "
			 "%u.%u.%u.%u port %u", err, v,
			 (unsigned long long)(counter_read(dp, RB, MX_DROP_CHAIN_DROP) - d0),
			 out[26], out[27], out[28], out[29], out_len >= 36 ? out[34] << 8 | out[35] : 0);
		tap_check(!err && v == TC_ACT_SHOT &&
				  counter_read(dp, RB, MX_DROP_CHAIN_DROP) == d0 + 1, diag,
			  "dynamic NAT: a UDP packet whose IPv4 total length leaves out its ports is "
			  "dropped as chain-drop, not sent with the new address and its old port");
		ct_clear();
		dn_lease(SNAT_ADDR, 0, 0);
	}
	filter_set(R, C_DN_IN, C_DN_OUT, router_ports, MX_PORT_DEVICE_FILTERED, false);
	ports_flag(router_ports, MX_PORT_DEVICE_CT, false);
}

/* ---- dynamic rules that go on: the rules after them see the rewrite (docs/nat.md) ----
 * R's infilter, ending in a drop of everything no rule accepted, so that a packet passes
 * only by an accept that matched its translated fields:
 *   rev_snat of what comes to SNAT_ADDR, continue; rev_dnat of VB's TCP from :80, continue;
 *   accept DNAT_ADDR:8080 -> DN_CLIENT:45000 (a reply both reverse rules translated);
 *   jump to C_DC_SUB: dnat of TCP to DNAT_ADDR:8080 to VB:80, return;
 *   drop DNAT_ADDR (the old destination: never fires);
 *   accept DN_CLIENT2 -> VB:80 (the translated destination);
 *   snat of DN_CLIENT -> VB:80 (the translated destination) to SNAT_ADDR:1024-1087,
 *   continue;
 *   accept SNAT_ADDR:1024-1087 -> VB:80 (the translated source, address and port);
 *   drop. */
enum { C_DC_IN = 35, C_DC_SUB };
enum { R_DC_REVSNAT = 351, R_DC_REVDNAT, R_DC_REPLY, R_DC_JUMP, R_DC_OLD, R_DC_DNATED,
       R_DC_SNAT, R_DC_BOTH, R_DC_REST, R_DC_DNAT = 361 };
#define DN_CLIENT2 "10.9.7.8"

static void dc_match(struct mx_rule_spec *r, const char *src, const char *dst, __u16 sport_lo,
		     __u16 sport_hi, __u16 dport)
{
	if (src) {
		r->conds |= MX_COND_SRC;
		r->src = frames_addr(src);
		r->src_len = 32;
	}
	if (dst) {
		r->conds |= MX_COND_DST;
		r->dst = frames_addr(dst);
		r->dst_len = 32;
	}
	if (sport_lo) {
		r->conds |= MX_COND_SRC_PORT;
		r->sport_lo = sport_lo;
		r->sport_hi = sport_hi;
	}
	if (dport) {
		r->conds |= MX_COND_PROTO | MX_COND_DST_PORT;
		r->proto = 6;
		r->dport_lo = r->dport_hi = dport;
	}
}

static int dc_install(void)
{
	struct mx_rule_spec in[9] = {
		chain_rule(R_DC_REVSNAT, MX_RULE_REV_SNAT), chain_rule(R_DC_REVDNAT, MX_RULE_REV_DNAT),
		chain_rule(R_DC_REPLY, MX_RULE_ACCEPT),	    chain_rule(R_DC_JUMP, MX_RULE_JUMP),
		chain_rule(R_DC_OLD, MX_RULE_DROP),	    chain_rule(R_DC_DNATED, MX_RULE_ACCEPT),
		chain_rule(R_DC_SNAT, MX_RULE_SNAT),	    chain_rule(R_DC_BOTH, MX_RULE_ACCEPT),
		chain_rule(R_DC_REST, MX_RULE_DROP)
	};
	struct mx_rule_spec sub = chain_rule(R_DC_DNAT, MX_RULE_DNAT);
	struct mx_chain_spec chains[] = { { C_DC_IN, in, 9 }, { C_DC_SUB, &sub, 1 } };
	struct mx_chain_program prog = { chains, 2, NULL, 0 };
	struct mx_chain_maps maps;

	dc_match(&in[0], NULL, SNAT_ADDR, 0, 0, 0);
	in[0].nat_action = MX_RULE_CONTINUE;
	dc_match(&in[1], IP_VB, NULL, 80, 80, 0);
	in[1].conds |= MX_COND_PROTO;
	in[1].proto = 6;
	in[1].nat_action = MX_RULE_CONTINUE;
	dc_match(&in[2], DNAT_ADDR, DN_CLIENT, 8080, 8080, 45000);
	in[3].jump_to = 1;
	dc_match(&in[4], NULL, DNAT_ADDR, 0, 0, 0);
	dc_match(&in[5], DN_CLIENT2, IP_VB, 0, 0, 80);
	dc_match(&in[6], DN_CLIENT, IP_VB, 0, 0, 80);
	in[6].nat_lo = in[6].nat_hi = frames_addr(SNAT_ADDR);
	in[6].nat_port_lo = 1024;
	in[6].nat_port_hi = 1087;
	in[6].nat_ports = 1;
	in[6].nat_action = MX_RULE_CONTINUE;
	dc_match(&in[7], SNAT_ADDR, IP_VB, 1024, 1087, 80);
	dc_match(&sub, NULL, DNAT_ADDR, 0, 0, 8080);
	sub.nat_lo = sub.nat_hi = frames_addr(IP_VB);
	sub.nat_port_lo = sub.nat_port_hi = 80;
	sub.nat_ports = 1;
	sub.nat_action = MX_RULE_RETURN;
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* Send p into iface; whether want (to dmac from smac) came out, diag set. */
static bool dc_pass(enum ifid iface, const struct nat_pkt *p, const uint8_t *in_dmac,
		    const uint8_t *in_smac, const struct nat_pkt *want, const uint8_t *dmac,
		    const uint8_t *smac, char *diag, size_t diag_len)
{
	uint8_t out[FRAMES_MAX + 128];
	size_t out_len;
	int v = dn_send(iface, p, in_dmac, in_smac, out, &out_len);

	snprintf(diag, diag_len, "verdict %d", v);
	return v == TC_ACT_REDIRECT && dn_same(want, dmac, smac, out, out_len, diag, diag_len);
}

static void test_dynamic_nat_continue(void)
{
	struct nat_pkt syn2 = { .proto = 6, .src = frames_addr(DN_CLIENT2),
				.dst = frames_addr(DNAT_ADDR), .sport = 45001, .dport = 8080,
				.tcp_flags = 0x02 };
	struct nat_pkt syn = syn2, want, reply, rwant;
	struct mx_ct_entry e = { 0 }, x = { 0 };
	char diag[256];
	__u64 old0, dnated0, both0, reply0;
	uint16_t port;
	bool ok;

	ct_clear();
	if (!tap_ok(!dc_install(), "dynamic NAT, continue: chains installed") ||
	    filter_set(R, C_DC_IN, MX_CHAIN_NONE, router_ports, MX_PORT_DEVICE_FILTERED, true) ||
	    ports_flag(router_ports, MX_PORT_DEVICE_CT, true) || dn_lease(SNAT_ADDR, 1, 16)) {
		tap_ok(false, "dynamic NAT, continue: cannot set the router's filter, tracking, lease");
		return;
	}
	/* A DNAT that returns: the calling chain's next rules see VB:80, not DNAT_ADDR:8080. */
	old0 = rule_packets(R_DC_OLD);
	dnated0 = rule_packets(R_DC_DNATED);
	both0 = rule_packets(R_DC_BOTH);
	reply0 = rule_packets(R_DC_REPLY);
	want = syn2;
	want.dst = frames_addr(IP_VB);
	want.dport = 80;
	ok = dc_pass(IF_UP1, &syn2, M_U1, M_GW1, &want, M_VB, M_RB, diag, sizeof(diag));
	tap_check(ok && rule_packets(R_DC_OLD) == old0 && rule_packets(R_DC_DNATED) == dnated0 + 1,
		  diag,
		  "dynamic NAT, continue: after a DNAT (return), an accept of the translated "
		  "destination passes it, the drop of the old destination never fires");
	/* DNAT (return) then SNAT (continue) of one packet: both halves in one binding. */
	syn.src = frames_addr(DN_CLIENT);
	syn.sport = 45000;
	want = syn;
	want.dst = frames_addr(IP_VB);
	want.dport = 80;
	want.src = frames_addr(SNAT_ADDR);
	{
		uint8_t out[FRAMES_MAX + 128];
		size_t out_len;
		int v = dn_send(IF_UP1, &syn, M_U1, M_GW1, out, &out_len);
		bool bound = ct_get(DN_CLIENT, DNAT_ADDR, 45000, 8080, 6, &e) &&
			     (e.flags & MX_CT_F_NAT);

		port = bound ? ntohs(e.nat.sport) : 0;
		want.sport = port;
		snprintf(diag, sizeof(diag), "verdict %d, bound %d, T_out %08x:%u -> %08x:%u", v,
			 bound, ntohl(e.nat.src), port, ntohl(e.nat.dst), ntohs(e.nat.dport));
		tap_check(v == TC_ACT_REDIRECT && bound && port >= 1024 && port <= 1087 &&
				  dn_same(&want, M_VB, M_RB, out, out_len, diag, sizeof(diag)),
			  diag, "dynamic NAT, continue: DNAT then SNAT of one packet: it leaves as "
				"SNAT_ADDR:port -> VB:80 (the SNAT matched the translated "
				"destination, the accept after it the translated source and port)");
	}
	tap_check(e.nat.src == frames_addr(SNAT_ADDR) && e.nat.dst == frames_addr(IP_VB) &&
			  e.nat.dport == htons(80) && e.nat.sport == htons(port) &&
			  rule_packets(R_DC_BOTH) == both0 + 1,
		  "", "dynamic NAT, continue: the connection is bound with both halves (T_out "
		  "SNAT_ADDR:%u -> VB:80)", port);
	ok = ct_get(SNAT_ADDR, IP_VB, port, 80, 6, &x) && (x.flags & MX_CT_F_NAT_INDEX) &&
	     x.nat.src == frames_addr(DN_CLIENT) && x.nat.sport == htons(45000);
	tap_ok(ok, "dynamic NAT, continue: the index entry of the final tuple names the "
		   "connection");
	/* VB's reply: rev_snat, then rev_dnat, both seen by the accept after them. */
	reply = (struct nat_pkt){ .proto = 6, .src = frames_addr(IP_VB),
				  .dst = frames_addr(SNAT_ADDR), .sport = 80, .dport = port,
				  .tcp_flags = 0x12 };
	rwant = reply;
	rwant.src = frames_addr(DNAT_ADDR);
	rwant.sport = 8080;
	rwant.dst = frames_addr(DN_CLIENT);
	rwant.dport = 45000;
	ok = dc_pass(IF_VB, &reply, M_RB, M_VB, &rwant, M_GW1, M_U1, diag, sizeof(diag));
	tap_check(ok && rule_packets(R_DC_REPLY) == reply0 + 1, diag,
		  "dynamic NAT, continue: the reply is reverse-translated both ways (rev_snat, "
		  "rev_dnat, continue) and accepted as DNAT_ADDR:8080 -> DN_CLIENT:45000");
	/* A later forward packet of the connection takes the same binding. */
	syn.tcp_flags = 0x10;
	want.tcp_flags = 0x10;
	ok = dc_pass(IF_UP1, &syn, M_U1, M_GW1, &want, M_VB, M_RB, diag, sizeof(diag));
	tap_check(ok && rule_packets(R_DC_BOTH) == both0 + 2 && rule_packets(R_DC_OLD) == old0,
		  diag,
		  "dynamic NAT, continue: a later forward packet takes the same binding, both "
		  "halves");
	/* No lease for the SNAT address: the SNAT that goes on finds no port, the packet is
	 * dropped as nat-exhausted there (the accept after it never sees it), nothing bound. */
	dn_lease(SNAT_ADDR, 0, 0);
	{
		__u64 ex0 = counter_read(dp, U1, MX_DROP_NAT_EXHAUSTED);
		__u64 both1 = rule_packets(R_DC_BOTH);
		uint8_t out[FRAMES_MAX + 128];
		size_t out_len;
		int v;

		syn.sport = 45002;
		syn.tcp_flags = 0x02;
		v = dn_send(IF_UP1, &syn, M_U1, M_GW1, out, &out_len);
		tap_check(v == TC_ACT_SHOT &&
				  counter_read(dp, U1, MX_DROP_NAT_EXHAUSTED) == ex0 + 1 &&
				  rule_packets(R_DC_BOTH) == both1 &&
				  !ct_get(DN_CLIENT, DNAT_ADDR, 45002, 8080, 6, &e),
			  "", "dynamic NAT, continue: a SNAT that goes on and finds no port drops "
			  "the packet as nat-exhausted, nothing bound (verdict %d)", v);
	}
	filter_set(R, C_DC_IN, MX_CHAIN_NONE, router_ports, MX_PORT_DEVICE_FILTERED, false);
	ports_flag(router_ports, MX_PORT_DEVICE_CT, false);
	ct_clear();
}

/* Hold every port of the block for DN_DST2 (SNAT_ADDR:port -> DN_DST2:80) in state, but
 * keep: that one untouched; and with odd, the even ports free. 0, or -1. */
static int dn_hold_block(__u8 state, uint16_t keep, bool odd)
{
	int err = 0;

	for (uint16_t port = 1024; port <= 1087; port++) {
		if (port == keep)
			continue;
		if (odd && !(port & 1)) {
			struct mx_ct_key k = { .device = R, .src = frames_addr(SNAT_ADDR),
					       .dst = frames_addr(DN_DST2), .sport = htons(port),
					       .dport = htons(80), .proto = 6 };

			bpf_map_delete_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k);
			continue;
		}
		err |= dn_hold(port, DN_DST2, state);
	}
	return err;
}

/* Every entry dn_hold_block wrote for dst now holds another key's tag: what the probe of a
 * candidate port reads when the element was freed and taken by another key under it. */
static int dn_retag_block(const char *dst)
{
	struct mx_ct_key other = { .device = R, .src = frames_addr(IP_VB) };
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_CT), err = 0;

	for (uint16_t port = 1024; port <= 1087; port++) {
		struct mx_ct_key k = { .device = R, .src = frames_addr(SNAT_ADDR),
				       .dst = frames_addr(dst), .sport = htons(port),
				       .dport = htons(80), .proto = 6 };
		struct mx_ct_entry e;

		if (bpf_map_lookup_elem(fd, &k, &e))
			return -errno;
		e.tag = mx_ct_tag(&other);
		err |= bpf_map_update_elem(fd, &k, &e, BPF_EXIST);
	}
	return err;
}

/* A new TCP connection to DN_DST2 from VB:sport: the SNAT port it left with (0: none, it
 * was dropped; the verdict into *v), its entries checked to name each other. */
static uint16_t dn_snat_syn(uint16_t sport, int *v)
{
	struct nat_pkt syn = { .proto = 6, .src = frames_addr(IP_VB), .dst = frames_addr(DN_DST2),
			       .sport = sport, .dport = 80, .tcp_flags = 0x02 };
	struct mx_ct_entry e = { 0 }, x = { 0 };
	uint8_t out[FRAMES_MAX + 128];
	struct nat_pkt want = syn;
	size_t out_len;
	uint16_t port;

	*v = dn_send(IF_VB, &syn, M_RB, M_VB, out, &out_len);
	if (*v != TC_ACT_REDIRECT || !ct_get(IP_VB, DN_DST2, sport, 80, 6, &e) ||
	    !(e.flags & MX_CT_F_NAT) || e.state != MX_CT_TCP_SYN_SENT)
		return 0;
	port = ntohs(e.nat.sport);
	want.src = frames_addr(SNAT_ADDR);
	want.sport = port;
	if (!ct_get(SNAT_ADDR, DN_DST2, port, 80, 6, &x) || !(x.flags & MX_CT_F_NAT_INDEX) ||
	    x.nat.sport != htons(sport) || !dn_same(&want, M_GW1, M_U1, out, out_len, NULL, 0))
		return 0;
	return port;
}

/* Time-wait reuse. Every port of the block held for DN_DST2 by a closed connection
 * (TIME_WAIT): a new connection takes one over (the closed connection's entry goes, the
 * index names the new one). Every other port then held by a live connection (ESTABLISHED,
 * or closing: FIN_WAIT): the next one is nat-exhausted. By reset ones (CLOSE): taken over.
 * Half the ports free, half closed: a free one is taken first. */
static void test_snat_reuse(void)
{
	uint16_t p, q;
	__u64 ex0;
	int err, v;

	ct_clear();
	if (filter_set(R, C_DN_IN, C_DN_OUT, router_ports, MX_PORT_DEVICE_FILTERED, true) ||
	    ports_flag(router_ports, MX_PORT_DEVICE_CT, true) || dn_lease(SNAT_ADDR, 1, 16)) {
		tap_ok(false, "SNAT reuse: cannot set the router's filters, tracking and lease");
		return;
	}
	err = dn_hold_block(MX_CT_TCP_TIME_WAIT, 0, false);
	p = dn_snat_syn(40200, &v);
	tap_check(!err && p >= 1024 && p <= 1087 && ct_count() == 65, "",
		  "SNAT reuse: every port held by a closed connection (TIME_WAIT): the new one "
		  "takes one over, the old entry gone, the index naming the new one (verdict %d, "
		  "port %u, entries %u)", v, p, ct_count());
	ex0 = counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED);
	err = dn_hold_block(MX_CT_TCP_ESTABLISHED, p, false);
	q = dn_snat_syn(40201, &v);
	tap_check(!err && !q && v == TC_ACT_SHOT &&
			  counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) == ex0 + 1,
		  "", "SNAT reuse: every port held by a live connection (the new one's too): "
		      "nat-exhausted (verdict %d)", v);
	err = dn_hold_block(MX_CT_TCP_FIN_WAIT, p, false);
	q = dn_snat_syn(40202, &v);
	tap_check(!err && !q && v == TC_ACT_SHOT &&
			  counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) == ex0 + 2,
		  "", "SNAT reuse: a closing connection (FIN_WAIT) keeps its port (verdict %d)", v);
	err = dn_hold_block(MX_CT_TCP_CLOSE, p, false);
	q = dn_snat_syn(40203, &v);
	tap_check(!err && q >= 1024 && q <= 1087 && q != p, "",
		  "SNAT reuse: a reset connection's port (CLOSE) goes to a new one (verdict %d, "
		  "port %u)", v, q);
	err = dn_hold_block(MX_CT_TCP_TIME_WAIT, 0, true);
	q = dn_snat_syn(40204, &v);
	tap_check(!err && q >= 1024 && q <= 1087 && !(q & 1), "",
		  "SNAT reuse: odd ports closed, even ones free: a free one first (verdict %d, "
		  "port %u)", v, q);
	err = dn_hold_block(MX_CT_TCP_TIME_WAIT, 0, false);
	err = err ? err : dn_retag_block(DN_DST2);
	q = dn_snat_syn(40205, &v);
	tap_check(!err && !q && v == TC_ACT_SHOT &&
			  counter_read(dp, RB, MX_DROP_NAT_EXHAUSTED) == ex0 + 3,
		  "", "SNAT reuse: closed connections whose elements hold other keys' entries "
		      "(taken under the probe) are not taken over: nat-exhausted (verdict %d)", v);
	ct_clear();
	dn_lease(SNAT_ADDR, 0, 0);
	filter_set(R, C_DN_IN, C_DN_OUT, router_ports, MX_PORT_DEVICE_FILTERED, false);
	ports_flag(router_ports, MX_PORT_DEVICE_CT, false);
}

int main(void)
{
	struct mx_datapath_opts opts = { .no_pin = true, .ct_max_entries = CT_TEST_ENTRIES };
	char diag[256] = "";
	cpu_set_t cpu;
	int err;

	mx_log_init("test_router", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	/* One CPU: the ICMP rate limit is a per-CPU bucket. */
	CPU_ZERO(&cpu);
	CPU_SET(0, &cpu);
	sched_setaffinity(0, sizeof(cpu), &cpu);
	if (dp_netns_enter() || net_setup())
		return tap_bail("cannot build the test network namespace");
	err = mx_datapath_open(&opts, &dp);
	snprintf(diag, sizeof(diag), "mx_datapath_open: %s", strerror(-err));
	if (!tap_check(!err, diag, "BPF object loads through the verifier (router programs too)"))
		return tap_done();
	if (maps_setup())
		return tap_bail("cannot fill the maps");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		case_run(&cases[i]);
	test_reused_arp();
	test_bridge_refresh();
	test_admin_down();
	test_slot_hints();
	test_ecmp();
	test_ecmp_fragments();
	test_route_sync();
	test_rate_limit();
	test_trace();
	test_filters();
	test_reject_rate();
	test_trace_filter();
	test_conntrack();
	test_floating_ip(); /* installs chains of its own in place of test_filters' */
	test_dynamic_nat(); /* and so does this one */
	test_snat_reuse();  /* on test_dynamic_nat's chains */
	test_dynamic_nat_continue();
	mx_datapath_close(dp);
	return tap_done();
}
