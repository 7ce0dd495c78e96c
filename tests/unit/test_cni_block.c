// SPDX-License-Identifier: Apache-2.0
/* midox-cni's node blocks ("nodeBlockSize", tools/cmd/midox-cni/block.c) without
 * ZooKeeper: the key's checks in the configuration, the blocks of a subnet and what each
 * may lease, their ZooKeeper names, the search for a free one, and the range host-local
 * gets. The claims in ZooKeeper run in tests/e2e/cni_block.bats. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cmd/midox-cni/cni.h"
#include "tap.h"

static uint32_t ip(const char *s)
{
	return ntohl(inet_addr(s));
}

/* A configuration with nodeBlockSize (raw JSON: a number or anything else) and ipam. */
static int parse(const char *block, const char *ipam, struct cni_conf *c)
{
	char text[2048];

	cni_fail_reset();
	snprintf(text, sizeof(text), "{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"type\":"
		 "\"midox\",\"bridge\":\"b\",\"nodeBlockSize\":%s,\"ipam\":%s}", block, ipam);
	return cni_conf_parse(text, c);
}

#define RANGES(r) "{\"type\":\"host-local\",\"ranges\":[[" r "]]}"
#define SUBNET24 "{\"subnet\":\"10.244.0.0/24\",\"gateway\":\"10.244.0.1\"}"

static void expect_refused(const char *block, const char *ipam, const char *text,
			   const char *what)
{
	struct cni_conf c;
	int rc = parse(block, ipam, &c);

	tap_check(rc && cni_fail_code() == CNI_ERR_CONFIG && strstr(cni_fail_msg(), text),
		  cni_fail_msg(), "refused with 7: %s", what);
	cni_conf_free(&c);
}

static void test_conf(void)
{
	struct cni_conf c;
	int rc;

	rc = parse("26", RANGES(SUBNET24), &c);
	tap_check(!rc && c.node_block_len == 26, cni_fail_msg(), "nodeBlockSize 26 of a /24 taken");
	cni_conf_free(&c);
	rc = parse("25", "{\"type\":\"host-local\",\"subnet\":\"10.244.0.0/24\"}", &c);
	tap_check(!rc && c.node_block_len == 25, cni_fail_msg(), "the legacy top-level subnet too");
	cni_conf_free(&c);
	cni_fail_reset();
	rc = cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"bridge\":\"b\","
			    "\"ipam\":{\"type\":\"static\"}}", &c);
	tap_ok(!rc && c.node_block_len == 0, "without the key: no blocks, any IPAM shape");
	cni_conf_free(&c);
	expect_refused("\"24\"", RANGES(SUBNET24), "must be an integer", "a string");
	expect_refused("24.5", RANGES(SUBNET24), "must be an integer", "not an integer");
	expect_refused("31", RANGES(SUBNET24), "at most 30", "31");
	expect_refused("24", RANGES(SUBNET24), "above the subnet's", "the subnet's own length");
	expect_refused("16", RANGES(SUBNET24), "above the subnet's", "shorter than the subnet");
	expect_refused("30", RANGES("{\"subnet\":\"10.0.0.0/8\"}"), "more than 65536 blocks",
		       "a /8 in /30s (4 million blocks)");
	expect_refused("26", RANGES(SUBNET24 "],[" SUBNET24), "one range set of one range",
		       "two range sets");
	expect_refused("26", RANGES(SUBNET24 "," SUBNET24), "one range set of one range",
		       "two ranges in the set");
	expect_refused("26", "{\"type\":\"host-local\",\"subnet\":\"10.244.0.0/24\",\"ranges\":"
		       "[[" SUBNET24 "]]}", "one range set of one range", "subnet and ranges");
	expect_refused("26", "{\"type\":\"dhcp\"}", "host-local's shape", "no subnet");
	expect_refused("100", RANGES("{\"subnet\":\"fd00::/64\"}"), "at most 30",
		       "an IPv6 length");
	expect_refused("26", RANGES("{\"subnet\":\"fd00::/64\"}"), "IPv4 subnet", "IPv6");
	expect_refused("26", RANGES("{\"subnet\":\"10.244.0.1/24\"}"), "host bits",
		       "a subnet with host bits");
	expect_refused("26", RANGES("{\"subnet\":\"10.244.0.0/24\",\"rangeStart\":"
				    "\"10.245.0.1\"}"), "must lie in its subnet",
		       "rangeStart outside the subnet");
	expect_refused("26", RANGES("{\"subnet\":\"10.244.0.0/24\",\"gateway\":5}"),
		       "\"gateway\" must be an IPv4 address", "a gateway not a string");
	cni_fail_reset();
	rc = cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"pods\",\"bridge\":\"b\","
			    "\"nodeBlockSize\":26}", &c);
	tap_check(rc && cni_fail_code() == CNI_ERR_CONFIG && strstr(cni_fail_msg(), "needs an "
		  "\"ipam\""), cni_fail_msg(), "refused with 7: no ipam section");
	cni_conf_free(&c);
	cni_fail_reset();
	rc = cni_conf_parse("{\"cniVersion\":\"1.0.0\",\"name\":\"a/b\",\"bridge\":\"b\","
			    "\"nodeBlockSize\":26,\"ipam\":" RANGES(SUBNET24) "}", &c);
	tap_check(rc && cni_fail_code() == CNI_ERR_CONFIG && strstr(cni_fail_msg(), "\"name\""),
		  cni_fail_msg(), "refused with 7: a name that cannot name a ZooKeeper node");
	cni_conf_free(&c);
}

