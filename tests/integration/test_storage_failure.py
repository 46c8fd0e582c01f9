"""Durable state (issue 13), failed writes: with durability = "sync", when the store cannot be
written (here: a file size limit on the broker process, RLIMIT_FSIZE, which makes RocksDB's WAL
append fail with EFBIG as a full disk would with ENOSPC), a QoS 1/2 publish that waits for the
disk is refused rather than acknowledged: MQTT 5 hears PUBACK 0x80 (0x97 for a full disk), an
MQTT 3.1.1 connection is closed (it has no way to refuse). QoS 0 traffic goes on, the log says
what failed, and every message acknowledged before the failure survives kill -9."""
import resource
import signal

from wait_condition import wait_until

import pytest

import raw_mqtt as mq
from durable_broker import DurableBroker
from paho_client import unique_client_id

FILE_LIMIT = 400_000  # bytes: a few hundred messages into the WAL
PAYLOAD = b"x" * 1000
MAX_PUBLISHES = 2000  # the limit is reached long before
RECOVERY_TRIES = 5  # publishes after the limit is lifted (the writer retries each second)


class LimitedBroker(DurableBroker):
    """A durable broker whose files may not grow past FILE_LIMIT while `limited` is set."""

    limited = True

    def preexec(self):
        if not self.limited:
            return None

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
            hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]  # kept: the soft one is lifted later
            resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, hard))
        return limit


def wait_for_log(broker, text):
    wait_until(lambda: text in broker.log_text(), timeout=10, what=f"'{text}' in the log")


@pytest.fixture
def broker(durable):
    return durable(broker_class=LimitedBroker, shards=1)


def test_a_failed_write_refuses_the_publish_and_loses_nothing_acknowledged(broker):
    v5 = mq.MQTT5
    subscriber = unique_client_id("sub")
    s = mq.RawConnection(broker.host, broker.port)
    s.connect(subscriber, mq.MQTT311, clean=False)
    assert s.subscribe([("full/#", 1)]) == [1]
    s.send(mq.disconnect_packet())
    s.read_until_closed()

    pub = mq.connected(broker.host, broker.port, unique_client_id("pub5"), v5)
    acknowledged, refused = [], None
    for i in range(1, MAX_PUBLISHES + 1):
        pub.send(mq.publish_packet("full/t", b"%d:" % i + PAYLOAD, qos=1, packet_id=i, version=v5))
        p = pub.read_packet(timeout=30)
        assert p.type == mq.PUBACK, p
        reason = p.body[2] if len(p.body) > 2 else 0
        if reason:
            refused = reason
            break
        acknowledged.append(i)
    assert refused == 0x80, f"no refusal after {len(acknowledged)} acknowledged publishes"
    assert acknowledged, "the limit must leave room for some messages"
    assert "storage: writing to" in broker.log_text()

    # MQTT 3.1.1 cannot refuse: its publisher's connection is closed, without PUBACK.
    old = mq.connected(broker.host, broker.port, unique_client_id("pub3"), mq.MQTT311)
    old.send(mq.publish_packet("full/t", b"0:3.1.1", qos=1, packet_id=1))
    assert [p for p in old.read_until_closed(timeout=30) if p.type == mq.PUBACK] == []

    # QoS 0 and what lives in memory go on.
    live = mq.connected(broker.host, broker.port, unique_client_id("live"), v5)
    assert live.subscribe([("live/q0", 0)]) == [0]
    pub.send(mq.publish_packet("live/q0", b"still here", qos=0, version=v5))
    assert live.read_publish().payload == b"still here"

    # The disk has room again: the writer's retry succeeds, and acknowledgements come back.
    hard = resource.prlimit(broker._proc.pid, resource.RLIMIT_FSIZE)[1]
    resource.prlimit(broker._proc.pid, resource.RLIMIT_FSIZE, (hard, hard))
    for i in range(MAX_PUBLISHES + 1, MAX_PUBLISHES + 1 + RECOVERY_TRIES):
        pub.send(mq.publish_packet("full/t", b"%d:" % i + PAYLOAD, qos=1, packet_id=i, version=v5))
        p = pub.read_packet(timeout=30)
        assert p.type == mq.PUBACK, p
        if len(p.body) <= 2 or p.body[2] == 0:
            acknowledged.append(i)
            break
        wait_for_log(broker, "works again")
    else:
        raise AssertionError(f"still refused after {RECOVERY_TRIES} tries\n{broker.log_tail()}")

    broker.kill()
    broker.limited = False
    broker.restart()
    again = mq.RawConnection(broker.host, broker.port)
    present, code, _ = again.connect(subscriber, mq.MQTT311, clean=False)
    assert code == 0 and present
    got = set()  # refused ones may be there too (stored once the disk had room): not counted
    while not set(acknowledged) <= got:
        m = again.read_publish()
        got.add(int(m.payload.split(b":")[0]))
        again.send(mq.ack_packet(mq.PUBACK, m.packet_id))
    again.close()
