#!/usr/bin/env python3
"""smtp_throughput.py -- messages per second through a real Herald on
loopback: N client threads, each sending M messages of S octets over one
connection (PIPELINING group MAIL/RCPT/DATA), every message committed to
the spool (fsync) before its 250.  A benchmark: it prints figures and
asserts nothing about time.

    python3 bench/smtp_throughput.py --build _build/plain [--clients 8]
        [--messages 200] [--size 4096]
"""
import argparse
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test",
                                "integration"))


def client(port, count, body, latencies, errors):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError("closed")
                if line[3:4] != b"-":
                    return int(line[:3])

        assert reply() == 220
        s.sendall(b"EHLO bench.example\r\n")
        assert reply() == 250
        for _ in range(count):   # bounded
            t0 = time.perf_counter()
            s.sendall(b"MAIL FROM:<bench@client.example>\r\n"
                      b"RCPT TO:<sink@example.org>\r\nDATA\r\n")
            codes = [reply(), reply(), reply()]
            s.sendall(body)
            codes.append(reply())
            if codes != [250, 250, 354, 250]:
                errors.append(codes)
                break
            latencies.append(time.perf_counter() - t0)
        s.sendall(b"QUIT\r\n")
        s.close()
    except Exception as e:   # reported, not raised: the figures say it
        errors.append(repr(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    os.environ["HERALD_PREFIX"] = "/nonexistent"
    os.environ["HERALD_BUILD"] = os.path.abspath(args.build)
    import harness

    line = b"x" * 76 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, args.size // 78) + \
        b".\r\n"
    config = ('[session.rcpt.lookup]\ndomains = ["example.org"]\n'
              '[session.data.limits]\nmessages = 1000000\n'
              '[session.extensions]\npipelining = true\n')
    with harness.Herald(config, modules=["mod_pipelining"]) as h:
        latencies, errors = [], []
        threads = [threading.Thread(target=client,
                                    args=(h.port(), args.messages, body,
                                          latencies, errors))
                   for _ in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        elapsed = time.perf_counter() - t0
        queued = len(os.listdir(os.path.join(h.dir, "spool", "queue"))) // 2
    n = len(latencies)
    print("herald smtp throughput: %d clients x %d messages of %d octets"
          % (args.clients, args.messages, len(body)))
    print("  %d messages in %.2f s: %.0f messages/s, %.1f MB/s"
          % (n, elapsed, n / elapsed, n * len(body) / elapsed / 1e6))
    if latencies:
        latencies.sort()
        print("  latency per message: median %.2f ms, p99 %.2f ms"
              % (statistics.median(latencies) * 1e3,
                 latencies[int(len(latencies) * 0.99) - 1] * 1e3))
    print("  queued (fsync'd) in the spool: %d" % queued)
    if errors:
        print("  errors: %d (first: %s)" % (len(errors), errors[0]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
