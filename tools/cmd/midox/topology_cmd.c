// SPDX-License-Identifier: Apache-2.0
/* topology [show] [format dot|svg]: the whole virtual topology of one snapshot as a
 * Graphviz picture. Tunnel zones and hosts (members: zone -- host, labelled with the
 * address), bridges and routers with their ports (device -- port), links between interior
 * ports, bindings (port -- host, labelled with the interface; router ports: uplinks). A
 * router's label lists its routes but the port routes, at most ROUTES_SHOWN. Every node is
 * named by its alias, everything comes in a fixed order (by name, then id; ports by their
 * device, then their number), so two pictures of one topology are equal and a diff shows
 * what changed. svg is the same source run through "dot -Tsvg". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cli.h"

#define ROUTES_SHOWN 8
#define LABEL_MAX 1024

extern char **environ;

const char *const cli_topology_formats[] = { "dot", "svg", NULL };

/* ---- order ---- */

/* What an object sorts by: up to four strings (NULL as ""), then a number. */
struct ord {
	const char *k[4];
	size_t n;
	const void *obj;
	bool router;	/* devices and ports: a router's */
};

static int ord_cmp(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;
	int i, d;

	for (i = 0; i < 4; i++) {
		d = strcmp(x->k[i] ? x->k[i] : "", y->k[i] ? y->k[i] : "");
		if (d)
			return d;
	}
	return (x->n > y->n) - (x->n < y->n);
}

/* A port sorts with its device (by name, then id), then by its number on the device. */
static struct ord port_ord(const struct topology *t, const struct topo_port *p)
{
	struct ord o = { .n = p->ordinal, .obj = p };
	const struct topo_bridge *b = topo_find_bridge_by_id(t, p->device_id);
	const struct topo_router *r = b ? NULL : topo_find_router_by_id(t, p->device_id);

	o.k[0] = b ? b->name : r ? r->name : "";
	o.k[1] = p->device_id;
	o.router = p->device_type == TOPO_DEVICE_ROUTER;
	return o;
}

/* Everything the picture walks, sorted. */
struct picture {
	struct ord *zones, *hosts, *members, *devices, *ports;
	size_t n_zones, n_hosts, n_members, n_devices, n_ports;
	/* per router (by its index in the snapshot): the routes shown, and how many it has */
	const struct topo_route *(*routes)[ROUTES_SHOWN];
	size_t *n_routes;
};

static void picture_free(struct picture *p)
{
	free(p->zones);
	free(p->hosts);
	free(p->members);
	free(p->devices);
	free(p->ports);
	free(p->routes);
	free(p->n_routes);
}

static int picture_alloc(const struct topology *t, struct picture *p)
{
	p->zones = calloc(t->n_zones + 1, sizeof(*p->zones));
	p->hosts = calloc(t->n_hosts + 1, sizeof(*p->hosts));
	p->members = calloc(t->n_members + 1, sizeof(*p->members));
	p->devices = calloc(t->n_bridges + t->n_routers + 1, sizeof(*p->devices));
	p->ports = calloc(t->n_ports + 1, sizeof(*p->ports));
	p->routes = calloc(t->n_routers + 1, sizeof(*p->routes));
	p->n_routes = calloc(t->n_routers + 1, sizeof(*p->n_routes));
	if (!p->zones || !p->hosts || !p->members || !p->devices || !p->ports || !p->routes ||
	    !p->n_routes)
		return -ENOMEM;
	return 0;
}

/* The routes each router's label lists: all but the port routes, in their order. */
static void picture_routes(const struct topology *t, struct picture *p)
{
	const struct topo_router *r;
	size_t i, at;

	for (i = 0; i < t->n_routes; i++) {
		if (t->routes[i].port_route)
			continue;
		r = topo_find_router_by_id(t, t->routes[i].router_id);
		if (!r)
			continue;
		at = (size_t)(r - t->routers);
		if (p->n_routes[at] < ROUTES_SHOWN)
			p->routes[at][p->n_routes[at]] = &t->routes[i];
		p->n_routes[at]++;
	}
}

