"""test_chunking.py -- mod_chunking over real sockets: CHUNKING, BDAT and
BINARYMIME (RFC 3030), with mod_pipelining for pipelined chunks.

What is checked:
  - a message sent as 1, 3 and 50 chunks (boundaries inside a CRLF and
    right before a "." line), and as chunks closed by "BDAT 0 LAST", is
    stored byte for byte like the same message sent with DATA (which must
    dot-stuff ".foo" and the server unstuff it);
  - BDAT octets are never parsed as commands (QUIT, MAIL, "\\r\\n.\\r\\n"
    inside a chunk), binary octets and bare LF are stored as they are;
  - pipelined chunks (several BDATs in one write);
  - every refusal is sent after the chunk's octets were read, and the
    session is still in step afterwards (a NOOP gets 250): no MAIL / no
    RCPT / BDAT after LAST / CHUNKING not advertised (503 5.5.1), bad
    arguments and "BDAT 0" (501 5.5.4), a size that cannot be read (501
    5.5.4, no octets to skip), DATA after BDAT and BODY=BINARYMIME with
    DATA (503 5.5.1, the core);
  - the size limit counted across chunks (552 5.3.4, nothing stored, the
    chunks still in flight are read and answered 503);
  - session.extensions.chunking as an expression; queue show of a BDAT
    message; LMTP gives one final reply per recipient; the data hooks run
    once for a chunked message.
"""

import os
import random
import socket
import unittest

from harness import Herald, check_config, queued_id

COMMON = """
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
max = 1000
"""

MODULES = ["mod_pipelining", "mod_chunking"]

# A message DATA must transform: ".foo" is sent as "..foo" and stored as
# ".foo"; a line that is only "." is sent as ".."; 8-bit text passes.
LINES = [b"From: a@client.example", b"To: b@remote.example",
         b"Subject: chunking test", b"MIME-Version: 1.0", b""]
for i in range(120):
    LINES.append(b"line %03d of the body, some text to fill it up" % i)
    if i == 40:
        LINES += [b".foo", b".", b"..bar", b". spaced"]
    if i == 80:
        LINES += [b"caf\xc3\xa9 \xe2\x82\xac", b"", b".", b""]
MESSAGE = b"\r\n".join(LINES) + b"\r\n"


def trace_stripped(stored):
    """The stored message without the core's Received: header field (its
    first line and the continuation lines that start with a TAB)."""
    lines = stored.split(b"\r\n")
    assert lines[0].startswith(b"Received: "), stored[:200]
    i = 1
    while i < len(lines) and lines[i].startswith((b"\t", b" ")):
        i += 1
    return b"\r\n".join(lines[i:])


def dot_stuff(body):
    """RFC 5321 §4.5.2 transparency for DATA."""
    out = []
    for line in body.split(b"\r\n"):
        out.append(b"." + line if line.startswith(b".") else line)
    return b"\r\n".join(out)


def chunks_of(body, cuts):
    cuts = sorted(set(c for c in cuts if 0 < c < len(body)))
    edges = [0] + cuts + [len(body)]
    return [body[a:b] for a, b in zip(edges, edges[1:])]


def open_txn(c, rcpts=("b@remote.example",), mail_params="",
             greeting="EHLO client.example"):
    c.cmd(greeting, 250)
    c.cmd("MAIL FROM:<a@client.example>%s" % mail_params, 250)
    for r in rcpts:
        c.cmd("RCPT TO:<%s>" % r, 250)


def send_data(c, body):
    c.cmd("DATA", 354)
    c.send(dot_stuff(body) + b".\r\n")
    return c.expect(250)


def send_bdat(test, c, chunks, zero_last=False):
    """One BDAT at a time, each answered before the next is sent."""
    for i, chunk in enumerate(chunks):
        last = (i == len(chunks) - 1) and not zero_last
        c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"")
               + chunk)
        code, lines = c.reply()
        test.assertEqual(code, 250, lines)
        if not last:
            test.assertEqual(lines, ["250 2.0.0 %d octets received"
                                     % len(chunk)])
    if zero_last:
        c.send(b"BDAT 0 LAST\r\n")
        code, lines = c.reply()
        test.assertEqual(code, 250, lines)
    return lines


def assert_in_sync(test, c):
    """The session still reads commands where the client thinks it does."""
    test.assertEqual(c.cmd("NOOP")[0], 250)


