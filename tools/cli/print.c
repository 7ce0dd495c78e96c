// SPDX-License-Identifier: Apache-2.0
/* Printing objects: one line of "key value" words as midonet-cli prints them, or JSON.
 * Each out_* appends to arr when listing in JSON, prints one JSON object when arr is
 * NULL in JSON mode, else prints its line. "show" adds the id and the details. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "print.h"

static void emit(struct cli *c, json_t *arr, json_t *obj, const char *line)
{
	if (!c->json)
		printf("%s\n", line);
	else if (arr)
		json_array_append_new(arr, obj);
	else
		cli_print_json(obj);
}

/* Append " key value" to a line. */
static void add(char *line, size_t len, const char *key, const char *val)
{
	size_t n = strlen(line);

	snprintf(line + n, len - n, "%s%s %s", n ? " " : "", key, val);
}

static const char *ip(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

void out_zone(struct cli *c, json_t *arr, const struct topo_zone *z, bool show)
{
	char a[64], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, z->id, a);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s}", "id", z->id, "alias", a, "name", z->name,
			      "type", z->type);
	add(line, sizeof(line), "tzone", a);
	if (show)
		add(line, sizeof(line), "id", z->id);
	add(line, sizeof(line), "name", z->name);
	add(line, sizeof(line), "type", z->type);
	emit(c, arr, o, line);
}

void out_member(struct cli *c, json_t *arr, const struct topo_member *m)
{
	char za[64], ha[64], addr[INET_ADDRSTRLEN], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, m->zone_id, za);
	cli_alias(c, m->host_id, ha);
	ip(m->addr, addr);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "zone", m->zone_id, "zone_alias", za,
			      "host", m->host_id, "host_alias", ha, "address", addr);
	add(line, sizeof(line), "zone", za);
	add(line, sizeof(line), "host", ha);
	add(line, sizeof(line), "address", addr);
	emit(c, arr, o, line);
}

void out_host(struct cli *c, json_t *arr, const struct topo_host *h, bool show)
{
	char a[64], za[64], addr[INET_ADDRSTRLEN], line[1024] = "", addrs[512] = "";
	json_t *o = NULL, *zones = NULL;
	size_t i;

	cli_alias(c, h->id, a);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:b}", "id", h->id, "alias", a, "name", h->name,
			      "alive", h->alive);
		if (show) {
			zones = json_array();
			json_object_set_new(o, "addresses", zones);
		}
	}
	for (i = 0; show && i < c->t.n_members; i++) {
		const struct topo_member *m = &c->t.members[i];
		size_t n = strlen(addrs);

		if (strcmp(m->host_id, h->id))
			continue;
		ip(m->addr, addr);
		cli_alias(c, m->zone_id, za);
		snprintf(addrs + n, sizeof(addrs) - n, "%s%s:%s", n ? "," : "", za, addr);
		if (zones)
			json_array_append_new(zones, json_pack("{s:s,s:s,s:s}", "zone", m->zone_id,
							       "zone_alias", za, "address",
							       addr));
	}
	add(line, sizeof(line), "host", a);
	if (show)
		add(line, sizeof(line), "id", h->id);
	add(line, sizeof(line), "name", h->name);
	add(line, sizeof(line), "alive", h->alive ? "true" : "false");
	if (*addrs)
		add(line, sizeof(line), "addresses", addrs);
	emit(c, arr, o, line);
}

void out_binding(struct cli *c, json_t *arr, const struct topo_binding *b)
{
	char ha[64], pa[64], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, b->host_id, ha);
	cli_alias(c, b->port_id, pa);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "host", b->host_id, "host_alias", ha,
			      "interface", b->interface, "port", b->port_id, "port_alias", pa);
	add(line, sizeof(line), "host", ha);
	add(line, sizeof(line), "interface", b->interface);
	add(line, sizeof(line), "port", pa);
	emit(c, arr, o, line);
}

void out_bridge(struct cli *c, json_t *arr, const struct topo_bridge *b, bool show)
{
	char a[64], key[16], line[512] = "";
	json_t *o = NULL;

	cli_alias(c, b->id, a);
	snprintf(key, sizeof(key), "%u", b->tunnel_key);
	if (c->json)
		o = json_pack("{s:s,s:s,s:s,s:s,s:I}", "id", b->id, "alias", a, "name", b->name,
			      "state", "up", "tunnel_key", (json_int_t)b->tunnel_key);
	add(line, sizeof(line), "bridge", a);
	if (show)
		add(line, sizeof(line), "id", b->id);
	add(line, sizeof(line), "name", b->name);
	add(line, sizeof(line), "state", "up");
	if (show)
		add(line, sizeof(line), "tunnel-key", key);
	emit(c, arr, o, line);
}

void out_port(struct cli *c, json_t *arr, const struct topo_port *p, bool show)
{
	const struct topo_binding *b = topo_find_port_binding(&c->t, p->id);
	char a[64], ba[64], ha[64], mac[18], addr[INET_ADDRSTRLEN], key[16], line[1024] = "";
	json_t *o = NULL;

	cli_alias(c, p->id, a);
	cli_alias(c, p->device_id, ba);
	snprintf(key, sizeof(key), "%u", p->tunnel_key);
	if (p->has_mac)
		topo_format_mac(p->mac, mac);
	if (p->has_addr)
		ip(p->addr, addr);
	if (b)
		cli_alias(c, b->host_id, ha);
	if (c->json) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", p->id, "alias", a, "device",
			      p->device_id, "device_alias", ba, "state", "up", "tunnel_key",
			      (json_int_t)p->tunnel_key);
		if (p->has_mac)
			json_object_set_new(o, "mac", json_string(mac));
		if (p->has_addr)
			json_object_set_new(o, "address", json_string(addr));
		if (b)
			json_object_set_new(o, "binding",
					    json_pack("{s:s,s:s,s:s}", "host", b->host_id,
						      "host_alias", ha, "interface",
						      b->interface));
	}
	/* In text, "port portN" as on its bridge; the full alias is bridgeN:portN. */
	add(line, sizeof(line), "port", strchr(a, ':') ? strchr(a, ':') + 1 : a);
	if (show)
		add(line, sizeof(line), "id", p->id);
	add(line, sizeof(line), "device", ba);
	add(line, sizeof(line), "state", "up");
	if (show)
		add(line, sizeof(line), "tunnel-key", key);
	if (p->has_mac)
		add(line, sizeof(line), "mac", mac);
	if (p->has_addr)
		add(line, sizeof(line), "address", addr);
	if (show && b) {
		add(line, sizeof(line), "host", ha);
		add(line, sizeof(line), "interface", b->interface);
	}
	emit(c, arr, o, line);
}
