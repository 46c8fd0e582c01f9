"""Password files and login refusals through real clients, against shardmq and against
Mosquitto with the same files (the password file made by Debian's mosquitto_passwd)."""
import time

import paho.mqtt.client as mqtt
import pytest

from auth_broker import AuthBroker, have_mosquitto_tools, mosquitto_passwd
from listener_broker import client_tls_context
from tls_certs import CLIENT_CN, make_certs, openssl_available
from paho_client import MQTTv5, MQTTv311, PahoClient
from wait_condition import wait_until

pytestmark = pytest.mark.skipif(not have_mosquitto_tools(),
                                reason="needs mosquitto and mosquitto_passwd (scripts/deps test)")

BROKERS = ["shardmq", "mosquitto"]


@pytest.fixture
def started(tmp_path):
    """started(kind, **auth) -> a running AuthBroker; all are stopped and checked at the end."""
    brokers = []

    def start(kind, shards=2, tls=None, **auth):
        b = AuthBroker(kind, tmp_path / f"{kind}-{len(brokers)}", auth, shards=shards, tls=tls)
        b.workdir.mkdir(parents=True, exist_ok=True)
        brokers.append(b)
        return b.start()

    yield start
    for b in brokers:
        b.stop_and_check()


@pytest.fixture
def passwd(tmp_path):
    path = tmp_path / "passwd"
    mosquitto_passwd(path, "alice", "alice-secret", create=True)
    mosquitto_passwd(path, "carol", "carol-secret")
    return path


def client(broker, user=None, password=None, protocol=MQTTv311, **kw):
    c = PahoClient(broker.host, broker.port, protocol=protocol, **kw)
    if user is not None:
        c.client.username_pw_set(user, password)
    return c


def refused_code(broker, user, password, protocol):
    c = client(broker, user, password, protocol)
    try:
        c.connect(expect_code=None)
        return c.connack[1]
    finally:
        c.close()


@pytest.mark.parametrize("kind", BROKERS)
def test_a_password_file_from_mosquitto_passwd_lets_its_users_in(kind, started, passwd):
    b = started(kind, password_file=str(passwd))
    for user, password in [("alice", "alice-secret"), ("carol", "carol-secret")]:
        c = client(b, user, password).connect()
        c.subscribe(f"own/{user}", qos=1)
        c.publish(f"own/{user}", b"hello", qos=1)
        wait_until(lambda: len(c.messages) == 1, 10, "own message back")
        c.close()


@pytest.mark.parametrize("kind", BROKERS)
@pytest.mark.parametrize("protocol,expected", [(MQTTv311, 5), (MQTTv5, 0x86)],
                         ids=["3.1.1", "5.0"])
def test_a_wrong_password_or_unknown_user_is_refused(kind, protocol, expected, started, passwd):
    if kind == "mosquitto" and protocol == MQTTv5:
        # Deliberate difference (docs/security.md): Mosquitto 2.0.11 answers 0x87 (Not
        # authorized); shardmq gives the code MQTT 5 has for it, 0x86 (Bad User Name or
        # Password).
        expected = 0x87
    b = started(kind, password_file=str(passwd))
    assert refused_code(b, "alice", "wrong", protocol) == expected
    assert refused_code(b, "nobody", "alice-secret", protocol) == expected
    client(b, "alice", "alice-secret", protocol).connect().close()  # the right one still works


@pytest.mark.parametrize("kind", BROKERS)
@pytest.mark.parametrize("protocol,expected", [(MQTTv311, 5), (MQTTv5, 0x87)],
                         ids=["3.1.1", "5.0"])
def test_anonymous_clients_are_refused_once_a_password_file_is_set(kind, protocol, expected,
                                                                   started, passwd):
    b = started(kind, password_file=str(passwd))
    assert refused_code(b, None, None, protocol) == expected


@pytest.mark.parametrize("kind", BROKERS)
def test_allow_anonymous_true_lets_anonymous_clients_in_beside_the_password_file(
        kind, started, passwd):
    b = started(kind, password_file=str(passwd), allow_anonymous=True)
    client(b).connect().close()
    assert refused_code(b, "alice", "wrong", MQTTv311) == 5  # named users are still checked


