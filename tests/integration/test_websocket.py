"""MQTT over WebSocket (ws://H:P/mqtt) and WebSocket over TLS (wss://): paho's websockets
transport, messages between WebSocket and TCP clients, bad HTTP upgrades and text frames on a
raw socket."""
import base64
import os
import struct

import pytest

from broker_process import broker_kind
from listener_broker import certs, io_backend, session  # noqa: F401 (fixtures)
from listener_broker import WS_PATH, client_tls_context
from raw_mqtt import CONNACK, connect_packet, disconnect_packet

# WebSocket opcodes (RFC 6455 5.2).
TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8


# -- a raw WebSocket client ------------------------------------------------------------------

def upgrade_request(port, path=WS_PATH, upgrade=True, protocol="mqtt"):
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: Upgrade"]
    lines += [f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
              "Sec-WebSocket-Version: 13"]
    if protocol:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_http_response(sock, timeout=10.0):
    """(status code, header lines, bytes after the header); status None when the server closed
    the connection without a response."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            assert not data, f"connection closed inside the HTTP response: {data!r}"
            return None, [], b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line, *headers = head.decode("latin-1").split("\r\n")
    return int(status_line.split()[1]), headers, rest


def frame(opcode, payload):
    """A final, masked (client to server) frame."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWebSocket:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def handshake(self, port):
        self.sock.sendall(upgrade_request(port))
        status, headers, self.buf = read_http_response(self.sock)
        assert status == 101, f"upgrade refused: {status} {headers}"
        return headers

    def send(self, opcode, payload):
        self.sock.sendall(frame(opcode, payload))

    def read_frame(self, timeout=10.0):
        """(opcode, payload) of the next (unmasked, server to client) frame; None once closed."""
        self.sock.settimeout(timeout)
        while True:
            parsed = self._take()
            if parsed is not None:
                return parsed
            try:
                chunk = self.sock.recv(4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def _take(self):
        if len(self.buf) < 2:
            return None
        opcode, n, pos = self.buf[0] & 0x0F, self.buf[1] & 0x7F, 2
        if n == 126:
            if len(self.buf) < 4:
                return None
            n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            if len(self.buf) < 10:
                return None
            n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
        if len(self.buf) < pos + n:
            return None
        payload, self.buf = self.buf[pos:pos + n], self.buf[pos + n:]
        return opcode, payload

    def frames_until_closed(self, timeout=10.0):
        """Every frame until the server closes the TCP connection."""
        frames = []
        while True:
            try:
                f = self.read_frame(timeout)
            except TimeoutError as e:
                raise AssertionError(f"connection still open after {timeout:g} s: {frames}") from e
            if f is None:
                return frames
            frames.append(f)


def round_trip(sub, pub, topic, payload):
    pub.publish(topic, payload, qos=1)
    sub.wait_for_payload(payload)


# -- tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_paho_over_websocket(session, certs, scheme):
    b = session.start((scheme,))
    sub = session.clients.paho(b, scheme, certs)
    pub = session.clients.paho(b, scheme, certs)
    assert sub.subscribe("ws/#", qos=1) == [1]
    big = bytes(range(256)) * 300  # several WebSocket frames' worth, binary
    pub.publish("ws/small", b"hi")
    pub.publish("ws/big", big, qos=1)
    got = sub.wait_for_count(2)
    assert [(m.topic, m.payload) for m in got] == [("ws/small", b"hi"), ("ws/big", big)]


def test_websocket_and_tcp_clients_exchange_messages(session, certs):
    b = session.start(("mqtt", "ws", "wss"))
    tcp = session.clients.paho(b, "mqtt")
    ws = session.clients.paho(b, "ws")
    wss = session.clients.paho(b, "wss", certs)
    for c, name in ((tcp, "tcp"), (ws, "ws"), (wss, "wss")):
        c.subscribe(f"mix/{name}")
    for sender, name in ((tcp, "tcp"), (ws, "ws"), (wss, "wss")):
        for target in ("tcp", "ws", "wss"):
            if target != name:
                sender.publish(f"mix/{target}", f"{name}->{target}".encode(), qos=1)
    for c, name in ((tcp, "tcp"), (ws, "ws"), (wss, "wss")):
        c.wait_for_count(2)
        assert sorted(c.payloads()) == sorted(f"{o}->{name}".encode()
                                              for o in ("tcp", "ws", "wss") if o != name)


BAD_UPGRADES = {
    # name: (request, the status shardmq answers)
    "wrong-path": (dict(path="/not-mqtt"), 404),
    "no-upgrade-header": (dict(upgrade=False), 400),
}


@pytest.mark.parametrize("case", sorted(BAD_UPGRADES))
def test_bad_http_upgrade_gets_an_http_error(session, case):
    request_kw, status = BAD_UPGRADES[case]
    if broker_kind() == "mosquitto" and case == "wrong-path":
        pytest.skip("Mosquitto (libwebsockets) accepts the upgrade on any path")
    b = session.start(("ws",))
    sub = session.clients.paho(b, "ws")
    pub = session.clients.paho(b, "ws")
    sub.subscribe("ws/survivor")
    s = session.clients.socket(b, "ws")
    s.sendall(upgrade_request(b.ports["ws"], **request_kw))
    got, _, _ = read_http_response(s)
    if broker_kind() == "mosquitto":  # libwebsockets closes without a response
        assert got is None or 400 <= got < 500, got
    else:
        assert got == status
    round_trip(sub, pub, "ws/survivor", b"still serving")
    # A fresh WebSocket client is served too.
    late = session.clients.paho(b, "ws")
    late.subscribe("ws/survivor")
    round_trip(late, pub, "ws/survivor", b"late client")


def test_raw_binary_frames_carry_mqtt(session):
    b = session.start(("ws",))
    ws = RawWebSocket(session.clients.socket(b, "ws"))
    headers = ws.handshake(b.ports["ws"])
    assert any(h.lower().replace(" ", "") == "sec-websocket-protocol:mqtt" for h in headers)
    ws.send(BINARY, connect_packet("raw-ws"))
    opcode, payload = ws.read_frame()
    assert opcode == BINARY and payload[:4] == bytes([CONNACK << 4, 2, 0, 0])
    ws.send(BINARY, disconnect_packet())
    assert all(op == CLOSE for op, _ in ws.frames_until_closed())


def test_text_frame_closes_only_that_connection(session):
    if broker_kind() == "mosquitto":
        pytest.skip("Mosquitto 2.0.11 accepts MQTT in text frames (MQTT-6.0.0-1 says close)")
    b = session.start(("ws",))
    sub = session.clients.paho(b, "ws")
    pub = session.clients.paho(b, "ws")
    sub.subscribe("ws/text")
    ws = RawWebSocket(session.clients.socket(b, "ws"))
    ws.handshake(b.ports["ws"])
    # MQTT-6.0.0-1: MQTT travels in binary frames; a text frame is a protocol error.
    ws.send(TEXT, connect_packet("texting"))
    frames = ws.frames_until_closed()
    assert all(op == CLOSE for op, _ in frames), f"expected a close frame at most: {frames}"
    round_trip(sub, pub, "ws/text", b"others unaffected")


def test_wss_refuses_plain_websocket(session, certs):
    b = session.start(("wss",))
    wss = session.clients.paho(b, "wss", certs)
    wss.subscribe("wss/x")
    s = session.clients.socket(b, "wss")
    s.sendall(upgrade_request(b.ports["wss"]))
    s.settimeout(10)
    try:
        got = s.recv(4096)
    except OSError:
        got = b""
    assert not got.startswith(b"HTTP/1.1 101"), got
    round_trip(wss, wss, "wss/x", b"tls still fine")
    # And the same upgrade inside TLS works.
    ok = RawWebSocket(session.clients.socket(b, "wss", client_tls_context(certs)))
    ok.handshake(b.ports["wss"])
