// SPDX-License-Identifier: Apache-2.0
/* One pod subnet shared by every node, split by node ("nodeBlockSize", docs/kubernetes.md).
 * host-local keeps its leases on the node, so one conflist on every node would lease the
 * same addresses twice; instead each node claims one block of the subnet in ZooKeeper,
 * /midox/cni/<network>/blocks/<a.b.c.d>-<len> holding {"schema":1,"host":"<host id>"}
 * (made by a create, which fails when the node exists: two nodes never hold one block),
 * and ADD hands host-local the subnet as it is (one L2 segment for all pods) with
 * rangeStart and rangeEnd the block's. A block stays with its node, as host-local's
 * leases do; an operator frees one by deleting its node. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "base/fs.h"
#include "base/log.h"
#include "topology/layout.h"

#define BLOCK_MAX_LEN 30	/* 4 addresses: at least one to lease after the reserved */
#define BLOCK_MAX_SPLIT 16	/* at most 65536 blocks: the search stays short */
#define BLOCK_NAME_MAX 24
#define CACHE_PREFIX ".block-"	/* a dot: the attachments' walk (state.c) skips it */

static uint32_t ip_of(struct in_addr a)
{
	return ntohl(a.s_addr);
}

static void ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = { htonl(ip) };

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Addresses in a prefix of len (2^32 for /0: 64 bits). */
static uint64_t block_size(unsigned int len)
{
	return 1ull << (32 - len);
}

/* An optional IPv4 address of the range: absent leaves *out as it is. */
static int range_addr(json_t *range, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(range, key);
	struct in_addr a;

	if (!v)
		return 0;
	if (!json_is_string(v) || topo_parse_ipv4(json_string_value(v), &a))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "nodeBlockSize: the IPAM range's \"%s\" "
				"must be an IPv4 address (midox carries IPv4)", key);
	*out = ip_of(a);
	return 0;
}

/* The one object holding "subnet": host-local's "ranges" with one range set of one range,
 * or its legacy top-level "subnet". Other shapes have no single pool to split. */
static json_t *pool_range(json_t *ipam)
{
	json_t *ranges = json_object_get(ipam, "ranges"), *set;

	if (!ranges)
		return json_object_get(ipam, "subnet") ? ipam : NULL;
	set = json_array_get(ranges, 0);
	if (json_object_get(ipam, "subnet") || json_array_size(ranges) != 1 ||
	    json_array_size(set) != 1 || !json_is_object(json_array_get(set, 0)))
		return NULL;
	return json_array_get(set, 0);
}

static int pool_subnet(struct cni_block_pool *p)
{
	json_t *v = json_object_get(p->range, "subnet");
	struct topo_cidr c;

	if (!json_is_string(v) || topo_parse_cidr(json_string_value(v), &c))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "nodeBlockSize: the IPAM range's "
				"\"subnet\" must be an IPv4 subnet a.b.c.d/len (midox carries "
				"IPv4)");
	if (!topo_cidr_is_network(&c))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "nodeBlockSize: the IPAM subnet %s has "
				"host bits set", json_string_value(v));
	p->net = ip_of(c.addr);
	p->net_len = c.len;
	if (p->block_len <= p->net_len || p->block_len > BLOCK_MAX_LEN)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeBlockSize\" %u must be a prefix "
				"length above the subnet's (%s) and at most %d", p->block_len,
				json_string_value(v), BLOCK_MAX_LEN);
	if (p->block_len - p->net_len > BLOCK_MAX_SPLIT)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeBlockSize\" %u splits %s into "
				"more than %u blocks: take a larger block", p->block_len,
				json_string_value(v), 1u << BLOCK_MAX_SPLIT);
	return 0;
}

