// SPDX-License-Identifier: Apache-2.0
/* Attaching at tc ingress: clsact (created if missing, never removed by midox) and one
 * cls_bpf direct-action filter with midox's handle and priority, replaced in place. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "base/log.h"

static int print_nothing(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* clsact already there, or no midox filter yet, are expected answers: libbpf would log the
 * kernel's complaint as a warning, so it is kept quiet around these calls. */
static int tc_hook_create_quiet(struct bpf_tc_hook *hook)
{
	libbpf_print_fn_t old = libbpf_set_print(print_nothing);
	int err = bpf_tc_hook_create(hook);

	libbpf_set_print(old);
	return err;
}

static int tc_query_quiet(struct bpf_tc_hook *hook, struct bpf_tc_opts *opts)
{
	libbpf_print_fn_t old = libbpf_set_print(print_nothing);
	int err = bpf_tc_query(hook, opts);

	libbpf_set_print(old);
	return err;
}

static int tc_attach(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MX_TC_HANDLE, .priority = MX_TC_PRIORITY,
		    .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE);
	int err;

	if (prog_fd < 0)
		return -EBADF;
	err = tc_hook_create_quiet(&hook);
	if (err && err != -EEXIST) {
		mx_err("creating clsact on ifindex %d: %s", ifindex, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		mx_err("attaching to ifindex %d: %s", ifindex, strerror(-err));
	return err;
}

int mx_attach_port(struct mx_datapath *dp, int ifindex)
{
	return tc_attach(ifindex, mx_datapath_port_prog_fd(dp));
}

int mx_attach_bgp(struct mx_datapath *dp, int ifindex)
{
	return tc_attach(ifindex, mx_datapath_bgp_prog_fd(dp));
}

/* bpf_fib_lookup answers BPF_FIB_LKUP_RET_FWD_DISABLED unless IPv4 forwarding is on for
 * the interface it is given, which for midox is the underlay. */
static int ipv4_forwarding_enable(int ifindex)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	int fd, err = 0;

	if (!if_indextoname(ifindex, name))
		return -errno;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err)
		mx_err("enabling IPv4 forwarding on %s: %s", name, strerror(-err));
	return err;
}

int mx_attach_underlay(struct mx_datapath *dp, int ifindex)
{
	int err = ipv4_forwarding_enable(ifindex);

	return err ? err : tc_attach(ifindex, mx_datapath_underlay_prog_fd(dp));
}

/* The id of the one XDP program on ifindex (0: none, or one in each of several modes), as
 * bpf_xdp_query_id(ifindex, 0) gives it, from RTM_GETLINK for that link alone, without its
 * statistics. libbpf's query dumps every link of the namespace and keeps one: at hundreds
 * of interfaces that was the largest part of the agent's pass after the status report. */
static int xdp_prog_id(int ifindex, __u32 *id)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr mask_attr;
		__u32 mask;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
		.mask_attr = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = IFLA_EXT_MASK },
		.mask = RTEXT_FILTER_SKIP_STATS,
	};
	char buf[32768] __attribute__((aligned(4)));
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *a, *x;
	int fd, err = 0, len, left, xleft;

	*id = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0 || (len = (int)recv(fd, buf, sizeof(buf), 0)) < 0) {
		err = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (unsigned int)len)) {
		err = -EBADMSG;
		goto out;
	}
	if (nh->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(nh);

		err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EBADMSG;
		goto out;
	}
	if (nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
		err = -EBADMSG;
		goto out;
	}
	left = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if ((a->rta_type & NLA_TYPE_MASK) != IFLA_XDP)
			continue;
		xleft = (int)RTA_PAYLOAD(a);
		for (x = RTA_DATA(a); RTA_OK(x, xleft); x = RTA_NEXT(x, xleft))
			if (x->rta_type == IFLA_XDP_PROG_ID && RTA_PAYLOAD(x) >= sizeof(__u32))
				memcpy(id, RTA_DATA(x), sizeof(*id));
	}
out:
	close(fd);
	return err;
}

/* The id of the XDP program on ifindex (0: none) and whether it is midox's underlay_xdp. */
static int xdp_prog_on(int ifindex, __u32 *id, bool *ours)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int err = xdp_prog_id(ifindex, id), fd;

	*ours = false;
	if (err || !*id)
		return err;
	fd = bpf_prog_get_fd_by_id(*id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else
		*ours = info.type == BPF_PROG_TYPE_XDP && !strcmp(info.name, "underlay_xdp");
	close(fd);
	return err;
}

int mx_attach_underlay_xdp(struct mx_datapath *dp, int ifindex)
{
	int fd = mx_datapath_underlay_xdp_prog_fd(dp), err;
	bool ours;
	__u32 id;

	struct bpf_prog_info mine = { 0 };
	__u32 len = sizeof(mine);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &mine, &len))
		return -EBADF;
	err = xdp_prog_on(ifindex, &id, &ours);
	if (!err && id == mine.id)
		return 0; /* already this very program */
	if (!err && id && !ours)
		err = -EBUSY;
	if (!err) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = -1);

		err = bpf_xdp_attach(ifindex, fd, 0, &opts);
	}
	if (err)
		mx_err("attaching underlay_xdp to ifindex %d: %s", ifindex,
		       err == -EBUSY ? "another XDP program is attached" : strerror(-err));
	return err;
}

int mx_detach_underlay_xdp(int ifindex)
{
	bool ours;
	__u32 id;
	int err = xdp_prog_on(ifindex, &id, &ours);

	if (err)
		return err;
	if (!id || !ours)
		return -ENOENT;
	err = bpf_xdp_detach(ifindex, 0, NULL);
	if (err)
		mx_err("detaching underlay_xdp from ifindex %d: %s", ifindex, strerror(-err));
	return err;
}

bool mx_underlay_xdp_attached(int ifindex)
{
	bool ours;
	__u32 id;

	return !xdp_prog_on(ifindex, &id, &ours) && ours;
}

bool mx_attached(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MX_TC_HANDLE, .priority = MX_TC_PRIORITY);

	return tc_query_quiet(&hook, &opts) == 0;
}

bool mx_attached_runs(int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MX_TC_HANDLE, .priority = MX_TC_PRIORITY);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (prog_fd < 0 || tc_query_quiet(&hook, &opts) || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	return opts.prog_id == info.id;
}

int mx_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MX_TC_HANDLE, .priority = MX_TC_PRIORITY);
	int err;

	if (!mx_attached(ifindex))
		return -ENOENT;
	err = bpf_tc_detach(&hook, &opts);
	if (err)
		mx_err("detaching from ifindex %d: %s", ifindex, strerror(-err));
	return err;
}

int mx_attached_prog_fd(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = MX_TC_HANDLE, .priority = MX_TC_PRIORITY);
	int err = tc_query_quiet(&hook, &opts), fd;

	if (err)
		return err == -EINVAL ? -ENOENT : err;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	return fd < 0 ? -errno : fd;
}
