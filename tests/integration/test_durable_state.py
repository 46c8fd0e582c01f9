"""Durable state (issue 13): with durability = "sync" what the broker acknowledged survives
kill -9: QoS 1 and 2 messages queued for an offline persistent session (3.1.1 clean session
false, MQTT 5 Session Expiry), the session itself with session present, retained messages and
retained clears."""
import pytest

from paho_client import MQTTv5, MQTTv311, PahoClient, unique_client_id

PROTOCOLS = {"v311": MQTTv311, "v5": MQTTv5}


@pytest.fixture
def paho():
    made = []

    def make(broker, **kw):
        c = PahoClient(broker.host, broker.port, **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def kill_and_restart(broker):
    broker.kill()
    broker.restart()
    # The log holds every launch, each after its "$ command" line: this one's says it restored.
    assert "restored" in broker.log_text().split("\n$ ")[-1]


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=PROTOCOLS.keys())
@pytest.mark.parametrize("shards", [1, 2])
def test_acknowledged_messages_to_offline_session_survive_kill(durable, paho, protocol, shards):
    broker = durable(shards=shards)
    cid = unique_client_id("dur")
    expiry = 3600 if protocol == MQTTv5 else None
    sub = paho(broker, client_id=cid, clean_session=False, protocol=protocol,
               session_expiry=expiry).connect()
    sub.subscribe("dur/#", 2)
    sub.disconnect()

    pub = paho(broker, protocol=protocol).connect()
    sent = []
    for i in range(20):  # each returns after PUBACK / PUBCOMP: on disk by then
        qos = 1 if i % 2 == 0 else 2
        pub.publish(f"dur/{i}", f"m{i}".encode(), qos=qos)
        sent.append((f"m{i}".encode(), qos))
    pub.close()

    kill_and_restart(broker)
    again = paho(broker, client_id=cid, clean_session=False, protocol=protocol,
                 session_expiry=expiry)
    again.connect()
    assert again.connack == (True, 0), "the session must be present after the restart"
    got = again.wait_for_count(len(sent))
    assert sorted((m.payload, m.qos) for m in got) == sorted(sent)
    # The subscription came back with the session: live messages flow too.
    live = paho(broker, protocol=protocol).connect()
    live.publish("dur/live", b"live", qos=1)
    again.wait_for_payload(b"live")


def test_in_flight_message_survives_kill(durable, paho):
    """A message sent to the subscriber but not acknowledged is sent again after a restart."""
    broker = durable(shards=2)
    cid = unique_client_id("inf")
    sub = paho(broker, client_id=cid, clean_session=False).connect()
    sub.subscribe("inf/t", 1)
    sub.client.on_message = lambda *a: None  # paho still acks: drop the socket first instead
    sub.drop()
    pub = paho(broker).connect()
    pub.publish("inf/t", b"one", qos=1)
    pub.close()
    kill_and_restart(broker)
    again = paho(broker, client_id=cid, clean_session=False).connect()
    assert again.connack == (True, 0)
    assert again.wait_for_count(1)[0].payload == b"one"


def test_retained_and_retained_clear_survive_kill(durable, paho):
    broker = durable(shards=2)
    pub = paho(broker).connect()
    pub.publish("ret/kept", b"kept", qos=1, retain=True)
    pub.publish("ret/gone", b"soon cleared", qos=1, retain=True)
    pub.publish("ret/gone", b"", qos=1, retain=True)  # a clear
    pub.publish("ret/q0", b"qos0 retained", qos=0, retain=True)
    pub.publish("ret/sync", b"after", qos=1)  # its PUBACK follows every write before it
    pub.close()

    kill_and_restart(broker)
    assert "restored 2 retained messages" in broker.log_text()
    sub = paho(broker).connect()
    sub.subscribe("ret/#", 1)
    got = sub.wait_for_count(2)
    assert sorted(m.payload for m in got) == [b"kept", b"qos0 retained"]
    assert all(m.retain for m in got)


def test_clean_session_leaves_nothing_behind(durable, paho):
    broker = durable(shards=1)
    cid = unique_client_id("cln")
    sub = paho(broker, client_id=cid, clean_session=False).connect()
    sub.subscribe("cln/t", 1)
    sub.disconnect()
    # A clean session ends the stored one.
    paho(broker, client_id=cid, clean_session=True).connect().disconnect()
    pub = paho(broker).connect()
    pub.publish("cln/t", b"nobody", qos=1)
    kill_and_restart(broker)
    assert "0 sessions" in broker.log_text().split("restored")[-1]
    again = paho(broker, client_id=cid, clean_session=False).connect()
    assert again.connack == (False, 0)