int cni_block_pool_read(json_t *ipam, unsigned int block_len, struct cni_block_pool *p)
{
	uint32_t bcast, start, end;
	int rc;

	memset(p, 0, sizeof(*p));
	p->block_len = block_len;
	p->range = json_is_object(ipam) ? pool_range(ipam) : NULL;
	if (!p->range)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeBlockSize\" needs host-local's "
				"shape of \"ipam\": \"ranges\" with one range set of one range, "
				"or a top-level \"subnet\"");
	rc = pool_subnet(p);
	if (rc)
		return rc;
	bcast = (uint32_t)(p->net + block_size(p->net_len) - 1);
	/* host-local's defaults: the gateway and the first address the subnet's first host,
	 * the last its last host. A rangeStart or rangeEnd given bounds every block. */
	p->gw = p->net + 1;
	start = p->net + 1;
	end = bcast - 1;
	rc = range_addr(p->range, "gateway", &p->gw);
	if (!rc)
		rc = range_addr(p->range, "rangeStart", &start);
	if (!rc)
		rc = range_addr(p->range, "rangeEnd", &end);
	if (rc)
		return rc;
	if (start < p->net || start > bcast || end < p->net || end > bcast || start > end)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "nodeBlockSize: the IPAM range's "
				"rangeStart and rangeEnd must lie in its subnet, in order");
	p->first = start > p->net ? start : p->net + 1;
	p->last = end < bcast ? end : bcast - 1;
	return 0;
}

/* The CNI specification's network name: letters, digits, '_', '.', '-', starting with a
 * letter or digit; here also a ZooKeeper node's name. */
static bool valid_net_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") > 0 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int cni_block_conf_parse(struct cni_conf *c)
{
	json_t *v = json_object_get(c->root, "nodeBlockSize");
	struct cni_block_pool p;

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > BLOCK_MAX_LEN)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeBlockSize\" must be an integer "
				"prefix length, above the IPAM subnet's and at most %d",
				BLOCK_MAX_LEN);
	c->node_block_len = (unsigned int)json_integer_value(v);
	if (!c->ipam)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeBlockSize\" needs an \"ipam\" "
				"section with the subnet to split");
	if (c->name && !valid_net_name(c->name))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "with \"nodeBlockSize\", \"name\" must be "
				"letters, digits, '_', '.', '-' (at most 64, starting with a "
				"letter or digit): it names the network's blocks in ZooKeeper");
	return cni_block_pool_read(c->ipam, c->node_block_len, &p);
}

uint32_t cni_block_count(const struct cni_block_pool *p)
{
	return 1u << (p->block_len - p->net_len);
}

bool cni_block_bounds(const struct cni_block_pool *p, uint32_t index, uint32_t *lo,
		      uint32_t *hi)
{
	uint32_t start = (uint32_t)(p->net + index * block_size(p->block_len));
	uint32_t end = (uint32_t)(start + block_size(p->block_len) - 1);

	if (index >= cni_block_count(p) || end < p->first || start > p->last)
		return false;
	*lo = start > p->first ? start : p->first;
	*hi = end < p->last ? end : p->last;
	/* host-local skips the gateway itself; at an end it is left out of the range. */
	if (*lo == p->gw)
		(*lo)++;
	if (*hi == p->gw && *hi >= *lo)
		(*hi)--;
	return *lo <= *hi;
}

void cni_block_name(const struct cni_block_pool *p, uint32_t index, char buf[BLOCK_NAME_MAX])
{
	char a[INET_ADDRSTRLEN];

	ip_str((uint32_t)(p->net + index * block_size(p->block_len)), a);
	snprintf(buf, BLOCK_NAME_MAX, "%s-%u", a, p->block_len);
}

int cni_block_name_parse(const char *name, uint32_t *start, unsigned int *len)
{
	char a[INET_ADDRSTRLEN + 1], back[INET_ADDRSTRLEN];
	const char *dash = strchr(name, '-');
	struct in_addr addr;
	unsigned int l = 0;
	size_t i, n;

	if (!dash || (size_t)(dash - name) >= sizeof(a))
		return -EINVAL;
	memcpy(a, name, (size_t)(dash - name));
	a[dash - name] = '\0';
	n = strlen(dash + 1);
	if (!n || n > 2 || (dash[1] == '0' && n > 1))
		return -EINVAL;
	for (i = 1; i <= n; i++) {
		if (dash[i] < '0' || dash[i] > '9')
			return -EINVAL;
		l = l * 10 + (unsigned int)(dash[i] - '0');
	}
	/* The dotted quad exactly as written here, a network of its length. */
	if (l < 1 || l > 32 || inet_pton(AF_INET, a, &addr) != 1)
		return -EINVAL;
	ip_str(ip_of(addr), back);
	if (strcmp(a, back) || (ip_of(addr) & (block_size(l) - 1)))
		return -EINVAL;
	*start = ip_of(addr);
	*len = l;
	return 0;
}

