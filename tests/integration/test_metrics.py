"""The http:// listener: GET /metrics in the Prometheus text format (promtool accepts it),
its counters moving by exactly what real clients did, /status.json, basic auth against the
password file, and HTTP errors that close only their own connection. shardmq only:
Mosquitto has no HTTP listener (its figures are in $SYS, test_sys_topics.py)."""
import base64
import json
import shutil
import socket
import subprocess

import pytest
from paho.mqtt.client import MQTTv5

from auth_broker import mosquitto_passwd
from broker_process import broker_kind
from paho_client import PahoClient
from wait_condition import wait_until

pytestmark = pytest.mark.skipif(broker_kind() != "shardmq", reason="shardmq's own HTTP listener")

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def paho(broker, **kw):
    return PahoClient(broker.host, broker.port, **kw)


def test_promtool_accepts_the_exposition(metrics_broker):
    b = metrics_broker()
    sub = paho(b).connect()
    sub.subscribe("t/#", qos=1)
    pub = paho(b).connect()
    for i in range(5):
        pub.publish("t/x", b"m", qos=i % 2)
    sub.wait_for_count(5)
    text = b.scrape().text
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    # promtool prints lint findings (and exits 1) for anything off-convention.
    assert r.returncode == 0, (r.stdout + r.stderr).decode()
    pub.close()
    sub.close()


def test_shared_subscription_deliveries_are_timed(metrics_broker):
    # Each message goes to a plain subscriber and to one member of a $share group: two
    # latency samples, one for the shard that wrote it to its plain subscribers, one for the
    # member's delivery, wherever the three clients landed among the shards.
    b = metrics_broker(shards=2)
    members = [paho(b, protocol=MQTTv5).connect() for _ in range(2)]
    for c in members:
        c.subscribe("$share/g/s/#", qos=1)
    plain = paho(b).connect()
    plain.subscribe("s/#", qos=0)
    pub = paho(b).connect()
    n = 12
    for _ in range(n):
        pub.publish("s/x", b"m", qos=1)
    plain.wait_for_count(n)
    wait_until(lambda: sum(len(c.messages) for c in members) == n or None,
               what="the group's messages")
    m = wait_until(lambda: (lambda s: s if s.total("shardmq_publish_delivery_seconds_count")
                            >= 2 * n else None)(b.scrape()), what="the latency samples")
    assert m.total("shardmq_publish_delivery_seconds_count") == 2 * n
    assert m.total("shardmq_publish_delivery_seconds_bucket", le="+Inf") == 2 * n
    for c in members + [plain, pub]:
        c.close()


