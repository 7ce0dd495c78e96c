/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's settings: a small key=value file, then environment overrides. */
#ifndef MIDOX_AGENT_CONFIG_H
#define MIDOX_AGENT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "midox/conntrack.h"

#define AGENT_CONFIG_DEFAULT "/etc/midox/agent.conf"

struct agent_config {
	char zk_servers[256];     /* zookeeper_servers, MIDOX_ZK_SERVERS */
	char tunnel_if[16];       /* tunnel_interface, MIDOX_TUNNEL_IF */
	char host_id_file[256];   /* host_id_file, MIDOX_HOST_ID_FILE */
	char host_name[64];       /* host_name, MIDOX_HOST_NAME; default: hostname */
	char pin_root[256];       /* pin_root, MIDOX_PIN_ROOT */
	char bpf_object[256];     /* bpf_object, MIDOX_BPF_OBJECT; "": the embedded object */
	uint16_t vxlan_port;      /* vxlan_port, MIDOX_VXLAN_PORT */
	int session_timeout_ms;   /* zookeeper_session_timeout_ms, MIDOX_ZK_SESSION_TIMEOUT_MS */
	int mac_age_s;            /* mac_age_seconds, MIDOX_MAC_AGE_SECONDS */
	char credentials_file[256]; /* zookeeper_credentials_file, MIDOX_CREDENTIALS; "": none */
	char metrics_address[64]; /* metrics_address, MIDOX_METRICS_ADDRESS; "": no metrics */
	char bgp_run_dir[256];    /* bgp_run_dir, MIDOX_BGP_RUN_DIR: BIRD's files, per port */
	int bgp_max_routes;       /* bgp_max_routes, MIDOX_BGP_MAX_ROUTES: learned, per port */
	int ct_max_entries;       /* conntrack_max_entries, MIDOX_CT_MAX_ENTRIES: midox_ct's size */
	int ct_sweep_ms;          /* conntrack_sweep_interval_ms, MIDOX_CT_SWEEP_INTERVAL_MS */
	int nat_block_idle_ms;    /* nat_block_idle_ms, MIDOX_NAT_BLOCK_IDLE_MS: a SNAT port block unused
				   * this long is given back (docs/nat.md) */
	/* conntrack_timeout_<state> (MIDOX_CT_TIMEOUT_<STATE>), seconds, by enum mx_ct_state;
	 * 0: the kernel's default (include/midox/conntrack.h) */
	int ct_timeout_s[MX_CT_STATE__MAX];
	/* underlay_xdp, MIDOX_UNDERLAY_XDP: VXLAN to local ports delivered from XDP on the
	 * tunnel interface (docs/datapath.md, "XDP on the underlay"); default off */
	bool underlay_xdp;
};

/* Defaults, then path (a missing default file is fine, a missing named one is not), then
 * the environment. Errors name the file, line and key. */
int agent_config_load(struct agent_config *cfg, const char *path, int path_is_explicit);

#endif
