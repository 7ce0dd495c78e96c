// SPDX-License-Identifier: Apache-2.0
/* Frame fuzzing: random frames and mutations of valid frames of every path, through every
 * BPF program with BPF_PROG_TEST_RUN, in a private network namespace, with the maps filled
 * through the loader as the agent fills them. TAP output, four lines per program.
 *
 * The topology has two tenants. Tenant 1: bridges 1 and 3 joined by router 1, which also has
 * an uplink bound here, an exterior port bound on another host and a loop through bridge BL.
 * Tenant 2: bridges 2 and 4 joined by router 2, which uses tenant 1's 10.3.0.0/24 again. No
 * route and no MAC table entry leads from one tenant to the other. The routers' program
 * (hop_router, a tail call) is fuzzed through port_ingress: behind a bridge from VMs, and
 * directly from the uplink's interface.
 *
 * Per frame: the run returns without error and with a tc verdict; a frame passed on
 * (TC_ACT_OK) is untouched; every frame that leaves modified (redirected, or the last copy of
 * a flood) has a shape its program makes, and each shape is checked: the input in VXLAN; an
 * ARP reply with the MAC the bridge's table or the router port gives; routed (to the MAC the
 * route and neighbour tables give, from the egress router port's, TTL one lower, header
 * checksum updated); an echo reply or an ICMP error from a router port's address (checksums
 * valid, the input's header quoted, only where RFC 1812 allows one, the type the route table
 * implies); a router's ARP request for a next hop it does not know. New VXLAN outer headers
 * go from this host's tunnel address to a known host, to the configured UDP port, with the I
 * flag and a VNI the frame may reach; a router that answers or routes is one the frame may
 * reach.
 * Per batch: the drop counters of all keys grew by exactly the TC_ACT_SHOT verdicts plus the
 * packets a router replaced by an ICMP error or an ARP request (counted as dropped, sent on
 * as something else), never under reason "none"; tx grew only on keys the batch's frames may
 * reach: the ingress port's bridge, and the rest of its tenant for a frame to one of its
 * routers' MACs (port_ingress); the port or bridge the VNI names (underlay_ingress).
 *
 * Each program is fuzzed in a process of its own with a datapath of its own (private maps),
 * so the programs run in parallel on different CPUs and their counters never mix.
 *
 * Router 1 and bridge 1 track connections (their ports flagged MX_PORT_DEVICE_CT), so a
 * frame tunnelled after a pass that wrote conntrack state carries flow-state records (VNI
 * 0xFFFFFF, header, records, inner frame): its header and records are checked, the inner
 * frame as a plain VXLAN frame's, the tenant check on the real VNI; flow-state-mtu is a
 * count (the frame went on as plain VXLAN), not a drop. underlay_ingress also gets valid
 * flow-state frames, mutated: a malformed one is never delivered (only those count
 * bad-flow-state), a valid one is decapsulated to its real VNI.
 *
 * port_ingress runs five times: as above; behind a rule chain whose one rule drops
 * everything, the infilter of every port (each port's entry flagged as the agent flags it):
 * no frame may pass it, every run ends TC_ACT_SHOT, and the drop counters still account for
 * each; behind one whose rule rejects everything: nothing passes but the reject's answers,
 * each a valid RST or ICMP administratively prohibited back to the sender, and only for a
 * frame the kernel's REJECT would answer; and behind static NAT on every port's infilter (a
 * DNAT of every packet with action continue, then a SNAT of every packet: both addresses of
 * every IPv4 packet rewritten, bpf/lib/nat.h), with every IPv4 input's checksums made valid
 * first: every frame that leaves (routed, tunnelled, answered) must carry valid checksums
 * (IPv4, TCP, UDP, ICMP, an ICMP error's quoted IPv4 header), and the drop and tenant checks
 * hold as before.
 *
 * The fifth run is behind dynamic NAT (dyn_install): routers 1 and 2 track connections;
 * router 1 SNATs 10.0.0.0/8 leaving by its uplink to SNAT_A, ports 1024-1087 (the block
 * leased in midox_natlease), with rev_snat on its infilter, and forwards DNAT_A:8080 to
 * P2's port 80 (rev_dnat on its outfilter); router 2, with tenant 1's 10.3.0.0/24 behind
 * it too, SNATs what leaves by R2A to SNAT_B and lets in by R2A only return flows. Besides
 * the fuzzed frames, one in three of a batch into a VM or the uplink is a real flow's
 * (dyn_gen_frame): a TCP SYN, UDP datagram or echo request that opens a connection, or the
 * reply to one opened before (the packet, or an ICMP error quoting it whole), maybe mutated.
 * Every output must have valid checksums, an ICMP error's quoted packet's too (its L4
 * checksum where the quote holds all of it); nothing router 1's SNAT applies to may leave by
 * the uplink from its private source, and what it translated to SNAT_A has a port of the
 * lease. Before every batch a tenant round (dyn_round) sends the same packet from 10.3.0.6
 * in both tenants: tenant B's unsolicited replies (to A's tuple, to A's binding) must be
 * dropped by its return-flow firewall, B's packet must take B's binding, and each reply
 * must come back to its own VM, translated.
 *
 * FUZZ_FRAMES=N: frames per program (default 1000000; the dynamic NAT run a quarter).
 * FUZZ_SEED=S: replay a run (the seed is printed). A new program or path joins with a row
 * in progs[] or seeds[]. */
#include "dp_net.h"

#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "dp_fill.h"
#include "frames.h"
#include "loader/chain.h"
#include "loader/loader.h"
#include "nat_frames.h"
#include "nat_rules.h"
#include "midox/conntrack.h"
#include "midox/flowstate.h"
#include "midox/natlease.h"
#include "base/log.h"
#include "tap.h"

#define FUZZ_FRAMES_DEFAULT 1000000ul
#define BATCH 1024
#define MAX_SEEDS 128
/* Every frame takes at most one token of the ICMP error bucket: refilled this often, it
 * never runs dry, so that errors are sent (and checked) at fuzzing speed. One batch in
 * RATE_DRY_EVERY starts with it empty, for the suppression path. */
#define RATE_REFILL_EVERY 32
#define RATE_DRY_EVERY 8
_Static_assert(RATE_REFILL_EVERY < MX_ICMP_RATE_BURST, "refilled before it runs dry");

/* ---- the topology ---- */

enum { B1 = 100, B2 = 200, B3 = 300, BL = 400, R1 = 500, B4 = 600, R2 = 700, BD = 800,
       B5 = 900, R3 = 950 };
enum {
	P1 = 1001,  /* local, p1 */
	P2 = 1002,  /* local, p2 */
	PR = 1003,  /* remote on 10.0.0.2 */
	PM = 1004,  /* remote on 10.0.0.4, whose route has an MTU of 1400 */
	PN = 1005,  /* remote on 10.0.0.3: no underlay neighbour */
	PX = 1006,  /* remote on 192.0.2.9: no underlay route */
	PU = 1007,  /* bound nowhere */
	PS = 1008,  /* local, p5: port security (fixed MAC M_PS, fixed address PS_ADDR) */
	B1R = 1009, /* interior, linked to R1A */
	PD = 1010,  /* local, p8: set down */
	PDR = 1011, /* remote on 10.0.0.2: set down */
	PO = 1012,  /* local, p10: a fixed MAC and address, port security off */
	P3 = 2001,  /* local, p3, bridge 2 */
	P3R = 2002, /* remote on 10.0.0.2, bridge 2 */
	B2R = 2003, /* interior, linked to R2A */
	P6 = 3001,  /* local, p6, bridge 3 */
	P6R = 3002, /* remote on 10.0.0.2, bridge 3 */
	B3R = 3003, /* interior, linked to R1B */
	BL1 = 4001, /* bridge BL: interior, linked to RL and RL2 (a loop of devices) */
	BL2 = 4002,
	R1A = 5001, /* router 1 on bridge 1: 10.1.0.254 */
	R1B = 5002, /* on bridge 3: 10.3.0.254 */
	U1 = 5003,  /* exterior, bound to up1 here: 192.168.1.1 */
	U3 = 5004,  /* exterior, bound on 10.0.0.2: 192.168.3.1 */
	RL = 5005,  /* on bridge BL: 10.88.0.1 and 10.89.0.1 */
	RL2 = 5006,
	P7 = 6001,  /* local, p7, bridge 4 */
	B4R = 6002, /* interior, linked to R2B */
	R2A = 7001, /* router 2 on bridge 2: 10.2.0.254 */
	R2B = 7002, /* on bridge 4: 10.3.0.254, as R1B */
	R1D = 5007, /* router 1 on the down bridge BD: 10.45.0.1 */
	RD1 = 5008, /* router 1, exterior on 10.0.0.2, set down: 10.44.0.1 */
	PBD = 8001, /* the down bridge BD: local, p9 */
	BDR = 8002, /* BD: interior, linked to R1D */
	P11 = 9001, /* bridge 5 (tenant 3): local, p11 */
	B5R = 9002, /* interior, linked to R3A */
	R3A = 9501, /* the down router 3 on bridge 5: 10.5.0.254 */
	U9 = 9502,  /* router 3: exterior, bound to up2 here: 192.168.9.1 */
};
#define HOST MX_STATS_HOST
#define KEY_SPACE 10240 /* every key is below */
#define MTU 9000          /* of every link and route (net_setup) */
#define SMALL_MTU 1400    /* of the route to SMALLMTU_ADDR */

#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"
#define NONEIGH_ADDR "10.0.0.3"
#define SMALLMTU_ADDR "10.0.0.4"
#define NOROUTE_ADDR "192.0.2.9"
#define PS_ADDR "10.1.0.5"
#define PA_ADDR "10.1.0.50"  /* PS's allowed address pair with MAC M_PA */
#define PA2_ADDR "10.1.0.51" /* PS's allowed address pair with PS's own MAC */
#define PO_ADDR "10.1.0.60"

enum ifid { IF_P1, IF_P2, IF_P3, IF_P4, IF_UL, IF_P5, IF_P6, IF_P7, IF_UP1, IF_P8, IF_P9,
	    IF_P10, IF_P11, IF_UP2, IF__MAX, IF_NONE = -1 };
static const char *const if_names[IF__MAX] = { "p1", "p2", "p3", "p4", "ul0",
					       "p5", "p6", "p7", "up1", "p8",
					       "p9", "p10", "p11", "up2" };
static const char *const if_macs[IF__MAX] = {
	"02:00:00:00:0a:01", "02:00:00:00:0a:02", "02:00:00:00:0a:03",
	"02:00:00:00:0a:04", "02:00:00:00:00:01", "02:00:00:00:0a:05",
	"02:00:00:00:0a:06", "02:00:00:00:0a:07", "02:00:00:00:0d:01",
	"02:00:00:00:0a:08", "02:00:00:00:0a:09", "02:00:00:00:0a:10",
	"02:00:00:00:0a:11", "02:00:00:00:0d:02",
};
static int ifx[IF__MAX];

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
static const uint8_t M_P6[6] = { 0x02, 0, 0, 0, 0x03, 0x01 };
static const uint8_t M_P6R[6] = { 0x02, 0, 0, 0, 0x03, 0x02 };
static const uint8_t M_P7[6] = { 0x02, 0, 0, 0, 0x06, 0x01 };
static const uint8_t M_R1A[6] = { 0x02, 0, 0, 0, 0x05, 0x01 };
static const uint8_t M_R1B[6] = { 0x02, 0, 0, 0, 0x05, 0x02 };
static const uint8_t M_U1[6] = { 0x02, 0, 0, 0, 0x05, 0x03 };
static const uint8_t M_U3[6] = { 0x02, 0, 0, 0, 0x05, 0x04 };
static const uint8_t M_RL[6] = { 0x02, 0, 0, 0, 0x05, 0x05 };
static const uint8_t M_RL2[6] = { 0x02, 0, 0, 0, 0x05, 0x06 };
static const uint8_t M_R2A[6] = { 0x02, 0, 0, 0, 0x07, 0x01 };
static const uint8_t M_R2B[6] = { 0x02, 0, 0, 0, 0x07, 0x02 };
static const uint8_t M_GW1[6] = { 0x02, 0, 0, 0, 0x09, 0x01 }; /* 192.168.1.254, on up1 */
static const uint8_t M_GW3[6] = { 0x02, 0, 0, 0, 0x09, 0x03 }; /* 192.168.3.254, behind U3 */
static const uint8_t M_NB[6] = { 0x02, 0, 0, 0, 0x09, 0x4d };  /* a neighbour on up1 */
static const uint8_t M_PD[6] = { 0x02, 0, 0, 0, 0x01, 0x11 };
static const uint8_t M_PDR[6] = { 0x02, 0, 0, 0, 0x01, 0x12 };
static const uint8_t M_PO[6] = { 0x02, 0, 0, 0, 0x01, 0x13 };
static const uint8_t M_PA[6] = { 0x02, 0, 0, 0, 0x01, 0x14 };  /* PS's pair PA_ADDR */
static const uint8_t M_PBD[6] = { 0x02, 0, 0, 0, 0x08, 0x01 };
static const uint8_t M_R1D[6] = { 0x02, 0, 0, 0, 0x05, 0x07 };
static const uint8_t M_RD1[6] = { 0x02, 0, 0, 0, 0x05, 0x08 };
static const uint8_t M_P11[6] = { 0x02, 0, 0, 0, 0x0b, 0x01 };
static const uint8_t M_R3A[6] = { 0x02, 0, 0, 0, 0x0b, 0x02 };
static const uint8_t M_U9[6] = { 0x02, 0, 0, 0, 0x0b, 0x03 };
static const uint8_t M_UNK[6] = { 0x02, 0, 0, 0, 0x0e, 0x0e };
static const uint8_t M_MCAST[6] = { 0x01, 0, 0x5e, 0, 0, 0x01 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Every counter key: the host, the devices and their ports, with where each port lives. */
struct key_row {
	__u32 key;
	__u32 device;       /* the bridge or router it is or belongs to; 0 for the host */
	int tenant;         /* a tenant's devices may reach each other, never another's */
	enum ifid iface;    /* local ports */
	const char *host;   /* remote ports */
	__u32 peer;         /* interior ports: the port of the other device */
	const uint8_t *mac; /* router ports: MAC and address (in a /24) */
	const char *addr;
	__u32 down;         /* MX_PORT_ADMIN_DOWN: the port, or a device, is set down */
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct key_row keys[] = {
	{ HOST, 0, 0, IF_NONE },
	/* tenant 1: bridges 1, 3 and BL, router 1 */
	{ B1, B1, 1, IF_NONE },
	{ B3, B3, 1, IF_NONE },
	{ BL, BL, 1, IF_NONE },
	{ R1, R1, 1, IF_NONE },
	{ P1, B1, 1, IF_P1 },
	{ P2, B1, 1, IF_P2 },
	{ PR, B1, 1, IF_NONE, PEER_ADDR },
	{ PM, B1, 1, IF_NONE, SMALLMTU_ADDR },
	{ PN, B1, 1, IF_NONE, NONEIGH_ADDR },
	{ PX, B1, 1, IF_NONE, NOROUTE_ADDR },
	{ PU, B1, 1, IF_NONE },
	{ PS, B1, 1, IF_P5 },
	{ B1R, B1, 1, IF_NONE, .peer = R1A },
	{ P6, B3, 1, IF_P6 },
	{ P6R, B3, 1, IF_NONE, PEER_ADDR },
	{ B3R, B3, 1, IF_NONE, .peer = R1B },
	{ BL1, BL, 1, IF_NONE, .peer = RL },
	{ BL2, BL, 1, IF_NONE, .peer = RL2 },
	{ R1A, R1, 1, IF_NONE, .peer = B1R, .mac = M_R1A, .addr = "10.1.0.254" },
	{ R1B, R1, 1, IF_NONE, .peer = B3R, .mac = M_R1B, .addr = "10.3.0.254" },
	{ U1, R1, 1, IF_UP1, .mac = M_U1, .addr = "192.168.1.1" },
	{ U3, R1, 1, IF_NONE, PEER_ADDR, .mac = M_U3, .addr = "192.168.3.1" },
	{ RL, R1, 1, IF_NONE, .peer = BL1, .mac = M_RL, .addr = "10.88.0.1" },
	{ RL2, R1, 1, IF_NONE, .peer = BL2, .mac = M_RL2, .addr = "10.89.0.1" },
	/* tenant 2: bridges 2 and 4, router 2 */
	{ B2, B2, 2, IF_NONE },
	{ B4, B4, 2, IF_NONE },
	{ R2, R2, 2, IF_NONE },
	{ P3, B2, 2, IF_P3 },
	{ P3R, B2, 2, IF_NONE, PEER_ADDR },
	{ B2R, B2, 2, IF_NONE, .peer = R2A },
	{ P7, B4, 2, IF_P7 },
	{ B4R, B4, 2, IF_NONE, .peer = R2B },
	{ R2A, R2, 2, IF_NONE, .peer = B2R, .mac = M_R2A, .addr = "10.2.0.254" },
	{ R2B, R2, 2, IF_NONE, .peer = B4R, .mac = M_R2B, .addr = "10.3.0.254" },
	/* set down: ports of tenant 1, bridge BD (behind router 1), router 3 (tenant 3) */
	{ PD, B1, 1, IF_P8, .down = MX_PORT_ADMIN_DOWN },
	{ PDR, B1, 1, IF_NONE, PEER_ADDR, .down = MX_PORT_ADMIN_DOWN },
	{ PO, B1, 1, IF_P10 },
	{ RD1, R1, 1, IF_NONE, PEER_ADDR, .mac = M_RD1, .addr = "10.44.0.1",
	  .down = MX_PORT_ADMIN_DOWN },
	{ R1D, R1, 1, IF_NONE, .peer = BDR, .mac = M_R1D, .addr = "10.45.0.1" },
	{ BD, BD, 1, IF_NONE, .down = MX_PORT_ADMIN_DOWN },
	{ PBD, BD, 1, IF_P9 },
	{ BDR, BD, 1, IF_NONE, .peer = R1D },
	{ B5, B5, 3, IF_NONE },
	{ R3, R3, 3, IF_NONE, .down = MX_PORT_ADMIN_DOWN },
	{ P11, B5, 3, IF_P11 },
	{ B5R, B5, 3, IF_NONE, .peer = R3A },
	{ R3A, R3, 3, IF_NONE, .peer = B5R, .mac = M_R3A, .addr = "10.5.0.254" },
	{ U9, R3, 3, IF_UP2, .mac = M_U9, .addr = "192.168.9.1" },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const hosts[] = { PEER_ADDR, NONEIGH_ADDR, SMALLMTU_ADDR, NOROUTE_ADDR };

struct fdb_row {
	__u32 bridge;
	const uint8_t *mac;
	__u32 port;
	__u32 flags;
};
static const struct fdb_row fdb_rows[] = {
	{ B1, M_P2, P2, MX_FDB_STATIC },   { B1, M_R, PR, MX_FDB_REMOTE },
	{ B1, M_M, PM, MX_FDB_REMOTE },    { B1, M_N, PN, MX_FDB_REMOTE },
	{ B1, M_X, PX, MX_FDB_REMOTE },    { B1, M_U, PU, MX_FDB_STATIC },
	{ B1, M_HP, P1, MX_FDB_STATIC },   { B1, M_XB, P3R, MX_FDB_REMOTE },
	{ B2, M_P3, P3, MX_FDB_STATIC },   { B2, M_R3, P3R, MX_FDB_REMOTE },
	{ B1, M_PS, PS, MX_FDB_STATIC },   { B3, M_P6, P6, MX_FDB_STATIC },
	{ B3, M_P6R, P6R, MX_FDB_REMOTE }, { B4, M_P7, P7, MX_FDB_STATIC },
	/* What the agent installs for bridge ports linked to router ports. */
	{ B1, M_R1A, B1R, MX_FDB_STATIC }, { B3, M_R1B, B3R, MX_FDB_STATIC },
	{ BL, M_RL, BL1, MX_FDB_STATIC },  { BL, M_RL2, BL2, MX_FDB_STATIC },
	{ B2, M_R2A, B2R, MX_FDB_STATIC }, { B4, M_R2B, B4R, MX_FDB_STATIC },
	{ BD, M_R1D, BDR, MX_FDB_STATIC }, { B5, M_R3A, B5R, MX_FDB_STATIC },
	/* A down port keeps its entries: the datapath drops what is sent to it. */
	{ B1, M_PD, PD, MX_FDB_STATIC },   { B1, M_PDR, PDR, MX_FDB_REMOTE },
	{ B1, M_PO, PO, MX_FDB_STATIC },   { BD, M_PBD, PBD, MX_FDB_STATIC },
	{ B5, M_P11, P11, MX_FDB_STATIC },
};

/* The bridges' ARP tables (the datapath only reads them). */
struct arp_row {
	__u32 bridge;
	const char *addr;
	const uint8_t *mac;
};
static const struct arp_row arp_rows[] = {
	{ B1, "10.1.0.2", M_P2 },    { B1, "10.1.0.254", M_R1A }, { B3, "10.3.0.6", M_P6 },
	{ B3, "10.3.0.7", M_P6R },   { B3, "10.3.0.254", M_R1B }, { B2, "10.2.0.2", M_P3 },
	{ B2, "10.2.0.3", M_R3 },    { B2, "10.2.0.254", M_R2A }, { B4, "10.3.0.6", M_P7 },
	{ B4, "10.3.0.254", M_R2B }, { BD, "10.45.0.5", M_PBD }, { BD, "10.45.0.1", M_R1D },
	{ B5, "10.5.0.254", M_R3A }, { B5, "10.5.0.11", M_P11 },
};

/* PS's allowed address pairs: with a MAC of their own, or (NULL) with PS's fixed MAC. */
struct allowed_row {
	__u32 port;
	const char *addr;
	const uint8_t *mac;
};
static const struct allowed_row allowed_rows[] = {
	{ PS, PA_ADDR, M_PA },
	{ PS, PA2_ADDR, NULL },
};

/* Routes besides each router port's own (a /32 LOCAL, the connected /24); consecutive rows
 * of one prefix are one set (ECMP). */
struct route_row {
	__u32 router;
	const char *dst;
	int len;
	__u32 type;
	__u32 port;     /* MX_ROUTE_NORMAL: the egress router port */
	const char *gw; /* NULL: the destination is on the port's link */
	__u32 weight;
};
static const struct route_row routes[] = {
	{ R1, "10.9.0.0", 16, MX_ROUTE_NORMAL, U1, "192.168.1.254" },
	{ R1, "198.51.100.0", 24, MX_ROUTE_NORMAL, U3, "192.168.3.254" },
	{ R1, "172.16.0.0", 16, MX_ROUTE_NORMAL, U1, "192.168.1.254", 1 },
	{ R1, "172.16.0.0", 16, MX_ROUTE_NORMAL, U3, "192.168.3.254", 3 },
	{ R1, "203.0.113.0", 24, MX_ROUTE_NORMAL, U1, "192.168.1.200" }, /* no neighbour */
	{ R1, "203.0.114.0", 24, MX_ROUTE_NORMAL, U3, "192.168.3.200" }, /* no neighbour */
	{ R1, "10.88.1.0", 24, MX_ROUTE_NORMAL, RL, "10.88.0.254" },     /* round the loop */
	{ R1, "10.55.0.0", 16, MX_ROUTE_NORMAL, R2B },                   /* router 2's port */
	{ R1, "10.66.0.0", 16, MX_ROUTE_BLACKHOLE },
	{ R1, "10.77.0.0", 16, MX_ROUTE_REJECT },
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* Static neighbours of the routers; the datapath learns more, forgotten before each batch. */
struct neigh_row {
	__u32 router;
	const char *addr;
	const uint8_t *mac;
	__u32 port;
};
static const struct neigh_row neigh_rows[] = {
	{ R1, "192.168.1.254", M_GW1, U1 },
	{ R1, "192.168.3.254", M_GW3, U3 },
	{ R1, "10.88.0.254", M_RL2, RL },
};
#pragma GCC diagnostic pop

static struct mx_datapath *dp;
/* This process fuzzes behind the drop-everything infilter (struct fuzz_prog's drop_all), or
 * the reject-everything one (reject_all). */
static bool drop_all, reject_all;
/* Local ports flagged MX_PORT_XDP_RX, as the agent flags them with underlay_xdp on: the
 * differential run's datapath (underlay_xdp may deliver to every local port). */
static bool xdp_rx;
/* This process fuzzes behind static NAT on every port (struct fuzz_prog's nat). */
static bool nat_all;
/* This process fuzzes behind dynamic NAT on routers 1 and 2 (struct fuzz_prog's dyn). */
static bool dyn_nat;
/* The connections it opens: through router 1's SNAT (tenant A), router 2's (tenant B),
 * router 1's port forwarding. */
enum dyn_kind { DYN_A, DYN_B, DYN_D, DYN__MAX };

static unsigned char key_pos[KEY_SPACE];       /* index in keys[] + 1; 0: no key */
static const struct key_row *if_row[IF__MAX];  /* the port bound to each interface */

static bool key_is_port(const struct key_row *k)
{
	return k->key != k->device && k->key != HOST;
}

/* The indexes of keys[]; -1 if a key is out of their range. */
static int keys_index(void)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].key >= KEY_SPACE || N_KEYS >= 255)
			return -1;
		key_pos[keys[i].key] = i + 1;
		if (key_is_port(&keys[i]) && keys[i].iface != IF_NONE)
			if_row[keys[i].iface] = &keys[i];
	}
	return 0;
}