def test_counters_match_what_the_clients_did(metrics_broker):
    b = metrics_broker(shards=2)
    mqtt_listener = f"mqtt://{b.host}:{b.port}"
    # The start-up probe connected once: wait until it was accepted and has closed.
    before = wait_until(lambda: (lambda s: s if s.total("shardmq_connections") == 0 and s.value(
        "shardmq_connections_accepted_total", listener=mqtt_listener) == 1 else None)(b.scrape()),
        what="the start-up probe's connection to come and go")
    assert before.value("shardmq_shards") == 2
    sub = paho(b).connect()
    sub.subscribe("m/#", qos=1)
    pubs = [paho(b).connect() for _ in range(2)]
    qos0, qos1 = 7, 5
    for i in range(qos0):
        pubs[i % 2].publish("m/zero", b"0" * 10, qos=0)
    for i in range(qos1):
        pubs[i % 2].publish("m/one", b"1" * 10, qos=1)
    sub.wait_for_count(qos0 + qos1)
    m = wait_until(lambda: (lambda s: s if s.total("shardmq_messages_sent_total") >= 12 else None)(
        b.scrape()), what="the deliveries counted")
    assert m.total("shardmq_connections") == 3
    assert (m.value("shardmq_connections_accepted_total", listener=mqtt_listener) -
            before.value("shardmq_connections_accepted_total", listener=mqtt_listener)) == 3
    assert m.value("shardmq_connections_accepted_total",
                   listener=f"http://{b.host}:{b.http_port}") == 0  # HTTP is not MQTT
    assert m.value("shardmq_sessions", state="connected") == 3
    assert m.value("shardmq_sessions", state="offline") == 0
    # By QoS: each message once in, once out at the QoS it was sent with (granted 1).
    assert m.total("shardmq_messages_received_total", qos="0") == qos0
    assert m.total("shardmq_messages_received_total", qos="1") == qos1
    assert m.total("shardmq_messages_sent_total", qos="1") == qos1
    assert m.total("shardmq_message_payload_bytes_received_total") == 10 * (qos0 + qos1)
    assert m.total("shardmq_messages_queued") == 0
    assert m.value("shardmq_subscriptions") == 1
    assert m.total("shardmq_messages_received_total") == qos0 + qos1
    assert m.total("shardmq_messages_sent_total") == qos0 + qos1
    # One latency sample a message on the one shard with its subscriber.
    assert m.total("shardmq_publish_delivery_seconds_count") == qos0 + qos1
    assert m.total("shardmq_publish_delivery_seconds_bucket", le="+Inf") == qos0 + qos1
    assert m.total("shardmq_publish_delivery_seconds_sum") > 0
    # Each PUBLISH of 10 payload bytes and a 6-byte topic is at least 20 bytes on the wire.
    assert m.total("shardmq_bytes_received_total") >= 20 * (qos0 + qos1)
    assert m.total("shardmq_messages_dropped_total") == 0
    assert m.value("shardmq_auth_total", result="success") == 3  # anyone may connect
    assert m.value("shardmq_auth_total", result="failure") == 0
    assert m.value("shardmq_storage_commits_total") == 0  # no [storage] durability
    for p in pubs:
        p.close()
    sub.close()
    m = wait_until(lambda: (lambda s: s if s.total("shardmq_connections") == 0 else None)(
        b.scrape()), what="the connections to close")
    assert m.value("shardmq_sessions", state="connected") == 0


def test_queue_full_drops_are_counted_by_reason(metrics_broker):
    # No $SYS: its retained messages would count.
    b = metrics_broker(toml="[limits]\nmax_queued_messages = 4\n\n[sys]\ninterval = 0\n")
    sub = paho(b, protocol=MQTTv5, session_expiry=300).connect()
    sub.subscribe("q/#", qos=1)
    sub.drop()  # the session stays, offline: QoS 1 is queued for it, up to 4
    wait_until(lambda: b.scrape().total("shardmq_connections") == 0, what="the drop")
    pub = paho(b).connect()
    for _ in range(10):
        pub.publish("q/x", b"x", qos=1)
    m = b.scrape()
    assert m.value("shardmq_messages_dropped_total", reason="queue_full") == 6
    assert m.value("shardmq_messages_dropped_total", reason="acl") == 0
    # The offline session with what it holds; the retained message in every replica.
    assert m.value("shardmq_sessions", state="offline") == 1
    assert m.total("shardmq_messages_queued") == 4
    assert m.total("shardmq_messages_inflight") == 0
    pub.publish("keep/it", b"12345", qos=1, retain=True)
    m = wait_until(lambda: (lambda s: s if s.value("shardmq_retained_messages") == 1 else None)(
        b.scrape()), what="the retained message")
    assert m.value("shardmq_retained_bytes") == len("keep/it") + 5
    back = paho(b, protocol=MQTTv5, session_expiry=300, client_id=sub.client_id,
                clean_session=False).connect()
    back.wait_for_count(4)
    m = wait_until(lambda: (lambda s: s if s.total("shardmq_messages_queued") == 0 else None)(
        b.scrape()), what="the queue delivered")
    assert m.value("shardmq_sessions", state="offline") == 0
    assert m.value("shardmq_sessions", state="connected") == 2
    back.close()
    pub.close()


