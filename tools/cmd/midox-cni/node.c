// SPDX-License-Identifier: Apache-2.0
/* This node as midox knows it: the ZooKeeper session, the host id the agent keeps on disk
 * (the plugin reads it, never makes one), whether the agent is alive; and STATUS. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "base/clock.h"
#include "topology/status.h"

#define WAIT_POLL_NS 20000000ull

int cni_node_connect(const struct cni_conf *c, struct cni_node *n)
{
	struct topo_cred cred;
	int rc;

	memset(n, 0, sizeof(*n));
	if (c->credentials_file && (topo_cred_load(c->credentials_file, &cred) ||
				    topo_acl_setup(&cred, NULL, NULL)))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "credentialsFile: %s", topo_errmsg());
	rc = topo_connect(c->zookeeper, CNI_ZK_TIMEOUT_MS, NULL, NULL, &n->zh);
	if (rc) {
		n->zh = NULL;
		return cni_fail(rc, CNI_ERR_TRY_AGAIN, "cannot reach ZooKeeper at %s (waited %d s)",
				c->zookeeper, CNI_ZK_TIMEOUT_MS / 1000);
	}
	if (c->credentials_file) {
		rc = topo_auth_add(n->zh, &cred);
		if (rc)
			return cni_fail(rc, MIDOX_ERR_TOPOLOGY, "ZooKeeper refused the credential "
					"of %s: %s", c->credentials_file, topo_errmsg());
	}
	return 0;
}

int cni_node_host_id(const struct cni_conf *c, struct cni_node *n)
{
	char buf[64];
	ssize_t len;
	int fd = open(c->host_id_file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return cni_fail(-errno, MIDOX_ERR_AGENT, "cannot read the host id from %s (%s): "
				"is midox-agent set up on this node? (hostIdFile names the "
				"agent's host_id_file)", c->host_id_file, strerror(errno));
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return cni_fail(-errno, CNI_ERR_IO, "cannot read %s: %s", c->host_id_file,
				strerror(errno));
	buf[len] = '\0';
	buf[strcspn(buf, " \r\n")] = '\0';
	if (!topo_valid_uuid(buf))
		return cni_fail(-EINVAL, MIDOX_ERR_AGENT, "%s does not hold a host id (a "
				"lower-case UUID)", c->host_id_file);
	strcpy(n->host_id, buf);
	return 0;
}

int cni_node_refresh(struct cni_node *n)
{
	int rc;

	if (n->have_t)
		topo_free(&n->t);
	n->have_t = false;
	rc = topo_read(n->zh, &n->t);
	if (rc)
		return cni_fail(rc, rc == -ETIMEDOUT ? CNI_ERR_TRY_AGAIN : MIDOX_ERR_TOPOLOGY,
				"cannot read the topology: %s", topo_errmsg());
	n->have_t = true;
	return 0;
}

int cni_node_agent_alive(struct cni_node *n, int code)
{
	const struct topo_host *h = topo_find_host_by_id(&n->t, n->host_id);

	if (!h)
		return cni_fail(-ENOENT, code, "host %s is not registered in ZooKeeper: "
				"midox-agent has not run on this node", n->host_id);
	if (!h->alive)
		return cni_fail(-EHOSTDOWN, code, "midox-agent of host %s is not running "
				"(no live ZooKeeper session)", h->name);
	return 0;
}

const char *cni_zk_why(int rc, const struct cni_conf *c)
{
	static char buf[512];

	if (rc != -EACCES)
		return topo_errmsg();
	if (c->credentials_file)
		snprintf(buf, sizeof(buf), "not authorised: the credential in %s is not the "
			 "cluster's (%s)", c->credentials_file, topo_errmsg());
	else
		snprintf(buf, sizeof(buf), "not authorised: the topology is secured; set "
			 "\"credentialsFile\" to the cluster credential (%s)", topo_errmsg());
	return buf;
}

void cni_node_close(struct cni_node *n)
{
	if (n->have_t)
		topo_free(&n->t);
	n->have_t = false;
	topo_close(n->zh);
	n->zh = NULL;
}

/* A status left from an earlier port of the interface is not ours. */
int cni_wait_active(const struct cni_conf *c, struct cni_node *n, const char *host_if,
		    const char *port_id, const char *what)
{
	uint64_t deadline = mx_now_ns() + (uint64_t)(c->wait_s * 1e9);
	char reason[TOPO_REASON_MAX] = "the agent has not reported it";
	struct timespec pause = { 0, WAIT_POLL_NS };
	int rc;

	for (;;) {
		struct topo_binding_status b;
		bool ours;

		rc = topo_binding_status_read(n->zh, n->host_id, host_if, &b);
		ours = !rc && !strcmp(b.port_id, port_id);
		if (ours && b.active)
			return 0;
		if (ours)
			snprintf(reason, sizeof(reason), "%s", b.reason);
		if (mx_now_ns() >= deadline)
			break;
		nanosleep(&pause, NULL);
	}
	rc = cni_node_refresh(n);
	if (!rc)
		rc = cni_node_agent_alive(n, MIDOX_ERR_AGENT);
	if (rc)
		return rc;
	return cni_fail(-ETIMEDOUT, MIDOX_ERR_NOT_ACTIVE, "%s (interface %s) did not become "
			"active within %g s: %s", what, host_if, c->wait_s, reason);
}

