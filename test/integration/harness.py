"""harness.py -- start the real Herald binary on loopback and talk to it.

Every test gets a fresh folder with a generated configuration, its own
spool and free ports on 127.0.0.1.  The server is started from the
installed prefix and stopped with SIGTERM by its own PID.  Loops are
bounded: nothing here waits forever.

    with Herald(CONFIG, modules=["mod_ehlo"]) as h:
        c = h.client()                     # raw socket client
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        smtp = h.smtplib()                 # Python's smtplib.SMTP
        env = h.queue_show(queue_id)       # herald queue show ID --json
"""

import json
import os
import random
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

PREFIX = os.environ.get("HERALD_PREFIX", "")
BUILD = os.environ.get("HERALD_BUILD", "")


def free_port():
    """A port to listen on, outside the kernel's ephemeral range: a port
    from that range can be taken by any client socket (the tests' own)
    between this check and the server's bind.  Bounded attempts."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(200):
        port = random.randrange(10000, max(10001, min(low, 32768)))
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def herald_bin():
    """The installed binary, or the one in the build folder."""
    installed = os.path.join(PREFIX, "sbin", "herald")
    return installed if os.path.exists(installed) else \
        os.path.join(BUILD, "herald")


def module_dirs():
    """Installed modules first, then any built in the build folder (so a
    module can be tried with `make herald modules/x/mod_x.la` alone)."""
    dirs = [os.path.join(PREFIX, "lib", "herald", "modules"),
            os.path.join(BUILD, "test", "modules", ".libs")]
    for root, subdirs, _ in os.walk(os.path.join(BUILD, "modules")):
        if os.path.basename(root) == ".libs":
            dirs.append(root)
    return dirs


class Client:
    """A line-oriented raw SMTP client with timeouts on every read."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One whole reply: (code, [lines of text])."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def expect(self, code):
        got, lines = self.reply()
        assert got == code, "expected %d, got %r" % (code, lines)
        return lines

    def cmd(self, text, code=None):
        self.send(text + "\r\n")
        got, lines = self.reply()
        if code is not None:
            assert got == code, "%s: expected %d, got %r" % (text, code,
                                                              lines)
        return got, lines

    def closed(self, timeout=5):
        """True when the server closed the connection (reads EOF)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Herald:
    """One server process with a generated configuration."""

    def __init__(self, config="", modules=(), listeners=("smtp",),
                 test_modules=(), files=None, lmtp=(), server=""):
        self.dir = tempfile.mkdtemp(prefix="herald-it-")
        self.ports = {}
        self.modules = list(modules)
        self.test_modules = list(test_modules)
        self.proc = None
        self.env = None          # extra environment for the server
        self.start_args = []     # extra command-line arguments
        self.log_path = os.path.join(self.dir, "herald.log")
        moddir = os.path.join(self.dir, "modules")
        os.mkdir(moddir)
        for src_dir in module_dirs():
            if not os.path.isdir(src_dir):
                continue
            for name in os.listdir(src_dir):
                if name.endswith(".so"):
                    dst = os.path.join(moddir, name)
                    if not os.path.exists(dst):
                        os.symlink(os.path.join(src_dir, name), dst)
        for name, text in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        parts = ['[server]\nhostname = "mx.test.example"\n' + server,
                 '[server.modules]\npath = "%s"\nload = %s\n'
                 % (moddir, json.dumps(self.modules + self.test_modules)),
                 '[queue]\npath = "%s"\n' % os.path.join(self.dir, "spool")]
        for lid in listeners:
            self.ports[lid] = free_port()
            parts.append('[server.listener.%s]\nbind = ["127.0.0.1:%d"]\n'
                         'protocol = "%s"\n'
                         % (lid, self.ports[lid],
                            "lmtp" if lid in lmtp else "smtp"))
        self.config_path = os.path.join(self.dir, "herald.toml")
        with open(self.config_path, "w") as f:
            f.write("\n".join(parts) + "\n" + config)

    # -- process ---------------------------------------------------------
    def start(self):
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen([herald_bin(), "-f", self.config_path]
                                     + self.start_args,
                                     stdout=self.log, stderr=self.log,
                                     cwd=self.dir, env=env)
        # every listener, then a check that the server is still there (a
        # failed bind of a later listener makes it exit after the first)
        for port in self.ports.values():
            for _ in range(200):   # bounded: 10 s
                if self.proc.poll() is not None:
                    raise RuntimeError("herald exited %d:\n%s"
                                       % (self.proc.returncode,
                                          self.log_text()))
                try:
                    socket.create_connection(("127.0.0.1", port),
                                             0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            else:
                raise RuntimeError("herald did not listen:\n" +
                                   self.log_text())
        time.sleep(0.02)
        if self.proc.poll() is not None:
            raise RuntimeError("herald exited %d:\n%s"
                               % (self.proc.returncode, self.log_text()))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                # clients a test left open would hold the stop for
                # server.stop-timeout: a second signal ends it now
                self.proc.wait(0.1)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self.log.close()
        code = self.proc.returncode if self.proc else 0
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        code = self.stop()
        text = self.log_text()
        crashed = ("AddressSanitizer" in text or "runtime error:" in text
                   or (code is not None and code < 0
                       and code != -signal.SIGTERM))
        if not crashed:
            shutil.rmtree(self.dir, ignore_errors=True)
        if crashed and exc[0] is None:
            raise AssertionError("herald crashed (exit %s):\n%s"
                                 % (code, text[-4000:]))
        return False

    def rewrite_config(self, extra):
        """Append @extra to the configuration (for reload tests)."""
        with open(self.config_path, "a") as f:
            f.write("\n" + extra + "\n")

    def wait_log(self, text, timeout=10):
        """Wait until @text appears in the server's log (bounded)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log_text():
                return True
            time.sleep(0.05)
        return False

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- clients ---------------------------------------------------------
    def port(self, listener="smtp"):
        return self.ports[listener]

    def client(self, listener="smtp", greet=True):
        c = Client(self.port(listener))
        if greet:
            c.expect(220)
        return c

    def smtplib(self, listener="smtp"):
        s = smtplib.SMTP("127.0.0.1", self.port(listener), timeout=10)
        return s

    # -- admin commands --------------------------------------------------
    def run(self, *args):
        return subprocess.run([herald_bin(), "-f", self.config_path] +
                              list(args), capture_output=True, text=True,
                              timeout=30)

    def queue_ids(self):
        out = self.run("queue", "list", "--json")
        assert out.returncode == 0, out.stderr
        return [e["id"] for e in json.loads(out.stdout)]

    def queue_show(self, qid):
        out = self.run("queue", "show", qid, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def message(self, qid):
        with open(os.path.join(self.dir, "spool", "queue", qid + ".msg"),
                  "rb") as f:
            return f.read()


def check_config(text, modules=(), test_modules=()):
    """Run `herald -t` on a generated configuration; returns the result."""
    h = Herald(text, modules=modules, test_modules=test_modules)
    try:
        return h.run("-t"), h.config_path
    finally:
        shutil.rmtree(h.dir, ignore_errors=True)


def queued_id(lines):
    """The queue id from a 250 reply's text ("... queued as ID")."""
    text = lines[-1]
    assert "queued as " in text, text
    return text.rsplit("queued as ", 1)[1].split()[0]
