// SPDX-License-Identifier: Apache-2.0
/* Flow state across hosts: tests/unit/fs_test.bpf.c loaded twice, as host h1 (VM A's) and
 * host h2 (VM B's), each with its own tables. A frame through fs_encap on one host (the
 * pass's connection tracking, then the remote delivery's encapsulation) is fed, byte for
 * byte, to fs_decap (underlay_ingress) on the other. Checked: a frame with no writes is the
 * plain encapsulation; a committed connection's record rides (reserved VNI, header, record,
 * then the inner frame unchanged) and is installed on the other host, which delivers the
 * inner frame to the real VNI's port; a state change on the return side rides back (TCP's
 * handshake and close converge on both hosts); a refresh rides at most once a second;
 * malformed or short record areas are dropped as bad-flow-state with nothing written; a
 * record for a full table is counted as ct-full and its frame delivered; records from a
 * host outside the tunnel zones are not installed; through the real deliver_remote (in a
 * network namespace of its own, an underlay veth of MTU 1500): records that would take a
 * frame over the MTU are left off and counted as flow-state-mtu, the frame going as plain
 * VXLAN. TAP output. */
#include "dp_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkt_cls.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "frames.h"
#include "fs_dp.h"
#include "midox/conntrack.h"
#include "midox/flowstate.h"
#include "midox/stats.h"
#include "tap.h"

#define SEC_NS 1000000000ull
#define T0 (1000 * SEC_NS)
#define TABLE_SIZE 64

enum { DEV = 100, PA = 7001 /* A's port, on h1 */, PB = 7002 /* B's port, on h2 */ };
enum { FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10 };

#define A "10.0.0.1"
#define B "10.0.0.2"
#define H1 "192.168.50.1"
#define H2 "192.168.50.2"
#define H3 "192.168.50.3" /* in no tunnel zone of theirs */

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t M_H1[6] = { 0x02, 0, 0, 0, 0x50, 0x01 };
static const uint8_t M_H2[6] = { 0x02, 0, 0, 0, 0x50, 0x02 };

struct ct_out {
	uint8_t verdict, state;
	uint16_t pad;
};

struct host {
	const char *name;
	struct fs_test *skel;
	const char *addr, *peer;
	const uint8_t *mac, *peer_mac;
	uint32_t local_port, peer_port;
};

static struct host h1 = { "h1", NULL, H1, H2, M_H1, M_H2, PA, PB };
static struct host h2 = { "h2", NULL, H2, H1, M_H2, M_H1, PB, PA };

struct frame {
	uint8_t b[FRAMES_MAX];
	size_t len;
};

/* ---- frames ---- */

static struct frame eth_ip(const uint8_t *dmac, const uint8_t *smac, const char *src,
			   const char *dst, uint8_t proto, const uint8_t *l4, size_t l4_len)
{
	struct frame f;
	size_t n = frames_eth(f.b, dmac, smac, 0x0800);

	n += frames_ipv4(f.b + n, 5, proto, frames_addr(src), frames_addr(dst), 0, l4_len);
	memcpy(f.b + n, l4, l4_len);
	f.len = n + l4_len;
	return f;
}

/* A's (from A) or B's segment of the connection A:40000 -> B:80. */
static struct frame tcp(bool from_a, uint8_t flags)
{
	uint8_t l4[20] = { 0 };

	frames_put16(l4, from_a ? 40000 : 80);
	frames_put16(l4 + 2, from_a ? 80 : 40000);
	l4[12] = 0x50;
	l4[13] = flags;
	return from_a ? eth_ip(M_B, M_A, A, B, IPPROTO_TCP, l4, 20)
		      : eth_ip(M_A, M_B, B, A, IPPROTO_TCP, l4, 20);
}

/* A's or B's datagram of A:sport -> B:53 with payload bytes. */
static struct frame udp_sized(bool from_a, uint16_t sport, size_t payload)
{
	uint8_t l4[FRAMES_MAX - 64] = { 0 };
	size_t n = frames_udp(l4, from_a ? sport : 53, from_a ? 53 : sport, payload);

	return from_a ? eth_ip(M_B, M_A, A, B, IPPROTO_UDP, l4, n)
		      : eth_ip(M_A, M_B, B, A, IPPROTO_UDP, l4, n);
}

