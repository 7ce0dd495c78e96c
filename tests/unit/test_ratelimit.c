// SPDX-License-Identifier: Apache-2.0
/* A port's egress rate limit (bpf/lib/ratelimit.h): BPF_PROG_TEST_RUN of port_ingress on
 * frames from a limited and an unlimited port of one bridge, maps filled through the loader
 * as the agent fills them, in a private network namespace. The rates are so low (one
 * 1000-byte frame a second) that the time a test run takes is nothing beside a frame's
 * cost: what passes is exact. Time passing is stood for by moving the bucket's timestamp
 * (in the port's midox_rate entry) back, as the clock would. TAP output. */
#include "dp_net.h"

#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dp_counters.h"
#include "dp_fill.h"
#include "frames.h"
#include "loader/loader.h"
#include "base/log.h"
#include "tap.h"

enum { B = 100, P = 1001, Q = 1002 };

static const uint8_t M_P[6] = { 0x02, 0, 0, 0, 0x10, 0x01 };
static const uint8_t M_Q[6] = { 0x02, 0, 0, 0, 0x10, 0x02 };

enum ifid { IF_P, IF_Q, IF__MAX };
static const char *const if_names[IF__MAX] = { "rl1", "rl2" };
static const char *const if_macs[IF__MAX] = { "02:00:00:00:0e:01", "02:00:00:00:0e:02" };
static int ifx[IF__MAX];

static struct mx_datapath *dp;

#define NS 1000000000ull
#define RATE_BPS 8000ull /* 1000 bytes a second: a 1000-byte frame costs 1 s */

/* CLOCK_MONOTONIC is bpf_ktime_get_ns's clock. */
static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

static int put_port(__u32 key, int ifindex, const uint8_t *mac, __u32 flags)
{
	struct mx_port p = { .device_key = B, .flags = MX_PORT_LOCAL | MX_PORT_FIXED_MAC | flags,
			     .ifindex = (__u32)ifindex };

	memcpy(p.mac, mac, 6);
	return dp_put_port(dp, key, &p);
}

/* P's limit as the agent writes it: rate, and the burst as the time it takes at that rate. */
static int put_limit(__u64 rate_bps, __u64 burst_bits)
{
	struct mx_port_rate r = { .rate_bps = rate_bps, .burst_ns = burst_bits * NS / rate_bps };

	return mx_rate_update(dp, P, &r);
}

/* P's bucket time (0 when P has no entry). */
static __u64 tat(void)
{
	struct mx_port_rate r = { 0 };

	mx_rate_lookup(dp, P, &r);
	return r.tat_ns;
}

static void tat_set(__u64 t)
{
	struct mx_port_rate r;

	if (!mx_rate_lookup(dp, P, &r)) {
		r.tat_ns = t;
		mx_rate_update(dp, P, &r);
	}
}

/* The bucket as if the port had been idle for a while. */
static void bucket_idle(void)
{
	tat_set(now_ns() - NS);
}

static int maps_setup(void)
{
	return put_port(P, ifx[IF_P], M_P, MX_PORT_RATE_LIMIT) ||
	       put_port(Q, ifx[IF_Q], M_Q, 0) ||
	       dp_put_fdb(dp, B, M_P, P, MX_FDB_STATIC) || dp_put_fdb(dp, B, M_Q, Q, MX_FDB_STATIC) ||
	       put_limit(RATE_BPS, 3 * RATE_BPS);
}

/* A UDP frame of len bytes from the port on iface to the other port. */
static size_t build(enum ifid iface, size_t len, uint8_t *p)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .src = iface == IF_P ? M_P : M_Q,
				 .dst = iface == IF_P ? M_Q : M_P,
				 .sip = iface == IF_P ? "10.0.0.1" : "10.0.0.2",
				 .tip = iface == IF_P ? "10.0.0.2" : "10.0.0.1",
				 .payload = (uint16_t)(len - FRAMES_ETH_HLEN - 20 - 8) };

	return frames_inner(&s, p);
}

/* Send n frames of len bytes from iface; how many were forwarded (-1: a run failed or a
 * verdict was neither redirect nor drop). */
