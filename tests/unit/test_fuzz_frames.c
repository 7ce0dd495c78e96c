// SPDX-License-Identifier: Apache-2.0
/* Frame fuzzing: random frames and mutations of valid frames of every path, through every
 * BPF program with BPF_PROG_TEST_RUN, in a private network namespace, with the maps filled
 * through the loader as the agent fills them. TAP output, four lines per program.
 *
 * Per frame: the run returns without error and with a tc verdict; a frame passed on
 * (TC_ACT_OK) is untouched; every frame that leaves modified (redirected, or the last copy of
 * a flood) is well formed: each IPv4 header the datapath wrote has a valid checksum and a
 * length that matches, new VXLAN outer headers come from this host's tunnel address to a
 * known host, to the configured UDP port, with the I flag and a VNI that belongs to the
 * frame's bridge, and each program's output has one of the shapes it may produce.
 * Per batch: the drop counters of all keys grew by exactly the number of TC_ACT_SHOT verdicts
 * (so every drop is counted, under a reason other than "none"), and tx grew only on keys the
 * batch's frames may reach: the ingress port's bridge (port_ingress), the port or bridge the
 * VNI names (underlay_ingress).
 *
 * Each program is fuzzed in a process of its own with a datapath of its own (private maps),
 * so the programs run in parallel on different CPUs and their counters never mix.
 *
 * FUZZ_FRAMES=N: frames per program (default 1000000). FUZZ_SEED=S: replay a run (the seed is
 * printed). A new program or path joins with a row in progs[] or seeds[]. */
#include "dp_net.h"

#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#include "frames.h"
#include "loader.h"
#include "log.h"
#include "tap.h"

#define FUZZ_FRAMES_DEFAULT 1000000ul
#define BATCH 1024

/* ---- the topology: two bridges, local, remote, unreachable and unbound ports ---- */

enum { B1 = 100, B2 = 200 };
enum {
	P1 = 1001,  /* local, p1 */
	P2 = 1002,  /* local, p2 */
	PR = 1003,  /* remote on 10.0.0.2 */
	PM = 1004,  /* remote on 10.0.0.4, whose route has an MTU of 1400 */
	PN = 1005,  /* remote on 10.0.0.3: no underlay neighbour */
	PX = 1006,  /* remote on 192.0.2.9: no underlay route */
	PU = 1007,  /* bound nowhere */
	P3 = 2001,  /* local, p3, bridge 2 */
	P3R = 2002, /* remote on 10.0.0.2, bridge 2 */
	PS = 1008,  /* local, p5: port security (fixed MAC M_PS, fixed address PS_ADDR) */
};
#define HOST MX_STATS_HOST

#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"
#define NONEIGH_ADDR "10.0.0.3"
#define SMALLMTU_ADDR "10.0.0.4"
#define NOROUTE_ADDR "192.0.2.9"
#define PS_ADDR "10.1.0.5"

enum ifid { IF_P1, IF_P2, IF_P3, IF_P4, IF_UL, IF_P5, IF__MAX, IF_NONE = -1 };
static const char *const if_names[IF__MAX] = { "p1", "p2", "p3", "p4", "ul0", "p5" };
static const char *const if_macs[IF__MAX] = { "02:00:00:00:0a:01", "02:00:00:00:0a:02",
					      "02:00:00:00:0a:03", "02:00:00:00:0a:04",
					      "02:00:00:00:00:01", "02:00:00:00:0a:05" };
static int ifx[IF__MAX];