static struct frame udp(bool from_a, uint16_t sport)
{
	return udp_sized(from_a, sport, 12);
}

/* ---- the two hosts ---- */

static int underlay_ifindex; /* h1's: the veth ul0 of the test's namespace */

static int host_open(struct host *h, uint32_t ct_entries)
{
	struct fs_dp_host d = { .addr = frames_addr(h->addr), .peer = frames_addr(h->peer),
				.device = DEV, .local_port = h->local_port,
				.underlay_ifindex = underlay_ifindex };

	return fs_dp_open(&h->skel, ct_entries, &d);
}

struct run {
	int ret;
	struct frame out;
	struct ct_out ct;
};

static struct run prog_run(const struct host *h, int prog_fd, const struct frame *in)
{
	struct run r = { .ret = -1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = r.out.b, .data_size_out = sizeof(r.out.b), .repeat = 1);
	uint32_t zero = 0;

	if (bpf_prog_test_run_opts(prog_fd, &o) == 0) {
		r.ret = (int)o.retval;
		r.out.len = o.data_size_out;
	}
	bpf_map__lookup_elem(h->skel->maps.fs_test_out, &zero, sizeof(zero), &r.ct, sizeof(r.ct),
			     0);
	return r;
}

/* The frame through h's pass at now, sent to its peer's port; ct_commit when commit. */
static struct run pass(const struct host *h, struct bpf_program *prog, const struct frame *f,
		       uint64_t now, bool commit)
{
	struct fs_dp_in in = { .now_ns = now, .device = DEV, .commit = commit,
			    .out_key = h->peer_port, .tunnel_addr = frames_addr(h->addr),
			    .host_addr = frames_addr(h->peer), .drop_key = h->local_port };
	uint32_t zero = 0;

	memcpy(in.smac, h->mac, 6);
	memcpy(in.dmac, h->peer_mac, 6);
	fs_dp_put(h->skel->maps.fs_test_in, &zero, &in);
	return prog_run(h, bpf_program__fd(prog), f);
}

/* ... encapsulated by deliver_encap (outer MACs given) */
static struct run encap(const struct host *h, const struct frame *f, uint64_t now, bool commit)
{
	return pass(h, h->skel->progs.fs_encap, f, now, commit);
}

static struct run decap(const struct host *h, const struct frame *f)
{
	return prog_run(h, bpf_program__fd(h->skel->progs.fs_decap), f);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

/* h's entry of the connection A -> B (proto, A's sport, B's dport): false when none. */
static bool ct_get(const struct host *h, uint8_t proto, uint16_t sport, uint16_t dport,
		   struct mx_ct_entry *e)
{
	struct mx_ct_key k = { .device = DEV, .src = frames_addr(A), .dst = frames_addr(B),
			       .sport = htons(sport), .dport = htons(dport), .proto = proto };

	return bpf_map__lookup_elem(h->skel->maps.midox_ct, &k, sizeof(k), e, sizeof(*e), 0) == 0;
}

static unsigned int ct_count(const struct host *h)
{
	struct mx_ct_key k, next;
	unsigned int n = 0;
	int fd = bpf_map__fd(h->skel->maps.midox_ct);

	for (int err = bpf_map_get_next_key(fd, NULL, &k); !err;
	     err = bpf_map_get_next_key(fd, &k, &next), k = next)
		n++;
	return n;
}

/* h's drops of reason counted on key, all CPUs. */
static uint64_t drops_on(const struct host *h, uint32_t key, unsigned int reason)
{
	int ncpu = libbpf_num_possible_cpus();
	struct mx_port_stats s[ncpu > 0 ? ncpu : 1];
	uint64_t n = 0;

	if (ncpu <= 0 || bpf_map__lookup_elem(h->skel->maps.midox_stats, &key, sizeof(key), s,
					      sizeof(s), 0))
		return 0;
	for (int i = 0; i < ncpu; i++)
		n += s[i].drops[reason];
	return n;
}

/* ... on the host's key */
static uint64_t drops(const struct host *h, unsigned int reason)
{
	return drops_on(h, MX_STATS_HOST, reason);
}

/* ---- what a frame carries ---- */

#define OUTER 50 /* outer Ethernet, IPv4, UDP, VXLAN */

static uint32_t vni_of(const struct frame *f)
{
	return f->len >= OUTER ? ((uint32_t)f->b[46] << 16 | f->b[47] << 8 | f->b[48]) : 0;
}

/* The flow-state header of an encapsulated frame (zeroed when it has none). */
static struct mx_fs_hdr fs_hdr(const struct frame *f)
{
	struct mx_fs_hdr h = { 0 };

