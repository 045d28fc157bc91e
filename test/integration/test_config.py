"""Configuration features seen through the real server: include files,
IPv6 listeners, expressions with lists and CIDR, warnings and errors."""
import os
import socket
import unittest

from harness import Herald, check_config, free_port

BASE = '[session.errors]\nwait = "0s"\n'


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


class IncludeTest(unittest.TestCase):
    def test_included_files_are_merged_in_order(self):
        h = Herald('include = ["conf.d/*.toml"]\n' + BASE)
        # include is a top-level key: it must come before any table
        text = open(h.config_path).read()
        text = 'include = ["conf.d/*.toml"]\n' + text.replace(
            'include = ["conf.d/*.toml"]\n', "")
        with open(h.config_path, "w") as f:
            f.write(text)
        os.mkdir(os.path.join(h.dir, "conf.d"))
        with open(os.path.join(h.dir, "conf.d", "10-rcpt.toml"), "w") as f:
            f.write('[session.rcpt.lookup]\ndomains = ["included.example"]\n')
        with open(os.path.join(h.dir, "conf.d", "20-limits.toml"), "w") as f:
            f.write('[session.data.limits]\nsize = "3M"\n')
        with h:
            c = h.client()
            _, ehlo = c.cmd("EHLO client.example", 250)
            self.assertIn("250-SIZE 3145728", ehlo)
            c.cmd("MAIL FROM:<a@client.example>", 250)
            c.cmd("RCPT TO:<b@included.example>", 250)
            c.cmd("RCPT TO:<b@elsewhere.example>", 550)
            c.cmd("QUIT", 221)

    def test_key_defined_twice_across_files(self):
        h = Herald(BASE)
        text = 'include = ["extra.toml"]\n' + open(h.config_path).read()
        text += '[session.data.limits]\nsize = "1M"\n'
        with open(h.config_path, "w") as f:
            f.write(text)
        with open(os.path.join(h.dir, "extra.toml"), "w") as f:
            f.write('[session.data.limits]\nsize = "2M"\n')
        out = h.run("-t")
        self.assertEqual(out.returncode, 1, out.stdout)
        # the main file is read first, then what it includes
        self.assertRegex(out.stderr, r"extra\.toml:2: duplicate key "
                         r"'session\.data\.limits\.size' \(first defined "
                         r"at .*herald\.toml:\d+\)")

    def test_error_in_included_file_names_it(self):
        h = Herald(BASE)
        text = 'include = ["bad.toml"]\n' + open(h.config_path).read()
        with open(h.config_path, "w") as f:
            f.write(text)
        with open(os.path.join(h.dir, "bad.toml"), "w") as f:
            f.write('[session]\n\ntimeout = "5m"\nline-lenght = 100\n')
        out = h.run("-t")
        self.assertEqual(out.returncode, 1)
        self.assertIn("bad.toml:4: unknown key 'session.line-lenght'",
                      out.stderr)


class ListenerTest(unittest.TestCase):
    @unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback here")
    def test_ipv6_and_ipv4_binds_on_one_listener(self):
        port6 = free_port()
        h = Herald(BASE)
        text = open(h.config_path).read().replace(
            'bind = ["127.0.0.1:%d"]' % h.port(),
            'bind = ["127.0.0.1:%d", "[::1]:%d"]' % (h.port(), port6))
        with open(h.config_path, "w") as f:
            f.write(text)
        with h:
            s = socket.create_connection(("::1", port6), 5)
            f = s.makefile("rb")
            self.assertTrue(f.readline().startswith(b"220 "))
            s.sendall(b"EHLO v6.example\r\n")
            lines = []
            while True:
                line = f.readline()
                lines.append(line)
                if line[3:4] == b" ":
                    break
            self.assertIn(b"[::1]", lines[0])
            s.close()
            self.assertIn("listening on [::1]:%d" % port6, h.log_text())

    def test_bad_bind_address_is_a_config_error(self):
        out, path = check_config('[server.listener.bad]\nbind = ["nowhere"]\n')
        self.assertEqual(out.returncode, 1)
        self.assertIn("bind must be", out.stderr)

    def test_port_in_use_is_a_clear_startup_error(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            h = Herald(BASE)
            text = open(h.config_path).read().replace(
                "127.0.0.1:%d" % h.port(), "127.0.0.1:%d" % port)
            with open(h.config_path, "w") as f:
                f.write(text)
            with self.assertRaises(RuntimeError) as err:
                h.start()
            self.assertIn("cannot listen on 127.0.0.1:%d" % port,
                          str(err.exception))
            h.stop()
        finally:
            busy.close()


class ExpressionTest(unittest.TestCase):
    def test_in_list_and_cidr_decide_relay(self):
        cfg = BASE + '''
[list]
trusted-senders = ["friend.example"]
[session.rcpt]
relay = [ { if = "sender-domain", in-list = "trusted-senders", then = true },
          { if = "remote-ip", eq = "192.0.2.0/24", then = true },
          { else = false } ]
'''
        with Herald(cfg) as h:
            c = h.client()
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@FRIEND.example>", 250)
            c.cmd("RCPT TO:<x@far.example>", 250)
            c.cmd("RSET", 250)
            c.cmd("MAIL FROM:<a@stranger.example>", 250)
            code, lines = c.cmd("RCPT TO:<x@far.example>", 550)
            self.assertTrue(lines[0].startswith("550 5.7.1 "), lines)
            c.cmd("QUIT", 221)

    def test_variable_not_known_at_stage_is_a_load_error(self):
        out, _ = check_config(
            '[session]\ntimeout = [ { if = "sender", eq = "a@b", '
            'then = "1m" }, { else = "5m" } ]\n')
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot use variable 'sender'", out.stderr)

    def test_unknown_list_is_a_load_error(self):
        out, _ = check_config(
            '[session.rcpt]\nrelay = [ { if = "sender-domain", '
            'in-list = "nope", then = true }, { else = false } ]\n')
        self.assertEqual(out.returncode, 1)
        self.assertIn("nope", out.stderr)


if __name__ == "__main__":
    unittest.main()
