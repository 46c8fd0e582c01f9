"""Publish/subscribe routing at QoS 0: filters, wildcards, fan-out, cross-shard delivery."""
import collections

import pytest
from paho.mqtt.client import topic_matches_sub

from paho_client import MQTTv5, MQTTv31, MQTTv311

TOPICS = ["fan/a/1", "fan/a/2", "fan/b/1", "fan/c"]
FILTERS = ["fan/a/1", "fan/a/+", "fan/+/1", "+/+/1", "fan/#", "#", "fan/b/#", "fan/a/1/#",
           "+/c", "fan/+"]
MESSAGES_PER_TOPIC = 5


def payload(publisher, seq, topic):
    return f"p{publisher}:{seq}:{topic}".encode()


def publisher_of(p):
    return p.split(b":")[0]


def check_delivery(sub, flt, expected_by_publisher):
    """Exactly the expected messages, each publisher's in the order it published them."""
    got = sub.received()
    for m in got:
        assert topic_matches_sub(flt, m.topic), f"{flt} got {m.topic}"
    by_publisher = collections.defaultdict(list)
    for m in got:
        by_publisher[publisher_of(m.payload)].append(m.payload)
    assert dict(by_publisher) == {k: v for k, v in expected_by_publisher.items() if v}, flt


def test_wildcard_filters_many_subscribers(clients):
    subs = []
    for i in range(20):  # every filter twice
        flt = FILTERS[i % len(FILTERS)]
        c = clients.paho()
        assert c.subscribe(flt) == [0]
        subs.append((flt, c))
    nomatch = clients.paho()
    nomatch.subscribe("fan/a/1/x/#")

    pubs = [clients.paho() for _ in range(3)]
    sent = collections.defaultdict(list)  # publisher tag -> [(topic, payload)] in order
    for seq in range(MESSAGES_PER_TOPIC):
        for topic in TOPICS:
            for p, pub in enumerate(pubs):
                body = payload(p, seq, topic)
                pub.publish(topic, body)
                sent[f"p{p}".encode()].append((topic, body))

    for flt, sub in subs:
        expected = {tag: [b for t, b in msgs if topic_matches_sub(flt, t)]
                    for tag, msgs in sent.items()}
        sub.wait_for_count(sum(len(v) for v in expected.values()))
        # Every publisher's last matching message arrived, so anything else it would have
        # been wrongly sent (duplicates, non-matching topics) is already here too.
        check_delivery(sub, flt, expected)
    assert nomatch.received() == []


def test_qos0_delivery_flags(clients):
    sub = clients.paho()
    sub.subscribe("flags/#", qos=0)
    pub = clients.paho()
    pub.publish("flags/x", b"hello", qos=0)
    [m] = sub.wait_for_count(1)
    assert (m.topic, m.payload, m.qos, m.retain) == ("flags/x", b"hello", 0, False)


@pytest.mark.heavy
def test_cross_shard_fan_out(clients):
    """16 subscribers and 16 publishers: with 2 shards some pairs must sit on different shards."""
    subs = [clients.paho() for _ in range(16)]
    for s in subs:
        s.subscribe("xs/+")
    pubs = [clients.paho() for _ in range(16)]
    per_pub = 10
    for seq in range(per_pub):
        for p, pub in enumerate(pubs):
            pub.publish(f"xs/{p}", f"p{p}:{seq}".encode())
    expected = {f"p{p}".encode(): [f"p{p}:{seq}".encode() for seq in range(per_pub)]
                for p in range(16)}
    for s in subs:
        s.wait_for_count(16 * per_pub)
        check_delivery(s, "xs/+", expected)


@pytest.mark.heavy
def test_cross_shard_single_topic_both_ways(clients):
    """Every client both publishes and subscribes on one topic: all see all."""
    peers = [clients.paho() for _ in range(8)]
    for c in peers:
        c.subscribe("chat")
    for i, c in enumerate(peers):
        c.publish("chat", f"p{i}:0".encode())
    for c in peers:
        c.wait_for_count(len(peers))
        assert sorted(c.payloads()) == sorted(f"p{i}:0".encode() for i in range(len(peers)))


