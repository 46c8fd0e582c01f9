"""MQTT 5 shared subscriptions ($share/{group}/{filter}) across shards: each message matching
a group reaches exactly one member of it, whichever shard the members' sessions live on.

The tests marked `shardmq_only` use shardmq's configuration or check a deliberate difference
from Mosquitto 2.0.11, which queues to offline members, loses what a leaving member held,
sends retained messages on a new shared subscription, grants No Local on one, and accepts
"$share/g" and "$share//x". The rest run against Mosquitto too (BROKER=mosquitto)."""
import collections
import ctypes
import itertools
import socket
import threading
import time

import pytest

import raw_mqtt
from broker_process import broker_kind
from paho_client import MQTTv5, MQTTv311
from raw_mqtt import MQTT5, MQTT311
from wait_condition import wait_until

pytestmark = pytest.mark.heavy  # two shards, both io backends

shardmq_only = pytest.mark.skipif(broker_kind() == "mosquitto",
                                  reason="shardmq behaves differently here on purpose")

_xxhash = ctypes.CDLL("libxxhash.so.0")
_xxhash.XXH3_64bits.restype = ctypes.c_uint64
_xxhash.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_ids = itertools.count()


def home_shard(client_id, shards=2):
    """The shard a session lives on: XXH3_64(client id) % shards (connect_flow.cpp)."""
    b = client_id.encode()
    return _xxhash.XXH3_64bits(b, len(b)) % shards


def client_id_on(shard, prefix="m", shards=2):
    while True:
        cid = f"{prefix}{next(_ids)}"
        if home_shard(cid, shards) == shard:
            return cid


def settle():
    """Room for a wrong extra delivery to show up; nothing is decided on time."""
    time.sleep(0.3)


def members(clients, group, filt, n, qos=1, protocol=MQTTv5, **kw):
    """n members of $share/{group}/{filt}, alternating home shards 0 and 1."""
    out = []
    for i in range(n):
        c = clients.paho(client_id=client_id_on(i % 2), protocol=protocol, **kw)
        assert c.subscribe(f"$share/{group}/{filt}", qos) == [qos]
        out.append(c)
    return out


def payloads(cs):
    return [m.payload for c in cs for m in c.messages]


def test_each_group_gets_each_message_once(clients):
    g1 = members(clients, "g1", "sh/+/t", 3)
    g2 = members(clients, "g2", "sh/#", 2)
    plain = clients.paho(protocol=MQTTv5)
    plain.subscribe("sh/#", 1)
    pub = clients.paho(protocol=MQTTv5)
    n = 200
    for i in range(n):
        pub.publish(f"sh/{i % 7}/t", f"m{i}".encode(), qos=1, wait=False)
    wait_until(lambda: len(pub.acked) >= n, 30, "publisher acks")
    expected = sorted(f"m{i}".encode() for i in range(n))
    for group in (g1, g2):
        wait_until(lambda group=group: len(payloads(group)) >= n, 30, "group deliveries")
    plain.wait_for_count(n, timeout=30)
    settle()
    assert sorted(payloads(g1)) == expected
    assert sorted(payloads(g2)) == expected
    assert sorted(m.payload for m in plain.messages) == expected
    for c in g1 + g2:
        assert c.messages, f"{c.client_id} got nothing"


def test_round_robin_balance_four_members_two_shards(clients):
    group = members(clients, "bal", "bal/t", 4, qos=0)
    assert sorted(home_shard(c.client_id) for c in group) == [0, 0, 1, 1]
    pub = clients.paho(protocol=MQTTv5)
    n = 10000
    for i in range(n):
        pub.publish("bal/t", str(i).encode(), qos=1 if i % 100 == 99 else 0, wait=False)
    wait_until(lambda: len(pub.acked) >= n, 60, "publisher done")
    wait_until(lambda: len(payloads(group)) >= n, 60, "all deliveries")
    settle()
    counts = [len(c.messages) for c in group]
    assert sum(counts) == n
    for c in counts:
        assert abs(c - n / 4) <= 0.05 * n / 4, counts
    assert len(set(payloads(group))) == n


def test_mqtt311_and_mqtt5_members_in_one_group(clients):
    a = members(clients, "mix", "mix/t", 1, protocol=MQTTv311)[0]
    b = clients.paho(client_id=client_id_on(1), protocol=MQTTv5)
    assert b.subscribe("$share/mix/mix/t", 1) == [1]
    pub = clients.paho()
    n = 40
    for i in range(n):
        pub.publish("mix/t", f"x{i}".encode(), qos=1, wait=False)
    wait_until(lambda: len(a.messages) + len(b.messages) >= n, 20, "deliveries")
    settle()
    assert sorted(payloads([a, b])) == sorted(f"x{i}".encode() for i in range(n))
    assert a.messages and b.messages


