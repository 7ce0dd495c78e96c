// SPDX-License-Identifier: Apache-2.0
/* Connection tracking (bpf/lib/conntrack.h) and its sweep (loader/conntrack.c): crafted
 * frames run through tests/unit/ct_test.bpf.c with BPF_PROG_TEST_RUN at times the test
 * chooses, the verdict, the state and the table's entries checked. Every TCP transition,
 * UDP, ICMP echo, ICMP errors related or not, untracked packets, each state's timeout (the
 * kernel's defaults and a configured one), the table full, per-device keys, the sweep, and
 * entries whose element another key took (their tags). TAP output. */
#include "dp_net.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ct_dp.h"
#include "frames.h"
#include "loader/conntrack.h"
#include "base/log.h"
#include "tap.h"

#define TABLE_SIZE 64
#define SEC_NS 1000000000ull
#define T0 (1000 * SEC_NS)

enum { D1 = 100, D2 = 200 };

static struct ct_test *skel;

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

#define A "10.0.0.1"
#define B "10.0.0.2"
#define R "10.0.0.254" /* a router between them, which sends ICMP errors */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

struct frame {
	uint8_t b[FRAMES_MAX];
	size_t len;
};

/* ---- frames ---- */

/* An IPv4 packet (no Ethernet) of ihl words carrying l4, into p; its length. */
static size_t ip_packet(uint8_t *p, const char *src, const char *dst, uint8_t proto,
			const uint8_t *l4, size_t l4_len, uint16_t frag_off, uint8_t ihl)
{
	size_t n = frames_ipv4(p, ihl, proto, frames_addr(src), frames_addr(dst), frag_off, l4_len);

	memcpy(p + n, l4, l4_len);
	return n + l4_len;
}

static struct frame eth_ip(const char *src, const char *dst, uint8_t proto, const uint8_t *l4,
			   size_t l4_len, uint16_t frag_off)
{
	struct frame f;
	size_t n = frames_eth(f.b, M_B, M_A, 0x0800);

	f.len = n + ip_packet(f.b + n, src, dst, proto, l4, l4_len, frag_off, 5);
	return f;
}

static size_t tcp_l4(uint8_t *l4, uint16_t sport, uint16_t dport, uint8_t flags)
{
	memset(l4, 0, 20);
	frames_put16(l4, sport);
	frames_put16(l4 + 2, dport);
	frames_put32(l4 + 4, 1000);
	l4[12] = 0x50;
	l4[13] = flags;
	return 20;
}

static struct frame tcp(const char *src, const char *dst, uint16_t sport, uint16_t dport,
			uint8_t flags)
{
	uint8_t l4[20];

	return eth_ip(src, dst, IPPROTO_TCP, l4, tcp_l4(l4, sport, dport, flags), 0);
}

static size_t udp_l4(uint8_t *l4, uint16_t sport, uint16_t dport)
{
	return frames_udp(l4, sport, dport, 12);
}

static struct frame udp(const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	uint8_t l4[20];

	return eth_ip(src, dst, IPPROTO_UDP, l4, udp_l4(l4, sport, dport), 0);
}

static size_t echo_l4(uint8_t *l4, uint8_t type, uint16_t id)
{
	memset(l4, 0, 16);
	l4[0] = type;
	frames_put16(l4 + 4, id);
	frames_put16(l4 + 6, 1);
	frames_put16(l4 + 2, frames_csum(l4, 16));
	return 16;
}

static struct frame echo(const char *src, const char *dst, uint8_t type, uint16_t id)
{
	uint8_t l4[16];

	return eth_ip(src, dst, IPPROTO_ICMP, l4, echo_l4(l4, type, id), 0);
}

/* An ICMP error of type from src to dst quoting the first quote_len bytes of the IPv4
 * packet q (its header and 8 bytes, as RFC 792 asks, unless quote_len says less). */
static struct frame icmp_error(const char *src, const char *dst, uint8_t type,
			       const uint8_t *q, size_t quote_len)
{
	uint8_t l4[8 + 128] = { 0 };

	l4[0] = type;
	memcpy(l4 + 8, q, quote_len);
	frames_put16(l4 + 2, frames_csum(l4, 8 + quote_len));
	return eth_ip(src, dst, IPPROTO_ICMP, l4, 8 + quote_len, 0);
}

/* The quote of a UDP packet sport -> dport from qsrc to qdst, with ihl words of header. */
static size_t quoted_udp(uint8_t *q, const char *qsrc, const char *qdst, uint16_t sport,
			 uint16_t dport, uint8_t ihl)
{
	uint8_t l4[20];
	size_t n = udp_l4(l4, sport, dport);

	ip_packet(q, qsrc, qdst, IPPROTO_UDP, l4, n, 0, ihl);
	return (ihl ? ihl : 5) * 4 + 8;
}

/* ---- runs ---- */

struct res {
	__u8 verdict, state;
	__u16 pad;
};