class BodyIdentityTest(unittest.TestCase):
    """The same message by DATA and by BDAT is stored identically."""

    def test_data_and_bdat_store_the_same_octets(self):
        crlf_inside = MESSAGE.index(b"\r\n", 300) + 1       # between CR, LF
        before_dot = MESSAGE.index(b"\r\n.foo\r\n") + 2     # before ".foo"
        before_lone_dot = MESSAGE.index(b"\r\n.\r\n") + 2   # before "."
        rng = random.Random(3030)
        fifty = set([crlf_inside, before_dot, before_lone_dot])
        while len(fifty) < 49:
            fifty.add(rng.randrange(1, len(MESSAGE)))
        splits = {
            "1 chunk": chunks_of(MESSAGE, []),
            "3 chunks": chunks_of(MESSAGE, [crlf_inside, before_dot]),
            "50 chunks": chunks_of(MESSAGE, fifty),
        }
        self.assertEqual(len(splits["3 chunks"]), 3)
        self.assertEqual(len(splits["50 chunks"]), 50)
        self.assertTrue(splits["3 chunks"][0].endswith(b"\r"))
        self.assertTrue(splits["3 chunks"][2].startswith(b".foo\r\n"))
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            open_txn(c)
            by_data = h.message(queued_id(send_data(c, MESSAGE)))
            self.assertEqual(trace_stripped(by_data), MESSAGE)
            for name, chunks in sorted(splits.items()):
                for zero_last in (False, True):
                    with self.subTest(split=name, zero_last=zero_last):
                        c.cmd("MAIL FROM:<a@client.example>", 250)
                        c.cmd("RCPT TO:<b@remote.example>", 250)
                        lines = send_bdat(self, c, chunks, zero_last)
                        stored = h.message(queued_id(lines))
                        self.assertEqual(trace_stripped(stored),
                                         trace_stripped(by_data))
            self.assertEqual(len(h.queue_ids()), 7)
            assert_in_sync(self, c)

    def test_octets_are_stored_as_received(self):
        # bare LF, bare CR, NUL, 0xFF and the DATA terminator are data
        body = (b"Subject: binary\r\n\r\nbare\nlf\rcr\x00nul\xff\xfe"
                b"\r\n.\r\nMAIL FROM:<evil@x.example>\r\nQUIT\r\n.")
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            open_txn(c, mail_params=" BODY=BINARYMIME")
            lines = send_bdat(self, c, [body[:20], body[20:]])
            stored = h.message(queued_id(lines))
            self.assertEqual(trace_stripped(stored), body)
            assert_in_sync(self, c)
            self.assertEqual(len(h.queue_ids()), 1)

    def test_one_megabyte_chunk(self):
        rng = random.Random(1)
        body = bytes(rng.getrandbits(8) for _ in range(1 << 20))
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            open_txn(c, mail_params=" BODY=BINARYMIME")
            lines = send_bdat(self, c, [body])
            self.assertEqual(trace_stripped(h.message(queued_id(lines))),
                             body)


