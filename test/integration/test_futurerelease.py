"""test_futurerelease.py -- mod_futurerelease (RFC 4865) over real sockets.

FUTURERELEASE is switched on for the "submission" listener only (AUTH is
not there yet, so the seed's `authenticated-as` rule is checked with
`herald -t` and on a session where nobody is authenticated).
"""

import calendar
import datetime
import time
import unittest

from harness import Herald, check_config, queued_id

CONFIG = """
[session.extensions]
future-release = [ { if = "listener", eq = "submission", then = "7d" },
                   { else = false } ]
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
max = 100
"""

SEED = """
[session.extensions]
future-release = [ { if = "authenticated-as", ne = "", then = "7d"},
                   { else = false } ]
"""

WEEK = 7 * 24 * 3600
MODULES = ["mod_futurerelease"]


def rfc3339(unix, offset_minutes=0):
    """An RFC 3339 date-time for @unix written with the given offset."""
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    dt = datetime.datetime.fromtimestamp(unix, tz)
    if offset_minutes == 0:
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.isoformat(timespec="seconds")


def parse_utc(text):
    """Unix seconds of a "YYYY-MM-DDTHH:MM:SSZ" date-time (strict)."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def ehlo(c, name="client.example"):
    code, lines = c.cmd("EHLO " + name, 250)
    return [line[4:] for line in lines[1:]]


def send(c, mail_args, code=250):
    """MAIL with @mail_args, one RCPT, a small message; returns the queue
    id, or the MAIL reply lines when MAIL is not answered 250."""
    got, lines = c.cmd("MAIL FROM:<sender@client.example>" + mail_args)
    assert got == code, "MAIL%s: expected %d, got %r" % (mail_args, code,
                                                         lines)
    if got != 250:
        return lines
    c.cmd("RCPT TO:<rcpt@remote.example>", 250)
    c.cmd("DATA", 354)
    c.send("Subject: held\r\n\r\nrelease me later\r\n.\r\n")
    return queued_id(c.expect(250))


class FutureReleaseTest(unittest.TestCase):

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
        ehlo(c)
        return c

    # -- advertisement ---------------------------------------------------
    def test_advertised_on_submission(self):
        c = self.h.client("submission")
        self.addCleanup(c.close)
        before = int(time.time())
        caps = ehlo(c)
        after = int(time.time())
        lines = [l for l in caps if l.upper().startswith("FUTURERELEASE")]
        self.assertEqual(len(lines), 1, caps)
        words = lines[0].split(" ")
        self.assertEqual(len(words), 3, lines[0])
        self.assertEqual(words[0], "FUTURERELEASE")
        self.assertEqual(words[1], str(WEEK))
        until = parse_utc(words[2])     # raises when not RFC 3339 UTC
        self.assertGreaterEqual(until, before + WEEK)
        self.assertLessEqual(until, after + WEEK + 1)

    def test_not_advertised_on_smtp(self):
        c = self.h.client("smtp")
        self.addCleanup(c.close)
        caps = ehlo(c)
        self.assertFalse([l for l in caps if "FUTURERELEASE" in l.upper()],
                         caps)

    def test_refused_where_not_advertised(self):
        c = self.client("smtp")
        for arg in (" HOLDFOR=60", " HOLDUNTIL=" + rfc3339(time.time() + 60)):
            lines = send(c, arg, 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)

    def test_refused_after_helo(self):
        c = self.h.client("submission")
        self.addCleanup(c.close)
        c.cmd("HELO client.example", 250)
        lines = send(c, " HOLDFOR=60", 555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)

    # -- accepted holds --------------------------------------------------
    def test_holdfor_stored(self):
        c = self.client()
        before = int(time.time())
        qid = send(c, " HOLDFOR=3600")
        after = int(time.time())
        env = self.h.queue_show(qid)
        f = env["fields"]
        until = int(f["futurerelease.hold-until-unix"])
        self.assertGreaterEqual(until, before + 3600)
        self.assertLessEqual(until, after + 3600)
        self.assertEqual(parse_utc(f["futurerelease.hold-until"]), until)
        self.assertEqual(f["futurerelease.request"], "for;3600")
        self.assertEqual(env["mail_params"].get("HOLDFOR"), "3600")

    def test_holdfor_zero_and_maximum(self):
        c = self.client()
        now = int(time.time())
        qid = send(c, " HOLDFOR=0")
        until = int(self.h.queue_show(qid)["fields"][
            "futurerelease.hold-until-unix"])
        self.assertLessEqual(abs(until - now), 2)
        qid = send(c, " HOLDFOR=%d" % WEEK)
        until = int(self.h.queue_show(qid)["fields"][
            "futurerelease.hold-until-unix"])
        self.assertLessEqual(abs(until - (now + WEEK)), 2)

    def test_holduntil_utc(self):
        c = self.client()
        target = int(time.time()) + 86400
        value = rfc3339(target)
        qid = send(c, " HOLDUNTIL=" + value)
        f = self.h.queue_show(qid)["fields"]
        self.assertEqual(f["futurerelease.hold-until"], value)
        self.assertEqual(int(f["futurerelease.hold-until-unix"]), target)
        self.assertEqual(f["futurerelease.request"], "until;" + value)

    def test_holduntil_offset_stored_as_utc(self):
        c = self.client()
        target = int(time.time()) + 7200
        qid = send(c, " HOLDUNTIL=" + rfc3339(target, -330))
        f = self.h.queue_show(qid)["fields"]
        self.assertEqual(f["futurerelease.hold-until"], rfc3339(target))
        self.assertEqual(int(f["futurerelease.hold-until-unix"]), target)

    def test_holduntil_fraction_rounds_up(self):
        c = self.client()
        target = int(time.time()) + 600
        value = rfc3339(target).replace("Z", ".25Z")
        qid = send(c, " HOLDUNTIL=" + value)
        f = self.h.queue_show(qid)["fields"]
        self.assertEqual(int(f["futurerelease.hold-until-unix"]), target + 1)

    def test_holduntil_unix_seconds(self):
        c = self.client()
        target = int(time.time()) + 3600
        qid = send(c, " HOLDUNTIL=%d" % target)
        f = self.h.queue_show(qid)["fields"]
        self.assertEqual(int(f["futurerelease.hold-until-unix"]), target)
        self.assertEqual(f["futurerelease.hold-until"], rfc3339(target))

    def test_lowercase_keyword(self):
        c = self.client()
        qid = send(c, " holdfor=60")
        self.assertIn("futurerelease.hold-until",
                      self.h.queue_show(qid)["fields"])

    def test_no_hold_no_fields(self):
        c = self.client()
        qid = send(c, "")
        f = self.h.queue_show(qid)["fields"]
        self.assertFalse([k for k in f if k.startswith("futurerelease.")], f)

    def test_rset_forgets_hold(self):
        c = self.client()
        c.cmd("MAIL FROM:<a@client.example> HOLDFOR=60", 250)
        c.cmd("RSET", 250)
        # a new transaction may use the other parameter
        qid = send(c, " HOLDUNTIL=%d" % (int(time.time()) + 120))
        self.assertEqual(
            self.h.queue_show(qid)["fields"]["futurerelease.request"][:6],
            "until;")

    # -- errors ----------------------------------------------------------
    def assert_refused(self, arg, code=501, enhanced="5.5.4"):
        c = self.client()
        lines = send(c, arg, code)
        self.assertTrue(lines[0].startswith("%d %s" % (code, enhanced)),
                        lines)
        # the transaction was not opened
        c.cmd("RCPT TO:<rcpt@remote.example>", 503)

    def test_holdfor_malformed(self):
        for value in ("abc", "-5", "+5", "1h", "1000000000", "12.5", ""):
            with self.subTest(value=value):
                self.assert_refused(" HOLDFOR=" + value)

    def test_holdfor_without_value(self):
        self.assert_refused(" HOLDFOR")

    def test_holdfor_over_maximum(self):
        self.assert_refused(" HOLDFOR=%d" % (WEEK + 1))

    def test_holduntil_malformed(self):
        for value in ("tomorrow", "2030-02-30T00:00:00Z",
                      "2030-01-01T00:00:00", "2030-01-01 00:00:00Z",
                      "2030-01-01T25:00:00Z", "2030-01-01T00:00:00+0100"):
            with self.subTest(value=value):
                self.assert_refused(" HOLDUNTIL=" + value)

    def test_holduntil_past(self):
        self.assert_refused(" HOLDUNTIL=" + rfc3339(time.time() - 120))
        self.assert_refused(" HOLDUNTIL=%d" % (int(time.time()) - 120))

    def test_holduntil_over_maximum(self):
        self.assert_refused(" HOLDUNTIL=" +
                            rfc3339(time.time() + WEEK + 3600))

    def test_both_parameters(self):
        until = rfc3339(time.time() + 600)
        self.assert_refused(" HOLDFOR=60 HOLDUNTIL=" + until)
        self.assert_refused(" HOLDUNTIL=%s HOLDFOR=60" % until)

    def test_duplicate_parameter(self):
        # RFC 5321 §4.1.1.11 via the core: a parameter given twice
        self.assert_refused(" HOLDFOR=60 HOLDFOR=60", 555)

    def test_session_survives_errors(self):
        c = self.client()
        send(c, " HOLDFOR=x", 501)
        qid = send(c, " HOLDFOR=60")
        self.assertTrue(qid)


class FutureReleaseConfigTest(unittest.TestCase):

    def test_seed_snippet_checks(self):
        result, _ = check_config(SEED, modules=MODULES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_seed_not_advertised_without_auth(self):
        with Herald(SEED, modules=MODULES) as h:
            c = h.client()
            caps = ehlo(c)
            self.assertFalse([l for l in caps if "FUTURERELEASE" in l], caps)
            c.cmd("MAIL FROM:<a@client.example> HOLDFOR=60", 555)
            c.close()

    def test_constant_duration(self):
        with Herald('[session.extensions]\nfuture-release = "2h"\n',
                    modules=MODULES) as h:
            c = h.client()
            caps = ehlo(c)
            line = [l for l in caps if l.startswith("FUTURERELEASE ")]
            self.assertEqual(len(line), 1, caps)
            self.assertEqual(line[0].split(" ")[1], "7200")
            c.close()

    def test_default_is_off(self):
        with Herald("", modules=MODULES) as h:
            c = h.client()
            caps = ehlo(c)
            self.assertFalse([l for l in caps if "FUTURERELEASE" in l], caps)
            c.close()

    def test_bad_value_rejected(self):
        result, path = check_config(
            '[session.extensions]\nfuture-release = "banana"\n',
            modules=MODULES)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("future-release", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
