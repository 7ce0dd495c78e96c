// SPDX-License-Identifier: Apache-2.0
/* mxbench-cost RUNS: the per-packet cost of each datapath program on each path, with
 * BPF_PROG_TEST_RUN, in a private network namespace (as root). The maps are filled through
 * the loader, as the agent, tests/unit/test_datapath.c and tests/unit/test_router.c do (the
 * shared fill helpers of tests/unit/dp_fill.h), and the frames come from the tests' builders
 * (tests/unit/frames.h).
 *
 * Two bridges joined by a router R (as in tests/unit/test_router.c): bridge B1 (p1, p2 local,
 * PR on the peer host, BAR interior to R's port RA), bridge B2 (p3 local, PR2 on the peer
 * host, BBR interior to R's port RB). The routed paths: a frame from p1's VM to its gateway
 * (RA's MAC) for p3's VM (routed-local: bridge, router, bridge, redirect) or PR2's VM
 * (routed-remote-encap: the same, then VXLAN to the peer host).
 *
 * Two ways of timing, both the kernel's own clock around the program (no syscall in it):
 * - "single": RUNS test runs of repeat 1, each on a fresh skb; the mean of the durations the
 *   kernel reports, minus the same mean for a program that only returns TC_ACT_OK (the
 *   timer's own cost). Every path is measured this way: encapsulation, decapsulation and
 *   flooding change the skb, so repeating on one skb would time another path from the
 *   second run on.
 * - "repeat": one test run of repeat RUNS on one skb, for the paths that leave the frame as
 *   it was (the baseline and local L2), as a cross-check.
 * Besides the forwarding paths ("local-l2-fixed-mac": from a port whose MAC is fixed, a
 * static entry, which learns nothing; "local-l2-limited": the same from a port with an
 * egress rate limit it stays under; "local-l2-chain10": the same from a port whose infilter is
 * a chain of 10 rules, each testing a destination prefix the frame is not in, so all 10 are
 * looked at and the chain's end accepts; "local-l2-chain0" and "local-l2-chain100": the same
 * through a chain of no rule and of 100 such rules; "local-l2-ct-fw" and
 * "local-l2-ct-fw-return": a tracked connection's packets through a bridge whose port q2 has
 * the stateful firewall for infilter (accept return flows, drop the rest), the forward one
 * from q1, the return one entering by q2 and accepted by the firewall's first rule;
 * "local-l2-ct": the same through a bridge that tracks
 * connections, a connection's forward packet; "local-l2-ct-return": its return packet;
 * "snat-fwd", "snat-return" and "snat-new": through a router RN with section nat's dynamic
 * SNAT (setup_snat), an established connection's forward packet (the outfilter's snat
 * applies its binding), its reply (the infilter's rev_snat), and the SYN of a new
 * connection (the port search and the commit of the connection and its index entry; both
 * entries are removed after each run, outside the timed program, so every run opens the
 * same connection on an unchanged table); "snat-new-reuse": the same when a closed
 * connection holds every port of the block for that destination (time-wait reuse: all 16
 * candidates looked at, the first taken over; the closed one put back after each run);
 * "flood-1local-1remote-out10": the flood of
 * flood-1local-1remote on a bridge whose local copy leaves by a port whose outfilter is that
 * chain), "drop-no-port" (a frame on an interface that is no port:
 * one lookup, one counter, drop) shows what entering the program and counting costs.
 * - the drop path with midox monitor listening (drop-no-port-event: every drop writes an
 *   event, the ring drained between batches outside the timed runs; -suppressed: the
 *   budget is spent, every drop is counted as suppressed); drop-no-port is nobody listening.
 * Output: "cost PATH single NS_NET NS_RAW VERDICT" and "cost PATH repeat NS".
 * With PATH arguments after RUNS, only those paths are run (and the baseline): short runs
 * of two trees can then be interleaved on a busy machine; a PATH it does not know is
 * refused (exit 2). */
#include "tests/unit/dp_net.h"

#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>

#include "tests/unit/dp_fill.h"
#include "tests/unit/frames.h"
#include "loader/chain.h"
#include "loader/loader.h"
#include "midox/natlease.h"
#include "base/log.h"

enum { B1 = 100, P1 = 1001, P2 = 1002, PR = 1003, BAR = 1004, P4 = 1005, P5 = 1006 };
enum { P5_EMPTY = 1007, P5_100 = 1008 };
enum { B2 = 200, P3 = 2001, PR2 = 2002, BBR = 2003 };
enum { R = 500, RA = 5001, RB = 5002 };
enum { B3 = 300, P6 = 3001, P7 = 3002, PR3 = 3003 };
enum { B4 = 400, P8 = 4001, P9 = 4002 };
enum { B5 = 600, Q1 = 6001, Q2 = 6002 };
enum { B7 = 700, N1 = 7001, B7R = 7002 };
enum { RN = 750, NA = 7501, NU = 7502 };
#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"

