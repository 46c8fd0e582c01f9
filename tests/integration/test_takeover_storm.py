"""Many connections racing for a few client identifiers, across shards: clean and persistent
sessions, takeovers while CONNECTs, SUBSCRIBEs and QoS 1 PUBLISHes are still in flight, and
sockets that close without waiting for anything. The broker must keep serving and stop
cleanly with no sanitizer report (the broker fixture checks both)."""
import random
import socket
import struct
import threading

import pytest

import raw_mqtt
from wait_condition import wait_until

THREADS = 10
ROUNDS = 30


def storm(broker, worker, rng):
    for i in range(ROUNDS):
        try:
            with socket.create_connection((broker.host, broker.port), timeout=5) as s:
                s.sendall(raw_mqtt.connect_packet(f"storm-{worker % 3}", clean=rng.random() < 0.5)
                          + raw_mqtt.subscribe_packet(1, [(f"storm/{worker}", 1)])
                          + raw_mqtt.publish_packet(f"storm/{(worker + 1) % THREADS}", b"x" * 10,
                                                    qos=1, packet_id=i + 1))
                if rng.random() < 0.5:
                    s.recv(100)  # sometimes wait for the CONNACK, sometimes not
        except OSError:
            pass  # a taken-over connection may be closed under us


@pytest.mark.heavy
def test_takeover_storm_leaves_the_broker_healthy(broker, clients):
    threads = [threading.Thread(target=storm, args=(broker, w, random.Random(w)))
               for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    # Still serving: a fresh subscriber gets a fresh publish.
    sub = clients.paho()
    sub.subscribe("after/storm", qos=1)
    pub = clients.paho()
    pub.publish("after/storm", b"still here", qos=1)
    wait_until(lambda: b"still here" in sub.payloads("after/storm"), 10,
               "delivery after the storm")


def random_session(broker, worker, seed, sent):
    """Connections with random MQTT 3.1.1/5.0 packet sequences pipelined behind CONNECT:
    subscriptions (including `#` and `$SYS/#`), retained and empty-retained publishes at
    every QoS, stray PUBREL/PUBACK/PUBREC, wills, DISCONNECT, and sometimes garbage."""
    r = random.Random(seed * 100 + worker)
    topics = ["a", "a/b", "b/c", "#", "a/+", "$SYS/#", "r/1", "r/2"]
    for _ in range(ROUNDS):
        version = r.choice([raw_mqtt.MQTT311, raw_mqtt.MQTT5])
        will = raw_mqtt.Will(f"will/{worker}", b"bye", qos=r.randrange(3)) if r.random() < 0.3 else None
        data = raw_mqtt.connect_packet(f"rand-{r.randrange(4)}", version=version,
                                       clean=r.random() < 0.5, keepalive=5, will=will)
        for j in range(1, r.randrange(2, 12)):
            topic = r.choice(topics)
            op = r.randrange(7)
            if op == 0:
                data += raw_mqtt.subscribe_packet(j, [(topic, r.randrange(3))], version=version)
            elif op == 1:
                body = struct.pack("!H", j) + raw_mqtt.no_properties(version) + raw_mqtt.utf8(topic)
                data += raw_mqtt.packet(raw_mqtt.UNSUBSCRIBE, 0x2, body)
            elif op in (2, 3, 4):
                name = topic.replace("#", "x").replace("+", "y").replace("$SYS", "sys")
                payload = b"" if r.random() < 0.1 else b"payload"
                data += raw_mqtt.publish_packet(name, payload, qos=r.randrange(3),
                                                retain=r.random() < 0.3, packet_id=j,
                                                version=version)
            else:
                data += raw_mqtt.ack_packet(r.choice([raw_mqtt.PUBACK, raw_mqtt.PUBREC,
                                                      raw_mqtt.PUBREL]), r.randrange(1, 5),
                                            version=version)
        if r.random() < 0.3:
            data += raw_mqtt.disconnect_packet(version)
        if r.random() < 0.1:
            data += b"\xff\xff\xff"
        try:
            with socket.create_connection((broker.host, broker.port), timeout=3) as s:
                s.sendall(data)
                sent.append(1)
                if r.random() < 0.6:
                    s.recv(4096)
        except OSError:
            pass


@pytest.mark.heavy
@pytest.mark.parametrize("seed", [1, 2])
def test_random_packet_storm_leaves_the_broker_healthy(broker, clients, seed):
    sent = []
    threads = [threading.Thread(target=random_session, args=(broker, w, seed, sent))
               for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert len(sent) > THREADS * ROUNDS // 2  # the storm really reached the broker
    sub = clients.paho()
    sub.subscribe("after/storm", qos=1)
    pub = clients.paho()
    pub.publish("after/storm", b"still here", qos=1)
    wait_until(lambda: b"still here" in sub.payloads("after/storm"), 10,
               "delivery after the storm")