static int picture_build(const struct topology *t, struct picture *p)
{
	const struct topo_zone *z;
	const struct topo_host *h;
	size_t i;
	int rc = picture_alloc(t, p);

	if (rc)
		return rc;
	for (i = 0; i < t->n_zones; i++)
		p->zones[p->n_zones++] = (struct ord){ { t->zones[i].name, t->zones[i].id },
						       .obj = &t->zones[i] };
	for (i = 0; i < t->n_hosts; i++)
		p->hosts[p->n_hosts++] = (struct ord){ { t->hosts[i].name, t->hosts[i].id },
						       .obj = &t->hosts[i] };
	for (i = 0; i < t->n_members; i++) {
		z = topo_find_zone_by_id(t, t->members[i].zone_id);
		h = topo_find_host_by_id(t, t->members[i].host_id);
		if (z && h)
			p->members[p->n_members++] = (struct ord){
				{ z->name, z->id, h->name, h->id }, .obj = &t->members[i] };
	}
	for (i = 0; i < t->n_bridges; i++)
		p->devices[p->n_devices++] = (struct ord){ { t->bridges[i].name, t->bridges[i].id },
							   .obj = &t->bridges[i] };
	for (i = 0; i < t->n_routers; i++)
		p->devices[p->n_devices++] = (struct ord){ { t->routers[i].name, t->routers[i].id },
							   .obj = &t->routers[i],
							   .router = true };
	for (i = 0; i < t->n_ports; i++)
		p->ports[p->n_ports++] = port_ord(t, &t->ports[i]);
	qsort(p->zones, p->n_zones, sizeof(*p->zones), ord_cmp);
	qsort(p->hosts, p->n_hosts, sizeof(*p->hosts), ord_cmp);
	qsort(p->members, p->n_members, sizeof(*p->members), ord_cmp);
	qsort(p->devices, p->n_devices, sizeof(*p->devices), ord_cmp);
	qsort(p->ports, p->n_ports, sizeof(*p->ports), ord_cmp);
	picture_routes(t, p);
	return 0;
}

/* ---- dot ---- */

/* s as a dot string: '"' and '\' escaped (an interface name may hold them), a newline as
 * dot's line break. */
static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Append a line to a label. */
static void line_add(char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_add(char *label, const char *fmt, ...)
{
	size_t n = strlen(label);
	va_list ap;

	if (n && n < LABEL_MAX - 1)
		label[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(label + n, LABEL_MAX - n, fmt, ap);
	va_end(ap);
}

/* "ID [attrs, label=LABEL];" */
static void dot_node(FILE *f, const char *id, const char *attrs, const char *label)
{
	fputc('\t', f);
	dot_str(f, id);
	fprintf(f, " [%s%slabel=", attrs, *attrs ? ", " : "");
	dot_str(f, label);
	fputs("];\n", f);
}

/* "A -- B [attrs, label=LABEL];" (no brackets when neither is given) */
static void dot_edge(FILE *f, const char *a, const char *b, const char *attrs, const char *label)
{
	fputc('\t', f);
	dot_str(f, a);
	fputs(" -- ", f);
	dot_str(f, b);
	if (*attrs || label)
		fprintf(f, " [%s%s", attrs, *attrs && label ? ", " : "");
	if (label) {
		fputs("label=", f);
		dot_str(f, label);
	}
	fputs(*attrs || label ? "];\n" : ";\n", f);
}

static const char *ip(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void out_zones(struct cli *c, FILE *f, const struct picture *p)
{
	char a[64], ha[64], addr[INET_ADDRSTRLEN], label[LABEL_MAX];
	size_t i;

	fputs("\t// tunnel zones, hosts, members (zone -- host: its tunnel address)\n", f);
	for (i = 0; i < p->n_zones; i++) {
		const struct topo_zone *z = p->zones[i].obj;

		*label = '\0';
		line_add(label, "tunnel zone %s", z->name);
		line_add(label, "%s %s", cli_alias(c, z->id, a), z->type);
		dot_node(f, a, "shape=hexagon, style=filled, fillcolor=\"#f3e8ff\"", label);
	}
	for (i = 0; i < p->n_hosts; i++) {
		const struct topo_host *h = p->hosts[i].obj;

		*label = '\0';
		line_add(label, "host %s", h->name);
		line_add(label, "%s %s", cli_alias(c, h->id, a), h->alive ? "alive" : "not alive");
		dot_node(f, a, h->alive ? "shape=box3d, style=filled, fillcolor=\"#e8f5e0\"" :
				       "shape=box3d, style=dashed, color=gray40", label);
	}
	for (i = 0; i < p->n_members; i++) {
		const struct topo_member *m = p->members[i].obj;

		dot_edge(f, cli_alias(c, m->zone_id, a), cli_alias(c, m->host_id, ha),
			 "style=dashed", ip(m->addr, addr));
	}
}

/* A route as one line: "0.0.0.0/0 via 172.16.0.2 port2", "10.9.0.0/16 blackhole". */
static void route_line(struct cli *c, char *label, const struct topo_route *r)
{
	char dst[TOPO_CIDR_STRLEN], src[TOPO_CIDR_STRLEN], gw[INET_ADDRSTRLEN], pa[64];
	char line[160] = "";

	topo_format_cidr(&r->dst, dst);
	topo_format_cidr(&r->src, src);
	snprintf(line, sizeof(line), "%s", dst);
	if (r->src.len)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " from %s", src);
	if (r->has_gw)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " via %s", ip(r->gw, gw));
	if (r->type == TOPO_ROUTE_NORMAL && *r->port_id) {
		cli_alias(c, r->port_id, pa);
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s",
			 strchr(pa, ':') ? strchr(pa, ':') + 1 : pa);
	}
	if (r->type != TOPO_ROUTE_NORMAL)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s",
			 topo_route_type_name(r->type));
	if (r->weight != TOPO_WEIGHT_DEFAULT)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), " weight %u", r->weight);
	line_add(label, "%s", line);
}

