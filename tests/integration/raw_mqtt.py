"""Hand-built MQTT packets over a plain socket, for what a well-behaved client library won't send
(garbage, silence, abrupt closes, protocol violations) and for cheap clients at scale."""
import dataclasses
import socket
import struct
import time

# Protocol levels as they appear in CONNECT.
MQTT31, MQTT311, MQTT5 = 3, 4, 5

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14


# -- encoding ----------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack("!H", len(b)) + b


def packet(ptype, flags, body):
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + body


def no_properties(version):
    return b"\x00" if version == MQTT5 else b""


@dataclasses.dataclass
class Will:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: bytes | None = None  # MQTT 5 Will Properties (property_block); None: none


def property_block(*props):
    """An MQTT 5 property block from (identifier, encoded value) pairs, in the order given."""
    content = b"".join(bytes([ident]) + value for ident, value in props)
    return varint(len(content)) + content


def connect_packet(client_id="", version=MQTT311, clean=True, keepalive=60, will=None,
                   properties=None):
    """properties: an MQTT 5 property block (property_block), or None for none."""
    name = b"MQIsdp" if version == MQTT31 else b"MQTT"
    flags = 0x02 if clean else 0
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
    body = utf8(name) + bytes([version, flags]) + struct.pack("!H", keepalive)
    body += (properties if properties is not None else no_properties(version)) + utf8(client_id)
    if will is not None:
        will_props = will.properties if will.properties is not None else no_properties(version)
        body += will_props + utf8(will.topic) + utf8(will.payload)
    return packet(CONNECT, 0, body)


def subscribe_packet(packet_id, filters, version=MQTT311):
    """filters: [(topic_filter, qos)]."""
    body = struct.pack("!H", packet_id) + no_properties(version)
    for topic, qos in filters:
        body += utf8(topic) + bytes([qos])
    return packet(SUBSCRIBE, 0x2, body)


def publish_packet(topic, payload, qos=0, retain=False, packet_id=1, version=MQTT311, dup=False,
                   properties=None):
    flags = (qos << 1) | (1 if retain else 0) | (0x8 if dup else 0)
    body = utf8(topic) + (struct.pack("!H", packet_id) if qos else b"")
    body += (properties if properties is not None else no_properties(version)) + payload
    return packet(PUBLISH, flags, body)


def ack_packet(ptype, packet_id, version=MQTT311):
    """PUBACK/PUBREC/PUBREL/PUBCOMP (PUBREL carries the mandatory flags 0b0010)."""
    return packet(ptype, 0x2 if ptype == PUBREL else 0, struct.pack("!H", packet_id))


def pingreq_packet():
    return packet(PINGREQ, 0, b"")


def disconnect_packet(version=MQTT311):
    return packet(DISCONNECT, 0, b"\x00\x00" if version == MQTT5 else b"")


# -- decoding ----------------------------------------------------------------

@dataclasses.dataclass
class Packet:
    type: int
    flags: int
    body: bytes


@dataclasses.dataclass
class Publish:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    packet_id: int | None


def parse_publish(p, version=MQTT311):
    assert p.type == PUBLISH, p
    qos = (p.flags >> 1) & 3
    n = struct.unpack_from("!H", p.body)[0]
    pos = 2 + n
    topic = p.body[2:pos].decode()
    packet_id = None
    if qos:
        packet_id = struct.unpack_from("!H", p.body, pos)[0]
        pos += 2
    if version == MQTT5:
        length, used = read_varint(p.body, pos)
        pos += used + length
    return Publish(topic, p.body[pos:], qos, bool(p.flags & 1), bool(p.flags & 8), packet_id)


def read_varint(buf, pos):
    value, shift, used = 0, 0, 0
    while True:
        byte = buf[pos + used]
        used += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, used


