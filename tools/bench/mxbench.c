// SPDX-License-Identifier: Apache-2.0
/* mxbench: the benchmark's packet and map tools (tools/bench/run drives them).
 *
 *   mxbench gen IF DST_MAC SRC_MAC SRC_IP DST_IP SECONDS [SIZE]
 *       64-byte-class frames (SIZE, default 60 bytes without FCS: 64 on the wire) out of IF
 *       as fast as one core can: BPF_PROG_RUN of an XDP_TX program on live frames
 *       (BPF_F_TEST_XDP_LIVE_FRAMES), run in IF's netns. Prints "sent N seconds S".
 *   mxbench sink IF
 *       count and drop what IF receives (XDP); prints "ready", and on SIGINT or SIGTERM
 *       "received N", then detaches.
 *   mxbench attach IF redirect TARGET_IF | attach IF pass | detach IF
 *       setup C: a do-nothing XDP program on IF that stays after mxbench exits.
 *   mxbench tc-attach IF encap TARGET_IF OUTER_SRC_MAC OUTER_DST_MAC SRC_IP DST_IP VNI
 *   mxbench tc-attach IF decap TARGET_IF
 *       setup D: midox's encapsulation (or decapsulation) and a redirect to TARGET_IF, no
 *       lookup, at tc ingress of IF; stays after mxbench exits.
 *   mxbench count PINNED_MAP
 *   mxbench wait-count PINNED_MAP N TIMEOUT_S [INTERVAL_MS]
 *       entries of a pinned map (LPM tries too); wait-count polls until it holds at least N
 *       and prints "reached COUNT at EPOCH_SECONDS count_s S" (S: how long the poll that
 *       saw it took) or "timeout COUNT" (exit 1). An LPM trie is polled through its memlock where
 *       that counts its entries, and walked once it says N (cmd_wait_count).
 *   mxbench fill-fdb PIN_ROOT N
 *       N MACs as the datapath learns them (MX_FDB_LOCAL, seen now on CLOCK_MONOTONIC, the
 *       clock of bpf_ktime_get_ns) on the first local bridge port of PIN_ROOT's midox_port_v2,
 *       written into PIN_ROOT's midox_fdb: the learning benchmark's N learned MACs without N
 *       VMs. Prints "filled N bridge B port P".
 *   mxbench probe TX_NETNS TX_IF RX_NETNS RX_IF DST_MAC SRC_MAC SRC_IP DST_IP TIMEOUT_S CMD...
 *       command to first packet: runs CMD (in mxbench's own netns) while sending a tagged
 *       frame out of TX_IF every 50 us, and prints "first_ms X command_ms Y" when the first
 *       one arrives on RX_IF (or "timeout command_ms Y", exit 1).
 *   mxbench probe-session TRIES_FILE TIMEOUT_S FIRST_CMD CLI...
 *       the same from one long-lived CLI session (CLI... started once, fed through a pipe):
 *       prints "startup_ms X" (until FIRST_CMD is answered), then a probe line per try of
 *       TRIES_FILE (tab-separated: the eight probe arguments, a command, a second command
 *       with "{}" standing for the first one's answer, or "-" for none), the clock starting
 *       as the first command is written (cmd_probe_session). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "midox/bridge.h"
#include "midox/port.h"
#include "tests/unit/frames.h"
#include "bench/tc_bench.skel.h"
#include "bench/xdp_bench.skel.h"

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ifindex_of(const char *name)
{
	int i = (int)if_nametoindex(name);

	if (!i)
		fprintf(stderr, "mxbench: no interface %s here\n", name);
	return i;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

/* A UDP/IPv4 frame of size bytes (at least 60) through the tests' frame builders. */
static size_t build_udp(uint8_t *buf, const char *dst, const char *src, const char *sip,
			const char *tip, size_t size)
{
	static uint8_t d[6], s[6], none[6];
	struct frames_spec spec = { .kind = FRAMES_IPV4, .dst = d, .src = s, .sip = sip,
				    .tip = tip, .dport = 9 };

	if (parse_mac(dst, d) || parse_mac(src, s) || size < 60 || size > 1500) {
		fprintf(stderr, "mxbench: bad MAC or size\n");
		return 0;
	}
	spec.payload = (uint16_t)(size - 14 - 20 - 8);
	return frames_build(&spec, buf, none, none); /* no outer header: unused */
}

