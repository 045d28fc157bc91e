"""test_ehlo.py -- mod_ehlo over real sockets: session.ehlo.require and
session.ehlo.reject-non-fqdn, evaluated per session (listener, remote-ip,
helo-domain), for HELO, EHLO and LHLO; plus `herald -t` on the seed's
[session.ehlo] snippet.

Replies checked: 550 5.5.0 for a name that is not an FQDN (RFC 5321
§4.1.4, §4.3.2), 503 5.5.1 for MAIL before a greeting, 501 5.5.2 from the
core for a name that is not even a Domain.
"""

import os
import shutil
import smtplib
import time
import unittest

from harness import Herald, check_config, module_dirs

# The seed's [session.ehlo] (without `script`, which is mod_sieve's).
SEED_EHLO = """
[session.ehlo]
require = true
reject-non-fqdn = [ { if = "listener", eq = "smtp", then = true},
                    { else = false } ]
"""

COMMON = """
[session.errors]
wait = "0s"
max = 1000
[session.rcpt]
relay = true
"""

LISTENERS = ("smtp", "submission")


def seed_server(extra=""):
    return Herald(SEED_EHLO + COMMON + extra, modules=["mod_ehlo"],
                  listeners=LISTENERS)


def module_file_exists(name):
    return any(os.path.exists(os.path.join(d, name + ".so"))
               for d in module_dirs())


# name -> (reply on the smtp listener, reply on submission).  501 comes
# from the core (not a Domain at all); 550 from mod_ehlo (a Domain, but
# not fully-qualified) and only where reject-non-fqdn is true.
LONG_OK = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])      # 253
LONG_NOT_FQDN = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 62])  # 254
FQDN_TABLE = [
    ("mx.example.org", 250, 250),
    ("MX.Example.ORG", 250, 250),
    ("a.b", 250, 250),
    ("mail-1.example", 250, 250),
    ("xn--bcher-kva.example", 250, 250),
    ("host.example123", 250, 250),
    (LONG_OK, 250, 250),
    ("[192.0.2.1]", 250, 250),
    ("[IPv6:2001:db8::1]", 250, 250),
    ("[IPv6:::1]", 250, 250),
    ("localhost", 550, 250),
    ("LOCALHOST", 550, 250),
    ("User", 550, 250),
    ("mail", 550, 250),
    ("3f2a9c1b7d4e", 550, 250),        # a container id
    ("a1b2c3d4e5f60718", 550, 250),
    ("192.0.2.1", 550, 250),           # an IPv4 address without brackets
    ("host.123", 550, 250),            # numeric top-level label
    (LONG_NOT_FQDN, 550, 250),         # over 253 octets
    ("mx.example.org.", 501, 501),     # RFC 5321 Domain: no trailing dot
    ("my_host.example", 501, 501),
    ("-bad.example", 501, 501),
    ("bad-.example", 501, 501),
    ("a..example", 501, 501),
    ("x" * 64 + ".example", 501, 501),  # label over 63
    ("[192.0.2.300]", 501, 501),
    ("[IPv6:zz::1]", 501, 501),
    ("b\u00fccher.example", 501, 501),  # U-labels are not for EHLO
]


