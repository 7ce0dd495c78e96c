// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the agent's BGP plan and BIRD configuration (agent/bgp/plan.c, conf.c):
 * which bindings of a hand-made snapshot want a speaker, and what BIRD is told; every
 * configuration made is checked by the real BIRD (`bird -p -c`). TAP output. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/bgp/auth.h"
#include "agent/bgp/conf.h"
#include "agent/bgp/plan.h"
#include "agent/bgp/status.h"
#include "base/clock.h"
#include "base/log.h"
#include "tap.h"


#define HOST_A "0a000000-0000-4000-8000-00000000000a"
#define HOST_B "0b000000-0000-4000-8000-00000000000b"
#define R_UP "0b3c4d5e-0000-4000-8000-000000000001"   /* AS 100 */
#define R_NOAS "0b3c4d5e-0000-4000-8000-000000000002" /* no AS number */
#define P_UP "0b3c4d5e-0000-4000-8000-0000000000a1"   /* 198.51.100.1/24, bound on A */
#define P_IN "0b3c4d5e-0000-4000-8000-0000000000a2"   /* 10.0.0.1/24, not bound */
#define P_B "0b3c4d5e-0000-4000-8000-0000000000a3"    /* 203.0.113.1/24, bound on B */
#define P_NOAS "0b3c4d5e-0000-4000-8000-0000000000a4" /* R_NOAS's, bound on A */

static struct topo_cidr cidr(const char *s)
{
	struct topo_cidr c = { 0 };

	topo_parse_cidr(s, &c);
	return c;
}

static struct in_addr ip(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a;
}

/* Whether BIRD accepts text as a configuration (its own parser, `bird -p -c`). */
static bool bird_accepts(const char *text)
{
	char path[] = "/tmp/midox-bgp-conf.XXXXXX", cmd[128];
	int fd = mkstemp(path), rc;
	size_t len = strlen(text);

	if (fd < 0)
		return false;
	rc = write(fd, text, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "bird -p -c %s", path);
	if (!rc)
		rc = system(cmd);
	unlink(path);
	return rc == 0;
}

static struct topo_router routers[2] = {
	{ .id = R_UP, .name = "edge", .tunnel_key = 1, .asn = 100 },
	{ .id = R_NOAS, .name = "noas", .tunnel_key = 2 },
};
static struct topo_port ports[4] = {
	{ .id = P_UP, .device_id = R_UP, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 0x1f,
	  .has_mac = true, .mac = { 2, 0x6d, 0x78, 0, 0, 0x1f }, .n_nets = 2 },
	{ .id = P_IN, .device_id = R_UP, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 0x20,
	  .has_mac = true, .mac = { 2, 0x6d, 0x78, 0, 0, 0x20 }, .n_nets = 1 },
	{ .id = P_B, .device_id = R_UP, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 0x21,
	  .has_mac = true, .mac = { 2, 0x6d, 0x78, 0, 0, 0x21 }, .n_nets = 1 },
	{ .id = P_NOAS, .device_id = R_NOAS, .device_type = TOPO_DEVICE_ROUTER, .tunnel_key = 0x22,
	  .has_mac = true, .mac = { 2, 0x6d, 0x78, 0, 0, 0x22 }, .n_nets = 1 },
};
static struct topo_binding bindings[3] = {
	{ .host_id = HOST_A, .interface = "gns3out", .port_id = P_UP },
	{ .host_id = HOST_B, .interface = "uplink", .port_id = P_B },
	{ .host_id = HOST_A, .interface = "other", .port_id = P_NOAS },
};
static struct topo_bgp_peer peers[5] = {
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000b1", .router_id = R_UP, .asn = 3,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 },
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000b2", .router_id = R_UP, .asn = 3,
	  .keep_alive = 3, .hold_time = 9, .connect_retry = 5, .password = "s3cret key!" },
	/* On another port's subnet (not bound here), on the second address, of another
	 * router: */
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000b3", .router_id = R_UP, .asn = 7,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 },
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000b4", .router_id = R_UP, .asn = 4200000000u,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 },
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000b5", .router_id = R_NOAS, .asn = 3,
	  .keep_alive = 60, .hold_time = 180, .connect_retry = 120 },
};
static struct topo_bgp_network networks[2] = {
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000c1", .router_id = R_UP },
	{ .id = "0b3c4d5e-0000-4000-8000-0000000000c2", .router_id = R_UP },
};

