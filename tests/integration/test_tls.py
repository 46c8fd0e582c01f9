"""MQTT over TLS (mqtts://): mosquitto_pub/sub and paho as real TLS clients, client certificate
policies, non-TLS bytes on the TLS port, and plain and TLS listeners in one broker."""
import queue
import subprocess
import threading

import pytest

from broker_process import broker_kind
from listener_broker import certs, io_backend, session  # noqa: F401 (fixtures)
from listener_broker import client_tls_context
from mosquitto_cli import CliSubscriber
from raw_mqtt import CONNACK, connect_packet


# -- mosquitto_pub / mosquitto_sub over TLS -------------------------------------------------

def tls_args(certs, cert=None, key=None):
    args = ["--cafile", str(certs.ca)]
    if cert is not None:
        args += ["--cert", str(cert), "--key", str(key)]
    return args


class TlsCliSubscriber(CliSubscriber):
    """CliSubscriber with TLS options: mosquitto_sub -d, so the test can wait for its SUBACK."""

    def __init__(self, host, port, topic, count, extra_args, timeout_s=10):
        cmd = ["stdbuf", "-oL", "mosquitto_sub", "-h", host, "-p", str(port), "-t", topic,
               "-C", str(count), "-W", str(timeout_s), "-V", "mqttv311", "-v", "-d", *extra_args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self._lines = queue.Queue()
        self.output = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()


def cli_publish(broker, scheme, topic, message, extra_args):
    cmd = ["mosquitto_pub", "-h", broker.host, "-p", str(broker.ports[scheme]), "-t", topic,
           "-m", message, "-q", "1", "-V", "mqttv311", *extra_args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=15)


def test_cli_pub_sub_over_tls(session, certs):
    b = session.start(("mqtts",))
    sub = TlsCliSubscriber(b.host, b.ports["mqtts"], "tls/cli", 2, tls_args(certs))
    try:
        sub.wait_subscribed()
        for msg in ("first", "second"):
            done = cli_publish(b, "mqtts", "tls/cli", msg, tls_args(certs))
            assert done.returncode == 0, done.stderr
        rc, lines = sub.finish()
    finally:
        sub.kill()
    assert rc == 0, lines
    assert lines == ["tls/cli first", "tls/cli second"]


def test_cli_client_certificate_required(session, certs):
    b = session.start(("mqtts",), client_cert="required")
    with_cert = tls_args(certs, certs.client_cert, certs.client_key)
    sub = TlsCliSubscriber(b.host, b.ports["mqtts"], "tls/required", 1, with_cert)
    try:
        sub.wait_subscribed()
        no_cert = cli_publish(b, "mqtts", "tls/required", "no certificate", tls_args(certs))
        assert no_cert.returncode != 0, "a client without a certificate was accepted"
        stranger = cli_publish(b, "mqtts", "tls/required", "untrusted certificate",
                               tls_args(certs, certs.stranger_cert, certs.stranger_key))
        assert stranger.returncode != 0, "a certificate from an unknown CA was accepted"
        good = cli_publish(b, "mqtts", "tls/required", "trusted certificate", with_cert)
        assert good.returncode == 0, good.stderr
        rc, lines = sub.finish()
    finally:
        sub.kill()
    # The subscriber took exactly one message: the refused publishers' never reached it.
    assert rc == 0, lines
    assert lines == ["tls/required trusted certificate"]


# -- raw TLS sockets (Python's ssl module) ----------------------------------------------------

def read_until_closed(sock, timeout=10.0):
    """Everything the peer sends until it closes; fails the test if it stays open."""
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(4096)
        except TimeoutError as e:
            raise AssertionError(f"connection still open after {timeout:g} s") from e
        except OSError:  # reset, or a TLS alert surfaced as an SSLError: closed
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk


def test_required_certificate_refuses_raw_tls_without_one(session, certs):
    b = session.start(("mqtts",), client_cert="required")
    good = session.clients.socket(b, "mqtts", client_tls_context(certs, certs.client_cert,
                                                                 certs.client_key))
    good.sendall(connect_packet("with-cert"))
    good.settimeout(10)
    assert good.recv(4) == bytes([CONNACK << 4, 2, 0, 0])
    # TLS 1.3 finishes the client's side of the handshake before the server checks the
    # certificate, so the refusal shows up on the first read.
    try:
        bare = session.clients.socket(b, "mqtts", client_tls_context(certs))
        bare.sendall(connect_packet("without-cert"))
        got = read_until_closed(bare)
    except OSError:  # ssl.SSLError is an OSError: refused during the handshake
        got = b""
    assert not got.startswith(bytes([CONNACK << 4])), "CONNACK without a client certificate"


def test_paho_over_tls(session, certs):
    b = session.start(("mqtts",))
    sub = session.clients.paho(b, "mqtts", certs)
    pub = session.clients.paho(b, "mqtts", certs)
    assert sub.subscribe("tls/paho/#", qos=1) == [1]
    pub.publish("tls/paho/q0", b"qos0")
    pub.publish("tls/paho/q1", b"qos1" * 1000, qos=1)
    got = sub.wait_for_count(2)
    assert [(m.topic, m.payload, m.qos) for m in got] == [("tls/paho/q0", b"qos0", 0),
                                                           ("tls/paho/q1", b"qos1" * 1000, 1)]


def test_paho_with_client_certificate(session, certs):
    b = session.start(("mqtts",), client_cert="required")
    kw = dict(cert=certs.client_cert, key=certs.client_key)
    sub = session.clients.paho(b, "mqtts", certs, **kw)
    pub = session.clients.paho(b, "mqtts", certs, **kw)
    sub.subscribe("tls/cert")
    pub.publish("tls/cert", b"hello", qos=1)
    sub.wait_for_payload(b"hello")


def round_trip(sub, pub, topic, payload):
    pub.publish(topic, payload, qos=1)
    sub.wait_for_payload(payload)


# Plain MQTT, random bytes and broken TLS records on the TLS port.
NOT_TLS = {
    "plain-mqtt-connect": connect_packet("plain-on-tls"),
    "http-request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "zero-record-type": b"\x00\x00\x00\x00\x05" + bytes(range(7, 250, 3)),
    "app-data-before-handshake": b"\x17\x03\x03\x00\x05hello",
    "garbled-client-hello": b"\x16\x03\x01\x00\x08" + b"\xee" * 8,
}


def test_non_tls_bytes_close_only_that_connection(session, certs):
    b = session.start(("mqtts",))
    sub = session.clients.paho(b, "mqtts", certs)
    pub = session.clients.paho(b, "mqtts", certs)
    sub.subscribe("tls/survivor")
    round_trip(sub, pub, "tls/survivor", b"before")
    for name, data in NOT_TLS.items():
        s = session.clients.socket(b, "mqtts")
        s.sendall(data)
        got = read_until_closed(s)
        # Whatever comes back (a TLS alert at most) is no MQTT packet.
        assert not got.startswith(bytes([CONNACK << 4])), f"{name}: got {got[:16]!r}"
        s.close()
        round_trip(sub, pub, "tls/survivor", f"after {name}".encode())
    assert sub.is_connected and pub.is_connected


def test_plain_and_tls_listeners_exchange_messages(session, certs):
    b = session.start(("mqtt", "mqtts"))
    plain = session.clients.paho(b, "mqtt")
    tls = session.clients.paho(b, "mqtts", certs)
    plain.subscribe("cross/to-plain")
    tls.subscribe("cross/to-tls")
    tls.publish("cross/to-plain", b"from tls", qos=1)
    plain.publish("cross/to-tls", b"from plain", qos=1)
    plain.wait_for_payload(b"from tls")
    tls.wait_for_payload(b"from plain")
    assert plain.payloads() == [b"from tls"] and tls.payloads() == [b"from plain"]


def test_optional_client_certificate(session, certs):
    if broker_kind() == "mosquitto":
        pytest.skip("Mosquitto has no optional client certificates")
    b = session.start(("mqtts",), client_cert="optional")
    anonymous = session.clients.paho(b, "mqtts", certs)
    named = session.clients.paho(b, "mqtts", certs, cert=certs.client_cert, key=certs.client_key)
    named.subscribe("tls/optional")
    anonymous.publish("tls/optional", b"no certificate needed", qos=1)
    named.wait_for_payload(b"no certificate needed")
    # A presented certificate must still verify.
    try:
        s = session.clients.socket(b, "mqtts", client_tls_context(
            certs, certs.stranger_cert, certs.stranger_key))
        s.sendall(connect_packet("stranger"))
        got = read_until_closed(s)
    except OSError:
        got = b""
    assert not got.startswith(bytes([CONNACK << 4])), "an unverifiable certificate was accepted"
    assert named.is_connected and anonymous.is_connected
