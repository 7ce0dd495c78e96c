// SPDX-License-Identifier: Apache-2.0
/* Access control with ZooKeeper digest ACLs (docs/zookeeper.md, "Access control").
 * Identities: the cluster credential (administrators, the CLI) with every right on every
 * node; one identity per host ("host-<id>", its secret kept beside the host id file) with
 * rights on that host's own run-time state only; and the agents' group ("midox-agents",
 * its secret derived from the cluster credential), which may create and delete the NAT
 * port-block leases every host takes from one shared pool. Everybody may read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/log.h"
#include "topo_impl.h"

#define HOST_PERMS (ZOO_PERM_READ | ZOO_PERM_WRITE | ZOO_PERM_CREATE | ZOO_PERM_DELETE)
#define AGENTS_USER "midox-agents"
#define AGENTS_PERMS (ZOO_PERM_CREATE | ZOO_PERM_DELETE)

/* Process-wide: one process is one client of one kind (CLI, agent, test helper). */
static struct {
	bool on;			/* a cluster credential is configured */
	char cluster_id[160];		/* "user:base64(sha1(user:password))" */
	char host_id[TOPO_ID_LEN];	/* this agent's host ("" if none) */
	char host_digest[160];
	char agents_digest[160];	/* the agents' group */
	struct ACL cluster_acl[2];	/* cluster all, world read */
	struct ACL host_acl[3];		/* cluster all, host read/write/create/delete, world read */
	struct ACL nat_acl[3];		/* cluster all, agents create/delete, world read */
	struct ACL_vector cluster_vec, host_vec, nat_vec;
} acl;

static char anyone[] = "anyone", world[] = "world", digest[] = "digest";

static int digest_of(const struct topo_cred *c, char *out, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	char text[sizeof(c->user) + sizeof(c->password) + 1];
	unsigned int n = 0;
	int m;

	m = snprintf(text, sizeof(text), "%s:%s", c->user, c->password);
	if (!EVP_Digest(text, (size_t)m, md, &n, EVP_sha1(), NULL))
		return topo_fail(-EIO, "SHA-1 failed");
	EVP_EncodeBlock(b64, md, (int)n);
	if (snprintf(out, len, "%s:%s", c->user, b64) >= (int)len)
		return topo_fail(-ENAMETOOLONG, "user name too long");
	return 0;
}

static bool valid_user(const char *u)
{
	size_t n = strlen(u);

	return n > 0 && n < sizeof(((struct topo_cred *)0)->user) && !strpbrk(u, ": \t\r\n");
}

int topo_cred_load(const char *path, struct topo_cred *c)
{
	char buf[256], *colon;
	ssize_t n;
	int fd;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return topo_fail(-errno, "cannot read the credential file %s: %s", path,
				 strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return topo_fail(-errno, "cannot read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	colon = strchr(buf, ':');
	if (!colon)
		return topo_fail(-EINVAL, "%s: expected one line user:password", path);
	*colon = '\0';
	if (!valid_user(buf) || !colon[1] || strlen(colon + 1) >= sizeof(c->password))
		return topo_fail(-EINVAL, "%s: expected one line user:password (a user without "
				 "':' or spaces, a password of 1 to %zu bytes)", path,
				 sizeof(c->password) - 1);
	strcpy(c->user, buf);
	strcpy(c->password, colon + 1);
	return 0;
}

/* 32 random bytes as hex, written once through a temporary file and link (mode 0600):
 * two agents racing on it agree, as on the host id. */
int topo_host_cred_load(const char *path, const char *host_id, struct topo_cred *c)
{
	unsigned char rnd[32];
	char tmp[4096], hex[65];
	int fd, rc, i;

	rc = topo_cred_load(path, c);
	if (rc != -ENOENT)
		goto check;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
		rc = -errno ? -errno : -EIO;
		if (fd >= 0)
			close(fd);
		return topo_fail(rc, "cannot read /dev/urandom");
	}
	close(fd);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return topo_fail(-errno, "cannot create %s: %s", tmp, strerror(errno));
	if (dprintf(fd, "host-%s:%s\n", host_id, hex) < 0 || fsync(fd)) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return topo_fail(rc, "cannot write %s: %s", tmp, strerror(-rc));
	}
	close(fd);
	if (link(tmp, path) && errno != EEXIST) {
		rc = -errno;
		unlink(tmp);
		return topo_fail(rc, "cannot create %s: %s", path, strerror(-rc));
	}
	unlink(tmp);
	rc = topo_cred_load(path, c);
check:
	if (!rc && (strncmp(c->user, "host-", 5) || strcmp(c->user + 5, host_id)))
		return topo_fail(-EINVAL, "%s holds the secret of %s, not of host-%s", path,
				 c->user, host_id);
	return rc;
}

/* The group's password: HMAC-SHA256 of its name under the cluster's password, so that
 * whoever holds the cluster credential (the CLI, an agent at provisioning) derives it, and
 * nobody else. */
