/* SPDX-License-Identifier: Apache-2.0 */
/* Rule chains, their rules, port groups and IP address groups as the snapshot holds them
 * (docs/chains.md, docs/zookeeper.md). Included by topology.h; the operations on them are
 * in chains.h. */
#ifndef MIDOX_TOPOLOGY_CHAIN_MODEL_H
#define MIDOX_TOPOLOGY_CHAIN_MODEL_H

/* MidoNet's rule types. */
enum topo_rule_type {
	TOPO_RULE_ACCEPT = 1,
	TOPO_RULE_DROP,
	TOPO_RULE_REJECT,	/* ICMP administratively prohibited, or a TCP RST for TCP */
	TOPO_RULE_CONTINUE,
	TOPO_RULE_JUMP,		/* to jump_id, coming back on its end or a return */
	TOPO_RULE_RETURN,
	TOPO_RULE_SNAT,
	TOPO_RULE_DNAT,
	TOPO_RULE_REV_SNAT,
	TOPO_RULE_REV_DNAT,
	TOPO_RULE_TYPE__MAX,
};

/* What a NAT rule does once it has translated: accept (the default), continue, return. */
enum topo_rule_action {
	TOPO_ACTION_NONE = 0,	/* not a NAT rule */
	TOPO_ACTION_ACCEPT,
	TOPO_ACTION_CONTINUE,
	TOPO_ACTION_RETURN,
};

/* Which IPv4 fragments a rule matches (MidoNet's FragmentPolicy): any; header (an
 * unfragmented packet or a first fragment); nonheader (a later fragment); unfragmented. */
enum topo_frag_policy {
	TOPO_FRAG_ANY = 1,
	TOPO_FRAG_HEADER,
	TOPO_FRAG_NONHEADER,
	TOPO_FRAG_UNFRAGMENTED,
};

/* Connection tracking: a packet opening or continuing a connection seen forward
 * (fwd-flow), or one of its replies (return-flow). */
enum topo_flow_match {
	TOPO_FLOW_ANY = 0,
	TOPO_FLOW_FWD,
	TOPO_FLOW_RETURN,
};

/* The conditions that may be inverted ("!"): one bit each in topo_rule_cond.has and .inv. */
enum topo_cond {
	TOPO_COND_HW_SRC,
	TOPO_COND_HW_DST,
	TOPO_COND_ETHERTYPE,
	TOPO_COND_SRC,
	TOPO_COND_DST,
	TOPO_COND_PROTO,
	TOPO_COND_TOS,
	TOPO_COND_SRC_PORT,
	TOPO_COND_DST_PORT,
	TOPO_COND_IN_PORTS,
	TOPO_COND_OUT_PORTS,
	TOPO_COND_PORT_GROUP,
	TOPO_COND_IN_PORT_GROUP,
	TOPO_COND_OUT_PORT_GROUP,
	TOPO_COND_IPG_SRC,
	TOPO_COND_IPG_DST,
	TOPO_COND__MAX,
};

#define TOPO_RULE_MAX_PORTS 8	/* ports of one in-ports or out-ports */
#define TOPO_CHAIN_MAX_RULES 1000	/* rules of one chain */

struct topo_port_range {
	uint16_t from, to;	/* 1..65535, from <= to */
};

/* A rule's match: each condition in has (by enum topo_cond) holds, or fails when its bit
 * in inv is set; fragment policy and flow are never inverted (MidoNet's). */
struct topo_rule_cond {
	uint32_t has, inv;
	uint8_t hw_src[6], hw_dst[6];
	uint16_t ethertype;
	struct topo_cidr src, dst;	/* no host bits */
	uint8_t proto, tos;
	struct topo_port_range src_port, dst_port;
	char in_ports[TOPO_RULE_MAX_PORTS][TOPO_ID_LEN];
	size_t n_in_ports;
	char out_ports[TOPO_RULE_MAX_PORTS][TOPO_ID_LEN];
	size_t n_out_ports;
	char port_group[TOPO_ID_LEN], in_port_group[TOPO_ID_LEN], out_port_group[TOPO_ID_LEN];
	char ipg_src[TOPO_ID_LEN], ipg_dst[TOPO_ID_LEN];
	enum topo_frag_policy frag;	/* always set: the default resolved when written */
	enum topo_flow_match flow;
};

/* A NAT target A[-B][:P1[-P2]]: addresses from..to, ports (0: none given, the packet's). */
struct topo_nat_target {
	struct in_addr from, to;
	uint16_t port_from, port_to;
};

struct topo_rule {
	char id[TOPO_ID_LEN];
	char chain_id[TOPO_ID_LEN];
	uint32_t pos;	/* 1..: its place in the chain (rules are kept dense: 1, 2, 3 ...) */
	enum topo_rule_type type;
	enum topo_rule_action action;	/* NAT rules only */
	char jump_id[TOPO_ID_LEN];	/* jump rules: the chain jumped to */
	bool has_target;		/* snat and dnat */
	struct topo_nat_target target;
	struct topo_rule_cond cond;
	int64_t czxid;
	int32_t version;
	size_t ordinal;	/* the N of "chain0:ruleN": creation order within its chain */
};

struct topo_chain {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	int64_t czxid;
	int32_t version;
};

struct topo_port_group {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	bool stateful;	/* connection state shared by its members (MidoNet's stateful groups) */
	int64_t czxid;
	int32_t version;
};

struct topo_pg_member {
	char group_id[TOPO_ID_LEN];
	char port_id[TOPO_ID_LEN];
	int64_t czxid;
	int32_t version;
};

struct topo_ip_group {
	char id[TOPO_ID_LEN];
	char name[TOPO_NAME_MAX];
	int64_t czxid;
	int32_t version;
};

struct topo_ip_group_addr {
	char group_id[TOPO_ID_LEN];
	struct in_addr addr;
	int64_t czxid;
	int32_t version;
};

#endif
