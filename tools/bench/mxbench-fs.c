// SPDX-License-Identifier: Apache-2.0
/* mxbench-fs RUNS: what carrying connection-tracking state across hosts costs per packet
 * (bpf/lib/flowstate.h, bpf/lib/flowstate_import.h, through tests/unit/fs_test.bpf.c), as
 * root. Encapsulation and decapsulation change the skb, so each case is RUNS test runs of
 * repeat 1 on a fresh skb, the mean of the durations the kernel reports, minus the same
 * mean for a program that only returns TC_ACT_OK (as mxbench-cost times them).
 *
 * Cases:
 *   encap-0     fs_encap: a UDP datagram of no connection (tracking: two misses), not
 *               committed, then the encapsulation (fixed outer headers, no fib lookup):
 *               no records, plain VXLAN
 *   encap-1     the same with one record (a refresh's size) in the frame
 *   encap-6     six records (a path of six devices, each with a write)
 *   decap-0     fs_decap (underlay_ingress): plain VXLAN to a local port
 *   decap-1-update  one update record merged into the live entry it names
 *   decap-1-new     one new record, written over the entry it names (an insert's path)
 *   decap-6-update  six update records, each merged
 * Output: "fs CASE NS_NET NS_RAW VERDICT". */
#include "tests/unit/dp_net.h"

#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <bpf/libbpf.h>

#include "tests/unit/frames.h"
#include "tests/unit/fs_dp.h"
#include "base/log.h"
#include "midox/conntrack.h"
#include "midox/flowstate.h"

#define DEV 100
#define PORT 7002

static const uint8_t M_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t M_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t M_H1[6] = { 0x02, 0, 0, 0, 0x50, 0x01 };
static const uint8_t M_H2[6] = { 0x02, 0, 0, 0, 0x50, 0x02 };

static struct fs_test *skel;

static int noop_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mxbench_noop", "GPL", insns, 2, NULL);
}

/* A's datagram to B, 64 bytes. */
static size_t datagram(uint8_t *buf)
{
	struct frames_spec s = { .kind = FRAMES_IPV4, .dst = M_B, .src = M_A, .sip = "10.0.0.1",
				 .tip = "10.0.0.2", .dport = 53, .payload = 22 };

	return frames_build(&s, buf, M_A, M_B);
}

/* The datagram as h1 sends it to this host: n records of op (connections 10.0.0.1:i ->
 * 10.0.0.2:53 on DEV) in front of it, under the reserved VNI unless n is 0. */
static size_t vxlan_frame(uint8_t *buf, unsigned int n, uint8_t op)
{
	uint8_t inner[FRAMES_MAX], body[FRAMES_MAX];
	size_t len = datagram(inner), off = 0;
	struct mx_fs_hdr h = { .magic = htons(MX_FS_MAGIC), .version = MX_FS_VERSION,
			       .count = (uint8_t)n, .vni = htonl(PORT) };

	if (n) {
		memcpy(body, &h, sizeof(h));
		off = sizeof(h);
		for (unsigned int i = 0; i < n; i++, off += sizeof(struct mx_fs_record)) {
			struct mx_fs_record r = { .device = htonl(DEV), .src = frames_addr("10.0.0.1"),
						  .dst = frames_addr("10.0.0.2"),
						  .sport = htons((uint16_t)(40000 + i)),
						  .dport = htons(53), .proto = IPPROTO_UDP, .op = op,
						  .state = MX_CT_UDP };

			memcpy(body + off, &r, sizeof(r));
		}
	}
	memcpy(body + off, inner, len);
	return frames_encap(buf, M_H2, M_H1, frames_addr("192.168.50.1"),
			    frames_addr("192.168.50.2"), (const uint8_t *)"\xc0\x01",
			    n ? MX_FS_VNI : PORT, body, off + len);
}

/* The mean ns of runs test runs of repeat 1 on the frame; -1 on failure. */
static double timed(int fd, const uint8_t *frame, size_t len, long runs, int *verdict)
{
	uint8_t out[FRAMES_MAX];
	double sum = 0;

	for (long i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

		if (bpf_prog_test_run_opts(fd, &o))
			return -1;
		sum += o.duration;
		*verdict = (int)o.retval;
	}
	return sum / (double)runs;
}

static int set_in(__u32 notes)
{
	struct fs_dp_in in = { .now_ns = 1000000000000ull, .device = DEV, .out_key = PORT,
			       .tunnel_addr = frames_addr("192.168.50.1"),
			       .host_addr = frames_addr("192.168.50.2"), .notes = notes };
	__u32 zero = 0;

	memcpy(in.smac, M_H1, 6);
	memcpy(in.dmac, M_H2, 6);
	return fs_dp_put(skel->maps.fs_test_in, &zero, &in);
}

static int measure(const char *name, int fd, const uint8_t *frame, size_t len, long runs,
		   double noop, int want)
{
	int verdict = -1;
	double ns = timed(fd, frame, len, runs, &verdict);

	if (ns < 0 || verdict != want) {
		fprintf(stderr, "mxbench-fs: %s: test run failed (verdict %d, want %d)\n", name,
			verdict, want);
		return -1;
	}
	printf("fs %s %.1f %.1f %d\n", name, ns - noop, ns, verdict);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct fs_dp_host h = { .addr = frames_addr("192.168.50.2"),
				.peer = frames_addr("192.168.50.1"), .device = DEV,
				.local_port = PORT };
	long runs = argc > 1 ? atol(argv[1]) : 1000000;
	uint8_t buf[FRAMES_MAX];
	int enc, dec, noop_fd, v, err = 0;
	double noop;
	size_t len;

	mx_log_init("mxbench-fs", MX_LOG_WARN);
	if (runs < 1 || runs > 100000000 || fs_dp_open(&skel, 65536, &h) ||
	    (noop_fd = noop_prog()) < 0) {
		fprintf(stderr, "mxbench-fs: setup failed (root? usage: mxbench-fs RUNS)\n");
		return 1;
	}
	enc = bpf_program__fd(skel->progs.fs_encap);
	dec = bpf_program__fd(skel->progs.fs_decap);
	len = datagram(buf);
	noop = timed(noop_fd, buf, len, runs, &v);
	printf("fs noop 0.0 %.1f %d\n", noop, v);
	err |= set_in(0);
	err |= measure("encap-0", enc, buf, len, runs, noop, TC_ACT_OK);
	err |= set_in(1);
	err |= measure("encap-1", enc, buf, len, runs, noop, TC_ACT_OK);
	err |= set_in(6);
	err |= measure("encap-6", enc, buf, len, runs, noop, TC_ACT_OK);
	len = vxlan_frame(buf, 0, 0);
	err |= measure("decap-0", dec, buf, len, runs, noop, TC_ACT_REDIRECT);
	/* The entries the updates merge into: one pass of new records first. */
	len = vxlan_frame(buf, 6, MX_FS_OP_NEW);
	err |= timed(dec, buf, len, 1, &v) < 0;
	len = vxlan_frame(buf, 1, MX_FS_OP_UPDATE);
	err |= measure("decap-1-update", dec, buf, len, runs, noop, TC_ACT_REDIRECT);
	len = vxlan_frame(buf, 1, MX_FS_OP_NEW);
	err |= measure("decap-1-new", dec, buf, len, runs, noop, TC_ACT_REDIRECT);
	len = vxlan_frame(buf, 6, MX_FS_OP_UPDATE);
	err |= measure("decap-6-update", dec, buf, len, runs, noop, TC_ACT_REDIRECT);
	fs_test__destroy(skel);
	close(noop_fd);
	return err ? 1 : 0;
}
