// SPDX-License-Identifier: Apache-2.0
/* Datapath unit tests: BPF_PROG_TEST_RUN on crafted frames, one table row per path, maps
 * filled through the loader's typed accessors, in a private network namespace. TAP output.
 *
 * BPF_PROG_TEST_RUN refuses frames shorter than ETH_HLEN and (6.18) IPv4 frames shorter than
 * 34 bytes, so those rows inject a real frame instead, with the row's program attached for
 * real to the row's interface (through the loader) while the row runs; their verdict is not
 * seen, their counters are:
 * - INJ_WIRE: sent with AF_PACKET from the veth peer, as a neighbour on the wire would.
 * - INJ_REDIRECT: for a frame shorter than ETH_HLEN, which no sender on an Ethernet device
 *   can produce: AF_PACKET refuses it (dev_validate_header, dev->min_header_len), so do
 *   veth_xmit (pskb_may_pull ETH_HLEN), a tap's tun_get_user and XDP's head and tail
 *   adjustment, and NIC drivers drop runts. Another BPF program can still make one:
 *   bpf_redirect or bpf_clone_redirect with BPF_F_INGRESS checks only that a link-layer
 *   header was carried and the packet is not empty (the min_header_len check proposed in
 *   "bpf: Don't redirect too small packets", 2024, was reverted; the kernel selftest
 *   empty_skb redirects a 1-byte packet into a veth's ingress). So the parser's Ethernet
 *   length check guards against a misbehaving program on the host, not against a guest,
 *   and the row injects its frame that way (dp_ingress_inject). Later kernels (6.18.44
 *   here) refuse that too: bpf_clone_redirect answers NET_RX_DROP (1), the forward into
 *   ingress having dropped a frame shorter than an Ethernet header. Then the row checks
 *   what that kernel gives: the frame never reaches the program (none of the row's
 *   counters moves). */
#include "dp_net.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp_counters.h"
#include "dp_fill.h"
#include "dp_trace.h"
#include "frames.h"
#include "loader/chain.h"
#include "loader/loader.h"
#include "base/log.h"
#include "pin_root.h"
#include "tap.h"

/* ---- the test topology ---- */

enum { B1 = 100, B2 = 200 };
enum {
	P1 = 1001,  /* local, p1, bridge 1 */
	P2 = 1002,  /* local, p2, bridge 1 */
	PR = 1003,  /* remote on 10.0.0.2, bridge 1 */
	PN = 1004,  /* remote on 10.0.0.3: no underlay neighbour */
	PX = 1005,  /* remote on 192.0.2.9: no underlay route */
	PU = 1006,  /* bound nowhere */
	P3 = 2001,  /* local, p3, bridge 2 */
	P3R = 2002, /* remote on 10.0.0.2, bridge 2 */
	PS = 1007,  /* local, p5, bridge 1: port security, fixed MAC M_PS and address PS_ADDR */
};
#define HOST MX_STATS_HOST

#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"
#define NONEIGH_ADDR "10.0.0.3"
#define NOROUTE_ADDR "192.0.2.9"
#define PS_ADDR "10.1.0.5"

static const uint8_t UL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t M_P1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };   /* learned on p1 */
static const uint8_t M_P2[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };   /* static on P2 */
static const uint8_t M_R[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };    /* PR */
static const uint8_t M_N[6] = { 0x02, 0, 0, 0, 0x01, 0x04 };    /* PN */
static const uint8_t M_X[6] = { 0x02, 0, 0, 0, 0x01, 0x05 };    /* PX */
static const uint8_t M_U[6] = { 0x02, 0, 0, 0, 0x01, 0x06 };    /* PU */
static const uint8_t M_HP[6] = { 0x02, 0, 0, 0, 0x01, 0x0f };   /* static on P1 */
static const uint8_t M_MOVE[6] = { 0x02, 0, 0, 0, 0x01, 0x10 }; /* remote, then seen on p1 */
static const uint8_t M_FL[6] = { 0x02, 0, 0, 0, 0x01, 0x11 };   /* first seen flooding */
static const uint8_t M_B2[6] = { 0x02, 0, 0, 0, 0x02, 0x02 };   /* B1 fdb -> P3R of B2 */
static const uint8_t M_P3[6] = { 0x02, 0, 0, 0, 0x02, 0x01 };
static const uint8_t M_PS[6] = { 0x02, 0, 0, 0, 0x01, 0x07 };   /* PS's fixed MAC, static */
static const uint8_t M_SPOOF[6] = { 0x02, 0, 0, 0, 0x01, 0x20 }; /* never PS's, never learned */
static const uint8_t M_FREE[6] = { 0x02, 0, 0, 0, 0x01, 0x21 };  /* p1 sending as anybody */
static const uint8_t M_UNK[6] = { 0x02, 0, 0, 0, 0x0e, 0x0e };
static const uint8_t M_MCAST[6] = { 0x01, 0, 0x5e, 0, 0, 0x01 };
static const uint8_t M_ZERO[6];
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

enum ifid { IF_P1, IF_P2, IF_P3, IF_P4, IF_UL, IF_P5, IF__MAX };
static const char *const if_names[IF__MAX] = { "p1", "p2", "p3", "p4", "ul0", "p5" };
static const char *const if_macs[IF__MAX] = { "02:00:00:00:0a:01", "02:00:00:00:0a:02",
					      "02:00:00:00:0a:03", "02:00:00:00:0a:04",
					      "02:00:00:00:00:01", "02:00:00:00:0a:05" };
static int ifx[IF__MAX];

static struct mx_datapath *dp;

static int net_setup(void)
{
	if (dp_veths(if_names, if_macs, IF__MAX, ifx))
		return -1;
	return dp_underlay("ul0", LOCAL_ADDR, PEER_ADDR, "02:00:00:00:00:02");
}

/* ---- filling the maps, as the agent does ---- */

static struct mx_config config_default(void)
{
	return (struct mx_config){ .tunnel_addr = frames_addr(LOCAL_ADDR),
				   .underlay_ifindex = ifx[IF_UL],
				   .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
}

static int put_port(__u32 key, __u32 bridge, __u32 flags, int ifindex, const char *host)
{
	struct mx_port p = { .device_key = bridge, .flags = flags, .ifindex = ifindex,
			     .host_addr = frames_addr(host) };

	return dp_put_port(dp, key, &p);
}

/* PS as the agent makes a bridge port created with "mac M_PS address PS_ADDR"; flags can
 * take MX_PORT_FIXED_MAC or MX_PORT_FIXED_IP away for a row. */
static int put_port_locked(__u32 flags)
{
	struct mx_port p = { .device_key = B1, .flags = MX_PORT_LOCAL | flags,
			     .ifindex = ifx[IF_P5], .addr = frames_addr(PS_ADDR) };

	memcpy(p.mac, M_PS, 6);
	return dp_put_port(dp, PS, &p);
}

static int put_fdb(__u32 bridge, const uint8_t *mac, __u32 port, __u32 flags)
{
	return dp_put_fdb(dp, bridge, mac, port, flags);
}

static int put_bridges(void)
{
	struct mx_bridge b1 = { .n_local = 2, .n_remote = 1 }, b2 = { .n_local = 1 };

	b1.local_ifindex[0] = ifx[IF_P1];
	b1.local_ifindex[1] = ifx[IF_P2];
	b1.remote_addr[0] = frames_addr(PEER_ADDR);
	b2.local_ifindex[0] = ifx[IF_P3];
	return mx_bridge_update(dp, B1, &b1) || mx_bridge_update(dp, B2, &b2);
}

static int maps_setup(void)
{
	struct mx_config cfg = config_default();
	struct mx_arp_key ak = { .bridge_key = B1, .addr = frames_addr("10.1.0.2") };
	struct mx_arp_entry ae = { 0 };
	struct mx_tunpeer tp = { 0 };
	int err = 0;

	memcpy(ae.mac, M_P2, 6);
	err |= mx_config_set(dp, &cfg);
	err |= put_port_locked(MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP);
	err |= put_port(P1, B1, MX_PORT_LOCAL, ifx[IF_P1], NULL);
	err |= put_port(P2, B1, MX_PORT_LOCAL, ifx[IF_P2], NULL);
	err |= put_port(PR, B1, MX_PORT_REMOTE, 0, PEER_ADDR);
	err |= put_port(PN, B1, MX_PORT_REMOTE, 0, NONEIGH_ADDR);
	err |= put_port(PX, B1, MX_PORT_REMOTE, 0, NOROUTE_ADDR);
	err |= put_port(PU, B1, 0, 0, NULL);
	err |= put_port(P3, B2, MX_PORT_LOCAL, ifx[IF_P3], NULL);
	err |= put_port(P3R, B2, MX_PORT_REMOTE, 0, PEER_ADDR);
	err |= put_fdb(B1, M_P2, P2, MX_FDB_STATIC) | put_fdb(B1, M_R, PR, MX_FDB_REMOTE);
	err |= put_fdb(B1, M_N, PN, MX_FDB_REMOTE) | put_fdb(B1, M_X, PX, MX_FDB_REMOTE);
	err |= put_fdb(B1, M_U, PU, MX_FDB_STATIC) | put_fdb(B1, M_HP, P1, MX_FDB_STATIC);
	err |= put_fdb(B1, M_B2, P3R, MX_FDB_REMOTE) | put_fdb(B1, M_MOVE, PR, MX_FDB_REMOTE);
	err |= put_fdb(B2, M_P3, P3, MX_FDB_STATIC);
	err |= mx_arp_update(dp, &ak, &ae);
	/* PS as the agent installs a port with a fixed MAC and address: static MAC, ARP entry */
	err |= put_fdb(B1, M_PS, PS, MX_FDB_STATIC);
	ak.addr = frames_addr(PS_ADDR);
	memcpy(ae.mac, M_PS, 6);
	err |= mx_arp_update(dp, &ak, &ae);
	err |= mx_tunpeer_update(dp, frames_addr(PEER_ADDR), &tp);
	err |= mx_tunpeer_update(dp, frames_addr(NONEIGH_ADDR), &tp);
	err |= put_bridges();
	return err ? -1 : 0;
}

/* ---- table rows ---- */

enum prog { PORT, UNDERLAY };
/* How the row's frame meets its program: BPF_PROG_TEST_RUN, or for real (see the top). */
enum inject { INJ_NONE, INJ_WIRE, INJ_REDIRECT };
enum expect_kind { EXP_NONE, EXP_SAME, EXP_ARP_REPLY, EXP_ENCAP, EXP_DECAP };

struct expect {
	enum expect_kind kind;
	const uint8_t *mac;  /* EXP_ARP_REPLY: the answer; EXP_ENCAP: outer destination MAC */
	__u32 vni;           /* EXP_ENCAP */
	const char *odst;    /* EXP_ENCAP */
};

struct dp_case {
	const char *name;
	enum prog prog;
	enum ifid iface;
	struct frames_spec in;
	int verdict;
	struct expect out;
	struct delta deltas[MAX_DELTAS];
	void (*setup)(void);
	void (*teardown)(void);
	bool (*check)(char *diag, size_t len); /* after the run, e.g. the FDB */
	enum inject inject;
	/* What frames.h cannot describe: edits the built frame, returns its new length. */
	size_t (*mangle)(uint8_t *frame, size_t len);
};

/* ---- setups and checks ---- */

static void config_no_tunnel_addr(void)
{
	struct mx_config cfg = config_default();

	cfg.tunnel_addr = 0;
	mx_config_set(dp, &cfg);
}

static void config_restore(void)
{
	struct mx_config cfg = config_default();

	mx_config_set(dp, &cfg);
}

static bool fdb_is(const uint8_t *mac, __u32 port, __u32 flags, __u64 *seen, char *diag,
		   size_t len)
{
	struct mx_fdb_key k = { .bridge_key = B1 };
	struct mx_fdb_entry v;

	memcpy(k.mac, mac, 6);
	if (mx_fdb_lookup(dp, &k, &v)) {
		snprintf(diag, len, "no fdb entry");
		return false;
	}
	if (seen)
		*seen = v.seen_ns;
	if (v.port_key != port || v.flags != flags) {
		snprintf(diag, len, "fdb entry port %u flags %#x, want port %u flags %#x", v.port_key,
			 v.flags, port, flags);
		return false;
	}
	return true;
}

static __u64 p1_seen_ns;

static bool check_learned_p1(char *diag, size_t len)
{
	return fdb_is(M_P1, P1, MX_FDB_LOCAL, &p1_seen_ns, diag, len) && p1_seen_ns != 0;
}

static bool check_learn_not_rewritten(char *diag, size_t len)
{
	__u64 seen;

	if (!fdb_is(M_P1, P1, MX_FDB_LOCAL, &seen, diag, len))
		return false;
	if (seen != p1_seen_ns) {
		snprintf(diag, len, "entry rewritten within a second (seen_ns changed)");
		return false;
	}
	return true;
}

static bool check_static_kept(char *diag, size_t len)
{
	return fdb_is(M_P2, P2, MX_FDB_STATIC, NULL, diag, len);
}

static bool check_moved(char *diag, size_t len)
{
	return fdb_is(M_MOVE, P1, MX_FDB_LOCAL, NULL, diag, len);
}

static bool check_learned_flood(char *diag, size_t len)
{
	return fdb_is(M_FL, P1, MX_FDB_LOCAL, NULL, diag, len);
}

/* Port security rows: PS with one of its two locks only, then both again. */
static void locked_mac_only(void)
{
	put_port_locked(MX_PORT_FIXED_MAC);
}

static void locked_ip_only(void)
{
	put_port_locked(MX_PORT_FIXED_IP);
}

static void locked_restore(void)
{
	put_port_locked(MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP);
}

/* Admin state: a port (or its device) set down. */
static void ps_down(void)
{
	put_port_locked(MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP | MX_PORT_ADMIN_DOWN);
}

static void p1_device_down(void)
{
	put_port(P1, B1, MX_PORT_LOCAL | MX_PORT_DEVICE_DOWN, ifx[IF_P1], NULL);
}

static void p1_up(void)
{
	put_port(P1, B1, MX_PORT_LOCAL, ifx[IF_P1], NULL);
}

static void p2_down(void)
{
	put_port(P2, B1, MX_PORT_LOCAL | MX_PORT_ADMIN_DOWN, ifx[IF_P2], NULL);
}

static void p2_up(void)
{
	put_port(P2, B1, MX_PORT_LOCAL, ifx[IF_P2], NULL);
}

/* Allowed address pairs of PS: PAIR_ADDR from its own MAC, PAIR_MAC_ADDR from M_FL. */
#define PAIR_ADDR "10.1.0.9"
#define PAIR_MAC_ADDR "10.1.0.8"

static void put_pair(const char *addr, const uint8_t *mac)
{
	struct mx_allowed_key k = { .port_key = PS, .addr = frames_addr(addr) };
	struct mx_allowed v = { 0 };

	if (mac) {
		v.flags = MX_ALLOWED_MAC;
		memcpy(v.mac, mac, 6);
	}
	mx_allowed_update(dp, &k, &v);
}

static void pairs_add(void)
{
	put_pair(PAIR_ADDR, NULL);
	put_pair(PAIR_MAC_ADDR, M_FL);
}

static void pairs_remove(void)
{
	struct mx_allowed_key k = { .port_key = PS, .addr = frames_addr(PAIR_ADDR) };

	mx_allowed_delete(dp, &k);
	k.addr = frames_addr(PAIR_MAC_ADDR);
	mx_allowed_delete(dp, &k);
}

static bool check_spoof_not_learned(char *diag, size_t len)
{
	struct mx_fdb_key k = { .bridge_key = B1 };
	struct mx_fdb_entry v;

	memcpy(k.mac, M_SPOOF, 6);
	if (mx_fdb_lookup(dp, &k, &v) != -ENOENT) {
		snprintf(diag, len, "spoofed MAC learned (port %u)", v.port_key);
		return false;
	}
	return fdb_is(M_PS, PS, MX_FDB_STATIC, NULL, diag, len);
}

/* ARP sender hardware address (sha) other than the Ethernet source. */
static size_t arp_sha_spoofed(uint8_t *frame, size_t len)
{
	memcpy(frame + 14 + 8, M_SPOOF, 6);
	return len;
}

/* An 802.1Q tag (VLAN 7) between the Ethernet addresses and the EtherType. */
static size_t vlan_tagged(uint8_t *frame, size_t len)
{
	memmove(frame + 16, frame + 12, len - 12);
	frames_put16(frame + 12, 0x8100);
	frames_put16(frame + 14, 7);
	return len + 4;
}

/* ---- the table ---- */

#define UDP4(d, s) { .kind = FRAMES_IPV4, .dst = (d), .src = (s), .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 18 }
#define ARPREQ(s, sip_, tip_) { .kind = FRAMES_ARP, .dst = BCAST, .src = (s), .sip = (sip_), .tip = (tip_) }
#define VXLAN_FROM(src_, vni_, d) { .kind = FRAMES_IPV4, .dst = (d), .src = M_R, .sip = "10.1.0.3", \
	.tip = "10.1.0.2", .payload = 18, .vxlan = true, .osrc = (src_), .odst = LOCAL_ADDR, .vni = (vni_) }