long cni_block_index(const struct cni_block_pool *p, uint32_t start, unsigned int len)
{
	if (len != p->block_len || start < p->net ||
	    start - p->net >= cni_block_count(p) * block_size(len))
		return -1;
	return (long)((start - p->net) / block_size(len));
}

void cni_block_mark(const struct cni_block_pool *p, uint8_t *taken, uint32_t start,
		    unsigned int len)
{
	uint64_t end = (uint64_t)start + block_size(len) - 1;
	uint64_t pool_end = (uint64_t)p->net + block_size(p->net_len) - 1;
	uint64_t lo, hi;

	if (end < p->net || start > pool_end)
		return;
	lo = start > p->net ? (start - p->net) / block_size(p->block_len) : 0;
	hi = ((end < pool_end ? end : pool_end) - p->net) / block_size(p->block_len);
	for (uint64_t i = lo; i <= hi; i++)
		taken[i / 8] |= (uint8_t)(1u << (i % 8));
}

long cni_block_next_free(const struct cni_block_pool *p, const uint8_t *taken, uint32_t from)
{
	uint32_t lo, hi;

	for (uint32_t i = from; i < cni_block_count(p); i++)
		if (!(taken[i / 8] & (1u << (i % 8))) && cni_block_bounds(p, i, &lo, &hi))
			return (long)i;
	return -1;
}

int cni_block_narrow(const struct cni_block_pool *p, uint32_t index)
{
	char lo_s[INET_ADDRSTRLEN], hi_s[INET_ADDRSTRLEN];
	uint32_t lo, hi;

	if (!cni_block_bounds(p, index, &lo, &hi))
		return -ERANGE;
	ip_str(lo, lo_s);
	ip_str(hi, hi_s);
	if (json_object_set_new(p->range, "rangeStart", json_string(lo_s)) ||
	    json_object_set_new(p->range, "rangeEnd", json_string(hi_s)))
		return -ENOMEM;
	return 0;
}

/* The ZooKeeper side: the claim nodes, this node's cache of its block, the lock. */

struct claim {
	const struct cni_conf *c;
	struct cni_node *n;
	struct cni_block_pool p;
	char dir[128];			/* /midox/cni/<network>/blocks */
	long index;			/* this node's block, -1 until known */
};

static int zk_fail(const struct claim *k, int zrc, const char *what, const char *path)
{
	int rc = zrc == ZNOAUTH || zrc == ZAUTHFAILED ? -EACCES :
		 zrc == ZCONNECTIONLOSS || zrc == ZOPERATIONTIMEOUT ? -ETIMEDOUT : -EIO;

	topo_fail(rc, "%s %s: %s", what, path, zerror(zrc));
	return cni_fail(rc, rc == -ETIMEDOUT ? CNI_ERR_TRY_AGAIN : MIDOX_ERR_TOPOLOGY,
			"nodeBlockSize: %s", cni_zk_why(rc, k->c));
}

/* The claim node's owner; -ENOENT when there is none, -EINVAL when its data is not a
 * claim (logged: somebody wrote it around midox). */
