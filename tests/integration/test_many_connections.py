"""scripts/million scaled down: more connections than one process may open (20,000 files
here), so several shardmq-load processes and several 127.0.0.x source addresses, against
one broker with 4 shards (each shard's io_uring fixed-file table is capped by the same
limit). Every client connects and is held, every message sent is received, none lost, and
the broker exits cleanly. Behaviour only: no timing thresholds."""
import json
import os
import subprocess

import pytest

from broker_process import broker_kind, shardmq_binary

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = int(os.environ.get("MANY_CONNECTIONS_CLIENTS", "60000"))
SHARDS = 4


@pytest.mark.serial
@pytest.mark.skipif(broker_kind() != "shardmq", reason="drives shardmq's own build")
def test_more_connections_than_one_process_may_open(tmp_path):
    build = shardmq_binary().parent.parent
    if not (build / "loadgen" / "shardmq-load").exists():
        pytest.fail(f"shardmq-load not built in {build}")
    out = tmp_path / "million.json"
    log = tmp_path / "broker.log"
    cmd = [os.path.join(ROOT, "scripts", "million"), "--clients", str(CLIENTS),
           "--shards", str(SHARDS), "--seconds", "3", "--rate", "2000",
           "--connect-rate", "20000", "--setup-timeout", "120", "--bound", "240",
           "--build-dir", str(build), "--no-build", "--no-tune", "--json", str(out),
           "--broker-log", str(log)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode == 2:
        pytest.skip("this host lacks what the run needs:\n" + p.stdout[-2000:])
    broker_log = log.read_text() if log.exists() else ""
    detail = f"{p.stdout[-3000:]}\n{p.stderr[-2000:]}\nbroker log:\n{broker_log[-2000:]}"
    r = json.loads(out.read_text())
    load = r.get("load", {})
    assert not r.get("gave_up"), detail
    assert load.get("workers_failed") == 0, detail
    # More clients than one process may hold: the load tool spread them over processes and
    # source addresses by itself.
    words = dict(w.split("=", 1) for w in load.get("scenario", "").split() if "=" in w)
    assert int(words.get("procs", 0)) > 1 and int(words.get("sources", 0)) > 1, detail
    assert load.get("connected") == CLIENTS, detail
    assert load.get("held_at_end") == CLIENTS, detail
    for key in ("connect_failed", "refused", "dropped", "lost", "duplicates"):
        assert load.get(key) == 0, f"{key}: {load.get(key)}\n{detail}"
    assert load.get("sent", 0) > 0, detail
    assert load.get("routed_total") == load.get("sent"), detail  # all of them, drain included
    assert r.get("held_rss_kib", 0) > r.get("idle_rss_kib", 0), detail
    assert r.get("broker_exit") == 0, detail
    assert r.get("load_rc") == 0, detail
    assert r.get("ok") and p.returncode == 0, detail
    assert "AddressSanitizer" not in broker_log and "runtime error" not in broker_log, detail
