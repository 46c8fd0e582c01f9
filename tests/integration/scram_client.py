"""The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), written from the RFCs for the tests,
and the MQTT 5 packets that carry it (CONNECT with an Authentication Method, AUTH)."""
import base64
import hashlib
import hmac
import os
import struct

from raw_mqtt import CONNACK, CONNECT, MQTT5, packet, utf8, v5_properties, varint

AUTH = 15
METHOD = "SCRAM-SHA-256"
CONTINUE, REAUTHENTICATE = 0x18, 0x19


def _binary(data):
    return struct.pack("!H", len(data)) + data


def auth_properties(method, data):
    props = b"\x15" + utf8(method)
    if data is not None:
        props += b"\x16" + _binary(data)
    return varint(len(props)) + props


def connect_packet(client_id, method, data, keepalive=60):
    body = utf8(b"MQTT") + bytes([MQTT5, 0x02]) + struct.pack("!H", keepalive)
    body += auth_properties(method, data) + utf8(client_id)
    return packet(CONNECT, 0, body)


def auth_packet(reason, method, data):
    return packet(AUTH, 0, bytes([reason]) + auth_properties(method, data))


def parse_auth(p):
    """(reason code, {property id: raw bytes}) of an AUTH or CONNACK packet."""
    if p.type == CONNACK:
        return p.body[1], v5_properties(p.body, 2)
    assert p.type == AUTH, p
    return p.body[0], v5_properties(p.body, 1)


def property_bytes(props, ident):
    """The value of a string or binary property, without its length."""
    raw = props.get(ident)
    return None if raw is None else raw[2:]


class ScramClient:
    """One login: first() gives client-first, final(server_first) client-final, and
    verify(server_final) checks the broker's signature."""

    def __init__(self, user, password, nonce=None):
        self.user, self.password = user, password
        self.nonce = nonce or base64.b64encode(os.urandom(18)).decode()
        saslname = user.replace("=", "=3D").replace(",", "=2C")
        self.bare = f"n={saslname},r={self.nonce}"

    def first(self):
        return ("n,," + self.bare).encode()

    def final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        assert attrs["r"].startswith(self.nonce), "the server nonce must extend ours"
        salt, iterations = base64.b64decode(attrs["s"]), int(attrs["i"])
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={attrs['r']}"
        self.auth_message = f"{self.bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, self.auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final):
        expected = hmac.new(self.server_key, self.auth_message, "sha256").digest()
        return server_final.decode() == "v=" + base64.b64encode(expected).decode()

