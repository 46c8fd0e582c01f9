"""ACL files (issue 11): Mosquitto's acl_file rules, as a battery run against a real Mosquitto
2.0 started with acl_file + password_file + allow_anonymous true, and the same test bodies run
against shardmq with the same files: the broker is a parameter (`acl_broker`).

Each test says what Mosquitto 2.0.11 does ("Mosquitto: ..."); shardmq must do the same, except
where it deliberately differs, and there the test branches on the broker kind (`is_shardmq`)
and says why: shardmq refuses a SUBSCRIBE filter the client can never read (docs/security.md,
"SUBSCRIBE: a deliberate difference from Mosquitto"), and refuses client publishes to
$SYS/broker/connection/+/state, which Mosquitto keeps for its bridges (shardmq has none).
Absence is shown with a sentinel: a message every subscriber here may read, published after
the ones that must not arrive (each acknowledged first), so once the sentinel is in, anything
the broker was going to deliver before it has been delivered."""
import pathlib
import signal
import struct
import subprocess
import textwrap
import time

import pytest

import raw_mqtt
from broker_process import BrokerOptions, BrokerProcess
from paho_client import MQTTv311, PahoClient
from wait_condition import wait_until

ACL = textwrap.dedent("""\
    # Rules before any user line: anonymous clients only.
    topic read public/#
    topic write anon/in
    # Patterns apply to everyone, wherever they are in the file.
    pattern readwrite clients/%c/#
    pattern deny clients/%c/locked
    pattern read users/%u/inbox
    pattern readwrite sentinel/#
    pattern readwrite open/#
    pattern deny open/blocked

    user alice
    topic readwrite alice/#
    topic deny alice/secret
    topic read shared/+/status
    topic write will/alice
    topic read retained/#
    topic deny retained/hidden
    topic write open/blocked
    topic deny open/private

    user bob
    topic read alice/#
    topic write bob/out
    topic write shared/#
    topic write retained/#
    topic write users/#
    topic write public/#
    topic read will/#

    user monitor
    topic read #
    topic read $SYS/#
    topic read $custom/#

    user wide
    topic read #

    user sysw
    topic readwrite $SYS/#
    topic readwrite $SYSTEM/#
    topic readwrite $share/#
    topic readwrite $custom/#
    """)

# carol is in the password file but has no section in the ACL file.
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw", "monitor": "monitor-pw", "wide": "wide-pw",
             "sysw": "sysw-pw", "carol": "carol-pw"}

MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
NOT_AUTHORIZED = 0x87
SUBACK_FAILURE = 0x80  # MQTT 3.1.1's only refusal code


def is_shardmq(broker):
    """For the branches where shardmq deliberately differs (see the module doc)."""
    return broker.options.kind == "shardmq"


def refused_unless_mosquitto(broker, granted, refused=SUBACK_FAILURE):
    """A SUBACK code for a filter the client can never read: Mosquitto grants it, shardmq
    refuses it (docs/security.md, "SUBSCRIBE: a deliberate difference from Mosquitto")."""
    return refused if is_shardmq(broker) else granted


# -- the broker under test ---------------------------------------------------------------------

def write_password_file(path, users):
    """Mosquitto's format, made by mosquitto_passwd (shardmq reads the same file)."""
    path = pathlib.Path(path)
    for i, (user, password) in enumerate(users.items()):
        args = [MOSQUITTO_PASSWD] + (["-c"] if i == 0 else []) + ["-b", str(path), user, password]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
    return path


class AclBrokerProcess(BrokerProcess):
    """A BrokerProcess configured with an ACL file and a password file, anonymous allowed."""

    def __init__(self, options, workdir, acl_path, password_path):
        super().__init__(options, workdir)
        self.acl_path = acl_path
        self.password_path = password_path

    def command(self):
        if self.options.kind == "mosquitto":
            return super().command()  # its configuration file comes from _write_mosquitto_conf
        conf = self.workdir / "shardmq.toml"
        conf.write_text(textwrap.dedent(f"""\
            [auth]
            password_file = "{self.password_path}"
            acl_file = "{self.acl_path}"
            allow_anonymous = true
            """))
        return super().command() + ["--config", str(conf)]

    def reload(self):
        """SIGHUP: both brokers re-read the ACL and password files."""
        self._proc.send_signal(signal.SIGHUP)

    def _write_mosquitto_conf(self):
        conf = super()._write_mosquitto_conf()
        with open(conf, "a") as f:
            # Started as root, Mosquitto would drop to the mosquitto user, which cannot read
            # files under pytest's private temporary directory.
            f.write(f"user root\nacl_file {self.acl_path}\npassword_file {self.password_path}\n")
        return conf