static int send_n(enum ifid iface, size_t len, int n)
{
	uint8_t in[4096], out[4096 + 128];
	size_t in_len = build(iface, len, in);
	int passed = 0;

	for (int i = 0; i < n; i++) {
		size_t out_len = sizeof(out);
		int verdict;

		if (dp_test_run(mx_datapath_port_prog_fd(dp), ifx[iface], in, in_len, out, &out_len,
				&verdict))
			return -1;
		if (verdict == TC_ACT_REDIRECT)
			passed++;
		else if (verdict != TC_ACT_SHOT)
			return -1;
	}
	return passed;
}

static __u64 drops(__u32 key)
{
	return counter_read(dp, key, MX_DROP_RATE_LIMIT);
}

static void test_unlimited(void)
{
	__u64 d = drops(Q);

	tap_ok(send_n(IF_Q, 1000, 50) == 50 && drops(Q) == d,
	       "a port without a limit forwards 50 frames back to back");
}

/* 3000 bytes of burst at 1000 bytes/s: from idle, 4 frames of 1000 bytes (the fourth on a
 * debt of 3 s, which is the burst) and no more. */
static void test_burst(void)
{
	__u64 d = drops(P), rx = counter_read(dp, P, C_RX);
	int passed;

	bucket_idle();
	passed = send_n(IF_P, 1000, 10);
	tap_ok(passed == 4, "a limited port: 4 of 10 frames back to back pass (%d)", passed);
	tap_ok(drops(P) - d == 6 && counter_read(dp, P, C_RX) - rx == 10,
	       "the 6 others are counted as rate-limit drops on the port, all 10 as rx (%llu)",
	       (unsigned long long)(drops(P) - d));
}

/* A frame's cost is exactly its length at the rate; one cost of time lets one more pass. */
static void test_cost_and_refill(void)
{
	__u64 cost = 1000 * 8 * NS / RATE_BPS, t0, t1;
	bool ok;

	bucket_idle();
	send_n(IF_P, 1000, 1);
	t0 = tat();
	ok = send_n(IF_P, 1000, 1) == 1;
	t1 = tat();
	tap_ok(ok && t1 - t0 == cost, "a passing 1000-byte frame adds 1 s to the bucket's time "
	       "(%lld ns)", (long long)(t1 - t0));
	send_n(IF_P, 1000, 10); /* empty the bucket */
	tap_ok(send_n(IF_P, 1000, 1) == 0, "an empty bucket drops the next frame");
	tat_set(tat() - cost); /* one frame's time passes */
	tap_ok(send_n(IF_P, 1000, 3) == 1, "one frame's time later, exactly one more passes");
	bucket_idle();
	tap_ok(send_n(IF_P, 1000, 10) == 4, "after an idle second, the whole burst again");
}

/* A frame larger than the burst (a GSO packet of TCP is up to 64 KB) is not refused for
 * ever: from an idle port it passes and puts the port in debt. */
static void test_large_frame(void)
{
	int first, second;

	put_limit(RATE_BPS, RATE_BPS); /* burst 1000 bytes */
	bucket_idle();
	first = send_n(IF_P, 3000, 1);
	second = send_n(IF_P, 100, 1);
	tap_ok(first == 1 && second == 0,
	       "a 3000-byte frame passes a 1000-byte burst from idle; the next waits (%d, %d)",
	       first, second);
	put_limit(RATE_BPS, 3 * RATE_BPS);
}

/* The flag and the entry go together; either alone (a sync between its two writes) is no
 * limit, never a drop. */
static void test_flag_and_entry(void)
{
	__u32 key = P;
	int n;

	put_port(P, ifx[IF_P], M_P, 0);
	bucket_idle();
	n = send_n(IF_P, 1000, 10);
	tap_ok(n == 10, "a limit without the port's flag: not applied (%d of 10)", n);
	put_port(P, ifx[IF_P], M_P, MX_PORT_RATE_LIMIT);
	bpf_map_delete_elem(mx_datapath_map_fd(dp, MX_MAP_ID_RATE), &key);
	n = send_n(IF_P, 1000, 10);
	tap_ok(n == 10, "the flag without a limit: not applied (%d of 10)", n);
	put_limit(RATE_BPS, 3 * RATE_BPS);
}

/* A faster rate, 100 Mbit/s with a burst of 100 frames of 1500 bytes: what passes of 1000
 * frames back to back is at least the burst and at most the burst, one more, and what the
 * time the runs took pays for (the bound does not depend on the machine's speed). */
