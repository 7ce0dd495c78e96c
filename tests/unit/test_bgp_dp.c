// SPDX-License-Identifier: Apache-2.0
/* BGP steering datapath tests (bpf/lib/bgp.h): BPF_PROG_TEST_RUN on crafted frames, one row
 * per decision, maps filled through the loader as the agent fills them, in a private network
 * namespace. On the exterior router port U (interface up1, 198.51.100.1/24, peer
 * 198.51.100.2), what is the speaker's goes to its veth (mxbsp) unchanged; what is not goes
 * on to the router, which answers or drops it as always; the peer's ARP replies to the port
 * go to both, its requests to the router alone (which answers for the speaker too: one reply,
 * not two), as a packet socket on the speaker's end of the pair sees. On the speaker's veth,
 * what is for
 * the peer goes out unchanged and the rest is dropped as bgp-not-peer. TAP output. */
#include "dp_net.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "dp_counters.h"
#include "dp_fill.h"
#include "frames.h"
#include "loader/loader.h"
#include "base/log.h"
#include "tap.h"

enum { R = 500, U = 5003 };

#define PORT_ADDR "198.51.100.1"
#define PEER "198.51.100.2"
#define OTHER "198.51.100.9"

static const uint8_t M_U[6] = { 0x02, 0x6d, 0x78, 0, 0x13, 0x8b };
static const uint8_t M_PEER[6] = { 0x02, 0, 0, 0, 0x51, 0x02 };
static const uint8_t M_OTHER[6] = { 0x02, 0, 0, 0, 0x51, 0x09 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

enum ifid { IF_UP, IF_SPEAKER, IF__MAX };
static const char *const if_names[IF__MAX] = { "up1", "mxbsp" };
static const char *const if_macs[IF__MAX] = { "02:00:00:00:0d:01", "02:00:00:00:0d:02" };
static int ifx[IF__MAX];

static struct mx_datapath *dp;

/* The router port as the agent writes it, with its /32 LOCAL route and connected route. */
static int put_uplink(__u32 flags)
{
	struct mx_port p = { .device_key = R, .flags = MX_PORT_ROUTER | MX_PORT_LOCAL | flags,
			     .ifindex = ifx[IF_UP], .prefix_len = 24, .addr = frames_addr(PORT_ADDR) };

	memcpy(p.mac, M_U, 6);
	return dp_put_port(dp, U, &p);
}

static int maps_setup(void)
{
	struct mx_route_key lk = { 64, R, frames_addr(PORT_ADDR) };
	struct mx_route_key ck = { 56, R, frames_addr("198.51.100.0") };
	struct mx_route local = { .n = 1 }, conn = { .n = 1 };
	struct mx_bgp_key in = { ifx[IF_UP], frames_addr(PEER) };
	struct mx_bgp_key out = { ifx[IF_SPEAKER], frames_addr(PEER) };
	struct mx_bgp to_speaker = { ifx[IF_SPEAKER], frames_addr(PORT_ADDR), U, MX_BGP_TO_SPEAKER };
	struct mx_bgp to_wire = { ifx[IF_UP], frames_addr(PORT_ADDR), U, MX_BGP_TO_WIRE };
	struct mx_icmp_rate full = { 0 };

	local.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_LOCAL, .port_key = U };
	conn.nh[0] = (struct mx_nexthop){ .type = MX_ROUTE_NORMAL, .port_key = U, .weight = 1 };
	return put_uplink(MX_PORT_BGP) || mx_route_update(dp, &lk, &local) ||
	       mx_route_update(dp, &ck, &conn) ||
	       mx_bgp_update(dp, &in, &to_speaker) || mx_bgp_update(dp, &out, &to_wire) ||
	       mx_icmp_rate_set(dp, &full);
}

/* ---- frames ---- */

enum frame { TCP, ICMP_ECHO, ARP_REQ, ARP_REPLY, IPV6, ARP_CUT };

struct row {
	const char *name;
	enum ifid iface; /* IF_UP: port_ingress; IF_SPEAKER: the speaker's program */
	enum frame frame;
	const uint8_t *src, *dst;
	const char *sip, *tip;
	uint16_t sport, dport; /* TCP */
	int verdict;
	bool unchanged;        /* the output is the input, byte for byte */
	struct delta deltas[MAX_DELTAS];
	bool (*check)(const uint8_t *out, size_t len);
};

