// SPDX-License-Identifier: Apache-2.0
/* Learned routes (docs/bgp.md): every tick, what each running BIRD has in its kernel table
 * (routes.c), by peer (the gateway is the peer's address: eBGP next hops are the peers'),
 * at most max_routes per port, compared with what this session has published
 * (publish.c); the difference is published or withdrawn, one ephemeral node per (prefix,
 * peer). The writes go as multi-ops of up to TOPO_BGP_BATCH_MAX, a few batches in flight,
 * never waited for: the ZooKeeper client's thread hands each answered batch back and wakes
 * the loop, which settles it and sends the next. Every agent reads the routes with the
 * topology and installs them in its router's routes (desired.c): equal weights, so that
 * several peers advertising one prefix share its flows. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "bgp.h"
#include "routes.h"
#include "status.h"

#define LEARNED_WEIGHT TOPO_WEIGHT_DEFAULT
/* At exit, how long the answers in flight are waited for. */
#define STOP_WAIT_MS 2000

/* A batch of writes, sent: the client's thread puts it on the outbox's done list. */
struct bgp_batch {
	struct bgp_batch *next;
	struct bgp_outbox *box;
	uint64_t gen;
	int rc;
	size_t n;
	struct topo_bgp_write w[TOPO_BGP_BATCH_MAX];
};

/* Shared with the client's thread; on the heap so that an answer arriving after the agent
 * let go of it (exit with batches in flight) finds it still there. */
struct bgp_outbox {
	pthread_mutex_t lock;
	struct bgp_batch *done;
	int wake_fd;
};

void bgp_learn_close(struct bgp_speaker *s)
{
	if (s->rib_fd >= 0)
		close(s->rib_fd);
	s->rib_fd = -1;
}

static void batch_answered(int rc, void *ctx)
{
	struct bgp_batch *b = ctx;
	struct bgp_outbox *box = b->box;
	uint64_t one = 1;

	b->rc = rc;
	pthread_mutex_lock(&box->lock);
	b->next = box->done;
	box->done = b;
	/* A failed write is a full counter: the loop is awake already. */
	if (box->wake_fd >= 0 && write(box->wake_fd, &one, sizeof(one)) < 0)
		one = 0;
	pthread_mutex_unlock(&box->lock);
}

static struct bgp_batch *outbox_take(struct bgp_outbox *box)
{
	struct bgp_batch *list;

	pthread_mutex_lock(&box->lock);
	list = box->done;
	box->done = NULL;
	pthread_mutex_unlock(&box->lock);
	return list;
}

/* The ZooKeeper codes that leave a write's outcome unknown: it may have happened. */
static bool outcome_unknown(int rc)
{
	return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT;
}

/* One answered batch into the published set (if it is still this set's). */
static void settle(struct bgp_manager *m, zhandle_t *zh, struct bgp_batch *b)
{
	size_t failed = 0, missing_parent = 0;
	int first = ZOK;

	m->in_flight--;
	if (b->gen != m->gen)
		return; /* for a set given up since (session expired, read back) */
	if (outcome_unknown(b->rc)) {
		mx_warn("BGP: %zu learned-route writes: %s: reading back what ZooKeeper holds",
			b->n, zerror(b->rc));
		m->relist = true;
	}
	for (size_t i = 0; i < b->n; i++) {
		int rc = b->w[i].rc;

		if (rc == ZOK || (b->w[i].withdraw && rc == ZNONODE) || rc == ZRUNTIMEINCONSISTENCY)
			continue; /* done, gone already, or undone with its batch (sent again) */
		failed++;
		if (first == ZOK)
			first = rc;
		missing_parent += !b->w[i].withdraw && rc == ZNONODE;
	}
	bgp_pub_settle(&m->pub, b->w, b->n);
	if (failed && !outcome_unknown(b->rc)) {
		m->write_errors += failed;
		mx_warn("BGP: a batch of %zu learned-route writes failed (%zu refused, the first: "
			"%s); tried again", b->n, failed, zerror(first));
	}
	if (missing_parent)
		topo_bgp_routes_container_async(zh, m->host_id);
}

