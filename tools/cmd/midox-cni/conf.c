// SPDX-License-Identifier: Apache-2.0
/* The runtime's environment variables and the network configuration on stdin, checked
 * before anything is touched: a bad value is one clear error with the specification's
 * code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "midox/common.h"

static const char *const versions[] = { "1.0.0", "1.1.0", NULL };

bool cni_version_ok(const char *v)
{
	for (size_t i = 0; versions[i]; i++)
		if (!strcmp(v, versions[i]))
			return true;
	return false;
}

static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int cni_env_read(struct cni_env *e)
{
	e->command = env_get("CNI_COMMAND");
	e->container_id = env_get("CNI_CONTAINERID");
	e->netns = env_get("CNI_NETNS");
	e->ifname = env_get("CNI_IFNAME");
	e->path = env_get("CNI_PATH");
	if (!e->command)
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_COMMAND is not set (ADD, DEL, CHECK, "
				"GC, STATUS or VERSION)");
	return 0;
}

/* The specification: letters, digits, '_', '.', '-', starting with a letter or digit. */
static bool valid_container_id(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	if (strlen(s) >= sizeof(((struct cni_state *)0)->container_id))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	       strlen(s);
}

/* What each command needs: ADD and CHECK everything, DEL all but the namespace (it may be
 * gone), GC only CNI_PATH, STATUS nothing (the specification; without CNI_PATH it reports
 * the IPAM plugin not found). */
int cni_env_require(const struct cni_env *e)
{
	bool add = !strcmp(e->command, "ADD"), check = !strcmp(e->command, "CHECK");
	bool del = !strcmp(e->command, "DEL");

	if ((add || check || del) && !e->container_id)
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_CONTAINERID is not set");
	if ((add || check || del) && !valid_container_id(e->container_id))
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_CONTAINERID '%s' is not a container id "
				"(letters, digits, '_', '.', '-')", e->container_id);
	if ((add || check) && !e->netns)
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_NETNS is not set (the pod's network "
				"namespace, e.g. /run/netns/NAME)");
	if ((add || check || del) && !e->ifname)
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_IFNAME is not set");
	if ((add || check || del) && !topo_valid_ifname(e->ifname))
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_IFNAME '%s' is not an interface name "
				"(1 to 15 characters, no '/', ':' or spaces)", e->ifname);
	if (!e->path && strcmp(e->command, "STATUS"))
		return cni_fail(-EINVAL, CNI_ERR_ENV, "CNI_PATH is not set (the folders of the "
				"CNI plugins, such as /opt/cni/bin:/usr/lib/cni)");
	return 0;
}

/* An optional string member: absent leaves *out as it is, another type is an error. */
static int opt_string(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_string(v) || !*json_string_value(v))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"%s\" must be a non-empty string", key);
	*out = json_string_value(v);
	return 0;
}

static int parse_numbers(struct cni_conf *c)
{
	json_t *mtu = json_object_get(c->root, "mtu");
	json_t *wait = json_object_get(c->root, "waitSeconds");
	json_t *create = json_object_get(c->root, "createBridge");

	c->mtu = CNI_DEFAULT_MTU;
	c->wait_s = CNI_DEFAULT_WAIT_S;
	if (mtu && (!json_is_integer(mtu) || json_integer_value(mtu) < 576 ||
		    json_integer_value(mtu) > 65535))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"mtu\" must be an integer from 576 to "
				"65535");
	if (mtu)
		c->mtu = (unsigned int)json_integer_value(mtu);
	if (wait && (!json_is_number(wait) || json_number_value(wait) <= 0 ||
		     json_number_value(wait) > 600))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"waitSeconds\" must be a number of "
				"seconds above 0, at most 600");
	if (wait)
		c->wait_s = json_number_value(wait);
	if (create && !json_is_boolean(create))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"createBridge\" must be true or false");
	c->create_bridge = create && json_is_true(create);
	return 0;
}

/* One of the bandwidth keys (bits per second, bits): absent or a non-negative integer. */
static int bw_key(json_t *o, const char *where, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "%s\"%s\" must be a non-negative integer "
				"(bits per second for a rate, bits for a burst)", where, key);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* A rate and its burst, as the bandwidth plugin takes them: both or neither, within what
 * the datapath (egress) and tbf (ingress: a burst of at most 4 GB) take. */
static int bw_pair(const char *where, const char *dir, uint64_t rate, uint64_t burst,
		   uint64_t burst_max)
{
	if (!rate && !burst)
		return 0;
	if (!rate || !burst)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "%s%sRate and %sBurst go together: set "
				"both or neither", where, dir, dir);
	if (rate < TOPO_RATE_MIN || rate > TOPO_RATE_MAX)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "%s%sRate %llu bit/s is not within "
				"%llu..%llu", where, dir, (unsigned long long)rate,
				TOPO_RATE_MIN, TOPO_RATE_MAX);
	if (burst > burst_max)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "%s%sBurst %llu bits is above %llu",
				where, dir, (unsigned long long)burst, (unsigned long long)burst_max);
	return 0;
}

/* runtimeConfig.bandwidth (the runtime's, per pod) wins over the same keys at the top of
 * the configuration (a default for every pod of the network), as in the bandwidth
 * plugin. */
