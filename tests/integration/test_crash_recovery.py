"""Crash recovery under load (issue 13): publishers send numbered QoS 1 messages as fast as
their acknowledgements allow while a durability = "sync" broker (2 shards) is killed with
SIGKILL at random moments, three times, and restarted on the same data directory. Every
message a publisher saw PUBACKed must reach the persistent subscribers afterwards: one that
was offline the whole time (3.1.1, clean session 0: its queue is on disk) and one that stays
online (MQTT 5, Session Expiry) and reconnects with clean start 0 after each restart.

QoS 1 is at least once: duplicates are allowed (a message delivered but not yet acknowledged
when the broker died is sent again), and so are messages that were stored but whose PUBACK
never reached the publisher. Only a PUBACKed number that never arrives is a failure.

The kill moments come from a seeded random.Random; the seed is in every failure message and
CRASH_TEST_SEED=<seed> replays the same schedule (the threads' timing still varies)."""
import os
import random
import socket
import struct
import threading
import time

import pytest

from durable_broker import DurableBroker
from raw_mqtt import (MQTT5, MQTT311, PUBACK, PUBLISH, Closed, RawConnection, ack_packet,
                      disconnect_packet, parse_publish, property_block, publish_packet)
from wait_condition import wait_until

PUBLISHERS = 3
WINDOW = 16  # QoS 1 PUBLISHes in flight per publisher: several per fsync (group commit)
KILLS = 3
KILL_DELAY = (0.05, 0.8)  # seconds of load after the publishers are back, before each kill
FINAL_LOAD = (0.2, 0.5)  # seconds of load after the last restart
MAX_PER_PUBLISHER = 30000  # bounds the volume (and the drain) on a fast machine
PROGRESS_TIMEOUT = 15.0  # publishers acknowledged again after a (re)start
DRAIN_TIMEOUT = 20.0
DRAIN_IDLE = 3.0  # a subscriber that got nothing for this long has drained its queue
TOPIC_PREFIX = "crash"
SESSION_EXPIRY = property_block((0x11, struct.pack("!I", 3600)))


class CrashBroker(DurableBroker):
    """DurableBroker with session queues large enough for the whole run (the default, 1000
    per session, drops by design), restarted on the same port when it is free."""

    def command(self):
        cmd = super().command()
        conf = self.workdir / "shardmq.toml"
        conf.write_text(conf.read_text() + "\n[limits]\nmax_queued_messages = 10000000\n"
                        "max_queued_bytes = 1073741824\nmax_inflight = 256\n")
        return cmd

    def restart(self):
        self.returncode = None
        self.killed = False
        self._log.close()
        self._launch()  # same data directory, same port
        if self._wait_accepting():
            return self
        self.kill()  # could not bind the old port (or did not start): a new port
        self._log.close()
        self.returncode = None
        self.killed = False
        return self.start()


def payload(publisher, number):
    return f"{publisher}:{number}".encode()


def parse_payload(data):
    publisher, number = data.decode().split(":")
    return int(publisher), int(number)


class Publisher(threading.Thread):
    """Numbered QoS 1 messages on its own topic, WINDOW in flight, reconnecting (clean) after
    every broker death and carrying on with the next number."""

    def __init__(self, index, broker, stop, deadline):
        super().__init__(name=f"publisher-{index}", daemon=True)
        self.index, self.broker, self.stop, self.deadline = index, broker, stop, deadline
        self.topic = f"{TOPIC_PREFIX}/p{index}"
        self.client_id = f"crash-pub-{index}"
        self._lock = threading.Lock()
        self._acked = set()
        self.next_number = 0
        self.connects = 0
        self.error = None

    def acked(self):
        with self._lock:
            return set(self._acked)

    def ack_count(self):
        with self._lock:
            return len(self._acked)

    def run(self):
        try:
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                try:
                    self._session()
                except (OSError, Closed):  # the broker died (or is not up yet)
                    time.sleep(0.01)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def _session(self):
        conn = RawConnection(self.broker.host, self.broker.port, timeout=2.0)
        try:
            _, code, _ = conn.connect(self.client_id, MQTT311, clean=True)
            assert code == 0, f"{self.client_id}: CONNACK code {code}"
            self.connects += 1
            inflight, packet_id = {}, 0
            while time.monotonic() < self.deadline:
                stopping = self.stop.is_set()
                if not stopping and len(inflight) < WINDOW \
                        and self.next_number < MAX_PER_PUBLISHER:
                    batch = bytearray()
                    while len(inflight) < WINDOW and self.next_number < MAX_PER_PUBLISHER:
                        packet_id = packet_id % 65535 + 1
                        n = self.next_number
                        self.next_number += 1
                        inflight[packet_id] = n
                        batch += publish_packet(self.topic, payload(self.index, n), qos=1,
                                                packet_id=packet_id)
                    conn.send(bytes(batch))
                if not inflight:
                    if stopping:
                        conn.send(disconnect_packet())
                        return
                    time.sleep(0.01)  # MAX_PER_PUBLISHER reached: idle until stopped
                    continue
                p = conn.read_packet(timeout=5.0)
                assert p.type == PUBACK, f"{self.client_id}: unexpected packet {p}"
                n = inflight.pop(struct.unpack_from("!H", p.body)[0])
                with self._lock:
                    self._acked.add(n)
        finally:
            conn.close()


