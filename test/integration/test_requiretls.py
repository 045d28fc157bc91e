"""test_requiretls.py -- mod_requiretls (RFC 8689) over real sockets.

On plaintext: REQUIRETLS is not advertised and the parameter is refused
(555 5.5.4), while a "TLS-Required: No" header field is recorded in the
envelope whatever the transport.  Over STARTTLS (skipped until mod_tls
is built): REQUIRETLS is advertised, accepted and stored.
"""

import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import BUILD, Herald, check_config, queued_id

CONFIG = """
[session.extensions]
requiretls = true
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
max = 100
"""

TLS_CONFIG = CONFIG + """
[certificate.default]
cert = "file://cert.pem"
private-key = "file://key.pem"
[server.tls]
certificate = "default"
"""

MODULES = ["mod_requiretls"]
FIELD = "requiretls.tls-required-header"


def ehlo(c, name="client.example"):
    code, lines = c.cmd("EHLO " + name, 250)
    return [line[4:] for line in lines[1:]]


def send(c, message, mail_args="", chunks=None):
    """One transaction with @message (CRLF lines, no final dot); with
    @chunks, the message is written in that many pieces with pauses, so
    the server reads it in separate pieces.  Returns the queue id."""
    c.cmd("MAIL FROM:<sender@client.example>" + mail_args, 250)
    c.cmd("RCPT TO:<rcpt@remote.example>", 250)
    c.cmd("DATA", 354)
    data = message.encode() if isinstance(message, str) else message
    if chunks:
        step = max(1, len(data) // chunks)
        for i in range(0, len(data), step):
            c.send(data[i:i + step])
            time.sleep(0.05)
    else:
        c.send(data)
    c.send(b".\r\n")
    return queued_id(c.expect(250))


def mod_tls_built():
    return bool(BUILD) and os.path.exists(
        os.path.join(BUILD, "modules", "tls", ".libs", "mod_tls.so"))


class RequireTlsPlainTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.h = Herald(CONFIG, modules=MODULES).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def client(self):
        c = self.h.client()
        self.addCleanup(c.close)
        self.caps = ehlo(c)
        return c

    def fields(self, qid):
        return self.h.queue_show(qid)["fields"]

    def test_not_advertised_on_plaintext(self):
        self.client()
        self.assertFalse([l for l in self.caps if "REQUIRETLS" in l.upper()],
                         self.caps)

    def test_param_refused_on_plaintext(self):
        c = self.client()
        code, lines = c.cmd("MAIL FROM:<sender@client.example> REQUIRETLS",
                            555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.cmd("RCPT TO:<rcpt@remote.example>", 503)
        code, lines = c.cmd("MAIL FROM:<sender@client.example> "
                            "REQUIRETLS=YES", 555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)

    def test_header_no_recorded(self):
        c = self.client()
        qid = send(c, "From: a@client.example\r\nTLS-Required: No\r\n"
                   "Subject: t\r\n\r\nbody\r\n")
        f = self.fields(qid)
        self.assertEqual(f.get(FIELD), "no")
        self.assertNotIn("requiretls", f)
        # the header field itself is kept in the message (RFC 8689 §5)
        self.assertIn(b"TLS-Required: No\r\n", self.h.message(qid))

    def test_header_variants_recorded(self):
        variants = [
            "tls-required: no\r\n",
            "TLS-REQUIRED:NO\r\n",
            "TLS-Required:    No   \r\n",
            "TLS-Required:\r\n No\r\n",             # folded (RFC 5322)
            "TLS-Required:\r\n\t\r\n  No\r\n",
            "TLS-Required : No\r\n",                 # obsolete blank
        ]
        c = self.client()
        for header in variants:
            with self.subTest(header=header):
                qid = send(c, "Subject: t\r\n" + header + "X-After: 1\r\n"
                           "\r\nbody\r\n")
                self.assertEqual(self.fields(qid).get(FIELD), "no")

    def test_header_last_field_without_body(self):
        c = self.client()
        qid = send(c, "Subject: t\r\nTLS-Required: No\r\n")
        self.assertEqual(self.fields(qid).get(FIELD), "no")

    def test_other_values_ignored(self):
        ignored = [
            "TLS-Required: Yes\r\n",
            "TLS-Required: No thanks\r\n",
            "TLS-Required: Not\r\n",
            "TLS-Required:\r\n",
            "X-TLS-Required: No\r\n",
            "TLS-Required-Soon: No\r\n",
            "TLS-Required: " + " " * 40 + "No\r\n",   # over the bound
            "TLS-Required: N\r\n o\r\n",               # folding splits a word
        ]
        c = self.client()
        for header in ignored:
            with self.subTest(header=header):
                qid = send(c, "Subject: t\r\n" + header + "\r\nbody\r\n")
                self.assertNotIn(FIELD, self.fields(qid))

    def test_header_in_body_ignored(self):
        c = self.client()
        qid = send(c, "Subject: t\r\n\r\nTLS-Required: No\r\n")
        self.assertNotIn(FIELD, self.fields(qid))

    def test_no_header_no_field(self):
        c = self.client()
        qid = send(c, "Subject: plain\r\n\r\nhello\r\n")
        f = self.fields(qid)
        self.assertFalse([k for k in f if k.startswith("requiretls")], f)

    def test_header_split_across_reads(self):
        c = self.client()
        message = ("Received: from a by b; Thu, 1 Jan 2026 00:00:00 +0000\r\n"
                   "Subject: split\r\nTLS-Required:\r\n No\r\n\r\nbody\r\n")
        qid = send(c, message, chunks=len(message) // 3)
        self.assertEqual(self.fields(qid).get(FIELD), "no")

    def test_long_header_section(self):
        c = self.client()
        long_line = "X-Long: " + "a" * 5000 + "\r\n"
        qid = send(c, "Subject: t\r\n" + long_line * 20 +
                   "TLS-Required: No\r\n\r\nbody\r\n")
        self.assertEqual(self.fields(qid).get(FIELD), "no")

    def test_each_message_scanned_afresh(self):
        c = self.client()
        first = send(c, "TLS-Required: No\r\n\r\nbody\r\n")
        second = send(c, "Subject: next\r\n\r\nbody\r\n")
        self.assertEqual(self.fields(first).get(FIELD), "no")
        self.assertNotIn(FIELD, self.fields(second))

    def test_recorded_when_setting_off(self):
        # RFC 8689 §4.1: a server implementing the spec tags the message,
        # whether or not it offers REQUIRETLS to this client
        with Herald(CONFIG.replace("requiretls = true",
                                   "requiretls = false"),
                    modules=MODULES) as h:
            c = h.client()
            ehlo(c)
            qid = send(c, "TLS-Required: No\r\n\r\nbody\r\n")
            self.assertEqual(h.queue_show(qid)["fields"].get(FIELD), "no")
            c.close()


class RequireTlsConfigTest(unittest.TestCase):

    def test_seed_snippet_checks(self):
        result, _ = check_config("[session.extensions]\nrequiretls = true\n",
                                 modules=MODULES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_expression_checks(self):
        result, _ = check_config(
            '[session.extensions]\nrequiretls = [ { if = "listener", '
            'eq = "submission", then = true }, { else = false } ]\n',
            modules=MODULES)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_bad_value_rejected(self):
        result, _ = check_config(
            '[session.extensions]\nrequiretls = "maybe"\n', modules=MODULES)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("requiretls", result.stdout + result.stderr)


@unittest.skipUnless(mod_tls_built(), "mod_tls is not built yet")
class RequireTlsOverTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.mkdtemp(prefix="herald-rt-")
        try:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                 "-days", "1", "-subj", "/CN=mx.test.example",
                 "-keyout", os.path.join(tmp, "key.pem"),
                 "-out", os.path.join(tmp, "cert.pem")],
                check=True, capture_output=True, timeout=60)
            files = {}
            for name in ("cert.pem", "key.pem"):
                with open(os.path.join(tmp, name)) as f:
                    files[name] = f.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        cls.files = files
        cls.h = Herald(TLS_CONFIG, modules=["mod_tls"] + MODULES,
                       files=files).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def tls_client(self, h=None):
        s = (h or self.h).smtplib()
        self.addCleanup(s.close)
        s.ehlo("client.example")
        self.assertFalse(s.has_extn("requiretls"))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("client.example")
        return s

    def transaction(self, s, options, message):
        code, resp = s.mail("sender@client.example", options)
        if code != 250:
            return code, resp.decode()
        self.assertEqual(s.rcpt("rcpt@remote.example")[0], 250)
        code, resp = s.data(message)
        self.assertEqual(code, 250, resp)
        return code, queued_id([resp.decode()])

    def test_advertised_after_starttls(self):
        s = self.tls_client()
        self.assertTrue(s.has_extn("requiretls"))

    def test_accepted_and_stored(self):
        s = self.tls_client()
        code, qid = self.transaction(s, ["REQUIRETLS"],
                                     b"Subject: secret\r\n\r\nbody\r\n")
        env = self.h.queue_show(qid)
        self.assertEqual(env["fields"].get("requiretls"), "yes")
        self.assertNotIn(FIELD, env["fields"])
        self.assertTrue(env["tls"])

    def test_value_refused(self):
        s = self.tls_client()
        code, text = self.transaction(s, ["REQUIRETLS=YES"],
                                      b"Subject: t\r\n\r\nbody\r\n")
        self.assertEqual(code, 501)
        self.assertTrue(text.startswith("5.5.4"), text)

    def test_header_ignored_with_option(self):
        # RFC 8689 §4.1: the REQUIRETLS option wins over the header field
        s = self.tls_client()
        code, qid = self.transaction(
            s, ["REQUIRETLS"], b"TLS-Required: No\r\n\r\nbody\r\n")
        f = self.h.queue_show(qid)["fields"]
        self.assertEqual(f.get("requiretls"), "yes")
        self.assertNotIn(FIELD, f)

    def test_header_recorded_over_tls(self):
        s = self.tls_client()
        code, qid = self.transaction(s, [], b"TLS-Required: No\r\n\r\nb\r\n")
        self.assertEqual(self.h.queue_show(qid)["fields"].get(FIELD), "no")

    def test_setting_off_not_advertised(self):
        config = TLS_CONFIG.replace("requiretls = true", "requiretls = false")
        with Herald(config, modules=["mod_tls"] + MODULES,
                    files=self.files) as h:
            s = self.tls_client(h)
            self.assertFalse(s.has_extn("requiretls"))
            code, resp = s.mail("sender@client.example", ["REQUIRETLS"])
            self.assertEqual(code, 555)
            s.close()


if __name__ == "__main__":
    unittest.main()
