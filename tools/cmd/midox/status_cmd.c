// SPDX-License-Identifier: Apache-2.0
/* Listings that show what the agents report (their interfaces, the state of each binding;
 * docs/zookeeper.md, "Host status") beside the topology, and bridges' MAC tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "topology/status.h"
#include "print.h"
#include "status_cmd.h"

static void __attribute__((format(printf, 1, 2))) warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "midox: warning: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* A host's report (only ifname's interface when not NULL, the answer to ask when that is
 * not NULL, which is taken); empty, and the reason why in *why, when its agent has none. A
 * dead host's is not read: its nodes are ephemeral, of the session its alive node was. */
static int host_report(struct cli *c, const struct topo_host *h, const char *ifname,
		       struct topo_status_ask *ask, struct topo_host_status *s, const char **why)
{
	int rc;

	memset(s, 0, sizeof(*s));
	*why = "agent not running";
	if (!h->alive) {
		topo_host_status_ask_free(ask);
		return 0;
	}
	if (ask)
		rc = topo_host_status_take_one(c->zh, ask, s);
	else
		rc = ifname ? topo_host_status_read_one(c->zh, h->id, ifname, s)
			    : topo_host_status_read(c->zh, h->id, s);
	*why = NULL;
	if (rc)
		return cli_lib_fail(rc);
	*why = s->reported ? NULL : "not reported yet";
	/* The library names each at debug level only (the CLI's default is errors). */
	if (s->n_skipped)
		warn("%zu status nodes of host %s do not parse and are left out (MIDOX_DEBUG=1 "
		     "names them)", s->n_skipped, h->name);
	return 0;
}

/* ---- bindings ---- */

static struct cli_state binding_state(const struct topo_host_status *s, const char *why,
				      const struct topo_binding *b)
{
	const struct topo_binding_status *r = topo_status_binding(s, b->interface);

	if (!r || strcmp(r->port_id, b->port_id)) /* none yet for this port */
		return (struct cli_state){ "unknown", why ? why : "not reported yet" };
	if (r->active)
		return (struct cli_state){ "active", NULL };
	return (struct cli_state){ "inactive", r->reason[0] ? r->reason : NULL };
}

static int print_bindings(struct cli *c, const struct topo_host *h, const char *ifname,
			  struct topo_status_ask *ask)
{
	struct topo_host_status s;
	const char *why = NULL;
	json_t *arr = ifname ? NULL : cli_list_begin(c);
	int rc = host_report(c, h, ifname, ask, &s, &why);

	for (size_t i = 0; !rc && i < c->t.n_bindings; i++) {
		const struct topo_binding *b = &c->t.bindings[i];
		struct cli_state st;

		if (strcmp(b->host_id, h->id) || (ifname && strcmp(b->interface, ifname)))
			continue;
		st = binding_state(&s, why, b);
		out_binding_state(c, arr, b, &st);
		if (ifname && !why && !topo_status_iface(&s, ifname))
			warn("interface %s is not on host %s (yet): the port forwards once it is",
			     ifname, h->name);
	}
	if (!ifname)
		cli_list_end(c, arr, rc);
	topo_host_status_free(&s);
	return rc;
}

int cli_list_binding_state(struct cli *c, const struct cli_call *k)
{
	return print_bindings(c, k->obj, NULL, NULL);
}

struct topo_status_ask *cli_iface_ask(struct cli *c, const struct topo_host *h,
				      const char *ifname)
{
	struct topo_status_ask *ask = NULL;

	/* Failing to ask, the warning reads the node itself after the write. */
	if (h->alive && topo_host_status_ask_one(c->zh, h->id, ifname, &ask))
		ask = NULL;
	return ask;
}

void cli_print_new_binding(struct cli *c, const struct topo_binding *b,
			   struct topo_status_ask *ask)
{
	const struct topo_host *h = topo_find_host_by_id(&c->t, b->host_id);

	if (h)
		print_bindings(c, h, b->interface, ask);
	else
		topo_host_status_ask_free(ask);
}

void cli_warn_iface_missing(struct cli *c, const char *host_id, const char *ifname,
			    struct topo_status_ask *ask)
{
	const struct topo_host *h = topo_find_host_by_id(&c->t, host_id);
	struct topo_host_status s;
	const char *why = NULL;

	if (!h) {
		topo_host_status_ask_free(ask);
		return;
	}
	if (!host_report(c, h, ifname, ask, &s, &why) && !why && !topo_status_iface(&s, ifname))
		warn("interface %s is not on host %s (yet): the port forwards once it is", ifname,
		     h->name);
	topo_host_status_free(&s);
}

/* ---- interfaces ---- */

static void out_iface(struct cli *c, json_t *arr, const struct topo_host *h,
		      const struct topo_iface *f)
{
	const char *state = !f->up ? "down" : f->carrier ? "up" : "no-carrier";
	char ha[64], mac[18], mtu[16], addrs[TOPO_IF_ADDRS_MAX * TOPO_IF_ADDR_STRLEN] = "";
	json_t *o = NULL, *list = NULL;

	cli_alias(c, h->id, ha);
	topo_format_mac(f->mac, mac);
	snprintf(mtu, sizeof(mtu), "%u", f->mtu);
	if (c->json) {
		list = json_array();
		o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "host", h->id, "host_alias", ha, "name",
			      f->name, "state", state, "mtu", (json_int_t)f->mtu, "addresses",
			      list);
		if (o && f->has_mac)
			json_object_set_new(o, "mac", json_string(mac));
	}
	for (size_t i = 0; i < f->n_addrs; i++) {
		size_t n = strlen(addrs);

		snprintf(addrs + n, sizeof(addrs) - n, "%s%s", n ? "," : "", f->addrs[i]);
		if (list)
			json_array_append_new(list, json_string(f->addrs[i]));
	}
	if (!c->json)
		printf("iface %s host %s state %s mtu %s%s%s%s%s\n", f->name, ha, state, mtu,
		       f->has_mac ? " mac " : "", f->has_mac ? mac : "", *addrs ? " addresses " : "",
		       addrs);
	else if (arr)
		json_array_append_new(arr, o);
}

