// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "session.h"

static void session_wake(struct session *s)
{
	uint64_t one = 1;

	if (write(s->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		mx_warn("wake-up write failed: %s", strerror(errno));
}

/* A connection the server closes within this long of its making counts as a flap. */
#define FLAP_NS 2000000000ull
#define FLAPS_TO_WARN 5

/* The server drops a reconnecting client at once when the client's first request, which
 * sets every watch again, is over its jute.maxbuffer: the client then retries forever
 * without an error of its own. Say what the likely cause is, once per run of flaps. */
static void session_flap_check(struct session *s, int state)
{
	uint64_t now = mx_now_ns();

	if (state == ZOO_CONNECTED_STATE) {
		s->connected_ns = now;
		return;
	}
	if (!s->connected_ns)
		return;
	if (now - s->connected_ns > FLAP_NS)
		s->flaps = 0;
	else if (++s->flaps == FLAPS_TO_WARN)
		mx_err("ZooKeeper closed the connection within 2 s of its making %u times in a row; "
		       "if the server logs \"Len error\", the watches this agent sets again on "
		       "reconnecting exceed its jute.maxbuffer: raise it (docs/zookeeper.md)",
		       s->flaps);
	s->connected_ns = 0;
}

/* Runs on the ZooKeeper client's thread: only flags and a wake-up. */
static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct session *s = ctx;

	(void)zh;
	(void)path;
	atomic_fetch_add(&s->events, 1);
	if (type == ZOO_SESSION_EVENT) {
		topo_zk_log_event();
		session_flap_check(s, state);
		if (state == ZOO_CONNECTED_STATE) {
			atomic_store(&s->connected, true);
			atomic_store(&s->reconnected, true);
			atomic_fetch_add(&s->connects, 1);
		} else if (state == ZOO_EXPIRED_SESSION_STATE) {
			atomic_store(&s->connected, false);
			atomic_store(&s->expired, true);
			atomic_fetch_add(&s->expiries, 1);
		} else {
			atomic_store(&s->connected, false);
		}
	} else {
		atomic_store(&s->changed, true);
	}
	session_wake(s);
}

static void session_on_change(void *ctx)
{
	struct session *s = ctx;

	atomic_fetch_add(&s->events, 1);
	atomic_store(&s->changed, true);
	session_wake(s);
}

static bool session_load(const char *path, clientid_t *id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, id, sizeof(*id));
	close(fd);
	return n == (ssize_t)sizeof(*id) && id->client_id != 0;
}

void session_save(struct session *s)
{
	const clientid_t *id = zoo_client_id(s->zh);
	char tmp[sizeof(s->saved_path) + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->saved_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, id, sizeof(*id)) != (ssize_t)sizeof(*id) || fsync(fd) < 0 ||
	    rename(tmp, s->saved_path) < 0)
		mx_warn("cannot save the session in %s: %s", s->saved_path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int session_init(struct session *s, const clientid_t *resume)
{
	atomic_store(&s->connected, false);
	atomic_store(&s->expired, false);
	s->zh = zookeeper_init2(s->servers, session_watcher, s->timeout_ms, resume, s, 0,
				topo_zk_log);
	if (!s->zh)
		return errno ? -errno : -EINVAL;
	zoo_set_servers_resolution_delay(s->zh, TOPO_RESOLVE_DELAY_MS);
	/* Reads of the topology ask only for what changed; a change wakes the loop. */
	if (topo_mirror_attach(s->zh, session_on_change, s))
		return -ENOMEM;
	/* The client presents them on connecting, and again after every reconnect. */
	if (s->auth && topo_auth_add(s->zh, s->auth))
		return -EIO;
	return s->group ? topo_auth_add(s->zh, s->group) : 0;
}

int session_open(struct session *s, const char *servers, int timeout_ms, const char *saved_path,
		 const struct topo_cred *auth, const struct topo_cred *group)
{
	clientid_t saved;
	bool resume;

	memset(s, 0, sizeof(*s));
	s->auth = auth;
	s->group = group;
	snprintf(s->servers, sizeof(s->servers), "%s", servers);
	snprintf(s->saved_path, sizeof(s->saved_path), "%s", saved_path);
	s->timeout_ms = timeout_ms;
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0)
		return -errno;
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	resume = session_load(saved_path, &saved);
	if (resume)
		mx_info("resuming ZooKeeper session 0x%llx", (unsigned long long)saved.client_id);
	return session_init(s, resume ? &saved : NULL);
}

int session_reopen(struct session *s)
{
	if (s->zh) {
		zookeeper_close(s->zh);
		topo_mirror_detach(s->zh); /* its watches went with the session */
	}
	s->zh = NULL;
	unlink(s->saved_path);
	return session_init(s, NULL);
}

void session_drain(struct session *s)
{
	uint64_t n;

	while (read(s->wake_fd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		;
}

void session_close(struct session *s, bool keep_alive_for_restart)
{
	if (s->zh && !keep_alive_for_restart)
		zookeeper_close(s->zh);
	/* Kept alive, the handle still runs: its events find no mirror and are dropped. */
	topo_mirror_detach(s->zh);
	/* Keeping the session: the process exits without telling the server; the session lives
	 * on for its timeout, long enough for the next agent to resume it. */
	s->zh = NULL;
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->wake_fd = -1;
}
