// SPDX-License-Identifier: Apache-2.0
/* The logger: one line per message on stderr, "prog: level: text". libbpf's own messages
 * come through it once mx_log_init has run. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "log.h"

static const char *log_prog = "midox";
static enum mx_log_level log_level = MX_LOG_INFO;

static const char *const level_names[] = {
	[MX_LOG_ERROR] = "error",
	[MX_LOG_WARN] = "warning",
	[MX_LOG_INFO] = "info",
	[MX_LOG_DEBUG] = "debug",
};

static void log_vprint(enum mx_log_level level, const char *fmt, va_list ap)
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
	log_vprint(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum mx_log_level ours = level == LIBBPF_WARN ? MX_LOG_WARN :
				 level == LIBBPF_INFO ? MX_LOG_INFO : MX_LOG_DEBUG;

	/* libbpf is chatty at info level; keep its info at our debug unless it is a warning. */
	if (ours == MX_LOG_INFO)
		ours = MX_LOG_DEBUG;
	log_vprint(ours, fmt, ap);
	return 0;
}

void mx_log_init(const char *prog, enum mx_log_level level)
{
	log_prog = prog;
	log_level = level;
	libbpf_set_print(libbpf_print);
}

void mx_log_set_level(enum mx_log_level level)
{
	log_level = level;
}