static int parse_bandwidth(struct cni_conf *c)
{
	json_t *rc_obj = json_object_get(c->root, "runtimeConfig"), *o = c->root;
	const char *where = "";
	int rc;

	if (rc_obj && !json_is_object(rc_obj))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"runtimeConfig\" must be an object");
	if (rc_obj && json_object_get(rc_obj, "bandwidth")) {
		o = json_object_get(rc_obj, "bandwidth");
		where = "runtimeConfig.bandwidth: ";
		if (!json_is_object(o))
			return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"runtimeConfig\".\"bandwidth\" "
					"must be an object");
	}
	rc = bw_key(o, where, "egressRate", &c->egress_rate);
	if (!rc)
		rc = bw_key(o, where, "egressBurst", &c->egress_burst);
	if (!rc)
		rc = bw_key(o, where, "ingressRate", &c->ingress_rate);
	if (!rc)
		rc = bw_key(o, where, "ingressBurst", &c->ingress_burst);
	if (!rc)
		rc = bw_pair(where, "egress", c->egress_rate, c->egress_burst, TOPO_BURST_MAX);
	if (!rc)
		rc = bw_pair(where, "ingress", c->ingress_rate, c->ingress_burst,
			     8ull * UINT32_MAX);
	return rc;
}

static int parse_ipam(struct cni_conf *c)
{
	c->ipam = json_object_get(c->root, "ipam");
	if (!c->ipam)
		return 0;
	if (!json_is_object(c->ipam))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"ipam\" must be an object");
	c->ipam_type = json_string_value(json_object_get(c->ipam, "type"));
	if (!c->ipam_type || !*c->ipam_type || strchr(c->ipam_type, '/'))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"ipam\" needs a \"type\": the IPAM "
				"plugin's name, such as host-local");
	return 0;
}

/* "nodeGateway" (gateway.c) and the name of the node's end, "nodeInterface". */
static int parse_node_gateway(struct cni_conf *c)
{
	json_t *gw = json_object_get(c->root, "nodeGateway");
	int rc;

	c->node_if = CNI_DEFAULT_NODE_IF;
	if (gw && !json_is_boolean(gw))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeGateway\" must be true or false");
	c->node_gateway = gw && json_is_true(gw);
	rc = opt_string(c->root, "nodeInterface", &c->node_if);
	if (!rc && !topo_valid_ifname(c->node_if))
		rc = cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeInterface\" '%s' is not an "
			      "interface name (1 to 15 characters, no '/', ':' or spaces)",
			      c->node_if);
	if (!rc && (!strncmp(c->node_if, CNI_VETH_PREFIX, strlen(CNI_VETH_PREFIX)) ||
		    !strncmp(c->node_if, CNI_NODE_GW_PREFIX, strlen(CNI_NODE_GW_PREFIX))))
		rc = cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"nodeInterface\" '%s' must not start "
			      "with \"%s\" or \"%s\" (the names of midox's own ends)", c->node_if,
			      CNI_VETH_PREFIX, CNI_NODE_GW_PREFIX);
	return rc;
}

static int parse_members(struct cni_conf *c)
{
	json_t *args;
	int rc;

	c->zookeeper = CNI_DEFAULT_ZK;
	c->host_id_file = CNI_DEFAULT_HOST_ID_FILE;
	c->data_dir = CNI_DEFAULT_DATA_DIR;
	c->pin_root = MX_PIN_ROOT_DEFAULT;
	rc = opt_string(c->root, "name", &c->name);
	if (!rc)
		rc = opt_string(c->root, "bridge", &c->bridge);
	if (!rc)
		rc = opt_string(c->root, "zookeeper", &c->zookeeper);
	if (!rc)
		rc = opt_string(c->root, "credentialsFile", &c->credentials_file);
	if (!rc)
		rc = opt_string(c->root, "hostIdFile", &c->host_id_file);
	if (!rc)
		rc = opt_string(c->root, "dataDir", &c->data_dir);
	if (!rc)
		rc = opt_string(c->root, "pinRoot", &c->pin_root);
	if (!rc)
		rc = parse_numbers(c);
	if (!rc)
		rc = parse_node_gateway(c);
	if (!rc)
		rc = parse_ipam(c);
	if (!rc)
		rc = parse_bandwidth(c);
	if (!rc)
		rc = cni_block_conf_parse(c);
	if (rc)
		return rc;
	if (!c->name)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "the configuration has no \"name\"");
	if (!c->bridge)
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "the configuration has no \"bridge\": "
				"the midox bridge the pods join (name, alias or UUID)");
	c->prev_result = json_object_get(c->root, "prevResult");
	if (c->prev_result && !json_is_object(c->prev_result))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"prevResult\" must be an object");
	c->valid_attachments = json_object_get(c->root, "cni.dev/valid-attachments");
	if (c->valid_attachments && !json_is_array(c->valid_attachments))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG,
				"\"cni.dev/valid-attachments\" must be an array");
	args = json_object_get(c->root, "args");
	if (args && !json_is_object(args))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "\"args\" must be an object");
	return 0;
}

int cni_conf_parse(const char *text, struct cni_conf *c)
{
	json_error_t jerr;
	json_t *v;

	memset(c, 0, sizeof(*c));
	c->root = json_loads(text, 0, &jerr);
	if (!c->root)
		return cni_fail(-EINVAL, CNI_ERR_DECODE, "the network configuration is not JSON: "
				"%s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
	if (!json_is_object(c->root))
		return cni_fail(-EINVAL, CNI_ERR_DECODE, "the network configuration is not a JSON "
				"object");
	v = json_object_get(c->root, "cniVersion");
	if (!json_is_string(v))
		return cni_fail(-EINVAL, CNI_ERR_CONFIG, "the configuration has no \"cniVersion\"");
	c->version = json_string_value(v);
	if (!cni_version_ok(c->version))
		return cni_fail(-EINVAL, CNI_ERR_VERSION, "cniVersion %s is not supported: "
				"midox-cni speaks 1.0.0 and 1.1.0", c->version);
	return parse_members(c);
}

void cni_conf_free(struct cni_conf *c)
{
	json_decref(c->root);
	c->root = NULL;
}