static const struct key_row *key_find(__u32 key)
{
	return key < KEY_SPACE && key_pos[key] ? &keys[key_pos[key] - 1] : NULL;
}

/* Set down, or of a device set down: nothing may enter or leave it. */
static bool key_down(const struct key_row *k)
{
	const struct key_row *dev = k ? key_find(k->device) : NULL;

	return k && (k->down || (dev && dev->down));
}

static bool device_is_router(__u32 device)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].device == device && keys[i].mac)
			return true;
	return false;
}

/* The router port with this MAC, or NULL. */
static const struct key_row *rport_by_mac(const uint8_t *mac)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].mac && !memcmp(keys[i].mac, mac, 6))
			return &keys[i];
	return NULL;
}

/* The port of router that has address addr, or NULL. */
static const struct key_row *rport_by_addr(__u32 router, uint32_t addr)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].mac && keys[i].device == router && frames_addr(keys[i].addr) == addr)
			return &keys[i];
	return NULL;
}

static const uint8_t *arp_find(__u32 bridge, uint32_t addr)
{
	for (size_t i = 0; i < sizeof(arp_rows) / sizeof(arp_rows[0]); i++)
		if (arp_rows[i].bridge == bridge && frames_addr(arp_rows[i].addr) == addr)
			return arp_rows[i].mac;
	return NULL;
}

/* ---- filling the maps, as the agent does ---- */

/* IPv4 forwarding on the underlay, as mx_attach_underlay sets it (bpf_fib_lookup needs it).
 * MTU 9000 everywhere, so that no flooded copy can fail (a veth drops what exceeds its
 * peer's MTU, which the flood counts as redirect-failed, or underlay-mtu, on a frame whose
 * verdict is TC_ACT_STOLEN) and drops match TC_ACT_SHOT exactly; 10.0.0.4's route has an
 * MTU of 1400 instead, so that the unicast MTU drop is fuzzed too. */
static int net_setup(void)
{
	for (int i = 0; i < IF__MAX; i++) {
		if (dp_veth(if_names[i], if_macs[i]) ||
		    dp_sh("ip link set %s mtu %d && ip link set %sv mtu %d", if_names[i], MTU,
			  if_names[i], MTU))
			return -1;
		ifx[i] = if_nametoindex(if_names[i]);
	}
	return dp_sh("sysctl -qw net.ipv4.conf.ul0.forwarding=1 && "
		     "ip addr add %s/24 dev ul0 && "
		     "ip neigh replace %s lladdr 02:00:00:00:00:02 dev ul0 nud permanent && "
		     "ip neigh replace %s lladdr 02:00:00:00:00:04 dev ul0 nud permanent && "
		     "ip route add %s/32 dev ul0 mtu lock %d",
		     LOCAL_ADDR, PEER_ADDR, SMALLMTU_ADDR, SMALLMTU_ADDR, SMALL_MTU);
}

static struct mx_config config(void)
{
	return (struct mx_config){ .tunnel_addr = frames_addr(LOCAL_ADDR),
				   .underlay_ifindex = ifx[IF_UL],
				   .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
}

/* The MAC table as configured; put back before every batch, since fuzzed frames learn over
 * it (a remote entry replaced by a local one would take a path out of the fuzzing). The
 * entries' slot hints (mx_fdb_entry.port_slot) vary by row: the port's own slot (known
 * unicast reads midox_portslot), none (midox_port_v2), or a stale one naming the slot of
 * tenant 2's P7 (the copy there is P7's, which must be passed over for the hash). */
static int fdb_restore(void)
{
	int err = 0;

	for (size_t i = 0; i < sizeof(fdb_rows) / sizeof(fdb_rows[0]); i++) {
		const struct fdb_row *r = &fdb_rows[i];
		struct mx_fdb_key k = { .bridge_key = r->bridge };
		struct mx_fdb_entry v = { .port_key = r->port, .flags = (__u16)r->flags };

		memcpy(k.mac, r->mac, 6);
		if (i % 3 == 0)
			v.port_slot = (__u16)dp_slot_of(r->port);
		else if (i % 3 == 1)
			v.port_slot = (__u16)dp_slot_of(P7);
		err |= mx_fdb_update(dp, &k, &v);
	}
	return err;
}

static int neigh_forget(const void *key, const void *value, void *ctx)
{
	const struct mx_neigh_entry *v = value;

	(void)ctx;
	if (!(v->flags & MX_NEIGH_STATIC))
		mx_neigh_delete(dp, key);
	return 0;
}

/* The routers' neighbours as configured: what fuzzed ARP taught them is forgotten before
 * every batch (a learned gateway would take the ARP-miss paths out of the fuzzing). Static
 * entries are never overwritten. */
static int neigh_restore(void)
{
	return mx_map_walk(dp, MX_MAP_ID_NEIGH, neigh_forget, NULL);
}

/* ICMP errors: the bucket full (errors flow), or empty from now on (suppressed). */
static int rate_set(bool dry)
{
	struct mx_icmp_rate v = { 0 };
	struct timespec now;

	if (dry) {
		clock_gettime(CLOCK_MONOTONIC, &now); /* bpf_ktime_get_ns's clock */
		v.last_ns = (__u64)now.tv_sec * 1000000000ull + now.tv_nsec;
	}
	return mx_icmp_rate_set(dp, &v);
}

/* As the agent: no down port in the flood set (a down bridge has none at all). */
static int bridge_fill(const struct key_row *br)
{
	struct mx_bridge b = { .n_remote = br->down ? 0 : 1 };

	b.remote_addr[0] = frames_addr(PEER_ADDR);
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].device == br->key && key_is_port(&keys[i]) &&
		    keys[i].iface != IF_NONE && !key_down(&keys[i]))
			b.local_ifindex[b.n_local++] = ifx[keys[i].iface];
	return mx_bridge_update(dp, br->key, &b);
}

/* A router port's own routes: its address (/32, LOCAL) and its subnet (/24, connected). */
static int rport_routes(const struct key_row *k)
{
	uint32_t addr = frames_addr(k->addr);
	struct mx_route_key lk = { 64, k->device, addr };
	struct mx_route_key ck = { 56, k->device, addr & htonl(0xffffff00) };
	struct mx_route local = { .n = 1 }, conn = { .n = 1 };

	local.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_LOCAL, .port_key = k->key };
	conn.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = k->key, .weight = 1 };
	return mx_route_update(dp, &lk, &local) | mx_route_update(dp, &ck, &conn);
}

/* P6's egress limit; not behind dynamic NAT, whose tenant check (dyn_round) sends from P6
 * before every batch and must not be limited. */
static bool port_limited(__u32 key)
{
	return key == P6 && !dyn_nat;
}

#define DROP_ALL_CHAIN 7
#define REJECT_ALL_CHAIN 8
#define NAT_ALL_CHAIN 9
#define NAT_ALL_DST "10.1.0.2"
#define NAT_ALL_SRC "10.1.0.9"

static int port_fill(const struct key_row *k)
{
	struct mx_port p = { .device_key = k->device, .host_addr = frames_addr(k->host),
			     .peer_key = k->peer };
	int err = 0;

	if (k->iface != IF_NONE) {
		p.flags = MX_PORT_LOCAL | (xdp_rx ? MX_PORT_XDP_RX : 0);
		p.ifindex = ifx[k->iface];
	} else if (k->host) {
		p.flags = MX_PORT_REMOTE;
	}
	if (k->peer)
		p.flags |= MX_PORT_INTERIOR;
	if (k->mac) {
		p.flags |= MX_PORT_ROUTER;
		memcpy(p.mac, k->mac, 6);
		p.addr = frames_addr(k->addr);
		p.prefix_len = 24;
		err |= rport_routes(k);
	}
	if (k->key == PS) {
		p.flags |= MX_PORT_FIXED_MAC | MX_PORT_FIXED_IP;
		memcpy(p.mac, M_PS, 6);
		p.addr = frames_addr(PS_ADDR);
	}
	if (k->key == PO) { /* port security off: the fixed MAC and address lock nothing */
		memcpy(p.mac, M_PO, 6);
		p.addr = frames_addr(PO_ADDR);
	}
	/* An egress limit of 10 Mbit/s, 10 kbit of burst: a batch from P6 (a frame every few
	 * us) is mostly over it, its first frames pass. */
	if (port_limited(k->key)) {
		struct mx_port_rate r = { .rate_bps = 10000000, .burst_ns = 1000000 };

		p.flags |= MX_PORT_RATE_LIMIT;
		err |= mx_rate_update(dp, k->key, &r);
	}
	/* Router 1 and bridge 1 track connections (as for a flow condition in their chains):
	 * every frame through them is parsed, looked up and maybe committed (a table far larger
	 * than a batch's new connections), beside devices that do not track. */
	if (k->device == R1 || k->device == B1)
		p.flags |= MX_PORT_DEVICE_CT;
	/* Behind dynamic NAT both routers track, and their device filters (dyn_install) apply
	 * to every port of theirs. */
	if (dyn_nat && (k->device == R1 || k->device == R2))
		p.flags |= MX_PORT_DEVICE_CT | MX_PORT_DEVICE_FILTERED;
	if (k->down)
		p.flags |= MX_PORT_ADMIN_DOWN;
	if (key_down(k) && !k->down)
		p.flags |= MX_PORT_DEVICE_DOWN;
	if (drop_all || reject_all || nat_all) {
		struct mx_filter f = { .owner = k->key,
				       .in_chain = drop_all     ? DROP_ALL_CHAIN :
						   reject_all ? REJECT_ALL_CHAIN :
								NAT_ALL_CHAIN };

		p.flags |= MX_PORT_FILTERED;
		err |= bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_FILTER), &k->key, &f,
					   BPF_ANY);
	}
	return err | dp_put_port(dp, k->key, &p);
}

/* The chain every port's infilter names when drop_all (reject_all): one rule, no
 * condition, drop (reject). */
static int drop_all_install(void)
{
	struct mx_rule_spec r = { .rule_id = 1, .type = drop_all ? MX_RULE_DROP : MX_RULE_REJECT,
				  .frag = MX_FRAG_DEFAULT,
				  .jump_to = MX_CHAIN_SPEC_MISSING,
				  .in_ports = MX_CHAIN_SPEC_NO_LIST,
				  .out_ports = MX_CHAIN_SPEC_NO_LIST,
				  .port_group = MX_CHAIN_SPEC_NO_LIST,
				  .in_port_group = MX_CHAIN_SPEC_NO_LIST,
				  .out_port_group = MX_CHAIN_SPEC_NO_LIST,
				  .ip_group_src = MX_CHAIN_SPEC_NO_LIST,
				  .ip_group_dst = MX_CHAIN_SPEC_NO_LIST };
	struct mx_chain_spec c = { drop_all ? DROP_ALL_CHAIN : REJECT_ALL_CHAIN, &r, 1 };
	struct mx_chain_program prog = { &c, 1, NULL, 0 };
	struct mx_chain_maps maps;

	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* The chain every port's infilter names when nat_all: DNAT of every packet to NAT_ALL_DST,
 * continue; SNAT of every packet to NAT_ALL_SRC, accept. */
static int nat_all_install(void)
{
	struct mx_rule_spec r[2];
	struct mx_chain_spec c = { NAT_ALL_CHAIN, r, 2 };
	struct mx_chain_program prog = { &c, 1, NULL, 0 };
	struct mx_chain_maps maps;

	for (int i = 0; i < 2; i++)
		r[i] = (struct mx_rule_spec){ .rule_id = 11 + i, .frag = MX_FRAG_DEFAULT,
					      .jump_to = MX_CHAIN_SPEC_MISSING,
					      .in_ports = MX_CHAIN_SPEC_NO_LIST,
					      .out_ports = MX_CHAIN_SPEC_NO_LIST,
					      .port_group = MX_CHAIN_SPEC_NO_LIST,
					      .in_port_group = MX_CHAIN_SPEC_NO_LIST,
					      .out_port_group = MX_CHAIN_SPEC_NO_LIST,
					      .ip_group_src = MX_CHAIN_SPEC_NO_LIST,
					      .ip_group_dst = MX_CHAIN_SPEC_NO_LIST };
	r[0].type = MX_RULE_DNAT;
	r[0].nat_action = MX_RULE_CONTINUE;
	r[0].nat_addr = frames_addr(NAT_ALL_DST);
	r[1].type = MX_RULE_SNAT;
	r[1].nat_addr = frames_addr(NAT_ALL_SRC);
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog);
}

/* Dynamic NAT (docs/nat.md, "Dynamic NAT"), when dyn_nat: both routers track connections
 * and have device filters. Router 1 (tenant A): its infilter a rev_snat of what comes back
 * to SNAT_A, then port forwarding (TCP to DNAT_A:8080 to P2's 10.1.0.2:80); its outfilter
 * a rev_dnat of 10.1.0.2's replies from port 80, then a SNAT of 10.0.0.0/8 leaving by the
 * uplink U1 to SNAT_A, ports 1024-1087 (the one block this host leases). Router 2 (tenant
 * B, the same 10.3.0.0/24 behind R2B as behind R1B) routes 10.9.0.0/16 out of R2A to P3's
 * 10.2.0.2 and SNATs it there to SNAT_B, same ports; R2A is a stateful firewall: what
 * enters by it is rev_snat'ed (continue), accepted if it is a return flow, else dropped. */
enum { C_DYN_A_IN = 21, C_DYN_A_OUT, C_DYN_B_IN, C_DYN_B_OUT };
enum { R_DYN_A_REVSNAT = 211, R_DYN_A_DNAT, R_DYN_A_REVDNAT = 221, R_DYN_A_SNAT,
       R_DYN_B_REVSNAT = 231, R_DYN_B_RETURN, R_DYN_B_DROP, R_DYN_B_SNAT = 241 };
#define SNAT_A "192.168.1.10"
#define DNAT_A "192.168.1.20"
#define SNAT_B "10.2.0.100"
#define DYN_FWD_ADDR "10.1.0.2" /* P2: DNAT_A:8080 goes to its port 80 */
#define DYN_GW_B "10.2.0.2"     /* P3: router 2's way to 10.9.0.0/16 */
#define DYN_PORT_LO 1024
#define DYN_PORT_HI 1087
#define DYN_LEASE_BLOCK 16      /* 16 * 64 = 1024: ports 1024-1087 */

static struct mx_rule_spec dyn_rule(__u32 id, __u8 type)
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

/* A SNAT of 10.0.0.0/8 leaving by the port of list `list` to addr, ports 1024-1087. */
static struct mx_rule_spec dyn_snat(__u32 id, __u32 list, const char *addr)
{
	struct mx_rule_spec r = dyn_rule(id, MX_RULE_SNAT);

	r.conds = MX_COND_SRC | MX_COND_OUT_PORTS;
	r.src = frames_addr("10.0.0.0");
	r.src_len = 8;
	r.out_ports = list;
	r.nat_lo = r.nat_hi = frames_addr(addr);
	r.nat_port_lo = DYN_PORT_LO;
	r.nat_port_hi = DYN_PORT_HI;
	r.nat_ports = 1;
	return r;
}

/* This host's one block of ports for addr, on every CPU (as the agent's lease keeper). */
static int dyn_lease(const char *addr)
{
	int ncpu = libbpf_num_possible_cpus(), fd = mx_datapath_map_fd(dp, MX_MAP_ID_NAT_LEASE);
	struct mx_nat_lease *v;
	__be32 key = frames_addr(addr);
	int err;

	if (ncpu <= 0 || !(v = calloc((size_t)ncpu, sizeof(*v))))
		return -1;
	for (int c = 0; c < ncpu; c++) {
		v[c].n_blocks = 1;
		v[c].block[0] = DYN_LEASE_BLOCK;
	}
	err = bpf_map_update_elem(fd, &key, v, BPF_ANY);
	free(v);
	return err;
}

