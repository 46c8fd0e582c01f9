"""Durable state (issue 13), wills: a persistent session's will is stored with it, so a client that
was connected when the broker was killed (its connection ended without DISCONNECT) has its will
published after the restart, after its Will Delay, counted from the restart; a client that comes
back within the delay cancels it, and a client that had disconnected cleanly has none.

One shard, so that a QoS 1 PUBACK after the CONNECTs follows every write before it (the will is
written when the session attaches; CONNACK does not wait for the disk). The will's subscriber is a
persistent session offline at the kill: the will is queued for it."""
import struct

import pytest

import raw_mqtt as mq
from paho_client import unique_client_id

WILL_TOPIC = "wills-durable"


@pytest.fixture
def broker(durable):
    return durable(shards=1)


def expiry_property(seconds):
    return mq.property_block((0x11, struct.pack("!I", seconds)))


def connect_with_will(broker, client_id, version, payload, will_delay_s=None):
    will_props = None
    if version == mq.MQTT5:
        will_props = (mq.property_block((0x18, struct.pack("!I", will_delay_s)))
                      if will_delay_s is not None else b"\x00")
    c = mq.RawConnection(broker.host, broker.port)
    _, code, _ = c.connect(client_id, version, clean=False,
                           will=mq.Will(f"{WILL_TOPIC}/{client_id}", payload, qos=1,
                                        properties=will_props),
                           properties=expiry_property(300) if version == mq.MQTT5 else None)
    assert code == 0
    return c


def offline_subscriber(broker, version):
    client_id = unique_client_id("willsub")
    c = mq.RawConnection(broker.host, broker.port)
    _, code, _ = c.connect(client_id, version, clean=False,
                           properties=expiry_property(300) if version == mq.MQTT5 else None)
    assert code == 0
    assert c.subscribe([(f"{WILL_TOPIC}/#", 1)]) == [1]
    c.send(mq.disconnect_packet(version))
    c.read_until_closed()
    return client_id


def sync_writes(broker, version, topic):
    """A QoS 1 publish to `topic`: its PUBACK (one shard) follows every write before it."""
    c = mq.connected(broker.host, broker.port, unique_client_id("sync"), version)
    c.send(mq.publish_packet(topic, b"marker", qos=1, packet_id=1, version=version))
    p = c.read_packet()
    assert p.type == mq.PUBACK, p
    c.close()


def received_until_marker(broker, client_id, version, marker_topic):
    """What the subscriber's session holds and gets, up to the marker published now."""
    c = mq.RawConnection(broker.host, broker.port)
    present, code, _ = c.connect(client_id, version, clean=False,
                                 properties=expiry_property(300) if version == mq.MQTT5 else None)
    assert code == 0 and present
    sync_writes(broker, version, marker_topic)
    got = []
    while True:
        m = mq.parse_publish(c.read_packet(), version)
        c.send(mq.ack_packet(mq.PUBACK, m.packet_id, version))
        if m.topic == marker_topic:
            c.close()
            return got
        got.append((m.topic, m.payload))


@pytest.mark.parametrize("version", [mq.MQTT311, mq.MQTT5], ids=["v311", "v5"])
def test_will_of_a_client_connected_at_the_kill_is_published_after_restart(broker, version):
    subscriber = offline_subscriber(broker, version)
    client_id = unique_client_id("dies")
    dying = connect_with_will(broker, client_id, version, b"gone", will_delay_s=0)
    sync_writes(broker, version, f"{WILL_TOPIC}-sync/1")

    broker.kill()
    dying.close()  # only now: closed while the broker lived, the will would go before the kill
    broker.restart()

    # A delay of 0 (3.1.1 has no delay): published as the restarted broker starts serving, and
    # queued for the offline subscriber before the marker is.
    got = received_until_marker(broker, subscriber, version, f"{WILL_TOPIC}/marker")
    assert got == [(f"{WILL_TOPIC}/{client_id}", b"gone")]


def test_will_delay_counts_from_the_restart_and_a_return_cancels_it(broker):
    version = mq.MQTT5
    subscriber = offline_subscriber(broker, version)
    returns, leaves = unique_client_id("returns"), unique_client_id("leaves")
    returning = connect_with_will(broker, returns, version, b"returns-will", will_delay_s=3600)
    left = connect_with_will(broker, leaves, version, b"leaves-will", will_delay_s=3600)
    left.send(mq.disconnect_packet(version))  # a clean DISCONNECT: no will, none stored
    left.read_until_closed()
    sync_writes(broker, version, f"{WILL_TOPIC}-sync/1")

    broker.kill()
    returning.close()
    broker.restart()

    # Back within the delay (an hour): the session is there and its will is not published.
    back = mq.RawConnection(broker.host, broker.port)
    present, code, _ = back.connect(returns, version, clean=False,
                                    properties=expiry_property(300))
    assert code == 0 and present
    back.send(mq.disconnect_packet(version))
    back.read_until_closed()
    assert received_until_marker(broker, subscriber, version, f"{WILL_TOPIC}/marker") == []


def test_will_waits_for_the_session_end_when_its_delay_is_longer(broker):
    """Will Delay longer than the Session Expiry: the will goes when the session ends, which
    after a restart is the session's expiry counted from the restart."""
    version = mq.MQTT5
    subscriber = offline_subscriber(broker, version)
    client_id = unique_client_id("short")
    c = mq.RawConnection(broker.host, broker.port)
    _, code, _ = c.connect(client_id, version, clean=False,
                           will=mq.Will(f"{WILL_TOPIC}/{client_id}", b"at-expiry", qos=1,
                                        properties=mq.property_block(
                                            (0x18, struct.pack("!I", 3600)))),
                           properties=expiry_property(1))
    assert code == 0
    sync_writes(broker, version, f"{WILL_TOPIC}-sync/1")

    broker.kill()
    c.close()
    broker.restart()

    sub = mq.RawConnection(broker.host, broker.port)
    present, code, _ = sub.connect(subscriber, version, clean=False,
                                   properties=expiry_property(300))
    assert code == 0 and present
    m = mq.parse_publish(sub.read_packet(timeout=15), version)  # about 1 s after the restart
    assert (m.topic, m.payload) == (f"{WILL_TOPIC}/{client_id}", b"at-expiry")
    sub.send(mq.ack_packet(mq.PUBACK, m.packet_id, version))
    sub.close()
