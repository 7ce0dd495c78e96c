// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "midox/common.h"
#include "base/log.h"
#include "config.h"
#include "http.h"

/* FIELD_LISTEN: "" (off) or an address to listen on, IPv4:PORT or [IPv6]:PORT.
 * FIELD_SWITCH: "on" or "off", into a bool. */
enum field_kind { FIELD_STRING, FIELD_PORT, FIELD_INT, FIELD_LISTEN, FIELD_SWITCH };

struct field {
	const char *key;
	const char *env;
	enum field_kind kind;
	size_t offset;
	size_t size;
};

#define STRING_FIELD(k, e, m) { k, e, FIELD_STRING, offsetof(struct agent_config, m), \
				sizeof(((struct agent_config *)0)->m) }

/* Where a connection-tracking state's timeout is (seconds; 0, unset: the default). */
#define CT_TIMEOUT(state) (offsetof(struct agent_config, ct_timeout_s) + (state) * sizeof(int))

static const struct field fields[] = {
	STRING_FIELD("zookeeper_servers", "MIDOX_ZK_SERVERS", zk_servers),
	STRING_FIELD("tunnel_interface", "MIDOX_TUNNEL_IF", tunnel_if),
	STRING_FIELD("host_id_file", "MIDOX_HOST_ID_FILE", host_id_file),
	STRING_FIELD("host_name", "MIDOX_HOST_NAME", host_name),
	STRING_FIELD("pin_root", "MIDOX_PIN_ROOT", pin_root),
	STRING_FIELD("bpf_object", "MIDOX_BPF_OBJECT", bpf_object),
	{ "vxlan_port", "MIDOX_VXLAN_PORT", FIELD_PORT, offsetof(struct agent_config, vxlan_port), 0 },
	{ "zookeeper_session_timeout_ms", "MIDOX_ZK_SESSION_TIMEOUT_MS", FIELD_INT,
	  offsetof(struct agent_config, session_timeout_ms), 0 },
	{ "mac_age_seconds", "MIDOX_MAC_AGE_SECONDS", FIELD_INT,
	  offsetof(struct agent_config, mac_age_s), 0 },
	STRING_FIELD("zookeeper_credentials_file", "MIDOX_CREDENTIALS", credentials_file),
	STRING_FIELD("bgp_run_dir", "MIDOX_BGP_RUN_DIR", bgp_run_dir),
	{ "bgp_max_routes", "MIDOX_BGP_MAX_ROUTES", FIELD_INT,
	  offsetof(struct agent_config, bgp_max_routes), 0 },
	{ "conntrack_max_entries", "MIDOX_CT_MAX_ENTRIES", FIELD_INT,
	  offsetof(struct agent_config, ct_max_entries), 0 },
	{ "conntrack_sweep_interval_ms", "MIDOX_CT_SWEEP_INTERVAL_MS", FIELD_INT,
	  offsetof(struct agent_config, ct_sweep_ms), 0 },
	{ "conntrack_timeout_tcp_syn_sent", "MIDOX_CT_TIMEOUT_TCP_SYN_SENT", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_SYN_SENT), 0 },
	{ "conntrack_timeout_tcp_syn_recv", "MIDOX_CT_TIMEOUT_TCP_SYN_RECV", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_SYN_RECV), 0 },
	{ "conntrack_timeout_tcp_established", "MIDOX_CT_TIMEOUT_TCP_ESTABLISHED", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_ESTABLISHED), 0 },
	{ "conntrack_timeout_tcp_fin_wait", "MIDOX_CT_TIMEOUT_TCP_FIN_WAIT", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_FIN_WAIT), 0 },
	{ "conntrack_timeout_tcp_time_wait", "MIDOX_CT_TIMEOUT_TCP_TIME_WAIT", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_TIME_WAIT), 0 },
	{ "conntrack_timeout_tcp_close", "MIDOX_CT_TIMEOUT_TCP_CLOSE", FIELD_INT,
	  CT_TIMEOUT(MX_CT_TCP_CLOSE), 0 },
	{ "conntrack_timeout_udp", "MIDOX_CT_TIMEOUT_UDP", FIELD_INT,
	  CT_TIMEOUT(MX_CT_UDP), 0 },
	{ "conntrack_timeout_udp_stream", "MIDOX_CT_TIMEOUT_UDP_STREAM", FIELD_INT,
	  CT_TIMEOUT(MX_CT_UDP_STREAM), 0 },
	{ "conntrack_timeout_icmp", "MIDOX_CT_TIMEOUT_ICMP", FIELD_INT,
	  CT_TIMEOUT(MX_CT_ICMP), 0 },
	{ "nat_block_idle_ms", "MIDOX_NAT_BLOCK_IDLE_MS", FIELD_INT,
	  offsetof(struct agent_config, nat_block_idle_ms), 0 },
	{ "metrics_address", "MIDOX_METRICS_ADDRESS", FIELD_LISTEN,
	  offsetof(struct agent_config, metrics_address),
	  sizeof(((struct agent_config *)0)->metrics_address) },
	{ "underlay_xdp", "MIDOX_UNDERLAY_XDP", FIELD_SWITCH,
	  offsetof(struct agent_config, underlay_xdp), 0 },
};