@pytest.fixture(params=["mosquitto", "shardmq"])
def broker_factory(request, tmp_path):
    """start(acl_text) -> a started broker of the parametrized kind with that ACL file and
    PASSWORDS; every broker it started is stopped and checked at teardown."""
    started = []

    def start(acl_text):
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        acl = workdir / "acl"
        acl.write_text(acl_text)
        passwords = write_password_file(workdir / "passwd", PASSWORDS)
        # Two shards, so a shardmq run crosses shards; $SYS every second for the $SYS case.
        options = BrokerOptions(kind=request.param, shards=2, io="epoll", sys_interval=1)
        proc = AclBrokerProcess(options, workdir, acl, passwords)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:  # exit codes are checked by the tests that expect the broker to run
        proc.stop()
        assert not proc.killed, f"{proc.describe()} ignored SIGTERM\n{proc.log_tail()}"
        bad = proc.sanitizer_lines()
        assert not bad, "sanitizer reports:\n" + "\n".join(bad) + "\n" + proc.diagnostics()


@pytest.fixture
def acl_broker(broker_factory):
    proc = broker_factory(ACL)
    yield proc
    assert proc.stop() == 0, f"{proc.describe()} exited badly\n{proc.diagnostics()}"


class AclClients:
    """Logs clients in (or not) against the ACL broker; closes them all at teardown."""

    def __init__(self, broker):
        self.broker = broker
        self._paho, self._raw = [], []

    def login(self, user=None, client_id=None, protocol=MQTTv311, will=None, expect_code=0):
        """A connected paho client; user None is anonymous. will: (topic, payload)."""
        c = PahoClient(self.broker.host, self.broker.port, client_id=client_id,
                       protocol=protocol)
        if user is not None:
            c.client.username_pw_set(user, PASSWORDS[user])
        if will is not None:
            c.will_set(*will, qos=1)
        self._paho.append(c)
        return c.connect(expect_code=expect_code)

    def raw_login(self, user, client_id, version=raw_mqtt.MQTT5):
        """A RawConnection past CONNECT with user name and password."""
        c = raw_mqtt.RawConnection(self.broker.host, self.broker.port)
        self._raw.append(c)
        c.version = version
        flags = 0x02 | 0x80 | 0x40  # clean, user name, password
        body = raw_mqtt.utf8("MQTT") + bytes([version, flags]) + struct.pack("!H", 60)
        body += raw_mqtt.no_properties(version) + raw_mqtt.utf8(client_id)
        body += raw_mqtt.utf8(user) + raw_mqtt.utf8(PASSWORDS[user])
        c.send(raw_mqtt.packet(raw_mqtt.CONNECT, 0, body))
        p = c.read_packet()
        assert p.type == raw_mqtt.CONNACK and p.body[1] == 0, p
        return c

    def close_all(self):
        for c in self._paho:
            c.close()
        for c in self._raw:
            c.close()
        self._paho.clear()
        self._raw.clear()


@pytest.fixture
def acl_clients(acl_broker):
    pool = AclClients(acl_broker)
    yield pool
    pool.close_all()


def subscribed(client, *filters):
    """Subscribes to the filters and the sentinel topic, QoS 1."""
    client.subscribe([(f, 1) for f in filters + ("sentinel/#",)])
    return client


def flush(acl_clients, *subscribers):
    """Publishes a sentinel and waits until every subscriber has it (see the module doc)."""
    pub = acl_clients.login()
    payload = f"sentinel-{id(pub)}".encode()
    pub.publish("sentinel/flush", payload, qos=1)
    for s in subscribers:
        s.wait_for_payload(payload)


def topics(client):
    return sorted(m.topic for m in client.received() if not m.topic.startswith("sentinel/"))


# -- publish -----------------------------------------------------------------------------------

