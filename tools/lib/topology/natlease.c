// SPDX-License-Identifier: Apache-2.0
/* Dynamic SNAT's port-block leases in ZooKeeper (natlease.h). Not part of the snapshot
 * topo_read builds: only the leasing agent and the CLI read them, per address. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/log.h"
#include "layout.h"
#include "natlease.h"
#include "topo_impl.h"

int topo_nat_block_parse(const char *name, uint16_t *block)
{
	unsigned long v = 0;
	size_t i, n = strlen(name);

	if (!n || n > 4 || (name[0] == '0' && n > 1))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(name[i] - '0');
	}
	if (v >= TOPO_NAT_BLOCKS)
		return -EINVAL;
	*block = (uint16_t)v;
	return 0;
}

char *topo_nat_lease_encode(const char *host_id)
{
	json_t *o = json_pack("{s:i, s:s}", "schema", 1, "host", host_id);
	char *out;

	if (!o)
		return NULL;
	out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return out;
}

int topo_nat_lease_decode(const char *buf, size_t len, char host_id[TOPO_ID_LEN])
{
	json_t *o = json_loadb(buf, len, 0, NULL), *schema, *host;
	int rc = 0;

	if (!o || !json_is_object(o)) {
		rc = topo_fail(-EINVAL, "not a JSON object");
		goto out;
	}
	schema = json_object_get(o, "schema");
	host = json_object_get(o, "host");
	if (!json_is_integer(schema) || json_integer_value(schema) != 1)
		rc = topo_fail(-EINVAL, "schema is not 1");
	else if (!json_is_string(host) || !topo_valid_uuid(json_string_value(host)))
		rc = topo_fail(-EINVAL, "no host id");
	else
		snprintf(host_id, TOPO_ID_LEN, "%s", json_string_value(host));
out:
	json_decref(o);
	return rc;
}

static const char *addr_str(struct in_addr addr, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr, buf, INET_ADDRSTRLEN);
}

/* Under access control ZooKeeper checks the right to create before whether the node
 * exists: an agent may not create /midox/nat, so one that is there is only looked at. */
static int ensure_node(zhandle_t *zh, const char *path)
{
	int rc = zoo_exists(zh, path, 0, NULL);

	if (rc == ZNONODE)
		rc = zoo_create(zh, path, topo_container_json,
				(int)strlen(topo_container_json), topo_acl_for(path),
				ZOO_PERSISTENT, NULL, 0);

	if (rc != ZOK && rc != ZNODEEXISTS)
		return topo_fail(topo_zerr(rc), "creating %s: %s", path, zerror(rc));
	return 0;
}

int topo_nat_lease_take(zhandle_t *zh, struct in_addr addr, unsigned int block,
			const char *host_id)
{
	char path[TOPO_PATH_MAX], parent[TOPO_PATH_MAX], a[INET_ADDRSTRLEN], *data;
	int rc = ZNONODE, err;

	if (block >= TOPO_NAT_BLOCKS || !topo_valid_uuid(host_id))
		return topo_fail(-EINVAL, "bad block %u or host id", block);
	addr_str(addr, a);
	snprintf(path, sizeof(path), P_NAT_BLOCK, a, block);
	snprintf(parent, sizeof(parent), P_NAT_ADDR, a);
	data = topo_nat_lease_encode(host_id);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	/* The parents are made on a miss only; one may vanish under us (pruned by a host
	 * whose last block went): made again, once. */
	for (int i = 0; i < 3 && rc == ZNONODE; i++) {
		if (i == 1) {
			err = ensure_node(zh, P_NAT);
			err = err ? err : ensure_node(zh, parent);
			if (err) {
				free(data);
				return err; /* its message is set: -EACCES, refused, included */
			}
		}
		rc = zoo_create(zh, path, data, (int)strlen(data), topo_acl_for(path),
				ZOO_EPHEMERAL, NULL, 0);
	}
	free(data);
	if (rc == ZNODEEXISTS)
		return topo_fail(-EEXIST, "%s is held", path);
	if (rc != ZOK)
		return topo_fail(rc == ZNONODE ? -ENOENT : topo_zerr(rc), "creating %s: %s", path,
				 zerror(rc));
	return 0;
}

int topo_nat_lease_drop(zhandle_t *zh, struct in_addr addr, unsigned int block)
{
	char path[TOPO_PATH_MAX], a[INET_ADDRSTRLEN];
	struct Stat st;
	int rc;

	snprintf(path, sizeof(path), P_NAT_BLOCK, addr_str(addr, a), block);
	rc = zoo_exists(zh, path, 0, &st);
	if (rc == ZNONODE)
		return 0;
	if (rc == ZOK && st.ephemeralOwner != zoo_client_id(zh)->client_id)
		return topo_fail(-EPERM, "%s is another session's", path);
	if (rc == ZOK)
		rc = zoo_delete(zh, path, st.version);
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "deleting %s: %s", path, zerror(rc));
	return 0;
}