#define VXLAN(vni_, d) VXLAN_FROM(PEER_ADDR, vni_, d)
/* An ARP request (sender sip_, target tip_) broadcast by the peer host in VXLAN. */
#define VXLAN_ARPREQ(vni_, sip_, tip_) { .kind = FRAMES_ARP, .dst = BCAST, .src = M_R, \
	.sip = (sip_), .tip = (tip_), .vxlan = true, .osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = (vni_) }
/* From the locked port PS: source MAC s, source address sip_ (UDP to P2). */
#define PS_UDP(s, sip_) { .kind = FRAMES_IPV4, .dst = M_P2, .src = (s), .sip = (sip_), .tip = "10.1.0.2", .payload = 18 }
#define PS_DHCP(sport_, dport_) { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_PS, .sip = "0.0.0.0", \
	.tip = "255.255.255.255", .sport = (sport_), .dport = (dport_), .payload = 240 }
#define TRUNC_UDP { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .cut = 14 + 20 + 4 }
#define TRUNC_VXLAN { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, \
	.osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = P2, .cut = 14 + 20 + 8 + 4 }

/* Rows are positional for readability; the fields left out are zero on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct dp_case cases[] = {
	/* port_ingress: forwarding */
	{ "local unicast redirected to the port's interface", PORT, IF_P1, UDP4(M_P2, M_P1),
	  TC_ACT_REDIRECT, { EXP_SAME }, { RX(P1, 1), TX(P2, 1) } },
	{ "source MAC learned on the local port (MX_FDB_LOCAL)", PORT, IF_P1, UDP4(M_P2, M_P1),
	  TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1) }, .check = check_learned_p1 },
	{ "learned entry not rewritten within a second", PORT, IF_P1, UDP4(M_P2, M_P1),
	  TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1) }, .check = check_learn_not_rewritten },
	{ "static FDB entry never overwritten by learning", PORT, IF_P1, UDP4(BCAST, M_P2),
	  TC_ACT_STOLEN, { EXP_NONE }, { TX(P2, 1) }, .check = check_static_kept },
	{ "remote entry replaced when the MAC shows up locally", PORT, IF_P1, UDP4(BCAST, M_MOVE),
	  TC_ACT_STOLEN, { EXP_NONE }, { TX(P2, 1) }, .check = check_moved },
	{ "remote unicast encapsulated: VNI = port key, outer from fib", PORT, IF_P1,
	  UDP4(M_R, M_P1), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR },
	  { RX(P1, 1), TX(PR, 1) } },
	{ "remote unicast of a non-IP frame (ARP reply) encapsulated", PORT, IF_P1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_R, .src = M_P1, .sip = "10.1.0.1",
	    .tip = "10.1.0.3" },
	  TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR }, { TX(PR, 1) } },
	{ "ARP request for a known address answered in place", PORT, IF_P1,
	  ARPREQ(M_P1, "10.1.0.1", "10.1.0.2"), TC_ACT_REDIRECT, { EXP_ARP_REPLY, M_P2 },
	  { RX(P1, 1), TX(P1, 1), TX(P2, 0), TX(B1, 0) } },
	{ "ARP request for an unknown address flooded", PORT, IF_P1,
	  ARPREQ(M_P1, "10.1.0.1", "10.1.0.9"), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P1, 0), TX(P2, 1), TX(B1, 1) } },
	{ "gratuitous ARP flooded, not answered", PORT, IF_P1,
	  ARPREQ(M_P1, "10.1.0.2", "10.1.0.2"), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P1, 0), TX(P2, 1), TX(B1, 1) } },
	{ "broadcast flooded to local ports and remote hosts, source learned", PORT, IF_P1,
	  UDP4(BCAST, M_FL), TC_ACT_STOLEN, { EXP_NONE }, { TX(P1, 0), TX(P2, 1), TX(B1, 1) },
	  .check = check_learned_flood },
	{ "multicast flooded", PORT, IF_P1, UDP4(M_MCAST, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P2, 1), TX(B1, 1) } },
	{ "unknown unicast flooded", PORT, IF_P1, UDP4(M_UNK, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P2, 1), TX(B1, 1) } },
	{ "flood stays in its bridge", PORT, IF_P3, UDP4(BCAST, M_P3), TC_ACT_STOLEN, { EXP_NONE },
	  { RX(P3, 1), TX(P1, 0), TX(P2, 0), TX(B1, 0) } },
	/* port_ingress: drops */
	{ "cross-bridge destination dropped", PORT, IF_P1, UDP4(M_B2, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_CROSS_BRIDGE), TX(P3R, 0) } },
	{ "hairpin dropped", PORT, IF_P1, UDP4(M_HP, M_P1), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_HAIRPIN) } },
	{ "destination port bound nowhere dropped", PORT, IF_P1, UDP4(M_U, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_PORT_UNBOUND) } },
	{ "interface that is no port dropped", PORT, IF_P4, UDP4(M_P2, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(HOST, MX_DROP_NO_PORT), TX(P2, 0) } },
	{ "no tunnel address: remote unicast dropped", PORT, IF_P1, UDP4(M_R, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_NO_TUNNEL_ADDR), TX(PR, 0) }, config_no_tunnel_addr,
	  config_restore },
	{ "underlay neighbour missing dropped", PORT, IF_P1, UDP4(M_N, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_UNDERLAY_NEIGH) } },
	{ "underlay route missing dropped", PORT, IF_P1, UDP4(M_X, M_P1), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_UNDERLAY_ROUTE) } },
	{ "encapsulated frame over the underlay MTU dropped", PORT, IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_R, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.2",
	    .payload = 1472 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(P1, MX_DROP_UNDERLAY_MTU) } },
	{ "multicast source MAC dropped", PORT, IF_P1, UDP4(M_P2, M_MCAST), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_SRC_MAC_INVALID), TX(P2, 0) } },
	{ "zero source MAC dropped", PORT, IF_P1, UDP4(M_P2, M_ZERO), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_SRC_MAC_INVALID) } },
	/* port security: PS has a fixed MAC and a fixed address; P1 neither */
	{ "port security: own MAC and address forwarded", PORT, IF_P5, PS_UDP(M_PS, PS_ADDR),
	  TC_ACT_REDIRECT, { EXP_SAME }, { RX(PS, 1), TX(P2, 1), DROPS(PS, MX_DROP_SPOOF_MAC, 0),
	  DROPS(PS, MX_DROP_SPOOF_IP, 0) } },
	{ "port security: spoofed source MAC dropped, never learned", PORT, IF_P5,
	  PS_UDP(M_SPOOF, PS_ADDR), TC_ACT_SHOT, { EXP_NONE },
	  { RX(PS, 1), DROP(PS, MX_DROP_SPOOF_MAC), TX(P2, 0) }, .check = check_spoof_not_learned },
	{ "port security: spoofed source MAC flooding dropped", PORT, IF_P5,
	  UDP4(BCAST, M_SPOOF), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_MAC), TX(P2, 0), TX(B1, 0) }, .check = check_spoof_not_learned },
	{ "port security: spoofed source address dropped", PORT, IF_P5, PS_UDP(M_PS, "10.1.0.9"),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0) } },
	{ "port security: another port's address dropped", PORT, IF_P5, PS_UDP(M_PS, "10.1.0.2"),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0) } },
	{ "port security: DHCP discover from 0.0.0.0 flooded", PORT, IF_P5, PS_DHCP(68, 67),
	  TC_ACT_STOLEN, { EXP_NONE }, { TX(P1, 1), TX(P2, 1), TX(B1, 1),
	  DROPS(PS, MX_DROP_SPOOF_IP, 0) } },
	{ "port security: 0.0.0.0 other than a DHCP client dropped", PORT, IF_P5, PS_DHCP(67, 68),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0), TX(B1, 0) } },
	{ "port security: ARP request from the own binding answered", PORT, IF_P5,
	  ARPREQ(M_PS, PS_ADDR, "10.1.0.2"), TC_ACT_REDIRECT, { EXP_ARP_REPLY, M_P2 },
	  { TX(PS, 1), DROPS(PS, MX_DROP_SPOOF_IP, 0) } },
	{ "port security: ARP probe from 0.0.0.0 flooded", PORT, IF_P5,
	  ARPREQ(M_PS, "0.0.0.0", PS_ADDR), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P2, 1), TX(B1, 1), DROPS(PS, MX_DROP_SPOOF_IP, 0) } },
	{ "port security: ARP claiming another address dropped, not answered", PORT, IF_P5,
	  ARPREQ(M_PS, "10.1.0.9", "10.1.0.2"), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_IP), TX(PS, 0), TX(P2, 0) } },
	{ "port security: gratuitous ARP for another port's address dropped", PORT, IF_P5,
	  ARPREQ(M_PS, "10.1.0.2", "10.1.0.2"), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0), TX(B1, 0) } },
	{ "port security: ARP sender MAC not the port's dropped", PORT, IF_P5,
	  ARPREQ(M_PS, PS_ADDR, "10.1.0.9"), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_MAC), TX(P2, 0) }, .mangle = arp_sha_spoofed },
	{ "a VLAN-tagged frame from a locked port is dropped", PORT, IF_P5,
	  PS_UDP(M_PS, PS_ADDR), TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_VLAN_TAGGED) },
	  .mangle = vlan_tagged },
	{ "a VLAN-tagged frame from any VM port is dropped (access ports)", PORT, IF_P1,
	  UDP4(M_P2, M_P1), TC_ACT_SHOT, { EXP_NONE }, { DROP(P1, MX_DROP_VLAN_TAGGED), TX(P2, 0) },
	  .mangle = vlan_tagged },
	{ "port security: truncated IPv4 (real frame from the VM) dropped", PORT, IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PS, .cut = 14 + 10 }, TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(PS, MX_DROP_IP_TRUNCATED), TX(P2, 0) }, .inject = INJ_WIRE },
	{ "port security: IPv6 forwarded (no IPv6 address to hold it to)", PORT, IF_P5,
	  { .kind = FRAMES_IPV6, .dst = M_P2, .src = M_PS }, TC_ACT_REDIRECT, { EXP_SAME },
	  { TX(P2, 1) } },
	{ "port security, fixed MAC only: any source address forwarded", PORT, IF_P5,
	  PS_UDP(M_PS, "10.1.0.9"), TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1) },
	  locked_mac_only, locked_restore },
	{ "port security, fixed MAC only: spoofed source MAC dropped", PORT, IF_P5,
	  PS_UDP(M_SPOOF, "10.1.0.9"), TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_MAC) },
	  locked_mac_only, locked_restore, .check = check_spoof_not_learned },
	{ "port security, fixed address only: any source MAC forwarded", PORT, IF_P5,
	  PS_UDP(M_FL, PS_ADDR), TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1) }, locked_ip_only,
	  locked_restore },
	{ "port security, fixed address only: spoofed source address dropped", PORT, IF_P5,
	  PS_UDP(M_FL, "10.1.0.9"), TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_IP) },
	  locked_ip_only, locked_restore },
	{ "port security, fixed address only: ARP binding another MAC dropped", PORT, IF_P5,
	  ARPREQ(M_FL, PS_ADDR, "10.1.0.9"), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_IP) }, locked_ip_only, locked_restore,
	  .mangle = arp_sha_spoofed },
	/* allowed address pairs of PS */
	{ "allowed address from the port's MAC forwarded", PORT, IF_P5, PS_UDP(M_PS, PAIR_ADDR),
	  TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1), DROPS(PS, MX_DROP_SPOOF_IP, 0) },
	  pairs_add, pairs_remove },
	{ "allowed address with its own MAC forwarded", PORT, IF_P5, PS_UDP(M_FL, PAIR_MAC_ADDR),
	  TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1), DROPS(PS, MX_DROP_SPOOF_MAC, 0) },
	  pairs_add, pairs_remove },
	{ "allowed address from another MAC than its pair's dropped", PORT, IF_P5,
	  PS_UDP(M_PS, PAIR_MAC_ADDR), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0) }, pairs_add, pairs_remove },
	{ "a pair's MAC with another address dropped", PORT, IF_P5, PS_UDP(M_FL, PAIR_ADDR),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_MAC), TX(P2, 0) }, pairs_add,
	  pairs_remove },
	{ "ARP announcing an allowed pair flooded", PORT, IF_P5,
	  ARPREQ(M_FL, PAIR_MAC_ADDR, "10.1.0.77"), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P2, 1), DROPS(PS, MX_DROP_SPOOF_MAC, 0) }, pairs_add, pairs_remove },
	{ "allowed address gone: dropped again", PORT, IF_P5, PS_UDP(M_PS, PAIR_ADDR),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(PS, MX_DROP_SPOOF_IP), TX(P2, 0) } },
	/* admin state */
	{ "a port set down sends nothing", PORT, IF_P5, PS_UDP(M_PS, PS_ADDR), TC_ACT_SHOT,
	  { EXP_NONE }, { RX(PS, 1), DROP(PS, MX_DROP_ADMIN_DOWN), TX(P2, 0) }, ps_down,
	  locked_restore },
	{ "a port of a bridge set down sends nothing, floods nothing", PORT, IF_P1,
	  UDP4(BCAST, M_P1), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_ADMIN_DOWN), TX(P2, 0), TX(B1, 0) }, p1_device_down, p1_up },
	{ "unicast to a port set down dropped", PORT, IF_P1, UDP4(M_P2, M_P1), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(P1, MX_DROP_ADMIN_DOWN), TX(P2, 0) }, p2_down, p2_up },
	{ "VXLAN to a port set down dropped on that port", UNDERLAY, IF_UL, VXLAN(P2, M_P2),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(P2, MX_DROP_ADMIN_DOWN), TX(P2, 0) }, p2_down, p2_up },
	{ "no port security: any source MAC and address forwarded", PORT, IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_FREE, .sip = "10.1.0.9", .tip = "10.1.0.2",
	    .payload = 18 },
	  TC_ACT_REDIRECT, { EXP_SAME }, { TX(P2, 1), DROPS(P1, MX_DROP_SPOOF_MAC, 0),
	  DROPS(P1, MX_DROP_SPOOF_IP, 0) } },
	/* underlay_ingress: the host's own traffic */
	{ "underlay ARP passes untouched", UNDERLAY, IF_UL, ARPREQ(PEER_MAC, PEER_ADDR, LOCAL_ADDR),
	  TC_ACT_OK, { EXP_SAME }, { RX(HOST, 0) } },
	{ "underlay TCP passes untouched", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = UL_MAC, .src = PEER_MAC, .sip = PEER_ADDR,
	    .tip = LOCAL_ADDR },
	  TC_ACT_OK, { EXP_SAME }, { RX(HOST, 0) } },
	{ "underlay UDP to another port passes untouched", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .sip = PEER_ADDR, .tip = LOCAL_ADDR,
	    .dport = 53, .payload = 20 },
	  TC_ACT_OK, { EXP_SAME }, { RX(HOST, 0) } },
	{ "underlay IPv6 passes untouched", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV6, .dst = UL_MAC, .src = PEER_MAC }, TC_ACT_OK, { EXP_SAME } },
	{ "underlay non-first UDP fragment passes untouched", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .sip = PEER_ADDR, .tip = LOCAL_ADDR,
	    .dport = 4789, .frag_off = 185, .payload = 20 },
	  TC_ACT_OK, { EXP_SAME } },
	/* underlay_ingress: delivery */
	{ "VXLAN to a local port's VNI decapsulated to that port", UNDERLAY, IF_UL, VXLAN(P2, M_P2),
	  TC_ACT_REDIRECT, { EXP_DECAP }, { RX(HOST, 1), TX(P2, 1), TX(P1, 0) } },
	{ "VXLAN carrying ARP decapsulated to the port", UNDERLAY, IF_UL,
	  { .kind = FRAMES_ARP, .dst = BCAST, .src = M_R, .sip = "10.1.0.3", .tip = "10.1.0.1",
	    .vxlan = true, .osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = P1 },
	  TC_ACT_REDIRECT, { EXP_DECAP }, { TX(P1, 1), TX(P2, 0) } },
	{ "VXLAN with a bridge VNI delivered to the bridge's local ports", UNDERLAY, IF_UL,
	  VXLAN(B1, BCAST), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P1, 1), TX(P2, 1), TX(P3, 0), TX(B1, 0) } },
	{ "VXLAN with the other bridge's VNI stays in that bridge", UNDERLAY, IF_UL,
	  VXLAN(B2, BCAST), TC_ACT_STOLEN, { EXP_NONE }, { TX(P3, 1), TX(P1, 0), TX(P2, 0) } },
	/* underlay_ingress: drops */
	{ "VXLAN with a remote port's VNI dropped", UNDERLAY, IF_UL, VXLAN(PR, M_R), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(HOST, MX_DROP_VXLAN_UNKNOWN_VNI) } },
	{ "VXLAN with an unknown VNI dropped", UNDERLAY, IF_UL, VXLAN(999, M_P2), TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(HOST, MX_DROP_VXLAN_UNKNOWN_VNI), TX(P2, 0) } },
	{ "VXLAN from a non-member dropped", UNDERLAY, IF_UL, VXLAN_FROM("10.0.0.9", P2, M_P2),
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_TUNNEL_NOT_MEMBER), TX(P2, 0) } },
	{ "VXLAN to another host's address dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = "10.0.0.7", .vni = P2 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_TUNNEL_NOT_LOCAL) } },
	{ "VXLAN without the I flag dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .vx_flags = FRAMES_VX_NO_I },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_VXLAN_FLAGS) } },
	{ "outer IPv4 fragment dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .frag_off = 0x2000 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_IP_FRAGMENT) } },
	{ "truncated Ethernet (10 bytes, redirected into ingress) dropped", PORT, IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .cut = 10 }, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_ETH_TRUNCATED), RX(P1, 1) }, .inject = INJ_REDIRECT },
	{ "truncated IPv4 (real frame from the wire) dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .cut = 14 + 10 }, TC_ACT_SHOT,
	  { EXP_NONE }, { DROP(HOST, MX_DROP_IP_TRUNCATED) }, .inject = INJ_WIRE },
	{ "IPv4 IHL below 5 dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .ihl = 4, .payload = 20 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_IP_BAD_IHL) } },
	{ "IPv4 IHL beyond the frame dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .ihl = 15, .cut = 14 + 40 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_IP_BAD_IHL) } },
	{ "truncated UDP dropped", UNDERLAY, IF_UL, TRUNC_UDP, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(HOST, MX_DROP_UDP_TRUNCATED) } },
	{ "truncated UDP (real frame from the wire) dropped", UNDERLAY, IF_UL, TRUNC_UDP,
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_UDP_TRUNCATED) }, .inject = INJ_WIRE },
	{ "truncated VXLAN header dropped", UNDERLAY, IF_UL, TRUNC_VXLAN, TC_ACT_SHOT, { EXP_NONE },
	  { DROP(HOST, MX_DROP_VXLAN_TRUNCATED) } },
	{ "truncated VXLAN header (real frame from the wire) dropped", UNDERLAY, IF_UL,
	  TRUNC_VXLAN, TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_VXLAN_TRUNCATED) },
	  .inject = INJ_WIRE },
	{ "VXLAN without an inner Ethernet header dropped", UNDERLAY, IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .cut = 50 + 6 },
	  TC_ACT_SHOT, { EXP_NONE }, { DROP(HOST, MX_DROP_VXLAN_TRUNCATED) } },
};
#pragma GCC diagnostic pop

