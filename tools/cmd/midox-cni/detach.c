// SPDX-License-Identifier: Apache-2.0
/* DEL, GC and CHECK. DEL finds the attachment by its state file or, without one, by the
 * host interface's name (a hash of container id and ifname) and the binding on it: what
 * is already gone is not an error, so a second DEL, or a DEL after a failed ADD, succeeds.
 * ZooKeeper comes first: when it cannot be reached nothing is removed (code 11, the
 * runtime tries again) rather than half of it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cni.h"
#include "loader/loader.h"
#include "loader/map_table.h"
#include "midox/port.h"
#include "topology/status.h"

/* The port bound to host_if, else the one the state names if it has no binding left. */
static const char *attached_port(const struct cni_node *n, const struct cni_state *st,
				 bool have_st, const char *host_id, const char *host_if)
{
	const struct topo_binding *bd = host_id[0] ?
		topo_find_binding(&n->t, host_id, host_if) : NULL;

	if (bd)
		return bd->port_id;
	if (have_st && st->port_id[0] && topo_find_port_by_id(&n->t, st->port_id) &&
	    !topo_find_port_binding(&n->t, st->port_id))
		return st->port_id;
	return NULL;
}

int cni_detach(const struct cni_conf *c, const struct cni_env *e, struct cni_node *n,
	       const char *container_id, const char *ifname)
{
	char host_if[TOPO_IFNAME_MAX], port_id[TOPO_ID_LEN] = "";
	struct cni_state st;
	bool have_st = !cni_state_read(c->data_dir, container_id, ifname, &st);
	const char *host_id = have_st && st.host_id[0] ? st.host_id : n->host_id, *p;
	int rc, nl;

	cni_host_ifname(container_id, ifname, host_if);
	p = attached_port(n, &st, have_st, host_id, host_if);
	if (p)
		strcpy(port_id, p);
	rc = port_id[0] ? topo_port_delete(n->zh, port_id) : 0;
	if (rc && rc != -ENOENT)
		return cni_fail(rc, rc == -ETIMEDOUT || rc == -EBUSY ? CNI_ERR_TRY_AGAIN :
				MIDOX_ERR_TOPOLOGY, "cannot delete port %s: %s", port_id,
				cni_zk_why(rc, c));
	rc = nl_open(&nl);
	if (!rc) {
		rc = nl_link_delete(nl, host_if);
		close(nl);
	}
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot delete interface %s: %s", host_if,
				strerror(-rc));
	if (c->ipam) {
		rc = cni_ipam_exec(c, e, "DEL", container_id, ifname, NULL);
		if (rc)
			return rc;
	}
	rc = cni_state_remove(c->data_dir, container_id, ifname);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot remove the state of %s/%s under %s: %s",
				container_id, ifname, c->data_dir, strerror(-rc));
	return 0;
}

/* Connected, with the snapshot; the host id if the agent has one (DEL and GC still work
 * on what state files name when it has none). */
static int node_open(const struct cni_conf *c, struct cni_node *n)
{
	int rc = cni_node_connect(c, n);

	if (!rc && access(c->host_id_file, R_OK) == 0)
		rc = cni_node_host_id(c, n);
	if (!rc)
		rc = cni_node_refresh(n);
	return rc;
}

int cni_cmd_del(const struct cni_conf *c, const struct cni_env *e)
{
	struct cni_node n;
	int rc = node_open(c, &n);

	if (!rc)
		rc = cni_detach(c, e, &n, e->container_id, e->ifname);
	cni_node_close(&n);
	return rc;
}

struct gc {
	const struct cni_conf *c;
	const struct cni_env *e;
	struct cni_node *n;
	int rc;			/* the first failure: GC goes on past it */
};

static bool still_valid(const struct cni_conf *c, const char *container_id, const char *ifname)
{
	json_t *v;
	size_t i;

	json_array_foreach(c->valid_attachments, i, v) {
		const char *id = json_string_value(json_object_get(v, "containerID"));
		const char *ifn = json_string_value(json_object_get(v, "ifname"));

		if (id && ifn && !strcmp(id, container_id) && !strcmp(ifn, ifname))
			return true;
	}
	return false;
}