def test_publish_allowed_denied_and_deny_over_allow(acl_clients):
    """Mosquitto: a publish is routed only if the publisher may write the topic. `deny
    alice/secret` wins over `readwrite alice/#` though it comes later in the file. A refused
    QoS 1 publish from a 3.1.1 client is still acknowledged (PUBACK), then dropped."""
    monitor = subscribed(acl_clients.login("monitor"), "#")
    alice = acl_clients.login("alice")
    alice.publish("alice/x", b"ok", qos=1)
    alice.publish("alice/secret", b"denied by deny rule", qos=1)
    alice.publish("bob/out", b"no write rule", qos=1)
    alice.publish("alice/y", b"qos0 ok", qos=0)
    flush(acl_clients, monitor)
    assert topics(monitor) == ["alice/x", "alice/y"]


def test_denied_publish_v5_gets_not_authorized(acl_clients):
    """Mosquitto: a refused QoS 1 publish from an MQTT 5 client is answered with PUBACK reason
    0x87 (Not authorized), a refused QoS 2 one with PUBREC 0x87; an allowed one with
    success."""
    alice = acl_clients.raw_login("alice", "alice-v5")
    alice.publish("bob/out", b"x", qos=1, packet_id=7)
    ack = alice.read_packet()
    assert ack.type == raw_mqtt.PUBACK and struct.unpack_from("!H", ack.body)[0] == 7
    assert ack.body[2] == NOT_AUTHORIZED
    alice.publish("bob/out", b"x", qos=2, packet_id=9)
    rec = alice.read_packet()
    assert rec.type == raw_mqtt.PUBREC and struct.unpack_from("!H", rec.body)[0] == 9
    assert rec.body[2] == NOT_AUTHORIZED
    alice.publish("alice/x", b"x", qos=1, packet_id=8)
    ack = alice.read_packet()
    assert ack.type == raw_mqtt.PUBACK and struct.unpack_from("!H", ack.body)[0] == 8
    # Mosquitto says 0x10 (No matching subscribers) here: any success code will do.
    assert len(ack.body) == 2 or ack.body[2] < 0x80


def test_own_rules_decide_before_patterns(acl_clients):
    """Mosquitto: a client's own topic rules are asked first and their answer is final: alice's
    `write open/blocked` beats `pattern deny open/blocked`, and her `deny open/private` beats
    `pattern readwrite open/#`. For an anonymous client (no such rules) the patterns decide."""
    monitor = subscribed(acl_clients.login("monitor"), "open/#")
    alice = acl_clients.login("alice")
    alice.publish("open/blocked", b"alice", qos=1)
    alice.publish("open/private", b"alice", qos=1)
    anon = acl_clients.login()
    anon.publish("open/blocked", b"anon", qos=1)
    anon.publish("open/private", b"anon", qos=1)
    flush(acl_clients, monitor)
    assert sorted((m.topic, m.payload) for m in monitor.received()
                  if m.topic.startswith("open/")) == [("open/blocked", b"alice"),
                                                      ("open/private", b"anon")]


# -- subscribe and delivery --------------------------------------------------------------------

def test_subscribe_refused_only_where_nothing_can_be_read(acl_clients):
    """Mosquitto: acl_file does not check SUBSCRIBE at all (2.0's "FIXME - implement ACL
    subscription strings"): every filter is granted, whatever the rules, for 3.1.1 and 5.
    shardmq deliberately refuses a filter that no read rule of the client overlaps (SUBACK 0x80
    in 3.1.1, 0x87 in 5.0), and grants one that is only partly readable: bob's `#` and `+`
    overlap his `read alice/#`, and alice/secret is denied to alice, not to him."""
    broker = acl_clients.broker
    bob = acl_clients.login("bob")
    filters = ["#", "$SYS/#", "alice/secret", "nothing/+/here", "+"]
    no = refused_unless_mosquitto(broker, 1)
    assert bob.subscribe([(f, 1) for f in filters]) == [1, no, 1, no, 1]
    anon = acl_clients.login()
    assert anon.subscribe("#", 1) == [1]
    # carol has only the patterns: sentinel/# and open/# overlap `#`; nothing gives alice/#.
    raw = acl_clients.raw_login("carol", "carol-v5")
    no = refused_unless_mosquitto(broker, 0, NOT_AUTHORIZED)
    assert raw.subscribe([("#", 1), ("alice/#", 0)]) == [1, no]