class Subscriber:
    """A persistent session on TOPIC_PREFIX/# at QoS 1 that records every payload before it
    acknowledges it (so a message acknowledged to the broker was surely seen here)."""

    def __init__(self, name, version):
        self.client_id = f"crash-sub-{name}"
        self.version = version
        self._lock = threading.Lock()
        self.received = {}  # (publisher, number) -> times delivered
        self.deliveries = 0
        self.last_message = time.monotonic()
        self.connects = 0
        self.sessions_lost = 0  # reconnects that did not find the session (CONNACK present 0)

    def open(self, broker, subscribe=False):
        props = SESSION_EXPIRY if self.version == MQTT5 else None
        conn = RawConnection(broker.host, broker.port, timeout=2.0)
        try:
            present, code, _ = conn.connect(self.client_id, self.version, clean=False,
                                            properties=props)
            assert code == 0, f"{self.client_id}: CONNACK code {code}"
            if subscribe:
                assert not present
                assert conn.subscribe([(f"{TOPIC_PREFIX}/#", 1)]) == [1]
            elif not present:
                self.sessions_lost += 1
        except BaseException:
            conn.close()
            raise
        self.connects += 1
        return conn

    def pump(self, conn, timeout):
        """Reads what has arrived (waiting up to timeout for the first packet) and
        acknowledges it in one write; False when nothing came."""
        try:
            packets = [conn.read_packet(timeout=timeout)]
        except socket.timeout:
            return False
        while (p := conn._take_packet()) is not None:
            packets.append(p)
        acks = bytearray()
        with self._lock:
            for p in packets:
                assert p.type == PUBLISH, f"{self.client_id}: unexpected packet {p}"
                pub = parse_publish(p, self.version)
                key = parse_payload(pub.payload)
                self.received[key] = self.received.get(key, 0) + 1
                self.deliveries += 1
                if pub.qos:
                    acks += ack_packet(PUBACK, pub.packet_id, self.version)
            self.last_message = time.monotonic()
        if acks:
            conn.send(bytes(acks))
        return True

    def keys(self):
        with self._lock:
            return set(self.received)

    def duplicates(self):
        with self._lock:
            return self.deliveries - len(self.received)


class OnlineSubscriber(threading.Thread):
    """Keeps a Subscriber connected through the crashes: reconnects with clean start 0."""

    def __init__(self, sub, broker, done, deadline):
        super().__init__(name=f"{sub.client_id}", daemon=True)
        self.sub, self.broker, self.done, self.deadline = sub, broker, done, deadline
        self.error = None

    def run(self):
        try:
            while not self.done.is_set() and time.monotonic() < self.deadline:
                try:
                    conn = self.sub.open(self.broker)
                except (OSError, Closed):
                    time.sleep(0.01)
                    continue
                try:
                    while not self.done.is_set() and time.monotonic() < self.deadline:
                        self.sub.pump(conn, 0.2)
                except (OSError, Closed):
                    pass
                finally:
                    conn.close()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e


@pytest.fixture
def crash_broker(tmp_path):
    brokers = []

    def start():
        b = CrashBroker(tmp_path, durability="sync", shards=2).start()
        brokers.append(b)
        return b

    yield start
    for b in brokers:
        b.stop_and_check()


def ranges(numbers):
    """[3, 4, 5, 9] -> '3-5, 9'."""
    out, numbers = [], sorted(numbers)
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1][1] = n
        else:
            out.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in out)


def missing_report(name, missing):
    if not missing:
        return ""
    by_pub = {}
    for p, n in sorted(missing):
        by_pub.setdefault(p, []).append(n)
    parts = [f"publisher {p}: {len(ns)} missing: {ranges(ns)[:400]}" for p, ns in by_pub.items()]
    return f"{name} subscriber is missing acknowledged messages: " + "; ".join(parts)


