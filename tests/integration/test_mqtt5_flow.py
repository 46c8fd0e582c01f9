"""MQTT 5 flow control at the connection, with real clients on two shards and both loops:
Topic Aliases both ways, Receive Maximum both ways, Maximum Packet Size, the server's
DISCONNECT reason codes, and 3.1.1 and 5.0 subscribers of one topic. Where Mosquitto 2.0
behaves the same the test runs against it too (BROKER=mosquitto); where shardmq differs on
purpose the test says so and is skipped there."""
import json
import os
import struct
import subprocess

import pytest

import raw_mqtt
from broker_process import broker_kind
from npm_install import NODE_MODULES
from paho_client import MQTTv5, MQTTv311
from raw_mqtt import MQTT5, MQTT311, PUBLISH, property_block
from wait_condition import wait_until

pytestmark = pytest.mark.heavy  # two shards, uring and epoll

shardmq_only = pytest.mark.skipif(broker_kind() == "mosquitto",
                                  reason="shardmq behaviour Mosquitto 2.0.11 does not share")

TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS, RECEIVE_MAXIMUM, MAXIMUM_PACKET_SIZE = 0x22, 0x23, 0x21, 0x27


def u16(v):
    return struct.pack("!H", v)


def u32(v):
    return struct.pack("!I", v)


def split_publish(p, version=MQTT5):
    """(topic, property block content, payload) of a PUBLISH packet."""
    assert p.type == PUBLISH, p
    n = struct.unpack_from("!H", p.body)[0]
    pos = 2 + n
    topic = p.body[2:pos].decode()
    if (p.flags >> 1) & 3:
        pos += 2
    props = b""
    if version == MQTT5:
        length, used = raw_mqtt.read_varint(p.body, pos)
        props = p.body[pos + used:pos + used + length]
        pos += used + length
    return topic, props, p.body[pos:]


def connack_properties(body):
    return raw_mqtt.v5_properties(body, 2)


def subscriber(clients, client_id, filters, properties=None):
    c = clients.raw()
    c.connect(client_id, MQTT5, properties=properties)
    assert all(code <= 2 for code in c.subscribe(filters))
    return c


def read_disconnect(c):
    packets = c.read_until_closed()
    assert [p.type for p in packets] == [raw_mqtt.DISCONNECT], packets
    return packets[0].body[0]


# -- Topic Aliases --------------------------------------------------------------

def test_client_topic_alias_sets_and_uses(clients):
    sub = clients.paho(protocol=MQTTv5)
    sub.subscribe("alias/#")
    pub = clients.raw()
    _, code, body = pub.connect("aliaser", MQTT5)
    assert code == 0
    assert struct.unpack("!H", connack_properties(body)[TOPIC_ALIAS_MAXIMUM])[0] == 10
    with_alias = property_block((TOPIC_ALIAS, u16(4)))
    pub.send(raw_mqtt.publish_packet("alias/one", b"1", version=MQTT5, properties=with_alias))
    pub.send(raw_mqtt.publish_packet("", b"2", version=MQTT5, properties=with_alias))
    pub.send(raw_mqtt.publish_packet("alias/two", b"3", version=MQTT5, properties=with_alias))
    pub.send(raw_mqtt.publish_packet("", b"4", qos=1, version=MQTT5, properties=with_alias))
    assert pub.read_packet().type == raw_mqtt.PUBACK
    sub.wait_for_count(4)
    assert [(m.topic, m.payload) for m in sub.received()] == [
        ("alias/one", b"1"), ("alias/one", b"2"), ("alias/two", b"3"), ("alias/two", b"4")]


@pytest.mark.parametrize("alias,topic,reason", [
    (11, "t", 0x94),  # over the Topic Alias Maximum of 10
    (0, "t", 0x94),   # alias 0 is never valid (Mosquitto 2.0.11: 0x81, checked below)
    (3, "", 0x82),    # used before it was set
], ids=["over-maximum", "zero", "unknown"])
def test_invalid_client_topic_alias(clients, alias, topic, reason):
    pub = clients.raw()
    pub.connect("bad-alias", MQTT5)
    pub.send(raw_mqtt.publish_packet(topic, b"x", version=MQTT5,
                                     properties=property_block((TOPIC_ALIAS, u16(alias)))))
    if broker_kind() == "mosquitto" and alias == 0:
        reason = 0x81  # Mosquitto calls it malformed; shardmq, as the brief and 0x94's text do
    assert read_disconnect(pub) == reason


