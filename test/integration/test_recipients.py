"""test_recipients.py -- mod_recipients: local mailboxes and aliases at
RCPT TO, VRFY (RFC 5321 §3.5.1) and EXPN (RFC 5321 §3.5.2), over real
sockets with a raw client and smtplib.
"""

import os
import shutil
import smtplib
import unittest

from harness import Herald

LOCAL = """
[session.errors]
wait = "0s"
max = 50
[session.rcpt.lookup]
domains = ["example.org", "example.net"]
addresses = ["alice@example.org", "Bob@example.org", "bob@example.net",
             "carol@example.net"]
vrfy = true
expn = true
[session.rcpt.lookup.aliases]
"staff@example.org" = ["alice@example.org", "bob@example.org",
                       "someone@remote.example"]
"solo@example.net" = "carol@example.net"
"big@example.org" = [%s]
""" % ", ".join('"member-%03d-of-a-rather-long-list@example.org"' % i
                for i in range(200))


def last(lines):
    return lines[-1]


class Recipients(unittest.TestCase):
    """One server with mailboxes, aliases, VRFY and EXPN enabled."""

    @classmethod
    def setUpClass(cls):
        cls.h = Herald(LOCAL, modules=["mod_recipients"])
        cls.h.start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def session(self):
        c = self.h.client()
        code, lines = c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<sender@client.example>", 250)
        return c

    def test_known_mailboxes(self):
        c = self.session()
        for rcpt in ("alice@example.org", "bob@example.org",
                     "bob@example.net", "carol@example.net"):
            c.cmd("RCPT TO:<%s>" % rcpt, 250)
        c.close()

    def test_case_and_quotes_folded(self):
        # local parts are folded (see the module's header comment)
        c = self.session()
        for rcpt in ("ALICE@EXAMPLE.ORG", "Alice@Example.Org",
                     "BOB@example.org", '"alice"@example.org',
                     '"bo\\b"@example.net'):
            c.cmd("RCPT TO:<%s>" % rcpt, 250)
        c.cmd('RCPT TO:<"al ice"@example.org>', 550)
        c.close()

    def test_unknown_local_mailbox(self):
        c = self.session()
        for rcpt in ("nobody@example.org", "alice@example.net",
                     "alice+tag@example.org", "carol@example.org"):
            code, lines = c.cmd("RCPT TO:<%s>" % rcpt, 550)
            self.assertTrue(last(lines).startswith("550 5.1.1 "), lines)
            self.assertIn("User unknown", last(lines))
        c.cmd("RCPT TO:<alice@example.org>", 250)
        c.close()

    def test_postmaster_always_accepted(self):
        # RFC 5321 §4.5.1: postmaster in every local domain, any case
        c = self.session()
        c.cmd("RCPT TO:<postmaster>", 250)
        c.cmd("RCPT TO:<postmaster@example.org>", 250)
        c.cmd("RCPT TO:<PostMaster@example.net>", 250)
        c.close()

    def test_alias_is_a_recipient(self):
        c = self.session()
        c.cmd("RCPT TO:<staff@example.org>", 250)
        c.cmd("RCPT TO:<Solo@example.net>", 250)
        c.close()

    def test_remote_without_relay(self):
        # not local: the core's relay rule (relay defaults to false)
        c = self.session()
        code, lines = c.cmd("RCPT TO:<someone@remote.example>", 550)
        self.assertTrue(last(lines).startswith("550 5.7.1 "), lines)
        c.cmd("RCPT TO:<alice@[127.0.0.1]>", 550)
        c.close()

    def test_message_to_known_mailbox(self):
        s = self.h.smtplib()
        refused = s.sendmail("sender@client.example",
                             ["alice@example.org", "nobody@example.org"],
                             b"Subject: hi\r\n\r\nhello\r\n")
        self.assertEqual(list(refused), ["nobody@example.org"])
        self.assertEqual(refused["nobody@example.org"][0], 550)
        s.quit()

    def test_ehlo_lists_vrfy_and_expn(self):
        # RFC 5321 §3.5.2: EXPN MUST be listed when implemented; VRFY MAY
        c = self.h.client()
        code, lines = c.cmd("EHLO client.example", 250)
        self.assertIn("250-VRFY", lines)
        self.assertIn("250-EXPN", lines)
        c.close()

    def test_vrfy(self):
        c = self.h.client()
        c.cmd("EHLO client.example", 250)
        code, lines = c.cmd("VRFY alice@example.org", 250)
        self.assertEqual(lines, ["250 2.1.5 <alice@example.org>"])
        code, lines = c.cmd("VRFY <BOB@EXAMPLE.ORG>", 250)
        self.assertEqual(lines, ["250 2.1.5 <Bob@example.org>"])
        # a bare user name is looked up in every local domain
        code, lines = c.cmd("VRFY alice", 250)
        self.assertEqual(lines, ["250 2.1.5 <alice@example.org>"])
        code, lines = c.cmd("VRFY nobody@example.org", 550)
        self.assertTrue(last(lines).startswith("550 5.1.1 "), lines)
        code, lines = c.cmd("VRFY nobody", 550)
        self.assertTrue(last(lines).startswith("550 5.1.1 "), lines)
        # RFC 5321 §3.5.3: 252 for what the server cannot verify
        code, lines = c.cmd("VRFY someone@remote.example", 252)
        self.assertTrue(last(lines).startswith("252 2.5.1 "), lines)
        c.close()

    def test_vrfy_ambiguous(self):
        # RFC 5321 §3.5.1: 553 with the possibilities, one a line
        c = self.h.client()
        code, lines = c.cmd("VRFY bob", 553)
        self.assertEqual(lines, [
            "553-5.1.4 Ambiguous; possibilities are",
            "553-5.1.4 <Bob@example.org>",
            "553 5.1.4 <bob@example.net>"])
        c.close()

    def test_vrfy_syntax(self):
        c = self.h.client()
        code, lines = c.cmd("VRFY", 501)
        self.assertTrue(last(lines).startswith("501 5.5.4 "), lines)
        code, lines = c.cmd("VRFY a@@example.org", 501)
        self.assertTrue(last(lines).startswith("501 5.1."), lines)
        c.close()

    def test_expn(self):
        c = self.h.client()
        c.cmd("EHLO client.example", 250)
        code, lines = c.cmd("EXPN staff@example.org", 250)
        self.assertEqual(lines, ["250-2.1.5 <alice@example.org>",
                                 "250-2.1.5 <bob@example.org>",
                                 "250 2.1.5 <someone@remote.example>"])
        code, lines = c.cmd("EXPN Staff", 250)
        self.assertEqual(len(lines), 3)
        code, lines = c.cmd("EXPN solo@example.net", 250)
        self.assertEqual(lines, ["250 2.1.5 <carol@example.net>"])
        # RFC 5321 §3.5.2: a user name MAY expand to itself
        code, lines = c.cmd("EXPN alice@example.org", 250)
        self.assertEqual(lines, ["250 2.1.5 <alice@example.org>"])
        code, lines = c.cmd("EXPN nolist@example.org", 550)
        self.assertTrue(last(lines).startswith("550 5.1.1 "), lines)
        # a list too long for one reply is not shown cut short under 250
        code, lines = c.cmd("EXPN big@example.org", 252)
        self.assertTrue(last(lines).startswith("252 2.5.1 "), lines)
        code, lines = c.cmd("EXPN", 501)
        self.assertTrue(last(lines).startswith("501 5.5.4 "), lines)
        c.close()

    def test_vrfy_after_helo(self):
        # VRFY is base SMTP (RFC 5321 §4.5.1): no EHLO needed
        c = self.h.client()
        c.cmd("HELO client.example", 250)
        c.cmd("VRFY alice@example.org", 250)
        c.cmd("EXPN staff@example.org", 250)
        c.close()


