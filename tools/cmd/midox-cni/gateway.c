// SPDX-License-Identifier: Apache-2.0
/* The node's own way into the pods' network ("nodeGateway": true). Kubernetes asks that a
 * node reach its pods (the kubelet's probes come from the node's stack): the node gets a
 * veth whose node end (nodeInterface) holds an address leased from the network's IPAM as a
 * pod's is, and whose other end is bound to a port of the pods' bridge with that MAC and
 * address fixed. The address's subnet is then on-link in the node, so the node reaches every
 * pod of the bridge, on this node or another, and the pods answer it directly.
 *
 * It is the node's, not a pod's: made at the first ADD on the node, kept when the pods go
 * (as the bridge plugin keeps its cni0), never removed by DEL or GC. Every ADD checks it and
 * makes what is missing: a reboot takes the veth while the record and the port stay, and the
 * same MAC and address come back. Its record is "<dataDir>/.node-gateway.<nodeInterface>";
 * the leading dot keeps it out of the attachments GC walks. ADDs on one node take the lock
 * on dataDir for it (cni_data_dir_lock), so parallel first ADDs make one gateway. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "base/fs.h"
#include "base/log.h"

struct gw {
	const struct cni_conf *c;
	const struct cni_env *e;
	struct cni_node *n;
	const char *bridge_id;
	char path[4096];
	/* The record. */
	struct topo_cidr addr;
	uint8_t mac[6];
	char port_id[TOPO_ID_LEN];
	char bridge_if[TOPO_IFNAME_MAX];
	int nl;
};

static int gw_fail(int rc, int code, const char *what, const char *why)
{
	return cni_fail(rc, code, "the node's gateway (nodeGateway): %s: %s", what, why);
}

static int not_ours(struct gw *g)
{
	return cni_fail(-EEXIST, MIDOX_ERR_IFNAME_TAKEN, "the node's gateway (nodeGateway): %s "
			"exists and is not the gateway midox made (not a veth beside %s with the "
			"recorded MAC): name another \"nodeInterface\"", g->c->node_if,
			g->bridge_if);
}

static int record_read(struct gw *g)
{
	json_t *o = json_load_file(g->path, 0, NULL);
	const char *addr, *mac, *port;
	int rc = -EINVAL;

	if (!o)
		return access(g->path, F_OK) ? -ENOENT : -EINVAL;
	addr = json_string_value(json_object_get(o, "address"));
	mac = json_string_value(json_object_get(o, "mac"));
	port = json_string_value(json_object_get(o, "portId"));
	if (addr && mac && port && !topo_parse_cidr(addr, &g->addr) &&
	    !topo_parse_mac(mac, g->mac) && strlen(port) < sizeof(g->port_id)) {
		strcpy(g->port_id, port);
		rc = 0;
	}
	json_decref(o);
	if (rc)
		mx_warn("%s is not a node gateway's record: making the gateway again", g->path);
	return rc;
}

static int record_write(struct gw *g)
{
	char cidr[TOPO_CIDR_STRLEN], mac[18], tmp[4200];
	json_t *o;
	int rc;

	topo_format_cidr(&g->addr, cidr);
	topo_format_mac(g->mac, mac);
	snprintf(tmp, sizeof(tmp), "%s.tmp", g->path);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "address", cidr, "mac", mac,
		      "portId", g->port_id, "nodeInterface", g->c->node_if,
		      "bridgeInterface", g->bridge_if);
	if (!o)
		return cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	rc = json_dump_file(o, tmp, JSON_COMPACT) ? -EIO : 0;
	json_decref(o);
	if (!rc && rename(tmp, g->path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return gw_fail(rc, CNI_ERR_IO, "cannot write its record", g->path);
	}
	return 0;
}

/* An address from the network's IPAM, as a pod's; a lease left by a lost record is
 * released first (host-local refuses a second lease to one attachment). Without a record,
 * an interface by the name is the node's own: refused before anything is leased. */
static int lease(struct gw *g)
{
	struct cni_ipam r = { 0 };
	struct nl_link l;
	int rc;

	if (!nl_link_get(g->nl, g->c->node_if, &l))
		return not_ours(g);
	cni_ipam_exec(g->c, g->e, "DEL", CNI_NODE_GW_ID, g->c->node_if, NULL);
	rc = cni_ipam_exec(g->c, g->e, "ADD", CNI_NODE_GW_ID, g->c->node_if, &r);
	if (!rc) {
		g->addr.addr = r.addr;
		g->addr.len = (uint8_t)r.prefix_len;
	}
	cni_ipam_free(&r);
	if (rc)
		return rc;
	rc = cni_random_mac(g->mac);
	if (rc)
		return rc;
	g->port_id[0] = '\0';
	return record_write(g);
}