int topo_agents_cred(const struct topo_cred *cluster, struct topo_cred *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char msg[sizeof(AGENTS_USER) + sizeof(cluster->user) + 1];
	unsigned int n = 0;
	int m;

	memset(out, 0, sizeof(*out));
	m = snprintf(msg, sizeof(msg), "%s:%s", AGENTS_USER, cluster->user);
	if (!HMAC(EVP_sha256(), cluster->password, (int)strlen(cluster->password),
		  (const unsigned char *)msg, (size_t)m, md, &n))
		return topo_fail(-EIO, "HMAC-SHA256 failed");
	strcpy(out->user, AGENTS_USER);
	for (unsigned int i = 0; i < n && 2 * i + 2 < sizeof(out->password); i++)
		snprintf(out->password + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void set_acl(struct ACL *a, int32_t perms, char *scheme, char *id)
{
	a->perms = perms;
	a->id.scheme = scheme;
	a->id.id = id;
}

int topo_acl_setup(const struct topo_cred *cluster, const struct topo_cred *host,
		   const char *host_id)
{
	struct topo_cred agents;
	int rc;

	memset(&acl, 0, sizeof(acl));
	if (!cluster)
		return 0;
	rc = digest_of(cluster, acl.cluster_id, sizeof(acl.cluster_id));
	if (!rc)
		rc = topo_agents_cred(cluster, &agents);
	if (!rc)
		rc = digest_of(&agents, acl.agents_digest, sizeof(acl.agents_digest));
	if (rc)
		return rc;
	set_acl(&acl.cluster_acl[0], ZOO_PERM_ALL, digest, acl.cluster_id);
	set_acl(&acl.cluster_acl[1], ZOO_PERM_READ, world, anyone);
	acl.cluster_vec = (struct ACL_vector){ 2, acl.cluster_acl };
	set_acl(&acl.nat_acl[0], ZOO_PERM_ALL, digest, acl.cluster_id);
	set_acl(&acl.nat_acl[1], AGENTS_PERMS, digest, acl.agents_digest);
	set_acl(&acl.nat_acl[2], ZOO_PERM_READ, world, anyone);
	acl.nat_vec = (struct ACL_vector){ 3, acl.nat_acl };
	if (host && host_id) {
		rc = digest_of(host, acl.host_digest, sizeof(acl.host_digest));
		if (rc)
			return rc;
		snprintf(acl.host_id, sizeof(acl.host_id), "%s", host_id);
		set_acl(&acl.host_acl[0], ZOO_PERM_ALL, digest, acl.cluster_id);
		set_acl(&acl.host_acl[1], HOST_PERMS, digest, acl.host_digest);
		set_acl(&acl.host_acl[2], ZOO_PERM_READ, world, anyone);
		acl.host_vec = (struct ACL_vector){ 3, acl.host_acl };
	}
	acl.on = true;
	return 0;
}

bool topo_acl_enabled(void)
{
	return acl.on;
}

/* /midox/hosts/<this host> and what its agent writes below it (not its bindings). */
static bool own_subtree(const char *path)
{
	size_t n = strlen(P_HOSTS);
	const char *rest;

	if (!acl.host_id[0] || strncmp(path, P_HOSTS "/", n + 1) ||
	    strncmp(path + n + 1, acl.host_id, TOPO_ID_LEN - 1))
		return false;
	rest = path + n + TOPO_ID_LEN;
	return !*rest || (*rest == '/' && strncmp(rest, "/bindings", 9));
}

/* Where path lies below /midox/nat: 1 the container, 2 an address's node, 3 a block's
 * lease; 0 elsewhere. */
static int nat_depth(const char *path)
{
	size_t n = strlen(P_NAT);
	int depth = 1;

	if (strncmp(path, P_NAT, n) || (path[n] && path[n] != '/'))
		return 0;
	for (const char *p = path + n; *p; p++)
		depth += *p == '/';
	return depth;
}

const struct ACL_vector *topo_acl_for(const char *path)
{
	int nat = nat_depth(path);

	if (!acl.on)
		return &ZOO_OPEN_ACL_UNSAFE;
	/* ZooKeeper checks a create or delete against the parent's ACL: the container and
	 * each address let every agent take and give back blocks; a lease itself is its
	 * host's. */
	if (nat == 1 || nat == 2)
		return &acl.nat_vec;
	if (nat == 3 && acl.host_id[0])
		return &acl.host_vec;
	return own_subtree(path) ? &acl.host_vec : &acl.cluster_vec;
}

static void auth_done(int rc, const void *data)
{
	if (rc != ZOK)
		mx_warn("ZooKeeper refused the credential of %s: %s", (const char *)data,
			zerror(rc));
}

/* Digest authentication never fails at the server (a wrong password is simply another
 * identity); the client sends it again after every reconnect. */
int topo_auth_add(zhandle_t *zh, const struct topo_cred *c)
{
	char cert[sizeof(c->user) + sizeof(c->password) + 1];
	int n = snprintf(cert, sizeof(cert), "%s:%s", c->user, c->password);
	int rc = zoo_add_auth(zh, "digest", cert, n, auth_done, c->user);

	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "cannot present the credential: %s", zerror(rc));
	return 0;
}

/* An ACL still open to everybody (made before a credential was configured). */
static bool acl_open(const struct ACL_vector *v)
{
	for (int32_t i = 0; i < v->count; i++)
		if (!strcmp(v->data[i].id.scheme, world) && (v->data[i].perms & ~ZOO_PERM_READ))
			return true;
	return false;
}

/* Children before their parent: an interrupted run leaves the root open and is redone. */
static int secure(zhandle_t *zh, const char *path, int depth)
{
	struct String_vector sv = { 0 };
	char child[TOPO_PATH_MAX];
	struct Stat st;
	int32_t i;
	int rc;

	if (depth > 8)
		return 0;
	rc = zoo_exists(zh, path, 0, &st);
	if (rc == ZNONODE || (rc == ZOK && st.ephemeralOwner))
		return 0; /* an ephemeral node goes with its session */
	if (rc == ZOK)
		rc = zoo_get_children(zh, path, 0, &sv);
	for (i = 0; rc == ZOK && i < sv.count; i++) {
		snprintf(child, sizeof(child), "%s/%s", path, sv.data[i]);
		if (secure(zh, child, depth + 1)) {
			deallocate_String_vector(&sv);
			return -EIO; /* the message is set */
		}
	}
	deallocate_String_vector(&sv);
	if (rc == ZOK)
		rc = zoo_set_acl(zh, path, -1, topo_acl_for(path));
	if (rc != ZOK && rc != ZNONODE)
		return topo_fail(topo_zerr(rc), "setting the ACL of %s: %s", path, zerror(rc));
	return 0;
}

int topo_acl_secure_tree(zhandle_t *zh)
{
	static bool done;
	struct ACL_vector v = { 0 };
	struct Stat st;
	int rc;

	if (!acl.on || acl.host_id[0] || done)
		return 0;
	rc = zoo_get_acl(zh, P_ROOT, &v, &st);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "reading the ACL of %s: %s", P_ROOT, zerror(rc));
	if (acl_open(&v)) {
		mx_info("securing %s: the cluster credential gets every right, others read", P_ROOT);
		rc = secure(zh, P_ROOT, 0);
	}
	deallocate_ACL_vector(&v);
	done = rc == 0;
	return rc;
}

