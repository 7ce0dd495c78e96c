// SPDX-License-Identifier: Apache-2.0
/* ADD: checks first (ZooKeeper, this host's agent, the bridge, the pod's namespace and
 * interface name), then the attachment's state file, the IPAM address, the veth pair (the
 * pod's end with address, routes and MTU), the port with the pod's MAC and address fixed
 * and bound to the host's end (one multi), and the wait for the agent to report the
 * binding active. A failure at any step undoes the steps before it, in reverse. With
 * "nodeGateway", the node's own gateway is made or mended first (gateway.c): it is the
 * node's and stays. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "base/log.h"

struct add {
	const struct cni_conf *c;
	const struct cni_env *e;
	struct cni_node n;
	struct cni_state st;
	struct cni_ipam ipam;
	char bridge_id[TOPO_ID_LEN];
	uint8_t mac[6];
	int pod_ns, pod_nl, host_nl;
	bool state_done, ipam_done, veth_done;
};

static int find_bridge(struct add *a)
{
	const struct topo_bridge *b = topo_find_bridge(&a->n.t, a->c->bridge);
	int rc;

	if (!b && a->c->create_bridge) {
		rc = topo_bridge_create(a->n.zh, a->c->bridge, a->bridge_id);
		if (!rc)
			return 0;
		if (rc != -EEXIST) /* another ADD made it first: take that one */
			return cni_fail(rc, MIDOX_ERR_TOPOLOGY, "cannot create bridge %s: %s",
					a->c->bridge, cni_zk_why(rc, a->c));
		rc = cni_node_refresh(&a->n);
		if (rc)
			return rc;
		b = topo_find_bridge(&a->n.t, a->c->bridge);
	}
	if (!b)
		return cni_fail(-ENOENT, MIDOX_ERR_NO_BRIDGE, "no bridge %s in the topology "
				"(`midox bridge list` shows them; \"createBridge\": true makes it)",
				a->c->bridge);
	strcpy(a->bridge_id, b->id);
	return 0;
}

static int open_pod(struct add *a)
{
	int rc;

	a->pod_ns = open(a->e->netns, O_RDONLY | O_CLOEXEC);
	if (a->pod_ns < 0)
		return cni_fail(-errno, CNI_ERR_CONTAINER, "cannot open the pod's network "
				"namespace %s: %s", a->e->netns, strerror(errno));
	rc = nl_open_in(a->pod_ns, &a->pod_nl);
	if (rc == -EINVAL)
		return cni_fail(rc, CNI_ERR_CONTAINER, "%s is not a network namespace",
				a->e->netns);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot enter the pod's network namespace %s: %s",
				a->e->netns, strerror(-rc));
	rc = nl_open(&a->host_nl);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot open a netlink socket: %s", strerror(-rc));
	return 0;
}

/* Neither the pod's interface nor this attachment may exist already. */
static int check_free(struct add *a)
{
	struct cni_state old;
	struct nl_link l;

	if (!nl_link_get(a->pod_nl, a->e->ifname, &l))
		return cni_fail(-EEXIST, MIDOX_ERR_IFNAME_TAKEN, "interface %s already exists in "
				"the pod's network namespace %s", a->e->ifname, a->e->netns);
	if (!cni_state_read(a->c->data_dir, a->e->container_id, a->e->ifname, &old) ||
	    !nl_link_get(a->host_nl, a->st.host_if, &l))
		return cni_fail(-EEXIST, MIDOX_ERR_IFNAME_TAKEN, "container %s already has an "
				"attachment %s (host interface %s): DEL it first",
				a->e->container_id, a->e->ifname, a->st.host_if);
	return 0;
}

static int pod_routes(struct add *a, int index)
{
	const struct cni_ipam *r = &a->ipam;
	char dst[INET_ADDRSTRLEN];
	int rc;

	for (size_t i = 0; i < r->n_routes; i++) {
		const struct cni_route *rt = &r->routes[i];
		const struct in_addr *gw = rt->has_gw ? &rt->gw : r->has_gw ? &r->gw : NULL;

		rc = nl_route_add(a->pod_nl, index, rt->dst, rt->dst_len, gw);
		if (rc) {
			inet_ntop(AF_INET, &rt->dst, dst, sizeof(dst));
			return cni_fail(rc, CNI_ERR_IO, "cannot add the route to %s/%d in the pod: "
					"%s", dst, rt->dst_len, strerror(-rc));
		}
	}
	return 0;
}

/* The pod's ingress limit: a tbf on the node's end, which every frame midox delivers to the
 * pod passes (a redirect to the interface goes through its root qdisc). Sized as the
 * bandwidth plugin sizes it: the queue holds 25 ms at the rate beyond the burst. */