	if (vni_of(f) == MX_FS_VNI && f->len >= OUTER + sizeof(h))
		memcpy(&h, f->b + OUTER, sizeof(h));
	return h;
}

static struct mx_fs_record fs_rec(const struct frame *f, unsigned int i)
{
	struct mx_fs_record r = { 0 };
	size_t off = OUTER + MX_FS_LEN(i);

	if (off + sizeof(r) <= f->len)
		memcpy(&r, f->b + off, sizeof(r));
	return r;
}

/* The record a host sends for the connection A -> B. */
static struct mx_fs_record record(uint8_t op, uint8_t proto, uint16_t sport, uint16_t dport,
				  uint8_t state, uint8_t flags)
{
	return (struct mx_fs_record){ .device = htonl(DEV), .src = frames_addr(A),
				      .dst = frames_addr(B), .sport = htons(sport),
				      .dport = htons(dport), .proto = proto, .op = op,
				      .state = state, .flags = flags };
}

/* The encapsulation of inner from h to its peer: plain (no records), or under the reserved
 * VNI with the header and records in front; the outer source port is taken from out. */
static struct frame expected(const struct host *h, const struct frame *out,
			     const struct frame *inner, const struct mx_fs_record *recs,
			     unsigned int n)
{
	struct frame e, body;
	struct mx_fs_hdr hdr = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION,
				 .count = (uint8_t)n, .vni = htonl(h->peer_port) };

	body.len = 0;
	if (n) {
		memcpy(body.b, &hdr, sizeof(hdr));
		memcpy(body.b + sizeof(hdr), recs, n * sizeof(*recs));
		body.len = MX_FS_LEN(n);
	}
	memcpy(body.b + body.len, inner->b, inner->len);
	body.len += inner->len;
	e.len = frames_encap(e.b, h->peer_mac, h->mac, frames_addr(h->addr), frames_addr(h->peer),
			     out->len > 35 ? out->b + 34 : (const uint8_t *)"\0\0",
			     n ? MX_FS_VNI : h->peer_port, body.b, body.len);
	return e;
}

static bool same(const struct frame *exp, const struct frame *out, const char *what)
{
	char diag[128];

	if (frames_same(exp->b, exp->len, out->b, out->len, diag, sizeof(diag)))
		return tap_ok(true, "%s", what);
	tap_ok(false, "%s", what);
	tap_diag("%s", diag);
	return false;
}

/* ---- the checks ---- */

static void test_no_writes(void)
{
	struct frame f = udp(true, 41000), arp;
	struct run r = encap(&h1, &f, T0, false);
	struct frame e = expected(&h1, &r.out, &f, NULL, 0);
	uint8_t zero_mac[6] = { 0 };

	tap_ok(r.ret == TC_ACT_OK && r.ct.verdict == MX_CT_V_NEW,
	       "no writes: a new UDP datagram not committed is encapsulated");
	same(&e, &r.out, "no writes: the frame is today's plain VXLAN, VNI = the port's key");
	arp.len = frames_eth(arp.b, M_B, M_A, 0x0806);
	arp.len += frames_arp(arp.b + arp.len, 1, M_A, frames_addr(A), zero_mac, frames_addr(B));
	r = encap(&h1, &arp, T0, true);
	e = expected(&h1, &r.out, &arp, NULL, 0);
	tap_ok(r.ret == TC_ACT_OK && r.ct.verdict == MX_CT_V_UNTRACKED, "no writes: ARP untracked");
	same(&e, &r.out, "no writes: ARP's frame is today's plain VXLAN");
	tap_ok(ct_count(&h1) == 0 && ct_count(&h2) == 0, "no writes: nothing in either table");
}

