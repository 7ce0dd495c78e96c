# What every tests/e2e/cni*.bats file shares: the libraries (zk, netns, agent, e2e, cni) and
# the bats hooks (the binaries and Debian's host-local checked once, a run's names for each
# test, the test's hosts and agents removed after it, ZooKeeper after the file). A file that
# needs more in a hook defines that hook again after `load '../lib/cni_file'`.

load '../lib/zk'
load '../lib/netns'
load '../lib/agent'
load '../lib/e2e'
load '../lib/cni'

setup_file() {
	cni_setup_file
}

teardown_file() {
	zk_cleanup
}

setup() {
	cni_setup
}

teardown() {
	e2e_teardown
	return 0
}
