// SPDX-License-Identifier: Apache-2.0
/* mxbench-ct RUNS [ENTRIES]: connection tracking's cost per packet (bpf/lib/conntrack.h,
 * through tests/unit/ct_test.bpf.c) with BPF_PROG_TEST_RUN repeat, and the table's memory,
 * as root. The table has ENTRIES entries (default 1048576), preallocated.
 *
 * Cases, each the median of 3 test runs of RUNS packets (but the fill, run once):
 *   noop        a program that only returns TC_ACT_OK
 *   untracked   an ARP frame: parsing only, no lookup
 *   fwd         a UDP packet of a tracked connection, forward (one lookup)
 *   return      its reply (two lookups: its own tuple, then the reversed one)
 *   invalid     a TCP ACK of no connection (two lookups, both miss)
 *   new-nocommit  a UDP packet that would open one, not committed (two misses)
 *   fill        ENTRIES - 1 new connections, each run a new source address, committed
 *               (two misses and an insert): the table from one entry to full, once
 *   full        a new connection refused by the full table (two misses, a failed insert)
 *   fwd-spread  forward packets of the fill's connections, each run another one (RUNS of
 *               them, once): lookups spread over the whole table, as with many flows
 *   fwd-full, return-full   as fwd and return, in the full table
 * Output: "ct CASE NS_RAW NS_NET_OF_NOOP VERDICT", then the memory lines "ct memory ...". */
#include "tests/unit/dp_net.h"

#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>

#include "tests/unit/ct_dp.h"
#include "tests/unit/frames.h"
#include "base/log.h"
#include "midox/conntrack.h"

static struct ct_test *skel;

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };

#define FILL_BASE 0x0b000000u /* 11.0.0.0: the fill's source addresses count up from it */

static int noop_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mxbench_noop", "GPL", insns, 2, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One frame: UDP 11.0.0.0:40000 -> 10.0.0.2:53, its reply, a TCP ACK or ARP. */
enum frame_kind { F_UDP, F_UDP_REPLY, F_TCP_ACK, F_ARP };

static size_t frame(enum frame_kind k, uint8_t *buf)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .dst = M_B, .src = M_A, .sip = "11.0.0.0",
				 .tip = "10.0.0.2", .dport = 53, .payload = 18 };
	size_t len;

	if (k == F_UDP_REPLY) {
		s.sip = "10.0.0.2";
		s.tip = "11.0.0.0";
		s.sport = 53;
		s.dport = 40000;
	} else if (k == F_TCP_ACK) {
		s.ip_proto = IPPROTO_TCP;
	} else if (k == F_ARP) {
		s.kind = FRAMES_ARP;
	}
	len = frames_build(&s, buf, M_A, M_B);
	if (k == F_TCP_ACK)
		buf[FRAMES_ETH_HLEN + 20 + 13] = 0x10;
	return len;
}

static int set_in(__u32 commit, __u32 vary)
{
	struct ct_dp_in in = { .now_ns = 1000000000000ull, .device = 1, .commit = commit,
			       .vary_src = vary, .src_base = FILL_BASE };
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(skel->maps.ct_test_in), &zero, &in, BPF_ANY);
}

/* Median over n test runs of repeat runs: the mean ns per run; -1 on failure. */
static double timed(int fd, enum frame_kind k, __u32 runs, int n, int *verdict)
{
	uint8_t buf[FRAMES_MAX];
	size_t len = frame(k, buf);
	struct __sk_buff ctx = { 0 };
	double ns[3];

	for (int i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = (__u32)len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = runs);

		if (bpf_prog_test_run_opts(fd, &opts))
			return -1;
		ns[i] = opts.duration;
		*verdict = (int)opts.retval;
	}
	qsort(ns, (size_t)n, sizeof(ns[0]), cmp_double);
	return ns[n / 2];
}