static void make(struct topology *t)
{
	ports[0].nets[0] = cidr("198.51.100.1/24");
	ports[0].nets[1] = cidr("192.0.2.1/28");
	ports[1].nets[0] = cidr("10.0.0.1/24");
	ports[2].nets[0] = cidr("203.0.113.1/24");
	ports[3].nets[0] = cidr("198.18.0.1/24");
	peers[0].addr = ip("198.51.100.2");
	peers[1].addr = ip("198.51.100.3");
	peers[2].addr = ip("10.0.0.9");
	peers[3].addr = ip("192.0.2.2");
	peers[4].addr = ip("198.18.0.2");
	networks[0].net = cidr("10.0.0.0/24");
	networks[1].net = cidr("172.16.0.0/12");
	memset(t, 0, sizeof(*t));
	t->routers = routers;
	t->n_routers = 2;
	t->ports = ports;
	t->n_ports = 4;
	t->bindings = bindings;
	t->n_bindings = 3;
	t->bgp_peers = peers;
	t->n_bgp_peers = 5;
	t->bgp_networks = networks;
	t->n_bgp_networks = 2;
	topo_index(t);
}

static void test_plan(void)
{
	struct bgp_want *w = NULL;
	struct topology t;
	size_t n = 0;

	make(&t);
	tap_ok(!bgp_plan(&t, HOST_A, &w, &n) && n == 1, "host A runs one speaker (%zu)", n);
	tap_ok(n && !strcmp(w[0].port_id, P_UP) && !strcmp(w[0].ifname, "gns3out") &&
		   w[0].port_key == 0x1f && w[0].local_as == 100 && w[0].n_nets == 2,
	   "for its bound exterior port, with the router's AS number");
	tap_ok(n && w[0].n_peers == 3, "its peers: those on the port's subnets (%zu)",
	   n ? w[0].n_peers : 0);
	tap_ok(n && w[0].peers[2].local.s_addr == ip("192.0.2.1").s_addr &&
		   w[0].peers[0].local.s_addr == ip("198.51.100.1").s_addr,
	   "each with the port's address on its subnet as the local address");
	tap_ok(n && w[0].n_networks == 2, "the router's networks");
	free(w);
	w = NULL;
	tap_ok(!bgp_plan(&t, HOST_B, &w, &n) && n == 0 && !w,
	   "host B's port has no peer on its subnet: no speaker");
	routers[0].asn = 0;
	tap_ok(!bgp_plan(&t, HOST_A, &w, &n) && n == 0, "without an AS number: none");
	routers[0].asn = 100;
	ports[0].down = true;
	tap_ok(!bgp_plan(&t, HOST_A, &w, &n) && n == 0, "a port set down: none");
	ports[0].down = false;
	routers[0].down = true;
	tap_ok(!bgp_plan(&t, HOST_A, &w, &n) && n == 0, "a router set down: none");
	routers[0].down = false;
	topo_index_free(&t);
}

