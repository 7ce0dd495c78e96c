// SPDX-License-Identifier: Apache-2.0
/* mxbench-topo: a synthetic topology for the control-plane benchmark, written straight into
 * ZooKeeper through the topology library's encoders, paths and multi-op builder, in batches
 * of BATCH operations per zoo_multi (the CLI's one multi per command would take hours).
 * ZooKeeper servers: MIDOX_ZK_SERVERS, else 127.0.0.1:2181.
 *
 *   mxbench-topo populate [--routes N] SELF_ID SELF_ADDR PORTS [HOSTS [PORTS_PER_BRIDGE]]
 *       a tunnel zone "bench" whose members are the host SELF_ID (at SELF_ADDR; the host
 *       node is made if missing, its agent registers over it) and HOSTS (8) synthetic hosts
 *       at 192.0.2.101 and up; PORTS ports on bridges of PORTS_PER_BRIDGE (100) ports, each
 *       with a MAC and an address, bound to interface "pN" of synthetic host N % HOSTS;
 *       each synthetic host's binding index last, as the library's writes keep it.
 *       The measured agent's host then holds PORTS entries in midox_port_v2, PORTS in
 *       midox_fdb and midox_arp_v2, PORTS/PORTS_PER_BRIDGE in midox_bridge.
 *       --routes N: also router "bench-rt" with one port, 100.64.0.1/10, linked to a port of
 *       its own bridge "bench-rt-net" (an interior port: every host simulates the router at
 *       ingress, so every agent, the measured one included, installs all its routes), and N
 *       routes of it to distinct prefixes (route_dst: a /24 and a /32 inside it, pair after
 *       pair, from 10.0.0.0 up), out of that port to a gateway in 100.64.0.0/10. Prints
 *       "router ID port ID midox_route K": K entries in the agent's midox_route (the N
 *       routes, the port's subnet route and its own address).
 *   mxbench-topo add-port
 *       one more port on the first bridge, bound like the others (for the restart figure),
 *       its host's binding index updated with it when that is current.
 *   mxbench-topo add-route ROUTER_ID PORT_ID I
 *       route I of populate's sequence (populate wrote 0 to N - 1; the restart figure adds
 *       route N), as the library's route add writes it: the router rewritten at its
 *       version in the same multi.
 *   mxbench-topo wait-macs HOST_ID N TIMEOUT_S
 *       until host HOST_ID has published N learned MACs (children of its macs node, read
 *       from the node's stat every 20 ms: no listing); prints "reached COUNT at
 *       EPOCH_SECONDS" or "timeout COUNT" (exit 1). */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "topology/codec.h"
#include "topology/layout.h"
#include "topology/txn.h"

#define BATCH 900
#define FIRST_HOST_ADDR 101 /* 192.0.2.101: in the bench's underlay subnet, never used */
#define RT_PORT_ADDR 0x64400001u /* 100.64.0.1/10: the router's port, its gateways after it */
#define RT_PORT_LEN 10
#define RT_GATEWAYS 250		 /* next hops 100.64.0.2 to 100.64.0.251, route after route */
/* route_dst stays below 100.64.0.0: pairs of prefixes from 10.0.0.0 to 100.63.255.0 */
#define ROUTES_MAX (2ul * ((RT_PORT_ADDR & 0xffc00000u) - 0x0a000000u) / 256)

struct writer {
	zhandle_t *zh;
	struct topo_txn x;
	uint32_t next_key;
	int32_t key_version;
	unsigned long ops, multis;
	/* The bindings written, per synthetic host (populate): their index goes last. */
	struct topo_binding **bound;
	size_t *n_bound;
};

static int flush(struct writer *w)
{
	int rc = txn_commit(w->zh, &w->x);

	if (rc)
		fprintf(stderr, "mxbench-topo: multi of %zu ops failed: %s\n", w->x.n, topo_errmsg());
	w->ops += w->x.n;
	w->multis++;
	txn_free(&w->x);
	txn_init(&w->x);
	return rc;
}

static int maybe_flush(struct writer *w)
{
	return w->x.n >= BATCH ? flush(w) : 0;
}

static int key_read(struct writer *w)
{
	char buf[256];
	int len = sizeof(buf) - 1, rc;
	struct Stat st;

	rc = zoo_get(w->zh, P_KEY, 0, buf, &len, &st);
	if (rc != ZOK || len < 0)
		return -EIO;
	w->key_version = st.version;
	return topo_decode_key_counter(buf, (size_t)len, NULL, &w->next_key);
}