static int gc_one(const struct cni_state *s, void *ctx)
{
	struct gc *g = ctx;
	int rc;

	if (still_valid(g->c, s->container_id, s->ifname))
		return 0;
	rc = cni_detach(g->c, g->e, g->n, s->container_id, s->ifname);
	if (rc && !g->rc)
		g->rc = rc;
	return 0;
}

/* Whether a valid attachment's node end is host_if (the name is a hash of its container id
 * and ifname). */
static bool valid_host_if(const struct cni_conf *c, const char *host_if)
{
	char name[TOPO_IFNAME_MAX];
	json_t *v;
	size_t i;

	json_array_foreach(c->valid_attachments, i, v) {
		const char *id = json_string_value(json_object_get(v, "containerID"));
		const char *ifn = json_string_value(json_object_get(v, "ifname"));

		if (!id || !ifn)
			continue;
		cni_host_ifname(id, ifn, name);
		if (!strcmp(name, host_if))
			return true;
	}
	return false;
}

/* Ports of this network's bridge bound on this node to a pod's end ("mxc...") that no
 * valid attachment has, left without their record (it was lost, or the records' folder
 * changed): the port, its binding and the veth go. Their lease cannot be named (the
 * record held the container id): a 1.1.0 IPAM plugin's own GC frees it. */
static void gc_orphans(struct gc *g)
{
	const struct topo_bridge *b = topo_find_bridge(&g->n->t, g->c->bridge);
	const struct topology *t = &g->n->t;
	int nl = -1, rc;

	if (!b || !g->n->host_id[0] || nl_open(&nl))
		return;
	for (size_t i = 0; i < t->n_bindings; i++) {
		const struct topo_binding *bd = &t->bindings[i];
		const struct topo_port *p = topo_find_port_by_id(t, bd->port_id);

		if (strcmp(bd->host_id, g->n->host_id) || !p || strcmp(p->device_id, b->id) ||
		    strncmp(bd->interface, CNI_VETH_PREFIX, strlen(CNI_VETH_PREFIX)) ||
		    valid_host_if(g->c, bd->interface))
			continue;
		rc = topo_port_delete(g->n->zh, p->id);
		if (rc && rc != -ENOENT) {
			cni_fail(rc, MIDOX_ERR_TOPOLOGY, "GC: cannot delete port %s: %s", p->id,
				 cni_zk_why(rc, g->c));
			g->rc = g->rc ? g->rc : rc;
			continue;
		}
		rc = nl_link_delete(nl, bd->interface);
		if (rc) {
			cni_fail(rc, CNI_ERR_IO, "GC: cannot delete interface %s: %s", bd->interface,
				 strerror(-rc));
			g->rc = g->rc ? g->rc : rc;
		}
	}
	close(nl);
}

/* GC: every attachment recorded here that the runtime no longer lists goes as DEL would
 * remove it, then the ports of orphans without a record; the IPAM plugin gets the GC too
 * when it speaks 1.1.0 (one that does not got a DEL for each attachment removed). A failure
 * does not stop it: the first is reported after the rest is done. Without a list, nothing
 * is removed (the specification makes it required). */
int cni_cmd_gc(const struct cni_conf *c, const struct cni_env *e)
{
	struct cni_node n;
	struct gc g = { c, e, &n, 0 };
	bool speaks_1_1 = false;
	int rc;

	if (!c->valid_attachments)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "GC needs \"cni.dev/valid-attachments\"");
	rc = node_open(c, &n);
	if (!rc)
		rc = cni_state_each(c->data_dir, gc_one, &g);
	if (rc && !cni_failed())
		cni_fail(rc, CNI_ERR_IO, "cannot read %s: %s", c->data_dir, strerror(-rc));
	if (!rc && !(rc = cni_node_refresh(&n)))
		gc_orphans(&g);
	if (!rc && c->ipam)
		rc = cni_ipam_speaks_1_1(c, e, &speaks_1_1);
	if (!rc && speaks_1_1)
		rc = cni_ipam_exec_native(c, e, "GC");
	cni_node_close(&n);
	return rc ? rc : g.rc;
}

