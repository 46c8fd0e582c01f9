"""shardmq-passwd: mosquitto_passwd's command line and exit codes, edits that keep the rest of the
file, and files that a real Mosquitto (Debian's 2.0.11) accepts.

The tool is found beside the broker: SHARDMQ_BIN's directory (build/sanitize/broker by default)."""
import os
import pathlib
import pty
import select
import socket
import subprocess
import termios
import time

import pytest

from broker_process import HOST, MOSQUITTO, SANITIZER_MARKERS, free_port, shardmq_binary
from paho_client import MQTTv311, PahoClient

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
RUN_TIMEOUT = 60  # an ASan build hashing argon2id on a busy machine


def passwd_tool():
    return shardmq_binary().parent / "shardmq-passwd"


class Tool:
    """Runs shardmq-passwd (or mosquitto_passwd, for comparison) and fails on sanitizer output."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, *args, input=None):
        env = dict(os.environ)
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        stdin = None if input is not None else subprocess.DEVNULL
        result = subprocess.run([self.path, *map(str, args)], input=input, stdin=stdin,
                                capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env)
        bad = [m for m in SANITIZER_MARKERS if m in result.stderr]
        assert not bad, f"sanitizer report from {self.path}:\n{result.stderr}"
        return result


@pytest.fixture
def tool():
    path = passwd_tool()
    if not path.exists():
        pytest.fail(f"shardmq-passwd not found at {path} (build the shardmq-passwd target; "
                    "SHARDMQ_BIN names the broker beside it)")
    return Tool(path)


@pytest.fixture
def mosquitto_passwd():
    if not os.access(MOSQUITTO_PASSWD, os.X_OK):
        pytest.skip(f"{MOSQUITTO_PASSWD} is not installed (apt install mosquitto)")
    return Tool(MOSQUITTO_PASSWD)


def entries(path):
    """user -> hash, in file order (comments and blank lines left out)."""
    pairs = [line.split(":", 1) for line in pathlib.Path(path).read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return dict(pairs)


def test_create_add_update_delete(tool, tmp_path):
    passwd = tmp_path / "passwd"
    r = tool("-c", "-b", passwd, "alice", "secret")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert passwd.stat().st_mode & 0o777 == 0o600  # hashes are kept from other users
    assert list(entries(passwd)) == ["alice"]
    assert entries(passwd)["alice"].startswith("$7$1000$")

    assert tool("-H", "argon2id", "-b", passwd, "bob", "hunter2").returncode == 0
    assert tool("-H", "sha512", "-b", passwd, "carol", "c").returncode == 0
    assert tool("-I", "50", "-b", passwd, "dave", "d").returncode == 0
    users = entries(passwd)
    assert list(users) == ["alice", "bob", "carol", "dave"]
    assert users["bob"].startswith("$argon2id$v=19$m=47104,t=1,p=1$")
    assert users["carol"].startswith("$6$")
    assert users["dave"].startswith("$7$50$")

    # Comments and blank lines stay; an update rewrites only the user's own line, in place.
    passwd.write_text("# plant users\n\n" + passwd.read_text())
    before = passwd.read_text().splitlines()
    assert tool("-b", passwd, "carol", "new").returncode == 0
    after = passwd.read_text().splitlines()
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == [4] and after[4].startswith("carol:$7$1000$")

    r = tool("-D", passwd, "bob")
    assert (r.returncode, r.stderr) == (0, "")
    assert list(entries(passwd)) == ["alice", "carol", "dave"]
    assert passwd.read_text().startswith("# plant users\n\n")
    r = tool("-D", passwd, "bob")
    assert r.returncode == 1
    assert "Warning: User bob not found in password file." in r.stderr

    # -c starts again from nothing, as mosquitto_passwd does.
    assert tool("-c", "-b", passwd, "erin", "e").returncode == 0
    assert list(entries(passwd)) == ["erin"]


def test_refuses_a_broken_file_and_leaves_it_unchanged(tool, tmp_path):
    # mosquitto_passwd 2.0.11 prints "Corrupt password file at line 2", exits 0, and keeps only
    # the lines before the bad one.
    passwd = tmp_path / "passwd"
    assert tool("-c", "-b", passwd, "alice", "a").returncode == 0
    text = passwd.read_text() + "no colon here\n"
    passwd.write_text(text)
    r = tool("-b", passwd, "bob", "b")
    assert r.returncode == 1
    assert f"{passwd}:2: no ':' between user name and password hash" in r.stderr
    assert passwd.read_text() == text

    # A broken hash does not stop the tool from fixing that user; it warns of others.
    passwd.write_text(text.replace("no colon here", "bob:$7$garbage") + "carol:$6$nope\n")
    r = tool("-b", passwd, "bob", "b")
    assert r.returncode == 0
    assert "Warning: the broker will refuse this file" in r.stderr
    assert ":3: user 'carol'" in r.stderr
    assert entries(passwd)["bob"].startswith("$7$1000$")


def test_plain_text_file_is_hashed_once(tool, tmp_path):
    passwd = tmp_path / "passwd"
    assert tool("-c", "-b", passwd, "bob", "hunter2").returncode == 0
    bob = entries(passwd)["bob"]
    passwd.write_text("# converted\nalice:secret\n" + passwd.read_text())
    assert tool("-U", passwd).returncode == 0
    users = entries(passwd)
    assert users["alice"].startswith("$7$1000$")
    assert users["bob"] == bob  # already hashed: kept (mosquitto_passwd -U hashes it again)
    once = passwd.read_text()
    assert tool("-U", passwd).returncode == 0
    assert passwd.read_text() == once


ERROR_CASES = [
    # (arguments, message on stderr); mosquitto_passwd gives the same exit code for each.
    ((), None),  # usage, on stdout
    (("-c", "-D", "{file}", "u"), "-c and -D cannot be used together."),
    (("-c", "-U", "{file}"), "-c and -U cannot be used together."),
    (("-D", "-U", "{file}"), "-D and -U cannot be used together."),
    (("-b", "-D", "{file}", "u"), "-b and -D cannot be used together."),
    (("-D", "{file}"), "-D argument given but password file or username missing."),
    (("-U",), "-U argument given but password file missing."),
    (("-c", "-b", "{file}", "u"), "-c argument given but password file, username, or password"),
    (("-H",), "-H argument given but not enough other arguments."),
    (("-H", "bcrypt", "-b", "{file}", "u", "p"), "Unknown hash type 'bcrypt'"),
    (("-I", "0", "-b", "{file}", "u", "p"), "Number of iterations must be > 0."),
    (("-b", "{missing}", "u", "p"), "Unable to open password file"),
    (("-D", "{missing}", "u"), "Unable to open password file"),
    (("-b", "{file}", "a:b", "p"), "Username must not contain the ':' character."),
    (("-b", "{file}", "a\tb", "p"), "Username must not contain control characters."),
    (("-D", "{file}", "nobody"), "Warning: User nobody not found in password file."),
]


@pytest.mark.parametrize("args,message", ERROR_CASES,
                         ids=[" ".join(a) or "no-arguments" for a, _ in ERROR_CASES])
def test_errors_and_exit_codes_match_mosquitto_passwd(tool, mosquitto_passwd, tmp_path, args,
                                                      message):
    codes = {}
    for name, program in (("shardmq-passwd", tool), ("mosquitto_passwd", mosquitto_passwd)):
        workdir = tmp_path / name
        workdir.mkdir()
        passwd = workdir / "passwd"
        assert program("-c", "-b", passwd, "alice", "a").returncode == 0
        before = passwd.read_text()
        argv = [a.format(file=passwd, missing=workdir / "missing") for a in args]
        r = program(*argv)
        codes[name] = r.returncode
        if name == "shardmq-passwd":
            if message is None:
                assert "Usage: shardmq-passwd" in r.stdout
            else:
                assert message in r.stderr
            assert passwd.read_text() == before  # a refused command writes nothing
    assert codes["shardmq-passwd"] == codes["mosquitto_passwd"] == 1


def test_password_typed_twice_on_standard_input(tool, mosquitto_passwd, tmp_path):
    passwd = tmp_path / "passwd"
    r = tool("-c", passwd, "alice", input="s3cret\ns3cret\n")
    assert r.returncode == 0
    assert r.stdout == "Password: \nReenter password: \n"

    text = passwd.read_text()
    for program in (tool, mosquitto_passwd):
        r = program(passwd, "alice", input="one\ntwo\n")
        assert r.returncode == 2, program.path  # mosquitto_passwd's code for a mismatch
        assert "Error: Passwords do not match." in r.stderr
        assert passwd.read_text() == text
    r = tool(passwd, "alice", input="\n")
    assert r.returncode == 1 and "Error: Empty password." in r.stderr


def _read_until(fd, marker=None, timeout=RUN_TIMEOUT):
    """What the terminal shows until `marker` appears (None: until the child closes it)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker is None or marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} from shardmq-passwd; saw {seen!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


# The tool prints "Password: " and only then turns echo off (passwd_tool.cpp,
# read_line_quietly): the check right after the prompt races with that tcsetattr, and loses
# when other tests keep the CPU busy. Alone, as it ran before ./scripts/test went parallel.
@pytest.mark.serial
def test_password_prompt_on_a_terminal_does_not_echo(tool, tmp_path):
    passwd = tmp_path / "passwd"
    pid, fd = pty.fork()
    if pid == 0:  # the child: the tool on the terminal's slave side
        os.execv(tool.path, [tool.path, "-c", str(passwd), "alice"])
    try:
        seen = _read_until(fd, b"Password: ")
        assert not termios.tcgetattr(fd)[3] & termios.ECHO, "echo is on while typing"
        os.write(fd, b"typed-secret\n")
        seen += _read_until(fd, b"Reenter password: ")
        os.write(fd, b"typed-secret\n")
        seen += _read_until(fd)
        _, status = os.waitpid(pid, 0)
        pid = None
    finally:
        if pid is not None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"typed-secret" not in seen
    assert entries(passwd)["alice"].startswith("$7$")


# -- a real Mosquitto reading the files --------------------------------------------------------

class Mosquitto:
    """/usr/sbin/mosquitto on a free local port with a password file and no anonymous access."""

    def __init__(self, workdir, password_file):
        self.workdir = pathlib.Path(workdir)
        self.password_file = password_file
        self.port = None
        self.proc = None
        self.log_path = self.workdir / "mosquitto.log"

    def start(self, attempts=5):
        for _ in range(attempts):
            self.port = free_port()
            conf = self.workdir / "mosquitto.conf"
            lines = [f"listener {self.port} {HOST}", "allow_anonymous false",
                     f"password_file {self.password_file}", "persistence false",
                     "log_dest stderr", "log_type all"]
            if os.geteuid() == 0:
                # As root Mosquitto 2.0 drops to user "mosquitto" before it reads the password
                # file, which could not then enter pytest's private temporary directory.
                lines.append("user root")
            conf.write_text("\n".join(lines) + "\n")
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_accepting():
                return self
            self.stop()
        raise RuntimeError(f"mosquitto did not start:\n{self.log_text()}")

    def _wait_accepting(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.proc = None

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def connack(self, username, password):
        """The MQTT 3.1.1 CONNACK code for these credentials: 0 accepted, 5 not authorised."""
        client = PahoClient(HOST, self.port, protocol=MQTTv311)
        client.client.username_pw_set(username, password)
        try:
            client.connect(expect_code=None)
            return client.connack[1]
        finally:
            client.close()


@pytest.fixture
def mosquitto_with(tmp_path):
    if not os.access(MOSQUITTO, os.X_OK):
        pytest.skip(f"{MOSQUITTO} is not installed (apt install mosquitto)")
    started = []

    def start(password_file):
        broker = Mosquitto(tmp_path, password_file).start()
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


def test_mosquitto_accepts_files_written_by_shardmq_passwd(tool, mosquitto_passwd, mosquitto_with,
                                                           tmp_path):
    passwd = tmp_path / "passwd"
    # Begun by mosquitto_passwd, continued by us, then edited by mosquitto_passwd again.
    assert mosquitto_passwd("-c", "-b", passwd, "alice", "from mosquitto").returncode == 0
    mosquitto_line = passwd.read_text()
    assert tool("-b", passwd, "bob", "p\u00e4ss w:rd$").returncode == 0
    assert tool("-H", "sha512", "-b", passwd, "carol", "legacy").returncode == 0
    assert tool("-I", "50", "-b", passwd, "dave", "fifty rounds").returncode == 0
    assert tool("-H", "argon2id", "-b", passwd, "erin", "argon").returncode == 0
    assert passwd.read_text().startswith(mosquitto_line)  # its line kept byte for byte
    r = mosquitto_passwd("-b", passwd, "frank", "again")
    assert (r.returncode, r.stderr) == (0, ""), "mosquitto_passwd could not read our lines"

    broker = mosquitto_with(passwd)
    diagnostics = broker.log_text
    assert broker.connack("alice", "from mosquitto") == 0, diagnostics()
    assert broker.connack("bob", "p\u00e4ss w:rd$") == 0, diagnostics()
    assert broker.connack("carol", "legacy") == 0, diagnostics()
    assert broker.connack("dave", "fifty rounds") == 0, diagnostics()
    assert broker.connack("frank", "again") == 0, diagnostics()
    assert broker.connack("bob", "p\u00e4ss w") == 5, diagnostics()
    assert broker.connack("alice", "wrong") == 5, diagnostics()
    assert broker.connack("nobody", "from mosquitto") == 5, diagnostics()
    # Mosquitto 2.0 has no argon2id (2.1 has): it drops that user when it loads the file.
    assert broker.connack("erin", "argon") == 5, diagnostics()
    assert "Invalid password hash type for user erin" in diagnostics()


def test_mosquitto_accepts_a_file_after_plain_text_update(tool, mosquitto_with, tmp_path):
    passwd = tmp_path / "passwd"
    passwd.write_text("alice:secret\nbob:hunter2\n")
    assert tool("-U", passwd).returncode == 0
    broker = mosquitto_with(passwd)
    assert broker.connack("alice", "secret") == 0, broker.log_text()
    assert broker.connack("bob", "hunter2") == 0, broker.log_text()
    assert broker.connack("bob", "secret") == 5, broker.log_text()