/* The pool of ipam text for blocks of len (the test's own JSON, freed by the caller). */
static json_t *pool_of(const char *ipam, unsigned int len, struct cni_block_pool *p)
{
	json_t *o = json_loads(ipam, 0, NULL);

	cni_fail_reset();
	if (cni_block_pool_read(o, len, p))
		tap_diag("%s", cni_fail_msg());
	return o;
}

static bool bounds_are(const struct cni_block_pool *p, uint32_t i, const char *lo,
		       const char *hi)
{
	uint32_t a, b;

	if (!lo)
		return !cni_block_bounds(p, i, &a, &b);
	return cni_block_bounds(p, i, &a, &b) && a == ip(lo) && b == ip(hi);
}

static void test_bounds(void)
{
	struct cni_block_pool p;
	json_t *o = pool_of(RANGES(SUBNET24), 26, &p);

	tap_ok(cni_block_count(&p) == 4, "a /24 in /26s: 4 blocks");
	tap_ok(bounds_are(&p, 0, "10.244.0.2", "10.244.0.63"),
	       "block 0 leaves out the network address and the gateway .1");
	tap_ok(bounds_are(&p, 1, "10.244.0.64", "10.244.0.127"), "block 1: all of it");
	tap_ok(bounds_are(&p, 3, "10.244.0.192", "10.244.0.254"),
	       "block 3 leaves out the broadcast address");
	tap_ok(bounds_are(&p, 4, NULL, NULL), "no block 4");
	json_decref(o);

	o = pool_of("{\"subnet\":\"10.244.0.0/24\"}", 26, &p);
	tap_ok(bounds_are(&p, 0, "10.244.0.2", "10.244.0.63"),
	       "no gateway: host-local's own, the first address, left out the same way");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.244.0.0/24\",\"gateway\":\"10.244.0.64\"}", 26, &p);
	tap_ok(bounds_are(&p, 0, "10.244.0.1", "10.244.0.63") &&
	       bounds_are(&p, 1, "10.244.0.65", "10.244.0.127"),
	       "a gateway at a block's start: the block starts after it");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.244.0.0/24\",\"gateway\":\"10.244.0.127\"}", 26, &p);
	tap_ok(bounds_are(&p, 1, "10.244.0.64", "10.244.0.126"),
	       "a gateway at a block's end: the block ends before it");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.244.0.0/24\",\"gateway\":\"10.244.0.100\"}", 26, &p);
	tap_ok(bounds_are(&p, 1, "10.244.0.64", "10.244.0.127"),
	       "a gateway inside a block: left to host-local, which skips it");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.244.0.0/24\",\"rangeStart\":\"10.244.0.100\","
		    "\"rangeEnd\":\"10.244.0.150\"}", 26, &p);
	tap_ok(bounds_are(&p, 0, NULL, NULL) && bounds_are(&p, 1, "10.244.0.100", "10.244.0.127") &&
	       bounds_are(&p, 2, "10.244.0.128", "10.244.0.150") && bounds_are(&p, 3, NULL, NULL),
	       "rangeStart and rangeEnd bound every block; blocks outside have nothing");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.0.0.0/28\"}", 30, &p);
	tap_ok(cni_block_count(&p) == 4 && bounds_are(&p, 0, "10.0.0.2", "10.0.0.3") &&
	       bounds_are(&p, 3, "10.0.0.12", "10.0.0.14"),
	       "/30 blocks: network, gateway, broadcast left out, something left");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.0.0.0/28\",\"gateway\":\"10.0.0.2\"}", 30, &p);
	tap_ok(bounds_are(&p, 0, "10.0.0.1", "10.0.0.3"),
	       "/30 with the gateway inside: host-local skips it");
	json_decref(o);
	o = pool_of("{\"subnet\":\"10.0.0.0/8\"}", 24, &p);
	tap_ok(cni_block_count(&p) == 65536 &&
	       bounds_are(&p, 65535, "10.255.255.0", "10.255.255.254"),
	       "a /8 in /24s: 65536 blocks, the last without the broadcast");
	json_decref(o);
}