static void test_commit_rides(void)
{
	struct frame f = udp(true, 42000);
	struct run r = encap(&h1, &f, T0, true);
	struct mx_fs_record rec = record(MX_FS_OP_NEW, IPPROTO_UDP, 42000, 53, MX_CT_UDP, 0);
	struct frame e = expected(&h1, &r.out, &f, &rec, 1);
	struct mx_ct_entry ent;
	uint64_t before, after;
	struct run d;

	tap_ok(r.ret == TC_ACT_OK && r.ct.verdict == MX_CT_V_NEW && r.ct.state == MX_CT_UDP,
	       "commit: A's first datagram opens the connection on h1");
	same(&e, &r.out, "commit: VNI 0xFFFFFF, header (MF, v1, 1 record, real VNI), the record, "
			 "then the inner frame unchanged");
	tap_ok(r.out.len == OUTER + 8 + 32 + f.len && r.out.b[OUTER] == 'M' &&
		       r.out.b[OUTER + 1] == 'F' && vni_of(&r.out) == 0xffffff,
	       "commit: 40 bytes more than plain VXLAN, the magic where the inner frame began");
	before = mono_ns();
	d = decap(&h2, &r.out);
	after = mono_ns();
	tap_ok(d.ret == TC_ACT_REDIRECT, "decap: h2 delivers the frame (redirect to B's port)");
	same(&f, &d.out, "decap: the inner frame exactly, records stripped");
	tap_ok(ct_get(&h2, IPPROTO_UDP, 42000, 53, &ent) && ent.state == MX_CT_UDP &&
		       ent.last_seen_ns >= before && ent.last_seen_ns <= after,
	       "decap: h2's table has the connection, state udp, last seen on h2's clock");
	/* B's reply on h2: a return, which moves the connection to udp-stream: that rides back. */
	f = udp(false, 42000);
	r = encap(&h2, &f, T0 + SEC_NS / 2, false);
	rec = record(MX_FS_OP_UPDATE, IPPROTO_UDP, 42000, 53, MX_CT_UDP_STREAM, 0);
	e = expected(&h2, &r.out, &f, &rec, 1);
	tap_ok(r.ct.verdict == MX_CT_V_RETURN && r.ct.state == MX_CT_UDP_STREAM,
	       "return: B's reply is a return flow on h2 (it knew the connection before it)");
	same(&e, &r.out, "return: the state change rides back to h1 as an update");
	d = decap(&h1, &r.out);
	tap_ok(d.ret == TC_ACT_REDIRECT && ct_get(&h1, IPPROTO_UDP, 42000, 53, &ent) &&
		       ent.state == MX_CT_UDP_STREAM,
	       "return: h1 installs it: udp-stream on h1 too");
	same(&f, &d.out, "return: h1 delivers B's reply unchanged");
}

/* One TCP segment from one side through its host and over to the other; both hosts'
 * states checked after it. */
static void tcp_step(bool from_a, uint8_t flags, bool commit, uint64_t now, bool rides,
		     uint8_t state, const char *what)
{
	struct host *src = from_a ? &h1 : &h2, *dst = from_a ? &h2 : &h1;
	struct frame f = tcp(from_a, flags);
	struct run r = encap(src, &f, now, commit);
	struct mx_ct_entry e1, e2;
	struct run d = decap(dst, &r.out);
	bool ok1 = ct_get(&h1, IPPROTO_TCP, 40000, 80, &e1);
	bool ok2 = ct_get(&h2, IPPROTO_TCP, 40000, 80, &e2);

	tap_ok(r.ret == TC_ACT_OK && (vni_of(&r.out) == MX_FS_VNI) == rides &&
		       (!rides || fs_hdr(&r.out).count == 1) && d.ret == TC_ACT_REDIRECT &&
		       d.out.len == f.len && !memcmp(d.out.b, f.b, f.len) && ok1 && ok2 &&
		       e1.state == state && e2.state == state,
	       "tcp: %s: %s; state %u on both hosts", what,
	       rides ? "a record rides" : "no record", state);
	if (!ok1 || !ok2 || e1.state != state || e2.state != state)
		tap_diag("h1 %s %u, h2 %s %u, vni %#x", ok1 ? "state" : "none", e1.state,
			 ok2 ? "state" : "none", e2.state, vni_of(&r.out));
}

