"""shardmq run from a mosquitto.conf (--mosquitto-conf FILE, docs/configuration.md "Running from
a mosquitto.conf"): Debian's example file, Debian's packaged layout (include_dir) and a typical
production file start, listen where the file says, and real clients connect with the access the
file gives; an unsupported directive is logged with its file and line and ignored, a refused one
stops start-up with its file and line; --check-config and --print-config (shardmq only)."""
import pathlib
import socket
import subprocess
import tomllib

import pytest

from broker_process import START_TIMEOUT, BrokerOptions, BrokerProcess, broker_kind, free_port
from broker_process import shardmq_binary
from listener_broker import certs, client_tls_context  # noqa: F401 (fixture)
from paho_client import PahoClient
from wait_condition import wait_until

pytestmark = pytest.mark.skipif(broker_kind() != "shardmq",
                                reason="shardmq reading a mosquitto.conf")

DEBIAN_EXAMPLE = pathlib.Path("/usr/share/doc/mosquitto/examples/mosquitto.conf")
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
NOT_AUTHORIZED = 5  # MQTT 3.1.1 CONNACK: not authorised (what Mosquitto answers too)


class MosquittoConfBroker(BrokerProcess):
    """shardmq --mosquitto-conf FILE. `text` (and each of `files`, {path: text}, for
    include_dir) holds @NAME@ for each name in `ports`; every start attempt fills them with
    fresh free ports and rewrites the files, so a port lost to a race is replaced.
    .ports[name] once started; .port is the first. `logs_info`: whether the file lets the
    broker log its info lines (listening on ..., ready), which start() then waits for."""

    def __init__(self, workdir, text, ports=("PORT",), files=None, shards=1, io="epoll",
                 logs_info=True):
        super().__init__(BrokerOptions(kind="shardmq", shards=shards, io=io), workdir)
        self.logs_info = logs_info
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.text, self.port_names, self.ports = text, tuple(ports), {}
        self.files = dict(files or {})
        self.conf_path = self.workdir / "mosquitto.conf"

    def _fill(self, text):
        for name, port in self.ports.items():
            text = text.replace(f"@{name}@", str(port))
        return text

    def start(self, attempts=5):
        for _ in range(attempts):
            self.ports = {}
            while len(set(self.ports.values())) < len(self.port_names):
                self.ports = {name: free_port() for name in self.port_names}
            self.port = self.ports[self.port_names[0]]
            self.conf_path.write_text(self._fill(self.text))
            for path, text in self.files.items():
                pathlib.Path(path).write_text(self._fill(text))
            self._launch()
            if self._wait_accepting():
                # The shards accept before the main thread has logged what they listen on.
                if self.logs_info:
                    wait_until(lambda: "ready with" in self.log_text(), START_TIMEOUT,
                               "the broker's ready line")
                return self
            if self._proc.poll() is None:
                self.kill()
                break
        raise RuntimeError(f"broker did not start: {self.command()}\n{self.log_tail()}")

    def command(self):
        o = self.options
        return [str(shardmq_binary()), "--mosquitto-conf", str(self.conf_path), "--shards",
                str(o.shards), "--io", o.io]

    def _ports_to_wait(self):
        return self.ports.values()


class ConfigFromToml(BrokerProcess):
    """shardmq --config FILE, on the port the file names (fixed: no retry on a lost race)."""

    def __init__(self, workdir, toml, port):
        super().__init__(BrokerOptions(kind="shardmq"), workdir)
        self.toml, self.fixed_port = toml, port

    def start(self, attempts=1):
        self.port = self.fixed_port
        self._launch()
        if not self._wait_accepting():
            raise RuntimeError(f"broker did not start\n{self.log_tail()}")
        return self

    def command(self):
        return [str(shardmq_binary()), "--config", str(self.toml), "--shards", "1"]


@pytest.fixture
def conf_broker(tmp_path):
    """start(text, ports=("PORT",), **kw) -> a started MosquittoConfBroker. At teardown each
    must stop on SIGTERM with exit code 0 and no sanitizer report."""
    started, clients = [], []

    def start(text, ports=("PORT",), **kw):
        b = MosquittoConfBroker(tmp_path / f"broker{len(started)}", text, ports, **kw)
        started.append(b)
        return b.start()

    start.clients = clients
    yield start
    for c in clients:
        c.close()
    for b in started:
        code = b.stop()
        assert not b.killed, f"ignored SIGTERM\n{b.log_tail()}"
        assert code == 0, f"exited with {code}\n{b.diagnostics()}"
        assert not b.sanitizer_lines(), b.diagnostics()