class LargeMessagesTest(unittest.TestCase):
    def test_large_messages_back_to_back(self):
        # A session step reads at most 64 times 64 KiB.  When a chunk ends
        # exactly on such a boundary (a BDAT line and its octets of 4, 8,
        # 16 or 20 MiB), the last octets arrive in the last read of a step:
        # they must still be processed, since nothing more will come from
        # the socket to wake the session.
        step = 64 * 65536
        with Herald(COMMON + '[session.data.limits]\nsize = "64M"\n'
                    '[session]\ntransfer-limit = "1G"\n',
                    modules=MODULES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            for i, steps in enumerate((5, 5, 4, 2, 1, 5)):
                size = steps * step
                size -= len(b"BDAT %d LAST\r\n" % size)
                body = bytes([65 + i]) * size
                c.cmd("MAIL FROM:<a@client.example>", 250)
                c.cmd("RCPT TO:<b@remote.example>", 250)
                c.send(b"BDAT %d LAST\r\n" % size + body)
                try:
                    qid = queued_id(c.expect(250))
                except socket.timeout:
                    self.fail("message %d (%d MiB): no reply" % (i, steps * 4))
                self.assertEqual(trace_stripped(h.message(qid)), body)


class PipelinedChunksTest(unittest.TestCase):
    def test_whole_transaction_in_one_write(self):
        parts = chunks_of(MESSAGE, [100, 2000])
        wire = (b"MAIL FROM:<a@client.example>\r\n"
                b"RCPT TO:<b@remote.example>\r\n"
                b"RCPT TO:<c@remote.example>\r\n")
        for i, p in enumerate(parts):
            wire += b"BDAT %d%s\r\n" % (len(p), b" LAST" if i == 2 else b"")
            wire += p
        wire += b"NOOP\r\n"
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertIn("250-PIPELINING", ehlo)
            c.send(wire)
            self.assertEqual(c.expect(250), ["250 2.1.0 Sender "
                                             "<a@client.example> OK"])
            c.expect(250)
            c.expect(250)
            self.assertEqual(c.expect(250), ["250 2.0.0 100 octets "
                                             "received"])
            self.assertEqual(c.expect(250), ["250 2.0.0 1900 octets "
                                             "received"])
            qid = queued_id(c.expect(250))
            c.expect(250)   # NOOP
            self.assertEqual(trace_stripped(h.message(qid)), MESSAGE)
            self.assertEqual(len(h.queue_show(qid)["recipients"]), 2)

    def test_chunk_with_commands_inside_is_not_parsed(self):
        inner = (b"\r\n.\r\nMAIL FROM:<evil@x.example>\r\n"
                 b"RCPT TO:<victim@remote.example>\r\nDATA\r\n"
                 b"smuggled\r\n.\r\nQUIT\r\n")
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            open_txn(c)
            c.send(b"BDAT %d\r\n%sBDAT 4 LAST\r\nend\n" % (len(inner), inner))
            c.expect(250)
            qid = queued_id(c.expect(250))
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [qid])
            self.assertEqual(trace_stripped(h.message(qid)),
                             inner + b"end\n")
            self.assertEqual(h.queue_show(qid)["sender"], "a@client.example")


