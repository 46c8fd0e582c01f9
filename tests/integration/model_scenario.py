"""Random MQTT 3.1.1 scenarios for the model test: operations, the oracle that predicts what every
client must receive, and the seeded generator. Pure logic, no sockets.

The generator only produces sequences whose outcome the spec fixes: no client ever holds two
filters matching the same topic (so one copy per message), QoS 0 messages for offline sessions and
a client's own will are marked optional (a broker may queue or drop them), no session takeover."""
import collections
import dataclasses
import random

CLIENTS = ("c0", "c1", "c2", "c3", "c4")
TOPICS = ("a", "b", "a/b", "a/c", "b/c", "a/b/c")
FILTERS = TOPICS + ("+", "#", "a/+", "+/c", "+/+", "a/#", "b/#", "+/b/+")
CONTROL_PREFIX = "ctl/"  # markers; never a model topic, ignored in every comparison


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One PUBLISH as a client sees it. Payloads are unique ids '<publisher>-<n>q<published QoS>',
    or '' for a retained-message clear."""
    topic: str
    payload: str
    qos: int
    retain: bool

    @property
    def publisher(self):
        return self.payload.split("-")[0]

    def __str__(self):
        return f"{self.topic} {self.payload} q{self.qos}{' r' if self.retain else ''}"


@dataclasses.dataclass(frozen=True)
class WillSpec:
    topic: str
    payload: str
    qos: int
    retain: bool


@dataclasses.dataclass(frozen=True)
class Op:
    kind: str  # connect | disconnect | drop | subscribe | unsubscribe | publish | burst
    cid: str
    clean: bool = True
    will: WillSpec | None = None
    topic: str = ""  # publish topic or subscription filter
    qos: int = 0
    retain: bool = False
    payload: str = ""  # '' with retain: clears the retained message
    burst: tuple = ()  # publish Ops sent back to back before any ack is awaited

    def __str__(self):
        if self.kind == "connect":
            w = self.will
            will = f" will=({w.topic} {w.payload} q{w.qos}{' r' if w.retain else ''})" if w else ""
            return f"connect {self.cid} clean={int(self.clean)}{will}"
        if self.kind == "subscribe":
            return f"subscribe {self.cid} {self.topic} q{self.qos}"
        if self.kind == "unsubscribe":
            return f"unsubscribe {self.cid} {self.topic}"
        if self.kind == "publish":
            return (f"publish {self.cid} {self.topic} {self.payload or '(empty)'} q{self.qos}"
                    f"{' retain' if self.retain else ''}")
        if self.kind == "burst":
            return f"burst {self.cid} [" + "; ".join(str(p)[8:] for p in self.burst) + "]"
        return f"{self.kind} {self.cid}"


@dataclasses.dataclass
class Expect:
    """What one operation must cause: deliveries in order, deliveries a broker may or may not make,
    the CONNACK session-present flag and the SUBACK return codes."""
    deliveries: list = dataclasses.field(default_factory=list)  # [(cid, Delivery)]
    optional: list = dataclasses.field(default_factory=list)  # [(cid, Delivery)]
    session_present: bool | None = None
    granted: list | None = None


@dataclasses.dataclass
class Scenario:
    seed: int
    ops: list
    expects: list


def matches(flt, topic):
    f, t = flt.split("/"), topic.split("/")
    for i, level in enumerate(f):
        if level == "#":
            return True  # also matches the parent level ('a/#' matches 'a')
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(f) == len(t)


def overlaps(a, b):
    return any(matches(a, t) and matches(b, t) for t in TOPICS)


@dataclasses.dataclass
class Session:
    persistent: bool
    subs: dict = dataclasses.field(default_factory=dict)  # filter -> QoS
    queue: list = dataclasses.field(default_factory=list)  # Deliveries owed on reconnect


class Model:
    """The oracle: MQTT 3.1.1 session, subscription, retained and will semantics."""

    def __init__(self):
        self.sessions = {}  # cid -> Session (connected, or offline and persistent)
        self.wills = {}  # cid -> WillSpec | None, for connected clients
        self.retained = {}  # topic -> (payload, QoS)

    def connected(self, cid):
        return cid in self.wills

    def apply(self, op):
        return getattr(self, "_" + op.kind)(op)

    def _connect(self, op):
        old = self.sessions.get(op.cid)
        present = not op.clean and old is not None
        s = old if present else Session(persistent=not op.clean)
        s.persistent = not op.clean
        self.sessions[op.cid] = s
        self.wills[op.cid] = op.will
        e = Expect(session_present=present)
        e.deliveries = [(op.cid, d) for d in s.queue]
        s.queue = []
        return e

    def _end(self, cid):
        del self.wills[cid]
        if not self.sessions[cid].persistent:
            del self.sessions[cid]

    def _disconnect(self, op):
        self._end(op.cid)
        return Expect()

    def _drop(self, op):
        will = self.wills[op.cid]
        e = Expect()
        if will is not None:
            # Whether a client gets its own will (its socket is closing, its session going
            # offline) depends on when the broker tears the connection down: not specified.
            own = self._match(self.sessions[op.cid], will.topic)
            if own is not None:
                e.optional.append((op.cid, Delivery(will.topic, will.payload,
                                                    min(own, will.qos), False)))
        self._end(op.cid)
        if will is not None:
            self._route(op.cid, will.topic, will.payload, will.qos, will.retain, e,
                        skip=op.cid)
        return e

    def _subscribe(self, op):
        s = self.sessions[op.cid]
        assert all(f == op.topic or not overlaps(f, op.topic) for f in s.subs)
        s.subs[op.topic] = op.qos
        e = Expect(granted=[op.qos])
        for topic in sorted(self.retained):
            if matches(op.topic, topic):
                payload, qos = self.retained[topic]
                e.deliveries.append((op.cid, Delivery(topic, payload, min(qos, op.qos), True)))
        return e

    def _unsubscribe(self, op):
        self.sessions[op.cid].subs.pop(op.topic, None)
        return Expect()

    def _publish(self, op, e=None):
        e = Expect() if e is None else e
        self._route(op.cid, op.topic, op.payload, op.qos, op.retain, e)
        return e

    def _burst(self, op):
        e = Expect()
        for p in op.burst:
            self._publish(p, e)
        return e

    @staticmethod
    def _match(session, topic):
        qos = [q for f, q in session.subs.items() if matches(f, topic)]
        assert len(qos) <= 1, "overlapping subscriptions"
        return qos[0] if qos else None

    def _route(self, publisher, topic, payload, qos, retain, e, skip=None):
        for cid in sorted(self.sessions):
            sub_qos = self._match(self.sessions[cid], topic)
            if sub_qos is None or cid == skip:
                continue
            d = Delivery(topic, payload, min(qos, sub_qos), False)
            if self.connected(cid):
                e.deliveries.append((cid, d))
            elif d.qos > 0:
                self.sessions[cid].queue.append(d)
            else:  # QoS 0 for an offline session: a broker may queue it or not
                e.optional.append((cid, d))
        if retain and payload:
            self.retained[topic] = (payload, qos)
        elif retain:  # delivered as usual, and removes the retained message
            self.retained.pop(topic, None)


def generate(seed, n_ops):
    """n_ops random operations, then a reconnect (clean=0) of every offline client so queued
    messages are delivered and compared too."""
    rng = random.Random(seed)
    model, ops, expects = Model(), [], []
    serial = iter(range(1, 1 << 30))

    def add(op):
        ops.append(op)
        expects.append(model.apply(op))

    while len(ops) < n_ops:
        cid = rng.choice(CLIENTS)
        if not model.connected(cid):
            if rng.random() < 0.5:
                continue  # let sessions stay offline for a while
            will = None
            if rng.random() < 0.4:
                qos = rng.randrange(3)
                will = WillSpec(rng.choice(TOPICS), f"{cid}-{next(serial)}q{qos}", qos,
                                rng.random() < 0.3)
            add(Op("connect", cid, clean=rng.random() < 0.4, will=will))
            continue
        subs = model.sessions[cid].subs
        r = rng.random()

        def publish(qos):
            retain = rng.random() < 0.2
            payload = "" if retain and rng.random() < 0.25 else f"{cid}-{next(serial)}q{qos}"
            return Op("publish", cid, topic=rng.choice(TOPICS), qos=qos, retain=retain,
                      payload=payload)

        if r < 0.42:
            add(publish(rng.randrange(3)))
        elif r < 0.5:
            # One QoS per burst: a broker may release a QoS 2 message only at PUBREL, after a
            # QoS 0/1 one sent behind it, so order (and which retained message wins) across
            # QoS levels is not specified.
            qos = rng.randrange(3)
            add(Op("burst", cid, burst=tuple(publish(qos) for _ in range(rng.randrange(2, 9)))))
        elif r < 0.72:
            allowed = [f for f in FILTERS if f in subs or not any(overlaps(f, g) for g in subs)]
            add(Op("subscribe", cid, topic=rng.choice(allowed), qos=rng.randrange(3)))
        elif r < 0.8:
            flt = rng.choice(sorted(subs)) if subs and rng.random() < 0.8 else rng.choice(FILTERS)
            add(Op("unsubscribe", cid, topic=flt))
        elif r < 0.9:
            add(Op("disconnect", cid))
        else:
            add(Op("drop", cid))
    for cid in CLIENTS:
        if not model.connected(cid):
            add(Op("connect", cid, clean=False))
    return Scenario(seed, ops, expects)


def absorbed(received, expected, optional):
    """The received deliveries that only optional ones account for (beyond the expected)."""
    return (collections.Counter(received) - collections.Counter(expected)) & \
        collections.Counter(optional)


def without_optional(received, expected, optional):
    """Counter of received Deliveries less those that optional ones account for."""
    return collections.Counter(received) - absorbed(received, expected, optional)


def live_order(received, expected, optional):
    """Per (publisher, topic, published QoS), the payloads delivered live (not retained),
    optional ones left out: MQTT 3.1.1 4.6 orders messages 'for the same Topic and QoS' from one
    client (a QoS 2 message may be released only at PUBREL, after later QoS 0/1 ones)."""
    left = absorbed(received, expected, optional)
    order = collections.defaultdict(list)
    for d in received:
        if left[d] > 0:
            left[d] -= 1
            continue
        if not d.retain:
            order[f"{d.publisher} {d.topic} {d.payload[-2:]}"].append(d.payload)
    return dict(order)
