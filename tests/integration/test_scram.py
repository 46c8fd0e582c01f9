"""MQTT 5 enhanced authentication with SCRAM-SHA-256 (RFC 7677), through real sockets: the
client side is written from the RFCs in scram_client.py, the user made by shardmq-passwd.
Mosquitto has no SCRAM (it needs a plugin), so these run against shardmq only, except the
refusal of a method the broker does not offer, which both answer alike."""
import subprocess

import pytest

from auth_broker import have_mosquitto_tools
from broker_process import shardmq_binary
from paho_client import MQTTv5, MQTTv311, PahoClient
from raw_mqtt import CONNACK, MQTT5, RawConnection, subscribe_packet, SUBACK
from scram_client import (AUTH, CONTINUE, METHOD, REAUTHENTICATE, ScramClient, auth_packet,
                          connect_packet, parse_auth, property_bytes)
from wait_condition import wait_until


def add_user(path, user, password, create=False, kind="scram-sha-256"):
    tool = shardmq_binary().parent / "shardmq-passwd"
    args = [str(tool), "-H", kind] + (["-c"] if create else []) + ["-b", str(path), user, password]
    subprocess.run(args, check=True, capture_output=True, timeout=60)


@pytest.fixture
def passwd(tmp_path):
    path = tmp_path / "passwd"
    add_user(path, "sam", "sam-secret", create=True)
    add_user(path, "olga", "olga-secret", kind="sha512-pbkdf2")  # no SCRAM keys
    acl = tmp_path / "acl"
    acl.write_text("user sam\ntopic readwrite sam/#\n\nuser olga\ntopic readwrite olga/#\n")
    return path, acl


def scram_login(broker, user, password, client_id="scram-client"):
    """Runs the exchange; returns (connection, CONNACK reason, CONNACK properties, client)."""
    conn = RawConnection(broker.host, broker.port)
    conn.version = MQTT5
    scram = ScramClient(user, password)
    conn.send(connect_packet(client_id, METHOD, scram.first()))
    p = conn.read_packet()
    if p.type == CONNACK:
        reason, props = parse_auth(p)
        return conn, reason, props, scram
    reason, props = parse_auth(p)
    assert (p.type, reason) == (AUTH, CONTINUE)
    assert property_bytes(props, 0x15) == METHOD.encode()
    conn.send(auth_packet(CONTINUE, METHOD, scram.final(property_bytes(props, 0x16))))
    p = conn.read_packet()
    assert p.type == CONNACK, p
    reason, props = parse_auth(p)
    return conn, reason, props, scram


def suback_codes(conn, topic):
    conn.send(subscribe_packet(1, [(topic, 1)], MQTT5))
    p = conn.read_packet()
    assert p.type == SUBACK, p
    return list(p.body[3 + p.body[2]:])


def test_scram_logs_in_proves_the_broker_and_names_the_user(started, passwd):
    path, acl = passwd
    b = started("shardmq", password_file=str(path), acl_file=str(acl))
    conn, reason, props, scram = scram_login(b, "sam", "sam-secret")
    assert reason == 0
    assert property_bytes(props, 0x15) == METHOD.encode()
    assert scram.verify(property_bytes(props, 0x16)), "the broker's server signature"
    # CONNECT carried no user name: the ACL knows the client as SCRAM's user.
    assert suback_codes(conn, "sam/inbox") == [1]
    assert suback_codes(conn, "olga/inbox") == [0x87]
    conn.close()


