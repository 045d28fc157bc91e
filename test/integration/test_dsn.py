"""test_dsn.py -- mod_dsn (RFC 3461) against the real server.

DSN is advertised per session from an expression (here: only on the
submission listener, since authentication is another module's); RET,
ENVID, NOTIFY and ORCPT are accepted only where DSN was advertised
(555 5.5.4 elsewhere), every bad value gets 501 5.5.4, and what the
client gave lands in the envelope that `herald queue show --json` prints.
"""

import unittest

from harness import Herald, check_config, queued_id

MODULES = ["mod_dsn"]
# the modules whose keys the seed snippet uses
SEED_MODULES = ["mod_dsn", "mod_mtpriority", "mod_nosoliciting"]

BASE = """
[session.errors]
wait = "0s"
max = 1000
[session.rcpt]
relay = true
"""

PER_LISTENER = BASE + """
[session.extensions]
dsn = [ { if = "listener", eq = "submission", then = true },
        { else = false } ]
"""

# The seed's [session.extensions] keys of this area, exactly as written.
SEED = """
[session.extensions]
no-soliciting = ""
dsn = [ { if = "authenticated-as", ne = "", then = true},
        { else = false } ]
mt-priority = [ { if = "authenticated-as", ne = "", then = "mixer"},
                { else = false } ]
"""

MESSAGE = "Subject: dsn test\r\n\r\nbody\r\n.\r\n"


def ehlo_keywords(lines):
    """The keywords of an EHLO reply (first word of each line but the
    greeting)."""
    return [line[4:].split(" ")[0].upper() for line in lines[1:]]


def send(h, mail, rcpts, listener="submission"):
    """One message: MAIL line, RCPT lines; returns the queued envelope."""
    c = h.client(listener)
    c.cmd("EHLO client.example", 250)
    c.cmd(mail, 250)
    for rcpt in rcpts:
        c.cmd(rcpt, 250)
    c.cmd("DATA", 354)
    c.send(MESSAGE)
    code, lines = c.reply()
    assert code == 250, lines
    c.cmd("QUIT", 221)
    c.close()
    return h.queue_show(queued_id(lines))