static int dyn_install(void)
{
	static const __u32 u1[] = { U1 }, r2a[] = { R2A };
	static const struct mx_chain_list lists[] = { { u1, 1 }, { r2a, 1 } };
	struct mx_rule_spec a_in[2] = { dyn_rule(R_DYN_A_REVSNAT, MX_RULE_REV_SNAT),
					dyn_rule(R_DYN_A_DNAT, MX_RULE_DNAT) };
	struct mx_rule_spec a_out[2] = { dyn_rule(R_DYN_A_REVDNAT, MX_RULE_REV_DNAT),
					 dyn_snat(R_DYN_A_SNAT, 0, SNAT_A) };
	struct mx_rule_spec b_in[3] = { dyn_rule(R_DYN_B_REVSNAT, MX_RULE_REV_SNAT),
					dyn_rule(R_DYN_B_RETURN, MX_RULE_ACCEPT),
					dyn_rule(R_DYN_B_DROP, MX_RULE_DROP) };
	struct mx_rule_spec b_out[1] = { dyn_snat(R_DYN_B_SNAT, 1, SNAT_B) };
	struct mx_chain_spec chains[] = { { C_DYN_A_IN, a_in, 2 }, { C_DYN_A_OUT, a_out, 2 },
					  { C_DYN_B_IN, b_in, 3 }, { C_DYN_B_OUT, b_out, 1 } };
	struct mx_chain_program prog = { chains, 4, lists, 2 };
	struct mx_filter fa = { R1, C_DYN_A_IN, C_DYN_A_OUT }, fb = { R2, C_DYN_B_IN, C_DYN_B_OUT };
	struct mx_route_key rk = { 32 + 16, R2, frames_addr("10.9.0.0") };
	struct mx_route rv = { .n = 1 };
	struct mx_neigh_key nk = { .router_key = R2, .addr = frames_addr(DYN_GW_B) };
	struct mx_neigh_entry ne = { .flags = MX_NEIGH_STATIC, .port_key = R2A };
	/* Router 1 knows P1's MAC, so that replies to P1's connections come back as data. */
	struct mx_neigh_key nk1 = { .router_key = R1, .addr = frames_addr("10.1.0.1") };
	struct mx_neigh_entry ne1 = { .flags = MX_NEIGH_STATIC, .port_key = R1A };
	struct mx_chain_maps maps;
	int ffd = mx_datapath_map_fd(dp, MX_MAP_ID_FILTER);
	__u32 r1 = R1, r2 = R2;

	nat_rules_forward(a_in, &a_out[0], frames_addr(SNAT_A), frames_addr(DNAT_A),
			  frames_addr(DYN_FWD_ADDR));
	for (int i = 0; i < 3; i++) {
		b_in[i].conds = MX_COND_IN_PORTS;
		b_in[i].in_ports = 1;
	}
	b_in[0].nat_action = MX_RULE_CONTINUE;
	b_in[1].conds |= MX_COND_RETURN_FLOW;
	rv.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = R2A,
					.gw = frames_addr(DYN_GW_B), .weight = 1 };
	memcpy(ne.mac, M_P3, 6);
	memcpy(ne1.mac, M_P1, 6);
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog) || bpf_map_update_elem(ffd, &r1, &fa, BPF_ANY) ||
	       bpf_map_update_elem(ffd, &r2, &fb, BPF_ANY) || dyn_lease(SNAT_A) ||
	       dyn_lease(SNAT_B) || mx_route_update(dp, &rk, &rv) ||
	       mx_neigh_update(dp, &nk, &ne) || mx_neigh_update(dp, &nk1, &ne1) ? -1 : 0;
}

static bool same_prefix(const struct route_row *a, const struct route_row *b)
{
	return a->router == b->router && a->len == b->len && !strcmp(a->dst, b->dst);
}

static int routes_fill(void)
{
	int err = 0;

	for (size_t i = 0, j; i < N_ROUTES; i = j) {
		struct mx_route_key k = { 32 + routes[i].len, routes[i].router,
					  frames_addr(routes[i].dst) };
		struct mx_route v = { 0 };

		for (j = i; j < N_ROUTES && same_prefix(&routes[i], &routes[j]) &&
			    v.n < MX_ROUTE_MAX_NEXTHOPS; j++)
			v.nh[v.n++] = (struct mx_nexthop){
				.type = routes[j].type, .port_key = routes[j].port,
				.gw = frames_addr(routes[j].gw),
				.weight = routes[j].weight ? routes[j].weight : 1 };
		err |= mx_route_update(dp, &k, &v);
	}
	return err;
}

static int maps_setup(void)
{
	struct mx_config cfg = config();
	struct mx_tunpeer tp = { 0 };
	int err = mx_config_set(dp, &cfg) | routes_fill();

	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_row *k = &keys[i];

		if (key_is_port(k))
			err |= port_fill(k);
		else if (k->key != HOST && !device_is_router(k->key))
			err |= bridge_fill(k);
	}
	for (size_t i = 0; i < sizeof(allowed_rows) / sizeof(allowed_rows[0]); i++) {
		struct mx_allowed_key ak = { .port_key = allowed_rows[i].port,
					     .addr = frames_addr(allowed_rows[i].addr) };
		struct mx_allowed av = { 0 };

		if (allowed_rows[i].mac) {
			av.flags = MX_ALLOWED_MAC;
			memcpy(av.mac, allowed_rows[i].mac, 6);
		}
		err |= mx_allowed_update(dp, &ak, &av);
	}
	for (size_t i = 0; i < sizeof(arp_rows) / sizeof(arp_rows[0]); i++) {
		struct mx_arp_key ak = { .bridge_key = arp_rows[i].bridge,
					 .addr = frames_addr(arp_rows[i].addr) };
		struct mx_arp_entry ae = { 0 };

		memcpy(ae.mac, arp_rows[i].mac, 6);
		err |= mx_arp_update(dp, &ak, &ae);
	}
	for (size_t i = 0; i < sizeof(neigh_rows) / sizeof(neigh_rows[0]); i++) {
		struct mx_neigh_key rk = { .router_key = neigh_rows[i].router,
					  .addr = frames_addr(neigh_rows[i].addr) };
		struct mx_neigh_entry re = { .flags = MX_NEIGH_STATIC, .port_key = neigh_rows[i].port };

		memcpy(re.mac, neigh_rows[i].mac, 6);
		err |= mx_neigh_update(dp, &rk, &re);
	}
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]) - 1; i++)
		err |= mx_tunpeer_update(dp, frames_addr(hosts[i]), &tp);
	err |= fdb_restore();
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

/* ---- flow state (docs/conntrack.md, "Cross-host state") ----
 * VXLAN with the VNI MX_FS_VNI carries a struct mx_fs_hdr (magic, version, count, the real
 * VNI) and count records of struct mx_fs_record before the inner frame. */

struct fs_view {
	__u32 vni;          /* the real VNI (the outer one for plain VXLAN) */
	size_t inner;       /* where the inner Ethernet frame starts */
	unsigned int count; /* records; 0: plain VXLAN */
};

static bool fs_state_ok(uint8_t proto, uint8_t state)
{
	switch (proto) {
	case 6: return state <= MX_CT_TCP_CLOSE;
	case 17: return state == MX_CT_UDP || state == MX_CT_UDP_STREAM;
	case 1: return state == MX_CT_ICMP;
	}
	return false;
}

/* The flow-state area after the VXLAN header at vx of f, as underlay_ingress's import reads
 * it (bpf/lib/flowstate_import.h): NULL and *v, or why it is malformed. A frame with another
 * VNI is plain VXLAN (count 0). */
static const char *fs_parse(const uint8_t *f, size_t len, size_t vx, struct fs_view *v)
{
	const uint8_t *h = f + vx + 8, *rec;

	*v = (struct fs_view){ get32(f + vx + 4) >> 8, vx + 8, 0 };
	if (v->vni != MX_FS_VNI)
		return NULL;
	if (len < vx + 8 + sizeof(struct mx_fs_hdr))
		return "flow state: cut inside its header";
	v->count = h[3];
	v->vni = get32(h + 4);
	v->inner = vx + 8 + MX_FS_LEN(v->count);
	if (get16(h) != MX_FS_MAGIC || h[2] != MX_FS_VERSION)
		return "flow state: bad magic or version";
	if (!v->count || v->count > MX_FS_REC_MAX)
		return "flow state: a count of records not 1 to 15";
	if (v->vni < MX_TUNNEL_KEY_MIN || v->vni > MX_TUNNEL_KEY_MAX)
		return "flow state: a real VNI out of range";
	if (len < v->inner + 14)
		return "flow state: records or inner Ethernet header cut short";
	for (unsigned int i = 0; i < v->count; i++) {
		rec = h + MX_FS_LEN(i);
		if (!get32(rec) || rec[17] < MX_FS_OP_NEW || rec[17] > MX_FS_OP_DELETE ||
		    (rec[17] != MX_FS_OP_DELETE && !fs_state_ok(rec[16], rec[18])))
			return "flow state: a record with device 0, an unknown op or a state not "
			       "of its protocol";
	}
	return NULL;
}

/* The flow-state area of a VXLAN frame (vx 0: none), or plain VXLAN for a malformed one. */
static struct fs_view fs_view(const uint8_t *f, size_t len, size_t vx)
{
	struct fs_view v = { MX_TUNNEL_KEY_NONE, vx + 8, 0 };

	if (vx && fs_parse(f, len, vx, &v))
		v = (struct fs_view){ MX_TUNNEL_KEY_NONE, vx + 8, 0 };
	return v;
}

/* Whether f is VXLAN with the flow-state VNI. */
static bool fs_vni(const uint8_t *f, size_t len)
{
	size_t vx = vxlan_at(f, len);

	return vx && len >= vx + 8 && get32(f + vx + 4) >> 8 == MX_FS_VNI;
}

/* The VNI of a frame that looks like VXLAN (the real one of well-formed flow state), or
 * MX_TUNNEL_KEY_NONE (malformed flow state too: it names no port or bridge). */
static __u32 vxlan_vni(const uint8_t *f, size_t len)
{
	size_t vx = vxlan_at(f, len);

	return vx ? fs_view(f, len, vx).vni : MX_TUNNEL_KEY_NONE;
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

/* ---- the routers, as their tables say ---- */

/* The type of the first hop of router's route set for dst, 0 when none covers it. */
static __u32 route_type(__u32 router, uint32_t dst)
{
	struct mx_route_key k = { 64, router, dst };
	struct mx_route rt;

	return mx_route_lookup(dp, &k, &rt) || !rt.n ? 0 : rt.nh[0].type;
}

/* What router e->device does with a packet to daddr that leaves by its port e: the next
 * hop's address in *next and, when the router knows it, its MAC in mac (its neighbour
 * table, else the peer bridge's ARP table, or the peer router port's own MAC). 1: MAC
 * known, 0: not (an ARP request is due), -1: no route to daddr has a hop out of e. */
static int neigh_model(const struct key_row *e, uint32_t daddr, uint32_t *next, uint8_t *mac)
{
	struct mx_route_key k = { 64, e->device, daddr };
	const struct mx_nexthop *nh = NULL;
	const struct key_row *peer;
	struct mx_neigh_entry re;
	struct mx_neigh_key rk;
	const uint8_t *a;
	struct mx_route rt;

	if (mx_route_lookup(dp, &k, &rt))
		return -1;
	for (__u32 i = 0; i < rt.n && i < MX_ROUTE_MAX_NEXTHOPS && !nh; i++)
		if (rt.nh[i].type == MX_ROUTE_NORMAL && rt.nh[i].port_key == e->key)
			nh = &rt.nh[i];
	if (!nh)
		return -1;
	*next = nh->gw ? nh->gw : daddr;
	rk = (struct mx_neigh_key){ .router_key = e->device, .addr = *next };
	if (!mx_neigh_lookup(dp, &rk, &re)) {
		memcpy(mac, re.mac, 6);
		return 1;
	}
	peer = e->peer ? key_find(e->peer) : NULL;
	a = !peer ? NULL : peer->mac ? peer->mac : arp_find(peer->device, *next);
	if (a)
		memcpy(mac, a, 6);
	return a != NULL;
}

/* ---- the programs ---- */

/* One run: what went in and came out. */
struct frame {
	enum ifid iface;
	int verdict;
	const uint8_t *in, *out;
	size_t in_len, out_len;
	bool to_router; /* the frame may get into a router (enters_router) */
};

/* Whether frame f may be sent to key (a port, bridge or router): count it as tx there,
 * carry its VNI, be routed or answered by it. */
typedef bool (*reach_fn)(__u32 key, const struct frame *f);

/* Whether a frame in by iface may get into a router: it came in by a router port, or its
 * destination is the MAC of a router port linked to the ingress port's bridge. */
static bool enters_router(enum ifid iface, const uint8_t *in, size_t len)
{
	const struct key_row *from = if_row[iface], *peer;

	if (!from || len < 6)
		return false;
	if (device_is_router(from->device))
		return true;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].device != from->device || !keys[i].peer)
			continue;
		peer = key_find(keys[i].peer);
		if (peer && peer->mac && !memcmp(in, peer->mac, 6))
			return true;
	}
	return false;
}

/* port_ingress: anything of the ingress port's device; through a router, anything of its
 * tenant; nothing of another tenant. */
static bool port_reach(__u32 key, const struct frame *f)
{
	const struct key_row *k = key_find(key), *from = if_row[f->iface];

	if ((f->verdict != TC_ACT_REDIRECT && f->verdict != TC_ACT_STOLEN) || !k || !from ||
	    key_down(k))
		return false;
	if (k->device == from->device)
		return true;
	return k->tenant == from->tenant && f->to_router;
}

/* underlay_ingress: redirected to the local port the VNI names, or flooded (stolen) to the
 * local ports of the bridge it names. */
static bool underlay_reach(__u32 key, const struct frame *f)
{
	const struct key_row *k = key_find(key), *v = key_find(vxlan_vni(f->in, f->in_len));

	if (!k || !v || !key_is_port(k) || k->iface == IF_NONE || key_down(k))
		return false;
	if (f->verdict == TC_ACT_REDIRECT)
		return v->key == key;
	return f->verdict == TC_ACT_STOLEN && v->key == v->device && !device_is_router(v->key) &&
	       k->device == v->key;
}

enum shape {
	SH_SAME,
	SH_ENCAP,
	SH_ARP_REPLY,
	SH_ROUTED,
	SH_ROUTED_ENCAP,
	SH_ECHO_REPLY,
	SH_ICMP_ERROR,
	SH_ARP_REQUEST,
	SH_ARP_REQUEST_ENCAP,
	SH_DECAP,
	SH_REJECT_ANSWER,
	SH_NAT,
	SH__MAX
};
static const char *const shape_names[SH__MAX] = {
	[SH_SAME] = "unchanged",
	[SH_ENCAP] = "encapsulated",
	[SH_ARP_REPLY] = "ARP replies",
	[SH_ROUTED] = "routed",
	[SH_ROUTED_ENCAP] = "routed in VXLAN",
	[SH_ECHO_REPLY] = "echo replies",
	[SH_ICMP_ERROR] = "ICMP errors",
	[SH_REJECT_ANSWER] = "reject answers",
	[SH_ARP_REQUEST] = "ARP requests",
	[SH_ARP_REQUEST_ENCAP] = "ARP requests in VXLAN",
	[SH_DECAP] = "decapsulated",
	[SH_NAT] = "NATed with valid checksums",
};

static bool shape_encapsulated(enum shape sh)
{
	return sh == SH_ENCAP || sh == SH_ROUTED_ENCAP || sh == SH_ARP_REQUEST_ENCAP;
}

/* A packet the router counted as dropped and sent on as something else. */
static bool shape_replaces_drop(enum shape sh)
{
	return sh == SH_ICMP_ERROR || sh == SH_ARP_REQUEST || sh == SH_ARP_REQUEST_ENCAP ||
	       sh == SH_REJECT_ANSWER;
}

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

/* The answer's MAC is the ingress bridge's entry for the address asked, or the router port
 * that has the address (a router answers for the port the request came in by). */
static const char *arp_reply_check(const struct frame *f, const uint8_t *o)
{
	const struct key_row *from = if_row[f->iface], *e = rport_by_mac(o + 6);
	const uint8_t *mac;
	uint32_t tpa;

	memcpy(&tpa, f->in + 38, 4);
	mac = from ? arp_find(from->device, tpa) : NULL;
	if (mac && !memcmp(mac, o + 6, 6))
		return NULL;
	if (e && frames_addr(e->addr) == tpa && port_reach(e->device, f))
		return NULL;
	return "ARP reply with a MAC neither the bridge's table nor a reachable router port has "
	       "for the address";
}

/* Routed: as it came from the ethertype on, but the TTL and the header checksum. */
static bool is_routed(const uint8_t *in, size_t in_len, const uint8_t *o, size_t olen)
{
	return olen == in_len && in_len >= 34 && get16(in + 12) == 0x0800 &&
	       !memcmp(o + 12, in + 12, 10) && o[23] == in[23] &&
	       !memcmp(o + 26, in + 26, in_len - 26);
}

/* Whether the input's IPv4 header verifies: a router acts only on those (RFC 1812 5.2.2). */
static bool in_header_valid(const struct frame *f)
{
	size_t ihl = (f->in[14] & 0x0f) * 4u;

	return f->in_len >= 34 && ihl >= 20 && 14 + ihl <= f->in_len &&
	       !frames_csum(f->in + 14, ihl);
}

/* By a router the frame may reach, out of one of its ports, to the MAC of the next hop the
 * route tables give for that port, TTL one lower, the checksum updated with it; never a
 * packet whose header checksum was invalid. */
static const char *routed_check(const struct frame *f, const uint8_t *o)
{
	const uint8_t *in = f->in;
	const struct key_row *e = rport_by_mac(o + 6);
	size_t ihl = (in[14] & 0x0f) * 4u;
	uint32_t daddr, next;
	uint8_t mac[6];

	if (!e || !port_reach(e->device, f))
		return "routed: not from a port of a router the frame may reach";
	if (key_down(e) || (e->peer && key_down(key_find(e->peer))))
		return "routed out of a port that is down, or linked to one";
	if (!in_header_valid(f))
		return "routed a packet whose IPv4 header checksum is invalid";
	if (in[22] <= 1 || o[22] != in[22] - 1)
		return "routed: TTL not one lower";
	if (ihl < 20 || 14 + ihl > f->in_len)
		return "routed: IPv4 header with a bad IHL";
	if (frames_csum(o + 14, ihl) != frames_csum(in + 14, ihl))
		return "routed: IPv4 header checksum not updated with the TTL";
	memcpy(&daddr, in + 30, 4);
	switch (neigh_model(e, daddr, &next, mac)) {
	case -1:
		return "routed out of a port no route to the destination uses";
	case 0:
		return "routed to a next hop whose MAC the router does not know";
	}
	return memcmp(o, mac, 6) ? "routed: destination MAC not the next hop's" : NULL;
}

static bool is_echo_reply(const uint8_t *in, size_t in_len, const uint8_t *o, size_t olen)
{
	size_t icmp = 14 + (in[14] & 0x0f) * 4u;

	return olen == in_len && in_len >= 34 && get16(in + 12) == 0x0800 && in[23] == 1 &&
	       icmp + 8 <= in_len && in[icmp] == 8 && get16(o + 12) == 0x0800 && o[23] == 1 &&
	       o[icmp] == 0;
}

/* Back to the asker, from an address of a router it may reach, addresses swapped, TTL 64,
 * type 0, both checksums updated; nothing else changed. */