/* The skeleton loaded; hdr (the generator's 42 header bytes) may be NULL. */
static struct xdp_bench *open_skel(__u32 target, const uint8_t *hdr)
{
	struct xdp_bench *skel = xdp_bench__open();

	if (!skel) {
		fprintf(stderr, "mxbench: cannot open the BPF object\n");
		return NULL;
	}
	skel->rodata->target_ifindex = target;
	if (hdr)
		memcpy(skel->bss->gen_hdr, hdr, sizeof(skel->bss->gen_hdr));
	if (xdp_bench__load(skel)) {
		fprintf(stderr, "mxbench: cannot load the BPF object\n");
		xdp_bench__destroy(skel);
		return NULL;
	}
	return skel;
}

static int cmd_gen(int argc, char **argv)
{
	uint8_t frame[FRAMES_MAX];
	struct xdp_md ctx = { 0 };
	struct xdp_bench *skel;
	double t0, t, seconds;
	unsigned long long sent = 0;
	size_t len;
	int ifindex, err = 0;

	if (argc < 8)
		return 2;
	ifindex = ifindex_of(argv[2]);
	seconds = atof(argv[7]);
	len = build_udp(frame, argv[3], argv[4], argv[5], argv[6], argc > 8 ? atoi(argv[8]) : 60);
	if (!ifindex || !len || !(skel = open_skel(0, frame)))
		return 1;
	ctx.ingress_ifindex = (__u32)ifindex;
	ctx.data_end = (__u32)len;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		    .repeat = 1 << 16, .batch_size = 64);
	t0 = now_s(CLOCK_MONOTONIC);
	do {
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_gen), &opts);
		if (err) {
			fprintf(stderr, "mxbench: BPF_PROG_RUN (live frames): %s\n", strerror(-err));
			break;
		}
		sent += opts.repeat;
		t = now_s(CLOCK_MONOTONIC);
	} while (t - t0 < seconds);
	printf("sent %llu seconds %.6f\n", sent, now_s(CLOCK_MONOTONIC) - t0);
	xdp_bench__destroy(skel);
	return err ? 1 : 0;
}

static int cmd_sink(int argc, char **argv)
{
	struct xdp_bench *skel;
	unsigned long long total = 0;
	int ifindex, ncpu, sig, err;
	__u32 zero = 0;
	sigset_t set;

	if (argc < 3)
		return 2;
	ifindex = ifindex_of(argv[2]);
	if (!ifindex || !(skel = open_skel(0, NULL)))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdp_sink), 0, NULL);
	if (err) {
		fprintf(stderr, "mxbench: attach to %s: %s\n", argv[2], strerror(-err));
		xdp_bench__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	ncpu = libbpf_num_possible_cpus();
	{
		__u64 vals[ncpu > 0 ? ncpu : 1];

		if (ncpu > 0 && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.sink_count), &zero, vals))
			for (int i = 0; i < ncpu; i++)
				total += vals[i];
	}
	bpf_xdp_detach(ifindex, 0, NULL);
	printf("received %llu\n", total);
	xdp_bench__destroy(skel);
	return 0;
}

static int cmd_attach(int argc, char **argv)
{
	struct xdp_bench *skel;
	int ifindex, target = 0, err;

	if (argc < 4)
		return 2;
	ifindex = ifindex_of(argv[2]);
	if (!strcmp(argv[3], "redirect")) {
		if (argc < 5 || !(target = ifindex_of(argv[4])))
			return 1;
	} else if (strcmp(argv[3], "pass")) {
		return 2;
	}
	if (!ifindex || !(skel = open_skel((__u32)target, NULL)))
		return 1;
	err = bpf_xdp_attach(ifindex, bpf_program__fd(target ? skel->progs.xdp_redirect :
							       skel->progs.xdp_pass), 0, NULL);
	if (err)
		fprintf(stderr, "mxbench: attach to %s: %s\n", argv[2], strerror(-err));
	xdp_bench__destroy(skel); /* the attachment keeps the program */
	return err ? 1 : 0;
}

/* setup D: tc_encap or tc_decap (tools/bench/tc_bench.bpf.c) at tc ingress of IF, staying
 * after mxbench exits. encap: the outer headers from the arguments. */
