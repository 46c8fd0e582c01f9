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

    def updates_seen():
        msgs = sys_sub.received()
        # A non-retained copy is a periodic publish made after both subscriptions existed.
        live = {m.topic for m in msgs if not m.retain}
        # Counts may be republished only on change, so wait for one including both clients.
        counts = [int(m.payload) for m in msgs if m.topic == "$SYS/broker/clients/connected"]
        return needed <= {m.topic for m in msgs} and "$SYS/broker/uptime" in live and \
            max(counts, default=0) >= 2
    wait_until(updates_seen, 15, "$SYS uptime and clients/connected counting both clients")
    assert not [m.topic for m in hash_sub.received() if m.topic.startswith("$")]