static size_t build(const struct row *r, uint8_t *p)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .dst = r->dst, .src = r->src, .sip = r->sip,
				 .tip = r->tip };
	size_t n;

	switch (r->frame) {
	case ARP_REQ:
	case ARP_REPLY:
	case ARP_CUT:
		s.kind = FRAMES_ARP;
		s.arp_op = r->frame == ARP_REPLY ? 2 : 1;
		n = frames_inner(&s, p);
		return r->frame == ARP_CUT ? FRAMES_ETH_HLEN + 10 : n;
	case IPV6:
		s.kind = FRAMES_IPV6;
		return frames_inner(&s, p);
	case ICMP_ECHO:
		s.ip_proto = 1;
		s.icmp_type = 8;
		return frames_inner(&s, p);
	default:
		s.ip_proto = 6;
		n = frames_inner(&s, p);
		frames_put16(p + FRAMES_ETH_HLEN + 20, r->sport);
		frames_put16(p + FRAMES_ETH_HLEN + 22, r->dport);
		return n;
	}
}

/* The router's own answers, to tell them from a frame handed on unchanged. */
static bool is_echo_reply(const uint8_t *f, size_t len)
{
	return len > FRAMES_ETH_HLEN + 20 && f[FRAMES_ETH_HLEN + 9] == 1 &&
	       f[FRAMES_ETH_HLEN + 20] == 0 && !memcmp(f + 6, M_U, 6);
}

