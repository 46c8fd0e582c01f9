"""--log-format json / broker.log_format: every line the broker writes is one JSON object
with ts, level, thread and msg, also when the message carries client-chosen bytes (a client
identifier with quotes, backslashes and a control character)."""
import json
import time

import pytest

from broker_process import broker_kind

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