class EhloFqdnTest(unittest.TestCase):
    """reject-non-fqdn with the seed's rule: on for `smtp` only."""

    @classmethod
    def setUpClass(cls):
        cls.h = seed_server().start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def greet(self, listener, line, code):
        c = self.h.client(listener)
        try:
            got, lines = c.cmd(line)
            self.assertEqual(got, code, "%s on %s: %r"
                             % (line[:40], listener, lines))
            return lines
        finally:
            c.close()

    def test_localhost_refused_on_smtp(self):
        lines = self.greet("smtp", "EHLO localhost", 550)
        self.assertTrue(lines[-1].startswith("550 5.5.0 "), lines)
        self.assertIn("localhost", lines[-1])
        self.assertIn("fully-qualified", lines[-1])
        self.assertEqual(len(lines), 1, "no capability list on refusal")

    def test_localhost_accepted_on_submission(self):
        lines = self.greet("submission", "EHLO localhost", 250)
        self.assertGreater(len(lines), 1, "EHLO lists capabilities")
        self.assertIn("Hello localhost", lines[0])

    def test_helo_gets_the_same_checks(self):
        lines = self.greet("smtp", "HELO localhost", 550)
        self.assertTrue(lines[-1].startswith("550 5.5.0 "), lines)
        self.assertIn("HELO", lines[-1])
        self.greet("submission", "HELO localhost", 250)
        self.greet("smtp", "HELO mx.example.org", 250)
        self.greet("smtp", "HELO [192.0.2.1]", 250)

    def test_address_literals_accepted(self):
        for lit in ("[192.0.2.1]", "[127.0.0.1]", "[IPv6:2001:db8::1]",
                    "[IPv6:::1]", "[IPv6:2001:db8::192.0.2.1]"):
            self.greet("smtp", "EHLO " + lit, 250)
            self.greet("smtp", "HELO " + lit, 250)

    def test_fqdn_table(self):
        for name, on_smtp, on_submission in FQDN_TABLE:
            with self.subTest(name=name[:40]):
                lines = self.greet("smtp", "EHLO " + name, on_smtp)
                if on_smtp == 550:
                    self.assertTrue(lines[-1].startswith("550 5.5.0"), lines)
                if on_smtp == 501:
                    self.assertTrue(lines[-1].startswith("501 5.5.2"), lines)
                self.greet("submission", "EHLO " + name, on_submission)

    def test_mail_before_ehlo_refused(self):
        for listener in LISTENERS:
            c = self.h.client(listener)
            try:
                got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
                self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
                self.assertIn("EHLO", lines[-1])
                self.assertIn("Polite people say EHLO first", lines[-1])
                # with parameters too (parameters are refused otherwise
                # with 555 since nothing was advertised; either way it
                # is not a 250)
                got, _ = c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME")
                self.assertIn(got, (503, 555))
                # the session is still usable: greet, then MAIL works
                c.cmd("EHLO mx.example.org", 250)
                c.cmd("MAIL FROM:<a@example.org>", 250)
            finally:
                c.close()

    def test_refused_ehlo_leaves_session_ungreeted(self):
        c = self.h.client("smtp")
        try:
            c.cmd("EHLO localhost", 550)
            got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
            self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
            c.cmd("EHLO mx.example.org", 250)
            c.cmd("MAIL FROM:<a@example.org>", 250)
        finally:
            c.close()

    def test_refused_ehlo_after_good_one_ungreets(self):
        """A refused EHLO replaces the earlier greeting: the transaction
        is gone (RFC 5321 §4.1.4) and the session is un-greeted."""
        c = self.h.client("smtp")
        try:
            c.cmd("EHLO mx.example.org", 250)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("EHLO localhost", 550)
            got, lines = c.cmd("RCPT TO:<b@example.net>", 503)
            self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
            got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
            self.assertIn("EHLO first", lines[-1])
        finally:
            c.close()

    def test_ehlo_mid_transaction_resets_it(self):
        for verb in ("EHLO", "HELO"):
            with self.subTest(verb=verb):
                c = self.h.client("smtp")
                try:
                    c.cmd("EHLO mx.example.org", 250)
                    c.cmd("MAIL FROM:<a@example.org>", 250)
                    c.cmd("RCPT TO:<b@example.net>", 250)
                    c.cmd("%s mx.example.org" % verb, 250)
                    got, lines = c.cmd("RCPT TO:<c@example.net>", 503)
                    self.assertTrue(lines[-1].startswith("503 5.5.1 "),
                                    lines)
                    got, lines = c.cmd("DATA", 503)
                    self.assertTrue(lines[-1].startswith("503 5.5.1 "),
                                    lines)
                    # and a fresh transaction works
                    c.cmd("MAIL FROM:<a@example.org>", 250)
                finally:
                    c.close()

    def test_smtplib_happy_path(self):
        before = set(self.h.queue_ids())
        s = smtplib.SMTP("127.0.0.1", self.h.port("smtp"), timeout=10,
                         local_hostname="client.example")
        try:
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            self.assertTrue(s.has_extn("size"))
            refused = s.sendmail("a@example.org", ["b@example.net"],
                                 b"Subject: hi\r\n\r\nhello\r\n")
            self.assertEqual(refused, {})
        finally:
            s.quit()
        new = set(self.h.queue_ids()) - before
        self.assertEqual(len(new), 1)
        env = self.h.queue_show(new.pop())
        self.assertEqual(env["helo"], "client.example")
        self.assertEqual(env["listener"], "smtp")

    def test_smtplib_with_bad_name_is_refused(self):
        """smtplib tries EHLO then HELO; both are refused on `smtp`."""
        s = smtplib.SMTP("127.0.0.1", self.h.port("smtp"), timeout=10,
                         local_hostname="localhost")
        try:
            with self.assertRaises(smtplib.SMTPHeloError) as cm:
                s.sendmail("a@example.org", ["b@example.net"],
                           b"Subject: hi\r\n\r\nhello\r\n")
            self.assertEqual(cm.exception.smtp_code, 550)
        finally:
            s.close()
        # the same client is fine on submission
        s = smtplib.SMTP("127.0.0.1", self.h.port("submission"),
                         timeout=10, local_hostname="localhost")
        try:
            self.assertEqual(s.sendmail("a@example.org", ["b@example.net"],
                                        b"Subject: hi\r\n\r\nhello\r\n"),
                             {})
        finally:
            s.quit()

    def test_refusal_is_logged(self):
        self.greet("smtp", "EHLO badname", 550)
        for _ in range(50):   # bounded: the log is written by the server
            if "badname refused" in self.h.log_text():
                break
            time.sleep(0.05)
        self.assertIn("badname refused", self.h.log_text())


