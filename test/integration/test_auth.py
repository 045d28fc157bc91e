"""test_auth.py -- mod_auth: SMTP AUTH (RFC 4954) with SASL PLAIN
(RFC 4616) and LOGIN against an htpasswd file, over real sockets with a
raw client, Python's smtplib and (when installed) swaks.

The htpasswd file holds one user per hash scheme APR-util validates:
bcrypt ($2y$, made by libxcrypt: APR checks it with its own code),
SHA-512-crypt and SHA-256-crypt (openssl passwd -6/-5), APR MD5
(openssl passwd -apr1) and {SHA}.  The hashes are fixed strings so the
tests need no hashing tool.
"""

import base64
import os
import shutil
import signal
import smtplib
import ssl
import subprocess
import time
import unittest

from harness import BUILD, Herald, queued_id

USERS = {
    # user: (password, hash)
    "alice": ("correct horse",
              "$2y$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2"),
    "carol": ("correct horse",
              "$2y$10$Zyxwvutsrqponmlkjihgfe99IZ6fu1oZkM.5RvfDNzLven52Mhm2u"),
    "sha512": ("sha five twelve",
               "$6$saltsalt$O1DOn/Bnn/B0zAmLZZn8kTR4AtPLSomn/CCgP7EMskuGQ0Zc"
               "ZvJjqjJDV1kyOPz/SPL4609xbulsqB5bqsMYA0"),
    "sha256": ("sha two",
               "$5$saltsalt$giLtdPdDG76NMOp5YXbl8v9H3/KhCmK5d2LLTrzewI1"),
    "apr": ("apr md5", "$apr1$aprsalt1$P2Mq/zmcegGc3wbfRiz1F/"),
    "sha1": ("sha one", "{SHA}ORqrcF67VERuISw/hTMiGkTqxEs="),
}
HTPASSWD = "# test users\n\n" + "".join(
    "%s:%s\n" % (u, h) for u, (_, h) in USERS.items())
FILES = {"users.htpasswd": HTPASSWD}

