// SPDX-License-Identifier: Apache-2.0
/* The logger: one line per message on stderr, "prog: level: text". */
#include <stdio.h>
#include <string.h>

#include "base/log.h"

static const char *log_prog = "midox";
static enum mx_log_level log_level = MX_LOG_INFO;

static const char *const level_names[] = {
	[MX_LOG_ERROR] = "error",
	[MX_LOG_WARN] = "warning",
	[MX_LOG_INFO] = "info",
	[MX_LOG_DEBUG] = "debug",
};

void mx_vlog(enum mx_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	if (level > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], line);
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
