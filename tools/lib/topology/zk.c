// SPDX-License-Identifier: Apache-2.0
/* The ZooKeeper session: connect and wait for it, close, and the fixed nodes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "topo_impl.h"

/* Attached to the handle as its context for its whole life: the connect wait and the
 * caller's own session watcher. */
struct session {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;
	watcher_fn watcher;
	void *ctx;
};

static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct session *s = ctx;

	if (type == ZOO_SESSION_EVENT) {
		topo_zk_log_event();
		pthread_mutex_lock(&s->lock);
		s->state = state;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
	}
	if (s->watcher)
		s->watcher(zh, type, state, path, s->ctx);
}

int topo_connect(const char *servers, int timeout_ms, watcher_fn watcher, void *ctx,
		 zhandle_t **out)
{
	struct session *s;
	struct timespec deadline;
	zhandle_t *zh;
	int rc = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return topo_fail(-ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->watcher = watcher;
	s->ctx = ctx;
	/* The session timeout: long enough to ride out a short server restart. */
	zh = zookeeper_init2(servers, session_watcher, 10000, NULL, s, 0, topo_zk_log);
	if (!zh) {
		rc = -errno ? -errno : -EINVAL;
		free(s);
		return topo_fail(rc, "cannot use ZooKeeper servers '%s': %s", servers,
				 strerror(-rc));
	}
	zoo_set_servers_resolution_delay(zh, TOPO_RESOLVE_DELAY_MS);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	while (s->state != ZOO_CONNECTED_STATE && rc == 0) {
		if (s->state == ZOO_EXPIRED_SESSION_STATE || s->state == ZOO_AUTH_FAILED_STATE)
			rc = -ESTALE;
		else if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT)
			rc = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		topo_close(zh);
		return topo_fail(rc, "cannot reach ZooKeeper at %s within %d ms", servers,
				 timeout_ms);
	}
	*out = zh;
	return 0;
}

void topo_close(zhandle_t *zh)
{
	struct session *s;

	if (!zh)
		return;
	s = (struct session *)zoo_get_context(zh);
	zookeeper_close(zh);
	topo_mirror_detach(zh);
	if (s) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s);
	}
}

static int ensure(zhandle_t *zh, const char *path, const char *data)
{
	int rc = zoo_create(zh, path, data, (int)strlen(data), topo_acl_for(path),
			    ZOO_PERSISTENT, NULL, 0);

	if (rc == ZOK || rc == ZNODEEXISTS)
		return 0;
	return topo_fail(topo_zerr(rc), "cannot create %s: %s", path, zerror(rc));
}

int topo_ensure_root(zhandle_t *zh)
{
	static const char *const containers[] = { P_ROOT, P_HOSTS, P_ZONES, P_BRIDGES, P_PORTS,
						  P_ROUTERS, P_CHAINS, P_PORT_GROUPS,
						  P_IP_GROUPS };
	struct Stat st;
	char *key;
	size_t i;
	int rc;

	/* The common case, everything there, costs two round trips (the newest container is
	 * checked: a tree made by an older version gets it). */
	if (zoo_exists(zh, P_KEY, 0, &st) == ZOK && zoo_exists(zh, P_IP_GROUPS, 0, &st) == ZOK)
		return topo_acl_secure_tree(zh);
	for (i = 0; i < sizeof(containers) / sizeof(containers[0]); i++) {
		rc = ensure(zh, containers[i], topo_container_json);
		if (rc)
			return rc;
	}
	key = topo_encode_key_counter(TOPO_KEY_MIN);
	if (!key)
		return topo_fail(-ENOMEM, "out of memory");
	rc = ensure(zh, P_KEY, key);
	free(key);
	return rc ? rc : topo_acl_secure_tree(zh);
}
