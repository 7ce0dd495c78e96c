// SPDX-License-Identifier: Apache-2.0
/* The speakers of this host: the plan (plan.c) compared with what runs, each speaker's
 * namespace (netns.c), configuration (conf.c) and BIRD (bird.c) brought in line. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "bgp.h"
#include "conf.h"
#include "exec.h"

#define CONF_MAX (64 * 1024)
#define BACKOFF_MAX_S 30
/* A BIRD that ran this long before dying restarts at once again. */
#define STABLE_NS (60ull * 1000000000ull)

void bgp_init(struct bgp_manager *m, const char *run_dir, const char *host_id,
	      size_t max_routes)
{
	memset(m, 0, sizeof(*m));
	m->max_routes = max_routes;
	m->wake_fd = -1;
	snprintf(m->run_dir, sizeof(m->run_dir), "%s", run_dir);
	snprintf(m->host_id, sizeof(m->host_id), "%s", host_id);
	m->have_tools = !bgp_which("ip", m->tools.ip, sizeof(m->tools.ip)) &&
			!bgp_which("bird", m->tools.bird, sizeof(m->tools.bird));
}

static void speaker_dir(const struct bgp_manager *m, uint32_t key, char out[BGP_DIR_MAX])
{
	snprintf(out, BGP_DIR_MAX, "%s/%06x", m->run_dir, key & 0xFFFFFF);
}

