/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the topology library: codec.c's JSON helpers, for the codecs of other files
 * (chain_codec.c). Each as its static twin in codec.c: a missing or bad field fails with
 * -EINVAL and the reason set; get_str returns 1 when present, 0 when absent (optional). */
#ifndef MIDOX_TOPO_CODEC_IMPL_H
#define MIDOX_TOPO_CODEC_IMPL_H

#include <jansson.h>

#include "topo_impl.h"

json_t *codec_load(const char *buf, size_t len);
json_t *codec_load_id(const char *buf, size_t len, const char *name, char id[TOPO_ID_LEN]);
int codec_get_str(json_t *o, const char *key, char *dst, size_t size, bool required);
int codec_get_name(json_t *o, char name[TOPO_NAME_MAX]);
int codec_get_uuid(json_t *o, const char *key, char id[TOPO_ID_LEN]);
int codec_get_uint(json_t *o, const char *key, uint32_t min, uint32_t max, uint32_t *out);
int codec_get_bool(json_t *o, const char *key, bool *out);
/* Adds "schema" and serialises compact with sorted keys; o is consumed. */
char *codec_dump(json_t *o);

#endif
