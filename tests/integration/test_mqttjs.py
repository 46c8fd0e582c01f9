"""MQTT 5 behaviours through MQTT.js under node (a second client library beside paho): Message
Expiry on a session's queue, Subscription Identifiers and passed-through properties, shared
subscriptions, and a will with a Will Delay. The scenarios are in mqttjs_scenarios.js."""
import json
import os
import pathlib
import subprocess

import pytest

from broker_process import broker_kind
from npm_install import NODE_MODULES

SCENARIOS = pathlib.Path(__file__).with_name("mqttjs_scenarios.js")

pytestmark = [pytest.mark.heavy,  # --shards 2 on both loops
              pytest.mark.usefixtures("mqttjs_installed")]


def run(broker, scenario):
    if not (NODE_MODULES / "mqtt").is_dir():
        pytest.skip(f"MQTT.js not installed at {NODE_MODULES} (npm ci in tests/browser)")
    out = subprocess.run(["node", str(SCENARIOS), scenario],
                         env={**os.environ, "NODE_PATH": str(NODE_MODULES),
                              "BROKER_URL": f"mqtt://{broker.host}:{broker.port}"},
                         capture_output=True, text=True, timeout=40)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def test_queued_messages_expire_and_carry_what_is_left(broker):
    r = run(broker, "expiry")
    assert r["present"] is True
    assert [t for t, _ in r["got"]] == ["jx/long", "jx/sentinel"]
    assert 1 <= r["got"][0][1] <= 58


def test_one_copy_with_every_identifier_and_the_publisher_s_properties(broker):
    r = run(broker, "identifiers")
    assert r["topic"] == "ji/t"
    if broker_kind() != "mosquitto":  # Mosquitto sends a copy per subscription (allowed)
        assert r["count"] == 2  # the message once, then the sentinel
        assert sorted(r["ids"]) == [3, 4]
    assert r["user"] == ["b", "a"]  # in the order published
    assert (r["type"], r["correlation"]) == ("text/plain", "cd")


def test_a_shared_group_gets_each_message_once(broker):
    counts = run(broker, "shared")
    assert sum(counts.values()) == 20
    if broker_kind() != "mosquitto":
        assert sorted(counts.values()) == [10, 10]  # round robin, one owner: exact halves


def test_a_delayed_will_arrives_without_its_delay(broker):
    r = run(broker, "will")
    assert (r["topic"], r["payload"], r["type"], r["delay"]) == ("jw/gone", "bye", "text/plain",
                                                                None)