static const uint8_t UL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t M_P1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t M_P2[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t M_P4[6] = { 0x02, 0, 0, 0, 0x01, 0x04 };
static const uint8_t M_P5[6] = { 0x02, 0, 0, 0, 0x01, 0x05 };
static const uint8_t M_P5_EMPTY[6] = { 0x02, 0, 0, 0, 0x01, 0x07 };
static const uint8_t M_P5_100[6] = { 0x02, 0, 0, 0, 0x01, 0x08 };
static const uint8_t M_P6[6] = { 0x02, 0, 0, 0, 0x03, 0x06 };
static const uint8_t M_R[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };
static const uint8_t M_P3[6] = { 0x02, 0, 0, 0, 0x02, 0x01 };
static const uint8_t M_PR2[6] = { 0x02, 0, 0, 0, 0x02, 0x02 };
static const uint8_t M_RA[6] = { 0x02, 0, 0, 0, 0x05, 0x01 };
static const uint8_t M_RB[6] = { 0x02, 0, 0, 0, 0x05, 0x02 };
static const uint8_t M_P8[6] = { 0x02, 0, 0, 0, 0x04, 0x08 };
static const uint8_t M_P9[6] = { 0x02, 0, 0, 0, 0x04, 0x09 };
static const uint8_t M_Q1[6] = { 0x02, 0, 0, 0, 0x06, 0x01 };
static const uint8_t M_Q2[6] = { 0x02, 0, 0, 0, 0x06, 0x02 };
static const uint8_t M_N1[6] = { 0x02, 0, 0, 0, 0x07, 0x01 };
static const uint8_t M_NA[6] = { 0x02, 0, 0, 0, 0x07, 0x51 };
static const uint8_t M_NU[6] = { 0x02, 0, 0, 0, 0x07, 0x52 };
static const uint8_t M_SRV[6] = { 0x02, 0, 0, 0, 0x07, 0xfe };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct mx_datapath *dp;
static int if_p1, if_p2, if_p3, if_p4, if_p5, if_p6, if_p7, if_p8, if_p9, if_ul;
static int if_p5_empty, if_p5_100, if_q1, if_q2, if_snc, if_snu;
static uint16_t snat_port; /* the SNAT port of the connection snat-fwd and -return time */

/* A bridge port of device; peer: the router port it is interior to (0: none). */
static int put_port_on(__u32 device, __u32 key, __u32 flags, int ifindex, const char *host,
		       __u32 peer)
{
	struct mx_port p = { .device_key = device, .flags = flags, .ifindex = (__u32)ifindex,
			     .host_addr = frames_addr(host), .peer_key = peer };

	if (peer)
		p.flags |= MX_PORT_INTERIOR;
	return dp_put_port(dp, key, &p);
}

static int put_port(__u32 key, __u32 flags, int ifindex, const char *host)
{
	return put_port_on(B1, key, flags, ifindex, host, 0);
}

/* A local port of B1 as `bridge B1 add port mac MAC` makes it (port security on): the MAC
 * fixed in the port's entry, beside its static MAC-table entry (put_fdb). */
static int put_port_fixed_mac(__u32 key, int ifindex, const uint8_t *mac)
{
	struct mx_port p = { .device_key = B1, .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC,
			     .ifindex = (__u32)ifindex };

	memcpy(p.mac, mac, 6);
	return dp_put_port(dp, key, &p);
}

static int put_fdb(const uint8_t *mac, __u32 port, __u32 flags)
{
	return dp_put_fdb(dp, B1, mac, port, flags);
}

/* A port of router, as the agent installs it: the port (MAC, address/24, flags; interior
 * and peered with bridge port peer, or bound to ifindex), its /32 local route and its
 * connected /24 route. The helper of the same shape in tests/unit/test_router.c is static
 * there, not in a shared header. */
static int put_rport_on(__u32 router, __u32 key, const uint8_t *mac, const char *addr,
			const char *net, __u32 peer, __u32 flags, int ifindex)
{
	struct mx_port p = { .device_key = router, .flags = MX_PORT_ROUTER | flags,
			     .ifindex = (__u32)ifindex, .peer_key = peer, .prefix_len = 24,
			     .addr = frames_addr(addr) };
	struct mx_route_key lk = { 64, router, frames_addr(addr) };
	struct mx_route_key ck = { 56, router, frames_addr(net) };
	struct mx_route local = { .n = 1 }, conn = { .n = 1 };

	if (peer)
		p.flags |= MX_PORT_INTERIOR;
	memcpy(p.mac, mac, 6);
	local.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_LOCAL, .port_key = key };
	conn.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = key, .weight = 1,
					  .port_slot = (__u16)dp_slot_of(key) };
	return dp_put_port(dp, key, &p) || mx_route_update(dp, &lk, &local) ||
	       mx_route_update(dp, &ck, &conn);
}

/* An interior port of R peered with bridge port peer. */
static int put_rport(__u32 key, const uint8_t *mac, const char *addr, const char *net,
		     __u32 peer)
{
	return put_rport_on(R, key, mac, addr, net, peer, 0, 0);
}

static int put_arp(__u32 bridge, const char *addr, const uint8_t *mac)
{
	struct mx_arp_key k = { .bridge_key = bridge, .addr = frames_addr(addr) };
	struct mx_arp_entry v = { 0 };

	memcpy(v.mac, mac, 6);
	return mx_arp_update(dp, &k, &v);
}

/* Router R between B1 (10.1.0.0/24, RA 10.1.0.254) and B2 (10.2.0.0/24, RB 10.2.0.254):
 * p3's VM 10.2.0.2 here, PR2's VM 10.2.0.3 on the peer host. */
static int setup_router(void)
{
	struct mx_bridge b2 = { .n_local = 1, .n_remote = 1 };
	int err = 0;

	b2.local_ifindex[0] = (__u32)if_p3;
	b2.remote_addr[0] = frames_addr(PEER_ADDR);
	err |= put_port_on(B1, BAR, 0, 0, NULL, RA);
	err |= put_port_on(B2, P3, MX_PORT_LOCAL, if_p3, NULL, 0);
	err |= put_port_on(B2, PR2, MX_PORT_REMOTE, 0, PEER_ADDR, 0);
	err |= put_port_on(B2, BBR, 0, 0, NULL, RB);
	err |= put_rport(RA, M_RA, "10.1.0.254", "10.1.0.0", BAR);
	err |= put_rport(RB, M_RB, "10.2.0.254", "10.2.0.0", BBR);
	err |= dp_put_fdb(dp, B1, M_RA, BAR, MX_FDB_STATIC) |
	       dp_put_fdb(dp, B2, M_RB, BBR, MX_FDB_STATIC);
	err |= put_arp(B1, "10.1.0.254", M_RA) | put_arp(B2, "10.2.0.254", M_RB);
	err |= dp_put_fdb(dp, B2, M_P3, P3, MX_FDB_STATIC) |
	       dp_put_fdb(dp, B2, M_PR2, PR2, MX_FDB_REMOTE);
	err |= put_arp(B2, "10.2.0.2", M_P3) | put_arp(B2, "10.2.0.3", M_PR2);
	err |= mx_bridge_update(dp, B2, &b2);
	return err ? -1 : 0;
}

/* p4: as p2 (a fixed MAC), with an egress limit no frame reaches (10 Tbit/s: a frame costs
 * 0 ns), so that every run passes and pays for the check alone. */