static const char *echo_reply_check(const struct frame *f, const uint8_t *o)
{
	const uint8_t *in = f->in;
	const struct key_row *e = rport_by_mac(o + 6);
	size_t len = f->in_len, icmp = 14 + (in[14] & 0x0f) * 4u;
	uint8_t t[FRAMES_MAX + 256];
	uint32_t src;

	if (!e || !port_reach(e->device, f))
		return "echo reply not from a port of a router the frame may reach";
	if (!in_header_valid(f))
		return "echo reply to a packet whose IPv4 header checksum is invalid";
	memcpy(&src, o + 26, 4);
	if (!rport_by_addr(e->device, src))
		return "echo reply from an address its router does not have";
	if (memcmp(o, in + 6, 6) || memcmp(o + 26, in + 30, 4) || memcmp(o + 30, in + 26, 4))
		return "echo reply not back to the asker, addresses swapped";
	if (o[22] != 64)
		return "echo reply TTL not 64";
	if (frames_csum(o + 14, icmp - 14) != frames_csum(in + 14, icmp - 14) ||
	    frames_csum(o + icmp, len - icmp) != frames_csum(in + icmp, len - icmp))
		return "echo reply checksums not updated";
	memcpy(t, o, len);
	memcpy(t, in, 12);
	t[22] = in[22];
	memcpy(t + 24, in + 24, 10);
	memcpy(t + icmp, in + icmp, 4);
	return memcmp(t, in, len) ? "echo reply changes more than MACs, addresses, TTL and type" :
				    NULL;
}

static bool icmp_type_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Where RFC 1812 (4.3.2.7) allows an error about in, why not. */
static const char *icmp_error_forbidden(const uint8_t *in, size_t in_len)
{
	size_t icmp = 14 + (in[14] & 0x0f) * 4u;
	uint32_t src = get32(in + 26);

	if (get16(in + 20) & 0x1fff)
		return "ICMP error about a later fragment";
	if (!src || src == 0xffffffff || src >> 28 == 0xe)
		return "ICMP error to a source that names no single host";
	if (in[23] == 1 && in_len > icmp && icmp_type_error(in[icmp]))
		return "ICMP error about an ICMP error";
	return NULL;
}

/* The quote: the input's IPv4 header and 8 bytes of what follows (20 when the kernel will
 * not cut shorter), no more than it has; as the router dropped it, so with a lower TTL (and
 * its checksum) if a router had passed it on before. */
static const char *icmp_quote_check(const uint8_t *in, size_t in_len, const uint8_t *o,
				    size_t olen)
{
	size_t ihl = (in[14] & 0x0f) * 4u, q = olen - 42, tot = get16(in + 16);
	size_t avail = in_len - 14 < tot ? in_len - 14 : tot;
	uint8_t quote[60 + 20];

	if (q != (ihl + 8 < avail ? ihl + 8 : avail) && q != (ihl + 20 < avail ? ihl + 20 : avail))
		return "ICMP error quote of a wrong length";
	if (q < 20)
		return "ICMP error quote shorter than an IPv4 header";
	memcpy(quote, o + 42, q);
	if (quote[8] > in[22])
		return "ICMP error quotes a TTL above the input's";
	if (quote[8] != in[22]) {
		quote[8] = in[22];
		memcpy(quote + 10, in + 24, 2);
	}
	return memcmp(quote, in + 14, q) ? "ICMP error does not quote the input" : NULL;
}

/* From the router port the frame came in by (its MAC and address), back to the sender, a
 * new valid header, valid ICMP checksum, the quote, and the type the tables imply: time
 * exceeded for TTL <= 1, unreachable for no route, prohibited for a reject route. */
static const char *icmp_error_check(const struct frame *f, const uint8_t *o, size_t olen)
{
	const uint8_t *in = f->in;
	const struct key_row *e = rport_by_mac(o + 6);
	uint32_t from, dst;
	const char *why;
	__u32 rt;

	if (!e || !port_reach(e->device, f))
		return "ICMP error not from a port of a router the frame may reach";
	if (!in_header_valid(f))
		return "ICMP error about a packet whose IPv4 header checksum is invalid";
	why = ipv4_check(f->in, f->in_len, o, olen, 14);
	if (why)
		return why;
	memcpy(&from, o + 26, 4);
	if (o[14] != 0x45 || o[15] != 0xc0 || o[22] != 64 || from != frames_addr(e->addr))
		return "ICMP error header: not IHL 5, TOS 0xc0, TTL 64 from the port's address";
	if (memcmp(o, in + 6, 6) || memcmp(o + 30, in + 26, 4))
		return "ICMP error not back to the sender";
	if (frames_csum(o + 34, olen - 34) || get32(o + 38))
		return "ICMP error checksum invalid, or its unused word not zero";
	why = icmp_error_forbidden(in, f->in_len);
	if (!why)
		why = icmp_quote_check(in, f->in_len, o, olen);
	if (why)
		return why;
	memcpy(&dst, in + 30, 4);
	rt = route_type(e->device, dst);
	switch (get16(o + 34)) {
	case 0x0b00:
		return o[50] <= 1 ? NULL : "ICMP time exceeded for a TTL above 1";
	case 0x0300:
		return o[50] > 1 && !rt ? NULL : "ICMP net unreachable with a route or TTL <= 1";
	case 0x030d:
		return o[50] > 1 && rt == MX_ROUTE_REJECT ? NULL :
							     "ICMP prohibited without a reject route";
	default:
		return "ICMP error of a type or code the router never sends";
	}
}

/* 60 bytes, broadcast, from a port of a router the frame may reach (its MAC and address),
 * for the next hop of the route out of that port, whose MAC the router does not know. */
static const char *arp_request_check(const struct frame *f, const uint8_t *o, size_t olen)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 }, zero[18];
	const struct key_row *e = rport_by_mac(o + 6);
	uint32_t daddr, next, spa, tpa;
	uint8_t mac[6];

	if (!e || !port_reach(e->device, f))
		return "ARP request not from a port of a router the frame may reach";
	if (key_down(e) || (e->peer && key_down(key_find(e->peer))))
		return "ARP request out of a port that is down, or linked to one";
	if (olen != 60 || memcmp(o, BCAST, 6) || memcmp(o + 14, head, 8) ||
	    memcmp(o + 22, e->mac, 6) || memcmp(o + 32, zero, 6) || memcmp(o + 42, zero, 18))
		return "router's ARP request: not 60 bytes, broadcast, from the port's MAC, padded "
		       "with zeros";
	memcpy(&spa, o + 28, 4);
	memcpy(&tpa, o + 38, 4);
	if (spa != frames_addr(e->addr))
		return "router's ARP request not from the port's address";
	if (f->in_len < 34 || get16(f->in + 12) != 0x0800)
		return "router's ARP request for a frame that is not IPv4";
	memcpy(&daddr, f->in + 30, 4);
	switch (neigh_model(e, daddr, &next, mac)) {
	case -1:
		return "ARP request out of a port no route to the destination uses";
	case 1:
		return "ARP request for a next hop whose MAC the router knows";
	}
	return tpa != next ? "ARP request not for the next hop" : NULL;
}

/* What o, sent by port_ingress for f->in, is: its shape, and in *why what is wrong with it. */
static enum shape inner_shape(const struct frame *f, const uint8_t *o, size_t olen,
			      const char **why)
{
	const uint8_t *in = f->in;
	size_t in_len = f->in_len;

	if (olen == in_len && !memcmp(o, in, olen))
		return SH_SAME;
	if (arp_reply_to(in, in_len, o, olen)) {
		*why = arp_reply_check(f, o);
		return SH_ARP_REPLY;
	}
	if (is_routed(in, in_len, o, olen)) {
		*why = routed_check(f, o);
		return SH_ROUTED;
	}
	if (is_echo_reply(in, in_len, o, olen)) {
		*why = echo_reply_check(f, o);
		return SH_ECHO_REPLY;
	}
	if (olen >= 42 && get16(o + 12) == 0x0800 && o[23] == 1 && icmp_type_error(o[34])) {
		*why = in_len >= 34 && get16(in + 12) == 0x0800 ?
			       icmp_error_check(f, o, olen) :
			       "ICMP error about a frame that is not IPv4";
		return SH_ICMP_ERROR;
	}
	if (olen >= 42 && get16(o + 12) == 0x0806 && get16(o + 20) == 1) {
		*why = arp_request_check(f, o, olen);
		return SH_ARP_REQUEST;
	}
	return SH__MAX;
}

/* The devices of the topology that track connections (their ports say MX_PORT_DEVICE_CT). */
static bool device_tracks(__u32 device)
{
	return device == R1 || device == B1;
}

/* A record port_ingress wrote for input in: of a device that tracks, op and state as the
 * import checks them, nothing in the reserved NAT fields, the key the input's tuple (TCP,
 * UDP: addresses and ports; ICMP echo: its id as both ports) or its reverse. */
static const char *fs_record_check(const uint8_t *in, size_t in_len, const uint8_t *rec)
{
	static const uint8_t zero[12];
	size_t ihl = (in[14] & 0x0f) * 4u, l4 = 14 + ihl;
	uint8_t sport[2], dport[2];

	if (!device_tracks(get32(rec)))
		return "flow state: a record of a device that does not track connections";
	if ((rec[19] & ~(MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY)) || memcmp(rec + 20, zero, 12))
		return "flow state: a record with NAT flags or fields (none is made yet)";
	if (in_len < 34 || get16(in + 12) != 0x0800 || ihl < 20 || rec[16] != in[23])
		return "flow state: a record of a protocol the input does not have";
	if (in[23] == 1 && in_len >= l4 + 6 && (in[l4] == 8 || in[l4] == 0)) {
		memcpy(sport, in + l4 + 4, 2);
		memcpy(dport, in + l4 + 4, 2);
	} else if (in[23] != 1 && in_len >= l4 + 4) {
		memcpy(sport, in + l4, 2);
		memcpy(dport, in + l4 + 2, 2);
	} else {
		return "flow state: a record of an input without ports or an echo id";
	}
	if (!memcmp(rec + 4, in + 26, 4) && !memcmp(rec + 8, in + 30, 4) &&
	    !memcmp(rec + 12, sport, 2) && !memcmp(rec + 14, dport, 2))
		return NULL;
	if (!memcmp(rec + 4, in + 30, 4) && !memcmp(rec + 8, in + 26, 4) &&
	    !memcmp(rec + 12, dport, 2) && !memcmp(rec + 14, sport, 2))
		return NULL;
	return "flow state: a record whose key is neither the input's tuple nor its reverse";
}

/* port_ingress: a shape of its own, or one of those in VXLAN (outer headers of 50 bytes),
 * with flow state between the VXLAN header and the inner frame when the pass wrote any. */
static enum shape port_shape(const struct frame *f, const char **why)
{
	enum shape sh = inner_shape(f, f->out, f->out_len, why);
	struct fs_view v;

	if (sh != SH__MAX || vxlan_at(f->out, f->out_len) != 42 || f->out_len < 50 + 14)
		return sh;
	*why = fs_parse(f->out, f->out_len, 42, &v);
	for (unsigned int i = 0; !*why && i < v.count; i++)
		*why = fs_record_check(f->in, f->in_len, f->out + 50 + MX_FS_LEN(i));
	if (*why)
		return SH__MAX;
	switch (inner_shape(f, f->out + v.inner, f->out_len - v.inner, why)) {
	case SH_SAME:
		return SH_ENCAP;
	case SH_ROUTED:
		return SH_ROUTED_ENCAP;
	case SH_ARP_REQUEST:
		return SH_ARP_REQUEST_ENCAP;
	case SH__MAX:
		return SH__MAX;
	default:
		*why = "an answer sent back in VXLAN";
		return SH__MAX;
	}
}

/* Behind the reject-everything infilter every frame is rejected where it enters: the only
 * output is the answer, back to the sender from the MAC it sent to (a bridge port: from the
 * destination address; a router port: from its own address for ICMP), for an IPv4 frame
 * the kernel's REJECT answers (unicast both ways, a valid header, not a later fragment, not
 * an ICMP error nor a RST, a source naming one host): a RST of 54 bytes with the ports
 * swapped and a valid TCP checksum, or ICMP 3/13 quoting the frame. */
static const char *reject_answer_check(const struct frame *f, const uint8_t *o, size_t olen)
{
	const uint8_t *in = f->in;
	const struct key_row *from = if_row[f->iface];
	size_t ihl = (in[14] & 0x0f) * 4u;
	uint8_t pseudo[12 + 20] = { 0 };
	uint32_t router_addr = from && from->mac ? frames_addr(from->addr) : 0;
	const char *why;

	if (f->in_len < 34 || get16(in + 12) != 0x0800 || (in[0] & 1) || (in[6] & 1) ||
	    !in_header_valid(f) || get32(in + 30) == 0xffffffff || get32(in + 30) >> 28 == 0xe)
		return "an answer to a frame the kernel's REJECT never answers";
	why = icmp_error_forbidden(in, f->in_len);
	if (why)
		return why;
	if (memcmp(o, in + 6, 6) || memcmp(o + 6, in, 6) || get16(o + 12) != 0x0800)
		return "answer not from the MAC the frame was sent to, back to its sender";
	if (o[14] != 0x45 || frames_csum(o + 14, 20) || o[22] != 64 || get16(o + 16) != olen - 14)
		return "answer's IPv4 header: not IHL 5, TTL 64, a valid checksum and length";
	if (memcmp(o + 30, in + 26, 4))
		return "answer not to the frame's source address";
	if (o[23] == 6) {
		if (in[23] != 6 || olen != 54 || f->in_len < 14 + ihl + 20 || (in[14 + ihl + 13] & 4))
			return "RST answering what is not a TCP segment, or a RST";
		if (memcmp(o + 26, in + 30, 4) || memcmp(o + 34, in + 14 + ihl + 2, 2) ||
		    memcmp(o + 36, in + 14 + ihl, 2) || !(o[47] & 4) || o[46] != 0x50)
			return "RST not from the destination's address and port, or not a RST";
		memcpy(pseudo, o + 26, 8);
		pseudo[9] = 6;
		pseudo[11] = 20;
		memcpy(pseudo + 12, o + 34, 20);
		return frames_csum(pseudo, sizeof(pseudo)) ? "RST's TCP checksum invalid" : NULL;
	}
	if (o[23] != 1 || olen < 42 || o[34] != 3 || o[35] != 13 || frames_csum(o + 34, olen - 34))
		return "answer neither a RST nor a valid ICMP administratively prohibited";
	if (memcmp(o + 26, in + 30, 4) && (!router_addr || memcmp(o + 26, &router_addr, 4)))
		return "ICMP answer from neither the destination nor the router port entered";
	return icmp_quote_check(in, f->in_len, o, olen);
}

static enum shape reject_shape(const struct frame *f, const char **why)
{
	*why = reject_answer_check(f, f->out, f->out_len);
	return SH_REJECT_ANSWER;
}

/* ---- static NAT: checksums ---- */

/* The RFC 1071 sum of len bytes at p, unfolded (frames.h's frames_csum is its complement). */
static uint32_t nat_sum(const uint8_t *p, size_t len)
{
	return (uint16_t)~frames_csum(p, len);
}

static uint16_t nat_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 packet at ip (len bytes up to the frame's end): where its header ends (0: not a
 * whole IPv4 header), its L4 length (0 when not all there, or a fragment). */
static size_t nat_ip_parse(const uint8_t *ip, size_t len, size_t *l4_len)
{
	size_t ihl, tot;

	*l4_len = 0;
	if (len < 20 || (ip[0] >> 4) != 4 || (ihl = (ip[0] & 0x0f) * 4u) < 20 || ihl > len)
		return 0;
	tot = get16(ip + 2);
	if (tot >= ihl && tot <= len && !(get16(ip + 6) & 0x3fff))
		*l4_len = tot - ihl;
	return ihl;
}

/* Quoted packets whose L4 checksum was checked (the dynamic NAT run). */
static unsigned long dyn_quote_l4;

/* Make every checksum of the IPv4 packet at ip right (set), or say whether it is (!set):
 * the header's; TCP's and UDP's over the pseudo-header (a UDP 0 stays 0) and ICMP's, when
 * the whole unfragmented datagram is there; an ICMP error's quoted IPv4 header's. NULL,
 * or which one is wrong. */
static const char *nat_csums(uint8_t *ip, size_t len, bool set)
{
	size_t l4_len, ihl = nat_ip_parse(ip, len, &l4_len), in_l4, in_ihl;
	uint8_t *l4 = ip + ihl, *in;
	size_t off;
	uint32_t sum;

	if (!ihl)
		return NULL;
	if (l4_len && ip[9] == 1 && l4_len >= 8 + 20 &&
	    (l4[0] == 3 || l4[0] == 4 || l4[0] == 5 || l4[0] == 11 || l4[0] == 12)) {
		in = l4 + 8;
		in_ihl = nat_ip_parse(in, l4_len - 8, &in_l4);
		/* Behind dynamic NAT the quote is checked as a packet of its own: its TCP, UDP
		 * or ICMP checksum too when the quote holds its whole L4 (dyn_quote_l4). */
		if (in_ihl && dyn_nat) {
			static char quoted[48];
			const char *bad = nat_csums(in, l4_len - 8, set);

			if (bad) {
				snprintf(quoted, sizeof(quoted), "quoted %s", bad);
				return quoted;
			}
			dyn_quote_l4 += !set && in_l4;
		} else if (in_ihl && set) {
			frames_put16(in + 10, 0);
			frames_put16(in + 10, frames_csum(in, in_ihl));
		} else if (in_ihl && frames_csum(in, in_ihl)) {
			return "quoted IPv4 header";
		}
	}
	if (l4_len && (ip[9] == 6 || ip[9] == 17 || ip[9] == 1)) {
		off = ip[9] == 6 ? 16 : ip[9] == 17 ? 6 : 2;
		if (l4_len >= off + 2 && !(ip[9] == 17 && !get16(l4 + off))) {
			sum = ip[9] == 1 ? 0 : nat_sum(ip + 12, 8) + ip[9] + (uint32_t)l4_len;
			if (set) {
				frames_put16(l4 + off, 0);
				sum = (uint16_t)~nat_fold(sum + nat_sum(l4, l4_len));
				frames_put16(l4 + off, sum || ip[9] != 17 ? sum : 0xffff);
			} else if (nat_fold(sum + nat_sum(l4, l4_len)) != 0xffff) {
				return ip[9] == 6 ? "TCP" : ip[9] == 17 ? "UDP" : "ICMP";
			}
		}
	}
	if (set) {
		frames_put16(ip + 10, 0);
		frames_put16(ip + 10, frames_csum(ip, ihl));
	} else if (frames_csum(ip, ihl)) {
		return "IPv4 header";
	}
	return NULL;
}

/* An IPv4 input of the NAT run gets valid checksums: what leaves must keep them valid. */
static void nat_fix_input(uint8_t *f, size_t len)
{
	if (len >= 14 + 20 && get16(f + 12) == 0x0800)
		nat_csums(f + 14, len - 14, true);
}

/* Whether the frame at f (len bytes) is an ARP request; an IPv4 ICMP error. */
static bool nat_is_arp_request(const uint8_t *f, size_t len)
{
	return len >= 14 + 28 && get16(f + 12) == 0x0806 && get16(f + 20) == 1;
}

static bool nat_is_icmp_error(const uint8_t *f, size_t len)
{
	size_t ihl = len >= 34 ? (f[14] & 0x0f) * 4u : 0;

	return ihl >= 20 && get16(f + 12) == 0x0800 && f[23] == 1 && len >= 14 + ihl + 1 &&
	       (f[14 + ihl] == 3 || f[14 + ihl] == 11);
}

/* A valid NATed output: one a router made instead of forwarding (counted as a drop), an
 * ARP request for the next hop (in VXLAN too) from an input that was none, or an ICMP
 * error from one that was none (no error answers an error); else SH_NAT. */
static enum shape nat_replaced(const uint8_t *in, size_t in_len, const uint8_t *out,
			       size_t len, size_t inner)
{
	if (nat_is_arp_request(out, len) && !nat_is_arp_request(in, in_len))
		return SH_ARP_REQUEST;
	if (inner && nat_is_arp_request(out + inner, len - inner) &&
	    !nat_is_arp_request(in, in_len))
		return SH_ARP_REQUEST_ENCAP;
	if (nat_is_icmp_error(out, len) && !nat_is_icmp_error(in, in_len))
		return SH_ICMP_ERROR;
	return SH_NAT;
}

/* Behind static NAT every modified output counts as NATed: its IPv4 packet (inside VXLAN
 * too, after flow state if it carries any, which must be well formed) and the outer one
 * must have valid checksums. */
static enum shape nat_shape(const struct frame *f, const char **why)
{
	static uint8_t out[FRAMES_MAX + 256]; /* nat_csums checks (set false) write nothing */
	static char buf[80];
	size_t vx = vxlan_at(f->out, f->out_len), len = f->out_len, inner = 0;
	const char *bad = NULL;
	struct fs_view v;