# [session.auth] comes last so that tests can add keys to it
BASE = """
[session.errors]
wait = "0s"
max = 50
[session.rcpt]
relay = [ { if = "authenticated-as", ne = "", then = true },
          { else = false } ]
[session.auth]
lookup = "file://users.htpasswd"
allow-plain-text = true
"""


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def plain(user, password, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


def module_built(path):
    return os.path.exists(os.path.join(BUILD, path))


def reply_starts(lines, text):
    return lines[-1].startswith(text)


class AuthProtocol(unittest.TestCase):
    """One server; each test its own connection."""

    @classmethod
    def setUpClass(cls):
        cls.h = Herald("""
[session]
line-length = 20000
""" + BASE + """
[session.auth.errors]
max = 100
""", modules=["mod_auth"], files=FILES)
        cls.h.start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def ehlo(self):
        c = self.h.client()
        code, lines = c.cmd("EHLO client.example", 250)
        return c, lines

    def test_ehlo_advertises_mechanisms(self):
        c, lines = self.ehlo()
        self.assertIn("250-AUTH PLAIN LOGIN", lines)
        c.close()

    def test_plain_initial_response(self):
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH PLAIN " + plain("alice", "correct horse"))
        self.assertEqual(lines, ["235 2.7.0 Authentication successful"])
        c.close()

    def test_plain_empty_challenge(self):
        # RFC 4954 §4: "334" SP and an empty challenge, no enhanced code
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH PLAIN", 334)
        self.assertEqual(lines, ["334 "])
        c.cmd(plain("carol", "correct horse"), 235)
        c.close()

    def test_login_steps(self):
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH LOGIN", 334)
        self.assertEqual(lines, ["334 VXNlcm5hbWU6"])      # Username:
        code, lines = c.cmd(b64("alice"), 334)
        self.assertEqual(lines, ["334 UGFzc3dvcmQ6"])      # Password:
        code, lines = c.cmd(b64("correct horse"), 235)
        self.assertTrue(reply_starts(lines, "235 2.7.0"))
        c.close()

    def test_login_user_as_initial_response(self):
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH LOGIN " + b64("alice"), 334)
        self.assertEqual(lines, ["334 UGFzc3dvcmQ6"])
        c.cmd(b64("correct horse"), 235)
        c.close()

    def test_smtplib_every_scheme(self):
        for user, (password, _) in USERS.items():
            for mech, initial in (("PLAIN", True), ("PLAIN", False),
                                  ("LOGIN", True), ("LOGIN", False)):
                with self.subTest(user=user, mech=mech, initial=initial):
                    s = self.h.smtplib()
                    s.ehlo("client.example")
                    s.user, s.password = user, password
                    auth = s.auth_plain if mech == "PLAIN" else s.auth_login
                    code, _ = s.auth(mech, auth,
                                     initial_response_ok=initial)
                    self.assertEqual(code, 235)
                    s.quit()

    def test_smtplib_login(self):
        s = self.h.smtplib()
        code, _ = s.login("sha512", "sha five twelve")
        self.assertEqual(code, 235)
        s.quit()

    def test_wrong_password_every_scheme(self):
        for user in USERS:
            for mech in ("PLAIN", "LOGIN"):
                with self.subTest(user=user, mech=mech):
                    s = self.h.smtplib()
                    s.ehlo("client.example")
                    s.user, s.password = user, "wrong password"
                    auth = s.auth_plain if mech == "PLAIN" else s.auth_login
                    with self.assertRaises(
                            smtplib.SMTPAuthenticationError) as cm:
                        s.auth(mech, auth)
                    self.assertEqual(cm.exception.smtp_code, 535)
                    self.assertTrue(cm.exception.smtp_error.startswith(
                        b"5.7.8"))
                    s.quit()

    def test_unknown_user(self):
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH PLAIN " + plain("mallory", "x"), 535)
        self.assertEqual(lines, ["535 5.7.8 Authentication credentials "
                                 "invalid"])
        c.close()

    def test_case_of_user_and_mechanism(self):
        c, _ = self.ehlo()
        # htpasswd user names are case-sensitive
        c.cmd("AUTH PLAIN " + plain("Alice", "correct horse"), 535)
        # RFC 4954 §4: mechanism names are not
        c.cmd("auth plain " + plain("alice", "correct horse"), 235)
        c.close()

    def test_authzid(self):
        # RFC 4616 §2: acting as someone else is refused; as oneself not
        c, _ = self.ehlo()
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse", "carol"), 535)
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse", "alice"), 235)
        c.close()

    def test_cancel(self):
        # RFC 4954 §4: "*" cancels with 501; the session goes on
        c, _ = self.ehlo()
        c.cmd("AUTH LOGIN", 334)
        code, lines = c.cmd("*", 501)
        self.assertTrue(reply_starts(lines, "501 5.7.0"), lines)
        c.cmd("AUTH PLAIN", 334)
        c.cmd("*", 501)
        c.cmd("AUTH LOGIN", 334)
        c.cmd(b64("alice"), 334)
        c.cmd("*", 501)
        c.cmd("NOOP", 250)
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
        c.close()

    def test_bad_base64(self):
        # RFC 4954 §4: 501 for a response that is not base64
        c, _ = self.ehlo()
        for arg in ("AUTH PLAIN !!!!", "AUTH PLAIN AGFsaWNl=AA",
                    "AUTH PLAIN YQ", "AUTH PLAIN *", "AUTH LOGIN YR=="):
            code, lines = c.cmd(arg, 501)
            self.assertTrue(reply_starts(lines, "501 5.5.2"), lines)
        c.cmd("AUTH LOGIN", 334)
        code, lines = c.cmd("not base64", 501)
        self.assertTrue(reply_starts(lines, "501 5.5.2"), lines)
        c.cmd("AUTH PLAIN", 334)
        c.cmd("AGFsaWNl AHNlY3JldA==", 501)
        # the exchange is over: the next line is a command again
        c.cmd("NOOP", 250)
        c.close()

    def test_empty_initial_response(self):
        # RFC 4954 §4: "=" is an empty initial response: no credentials
        c, _ = self.ehlo()
        c.cmd("AUTH PLAIN =", 535)
        c.cmd("AUTH LOGIN =", 535)
        c.close()

    def test_malformed_plain(self):
        c, _ = self.ehlo()
        for msg in (b"alice\0correct horse", b"\0alice\0correct horse\0",
                    b"\0\0correct horse", b"\0alice\0", b"\0al\xffce\0x"):
            c.cmd("AUTH PLAIN " + b64(msg), 535)
        c.close()

    def test_syntax(self):
        c, _ = self.ehlo()
        for arg in ("AUTH", "AUTH PLAIN " + plain("a", "b") + " extra",
                    "AUTH PLAIN ", "AUTH PL@IN", "AUTH " + "X" * 21):
            code, lines = c.cmd(arg, 501)
            self.assertTrue(reply_starts(lines, "501 5.5.4"), lines)
        c.close()

    def test_unknown_mechanism(self):
        c, _ = self.ehlo()
        for mech in ("CRAM-MD5", "SCRAM-SHA-256", "GSSAPI"):
            code, lines = c.cmd("AUTH " + mech, 504)
            self.assertTrue(reply_starts(lines, "504 5.5.4"), lines)
        c.close()

    def test_auth_twice(self):
        # RFC 4954 §4: 503 after a successful AUTH
        c, _ = self.ehlo()
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
        code, lines = c.cmd("AUTH PLAIN " + plain("alice", "correct horse"),
                            503)
        self.assertTrue(reply_starts(lines, "503 5.5.1"), lines)
        code, lines = c.cmd("AUTH LOGIN", 503)
        # still advertised: AUTH= belongs to the extension (RFC 4954 §5)
        code, lines = c.cmd("EHLO client.example", 250)
        self.assertIn("250-AUTH PLAIN LOGIN", lines)
        c.close()

    def test_auth_during_transaction(self):
        # RFC 4954 §4: not permitted during a mail transaction
        c, _ = self.ehlo()
        c.cmd("MAIL FROM:<a@client.example>", 250)
        code, lines = c.cmd("AUTH PLAIN " + plain("alice", "correct horse"),
                            503)
        self.assertTrue(reply_starts(lines, "503 5.5.1"), lines)
        c.cmd("RSET", 250)
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
        c.close()

    def test_auth_needs_ehlo(self):
        c = self.h.client()
        code, lines = c.cmd("AUTH PLAIN " + plain("alice", "correct horse"),
                            503)
        self.assertTrue(reply_starts(lines, "503 5.5.1"), lines)
        c.cmd("HELO client.example", 250)
        c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 503)
        c.close()

    def test_line_limits(self):
        # RFC 4954 §4: 12288 octets per line; beyond: 500 5.5.6 (§6)
        c, _ = self.ehlo()
        code, lines = c.cmd("AUTH PLAIN " + "A" * 12292, 500)
        self.assertTrue(reply_starts(lines, "500 5.5.6"), lines)
        c.cmd("AUTH PLAIN", 334)
        code, lines = c.cmd("A" * 12292, 500)
        self.assertTrue(reply_starts(lines, "500 5.5.6"), lines)
        # at the limit it is read and refused as a PLAIN message
        c.cmd("AUTH PLAIN", 334)
        c.cmd("A" * 12288, 535)
        c.cmd("NOOP", 250)
        c.close()

    def test_mail_auth_parameter(self):
        # RFC 4954 §5: AUTH=<mailbox> kept only when authenticated
        h = self.h
        c, _ = self.ehlo()
        c.cmd("MAIL FROM:<a@client.example> AUTH=<>", 250)
        c.cmd("RCPT TO:<postmaster>", 250)
        c.cmd("DATA", 354)
        code, lines = c.cmd("Subject: x\r\n\r\nanonymous\r\n.", 250)
        env = h.queue_show(queued_id(lines))
        self.assertEqual(env["fields"].get("auth.mail"), "<>")
        self.assertIsNone(env["authenticated_as"])

        c.cmd("MAIL FROM:<a@client.example> AUTH=alice+40client.example",
              250)
        c.cmd("RCPT TO:<postmaster>", 250)
        c.cmd("DATA", 354)
        code, lines = c.cmd("Subject: x\r\n\r\nnot trusted\r\n.", 250)
        env = h.queue_show(queued_id(lines))
        # RFC 4954 §5: untrusted: as if AUTH=<> was given
        self.assertEqual(env["fields"].get("auth.mail"), "<>")

        c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
        c.cmd("MAIL FROM:<alice@client.example> "
              "AUTH=alice+2Bsub+40client.example", 250)
        c.cmd("RCPT TO:<someone@remote.example>", 250)
        c.cmd("DATA", 354)
        code, lines = c.cmd("Subject: x\r\n\r\ntrusted\r\n.", 250)
        env = h.queue_show(queued_id(lines))
        self.assertEqual(env["fields"].get("auth.mail"),
                         "alice+sub@client.example")
        self.assertEqual(env["authenticated_as"], "alice")

        for bad in ("AUTH=", "AUTH", "AUTH=a+zz", "AUTH=a+00",
                    "AUTH=not-a-mailbox", "AUTH=+3Ca@b.example+3E",
                    "AUTH=a@b@c"):
            code, lines = c.cmd("MAIL FROM:<a@client.example> " + bad, 501)
            self.assertTrue(reply_starts(lines, "501 5.5.4"), (bad, lines))
        c.close()

    def test_authenticated_as_queued(self):
        s = self.h.smtplib()
        s.login("carol", "correct horse")
        refused = s.sendmail("carol@client.example",
                             ["friend@remote.example"],
                             b"Subject: hi\r\n\r\nhello\r\n")
        self.assertEqual(refused, {})
        s.quit()
        envs = [self.h.queue_show(q) for q in self.h.queue_ids()]
        mine = [e for e in envs if e["authenticated_as"] == "carol"]
        self.assertEqual(len(mine), 1, envs)