static int setup_limited(void)
{
	struct mx_port_rate r = { .rate_bps = 10000000000000ull, .burst_ns = 1000000000ull };
	struct mx_port p = { .device_key = B1,
			     .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC | MX_PORT_RATE_LIMIT };

	if_p4 = (int)if_nametoindex("p4");
	p.ifindex = (__u32)if_p4;
	memcpy(p.mac, M_P4, 6);
	return dp_put_port(dp, P4, &p) || put_fdb(M_P4, P4, MX_FDB_STATIC) ||
	       mx_rate_update(dp, P4, &r);
}

/* p5: as p2 (a fixed MAC), its infilter chain CHAIN_ID of CHAIN_RULES rules that each test
 * the destination against 198.18.0.0/15 (the frames' is not in it): every rule is looked
 * at, none matches, the chain's end accepts, the frame is delivered. p5e and p5h: the same
 * with chain CHAIN_EMPTY_ID (no rule: the chain's end at once) and CHAIN_100_ID (100 such
 * rules), the rows of 0, 10 and 100 rules. */
#define CHAIN_ID 1
#define CHAIN_RULES 10
#define CHAIN_EMPTY_ID 2
#define CHAIN_100_ID 3
#define CHAIN_100_RULES 100
#define CHAIN_FW_ID 4 /* the stateful firewall: accept return flows, drop the rest */
#define CHAIN_SNAT_IN_ID 5  /* router RN's infilter: rev_snat of what comes to SNAT_ADDR */
#define CHAIN_SNAT_OUT_ID 6 /* its outfilter: snat of what leaves by the uplink NU */
#define SNAT_ADDR "203.0.113.1"
static int put_filtered_port(__u32 key, const char *ifname, const uint8_t *mac, __u32 chain,
			     int *ifindex)
{
	struct mx_port p = { .device_key = B1,
			     .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC | MX_PORT_FILTERED };
	struct mx_filter f = { .owner = key, .in_chain = chain };

	*ifindex = (int)if_nametoindex(ifname);
	p.ifindex = (__u32)*ifindex;
	memcpy(p.mac, mac, 6);
	return bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_FILTER), &key, &f, BPF_ANY) ||
	       dp_put_port(dp, key, &p) || put_fdb(mac, key, MX_FDB_STATIC);
}

/* The dynamic SNAT of section nat's anat, on router RN: its infilter `type rev_snat dst
 * SNAT_ADDR/32`, its outfilter `type snat out-ports NU target SNAT_ADDR:1024-65535`
 * (rules[0] and [1], the port list lists[0]). */
static void snat_rules(struct mx_rule_spec *rules)
{
	rules[0].type = MX_RULE_REV_SNAT;
	rules[0].conds = MX_COND_DST;
	rules[0].dst = frames_addr(SNAT_ADDR);
	rules[0].dst_len = 32;
	rules[1].type = MX_RULE_SNAT;
	rules[1].conds = MX_COND_OUT_PORTS;
	rules[1].dst = 0;
	rules[1].dst_len = 0;
	rules[1].out_ports = 0;
	rules[1].nat_lo = rules[1].nat_hi = frames_addr(SNAT_ADDR);
	rules[1].nat_port_lo = 1024;
	rules[1].nat_port_hi = 65535;
	rules[1].nat_ports = 1;
}

static int setup_filtered(void)
{
	/* rule ids are unique in a program: chain 1's are 1 to 10, chain 3's 11 to 110, the
	 * firewall's 111 and 112, the SNAT's 113 and 114 */
	static struct mx_rule_spec rules[CHAIN_RULES + CHAIN_100_RULES + 4];
	static const __u32 out_nu[] = { NU };
	static const struct mx_chain_list lists[] = { { out_nu, 1 } };
	struct mx_rule_spec *fw = rules + CHAIN_RULES + CHAIN_100_RULES, *snat = fw + 2;
	struct mx_chain_spec c[] = { { CHAIN_ID, rules, CHAIN_RULES },
				     { CHAIN_EMPTY_ID, NULL, 0 },
				     { CHAIN_100_ID, rules + CHAIN_RULES, CHAIN_100_RULES },
				     { CHAIN_FW_ID, fw, 2 },
				     { CHAIN_SNAT_IN_ID, snat, 1 },
				     { CHAIN_SNAT_OUT_ID, snat + 1, 1 } };
	struct mx_chain_program prog = { c, 6, lists, 1 };
	struct mx_chain_maps maps;

	for (__u32 i = 0; i < CHAIN_RULES + CHAIN_100_RULES + 4; i++)
		rules[i] = (struct mx_rule_spec){
			.rule_id = i + 1, .type = MX_RULE_DROP, .frag = MX_FRAG_DEFAULT,
			.conds = MX_COND_DST, .dst = frames_addr("198.18.0.0"), .dst_len = 15,
			.jump_to = MX_CHAIN_SPEC_MISSING, .in_ports = MX_CHAIN_SPEC_NO_LIST,
			.out_ports = MX_CHAIN_SPEC_NO_LIST, .port_group = MX_CHAIN_SPEC_NO_LIST,
			.in_port_group = MX_CHAIN_SPEC_NO_LIST,
			.out_port_group = MX_CHAIN_SPEC_NO_LIST,
			.ip_group_src = MX_CHAIN_SPEC_NO_LIST, .ip_group_dst = MX_CHAIN_SPEC_NO_LIST
		};
	fw[0].type = MX_RULE_ACCEPT;
	fw[0].conds = MX_COND_RETURN_FLOW;
	fw[1].type = MX_RULE_DROP;
	fw[1].conds = 0;
	snat_rules(snat);
	mx_datapath_chain_maps(dp, &maps);
	return mx_chain_install(&maps, &prog) ||
	       put_filtered_port(P5, "p5", M_P5, CHAIN_ID, &if_p5) ||
	       put_filtered_port(P5_EMPTY, "p5e", M_P5_EMPTY, CHAIN_EMPTY_ID, &if_p5_empty) ||
	       put_filtered_port(P5_100, "p5h", M_P5_100, CHAIN_100_ID, &if_p5_100);
}

/* Bridge B3 as B1's flood set: p6 and p7 here, PR3 on the peer host; p7's outfilter the
 * chain of setup_filtered (every rule looked at, none matches, the copy sent). */
