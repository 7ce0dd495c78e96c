// SPDX-License-Identifier: Apache-2.0
/* The agent's side: its host id kept on disk, its host node and liveness. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "topo_impl.h"

static int read_id(const char *path, char id[TOPO_ID_LEN])
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return topo_fail(-errno, "cannot read %s: %s", path, strerror(errno));
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!topo_valid_uuid(buf))
		return topo_fail(-EINVAL, "%s does not hold a host id (a lower-case UUID)", path);
	strcpy(id, buf);
	return 0;
}

/* Write a new id through a temporary file and a rename: a crash leaves no half file. */
int topo_host_id_load(const char *path, char id[TOPO_ID_LEN])
{
	char tmp[4096];
	FILE *f;
	int rc;

	rc = read_id(path, id);
	if (rc != -ENOENT)
		return rc == -EACCES ? topo_fail(rc, "cannot read %s: %s", path, strerror(-rc))
				     : rc;
	rc = topo_new_uuid(id);
	if (rc)
		return rc;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return topo_fail(-ENAMETOOLONG, "host id path too long: %s", path);
	f = fopen(tmp, "w");
	if (!f)
		return topo_fail(-errno, "cannot create %s: %s", tmp, strerror(errno));
	fprintf(f, "%s\n", id);
	if (fflush(f) || fsync(fileno(f))) {
		rc = -errno;
		fclose(f);
		unlink(tmp);
		return topo_fail(rc, "cannot write %s: %s", tmp, strerror(-rc));
	}
	fclose(f);
	/* Two agents racing on one file: link fails for the loser, who reads the winner's. */
	if (link(tmp, path)) {
		rc = -errno;
		unlink(tmp);
		if (rc == -EEXIST)
			return read_id(path, id);
		return topo_fail(rc, "cannot create %s: %s", path, strerror(-rc));
	}
	unlink(tmp);
	return 0;
}

static char self_host[TOPO_ID_LEN];

const char *topo_self_host(void)
{
	return self_host;
}

static int register_once(zhandle_t *zh, const char *host_id, const char *name)
{
	const clientid_t *me = zoo_client_id(zh);
	struct topo_host h = { 0 };
	char path[TOPO_PATH_MAX], buf[TOPO_DATA_MAX];
	struct topo_txn x;
	struct Stat st;
	int len = sizeof(buf), rc;

	txn_init(&x);
	strcpy(h.id, host_id);
	snprintf(h.name, sizeof(h.name), "%s", name);
	snprintf(path, sizeof(path), P_HOST, host_id);
	rc = zoo_get(zh, path, 0, buf, &len, &st);
	if (rc == ZNONODE) {
		txn_create(&x, ZOO_PERSISTENT, topo_encode_host(&h), P_HOST, host_id);
		txn_create(&x, ZOO_PERSISTENT, NULL, P_BINDINGS, host_id);
		txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_MACS, host_id);
		txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_ARPS, host_id);
		txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_BGP_ROUTES, host_id);
	} else if (rc == ZOK) {
		struct topo_host old = { 0 };

		if (len < 0 || topo_decode_host(buf, (size_t)len, NULL, &old) || strcmp(old.name, name))
			txn_set(&x, st.version, topo_encode_host(&h), P_HOST, host_id);
		else
			txn_check(&x, st.version, P_HOST, host_id);
		snprintf(path, sizeof(path), P_BINDINGS, host_id);
		if (zoo_exists(zh, path, 0, &st) == ZNONODE)
			txn_create(&x, ZOO_PERSISTENT, NULL, P_BINDINGS, host_id);
		snprintf(path, sizeof(path), P_HOST_MACS, host_id);
		if (zoo_exists(zh, path, 0, &st) == ZNONODE)
			txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_MACS, host_id);
		snprintf(path, sizeof(path), P_HOST_ARPS, host_id);
		if (zoo_exists(zh, path, 0, &st) == ZNONODE)
			txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_ARPS, host_id);
		snprintf(path, sizeof(path), P_HOST_BGP_ROUTES, host_id);
		if (zoo_exists(zh, path, 0, &st) == ZNONODE)
			txn_create(&x, ZOO_PERSISTENT, NULL, P_HOST_BGP_ROUTES, host_id);
	} else {
		return topo_fail(topo_zerr(rc), "reading %s: %s", path, zerror(rc));
	}
	/* Liveness: ours, or a previous session's (this agent before a restart) replaced. */
	snprintf(path, sizeof(path), P_ALIVE, host_id);
	rc = zoo_exists(zh, path, 0, &st);
	if (rc == ZOK && st.ephemeralOwner == me->client_id) {
		txn_check(&x, st.version, P_ALIVE, host_id);
	} else {
		if (rc == ZOK)
			txn_delete(&x, st.version, P_ALIVE, host_id);
		txn_create(&x, ZOO_EPHEMERAL, topo_encode_alive(), P_ALIVE, host_id);
	}
	rc = txn_commit(zh, &x);
	txn_free(&x);
	return rc;
}

int topo_host_register(zhandle_t *zh, const char *host_id, const char *name)
{
	int i, rc;

	if (!topo_valid_uuid(host_id))
		return topo_fail(-EINVAL, "host id '%s' is not a lower-case UUID", host_id);
	if (!topo_valid_name(name))
		return topo_fail(-EINVAL, "host name '%s' is not a valid name", name);
	snprintf(self_host, sizeof(self_host), "%s", host_id);
	rc = topo_ensure_root(zh);
	for (i = 0; !rc && i < 10; i++) {
		rc = register_once(zh, host_id, name);
		if (rc != -EAGAIN)
			break;
	}
	return rc;
}
