// SPDX-License-Identifier: Apache-2.0
/* Unit tests of a host's binding index (tools/lib/topology/binding_index.c): its codec, and
 * the index a write adds to its multi-op for every host whose bindings it makes or deletes.
 * Reading it against a real ZooKeeper, older writers included, is tests/e2e/mirror.bats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "topology/codec.h"
#include "topology/layout.h"
#include "topology/txn.h"
#include "topology/write.h"

#define ID(n) "0b3c4d5e-0000-4000-8000-0000000000" #n
#define HOST ID(01)
#define OTHER ID(02)

static const struct topo_binding *find(const struct topo_binding *b, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].interface, ifname))
			return &b[i];
	return NULL;
}

static void test_roundtrip(void)
{
	const struct topo_binding in[] = {
		{ .interface = "veth9", .port_id = ID(30), .czxid = 4294967301 },
		{ .interface = "eth0", .port_id = ID(31), .czxid = 0 },
	};
	struct topo_binding *out = NULL;
	char *s = topo_encode_binding_index(in, 2, 7);
	int32_t synced = -1;
	size_t n = 0;
	int rc;

	rc = s ? topo_decode_binding_index(s, strlen(s), 99, &synced, &out, &n) : -1;
	tap_ok(!rc && synced == 7 && n == 2 && !strcmp(out[0].interface, "eth0") &&
	   !strcmp(out[1].interface, "veth9"), "encodes and decodes back, sorted by interface: %s",
	   s ? s : "(null)");
	tap_ok(!rc && n == 2 && out[1].czxid == 4294967301 && !strcmp(out[1].port_id, ID(30)),
	   "a binding's czxid and port are kept");
	tap_ok(!rc && n == 2 && out[0].czxid == 99,
	   "czxid 0 is the index's own write: the directory's mzxid");
	free(out);
	free(s);
	s = topo_encode_binding_index(NULL, 0, 0);
	rc = s ? topo_decode_binding_index(s, strlen(s), 1, &synced, &out, &n) : -1;
	tap_ok(!rc && n == 0 && synced == 0, "an empty index: %s", s ? s : "(null)");
	free(out);
	free(s);
}

struct bad_case {
	const char *json;
	const char *why; /* a word the error message must contain */
};

