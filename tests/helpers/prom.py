#!/usr/bin/python3
# The metrics tests' client (tests/e2e/metrics.bats). Debian's interpreter by its path: the
# parser is Debian's python3-prometheus-client.
#
#   prom.py check            the exposition on stdin through prometheus_client's parser, plus
#                            what that parser lets pass: one HELP and one TYPE per family, before
#                            its samples, which follow each other; no sample outside a declared
#                            family; no series twice; no escape in a label value but \\, \", \n;
#                            names prefixed midox_. Prints the samples
#                            as a JSON array of {name, labels, value}; exit 1 with the reason.
#   prom.py send PORT        stdin's bytes to 127.0.0.1:PORT; prints the status line answered,
#                            or "closed" when the server closed without one
#   prom.py storm PORT N     N connections at once, each sending a GET /metrics: prints
#                            "answered A closed C" (closed: no answer, the cap on connections)
#   prom.py idle PORT N      N connections that send nothing: prints the seconds until the
#                            server closed the last one
#   prom.py trickle PORT     a request one byte every 0.3 s: prints "closed after S" when the
#                            server closed before the request was complete, else "answered"
import json
import re
import socket
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

DEADLINE = 20


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def family_of(sample, declared):
    for suffix in ("", "_bucket", "_sum", "_count"):
        if sample.endswith(suffix):
            base = sample[: len(sample) - len(suffix)] if suffix else sample
            if base in declared and (suffix == "" or declared[base] in ("histogram", "summary")):
                return base
    return None


def check_lines(text):
    helps, types, seen_series, done = set(), {}, set(), set()
    current = None
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
        if m:
            kind, name, rest = m.groups()
            if not name.startswith("midox_"):
                fail(f"name without the midox_ prefix: {name}")
            if kind == "HELP":
                if name in helps:
                    fail(f"HELP twice for {name}")
                helps.add(name)
                if current and current != name:
                    done.add(current)
                current = name
            else:
                if name in types:
                    fail(f"TYPE twice for {name}")
                if name not in helps:
                    fail(f"TYPE before HELP for {name}")
                types[name] = rest
            continue
        if not line or line.startswith("#"):
            fail(f"unexpected line: {line!r}")
        series = line.rsplit(" ", 1)[0]
        name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", series).group(0)
        fam = family_of(name, types)
        if fam is None:
            fail(f"sample of no declared family: {line}")
        if fam != current or fam in done:
            fail(f"sample away from its family's other samples: {line}")
        if re.search(r'\\[^\\"n]', series.replace("\\\\", "")):
            fail(f"a label value escaped otherwise than \\\\, \\\", \\n: {line}")
        if series in seen_series:
            fail(f"series twice: {series}")
        seen_series.add(series)


def check():
    text = sys.stdin.read()
    if not text.endswith("\n"):
        fail("the exposition does not end with a newline")
    check_lines(text)
    out = []
    try:
        for fam in text_string_to_metric_families(text):
            if fam.type == "unknown" or not fam.documentation:
                fail(f"family {fam.name} without TYPE or HELP")
            for s in fam.samples:
                out.append({"name": s.name, "labels": s.labels, "value": s.value})
    except ValueError as e:
        fail(f"prometheus_client rejects the exposition: {e}")
    json.dump(out, sys.stdout)
    print()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    return s


def read_answer(s):
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data


def send(port):
    payload = sys.stdin.buffer.read()
    s = connect(port)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = read_answer(s)
    s.close()
    print(data.split(b"\r\n", 1)[0].decode("ascii", "replace") if data else "closed")


def storm(port, n):
    socks = [connect(port) for _ in range(n)]
    for s in socks:
        try:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    answered = closed = 0
    for s in socks:
        if read_answer(s).startswith(b"HTTP/1.1 200 "):
            answered += 1
        else:
            closed += 1
        s.close()
    print(f"answered {answered} closed {closed}")


def idle(port, n):
    start = time.monotonic()
    socks = [connect(port) for _ in range(n)]
    for s in socks:
        if read_answer(s):
            fail("the server answered a client that asked nothing")
        s.close()
    print(f"{time.monotonic() - start:.1f}")


def trickle(port):
    start = time.monotonic()
    s = connect(port)
    for b in b"GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n\r\n":
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            print(f"closed after {time.monotonic() - start:.1f}")
            return
        time.sleep(0.3)
    print("answered" if read_answer(s) else f"closed after {time.monotonic() - start:.1f}")


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "check":
        check()
    elif cmd == "send":
        send(int(sys.argv[2]))
    elif cmd == "storm":
        storm(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "idle":
        idle(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "trickle":
        trickle(int(sys.argv[2]))
    else:
        fail("usage: prom.py check | send PORT | storm PORT N | idle PORT N | trickle PORT")


main()
