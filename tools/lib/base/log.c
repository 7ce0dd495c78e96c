// SPDX-License-Identifier: Apache-2.0
/* The logger: one line per message on stderr, "prog: level: text", or with the time (a
 * daemon's log, mx_log_set_time) "2026-12-02T19:30:01.123Z prog level: text". */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

static const char *log_prog = "midox";
static enum mx_log_level log_level = MX_LOG_INFO;
static bool log_with_time;

static const char *const level_names[] = {
	[MX_LOG_ERROR] = "error",
	[MX_LOG_WARN] = "warning",
	[MX_LOG_INFO] = "info",
	[MX_LOG_DEBUG] = "debug",
};

/* "2026-12-02T19:30:01.123Z ": UTC, milliseconds, for logs read beside other hosts'. */
static void log_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ ", ts.tv_nsec / 1000000);
}

void mx_vlog(enum mx_log_level level, const char *fmt, va_list ap)
{
	char line[1024], when[40] = "";
	char *p, *nl;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_with_time)
		log_time(when, sizeof(when));
	/* A message of several lines (a library's dump): each line gets the prefix. */
	for (p = line; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		if (*p && *when)
			fprintf(stderr, "%s%s %s: %s\n", when, log_prog, level_names[level], p);
		else if (*p)
			fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], p);
	}
}

void mx_log(enum mx_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mx_vlog(level, fmt, ap);
	va_end(ap);
}

void mx_log_init(const char *prog, enum mx_log_level level)
{
	log_prog = prog;
	log_level = level;
}

void mx_log_set_level(enum mx_log_level level)
{
	log_level = level;
}

void mx_log_set_time(bool on)
{
	log_with_time = on;
}
