"""$SYS statistics (issue 4): visible to $SYS/# subscribers only."""
import pytest

from wait_condition import wait_until


@pytest.mark.broker_options(sys_interval=1)
def test_sys_topics_published_and_hidden_from_hash(clients):
    hash_sub = clients.paho()
    hash_sub.subscribe("#")
    sys_sub = clients.paho()
    sys_sub.subscribe("$SYS/#")
    needed = {"$SYS/broker/uptime", "$SYS/broker/clients/connected"}

    def live_update_seen():
        msgs = sys_sub.received()
        # A non-retained copy is a periodic publish made after both subscriptions existed.
        live = {m.topic for m in msgs if not m.retain}
        return needed <= {m.topic for m in msgs} and "$SYS/broker/uptime" in live
    wait_until(live_update_seen, 15, "$SYS uptime and clients/connected")

    connected = [m for m in sys_sub.received() if m.topic == "$SYS/broker/clients/connected"]
    assert int(connected[-1].payload) >= 2
    assert not [m.topic for m in hash_sub.received() if m.topic.startswith("$")]