static void test_bad(void)
{
	static const struct bad_case cases[] = {
		{ "{\"schema\":1}", "synced" },
		{ "{\"schema\":1,\"synced\":1}", "bindings" },
		{ "{\"schema\":1,\"synced\":-1,\"bindings\":[]}", "synced" },
		{ "{\"schema\":1,\"synced\":\"1\",\"bindings\":[]}", "synced" },
		{ "{\"schema\":2,\"synced\":0,\"bindings\":[]}", "schema" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":{}}", "array" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"eth0\",\"" ID(30) "\"]]}", "entry" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"eth0\",\"" ID(30) "\",-1]]}", "entry" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"eth0\",\"" ID(30) "\",\"1\"]]}", "entry" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[\"eth0\"]}", "entry" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"a/b\",\"" ID(30) "\",1]]}", "interface" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"0123456789abcdef\",\"" ID(30) "\",1]]}",
		  "interface" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"eth0\",\"not-a-uuid\",1]]}", "UUID" },
		{ "{\"schema\":1,\"synced\":2,\"bindings\":[[\"eth0\",\"" ID(30) "\",1],[\"eth0\",\""
		  ID(31) "\",2]]}", "twice" },
		{ "{\"schema\":1,\"synced\":1,\"bindings\":[[\"eth0\",\"" ID(30) "\",1]", "JSON" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct topo_binding *out = (struct topo_binding *)1;
		int32_t synced = -5;
		size_t n = 9;
		int rc = topo_decode_binding_index(cases[i].json, strlen(cases[i].json), 1, &synced,
						   &out, &n);

		tap_ok(rc == -EINVAL && strstr(topo_errmsg(), cases[i].why) && !out && !n &&
		   synced == -5, "refused (%s): %s -> %s", cases[i].why, cases[i].json,
		   topo_errmsg());
	}
}

/* A snapshot of two hosts: HOST with its directory at cversion 5 and bindings v1 (czxid 11)
 * and v2 (czxid 12), OTHER with one binding. */
static void build(struct topology *t)
{
	static const struct topo_host hosts[] = {
		{ .id = HOST, .name = "h1", .bindings_cversion = 5 },
		{ .id = OTHER, .name = "h2", .bindings_cversion = 1 },
	};
	static const struct topo_binding bindings[] = {
		{ .host_id = HOST, .interface = "v1", .port_id = ID(31), .czxid = 11 },
		{ .host_id = OTHER, .interface = "w1", .port_id = ID(41), .czxid = 13 },
		{ .host_id = HOST, .interface = "v2", .port_id = ID(32), .czxid = 12 },
	};

	memset(t, 0, sizeof(*t));
	t->hosts = malloc(sizeof(hosts));
	memcpy(t->hosts, hosts, sizeof(hosts));
	t->n_hosts = 2;
	t->bindings = malloc(sizeof(bindings));
	memcpy(t->bindings, bindings, sizeof(bindings));
	t->n_bindings = 3;
}

static void bind_op(struct topo_txn *x, const char *host, const char *ifname, const char *port)
{
	struct topo_binding b = { 0 };

	strcpy(b.port_id, port);
	txn_create(x, ZOO_PERSISTENT, topo_encode_binding(&b), P_BINDING, host, ifname);
}

/* The index x's op i writes: decoded, or -1 when op i is not a set of HOST's directory. */
static int index_at(const struct topo_txn *x, size_t i, const char *host, int32_t *synced,
		    struct topo_binding **b, size_t *n)
{
	char dir[TOPO_PATH_MAX];
	const zoo_op_t *op = &x->ops[i];

	snprintf(dir, sizeof(dir), P_BINDINGS, host);
	if (i >= x->n || op->type != ZOO_SETDATA_OP || strcmp(op->set_op.path, dir) ||
	    op->set_op.version != -1)
		return -1;
	return topo_decode_binding_index(op->set_op.data, (size_t)op->set_op.datalen, 77, synced,
					 b, n);
}

static void test_plan(void)
{
	struct topology t;
	struct topo_txn x;
	struct topo_binding *b = NULL;
	int32_t synced = -1;
	size_t n = 0;
	int rc;

	build(&t);
	txn_init(&x);
	txn_check(&x, 0, P_HOST, HOST);
	bind_op(&x, HOST, "v3", ID(33));
	txn_delete(&x, 0, P_BINDING, HOST, "v1");
	rc = plan_binding_index(&t, &x);
	tap_ok(!rc && x.n == 4 && !index_at(&x, 3, HOST, &synced, &b, &n),
	   "one bind and one unbind on a host: its index set (unchecked) after them (%zu ops)",
	   x.n);
	tap_ok(synced == 7 && n == 2 && !find(b, n, "v1") && find(b, n, "v2") &&
	   find(b, n, "v2")->czxid == 12 && find(b, n, "v3") &&
	   find(b, n, "v3")->czxid == 77 && !strcmp(find(b, n, "v3")->port_id, ID(33)),
	   "the index: cversion 5 + 2 changes, v2 kept with its czxid, v3 made by this write, v1 "
	   "gone; the other host's binding not in it");
	free(b);
	txn_free(&x);

	txn_init(&x);
	bind_op(&x, OTHER, "w2", ID(42));
	bind_op(&x, HOST, "v4", ID(34));
	rc = plan_binding_index(&t, &x);
	tap_ok(!rc && x.n == 4 && !index_at(&x, 2, OTHER, &synced, &b, &n) && synced == 2 && n == 2,
	   "two hosts in one write: one index each, in the order they were met");
	free(b);
	b = NULL;
	tap_ok(!index_at(&x, 3, HOST, &synced, &b, &n) && synced == 6 && n == 3,
	   "the second host's index: its three bindings at cversion 6");
	free(b);
	txn_free(&x);

	txn_init(&x);
	txn_delete(&x, 0, P_BINDING, HOST, "v1");
	txn_delete(&x, 0, P_BINDING, HOST, "v2");
	txn_delete(&x, -1, P_BINDINGS, HOST);
	txn_delete(&x, -1, P_HOST, HOST);
	rc = plan_binding_index(&t, &x);
	tap_ok(!rc && x.n == 4, "a host deleted with its bindings gets no index");
	txn_free(&x);

	txn_init(&x);
	txn_create(&x, ZOO_PERSISTENT, NULL, P_BINDINGS, ID(03));
	bind_op(&x, ID(03), "u1", ID(51));
	rc = plan_binding_index(&t, &x);
	b = NULL;
	tap_ok(!rc && x.n == 3 && !index_at(&x, 2, ID(03), &synced, &b, &n) && synced == 1 && n == 1,
	   "a directory made in the same write: its index counts from 0");
	free(b);
	txn_free(&x);

	txn_init(&x);
	bind_op(&x, ID(04), "u1", ID(51));
	txn_set(&x, 3, NULL, P_PORT, ID(31));
	txn_create(&x, ZOO_PERSISTENT, NULL, P_PORT_BINDING, ID(31));
	rc = plan_binding_index(&t, &x);
	tap_ok(!rc && x.n == 3,
	   "no index for a host the snapshot lacks (the multi fails on it); ports' own binding "
	   "nodes are not a host's");
	txn_free(&x);

	txn_init(&x);
	txn_create(&x, ZOO_PERSISTENT, strdup("{\"schema\":1,\"port\":7}"), P_BINDING, HOST, "v9");
	rc = plan_binding_index(&t, &x);
	tap_ok(rc == -EINVAL, "a binding that does not decode stops the write: %s", topo_errmsg());
	txn_free(&x);
	topo_free(&t);
}

/* Past TOPO_INDEX_MAX the directory holds no index (readers read the nodes). */
static void test_too_large(void)
{
	struct topology t;
	struct topo_txn x;
	size_t i, n = TOPO_INDEX_MAX / 48;
	const zoo_op_t *op;

	memset(&t, 0, sizeof(t));
	t.hosts = calloc(1, sizeof(*t.hosts));
	strcpy(t.hosts[0].id, HOST);
	t.n_hosts = 1;
	t.bindings = calloc(n, sizeof(*t.bindings));
	for (i = 0; i < n; i++) {
		strcpy(t.bindings[i].host_id, HOST);
		snprintf(t.bindings[i].interface, sizeof(t.bindings[i].interface), "v%zu", i);
		strcpy(t.bindings[i].port_id, ID(30));
		t.bindings[i].czxid = 4294967296 + (int64_t)i;
	}
	t.n_bindings = n;
	t.hosts[0].bindings_cversion = (int32_t)n;
	txn_init(&x);
	bind_op(&x, HOST, "new", ID(31));
	tap_ok(!plan_binding_index(&t, &x) && x.n == 2, "%zu bindings: planned", n + 1);
	op = &x.ops[1];
	tap_ok(op->type == ZOO_SETDATA_OP && op->set_op.datalen == 12 &&
	   !memcmp(op->set_op.data, "{\"schema\":1}", 12),
	   "an index over %d bytes is not written: the directory's plain JSON instead",
	   TOPO_INDEX_MAX);
	txn_free(&x);
	topo_free(&t);
}

int main(void)
{
	test_roundtrip();
	test_bad();
	test_plan();
	test_too_large();
	return tap_done();
}
