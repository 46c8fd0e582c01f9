"""--log-format json / broker.log_format: every line the broker writes is one JSON object
with ts, level, thread and msg, also when the message carries client-chosen bytes (a client
identifier with quotes, backslashes and a control character)."""
import json
import time

import pytest

from broker_process import broker_kind
from raw_mqtt import CONNACK, DISCONNECT, MQTT5, disconnect_packet, packet

pytestmark = pytest.mark.skipif(broker_kind() != "shardmq", reason="shardmq's own log format")

JSON_LOG = '[broker]\nlog_format = "json"\n'
ODD_ID = 'odd "id" \\ with\ttab\x01'


def taken_over(broker, clients):
    # The second CONNECT with the same identifier takes the session over, which is logged
    # with the identifier in it.
    first = clients.raw()
    assert first.connect(ODD_ID)[1] == 0
    second = clients.raw()
    assert second.connect(ODD_ID)[1] == 0
    deadline = time.time() + 10
    while "taking the session over" not in broker.log_text() and time.time() < deadline:
        time.sleep(0.05)


@pytest.mark.broker_options(shardmq_config=JSON_LOG)
def test_json_log_lines_parse_and_keep_the_client_id(broker, clients):
    taken_over(broker, clients)
    lines = [l for l in broker.log_text().splitlines() if l and not l.startswith("$ ")]
    records = [json.loads(l) for l in lines]  # each line on its own is valid JSON
    assert records
    for r in records:
        assert set(r) == {"ts", "level", "thread", "msg"}
        assert r["level"] in ("debug", "info", "warn", "error")
        assert r["ts"].endswith("Z")
    assert any(" ready with " in r["msg"] and r["thread"] == "main" for r in records)
    takeover = [r for r in records if "taking the session over" in r["msg"]]
    assert takeover and ODD_ID in takeover[0]["msg"]


def test_text_log_is_the_default(broker, clients):
    taken_over(broker, clients)
    lines = [l for l in broker.log_text().splitlines() if l and not l.startswith("$ ")]
    assert any(" info [main] shardmq " in l and " ready with " in l for l in lines)
    assert not any(l.startswith("{") for l in lines)


def wait_for_log(broker, text, timeout=10):
    deadline = time.time() + timeout
    while text not in broker.log_text():
        assert time.time() < deadline, f"no log line with {text!r}:\n{broker.log_text()[-2000:]}"
        time.sleep(0.05)


@pytest.mark.broker_options(shardmq_config=JSON_LOG)
def test_one_line_per_connect_and_disconnect(broker, clients):
    # The connect line names the client, its address, the listener, the protocol level, the
    # user name and the session; the disconnect line how it ended.
    tidy = clients.raw()
    assert tidy.connect("log-tidy")[1] == 0
    tidy.send(disconnect_packet())
    tidy.read_until_closed()
    lost = clients.raw()
    assert lost.connect("log-lost")[1] == 0
    lost.close()
    wait_for_log(broker, "client 'log-lost' disconnected")
    wait_for_log(broker, "client 'log-tidy' disconnected")
    msgs = [json.loads(l)["msg"] for l in broker.log_text().splitlines()
            if l.startswith("{")]
    connected = [m for m in msgs if m.startswith("client 'log-tidy' connected from ")]
    assert len(connected) == 1, msgs
    line = connected[0]
    assert "connected from 127.0.0.1 on mqtt://" in line
    assert "protocol level 4" in line and "user none" in line and "session new" in line
    assert "client 'log-tidy' disconnected: DISCONNECT" in msgs
    assert "client 'log-lost' disconnected: connection lost (no DISCONNECT)" in msgs


def test_disconnect_lines_carry_the_reason_code(broker, clients):
    # The reason code a connection ends with: what an MQTT 5 client's DISCONNECT said, or
    # what the broker sent (also to a 3.1.1 client, who is not told but whose operator is).
    normal = clients.raw()
    assert normal.connect("log-normal", version=MQTT5)[1] == 0
    normal.send(packet(DISCONNECT, 0, b"\x00\x00"))
    normal.read_until_closed()
    will = clients.raw()
    assert will.connect("log-will", version=MQTT5)[1] == 0
    will.send(packet(DISCONNECT, 0, b"\x04\x00"))  # 0x04: publish my will anyway
    will.read_until_closed()
    rude = clients.raw()
    assert rude.connect("log-rude", version=MQTT5)[1] == 0
    rude.send(packet(CONNACK, 0, b"\x00\x00\x00"))  # a packet only servers send
    rude.read_until_closed()
    silent = clients.raw()
    assert silent.connect("log-silent", keepalive=1)[1] == 0  # then says nothing
    silent.read_until_closed()
    wait_for_log(broker, "client 'log-silent' disconnected")
    text = broker.log_text()
    assert ("client 'log-normal' disconnected: DISCONNECT (reason 0x00: Normal disconnection)"
            in text)
    assert ("client 'log-will' disconnected: DISCONNECT (reason 0x04: Disconnect with Will "
            "Message)" in text)
    assert "client 'log-rude' disconnected: closed by the broker (reason 0x82: Protocol Error)" in text
    assert ("client 'log-silent' disconnected: closed by the broker (reason 0x8d: Keep Alive "
            "timeout)" in text)


@pytest.mark.heavy
def test_a_flood_of_clients_is_rate_limited_in_the_log(broker, clients):
    # Each shard writes at most 1000 lines at once, then 100 a second, and says how many it
    # left out: 2 x 2500 connect and disconnect lines do not all reach the log.
    flood = 2500
    for i in range(flood):
        c = clients.raw()
        assert c.connect(f"flood-{i}")[1] == 0
        c.close()
    time.sleep(0.1)  # the buckets refill a little: the next line can be written
    last = clients.raw()
    assert last.connect("after-the-flood")[1] == 0
    wait_for_log(broker, "client 'after-the-flood' connected")
    text = broker.log_text()
    written = text.count("client 'flood-")
    assert written < 2 * flood
    assert " log lines not written: over 100 a second" in text
