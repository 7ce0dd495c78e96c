#!/usr/bin/env python3
"""TCP connections for the end-to-end tests, counted.

  tcp-conns.py serve PORT
      Accept on 0.0.0.0:PORT until killed; answer each line with the same line.
  tcp-conns.py connect ADDR PORT N [TIMEOUT [MAX_FAILED]]
      Open N connections to ADDR:PORT one after another, each sending one line and
      reading it back within TIMEOUT seconds (default 3), stopping early after MAX_FAILED
      connections that were not answered (default: never). Prints one line:
      "ok K refused R timeout T other O syn-retrans S" where S is how many SYNs this
      namespace's kernel sent again meanwhile (TcpExt TCPSynRetrans): 0 means no
      connection's first reply was lost.
  tcp-conns.py stream ADDR PORT SECONDS
      One connection echoing a line every 10 ms for SECONDS. Prints
      "sent K answered A longest-gap-ms G"; exits 1 if the connection broke.
"""
import socket
import sys
import threading
import time


def syn_retrans():
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for i in range(0, len(lines) - 1, 2):
        names, values = lines[i].split(), lines[i + 1].split()
        if names[0] == "TcpExt:":
            return int(dict(zip(names[1:], values[1:])).get("TCPSynRetrans", 0))
    return 0


def serve(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(512)

    def echo(c):
        with c:
            f = c.makefile("rwb", buffering=0)
            for line in f:
                f.write(line)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def connect(addr, port, n, timeout, max_failed):
    counts = {"ok": 0, "refused": 0, "timeout": 0, "other": 0}
    before = syn_retrans()
    for i in range(n):
        if i - counts["ok"] >= max_failed:
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((addr, port))
            msg = b"conn %d\n" % i
            s.sendall(msg)
            got = b""
            while not got.endswith(b"\n"):
                chunk = s.recv(64)
                if not chunk:
                    break
                got += chunk
            counts["ok" if got == msg else "other"] += 1
        except ConnectionRefusedError:
            counts["refused"] += 1
        except socket.timeout:
            counts["timeout"] += 1
        except OSError:
            counts["other"] += 1
        finally:
            s.close()
    print("ok %d refused %d timeout %d other %d syn-retrans %d" % (
        counts["ok"], counts["refused"], counts["timeout"], counts["other"],
        syn_retrans() - before))


def stream(addr, port, seconds):
    s = socket.create_connection((addr, port), timeout=5)
    s.settimeout(30)
    f = s.makefile("rwb", buffering=0)
    sent = answered = 0
    longest = 0.0
    last = time.monotonic()
    end = last + seconds
    ok = True
    try:
        while time.monotonic() < end:
            f.write(b"%d\n" % sent)
            sent += 1
            if f.readline() != b"%d\n" % (sent - 1):
                ok = False
                break
            answered += 1
            now = time.monotonic()
            longest = max(longest, now - last)
            last = now
            time.sleep(0.01)
    except OSError:
        ok = False
    print("sent %d answered %d longest-gap-ms %d" % (sent, answered, longest * 1000))
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "serve":
        serve(int(argv[2]))
    elif len(argv) in (5, 6, 7) and argv[1] == "connect":
        n = int(argv[4])
        connect(argv[2], int(argv[3]), n, float(argv[5]) if len(argv) >= 6 else 3,
                int(argv[6]) if len(argv) == 7 else n)
    elif len(argv) == 5 and argv[1] == "stream":
        return stream(argv[2], int(argv[3]), float(argv[4]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