def test_subscribe_refused_where_a_deny_covers_the_filter(acl_clients):
    """Mosquitto: granted (see above). shardmq: alice's `deny alice/secret` covers the filter
    alice/secret, so it is refused, while alice/+ (partly denied) is granted and delivers what
    she may read; the pattern `deny clients/%c/locked` covers the client's own
    clients/ID/locked, but not clients/+/locked (`readwrite clients/%c/#` overlaps that)."""
    broker = acl_clients.broker
    alice = acl_clients.login("alice", client_id="alice-dev")
    no = refused_unless_mosquitto(broker, 1)
    assert alice.subscribe([("alice/secret", 1), ("alice/+", 1), ("clients/alice-dev/locked", 1),
                            ("clients/+/locked", 1), ("sentinel/#", 1)]) == [no, 1, no, 1, 1]
    acl_clients.login("alice").publish("alice/news", b"ok", qos=1)
    flush(acl_clients, alice)
    assert topics(alice) == ["alice/news"]


def test_delivery_through_wildcards_is_checked_per_topic(acl_clients):
    """Mosquitto: a wildcard subscriber receives only the topics it may read, each delivery
    checked on its own: `read shared/+/status` lets shared/k/status through but not
    shared/k/other or shared/k/status/deep; a `#` subscriber gets only what it may read."""
    alice = subscribed(acl_clients.login("alice"), "shared/#")
    bob_sub = subscribed(acl_clients.login("bob"), "#")
    bob = acl_clients.login("bob")
    for t in ("shared/k/status", "shared/k/other", "shared/k/status/deep"):
        bob.publish(t, b"x", qos=1)
    acl_clients.login("alice").publish("alice/news", b"x", qos=1)
    acl_clients.login().publish("anon/in", b"x", qos=1)
    flush(acl_clients, alice, bob_sub)
    assert topics(alice) == ["shared/k/status"]
    assert topics(bob_sub) == ["alice/news"]


def test_retained_messages_on_subscribe_are_checked(acl_clients):
    """Mosquitto: retained messages sent on SUBSCRIBE are read-checked one by one: alice gets
    retained/a but not retained/hidden (her deny rule); an anonymous client gets neither."""
    bob = acl_clients.login("bob")
    bob.publish("retained/a", b"a", qos=1, retain=True)
    bob.publish("retained/hidden", b"h", qos=1, retain=True)
    bob.publish("sentinel/retained", b"s", qos=1, retain=True)
    alice = acl_clients.login("alice")
    alice.subscribe([("retained/#", 1), ("sentinel/retained", 1)])
    anon = acl_clients.login()
    # shardmq refuses retained/# outright: no rule lets an anonymous client read there.
    assert anon.subscribe([("retained/#", 1), ("sentinel/retained", 1)]) == \
        [refused_unless_mosquitto(acl_clients.broker, 1), 1]
    # The broker sends one SUBSCRIBE's retained messages in one pass.
    alice.wait_for_payload(b"s")
    anon.wait_for_payload(b"s")
    assert [(m.topic, m.retain) for m in alice.received() if m.topic.startswith("retained/")] \
        == [("retained/a", True)]
    assert topics(anon) == []


def test_refused_retained_publish_is_not_kept(acl_clients):
    """Mosquitto: a refused publish with the retain flag is not stored: a later subscriber
    that may read the topic finds nothing there."""
    alice = acl_clients.login("alice")
    alice.publish("bob/out", b"refused", qos=1, retain=True)
    bob = acl_clients.login("bob")
    bob.publish("retained/kept", b"kept", qos=1, retain=True)
    monitor = acl_clients.login("monitor")
    monitor.subscribe([("bob/out", 1), ("retained/kept", 1)])
    monitor.wait_for_payload(b"kept")  # sent in the same pass as anything on bob/out
    assert topics(monitor) == ["retained/kept"]


# -- wills -------------------------------------------------------------------------------------

def test_will_on_a_writable_topic_is_published(acl_clients):
    """Mosquitto: a will is write-checked when it is sent; alice may write will/alice."""
    bob = subscribed(acl_clients.login("bob"), "will/#")
    alice = acl_clients.login("alice", will=("will/alice", b"alice gone"))
    alice.drop()
    bob.wait_for_payload(b"alice gone")


