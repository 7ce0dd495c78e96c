// SPDX-License-Identifier: Apache-2.0
/* Writes of tunnel zones and their members. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "write.h"

struct zone_args {
	const char *name, *type, *zone_id, *host_id;
	struct in_addr addr;
	char *id_out;
};

static int plan_zone_create(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	struct zone_args *a = arg;
	struct topo_zone z = { 0 };
	int rc;

	(void)zh;
	rc = plan_named(t->zones, t->n_zones, sizeof(*t->zones), offsetof(struct topo_zone, name),
			"tunnel zone", "tzone", a->name, z.id);
	if (rc)
		return rc;
	strcpy(z.name, a->name);
	strcpy(z.type, a->type);
	txn_touch(x, t->zones_version, P_ZONES);
	txn_create(x, ZOO_PERSISTENT, topo_encode_zone(&z), P_ZONE, z.id);
	txn_create(x, ZOO_PERSISTENT, NULL, P_MEMBERS, z.id);
	strcpy(a->id_out, z.id);
	return 0;
}

int topo_zone_create(zhandle_t *zh, const char *name, const char *type, char id[TOPO_ID_LEN])
{
	struct zone_args a = { .name = name, .type = type, .id_out = id };
	int rc = check_name(name);

	if (rc)
		return rc;
	if (!type || strcmp(type, "vxlan"))
		return topo_fail(-EINVAL, "bad tunnel zone type '%s': only vxlan",
				 type ? type : "");
	return topo_apply(zh, plan_zone_create, &a);
}

static int plan_zone_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			    void *arg)
{
	const struct topo_zone *z = topo_find_zone_by_id(t, ((struct zone_args *)arg)->zone_id);
	char path[TOPO_PATH_MAX];
	int rc;

	if (!z)
		return topo_fail(-ENOENT, "no tunnel zone %s", ((struct zone_args *)arg)->zone_id);
	snprintf(path, sizeof(path), P_MEMBERS, z->id);
	rc = plan_delete_tree(zh, x, -1, path);
	txn_delete(x, z->version, P_ZONE, z->id);
	return rc;
}

int topo_zone_delete(zhandle_t *zh, const char *zone_id)
{
	struct zone_args a = { .zone_id = zone_id };

	return topo_apply(zh, plan_zone_delete, &a);
}

static int plan_member_add(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			   void *arg)
{
	struct zone_args *a = arg;
	const struct topo_zone *z = topo_find_zone_by_id(t, a->zone_id);
	const struct topo_host *h = topo_find_host_by_id(t, a->host_id);
	struct topo_member m = { .addr = a->addr };
	char za[64], ha[64], other[64], addr[INET_ADDRSTRLEN];
	size_t i;

	(void)zh;
	if (!z)
		return topo_fail(-ENOENT, "no tunnel zone %s", a->zone_id);
	if (!h)
		return topo_fail(-ENOENT, "no host %s", a->host_id);
	inet_ntop(AF_INET, &a->addr, addr, sizeof(addr));
	for (i = 0; i < t->n_members; i++) {
		const struct topo_member *o = &t->members[i];

		if (strcmp(o->zone_id, z->id))
			continue;
		if (!strcmp(o->host_id, h->id))
			return topo_fail(-EEXIST, "host %s is already a member of tunnel zone %s",
					 alias_of(t, h->id, ha), alias_of(t, z->id, za));
		if (o->addr.s_addr == a->addr.s_addr)
			return topo_fail(-EEXIST, "address %s is already host %s's in tunnel zone %s",
					 addr, alias_of(t, o->host_id, other),
					 alias_of(t, z->id, za));
	}
	/* Rewriting the zone serializes its member changes: addresses stay unique. */
	txn_set(x, z->version, topo_encode_zone(z), P_ZONE, z->id);
	txn_check(x, h->version, P_HOST, h->id);
	txn_create(x, ZOO_PERSISTENT, topo_encode_member(&m), P_MEMBER, z->id, h->id);
	return 0;
}

int topo_member_add(zhandle_t *zh, const char *zone_id, const char *host_id,
		    struct in_addr addr)
{
	struct zone_args a = { .zone_id = zone_id, .host_id = host_id, .addr = addr };

	if (!topo_valid_unicast_ipv4(addr))
		return topo_fail(-EINVAL, "bad address %s: not a unicast IPv4 address",
				 inet_ntoa(addr));
	return topo_apply(zh, plan_member_add, &a);
}

static int plan_member_delete(zhandle_t *zh, const struct topology *t, struct topo_txn *x,
			      void *arg)
{
	struct zone_args *a = arg;
	const struct topo_zone *z = topo_find_zone_by_id(t, a->zone_id);
	char za[64], ha[64];
	size_t i;

	(void)zh;
	if (!z)
		return topo_fail(-ENOENT, "no tunnel zone %s", a->zone_id);
	for (i = 0; i < t->n_members; i++) {
		const struct topo_member *m = &t->members[i];

		if (!strcmp(m->zone_id, z->id) && !strcmp(m->host_id, a->host_id)) {
			txn_delete(x, m->version, P_MEMBER, z->id, m->host_id);
			return 0;
		}
	}
	return topo_fail(-ENOENT, "host %s is not a member of tunnel zone %s",
			 alias_of(t, a->host_id, ha), alias_of(t, z->id, za));
}

int topo_member_delete(zhandle_t *zh, const char *zone_id, const char *host_id)
{
	struct zone_args a = { .zone_id = zone_id, .host_id = host_id };

	return topo_apply(zh, plan_member_delete, &a);
}