static int shape_ingress(struct add *a)
{
	uint64_t rate = a->c->ingress_rate / 8, burst = a->c->ingress_burst / 8;
	uint64_t limit = rate * 25 / 1000 + burst;
	struct nl_link l;
	int rc;

	if (!a->c->ingress_rate)
		return 0;
	rc = nl_link_get(a->host_nl, a->st.host_if, &l);
	if (!rc)
		rc = nl_tbf_set(a->host_nl, l.index, rate, (uint32_t)burst,
				limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot set the ingress limit (tbf) on %s: %s",
				a->st.host_if, strerror(-rc));
	return 0;
}

static int make_veth(struct add *a)
{
	struct nl_link l;
	int rc;

	rc = cni_random_mac(a->mac);
	if (rc)
		return rc;
	rc = nl_veth_create(a->host_nl, a->st.host_if, a->e->ifname, a->pod_ns, a->mac,
			    a->c->mtu);
	if (rc == -EEXIST)
		return cni_fail(rc, MIDOX_ERR_IFNAME_TAKEN, "interface %s or %s exists already",
				a->e->ifname, a->st.host_if);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot create the veth pair %s/%s: %s",
				a->st.host_if, a->e->ifname, strerror(-rc));
	a->veth_done = true;
	rc = nl_link_get(a->pod_nl, a->e->ifname, &l);
	if (!rc)
		rc = nl_addr_add(a->pod_nl, l.index, a->ipam.addr, a->ipam.prefix_len);
	if (!rc)
		rc = nl_link_up(a->pod_nl, l.index);
	if (rc)
		return cni_fail(rc, CNI_ERR_IO, "cannot set up %s in the pod: %s", a->e->ifname,
				strerror(-rc));
	rc = pod_routes(a, l.index);
	return rc ? rc : shape_ingress(a);
}

static int make_port(struct add *a)
{
	struct topo_port_opts o = { .has_mac = true, .has_addr = true, .addr = a->ipam.addr,
				    .has_egress_limit = a->c->egress_rate != 0,
				    .egress_rate = a->c->egress_rate,
				    .egress_burst = a->c->egress_burst };
	int rc;

	memcpy(o.mac, a->mac, 6);
	rc = topo_port_create_bound(a->n.zh, a->bridge_id, &o, a->n.host_id, a->st.host_if,
				    a->st.port_id);
	if (rc)
		return cni_fail(rc, rc == -ETIMEDOUT || rc == -EBUSY ? CNI_ERR_TRY_AGAIN :
				MIDOX_ERR_TOPOLOGY, "cannot create the pod's port on bridge %s: %s",
				a->c->bridge, cni_zk_why(rc, a->c));
	return cni_state_write(a->c->data_dir, &a->st);
}

static int wait_active(struct add *a)
{
	return cni_wait_active(a->c, &a->n, a->st.host_if, a->st.port_id, "the pod's port");
}

static int print_result(struct add *a)
{
	char cidr[TOPO_CIDR_STRLEN], gw[INET_ADDRSTRLEN], hmac[18], pmac[18];
	struct topo_cidr c = { a->ipam.addr, (uint8_t)a->ipam.prefix_len };
	json_t *routes = json_object_get(a->ipam.result, "routes");
	json_t *dns = json_object_get(a->ipam.result, "dns");
	json_t *ip, *o;
	struct nl_link l = { 0 };

	nl_link_get(a->host_nl, a->st.host_if, &l);
	topo_format_mac(l.mac, hmac);
	topo_format_mac(a->mac, pmac);
	topo_format_cidr(&c, cidr);
	ip = json_pack("{s:s, s:i}", "address", cidr, "interface", 1);
	if (ip && a->ipam.has_gw)
		json_object_set_new(ip, "gateway", json_string(inet_ntop(AF_INET, &a->ipam.gw, gw,
									 sizeof(gw))));
	o = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}], s:[o], s:O, s:O}",
		      "cniVersion", a->c->version,
		      "interfaces", "name", a->st.host_if, "mac", hmac,
		      "name", a->e->ifname, "mac", pmac, "sandbox", a->e->netns,
		      "ips", ip, "routes", routes ? routes : json_array(),
		      "dns", dns ? dns : json_object());
	if (!o)
		return cni_fail(-ENOMEM, CNI_ERR_IO, "out of memory");
	/* 1.1.0's interfaces carry their MTU. */
	for (size_t i = 0; !strcmp(a->c->version, "1.1.0") && i < 2; i++)
		json_object_set_new(json_array_get(json_object_get(o, "interfaces"), i), "mtu",
				    json_integer(a->c->mtu));
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return 0;
}