/* Every counter key: the host, the bridges and the ports, with where each port lives. */
struct key_row {
	__u32 key;
	__u32 bridge;     /* the bridge it is or belongs to; 0 for the host */
	enum ifid iface;  /* local ports */
	const char *host; /* remote ports */
};
static const struct key_row keys[] = {
	{ HOST, 0, IF_NONE, NULL },
	{ B1, B1, IF_NONE, NULL },
	{ B2, B2, IF_NONE, NULL },
	{ P1, B1, IF_P1, NULL },
	{ P2, B1, IF_P2, NULL },
	{ PR, B1, IF_NONE, PEER_ADDR },
	{ PM, B1, IF_NONE, SMALLMTU_ADDR },
	{ PN, B1, IF_NONE, NONEIGH_ADDR },
	{ PX, B1, IF_NONE, NOROUTE_ADDR },
	{ PU, B1, IF_NONE, NULL },
	{ P3, B2, IF_P3, NULL },
	{ P3R, B2, IF_NONE, PEER_ADDR },
	{ PS, B1, IF_P5, NULL },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const hosts[] = { PEER_ADDR, NONEIGH_ADDR, SMALLMTU_ADDR, NOROUTE_ADDR };

static const uint8_t UL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t M_P1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t M_P2[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t M_R[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };
static const uint8_t M_M[6] = { 0x02, 0, 0, 0, 0x01, 0x04 };
static const uint8_t M_N[6] = { 0x02, 0, 0, 0, 0x01, 0x05 };
static const uint8_t M_X[6] = { 0x02, 0, 0, 0, 0x01, 0x06 };
static const uint8_t M_U[6] = { 0x02, 0, 0, 0, 0x01, 0x07 };
static const uint8_t M_HP[6] = { 0x02, 0, 0, 0, 0x01, 0x0f };  /* static on P1 */
static const uint8_t M_XB[6] = { 0x02, 0, 0, 0, 0x01, 0x10 };  /* bridge 1 -> P3R: cross */
static const uint8_t M_P3[6] = { 0x02, 0, 0, 0, 0x02, 0x01 };
static const uint8_t M_R3[6] = { 0x02, 0, 0, 0, 0x02, 0x02 };
static const uint8_t M_PS[6] = { 0x02, 0, 0, 0, 0x01, 0x08 };
static const uint8_t M_UNK[6] = { 0x02, 0, 0, 0, 0x0e, 0x0e };
static const uint8_t M_MCAST[6] = { 0x01, 0, 0x5e, 0, 0, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fdb_row {
	__u32 bridge;
	const uint8_t *mac;
	__u32 port;
	__u32 flags;
};
static const struct fdb_row fdb_rows[] = {
	{ B1, M_P2, P2, MX_FDB_STATIC },  { B1, M_R, PR, MX_FDB_REMOTE },
	{ B1, M_M, PM, MX_FDB_REMOTE },   { B1, M_N, PN, MX_FDB_REMOTE },
	{ B1, M_X, PX, MX_FDB_REMOTE },   { B1, M_U, PU, MX_FDB_STATIC },
	{ B1, M_HP, P1, MX_FDB_STATIC },  { B1, M_XB, P3R, MX_FDB_REMOTE },
	{ B2, M_P3, P3, MX_FDB_STATIC },  { B2, M_R3, P3R, MX_FDB_REMOTE },
	{ B1, M_PS, PS, MX_FDB_STATIC },
};

static struct mx_datapath *dp;

static const struct key_row *key_find(__u32 key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].key == key)
			return &keys[i];
	return NULL;
}

static bool key_is_port(const struct key_row *k)
{
	return k->key != k->bridge && k->key != HOST;
}

/* IPv4 forwarding on the underlay, as mx_attach_underlay sets it (bpf_fib_lookup needs it).
 * MTU 9000 everywhere, so that no flooded copy can fail (a veth drops what exceeds its
 * peer's MTU, which the flood counts as redirect-failed, or underlay-mtu, on a frame whose
 * verdict is TC_ACT_STOLEN) and drops match TC_ACT_SHOT exactly; 10.0.0.4's route has an
 * MTU of 1400 instead, so that the unicast MTU drop is fuzzed too. */
static int net_setup(void)
{
	for (int i = 0; i < IF__MAX; i++) {
		if (dp_veth(if_names[i], if_macs[i]) ||
		    dp_sh("ip link set %s mtu 9000 && ip link set %sv mtu 9000", if_names[i],
			  if_names[i]))
			return -1;
		ifx[i] = if_nametoindex(if_names[i]);
	}
	return dp_sh("sysctl -qw net.ipv4.conf.ul0.forwarding=1 && "
		     "ip addr add %s/24 dev ul0 && "
		     "ip neigh replace %s lladdr 02:00:00:00:00:02 dev ul0 nud permanent && "
		     "ip neigh replace %s lladdr 02:00:00:00:00:04 dev ul0 nud permanent && "
		     "ip route add %s/32 dev ul0 mtu 1400",
		     LOCAL_ADDR, PEER_ADDR, SMALLMTU_ADDR, SMALLMTU_ADDR);
}

static struct mx_config config(void)
{
	return (struct mx_config){ .tunnel_addr = frames_addr(LOCAL_ADDR),
				   .underlay_ifindex = ifx[IF_UL],
				   .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
}

/* The MAC table as configured; put back before every batch, since fuzzed frames learn over
 * it (a remote entry replaced by a local one would take a path out of the fuzzing). */
static int fdb_restore(void)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(fdb_rows) / sizeof(fdb_rows[0]); i++) {
		struct mx_fdb_key k = { .bridge_key = fdb_rows[i].bridge };
		struct mx_fdb_entry v = { .port_key = fdb_rows[i].port, .flags = fdb_rows[i].flags };

		memcpy(k.mac, fdb_rows[i].mac, 6);
		err |= mx_fdb_update(dp, &k, &v);
	}
	return err;
}

static int bridge_fill(__u32 bridge)
{
	struct mx_bridge b = { .n_remote = 1 };

	b.remote_addr[0] = frames_addr(PEER_ADDR);
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].bridge == bridge && key_is_port(&keys[i]) && keys[i].iface != IF_NONE)
			b.local_ifindex[b.n_local++] = ifx[keys[i].iface];
	return mx_bridge_update(dp, bridge, &b);
}