static int setup_flood_filtered(void)
{
	struct mx_bridge b = { .n_local = 2, .n_remote = 1 };
	struct mx_filter f = { .owner = P7, .out_chain = CHAIN_ID };
	__u32 key = P7;

	if_p6 = (int)if_nametoindex("p6");
	if_p7 = (int)if_nametoindex("p7");
	b.local_ifindex[0] = (__u32)if_p6;
	b.local_ifindex[1] = (__u32)if_p7;
	b.remote_addr[0] = frames_addr(PEER_ADDR);
	return put_port_on(B3, P6, MX_PORT_LOCAL, if_p6, NULL, 0) ||
	       put_port_on(B3, P7, MX_PORT_LOCAL | MX_PORT_FILTERED, if_p7, NULL, 0) ||
	       put_port_on(B3, PR3, MX_PORT_REMOTE, 0, PEER_ADDR, 0) ||
	       bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_FILTER), &key, &f, BPF_ANY) ||
	       mx_bridge_update(dp, B3, &b);
}

/* Bridge B4 tracks connections (MX_PORT_DEVICE_CT on its ports, no filter): p8 and p9,
 * fixed MACs. A frame p8 -> p9 opens a connection on its first run and is its forward packet
 * from then on (local-l2-ct); p9 -> p8 is its return packet (local-l2-ct-return). */
static int setup_tracked(void)
{
	struct mx_bridge b = { .n_local = 2 };
	struct mx_port p = { .device_key = B4,
			     .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC | MX_PORT_DEVICE_CT };
	int err = 0;

	if_p8 = (int)if_nametoindex("p8");
	if_p9 = (int)if_nametoindex("p9");
	b.local_ifindex[0] = (__u32)if_p8;
	b.local_ifindex[1] = (__u32)if_p9;
	p.ifindex = (__u32)if_p8;
	memcpy(p.mac, M_P8, 6);
	err |= dp_put_port(dp, P8, &p);
	p.ifindex = (__u32)if_p9;
	memcpy(p.mac, M_P9, 6);
	err |= dp_put_port(dp, P9, &p);
	err |= dp_put_fdb(dp, B4, M_P8, P8, MX_FDB_STATIC) | dp_put_fdb(dp, B4, M_P9, P9, MX_FDB_STATIC);
	return err || mx_bridge_update(dp, B4, &b);
}

/* Bridge B5 tracks connections too, and q2's infilter is the stateful firewall (chain
 * CHAIN_FW_ID: accept return flows, drop the rest), as on the uplink of
 * tests/e2e/conntrack.bats: q1 -> q2 opens a connection and is its forward packet
 * (local-l2-ct-fw: q1 has no filter), q2 -> q1 its return packet, which the firewall's first
 * rule accepts (local-l2-ct-fw-return). */
static int setup_firewalled(void)
{
	struct mx_bridge b = { .n_local = 2 };
	struct mx_port p = { .device_key = B5,
			     .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC | MX_PORT_DEVICE_CT };
	struct mx_filter f = { .owner = Q2, .in_chain = CHAIN_FW_ID };
	__u32 key = Q2;
	int err = 0;

	if_q1 = (int)if_nametoindex("q1");
	if_q2 = (int)if_nametoindex("q2");
	b.local_ifindex[0] = (__u32)if_q1;
	b.local_ifindex[1] = (__u32)if_q2;
	p.ifindex = (__u32)if_q1;
	memcpy(p.mac, M_Q1, 6);
	err |= dp_put_port(dp, Q1, &p);
	p.ifindex = (__u32)if_q2;
	p.flags |= MX_PORT_FILTERED;
	memcpy(p.mac, M_Q2, 6);
	err |= bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_FILTER), &key, &f, BPF_ANY);
	err |= dp_put_port(dp, Q2, &p);
	err |= dp_put_fdb(dp, B5, M_Q1, Q1, MX_FDB_STATIC) | dp_put_fdb(dp, B5, M_Q2, Q2, MX_FDB_STATIC);
	return err || mx_bridge_update(dp, B5, &b);
}

/* Router RN as section nat's anat router: interior port NA (10.7.0.254) on bridge B7, whose
 * local port snc is the client VM (10.7.0.5), and the uplink NU (SNAT_ADDR/24) bound to snu,
 * behind which the server SNAT_SRV is a static neighbour. RN tracks connections and has the
 * SNAT chains for filters (snat_rules); this host leases one block of SNAT_ADDR's ports,
 * 1024 to 1087, as the agent does first. */
#define SNAT_CLIENT "10.7.0.5"
#define SNAT_SRV "203.0.113.2"
#define SNAT_BLOCK 16
static int setup_snat(void)
{
	const __u32 rflags = MX_PORT_DEVICE_CT | MX_PORT_DEVICE_FILTERED;
	struct mx_bridge b = { .n_local = 1 };
	struct mx_filter f = { .owner = RN, .in_chain = CHAIN_SNAT_IN_ID, .out_chain = CHAIN_SNAT_OUT_ID };
	struct mx_neigh_key nk = { .router_key = RN, .addr = frames_addr(SNAT_SRV) };
	struct mx_neigh_entry ne = { .flags = MX_NEIGH_STATIC, .port_key = NU };
	int ncpu = libbpf_num_possible_cpus();
	__be32 lease_key = frames_addr(SNAT_ADDR);
	struct mx_nat_lease *lease;
	__u32 key = RN;
	int err = 0;

	if_snc = (int)if_nametoindex("snc");
	if_snu = (int)if_nametoindex("snu");
	b.local_ifindex[0] = (__u32)if_snc;
	memcpy(ne.mac, M_SRV, 6);
	err |= put_port_on(B7, N1, MX_PORT_LOCAL, if_snc, NULL, 0);
	err |= put_port_on(B7, B7R, 0, 0, NULL, NA);
	err |= put_rport_on(RN, NA, M_NA, "10.7.0.254", "10.7.0.0", B7R, rflags, 0);
	err |= put_rport_on(RN, NU, M_NU, SNAT_ADDR, "203.0.113.0", 0, rflags | MX_PORT_LOCAL,
			    if_snu);
	err |= dp_put_fdb(dp, B7, M_NA, B7R, MX_FDB_STATIC) |
	       dp_put_fdb(dp, B7, M_N1, N1, MX_FDB_STATIC);
	err |= put_arp(B7, "10.7.0.254", M_NA) | put_arp(B7, SNAT_CLIENT, M_N1);
	err |= mx_neigh_update(dp, &nk, &ne);
	err |= bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_FILTER), &key, &f, BPF_ANY);
	if (err || ncpu <= 0 || mx_bridge_update(dp, B7, &b))
		return -1;
	lease = calloc((size_t)ncpu, sizeof(*lease));
	if (!lease)
		return -1;
	for (int c = 0; c < ncpu; c++) {
		lease[c].n_blocks = 1;
		lease[c].block[0] = SNAT_BLOCK;
	}
	err = bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_NAT_LEASE), &lease_key, lease,
				  BPF_ANY);
	free(lease);
	return err;
}