static void remove_files(const char *dir)
{
	static const char *const names[] = { "bird.conf", "bird.conf.new", "bird.ctl",
					      "bird.pid", "bird.log" };
	char path[BGP_FILE_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Stop BIRD, remove the namespace and the files of the speaker on port_key. */
static void teardown(struct bgp_manager *m, struct bird *b, uint32_t key)
{
	char ns[BGP_NETNS_NAME_LEN];

	bird_stop(b);
	bgp_netns_name(m->host_id, key, ns);
	bgp_netns_remove(&m->tools, ns, key);
	remove_files(b->dir);
}

static void speaker_stop(struct bgp_manager *m, struct bgp_speaker *s)
{
	mx_info("BGP: stopping the speaker of port %s (BIRD %d, namespace %s)", s->want.port_id,
		(int)s->bird.pid, s->netns);
	bgp_learn_close(s);
	bgp_md5_forget(s->want.port_key);
	teardown(m, &s->bird, s->want.port_key);
	free(s->conf);
}

/* Directories of speakers an earlier agent ran that no port wants now: their BIRD stopped
 * and namespace removed (the port was unbound while no agent ran). */
static void sweep(struct bgp_manager *m, const struct bgp_want *w, size_t n)
{
	DIR *d = opendir(m->run_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct bird b = { 0 };
		char *end;
		unsigned long key = strtoul(e->d_name, &end, 16);
		bool wanted = false;

		if (*end || strlen(e->d_name) != 6)
			continue;
		for (size_t i = 0; i < n && !wanted; i++)
			wanted = w[i].port_key == key;
		if (wanted)
			continue;
		speaker_dir(m, (uint32_t)key, b.dir);
		bird_adopt(&b);
		mx_info("BGP: removing the speaker of tunnel key %lu an earlier agent left", key);
		teardown(m, &b, (uint32_t)key);
	}
	closedir(d);
}

static bool same_plumbing(const struct bgp_want *a, const struct bgp_want *b)
{
	return !memcmp(a->mac, b->mac, 6) && a->n_nets == b->n_nets &&
	       !memcmp(a->nets, b->nets, a->n_nets * sizeof(*a->nets));
}

/* Write and check the configuration if it changed; tell a running BIRD. */
static void apply_conf(struct bgp_manager *m, struct bgp_speaker *s)
{
	char *text = malloc(CONF_MAX);
	int len = text ? bgp_conf_render(&s->want, text, CONF_MAX) : -ENOMEM;

	if (len < 0) {
		mx_err("BGP: cannot make the configuration of port %s: %s", s->want.port_id,
		       strerror(-len));
		free(text);
		return;
	}
	if (s->conf && !strcmp(s->conf, text)) {
		free(text);
		return;
	}
	if (bird_conf_write(&m->tools, s->bird.dir, text)) {
		free(text);
		return;
	}
	free(s->conf);
	s->conf = text;
	if (s->bird.pid && !bird_configure(&s->bird))
		mx_info("BGP: BIRD of port %s reconfigured (%zu peers, %zu networks)",
			s->want.port_id, s->want.n_peers, s->want.n_networks);
}

static void start(struct bgp_manager *m, struct bgp_speaker *s)
{
	int err;

	if (!s->plumbed && !bgp_netns_ensure(&m->tools, s->netns, &s->want))
		s->plumbed = true;
	if (!s->plumbed || !s->conf)
		return;
	err = bird_start(&m->tools, &s->bird, s->netns);
	if (err) {
		mx_err("BGP: cannot start BIRD for port %s: %s", s->want.port_id, strerror(-err));
		return;
	}
	s->started_ns = mx_now_ns();
	if (s->died)
		s->restarts++;
	s->died = false;
	mx_info("BGP: BIRD %d speaks for port %s in namespace %s (AS %u, %zu peers, %zu "
		"networks)", (int)s->bird.pid, s->want.port_id, s->netns, s->want.local_as,
		s->want.n_peers, s->want.n_networks);
}

/* A speaker for w (new to this agent): an earlier agent's BIRD is taken over. */
static int speaker_new(struct bgp_manager *m, const struct bgp_want *w)
{
	struct bgp_speaker *grown = realloc(m->sp, (m->n + 1) * sizeof(*m->sp)), *s;
	int err;

	if (!grown)
		return -ENOMEM;
	m->sp = grown;
	s = &m->sp[m->n];
	memset(s, 0, sizeof(*s));
	s->rib_fd = -1;
	s->want = *w;
	s->backoff_s = 1;
	bgp_netns_name(m->host_id, w->port_key, s->netns);
	speaker_dir(m, w->port_key, s->bird.dir);
	err = mx_mkdir_p(s->bird.dir, 0700);
	if (err) {
		mx_err("BGP: cannot make %s: %s", s->bird.dir, strerror(-err));
		return err;
	}
	m->n++;
	if (bird_adopt(&s->bird)) {
		/* Its namespace is in place: set up again, its sessions would drop. */
		s->plumbed = true;
		s->started_ns = mx_now_ns();
		mx_info("BGP: BIRD %d of port %s still runs: taken over", (int)s->bird.pid,
			w->port_id);
	}
	return 0;
}

static const struct bgp_want *wanted(const struct bgp_want *w, size_t n, const char *port_id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(w[i].port_id, port_id))
			return &w[i];
	return NULL;
}

/* Whether peer_id is among w's peers. */
static bool has_peer(const struct bgp_want *w, const char *peer_id)
{
	for (size_t i = 0; i < w->n_peers; i++)
		if (!strcmp(w->peers[i].id, peer_id))
			return true;
	return false;
}

/* Whether every protocol in names (n of them) is down in BIRD's "show protocols". */
static bool all_down(const struct bird *b, char names[][BGP_PROTO_NAME_LEN], size_t n)
{
	char reply[8192];

	if (bird_command(b->dir, "show protocols", reply, sizeof(reply)))
		return true; /* BIRD gone: nothing more will be sent */
	for (size_t i = 0; i < n; i++) {
		const char *row = strstr(reply, names[i]);
		char state[16] = "";

		if (row && sscanf(row + strlen(names[i]), " %*s %*s %15s", state) == 1 &&
		    strcmp(state, "down"))
			return false;
	}
	return true;
}

/* The sessions of BIRD b's speaker, which runs now, that next lacks (peers deleted; next
 * NULL: the speaker goes away), shut down with a Cease to the peer, and waited for (up to
 * FAREWELL_MS) until BIRD shows them down. */
#define FAREWELL_MS 1000
static void farewell(struct bird *b, const struct bgp_want *now, const struct bgp_want *next)
{
	char names[BGP_MAX_PEERS][BGP_PROTO_NAME_LEN], cmd[32 + BGP_PROTO_NAME_LEN], reply[512];
	uint64_t deadline = mx_now_ns() + FAREWELL_MS * 1000000ull;
	size_t n = 0;

	for (size_t i = 0; i < now->n_peers; i++) {
		if (next && has_peer(next, now->peers[i].id))
			continue;
		bgp_proto_name(now->peers[i].id, names[n]);
		snprintf(cmd, sizeof(cmd), "disable %s", names[n]);
		if (bird_command(b->dir, cmd, reply, sizeof(reply)))
			continue;
		mx_info("BGP: session with %s (peer %s) of port %s shut down: %s",
			inet_ntoa(now->peers[i].addr), now->peers[i].id, now->port_id,
			next ? "the peer is gone" : "the speaker stops");
		n++;
	}
	while (n && !all_down(b, names, n) && mx_now_ns() < deadline)
		usleep(20000);
}

void bgp_farewell(struct bgp_manager *m, const struct topology *t)
{
	struct bgp_want *w = NULL;
	size_t n = 0;

	if (!m->have_tools || !m->n || bgp_plan(t, m->host_id, &w, &n))
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];

		if (s->bird.pid)
			farewell(&s->bird, &s->want, wanted(w, n, s->want.port_id));
	}
	free(w);
}