static const char *const verdict_names[] = { "new",     "fwd",       "return", "related",
					     "invalid", "untracked", "full" };
static const char *const state_names[] = { "syn-sent", "syn-recv",  "established",
					   "fin-wait", "time-wait", "close",
					   "udp",      "udp-stream", "icmp" };

static const char *vname(unsigned int v)
{
	return v < sizeof(verdict_names) / sizeof(verdict_names[0]) ? verdict_names[v] : "?";
}

static const char *sname(unsigned int s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* Run f on device at now (committing a new connection when commit); 0 or -errno. */
static int run(const struct frame *f, __u32 device, __u64 now, bool commit, struct res *r)
{
	struct ct_dp_in in = { .now_ns = now, .device = device, .commit = commit };
	struct __sk_buff ctx = { 0 };
	uint8_t out[FRAMES_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (__u32)f->len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx));
	__u32 zero = 0;
	int err;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.ct_test_in), &zero, &in, BPF_ANY))
		return -errno;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ct_test), &opts);
	if (err)
		return err;
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.ct_test_out), &zero, r))
		return -errno;
	return (int)opts.retval == r->verdict ? 0 : -EPROTO;
}

#define ANY_STATE 0xff

/* Run f and check the verdict and (unless ANY_STATE) the state after it. */
static bool expect(const struct frame *f, __u32 device, __u64 now, bool commit, __u8 verdict,
		   __u8 state, const char *what)
{
	struct res r = { 0 };
	char why[160] = "";
	int err = run(f, device, now, commit, &r);
	bool ok = !err && r.verdict == verdict && (state == ANY_STATE || r.state == state);

	if (err)
		snprintf(why, sizeof(why), "test run failed: %s", strerror(-err));
	else if (!ok)
		snprintf(why, sizeof(why), "got %s (%s), want %s (%s)", vname(r.verdict),
			 sname(r.state), vname(verdict), state == ANY_STATE ? "-" : sname(state));
	return tap_check(ok, why, "%s: %s%s%s", what, vname(verdict),
			 state == ANY_STATE ? "" : ", ", state == ANY_STATE ? "" : sname(state));
}

static int ct_fd(void)
{
	return bpf_map__fd(skel->maps.midox_ct);
}

static struct mx_ct_key key_of(__u32 device, const char *src, const char *dst, uint8_t proto,
			       uint16_t sport, uint16_t dport)
{
	return (struct mx_ct_key){ .device = device, .src = frames_addr(src),
				   .dst = frames_addr(dst), .sport = htons(sport),
				   .dport = htons(dport), .proto = proto };
}

/* The entry of key: 0, or -ENOENT. */
static int entry(const struct mx_ct_key *k, struct mx_ct_entry *e)
{
	return bpf_map_lookup_elem(ct_fd(), k, e) ? -errno : 0;
}

static bool has_entry(const struct mx_ct_key *k)
{
	struct mx_ct_entry e;

	return entry(k, &e) == 0;
}