static int cmd_tc_attach(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	struct tc_bench *skel = NULL;
	bool encap = argc >= 10 && !strcmp(argv[3], "encap");
	struct in_addr sa, da;
	int err = 1, target;

	if (argc < 5 || (!encap && strcmp(argv[3], "decap")))
		return 2;
	hook.ifindex = ifindex_of(argv[2]);
	target = ifindex_of(argv[4]);
	skel = hook.ifindex && target ? tc_bench__open() : NULL;
	if (!skel)
		return 1;
	skel->rodata->target_ifindex = (__u32)target;
	if (encap) {
		if (parse_mac(argv[5], (uint8_t *)skel->rodata->outer_smac) ||
		    parse_mac(argv[6], (uint8_t *)skel->rodata->outer_dmac) ||
		    inet_pton(AF_INET, argv[7], &sa) != 1 || inet_pton(AF_INET, argv[8], &da) != 1) {
			fprintf(stderr, "mxbench: bad MAC or address\n");
			goto out;
		}
		skel->rodata->outer_saddr = sa.s_addr;
		skel->rodata->outer_daddr = da.s_addr;
		skel->rodata->outer_vni = (__u32)strtoul(argv[9], NULL, 0);
	}
	if (tc_bench__load(skel)) {
		fprintf(stderr, "mxbench: cannot load the tc programs\n");
		goto out;
	}
	opts.prog_fd = bpf_program__fd(encap ? skel->progs.tc_encap : skel->progs.tc_decap);
	err = bpf_tc_hook_create(&hook);
	if (err == -EEXIST)
		err = 0;
	if (!err)
		err = bpf_tc_attach(&hook, &opts);
	if (err)
		fprintf(stderr, "mxbench: tc attach to %s: %s\n", argv[2], strerror(-err));
	err = err ? 1 : 0;
out:
	tc_bench__destroy(skel); /* the filter keeps the program */
	return err;
}

/* Entries of a pinned map: batched lookups where the map has them, else a key walk. The
 * batch position is a bucket index for hash maps and the last key for the generic batch
 * (arrays, LPM tries), so it gets room for either. */
static long map_count(const char *path)
{
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info), batch = 4096;
	long total = 0;
	int fd = bpf_obj_get(path), err = -ENOMEM;
	void *keys, *vals, *in, *out, *pos = NULL;
	size_t pos_size;

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		close(fd);
		return -1;
	}
	pos_size = info.key_size > 8 ? info.key_size : 8;
	keys = malloc((size_t)batch * info.key_size);
	vals = malloc((size_t)batch * info.value_size * (size_t)libbpf_num_possible_cpus());
	in = malloc(pos_size);
	out = malloc(pos_size);
	while (keys && vals && in && out) {
		__u32 n = batch;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		err = bpf_map_lookup_batch(fd, pos, out, keys, vals, &n, &o);
		if (err && err != -ENOENT)
			break;
		total += n;
		if (err)
			break;
		memcpy(in, out, pos_size);
		pos = in;
	}
	if (err && err != -ENOENT && keys) { /* no batch support: walk the keys */
		void *k = malloc(info.key_size), *prev = NULL;

		total = 0;
		while (k && !bpf_map_get_next_key(fd, prev, k)) {
			total++;
			prev = keys;
			memcpy(prev, k, info.key_size);
		}
		free(k);
	}
	free(keys);
	free(vals);
	free(in);
	free(out);
	close(fd);
	return total;
}

static int cmd_count(int argc, char **argv)
{
	long n;

	if (argc < 3)
		return 2;
	n = map_count(argv[2]);
	printf("%ld\n", n);
	return n < 0;
}

