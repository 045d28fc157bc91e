"""Running as a service: SIGHUP reload, SIGTERM stop, privilege drop,
sd_notify (issue: service and third-party modules)."""
import os
import pwd
import subprocess
import signal
import socket
import tempfile
import time
import unittest

from harness import Herald, free_port, herald_bin, queued_id

BASE = """
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
"""


def send_message(client, sender="a@client.example", rcpt="b@remote.example"):
    client.cmd("MAIL FROM:<%s>" % sender, 250)
    client.cmd("RCPT TO:<%s>" % rcpt, 250)
    client.cmd("DATA", 354)
    client.send("Subject: service test\r\n\r\nbody\r\n.\r\n")
    return client.expect(250)


class ReloadTest(unittest.TestCase):
    def test_session_survives_reload_and_new_config_is_seen(self):
        with Herald(BASE + '[session.data.limits]\nsize = "1M"\n') as h:
            old = h.client()
            old.cmd("EHLO old.example", 250)
            old.cmd("MAIL FROM:<a@client.example>", 250)
            new_port = free_port()
            # a new listener, and a smaller SIZE for new sessions
            text = open(h.config_path).read().replace('size = "1M"',
                                                      'size = "2M"')
            text += ('\n[server.listener.extra]\nbind = ["127.0.0.1:%d"]\n'
                     % new_port)
            with open(h.config_path, "w") as f:
                f.write(text)
            h.proc.send_signal(signal.SIGHUP)
            self.assertTrue(h.wait_log("reloaded"), h.log_text())
            # the old session finishes its transaction on the old generation
            old.cmd("RCPT TO:<b@remote.example>", 250)
            old.cmd("DATA", 354)
            old.send("Subject: x\r\n\r\nhello\r\n.\r\n")
            lines = old.expect(250)
            self.assertIn(queued_id(lines), h.queue_ids())
            _, ehlo = old.cmd("EHLO again.example", 250)
            self.assertIn("250-SIZE 1048576", ehlo)   # still the old one
            # new sessions see the new generation
            fresh = h.client()
            _, ehlo = fresh.cmd("EHLO new.example", 250)
            self.assertIn("250-SIZE 2097152", ehlo)
            extra = socket.create_connection(("127.0.0.1", new_port), 5)
            self.assertTrue(extra.recv(100).startswith(b"220 "))
            extra.close()
            for c in (old, fresh):
                c.cmd("QUIT", 221)

    def test_connections_answered_during_reload(self):
        with Herald(BASE) as h:
            results = []
            h.proc.send_signal(signal.SIGHUP)
            for _ in range(20):
                c = h.client()       # expects 220
                results.append(c.cmd("NOOP")[0])
                c.close()
            self.assertEqual(results, [250] * 20)
            self.assertTrue(h.wait_log("reloaded"))

    def test_invalid_config_keeps_old_one(self):
        with Herald(BASE) as h:
            with open(h.config_path, "a") as f:
                f.write("\n[session]\ntimout = \"5m\"\n")
            h.proc.send_signal(signal.SIGHUP)
            self.assertTrue(h.wait_log("reload failed"), h.log_text())
            self.assertIn("unknown key 'session.timout'", h.log_text())
            c = h.client()
            send_message(c)
            c.cmd("QUIT", 221)
            self.assertIsNone(h.proc.poll())


