"""The event loop: a client that does not read its replies holds no
worker thread; idle connections hold none either."""
import socket
import time
import unittest

from harness import Client, Herald

CONFIG = """
[session.extensions]
pipelining = true
[session.errors]
wait = "0s"
"""


class SlowReaderTest(unittest.TestCase):
    def test_unread_replies_do_not_hold_the_only_worker(self):
        count = 60000   # ~8 MB of EHLO replies: more than socket buffers
        h = Herald(CONFIG, modules=["mod_pipelining"], server="workers = 1\n")
        h.start_args = ["-d"]
        with h:
            # a small receive window, set before connecting
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(10)
            sock.connect(("127.0.0.1", h.port()))
            slow = Client.__new__(Client)
            slow.sock, slow.buf = sock, b""
            slow.expect(220)
            slow.cmd("EHLO slow.example", 250)
            slow.send(b"EHLO again.example\r\n" * count)
            self.assertTrue(h.wait_log("client reads slowly"), h.log_text())
            # with one worker, a second client is still served at once
            for _ in range(3):
                other = h.client()
                other.cmd("EHLO other.example", 250)
                other.cmd("QUIT", 221)
                other.close()
            # and the slow one gets every reply when it reads
            data = slow.buf
            deadline = time.time() + 30
            while data.count(b"\r\n250 ") < count and time.time() < deadline:
                chunk = slow.sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            self.assertEqual(data.count(b"\r\n250 "), count)
            self.assertNotIn(b"\r\n5", data)
            slow.buf = b""
            slow.cmd("QUIT", 221)

    def test_many_idle_connections_with_one_worker(self):
        with Herald(CONFIG, modules=["mod_pipelining"],
                    server="workers = 1\n") as h:
            idle = [h.client() for _ in range(200)]
            c = h.client()
            c.cmd("EHLO busy.example", 250)
            c.cmd("QUIT", 221)
            for conn in idle[:20]:
                conn.cmd("NOOP", 250)
            for conn in idle:
                conn.close()


if __name__ == "__main__":
    unittest.main()