static int claim_owner(const struct claim *k, const char *path, char host[TOPO_ID_LEN])
{
	char buf[256];
	int len = sizeof(buf) - 1, zrc = zoo_get(k->n->zh, path, 0, buf, &len, NULL);
	json_t *o, *h;

	if (zrc == ZNONODE)
		return -ENOENT;
	if (zrc != ZOK)
		return zk_fail(k, zrc, "reading", path);
	o = len > 0 ? json_loadb(buf, (size_t)len, 0, NULL) : NULL;
	h = json_object_get(o, "host");
	if (!json_is_string(h) || !topo_valid_uuid(json_string_value(h))) {
		mx_warn("%s holds no host id: counted as another node's block", path);
		json_decref(o);
		return -EINVAL;
	}
	snprintf(host, TOPO_ID_LEN, "%s", json_string_value(h));
	json_decref(o);
	return 0;
}

static bool claim_is_ours(const struct claim *k, const char *path)
{
	char host[TOPO_ID_LEN];

	return !claim_owner(k, path, host) && !strcmp(host, k->n->host_id);
}

static void block_path(const struct claim *k, uint32_t index, char path[TOPO_PATH_MAX])
{
	char name[BLOCK_NAME_MAX];

	cni_block_name(&k->p, index, name);
	snprintf(path, TOPO_PATH_MAX, "%s/%s", k->dir, name);
}

/* Persistent containers as the topology's ("{"schema":1}"), made on a miss only: under
 * access control ZooKeeper checks the right to create before whether the node exists. */
static int ensure_node(const struct claim *k, const char *path)
{
	static const char container[] = "{\"schema\":1}";
	int zrc = zoo_exists(k->n->zh, path, 0, NULL);

	if (zrc == ZNONODE)
		zrc = zoo_create(k->n->zh, path, container, (int)strlen(container),
				 topo_acl_for(path), ZOO_PERSISTENT, NULL, 0);
	if (zrc != ZOK && zrc != ZNODEEXISTS)
		return zk_fail(k, zrc, "creating", path);
	return 0;
}

static int ensure_dirs(const struct claim *k)
{
	char path[TOPO_PATH_MAX];
	int rc = ensure_node(k, P_CNI);

	snprintf(path, sizeof(path), P_CNI_NET, k->c->name);
	if (!rc)
		rc = ensure_node(k, path);
	return rc ? rc : ensure_node(k, k->dir);
}

/* The cache: "<dataDir>/.block-<network>" names this node's block, so that an ADD costs
 * one read of its claim node instead of reading every node's (the block is found by its
 * owner, which only the data says). Lost or stale (the claim freed, another block size),
 * the claims are read again. */
static void cache_path(const struct claim *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s/" CACHE_PREFIX "%s", k->c->data_dir, k->c->name);
}

