"""Fixtures: a fresh broker per test (parametrized over shards x io for shardmq) and client
factories that are torn down before the broker stops."""
import gc
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from auth_broker import AuthBroker  # noqa: E402
from broker_process import BrokerOptions, BrokerProcess, broker_kind, shardmq_binary  # noqa: E402
from durable_broker import DurableBroker  # noqa: E402
from metrics_broker import MetricsBroker  # noqa: E402
import npm_install  # noqa: E402
from paho_client import MQTTv311, PahoClient  # noqa: E402
from raw_mqtt import RawConnection  # noqa: E402

FULL_MATRIX = [(1, "uring"), (1, "epoll"), (2, "uring"), (2, "epoll")]
# Heavier tests only need cross-shard routing, on both backends.
HEAVY_MATRIX = [(2, "uring"), (2, "epoll")]


# Test files marked serial from here (see pytest_collection_modifyitems), not in the file.
SERIAL_FILES = {
    # A load test with bounded waits (progress, drain, 3 s drain idle) under kill -9: with other
    # tests competing for the CPU those bounds measure the machine, not the broker.
    "test_crash_recovery.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SERIAL_FILES:
            item.add_marker(pytest.mark.serial)


def pytest_report_header(config):
    if broker_kind() == "mosquitto":
        return "broker under test: mosquitto (BROKER=mosquitto)"
    return f"broker under test: shardmq at {shardmq_binary()}"


def pytest_generate_tests(metafunc):
    if "broker_layout" not in metafunc.fixturenames:
        return
    if broker_kind() == "mosquitto":  # shards/io mean nothing to Mosquitto: one case
        metafunc.parametrize("broker_layout", [(1, "epoll")], ids=["mosquitto"], indirect=True)
        return
    matrix = HEAVY_MATRIX if metafunc.definition.get_closest_marker("heavy") else FULL_MATRIX
    metafunc.parametrize("broker_layout", matrix, indirect=True,
                         ids=[f"shards{s}-{io}" for s, io in matrix])


@pytest.fixture
def broker_layout(request):
    return request.param


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
    proc = getattr(item, "_broker_process", None)
    if report.failed and proc is not None and report.when == "call":
        report.sections.append((f"broker log ({proc.describe()})", proc.diagnostics()))


@pytest.fixture
def broker(request, broker_layout, tmp_path):
    """A running broker: .host, .port, .log_path, .stop() -> exit code, .options."""
    shards, io = broker_layout
    marker = request.node.get_closest_marker("broker_options")
    extra = dict(marker.kwargs) if marker else {}
    kind = broker_kind()
    if kind == "shardmq" and not shardmq_binary().exists():
        pytest.fail(f"shardmq binary not found at {shardmq_binary()} (set SHARDMQ_BIN or "
                    "BROKER=mosquitto)")
    proc = BrokerProcess(BrokerOptions(kind=kind, shards=shards, io=io, **extra), tmp_path)
    try:
        proc.start()
        request.node._broker_process = proc
        yield proc
    finally:
        code = proc.stop()
    failed = any(getattr(request.node, f"rep_{w}", None) is not None
                 and getattr(request.node, f"rep_{w}").failed for w in ("setup", "call"))
    if failed:
        print(proc.diagnostics())
    assert not proc.killed, f"{proc.describe()} ignored SIGTERM for 10 s\n{proc.log_tail()}"
    assert code == 0, f"{proc.describe()} exited with {code}\n{proc.diagnostics()}"
    bad = proc.sanitizer_lines()
    assert not bad, "sanitizer reports:\n" + "\n".join(bad) + "\n" + proc.diagnostics()


class ClientPool:
    """Creates clients against one broker and closes them all at teardown."""

    def __init__(self, broker):
        self.broker = broker
        self._paho, self._raw = [], []

    def paho(self, connect=True, protocol=MQTTv311, **kw):
        c = PahoClient(self.broker.host, self.broker.port, protocol=protocol, **kw)
        self._paho.append(c)
        return c.connect() if connect else c

    def raw(self):
        c = RawConnection(self.broker.host, self.broker.port)
        self._raw.append(c)
        return c

    def close_all(self):
        for c in self._paho:
            c.close()
        for c in self._raw:
            c.close()
        # paho 1.6 holds two descriptors per client until the client object is collected.
        # Past 1024 open descriptors paho's select() fails and a client silently never sees
        # its CONNACK, so a test with hundreds of clients must not inherit the last one's.
        self._paho.clear()
        self._raw.clear()
        gc.collect()


@pytest.fixture
def clients(broker):
    pool = ClientPool(broker)
    yield pool
    pool.close_all()


@pytest.fixture
def started(tmp_path):
    """started(kind, **auth) -> a running AuthBroker (shardmq or Mosquitto) with those [auth]
    settings; all are stopped and checked at the end."""
    brokers = []

    def start(kind, shards=2, tls=None, **auth):
        b = AuthBroker(kind, tmp_path / f"{kind}-{len(brokers)}", auth, shards=shards, tls=tls)
        b.workdir.mkdir(parents=True, exist_ok=True)
        brokers.append(b)
        return b.start()

    yield start
    for b in brokers:
        b.stop_and_check()


@pytest.fixture
def durable(tmp_path):
    """durable(**kw) starts a DurableBroker (durable_broker.py), or a subclass of it given as
    broker_class, in the test's directory; each is stopped and checked at the end."""
    brokers = []

    def start(broker_class=DurableBroker, **kw):
        b = broker_class(tmp_path, **kw).start()
        brokers.append(b)
        return b

    yield start
    for b in brokers:
        b.stop_and_check()


@pytest.fixture(scope="session")
def mqttjs_installed():
    """MQTT.js in tests/browser/node_modules for the tests that run it under node: `npm ci` once
    (npm_install.py) unless SHARDMQ_NODE_MODULES names another copy or npm is missing (the
    tests then skip when they find no MQTT.js). Run in order, test_browser.py used to install it
    before they ran; in parallel workers each needs it itself."""
    if npm_install.NODE_MODULES != npm_install.DEFAULT_NODE_MODULES or \
            npm_install.node_tools_missing():
        return
    problem = npm_install.ensure_installed()
    assert problem is None, problem


@pytest.fixture(scope="session")
def browser_tools():
    """node, npm, Debian's Chromium and tests/browser/node_modules (playwright-core) for the
    tests that drive a real browser: skips without the tools, installs node_modules once."""
    missing = npm_install.node_tools_missing()
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install nodejs npm)")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        pytest.skip(f"{chromium} not installed (apt-get install chromium)")
    problem = npm_install.ensure_installed()
    assert problem is None, problem


@pytest.fixture
def metrics_broker(tmp_path):
    """start(**kw) starts a MetricsBroker (MQTT and http:// listeners) in its own directory;
    all are stopped, and checked for a clean exit, after the test."""
    started = []

    def start(**kw):
        b = MetricsBroker(tmp_path / f"broker{len(started)}", **kw).start()
        started.append(b)
        return b

    yield start
    for b in started:
        b.stop_and_check()