/* One bridge: p1 and p2 here, PR on the peer host; p1's MAC learned, p2's fixed
 * (a static entry and port security, as the agent makes it). */
static int setup(void)
{
	struct mx_config cfg = { .tunnel_addr = frames_addr(LOCAL_ADDR),
				 .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
	struct mx_bridge b = { .n_local = 2, .n_remote = 1 };
	struct mx_tunpeer tp = { 0 };
	struct mx_datapath_opts opts = { .no_pin = true };
	int err = 0;

	if (dp_netns_enter() || dp_veth("p1", "02:00:00:00:0a:01") ||
	    dp_veth("p2", "02:00:00:00:0a:02") || dp_veth("p3", "02:00:00:00:0a:03") ||
	    dp_veth("p4", "02:00:00:00:0a:04") || dp_veth("p5", "02:00:00:00:0a:05") ||
	    dp_veth("p5e", "02:00:00:00:0a:0e") || dp_veth("p5h", "02:00:00:00:0a:0f") ||
	    dp_veth("p6", "02:00:00:00:0a:06") || dp_veth("p7", "02:00:00:00:0a:07") ||
	    dp_veth("p8", "02:00:00:00:0a:08") || dp_veth("p9", "02:00:00:00:0a:09") ||
	    dp_veth("q1", "02:00:00:00:0b:01") || dp_veth("q2", "02:00:00:00:0b:02") ||
	    dp_veth("snc", "02:00:00:00:0c:01") || dp_veth("snu", "02:00:00:00:0c:02") ||
	    dp_veth("ul0", "02:00:00:00:00:01") ||
	    dp_sh("ip addr add %s/24 dev ul0 && sysctl -qw net.ipv4.conf.ul0.forwarding=1 && "
		  "ip neigh replace %s lladdr 02:00:00:00:00:02 dev ul0 nud permanent",
		  LOCAL_ADDR, PEER_ADDR))
		return -1;
	if_p1 = (int)if_nametoindex("p1");
	if_p2 = (int)if_nametoindex("p2");
	if_p3 = (int)if_nametoindex("p3");
	if_ul = (int)if_nametoindex("ul0");
	if (mx_datapath_open(&opts, &dp))
		return -1;
	cfg.underlay_ifindex = (__u32)if_ul;
	b.local_ifindex[0] = (__u32)if_p1;
	b.local_ifindex[1] = (__u32)if_p2;
	b.remote_addr[0] = frames_addr(PEER_ADDR);
	err |= mx_config_set(dp, &cfg);
	/* p1 takes XDP frames (as with underlay_xdp on): decap-xdp delivers to it */
	err |= put_port(P1, MX_PORT_LOCAL | MX_PORT_XDP_RX, if_p1, NULL) |
	       put_port_fixed_mac(P2, if_p2, M_P2);
	err |= put_port(PR, MX_PORT_REMOTE, 0, PEER_ADDR);
	err |= put_fdb(M_P1, P1, MX_FDB_LOCAL) | put_fdb(M_P2, P2, MX_FDB_STATIC);
	err |= put_fdb(M_R, PR, MX_FDB_REMOTE);
	err |= mx_bridge_update(dp, B1, &b);
	err |= mx_tunpeer_update(dp, frames_addr(PEER_ADDR), &tp);
	return err || setup_router() || setup_limited() || setup_filtered() ||
			       setup_flood_filtered() || setup_tracked() || setup_firewalled() ||
			       setup_snat() ? -1 : 0;
}

/* What a path's frame does to RN's table, undone after each run outside the timed program
 * so that every run opens the same connection on an unchanged table. */
enum path_opens {
	OPENS_NONE,
	OPENS_FREE,   /* a connection, on a free port (snat-new): its two entries removed */
	OPENS_REUSE,  /* one whose every candidate port a closed connection holds
		       * (snat-new-reuse): its entries removed, the holder it took over put back */
};

struct path {
	const char *name;
	int prog_fd;
	int ifindex;
	struct frames_spec frame;
	bool idempotent; /* the program leaves the frame as it was: repeat on one skb is fair */
	bool delivered;  /* checked: the frame is redirected to its port (not dropped by a
			  * chain, or as a connection's return packet with no connection) */
	bool xdp;        /* an XDP program: run on an xdp_md, net of the do-nothing XDP program */
	enum path_opens opens; /* the frame opens a connection on router RN */
};

/* A TCP segment of a connection through RN's SNAT, 60 bytes: from the client VM on snc to
 * SNAT_SRV:dport (fwd), or from the server to SNAT_ADDR:dport (its reply). */
static struct frames_spec snat_frame(bool fwd, uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct frames_spec f = { .kind = FRAMES_IPV4, .ip_proto = 6, .dst = M_NA, .src = M_N1,
				 .sip = SNAT_CLIENT, .tip = SNAT_SRV, .sport = sport,
				 .dport = dport, .tcp_flags = flags, .payload = 6 };

	if (!fwd) {
		f.dst = M_NU;
		f.src = M_SRV;
		f.sip = SNAT_SRV;
		f.tip = SNAT_ADDR;
	}
	return f;
}

/* RN's connection of forward frame f (its key), and its entry into e when e is not NULL:
 * 0, or -1 when there is none. */
static int snat_conn(const struct frames_spec *f, struct mx_ct_key *k, struct mx_ct_entry *e)
{
	struct mx_ct_entry tmp;

	*k = (struct mx_ct_key){ .device = RN, .src = frames_addr(f->sip),
				 .dst = frames_addr(f->tip), .sport = htons(f->sport),
				 .dport = htons(f->dport), .proto = 6 };
	return bpf_map_lookup_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), k, e ? e : &tmp) ? -1 : 0;
}

