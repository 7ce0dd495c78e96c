#!/usr/bin/env bats
# tools/dist/kubernetes/midox-agent.yaml, the agent's DaemonSet (docs/kubernetes.md), without
# a cluster: it parses (python3-yaml), every key is a field of its Kubernetes type (the table
# below, from the API reference: apps/v1 DaemonSet, core/v1 ConfigMap, PodSpec, Container,
# SecurityContext, VolumeMount, Volume), and it is consistent with itself and with midox: one
# image, the paths the agent's settings name mounted from the host, the host's bpffs, the
# conflist's host id file the agent's, and the agent takes the settings.

bats_require_minimum_version 1.5.0

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MANIFEST=$REPO/tools/dist/kubernetes/midox-agent.yaml

setup_file() {
	export MIDOX_BUILD=${MIDOX_BUILD:-$REPO/build}
	[ -x "$MIDOX_BUILD/midox-agent" ] || { echo "missing $MIDOX_BUILD/midox-agent (run make)" >&2; return 1; }
	python3 -c 'import yaml' || { echo "missing python3-yaml (tools/scripts/install-deps)" >&2; return 1; }
}

# manifest PYTHON: run PYTHON with `docs` (the manifest's documents, by kind), `ds` (the
# DaemonSet's pod spec) and `cm` (the ConfigMap's data) defined; it fails the test by raising.
manifest() {
	python3 -c '
import json, sys, yaml
docs = {d["kind"]: d for d in yaml.safe_load_all(open(sys.argv[1]))}
ds = docs["DaemonSet"]["spec"]["template"]["spec"]
cm = docs["ConfigMap"]["data"]
def agent_conf():
    return dict(l.split(" = ", 1) for l in cm["agent.conf"].splitlines() if " = " in l)
'"$1" "$MANIFEST"
}

@test "k8s manifest: a ConfigMap and a DaemonSet, every key a field of its type" {
	run -0 python3 - "$MANIFEST" <<'PY'
import sys, yaml
# type -> {field: type of its value, or None for a scalar or a free map}
T = {
 "ConfigMap": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta", "data": None},
 "DaemonSet": {"apiVersion": None, "kind": None, "metadata": "ObjectMeta", "spec": "DaemonSetSpec"},
 "ObjectMeta": {"name": None, "namespace": None, "labels": None, "annotations": None},
 "DaemonSetSpec": {"selector": "LabelSelector", "updateStrategy": "DaemonSetUpdateStrategy",
                   "template": "PodTemplateSpec", "minReadySeconds": None, "revisionHistoryLimit": None},
 "LabelSelector": {"matchLabels": None, "matchExpressions": None},
 "DaemonSetUpdateStrategy": {"type": None, "rollingUpdate": "RollingUpdateDaemonSet"},
 "RollingUpdateDaemonSet": {"maxUnavailable": None, "maxSurge": None},
 "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
 "PodSpec": {"hostNetwork": None, "hostPID": None, "dnsPolicy": None, "priorityClassName": None,
             "tolerations": "Toleration", "terminationGracePeriodSeconds": None,
             "initContainers": "Container", "containers": "Container", "volumes": "Volume",
             "serviceAccountName": None, "nodeSelector": None, "securityContext": "PodSecurityContext"},
 "PodSecurityContext": {"seccompProfile": "SeccompProfile"},
 "Toleration": {"key": None, "operator": None, "value": None, "effect": None, "tolerationSeconds": None},
 "Container": {"name": None, "image": None, "command": None, "args": None, "env": None,
               "securityContext": "SecurityContext", "resources": "ResourceRequirements",
               "volumeMounts": "VolumeMount", "imagePullPolicy": None},
 "SecurityContext": {"privileged": None, "capabilities": "Capabilities", "seccompProfile": "SeccompProfile",
                     "allowPrivilegeEscalation": None, "readOnlyRootFilesystem": None},
 "Capabilities": {"add": None, "drop": None},
 "SeccompProfile": {"type": None, "localhostProfile": None},
 "ResourceRequirements": {"requests": None, "limits": None},
 "VolumeMount": {"name": None, "mountPath": None, "mountPropagation": None, "readOnly": None, "subPath": None},
 "Volume": {"name": None, "hostPath": "HostPathVolumeSource", "configMap": "ConfigMapVolumeSource"},
 "HostPathVolumeSource": {"path": None, "type": None},
 "ConfigMapVolumeSource": {"name": None, "items": None, "defaultMode": None},
}
bad = []
def walk(obj, typ, where):
    for item in (obj if isinstance(obj, list) else [obj]):
        if not isinstance(item, dict):
            bad.append(f"{where}: not an object"); continue
        for k, v in item.items():
            if k not in T[typ]:
                bad.append(f"{where}.{k}: not a field of {typ}")
            elif T[typ][k]:
                walk(v, T[typ][k], f"{where}.{k}")
docs = list(yaml.safe_load_all(open(sys.argv[1])))
assert sorted(d["kind"] for d in docs) == ["ConfigMap", "DaemonSet"], [d["kind"] for d in docs]
for d in docs:
    walk(d, d["kind"], d["kind"])
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	echo "$output"
	[ -z "$output" ]
}