/* ---- running one row ---- */

/* The expected encapsulation of in: headers built here byte by byte, the UDP source port
 * taken from out after checking its range. */
static size_t expect_encap(const struct expect *e, const uint8_t *in, size_t in_len,
			   const uint8_t *out, uint8_t *exp)
{
	return frames_encap(exp, e->mac, UL_MAC, frames_addr(LOCAL_ADDR), frames_addr(e->odst),
			    out + 34, e->vni, in, in_len);
}

static bool encap_sport_ok(const uint8_t *out, size_t out_len, char *diag, size_t len)
{
	unsigned int sport = out_len >= 36 ? (unsigned int)out[34] << 8 | out[35] : 0;

	if (sport < 49152) {
		snprintf(diag, len, "outer UDP source port %u outside 49152..65535", sport);
		return false;
	}
	if (frames_csum(out + 14, 20) != 0) {
		snprintf(diag, len, "outer IPv4 header checksum invalid");
		return false;
	}
	return true;
}

/* ARP reply to the request in: from e->mac to the requester. */
static size_t expect_arp_reply(const struct expect *e, const uint8_t *in, uint8_t *exp)
{
	uint32_t spa, tpa;

	memcpy(&spa, in + 28, 4);
	memcpy(&tpa, in + 38, 4);
	frames_eth(exp, in + 6, e->mac, 0x0806);
	return 14 + frames_arp(exp + 14, 2, e->mac, tpa, in + 22, spa);
}

static size_t expect_build(const struct expect *e, const uint8_t *in, size_t in_len,
			   const uint8_t *out, uint8_t *exp)
{
	switch (e->kind) {
	case EXP_SAME:
		memcpy(exp, in, in_len);
		return in_len;
	case EXP_ARP_REPLY:
		return expect_arp_reply(e, in, exp);
	case EXP_ENCAP:
		return expect_encap(e, in, in_len, out, exp);
	case EXP_DECAP:
		memcpy(exp, in + FRAMES_VXLAN_OVERHEAD, in_len - FRAMES_VXLAN_OVERHEAD);
		return in_len - FRAMES_VXLAN_OVERHEAD;
	default:
		return 0;
	}
}

static bool output_check(const struct expect *e, const uint8_t *in, size_t in_len,
			 const uint8_t *out, size_t out_len, char *diag, size_t len)
{
	uint8_t exp[FRAMES_MAX + 64];
	size_t exp_len;

	if (e->kind == EXP_NONE)
		return true;
	if (e->kind == EXP_ENCAP && !encap_sport_ok(out, out_len, diag, len))
		return false;
	exp_len = expect_build(e, in, in_len, out, exp);
	return frames_same(exp, exp_len, out, out_len, diag, len);
}

static int prog_run(enum prog prog, enum ifid iface, const uint8_t *in, size_t in_len,
		    uint8_t *out, size_t *out_len, int *verdict)
{
	int fd = prog == PORT ? mx_datapath_port_prog_fd(dp) : mx_datapath_underlay_prog_fd(dp);

	return dp_test_run(fd, ifx[iface], in, in_len, out, out_len, verdict);
}

static bool deltas_wait(const struct dp_case *c, const __u64 *before)
{
	char diag[160];

	for (int i = 0; i < 100; i++) {
		if (deltas_check(dp, c->deltas, before, diag, sizeof(diag)))
			return true;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return false;
}

/* The row's frame for real, its program attached to its interface meanwhile; the frame is
 * normally counted before the send returns (veth_xmit and netif_rx run the receive path
 * on the way out), the counters are polled for a second all the same. */
static int inject_run(const struct dp_case *c, const uint8_t *in, size_t in_len,
		      const __u64 *before)
{
	int ifindex = ifx[c->iface], err;
	char peer[IF_NAMESIZE + 1];

	snprintf(peer, sizeof(peer), "%sv", if_names[c->iface]);
	err = c->prog == PORT ? mx_attach_port(dp, ifindex) : mx_attach_underlay(dp, ifindex);
	if (err)
		return err;
	err = c->inject == INJ_WIRE ? dp_wire_send(peer, in, in_len) :
				      dp_ingress_inject(ifindex, in, in_len);
	if (!err)
		deltas_wait(c, before);
	mx_detach(ifindex);
	return err;
}

/* The kernel's NET_RX_DROP (include/linux/netdevice.h, not in the uapi headers). */
#define DP_NET_RX_DROP 1

/* Whether none of the counters of d moved since before. */
static bool counters_still(const struct delta *d, const __u64 *before, char *diag, size_t len)
{
	for (int i = 0; i < MAX_DELTAS && d[i].set; i++) {
		__u64 now = counter_read(dp, d[i].key, d[i].counter);

		if (now != before[i]) {
			snprintf(diag, len, "key %u %s moved by %llu", d[i].key,
				 counter_name(d[i].counter), (unsigned long long)(now - before[i]));
			return false;
		}
	}
	return true;
}

static void case_run(const struct dp_case *c)
{
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 64];
	size_t in_len = frames_build(&c->in, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	__u64 before[MAX_DELTAS] = { 0 };
	char diag[256] = "";
	int verdict = 0, err;
	bool ok;

	if (c->mangle)
		in_len = c->mangle(in, in_len);

	deltas_before(dp, c->deltas, before);
	if (c->setup)
		c->setup();
	if (c->inject)
		err = inject_run(c, in, in_len, before);
	else
		err = prog_run(c->prog, c->iface, in, in_len, out, &out_len, &verdict);
	if (c->teardown)
		c->teardown();
	if (c->inject == INJ_REDIRECT && err == DP_NET_RX_DROP) {
		ok = counters_still(c->deltas, before, diag, sizeof(diag));
		if (!tap_check(ok, diag, "%s (this kernel refuses to forward it into ingress: "
				  "it never reaches the program, nothing counted)", c->name))
			drops_print(dp, c->deltas);
		return;
	}
	if (err)
		snprintf(diag, sizeof(diag), "%s: %s",
			 c->inject ? "injecting the frame" : "BPF_PROG_TEST_RUN", strerror(-err));
	else if (!c->inject && verdict != c->verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", verdict, c->verdict);
	ok = !err && (c->inject || verdict == c->verdict) &&
	     (c->inject || output_check(&c->out, in, in_len, out, out_len, diag, sizeof(diag))) &&
	     deltas_check(dp, c->deltas, before, diag, sizeof(diag)) &&
	     (!c->check || c->check(diag, sizeof(diag)));
	if (!tap_check(ok, diag, "%s", c->name))
		drops_print(dp, c->deltas);
}

/* ---- tests of the loader itself ---- */

static bool file_has(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");
	bool ok = f && fgets(buf, sizeof(buf), f) && strncmp(buf, want, strlen(want)) == 0;

	if (f)
		fclose(f);
	return ok;
}

/* Attach, replace in place, detach: one filter at most, the clsact qdisc left alone. */
static void test_attach_port(void)
{
	int ifindex = ifx[IF_P4];
	const char *diag = "";

	if (mx_attached(ifindex))
		diag = "attached before attaching";
	else if (mx_attach_port(dp, ifindex) || !mx_attached(ifindex))
		diag = "mx_attach_port failed";
	else if (mx_attach_port(dp, ifindex))
		diag = "replacing the filter failed";
	else if (dp_sh("[ $(tc filter show dev p4 ingress | grep -c direct-action) = 1 ]"))
		diag = "not exactly one filter after replacing";
	else if (mx_detach(ifindex) || mx_attached(ifindex))
		diag = "mx_detach failed";
	else if (mx_detach(ifindex) != -ENOENT)
		diag = "second mx_detach did not say -ENOENT";
	else if (dp_sh("tc qdisc show dev p4 | grep -q clsact"))
		diag = "clsact removed";
	tap_check(!*diag, diag, "port program attached, replaced and detached at tc ingress");
}

static void test_attach_underlay(void)
{
	const char *diag = "";

	if (mx_attach_underlay(dp, ifx[IF_UL]) || !mx_attached(ifx[IF_UL]))
		diag = "mx_attach_underlay failed";
	else if (!file_has("/proc/sys/net/ipv4/conf/ul0/forwarding", "1"))
		diag = "IPv4 forwarding not enabled on the underlay";
	else if (mx_detach(ifx[IF_UL]) || mx_attached(ifx[IF_UL]))
		diag = "mx_detach failed"; /* the rows that inject frames attach for themselves */
	tap_check(!*diag, diag, "underlay program attached, forwarding enabled on the underlay");
}

/* underlay_xdp on an interface (p4 here): attached, found ours (the loader reads the link's
 * XDP program id itself, with no dump of every link: checked against libbpf's query),
 * attached again as a no-op, detached; another XDP program is refused and left. */
static void test_attach_underlay_xdp(void)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int ifindex = ifx[IF_P4], other = -1;
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), id = 0;
	const char *diag = "";

	if (mx_underlay_xdp_attached(ifindex))
		diag = "underlay_xdp found before attaching";
	else if (mx_attach_underlay_xdp(dp, ifindex) || !mx_underlay_xdp_attached(ifindex))
		diag = "mx_attach_underlay_xdp failed";
	else if (bpf_obj_get_info_by_fd(mx_datapath_underlay_xdp_prog_fd(dp), &info, &len) ||
		 bpf_xdp_query_id(ifindex, 0, &id) || id != info.id)
		diag = "libbpf's query names another program than the one attached";
	else if (mx_attach_underlay_xdp(dp, ifindex) || !mx_underlay_xdp_attached(ifindex))
		diag = "attaching again failed";
	else if (mx_detach_underlay_xdp(ifindex) || mx_underlay_xdp_attached(ifindex) ||
		 bpf_xdp_query_id(ifindex, 0, &id) || id)
		diag = "mx_detach_underlay_xdp failed";
	else if ((other = bpf_prog_load(BPF_PROG_TYPE_XDP, "other_xdp", "GPL", pass, 2, NULL)) < 0 ||
		 bpf_xdp_attach(ifindex, other, 0, NULL))
		diag = "cannot attach another XDP program";
	else if (mx_attach_underlay_xdp(dp, ifindex) != -EBUSY)
		diag = "another XDP program was not refused (-EBUSY)";
	else if (mx_underlay_xdp_attached(ifindex) || mx_detach_underlay_xdp(ifindex) != -ENOENT)
		diag = "another XDP program taken for underlay_xdp";
	else if (bpf_xdp_query_id(ifindex, 0, &id) || !id || id == info.id)
		diag = "the other XDP program did not stay";
	if (other >= 0) {
		bpf_xdp_detach(ifindex, 0, NULL);
		close(other);
	}
	tap_check(!*diag, diag, "underlay_xdp attached, found by its id, detached; another XDP program left alone");
}

