// SPDX-License-Identifier: Apache-2.0
/* monitor [port P] [reason R] [address A] [count N] [rate N]: this host's drops, live
 * (docs/cli.md, "Drop events"). The datapath writes an event per drop into the pinned ring
 * buffer midox_events only while the mark in midox_monitor is fresh: this command sets it,
 * refreshes it every second and clears it when it ends. The filters are applied here; the
 * datapath's budget (rate) counts every drop. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "loader/loader.h"
#include "cli.h"

#define NAME_LEN 80
#define REFRESH_NS 1000000000ull

/* What to show, and where the command stands. */
struct monitor {
	struct cli *c;
	bool names;          /* c->t names ports */
	bool port_set;       /* filters: */
	__u32 port_key;
	int reason;          /* MX_DROP_NONE: any */
	bool addr_set;
	struct in_addr addr;
	__u32 count;         /* events to show, 0: until a signal */
	__u32 rate;          /* events a second per CPU, the datapath's budget */
	__u32 shown;
	bool skip;           /* the events left from before this command: not shown */
	int mon_fd, rate_fd; /* midox_monitor, midox_monrate */
	struct mx_monitor_cpu base; /* the counts when this command began */
	struct mx_monitor_cpu said; /* suppressed and lost already reported */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* SIGINT and SIGTERM end the wait (no SA_RESTART: the poll returns EINTR). */
static void signals_catch(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- the filters, as given ---- */

static int reason_arg(const char *s, int *out)
{
	char list[1024] = "";

	for (int r = MX_DROP_NONE + 1; r < MX_DROP__MAX; r++) {
		if (!strcmp(mx_drop_reason_name(r), s)) {
			*out = r;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 r > 1 ? ", " : "", mx_drop_reason_name(r));
	}
	return cli_fail(-EINVAL, "bad reason '%s': expected one of %s", s, list);
}

/* "#7" or "7": a tunnel key, as datapath prints a port ZooKeeper cannot name. */
static bool port_key_word(const char *s, __u32 *out)
{
	char *end;
	unsigned long v;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v > MX_TUNNEL_KEY_MAX)
		return false;
	*out = (__u32)v;
	return true;
}

static int port_arg(struct monitor *m, const char *s)
{
	const struct topo_port *p;
	int rc;

	m->port_set = true;
	if (port_key_word(s, &m->port_key))
		return 0;
	if (!m->names)
		return cli_fail(-EINVAL, "cannot name port '%s' without ZooKeeper: give its tunnel "
				"key (port #KEY)", s);
	rc = cli_find_port(m->c, NULL, s, (const void **)&p);
	if (!rc)
		m->port_key = p->tunnel_key;
	return rc;
}

/* ---- one event ---- */

struct frame_l3 {
	__u16 ethertype;
	bool has_addrs;
	struct in_addr src, dst;
	const char *proto; /* "udp", "arp", or NULL with proto_num */
	unsigned int proto_num;
};

static __u16 be16_at(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static const char *ip_proto_name(unsigned int p)
{
	return p == 1 ? "icmp" : p == 6 ? "tcp" : p == 17 ? "udp" : NULL;
}

/* What the first bytes say: the EtherType, and the IPv4 addresses and protocol of IPv4 or
 * (sender and target) of Ethernet/IPv4 ARP when they are among them. */
static void frame_decode(const struct mx_drop_event *ev, struct frame_l3 *l)
{
	const __u8 *f = ev->frame;
	unsigned int cap = ev->cap_len;

	memset(l, 0, sizeof(*l));
	if (cap < 14)
		return;
	l->ethertype = be16_at(f + 12);
	if (l->ethertype == 0x0800 && cap >= 14 + 20 && f[14] >> 4 == 4) {
		l->has_addrs = true;
		memcpy(&l->src, f + 14 + 12, 4);
		memcpy(&l->dst, f + 14 + 16, 4);
		l->proto_num = f[14 + 9];
		l->proto = ip_proto_name(l->proto_num);
	} else if (l->ethertype == 0x0806 && cap >= 14 + 28 && be16_at(f + 16) == 0x0800) {
		l->has_addrs = true;
		memcpy(&l->src, f + 14 + 14, 4);
		memcpy(&l->dst, f + 14 + 24, 4);
		l->proto = "arp";
	}
}

static bool event_wanted(const struct monitor *m, const struct mx_drop_event *ev,
			 const struct frame_l3 *l)
{
	if (m->port_set && ev->port_key != m->port_key)
		return false;
	if (m->reason != MX_DROP_NONE && ev->reason != (__u32)m->reason)
		return false;
	return !m->addr_set || (l->has_addrs && (l->src.s_addr == m->addr.s_addr ||
						 l->dst.s_addr == m->addr.s_addr));
}

/* The event's monotonic time as UTC: 2026-12-03T10:00:01.123Z. */
static void event_time(__u64 mono_ns, char buf[32])
{
	struct timespec now;
	__u64 now_ns, ago = 0, wall;
	time_t secs;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (__u64)now.tv_sec * 1000000000ull + (__u64)now.tv_nsec;
	if (mx_monotonic_ns() > mono_ns)
		ago = mx_monotonic_ns() - mono_ns;
	wall = now_ns - ago;
	secs = (time_t)(wall / 1000000000ull);
	gmtime_r(&secs, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), 32 - strlen(buf), ".%03lluZ",
		 (unsigned long long)(wall % 1000000000ull / 1000000ull));
}

/* The port's alias and its bridge's or router's name (its alias if unnamed); NULL if
 * ZooKeeper gives no names or none has the key. */
static const char *port_names(struct monitor *m, __u32 key, char port[NAME_LEN],
			      char device[NAME_LEN])
{
	const struct topo_port *p = m->names ? topo_port_by_key(&m->c->t, key) : NULL;
	const struct topo_bridge *b = p ? topo_find_bridge_by_id(&m->c->t, p->device_id) : NULL;
	const struct topo_router *r = p && !b ? topo_find_router_by_id(&m->c->t, p->device_id) : NULL;
	const char *name = b ? b->name : r ? r->name : "";
	char alias[64];

	if (!p)
		return NULL;
	snprintf(port, NAME_LEN, "%s", cli_alias(m->c, p->id, alias));
	if (*name)
		snprintf(device, NAME_LEN, "%s", name);
	else
		snprintf(device, NAME_LEN, "%s", cli_alias(m->c, p->device_id, alias));
	return port;
}

static void hex(const __u8 *b, unsigned int n, char *out)
{
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static void print_json_line(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static void event_print_json(const struct mx_drop_event *ev, const struct frame_l3 *l,
			     const char *when, const char *port, const char *device,
			     const char *ifname, const char *bytes)
{
	json_t *o = json_object();
	char a[INET_ADDRSTRLEN], et[8];

	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "reason", json_string(mx_drop_reason_name(ev->reason)));
	json_object_set_new(o, "port_key", json_integer(ev->port_key));
	if (port) {
		json_object_set_new(o, "port", json_string(port));
		json_object_set_new(o, "device", json_string(device));
	}
	json_object_set_new(o, "ifindex", json_integer(ev->ifindex));
	if (ifname)
		json_object_set_new(o, "interface", json_string(ifname));
	json_object_set_new(o, "length", json_integer(ev->frame_len));
	snprintf(et, sizeof(et), "0x%04x", l->ethertype);
	json_object_set_new(o, "ethertype", json_string(et));
	if (l->has_addrs) {
		json_object_set_new(o, "src", json_string(inet_ntop(AF_INET, &l->src, a, sizeof(a))));
		json_object_set_new(o, "dst", json_string(inet_ntop(AF_INET, &l->dst, a, sizeof(a))));
		if (l->proto)
			json_object_set_new(o, "protocol", json_string(l->proto));
		else
			json_object_set_new(o, "protocol", json_integer(l->proto_num));
	}
	json_object_set_new(o, "frame", json_string(bytes));
	print_json_line(o);
}

static void event_print_text(const struct mx_drop_event *ev, const struct frame_l3 *l,
			     const char *when, const char *port, const char *device,
			     const char *ifname, const char *bytes)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

	printf("%s %s", when, mx_drop_reason_name(ev->reason));
	if (port)
		printf(" port %s device %s", port, device);
	else if (ev->port_key == MX_STATS_HOST)
		printf(" port host");
	else
		printf(" port #%u", ev->port_key);
	if (ifname)
		printf(" interface %s", ifname);
	else
		printf(" ifindex %u", ev->ifindex);
	printf(" length %u ethertype 0x%04x", ev->frame_len, l->ethertype);
	if (l->has_addrs) {
		printf(" src %s dst %s", inet_ntop(AF_INET, &l->src, s, sizeof(s)),
		       inet_ntop(AF_INET, &l->dst, d, sizeof(d)));
		if (l->proto)
			printf(" protocol %s", l->proto);
		else
			printf(" protocol %u", l->proto_num);
	}
	printf(" frame %s\n", bytes);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct monitor *m = ctx;
	const struct mx_drop_event *ev = data;
	char when[32], port[NAME_LEN], device[NAME_LEN], ifbuf[IF_NAMESIZE];
	char bytes[2 * MX_EVENT_FRAME_BYTES + 1];
	const char *ifname, *named;
	struct frame_l3 l;

	if (m->skip || size < sizeof(*ev) || (m->count && m->shown >= m->count))
		return 0;
	frame_decode(ev, &l);
	if (!event_wanted(m, ev, &l))
		return 0;
	m->shown++;
	event_time(ev->time_ns, when);
	named = ev->port_key ? port_names(m, ev->port_key, port, device) : NULL;
	ifname = if_indextoname(ev->ifindex, ifbuf);
	hex(ev->frame, ev->cap_len <= MX_EVENT_FRAME_BYTES ? ev->cap_len : 0, bytes);
	if (m->c->json)
		event_print_json(ev, &l, when, named, device, ifname, bytes);
	else
		event_print_text(ev, &l, when, named, device, ifname, bytes);
	fflush(stdout);
	return 0;
}

/* ---- the mark, the counts ---- */

/* Another listener's fresh mark: only one can read a ring buffer. */
static int other_listener(struct monitor *m)
{
	struct mx_monitor cur;
	int rc = mx_monitor_read(m->mon_fd, &cur);

	if (rc)
		return cli_fail(rc, "cannot read %s/%s: %s", m->c->pin_root, MX_MAP_MONITOR,
				strerror(-rc));
	if (!cur.listen_until_ns || cur.listen_until_ns < mx_monotonic_ns() ||
	    (cur.owner_pid && kill((pid_t)cur.owner_pid, 0) && errno == ESRCH))
		return 0;
	return cli_fail(-EBUSY, "another midox monitor (pid %u) reads the drop events of %s: a "
			"ring buffer has one reader", cur.owner_pid, m->c->pin_root);
}

static int mark(struct monitor *m)
{
	int rc = mx_monitor_mark(m->mon_fd, m->rate, (__u32)getpid(),
				 mx_monotonic_ns() + MX_MONITOR_LEASE_NS);

	return rc ? cli_fail(rc, "cannot set the listening mark in %s/%s: %s", m->c->pin_root,
			     MX_MAP_MONITOR, strerror(-rc)) : 0;
}

/* Cleared only while it is ours: a monitor started since keeps its own. */
static void unmark(struct monitor *m)
{
	struct mx_monitor cur;

	if (!mx_monitor_read(m->mon_fd, &cur) && cur.owner_pid == (__u32)getpid())
		mx_monitor_clear(m->mon_fd);
}

static void say_count(struct monitor *m, const char *what, __u64 n, const char *why)
{
	if (m->c->json)
		print_json_line(json_pack("{s:I}", what, (json_int_t)n));
	else
		printf("%s %llu events (%s)\n", what, (unsigned long long)n, why);
	fflush(stdout);
}

/* What the datapath held back since the last report: over the budget, or no room. */
static void report_counts(struct monitor *m)
{
	struct mx_monitor_cpu now;
	__u64 sup, lost;
	char why[64];

	if (mx_monitor_counts(m->rate_fd, &now))
		return;
	sup = now.suppressed - m->base.suppressed;
	lost = now.lost - m->base.lost;
	snprintf(why, sizeof(why), "over the budget of %u a second per CPU", m->rate);
	if (sup > m->said.suppressed)
		say_count(m, "suppressed", sup - m->said.suppressed, why);
	if (lost > m->said.lost)
		say_count(m, "lost", lost - m->said.lost, "the ring buffer was full");
	m->said.suppressed = sup;
	m->said.lost = lost;
}

/* ---- the command ---- */

static int maps_open(struct monitor *m, struct mx_pinned_map maps[3])
{
	static const enum mx_map_id ids[3] = { MX_MAP_ID_MONITOR, MX_MAP_ID_MON_RATE,
					       MX_MAP_ID_EVENTS };
	int rc = 0;

	for (int i = 0; i < 3; i++)
		maps[i].fd = -1;
	for (int i = 0; !rc && i < 3; i++) {
		rc = mx_pinned_open(m->c->pin_root, ids[i], &maps[i]);
		if (rc == -ENOENT)
			rc = cli_fail(rc, "no map %s in %s: is a midox-agent of this version running "
				      "on this host with that pin root?", mx_map_name(ids[i]),
				      m->c->pin_root);
		else if (rc)
			rc = cli_fail(rc == -EPROTO ? -EINVAL : rc, "cannot open %s/%s: %s",
				      m->c->pin_root, mx_map_name(ids[i]),
				      rc == -EPROTO ? "an agent of another version pinned it" :
						      strerror(-rc));
	}
	m->mon_fd = maps[0].fd;
	m->rate_fd = maps[1].fd;
	return rc;
}

static int listen_loop(struct monitor *m, struct ring_buffer *rb)
{
	__u64 next = mx_monotonic_ns() + REFRESH_NS;
	int rc = 0;

	while (!stop_signal && (!m->count || m->shown < m->count)) {
		rc = ring_buffer__poll(rb, 200);
		if (rc == -EINTR)
			rc = 0;
		if (rc < 0) {
			rc = cli_fail(rc, "reading %s/%s: %s", m->c->pin_root, MX_MAP_EVENTS,
				      strerror(-rc));
			break;
		}
		rc = 0;
		if (mx_monotonic_ns() >= next) {
			report_counts(m);
			rc = mark(m);
			if (rc)
				break;
			next = mx_monotonic_ns() + REFRESH_NS;
		}
	}
	report_counts(m);
	return rc;
}

static int monitor_run(struct cli *c, const struct cli_call *k)
{
	struct monitor m = { .c = c, .rate = MX_MONITOR_RATE_DEFAULT, .mon_fd = -1, .rate_fd = -1 };
	struct mx_pinned_map maps[3];
	struct ring_buffer *rb = NULL;
	bool marked = false;
	int rc = 0;

	/* k->v: port, reason, address, count, rate (monitor_args' order) */
	if (k->v[1].s)
		rc = reason_arg(k->v[1].s, &m.reason);
	if (!rc)
		rc = cli_dp_begin(c, &m.names);
	if (!rc && k->v[0].s)
		rc = port_arg(&m, k->v[0].s);
	if (k->v[2].s) {
		m.addr_set = true;
		m.addr = k->v[2].ip;
	}
	m.count = k->v[3].s ? k->v[3].u : 0;
	if (k->v[4].s)
		m.rate = k->v[4].u;
	if (rc)
		return rc;
	rc = maps_open(&m, maps);
	if (!rc)
		rc = other_listener(&m);
	if (!rc) {
		rb = ring_buffer__new(maps[2].fd, on_event, &m, NULL);
		if (!rb)
			rc = cli_fail(-errno, "cannot map %s/%s: %s", c->pin_root, MX_MAP_EVENTS,
				      strerror(errno));
	}
	if (!rc)
		rc = mx_monitor_counts(m.rate_fd, &m.base);
	if (!rc) {
		signals_catch();
		/* What a listener before us left in the ring is not this command's to show. */
		m.skip = true;
		ring_buffer__consume(rb);
		m.skip = false;
		rc = mark(&m);
		marked = !rc;
	}
	if (!rc)
		rc = listen_loop(&m, rb);
	if (marked)
		unmark(&m);
	ring_buffer__free(rb);
	for (int i = 0; i < 3; i++)
		mx_pinned_close(&maps[i]);
	return rc;
}

static const struct cli_arg monitor_args[] = {
	{ "port", CLI_T_WORD, "P", .what = "port" },
	{ "reason", CLI_T_WORD, "R", .what = "reason" },
	{ "address", CLI_T_IPV4, "A", .what = "address" },
	{ "count", CLI_T_UINT, "N", .what = "count", .min = 1, .max = 1000000000 },
	{ "rate", CLI_T_UINT, "N", .what = "rate", .min = 1, .max = 1000000 },
	{ 0 },
};

static const struct cli_cmd monitor_type_cmds[] = {
	{ "drops", monitor_run, "this host's drops as they happen, one line each ('drops' may "
	  "be left out)", .args = monitor_args },
	{ 0 },
};

const struct cli_obj cli_obj_monitor = {
	.word = "monitor", .title = "monitor", .type_cmds = monitor_type_cmds, .bare = "drops",
	.bare_args = true, .offline = true,
};
