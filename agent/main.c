// SPDX-License-Identifier: Apache-2.0
/* midox-agent: one per host. Registers the host, watches the topology in ZooKeeper and keeps
 * this host's datapath equal to what it implies. Stopping it leaves maps and programs in
 * place: forwarding goes on, and the next agent picks up where this one left. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "netlink.h"
#include "agent.h"
#include "verify.h"
#include "version.h"

#define TICK_MS 1000
#define PRIME_EVERY_TICKS 10
#define RESYNC_EVERY_TICKS 60 /* a safety net; changes arrive by watch */

static volatile sig_atomic_t stop_requested;

/* Access control (zookeeper_credentials_file set): the cluster credential, used only to
 * provision this host's subtree and the NAT leases' container, the host's own identity and
 * the agents' group (derived from the cluster's), the session's. */
static struct topo_cred cluster_cred, host_cred, agents_cred;

static double wall_time_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: midox-agent [--config FILE] [--verbose] [--verify] [--version] [--help]\n"
		   "  --config FILE  settings (default " AGENT_CONFIG_DEFAULT ")\n"
		   "  --verbose      debug messages, libbpf's included\n"
		   "  --verify       compare the pinned maps with what the topology implies,\n"
		   "                 print the differences and exit (0 equal, 1 different,\n"
		   "                 2 cannot verify)\n"
		   "environment overrides: MIDOX_ZK_SERVERS MIDOX_TUNNEL_IF MIDOX_HOST_ID_FILE\n"
		   "  MIDOX_HOST_NAME MIDOX_PIN_ROOT MIDOX_VXLAN_PORT MIDOX_ZK_SESSION_TIMEOUT_MS\n"
		   "  MIDOX_MAC_AGE_SECONDS MIDOX_CREDENTIALS MIDOX_METRICS_ADDRESS MIDOX_UNDERLAY_XDP\n");
}