class EhloRequireTest(unittest.TestCase):

    def test_require_false_accepts_mail_without_ehlo(self):
        cfg = """
[session.ehlo]
require = false
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<b@example.net>", 250)
            c.cmd("DATA", 354)
            c.send("Subject: x\r\n\r\nbody\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            c.cmd("QUIT", 221)
            self.assertEqual(len(h.queue_ids()), 1)

    def test_require_defaults_to_true(self):
        with Herald(COMMON, modules=["mod_ehlo"]) as h:
            c = h.client()
            got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
            self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
            # and reject-non-fqdn defaults to false
            c.cmd("EHLO localhost", 250)
            c.cmd("MAIL FROM:<a@example.org>", 250)

    def test_require_per_listener(self):
        cfg = """
[session.ehlo]
require = [ { if = "listener", eq = "submission", then = false },
            { else = true } ]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"], listeners=LISTENERS) as h:
            c = h.client("smtp")
            c.cmd("MAIL FROM:<a@example.org>", 503)
            c.close()
            c = h.client("submission")
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.close()

    def test_require_by_remote_ip(self):
        cfg = """
[session.ehlo]
require = [ { if = "remote-ip", eq = "127.0.0.0/8", then = false },
            { else = true } ]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("MAIL FROM:<a@example.org>", 250)

    def test_lmtp_asks_for_lhlo(self):
        cfg = SEED_EHLO + COMMON
        with Herald(cfg, modules=["mod_ehlo"], listeners=("smtp", "lmtp"),
                    lmtp=("lmtp",)) as h:
            c = h.client("lmtp")
            got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
            self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
            self.assertIn("LHLO", lines[-1])
            c.cmd("LHLO localhost", 250)   # reject-non-fqdn is smtp-only
            c.cmd("MAIL FROM:<a@example.org>", 250)

    def test_lhlo_gets_the_fqdn_check(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = true
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"], listeners=("lmtp",),
                    lmtp=("lmtp",)) as h:
            c = h.client("lmtp")
            got, lines = c.cmd("LHLO localhost", 550)
            self.assertIn("LHLO", lines[-1])
            c.cmd("LHLO mx.example.org", 250)

    def test_errors_count_towards_the_limit(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = true
[session.errors]
wait = "0s"
max = 3
"""
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("EHLO one", 550)
            c.cmd("EHLO two", 550)
            got, lines = c.cmd("EHLO three", 550)
            got, lines = c.reply()
            self.assertEqual(got, 421, lines)
            self.assertTrue(lines[-1].startswith("421 4.7.0"), lines)
            self.assertTrue(c.closed())