def test_failed_logins_are_rate_limited_per_address_and_logged_without_the_password(
        started, passwd):
    # shardmq only: Mosquitto has no limit on failed logins. One shard: the limit is counted
    # per shard, and the kernel spreads one address's connections over the shards.
    b = started("shardmq", shards=1, password_file=str(passwd), max_login_failures=3,
                login_failure_window_s=600)
    for _ in range(3):
        assert refused_code(b, "alice", "guess-" + "x" * 7, MQTTv311) == 5
    # Past the limit even the right password is refused, without being checked.
    assert refused_code(b, "alice", "alice-secret", MQTTv311) == 5
    log = b.log_text()
    assert "login refused for user 'alice' from 127.0.0.1: wrong password" in log
    assert "too many failed logins" in log
    assert "guess-" not in log and "alice-secret" not in log


@pytest.mark.parametrize("kind", BROKERS)
def test_sighup_adds_a_user_while_connected_clients_stay(kind, started, passwd):
    b = started(kind, password_file=str(passwd))
    alice = client(b, "alice", "alice-secret").connect()
    alice.subscribe("room", qos=1)
    assert refused_code(b, "bob", "bob-secret", MQTTv311) == 5
    mosquitto_passwd(passwd, "bob", "bob-secret")
    b.reload()
    deadline = time.monotonic() + 10
    while refused_code(b, "bob", "bob-secret", MQTTv311) != 0:
        assert time.monotonic() < deadline, "bob was never let in after SIGHUP"
        time.sleep(0.1)
    bob = client(b, "bob", "bob-secret").connect()
    bob.publish("room", b"hi alice", qos=1)
    wait_until(lambda: len(alice.messages) == 1, 10, "alice, still connected, gets bob's message")
    assert not alice.disconnected.is_set()
    bob.close()
    alice.close()


def test_a_reload_that_fails_keeps_the_old_password_file(started, tmp_path, passwd):
    b = started("shardmq", password_file=str(passwd))
    passwd.write_text("alice:$7$not-a-hash\n")
    b.reload()
    wait_until(lambda: "keeping the old password file" in b.log_text(), 10, "reload failure logged")
    client(b, "alice", "alice-secret").connect().close()


@pytest.mark.skipif(not openssl_available(), reason="needs the openssl CLI")
# paho's network thread raises on the refused handshake at the end; that is the point.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize("kind", BROKERS)
def test_a_client_certificates_cn_is_the_user_name(kind, started, tmp_path, passwd):
    certs = make_certs(tmp_path / "pki")
    acl = tmp_path / "acl"
    acl.write_text(f"user {CLIENT_CN}\ntopic readwrite dev/#\n")
    b = started(kind, tls=certs, password_file=str(passwd), acl_file=str(acl))

    def device():
        c = PahoClient(b.host, b.port)
        c.client.tls_set_context(client_tls_context(certs, certs.client_cert, certs.client_key))
        return c

    # No user name, no password: the verified certificate is the credential, and its CN is
    # the user the ACL names (were it not, no rule would apply and nothing would arrive).
    d = device().connect()
    d.subscribe("dev/#", qos=1)
    d.subscribe("other/#", qos=1)  # granted by Mosquitto, refused by shardmq: see test_acl.py
    d.publish("dev/a", b"mine", qos=1)
    d.publish("other/a", b"not mine", qos=1)  # client-one may not write outside dev/
    d.publish("dev/b", b"marker", qos=1)
    wait_until(lambda: len(d.messages) == 2, 10, "the device's own messages")
    assert [m.topic for m in d.messages] == ["dev/a", "dev/b"]
    # Without a certificate the TLS handshake itself fails (require_certificate).
    bare = PahoClient(b.host, b.port)
    bare.client.tls_set_context(client_tls_context(certs))
    with pytest.raises(Exception):
        bare.connect(timeout=5)
    bare.close()
    d.close()
