// SPDX-License-Identifier: Apache-2.0
/* The JSON encoding of each znode: {"schema": 1, ...}. Decoders accept unknown fields
 * (a newer writer may add some) and refuse a wrong schema, wrong types, missing required
 * fields and out-of-range values. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "topo_impl.h"

const char topo_container_json[] = "{\"schema\":1}";

/* Parse buf as a JSON object of our schema. NULL (and the reason set) if it is not. */
static json_t *load(const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *o, *schema;

	if (!buf || len == 0) {
		topo_fail(-EINVAL, "empty data");
		return NULL;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		topo_fail(-EINVAL, "bad JSON: %s (at byte %d)", jerr.text, jerr.position);
		return NULL;
	}
	if (!json_is_object(o)) {
		topo_fail(-EINVAL, "not a JSON object");
		goto bad;
	}
	schema = json_object_get(o, "schema");
	if (!json_is_integer(schema)) {
		topo_fail(-EINVAL, "\"schema\" missing or not an integer");
		goto bad;
	}
	if (json_integer_value(schema) != TOPO_SCHEMA) {
		topo_fail(-EINVAL, "schema %lld, this build reads schema %d",
			  (long long)json_integer_value(schema), TOPO_SCHEMA);
		goto bad;
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

/* A string field into dst. Absent: 0 if optional, else -EINVAL. Present: 1. */
static int get_str(json_t *o, const char *key, char *dst, size_t size, bool required)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v)
		return required ? topo_fail(-EINVAL, "\"%s\" missing", key) : 0;
	if (!json_is_string(v))
		return topo_fail(-EINVAL, "\"%s\" is not a string", key);
	s = json_string_value(v);
	if (strlen(s) >= size || strlen(s) != json_string_length(v))
		return topo_fail(-EINVAL, "\"%s\" is too long or holds a NUL", key);
	strcpy(dst, s);
	return 1;
}

static int get_name(json_t *o, char name[TOPO_NAME_MAX])
{
	int rc = get_str(o, "name", name, TOPO_NAME_MAX, true);

	if (rc < 0)
		return rc;
	if (!topo_valid_name(name))
		return topo_fail(-EINVAL, "\"name\" '%s' is not a valid name", name);
	return 0;
}

static int get_uuid(json_t *o, const char *key, char id[TOPO_ID_LEN])
{
	int rc = get_str(o, key, id, TOPO_ID_LEN, true);

	if (rc < 0)
		return rc;
	if (!topo_valid_uuid(id))
		return topo_fail(-EINVAL, "\"%s\" '%s' is not a UUID", key, id);
	return 0;
}

/* An optional IPv4 address field. 1 when present and valid. */
static int get_addr(json_t *o, const char *key, struct in_addr *addr, bool required)
{
	char s[INET_ADDRSTRLEN + 1];
	int rc = get_str(o, key, s, sizeof(s), required);

	if (rc <= 0)
		return rc;
	if (topo_parse_ipv4(s, addr) || !topo_valid_unicast_ipv4(*addr))
		return topo_fail(-EINVAL, "\"%s\" '%s' is not a unicast IPv4 address", key, s);
	return 1;
}

static int get_key(json_t *o, const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (!v)
		return topo_fail(-EINVAL, "\"%s\" missing", key);
	if (!json_is_integer(v))
		return topo_fail(-EINVAL, "\"%s\" is not an integer", key);
	n = json_integer_value(v);
	if (n < (json_int_t)min || n > (json_int_t)max)
		return topo_fail(-EINVAL, "\"%s\" %lld is out of range %u..%u", key, (long long)n,
				 min, max);
	*out = (uint32_t)n;
	return 0;
}

/* The node's name as the object's identity (NULL: the caller's), validated. */
static int take_name(const char *name, bool (*valid)(const char *), char *dst, size_t size,
		     const char *what)
{
	if (!name)
		return 0;
	if (!valid(name) || strlen(name) >= size)
		return topo_fail(-EINVAL, "the name is not %s", what);
	strcpy(dst, name);
	return 0;
}

/* A node named by its object's UUID: the name into id, then the data. NULL (the reason
 * set) if either is bad. */
static json_t *load_id(const char *buf, size_t len, const char *name, char id[TOPO_ID_LEN])
{
	if (take_name(name, topo_valid_uuid, id, TOPO_ID_LEN, "an id"))
		return NULL;
	return load(buf, len);
}

int topo_json_schema_only(const char *buf, size_t len)
{
	json_t *o = load(buf, len);

	if (!o)
		return -EINVAL;
	json_decref(o);
	return 0;
}

