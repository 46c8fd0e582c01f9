"""$SYS/broker/...: Mosquitto's names and meanings, each figure checked against its definition
by the traffic real clients make, and the tree visible to $SYS subscribers only.

Exact counts use deltas between two publishes of the figure seen by one watching client. A
figure of what the broker sent also counts what it sent the watcher: the watcher subscribes to
that one topic, so between two live values v_i and v_j the broker sent it exactly the messages
v_i .. v_(j-1), and the test adds those. Every client here has a keepalive longer than the
test, so no PINGREQ joins the counts. Runs against Mosquitto as well (BROKER=mosquitto)."""
import pytest
from paho.mqtt.client import MQTTv5

from broker_process import broker_kind
from wait_condition import wait_until

QUIET = 600  # keepalive: no PINGREQ during a test
K = 20  # QoS 1 messages of the traffic
TOPIC, PAYLOAD = "sys/t", b"0123456789"
# On the wire (3.1.1): PUBLISH QoS 1 = 1 + 1 (length) + 2 + 5 (topic) + 2 (id) + 10 = 21,
# PUBACK = 4.
PUBLISH_BYTES, PUBACK_BYTES = 21, 4

# The figures are summed over shards: two shards, both I/O backends.
pytestmark = [pytest.mark.broker_options(sys_interval=1), pytest.mark.heavy]


UPTIME = "$SYS/broker/uptime"


class Watcher:
    """A client subscribed to some $SYS topics: the values published since it subscribed.
    With rounds, it also follows the uptime, published every interval by both brokers, to
    know when a whole round has passed (Mosquitto publishes other figures only when they
    change, so their retained copy is the current value)."""

    def __init__(self, clients, *topics, rounds=False):
        self.client = clients.paho(keepalive=QUIET)
        for t in topics + ((UPTIME,) if rounds else ()):
            self.client.subscribe(t)

    def settle(self):
        """Waits until a whole round was published after the subscription (and so after every
        client connected before it); the figures' latest values are then a baseline."""
        self.wait_live(UPTIME, 2)

    def live(self, topic):
        """Payloads of the publishes made after the subscription (not the retained copy)."""
        return [m.payload.decode() for m in self.client.received()
                if m.topic == topic and not m.retain]

    def latest(self, topic):
        vals = [m.payload.decode() for m in self.client.received() if m.topic == topic]
        return vals[-1] if vals else None

    def number(self, topic):
        v = self.latest(topic)
        return None if v is None else float(v)

    def wait_live(self, topic, n=1, timeout=15):
        """The first n live values (waits for them)."""
        wait_until(lambda: len(self.live(topic)) >= n, timeout, f"{n} publishes of {topic}")
        return self.live(topic)

    def wait_for(self, topic, predicate, what, timeout=15):
        """Waits until the topic's latest value satisfies predicate(float); returns it."""
        wait_until(lambda: (v := self.number(topic)) is not None and predicate(v), timeout,
                   f"{topic} to be {what} (last {self.latest(topic)})")
        return self.number(topic)


def qos1_traffic(clients):
    """K QoS 1 messages from a publisher to a subscriber, both connected beforehand; returns
    a function that makes the traffic and waits until it is done."""
    sub = clients.paho(keepalive=QUIET)
    sub.subscribe(TOPIC, qos=1)
    pub = clients.paho(keepalive=QUIET)

    def run():
        for _ in range(K):
            pub.publish(TOPIC, PAYLOAD, qos=1)  # waits for its PUBACK
        sub.wait_for_count(K)
        # The subscriber's last PUBACK: paho sends it as the message arrives; a round trip
        # through the broker after it (a PINGREQ would count) is not wanted, so wait on the
        # broker's figures instead (the callers' wait_for).
    return run


def publish_size(topic, payload):
    """A QoS 0 PUBLISH of 3.1.1 on the wire."""
    remaining = 2 + len(topic.encode()) + len(payload.encode())
    return 1 + (1 if remaining < 128 else 2) + remaining


@pytest.mark.parametrize("figure,per_message", [
    ("messages/sent", lambda topic, value: 1),  # packets of every type
    ("publish/messages/sent", lambda topic, value: 1),
    ("bytes/sent", publish_size),
    ("publish/bytes/sent", lambda topic, value: len(value.encode())),
])
def test_sent_figures_count_exactly_what_the_broker_wrote(clients, figure, per_message):
    topic = f"$SYS/broker/{figure}"
    watcher = Watcher(clients, topic)
    traffic = qos1_traffic(clients)
    start = len(watcher.wait_live(topic, 2)) - 1  # the second: every $SYS topic exists by then
    traffic()
    ours = {"messages/sent": 2 * K,  # PUBACKs to the publisher, PUBLISHes to the subscriber
            "publish/messages/sent": K,
            "bytes/sent": K * (PUBACK_BYTES + PUBLISH_BYTES),
            "publish/bytes/sent": K * len(PAYLOAD)}[figure]

    def matches():
        vals = watcher.live(topic)
        for j in range(start + 1, len(vals)):
            to_watcher = sum(per_message(topic, v) for v in vals[start:j])
            if int(vals[j]) - int(vals[start]) == ours + to_watcher:
                return True
        return False
    wait_until(matches, 15, f"{topic} to grow by {ours} and what the watcher got "
               f"(values {watcher.live(topic)[start:]})")
    # Later values keep that relation: nothing else is sent.
    n = len(watcher.live(topic))
    vals = watcher.wait_live(topic, n + 1)
    assert int(vals[n]) - int(vals[start]) == ours + sum(
        per_message(topic, v) for v in vals[start:n])


