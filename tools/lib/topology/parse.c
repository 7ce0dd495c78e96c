// SPDX-License-Identifier: Apache-2.0
/* Parsing and validation of the values a user or a znode gives: MACs, IPv4 addresses and
 * prefixes, names, UUIDs, interface names, route types. Strict: one spelling each, nothing
 * guessed. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/addr.h"
#include "topo_impl.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "aa:bb:cc:dd:ee:ff", either case. */
int topo_parse_mac(const char *s, uint8_t mac[6])
{
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void topo_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

bool topo_valid_unicast_mac(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

/* Dotted quad only: inet_pton refuses "1.2.3", octal and hex forms. */
int topo_parse_ipv4(const char *s, struct in_addr *addr)
{
	if (!s || inet_pton(AF_INET, s, addr) != 1)
		return -EINVAL;
	return 0;
}

bool topo_valid_unicast_ipv4(struct in_addr addr)
{
	uint32_t a = ntohl(addr.s_addr);

	return (a >> 24) != 0 && (a >> 28) != 0xe && a != 0xffffffffu;
}

/* 1 to 63 characters of [A-Za-z0-9_.-], starting with a letter or digit, and not a UUID
 * (a reference that is a UUID means the object with that id). */
bool topo_valid_name(const char *s)
{
	size_t i, n;

	if (!s || topo_valid_uuid(s))
		return false;
	n = strlen(s);
	if (n == 0 || n >= TOPO_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* The canonical lower-case form, 8-4-4-4-12. */
bool topo_valid_uuid(const char *s)
{
	int i;

	if (!s || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
			return false;
		}
	}
	return true;
}

/* A TCP MD5 key is 1 to 80 bytes (TCP_MD5SIG_MAXKEYLEN); printable ASCII without the
 * quote and backslash that would end or escape the string in BIRD's configuration. */
bool topo_valid_bgp_password(const char *s)
{
	size_t i, n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n >= TOPO_BGP_PASSWORD_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return false;
	return true;
}

/* The kernel's rule (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':' or
 * white space. */
bool topo_valid_ifname(const char *s)
{
	size_t i, n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n >= TOPO_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return false;
	return true;
}

int topo_new_uuid(char id[TOPO_ID_LEN])
{
	ssize_t n;
	int fd, err = 0;

	fd = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return topo_fail(-errno, "cannot read /proc/sys/kernel/random/uuid: %s",
				 strerror(errno));
	n = read(fd, id, TOPO_ID_LEN - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (n != TOPO_ID_LEN - 1)
		return topo_fail(err ? err : -EIO, "short read from the kernel's uuid source");
	id[TOPO_ID_LEN - 1] = '\0';
	if (!topo_valid_uuid(id))
		return topo_fail(-EIO, "the kernel's uuid source gave '%s'", id);
	return 0;
}

/* "a.b.c.d/len": a dotted quad, '/', and 0..32 in decimal without leading zeros. */
int topo_parse_cidr(const char *s, struct topo_cidr *c)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = s ? strchr(s, '/') : NULL;
	const char *len;
	size_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	len = slash + 1;
	n = strlen(len);
	if (n < 1 || n > 2 || !isdigit((unsigned char)len[0]) ||
	    (n == 2 && (!isdigit((unsigned char)len[1]) || len[0] == '0')))
		return -EINVAL;
	if (topo_parse_ipv4(addr, &c->addr))
		return -EINVAL;
	c->len = (uint8_t)atoi(len);
	return c->len > 32 ? -EINVAL : 0;
}

void topo_format_cidr(const struct topo_cidr *c, char buf[TOPO_CIDR_STRLEN])
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->addr, a, sizeof(a));
	snprintf(buf, TOPO_CIDR_STRLEN, "%s/%u", a, c->len);
}

struct in_addr topo_cidr_network(const struct topo_cidr *c)
{
	struct in_addr a = { htonl(ntohl(c->addr.s_addr) & mx_prefix_mask(c->len)) };

	return a;
}

bool topo_cidr_is_network(const struct topo_cidr *c)
{
	return topo_cidr_network(c).s_addr == c->addr.s_addr;
}

bool topo_cidr_contains(const struct topo_cidr *net, struct in_addr addr)
{
	uint32_t m = mx_prefix_mask(net->len);

	return (ntohl(addr.s_addr) & m) == (ntohl(net->addr.s_addr) & m);
}

/* Two prefixes overlap when the shorter one contains the other. */
bool topo_cidr_overlap(const struct topo_cidr *a, const struct topo_cidr *b)
{
	return a->len <= b->len ? topo_cidr_contains(a, b->addr) : topo_cidr_contains(b, a->addr);
}

static const char *const route_types[] = {
	[TOPO_ROUTE_NORMAL] = "normal",
	[TOPO_ROUTE_BLACKHOLE] = "blackhole",
	[TOPO_ROUTE_REJECT] = "reject",
};

const char *topo_route_type_name(enum topo_route_type type)
{
	if ((size_t)type < sizeof(route_types) / sizeof(*route_types) && route_types[type])
		return route_types[type];
	return "unknown";
}

int topo_parse_route_type(const char *s, enum topo_route_type *type)
{
	size_t i;

	for (i = 0; s && i < sizeof(route_types) / sizeof(*route_types); i++) {
		if (route_types[i] && !strcmp(s, route_types[i])) {
			*type = (enum topo_route_type)i;
			return 0;
		}
	}
	return -EINVAL;
}