static void test_tcp_converges(void)
{
	struct mx_ct_entry e1, e2;

	tcp_step(true, SYN, true, T0, true, MX_CT_TCP_SYN_SENT, "A's SYN on h1");
	tcp_step(false, SYN | ACK, false, T0 + 1000, true, MX_CT_TCP_SYN_RECV, "B's SYN-ACK on h2");
	tcp_step(true, ACK, false, T0 + 2000, true, MX_CT_TCP_ESTABLISHED, "A's ACK on h1");
	tcp_step(false, ACK, false, T0 + 3000, false, MX_CT_TCP_ESTABLISHED,
		 "B's data on h2 within the second");
	tcp_step(false, FIN | ACK, false, T0 + 4000, true, MX_CT_TCP_FIN_WAIT, "B's FIN on h2");
	tcp_step(true, FIN | ACK, false, T0 + 5000, true, MX_CT_TCP_TIME_WAIT,
		 "A's FIN on h1 (h1 knew B's)");
	tap_ok(ct_get(&h1, IPPROTO_TCP, 40000, 80, &e1) &&
		       ct_get(&h2, IPPROTO_TCP, 40000, 80, &e2) &&
		       e1.flags == (MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY) && e1.flags == e2.flags,
	       "tcp: both FINs flagged on both hosts");
	/* A reopens the tuple from B's side: h2 deletes the closed entry (keyed A -> B) and
	 * commits B -> A; both writes ride to h1. */
	{
		struct frame f = tcp(false, SYN);
		struct run r = encap(&h2, &f, T0 + 6000, true);
		struct mx_fs_record del = record(MX_FS_OP_DELETE, IPPROTO_TCP, 40000, 80, 0, 0);
		struct mx_fs_record rec1 = fs_rec(&r.out, 1);
		struct run d;

		tap_ok(r.ct.verdict == MX_CT_V_NEW && fs_hdr(&r.out).count == 2 &&
			       !memcmp(&del, (struct mx_fs_record[]){ fs_rec(&r.out, 0) },
				       sizeof(del)) &&
			       rec1.op == MX_FS_OP_NEW && rec1.src == frames_addr(B) &&
			       rec1.state == MX_CT_TCP_SYN_SENT,
		       "tcp: B's SYN on the closed tuple: the delete and the new connection ride");
		d = decap(&h1, &r.out);
		tap_ok(d.ret == TC_ACT_REDIRECT && !ct_get(&h1, IPPROTO_TCP, 40000, 80, &e1) &&
			       ct_count(&h1) == ct_count(&h2),
		       "tcp: h1 drops the closed entry and has B's new one, as h2");
	}
}

static void test_refresh(void)
{
	static const struct {
		uint64_t at;
		bool rides;
	} steps[] = {
		{ T0 + 10 * SEC_NS + SEC_NS / 2, false },
		{ T0 + 10 * SEC_NS + SEC_NS, false }, /* exactly a second: not past it */
		{ T0 + 11 * SEC_NS + SEC_NS / 2, true },
		{ T0 + 12 * SEC_NS, false },
		{ T0 + 12 * SEC_NS + SEC_NS * 6 / 10, true },
		{ T0 + 12 * SEC_NS + SEC_NS * 7 / 10, false },
	};
	struct frame f = udp(true, 43000);
	struct run r = encap(&h1, &f, T0 + 10 * SEC_NS, true);
	struct mx_ct_entry before, after;

	decap(&h2, &r.out);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct mx_fs_record rec = record(MX_FS_OP_UPDATE, IPPROTO_UDP, 43000, 53,
						 MX_CT_UDP, 0);
		struct frame e;

		ct_get(&h2, IPPROTO_UDP, 43000, 53, &before);
		r = encap(&h1, &f, steps[i].at, false);
		e = expected(&h1, &r.out, &f, &rec, steps[i].rides ? 1 : 0);
		same(&e, &r.out, steps[i].rides ? "refresh: more than a second since: an update rides"
						: "refresh: within the second: plain VXLAN");
		usleep(2000);
		decap(&h2, &r.out);
		ct_get(&h2, IPPROTO_UDP, 43000, 53, &after);
		tap_ok((after.last_seen_ns > before.last_seen_ns) == steps[i].rides,
		       "refresh: h2's copy %s", steps[i].rides ? "refreshed" : "untouched");
	}
}

