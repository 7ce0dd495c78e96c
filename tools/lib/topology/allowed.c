// SPDX-License-Identifier: Apache-2.0
/* A bridge port's allowed address pairs (Neutron's allowed-address-pairs): addresses, each
 * with a MAC or the port's own, it may send as besides its fixed ones. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "write.h"

struct allowed_args {
	const char *port_id;
	struct in_addr addr;
	const uint8_t *mac; /* add: NULL for the port's own */
	bool add;
};

/* The index of addr among p's pairs, or -1. */
static int allowed_find(const struct topo_port *p, struct in_addr addr)
{
	for (size_t i = 0; i < p->n_allowed; i++)
		if (p->allowed[i].addr.s_addr == addr.s_addr)
			return (int)i;
	return -1;
}

static int allowed_add(const struct topology *t, struct topo_port *p,
		       const struct allowed_args *a)
{
	struct topo_allowed *e;
	char pa[64];

	if (allowed_find(p, a->addr) >= 0)
		return topo_fail(-EEXIST, "%s is already an allowed address of port %s",
				 inet_ntoa(a->addr), alias_of(t, p->id, pa));
	if (p->n_allowed >= TOPO_PORT_MAX_ALLOWED)
		return topo_fail(-ENOSPC, "port %s has %d allowed addresses already, the most "
				 "it can have", alias_of(t, p->id, pa), TOPO_PORT_MAX_ALLOWED);
	e = &p->allowed[p->n_allowed++];
	memset(e, 0, sizeof(*e));
	e->addr = a->addr;
	e->has_mac = a->mac != NULL;
	if (a->mac)
		memcpy(e->mac, a->mac, 6);
	return 0;
}

static int allowed_delete(const struct topology *t, struct topo_port *p,
			  const struct allowed_args *a)
{
	int i = allowed_find(p, a->addr);
	char pa[64];

	if (i < 0)
		return topo_fail(-ENOENT, "%s is not an allowed address of port %s",
				 inet_ntoa(a->addr), alias_of(t, p->id, pa));
	memmove(&p->allowed[i], &p->allowed[i + 1],
		(p->n_allowed - (size_t)i - 1) * sizeof(p->allowed[0]));
	p->n_allowed--;
	return 0;
}

static int allowed_change(const struct topology *t, struct topo_txn *x, struct topo_port *p,
			  const void *arg)
{
	const struct allowed_args *a = arg;
	char pa[64];

	(void)x;
	if (p->device_type != TOPO_DEVICE_BRIDGE)
		return topo_fail(-EINVAL, "port %s is a router port: allowed addresses are a "
				 "bridge port's", alias_of(t, p->id, pa));
	return a->add ? allowed_add(t, p, a) : allowed_delete(t, p, a);
}

static int plan_allowed(zhandle_t *zh, const struct topology *t, struct topo_txn *x, void *arg)
{
	const struct allowed_args *a = arg;

	(void)zh;
	return plan_port_change(t, x, a->port_id, allowed_change, a);
}

int topo_port_allowed_add(zhandle_t *zh, const char *port_id, struct in_addr addr,
			  const uint8_t *mac)
{
	struct allowed_args a = { .port_id = port_id, .addr = addr, .mac = mac, .add = true };
	char s[18];

	if (!topo_valid_unicast_ipv4(addr))
		return topo_fail(-EINVAL, "bad address %s: not a unicast IPv4 address",
				 inet_ntoa(addr));
	if (mac && !topo_valid_unicast_mac(mac)) {
		topo_format_mac(mac, s);
		return topo_fail(-EINVAL, "bad MAC %s: must be unicast and not zero", s);
	}
	return topo_apply(zh, plan_allowed, &a);
}

int topo_port_allowed_delete(zhandle_t *zh, const char *port_id, struct in_addr addr)
{
	struct allowed_args a = { .port_id = port_id, .addr = addr };

	return topo_apply(zh, plan_allowed, &a);
}