/* A closed connection (TIME_WAIT, seen now) of RN holding tuple SNAT_ADDR:port ->
 * SNAT_SRV:dport, as a finished connection leaves it: a new connection may take it over. */
static int snat_hold(uint16_t port, uint16_t dport)
{
	struct mx_ct_key k = { .device = RN, .src = frames_addr(SNAT_ADDR),
			       .dst = frames_addr(SNAT_SRV), .sport = htons(port),
			       .dport = htons(dport), .proto = 6 };
	struct mx_ct_entry e = { .state = MX_CT_TCP_TIME_WAIT, .last_seen_ns = mx_monotonic_ns(),
				 .tag = mx_ct_tag(&k) };

	return bpf_map_update_elem(mx_datapath_map_fd(dp, MX_MAP_ID_CT), &k, &e, BPF_ANY);
}

/* Every port of the leased block held for SNAT_SRV:dport by a closed connection (refreshed:
 * they must not expire during the runs). */
static int snat_hold_block(uint16_t dport)
{
	int err = 0;

	for (uint16_t port = SNAT_BLOCK * MX_NAT_BLOCK_PORTS;
	     port < (SNAT_BLOCK + 1) * MX_NAT_BLOCK_PORTS; port++)
		err |= snat_hold(port, dport);
	return err;
}

/* Remove the connection forward frame f opened on RN, and its index entry (the translated
 * tuple); with OPENS_REUSE put back the closed connection it took that tuple from. 0, or -1
 * when either entry is missing (the run opened nothing). */
static int snat_forget(const struct frames_spec *f, enum path_opens opens)
{
	int fd = mx_datapath_map_fd(dp, MX_MAP_ID_CT);
	struct mx_ct_entry e;
	struct mx_ct_key k, x;

	if (snat_conn(f, &k, &e) || !(e.flags & MX_CT_F_NAT))
		return -1;
	x = (struct mx_ct_key){ .device = RN, .src = e.nat.src, .dst = e.nat.dst,
				.sport = e.nat.sport, .dport = e.nat.dport, .proto = 6 };
	if (bpf_map_delete_elem(fd, &x) || bpf_map_delete_elem(fd, &k))
		return -1;
	return opens == OPENS_REUSE ? snat_hold(ntohs(x.sport), f->dport) : 0;
}

static int run(const struct path *p, const uint8_t *frame, size_t len, __u32 repeat,
	       __u32 *ns, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = (__u32)p->ifindex,
				 .ingress_ifindex = (__u32)p->ifindex };
	struct xdp_md xctx = { .data_end = (__u32)len, .ingress_ifindex = (__u32)p->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int err;

	if (p->xdp) {
		opts.ctx_in = &xctx;
		opts.ctx_size_in = sizeof(xctx);
	}
	err = bpf_prog_test_run_opts(p->prog_fd, &opts);

	*ns = opts.duration;
	*verdict = (int)opts.retval;
	return err;
}

/* Mean kernel-timed duration of runs test runs of repeat 1, in ns. */
static double single(const struct path *p, long runs, int *verdict)
{
	uint8_t frame[FRAMES_MAX];
	size_t len = frames_build(&p->frame, frame, UL_MAC, PEER_MAC);
	double sum = 0;
	__u32 ns;

	for (long i = 0; i < runs; i++) {
		if (p->opens == OPENS_REUSE && i % 1000 == 0 && snat_hold_block(p->frame.dport))
			return -1;
		if (run(p, frame, len, 1, &ns, verdict) ||
		    (p->opens && snat_forget(&p->frame, p->opens)))
			return -1;
		sum += ns;
	}
	return sum / (double)runs;
}

static int noop_prog(enum bpf_prog_type type, int verdict)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = verdict },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(type, "mxbench_noop", "GPL", insns, 2, NULL);
}