/* The map's memlock as its fdinfo shows it (what bpftool prints as bytes_memlock). */
static long long fd_memlock(int fd)
{
	char path[64], line[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* The memlock an LPM trie of these key and value sizes reports per entry, if it reports
 * exactly entries x that (so memlock / that counts the trie without walking it), else 0:
 * a private trie of one and then two entries tells. */
static long long lpm_entry_memlock(__u32 key_size, __u32 value_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	void *key = calloc(1, key_size), *value = calloc(1, value_size);
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "mxbench_cal", key_size, value_size, 2, &o);
	long long one = -1, two = -1;

	if (fd >= 0 && key && value && !bpf_map_update_elem(fd, key, value, BPF_ANY)) {
		one = fd_memlock(fd);
		*(__u32 *)key = 1; /* prefixlen 1: another entry */
		if (!bpf_map_update_elem(fd, key, value, BPF_ANY))
			two = fd_memlock(fd);
	}
	if (fd >= 0)
		close(fd);
	free(key);
	free(value);
	return one > 0 && two == 2 * one ? one : 0;
}

/* An LPM trie's entries from its memlock (see above): -1 if that does not count them. */
static long lpm_count_fast(const char *path)
{
	static long long per_entry = -1;
	struct bpf_map_info info = { 0 };
	__u32 info_len = sizeof(info);
	int fd = bpf_obj_get(path);
	long long m = -1;

	if (fd < 0)
		return -1;
	if (!bpf_obj_get_info_by_fd(fd, &info, &info_len) && info.type == BPF_MAP_TYPE_LPM_TRIE) {
		if (per_entry < 0)
			per_entry = lpm_entry_memlock(info.key_size, info.value_size);
		if (per_entry > 0)
			m = fd_memlock(fd);
	}
	close(fd);
	return m < 0 ? -1 : (long)(m / per_entry);
}

/* Between two counts: INTERVAL_MS, or three times as long as the last count took when that
 * is longer. Counting a 1M-entry LPM trie takes about a second of CPU (the kernel's generic
 * batch looks the keys up one by one): back to back, the counting would take a core from the
 * agent it times. So an LPM trie whose memlock counts its entries (it does on 6.18) is
 * polled through that instead, and counted once it reports N: the time is the poll's. */
static int cmd_wait_count(int argc, char **argv)
{
	double deadline, t0, t_seen, took_fast, took;
	long want, n = -1, fast;
	int interval_ms;

	if (argc < 5)
		return 2;
	want = atol(argv[3]);
	deadline = now_s(CLOCK_MONOTONIC) + atof(argv[4]);
	interval_ms = argc > 5 ? atoi(argv[5]) : 20;
	for (;;) {
		t0 = now_s(CLOCK_MONOTONIC);
		fast = lpm_count_fast(argv[2]);
		t_seen = now_s(CLOCK_REALTIME);
		took_fast = now_s(CLOCK_MONOTONIC) - t0;
		n = fast >= 0 && fast < want ? fast : map_count(argv[2]);
		took = now_s(CLOCK_MONOTONIC) - t0;
		if (n >= want) {
			printf("reached %ld at %.6f count_s %.3f\n", n,
			       fast >= 0 ? t_seen : now_s(CLOCK_REALTIME), fast >= 0 ? took_fast : took);
			return 0;
		}
		if (now_s(CLOCK_MONOTONIC) > deadline)
			break;
		usleep(took * 3 > interval_ms / 1e3 ? (useconds_t)(took * 3e6)
						   : (useconds_t)interval_ms * 1000);
	}
	printf("timeout %ld\n", n);
	return 1;
}

/* The first port of the pinned midox_port_v2 that is bound here and not a router's. */
static int local_bridge_port(const char *pin, __u32 *port_key, struct mx_port *port)
{
	char path[512];
	__u32 key, *prev = NULL;
	int fd, rc = -ENOENT;

	snprintf(path, sizeof(path), "%s/" MX_MAP_PORT, pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (rc && !bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, port) && (port->flags & MX_PORT_LOCAL) &&
		    !(port->flags & MX_PORT_ROUTER)) {
			*port_key = key;
			rc = 0;
		}
	}
	close(fd);
	return rc;
}

static int cmd_fill_fdb(int argc, char **argv)
{
	struct mx_fdb_entry e = { .flags = MX_FDB_LOCAL };
	struct mx_fdb_key k = { .mac = { 0x02, 0xbe } };
	struct mx_port port;
	struct timespec ts;
	char path[512];
	long n;
	int fd, rc;

	if (argc < 4)
		return 2;
	n = atol(argv[3]);
	rc = local_bridge_port(argv[2], &e.port_key, &port);
	if (rc) {
		fprintf(stderr, "mxbench: no local bridge port in %s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/" MX_MAP_FDB, argv[2]);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "mxbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	k.bridge_key = port.device_key;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	e.seen_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	for (long i = 0; i < n && !rc; i++) {
		/* 02:be:<i, 32 bits>: unicast, locally administered, one per i */
		k.mac[2] = (__u8)(i >> 24), k.mac[3] = (__u8)(i >> 16);
		k.mac[4] = (__u8)(i >> 8), k.mac[5] = (__u8)i;
		rc = bpf_map_update_elem(fd, &k, &e, BPF_ANY) ? -errno : 0;
	}
	close(fd);
	if (rc) {
		fprintf(stderr, "mxbench: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	printf("filled %ld bridge %u port %u\n", n, k.bridge_key, e.port_key);
	return 0;
}

static int socket_in(const char *netns, int type, int proto)
{
	int fd = open(netns, O_RDONLY), s = -1;

	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "mxbench: netns %s: %s\n", netns, strerror(errno));
	} else {
		s = socket(AF_PACKET, type, proto);
	}
	if (fd >= 0)
		close(fd);
	return s;
}