def test_will_on_a_refused_topic_is_dropped(acl_clients):
    """Mosquitto: a will on a topic its client may not write does not refuse the CONNECT
    (CONNACK 0, 3.1.1) and is silently dropped when the connection dies."""
    bob = subscribed(acl_clients.login("bob"), "will/#")
    alice = acl_clients.login("alice", will=("will/other", b"not allowed"))
    alice.drop()
    # The will goes when the broker sees the socket close; a second client dying after it
    # (and its will arriving) shows the broker is past the first.
    acl_clients.login("alice", will=("will/alice", b"second")).drop()
    bob.wait_for_payload(b"second")
    flush(acl_clients, bob)
    assert bob.payloads("will/other") == []


# -- patterns ----------------------------------------------------------------------------------

def test_client_id_pattern(acl_clients):
    """Mosquitto: `pattern readwrite clients/%c/#` gives each client its own subtree;
    `pattern deny clients/%c/locked` carves a hole in it (pattern denies first)."""
    monitor = subscribed(acl_clients.login("monitor"), "clients/#")
    dev = acl_clients.login(client_id="dev1")
    dev.publish("clients/dev1/up", b"mine", qos=1)
    dev.publish("clients/dev2/up", b"someone else's", qos=1)
    dev.publish("clients/dev1/locked", b"pattern deny", qos=1)
    flush(acl_clients, monitor)
    assert topics(monitor) == ["clients/dev1/up"]


def test_username_pattern_and_anonymous(acl_clients):
    """Mosquitto: `pattern read users/%u/inbox` lets each user read their own inbox; a
    pattern with %u never applies to an anonymous client."""
    alice = subscribed(acl_clients.login("alice"), "users/#")
    anon = acl_clients.login()
    # shardmq refuses users/# to the anonymous client: it reaches no %u pattern.
    assert anon.subscribe([("users/#", 1), ("sentinel/#", 1)]) == \
        [refused_unless_mosquitto(acl_clients.broker, 1), 1]
    bob = acl_clients.login("bob")
    bob.publish("users/alice/inbox", b"for alice", qos=1)
    bob.publish("users/bob/inbox", b"for bob", qos=1)
    bob.publish("users//inbox", b"empty user level", qos=1)
    flush(acl_clients, alice, anon)
    assert topics(alice) == ["users/alice/inbox"]
    assert topics(anon) == []


def test_client_id_with_a_slash_spans_levels(acl_clients):
    """Mosquitto: %c is replaced as text, so client id "a/b" owns clients/a/b/#, and client
    "a" (owning clients/a/#) can read it too; "a/b" cannot read clients/a/other."""
    a = subscribed(acl_clients.login(client_id="a"), "clients/#")
    ab = subscribed(acl_clients.login(client_id="a/b"), "clients/#")
    ab.publish("clients/a/b/x", b"from a/b", qos=1)
    a.publish("clients/a/other", b"from a", qos=1)
    flush(acl_clients, a, ab)
    assert topics(a) == ["clients/a/b/x", "clients/a/other"]
    assert topics(ab) == ["clients/a/b/x"]


def test_client_id_with_a_wildcard_gets_no_pattern(acl_clients):
    """Mosquitto: a client id (or user name) holding '+' or '#' is refused everything the
    patterns would grant (here sentinel/# and clients/%c/#), but keeps its own topic rules
    (the anonymous `write anon/in`)."""
    monitor = subscribed(acl_clients.login("monitor"), "#")
    evil = acl_clients.login(client_id="evil#1")
    evil.publish("sentinel/evil", b"pattern-granted", qos=1)
    evil.publish("anon/in", b"own rule", qos=1)
    flush(acl_clients, monitor)
    assert [(m.topic, m.payload) for m in monitor.received()
            if m.topic in ("sentinel/evil", "anon/in")] == [("anon/in", b"own rule")]


# -- anonymous clients and users without rules -------------------------------------------------

def test_rules_before_any_user_line_are_anonymous_only(acl_clients):
    """Mosquitto: the rules above the first `user` line apply to clients without a user name
    and to no one else: alice and carol (no section of her own) do not get public/#."""
    anon = subscribed(acl_clients.login(), "public/#")
    # shardmq refuses public/# to alice and carol: no rule of theirs reads there.
    no = refused_unless_mosquitto(acl_clients.broker, 1)
    alice = acl_clients.login("alice")
    carol = acl_clients.login("carol")
    for c in (alice, carol):
        assert c.subscribe([("public/#", 1), ("sentinel/#", 1)]) == [no, 1]
    acl_clients.login("bob").publish("public/news", b"news", qos=1)
    flush(acl_clients, anon, alice, carol)
    assert topics(anon) == ["public/news"]
    assert topics(alice) == []
    assert topics(carol) == []