static int outbox_open(struct bgp_manager *m)
{
	if (m->outbox)
		return 0;
	m->outbox = calloc(1, sizeof(*m->outbox));
	if (!m->outbox)
		return -ENOMEM;
	pthread_mutex_init(&m->outbox->lock, NULL);
	m->outbox->wake_fd = m->wake_fd;
	return 0;
}

/* Send queued writes while batches may go. */
static void send_batches(struct bgp_manager *m, zhandle_t *zh)
{
	struct bgp_batch *b;
	int err;

	while (!m->relist && m->in_flight < BGP_BATCHES_IN_FLIGHT && bgp_pub_queued(&m->pub)) {
		if (outbox_open(m) || !(b = malloc(sizeof(*b))))
			return; /* out of memory: the queue waits */
		b->box = m->outbox;
		b->gen = m->gen;
		b->n = bgp_pub_take(&m->pub, b->w, TOPO_BGP_BATCH_MAX);
		err = topo_bgp_routes_write_async(zh, m->host_id, b->w, b->n, batch_answered, b);
		if (err) {
			/* Not sent: as if refused, so that the set and the next tick retry. */
			mx_warn("BGP: cannot send learned-route writes: %s", topo_errmsg());
			for (size_t i = 0; i < b->n; i++)
				b->w[i].rc = ZSYSTEMERROR;
			m->write_errors += b->n;
			bgp_pub_settle(&m->pub, b->w, b->n);
			free(b);
			return;
		}
		m->in_flight++;
	}
}

void bgp_learn_pump(struct bgp_manager *m, zhandle_t *zh)
{
	struct bgp_batch *b, *next;

	if (m->outbox) {
		for (b = outbox_take(m->outbox); b; b = next) {
			next = b->next;
			settle(m, zh, b);
			free(b);
		}
	}
	send_batches(m, zh);
}

size_t bgp_learn_pending(const struct bgp_manager *m)
{
	size_t n = bgp_pub_queued(&m->pub);

	for (size_t i = 0; i < m->pub.n; i++)
		n += m->pub.items[i].state == BGP_PUB_CREATING ||
		     m->pub.items[i].state == BGP_PUB_DELETING;
	return n;
}

void bgp_learn_forget(struct bgp_manager *m)
{
	bgp_pub_free(&m->pub);
	m->gen++;
	m->published_known = false;
	m->relist = false;
	free(m->status);
	m->status = NULL;
	m->n_status = 0;
}

void bgp_learn_stop(struct bgp_manager *m)
{
	struct timespec pause = { 0, 10 * 1000000 };
	struct bgp_batch *b, *next;

	if (!m->outbox)
		return;
	for (int waited = 0; m->in_flight && waited < STOP_WAIT_MS; waited += 10) {
		nanosleep(&pause, NULL);
		for (b = outbox_take(m->outbox); b; b = next) {
			next = b->next;
			m->in_flight--;
			free(b);
		}
	}
	pthread_mutex_lock(&m->outbox->lock);
	m->outbox->wake_fd = -1;
	pthread_mutex_unlock(&m->outbox->lock);
	if (m->in_flight) {
		/* Left to the client's thread, which may still answer: never freed. */
		mx_warn("BGP: %zu batches of learned-route writes unanswered at exit", m->in_flight);
		m->outbox = NULL;
		return;
	}
	pthread_mutex_destroy(&m->outbox->lock);
	free(m->outbox);
	m->outbox = NULL;
}

static int peer_index(const struct bgp_want *w, struct in_addr gw)
{
	for (size_t i = 0; i < w->n_peers; i++)
		if (w->peers[i].addr.s_addr == gw.s_addr)
			return (int)i;
	return -1;
}

/* Whether r is in the published set (live, or its create under way). */
static bool is_published(const struct bgp_manager *m, const struct topo_route *r)
{
	/* items[i].r is the first member of items[i]: the set's order is bgp_route_cmp's */
	return m->pub.n &&
	       bsearch(r, m->pub.items, m->pub.n, sizeof(*m->pub.items), bgp_route_cmp);
}