static void test_render(void)
{
	struct bgp_want *w = NULL;
	char buf[16384], name[BGP_PROTO_NAME_LEN], small[200];
	struct topology t;
	size_t n = 0;
	int len;

	make(&t);
	bgp_plan(&t, HOST_A, &w, &n);
	len = n ? bgp_conf_render(&w[0], buf, sizeof(buf)) : -1;
	tap_ok(len > 0 && (size_t)len == strlen(buf), "a configuration is made (%d bytes)", len);
	tap_ok(len > 0 && bird_accepts(buf), "BIRD accepts it");
	if (tap_failed) /* what it was, as TAP diagnostics */
		for (char *l = strtok(strdupa(buf), "\n"); l; l = strtok(NULL, "\n"))
			printf("# %s\n", l);
	tap_ok(strstr(buf, "router id 198.51.100.1;\n") != NULL, "router id: the port's primary address");
	tap_ok(strstr(buf, "\tlocal 198.51.100.1 as 100;\n\tneighbor 198.51.100.2 as 3;\n") != NULL,
	   "a peer with the router's AS and its own");
	tap_ok(strstr(buf, "\tlocal 192.0.2.1 as 100;\n\tneighbor 192.0.2.2 as 4200000000;\n") != NULL,
	   "a peer on the second subnet, a 4-octet AS");
	tap_ok(strstr(buf, "\thold time 9;\n\tkeepalive time 3;\n\tconnect retry time 5;\n"
		       "\tpassword \"s3cret key!\";\n") != NULL, "timers and password");
	tap_ok(strstr(buf, "\tpassword \"s3cret key!\";\n\terror wait time 5, 30;\n"
		       "\terror forget time 120;\n") != NULL &&
		   strstr(buf, "\tconnect retry time 120;\n\terror wait time 5, 30;\n"),
	   "every peer: 5 s after a session error, doubling to 30 (not BIRD's 60 to 300)");
	tap_ok(strstr(buf, "\troute 10.0.0.0/24 blackhole;\n\troute 172.16.0.0/12 blackhole;\n"),
	   "the networks, as static routes");
	tap_ok(strstr(buf, "export where proto = \"midox_networks\";") != NULL &&
		   !strstr(buf, "export all"), "only the networks are exported: no transit");
	tap_ok(strstr(buf, "kernel table 100;") && strstr(buf, "merge paths on;") &&
		   strstr(buf, "export where source = RTS_BGP;"),
	   "learned routes go to kernel table 100, with ECMP");
	tap_ok(!strstr(buf, "10.0.0.9"), "the peer of an unbound port is not in it");
	bgp_proto_name(peers[0].id, name);
	tap_ok(!strcmp(name, "peer_0b3c4d5e_0000_4000_8000_0000000000b1") && strstr(buf, name),
	   "a peer's protocol is named after its id: %s", name);
	tap_ok(n && bgp_conf_render(&w[0], small, sizeof(small)) == -ENOSPC,
	   "a buffer too small: -ENOSPC");
	/* No networks: an empty static protocol, still a valid configuration. */
	if (n) {
		w[0].n_networks = 0;
		len = bgp_conf_render(&w[0], buf, sizeof(buf));
		tap_ok(len > 0 && bird_accepts(buf), "no networks: BIRD accepts it");
	}
	free(w);
	topo_index_free(&t);
}

/* BIRD's "show protocols" reply, as the agent reads it: one row per peer's protocol. */
static void test_status_parse(void)
{
	struct bgp_want *w = NULL;
	struct topo_bgp_status st[BGP_MAX_PEERS];
	char reply[1024], p0[BGP_PROTO_NAME_LEN], p1[BGP_PROTO_NAME_LEN];
	struct topology t;
	size_t n = 0;

	make(&t);
	bgp_plan(&t, HOST_A, &w, &n);
	if (!n) {
		tap_ok(false, "a speaker to parse for");
		return;
	}
	bgp_proto_name(w[0].peers[0].id, p0);
	bgp_proto_name(w[0].peers[1].id, p1);
	snprintf(reply, sizeof(reply),
		 "Name       Proto      Table      State  Since         Info\n"
		 "device1    Device     ---        up     2026-12-03 06:00:00  \n"
		 "%s BGP        ---        up     2026-12-03 06:00:05  Established   \n"
		 "%s BGP        ---        start  2026-12-03 06:00:01  Active        "
		 "Socket: Connection refused\n", p0, p1);
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[0].state, "up") && !strcmp(st[0].info, "Established") &&
		   !strcmp(st[0].since, "2026-12-03 06:00:05") && !strcmp(st[0].peer_id, w[0].peers[0].id),
	   "an established session: state, since, information (%s, %s, %s)", st[0].state,
	   st[0].since, st[0].info);
	tap_ok(!strcmp(st[1].state, "start") && !strcmp(st[1].info, "Active Socket: Connection refused"),
	   "a session down: its information, spaces squeezed (%s)", st[1].info);
	tap_ok(!strcmp(st[2].state, "unknown") && !st[2].info[0], "a peer without a row: unknown");
	bgp_status_parse("", &w[0], st);
	tap_ok(!strcmp(st[0].state, "unknown"), "no reply (BIRD not running): unknown");
	free(w);
	topo_index_free(&t);
}

/* A TCP MD5 mismatch, which BIRD cannot see: the kernel's counters of the speaker's
 * namespace, and the peer they explain by its password setting. */
