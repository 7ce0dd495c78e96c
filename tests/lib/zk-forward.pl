#!/usr/bin/perl
# zk-forward.pl LISTEN_FD HOST:PORT
# Forward every TCP connection accepted on the inherited listening socket LISTEN_FD to
# HOST:PORT, connected from this process's own network namespace.
#
# It lets an agent inside a test host's netns reach the ZooKeeper server on the machine's
# loopback: the listening socket is made inside the host's netns (127.0.0.1:PORT there), then
# this script runs back in the caller's netns (agent.bash, zk_link). Nothing leaves loopback.
# A connection whose upstream refuses (ZooKeeper stopped) is closed at once, as a refused
# connect would be. perl-base only.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);

my ($fd, $upstream) = @ARGV;
die "usage: zk-forward.pl LISTEN_FD HOST:PORT\n" unless defined $upstream;
open(my $listener, '+<&=', $fd) or die "zk-forward: fd $fd: $!\n";
$SIG{PIPE} = 'IGNORE';
$SIG{TERM} = sub { exit 0 };

my $sel = IO::Select->new($listener);
my %peer; # fileno -> the other socket

sub drop {
	my ($s) = @_;
	my $p = delete $peer{fileno($s)};
	$sel->remove($s);
	close($s);
	if ($p) {
		delete $peer{fileno($p)};
		$sel->remove($p);
		close($p);
	}
}

while (1) {
	for my $s ($sel->can_read) {
		if ($s == $listener) {
			my $c;
			accept($c, $listener) or next;
			my $u = IO::Socket::INET->new(PeerAddr => $upstream, Proto => 'tcp', Timeout => 2);
			if (!$u) {
				close($c);
				next;
			}
			# ZooKeeper's requests are small and each waits for its answer: Nagle's delay
			# would add milliseconds to every round trip.
			setsockopt($_, IPPROTO_TCP, TCP_NODELAY, 1) for ($c, $u);
			$peer{fileno($c)} = $u;
			$peer{fileno($u)} = $c;
			$sel->add($c, $u);
			next;
		}
		next unless defined fileno($s); # closed with its peer in this round
		my $p = $peer{fileno($s)} or next;
		my $n = sysread($s, my $buf, 65536);
		if (!$n) {
			drop($s);
			next;
		}
		my $off = 0;
		while ($off < $n) {
			my $w = syswrite($p, $buf, $n - $off, $off);
			if (!defined $w) {
				drop($s);
				last;
			}
			$off += $w;
		}
	}
}
