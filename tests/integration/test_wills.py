"""Last will (issue 4): published on abrupt close and keepalive expiry, never after DISCONNECT;
will QoS and retain honoured."""
import raw_mqtt
from raw_mqtt import MQTT5, MQTT311, Will


def test_will_on_abrupt_close(clients):
    sub = clients.paho()
    sub.subscribe("will/#", 1)
    w = clients.raw()
    w.connect("willer", MQTT311, will=Will("will/dead", b"gone", qos=1))
    w.close()
    [m] = sub.wait_for_count(1)
    assert (m.topic, m.payload, m.qos, m.retain) == ("will/dead", b"gone", 1, False)


def test_will_qos_capped_by_subscription(clients):
    sub = clients.paho()
    sub.subscribe("wq/#", 0)
    w = clients.raw()
    w.connect("wq", will=Will("wq/t", b"x", qos=2))
    w.close()
    [m] = sub.wait_for_count(1)
    assert m.qos == 0


def test_retained_will(clients):
    w = clients.raw()
    w.connect("wr", will=Will("wr/status", b"offline", qos=1, retain=True))
    live = clients.paho()
    live.subscribe("wr/#", 1)
    w.close()
    live.wait_for_payload(b"offline")
    late = clients.paho()
    late.subscribe("wr/status", 1)
    [m] = late.wait_for_count(1)
    assert (m.payload, m.retain, m.qos) == (b"offline", True, 1)


def test_will_on_keepalive_expiry(clients):
    sub = clients.paho()
    sub.subscribe("wk/#")
    w = clients.raw()
    w.connect("wk", keepalive=1, will=Will("wk/t", b"timeout"))
    # Silent from now on: the broker must give up after 1.5 x keepalive and send the will.
    sub.wait_for_payload(b"timeout", timeout=15)  # Mosquitto checks keepalives coarsely
    assert w.read_until_closed(5) == []


def check_no_will_after_disconnect(clients, version):
    sub = clients.paho()
    sub.subscribe("wn/#")
    w = clients.raw()
    w.connect(f"wn{version}", version, will=Will("wn/will", b"should not"))
    w.send(raw_mqtt.disconnect_packet(version))
    # The broker closing the socket shows it processed the DISCONNECT (and dropped the will).
    assert w.read_until_closed() == []
    clients.paho().publish("wn/sentinel", b"sentinel")
    sub.wait_for_payload(b"sentinel")
    assert sub.payloads() == [b"sentinel"]


def test_no_will_after_clean_disconnect_v311(clients):
    check_no_will_after_disconnect(clients, MQTT311)


def test_no_will_after_clean_disconnect_v5(clients):
    check_no_will_after_disconnect(clients, MQTT5)


def test_will_on_takeover_v5(clients):
    """MQTT 5 (3.1.4-3): the old connection is closed and its will is published."""
    sub = clients.paho()
    sub.subscribe("wt/#")
    old = clients.raw()
    old.connect("wt", MQTT5, will=Will("wt/t", b"taken over"))
    new = clients.raw()
    new.connect("wt", MQTT5)
    packets = old.read_until_closed()
    # The spec asks for DISCONNECT 0x8E (Session taken over) first; Mosquitto 2.0 just closes.
    assert [(p.type, p.body[:1]) for p in packets] in ([], [(raw_mqtt.DISCONNECT, b"\x8e")])
    sub.wait_for_payload(b"taken over")
