// SPDX-License-Identifier: Apache-2.0
/* BIRD's "show protocols": a header, then one row per protocol, "name proto table state
 * since info", since in the "iso long" format the configuration asks for (a date and a
 * time: two words), info the rest ("Established", "Active  Socket: Connection refused",
 * "Error: Bad peer AS"...), its runs of spaces squeezed. A session that is not up gets the
 * TCP MD5 mismatch its password setting explains, if one was seen (auth.h): BIRD cannot
 * tell, the kernel drops those segments. */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "base/clock.h"
#include "conf.h"
#include "status.h"

/* The next word of *s (at most len - 1 bytes) into out; *s moves past it. */
static void word(const char **s, char *out, size_t len)
{
	size_t n = 0;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	while (**s && **s != ' ' && **s != '\t' && **s != '\n') {
		if (n + 1 < len)
			out[n++] = **s;
		(*s)++;
	}
	out[n] = '\0';
}

static void rest(const char *s, char *out, size_t len)
{
	size_t n = 0;
	bool space = false;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && *s != '\n'; s++) {
		if (*s == ' ' || *s == '\t') {
			space = true;
			continue;
		}
		if (space && n && n + 1 < len)
			out[n++] = ' ';
		space = false;
		if (n + 1 < len)
			out[n++] = *s;
	}
	out[n] = '\0';
}

static void explain(const struct bgp_want *w, struct topo_bgp_status *out)
{
	uint64_t now = mx_now_ns();
	size_t up = 0;

	for (size_t i = 0; i < w->n_peers; i++) {
		const char *hint;
		size_t len = strlen(out[i].info);

		if (!strcmp(out[i].state, "up")) {
			up++;
			continue;
		}
		hint = bgp_md5_hint(w, &w->peers[i], now);
		if (hint)
			snprintf(out[i].info + len, sizeof(out[i].info) - len, "%s%s", len ? " " : "",
				 hint);
	}
	if (w->n_peers && up == w->n_peers)
		bgp_md5_settle(w->port_key);
}

void bgp_status_parse(const char *reply, const struct bgp_want *w, struct topo_bgp_status *out)
{
	char name[BGP_PROTO_NAME_LEN], want[BGP_PROTO_NAME_LEN], skip[64], date[12], time[16];

	for (size_t i = 0; i < w->n_peers; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		strcpy(out[i].peer_id, w->peers[i].id);
		snprintf(out[i].state, sizeof(out[i].state), "unknown");
	}
	for (const char *line = reply; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *s = line;

		word(&s, name, sizeof(name));
		for (size_t i = 0; i < w->n_peers; i++) {
			bgp_proto_name(w->peers[i].id, want);
			if (strcmp(name, want))
				continue;
			word(&s, skip, sizeof(skip)); /* proto */
			word(&s, skip, sizeof(skip)); /* table */
			word(&s, out[i].state, sizeof(out[i].state));
			word(&s, date, sizeof(date));
			word(&s, time, sizeof(time));
			snprintf(out[i].since, sizeof(out[i].since), "%s %s", date, time);
			rest(s, out[i].info, sizeof(out[i].info));
		}
	}
	explain(w, out);
}
