/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal TAP output for the unit tests: "ok N - name" / "not ok N - name" and a plan
 * at the end; tap_done() is the exit status. */
#ifndef MIDOX_TEST_TAP_H
#define MIDOX_TEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

/* A diagnostic line, shown under a failure. */
#define tap_diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"), fflush(stdout))

/* tap_ok, with why as a diagnostic line under a failure (when why is not empty). */
static inline bool tap_check(bool cond, const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond && why && *why)
		tap_diag("%s", why);
	return cond;
}

/* The whole test skipped, e.g. for want of privileges: an empty plan. */
static inline int tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

/* Stop the whole test: nothing after this can be trusted. The exit status. */
static inline int tap_bail(const char *why)
{
	printf("Bail out! %s\n", why);
	return 1;
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
