// SPDX-License-Identifier: Apache-2.0
/* The agent's interface-name cache (agent/ifnames.c): each name asked of the kernel once
 * until a link event, the answers right (found, missing, too long), past its growth. The
 * kernel's answer is this file's if_nametoindex, which the cache's call binds to: it
 * counts the questions and answers from a table the test changes. */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "agent/ifnames.h"
#include "tap.h"

static unsigned int asked;
static const char *links[8] = { "eth0", "vm1", "vm2" }; /* index = position + 2 */

unsigned int if_nametoindex(const char *name)
{
	asked++;
	for (unsigned int i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (links[i] && !strcmp(links[i], name))
			return i + 2;
	return 0;
}

int main(void)
{
	struct ifnames c = { 0 };
	char name[IF_NAMESIZE];
	bool ok = true;

	tap_ok(ifnames_index(&c, "vm1") == 3 && ifnames_index(&c, "vm2") == 4 && asked == 2,
	       "each name asked of the kernel, its index answered");
	tap_ok(ifnames_index(&c, "vm1") == 3 && ifnames_index(&c, "vm2") == 4 && asked == 2,
	       "asked again: answered from the cache, the kernel not asked");
	tap_ok(ifnames_index(&c, "vm9") == 0 && ifnames_index(&c, "vm9") == 0 && asked == 3,
	       "a missing interface: 0, and the answer kept too");
	tap_ok(ifnames_index(&c, "a-name-of-16-chr") == 0 && ifnames_index(&c, "") == 0 &&
		       asked == 3,
	       "a name too long for an interface, or empty: 0, the kernel not asked");
	/* A link event: vm1 deleted, vm9 made at vm1's old place. */
	links[1] = "vm9";
	tap_ok(ifnames_index(&c, "vm1") == 3 && ifnames_index(&c, "vm9") == 0,
	       "before the link event is seen the old answers stand");
	ifnames_forget(&c);
	tap_ok(ifnames_index(&c, "vm1") == 0 && ifnames_index(&c, "vm9") == 3 && asked == 5,
	       "after ifnames_forget each name is asked again: vm1 gone, vm9 found");
	/* Past the first room (64 slots, half full at most): 500 names, then all of them
	 * again from the cache, with the answers above still there. */
	asked = 0;
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "tap%d", i);
		ok &= ifnames_index(&c, name) == 0;
	}
	links[7] = "tap499";
	ifnames_forget(&c);
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "tap%d", i);
		ok &= ifnames_index(&c, name) == (i == 499 ? 9 : 0);
	}
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "tap%d", i);
		ok &= ifnames_index(&c, name) == (i == 499 ? 9 : 0);
	}
	tap_check(ok && asked == 1000 && c.n == 500 && c.cap == 1024, "",
		  "500 names, the table grown from 64 slots to 1024: each asked once between events (asked %u, held "
		  "%zu of %zu slots)", asked, c.n, c.cap);
	tap_ok(ifnames_index(&c, "eth0") == 2 && ifnames_index(&c, "vm9") == 3,
	       "the table still answers after growing");
	ifnames_free(&c);
	tap_ok(!c.slot && !c.n && !c.cap && ifnames_index(&c, "vm2") == 4,
	       "freed, it starts again empty");
	ifnames_free(&c);
	return tap_done();
}
