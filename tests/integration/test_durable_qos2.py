"""Durable state (issue 13), QoS 2 from the publisher's side: with durability = "sync" the packet
ids a persistent session's client published with QoS 2 and got PUBREC for are on disk before the
PUBREC goes, so exactly once holds across kill -9: a PUBLISH resent with one of those ids after
the restart (its PUBREC lost with the broker) is acknowledged again and not delivered twice, and
its PUBREL completes normally. An id released by PUBREL is gone from the store once PUBCOMP is
sent, so the client may use it again for a new message. A Session Expiry Interval changed by an
MQTT 5 DISCONNECT is stored.

Hand-built packets (raw_mqtt) because a client library resends at its own moments; several
publishers, so that with 2 shards both a session homed on its connection's shard and one homed
on the other shard are taken."""
import struct
import time

import pytest

import raw_mqtt as mq
from paho_client import unique_client_id

PUBLISHERS = 4
TOPIC_PREFIX = "qos2-durable"
SHORT_EXPIRY_S = 2  # what a DISCONNECT shortens a session's expiry to


def session_properties(version, expiry_s=300):
    if version != mq.MQTT5:
        return None
    return mq.property_block((0x11, struct.pack("!I", expiry_s)))  # Session Expiry Interval


def reconnect(broker, client_id, version, expect_present=True):
    c = mq.RawConnection(broker.host, broker.port)
    present, code, _ = c.connect(client_id, version, clean=False,
                                 properties=session_properties(version))
    assert code == 0, f"CONNACK code {code}"
    assert present == expect_present, f"{client_id}: session present {present}"
    return c


def expect_ack(c, ptype, packet_id, reason=0):
    p = c.read_packet()
    assert p.type == ptype, f"expected packet type {ptype}, got {p}"
    assert struct.unpack_from("!H", p.body)[0] == packet_id
    got = p.body[2] if len(p.body) > 2 else 0
    assert got == reason, f"packet type {ptype} reason {got:#x}, expected {reason:#x}"


def connect_persistent(broker, client_id, version):
    c = mq.RawConnection(broker.host, broker.port)
    _, code, _ = c.connect(client_id, version, clean=False, properties=session_properties(version))
    assert code == 0, f"CONNACK code {code}"
    return c


def subscribe_offline(broker, client_id, version, topic):
    c = connect_persistent(broker, client_id, version)
    assert c.subscribe([(topic, 2)]) == [2]
    c.send(mq.disconnect_packet(version))
    c.close()


def offline_subscriber_and_publishers(broker, version):
    """A topic, a persistent subscriber to it (offline now) and PUBLISHERS client ids."""
    topic = f"{TOPIC_PREFIX}/{unique_client_id('t')}"
    subscriber = unique_client_id("sub")
    subscribe_offline(broker, subscriber, version, topic)
    return topic, subscriber, [unique_client_id(f"pub{i}") for i in range(PUBLISHERS)]


def publish_qos2(c, topic, payload, packet_id, version, dup=False):
    """A whole QoS 2 exchange from the publisher's side: PUBLISH, PUBREC, PUBREL, PUBCOMP."""
    c.send(mq.publish_packet(topic, payload, qos=2, packet_id=packet_id, version=version, dup=dup))
    expect_ack(c, mq.PUBREC, packet_id)
    c.send(mq.ack_packet(mq.PUBREL, packet_id, version))
    expect_ack(c, mq.PUBCOMP, packet_id)


def drain_until_markers(c, version, markers):
    """Payloads received, each acknowledged at its QoS, until every marker has arrived and no
    QoS 2 exchange is left open."""
    got, waiting, open_exchanges = [], set(markers), set()
    while waiting or open_exchanges:
        p = c.read_packet()
        if p.type == mq.PUBREL:
            packet_id = struct.unpack_from("!H", p.body)[0]
            open_exchanges.discard(packet_id)
            c.send(mq.ack_packet(mq.PUBCOMP, packet_id, version))
            continue
        m = mq.parse_publish(p, version)
        got.append(m.payload)
        waiting.discard(m.payload)
        if m.qos == 1:
            c.send(mq.ack_packet(mq.PUBACK, m.packet_id, version))
        elif m.qos == 2:
            open_exchanges.add(m.packet_id)
            c.send(mq.ack_packet(mq.PUBREC, m.packet_id, version))
    return got


