"""MQTT.js in a real Chromium over ws://: tests/browser/page.html (served over HTTP from a local
port) connects, subscribes, publishes; tests/browser/run_page.js drives Debian's
/usr/bin/chromium with playwright-core and prints what the page saw; a paho TCP client
exchanges messages with it through the broker."""
import functools
import http.server
import json
import queue
import subprocess
import threading
import urllib.parse

import pytest

from listener_broker import certs, io_backend, session  # noqa: F401 (fixtures)
from npm_install import BROWSER_DIR

PAGE_TIMEOUT_MS = 30000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    """Serves tests/browser over http://127.0.0.1:PORT/ (page.html and node_modules/mqtt)."""
    handler = functools.partial(_QuietHandler, directory=str(BROWSER_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


class PageRunner:
    """node run_page.js on its own process; its JSON lines arrive on a queue."""

    def __init__(self, url, expected_messages):
        self.proc = subprocess.Popen(
            ["node", "run_page.js", url, str(expected_messages), str(PAGE_TIMEOUT_MS)],
            cwd=BROWSER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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

    def next_event(self, timeout):
        """The next JSON object the script printed; fails the test on silence or exit."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"run_page.js said nothing for {timeout:g} s") from None
        assert line is not None, f"run_page.js exited early: {self.diagnostics()}"
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"run_page.js printed {line!r}: {self.diagnostics()}") from None

    def diagnostics(self):
        return f"rc={self.proc.poll()} stderr:\n" + "\n".join(l for l in self.stderr if l)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.wait(15)  # it closes Chromium itself
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_mqtt_js_in_chromium_over_websocket(session, browser_tools, page_server):
    b = session.start(("mqtt", "ws"))
    topic = "browser/chat"
    tcp = session.clients.paho(b, "mqtt")
    tcp.subscribe(topic, qos=1)
    query = urllib.parse.urlencode({"broker": b.url("ws"), "topic": topic,
                                    "clientId": "chromium-mqttjs"})
    runner = PageRunner(f"{page_server}/page.html?{query}", expected_messages=2)
    try:
        wait_s = PAGE_TIMEOUT_MS / 1000 + 15
        event = runner.next_event(wait_s)
        assert event["event"] == "subscribed", event
        tcp.publish(topic, b"from-tcp", qos=1)
        event = runner.next_event(wait_s)
        assert event["event"] == "done", json.dumps(event, indent=1)
    finally:
        runner.stop()
    report = event["report"]
    assert report["granted"] == [1]
    assert sorted(m["payload"] for m in report["messages"]) == ["from-browser", "from-tcp"]
    assert all(m["topic"] == topic for m in report["messages"])
    assert report["errors"] == []
    tcp.wait_for_payload(b"from-browser")