static void test_names(void)
{
	struct cni_block_pool p;
	json_t *o = pool_of(RANGES(SUBNET24), 26, &p);
	const char *bad[] = { "10.244.0.65-26", "10.244.0.064-26", "10.244.0.64-026",
			      "10.244.0.64-33", "10.244.0.64-0", "10.244.0.64", "x-26",
			      "10.244.0.64-2x", "-26", "10.244.0.64-", NULL };
	char name[24];
	unsigned int len;
	uint32_t start;
	bool refused = true;

	cni_block_name(&p, 1, name);
	tap_ok(!strcmp(name, "10.244.0.64-26"), "block 1's name: %s", name);
	tap_ok(!cni_block_name_parse(name, &start, &len) && start == ip("10.244.0.64") &&
	       len == 26, "and back");
	tap_ok(cni_block_index(&p, start, len) == 1, "its index in the pool: 1");
	tap_ok(cni_block_index(&p, ip("10.244.0.64"), 25) == -1 &&
	       cni_block_index(&p, ip("10.244.1.0"), 26) == -1,
	       "another length or outside the subnet: not the pool's");
	for (size_t i = 0; bad[i]; i++)
		if (!cni_block_name_parse(bad[i], &start, &len)) {
			tap_diag("%s parsed", bad[i]);
			refused = false;
		}
	tap_ok(refused, "names that are no block refused (host bits, leading zeros, lengths)");
	json_decref(o);
}

static void test_search(void)
{
	struct cni_block_pool p;
	json_t *o = pool_of(RANGES(SUBNET24), 26, &p);
	uint8_t taken[1] = { 0 };

	tap_ok(cni_block_next_free(&p, taken, 0) == 0, "nothing claimed: block 0");
	cni_block_mark(&p, taken, ip("10.244.0.0"), 26);
	tap_ok(cni_block_next_free(&p, taken, 0) == 1, "block 0 claimed: block 1");
	cni_block_mark(&p, taken, ip("10.244.0.128"), 25);
	tap_ok(taken[0] == 0x0d && cni_block_next_free(&p, taken, 0) == 1,
	       "a /25 claim (another size) covers blocks 2 and 3");
	cni_block_mark(&p, taken, ip("10.244.1.0"), 24);
	tap_ok(taken[0] == 0x0d, "a claim outside the subnet marks nothing");
	cni_block_mark(&p, taken, ip("10.244.0.96"), 27);
	tap_ok(cni_block_next_free(&p, taken, 0) == -1,
	       "a smaller claim inside block 1 takes it: none free");
	taken[0] = 0;
	cni_block_mark(&p, taken, ip("10.0.0.0"), 8);
	tap_ok(taken[0] == 0x0f, "a claim around the whole subnet takes every block");
	json_decref(o);

	o = pool_of("{\"subnet\":\"10.244.0.0/24\",\"rangeStart\":\"10.244.0.130\"}", 26, &p);
	taken[0] = 0;
	tap_ok(cni_block_next_free(&p, taken, 0) == 2,
	       "blocks with nothing to lease are skipped: block 2");
	tap_ok(cni_block_next_free(&p, taken, 3) == 3, "from 3: block 3");
	json_decref(o);
}

static void test_narrow(void)
{
	struct cni_block_pool p;
	json_t *o = pool_of(RANGES(SUBNET24), 26, &p), *r;

	tap_ok(!cni_block_narrow(&p, 2), "narrowed to block 2");
	r = json_array_get(json_array_get(json_object_get(o, "ranges"), 0), 0);
	tap_ok(!strcmp(json_string_value(json_object_get(r, "rangeStart")), "10.244.0.128") &&
	       !strcmp(json_string_value(json_object_get(r, "rangeEnd")), "10.244.0.191") &&
	       !strcmp(json_string_value(json_object_get(r, "subnet")), "10.244.0.0/24") &&
	       !strcmp(json_string_value(json_object_get(r, "gateway")), "10.244.0.1"),
	       "the range: rangeStart and rangeEnd the block's, subnet and gateway kept");
	json_decref(o);
	o = pool_of("{\"type\":\"host-local\",\"subnet\":\"10.244.0.0/24\"}", 26, &p);
	tap_ok(!cni_block_narrow(&p, 0) &&
	       !strcmp(json_string_value(json_object_get(o, "rangeStart")), "10.244.0.2") &&
	       !strcmp(json_string_value(json_object_get(o, "rangeEnd")), "10.244.0.63"),
	       "the legacy form: top-level rangeStart and rangeEnd");
	json_decref(o);
}

int main(void)
{
	test_conf();
	test_bounds();
	test_names();
	test_search();
	test_narrow();
	return tap_done();
}