/* The last multi also moves the key counter past every key handed out. */
static int key_commit(struct writer *w)
{
	txn_set(&w->x, w->key_version, topo_encode_key_counter(w->next_key), P_KEY);
	return flush(w);
}

/* A host (unless it exists: the measured agent's may have registered) and its membership. */
static void host_add(struct writer *w, const char *id, const char *name, const char *zone,
		     const char *addr)
{
	struct topo_host h = { 0 };
	struct topo_member m = { 0 };
	char path[TOPO_PATH_MAX];

	snprintf(h.name, sizeof(h.name), "%s", name);
	snprintf(path, sizeof(path), P_HOST, id);
	if (zoo_exists(w->zh, path, 0, NULL) != ZOK) {
		txn_create(&w->x, ZOO_PERSISTENT, topo_encode_host(&h), P_HOST, id);
		txn_create(&w->x, ZOO_PERSISTENT, NULL, P_BINDINGS, id);
	}
	topo_parse_ipv4(addr, &m.addr);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_member(&m), P_MEMBER, zone, id);
}

static void port_add(struct writer *w, const char *bridge_id, unsigned long i,
		     char hosts[][TOPO_ID_LEN], unsigned long n_hosts, struct topo_binding *kept)
{
	struct topo_port p = { .device_type = TOPO_DEVICE_BRIDGE, .has_mac = true,
			       .has_addr = true };
	struct topo_binding b = { 0 };
	const char *host = hosts[i % n_hosts];
	char ifname[TOPO_IFNAME_MAX];

	topo_new_uuid(p.id);
	snprintf(p.device_id, sizeof(p.device_id), "%s", bridge_id);
	p.tunnel_key = w->next_key++;
	p.mac[0] = 0x02;
	p.mac[1] = 0xbe;
	p.mac[2] = (uint8_t)(i >> 24);
	p.mac[3] = (uint8_t)(i >> 16);
	p.mac[4] = (uint8_t)(i >> 8);
	p.mac[5] = (uint8_t)i;
	p.addr.s_addr = htonl(0x0a000000u | (uint32_t)(i + 1)); /* 10.0.0.0/8 */
	snprintf(ifname, sizeof(ifname), "p%lu", i);
	snprintf(b.port_id, sizeof(b.port_id), "%s", p.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_port(&p), P_PORT, p.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_port_guard(host, ifname), P_PORT_BINDING,
		   p.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_binding(&b), P_BINDING, host, ifname);
	if (kept) {
		*kept = b;
		snprintf(kept->interface, sizeof(kept->interface), "%s", ifname);
	}
}

/* Each synthetic host's binding index, as the library's writes keep it: every binding made
 * on it (czxid 0, "made by the index's write": they sort by port id), its directory's
 * cversion the count, as populate made the directory. */
static int indexes_write(struct writer *w, char hosts[][TOPO_ID_LEN], unsigned long n_hosts)
{
	int rc = 0;

	for (unsigned long h = 0; h < n_hosts && !rc; h++) {
		char *data = topo_encode_binding_index(w->bound[h], w->n_bound[h],
						       (int32_t)w->n_bound[h]);

		if (!data)
			return -ENOMEM;
		txn_set(&w->x, -1, data, P_BINDINGS, hosts[h]);
		rc = flush(w);
	}
	return rc;
}

/* add-port's binding put into its host's index, when that is current (else readers read
 * the nodes anyway). */
static int index_append(struct writer *w, const char *host, const struct topo_binding *nb)
{
	char path[TOPO_PATH_MAX], *buf = malloc(TOPO_INDEX_MAX), *data;
	struct topo_binding *b = NULL, *grown;
	int len = TOPO_INDEX_MAX, rc;
	int32_t synced;
	struct Stat st;
	size_t n = 0;

	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), P_BINDINGS, host);
	rc = zoo_get(w->zh, path, 0, buf, &len, &st) == ZOK && len > 0 ? 0 : -EIO;
	if (!rc && (topo_decode_binding_index(buf, (size_t)len, st.mzxid, &synced, &b, &n) ||
		    synced != st.cversion))
		rc = 1;
	free(buf);
	if (rc) {
		free(b);
		return rc < 0 ? rc : 0;
	}
	grown = realloc(b, (n + 1) * sizeof(*b));
	if (!grown) {
		free(b);
		return -ENOMEM;
	}
	grown[n] = *nb;
	data = topo_encode_binding_index(grown, n + 1, synced + 1);
	free(grown);
	if (!data)
		return -ENOMEM;
	txn_set(&w->x, -1, data, P_BINDINGS, host);
	return 0;
}

