"""Third-party modules: the installed headers, herald.pc and herald-mod are
enough to build a module out of tree, and the example module
modules/examples/mod_greylist.c (greylisting, RFC 6647) works when loaded
from such a build.  A module built for another module API is refused.

Needs the installed prefix (`make install`, then run.py --prefix INST):
skipped when PREFIX/include/herald/herald.h does not exist.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Client, Herald, PREFIX, queued_id

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(SOURCE_ROOT, "modules", "examples", "mod_greylist.c")
HEADER = os.path.join(PREFIX, "include", "herald", "herald.h")
HERALD_MOD = os.path.join(PREFIX, "bin", "herald-mod")
MODULEDIR = os.path.join(PREFIX, "lib", "herald", "modules")

BASE = """
[session.rcpt]
relay = true
[session.errors]
wait = "0s"
"""


def require_prefix():
    if not PREFIX or not os.path.exists(HEADER):
        raise unittest.SkipTest("no installed Herald headers at %s (run "
                                "`make install` and pass --prefix)" % HEADER)


def pkg_env():
    env = dict(os.environ)
    env["PKG_CONFIG_PATH"] = os.path.join(PREFIX, "lib", "pkgconfig")
    return env


def run(args, cwd, env=None, shell=False):
    return subprocess.run(args, cwd=cwd, env=env or pkg_env(), shell=shell,
                          capture_output=True, text=True, timeout=120)


def copy_example(folder, text_filter=None):
    """Copy the example source into @folder (outside the source tree)."""
    with open(EXAMPLE) as f:
        text = f.read()
    if text_filter:
        text = text_filter(text)
    path = os.path.join(folder, "mod_greylist.c")
    with open(path, "w") as f:
        f.write(text)
    return path


def build_with_herald_mod(folder):
    out = run([HERALD_MOD, "-c", "mod_greylist.c"], cwd=folder)
    so = os.path.join(folder, "mod_greylist.so")
    assert out.returncode == 0 and os.path.exists(so), out.stdout + out.stderr
    return so


def put_module(h, so):
    """Place @so in the server's module folder (replacing any symlink the
    harness made to an installed copy)."""
    dst = os.path.join(h.dir, "modules", "mod_greylist.so")
    if os.path.lexists(dst):
        os.unlink(dst)
    shutil.copy(so, dst)


def client_from(h, source_ip):
    """A raw client whose connection comes from @source_ip (127/8)."""
    c = Client.__new__(Client)
    c.sock = socket.create_connection(("127.0.0.1", h.port()), timeout=10,
                                      source_address=(source_ip, 0))
    c.buf = b""
    c.expect(220)
    return c


def api_major():
    with open(os.path.join(PREFIX, "include", "herald", "hr_module.h")) as f:
        return int(re.search(r"#define HR_API_MAJOR (\d+)", f.read()).group(1))


class OutOfTreeBuildTest(unittest.TestCase):
    """herald.pc and herald-mod, from the installed prefix only."""

    def setUp(self):
        require_prefix()
        self.tmp = tempfile.mkdtemp(prefix="herald-3p-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.assertFalse(self.tmp.startswith(SOURCE_ROOT))
        copy_example(self.tmp)

    def test_pkg_config_cflags_build_the_module(self):
        flags = run(["pkg-config", "--cflags", "herald"], cwd=self.tmp)
        self.assertEqual(flags.returncode, 0, flags.stderr)
        self.assertIn(os.path.join(PREFIX, "include"), flags.stdout)
        # the installed headers, not the source tree's include/ (the
        # prefix itself may live under the checkout, as in build/test.sh)
        self.assertNotIn("-I" + os.path.join(SOURCE_ROOT, "include") + " ",
                         flags.stdout + " ")
        self.assertNotIn("-I" + os.path.join(SOURCE_ROOT, "include",
                                             "herald") + " ",
                         flags.stdout + " ")
        out = run("cc -shared -fPIC $(pkg-config --cflags herald) "
                  "mod_greylist.c -o mod_greylist.so", cwd=self.tmp,
                  shell=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        so = os.path.join(self.tmp, "mod_greylist.so")
        self.assertTrue(os.path.exists(so))
        if shutil.which("nm"):
            syms = run(["nm", "-D", "--defined-only", so], cwd=self.tmp)
            names = {line.split()[-1] for line in syms.stdout.splitlines()
                     if line.strip()}
            names -= {"_init", "_fini"}
            # everything but the record is static (modules are RTLD_GLOBAL)
            self.assertEqual(names, {"greylist_module"}, syms.stdout)

    def test_herald_mod_compiles(self):
        out = run([HERALD_MOD, "-c", "mod_greylist.c"], cwd=self.tmp)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp,
                                                    "mod_greylist.so")))
        out = run([HERALD_MOD, "-c", "mod_greylist.c", "-o", "other.so"],
                  cwd=self.tmp)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "other.so")))

    def test_herald_mod_compile_error_fails(self):
        with open(os.path.join(self.tmp, "mod_broken.c"), "w") as f:
            f.write("#include <herald/herald.h>\nint x = ;\n")
        out = run([HERALD_MOD, "-c", "mod_broken.c"], cwd=self.tmp)
        self.assertNotEqual(out.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.tmp,
                                                     "mod_broken.so")))

    def test_herald_mod_queries(self):
        out = run([HERALD_MOD, "-q", "MODULEDIR"], cwd=self.tmp)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(os.path.realpath(out.stdout.strip()),
                         os.path.realpath(MODULEDIR))
        out = run([HERALD_MOD, "-q", "INCLUDEDIR"], cwd=self.tmp)
        self.assertEqual(os.path.realpath(out.stdout.strip()),
                         os.path.realpath(os.path.join(PREFIX, "include")))
        out = run([HERALD_MOD, "-q", "NOSUCHTHING"], cwd=self.tmp)
        self.assertNotEqual(out.returncode, 0)
        out = run([HERALD_MOD], cwd=self.tmp)
        self.assertEqual(out.returncode, 2)
        self.assertIn("usage", out.stderr)

    def test_herald_mod_installs_under_destdir(self):
        build_with_herald_mod(self.tmp)
        moddir = run([HERALD_MOD, "-q", "MODULEDIR"], cwd=self.tmp)
        moddir = moddir.stdout.strip()
        dest = os.path.join(self.tmp, "dest")
        env = pkg_env()
        env["DESTDIR"] = dest
        out = run([HERALD_MOD, "-i", "mod_greylist.so"], cwd=self.tmp,
                  env=env)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        path = os.path.join(dest + moddir, "mod_greylist.so")
        self.assertTrue(os.path.exists(path), out.stdout)
        self.assertTrue(os.access(path, os.X_OK))
        with open(path, "rb") as a, \
                open(os.path.join(self.tmp, "mod_greylist.so"), "rb") as b:
            self.assertEqual(a.read(), b.read())


class GreylistTest(unittest.TestCase):
    """The example module, built out of tree, loaded by the real server."""

    so = None

    @classmethod
    def setUpClass(cls):
        # skipped per test in setUp (a class-level skip counts no test)
        cls.tmp = tempfile.mkdtemp(prefix="herald-greylist-")
        if PREFIX and os.path.exists(HEADER):
            copy_example(cls.tmp)
            cls.so = build_with_herald_mod(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        require_prefix()

    def server(self, config, modules=("mod_greylist",), base=BASE):
        h = Herald(base + config, modules=list(modules))
        put_module(h, self.so)
        return h

    def check(self, config, modules=("mod_greylist",)):
        """`herald -t` with the module in the module folder."""
        h = Herald(BASE + config, modules=list(modules))
        try:
            put_module(h, self.so)
            out = h.run("-t")
            with open(h.config_path) as f:
                lines = f.read().split("\n")
            return out, h.config_path, lines
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)

    def assertDeferred(self, reply):
        code, lines = reply
        self.assertEqual(code, 451, lines)
        self.assertTrue(lines[-1].startswith("451 4.7.1 "), lines)
        self.assertIn("greylisted", lines[-1])

    def test_unknown_triplet_deferred_then_accepted_after_delay(self):
        with self.server('[greylist]\ndelay = "1s"\n') as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            # a retry before the delay is deferred again
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            # DATA without any accepted recipient is refused
            code, _ = c.cmd("DATA")
            self.assertEqual(code // 100, 5)
            time.sleep(max(0.0, first + 1.2 - time.time()))
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            # another recipient is another triplet
            self.assertDeferred(c.cmd("RCPT TO:<carol@remote.example>"))
            c.cmd("DATA", 354)
            c.send("Subject: greylisting\r\n\r\nhello\r\n.\r\n")
            qid = queued_id(c.expect(250))
            self.assertIn(qid, h.queue_ids())
            env = h.queue_show(qid)
            self.assertIn("bob@remote.example", str(env))
            self.assertNotIn("carol@remote.example", str(env))
            c.cmd("QUIT", 221)
            self.assertIn("greylisted <alice@client.example>", h.log_text())

            # a passed triplet is remembered: later mail is not delayed,
            # also with HELO (greylisting does not depend on EHLO) and
            # with the addresses spelled in another case
            c = h.client()
            c.cmd("HELO client.example", 250)
            c.cmd("MAIL FROM:<Alice@CLIENT.example>", 250)
            c.cmd("RCPT TO:<bob@Remote.Example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<dave@remote.example>"))
            c.cmd("QUIT", 221)

            # another sender to the same recipient is a new triplet,
            # and so is the null sender
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<mallory@client.example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.cmd("RSET", 250)
            c.cmd("MAIL FROM:<>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.cmd("QUIT", 221)

    def test_client_network_is_the_slash_24(self):
        config = '[greylist]\ndelay = "1s"\n'
        with self.server(config) as h:
            c = client_from(h, "127.0.0.1")
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.close()
            time.sleep(max(0.0, first + 1.2 - time.time()))
            # RFC 6647: a retry from another server of the same /24 passes
            c = client_from(h, "127.0.0.2")
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            c.close()
            # another /24 is another client
            c = client_from(h, "127.0.1.1")
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.close()

    def test_ipv4_prefix_32_keys_the_address(self):
        config = '[greylist]\ndelay = "1s"\nipv4-prefix = 32\n'
        with self.server(config) as h:
            c = client_from(h, "127.0.0.1")
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            time.sleep(max(0.0, first + 1.2 - time.time()))
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            c.close()
            c = client_from(h, "127.0.0.2")
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.close()

    def test_core_recipient_rules_apply_first(self):
        config = ('[session.rcpt.lookup]\ndomains = ["local.example"]\n'
                  '[greylist]\ndelay = "1s"\n')
        base = BASE.replace("relay = true", "relay = false")
        with self.server(config, base=base) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            # refused by the core (relay) before greylisting is asked
            _, lines = c.cmd("RCPT TO:<bob@remote.example>", 550)
            self.assertTrue(lines[-1].startswith("550 5.7.1"), lines)
            self.assertDeferred(c.cmd("RCPT TO:<bob@local.example>"))
            c.cmd("QUIT", 221)

    def test_enable_expression_exempts_recipients(self):
        config = ('[greylist]\ndelay = "1s"\nenable = [ { if = "rcpt-domain",'
                  ' eq = "vip.example", then = false }, { else = true } ]\n')
        with self.server(config) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            c.cmd("RCPT TO:<boss@vip.example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.cmd("QUIT", 221)

    def test_zero_delay_disables(self):
        with self.server('[greylist]\ndelay = "0s"\n') as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            c.cmd("QUIT", 221)

    def test_waiting_triplet_expires(self):
        config = '[greylist]\ndelay = "500ms"\nexpire = "1s"\n'
        with self.server(config) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            time.sleep(max(0.0, first + 1.3 - time.time()))
            # not retried within `expire`: forgotten, starts over
            again = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            time.sleep(max(0.0, again + 0.7 - time.time()))
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            c.cmd("QUIT", 221)

    def test_bounded_table_evicts_least_recently_seen(self):
        config = '[greylist]\ndelay = "1s"\nmax-entries = 2\n'
        with self.server(config) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            for rcpt in ("a", "b", "c"):     # "a" is evicted by "c"
                self.assertDeferred(c.cmd("RCPT TO:<%s@remote.example>"
                                          % rcpt))
            time.sleep(max(0.0, first + 1.2 - time.time()))
            c.cmd("RCPT TO:<c@remote.example>", 250)
            self.assertDeferred(c.cmd("RCPT TO:<a@remote.example>"))
            c.cmd("QUIT", 221)

    def test_concurrent_sessions(self):
        """Workers share the table: many sessions at once, each triplet
        deferred once and accepted after the delay."""
        with self.server('[greylist]\ndelay = "1s"\n') as h:
            results = {}
            errors = []

            def worker(n, expect):
                try:
                    c = h.client()
                    c.cmd("EHLO w%d.example" % n, 250)
                    c.cmd("MAIL FROM:<s%d@client.example>" % n, 250)
                    codes = [c.cmd("RCPT TO:<r%d@remote.example>" % i)[0]
                             for i in range(10)]
                    c.cmd("QUIT", 221)
                    results[(n, expect)] = codes
                except Exception as e:   # reported below
                    errors.append(repr(e))

            first = time.time()
            threads = [threading.Thread(target=worker, args=(n, 451))
                       for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            time.sleep(max(0.0, first + 1.5 - time.time()))
            threads = [threading.Thread(target=worker, args=(n, 250))
                       for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            self.assertEqual(errors, [])
            self.assertEqual(len(results), 16)
            for (n, expect), codes in results.items():
                self.assertEqual(codes, [expect] * 10, (n, expect))

    def test_reload_keeps_the_triplets(self):
        import signal
        with self.server('[greylist]\ndelay = "1s"\n') as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            first = time.time()
            self.assertDeferred(c.cmd("RCPT TO:<bob@remote.example>"))
            c.cmd("QUIT", 221)
            h.proc.send_signal(signal.SIGHUP)
            self.assertTrue(h.wait_log("reloaded"), h.log_text())
            time.sleep(max(0.0, first + 1.2 - time.time()))
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<alice@client.example>", 250)
            c.cmd("RCPT TO:<bob@remote.example>", 250)
            c.cmd("QUIT", 221)

    def test_herald_M_lists_the_module_and_its_keys(self):
        h = self.server('[greylist]\ndelay = "1s"\n')
        try:
            out = h.run("-M")
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"mod_greylist \(.*mod_greylist\.so, "
                                     r"API \d+\.\d+\)")
        for key in ("delay", "expire", "passed-expire",
                    "whitelist-authenticated", "max-entries", "enable",
                    "ipv4-prefix", "ipv6-prefix"):
            self.assertIn("key: greylist.%s (" % key, out.stdout)
        self.assertIn("key: greylist.delay (duration, expression)",
                      out.stdout)

    def test_typo_under_greylist_is_an_error_with_its_line(self):
        out, path, lines = self.check('[greylist]\ndelai = "1s"\n')
        self.assertNotEqual(out.returncode, 0)
        line = next(i + 1 for i, text in enumerate(lines)
                    if text.startswith("delai"))
        self.assertIn("%s:%d: unknown key 'greylist.delai'" % (path, line),
                      out.stderr + out.stdout)

    def test_greylist_keys_without_the_module_warn(self):
        out, path, lines = self.check('[greylist]\ndelay = "1s"\n',
                                      modules=())
        self.assertEqual(out.returncode, 0, out.stderr)
        line = next(i + 1 for i, text in enumerate(lines)
                    if text.startswith("delay"))
        self.assertIn("warning: %s:%d: key 'greylist.delay' belongs to "
                      "mod_greylist, which is not loaded" % (path, line),
                      out.stderr + out.stdout)

    def test_bad_values_are_errors(self):
        cases = [
            ('max-entries = 0', "greylist.max-entries must be between"),
            ('max-entries = 20000000', "greylist.max-entries must be"),
            ('ipv4-prefix = 33', "greylist.ipv4-prefix must be between"),
            ('ipv6-prefix = -1', "greylist.ipv6-prefix must be between"),
            ('delay = "5h"', "greylist.delay must be shorter than "
                             "greylist.expire"),
            ('expire = "0s"', "greylist.expire must be a positive"),
            ('delay = "soon"', "greylist.delay"),
            ('enable = "yes"', "greylist.enable"),
        ]
        for setting, message in cases:
            with self.subTest(setting=setting):
                out, path, lines = self.check("[greylist]\n%s\n" % setting)
                self.assertNotEqual(out.returncode, 0, out.stdout)
                text = out.stderr + out.stdout
                self.assertIn(message, text)
                line = next(i + 1 for i, t in enumerate(lines)
                            if t == setting)
                self.assertIn("%s:%d:" % (path, line), text)


# The triplet table alone, driven by a C program that includes the module
# source: random triplets through a small table, checking after every step
# that the hash chains and the least-recently-seen list agree, and that the
# table holds exactly the most recently seen triplets.
TABLE_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "mod_greylist.c"

#define CAPACITY 64
#define KEYS 300
#define STEPS 200000

static long last_use[KEYS];   /* step of the key's last check, -1 never */

static void key_digest(int k, unsigned char *d)
{
    memset(d, 0, APR_SHA1_DIGESTSIZE);
    /* few low bits differ: long chains in a small bucket array */
    d[0] = (unsigned char)(k % 7);
    memcpy(d + 4, &k, sizeof(k));
}

static int fail(const char *what, long step)
{
    printf("FAIL %s at step %ld\n", what, step);
    return 1;
}

int main(void)
{
    static gl_entry entries[CAPACITY];
    static apr_uint32_t buckets[16];
    gl_table t;
    long step;
    int k;

    memset(&t, 0, sizeof(t));
    t.entries = entries;
    t.buckets = buckets;
    t.bucket_mask = 15;
    t.capacity = CAPACITY;
    t.newest = t.oldest = GL_NONE;
    t.expire = 1000000000;
    t.passed_expire = 1000000000;
    memset(buckets, 0xff, sizeof(buckets));
    for (k = 0; k < KEYS; k++) {
        last_use[k] = -1;
    }
    srand(7);
    for (step = 0; step < STEPS; step++) {
        unsigned char d[APR_SHA1_DIGESTSIZE];
        apr_interval_time_t wait;
        apr_uint32_t i, n = 0, chained = 0;
        apr_time_t prev = 0;
        int in_table = 0, pass;

        k = rand() % KEYS;
        key_digest(k, d);
        pass = gl_check(&t, d, (apr_time_t)step * 10, 50, &wait);
        /* still known and retried after the delay (50 us = 5 steps):
         * passes; an evicted key started over at this step */
        if (pass != (gl_find(&t, d) != GL_NONE &&
                     t.entries[gl_find(&t, d)].first_seen <=
                         (apr_time_t)step * 10 - 50)) {
            return fail("decision", step);
        }
        last_use[k] = step;
        if (t.newest == GL_NONE ||
            memcmp(t.entries[t.newest].digest, d, sizeof(d)) != 0) {
            return fail("checked key is not the newest", step);
        }
        for (i = t.newest; i != GL_NONE; i = t.entries[i].older) {
            if (n > 0 && t.entries[i].last_seen > prev) {
                return fail("LRU order", step);
            }
            prev = t.entries[i].last_seen;
            if (gl_find(&t, t.entries[i].digest) != i) {
                return fail("entry not in its chain", step);
            }
            n++;
        }
        for (i = 0; i < 16; i++) {
            apr_uint32_t j;
            for (j = buckets[i]; j != GL_NONE; j = t.entries[j].chain) {
                if (gl_bucket(&t, t.entries[j].digest) != i) {
                    return fail("entry in the wrong chain", step);
                }
                if (++chained > CAPACITY) {
                    return fail("chain loop", step);
                }
            }
        }
        if (n != t.used || chained != t.used || t.used > CAPACITY) {
            return fail("counts", step);
        }
        /* exactly the t.used most recently checked keys are present */
        for (k = 0; k < KEYS; k++) {
            unsigned char dk[APR_SHA1_DIGESTSIZE];
            key_digest(k, dk);
            if (gl_find(&t, dk) != GL_NONE) {
                in_table++;
            }
        }
        if (in_table != (int)t.used) {
            return fail("membership", step);
        }
        if (step % 997 == 0) {
            long rank = 0;
            int j;
            for (k = 0; k < KEYS; k++) {
                unsigned char dk[APR_SHA1_DIGESTSIZE];
                if (last_use[k] < 0) {
                    continue;
                }
                rank = 0;
                for (j = 0; j < KEYS; j++) {
                    rank += last_use[j] > last_use[k];
                }
                key_digest(k, dk);
                if ((gl_find(&t, dk) != GL_NONE) != (rank < CAPACITY)) {
                    return fail("not the most recent keys", step);
                }
            }
        }
    }
    printf("OK %d entries\n", (int)t.used);
    return 0;
}
"""


