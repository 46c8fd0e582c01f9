"""A corrupt store (issue 13): RocksDB's own corruption reports, provoked the two ways a power
cut leaves a store, a torn CURRENT file and a MANIFEST overwritten with garbage. With
[storage] on_corruption = "refuse" (the default) the broker stops at start-up, exit 1, naming
the store and what to do, and leaves the files alone; with "move-aside" it renames the store,
says so in the log, starts empty and serves. Mosquitto has no equivalent: a corrupt
mosquitto.db keeps it from starting (what the issue set out to improve on)."""
import subprocess

import pytest

from durable_broker import DurableBroker
from paho_client import MQTTv311, PahoClient


def seed_store(workdir):
    """A store holding one retained message, written by a broker that then stopped cleanly."""
    b = DurableBroker(workdir).start()
    c = PahoClient(b.host, b.port, protocol=MQTTv311).connect()
    c.publish("corrupt/kept", b"before", qos=1, retain=True)
    c.close()
    b.stop_and_check()
    return b.data_dir


def retained_payloads(broker):
    """The retained payloads under corrupt/#: what arrives on subscribing, before a marker
    published afterwards (retained messages are sent first)."""
    c = PahoClient(broker.host, broker.port, protocol=MQTTv311).connect()
    try:
        c.subscribe("corrupt/#", 1)
        c.publish("corrupt/marker", b"marker", qos=1)
        c.wait_for_payload(b"marker")
        return [p for p in c.payloads() if p != b"marker"]
    finally:
        c.close()


def tear_current(data_dir):
    (data_dir / "CURRENT").write_bytes(b"MANIFEST-0000")  # cut mid-write: no newline


def garble_manifest(data_dir):
    for m in data_dir.glob("MANIFEST-*"):
        m.write_bytes(b"\xde\xad\xbe\xef" * 1024)


CORRUPTIONS = {"torn-current": tear_current, "garbled-manifest": garble_manifest}


def snapshot(directory):
    """The store's files; not RocksDB's own text log (LOG, LOG.old.*), which every open
    attempt rotates."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())
            if p.is_file() and not p.name.startswith("LOG")}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
@pytest.mark.parametrize("setting", [None, "refuse"], ids=["default", "refuse"])
def test_refuse_stops_with_the_reason_and_keeps_the_store(tmp_path, corrupt, setting):
    data_dir = seed_store(tmp_path)
    corrupt(data_dir)
    before = snapshot(data_dir)
    b = DurableBroker(tmp_path, on_corruption=setting)
    b.port = 1  # never listened on: start-up stops before the listeners
    proc = subprocess.run(b.command(), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"the store at '{data_dir}' is corrupt" in out, out
    assert 'on_corruption = "move-aside"' in out, out  # says what to do about it
    assert snapshot(data_dir) == before  # nothing touched, for whoever repairs it
    assert not list(tmp_path.glob("data.corrupt-*"))


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_move_aside_keeps_the_old_store_and_serves_from_an_empty_one(tmp_path, corrupt):
    data_dir = seed_store(tmp_path)
    corrupt(data_dir)
    before = snapshot(data_dir)
    b = DurableBroker(tmp_path, on_corruption="move-aside").start()
    try:
        aside = list(tmp_path.glob("data.corrupt-*"))
        assert len(aside) == 1, list(tmp_path.iterdir())
        assert snapshot(aside[0]) == before  # the old store, byte for byte
        log = b.log_text()
        assert f"moved aside to '{aside[0]}'" in log, log
        # It serves, from an empty store (the retained message went with the old one), and
        # what it acknowledges now survives a kill.
        assert "restored 0 retained messages" in log, log
        assert retained_payloads(b) == []
        c = PahoClient(b.host, b.port, protocol=MQTTv311).connect()
        c.publish("corrupt/new", b"after", qos=1, retain=True)
        c.close()
        b.kill()
        b.restart()
        assert retained_payloads(b) == [b"after"]
    finally:
        b.stop_and_check()
