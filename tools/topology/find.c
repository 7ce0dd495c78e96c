// SPDX-License-Identifier: Apache-2.0
/* Finding objects by reference and naming them by alias, as midonet-cli does: a
 * reference is a UUID, else an exact name, else an alias (host0, tzone0, bridge0,
 * bridge0:port0), where N is the index in creation order. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "topo_impl.h"

/* "<prefix>N" -> N; -1 if ref is not that alias. */
static long alias_index(const char *ref, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *d = ref + n;
	char *end;
	long i;

	if (strncmp(ref, prefix, n) || !isdigit((unsigned char)*d) || (d[0] == '0' && d[1]))
		return -1;
	i = strtol(d, &end, 10);
	return *end || i < 0 || i > 0xFFFFFF ? -1 : i;
}

/* Walk an array of objects that start with their id and then their name: the id, else
 * the one object with that exact name, else the alias index. */
static const void *find(const void *arr, size_t n, size_t size, size_t name_off,
			const char *prefix, const char *ref)
{
	const char *p = arr, *hit = NULL;
	size_t i, hits = 0;
	long idx;

	if (!ref)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strcasecmp(p + i * size, ref))
			return p + i * size;
	for (i = 0; i < n; i++) {
		if (!strcmp(p + i * size + name_off, ref)) {
			hit = p + i * size;
			hits++;
		}
	}
	if (hits == 1)
		return hit;
	if (hits > 1)
		return NULL; /* ambiguous: only host names may repeat */
	idx = alias_index(ref, prefix);
	return idx >= 0 && (size_t)idx < n ? p + (size_t)idx * size : NULL;
}

static const void *find_id(const void *arr, size_t n, size_t size, const char *id)
{
	const char *p = arr;
	size_t i;

	for (i = 0; id && i < n; i++)
		if (!strcmp(p + i * size, id))
			return p + i * size;
	return NULL;
}

const struct topo_host *topo_find_host(const struct topology *t, const char *ref)
{
	return find(t->hosts, t->n_hosts, sizeof(*t->hosts), offsetof(struct topo_host, name),
		    "host", ref);
}

const struct topo_zone *topo_find_zone(const struct topology *t, const char *ref)
{
	return find(t->zones, t->n_zones, sizeof(*t->zones), offsetof(struct topo_zone, name),
		    "tzone", ref);
}

const struct topo_bridge *topo_find_bridge(const struct topology *t, const char *ref)
{
	return find(t->bridges, t->n_bridges, sizeof(*t->bridges),
		    offsetof(struct topo_bridge, name), "bridge", ref);
}

const struct topo_host *topo_find_host_by_id(const struct topology *t, const char *id)
{
	return find_id(t->hosts, t->n_hosts, sizeof(*t->hosts), id);
}

const struct topo_zone *topo_find_zone_by_id(const struct topology *t, const char *id)
{
	return find_id(t->zones, t->n_zones, sizeof(*t->zones), id);
}

const struct topo_bridge *topo_find_bridge_by_id(const struct topology *t, const char *id)
{
	return find_id(t->bridges, t->n_bridges, sizeof(*t->bridges), id);
}

const struct topo_port *topo_find_port_by_id(const struct topology *t, const char *id)
{
	return find_id(t->ports, t->n_ports, sizeof(*t->ports), id);
}

const struct topo_port *topo_find_device_port(const struct topology *t, const char *device_id,
					      const char *ref)
{
	long idx = ref ? alias_index(ref, "port") : -1;
	size_t i;

	for (i = 0; ref && i < t->n_ports; i++) {
		const struct topo_port *p = &t->ports[i];

		if (strcmp(p->device_id, device_id))
			continue;
		if (!strcasecmp(p->id, ref) || idx-- == 0)
			return p;
	}
	return NULL;
}

/* A UUID, or "<bridge ref>:portN" (or ":<port UUID>"). */
const struct topo_port *topo_find_port(const struct topology *t, const char *ref)
{
	const struct topo_bridge *b;
	const struct topo_port *p;
	char dev[TOPO_NAME_MAX];
	const char *colon;
	size_t i;

	if (!ref)
		return NULL;
	for (i = 0; i < t->n_ports; i++)
		if (!strcasecmp(t->ports[i].id, ref))
			return &t->ports[i];
	colon = strchr(ref, ':');
	if (!colon || (size_t)(colon - ref) >= sizeof(dev))
		return NULL;
	memcpy(dev, ref, (size_t)(colon - ref));
	dev[colon - ref] = '\0';
	b = topo_find_bridge(t, dev);
	p = b ? topo_find_device_port(t, b->id, colon + 1) : NULL;
	return p;
}

const struct topo_binding *topo_find_port_binding(const struct topology *t, const char *port_id)
{
	size_t i;

	for (i = 0; i < t->n_bindings; i++)
		if (!strcmp(t->bindings[i].port_id, port_id))
			return &t->bindings[i];
	return NULL;
}

const struct topo_binding *topo_find_binding(const struct topology *t, const char *host_id,
					     const char *ifname)
{
	size_t i;

	for (i = 0; i < t->n_bindings; i++)
		if (!strcmp(t->bindings[i].host_id, host_id) &&
		    !strcmp(t->bindings[i].interface, ifname))
			return &t->bindings[i];
	return NULL;
}

static int index_of(const void *arr, size_t n, size_t size, const char *id)
{
	const char *p = find_id(arr, n, size, id);

	return p ? (int)((p - (const char *)arr) / (ptrdiff_t)size) : -1;
}

int topo_alias(const struct topology *t, const char *id, char *buf, size_t len)
{
	const struct topo_port *p;
	size_t i, n = 0;
	int idx;

	if ((idx = index_of(t->hosts, t->n_hosts, sizeof(*t->hosts), id)) >= 0)
		snprintf(buf, len, "host%d", idx);
	else if ((idx = index_of(t->zones, t->n_zones, sizeof(*t->zones), id)) >= 0)
		snprintf(buf, len, "tzone%d", idx);
	else if ((idx = index_of(t->bridges, t->n_bridges, sizeof(*t->bridges), id)) >= 0)
		snprintf(buf, len, "bridge%d", idx);
	else if ((p = topo_find_port_by_id(t, id))) {
		for (i = 0; &t->ports[i] != p; i++)
			n += !strcmp(t->ports[i].device_id, p->device_id);
		idx = index_of(t->bridges, t->n_bridges, sizeof(*t->bridges), p->device_id);
		snprintf(buf, len, "bridge%d:port%zu", idx, n);
	} else {
		return topo_fail(-ENOENT, "no object with id %s", id ? id : "(null)");
	}
	return 0;
}