	if (len > sizeof(out))
		return SH__MAX;
	memcpy(out, f->out, len);
	if (vx && len >= vx + 8 + 14) {
		*why = fs_parse(out, len, vx, &v);
		if (*why)
			return SH__MAX;
		inner = v.inner;
	}
	if (get16(out + 12) == 0x0800)
		bad = nat_csums(out + 14, len - 14, false);
	if (!bad && inner && get16(out + inner + 12) == 0x0800)
		bad = nat_csums(out + inner + 14, len - inner - 14, false);
	if (!bad)
		return nat_replaced(f->in, f->in_len, out, len, inner);
	snprintf(buf, sizeof(buf), "a NATed frame leaves with a bad %s checksum", bad);
	*why = buf;
	return SH__MAX;
}

/* ---- dynamic NAT: what leaves by the uplink ---- */

/* Whether router 1 has a connection of the packet at ip (ihl its header's length): opened
 * by it (reverse false) or by its reply (reverse true). */
static bool dyn_ct_has(const uint8_t *ip, size_t ihl, bool reverse)
{
	const uint8_t *l4 = ip + ihl;
	struct mx_ct_key k = { .device = R1, .proto = ip[9] };
	struct mx_ct_entry e;

	memcpy(reverse ? &k.dst : &k.src, ip + 12, 4);
	memcpy(reverse ? &k.src : &k.dst, ip + 16, 4);
	memcpy(reverse ? &k.dport : &k.sport, l4 + (ip[9] == 1 ? 4 : 0), 2);
	memcpy(reverse ? &k.sport : &k.dport, l4 + (ip[9] == 1 ? 4 : 2), 2);
	return !bpf_map_lookup_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k, &e);
}

/* Whether router 1's SNAT (dyn_install) applies to the IPv4 packet at ip (len bytes to the
 * frame's end) that leaves by U1: from 10.0.0.0/8, not a fragment (a NAT rule with ports
 * matches unfragmented packets only, loader/chain.c), a packet tracking follows (as
 * ct_parse reads it, bpf/lib/conntrack.h: TCP with 14 bytes of its header in the frame,
 * UDP with 4, an ICMP echo request with 8), not a router's own answer (from one
 * of its addresses: answers pass no dynamic rule), not a reply of the port forwarding
 * (10.1.0.2's TCP from port 80: the rev_dnat before the SNAT accepts it, translated or
 * not). */
static bool dyn_snat_applies(const uint8_t *ip, size_t len)
{
	size_t ihl = (ip[0] & 0x0f) * 4u;
	size_t need = ip[9] == 6 ? 14 : ip[9] == 17 ? 4 : 8;
	uint32_t src;

	memcpy(&src, ip + 12, 4);
	if ((ntohl(src) >> 24) != 10 || rport_by_addr(R1, src) || (get16(ip + 6) & 0x3fff) ||
	    ihl < 20 || len < ihl + need)
		return false;
	if (ip[9] == 6 && src == frames_addr(DYN_FWD_ADDR) && get16(ip + ihl) == 80)
		return false;
	if (ip[9] != 6 && ip[9] != 17 && !(ip[9] == 1 && ip[ihl] == 8))
		return false;
	/* The return way of a connection opened from the other side, without a binding, and a
	 * TCP segment that is not a bare SYN of no connection (invalid, docs/conntrack.md)
	 * pass no rewrite, as in Linux's NAT. */
	if (dyn_ct_has(ip, ihl, true))
		return false;
	return ip[9] != 6 || (ip[ihl + 13] & 0x17) == 0x02 || dyn_ct_has(ip, ihl, false);
}

/* Behind dynamic NAT: nat_shape's checksums, and nothing the SNAT applies to leaves by
 * the uplink with its private source; what leaves from SNAT_A has a port (echo id) of the
 * lease. */
static enum shape dyn_shape(const struct frame *f, const char **why)
{
	enum shape sh = nat_shape(f, why);
	const uint8_t *o = f->out, *ip = o + 14;
	size_t ihl = f->out_len >= 34 ? (o[14] & 0x0f) * 4u : 0;
	unsigned int port;

	if (sh == SH__MAX || ihl < 20 || memcmp(o + 6, M_U1, 6) || get16(o + 12) != 0x0800 ||
	    f->out_len < 14 + ihl)
		return sh;
	if (dyn_snat_applies(ip, f->out_len - 14)) {
		*why = "a packet the SNAT applies to leaves by the uplink from its private source";
		return SH__MAX;
	}
	/* Translated here (not sent from SNAT_A by the fuzzer itself): a port of the lease. */
	if (memcmp(ip + 12, &(uint32_t){ frames_addr(SNAT_A) }, 4) || (get16(ip + 6) & 0x1fff) ||
	    f->in_len < 34 || !memcmp(f->in + 26, ip + 12, 4) || f->out_len < 14 + ihl + 8)
		return sh;
	port = ip[9] == 1 ? get16(ip + ihl + 4) : get16(ip + ihl);
	if ((ip[9] == 6 || ip[9] == 17 || (ip[9] == 1 && ip[ihl] == 8)) &&
	    (port < DYN_PORT_LO || port > DYN_PORT_HI)) {
		*why = "a packet leaves from the SNAT address with a port outside the lease";
		return SH__MAX;
	}
	return sh;
}

/* underlay_ingress only ever strips the outer headers (and flow state with them, only when
 * it is well formed): anything else is wrong. */
static enum shape underlay_shape(const struct frame *f, const char **why)
{
	size_t vx = vxlan_at(f->in, f->in_len);
	struct fs_view v;

	if (!vx || f->in_len < vx + 8)
		return SH__MAX;
	if (fs_parse(f->in, f->in_len, vx, &v)) {
		*why = "a frame with malformed flow state delivered";
		return SH__MAX;
	}
	if (f->out_len + v.inner == f->in_len && !memcmp(f->out, f->in + v.inner, f->out_len))
		return SH_DECAP;
	return SH__MAX;
}

/* A valid frame of one path, the seed of its mutations. */
struct seed {
	const char *path;
	enum ifid iface;
	struct frames_spec spec;
	__u32 fs_vni;          /* VXLAN with flow state (fs_wrap): the real VNI */
	unsigned int fs_count; /* and this many records */
};

#define UDP4(d, s) { .kind = FRAMES_IPV4, .dst = (d), .src = (s), .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 18 }
#define TCP4(d, s) { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = (d), .src = (s), .sip = "10.1.0.1", .tip = "10.1.0.2", .payload = 40 }
#define ARPREQ(s, sip_, tip_) { .kind = FRAMES_ARP, .dst = BCAST, .src = (s), .sip = (sip_), .tip = (tip_) }
#define VX(vni_, d, inner) { .kind = (inner), .dst = (d), .src = M_R, .sip = "10.1.0.3", .tip = "10.1.0.2", \
	.payload = 18, .vxlan = true, .osrc = PEER_ADDR, .odst = LOCAL_ADDR, .vni = (vni_) }
/* IPv4 to a router's MAC: from VM p1 on bridge 1, p6 on bridge 3, p3 on bridge 2, p7 on
 * bridge 4; from the physical network on up1 (into router 1 directly). */
#define VIA_R1A(tip_) .kind = FRAMES_IPV4, .dst = M_R1A, .src = M_P1, .sip = "10.1.0.1", .tip = (tip_), .payload = 18
#define VIA_R1B(tip_) .kind = FRAMES_IPV4, .dst = M_R1B, .src = M_P6, .sip = "10.3.0.6", .tip = (tip_), .payload = 18
#define VIA_R2A(tip_) .kind = FRAMES_IPV4, .dst = M_R2A, .src = M_P3, .sip = "10.2.0.1", .tip = (tip_), .payload = 18
#define VIA_R2B(tip_) .kind = FRAMES_IPV4, .dst = M_R2B, .src = M_P7, .sip = "10.3.0.6", .tip = (tip_), .payload = 18
#define VIA_U1(tip_) .kind = FRAMES_IPV4, .dst = M_U1, .src = M_GW1, .sip = "192.168.50.5", .tip = (tip_), .payload = 18
#define ECHO .ip_proto = 1, .icmp_type = 8

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct seed port_seeds[] = {
	/* bridges */
	{ "local unicast", IF_P1, UDP4(M_P2, M_P1) },
	{ "local unicast TCP", IF_P1, TCP4(M_P2, M_P1) },
	{ "remote unicast", IF_P1, UDP4(M_R, M_P1) },
	{ "remote unicast ARP reply", IF_P1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_R, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.3" } },
	{ "remote unicast over the route MTU", IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_M, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.4", .payload = 1380 } },
	{ "remote unicast under the route MTU", IF_P1, UDP4(M_M, M_P1) },
	/* A port of its own: the connection of the seed above, over the MTU, is committed before
	 * the frame is dropped, and this one's first frame must open one. */
	{ "remote unicast under the route MTU, over it with a flow-state record", IF_P1,
	  { .kind = FRAMES_IPV4, .dst = M_M, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.4",
	    .sport = 40001, .payload = 1300 } },
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
	{ "bridge 2 ARP request answered", IF_P3, ARPREQ(M_P3, "10.2.0.1", "10.2.0.3") },
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
	{ "port security: to the gateway", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_R1A, .src = M_PS, .sip = PS_ADDR, .tip = "10.3.0.6", .payload = 18 } },
	/* router 1, from bridge 1 */
	{ "routed to a local VM on bridge 3", IF_P1, { VIA_R1A("10.3.0.6") } },
	{ "routed to a remote VM on bridge 3 (VXLAN)", IF_P1, { VIA_R1A("10.3.0.7") } },
	{ "routed back into bridge 1", IF_P1, { VIA_R1A("10.1.0.2") } },
	{ "routed TCP", IF_P1, { VIA_R1A("10.3.0.6"), .ip_proto = 6 } },
	{ "routed with IPv4 options", IF_P1, { VIA_R1A("10.3.0.6"), .ihl = 7 } },
	{ "routed first fragment", IF_P1, { VIA_R1A("10.3.0.6"), .frag_off = 0x2000 } },
	{ "routed later fragment", IF_P1, { VIA_R1A("10.3.0.7"), .frag_off = 185 } },
	{ "routed via the uplink's gateway", IF_P1, { VIA_R1A("10.9.8.5") } },
	{ "routed out of an exterior port on another host (VXLAN)", IF_P1, { VIA_R1A("198.51.100.5") } },
	{ "routed by ECMP (uplink or remote exterior port)", IF_P1, { VIA_R1A("172.16.0.5") } },
	{ "routed ICMP echo", IF_P1, { VIA_R1A("10.3.0.6"), ECHO } },
	{ "TTL 2 routed as TTL 1", IF_P1, { VIA_R1A("10.3.0.6"), .ttl = 2 } },
	{ "TTL 1: ICMP time exceeded", IF_P1, { VIA_R1A("10.3.0.6"), .ttl = 1 } },
	{ "TTL 0: ICMP time exceeded", IF_P1, { VIA_R1A("10.3.0.6"), .ttl = FRAMES_TTL_ZERO } },
	{ "TTL 1 with IPv4 options: quoted", IF_P1, { VIA_R1A("10.3.0.6"), .ttl = 1, .ihl = 8 } },
	{ "TTL 1 on a later fragment: no ICMP error", IF_P1,
	  { VIA_R1A("10.3.0.6"), .ttl = 1, .frag_off = 185 } },
	{ "no route: ICMP net unreachable", IF_P1, { VIA_R1A("8.8.8.8") } },
	{ "no route to the other tenant's subnet", IF_P1, { VIA_R1A("10.2.0.2") } },
	{ "no ICMP error about an ICMP error", IF_P1, { VIA_R1A("8.8.8.8"), .ip_proto = 1, .icmp_type = 3 } },
	{ "reject route: ICMP prohibited", IF_P1, { VIA_R1A("10.77.0.1") } },
	{ "blackhole route", IF_P1, { VIA_R1A("10.66.0.1") } },
	{ "route out of another router's port", IF_P1, { VIA_R1A("10.55.0.5") } },
	{ "ARP miss on the uplink: ARP request", IF_P1, { VIA_R1A("203.0.113.5") } },
	{ "ARP miss on a remote exterior port: ARP request in VXLAN", IF_P1, { VIA_R1A("203.0.114.5") } },
	{ "ARP miss on bridge 3: ARP request flooded", IF_P1, { VIA_R1A("10.3.0.9") } },
	{ "ARP miss on bridge BL", IF_P1, { VIA_R1A("10.88.0.77") } },
	{ "loop of devices: hop limit", IF_P1, { VIA_R1A("10.88.1.5") } },
	{ "ICMP echo to the gateway", IF_P1, { VIA_R1A("10.1.0.254"), ECHO } },
	{ "ICMP echo to another port of the router", IF_P1, { VIA_R1A("192.168.1.1"), ECHO } },
	{ "UDP to the gateway", IF_P1, { VIA_R1A("10.1.0.254") } },
	{ "broadcast address to the gateway's MAC", IF_P1, { VIA_R1A("255.255.255.255") } },
	{ "ARP request for the gateway (the bridge answers)", IF_P1, ARPREQ(M_P1, "10.1.0.1", "10.1.0.254") },
	{ "ARP request unicast to the gateway", IF_P1,
	  { .kind = FRAMES_ARP, .dst = M_R1A, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.254" } },
	{ "ARP reply to the gateway (learned)", IF_P1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_R1A, .src = M_P1, .sip = "10.1.0.1", .tip = "10.1.0.254" } },
	{ "IPv6 to the gateway's MAC", IF_P1, { .kind = FRAMES_IPV6, .dst = M_R1A, .src = M_P1, .payload = 16 } },
	/* router 1, from bridge 3 */
	{ "bridge 3 to bridge 1 through the router", IF_P6, { VIA_R1B("10.1.0.2") } },
	{ "bridge 3 to the uplink's network", IF_P6, { VIA_R1B("10.9.8.5") } },
	{ "bridge 3: ARP miss on bridge 1", IF_P6, { VIA_R1B("10.1.0.9") } },
	{ "bridge 3: TTL 1", IF_P6, { VIA_R1B("10.1.0.2"), .ttl = 1 } },
	{ "bridge 3: ICMP echo to the gateway", IF_P6, { VIA_R1B("10.3.0.254"), ECHO } },
	{ "bridge 3 ARP request for the gateway", IF_P6, ARPREQ(M_P6, "10.3.0.6", "10.3.0.254") },
	{ "bridge 3 broadcast", IF_P6,
	  { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_P6, .sip = "10.3.0.6", .tip = "10.3.0.255", .payload = 18 } },
	/* router 1 entered directly, from the uplink */
	{ "uplink: to a VM on bridge 3", IF_UP1, { VIA_U1("10.3.0.6") } },
	{ "uplink: to a VM on bridge 1", IF_UP1, { VIA_U1("10.1.0.2") } },
	{ "uplink: to a remote VM (VXLAN)", IF_UP1, { VIA_U1("10.3.0.7") } },
	{ "uplink: back out via the gateway", IF_UP1, { VIA_U1("10.9.8.5") } },
	{ "uplink: TTL 1", IF_UP1, { VIA_U1("10.3.0.6"), .ttl = 1 } },
	{ "uplink: no route", IF_UP1, { VIA_U1("8.8.8.8") } },
	{ "uplink: ARP miss", IF_UP1, { VIA_U1("203.0.113.5") } },
	{ "uplink: ICMP echo to the port's address", IF_UP1, { VIA_U1("192.168.1.1"), ECHO } },
	{ "uplink: ARP request for the port's address (answered, learned)", IF_UP1,
	  ARPREQ(M_NB, "192.168.1.77", "192.168.1.1") },
	{ "uplink: ARP request for another address", IF_UP1, ARPREQ(M_NB, "192.168.1.77", "192.168.1.99") },
	{ "uplink: ARP reply (learned: the ARP-miss gateway)", IF_UP1,
	  { .kind = FRAMES_ARP, .arp_op = 2, .dst = M_U1, .src = M_NB, .sip = "192.168.1.200", .tip = "192.168.1.1" } },
	{ "uplink: not to the port's MAC", IF_UP1,
	  { .kind = FRAMES_IPV4, .dst = M_UNK, .src = M_GW1, .sip = "192.168.50.5", .tip = "10.3.0.6", .payload = 18 } },
	{ "uplink: IPv6", IF_UP1, { .kind = FRAMES_IPV6, .dst = M_U1, .src = M_GW1, .payload = 16 } },
	/* tenant 2: router 2 */
	{ "tenant 2: routed to bridge 4 (tenant 1's addresses again)", IF_P3, { VIA_R2A("10.3.0.6") } },
	{ "tenant 2: no route to tenant 1's uplink network", IF_P3, { VIA_R2A("10.9.8.5") } },
	{ "tenant 2: ICMP echo to the gateway", IF_P3, { VIA_R2A("10.2.0.254"), ECHO } },
	{ "tenant 2: ARP miss on bridge 4", IF_P3, { VIA_R2A("10.3.0.9") } },
	{ "tenant 2: TTL 1", IF_P3, { VIA_R2A("10.3.0.6"), .ttl = 1 } },
	{ "tenant 2: to router 1's MAC", IF_P3,
	  { .kind = FRAMES_IPV4, .dst = M_R1A, .src = M_P3, .sip = "10.2.0.1", .tip = "10.3.0.6", .payload = 18 } },
	{ "tenant 2: bridge 4 to bridge 2", IF_P7, { VIA_R2B("10.2.0.2") } },
	{ "tenant 2: bridge 4 ICMP echo to the far gateway", IF_P7, { VIA_R2B("10.2.0.254"), ECHO } },
	{ "tenant 2: bridge 4 ARP request for the gateway", IF_P7, ARPREQ(M_P7, "10.3.0.6", "10.3.0.254") },
	/* admin state: ports, a bridge and a router set down */
	{ "in by a down port", IF_P8, UDP4(M_P2, M_PD) },
	{ "in by a down port: broadcast ARP", IF_P8, ARPREQ(M_PD, "10.1.0.8", "10.1.0.2") },
	{ "in by a down port: to the gateway", IF_P8,
	  { .kind = FRAMES_IPV4, .dst = M_R1A, .src = M_PD, .sip = "10.1.0.8", .tip = "10.3.0.6", .payload = 18 } },
	{ "unicast to a down local port", IF_P1, UDP4(M_PD, M_P1) },
	{ "unicast to a down remote port", IF_P1, UDP4(M_PDR, M_P1) },
	{ "ARP request for a down port's address (flooded, never to it)", IF_P2, ARPREQ(M_P2, "10.1.0.2", "10.1.0.8") },
	{ "routed out of a down router port", IF_P1, { VIA_R1A("10.44.0.5") } },
	{ "ICMP echo to a down router port's address", IF_P1, { VIA_R1A("10.44.0.1"), ECHO } },
	{ "routed into a down bridge", IF_P1, { VIA_R1A("10.45.0.5") } },
	{ "ARP miss on a down bridge", IF_P1, { VIA_R1A("10.45.0.9") } },
	{ "in by a port of a down bridge", IF_P9, UDP4(M_R1D, M_PBD) },
	{ "in by a port of a down bridge: ARP for its gateway", IF_P9, ARPREQ(M_PBD, "10.45.0.5", "10.45.0.1") },
	{ "to a down router through its bridge", IF_P11,
	  { .kind = FRAMES_IPV4, .dst = M_R3A, .src = M_P11, .sip = "10.5.0.11", .tip = "10.5.0.254", ECHO, .payload = 18 } },
	{ "ARP request for a down router's address (the bridge answers)", IF_P11, ARPREQ(M_P11, "10.5.0.11", "10.5.0.254") },
	{ "ARP request unicast to a down router", IF_P11,
	  { .kind = FRAMES_ARP, .dst = M_R3A, .src = M_P11, .sip = "10.5.0.11", .tip = "10.5.0.254" } },
	{ "in by a down router's uplink", IF_UP2,
	  { .kind = FRAMES_IPV4, .dst = M_U9, .src = M_GW1, .sip = "192.168.50.5", .tip = "10.5.0.11", .payload = 18 } },
	{ "in by a down router's uplink: ARP for its address", IF_UP2, ARPREQ(M_NB, "192.168.9.7", "192.168.9.1") },
	/* port security off: a fixed MAC and address that lock nothing */
	{ "port security off: spoofed MAC and address", IF_P10, UDP4(M_P2, M_R) },
	{ "port security off: own MAC, spoofed address", IF_P10, UDP4(M_P2, M_PO) },
	{ "port security off: spoofed ARP", IF_P10, ARPREQ(M_R, "10.1.0.77", "10.1.0.2") },
	/* allowed address pairs of PS */
	{ "allowed address with its MAC", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PA, .sip = PA_ADDR, .tip = "10.1.0.2", .payload = 18 } },
	{ "allowed address with its MAC, to the gateway", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_R1A, .src = M_PA, .sip = PA_ADDR, .tip = "10.3.0.6", .payload = 18 } },
	{ "allowed address with its MAC: ARP", IF_P5, ARPREQ(M_PA, PA_ADDR, "10.1.0.2") },
	{ "allowed address with the port's MAC instead of its own", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PS, .sip = PA_ADDR, .tip = "10.1.0.2", .payload = 18 } },
	{ "allowed address without a MAC, from the port's", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PS, .sip = PA2_ADDR, .tip = "10.1.0.2", .payload = 18 } },
	{ "allowed address without a MAC: ARP", IF_P5, ARPREQ(M_PS, PA2_ADDR, "10.1.0.2") },
	{ "allowed address without a MAC, from the other pair's MAC", IF_P5,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_PA, .sip = PA2_ADDR, .tip = "10.1.0.2", .payload = 18 } },
	{ "a pair's MAC with IPv6", IF_P5, { .kind = FRAMES_IPV6, .dst = M_P2, .src = M_PA, .payload = 16 } },
};