static unsigned int table_count(void)
{
	struct mx_ct_key k, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(ct_fd(), prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static void table_clear(void)
{
	struct mx_ct_key k;

	while (!bpf_map_get_next_key(ct_fd(), NULL, &k))
		bpf_map_delete_elem(ct_fd(), &k);
}

static int config_set(const struct mx_ct_config *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(skel->maps.midox_ctcfg), &zero, c, BPF_ANY) ? -errno
											    : 0;
}

/* ---- TCP ---- */

static void test_tcp(void)
{
	struct frame f;
	struct mx_ct_key k = key_of(D1, A, B, IPPROTO_TCP, 40000, 80);
	struct mx_ct_key rk = key_of(D1, B, A, IPPROTO_TCP, 80, 40000);
	struct mx_ct_entry e;
	__u64 t = T0;

	table_clear();
	f = tcp(A, B, 40000, 80, SYN);
	expect(&f, D1, t, false, MX_CT_V_NEW, ANY_STATE, "tcp: SYN, not committed (a chain dropped it)");
	tap_ok(!has_entry(&k), "tcp: nothing was written for it");
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tcp: SYN, committed");
	tap_ok(!entry(&k, &e) && e.state == MX_CT_TCP_SYN_SENT && e.last_seen_ns == t &&
		       !e.flags && !e.nat.src && table_count() == 1,
	       "tcp: one entry under the opener's tuple, syn-sent, last seen now, no NAT");
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_SYN_SENT, "tcp: the SYN again");
	f = tcp(B, A, 80, 40000, ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_SYN_SENT, "tcp: a bare ACK back");
	f = tcp(B, A, 80, 40000, SYN | ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_SYN_RECV, "tcp: SYN-ACK back");
	f = tcp(A, B, 40000, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_SYN_RECV, "tcp: a late SYN");
	f = tcp(A, B, 40000, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_ESTABLISHED, "tcp: the opener's ACK");
	f = tcp(B, A, 80, 40000, ACK | PSH);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_ESTABLISHED, "tcp: data back");
	f = tcp(A, B, 40000, 80, ACK | FIN);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_FIN_WAIT, "tcp: the opener's FIN");
	f = tcp(A, B, 40000, 80, ACK | FIN);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_FIN_WAIT, "tcp: its FIN again");
	f = tcp(B, A, 80, 40000, ACK | FIN);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_TIME_WAIT, "tcp: the FIN back");
	f = tcp(A, B, 40000, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_TIME_WAIT, "tcp: the last ACK");
	f = tcp(A, B, 40000, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tcp: a SYN on the closed tuple reopens it");
	tap_ok(!entry(&k, &e) && e.state == MX_CT_TCP_SYN_SENT && !e.flags && table_count() == 1,
	       "tcp: the entry starts again: syn-sent, no FIN flags");
	f = tcp(B, A, 80, 40000, RST | ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_CLOSE, "tcp: RST back in syn-sent");
	f = tcp(A, B, 40000, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_CLOSE, "tcp: closed stays closed");
	f = tcp(B, A, 80, 40000, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tcp: the other side opens the closed tuple");
	tap_ok(!has_entry(&k) && !entry(&rk, &e) && e.state == MX_CT_TCP_SYN_SENT &&
		       table_count() == 1,
	       "tcp: the connection is now keyed the other way round");
	f = tcp(A, B, 40000, 80, SYN | ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_SYN_RECV,
	       "tcp: its SYN-ACK is the return direction");

	/* Established, then RST from the opener; FIN from the answering side first. */
	table_clear();
	f = tcp(A, B, 40001, 22, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tcp 2: SYN");
	f = tcp(B, A, 22, 40001, SYN | ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_SYN_RECV, "tcp 2: SYN-ACK");
	f = tcp(A, B, 40001, 22, ACK);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_ESTABLISHED, "tcp 2: ACK");
	f = tcp(B, A, 22, 40001, ACK | FIN);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_FIN_WAIT, "tcp 2: the answerer's FIN first");
	f = tcp(B, A, 22, 40001, ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_FIN_WAIT, "tcp 2: data after it");
	f = tcp(A, B, 40001, 22, RST);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_CLOSE, "tcp 2: RST from the opener");

	/* Segments that open nothing. */
	table_clear();
	f = tcp(A, B, 40002, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tcp: an ACK of no connection");
	f = tcp(A, B, 40002, 80, SYN | ACK);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tcp: a SYN-ACK of no connection");
	f = tcp(A, B, 40002, 80, RST);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tcp: a RST of no connection");
	f = tcp(A, B, 40002, 80, SYN | FIN);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tcp: SYN+FIN");
	tap_ok(table_count() == 0, "tcp: none of them made an entry");
}

/* ---- UDP and ICMP echo ---- */

static void test_udp_echo(void)
{
	struct frame f;
	struct mx_ct_key k = key_of(D1, A, B, IPPROTO_UDP, 40000, 53);
	struct mx_ct_key ek = key_of(D1, A, B, IPPROTO_ICMP, 7, 7);
	struct mx_ct_entry e;
	__u64 t = T0;

	table_clear();
	f = udp(A, B, 40000, 53);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "udp: first datagram");
	tap_ok(!entry(&k, &e) && e.state == MX_CT_UDP, "udp: its entry, no reply seen");
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_UDP, "udp: the next one");
	f = udp(B, A, 53, 40000);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_UDP_STREAM, "udp: the reply");
	f = udp(A, B, 40000, 53);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_UDP_STREAM, "udp: forward again");
	f = udp(B, A, 53, 40001);
	expect(&f, D1, t, false, MX_CT_V_NEW, ANY_STATE,
	       "udp: from the server to another client port: a new connection");
	f = udp(A, B, 40000, 54);
	expect(&f, D1, t, false, MX_CT_V_NEW, ANY_STATE, "udp: another destination port: new");

	f = echo(A, B, 8, 7);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "echo: request id 7");
	tap_ok(!entry(&ek, &e) && e.state == MX_CT_ICMP, "echo: its entry, keyed by the id");
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_ICMP, "echo: the next request");
	f = echo(B, A, 0, 7);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_ICMP, "echo: the reply");
	f = echo(B, A, 0, 8);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "echo: a reply with another id");
	f = echo(A, B, 0, 9);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "echo: a reply nobody asked for");
	f = echo(B, A, 8, 7);
	expect(&f, D1, t, false, MX_CT_V_NEW, ANY_STATE,
	       "echo: a request the other way with the same id is its own connection");
}

/* ---- ICMP errors ---- */