int topo_nat_address_prune(zhandle_t *zh, struct in_addr addr)
{
	char path[TOPO_PATH_MAX], a[INET_ADDRSTRLEN];
	int rc;

	snprintf(path, sizeof(path), P_NAT_ADDR, addr_str(addr, a));
	rc = zoo_delete(zh, path, -1);
	if (rc != ZOK && rc != ZNONODE && rc != ZNOTEMPTY)
		return topo_fail(topo_zerr(rc), "deleting %s: %s", path, zerror(rc));
	return 0;
}

static int cmp_lease(const void *a, const void *b)
{
	const struct topo_nat_lease *x = a, *y = b;

	return (int)x->block - (int)y->block;
}

/* One block node into *l; non-zero (logged) when it does not parse. */
static int lease_read_one(zhandle_t *zh, const char *dir, const char *name,
			  struct topo_nat_lease *l)
{
	char path[TOPO_PATH_MAX], buf[TOPO_DATA_MAX];
	int len = sizeof(buf), rc;
	struct Stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (topo_nat_block_parse(name, &l->block)) {
		mx_warn("skipping %s: not a block number (0..%u)", path, TOPO_NAT_BLOCKS - 1);
		return -EINVAL;
	}
	rc = zoo_get(zh, path, 0, buf, &len, &st);
	if (rc == ZNONODE)
		return -ENOENT; /* released meanwhile: not an error */
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	if (len < 0 || len >= (int)sizeof(buf) ||
	    topo_nat_lease_decode(buf, (size_t)len, l->host_id)) {
		mx_warn("skipping %s: %s", path, len < 0 ? "no data" : topo_errmsg());
		return -EINVAL;
	}
	if (!st.ephemeralOwner) {
		mx_warn("skipping %s: not ephemeral (written around midox)", path);
		return -EINVAL;
	}
	l->mine = st.ephemeralOwner == zoo_client_id(zh)->client_id;
	return 0;
}

int topo_nat_leases_read(zhandle_t *zh, struct in_addr addr, struct topo_nat_lease **out,
			 size_t *n, size_t *skipped)
{
	char dir[TOPO_PATH_MAX], a[INET_ADDRSTRLEN];
	struct String_vector kids = { 0 };
	struct topo_nat_lease *v;
	int rc;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), P_NAT_ADDR, addr_str(addr, a));
	rc = zoo_get_children(zh, dir, 0, &kids);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", dir, zerror(rc));
	v = calloc(kids.count ? (size_t)kids.count : 1, sizeof(*v));
	if (!v) {
		deallocate_String_vector(&kids);
		return topo_fail(-ENOMEM, "out of memory");
	}
	for (int i = 0; i < kids.count; i++) {
		rc = lease_read_one(zh, dir, kids.data[i], &v[*n]);
		if (!rc)
			(*n)++;
		else if (rc == -EINVAL)
			(*skipped)++;
		else if (rc != -ENOENT)
			break;
		rc = 0;
	}
	deallocate_String_vector(&kids);
	if (rc) {
		free(v);
		*n = 0;
		return rc;
	}
	qsort(v, *n, sizeof(*v), cmp_lease);
	*out = v;
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

int topo_nat_addresses_read(zhandle_t *zh, struct in_addr **out, size_t *n, size_t *skipped)
{
	struct String_vector kids = { 0 };
	struct in_addr *v;
	char back[INET_ADDRSTRLEN];
	int rc;

	*out = NULL;
	*n = 0;
	rc = zoo_get_children(zh, P_NAT, 0, &kids);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "listing %s: %s", P_NAT, zerror(rc));
	v = calloc(kids.count ? (size_t)kids.count : 1, sizeof(*v));
	if (!v) {
		deallocate_String_vector(&kids);
		return topo_fail(-ENOMEM, "out of memory");
	}
	for (int i = 0; i < kids.count; i++) {
		/* The dotted quad exactly as inet_ntop writes it: one node per address. */
		if (inet_pton(AF_INET, kids.data[i], &v[*n]) != 1 ||
		    strcmp(addr_str(v[*n], back), kids.data[i])) {
			mx_warn("skipping %s/%s: not an IPv4 address", P_NAT, kids.data[i]);
			(*skipped)++;
			continue;
		}
		(*n)++;
	}
	deallocate_String_vector(&kids);
	qsort(v, *n, sizeof(*v), cmp_addr);
	*out = v;
	return 0;
}