static void fdb_kv(uint8_t last, __u32 port, __u32 flags, struct mx_fdb_key *k,
		   struct mx_fdb_entry *v)
{
	*k = (struct mx_fdb_key){ .bridge_key = B1, .mac = { 0x02, 0, 0, 0, 0x0c, last } };
	*v = (struct mx_fdb_entry){ .port_key = port, .flags = flags };
}

static bool keep_local(const void *key, const void *value, void *ctx)
{
	(void)key;
	(void)ctx;
	return ((const struct mx_fdb_entry *)value)->flags & MX_FDB_LOCAL;
}

static int count_entry(const void *key, const void *value, void *ctx)
{
	(void)key;
	(void)value;
	++*(int *)ctx;
	return 0;
}

static int stop_walk(const void *key, const void *value, void *ctx)
{
	(void)key;
	(void)value;
	(void)ctx;
	return 7;
}

/* On a datapath of its own: learned A kept, stale B removed, C changed, D added. */
static void test_map_sync(void)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	struct mx_fdb_key k[4], want_k[2];
	struct mx_fdb_entry v[4], want_v[2];
	struct mx_sync_result r = { 0 }, r2 = { 0 };
	struct mx_datapath *dp2;
	char diag[160] = "";
	int n = 0;

	if (mx_datapath_open(&opts, &dp2)) {
		tap_check(false, "open", "mx_map_sync reconciles a map, keep() protects entries");
		return;
	}
	fdb_kv(0xa, P1, MX_FDB_LOCAL, &k[0], &v[0]);
	fdb_kv(0xb, P2, MX_FDB_STATIC, &k[1], &v[1]);
	fdb_kv(0xc, P2, MX_FDB_STATIC, &k[2], &v[2]);
	fdb_kv(0xc, PR, MX_FDB_REMOTE, &want_k[0], &want_v[0]);
	fdb_kv(0xd, PR, MX_FDB_REMOTE, &want_k[1], &want_v[1]);
	for (int i = 0; i < 3; i++)
		mx_fdb_update(dp2, &k[i], &v[i]);
	if (mx_map_sync(dp2, MX_MAP_ID_FDB, want_k, want_v, 2, keep_local, NULL, &r) ||
	    r.added != 1 || r.changed != 1 || r.removed != 1)
		snprintf(diag, sizeof(diag), "added %u changed %u removed %u, want 1 1 1", r.added,
			 r.changed, r.removed);
	else if (mx_map_sync(dp2, MX_MAP_ID_FDB, want_k, want_v, 2, keep_local, NULL, &r2) ||
		 r2.added + r2.changed + r2.removed)
		snprintf(diag, sizeof(diag), "second sync not a no-op");
	else if (mx_map_walk(dp2, MX_MAP_ID_FDB, count_entry, &n) || n != 3)
		snprintf(diag, sizeof(diag), "walk saw %d entries, want 3", n);
	else if (mx_map_walk(dp2, MX_MAP_ID_FDB, stop_walk, NULL) != 7)
		snprintf(diag, sizeof(diag), "walk did not stop on a non-zero return");
	else if (mx_fdb_lookup(dp2, &k[0], &v[3]) || mx_fdb_lookup(dp2, &k[1], &v[3]) != -ENOENT)
		snprintf(diag, sizeof(diag), "learned entry gone or stale entry kept");
	mx_datapath_close(dp2);
	tap_check(!*diag, diag, "mx_map_sync reconciles a map, keep() protects entries");
}

/* Many entries, several system-call batches each way: 10000 added, every 7th changed and
 * every 3rd gone in the next sync, and what a walk sees afterwards. */
static void test_map_sync_batches(void)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	enum { N = 10000 };
	struct mx_fdb_key *k = calloc(N, sizeof(*k)), *k2 = calloc(N, sizeof(*k2));
	struct mx_fdb_entry *v = calloc(N, sizeof(*v)), *v2 = calloc(N, sizeof(*v2));
	struct mx_sync_result r = { 0 };
	size_t n2 = 0, changed = 0;
	struct mx_datapath *dp2 = NULL;
	char diag[160] = "";
	int n = 0;

	if (!k || !k2 || !v || !v2 || mx_datapath_open(&opts, &dp2)) {
		snprintf(diag, sizeof(diag), "setup");
		goto out;
	}
	for (int i = 0; i < N; i++) {
		fdb_kv(0, PR, MX_FDB_REMOTE, &k[i], &v[i]);
		k[i].mac[3] = 0x5b;
		k[i].mac[4] = (uint8_t)(i >> 8);
		k[i].mac[5] = (uint8_t)i;
	}
	if (mx_map_sync(dp2, MX_MAP_ID_FDB, k, v, N, NULL, NULL, &r) || r.added != N ||
	    r.changed || r.removed) {
		snprintf(diag, sizeof(diag), "first sync: added %u changed %u removed %u", r.added,
			 r.changed, r.removed);
		goto out;
	}
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			continue;
		k2[n2] = k[i];
		v2[n2] = v[i];
		if (i % 7 == 0) {
			v2[n2].port_key = P2;
			changed++;
		}
		n2++;
	}
	if (mx_map_sync(dp2, MX_MAP_ID_FDB, k2, v2, n2, NULL, NULL, &r) || r.added ||
	    r.changed != changed || r.removed != N - n2)
		snprintf(diag, sizeof(diag), "second sync: added %u changed %u removed %u, want 0 %zu %zu",
			 r.added, r.changed, r.removed, changed, N - n2);
	else if (mx_map_walk(dp2, MX_MAP_ID_FDB, count_entry, &n) || (size_t)n != n2)
		snprintf(diag, sizeof(diag), "walk saw %d entries, want %zu", n, n2);
	else if (mx_fdb_lookup(dp2, &k2[6], &v[0]) || memcmp(&v[0], &v2[6], sizeof(v[0])))
		snprintf(diag, sizeof(diag), "an entry differs from what was synced");
out:
	if (dp2)
		mx_datapath_close(dp2);
	free(k);
	free(k2);
	free(v);
	free(v2);
	tap_check(!*diag, diag, "mx_map_sync in batches: 10000 added, changed and removed by the thousand");
}

/* Pinned maps outlive the datapath that made them: a restarted agent keeps every entry. */
static void test_pinned_reuse(void)
{
	struct mx_port p = { .device_key = B1, .flags = MX_PORT_LOCAL, .ifindex = 7 }, got;
	struct mx_datapath_opts opts = { 0 };
	struct mx_datapath *a = NULL, *b = NULL;
	char root[128], path[192];
	const char *diag = "";

	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/%s", root, MX_MAP_PORT);
	opts.pin_root = root;
	if (mx_datapath_open(&opts, &a) || mx_port_update(a, 4242, &p))
		diag = "pinned open failed";
	else if (access(path, F_OK))
		diag = "midox_port_v2 not pinned under the pin root";
	mx_datapath_close(a);
	if (!*diag && mx_datapath_open(&opts, &b))
		diag = "reopening over existing pins failed";
	else if (!*diag && (mx_port_lookup(b, 4242, &got) || memcmp(&got, &p, sizeof(p))))
		diag = "entry lost across reopen";
	mx_datapath_close(b);
	pin_root_remove(root);
	tap_check(!*diag, diag, "pinned maps reused by a new datapath (restart keeps entries)");
}

/* An agent of an earlier tree left midox_ifport (port key only): the open removes that pin
 * and makes midox_ifport_v3 beside the others. */
static void test_retired_pin(void)
{
	struct mx_datapath_opts opts = { 0 };
	struct mx_datapath *a = NULL;
	char root[128], old_path[192], new_path[192];
	const char *diag = "";
	int fd;

	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-old-%d", (int)getpid());
	snprintf(old_path, sizeof(old_path), "%s/midox_ifport", root);
	snprintf(new_path, sizeof(new_path), "%s/%s", root, MX_MAP_IFPORT);
	opts.pin_root = root;
	fd = bpf_map_create(BPF_MAP_TYPE_HASH, "midox_ifport", 4, 8, 16, NULL);
	if (fd < 0 || mkdir(root, 0700) || bpf_obj_pin(fd, old_path))
		diag = "pinning a map of the earlier layout failed";
	else if (mx_datapath_open(&opts, &a))
		diag = "open over the earlier pin failed";
	else if (!access(old_path, F_OK))
		diag = "the earlier midox_ifport pin is still there";
	else if (access(new_path, F_OK))
		diag = "midox_ifport_v3 not pinned";
	mx_datapath_close(a);
	if (fd >= 0)
		close(fd);
	unlink(old_path);
	pin_root_remove(root);
	tap_check(!*diag, diag, "the pin of the earlier midox_ifport layout is removed at open");
}

/* An agent of an earlier tree left the scratch maps midox_chstate (152-byte values) and
 * midox_ctpass (112): the open removes both pins and makes their _v2 beside the others
 * (reusing them would fail: the values grew with the dynamic NAT rules that go on). */
static void test_retired_scratch_pins(void)
{
	static const struct { const char *old, *now; __u32 value_size; } pins[] = {
		{ "midox_chstate", MX_MAP_CHAIN_STATE, 152 },
		{ "midox_ctpass", MX_MAP_CT_PASS, 112 },
	};
	struct mx_datapath_opts opts = { 0 };
	struct mx_datapath *a = NULL;
	char root[128], path[2][192] = { "", "" }, new_path[192];
	const char *diag = "";
	int fd[2] = { -1, -1 };

	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-scratch-%d", (int)getpid());
	opts.pin_root = root;
	if (mkdir(root, 0700))
		diag = "making the pin root failed";
	for (int i = 0; i < 2 && !*diag; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", root, pins[i].old);
		fd[i] = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, pins[i].old, 4,
				       pins[i].value_size, 1, NULL);
		if (fd[i] < 0 || bpf_obj_pin(fd[i], path[i]))
			diag = "pinning a map of the earlier layout failed";
	}
	if (!*diag && mx_datapath_open(&opts, &a))
		diag = "open over the earlier pins failed";
	for (int i = 0; i < 2 && !*diag; i++) {
		snprintf(new_path, sizeof(new_path), "%s/%s", root, pins[i].now);
		if (!access(path[i], F_OK))
			diag = "an earlier scratch pin is still there";
		else if (access(new_path, F_OK))
			diag = "a _v2 scratch map not pinned";
	}
	mx_datapath_close(a);
	for (int i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		if (*path[i])
			unlink(path[i]);
	}
	pin_root_remove(root);
	tap_check(!*diag, diag, "the pins of the earlier midox_chstate and midox_ctpass are "
		  "removed at open, their _v2 made");
}

/* The frames of the cases above entered by P1: its rx is in its slot of midox_traffic
 * (the per-CPU array), none in its midox_stats entry, which holds its drops only. */
static void test_stats_slot_counted(void)
{
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_STATS), ncpu = libbpf_num_possible_cpus();
	struct mx_port_stats *h = calloc(ncpu > 0 ? ncpu : 1, sizeof(*h));
	struct mx_traffic t;
	__u32 key = P1;
	__u64 hash_rx = 0;

	if (h && !bpf_map_lookup_elem(fd, &key, h))
		for (int c = 0; c < ncpu; c++)
			hash_rx += h[c].rx_packets;
	free(h);
	tap_ok(!mx_traffic_read(dp, dp_slot_of(P1), &t) && t.rx_packets > 0 && hash_rx == 0,
	       "a port with a slot counts rx in midox_traffic, not in midox_stats");
}