/* Route i's destination: pair i / 2 is the /24 at 10.0.0.0 + 256 * (i / 2); an even i
 * routes that /24, an odd i the /32 of its first host (a more specific route inside it).
 * Every prefix distinct, none in the router port's subnet. */
static struct topo_cidr route_dst(unsigned long i)
{
	struct topo_cidr c = { .len = i % 2 ? 32 : 24 };

	c.addr.s_addr = htonl(0x0a000000u + (uint32_t)(i / 2) * 256u + (uint32_t)(i % 2));
	return c;
}

static void route_add(struct writer *w, const char *router_id, const char *port_id,
		      unsigned long i)
{
	struct topo_route r = { .type = TOPO_ROUTE_NORMAL, .weight = TOPO_WEIGHT_DEFAULT,
				.has_gw = true };

	topo_new_uuid(r.id);
	r.dst = route_dst(i);
	snprintf(r.port_id, sizeof(r.port_id), "%s", port_id);
	r.gw.s_addr = htonl(RT_PORT_ADDR + 1 + (uint32_t)(i % RT_GATEWAYS));
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_route(&r), P_ROUTE, router_id, r.id);
}

/* A router port's MAC, as the library makes it: 02:6d:78 and its tunnel key. */
static void router_port_mac(uint32_t key, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0x6d, 0x78, (uint8_t)(key >> 16), (uint8_t)(key >> 8),
			       (uint8_t)key };

	memcpy(mac, m, 6);
}

/* Router "bench-rt", its port 100.64.0.1/10 with its port route (as the library's router
 * port create writes them) linked to a port of bridge "bench-rt-net", and n_routes routes.
 * Prints the midox_route entries the agent makes of it: the routes, the port's subnet and
 * its own address. */
static int routes_populate(struct writer *w, unsigned long n_routes)
{
	struct topo_router r = { 0 };
	struct topo_bridge b = { 0 };
	struct topo_port rp = { .device_type = TOPO_DEVICE_ROUTER, .has_mac = true, .n_nets = 1 };
	struct topo_port bp = { .device_type = TOPO_DEVICE_BRIDGE };
	struct topo_route pr = { .type = TOPO_ROUTE_NORMAL, .weight = TOPO_WEIGHT_DEFAULT,
				 .port_route = true };
	unsigned long i;
	int rc = 0;

	topo_new_uuid(r.id);
	topo_new_uuid(b.id);
	topo_new_uuid(rp.id);
	topo_new_uuid(bp.id);
	topo_new_uuid(pr.id);
	snprintf(r.name, sizeof(r.name), "bench-rt");
	r.tunnel_key = w->next_key++;
	snprintf(b.name, sizeof(b.name), "bench-rt-net");
	b.tunnel_key = w->next_key++;
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_router(&r), P_ROUTER, r.id);
	txn_create(&w->x, ZOO_PERSISTENT, NULL, P_ROUTES, r.id);
	txn_create(&w->x, ZOO_PERSISTENT, NULL, P_ARPS_STATIC, r.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_bridge(&b), P_BRIDGE, b.id);
	txn_create(&w->x, ZOO_PERSISTENT, NULL, P_MACS, b.id);

	snprintf(rp.device_id, sizeof(rp.device_id), "%s", r.id);
	rp.tunnel_key = w->next_key++;
	router_port_mac(rp.tunnel_key, rp.mac);
	rp.nets[0].addr.s_addr = htonl(RT_PORT_ADDR);
	rp.nets[0].len = RT_PORT_LEN;
	snprintf(rp.peer_id, sizeof(rp.peer_id), "%s", bp.id);
	snprintf(bp.device_id, sizeof(bp.device_id), "%s", b.id);
	bp.tunnel_key = w->next_key++;
	snprintf(bp.peer_id, sizeof(bp.peer_id), "%s", rp.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_port(&rp), P_PORT, rp.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_port(&bp), P_PORT, bp.id);
	pr.dst.addr = topo_cidr_network(&rp.nets[0]);
	pr.dst.len = rp.nets[0].len;
	snprintf(pr.port_id, sizeof(pr.port_id), "%s", rp.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_route(&pr), P_ROUTE, r.id, pr.id);

	for (i = 0; i < n_routes && !rc; i++) {
		route_add(w, r.id, rp.id, i);
		rc = maybe_flush(w);
	}
	if (!rc)
		printf("router %s port %s midox_route %lu\n", r.id, rp.id, n_routes + 2);
	return rc;
}