def client(start, port, user=None, password=None, tls=None, expect_code=0):
    c = PahoClient("127.0.0.1", port)
    start.clients.append(c)
    if user is not None:
        c.client.username_pw_set(user, password)
    if tls is not None:
        c.client.tls_set_context(tls)
    return c.connect(expect_code=expect_code)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def round_trip(sub, pub, topic, payload):
    sub.subscribe(topic)
    pub.publish(topic, payload)
    sub.wait_for_payload(payload)


def shardmq(*args, timeout=30):
    return subprocess.run([str(shardmq_binary()), *args], capture_output=True, text=True,
                          timeout=timeout)


def debian_example():
    if not DEBIAN_EXAMPLE.exists():
        pytest.skip(f"{DEBIAN_EXAMPLE} is missing (apt-get install mosquitto)")
    text = DEBIAN_EXAMPLE.read_text()
    assert "\n#listener\n" in text and "\n#allow_anonymous false\n" in text, \
        "the example file changed: update this test"
    return text


# -- files that start ------------------------------------------------------------------------

def test_debian_example_file_with_a_listener_serves_clients(conf_broker):
    """Debian's example mosquitto.conf with its `#listener` line set to a free port and
    `#allow_anonymous false` turned to true: every other line a comment, so no warning."""
    text = debian_example()
    text = text.replace("\n#listener\n", "\nlistener @PORT@ 127.0.0.1\n")
    text = text.replace("\n#allow_anonymous false\n", "\nallow_anonymous true\n")
    b = conf_broker(text)
    log = b.log_text()
    assert f"listening on mqtt://127.0.0.1:{b.port}" in log, log
    assert "not supported" not in log and "warn" not in log, log
    sub, pub = client(conf_broker, b.port), client(conf_broker, b.port)
    round_trip(sub, pub, "example/t", b"hello")


def test_debian_example_file_refuses_anonymous_clients_by_default(conf_broker):
    """Mosquitto 2.0: once a listener is defined, anonymous clients are refused unless the
    file says allow_anonymous true."""
    text = debian_example().replace("\n#listener\n", "\nlistener @PORT@ 127.0.0.1\n")
    b = conf_broker(text)
    client(conf_broker, b.port, expect_code=NOT_AUTHORIZED)
    assert "anonymous clients are not allowed" in b.log_text()


def test_debian_layout_with_include_dir(conf_broker, tmp_path):
    """/etc/mosquitto/mosquitto.conf as Debian ships it (pid_file, persistence, log_dest file,
    include_dir conf.d) with the listeners in conf.d/: starts; the directives shardmq does
    without are logged with their file and line."""
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    main = (
        "# Place your local configuration in /etc/mosquitto/conf.d/\n"
        "#\n"
        "# A full description of the configuration file is at\n"
        "# /usr/share/doc/mosquitto/examples/mosquitto.conf.example\n"
        "\n"
        "pid_file /run/mosquitto/mosquitto.pid\n"
        "\n"
        "persistence true\n"
        f"persistence_location {tmp_path}/\n"
        "\n"
        f"log_dest file {tmp_path}/mosquitto.log\n"
        "\n"
        f"include_dir {conf_d}\n")
    files = {conf_d / "10-local.conf": "listener @PORT@ 127.0.0.1\nallow_anonymous true\n",
             conf_d / "20-lan.conf": "listener @LAN_PORT@ 127.0.0.1\nmax_connections 100\n",
             conf_d / "README": "not a .conf file: not read\n"}
    b = conf_broker(main, ports=("PORT", "LAN_PORT"), files=files)
    log, conf = b.log_text(), b.conf_path
    assert f"{conf}:6: directive pid_file is not supported (ignored)" in log, log
    assert f"{conf}:8: persistence true: shardmq keeps no state on disk yet" in log, log
    assert f"{conf}:11: log_dest file is not supported (ignored)" in log, log
    local, lan = b.ports["PORT"], b.ports["LAN_PORT"]
    assert log.index(f"listening on mqtt://127.0.0.1:{local}") < \
        log.index(f"listening on mqtt://127.0.0.1:{lan}"), log
    # Both files' listeners serve; allow_anonymous in conf.d is the broker's.
    sub, pub = client(conf_broker, lan), client(conf_broker, local)
    round_trip(sub, pub, "debian/t", b"included")