/* mx_stats_read sums midox_stats[key] and midox_traffic[slot] over every CPU, each CPU with
 * a value of its own; mx_stats_read_all gives the same; a port without a slot reads
 * midox_stats alone. */
static void test_stats_sum(void)
{
	int ncpu = libbpf_num_possible_cpus(), sfd = mx_datapath_map_fd(dp, MX_MAP_ID_STATS),
	    tfd = mx_datapath_map_fd(dp, MX_MAP_ID_TRAFFIC);
	struct mx_port_stats *h = calloc(ncpu > 0 ? ncpu : 1, sizeof(*h)), s;
	struct mx_traffic *t = calloc(ncpu > 0 ? ncpu : 1, sizeof(*t));
	struct mx_port p = { .device_key = B1, .flags = MX_PORT_REMOTE, .stats_slot = 0 };
	struct mx_port_stats_entry *all = NULL;
	__u32 key = P1, slot = dp_slot_of(P1), bare = 4711;
	__u64 want_rx = 0, want_drops = 0;
	size_t n = 0;
	bool ok = h && t && !mx_stats_reset(dp);

	for (int c = 0; ok && c < ncpu; c++) {
		h[c].rx_packets = 100 * (__u64)(c + 1);
		h[c].drops[MX_DROP_HAIRPIN] = (__u64)c + 1;
		t[c].rx_packets = (__u64)c + 1;
		want_rx += 101 * (__u64)(c + 1);
		want_drops += (__u64)c + 1;
	}
	ok = ok && !bpf_map_update_elem(sfd, &key, h, BPF_ANY) &&
	     !bpf_map_update_elem(tfd, &slot, t, BPF_ANY) && !mx_stats_read(dp, P1, &s) &&
	     s.rx_packets == want_rx && s.drops[MX_DROP_HAIRPIN] == want_drops;
	tap_ok(ok, "a port's counters: its midox_stats entry and its slot, summed over %d CPUs", ncpu);
	ok = !mx_stats_read_all(dp, &all, &n);
	for (size_t i = 0; ok && i < n; i++)
		if (all[i].port_key == P1)
			ok = all[i].stats.rx_packets == want_rx &&
			     all[i].stats.drops[MX_DROP_HAIRPIN] == want_drops;
	tap_ok(ok && n == 1 && all[0].port_key == P1,
	       "mx_stats_read_all: one entry a key, with the same sums");
	free(all);
	ok = !mx_port_update(dp, bare, &p) && !bpf_map_update_elem(sfd, &bare, h, BPF_ANY) &&
	     !mx_stats_read(dp, bare, &s) && s.rx_packets == want_rx - want_rx / 101;
	mx_port_delete(dp, bare);
	tap_ok(ok, "a port without a slot: its midox_stats entry alone");
	free(h);
	free(t);
}

/* A pin of the earlier layout under root: name, key and value sizes, one entry. */
static int old_pin(const char *root, const char *name, __u32 key_size, __u32 value_size,
		   const void *key, const void *value)
{
	char path[192];
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, name, key_size, value_size, 16, NULL), err;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	err = fd < 0 ? fd : bpf_obj_pin(fd, path) ? -errno : bpf_map_update_elem(fd, key, value, BPF_ANY);
	if (fd >= 0)
		close(fd);
	return err;
}

static bool old_pins_gone(const char *root)
{
	static const char *const names[] = { "midox_port", "midox_filter", "midox_allowed",
					     "midox_arp" };
	char path[192];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		if (!access(path, F_OK))
			return false;
	}
	return true;
}

/* The old entries of midox_filter, midox_allowed, midox_arp ({in, out}, {mac, flags},
 * {mac, flags}), as in the new maps: the same after the key. */
static const char *keyed_carried(struct mx_datapath *a)
{
	const __u32 fkey = 4244;
	const struct mx_allowed_key akey = { .port_key = 4245, .addr = 0x0a000009 };
	const struct mx_arp_key rkey = { .bridge_key = 4246, .addr = 0x0a000002 };
	struct mx_filter f;
	struct mx_allowed al;
	struct mx_arp_entry ar;

	if (bpf_map_lookup_elem(mx_datapath_map_fd(a, MX_MAP_ID_FILTER), &fkey, &f) ||
	    f.owner != fkey || f.in_chain != 7 || f.out_chain != 8)
		return "the filter was not carried into midox_filter_v2 with its owner";
	if (bpf_map_lookup_elem(mx_datapath_map_fd(a, MX_MAP_ID_ALLOWED), &akey, &al) ||
	    memcmp(&al.key, &akey, sizeof(akey)) || memcmp(al.mac, M_FL, 6) ||
	    al.flags != MX_ALLOWED_MAC)
		return "the pair was not carried into midox_allow_v2 with its key";
	if (bpf_map_lookup_elem(mx_datapath_map_fd(a, MX_MAP_ID_ARP), &rkey, &ar) ||
	    memcmp(&ar.key, &rkey, sizeof(rkey)) || memcmp(ar.mac, M_P2, 6) || ar.flags)
		return "the ARP entry was not carried into midox_arp_v2 with its key";
	return "";
}

static int keyed_pins(const char *root)
{
	const __u32 fkey = 4244, fold[2] = { 7, 8 };
	const struct mx_allowed_key akey = { .port_key = 4245, .addr = 0x0a000009 };
	const struct mx_arp_key rkey = { .bridge_key = 4246, .addr = 0x0a000002 };
	struct { __u8 mac[6]; __u16 flags; } aold = { .flags = MX_ALLOWED_MAC }, rold = { 0 };

	memcpy(aold.mac, M_FL, 6);
	memcpy(rold.mac, M_P2, 6);
	return old_pin(root, "midox_filter", 4, 8, &fkey, fold) ||
	       old_pin(root, "midox_allowed", 8, 8, &akey, &aold) ||
	       old_pin(root, "midox_arp", 8, 8, &rkey, &rold);
}

/* An agent of an earlier tree left midox_port with 32-byte entries (no counter slot), and
 * midox_filter, midox_allowed, midox_arp whose values lack their keys: the open carries
 * their entries into the new maps (a port's slot 0: none yet; each value with its key) and
 * removes the old pins, so that the programs still attached, which tail-call into the new
 * ones, find every port, filter, pair and ARP entry. */
static void test_carried_ports(void)
{
	struct mx_port old = { .device_key = B1, .flags = MX_PORT_LOCAL, .ifindex = 9,
			       .peer_key = 77 }, got;
	struct mx_datapath_opts opts = { 0 };
	struct mx_datapath *a = NULL;
	char root[128];
	const char *diag = "";
	__u32 key = 4243;

	snprintf(root, sizeof(root), "/sys/fs/bpf/midox-test-carry-%d", (int)getpid());
	opts.pin_root = root;
	if (mkdir(root, 0700) || old_pin(root, "midox_port", 4, 32, &key, &old) || keyed_pins(root))
		diag = "pinning maps of the earlier layout failed";
	else if (mx_datapath_open(&opts, &a))
		diag = "open over the earlier pins failed";
	else if (!old_pins_gone(root))
		diag = "an earlier pin is still there";
	else if (mx_port_lookup(a, key, &got) || memcmp(&got, &old, 32) || got.stats_slot)
		diag = "the port was not carried into midox_port_v2 as it was";
	else
		diag = keyed_carried(a);
	mx_datapath_close(a);
	pin_root_remove(root);
	tap_check(!*diag, diag, "the entries of the earlier midox_port, midox_filter, midox_allowed "
		  "and midox_arp are carried into the new maps at open");
}

static void test_stats_reset(void)
{
	struct mx_port_stats s;
	bool ok = mx_stats_reset(dp) == 0 && mx_stats_read(dp, P1, &s) == 0 && !s.rx_packets &&
		  !s.tx_packets && !s.drops[MX_DROP_HAIRPIN] && mx_stats_read(dp, 4711, &s) == -ENOENT;

	tap_check(ok, "P1 counters still there",
		  "mx_stats_reset clears every counter (a port with a slot reads zeros, a key with neither is gone)");
}

/* ---- drop events (midox monitor) ---- */

#define MON_EVENTS_MAX 32

struct mon_seen {
	struct mx_drop_event ev[MON_EVENTS_MAX];
	unsigned int n;
};

static int mon_collect(void *ctx, void *data, size_t size)
{
	struct mon_seen *s = ctx;

	if (size == sizeof(struct mx_drop_event) && s->n < MON_EVENTS_MAX)
		memcpy(&s->ev[s->n], data, size);
	s->n++;
	return 0;
}

/* A spoofed source MAC from PS: dropped spoof-mac on PS; 100 bytes of payload, so the event
 * holds only the frame's first MX_EVENT_FRAME_BYTES. */
static const struct frames_spec mon_spoofed = { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_SPOOF,
						.sip = PS_ADDR, .tip = "10.1.0.2", .payload = 100 };

/* Run frame spec n times on PS's interface; the verdicts must all be want. */
static bool mon_send(const struct frames_spec *spec, int n, int want, uint8_t *in, size_t *in_len)
{
	uint8_t out[FRAMES_MAX + 64];
	int verdict = 0;

	*in_len = frames_build(spec, in, UL_MAC, PEER_MAC);
	for (int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);

		if (prog_run(PORT, IF_P5, in, *in_len, out, &out_len, &verdict) || verdict != want)
			return false;
	}
	return true;
}

/* Events written since the last call, into s. */
static int mon_drain(struct ring_buffer *rb, struct mon_seen *s)
{
	memset(s, 0, sizeof(*s));
	return ring_buffer__consume(rb) < 0 ? -EIO : 0;
}

static void mon_test_off(struct ring_buffer *rb, struct mon_seen *s, int mon_fd, int rate_fd)
{
	uint8_t in[FRAMES_MAX];
	size_t in_len;
	struct mx_monitor_cpu counts = { 0 };
	bool sent;

	mx_monitor_clear(mon_fd);
	mx_monitor_rate_reset(rate_fd);
	mon_drain(rb, s);
	sent = mon_send(&mon_spoofed, 3, TC_ACT_SHOT, in, &in_len);
	tap_check(sent && !mon_drain(rb, s) && s->n == 0 && !mx_monitor_counts(rate_fd, &counts) &&
			  counts.suppressed == 0,
		  "events written or frames not dropped", "drop events: nobody listening, no event");
	/* A mark that ran out (a listener that died): no event either. */
	mx_monitor_mark(mon_fd, 1000, 1, mx_monotonic_ns() - 1);
	sent = mon_send(&mon_spoofed, 1, TC_ACT_SHOT, in, &in_len);
	tap_check(sent && !mon_drain(rb, s) && s->n == 0, "an event after the mark ran out",
		  "drop events: a listener's mark that ran out writes no event");
}

static bool mon_event_is(const struct mx_drop_event *ev, enum mx_drop_reason reason, __u32 key,
			 const uint8_t *in, size_t in_len, char *diag, size_t len)
{
	size_t cap = in_len < MX_EVENT_FRAME_BYTES ? in_len : MX_EVENT_FRAME_BYTES;

	if (ev->reason != reason || ev->port_key != key || ev->ifindex != (__u32)ifx[IF_P5])
		snprintf(diag, len, "reason %u port %u ifindex %u", ev->reason, ev->port_key,
			 ev->ifindex);
	else if (ev->frame_len != in_len || ev->cap_len != cap || memcmp(ev->frame, in, cap))
		snprintf(diag, len, "frame length %u, %u bytes captured, want %zu, %zu",
			 ev->frame_len, ev->cap_len, in_len, cap);
	else if (!ev->time_ns || ev->time_ns > mx_monotonic_ns())
		snprintf(diag, len, "time %llu", (unsigned long long)ev->time_ns);
	return !*diag;
}

static void mon_test_listening(struct ring_buffer *rb, struct mon_seen *s, int mon_fd, int rate_fd)
{
	const struct frames_spec own = PS_UDP(M_PS, PS_ADDR), spoof_ip = PS_UDP(M_PS, "10.1.0.9");
	uint8_t in[FRAMES_MAX];
	char diag[160] = "";
	size_t in_len;
	bool sent;

	mx_monitor_rate_reset(rate_fd);
	mx_monitor_mark(mon_fd, 1000, 1, mx_monotonic_ns() + MX_MONITOR_LEASE_NS);
	mon_drain(rb, s);
	sent = mon_send(&mon_spoofed, 1, TC_ACT_SHOT, in, &in_len);
	if (!sent || mon_drain(rb, s) || s->n != 1)
		snprintf(diag, sizeof(diag), "%u events", s->n);
	else
		mon_event_is(&s->ev[0], MX_DROP_SPOOF_MAC, PS, in, in_len, diag, sizeof(diag));
	tap_check(!*diag, diag, "drop events: listening, a drop writes one event: reason, port, "
		  "interface, length, the first %d bytes", MX_EVENT_FRAME_BYTES);
	*diag = '\0';
	sent = mon_send(&spoof_ip, 1, TC_ACT_SHOT, in, &in_len);
	if (!sent || mon_drain(rb, s) || s->n != 1)
		snprintf(diag, sizeof(diag), "%u events", s->n);
	else
		mon_event_is(&s->ev[0], MX_DROP_SPOOF_IP, PS, in, in_len, diag, sizeof(diag));
	tap_check(!*diag, diag, "drop events: a short frame is captured whole");
	sent = mon_send(&own, 2, TC_ACT_REDIRECT, in, &in_len);
	tap_check(sent && !mon_drain(rb, s) && s->n == 0, "an event for a forwarded frame",
		  "drop events: a forwarded frame writes none");
	mx_monitor_clear(mon_fd);
}

/* 2 events a second: a bucket of 2 on this CPU (the test stays on one), then every event
 * costs half a second of credit; 20 drops in far less give 2 events and 18 suppressed. */