def test_user_without_a_section_gets_patterns_only(acl_clients):
    """Mosquitto: carol has no rules of her own and does not inherit the anonymous ones, so
    only the patterns speak for her."""
    monitor = subscribed(acl_clients.login("monitor"), "#")
    carol = acl_clients.login("carol", client_id="carol-1")
    carol.publish("clients/carol-1/x", b"pattern", qos=1)
    carol.publish("anon/in", b"anonymous rule", qos=1)
    flush(acl_clients, monitor)
    assert topics(monitor) == ["clients/carol-1/x"]


# -- $SYS and other $ topics -------------------------------------------------------------------

def test_sys_needs_a_rule_starting_with_dollar(acl_clients):
    """Mosquitto: `topic read #` does not reach $SYS; `topic read $SYS/#` does (the broker's
    $SYS messages are retained, so they arrive on subscribe)."""
    wide = acl_clients.login("wide")
    # shardmq refuses $SYS/# to wide: `read #` does not reach '$' topics.
    assert wide.subscribe([("$SYS/#", 0), ("sentinel/#", 1)]) == \
        [refused_unless_mosquitto(acl_clients.broker, 0), 1]
    monitor = acl_clients.login("monitor")
    assert monitor.subscribe("$SYS/#", 0) == [0]
    wait_until(lambda: any(m.topic.startswith("$SYS/broker/") for m in monitor.received()),
               15, "$SYS at monitor")
    flush(acl_clients, wide)
    assert [m.topic for m in wide.received() if m.topic.startswith("$")] == []


def test_publishing_to_sys_is_refused_even_with_a_rule(acl_clients):
    """Mosquitto: clients never publish to $SYS (a broker rule, ahead of acl_file), even with
    `readwrite $SYS/#`; another $ topic is up to the ACL like any topic."""
    monitor = acl_clients.login("monitor")
    monitor.subscribe([("$SYS/custom/#", 1), ("$custom/#", 1), ("sentinel/#", 1)])
    sysw = acl_clients.login("sysw")
    sysw.publish("$SYS/custom/x", b"refused", qos=1)
    sysw.publish("$custom/x", b"allowed", qos=1)
    flush(acl_clients, monitor)
    assert topics(monitor) == ["$custom/x"]


def test_broker_only_dollar_topics_by_prefix(acl_clients):
    """Mosquitto: the $SYS rule tests the bytes "$SYS", so $SYSTEM/x is refused too, and
    "$share" topics are refused for writing the same way (PUBACK 0x87 in MQTT 5), whatever the
    ACL grants. It lets $SYS/broker/connection/+/state through to the ACL, for its bridges;
    shardmq deliberately refuses that one too: it has no bridges (docs/security.md)."""
    sysw = acl_clients.raw_login("sysw", "sysw-v5")

    def puback_code(topic, packet_id):
        sysw.publish(topic, b"x", qos=1, packet_id=packet_id)
        ack = sysw.read_packet()
        assert ack.type == raw_mqtt.PUBACK and struct.unpack_from("!H", ack.body)[0] == packet_id
        return ack.body[2] if len(ack.body) > 2 else 0

    for i, topic in enumerate(["$SYS/x", "$SYSTEM/x", "$share/g/x", "$share"]):
        assert puback_code(topic, 10 + i) == NOT_AUTHORIZED, topic
    assert puback_code("$custom/x", 20) < 0x80  # Mosquitto: 0x10, no matching subscribers
    bridge_state = puback_code("$SYS/broker/connection/b1/state", 21)
    if is_shardmq(acl_clients.broker):
        assert bridge_state == NOT_AUTHORIZED
    else:
        assert bridge_state < 0x80


def test_will_to_sys_is_dropped(acl_clients):
    """Mosquitto: a will is a publish like any other, so one on $SYS is refused and dropped,
    even for a client whose rules grant `readwrite $SYS/#`."""
    monitor = acl_clients.login("monitor")
    assert monitor.subscribe([("$SYS/will", 1), ("sentinel/#", 1)]) == [1, 1]
    acl_clients.login("sysw", will=("$SYS/will", b"refused")).drop()
    acl_clients.login("alice", will=("sentinel/will", b"after")).drop()
    monitor.wait_for_payload(b"after")
    flush(acl_clients, monitor)
    assert topics(monitor) == []