static int maps_setup(void)
{
	struct mx_config cfg = config();
	struct mx_arp_key ak1 = { .bridge_key = B1, .addr = frames_addr("10.1.0.2") };
	struct mx_arp_key ak2 = { .bridge_key = B2, .addr = frames_addr("10.2.0.2") };
	struct mx_arp_entry ae1 = { 0 }, ae2 = { 0 };
	struct mx_tunpeer tp = { 0 };
	int err = mx_config_set(dp, &cfg);

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_row *k = &keys[i];
		struct mx_port p = { .device_key = k->bridge, .host_addr = frames_addr(k->host) };
		struct mx_ifport ifp = { .port_key = k->key };

		if (!key_is_port(k))
			continue;
		if (k->iface != IF_NONE) {
			p.flags = MX_PORT_LOCAL;
			p.ifindex = ifx[k->iface];
			err |= mx_ifport_update(dp, ifx[k->iface], &ifp);
		} else if (k->host) {
			p.flags = MX_PORT_REMOTE;
		}
		if (k->key == PS) {
			p.flags |= MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP;
			memcpy(p.mac, M_PS, 6);
			p.addr = frames_addr(PS_ADDR);
		}
		err |= mx_port_update(dp, k->key, &p);
	}
	memcpy(ae1.mac, M_P2, 6);
	memcpy(ae2.mac, M_P3, 6);
	err |= mx_arp_update(dp, &ak1, &ae1) | mx_arp_update(dp, &ak2, &ae2);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]) - 1; i++)
		err |= mx_tunpeer_update(dp, frames_addr(hosts[i]), &tp);
	err |= bridge_fill(B1) | bridge_fill(B2) | fdb_restore();
	return err ? -1 : 0;
}

/* ---- looking into frames ---- */

static unsigned int get16(const uint8_t *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static bool bytes_in(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
	return memmem(hay, hay_len, needle, len) != NULL;
}

/* Where the VXLAN header of an IPv4/UDP frame to the VXLAN port starts, or 0. */
static size_t vxlan_at(const uint8_t *f, size_t len)
{
	size_t ihl;

	if (len < 34 || get16(f + 12) != 0x0800 || f[23] != 17)
		return 0;
	ihl = (f[14] & 0x0f) * 4u;
	if (ihl < 20 || len < 14 + ihl + 16 || get16(f + 14 + ihl + 2) != MX_VXLAN_PORT_DEFAULT)
		return 0;
	return 14 + ihl + 8;
}

/* The VNI of a frame that looks like VXLAN, or MX_TUNNEL_KEY_NONE. */
static __u32 vxlan_vni(const uint8_t *f, size_t len)
{
	size_t vx = vxlan_at(f, len);

	return vx ? get32(f + vx + 4) >> 8 : MX_TUNNEL_KEY_NONE;
}

/* ---- the programs ---- */

/* Whether a frame from iface with this verdict may be sent to key (a port or a bridge):
 * count it as tx there, or carry its VNI. */
typedef bool (*reach_fn)(__u32 key, enum ifid iface, const uint8_t *in, size_t len, int verdict);

/* port_ingress: anything of the ingress port's bridge, nothing of another one. */
static bool port_reach(__u32 key, enum ifid iface, const uint8_t *in, size_t len, int verdict)
{
	const struct key_row *k = key_find(key);
	__u32 bridge = 0;

	(void)in;
	(void)len;
	if (verdict != TC_ACT_REDIRECT && verdict != TC_ACT_STOLEN)
		return false;
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].iface == iface && key_is_port(&keys[i]))
			bridge = keys[i].bridge;
	return k && bridge && k->bridge == bridge;
}

/* underlay_ingress: redirected to the local port the VNI names, or flooded (stolen) to the
 * local ports of the bridge it names. */
static bool underlay_reach(__u32 key, enum ifid iface, const uint8_t *in, size_t len,
			   int verdict)
{
	const struct key_row *k = key_find(key), *v = key_find(vxlan_vni(in, len));

	(void)iface;
	if (!k || !v || !key_is_port(k) || k->iface == IF_NONE)
		return false;
	if (verdict == TC_ACT_REDIRECT)
		return v->key == key;
	return verdict == TC_ACT_STOLEN && v->key == v->bridge && k->bridge == v->key;
}

enum shape { SH_SAME, SH_ENCAP, SH_ARP_REPLY, SH_DECAP, SH_OTHER, SH__MAX };
static const char *const shape_names[SH__MAX] = { "unchanged", "encapsulated", "ARP replies",
						  "decapsulated", "other" };

/* out answers the ARP request in: to its sender (Ethernet and ARP), from the MAC in the
 * reply's sender field, addresses swapped, everything after the ARP body unchanged. */
static bool arp_reply_to(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len)
{
	return out_len == in_len && in_len >= 42 && get16(out + 12) == 0x0806 &&
	       !memcmp(out + 14, in + 14, 6) && get16(in + 20) == 1 && get16(out + 20) == 2 &&
	       !memcmp(out, in + 22, 6) && !memcmp(out + 6, out + 22, 6) &&
	       !memcmp(out + 28, in + 38, 4) && !memcmp(out + 32, in + 22, 10) &&
	       !memcmp(out + 42, in + 42, in_len - 42);
}

/* The shape of a modified output of port_ingress; SH_OTHER is checked generically only. */
static enum shape port_shape(const uint8_t *in, size_t in_len, const uint8_t *out,
			     size_t out_len)
{
	if (out_len == in_len + FRAMES_VXLAN_OVERHEAD && !memcmp(out + 50, in, in_len))
		return SH_ENCAP;
	if (arp_reply_to(in, in_len, out, out_len))
		return SH_ARP_REPLY;
	return SH_OTHER;
}