static void test_related(void)
{
	uint8_t q[128], l4[20];
	struct frame f;
	size_t n;
	__u64 t = T0;

	table_clear();
	f = udp(A, B, 40000, 53);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "related: a UDP connection A -> B");
	f = tcp(A, B, 40001, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "related: a TCP connection A -> B");
	f = echo(A, B, 8, 7);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "related: an echo A -> B");

	n = quoted_udp(q, A, B, 40000, 53, 5);
	f = icmp_error(R, A, 3, q, n);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP,
	       "related: port unreachable to A quoting its UDP");
	f = icmp_error(R, A, 11, q, n);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP, "related: time exceeded, the same");
	f = icmp_error(R, A, 12, q, n);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP, "related: parameter problem, the same");
	tap_ok(mx_ct_is_return(MX_CT_V_RELATED) && mx_ct_is_return(MX_CT_V_RETURN) &&
		       !mx_ct_is_return(MX_CT_V_FWD) && !mx_ct_is_return(MX_CT_V_NEW) &&
		       !mx_ct_is_return(MX_CT_V_INVALID),
	       "related and return are return flows for the chains; new, fwd, invalid are not");
	f = icmp_error(R, A, 3, q, n + 20);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP, "related: a longer quote");
	n = quoted_udp(q, B, A, 53, 40000, 5);
	f = icmp_error(R, B, 3, q, n);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP,
	       "related: an error to B quoting B's reply (the connection reversed)");
	n = quoted_udp(q, A, B, 40000, 53, 7);
	f = icmp_error(R, A, 3, q, n);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_UDP,
	       "related: the quoted header has options (IHL 7)");
	ip_packet(q, A, B, IPPROTO_TCP, l4, tcp_l4(l4, 40001, 80, SYN), 0, 5);
	f = icmp_error(R, A, 3, q, 28);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_TCP_SYN_SENT,
	       "related: an error quoting the TCP SYN");
	ip_packet(q, A, B, IPPROTO_ICMP, l4, echo_l4(l4, 8, 7), 0, 5);
	f = icmp_error(R, A, 11, q, 28);
	expect(&f, D1, t, false, MX_CT_V_RELATED, MX_CT_ICMP, "related: an error quoting the echo");

	n = quoted_udp(q, A, B, 40009, 53, 5);
	f = icmp_error(R, A, 3, q, n);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: quoting a connection nobody opened");
	n = quoted_udp(q, A, B, 40000, 53, 5);
	f = icmp_error(R, A, 3, q, n);
	expect(&f, D2, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the connection is another device's");
	f = icmp_error(R, B, 3, q, n);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: sent to someone other than the quoted packet's source");
	f = icmp_error(R, A, 3, q, 24);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the quote stops inside the ports");
	f = icmp_error(R, A, 3, q, 12);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the quote stops inside the IPv4 header");
	n = quoted_udp(q, A, B, 40000, 53, 7);
	f = icmp_error(R, A, 3, q, 24);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the quote stops inside the quoted header's options");
	ip_packet(q, A, B, IPPROTO_UDP, l4, udp_l4(l4, 40000, 53), 0x0010, 5);
	f = icmp_error(R, A, 3, q, 28);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the quote is a later fragment (no ports)");
	ip_packet(q, A, B, 47, l4, udp_l4(l4, 40000, 53), 0, 5);
	f = icmp_error(R, A, 3, q, 28);
	expect(&f, D1, t, false, MX_CT_V_INVALID, ANY_STATE,
	       "not related: the quote is GRE, never tracked");
	tap_ok(table_count() == 3, "related: errors made no entry (3 connections)");
}

/* ---- what is not tracked ---- */

static void test_untracked(void)
{
	struct frames_spec arp = { .kind = FRAMES_ARP, .dst = M_B, .src = M_A, .sip = A, .tip = B };
	uint8_t l4[20];
	struct frame f;
	__u64 t = T0;

	table_clear();
	f.len = frames_build(&arp, f.b, M_A, M_B);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE, "untracked: ARP");
	f = eth_ip(A, B, 47, l4, 20, 0);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE, "untracked: GRE");
	f = eth_ip(A, B, IPPROTO_UDP, l4, udp_l4(l4, 40000, 53), 0x0010);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE, "untracked: a later UDP fragment");
	/* A first fragment belongs to its connection but opens none: a connection it opened
	 * would pass the datagrams after it untranslated by a NAT rule with ports, which
	 * matches whole datagrams only. */
	f = eth_ip(A, B, IPPROTO_UDP, l4, udp_l4(l4, 40000, 53), 0x2000);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE,
	       "untracked: a first UDP fragment of no connection (opens none)");
	tap_ok(table_count() == 0, "the first fragment made no entry");
	f = eth_ip(A, B, IPPROTO_TCP, l4, tcp_l4(l4, 40001, 80, SYN), 0x2000);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE,
	       "untracked: a first fragment of a TCP SYN (opens none)");
	f = udp(A, B, 40000, 53);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE,
	       "tracked: the whole datagram after it opens the connection");
	f = eth_ip(A, B, IPPROTO_UDP, l4, udp_l4(l4, 40000, 53), 0x2000);
	expect(&f, D1, t, true, MX_CT_V_FWD, ANY_STATE,
	       "tracked: a first fragment of that connection (its ports)");
	f = eth_ip(B, A, IPPROTO_UDP, l4, udp_l4(l4, 53, 40000), 0x2000);
	expect(&f, D1, t, true, MX_CT_V_RETURN, ANY_STATE,
	       "tracked: a first fragment of its reply");
	memset(l4, 0, 20);
	l4[0] = 13; /* timestamp request */
	f = eth_ip(A, B, IPPROTO_ICMP, l4, 20, 0);
	expect(&f, D1, t, true, MX_CT_V_UNTRACKED, ANY_STATE, "untracked: ICMP timestamp");
	f = tcp(A, B, 40000, 80, SYN);
	f.len -= 10; /* the TCP header cut after its sequence number */
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "invalid: TCP cut before its flags");
	f = echo(A, B, 8, 7);
	f.len -= 12; /* 4 bytes of ICMP */
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "invalid: ICMP cut short");
	f = udp(A, B, 40000, 53);
	f.len = FRAMES_ETH_HLEN + 20 + 2;
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "invalid: UDP cut inside its ports");
	tap_ok(table_count() == 1, "only the whole datagram made an entry");
}

