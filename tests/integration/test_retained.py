"""Retained messages (issue 4): set, replace, delete, delivery on subscribe with the retain flag.

Absence is checked against a sentinel: a retained message on another topic of the same
SUBSCRIBE, which the broker sends in the same pass over its retained store."""
import pytest

from paho_client import MQTTv5, MQTTv311

FILTERS = ["ret/a/1", "ret/+/1", "ret/#", "+/a/1", "#"]


@pytest.mark.parametrize("flt", FILTERS)
def test_retained_delivered_on_subscribe(clients, flt):
    pub = clients.paho()
    pub.publish("ret/a/1", b"kept", qos=1, retain=True)
    pub.publish("ret/a/2", b"plain", qos=1)  # not retained: never replayed
    sub = clients.paho()
    sub.subscribe(flt, 1)
    [m] = sub.wait_for_count(1)
    assert (m.topic, m.payload, m.retain) == ("ret/a/1", b"kept", True)
    assert m.qos == 1


def test_retained_replace_and_delete(clients):
    pub = clients.paho()
    pub.publish("rd/x", b"v1", qos=1, retain=True)
    pub.publish("rd/x", b"v2", qos=1, retain=True)
    pub.publish("rd/sentinel", b"s", qos=1, retain=True)
    s1 = clients.paho()
    s1.subscribe("rd/#")
    s1.wait_for_count(2)
    assert sorted(s1.payloads()) == [b"s", b"v2"]

    pub.publish("rd/x", b"", qos=1, retain=True)  # empty retained payload deletes
    s2 = clients.paho()
    s2.subscribe([("rd/x", 0), ("rd/sentinel", 0)])
    s2.wait_for_payload(b"s")
    assert s2.payloads() == [b"s"]
    # The deleting publish itself still reached live subscribers (with an empty payload).
    s1.wait_for_payload(b"")


def test_live_delivery_of_retained_publish_clears_flag(clients):
    """MQTT-3.3.1-9: an established subscription gets retain=0 (3.1.1 and 5 without RAP)."""
    sub = clients.paho()
    sub.subscribe("lr/t")
    clients.paho().publish("lr/t", b"x", retain=True)
    [m] = sub.wait_for_count(1)
    assert m.retain is False


@pytest.mark.parametrize("protocol", [MQTTv311, MQTTv5], ids=["v311", "v5"])
def test_retained_qos_is_min_of_stored_and_subscription(clients, protocol):
    pub = clients.paho(protocol=protocol)
    pub.publish("rq/t0", b"q0", qos=0, retain=True)
    pub.publish("rq/t2", b"q2", qos=2, retain=True)
    sub = clients.paho(protocol=protocol)
    sub.subscribe("rq/+", 1)
    got = {m.payload: m for m in sub.wait_for_count(2)}
    assert (got[b"q0"].qos, got[b"q2"].qos) == (0, 1)
    assert got[b"q0"].retain and got[b"q2"].retain


def test_many_retained_topics(clients):
    pub = clients.paho()
    for i in range(50):
        pub.publish(f"many/{i}", f"v{i}".encode(), qos=1, retain=True)
    sub = clients.paho()
    sub.subscribe("many/+")
    sub.wait_for_count(50)
    assert sorted(sub.payloads()) == sorted(f"v{i}".encode() for i in range(50))