/* r as speaker s publishes the table's entry e, learned from peer p. */
static void learned_route(const struct bgp_speaker *s, const struct bgp_rib_entry *e, int p,
			  struct topo_route *r)
{
	memset(r, 0, sizeof(*r));
	r->learned = true;
	r->type = TOPO_ROUTE_NORMAL;
	r->dst = e->dst;
	r->has_gw = true;
	r->gw = e->gw;
	r->weight = LEARNED_WEIGHT;
	strcpy(r->router_id, s->want.router_id);
	strcpy(r->port_id, s->want.port_id);
	strcpy(r->peer_id, s->want.peers[p].id);
}

static int want_push(struct topo_route **want, size_t *n, size_t *cap, const struct topo_route *r)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct topo_route *grown = realloc(*want, c * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		*want = grown;
		*cap = c;
	}
	(*want)[(*n)++] = *r;
	return 0;
}

/* What speaker s's BIRD learned, appended to *want, at most max_routes of it. Over the cap,
 * what is published already stays and only the rest competes for what is left, so that a
 * table growing past the cap does not make published routes flap (the table's order is the
 * kernel's, by prefix, not by arrival). */
static int read_speaker(struct bgp_manager *m, struct bgp_speaker *s, struct topo_route **want,
			size_t *n, size_t *cap)
{
	struct bgp_rib_entry *rib = NULL;
	size_t n_rib = 0, taken = 0, over = 0;
	uint8_t *state = NULL; /* per entry: 0 not a peer's, 1 candidate, 2 taken */
	struct topo_route r;
	char ns[64];
	int err;

	if (s->rib_fd < 0) {
		snprintf(ns, sizeof(ns), "/run/netns/%s", s->netns);
		s->rib_fd = bgp_routes_open(ns);
		if (s->rib_fd < 0)
			return s->rib_fd;
	}
	err = bgp_routes_dump(s->rib_fd, &rib, &n_rib);
	if (err) {
		bgp_learn_close(s); /* opened again next time */
		return err;
	}
	state = calloc(n_rib ? n_rib : 1, 1);
	if (!state) {
		free(rib);
		return -ENOMEM;
	}
	memset(s->received, 0, sizeof(s->received));
	memset(s->left_out, 0, sizeof(s->left_out));
	for (size_t i = 0; i < n_rib; i++) {
		int p = peer_index(&s->want, rib[i].gw);

		/* Not a peer's, or not a prefix ZooKeeper would take (a batch is refused whole). */
		if (p < 0 || !topo_cidr_is_network(&rib[i].dst))
			continue;
		s->received[p]++;
		state[i] = 1;
	}
	/* Two rounds: the published first, then the rest while there is room. */
	for (int round = 0; round < 2 && !err; round++)
		for (size_t i = 0; i < n_rib && !err; i++) {
			int p = peer_index(&s->want, rib[i].gw);

			if (state[i] != 1 || taken == m->max_routes)
				continue;
			learned_route(s, &rib[i], p, &r);
			if (round == 0 && !is_published(m, &r))
				continue;
			err = want_push(want, n, cap, &r);
			state[i] = 2;
			taken++;
		}
	for (size_t i = 0; i < n_rib && !err; i++)
		if (state[i] == 1) {
			s->left_out[peer_index(&s->want, rib[i].gw)]++;
			over++;
		}
	free(state);
	free(rib);
	if (err)
		return err;
	if (over != s->over_cap)
		mx_warn("BGP: port %s: %zu learned routes over the cap of %zu (bgp_max_routes) "
			"left out", s->want.port_id, over, m->max_routes);
	s->over_cap = over;
	return 0;
}

/* The published set follows what is wanted; the writes go out with the next pump. */
static void apply(struct bgp_manager *m, const struct topo_route *want, size_t n)
{
	size_t added, removed;
	int err = bgp_pub_follow(&m->pub, want, n, &added, &removed);

	if (err) {
		mx_warn("BGP: cannot follow the learned routes: %s", strerror(-err));
		return;
	}
	if (added || removed)
		mx_info("BGP: learned routes: %zu to publish, %zu to withdraw, %zu in all", added,
			removed, m->pub.n - removed);
}

static size_t routes_of(const struct bgp_manager *m, const char *peer_id)
{
	return bgp_pub_count(&m->pub, peer_id, BGP_PUB_LIVE);
}