class TripletTableTest(unittest.TestCase):
    def setUp(self):
        require_prefix()

    def test_chains_and_lru_stay_consistent_under_eviction(self):
        if not shutil.which("nm"):
            self.skipTest("nm (binutils) is not installed")
        tmp = tempfile.mkdtemp(prefix="herald-gltable-")
        self.addCleanup(shutil.rmtree, tmp, True)
        copy_example(tmp)
        with open(os.path.join(tmp, "driver.c"), "w") as f:
            f.write(TABLE_DRIVER)
        out = run("cc -O1 -c $(pkg-config --cflags herald) driver.c",
                  cwd=tmp, shell=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        # the core functions the hook calls are never reached: stubs
        undefined = run(["nm", "-u", "driver.o"], cwd=tmp).stdout.split()
        with open(os.path.join(tmp, "stubs.c"), "w") as f:
            f.write("#include <stdlib.h>\n")
            for name in undefined:
                if name.startswith("hr_"):
                    f.write("void %s(void) { abort(); }\n" % name)
        out = run("cc driver.o stubs.c -o driver "
                  "$(pkg-config --libs apr-1 apr-util-1)", cwd=tmp,
                  shell=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        res = run([os.path.join(tmp, "driver")], cwd=tmp)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("OK 64 entries", res.stdout)


class ModuleApiTest(unittest.TestCase):
    """A module built for another module API never runs."""

    def setUp(self):
        require_prefix()
        self.tmp = tempfile.mkdtemp(prefix="herald-abi-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        copy_example(self.tmp, lambda text: text.replace(
            "HR_MODULE_STUFF", "HR_MODULE_MAGIC, HR_API_MAJOR + 1, 0"))
        self.so = build_with_herald_mod(self.tmp)

    def test_other_api_major_is_refused_naming_the_file(self):
        h = Herald(BASE, modules=["mod_greylist"])
        try:
            put_module(h, self.so)
            path = os.path.join(h.dir, "modules", "mod_greylist.so")
            out = h.run("-t")
            self.assertNotEqual(out.returncode, 0)
            text = out.stderr + out.stdout
            self.assertIn("module %s was built for module API %d.0"
                          % (path, api_major() + 1), text)
            self.assertIn("rebuild it", text)
            with self.assertRaises(RuntimeError) as cm:
                h.start()
            self.assertIn("built for module API", str(cm.exception))
        finally:
            h.stop()
            shutil.rmtree(h.dir, ignore_errors=True)

    def test_other_api_module_does_not_claim_keys(self):
        """Its key table is never read: [greylist] keys are unknown."""
        h = Herald(BASE + '[greylist]\ndelay = "1s"\n', modules=[])
        try:
            put_module(h, self.so)
            out = h.run("-t")
        finally:
            shutil.rmtree(h.dir, ignore_errors=True)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("unknown key 'greylist.delay'", out.stderr + out.stdout)


if __name__ == "__main__":
    unittest.main()
