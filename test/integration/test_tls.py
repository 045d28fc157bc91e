"""test_tls.py -- mod_tls: STARTTLS (RFC 3207), implicit TLS (RFC 8314),
certificates and SNI, with Python's ssl/smtplib and openssl s_client.

Every certificate is made here with `openssl req` in a temporary folder
(valid for one day; the expired one with `openssl x509 -days -1`).
"""

import os
import re
import select
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import Herald, module_dirs, queued_id

HERE = os.path.dirname(os.path.abspath(__file__))
DEV_CERT = os.path.join(HERE, "..", "..", "build", "dev-cert.sh")
IMPLICIT = '\n[server.listener.submissions.tls]\nimplicit = true\n'
MESSAGE = (b"From: a@client.example\r\nTo: b@remote.example\r\n"
           b"Subject: tls\r\n\r\nover TLS\r\n")


def openssl(*args, **kw):
    out = subprocess.run(["openssl"] + list(args), capture_output=True,
                         text=True, timeout=60, **kw)
    assert out.returncode == 0, out.stderr
    return out


def make_cert(directory, stem, cn, sans=(), days="1"):
    """A self-signed EC certificate and its key: (cert path, key path)."""
    cert = os.path.join(directory, stem + "-cert.pem")
    key = os.path.join(directory, stem + "-key.pem")
    if days.startswith("-"):
        # `openssl req -x509` refuses negative days; sign a request
        csr = os.path.join(directory, stem + ".csr")
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                "/CN=" + cn, "-keyout", key, "-out", csr)
        openssl("x509", "-req", "-in", csr, "-signkey", key, "-days", days,
                "-out", cert)
        return cert, key
    cmd = ["req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-nodes", "-days", days,
           "-subj", "/CN=" + cn, "-keyout", key, "-out", cert]
    if sans:
        cmd += ["-addext", "subjectAltName=" + ",".join(sans)]
    openssl(*cmd)
    return cert, key


def have_module(name):
    """Is mod_NAME.so built (other modules are optional here)?"""
    return any(os.path.exists(os.path.join(d, name + ".so"))
               for d in module_dirs())


