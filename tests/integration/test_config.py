"""The configuration file: its settings reach the running broker, and a bad file stops
start-up with the file, the line and the reason (shardmq only)."""
import subprocess

import pytest

from broker_process import BrokerOptions, BrokerProcess, broker_kind, shardmq_binary
from paho_client import PahoClient
from raw_mqtt import RawConnection

pytestmark = pytest.mark.skipif(broker_kind() != "shardmq", reason="shardmq's own file format")


class ConfigFileBroker(BrokerProcess):
    """A shardmq started with --config FILE (and --listen for its free port)."""

    def __init__(self, workdir, config_text, io="epoll"):
        super().__init__(BrokerOptions(kind="shardmq", shards=1, io=io), workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "shardmq.toml"
        self.config_path.write_text(config_text)

    def command(self):
        return super().command() + ["--config", str(self.config_path)]


@pytest.fixture
def config_broker(tmp_path):
    started = []

    def start(text, io="epoll"):
        b = ConfigFileBroker(tmp_path / f"b{len(started)}", text, io)
        started.append(b)
        return b.start()

    yield start
    for b in started:
        b.stop()
        assert not b.sanitizer_lines(), b.diagnostics()


def client(broker, name):
    c = PahoClient(broker.host, broker.port, client_id=name)
    c.connect()
    return c


@pytest.mark.parametrize("io", ["uring", "epoll"])
def test_small_receive_buffers_carry_large_packets(config_broker, io):
    """1 KiB receive buffers, 24 asked (32 given): 200 KB payloads arrive whole, in order."""
    b = config_broker("[broker]\nrecv_buffers = 24\nrecv_buffer_size = 1024\n", io)
    expect = ("receive buffers per shard: 32 x 1024 bytes" if io == "uring"  # a power of two
              else "receive buffer per shard: 1024 bytes")
    assert expect in b.log_text()
    sub, pub = client(b, "sub"), client(b, "pub")
    sub.subscribe("big/t")
    payloads = [bytes([i]) * 200_000 for i in range(3)]
    for p in payloads:
        pub.publish("big/t", p)
    sub.wait_for_count(3)
    assert sub.payloads() == payloads
    sub.disconnect()
    pub.disconnect()


def test_limits_from_the_file_apply(config_broker):
    """[limits] max_packet_size from the file: a larger PUBLISH closes that connection only."""
    b = config_broker("[limits]\nmax_packet_size = 1024\n")
    bystander = client(b, "bystander")
    bystander.subscribe("lim/t")
    raw = RawConnection(b.host, b.port)
    raw.connect("raw")
    raw.publish("lim/t", b"x" * 2000)
    assert raw.read_until_closed() == []
    small = client(b, "small")
    small.publish("lim/t", b"fits")
    bystander.wait_for_payload(b"fits")
    assert bystander.payloads() == [b"fits"]


def test_printed_default_config_is_a_valid_file(config_broker):
    text = subprocess.run([str(shardmq_binary()), "--print-default-config"], check=True,
                          capture_output=True, text=True, timeout=20).stdout
    assert "[broker]" in text and "recv_buffers" in text
    b = config_broker(text)
    c = client(b, "default")
    c.subscribe("d/t")
    c.publish("d/t", b"ok")
    c.wait_for_payload(b"ok")


BAD_FILES = [
    ("[broker]\nshards = \"two\"\n", 2, "broker.shards must be an integer"),
    ("[broker]\nio = \"epoll\"\nturbo = true\n", 3, "unknown key 'turbo' in [broker]"),
    ("# comment\n\n[limits]\nmax_inflight = 0\n", 4, "limits.max_inflight = 0 is out of range"),
    ("[broker]\nrecv_buffers = 8\n", 2, "broker.recv_buffers = 8 is out of range"),
    # A shard's interest is one bit of a 64-bit mask.
    ("[broker]\nshards = 65\n", 2, "broker.shards = 65 is out of range"),
    ("[broker]\nrecv_buffer_size = 100\n", 2, "broker.recv_buffer_size = 100 is out of range"),
    ("[broker]\nlog_level = \"loud\"\n", 2, "broker.log_level 'loud'"),
    ("[[listener]]\nurl = \"gopher://0.0.0.0:70\"\n", 2, "gopher"),
    ("[broker\nshards = 1\n", 1, ""),  # TOML syntax: the parser's own words
]


@pytest.mark.parametrize("text,line,reason", BAD_FILES)
def test_bad_file_stops_startup_with_file_line_reason(tmp_path, text, line, reason):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    p = subprocess.run([str(shardmq_binary()), "--config", str(path), "--listen",
                        "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    assert p.returncode == 2, p.stderr
    assert f"{path}:{line}:" in p.stderr, p.stderr
    assert reason in p.stderr, p.stderr
    assert "ready" not in p.stderr  # never started serving
