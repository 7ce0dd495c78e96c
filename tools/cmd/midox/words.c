// SPDX-License-Identifier: Apache-2.0
/* Words: splitting a command line, checking values, and errors. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/log.h"

static bool quiet;

void cli_set_quiet(bool on)
{
	quiet = on;
}

int cli_fail(int err, const char *fmt, ...)
{
	char msg[1024]; /* room for the longest list of choices (monitor's reasons) */
	va_list ap;

	if (quiet)
		return err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mx_err("%s", msg);
	return err;
}

int cli_lib_fail(int err)
{
	const char *m = topo_errmsg();

	/* ZooKeeper said no: the ACLs give writes to the cluster credential alone. */
	if (err == -EACCES && !topo_acl_enabled())
		return cli_fail(err, "not authorised to change the topology: configure a "
				"credential (--credentials FILE or MIDOX_CREDENTIALS)");
	if (err == -EACCES)
		return cli_fail(err, "not authorised to change the topology: the configured "
				"credential is not the cluster's (%s)", m);
	return cli_fail(err, "%s", *m ? m : strerror(-err));
}

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -EINVAL:
		return EXIT_USAGE;
	case -ENOENT:
	case -EEXIST:
	case -EBUSY:
	case -ENOTEMPTY:
	case -ENOSPC:
		return EXIT_CONFLICT;
	case -ETIMEDOUT:
	case -ESTALE:
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
		return EXIT_ZK;
	case -EACCES:
		return EXIT_DENIED;
	default:
		return EXIT_INTERNAL;
	}
}

static int push_word(struct words *out, const char *s, size_t len)
{
	char **w = realloc(out->w, (size_t)(out->n + 2) * sizeof(*w));

	if (!w)
		return -ENOMEM;
	out->w = w;
	w[out->n] = strndup(s, len);
	if (!w[out->n])
		return -ENOMEM;
	w[++out->n] = NULL;
	return 0;
}

/* White space separates words; '...' and "..." quote; '#' starts a comment. */
int cli_split(const char *line, struct words *out)
{
	char word[1024];
	size_t len;
	int rc;

	out->w = NULL;
	out->n = 0;
	for (;;) {
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			return 0;
		len = 0;
		while (*line && !isspace((unsigned char)*line)) {
			if (*line == '\'' || *line == '"') {
				char q = *line++;

				while (*line && *line != q && len < sizeof(word) - 1)
					word[len++] = *line++;
				if (*line != q)
					return cli_fail(-EINVAL, "unterminated quote");
				line++;
			} else if (len < sizeof(word) - 1) {
				word[len++] = *line++;
			} else {
				return cli_fail(-EINVAL, "word too long");
			}
		}
		rc = push_word(out, word, len);
		if (rc)
			return cli_fail(rc, "out of memory");
	}
}

void cli_words_free(struct words *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		free(w->w[i]);
	free(w->w);
	w->w = NULL;
	w->n = 0;
}

int cli_no_more(char **w, int n, const char *ctx)
{
	return n > 0 ? cli_fail(-EINVAL, "unexpected word '%s' after '%s'", w[0], ctx) : 0;
}

/* A name the grammar can still tell from its commands. */
int cli_name_arg(const char *name)
{
	static const char *const reserved[] = { "create", "list", "delete", "show", "add",
						"set", "port", "member", "binding", "help",
						"route", "peer", "arp", "arp-entry", "bgp-peer",
						"bgp-network", "floating-ip", NULL };
	int i;

	if (!topo_valid_name(name))
		return cli_fail(-EINVAL,
				"bad name '%s': 1 to %d letters, digits, '_', '.' or '-', "
				"starting with a letter or digit, not a UUID",
				name, TOPO_NAME_MAX - 1);
	for (i = 0; reserved[i]; i++)
		if (!strcmp(name, reserved[i]))
			return cli_fail(-EINVAL, "bad name '%s': a command word", name);
	if (cli_alias_shaped(name))
		return cli_fail(-EINVAL, "bad name '%s': the shape of an alias, which it would "
				"shadow", name);
	return 0;
}

int cli_mac_arg(const char *s, uint8_t mac[6])
{
	if (topo_parse_mac(s, mac))
		return cli_fail(-EINVAL, "bad MAC '%s': expected aa:bb:cc:dd:ee:ff", s);
	if (!topo_valid_unicast_mac(mac))
		return cli_fail(-EINVAL, "bad MAC '%s': must be unicast and not zero", s);
	return 0;
}

int cli_ipv4_arg(const char *what, const char *s, struct in_addr *addr)
{
	if (topo_parse_ipv4(s, addr) || !topo_valid_unicast_ipv4(*addr))
		return cli_fail(-EINVAL, "bad %s '%s': not a unicast IPv4 address", what, s);
	return 0;
}

/* Bits (a rate per second or a burst): N, or N with k, m, g or t after it (SI: 1000,
 * 1000000, ...), "bit" allowed after that, as tc writes rates: 10m, 10mbit, 512kbit. */
int cli_bits_arg(const char *what, const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	unsigned long long n = 0, mult = 1;
	const char *p = s, *u;

	while (*p >= '0' && *p <= '9' && n <= 1000000000000000ull)
		n = n * 10 + (unsigned long long)(*p++ - '0');
	if (p != s && *p && (u = strchr(units, *p)) != NULL) {
		for (long i = 0; i <= u - units; i++)
			mult *= 1000;
		p++;
	}
	if (!strcmp(p, "bit"))
		p += 3;
	if (p == s || *p || (s[0] == '0' && s[1] >= '0' && s[1] <= '9') ||
	    n > 1000000000000000ull / mult)
		return cli_fail(-EINVAL, "bad %s '%s': expected bits such as 8000, 512k, 10m, 1g "
				"or 10mbit", what, s);
	*out = n * mult;
	return 0;
}

/* The other way: the largest SI unit that divides bits exactly ("10m", "1500k", "999"). */
void cli_format_bits(uint64_t bits, char *out, size_t len)
{
	static const char units[] = "kmgt";
	int u = -1;

	while (bits && bits % 1000 == 0 && u < 3) {
		bits /= 1000;
		u++;
	}
	if (u < 0)
		snprintf(out, len, "%llu", (unsigned long long)bits);
	else
		snprintf(out, len, "%llu%c", (unsigned long long)bits, units[u]);
}

/* "a.b.c.d/len"; network: no host bits. */
int cli_cidr_arg(const char *what, const char *s, bool network, struct topo_cidr *c)
{
	if (topo_parse_cidr(s, c))
		return cli_fail(-EINVAL, "bad %s '%s': expected a.b.c.d/len, len 0 to 32", what, s);
	if (network && !topo_cidr_is_network(c)) {
		char net[TOPO_CIDR_STRLEN];
		struct topo_cidr n = { topo_cidr_network(c), c->len };

		topo_format_cidr(&n, net);
		return cli_fail(-EINVAL, "bad %s '%s': host bits set (%s?)", what, s, net);
	}
	return 0;
}
