"""Randomized model test (issue 4): the same seeded sequence of connects (clean 0/1, wills),
subscribes, unsubscribes, publishes (QoS 0/1/2, retained, retained clears, pipelined bursts),
clean disconnects and abrupt closes over five clients runs against shardmq (2 shards, both io
backends) and against Mosquitto.

After every operation the run settles: acks awaited, every delivery the oracle
(model_scenario.Model) requires awaited, every connected client synchronised with a marker on
its private control topic, then what each client received so far must equal the oracle's
prediction exactly. Mosquitto must agree with the oracle (that validates the oracle), shardmq must
agree with both. A divergence prints the seed and the operations up to it."""
import collections
import dataclasses
import itertools
import socket
import struct
import threading
import time

import pytest

import raw_mqtt
from broker_process import BrokerOptions, BrokerProcess, broker_kind
from model_scenario import CLIENTS, CONTROL_PREFIX, Delivery, generate, live_order, \
    without_optional
from raw_mqtt import MQTT311, Closed, RawConnection, Will

SEEDS = (1, 2, 3, 4)
N_OPS = 500
# BROKER=mosquitto compares Mosquitto with itself (a determinism check of the test); the harness
# runs it without TCP_NODELAY, so every settle waits ~40 ms on delayed ACKs: fewer operations.
N_OPS_MOSQUITTO = 150
TIMEOUT = 5.0  # bound on every wait; a correct broker answers in milliseconds


class Divergence(Exception):
    pass


