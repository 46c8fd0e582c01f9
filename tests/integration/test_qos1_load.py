"""100 publishers x 100 subscribers at QoS 1, every message counted (issue 4)."""
import collections

import pytest

from wait_condition import wait_until

CLIENTS = 100
PER_PUBLISHER = 5


@pytest.mark.heavy
def test_hundred_publishers_hundred_subscribers_qos1(clients):
    subs = [clients.paho() for _ in range(CLIENTS)]
    for i, s in enumerate(subs):  # subscriber i follows publishers i and i+1
        s.subscribe([(f"load/{i}", 1), (f"load/{(i + 1) % CLIENTS}", 1)])
    pubs = [clients.paho() for _ in range(CLIENTS)]
    for seq in range(PER_PUBLISHER):
        for p, pub in enumerate(pubs):
            pub.publish(f"load/{p}", f"{p}:{seq}".encode(), qos=1, wait=False)
    for pub in pubs:
        wait_until(lambda pub=pub: len(pub.acked) >= PER_PUBLISHER, 30, "PUBACKs")
    for i, s in enumerate(subs):
        got = s.wait_for_count(2 * PER_PUBLISHER, timeout=30)
        counts = collections.Counter(m.payload for m in got)
        expected = {f"{p}:{seq}".encode() for p in (i, (i + 1) % CLIENTS)
                    for seq in range(PER_PUBLISHER)}
        assert set(counts) == expected
        assert all(m.qos == 1 for m in got)