/* Undo in reverse what ADD made. Every step is tried; when one fails, the attachment's
 * record stays (it names the port once it exists), so the DEL the runtime sends after a
 * failed ADD, or GC, finds what is left. */
static void add_undo(struct add *a)
{
	bool left = false;
	int rc;

	if (a->st.port_id[0] && (rc = topo_port_delete(a->n.zh, a->st.port_id)) &&
	    rc != -ENOENT) {
		mx_warn("undo: cannot delete port %s: %s", a->st.port_id, topo_errmsg());
		left = true;
	}
	if (a->veth_done && (rc = nl_link_delete(a->host_nl, a->st.host_if))) {
		mx_warn("undo: cannot delete %s: %s", a->st.host_if, strerror(-rc));
		left = true;
	}
	/* The specification: a delegated plugin whose ADD failed gets a DEL too (it may hold
	 * part of a lease). Only a lease it gave keeps the record when its DEL fails: after a
	 * refused ADD (a bad range, no such plugin) its DEL fails the same way. */
	if (a->ipam_done &&
	    cni_ipam_exec(a->c, a->e, "DEL", a->e->container_id, a->e->ifname, NULL)) {
		mx_warn("undo: IPAM DEL of %s/%s failed", a->e->container_id, a->e->ifname);
		left = left || a->ipam.succeeded;
	}
	if (a->state_done && left)
		mx_warn("undo incomplete: the record of %s/%s under %s stays for DEL or GC",
			a->e->container_id, a->e->ifname, a->c->data_dir);
	else if (a->state_done &&
		 (rc = cni_state_remove(a->c->data_dir, a->e->container_id, a->e->ifname)))
		mx_warn("undo: cannot remove the state of %s: %s", a->e->container_id,
			strerror(-rc));
}

static int add_steps(struct add *a)
{
	int rc = cni_node_connect(a->c, &a->n);

	if (!rc)
		rc = cni_node_host_id(a->c, &a->n);
	if (!rc) {
		strcpy(a->st.host_id, a->n.host_id);
		rc = cni_node_refresh(&a->n);
	}
	if (!rc)
		rc = cni_node_agent_alive(&a->n, MIDOX_ERR_AGENT);
	if (!rc && !a->c->ipam)
		rc = cni_fail(-EINVAL, CNI_ERR_CONFIG, "the configuration has no \"ipam\" section "
			      "(e.g. {\"type\": \"host-local\", \"subnet\": \"10.1.0.0/24\"})");
	if (!rc)
		rc = find_bridge(a);
	if (!rc)
		rc = cni_block_claim(a->c, &a->n);
	/* After the claim: the node's gateway leases from this node's block too. */
	if (!rc)
		rc = cni_node_gw_ensure(a->c, a->e, &a->n, a->bridge_id);
	if (!rc)
		rc = open_pod(a);
	if (!rc)
		rc = check_free(a);
	if (!rc)
		rc = cni_state_write(a->c->data_dir, &a->st);
	a->state_done = !rc;
	/* From here the IPAM plugin has run: its DEL is part of every undo, also when its ADD
	 * failed or gave an address that is no use (IPv6, unparsable). */
	a->ipam_done = !rc;
	if (!rc)
		rc = cni_ipam_exec(a->c, a->e, "ADD", a->e->container_id, a->e->ifname, &a->ipam);
	if (!rc)
		rc = make_veth(a);
	if (!rc)
		rc = make_port(a);
	if (!rc)
		rc = wait_active(a);
	return rc;
}

int cni_cmd_add(const struct cni_conf *c, const struct cni_env *e)
{
	struct add a = { .c = c, .e = e, .pod_ns = -1, .pod_nl = -1, .host_nl = -1 };
	int rc;

	snprintf(a.st.container_id, sizeof(a.st.container_id), "%s", e->container_id);
	snprintf(a.st.ifname, sizeof(a.st.ifname), "%s", e->ifname);
	cni_host_ifname(e->container_id, e->ifname, a.st.host_if);
	rc = add_steps(&a);
	if (!rc)
		rc = print_result(&a);
	if (rc)
		add_undo(&a);
	cni_ipam_free(&a.ipam);
	cni_node_close(&a.n);
	if (a.pod_ns >= 0)
		close(a.pod_ns);
	if (a.pod_nl >= 0)
		close(a.pod_nl);
	if (a.host_nl >= 0)
		close(a.host_nl);
	return rc;
}
