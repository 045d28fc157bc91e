"""test_pipelining.py -- PIPELINING (RFC 2920) over real sockets:
mod_pipelining advertises it per session, the core holds the replies of a
group and writes them together, and refuses a client that sends ahead
without it.

What is checked:
  - MAIL, 50 RCPT and DATA in one write: 52 replies, in order, all
    arriving without the client sending anything more; then the body is
    queued for all 50 recipients;
  - a group without a group end (MAIL, RCPT) is answered once the input
    is drained; refused recipients keep their place in the reply order;
  - without PIPELINING (module not loaded, or the setting false for the
    session) two commands in one write get "554 5.5.0" and the connection
    is closed (RFC 2920 §3.1, RFC 5321 §4.1.4);
  - session.extensions.pipelining as an expression (listener,
    helo-domain), and its load-time checks.
"""

import socket
import unittest

from harness import Herald, check_config, queued_id

COMMON = """
[session.rcpt]
relay = true
max-recipients = 100
[session.errors]
wait = "0s"
max = 1000
"""


def read_replies(c, count, timeout=10):
    """@count whole replies, with only reads (the client sends nothing)."""
    c.sock.settimeout(timeout)
    return [c.reply() for _ in range(count)]


class GroupTest(unittest.TestCase):
    def test_mail_50_rcpt_data_in_one_write(self):
        rcpts = ["user%02d@remote.example" % i for i in range(50)]
        wire = "MAIL FROM:<a@client.example>\r\n"
        wire += "".join("RCPT TO:<%s>\r\n" % r for r in rcpts)
        wire += "DATA\r\n"
        with Herald(COMMON, modules=["mod_pipelining"]) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertIn("250-PIPELINING", ehlo)
            c.send(wire)   # one write
            replies = read_replies(c, 52)
            self.assertEqual(replies[0],
                             (250, ["250 2.1.0 Sender <a@client.example> "
                                    "OK"]))
            for r, reply in zip(rcpts, replies[1:51]):
                self.assertEqual(reply, (250, ["250 2.1.5 Recipient <%s> OK"
                                               % r]))
            self.assertEqual(replies[51][0], 354)
            self.assertEqual(c.buf, b"")   # nothing more than 52 replies
            c.send("Subject: pipelined\r\n\r\nhello\r\n.\r\n")
            qid = queued_id(c.expect(250))
            env = h.queue_show(qid)
            self.assertEqual([x["address"] for x in env["recipients"]],
                             rcpts)

    def test_replies_of_a_group_are_written_together(self):
        # The core holds replies while pipelined input is buffered and
        # writes them at the group end: the first read that returns
        # anything should already hold all of them.  A socket may still
        # split them, so this only counts writes over many tries.
        rcpts = ["user%02d@remote.example" % i for i in range(20)]
        wire = "RSET\r\nMAIL FROM:<a@client.example>\r\n"
        wire += "".join("RCPT TO:<%s>\r\n" % r for r in rcpts)
        wire += "NOOP\r\n"
        whole = 0
        with Herald(COMMON, modules=["mod_pipelining"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            for _ in range(10):
                c.send(wire)
                # the first read returns as soon as anything arrives: one
                # reply per write would show up here as a short read
                c.sock.settimeout(5)
                first = c.sock.recv(1 << 20)
                if first.count(b"\r\n") == len(rcpts) + 3:
                    whole += 1
                c.buf += first
                read_replies(c, len(rcpts) + 3)
                self.assertEqual(c.buf, b"")
        self.assertGreaterEqual(whole, 8)

    def test_group_without_end_is_answered_when_input_is_drained(self):
        with Herald(COMMON, modules=["mod_pipelining"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.send("MAIL FROM:<a@client.example>\r\n"
                   "RCPT TO:<b@remote.example>\r\n")
            self.assertEqual([x[0] for x in read_replies(c, 2)], [250, 250])
            c.cmd("RSET", 250)

    def test_refused_recipients_keep_their_place(self):
        config = COMMON.replace("relay = true", "relay = false") + \
            '[session.rcpt.lookup]\ndomains = ["local.example"]\n'
        with Herald(config, modules=["mod_pipelining"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.send("MAIL FROM:<a@client.example>\r\n"
                   "RCPT TO:<x@remote.example>\r\n"
                   "RCPT TO:<y@local.example>\r\n"
                   "RCPT TO:<z@elsewhere.example>\r\n"
                   "RCPT TO:<w@local.example>\r\n"
                   "DATA\r\n")
            codes = [x[0] for x in read_replies(c, 6)]
            self.assertEqual(codes, [250, 550, 250, 550, 250, 354])
            c.send("Subject: x\r\n\r\nhi\r\n.\r\n")
            env = h.queue_show(queued_id(c.expect(250)))
            self.assertEqual([x["address"] for x in env["recipients"]],
                             ["y@local.example", "w@local.example"])

    def test_smtplib_session(self):
        with Herald(COMMON, modules=["mod_pipelining"]) as h:
            s = h.smtplib()
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("pipelining"))
            refused = s.sendmail("a@client.example",
                                 ["b@remote.example", "c@remote.example"],
                                 b"Subject: smtplib\r\n\r\nhello\r\n")
            self.assertEqual(refused, {})
            s.quit()
            self.assertEqual(len(h.queue_ids()), 1)


class UnsolicitedTest(unittest.TestCase):
    def assert_dropped(self, h, listener="smtp"):
        queued = len(h.queue_ids())
        c = h.client(listener)
        _, ehlo = c.cmd("EHLO client.example", 250)
        self.assertNotIn("250-PIPELINING", ehlo)
        c.send("MAIL FROM:<a@client.example>\r\n"
               "RCPT TO:<b@remote.example>\r\n")
        replies = []
        try:
            while True:
                replies.append(c.reply())
        except (EOFError, ConnectionResetError, socket.timeout):
            pass
        self.assertTrue(replies, "no reply at all")
        code, lines = replies[-1]
        self.assertEqual(code, 554, replies)
        self.assertTrue(lines[0].startswith("554 5.5.0 "), lines)
        self.assertTrue(c.closed())
        self.assertEqual(len(h.queue_ids()), queued)

    def test_module_not_loaded(self):
        with Herald(COMMON) as h:
            self.assert_dropped(h)

    def test_setting_false(self):
        with Herald(COMMON + "[session.extensions]\npipelining = false\n",
                    modules=["mod_pipelining"]) as h:
            self.assert_dropped(h)

    def test_one_command_at_a_time_is_fine_without_it(self):
        with Herald(COMMON + "[session.extensions]\npipelining = false\n",
                    modules=["mod_pipelining"]) as h:
            s = h.smtplib()
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("pipelining"))
            s.sendmail("a@client.example", ["b@remote.example"],
                       b"Subject: x\r\n\r\nhi\r\n")
            s.quit()
            self.assertEqual(len(h.queue_ids()), 1)

    def test_body_sent_with_data_without_pipelining(self):
        # DATA and its body in one write: the body is sent ahead of the
        # 354 (RFC 5321 §3.3); without PIPELINING that is out of step too
        with Herald(COMMON) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send("DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\n")
            got = []
            try:
                while True:
                    got.append(c.reply()[0])
            except (EOFError, ConnectionResetError, socket.timeout):
                pass
            self.assertEqual(got[-1], 554, got)
            self.assertNotIn(250, got)
            self.assertEqual(h.queue_ids(), [])


class ExpressionTest(unittest.TestCase):
    RULE = ('[session.extensions]\npipelining = [ { if = "listener", '
            'eq = "submission", then = true }, { else = false } ]\n')

    def test_per_listener(self):
        with Herald(COMMON + self.RULE, modules=["mod_pipelining"],
                    listeners=("smtp", "submission")) as h:
            sub = h.client("submission")
            _, ehlo = sub.cmd("EHLO client.example", 250)
            self.assertIn("250-PIPELINING", ehlo)
            sub.send("MAIL FROM:<a@client.example>\r\n"
                     "RCPT TO:<b@remote.example>\r\nDATA\r\n")
            self.assertEqual([x[0] for x in read_replies(sub, 3)],
                             [250, 250, 354])
            sub.send("Subject: x\r\n\r\nhi\r\n.\r\n")
            sub.expect(250)
            UnsolicitedTest.assert_dropped(self, h, "smtp")

    def test_helo_domain(self):
        rule = ('[session.extensions]\npipelining = [ { if = "helo-domain",'
                ' eq = "fast.example", then = true }, { else = false } ]\n')
        with Herald(COMMON + rule, modules=["mod_pipelining"]) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO slow.example", 250)
            self.assertNotIn("250-PIPELINING", ehlo)
            # a new EHLO is a new evaluation
            _, ehlo = c.cmd("EHLO fast.example", 250)
            self.assertIn("250-PIPELINING", ehlo)
            c.send("NOOP\r\nNOOP\r\nNOOP\r\n")
            self.assertEqual([x[0] for x in read_replies(c, 3)],
                             [250, 250, 250])
            # HELO advertises nothing: sending ahead is out of step again
            c.cmd("HELO fast.example", 250)
            c.send("NOOP\r\nNOOP\r\n")
            codes = []
            try:
                while True:
                    codes.append(c.reply()[0])
            except (EOFError, ConnectionResetError, socket.timeout):
                pass
            self.assertEqual(codes[-1], 554)
            self.assertTrue(c.closed())

    def test_lmtp_lhlo(self):
        with Herald(COMMON, modules=["mod_pipelining"], listeners=("lmtp",),
                    lmtp=("lmtp",)) as h:
            c = h.client("lmtp")
            _, lhlo = c.cmd("LHLO client.example", 250)
            self.assertIn("250-PIPELINING", lhlo)
            c.send("MAIL FROM:<a@client.example>\r\n"
                   "RCPT TO:<x@remote.example>\r\n"
                   "RCPT TO:<y@remote.example>\r\nDATA\r\n")
            self.assertEqual([x[0] for x in read_replies(c, 4)],
                             [250, 250, 250, 354])
            c.send("Subject: x\r\n\r\nhi\r\n.\r\n")
            self.assertIn("<x@remote.example>", c.expect(250)[0])
            self.assertIn("<y@remote.example>", c.expect(250)[0])

    def test_config_check(self):
        ok, _ = check_config(self.RULE, ["mod_pipelining"])
        self.assertEqual(ok.returncode, 0, ok.stderr)
        # `rcpt` is not known when the EHLO reply is built
        bad, _ = check_config(
            '[session.extensions]\npipelining = [ { if = "rcpt", eq = "x",'
            ' then = true }, { else = false } ]\n', ["mod_pipelining"])
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("rcpt", bad.stderr + bad.stdout)
        bad, _ = check_config('[session.extensions]\npipelining = 1\n',
                              ["mod_pipelining"])
        self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    unittest.main()