static int parse_args(int argc, char **argv, const char **config, int *explicit_config,
		      bool *verify)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "verify", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'R' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			*explicit_config = 1;
			break;
		case 'v':
			mx_log_set_level(MX_LOG_DEBUG);
			break;
		case 'V':
			*verify = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'R':
			printf("midox-agent %s\n", MIDOX_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

void agent_prime_neighbours(struct agent *a)
{
	int ifindex = (int)if_nametoindex(a->cfg.tunnel_if);

	for (size_t i = 0; ifindex && i < a->n_peers; i++) {
		int err = neigh_use(ifindex, a->peers[i]);

		if (err)
			mx_debug("neighbour priming failed: %s", strerror(-err));
	}
}

static int agent_start(struct agent *a)
{
	char saved[300];
	int err;

	/* First: an address it cannot listen on stops the agent before it changes anything.
	 * Requests are served from the loop, once everything below is in place. */
	if (a->cfg.metrics_address[0]) {
		a->metrics.path = "/metrics";
		a->metrics.content_type = "text/plain; version=0.0.4; charset=utf-8";
		a->metrics.render = agent_metrics_render;
		a->metrics.ctx = a;
		err = http_server_open(&a->metrics, a->cfg.metrics_address);
		if (err)
			return err;
	}
	err = mx_mkdir_parents(a->cfg.host_id_file, 0755);
	if (!err)
		err = topo_host_id_load(a->cfg.host_id_file, a->host_id);
	if (err) {
		mx_err("cannot load or create the host id in %s: %s", a->cfg.host_id_file,
		       strerror(-err));
		return err;
	}
	mx_info("host %s (%s), tunnel interface %s, maps in %s", a->host_id, a->cfg.host_name,
		a->cfg.tunnel_if, a->cfg.pin_root);
	bgp_init(&a->bgp, a->cfg.bgp_run_dir, a->host_id, (size_t)a->cfg.bgp_max_routes);
	if (a->cfg.credentials_file[0]) {
		snprintf(saved, sizeof(saved), "%s.secret", a->cfg.host_id_file);
		err = topo_cred_load(a->cfg.credentials_file, &cluster_cred);
		if (!err)
			err = topo_host_cred_load(saved, a->host_id, &host_cred);
		if (!err)
			err = topo_agents_cred(&cluster_cred, &agents_cred);
		if (!err)
			err = topo_acl_setup(&cluster_cred, &host_cred, a->host_id);
		if (err) {
			mx_err("access control: %s", topo_errmsg());
			return err;
		}
	}
	a->link_fd = link_events_open();
	if (a->link_fd < 0) {
		mx_err("cannot watch links: %s", strerror(-a->link_fd));
		return a->link_fd;
	}
	snprintf(saved, sizeof(saved), "%s.session", a->cfg.host_id_file);
	err = session_open(&a->zk, a->cfg.zk_servers, a->cfg.session_timeout_ms, saved,
			   a->cfg.credentials_file[0] ? &host_cred : NULL,
			   a->cfg.credentials_file[0] ? &agents_cred : NULL);
	if (err) {
		mx_err("cannot start a ZooKeeper client for %s: %s", a->cfg.zk_servers,
		       strerror(-err));
		return err;
	}
	a->bgp.wake_fd = a->zk.wake_fd; /* answered batches of learned routes wake the loop */
	/* Last: its thread wakes the session's eventfd when done. */
	return agent_datapath_start(a);
}

/* With access control, this host's node and containers give its identity its rights, and
 * the NAT leases' container the agents' group theirs; made (or fixed) with the cluster
 * credential, on a session of its own. */
int agent_provision(struct agent *a)
{
	zhandle_t *zh;
	int err;

	err = topo_connect(a->cfg.zk_servers, 5000, NULL, NULL, &zh);
	if (err)
		return err;
	err = topo_auth_add(zh, &cluster_cred);
	if (!err)
		err = topo_host_provision(zh, a->host_id, a->cfg.host_name);
	topo_close(zh);
	if (!err)
		mx_info("provisioned host %s with its own identity", a->host_id);
	return err;
}

/* What the session's events ask for; returns true when the topology must be read again. */
static bool agent_session_step(struct agent *a)
{
	bool dirty = false;
	int err;

	if (atomic_exchange(&a->zk.expired, false)) {
		mx_warn("ZooKeeper session expired: opening a new one");
		a->registered = false;
		agent_learn_forget(a);
		agent_status_forget(a);
		bgp_learn_forget(&a->bgp);
		agent_natlease_expired(a);
		err = session_reopen(&a->zk);
		if (err)
			mx_err("cannot reopen the ZooKeeper session: %s", strerror(-err));
		return false;
	}
	if (atomic_exchange(&a->zk.reconnected, false)) {
		mx_info("connected to ZooKeeper");
		session_save(&a->zk);
		dirty = true;
	}
	if (atomic_load(&a->zk.connected) && !a->registered) {
		err = topo_host_register(a->zk.zh, a->host_id, a->cfg.host_name);
		if (err == -EACCES && topo_acl_enabled() && !agent_provision(a))
			err = topo_host_register(a->zk.zh, a->host_id, a->cfg.host_name);
		if (err && err != -EEXIST)
			mx_warn("cannot register the host: %s", strerror(-err));
		else
			a->registered = true;
		dirty = true;
	}
	if (atomic_exchange(&a->zk.changed, false))
		dirty = true;
	return dirty;
}

/* Until the datapath is loaded (startup.c): the session connects, the host registers, and
 * the topology is read once meanwhile for the first pass. Non-zero: the load failed. */
static int agent_startup(struct agent *a)
{
	struct pollfd pfd = { .fd = a->zk.wake_fd, .events = POLLIN };
	bool prefetched = false;

	while (!stop_requested && !agent_datapath_done(a)) {
		/* Connect and register; the main loop's first pass follows whatever this says. */
		agent_session_step(a);
		if (!prefetched && atomic_load(&a->zk.connected) && a->registered) {
			prefetched = true;
			agent_prefetch(a);
			continue;
		}
		poll(&pfd, 1, TICK_MS);
		session_drain(&a->zk);
	}
	/* Also when stopping: the thread cannot be cut short in the verifier. */
	return agent_datapath_join(a);
}

static void agent_loop(struct agent *a)
{
	/* the session's eventfd, the link socket, then the metrics server's sockets */
	struct pollfd fds[2 + 1 + HTTP_MAX_CONNS];
	uint64_t last_tick = mx_now_ns(), now;
	unsigned long ticks = 0;
	bool dirty = true, report = false, first_pass = true;
	size_t n_http;

	a->attach_scan = true; /* bindings removed while the agent was down leave programs */
	while (!stop_requested) {
		fds[0] = (struct pollfd){ .fd = a->zk.wake_fd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = a->link_fd, .events = POLLIN };
		n_http = http_server_pollfds(&a->metrics, fds + 2, 1 + HTTP_MAX_CONNS);
		/* The first pass does not wait for an event: start-up took those already. A
		 * pass that failed is tried again at the next event or tick, not at once. */
		poll(fds, 2 + n_http,
		     first_pass && atomic_load(&a->zk.connected) && a->registered ? 0 : TICK_MS);
		http_server_handle(&a->metrics, fds + 2, n_http);
		session_drain(&a->zk);
		if (link_events_drain(a->link_fd)) {
			ifnames_forget(&a->ifnames);
			agent_status_links_changed(a);
			dirty = true;
		}
		if (agent_session_step(a))
			dirty = true;
		/* Before a reconcile pass, which may take long with many routes: the writes of
		 * learned routes go on meanwhile. */
		if (atomic_load(&a->zk.connected) && a->registered)
			bgp_learn_pump(&a->bgp, a->zk.zh);
		if (dirty && atomic_load(&a->zk.connected) && a->registered) {
			first_pass = false;
			dirty = agent_reconcile(a) != 0;
			if (a->have_topo) {
				bgp_sync(&a->bgp, &a->topo);
				agent_natlease_want(a, &a->topo);
			}
			report = true;
		}
		/* After every pass (what it attached), and again while a write failed. */
		if (report && atomic_load(&a->zk.connected) && a->registered)
			report = agent_status_update(a) != 0;
		if (atomic_load(&a->zk.connected) && a->registered)
			bgp_learn_pump(&a->bgp, a->zk.zh);

		now = mx_now_ns();
		if (now - last_tick < TICK_MS * 1000000ull)
			continue;
		last_tick = now;
		ticks++;
		agent_learn_tick(a);
		agent_neigh_probe_tick(a); /* after the expiry: what is left still lives */
		agent_ct_tick(a);
		agent_natlease_tick(a);
		bgp_tick(&a->bgp);
		if (atomic_load(&a->zk.connected) && a->registered)
			bgp_learn_tick(&a->bgp, a->zk.zh);
		if (ticks % PRIME_EVERY_TICKS == 1)
			agent_prime_neighbours(a);
		if (ticks % RESYNC_EVERY_TICKS == 0) {
			dirty = a->attach_scan = true;
			agent_status_links_changed(a); /* an event lost is found here */
		}
	}
}

static void agent_stop(struct agent *a)
{
	http_server_close(&a->metrics);
	bgp_learn_stop(&a->bgp);
	session_close(&a->zk, true);
	if (a->link_fd >= 0)
		close(a->link_fd);
	ifnames_free(&a->ifnames);
	agent_chains_close(a);
	mx_datapath_close(a->dp);
	if (a->have_topo)
		topo_free(&a->topo);
	if (a->have_prefetched)
		topo_free(&a->prefetched);
	free(a->peers);
	free(a->attached);
	slots_free(&a->slots);
	agent_learn_free(a);
	agent_neigh_probe_free(a);
	agent_status_free(a);
	agent_natlease_free(a);
	bgp_free(&a->bgp);
}

int main(int argc, char **argv)
{
	const char *config = AGENT_CONFIG_DEFAULT;
	int explicit_config = 0, err;
	bool verify = false;
	struct sigaction sa = { .sa_handler = on_signal };
	struct agent a;

	memset(&a, 0, sizeof(a));
	a.link_fd = -1;
	a.zk.wake_fd = -1;
	a.metrics.listen_fd = -1;
	a.neigh_probe.fd = -1;
	a.counters.start_time_s = wall_time_s();
	mx_log_init("midox-agent", MX_LOG_INFO);
	if (parse_args(argc, argv, &config, &explicit_config, &verify))
		return verify ? 2 : 1;
	/* The daemon's log lines carry the time; --verify is a command, read as the CLI. */
	mx_log_set_time(!verify);
	if (agent_config_load(&a.cfg, config, explicit_config))
		return verify ? 2 : 1;
	if (agent_check_mount_ns())
		return verify ? 2 : 1;
	if (verify) {
		mx_log_set_level(MX_LOG_WARN);
		return agent_verify(&a.cfg);
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = agent_start(&a);
	if (!err)
		err = agent_startup(&a);
	if (!err) {
		agent_loop(&a);
		mx_info("stopping; maps and programs stay in place");
	}
	agent_stop(&a);
	return err ? 1 : 0;
}