def test_received_figures_count_exactly_what_the_clients_sent(clients):
    figures = {"messages/received": 2 * K,  # PUBLISHes and the subscriber's PUBACKs
               "publish/messages/received": K,
               "bytes/received": K * (PUBLISH_BYTES + PUBACK_BYTES),
               "publish/bytes/received": K * len(PAYLOAD)}
    topics = [f"$SYS/broker/{f}" for f in figures]
    traffic = qos1_traffic(clients)
    watcher = Watcher(clients, *topics, rounds=True)
    watcher.settle()
    before = {t: watcher.number(t) for t in topics}
    traffic()
    for f, delta in figures.items():
        t = f"$SYS/broker/{f}"
        watcher.wait_for(t, lambda v, t=t, delta=delta: v == before[t] + delta,
                         f"{before[t]:g} + {delta}")


def test_clients_connected_disconnected_total_maximum_expired(clients):
    prefix = "$SYS/broker/clients/"
    watcher = Watcher(clients, prefix + "#")

    def wait(name, value):
        watcher.wait_for(prefix + name, lambda v: v == value, str(value))

    wait("connected", 1)  # the watcher
    wait("disconnected", 0)
    durable = clients.paho(client_id="sys-durable", clean_session=False)
    clean = clients.paho()
    expiring = clients.paho(protocol=MQTTv5, session_expiry=1)
    wait("connected", 4)
    wait("total", 4)
    durable.disconnect()  # its session stays: a disconnected client
    wait("connected", 3)
    wait("disconnected", 1)
    wait("total", 4)
    clean.disconnect()  # its session ends with it
    wait("connected", 2)
    wait("total", 3)
    expiring.disconnect()  # disconnected for a second, then expired
    wait("expired", 1)
    wait("disconnected", 1)
    wait("total", 2)
    assert watcher.number(prefix + "maximum") >= 4
    maxima = [int(v) for v in watcher.live(prefix + "maximum")]
    assert maxima == sorted(maxima), "the maximum never goes down"
    durable2 = clients.paho(client_id="sys-durable", clean_session=False)  # back
    wait("disconnected", 0)
    wait("connected", 2)
    durable2.disconnect()


def test_messages_stored_and_retained_count(clients):
    stored, store_count = "$SYS/broker/messages/stored", "$SYS/broker/store/messages/count"
    retained = "$SYS/broker/retained messages/count"
    pub = clients.paho(keepalive=QUIET)
    watcher = Watcher(clients, stored, retained, store_count, rounds=True)
    watcher.settle()  # $SYS's own retained topics all exist by then
    watcher.wait_live(UPTIME, 3)
    base_stored, base_retained = watcher.number(stored), watcher.number(retained)
    for i in range(3):
        pub.publish(f"keep/{i}", b"r", qos=1, retain=True)
    watcher.wait_for(retained, lambda v: v == base_retained + 3, "3 more")
    watcher.wait_for(stored, lambda v: v == base_stored + 3, "3 more: the retained ones")
    away = clients.paho(client_id="sys-away", clean_session=False)
    away.subscribe("queue/#", qos=1)
    away.disconnect()
    for _ in range(4):
        pub.publish("queue/x", b"q", qos=1)
    watcher.wait_for(stored, lambda v: v == base_stored + 7, "3 retained + 4 queued")
    watcher.wait_for(store_count, lambda v: v == base_stored + 7, "as messages/stored")
    back = clients.paho(client_id="sys-away", clean_session=False)
    back.wait_for_count(4)
    watcher.wait_for(stored, lambda v: v == base_stored + 3, "the queue delivered")
    pub.publish("keep/0", b"", qos=1, retain=True)  # clears one
    watcher.wait_for(retained, lambda v: v == base_retained + 2, "one cleared")
    back.disconnect()


def test_publish_messages_dropped(clients):
    dropped = "$SYS/broker/publish/messages/dropped"
    watcher = Watcher(clients, dropped, rounds=True)
    watcher.settle()
    base = watcher.number(dropped) or 0
    # An offline persistent session's queue holds max_queued_messages (1000 by default in
    # both brokers); QoS 1 past that is dropped.
    away = clients.paho(client_id="sys-drop", clean_session=False)
    away.subscribe("drop/#", qos=1)
    away.disconnect()
    pub = clients.paho(keepalive=QUIET)
    extra = 25
    mids = [pub.publish("drop/x", b"d", qos=1, wait=False) for _ in range(1000 + extra)]
    wait_until(lambda: set(mids) <= pub.acked, 60, "every PUBACK")
    watcher.wait_for(dropped, lambda v: v == base + extra, f"{base:g} + {extra}")


