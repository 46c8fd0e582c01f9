"""Protocol violations close only the offending connection (issue 4)."""
import pytest

import raw_mqtt
from raw_mqtt import MQTT5, MQTT311


def others_unaffected(clients, sub, pub, tag):
    pub.publish("pv/t", tag)
    sub.wait_for_payload(tag)
    assert sub.is_connected and pub.is_connected


@pytest.fixture
def bystanders(clients):
    sub = clients.paho()
    sub.subscribe("pv/#")
    return sub, clients.paho()


@pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["v311", "v5"])
def test_second_connect_closes_connection(clients, bystanders, version):
    c = clients.raw()
    c.connect("twice", version)
    c.send(raw_mqtt.connect_packet("twice", version))
    for p in c.read_until_closed():
        assert version == MQTT5 and p.type == raw_mqtt.DISCONNECT and p.body[:1] == b"\x82", p
    others_unaffected(clients, *bystanders, b"after second connect")


def test_publish_before_connect_closes_connection(clients, bystanders):
    c = clients.raw()
    c.send(raw_mqtt.publish_packet("pv/t", b"sneaky"))
    assert c.read_until_closed() == []
    others_unaffected(clients, *bystanders, b"after early publish")
    assert b"sneaky" not in bystanders[0].payloads()


def test_pingreq_before_connect_closes_connection(clients, bystanders):
    c = clients.raw()
    c.send(raw_mqtt.pingreq_packet())
    assert c.read_until_closed() == []
    others_unaffected(clients, *bystanders, b"after early ping")


def test_wildcard_in_publish_topic_closes_connection(clients, bystanders):
    c = clients.raw()
    c.connect("wildpub")
    c.publish("pv/+", b"bad")
    assert c.read_until_closed() == []
    others_unaffected(clients, *bystanders, b"after wildcard publish")
    assert b"bad" not in bystanders[0].payloads()


def test_invalid_subscribe_filter_refused_or_closed(clients, bystanders):
    c = clients.raw()
    c.connect("badfilter")
    c.send(raw_mqtt.subscribe_packet(1, [("pv/#/x", 0)]))
    try:
        p = c.read_packet()
    except raw_mqtt.Closed:
        p = None
    # 3.1.1 allows either a SUBACK failure code (0x80) or closing the connection.
    if p is not None:
        assert (p.type, p.body) == (raw_mqtt.SUBACK, b"\x00\x01\x80"), p
    others_unaffected(clients, *bystanders, b"after bad filter")