void bgp_sync(struct bgp_manager *m, const struct topology *t)
{
	struct bgp_want *w = NULL;
	size_t n = 0, i;

	if (bgp_plan(t, m->host_id, &w, &n)) {
		mx_err("BGP: out of memory planning the speakers");
		return;
	}
	if (n && !m->have_tools)
		mx_warn("BGP: %zu ports want a speaker but ip or bird (Debian's bird2) is not "
			"installed", n);
	if (!m->have_tools)
		goto out;
	if (!m->swept) {
		sweep(m, w, n);
		m->swept = true;
	}
	m->synced = true;
	/* Gone: stopped, and the array compacted. */
	for (i = 0; i < m->n;) {
		if (wanted(w, n, m->sp[i].want.port_id)) {
			i++;
			continue;
		}
		speaker_stop(m, &m->sp[i]);
		m->sp[i] = m->sp[--m->n];
	}
	for (i = 0; i < n; i++) {
		struct bgp_speaker *s = NULL;

		for (size_t j = 0; j < m->n && !s; j++)
			if (!strcmp(m->sp[j].want.port_id, w[i].port_id))
				s = &m->sp[j];
		if (!s && speaker_new(m, &w[i]))
			continue;
		if (!s)
			s = &m->sp[m->n - 1];
		else if (!same_plumbing(&s->want, &w[i]))
			s->plumbed = false;
		s->want = w[i];
		apply_conf(m, s);
		if (!s->bird.pid && !s->restart_ns)
			start(m, s);
		else if (s->bird.pid && !s->plumbed)
			s->plumbed = !bgp_netns_ensure(&m->tools, s->netns, &s->want);
	}
out:
	free(w);
}

/* The kernel's TCP MD5 drop counters of the speaker's namespace, through its BIRD's
 * /proc entry (no setns needed), noted for the session status (auth.h). */
static void md5_read(const struct bgp_speaker *s, uint64_t now)
{
	char path[64], text[16384];
	struct bgp_md5_counts c;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/netstat", (int)s->bird.pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (!bgp_md5_counts_parse(text, &c))
		bgp_md5_note(s->want.port_key, &c, now);
}

void bgp_tick(struct bgp_manager *m)
{
	uint64_t now = mx_now_ns();
	int status;

	for (size_t i = 0; i < m->n; i++) {
		struct bgp_speaker *s = &m->sp[i];
		pid_t pid = s->bird.pid;

		if (pid && !bird_alive(&s->bird, &status)) {
			if (now - s->started_ns > STABLE_NS)
				s->backoff_s = 1;
			mx_warn("BGP: BIRD %d of port %s exited (%s %d): starting it again in %u s",
				(int)pid, s->want.port_id,
				status >= 0 && WIFSIGNALED(status) ? "signal" : "status",
				status < 0 ? -1 : WIFSIGNALED(status) ? WTERMSIG(status) :
				WEXITSTATUS(status), s->backoff_s);
			s->restart_ns = now + s->backoff_s * 1000000000ull;
			s->died = true;
			s->backoff_s = s->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S :
									  s->backoff_s * 2;
			continue;
		}
		if (!s->bird.pid && now >= s->restart_ns) {
			s->restart_ns = 0;
			start(m, s);
		}
		if (s->bird.pid)
			md5_read(s, now);
	}
}

void bgp_free(struct bgp_manager *m)
{
	for (size_t i = 0; i < m->n; i++) {
		bgp_learn_close(&m->sp[i]);
		free(m->sp[i].conf);
	}
	bgp_learn_forget(m);
	free(m->sp);
	m->sp = NULL;
	m->n = 0;
	bgp_md5_free();
}