static void test_fast_rate(void)
{
	__u64 rate = 100000000ull, cost = 1500ull * 8 * NS / rate, t0, elapsed;
	int n;

	put_limit(rate, 100ull * 1500 * 8);
	bucket_idle();
	t0 = now_ns();
	n = send_n(IF_P, 1500, 1000);
	elapsed = now_ns() - t0;
	tap_ok(n >= 100 && (__u64)n <= 101 + elapsed / cost,
	       "100 Mbit/s, burst 100 frames: %d of 1000 pass in %llu us (at most %llu)", n,
	       (unsigned long long)(elapsed / 1000), (unsigned long long)(101 + elapsed / cost));
	put_limit(RATE_BPS, 3 * RATE_BPS);
}

/* midox trace runs the live program on a described frame: it must see the verdict and
 * leave the bucket as it was. */
static void test_traced(void)
{
	uint8_t in[4096];
	size_t len = build(IF_P, 1000, in);
	struct mx_trace t;
	int verdict = -1, err, i;
	bool dropped = false;
	__u64 t0;

	bucket_idle();
	send_n(IF_P, 1000, 10); /* empty */
	t0 = tat();
	err = mx_trace_run(mx_datapath_port_prog_fd(dp), mx_datapath_map_fd(dp, MX_MAP_ID_TRACE),
			   ifx[IF_P], in, len, &t, &verdict);
	for (i = 0; !err && i < (int)t.n_steps && i < MX_TRACE_MAX_STEPS; i++)
		dropped |= t.steps[i].kind == MX_TRACE_DROP && t.steps[i].a == MX_DROP_RATE_LIMIT;
	tap_ok(!err && verdict == TC_ACT_SHOT && dropped && tat() == t0,
	       "a traced frame from an empty bucket: a rate-limit drop step, the bucket untouched");
	bucket_idle();
	t0 = tat();
	err = mx_trace_run(mx_datapath_port_prog_fd(dp), mx_datapath_map_fd(dp, MX_MAP_ID_TRACE),
			   ifx[IF_P], in, len, &t, &verdict);
	tap_ok(!err && verdict == TC_ACT_REDIRECT && tat() == t0,
	       "a traced frame from a full bucket passes and charges nothing");
}

/* The agent's sync compares and writes the limit, never the bucket beside it: an unchanged
 * limit keeps the datapath's time; a changed one is written whole (a full bucket). */
static void test_sync_keeps_bucket(void)
{
	__u32 key = P;
	struct mx_port_rate want = { .rate_bps = RATE_BPS, .burst_ns = 3 * NS };
	struct mx_sync_result res;
	__u64 t0;
	int err;

	bucket_idle();
	send_n(IF_P, 1000, 10);
	t0 = tat();
	err = mx_map_sync(dp, MX_MAP_ID_RATE, &key, &want, 1, NULL, NULL, &res);
	tap_ok(!err && res.changed == 0 && res.added == 0 && tat() == t0 && t0 != 0,
	       "a sync with the same limit changes nothing: the bucket's time stays (%d, %u changed)",
	       err, res.changed);
	want.rate_bps = 2 * RATE_BPS;
	want.burst_ns = 6 * NS;
	err = mx_map_sync(dp, MX_MAP_ID_RATE, &key, &want, 1, NULL, NULL, &res);
	tap_ok(!err && res.changed == 1 && tat() == 0,
	       "a sync with another limit writes it, and a full bucket");
	put_limit(RATE_BPS, 3 * RATE_BPS);
}

int main(void)
{
	struct mx_datapath_opts opts = { .no_pin = true };
	char diag[256] = "";
	int err;

	mx_log_init("test_ratelimit", MX_LOG_WARN);
	if (geteuid() != 0)
		return tap_skip_all("needs root (network namespace, BPF)");
	if (dp_netns_enter() || dp_veths(if_names, if_macs, IF__MAX, ifx))
		return tap_bail("cannot build the test network namespace");
	err = mx_datapath_open(&opts, &dp);
	snprintf(diag, sizeof(diag), "mx_datapath_open: %s", strerror(-err));
	if (!tap_check(!err, diag, "BPF object loads through the verifier"))
		return tap_done();
	if (maps_setup())
		return tap_bail("cannot fill the maps");
	test_unlimited();
	test_burst();
	test_cost_and_refill();
	test_large_frame();
	test_flag_and_entry();
	test_fast_rate();
	test_traced();
	test_sync_keeps_bucket();
	mx_datapath_close(dp);
	return tap_done();
}