/* A flow-state frame to h2 from src: the header hdr, n records, then B's frame. */
static struct frame fs_frame(const char *src, const struct mx_fs_hdr *hdr,
			     const struct mx_fs_record *recs, unsigned int n, size_t cut)
{
	struct frame inner = udp(true, 44000), body, f;

	memcpy(body.b, hdr, sizeof(*hdr));
	memcpy(body.b + sizeof(*hdr), recs, n * sizeof(*recs));
	body.len = MX_FS_LEN(n);
	memcpy(body.b + body.len, inner.b, inner.len);
	body.len += inner.len;
	if (cut && cut < body.len)
		body.len = cut;
	f.len = frames_encap(f.b, M_H2, M_H1, frames_addr(src), frames_addr(H2),
			     (const uint8_t *)"\xc0\x01", MX_FS_VNI, body.b, body.len);
	return f;
}

static void test_malformed(void)
{
	struct mx_fs_record good = record(MX_FS_OP_NEW, IPPROTO_UDP, 44000, 53, MX_CT_UDP, 0);
	struct mx_fs_hdr ok = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION, .count = 1,
				.vni = htonl(PB) };
	struct {
		const char *what;
		struct mx_fs_hdr hdr;
		struct mx_fs_record rec[2];
		unsigned int n;
		size_t cut;
	} cases[] = {
		{ "bad magic", ok, { good }, 1, 0 },
		{ "version 2", ok, { good }, 1, 0 },
		{ "0 records", ok, { good }, 0, 0 },
		{ "16 records", ok, { good }, 1, 0 },
		{ "real VNI 0", ok, { good }, 1, 0 },
		{ "real VNI the reserved one", ok, { good }, 1, 0 },
		{ "2 records said, 1 there", ok, { good }, 1, 0 },
		{ "cut inside the record", ok, { good }, 1, 8 + 20 },
		{ "no room for the inner Ethernet header", ok, { good }, 1, 8 + 32 + 10 },
		{ "unknown op", ok, { good }, 1, 0 },
		{ "UDP record with a TCP state", ok, { good }, 1, 0 },
		{ "device 0", ok, { good }, 1, 0 },
		{ "protocol not tracked", ok, { good }, 1, 0 },
		{ "second of two records bad", ok, { good, good }, 2, 0 },
	};
	unsigned int before_ct = ct_count(&h2);

	cases[0].hdr.magic = htons(0x4d47);
	cases[1].hdr.version = 2;
	cases[2].hdr.count = 0;
	cases[3].hdr.count = 16;
	cases[4].hdr.vni = 0;
	cases[5].hdr.vni = htonl(MX_FS_VNI);
	cases[6].hdr.count = 2;
	cases[9].rec[0].op = 9;
	cases[10].rec[0].state = MX_CT_TCP_ESTABLISHED;
	cases[11].rec[0].device = 0;
	cases[12].rec[0].proto = 47;
	cases[13].hdr.count = 2;
	cases[13].rec[1].sport = htons(44001);
	cases[13].rec[1].state = MX_CT_STATE__MAX;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame f = fs_frame(H1, &cases[i].hdr, cases[i].rec, cases[i].n, cases[i].cut);
		uint64_t bad = drops(&h2, MX_DROP_BAD_FLOW_STATE);
		struct run d = decap(&h2, &f);

		tap_ok(d.ret == TC_ACT_SHOT && drops(&h2, MX_DROP_BAD_FLOW_STATE) == bad + 1 &&
			       ct_count(&h2) == before_ct,
		       "malformed: %s: dropped as bad-flow-state, nothing written", cases[i].what);
	}
	{
		struct frame f = fs_frame(H1, &ok, &good, 1, 0);
		struct mx_ct_entry e;
		struct run d = decap(&h2, &f);

		tap_ok(d.ret == TC_ACT_REDIRECT && ct_get(&h2, IPPROTO_UDP, 44000, 53, &e),
		       "malformed: the same frame well formed is installed and delivered");
	}
}

/* Records meet entries through their tags (include/midox/conntrack.h, mx_ct_tag): an
 * update whose connection's element holds another key's entry (taken under the reader) is
 * installed afresh, never merged into that entry; an untagged entry (written before tags)
 * is merged. */