/* ---- CHECK ---- */

static int check_pod(const struct cni_conf *c, const struct cni_env *e,
		     const struct cni_ipam *want, struct nl_link *l)
{
	char a[INET_ADDRSTRLEN];
	int ns = open(e->netns, O_RDONLY | O_CLOEXEC), nl = -1, rc;

	if (ns < 0)
		return cni_fail(-errno, CNI_ERR_CONTAINER, "cannot open the pod's network "
				"namespace %s: %s", e->netns, strerror(errno));
	rc = nl_open_in(ns, &nl);
	close(ns);
	if (rc)
		return cni_fail(rc, CNI_ERR_CONTAINER, "cannot enter %s: %s", e->netns,
				strerror(-rc));
	rc = nl_link_get(nl, e->ifname, l);
	if (rc)
		rc = cni_fail(rc, MIDOX_ERR_CHECK, "interface %s is missing in %s", e->ifname,
			      e->netns);
	if (!rc && (!l->up || l->mtu != c->mtu))
		rc = cni_fail(-EINVAL, MIDOX_ERR_CHECK, "interface %s in the pod is %s with MTU "
			      "%u (want up, %u)", e->ifname, l->up ? "up" : "down", l->mtu, c->mtu);
	if (!rc && nl_addr_has(nl, l->index, want->addr, want->prefix_len) != 1)
		rc = cni_fail(-ENOENT, MIDOX_ERR_CHECK, "interface %s in the pod lacks %s/%d",
			      e->ifname, inet_ntop(AF_INET, &want->addr, a, sizeof(a)),
			      want->prefix_len);
	close(nl);
	return rc;
}

/* One entry of a pinned map of this node's agent, by key: -ENOENT when it has none. */
static int pinned_lookup(const char *pin_root, enum mx_map_id id, const void *key, void *value)
{
	struct mx_pinned_map m;
	int rc = mx_pinned_open(pin_root, id, &m);

	if (rc)
		rc = cni_fail(rc, MIDOX_ERR_CHECK, "cannot open %s/%s: %s (pinRoot names the "
			      "agent's pin_root)", pin_root, mx_map_name(id), strerror(-rc));
	else if (bpf_map_lookup_elem(m.fd, key, value))
		rc = -errno;
	mx_pinned_close(&m);
	return rc;
}

/* The agent's maps as the datapath reads them: the node's end in midox_ifport_v3 with the
 * port's key and a copy of its entry holding the pod's MAC and address, and the port in
 * midox_port_v2 bound to that interface. */
static int check_maps(const struct cni_conf *c, const char *host_if, const struct topo_port *p)
{
	struct mx_ifport ifp;
	struct mx_port port;
	struct nl_link hl;
	__u32 ifindex, key = p->tunnel_key;
	int nl, rc = nl_open(&nl);

	if (!rc) {
		rc = nl_link_get(nl, host_if, &hl);
		close(nl);
	}
	if (rc)
		return cni_fail(rc, MIDOX_ERR_CHECK, "the node's end %s is missing: %s", host_if,
				strerror(-rc));
	ifindex = (__u32)hl.index;
	rc = pinned_lookup(c->pin_root, MX_MAP_ID_IFPORT, &ifindex, &ifp);
	if (rc == -ENOENT)
		return cni_fail(rc, MIDOX_ERR_CHECK, "%s (ifindex %u) has no entry in %s: the "
				"agent does not forward it", host_if, ifindex,
				mx_map_name(MX_MAP_ID_IFPORT));
	if (!rc && (ifp.port_key != key || memcmp(ifp.port.mac, p->mac, 6) ||
		    ifp.port.addr != p->addr.s_addr))
		return cni_fail(-EINVAL, MIDOX_ERR_CHECK, "%s's entry in %s is port key %u, not "
				"port %s's %u with the pod's MAC and address", host_if,
				mx_map_name(MX_MAP_ID_IFPORT), ifp.port_key, p->id, key);
	if (!rc)
		rc = pinned_lookup(c->pin_root, MX_MAP_ID_PORT, &key, &port);
	if (rc == -ENOENT)
		return cni_fail(rc, MIDOX_ERR_CHECK, "port %s (key %u) has no entry in %s", p->id,
				key, mx_map_name(MX_MAP_ID_PORT));
	if (!rc && (!(port.flags & MX_PORT_LOCAL) || port.ifindex != ifindex))
		return cni_fail(-EINVAL, MIDOX_ERR_CHECK, "port %s (key %u) in %s is not bound "
				"to %s (ifindex %u)", p->id, key, mx_map_name(MX_MAP_ID_PORT),
				host_if, ifindex);
	if (rc && !cni_failed())
		cni_fail(rc, MIDOX_ERR_CHECK, "cannot read the agent's maps under %s: %s",
			 c->pin_root, strerror(-rc));
	return rc;
}

