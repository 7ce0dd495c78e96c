/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading a hash map's element through the pointer a lookup returned. An update or delete
 * of that key frees the element, and the kernel may hand it at once to the next insert, of
 * any key, while the reader still reads it (docs/datapath.md, "Map elements under
 * readers"). A value that holds its own key (midox_filter_v2, midox_allow_v2,
 * midox_arp_v2) is read so: first what the reader uses, copied out, then the key, compared
 * with the key looked up; another key's is a miss. */
#ifndef MX_BPF_ELEM_H
#define MX_BPF_ELEM_H

/* Between the copies and the key's load: the compiler moves no load across it, so the key
 * is read after everything the reader uses. */
#define elem_key_after_copy() asm volatile("" ::: "memory")

#endif