def test_acknowledged_messages_survive_repeated_kill_9_under_load(crash_broker):
    seed = int(os.environ.get("CRASH_TEST_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    start = time.monotonic()
    deadline = start + 60.0  # a hard stop for every thread, whatever happens
    broker = crash_broker()

    offline = Subscriber("offline", MQTT311)
    conn = offline.open(broker, subscribe=True)
    conn.send(disconnect_packet())
    conn.close()
    online = Subscriber("online", MQTT5)
    online_conn = online.open(broker, subscribe=True)
    online_conn.close()  # the thread reconnects right away (session present)

    stop, done = threading.Event(), threading.Event()
    publishers = [Publisher(i, broker, stop, deadline) for i in range(PUBLISHERS)]
    online_thread = OnlineSubscriber(online, broker, done, deadline)
    threads = publishers + [online_thread]
    events = []

    def context():
        return (f"seed {seed} (CRASH_TEST_SEED={seed} to replay); "
                f"{sum(p.ack_count() for p in publishers)} acknowledged, "
                f"publisher connects {[p.connects for p in publishers]}, "
                f"online connects {online.connects}; {'; '.join(events)}")

    def wait_for_progress():
        """Every publisher got at least one more PUBACK from the broker now running."""
        base = [p.ack_count() for p in publishers]
        limit = time.monotonic() + PROGRESS_TIMEOUT
        while time.monotonic() < limit:
            errors = [t.error for t in threads if t.error is not None]
            assert not errors, f"client thread failed: {errors!r}; {context()}"
            if all(p.ack_count() > b or p.next_number >= MAX_PER_PUBLISHER
                   for p, b in zip(publishers, base)):
                return
            time.sleep(0.01)
        raise AssertionError(f"publishers made no progress within {PROGRESS_TIMEOUT:g} s; "
                             f"{context()}\n{broker.log_tail()}")

    try:
        for t in threads:
            t.start()
        for k in range(KILLS):
            wait_for_progress()
            delay = rng.uniform(*KILL_DELAY)
            time.sleep(delay)
            before = sum(p.ack_count() for p in publishers)
            restored_before = broker.log_text().count("restored")
            broker.kill()
            events.append(f"kill {k + 1} after {delay:.3f} s at ~{before} acks")
            broker.restart()
            # The port accepts at once; the broker serves once its store is read back.
            wait_until(lambda: broker.log_text().count("restored") > restored_before,
                       PROGRESS_TIMEOUT, f"'restored' in the log after restart {k + 1}; "
                       f"{context()}\n{broker.log_tail()}")
            restored = [l for l in broker.log_text().splitlines() if "restored" in l]
            events.append(restored[-1].split("storage:")[-1].strip())
        wait_for_progress()
        time.sleep(rng.uniform(*FINAL_LOAD))
        stop.set()
        for p in publishers:
            p.join(15.0)
        assert not any(p.is_alive() for p in publishers), f"publisher hung; {context()}"
        errors = [t.error for t in threads if t.error is not None]
        assert not errors, f"client thread failed: {errors!r}; {context()}"
        acked = {(p.index, n) for p in publishers for n in p.acked()}

        # The offline subscriber drains its queue, the online one catches up.
        conn = offline.open(broker)
        offline.last_message = drain_start = time.monotonic()
        drained = "timed out"
        try:
            limit = drain_start + DRAIN_TIMEOUT
            while time.monotonic() < limit:
                if acked <= offline.keys():
                    drained = "complete"
                    break
                if not offline.pump(conn, 0.2) and \
                        time.monotonic() - offline.last_message > DRAIN_IDLE:
                    drained = "idle"
                    break
        finally:
            conn.close()
        events.append(f"offline drain {drained} after {time.monotonic() - drain_start:.1f} s")
        limit = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < limit and not acked <= online.keys() and \
                online_thread.is_alive() and time.monotonic() - online.last_message < DRAIN_IDLE:
            time.sleep(0.05)
    finally:
        stop.set()
        done.set()
        for t in threads:
            t.join(10.0)

    assert online_thread.error is None, f"online subscriber failed: {online_thread.error!r}"
    summary = (f"{context()}; offline got {len(offline.keys())} distinct "
               f"(+{offline.duplicates()} duplicates), online got {len(online.keys())} "
               f"distinct (+{online.duplicates()} duplicates); online reconnects without "
               f"session present: {online.sessions_lost}; offline session lost: "
               f"{offline.sessions_lost}")
    assert offline.sessions_lost == 0 and online.sessions_lost == 0, summary
    problems = [missing_report("offline", acked - offline.keys()),
                missing_report("online", acked - online.keys())]
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems) + "\n" + summary + "\n" + broker.log_tail()
    # Nothing arrives that nobody sent: numbers stay below what each publisher reached.
    sent = {p.index: p.next_number for p in publishers}
    stray = [k for s in (offline, online) for k in s.keys() if k[1] >= sent.get(k[0], 0)]
    assert not stray, f"messages never published arrived: {stray[:20]}; {summary}"
    print(f"\n{summary}; {time.monotonic() - start:.1f} s")