static void mon_test_rate(struct ring_buffer *rb, struct mon_seen *s, int mon_fd, int rate_fd)
{
	struct mx_monitor_cpu counts = { 0 };
	uint8_t in[FRAMES_MAX];
	cpu_set_t one, before;
	size_t in_len;
	bool sent;

	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_getaffinity(0, sizeof(before), &before);
	sched_setaffinity(0, sizeof(one), &one);
	mx_monitor_rate_reset(rate_fd);
	mx_monitor_mark(mon_fd, 2, 1, mx_monotonic_ns() + MX_MONITOR_LEASE_NS);
	mon_drain(rb, s);
	sent = mon_send(&mon_spoofed, 20, TC_ACT_SHOT, in, &in_len);
	mx_monitor_clear(mon_fd);
	sched_setaffinity(0, sizeof(before), &before);
	if (!tap_check(sent && !mon_drain(rb, s) && s->n == 2 && !mx_monitor_counts(rate_fd, &counts) &&
			       counts.suppressed == 18 && counts.lost == 0,
		       "events or suppressed counted wrong",
		       "drop events: beyond the budget suppressed and counted"))
		tap_diag("%u events, %llu suppressed, %llu lost", s->n,
			 (unsigned long long)counts.suppressed, (unsigned long long)counts.lost);
}

static void test_monitor(void)
{
	int mon_fd = mx_datapath_map_fd(dp, MX_MAP_ID_MONITOR);
	int rate_fd = mx_datapath_map_fd(dp, MX_MAP_ID_MON_RATE);
	static struct mon_seen seen;
	struct ring_buffer *rb = ring_buffer__new(mx_datapath_map_fd(dp, MX_MAP_ID_EVENTS),
						  mon_collect, &seen, NULL);

	if (!tap_check(rb && mon_fd >= 0 && rate_fd >= 0, strerror(errno),
		       "drop events: the ring buffer opens"))
		return;
	mon_test_off(rb, &seen, mon_fd, rate_fd);
	mon_test_listening(rb, &seen, mon_fd, rate_fd);
	mon_test_rate(rb, &seen, mon_fd, rate_fd);
	mx_monitor_clear(mon_fd);
	ring_buffer__free(rb);
}

/* ---- packet traces (midox trace): the live program, traced, writes no state ---- */

#define TRACE_STEPS_MAX 6

struct trace_case {
	const char *name;
	enum ifid iface;
	struct frames_spec in;
	int verdict;
	struct dp_trace_want steps[TRACE_STEPS_MAX]; /* ends at kind MX_TRACE_NONE */
};

#define T_ENTER(port) { MX_TRACE_ENTER, port, B1, 0, false }
#define T_HIT(port) { MX_TRACE_MAC_HIT, B1, port, 0, false }
#define T_DELIVER(port, i) { MX_TRACE_DELIVER, port, i, 0, true }
#define T_DROP(reason, port) { MX_TRACE_DROP, reason, port, 0, false }

static const uint8_t M_TRACED[6] = { 0x02, 0, 0, 0, 0x01, 0x30 }; /* never learned */

static const struct trace_case trace_cases[] = {
	{ "trace: local L2, MAC hit, delivered to p2", IF_P1, UDP4(M_P2, M_TRACED), TC_ACT_REDIRECT,
	  { T_ENTER(P1), T_HIT(P2), T_DELIVER(P2, IF_P2) } },
	{ "trace: remote, tunneled to its host with VNI = the port's key", IF_P1,
	  UDP4(M_R, M_TRACED), TC_ACT_REDIRECT,
	  { T_ENTER(P1), T_HIT(PR), { MX_TRACE_TUNNEL, PR, 0, 0, false } } },
	{ "trace: broadcast flooded, one local copy and one remote, none sent", IF_P1,
	  UDP4(BCAST, M_TRACED), TC_ACT_STOLEN,
	  { T_ENTER(P1), { MX_TRACE_FLOOD, B1, 2, 1, false },
	    { MX_TRACE_FLOOD_LOCAL, P2, IF_P2, 0, true }, { MX_TRACE_FLOOD_REMOTE, 0, B1, 0, false } } },
	{ "trace: ARP answered by the bridge, sent back", IF_P1,
	  ARPREQ(M_TRACED, "10.1.0.1", "10.1.0.2"), TC_ACT_REDIRECT,
	  { T_ENTER(P1), { MX_TRACE_ARP_REPLY, B1, 0, 0, false }, { MX_TRACE_BACK, P1, IF_P1, 0, true } } },
	{ "trace: port security passed, delivered", IF_P5, PS_UDP(M_PS, PS_ADDR), TC_ACT_REDIRECT,
	  { T_ENTER(PS), { MX_TRACE_PORTSEC, PS, 0, 0, false }, T_HIT(P2), T_DELIVER(P2, IF_P2) } },
	{ "trace: dropped spoof-mac (port security)", IF_P5, PS_UDP(M_SPOOF, PS_ADDR), TC_ACT_SHOT,
	  { T_ENTER(PS), T_DROP(MX_DROP_SPOOF_MAC, PS) } },
	{ "trace: dropped hairpin", IF_P1, UDP4(M_HP, M_TRACED), TC_ACT_SHOT,
	  { T_ENTER(P1), T_HIT(P1), T_DROP(MX_DROP_HAIRPIN, P1) } },
	{ "trace: dropped underlay-route", IF_P1, UDP4(M_X, M_TRACED), TC_ACT_SHOT,
	  { T_ENTER(P1), T_HIT(PX), T_DROP(MX_DROP_UNDERLAY_ROUTE, P1) } },
	{ "trace: dropped port-unbound", IF_P1, UDP4(M_U, M_TRACED), TC_ACT_SHOT,
	  { T_ENTER(P1), T_HIT(PU), T_DROP(MX_DROP_PORT_UNBOUND, P1) } },
};

#define N_TRACE_CASES (sizeof(trace_cases) / sizeof(trace_cases[0]))

static void trace_case_run(const struct trace_case *c, struct ring_buffer *rb, int *events)
{
	uint8_t in[FRAMES_MAX];
	size_t in_len = frames_build(&c->in, in, UL_MAC, PEER_MAC);
	struct dp_state before, after;
	struct mx_trace t;
	char diag[256] = "";
	const char *changed;
	int verdict = -1, err;

	dp_state_take(dp, &before);
	err = mx_trace_run(mx_datapath_port_prog_fd(dp), mx_datapath_map_fd(dp, MX_MAP_ID_TRACE),
			   ifx[c->iface], in, in_len, &t, &verdict);
	dp_state_take(dp, &after);
	changed = dp_state_diff(&before, &after);
	ring_buffer__consume(rb);
	if (err)
		snprintf(diag, sizeof(diag), "mx_trace_run: %s", strerror(-err));
	else if (verdict != c->verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", verdict, c->verdict);
	else if (changed)
		snprintf(diag, sizeof(diag), "the trace changed %s", changed);
	else if (*events)
		snprintf(diag, sizeof(diag), "the trace wrote %d drop events", *events);
	tap_check(!*diag && dp_trace_match(c->steps, TRACE_STEPS_MAX, ifx, &t, diag, sizeof(diag)),
		  diag, "%s", c->name);
	*events = 0;
}

static int trace_event_count(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(int *)ctx)++;
	return 0;
}

/* A frame whose cb holds the magic but not the armed token is no trace: forwarded and
 * counted as any (what GRO leaves in cb cannot turn tracing on alone). */
static void test_trace_token(void)
{
	struct frames_spec spec = UDP4(M_P2, M_P1);
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 64];
	size_t in_len = frames_build(&spec, in, UL_MAC, PEER_MAC);
	struct __sk_buff ctx = { .ifindex = (__u32)ifx[IF_P1] };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)in_len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	struct mx_trace armed = { .token = 0x1234 }, t;
	struct mx_port_stats s0, s1;
	const __u32 zero = 0;
	int trace_fd = mx_datapath_map_fd(dp, MX_MAP_ID_TRACE), err;

	ctx.cb[MX_TRACE_CB_MAGIC] = MX_TRACE_MAGIC;
	ctx.cb[MX_TRACE_CB_TOKEN] = 0x4321;
	err = bpf_map_update_elem(trace_fd, &zero, &armed, BPF_ANY) ||
	      mx_stats_read(dp, P2, &s0) ||
	      bpf_prog_test_run_opts(mx_datapath_port_prog_fd(dp), &opts) ||
	      mx_stats_read(dp, P2, &s1) || bpf_map_lookup_elem(trace_fd, &zero, &t);
	armed.token = 0;
	bpf_map_update_elem(trace_fd, &zero, &armed, BPF_ANY);
	tap_ok(!err && opts.retval == TC_ACT_REDIRECT && s1.tx_packets == s0.tx_packets + 1 &&
		       t.n_steps == 0,
	       "trace: the magic with another token is no trace (forwarded, counted, nothing recorded)");
}

/* ---- outfilters on flooded copies (lib/flood.h, flood_local_one) ---- */

/* Chains: drop everything; drop ARP; reject everything. */
enum { FC_ALL = 21, FC_ARP, FC_REJECT };
enum { FR_ALL = 211, FR_ARP = 221, FR_REJECT = 231 };

static struct mx_rule_spec flood_rule(__u32 id, __u8 type)
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

static int flood_chains_install(void)
{
	struct mx_rule_spec all = flood_rule(FR_ALL, MX_RULE_DROP);
	struct mx_rule_spec arp = flood_rule(FR_ARP, MX_RULE_DROP);
	struct mx_rule_spec reject = flood_rule(FR_REJECT, MX_RULE_REJECT);
	struct mx_chain_spec chains[] = { { FC_ALL, &all, 1 }, { FC_ARP, &arp, 1 },
					  { FC_REJECT, &reject, 1 } };
	struct mx_chain_program prog = { chains, 3, NULL, 0 };
	struct mx_chain_maps maps;

	arp.conds = MX_COND_ETHERTYPE;
	arp.ethertype = htons(0x0806);
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* P2's outfilter set to chain (0: none), as the agent sets it: midox_filter_v2 and the flag
 * on its entry (and on its interface's copy). */
static int p2_outfilter_owned(__u32 chain, __u32 owner)
{
	struct mx_filter f = { .owner = owner, .out_chain = chain };
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_FILTER);
	__u32 key = P2;
	struct mx_port p;
	int err = chain ? bpf_map_update_elem(fd, &key, &f, BPF_ANY)
			: bpf_map_delete_elem(fd, &key);

	if (!err)
		err = mx_port_lookup(dp, P2, &p);
	if (!err) {
		p.flags = chain ? p.flags | MX_PORT_FILTERED : p.flags & ~MX_PORT_FILTERED;
		err = dp_put_port(dp, P2, &p);
	}
	return err;
}

static int p2_outfilter(__u32 chain)
{
	return p2_outfilter_owned(chain, P2);
}

/* B1's flood set with p5 (port PS) as a third local port, or as put_bridges made it. */
static int b1_with_p5(bool on)
{
	struct mx_bridge b1 = { .n_local = 3, .n_remote = 1 };

	if (!on)
		return put_bridges();
	b1.local_ifindex[0] = ifx[IF_P1];
	b1.local_ifindex[1] = ifx[IF_P2];
	b1.local_ifindex[2] = ifx[IF_P5];
	b1.remote_addr[0] = frames_addr(PEER_ADDR);
	return mx_bridge_update(dp, B1, &b1);
}

struct flood_filter_case {
	__u32 chain;      /* P2's outfilter */
	__u32 rule;       /* its rule whose counter grows by packets */
	__u64 packets;
	struct dp_case row;
};

static __u64 flood_rule_packets(__u32 rule_id)
{
	struct mx_chain_maps maps;
	struct mx_chain_counter c = { 0 };

	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_counter_read(&maps, rule_id, &c) ? ~0ull : c.packets;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct flood_filter_case flood_filter_cases[] = {
	{ FC_ALL, FR_ALL, 1,
	  { "flood: the copy P2's outfilter drops is gone, the local and remote others sent",
	    PORT, IF_P1, UDP4(BCAST, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P2, 0), TX(PS, 1), TX(B1, 1), DROP(P1, MX_DROP_CHAIN_DROP) } } },
	{ FC_ARP, FR_ARP, 1,
	  { "flood: an ARP request's copy to P2 dropped by its ARP rule, the others sent",
	    PORT, IF_P1, ARPREQ(M_P1, "10.1.0.1", "10.1.0.9"), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P2, 0), TX(PS, 1), TX(B1, 1), DROP(P1, MX_DROP_CHAIN_DROP) } } },
	{ FC_ARP, FR_ARP, 0,
	  { "flood: a UDP broadcast passes P2's ARP rule: every copy sent", PORT, IF_P1,
	    UDP4(BCAST, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P2, 1), TX(PS, 1), TX(B1, 1), DROPS(P1, MX_DROP_CHAIN_DROP, 0) } } },
	{ FC_REJECT, FR_REJECT, 1,
	  { "flood: a copy P2's outfilter rejects is counted, not answered", PORT, IF_P1,
	    UDP4(M_UNK, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P2, 0), TX(P1, 0), TX(PS, 1), DROP(P1, MX_DROP_CHAIN_REJECT) } } },
	{ FC_ALL, FR_ALL, 1,
	  { "flood by the tunnel: the copy P2's outfilter drops is gone here, the others sent",
	    UNDERLAY, IF_UL, VXLAN(B1, BCAST), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P1, 1), TX(P2, 0), TX(PS, 1), DROP(HOST, MX_DROP_CHAIN_DROP) } } },
	{ FC_ARP, FR_ARP, 1,
	  { "flood by the tunnel: an ARP request's copy to P2 dropped by its ARP rule, the others sent",
	    UNDERLAY, IF_UL, VXLAN_ARPREQ(B1, "10.1.0.3", "10.1.0.9"), TC_ACT_STOLEN,
	    { EXP_NONE }, { TX(P1, 1), TX(P2, 0), TX(PS, 1), DROP(HOST, MX_DROP_CHAIN_DROP) } } },
	{ FC_ARP, FR_ARP, 0,
	  { "flood by the tunnel: a UDP broadcast passes P2's ARP rule: every local copy sent",
	    UNDERLAY, IF_UL, VXLAN(B1, BCAST), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P1, 1), TX(P2, 1), TX(PS, 1), DROPS(HOST, MX_DROP_CHAIN_DROP, 0) } } },
	{ FC_REJECT, FR_REJECT, 1,
	  { "flood by the tunnel: a copy P2's outfilter rejects is counted, not answered",
	    UNDERLAY, IF_UL, VXLAN(B1, M_UNK), TC_ACT_STOLEN, { EXP_NONE },
	    { TX(P1, 1), TX(P2, 0), TX(PS, 1), DROP(HOST, MX_DROP_CHAIN_REJECT) } } },
	{ FC_ALL, FR_ALL, 0,
	  { "by the tunnel to P2 itself (VNI = its key): the sending host filtered it, delivered",
	    UNDERLAY, IF_UL, VXLAN(P2, M_P2), TC_ACT_REDIRECT, { EXP_DECAP },
	    { TX(P2, 1), DROPS(HOST, MX_DROP_CHAIN_DROP, 0) } } },
};
#pragma GCC diagnostic pop