/* ---- timeouts ---- */

/* A connection brought into state at t0 (every packet at t0), and its probe: a packet
 * that leaves the state as it is, tracked (want) while the connection lives. */
struct timeout_case {
	const char *name;
	__u8 state;
	__u8 alive; /* the probe's verdict while it lives */
	__u8 dead;  /* ... once it is gone */
	struct frame open[4];
	int n_open;
	struct frame probe;
};

static struct timeout_case tcase(const char *name, __u8 state, __u8 alive, __u8 dead)
{
	return (struct timeout_case){ .name = name, .state = state, .alive = alive, .dead = dead };
}

static void timeout_cases(struct timeout_case *c, int *n, uint16_t port)
{
	int i = 0;

	c[i] = tcase("syn-sent", MX_CT_TCP_SYN_SENT, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("syn-recv", MX_CT_TCP_SYN_RECV, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, SYN | ACK);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("established", MX_CT_TCP_ESTABLISHED, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, SYN | ACK);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, ACK);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("fin-wait", MX_CT_TCP_FIN_WAIT, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, SYN | ACK);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, ACK | FIN);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("time-wait", MX_CT_TCP_TIME_WAIT, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, SYN | ACK);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, ACK | FIN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, ACK | FIN);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("close", MX_CT_TCP_CLOSE, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = tcp(A, B, port, 80, SYN);
	c[i].open[c[i].n_open++] = tcp(B, A, 80, port, RST | ACK);
	c[i++].probe = tcp(B, A, 80, port, ACK);
	port++;
	c[i] = tcase("udp", MX_CT_UDP, MX_CT_V_FWD, MX_CT_V_NEW);
	c[i].open[c[i].n_open++] = udp(A, B, port, 53);
	c[i++].probe = udp(A, B, port, 53);
	port++;
	c[i] = tcase("udp-stream", MX_CT_UDP_STREAM, MX_CT_V_RETURN, MX_CT_V_NEW);
	c[i].open[c[i].n_open++] = udp(A, B, port, 53);
	c[i].open[c[i].n_open++] = udp(B, A, 53, port);
	c[i++].probe = udp(B, A, 53, port);
	port++;
	c[i] = tcase("icmp", MX_CT_ICMP, MX_CT_V_RETURN, MX_CT_V_INVALID);
	c[i].open[c[i].n_open++] = echo(A, B, 8, port);
	c[i++].probe = echo(B, A, 0, port);
	*n = i;
}

/* Each state: open at t0; the probe at t0 + T finds it (and refreshes it, more than a
 * second having passed); one at t0 + 2T + 1 ns does not: idle T and a nanosecond. */
static void test_timeouts(const struct mx_ct_config *cfg, const char *which, uint16_t port)
{
	struct timeout_case c[MX_CT_STATE__MAX];
	int n;

	table_clear();
	timeout_cases(c, &n, port);
	for (int i = 0; i < n; i++) {
		__u64 tmo = (__u64)mx_ct_timeout_s(cfg, c[i].state) * SEC_NS;
		struct res r = { 0 };
		char what[96];
		int err = 0;

		for (int j = 0; j < c[i].n_open && !err; j++)
			err = run(&c[i].open[j], D1, T0, true, &r);
		if (!tap_check(!err && r.state == c[i].state, "", "%s timeouts: %s reached at t0",
			       which, c[i].name))
			continue;
		snprintf(what, sizeof(what), "%s timeouts: %s, idle %u s", which, c[i].name,
			 (unsigned int)(tmo / SEC_NS));
		expect(&c[i].probe, D1, T0 + tmo, false, c[i].alive, c[i].state, what);
		snprintf(what, sizeof(what), "%s timeouts: %s, idle %u s and 1 ns", which,
			 c[i].name, (unsigned int)(tmo / SEC_NS));
		expect(&c[i].probe, D1, T0 + 2 * tmo + 1, false, c[i].dead, ANY_STATE, what);
	}
}