static void cache_read(struct claim *k)
{
	char path[4096], name[BLOCK_NAME_MAX + 2] = "", zpath[TOPO_PATH_MAX];
	unsigned int len;
	uint32_t start;
	long index;
	FILE *f;

	cache_path(k, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(name, sizeof(name), f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	if (cni_block_name_parse(name, &start, &len))
		return;
	index = cni_block_index(&k->p, start, len);
	if (index < 0)
		return;
	block_path(k, (uint32_t)index, zpath);
	if (claim_is_ours(k, zpath))
		k->index = index;
}

/* Written beside and renamed: never half a name. A failure only costs the next ADD a
 * scan, so it is logged, not reported. */
static void cache_write(const struct claim *k)
{
	char path[4096], tmp[4200], name[BLOCK_NAME_MAX];
	FILE *f;

	cache_path(k, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cni_block_name(&k->p, (uint32_t)k->index, name);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s\n", name) < 0 || fclose(f) || rename(tmp, path)) {
		mx_warn("cannot record this node's block in %s: %s", path, strerror(errno));
		if (f)
			unlink(tmp);
	}
}

/* Every claim of the network: each marks the blocks it covers (of any length: a claim
 * made with another nodeBlockSize still holds its addresses); one of this length owned by
 * this node is this node's block. */
static int scan(struct claim *k, uint8_t *taken)
{
	struct String_vector kids = { 0 };
	char path[TOPO_PATH_MAX];
	unsigned int len;
	uint32_t start;
	int zrc = zoo_get_children(k->n->zh, k->dir, 0, &kids), rc = 0;

	if (zrc != ZOK)
		return zk_fail(k, zrc, "listing", k->dir);
	for (int32_t i = 0; i < kids.count && !rc; i++) {
		long index;

		if (cni_block_name_parse(kids.data[i], &start, &len)) {
			mx_warn("skipping %s/%s: not a block (a.b.c.d-len)", k->dir, kids.data[i]);
			continue;
		}
		cni_block_mark(&k->p, taken, start, len);
		index = cni_block_index(&k->p, start, len);
		if (index < 0 || (k->index >= 0 && index > k->index))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", k->dir, kids.data[i]) >=
		    (int)sizeof(path))
			continue; /* parsed as a block: never that long */
		if (claim_is_ours(k, path))
			k->index = index; /* the lowest, should there be several */
		else if (cni_failed())
			rc = -EIO;
	}
	deallocate_String_vector(&kids);
	return rc;
}

static int no_block(const struct claim *k)
{
	char net[INET_ADDRSTRLEN];

	ip_str(k->p.net, net);
	return cni_fail(-ENOSPC, MIDOX_ERR_NO_BLOCK, "nodeBlockSize: no free /%u block of "
			"%s/%u for network %s: all %u are other nodes' (%s); free the block of "
			"a node that left, or give the network a larger subnet",
			k->p.block_len, net, k->p.net_len, k->c->name, cni_block_count(&k->p),
			k->dir);
}

/* The first free block, by a create: taken meanwhile by another node, the next one. The
 * loop ends: each turn marks one block. */
static int take_free(struct claim *k, uint8_t *taken)
{
	char path[TOPO_PATH_MAX], data[128];
	long index = cni_block_next_free(&k->p, taken, 0);
	int zrc;

	snprintf(data, sizeof(data), "{\"host\":\"%s\",\"schema\":1}", k->n->host_id);
	for (; index >= 0; index = cni_block_next_free(&k->p, taken, (uint32_t)index)) {
		block_path(k, (uint32_t)index, path);
		zrc = zoo_create(k->n->zh, path, data, (int)strlen(data), topo_acl_for(path),
				 ZOO_PERSISTENT, NULL, 0);
		if (zrc == ZOK || (zrc == ZNODEEXISTS && claim_is_ours(k, path))) {
			k->index = index;
			return 0;
		}
		if (zrc != ZNODEEXISTS)
			return zk_fail(k, zrc, "creating", path);
		if (cni_failed())
			return -EIO;
		cni_block_mark(&k->p, taken, (uint32_t)(k->p.net + (uint64_t)index *
			       block_size(k->p.block_len)), k->p.block_len);
	}
	return no_block(k);
}

static int find_or_take(struct claim *k)
{
	uint8_t *taken;
	int rc;

	cache_read(k);
	if (k->index >= 0 || cni_failed())
		return cni_failed() ? -EIO : 0;
	rc = ensure_dirs(k);
	if (rc)
		return rc;
	taken = calloc(cni_block_count(&k->p) / 8 + 1, 1);
	if (!taken)
		return cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	rc = scan(k, taken);
	if (!rc && k->index < 0)
		rc = take_free(k, taken);
	free(taken);
	if (!rc)
		cache_write(k);
	return rc;
}

int cni_block_claim(const struct cni_conf *c, struct cni_node *n)
{
	struct claim k = { .c = c, .n = n, .index = -1 };
	int fd = -1, rc;

	if (!c->node_block_len)
		return 0;
	rc = cni_block_pool_read(c->ipam, c->node_block_len, &k.p);
	snprintf(k.dir, sizeof(k.dir), P_CNI_BLOCKS, c->name);
	if (!rc)
		rc = cni_data_dir_lock(c, &fd);
	if (!rc)
		rc = find_or_take(&k);
	if (fd >= 0)
		close(fd); /* and the lock with it */
	/* From here every IPAM call of this ADD (its undo's DEL too) gets the block's range. */
	if (!rc && cni_block_narrow(&k.p, (uint32_t)k.index))
		rc = cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	return rc;
}
