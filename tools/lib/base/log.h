/* SPDX-License-Identifier: Apache-2.0 */
/* One logger for every user-space part. It depends on nothing: the loader routes libbpf's
 * messages into it (loader/libbpf_log.c), the object model and the CLI log without libbpf. */
#ifndef MIDOX_BASE_LOG_H
#define MIDOX_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum mx_log_level { MX_LOG_ERROR, MX_LOG_WARN, MX_LOG_INFO, MX_LOG_DEBUG };

/* Messages at or below level go to stderr, prefixed with the program name. */
void mx_log_init(const char *prog, enum mx_log_level level);
void mx_log_set_level(enum mx_log_level level);
/* Prefix each line with the UTC time, "2026-12-02T19:30:01.123Z prog level: text": for a
 * daemon's log. A command's one-line errors ("midox: error: ...") go without. */
void mx_log_set_time(bool on);
void mx_log(enum mx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mx_vlog(enum mx_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define mx_err(...) mx_log(MX_LOG_ERROR, __VA_ARGS__)
#define mx_warn(...) mx_log(MX_LOG_WARN, __VA_ARGS__)
#define mx_info(...) mx_log(MX_LOG_INFO, __VA_ARGS__)
#define mx_debug(...) mx_log(MX_LOG_DEBUG, __VA_ARGS__)

#endif
