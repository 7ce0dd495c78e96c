/* SPDX-License-Identifier: Apache-2.0 */
/* A private network namespace with the interfaces the datapath tests need. */
#ifndef MIDOX_TEST_DP_NET_H
#define MIDOX_TEST_DP_NET_H

#define _GNU_SOURCE
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

/* Enter a new network namespace: everything made afterwards vanishes with the process. */
static inline int dp_netns_enter(void)
{
	if (unshare(CLONE_NEWNET))
		return -1;
	return dp_sh("ip link set lo up");
}

#endif
