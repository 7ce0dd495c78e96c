/* SPDX-License-Identifier: Apache-2.0 */
/* A private network namespace with the interfaces the datapath tests need. */
#ifndef MIDOX_TEST_DP_NET_H
#define MIDOX_TEST_DP_NET_H

#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

/* Run a shell command built from fmt; 0 when it exited 0. */
static inline int dp_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd) == 0 ? 0 : -1;
}

/* A veth pair named name / name"v" with the host side's MAC, both ends up. */
static inline int dp_veth(const char *name, const char *mac)
{
	return dp_sh("ip link add %s address %s type veth peer name %sv && "
		     "ip link set %s up && ip link set %sv up",
		     name, mac, name, name, name);
}

/* n veth pairs (dp_veth) named names[i] with MACs macs[i]; their ifindexes into ifx. */
static inline int dp_veths(const char *const *names, const char *const *macs, int n, int *ifx)
{
	for (int i = 0; i < n; i++) {
		if (dp_veth(names[i], macs[i]))
			return -1;
		ifx[i] = (int)if_nametoindex(names[i]);
	}
	return 0;
}

/* The underlay: address/24 on ifname, a permanent neighbour peer at peer_mac. (bpf_fib_lookup
 * also needs IPv4 forwarding on it, which mx_attach_underlay sets.) */
static inline int dp_underlay(const char *ifname, const char *addr, const char *peer,
			      const char *peer_mac)
{
	return dp_sh("ip addr add %s/24 dev %s && "
		     "ip neigh replace %s lladdr %s dev %s nud permanent",
		     addr, ifname, peer, peer_mac, ifname);
}

/* Enter a new network namespace: everything made afterwards vanishes with the process.
 * IPv6 is off, so that no autoconfiguration chatter reaches a program attached for real. */
static inline int dp_netns_enter(void)
{
	if (unshare(CLONE_NEWNET))
		return -1;
	return dp_sh("ip link set lo up && { [ ! -d /proc/sys/net/ipv6 ] || "
		     "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
		     "net.ipv6.conf.default.disable_ipv6=1; }");
}

/* Send frame as it is out of ifname (AF_PACKET, SOCK_RAW): on a veth it arrives at the
 * peer's ingress, tc included. AF_PACKET (dev_validate_header) and veth_xmit refuse frames
 * shorter than ETH_HLEN. */
static inline int dp_wire_send(const char *ifname, const void *frame, size_t len)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_ifindex = (int)if_nametoindex(ifname),
				   .sll_halen = ETH_ALEN };
	int fd = socket(AF_PACKET, SOCK_RAW, 0), err = 0;

	if (fd < 0)
		return -errno;
	memcpy(sll.sll_addr, frame, len < ETH_ALEN ? len : ETH_ALEN);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

/* Hand frame (1 to 2048 bytes) to ifindex's receive path as a real skb, so that it meets
 * the programs attached at tc ingress there: a four-instruction LWT_XMIT program, run once
 * with BPF_PROG_TEST_RUN, bpf_clone_redirect()s its packet with BPF_F_INGRESS. The test run
 * gives an LWT program its input behind the first ETH_HLEN bytes, hence the padding. Unlike
 * dp_wire_send this passes frames shorter than ETH_HLEN: the redirect checks only that a
 * link-layer header was carried and the packet is not empty. Returns 0 or -errno. */
static inline int dp_ingress_inject(int ifindex, const void *frame, size_t len)
{
	const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = ifindex },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = BPF_F_INGRESS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_clone_redirect },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	uint8_t in[ETH_HLEN + 2048] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = ETH_HLEN + len);
	int fd, err;

	if (len == 0 || len > sizeof(in) - ETH_HLEN)
		return -EINVAL;
	memcpy(in + ETH_HLEN, frame, len);
	fd = bpf_prog_load(BPF_PROG_TYPE_LWT_XMIT, "dp_inject", "GPL", prog,
			   sizeof(prog) / sizeof(prog[0]), NULL);
	if (fd < 0)
		return fd;
	err = bpf_prog_test_run_opts(fd, &opts);
	close(fd);
	return err ? err : (int)opts.retval; /* bpf_clone_redirect's own result */
}

#endif