static void config_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->zk_servers, sizeof(cfg->zk_servers), "127.0.0.1:2181");
	snprintf(cfg->host_id_file, sizeof(cfg->host_id_file), "/var/lib/midox/host_uuid");
	snprintf(cfg->pin_root, sizeof(cfg->pin_root), "%s", MX_PIN_ROOT_DEFAULT);
	snprintf(cfg->bgp_run_dir, sizeof(cfg->bgp_run_dir), "/run/midox/bgp");
	if (gethostname(cfg->host_name, sizeof(cfg->host_name)) < 0)
		snprintf(cfg->host_name, sizeof(cfg->host_name), "localhost");
	cfg->host_name[sizeof(cfg->host_name) - 1] = '\0';
	cfg->vxlan_port = MX_VXLAN_PORT_DEFAULT;
	cfg->session_timeout_ms = 10000;
	cfg->mac_age_s = 300;
	cfg->bgp_max_routes = 100000;
	cfg->ct_max_entries = MX_CT_MAX_ENTRIES_DEFAULT;
	cfg->ct_sweep_ms = 5000;
	cfg->nat_block_idle_ms = 300000; /* MidoNet's: a block unused 5 minutes is freed */
}

static int parse_long(const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int field_set(struct agent_config *cfg, const struct field *f, const char *value)
{
	char *base = (char *)cfg + f->offset;
	long v;

	switch (f->kind) {
	case FIELD_STRING:
		if (!*value || strlen(value) >= f->size)
			return -EINVAL;
		memcpy(base, value, strlen(value) + 1);
		return 0;
	case FIELD_PORT:
		if (parse_long(value, 1, 65535, &v))
			return -EINVAL;
		*(uint16_t *)base = (uint16_t)v;
		return 0;
	case FIELD_INT:
		if (parse_long(value, 1, 86400000, &v))
			return -EINVAL;
		*(int *)base = (int)v;
		return 0;
	case FIELD_LISTEN:
		if (strlen(value) >= f->size || (*value && http_address_parse(value, NULL)))
			return -EINVAL;
		memcpy(base, value, strlen(value) + 1);
		return 0;
	case FIELD_SWITCH:
		if (strcmp(value, "on") && strcmp(value, "off"))
			return -EINVAL;
		*(bool *)base = !strcmp(value, "on");
		return 0;
	}
	return -EINVAL;
}

/* What a bad value of f should have been, for its error line. */
static const char *field_hint(const struct field *f)
{
	if (f->kind == FIELD_LISTEN)
		return ": expected IPv4:PORT or [IPv6]:PORT (e.g. 127.0.0.1:9464, [::1]:9464), "
		       "or empty for no metrics";
	if (f->kind == FIELD_SWITCH)
		return ": expected on or off";
	return "";
}

static const struct field *field_find(const char *key)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].key, key))
			return &fields[i];
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int config_parse_line(struct agent_config *cfg, const char *path, int lineno, char *line)
{
	const struct field *f;
	char *eq, *key, *value;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		mx_err("%s:%d: expected key=value", path, lineno);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	f = field_find(key);
	if (!f) {
		mx_err("%s:%d: unknown key '%s'", path, lineno, key);
		return -EINVAL;
	}
	if (field_set(cfg, f, value)) {
		mx_err("%s:%d: bad value '%s' for %s%s", path, lineno, value, key, field_hint(f));
		return -EINVAL;
	}
	return 0;
}

static int config_read_file(struct agent_config *cfg, const char *path, int must_exist)
{
	char line[512];
	int lineno = 0, err = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		err = -errno;
		mx_err("cannot read %s: %s", path, strerror(errno));
		return err;
	}
	while (!err && fgets(line, sizeof(line), f))
		err = config_parse_line(cfg, path, ++lineno, line);
	fclose(f);
	return err;
}

static int config_read_env(struct agent_config *cfg)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *value = getenv(fields[i].env);

		if (!value)
			continue;
		if (field_set(cfg, &fields[i], value)) {
			mx_err("bad value '%s' in %s%s", value, fields[i].env, field_hint(&fields[i]));
			return -EINVAL;
		}
	}
	return 0;
}

int agent_config_load(struct agent_config *cfg, const char *path, int path_is_explicit)
{
	int err;

	config_defaults(cfg);
	err = config_read_file(cfg, path, path_is_explicit);
	if (err)
		return err;
	err = config_read_env(cfg);
	if (err)
		return err;
	if (!cfg->tunnel_if[0]) {
		mx_err("no tunnel interface: set tunnel_interface in %s or MIDOX_TUNNEL_IF", path);
		return -EINVAL;
	}
	return 0;
}
