"""test_sieve.py -- mod_sieve over real sockets: Sieve scripts at the
connect, EHLO, MAIL, RCPT and DATA stages, the `env` namespace and the
environment test, lists from [list] (inline and file://), scripts inline
and file://, rule-table script selection, the instruction budget, and the
load-time errors `herald -t` prints.

The seed's EHLO example is used exactly as written (with the closing brace
of its `if` block, which the seed lost): it needs mod_ehlo for
session.ehlo.require, and those tests are skipped when mod_ehlo is not
built.  Every other test loads mod_sieve alone.

Replies checked exactly: the script's own reply when its reason starts
with a 4xx/5xx code (X.0.0 added when the enhanced code is missing, its
class corrected when it disagrees, RFC 3463 §2), "550 5.7.1 reason"
otherwise, "554 5.7.1 reason" at connect (RFC 5321 §3.1), 503 5.5.1 from
mod_ehlo for MAIL after a refused EHLO.
"""

import os
import re
import shutil
import smtplib
import tempfile
import unittest

from harness import Herald, module_dirs, queued_id

HERE = os.path.dirname(os.path.abspath(__file__))


def module_built(name):
    return any(os.path.exists(os.path.join(d, name + ".so"))
               for d in module_dirs())


need_ehlo = unittest.skipUnless(module_built("mod_ehlo"),
                                "mod_ehlo is not built")


def herald_version():
    with open(os.path.join(HERE, "..", "..", "include", "herald",
                           "herald.h")) as f:
        return re.search(r'#define HERALD_VERSION "([^"]+)"',
                         f.read()).group(1)


# The seed's configuration (spec/seed-ehlo-and-extensions.txt) as written,
# with the closing brace of the if block added, and the list it names.
SEED = """
[session.ehlo]
require = true
reject-non-fqdn = [ { if = "listener", eq = "smtp", then = true},
                    { else = false } ]
script = "ehlo"

[sieve.scripts]
ehlo = '''
    require ["variables", "extlists", "reject"];

    if string :list "${env.helo_domain}" "list/blocked-domains" {
        reject "551 5.1.1 Your domain '${env.helo_domain}' has been blacklisted.";
    }
'''

[list]
blocked-domains = ["spam.example"]
"""

SEED_REPLY = "551 5.1.1 Your domain '%s' has been blacklisted."

COMMON = """
[session.errors]
wait = "0s"
max = 1000
"""


def with_relay(config):
    """Recipients are accepted: session.rcpt.relay = true, in the
    configuration's own [session.rcpt] table when it has one."""
    if "[session.rcpt]\n" in config:
        return config.replace("[session.rcpt]\n",
                              "[session.rcpt]\nrelay = true\n", 1)
    return config + "[session.rcpt]\nrelay = true\n"

# The seed's script with mod_sieve alone (no mod_ehlo keys).
EHLO_ONLY = """
[session.ehlo]
script = "ehlo"
[sieve.scripts]
ehlo = '''
    require ["variables", "extlists", "reject"];
    if string :list "${env.helo_domain}" "list/blocked-domains" {
        reject "551 5.1.1 Your domain '${env.helo_domain}' has been blacklisted.";
    }
'''
"""


def server(config, listeners=("smtp",), files=None, lmtp=(),
           modules=("mod_sieve",)):
    return Herald(COMMON + with_relay(config), modules=list(modules),
                  listeners=listeners, files=files, lmtp=lmtp)


def check(config, files=None, modules=("mod_sieve",)):
    """`herald -t`: (result, the configuration text written)."""
    h = Herald(COMMON + with_relay(config), modules=list(modules),
               files=files)
    try:
        with open(h.config_path) as f:
            text = f.read()
        return h.run("-t"), text
    finally:
        shutil.rmtree(h.dir, ignore_errors=True)


