"""test_mtpriority.py -- mod_mtpriority (RFC 6710) against the real
server.

The policy advertised comes from an expression on the listener: MIXER on
"smtp", STANAG4406 on "submission", NSEP on "submissions", nothing on
"other".  MT-PRIORITY is accepted only where it was advertised (555 5.5.4
elsewhere), a bad value gets 501 5.5.4, and the value is capped for
unauthenticated sessions (session.mt-priority.max-unauthenticated), then
rounded to the policy's levels; the result is the envelope field
mtpriority.priority and the transaction's `priority` variable.
"""

import unittest

from harness import Herald, check_config, queued_id

MODULES = ["mod_mtpriority"]
SEED_MODULES = ["mod_dsn", "mod_mtpriority", "mod_nosoliciting"]
LISTENERS = ("smtp", "submission", "submissions", "other")

BASE = """
[session.errors]
wait = "0s"
max = 1000
[session.rcpt]
relay = true
"""

POLICIES = """
[session.extensions]
mt-priority = [ { if = "listener", eq = "smtp", then = "mixer" },
                { if = "listener", eq = "submission", then = "STANAG4406" },
                { if = "listener", eq = "submissions", then = "nsep" },
                { else = false } ]
"""

UNCAPPED = BASE + POLICIES + """
[session.mt-priority]
max-unauthenticated = 9
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

MESSAGE = "Subject: priority\r\n\r\nbody\r\n.\r\n"

# MT-PRIORITY value -> effective priority for each policy (no cap): the
# nearest level of the policy, a tie going to the lower level.
EXPECTED = {
    "smtp": {  # MIXER: -4 0 4
        -9: -4, -5: -4, -4: -4, -3: -4, -2: -4, -1: 0, 0: 0, 1: 0, 2: 0,
        3: 4, 4: 4, 7: 4, 9: 4},
    "submission": {  # STANAG4406: -4 -2 0 2 4 6
        -9: -4, -3: -4, -2: -2, -1: -2, 0: 0, 1: 0, 2: 2, 3: 2, 4: 4,
        5: 4, 6: 6, 9: 6},
    "submissions": {  # NSEP: 0 1 2 3 4
        -9: 0, -1: 0, 0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 4, 9: 4},
}
POLICY_NAME = {"smtp": "MIXER", "submission": "STANAG4406",
               "submissions": "NSEP"}


def ehlo(h, listener):
    c = h.client(listener)
    _, lines = c.cmd("EHLO client.example", 250)
    return c, lines


def send(h, listener, mail_params, sender="a@sender.example"):
    """One message with MAIL parameters; returns the queued envelope."""
    c, _ = ehlo(h, listener)
    c.cmd("MAIL FROM:<%s> %s" % (sender, mail_params), 250)
    c.cmd("RCPT TO:<one@rcpt.example>", 250)
    c.cmd("DATA", 354)
    c.send(MESSAGE)
    code, lines = c.reply()
    assert code == 250, lines
    c.cmd("QUIT", 221)
    c.close()
    return h.queue_show(queued_id(lines))


class MtPriorityConfig(unittest.TestCase):
    def test_seed_snippet_loads(self):
        out, _ = check_config(SEED, modules=SEED_MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_policies_load(self):
        out, _ = check_config(UNCAPPED, modules=MODULES)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)

    def test_unknown_policy_is_refused(self):
        text = ('[session.extensions]\nmt-priority = [ { if = "listener", '
                'eq = "smtp", then = "mixer" },\n'
                '  { else = "urgent" } ]\n')
        out, path = check_config(text, modules=MODULES)
        self.assertNotEqual(out.returncode, 0)
        err = out.stderr + out.stdout
        self.assertIn("urgent", err)
        self.assertIn("session.extensions.mt-priority", err)
        # FILE:LINE of the bad value
        self.assertRegex(err, r"herald\.toml:\d+: setting "
                              r"'session\.extensions\.mt-priority'")

    def test_cap_out_of_range_is_refused(self):
        out, _ = check_config(BASE + POLICIES +
                              "[session.mt-priority]\n"
                              "max-unauthenticated = 10\n", modules=MODULES)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("max-unauthenticated", out.stderr + out.stdout)

    def test_true_is_not_a_policy(self):
        out, _ = check_config("[session.extensions]\nmt-priority = true\n",
                              modules=MODULES)
        self.assertNotEqual(out.returncode, 0)


class MtPriorityAdvertised(unittest.TestCase):
    def test_policy_lines_exact(self):
        with Herald(UNCAPPED, modules=MODULES, listeners=LISTENERS) as h:
            for listener, line in (("smtp", "MT-PRIORITY MIXER"),
                                   ("submission", "MT-PRIORITY STANAG4406"),
                                   ("submissions", "MT-PRIORITY NSEP")):
                c, lines = ehlo(h, listener)
                found = [l[4:] for l in lines if "MT-PRIORITY" in l]
                self.assertEqual(found, [line], (listener, lines))
                c.close()
            c, lines = ehlo(h, "other")
            self.assertFalse([l for l in lines if "MT-PRIORITY" in l])
            c.close()

    def test_seed_config_unauthenticated_is_off(self):
        with Herald(BASE + SEED, modules=SEED_MODULES) as h:
            c, lines = ehlo(h, "smtp")
            self.assertFalse([l for l in lines if "MT-PRIORITY" in l])
            _, lines = c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=1",
                             555)
            self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
            c.close()


class MtPriorityValues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.h = Herald(UNCAPPED, modules=MODULES,
                       listeners=LISTENERS).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def test_mapping_per_policy(self):
        for listener, table in EXPECTED.items():
            for requested, effective in table.items():
                value = ("+%d" % requested) if requested == 5 else \
                    str(requested)
                env = send(self.h, listener, "MT-PRIORITY=" + value)
                f = env["fields"]
                self.assertEqual(f["mtpriority.priority"], str(effective),
                                 (listener, requested, f))
                self.assertEqual(f["mtpriority.policy"],
                                 POLICY_NAME[listener])
                if requested == effective:
                    self.assertNotIn("mtpriority.requested", f)
                else:
                    self.assertEqual(f["mtpriority.requested"],
                                     str(requested))

    def test_no_parameter_no_fields(self):
        env = send(self.h, "smtp", "")
        self.assertFalse(any(k.startswith("mtpriority.")
                             for k in env["fields"]))

    def test_not_advertised_gets_555(self):
        c, _ = ehlo(self.h, "other")
        _, lines = c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=1", 555)
        self.assertTrue(lines[0].startswith("555 5.5.4"), lines)
        c.close()

    def test_rcpt_parameter_gets_555(self):
        c, _ = ehlo(self.h, "smtp")
        c.cmd("MAIL FROM:<a@sender.example>", 250)
        c.cmd("RCPT TO:<one@rcpt.example> MT-PRIORITY=1", 555)
        c.close()

    def test_bad_values_get_501(self):
        c, _ = ehlo(self.h, "smtp")
        for value in ("MT-PRIORITY", "MT-PRIORITY=", "MT-PRIORITY=10",
                      "MT-PRIORITY=-10", "MT-PRIORITY=-0",
                      "MT-PRIORITY=09", "MT-PRIORITY=1.5",
                      "MT-PRIORITY=+", "MT-PRIORITY=-", "MT-PRIORITY=+-1",
                      "MT-PRIORITY=high", "MT-PRIORITY=0x1",
                      "MT-PRIORITY=99999999999999999999"):
            _, lines = c.cmd("MAIL FROM:<a@sender.example> " + value, 501)
            self.assertTrue(lines[0].startswith("501 5.5.4"),
                            (value, lines))
        c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=+0", 250)
        c.close()

    def test_duplicate_gets_555(self):
        c, _ = ehlo(self.h, "smtp")
        c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=1 MT-PRIORITY=2",
              555)
        c.close()


class MtPriorityCap(unittest.TestCase):
    def test_default_cap_is_normal(self):
        # no max-unauthenticated: 0, "normal"
        with Herald(BASE + POLICIES, modules=MODULES,
                    listeners=LISTENERS) as h:
            f = send(h, "submission", "MT-PRIORITY=9")["fields"]
            self.assertEqual(f["mtpriority.priority"], "0")
            self.assertEqual(f["mtpriority.requested"], "9")
            # lower than the cap: only rounded
            f = send(h, "submission", "MT-PRIORITY=-9")["fields"]
            self.assertEqual(f["mtpriority.priority"], "-4")
            self.assertEqual(f["mtpriority.requested"], "-9")
            f = send(h, "submission", "MT-PRIORITY=-2")["fields"]
            self.assertEqual(f["mtpriority.priority"], "-2")
            self.assertNotIn("mtpriority.requested", f)

    def test_cap_expression_on_sender(self):
        conf = BASE + POLICIES + """