@shardmq_only  # Mosquitto 2.0.11 never assigns aliases of its own
def test_broker_assigns_aliases_to_a_client_that_allows_them(clients):
    sub = subscriber(clients, "alias-sub", [("out/#", 0)],
                     property_block((TOPIC_ALIAS_MAXIMUM, u16(2))))
    plain = subscriber(clients, "plain-sub", [("out/#", 0)])
    pub = clients.paho(protocol=MQTTv5)
    for t in ("out/a", "out/a", "out/b", "out/a", "out/c", "out/b"):
        pub.publish(t, b"m")
    got = []
    for _ in range(6):
        topic, props, _ = split_publish(sub.read_packet())
        alias = raw_mqtt.v5_properties(raw_mqtt.varint(len(props)) + props, 0).get(TOPIC_ALIAS)
        got.append((topic, struct.unpack("!H", alias)[0]))
    # out/c takes the alias of out/b, used least recently; out/b then takes out/a's.
    assert got == [("out/a", 1), ("", 1), ("out/b", 2), ("", 1), ("out/c", 2), ("out/b", 1)]
    for _ in range(6):
        topic, props, _ = split_publish(plain.read_packet())
        assert topic.startswith("out/") and props == b""  # no alias where none was allowed


MQTTJS_ROUND_TRIP = r"""
const mqtt = require('mqtt');
const url = process.env.BROKER_URL;
const opts = {protocolVersion: 5, reconnectPeriod: 0};
const sub = mqtt.connect(url, {...opts, clientId: 'js-sub', properties: {topicAliasMaximum: 5}});
sub.on('connect', () => sub.subscribe('js/#', {qos: 1}, () => {
  const pub = mqtt.connect(url, {...opts, clientId: 'js-pub', autoUseTopicAlias: true});
  pub.on('connect', (ack) => {
    const got = [];
    sub.on('message', (topic, payload, packet) => {
      got.push([topic, payload.toString(), (packet.properties || {}).topicAlias || 0]);
      if (got.length === 4) {
        pub.end(); sub.end();
        const out = JSON.stringify({max: ack.properties.topicAliasMaximum, got}) + '\n';
        process.stdout.write(out, () => process.exit(0));  // a pipe is written asynchronously
      }
    });
    for (const [i, t] of ['js/x', 'js/x', 'js/y', 'js/x'].entries())
      pub.publish(t, String(i), {qos: 1, properties: {topicAlias: t === 'js/x' ? 1 : 2}});
  });
}));
setTimeout(() => { console.error('timed out'); process.exit(1); }, 20000).unref();
"""


@shardmq_only  # the broker's own aliases (MQTT.js resolves them); Mosquitto sends none
def test_mqttjs_alias_round_trip(broker, mqttjs_installed):
    if not (NODE_MODULES / "mqtt").is_dir():
        pytest.skip(f"MQTT.js not installed at {NODE_MODULES} (npm ci in tests/browser)")
    out = subprocess.run(["node", "-e", MQTTJS_ROUND_TRIP],
                         env={**os.environ, "NODE_PATH": str(NODE_MODULES),
                              "BROKER_URL": f"mqtt://{broker.host}:{broker.port}"},
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout)
    assert result["max"] == 10
    # MQTT.js set aliases on the way in (its autoUseTopicAlias sends the empty topic after
    # the first), the broker assigned its own on the way out; topics come out right.
    assert [(t, p) for t, p, _ in result["got"]] == [
        ("js/x", "0"), ("js/x", "1"), ("js/y", "2"), ("js/x", "3")]
    assert [a for _, _, a in result["got"]] == [1, 1, 2, 1]


# -- Receive Maximum ------------------------------------------------------------

@shardmq_only  # Mosquitto queues the QoS 0 marker behind the held QoS 1 message
def test_receive_maximum_of_the_client_holds_back_the_eleventh(clients):
    sub = subscriber(clients, "rm-sub", [("rm/q", 1), ("rm/marker", 0)],
                     property_block((RECEIVE_MAXIMUM, u16(10))))
    pub = clients.paho(protocol=MQTTv5)
    for i in range(11):
        pub.publish("rm/q", f"{i}".encode(), qos=1, wait=False)
    wait_until(lambda: len(pub.acked) >= 11, 10, "PUBACKs for the publisher")
    ids = []
    for _ in range(10):
        p = raw_mqtt.parse_publish(sub.read_packet(), MQTT5)
        ids.append(p.packet_id)
        assert p.payload == f"{len(ids) - 1}".encode()
    pub.publish("rm/marker", b"after", qos=0)  # QoS 0 is outside the window
    marker = raw_mqtt.parse_publish(sub.read_packet(), MQTT5)
    assert (marker.topic, marker.payload) == ("rm/marker", b"after")  # not the 11th
    sub.send(raw_mqtt.ack_packet(raw_mqtt.PUBACK, ids[0]))
    eleventh = raw_mqtt.parse_publish(sub.read_packet(), MQTT5)
    assert (eleventh.topic, eleventh.payload) == ("rm/q", b"10")


