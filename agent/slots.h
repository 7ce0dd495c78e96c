/* SPDX-License-Identifier: Apache-2.0 */
/* Counter slots: each port of the datapath's midox_port_v2 gets a row of the per-CPU array
 * midox_traffic (its stats_slot), so that the packet path counts rx/tx without a hash
 * lookup. The agent assigns them: a port keeps its slot for as long as it is in the maps,
 * across passes and restarts (the assignment is read back from the pinned midox_port_v2 at
 * start: the pins are the record, nothing else is kept); a slot freed by a port that went
 * away is given out again no earlier than the next pass, and zeroed on every CPU first.
 * Ports bound here are served first; past MX_TRAFFIC_SLOTS - 1 ports the rest get none and
 * are counted in midox_stats as before. */
#ifndef MIDOX_AGENT_SLOTS_H
#define MIDOX_AGENT_SLOTS_H

#include <stdbool.h>
#include <stddef.h>

#include "loader/loader.h"

struct slot_pair {
	__u32 port_key;
	__u32 slot;
};

struct stats_slots {
	struct slot_pair *pairs; /* the ports' slots after the last pass, sorted by port key */
	size_t n;
	unsigned char *used;     /* MX_TRAFFIC_SLOTS flags; slot 0 (the host's) always set */
	__u32 *released;         /* slots freed by the last pass: free from the next one on */
	size_t n_released;
	__u32 next;              /* where the search for a free slot resumes */
	bool hold;               /* the last pass's sync failed: released stay taken */
};

/* Empty, or (dp not NULL) as the pinned midox_port_v2 of dp records it. */
int slots_init(struct stats_slots *s, struct mx_datapath *dp);
void slots_free(struct stats_slots *s);

/* Every port of ports (MX_MAP_ID_PORT's desired entries: key __u32, value struct mx_port)
 * and every copy of one in ifports (MX_MAP_ID_IFPORT's) gets its slot in stats_slot. A slot
 * new to a port is zeroed in dp's midox_traffic first (dp NULL: nothing is written, as
 * --verify needs). */
int slots_assign(struct stats_slots *s, struct mx_datapath *dp, size_t n_ports,
		 const __u32 *port_keys, struct mx_port *ports, size_t n_ifports,
		 struct mx_ifport *ifports);

struct desired;
/* slots_assign over a desired state's ports and interfaces (agent/desired.h), then the
 * hints of where midox_portslot holds a port's copy: each MAC-table entry given its port's
 * slot (mx_fdb_entry.port_slot), each interior port its peer's (mx_port.peer_slot), each
 * route's next hop its egress port's (mx_nexthop.port_slot). */
int slots_assign_desired(struct stats_slots *s, struct mx_datapath *dp, struct desired *d);

/* The sync after the last slots_assign failed: the pins may still name the slots it released,
 * so they stay taken until a pass whose sync succeeds. */
void slots_hold(struct stats_slots *s);

/* The slot of port_key after the last slots_assign, 0 for none. */
__u32 slots_lookup(const struct stats_slots *s, __u32 port_key);

#endif