/* A probe: a tagged UDP frame sent out of TX_IF (in TX_NETNS) until it shows up on RX_IF (in
 * RX_NETNS), both through AF_PACKET sockets opened in their namespaces. */
struct probe {
	struct sockaddr_ll tx_addr;
	uint8_t frame[FRAMES_MAX];
	size_t len;
	uint32_t tag;
	int tx, rx;
};

/* a: TX_NETNS TX_IF RX_NETNS RX_IF DST_MAC SRC_MAC SRC_IP DST_IP */
static int probe_open(struct probe *p, char **a)
{
	struct sockaddr_ll rx_addr = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	static uint32_t serial;
	int self, ok;

	memset(p, 0, sizeof(*p));
	p->tx = p->rx = -1;
	p->tx_addr.sll_family = AF_PACKET;
	p->tx_addr.sll_halen = ETH_ALEN;
	p->len = build_udp(p->frame, a[4], a[5], a[6], a[7], 60);
	if (!p->len)
		return -EINVAL;
	p->tag = (uint32_t)getpid() ^ (uint32_t)time(NULL) ^ (++serial << 20);
	memcpy(p->frame + 42, "MXBPROBE", 8);
	memcpy(p->frame + 50, &p->tag, 4);
	memcpy(p->tx_addr.sll_addr, p->frame, ETH_ALEN);
	self = open("/proc/self/ns/net", O_RDONLY);
	p->rx = socket_in(a[2], SOCK_RAW, htons(ETH_P_IP));
	rx_addr.sll_ifindex = ifindex_of(a[3]);
	p->tx = socket_in(a[0], SOCK_RAW, 0);
	p->tx_addr.sll_ifindex = ifindex_of(a[1]);
	ok = self >= 0 && p->rx >= 0 && p->tx >= 0 && rx_addr.sll_ifindex &&
	     p->tx_addr.sll_ifindex && !setns(self, CLONE_NEWNET) &&
	     !bind(p->rx, (struct sockaddr *)&rx_addr, sizeof(rx_addr));
	if (!ok)
		fprintf(stderr, "mxbench: probe setup: %s\n", strerror(errno));
	if (self >= 0)
		close(self);
	if (!ok)
		return -EIO;
	fcntl(p->rx, F_SETFL, O_NONBLOCK);
	while (recv(p->rx, p->frame + FRAMES_MAX / 2, FRAMES_MAX / 2, 0) > 0) /* earlier frames */
		;
	return 0;
}

static void probe_close(struct probe *p)
{
	if (p->tx >= 0)
		close(p->tx);
	if (p->rx >= 0)
		close(p->rx);
}

/* What a probe waits on besides its frame: a command. poll_fd (-1: none) wakes the wait;
 * done() says whether the command has finished (it is called after every send and wake). */
struct probe_cmd {
	int poll_fd;
	bool (*done)(struct probe_cmd *c);
};

/* Sends the frame every 50 us until it arrives or the deadline; returns when it arrived (or
 * -1) and sets *t_cmd to when the command finished (or -1). */
static double probe_wait(struct probe *p, double deadline, struct probe_cmd *cmd, double *t_cmd)
{
	const struct timespec gap = { 0, 50000 };
	uint8_t buf[2048];

	*t_cmd = -1;
	while (now_s(CLOCK_MONOTONIC) < deadline) {
		struct pollfd fds[2] = { { .fd = p->rx, .events = POLLIN },
					 { .fd = *t_cmd < 0 ? cmd->poll_fd : -1, .events = POLLIN } };
		ssize_t n;

		sendto(p->tx, p->frame, p->len, 0, (struct sockaddr *)&p->tx_addr, sizeof(p->tx_addr));
		if (*t_cmd < 0 && cmd->done(cmd))
			*t_cmd = now_s(CLOCK_MONOTONIC);
		if (ppoll(fds, 2, &gap, NULL) <= 0 || !(fds[0].revents & POLLIN))
			continue;
		while ((n = recv(p->rx, buf, sizeof(buf), 0)) > 0)
			if (n >= 54 && !memcmp(buf + 42, "MXBPROBE", 8) && !memcmp(buf + 50, &p->tag, 4))
				return now_s(CLOCK_MONOTONIC);
	}
	return -1;
}