def test_dollar_topics_skip_wildcards(clients):
    """A leading wildcard never matches a topic starting with '$' (MQTT 4.7.2)."""
    hash_sub, plus_sub, dollar_sub, exact_sub = (clients.paho() for _ in range(4))
    hash_sub.subscribe("#")
    plus_sub.subscribe("+/x")
    dollar_sub.subscribe("$test/#")
    exact_sub.subscribe("$test/x")
    pub = clients.paho()
    pub.publish("$test/x", b"dollar")
    pub.publish("plain/x", b"sentinel")  # same publisher: arrives after the $ message

    dollar_sub.wait_for_payload(b"dollar")
    exact_sub.wait_for_payload(b"dollar")
    hash_sub.wait_for_payload(b"sentinel")
    plus_sub.wait_for_payload(b"sentinel")
    assert hash_sub.payloads() == [b"sentinel"]
    assert plus_sub.payloads() == [b"sentinel"]
    assert dollar_sub.payloads() == [b"dollar"]
    assert exact_sub.payloads() == [b"dollar"]


def test_unsubscribe_stops_delivery(clients):
    sub = clients.paho()
    sub.subscribe([("u/#", 0), ("s/x", 0)])
    pub = clients.paho()
    pub.publish("u/a", b"before")
    pub.publish("s/x", b"sync1")
    sub.wait_for_payload(b"sync1")
    sub.unsubscribe("u/#")
    pub.publish("u/a", b"after")
    pub.publish("s/x", b"sync2")
    sub.wait_for_payload(b"sync2")
    assert sub.payloads() == [b"before", b"sync1", b"sync2"]


def test_routes_follow_subscription_changes(clients):
    """One topic published again and again (its route is cached by the publisher's shard)
    while subscribers come, change and go: every publish reaches exactly the subscribers of
    that moment."""
    pub = clients.paho()
    a, b, c = clients.paho(), clients.paho(), clients.paho()
    a.subscribe("rc-sync/a")
    pub.publish("rc/t", b"m0")  # nobody yet
    a.subscribe("rc/t")
    pub.publish("rc/t", b"m1")
    a.wait_for_payload(b"m1")
    b.subscribe("rc/+")
    pub.publish("rc/t", b"m2")
    b.wait_for_payload(b"m2")
    a.unsubscribe("rc/t")
    pub.publish("rc/t", b"m3")
    pub.publish("rc-sync/a", b"sync")  # same publisher: after m3 wherever m3 went
    a.wait_for_payload(b"sync")
    b.wait_for_payload(b"m3")
    b.disconnect()  # its session ends, subscriptions with it
    c.subscribe("rc/#", qos=1)
    pub.publish("rc/t", b"m4", qos=1)
    c.wait_for_payload(b"m4")
    assert a.payloads() == [b"m1", b"m2", b"sync"]
    assert b.payloads() == [b"m2", b"m3"]
    assert c.payloads() == [b"m4"]
    assert [m.qos for m in c.received()] == [1]


def test_overlapping_subscriptions_same_client(clients):
    """Overlapping filters of one client: at least one copy, never more than one per filter."""
    sub = clients.paho()
    sub.subscribe([("ov/a", 0), ("ov/+", 0), ("ov/#", 0)])
    pub = clients.paho()
    pub.publish("ov/a", b"m")
    pub.publish("ov/b", b"sentinel")  # matches two of the filters
    # MQTT 3.1.1 lets a broker deliver one copy or one per matching filter.
    sub.wait_for_payload(b"sentinel")
    assert 1 <= sub.payloads().count(b"m") <= 3
    assert 1 <= sub.payloads().count(b"sentinel") <= 2


def test_resubscribe_replaces_subscription(clients):
    sub = clients.paho()
    sub.subscribe("rs/t")
    sub.subscribe("rs/t")  # same filter again: still one subscription
    pub = clients.paho()
    pub.publish("rs/t", b"once")
    pub.publish("rs/t", b"twice")
    sub.wait_for_payload(b"twice")
    assert sub.payloads() == [b"once", b"twice"]


def test_mqtt5_paho_roundtrip(clients):
    sub = clients.paho(protocol=MQTTv5)
    sub.subscribe("v5/#")
    pub = clients.paho(protocol=MQTTv5)
    for i in range(5):
        pub.publish(f"v5/{i}", f"m{i}".encode())
    sub.wait_for_count(5)
    assert [(m.topic, m.payload) for m in sub.received()] == [
        (f"v5/{i}", f"m{i}".encode()) for i in range(5)]


def test_mixed_protocol_versions(clients):
    """A message crosses between 3.1, 3.1.1 and 5.0 clients unchanged."""
    subs = {v: clients.paho(protocol=v) for v in (MQTTv31, MQTTv311, MQTTv5)}
    for s in subs.values():
        s.subscribe("mix/#")
    for v in subs:
        clients.paho(protocol=v).publish("mix/t", f"from{v}".encode())
    for s in subs.values():
        s.wait_for_count(3)
        assert sorted(s.payloads()) == sorted(f"from{v}".encode() for v in subs)
