"""Persistent sessions and takeover (issue 4)."""
import pytest

import raw_mqtt
from paho_client import MQTTv5, MQTTv311, unique_client_id
from wait_condition import wait_until

PROTOCOLS = {"v311": MQTTv311, "v5": MQTTv5}


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=PROTOCOLS.keys())
def test_offline_qos1_messages_delivered_on_reconnect(clients, protocol):
    cid = unique_client_id("ps")
    # MQTT 5 ends a session at disconnect unless it has an expiry interval.
    expiry = 300 if protocol == MQTTv5 else None
    first = clients.paho(client_id=cid, clean_session=False, protocol=protocol, connect=False,
                         session_expiry=expiry)
    first.connect()
    assert first.connack == (False, 0), "new session must not be reported as present"
    first.subscribe("ps/#", 1)
    first.disconnect()

    pub = clients.paho()
    n = 10
    for i in range(n):  # PUBACK: the broker owns each message before we reconnect
        pub.publish(f"ps/{i}", f"m{i}".encode(), qos=1)

    second = clients.paho(client_id=cid, clean_session=False, protocol=protocol, connect=False,
                          session_expiry=expiry)
    second.connect()
    assert second.connack == (True, 0)
    got = second.wait_for_count(n)
    assert [m.payload for m in got] == [f"m{i}".encode() for i in range(n)]
    assert all(m.qos == 1 for m in got)
    # The session keeps its subscription: live messages flow too.
    pub.publish("ps/live", b"live", qos=1)
    second.wait_for_payload(b"live")


def test_clean_session_discards_state(clients):
    cid = unique_client_id("cs")
    a = clients.paho(client_id=cid, clean_session=False)
    a.subscribe("cs/t", 1)
    a.disconnect()
    b = clients.paho(client_id=cid, clean_session=True, connect=False)
    b.connect()
    assert b.connack == (False, 0)
    b.disconnect()
    clients.paho().publish("cs/t", b"lost", qos=1)
    c = clients.paho(client_id=cid, clean_session=False, connect=False)
    c.connect()
    assert c.connack == (False, 0), "clean session must have deleted the old session"
    c.subscribe("cs/sync", 0)
    clients.paho().publish("cs/sync", b"sync")
    c.wait_for_payload(b"sync")
    assert c.payloads() == [b"sync"]


def test_unacked_qos1_redelivered_with_dup(clients):
    c = clients.raw()
    c.connect("dupcheck", clean=False)
    c.subscribe([("dup/t", 1)])
    clients.paho().publish("dup/t", b"m", qos=1)
    p = c.read_publish()
    assert (p.payload, p.qos, p.dup) == (b"m", 1, False)
    c.close()  # no PUBACK
    again = clients.raw()
    session_present, code, _ = again.connect("dupcheck", clean=False)
    assert (session_present, code) == (True, 0)
    p = again.read_publish()
    assert (p.payload, p.qos, p.dup) == (b"m", 1, True)
    again.send(raw_mqtt.ack_packet(raw_mqtt.PUBACK, p.packet_id))


def test_session_takeover(clients):
    """A second CONNECT with the same id closes the first; QoS 1 messages are never lost."""
    cid = unique_client_id("to")
    a = clients.paho(client_id=cid, clean_session=False)
    a.subscribe("to/t", 1)
    pub = clients.paho()
    n = 20
    for i in range(n):
        pub.publish("to/t", f"a{i}".encode(), qos=1, wait=False)
    b = clients.paho(client_id=cid, clean_session=False, connect=False)
    b.connect()
    wait_until(a.disconnected.is_set, 10, "first connection closed by takeover")
    assert b.connack == (True, 0)
    assert b.is_connected
    for i in range(n):
        pub.publish("to/t", f"b{i}".encode(), qos=1, wait=False)
    wait_until(lambda: len(pub.acked) >= 2 * n, 10, "publisher acks")
    everything = {f"{x}{i}".encode() for x in "ab" for i in range(n)}
    # a acknowledged what it recorded; the rest must be (re)delivered to b.
    wait_until(lambda: everything <= set(a.payloads()) | set(b.payloads()), 10,
               "every message at a or b")
    assert {f"b{i}".encode() for i in range(n)} <= set(b.payloads())


def test_takeover_of_raw_v311_connection_closes_socket(clients):
    old = clients.raw()
    old.connect("rawto")
    new = clients.raw()
    _, code, _ = new.connect("rawto")
    assert code == 0
    assert old.read_until_closed() == []
    new.send(raw_mqtt.pingreq_packet())
    assert new.read_packet().type == raw_mqtt.PINGRESP


def test_v5_session_without_expiry_ends_at_disconnect(clients):
    cid = unique_client_id("se")
    a = clients.paho(client_id=cid, clean_session=False, protocol=MQTTv5)
    a.subscribe("se/t", 1)
    a.disconnect()
    b = clients.paho(client_id=cid, clean_session=False, protocol=MQTTv5, connect=False)
    b.connect()
    assert b.connack == (False, 0), "Session Expiry Interval 0: the session ended at disconnect"