int cli_list_iface(struct cli *c, const struct cli_call *k)
{
	const struct topo_host *h = k->obj;
	struct topo_host_status s;
	json_t *arr = cli_list_begin(c);
	const char *why = NULL;
	int rc = host_report(c, h, NULL, NULL, &s, &why);

	for (size_t i = 0; !rc && i < s.n_ifaces; i++)
		out_iface(c, arr, h, &s.ifaces[i]);
	if (!rc && why)
		warn("host %s reports no interfaces: %s", h->name, why);
	cli_list_end(c, arr, rc);
	topo_host_status_free(&s);
	return rc;
}

/* ---- tunnel zone members ---- */

static int print_member(struct cli *c, json_t *arr, const struct topo_member *m, bool warn_new)
{
	const struct topo_host *h = topo_find_host_by_id(&c->t, m->host_id);
	struct cli_state st = { "ok", NULL };
	struct topo_host_status s = { 0 };
	char addr[INET_ADDRSTRLEN];
	const char *why = "agent not running";
	int rc = h ? host_report(c, h, NULL, NULL, &s, &why) : 0;

	if (rc)
		return rc;
	inet_ntop(AF_INET, &m->addr, addr, sizeof(addr));
	if (why) {
		st = (struct cli_state){ "unknown", why };
	} else if (!topo_status_has_ipv4(&s, m->addr)) {
		st = (struct cli_state){ "warning", "address not on the host" };
		if (warn_new)
			warn("address %s is not on host %s: tunnels to it will not work until it is",
			     addr, h->name);
	}
	out_member_state(c, arr, m, &st);
	topo_host_status_free(&s);
	return 0;
}

int cli_list_member_state(struct cli *c, const struct cli_call *k)
{
	json_t *arr = cli_list_begin(c);
	int rc = 0;

	for (size_t i = 0; !rc && i < c->t.n_members; i++)
		if (!strcmp(c->t.members[i].zone_id, k->id))
			rc = print_member(c, arr, &c->t.members[i], false);
	cli_list_end(c, arr, rc);
	return rc;
}

void cli_print_new_member(struct cli *c, const struct topo_member *m)
{
	print_member(c, NULL, m, true);
}

/* ---- a bridge's MAC table ---- */

/* "mac M port portN type static|learned [host hostN]". */
static void out_mac(struct cli *c, json_t *arr, const uint8_t mac[6], const char *port_id,
		    bool learned, const char *host_id)
{
	const char *type = learned ? "learned" : "static";
	char m[18], pa[64], ha[64] = "", line[512];
	const char *short_pa;
	json_t *o;

	topo_format_mac(mac, m);
	cli_alias(c, port_id, pa);
	short_pa = strchr(pa, ':') ? strchr(pa, ':') + 1 : pa;
	if (host_id)
		cli_alias(c, host_id, ha);
	if (!c->json) {
		snprintf(line, sizeof(line), "mac %s port %s type %s%s%s", m, short_pa, type,
			 host_id ? " host " : "", ha);
		printf("%s\n", line);
		return;
	}
	o = json_pack("{s:s,s:s,s:s,s:s}", "mac", m, "port", port_id, "port_alias", pa, "type",
		      type);
	if (o && host_id)
		json_object_update_new(o, json_pack("{s:s,s:s}", "host", host_id, "host_alias",
						    ha));
	json_array_append_new(arr, o);
}

/* Static entries as the agents program them: a port's fixed MAC, and the MAC of a router
 * port linked to the bridge (on the bridge's side of the link). */
static void static_macs(struct cli *c, json_t *arr, const char *bridge_id)
{
	for (size_t i = 0; i < c->t.n_ports; i++) {
		const struct topo_port *p = &c->t.ports[i], *q;
		const struct topo_binding *b;

		if (strcmp(p->device_id, bridge_id))
			continue;
		b = topo_find_port_binding(&c->t, p->id);
		if (p->has_mac)
			out_mac(c, arr, p->mac, p->id, false, b ? b->host_id : NULL);
		q = p->peer_id[0] ? topo_find_port_by_id(&c->t, p->peer_id) : NULL;
		if (q && q->has_mac)
			out_mac(c, arr, q->mac, p->id, false, NULL);
	}
}

int cli_list_mac_table(struct cli *c, const struct cli_call *k)
{
	json_t *arr = cli_list_begin(c);

	static_macs(c, arr, k->id);
	for (size_t i = 0; i < c->t.n_macs; i++) {
		const struct topo_mac *m = &c->t.macs[i];

		if (!strcmp(m->bridge_id, k->id))
			out_mac(c, arr, m->mac, m->port_id, true, m->host_id);
	}
	cli_list_end(c, arr, 0);
	return 0;
}