class ModelClient:
    """One MQTT 3.1.1 connection on a raw socket. A reader thread acks every incoming flow before
    recording the message, so once the test has seen a delivery its ack is on the wire ahead of
    anything the test sends next (with paho the ack races a DISCONNECT from the test thread)."""

    def __init__(self, host, port, cid, inbox):
        self.cid, self.inbox = cid, inbox
        self.conn = RawConnection(host, port)
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._ids = itertools.cycle(range(1, 65536))
        self._acks = collections.defaultdict(dict)  # packet id -> {packet type: body}
        self._qos2_in = set()  # incoming QoS 2 ids whose PUBCOMP is not sent yet
        self._pings = 0
        self.marker = -1
        self.closed = False
        self.anomalies = []
        self._thread = None

    # -- actions (test thread) ---------------------------------------------

    def connect(self, clean, will=None):
        w = Will(will.topic, will.payload.encode(), will.qos, will.retain) if will else None
        present, code, _ = self.conn.connect(self.cid, MQTT311, clean, 60, w)
        if code != 0:
            raise Divergence(f"CONNACK code {code} for {self.cid}")
        self._thread = threading.Thread(target=self._read_loop, daemon=True)
        self._thread.start()
        return present

    def subscribe(self, flt, qos):
        pid = next(self._ids)
        self._send(raw_mqtt.subscribe_packet(pid, [(flt, qos)]))
        body = self._await_ack(pid, raw_mqtt.SUBACK, f"SUBACK for {flt}")
        return list(body[2:])

    def unsubscribe(self, flt):
        pid = next(self._ids)
        body = struct.pack("!H", pid) + raw_mqtt.utf8(flt)
        self._send(raw_mqtt.packet(raw_mqtt.UNSUBSCRIBE, 0x2, body))
        self._await_ack(pid, raw_mqtt.UNSUBACK, f"UNSUBACK for {flt}")

    def publish(self, topic, payload, qos, retain):
        """Returns once the broker has taken the message: PUBACK, PUBCOMP, or (QoS 0) the
        PINGRESP to a PINGREQ sent after it."""
        pid = next(self._ids)
        self._send(raw_mqtt.publish_packet(topic, payload.encode(), qos, retain, pid))
        if qos == 0:
            self.ping()
        else:
            done = raw_mqtt.PUBACK if qos == 1 else raw_mqtt.PUBCOMP
            self._await_ack(pid, done, f"ack of {payload}")

    def publish_burst(self, ops):
        """Back to back, then every ack: the broker sees the publishes pipelined."""
        pids = [next(self._ids) for _ in ops]
        for pid, op in zip(pids, ops):
            self._send(raw_mqtt.publish_packet(op.topic, op.payload.encode(), op.qos, op.retain,
                                               pid))
        for pid, op in zip(pids, ops):
            if op.qos:
                done = raw_mqtt.PUBACK if op.qos == 1 else raw_mqtt.PUBCOMP
                self._await_ack(pid, done, f"ack of {op.payload}")
        self.ping()

    def ping(self):
        with self._cond:
            want = self._pings + 1
        self._send(raw_mqtt.pingreq_packet())
        self.wait(lambda: self._pings >= want, "PINGRESP")

    def disconnect(self, clean):
        """DISCONNECT (clean) or not, then FIN; returns once the broker closed its side, which
        shows it processed the close (and published the will)."""
        self.wait(lambda: not self._qos2_in, "QoS 2 flows to finish")
        if clean:
            self._send(raw_mqtt.disconnect_packet())
        self.conn.sock.shutdown(socket.SHUT_WR)
        self.wait(lambda: self.closed, f"broker to close {self.cid}'s connection")
        self.conn.close()

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(5)
        self.conn.close()

    def inbox_copy(self):
        with self._cond:
            return list(self.inbox)

    def settled(self):
        return not self._qos2_in

    def wait(self, predicate, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or (self.closed and not predicate()):
                    state = "connection closed" if self.closed else f"{timeout:g} s"
                    what = what() if callable(what) else what
                    raise Divergence(f"{self.cid}: no {what} ({state})")
                self._cond.wait(left)

    # -- internals -----------------------------------------------------------

    def _send(self, data):
        with self._send_lock:
            self.conn.sock.sendall(data)

    def _await_ack(self, pid, ptype, what):
        self.wait(lambda: ptype in self._acks[pid], what)
        with self._cond:
            return self._acks.pop(pid)[ptype]

    def _read_loop(self):
        try:
            while True:
                self._handle(self.conn.read_packet(timeout=3600))
        except (Closed, OSError):
            pass
        except Exception as e:  # a malformed packet: make it visible, not a silent hang
            self.anomalies.append(repr(e))
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def _handle(self, p):
        if p.type == raw_mqtt.PUBLISH:
            m = raw_mqtt.parse_publish(p)
            if m.qos == 1:
                self._send(raw_mqtt.ack_packet(raw_mqtt.PUBACK, m.packet_id))
            elif m.qos == 2:
                with self._cond:
                    duplicate = m.packet_id in self._qos2_in
                    self._qos2_in.add(m.packet_id)
                self._send(raw_mqtt.ack_packet(raw_mqtt.PUBREC, m.packet_id))
                if duplicate:  # a resent PUBLISH before our PUBREC arrived: same message
                    return
            self._record(m)
        elif p.type == raw_mqtt.PUBREL:
            pid = struct.unpack_from("!H", p.body)[0]
            self._send(raw_mqtt.ack_packet(raw_mqtt.PUBCOMP, pid))
            with self._cond:
                self._qos2_in.discard(pid)
                self._cond.notify_all()
        elif p.type == raw_mqtt.PUBREC:
            pid = struct.unpack_from("!H", p.body)[0]
            self._send(raw_mqtt.ack_packet(raw_mqtt.PUBREL, pid))
        elif p.type in (raw_mqtt.PUBACK, raw_mqtt.PUBCOMP, raw_mqtt.SUBACK, raw_mqtt.UNSUBACK):
            pid = struct.unpack_from("!H", p.body)[0]
            with self._cond:
                self._acks[pid][p.type] = p.body
                self._cond.notify_all()
        elif p.type == raw_mqtt.PINGRESP:
            with self._cond:
                self._pings += 1
                self._cond.notify_all()
        else:
            self.anomalies.append(f"unexpected packet type {p.type}")

    def _record(self, m):
        with self._cond:
            if m.topic == CONTROL_PREFIX + self.cid:
                self.marker = max(self.marker, int(m.payload))
            elif not m.topic.startswith(CONTROL_PREFIX):
                self.inbox.append(Delivery(m.topic, m.payload.decode(), m.qos, m.retain))
            self._cond.notify_all()


@dataclasses.dataclass
class RunResult:
    broker: str
    received: dict  # cid -> [Delivery] in arrival order, over all its connections
    expected: dict  # cid -> [Delivery] the oracle's prediction
    optional: dict  # cid -> [Delivery] a broker may or may not deliver
    divergence: tuple | None = None  # (op index, description)

    def comparable(self):
        """Per client: the multiset and the per-publisher live order, optional ones left out."""
        def view(cid):
            got, want, opt = self.received[cid], self.expected[cid], self.optional[cid]
            return (sorted(without_optional(got, want, opt).items(), key=repr),
                    live_order(got, want, opt))
        return {cid: view(cid) for cid in CLIENTS}


class Runner:
    """Plays a Scenario against one broker, settling and checking after every operation."""

    def __init__(self, host, port, scenario, name):
        self.host, self.port, self.scenario, self.name = host, port, scenario, name
        self.inbox = {cid: [] for cid in CLIENTS}
        self.expected = {cid: [] for cid in CLIENTS}
        self.optional = {cid: [] for cid in CLIENTS}
        self.live = {}  # cid -> ModelClient
        self.marks = itertools.count()
        self.all_clients = []

    def run(self):
        result = RunResult(self.name, {}, self.expected, self.optional)
        control = self._client("control")
        try:
            control.connect(clean=True)
            for i, (op, expect) in enumerate(zip(self.scenario.ops, self.scenario.expects)):
                try:
                    self._apply(op, expect)
                    self._settle(control)
                except Divergence as e:
                    result.divergence = (i, str(e))
                    return result
            try:
                self._check_order()
            except Divergence as e:
                result.divergence = (len(self.scenario.ops) - 1, str(e))
            return result
        finally:
            # Snapshot before the teardown closes sockets abruptly and fires wills.
            for cid in CLIENTS:
                c = self.live.get(cid)
                result.received[cid] = c.inbox_copy() if c else list(self.inbox[cid])
            for c in self.all_clients:
                c.close()
            anomalies = [f"{c.cid}: {a}" for c in self.all_clients for a in c.anomalies]
            if anomalies and result.divergence is None:
                result.divergence = (len(self.scenario.ops) - 1, "; ".join(anomalies))

    def _client(self, cid):
        c = ModelClient(self.host, self.port, cid, self.inbox.get(cid, []))
        self.all_clients.append(c)
        return c

    def _apply(self, op, expect):
        for cid, d in expect.deliveries:
            self.expected[cid].append(d)
        for cid, d in expect.optional:
            self.optional[cid].append(d)
        if op.kind == "connect":
            c = self._client(op.cid)
            present = c.connect(op.clean, op.will)
            self.live[op.cid] = c
            if present != expect.session_present:
                raise Divergence(f"CONNACK session present {int(present)}, expected "
                                 f"{int(expect.session_present)}")
            c.subscribe(CONTROL_PREFIX + op.cid, 0)
        elif op.kind in ("disconnect", "drop"):
            self.live.pop(op.cid).disconnect(clean=op.kind == "disconnect")
        elif op.kind == "subscribe":
            granted = self.live[op.cid].subscribe(op.topic, op.qos)
            if granted != expect.granted:
                raise Divergence(f"SUBACK {granted}, expected {expect.granted}")
        elif op.kind == "unsubscribe":
            self.live[op.cid].unsubscribe(op.topic)
        elif op.kind == "burst":
            self.live[op.cid].publish_burst(op.burst)
        else:
            self.live[op.cid].publish(op.topic, op.payload, op.qos, op.retain)

    def _settle(self, control):
        # 1. Every required delivery arrived (to offline clients none can).
        for cid, c in self.live.items():
            c.wait(lambda: self._covers(cid),
                   lambda: f"expected deliveries, missing {self._diff(cid)[0]}")
        for c in self.live.values():
            c.wait(c.settled, "PUBREL for a QoS 2 delivery")
        # 2. A marker through each client's private topic, so anything extra sent before it
        # has most likely arrived too; a later stray still fails at a later check.
        marks = {}
        for cid in self.live:
            marks[cid] = next(self.marks)
            control.publish(CONTROL_PREFIX + cid, str(marks[cid]), 0, False)
        for cid, c in self.live.items():
            c.wait(lambda: c.marker >= marks[cid], "marker")
        # 3. Exactly what the oracle predicts, no more.
        for cid in CLIENTS:
            missing, extra = self._diff(cid)
            if missing or extra:
                raise Divergence(f"{cid}: missing {missing}, unexpected {extra}")

    def _covers(self, cid):
        return not self._diff(cid)[0]

    def _diff(self, cid):
        """(missing, unexpected): what the oracle requires and what it does not allow."""
        got, want = collections.Counter(self.inbox[cid]), collections.Counter(self.expected[cid])
        extra = got - want - collections.Counter(self.optional[cid])
        return [str(d) for d in (want - got).elements()], [str(d) for d in extra.elements()]

    def _check_order(self):
        for cid in CLIENTS:
            got = live_order(self.inbox[cid], self.expected[cid], self.optional[cid])
            want = live_order(self.expected[cid], self.expected[cid], [])
            if got != want:
                raise Divergence(f"{cid}: order per publisher, topic and QoS {got}, "
                                 f"expected {want}")


class ReferenceMosquitto(BrokerProcess):
    """Mosquitto with TCP_NODELAY: otherwise Nagle and delayed ACKs cost ~40 ms per settle."""

    def _write_mosquitto_conf(self):
        conf = super()._write_mosquitto_conf()
        conf.write_text(conf.read_text() + "set_tcp_nodelay true\n")
        return conf


def run_on(options, workdir, scenario):
    proc = ReferenceMosquitto(options, workdir)
    proc.start()
    try:
        result = Runner(proc.host, proc.port, scenario, proc.describe()).run()
    finally:
        code = proc.stop()
    assert not proc.killed and code == 0, f"{proc.describe()} exited with {code}\n" + \
        proc.diagnostics()
    bad = proc.sanitizer_lines()
    assert not bad, "sanitizer reports:\n" + "\n".join(bad) + "\n" + proc.diagnostics()
    return result


def repro(scenario, result):
    index, what = result.divergence
    lines = [f"{result.broker} diverges at op {index} of seed {scenario.seed}: {what}",
             f"reproduction (seed {scenario.seed}, ops 0..{index}):"]
    lines += [f"  {i:3d} {op}" for i, op in enumerate(scenario.ops[:index + 1])]
    return "\n".join(lines)


_reference = {}  # seed -> Mosquitto's RunResult, shared by both io backends


def reference(seed, scenario, tmp_path_factory):
    if seed not in _reference:
        workdir = tmp_path_factory.mktemp(f"mosquitto-seed{seed}")
        _reference[seed] = run_on(BrokerOptions(kind="mosquitto"), workdir, scenario)
    return _reference[seed]


@pytest.mark.heavy
@pytest.mark.parametrize("seed", SEEDS)
def test_model_matches_mosquitto(seed, broker, tmp_path_factory):
    scenario = generate(seed, N_OPS_MOSQUITTO if broker_kind() == "mosquitto" else N_OPS)
    ref = reference(seed, scenario, tmp_path_factory)
    # The oracle is only trusted where the reference broker agrees with it.
    assert ref.divergence is None, "Mosquitto disagrees with the oracle (model bug?)\n" + \
        repro(scenario, ref)
    result = Runner(broker.host, broker.port, scenario, broker.describe()).run()
    assert result.divergence is None, repro(scenario, result)
    mine, theirs = result.comparable(), ref.comparable()
    diffs = [f"{cid}: {result.broker}: {mine[cid]}\n    {ref.broker}: {theirs[cid]}"
             for cid in CLIENTS if mine[cid] != theirs[cid]]
    assert not diffs, f"seed {seed}: shardmq and Mosquitto differ\n" + "\n".join(diffs)