static void out_device(struct cli *c, FILE *f, const struct topology *t,
		       const struct picture *p, const struct ord *d)
{
	const struct topo_bridge *b = d->router ? NULL : d->obj;
	const struct topo_router *r = d->router ? d->obj : NULL;
	const char *id = b ? b->id : r->id;
	bool down = b ? b->down : r->down;
	char a[64], label[LABEL_MAX] = "", attrs[128];
	size_t at, i;

	line_add(label, "%s %s", b ? "bridge" : "router", b ? b->name : r->name);
	line_add(label, "%s%s", cli_alias(c, id, a), down ? " state down" : "");
	if (r) {
		at = (size_t)(r - t->routers);
		for (i = 0; i < p->n_routes[at] && i < ROUTES_SHOWN; i++)
			route_line(c, label, p->routes[at][i]);
		if (p->n_routes[at] > ROUTES_SHOWN)
			line_add(label, "(%zu more routes)", p->n_routes[at] - ROUTES_SHOWN);
	}
	snprintf(attrs, sizeof(attrs), "shape=%s, style=\"filled%s\", fillcolor=\"%s\"",
		 b ? "box" : "octagon", down ? ",dashed" : "", b ? "#dbe9ff" : "#ffe3c2");
	dot_node(f, a, attrs, label);
}

static void out_port(struct cli *c, FILE *f, const struct topo_port *q)
{
	char a[64], da[64], mac[18], addr[INET_ADDRSTRLEN], net[TOPO_CIDR_STRLEN];
	char label[LABEL_MAX] = "";
	size_t i;

	cli_alias(c, q->id, a);
	line_add(label, "%s%s", strchr(a, ':') ? strchr(a, ':') + 1 : a,
		 q->down ? " state down" : "");
	if (q->has_mac) {
		topo_format_mac(q->mac, mac);
		line_add(label, "%s", mac);
	}
	if (q->device_type == TOPO_DEVICE_BRIDGE && q->has_addr)
		line_add(label, "%s", ip(q->addr, addr));
	for (i = 0; i < q->n_nets; i++) {
		topo_format_cidr(&q->nets[i], net);
		line_add(label, "%s", net);
	}
	dot_node(f, a, q->down ? "shape=ellipse, style=dashed" : "shape=ellipse", label);
	dot_edge(f, cli_alias(c, q->device_id, da), a, "", NULL);
}

/* Every device with its ports after it (both sorted the same way: a walk of each). */
static void out_devices(struct cli *c, FILE *f, const struct topology *t,
			const struct picture *p)
{
	size_t d, q = 0;

	fputs("\t// bridges and routers (a router's routes but its port routes), their ports\n",
	      f);
	for (d = 0; d < p->n_devices; d++) {
		const char *id = p->devices[d].k[1];

		out_device(c, f, t, p, &p->devices[d]);
		for (; q < p->n_ports && !strcmp(p->ports[q].k[1], id); q++)
			out_port(c, f, p->ports[q].obj);
	}
}

/* Each link once: from its bridge port, or between routers from the port sorting first. */
static void out_links(struct cli *c, FILE *f, const struct topology *t,
		      const struct picture *p)
{
	char a[64], pa[64];
	size_t i;

	fputs("\t// links between interior ports\n", f);
	for (i = 0; i < p->n_ports; i++) {
		const struct topo_port *q = p->ports[i].obj, *peer;
		struct ord po;

		if (!*q->peer_id)
			continue;
		peer = topo_find_port_by_id(t, q->peer_id);
		if (!peer)
			continue;
		po = port_ord(t, peer);
		if (q->device_type == TOPO_DEVICE_ROUTER &&
		    (peer->device_type == TOPO_DEVICE_BRIDGE || ord_cmp(&p->ports[i], &po) > 0))
			continue;
		dot_edge(f, cli_alias(c, q->id, a), cli_alias(c, peer->id, pa),
			 "style=bold, color=\"#2060c0\"", NULL);
	}
}