static void test_timeout_values(void)
{
	static const __u32 want[] = { 120, 60, 432000, 120, 120, 10, 30, 120, 30 };
	struct mx_ct_config cfg = { 0 };
	bool ok = true;

	for (unsigned int s = 0; s < MX_CT_STATE__MAX; s++)
		ok &= mx_ct_timeout_s(NULL, s) == want[s] && mx_ct_timeout_s(&cfg, s) == want[s];
	tap_ok(ok, "timeouts: the kernel's defaults (syn-sent 120 s, syn-recv 60, established "
		   "432000, fin-wait 120, time-wait 120, close 10, udp 30, udp-stream 120, icmp 30)");
	cfg.timeout_s[MX_CT_UDP] = 5;
	tap_ok(mx_ct_timeout_s(&cfg, MX_CT_UDP) == 5 &&
		       mx_ct_timeout_s(&cfg, MX_CT_UDP_STREAM) == 120,
	       "timeouts: a configured one replaces its default only");
}

/* ---- the table full ---- */

static void test_full(void)
{
	struct frame f;
	struct mx_ct_sweep_stats st;
	struct res r;
	__u64 t = T0, later = T0 + (MX_CT_TIMEOUT_UDP + 1) * SEC_NS;
	int made = 0, err;

	table_clear();
	for (int i = 0; i < TABLE_SIZE; i++) {
		f = udp(A, B, (uint16_t)(20000 + i), 53);
		made += !run(&f, D1, t, true, &r) && r.verdict == MX_CT_V_NEW;
	}
	tap_ok(made == TABLE_SIZE && table_count() == TABLE_SIZE, "full: %d connections fill %d",
	       made, TABLE_SIZE);
	f = udp(A, B, 30000, 53);
	expect(&f, D1, t, true, MX_CT_V_FULL, ANY_STATE, "full: a new UDP connection is refused");
	f = tcp(A, B, 30001, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_FULL, ANY_STATE, "full: a new TCP connection is refused");
	f = echo(A, B, 8, 30002);
	expect(&f, D1, t, true, MX_CT_V_FULL, ANY_STATE, "full: a new echo is refused");
	tap_ok(table_count() == TABLE_SIZE, "full: none of them was written");
	f = udp(A, B, 20000, 53);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_UDP, "full: the first connection goes on");
	f = udp(B, A, 53, 20000 + TABLE_SIZE - 1);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_UDP_STREAM,
	       "full: the last one's reply is a return");
	/* All idle past 30 s, not swept yet: their slots are still taken. */
	f = udp(A, B, 20005, 53);
	expect(&f, D1, later, true, MX_CT_V_NEW, ANY_STATE,
	       "full, idle, unswept: the tuple of an idle connection opens again in its slot");
	f = udp(A, B, 30000, 53);
	expect(&f, D1, later, true, MX_CT_V_FULL, ANY_STATE,
	       "full, idle, unswept: another tuple is still refused");
	err = mx_ct_sweep(ct_fd(), NULL, later, &st);
	tap_ok(!err && st.seen == TABLE_SIZE && st.removed == TABLE_SIZE - 2 && table_count() == 2,
	       "full: the sweep removes the %d idle ones (removed %u of %u), keeps the reopened "
	       "one and the one that had a reply (udp-stream: 120 s)",
	       TABLE_SIZE - 2, st.removed, st.seen);
	expect(&f, D1, later, true, MX_CT_V_NEW, ANY_STATE, "after the sweep: room again");
	table_clear();
}

/* ---- per device ---- */

static void test_devices(void)
{
	struct frame f;
	struct mx_ct_key k1 = key_of(D1, A, B, IPPROTO_UDP, 40000, 53);
	struct mx_ct_key k2 = key_of(D2, A, B, IPPROTO_UDP, 40000, 53);
	__u64 t = T0;

	table_clear();
	f = udp(A, B, 40000, 53);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "devices: A -> B through device 1");
	f = udp(B, A, 53, 40000);
	expect(&f, D2, t, false, MX_CT_V_NEW, ANY_STATE,
	       "devices: the reply through device 2 is not a return there");
	expect(&f, D1, t, false, MX_CT_V_RETURN, MX_CT_UDP_STREAM,
	       "devices: the reply through device 1 is");
	f = udp(A, B, 40000, 53);
	expect(&f, D2, t, true, MX_CT_V_NEW, ANY_STATE, "devices: the same tuple through device 2");
	tap_ok(has_entry(&k1) && has_entry(&k2) && table_count() == 2,
	       "devices: two connections, one per device");
	f = tcp(A, B, 40000, 53, SYN);
	expect(&f, D1, t, false, MX_CT_V_NEW, ANY_STATE,
	       "devices: TCP on the same ports is another connection");
}

/* ---- the sweep ---- */