static const struct topo_bgp_status *status_of(const struct topo_bgp_status *arr, size_t n,
					       const char *peer_id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(arr[i].peer_id, peer_id))
			return &arr[i];
	return NULL;
}

/* The sessions of every running speaker, as its BIRD reports them: published when they
 * changed (a change of state or information logged), withdrawn for peers no speaker has. */
static void sessions(struct bgp_manager *m, zhandle_t *zh)
{
	struct topo_bgp_status *now = NULL, one[BGP_MAX_PEERS];
	size_t n = 0;
	char reply[8192];

	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];
		struct topo_bgp_status *grown;

		if (!s->bird.pid || bird_command(s->bird.dir, "show protocols", reply, sizeof(reply)))
			reply[0] = '\0';
		bgp_status_parse(reply, &s->want, one);
		grown = realloc(now, (n + s->want.n_peers + 1) * sizeof(*now));
		if (!grown) {
			free(now);
			return;
		}
		now = grown;
		for (size_t j = 0; j < s->want.n_peers; j++) {
			const struct topo_bgp_status *old = status_of(m->status, m->n_status,
								      one[j].peer_id);

			s->published[j] = routes_of(m, one[j].peer_id);
			s->up[j] = !strcmp(one[j].state, "up");
			one[j].routes = (uint32_t)s->published[j];
			if (!old || strcmp(old->state, one[j].state) || strcmp(old->info, one[j].info))
				mx_info("BGP: session with %s (peer %s) of port %s: %s%s%s",
					inet_ntoa(s->want.peers[j].addr), one[j].peer_id,
					s->want.port_id, one[j].state, one[j].info[0] ? ", " : "",
					one[j].info);
			if ((!old || memcmp(old, &one[j], sizeof(*old))) &&
			    topo_bgp_status_publish(zh, m->host_id, &one[j]))
				mx_warn("BGP: cannot publish a session's state: %s", topo_errmsg());
			now[n++] = one[j];
		}
	}
	for (size_t i = 0; i < m->n_status; i++)
		if (!status_of(now, n, m->status[i].peer_id))
			topo_bgp_status_withdraw(zh, m->host_id, m->status[i].peer_id);
	free(m->status);
	m->status = now;
	m->n_status = n;
}

/* What this session published before (an agent restarted on its session), read back once
 * a session, or after an answer was lost; only with nothing in flight, so that no answer
 * can change ZooKeeper after the listing. */
static int read_back(struct bgp_manager *m, zhandle_t *zh)
{
	struct topo_route *listed = NULL;
	size_t n = 0;
	int err;

	if (m->published_known && !m->relist)
		return 0;
	if (m->in_flight)
		return -EAGAIN;
	if (topo_bgp_routes_list(zh, m->host_id, &listed, &n)) {
		mx_warn("BGP: cannot read the learned routes published before: %s", topo_errmsg());
		return -EAGAIN;
	}
	m->gen++;
	err = bgp_pub_reset(&m->pub, listed, n);
	free(listed);
	if (err)
		return err;
	m->published_known = true;
	m->relist = false;
	return 0;
}

void bgp_learn_tick(struct bgp_manager *m, zhandle_t *zh)
{
	struct topo_route *want = NULL;
	size_t n = 0, cap = 0;
	int err;

	if (!m->synced)
		return;
	bgp_learn_pump(m, zh);
	if (read_back(m, zh))
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];

		/* Only a running BIRD's table counts: a dead one's routes linger there. */
		if (!s->bird.pid || !s->plumbed) {
			memset(s->received, 0, sizeof(s->received));
			memset(s->left_out, 0, sizeof(s->left_out));
			continue;
		}
		err = read_speaker(m, s, &want, &n, &cap);
		if (err == -ENOMEM) {
			free(want);
			return;
		}
		if (err)
			mx_warn("BGP: cannot read what BIRD learned for port %s: %s", s->want.port_id,
				strerror(-err));
	}
	if (n)
		qsort(want, n, sizeof(*want), bgp_route_cmp);
	apply(m, want, n);
	free(want);
	bgp_learn_pump(m, zh);
	sessions(m, zh);
}