class DsnConfig(unittest.TestCase):
    def test_seed_snippet_loads(self):
        out, _ = check_config(SEED, modules=SEED_MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_per_listener_expression_loads(self):
        out, _ = check_config(PER_LISTENER, modules=MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_not_a_boolean_is_refused(self):
        out, path = check_config('[session.extensions]\ndsn = "yes"\n',
                                 modules=MODULES)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("session.extensions.dsn", out.stderr + out.stdout)


class DsnAdvertised(unittest.TestCase):
    def test_only_where_the_expression_says(self):
        with Herald(PER_LISTENER, modules=MODULES,
                    listeners=("smtp", "submission")) as h:
            c = h.client("submission")
            _, lines = c.cmd("EHLO client.example", 250)
            self.assertIn("DSN", ehlo_keywords(lines))
            self.assertIn("250-DSN", lines)        # the keyword alone
            c.close()
            c = h.client("smtp")
            _, lines = c.cmd("EHLO client.example", 250)
            self.assertNotIn("DSN", ehlo_keywords(lines))
            c.close()

    def test_seed_config_unauthenticated_has_no_dsn(self):
        with Herald(BASE + SEED, modules=SEED_MODULES) as h:
            c = h.client()
            _, lines = c.cmd("EHLO client.example", 250)
            for keyword in ("DSN", "MT-PRIORITY", "NO-SOLICITING"):
                self.assertNotIn(keyword, ehlo_keywords(lines))
            c.cmd("MAIL FROM:<a@sender.example> RET=FULL", 555)
            c.close()

    def test_helo_session_gets_555(self):
        with Herald(PER_LISTENER, modules=MODULES,
                    listeners=("smtp", "submission")) as h:
            c = h.client("submission")
            c.cmd("HELO client.example", 250)
            _, lines = c.cmd("MAIL FROM:<a@sender.example> RET=FULL", 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
            c.close()


class DsnParameters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Herald(PER_LISTENER, modules=MODULES,
                       listeners=("smtp", "submission")).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def test_all_parameters_stored(self):
        env = send(self.h,
                   "MAIL FROM:<a@sender.example> RET=hdrs ENVID=QQ+2B314159",
                   ["RCPT TO:<one@rcpt.example> NOTIFY=failure,SUCCESS "
                    "ORCPT=rfc822;one+2Bx@rcpt.example",
                    "RCPT TO:<two@rcpt.example> NOTIFY=NEVER",
                    "RCPT TO:<three@rcpt.example>"])
        f = env["fields"]
        self.assertEqual(f["dsn.ret"], "HDRS")
        self.assertEqual(f["dsn.envid"], "QQ+314159")
        self.assertEqual(f["dsn.envid.xtext"], "QQ+2B314159")
        r1, r2, r3 = env["recipients"]
        self.assertEqual(r1["address"], "one@rcpt.example")
        self.assertEqual(r1["fields"]["dsn.notify"], "SUCCESS,FAILURE")
        self.assertEqual(r1["fields"]["dsn.orcpt"],
                         "rfc822;one+2Bx@rcpt.example")
        self.assertEqual(r1["fields"]["dsn.orcpt.type"], "rfc822")
        self.assertEqual(r1["fields"]["dsn.orcpt.address"],
                         "one+x@rcpt.example")
        self.assertEqual(r2["fields"], {"dsn.notify": "NEVER"})
        # nothing given, nothing stored: no defaults are made up
        self.assertEqual(r3["fields"], {})

    def test_no_parameters_no_fields(self):
        env = send(self.h, "MAIL FROM:<a@sender.example>",
                   ["RCPT TO:<one@rcpt.example>"])
        self.assertFalse(any(k.startswith("dsn.") for k in env["fields"]))

    def test_ret_full_and_delay(self):
        env = send(self.h, "MAIL FROM:<> RET=FULL",
                   ["RCPT TO:<one@rcpt.example> NOTIFY=DELAY"])
        self.assertEqual(env["fields"]["dsn.ret"], "FULL")
        self.assertNotIn("dsn.envid", env["fields"])
        self.assertEqual(env["recipients"][0]["fields"]["dsn.notify"],
                         "DELAY")

    def test_utf8_orcpt(self):
        # RFC 6533 §3: utf-8-addr-xtext without SMTPUTF8 ...
        env = send(self.h, "MAIL FROM:<a@sender.example>",
                   ["RCPT TO:<one@rcpt.example> "
                    "ORCPT=utf-8;j\\x{E9}r\\x{F4}me@rcpt.example"])
        f = env["recipients"][0]["fields"]
        self.assertEqual(f["dsn.orcpt.type"], "utf-8")
        self.assertEqual(f["dsn.orcpt.address"], "jérôme@rcpt.example")
        # ... and utf-8-addr-unitext with it
        env = send(self.h, "MAIL FROM:<a@sender.example> SMTPUTF8",
                   ["RCPT TO:<one@rcpt.example> "
                    "ORCPT=utf-8;jérôme@rcpt.example"])
        f = env["recipients"][0]["fields"]
        self.assertEqual(f["dsn.orcpt"], "utf-8;jérôme@rcpt.example")
        self.assertEqual(f["dsn.orcpt.address"], "jérôme@rcpt.example")

    def test_smtplib_options(self):
        s = self.h.smtplib("submission")
        s.ehlo("client.example")
        self.assertTrue(s.has_extn("dsn"))
        refused = s.sendmail("a@sender.example", ["one@rcpt.example"],
                             "Subject: x\r\n\r\nbody\r\n",
                             mail_options=["RET=HDRS", "ENVID=lib+2Bid"],
                             rcpt_options=["NOTIFY=SUCCESS,DELAY",
                                           "ORCPT=rfc822;one@rcpt.example"])
        self.assertEqual(refused, {})
        s.quit()
        envs = [self.h.queue_show(q) for q in self.h.queue_ids()]
        env = [e for e in envs
               if e["fields"].get("dsn.envid") == "lib+id"]
        self.assertEqual(len(env), 1)
        self.assertEqual(env[0]["fields"]["dsn.ret"], "HDRS")
        self.assertEqual(env[0]["recipients"][0]["fields"]["dsn.notify"],
                         "SUCCESS,DELAY")

    def test_rset_forgets(self):
        c = self.h.client("submission")
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<a@sender.example> RET=HDRS ENVID=first", 250)
        c.cmd("RSET", 250)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example>", 250)
        c.cmd("DATA", 354)
        c.send(MESSAGE)
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        env = self.h.queue_show(queued_id(lines))
        self.assertNotIn("dsn.ret", env["fields"])
        self.assertNotIn("dsn.envid", env["fields"])
        c.close()

    def test_not_advertised_gets_555(self):
        c = self.h.client("smtp")
        c.cmd("EHLO client.example", 250)
        for param in ("RET=FULL", "ENVID=abc"):
            _, lines = c.cmd("MAIL FROM:<a@sender.example> " + param, 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        for param in ("NOTIFY=SUCCESS", "ORCPT=rfc822;one@rcpt.example"):
            _, lines = c.cmd("RCPT TO:<one@rcpt.example> " + param, 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.close()

    def test_wrong_command_gets_555(self):
        c = self.h.client("submission")
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<a@sender.example> NOTIFY=SUCCESS", 555)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example> RET=FULL", 555)
        c.cmd("RCPT TO:<one@rcpt.example> ENVID=x", 555)
        c.close()

    def test_bad_mail_values_get_501(self):
        bad = ["RET", "RET=", "RET=HEADERS", "RET=FULL,HDRS",
               "ENVID", "ENVID=", "ENVID=a+2bb", "ENVID=a+2", "ENVID=a+00",
               "ENVID=a+0Ab", "ENVID=a+C3+A9", "ENVID=" + "x" * 101,
               "ENVID=" + "x" * 98 + "+2B"]
        c = self.h.client("submission")
        c.cmd("EHLO client.example", 250)
        for param in bad:
            _, lines = c.cmd("MAIL FROM:<a@sender.example> " + param, 501)
            self.assertTrue(lines[0].startswith("501 5.5.4"),
                            (param, lines))
        # the limit itself is fine, and the session still works
        c.cmd("MAIL FROM:<a@sender.example> ENVID=" + "x" * 100, 250)
        c.close()

    def test_bad_rcpt_values_get_501(self):
        bad = ["NOTIFY", "NOTIFY=", "NOTIFY=NEVER,SUCCESS",
               "NOTIFY=FAILURE,NEVER", "NOTIFY=SUCCESS,SUCCESS",
               "NOTIFY=SUCCESS,", "NOTIFY=,FAILURE", "NOTIFY=ALWAYS",
               "NOTIFY=SUCCESS;FAILURE",
               "ORCPT", "ORCPT=", "ORCPT=rfc822", "ORCPT=rfc822;",
               "ORCPT=;one@rcpt.example", "ORCPT=rfc822;a+2b@rcpt.example",
               "ORCPT=rfc822;a+0D+0A@rcpt.example",
               "ORCPT=rfc(822);a@rcpt.example",
               "ORCPT=utf-8;a+2Bb@rcpt.example",
               "ORCPT=utf-8;\\x{41}@rcpt.example",
               "ORCPT=utf-8;jérôme@rcpt.example",     # no SMTPUTF8
               "ORCPT=rfc822;" + "x" * 494]
        c = self.h.client("submission")
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        for param in bad:
            _, lines = c.cmd("RCPT TO:<bad@rcpt.example> " + param, 501)
            self.assertTrue(lines[0].startswith("501 5.5.4"),
                            (param, lines))
        # the transaction goes on: none of the refused recipients is kept
        c.cmd("RCPT TO:<good@rcpt.example> ORCPT=rfc822;" + "x" * 493, 250)
        c.cmd("DATA", 354)
        c.send(MESSAGE)
        code, lines = c.reply()
        self.assertEqual(code, 250, lines)
        env = self.h.queue_show(queued_id(lines))
        self.assertEqual([r["address"] for r in env["recipients"]],
                         ["good@rcpt.example"])
        self.assertEqual(env["recipients"][0]["fields"]["dsn.orcpt.address"],
                         "x" * 493)
        c.close()

    def test_duplicate_parameter_gets_555(self):
        c = self.h.client("submission")
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<a@sender.example> RET=FULL RET=HDRS", 555)
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example> NOTIFY=DELAY NOTIFY=FAILURE", 555)
        c.close()


if __name__ == "__main__":
    unittest.main()
