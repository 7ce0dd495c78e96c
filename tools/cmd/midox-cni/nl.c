// SPDX-License-Identifier: Apache-2.0
/* rtnetlink, only what a pod's interface needs: a veth pair with one end in another
 * namespace, an interface up, an IPv4 address and routes, a link looked up or deleted, a
 * token bucket (tbf) as the root qdisc of the node's end.
 * One request at a time, each acknowledged; a socket belongs to the namespace it was made
 * in, so the pod's side is reached through a socket made there (nl_open_in). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <sys/random.h>

#include "cni.h"

#define NL_BUF 32768 /* a link dump of one interface with all its attributes fits */

struct nl_msg {
	struct nlmsghdr *h;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static void *msg_init(struct nl_msg *m, int type, int flags, size_t hdr_len)
{
	memset(m->buf, 0, sizeof(m->buf));
	m->h = (struct nlmsghdr *)m->buf;
	m->h->nlmsg_len = NLMSG_LENGTH(hdr_len);
	m->h->nlmsg_type = type;
	m->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(m->h);
}

static struct rtattr *attr_put(struct nl_msg *m, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	m->h->nlmsg_len = NLMSG_ALIGN(m->h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void attr_str(struct nl_msg *m, int type, const char *s)
{
	attr_put(m, type, s, strlen(s) + 1);
}

static void attr_u32(struct nl_msg *m, int type, uint32_t v)
{
	attr_put(m, type, &v, sizeof(v));
}

static struct rtattr *nest_start(struct nl_msg *m, int type)
{
	return attr_put(m, type, NULL, 0);
}

static void nest_end(struct nl_msg *m, struct rtattr *nest)
{
	nest->rta_len = (char *)m->buf + m->h->nlmsg_len - (char *)nest;
}

int nl_open(int *fd)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(s);
		return err;
	}
	*fd = s;
	return 0;
}

/* Enter ns_fd, make the socket there, come back: the socket stays in ns_fd's namespace. */
int nl_open_in(int ns_fd, int *fd)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), rc;

	if (self < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET)) {
		rc = -errno;
		close(self);
		return rc;
	}
	rc = nl_open(fd);
	if (setns(self, CLONE_NEWNET) && !rc) {
		rc = -errno;
		close(*fd);
	}
	close(self);
	return rc;
}

/* Send m and read until its acknowledgement; for a request with a reply (a GETLINK), the
 * reply is copied to reply (NL_BUF bytes) first. 0 or the kernel's -errno. */
static int talk(int fd, struct nl_msg *m, char *reply)
{
	static uint32_t seq;
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	m->h->nlmsg_seq = ++seq;
	if (send(fd, m->buf, m->h->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != m->h->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			if (reply && h->nlmsg_len <= NL_BUF)
				memcpy(reply, h, h->nlmsg_len);
		}
	}
}

int nl_veth_create(int fd, const char *host_if, const char *pod_if, int pod_ns_fd,
		   const uint8_t mac[6], unsigned int mtu)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
					 sizeof(*ifi));
	struct rtattr *info, *data, *peer;
	struct ifinfomsg *pifi;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	attr_str(&m, IFLA_IFNAME, host_if);
	attr_u32(&m, IFLA_MTU, mtu);
	info = nest_start(&m, IFLA_LINKINFO);
	attr_str(&m, IFLA_INFO_KIND, "veth");
	data = nest_start(&m, IFLA_INFO_DATA);
	peer = nest_start(&m, VETH_INFO_PEER);
	/* The peer's own ifinfomsg, then its attributes. */
	pifi = (struct ifinfomsg *)(m.buf + m.h->nlmsg_len);
	memset(pifi, 0, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	m.h->nlmsg_len += NLMSG_ALIGN(sizeof(*pifi));
	attr_str(&m, IFLA_IFNAME, pod_if);
	attr_u32(&m, IFLA_MTU, mtu);
	attr_put(&m, IFLA_ADDRESS, mac, 6);
	attr_u32(&m, IFLA_NET_NS_FD, (uint32_t)pod_ns_fd);
	nest_end(&m, peer);
	nest_end(&m, data);
	nest_end(&m, info);
	return talk(fd, &m, NULL);
}