class StopTest(unittest.TestCase):
    def test_session_finishes_during_stop_timeout(self):
        with Herald(BASE, server='stop-timeout = "5s"\n') as h:
            busy = h.client()
            busy.cmd("EHLO b.example", 250)
            busy.cmd("MAIL FROM:<a@client.example>", 250)
            h.proc.send_signal(signal.SIGTERM)
            self.assertTrue(h.wait_log("stopping"))
            # no new connections...
            with self.assertRaises(OSError):
                for _ in range(20):   # bounded: the listener closes
                    socket.create_connection(("127.0.0.1", h.port()),
                                             1).close()
                    time.sleep(0.05)
            # ...but the session in flight completes its message
            busy.cmd("RCPT TO:<b@remote.example>", 250)
            busy.cmd("DATA", 354)
            busy.send("Subject: late\r\n\r\nbody\r\n.\r\n")
            qid = queued_id(busy.expect(250))
            busy.cmd("QUIT", 221)
            self.assertEqual(h.proc.wait(10), 0)
            self.assertEqual(h.queue_ids(), [qid])

    def test_sigterm_keeps_accepted_messages(self):
        with Herald(BASE, server='stop-timeout = "1s"\n') as h:
            done = h.client()
            done.cmd("EHLO a.example", 250)
            qid = queued_id(send_message(done))
            busy = h.client()
            busy.cmd("EHLO b.example", 250)
            busy.cmd("MAIL FROM:<a@client.example>", 250)
            busy.cmd("RCPT TO:<b@remote.example>", 250)
            busy.cmd("DATA", 354)
            busy.send("Subject: half\r\n\r\nnot finished")
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(20), 0)
            code, lines = busy.reply()
            self.assertEqual(code, 421, lines)
            self.assertIn("4.3.2", lines[0])
            # the accepted message is there after exit, the other is not
            self.assertEqual(h.queue_ids(), [qid])
            self.assertEqual(os.listdir(os.path.join(h.dir, "spool", "tmp")),
                             [])


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PrivilegeDropTest(unittest.TestCase):
    def test_runs_as_configured_user(self):
        nobody = pwd.getpwnam("nobody")
        h = Herald(BASE + '[server.run-as]\nuser = "nobody"\n')
        os.chmod(h.dir, 0o755)
        with h:
            status = open("/proc/%d/status" % h.proc.pid).read()
            uid = [l for l in status.splitlines() if l.startswith("Uid:")][0]
            gid = [l for l in status.splitlines() if l.startswith("Gid:")][0]
            self.assertEqual(uid.split()[1:], [str(nobody.pw_uid)] * 4)
            self.assertEqual(gid.split()[1:], [str(nobody.pw_gid)] * 4)
            c = h.client()
            c.cmd("EHLO a.example", 250)
            qid = queued_id(send_message(c))   # the spool is writable
            self.assertIn(qid, h.queue_ids())

    def test_unknown_user_refuses_to_run(self):
        h = Herald(BASE + '[server.run-as]\nuser = "no-such-user-here"\n')
        with self.assertRaises(RuntimeError) as err:
            h.start()
        self.assertIn("no user 'no-such-user-here'", str(err.exception))
        h.stop()


class LogFileTest(unittest.TestCase):
    def test_log_to_file(self):
        with Herald(BASE) as h:
            path = os.path.join(h.dir, "file.log")
            out = subprocess.run([herald_bin(), "-f", h.config_path, "-l",
                                  path, "-t"], capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
        log = tempfile.mkdtemp(prefix="herald-log-")
        path = os.path.join(log, "herald.log")
        h = Herald(BASE)
        h.start_args = ["-l", path]
        with h:
            c = h.client()
            c.cmd("EHLO logged.example", 250)
            c.cmd("QUIT", 221)
            deadline = time.time() + 5
            while time.time() < deadline:
                text = open(path).read() if os.path.exists(path) else ""
                if "disconnect" in text:
                    break
                time.sleep(0.05)
            self.assertIn("EHLO logged.example", text)
            self.assertNotIn("EHLO logged.example", h.log_text())

    def test_unwritable_log_file(self):
        out = subprocess.run([herald_bin(), "-l", "/nonexistent/dir/x.log",
                              "-V"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0)   # -V needs no log
        h = Herald(BASE)
        out = subprocess.run([herald_bin(), "-f", h.config_path, "-l",
                              "/nonexistent/dir/x.log"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot open log file", out.stderr)


class NotifyTest(unittest.TestCase):
    def test_sd_notify_ready_reloading_stopping(self):
        sock_dir = tempfile.mkdtemp(prefix="herald-notify-")
        path = os.path.join(sock_dir, "notify")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(path)
        listener.settimeout(10)
        try:
            h = Herald(BASE)
            h.env = {"NOTIFY_SOCKET": path}
            with h:
                got = listener.recv(4096).decode()
                self.assertIn("READY=1", got)
                self.assertIn("STATUS=", got)
                self.assertIn("queued", got)
                h.proc.send_signal(signal.SIGHUP)
                self.assertIn("RELOADING=1", listener.recv(4096).decode())
                self.assertIn("READY=1", listener.recv(4096).decode())
                h.proc.send_signal(signal.SIGTERM)
                self.assertIn("STOPPING=1", listener.recv(4096).decode())
        finally:
            listener.close()
            os.unlink(path)
            os.rmdir(sock_dir)


if __name__ == "__main__":
    unittest.main()
