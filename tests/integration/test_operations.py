"""Operator-facing behaviour: the PROXY protocol header, and SIGHUP certificate reload."""
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import time

import pytest

import raw_mqtt
from broker_process import (HOST, SANITIZER_MARKERS, BrokerOptions, BrokerProcess, broker_kind,
                            free_port, shardmq_binary)
from tls_certs import make_certs
from wait_condition import wait_until

pytestmark = pytest.mark.skipif(broker_kind() != "shardmq", reason="shardmq command-line options")


class Broker:
    """shardmq with the given extra arguments on one free port."""

    def __init__(self, tmp_path, url_scheme, extra):
        self.port = free_port()
        self.log = pathlib.Path(tmp_path) / "broker.log"
        args = [str(shardmq_binary()), "--listen", f"{url_scheme}{HOST}:{self.port}",
                "--shards", "2", "--log-level", "debug", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("w"))
        wait_until(self._accepting, 20, "broker accepting")

    def _accepting(self):
        assert self.proc.poll() is None, self.log.read_text()
        try:
            socket.create_connection((HOST, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def log_text(self):
        return self.log.read_text()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        text = self.log_text()
        assert code == 0, text
        assert not any(m in text for m in SANITIZER_MARKERS), text


connect_packet = raw_mqtt.connect_packet


def read_connack(sock):
    sock.settimeout(10)
    data = b""
    while len(data) < 4:
        chunk = sock.recv(4 - len(data))
        if not chunk:
            return None
        data += chunk
    return data


@pytest.fixture
def proxy_broker(tmp_path):
    b = Broker(tmp_path, "mqtt://", ["--proxy-protocol"])
    yield b
    b.stop()


def test_proxy_v1_header_gives_client_address(proxy_broker):
    with socket.create_connection((HOST, proxy_broker.port)) as s:
        s.sendall(b"PROXY TCP4 203.0.113.7 10.0.0.1 5555 1883\r\n" + connect_packet("behind-lb"))
        assert read_connack(s) == b"\x20\x02\x00\x00"
    wait_until(lambda: "'behind-lb' connected from 127.0.0.1 as 203.0.113.7:5555 on " in
               proxy_broker.log_text(), 10,
               "the PROXY source address in the log")


def test_proxy_listener_refuses_a_connection_without_header(proxy_broker):
    with socket.create_connection((HOST, proxy_broker.port)) as s:
        s.sendall(connect_packet("no-header"))
        assert read_connack(s) is None  # closed without a CONNACK
    # The listener still serves well-formed connections.
    with socket.create_connection((HOST, proxy_broker.port)) as s:
        s.sendall(b"PROXY TCP4 198.51.100.2 10.0.0.1 4444 1883\r\n" + connect_packet("after"))
        assert read_connack(s) == b"\x20\x02\x00\x00"


def test_sighup_reloads_certificates_and_keeps_connections(tmp_path):
    certs = make_certs(tmp_path / "certs")
    live = tmp_path / "live"
    live.mkdir()
    (live / "server.crt").write_bytes(pathlib.Path(certs.server_cert).read_bytes())
    (live / "server.key").write_bytes(pathlib.Path(certs.server_key).read_bytes())
    b = Broker(tmp_path, "mqtts://", ["--tls-cert", str(live / "server.crt"),
                                     "--tls-key", str(live / "server.key")])
    try:
        ctx = ssl.create_default_context(cafile=str(certs.ca))
        before = ctx.wrap_socket(socket.create_connection((HOST, b.port)), server_hostname="127.0.0.1")
        before.sendall(connect_packet("before-reload"))
        assert read_connack(before) == b"\x20\x02\x00\x00"

        b.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "reloaded TLS certificate" in b.log_text(), 10, "reload logged")

        # A broken file: the reload fails, the old certificate stays in use.
        (live / "server.crt").write_text("not a certificate")
        b.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "TLS reload failed" in b.log_text(), 10, "failed reload logged")

        after = ctx.wrap_socket(socket.create_connection((HOST, b.port)), server_hostname="127.0.0.1")
        after.sendall(connect_packet("after-reload"))
        assert read_connack(after) == b"\x20\x02\x00\x00"
        # The connection made before both reloads still works.
        before.sendall(raw_mqtt.pingreq_packet())
        before.settimeout(10)
        assert before.recv(2) == b"\xd0\x00"
        before.close()
        after.close()
    finally:
        b.stop()


@pytest.mark.parametrize("extra", [0, 1], ids=["one-per-cpu", "more-than-cpus"])
def test_the_log_says_how_shards_are_pinned(tmp_path, extra):
    """As many shards as usable CPUs: pinned, one each; more (a host whose open-file limit caps
    each shard's sockets): not pinned, sharing the CPUs. Either way the broker serves."""
    if broker_kind() != "shardmq":
        pytest.skip("shardmq's own start-up log")
    cpus = sorted(os.sched_getaffinity(0))
    shards = len(cpus) + extra
    b = BrokerProcess(BrokerOptions(kind="shardmq", shards=shards), tmp_path).start()
    try:
        c = raw_mqtt.connected(b.host, b.port, "pinning")
        c.close()
        log = b.log_text()
        if extra:
            assert f"{shards} shards on {len(cpus)} usable CPU(s): not pinned" in log, log
        else:
            assert (f"{shards} shard(s) pinned one per CPU, to CPUs "
                    + ",".join(map(str, cpus))) in log, log
    finally:
        b.stop_and_check()
