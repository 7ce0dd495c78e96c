// SPDX-License-Identifier: Apache-2.0
/* What this host reports in ZooKeeper besides what it learned (docs/architecture.md,
 * "Binding status"): its interfaces with their addresses, and per binding whether it is
 * active (the program attached, the port's map entries in place, the interface up with a
 * carrier and an MTU the tunnel carries) or why not. Ephemeral nodes of the session, written
 * only when they change, all again after a session expiry. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "topology/codec.h"
#include "agent.h"

/* Outer IPv4 (20), UDP (8), VXLAN (8) and the inner Ethernet header (14). */
#define VXLAN_OVERHEAD 50

/* One node: its name (an interface) and its JSON. Sets are sorted by name. */
struct entry {
	char name[TOPO_IFNAME_MAX];
	char *data;
};

struct set {
	struct entry *e;
	size_t n, cap;
};

struct agent_status {
	struct set published[2];	/* by enum topo_status_dir: what ZooKeeper holds */
	bool synced[2];			/* leftovers of an earlier process removed */
	bool ifaces_current;		/* published[TOPO_STATUS_IFACES] is the host's as of
					 * the last link or address event */
	struct set logged;		/* each binding's last state, as logged */
};

static void set_free(struct set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].data);
	free(s->e);
	memset(s, 0, sizeof(*s));
}

/* Takes data over (freed on failure too). */
static int set_add(struct set *s, const char *name, char *data)
{
	if (!data)
		return -ENOMEM;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct entry *e = realloc(s->e, cap * sizeof(*e));

		if (!e) {
			free(data);
			return -ENOMEM;
		}
		s->e = e;
		s->cap = cap;
	}
	snprintf(s->e[s->n].name, sizeof(s->e[s->n].name), "%s", name);
	s->e[s->n++].data = data;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static const struct entry *set_find(const struct set *s, const char *name)
{
	struct entry key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return s->n ? bsearch(&key, s->e, s->n, sizeof(*s->e), cmp_entry) : NULL;
}

static void set_sort(struct set *s)
{
	if (s->n > 1)
		qsort(s->e, s->n, sizeof(*s->e), cmp_entry);
}

/* ---- what the kernel says ---- */

static int if_ioctl(int fd, unsigned long req, const char *name, struct ifreq *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->ifr_name, name, strnlen(name, sizeof(r->ifr_name) - 1));
	return ioctl(fd, req, r) < 0 ? -errno : 0;
}

static unsigned int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	unsigned int len = 0;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		len += (unsigned int)__builtin_popcount(b[i]);
	return len;
}