static bool is_arp_reply(const uint8_t *f, size_t len)
{
	return len >= FRAMES_ETH_HLEN + 28 && f[12] == 0x08 && f[13] == 0x06 &&
	       f[FRAMES_ETH_HLEN + 7] == 2 && !memcmp(f + FRAMES_ETH_HLEN + 8, M_U, 6);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct row rows[] = {
	{ "BGP from the peer (to port 179) goes to the speaker unchanged", IF_UP, TCP, M_PEER, M_U,
	  PEER, PORT_ADDR, 40001, 179, TC_ACT_REDIRECT, true, { RX(U, 1) } },
	{ "BGP from the peer (from port 179) goes to the speaker unchanged", IF_UP, TCP, M_PEER,
	  M_U, PEER, PORT_ADDR, 179, 40001, TC_ACT_REDIRECT, true, { RX(U, 1) } },
	{ "a ping from the peer goes to the speaker, not answered by the router", IF_UP, ICMP_ECHO,
	  M_PEER, M_U, PEER, PORT_ADDR, 0, 0, TC_ACT_REDIRECT, true },
	{ "a ping from another address is the router's: it answers", IF_UP, ICMP_ECHO, M_OTHER,
	  M_U, OTHER, PORT_ADDR, 0, 0, TC_ACT_REDIRECT, false, { { 0 } }, is_echo_reply },
	{ "other TCP from the peer is the router's: dropped as router-local", IF_UP, TCP, M_PEER,
	  M_U, PEER, PORT_ADDR, 40001, 80, TC_ACT_SHOT, false, { DROP(U, MX_DROP_ROUTER_LOCAL) } },
	{ "BGP from another address is the router's: dropped as router-local", IF_UP, TCP,
	  M_OTHER, M_U, OTHER, PORT_ADDR, 40001, 179, TC_ACT_SHOT, false,
	  { DROP(U, MX_DROP_ROUTER_LOCAL) } },
	{ "the peer's ARP request for the port's address: the router answers it too", IF_UP,
	  ARP_REQ, M_PEER, BCAST, PEER, PORT_ADDR, 0, 0, TC_ACT_REDIRECT, false, { { 0 } },
	  is_arp_reply },
	{ "another host's ARP request is answered by the router", IF_UP, ARP_REQ, M_OTHER, BCAST,
	  OTHER, PORT_ADDR, 0, 0, TC_ACT_REDIRECT, false, { { 0 } }, is_arp_reply },
	{ "the speaker's BGP to the peer goes out unchanged, counted as the port's", IF_SPEAKER,
	  TCP, M_U, M_PEER, PORT_ADDR, PEER, 179, 40001, TC_ACT_REDIRECT, true, { TX(U, 1) } },
	{ "the speaker's ARP request for the peer goes out", IF_SPEAKER, ARP_REQ, M_U, BCAST,
	  PORT_ADDR, PEER, 0, 0, TC_ACT_REDIRECT, true, { TX(U, 1) } },
	{ "the speaker's ping of another address is dropped as bgp-not-peer", IF_SPEAKER, ICMP_ECHO,
	  M_U, M_OTHER, PORT_ADDR, OTHER, 0, 0, TC_ACT_SHOT, false,
	  { DROP(MX_STATS_HOST, MX_DROP_BGP_NOT_PEER) } },
	{ "IPv6 from the speaker is dropped as bgp-not-peer", IF_SPEAKER, IPV6, M_U, BCAST, NULL,
	  NULL, 0, 0, TC_ACT_SHOT, false, { DROP(MX_STATS_HOST, MX_DROP_BGP_NOT_PEER) } },
	{ "a cut ARP frame from the speaker is dropped as bgp-not-peer", IF_SPEAKER, ARP_CUT, M_U,
	  BCAST, PORT_ADDR, PEER, 0, 0, TC_ACT_SHOT, false,
	  { DROP(MX_STATS_HOST, MX_DROP_BGP_NOT_PEER) } },
};
#pragma GCC diagnostic pop

static int run(enum ifid iface, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
	       int *verdict)
{
	int fd = iface == IF_UP ? mx_datapath_port_prog_fd(dp) : mx_datapath_bgp_prog_fd(dp);

	return dp_test_run(fd, ifx[iface], in, in_len, out, out_len, verdict);
}

static void row_run(const struct row *r)
{
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = build(r, in), out_len = sizeof(out);
	__u64 before[MAX_DELTAS] = { 0 };
	char diag[256] = "";
	int verdict = 0, err;
	bool ok;

	deltas_before(dp, r->deltas, before);
	err = run(r->iface, in, in_len, out, &out_len, &verdict);
	if (err)
		snprintf(diag, sizeof(diag), "BPF_PROG_TEST_RUN: %s", strerror(-err));
	else if (verdict != r->verdict)
		snprintf(diag, sizeof(diag), "verdict %d, want %d", verdict, r->verdict);
	ok = !err && verdict == r->verdict;
	if (ok && r->unchanged && (out_len != in_len || memcmp(in, out, in_len))) {
		snprintf(diag, sizeof(diag), "the frame was changed (%zu bytes out)", out_len);
		ok = false;
	}
	if (ok && r->check && !r->check(out, out_len)) {
		snprintf(diag, sizeof(diag), "not the router's answer");
		ok = false;
	}
	ok = ok && deltas_check(dp, r->deltas, before, diag, sizeof(diag));
	if (!tap_check(ok, diag, "%s", r->name))
		drops_print(dp, r->deltas);
}

/* The peer's ARP request and reply: the router learns the peer's MAC from either. */
static void test_arp_reply_learned(void)
{
	struct row r = { .frame = ARP_REPLY, .src = M_PEER, .dst = M_U, .sip = PEER,
			 .tip = PORT_ADDR };
	struct mx_neigh_key k = { .router_key = R, .addr = frames_addr(PEER) };
	struct mx_neigh_entry e = { 0 };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len = build(&r, in), out_len = sizeof(out);
	int verdict = -1, err;

	mx_neigh_delete(dp, &k);
	err = run(IF_UP, in, in_len, out, &out_len, &verdict);
	tap_ok(!err && verdict == TC_ACT_STOLEN && !mx_neigh_lookup(dp, &k, &e) &&
		       !memcmp(e.mac, M_PEER, 6) && e.port_key == U,
	       "the peer's ARP reply: the router learns its MAC and consumes it (verdict %d)",
	       verdict);
	r.frame = ARP_REQ;
	r.dst = BCAST;
	in_len = build(&r, in);
	out_len = sizeof(out);
	mx_neigh_delete(dp, &k);
	err = run(IF_UP, in, in_len, out, &out_len, &verdict);
	tap_ok(!err && !mx_neigh_lookup(dp, &k, &e) && !memcmp(e.mac, M_PEER, 6),
	       "the peer's ARP request: the router learns its MAC");
}

/* ARP frames arriving at the speaker's end of its pair (mxbspv: the copies bgp_steer sends
 * to mxbsp), until none came for 300 ms: requests and replies counted, each compared with
 * want (a frame the test sent, which a copy must equal). */
static void arp_copies(int fd, const uint8_t *want, size_t want_len, int *req, int *rep,
		       int *other)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t f[FRAMES_MAX];
	ssize_t n;

	while (poll(&p, 1, 300) == 1 && (n = recv(fd, f, sizeof(f), 0)) > 0) {
		if (want && ((size_t)n < want_len || memcmp(f, want, want_len)))
			(*other)++;
		else if (n >= FRAMES_ETH_HLEN + 8 && f[FRAMES_ETH_HLEN + 7] == 1)
			(*req)++;
		else if (n >= FRAMES_ETH_HLEN + 8 && f[FRAMES_ETH_HLEN + 7] == 2)
			(*rep)++;
	}
}