int nl_link_get(int fd, const char *name, struct nl_link *out)
{
	char reply[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)reply;
	struct nl_msg m;
	struct ifinfomsg *ifi = msg_init(&m, RTM_GETLINK, 0, sizeof(*ifi));
	struct rtattr *a;
	int len, rc;

	ifi->ifi_family = AF_UNSPEC;
	attr_str(&m, IFLA_IFNAME, name);
	h->nlmsg_type = 0;
	rc = talk(fd, &m, reply);
	if (rc)
		return rc;
	if (h->nlmsg_type != RTM_NEWLINK)
		return -ENODEV;
	ifi = NLMSG_DATA(h);
	memset(out, 0, sizeof(*out));
	out->index = ifi->ifi_index;
	out->up = ifi->ifi_flags & IFF_UP;
	len = IFLA_PAYLOAD(h);
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MTU)
			memcpy(&out->mtu, RTA_DATA(a), 4);
		if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
			memcpy(out->mac, RTA_DATA(a), 6);
	}
	return 0;
}

int nl_link_up(int fd, int index)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	return talk(fd, &m, NULL);
}

int nl_link_delete(int fd, const char *name)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = msg_init(&m, RTM_DELLINK, 0, sizeof(*ifi));
	int rc;

	ifi->ifi_family = AF_UNSPEC;
	attr_str(&m, IFLA_IFNAME, name);
	rc = talk(fd, &m, NULL);
	return rc == -ENODEV ? 0 : rc;
}

int nl_addr_add(int fd, int index, struct in_addr addr, int prefix_len)
{
	struct nl_msg m;
	struct ifaddrmsg *ifa = msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
					 sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = prefix_len;
	ifa->ifa_index = index;
	attr_put(&m, IFA_LOCAL, &addr, 4);
	attr_put(&m, IFA_ADDRESS, &addr, 4);
	return talk(fd, &m, NULL);
}

int nl_route_add(int fd, int index, struct in_addr dst, int dst_len, const struct in_addr *gw)
{
	struct nl_msg m;
	struct rtmsg *rt = msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(*rt));

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = dst_len;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (dst_len)
		attr_put(&m, RTA_DST, &dst, 4);
	if (gw)
		attr_put(&m, RTA_GATEWAY, gw, 4);
	attr_u32(&m, RTA_OIF, (uint32_t)index);
	return talk(fd, &m, NULL);
}

/* tbf as index's root qdisc (handle 1:), replacing what is there: rate in bytes per second,
 * burst and limit (the queue) in bytes. The kernel takes the burst in bytes (TCA_TBF_BURST)
 * and a rate above 32 bits in TCA_TBF_RATE64, so no rate table is needed; an Ethernet link
 * layer says so. */
int nl_tbf_set(int fd, int index, uint64_t rate, uint32_t burst, uint32_t limit)
{
	struct nl_msg m;
	struct tcmsg *tc = msg_init(&m, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*tc));
	struct tc_tbf_qopt q = { .limit = limit };
	struct rtattr *opts;

	tc->tcm_family = AF_UNSPEC;
	tc->tcm_ifindex = index;
	tc->tcm_handle = 1u << 16;
	tc->tcm_parent = TC_H_ROOT;
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.rate.rate = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
	attr_str(&m, TCA_KIND, "tbf");
	opts = nest_start(&m, TCA_OPTIONS);
	attr_put(&m, TCA_TBF_PARMS, &q, sizeof(q));
	if (rate > UINT32_MAX)
		attr_put(&m, TCA_TBF_RATE64, &rate, sizeof(rate));
	attr_u32(&m, TCA_TBF_BURST, burst);
	nest_end(&m, opts);
	return talk(fd, &m, NULL);
}

/* A dump of the IPv4 addresses: whether index has addr/prefix_len. */
int nl_addr_has(int fd, int index, struct in_addr addr, int prefix_len)
{
	char buf[NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nl_msg m;
	struct ifaddrmsg *ifa = msg_init(&m, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	bool found = false;
	ssize_t n;

	m.h->nlmsg_flags &= ~NLM_F_ACK;
	ifa->ifa_family = AF_INET;
	if (send(fd, m.buf, m.h->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct rtattr *a;
			int len;

			if (h->nlmsg_type == NLMSG_DONE)
				return found;
			if (h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			ifa = NLMSG_DATA(h);
			if ((int)ifa->ifa_index != index || ifa->ifa_prefixlen != prefix_len)
				continue;
			len = IFA_PAYLOAD(h);
			for (a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == IFA_LOCAL && !memcmp(RTA_DATA(a), &addr, 4))
					found = true;
		}
	}
}

/* A random unicast, locally administered MAC for a veth end: 0, or -EIO recorded. */
int cni_random_mac(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		return cni_fail(-EIO, CNI_ERR_IO, "no random bytes for a MAC");
	mac[0] = (mac[0] & 0xfe) | 0x02;
	return 0;
}
