"""test_deliverby.py -- mod_deliverby (RFC 2852) over real sockets.

DELIVERBY is switched on for the "submission" listener only (the seed's
`authenticated-as` rule is checked with `herald -t`: AUTH is not there
yet).  A second server sets [session.deliver-by] min-time.
"""

import calendar
import time
import unittest

from harness import Herald, check_config, queued_id

MAX = 15 * 24 * 3600

CONFIG = """
[session.extensions]
deliver-by = [ { if = "listener", eq = "submission", then = "15d" },
               { else = false } ]
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
max = 100
"""

CONFIG_MIN = CONFIG + """
[session.deliver-by]
min-time = "5m"
"""

SEED = """
[session.extensions]
deliver-by = [ { if = "authenticated-as", ne = "", then = "15d"},
               { else = false } ]
"""

MODULES = ["mod_deliverby"]


def parse_utc(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def ehlo(c, name="client.example"):
    code, lines = c.cmd("EHLO " + name, 250)
    return [line[4:] for line in lines[1:]]


def send(c, mail_args, code=250):
    """MAIL with @mail_args, one RCPT, a message: the queue id, or the
    MAIL reply lines when MAIL is not answered 250."""
    got, lines = c.cmd("MAIL FROM:<sender@client.example>" + mail_args)
    assert got == code, "MAIL%s: expected %d, got %r" % (mail_args, code,
                                                         lines)
    if got != 250:
        return lines
    c.cmd("RCPT TO:<rcpt@remote.example>", 250)
    c.cmd("DATA", 354)
    c.send("Subject: urgent\r\n\r\nbefore the deadline\r\n.\r\n")
    return queued_id(c.expect(250))


class DeliverByTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.h = Herald(CONFIG, modules=MODULES,
                       listeners=("smtp", "submission")).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def client(self, listener="submission"):
        c = self.h.client(listener)
        self.addCleanup(c.close)
        self.caps = ehlo(c)
        return c

    def fields(self, qid):
        return self.h.queue_show(qid)["fields"]

    # -- advertisement ---------------------------------------------------
    def test_advertised_without_min(self):
        self.client()
        self.assertIn("DELIVERBY", self.caps)
        self.assertFalse([l for l in self.caps if l.startswith("DELIVERBY ")],
                         self.caps)

    def test_not_advertised_on_smtp(self):
        self.client("smtp")
        self.assertFalse([l for l in self.caps if "DELIVERBY" in l],
                         self.caps)

    def test_refused_where_not_advertised(self):
        c = self.client("smtp")
        lines = send(c, " BY=3600;R", 555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)

    # -- accepted --------------------------------------------------------
    def test_return_mode(self):
        c = self.client()
        before = int(time.time())
        qid = send(c, " BY=3600;R")
        after = int(time.time())
        f = self.fields(qid)
        deadline = int(f["deliverby.deadline-unix"])
        self.assertGreaterEqual(deadline, before + 3600)
        self.assertLessEqual(deadline, after + 3600)
        self.assertEqual(parse_utc(f["deliverby.deadline"]), deadline)
        self.assertEqual(f["deliverby.mode"], "R")
        self.assertEqual(f["deliverby.by-time"], "3600")
        self.assertNotIn("deliverby.trace", f)

    def test_notify_negative_with_trace(self):
        c = self.client()
        now = int(time.time())
        qid = send(c, " BY=-60;NT")
        f = self.fields(qid)
        self.assertLessEqual(abs(int(f["deliverby.deadline-unix"]) -
                                 (now - 60)), 2)
        self.assertEqual(f["deliverby.mode"], "N")
        self.assertEqual(f["deliverby.trace"], "1")
        self.assertEqual(f["deliverby.by-time"], "-60")

    def test_notify_zero_and_plus_sign(self):
        c = self.client()
        f = self.fields(send(c, " BY=0;N"))
        self.assertEqual(f["deliverby.by-time"], "0")
        f = self.fields(send(c, " BY=+120;rt"))
        self.assertEqual(f["deliverby.mode"], "R")
        self.assertEqual(f["deliverby.trace"], "1")
        self.assertEqual(f["deliverby.by-time"], "120")

    def test_maximum_accepted(self):
        c = self.client()
        f = self.fields(send(c, " BY=%d;R" % MAX))
        self.assertEqual(f["deliverby.by-time"], str(MAX))

    def test_no_param_no_fields(self):
        c = self.client()
        f = self.fields(send(c, ""))
        self.assertFalse([k for k in f if k.startswith("deliverby.")], f)

    # -- errors ----------------------------------------------------------
    def assert_refused(self, arg, code, enhanced="5.5.4"):
        c = self.client()
        lines = send(c, arg, code)
        self.assertTrue(lines[0].startswith("%d %s" % (code, enhanced)),
                        lines)
        c.cmd("RCPT TO:<rcpt@remote.example>", 503)

    def test_malformed(self):
        for value in ("3600", "3600;", "3600;X", "abc;R", "1000000000;R",
                      "3600;RX", "3600;TR", "1h;R", ";R", "36.5;N", ""):
            with self.subTest(value=value):
                self.assert_refused(" BY=" + value, 501)

    def test_without_value(self):
        self.assert_refused(" BY", 501)

    def test_return_needs_positive_time(self):
        self.assert_refused(" BY=0;R", 501)
        self.assert_refused(" BY=-30;RT", 501)

    def test_over_maximum(self):
        self.assert_refused(" BY=%d;R" % (MAX + 1), 555)
        self.assert_refused(" BY=%d;N" % (MAX + 1), 555)

    def test_duplicate(self):
        self.assert_refused(" BY=60;R BY=60;R", 555)


class DeliverByMinTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.h = Herald(CONFIG_MIN, modules=MODULES,
                       listeners=("smtp", "submission")).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def test_advertised_with_min(self):
        c = self.h.client("submission")
        caps = ehlo(c)
        self.assertIn("DELIVERBY 300", caps)
        c.close()

    def test_below_min_refused_for_return(self):
        c = self.h.client("submission")
        ehlo(c)
        lines = send(c, " BY=299;R", 555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        qid = send(c, " BY=300;R")
        self.assertEqual(self.h.queue_show(qid)["fields"]["deliverby.mode"],
                         "R")
        c.close()

    def test_below_min_allowed_for_notify(self):
        c = self.h.client("submission")
        ehlo(c)
        qid = send(c, " BY=10;N")
        self.assertEqual(self.h.queue_show(qid)["fields"]["deliverby.mode"],
                         "N")
        c.close()


class DeliverByConfigTest(unittest.TestCase):

    def test_seed_snippet_checks(self):
        result, _ = check_config(SEED, modules=MODULES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_seed_not_advertised_without_auth(self):
        with Herald(SEED, modules=MODULES) as h:
            c = h.client()
            caps = ehlo(c)
            self.assertFalse([l for l in caps if "DELIVERBY" in l], caps)
            c.cmd("MAIL FROM:<a@client.example> BY=60;R", 555)
            c.close()

    def test_min_time_checks(self):
        result, _ = check_config(CONFIG_MIN, modules=MODULES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_bad_min_time_rejected(self):
        result, _ = check_config(
            '[session.deliver-by]\nmin-time = "soon"\n', modules=MODULES)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("min-time", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
