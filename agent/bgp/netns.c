// SPDX-License-Identifier: Apache-2.0
/* The speaker's namespace through iproute2: `ip netns add` makes the named namespace the
 * way every tool knows it (/run/netns/NAME, so `ip netns exec` and `birdc` reach it), and
 * a handful of `ip` commands set the pair up. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "exec.h"
#include "netns.h"

void bgp_netns_name(const char *host_id, uint32_t port_key, char name[BGP_NETNS_NAME_LEN])
{
	snprintf(name, BGP_NETNS_NAME_LEN, "mxbgp-%.8s-%06x", host_id, port_key & 0xFFFFFF);
}

static bool netns_exists(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return !stat(path, &st);
}

#define IP(x, ...) bgp_run((char *const[]){ (char *)(x)->ip, __VA_ARGS__, NULL })

int bgp_netns_ensure(const struct bgp_tools *x, const char *name, const struct bgp_want *w)
{
	char host_if[16], mac[18], addr[TOPO_CIDR_STRLEN];
	int err = 0;
	size_t i;

	bgp_speaker_if(w->port_key, host_if);
	topo_format_mac(w->mac, mac);
	if (!netns_exists(name)) {
		err = IP(x, "netns", "add", (char *)name);
		/* No IPv6 on bgp0: its router solicitations and reports would only be dropped
		 * by the datapath (bgp-not-peer). Before the pair exists: a new interface takes
		 * the namespace's defaults. Without sysctl it only costs those drops. */
		if (!err && IP(x, "netns", "exec", (char *)name, "sysctl", "-qw",
			       "net.ipv6.conf.default.disable_ipv6=1",
			       "net.ipv6.conf.all.disable_ipv6=1"))
			mx_warn("BGP: cannot turn IPv6 off in namespace %s", name);
	}
	if (!err)
		err = IP(x, "-n", (char *)name, "link", "set", "lo", "up");
	if (!err && !if_nametoindex(host_if))
		err = IP(x, "link", "add", host_if, "type", "veth", "peer", "name", BGP_NETNS_IF,
			 "netns", (char *)name);
	if (!err)
		err = IP(x, "-n", (char *)name, "link", "set", BGP_NETNS_IF, "address", mac);
	/* Exactly the port's addresses: flushed, then added. */
	if (!err)
		err = IP(x, "-n", (char *)name, "addr", "flush", "dev", BGP_NETNS_IF);
	for (i = 0; !err && i < w->n_nets; i++) {
		topo_format_cidr(&w->nets[i], addr);
		err = IP(x, "-n", (char *)name, "addr", "add", addr, "dev", BGP_NETNS_IF);
	}
	if (!err)
		err = IP(x, "-n", (char *)name, "link", "set", BGP_NETNS_IF, "up");
	if (!err)
		err = IP(x, "link", "set", host_if, "up");
	if (err)
		mx_warn("BGP: cannot set up namespace %s for port %s (see ip's message above)",
			name, w->port_id);
	return err;
}

void bgp_netns_remove(const struct bgp_tools *x, const char *name, uint32_t port_key)
{
	char host_if[16];

	bgp_speaker_if(port_key, host_if);
	if (if_nametoindex(host_if))
		IP(x, "link", "del", host_if);
	if (netns_exists(name))
		IP(x, "netns", "del", (char *)name);
}