class RefusalTest(unittest.TestCase):
    """Every refusal after the octets; the session stays in step."""

    def server(self, extra=""):
        return Herald(COMMON + extra, modules=MODULES)

    def test_bdat_without_mail(self):
        with self.server() as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.send(b"BDAT 12\r\nNOOP\r\nQUIT\r\n")
            self.assertEqual(c.expect(503),
                             ["503 5.5.1 Bad sequence of commands: MAIL "
                              "first"])
            assert_in_sync(self, c)

    def test_no_reply_before_the_last_octet(self):
        # RFC 3030 §2: accept and discard the data *before* the reply, for
        # refusals and for accepted chunks alike
        with self.server() as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            for head, tail, code in ((b"BDAT 10\r\n", b"0123456789", 503),
                                     (b"BDAT 4 x\r\nab", b"cd", 501)):
                c.send(head)
                self.assertFalse(self.reply_within(c, 0.5), head)
                c.send(tail)
                c.expect(code)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send(b"BDAT 10\r\nhello")
            self.assertFalse(self.reply_within(c, 0.5))
            c.send(b"world")
            self.assertEqual(c.expect(250), ["250 2.0.0 10 octets received"])
            c.send(b"BDAT 3 LAST\r\n\r\n")
            self.assertFalse(self.reply_within(c, 0.5))
            c.send(b".")
            qid = queued_id(c.expect(250))
            self.assertEqual(trace_stripped(h.message(qid)),
                             b"helloworld\r\n.")

    @staticmethod
    def reply_within(c, seconds):
        c.sock.settimeout(seconds)
        try:
            data = c.sock.recv(4096)
        except socket.timeout:
            return False
        finally:
            c.sock.settimeout(10)
        c.buf += data
        return True

    def test_bdat_without_rcpt(self):
        with self.server() as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            code, lines = c.cmd("RCPT TO:<no-domain@>")
            self.assertGreaterEqual(code, 500, lines)
            c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
            lines = c.expect(503)
            self.assertTrue(lines[0].startswith("503 5.5.1 "), lines)
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])

    def test_bdat_after_last(self):
        with self.server() as h:
            c = h.client()
            open_txn(c)
            send_bdat(self, c, [b"Subject: x\r\n\r\nhi\r\n"])
            c.send(b"BDAT 6\r\nQUIT\r\n")
            lines = c.expect(503)
            self.assertTrue(lines[0].startswith("503 5.5.1 "), lines)
            assert_in_sync(self, c)
            self.assertEqual(len(h.queue_ids()), 1)

    def test_data_after_bdat(self):
        with self.server() as h:
            c = h.client()
            open_txn(c)
            c.send(b"BDAT 5\r\nhello")
            c.expect(250)
            lines = c.cmd("DATA", 503)[1]
            self.assertTrue(lines[0].startswith("503 5.5.1 "), lines)
            c.cmd("RSET", 250)
            assert_in_sync(self, c)
            # DATA and BDAT may alternate between transactions (RFC 3030 §2)
            open_txn(c, greeting="NOOP")
            send_data(c, MESSAGE)
            open_txn(c, greeting="NOOP")
            send_bdat(self, c, [MESSAGE])
            self.assertEqual(len(h.queue_ids()), 2)

    def test_binarymime(self):
        with self.server() as h:
            c = h.client()
            open_txn(c, mail_params=" BODY=BINARYMIME")
            lines = c.cmd("DATA", 503)[1]
            self.assertEqual(lines, ["503 5.5.1 BODY=BINARYMIME requires "
                                     "BDAT"])
            assert_in_sync(self, c)
            lines = send_bdat(self, c, [b"Subject: b\r\n\r\n\x00\x01\r\n"])
            env = h.queue_show(queued_id(lines))
            self.assertEqual(env["mail_params"].get("BODY"), "BINARYMIME")

    def test_malformed_size(self):
        with self.server() as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            for args in ("", " ", "-1", "1x", "x", "LAST",
                         "1000000000000000000", "0x10"):
                with self.subTest(args=args):
                    open_txn(c, greeting="RSET")
                    c.send(("BDAT %s\r\n" % args).encode())
                    self.assertEqual(
                        c.expect(501), ["501 5.5.4 Syntax: BDAT chunk-size "
                                        "[LAST]"])
                    assert_in_sync(self, c)
                    # the transaction was failed: nothing can finish it
                    c.send(b"BDAT 0 LAST\r\n")
                    c.expect(503)
            self.assertEqual(h.queue_ids(), [])

    def test_bad_arguments_after_a_readable_size(self):
        with self.server() as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            for args in ("12  LAST", "12 LAST extra", "12 FIRST", " 12",
                         "12 LASTX", "12 "):
                with self.subTest(args=args):
                    open_txn(c, greeting="RSET")
                    # the 12 octets are "NOOP\r\nQUIT\r\n": they must be read
                    # as data and thrown away, not run
                    c.send(("BDAT %s\r\nNOOP\r\nQUIT\r\n" % args).encode())
                    self.assertEqual(
                        c.expect(501), ["501 5.5.4 Syntax: BDAT chunk-size "
                                        "[LAST]"])
                    assert_in_sync(self, c)
                    c.send(b"BDAT 0 LAST\r\n")
                    c.expect(503)
            self.assertEqual(h.queue_ids(), [])

    def test_zero_without_last(self):
        with self.server() as h:
            c = h.client()
            open_txn(c)
            c.send(b"BDAT 5\r\nhello")
            c.expect(250)
            c.send(b"BDAT 0\r\n")
            self.assertEqual(c.expect(501), ["501 5.5.4 BDAT 0 is only "
                                             "allowed with LAST"])
            assert_in_sync(self, c)
            c.send(b"BDAT 0 LAST\r\n")
            c.expect(503)
            self.assertEqual(h.queue_ids(), [])
            # "BDAT 0 LAST" alone is a valid (empty) message
            open_txn(c, greeting="RSET")
            c.send(b"BDAT 0 LAST\r\n")
            qid = queued_id(c.expect(250))
            self.assertEqual(trace_stripped(h.message(qid)), b"")

    def test_rset_between_chunks(self):
        with self.server() as h:
            c = h.client()
            open_txn(c)
            c.send(b"BDAT 5\r\nhello")
            c.expect(250)
            c.cmd("RSET", 250)
            c.send(b"BDAT 5 LAST\r\nworld")
            c.expect(503)
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])
            self.assertEqual(os.listdir(os.path.join(h.dir, "spool",
                                                     "queue")), [])

    def test_size_limit_across_chunks(self):
        with self.server('[session.data.limits]\nsize = "4k"\n') as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertIn("250-SIZE 4096", ehlo)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send(b"BDAT 3000\r\n" + b"a" * 3000)
            c.expect(250)
            # over the limit; the next two chunks are already in flight
            c.send(b"BDAT 3000\r\n" + b"b" * 3000 +
                   b"BDAT 10\r\nQUIT\r\nQUIT" + b"BDAT 4 LAST\r\nQUIT")
            self.assertEqual(c.expect(552), ["552 5.3.4 Message size exceeds "
                                             "fixed maximum message size"])
            self.assertEqual(c.expect(503)[0][:9], "503 5.5.1")
            self.assertEqual(c.expect(503)[0][:9], "503 5.5.1")
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])
            # over the limit in the LAST chunk
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send(b"BDAT 4000\r\n" + b"a" * 4000)
            c.expect(250)
            c.send(b"BDAT 200 LAST\r\n" + b"b" * 200)
            c.expect(552)
            assert_in_sync(self, c)
            # one chunk far over the limit is still read in full
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            big = b"NOOP\r\n" * 50000
            c.send(b"BDAT %d LAST\r\n" % len(big) + big)
            c.expect(552)
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])
            # exactly at the limit is fine (the Received: header is not
            # counted)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            lines = send_bdat(self, c, [b"x" * 4000, b"y" * 96])
            self.assertEqual(len(trace_stripped(
                h.message(queued_id(lines)))), 4096)

    def test_error_limit_counts_bdat_errors(self):
        with Herald(COMMON.replace("max = 1000", "max = 3"),
                    modules=MODULES) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.send(b"BDAT 4\r\nabcd")
            c.expect(503)
            c.send(b"BDAT x\r\n")
            c.expect(501)
            c.send(b"BDAT 4\r\nabcd")
            c.expect(503)
            c.expect(421)   # session.errors.max = 3
            self.assertTrue(c.closed())


