"""MQTT 3.1, 3.1.1 and 5.0 at the wire level and through third-party clients."""
import pytest

import mosquitto_cli
import raw_mqtt
from paho_client import MQTTv5, MQTTv31, MQTTv311
from raw_mqtt import MQTT5, MQTT31, MQTT311
from wait_condition import wait_until

RAW_VERSIONS = {"v31": MQTT31, "v311": MQTT311, "v5": MQTT5}


@pytest.mark.parametrize("version", mosquitto_cli.VERSIONS)
def test_mosquitto_cli_qos0_roundtrip(broker, version):
    sub = mosquitto_cli.CliSubscriber(broker.host, broker.port, "cli/#", 3, version)
    try:
        sub.wait_subscribed()
        pub = mosquitto_cli.publish(broker.host, broker.port, "cli/t", ["one", "two", "three"],
                                    version)
        assert pub.returncode == 0, pub.stdout + pub.stderr
        rc, lines = sub.finish()
    finally:
        sub.kill()
    assert rc == 0
    assert lines == ["cli/t one", "cli/t two", "cli/t three"]


@pytest.mark.parametrize("version", RAW_VERSIONS.values(), ids=RAW_VERSIONS.keys())
def test_raw_connect_subscribe_publish_ping(clients, version):
    sub = clients.raw()
    session_present, code, _ = sub.connect("rawsub", version)
    assert (session_present, code) == (False, 0)
    assert sub.subscribe([("raw/+", 0)]) == [0]
    pub = clients.raw()
    pub.connect("rawpub", version)
    pub.publish("raw/x", b"payload")
    p = sub.read_publish()
    assert (p.topic, p.payload, p.qos, p.retain) == ("raw/x", b"payload", 0, False)
    sub.send(raw_mqtt.pingreq_packet())
    assert sub.read_packet() == raw_mqtt.Packet(raw_mqtt.PINGRESP, 0, b"")
    pub.send(raw_mqtt.disconnect_packet(version))
    pub.read_until_closed()


@pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["v311", "v5"])
def test_empty_client_id_with_clean_session_accepted(clients, version):
    c = clients.raw()
    session_present, code, body = c.connect("", version, clean=True)
    assert (session_present, code) == (False, 0)
    if version == MQTT5:
        props = raw_mqtt.v5_properties(body, 2)
        assert 0x12 in props, "CONNACK must carry the Assigned Client Identifier"
        assert len(props[0x12]) > 2  # a non-empty UTF-8 string
    assert c.subscribe([("anon/t", 0)]) == [0]
    c.publish("anon/t", b"self")
    assert c.read_publish().payload == b"self"


def test_two_empty_id_clients_are_distinct(clients):
    a, b = clients.raw(), clients.raw()
    a.connect("")
    b.connect("")  # must not take over a's session
    a.subscribe([("two/t", 0)])
    b.publish("two/t", b"x")
    assert a.read_publish().payload == b"x"


def test_paho_keepalive_pings_keep_connection(clients):
    c = clients.paho(keepalive=1)
    c.subscribe("ka/t")
    wait_until(lambda: c.pingresps >= 3 or not c.is_connected, 15, "three PINGRESPs")
    assert c.is_connected
    c.publish("ka/t", b"still here")
    c.wait_for_payload(b"still here")


@pytest.mark.parametrize("protocol", [MQTTv31, MQTTv311, MQTTv5], ids=["v31", "v311", "v5"])
def test_paho_clean_disconnect(clients, protocol):
    c = clients.paho(protocol=protocol)
    c.disconnect()
    assert c.disconnect_code == 0


def test_mqtt5_malformed_packet_closes_connection(clients):
    c = clients.raw()
    c.connect("v5bad", MQTT5)
    # SUBSCRIBE with reserved flags 0000 instead of 0010: malformed (MQTT-3.8.1-1).
    c.send(raw_mqtt.packet(raw_mqtt.SUBSCRIBE, 0, b"\x00\x01\x00" + raw_mqtt.utf8("a") + b"\x00"))
    packets = c.read_until_closed()
    check_v5_error_disconnect(packets)


def test_mqtt5_publish_qos3_closes_connection(clients):
    c = clients.raw()
    c.connect("v5qos3", MQTT5)
    c.send(raw_mqtt.packet(raw_mqtt.PUBLISH, 0x6, raw_mqtt.utf8("t") + b"\x00\x01\x00x"))
    check_v5_error_disconnect(c.read_until_closed())


def test_mqtt311_malformed_packet_closes_connection(clients):
    c = clients.raw()
    c.connect("v3bad", MQTT311)
    c.send(raw_mqtt.packet(raw_mqtt.SUBSCRIBE, 0, b"\x00\x01" + raw_mqtt.utf8("a") + b"\x00"))
    # 3.1.1 has no server DISCONNECT: the broker just closes.
    assert c.read_until_closed() == []


def check_v5_error_disconnect(packets):
    """The broker may just close, or first send DISCONNECT with Malformed (0x81) or Protocol
    Error (0x82); nothing else."""
    assert len(packets) <= 1, packets
    if packets:
        [p] = packets
        assert p.type == raw_mqtt.DISCONNECT, p
        assert p.body[:1] in (b"\x81", b"\x82"), p