/* The veth, its node end with the record's MAC and address, both ends up. */
static int veth(struct gw *g)
{
	struct nl_link node, br;
	int self, rc;

	rc = nl_link_get(g->nl, g->c->node_if, &node);
	if (rc == -ENODEV) {
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self < 0)
			return gw_fail(-errno, CNI_ERR_IO, "cannot open this network namespace",
				       strerror(errno));
		rc = nl_veth_create(g->nl, g->bridge_if, g->c->node_if, self, g->mac, g->c->mtu);
		close(self);
		if (rc)
			return gw_fail(rc, CNI_ERR_IO, "cannot create its veth", strerror(-rc));
		rc = nl_link_get(g->nl, g->c->node_if, &node);
	}
	if (rc)
		return gw_fail(rc, CNI_ERR_IO, g->c->node_if, strerror(-rc));
	if (memcmp(node.mac, g->mac, 6) || nl_link_get(g->nl, g->bridge_if, &br))
		return not_ours(g);
	rc = nl_addr_has(g->nl, node.index, g->addr.addr, g->addr.len);
	if (rc == 0)
		rc = nl_addr_add(g->nl, node.index, g->addr.addr, g->addr.len);
	if (rc >= 0 && !node.up)
		rc = nl_link_up(g->nl, node.index);
	if (rc >= 0 && !br.up)
		rc = nl_link_up(g->nl, br.index);
	if (rc < 0)
		return gw_fail(rc, CNI_ERR_IO, g->c->node_if, strerror(-rc));
	return 0;
}

/* The record's port, on the bridge, bound here to the bridge end; else a new one. */
static int port(struct gw *g)
{
	/* Port security off: the node forwards with other sources than its own (a hostPort's
	 * or a NodePort's client, rewritten towards a pod); the node is trusted as its agent
	 * is. MAC and address stay fixed, so ARP for it is answered on every node. */
	struct topo_port_opts o = { .has_mac = true, .has_addr = true, .addr = g->addr.addr,
				    .has_port_security = true, .port_security = false };
	const struct topo_port *p = NULL;
	const struct topo_binding *b = NULL;
	int rc;

	/* The ADD's snapshot predates the lock: an ADD that held it may have made the port. */
	if (g->port_id[0] && !topo_find_port_by_id(&g->n->t, g->port_id) &&
	    (rc = cni_node_refresh(g->n)))
		return rc;
	if (g->port_id[0])
		p = topo_find_port_by_id(&g->n->t, g->port_id);
	if (p)
		b = topo_find_port_binding(&g->n->t, p->id);
	if (p && b && !strcmp(p->device_id, g->bridge_id) && p->has_addr &&
	    p->addr.s_addr == g->addr.addr.s_addr && !memcmp(p->mac, g->mac, 6) &&
	    p->no_port_security &&
	    !strcmp(b->host_id, g->n->host_id) && !strcmp(b->interface, g->bridge_if))
		return 0;
	if (p && (rc = topo_port_delete(g->n->zh, p->id)) && rc != -ENOENT)
		return gw_fail(rc, MIDOX_ERR_TOPOLOGY, "cannot replace its port",
			       cni_zk_why(rc, g->c));
	memcpy(o.mac, g->mac, 6);
	rc = topo_port_create_bound(g->n->zh, g->bridge_id, &o, g->n->host_id, g->bridge_if,
				    g->port_id);
	if (rc)
		return gw_fail(rc, rc == -ETIMEDOUT || rc == -EBUSY ? CNI_ERR_TRY_AGAIN :
			       MIDOX_ERR_TOPOLOGY, "cannot create its port", cni_zk_why(rc, g->c));
	return record_write(g);
}

int cni_node_gw_ensure(const struct cni_conf *c, const struct cni_env *e, struct cni_node *n,
		       const char *bridge_id)
{
	struct gw g = { .c = c, .e = e, .n = n, .bridge_id = bridge_id, .nl = -1 };
	int lock = -1, rc;

	if (!c->node_gateway)
		return 0;
	cni_node_gw_ifname(c->node_if, g.bridge_if);
	if ((size_t)snprintf(g.path, sizeof(g.path), "%s/.node-gateway.%s", c->data_dir,
			     c->node_if) >= sizeof(g.path))
		return gw_fail(-ENAMETOOLONG, CNI_ERR_IO, "its record", "dataDir is too long");
	rc = cni_data_dir_lock(c, &lock);
	if (!rc && (rc = nl_open(&g.nl)))
		gw_fail(rc, CNI_ERR_IO, "netlink", strerror(-rc));
	if (!rc && record_read(&g))
		rc = lease(&g);
	if (!rc)
		rc = veth(&g);
	if (!rc)
		rc = port(&g);
	if (!rc)
		rc = cni_wait_active(c, n, g.bridge_if, g.port_id, "the node's gateway");
	if (g.nl >= 0)
		close(g.nl);
	if (lock >= 0)
		close(lock);
	return rc;
}