static void test_tags(void)
{
	struct mx_fs_hdr hdr = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION,
				 .count = 1, .vni = htonl(PB) };
	struct mx_ct_key k = { .device = DEV, .src = frames_addr(A), .dst = frames_addr(B),
			       .sport = htons(46000), .dport = htons(80), .proto = IPPROTO_TCP };
	struct mx_ct_key other = k;
	struct mx_fs_record rec = record(MX_FS_OP_NEW, IPPROTO_TCP, 46000, 80,
					 MX_CT_TCP_SYN_SENT, 0);
	struct mx_ct_entry e, held = { .last_seen_ns = mono_ns(), .state = MX_CT_TCP_ESTABLISHED,
				       .flags = MX_CT_F_FIN_REPLY };
	struct frame f = fs_frame(H1, &hdr, &rec, 1, 0);
	int fd = bpf_map__fd(h2.skel->maps.midox_ct);

	other.sport = htons(46001);
	tap_ok(decap(&h2, &f).ret == TC_ACT_REDIRECT &&
		       ct_get(&h2, IPPROTO_TCP, 46000, 80, &e) && e.tag == mx_ct_tag(&k),
	       "tags: a new record's entry holds its key's tag");
	held.tag = mx_ct_tag(&other);
	tap_ok(!bpf_map_update_elem(fd, &k, &held, BPF_ANY),
	       "tags: the connection's element now holds another key's entry (fin-reply)");
	rec = record(MX_FS_OP_UPDATE, IPPROTO_TCP, 46000, 80, MX_CT_TCP_FIN_WAIT,
		     MX_CT_F_FIN_FWD);
	f = fs_frame(H1, &hdr, &rec, 1, 0);
	tap_ok(decap(&h2, &f).ret == TC_ACT_REDIRECT && ct_get(&h2, IPPROTO_TCP, 46000, 80, &e) &&
		       e.state == MX_CT_TCP_FIN_WAIT && e.flags == MX_CT_F_FIN_FWD &&
		       e.tag == mx_ct_tag(&k),
	       "tags: an update is installed afresh: fin-wait, its own FIN only, its key's tag");
	held.tag = 0;
	tap_ok(!bpf_map_update_elem(fd, &k, &held, BPF_ANY),
	       "tags: an untagged entry (fin-reply) under the key");
	tap_ok(decap(&h2, &f).ret == TC_ACT_REDIRECT && ct_get(&h2, IPPROTO_TCP, 46000, 80, &e) &&
		       e.state == MX_CT_TCP_TIME_WAIT &&
		       e.flags == (MX_CT_F_FIN_FWD | MX_CT_F_FIN_REPLY) && e.tag == 0,
	       "tags: the update is merged into it: both FINs, time-wait");
	bpf_map_delete_elem(fd, &k);
}

static void test_not_member(void)
{
	struct mx_fs_record rec = record(MX_FS_OP_NEW, IPPROTO_UDP, 45000, 53, MX_CT_UDP, 0);
	struct mx_fs_hdr hdr = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION,
				 .count = 1, .vni = htonl(PB) };
	struct frame f = fs_frame(H3, &hdr, &rec, 1, 0);
	uint64_t before = drops(&h2, MX_DROP_TUNNEL_NOT_MEMBER);
	struct mx_ct_entry e;
	struct run d = decap(&h2, &f);

	tap_ok(d.ret == TC_ACT_SHOT && drops(&h2, MX_DROP_TUNNEL_NOT_MEMBER) == before + 1 &&
		       !ct_get(&h2, IPPROTO_UDP, 45000, 53, &e),
	       "records from a host outside the tunnel zones: dropped, nothing installed");
}

static void test_full(void)
{
	struct host small = { "small", NULL, H2, H1, M_H2, M_H1, PB, PA };
	struct mx_fs_record recs[2] = {
		record(MX_FS_OP_NEW, IPPROTO_UDP, 46000, 53, MX_CT_UDP, 0),
		record(MX_FS_OP_NEW, IPPROTO_UDP, 46001, 53, MX_CT_UDP, 0),
	};
	struct mx_fs_hdr hdr = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION,
				 .count = 2, .vni = htonl(PB) };
	struct frame f = fs_frame(H1, &hdr, recs, 2, 0), inner = udp(true, 44000);
	struct mx_ct_entry e;
	struct run d;

	if (!tap_ok(host_open(&small, 1) == 0, "full: a host with a table of 1 entry loads"))
		return;
	d = decap(&small, &f);
	tap_ok(d.ret == TC_ACT_REDIRECT && drops(&small, MX_DROP_CT_FULL) == 1,
	       "full: the record with no room is counted as ct-full, the frame still delivered");
	same(&inner, &d.out, "full: the inner frame delivered unchanged");
	tap_ok(ct_get(&small, IPPROTO_UDP, 46000, 53, &e) &&
		       !ct_get(&small, IPPROTO_UDP, 46001, 53, &e),
	       "full: the first record installed, the second not");
	fs_test__destroy(small.skel);
}