/* underlay_ingress only ever strips the outer headers: anything else is wrong. */
static enum shape underlay_shape(const uint8_t *in, size_t in_len, const uint8_t *out,
				 size_t out_len)
{
	size_t vx = vxlan_at(in, in_len);

	if (vx && out_len + vx + 8 == in_len && !memcmp(out, in + vx + 8, out_len))
		return SH_DECAP;
	return SH__MAX;
}

/* A valid frame of one path, the seed of its mutations. */
struct seed {
	const char *path;
	enum ifid iface;
	struct frames_spec spec;
};

#define UDP4(d, s) { .kind = FRAMES_IPV4, .dst = (d), .src = (s), .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 18 }
#define TCP4(d, s) { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = (d), .src = (s), .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 40 }
#define ARPREQ(s, sip_, tip_) { .kind = FRAMES_ARP, .dst = BCAST, .src = (s), .sip = (sip_), .tip = (tip_) }
#define VX(vni_, d, inner) { .kind = (inner), .dst = (d), .src = M_R, .sip = "10.1.0.3", .tip = "10.1.0.2", \
	.payload = 18, .vxlan = true, .osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = (vni_) }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct seed port_seeds[] = {
	{ "local unicast", IF_P1, UDP4(M_P2, M_P1) },
	{ "local unicast TCP", IF_P1, TCP4(M_P2, M_P1) },
	{ "remote unicast", IF_P1, UDP4(M_R, M_P1) },
	{ "remote unicast ARP reply", IF_P1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_R, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.3" } },
	{ "remote unicast over the route MTU", IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_M, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.4", .payload = 1380 } },
	{ "remote unicast under the route MTU", IF_P1, UDP4(M_M, M_P1) },
	{ "remote unicast, no neighbour", IF_P1, UDP4(M_N, M_P1) },
	{ "remote unicast, no route", IF_P1, UDP4(M_X, M_P1) },
	{ "unbound destination", IF_P1, UDP4(M_U, M_P1) },
	{ "cross-bridge destination", IF_P1, UDP4(M_XB, M_P1) },
	{ "hairpin", IF_P1, UDP4(M_HP, M_P1) },
	{ "ARP request answered", IF_P1, ARPREQ(M_P1, "10.1.0.1", "10.1.0.2") },
	{ "ARP request flooded", IF_P1, ARPREQ(M_P1, "10.1.0.1", "10.1.0.9") },
	{ "gratuitous ARP", IF_P1, ARPREQ(M_P1, "10.1.0.2", "10.1.0.2") },
	{ "broadcast", IF_P1, UDP4(BCAST, M_P1) },
	{ "multicast", IF_P2, UDP4(M_MCAST, M_P2) },
	{ "unknown unicast", IF_P2, UDP4(M_UNK, M_P2) },
	{ "IPv6", IF_P1, { .kind = FRAMES_IPV6, .dst = M_R, .src = M_P1, .payload = 16 } },
	{ "bridge 2 remote unicast", IF_P3, UDP4(M_R3, M_P3) },
	{ "bridge 2 to a bridge 1 MAC", IF_P3, UDP4(M_P2, M_P3) },
	{ "bridge 2 broadcast", IF_P3, UDP4(BCAST, M_P3) },
	{ "bridge 2 ARP request answered", IF_P3, ARPREQ(M_P3, "10.2.0.1", "10.2.0.2") },
	{ "bridge 2 ARP for a bridge 1 address", IF_P3, ARPREQ(M_P3, "10.2.0.1", "10.1.0.2") },
	{ "interface that is no port", IF_P4, UDP4(M_P2, M_P1) },
	{ "port security: own MAC and address", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PS, .sip = PS_ADDR, .tip = "10.1.0.2", .payload = 18 } },
	{ "port security: spoofed address", IF_P5, UDP4(M_R, M_PS) },
	{ "port security: DHCP discover", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_PS, .sip = "0.0.0.0", .tip = "255.255.255.255",
	    .sport = 68, .dport = 67, .payload = 240 } },
	{ "port security: ARP request", IF_P5, ARPREQ(M_PS, PS_ADDR, "10.1.0.2") },
	{ "port security: ARP probe", IF_P5, ARPREQ(M_PS, "0.0.0.0", PS_ADDR) },
	{ "port security: IPv6", IF_P5, { .kind = FRAMES_IPV6, .dst = M_P2, .src = M_PS, .payload = 16 } },
};

