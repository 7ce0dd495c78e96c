/* SPDX-License-Identifier: Apache-2.0 */
/* Inside topo_read: the three jobs and what joins them. fetch.c fetches nodes from ZooKeeper
 * (through the handle's mirror) and decodes each kind of object into the snapshot; read.c
 * says which kinds there are and where (the shape of the tree) and reads them all;
 * snapshot.c normalises what was read (order, one owner per tunnel key, references that
 * resolve, ordinals, indexes). */
#ifndef MIDOX_TOPO_READER_H
#define MIDOX_TOPO_READER_H

#include "topo_impl.h"

/* One read of the tree in progress: the node at hand (path, data, stat). */
struct reader {
	zhandle_t *zh;
	struct topo_mirror *m;	/* NULL: no mirror, nothing watched */
	watcher_fn watcher;
	struct topology *t;
	char path[TOPO_PATH_MAX];
	char buf[TOPO_DATA_MAX];
	int len;
	struct Stat st;
};

/* One kind of object: where its znodes are, how a node (name and data) decodes, where
 * it goes in the snapshot, and what to read below each one. */
struct kind {
	const char *dir;	/* path of the parent: a format given the parent's id */
	topo_decode_fn *decode;	/* the identity in the node's name included */
	size_t size;
	size_t parent_off;	/* where the parent's id goes (SIZE_MAX: none) */
	size_t czxid_off, version_off; /* version_off SIZE_MAX: not kept */
	size_t arr_off, n_off;	/* the array and its count in struct topology */
	size_t dir_version_off;	/* where dir's version goes in struct topology (SIZE_MAX: not kept) */
	int (*below)(struct reader *r, void *obj);	   /* NULL: nothing */
};

#define FIELD(obj, off, type) ((type *)((char *)(obj) + (off)))

/* Set r->path; returns it. */
const char *rpath(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log r->path as left out, and why; count it in n_skipped. */
void skip(struct reader *r, const char *why);
/* Read r->path into r->buf. 0, 1 to skip it (gone, or too large), or a negative errno. */
int fetch_data(struct reader *r);
/* Whether r->path exists (watched while absent too). 0 or a negative errno. */
int fetch_exists(struct reader *r, bool *yes);
/* The children of a directory: the mirror's (sv points into it) or the reader's own; the
 * directory's data and children versions (-1 when it is missing). */
struct listing {
	struct String_vector own;
	const struct String_vector *sv;
	int32_t version, cversion;
};

/* List r->path. 0, 1 when it is missing (nothing listed), or a negative errno. */
int fetch_listing(struct reader *r, struct listing *l);
void listing_free(struct listing *l);
/* The objects of kind k l names, in the directory dir of parent, into the snapshot. */
int fetch_listed(struct reader *r, const struct kind *k, const char *parent, const char *dir,
		 const struct listing *l);
/* r->path's data whole, up to TOPO_INDEX_MAX, in *value (the caller's to free). 0, 1 when
 * it is gone or larger, or a negative errno. */
int fetch_blob(struct reader *r, char **value, int *len, struct Stat *st);
/* The bindings of host h (kind k) into the snapshot, from its index when that is current
 * (binding_index.c), else node by node; sets h->bindings_cversion. */
int fetch_bindings(struct reader *r, const struct kind *k, struct topo_host *h);
/* Every object of kind k under the parent ("" for the top level) into the snapshot, and
 * what is below each one. 0 (what does not decode is skipped) or a negative errno. */
int fetch_kind(struct reader *r, const struct kind *k, const char *parent);

/* What was read is then normalised by topo_normalise (snapshot.c, topology.h). */

#endif