/* This node's agent for STATUS: not running is 51 (the node's pods forward on what it last
 * set, but learn of no change: a pod added elsewhere is not reached), never registered 50. */
static int status_agent(struct cni_node *n)
{
	const struct topo_host *h = topo_find_host_by_id(&n->t, n->host_id);

	if (h && !h->alive)
		return cni_fail(-EHOSTDOWN, CNI_ERR_UNAVAILABLE_LIMITED, "midox-agent of host %s "
				"is not running (no live ZooKeeper session): this node's pods "
				"forward on what it last set and learn of no change", h->name);
	return cni_node_agent_alive(n, CNI_ERR_UNAVAILABLE);
}

/* The IPAM plugin ADD delegates to: STATUS passed on when it speaks 1.1.0 (its error
 * becomes ours); one that does not (Debian 12's) must at least be there and answer
 * VERSION. */
static int status_ipam(const struct cni_conf *c, const struct cni_env *e)
{
	bool speaks_1_1;
	int rc;

	if (!c->ipam)
		return cni_fail(-EINVAL, CNI_ERR_UNAVAILABLE, "the configuration has no \"ipam\" "
				"section: ADD cannot get an address");
	rc = cni_ipam_speaks_1_1(c, e, &speaks_1_1);
	if (!rc && speaks_1_1)
		rc = cni_ipam_exec_native(c, e, "STATUS");
	return rc;
}

/* STATUS: ready for ADD when ZooKeeper answers, the bridge exists (or may be made), this
 * node's agent is alive and the IPAM plugin is ready; otherwise 50, or 51 when the pods
 * already here may be cut off, with the reason. */
int cni_cmd_status(const struct cni_conf *c, const struct cni_env *e)
{
	struct cni_node n;
	int rc;

	rc = cni_node_connect(c, &n);
	if (!rc)
		rc = cni_node_host_id(c, &n);
	if (!rc)
		rc = cni_node_refresh(&n);
	if (!rc)
		rc = status_agent(&n);
	if (!rc && !c->create_bridge && !topo_find_bridge(&n.t, c->bridge))
		rc = cni_fail(-ENOENT, CNI_ERR_UNAVAILABLE, "no bridge %s in the topology",
			      c->bridge);
	if (!rc)
		rc = status_ipam(c, e);
	cni_node_close(&n);
	/* Whatever keeps ADD from working is "not available"; a bad configuration stays 7. */
	if (rc && cni_fail_code() != CNI_ERR_CONFIG &&
	    cni_fail_code() != CNI_ERR_UNAVAILABLE_LIMITED)
		cni_fail_set_code(CNI_ERR_UNAVAILABLE);
	return rc;
}