static void test_flood_filters(void)
{
	if (!tap_ok(!flood_chains_install() && !b1_with_p5(true),
		    "flood filters: chains installed, p5 in bridge 1's flood set"))
		return;
	for (size_t i = 0; i < sizeof(flood_filter_cases) / sizeof(flood_filter_cases[0]); i++) {
		const struct flood_filter_case *f = &flood_filter_cases[i];
		__u64 before = flood_rule_packets(f->rule), after;

		if (p2_outfilter(f->chain)) {
			tap_check(false, "cannot set P2's outfilter", "%s", f->row.name);
			continue;
		}
		case_run(&f->row);
		after = flood_rule_packets(f->rule);
		tap_ok(before != ~0ull && after == before + f->packets,
		       "  its rule's counter: %llu packets more (want %llu)",
		       (unsigned long long)(after - before), (unsigned long long)f->packets);
	}
	if (p2_outfilter(0) || b1_with_p5(false))
		tap_bail("cannot take P2's outfilter and p5 away again");
}

/* ---- a flood set naming another bridge's interface (lib/flood.h, flood_local_one) ---- */

/* What a reader of a midox_bridge element the kernel handed at once to another bridge's
 * insert would find: B1's flood set with p3, a port of bridge 2. Its copy is refused. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct dp_case cross_bridge_cases[] = {
	{ "flood set naming another bridge's interface: no copy there (cross-bridge), the others sent",
	  PORT, IF_P1, UDP4(BCAST, M_P1), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P2, 1), TX(P3, 0), TX(B1, 1), DROP(P1, MX_DROP_CROSS_BRIDGE) } },
	{ "the same flood by the tunnel: no copy to p3, the others sent", UNDERLAY, IF_UL,
	  VXLAN(B1, BCAST), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P1, 1), TX(P2, 1), TX(P3, 0), DROP(HOST, MX_DROP_CROSS_BRIDGE) } },
};
#pragma GCC diagnostic pop

static void test_flood_cross_bridge(void)
{
	struct mx_bridge b1 = { .n_local = 3, .n_remote = 1 };

	b1.local_ifindex[0] = ifx[IF_P1];
	b1.local_ifindex[1] = ifx[IF_P2];
	b1.local_ifindex[2] = ifx[IF_P3];
	b1.remote_addr[0] = frames_addr(PEER_ADDR);
	if (!tap_ok(!mx_bridge_update(dp, B1, &b1), "cross-bridge: p3 in bridge 1's flood set"))
		return;
	for (size_t i = 0; i < sizeof(cross_bridge_cases) / sizeof(cross_bridge_cases[0]); i++)
		case_run(&cross_bridge_cases[i]);
	if (put_bridges())
		tap_bail("cannot put the bridges back");
}

/* ---- the underlay's route cache (midox_ulnh, bpf/lib/tunnel.h) ---- */

/* A MAC the peer's neighbour entry changes to, so that a frame tells a cached answer from
 * a fresh lookup. */
static const uint8_t PEER_MAC_NEW[6] = { 0x02, 0, 0, 0, 0, 0x99 };

static int ulnh_fd(void)
{
	return mx_datapath_map_fd(dp, MX_MAP_ID_UNDERLAY_NH);
}

static void ulnh_forget(void)
{
	__be32 k = frames_addr(PEER_ADDR);

	bpf_map_delete_elem(ulnh_fd(), &k);
}

static bool ulnh_read(struct mx_underlay_nh *e, char *diag, size_t len)
{
	__be32 k = frames_addr(PEER_ADDR);

	if (bpf_map_lookup_elem(ulnh_fd(), &k, e)) {
		snprintf(diag, len, "no midox_ulnh entry for %s", PEER_ADDR);
		return false;
	}
	return true;
}

/* The peer's entry as the lookup left it: its key, the config it was looked up with, ul0,
 * both MACs, ul0's MTU, a time. */
static bool check_ulnh_kept(char *diag, size_t len)
{
	struct mx_underlay_nh e;

	if (!ulnh_read(&e, diag, len))
		return false;
	if (e.addr != frames_addr(PEER_ADDR) || e.src != frames_addr(LOCAL_ADDR) ||
	    e.from_ifindex != (__u32)ifx[IF_UL] || e.ifindex != (__u32)ifx[IF_UL] ||
	    memcmp(e.smac, UL_MAC, 6) || memcmp(e.dmac, PEER_MAC, 6) || e.mtu != 1500 ||
	    !e.seen_ns || e.reserved) {
		snprintf(diag, len, "entry addr %08x src %08x from %u ifindex %u mtu %u seen %llu",
			 ntohl(e.addr), ntohl(e.src), e.from_ifindex, e.ifindex, e.mtu,
			 (unsigned long long)e.seen_ns);
		return false;
	}
	return true;
}

/* The peer's MAC changes; the cached answer stays fresh. */
static void peer_mac_new(void)
{
	if (dp_sh("ip neigh replace %s lladdr 02:00:00:00:00:99 dev ul0 nud permanent",
		  PEER_ADDR))
		tap_bail("cannot change the peer's neighbour");
}

/* The entry made as old as the freshness bound allows no more. */
static void ulnh_age(void)
{
	struct mx_underlay_nh e;
	char diag[128];

	if (!ulnh_read(&e, diag, sizeof(diag)))
		tap_bail(diag);
	e.seen_ns = 0;
	if (bpf_map_update_elem(ulnh_fd(), &e.addr, &e, BPF_EXIST))
		tap_bail("cannot age the midox_ulnh entry");
}

static void peer_mac_new_aged(void)
{
	peer_mac_new();
	ulnh_age();
}

static void peer_restore(void)
{
	if (dp_sh("ip neigh replace %s lladdr 02:00:00:00:00:02 dev ul0 nud permanent",
		  PEER_ADDR))
		tap_bail("cannot put the peer's neighbour back");
	ulnh_forget();
}

static bool check_ulnh_refreshed(char *diag, size_t len)
{
	struct mx_underlay_nh e;

	if (!ulnh_read(&e, diag, len))
		return false;
	if (memcmp(e.dmac, PEER_MAC_NEW, 6) || !e.seen_ns) {
		snprintf(diag, len, "entry not refreshed with the new MAC (seen %llu)",
			 (unsigned long long)e.seen_ns);
		return false;
	}
	return true;
}

static void peer_gone_aged(void)
{
	if (dp_sh("ip neigh del %s dev ul0", PEER_ADDR))
		tap_bail("cannot remove the peer's neighbour");
	ulnh_age();
}

/* An entry under the peer's key, fresh, with a MAC no lookup gives: used when it holds the
 * peer's address, ul0 and the tunnel address; each of the others differs in one of those. */
static void ulnh_put_bogus(__be32 addr, __u32 from_ifindex, __be32 src)
{
	struct mx_underlay_nh e = { .addr = addr, .src = src, .from_ifindex = from_ifindex,
				    .ifindex = ifx[IF_UL], .mtu = 1500 };
	__be32 k = frames_addr(PEER_ADDR);
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now); /* bpf_ktime_get_coarse_ns's clock */
	e.seen_ns = (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec;
	memcpy(e.smac, UL_MAC, 6);
	memcpy(e.dmac, PEER_MAC_NEW, 6);
	if (bpf_map_update_elem(ulnh_fd(), &k, &e, BPF_ANY))
		tap_bail("cannot write the midox_ulnh entry");
}

static void ulnh_valid(void)
{
	ulnh_put_bogus(frames_addr(PEER_ADDR), ifx[IF_UL], frames_addr(LOCAL_ADDR));
}

static void ulnh_other_peer(void)
{
	ulnh_put_bogus(frames_addr(NONEIGH_ADDR), ifx[IF_UL], frames_addr(LOCAL_ADDR));
}

static void ulnh_other_underlay(void)
{
	ulnh_put_bogus(frames_addr(PEER_ADDR), ifx[IF_P4], frames_addr(LOCAL_ADDR));
}

static void ulnh_other_tunnel_addr(void)
{
	ulnh_put_bogus(frames_addr(PEER_ADDR), ifx[IF_UL], frames_addr(PEER_ADDR));
}

/* PR's frame of payload bytes of UDP: 1422 makes an outer IPv4 packet of 1500, ul0's MTU. */
#define REMOTE_UDP(payload_) { .kind = FRAMES_IPV4, .dst = M_R, .src = M_P1, \
	.sip = "10.1.0.1", .tip = "10.1.0.3", .payload = (payload_) }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct dp_case ulnh_cases[] = {
	{ "underlay cache: a first frame to the peer looks it up and keeps the answer", PORT,
	  IF_P1, REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR },
	  { TX(PR, 1) }, ulnh_forget, NULL, check_ulnh_kept },
	{ "underlay cache: a fresh answer is used (the neighbour's change not yet seen)", PORT,
	  IF_P1, REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR },
	  { TX(PR, 1) }, peer_mac_new, NULL },
	{ "underlay cache hit: a frame of the route's MTU once encapsulated goes", PORT, IF_P1,
	  REMOTE_UDP(1422), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR },
	  { TX(PR, 1) } },
	{ "underlay cache hit: a frame one byte over the MTU dropped underlay-mtu", PORT, IF_P1,
	  REMOTE_UDP(1423), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_UNDERLAY_MTU), TX(PR, 0) } },
	{ "underlay cache: an answer past the freshness bound looked up again (new MAC)", PORT,
	  IF_P1, REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC_NEW, PR, PEER_ADDR },
	  { TX(PR, 1) }, peer_mac_new_aged, NULL, check_ulnh_refreshed },
	{ "underlay cache: a peer whose neighbour went, past the bound, dropped underlay-neigh",
	  PORT, IF_P1, REMOTE_UDP(18), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(P1, MX_DROP_UNDERLAY_NEIGH), TX(PR, 0) }, peer_gone_aged, peer_restore },
	{ "underlay cache: an entry written with this config is used (its MAC goes out)", PORT,
	  IF_P1, REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC_NEW, PR, PEER_ADDR },
	  { TX(PR, 1) }, ulnh_valid, ulnh_forget },
	{ "underlay cache: a reused element (another peer's) not used", PORT, IF_P1,
	  REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR }, { TX(PR, 1) },
	  ulnh_other_peer, ulnh_forget },
	{ "underlay cache: an answer for another underlay interface not used", PORT, IF_P1,
	  REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR }, { TX(PR, 1) },
	  ulnh_other_underlay, ulnh_forget },
	{ "underlay cache: an answer for another tunnel address not used", PORT, IF_P1,
	  REMOTE_UDP(18), TC_ACT_REDIRECT, { EXP_ENCAP, PEER_MAC, PR, PEER_ADDR }, { TX(PR, 1) },
	  ulnh_other_tunnel_addr, ulnh_forget },
};
#pragma GCC diagnostic pop

/* ---- the outer UDP source port (lib/flowhash.h) ---- */

static uint32_t ref_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* lib/flowhash.h's hash of frame f, computed here from its bytes as the program reads them
 * (words loaded in host order): an IPv4 packet's addresses, protocol and, unless it is a
 * fragment, its TCP or UDP ports; any other frame's MACs (their last four bytes) and
 * EtherType. */
static uint32_t ref_frame_hash(const uint8_t *f)
{
	uint32_t a, b, ports;
	uint16_t proto, frag;
	const uint8_t *ip = f + 14;

	memcpy(&proto, f + 12, 2);
	if (f[12] != 0x08 || f[13] != 0x00) {
		memcpy(&a, f + 2, 4);
		memcpy(&b, f + 6 + 2, 4);
		return ref_mix(ref_mix(a ^ proto) ^ b);
	}
	memcpy(&a, ip + 12, 4);
	memcpy(&b, ip + 16, 4);
	a = ref_mix(ref_mix(a) ^ b ^ ip[9]);
	frag = (uint16_t)(ip[6] << 8 | ip[7]);
	if ((frag & 0x3fff) || (ip[9] != 6 && ip[9] != 17 && ip[9] != 132))
		return a;
	memcpy(&ports, ip + (ip[0] & 0xf) * 4, 4);
	return ref_mix(a ^ ports);
}

/* The outer source port of frame spec s (built into in) sent from P1 to the remote station
 * M_R, 0 when it was not encapsulated. */
static unsigned int encap_sport_of(const struct frames_spec *s, uint8_t *in)
{
	uint8_t out[FRAMES_MAX + 128];
	size_t len = frames_build(s, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	int verdict;

	if (prog_run(PORT, IF_P1, in, len, out, &out_len, &verdict) ||
	    verdict != TC_ACT_REDIRECT || out_len < 36)
		return 0;
	return (unsigned int)out[34] << 8 | out[35];
}

/* A frame the kernel gave no hash (BPF_PROG_TEST_RUN's never has one) gets the outer source
 * port of its own flow hash: exactly that hash (against the kernel's flow dissector, which
 * bpf_get_hash_recalc runs and this replaces), the same for every fragment of a datagram,
 * spread over the range by the ports. */
static void test_encap_sport(void)
{
	struct frames_spec udp = UDP4(M_R, M_P1), tcp = UDP4(M_R, M_P1),
			   arp = { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_R, .src = M_P1,
				   .sip = "10.1.0.1", .tip = "10.1.0.3" };
	const struct frames_spec *exact[] = { &udp, &tcp, &arp };
	unsigned char seen[16384] = { 0 };
	unsigned int sport, first, later, distinct = 0;
	uint8_t in[FRAMES_MAX];
	bool ok = true;

	tcp.ip_proto = 6;
	tcp.tcp_flags = 0x10;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		sport = encap_sport_of(exact[i], in);
		ok = ok && sport == (49152 | (ref_frame_hash(in) & 0x3fff));
	}
	tap_ok(ok, "the outer source port is the frame's own flow hash (UDP, TCP, a non-IP frame)");
	for (uint16_t p = 0; p < 64; p++) {
		udp.sport = (uint16_t)(41000 + p);
		sport = encap_sport_of(&udp, in);
		if (sport >= 49152 && !seen[sport - 49152]++)
			distinct++;
	}
	tap_ok(distinct >= 56, "64 flows of two hosts get %u distinct outer source ports", distinct);
	udp.sport = 41000;
	udp.frag_off = 0x2000; /* more fragments, offset 0: the first */
	first = encap_sport_of(&udp, in);
	udp.frag_off = 185; /* a later one */
	later = encap_sport_of(&udp, in);
	tap_ok(first && first == later, "every fragment of a datagram gets one outer source port");
}

static void test_underlay_cache(void)
{
	for (size_t i = 0; i < sizeof(ulnh_cases) / sizeof(ulnh_cases[0]); i++)
		case_run(&ulnh_cases[i]);
}