/* The kernel's own account of the map's memory (fdinfo "memlock"), in bytes; 0 unknown. */
static unsigned long long map_memlock(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static const char *const verdicts[] = { "new", "fwd", "return", "related", "invalid",
					"untracked", "full" };

/* Time n test runs of frame k (median), print the line; -1 when a run fails or its
 * verdict is not want. */
static int measure(const char *name, int fd, enum frame_kind k, __u32 runs, int n, double noop,
		   int want)
{
	int verdict = -1;
	double ns = timed(fd, k, runs, n, &verdict);

	if (ns < 0 || verdict != want) {
		fprintf(stderr, "mxbench-ct: %s: test run failed (verdict %d, want %d)\n", name,
			verdict, want);
		return -1;
	}
	printf("ct %s %.1f %.1f %s\n", name, ns, ns - noop, verdicts[verdict]);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	long runs = argc > 1 ? atol(argv[1]) : 1000000;
	long entries = argc > 2 ? atol(argv[2]) : 1048576;
	double noop;
	int fd, noop_fd, v, err = 0;
	unsigned long long mem;

	mx_log_init("mxbench-ct", MX_LOG_WARN);
	if (runs < 1 || runs > 100000000 || entries < 2 || entries > 100000000 ||
	    ct_dp_open(&skel, (__u32)entries) || (noop_fd = noop_prog()) < 0) {
		fprintf(stderr, "mxbench-ct: setup failed (root? usage: mxbench-ct RUNS [ENTRIES])\n");
		return 1;
	}
	fd = bpf_program__fd(skel->progs.ct_test);
	mem = map_memlock(bpf_map__fd(skel->maps.midox_ct));
	printf("ct memory entries %ld bytes %llu per-entry %.1f key %zu value %zu\n", entries, mem,
	       (double)mem / (double)entries, sizeof(struct mx_ct_key),
	       sizeof(struct mx_ct_entry));

	noop = timed(noop_fd, F_UDP, (__u32)runs, 3, &v);
	printf("ct noop %.1f 0.0 -\n", noop);
	err |= set_in(0, 0);
	err |= measure("untracked", fd, F_ARP, (__u32)runs, 3, noop, MX_CT_V_UNTRACKED);
	err |= measure("invalid", fd, F_TCP_ACK, (__u32)runs, 3, noop, MX_CT_V_INVALID);
	err |= measure("new-nocommit", fd, F_UDP, (__u32)runs, 3, noop, MX_CT_V_NEW);
	/* One connection, then forward and return packets of it. */
	err |= set_in(1, 0);
	err |= timed(fd, F_UDP, 1, 1, &v) < 0;
	err |= measure("fwd", fd, F_UDP, (__u32)runs, 3, noop, MX_CT_V_FWD);
	err |= measure("return", fd, F_UDP_REPLY, (__u32)runs, 3, noop, MX_CT_V_RETURN);
	/* Fill: entries - 1 new connections (11.0.0.1 and up; the one above is 11.0.0.0). */
	err |= set_in(1, 1);
	skel->bss->ct_test_runs = 1;
	err |= measure("fill", fd, F_UDP, (__u32)(entries - 1), 1, noop, MX_CT_V_NEW);
	err |= measure("full", fd, F_UDP, (__u32)runs, 3, noop, MX_CT_V_FULL);
	/* Forward packets of the fill's connections, each run another one (cache-cold). */
	skel->bss->ct_test_runs = 1;
	err |= measure("fwd-spread", fd, F_UDP, (__u32)(runs < entries ? runs : entries - 1), 1,
		       noop, MX_CT_V_FWD);
	err |= set_in(1, 0);
	err |= measure("fwd-full", fd, F_UDP, (__u32)runs, 3, noop, MX_CT_V_FWD);
	err |= measure("return-full", fd, F_UDP_REPLY, (__u32)runs, 3, noop, MX_CT_V_RETURN);
	mem = map_memlock(bpf_map__fd(skel->maps.midox_ct));
	printf("ct memory-full entries %ld bytes %llu per-entry %.1f\n", entries, mem,
	       (double)mem / (double)entries);
	ct_test__destroy(skel);
	close(noop_fd);
	return err ? 1 : 0;
}
