"""The dashboard in a real browser: headless Chromium (driven by tests/browser/run_dashboard.js
through playwright-core) opens GET / on shardmq's http:// listener while clients publish, and
the test reads what the page rendered: its figures move with the traffic, agree with /metrics,
its charts draw, it fetches nothing from another origin, and it asks for the password file's
credentials when the listener says so. It saves a screenshot (SHARDMQ_DASHBOARD_SCREENSHOT
names where; docs/images/dashboard.png is one). shardmq only."""
import json
import os
import queue
import subprocess
import threading

import pytest

from auth_broker import mosquitto_passwd
from broker_process import broker_kind
from npm_install import BROWSER_DIR
from paho_client import PahoClient
from wait_condition import wait_until

pytestmark = [pytest.mark.skipif(broker_kind() != "shardmq", reason="shardmq's own dashboard"),
              pytest.mark.heavy]

IDLE_CLIENTS = 8


class Dashboard:
    """node run_dashboard.js on the broker's page: sample() is what the page shows now."""

    def __init__(self, url, user=None, password=None):
        args = ["node", "run_dashboard.js", url] + ([user, password] if user is not None else [])
        self.proc = subprocess.Popen(args, cwd=BROWSER_DIR, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))
        sink(None)

    def event(self, timeout=45):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"run_dashboard.js said nothing for {timeout} s") from None
        assert line is not None, f"run_dashboard.js exited: rc={self.proc.poll()}\n" + \
            "\n".join(l for l in self.stderr if l)
        return json.loads(line)

    def command(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.event()

    def sample(self):
        s = self.command("sample")
        assert s["event"] == "sample", s
        return s

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
                self.proc.wait(15)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def exact(text):
    """A figure the page shows in full ("1,234"), as a number."""
    return int(text.replace(",", ""))


class Publisher(threading.Thread):
    """Publishes QoS 1 messages to dash/<n> until told to stop (at most `limit`)."""

    def __init__(self, broker, limit=200000):
        super().__init__(daemon=True)
        self.client = PahoClient(broker.host, broker.port).connect()
        self.stop_flag, self.limit, self.sent = threading.Event(), limit, 0

    def run(self):
        while not self.stop_flag.is_set() and self.sent < self.limit:
            self.client.publish(f"dash/{self.sent % 4}", b"x" * 64, qos=1)
            self.sent += 1

    def finish(self):
        self.stop_flag.set()
        self.join(30)
        assert not self.is_alive()


def test_dashboard_shows_live_figures_that_agree_with_metrics(metrics_broker, browser_tools,
                                                              tmp_path):
    b = metrics_broker(shards=2)
    idle = [PahoClient(b.host, b.port).connect() for _ in range(IDLE_CLIENTS)]
    sub = PahoClient(b.host, b.port).connect()
    sub.subscribe("dash/#", qos=1)
    page = Dashboard(f"http://{b.host}:{b.http_port}/")
    pub = None
    try:
        assert page.event()["event"] == "loaded"
        first = page.sample()
        assert first["status"]["shards"] == 2
        assert first["text"]["shards"] == "2"
        assert first["text"]["version"] == first["status"]["version"]
        assert any(u.startswith("http://") for u in first["status"]["listeners"])
        assert len(first["shardRows"]) == 2

        pub = Publisher(b)
        pub.start()
        # While the load runs the rates and the latency quantiles show, and the totals move.
        moving = wait_until(lambda: (lambda s: s if s["figures"]["messages_in_rate"] and
                                     s["figures"]["messages_out_rate"] and
                                     s["figures"]["latency_p50"] is not None else None)(
            page.sample()), timeout=30, what="the page to show message rates and latency")
        assert moving["text"]["messages_in_rate"] not in ("–", "0")
        assert moving["text"]["latency_p99"].endswith(("µs", "ms", "s"))
        later = wait_until(lambda: (lambda s: s if s["updates"] > moving["updates"] else None)(
            page.sample()), timeout=10, what="another reading")
        assert exact(later["text"]["messages_received_total"]) > \
            exact(moving["text"]["messages_received_total"])
        connections = IDLE_CLIENTS + 2
        assert exact(later["text"]["connections"]) == connections
        assert sum(exact(r[1]) for r in later["shardRows"]) == connections
        drawn = later["charts"]
        for chart in ("chart-connections", "chart-messages", "chart-latency", "chart-shard-load"):
            assert drawn[chart] > 0, f"{chart} drew no line: {drawn}"
        shot = os.environ.get("SHARDMQ_DASHBOARD_SCREENSHOT", str(tmp_path / "dashboard.png"))
        assert page.command(f"screenshot {shot}")["event"] == "screenshot"
        assert os.path.getsize(shot) > 10000
    finally:
        if pub is not None:
            pub.finish()
    try:
        sub.wait_for_count(pub.sent, timeout=60)
        # Traffic over: the page's totals come to what /metrics says and the clients saw.
        def agreed():
            s = page.sample()
            m = b.scrape()
            received = m.total("shardmq_messages_received_total")
            if exact(s["text"]["messages_received_total"]) != received or received < pub.sent:
                return None
            return s, m
        s, m = wait_until(agreed, timeout=20, what="the page to agree with /metrics")
        assert exact(s["text"]["messages_sent_total"]) == m.total("shardmq_messages_sent_total")
        assert exact(s["text"]["subscriptions"]) == m.total("shardmq_subscriptions") == 1
        assert exact(s["text"]["connections"]) == m.total("shardmq_connections")
        assert s["errors"] == 0, s["lastError"]
        assert s["foreign"] == [], "the page fetched from another origin"
        assert not [l for l in s["console"] if l.startswith(("error", "pageerror"))], s["console"]
    finally:
        page.stop()
        for c in idle + [sub, pub.client]:
            c.close()


def test_dashboard_asks_for_the_password_file_credentials(metrics_broker, browser_tools,
                                                          tmp_path):
    passwd = tmp_path / "passwd"
    mosquitto_passwd(passwd, "ops", "s3cret", create=True)
    b = metrics_broker(toml=f'[auth]\npassword_file = "{passwd}"\n', basic_auth=True)
    status, headers, _ = b.get("/")
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic")
    url = f"http://{b.host}:{b.http_port}/"
    wrong = Dashboard(url, "ops", "nope")
    try:
        e = wrong.event()
        assert e["event"] == "error" and e["status"] == 401, e
    finally:
        wrong.stop()
    page = Dashboard(url, "ops", "s3cret")
    try:
        assert page.event()["event"] == "loaded"
        s = wait_until(lambda: (lambda s: s if s["updates"] >= 2 else None)(page.sample()),
                       timeout=20, what="two readings")
        assert s["errors"] == 0, s["lastError"]
        assert s["status"]["config"]["auth"] == "password_file"
    finally:
        page.stop()