static void test_sweep(void)
{
	struct mx_ct_sweep_stats st = { 1, 1 };
	struct mx_ct_config cfg = { 0 };
	struct frame f;
	struct res r;
	__u64 t = T0;
	int err = 0;

	table_clear();
	tap_ok(!mx_ct_sweep(ct_fd(), NULL, t, &st) && st.seen == 0 && st.removed == 0,
	       "sweep: an empty table");
	/* At t: 4 UDP (30 s), 2 TCP SYN (120 s), an echo (30 s); at t + 20 s two of the UDP
	 * are used again. */
	for (uint16_t i = 0; i < 4; i++) {
		f = udp(A, B, (uint16_t)(41000 + i), 53);
		err |= run(&f, D1, t, true, &r);
	}
	for (uint16_t i = 0; i < 2; i++) {
		f = tcp(A, B, (uint16_t)(42000 + i), 80, SYN);
		err |= run(&f, D1, t, true, &r);
	}
	f = echo(A, B, 8, 43000);
	err |= run(&f, D1, t, true, &r);
	for (uint16_t i = 0; i < 2; i++) {
		f = udp(A, B, (uint16_t)(41000 + i), 53);
		err |= run(&f, D1, t + 20 * SEC_NS, true, &r);
	}
	tap_ok(!err && table_count() == 7, "sweep: 7 connections");
	tap_ok(!mx_ct_sweep(ct_fd(), NULL, t + 30 * SEC_NS, &st) && st.seen == 7 &&
		       st.removed == 0 && table_count() == 7,
	       "sweep at 30 s: nothing idle past its timeout");
	err = mx_ct_sweep(ct_fd(), NULL, t + 31 * SEC_NS, &st);
	tap_ok(!err && st.seen == 7 && st.removed == 3 && table_count() == 4,
	       "sweep at 31 s: the 2 idle UDP and the echo go (removed %u)", st.removed);
	f = udp(A, B, 41000, 53);
	expect(&f, D1, t + 31 * SEC_NS, true, MX_CT_V_FWD, MX_CT_UDP,
	       "sweep: a used connection was kept");
	tap_ok(!mx_ct_sweep(ct_fd(), NULL, t + 61 * SEC_NS, &st) && st.removed == 1 &&
		       table_count() == 3,
	       "sweep at 61 s: the UDP used at 20 s goes, the one used at 31 s and the SYNs stay");
	cfg.timeout_s[MX_CT_TCP_SYN_SENT] = 60;
	tap_ok(!mx_ct_sweep(ct_fd(), &cfg, t + 61 * SEC_NS, &st) && st.removed == 2 &&
		       table_count() == 1,
	       "sweep at 61 s with syn-sent configured to 60 s: the 2 SYNs go");
	tap_ok(!mx_ct_sweep(ct_fd(), NULL, t + 200 * SEC_NS, &st) && st.removed == 1 &&
		       table_count() == 0,
	       "sweep at 200 s: the last one");
	tap_ok(mx_ct_sweep(-1, NULL, t, &st) == -EBADF, "sweep: a bad fd is -EBADF");
}

/* ---- tags: an element another key took under a reader ---- */

static int put(const struct mx_ct_key *k, const struct mx_ct_entry *e)
{
	return bpf_map_update_elem(ct_fd(), k, e, BPF_ANY) ? -errno : 0;
}

/* What a reader sees when the element its lookup gave was freed and taken by another key
 * (the map frees a replaced or deleted element at once): simulated by writing under a key
 * an entry that holds another key's tag. Such an entry is a miss and is never written
 * through; an untagged one (0, written before tags) is still its key's. */
