// SPDX-License-Identifier: Apache-2.0
/* The ZooKeeper C client's log through midox's logger. The client retries a server that is
 * down several times a second and logs every failed attempt the same way; a message seen
 * since the last session event is left out, so an outage reads as one line per state
 * change. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "topo_impl.h"

#define SEEN_MAX 16
#define SEEN_LEN 160

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen[SEEN_MAX][SEEN_LEN];
static unsigned int n_seen, n_left_out;

/* The client's line is "TIME:PID(0xTID):ZOO_LEVEL@function@line: text". */
static enum mx_log_level zk_level(const char *msg, const char **text)
{
	const char *lvl = strstr(msg, "):ZOO_"), *at, *colon;

	*text = msg;
	if (!lvl)
		return MX_LOG_WARN;
	lvl += 6;
	at = strchr(lvl, '@');
	colon = at ? strstr(at, ": ") : NULL;
	if (colon)
		*text = colon + 2;
	if (!strncmp(lvl, "ERROR@", 6))
		return MX_LOG_ERROR;
	if (!strncmp(lvl, "WARN@", 5))
		return MX_LOG_WARN;
	return MX_LOG_DEBUG;
}

/* A message without its digits (ports stay apart: they follow a colon, kept): two failed
 * attempts that differ only in a timing are the same message. */
static void zk_shape(const char *text, char out[SEEN_LEN])
{
	size_t n = 0;

	for (; *text && n + 1 < SEEN_LEN; text++)
		if (!isdigit((unsigned char)*text) || (n && (out[n - 1] == ':' ||
							     isdigit((unsigned char)out[n - 1]))))
			out[n++] = *text;
	out[n] = '\0';
}

/* Whether shape was seen since the last session event; remembers it if not. */
static bool zk_seen(const char *shape)
{
	unsigned int i;

	for (i = 0; i < n_seen && i < SEEN_MAX; i++)
		if (!strcmp(seen[i], shape))
			return true;
	snprintf(seen[n_seen++ % SEEN_MAX], SEEN_LEN, "%s", shape);
	return false;
}

void topo_zk_log(const char *message)
{
	char shape[SEEN_LEN];
	const char *text;
	enum mx_log_level level = zk_level(message, &text);
	bool repeat;

	zk_shape(text, shape);
	pthread_mutex_lock(&seen_lock);
	repeat = zk_seen(shape);
	n_left_out += repeat;
	pthread_mutex_unlock(&seen_lock);
	if (!repeat)
		mx_log(level, "ZooKeeper client: %s", text);
}

void topo_zk_log_event(void)
{
	unsigned int left_out;

	pthread_mutex_lock(&seen_lock);
	left_out = n_left_out;
	n_seen = n_left_out = 0;
	pthread_mutex_unlock(&seen_lock);
	if (left_out)
		mx_debug("ZooKeeper client: %u repeated messages left out", left_out);
}
