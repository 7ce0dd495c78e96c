#!/usr/bin/env bats
# midox-cni in a cluster whose ZooKeeper tree is secured (docs/zookeeper.md): with the
# configuration's credentialsFile the plugin writes the pod's port and binding; without it
# ZooKeeper refuses the write and ADD undoes what it made. Its own file: the first write
# with the credential secures the whole tree of this file's ZooKeeper. Pods "sq*".

bats_require_minimum_version 1.5.0
load '../lib/cni_file'

setup() {
	cni_setup
	# the cluster credential: the CLI (mx) and the agents take it from the environment
	export MIDOX_CREDENTIALS="$NET_DIR/cluster.cred"
	echo "admin:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$MIDOX_CREDENTIALS"
}

@test "a secured tree: ADD with credentialsFile works; without it ZooKeeper refuses the port (100) and nothing is left" {
	cni_nodes
	cni_pod sqa
	cni_pod sqb
	local cred out
	cred=$(cni_conf h1 ".credentialsFile = \"$MIDOX_CREDENTIALS\"")
	# without the credential (the plugin runs with nothing of the caller's environment)
	run -1 --separate-stderr cni h1 ADD sqb sqb eth0
	is_error "$output" 100 "cannot create the pod's port on bridge $BR: not authorised: the topology is secured; set \"credentialsFile\" to the cluster credential"
	nothing_left h1 sqb
	# with it
	out=$(cni h1 ADD sqa sqa eth0 "$cred") || { echo "$out"; false; }
	mx host "$(agent_name h1)" list binding | grep -qE "interface mxc\S+ port \S+ state active"
	run -0 --separate-stderr cni h1 CHECK sqa sqa eth0 "$(jq -c --argjson r "$out" '.prevResult = $r' <<< "$cred")"
	# DEL without it cannot remove the port: nothing is removed
	run -1 --separate-stderr cni h1 DEL sqa sqa eth0
	is_error "$output" 100 "not authorised: the topology is secured; set \"credentialsFile\""
	ip -n "$NET_RUN-sqa" link show eth0
	[ "$(ports_of_bridge)" -eq 1 ]
	run -0 --separate-stderr cni h1 DEL sqa sqa eth0 "$cred"
	nothing_left h1 sqa
	# a credential that is not the cluster's
	echo "admin:not-the-password" > "$NET_DIR/wrong.cred"
	run -1 --separate-stderr cni h1 ADD sqa sqa eth0 "$(cni_conf h1 ".credentialsFile = \"$NET_DIR/wrong.cred\"")"
	is_error "$output" 100 "not authorised: the credential in $NET_DIR/wrong.cred is not the cluster's"
	nothing_left h1 sqa
	# a credential file that is not one
	echo "no colon" > "$NET_DIR/bad.cred"
	run -1 --separate-stderr cni h1 ADD sqa sqa eth0 "$(cni_conf h1 ".credentialsFile = \"$NET_DIR/bad.cred\"")"
	is_error "$output" 7 "credentialsFile: "
	nothing_left h1 sqa
}