def line_of(text, needle, nth=1):
    """1-based line number of the nth line of @text containing @needle."""
    seen = 0
    for i, line in enumerate(text.split("\n"), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError("%r not in the configuration" % needle)


def script(name, text, stage=None):
    """A [sieve.scripts] entry (and the stage key naming it)."""
    out = ""
    if stage:
        out += '[session.%s]\nscript = "%s"\n' % (stage, name)
    return out + "[sieve.scripts]\n%s = '''\n%s\n'''\n" % (name, text)


def message(subject="hello", extra_headers="", body="Hi.\r\n"):
    return ("From: <a@example.org>\r\nTo: <b@example.net>\r\n"
            "Subject: %s\r\n%s\r\n%s" % (subject, extra_headers, body))


def send_data(c, text):
    """DATA with @text as the message; returns (code, lines)."""
    c.cmd("DATA", 354)
    if text and not text.endswith("\r\n"):
        text += "\r\n"
    c.send(text + ".\r\n")
    return c.reply()


class Case(unittest.TestCase):
    """Start one server per class from its CONFIG."""
    CONFIG = ""
    LISTENERS = ("smtp",)
    LMTP = ()
    FILES = None
    MODULES = ("mod_sieve",)

    @classmethod
    def setUpClass(cls):
        cls.h = server(cls.CONFIG, listeners=cls.LISTENERS, files=cls.FILES,
                       lmtp=cls.LMTP, modules=cls.MODULES).start()

    @classmethod
    def tearDownClass(cls):
        cls.h.__exit__(None, None, None)

    def client(self, listener="smtp", ehlo="client.example"):
        c = self.h.client(listener)
        self.addCleanup(c.close)
        if ehlo:
            c.cmd("%s %s" % ("LHLO" if listener in self.LMTP else "EHLO",
                             ehlo), 250)
        return c


# ------------------------------------------------------------ the seed

@need_ehlo
class SeedTest(Case):
    """The seed's EHLO stage, exactly as the seed configures it."""
    CONFIG = SEED
    MODULES = ("mod_ehlo", "mod_sieve")

    def test_blocked_domain_gets_the_scripts_reply(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO spam.example")
        self.assertEqual(lines, [SEED_REPLY % "spam.example"])

    def test_good_domain_gets_the_capability_list(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO good.example", 250)
        self.assertEqual(lines[0],
                         "250-mx.test.example Hello good.example "
                         "[127.0.0.1]")
        self.assertIn("250-ENHANCEDSTATUSCODES", lines)
        self.assertEqual(lines[-1], "250 SMTPUTF8")

    def test_mail_after_the_reject_needs_a_greeting(self):
        c = self.client(ehlo=None)
        c.cmd("EHLO spam.example", 551)
        got, lines = c.cmd("MAIL FROM:<a@good.example>", 503)
        self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)

    def test_case_is_folded(self):
        """:list with the default comparator i;ascii-casemap (RFC 4790
        §9.2, RFC 6134 §2.4)."""
        for name in ("SPAM.EXAMPLE", "Spam.Example"):
            c = self.client(ehlo=None)
            got, lines = c.cmd("EHLO " + name)
            self.assertEqual(lines, [SEED_REPLY % name])

    def test_helo_is_the_same_stage(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("HELO spam.example")
        self.assertEqual(lines, [SEED_REPLY % "spam.example"])
        c.cmd("HELO good.example", 250)

    def test_refused_then_good_greeting_delivers(self):
        c = self.client(ehlo=None)
        c.cmd("EHLO spam.example", 551)
        c.cmd("EHLO good.example", 250)
        c.cmd("MAIL FROM:<a@good.example>", 250)
        c.cmd("RCPT TO:<b@example.net>", 250)
        got, lines = send_data(c, message())
        self.assertEqual(got, 250, lines)
        qid = queued_id(lines)
        self.assertEqual(self.h.queue_show(qid)["sender"], "a@good.example")

    def test_smtplib_sees_the_refusal(self):
        s = self.h.smtplib()
        try:
            code, text = s.ehlo("spam.example")
            self.assertEqual(code, 551)
            self.assertEqual(text.decode(), "5.1.1 Your domain "
                             "'spam.example' has been blacklisted.")
            code, _ = s.ehlo("good.example")
            self.assertEqual(code, 250)
            s.sendmail("a@good.example", ["b@example.net"], message())
        finally:
            s.quit()

    def test_reject_non_fqdn_still_runs_first(self):
        """mod_ehlo's check is ordered before the script."""
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO localhost", 550)
        self.assertTrue(lines[-1].startswith("550 5.5.0 "), lines)

    def test_seed_configuration_checks(self):
        res, _ = check(SEED, modules=("mod_ehlo", "mod_sieve"))
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


# -------------------------------------------------------- the EHLO stage

BIG_LIST = "".join("blocked%05d.example\n" % i for i in range(10000))


class EhloFilesTest(Case):
    """A file:// script and a file:// list of 10,000 entries."""
    CONFIG = """
[session.ehlo]
script = "ehlo"
[sieve.scripts]
ehlo = "file://ehlo.sieve"
[list]
blocked-domains = "file://blocked.txt"
"""
    FILES = {
        "ehlo.sieve": 'require ["variables", "extlists", "reject"];\n'
                      'if string :list "${env.helo_domain}" '
                      '"list/blocked-domains" {\n'
                      '    reject "551 5.1.1 Your domain '
                      '\'${env.helo_domain}\' has been blacklisted.";\n}\n',
        "blocked.txt": "# one domain a line\n" + BIG_LIST,
    }

    def test_listed_domains_refused(self):
        for i in (0, 1, 4999, 9999):
            name = "blocked%05d.example" % i
            c = self.client(ehlo=None)
            got, lines = c.cmd("EHLO " + name)
            self.assertEqual(lines, [SEED_REPLY % name])

    def test_casefold_against_the_file(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO BLOCKED00042.Example")
        self.assertEqual(lines, [SEED_REPLY % "BLOCKED00042.Example"])

    def test_other_domains_accepted(self):
        for name in ("blocked10000.example", "blocked0000.example",
                     "good.example", "example"):
            c = self.client(ehlo=None)
            c.cmd("EHLO " + name, 250)


class EhloRuleTableTest(Case):
    """session.ehlo.script as a rule table: the script runs on `smtp`
    only; `submission` runs none."""
    LISTENERS = ("smtp", "submission")
    CONFIG = """
[session.ehlo]
script = [ { if = "listener", eq = "smtp", then = "ehlo" },
           { else = false } ]
[list]
blocked-domains = ["spam.example"]
""" + EHLO_ONLY.split("[session.ehlo]\nscript = \"ehlo\"\n", 1)[1]

    def test_smtp_listener_runs_the_script(self):
        c = self.client("smtp", ehlo=None)
        got, lines = c.cmd("EHLO spam.example")
        self.assertEqual(lines, [SEED_REPLY % "spam.example"])

    def test_submission_listener_runs_none(self):
        c = self.client("submission", ehlo=None)
        c.cmd("EHLO spam.example", 250)
        c.cmd("MAIL FROM:<a@spam.example>", 250)


class EhloHeloDomainRuleTest(Case):
    """At the EHLO stage the rule table's helo-domain is the name being
    offered (the core records it only after the hook)."""
    CONFIG = """
[session.ehlo]
script = [ { if = "helo-domain", ends-with = ".test", then = "deny" },
           { else = false } ]
""" + script("deny", 'require "reject";\nreject "no .test names";')

    def test_rule_sees_the_offered_name(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO host.test")
        self.assertEqual(lines, ["550 5.7.1 no .test names"])
        c.cmd("EHLO host.example", 250)
        # and after a good greeting, the new name still decides
        got, lines = c.cmd("EHLO other.test")
        self.assertEqual(lines, ["550 5.7.1 no .test names"])


class ReplyFormTest(Case):
    """How the reason of reject/ereject becomes the reply.  The EHLO name
    picks the case: <case>.example."""
    CONFIG = """
[session.ehlo]
script = "ehlo"
""" + script("ehlo", r'''
require ["variables", "reject", "ereject"];
if string :matches "${env.helo_domain}" "*.example" {
    set "case" "${1}";
}
if string "${case}" "plain" { reject "Go away"; }
elsif string "${case}" "coded" { reject "553 5.7.1 Coded reply"; }
elsif string "${case}" "noenh" { reject "450 Try later"; }
elsif string "${case}" "badclass" { reject "451 5.7.1 Mixed classes"; }
elsif string "${case}" "onlycode" { reject "554"; }
elsif string "${case}" "notacode" { reject "250 2.0.0 Fine"; }
elsif string "${case}" "ecoded" { ereject "521 5.3.2 Not accepting mail"; }
elsif string "${case}" "empty" { reject ""; }
elsif string "${case}" "multi" {
    reject text:
550 5.7.1 First line
second line

third line
.
;
}
elsif string "${case}" "close" { reject "421 4.7.0 Closing now"; }
elsif string "${case}" "echo" { reject "550 5.7.1 You said ${env.helo_domain}"; }
''')

    TABLE = [
        ("plain", ["550 5.7.1 Go away"]),
        ("coded", ["553 5.7.1 Coded reply"]),
        ("noenh", ["450 4.0.0 Try later"]),
        ("badclass", ["451 4.7.1 Mixed classes"]),
        ("onlycode", ["554 5.0.0 Rejected by local policy"]),
        ("notacode", ["550 5.7.1 250 2.0.0 Fine"]),
        ("ecoded", ["521 5.3.2 Not accepting mail"]),
        ("empty", ["550 5.7.1 Rejected by local policy"]),
        ("multi", ["550-5.7.1 First line", "550-5.7.1 second line",
                   "550 5.7.1 third line"]),
        ("echo", ["550 5.7.1 You said echo.example"]),
    ]

    def test_reply_table(self):
        for case, expected in self.TABLE:
            with self.subTest(case=case):
                c = self.client(ehlo=None)
                got, lines = c.cmd("EHLO %s.example" % case)
                self.assertEqual(lines, expected)
                # the session goes on, still un-greeted
                c.cmd("EHLO fine.example", 250)

    def test_421_closes_the_connection(self):
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO close.example")
        self.assertEqual(lines, ["421 4.7.0 Closing now"])
        self.assertTrue(c.closed())


class BudgetTest(Case):
    """A pathological :matches on a long name runs out of a small budget
    (the glob retries the 40 literals at every offset of two 63-octet
    labels): the outcome is implicit keep, the session goes on, the log
    says so."""
    CONFIG = """
[sieve]
budget = 100
[session.ehlo]
script = "ehlo"
""" + script("ehlo", r'''
require ["variables", "reject"];
if string :matches "${env.helo_domain}" "*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab*" {
    reject "550 5.7.1 matched";
}
''')

    def test_budget_exhausted_means_keep(self):
        name = "a" * 63 + "." + "a" * 63 + ".example"
        c = self.client(ehlo=None)
        got, lines = c.cmd("EHLO " + name, 250)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        self.assertTrue(self.h.wait_log("budget"), self.h.log_text()[-2000:])
        self.assertIn("ran out of its budget of 100 instructions",
                      self.h.log_text())


class DefaultBudgetTest(Case):
    """The same script with the default budget finishes."""
    CONFIG = BudgetTest.CONFIG.replace("[sieve]\nbudget = 100\n", "")

    def test_default_budget_is_enough_here(self):
        c = self.client(ehlo=None)
        c.cmd("EHLO " + "a" * 63 + "." + "a" * 63 + ".example", 250)
        got, lines = c.cmd("EHLO " + "a" * 50 + "b.example")
        self.assertEqual(lines, ["550 5.7.1 matched"])
        self.assertNotIn("budget", self.h.log_text())


# ---------------------------------------------------- the connect stage

class ConnectTest(Case):
    CONFIG = """
[session.connect]
script = [ { if = "listener", eq = "smtp", then = "connect" },
           { else = "probe" } ]
""" + script("connect", r'''
require ["environment", "reject"];
if environment :is "remote-ip" "127.0.0.1" {
    reject "Go away";
}
''') + """
probe = '''
require ["environment", "variables", "reject"];
if environment :matches "version" "*" { set "v" "${1}"; }
if allof (environment :is "name" "Herald",
          environment :is "location" "MTA",
          environment :is "phase" "pre",
          environment :is "domain" "mx.test.example",
          environment :is "host" "mx.test.example",
          not environment :matches "remote-host" "*",
          environment :is "stage" "connect") {
    reject "554 5.7.1 env ok ${v} ${env.listener} ${env.remote_ip} ${env.local_ip} [${env.helo_domain}] [${env.sender}] ${env.tls}";
}
'''
"""
    LISTENERS = ("smtp", "submission")

    def test_reject_replaces_the_greeting(self):
        c = self.h.client("smtp", greet=False)
        self.addCleanup(c.close)
        self.assertEqual(c.reply(), (554, ["554 5.7.1 Go away"]))
        got, lines = c.cmd("EHLO client.example", 503)
        self.assertTrue(lines[-1].startswith("503 5.5.1 "), lines)
        got, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
        c.cmd("QUIT", 221)

    def test_environment_items(self):
        c = self.h.client("submission", greet=False)
        self.addCleanup(c.close)
        self.assertEqual(c.reply(), (554, [
            "554 5.7.1 env ok %s submission 127.0.0.1 127.0.0.1 [] [] false"
            % herald_version()]))


# ------------------------------------------------ MAIL and RCPT stages

class MailRcptTest(Case):
    CONFIG = """
[session.mail]
script = "mail"
[session.rcpt]
script = "rcpt"
[list]
closed-domains = ["closed.example"]
""" + script("mail", r'''
require ["envelope", "reject", "ereject", "variables"];
if envelope :domain :is "from" "bad.example" {
    reject "550 5.7.1 Senders from bad.example are not welcome";
}
if envelope :localpart :is "from" "probe" {
    reject "550 5.7.1 l=${env.listener} ip=${env.remote_ip} lp=${env.local_port} tls=${env.tls} helo=${env.helo_domain} s=${env.sender} sd=${env.sender_domain} st=${env.stage} auth=[${env.authenticated_as}] r=[${env.rcpt}]";
}
if envelope :all :is "from" "" {
    reject "550 5.7.1 No bounces here";
}
if envelope :localpart :is "from" "discard" {
    discard;
}
if envelope :localpart :is "from" "inject" {
    ereject "550 5.7.1 sender ${env.sender} refused";
}
''') + """
rcpt = '''
require ["envelope", "reject", "extlists", "variables", "relational"];
if envelope :localpart :is "to" "busy" {
    reject "450 4.2.1 Mailbox busy, try later";
}
if envelope :domain :list "to" "list/closed-domains" {
    reject "550 5.1.2 Domain ${env.rcpt_domain} is closed";
}
if envelope :count "eq" "to" "2" {
    reject "550 5.5.3 more than one recipient at once";
}
if envelope :is "from" "count@example.org" {
    if envelope :all :matches "to" "*" {
        reject "451 4.7.1 checking <${1}> from <${env.sender}> as ${env.rcpt}";
    }
}
'''
"""

    def test_sender_domain_refused(self):
        c = self.client()
        got, lines = c.cmd("MAIL FROM:<someone@bad.example>")
        self.assertEqual(lines, ["550 5.7.1 Senders from bad.example are "
                                 "not welcome"])
        # the transaction was dropped: RCPT needs a MAIL first
        got, lines = c.cmd("RCPT TO:<b@example.net>", 503)
        c.cmd("MAIL FROM:<someone@good.example>", 250)
        c.cmd("RCPT TO:<b@example.net>", 250)

    def test_sender_domain_case_folded(self):
        c = self.client()
        got, lines = c.cmd("MAIL FROM:<someone@BAD.Example>")
        self.assertEqual(got, 550, lines)

    def test_env_namespace_at_mail(self):
        c = self.client(ehlo="client.example")
        got, lines = c.cmd("MAIL FROM:<probe@probe.example>")
        self.assertEqual(lines, [
            "550 5.7.1 l=smtp ip=127.0.0.1 lp=%d tls=false "
            "helo=client.example s=probe@probe.example sd=probe.example "
            "st=mail auth=[] r=[]" % self.h.port()])

    def test_null_sender(self):
        c = self.client()
        got, lines = c.cmd("MAIL FROM:<>")
        self.assertEqual(lines, ["550 5.7.1 No bounces here"])

    def test_discard_before_data_is_keep(self):
        c = self.client()
        c.cmd("MAIL FROM:<discard@example.org>", 250)
        c.cmd("RCPT TO:<b@example.net>", 250)

    def test_ereject_interpolates_the_sender(self):
        c = self.client()
        got, lines = c.cmd("MAIL FROM:<inject@example.org>")
        self.assertEqual(lines, ["550 5.7.1 sender inject@example.org "
                                 "refused"])

    def test_recipient_refused_with_custom_4xx(self):
        c = self.client()
        c.cmd("MAIL FROM:<a@example.org>", 250)
        got, lines = c.cmd("RCPT TO:<busy@example.net>")
        self.assertEqual(lines, ["450 4.2.1 Mailbox busy, try later"])
        c.cmd("RCPT TO:<free@example.net>", 250)
        got, lines = send_data(c, message())
        self.assertEqual(got, 250, lines)
        env = self.h.queue_show(queued_id(lines))
        self.assertEqual([r["address"] for r in env["recipients"]],
                         ["free@example.net"])

    def test_recipient_domain_in_list(self):
        c = self.client()
        c.cmd("MAIL FROM:<a@example.org>", 250)
        got, lines = c.cmd("RCPT TO:<x@Closed.Example>")
        self.assertEqual(lines, ["550 5.1.2 Domain Closed.Example is "
                                 "closed"])

    def test_envelope_to_is_the_recipient_being_checked(self):
        """At RCPT, "to" holds only the recipient in question: two
        recipients never make :count 2."""
        c = self.client()
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<one@example.net>", 250)
        c.cmd("RCPT TO:<two@example.net>", 250)

    def test_rcpt_match_variables_and_env(self):
        c = self.client()
        c.cmd("MAIL FROM:<count@example.org>", 250)
        got, lines = c.cmd("RCPT TO:<who@example.net>")
        self.assertEqual(lines, ["451 4.7.1 checking <who@example.net> "
                                 "from <count@example.org> as "
                                 "who@example.net"])


class MailRuleVariablesTest(Case):
    """A MAIL stage rule table may test the sender (HR_VARS_MAIL)."""
    CONFIG = """
[session.mail]
script = [ { if = "sender-domain", eq = "watched.example", then = "strict" },
           { else = "" } ]
""" + script("strict", 'require "reject";\nreject "550 5.7.1 watched";')

    def test_rule_on_the_sender(self):
        c = self.client()
        got, lines = c.cmd("MAIL FROM:<a@watched.example>")
        self.assertEqual(lines, ["550 5.7.1 watched"])
        c.cmd("MAIL FROM:<a@other.example>", 250)


class TrustedAliasTest(Case):
    """[sieve.trusted.scripts] is accepted as [sieve.scripts]."""
    CONFIG = """
[session.rcpt]
script = "trusted"
[sieve.trusted.scripts]
trusted = '''
require ["envelope", "reject"];
if envelope :localpart "to" "nobody" { reject "550 5.1.1 No such user"; }
'''
"""

    def test_alias_table(self):
        c = self.client()
        c.cmd("MAIL FROM:<a@example.org>", 250)
        got, lines = c.cmd("RCPT TO:<nobody@example.net>")
        self.assertEqual(lines, ["550 5.1.1 No such user"])
        c.cmd("RCPT TO:<somebody@example.net>", 250)


# ----------------------------------------------------------- DATA stage

DATA_SCRIPT = r'''
require ["reject", "variables", "envelope", "relational", "comparator-i;ascii-numeric"];
if header :contains "Subject" "spam" {
    reject "554 5.7.1 Spam is not welcome";
}
if header :matches "Subject" "echo: *" {
    reject "550 5.7.1 Subject was ${1}";
}
if address :domain :is "From" "bad.example" {
    reject "550 5.7.1 Author domain refused";
}
if header :contains "From" "Spammy Name" {
    reject "550 5.7.1 Display name refused";
}
if exists "X-Drop-Me" {
    discard;
    stop;
}
if size :over 100K {
    reject "552 5.3.4 Sieve says too big";
}
if envelope :count "ge" :comparator "i;ascii-numeric" "to" "3" {
    reject "550 5.5.3 Three recipients at once is too many";
}
if header :is "Subject" "who" {
    reject "550 5.7.1 to=${env.rcpt} stage=${env.stage}";
}
'''


class DataTest(Case):
    CONFIG = """
[session.data]
script = "data"
""" + script("data", DATA_SCRIPT)

    def start_message(self, rcpts=("b@example.net",)):
        c = self.client()
        c.cmd("MAIL FROM:<a@example.org>", 250)
        for r in rcpts:
            c.cmd("RCPT TO:<%s>" % r, 250)
        return c

    def test_subject_spam_refused(self):
        c = self.start_message()
        before = len(self.h.queue_ids())
        got, lines = send_data(c, message("Buy spam now"))
        self.assertEqual(lines, ["554 5.7.1 Spam is not welcome"])
        self.assertEqual(len(self.h.queue_ids()), before)
        # the session goes on: a clean message is queued
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@example.net>", 250)
        got, lines = send_data(c, message("Lunch"))
        self.assertEqual(got, 250, lines)
        self.assertIn(queued_id(lines), self.h.queue_ids())

    def test_header_name_case_and_folding(self):
        """Field names compare case-insensitively; continuation lines are
        unfolded (RFC 5322 §2.2.3)."""
        c = self.start_message()
        text = ("From: <a@example.org>\r\nSUBJECT: a folded\r\n"
                "\tsp\r\n am\r\n\r\nbody\r\n")
        got, lines = send_data(c, text)
        self.assertEqual(got, 250, lines)   # "sp am" is not "spam"
        c = self.start_message()
        text = ("From: <a@example.org>\r\nsubject: a folded\r\n"
                " spam offer\r\n\r\nbody\r\n")
        got, lines = send_data(c, text)
        self.assertEqual(lines, ["554 5.7.1 Spam is not welcome"])

    def test_encoded_words_are_decoded(self):
        """RFC 2047: B and Q encoded-words, white space between two
        adjacent ones dropped (§6.2), other charsets through iconv."""
        for subject in ("=?UTF-8?B?c3BhbQ==?=", "=?utf-8?q?sp?= =?utf-8?q?am?=",
                        "=?ISO-8859-1?Q?caf=E9_spam?=",
                        "=?us-ascii*en?Q?spam?="):
            with self.subTest(subject=subject):
                c = self.start_message()
                got, lines = send_data(c, message(subject))
                self.assertEqual(lines, ["554 5.7.1 Spam is not welcome"])

    def test_decoded_latin1_is_utf8(self):
        c = self.start_message()
        got, lines = send_data(c, message("echo: =?ISO-8859-1?Q?caf=E9?="))
        self.assertEqual(lines, ["550 5.7.1 Subject was caf\u00e9"])

    def test_controls_from_the_message_never_reach_the_reply(self):
        """A CR LF smuggled in an encoded-word becomes spaces: one reply
        line, and the next command gets its own reply."""
        c = self.start_message()
        got, lines = send_data(
            c, message("echo: =?UTF-8?Q?a=0D=0A250_2=2E0=2E0_ok=07?="))
        self.assertEqual(lines, ["550 5.7.1 Subject was a  250 2.0.0 ok"])
        got, lines = c.cmd("NOOP", 250)
        self.assertEqual(lines, ["250 2.0.0 OK"])

    def test_address_test_on_from(self):
        c = self.start_message()
        text = ('From: "Someone" <someone@BAD.example>\r\n'
                "Subject: hi\r\n\r\nbody\r\n")
        got, lines = send_data(c, text)
        self.assertEqual(lines, ["550 5.7.1 Author domain refused"])

    def test_encoded_display_name(self):
        """Encoded-words in a phrase are decoded for header tests, but one
        whose text looks like an address stays encoded: it cannot add an
        address for the address test (RFC 2047 §5)."""
        c = self.start_message()
        got, lines = send_data(c, "From: =?UTF-8?Q?Spammy_Name?= "
                               "<x@example.org>\r\nSubject: hi\r\n\r\nb\r\n")
        self.assertEqual(lines, ["550 5.7.1 Display name refused"])
        c = self.start_message()
        got, lines = send_data(c, "From: =?UTF-8?Q?x_=3Cboss=40bad.example"
                               "=3E?= <someone@good.example>\r\n"
                               "Subject: hi\r\n\r\nb\r\n")
        self.assertEqual(got, 250, lines)

    def test_empty_message(self):
        c = self.start_message()
        got, lines = send_data(c, "")
        self.assertEqual(got, 250, lines)

    def test_discard_answers_250_and_queues_nothing(self):
        c = self.start_message()
        before = self.h.queue_ids()
        got, lines = send_data(c, message(extra_headers="X-Drop-Me: 1\r\n"))
        self.assertEqual(lines, ["250 2.0.0 Message accepted"])
        self.assertEqual(self.h.queue_ids(), before)
        self.assertTrue(self.h.wait_log("discarded, not queued"))

    def test_size(self):
        c = self.start_message()
        got, lines = send_data(c, message(body="x" * 78 + "\r\n") +
                               ("y" * 78 + "\r\n") * 1300)
        self.assertEqual(lines, ["552 5.3.4 Sieve says too big"])

    def test_envelope_to_holds_every_recipient(self):
        c = self.start_message(("a@example.net", "b@example.net",
                                "c@example.net"))
        got, lines = send_data(c, message())
        self.assertEqual(lines, ["550 5.5.3 Three recipients at once is "
                                 "too many"])
        c = self.start_message(("a@example.net", "b@example.net"))
        got, lines = send_data(c, message())
        self.assertEqual(got, 250, lines)

    def test_env_rcpt_is_the_first_recipient(self):
        c = self.start_message(("first@example.net", "second@example.net"))
        got, lines = send_data(c, message("who"))
        self.assertEqual(lines, ["550 5.7.1 to=first@example.net "
                                 "stage=data"])

    def test_header_section_limit(self):
        """Only the first 64 KiB of the header section are seen: a
        Subject after them cannot refuse the message."""
        filler = "".join("X-Filler-%05d: %s\r\n" % (i, "f" * 60)
                         for i in range(900))          # ~70 KiB
        c = self.start_message()
        got, lines = send_data(c, "From: <a@example.org>\r\n" + filler +
                               "Subject: spam\r\n\r\nbody\r\n")
        self.assertEqual(got, 250, lines)
        # the same Subject inside the limit is seen
        c = self.start_message()
        got, lines = send_data(c, "Subject: spam\r\n" + filler +
                               "\r\nbody\r\n")
        self.assertEqual(lines, ["554 5.7.1 Spam is not welcome"])

    def test_header_field_count_limit(self):
        """At most 1000 fields: the 1001st is not seen."""
        filler = "".join("X-A: %d\r\n" % i for i in range(1000))
        c = self.start_message()
        got, lines = send_data(c, filler + "Subject: spam\r\n\r\nbody\r\n")
        self.assertEqual(got, 250, lines)
        filler = "".join("X-A: %d\r\n" % i for i in range(999))
        c = self.start_message()
        got, lines = send_data(c, filler + "Subject: spam\r\n\r\nbody\r\n")
        self.assertEqual(lines, ["554 5.7.1 Spam is not welcome"])

    def test_body_is_not_header(self):
        c = self.start_message()
        got, lines = send_data(c, message("hi", body="Subject: spam\r\n"))
        self.assertEqual(got, 250, lines)

    def test_smtplib_sees_the_refusal(self):
        s = self.h.smtplib()
        try:
            s.ehlo("client.example")
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("a@example.org", ["b@example.net"],
                           message("more spam"))
            self.assertEqual(cm.exception.smtp_code, 554)
            self.assertEqual(cm.exception.smtp_error,
                             b"5.7.1 Spam is not welcome")
        finally:
            s.quit()


class LmtpDataTest(Case):
    """LMTP answers the end of DATA once per recipient (RFC 2033 §4.2)."""
    LISTENERS = ("lmtp",)
    LMTP = ("lmtp",)
    CONFIG = DataTest.CONFIG

    def test_one_reply_per_recipient(self):
        c = self.client("lmtp")
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<one@example.net>", 250)
        c.cmd("RCPT TO:<two@example.net>", 250)
        c.cmd("DATA", 354)
        c.send(message("spam") + ".\r\n")
        self.assertEqual(c.reply(), (554, [
            "554 5.7.1 <one@example.net> Spam is not welcome"]))
        self.assertEqual(c.reply(), (554, [
            "554 5.7.1 <two@example.net> Spam is not welcome"]))
        c.cmd("NOOP", 250)


# ------------------------------------------------------- herald -t

class CheckConfigTest(unittest.TestCase):
    """Load-time errors: FILE:LINE of the value, then script:LINE:COL."""

    def assert_error(self, res, pattern):
        self.assertNotEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertRegex(res.stdout + res.stderr, pattern)

    def test_syntax_error_shows_both_places(self):
        res, text = check(script("ehlo", 'require ["reject"];\n'
                                 'if true {\n    rejct "no";\n}', "ehlo"))
        line = line_of(text, "ehlo = '''")
        self.assert_error(res, r"herald\.toml:%d: sieve script 'ehlo':3:5: "
                          r"unknown command 'rejct'" % line)

    def test_unused_script_is_checked_too(self):
        res, _ = check(script("spare", 'require "reject";\nreject'))
        self.assert_error(res, r"sieve script 'spare':\d+:\d+: ")

    def test_header_at_ehlo_is_a_load_error(self):
        res, text = check(script("ehlo", 'if header :contains "Subject" '
                                 '"x" { keep; }', "ehlo"))
        self.assert_error(res, r"herald\.toml:%d: sieve script 'ehlo':1:4: "
                          r"header test is not available at this stage "
                          r"\(it runs at the ehlo stage: session\.ehlo\."
                          r"script at \S+herald\.toml:%d\)"
                          % (line_of(text, "ehlo = '''"),
                             line_of(text, 'script = "ehlo"')))

    def test_stage_checks(self):
        """Each stage allows only what it can answer."""
        header = 'if header :is "Subject" "x" { keep; }'
        envelope = 'require "envelope";\nif envelope "from" "x" { keep; }'
        size = 'if size :over 1K { keep; }'
        table = [
            ("connect", header, False), ("connect", envelope, False),
            ("ehlo", envelope, False), ("ehlo", size, False),
            ("mail", envelope, True), ("mail", header, False),
            ("rcpt", envelope, True), ("rcpt", size, False),
            ("data", header, True), ("data", envelope, True),
            ("data", size, True),
        ]
        for stage, text, ok in table:
            with self.subTest(stage=stage, text=text[:20]):
                res, _ = check(script("s", text, stage))
                if ok:
                    self.assertEqual(res.returncode, 0,
                                     res.stdout + res.stderr)
                else:
                    self.assert_error(res, r"not available at this stage "
                                      r"\(it runs at the %s stage" % stage)

    def test_same_script_two_stages(self):
        """A script fine at DATA is refused at EHLO: one error, naming
        the EHLO stage."""
        res, _ = check("[session.ehlo]\nscript = \"s\"\n"
                       "[session.data]\nscript = \"s\"\n" +
                       script("s", 'if exists "X" { keep; }'))
        self.assert_error(res, r"exists test is not available at this stage "
                          r"\(it runs at the ehlo stage")
        self.assertNotIn("data stage", res.stdout + res.stderr)

    def test_unknown_list_is_a_load_error(self):
        res, text = check(script("ehlo", 'require ["extlists", "variables"];\n'
                                 'if string :list "x" "list/nope" { keep; }',
                                 "ehlo") + '[list]\nother = ["a"]\n')
        self.assert_error(res, r"herald\.toml:%d: sieve script 'ehlo': "
                          r"unknown list \"list/nope\""
                          % line_of(text, "ehlo = '''"))

    def test_list_without_prefix_is_a_load_error(self):
        res, _ = check(script("ehlo", 'require ["extlists", "variables"];\n'
                              'if string :list "x" "other" { keep; }',
                              "ehlo") + '[list]\nother = ["a"]\n')
        self.assert_error(res, r"list \"other\" must be written "
                          r"\"list/<name>\"")

    def test_valid_ext_list_names_are_checked(self):
        res, _ = check(script("s", 'require ["extlists"];\n'
                              'if valid_ext_list "list/gone" { keep; }'))
        self.assert_error(res, r"unknown list \"list/gone\"")

    def test_unknown_script_name_is_a_load_error(self):
        res, text = check('[session.ehlo]\nscript = "nope"\n' +
                          script("ehlo", "keep;"))
        self.assert_error(res, r"herald\.toml:%d: session\.ehlo\.script: "
                          r"unknown sieve script 'nope'"
                          % line_of(text, 'script = "nope"'))

    def test_unknown_name_in_a_rule_table(self):
        res, text = check('[session.mail]\nscript = [\n'
                          '  { if = "listener", eq = "smtp", then = "s" },\n'
                          '  { else = "missing" } ]\n' + script("s", "keep;"))
        self.assert_error(res, r"herald\.toml:%d: session\.mail\.script: "
                          r"unknown sieve script 'missing'"
                          % line_of(text, '{ else = "missing" }'))

    def test_stage_variables_are_limited(self):
        """The EHLO stage key cannot test the sender (not known yet)."""
        res, _ = check('[session.ehlo]\nscript = [\n'
                       '  { if = "sender", eq = "x", then = "s" },\n'
                       '  { else = false } ]\n' + script("s", "keep;"))
        self.assert_error(res, r"cannot use variable 'sender' at this stage")

    def test_file_script_missing(self):
        res, _ = check('[sieve.scripts]\ns = "file://nowhere.sieve"\n')
        self.assert_error(res, r"sieve script 's': cannot read \S*"
                          r"nowhere\.sieve")

    def test_file_script_error_names_the_file(self):
        res, text = check('[sieve.scripts]\ns = "file://bad.sieve"\n',
                          files={"bad.sieve": "keep;\n\n  stop stop;\n"})
        self.assert_error(res, r"herald\.toml:%d: sieve script 's': \S+/"
                          r"bad\.sieve:3:\d+: "
                          % line_of(text, 's = "file://bad.sieve"'))

    def test_script_defined_twice(self):
        res, _ = check(script("s", "keep;") +
                       "[sieve.trusted.scripts]\ns = 'stop;'\n")
        self.assert_error(res, r"sieve script 's' is also defined at")

    def test_script_must_be_a_string(self):
        res, _ = check("[sieve.scripts]\ns = 42\n")
        self.assert_error(res, r"sieve\.scripts\.s must be a string")

    def test_budget_bounds(self):
        for value in ("0", "-5", "100000001"):
            with self.subTest(value=value):
                res, _ = check("[sieve]\nbudget = %s\n" % value)
                self.assert_error(res, r"sieve\.budget must be an integer")
        res, _ = check("[sieve]\nbudget = 1000\n")
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_good_configurations_pass(self):
        for case in (DataTest, MailRcptTest, ConnectTest, ReplyFormTest,
                     EhloFilesTest, EhloRuleTableTest, BudgetTest,
                     TrustedAliasTest):
            with self.subTest(case=case.__name__):
                res, _ = check(case.CONFIG, files=case.FILES)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)

    def test_disabled_stage_keys(self):
        res, _ = check('[session.ehlo]\nscript = false\n'
                       '[session.mail]\nscript = ""\n')
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)


if __name__ == "__main__":
    unittest.main()