class Disabled(unittest.TestCase):

    def test_default_is_252(self):
        # RFC 5321 §7.3: a disabled VRFY/EXPN answers 252, never 250/550
        with Herald("""
[session.rcpt.lookup]
domains = ["example.org"]
addresses = ["alice@example.org"]
[session.rcpt.lookup.aliases]
"staff@example.org" = ["alice@example.org"]
""", modules=["mod_recipients"]) as h:
            c = h.client()
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-VRFY", lines)
            self.assertNotIn("250-EXPN", lines)
            for cmd in ("VRFY alice@example.org", "VRFY nobody@example.org",
                        "EXPN staff@example.org", "EXPN nolist"):
                code, lines = c.cmd(cmd, 252)
                self.assertTrue(last(lines).startswith("252 2.5.1 "), lines)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<alice@example.org>", 250)
            c.cmd("RCPT TO:<nobody@example.org>", 550)
            c.close()

    def test_expression_per_listener(self):
        with Herald("""
[session.rcpt.lookup]
domains = ["example.org"]
addresses = ["alice@example.org"]
expn = [ { if = "listener", eq = "submission", then = true },
         { else = false } ]
""", modules=["mod_recipients"], listeners=("smtp", "submission")) as h:
            c = h.client("smtp")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-EXPN", lines)
            c.cmd("EXPN alice@example.org", 252)
            c.close()
            c = h.client("submission")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertIn("250-EXPN", lines)
            self.assertNotIn("250-VRFY", lines)
            c.cmd("EXPN alice@example.org", 250)
            c.cmd("VRFY alice@example.org", 252)
            c.close()

    def test_no_addresses_leaves_local_domains_to_core(self):
        # without addresses or aliases every local address is accepted
        with Herald("""
[session.rcpt.lookup]
domains = ["example.org"]
vrfy = true
""", modules=["mod_recipients"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("VRFY anyone@example.org", 252)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<anyone@example.org>", 250)
            c.cmd("RCPT TO:<anyone@remote.example>", 550)
            c.close()

    def test_relay_for_remote(self):
        with Herald("""
[session.rcpt]
relay = true
[session.rcpt.lookup]
domains = ["example.org"]
addresses = ["alice@example.org"]
""", modules=["mod_recipients"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<anyone@remote.example>", 250)
            # relaying does not open unknown local mailboxes
            c.cmd("RCPT TO:<nobody@example.org>", 550)
            c.close()


class Sources(unittest.TestCase):
    """addresses from a file and from a [list]."""

    def test_file(self):
        with Herald("""
[session.rcpt.lookup]
domains = ["example.org"]
addresses = "file://mailboxes.txt"
vrfy = true
""", modules=["mod_recipients"], files={"mailboxes.txt":
                                        "# mailboxes\n\nalice@example.org\n"
                                        "  dave@example.org  \r\n"}) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            code, lines = c.cmd("VRFY dave", 250)
            self.assertEqual(lines, ["250 2.1.5 <dave@example.org>"])
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<alice@example.org>", 250)
            c.cmd("RCPT TO:<Dave@example.org>", 250)
            c.cmd("RCPT TO:<eve@example.org>", 550)
            c.close()

    def test_list(self):
        with Herald("""
[list]
mailboxes = ["alice@example.org", "Erin@Example.org"]
[session.rcpt.lookup]
domains = ["example.org"]
addresses = "list/mailboxes"
vrfy = true
""", modules=["mod_recipients"]) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("VRFY erin@example.org", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<erin@example.org>", 250)
            c.cmd("RCPT TO:<ALICE@example.org>", 250)
            c.cmd("RCPT TO:<eve@example.org>", 550)
            c.close()


class Config(unittest.TestCase):
    """herald -t reports mistakes with FILE:LINE."""

    def check(self, config, files=None):
        h = Herald(config, modules=["mod_recipients"], files=files)
        try:
            return h.run("-t"), h.config_path, h.dir
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)

    def line_of(self, config, text):
        """Line number of @text in the generated file."""
        h = Herald(config, modules=["mod_recipients"])
        try:
            with open(h.config_path) as f:
                for n, line in enumerate(f, 1):
                    if text in line:
                        return n
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)
        raise AssertionError(text)

    def test_good(self):
        r, _, _ = self.check(LOCAL)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_address_in_list(self):
        config = """
[session.rcpt.lookup]
addresses = ["alice@example.org",
             "not an address"]
"""
        r, path, _ = self.check(config)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("%s:%d:" % (path, self.line_of(config,
                                                      "not an address")),
                      r.stderr)

    def test_bad_address_in_file(self):
        r, _, d = self.check("""
[session.rcpt.lookup]
addresses = "file://mailboxes.txt"
""", {"mailboxes.txt": "alice@example.org\n#\nbad@@example.org\n"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(os.path.join(d, "mailboxes.txt") + ":3:", r.stderr)

    def test_missing_file(self):
        r, path, _ = self.check("""
[session.rcpt.lookup]
addresses = "file://nowhere.txt"
""")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nowhere.txt", r.stderr)
        self.assertIn(path + ":", r.stderr)

    def test_unknown_list(self):
        r, path, _ = self.check("""
[session.rcpt.lookup]
addresses = "list/nothing"
""")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nothing", r.stderr)

    def test_bad_values(self):
        for value in ("42", '"alice@example.org"', "[1, 2]"):
            with self.subTest(value=value):
                r, _, _ = self.check("[session.rcpt.lookup]\naddresses = %s\n"
                                     % value)
                self.assertNotEqual(r.returncode, 0)

    def test_bad_aliases(self):
        for body in ('"staff" = ["a@example.org"]',
                     '"staff@example.org" = []',
                     '"staff@example.org" = ["not an address"]',
                     '"staff@example.org" = 3'):
            with self.subTest(body=body):
                r, path, _ = self.check(
                    "[session.rcpt.lookup.aliases]\n" + body + "\n")
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(path + ":", r.stderr)


if __name__ == "__main__":
    unittest.main()