class NotAdvertisedTest(unittest.TestCase):
    def test_chunking_false(self):
        with Herald(COMMON + "[session.extensions]\nchunking = false\n",
                    modules=MODULES) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-CHUNKING", ehlo)
            self.assertFalse(any("BINARYMIME" in l for l in ehlo), ehlo)
            self.assertIn("250-PIPELINING", ehlo)
            c.cmd("MAIL FROM:<a@client.example> BODY=BINARYMIME", 501)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            # the octets are "QUIT\r\n": if they were run as a command the
            # session would end here
            c.send(b"BDAT 6 LAST\r\nQUIT\r\n")
            lines = c.expect(503)
            self.assertTrue(lines[0].startswith("503 5.5.1 "), lines)
            self.assertIn("CHUNKING", lines[0])
            assert_in_sync(self, c)
            self.assertFalse(c.closed(timeout=0.5))
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])

    def test_command_sent_ahead_of_chunk_reply_without_pipelining(self):
        with Herald(COMMON + "[session.extensions]\npipelining = false\n",
                    modules=MODULES) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-PIPELINING", ehlo)
            self.assertIn("250-CHUNKING", ehlo)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send(b"BDAT 5\r\nhelloBDAT 0 LAST\r\n")
            codes = []
            try:
                while True:
                    codes.append(c.reply()[0])
            except (EOFError, ConnectionResetError, OSError):
                pass
            # the chunk is answered, the command sent with it is not run
            self.assertEqual(codes, [250, 554])
            self.assertEqual(h.queue_ids(), [])

    def test_helo_session_has_no_chunking(self):
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            c.cmd("HELO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@remote.example>", 250)
            c.send(b"BDAT 6\r\nQUIT\r\n")
            c.expect(503)
            assert_in_sync(self, c)

    def test_chunking_per_listener(self):
        rule = ('[session.extensions]\nchunking = [ { if = "listener", '
                'eq = "submission", then = true }, { else = false } ]\n')
        with Herald(COMMON + rule, modules=MODULES,
                    listeners=("smtp", "submission")) as h:
            sub = h.client("submission")
            _, ehlo = sub.cmd("EHLO client.example", 250)
            self.assertIn("250-CHUNKING", ehlo)
            self.assertIn("250-BINARYMIME", ehlo)
            mx = h.client("smtp")
            _, ehlo = mx.cmd("EHLO client.example", 250)
            self.assertNotIn("250-CHUNKING", ehlo)
            self.assertFalse(any("BINARYMIME" in l for l in ehlo), ehlo)

    def test_module_not_loaded(self):
        with Herald(COMMON, modules=["mod_pipelining"]) as h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertNotIn("250-CHUNKING", ehlo)
            c.cmd("BDAT 0 LAST", 500)

    def test_config_check(self):
        ok, _ = check_config(
            '[session.extensions]\nchunking = [ { if = "authenticated-as",'
            ' ne = "", then = true }, { else = false } ]\n', MODULES)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        # `sender` is not known when the EHLO reply is built
        bad, _ = check_config(
            '[session.extensions]\nchunking = [ { if = "sender", eq = "x",'
            ' then = true }, { else = false } ]\n', MODULES)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("sender", bad.stderr + bad.stdout)
        bad, _ = check_config('[session.extensions]\nchunking = "yes"\n',
                              MODULES)
        self.assertNotEqual(bad.returncode, 0)


