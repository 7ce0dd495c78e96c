// SPDX-License-Identifier: Apache-2.0
/* mxbench-cost RUNS: the per-packet cost of each datapath program on each path, with
 * BPF_PROG_TEST_RUN, in a private network namespace (as root). The maps are filled through
 * the loader, as the agent and tests/unit/test_datapath.c do, and the frames come from the
 * tests' builders (tests/unit/frames.h).
 *
 * Two ways of timing, both the kernel's own clock around the program (no syscall in it):
 * - "single": RUNS test runs of repeat 1, each on a fresh skb; the mean of the durations the
 *   kernel reports, minus the same mean for a program that only returns TC_ACT_OK (the
 *   timer's own cost). Every path is measured this way: encapsulation, decapsulation and
 *   flooding change the skb, so repeating on one skb would time another path from the
 *   second run on.
 * - "repeat": one test run of repeat RUNS on one skb, for the paths that leave the frame as
 *   it was (the baseline and local L2), as a cross-check.
 * Besides the four paths of issue 4, "drop-no-port" (a frame on an interface that is no port:
 * one lookup, one counter, drop) shows what entering the program and counting costs.
 * Output: "cost PATH single NS_NET NS_RAW VERDICT" and "cost PATH repeat NS". */
#include "dp_net.h"

#include <linux/pkt_cls.h>

#include "frames.h"
#include "loader.h"
#include "log.h"

enum { B1 = 100, P1 = 1001, P2 = 1002, PR = 1003 };
#define LOCAL_ADDR "10.0.0.1"
#define PEER_ADDR "10.0.0.2"

static const uint8_t UL_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t M_P1[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };
static const uint8_t M_P2[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
static const uint8_t M_R[6] = { 0x02, 0, 0, 0, 0x01, 0x03 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct mx_datapath *dp;
static int if_p1, if_p2, if_ul;

static int put_port(__u32 key, __u32 flags, int ifindex, const char *host)
{
	struct mx_port p = { .device_key = B1, .flags = flags, .ifindex = (__u32)ifindex,
			     .host_addr = frames_addr(host) };

	return mx_port_update(dp, key, &p);
}

static int put_fdb(const uint8_t *mac, __u32 port, __u32 flags)
{
	struct mx_fdb_key k = { .bridge_key = B1 };
	struct mx_fdb_entry v = { .port_key = port, .flags = flags };

	memcpy(k.mac, mac, 6);
	return mx_fdb_update(dp, &k, &v);
}

/* One bridge: p1 and p2 here, PR on the peer host; p1's MAC learned, p2's static. */
static int setup(void)
{
	struct mx_config cfg = { .tunnel_addr = frames_addr(LOCAL_ADDR),
				 .vxlan_port = htons(MX_VXLAN_PORT_DEFAULT) };
	struct mx_bridge b = { .n_local = 2, .n_remote = 1 };
	struct mx_ifport i1 = { .port_key = P1 }, i2 = { .port_key = P2 };
	struct mx_tunpeer tp = { 0 };
	struct mx_datapath_opts opts = { .no_pin = true };
	int err = 0;

	if (dp_netns_enter() || dp_veth("p1", "02:00:00:00:0a:01") ||
	    dp_veth("p2", "02:00:00:00:0a:02") || dp_veth("ul0", "02:00:00:00:00:01") ||
	    dp_sh("ip addr add %s/24 dev ul0 && sysctl -qw net.ipv4.conf.ul0.forwarding=1 && "
		  "ip neigh replace %s lladdr 02:00:00:00:00:02 dev ul0 nud permanent",
		  LOCAL_ADDR, PEER_ADDR))
		return -1;
	if_p1 = (int)if_nametoindex("p1");
	if_p2 = (int)if_nametoindex("p2");
	if_ul = (int)if_nametoindex("ul0");
	if (mx_datapath_open(&opts, &dp))
		return -1;
	cfg.underlay_ifindex = (__u32)if_ul;
	b.local_ifindex[0] = (__u32)if_p1;
	b.local_ifindex[1] = (__u32)if_p2;
	b.remote_addr[0] = frames_addr(PEER_ADDR);
	err |= mx_config_set(dp, &cfg);
	err |= mx_ifport_update(dp, (__u32)if_p1, &i1) | mx_ifport_update(dp, (__u32)if_p2, &i2);
	err |= put_port(P1, MX_PORT_LOCAL, if_p1, NULL) | put_port(P2, MX_PORT_LOCAL, if_p2, NULL);
	err |= put_port(PR, MX_PORT_REMOTE, 0, PEER_ADDR);
	err |= put_fdb(M_P1, P1, MX_FDB_LOCAL) | put_fdb(M_P2, P2, MX_FDB_STATIC);
	err |= put_fdb(M_R, PR, MX_FDB_REMOTE);
	err |= mx_bridge_update(dp, B1, &b);
	err |= mx_tunpeer_update(dp, frames_addr(PEER_ADDR), &tp);
	return err ? -1 : 0;
}

struct path {
	const char *name;
	int prog_fd;
	int ifindex;
	struct frames_spec frame;
	bool idempotent; /* the program leaves the frame as it was: repeat on one skb is fair */
};

static int run(const struct path *p, const uint8_t *frame, size_t len, __u32 repeat,
	       __u32 *ns, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = (__u32)p->ifindex,
				 .ingress_ifindex = (__u32)p->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = repeat);
	int err = bpf_prog_test_run_opts(p->prog_fd, &opts);

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
		if (run(p, frame, len, 1, &ns, verdict))
			return -1;
		sum += ns;
	}
	return sum / (double)runs;
}

static int noop_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_OK },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "mxbench_noop", "GPL", insns, 2, NULL);
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
	const struct path paths[] = {
		{ "noop", noop_prog(), if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true },
		{ "drop-no-port", port_fd, if_ul, /* ul0 is no port: the first lookup misses */
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true },
		{ "local-l2", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_P2, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.2", .payload = 18 }, true },
		{ "remote-l2-encap", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = M_R, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.3", .payload = 18 }, false },
		{ "decap", ul_fd, if_ul,
		  { .kind = FRAMES_IPV4, .dst = M_P1, .src = M_R, .sip = "10.1.0.3",
		    .tip = "10.1.0.1", .payload = 18, .vxlan = true, .osrc = PEER_ADDR,
		    .odst = LOCAL_ADDR, .vni = P1 }, false },
		{ "flood-1local-1remote", port_fd, if_p1,
		  { .kind = FRAMES_IPV4, .dst = BCAST, .src = M_P1, .sip = "10.1.0.1",
		    .tip = "10.1.0.255", .payload = 18 }, false },
	};

	base = single(&paths[0], runs, &verdict);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const struct path *p = &paths[i];
		double ns = i ? single(p, runs, &verdict) : base;

		if (p->prog_fd < 0 || ns < 0) {
			fprintf(stderr, "mxbench-cost: %s: test run failed\n", p->name);
			return 1;
		}
		printf("cost %s single %.1f %.1f %d\n", p->name, ns - base, ns, verdict);
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
	mx_datapath_close(dp);
	return 0;
}