@pytest.fixture
def production_files(tmp_path, certs):  # noqa: F811 (certs is a fixture)
    if not pathlib.Path(MOSQUITTO_PASSWD).exists():
        pytest.skip("mosquitto_passwd is missing (apt-get install mosquitto)")
    passwd = tmp_path / "passwd"
    for i, (user, password) in enumerate([("alice", "alice-pw"), ("bob", "bob-pw")]):
        subprocess.run([MOSQUITTO_PASSWD, *(["-c"] if i == 0 else []), "-b", str(passwd), user,
                        password], check=True, capture_output=True, timeout=30)
    acl = tmp_path / "acl"
    acl.write_text("user alice\ntopic readwrite plant/#\n\nuser bob\ntopic readwrite plant/#\n")
    text = (
        "# Production broker: TLS for the world, plain MQTT for local services.\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {passwd}\n"
        f"acl_file {acl}\n"
        "\n"
        "log_dest stdout\n"
        "log_type error\n"
        "log_type warning\n"
        "log_type notice\n"
        "log_type information\n"
        "connection_messages true\n"
        "\n"
        "max_inflight_messages 40\n"
        "max_queued_messages 5000\n"
        "\n"
        "listener @TLS_PORT@\n"
        f"certfile {certs.server_cert}\n"
        f"keyfile {certs.server_key}\n"
        f"cafile {certs.ca}\n"
        "\n"
        "listener @PORT@ 127.0.0.1\n")
    return text


def test_production_file_tls_and_local_listeners(conf_broker, production_files, certs):  # noqa: F811
    b = conf_broker(production_files, ports=("PORT", "TLS_PORT"), shards=2, io="auto")
    tls_port = b.ports["TLS_PORT"]
    log = b.log_text()
    # `listener PORT` without an address: every IPv4 and IPv6 address, as Mosquitto.
    assert f"listening on mqtts://0.0.0.0:{tls_port}" in log, log
    assert f"listening on mqtts://[::]:{tls_port}" in log, log
    assert f"listening on mqtt://127.0.0.1:{b.port}" in log, log
    assert f"{b.conf_path}:7: log_dest stdout: shardmq logs to standard error" in log, log
    assert f"{b.conf_path}:12: directive connection_messages is not supported (ignored)" in log
    if ipv6_loopback():  # the [::] listener takes IPv6 clients
        socket.create_connection(("::1", tls_port), timeout=5).close()

    tls = client_tls_context(certs)
    over_tls = client(conf_broker, tls_port, "alice", "alice-pw", tls=tls)
    local = client(conf_broker, b.port, "bob", "bob-pw")
    round_trip(over_tls, local, "plant/line1", b"from local")
    round_trip(local, over_tls, "plant/line2", b"from tls")
    # allow_anonymous false and the password file hold on both listeners.
    client(conf_broker, b.port, "alice", "wrong", expect_code=NOT_AUTHORIZED)
    client(conf_broker, b.port, expect_code=NOT_AUTHORIZED)
    client(conf_broker, tls_port, "mallory", "x", tls=tls, expect_code=NOT_AUTHORIZED)
    # ACL enforcement is not asserted here: tests/integration/test_acl.py covers it.


def test_unsupported_directive_is_logged_with_file_line_and_ignored(conf_broker):
    """Reported once, and whatever log_type says: a file that logs errors only still hears
    what of it is ignored."""
    b = conf_broker("listener @PORT@ 127.0.0.1\nallow_anonymous true\n"
                    "autosave_interval 60\nmax_topic_alias 5\nautosave_interval 90\n"
                    "log_type error\n", logs_info=False)
    log = b.log_text()
    assert f"{b.conf_path}:3: directive autosave_interval is not supported (ignored)" in log
    assert f"{b.conf_path}:4: directive max_topic_alias is not supported (ignored)" in log
    assert log.count("directive autosave_interval is not supported") == 1, log  # once
    sub, pub = client(conf_broker, b.port), client(conf_broker, b.port)
    round_trip(sub, pub, "ignored/t", b"still works")


# -- files that stop start-up ----------------------------------------------------------------

REFUSED = [
    ("listener 1883 127.0.0.1\nauth_plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\n",
     2, "directive auth_plugin is not supported: shardmq loads no plugins"),
    ("listener 8883\npsk_hint broker\npsk_file /etc/mosquitto/psk\n", 2,
     "directive psk_hint is not supported"),
    ("listener 1883\nrequire_certificate true\n", 2,
     "directive require_certificate needs certfile and keyfile"),
    ("per_listener_settings true\nlistener 1883\npassword_file /a\nlistener 1884\n"
     "password_file /b\n", 5, "shardmq has one password_file for the whole broker"),
    ("listener 1883\nconnection cloud\naddress cloud.example.com:8883\n", 2,
     "shardmq has no bridges yet"),
    ("listener 1883\nmax_inflight_messages lots\n", 2,
     "max_inflight_messages must be a whole number"),
    ("listener 1883\nlistner 1884\n", 2, "unknown directive 'listner'"),
]