int topo_decode_host(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_host *h = out;
	json_t *o = load_id(buf, len, name, h->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_name(o, h->name);
	json_decref(o);
	return rc;
}

int topo_decode_zone(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_zone *z = out;
	json_t *o = load_id(buf, len, name, z->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_name(o, z->name);
	if (!rc)
		rc = get_str(o, "type", z->type, sizeof(z->type), true);
	if (rc >= 0 && strcmp(z->type, "vxlan"))
		rc = topo_fail(-EINVAL, "\"type\" '%s' is not vxlan", z->type);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* Named by its host. */
int topo_decode_member(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_member *m = out;
	json_t *o = load_id(buf, len, name, m->host_id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_addr(o, "address", &m->addr, true);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* The optional "state": "up" or "down"; absent (a node written before it existed): up. */
static int get_state(json_t *o, bool *down)
{
	char s[16]; /* room for a wrong word, so that the error names it */
	int rc = get_str(o, "state", s, sizeof(s), false);

	*down = false;
	if (rc <= 0)
		return rc;
	if (strcmp(s, "up") && strcmp(s, "down"))
		return topo_fail(-EINVAL, "\"state\" '%s' is not up or down", s);
	*down = !strcmp(s, "down");
	return 0;
}

/* "infilter", "outfilter": the chains a bridge, router or port applies (absent: none). */
static int get_filters(json_t *o, struct topo_filters *f)
{
	int rc = 0;

	if (json_object_get(o, "infilter"))
		rc = get_uuid(o, "infilter", f->in);
	if (!rc && json_object_get(o, "outfilter"))
		rc = get_uuid(o, "outfilter", f->out);
	return rc;
}

/* {"name", "tunnel_key", "state"}: a bridge or a router; a router's optional BGP "asn"
 * (asn not NULL; absent: 0, none set). */
static int decode_device(const char *buf, size_t len, const char *node, char id[TOPO_ID_LEN],
			 char name[TOPO_NAME_MAX], uint32_t *key, bool *down, uint32_t *asn,
			 struct topo_filters *f)
{
	json_t *o = load_id(buf, len, node, id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_name(o, name);
	if (!rc)
		rc = get_key(o, "tunnel_key", TOPO_KEY_MIN, TOPO_KEY_MAX, key);
	if (!rc)
		rc = get_state(o, down);
	if (!rc && asn && json_object_get(o, "asn"))
		rc = get_key(o, "asn", 1, TOPO_ASN_MAX, asn);
	if (!rc)
		rc = get_filters(o, f);
	json_decref(o);
	return rc;
}

int topo_decode_bridge(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_bridge *b = out;

	return decode_device(buf, len, name, b->id, b->name, &b->tunnel_key, &b->down, NULL,
			     &b->filters);
}

int topo_decode_router(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_router *r = out;

	return decode_device(buf, len, name, r->id, r->name, &r->tunnel_key, &r->down, &r->asn,
			     &r->filters);
}

/* A unicast MAC field. 1 when present and valid. */
static int get_mac(json_t *o, const char *key, uint8_t mac[6], bool required)
{
	char s[18];
	int rc = get_str(o, key, s, sizeof(s), required);

	if (rc <= 0)
		return rc;
	if (topo_parse_mac(s, mac) || !topo_valid_unicast_mac(mac))
		return topo_fail(-EINVAL, "\"%s\" '%s' is not a unicast MAC", key, s);
	return 1;
}

/* A prefix field "a.b.c.d/len" with no host bits set. */
static int get_network(json_t *o, const char *key, struct topo_cidr *c)
{
	char s[TOPO_CIDR_STRLEN + 1];
	int rc = get_str(o, key, s, sizeof(s), true);

	if (rc < 0)
		return rc;
	if (topo_parse_cidr(s, c))
		return topo_fail(-EINVAL, "\"%s\" '%s' is not a prefix a.b.c.d/len", key, s);
	if (!topo_cidr_is_network(c))
		return topo_fail(-EINVAL, "\"%s\" '%s' has host bits set", key, s);
	return 0;
}

/* A router port's "addresses": 1..TOPO_PORT_MAX_NETS of "a.b.c.d/len", each a unicast
 * address with its subnet length (1..32). */
static int get_port_nets(json_t *o, struct topo_port *p)
{
	json_t *arr = json_object_get(o, "addresses"), *v;
	char s[TOPO_CIDR_STRLEN];
	size_t i;

	if (!arr)
		return topo_fail(-EINVAL, "\"addresses\" missing");
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > TOPO_PORT_MAX_NETS)
		return topo_fail(-EINVAL, "\"addresses\" is not an array of 1 to %d prefixes",
				 TOPO_PORT_MAX_NETS);
	json_array_foreach(arr, i, v) {
		struct topo_cidr *c = &p->nets[i];

		if (!json_is_string(v) || topo_parse_cidr(json_string_value(v), c))
			return topo_fail(-EINVAL, "\"addresses\"[%zu] is not a prefix a.b.c.d/len",
					 i);
		topo_format_cidr(c, s);
		if (c->len == 0 || !topo_valid_unicast_ipv4(c->addr))
			return topo_fail(-EINVAL, "\"addresses\"[%zu] '%s' is not a unicast "
					 "address with a subnet length 1..32", i, s);
	}
	p->n_nets = json_array_size(arr);
	return 0;
}

/* A bridge port's optional "port_security" (absent: true) and "allowed_addresses": up to
 * TOPO_PORT_MAX_ALLOWED of {"address", "mac"?}. */
static int get_port_security(json_t *o, struct topo_port *p)
{
	json_t *v = json_object_get(o, "port_security"), *arr, *e;
	size_t i;
	int rc;

	if (v && !json_is_boolean(v))
		return topo_fail(-EINVAL, "\"port_security\" is not true or false");
	p->no_port_security = v && json_is_false(v);
	p->n_allowed = 0; /* the struct may hold an older version of the port */
	arr = json_object_get(o, "allowed_addresses");
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > TOPO_PORT_MAX_ALLOWED)
		return topo_fail(-EINVAL, "\"allowed_addresses\" is not an array of at most %d",
				 TOPO_PORT_MAX_ALLOWED);
	json_array_foreach(arr, i, e) {
		struct topo_allowed *a = &p->allowed[i];

		if (!json_is_object(e))
			return topo_fail(-EINVAL, "\"allowed_addresses\"[%zu] is not an object", i);
		rc = get_addr(e, "address", &a->addr, true);
		if (rc >= 0)
			rc = get_mac(e, "mac", a->mac, false);
		if (rc < 0)
			return rc;
		a->has_mac = rc > 0;
	}
	p->n_allowed = json_array_size(arr);
	return 0;
}

/* An optional {"rate": bits/s, "burst": bits}: a port's egress rate limit. */
static int get_egress_limit(json_t *o, struct topo_port *p)
{
	json_t *v = json_object_get(o, "egress_limit"), *rate, *burst;

	p->egress_rate = p->egress_burst = 0;
	if (!v)
		return 0;
	rate = json_is_object(v) ? json_object_get(v, "rate") : NULL;
	burst = json_is_object(v) ? json_object_get(v, "burst") : NULL;
	if (!json_is_integer(rate) || !json_is_integer(burst))
		return topo_fail(-EINVAL, "\"egress_limit\" is not {\"rate\": N, \"burst\": N}");
	if (json_integer_value(rate) < (json_int_t)TOPO_RATE_MIN ||
	    json_integer_value(rate) > (json_int_t)TOPO_RATE_MAX)
		return topo_fail(-EINVAL, "\"egress_limit\" rate %lld is out of range %llu..%llu",
				 (long long)json_integer_value(rate), TOPO_RATE_MIN, TOPO_RATE_MAX);
	if (json_integer_value(burst) < 1 || json_integer_value(burst) > (json_int_t)TOPO_BURST_MAX)
		return topo_fail(-EINVAL, "\"egress_limit\" burst %lld is out of range 1..%llu",
				 (long long)json_integer_value(burst), TOPO_BURST_MAX);
	p->egress_rate = (uint64_t)json_integer_value(rate);
	p->egress_burst = (uint64_t)json_integer_value(burst);
	return 0;
}

int topo_decode_port(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_port *p = out;
	char type[16];
	json_t *o = load_id(buf, len, name, p->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_uuid(o, "device", p->device_id);
	if (!rc)
		rc = get_str(o, "device_type", type, sizeof(type), true);
	if (rc >= 0) {
		if (!strcmp(type, "bridge"))
			p->device_type = TOPO_DEVICE_BRIDGE;
		else if (!strcmp(type, "router"))
			p->device_type = TOPO_DEVICE_ROUTER;
		else
			rc = topo_fail(-EINVAL, "\"device_type\" '%s' is not bridge or router",
				       type);
	}
	if (rc >= 0)
		rc = get_key(o, "tunnel_key", TOPO_KEY_MIN, TOPO_KEY_MAX, &p->tunnel_key);
	/* A router port always has its MAC and addresses; a bridge port may have a MAC and
	 * an address. */
	if (rc >= 0)
		rc = get_mac(o, "mac", p->mac, p->device_type == TOPO_DEVICE_ROUTER);
	p->has_mac = rc > 0;
	if (rc >= 0 && p->device_type == TOPO_DEVICE_ROUTER)
		rc = get_port_nets(o, p);
	else if (rc >= 0)
		rc = get_addr(o, "address", &p->addr, false);
	p->has_addr = p->device_type == TOPO_DEVICE_BRIDGE && rc > 0;
	if (rc >= 0 && json_object_get(o, "peer"))
		rc = get_uuid(o, "peer", p->peer_id);
	if (rc >= 0)
		rc = get_state(o, &p->down);
	if (rc >= 0)
		rc = get_filters(o, &p->filters);
	if (rc >= 0 && p->device_type == TOPO_DEVICE_BRIDGE) {
		rc = get_port_security(o, p);
	} else if (rc >= 0) {
		/* A router port has no port security: the defaults, as an old node's. */
		p->no_port_security = false;
		p->n_allowed = 0;
	}
	if (rc >= 0)
		rc = get_egress_limit(o, p);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

int topo_decode_route(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_route *r = out;
	json_t *o = load_id(buf, len, name, r->id), *v;
	char type[16];
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_network(o, "src", &r->src);
	if (!rc)
		rc = get_network(o, "dst", &r->dst);
	if (!rc)
		rc = get_str(o, "type", type, sizeof(type), true);
	if (rc >= 0 && topo_parse_route_type(type, &r->type))
		rc = topo_fail(-EINVAL, "\"type\" '%s' is not normal, blackhole or reject", type);
	if (rc >= 0 && json_object_get(o, "port"))
		rc = get_uuid(o, "port", r->port_id);
	if (rc >= 0 && r->type == TOPO_ROUTE_NORMAL && !r->port_id[0])
		rc = topo_fail(-EINVAL, "\"port\" missing: a normal route needs one");
	if (rc >= 0)
		rc = get_addr(o, "gw", &r->gw, false);
	r->has_gw = rc > 0;
	if (rc >= 0 && r->has_gw && r->type != TOPO_ROUTE_NORMAL)
		rc = topo_fail(-EINVAL, "\"gw\" on a %s route", topo_route_type_name(r->type));
	if (rc >= 0)
		rc = get_key(o, "weight", 1, TOPO_WEIGHT_MAX, &r->weight);
	v = json_object_get(o, "port_route");
	if (rc >= 0 && v && !json_is_boolean(v))
		rc = topo_fail(-EINVAL, "\"port_route\" is not true or false");
	r->port_route = json_is_true(v);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* A BGP peer, named by its UUID: {"asn","address","keep_alive","hold_time",
 * "connect_retry"} and an optional "password"; the router is the caller's. */
int topo_decode_bgp_peer(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_bgp_peer *p = out;
	json_t *o = load_id(buf, len, name, p->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_key(o, "asn", 1, TOPO_ASN_MAX, &p->asn);
	if (!rc)
		rc = get_addr(o, "address", &p->addr, true);
	if (rc >= 0)
		rc = get_key(o, "keep_alive", 1, TOPO_BGP_TIMER_MAX, &p->keep_alive);
	if (!rc)
		rc = get_key(o, "hold_time", TOPO_BGP_HOLD_TIME_MIN, TOPO_BGP_TIMER_MAX,
			     &p->hold_time);
	if (!rc)
		rc = get_key(o, "connect_retry", 1, TOPO_BGP_TIMER_MAX, &p->connect_retry);
	if (!rc && p->keep_alive > p->hold_time)
		rc = topo_fail(-EINVAL, "\"keep_alive\" %u is longer than \"hold_time\" %u",
			       p->keep_alive, p->hold_time);
	if (!rc)
		rc = get_str(o, "password", p->password, sizeof(p->password), false);
	if (rc > 0 && !topo_valid_bgp_password(p->password))
		rc = topo_fail(-EINVAL, "\"password\" is not 1 to 80 printable characters "
			       "without '\"' or '\\'");
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* A network a router advertises, named by its UUID: {"net"}. */
int topo_decode_bgp_network(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_bgp_network *n = out;
	json_t *o = load_id(buf, len, name, n->id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_network(o, "net", &n->net);
	json_decref(o);
	return rc;
}

/* A route learned from a BGP peer, named by its UUID (under the publishing host, the
 * caller's): {"router","dst","port","gw","peer","weight"}; a normal route from 0.0.0.0/0. */
int topo_decode_route_learned(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_route *r = out;
	json_t *o = load_id(buf, len, name, r->id);
	int rc;

	if (!o)
		return -EINVAL;
	r->learned = true;
	r->type = TOPO_ROUTE_NORMAL;
	rc = get_uuid(o, "router", r->router_id);
	if (!rc)
		rc = get_network(o, "dst", &r->dst);
	if (!rc)
		rc = get_uuid(o, "port", r->port_id);
	if (!rc)
		rc = get_uuid(o, "peer", r->peer_id);
	if (!rc)
		rc = get_addr(o, "gw", &r->gw, true);
	r->has_gw = rc > 0;
	if (rc >= 0)
		rc = get_key(o, "weight", 1, TOPO_WEIGHT_MAX, &r->weight);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* A BGP session's status, named by its peer: {"state","since","info","routes"}. */
int topo_decode_bgp_status(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_bgp_status *st = out;
	json_t *o = load_id(buf, len, name, st->peer_id);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_str(o, "state", st->state, sizeof(st->state), true);
	if (rc >= 0)
		rc = get_str(o, "since", st->since, sizeof(st->since), false);
	if (rc >= 0)
		rc = get_str(o, "info", st->info, sizeof(st->info), false);
	if (rc >= 0)
		rc = get_key(o, "routes", 0, UINT32_MAX, &st->routes);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* The address (and, learned, the MAC) an ARP node's name "a.b.c.d[,<mac>]" holds. */
static int arp_name(const char *name, bool learned, struct topo_arp *a)
{
	char addr[INET_ADDRSTRLEN];
	const char *comma = strchr(name, ',');
	size_t n = comma ? (size_t)(comma - name) : strlen(name);

	if ((comma != NULL) != learned || n >= sizeof(addr))
		return topo_fail(-EINVAL, "name is not %s",
				 learned ? "<address>,<mac>,<router id>" : "an address");
	memcpy(addr, name, n);
	addr[n] = '\0';
	if (topo_parse_ipv4(addr, &a->addr) || !topo_valid_unicast_ipv4(a->addr))
		return topo_fail(-EINVAL, "'%s' is not a unicast IPv4 address", addr);
	if (learned && (topo_parse_mac(comma + 1, a->mac) || !topo_valid_unicast_mac(a->mac)))
		return topo_fail(-EINVAL, "'%s' is not a unicast MAC", comma + 1);
	a->learned = learned;
	return 0;
}

/* name "a.b.c.d", data {"mac"}; the router is the caller's (the parent in the path). */
int topo_decode_arp_static(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_arp *a = out;
	json_t *o;
	int rc;

	if (!name)
		return topo_fail(-EINVAL, "an ARP entry needs its node's name");
	rc = arp_name(name, false, a);
	if (rc)
		return rc;
	o = load(buf, len);
	if (!o)
		return -EINVAL;
	rc = get_mac(o, "mac", a->mac, true);
	json_decref(o);
	return rc < 0 ? rc : 0;
}

/* name "a.b.c.d,<mac>,<router id>" (under the host that learned it), data {"host","port"}. */
int topo_decode_arp_learned(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_arp *a = out;
	const char *router = name ? strrchr(name, ',') : NULL;
	char head[64];
	json_t *o;
	int rc;

	if (!router || (size_t)(router - name) >= sizeof(head) || !topo_valid_uuid(router + 1))
		return topo_fail(-EINVAL, "name is not <address>,<mac>,<router id>");
	memcpy(head, name, (size_t)(router - name));
	head[router - name] = '\0';
	rc = arp_name(head, true, a);
	if (rc)
		return rc;
	strcpy(a->router_id, router + 1);
	o = load(buf, len);
	if (!o)
		return -EINVAL;
	rc = get_uuid(o, "host", a->host_id);
	if (!rc)
		rc = get_uuid(o, "port", a->port_id);
	json_decref(o);
	return rc;
}

/* A node named by an interface: the name into dst, then the data. NULL (the reason set) if
 * either is bad. */
static json_t *load_ifname(const char *buf, size_t len, const char *name,
			   char dst[TOPO_IFNAME_MAX])
{
	if (take_name(name, topo_valid_ifname, dst, TOPO_IFNAME_MAX, "an interface name"))
		return NULL;
	return load(buf, len);
}

/* Named by its interface; the host is the caller's (the parent in the path). */
int topo_decode_binding(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_binding *b = out;
	json_t *o = load_ifname(buf, len, name, b->interface);
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_uuid(o, "port", b->port_id);
	json_decref(o);
	return rc;
}

/* name "<mac>,<port id>", data {"host"}; the bridge is the port's (set by the reader). */
int topo_decode_mac(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_mac *m = out;
	char mac[18];
	json_t *o;
	int rc;

	if (!name || strlen(name) != TOPO_MAC_NODE_LEN || name[17] != ',')
		return topo_fail(-EINVAL, "name is not <mac>,<port id>");
	memcpy(mac, name, 17);
	mac[17] = '\0';
	if (topo_parse_mac(mac, m->mac) || !topo_valid_unicast_mac(m->mac))
		return topo_fail(-EINVAL, "'%s' is not a unicast MAC", mac);
	if (!topo_valid_uuid(name + 18))
		return topo_fail(-EINVAL, "'%s' is not a port UUID", name + 18);
	strcpy(m->port_id, name + 18);
	o = load(buf, len);
	if (!o)
		return -EINVAL;
	rc = get_uuid(o, "host", m->host_id);
	json_decref(o);
	return rc;
}

int topo_decode_key_counter(const char *buf, size_t len, const char *name, void *out)
{
	uint32_t *next = out;
	json_t *o = load(buf, len);
	int rc;

	(void)name; /* the counter has one fixed path */
	if (!o)
		return -EINVAL;
	/* next may be one past the last key: 0xFFFFFF means exhausted. */
	rc = get_key(o, "next", TOPO_KEY_MIN, TOPO_KEY_MAX + 1, next);
	json_decref(o);
	return rc;
}

/* Encoders: o is consumed. NULL only when out of memory. */
static char *dump(json_t *o)
{
	char *s;

	if (!o)
		return NULL;
	json_object_set_new(o, "schema", json_integer(TOPO_SCHEMA));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static void set_addr(json_t *o, const char *key, struct in_addr addr)
{
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, s, sizeof(s));
	json_object_set_new(o, key, json_string(s));
}

char *topo_encode_host(const struct topo_host *h)
{
	return dump(json_pack("{s:s}", "name", h->name));
}

char *topo_encode_zone(const struct topo_zone *z)
{
	return dump(json_pack("{s:s,s:s}", "name", z->name, "type", z->type));
}

char *topo_encode_member(const struct topo_member *m)
{
	json_t *o = json_object();

	if (o)
		set_addr(o, "address", m->addr);
	return dump(o);
}

/* "state" is written only when down: an up object encodes as before it existed. */
static json_t *with_state(json_t *o, bool down)
{
	if (o && down)
		json_object_set_new(o, "state", json_string("down"));
	return o;
}

char *topo_encode_device(const char *name, uint32_t tunnel_key, bool down)
{
	return dump(with_state(json_pack("{s:s,s:I}", "name", name, "tunnel_key",
					 (json_int_t)tunnel_key), down));
}

/* Filters are written only when set: a node without them encodes as before they existed. */
static json_t *with_filters(json_t *o, const struct topo_filters *f)
{
	if (o && f->in[0])
		json_object_set_new(o, "infilter", json_string(f->in));
	if (o && f->out[0])
		json_object_set_new(o, "outfilter", json_string(f->out));
	return o;
}

char *topo_encode_bridge(const struct topo_bridge *b)
{
	return dump(with_filters(with_state(json_pack("{s:s,s:I}", "name", b->name,
						      "tunnel_key", (json_int_t)b->tunnel_key),
					    b->down), &b->filters));
}

char *topo_encode_router(const struct topo_router *r)
{
	json_t *o = with_state(json_pack("{s:s,s:I}", "name", r->name, "tunnel_key",
					 (json_int_t)r->tunnel_key), r->down);

	if (o && r->asn)
		json_object_set_new(o, "asn", json_integer((json_int_t)r->asn));
	return dump(with_filters(o, &r->filters));
}

static void set_mac(json_t *o, const char *key, const uint8_t mac[6])
{
	char s[18];

	topo_format_mac(mac, s);
	json_object_set_new(o, key, json_string(s));
}

static void set_cidr(json_t *o, const char *key, const struct topo_cidr *c)
{
	char s[TOPO_CIDR_STRLEN];

	topo_format_cidr(c, s);
	json_object_set_new(o, key, json_string(s));
}

/* Written only when not the default (on, no pairs). */
static void set_port_security(json_t *o, const struct topo_port *p)
{
	json_t *arr, *e;

	if (p->no_port_security)
		json_object_set_new(o, "port_security", json_false());
	if (!p->n_allowed)
		return;
	arr = json_array();
	for (size_t i = 0; i < p->n_allowed; i++) {
		e = json_object();
		set_addr(e, "address", p->allowed[i].addr);
		if (p->allowed[i].has_mac)
			set_mac(e, "mac", p->allowed[i].mac);
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "allowed_addresses", arr);
}

char *topo_encode_port(const struct topo_port *p)
{
	bool router = p->device_type == TOPO_DEVICE_ROUTER;
	json_t *o = json_pack("{s:s,s:s,s:I}", "device", p->device_id, "device_type",
			      router ? "router" : "bridge", "tunnel_key",
			      (json_int_t)p->tunnel_key);
	json_t *nets;
	char s[TOPO_CIDR_STRLEN];
	size_t i;

	if (!o)
		return NULL;
	if (p->has_mac)
		set_mac(o, "mac", p->mac);
	if (router) {
		nets = json_array();
		for (i = 0; i < p->n_nets; i++) {
			topo_format_cidr(&p->nets[i], s);
			json_array_append_new(nets, json_string(s));
		}
		json_object_set_new(o, "addresses", nets);
	} else if (p->has_addr) {
		set_addr(o, "address", p->addr);
	}
	if (p->peer_id[0])
		json_object_set_new(o, "peer", json_string(p->peer_id));
	if (!router)
		set_port_security(o, p);
	if (p->egress_rate)
		json_object_set_new(o, "egress_limit",
				    json_pack("{s:I,s:I}", "rate", (json_int_t)p->egress_rate,
					      "burst", (json_int_t)p->egress_burst));
	return dump(with_filters(with_state(o, p->down), &p->filters));
}

char *topo_encode_route(const struct topo_route *r)
{
	json_t *o = json_pack("{s:s,s:I,s:b}", "type", topo_route_type_name(r->type), "weight",
			      (json_int_t)r->weight, "port_route", r->port_route);

	if (!o)
		return NULL;
	set_cidr(o, "src", &r->src);
	set_cidr(o, "dst", &r->dst);
	if (r->port_id[0])
		json_object_set_new(o, "port", json_string(r->port_id));
	if (r->has_gw)
		set_addr(o, "gw", r->gw);
	return dump(o);
}

char *topo_encode_bgp_peer(const struct topo_bgp_peer *p)
{
	json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "asn", (json_int_t)p->asn, "keep_alive",
			      (json_int_t)p->keep_alive, "hold_time", (json_int_t)p->hold_time,
			      "connect_retry", (json_int_t)p->connect_retry);

	if (!o)
		return NULL;
	set_addr(o, "address", p->addr);
	if (p->password[0])
		json_object_set_new(o, "password", json_string(p->password));
	return dump(o);
}

char *topo_encode_bgp_network(const struct topo_bgp_network *n)
{
	json_t *o = json_object();

	if (o)
		set_cidr(o, "net", &n->net);
	return dump(o);
}

char *topo_encode_bgp_status(const struct topo_bgp_status *st)
{
	return dump(json_pack("{s:s,s:s,s:s,s:I}", "state", st->state, "since", st->since,
			      "info", st->info, "routes", (json_int_t)st->routes));
}

char *topo_encode_route_learned(const struct topo_route *r)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "router", r->router_id, "port", r->port_id,
			      "peer", r->peer_id, "weight", (json_int_t)r->weight);

	if (!o)
		return NULL;
	set_cidr(o, "dst", &r->dst);
	set_addr(o, "gw", r->gw);
	return dump(o);
}

char *topo_encode_arp(const struct topo_arp *a)
{
	json_t *o;

	if (a->learned)
		return dump(json_pack("{s:s,s:s}", "host", a->host_id, "port", a->port_id));
	o = json_object();
	if (o)
		set_mac(o, "mac", a->mac);
	return dump(o);
}

char *topo_encode_binding(const struct topo_binding *b)
{
	return dump(json_pack("{s:s}", "port", b->port_id));
}

char *topo_encode_key_counter(uint32_t next)
{
	return dump(json_pack("{s:I}", "next", (json_int_t)next));
}

char *topo_encode_port_guard(const char *host_id, const char *ifname)
{
	return dump(json_pack("{s:s,s:s}", "host", host_id, "interface", ifname));
}

char *topo_encode_mac_owner(const char *host_id)
{
	return dump(json_pack("{s:s}", "host", host_id));
}

char *topo_encode_alive(void)
{
	return dump(json_object());
}

/* ---- what agents report of their host (status.h) ---- */

static int get_bool(json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return topo_fail(-EINVAL, "\"%s\" missing or not a boolean", key);
	*out = json_is_true(v);
	return 0;
}

/* "a.b.c.d/len" or an IPv6 address with its length: what `ip address` shows. */
static bool valid_if_addr(const char *s)
{
	char a[TOPO_IF_ADDR_STRLEN], *slash, *end;
	unsigned char bin[16];
	long len;

	snprintf(a, sizeof(a), "%s", s);
	slash = strchr(a, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (!isdigit((unsigned char)slash[1])) /* strtol would take a sign or blanks */
		return false;
	len = strtol(slash + 1, &end, 10);
	if (*end)
		return false;
	if (inet_pton(AF_INET, a, bin) == 1)
		return len >= 0 && len <= 32;
	return inet_pton(AF_INET6, a, bin) == 1 && len >= 0 && len <= 128;
}

static int get_if_addrs(json_t *o, struct topo_iface *f)
{
	json_t *arr = json_object_get(o, "addresses"), *v;
	size_t i;

	if (!json_is_array(arr))
		return topo_fail(-EINVAL, "\"addresses\" missing or not an array");
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) >= TOPO_IF_ADDR_STRLEN || !valid_if_addr(s))
			return topo_fail(-EINVAL, "\"addresses\" holds a bad address");
		if (f->n_addrs < TOPO_IF_ADDRS_MAX) /* more are left out: a listing, not a rule */
			strcpy(f->addrs[f->n_addrs++], s);
	}
	return 0;
}

/* Named by the interface; {"up","carrier","mtu","addresses"} and an optional "mac" (any
 * MAC: lo's is zero, a multicast one is the interface's business). */
int topo_decode_iface(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_iface *f = out;
	json_t *o = load_ifname(buf, len, name, f->name);
	char mac[18];
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_bool(o, "up", &f->up);
	if (!rc)
		rc = get_bool(o, "carrier", &f->carrier);
	if (!rc)
		rc = get_key(o, "mtu", 0, INT32_MAX, &f->mtu);
	if (!rc)
		rc = get_str(o, "mac", mac, sizeof(mac), false);
	if (rc == 1) {
		f->has_mac = true;
		rc = topo_parse_mac(mac, f->mac) ? topo_fail(-EINVAL, "\"mac\" '%s' is not a MAC",
							     mac) : 0;
	}
	if (!rc)
		rc = get_if_addrs(o, f);
	json_decref(o);
	return rc;
}

/* Named by the bound interface; {"port","state":"active"|"inactive"[,"reason"]}. */
int topo_decode_binding_status(const char *buf, size_t len, const char *name, void *out)
{
	struct topo_binding_status *b = out;
	json_t *o = load_ifname(buf, len, name, b->interface);
	char state[16];
	int rc;

	if (!o)
		return -EINVAL;
	rc = get_uuid(o, "port", b->port_id);
	if (!rc)
		rc = get_str(o, "state", state, sizeof(state), true) < 0 ? -EINVAL : 0;
	if (!rc && strcmp(state, "active") && strcmp(state, "inactive"))
		rc = topo_fail(-EINVAL, "\"state\" '%s' is neither active nor inactive", state);
	b->active = !rc && !strcmp(state, "active");
	if (!rc)
		rc = get_str(o, "reason", b->reason, sizeof(b->reason), false) < 0 ? -EINVAL : 0;
	json_decref(o);
	return rc;
}

char *topo_encode_iface(const struct topo_iface *f)
{
	json_t *o = json_pack("{s:b,s:b,s:I,s:[]}", "up", f->up, "carrier", f->carrier, "mtu",
			      (json_int_t)f->mtu, "addresses");
	json_t *arr = o ? json_object_get(o, "addresses") : NULL;

	for (size_t i = 0; arr && i < f->n_addrs; i++)
		json_array_append_new(arr, json_string(f->addrs[i]));
	if (o && f->has_mac)
		set_mac(o, "mac", f->mac);
	return dump(o);
}

char *topo_encode_binding_status(const struct topo_binding_status *b)
{
	json_t *o = json_pack("{s:s,s:s}", "port", b->port_id, "state",
			      b->active ? "active" : "inactive");

	if (o && !b->active && b->reason[0])
		json_object_set_new(o, "reason", json_string(b->reason));
	return dump(o);
}

/* The helpers above, for the chain objects' codec (chain_codec.c). */
json_t *codec_load(const char *buf, size_t len)
{
	return load(buf, len);
}

json_t *codec_load_id(const char *buf, size_t len, const char *name, char id[TOPO_ID_LEN])
{
	return load_id(buf, len, name, id);
}

int codec_get_str(json_t *o, const char *key, char *dst, size_t size, bool required)
{
	return get_str(o, key, dst, size, required);
}

int codec_get_name(json_t *o, char name[TOPO_NAME_MAX])
{
	return get_name(o, name);
}

int codec_get_uuid(json_t *o, const char *key, char id[TOPO_ID_LEN])
{
	return get_uuid(o, key, id);
}

int codec_get_uint(json_t *o, const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	return get_key(o, key, min, max, out);
}

int codec_get_bool(json_t *o, const char *key, bool *out)
{
	return get_bool(o, key, out);
}

char *codec_dump(json_t *o)
{
	return dump(o);
}
