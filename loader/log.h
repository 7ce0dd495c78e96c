/* SPDX-License-Identifier: Apache-2.0 */
/* One logger for every user-space part; libbpf's messages go through it too. */
#ifndef MIDOX_LOG_H
#define MIDOX_LOG_H

enum mx_log_level { MX_LOG_ERROR, MX_LOG_WARN, MX_LOG_INFO, MX_LOG_DEBUG };

/* Messages at or below level go to stderr, prefixed with the program name. */
void mx_log_init(const char *prog, enum mx_log_level level);
void mx_log_set_level(enum mx_log_level level);
void mx_log(enum mx_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mx_err(...) mx_log(MX_LOG_ERROR, __VA_ARGS__)
#define mx_warn(...) mx_log(MX_LOG_WARN, __VA_ARGS__)
#define mx_info(...) mx_log(MX_LOG_INFO, __VA_ARGS__)
#define mx_debug(...) mx_log(MX_LOG_DEBUG, __VA_ARGS__)

#endif