@test "k8s manifest: the agent on the node's network and bpffs, with the unit's capabilities" {
	run -0 manifest '
assert ds["hostNetwork"] is True
agent = ds["containers"][0]
sc = agent["securityContext"]
assert sorted(sc["capabilities"]["add"]) == ["BPF", "NET_ADMIN", "PERFMON"], sc
assert not sc.get("privileged"), "privileged without need"
vols = {v["name"]: v for v in ds["volumes"]}
mounts = {m["mountPath"]: m for m in agent["volumeMounts"]}
bpf = mounts["/sys/fs/bpf"]
assert vols[bpf["name"]]["hostPath"]["path"] == "/sys/fs/bpf", bpf
# HostToContainer or Bidirectional, never the default None; Bidirectional only privileged
assert bpf.get("mountPropagation") in ("HostToContainer", "Bidirectional"), bpf
assert bpf["mountPropagation"] != "Bidirectional" or sc.get("privileged")
# the pins and the host id under host paths, the same inside and out
conf = agent_conf()
for key in ("pin_root", "host_id_file"):
    path = conf[key]
    m = max((p for p in mounts if path.startswith(p + "/")), key=len)
    assert vols[mounts[m]["name"]]["hostPath"]["path"] == m, (key, path, m)
# every mount a volume
for c in ds["containers"] + ds["initContainers"]:
    for m in c["volumeMounts"]:
        assert m["name"] in vols, m
'
	echo "$output"
}

@test "k8s manifest: one image; the init container installs the plugin and conflist on the host" {
	run -0 manifest '
images = {c["image"] for c in ds["containers"] + ds["initContainers"]}
assert len(images) == 1, images
init = ds["initContainers"][0]
vols = {v["name"]: v for v in ds["volumes"]}
host = {m["mountPath"]: vols[m["name"]].get("hostPath", {}).get("path") for m in init["volumeMounts"]}
script = " ".join(init["command"])
assert host["/host/opt/cni/bin"] == "/opt/cni/bin", host
assert host["/host/etc/cni/net.d"] == "/etc/cni/net.d", host
# the binary under the name the conflist type gives, the conflist under its name
assert "/host/opt/cni/bin/midox\n" in script, script
assert "/host/etc/cni/net.d/10-midox.conflist\n" in script, script
cf = json.loads(cm["10-midox.conflist"])
midox = [p for p in cf["plugins"] if p["type"] == "midox"]
assert len(midox) == 1 and cf["cniVersion"] in ("1.0.0", "1.1.0"), cf
assert midox[0]["hostIdFile"] == agent_conf()["host_id_file"], midox[0]
assert midox[0]["pinRoot"] == agent_conf()["pin_root"], midox[0]
assert midox[0]["zookeeper"] == agent_conf()["zookeeper_servers"], midox[0]
# one file for every node: the subnet split by node, no per-node range to edit
ranges = midox[0]["ipam"]["ranges"]
net_len = int(ranges[0][0]["subnet"].split("/")[1])
assert len(ranges) == 1 and len(ranges[0]) == 1, ranges
assert "rangeStart" not in ranges[0][0] and "rangeEnd" not in ranges[0][0], ranges
assert isinstance(midox[0]["nodeBlockSize"], int), midox[0]
assert net_len < midox[0]["nodeBlockSize"] <= min(30, net_len + 16), midox[0]
# the agent reads its settings where the ConfigMap is mounted
agent = ds["containers"][0]
cfg = agent["command"][agent["command"].index("--config") + 1]
m = [m for m in agent["volumeMounts"] if cfg.startswith(m["mountPath"] + "/")]
assert m and vols[m[0]["name"]]["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"], cfg
assert cfg.rsplit("/", 1)[1] in cm, cfg
'
	echo "$output"
}

@test "k8s manifest: the agent takes the ConfigMap's settings" {
	manifest 'print(cm["agent.conf"], end="")' > "$BATS_TEST_TMPDIR/agent.conf"
	grep -q '^tunnel_interface = ' "$BATS_TEST_TMPDIR/agent.conf"
	# read without complaint: --verify then stops at the host id, sent into the test's
	# directory (as in install.bats)
	run -2 env -u MIDOX_ZK_SERVERS MIDOX_HOST_ID_FILE="$BATS_TEST_TMPDIR/none" \
		"$MIDOX_BUILD/midox-agent" --config "$BATS_TEST_TMPDIR/agent.conf" --verify
	echo "$output"
	[ "$output" = "midox-agent: error: nothing to verify: no host id in $BATS_TEST_TMPDIR/none or no pinned maps in /sys/fs/bpf/midox" ]
}