/* A one-shot command: a child process, done when it exits. */
struct child_cmd {
	struct probe_cmd base;
	pid_t pid;
	int status;
};

static bool child_done(struct probe_cmd *c)
{
	struct child_cmd *cc = (struct child_cmd *)c;

	return waitpid(cc->pid, &cc->status, WNOHANG) == cc->pid;
}

static void print_probe(double t0, double t_first, double t_cmd)
{
	if (t_first < 0)
		printf("timeout command_ms %.3f\n", (t_cmd - t0) * 1e3);
	else
		printf("first_ms %.3f command_ms %.3f\n", (t_first - t0) * 1e3, (t_cmd - t0) * 1e3);
	fflush(stdout);
}

static int cmd_probe(int argc, char **argv)
{
	struct child_cmd cmd = { .base = { .poll_fd = -1, .done = child_done } };
	double t0, t_cmd, t_first;
	struct probe p;

	if (argc < 12)
		return 2;
	if (probe_open(&p, argv + 2))
		return 1;
	t0 = now_s(CLOCK_MONOTONIC);
	cmd.pid = fork();
	if (cmd.pid == 0) {
		execvp(argv[11], argv + 11);
		_exit(127);
	}
	t_first = probe_wait(&p, t0 + atof(argv[10]), &cmd.base, &t_cmd);
	if (t_cmd < 0) {
		waitpid(cmd.pid, &cmd.status, 0);
		t_cmd = now_s(CLOCK_MONOTONIC);
	}
	probe_close(&p);
	if (!WIFEXITED(cmd.status) || WEXITSTATUS(cmd.status))
		fprintf(stderr, "mxbench: probe command failed\n");
	print_probe(t0, t_first, t_cmd);
	return t_first < 0;
}

/* A long-lived CLI session fed through a pipe: each command answers one line. */
struct session {
	struct probe_cmd base;
	FILE *in;
	int out;
	char answer[256];
	size_t have;
	const char *next;	/* the second command, "{}" standing for the first one's answer;
				 * NULL: none (a try of one command) */
	int answers;
	bool failed;
};

/* One answer line, read as far as it has come (the CLI flushes after each command). */
static bool session_line(struct session *s)
{
	ssize_t n;

	while (s->have < sizeof(s->answer) - 1 &&
	       (n = read(s->out, s->answer + s->have, 1)) == 1) {
		if (s->answer[s->have] == '\n') {
			s->answer[s->have] = '\0';
			s->have = 0;
			return true;
		}
		s->have++;
	}
	return false;
}

static void session_send(struct session *s, const char *cmd, const char *answer)
{
	const char *mark = strstr(cmd, "{}");

	if (mark)
		fprintf(s->in, "%.*s%s%s\n", (int)(mark - cmd), cmd, answer, mark + 2);
	else
		fprintf(s->in, "%s\n", cmd);
	fflush(s->in);
}

static bool session_done(struct probe_cmd *c)
{
	struct session *s = (struct session *)c;

	int want = s->next ? 2 : 1;

	while (s->answers < want && session_line(s)) {
		if (strstr(s->answer, "rror"))
			s->failed = true;
		if (++s->answers == 1 && s->next)
			session_send(s, s->next, s->answer);
	}
	return s->answers == want;
}