static const struct seed underlay_seeds[] = {
	{ "VXLAN to a local port", IF_UL, VX(P2, M_P2, FRAMES_IPV4) },
	{ "VXLAN ARP to a local port", IF_UL, VX(P1, M_P1, FRAMES_ARP) },
	{ "VXLAN to bridge 1", IF_UL, VX(B1, BCAST, FRAMES_IPV4) },
	{ "VXLAN to bridge 2", IF_UL, VX(B2, BCAST, FRAMES_ARP) },
	{ "VXLAN IPv6 to bridge 2's port", IF_UL, VX(P3, M_P3, FRAMES_IPV6) },
	{ "VXLAN to a remote port", IF_UL, VX(PR, M_R, FRAMES_IPV4) },
	{ "VXLAN to an unknown VNI", IF_UL, VX(4242, M_P2, FRAMES_IPV4) },
	{ "VXLAN to the uplink (an exterior router port here)", IF_UL, VX(U1, M_GW1, FRAMES_IPV4) },
	{ "VXLAN to bridge 3's port", IF_UL, VX(P6, M_P6, FRAMES_IPV4) },
	{ "VXLAN to bridge 3", IF_UL, VX(B3, BCAST, FRAMES_ARP) },
	{ "VXLAN to tenant 2's bridge 4", IF_UL, VX(B4, BCAST, FRAMES_IPV4) },
	{ "VXLAN to an interior router port", IF_UL, VX(R1A, M_R1A, FRAMES_IPV4) },
	{ "VXLAN to a router", IF_UL, VX(R1, M_R1A, FRAMES_IPV4) },
	{ "VXLAN to a down port", IF_UL, VX(PD, M_PD, FRAMES_IPV4) },
	{ "VXLAN ARP to a down port", IF_UL, VX(PD, M_PD, FRAMES_ARP) },
	{ "VXLAN to a port of a down bridge", IF_UL, VX(PBD, M_PBD, FRAMES_IPV4) },
	{ "VXLAN to a down bridge", IF_UL, VX(BD, BCAST, FRAMES_ARP) },
	{ "VXLAN to bridge 1, which has a down port", IF_UL, VX(B1, M_PD, FRAMES_IPV4) },
	{ "VXLAN to a down router's uplink", IF_UL, VX(U9, M_U9, FRAMES_IPV4) },
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
	{ "flow state to a local port", IF_UL, VX(MX_FS_VNI, M_P2, FRAMES_IPV4), P2, 1 },
	{ "flow state, two records, to bridge 1", IF_UL, VX(MX_FS_VNI, BCAST, FRAMES_IPV4), B1, 2 },
	{ "flow state, 15 records, to a local port", IF_UL, VX(MX_FS_VNI, M_P2, FRAMES_IPV4), P2, 15 },
	{ "flow state with ARP to a local port", IF_UL, VX(MX_FS_VNI, M_P1, FRAMES_ARP), P1, 1 },
	{ "flow state to bridge 3's port", IF_UL, VX(MX_FS_VNI, M_P6, FRAMES_IPV4), P6, 3 },
	{ "flow state to tenant 2's bridge 4", IF_UL, VX(MX_FS_VNI, BCAST, FRAMES_IPV4), B4, 1 },
	{ "flow state to a remote port", IF_UL, VX(MX_FS_VNI, M_R, FRAMES_IPV4), PR, 1 },
	{ "flow state to an unknown VNI", IF_UL, VX(MX_FS_VNI, M_P2, FRAMES_IPV4), 4242, 1 },
	{ "flow state to a down port", IF_UL, VX(MX_FS_VNI, M_PD, FRAMES_IPV4), PD, 1 },
	{ "flow state to a router", IF_UL, VX(MX_FS_VNI, M_R1A, FRAMES_IPV4), R1, 2 },
	{ "flow state from a non-member", IF_UL,
	  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_R, .vxlan = true, .osrc = "10.0.0.9",
	    .odst = LOCAL_ADDR, .vni = MX_FS_VNI }, P2, 1 },
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
	/* The shape of a modified output, SH__MAX if the program never produces it; in *why
	 * what is wrong with one of its shapes. */
	enum shape (*shape)(const struct frame *f, const char **why);
	bool drop_all; /* behind the drop-everything infilter of every port */
	bool reject_all; /* behind the reject-everything infilter of every port */
	bool nat;        /* behind static NAT on every port's infilter */
	bool flow_state; /* must send (port_ingress) or receive (underlay) flow state */
	bool dyn;        /* behind dynamic NAT on routers 1 and 2, with real flows */
};