static const struct seed underlay_seeds[] = {
	{ "VXLAN to a local port", IF_UL, VX(P2, M_P2, FRAMES_IPV4) },
	{ "VXLAN ARP to a local port", IF_UL, VX(P1, M_P1, FRAMES_ARP) },
	{ "VXLAN to bridge 1", IF_UL, VX(B1, BCAST, FRAMES_IPV4) },
	{ "VXLAN to bridge 2", IF_UL, VX(B2, BCAST, FRAMES_ARP) },
	{ "VXLAN IPv6 to bridge 2's port", IF_UL, VX(P3, M_P3, FRAMES_IPV6) },
	{ "VXLAN to a remote port", IF_UL, VX(PR, M_R, FRAMES_IPV4) },
	{ "VXLAN to an unknown VNI", IF_UL, VX(4242, M_P2, FRAMES_IPV4) },
	{ "VXLAN without the I flag", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .vx_flags = FRAMES_VX_NO_I } },
	{ "VXLAN from a non-member", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = "10.0.0.9",
	    .odst = LOCAL_ADDR, .vni = P2 } },
	{ "VXLAN to another host", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = "10.0.0.9", .vni = P2 } },
	{ "VXLAN first fragment", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .frag_off = 0x2000 } },
	{ "VXLAN with outer IPv4 options", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = PEER_ADDR,
	    .odst = LOCAL_ADDR, .vni = P2, .ihl = 7 } },
	{ "other UDP port", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = UL_MAC, .src = PEER_MAC, .sip = PEER_ADDR, .tip = LOCAL_ADDR,
	    .dport = 53, .payload = 30 } },
	{ "host TCP", IF_UL,
	  { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = UL_MAC, .src = PEER_MAC, .sip = PEER_ADDR,
	    .tip = LOCAL_ADDR } },
	{ "host ARP", IF_UL, ARPREQ(PEER_MAC, PEER_ADDR, LOCAL_ADDR) },
};
#pragma GCC diagnostic pop

struct fuzz_prog {
	const char *name;
	int (*prog_fd)(const struct mx_datapath *dp);
	const struct seed *seeds;
	size_t n_seeds;
	reach_fn reach;
	/* The shape of a modified output, SH__MAX if the program never produces it. */
	enum shape (*shape)(const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len);
};

#define SEEDS(s) s, sizeof(s) / sizeof(s[0])
static const struct fuzz_prog progs[] = {
	{ "port_ingress", mx_datapath_port_prog_fd, SEEDS(port_seeds), port_reach, port_shape },
	{ "underlay_ingress", mx_datapath_underlay_prog_fd, SEEDS(underlay_seeds), underlay_reach,
	  underlay_shape },
};
#define N_PROGS (sizeof(progs) / sizeof(progs[0]))

/* ---- random frames and mutations ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

#define PICK(a) (a)[rnd_below(sizeof(a) / sizeof((a)[0]))]

/* Fields worth planting: addresses, keys, ports, MACs of the topology. */
static const uint8_t *const known_macs[] = { M_P1, M_P2, M_R, M_M, M_N, M_X, M_U, M_HP, M_XB,
					     M_P3, M_R3, M_UNK, M_MCAST, BCAST, UL_MAC, PEER_MAC };
static const char *const known_addrs[] = { LOCAL_ADDR, PEER_ADDR, NONEIGH_ADDR, SMALLMTU_ADDR,
					   NOROUTE_ADDR, "10.1.0.2", "10.2.0.2", "10.0.0.9",
					   "0.0.0.0", "255.255.255.255" };
static const uint32_t known_words[] = { P1, P2, PR, PM, PN, PX, PU, P3, P3R, B1, B2, 0, 1, 0xffffff,
					MX_VXLAN_PORT_DEFAULT, 0x0800, 0x0806, 0x86dd, 0x4000,
					0x2000, 0x08000000 };
static const uint8_t interesting[] = { 0, 1, 2, 4, 5, 6, 0x0f, 0x11, 0x40, 0x45, 0x46, 0x4f,
				       0x7f, 0x80, 0xfe, 0xff };

/* Most decisions are taken on the first 128 bytes: mutate there three times out of four. */
static size_t rnd_offset(size_t len)
{
	return rnd_below(4) ? rnd_below(len < 128 ? len : 128) : rnd_below(len);
}