def test_a_wrong_scram_password_is_refused_and_others_carry_on(started, passwd):
    path, acl = passwd
    b = started("shardmq", password_file=str(path), acl_file=str(acl))
    other = PahoClient(b.host, b.port, protocol=MQTTv5)
    other.client.username_pw_set("olga", "olga-secret")
    other.connect()
    other.subscribe("olga/news", qos=1)
    for user, password in [("sam", "wrong"), ("nobody", "sam-secret"), ("olga", "olga-secret")]:
        conn, reason, _, _ = scram_login(b, user, password)
        assert reason == 0x86, (user, reason)  # olga has no SCRAM keys: as a wrong password
        conn.read_until_closed()
    other.publish("olga/news", b"still here", qos=1)
    wait_until(lambda: len(other.messages) == 1, 10, "the other client's message")
    other.close()
    log = b.log_text()
    assert "login refused for client 'scram-client'" in log and "wrong password" in log
    assert "sam-secret" not in log and "wrong," not in log


def test_a_scram_entry_also_takes_the_plain_password(started, passwd):
    path, acl = passwd
    b = started("shardmq", password_file=str(path), acl_file=str(acl))
    for protocol in (MQTTv311, MQTTv5):
        c = PahoClient(b.host, b.port, protocol=protocol)
        c.client.username_pw_set("sam", "sam-secret")
        c.connect()
        c.subscribe("sam/plain", qos=1)
        c.publish("sam/plain", b"x", qos=1)
        wait_until(lambda: len(c.messages) == 1, 10, "own message")
        c.close()


def test_a_connected_scram_client_re_authenticates(started, passwd):
    path, acl = passwd
    b = started("shardmq", password_file=str(path), acl_file=str(acl))
    conn, reason, _, _ = scram_login(b, "sam", "sam-secret")
    assert reason == 0
    again = ScramClient("sam", "sam-secret")
    conn.send(auth_packet(REAUTHENTICATE, METHOD, again.first()))
    reason, props = parse_auth(conn.read_packet())
    assert reason == CONTINUE
    conn.send(auth_packet(CONTINUE, METHOD, again.final(property_bytes(props, 0x16))))
    p = conn.read_packet()
    reason, props = parse_auth(p)
    assert (p.type, reason) == (AUTH, 0)
    assert again.verify(property_bytes(props, 0x16))
    assert suback_codes(conn, "sam/after") == [1]  # still connected, still sam

    # Failing a re-authentication ends the connection (DISCONNECT 0x87).
    wrong = ScramClient("sam", "not-it")
    conn.send(auth_packet(REAUTHENTICATE, METHOD, wrong.first()))
    _, props = parse_auth(conn.read_packet())
    conn.send(auth_packet(CONTINUE, METHOD, wrong.final(property_bytes(props, 0x16))))
    packets = conn.read_until_closed()
    assert [(p.type, p.body[0]) for p in packets] == [(14, 0x87)]


def test_anything_but_auth_in_the_exchange_is_a_protocol_error(started, passwd):
    path, _ = passwd
    b = started("shardmq", password_file=str(path))
    conn = RawConnection(b.host, b.port)
    conn.send(connect_packet("early", METHOD, ScramClient("sam", "sam-secret").first()))
    assert conn.read_packet().type == AUTH
    conn.send(subscribe_packet(1, [("sam/x", 0)], MQTT5))
    packets = conn.read_until_closed()
    assert [(p.type, p.body[1]) for p in packets] == [(CONNACK, 0x82)]


@pytest.mark.parametrize("kind", ["shardmq", "mosquitto"])
def test_a_method_the_broker_does_not_offer_is_refused_with_0x8c(kind, started, passwd):
    if kind == "mosquitto" and not have_mosquitto_tools():
        pytest.skip("needs mosquitto (scripts/deps test)")
    path, _ = passwd
    b = started(kind, password_file=str(path))
    conn = RawConnection(b.host, b.port)
    conn.send(connect_packet("kerberos", "GSSAPI", b"\x01\x02"))
    packets = conn.read_until_closed()
    assert [(p.type, p.body[1]) for p in packets] == [(CONNACK, 0x8C)]


def test_scram_off_refuses_the_method(started, passwd):
    path, _ = passwd
    b = started("shardmq", password_file=str(path), scram=False)
    conn, reason, _, _ = scram_login(b, "sam", "sam-secret")
    assert reason == 0x8C
