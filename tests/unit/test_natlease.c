// SPDX-License-Identifier: Apache-2.0
/* Dynamic SNAT's port-block leases: the policy (agent/natlease_policy.c) as pure
 * functions, and the lease nodes' names and data (tools/lib/topology/natlease.c). The
 * ZooKeeper and map side runs in tests/e2e/nat_lease.bats. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/natlease_policy.h"
#include "topology/natlease.h"
#include "tap.h"

#define MS 1000000ull
#define HOST_A "6a3f0c52-1d0e-4c36-9a51-0a3c1a6b7d01"
#define HOST_B "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"

static void test_span(void)
{
	struct nlp_span s = nlp_span_of(1024, 1215);

	tap_ok(s.first == 16 && s.last == 18 && nlp_span_size(s) == 3,
	       "ports 1024-1215: blocks 16..18 (%u..%u)", s.first, s.last);
	s = nlp_span_of(5000, 5200);
	tap_ok(s.first == 78 && s.last == 81,
	       "ports 5000-5200: blocks 78..81, partly outside at both ends (%u..%u)", s.first,
	       s.last);
	s = nlp_span_of(1024, 65535);
	tap_ok(s.first == 16 && s.last == 1023 && nlp_span_size(s) == 1008,
	       "ports 1024-65535: blocks 16..1023");
	s = nlp_span_of(80, 80);
	tap_ok(s.first == 1 && s.last == 1, "one port: its block");
}

/* Every candidate from any start covers the span once, then wraps. */
static void test_candidates(void)
{
	struct nlp_span s = nlp_span_of(1024, 1215);
	bool ok = true;

	for (unsigned int start = s.first; start <= s.last; start++) {
		unsigned int seen[3] = { 0 };

		for (unsigned int k = 0; k < 3; k++) {
			unsigned int c = nlp_candidate(s, start, k);

			if (c < s.first || c > s.last)
				ok = false;
			else
				seen[c - s.first]++;
		}
		ok = ok && seen[0] == 1 && seen[1] == 1 && seen[2] == 1 &&
		     nlp_candidate(s, start, 0) == start && nlp_candidate(s, start, 3) == start;
	}
	tap_ok(ok, "candidates from each start point: every block of the span once, then again");
}

/* Start points: inside the span, the same for one host and address, spread over hosts. */
static void test_start(void)
{
	struct nlp_span s = nlp_span_of(1024, 65535);
	uint32_t addr = inet_addr("198.51.100.10");
	unsigned int a = nlp_start(HOST_A, addr, s), b = nlp_start(HOST_B, addr, s);
	unsigned int distinct = 0, hist[1024] = { 0 };
	char host[64];
	bool inside = true;

	tap_ok(a == nlp_start(HOST_A, addr, s) && a >= s.first && a <= s.last,
	       "a host's start point is fixed and inside the span (%u)", a);
	tap_ok(a != b, "two hosts start at different blocks (%u, %u)", a, b);
	tap_ok(nlp_start(HOST_A, addr, s) != nlp_start(HOST_A, inet_addr("198.51.100.11"), s),
	       "one host starts at different blocks for different addresses");
	/* 100 hosts: start points spread, none outside. */
	for (int i = 0; i < 100; i++) {
		unsigned int x;

		snprintf(host, sizeof(host), "00000000-0000-4000-8000-%012d", i);
		x = nlp_start(host, addr, s);
		inside = inside && x >= s.first && x <= s.last;
		distinct += !hist[x]++;
	}
	tap_ok(inside && distinct >= 90, "100 hosts: %u distinct start points, all in the span",
	       distinct);
}