def v5_properties(body, pos):
    """{identifier: raw bytes} of a v5 property block starting at pos (just enough for tests)."""
    length, used = read_varint(body, pos)
    pos += used
    end, props = pos + length, {}
    while pos < end:
        ident = body[pos]
        pos += 1
        if ident in (0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A):  # byte
            size = 1
        elif ident in (0x13, 0x21, 0x22, 0x23):  # two-byte integer
            size = 2
        elif ident in (0x02, 0x11, 0x18, 0x27):  # four-byte integer
            size = 4
        elif ident == 0x0B:  # variable byte integer
            _, size = read_varint(body, pos)
        elif ident == 0x26:  # user property: string pair
            first = 2 + struct.unpack_from("!H", body, pos)[0]
            size = first + 2 + struct.unpack_from("!H", body, pos + first)[0]
        else:  # strings and binary data
            size = 2 + struct.unpack_from("!H", body, pos)[0]
        props[ident] = body[pos:pos + size]
        pos += size
    return props


# -- connection ----------------------------------------------------------------

class Closed(Exception):
    """The peer closed (or reset) the connection."""


class RawConnection:
    def __init__(self, host, port, timeout=10.0, source=None):
        """source: the local address to connect from (loopback has all of 127.0.0.0/8)."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.version = MQTT311

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        self.sock.close()

    def read_packet(self, timeout=10.0):
        """The next packet; raises Closed on EOF/reset and socket.timeout after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._take_packet()
            if parsed is not None:
                return parsed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no packet")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(str(e)) from e
            if not chunk:
                raise Closed("EOF")
            self._buf += chunk

    def read_until_closed(self, timeout=10.0):
        """Packets received until the broker closes the connection; fails if it stays open."""
        deadline = time.monotonic() + timeout
        packets = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"connection still open after {timeout:g} s; got {packets}")
            try:
                packets.append(self.read_packet(remaining))
            except Closed:
                return packets
            except socket.timeout:
                continue

    def _take_packet(self):
        buf = self._buf
        if len(buf) < 2:
            return None
        length, shift, i = 0, 0, 1
        while True:
            if i >= len(buf):
                return None
            byte = buf[i]
            length |= (byte & 0x7F) << shift
            shift += 7
            i += 1
            if not byte & 0x80:
                break
            if i > 4:
                raise AssertionError("broker sent a malformed remaining length")
        if len(buf) < i + length:
            return None
        p = Packet(buf[0] >> 4, buf[0] & 0xF, bytes(buf[i:i + length]))
        del buf[:i + length]
        return p

    # -- conveniences for the well-behaved parts of a test --------------------

    def connect(self, client_id="", version=MQTT311, clean=True, keepalive=60, will=None,
                properties=None):
        """Sends CONNECT and returns the CONNACK as (session_present, return/reason code, body)."""
        self.version = version
        self.send(connect_packet(client_id, version, clean, keepalive, will, properties))
        p = self.read_packet()
        assert p.type == CONNACK, p
        return bool(p.body[0] & 1), p.body[1], p.body

    def subscribe(self, filters, packet_id=1):
        """Returns the SUBACK return codes."""
        self.send(subscribe_packet(packet_id, filters, self.version))
        p = self.read_packet()
        assert p.type == SUBACK, p
        assert struct.unpack_from("!H", p.body)[0] == packet_id
        pos = 2
        if self.version == MQTT5:
            length, used = read_varint(p.body, pos)
            pos += used + length
        return list(p.body[pos:])

    def publish(self, topic, payload, qos=0, retain=False, packet_id=1):
        self.send(publish_packet(topic, payload, qos, retain, packet_id, self.version))

    def read_publish(self, timeout=10.0):
        p = self.read_packet(timeout)
        return parse_publish(p, self.version)


def connected(host, port, client_id="", version=MQTT311, **kw):
    """A RawConnection past a successful CONNECT."""
    c = RawConnection(host, port)
    _, code, _ = c.connect(client_id, version, **kw)
    assert code == 0, f"CONNACK code {code}"
    return c
