// SPDX-License-Identifier: Apache-2.0
/* Errors: negative errno for the program, one line of text for the user. */
#include <errno.h>
#include <stdio.h>

#include "topo_impl.h"

static __thread char errmsg[TOPO_ERR_MAX];

const char *topo_errmsg(void)
{
	return errmsg;
}

int topo_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	return err;
}

int topo_zerr(int zrc)
{
	switch (zrc) {
	case ZOK:
		return 0;
	case ZNONODE:
		return -ENOENT;
	case ZNODEEXISTS:
		return -EEXIST;
	case ZBADVERSION:
		return -EAGAIN;
	case ZNOTEMPTY:
		return -ENOTEMPTY;
	case ZCONNECTIONLOSS:
	case ZOPERATIONTIMEOUT:
		return -ETIMEDOUT;
	case ZSESSIONEXPIRED:
		return -ESTALE;
	case ZNOAUTH:
	case ZAUTHFAILED:
		return -EACCES;
	case ZBADARGUMENTS:
		return -EINVAL;
	case ZSYSTEMERROR:
		return -errno ? -errno : -EIO;
	case ZINVALIDSTATE:
	case ZCLOSING:
		return -ESTALE;
	default:
		return -EIO;
	}
}

const char *topo_zerr_text(int zrc)
{
	return zerror(zrc);
}