[session.mt-priority]
max-unauthenticated = [
    { if = "sender-domain", eq = "trusted.example", then = 9 },
    { else = 2 } ]
"""
        with Herald(conf, modules=MODULES, listeners=LISTENERS) as h:
            f = send(h, "submission", "MT-PRIORITY=6",
                     sender="boss@trusted.example")["fields"]
            self.assertEqual(f["mtpriority.priority"], "6")
            f = send(h, "submission", "MT-PRIORITY=6")["fields"]
            self.assertEqual(f["mtpriority.priority"], "2")
            self.assertEqual(f["mtpriority.requested"], "6")
            # MIXER: the cap 2 would round up to 4; it gives 0 instead
            f = send(h, "smtp", "MT-PRIORITY=9")["fields"]
            self.assertEqual(f["mtpriority.priority"], "0")

    def test_priority_variable_follows(self):
        # the effective priority is the `priority` variable of later
        # expressions: relay only what was granted priority 4
        conf = BASE.replace("relay = true", """relay = [
    { if = "priority", eq = "4", then = true }, { else = false } ]""") + \
            POLICIES + """
[session.mt-priority]
max-unauthenticated = 9
"""
        with Herald(conf, modules=MODULES, listeners=LISTENERS) as h:
            c, _ = ehlo(h, "smtp")
            c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=3", 250)
            c.cmd("RCPT TO:<one@rcpt.example>", 250)     # 3 -> 4
            c.cmd("RSET", 250)
            c.cmd("MAIL FROM:<a@sender.example> MT-PRIORITY=2", 250)
            c.cmd("RCPT TO:<one@rcpt.example>", 550)     # 2 -> 0
            c.close()


if __name__ == "__main__":
    unittest.main()