def client_context():
    """A client context that accepts our self-signed certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def certificate(cid, cert, key):
    return ('\n[certificate.%s]\ncert = "file://%s"\nprivate-key = '
            '"file://%s"\n' % (cid, cert, key))


class SClient:
    """openssl s_client fed line by line, each after the awaited output."""

    def __init__(self, args, timeout=15):
        self.proc = subprocess.Popen(["openssl", "s_client"] + args,
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = ""
        self.deadline = time.time() + timeout

    def wait(self, pattern, start=0):
        """Wait until @pattern appears after offset @start; the match."""
        rx = re.compile(pattern, re.M)
        while True:
            m = rx.search(self.out, start)
            if m:
                return m
            left = self.deadline - time.time()
            if left <= 0:
                raise AssertionError("s_client: no %r in %r"
                                     % (pattern, self.out[-3000:]))
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("s_client ended before %r: %r"
                                         % (pattern, self.out[-3000:]))
                self.out += chunk.decode("utf-8", "replace")

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def finish(self):
        """Close its input, read the rest of its output (bounded)."""
        if self.proc.stdout.closed:
            return self.out
        if not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        until = time.time() + 10
        while time.time() < until:
            ready, _, _ = select.select([self.proc.stdout], [], [],
                                        until - time.time())
            chunk = os.read(self.proc.stdout.fileno(), 65536) if ready \
                else b""
            if not chunk:
                break
            self.out += chunk.decode("utf-8", "replace")
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(5)
        self.proc.stdout.close()
        return self.out


def start_tls(c):
    """Handshake on a raw harness client after its 220; no verification."""
    assert c.buf == b"", "octets after the 220: %r" % c.buf
    c.sock = client_context().wrap_socket(c.sock)
    return c


class TLSCase(unittest.TestCase):
    """Certificates shared by the tests of a class."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="herald-tls-")
        cls.main = make_cert(cls.certs, "main", "mx.test.example",
                             ["DNS:mx.test.example", "DNS:localhost",
                              "IP:127.0.0.1"])
        cls.other = make_cert(cls.certs, "other", "other.example",
                              ["DNS:other.example", "DNS:*.wild.example"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def config(self, extra=""):
        return (certificate("default", *self.main) +
                '[session.rcpt]\nrelay = true\n[session.errors]\n'
                'wait = "0s"\n' + extra)

    def herald(self, extra="", listeners=("smtp", "submissions"),
               implicit=True, config=None):
        text = self.config(extra) if config is None else config
        return Herald(text + (IMPLICIT if implicit else ""),
                      modules=["mod_tls"], listeners=listeners)

    def ehlo(self, c, name="client.example"):
        code, lines = c.cmd("EHLO " + name, 250)
        return [l[4:] for l in lines]


class TestStartTLS(TLSCase):

    def test_smtplib_starttls_then_message(self):
        # relative "file://" paths: from the configuration's folder
        text = ('\n[certificate.default]\ncert = "file://c.pem"\n'
                'private-key = "file://k.pem"\n[session.rcpt]\n'
                'relay = true\n')
        h = Herald(text, modules=["mod_tls"])
        shutil.copy(self.main[0], os.path.join(h.dir, "c.pem"))
        shutil.copy(self.main[1], os.path.join(h.dir, "k.pem"))
        with h:
            s = h.smtplib()
            s.ehlo("client.example")
            self.assertTrue(s.has_extn("starttls"))
            code, _ = s.starttls(context=client_context())
            self.assertEqual(code, 220)
            s.ehlo("client.example")
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.mail("a@client.example")[0], 250)
            self.assertEqual(s.rcpt("b@remote.example")[0], 250)
            code, text = s.data(MESSAGE)
            self.assertEqual(code, 250)
            qid = queued_id([text.decode()])
            s.quit()
            msg = h.message(qid)
            self.assertIn(b"with ESMTPS", msg)
            self.assertRegex(msg, rb"\(using TLSv1\.3 with cipher TLS_\w+\)")
            env = h.queue_show(qid)
            self.assertTrue(env["tls"].startswith("TLSv1.3 TLS_"), env)
            self.assertRegex(h.log_text(), r"TLS established: TLSv1\.3 "
                             r"with cipher TLS_\w+")

    def test_plaintext_message_has_no_tls(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            s = h.smtplib()
            s.ehlo("client.example")
            s.mail("a@client.example")
            s.rcpt("b@remote.example")
            code, text = s.data(MESSAGE)
            qid = queued_id([text.decode()])
            s.quit()
            self.assertIn(b"with ESMTP id ", h.message(qid))
            self.assertNotIn(b"using TLS", h.message(qid))
            self.assertIsNone(h.queue_show(qid)["tls"])

    def test_s_client_starttls(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            sc = SClient(["-starttls", "smtp", "-crlf", "-nocommands",
                          "-connect", "127.0.0.1:%d" % h.port()])
            try:
                hs = sc.wait(r"Verify return code")
                self.assertRegex(sc.out, r"New, TLSv1\.3, Cipher is TLS_")
                sc.send("EHLO x\n")
                hello = sc.wait(r"^250-mx\.test\.example Hello x ", hs.end())
                last = sc.wait(r"^250 .*$", hello.end())
                reply = sc.out[hello.start():last.end()]
                self.assertNotIn("STARTTLS", reply)
                self.assertIn("ENHANCEDSTATUSCODES", reply)
                sc.send("QUIT\n")
                sc.wait(r"^221 ", last.end())
            finally:
                sc.finish()

    def test_injection_after_starttls_is_discarded(self):
        # CVE-2011-0411: octets sent with STARTTLS, in the clear, must not
        # be executed inside TLS.  PIPELINING is not loaded: no 554 may
        # come either (the discarded input is not "sent ahead").
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            c = h.client()
            self.ehlo(c)
            c.send("STARTTLS\r\nRSET\r\n")
            c.expect(220)
            start_tls(c)
            code, lines = c.cmd("EHLO client.example")
            self.assertEqual(code, 250)
            self.assertIn("Hello client.example", lines[0])
            c.cmd("NOOP", 250)
            c.close()

            c = h.client()
            self.ehlo(c)
            c.send("STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n")
            c.expect(220)
            start_tls(c)
            self.ehlo(c)
            # the injected MAIL never ran: there is no transaction
            c.cmd("RCPT TO:<b@remote.example>", 503)
            c.close()
            self.assertNotIn("554 5.5.0", h.log_text())

    def test_state_forgotten_after_starttls(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            c = h.client()
            before = self.ehlo(c)
            self.assertIn("STARTTLS", before)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            # RFC 3207 §4.2: the transaction is gone ...
            got, lines = c.cmd("RCPT TO:<b@remote.example>", 503)
            self.assertTrue(lines[0].startswith("503 5.5.1"), lines)
            # ... and so are the keywords advertised before TLS
            got, lines = c.cmd("MAIL FROM:<a@client.example> SIZE=100", 555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
            after = self.ehlo(c)
            self.assertNotIn("STARTTLS", after)
            c.cmd("MAIL FROM:<a@client.example> SIZE=100", 250)
            c.cmd("QUIT", 221)

    def test_starttls_twice(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            self.ehlo(c)
            got, lines = c.cmd("STARTTLS", 503)
            self.assertTrue(lines[0].startswith("503 5.5.1"), lines)
            c.cmd("NOOP", 250)   # still usable

    def test_starttls_with_argument(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            c = h.client()
            self.ehlo(c)
            got, lines = c.cmd("STARTTLS now", 501)
            self.assertTrue(lines[0].startswith("501 5.5.4"), lines)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            c.cmd("NOOP", 250)

    def test_no_certificate(self):
        with Herald('[session.errors]\nwait = "0s"\n',
                    modules=["mod_tls"]) as h:
            c = h.client()
            self.assertNotIn("STARTTLS", self.ehlo(c))
            got, lines = c.cmd("STARTTLS", 502)
            self.assertTrue(lines[0].startswith("502 5.5.1"), lines)
            c.cmd("NOOP", 250)

    def test_handshake_failure_closes_only_that_session(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            bystander = h.client()
            self.ehlo(bystander)
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            c.send(b"this is not a ClientHello\r\n" * 4)
            self.assertTrue(c.closed())
            self.assertNotIn(b"250", c.buf)
            c.close()
            bystander.cmd("NOOP", 250)
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            c.cmd("NOOP", 250)
            self.assertIn("TLS handshake failed", h.log_text())

    def test_handshake_timeout(self):
        with self.herald('[server.tls]\nhandshake-timeout = "1s"\n',
                         implicit=False, listeners=("smtp",)) as h:
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            started = time.time()
            other = h.client()       # served while the handshake waits
            other.cmd("NOOP", 250)
            self.assertTrue(c.closed(timeout=10))
            self.assertLess(time.time() - started, 8)
            self.assertIn("timed out", h.log_text())

    def test_stalled_handshakes_hold_no_worker(self):
        # one worker; clients that start a handshake and go quiet (after
        # STARTTLS, and on the implicit-TLS port) park in the poller
        h = Herald(self.config() + IMPLICIT, modules=["mod_tls"],
                   listeners=("smtp", "submissions"),
                   server="workers = 1\n")
        with h:
            stalled = []
            for _ in range(4):
                c = h.client()
                self.ehlo(c)
                c.cmd("STARTTLS", 220)
                stalled.append(c)            # no ClientHello follows
                stalled.append(socket.create_connection(
                    ("127.0.0.1", h.port("submissions")), 5))
            time.sleep(0.3)
            other = h.client()
            self.ehlo(other)
            other.cmd("STARTTLS", 220)
            start_tls(other)
            self.ehlo(other)
            other.cmd("QUIT", 221)
            tls = client_context().wrap_socket(socket.create_connection(
                ("127.0.0.1", h.port("submissions")), 5))
            tls.settimeout(5)
            self.assertTrue(tls.recv(100).startswith(b"220 "))
            tls.close()
            for c in stalled:
                c.close()

    def test_renegotiation_refused(self):
        with self.herald(implicit=False, listeners=("smtp",)) as h:
            sc = SClient(["-starttls", "smtp", "-crlf", "-tls1_2",
                          "-connect", "127.0.0.1:%d" % h.port()])
            try:
                hs = sc.wait(r"Extended master secret: \w+\n---\n")
                sc.send("R\n")   # s_client: renegotiate
                sc.wait(r"RENEGOTIATING", hs.end())
            finally:
                out = sc.finish()
            self.assertRegex(out[hs.end():], r"no renegotiation")


class TestWithOtherModules(TLSCase):
    """STARTTLS next to mod_ehlo and mod_pipelining, when they are built."""

    @unittest.skipUnless(have_module("mod_ehlo"), "mod_ehlo not built")
    def test_ehlo_required_again_after_starttls(self):
        h = Herald(self.config('[session.ehlo]\nrequire = true\n'),
                   modules=["mod_tls", "mod_ehlo"])
        with h:
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            # RFC 3207 §4.2: the EHLO before TLS is forgotten
            got, lines = c.cmd("MAIL FROM:<a@client.example>", 503)
            self.assertTrue(lines[0].startswith("503 5.5.1"), lines)
            self.ehlo(c)
            c.cmd("MAIL FROM:<a@client.example>", 250)

    @unittest.skipUnless(have_module("mod_pipelining"),
                         "mod_pipelining not built")
    def test_pipelined_injection_is_discarded(self):
        h = Herald(self.config(), modules=["mod_tls", "mod_pipelining"])
        with h:
            c = h.client()
            self.assertIn("PIPELINING", self.ehlo(c))
            # RFC 2920 §3.1: STARTTLS ends a group; what follows it in the
            # same packet is plaintext injection (CVE-2011-0411)
            c.send("STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n")
            c.expect(220)
            start_tls(c)
            self.assertNotIn("STARTTLS", self.ehlo(c))
            c.cmd("RCPT TO:<b@remote.example>", 503)


class TestImplicitTLS(TLSCase):

    def test_smtp_ssl(self):
        with self.herald() as h:
            s = smtplib.SMTP_SSL("127.0.0.1", h.port("submissions"),
                                 context=client_context(), timeout=10)
            code, _ = s.ehlo("client.example")
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.mail("a@client.example")[0], 250)
            self.assertEqual(s.rcpt("b@remote.example")[0], 250)
            code, text = s.data(MESSAGE)
            self.assertEqual(code, 250)
            qid = queued_id([text.decode()])
            code, text = s.docmd("STARTTLS")
            self.assertEqual(code, 503)
            self.assertTrue(text.startswith(b"5.5.1"), text)
            s.quit()
            self.assertIn(b"with ESMTPS", h.message(qid))
            self.assertIn(b"(using TLSv1.3 with cipher ", h.message(qid))
            # the plaintext listener still offers STARTTLS
            c = h.client()
            self.assertIn("STARTTLS", self.ehlo(c))

    def test_plaintext_client_on_implicit_listener(self):
        with self.herald() as h:
            c = h.client("submissions", greet=False)
            c.send("EHLO client.example\r\n")
            self.assertTrue(c.closed())
            self.assertNotIn(b"220", c.buf)   # no greeting in the clear
            s = smtplib.SMTP_SSL("127.0.0.1", h.port("submissions"),
                                 context=client_context(), timeout=10)
            self.assertEqual(s.noop()[0], 250)
            s.quit()

    def test_implicit_needs_certificate(self):
        h = Herald(IMPLICIT, modules=["mod_tls"],
                   listeners=("smtp", "submissions"))
        try:
            out = h.run("-t")
            self.assertEqual(out.returncode, 1, out.stderr)
            self.assertRegex(out.stderr, r"herald\.toml:\d+: listener "
                             r"'submissions': tls\.implicit needs a "
                             r"certificate")
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)


class TestIsTLS(TLSCase):

    def test_relay_only_over_tls(self):
        config = (certificate("default", *self.main) +
                  '[session.rcpt]\nrelay = [ { if = "is-tls", eq = "true",'
                  ' then = true }, { else = false } ]\n[session.errors]\n'
                  'wait = "0s"\n')
        with self.herald(config=config, implicit=False,
                         listeners=("smtp",)) as h:
            c = h.client()
            self.ehlo(c)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            got, lines = c.cmd("RCPT TO:<b@remote.example>", 550)
            self.assertTrue(lines[0].startswith("550 5.7.1"), lines)
            c.cmd("STARTTLS", 220)
            start_tls(c)
            self.ehlo(c)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.cmd("QUIT", 221)


class TestOptions(TLSCase):

    def negotiate(self, h, ctx):
        c = h.client()
        self.ehlo(c)
        c.cmd("STARTTLS", 220)
        c.sock = ctx.wrap_socket(c.sock)
        c.cmd("NOOP", 250)
        result = (c.sock.version(), c.sock.cipher()[0])
        c.close()
        return result

    def test_protocols(self):
        with self.herald('[server.tls]\nprotocols = ["TLSv1.2"]\n',
                         implicit=False, listeners=("smtp",)) as h:
            version, _ = self.negotiate(h, client_context())
            self.assertEqual(version, "TLSv1.2")
            ctx = client_context()
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            c = h.client()
            self.ehlo(c)
            c.cmd("STARTTLS", 220)
            with self.assertRaises((ssl.SSLError, OSError)):
                ctx.wrap_socket(c.sock)
            c.close()
            self.assertEqual(self.negotiate(h, client_context())[0],
                             "TLSv1.2")

    def cipher_choice(self, ignore_client_order):
        server = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
        extra = ('[server.tls]\nciphers = "%s"\nignore-client-order = %s\n'
                 % (server, "true" if ignore_client_order else "false"))
        with self.herald(extra, implicit=False, listeners=("smtp",)) as h:
            ctx = client_context()
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-AES128-GCM-SHA256")
            return self.negotiate(h, ctx)

    def test_ciphers_and_client_order(self):
        self.assertEqual(self.cipher_choice(False),
                         ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"))
        self.assertEqual(self.cipher_choice(True),
                         ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"))


class TestSNI(TLSCase):

    def subject(self, port, servername=None, starttls=True):
        args = ["-crlf", "-nocommands", "-connect", "127.0.0.1:%d" % port]
        args += ["-servername", servername] if servername else \
            ["-noservername"]
        if starttls:
            args = ["-starttls", "smtp"] + args
        sc = SClient(args)
        try:
            return sc.wait(r"^subject=(.*)$").group(1).strip()
        finally:
            sc.finish()

    def test_sni_picks_certificate(self):
        extra = (certificate("other", *self.other) +
                 '[server.tls]\ncertificate = "default"\n')
        with self.herald(extra) as h:
            port = h.port()
            self.assertEqual(self.subject(port), "CN = mx.test.example")
            self.assertEqual(self.subject(port, "other.example"),
                             "CN = other.example")
            self.assertEqual(self.subject(port, "mx.test.example"),
                             "CN = mx.test.example")
            # a wildcard name of the other certificate
            self.assertEqual(self.subject(port, "a.wild.example"),
                             "CN = other.example")
            # RFC 6125: a wildcard covers one label only
            self.assertEqual(self.subject(port, "a.b.wild.example"),
                             "CN = mx.test.example")
            self.assertEqual(self.subject(port, "unknown.example"),
                             "CN = mx.test.example")
            # the same on the implicit-TLS listener
            self.assertEqual(self.subject(h.port("submissions"),
                                          "other.example", starttls=False),
                             "CN = other.example")
            self.assertIn("SNI other.example", h.log_text())

    def test_listener_certificate_override(self):
        extra = (certificate("other", *self.other) +
                 '[server.tls]\ncertificate = "default"\n'
                 '[server.listener.submissions.tls]\n'
                 'certificate = "other"\nimplicit = true\n')
        with self.herald(extra, implicit=False) as h:
            self.assertEqual(self.subject(h.port("submissions"),
                                          starttls=False),
                             "CN = other.example")
            self.assertEqual(self.subject(h.port()), "CN = mx.test.example")
            # SNI still finds the default certificate from there
            self.assertEqual(self.subject(h.port("submissions"),
                                          "mx.test.example",
                                          starttls=False),
                             "CN = mx.test.example")


class TestCertificateErrors(TLSCase):
    """`herald -t` names the certificate, the file and the problem."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.expired = make_cert(cls.certs, "expired", "old.example",
                                days="-1")
        cls.garbage = os.path.join(cls.certs, "garbage.pem")
        with open(cls.garbage, "w") as f:
            f.write("not a key\n")

    def check(self, text, listeners=("smtp",)):
        """`herald -t`: (result, the configuration's lines)."""
        h = Herald(text, modules=["mod_tls"], listeners=listeners)
        try:
            with open(h.config_path) as f:
                lines = f.read().split("\n")
            return h.run("-t"), lines
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)

    def assertError(self, text, pattern, line_has=None):
        out, lines = self.check(text)
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        m = re.search(r"herald\.toml:(\d+): " + pattern, out.stderr)
        self.assertTrue(m, "%r not in %r" % (pattern, out.stderr))
        if line_has is not None:
            self.assertIn(line_has, lines[int(m.group(1)) - 1])
        return out.stderr

    def test_valid(self):
        out, _ = self.check(certificate("default", *self.main))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("configuration OK", out.stdout)

    def test_expired(self):
        self.assertError(certificate("old", *self.expired),
                         r"certificate 'old': \S+ expired on ", "cert =")

    def test_key_does_not_match(self):
        self.assertError(certificate("default", self.main[0], self.other[1]),
                         r"certificate 'default': private key \S+ does not "
                         r"match the certificate", "private-key =")

    def test_missing_file(self):
        self.assertError(
            certificate("default", "/nonexistent/cert.pem", self.main[1]),
            r"certificate 'default': cannot read /nonexistent/cert\.pem: "
            r"No such file", "cert =")

    def test_unreadable_key(self):
        self.assertError(certificate("default", self.main[0], self.garbage),
                         r"certificate 'default': private key \S+: no PEM "
                         r"private key", "private-key =")

    def test_encrypted_key(self):
        encrypted = os.path.join(self.certs, "encrypted-key.pem")
        openssl("pkey", "-in", self.main[1], "-aes256", "-passout",
                "pass:secret", "-out", encrypted)
        # never a pass-phrase prompt on the terminal: a plain error
        self.assertError(certificate("default", self.main[0], encrypted),
                         r"certificate 'default': private key \S+: it is "
                         r"encrypted", "private-key =")

    def test_certificate_file_is_not_pem(self):
        self.assertError(certificate("default", self.garbage, self.main[1]),
                         r"certificate 'default': \S+ holds no usable PEM "
                         r"certificate", "cert =")

    def test_not_a_file_url(self):
        self.assertError('[certificate.default]\ncert = "c.pem"\n'
                         'private-key = "file://k.pem"\n',
                         r"certificate 'default': cert must be "
                         r"\"file://PATH\"", "cert =")

    def test_missing_private_key(self):
        self.assertError('[certificate.default]\ncert = "file://%s"\n'
                         % self.main[0],
                         r"certificate 'default' has no private-key")

    def test_unknown_certificate_id(self):
        self.assertError(certificate("default", *self.main) +
                         '[server.tls]\ncertificate = "nope"\n',
                         r"server\.tls\.certificate: no \[certificate\.nope\]",
                         "certificate =")

    def test_old_protocol(self):
        self.assertError(certificate("default", *self.main) +
                         '[server.tls]\nprotocols = ["TLSv1.1", "TLSv1.2"]\n',
                         r"server\.tls\.protocols: TLSv1\.1 is not supported",
                         "protocols =")

    def test_bad_cipher_list(self):
        self.assertError(certificate("default", *self.main) +
                         '[server.tls]\nciphers = "NO-SUCH-CIPHER"\n',
                         r"server\.tls\.ciphers: no usable cipher",
                         "ciphers =")


class TestDevCert(unittest.TestCase):

    def test_dev_cert_is_made_once(self):
        d = tempfile.mkdtemp(prefix="herald-devcert-")
        try:
            target = os.path.join(d, "conf")
            out = subprocess.run(["sh", DEV_CERT, target],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            cert = os.path.join(target, "dev-cert.pem")
            key = os.path.join(target, "dev-key.pem")
            with open(cert, "rb") as f:
                first = f.read()
            info = openssl("x509", "-in", cert, "-noout", "-subject",
                           "-ext", "subjectAltName").stdout
            self.assertIn("CN = localhost.localdomain", info)
            self.assertIn("DNS:localhost", info)
            self.assertIn("IP Address:127.0.0.1", info)
            out = subprocess.run(["sh", DEV_CERT, target],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            with open(cert, "rb") as f:
                self.assertEqual(f.read(), first)   # idempotent
            h = Herald(certificate("default", cert, key),
                       modules=["mod_tls"])
            try:
                out = h.run("-t")
                self.assertEqual(out.returncode, 0, out.stderr)
            finally:
                shutil.rmtree(h.dir, ignore_errors=True)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