static void out_bindings(struct cli *c, FILE *f, const struct topology *t,
			 const struct picture *p)
{
	char a[64], ha[64], label[64];
	size_t i;

	fputs("\t// bindings: port -- host, labelled with the interface (router ports: uplinks)\n",
	      f);
	for (i = 0; i < p->n_ports; i++) {
		const struct topo_port *q = p->ports[i].obj;
		const struct topo_binding *bd = topo_find_port_binding(t, q->id);
		bool uplink = q->device_type == TOPO_DEVICE_ROUTER;

		if (!bd)
			continue;
		snprintf(label, sizeof(label), "%s%s", uplink ? "uplink " : "", bd->interface);
		dot_edge(f, cli_alias(c, q->id, a), cli_alias(c, bd->host_id, ha),
			 uplink ? "color=\"#c05000\", penwidth=2" : "color=\"#208020\"", label);
	}
}

static void out_dot(struct cli *c, FILE *f, const struct topology *t, const struct picture *p)
{
	fputs("graph midox {\n"
	      "\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=10];\n"
	      "\tnode [fontname=\"Helvetica\", fontsize=10];\n"
	      "\tedge [fontname=\"Helvetica\", fontsize=9];\n", f);
	out_zones(c, f, p);
	out_devices(c, f, t, p);
	out_links(c, f, t, p);
	out_bindings(c, f, t, p);
	fputs("}\n", f);
}

/* ---- svg ---- */

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copy what fd holds, from its start, to stdout. */
static int copy_out(int fd)
{
	char buf[65536];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -EIO;
	}
	return 0;
}

/* Start "dot -Tsvg" reading in, writing out; its pid, or an error naming the package. */
static int spawn_dot(int in, int out, pid_t *pid)
{
	char *argv[] = { (char *)"dot", (char *)"-Tsvg", NULL };
	posix_spawn_file_actions_t fa;
	int rc;

	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	rc = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	if (!rc)
		rc = posix_spawnp(pid, "dot", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == ENOENT)
		return cli_fail(-ENOEXEC, "format svg needs Graphviz's dot, which is not in PATH: "
				"install the Debian package graphviz");
	if (rc)
		return cli_fail(-rc, "cannot run Graphviz's dot: %s", strerror(rc));
	return 0;
}

/* dot's whole output first, printed only when it succeeded: nothing half-written. Both
 * ends are memory files, so neither side waits on a pipe. */
static int run_dot(const char *src, size_t len)
{
	int in = memfd_create("midox-dot-in", MFD_CLOEXEC);
	int out = memfd_create("midox-dot-out", MFD_CLOEXEC);
	int rc, status;
	pid_t pid;

	if (in < 0 || out < 0) {
		rc = cli_fail(-errno, "cannot run Graphviz's dot: %s", strerror(errno));
		goto out;
	}
	rc = write_all(in, src, len);
	if (!rc && lseek(in, 0, SEEK_SET) < 0)
		rc = -errno;
	if (rc) {
		cli_fail(rc, "cannot run Graphviz's dot: %s", strerror(-rc));
		goto out;
	}
	rc = spawn_dot(in, out, &pid);
	if (rc)
		goto out;
	while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = cli_fail(-errno, "cannot wait for Graphviz's dot: %s", strerror(errno));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		rc = cli_fail(-EIO, "Graphviz's dot -Tsvg failed (%s %d)",
			      WIFEXITED(status) ? "exit" : "signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		goto out;
	}
	rc = copy_out(out);
	if (rc)
		cli_fail(rc, "cannot print the picture: %s", strerror(-rc));
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* ---- the command ---- */

static int topology_show(struct cli *c, const struct cli_call *k)
{
	const char *format = k->v[0].s ? k->v[0].s : c->format ? c->format : "dot";
	struct picture p = { 0 };
	char *src = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int rc;

	if (c->json)
		return cli_fail(-EINVAL, "topology show prints dot or svg, not JSON: leave out --json");
	rc = picture_build(&c->t, &p);
	if (!rc) {
		f = open_memstream(&src, &len);
		rc = f ? 0 : -ENOMEM;
	}
	if (!rc) {
		out_dot(c, f, &c->t, &p);
		rc = ferror(f) ? -ENOMEM : 0;
		rc = fclose(f) || rc ? -ENOMEM : 0;
	}
	if (rc)
		cli_fail(rc, "cannot draw the topology: %s", strerror(-rc));
	else if (!strcmp(format, "svg"))
		rc = run_dot(src, len);
	else if (fwrite(src, 1, len, stdout) != len)
		rc = cli_fail(-EIO, "cannot print the picture: %s", strerror(EIO));
	free(src);
	picture_free(&p);
	return rc;
}

static const struct cli_cmd topology_type_cmds[] = {
	{ "show", topology_show, "the whole topology as a Graphviz picture (default dot)",
	  .args = (const struct cli_arg[]){
		  { "format", CLI_T_KEYWORD, .choices = cli_topology_formats }, { 0 } } },
	{ 0 },
};

const struct cli_obj cli_obj_topology = {
	.word = "topology", .title = "topology", .type_cmds = topology_type_cmds,
	.bare = "show",
};