static void test_grow(void)
{
	tap_ok(nlp_should_grow(0, 0, false), "no block yet: the first is leased");
	tap_ok(!nlp_should_grow(48, 1, false), "48 of 64 ports to one destination: no more");
	tap_ok(nlp_should_grow(49, 1, false), "49 of 64 (over 3/4): another block");
	tap_ok(!nlp_should_grow(96, 2, false) && nlp_should_grow(97, 2, false),
	       "two blocks: over 96 of 128");
	tap_ok(nlp_should_grow(1, 1, true), "nat-exhausted drops rose while in use: another block");
	tap_ok(!nlp_should_grow(0, 1, true), "nat-exhausted but no connection to this address: no");
	tap_ok(nlp_grow_count(0, false) == 1 && nlp_grow_count(0, true) == 1, "the first: one block");
	tap_ok(nlp_grow_count(3, false) == 1, "ahead of need (over 3/4): one more");
	tap_ok(nlp_grow_count(3, true) == 3, "connections refused: as many again (a burst)");
	tap_ok(nlp_grow_count(MX_NAT_LEASE_BLOCKS_MAX - 2, true) == 2 &&
	       nlp_grow_count(MX_NAT_LEASE_BLOCKS_MAX, true) == 0, "never past the cap");
	tap_ok(!nlp_should_grow(MX_NAT_LEASE_BLOCKS_MAX * 64, MX_NAT_LEASE_BLOCKS_MAX, true),
	       "at MX_NAT_LEASE_BLOCKS_MAX: never more");
}

/* A block's life: kept while used and while idle less than the idle time; then out of the
 * map; after the grace time, unused, dropped; a connection in the grace: back in. */
static void test_release(void)
{
	uint64_t idle = 1000 * MS, grace = (uint64_t)MX_NAT_LEASE_GRACE_MS * MS, t0 = 5000 * MS;
	struct nlp_block b = { .used_ns = t0 };

	tap_ok(nlp_block_step(&b, t0 + idle - 1, idle, true) == NLP_KEEP,
	       "idle less than the idle time: kept");
	b.conns = 2;
	tap_ok(nlp_block_step(&b, t0 + 10 * idle, idle, true) == NLP_KEEP,
	       "in use by a connection: kept");
	b.conns = 0;
	tap_ok(nlp_block_step(&b, t0 + idle, idle, false) == NLP_KEEP,
	       "the last block of an address a rule needs: kept, however idle");
	tap_ok(nlp_block_step(&b, t0 + idle, idle, true) == NLP_UNPUBLISH,
	       "idle for the idle time: out of the map");
	b.unpublished_ns = t0 + idle;
	tap_ok(nlp_block_step(&b, t0 + idle + grace - 1, idle, true) == NLP_KEEP,
	       "within the grace time: its node stays");
	tap_ok(nlp_block_step(&b, t0 + idle + grace, idle, true) == NLP_DROP,
	       "after the grace time, still unused: its node deleted");
	b.conns = 1;
	tap_ok(nlp_block_step(&b, t0 + idle + grace, idle, true) == NLP_REPUBLISH,
	       "a connection took a port of it before it left the map: back in");
}

static void test_nodes(void)
{
	char host[TOPO_ID_LEN] = "", *s;
	uint16_t b = 9999;
	static const char *const bad_names[] = { "", "01", "1024", "-1", "12a", "99999", "+5" };
	static const char *const bad_data[] = {
		"", "[]", "{\"schema\":1}", "{\"schema\":2,\"host\":\"" HOST_A "\"}",
		"{\"schema\":1,\"host\":\"not-a-uuid\"}", "{\"schema\":1,\"host\":5}",
	};
	bool refused = true;

	tap_ok(!topo_nat_block_parse("0", &b) && b == 0 && !topo_nat_block_parse("1023", &b) &&
	       b == 1023, "block names 0 and 1023");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		refused = refused && topo_nat_block_parse(bad_names[i], &b) == -EINVAL;
	tap_ok(refused, "bad block names refused (leading zero, out of range, not a number)");
	s = topo_nat_lease_encode(HOST_A);
	tap_ok(s && !strcmp(s, "{\"host\":\"" HOST_A "\",\"schema\":1}") &&
	       !topo_nat_lease_decode(s, strlen(s), host) && !strcmp(host, HOST_A),
	       "a lease node's data round trips: %s", s ? s : "(null)");
	free(s);
	refused = true;
	for (size_t i = 0; i < sizeof(bad_data) / sizeof(bad_data[0]); i++)
		refused = refused && topo_nat_lease_decode(bad_data[i], strlen(bad_data[i]), host) ==
					     -EINVAL;
	tap_ok(refused, "bad lease data refused (no host, another schema, not JSON)");
}

int main(void)
{
	test_span();
	test_candidates();
	test_start();
	test_grow();
	test_release();
	test_nodes();
	return tap_done();
}
