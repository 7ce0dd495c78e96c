// SPDX-License-Identifier: Apache-2.0
/* Reading BIRD's kernel table over rtnetlink rather than its control socket: the table
 * holds exactly what BIRD selected (best paths, ECMP merged by "merge paths", withdrawn
 * routes gone), in a binary format with no text to parse, and one dump reads thousands of
 * routes at once. A BIRD killed leaves its routes in the table: the agent reads it only
 * while that BIRD runs (learned.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "base/log.h"
#include "conf.h"
#include "routes.h"

#ifndef RTPROT_BIRD
#define RTPROT_BIRD 12
#endif

int bgp_routes_open(const char *netns_path)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int ns = open(netns_path, O_RDONLY | O_CLOEXEC), fd = -1, err = 0;

	if (self < 0 || ns < 0) {
		err = -errno;
		goto out;
	}
	if (setns(ns, CLONE_NEWNET) < 0) {
		err = -errno;
		goto out;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		err = -errno;
	/* Back home: everything else this thread does is in the agent's namespace. */
	if (setns(self, CLONE_NEWNET) < 0) {
		mx_err("BGP: cannot return to the agent's network namespace: %s", strerror(errno));
		abort();
	}
out:
	if (self >= 0)
		close(self);
	if (ns >= 0)
		close(ns);
	return err ? err : fd;
}

static int push(struct bgp_rib_entry **arr, size_t *n, size_t *cap, const struct topo_cidr *dst,
		const void *gw)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct bgp_rib_entry *p = realloc(*arr, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = c;
	}
	(*arr)[*n].dst = *dst;
	memcpy(&(*arr)[*n].gw, gw, 4);
	(*n)++;
	return 0;
}

/* The gateways of one RTM_NEWROUTE of our table. */
static int take_route(struct nlmsghdr *h, struct bgp_rib_entry **arr, size_t *n, size_t *cap)
{
	struct rtmsg *rt = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h), err = 0;
	struct topo_cidr dst = { .len = rt->rtm_dst_len };
	const void *gw = NULL;
	struct rtattr *a, *mp = NULL;
	__u32 table = rt->rtm_table;

	if (rt->rtm_family != AF_INET || rt->rtm_protocol != RTPROT_BIRD || rt->rtm_dst_len > 32)
		return 0;
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) >= 4)
			memcpy(&table, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) >= 4)
			memcpy(&dst.addr, RTA_DATA(a), 4);
		else if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= 4)
			gw = RTA_DATA(a);
		else if (a->rta_type == RTA_MULTIPATH)
			mp = a;
	}
	if (table != BGP_KERNEL_TABLE)
		return 0;
	if (gw)
		return push(arr, n, cap, &dst, gw);
	if (!mp)
		return 0;
	/* ECMP: one next hop per peer, each with its gateway. */
	for (struct rtnexthop *nh = RTA_DATA(mp); !err && RTNH_OK(nh, (int)RTA_PAYLOAD(mp) -
	     (int)((char *)nh - (char *)RTA_DATA(mp))); nh = RTNH_NEXT(nh)) {
		int alen = nh->rtnh_len - (int)sizeof(*nh);

		for (a = RTNH_DATA(nh); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
			if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= 4)
				err = push(arr, n, cap, &dst, RTA_DATA(a));
	}
	return err;
}

int bgp_routes_dump(int fd, struct bgp_rib_entry **out, size_t *n)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETROUTE,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.rt = { .rtm_family = AF_INET },
	};
	char *buf = malloc(64 * 1024);
	struct bgp_rib_entry *arr = NULL;
	size_t count = 0, cap = 0;
	bool done = false;
	int err = 0;
	ssize_t got;

	if (!buf)
		return -ENOMEM;
	if (send(fd, &req, sizeof(req), 0) < 0)
		err = -errno;
	while (!err && !done) {
		struct nlmsghdr *h;
		int len;

		got = recv(fd, buf, 64 * 1024, 0);
		if (got < 0) {
			err = -errno;
			break;
		}
		len = (int)got;
		for (h = (struct nlmsghdr *)buf; !err && NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				break;
			}
			if (h->nlmsg_type == RTM_NEWROUTE)
				err = take_route(h, &arr, &count, &cap);
		}
	}
	free(buf);
	if (err) {
		free(arr);
		return err;
	}
	*out = arr;
	*n = count;
	return 0;
}
