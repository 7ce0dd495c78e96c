# What the NAT lease files (nat_lease.bats, nat_lease_acl.bats) share: the agents' settings
# and reading the lease nodes back from ZooKeeper with the topology helper.
#
#   NATLEASE_SESSION_MS, NATLEASE_IDLE_MS
#                         the agents' short session timeout and block idle time
#   helper ARGS...        tests/topo-helper on the file's ZooKeeper (MIDOX_CREDENTIALS, if
#                         exported, is the identity it presents)
#   host_id HOST          HOST's host id
#   leases [ADDRESS]      "<block> <host id>" per lease node of ADDRESS (default $ADDR):
#                         ephemeral, named by a number, with a host id (what a test wrote
#                         around midox is not one)

NATLEASE_SESSION_MS=4000
NATLEASE_IDLE_MS=1500

helper() {
	MIDOX_ZK_SERVERS="$ZK_SERVERS" "$MIDOX_BUILD/tests/topo-helper" "$@"
}

host_id() { cat "$NET_DIR/$1.host-id"; }

leases() {
	helper dump | awk -v p="/midox/nat/${1:-$ADDR}/" 'index($1, p) == 1 && $NF == "(ephemeral)" {
		b = substr($1, length(p) + 1)
		if (b !~ /^[0-9]+$/ || !match($3, /"host":"[0-9a-f-]+"/)) next
		print b, substr($3, RSTART + 8, RLENGTH - 9) }'
}