static int populate(struct writer *w, int argc, char **argv)
{
	unsigned long n_ports, n_hosts, per_bridge, n_routes = 0, i;
	struct topo_zone z = { .type = "vxlan" };
	char (*hosts)[TOPO_ID_LEN];
	char bridge_id[TOPO_ID_LEN] = "", name[TOPO_NAME_MAX], addr[32];
	int rc = 0;

	if (argc > 3 && !strcmp(argv[2], "--routes")) {
		n_routes = strtoul(argv[3], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc < 5 || n_routes > ROUTES_MAX)
		return -EINVAL;
	n_ports = strtoul(argv[4], NULL, 10);
	n_hosts = argc > 5 ? strtoul(argv[5], NULL, 10) : 8;
	per_bridge = argc > 6 ? strtoul(argv[6], NULL, 10) : 100;
	if (!n_hosts || n_hosts > 100 || !per_bridge)
		return -EINVAL;
	hosts = calloc(n_hosts, sizeof(*hosts));
	w->bound = calloc(n_hosts, sizeof(*w->bound));
	w->n_bound = calloc(n_hosts, sizeof(*w->n_bound));
	for (i = 0; w->bound && i < n_hosts; i++)
		if (!(w->bound[i] = calloc(n_ports / n_hosts + 1, sizeof(**w->bound))))
			rc = -ENOMEM;
	rc = !hosts || !w->bound || !w->n_bound || rc ? -ENOMEM : key_read(w);
	if (rc)
		goto out;
	snprintf(z.name, sizeof(z.name), "bench");
	topo_new_uuid(z.id);
	txn_create(&w->x, ZOO_PERSISTENT, topo_encode_zone(&z), P_ZONE, z.id);
	txn_create(&w->x, ZOO_PERSISTENT, NULL, P_MEMBERS, z.id);
	host_add(w, argv[2], "bench-self", z.id, argv[3]);
	for (i = 0; i < n_hosts; i++) {
		topo_new_uuid(hosts[i]);
		snprintf(name, sizeof(name), "bench-h%lu", i);
		snprintf(addr, sizeof(addr), "192.0.2.%lu", FIRST_HOST_ADDR + i);
		host_add(w, hosts[i], name, z.id, addr);
	}
	for (i = 0, rc = 0; i < n_ports && !rc; i++) {
		if (i % per_bridge == 0) {
			struct topo_bridge b = { .tunnel_key = w->next_key++ };

			topo_new_uuid(b.id);
			snprintf(b.name, sizeof(b.name), "bench%lu", i / per_bridge);
			snprintf(bridge_id, sizeof(bridge_id), "%s", b.id);
			txn_create(&w->x, ZOO_PERSISTENT, topo_encode_bridge(&b), P_BRIDGE, b.id);
			txn_create(&w->x, ZOO_PERSISTENT, NULL, P_MACS, b.id);
		}
		port_add(w, bridge_id, i, hosts, n_hosts,
			 &w->bound[i % n_hosts][w->n_bound[i % n_hosts]++]);
		rc = maybe_flush(w);
	}
	if (!rc && n_routes)
		rc = routes_populate(w, n_routes);
	if (!rc)
		rc = key_commit(w);
	if (!rc)
		rc = indexes_write(w, hosts, n_hosts);
out:
	for (i = 0; w->bound && i < n_hosts; i++)
		free(w->bound[i]);
	free(w->bound);
	free(w->n_bound);
	free(hosts);
	return rc;
}

/* One more port on the first bridge (in name order), bound to interface "x<key>" of the
 * first synthetic host found. */
static int add_port(struct writer *w)
{
	struct String_vector bridges = { 0 }, hosts = { 0 };
	char host[1][TOPO_ID_LEN] = { "" };
	int rc = 0;

	if (key_read(w) || zoo_get_children(w->zh, "/midox/bridges", 0, &bridges) != ZOK ||
	    zoo_get_children(w->zh, "/midox/hosts", 0, &hosts) != ZOK || !bridges.count)
		return -EIO;
	for (int i = 0; i < hosts.count && !host[0][0]; i++) {
		char path[TOPO_PATH_MAX], buf[512];
		int len = sizeof(buf) - 1;

		snprintf(path, sizeof(path), P_HOST, hosts.data[i]);
		if (zoo_get(w->zh, path, 0, buf, &len, NULL) == ZOK && len > 0 &&
		    (buf[len] = '\0', strstr(buf, "\"bench-h")))
			snprintf(host[0], sizeof(host[0]), "%s", hosts.data[i]);
	}
	rc = host[0][0] ? 0 : -ENOENT;
	if (!rc) {
		struct topo_binding nb = { 0 };

		port_add(w, bridges.data[0], 0x00ffffff - w->next_key, host, 1, &nb);
		rc = index_append(w, host[0], &nb);
	}
	if (!rc)
		rc = key_commit(w);
	deallocate_String_vector(&bridges);
	deallocate_String_vector(&hosts);
	return rc;
}

/* Route I of populate's sequence, and the router rewritten at its version (as the
 * library's route add orders itself against other changes on the router). */
static int add_route(struct writer *w, int argc, char **argv)
{
	char path[TOPO_PATH_MAX], buf[512];
	int len = sizeof(buf) - 1;
	struct Stat st;
	unsigned long i;

	if (argc < 5 || !topo_valid_uuid(argv[2]) || !topo_valid_uuid(argv[3]))
		return -EINVAL;
	i = strtoul(argv[4], NULL, 10);
	if (i >= ROUTES_MAX)
		return -EINVAL;
	snprintf(path, sizeof(path), P_ROUTER, argv[2]);
	if (zoo_get(w->zh, path, 0, buf, &len, &st) != ZOK || len < 0)
		return topo_fail(-ENOENT, "no router %s", argv[2]);
	txn_set(&w->x, st.version, strndup(buf, (size_t)len), P_ROUTER, argv[2]);
	route_add(w, argv[2], argv[3], i);
	return flush(w);
}

/* The learning benchmark's clock: how many MACs the host has published, polled cheaply. */
static int wait_macs(struct writer *w, int argc, char **argv)
{
	char path[TOPO_PATH_MAX];
	struct timespec ts;
	time_t deadline;
	struct Stat st;
	long want;

	if (argc < 5 || !topo_valid_uuid(argv[2]))
		return -EINVAL;
	want = atol(argv[3]);
	deadline = time(NULL) + atol(argv[4]);
	snprintf(path, sizeof(path), P_HOST_MACS, argv[2]);
	for (;;) {
		st.numChildren = 0;
		if (zoo_exists(w->zh, path, 0, &st) != ZOK)
			st.numChildren = 0;
		if (st.numChildren >= want) {
			clock_gettime(CLOCK_REALTIME, &ts);
			printf("reached %d at %ld.%06ld\n", st.numChildren, (long)ts.tv_sec,
			       ts.tv_nsec / 1000);
			return 0;
		}
		if (time(NULL) > deadline)
			break;
		usleep(20000);
	}
	printf("timeout %d\n", st.numChildren);
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	const char *servers = getenv("MIDOX_ZK_SERVERS");
	struct writer w = { 0 };
	int rc = 0;

	mx_log_init("mxbench-topo", MX_LOG_WARN);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if (argc < 2) {
		fprintf(stderr, "usage: see the head of tools/bench/mxbench-topo.c\n");
		return 2;
	}
	rc = topo_connect(servers ? servers : "127.0.0.1:2181", 10000, NULL, NULL, &w.zh);
	if (!rc)
		rc = topo_ensure_root(w.zh);
	if (rc) {
		fprintf(stderr, "mxbench-topo: ZooKeeper: %s\n", topo_errmsg());
		return 1;
	}
	txn_init(&w.x);
	if (!strcmp(argv[1], "populate"))
		rc = populate(&w, argc, argv);
	else if (!strcmp(argv[1], "add-port"))
		rc = add_port(&w);
	else if (!strcmp(argv[1], "add-route"))
		rc = add_route(&w, argc, argv);
	else if (!strcmp(argv[1], "wait-macs"))
		rc = wait_macs(&w, argc, argv);
	else
		rc = -EINVAL;
	txn_free(&w.x);
	topo_close(w.zh);
	if (rc == -ETIMEDOUT)
		return 1; /* wait-macs said so */
	if (rc) {
		fprintf(stderr, "mxbench-topo: %s: %s\n", argv[1], rc == -EINVAL ? "bad arguments" :
			topo_errmsg());
		return 1;
	}
	if (w.multis)
		printf("wrote %lu operations in %lu multis\n", w.ops, w.multis);
	return 0;
}