/* Through the real deliver_remote: the fib lookup over ul0 (MTU 1500) to h2. An inner frame
 * of 1460 bytes is 1496 of outer IPv4 plain, 1536 with one record. */
static void test_mtu(void)
{
	struct bpf_program *remote = h1.skel->progs.fs_remote;
	struct frame big = udp_sized(true, 47000, 1460 - 42), small = udp(true, 47001);
	struct frame too_big = udp_sized(true, 47002, 1470 - 42);
	uint64_t mtu0 = drops_on(&h1, PA, MX_DROP_FLOW_STATE_MTU);
	struct mx_ct_entry e;
	struct run r, d;

	r = pass(&h1, remote, &big, T0 + 20 * SEC_NS, true);
	tap_ok(r.ret == TC_ACT_REDIRECT && r.ct.verdict == MX_CT_V_NEW &&
		       vni_of(&r.out) == PB && r.out.len == OUTER + big.len &&
		       !memcmp(r.out.b + OUTER, big.b, big.len),
	       "mtu: a committed datagram that fits only plain goes as plain VXLAN, records off");
	if (r.ret != TC_ACT_REDIRECT)
		tap_diag("verdict %d; drops: route %llu neigh %llu mtu %llu", r.ret,
			 (unsigned long long)drops_on(&h1, PA, MX_DROP_UNDERLAY_ROUTE),
			 (unsigned long long)drops_on(&h1, PA, MX_DROP_UNDERLAY_NEIGH),
			 (unsigned long long)drops_on(&h1, PA, MX_DROP_UNDERLAY_MTU));
	tap_ok(drops_on(&h1, PA, MX_DROP_FLOW_STATE_MTU) == mtu0 + 1 &&
		       ct_get(&h1, IPPROTO_UDP, 47000, 53, &e),
	       "mtu: counted as flow-state-mtu on A's port; the connection is on h1");
	d = decap(&h2, &r.out);
	tap_ok(d.ret == TC_ACT_REDIRECT && !ct_get(&h2, IPPROTO_UDP, 47000, 53, &e),
	       "mtu: h2 delivers it and knows nothing of the connection");
	r = pass(&h1, remote, &small, T0 + 20 * SEC_NS, true);
	tap_ok(r.ret == TC_ACT_REDIRECT && vni_of(&r.out) == MX_FS_VNI &&
		       fs_hdr(&r.out).count == 1 && r.out.len == OUTER + MX_FS_LEN(1) + small.len &&
		       drops_on(&h1, PA, MX_DROP_FLOW_STATE_MTU) == mtu0 + 1,
	       "mtu: a small committed datagram through deliver_remote carries its record");
	r = pass(&h1, remote, &too_big, T0 + 20 * SEC_NS, true);
	tap_ok(r.ret == TC_ACT_SHOT && drops_on(&h1, PA, MX_DROP_UNDERLAY_MTU) == 1 &&
		       drops_on(&h1, PA, MX_DROP_FLOW_STATE_MTU) == mtu0 + 1,
	       "mtu: a frame over the MTU even plain is dropped as before (underlay-mtu alone, "
	       "not also flow-state-mtu)");
}

int main(void)
{
	mx_log_init("test_flowstate", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (BPF)");
	if (dp_netns_enter() || dp_veth("ul0", "02:00:00:00:50:01") ||
	    dp_underlay("ul0", H1, H2, "02:00:00:00:50:02") ||
	    dp_sh("sysctl -qw net.ipv4.conf.ul0.forwarding=1")) /* as mx_attach_underlay */
		return tap_bail("the test's network namespace could not be made");
	underlay_ifindex = (int)if_nametoindex("ul0");
	if (host_open(&h1, TABLE_SIZE) || host_open(&h2, TABLE_SIZE))
		return tap_bail("the flow-state test object did not load");
	test_no_writes();
	test_commit_rides();
	test_tcp_converges();
	test_refresh();
	test_malformed();
	test_tags();
	test_not_member();
	test_full();
	test_mtu();
	fs_test__destroy(h1.skel);
	fs_test__destroy(h2.skel);
	return tap_done();
}