static void put_be(uint8_t *p, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static size_t mutate(uint8_t *f, size_t len)
{
	size_t off = rnd_offset(len);

	switch (rnd_below(9)) {
	case 0:
		f[off] ^= 1u << rnd_below(8);
		break;
	case 1:
		f[off] = rnd();
		break;
	case 2:
		f[off] = PICK(interesting);
		break;
	case 3: /* cut short */
		return 14 + rnd_below(len - 13);
	case 4: { /* longer, random tail */
		size_t n = 1 + rnd_below(64);

		if (len + n > FRAMES_MAX - 64)
			return len;
		for (size_t i = 0; i < n; i++)
			f[len + i] = rnd();
		return len + n;
	}
	case 5:
		if (off + 4 <= len) {
			uint32_t a = frames_addr(PICK(known_addrs));

			memcpy(f + off, &a, 4);
		}
		break;
	case 6: { /* a key or port: 2, 3 or 4 bytes */
		int n = 2 + (int)rnd_below(3);

		if (off + n <= len)
			put_be(f + off, PICK(known_words), n);
		break;
	}
	case 7: { /* a MAC, mostly where MACs go */
		size_t at = rnd_below(3) == 0 ? off : rnd_below(2) * 6;

		if (at + 6 <= len)
			memcpy(f + at, PICK(known_macs), 6);
		break;
	}
	default: /* the same byte range elsewhere in the frame */
		if (len > 8) {
			size_t n = 1 + rnd_below(8), from = rnd_below(len - n);

			if (off + n <= len)
				memmove(f + off, f + from, n);
		}
		break;
	}
	return len;
}

/* Random bytes, with a known ethertype and MACs often enough to get past the first checks. */
static size_t random_frame(uint8_t *f)
{
	static const unsigned int types[] = { 0x0800, 0x0806, 0x86dd, 0x8100 };
	size_t len = 14 + rnd_below(rnd_below(8) ? 200 : 1600);

	for (size_t i = 0; i < len; i++)
		f[i] = rnd();
	if (rnd_below(2))
		memcpy(f, PICK(known_macs), 6);
	if (rnd_below(2))
		f[6] &= 0xfe; /* a unicast source */
	if (rnd_below(4))
		put_be(f + 12, PICK(types), 2);
	return len;
}

/* BPF_PROG_TEST_RUN refuses an IPv4 frame without room for an IPv4 header and an IPv6 one
 * without room for an IPv6 header: such frames are padded (docs/datapath.md says how the
 * unit test sends the short ones for real). */
static size_t runnable(uint8_t *f, size_t len)
{
	size_t min = get16(f + 12) == 0x0800 ? 34 : get16(f + 12) == 0x86dd ? 54 : 14;

	for (; len < min; len++)
		f[len] = rnd();
	return len;
}

/* ---- running and checking ---- */

enum { V_OK, V_SHOT, V_REDIRECT, V_STOLEN, V_OTHER, V__MAX };
static const char *const verdict_names[V__MAX] = { "ok", "shot", "redirect", "stolen", "other" };

struct fuzz_result {
	unsigned long frames, random, refused, run_errors, verdicts[V__MAX];
	unsigned long shapes[SH__MAX], bad_outputs;
	unsigned long drops, shot, bad_drop_batches, none_drops;
	unsigned long batches, bad_tx_batches, vnis;
	unsigned long long max_ns;
	double secs;
	char run_diag[160], out_diag[512], drop_diag[400], tx_diag[160];
};

static int verdict_class(int v)
{
	switch (v) {
	case TC_ACT_OK: return V_OK;
	case TC_ACT_SHOT: return V_SHOT;
	case TC_ACT_REDIRECT: return V_REDIRECT;
	case TC_ACT_STOLEN: return V_STOLEN;
	default: return V_OTHER;
	}
}

/* An IPv4 header at off: one the frame came with (found in the input) is the sender's
 * business; one the datapath wrote must be valid and say the right length. */
static const char *ipv4_check(const uint8_t *in, size_t in_len, const uint8_t *out, size_t len,
			      size_t off)
{
	size_t ihl;

	if (len < off + 20)
		return NULL;
	ihl = (out[off] & 0x0f) * 4u;
	if (bytes_in(in, in_len, out + off, len - off < ihl || ihl < 20 ? 20 : ihl))
		return NULL;
	if (out[off] >> 4 != 4 || ihl < 20 || len < off + ihl)
		return "IPv4 header with a bad version or length";
	if (frames_csum(out + off, ihl))
		return "IPv4 header checksum invalid";
	if (get16(out + off + 2) != len - off)
		return "IPv4 total length does not match the frame";
	return NULL;
}

/* Outer headers the datapath wrote: from us to a known host, to the VXLAN port, I flag,
 * a VNI of the frame's bridge; the inner IPv4 header, if any, checked too. */
static const char *vxlan_check(const struct fuzz_prog *p, enum ifid iface, int verdict,
			       const uint8_t *in, size_t in_len, const uint8_t *out, size_t len,
			       struct fuzz_result *r)
{
	size_t vx = vxlan_at(out, len), ihl = (out[14] & 0x0f) * 4u;
	uint32_t src, dst;
	bool known = false;

	if (!vx || len < vx + 8 + 14 || bytes_in(in, in_len, out + 14, ihl + 16))
		return NULL; /* not VXLAN, or the sender's own */
	memcpy(&src, out + 26, 4);
	memcpy(&dst, out + 30, 4);
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		known |= dst == frames_addr(hosts[i]);
	r->vnis++;
	if (src != frames_addr(LOCAL_ADDR) || !known)
		return "VXLAN outer addresses not from this host to a known host";
	if (get16(out + 14 + ihl) < 49152)
		return "VXLAN outer UDP source port below 49152";
	if (get16(out + 14 + ihl + 4) != len - 14 - ihl)
		return "VXLAN outer UDP length does not match";
	if (get32(out + vx) != 0x08000000 || out[vx + 7])
		return "VXLAN flags or reserved bits wrong";
	if (!p->reach(get32(out + vx + 4) >> 8, iface, in, in_len, verdict))
		return "VNI outside the frame's bridge";
	if (get16(out + vx + 8 + 12) == 0x0800)
		return ipv4_check(in, in_len, out, len, vx + 8 + 14);
	return NULL;
}

/* Up to 64 bytes of a frame in hex, for a diagnostic. */
static int hex(char *buf, size_t size, const uint8_t *f, size_t len)
{
	int n = 0;

	for (size_t i = 0; i < len && i < 64 && n + 4 < (int)size; i++)
		n += snprintf(buf + n, size - n, " %02x", f[i]);
	return n;
}

static void output_check(const struct fuzz_prog *p, enum ifid iface, int verdict,
			 const uint8_t *in, size_t in_len, const uint8_t *out, size_t out_len,
			 struct fuzz_result *r)
{
	int vclass = verdict_class(verdict);
	const char *why = NULL;
	enum shape sh = SH_SAME;

	if (out_len != in_len || memcmp(in, out, in_len)) {
		sh = vclass == V_OK ? SH__MAX : p->shape(in, in_len, out, out_len);
		if (sh == SH__MAX)
			why = vclass == V_OK ? "frame passed to the host modified" :
					       "output of a shape this program never makes";
		else if (out_len < 14)
			why = "output shorter than an Ethernet header";
		else if (get16(out + 12) == 0x0800)
			why = ipv4_check(in, in_len, out, out_len, 14);
		if (!why && sh != SH__MAX && get16(out + 12) == 0x0800)
			why = vxlan_check(p, iface, verdict, in, in_len, out, out_len, r);
	}
	if (sh < SH__MAX)
		r->shapes[sh]++;
	if (why && !r->bad_outputs++) {
		int n = snprintf(r->out_diag, sizeof(r->out_diag), "%s (%s, %zu bytes in:", why,
				 verdict_names[vclass], in_len);

		n += hex(r->out_diag + n, sizeof(r->out_diag) - n, in, in_len);
		n += snprintf(r->out_diag + n, sizeof(r->out_diag) - n, "; %zu out:", out_len);
		n += hex(r->out_diag + n, sizeof(r->out_diag) - n, out, out_len);
		snprintf(r->out_diag + n, sizeof(r->out_diag) - n, ")");
	}
}

struct counters {
	__u64 tx[N_KEYS], drops, by_reason[MX_DROP__MAX];
};

static void counters_read(struct counters *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++) {
		struct mx_port_stats s;

		if (mx_stats_read(dp, keys[i].key, &s))
			continue;
		c->tx[i] = s.tx_packets;
		for (int d = 0; d < MX_DROP__MAX; d++) {
			c->drops += s.drops[d];
			c->by_reason[d] += s.drops[d];
		}
	}
}