def test_subscriptions_count(clients):
    count = "$SYS/broker/subscriptions/count"
    watcher = Watcher(clients, count)
    base = watcher.wait_for(count, lambda v: v >= 1, "counting the watcher's")
    c = clients.paho()
    for f in ("a/1", "a/+", "b/#"):
        c.subscribe(f)
    watcher.wait_for(count, lambda v: v == base + 3, f"{base:g} + 3")
    c.unsubscribe("a/+")
    watcher.wait_for(count, lambda v: v == base + 2, f"{base:g} + 2")
    c.disconnect()  # a clean session's subscriptions end with it
    watcher.wait_for(count, lambda v: v == base, f"{base:g} again")
    d = clients.paho(client_id="sys-subs", clean_session=False)
    d.subscribe("d/1")
    d.disconnect()  # an offline persistent session keeps its subscriptions
    watcher.wait_for(count, lambda v: v == base + 1, f"{base:g} + 1, offline")


def test_heap_current_and_maximum(clients):
    current, maximum = "$SYS/broker/heap/current", "$SYS/broker/heap/maximum"
    watcher = Watcher(clients, current, maximum)
    watcher.wait_live(maximum, 2)
    base = watcher.number(current)
    assert base > 0
    big, count = 1 << 18, 16
    pub = clients.paho()
    for i in range(count):  # 4 MiB held as retained messages
        pub.publish(f"heap/{i}", b"h" * big, qos=1, retain=True)
    peak = watcher.wait_for(current, lambda v: v >= base + count * big, "4 MiB more")
    for i in range(count):
        pub.publish(f"heap/{i}", b"", qos=1, retain=True)
    watcher.wait_for(maximum, lambda v: v >= peak, f"at least the peak {peak:g}")
    vals = [m for m in watcher.client.received() if m.topic in (current, maximum)]
    highest = 0
    for m in vals:  # each maximum is at least every current value published before it
        v = int(m.payload)
        if m.topic == current:
            highest = max(highest, v)
        else:
            assert v >= highest, f"heap/maximum {v} below an earlier heap/current {highest}"


def test_load_averages_follow_their_definition(clients):
    """A burst of N publishes in a quiet broker: each average is a per-minute rate smoothed
    over its period, so afterwards 0 < 15min < 5min < 1min <= N."""
    names = [f"$SYS/broker/load/publish/received/{p}" for p in ("1min", "5min", "15min")]
    pub = clients.paho(keepalive=QUIET)
    watcher = Watcher(clients, *names, rounds=True)
    watcher.settle()
    watcher.wait_live(UPTIME, 3)  # shardmq's averages start from its second round
    assert [watcher.number(t) or 0 for t in names] == [0, 0, 0], "nothing was published yet"
    n = 60
    for _ in range(n):
        pub.publish("load/x", b"l", qos=1)
    wait_until(lambda: all((watcher.number(t) or 0) > 0 for t in names), 15,
               "every average to see the burst")
    one, five, fifteen = (watcher.number(t) for t in names)
    assert 0 < fifteen < five < one <= n


def test_version_and_uptime(clients):
    watcher = Watcher(clients, "$SYS/broker/version", UPTIME)
    wait_until(lambda: watcher.latest("$SYS/broker/version"), 15, "the version")
    version = watcher.latest("$SYS/broker/version")
    name = "shardmq" if broker_kind() == "shardmq" else "mosquitto"
    assert version.startswith(f"{name} version ")
    ups = watcher.wait_live("$SYS/broker/uptime", 3)
    seconds = [int(u.split()[0]) for u in ups]
    assert all(u.endswith(" seconds") for u in ups)
    assert seconds == sorted(seconds) and seconds[-1] > seconds[0]


def test_sys_topics_published_and_hidden_from_wildcards(clients):
    hash_sub = clients.paho()
    hash_sub.subscribe("#")
    plus_sub = clients.paho()
    plus_sub.subscribe("+/broker/#")
    plus_sub.subscribe("+/broker/uptime")
    sys_sub = clients.paho()
    sys_sub.subscribe("$SYS/#")
    needed = {"$SYS/broker/uptime", "$SYS/broker/clients/connected"}

    def updates_seen():
        msgs = sys_sub.received()
        # A non-retained copy is a periodic publish made after both subscriptions existed.
        live = {m.topic for m in msgs if not m.retain}
        counts = [int(m.payload) for m in msgs if m.topic == "$SYS/broker/clients/connected"]
        return needed <= {m.topic for m in msgs} and "$SYS/broker/uptime" in live and \
            max(counts, default=0) >= 3
    wait_until(updates_seen, 15, "$SYS uptime and clients/connected counting all clients")
    assert not [m.topic for m in hash_sub.received() if m.topic.startswith("$")]
    assert not [m.topic for m in plus_sub.received() if m.topic.startswith("$")]