/* ---- elements the kernel handed at once to another key's insert (lib/elem.h) ---- */

/* What a reader of a midox_filter_v2, midox_allow_v2 or midox_arp_v2 element would find if
 * the kernel reused it for another key's insert while it read: another key's value, written
 * here under the key looked up. Each is taken for no entry. */

/* midox_arp_v2 under 10.1.0.2 (P2's) holding PS's entry (its key and MAC). */
static void arp_reused(void)
{
	struct mx_arp_key k = { .bridge_key = B1, .addr = frames_addr("10.1.0.2") };
	struct mx_arp_entry e = { .key = { .bridge_key = B1, .addr = frames_addr(PS_ADDR) } };

	memcpy(e.mac, M_PS, 6);
	if (bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_ARP), &k, &e, BPF_ANY))
		tap_bail("cannot write the reused ARP entry");
}

static void arp_restore(void)
{
	struct mx_arp_key k = { .bridge_key = B1, .addr = frames_addr("10.1.0.2") };
	struct mx_arp_entry e = { 0 };

	memcpy(e.mac, M_P2, 6);
	if (mx_arp_update(dp, &k, &e))
		tap_bail("cannot put P2's ARP entry back");
}

/* midox_allow_v2 under PS's pair PAIR_MAC_ADDR holding its pair PAIR_ADDR's key, with the
 * MAC M_FL: the MAC the frame below comes from. */
static void pair_reused(void)
{
	struct mx_allowed_key k = { .port_key = PS, .addr = frames_addr(PAIR_MAC_ADDR) };
	struct mx_allowed a = { .key = { .port_key = PS, .addr = frames_addr(PAIR_ADDR) },
				.flags = MX_ALLOWED_MAC };

	memcpy(a.mac, M_FL, 6);
	if (bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_ALLOWED), &k, &a, BPF_ANY))
		tap_bail("cannot write the reused pair");
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct dp_case reused_cases[] = {
	{ "reused ARP element (another address's entry): the request flooded, not answered with its MAC",
	  PORT, IF_P1, ARPREQ(M_P1, "10.1.0.1", "10.1.0.2"), TC_ACT_STOLEN, { EXP_NONE },
	  { TX(P1, 0), TX(P2, 1), TX(B1, 1) }, arp_reused, arp_restore },
	{ "reused pair element (another pair's key): the pair's MAC not allowed", PORT, IF_P5,
	  PS_UDP(M_FL, PAIR_MAC_ADDR), TC_ACT_SHOT, { EXP_NONE },
	  { DROP(PS, MX_DROP_SPOOF_MAC), TX(P2, 0) }, pair_reused, pairs_remove },
};
/* P2's outfilter drops everything; the entry names owner. */
static const struct dp_case filter_owned_case = {
	"P2's outfilter (drop all) applied when its entry is P2's", PORT, IF_P1, UDP4(M_P2, M_P1),
	TC_ACT_SHOT, { EXP_NONE }, { TX(P2, 0), DROP(P1, MX_DROP_CHAIN_DROP) } };
static const struct dp_case filter_reused_case = {
	"reused filter element (another owner's): no outfilter, the frame delivered", PORT, IF_P1,
	UDP4(M_P2, M_P1), TC_ACT_REDIRECT, { EXP_SAME },
	{ TX(P2, 1), DROPS(P1, MX_DROP_CHAIN_DROP, 0) } };
#pragma GCC diagnostic pop

/* P2's outfilter entry naming owner: the row, and the chain's counter (packets more). */
static void filter_owner_run(__u32 owner, const struct dp_case *row, __u64 packets)
{
	__u64 before = flood_rule_packets(FR_ALL), after;

	if (p2_outfilter_owned(FC_ALL, owner)) {
		tap_check(false, "cannot set P2's outfilter", "%s", row->name);
		return;
	}
	case_run(row);
	after = flood_rule_packets(FR_ALL);
	tap_ok(before != ~0ull && after == before + packets,
	       "  the drop-all chain's counter: %llu packets more (want %llu)",
	       (unsigned long long)(after - before), (unsigned long long)packets);
}

static void test_reused_elements(void)
{
	for (size_t i = 0; i < sizeof(reused_cases) / sizeof(reused_cases[0]); i++)
		case_run(&reused_cases[i]);
	if (!tap_ok(!flood_chains_install(), "reused filter element: chains installed"))
		return;
	filter_owner_run(P2, &filter_owned_case, 1);
	filter_owner_run(PS, &filter_reused_case, 0);
	if (p2_outfilter(0))
		tap_bail("cannot take P2's outfilter away again");
}

static void test_trace(void)
{
	int mon_fd = mx_datapath_map_fd(dp, MX_MAP_ID_MONITOR), events = 0;
	struct ring_buffer *rb = ring_buffer__new(mx_datapath_map_fd(dp, MX_MAP_ID_EVENTS),
						  trace_event_count, &events, NULL);
	struct mx_fdb_key k = { .bridge_key = B1 };
	struct mx_fdb_entry e;

	if (!tap_check(rb != NULL, strerror(errno), "trace: the ring buffer opens"))
		return;
	/* A listening monitor: a traced drop must send it nothing all the same. */
	mx_monitor_mark(mon_fd, 1000, (__u32)getpid(), mx_monotonic_ns() + 60000000000ull);
	ring_buffer__consume(rb);
	events = 0;
	for (size_t i = 0; i < N_TRACE_CASES; i++)
		trace_case_run(&trace_cases[i], rb, &events);
	mx_monitor_clear(mon_fd);
	ring_buffer__free(rb);
	memcpy(k.mac, M_TRACED, 6);
	tap_ok(mx_fdb_lookup(dp, &k, &e) == -ENOENT, "trace: the traced source MAC was not learned");
	test_trace_token();
}

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* ---- midox_portslot: the egress port by the MAC-table entry's slot ---- */

/* A frame from p1 to M_P2 (P2's static MAC): its verdict, -1 if the run failed. */
static int slot_unicast_verdict(void)
{
	struct frames_spec spec = { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1,
				    .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 18 };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 64];
	size_t in_len = frames_build(&spec, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
	int verdict;

	return prog_run(PORT, IF_P1, in, in_len, out, &out_len, &verdict) ? -1 : verdict;
}

static struct mx_port p2_entry(__u32 extra_flags)
{
	return (struct mx_port){ .device_key = B1, .flags = MX_PORT_LOCAL | extra_flags,
				 .ifindex = ifx[IF_P2], .stats_slot = dp_slot_of(P2) };
}

/* The ports of maps_setup, as the agent hands them to mx_port_slots_sync after syncing
 * midox_port_v2; P2's entry is p2. */
static int slots_sync_with(const struct mx_port *p2, unsigned int *written)
{
	static const __u32 all[] = { P1, P2, PR, PN, PX, PU, P3, P3R, PS };
	__u32 keys[sizeof(all) / sizeof(all[0])];
	struct mx_port ports[sizeof(all) / sizeof(all[0])];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (all[i] == P2 && !p2)
			continue;
		if (all[i] == P2)
			ports[n] = *p2;
		else if (mx_port_lookup(dp, all[i], &ports[n]))
			return -1;
		keys[n++] = all[i];
	}
	return mx_port_slots_sync(dp, keys, ports, n, written);
}

static void test_port_slots(void)
{
	static const uint8_t M_NEW[6] = { 0x02, 0, 0, 0, 0x01, 0x30 };
	struct mx_port p2 = p2_entry(0), down = p2_entry(MX_PORT_ADMIN_DOWN);
	struct mx_fdb_key fk = { .bridge_key = B1 };
	struct mx_fdb_entry fe = { 0 }, no_hint = { .port_key = P2, .flags = MX_FDB_STATIC };
	struct mx_port_slot ps = { 0 };
	unsigned int written = 0, again = 1;

	/* The copy, not the hash, decides: P2 down in its slot alone drops the frame there. */
	tap_ok(slot_unicast_verdict() == TC_ACT_REDIRECT &&
	       !mx_port_slot_update(dp, dp_slot_of(P2), P2, &down) &&
	       slot_unicast_verdict() == TC_ACT_SHOT &&
	       !mx_port_slot_update(dp, dp_slot_of(P2), P2, &p2) &&
	       slot_unicast_verdict() == TC_ACT_REDIRECT,
	       "known unicast takes the egress port from midox_portslot at the entry's slot");
	/* A slot that holds another port (a stale hint) is not taken: the hash is. */
	tap_ok(!mx_port_slot_update(dp, dp_slot_of(P2), PU, &down) &&
	       slot_unicast_verdict() == TC_ACT_REDIRECT &&
	       !mx_port_slot_update(dp, dp_slot_of(P2), P2, &p2),
	       "a slot holding another port's copy is passed over for midox_port_v2");
	/* No hint (an entry of the earlier tree): the hash. */
	memcpy(fk.mac, M_P2, 6);
	tap_ok(!mx_fdb_update(dp, &fk, &no_hint) &&
	       !mx_port_slot_update(dp, dp_slot_of(P2), P2, &down) &&
	       slot_unicast_verdict() == TC_ACT_REDIRECT &&
	       !mx_port_slot_update(dp, dp_slot_of(P2), P2, &p2) &&
	       !dp_put_fdb(dp, B1, M_P2, P2, MX_FDB_STATIC),
	       "an entry without a slot looks the port up in midox_port_v2");

	/* As the agent changes a port: midox_port_v2, then the mirror; the next frame sees it. */
	tap_ok(!mx_port_update(dp, P2, &down) && !slots_sync_with(&down, &written) &&
	       written == 1 && slot_unicast_verdict() == TC_ACT_SHOT &&
	       !mx_port_update(dp, P2, &p2) && !slots_sync_with(&p2, &written) && written == 1 &&
	       slot_unicast_verdict() == TC_ACT_REDIRECT && !slots_sync_with(&p2, &again) &&
	       again == 0,
	       "mx_port_slots_sync: a port's change is on the next frame, an unchanged slot is "
	       "not written");
	/* A port gone: its slot emptied, so its MAC-table entry's hint finds nothing. */
	tap_ok(!mx_port_delete(dp, P2) && !slots_sync_with(NULL, &written) && written == 1 &&
	       !mx_port_slot_lookup(dp, dp_slot_of(P2), &ps) && ps.port_key == 0 &&
	       slot_unicast_verdict() == TC_ACT_SHOT && !dp_put_port(dp, P2, &p2) &&
	       slot_unicast_verdict() == TC_ACT_REDIRECT,
	       "a port gone from midox_port_v2 is gone from its slot (port-unbound)");
	/* The syncs after the first compare only the slots wanted and those the last one
	 * filled: a port moved to the last slot is written there and its old slot emptied; a
	 * slot filled behind the sync's back (mx_port_slot_update) makes the next one compare
	 * every slot, which empties it. */
	{
		struct mx_port far = p2;
		struct mx_port_slot old = { 0 }, last = { 0 }, stray = { 0 };
		unsigned int moved = 0, swept = 0, back = 0;
		bool ok;

		far.stats_slot = MX_TRAFFIC_SLOTS - 1;
		ok = !slots_sync_with(&p2, &written) && !slots_sync_with(&far, &moved) &&
			       moved == 2 && !mx_port_slot_lookup(dp, p2.stats_slot, &old) &&
			       !mx_port_slot_lookup(dp, far.stats_slot, &last) &&
			       old.port_key == 0 && last.port_key == P2 &&
			       !mx_port_slot_update(dp, MX_TRAFFIC_SLOTS - 2, P3, &p2) &&
			       !slots_sync_with(&far, &swept) && swept == 1 &&
			       !mx_port_slot_lookup(dp, MX_TRAFFIC_SLOTS - 2, &stray) &&
			       stray.port_key == 0 && !slots_sync_with(&p2, &back) && back == 2 &&
			       slot_unicast_verdict() == TC_ACT_REDIRECT;
		tap_ok(ok, "mx_port_slots_sync: a port moved to the last slot leaves its old one empty "
		       "(%u written); a slot written behind its back is emptied by the next (%u); "
		       "back again (%u)", moved, swept, back);
	}
	/* Two ports with one slot: refused, nothing written. */
	tap_ok(mx_port_slots_sync(dp, (const __u32[]){ P2, P3 },
				  (const struct mx_port[]){ p2, { .stats_slot = p2.stats_slot } }, 2,
				  &written) == -EINVAL &&
	       written == 0 && !mx_port_slot_lookup(dp, dp_slot_of(P2), &ps) &&
	       ps.port_key == P2 && !memcmp(&ps.port, &p2, sizeof(p2)),
	       "mx_port_slots_sync refuses two ports with one slot and writes nothing");
	/* Learning writes the port's slot as the hint. */
	memcpy(fk.mac, M_NEW, 6);
	{
		struct frames_spec spec = { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_NEW,
					    .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 18 };
		uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 64];
		size_t in_len = frames_build(&spec, in, UL_MAC, PEER_MAC), out_len = sizeof(out);
		int verdict;

		tap_ok(!prog_run(PORT, IF_P1, in, in_len, out, &out_len, &verdict) &&
		       !mx_fdb_lookup(dp, &fk, &fe) && fe.port_key == P1 &&
		       fe.flags == MX_FDB_LOCAL && fe.port_slot == dp_slot_of(P1),
		       "a learned entry carries its port's slot");
	}
	mx_fdb_delete(dp, &fk);
}

int main(void)
{
	char diag[256] = "";
	struct mx_datapath_opts opts = { .no_pin = true };
	int err;

	mx_log_init("test_datapath", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	if (dp_netns_enter() || net_setup())
		return tap_bail("cannot build the test network namespace");
	err = mx_datapath_open(&opts, &dp);
	snprintf(diag, sizeof(diag), "mx_datapath_open: %s", strerror(-err));
	if (!tap_check(!err, diag, "BPF object loads through the verifier"))
		return tap_done();
	if (maps_setup())
		return tap_bail("cannot fill the maps");
	test_attach_port();
	test_attach_underlay();
	test_attach_underlay_xdp();
	for (size_t i = 0; i < N_CASES; i++)
		case_run(&cases[i]);
	test_flood_filters();
	test_flood_cross_bridge();
	test_reused_elements();
	test_underlay_cache();
	test_encap_sport();
	test_monitor();
	test_trace();
	test_map_sync();
	test_map_sync_batches();
	test_pinned_reuse();
	test_retired_pin();
	test_retired_scratch_pins();
	test_carried_ports();
	test_stats_slot_counted();
	test_stats_sum();
	test_stats_reset();
	test_port_slots();
	mx_datapath_close(dp);
	return tap_done();
}