class EhloExpressionTest(unittest.TestCase):
    """Settings are evaluated per session, with the session's variables."""

    def test_helo_domain_is_the_name_being_offered(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = [ { if = "helo-domain", eq = "legacy", then = false },
                    { else = true } ]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("EHLO legacy", 250)
            # the previous name (legacy) must not excuse this one
            c.cmd("EHLO localhost", 550)
            c.cmd("EHLO legacy", 250)
            c.close()

    def test_remote_ip(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = [ { if = "remote-ip", eq = "127.0.0.0/8", then = false },
                    { else = true } ]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("EHLO localhost", 250)
        cfg = cfg.replace("127.0.0.0/8", "192.0.2.0/24")
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("EHLO localhost", 550)

    def test_is_tls(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = [ { if = "is-tls", eq = true, then = false },
                    { else = true } ]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo"]) as h:
            c = h.client()
            c.cmd("EHLO localhost", 550)


class EhloWithSieveTest(unittest.TestCase):
    """The seed's whole EHLO stage: mod_ehlo's policy, then mod_sieve's
    `ehlo` script (which runs only after mod_ehlo accepted the name)."""

    def test_seed_ehlo_stage(self):
        if not module_file_exists("mod_sieve"):
            self.skipTest("mod_sieve.so is not built")
        cfg = SEED_EHLO + """script = "ehlo"
[sieve.scripts]
ehlo = '''
require ["variables", "extlists", "reject"];
if string :list "${env.helo_domain}" "list/blocked-domains" {
  reject "551 5.1.1 Your domain '${env.helo_domain}' has been blacklisted.";
}
'''
[list]
blocked-domains = ["spam.example", "bad.example"]
""" + COMMON
        with Herald(cfg, modules=["mod_ehlo", "mod_sieve"],
                    listeners=LISTENERS) as h:
            res = h.run("-t")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertNotIn("warning", res.stderr)
            c = h.client("smtp")
            got, lines = c.cmd("EHLO localhost", 550)
            self.assertTrue(lines[-1].startswith("550 5.5.0 "), lines)
            got, lines = c.cmd("EHLO spam.example", 551)
            self.assertIn("spam.example", lines[-1])
            c.cmd("MAIL FROM:<a@example.org>", 503)
            c.cmd("EHLO mx.example.org", 250)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.close()
            c = h.client("submission")
            c.cmd("EHLO localhost", 250)
            c.cmd("EHLO bad.example", 551)
            c.close()


class EhloConfigTest(unittest.TestCase):

    def test_seed_snippet_checks(self):
        res, _ = check_config(SEED_EHLO, modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("configuration OK", res.stdout)
        self.assertNotIn("warning", res.stderr)

    def test_seed_snippet_with_script_warns(self):
        """`script` belongs to mod_sieve: with mod_sieve not loaded it is a
        warning naming it (when the module file exists to tell)."""
        if not module_file_exists("mod_sieve"):
            self.skipTest("mod_sieve.so is not built: nobody can tell "
                          "who owns session.ehlo.script")
        res, _ = check_config(SEED_EHLO + 'script = "ehlo"\n',
                              modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 0, res.stderr)
        warn = [l for l in res.stderr.splitlines()
                if "session.ehlo.script" in l]
        self.assertEqual(len(warn), 1, res.stderr)
        self.assertTrue(warn[0].startswith("warning: "), warn)
        self.assertIn("mod_sieve", warn[0])
        self.assertIn("not loaded", warn[0])

    def test_seed_snippet_with_script_without_sieve(self):
        """Without mod_sieve.so nobody can tell who owns `script`: an
        unknown key, with its file and line; mod_ehlo does not claim it."""
        if module_file_exists("mod_sieve"):
            self.skipTest("mod_sieve.so is built: see the test above")
        res, _ = check_config(SEED_EHLO + 'script = "ehlo"\n',
                              modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertRegex(res.stderr, r"herald\.toml:\d+: unknown key "
                         r"'session\.ehlo\.script'")
        self.assertNotIn("require", res.stderr)
        self.assertNotIn("reject-non-fqdn", res.stderr)

    def test_keys_are_not_known_without_the_module(self):
        """Without mod_ehlo loaded, its keys are warnings naming it."""
        if not module_file_exists("mod_ehlo"):
            self.skipTest("mod_ehlo.so is not built")
        res, _ = check_config(SEED_EHLO)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertRegex(res.stderr, r"session\.ehlo\.require' belongs "
                         r"to mod_ehlo, which is not loaded")
        self.assertRegex(res.stderr, r"session\.ehlo\.reject-non-fqdn' "
                         r"belongs to mod_ehlo")

    def test_wrong_type_is_an_error(self):
        res, path = check_config('[session.ehlo]\nrequire = "yes"\n',
                                 modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertIn("session.ehlo.require", res.stderr)
        self.assertRegex(res.stderr, r"herald\.toml:\d+: ")

    def test_variable_outside_the_stage_is_an_error(self):
        cfg = """
[session.ehlo]
reject-non-fqdn = [ { if = "sender", eq = "a@b.example", then = true },
                    { else = false } ]
"""
        res, _ = check_config(cfg, modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertIn("sender", res.stderr)

    def test_typo_in_ehlo_section(self):
        res, _ = check_config('[session.ehlo]\nrequired = true\n',
                              modules=["mod_ehlo"])
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertRegex(res.stderr,
                         r"herald\.toml:\d+: unknown key "
                         r"'session\.ehlo\.required'")

    def test_module_lists_its_keys(self):
        h = Herald("", modules=["mod_ehlo"])
        try:
            out = h.run("-M")
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("mod_ehlo", out.stdout)
        self.assertIn("session.ehlo.require", out.stdout)
        self.assertIn("session.ehlo.reject-non-fqdn", out.stdout)
        self.assertNotIn("session.ehlo.script", out.stdout)


if __name__ == "__main__":
    unittest.main()
