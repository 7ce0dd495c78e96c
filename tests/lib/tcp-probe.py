#!/usr/bin/env python3
"""TCP probes for the end-to-end tests, run inside a VM's namespace (python3's standard
library only, as Debian 12 installs it).

  tcp-probe.py serve PORT
      an echo server on PORT, every connection served until the peer closes it
  tcp-probe.py connect ADDR PORT N
      N connections one after the other, each sends a line and reads it back, then closes
      (given up after 5 failures in a row); prints "connected K of N, syn-retrans S", S the
      SYNs this namespace's kernel sent again meanwhile (TcpExt TCPSynRetrans: 0 means no
      connection's first reply was lost); exit 0 when all N did
  tcp-probe.py refused ADDR PORT
      one connection attempt (3 s): exit 0 when it does NOT connect
  tcp-probe.py fill ADDR PORT MAX
      opens connections and keeps them open until one fails to connect (3 s) or MAX are
      open; then each open one echoes a line once more; prints "opened K, refused R,
      echoed E"; exit 0 when at least one was opened, one refused and every open one echoed
  tcp-probe.py stream ADDR PORT SECONDS
      one connection, a line sent and read back every 0.1 s for SECONDS; any error or
      echo missing for 10 s fails; prints "rounds N"; exit 0 when it lasted
"""
import selectors
import socket
import sys
import time

LINE = b"midox conntrack probe\n"


def serve(port):
    sel = selectors.DefaultSelector()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(1024)
    srv.setblocking(False)
    sel.register(srv, selectors.EVENT_READ)
    print("listening", port, flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is srv:
                c, _ = srv.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                continue
            try:
                s.sendall(data)
            except OSError:
                sel.unregister(s)
                s.close()


def echo_once(s, timeout=10.0):
    s.settimeout(timeout)
    s.sendall(LINE)
    got = b""
    while len(got) < len(LINE):
        chunk = s.recv(len(LINE) - len(got))
        if not chunk:
            raise OSError("closed by the peer")
        got += chunk
    if got != LINE:
        raise OSError("echo differs")


def open_conn(addr, port, timeout=3.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except OSError:
        s.close()
        return None
    return s


def syn_retrans():
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        names, values = names.split(), values.split()
        if names[0] == "TcpExt:":
            return int(dict(zip(names[1:], values[1:])).get("TCPSynRetrans", 0))
    return 0


def connect(addr, port, n):
    ok, failed_in_a_row, before = 0, 0, syn_retrans()
    for i in range(n):
        if failed_in_a_row == 5:
            print("gave up after 5 failures in a row", flush=True)
            break
        s = open_conn(addr, port)
        if s is None:
            print("connection", i + 1, "failed", flush=True)
            failed_in_a_row += 1
            continue
        try:
            echo_once(s)
            ok += 1
            failed_in_a_row = 0
        except OSError as e:
            print("connection", i + 1, "echo:", e, flush=True)
            failed_in_a_row += 1
        s.close()
    print("connected %d of %d, syn-retrans %d" % (ok, n, syn_retrans() - before))
    return 0 if ok == n else 1


def refused(addr, port):
    s = open_conn(addr, port)
    if s is None:
        print("refused")
        return 0
    s.close()
    print("connected")
    return 1


def fill(addr, port, most):
    held, refusals = [], 0
    while len(held) < most:
        s = open_conn(addr, port)
        if s is None:
            refusals += 1
            break
        held.append(s)
    echoed = 0
    for s in held:
        try:
            echo_once(s)
            echoed += 1
        except OSError as e:
            print("echo:", e, flush=True)
    print("opened %d, refused %d, echoed %d" % (len(held), refusals, echoed))
    for s in held:
        s.close()
    return 0 if held and refusals and echoed == len(held) else 1


def stream(addr, port, seconds):
    s = open_conn(addr, port)
    if s is None:
        print("cannot connect")
        return 1
    rounds, end = 0, time.monotonic() + seconds
    print("connected", flush=True)
    try:
        while time.monotonic() < end:
            echo_once(s)
            rounds += 1
            time.sleep(0.1)
    except OSError as e:
        print("rounds", rounds, "then:", e)
        return 1
    s.close()
    print("rounds", rounds)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "serve":
        serve(int(argv[2]))
    elif len(argv) == 5 and argv[1] == "connect":
        return connect(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[1] == "refused":
        return refused(argv[2], int(argv[3]))
    elif len(argv) == 5 and argv[1] == "fill":
        return fill(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 5 and argv[1] == "stream":
        return stream(argv[2], int(argv[3]), float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