#define SEEDS(s) s, sizeof(s) / sizeof(s[0])
static const struct fuzz_prog progs[] = {
	{ "port_ingress", mx_datapath_port_prog_fd, SEEDS(port_seeds), port_reach, port_shape,
	  false, false, false, true, false },
	{ "underlay_ingress", mx_datapath_underlay_prog_fd, SEEDS(underlay_seeds), underlay_reach,
	  underlay_shape, false, false, false, true, false },
	{ "port_ingress behind a drop rule", mx_datapath_port_prog_fd, SEEDS(port_seeds),
	  port_reach, port_shape, true, false, false, false, false },
	{ "port_ingress behind a reject rule", mx_datapath_port_prog_fd, SEEDS(port_seeds),
	  port_reach, reject_shape, false, true, false, false, false },
	{ "port_ingress behind static NAT", mx_datapath_port_prog_fd, SEEDS(port_seeds),
	  port_reach, nat_shape, false, false, true, true, false },
	{ "port_ingress behind dynamic NAT", mx_datapath_port_prog_fd, SEEDS(port_seeds),
	  port_reach, dyn_shape, false, false, false, true, true },
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
static const uint8_t *const known_macs[] = {
	M_P1,  M_P2,  M_R,   M_M,    M_N,   M_X,   M_U,   M_HP,  M_XB,    M_P3,  M_R3,
	M_P6,  M_P6R, M_P7,  M_R1A,  M_R1B, M_U1,  M_U3,  M_RL,  M_RL2,   M_R2A, M_R2B,
	M_GW1, M_GW3, M_NB,  M_UNK,  M_MCAST, BCAST, UL_MAC, PEER_MAC,
	M_PD,  M_PDR, M_PO,  M_PA,   M_PBD, M_R1D, M_RD1, M_P11, M_R3A,   M_U9,  M_PS,
};
static const char *const known_addrs[] = {
	LOCAL_ADDR,    PEER_ADDR,     NONEIGH_ADDR,  SMALLMTU_ADDR, NOROUTE_ADDR,
	"10.1.0.2",    "10.2.0.2",    "10.0.0.9",    "0.0.0.0",     "255.255.255.255",
	"224.0.0.1",   "10.1.0.254",  "10.3.0.254",  "10.2.0.254",  "10.3.0.6",
	"10.3.0.7",    "10.3.0.9",    "192.168.1.1", "192.168.1.254", "192.168.1.200",
	"10.9.8.5",    "198.51.100.5", "8.8.8.8",    "10.88.1.5",   "10.55.0.5",
	PS_ADDR,       PA_ADDR,       PA2_ADDR,      "10.44.0.5",   "10.45.0.5",
	"10.5.0.254",
};
static const uint32_t known_words[] = {
	P1,  P2,  PR,  PM,  PN,  PX,  PU,  P3,  P3R, P6,  P6R, P7,  U1,  U3,  R1A, B1R,
	B1,  B2,  B3,  B4,  BL,  R1,  R2,  0,   1,   0xffffff, MX_VXLAN_PORT_DEFAULT,
	0x0800, 0x0806, 0x86dd, 0x4000, 0x2000, 0x08000000,
	MX_FS_MAGIC, MX_FS_MAGIC << 16 | MX_FS_VERSION << 8 | 1, MX_FS_REC_MAX, MX_FS_REC_MAX + 1,
	PD,  PDR, PO,  PBD, BD,  U9,  R3A, R3,  RD1,
};
/* Including TTLs, IHLs and ICMP types. */
static const uint8_t interesting[] = { 0, 1, 2, 3, 4, 5, 6, 8, 0x0b, 0x0f, 0x11, 0x40, 0x45,
				       0x46, 0x4f, 0x7f, 0x80, 0xfe, 0xff };

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
	unsigned long drops, shot, replaced, rate_drops, dry_batches, bad_drop_batches, none_drops;
	/* Flow state: outputs that carry it (port_ingress) or carried it in (underlay_ingress);
	 * flow-state-mtu counts and the plain VXLAN outputs a record would have taken over
	 * their route's MTU; inputs with malformed flow state and bad-flow-state drops. */
	unsigned long fs_outputs, fs_mtu, fs_mtu_room, fs_bad_in, fs_bad_drops;
	unsigned long batches, bad_tx_batches, vnis;
	unsigned long down_batches, bad_reason_batches, limited_batches, limited_drops;
	unsigned long passed_drop; /* drop_all: frames that were not dropped */
	/* Dynamic NAT: connections opened through each kind (enum dyn_kind), generated
	 * replies that came back translated, tenant rounds and those that failed, quotes whose
	 * L4 checksum was checked. */
	unsigned long dyn_opened[DYN__MAX], dyn_replies, dyn_back, dyn_rounds, dyn_bad_rounds;
	unsigned long dyn_quote_l4;
	char dyn_diag[400];
	unsigned long long max_ns;
	double secs;
	char run_diag[160], out_diag[512], drop_diag[640], tx_diag[160], reason_diag[160];
	char pass_diag[400];
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

/* Outer headers the datapath wrote: a valid IPv4 header from us to a known host, to the
 * VXLAN port, I flag, a VNI the frame may reach. */
static const char *vxlan_check(const struct fuzz_prog *p, const struct frame *f,
			       struct fuzz_result *r)
{
	const uint8_t *out = f->out;
	size_t len = f->out_len, vx = vxlan_at(out, len), ihl = (out[14] & 0x0f) * 4u;
	const char *why = ipv4_check(f->in, f->in_len, out, len, 14);
	uint32_t src, dst;
	bool known = false;

	if (why)
		return why;
	if (!vx || len < vx + 8 + 14)
		return "encapsulated output without VXLAN headers";
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
	if (!p->reach(vxlan_vni(out, len), f))
		return "VNI (the real one of flow state) the frame may not reach";
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

/* What port security lets PS send: from its MAC, IPv4 or Ethernet/IPv4 ARP (sender MAC the
 * source) from its address, its own-MAC pair's or 0.0.0.0, and any other untagged frame;
 * from the MAC of its other pair only IPv4 or such ARP from that pair's address. */
static const char *portsec_model(const uint8_t *in, size_t len)
{
	bool pair_mac = !memcmp(in + 6, M_PA, 6);
	unsigned int type = get16(in + 12);
	uint32_t a;

	if (!pair_mac && memcmp(in + 6, M_PS, 6))
		return "port security: sent on from a MAC neither the port's nor a pair's";
	if (type == 0x8100 || type == 0x88a8)
		return "port security: sent on a tagged frame from a port with a fixed address";
	if (type == 0x0806 && (len < 42 || get16(in + 14) != 1 || get16(in + 16) != 0x0800 ||
			       in[18] != 6 || in[19] != 4 || memcmp(in + 22, in + 6, 6)))
		return "port security: sent on ARP it cannot check, or whose sender MAC is not the "
		       "source";
	if (type != 0x0800 && type != 0x0806)
		return pair_mac ? "port security: sent on neither IPv4 nor ARP from a pair's MAC" :
				  NULL;
	memcpy(&a, in + (type == 0x0800 ? 26 : 28), 4);
	if (pair_mac)
		return a == frames_addr(PA_ADDR) ? NULL :
			"port security: sent on from a pair's MAC an address not that pair's";
	if (a == frames_addr(PS_ADDR) || a == frames_addr(PA2_ADDR) || !a)
		return NULL;
	return "port security: sent on from an address neither the port's, its own-MAC pair's "
	       "nor 0.0.0.0";
}

/* A frame that was not dropped: not in by a port that is down, and within port security. */
static const char *ingress_check(const struct frame *f)
{
	const struct key_row *from = if_row[f->iface];

	if (!from)
		return NULL;
	if (key_down(from))
		return "a frame in by a port that is down (or of a device set down) not dropped";
	/* Behind the reject-everything infilter, which comes before port security, a frame
	 * from the locked port is rejected whatever its source, and its answer goes back out
	 * of that port's own interface only. */
	if (reject_all)
		return NULL;
	return from->key == PS ? portsec_model(f->in, f->in_len) : NULL;
}

/* The output's shape (SH_SAME if untouched, SH__MAX if none the program makes), every bad
 * one counted and the first described. */
static enum shape output_check(const struct fuzz_prog *p, const struct frame *f,
			       struct fuzz_result *r)
{
	int vclass = verdict_class(f->verdict);
	const char *why = ingress_check(f);
	enum shape sh = SH_SAME;

	if (!why && (f->out_len != f->in_len || memcmp(f->in, f->out, f->in_len))) {
		sh = SH__MAX;
		if (vclass == V_OK)
			why = "frame passed to the host modified";
		else if (f->out_len < 14)
			why = "output shorter than an Ethernet header";
		else
			sh = p->shape(f, &why);
		if (!why && sh == SH__MAX)
			why = "output of a shape this program never makes";
		if (!why && shape_encapsulated(sh))
			why = vxlan_check(p, f, r);
		if (!why && (fs_vni(f->out, f->out_len) ||
			     (sh == SH_DECAP && fs_vni(f->in, f->in_len))))
			r->fs_outputs++;
	}
	if (sh < SH__MAX)
		r->shapes[sh]++;
	if (why && !r->bad_outputs++) {
		int n = snprintf(r->out_diag, sizeof(r->out_diag), "%s (%s, %zu bytes in:", why,
				 verdict_names[vclass], f->in_len);

		n += hex(r->out_diag + n, sizeof(r->out_diag) - n, f->in, f->in_len);
		n += snprintf(r->out_diag + n, sizeof(r->out_diag) - n, "; %zu out:", f->out_len);
		n += hex(r->out_diag + n, sizeof(r->out_diag) - n, f->out, f->out_len);
		snprintf(r->out_diag + n, sizeof(r->out_diag) - n, ")");
	}
	return sh;
}

struct counters {
	__u64 tx[N_KEYS], drops, by_reason[MX_DROP__MAX];
};

/* A batch's frames as flow state concerns them: plain VXLAN outputs that one record would
 * have taken over their route's MTU (the only frames flow-state-mtu may be counted on);
 * inputs whose flow state is malformed (the only ones bad-flow-state may drop). */
struct batch_fs {
	unsigned long mtu_room, bad_in;
};

/* Whether o, sent out in VXLAN without flow state, would have gone over its route's MTU
 * with one record. */
static bool fs_record_over_mtu(const uint8_t *o, size_t olen)
{
	uint32_t dst;

	if (olen < 34 || fs_vni(o, olen))
		return false;
	memcpy(&dst, o + 30, 4);
	return olen - 14 + MX_FS_LEN(1) > (dst == frames_addr(SMALLMTU_ADDR) ? SMALL_MTU : MTU);
}

/* Whether in is VXLAN with the flow-state VNI whose flow state is malformed. */
static bool fs_malformed(const uint8_t *in, size_t len)
{
	struct fs_view v;

	return fs_vni(in, len) && fs_parse(in, len, vxlan_at(in, len), &v);
}

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

static void drop_diag(const struct counters *before, const struct counters *now,
		      unsigned long shot, unsigned long replaced, bool dry,
		      const struct batch_fs *fs, struct fuzz_result *r)
{
	int n = snprintf(r->drop_diag, sizeof(r->drop_diag),
			 "batch %lu (ICMP bucket %s): drop counters grew by %llu, want %lu "
			 "TC_ACT_SHOT + %lu replaced (+ icmp-rate when dry, + flow-state-mtu on "
			 "at most %lu plain VXLAN frames; bad-flow-state at most %lu):",
			 r->batches, dry ? "dry" : "full",
			 (unsigned long long)(now->drops - before->drops), shot, replaced,
			 fs->mtu_room, fs->bad_in);

	for (int d = 0; d < MX_DROP__MAX && n < (int)sizeof(r->drop_diag); d++)
		if (now->by_reason[d] != before->by_reason[d])
			n += snprintf(r->drop_diag + n, sizeof(r->drop_diag) - n, " %s +%llu",
				      mx_drop_reason_name(d),
				      (unsigned long long)(now->by_reason[d] - before->by_reason[d]));
}

/* Drop reasons the ingress port implies: in by a port that is down, admin-down alone (as
 * many as TC_ACT_SHOT); in by one that is not locked, never spoof-mac nor spoof-ip; in by
 * one without an egress limit, never rate-limit. */
static void reason_check(const struct counters *before, const struct counters *now,
			 enum ifid iface, unsigned long shot, struct fuzz_result *r)
{
	const struct key_row *from = if_row[iface];
	__u64 down, spoof, limited;

	if (!from)
		return;
	down = now->by_reason[MX_DROP_ADMIN_DOWN] - before->by_reason[MX_DROP_ADMIN_DOWN];
	spoof = now->by_reason[MX_DROP_SPOOF_MAC] - before->by_reason[MX_DROP_SPOOF_MAC] +
		now->by_reason[MX_DROP_SPOOF_IP] - before->by_reason[MX_DROP_SPOOF_IP];
	r->down_batches += key_down(from);
	if (key_down(from) && (down != shot || now->drops - before->drops != shot) &&
	    !r->bad_reason_batches++)
		snprintf(r->reason_diag, sizeof(r->reason_diag),
			 "batch %lu in by down port %u: admin-down +%llu, drops +%llu, shot %lu",
			 r->batches, from->key, (unsigned long long)down,
			 (unsigned long long)(now->drops - before->drops), shot);
	if (from->key != PS && spoof && !r->bad_reason_batches++)
		snprintf(r->reason_diag, sizeof(r->reason_diag),
			 "batch %lu in by port %u, not locked: spoof drops +%llu", r->batches,
			 from->key, (unsigned long long)spoof);
	limited = now->by_reason[MX_DROP_RATE_LIMIT] - before->by_reason[MX_DROP_RATE_LIMIT];
	if (port_limited(from->key)) {
		r->limited_batches++;
		r->limited_drops += limited;
	}
	else if (limited && !r->bad_reason_batches++)
		snprintf(r->reason_diag, sizeof(r->reason_diag),
			 "batch %lu in by port %u, not limited: rate-limit drops +%llu", r->batches,
			 from->key, (unsigned long long)limited);
}

/* After a batch: drops grew by the TC_ACT_SHOT verdicts and the packets replaced by an ICMP
 * error or ARP request; a suppressed ICMP error (a dry bucket only) counts its packet twice,
 * under why it was dropped and under icmp-rate; flow-state-mtu counts a frame that went on
 * (as plain VXLAN) without its records, not a drop; bad-flow-state only drops frames whose
 * flow state is malformed. tx only where frames may go. */
static void batch_check(const struct counters *before, const unsigned long *reach,
			unsigned long shot, unsigned long replaced, bool dry,
			const struct batch_fs *fs, enum ifid iface, struct fuzz_result *r)
{
	struct counters now;
	__u64 grew, rate, fs_mtu, fs_bad;

	counters_read(&now);
	reason_check(before, &now, iface, shot, r);
	r->batches++;
	grew = now.drops - before->drops;
	rate = now.by_reason[MX_DROP_ICMP_RATE] - before->by_reason[MX_DROP_ICMP_RATE];
	fs_mtu = now.by_reason[MX_DROP_FLOW_STATE_MTU] -
		 before->by_reason[MX_DROP_FLOW_STATE_MTU];
	fs_bad = now.by_reason[MX_DROP_BAD_FLOW_STATE] -
		 before->by_reason[MX_DROP_BAD_FLOW_STATE];
	r->fs_mtu += fs_mtu;
	r->fs_mtu_room += fs->mtu_room;
	r->fs_bad_in += fs->bad_in;
	r->fs_bad_drops += fs_bad;
	r->drops += grew - fs_mtu;
	r->shot += shot;
	r->replaced += replaced;
	r->rate_drops += rate;
	r->dry_batches += dry;
	r->none_drops += now.by_reason[MX_DROP_NONE] - before->by_reason[MX_DROP_NONE];
	if ((grew - rate - fs_mtu != shot + replaced || rate > (dry ? shot : 0) ||
	     fs_mtu > fs->mtu_room || fs_bad > fs->bad_in) && !r->bad_drop_batches++)
		drop_diag(before, &now, shot, replaced, dry, fs, r);
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

/* Run one frame; false if the run failed. */
static bool run(int fd, struct frame *f, uint8_t *out, size_t out_size, struct fuzz_result *r)
{
	struct __sk_buff ctx = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->in, .data_size_in = f->in_len,
		    .data_out = out, .data_size_out = out_size, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	int err;

	ctx.ifindex = ctx.ingress_ifindex = ifx[f->iface];
	err = bpf_prog_test_run_opts(fd, &opts);
	r->frames++;
	if (err) {
		if (!r->run_errors++)
			snprintf(r->run_diag, sizeof(r->run_diag),
				 "BPF_PROG_TEST_RUN on a %zu-byte frame: %s", f->in_len,
				 strerror(-err));
		return false;
	}
	if (opts.duration > r->max_ns)
		r->max_ns = opts.duration;
	f->verdict = opts.retval;
	f->out = out;
	f->out_len = opts.data_size_out;
	return true;
}

/* ---- dynamic NAT: real flows, and the tenant check ---- */

/* A connection the fuzzer opened through a SNAT (tenant A by U1, B by R2A) or the port
 * forwarding (D), as it left: its forward packet, and the translated address and port. */
struct dyn_flow {
	struct nat_pkt fwd;
	uint32_t nat_addr;
	uint16_t nat_port;
};
#define DYN_RING 64
static struct dyn_flow dyn_ring[DYN__MAX][DYN_RING];
static unsigned int dyn_count[DYN__MAX];

/* The frame the flow generator made: a forward packet to open one (fwd) or a reply of a
 * flow it opened, to come back translated to (back_addr, back_port); mutated ones are only
 * checked as any frame. */
struct dyn_gen {
	bool fwd, reply, mutated;
	enum dyn_kind kind;
	struct nat_pkt pkt;
	uint32_t back_addr;
	uint16_t back_port;
};

struct dyn_side {
	enum ifid iface;
	const uint8_t *dmac, *smac;
	const char *addr;
	enum dyn_kind kind;
};
/* Forward packets: from VMs behind router 1 (A, by bridges 1 and 3) and router 2 (B). */
static const struct dyn_side dyn_fwd_sides[] = {
	{ IF_P1, M_R1A, M_P1, "10.1.0.1", DYN_A },
	{ IF_P6, M_R1B, M_P6, "10.3.0.6", DYN_A },
	{ IF_P7, M_R2B, M_P7, "10.3.0.6", DYN_B },
};

static struct nat_pkt dyn_pkt(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport,
			      uint16_t dport, bool reply)
{
	struct nat_pkt p = { .proto = proto, .src = src, .dst = dst, .sport = sport,
			     .dport = dport };

	if (proto == 6)
		p.tcp_flags = reply ? 0x12 : 0x02; /* SYN-ACK, SYN */
	p.echo_reply = proto == 1 && reply;
	return p;
}

/* The reply of flow fl as the far end sends it (to the translated tuple): the packet, or
 * an ICMP error quoting the forward packet as it left, whole (port unreachable, or time
 * exceeded from a router on the way, whose outer destination is all it changes). */
static struct nat_pkt dyn_reply(const struct dyn_flow *fl, struct nat_pkt *quote)
{
	const struct nat_pkt *f = &fl->fwd;
	struct nat_pkt p = dyn_pkt(f->proto, f->dst, fl->nat_addr, f->dport, fl->nat_port, true);

	if (f->proto == 1)
		p.sport = fl->nat_port; /* the echo id */
	if (rnd_below(4))
		return p;
	*quote = *f;
	quote->src = fl->nat_addr;
	quote->sport = fl->nat_port;
	p = (struct nat_pkt){ .proto = 1, .src = rnd_below(2) ? f->dst : frames_addr("10.9.254.1"),
			      .dst = fl->nat_addr, .inner = quote, .quote_l4 = 200 };
	p.err_type = p.src == f->dst ? 3 : 11;
	p.err_code = p.src == f->dst ? 3 : 0;
	return p;
}

/* One generated frame into iface, or 0 (none for this interface, or no flow to answer). */
static size_t dyn_gen_frame(enum ifid iface, uint8_t *f, struct dyn_gen *g)
{
	static const uint8_t protos[] = { 6, 17, 1 };
	static struct nat_pkt quote;
	const uint8_t *dmac = NULL, *smac = NULL;
	struct dyn_flow *fl;
	enum dyn_kind k;
	size_t len;

	*g = (struct dyn_gen){ 0 };
	for (size_t i = 0; i < sizeof(dyn_fwd_sides) / sizeof(dyn_fwd_sides[0]); i++) {
		const struct dyn_side *sd = &dyn_fwd_sides[i];

		if (sd->iface != iface)
			continue;
		g->fwd = true;
		g->kind = sd->kind;
		g->pkt = dyn_pkt(PICK(protos), frames_addr(sd->addr),
				 htonl(0x0a090000 | (uint32_t)rnd_below(200) << 8 | (1 + rnd_below(254))),
				 1024 + rnd_below(60000), rnd_below(2) ? 80 : 1 + rnd_below(65535),
				 false);
		dmac = sd->dmac;
		smac = sd->smac;
	}
	if (iface == IF_UP1 && !rnd_below(4)) { /* a new connection to the port forwarding */
		g->fwd = true;
		g->kind = DYN_D;
		g->pkt = dyn_pkt(6, htonl(0x0a090700 | (uint32_t)(1 + rnd_below(254))),
				 frames_addr(DNAT_A), 1024 + rnd_below(60000), 8080, false);
		dmac = M_U1;
		smac = M_GW1;
	}
	if (!g->fwd) {
		k = iface == IF_UP1 ? DYN_A : iface == IF_P3 ? DYN_B : iface == IF_P2 ? DYN_D :
								       DYN__MAX;
		if (k == DYN__MAX || !dyn_count[k])
			return 0;
		fl = &dyn_ring[k][rnd_below(dyn_count[k] < DYN_RING ? dyn_count[k] : DYN_RING)];
		g->reply = true;
		g->kind = k;
		g->back_addr = fl->fwd.src;
		g->back_port = fl->fwd.sport;
		if (k == DYN_D) { /* P2's reply from port 80, to leave as DNAT_A:8080 */
			g->pkt = dyn_pkt(6, frames_addr(DYN_FWD_ADDR), fl->fwd.src, 80,
					 fl->fwd.sport, true);
			g->back_addr = frames_addr(DNAT_A);
			g->back_port = 8080;
		} else {
			g->pkt = dyn_reply(fl, &quote);
		}
		dmac = k == DYN_A ? M_U1 : k == DYN_B ? M_R2A : M_R1A;
		smac = k == DYN_A ? M_GW1 : k == DYN_B ? M_P3 : M_P2;
	}
	len = nat_frame(&g->pkt, dmac, smac, f);
	if (!rnd_below(4)) {
		g->mutated = true;
		len = mutate(f, len);
	}
	return len;
}

/* Whether the IPv4 packet of frame o (plain, a 20-byte header as the generator builds)
 * is addr's, port's: the destination (back) or source; for an ICMP error the quote's
 * source (back: the error goes to the opener, about its packet). */
static bool dyn_tuple_is(const uint8_t *o, size_t len, bool back, uint32_t addr, uint16_t port)
{
	const uint8_t *ip = o + 14, *l4 = ip + 20;
	bool echo = ip[9] == 1 && (l4[0] == 0 || l4[0] == 8);

	if (len < 14 + 20 + 8 || get16(o + 12) != 0x0800 || (ip[0] & 0x0f) != 5)
		return false;
	if (back && ip[9] == 1 && (l4[0] == 3 || l4[0] == 11))
		return len >= 14 + 20 + 8 + 28 && !memcmp(l4 + 8 + 12, &addr, 4) &&
		       get16(l4 + 8 + 20 + (l4[8 + 9] == 1 ? 4 : 0)) == port;
	if (memcmp(ip + (back ? 16 : 12), &addr, 4))
		return false;
	return get16(l4 + (echo ? 4 : back ? 2 : 0)) == port;
}

/* After the run of a generated frame: a forward packet that left translated becomes a flow
 * to answer; a reply that came back translated (its quote, for an error) is counted. */
static void dyn_gen_seen(const struct dyn_gen *g, const struct frame *f, struct fuzz_result *r)
{
	const uint8_t *o = f->out, *ip = o + 14;
	uint32_t want = g->kind == DYN_A ? frames_addr(SNAT_A) : g->kind == DYN_B ?
			frames_addr(SNAT_B) : frames_addr(DYN_FWD_ADDR);
	struct dyn_flow *fl;

	r->dyn_replies += g->reply && !g->mutated;
	if (f->verdict != TC_ACT_REDIRECT || f->out_len < 14 + 20 + 8 || get16(o + 12) != 0x0800)
		return;
	if (g->reply) {
		r->dyn_back += !g->mutated && dyn_tuple_is(o, f->out_len, g->kind != DYN_D,
							   g->back_addr, g->back_port);
		return;
	}
	if (g->mutated || memcmp(ip + (g->kind == DYN_D ? 16 : 12), &want, 4))
		return;
	fl = &dyn_ring[g->kind][dyn_count[g->kind]++ % DYN_RING];
	fl->fwd = g->pkt;
	fl->nat_addr = want;
	fl->nat_port = g->kind == DYN_D ? 80 :
		       get16(ip + 20 + (g->pkt.proto == 1 ? 4 : 0));
	r->dyn_opened[g->kind]++;
}

/* What a round's packet must have become: forwarded to dmac from smac with valid checksums,
 * from (to, back) addr with a port in lo..hi (into *port). NULL, or what is wrong. */
static const char *dyn_expect(const struct frame *f, const uint8_t *dmac, const uint8_t *smac,
			      bool back, uint32_t addr, uint16_t lo, uint16_t hi, uint16_t *port)
{
	const uint8_t *l4 = f->out + 34;
	bool echo = f->out_len >= 42 && f->out[23] == 1;

	if (f->verdict != TC_ACT_REDIRECT)
		return "not forwarded";
	if (f->out_len < 42 || memcmp(f->out, dmac, 6) || memcmp(f->out + 6, smac, 6))
		return "not sent to the next hop the routes give";
	if (nat_csums((uint8_t *)f->out + 14, f->out_len - 14, false))
		return "bad checksums";
	if (memcmp(f->out + (back ? 30 : 26), &addr, 4))
		return back ? "not to the tenant's own VM" : "not from the tenant's own SNAT address";
	*port = get16(l4 + (echo ? 4 : back ? 2 : 0));
	return *port >= lo && *port <= hi ? NULL : "a port not the tenant's";
}

/* The tenant check, one round (n): tenants A (router 1) and B (router 2) send the very same
 * forward packet, 10.3.0.6:port -> D, D new each round. B's unsolicited reply on the
 * original tuple, and B's packet to A's binding, must be dropped by R2A's stateful
 * firewall (with a key without the device, A's connection would make them return flows,
 * and the second rev_snat'ed to A's VM); B's forward packet must take B's own binding
 * (SNAT_B), never A's; then each tenant's real reply comes back, reverse-translated, to
 * its own VM only. */
static void dyn_round(unsigned long n, struct fuzz_result *r)
{
	static const uint8_t protos[] = { 6, 17, 1 };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 256];
	uint32_t vm = frames_addr("10.3.0.6"), snat_a = frames_addr(SNAT_A),
		 snat_b = frames_addr(SNAT_B);
	uint32_t d = htonl(0x0a09fa00 + (uint32_t)(n % 1024)); /* 10.9.250.0/22 */
	uint16_t sport = 30000 + n % 30000, pa = 0, pb = 0, p;
	uint8_t proto = protos[n % 3];
	struct nat_pkt fwd = dyn_pkt(proto, vm, d, sport, 80, false);
	struct nat_pkt rep = dyn_pkt(proto, d, vm, 80, sport, true);
	struct fuzz_result scratch = { 0 };
	struct frame f = { .in = in };
	const char *why = NULL, *step = "";

	if (proto == 1)
		rep.sport = sport;
#define DYN_SEND(iface_, pkt, dmac, smac)                                          \
	(f.iface = (iface_), f.in_len = nat_frame(&(pkt), (dmac), (smac), in),     \
	 f.to_router = true, run(mx_datapath_port_prog_fd(dp), &f, out, sizeof(out), &scratch))
	step = "A's forward packet";
	if (DYN_SEND(IF_P6, fwd, M_R1B, M_P6))
		why = dyn_expect(&f, M_GW1, M_U1, false, snat_a, DYN_PORT_LO, DYN_PORT_HI, &pa);
	if (!why) {
		step = "B's unsolicited reply on A's original tuple";
		if (DYN_SEND(IF_P3, rep, M_R2A, M_P3) && f.verdict != TC_ACT_SHOT)
			why = "not dropped by B's stateful firewall";
	}
	if (!why) {
		step = "B's packet to A's binding";
		rep.dst = snat_a;
		if (proto == 1)
			rep.sport = pa;
		else
			rep.dport = pa;
		if (DYN_SEND(IF_P3, rep, M_R2A, M_P3) && f.verdict != TC_ACT_SHOT)
			why = "not dropped by B's stateful firewall";
	}
	if (!why) {
		step = "B's forward packet, the same as A's";
		if (DYN_SEND(IF_P7, fwd, M_R2B, M_P7))
			why = dyn_expect(&f, M_P3, M_R2A, false, snat_b, DYN_PORT_LO, DYN_PORT_HI,
					 &pb);
	}
	if (!why) {
		step = "B's reply to B's binding";
		rep.dst = snat_b;
		if (proto == 1)
			rep.sport = pb;
		else
			rep.dport = pb;
		if (DYN_SEND(IF_P3, rep, M_R2A, M_P3))
			why = dyn_expect(&f, M_P7, M_R2B, true, vm, sport, sport, &p);
	}
	if (!why) {
		step = "A's reply to A's binding";
		rep.dst = snat_a;
		if (proto == 1)
			rep.sport = pa;
		else
			rep.dport = pa;
		if (DYN_SEND(IF_UP1, rep, M_U1, M_GW1))
			why = dyn_expect(&f, M_P6, M_R1B, true, vm, sport, sport, &p);
	}
#undef DYN_SEND
	if (scratch.run_errors)
		why = scratch.run_diag;
	r->dyn_rounds++;
	if (why && !r->dyn_bad_rounds++)
		snprintf(r->dyn_diag, sizeof(r->dyn_diag),
			 "round %lu (proto %u, 10.3.0.6:%u -> %s:80): %s: %s (verdict %d, A's port "
			 "%u, B's %u)", n, proto, sport, inet_ntoa((struct in_addr){ d }), step,
			 why, f.verdict, pa, pb);
}

/* Seed s's VXLAN frame f (len bytes) with flow state put in after its VXLAN header: the
 * header (its real VNI s->fs_vni) and s->fs_count records of bridge 1 and router 1 for the
 * seed's addresses, new or update, as a sending host writes them. Returns the new length. */
static size_t fs_wrap(const struct seed *s, uint8_t *f, size_t len)
{
	size_t vx = vxlan_at(f, len), ihl = (f[14] & 0x0f) * 4u, add = MX_FS_LEN(s->fs_count);
	uint8_t *h = f + vx + 8, *rec;

	if (!vx || len + add > FRAMES_MAX)
		return len;
	memmove(h + add, h, len - vx - 8);
	memset(h, 0, add);
	frames_put32(f + vx + 4, MX_FS_VNI << 8);
	frames_put16(h, MX_FS_MAGIC);
	h[2] = MX_FS_VERSION;
	h[3] = s->fs_count;
	frames_put32(h + 4, s->fs_vni);
	for (unsigned int i = 0; i < s->fs_count; i++) {
		rec = h + MX_FS_LEN(i);
		frames_put32(rec, i % 2 ? R1 : B1);
		frames_put32(rec + 4, ntohl(frames_addr(s->spec.sip)));
		frames_put32(rec + 8, ntohl(frames_addr(s->spec.tip)));
		frames_put16(rec + 12, 40000 + i);
		frames_put16(rec + 14, 5000);
		rec[16] = 17;
		rec[17] = i % 3 == 1 ? MX_FS_OP_UPDATE : MX_FS_OP_NEW;
		rec[18] = i % 3 == 1 ? MX_CT_UDP_STREAM : MX_CT_UDP;
	}
	frames_put16(f + 16, get16(f + 16) + add);
	frames_put16(f + 24, 0);
	frames_put16(f + 24, frames_csum(f + 14, ihl));
	frames_put16(f + 14 + ihl + 4, get16(f + 14 + ihl + 4) + add);
	return len + add;
}

static const enum ifid dyn_ifaces[] = { IF_P7, IF_P3, IF_P1, IF_UP1, IF_P2, IF_P6 };
#define N_DYN_IFACES (sizeof(dyn_ifaces) / sizeof(dyn_ifaces[0]))

static void fuzz(const struct fuzz_prog *p, unsigned long frames, struct fuzz_result *r)
{
	static uint8_t seed_bufs[MAX_SEEDS][FRAMES_MAX];
	size_t seed_lens[MAX_SEEDS];
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 256];
	int fd = p->prog_fd(dp);
	struct timespec t0, t1;

	if (p->n_seeds > MAX_SEEDS) {
		snprintf(r->run_diag, sizeof(r->run_diag), "more seeds than MAX_SEEDS");
		return;
	}
	for (size_t s = 0; s < p->n_seeds; s++) {
		seed_lens[s] = frames_build(&p->seeds[s].spec, seed_bufs[s], UL_MAC, PEER_MAC);
		if (p->seeds[s].fs_count)
			seed_lens[s] = fs_wrap(&p->seeds[s], seed_bufs[s], seed_lens[s]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r->frames < frames) {
		unsigned long reach[N_KEYS] = { 0 }, shot = 0, replaced = 0;
		struct batch_fs fs = { 0 };
		/* One ingress interface per batch, so that what a frame of one bridge may reach
		 * never covers for another's. */
		enum ifid iface = p->seeds[rnd_below(p->n_seeds)].iface;
		bool dry = r->batches % RATE_DRY_EVERY == RATE_DRY_EVERY - 1;
		struct counters before;

		/* Behind dynamic NAT one batch in four comes in by an interface of the flows, in
		 * turn, so that each side opens connections and answers them. */
		if (p->dyn && r->batches % 4 == 3)
			iface = dyn_ifaces[r->batches / 4 % N_DYN_IFACES];
		fdb_restore();
		neigh_restore();
		rate_set(dry);
		if (p->dyn)
			dyn_round(r->batches, r);
		counters_read(&before);
		for (int b = 0; b < BATCH && r->frames < frames; b++) {
			struct frame f = { .iface = iface, .in = in };
			struct dyn_gen g;
			size_t gen;
			int vclass;

			if (!dry && b && b % RATE_REFILL_EVERY == 0)
				rate_set(false);
			/* Behind dynamic NAT one frame in three (of an interface that has them) is a
			 * real flow's: a new connection, or a reply to one opened before. */
			gen = p->dyn && !rnd_below(3) ? dyn_gen_frame(iface, in, &g) : 0;
			f.in_len = gen ? runnable(in, gen) :
					 next_frame(p, seed_bufs, seed_lens, in, iface, r);
			if (p->nat || p->dyn)
				nat_fix_input(in, f.in_len);
			f.to_router = enters_router(iface, in, f.in_len);
			if (!run(fd, &f, out, sizeof(out), r))
				continue;
			vclass = verdict_class(f.verdict);
			r->verdicts[vclass]++;
			if (p->drop_all && vclass != V_SHOT && !r->passed_drop++)
				hex(r->pass_diag, sizeof(r->pass_diag), f.in, f.in_len);
			shot += vclass == V_SHOT;
			for (size_t i = 0; i < N_KEYS; i++)
				reach[i] += p->reach(keys[i].key, &f);
			fs.bad_in += fs_malformed(f.in, f.in_len);
			if (gen)
				dyn_gen_seen(&g, &f, r);
			if (vclass == V_SHOT)
				continue;
			replaced += shape_replaces_drop(output_check(p, &f, r));
			/* Any VXLAN output, whatever its shape (the NAT run has its own). */
			fs.mtu_room += vxlan_at(f.out, f.out_len) && fs_record_over_mtu(f.out, f.out_len);
		}
		batch_check(&before, reach, shot, replaced, dry, &fs, iface, r);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->dyn_quote_l4 = dyn_quote_l4;
	r->secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* ---- the differential run: underlay_xdp against underlay_ingress ----
 * The same frames (underlay_ingress's seeds, mutations and random frames, flow state
 * included) through the XDP fast path and the tc program, frame by frame, every counter of
 * every key read around each run. A frame underlay_xdp passes (XDP_PASS) must leave it
 * untouched and count nothing (tc then gives it the result it always had); a frame it
 * redirects, underlay_ingress must redirect too, as the same bytes, with the same change to
 * every counter (the port's tx, which is also the port the frame goes to: both take the
 * ifindex from that port's entry). It never drops or aborts. And it misses nothing it is
 * meant for: every frame underlay_ingress delivers to one port without flow state. */

#define DIFF_FRAMES_DEFAULT 20000ul

struct diff_result {
	unsigned long frames, redirected, passed, missed, fs_frames, bad;
	__u32 xdp_insns;
	char diag[600];
};

/* Every counter of every key, summed over the CPUs (a run may land on any CPU): its
 * midox_traffic row (the host's row 0, a port's its slot) and its midox_stats entry (absent:
 * zero). Read directly, one lookup a key for the rows and a batch for the hash, since it is
 * read around every run. */
#define SNAP_CPUS 64

struct snapshot {
	struct mx_traffic rows[N_KEYS];
	struct mx_port_stats stats[N_KEYS];
};

static int snap_cpus;
static int snap_err; /* a read that failed: the comparison would see zeros */

/* dst += each of n CPUs' copies of a struct of words 64-bit words */
static void sum_cpus(__u64 *dst, const __u64 *percpu, size_t words, int n)
{
	for (int c = 0; c < n; c++)
		for (size_t w = 0; w < words; w++)
			dst[w] += percpu[c * words + w];
}

static void snapshot_read(struct snapshot *x)
{
	static __u32 batch_keys[N_KEYS * 2];
	/* per-CPU values packed: entry e's copies at [e * snap_cpus] */
	static struct mx_port_stats batch_vals[N_KEYS * 2 * SNAP_CPUS];
	static struct mx_traffic row[SNAP_CPUS];
	int traffic = mx_datapath_map_fd(dp, MX_MAP_ID_TRAFFIC);
	int stats = mx_datapath_map_fd(dp, MX_MAP_ID_STATS);
	__u32 out_batch = 0, count = N_KEYS * 2;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < N_KEYS; i++) {
		__u32 slot = keys[i].key == HOST ? 0 : dp_slot_of(keys[i].key);

		if (bpf_map_lookup_elem(traffic, &slot, row))
			snap_err = -errno;
		else
			sum_cpus((__u64 *)&x->rows[i], (const __u64 *)row, sizeof(row[0]) / 8,
				 snap_cpus);
	}
	/* One batch holds them all (at most one entry a key). */
	if (bpf_map_lookup_batch(stats, NULL, &out_batch, batch_keys, batch_vals, &count, &opts) &&
	    errno != ENOENT) {
		snap_err = -errno;
		count = 0;
	}
	for (__u32 e = 0; e < count; e++) {
		const struct key_row *k = batch_keys[e] < KEY_SPACE ? key_find(batch_keys[e]) : NULL;

		if (k)
			sum_cpus((__u64 *)&x->stats[k - keys],
				 (const __u64 *)&batch_vals[e * (__u32)snap_cpus],
				 sizeof(batch_vals[0]) / 8, snap_cpus);
	}
}

/* Whether b - a equals d - c, field by field; *which names the first key that differs. */
static bool snapshot_same_delta(const struct snapshot *a, const struct snapshot *b,
				const struct snapshot *c, const struct snapshot *d, __u32 *which)
{
	const size_t words = sizeof(a->rows[0]) / 8, swords = sizeof(a->stats[0]) / 8;

	for (size_t i = 0; i < N_KEYS; i++) {
		const __u64 *pa = (const __u64 *)&a->rows[i], *pb = (const __u64 *)&b->rows[i];
		const __u64 *pc = (const __u64 *)&c->rows[i], *pd = (const __u64 *)&d->rows[i];
		const __u64 *sa = (const __u64 *)&a->stats[i], *sb = (const __u64 *)&b->stats[i];
		const __u64 *sc = (const __u64 *)&c->stats[i], *sd = (const __u64 *)&d->stats[i];

		for (size_t f = 0; f < words; f++)
			if (pb[f] - pa[f] != pd[f] - pc[f])
				goto differ;
		for (size_t f = 0; f < swords; f++)
			if (sb[f] - sa[f] != sd[f] - sc[f])
				goto differ;
		continue;
differ:
		*which = keys[i].key;
		return false;
	}
	return true;
}

static bool xdp_run(int fd, const uint8_t *in, size_t len, uint8_t *out, size_t out_size,
		    __u32 *action, size_t *out_len)
{
	/* data_end must be the frame's length when a context is given */
	struct xdp_md ctx = { .data_end = (__u32)len, .ingress_ifindex = (__u32)ifx[IF_UL] };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = (__u32)out_size, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));

	if (bpf_prog_test_run_opts(fd, &opts))
		return false;
	*action = opts.retval;
	*out_len = opts.data_size_out;
	return true;
}

static void diff_bad(struct diff_result *r, const uint8_t *in, size_t len, const char *what)
{
	int n;

	if (r->bad++)
		return;
	n = snprintf(r->diag, sizeof(r->diag), "%s; frame: ", what);
	hex(r->diag + n, sizeof(r->diag) - n, in, len);
}

static void diff_frame(int xdp_fd, int tc_fd, struct frame *f, struct diff_result *r)
{
	static uint8_t xout[FRAMES_MAX + 256], tout[FRAMES_MAX + 256];
	static struct snapshot a, b, c;
	struct fuzz_result fr = { 0 };
	size_t xlen = 0;
	__u32 action = 0, which = 0;
	bool fs = fs_vni(f->in, f->in_len);

	r->frames++;
	r->fs_frames += fs;
	snapshot_read(&a);
	if (!xdp_run(xdp_fd, f->in, f->in_len, xout, sizeof(xout), &action, &xlen))
		return diff_bad(r, f->in, f->in_len, "BPF_PROG_TEST_RUN of underlay_xdp failed");
	snapshot_read(&b);
	if (action == XDP_PASS) {
		r->passed++;
		if (xlen != f->in_len || memcmp(xout, f->in, xlen))
			return diff_bad(r, f->in, f->in_len, "XDP_PASS of a changed frame");
		if (!snapshot_same_delta(&a, &b, &a, &a, &which))
			return diff_bad(r, f->in, f->in_len, "XDP_PASS counted something");
	} else if (action != XDP_REDIRECT) {
		return diff_bad(r, f->in, f->in_len, "an action other than pass or redirect");
	} else {
		r->redirected++;
	}
	if (!run(tc_fd, f, tout, sizeof(tout), &fr))
		return diff_bad(r, f->in, f->in_len, "BPF_PROG_TEST_RUN of underlay_ingress failed");
	if (action == XDP_PASS) {
		/* Missed: tc delivered it to one port (a flood is stolen) and no flow state. */
		if (f->verdict == TC_ACT_REDIRECT && !fs && !r->missed++ && !r->bad)
			diff_bad(r, f->in, f->in_len, "passed a frame underlay_ingress delivers");
		return;
	}
	snapshot_read(&c);
	if (f->verdict != TC_ACT_REDIRECT)
		return diff_bad(r, f->in, f->in_len, "XDP redirected, tc did not");
	if (f->out_len != xlen || memcmp(f->out, xout, xlen))
		return diff_bad(r, f->in, f->in_len, "XDP and tc delivered different bytes");
	if (!snapshot_same_delta(&a, &b, &b, &c, &which)) {
		char what[80];

		snprintf(what, sizeof(what), "counters of key %u moved differently", which);
		diff_bad(r, f->in, f->in_len, what);
	}
}

static void diff(unsigned long frames, struct diff_result *r)
{
	static uint8_t seed_bufs[MAX_SEEDS][FRAMES_MAX], in[FRAMES_MAX];
	static size_t seed_lens[MAX_SEEDS];
	const struct fuzz_prog *p = &progs[1]; /* underlay_ingress's seeds and checks */
	int xdp_fd = mx_datapath_underlay_xdp_prog_fd(dp), tc_fd = p->prog_fd(dp);
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	struct fuzz_result fr = { 0 };

	if (!bpf_obj_get_info_by_fd(xdp_fd, &info, &info_len))
		r->xdp_insns = info.verified_insns;
	for (size_t s = 0; s < p->n_seeds && s < MAX_SEEDS; s++) {
		seed_lens[s] = frames_build(&p->seeds[s].spec, seed_bufs[s], UL_MAC, PEER_MAC);
		if (p->seeds[s].fs_count)
			seed_lens[s] = fs_wrap(&p->seeds[s], seed_bufs[s], seed_lens[s]);
	}
	while (r->frames < frames) {
		struct frame f = { .iface = IF_UL, .in = in };

		if (r->frames % BATCH == 0) {
			fdb_restore();
			neigh_restore();
		}
		f.in_len = next_frame(p, seed_bufs, seed_lens, in, IF_UL, &fr);
		diff_frame(xdp_fd, tc_fd, &f, r);
		if (snap_err && !r->bad++)
			snprintf(r->diag, sizeof(r->diag), "reading the counters: %s",
				 strerror(-snap_err));
	}
}

/* A child with a pipe to its parent (fork's result: in the child the write end is pfd[1],
 * in the parent the read end pfd[0]; -1 when neither could be made). */
static pid_t child_fork(int pfd[2])
{
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[pid > 0 ? 1 : 0]);
	return pid;
}

static int diff_child(unsigned long frames, uint64_t seed)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	struct diff_result r = { 0 };
	int pfd[2];
	pid_t pid = child_fork(pfd);

	if (pid)
		return pid < 0 ? -1 : pfd[0];
	rng_state = seed;
	xdp_rx = true;
	snap_cpus = libbpf_num_possible_cpus();
	if (snap_cpus < 1 || snap_cpus > SNAP_CPUS)
		snprintf(r.diag, sizeof(r.diag), "%d CPUs: more than the snapshot holds", snap_cpus);
	else if (mx_datapath_open(&opts, &dp) || maps_setup())
		snprintf(r.diag, sizeof(r.diag), "cannot open the datapath or fill maps");
	else
		diff(frames, &r);
	if (write(pfd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

static void diff_report(const struct diff_result *r, unsigned long want)
{
	tap_check(r->frames == want && !r->bad && r->redirected && r->passed, r->diag,
		  "underlay_xdp against underlay_ingress, %lu frames: %lu redirected by XDP, each "
		  "redirected by tc too as the same bytes with the same counter changes; %lu "
		  "passed untouched and uncounted; no other action",
		  r->frames, r->redirected, r->passed);
	tap_check(!r->missed && r->frames == want, r->diag,
		  "underlay_xdp takes every frame underlay_ingress delivers to one port without "
		  "flow state (%lu missed; %lu frames with flow state left to tc)",
		  r->missed, r->fs_frames);
	tap_diag("underlay_xdp: %u verified instructions", r->xdp_insns);
}

/* One program in a child process with a datapath of its own; the result comes back over a
 * pipe. Returns the read end, or -1. */
static int fuzz_child(const struct fuzz_prog *p, unsigned long frames, uint64_t seed)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	struct fuzz_result r = { 0 };
	int pfd[2];
	pid_t pid = child_fork(pfd);

	if (pid)
		return pid < 0 ? -1 : pfd[0];
	rng_state = seed;
	drop_all = p->drop_all;
	reject_all = p->reject_all;
	nat_all = p->nat;
	dyn_nat = p->dyn;
	if (mx_datapath_open(&opts, &dp) || ((drop_all || reject_all) && drop_all_install()) ||
	    (nat_all && nat_all_install()) || (dyn_nat && dyn_install()) || maps_setup())
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
		  "%s: every frame sent on is well formed (%s; %lu VXLAN outer headers checked; "
		  "%lu with flow state)",
		  p->name, s, r->vnis, r->fs_outputs);
	if (r->bad_outputs)
		tap_diag("%lu bad outputs", r->bad_outputs);
	tap_check(!r->bad_drop_batches && !r->none_drops && r->batches, r->drop_diag,
		  "%s: every drop counted under a reason (drop counters +%lu = TC_ACT_SHOT %lu + "
		  "%lu replaced by an ICMP error or ARP request + %lu icmp-rate in %lu batches "
		  "with the ICMP bucket dry; %lu batches; besides, %lu flow-state-mtu, a count "
		  "and no drop, on at most the %lu plain VXLAN frames a record would take over "
		  "their route's MTU)",
		  p->name, r->drops, r->shot, r->replaced, r->rate_drops, r->dry_batches,
		  r->batches, r->fs_mtu, r->fs_mtu_room);
	if (p->flow_state && p->prog_fd == mx_datapath_underlay_prog_fd)
		tap_check(!r->bad_outputs && !r->bad_drop_batches && r->fs_outputs &&
				  r->fs_bad_drops, r->out_diag,
			  "%s: flow state: %lu well-formed frames decapsulated to their real VNI, "
			  "none malformed delivered; bad-flow-state %lu, only on the %lu inputs "
			  "whose flow state is malformed",
			  p->name, r->fs_outputs, r->fs_bad_drops, r->fs_bad_in);
	else if (p->flow_state)
		tap_check(!r->bad_outputs && !r->bad_drop_batches && r->fs_outputs && r->fs_mtu &&
				  !r->fs_bad_drops, r->out_diag,
			  "%s: flow state: %lu frames carry it, each record well formed%s; %lu "
			  "flow-state-mtu, only on plain VXLAN frames a record would take over their "
			  "route's MTU (%lu)",
			  p->name, r->fs_outputs,
			  p->nat ? "" : ", its key the frame's tuple or its reverse", r->fs_mtu,
			  r->fs_mtu_room);
	tap_check(!r->bad_tx_batches && r->batches, r->tx_diag,
		  "%s: no frame crosses a bridge or tenant boundary (tx only on keys the frame "
		  "may reach, %lu batches; VNIs in %lu outer headers)",
		  p->name, r->batches, r->vnis);
	tap_check(!r->bad_reason_batches && r->batches &&
			  (!r->limited_batches || r->limited_drops), r->reason_diag,
		  "%s: every frame in by a down port dropped as admin-down (%lu batches), no "
		  "spoof drop on a port without port security, rate-limit drops only from the "
		  "limited port (%lu in %lu batches)",
		  p->name, r->down_batches, r->limited_drops, r->limited_batches);
	if (p->nat)
		tap_check(r->shapes[SH_NAT] && !r->bad_outputs, r->out_diag,
			  "%s: every NATed frame that leaves has valid checksums (%lu checked, "
			  "besides %lu ICMP errors made of NATed packets)",
			  p->name, r->shapes[SH_NAT], r->shapes[SH_ICMP_ERROR]);
	if (p->dyn) {
		tap_check(r->shapes[SH_NAT] && r->dyn_quote_l4 && !r->bad_outputs, r->out_diag,
			  "%s: every frame that leaves has valid IPv4, TCP, UDP and ICMP checksums, "
			  "an ICMP error's quoted packet too (%lu checked, besides %lu ICMP errors "
			  "made of NATed packets; the quoted L4 checksum in %lu whole quotes); no "
			  "packet the SNAT applies to leaves by the uplink from its private source, "
			  "none SNATed there has a port outside the lease",
			  p->name, r->shapes[SH_NAT], r->shapes[SH_ICMP_ERROR], r->dyn_quote_l4);
		tap_check(r->dyn_opened[DYN_A] && r->dyn_opened[DYN_B] && r->dyn_opened[DYN_D] &&
				  r->dyn_back, "",
			  "%s: real flows: %lu connections opened through router 1's SNAT, %lu "
			  "through router 2's, %lu through the port forwarding; %lu of %lu "
			  "unmutated replies (and ICMP errors about them) came back translated",
			  p->name, r->dyn_opened[DYN_A], r->dyn_opened[DYN_B],
			  r->dyn_opened[DYN_D], r->dyn_back, r->dyn_replies);
		tap_check(r->dyn_rounds && !r->dyn_bad_rounds, r->dyn_diag,
			  "%s: state never crosses tenants (%lu rounds, one a batch: the same "
			  "packet from 10.3.0.6 in tenants A and B; B's unsolicited replies, to "
			  "A's VM's tuple and to A's binding, dropped by B's return-flow firewall; "
			  "B's packet takes B's binding, never A's; each reply back to its own VM)",
			  p->name, r->dyn_rounds);
	}
	if (p->drop_all)
		tap_check(!r->passed_drop && r->verdicts[V_SHOT] == r->frames && r->frames,
			  r->pass_diag, "%s: no frame passes it (%lu of %lu dropped; %lu passed)",
			  p->name, r->verdicts[V_SHOT], r->frames, r->passed_drop);
	if (p->reject_all)
		tap_check(r->verdicts[V_SHOT] + r->shapes[SH_REJECT_ANSWER] == r->frames &&
				  r->shapes[SH_REJECT_ANSWER] && r->verdicts[V_SHOT],
			  "", "%s: nothing passes but answers (%lu dropped, %lu answered of %lu)",
			  p->name, r->verdicts[V_SHOT], r->shapes[SH_REJECT_ANSWER], r->frames);
}

/* The frames of program p's run: the dynamic NAT run, whose frames cost some 1.6 times the
 * others' (real flows, tenant rounds, more checks), gets a quarter of FUZZ_FRAMES, so that
 * it adds little to the whole's time in CI. */
static unsigned long prog_frames(const struct fuzz_prog *p, unsigned long frames)
{
	return p->dyn ? (frames + 3) / 4 : frames;
}

int main(void)
{
	const char *env_frames = getenv("FUZZ_FRAMES"), *env_seed = getenv("FUZZ_SEED");
	unsigned long frames = env_frames ? strtoul(env_frames, NULL, 0) : FUZZ_FRAMES_DEFAULT;
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	const char *env_diff = getenv("FUZZ_DIFF_FRAMES");
	unsigned long diff_frames = env_diff ? strtoul(env_diff, NULL, 0) : DIFF_FRAMES_DEFAULT;
	int fds[N_PROGS], diff_fd;

	mx_log_init("test_fuzz_frames", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	if (keys_index())
		return tap_bail("a key beyond KEY_SPACE");
	if (dp_netns_enter() || net_setup())
		return tap_bail("cannot build the test network namespace");
	printf("# FUZZ_SEED=%llu FUZZ_FRAMES=%lu\n", (unsigned long long)seed, frames);
	fflush(stdout);
	for (size_t i = 0; i < N_PROGS; i++)
		fds[i] = fuzz_child(&progs[i], prog_frames(&progs[i], frames), seed + i);
	diff_fd = diff_child(diff_frames, seed + N_PROGS);
	for (size_t i = 0; i < N_PROGS; i++) {
		struct fuzz_result r = { 0 };

		if (fds[i] < 0 || read(fds[i], &r, sizeof(r)) != (ssize_t)sizeof(r))
			snprintf(r.run_diag, sizeof(r.run_diag), "the fuzzing process died");
		report(&progs[i], &r, prog_frames(&progs[i], frames));
	}
	{
		struct diff_result r = { 0 };

		if (diff_fd < 0 || read(diff_fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			snprintf(r.diag, sizeof(r.diag), "the differential process died");
		diff_report(&r, diff_frames);
	}
	while (wait(NULL) > 0)
		;
	return tap_done();
}