def test_a_store_that_cannot_be_opened_stops_start_up(tmp_path):
    import subprocess

    from broker_process import shardmq_binary
    (tmp_path / "data").write_text("not a database directory")
    conf = tmp_path / "shardmq.toml"
    conf.write_text(f'[[listener]]\nurl = "mqtt://127.0.0.1:0"\n\n[storage]\n'
                    f'durability = "sync"\npath = "{tmp_path / "data"}"\n')
    p = subprocess.run([str(shardmq_binary()), "--config", str(conf), "--io", "epoll"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert f"cannot open the store at '{tmp_path / 'data'}'" in p.stderr + p.stdout


def test_queued_message_keeps_its_retain_flag_and_subscription_identifier(durable):
    """A retained message queued for an offline MQTT 5 session whose subscription has Retain As
    Published and a Subscription Identifier comes back after kill -9 as it would have gone."""
    import struct

    import raw_mqtt as mq

    broker = durable(shards=1)  # one shard: the PUBACK below follows every write before it
    cid = unique_client_id("flags")
    expiry = mq.property_block((0x11, struct.pack("!I", 600)))
    sub = mq.RawConnection(broker.host, broker.port)
    assert sub.connect(cid, mq.MQTT5, clean=False, properties=expiry)[1] == 0
    body = (struct.pack("!H", 1) + mq.property_block((0x0B, mq.varint(5)))  # Subscription Id 5
            + mq.utf8("flags/#") + bytes([1 | 0x08]))  # QoS 1, Retain As Published
    sub.send(mq.packet(mq.SUBSCRIBE, 0x2, body))
    assert sub.read_packet().type == mq.SUBACK
    sub.send(mq.disconnect_packet(mq.MQTT5))
    sub.read_until_closed()

    pub = mq.connected(broker.host, broker.port, unique_client_id("pub"), mq.MQTT5)
    pub.send(mq.publish_packet("flags/t", b"kept", qos=1, retain=True, packet_id=1,
                               version=mq.MQTT5))
    assert pub.read_packet().type == mq.PUBACK
    pub.close()

    kill_and_restart(broker)
    again = mq.RawConnection(broker.host, broker.port)
    present, code, _ = again.connect(cid, mq.MQTT5, clean=False, properties=expiry)
    assert code == 0 and present
    p = again.read_packet()
    m = mq.parse_publish(p, mq.MQTT5)
    assert (m.topic, m.payload, m.retain) == ("flags/t", b"kept", True)
    topic_len = struct.unpack_from("!H", p.body)[0]
    props = mq.v5_properties(p.body, 2 + topic_len + 2)
    assert mq.read_varint(props[0x0B], 0)[0] == 5, props
    again.close()


def test_shared_subscription_messages_to_offline_members_survive_kill(durable, paho):
    """Three shards: a shared group's owner hands each message to a member homed wherever its
    client id puts it, often a third shard; the PUBACK waits for that shard's write too."""
    broker = durable(shards=3)
    members = [unique_client_id(f"shm{i}") for i in range(4)]
    for cid in members:
        m = paho(broker, client_id=cid, clean_session=False, protocol=MQTTv5,
                 session_expiry=3600).connect()
        m.subscribe("$share/g/shd/#", 1)
        m.disconnect()
    pubs = [paho(broker, protocol=MQTTv5).connect() for _ in range(3)]
    sent = set()
    for i in range(60):  # each returns after its PUBACK
        payload = f"s{i}".encode()
        pubs[i % 3].publish(f"shd/{i}", payload, qos=1)
        sent.add(payload)
    for p in pubs:
        p.close()

    kill_and_restart(broker)
    got = set()
    for cid in members:
        again = paho(broker, client_id=cid, clean_session=False, protocol=MQTTv5,
                     session_expiry=3600).connect()
        assert again.connack == (True, 0)
        # Read what its session holds: a marker published to it alone comes after.
        marker = f"end-{cid}".encode()
        again.subscribe(f"shd-marker/{cid}", 1)
        paho(broker, protocol=MQTTv5).connect().publish(f"shd-marker/{cid}", marker, qos=1)
        again.wait_for_payload(marker)
        got |= {payload for payload in again.payloads() if payload != marker}
        again.close()
    assert sent <= got, f"lost: {sorted(sent - got)}"