/* Create path with its ACL, or give it that ACL if it exists. */
static int provide(zhandle_t *zh, const char *path, const char *data)
{
	int rc = zoo_create(zh, path, data, (int)strlen(data), topo_acl_for(path),
			    ZOO_PERSISTENT, NULL, 0);

	if (rc == ZNODEEXISTS)
		rc = zoo_set_acl(zh, path, -1, topo_acl_for(path));
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "provisioning %s: %s", path, zerror(rc));
	return 0;
}

int topo_nat_provision(zhandle_t *zh)
{
	struct String_vector sv = { 0 };
	char path[TOPO_PATH_MAX];
	int rc = provide(zh, P_NAT, topo_container_json);

	if (rc)
		return rc;
	rc = zoo_get_children(zh, P_NAT, 0, &sv);
	for (int32_t i = 0; rc == ZOK && i < sv.count; i++) {
		snprintf(path, sizeof(path), "%s/%s", P_NAT, sv.data[i]);
		rc = zoo_set_acl(zh, path, -1, topo_acl_for(path));
		if (rc == ZNONODE) /* pruned meanwhile */
			rc = ZOK;
	}
	deallocate_String_vector(&sv);
	if (rc != ZOK)
		return topo_fail(topo_zerr(rc), "provisioning %s: %s", P_NAT, zerror(rc));
	return 0;
}

int topo_host_provision(zhandle_t *zh, const char *host_id, const char *name)
{
	struct topo_host h = { 0 };
	char path[TOPO_PATH_MAX], *data;
	int rc;

	if (!acl.on || strcmp(host_id, acl.host_id))
		return topo_fail(-EINVAL, "provisioning host %s needs its identity", host_id);
	rc = topo_ensure_root(zh);
	if (rc)
		return rc;
	strcpy(h.id, host_id);
	snprintf(h.name, sizeof(h.name), "%s", name);
	data = topo_encode_host(&h);
	if (!data)
		return topo_fail(-ENOMEM, "out of memory");
	snprintf(path, sizeof(path), P_HOST, host_id);
	rc = provide(zh, path, data);
	free(data);
	snprintf(path, sizeof(path), P_BINDINGS, host_id);
	if (!rc)
		rc = provide(zh, path, topo_container_json);
	snprintf(path, sizeof(path), P_HOST_MACS, host_id);
	if (!rc)
		rc = provide(zh, path, topo_container_json);
	snprintf(path, sizeof(path), P_HOST_ARPS, host_id);
	if (!rc)
		rc = provide(zh, path, topo_container_json);
	snprintf(path, sizeof(path), P_HOST_BGP_ROUTES, host_id);
	if (!rc)
		rc = provide(zh, path, topo_container_json);
	if (!rc)
		rc = topo_nat_provision(zh);
	return rc;
}