def test_refusals_and_auth_failures_by_reason(metrics_broker, tmp_path):
    passwd = tmp_path / "passwd"
    mosquitto_passwd(passwd, "alice", "secret", create=True)
    b = metrics_broker(toml=f'[auth]\npassword_file = "{passwd}"\n')
    bad = paho(b, protocol=MQTTv5)
    bad.client.username_pw_set("alice", "wrong")
    bad.connect(expect_code=0x86)
    anonymous = paho(b)
    anonymous.connect(expect_code=5)
    good = paho(b)
    good.client.username_pw_set("alice", "secret")
    good.connect()
    m = wait_until(lambda: (lambda s: s if s.value("shardmq_auth_total", result="failure") >= 1
                            else None)(b.scrape()), what="the verdicts")
    assert m.value("shardmq_connections_refused_total", reason="bad_credentials") == 1
    assert m.value("shardmq_connections_refused_total", reason="not_authorized") == 1
    assert m.value("shardmq_auth_total", result="success") == 1
    assert m.value("shardmq_auth_total", result="failure") == 2
    for c in (bad, anonymous, good):
        c.close()


def test_status_json_summarises_the_broker(metrics_broker):
    b = metrics_broker(shards=2, toml="[sys]\ninterval = 7\n")
    status, hdrs, body = b.get("/status.json")
    assert status == 200 and hdrs["content-type"] == "application/json"
    s = json.loads(body)
    version = b.scrape().text.split('shardmq_build_info{version="')[1].split('"')[0]
    assert s["version"] == version
    assert s["shards"] == 2 and s["io"] == "epoll"
    assert s["listeners"] == [f"mqtt://{b.host}:{b.port}", f"http://{b.host}:{b.http_port}"]
    assert s["config"]["sys_interval_s"] == 7
    assert s["config"]["durability"] == "none"
    assert s["uptime_seconds"] >= 0


def test_basic_auth_against_the_password_file(metrics_broker, tmp_path):
    passwd = tmp_path / "passwd"
    mosquitto_passwd(passwd, "ops", "pa:ss", create=True)  # a colon belongs to the password
    b = metrics_broker(toml=f'[auth]\npassword_file = "{passwd}"\n', basic_auth=True)

    def auth(user, password):
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    status, hdrs, _ = b.get("/metrics")
    assert status == 401
    assert hdrs["www-authenticate"].startswith('Basic realm="shardmq"')
    assert b.get("/metrics", headers=auth("ops", "wrong"))[0] == 401
    assert b.get("/status.json", headers=auth("nobody", "pa:ss"))[0] == 401
    assert b.get("/metrics", headers=auth("ops", "pa:ss"))[0] == 200
    assert b.get("/status.json", headers=auth("ops", "pa:ss"))[0] == 200  # remembered
    assert b.get("/metrics", headers={"Authorization": "Bearer x"})[0] == 401


def raw_http(b, data, read_until_close=True):
    with socket.create_connection((b.host, b.http_port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while read_until_close:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_http_errors_close_only_their_connection(metrics_broker):
    b = metrics_broker()
    sub = paho(b).connect()
    sub.subscribe("e/#")
    assert raw_http(b, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert raw_http(b, b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n").startswith(
        b"HTTP/1.1 431 ")
    status, hdrs, _ = b.get("/metrics", method="POST")
    assert status == 405 and hdrs["allow"] == "GET, HEAD"
    assert b.get("/no/such/page")[0] == 404
    status, hdrs, body = b.get("/metrics", method="HEAD")
    assert status == 200 and body == b"" and int(hdrs["content-length"]) > 0
    # Two requests on one connection (keep-alive), the second sent before the first is answered.
    both = raw_http(b, b"GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"GET /status.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert both.count(b"HTTP/1.1 200 OK\r\n") == 2
    # The MQTT side never noticed.
    pub = paho(b).connect()
    pub.publish("e/x", b"still here")
    sub.wait_for_payload(b"still here")
    pub.close()
    sub.close()


def test_grafana_dashboard_queries_name_families_that_exist(metrics_broker):
    import pathlib
    import re
    dashboard = json.loads((pathlib.Path(__file__).resolve().parents[2] / "docs" / "grafana" /
                            "shardmq.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs
    families = {re.sub(r"_(bucket|sum|count)$", "", n) if "_seconds_" in n else n
                for n, _ in metrics_broker().scrape().samples}
    for e in exprs:
        for name in re.findall(r"\bshardmq_[a-z_]+", e):
            family = re.sub(r"_bucket$", "", name)
            assert family in families, f"{name} in {e!r} is not exported"
