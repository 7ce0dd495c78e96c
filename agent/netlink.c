// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

int link_events_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int fd, err;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int link_events_drain(int fd)
{
	char buf[8192];
	ssize_t n;
	int any = 0;

	/* ENOBUFS: the socket overflowed and events were lost, which says links changed. */
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 || (n < 0 && errno == ENOBUFS))
		any = 1;
	return any;
}

struct neigh_request {
	struct nlmsghdr nh;
	struct ndmsg ndm;
	struct rtattr dst_attr;
	__be32 dst;
};

static int netlink_ack(int fd)
{
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t len = recv(fd, buf, sizeof(buf), 0);

	if (len < 0)
		return -errno;
	if (len < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || nh->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
}

int neigh_use(int ifindex, __be32 addr)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct neigh_request req = {
		.nh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_NEWNEIGH,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
		},
		.ndm = {
			.ndm_family = AF_INET,
			.ndm_ifindex = ifindex,
			.ndm_state = NUD_PERMANENT, /* ignored with NTF_USE, as iproute2 sends it */
			.ndm_flags = NTF_USE,
		},
		.dst_attr = { .rta_len = RTA_LENGTH(sizeof(__be32)), .rta_type = NDA_DST },
		.dst = addr,
	};
	int fd, err;

	_Static_assert(sizeof(struct neigh_request) ==
		       NLMSG_LENGTH(sizeof(struct ndmsg)) + RTA_LENGTH(sizeof(__be32)),
		       "neigh_request has no padding");
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	else
		err = netlink_ack(fd);
	close(fd);
	return err;
}
