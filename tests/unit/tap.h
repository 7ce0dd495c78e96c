/* SPDX-License-Identifier: Apache-2.0 */
/* Minimal TAP output for the unit tests: "ok N - name" / "not ok N - name" and a plan
 * at the end; tap_done() is the exit status. */
#ifndef MIDOX_TEST_TAP_H
#define MIDOX_TEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_count, tap_failed;

static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* A diagnostic line, shown under a failure. */
#define tap_diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