static int session_start(struct session *s, char **cli, pid_t *pid)
{
	int in[2], out[2];

	if (pipe(in) || pipe(out))
		return -errno;
	*pid = fork();
	if (*pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execvp(cli[0], cli);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->in = fdopen(in[1], "w");
	s->out = out[0];
	s->base.poll_fd = out[0];
	s->base.done = session_done;
	fcntl(s->out, F_SETFL, O_NONBLOCK);
	return s->in ? 0 : -errno;
}

/* Waits for one answer line (blocking, up to the deadline): the session's start-up. */
static int session_wait_line(struct session *s, double deadline)
{
	while (now_s(CLOCK_MONOTONIC) < deadline) {
		struct pollfd pfd = { .fd = s->out, .events = POLLIN };

		if (session_line(s))
			return 0;
		if (poll(&pfd, 1, 100) > 0 && (pfd.revents & (POLLHUP | POLLERR)) &&
		    !(pfd.revents & POLLIN))
			return -EPIPE;
	}
	return -ETIMEDOUT;
}

/* probe-session TRIES_FILE TIMEOUT_S FIRST_CMD CLI...: the CLI started once; FIRST_CMD (one
 * answer line) timed as its start-up; then each try of TRIES_FILE (tab-separated: the eight
 * probe arguments, the first command, the second command with "{}" for the first's answer
 * or "-" when the try is one command)
 * probed as cmd_probe does, the clock starting when the first command is written. */
static int cmd_probe_session(int argc, char **argv)
{
	struct session s = { 0 };
	char *line = NULL, *f[10];
	double t0, t_cmd, t_first;
	int rc = 0, tries = 0;
	size_t cap = 0;
	FILE *tries_file;
	pid_t pid = -1;

	if (argc < 6)
		return 2;
	tries_file = fopen(argv[2], "r");
	if (!tries_file || session_start(&s, argv + 5, &pid)) {
		fprintf(stderr, "mxbench: probe-session setup: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_s(CLOCK_MONOTONIC);
	session_send(&s, argv[4], "");
	if (session_wait_line(&s, t0 + atof(argv[3]))) {
		fprintf(stderr, "mxbench: the CLI did not answer its first command\n");
		rc = 1;
	} else {
		printf("startup_ms %.3f\n", (now_s(CLOCK_MONOTONIC) - t0) * 1e3);
	}
	while (!rc && getline(&line, &cap, tries_file) > 0) {
		struct probe p;
		char *save = NULL, *tok = strtok_r(line, "\t\n", &save);
		int n = 0;

		while (tok && n < 10) {
			f[n++] = tok;
			tok = strtok_r(NULL, "\t\n", &save);
		}
		if (n != 10 || probe_open(&p, f)) {
			fprintf(stderr, "mxbench: try %d: bad line or setup\n", tries + 1);
			rc = 1;
			break;
		}
		s.answers = 0;
		s.next = strcmp(f[9], "-") ? f[9] : NULL;
		t0 = now_s(CLOCK_MONOTONIC);
		session_send(&s, f[8], "");
		t_first = probe_wait(&p, t0 + atof(argv[3]), &s.base, &t_cmd);
		if (t_cmd < 0 && !session_wait_line(&s, t0 + 2 * atof(argv[3])))
			t_cmd = now_s(CLOCK_MONOTONIC); /* a late second answer: still counted */
		probe_close(&p);
		if (s.failed)
			fprintf(stderr, "mxbench: try %d: the CLI answered an error\n", tries + 1);
		print_probe(t0, t_first, t_cmd < 0 ? now_s(CLOCK_MONOTONIC) : t_cmd);
		tries++;
	}
	free(line);
	fclose(tries_file);
	fclose(s.in); /* end of input: the CLI exits */
	waitpid(pid, NULL, 0);
	close(s.out);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 2;

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	if (argc >= 2) {
		if (!strcmp(argv[1], "gen"))
			rc = cmd_gen(argc, argv);
		else if (!strcmp(argv[1], "sink"))
			rc = cmd_sink(argc, argv);
		else if (!strcmp(argv[1], "attach"))
			rc = cmd_attach(argc, argv);
		else if (!strcmp(argv[1], "detach") && argc >= 3)
			rc = ifindex_of(argv[2]) ? -bpf_xdp_detach(ifindex_of(argv[2]), 0, NULL) != 0 : 1;
		else if (!strcmp(argv[1], "count"))
			rc = cmd_count(argc, argv);
		else if (!strcmp(argv[1], "wait-count"))
			rc = cmd_wait_count(argc, argv);
		else if (!strcmp(argv[1], "fill-fdb"))
			rc = cmd_fill_fdb(argc, argv);
		else if (!strcmp(argv[1], "probe"))
			rc = cmd_probe(argc, argv);
		else if (!strcmp(argv[1], "tc-attach"))
			rc = cmd_tc_attach(argc, argv);
		else if (!strcmp(argv[1], "probe-session"))
			rc = cmd_probe_session(argc, argv);
	}
	if (rc == 2)
		fprintf(stderr, "usage: see the head of tools/bench/mxbench.c\n");
	return rc;
}