/* After a batch: drops grew by the TC_ACT_SHOT verdicts, tx only where frames may go. */
static void batch_check(const struct counters *before, const unsigned long *reach,
			unsigned long shot, struct fuzz_result *r)
{
	struct counters now;

	counters_read(&now);
	r->batches++;
	r->drops += now.drops - before->drops;
	r->shot += shot;
	r->none_drops += now.by_reason[MX_DROP_NONE] - before->by_reason[MX_DROP_NONE];
	if (now.drops - before->drops != shot && !r->bad_drop_batches++) {
		int n = snprintf(r->drop_diag, sizeof(r->drop_diag),
				 "batch %lu: drop counters grew by %llu, %lu TC_ACT_SHOT verdicts:",
				 r->batches, (unsigned long long)(now.drops - before->drops), shot);

		for (int d = 0; d < MX_DROP__MAX && n < (int)sizeof(r->drop_diag); d++)
			if (now.by_reason[d] != before->by_reason[d])
				n += snprintf(r->drop_diag + n, sizeof(r->drop_diag) - n, " %s +%llu",
					      mx_drop_reason_name(d),
					      (unsigned long long)(now.by_reason[d] - before->by_reason[d]));
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		__u64 d = now.tx[i] - before->tx[i];

		if (d > reach[i] && !r->bad_tx_batches++)
			snprintf(r->tx_diag, sizeof(r->tx_diag),
				 "batch %lu: tx on key %u grew by %llu, frames that may reach it: %lu",
				 r->batches, keys[i].key, (unsigned long long)d, reach[i]);
	}
}

/* A frame into iface: random one time in ten, else a seed of iface mutated (or not). */
static size_t next_frame(const struct fuzz_prog *p, const uint8_t (*seed_bufs)[FRAMES_MAX],
			 const size_t *seed_lens, uint8_t *f, enum ifid iface,
			 struct fuzz_result *r)
{
	size_t s, len;

	do
		s = rnd_below(p->n_seeds);
	while (p->seeds[s].iface != iface);
	if (rnd_below(10) == 0) {
		r->random++;
		len = random_frame(f);
	} else {
		int n = rnd_below(10) ? 1 + (int)rnd_below(4) : 0;

		len = seed_lens[s];
		memcpy(f, seed_bufs[s], len);
		while (n--)
			len = mutate(f, len);
	}
	return runnable(f, len);
}