class AuthPolicy(unittest.TestCase):
    """Settings that need a server of their own."""

    def test_plain_text_refused(self):
        # allow-plain-text defaults to false: no AUTH before TLS
        with Herald("""
[session.errors]
wait = "0s"
[session.auth]
lookup = "file://users.htpasswd"
""", modules=["mod_auth"], files=FILES) as h:
            c = h.client()
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertFalse([l for l in lines if "AUTH" in l], lines)
            code, lines = c.cmd("AUTH PLAIN " + plain("alice",
                                                      "correct horse"), 538)
            self.assertEqual(lines, ["538 5.7.11 Encryption required for "
                                     "requested authentication mechanism"])
            c.cmd("AUTH LOGIN", 538)
            # AUTH= belongs to the extension, which was not advertised
            code, lines = c.cmd("MAIL FROM:<a@client.example> AUTH=<>", 555)
            self.assertTrue(reply_starts(lines, "555 5.5.4"), lines)
            c.close()

    def test_allow_plain_text_expression(self):
        with Herald("""
[session.errors]
wait = "0s"
[session.auth]
lookup = "file://users.htpasswd"
allow-plain-text = [ { if = "listener", eq = "submission", then = true },
                     { else = false } ]
""", modules=["mod_auth"], files=FILES,
                    listeners=("smtp", "submission")) as h:
            c = h.client("smtp")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-AUTH PLAIN LOGIN", lines)
            c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 538)
            c.close()
            c = h.client("submission")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertIn("250-AUTH PLAIN LOGIN", lines)
            c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
            c.close()

    def test_mechanisms_setting(self):
        with Herald(BASE + """
mechanisms = [ { if = "listener", eq = "smtp", then = ["LOGIN"] },
               { else = [] } ]
""", modules=["mod_auth"], files=FILES,
                    listeners=("smtp", "submission")) as h:
            c = h.client("smtp")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertIn("250-AUTH LOGIN", lines)
            code, lines = c.cmd("AUTH PLAIN " + plain("alice",
                                                      "correct horse"), 504)
            self.assertTrue(reply_starts(lines, "504 5.5.4"), lines)
            c.cmd("AUTH LOGIN " + b64("alice"), 334)
            c.cmd(b64("correct horse"), 235)
            c.close()
            # no mechanism: no AUTH at all
            c = h.client("submission")
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertFalse([l for l in lines if "AUTH" in l], lines)
            code, lines = c.cmd("AUTH LOGIN", 502)
            self.assertTrue(reply_starts(lines, "502 5.5.1"), lines)
            c.close()

    def test_too_many_failures(self):
        with Herald(BASE + """
[session.auth.errors]
max = 3
""", modules=["mod_auth"], files=FILES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("AUTH PLAIN " + plain("alice", "guess 1"), 535)
            c.cmd("AUTH LOGIN", 334)
            c.cmd(b64("alice"), 334)
            c.cmd(b64("guess 2"), 535)
            # a cancel or a syntax error is not a failed authentication
            c.cmd("AUTH PLAIN", 334)
            c.cmd("*", 501)
            c.cmd("AUTH PLAIN " + plain("alice", "guess 3"), 535)
            code, lines = c.reply()
            self.assertEqual(code, 421)
            self.assertTrue(reply_starts(lines, "421 4.7.0"), lines)
            self.assertTrue(c.closed())
            # a new connection starts counting again
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
            c.close()

    def test_require(self):
        # RFC 4954 §6: 530 5.7.0 when policy needs AUTH first
        with Herald(BASE + "require = true\n", modules=["mod_auth"],
                    files=FILES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            code, lines = c.cmd("MAIL FROM:<a@client.example>", 530)
            self.assertEqual(lines, ["530 5.7.0 Authentication required"])
            c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.close()

    def test_relay_after_auth(self):
        with Herald(BASE, modules=["mod_auth"], files=FILES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            code, lines = c.cmd("RCPT TO:<b@remote.example>", 550)
            self.assertTrue(reply_starts(lines, "550 5.7.1"), lines)
            c.cmd("RSET", 250)
            c.cmd("AUTH PLAIN " + plain("apr", "apr md5"), 235)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.close()

    @unittest.skipUnless(module_built("modules/extensions/.libs/mod_dsn.so"),
                         "mod_dsn is not built")
    def test_dsn_after_auth(self):
        # the seed: DSN only for authenticated sessions, seen in the EHLO
        # reply that follows AUTH
        with Herald(BASE + """
[session.extensions]
dsn = [ { if = "authenticated-as", ne = "", then = true },
        { else = false } ]
""", modules=["mod_auth", "mod_dsn"], files=FILES) as h:
            c = h.client()
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertFalse([l for l in lines if l[4:] == "DSN"], lines)
            c.cmd("AUTH PLAIN " + plain("alice", "correct horse"), 235)
            code, lines = c.cmd("EHLO client.example", 250)
            self.assertTrue([l for l in lines if l[4:] == "DSN"], lines)
            c.cmd("MAIL FROM:<a@client.example> RET=HDRS", 250)
            c.close()

    @unittest.skipUnless(module_built("modules/tls/.libs/mod_tls.so") and
                         shutil.which("openssl"), "mod_tls is not built")
    def test_auth_after_starttls(self):
        h = Herald("""
[session.errors]
wait = "0s"
[session.rcpt]
relay = [ { if = "authenticated-as", ne = "", then = true },
          { else = false } ]
[session.auth]
lookup = "file://users.htpasswd"
[certificate.default]
cert = "file://cert.pem"
private-key = "file://key.pem"
""", modules=["mod_tls", "mod_auth"], files=FILES)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj",
                        "/CN=mx.test.example",
                        "-keyout", os.path.join(h.dir, "key.pem"),
                        "-out", os.path.join(h.dir, "cert.pem")],
                       check=True, capture_output=True, timeout=60)
        with h:
            s = h.smtplib()
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("auth"))
            code, _ = s.docmd("AUTH", "PLAIN " + plain("alice",
                                                       "correct horse"))
            self.assertEqual(code, 538)
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo("client.example")
            self.assertEqual(s.esmtp_features.get("auth", "").strip(),
                             "PLAIN LOGIN")
            code, _ = s.login("alice", "correct horse")
            self.assertEqual(code, 235)
            s.sendmail("alice@client.example", ["x@remote.example"],
                       b"Subject: tls\r\n\r\nhi\r\n")
            s.quit()
            env = h.queue_show(h.queue_ids()[0])
            self.assertEqual(env["authenticated_as"], "alice")

    @unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
    def test_swaks(self):
        with Herald(BASE, modules=["mod_auth"], files=FILES) as h:
            for mech in ("PLAIN", "LOGIN"):
                for password, ok in (("sha two", True), ("nope", False)):
                    r = subprocess.run(
                        ["swaks", "--server", "127.0.0.1",
                         "--port", str(h.port()), "--ehlo", "client.example",
                         "--auth", mech, "--auth-user", "sha256",
                         "--auth-password", password,
                         "--quit-after", "AUTH"],
                        capture_output=True, text=True, timeout=60)
                    with self.subTest(mech=mech, ok=ok):
                        self.assertEqual(r.returncode == 0, ok,
                                         r.stdout[-2000:])

    def test_reload_rereads_users(self):
        with Herald(BASE, modules=["mod_auth"], files=FILES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("AUTH PLAIN " + plain("dave", "new user"), 535)
            c.close()
            with open(os.path.join(h.dir, "users.htpasswd"), "a") as f:
                f.write("dave:%s\n" % USERS["apr"][1])
            h.proc.send_signal(signal.SIGHUP)
            for _ in range(100):   # bounded: 10 s
                if "reloaded" in h.log_text():
                    break
                time.sleep(0.1)
            self.assertIn("reloaded", h.log_text())
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("AUTH PLAIN " + plain("dave", "apr md5"), 235)
            c.close()


class AuthConfig(unittest.TestCase):
    """herald -t finds the mistakes, with FILE:LINE."""

    def check(self, config, files=None):
        h = Herald(config, modules=["mod_auth"], files=files)
        try:
            r = h.run("-t")
            return r, h.config_path, os.path.join(h.dir, "users.htpasswd")
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)

    def test_good(self):
        r, _, _ = self.check(BASE, FILES)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_lookup_missing(self):
        r, _, _ = self.check("[session.auth]\nallow-plain-text = true\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("session.auth.lookup", r.stderr)

    def test_lookup_not_a_file_url(self):
        r, path, _ = self.check('[session.auth]\nlookup = "users"\n', FILES)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(path + ":", r.stderr)
        self.assertIn("file://", r.stderr)

    def test_file_missing(self):
        r, path, _ = self.check(
            '[session.auth]\nlookup = "file://nowhere.htpasswd"\n')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nowhere.htpasswd", r.stderr)
        self.assertIn(path + ":", r.stderr)

    def test_bad_lines(self):
        text = ("# users\n"
                "nohash\n"
                "plain:secret\n"
                "des:abJnggxhB/yWI\n"
                "ok:" + USERS["apr"][1] + "\n"
                "ok:" + USERS["sha1"][1] + "\n"
                ":" + USERS["apr"][1] + "\n")
        r, _, ht = self.check(BASE, {"users.htpasswd": text})
        self.assertNotEqual(r.returncode, 0)
        for line in (2, 3, 4, 6, 7):
            self.assertIn("%s:%d:" % (ht, line), r.stderr)
        self.assertNotIn("%s:5:" % ht, r.stderr)

    def test_unknown_mechanism(self):
        r, path, _ = self.check(BASE + """
mechanisms = [ { if = "listener", eq = "smtp", then = ["PLAIN"] },
               { else = ["LOGIN", "CRAM-MD5"] } ]
""", FILES)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("CRAM-MD5", r.stderr)
        self.assertIn(path + ":", r.stderr)


if __name__ == "__main__":
    unittest.main()