def test_unsubscribed_member_gets_no_more(clients):
    a, b = members(clients, "un", "un/t", 2)
    a.unsubscribe("$share/un/un/t")
    pub = clients.paho()
    for i in range(10):
        pub.publish("un/t", f"u{i}".encode(), qos=1)
    b.wait_for_count(10, timeout=20)
    settle()
    assert a.messages == []


def test_granted_qos_and_subscription_identifier(clients):
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    m = clients.paho(client_id=client_id_on(1), protocol=MQTTv5)
    props = Properties(PacketTypes.SUBSCRIBE)
    props.SubscriptionIdentifier = 42
    rc, mid = m.client.subscribe("$share/sid/sid/t", 1, properties=props)
    wait_until(lambda: mid in m.subacks, 10, "SUBACK")
    assert m.subacks[mid] == [1]
    pub = clients.paho(protocol=MQTTv5)
    pub.publish("sid/t", b"two", qos=2)
    [msg] = m.wait_for_count(1)
    assert msg.qos == 1  # the lower of the publish's and the granted QoS
    assert m.subscription_ids == [[42]]


@shardmq_only
def test_no_retained_messages_on_a_new_shared_subscription(clients):
    """MQTT 5 §4.8.2; Mosquitto 2.0.11 sends them."""
    pub = clients.paho()
    pub.publish("ret/t", b"kept", qos=1, retain=True)
    plain = clients.paho()
    plain.subscribe("ret/t", 1)
    plain.wait_for_count(1)  # the retained message is there
    shared = members(clients, "ret", "ret/t", 1)[0]
    pub.publish("ret/t", b"live", qos=1)
    shared.wait_for_count(1)
    settle()
    assert [m.payload for m in shared.messages] == [b"live"]


@shardmq_only
def test_no_local_on_a_shared_subscription_is_a_protocol_error(clients):
    """MQTT 5 §3.8.3.1; Mosquitto 2.0.11 grants it."""
    c = clients.raw()
    c.connect("nolocal", MQTT5)
    body = b"\x00\x01" + b"\x00" + raw_mqtt.utf8("$share/g/nl") + bytes([0x04 | 1])
    c.send(raw_mqtt.packet(raw_mqtt.SUBSCRIBE, 0x2, body))
    got = c.read_until_closed()
    assert got and got[-1].type == raw_mqtt.DISCONNECT and got[-1].body[0] == 0x82


@shardmq_only
@pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["v311", "v5"])
@pytest.mark.parametrize("bad", ["$share/a+b/x", "$share/g#/x", "$share/g", "$share//x",
                                 "$share/g/"])
def test_bad_share_name_is_refused(clients, version, bad):
    """Refused alone in the SUBACK (5.0: 0x8F Topic Filter invalid; 3.1.1: 0x80), the other
    filter granted and the connection kept. Mosquitto 2.0.11 accepts the last three and closes
    the connection on the first two (DISCONNECT 0x81)."""
    c = clients.raw()
    c.connect("badshare", version)
    assert c.subscribe([(bad, 1), ("good/one", 1)]) == [0x8F if version == MQTT5 else 0x80, 1]
    assert c.subscribe([("still/here", 0)], packet_id=2) == [0]


def test_mqtt311_member(clients):
    """3.1.1 clients may use $share too (as Mosquitto allows)."""
    c = clients.raw()
    c.connect(client_id_on(0), MQTT311)
    assert c.subscribe([("$share/v3/v3/t", 1)]) == [1]


@shardmq_only
def test_offline_member_is_skipped(clients):
    away = clients.paho(client_id=client_id_on(0), protocol=MQTTv311, clean_session=False)
    assert away.subscribe("$share/off/off/t", 1) == [1]
    assert away.subscribe(f"sync/{away.client_id}", 1) == [1]
    away.disconnect()
    here = members(clients, "off", "off/t", 1)[0]
    pub = clients.paho()
    n = 20
    for i in range(n):
        pub.publish("off/t", f"o{i}".encode(), qos=1)
    here.wait_for_count(n, timeout=20)
    back = clients.paho(client_id=away.client_id, protocol=MQTTv311, clean_session=False)
    assert back.connack[0], "session kept"
    pub.publish(f"sync/{away.client_id}", b"sync", qos=1)
    wait_until(lambda: any(m.topic.startswith("sync/") for m in back.messages), 10, "sync")
    assert [m.payload for m in back.messages] == [b"sync"]  # nothing was queued for it
    assert len(here.messages) == n


