"""Many connections racing for a few client identifiers, across shards: clean and persistent
sessions, takeovers while CONNECTs, SUBSCRIBEs and QoS 1 PUBLISHes are still in flight, and
sockets that close without waiting for anything. The broker must keep serving and stop
cleanly with no sanitizer report (the broker fixture checks both)."""
import random
import socket
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