static void test_md5(void)
{
	static const char netstat[] =
		"TcpExt: SyncookiesSent TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPAOGood\n"
		"TcpExt: 0 %llu %llu %llu 0\n"
		"IpExt: InNoRoutes\nIpExt: 0\n";
	struct bgp_md5_counts c = { 0 };
	struct topo_bgp_status st[BGP_MAX_PEERS];
	struct bgp_want *w = NULL;
	char text[512], reply[1024], p0[BGP_PROTO_NAME_LEN], p1[BGP_PROTO_NAME_LEN];
	struct topology t;
	size_t n = 0;
	int err;

	snprintf(text, sizeof(text), netstat, 7ull, 8ull, 9ull);
	err = bgp_md5_counts_parse(text, &c);
	tap_ok(!err && c.not_found == 7 && c.unexpected == 8 &&
		       c.failure == 9, "the TCP MD5 counters of /proc/net/netstat (%llu %llu %llu)",
	       (unsigned long long)c.not_found, (unsigned long long)c.unexpected,
	       (unsigned long long)c.failure);
	tap_ok(bgp_md5_counts_parse("IpExt: InNoRoutes\nIpExt: 0\n", &c) == -ENOENT,
	       "without them: -ENOENT");
	make(&t);
	bgp_plan(&t, HOST_A, &w, &n);
	if (!n) {
		tap_ok(false, "a speaker to explain");
		return;
	}
	/* peers[0] has no password, peers[1] has one. */
	bgp_proto_name(w[0].peers[0].id, p0);
	bgp_proto_name(w[0].peers[1].id, p1);
	snprintf(reply, sizeof(reply),
		 "%s BGP        ---        start  2026-12-03 06:00:01  Active\n"
		 "%s BGP        ---        start  2026-12-03 06:00:01  Connect\n", p0, p1);
	bgp_md5_counts_parse(text, &c);
	bgp_md5_note(w[0].port_key, &c, mx_now_ns()); /* the baseline */
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[0].info, "Active") && !strcmp(st[1].info, "Connect"),
	       "what the namespace saw before the first read is no news (%s; %s)", st[0].info,
	       st[1].info);
	c.not_found++;
	bgp_md5_note(w[0].port_key, &c, mx_now_ns());
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[1].info, "Connect TCP MD5: the peer does not sign (no password there)") &&
		       !strcmp(st[0].info, "Active"),
	       "unsigned segments: the peer with a password is told (%s), not the other", st[1].info);
	c.unexpected++;
	bgp_md5_note(w[0].port_key, &c, mx_now_ns());
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[0].info, "Active TCP MD5: the peer signs (no password set here)"),
	       "signed segments: the peer without a password is told (%s)", st[0].info);
	c.failure++;
	bgp_md5_note(w[0].port_key, &c, mx_now_ns());
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[1].info, "Connect TCP MD5: wrong signatures (the passwords differ)"),
	       "signatures that do not verify (%s)", st[1].info);
	/* Every session up: forgotten. */
	reply[0] = '\0';
	for (size_t i = 0; i < w[0].n_peers; i++) {
		bgp_proto_name(w[0].peers[i].id, p0);
		snprintf(reply + strlen(reply), sizeof(reply) - strlen(reply),
			 "%s BGP        ---        up  2026-12-03 06:00:01  Established\n", p0);
	}
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[1].info, "Established"), "an established session names none (%s)",
	       st[1].info);
	bgp_proto_name(w[0].peers[0].id, p0);
	snprintf(reply, sizeof(reply),
		 "%s BGP        ---        start  2026-12-03 06:00:01  Active\n"
		 "%s BGP        ---        start  2026-12-03 06:00:01  Connect\n", p0, p1);
	bgp_status_parse(reply, &w[0], st);
	tap_ok(!strcmp(st[0].info, "Active") && !strcmp(st[1].info, "Connect"),
	       "once all were up, what was seen before is forgotten (%s; %s)", st[0].info,
	       st[1].info);
	bgp_md5_forget(w[0].port_key);
	bgp_md5_free();
	free(w);
	topo_index_free(&t);
}

int main(void)
{
	mx_log_init("test_bgp_conf", MX_LOG_ERROR);
	test_plan();
	test_render();
	test_status_parse();
	test_md5();
	return tap_done();
}