class QueueAndHooksTest(unittest.TestCase):
    def test_queue_show_of_a_bdat_message(self):
        with Herald(COMMON, modules=MODULES) as h:
            c = h.client()
            open_txn(c, rcpts=("b@remote.example", "c@remote.example"),
                     mail_params=" BODY=BINARYMIME SIZE=%d" % len(MESSAGE))
            lines = send_bdat(self, c, chunks_of(MESSAGE, [700, 1400]))
            qid = queued_id(lines)
            env = h.queue_show(qid)
            self.assertEqual(env["id"], qid)
            self.assertEqual(env["sender"], "a@client.example")
            self.assertEqual(env["helo"], "client.example")
            self.assertEqual([r["address"] for r in env["recipients"]],
                             ["b@remote.example", "c@remote.example"])
            self.assertEqual(env["mail_params"]["BODY"], "BINARYMIME")
            self.assertEqual(env["mail_params"]["SIZE"], str(len(MESSAGE)))
            self.assertEqual(env["size"], len(h.message(qid)))

    def test_data_hooks_run_once_per_chunked_message(self):
        log = "hooks.log"
        with Herald(COMMON + '[test-hooks]\nlog = "%s"\n' % log,
                    modules=MODULES, test_modules=["mod_test_hooks"]) as h:
            c = h.client()
            open_txn(c)
            send_bdat(self, c, chunks_of(MESSAGE, [10, 20, 30, 400]))
            c.cmd("QUIT", 221)
            self.assertTrue(c.closed())
            h.wait_log("disconnect")
            with open(os.path.join(h.dir, log)) as f:
                calls = [l.split()[0] for l in f.read().splitlines()]
            text = open(os.path.join(h.dir, log)).read()
            self.assertEqual(calls.count("data"), 1, text)
            self.assertIn("data_end %d" % len(MESSAGE), text)
            self.assertEqual(calls.count("queued"), 1, text)
            self.assertLess(calls.index("data"), calls.index("data_end"))


class LmtpTest(unittest.TestCase):
    def test_one_reply_per_recipient(self):
        rcpts = ["u%d@remote.example" % i for i in range(3)]
        with Herald(COMMON, modules=MODULES, listeners=("lmtp",),
                    lmtp=("lmtp",)) as h:
            c = h.client("lmtp")
            _, lhlo = c.cmd("LHLO client.example", 250)
            self.assertIn("250-CHUNKING", lhlo)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            for r in rcpts:
                c.cmd("RCPT TO:<%s>" % r, 250)
            # a chunk that is not the last one gets exactly one reply
            c.send(b"BDAT 10\r\n" + MESSAGE[:10])
            c.expect(250)
            c.send(b"BDAT %d LAST\r\n" % (len(MESSAGE) - 10) + MESSAGE[10:])
            ids = set()
            for r in rcpts:
                lines = c.expect(250)
                self.assertIn("<%s>" % r, lines[0])
                ids.add(queued_id(lines))
            assert_in_sync(self, c)
            self.assertEqual(len(ids), 1)
            self.assertEqual(trace_stripped(h.message(ids.pop())), MESSAGE)

    def test_over_the_limit_per_recipient(self):
        with Herald(COMMON + '[session.data.limits]\nsize = "1k"\n',
                    modules=MODULES, listeners=("lmtp",),
                    lmtp=("lmtp",)) as h:
            c = h.client("lmtp")
            c.cmd("LHLO client.example", 250)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<x@remote.example>", 250)
            c.cmd("RCPT TO:<y@remote.example>", 250)
            c.send(b"BDAT 2000 LAST\r\n" + b"z" * 2000)
            self.assertIn("<x@remote.example>", c.expect(552)[0])
            self.assertIn("<y@remote.example>", c.expect(552)[0])
            assert_in_sync(self, c)
            self.assertEqual(h.queue_ids(), [])


if __name__ == "__main__":
    unittest.main()
