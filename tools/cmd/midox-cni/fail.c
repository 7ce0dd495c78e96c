// SPDX-License-Identifier: Apache-2.0
/* The command's error: the first failure recorded (what an undo meets later is logged, not
 * reported), printed as the specification's JSON. Its own file, so that unit tests link it
 * without main.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cni.h"

static struct {
	bool set;
	int code;
	char msg[1024];
} failure;

int cni_fail(int err, int code, const char *fmt, ...)
{
	va_list ap;

	if (failure.set)
		return err;
	failure.set = true;
	failure.code = code;
	va_start(ap, fmt);
	vsnprintf(failure.msg, sizeof(failure.msg), fmt, ap);
	va_end(ap);
	return err;
}

bool cni_failed(void)
{
	return failure.set;
}

int cni_fail_code(void)
{
	return failure.code;
}

const char *cni_fail_msg(void)
{
	return failure.msg;
}

void cni_fail_reset(void)
{
	memset(&failure, 0, sizeof(failure));
}

void cni_fail_set_code(int code)
{
	failure.code = code;
}

void cni_print_error(const char *version)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "cniVersion",
			      version && cni_version_ok(version) ? version : "1.1.0",
			      "code", failure.code, "msg", failure.msg);

	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}