static void test_tags(void)
{
	struct mx_ct_key k = key_of(D1, A, B, IPPROTO_TCP, 41000, 80);
	struct mx_ct_key other = key_of(D1, A, B, IPPROTO_TCP, 41001, 80);
	struct mx_ct_key uk = key_of(D1, A, B, IPPROTO_UDP, 41000, 53);
	/* A NATed connection: A:41002 -> B:80 leaves D1 as N:50000 -> B:80. */
	struct mx_ct_key nk = key_of(D1, A, B, IPPROTO_TCP, 41002, 80);
	struct mx_ct_key ix = key_of(D1, "10.9.9.9", B, IPPROTO_TCP, 50000, 80);
	struct mx_ct_entry e, est = { .last_seen_ns = T0, .state = MX_CT_TCP_ESTABLISHED };
	struct mx_ct_entry main_e = est, index_e = est;
	struct frame f;
	__u64 t = T0;

	table_clear();
	tap_ok(mx_ct_tag(&k) != 0 && mx_ct_tag(&k) != mx_ct_tag(&other) &&
		       mx_ct_tag(&k) != mx_ct_tag(&(struct mx_ct_key){ .device = D1, .src = k.dst,
								 .dst = k.src, .sport = k.dport,
								 .dport = k.sport,
								 .proto = k.proto }),
	       "tags: a key's tag is not 0, nor its neighbour's or its reverse's");
	f = tcp(A, B, 41000, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tags: a SYN committed");
	tap_ok(!entry(&k, &e) && e.tag == mx_ct_tag(&k), "tags: its entry holds its key's tag");
	f = tcp(B, A, 80, 41000, SYN | ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_SYN_RECV, "tags: the SYN-ACK back");
	tap_ok(!entry(&k, &e) && e.tag == mx_ct_tag(&k) && e.state == MX_CT_TCP_SYN_RECV,
	       "tags: written in place, the tag kept");

	e = est;
	e.tag = mx_ct_tag(&other);
	tap_ok(!put(&k, &e), "tags: the element of k now holds another key's entry");
	t = T0 + 10 * SEC_NS; /* past the refresh: a found entry would be written */
	f = tcp(A, B, 41000, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tags: forward on it is no connection");
	f = tcp(B, A, 80, 41000, ACK);
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tags: return on it is no connection");
	tap_ok(!entry(&k, &e) && e.last_seen_ns == T0 && e.state == MX_CT_TCP_ESTABLISHED &&
		       e.tag == mx_ct_tag(&other),
	       "tags: nothing was written through it");
	f = tcp(A, B, 41000, 80, SYN);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tags: a SYN opens the tuple afresh");
	tap_ok(!entry(&k, &e) && e.tag == mx_ct_tag(&k) && e.state == MX_CT_TCP_SYN_SENT,
	       "tags: the new entry is k's");

	e = est;
	e.tag = 0;
	tap_ok(!put(&k, &e), "tags: an untagged established entry (written before tags)");
	f = tcp(A, B, 41000, 80, ACK);
	expect(&f, D1, t, true, MX_CT_V_FWD, MX_CT_TCP_ESTABLISHED, "tags: untagged, still found");
	tap_ok(!entry(&k, &e) && e.last_seen_ns == t, "tags: untagged, refreshed in place");

	e = (struct mx_ct_entry){ .last_seen_ns = T0, .state = MX_CT_UDP, .tag = mx_ct_tag(&other) };
	tap_ok(!put(&uk, &e), "tags: a UDP entry holding another key's tag");
	f = udp(A, B, 41000, 53);
	expect(&f, D1, t, true, MX_CT_V_NEW, ANY_STATE, "tags: udp on it opens a connection");
	tap_ok(!entry(&uk, &e) && e.tag == mx_ct_tag(&uk) && e.last_seen_ns == t,
	       "tags: udp: the new entry is its key's");

	main_e.flags = MX_CT_F_NAT;
	main_e.tag = mx_ct_tag(&nk);
	main_e.nat = (struct mx_ct_nat){ .src = ix.src, .dst = ix.dst, .sport = ix.sport,
					 .dport = ix.dport };
	index_e.flags = MX_CT_F_NAT_INDEX;
	index_e.tag = mx_ct_tag(&ix);
	index_e.nat = (struct mx_ct_nat){ .src = nk.src, .dst = nk.dst, .sport = nk.sport,
					  .dport = nk.dport };
	tap_ok(!put(&nk, &main_e) && !put(&ix, &index_e), "tags: a NATed connection and its index");
	f = tcp(B, "10.9.9.9", 80, 50000, ACK);
	expect(&f, D1, t, true, MX_CT_V_RETURN, MX_CT_TCP_ESTABLISHED,
	       "tags: its reply finds it through the index");
	index_e.tag = mx_ct_tag(&other);
	tap_ok(!put(&ix, &index_e), "tags: the index's element holds another key's tag");
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tags: the reply finds nothing");
	index_e.tag = mx_ct_tag(&ix);
	main_e.tag = mx_ct_tag(&other);
	tap_ok(!put(&ix, &index_e) && !put(&nk, &main_e),
	       "tags: the index right, the connection's element another key's");
	expect(&f, D1, t, true, MX_CT_V_INVALID, ANY_STATE, "tags: the reply finds nothing");
	table_clear();
}

int main(void)
{
	struct mx_ct_config cfg = { 0 };

	mx_log_init("test_conntrack", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (BPF)");
	if (ct_dp_open(&skel, TABLE_SIZE))
		return tap_bail("the conntrack test object did not load");
	test_tcp();
	test_udp_echo();
	test_related();
	test_untracked();
	test_timeout_values();
	test_timeouts(NULL, "kernel's", 45000);
	cfg.timeout_s[MX_CT_UDP] = 5;
	cfg.timeout_s[MX_CT_TCP_ESTABLISHED] = 3600;
	cfg.timeout_s[MX_CT_ICMP] = 2;
	if (tap_ok(!config_set(&cfg), "config: udp 5 s, established 1 h, icmp 2 s written"))
		test_timeouts(&cfg, "configured", 46000);
	cfg = (struct mx_ct_config){ 0 };
	tap_ok(!config_set(&cfg), "config: back to the defaults");
	test_full();
	test_devices();
	test_sweep();
	test_tags();
	ct_test__destroy(skel);
	return tap_done();
}