@pytest.mark.parametrize("version", [mq.MQTT311, mq.MQTT5], ids=["v311", "v5"])
@pytest.mark.parametrize("shards", [1, 2])
def test_qos2_publish_resent_after_kill_is_delivered_once(durable, version, shards):
    broker = durable(shards=shards)
    topic, subscriber, publishers = offline_subscriber_and_publishers(broker, version)
    for i, client_id in enumerate(publishers):
        c = connect_persistent(broker, client_id, version)
        c.send(mq.publish_packet(topic, f"m{i}".encode(), qos=2, packet_id=7, version=version))
        expect_ack(c, mq.PUBREC, 7)
        c.close()  # no PUBREL: the exchange is half done when the broker dies

    broker.kill()
    broker.restart()

    for i, client_id in enumerate(publishers):
        c = reconnect(broker, client_id, version)
        # The PUBREC was "lost": the client sends the message again, as MQTT tells it to. Its
        # PUBCOMP is Success in 5.0, not 0x92: the id was known.
        publish_qos2(c, topic, f"m{i}".encode(), 7, version, dup=True)
        # Ordered after m{i} from the same client: once it arrives, any copy of m{i} has.
        c.send(mq.publish_packet(topic, f"end{i}".encode(), qos=1, packet_id=8, version=version))
        expect_ack(c, mq.PUBACK, 8)
        c.send(mq.disconnect_packet(version))
        c.close()

    sub = reconnect(broker, subscriber, version)
    got = drain_until_markers(sub, version, [f"end{i}".encode() for i in range(PUBLISHERS)])
    sub.close()
    for i in range(PUBLISHERS):
        assert got.count(f"m{i}".encode()) == 1, f"m{i} delivered {got.count(f'm{i}'.encode())}" \
                                                 f" times: {got}"


@pytest.mark.parametrize("shards", [1, 2])
def test_released_qos2_id_may_be_used_again_after_kill(durable, shards):
    version = mq.MQTT5
    broker = durable(shards=shards)
    topic, subscriber, publishers = offline_subscriber_and_publishers(broker, version)
    for i, client_id in enumerate(publishers):
        c = connect_persistent(broker, client_id, version)
        publish_qos2(c, topic, f"first{i}".encode(), 9, version)
        c.close()

    broker.kill()
    broker.restart()

    for i, client_id in enumerate(publishers):
        c = reconnect(broker, client_id, version)
        publish_qos2(c, topic, f"second{i}".encode(), 9, version)
        c.send(mq.disconnect_packet(version))
        c.close()

    sub = reconnect(broker, subscriber, version)
    got = drain_until_markers(sub, version, [f"second{i}".encode() for i in range(PUBLISHERS)])
    sub.close()
    for i in range(PUBLISHERS):
        assert got.count(f"first{i}".encode()) == 1, got


def test_session_expiry_set_by_disconnect_is_stored(durable):
    """MQTT 5 DISCONNECT may change the Session Expiry Interval (not from 0): the stored session
    keeps the new one. Counted again from the restart (the time the broker was down is not
    known to it)."""
    version = mq.MQTT5
    broker = durable(shards=1)  # one shard: the PUBACK below follows every write before it
    kept, shortened, ended = (unique_client_id(n) for n in ("kept", "short", "ended"))
    for client_id, disconnect_expiry in ((kept, 600), (shortened, SHORT_EXPIRY_S), (ended, 0)):
        c = connect_persistent(broker, client_id, version)
        assert c.subscribe([(f"{TOPIC_PREFIX}/{client_id}", 1)]) == [1]
        # DISCONNECT with reason 0 and a Session Expiry Interval property.
        props = mq.property_block((0x11, struct.pack("!I", disconnect_expiry)))
        c.send(mq.packet(mq.DISCONNECT, 0, b"\x00" + props))
        c.read_until_closed()
    sync = mq.connected(broker.host, broker.port, unique_client_id("sync"), version)
    sync.send(mq.publish_packet(f"{TOPIC_PREFIX}/sync", b"x", qos=1, packet_id=1, version=version))
    expect_ack(sync, mq.PUBACK, 1)
    sync.close()

    broker.kill()
    broker.restart()
    restarted = time.monotonic()

    reconnect(broker, ended, version, expect_present=False).close()
    time.sleep(max(0.0, restarted + SHORT_EXPIRY_S + 1.0 - time.monotonic()))
    reconnect(broker, shortened, version, expect_present=False).close()
    reconnect(broker, kept, version, expect_present=True).close()