@shardmq_only  # Mosquitto 2.0.11 answers the extra one with PUBREC 0x97 and stays connected;
# MQTT 5 §3.3.4 asks for DISCONNECT 0x93, which shardmq sends
def test_client_over_the_brokers_receive_maximum_gets_0x93(clients):
    pub = clients.raw()
    _, code, body = pub.connect("overrun", MQTT5)
    assert code == 0
    maximum = struct.unpack("!H", connack_properties(body)[RECEIVE_MAXIMUM])[0]
    # QoS 2 stays unacknowledged until PUBREL/PUBCOMP, which this client never sends.
    for i in range(1, maximum + 2):
        pub.send(raw_mqtt.publish_packet("rm/over", b"x", qos=2, packet_id=i, version=MQTT5))
    packets = pub.read_until_closed()
    assert [p.type for p in packets] == [raw_mqtt.PUBREC] * maximum + [raw_mqtt.DISCONNECT]
    assert packets[-1].body[0] == 0x93


# -- Maximum Packet Size ----------------------------------------------------------

@pytest.mark.broker_options(sys_interval=1)
def test_message_too_large_for_one_subscriber_is_skipped_for_it_alone(clients):
    tight = subscriber(clients, "tight", [("big/#", 1)],
                       property_block((MAXIMUM_PACKET_SIZE, u32(128))))
    roomy = clients.paho(protocol=MQTTv5)
    roomy.subscribe("big/#", qos=1)
    pub = clients.paho(protocol=MQTTv5)
    pub.publish("big/large", b"L" * 500, qos=1)
    pub.publish("big/small", b"small", qos=1)
    roomy.wait_for_count(2)
    p = raw_mqtt.parse_publish(tight.read_packet(), MQTT5)
    assert (p.topic, p.payload) == ("big/small", b"small")  # never truncated, only skipped
    if broker_kind() == "shardmq":  # counted ($SYS/broker/messages/too large is shardmq's)
        sys = clients.paho()
        sys.subscribe("$SYS/broker/messages/too large")
        wait_until(lambda: b"1" in sys.payloads(), 15, "the skipped message counted")


# -- the server's DISCONNECT ----------------------------------------------------------

@shardmq_only  # Mosquitto 2.0.11 closes a keepalive timeout without DISCONNECT
def test_keepalive_timeout_is_0x8d(clients):
    c = clients.raw()
    c.connect("silent5", MQTT5, keepalive=1)
    assert read_disconnect(c) == 0x8D


@shardmq_only  # Mosquitto 2.0.11 just closes the old connection (see test_wills.py)
def test_session_taken_over_is_0x8e(clients):
    old = clients.raw()
    old.connect("twice", MQTT5)
    new = clients.raw()
    new.connect("twice", MQTT5)
    assert read_disconnect(old) == 0x8E


@shardmq_only  # Mosquitto 2.0.11 closes without DISCONNECT
def test_second_connect_is_a_protocol_error_0x82(clients):
    c = clients.raw()
    c.connect("again", MQTT5)
    c.send(raw_mqtt.connect_packet("again", MQTT5))
    assert read_disconnect(c) == 0x82


# -- mixed fleets -------------------------------------------------------------------------

def test_mixed_fleet_each_gets_its_own_protocol_and_properties_pass_through(clients):
    v5 = subscriber(clients, "fleet-v5", [("fleet/t", 0)])
    old = clients.raw()
    old.connect("fleet-v311", MQTT311)
    old.subscribe([("fleet/t", 0)])
    paho_old = clients.paho(protocol=MQTTv311)
    paho_old.subscribe("fleet/t")
    props = property_block(
        (0x26, raw_mqtt.utf8("first") + raw_mqtt.utf8("1")),  # user properties, in order
        (0x01, b"\x01"),                                    # payload format indicator
        (0x03, raw_mqtt.utf8("text/plain")),                # content type
        (0x08, raw_mqtt.utf8("fleet/reply")),               # response topic
        (0x09, raw_mqtt.utf8(b"\x00\x01corr")),             # correlation data
        (0x26, raw_mqtt.utf8("second") + raw_mqtt.utf8("2")),
        (0x26, raw_mqtt.utf8("first") + raw_mqtt.utf8("again")),
    )
    pub = clients.raw()
    pub.connect("fleet-pub", MQTT5)
    pub.send(raw_mqtt.publish_packet("fleet/t", b"payload", version=MQTT5, properties=props))
    topic, got_props, payload = split_publish(v5.read_packet())
    assert (topic, payload) == ("fleet/t", b"payload")
    length, used = raw_mqtt.read_varint(props, 0)
    if broker_kind() == "shardmq":
        assert got_props == props[used:]  # byte for byte: same properties, same order
    else:  # Mosquitto re-encodes them: same set, user properties still in order
        assert sorted(got_props) == sorted(props[used:])
    p = raw_mqtt.parse_publish(old.read_packet(), MQTT311)  # no property block at all
    assert (p.topic, p.payload) == ("fleet/t", b"payload")
    paho_old.wait_for_payload(b"payload")