static int discard_event(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

/* The drop path p while a listener's mark is set at events_per_sec: the mean kernel-timed
 * duration, the ring drained every batch (it holds ~2700 events). */
static double single_listening(const struct path *p, long runs, __u32 events_per_sec,
			       int *verdict)
{
	int mon_fd = mx_datapath_map_fd(dp, MX_MAP_ID_MONITOR);
	struct ring_buffer *rb = ring_buffer__new(mx_datapath_map_fd(dp, MX_MAP_ID_EVENTS),
						  discard_event, NULL, NULL);
	uint8_t frame[FRAMES_MAX];
	size_t len = frames_build(&p->frame, frame, UL_MAC, PEER_MAC);
	double sum = 0;
	__u32 ns;

	if (!rb || mx_monitor_rate_reset(mx_datapath_map_fd(dp, MX_MAP_ID_MON_RATE)))
		return -1;
	for (long i = 0; i < runs; i++) {
		if (i % 1000 == 0) {
			ring_buffer__consume(rb);
			mx_monitor_mark(mon_fd, events_per_sec, 1, mx_monotonic_ns() + 60000000000ull);
		}
		if (run(p, frame, len, 1, &ns, verdict)) {
			sum = -1;
			break;
		}
		sum += ns;
	}
	mx_monitor_clear(mon_fd);
	ring_buffer__free(rb);
	return sum < 0 ? -1 : sum / (double)runs;
}

/* Frame f run into ifindex by program fd: the verdict, or -1; the frame out into out. */
static int snat_send(int fd, int ifindex, const struct frames_spec *f, uint8_t *out,
		     size_t *out_len)
{
	uint8_t in[FRAMES_MAX];
	size_t in_len = frames_build(f, in, UL_MAC, PEER_MAC);
	int verdict;

	*out_len = FRAMES_MAX + 128;
	return dp_test_run(fd, ifindex, in, in_len, out, out_len, &verdict) ? -1 : verdict;
}

/* Open the connection snat-fwd and snat-return time (client port 40000 to the server's
 * 5000): its SYN leaves the uplink from SNAT_ADDR and a port of the leased block (checked
 * in the frame out and in RN's entry), the server's SYN-ACK to that port reaches the
 * client at its own address and port, the client's ACK makes it established. The port
 * into snat_port. 0, or -1 with a message. */
static int snat_open(int fd)
{
	struct frames_spec syn = snat_frame(true, 40000, 5000, 0x02);
	struct frames_spec ack = snat_frame(true, 40000, 5000, 0x10), synack;
	const size_t ip = FRAMES_ETH_HLEN, tcp = FRAMES_ETH_HLEN + 20;
	__be32 snat_addr = frames_addr(SNAT_ADDR), client = frames_addr(SNAT_CLIENT);
	uint8_t out[FRAMES_MAX + 128];
	struct mx_ct_entry e;
	struct mx_ct_key k;
	size_t out_len;
	int v;

	v = snat_send(fd, if_snc, &syn, out, &out_len);
	if (v != TC_ACT_REDIRECT || snat_conn(&syn, &k, &e) || !(e.flags & MX_CT_F_NAT) ||
	    e.nat.src != snat_addr || out_len < tcp + 4 || memcmp(out + ip + 12, &snat_addr, 4) ||
	    memcmp(out + tcp, &e.nat.sport, 2)) {
		fprintf(stderr, "mxbench-cost: snat: the SYN was not SNATed (verdict %d)\n", v);
		return -1;
	}
	snat_port = ntohs(e.nat.sport);
	if (snat_port < SNAT_BLOCK * MX_NAT_BLOCK_PORTS ||
	    snat_port >= (SNAT_BLOCK + 1) * MX_NAT_BLOCK_PORTS) {
		fprintf(stderr, "mxbench-cost: snat: port %u is not of the leased block\n", snat_port);
		return -1;
	}
	synack = snat_frame(false, 5000, snat_port, 0x12);
	v = snat_send(fd, if_snu, &synack, out, &out_len);
	if (v != TC_ACT_REDIRECT || out_len < tcp + 4 || memcmp(out + ip + 16, &client, 4) ||
	    out[tcp + 2] != 40000 >> 8 || out[tcp + 3] != (40000 & 0xff)) {
		fprintf(stderr, "mxbench-cost: snat: the SYN-ACK was not reverse-translated "
				"(verdict %d)\n", v);
		return -1;
	}
	v = snat_send(fd, if_snc, &ack, out, &out_len);
	if (v != TC_ACT_REDIRECT || snat_conn(&ack, &k, &e) || e.state != MX_CT_TCP_ESTABLISHED) {
		fprintf(stderr, "mxbench-cost: snat: the connection is not established (verdict "
				"%d, state %u)\n", v, e.state);
		return -1;
	}
	return 0;
}

/* The drop path with a listener: every event written, or every one suppressed. */
static const char *const listening_names[] = { "drop-no-port-event", "drop-no-port-suppressed" };

/* The first PATH argument that names no path of paths[n] nor a listening row, or NULL. */
static const char *unknown_path(int argc, char **argv, const struct path *paths, size_t n)
{
	for (int i = 2; i < argc; i++) {
		bool known = !strcmp(argv[i], listening_names[0]) ||
			     !strcmp(argv[i], listening_names[1]);

		for (size_t j = 0; j < n && !known; j++)
			known = !strcmp(argv[i], paths[j].name);
		if (!known)
			return argv[i];
	}
	return NULL;
}

/* Whether path name is one the command line asks for (all when it names none). */
static bool wanted(int argc, char **argv, const char *name)
{
	if (argc < 3)
		return true;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	long runs = argc > 1 ? atol(argv[1]) : 1000000;
	int port_fd, ul_fd, verdict;
	double base;

	mx_log_init("mxbench-cost", MX_LOG_WARN);
	if (runs < 1 || setup()) {
		fprintf(stderr, "mxbench-cost: setup failed (root? usage: mxbench-cost RUNS)\n");
		return 1;
	}
	port_fd = mx_datapath_port_prog_fd(dp);
	ul_fd = mx_datapath_underlay_prog_fd(dp);
	if (snat_open(port_fd))
		return 1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers" /* xdp: false but where set */
	const struct path paths[] = {
		{ "noop", noop_prog(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK), if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true, false },
		{ "drop-no-port", port_fd, if_ul, /* ul0 is no port: the first lookup misses */
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true, false },
		{ "local-l2", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true, false },
		/* from p2, whose MAC is fixed (a static entry, as `add port mac M` makes it) */
		{ "local-l2-fixed-mac", port_fd, if_p2,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_P2, .sip = "10.1.0.2",
		    .tip = "10.1.0.1", .payload = 18 }, true, false },
		/* from p4: as p2, with an egress limit it never reaches (the check's cost) */
		{ "local-l2-limited", port_fd, if_p4,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_P4, .sip = "10.1.0.4",
		    .tip = "10.1.0.1", .payload = 18 }, true, false },
		/* from p5: as p2, through an infilter of 10 rules none matches */
		{ "local-l2-chain10", port_fd, if_p5,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_P5, .sip = "10.1.0.5",
		    .tip = "10.1.0.1", .payload = 18 }, true, true },
		/* the same through an infilter of no rule, and of 100 rules none matches */
		{ "local-l2-chain0", port_fd, if_p5_empty,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_P5_EMPTY, .sip = "10.1.0.7",
		    .tip = "10.1.0.1", .payload = 18 }, true, true },
		{ "local-l2-chain100", port_fd, if_p5_100,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_P5_100, .sip = "10.1.0.8",
		    .tip = "10.1.0.1", .payload = 18 }, true, true },
		/* from p8: through bridge B4, which tracks: a connection's forward packet */
		{ "local-l2-ct", port_fd, if_p8,
		  { .kind = FRAMES_IPV4, .dst = M_P9, .src = M_P8, .sip = "10.4.0.8",
		    .tip = "10.4.0.9", .payload = 18 }, true, true },
		/* from p9: its return packet (the reversed tuple: two lookups) */
		{ "local-l2-ct-return", port_fd, if_p9,
		  { .kind = FRAMES_IPV4, .dst = M_P8, .src = M_P9, .sip = "10.4.0.9",
		    .tip = "10.4.0.8", .payload = 18, .sport = 5000, .dport = 40000 }, true, true },
		/* through bridge B5, which tracks, q2's infilter the stateful firewall: a
		 * connection's forward packet from q1, then its return packet from q2 */
		{ "local-l2-ct-fw", port_fd, if_q1,
		  { .kind = FRAMES_IPV4, .dst = M_Q2, .src = M_Q1, .sip = "10.6.0.1",
		    .tip = "10.6.0.2", .payload = 18 }, true, true },
		{ "local-l2-ct-fw-return", port_fd, if_q2,
		  { .kind = FRAMES_IPV4, .dst = M_Q1, .src = M_Q2, .sip = "10.6.0.2",
		    .tip = "10.6.0.1", .payload = 18, .sport = 5000, .dport = 40000 }, true, true },
		{ "remote-l2-encap", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_R, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.3", .payload = 18 }, false, false },
		/* through router RN's dynamic SNAT (section nat's anat): the established
		 * connection's forward packet from the client, its binding applied by the
		 * outfilter's snat, and its reply from the server, given back by the infilter's
		 * rev_snat (snat_open made it); the first packet of a new connection, a SYN to
		 * another server port: the port search (the first candidate free) and the commit
		 * of the connection and its index entry, both removed after each run */
		{ "snat-fwd", port_fd, if_snc, snat_frame(true, 40000, 5000, 0x10), false, true },
		{ "snat-return", port_fd, if_snu, snat_frame(false, 5000, snat_port, 0x10), false,
		  true },
		{ "snat-new", port_fd, if_snc, snat_frame(true, 40001, 5001, 0x02), false, true,
		  false, OPENS_FREE },
		/* the same to a server port whose every candidate port (the whole block) a
		 * closed connection holds: 16 candidates looked at, the first taken over
		 * (time-wait reuse), the closed connection's entry deleted */
		{ "snat-new-reuse", port_fd, if_snc, snat_frame(true, 40002, 5002, 0x02), false,
		  true, false, OPENS_REUSE },
		{ "decap", ul_fd, if_ul,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_R, .sip = "10.1.0.3",
		    .tip = "10.1.0.1", .payload = 18, .vxlan = true, .osrc = PEER_ADDR,
		    .odst = LOCAL_ADDR, .vni = P1 }, false, false },
		{ "flood-1local-1remote", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.255", .payload = 18 }, false, false },
		/* the same flood, its local copy through an outfilter of 10 rules none matches */
		{ "flood-1local-1remote-out10", port_fd, if_p6,
		  { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_P6, .sip = "10.1.0.6",
		    .tip = "10.1.0.255", .payload = 18 }, false, false },
		/* routed: rewrites MACs and TTL, so repeat on one skb would time another path */
		{ "routed-local", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_RA, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.2.0.2", .payload = 18 }, false, false },
		{ "routed-remote-encap", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_RA, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.2.0.3", .payload = 18 }, false, false },
		/* XDP, net of noop-xdp (XDP_PASS): the baseline of the rows after it */
		{ "noop-xdp", noop_prog(BPF_PROG_TYPE_XDP, XDP_PASS), if_ul,
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true, false, true },
		/* decap's frame through underlay_xdp: outer headers dropped, redirected to p1 */
		{ "decap-xdp", mx_datapath_underlay_xdp_prog_fd(dp), if_ul,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_R, .sip = "10.1.0.3",
		    .tip = "10.1.0.1", .payload = 18, .vxlan = true, .osrc = PEER_ADDR,
		    .odst = LOCAL_ADDR, .vni = P1 }, false, false, true },
	};
#pragma GCC diagnostic pop
	const size_t n_paths = sizeof(paths) / sizeof(paths[0]);
	const char *unknown = unknown_path(argc, argv, paths, n_paths);
	double base_xdp = -1;

	if (unknown) {
		fprintf(stderr, "mxbench-cost: no path %s\n", unknown);
		return 2;
	}

	base = single(&paths[0], runs, &verdict);
	for (size_t i = 0; i < n_paths; i++) {
		const struct path *p = &paths[i];
		double ns;

		if (i && !wanted(argc, argv, p->name) &&
		    !(p->xdp && base_xdp < 0 && wanted(argc, argv, "decap-xdp")))
			continue;
		ns = i ? single(p, runs, &verdict) : base;
		if (p->prog_fd < 0 || ns < 0) {
			fprintf(stderr, "mxbench-cost: %s: test run failed\n", p->name);
			return 1;
		}
		if (p->delivered && verdict != TC_ACT_REDIRECT) {
			fprintf(stderr, "mxbench-cost: %s: verdict %d, not delivered (a return path "
					"runs after its forward path)\n", p->name, verdict);
			return 1;
		}
		if (p->xdp && base_xdp < 0)
			base_xdp = ns; /* noop-xdp, the first XDP row */
		printf("cost %s single %.1f %.1f %d\n", p->name, ns - (p->xdp ? base_xdp : base), ns,
		       verdict);
		if (p->idempotent) {
			uint8_t frame[FRAMES_MAX];
			size_t len = frames_build(&p->frame, frame, UL_MAC, PEER_MAC);
			__u32 rns;

			if (run(p, frame, len, (__u32)runs, &rns, &verdict))
				return 1;
			printf("cost %s repeat %u\n", p->name, rns);
		}
		fflush(stdout);
	}
	/* paths[1] is drop-no-port: every event written (a budget no run reaches), then none */
	for (int i = 0; i < 2; i++) {
		const char *name = listening_names[i];
		double ns;

		if (!wanted(argc, argv, name))
			continue;
		ns = single_listening(&paths[1], runs, i ? 1 : 1000000000u, &verdict);
		if (ns < 0) {
			fprintf(stderr, "mxbench-cost: drop path with a listener: test run failed\n");
			return 1;
		}
		printf("cost %s single %.1f %.1f %d\n", name, ns - base, ns, verdict);
	}
	mx_datapath_close(dp);
	return 0;
}
