"""Bad input and load: one misbehaving or numerous client never hurts the others."""
import pytest

import raw_mqtt
from raw_mqtt import MQTT311

GARBAGE = {
    "ff_bytes": b"\xff\xff\xff\xff\xff",
    # Remaining length with five continuation bytes (at most four are allowed).
    "bad_varint": b"\x10\xff\xff\xff\xff\x7f",
    "bad_protocol_name": raw_mqtt.packet(raw_mqtt.CONNECT, 0, raw_mqtt.utf8("MQTX")
                                         + b"\x04\x02\x00\x3c" + raw_mqtt.utf8("x")),
    "connect_flags_reserved_bit": raw_mqtt.packet(raw_mqtt.CONNECT, 0, raw_mqtt.utf8("MQTT")
                                                  + b"\x04\x03\x00\x3c" + raw_mqtt.utf8("x")),
    "subscribe_before_connect": raw_mqtt.subscribe_packet(1, [("a", 0)]),
    "truncated_connect_body": raw_mqtt.packet(raw_mqtt.CONNECT, 0, raw_mqtt.utf8("MQTT") + b"\x04"),
    "http_request": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("junk", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_disconnects_only_the_sender(clients, junk):
    sub = clients.paho()
    sub.subscribe("g/#")
    pub = clients.paho()
    pub.publish("g/t", b"before")
    sub.wait_for_payload(b"before")

    bad = clients.raw()
    bad.send(junk)
    packets = bad.read_until_closed()
    # A bad CONNECT may be answered with a refusing CONNACK before the close, never accepted.
    for p in packets:
        assert p.type == raw_mqtt.CONNACK and p.body[1] != 0, packets

    pub.publish("g/t", b"after")
    sub.wait_for_payload(b"after")
    assert sub.payloads() == [b"before", b"after"]
    assert sub.is_connected and pub.is_connected


def test_unsupported_protocol_level_refused(clients):
    c = clients.raw()
    body = raw_mqtt.utf8("MQTT") + b"\x07\x02\x00\x3c" + raw_mqtt.utf8("lvl7")
    c.send(raw_mqtt.packet(raw_mqtt.CONNECT, 0, body))
    packets = c.read_until_closed()
    # MQTT-3.1.2-2: CONNACK 0x01 (unacceptable protocol version) then close; closing is allowed.
    assert packets in ([], [raw_mqtt.Packet(raw_mqtt.CONNACK, 0, b"\x00\x01")]), packets


def test_client_dying_mid_packet(clients):
    sub = clients.paho()
    sub.subscribe("mid/t")
    half = clients.raw()
    half.connect("halfway")
    whole = raw_mqtt.publish_packet("mid/t", b"never", version=MQTT311)
    half.send(whole[: len(whole) // 2])
    half.close()
    pub = clients.paho()
    pub.publish("mid/t", b"ok")
    sub.wait_for_payload(b"ok")
    assert sub.payloads() == [b"ok"]


def test_large_payload_roundtrip(clients):
    sub = clients.paho()
    sub.subscribe("big/t")
    pub = clients.paho()
    body = bytes(range(256)) * 1024  # 256 KiB, spans many socket reads
    pub.publish("big/t", body)
    sub.wait_for_count(1)
    assert sub.payloads() == [body]


@pytest.mark.heavy
def test_many_clients_each_receive_one_message(clients):
    """200 concurrent connections, each subscribed to its own topic and to a shared one."""
    n = 200
    conns = []
    for i in range(n):
        c = clients.raw()
        c.connect(f"many{i}")
        assert c.subscribe([(f"many/{i}", 0), ("many/all", 0)]) == [0, 0]
        conns.append(c)
    pub = clients.raw()
    pub.connect("manypub")
    for i in range(n):
        pub.publish(f"many/{i}", f"to{i}".encode())
    pub.publish("many/all", b"everyone")
    for i, c in enumerate(conns):
        first, second = c.read_publish(), c.read_publish()
        assert (first.topic, first.payload) == (f"many/{i}", f"to{i}".encode())
        assert (second.topic, second.payload) == ("many/all", b"everyone")
