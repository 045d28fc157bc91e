"""test_nosoliciting.py -- mod_nosoliciting (RFC 3865) against the real
server.

The keyword list comes from an expression on the listener: the
submission listener refuses "net.example:ADV" and "org.example:BULK"
and advertises them; the smtp listener has "" (the seed's value), which
turns the extension off.  SOLICIT is accepted only where NO-SOLICITING
was advertised (555 5.5.4 elsewhere), bad syntax gets 501 5.5.4, a
refused keyword 554 5.7.1, and accepted keywords land in the envelope.
"""

import unittest

from harness import Herald, check_config, queued_id

MODULES = ["mod_nosoliciting"]
SEED_MODULES = ["mod_dsn", "mod_mtpriority", "mod_nosoliciting"]

BASE = """
[session.errors]
wait = "0s"
max = 1000
[session.rcpt]
relay = true
"""

PER_LISTENER = BASE + (
    '[session.extensions]\n'
    'no-soliciting = [\n'
    '    { if = "listener", eq = "submission", '
    'then = "net.example:ADV, org.example:BULK" },\n'
    '    { else = "" } ]\n')

# The seed's [session.extensions] keys of this area, exactly as written.
SEED = """
[session.extensions]
no-soliciting = ""
dsn = [ { if = "authenticated-as", ne = "", then = true},
        { else = false } ]
mt-priority = [ { if = "authenticated-as", ne = "", then = "mixer"},
                { else = false } ]
"""

MESSAGE = "Subject: offer\r\n\r\nbody\r\n.\r\n"


def ehlo(h, listener="submission"):
    c = h.client(listener)
    _, lines = c.cmd("EHLO client.example", 250)
    return c, lines


class NoSolicitingConfig(unittest.TestCase):
    def test_seed_snippet_loads(self):
        out, _ = check_config(SEED, modules=SEED_MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_per_listener_loads(self):
        out, _ = check_config(PER_LISTENER, modules=MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_bad_keyword_list_is_refused(self):
        for value in ('"net.example:ADV,,x"', '"9adv"', '"a;b"',
                      '"net example"'):
            out, _ = check_config("[session.extensions]\nno-soliciting = %s\n"
                                  % value, modules=MODULES)
            self.assertNotEqual(out.returncode, 0, value)
            self.assertRegex(out.stderr + out.stdout,
                             r"herald\.toml:\d+: setting "
                             r"'session\.extensions\.no-soliciting'")

    def test_false_is_off(self):
        out, _ = check_config("[session.extensions]\nno-soliciting = false\n",
                              modules=MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)


class NoSolicitingAdvertised(unittest.TestCase):
    def test_line_where_configured(self):
        with Herald(PER_LISTENER, modules=MODULES,
                    listeners=("smtp", "submission")) as h:
            c, lines = ehlo(h, "submission")
            self.assertIn(
                "250-NO-SOLICITING net.example:ADV,org.example:BULK", lines)
            c.close()
            c, lines = ehlo(h, "smtp")
            self.assertFalse([l for l in lines if "NO-SOLICITING" in l])
            c.close()

    def test_seed_config_is_off(self):
        with Herald(BASE + SEED, modules=SEED_MODULES) as h:
            c, lines = ehlo(h, "smtp")
            self.assertFalse([l for l in lines if "NO-SOLICITING" in l])
            _, lines = c.cmd("MAIL FROM:<a@sender.example> SOLICIT=ADV", 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
            c.close()


class NoSolicitingParameter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Herald(PER_LISTENER, modules=MODULES,
                       listeners=("smtp", "submission")).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def test_other_keywords_accepted_and_stored(self):
        c, _ = ehlo(self.h)
        c.cmd("MAIL FROM:<a@sender.example> "
              "SOLICIT=com.example:NEWS,net.example:ADVERT", 250)
        c.cmd("RCPT TO:<one@rcpt.example>", 250)
        c.cmd("DATA", 354)
        c.send(MESSAGE)
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        env = self.h.queue_show(queued_id(lines))
        self.assertEqual(env["fields"]["nosoliciting.solicit"],
                         "com.example:NEWS,net.example:ADVERT")
        c.close()

    def test_no_parameter_no_field(self):
        c, _ = ehlo(self.h)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example>", 250)
        c.cmd("DATA", 354)
        c.send(MESSAGE)
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        env = self.h.queue_show(queued_id(lines))
        self.assertNotIn("nosoliciting.solicit", env["fields"])
        c.close()

    def test_refused_keyword_gets_554(self):
        before = set(self.h.queue_ids())
        c, _ = ehlo(self.h)
        for value in ("net.example:ADV", "NET.EXAMPLE:adv",
                      "com.example:NEWS,org.example:BULK"):
            _, lines = c.cmd("MAIL FROM:<a@sender.example> SOLICIT=" + value,
                             554)
            self.assertTrue(lines[0].startswith("554 5.7.1"), lines)
        # no transaction was opened: RCPT needs MAIL first
        c.cmd("RCPT TO:<one@rcpt.example>", 503)
        c.close()
        self.assertEqual(set(self.h.queue_ids()), before)

    def test_bad_syntax_gets_501(self):
        c, _ = ehlo(self.h)
        for param in ("SOLICIT", "SOLICIT=", "SOLICIT=9adv", "SOLICIT=,adv",
                      "SOLICIT=adv,", "SOLICIT=a,,b", "SOLICIT=a;b",
                      "SOLICIT=a/b", "SOLICIT=caf\u00e9",
                      "SOLICIT=" + "a" * 129,
                      "SOLICIT=" + ",".join("k%d" % i for i in range(33))):
            _, lines = c.cmd("MAIL FROM:<a@sender.example> " + param, 501)
            self.assertTrue(lines[0].startswith("501 5.5.4"),
                            (param, lines))
        c.cmd("MAIL FROM:<a@sender.example> SOLICIT=" + "a" * 128, 250)
        c.close()

    def test_not_advertised_gets_555(self):
        c, _ = ehlo(self.h, "smtp")
        _, lines = c.cmd("MAIL FROM:<a@sender.example> SOLICIT=x.example:Y",
                         555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.close()

    def test_rcpt_parameter_gets_555(self):
        c, _ = ehlo(self.h)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example> SOLICIT=x.example:Y", 555)
        c.close()


if __name__ == "__main__":
    unittest.main()