@shardmq_only
@pytest.mark.broker_options(shardmq_config="[limits]\nmax_inflight = 2\n")
def test_qos1_of_a_member_whose_session_ends_goes_to_another(clients):
    """A member that never acknowledges holds 2 messages in flight and the rest queued; when
    its clean session ends they all go to the other member (MQTT 5 §4.8.2)."""
    silent = clients.raw()
    silent.connect(client_id_on(0), MQTT311)
    assert silent.subscribe([("$share/rd/rd/t", 1)]) == [1]
    other = members(clients, "rd", "rd/t", 1)[0]
    pub = clients.paho()
    n = 20
    for i in range(n):
        pub.publish("rd/t", f"r{i}".encode(), qos=1)
    first = silent.read_publish()  # it received some, acknowledged none
    assert first.qos == 1
    wait_until(lambda: len(other.messages) >= n // 2, 20, "the other member's share")
    silent.close()  # no DISCONNECT: the clean session ends with the connection
    wait_until(lambda: len({m.payload for m in other.messages}) >= n, 20, "redelivery")
    assert {m.payload for m in other.messages} == {f"r{i}".encode() for i in range(n)}


@shardmq_only
@pytest.mark.broker_options(shardmq_config="[mqtt]\nshared_subscriptions = false\n")
def test_switched_off(clients):
    v5 = clients.paho(protocol=MQTTv5)
    assert v5.connack_properties.SharedSubscriptionAvailable == 0
    assert v5.subscribe("$share/g/off/t", 1) == [0x9E]
    v3 = clients.paho(protocol=MQTTv311)
    assert v3.subscribe("$share/g/off/t", 1) == [0x80]


@shardmq_only
def test_connack_says_available(clients):
    v5 = clients.paho(protocol=MQTTv5)
    assert v5.connack_properties.SharedSubscriptionAvailable == 1


@shardmq_only
@pytest.mark.broker_options(
    shardmq_config='[mqtt]\nshared_subscription_strategy = "sticky"\n')
def test_sticky_sends_one_publishers_messages_to_one_member(clients):
    group = members(clients, "st", "st/t", 3)
    pubs = [clients.paho(client_id=client_id_on(i % 2, "p")) for i in range(6)]
    n = 15
    for i in range(n):
        for p, pub in enumerate(pubs):
            pub.publish("st/t", f"{p}:{i}".encode(), qos=1, wait=False)
    for pub in pubs:
        wait_until(lambda pub=pub: len(pub.acked) >= n, 20, "publisher acks")
    wait_until(lambda: len(payloads(group)) >= n * len(pubs), 20, "deliveries")
    receivers = collections.defaultdict(set)
    for c in group:
        for m in c.messages:
            receivers[m.payload.split(b":")[0]].add(c.client_id)
    assert len(receivers) == len(pubs)
    assert all(len(r) == 1 for r in receivers.values()), receivers
    # In order, per publisher.
    for c in group:
        for p in range(len(pubs)):
            mine = [m.payload for m in c.messages if m.payload.startswith(f"{p}:".encode())]
            assert mine == sorted(mine, key=lambda x: int(x.split(b":")[1]))


@shardmq_only
@pytest.mark.broker_options(
    shardmq_config='[mqtt]\nshared_subscription_strategy = "local_first"\n')
def test_local_first_prefers_a_member_homed_on_the_publishing_shard(clients):
    """The publisher's socket shard is where the kernel put it, so the test reads which
    member got the messages rather than predicting it: all go to one member of the two,
    and each message once."""
    group = members(clients, "lf", "lf/t", 2)
    pub = clients.paho(client_id=client_id_on(0, "p"))
    n = 30
    for i in range(n):
        pub.publish("lf/t", f"l{i}".encode(), qos=1)
    wait_until(lambda: len(payloads(group)) >= n, 20, "deliveries")
    settle()
    assert sorted(payloads(group)) == sorted(f"l{i}".encode() for i in range(n))
    assert sorted(len(c.messages) for c in group) == [0, n]


@shardmq_only
def test_members_coming_and_going_lose_no_qos1_message(clients):
    """Members that join, take messages, never acknowledge them and vanish, on both shards,
    while a publisher keeps publishing: everything they held (in flight, queued, or on its
    way to them) reaches the members that stay."""
    stable = members(clients, "ch", "ch/t", 2)
    pub = clients.paho()
    n = 300
    done = threading.Event()

    def publish():
        for i in range(n):
            pub.publish("ch/t", f"c{i}".encode(), qos=1)
        done.set()

    t = threading.Thread(target=publish)
    t.start()
    cycles = taken = 0
    while not done.is_set() or cycles < 4:
        churner = raw_mqtt.RawConnection(clients.broker.host, clients.broker.port)
        churner.connect(client_id_on(cycles % 2, "c"), MQTT311)
        assert churner.subscribe([("$share/ch/ch/t", 1)]) == [1]
        try:
            for _ in range(3):
                churner.read_publish(timeout=0.5)
                taken += 1
        except (socket.timeout, raw_mqtt.Closed):
            pass
        churner.close()
        cycles += 1
    t.join()
    assert taken, "the churning members took none: nothing was tested"
    wait_until(lambda: len(pub.acked) >= n, 30, "publisher acks")
    expected = {f"c{i}".encode() for i in range(n)}
    wait_until(lambda: set(payloads(stable)) >= expected, 30,
               "every message at the members that stayed")