/* One getifaddrs entry into its interface (found or added by name). */
static void iface_take(struct topo_iface *all, size_t *n, size_t max, const struct ifaddrs *i,
		       int fd)
{
	char name[IF_NAMESIZE + 1], a[INET6_ADDRSTRLEN];
	const struct sockaddr *sa = i->ifa_addr;
	struct topo_iface *f = NULL;
	struct ifreq r;

	snprintf(name, sizeof(name), "%s", i->ifa_name);
	name[strcspn(name, ":")] = '\0'; /* "eth0:1", an address label, is eth0's */
	for (size_t k = 0; k < *n && !f; k++)
		if (!strcmp(all[k].name, name))
			f = &all[k];
	if (!f && (*n == max || !topo_valid_ifname(name)))
		return;
	if (!f) {
		f = &all[(*n)++];
		memset(f, 0, sizeof(*f));
		strcpy(f->name, name);
		f->up = i->ifa_flags & IFF_UP;
		f->carrier = i->ifa_flags & IFF_RUNNING;
		if (!if_ioctl(fd, SIOCGIFMTU, name, &r))
			f->mtu = (uint32_t)r.ifr_mtu;
	}
	if (!sa)
		return;
	if (sa->sa_family == AF_PACKET && ((const struct sockaddr_ll *)sa)->sll_halen == 6) {
		memcpy(f->mac, ((const struct sockaddr_ll *)sa)->sll_addr, 6);
		f->has_mac = memcmp(f->mac, "\0\0\0\0\0\0", 6) != 0;
	} else if ((sa->sa_family == AF_INET || sa->sa_family == AF_INET6) &&
		   f->n_addrs < TOPO_IF_ADDRS_MAX) {
		const void *in = sa->sa_family == AF_INET
			? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
			: (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

		inet_ntop(sa->sa_family, in, a, sizeof(a));
		snprintf(f->addrs[f->n_addrs++], TOPO_IF_ADDR_STRLEN, "%s/%u", a,
			 prefix_len(i->ifa_netmask));
	}
}

#define IFACES_MAX 4096

/* Every interface of this network namespace, as nodes (name, JSON). */
static int ifaces_now(int fd, struct set *out)
{
	struct ifaddrs *all, *i;
	struct topo_iface *f;
	size_t n = 0, max = 0;
	int err = 0;

	if (getifaddrs(&all) < 0)
		return -errno;
	/* No more interfaces than entries. An array of IFACES_MAX (3.5 MB, zeroed) on every
	 * report was 3.4 MB of the agent's RSS (8.6 MB against 5.1 MB). */
	for (i = all; i && max < IFACES_MAX; i = i->ifa_next)
		max++;
	f = calloc(max ? max : 1, sizeof(*f));
	for (i = all; f && i; i = i->ifa_next)
		iface_take(f, &n, max, i, fd);
	for (size_t k = 0; f && !err && k < n; k++)
		err = set_add(out, f[k].name, topo_encode_iface(&f[k]));
	freeifaddrs(all);
	free(f);
	return f || !n ? err : -ENOMEM;
}

/* Why a binding is not active, "" if it is. */
static void binding_reason(struct agent *a, int fd, const struct topo_binding *b,
			   unsigned int tunnel_mtu, char *why, size_t len)
{
	const struct topo_port *p = topo_find_port_by_id(&a->topo, b->port_id);
	__u32 ifindex = (__u32)ifnames_index(&a->ifnames, b->interface);
	struct mx_ifport ifp;
	struct mx_port port;
	struct ifreq r;

	*why = '\0';
	if (!ifindex || if_ioctl(fd, SIOCGIFFLAGS, b->interface, &r))
		snprintf(why, len, "interface missing");
	else if (!(r.ifr_flags & IFF_UP))
		snprintf(why, len, "interface down");
	else if (!(r.ifr_flags & IFF_RUNNING))
		snprintf(why, len, "interface has no carrier");
	else if (!if_ioctl(fd, SIOCGIFMTU, b->interface, &r) && tunnel_mtu &&
		 (unsigned int)r.ifr_mtu + VXLAN_OVERHEAD > tunnel_mtu)
		snprintf(why, len, "MTU %d above %u (the tunnel interface's %u less %d of VXLAN)",
			 r.ifr_mtu, tunnel_mtu - VXLAN_OVERHEAD, tunnel_mtu, VXLAN_OVERHEAD);
	else if (!mx_attached((int)ifindex))
		snprintf(why, len, "program not attached");
	else if (!p || mx_ifport_lookup(a->dp, ifindex, &ifp) || ifp.port_key != p->tunnel_key ||
		 mx_port_lookup(a->dp, p->tunnel_key, &port))
		snprintf(why, len, "map entries not in place");
}

/* The underlay's MTU, 0 if it is missing (then nothing crosses hosts: no MTU rule). */
static unsigned int tunnel_mtu(struct agent *a, int fd)
{
	struct ifreq r;

	return if_ioctl(fd, SIOCGIFMTU, a->cfg.tunnel_if, &r) ? 0 : (unsigned int)r.ifr_mtu;
}

static void log_change(struct agent_status *s, const struct topo_binding_status *st)
{
	const struct entry *old = set_find(&s->logged, st->interface);
	const char *now = st->active ? "active" : st->reason;

	if (old && !strcmp(old->data, now))
		return;
	if (st->active)
		mx_info("binding %s: active", st->interface);
	else
		mx_warn("binding %s: inactive: %s", st->interface, st->reason);
}

/* Every binding of this host, as nodes; each change of state logged once (new_logged). */
static int bindings_now(struct agent *a, int fd, struct set *out, struct set *new_logged)
{
	unsigned int mtu = tunnel_mtu(a, fd);
	int err = 0;

	for (size_t i = 0; !err && i < a->topo.n_bindings; i++) {
		const struct topo_binding *b = &a->topo.bindings[i];
		struct topo_binding_status st = { 0 };

		if (strcmp(b->host_id, a->host_id))
			continue;
		strcpy(st.interface, b->interface);
		strcpy(st.port_id, b->port_id);
		binding_reason(a, fd, b, mtu, st.reason, sizeof(st.reason));
		st.active = !st.reason[0];
		log_change(a->status, &st);
		err = set_add(new_logged, st.interface, strdup(st.active ? "active" : st.reason));
		if (!err)
			err = set_add(out, st.interface, topo_encode_binding_status(&st));
	}
	return err;
}

/* ---- into ZooKeeper ---- */

/* Nodes an earlier process of this host left that are no longer true: removed once a
 * session, before the first report. */
static int remove_leftovers(struct agent *a, enum topo_status_dir dir, const struct set *now)
{
	struct String_vector sv;
	int err = topo_status_dir_ensure(a->zk.zh, a->host_id, dir);

	if (!err)
		err = topo_status_list(a->zk.zh, a->host_id, dir, &sv);
	if (err)
		return err;
	for (int32_t i = 0; !err && i < sv.count; i++) {
		if (set_find(now, sv.data[i]))
			continue;
		/* Not a name an agent writes: left there and logged, never a reason to
		 * report nothing this session (the readers skip it too). */
		if (!topo_valid_ifname(sv.data[i])) {
			mx_warn("skipping status node %s: not an interface name", sv.data[i]);
			continue;
		}
		err = topo_status_remove(a->zk.zh, a->host_id, dir, sv.data[i]);
	}
	deallocate_String_vector(&sv);
	return err;
}

/* Make ZooKeeper hold now: write what differs from what was published, remove what went.
 * What failed stays different, and is tried again at the next report. */
static int publish(struct agent *a, enum topo_status_dir dir, struct set *now)
{
	struct set *pub = &a->status->published[dir], kept = { 0 };
	int err = 0, e;

	if (!a->status->synced[dir]) {
		err = remove_leftovers(a, dir, now);
		if (err)
			return err;
		a->status->synced[dir] = true;
	}
	for (size_t i = 0; i < pub->n; i++) { /* gone: withdrawn, or kept to try again */
		if (set_find(now, pub->e[i].name))
			continue;
		e = topo_status_remove(a->zk.zh, a->host_id, dir, pub->e[i].name);
		if (e) {
			err = e;
			set_add(&kept, pub->e[i].name, strdup(pub->e[i].data));
		}
	}
	for (size_t i = 0; i < now->n; i++) {
		const struct entry *old = set_find(pub, now->e[i].name);

		if (!old || strcmp(old->data, now->e[i].data))
			e = topo_status_put(a->zk.zh, a->host_id, dir, now->e[i].name,
					    now->e[i].data);
		else
			e = 0;
		if (e)
			err = e;
		else if (set_add(&kept, now->e[i].name, strdup(now->e[i].data)))
			err = -ENOMEM;
	}
	set_sort(&kept);
	set_free(pub);
	*pub = kept;
	return err;
}

int agent_status_update(struct agent *a)
{
	struct set now[2] = { { 0 } }, logged = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;
	bool ifaces;

	if (!a->status)
		a->status = calloc(1, sizeof(*a->status));
	if (!a->status || fd < 0 || !a->have_topo) {
		if (fd >= 0)
			close(fd);
		return a->have_topo ? -ENOMEM : 0;
	}
	/* The interfaces change only with a link or address event (agent_status_links_changed):
	 * a dump of every interface and its addresses on every pass cost 3.5 ms at 300 of them. */
	ifaces = !a->status->ifaces_current;
	err = ifaces ? ifaces_now(fd, &now[TOPO_STATUS_IFACES]) : 0;
	if (!err)
		err = bindings_now(a, fd, &now[TOPO_STATUS_BINDINGS], &logged);
	close(fd);
	set_sort(&now[TOPO_STATUS_IFACES]);
	set_sort(&now[TOPO_STATUS_BINDINGS]);
	set_sort(&logged);
	if (!err) {
		set_free(&a->status->logged);
		a->status->logged = logged;
		memset(&logged, 0, sizeof(logged));
	}
	for (int d = 0; !err && d < 2; d++)
		if (d != TOPO_STATUS_IFACES || ifaces)
			err = publish(a, (enum topo_status_dir)d, &now[d]);
	if (ifaces && !err)
		a->status->ifaces_current = true;
	if (err)
		mx_warn("cannot report the host's status: %s", topo_errmsg()[0] ? topo_errmsg()
										: strerror(-err));
	set_free(&now[0]);
	set_free(&now[1]);
	set_free(&logged);
	return err;
}

void agent_status_forget(struct agent *a)
{
	if (!a->status)
		return;
	for (int d = 0; d < 2; d++) {
		set_free(&a->status->published[d]);
		a->status->synced[d] = false;
	}
	a->status->ifaces_current = false;
}

void agent_status_links_changed(struct agent *a)
{
	if (a->status)
		a->status->ifaces_current = false;
}

void agent_status_free(struct agent *a)
{
	if (!a->status)
		return;
	agent_status_forget(a);
	set_free(&a->status->logged);
	free(a->status);
	a->status = NULL;
}