static void fuzz(const struct fuzz_prog *p, unsigned long frames, struct fuzz_result *r)
{
	static uint8_t seed_bufs[64][FRAMES_MAX];
	size_t seed_lens[64];
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 256];
	int fd = p->prog_fd(dp);
	struct timespec t0, t1;

	for (size_t s = 0; s < p->n_seeds && s < 64; s++)
		seed_lens[s] = frames_build(&p->seeds[s].spec, seed_bufs[s], UL_MAC, PEER_MAC);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r->frames < frames) {
		unsigned long reach[N_KEYS] = { 0 }, shot = 0;
		/* One ingress interface per batch, so that what a frame of one bridge may reach
		 * never covers for another's. */
		enum ifid iface = p->seeds[rnd_below(p->n_seeds)].iface;
		struct counters before;

		fdb_restore();
		counters_read(&before);
		for (int b = 0; b < BATCH && r->frames < frames; b++) {
			struct __sk_buff ctx = { 0 };
			size_t len = next_frame(p, seed_bufs, seed_lens, in, iface, r);
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
				    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
				    .ctx_size_in = sizeof(ctx));
			int err, vclass;

			ctx.ifindex = ctx.ingress_ifindex = ifx[iface];
			err = bpf_prog_test_run_opts(fd, &opts);
			r->frames++;
			if (err) {
				if (!r->run_errors++)
					snprintf(r->run_diag, sizeof(r->run_diag),
						 "BPF_PROG_TEST_RUN on a %zu-byte frame: %s", len,
						 strerror(-err));
				continue;
			}
			if (opts.duration > r->max_ns)
				r->max_ns = opts.duration;
			vclass = verdict_class(opts.retval);
			r->verdicts[vclass]++;
			shot += vclass == V_SHOT;
			for (size_t i = 0; i < N_KEYS; i++)
				reach[i] += p->reach(keys[i].key, iface, in, len, opts.retval);
			if (vclass != V_SHOT)
				output_check(p, iface, opts.retval, in, len, out, opts.data_size_out, r);
		}
		batch_check(&before, reach, shot, r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* One program in a child process with a datapath of its own; the result comes back over a
 * pipe. Returns the read end, or -1. */
static int fuzz_child(const struct fuzz_prog *p, unsigned long frames, uint64_t seed)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	struct fuzz_result r = { 0 };
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		close(pfd[1]);
		return pfd[0];
	}
	close(pfd[0]);
	rng_state = seed;
	if (mx_datapath_open(&opts, &dp) || maps_setup())
		snprintf(r.run_diag, sizeof(r.run_diag), "cannot open the datapath or fill maps");
	else
		fuzz(p, frames, &r);
	if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

static void report(const struct fuzz_prog *p, const struct fuzz_result *r, unsigned long want)
{
	char v[160] = "", s[200] = "";
	int n = 0, m = 0;

	for (int i = 0; i < V__MAX; i++)
		if (r->verdicts[i])
			n += snprintf(v + n, sizeof(v) - n, "%s%lu %s", n ? ", " : "", r->verdicts[i],
				      verdict_names[i]);
	for (int i = 0; i < SH__MAX; i++)
		if (r->shapes[i])
			m += snprintf(s + m, sizeof(s) - m, "%s%lu %s", m ? ", " : "", r->shapes[i],
				      shape_names[i]);
	tap_check(r->frames == want && !r->run_errors && !r->verdicts[V_OTHER], r->run_diag,
		  "%s: %lu frames (%lu random, the rest mutated from %zu seeds) in %.1f s, every "
		  "run returned a tc verdict (%s), slowest %llu ns",
		  p->name, r->frames, r->random, p->n_seeds, r->secs, v, r->max_ns);
	tap_check(!r->bad_outputs, r->out_diag,
		  "%s: every frame sent on is well formed (%s; %lu VXLAN outer headers checked)",
		  p->name, s, r->vnis);
	if (r->bad_outputs)
		tap_diag("%lu bad outputs", r->bad_outputs);
	tap_check(!r->bad_drop_batches && !r->none_drops && r->batches, r->drop_diag,
		  "%s: every drop counted under a reason (drop counters +%lu, TC_ACT_SHOT %lu, "
		  "%lu batches)",
		  p->name, r->drops, r->shot, r->batches);
	tap_check(!r->bad_tx_batches && r->batches, r->tx_diag,
		  "%s: no frame crosses a bridge boundary (tx only on keys the frame may reach, "
		  "%lu batches; VNIs in %lu outer headers)",
		  p->name, r->batches, r->vnis);
}

int main(void)
{
	const char *env_frames = getenv("FUZZ_FRAMES"), *env_seed = getenv("FUZZ_SEED");
	unsigned long frames = env_frames ? strtoul(env_frames, NULL, 0) : FUZZ_FRAMES_DEFAULT;
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	int fds[N_PROGS];

	mx_log_init("test_fuzz_frames", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	if (dp_netns_enter() || net_setup())
		return tap_bail("cannot build the test network namespace");
	printf("# FUZZ_SEED=%llu FUZZ_FRAMES=%lu\n", (unsigned long long)seed, frames);
	fflush(stdout);
	for (size_t i = 0; i < N_PROGS; i++)
		fds[i] = fuzz_child(&progs[i], frames, seed + i);
	for (size_t i = 0; i < N_PROGS; i++) {
		struct fuzz_result r = { 0 };

		if (fds[i] < 0 || read(fds[i], &r, sizeof(r)) != (ssize_t)sizeof(r))
			snprintf(r.run_diag, sizeof(r.run_diag), "the fuzzing process died");
		report(&progs[i], &r, frames);
	}
	while (wait(NULL) > 0)
		;
	return tap_done();
}