@pytest.mark.parametrize("text,line,reason", REFUSED,
                         ids=["auth_plugin", "psk", "require_certificate_plain",
                              "two_password_files", "bridge", "not_a_number", "typo"])
def test_refused_directive_stops_startup_with_file_line(tmp_path, text, line, reason):
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(text)
    p = shardmq("--mosquitto-conf", str(conf))
    assert p.returncode == 2, p.stderr
    assert f"shardmq: {conf}:{line}: " in p.stderr, p.stderr
    assert reason in p.stderr, p.stderr
    assert "ready" not in p.stderr


# -- --check-config and --print-config -------------------------------------------------------

def test_check_config(tmp_path):
    good = tmp_path / "mosquitto.conf"
    good.write_text("listener 1883\npid_file /run/m.pid\n")
    p = shardmq("--mosquitto-conf", str(good), "--check-config")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{good}: ok\n"
    assert f"{good}:2: directive pid_file is not supported (ignored)" in p.stderr

    bad = tmp_path / "bad.conf"
    bad.write_text("# auth\nlistener 1883\nplugin /usr/lib/mosquitto_dynamic_security.so\n")
    p = shardmq("--mosquitto-conf", str(bad), "--check-config")
    assert p.returncode == 1
    assert p.stdout == ""
    assert f"{bad}:3: directive plugin is not supported" in p.stderr, p.stderr

    toml = tmp_path / "shardmq.toml"
    toml.write_text("[broker]\nshards = 1\n")
    p = shardmq("--check-config", str(toml))
    assert (p.returncode, p.stdout) == (0, f"{toml}: ok\n"), p.stderr
    toml.write_text("[broker]\nshards = 1\n[limits]\nmax_inflight = 0\n")
    p = shardmq("--check-config", str(toml))
    assert p.returncode == 1
    assert f"{toml}:4: limits.max_inflight = 0 is out of range" in p.stderr, p.stderr

    # The files the configuration names are loaded as start-up loads them.
    missing = tmp_path / "tls.conf"
    missing.write_text(f"listener 8883\ncertfile {tmp_path}/none.crt\nkeyfile {tmp_path}/k\n")
    p = shardmq("--mosquitto-conf", str(missing), "--check-config")
    assert p.returncode == 1
    assert "none.crt" in p.stderr, p.stderr


def test_print_config_is_a_toml_file_that_starts_the_same_broker(tmp_path):
    conf = tmp_path / "mosquitto.conf"
    port = free_port()
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                    "sys_interval 30\nlog_type error\nlog_type warning\n")
    p = shardmq("--mosquitto-conf", str(conf), "--print-config")
    assert p.returncode == 0, p.stderr
    printed = tomllib.loads(p.stdout)
    assert printed["listener"] == [{"url": f"mqtt://127.0.0.1:{port}", "max_connections": 0,
                                    "proxy_protocol": False}]
    assert printed["limits"]["max_inflight"] == 20  # Mosquitto's default
    assert printed["limits"]["max_queued_messages"] == 4294967295  # Mosquitto's 0: no limit
    assert printed["sys"]["interval"] == 30
    assert printed["broker"]["log_level"] == "warn"
    assert printed["auth"]["allow_anonymous"] is True

    # --config takes it, and prints it back the same.
    toml = tmp_path / "printed.toml"
    toml.write_text(p.stdout)
    again = shardmq("--config", str(toml), "--print-config")
    assert again.returncode == 0, again.stderr
    assert again.stdout == p.stdout
    # Flags apply on top, as for any file.
    flagged = shardmq("--mosquitto-conf", str(conf), "--print-config", "--shards", "3")
    assert tomllib.loads(flagged.stdout)["broker"]["shards"] == 3

    # And the broker it starts serves where the mosquitto.conf said.
    b = ConfigFromToml(tmp_path / "from-toml", toml, port).start()
    clients = []
    try:
        sub, pub = PahoClient("127.0.0.1", port), PahoClient("127.0.0.1", port)
        clients = [sub, pub]
        for c in clients:
            c.connect()
        round_trip(sub, pub, "printed/t", b"same broker")
    finally:
        for c in clients:
            c.close()
        assert b.stop() == 0, b.diagnostics()
        assert not b.sanitizer_lines(), b.diagnostics()