# -- the file itself ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad_acl", [
    "topic read a\n  # a comment, but indented\n",
    "topic\tread a\n",  # words are separated by spaces only
    "topic reed a\n",
    "topic read a/#/b\n",
    "user\n",
    "topic\n",
], ids=["indented-comment", "tab-separated", "bad-access", "bad-topic", "no-user", "no-topic"])
def test_a_bad_acl_file_stops_the_broker(broker_factory, bad_acl):
    """Mosquitto: any line it cannot read is fatal at start-up (it exits with status 3 and
    logs "Error: ... in acl_file"); it never runs with part of an ACL file."""
    with pytest.raises(RuntimeError, match="did not start"):
        broker_factory(bad_acl)


def test_an_acl_file_of_comments_only_refuses_everything(broker_factory, tmp_path):
    """Mosquitto (since CVE-2018-12550): an ACL file with no rules is still an ACL: every
    publish and delivery is refused, though SUBSCRIBE is still granted (shardmq refuses it:
    nothing can ever be read)."""
    broker = broker_factory("# nothing but a comment\n\n")
    pool = AclClients(broker)
    try:
        sub = pool.login("alice")
        assert sub.subscribe("#", 1) == [refused_unless_mosquitto(broker, 1)]
        pub = pool.login("alice")
        pub.publish("a/b", b"x", qos=1)
        raw = pool.raw_login("bob", "bob-v5")
        raw.publish("a/b", b"x", qos=1, packet_id=3)
        ack = raw.read_packet()
        assert ack.type == raw_mqtt.PUBACK and ack.body[2] == NOT_AUTHORIZED
        # Nothing may be read here, so there is no sentinel; the refused publish after the
        # first shows the broker is past it.
        assert sub.received() == []
    finally:
        pool.close_all()
    assert broker.stop() == 0


RELOAD_BEFORE = textwrap.dedent("""\
    pattern readwrite sentinel/#
    user alice
    topic read a/#
    user bob
    topic write a/#
    topic write b/#
    """)
RELOAD_AFTER = RELOAD_BEFORE + textwrap.dedent("""\
    user alice
    topic deny a/x
    topic read b/#
    user bob
    topic write reload/probe
    """)


def test_a_reload_applies_to_existing_subscriptions(broker_factory):
    """Mosquitto: SIGHUP re-reads the ACL file and the next delivery on an existing
    subscription is checked against the new rules: alice, subscribed to a/#, stops getting a/x
    once it is denied to her, and starts getting b/z once she may read b/#. shardmq does the
    same for what it granted; but it refused b/# at SUBSCRIBE (docs/security.md), and a refused
    filter is no subscription, so b/z reaches alice only once she subscribes again."""
    broker = broker_factory(RELOAD_BEFORE)
    pool = AclClients(broker)
    try:
        alice = pool.login("alice")
        assert alice.subscribe([("a/#", 1), ("b/#", 1), ("sentinel/#", 1)]) == \
            [1, refused_unless_mosquitto(broker, 1), 1]
        broker.acl_path.write_text(RELOAD_AFTER)
        broker.reload()
        probe = pool.raw_login("bob", "bob-probe")
        deadline = time.monotonic() + 10
        for packet_id in range(1, 1000):  # until bob may write reload/probe: the new rules
            probe.publish("reload/probe", b"x", qos=1, packet_id=packet_id)
            ack = probe.read_packet()
            assert ack.type == raw_mqtt.PUBACK, ack
            if len(ack.body) == 2 or ack.body[2] < 0x80:  # no reason code: success
                break
            assert time.monotonic() < deadline, "the new ACL never took effect"
            time.sleep(0.1)
        bob = pool.login("bob")
        for t in ("a/x", "a/y", "b/z"):
            bob.publish(t, b"x", qos=1)
        flush(pool, alice)
        assert topics(alice) == (["a/y"] if is_shardmq(broker) else ["a/y", "b/z"])
        assert alice.subscribe("b/#", 1) == [1]
        bob.publish("b/again", b"x", qos=1)
        flush(pool, alice)
        assert "b/again" in topics(alice)
    finally:
        pool.close_all()
    assert broker.stop() == 0