/* One ARP reply for the peer, not two: the speaker gets a copy of the peer's replies (so
 * that it resolves the peer) but not of its requests, which the router answers alone. */
static void test_arp_to_speaker(void)
{
	struct row r = { .frame = ARP_REQ, .src = M_PEER, .dst = BCAST, .sip = PEER,
			 .tip = PORT_ADDR };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = (int)if_nametoindex("mxbspv") };
	uint8_t in[FRAMES_MAX], out[FRAMES_MAX + 128];
	size_t in_len, out_len = sizeof(out);
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP)), verdict = -1, err;
	int req = 0, rep = 0, other = 0;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		tap_ok(false, "a packet socket on the speaker's end: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	arp_copies(fd, NULL, 0, &req, &rep, &other); /* what earlier rows sent */
	req = rep = other = 0;
	in_len = build(&r, in);
	err = run(IF_UP, in, in_len, out, &out_len, &verdict);
	arp_copies(fd, in, in_len, &req, &rep, &other);
	tap_ok(!err && verdict == TC_ACT_REDIRECT && is_arp_reply(out, out_len) && !req && !rep &&
		       !other,
	       "the peer's ARP request: the router's reply alone, no copy to the speaker "
	       "(copies: %d requests, %d replies, %d others)", req, rep, other);
	r.frame = ARP_REPLY;
	r.dst = M_U;
	in_len = build(&r, in);
	out_len = sizeof(out);
	req = rep = other = 0;
	err = run(IF_UP, in, in_len, out, &out_len, &verdict);
	arp_copies(fd, in, in_len, &req, &rep, &other);
	tap_ok(!err && verdict == TC_ACT_STOLEN && rep == 1 && !req && !other,
	       "the peer's ARP reply: one copy, unchanged, to the speaker (copies: %d requests, "
	       "%d replies, %d others)", req, rep, other);
	r.sip = OTHER;
	r.src = M_OTHER;
	in_len = build(&r, in);
	out_len = sizeof(out);
	req = rep = other = 0;
	err = run(IF_UP, in, in_len, out, &out_len, &verdict);
	arp_copies(fd, NULL, 0, &req, &rep, &other);
	tap_ok(!err && !rep && !req && !other,
	       "another host's ARP reply: not the speaker's (copies: %d)", rep + req + other);
	close(fd);
}

/* Without MX_PORT_BGP (no speaker), the same BGP frame is the router's. */
static void test_no_speaker(void)
{
	struct row r = { "without a speaker on the port, BGP from the peer is the router's",
			 IF_UP, TCP, M_PEER, M_U, PEER, PORT_ADDR, 40001, 179, TC_ACT_SHOT, false,
			 { DROP(U, MX_DROP_ROUTER_LOCAL) }, NULL };

	if (put_uplink(0)) {
		tap_ok(false, "cannot rewrite the port");
		return;
	}
	row_run(&r);
	put_uplink(MX_PORT_BGP);
}

int main(void)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	char diag[256] = "";
	int err;

	mx_log_init("test_bgp_dp", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	if (dp_netns_enter() || dp_veths(if_names, if_macs, IF__MAX, ifx))
		return tap_bail("cannot build the test network namespace");
	err = mx_datapath_open(&opts, &dp);
	snprintf(diag, sizeof(diag), "mx_datapath_open: %s", strerror(-err));
	if (!tap_check(!err, diag, "BPF object loads through the verifier (the BGP program too)"))
		return tap_done();
	if (maps_setup())
		return tap_bail("cannot fill the maps");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		row_run(&rows[i]);
	test_arp_reply_learned();
	test_arp_to_speaker();
	test_no_speaker();
	mx_datapath_close(dp);
	return tap_done();
}