static int check_port(const struct cni_conf *c, const struct cni_node *n, const char *host_if,
		      const struct cni_ipam *want, const struct nl_link *l)
{
	const struct topo_binding *bd = topo_find_binding(&n->t, n->host_id, host_if);
	const struct topo_port *p = bd ? topo_find_port_by_id(&n->t, bd->port_id) : NULL;
	struct topo_binding_status bs;
	int rc;

	if (!p)
		return cni_fail(-ENOENT, MIDOX_ERR_CHECK, "no port is bound to %s on this host",
				host_if);
	if (!p->has_mac || memcmp(p->mac, l->mac, 6) || !p->has_addr ||
	    p->addr.s_addr != want->addr.s_addr)
		return cni_fail(-EINVAL, MIDOX_ERR_CHECK, "port %s does not hold the pod's MAC "
				"and address", p->id);
	if (p->egress_rate != c->egress_rate || p->egress_burst != c->egress_burst)
		return cni_fail(-EINVAL, MIDOX_ERR_CHECK, "port %s has egress limit %llu bit/s "
				"burst %llu bits, the pod asks for %llu burst %llu", p->id,
				(unsigned long long)p->egress_rate,
				(unsigned long long)p->egress_burst,
				(unsigned long long)c->egress_rate,
				(unsigned long long)c->egress_burst);
	rc = topo_binding_status_read(n->zh, n->host_id, host_if, &bs);
	if (rc && rc != -ENOENT)
		return cni_fail(rc, MIDOX_ERR_TOPOLOGY, "cannot read the binding's status: %s",
				topo_errmsg());
	if (rc || strcmp(bs.port_id, p->id) || !bs.active)
		return cni_fail(-EINVAL, MIDOX_ERR_CHECK, "the binding of %s is not active: %s",
				host_if, !rc && !strcmp(bs.port_id, p->id) ? bs.reason :
				"the agent has not reported it");
	return check_maps(c, host_if, p);
}

/* CHECK: the pod's interface (up, MTU, the address of prevResult), the port bound to the
 * host's end holding the pod's MAC and address, the binding active, the port in the
 * agent's maps, and IPAM's own CHECK. */
int cni_cmd_check(const struct cni_conf *c, const struct cni_env *e)
{
	char host_if[TOPO_IFNAME_MAX];
	struct cni_ipam want = { 0 };
	struct cni_node n = { 0 };
	struct nl_link l;
	int rc;

	if (!c->prev_result)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "CHECK needs \"prevResult\"");
	cni_host_ifname(e->container_id, e->ifname, host_if);
	rc = cni_ipam_parse(c->prev_result, &want);
	if (!rc)
		rc = check_pod(c, e, &want, &l);
	if (!rc)
		rc = cni_node_connect(c, &n);
	if (!rc)
		rc = cni_node_host_id(c, &n);
	if (!rc)
		rc = cni_node_refresh(&n);
	if (!rc)
		rc = check_port(c, &n, host_if, &want, &l);
	if (!rc && c->ipam)
		rc = cni_ipam_exec(c, e, "CHECK", e->container_id, e->ifname, NULL);
	cni_node_close(&n);
	return rc;
}
